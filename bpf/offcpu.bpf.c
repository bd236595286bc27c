// SPDX-License-Identifier: GPL-2.0
/* offcpu: time threads spend off CPU, by the stack where they left it.
 * At sched_switch, the thread leaving the CPU (prev) records when, in what
 * state and with which stacks; when it is switched in again (next), the
 * elapsed time is added to that stack's totals. Counts live in two map sets
 * selected by `gen` (see oncpu.bpf.c); start records are per thread and are
 * deleted when the thread runs again or exits. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "task.bpf.h"
#include "filter.bpf.h"
#include "unwind.bpf.h"
#include "ktables.bpf.h"
#include "gowait.bpf.h"

const volatile __u32 state_mask = 0xff;
const volatile __u64 min_block_ns = 1;
const volatile __u64 max_block_ns = ~0ULL;
const volatile bool have_prev_state = false; /* sched_switch has prev_state (5.18+) */
const volatile __u64 sample_period_ns = 0;  /* wall: the cpu-clock period of offcpu_sample */


#define PF_KTHREAD 0x00200000
#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_NOLOAD 0x400

struct stack_store stacks SEC(".maps"); /* one for both sets */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_start);
} starts SEC(".maps");

/* --unwind dwarf: a thread's record (registers, stack copy) from when it
 * left the CPU, sent when it runs again. Value size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct uw_record) + UW_PAGE);
} uw_starts SEC(".maps");

COUNT_SET(struct offcpu_key, struct offcpu_val)

/* Go targets in the goroutine view are in go_procs (golabels.bpf.h): their
 * threads' switches are not counted. */



/* With tp_btf, task pointers are BTF-typed and read directly (no helper
 * call per field); raw_tp needs probe reads. `btf` is a constant at each
 * call site, so each program keeps only its own kind of read. */
#define TASK_READ(btf, t, field) ((btf) ? (t)->field : BPF_CORE_READ(t, field))

static __always_inline __u32 task_state(struct task_struct *t, bool btf)
{
	if (btf && bpf_core_field_exists(t->__state))
		return t->__state;
	return task_state_of(t);
}

static __always_inline __u8 classify(__u32 s)
{
	if (s == 0)
		return OFFCPU_PREEMPTED;
	if (s & TASK_INTERRUPTIBLE)
		return OFFCPU_SLEEPING;
	if (s & TASK_UNINTERRUPTIBLE)
		return (s & TASK_NOLOAD) ? OFFCPU_IDLE : OFFCPU_UNINTERRUPTIBLE;
	return OFFCPU_OTHER;
}

static __always_inline void add(struct offcpu_key *key, __u64 delta)
{
	struct offcpu_val *v = count_slot(count_set(), key);

	if (!v)
		return;
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, delta);
}

/* The state prev leaves the CPU in. A preempted task is runnable whatever
 * its state says (it may be between set_current_state and schedule). Else
 * the tracepoint's prev_state (Linux 5.18+): read at switch-out,
 * task->__state can already be TASK_WAKING or RUNNING when a waker raced
 * us, which showed ordinary sleeps as "other" or "preempted". */
static __always_inline __u8 switch_state(bool preempt, __u32 prev_state, struct task_struct *prev, bool btf)
{
	if (preempt)
		return OFFCPU_PREEMPTED;
	return classify(have_prev_state ? prev_state : task_state(prev, btf));
}

static __always_inline int on_switch(void *ctx, bool preempt, struct task_struct *prev,
				     struct task_struct *next, __u32 prev_state, bool btf)
{
	__u32 prev_tid = TASK_READ(btf, prev, pid), prev_tgid = TASK_READ(btf, prev, tgid);
	__u32 next_tid = TASK_READ(btf, next, pid);
	__u64 now = bpf_ktime_get_ns();
	struct offcpu_start *st;

