/* Every stack a program keeps, kernel or user, walked by the kernel
 * (bpf_get_stack) or by the unwind tables (ktables.bpf.h), goes to a map of
 * our own: a hash map keyed by a hash of the frames, an existing entry
 * compared in full, so a collision is counted, never merged, and never a
 * bucket lost as in the kernel's stack-trace maps (1-2% of the stacks of a
 * 400-stack profile were); memory comes as stacks do (no preallocation: the
 * two 16 MB stack-trace maps of oncpu cost 40 ms at every start). Ids from
 * STACK_STORE_BASE up. Include after filter.bpf.h. */
#ifndef BPFPROF_STACKS_BPF_H
#define BPFPROF_STACKS_BPF_H

#include "unwind.h"

#define STACK_FRAMES 127

/* A command's stacks; entries set by the loader (--max-stacks). */
struct stack_store {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stored_stack);
};

/* The stack being taken, per CPU (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stored_stack);
} stack_scratch SEC(".maps");

/* This CPU's n frames hashed (and zero-terminated). Global functions (here
 * and in ktables.bpf.h): the verifier checks each loop once, not on every
 * path that calls it. */
__noinline __u64 stack_hash(__u32 n)
{
	__u32 zero = 0;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	__u64 h = 0xcbf29ce484222325ULL;

	if (!st)
		return 0;
	for (int i = 0; i < STACK_FRAMES; i++) {
		if (i >= n) {
			st->ips[i] = 0; /* the terminator */
			break;
		}
		h = (h ^ st->ips[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* Whether old holds the same frames as this CPU's stack. */
__noinline int stack_same(const struct stored_stack *old)
{
	__u32 zero = 0;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);

	if (!st || !old)
		return 0;
	for (int i = 0; i < STACK_FRAMES; i++) {
		if (old->ips[i] != st->ips[i])
			return 0;
		if (!st->ips[i])
			break;
	}
	return 1;
}

/* This CPU's n frames into stacks: its id, or STACK_LOST (counted). */
static __always_inline __s32 stack_keep(__u32 n, void *stacks)
{
	__u32 zero = 0, id;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero), *old;
	__u64 h;
	int err; /* the helper returns long; the errno fits an int */

	if (!st)
		return STACK_LOST;
	h = stack_hash(n);
	id = STACK_STORE_BASE | (__u32)((h ^ (h >> 32)) & 0x1fffffff);
	old = bpf_map_lookup_elem(stacks, &id);
	if (old) {
		if (stack_same(old))
			return id;
		stat_inc(STAT_STACK_COLLISION);
		return STACK_LOST;
	}
	if ((err = bpf_map_update_elem(stacks, &id, st, BPF_NOEXIST)) && !bpf_map_lookup_elem(stacks, &id)) {
		stat_inc(err == -ENOMEM ? STAT_ALLOC_FAILED : STAT_MAP_FULL);
		return STACK_LOST;
	}
	return id;
}

/* The kernel's walk (flags: 0 for the kernel stack, BPF_F_USER_STACK for
 * the user stack by frame pointers) into stacks; STACK_LOST counted under
 * fail_slot when there is none. */
static __always_inline __s32 stack_get(void *ctx, __u64 flags, void *stacks, __u32 fail_slot)
{
	__u32 zero = 0;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	long len;

	if (!st)
		return STACK_LOST;
	len = bpf_get_stack(ctx, st->ips, sizeof(st->ips), flags);
	if (len <= 0) {
		stat_inc(fail_slot);
		return STACK_LOST;
	}
	return stack_keep((__u32)(len / sizeof(__u64)), stacks);
}

/* The same for the kernel stack of a task that is not running (a sleeping
 * one: its stack stays put until it runs). */
static __always_inline __s32 stack_get_task(struct task_struct *task, void *stacks, __u32 fail_slot)
{
	__u32 zero = 0;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	long len;

	if (!st)
		return STACK_LOST;
	len = bpf_get_task_stack(task, st->ips, sizeof(st->ips), 0);
	if (len <= 0) {
		stat_inc(fail_slot);
		return STACK_LOST;
	}
	return stack_keep((__u32)(len / sizeof(__u64)), stacks);
}

#endif
