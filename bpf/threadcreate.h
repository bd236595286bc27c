/* threadcreate: shared between threadcreate.bpf.c and user/cmd/threadcreate.c. */
#ifndef BPFPROF_THREADCREATE_H
#define BPFPROF_THREADCREATE_H

#include "common.h"

/* One aggregation key per (creating thread, its user stack, what it made). */
struct threadcreate_key {
	__u32 pid;       /* every key begins with pid and exec (common.h) */
	__u32 exec;
	__u32 tid;
	__s32 ustack;
	__u32 process;   /* 1: a new process (fork, vfork, clone without CLONE_THREAD); 0: a thread */
	__u32 pad;
	char comm[TASK_COMM_LEN];
};

#endif