	/* prev leaves the CPU: remember where (current is still prev). A Go
	 * target in the goroutine view is measured by its goroutines. */
	if (prev_tid != 0 && target_match(prev_tgid, prev_tid) && !bpf_map_lookup_elem(&go_procs, &prev_tgid)) {
		__u8 state = switch_state(preempt, prev_state, prev, btf);

		bool kthread = !!(TASK_READ(btf, prev, flags) & PF_KTHREAD);

		if ((state_mask & (1u << state)) && cfg.user_stacks && !kthread && uw_wanted(prev_tgid)) {
			/* --unwind dwarf: keep registers and stack until it wakes. */
			struct uw_record *r = uw_begin(ctx, 0, prev_tgid, prev_tid,
						       (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()),
						       cfg.kernel_stacks);
			struct offcpu_uw_payload *pl;

			if (r) {
				pl = (void *)r->payload;
				__builtin_memset(pl, 0, sizeof(*pl));
				pl->key.pid = prev_tgid;
				pl->key.exec = r->exec;
				pl->key.tid = prev_tid;
				pl->key.state = state;
				pl->key.ustack = STACK_NONE;
				pl->key.kstack = STACK_NONE;
				bpf_get_current_comm(&pl->key.comm, sizeof(pl->key.comm));
				pl->start = now;
				if (bpf_map_update_elem(&uw_starts, &prev_tid, r, BPF_ANY))
					stat_inc(STAT_MAP_FULL);
			}
		} else if (state_mask & (1u << state)) {
			struct offcpu_start s = { .start = now, .pid = prev_tgid, .state = state,
						  .ustack = STACK_NONE, .kstack = STACK_NONE,
						  .exec = exec_gen(prev_tgid) };

			bpf_get_current_comm(&s.comm, sizeof(s.comm)); /* current is prev */
			s.kthread = kthread;
			if (cfg.user_stacks && !s.kthread && cfg.kt_enabled && kt_ready(prev_tgid, s.exec)) {
				struct pt_regs regs;

				/* current is prev: its user registers, saved at kernel entry. */
				if (bpf_probe_read_kernel(&regs, sizeof(regs),
							  (void *)bpf_task_pt_regs(bpf_get_current_task_btf()))) {
					stat_inc(STAT_USTACK_FAILED);
					s.ustack = STACK_LOST;
				} else {
					s.ustack = kt_walk_stack(&regs, false, prev_tgid, s.exec, &stacks);
				}
			} else if (cfg.user_stacks && !s.kthread)
				s.ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
			if (cfg.kernel_stacks)
				s.kstack = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
			if (bpf_map_update_elem(&starts, &prev_tid, &s, BPF_ANY))
				stat_inc(STAT_MAP_FULL);
		}
	}

	/* next runs again: account the time it was away. */
	if (cfg.uw_stack_bytes) {
		struct uw_record *r = bpf_map_lookup_elem(&uw_starts, &next_tid);

		if (r) {
			struct offcpu_uw_payload *pl = (void *)r->payload;
			__u64 blocked = now - pl->start;

			if (now > pl->start && blocked >= min_block_ns && blocked <= max_block_ns) {
				pl->val.count = 1;
				pl->val.total_ns = blocked;
				if (!uw_submit(r)) {
					/* Did not fit: counted here, without stacks. */
					struct offcpu_key key = pl->key;

					key.ustack = STACK_LOST;
					key.kstack = cfg.kernel_stacks ? STACK_LOST : STACK_NONE;
					add(&key, blocked);
				}
			}
			bpf_map_delete_elem(&uw_starts, &next_tid);
			return 0;
		}
	}
	st = bpf_map_lookup_elem(&starts, &next_tid);
	if (st) {
		__u64 blocked = now - st->start;

		if (now > st->start && blocked >= min_block_ns && blocked <= max_block_ns) {
			struct offcpu_key key = { .pid = st->pid, .tid = next_tid, .ustack = st->ustack,
						  .kstack = st->kstack, .state = st->state,
						  .kthread = st->kthread, .exec = st->exec };

			__builtin_memcpy(key.comm, st->comm, sizeof(key.comm));
			add(&key, blocked);
		}
		bpf_map_delete_elem(&starts, &next_tid);
	}
	return 0;
}

/* ---- the start-up seed ------------------------------------------------
 * Threads already off the CPU when the run starts switched out before we
 * attached: no start record, so their first block would go uncounted (a
 * thread napping 3 s at a time lost its first partial nap; a hung thread
 * was invisible). At start, after attaching, the loader runs this task
 * iterator once: every target thread that is blocked now gets a start record
 * stamped now, with its kernel stack (bpf_get_task_stack) and its user stack
 * walked by frame pointers from its saved registers (bpf_copy_from_user_task:
 * sleepable). Stacks go to seed_stacks under ids from SEED_STACK_BASE. */
