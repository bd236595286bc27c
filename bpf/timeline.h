/* timeline: the scheduler events of the targets' threads, as they happen
 * (bpf/timeline.bpf.c to user/cmd/timeline.c through a ring buffer). */
#ifndef BPFPROF_TIMELINE_H
#define BPFPROF_TIMELINE_H

#include "common.h"
#include "unwind.h"

enum tl_kind {
	TL_IN = 1,      /* the thread got a CPU */
	TL_OUT,         /* it left it: state says blocked or preempted */
	TL_WAKE,        /* it was woken (other: by whom) */
	TL_NEW,         /* a new thread was woken for the first time */
	TL_SAMPLE,      /* a cpu-clock sample of it running (with its stacks) */
	TL_SEED,        /* at start: how it is now (a struct tl_seed) */
	TL_SYSCALL,     /* a system call that took min_syscall_ns or more (a struct tl_syscall) */
	TL_OPEN_SYSCALL, /* at the end: one still in progress that long (a struct tl_seed) */
	TL_BLOCK_STACK, /* the stacks of tid's last block (its TL_OUT had none), once it
			 * lasted min_stack_block_ns: kstack at the wake-up, ustack at the
			 * system call's exit (separate events) */
	/* Go targets' goroutines (other: the goroutine's id, low 32 bits;
	 * tid: the thread it happens on) */
	TL_GO_RUN,      /* runtime.execute: it runs on tid */
	TL_GO_PARK,     /* runtime.gopark: it waits (state: the wait reason; ustack) */
	TL_GO_READY,    /* runtime.ready: it is runnable (state: the waker's goroutine id, 0: none) */
	TL_GO_YIELD,    /* runtime.goschedImpl: preempted or yielded, runnable */
	TL_GO_EXIT,     /* runtime.goexit0: it ended */
};

struct tl_event {
	__u64 ts;       /* CLOCK_MONOTONIC ns */
	__u32 pid, tid;
	__u32 other;    /* TL_WAKE/TL_NEW: the waker's tid (0: interrupt or idle) */
	__u32 state;    /* TL_OUT: prev_state (0: preempted, runnable) */
	__s32 ustack;   /* TL_OUT, TL_SAMPLE: stack ids (stacks.bpf.h), else STACK_NONE */
	__s32 kstack;
	__u32 exec;     /* the process's image (filter.bpf.h's exec_gen), for ustack */
	__u16 cpu;
	__u8 kind;
	__u8 preempt;
	char comm[16];
};

/* At start, each target thread's state (threads blocked since before the
 * run would otherwise appear only when woken: a hung one never). state is
 * the task's state (0: runnable), preempt 1 if it is on a CPU. A blocked
 * thread's kernel stack is here, and its user registers, from which user
 * space unwinds its user stack while it still sleeps. */
#define TL_SEED_DEPTH 64

struct tl_seed {
	struct tl_event e;
	__u64 start;               /* TL_OPEN_SYSCALL: the call's entry (other: its number) */
	__u64 regs[UW_NREGS];      /* DWARF numbering; all 0: none */
	__u64 kips[TL_SEED_DEPTH]; /* leaf first, zero-terminated */
};

/* A long system call, sent at its exit (ts): other is its number, ustack
 * where it was called from. state 1: it began before the run (seeded). */
struct tl_syscall {
	struct tl_event e;
	__s64 ret;
	__u64 start;               /* its entry (or the seed's time) */
};

#endif
