/* Goroutine waits, for Go programs (offcpu's goroutine view, lockwait's Go
 * mutex delay). A goroutine parks in runtime.gopark (the current g is in
 * R14; the wait reason is its third argument, in RCX) and runs again when
 * runtime.execute(gp) is called for it (gp in RAX) — whatever made it
 * runnable (ready, the netpoller's lists, timers), so every wake path is
 * seen with one probe. Entry probes only: a return probe crashes Go. The
 * wait is keyed by the g's address; its stack is walked at the park (Go
 * keeps frame pointers; at a function's entry the caller's return address
 * is at [sp], which the walker's entry mode takes). Include after
 * filter.bpf.h and ktables.bpf.h. */
#include "golabels.bpf.h"
#ifndef BPFPROF_GOWAIT_BPF_H
#define BPFPROF_GOWAIT_BPF_H

struct go_wait {
	__u64 ts;
	__s32 ustack;
	__u32 pid, exec, tid;
	__u8 reason;             /* runtime.waitReason */
	__u8 parked;             /* lockwait: the acquire did park */
	__u8 pad[2];
	char comm[TASK_COMM_LEN];
	__u64 arg;               /* the probed function's first argument (rax) */
	__u64 labels;            /* its pprof label set (golabels.bpf.h), or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);      /* the g */
	__type(value, struct go_wait);
} go_waits SEC(".maps");

/* A wait of the current goroutine begins: its stack and the time. */
static __always_inline void go_wait_begin(struct pt_regs *ctx, __u8 reason, bool parked, void *stacks)
{
	__u64 id = bpf_get_current_pid_tgid(), g = ctx->r14;
	struct go_wait w = { .ts = bpf_ktime_get_ns(), .pid = id >> 32, .tid = (__u32)id, .reason = reason,
			     .parked = parked, .ustack = STACK_NONE, .arg = ctx->ax };

	w.exec = exec_gen(w.pid);
	w.labels = go_labels(w.pid, g);
	bpf_get_current_comm(&w.comm, sizeof(w.comm));
	if (cfg.user_stacks) {
		if (cfg.kt_enabled && kt_ready(w.pid, w.exec))
			w.ustack = kt_walk_stack(ctx, true, w.pid, w.exec, stacks);
		else
			w.ustack = stack_get(ctx, BPF_F_USER_STACK, stacks, STAT_USTACK_FAILED);
	}
	if (bpf_map_update_elem(&go_waits, &g, &w, BPF_ANY))
		stat_inc(STAT_MAP_FULL);
}

#endif
