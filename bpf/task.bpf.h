/* A task's state for the programs that read it (dump, offcpu, stat,
 * timeline): task->__state, ->state before 5.14 (CO-RE picks). */
#ifndef BPFPROF_TASK_BPF_H
#define BPFPROF_TASK_BPF_H

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___old *)t, state);
}

#endif
