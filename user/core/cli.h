/* The common command line of the profiling commands (session.c runs it);
 * its value parsers are shared with report and serve. Each returns 0, or
 * -EINVAL after a one-line error naming the option. */
#ifndef BPFPROF_CLI_H
#define BPFPROF_CLI_H

#include "core/session.h"

/* Common and the command's own options into s->o; "-- CMD" into s->o.cmd. */
int cli_parse(struct session *s, int argc, char **argv);
/* --sample-index names one of the command's sample types. */
int cli_check_sample_index(struct session *s);
/* A positive duration ("5", "1.5", "500ms"), in nanoseconds. */
int cli_parse_seconds(const char *arg, const char *opt, int64_t *out);
/* An integer in [lo, hi]. */
int cli_parse_uint(const char *arg, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out);

#endif
