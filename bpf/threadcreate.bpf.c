// SPDX-License-Identifier: GPL-2.0
/* threadcreate: who creates threads and processes. At sched_process_fork,
 * which runs in the creating thread once the new task exists (so failed
 * clones are not counted), the creator's user stack is walked from the
 * registers it made the system call with, and counted by (thread, stack,
 * thread or process). Go's own threadcreate profile is known to be broken;
 * this one works for Go (runtime.newm -> clone) and any native program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "threadcreate.h"
#include "filter.bpf.h"
#include "ktables.bpf.h"

/* Kept while the run lasts, as the counts. Sizes set by the loader. */
struct stack_store stacks SEC(".maps");
COUNT_SET(struct threadcreate_key, __u64)

SEC("raw_tp/sched_process_fork")
int BPF_PROG(threadcreate_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, set = count_set();
	struct threadcreate_key key = {};
	struct pt_regs regs;
	__u64 *val;

	if (!target_filter(tgid, tid))
		return 0;
	stat_inc(STAT_EVENTS);
	key.pid = tgid;
	key.tid = tid;
	key.exec = exec_gen(tgid);
	key.process = BPF_CORE_READ(child, tgid) != tgid ? CREATED_PROCESS : CREATED_THREAD;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.ustack = STACK_NONE;
	if (cfg.user_stacks) {
		if (cfg.kt_enabled && kt_ready(tgid, key.exec) &&
		    !bpf_probe_read_kernel(&regs, sizeof(regs),
					   (void *)bpf_task_pt_regs(bpf_get_current_task_btf())))
			key.ustack = kt_walk_stack(&regs, false, tgid, key.exec, &stacks);
		else
			key.ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	}
	val = count_slot(set, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	return 0;
}

/* Go: every `go` statement calls runtime.newproc in the creating goroutine
 * (newproc1 then runs on the system stack, where the creator's stack is
 * not on the chain): its entry, attached by the loader for Go targets. */
SEC("uprobe")
int threadcreate_newproc(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, set = count_set();
	struct threadcreate_key key = { .pid = tgid, .tid = tid, .process = CREATED_GOROUTINE,
					.ustack = STACK_NONE };
	__u64 *val;

	if (!target_filter(tgid, tid))
		return 0;
	stat_inc(STAT_EVENTS);
	key.exec = exec_gen(tgid);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	if (cfg.user_stacks) {
		if (cfg.kt_enabled && kt_ready(tgid, key.exec))
			key.ustack = kt_walk_stack(ctx, true, tgid, key.exec, &stacks);
		else
			key.ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
	}
	val = count_slot(set, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
