/* Target filtering and loss accounting shared by the BPF programs.
 * Include once per program, after vmlinux.h and bpf_helpers.h. */
#ifndef BPFPROF_FILTER_BPF_H
#define BPFPROF_FILTER_BPF_H

#include "common.h"

#ifndef EEXIST
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EEXIST 17
#endif

/* Set by the loader between open and load (struct prog_cfg, common.h). */
const volatile struct prog_cfg cfg = {};

/* Sized by the loader at open time to the number of targets (no fixed cap). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} target_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} target_tids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &slot);

	if (v)
		(*v)++; /* per-CPU slot: no atomic needed */
}

/* The value for key in map, created zeroed if absent; NULL when the map is
 * full (counted). Another CPU creating it first is fine (-EEXIST). */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);
	int err; /* the helper returns long; the errno fits an int */

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		stat_inc(err == -ENOMEM ? STAT_ALLOC_FAILED : STAT_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* A command's two aggregation maps (entries set to --max-stacks at open)
 * and which one its programs write now: the loader flips `gen` and reads
 * the other (user/core/bpfmaps.c, set_generation). An event takes the set
 * once (count_set) and uses it for its stack map too, if it has a pair. */
volatile __u32 gen = 0;

static __always_inline __u32 count_set(void)
{
	return gen & 1;
}

#define COUNT_SET(KEY, VAL)                                                         \
	struct count_map {                                                          \
		__uint(type, BPF_MAP_TYPE_HASH);                                     \
		__uint(max_entries, 1024);                                           \
		__type(key, KEY);                                                    \
		__type(value, VAL);                                                  \
	};                                                                          \
	struct count_map counts0 SEC(".maps"), counts1 SEC(".maps");                \
	/* The value for key in set, created zeroed; NULL when full (counted). */ \
	static __always_inline VAL *count_slot(__u32 set, const KEY *key)           \
	{                                                                           \
		VAL zero;                                                           \
                                                                                    \
		__builtin_memset(&zero, 0, sizeof(zero));                           \
		return set ? lookup_or_init(&counts1, key, &zero)                   \
			   : lookup_or_init(&counts0, key, &zero);                  \
	}

#ifndef FILTER_NO_FOLLOW
/* How many times each target process has exec'd since we attached: every
 * aggregation key carries it, so a sample taken before an exec is
 * symbolized with the mappings of the program that ran then (user space
 * keeps one set of mappings per (pid, exec)). Allocated as it fills; a
 * process leaves it when it ends, so it holds only live processes that
 * exec'd while profiled. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} exec_gens SEC(".maps");

static __always_inline __u32 exec_gen(__u32 tgid)
{
	__u32 *g = bpf_map_lookup_elem(&exec_gens, &tgid);

	return g ? *g : 0;
}
#endif

/* True when the thread (tgid, pid) passes the target filter. */
static __always_inline bool target_filter(__u32 tgid, __u32 pid)
{
	if (cfg.pid && !bpf_map_lookup_elem(&target_pids, &tgid))
		return false;
	if (cfg.tid && !bpf_map_lookup_elem(&target_tids, &pid))
		return false;
	if (cfg.cgroup && bpf_current_task_under_cgroup(&target_cgroup, 0) != 1)
		return false;
	return true;
}

/* True when the thread (tgid, pid) is one we profile: -- CMD from its exec
 * on (before it, the process is our own launcher waiting to be released). */
static __always_inline bool target_match(__u32 tgid, __u32 pid)
{
#ifndef FILTER_NO_FOLLOW
	if (cfg.root_child && tgid == cfg.root_child && !exec_gen(tgid))
		return false;
#endif
	return target_filter(tgid, pid);
}

/* Whether task t is in the --cgroup directory or below it: one of its
 * (cgroup v2) cgroup's ancestors, itself included, has the directory's id.
 * For tasks other than current, which bpf_current_task_under_cgroup cannot
 * test (a switch's next, a wake-up's wakee, an iterator's task). */
#define CGROUP_MAX_DEPTH 32
static __always_inline bool task_in_target_cgroup(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	int level = BPF_CORE_READ(cg, level);

	for (int i = 0; i < CGROUP_MAX_DEPTH; i++) {
		struct cgroup *a = NULL;

		if (i > level)
			break;
		bpf_core_read(&a, sizeof(a), &cg->ancestors[i]);
		if (a && BPF_CORE_READ(a, kn, id) == cfg.cgroup_id)
			return true;
	}
	return false;
}

#ifndef FILTER_NO_FOLLOW
/* The same for a task other than the current one (a switch's prev/next, a
 * wake-up's wakee, an iterator's task: sleepable iterators may use no
 * cgroup array, so the cgroup is tested on the task). */
static __always_inline bool task_is_target(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid), pid = BPF_CORE_READ(t, pid);

	if (cfg.root_child && tgid == cfg.root_child && !exec_gen(tgid))
		return false; /* -- CMD before its exec: our launcher, held */
	if (cfg.pid && !bpf_map_lookup_elem(&target_pids, &tgid))
		return false;
	if (cfg.tid && !bpf_map_lookup_elem(&target_tids, &pid))
		return false;
	return !cfg.cgroup || task_in_target_cgroup(t);
}

