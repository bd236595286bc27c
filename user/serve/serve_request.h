/* What a /debug/pprof/ request asks for, from its query parameters: the one
 * place they are checked, with no HTTP library in sight (fuzzed alone). */
#ifndef BPFPROF_SERVE_REQUEST_H
#define BPFPROF_SERVE_REQUEST_H

#include <stddef.h>

struct serve_request {
	long pid;              /* 0 with cgroup */
	long seconds, hz;
	const char *cgroup;    /* as given; serve resolves and checks it */
	const char *unwind;    /* NULL, "fp", "dwarf" or "auto" */
};

/* A query parameter's value, or NULL. */
typedef const char *(*serve_param_fn)(void *ctx, const char *name);

/* Fills rq; 0 when well formed, else 400 with a one-line reason in why.
 * `needs_pid`: the endpoint cannot take a cgroup (heap, allocs). */
int serve_request_parse(serve_param_fn get, void *ctx, int default_seconds, int max_seconds,
			int needs_pid, struct serve_request *rq, char *why, size_t n);

#endif
