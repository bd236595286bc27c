/* A Go program's heap profile, read from its own memory-profile buckets
 * (runtime.mbuckets): what Go's heap profile reports, scaled the way Go
 * scales it, without a probe on the allocator. mallocstacks uses it for Go
 * targets. */
#ifndef BPFPROF_GOHEAP_H
#define BPFPROF_GOHEAP_H

#include <stdbool.h>
#include <sys/types.h>
#include "symbols/stacks.h"

struct go_heap;

/* For pid running exe: NULL (and why) when exe is not Go, or its buckets
 * cannot be found (stripped) or memory profiling is off in it. */
struct go_heap *go_heap_open(pid_t pid, const char *exe, char *why, size_t whylen);
/* Reads the buckets now (the last good read is kept: a process that has
 * exited is reported as last seen). 0 or -errno. */
int go_heap_read(struct go_heap *h);
/* The last read as samples: alloc_objects, alloc_space, inuse_objects,
 * inuse_space (mallocstacks' types), by stack, labels pid and comm. */
void go_heap_add(struct go_heap *h, struct stack_builder *b, const char *comm);
pid_t go_heap_pid(const struct go_heap *h);
void go_heap_free(struct go_heap *h);

#endif
