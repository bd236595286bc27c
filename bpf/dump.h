/* dump: what the task iterator sends per thread (bpf/dump.bpf.c to
 * user/cmd/dump.c). Fixed-width only. */
#ifndef BPFPROF_DUMP_H
#define BPFPROF_DUMP_H

#include "common.h"

#define DUMP_KFRAMES 127
#define DUMP_NREGS 17            /* DWARF numbering, as struct uw_record's */

#define DUMP_F_KTHREAD 1         /* a kernel thread: no user stack */
#define DUMP_F_ON_CPU 2          /* running now: its saved registers are from its last kernel entry */
#define DUMP_F_EXITING 4         /* exiting (PF_EXITING) */
#define DUMP_F_NO_MM 8           /* no user memory (zombie, exited) */

struct dump_thread {
	__u32 pid, tid;
	__u32 state;             /* task->__state */
	__u32 exit_state;
	__u32 flags;             /* DUMP_F_* */
	__u32 nkips;
	__s64 syscall;           /* the system call it is in, or -1 */
	__u64 args[6];
	__u64 offcpu_ns;         /* since it last ran (0: on a CPU) */
	__u64 start_ns;          /* task->start_time, to tell a reused tid */
	__u64 regs[DUMP_NREGS];
	char comm[TASK_COMM_LEN];
	__u64 kips[DUMP_KFRAMES];
};

#endif
