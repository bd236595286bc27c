/* threadcreate: shared between threadcreate.bpf.c and user/cmd/threadcreate.c. */
#ifndef BPFPROF_THREADCREATE_H
#define BPFPROF_THREADCREATE_H

#include "common.h"

#define CREATED_THREAD 0
#define CREATED_PROCESS 1    /* fork, vfork, clone without CLONE_THREAD */
#define CREATED_GOROUTINE 2  /* Go: a `go` statement (runtime.newproc) */

/* One aggregation key per (creating thread, its user stack, what it made). */
struct threadcreate_key {
	__u32 pid;       /* every key begins with pid and exec (common.h) */
	__u32 exec;
	__u32 tid;
	__s32 ustack;
	__u32 process;   /* CREATED_*: what was made */
	__u32 pad;
	char comm[TASK_COMM_LEN];
};

#endif
