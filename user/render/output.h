/* Where profiles go: -f / -o (repeatable) resolved to renderers, and
 * atomic writes. Shared by the profiling commands and `report`. */
#ifndef BPFPROF_OUTPUT_H
#define BPFPROF_OUTPUT_H

#include "render/render.h"

struct output_set {
	const char **paths;                 /* NULL entry = stdout */
	const struct renderer **renderers;
	size_t n;
	char **last;                        /* per output: the name written last */
	unsigned *repeat;                   /* and how often it came up again */
};

/* Picks a renderer per path (-f for stdout or a single file, else the
 * extension) and checks each path is writable, before anything runs.
 * One-line error and -EINVAL on bad input. */
int output_setup(struct output_set *o, const char *format, const char **paths, size_t npaths);
/* Renders p to every output; seq expands %n in paths, p->time_ns %t.
 * Every output is tried; returns the first error (each printed). */
int output_write(struct output_set *o, struct profile *p, const struct render_opts *ro, uint64_t seq);
void output_free(struct output_set *o);

#endif
