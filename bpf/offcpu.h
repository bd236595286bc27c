/* offcpu: shared between offcpu.bpf.c and user/offcpu.c. */
#ifndef BPFPROF_OFFCPU_H
#define BPFPROF_OFFCPU_H

#include "common.h"

/* Thread states, as bits of the --state filter and as the key's state. */
enum offcpu_state {
	OFFCPU_PREEMPTED = 0,   /* runnable, descheduled: run-queue delay ("R") */
	OFFCPU_SLEEPING = 1,    /* interruptible sleep ("S") */
	OFFCPU_UNINTERRUPTIBLE = 2, /* uninterruptible, e.g. disk I/O ("D") */
	OFFCPU_IDLE = 3,        /* TASK_IDLE: uninterruptible without load ("I") */
	OFFCPU_OTHER = 4,       /* stopped, traced, ... */
	OFFCPU_RUNNING = 5,     /* wall: on a CPU (sampled, not a block) */
	OFFCPU_NSTATES,
};

/* Where a thread left the CPU, kept until it runs again. */
/* Stack ids at or above this name stacks the start-up seed walked itself
 * (seed_stacks), not ids of the kernel's stack map. */
#define SEED_STACK_BASE 0x40000000
#define SEED_DEPTH 127

struct offcpu_start {
	__u64 start;    /* when it left the CPU */
	char comm[TASK_COMM_LEN];
	__s32 ustack;
	__s32 kstack;
	__u32 pid;
	__u32 exec;     /* pid's exec count when it left (exec_gens) */
	__u8 state;
	__u8 kthread;
	__u8 pad[2];
};

struct offcpu_key {
	__u32 pid;       /* every key begins with pid and exec (common.h) */
	__u32 exec;      /* execs of pid before the block (exec_gens) */
	__u32 tid;
	__s32 ustack;
	__s32 kstack;
	__u8 state;      /* enum offcpu_state; Go (go): the goroutine's wait reason */
	__u8 kthread;
	__u8 go;         /* a goroutine's wait (tid 0), not a thread's */
	__u8 pad;
	char comm[TASK_COMM_LEN];
	__u64 labels;    /* Go: the goroutine's pprof label set (golabels.bpf.h), or 0 */
};

struct offcpu_val {
	__u64 count;
	__u64 total_ns;
};

/* --unwind dwarf: a record's payload (bpf/unwind.h). Filled at switch-out
 * (key, start) and completed at wake-up (val). */
struct offcpu_uw_payload {
	struct offcpu_key key;
	struct offcpu_val val;
	__u64 start;
};

#endif
