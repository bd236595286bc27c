/* Types shared by every BPF program and its loader: fixed-width only. */
#ifndef BPFPROF_COMMON_H
#define BPFPROF_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_LEN 16

/* Counters of things lost or degraded in the kernel, one slot each in the
 * per-CPU "stats" array of every program. The loader sums them over CPUs and
 * shows them in every output: nothing is lost silently. */
/* Stack ids in aggregation keys: >= 0 a stack map id, or one of these. */
#define STACK_NONE (-1) /* no such stack: kernel thread, user-mode sample, -U/-K */
#define STACK_LOST (-2) /* the walk failed or its map bucket was taken: counted */

enum stat_slot {
	STAT_EVENTS = 0,        /* events that passed the filters */
	STAT_USTACK_FAILED,     /* a user task whose user stack could not be walked */
	STAT_KSTACK_FAILED,     /* kernel context whose kernel stack could not be walked */
	STAT_STACK_COLLISION,   /* stack map bucket taken by another stack (-EEXIST) */
	STAT_MAP_FULL,          /* aggregation map full: the event was dropped */
	STAT_RINGBUF_FULL,      /* --unwind dwarf: a record found the ring buffer full */
	STAT_CHILD_LOST,        /* -- CMD: a child process the target map had no room for */
	STAT_UNWIND_UNSUPPORTED,/* --unwind tables: a rule the table cannot express ended a walk */
	STAT_UNWIND_READ,       /* --unwind tables: the stack could not be read where a rule said */
	STAT_UNWIND_DEPTH,      /* --unwind tables: a stack deeper than 127 frames, truncated */
	STAT_UNWIND_NO_TABLE,   /* --unwind tables: a process whose tables were not loaded yet (frame pointers) */
	STAT_ALLOC_FAILED,      /* a map without preallocation had no memory at hand (-ENOMEM: an NMI
				 * or a section with interrupts off while its per-CPU cache refills) */
	STAT_NSLOTS,
};

/* Every aggregation key begins with these two: the process, and how many
 * times it exec'd while profiled (which program image its addresses are
 * in), so shared code can read them from any command's key. */
struct key_head {
	__u32 pid;
	__u32 exec;
};

/* What every program is told before it loads: one read-only struct `cfg`
 * (filter.bpf.h), set by the loader between open and load (cmd_prepare in
 * user/core/cmdbase.c). A program's own knobs stay its own rodata. */
struct prog_cfg {
	/* the target filter */
	_Bool pid, tid, cgroup;   /* filter by target_pids / target_tids / cgroup */
	_Bool follow_children;    /* -- CMD: its child processes are targets */
	__u32 root_child;         /* -- CMD's own pid: never removed */
	char follow_comm[TASK_COMM_LEN]; /* --follow NAME: a process that execs it is a target */
	__u64 cgroup_id;          /* --cgroup: the directory's id (its inode), for tasks other than current */
	/* stacks */
	_Bool user_stacks, kernel_stacks; /* not -K / not -U */
	_Bool kt_enabled;         /* --unwind tables: user stacks walked with .eh_frame tables */
	__u32 uw_stack_bytes;     /* --unwind dwarf|auto: user stack bytes copied (0: off) */
};

#endif
