// SPDX-License-Identifier: GPL-2.0
/* oncpu: sample the stacks of running threads on a perf cpu-clock event.
 * Counts live in kernel maps; user space only reads them. The maps come in
 * two sets selected by `gen`, so the loader can read one interval's set while
 * the other fills (nothing lost, nothing counted twice between intervals). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "oncpu.h"
#include "filter.bpf.h"
#include "unwind.bpf.h"
#include "ktables.bpf.h"
#include "golabels.bpf.h"

const volatile bool include_idle = false;

#define PF_KTHREAD 0x00200000

/* Sizes (max_entries) are set by the loader at open time. */
struct stack_store stacks0 SEC(".maps"), stacks1 SEC(".maps");
COUNT_SET(struct oncpu_key, __u64)


static __always_inline __s32 get_stack(void *ctx, __u32 set, __u64 flags, __u32 fail_slot)
{
	return stack_get(ctx, flags, set ? (void *)&stacks1 : (void *)&stacks0, fail_slot);
}

/* --unwind tables: the user stack walked from the task's user registers. */
static __always_inline __s32 walk_user(struct bpf_perf_event_data *ctx, __u32 set, __u32 tgid, __u32 exec,
				       bool in_kernel)
{
	struct pt_regs regs;

	if (!kt_ready(tgid, exec))
		return get_stack(ctx, set, BPF_F_USER_STACK, STAT_USTACK_FAILED);
	if (in_kernel) {
		if (bpf_probe_read_kernel(&regs, sizeof(regs),
					  (void *)bpf_task_pt_regs(bpf_get_current_task_btf()))) {
			stat_inc(STAT_USTACK_FAILED);
			return STACK_LOST;
		}
	} else {
		__builtin_memcpy(&regs, &ctx->regs, sizeof(regs));
	}
	return kt_walk_stack(&regs, false, tgid, exec, set ? (void *)&stacks1 : (void *)&stacks0);
}


SEC("perf_event")
int oncpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id;
	struct task_struct *task;
	struct oncpu_key key = {};
	__u32 set = count_set();
	__u64 *val;
	bool in_kernel, kthread;

	if (pid == 0 && !include_idle)
		return 0;
	if (!target_match(tgid, pid))
		return 0;
	stat_inc(STAT_EVENTS);

	task = (struct task_struct *)bpf_get_current_task();
	kthread = BPF_CORE_READ(task, flags) & PF_KTHREAD;
	/* Kernel text lives in the upper half of the address space. */
	in_kernel = (long)PT_REGS_IP(&ctx->regs) < 0;

	key.pid = tgid;
	key.tid = pid;
	key.exec = exec_gen(tgid);
	/* Go: the goroutine's labels; g is in r14, in the sampled registers
	 * or (in the kernel) in those saved at its entry. */
	if (!kthread && bpf_map_lookup_elem(&go_procs, &tgid)) {
		__u64 g = 0;

		if (in_kernel)
			bpf_probe_read_kernel(&g, sizeof(g),
					      &((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()))->r14);
		else
			g = ctx->regs.r14;
		key.labels = go_labels(tgid, g);
	}
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.ustack = STACK_NONE;
	key.kstack = STACK_NONE;
	if (cfg.user_stacks && !kthread && pid != 0 && uw_wanted(tgid)) {
		/* --unwind dwarf: user space unwinds and counts. */
		struct uw_record *r = uw_begin(ctx, 0, tgid, pid,
					       (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()),
					       cfg.kernel_stacks && in_kernel);

		if (r) {
			__u64 one = 1;

			__builtin_memcpy(r->payload, &key, sizeof(key));
			__builtin_memcpy(r->payload + sizeof(key), &one, sizeof(one));
			if (uw_submit(r))
				return 0;
		}
		/* Did not fit: counted here, without its user stack. */
		key.ustack = STACK_LOST;
	} else if (cfg.user_stacks && !kthread && pid != 0 && cfg.kt_enabled) {
		key.ustack = walk_user(ctx, set, tgid, key.exec, in_kernel);
	} else if (cfg.user_stacks && !kthread && pid != 0)
		key.ustack = get_stack(ctx, set, BPF_F_USER_STACK, STAT_USTACK_FAILED);
	if (cfg.kernel_stacks && in_kernel)
		key.kstack = get_stack(ctx, set, 0, STAT_KSTACK_FAILED);

	/* One call site per map: helpers need a constant map pointer. */
	val = count_slot(set, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
