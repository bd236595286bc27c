// SPDX-License-Identifier: GPL-2.0
/* stat: a time(1)-like summary seen from the scheduler, for the targets
 * (-- CMD and its descendants, or -p). Per thread (task storage): when it
 * left the CPU and in which state, whether it sits in a futex lock wait,
 * the system call it is in, and its CPU counters when first seen. Totals
 * are per-CPU slots (stat.h). A thread's off-CPU time goes to the state it
 * left in until it is woken, then to "runnable" until it runs: run-queue
 * delay is counted apart from the sleep. At a thread's exit, and for
 * threads alive at the end (the flush iterator), its CPU time, faults and
 * peak RSS since it was first seen are added. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stat.h"
#include "task.bpf.h"
#include "filter.bpf.h"
#include "futex.bpf.h"

const volatile bool have_prev_state = false; /* sched_switch has prev_state (5.18+) */
bool flushing = false;  /* the iterator's mode: false seeds, true flushes */
__u64 root_exit_ns = 0; /* when -- CMD's last thread exited */

#define PF_KTHREAD 0x00200000
#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_NOLOAD 0x400

enum { K_NONE = 0, K_RUNNABLE, K_SLEEPING, K_IOWAIT, K_OTHER };

struct tinfo {
	__u64 out_ts;         /* left the CPU (0: on it, or not known) */
	__u64 sc_ts;          /* entered sc_nr */
	__u64 rt0, ut0, st0, minflt0, majflt0; /* CPU counters when first seen */
	__u32 sc_nr;
	__u8 kind;            /* K_*: what out_ts counts as */
	__u8 in_lock;         /* in a futex lock wait */
	__u8 in_syscall;
	__u8 done;            /* counted at exit (the flush skips it) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tinfo);
} tinfo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[ST_NTOTALS]);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_NSYSCALLS);
	__type(key, __u32);
	__type(value, struct stat_syscall);
} syscalls SEC(".maps");

static __always_inline void total_add(__u32 slot, __u64 v)
{
	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&totals, &zero);

	/* Atomic even per CPU: a tracepoint program may be preempted, and
	 * another task's program on this CPU update the same slot. */
	if (t && slot < ST_NTOTALS)
		__sync_fetch_and_add(&t[slot], v);
}

static __always_inline void total_max(__u32 slot, __u64 v)
{
	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&totals, &zero);

	if (t && slot < ST_NTOTALS && v > t[slot])
		t[slot] = v;
}


/* A thread's counters now, as its baseline. */
static __always_inline void baseline(struct tinfo *ti, struct task_struct *t)
{
	ti->rt0 = BPF_CORE_READ(t, se.sum_exec_runtime);
	ti->ut0 = BPF_CORE_READ(t, utime);
	ti->st0 = BPF_CORE_READ(t, stime);
	ti->minflt0 = BPF_CORE_READ(t, min_flt);
	ti->majflt0 = BPF_CORE_READ(t, maj_flt);
}

static __always_inline struct tinfo *info_of(struct task_struct *t, bool create)
{
	struct tinfo *ti = bpf_task_storage_get(&tinfo, t, 0, 0);

	if (ti || !create)
		return ti;
	ti = bpf_task_storage_get(&tinfo, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ti)
		baseline(ti, t);
	else
		stat_inc(STAT_MAP_FULL);
	return ti;
}

static __always_inline void account(struct tinfo *ti, __u64 now)
{
	__u64 d;

	if (!ti->out_ts || now <= ti->out_ts)
		return;
	d = now - ti->out_ts;
	switch (ti->kind) {
	case K_RUNNABLE: total_add(ST_RUNNABLE_NS, d); break;
	case K_SLEEPING: total_add(ti->in_lock ? ST_LOCKWAIT_NS : ST_SLEEPING_NS, d); break;
	case K_IOWAIT: total_add(ST_IOWAIT_NS, d); break;
	case K_OTHER: total_add(ST_OTHER_NS, d); break;
	}
}

static __always_inline __u8 kind_of(__u32 state)
{
	if (state == 0)
		return K_RUNNABLE;
	if (state & TASK_INTERRUPTIBLE)
		return K_SLEEPING;
	if (state & TASK_UNINTERRUPTIBLE)
		return (state & TASK_NOLOAD) ? K_SLEEPING : K_IOWAIT;
	return K_OTHER;
}


SEC("tp_btf/sched_switch")
int BPF_PROG(stat_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();
	struct tinfo *ti;

	if (BPF_CORE_READ(prev, pid) && task_is_target(prev) && (ti = info_of(prev, true))) {
		/* The tracepoint's prev_state where the kernel passes it
		 * (5.18+): task->__state can already be RUNNING again. */
		__u32 st = preempt ? 0 : have_prev_state ? (__u32)ctx[3] : task_state_of(prev);

		ti->out_ts = now;
		ti->kind = kind_of(st);
		total_add(ti->kind == K_RUNNABLE ? ST_CTX_INVOLUNTARY : ST_CTX_VOLUNTARY, 1);
	}
	if ((ti = info_of(next, false))) {
		account(ti, now);
		ti->out_ts = 0;
	}
	return 0;
}