struct seed_ips {
	__u64 ips[SEED_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* as many as threads were blocked */
	__type(key, __u32);
	__type(value, struct seed_ips);
} seed_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seed_ips);
} seed_scratch SEC(".maps");

/* The seeded threads' user registers: user space unwinds their stacks
 * again from .eh_frame (the walk here follows frame pointers only) and
 * replaces the seed_stacks entry. DWARF numbering, as struct uw_record. */
struct seed_regs_val {
	__u64 regs[UW_NREGS];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct seed_regs_val);
} seed_regs SEC(".maps");

__u32 seed_next = 0;   /* ids handed out (the iterator runs once, alone) */
__u64 seeded = 0;      /* threads seeded, for -v */

static __always_inline __s32 seed_put(struct seed_ips *b)
{
	__u32 id = SEED_STACK_BASE + seed_next++;

	if (bpf_map_update_elem(&seed_stacks, &id, b, BPF_ANY)) {
		stat_inc(STAT_MAP_FULL);
		return STACK_LOST;
	}
	return (__s32)id;
}

SEC("iter.s/task")
int offcpu_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct offcpu_start s = { .ustack = STACK_NONE, .kstack = STACK_NONE };
	struct seed_ips *b;
	__u32 zero = 0, tid, tgid, st;
	__u8 state;

	if (!task)
		return 0;
	tid = task->pid;
	tgid = task->tgid;
	if (!iter_task_is_target(task))
		return 0;
	if (bpf_map_lookup_elem(&go_procs, &tgid))
		return 0; /* a Go target: measured by its goroutines */
	st = task->__state;
	if (st == 0 || task->on_cpu)
		return 0; /* running or runnable: not blocked */
	state = classify(st);
	if (!(state_mask & (1u << state)) || bpf_map_lookup_elem(&starts, &tid))
		return 0;
	s.start = bpf_ktime_get_ns();
	s.pid = tgid;
	s.exec = exec_gen(tgid);
	s.state = state;
	s.kthread = !!(task->flags & PF_KTHREAD);
	bpf_probe_read_kernel_str(s.comm, sizeof(s.comm), task->comm);
	b = bpf_map_lookup_elem(&seed_scratch, &zero);
	if (!b)
		return 0;
	if (cfg.kernel_stacks) {
		long n = bpf_get_task_stack(task, b->ips, sizeof(b->ips), 0);

		if (n > 0) {
			for (int i = 0; i < SEED_DEPTH; i++)
				if (i >= n / 8)
					b->ips[i] = 0;
			s.kstack = seed_put(b);
		} else {
			s.kstack = STACK_LOST;
			stat_inc(STAT_KSTACK_FAILED);
		}
	}
	if (cfg.user_stacks && !s.kthread) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
		__u64 bp = regs->bp, frame[2];
		struct seed_regs_val rv;
		int i = 1;

		UW_DWARF_REGS(rv.regs, regs);
		bpf_map_update_elem(&seed_regs, &tid, &rv, BPF_ANY);
		__builtin_memset(b->ips, 0, sizeof(b->ips));
		b->ips[0] = regs->ip;
		for (; i < SEED_DEPTH && bp; i++) {
			if (bpf_copy_from_user_task(frame, sizeof(frame), (void *)bp, task, 0) || !frame[1])
				break;
			b->ips[i] = frame[1];
			if (frame[0] <= bp)
				break; /* the chain must go up the stack */
			bp = frame[0];
		}
		s.ustack = seed_put(b);
	}
	if (bpf_map_update_elem(&starts, &tid, &s, BPF_NOEXIST) == 0)
		seeded++;
	return 0;
}

/* ---- Go: goroutine blocking ---------------------------------------------
 * For a Go target, offcpu measures goroutines, not threads: a goroutine
 * blocked on a channel does not block its thread (the thread runs other
 * goroutines, or sleeps in the scheduler with no goroutine's stack worth
 * seeing). From the park to the moment it runs again (gowait.bpf.h), by
 * the stack at the park and Go's wait reason (the key's state, with
 * key.go set). Its threads' own switches are not counted (go_pids). */
