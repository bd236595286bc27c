// SPDX-License-Identifier: GPL-2.0
/* lockwait: time threads wait for locks, by waiting stack.
 * User locks: contended pthread locks end in a futex wait; uncontended ones
 * never enter the kernel, so timing futex waits (sys_enter/sys_exit raw
 * tracepoints) costs nothing on the uncontended path. The futex op and the
 * value the waiter expects tell lock waits from condition variables,
 * semaphores and joins (see classify()). Semaphores (postgres's LWLocks sleep
 * in sem_wait) are told apart by an entry probe on sem_wait and its kin,
 * which notes the semaphore each thread is about to wait on.
 * Kernel locks: lock:contention_begin/end.
 * Go: an entry uprobe on sync.runtime_SemacquireMutex counts contended
 * sync.Mutex/RWMutex acquisitions (never a return probe on Go code). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lockwait.h"
#include "filter.bpf.h"
#include "unwind.bpf.h"
#include "ktables.bpf.h"
#include "futex.bpf.h"
#include "gowait.bpf.h"

const volatile bool by_lock = false;
const volatile __u64 min_wait_ns = 0;



struct stack_store stacks SEC(".maps"); /* kept while the run lasts, as the counts */

/* In-progress waits by thread: user (futex) and kernel separately, since a
 * futex wait can itself contend on kernel locks. */
struct start_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, __u32);
	__type(value, struct lock_start);
};
struct start_map ustarts SEC(".maps"), kstarts SEC(".maps");

/* The user stack from the task's user registers uregs (a kernel pointer):
 * walked with the tables (--unwind tables), else by frame pointers. */
static __always_inline __s32 user_stack(void *ctx, struct pt_regs *uregs, __u32 tgid)
{
	struct pt_regs r;

	if (!cfg.kt_enabled || !kt_ready(tgid, exec_gen(tgid)))
		return stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	if (!uregs || bpf_probe_read_kernel(&r, sizeof(r), uregs)) {
		stat_inc(STAT_USTACK_FAILED);
		return STACK_LOST;
	}
	return kt_walk_stack(&r, false, tgid, exec_gen(tgid), &stacks);
}

COUNT_SET(struct lock_key, struct lock_val)

static __always_inline void add(struct lock_key *key, __u64 delta, __u64 count)
{
	struct lock_val *v;

	bpf_get_current_comm(&key->comm, sizeof(key->comm));
	v = count_slot(count_set(), key);
	if (!v)
		return;
	__sync_fetch_and_add(&v->count, count);
	__sync_fetch_and_add(&v->total_ns, delta);
	if (delta > v->max_ns)
		v->max_ns = delta; /* racy max: good enough for a report */
}

/* --unwind dwarf: the waiter is current and its user stack is as it was
 * when the wait began; send it with the key and values. */
static __always_inline void add(struct lock_key *key, __u64 delta, __u64 count);

static __always_inline void submit_record(void *ctx, struct lock_key *key, __u64 delta, __u64 count,
					  bool kstack, struct pt_regs *uregs)
{
	struct uw_record *r = uw_begin(ctx, 0, key->pid, key->tid, uregs, kstack);
	struct lock_uw_payload *pl;

	if (!r)
		goto lost;
	pl = (void *)r->payload;
	bpf_get_current_comm(&key->comm, sizeof(key->comm));
	key->ustack = STACK_NONE;
	key->kstack = STACK_NONE;
	key->entry_ret = 0;
	__builtin_memcpy(&pl->key, key, sizeof(*key));
	pl->val.count = count;
	pl->val.total_ns = delta;
	pl->val.max_ns = delta;
	if (uw_submit(r))
		return;
lost:
	/* Did not fit: counted here, without stacks. */
	key->ustack = STACK_LOST;
	key->kstack = kstack ? STACK_LOST : STACK_NONE;
	add(key, delta, count);
}