/* Woken: the sleep ends here; from now until it runs, it is runnable. */
static __always_inline int woken(struct task_struct *p, bool new)
{
	__u64 now = bpf_ktime_get_ns();
	struct tinfo *ti;

	if (new) {
		if (!task_is_target(p) || !(ti = info_of(p, true)))
			return 0;
		ti->kind = K_RUNNABLE;
		ti->out_ts = now;
		return 0;
	}
	ti = info_of(p, false);
	if (!ti || !ti->out_ts || ti->kind == K_RUNNABLE)
		return 0;
	account(ti, now);
	ti->out_ts = now;
	ti->kind = K_RUNNABLE;
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(stat_wakeup, struct task_struct *p)
{
	return woken(p, false);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(stat_wakeup_new, struct task_struct *p)
{
	return woken(p, true);
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(stat_migrate, struct task_struct *p, int dest_cpu)
{
	/* set_task_cpu traces every placement; a migration changes the CPU. */
	if (BPF_CORE_READ(p, thread_info.cpu) != (__u32)dest_cpu && info_of(p, false))
		total_add(ST_MIGRATIONS, 1);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(stat_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!target_match(id >> 32, (__u32)id))
		return 0;
	total_add(BPF_CORE_READ(child, tgid) == (id >> 32) ? ST_THREADS_CREATED : ST_PROCS_CREATED, 1);
	return 0;
}

/* -- CMD's own process: its counters start at its exec (before it, it was
 * our launcher, held). */
SEC("raw_tp/sched_process_exec")
int stat_exec(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct tinfo *ti;

	if (!cfg.root_child || t->tgid != cfg.root_child)
		return 0;
	if ((ti = bpf_task_storage_get(&tinfo, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE)))
		baseline(ti, t);
	return 0;
}

/* A thread's CPU time and faults since its baseline, into the totals. */
static __always_inline void add_cpu(struct tinfo *ti, struct task_struct *t)
{
	total_add(ST_RUNTIME_NS, BPF_CORE_READ(t, se.sum_exec_runtime) - ti->rt0);
	total_add(ST_UTIME_NS, BPF_CORE_READ(t, utime) - ti->ut0);
	total_add(ST_STIME_NS, BPF_CORE_READ(t, stime) - ti->st0);
	total_add(ST_FAULTS_MINOR, BPF_CORE_READ(t, min_flt) - ti->minflt0);
	total_add(ST_FAULTS_MAJOR, BPF_CORE_READ(t, maj_flt) - ti->majflt0);
	ti->done = 1;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(stat_exit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct tinfo *ti = bpf_task_storage_get(&tinfo, t, 0, 0);

	if (!ti) {
		/* never switched out since it became a target */
		if (!target_match(t->tgid, t->pid))
			return 0;
		ti = bpf_task_storage_get(&tinfo, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!ti)
			return 0; /* baseline 0: counted from its start */
	}
	add_cpu(ti, t);
	/* The process's peak RSS (pages), kept in signal->maxrss when a
	 * thread lets go of the mm (before this tracepoint). */
	total_max(ST_MAXRSS_PAGES, BPF_CORE_READ(t, signal, maxrss));
	if (cfg.root_child && t->tgid == cfg.root_child)
		root_exit_ns = bpf_ktime_get_ns();
	return 0;
}

/* The system calls' time: from entry to exit, by number. A futex lock
 * wait is marked so the sleep it causes counts as lock wait. */
SEC("raw_tp/sys_enter")
int BPF_PROG(stat_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct tinfo *ti = bpf_task_storage_get(&tinfo, t, 0, 0);

	if (!ti) {
		if (!target_match(t->tgid, t->pid) || !(ti = info_of(t, true)))
			return 0;
	}
	ti->sc_nr = id;
	ti->sc_ts = bpf_ktime_get_ns();
	ti->in_syscall = 1;
	if (id == NR_futex)
		ti->in_lock = futex_lock_kind(BPF_CORE_READ(regs, si) & FUTEX_CMD_MASK,
					      (__u32)BPF_CORE_READ(regs, dx), BPF_CORE_READ(regs, di)) >= 0;
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(stat_sys_exit, struct pt_regs *regs, long ret)
{
	struct tinfo *ti = bpf_task_storage_get(&tinfo, bpf_get_current_task_btf(), 0, 0);
	struct stat_syscall *sc;
	__u32 nr;

	if (!ti || !ti->in_syscall)
		return 0;
	ti->in_syscall = 0;
	ti->in_lock = 0;
	nr = ti->sc_nr;
	if (nr < ST_NSYSCALLS && (sc = bpf_map_lookup_elem(&syscalls, &nr))) {
		__sync_fetch_and_add(&sc->count, 1);
		__sync_fetch_and_add(&sc->ns, bpf_ktime_get_ns() - ti->sc_ts);
	}
	return 0;
}

/* Run once at start (seed): target threads that exist get a baseline, and
 * those off the CPU a start of their wait (now). Run at the end (flush):
 * each thread's wait so far and its CPU time and faults are added. */
SEC("iter/task")
int stat_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct tinfo *ti;
	__u64 now = bpf_ktime_get_ns();

	if (!t || !t->pid || (t->flags & PF_KTHREAD))
		return 0;
	if (!iter_task_is_target(t))
		return 0;
	if (!flushing) {
		ti = bpf_task_storage_get(&tinfo, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!ti)
			return 0;
		baseline(ti, t);
		if (!t->on_cpu) {
			ti->out_ts = now;
			ti->kind = kind_of(t->__state);
		}
		return 0;
	}
	ti = bpf_task_storage_get(&tinfo, t, 0, 0);
	if (!ti || ti->done || t->exit_state)
		return 0;
	account(ti, now);
	ti->out_ts = 0;
	add_cpu(ti, t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
