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
/* For a command with its own output (stat): the same check of an -o path
 * before anything runs (one-line error, -errno), and the same write of a
 * finished buffer: to stdout (path NULL) at once, or to a file as -o
 * writes profiles (atomically; a device or FIFO in place). */
int output_check_path(const char *path);
int output_write_buffer(const char *path, const char *buf, size_t len);

#endif