static __always_inline void finish(void *ctx, struct lock_start *st, __u32 tid, __u64 now)
{
	__u64 delta = now - st->ts;
	struct lock_key key = { .pid = st->pid, .tid = tid, .ustack = st->ustack,
				.kstack = st->kstack, .kind = st->kind, .flags = st->flags,
				.exec = exec_gen(st->pid) };

	if (now < st->ts || delta < min_wait_ns)
		return;
	if (by_lock)
		key.lock = st->lock;
	if (cfg.user_stacks && st->pid && uw_wanted(st->pid)) {
		submit_record(ctx, &key, delta, 1, cfg.kernel_stacks && st->kind == LOCK_KERNEL,
			      (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()));
		return;
	}
	add(&key, delta, 1);
}

/* The semaphore each thread last entered sem_wait (or sem_timedwait,
 * sem_clockwait) with: its futex wait on that address is a semaphore wait. A
 * stale entry (sem_wait took the fast path) matches no later futex wait on
 * another address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} sem_at SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKIP_NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} skipped SEC(".maps");

SEC("uprobe")
int lw_sem_wait(struct pt_regs *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid(), sem = PT_REGS_PARM1(ctx);
	__u32 tid = (__u32)pt;

	if (target_match(pt >> 32, tid))
		bpf_map_update_elem(&sem_at, &tid, &sem, BPF_ANY);
	return 0;
}

static __always_inline void skip(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&skipped, &slot);

	if (v)
		(*v)++;
}

/* Lock waits (futex.bpf.h), and semaphores: a wait for 0 on the address
 * the thread last entered sem_wait with. Others are counted as skipped. */
static __always_inline int classify(__u32 cmd, __u32 val, __u64 uaddr, __u32 tid)
{
	int kind = futex_lock_kind(cmd, val, uaddr);
	__u64 *sem;

	if (kind >= 0)
		return kind;
	if (kind == FUTEX_NOT_A_WAIT)
		return -1;
	if (val == 0 && (sem = bpf_map_lookup_elem(&sem_at, &tid)) && *sem == uaddr)
		return LOCK_USER_SEM;
	skip(val == 0 ? SKIP_VALUE0 : SKIP_OTHER);
	return -1;
}

const volatile bool trace_user = true;
const volatile bool trace_kernel = true;

SEC("raw_tp/sys_enter")
int BPF_PROG(lw_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct lock_start st = { .ustack = STACK_NONE, .kstack = STACK_NONE };
	int kind;

	if (id != NR_futex || !trace_user || !target_match(tgid, tid))
		return 0;
	kind = classify(BPF_CORE_READ(regs, si) & FUTEX_CMD_MASK, (__u32)BPF_CORE_READ(regs, dx),
			BPF_CORE_READ(regs, di), tid);
	if (kind < 0)
		return 0;
	st.ts = bpf_ktime_get_ns();
	st.lock = BPF_CORE_READ(regs, di);
	st.pid = tgid;
	st.kind = kind;
	if (cfg.user_stacks && !uw_wanted(tgid))
		st.ustack = user_stack(ctx, regs, tgid); /* regs: the futex call's */
	if (bpf_map_update_elem(&ustarts, &tid, &st, BPF_ANY))
		stat_inc(STAT_MAP_FULL);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(lw_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lock_start *st;

	if (!trace_user || BPF_CORE_READ(regs, orig_ax) != NR_futex)
		return 0;
	st = bpf_map_lookup_elem(&ustarts, &tid);
	if (!st)
		return 0;
	finish(ctx, st, tid, bpf_ktime_get_ns());
	bpf_map_delete_elem(&ustarts, &tid);
	return 0;
}

static __always_inline int kbegin(void *ctx, __u64 lock, __u32 flags)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct lock_start st = { .ustack = STACK_NONE, .kstack = STACK_NONE };

	if (!target_match(tgid, tid) || bpf_map_lookup_elem(&kstarts, &tid))
		return 0; /* a wait may "begin" again (spin, then sleep): keep the first */
	st.ts = bpf_ktime_get_ns();
	st.lock = lock;
	st.pid = tgid;
	st.flags = flags;
	st.kind = LOCK_KERNEL;
	if (tgid && cfg.user_stacks && uw_wanted(tgid))
		goto save; /* stacks taken when the wait ends (finish) */
	if (cfg.kernel_stacks)
		st.kstack = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
	if (cfg.user_stacks && tgid)
		st.ustack = user_stack(ctx, (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), tgid);
save:
	if (bpf_map_update_elem(&kstarts, &tid, &st, BPF_ANY))
		stat_inc(STAT_MAP_FULL);
	return 0;
}