SEC("uprobe")
int offcpu_gopark(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!target_match(id >> 32, (__u32)id))
		return 0;
	stat_inc(STAT_EVENTS);
	go_wait_begin(ctx, (__u8)ctx->cx, true, &stacks);
	return 0;
}

SEC("uprobe")
int offcpu_goexecute(struct pt_regs *ctx)
{
	__u64 gp = ctx->ax, now = bpf_ktime_get_ns();
	struct go_wait *w = bpf_map_lookup_elem(&go_waits, &gp);

	if (!w)
		return 0;
	if (now > w->ts && now - w->ts >= min_block_ns && now - w->ts <= max_block_ns) {
		struct offcpu_key key = { .pid = w->pid, .exec = w->exec, .ustack = w->ustack,
					  .kstack = STACK_NONE, .state = w->reason, .go = 1, .labels = w->labels };

		__builtin_memcpy(key.comm, w->comm, sizeof(key.comm));
		add(&key, now - w->ts);
	}
	bpf_map_delete_elem(&go_waits, &gp);
	return 0;
}

/* ---- wall: on-CPU time, sampled ------------------------------------------
 * `wall` adds the time threads run to the time they are away: a cpu-clock
 * event every sample_period_ns on each CPU counts one period for the running
 * target thread, under the stack it is running, in the state "running" of
 * the same keys; so one profile holds every thread's wall-clock time. */
SEC("perf_event")
int offcpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct task_struct *task = bpf_get_current_task_btf();
	struct offcpu_key key = { .pid = tgid, .tid = tid, .state = OFFCPU_RUNNING,
				  .ustack = STACK_NONE, .kstack = STACK_NONE };
	bool in_kernel = (long)PT_REGS_IP(&ctx->regs) < 0; /* kernel text: the upper half */

	if (!tid || !target_match(tgid, tid) || !(state_mask & (1u << OFFCPU_RUNNING)))
		return 0;
	stat_inc(STAT_EVENTS);
	key.exec = exec_gen(tgid);
	key.kthread = !!(task->flags & PF_KTHREAD);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	if (cfg.user_stacks && !key.kthread && cfg.kt_enabled && kt_ready(tgid, key.exec)) {
		struct pt_regs regs;

		if (in_kernel) {
			if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)bpf_task_pt_regs(task))) {
				stat_inc(STAT_USTACK_FAILED);
				key.ustack = STACK_LOST;
			} else {
				key.ustack = kt_walk_stack(&regs, false, tgid, key.exec, &stacks);
			}
		} else {
			__builtin_memcpy(&regs, &ctx->regs, sizeof(regs));
			key.ustack = kt_walk_stack(&regs, false, tgid, key.exec, &stacks);
		}
	} else if (cfg.user_stacks && !key.kthread) {
		key.ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	}
	if (cfg.kernel_stacks && in_kernel)
		key.kstack = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
	add(&key, sample_period_ns);
	return 0;
}

/* tp_btf where the kernel has it (cheapest, typed); raw_tp otherwise. The
 * loader keeps one of the two (feature probe in user/offcpu.c). */
/* The fourth argument, prev_state, is read only where the kernel has it
 * (have_prev_state, from its BTF): the branch is dead otherwise, and the
 * verifier never sees the read past the tracepoint's arguments. */
SEC("tp_btf/sched_switch")
int offcpu_switch_btf(__u64 *ctx)
{
	return on_switch(ctx, (bool)ctx[0], (struct task_struct *)ctx[1], (struct task_struct *)ctx[2],
			 have_prev_state ? (__u32)ctx[3] : 0, true);
}

SEC("raw_tp/sched_switch")
int offcpu_switch_raw(__u64 *ctx)
{
	return on_switch(ctx, (bool)ctx[0], (struct task_struct *)ctx[1], (struct task_struct *)ctx[2],
			 have_prev_state ? (__u32)ctx[3] : 0, false);
}

/* A thread that exits while it has a start record (it never runs again, or
 * exits right after waking) must not stay in the map. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(offcpu_exit, struct task_struct *task)
{
	__u32 tid = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&starts, &tid);
	if (cfg.uw_stack_bytes)
		bpf_map_delete_elem(&uw_starts, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
