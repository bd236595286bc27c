// SPDX-License-Identifier: GPL-2.0
/* timeline: every switch in and out of the targets' threads (with the state
 * they left in: blocked or preempted, and the stacks they left from), every
 * wake-up of one (with the waker), and cpu-clock samples of them running
 * (with stacks), sent as they happen for a per-thread timeline. The targets
 * and the threads and processes they start are followed (filter.bpf.h).
 * Stacks are walked as oncpu and offcpu walk them: the unwind tables where
 * a binary has them loaded (ktables.bpf.h), else the kernel's frame-pointer
 * walk. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "timeline.h"
#include "filter.bpf.h"
#include "task.bpf.h"
#include "unwind.bpf.h"
#include "ktables.bpf.h"

const volatile bool have_prev_state = false; /* sched_switch has prev_state (5.18+) */
const volatile __u64 ring_bytes = 1 << 22;   /* the ring's size (set with it) */

const volatile __u64 min_syscall_ns = 0;     /* system calls this long are sent (0: none) */
const volatile __u64 min_stack_block_ns = 0; /* blocks this long get stacks (0: all, walked at the switch) */
bool at_end = false;                         /* tl_seed's second run: the calls still in progress */

#define PF_KTHREAD 0x00200000

struct stack_store stacks SEC(".maps");

/* A target thread's system call in progress (since when, which), and its
 * block's stacks still to take. */
struct sc_start {
	__u64 ts;
	__u32 nr;
	__u32 seeded;
	__u64 out_ts;           /* blocked since (min_stack_block_ns), 0: not blocked */
	__u32 want_ustack;      /* woken from a long block: walk its user stack at the call's exit */
	__u32 pad;
	__u64 in_ts;            /* on a CPU since (min_stack_block_ns) */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_start);
} sc_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* sized by the loader */
} events SEC(".maps");


/* No wake-up per event (the reader polls every 100 ms): a reader woken at
 * every switch would take the CPU from the threads it watches. Woken when
 * the ring is a quarter full. */
static __always_inline void submit(void *r)
{
	bpf_ringbuf_submit(r, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > ring_bytes / 4 ?
				      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* One event about thread t (a full ring is counted, never silent). */
static __always_inline void emit(struct task_struct *t, __u8 kind, __u32 other, __u32 state, __u8 preempt,
				 __s32 ustack, __s32 kstack, __u32 exec)
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
	e->ustack = ustack;
	e->kstack = kstack;
	e->exec = exec;
	e->cpu = (__u16)bpf_get_smp_processor_id();
	e->kind = kind;
	e->preempt = preempt;
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	submit(e);
}

/* The current task's user stack, from its user registers: those of the
 * sample if it was in user space, else those saved at its kernel entry. */
static __always_inline __s32 user_stack(void *ctx, struct pt_regs *sampled, __u32 tgid, __u32 exec)
{
	struct pt_regs regs;

	if (!cfg.kt_enabled || !kt_ready(tgid, exec))
		return stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	if (sampled) {
		__builtin_memcpy(&regs, sampled, sizeof(regs));
	} else if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)bpf_task_pt_regs(bpf_get_current_task_btf()))) {
		stat_inc(STAT_USTACK_FAILED);
		return STACK_LOST;
	}
	return kt_walk_stack(&regs, false, tgid, exec, &stacks);
}

/* A stack of tid's last block (TL_BLOCK_STACK). */
static __always_inline void emit_block_stack(struct task_struct *t, __s32 us, __s32 ks, __u32 exec)
{
	emit(t, TL_BLOCK_STACK, 0, 0, 0, us, ks, exec);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tl_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (BPF_CORE_READ(prev, pid) && task_is_target(prev)) {
		/* the tracepoint's prev_state where the kernel passes it:
		 * task->__state can already be RUNNING again */
		__u32 st = preempt ? 0 : have_prev_state ? (__u32)ctx[3] : task_state_of(prev);
		__u32 tgid = prev->tgid, exec = exec_gen(tgid);
		__s32 us = STACK_NONE, ks = STACK_NONE;
		struct sc_start *th;

		/* A block's stacks cost microseconds at every switch; with
		 * min_stack_block_ns they are taken only for the blocks that
		 * last: the kernel stack at the wake-up, the user stack at the
		 * system call's exit (it is the same while the thread sleeps). */
		if (min_stack_block_ns && st &&
		    (th = bpf_task_storage_get(&sc_starts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))) {
			th->out_ts = bpf_ktime_get_ns();
			th->want_ustack = 0;
		} else if (min_stack_block_ns && !st && (th = bpf_task_storage_get(&sc_starts, prev, 0, 0)) &&
			   bpf_ktime_get_ns() - th->in_ts < min_stack_block_ns) {
			/* preempted after a short run (a wake-up preempting it,
			 * as in a ping-pong): no stacks. One that ran long (a
			 * CPU-bound thread at a tick) has them. */
		} else {
			/* current is still prev: the stacks it leaves the CPU from */
			if (cfg.user_stacks && !(prev->flags & PF_KTHREAD))
				us = user_stack(ctx, NULL, tgid, exec);
			if (cfg.kernel_stacks)
				ks = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
		}

		stat_inc(STAT_EVENTS);
		emit(prev, TL_OUT, 0, st, preempt, us, ks, exec);
	}
	if (BPF_CORE_READ(next, pid) && task_is_target(next)) {
		struct sc_start *th;

		emit(next, TL_IN, 0, 0, 0, STACK_NONE, STACK_NONE, 0);
		if (min_stack_block_ns && (th = bpf_task_storage_get(&sc_starts, next, 0, BPF_LOCAL_STORAGE_GET_F_CREATE)))
			th->in_ts = bpf_ktime_get_ns();
	}
	return 0;
}