static __always_inline bool iter_task_is_target(struct task_struct *t)
{
	return BPF_CORE_READ(t, pid) && task_is_target(t);
}
#endif

/* The fork-following programs. The parent is current; a new thread of a
 * target (CLONE_THREAD) shares its tgid and needs nothing. A child that does
 * not fit in the map is counted (STAT_CHILD_LOST), its events not seen. */
static __always_inline void follow_fork(__u32 child_tgid)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u8 *v;

	if (!cfg.follow_children || child_tgid == parent)
		return;
	v = bpf_map_lookup_elem(&target_pids, &parent);
	if (v && bpf_map_update_elem(&target_pids, &child_tgid, v, BPF_ANY))
		stat_inc(STAT_CHILD_LOST);
}

#ifndef FILTER_NO_FOLLOW /* trace.bpf.c: no CO-RE, and -- CMD is not a filter there */

SEC("raw_tp/sched_process_fork")
int BPF_PROG(filter_fork, struct task_struct *parent, struct task_struct *child)
{
	follow_fork(BPF_CORE_READ(child, tgid));
	return 0;
}

/* --follow NAME: a process that execs a program named NAME is a target from
 * its first instruction (user space, polling /proc, used to miss short-lived
 * ones). current->comm is the new program's name at this tracepoint. */
static __always_inline void follow_exec(__u32 tgid)
{
	char comm[TASK_COMM_LEN];
	__u8 v = 1;

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != cfg.follow_comm[i])
			return;
		if (!comm[i])
			break;
	}
	if (bpf_map_update_elem(&target_pids, &tgid, &v, BPF_NOEXIST) == -E2BIG)
		stat_inc(STAT_CHILD_LOST);
}

/* Runs after the new program replaced the old one (and after the exec'ing
 * process's other threads are gone): events from here on are the new
 * image's. */
SEC("raw_tp/sched_process_exec")
int filter_exec(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, one = 1, *g;

	if (cfg.follow_comm[0])
		follow_exec(tgid);
	if (!target_filter(tgid, (__u32)id))
		return 0;
	g = bpf_map_lookup_elem(&exec_gens, &tgid);
	if (g)
		__sync_fetch_and_add(g, 1);
	else
		bpf_map_update_elem(&exec_gens, &tgid, &one, BPF_ANY);
	return 0;
}

/* A followed child leaves the map when its process ends (the group
 * leader's exit), so a long command's churn of children stays in bounds. */
SEC("raw_tp/sched_process_exit")
int filter_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (tgid != (__u32)id)
		return 0;
	bpf_map_delete_elem(&exec_gens, &tgid);
	if ((cfg.follow_children || cfg.follow_comm[0]) && tgid != cfg.root_child)
		bpf_map_delete_elem(&target_pids, &tgid);
	return 0;
}
#endif /* FILTER_NO_FOLLOW */

#endif
