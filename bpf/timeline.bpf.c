// SPDX-License-Identifier: GPL-2.0
/* timeline: every switch in and out of the targets' threads (with the state
 * they left in: blocked or preempted), and every wake-up of one (with the
 * waker), sent as they happen for a per-thread timeline. The targets and
 * the threads and processes they start are followed (filter.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "timeline.h"
#include "filter.bpf.h"
#include "task.bpf.h"

const volatile bool have_prev_state = false; /* sched_switch has prev_state (5.18+) */
const volatile __u64 ring_bytes = 1 << 22;   /* the ring's size (set with it) */


struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* sized by the loader */
} events SEC(".maps");


/* One event about thread t (a full ring is counted, never silent). */
static __always_inline void emit(struct task_struct *t, __u8 kind, __u32 other, __u32 state, __u8 preempt)
{
	struct tl_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(STAT_RINGBUF_FULL);
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->pid = BPF_CORE_READ(t, tgid);
	e->tid = BPF_CORE_READ(t, pid);
	e->other = other;
	e->state = state;
	e->cpu = (__u16)bpf_get_smp_processor_id();
	e->kind = kind;
	e->preempt = preempt;
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	/* No wake-up per event (the reader polls every 100 ms): a reader woken
	 * at every switch would take the CPU from the threads it watches.
	 * Woken when the ring is a quarter full. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > ring_bytes / 4 ?
				  BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tl_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (BPF_CORE_READ(prev, pid) && task_is_target(prev)) {
		/* the tracepoint's prev_state where the kernel passes it:
		 * task->__state can already be RUNNING again */
		__u32 st = preempt ? 0 : have_prev_state ? (__u32)ctx[3] : task_state_of(prev);

		stat_inc(STAT_EVENTS);
		emit(prev, TL_OUT, 0, st, preempt);
	}
	if (BPF_CORE_READ(next, pid) && task_is_target(next))
		emit(next, TL_IN, 0, 0, 0);
	return 0;
}

static __always_inline int woken(struct task_struct *p, __u8 kind)
{
	if (task_is_target(p))
		emit(p, kind, (__u32)bpf_get_current_pid_tgid(), 0, 0);
	return 0;
}

/* sched_waking, not sched_wakeup: it fires in the waker's context (a
 * remote wake-up's sched_wakeup runs on the wakee's CPU, in whatever task
 * was there). */
SEC("tp_btf/sched_waking")
int BPF_PROG(tl_waking, struct task_struct *p)
{
	return woken(p, TL_WAKE);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(tl_wakeup_new, struct task_struct *p)
{
	return woken(p, TL_NEW);
}

char LICENSE[] SEC("license") = "GPL";