static __always_inline int woken(struct task_struct *p, __u8 kind)
{
	struct sc_start *th;

	if (!task_is_target(p))
		return 0;
	emit(p, kind, (__u32)bpf_get_current_pid_tgid(), 0, 0, STACK_NONE, STACK_NONE, 0);
	/* a block that lasted: its stacks, now it ends */
	if (min_stack_block_ns && (th = bpf_task_storage_get(&sc_starts, p, 0, 0)) && th->out_ts) {
		if (bpf_ktime_get_ns() - th->out_ts >= min_stack_block_ns) {
			__s32 ks = cfg.kernel_stacks ? stack_get_task(p, &stacks, STAT_KSTACK_FAILED) : STACK_NONE;

			th->want_ustack = cfg.user_stacks && !(p->flags & PF_KTHREAD);
			if (ks != STACK_NONE)
				emit_block_stack(p, STACK_NONE, ks, 0);
		}
		th->out_ts = 0;
	}
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

/* Every sample_period of CPU time (a cpu-clock event on each CPU): the
 * running target thread's stacks. */
SEC("perf_event")
int tl_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, exec;
	struct task_struct *task = bpf_get_current_task_btf();
	bool in_kernel = (long)PT_REGS_IP(&ctx->regs) < 0; /* kernel text: the upper half */
	__s32 us = STACK_NONE, ks = STACK_NONE;

	if (!tid || !target_match(tgid, tid))
		return 0;
	stat_inc(STAT_EVENTS);
	exec = exec_gen(tgid);
	if (cfg.user_stacks && !(task->flags & PF_KTHREAD))
		us = user_stack(ctx, in_kernel ? NULL : &ctx->regs, tgid, exec);
	if (cfg.kernel_stacks && in_kernel)
		ks = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
	emit(task, TL_SAMPLE, 0, 0, 0, us, ks, exec);
	return 0;
}

/* System calls: entry time per thread; at exit, one that took
 * min_syscall_ns or more is sent with the user stack it was called from
 * (the user registers are still the entry's). */
SEC("tp_btf/sys_enter")
int BPF_PROG(tl_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct sc_start *sc;

	if (!target_match(t->tgid, t->pid))
		return 0;
	sc = bpf_task_storage_get(&sc_starts, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!sc)
		return 0;
	sc->ts = bpf_ktime_get_ns();
	sc->nr = (__u32)id;
	sc->seeded = 0;
	sc->want_ustack = 0; /* a block since was not in a system call: its user stack is gone */
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tl_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct sc_start *sc = bpf_task_storage_get(&sc_starts, t, 0, 0);
	__u64 now = bpf_ktime_get_ns(), start;
	struct tl_syscall *r;
	__u32 tgid;

	if (!sc)
		return 0;
	if (sc->want_ustack) { /* the call blocked long: the user stack it blocked at */
		sc->want_ustack = 0;
		tgid = t->tgid;
		emit_block_stack(t, user_stack(ctx, NULL, tgid, exec_gen(tgid)), STACK_NONE, exec_gen(tgid));
	}
	if (!sc->ts || !min_syscall_ns)
		return 0;
	start = sc->ts;
	sc->ts = 0;
	if (now - start < min_syscall_ns)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(STAT_RINGBUF_FULL);
		return 0;
	}
	tgid = t->tgid;
	r->e.ts = now;
	r->e.pid = tgid;
	r->e.tid = t->pid;
	r->e.other = sc->nr;
	r->e.state = sc->seeded;
	r->e.exec = exec_gen(tgid);
	r->e.ustack = cfg.user_stacks ? user_stack(ctx, NULL, tgid, r->e.exec) : STACK_NONE;
	r->e.kstack = STACK_NONE;
	r->e.cpu = (__u16)bpf_get_smp_processor_id();
	r->e.kind = TL_SYSCALL;
	r->e.preempt = 0;
	bpf_get_current_comm(r->e.comm, sizeof(r->e.comm));
	r->ret = ret;
	r->start = start;
	submit(r);
	return 0;
}

