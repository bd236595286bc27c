/* mallocstacks: shared between mallocstacks.bpf.c and user/mallocstacks.c. */
#ifndef BPFPROF_MALLOCSTACKS_H
#define BPFPROF_MALLOCSTACKS_H

#include "common.h"

/* Allocator entry points, passed to the entry program as the attach cookie. */
enum alloc_fn {
	FN_MALLOC = 0,        /* (size); also valloc, pvalloc */
	FN_CALLOC,            /* (nmemb, size) */
	FN_REALLOC,           /* (ptr, size) */
	FN_REALLOCARRAY,      /* (ptr, nmemb, size) */
	FN_MEMALIGN,          /* (align, size); also aligned_alloc */
	FN_POSIX_MEMALIGN,    /* (void **memptr, align, size) -> int */
	FN_GO_MALLOCGC,       /* Go runtime.mallocgc(size, ...): size in rax */
	FN_COUNT,
};

#define LN_TABLE_SIZE 256

/* Where allocations are attributed: process, stack, and the caller's
 * return address read at the allocator's entry. */
struct heap_key {
	__u32 pid;        /* every key begins with pid and exec (common.h) */
	__u32 exec;       /* execs of pid before the call (exec_gens) */
	__s32 ustack;
	__u32 pad;
	__u64 entry_ret;
	char comm[TASK_COMM_LEN];
};

struct heap_val {
	__s64 alloc_objects;
	__s64 alloc_bytes;
	__s64 inuse_objects;
	__s64 inuse_bytes;
};

/* A live allocation: its size, weight (sampling) and where it came from. */
struct heap_alloc {
	__u64 size;
	__u64 weight;
	struct heap_key key;
};

/* An allocator call in progress on a thread. */
struct heap_pending {
	__u64 size;
	__u64 old_ptr;       /* realloc */
	__u64 memptr;        /* posix_memalign */
	__u64 weight;        /* 0 = not sampled */
	__u64 entry_ip;      /* --unwind dwarf: the allocator's entry address */
	__u32 fn;
	__u32 pad;
	struct heap_key key;
};

/* --unwind dwarf: allocations go to user space with their stacks, and so do
 * frees of the allocations sent. In a live allocation's key, ustack is then
 * STACK_DWARF: its stack and totals are kept in user space. */
#define STACK_DWARF (-3)
enum { HEAP_REC_ALLOC = 0, HEAP_REC_FREE = 1 };

struct heap_uw_payload {
	struct heap_key key;
	__u64 size;
	__u64 weight;
	__u64 ptr;           /* 0: not tracked (alloc-only, Go, or NULL returned) */
	__u64 entry_ip;      /* the allocator's entry, when captured at its return */
};

/* A live allocation's key: the process and the pointer. Processes forked
 * from one parent (nginx workers, postgres backends) hand out the same
 * addresses; keyed by pointer alone they took each other's allocations. */
struct alloc_key {
	__u32 pid;
	__u32 pad;
	__u64 ptr;
};

struct heap_uw_free {
	__u32 type;          /* HEAP_REC_FREE */
	__u32 pid;
	__u64 ptr;
};

#endif
