// SPDX-License-Identifier: GPL-2.0
/* dump: every thread of a process at this moment, without stopping it. A
 * task iterator visits each thread and sends its state, how long it has
 * been off the CPU, the system call it is in, its saved user registers
 * and its kernel stack; user space reads the top of each user stack
 * (process_vm_readv) and unwinds it with the DWARF unwinder. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dump.h"
#include "task.bpf.h"

/* Set by user space before each read of the iterator: the process. */
__u32 target_tgid;
__u64 stats[2];                  /* [0] threads sent, [1] kernel stacks not read */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dump_thread);
} scratch SEC(".maps");


/* A task's runqueue, through its scheduling entity (group scheduling, on
 * by default: `runqueues` itself is not in every kernel's kallsyms). */
static __always_inline struct rq *task_rq_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, se.cfs_rq, rq);
}

/* Nanoseconds since t last ran. A task's se.exec_start is its runqueue's
 * clock_task when it was last accounted running, i.e. when it left the
 * CPU; clock_task is clock less irq (and steal) time, which differs per
 * CPU, so it is brought to that CPU's clock first (the two are updated
 * together, so their difference is current even on an idle CPU). "Now"
 * is our own CPU's clock: we are running, so it is at most a tick old. */
static __always_inline __u64 offcpu_ns(struct task_struct *t)
{
	struct rq *theirs = task_rq_of(t), *mine = task_rq_of(bpf_get_current_task_btf());
	__u64 left, now;

	if (!mine || !theirs)
		return 0;
	left = BPF_CORE_READ(t, se.exec_start) + BPF_CORE_READ(theirs, clock) -
	       BPF_CORE_READ(theirs, clock_task);
	now = BPF_CORE_READ(mine, clock);
	return now > left ? now - left : 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct dump_thread *d;
	struct pt_regs *regs;
	__u32 zero = 0, pf;
	long n;

	if (!task || task->tgid != target_tgid)
		return 0;
	d = bpf_map_lookup_elem(&scratch, &zero);
	if (!d)
		return 0;
	d->pid = task->tgid;
	d->tid = task->pid;
	d->state = task_state_of(task);
	d->exit_state = task->exit_state;
	d->start_ns = task->start_time;
	pf = task->flags;
	d->flags = 0;
	if (pf & 0x00200000) /* PF_KTHREAD */
		d->flags |= DUMP_F_KTHREAD;
	if (pf & 0x00000004) /* PF_EXITING */
		d->flags |= DUMP_F_EXITING;
	if (!task->mm)
		d->flags |= DUMP_F_NO_MM;
	if (task->on_cpu) {
		d->flags |= DUMP_F_ON_CPU;
		d->offcpu_ns = 0;
	} else {
		d->offcpu_ns = offcpu_ns(task);
	}
	bpf_probe_read_kernel_str(d->comm, sizeof(d->comm), task->comm);

	d->syscall = -1;
	__builtin_memset(d->regs, 0, sizeof(d->regs));
	__builtin_memset(d->args, 0, sizeof(d->args));
	if (!(d->flags & (DUMP_F_KTHREAD | DUMP_F_NO_MM))) {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		if (regs) {
			/* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
			d->regs[0] = BPF_CORE_READ(regs, ax);
			d->regs[1] = BPF_CORE_READ(regs, dx);
			d->regs[2] = BPF_CORE_READ(regs, cx);
			d->regs[3] = BPF_CORE_READ(regs, bx);
			d->regs[4] = BPF_CORE_READ(regs, si);
			d->regs[5] = BPF_CORE_READ(regs, di);
			d->regs[6] = BPF_CORE_READ(regs, bp);
			d->regs[7] = BPF_CORE_READ(regs, sp);
			d->regs[8] = BPF_CORE_READ(regs, r8);
			d->regs[9] = BPF_CORE_READ(regs, r9);
			d->regs[10] = BPF_CORE_READ(regs, r10);
			d->regs[11] = BPF_CORE_READ(regs, r11);
			d->regs[12] = BPF_CORE_READ(regs, r12);
			d->regs[13] = BPF_CORE_READ(regs, r13);
			d->regs[14] = BPF_CORE_READ(regs, r14);
			d->regs[15] = BPF_CORE_READ(regs, r15);
			d->regs[16] = BPF_CORE_READ(regs, ip);
			/* In a system call, orig_ax is its number (an interrupt
			 * or exception leaves a negative value). */
			long nr = BPF_CORE_READ(regs, orig_ax);
			if (nr >= 0 && !(d->flags & DUMP_F_ON_CPU)) {
				d->syscall = nr;
				d->args[0] = d->regs[5];
				d->args[1] = d->regs[4];
				d->args[2] = d->regs[1];
				d->args[3] = d->regs[10];
				d->args[4] = d->regs[8];
				d->args[5] = d->regs[9];
			}
		}
	}
	n = bpf_get_task_stack(task, d->kips, sizeof(d->kips), 0);
	if (n < 0) {
		__sync_fetch_and_add(&stats[1], 1);
		n = 0;
	}
	d->nkips = n / 8;
	__sync_fetch_and_add(&stats[0], 1);
	bpf_seq_write(seq, d, sizeof(*d));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
