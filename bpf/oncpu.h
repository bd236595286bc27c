/* oncpu: shared between oncpu.bpf.c and user/oncpu.c. */
#ifndef BPFPROF_ONCPU_H
#define BPFPROF_ONCPU_H

#include "common.h"

/* One aggregation key per (thread, user stack, kernel stack). A stack id of
 * -1 means "no such stack" (kernel thread, user-only sample, -U/-K). */
struct oncpu_key {
	__u32 pid;       /* every key begins with pid and exec (common.h) */
	__u32 exec;      /* execs of pid before the sample (exec_gens) */
	__u32 tid;
	__s32 ustack;
	__s32 kstack;
	__u32 pad;       /* 8-byte size: values follow keys in user-space tables */
	char comm[TASK_COMM_LEN];
	__u64 labels;    /* Go: the running goroutine's pprof label set, or 0 */
};

#endif
