/* Which futex waits are lock waits (glibc's pthread locks), for lockwait
 * and stat. A mutex waits with FUTEX_WAIT (or FUTEX_WAIT_BITSET when
 * timed) expecting 2 ("locked, with waiters"), or with FUTEX_LOCK_PI; an
 * rwlock waits with FUTEX_WAIT_BITSET expecting 3 (1 |
 * PTHREAD_RWLOCK_FUTEX_USED). A timed mutex and an rwlock reader can both
 * wait for 2: a locked mutex has its owner's tid 8 bytes after the futex
 * word, where an rwlock has a small phase counter. Condition variables and
 * semaphores wait for 0, pthread_join for a tid. */
#ifndef BPFPROF_FUTEX_BPF_H
#define BPFPROF_FUTEX_BPF_H

#include "lockwait.h"

#define NR_futex 202
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_LOCK_PI2 13
#define FUTEX_CMD_MASK 0x7f

#define FUTEX_NOT_A_WAIT (-2)   /* wakes, requeues */
#define FUTEX_OTHER_WAIT (-1)   /* a wait, not on a lock (by value alone) */

/* LOCK_USER_MUTEX or LOCK_USER_RWLOCK, or one of the two above. */
static __always_inline int futex_lock_kind(__u32 cmd, __u32 val, __u64 uaddr)
{
	__u32 owner = 0;

	if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2)
		return LOCK_USER_MUTEX;
	if (cmd == FUTEX_WAIT && val == 2)
		return LOCK_USER_MUTEX;
	if (cmd == FUTEX_WAIT_BITSET && val == 3)
		return LOCK_USER_RWLOCK;
	if (cmd == FUTEX_WAIT_BITSET && val == 2) {
		bpf_probe_read_user(&owner, sizeof(owner), (void *)(uaddr + 8));
		return owner > 3 ? LOCK_USER_MUTEX : LOCK_USER_RWLOCK;
	}
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return FUTEX_NOT_A_WAIT;
	return FUTEX_OTHER_WAIT;
}

#endif
