/* timeline: the scheduler events of the targets' threads, as they happen
 * (bpf/timeline.bpf.c to user/cmd/timeline.c through a ring buffer). */
#ifndef BPFPROF_TIMELINE_H
#define BPFPROF_TIMELINE_H

#include "common.h"

enum tl_kind {
	TL_IN = 1,      /* the thread got a CPU */
	TL_OUT,         /* it left it: state says blocked or preempted */
	TL_WAKE,        /* it was woken (other: by whom) */
	TL_NEW,         /* a new thread was woken for the first time */
};

struct tl_event {
	__u64 ts;       /* CLOCK_MONOTONIC ns */
	__u32 pid, tid;
	__u32 other;    /* TL_WAKE/TL_NEW: the waker's tid (0: interrupt or idle) */
	__u32 state;    /* TL_OUT: prev_state (0: preempted, runnable) */
	__u16 cpu;
	__u8 kind;
	__u8 preempt;
	char comm[16];
};

#endif
