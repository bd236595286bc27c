/* lockwait: shared between lockwait.bpf.c and user/lockwait.c. */
#ifndef BPFPROF_LOCKWAIT_H
#define BPFPROF_LOCKWAIT_H

#include "common.h"

enum lock_kind {
	LOCK_USER_MUTEX = 0,    /* pthread mutex (futex wait, value 2, or PI lock) */
	LOCK_USER_RWLOCK = 1,   /* pthread rwlock (futex wait-bitset, value 3) */
	LOCK_GO_MUTEX = 2,      /* Go sync.Mutex / RWMutex (count only) */
	LOCK_KERNEL = 3,        /* kernel lock; flags say which kind */
	LOCK_USER_SEM = 4,      /* POSIX semaphore (sem_wait's futex wait, value 0) */
};

/* Futex waits of target threads that are not lock waits, not counted as
 * contention but counted here (the per-CPU "skipped" array), so the output
 * can say what it left out. */
enum lock_skip {
	SKIP_VALUE0 = 0,        /* expected 0: condition variables (or a semaphore not seen entering sem_wait) */
	SKIP_OTHER = 1,         /* any other value: pthread_join, custom futex users */
	SKIP_NSLOTS,
};

/* lock:contention_begin flags (include/trace/events/lock.h) */
#define LCB_F_SPIN   (1U << 0)
#define LCB_F_READ   (1U << 1)
#define LCB_F_WRITE  (1U << 2)
#define LCB_F_RT     (1U << 3)
#define LCB_F_PERCPU (1U << 4)
#define LCB_F_MUTEX  (1U << 5)

struct lock_start {
	__u64 ts;
	__u64 lock;
	__s32 ustack;
	__s32 kstack;
	__u32 pid;
	__u32 flags;
	__u8 kind;
	__u8 pad[7];
};

struct lock_key {
	__u32 pid;        /* every key begins with pid and exec (common.h) */
	__u32 exec;       /* execs of pid before the wait (exec_gens) */
	__u32 tid;
	__s32 ustack;
	__s32 kstack;
	__u32 flags;
	__u64 lock;       /* with --by-lock, else 0 */
	__u64 entry_ret;  /* entry probes: the caller's return address ([sp]) */
	__u8 kind;
	__u8 pad[7];
	char comm[TASK_COMM_LEN];
};

struct lock_val {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
};

/* --unwind dwarf: a record's payload (bpf/unwind.h). */
struct lock_uw_payload {
	struct lock_key key;
	struct lock_val val;
};

#endif
