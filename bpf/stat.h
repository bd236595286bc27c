/* stat: totals shared by stat.bpf.c and user/cmd/stat.c. */
#ifndef BPFPROF_STAT_H
#define BPFPROF_STAT_H

#include "common.h"

/* Slots of the per-CPU totals (nanoseconds summed over threads, counts). */
enum stat_total {
	ST_RUNNABLE_NS = 0,   /* ready to run, waiting for a CPU (preempted, or woken) */
	ST_SLEEPING_NS,       /* interruptible sleep, not a lock wait */
	ST_IOWAIT_NS,         /* uninterruptible (D) */
	ST_LOCKWAIT_NS,       /* asleep in a futex wait on a pthread mutex or rwlock */
	ST_OTHER_NS,          /* stopped, traced, ... */
	ST_CTX_VOLUNTARY,
	ST_CTX_INVOLUNTARY,
	ST_MIGRATIONS,
	ST_THREADS_CREATED,
	ST_PROCS_CREATED,
	ST_RUNTIME_NS,        /* CPU time of exited threads (sum_exec_runtime) */
	ST_UTIME_NS,          /* their tick-sampled user and system time: the split */
	ST_STIME_NS,
	ST_FAULTS_MINOR,
	ST_FAULTS_MAJOR,
	ST_MAXRSS_PAGES,      /* max over exited processes (signal->maxrss), not a sum */
	ST_NTOTALS,
};

#define ST_NSYSCALLS 512

struct stat_syscall {
	__u64 count;
	__u64 ns;
};

#endif
