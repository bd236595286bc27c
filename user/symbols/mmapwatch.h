/* Follows a process's executable mappings as the kernel makes them (a perf
 * dummy event with mmap2/comm/task records, as `perf record` does), so that
 * a short-lived command still symbolizes after it exits. */
#ifndef BPFPROF_MMAPWATCH_H
#define BPFPROF_MMAPWATCH_H

#include <sys/types.h>
#include "symbols/symbolize.h"

struct mmap_watch_cpu {
	int fd;
	void *base;
};

/* One event and ring buffer per online CPU: the kernel does not map the
 * buffer of an inherited event that follows a task on any CPU. */
struct mmap_watch {
	struct mmap_watch_cpu *cpus;
	int ncpus;
	size_t size;      /* data area bytes of each buffer */
	uint64_t lost;    /* records the kernel could not deliver */
	/* System-wide watch (--follow NAME): only processes that exec a
	 * program named `comm`, and their children, are kept. */
	char comm[16];
	struct hmap followed; /* pid -> 1 */
};

/* For pid and the processes and threads it creates; -errno on failure. */
int mmap_watch_open(struct mmap_watch *w, pid_t pid);
/* For every process that execs a program named comm (its first 15 bytes,
 * as the kernel keeps it), from that exec on. */
int mmap_watch_open_comm(struct mmap_watch *w, const char *comm);
/* Feeds the records so far to the symbolizer. */
void mmap_watch_drain(struct mmap_watch *w, struct symbolizer *s);
void mmap_watch_close(struct mmap_watch *w);

#endif