static __always_inline int kend(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lock_start *st = bpf_map_lookup_elem(&kstarts, &tid);

	if (!st)
		return 0;
	finish(ctx, st, tid, bpf_ktime_get_ns());
	bpf_map_delete_elem(&kstarts, &tid);
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(lw_kbegin_btf, void *lock, unsigned int flags)
{
	return kbegin(ctx, (__u64)lock, flags);
}

SEC("tp_btf/contention_end")
int BPF_PROG(lw_kend_btf, void *lock, int ret)
{
	return kend(ctx);
}

SEC("raw_tp/contention_begin")
int BPF_PROG(lw_kbegin_raw, void *lock, unsigned int flags)
{
	return kbegin(ctx, (__u64)lock, flags);
}

SEC("raw_tp/contention_end")
int BPF_PROG(lw_kend_raw, void *lock, int ret)
{
	return kend(ctx);
}

/* Go: sync.Mutex and RWMutex waits. A contended Lock calls
 * sync.runtime_SemacquireMutex: its entry begins a wait (gowait.bpf.h);
 * if the goroutine then parks for the mutex (go_mutex_reasons: the wait
 * reason the program's Go version parks mutex waiters with), the wait
 * ends when runtime.execute runs it again: the delay. An acquisition that
 * did not park counts as a contention without delay at its next park.
 * --unwind copy keeps the counting probe of before (no delay). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);      /* tgid */
	__type(value, __u8);     /* runtime.waitReason of a mutex park */
} go_mutex_reasons SEC(".maps");

static __always_inline void go_add(struct go_wait *w, __u64 delay)
{
	struct lock_key key = { .pid = w->pid, .exec = w->exec, .tid = w->tid, .kind = LOCK_GO_MUTEX,
				.ustack = w->ustack, .kstack = STACK_NONE };

	if (by_lock)
		key.lock = w->arg; /* the semaphore inside the mutex */
	if (delay < min_wait_ns)
		return;
	add(&key, delay, 1);
}

SEC("uprobe")
int lw_go_semacquire(struct pt_regs *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	struct lock_key key = { .pid = tgid, .tid = tid, .kind = LOCK_GO_MUTEX,
				.ustack = STACK_NONE, .kstack = STACK_NONE, .exec = exec_gen(tgid) };

	if (!target_match(tgid, tid))
		return 0;
	if (cfg.user_stacks && uw_wanted(tgid)) {
		if (by_lock)
			key.lock = ctx->ax; /* Go's register ABI: the first argument is in rax */
		submit_record(ctx, &key, 0, 1, false, ctx);
		return 0;
	}
	go_wait_begin(ctx, 0, false, &stacks);
	return 0;
}

SEC("uprobe")
int lw_gopark(struct pt_regs *ctx)
{
	__u64 g = ctx->r14;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct go_wait *w = bpf_map_lookup_elem(&go_waits, &g);
	__u8 *reason;

	if (!w)
		return 0;
	reason = bpf_map_lookup_elem(&go_mutex_reasons, &tgid);
	if (reason && *reason == (__u8)ctx->cx && !w->parked) {
		w->parked = 1;
		return 0;
	}
	/* It got the mutex without parking, and parks now for another reason. */
	go_add(w, 0);
	bpf_map_delete_elem(&go_waits, &g);
	return 0;
}

SEC("uprobe")
int lw_goexecute(struct pt_regs *ctx)
{
	__u64 gp = ctx->ax, now = bpf_ktime_get_ns();
	struct go_wait *w = bpf_map_lookup_elem(&go_waits, &gp);

	if (!w || !w->parked)
		return 0;
	go_add(w, now > w->ts ? now - w->ts : 0);
	bpf_map_delete_elem(&go_waits, &gp);
	return 0;
}

/* Threads that exit mid-wait leave no records behind. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(lw_exit, struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&ustarts, &tid);
	bpf_map_delete_elem(&kstarts, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