/* ---- Go: goroutines -------------------------------------------------------
 * Entry uprobes on the runtime's scheduler functions (never a return probe:
 * it crashes Go); the goroutine's g is in RAX (the function's first
 * argument) or R14 (the current g). tl_go: the Go targets, with the offset
 * of goid in runtime.g. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* offsetof(runtime.g, goid) */
} tl_go SEC(".maps");

static __always_inline __u32 goid_of(__u32 tgid, __u64 g)
{
	__u32 *off = bpf_map_lookup_elem(&tl_go, &tgid);
	__u64 id = 0;

	if (!off || !g)
		return 0;
	bpf_probe_read_user(&id, sizeof(id), (void *)(g + *off));
	return (__u32)id;
}

static __always_inline int go_event(struct pt_regs *ctx, __u8 kind, __u64 g, __u32 state, bool stack)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct tl_event *e;

	if (!target_match(tgid, tid))
		return 0;
	stat_inc(STAT_EVENTS);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RINGBUF_FULL);
		return 0;
	}
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = tid;
	e->other = goid_of(tgid, g);
	e->state = state;
	e->exec = exec_gen(tgid);
	e->ustack = STACK_NONE;
	e->kstack = STACK_NONE;
	/* where it parks: at the function's entry (the caller's return
	 * address at [sp]: the walker's entry mode) */
	if (stack && cfg.user_stacks) {
		if (cfg.kt_enabled && kt_ready(tgid, e->exec))
			e->ustack = kt_walk_stack(ctx, true, tgid, e->exec, &stacks);
		else
			e->ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	}
	e->cpu = (__u16)bpf_get_smp_processor_id();
	e->kind = kind;
	e->preempt = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

SEC("uprobe")
int tl_gopark(struct pt_regs *ctx)
{
	return go_event(ctx, TL_GO_PARK, ctx->r14, (__u8)ctx->cx, true);
}

SEC("uprobe")
int tl_goexecute(struct pt_regs *ctx)
{
	return go_event(ctx, TL_GO_RUN, ctx->ax, 0, false);
}

SEC("uprobe")
int tl_goready(struct pt_regs *ctx)
{
	return go_event(ctx, TL_GO_READY, ctx->ax, goid_of(bpf_get_current_pid_tgid() >> 32, ctx->r14), false);
}

SEC("uprobe")
int tl_gosched(struct pt_regs *ctx)
{
	return go_event(ctx, TL_GO_YIELD, ctx->ax, 0, false);
}

SEC("uprobe")
int tl_goexit(struct pt_regs *ctx)
{
	return go_event(ctx, TL_GO_EXIT, ctx->ax, 0, false);
}

/* Once at start (the loader reads this iterator after attaching): every
 * target thread as it is now. Sleepable for bpf_get_task_stack of another
 * task; its ring buffer record holds the stack (no per-CPU scratch, which a
 * sleepable program could share with another after a migration). */
SEC("iter.s/task")
int tl_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tl_seed *r;
	struct sc_start *sc = NULL;
	__u32 st;
	long n;

	if (!task || !iter_task_is_target(task))
		return 0;
	if (at_end) { /* only the threads in a system call that long already */
		sc = bpf_task_storage_get(&sc_starts, task, 0, 0);
		if (!sc || !sc->ts || bpf_ktime_get_ns() - sc->ts < min_syscall_ns)
			return 0;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(STAT_RINGBUF_FULL);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	st = task->__state;
	r->e.ts = bpf_ktime_get_ns();
	r->e.pid = task->tgid;
	r->e.tid = task->pid;
	r->e.state = st;
	r->e.preempt = task->on_cpu ? 1 : 0;
	r->e.kind = at_end ? TL_OPEN_SYSCALL : TL_SEED;
	if (sc) {
		r->e.other = sc->nr;
		r->start = sc->ts;
		r->e.preempt = (__u8)sc->seeded; /* began before the run */
	}
	r->e.ustack = STACK_NONE;
	r->e.kstack = STACK_NONE;
	r->e.exec = exec_gen(task->tgid);
	r->e.cpu = (__u16)task->wake_cpu;
	bpf_probe_read_kernel_str(r->e.comm, sizeof(r->e.comm), task->comm);
	if (at_end || (st && !task->on_cpu)) { /* blocked: its stacks stay put while it sleeps */
		if (!at_end && cfg.kernel_stacks && (n = bpf_get_task_stack(task, r->kips, sizeof(r->kips), 0)) < 0)
			stat_inc(STAT_KSTACK_FAILED);
		if (cfg.user_stacks && !(task->flags & PF_KTHREAD)) {
			struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
			long nr = (long)regs->orig_ax;

			/* asleep in a system call: it shows from now to its exit */
			if (!at_end && min_syscall_ns && nr >= 0 &&
			    (sc = bpf_task_storage_get(&sc_starts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE)) && !sc->ts) {
				sc->ts = r->e.ts;
				sc->nr = (__u32)nr;
				sc->seeded = 1;
			}

			UW_DWARF_REGS(r->regs, regs);
		}
	}
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
