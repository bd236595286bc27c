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
/* "1,2,3": positive ids (pids, uids) appended to a VEC(pid_t); `what`
 * names them in the error ("pid"). */
int cli_parse_id_list(const char *arg, const char *what, void *vec_ptr);
/* getopt_long with the one shape of errors every command prints: the next
 * option, -1 at the end, or '?' after a one-line error (unknown option, or
 * one missing its value, naming `cmd`'s --help). shorts starts with ':'.
 * cli_getopt_start() first. */
void cli_getopt_start(void);
int cli_getopt(int argc, char **argv, const char *shorts, const struct option *opts, const char *cmd);
/* -F HZ: a sampling frequency the kernel allows. */
int cli_parse_frequency(const char *arg, uint64_t *out);
/* An integer in [lo, hi]. */
int cli_parse_uint(const char *arg, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out);

#endif
