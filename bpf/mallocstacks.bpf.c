// SPDX-License-Identifier: GPL-2.0
/* mallocstacks: allocations and live (leaked) memory by stack.
 * Entry probes on the allocator's functions record size and stack per
 * thread; return probes learn the pointer and account it; the free probe
 * takes the pointer's allocation back out. With alloc_only, only entry
 * probes run (no pointers, no frees). Every value is kept per stack in one
 * map, so in-use totals stay exact across intervals (the loader reports
 * alloc values per interval as differences). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "mallocstacks.h"
#include "filter.bpf.h"
#include "unwind.bpf.h"
#include "ktables.bpf.h"

const volatile bool alloc_only = false;
const volatile __u64 sample_bytes = 0;   /* 0 = every allocation */

/* -ln(u) * 1024 for u uniform in (0,1), filled by the loader: sampling
 * thresholds are exponential with mean sample_bytes, like Go's MemProfileRate. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LN_TABLE_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} ln_table SEC(".maps");

/* Kept while the run lasts (live allocations refer to them). */
struct stack_store stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, struct heap_key);
	__type(value, struct heap_val);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, struct alloc_key);   /* process, pointer */
	__type(value, struct heap_alloc);
} allocs SEC(".maps");

/* --unwind dwarf: frees whose record found the ring buffer full, applied
 * by user space at its next read (in-use stays exact); an entry goes when
 * its pointer is handed out again (user space then replaces the old one). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct alloc_key);
	__type(value, __u8);
} lost_frees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, __u32);              /* tid */
	__type(value, struct heap_pending);
} pending SEC(".maps");

/* Bytes left before the next sampled allocation, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sparse: memory on demand */
	__type(key, __u32);
	__type(value, __s64);
} sample_left SEC(".maps");

static __always_inline struct heap_val *heap_get(struct heap_key *key)
{
	struct heap_val zero = {};

	return lookup_or_init(&heap, key, &zero);
}

/* Weight of this allocation: 1 without sampling; with sampling, 0 when
 * not sampled, else the number of bytes it stands for divided by its size
 * (at least 1), so totals are unbiased estimates. */
static __always_inline __u64 sample_weight(__u32 tid, __u64 size)
{
	__s64 *left, init;
	__u32 idx, *ln;
	__u64 next;

	if (!sample_bytes)
		return 1;
	left = bpf_map_lookup_elem(&sample_left, &tid);
	if (!left) {
		init = 0;
		bpf_map_update_elem(&sample_left, &tid, &init, BPF_ANY);
		left = bpf_map_lookup_elem(&sample_left, &tid);
		if (!left)
			return 0;
	}
	*left -= size;
	if (*left > 0)
		return 0;
	idx = bpf_get_prandom_u32() % LN_TABLE_SIZE;
	ln = bpf_map_lookup_elem(&ln_table, &idx);
	next = ln ? (sample_bytes * *ln) >> 10 : sample_bytes;
	*left = next ? next : 1;
	return size >= sample_bytes ? 1 : (sample_bytes + size / 2) / (size ? size : 1);
}

static __always_inline void account_alloc(struct heap_key *key, __u64 size, __u64 weight, __u64 ptr);

/* --unwind dwarf: send the allocation with registers and stack (captured
 * at the allocator's entry, or at its return: then entry_ip names it);
 * remember tracked pointers so their frees are sent too. */
static __always_inline void send_alloc(void *ctx, struct heap_key *key, __u64 size, __u64 weight,
				       __u64 ptr, __u64 entry_ip)
{
	struct uw_record *r = uw_begin(ctx, HEAP_REC_ALLOC, key->pid, (__u32)bpf_get_current_pid_tgid(),
				       ctx, false);
	struct heap_uw_payload *pl;

	if (!r)
		goto lost;
	pl = (void *)r->payload;
	if (entry_ip)
		r->flags |= UW_F_RETURN_PC;
	__builtin_memcpy(&pl->key, key, sizeof(*key));
	pl->key.ustack = STACK_NONE;
	pl->key.entry_ret = 0;
	pl->size = size;
	pl->weight = weight;
	pl->ptr = ptr;
	pl->entry_ip = entry_ip;
	if (!uw_submit(r))
		goto lost;
	if (!ptr)
		return;
	struct heap_alloc a = { .size = size, .weight = weight, .key = *key };
	struct alloc_key ak = { .pid = key->pid, .ptr = ptr };

	a.key.ustack = STACK_DWARF;
	bpf_map_delete_elem(&lost_frees, &ak);
	if (bpf_map_update_elem(&allocs, &ak, &a, BPF_ANY))
		stat_inc(STAT_MAP_FULL);
	return;
lost:
	/* Did not fit: counted here (exactly, frees too), without its stack. */
	key->ustack = STACK_LOST;
	key->entry_ret = 0;
	account_alloc(key, size, weight, ptr);
}

static __always_inline void account_alloc(struct heap_key *key, __u64 size, __u64 weight, __u64 ptr)
{
	struct heap_val *v = heap_get(key);

	if (!v)
		return;
	__sync_fetch_and_add(&v->alloc_objects, weight);
	__sync_fetch_and_add(&v->alloc_bytes, size * weight);
	if (ptr) {
		struct heap_alloc a = { .size = size, .weight = weight, .key = *key };
		struct alloc_key ak = { .pid = key->pid, .ptr = ptr };

		if (bpf_map_update_elem(&allocs, &ak, &a, BPF_ANY)) {
			stat_inc(STAT_MAP_FULL); /* counted as allocated, never as in use */
			return;
		}
		__sync_fetch_and_add(&v->inuse_objects, weight);
		__sync_fetch_and_add(&v->inuse_bytes, size * weight);
	}
}

static __always_inline void account_free(__u64 ptr)
{
	struct alloc_key ak = { .pid = bpf_get_current_pid_tgid() >> 32, .ptr = ptr };
	struct heap_alloc *a;
	struct heap_val *v;

	if (!ptr)
		return; /* free(NULL) */
	a = bpf_map_lookup_elem(&allocs, &ak);
	if (!a)
		return; /* allocated before we attached, or not sampled */
	if (a->key.ustack == STACK_DWARF) {
		struct heap_uw_free fr = { .type = HEAP_REC_FREE, .pid = a->key.pid, .ptr = ptr };

		/* Ordered after the allocation's record (the pointer existed
		 * only once that was sent); lost only if the buffer is full. */
		__u8 one = 1;

		if (bpf_ringbuf_output(&uw_events, &fr, sizeof(fr), uw_wakeup_flag()) &&
		    bpf_map_update_elem(&lost_frees, &ak, &one, BPF_ANY))
			stat_inc(STAT_RINGBUF_FULL);
		bpf_map_delete_elem(&allocs, &ak);
		return;
	}
	v = bpf_map_lookup_elem(&heap, &a->key);
	if (v) {
		__sync_fetch_and_add(&v->inuse_objects, -(__s64)a->weight);
		__sync_fetch_and_add(&v->inuse_bytes, -(__s64)(a->size * a->weight));
	}
	bpf_map_delete_elem(&allocs, &ak);
}

SEC("uprobe")
int heap_enter(struct pt_regs *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	__u32 fn = bpf_get_attach_cookie(ctx);
	struct heap_pending p = { .fn = fn };
	__u64 size;

	if (!target_match(tgid, tid))
		return 0;
	/* An allocator function called by another one (glibc's reallocarray
	 * calls realloc): the outer call is the one that counts. */
	if (!alloc_only && bpf_map_lookup_elem(&pending, &tid))
		return 0;
	switch (fn) {
	case FN_CALLOC: size = PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx); break;
	case FN_REALLOC: p.old_ptr = PT_REGS_PARM1(ctx); size = PT_REGS_PARM2(ctx); break;
	case FN_REALLOCARRAY: p.old_ptr = PT_REGS_PARM1(ctx); size = PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx); break;
	case FN_MEMALIGN: size = PT_REGS_PARM2(ctx); break;
	case FN_POSIX_MEMALIGN: p.memptr = PT_REGS_PARM1(ctx); size = PT_REGS_PARM3(ctx); break;
	case FN_GO_MALLOCGC: size = ctx->ax; break; /* Go's register ABI */
	default: size = PT_REGS_PARM1(ctx);
	}
	p.size = size;
	p.weight = size ? sample_weight(tid, size) : 0;
	if (p.weight && uw_wanted(tgid)) {
		p.key.pid = tgid;
		p.key.exec = exec_gen(tgid);
		p.key.ustack = STACK_DWARF;
		bpf_get_current_comm(&p.key.comm, sizeof(p.key.comm));
		if (alloc_only || fn == FN_GO_MALLOCGC) {
			send_alloc(ctx, &p.key, size, p.weight, 0, 0);
			return 0;
		}
		p.entry_ip = PT_REGS_IP(ctx);
	} else if (p.weight) {
		p.key.pid = tgid;
		p.key.exec = exec_gen(tgid);
		if (cfg.kt_enabled && fn != FN_GO_MALLOCGC && kt_ready(tgid, p.key.exec)) {
			/* The allocator's entry row (CFA = rsp + 8) finds its
			 * caller: no [sp] read needed. Go has no tables. */
			p.key.ustack = kt_walk_stack(ctx, true, tgid, p.key.exec, &stacks);
		} else {
			p.key.ustack = stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
			/* At a function's first instruction the caller is not on the
			 * frame-pointer chain yet: its return address is at [sp]. */
			bpf_probe_read_user(&p.key.entry_ret, sizeof(p.key.entry_ret), (void *)PT_REGS_SP(ctx));
		}
		bpf_get_current_comm(&p.key.comm, sizeof(p.key.comm));
	}
	if (alloc_only || fn == FN_GO_MALLOCGC) {
		if (p.weight)
			account_alloc(&p.key, size, p.weight, 0);
		return 0;
	}
	/* realloc needs its return even when not sampled (it frees old_ptr). */
	if (p.weight || p.old_ptr)
		if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
			stat_inc(STAT_MAP_FULL);
	return 0;
}

SEC("uretprobe")
int heap_exit(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct heap_pending *p = bpf_map_lookup_elem(&pending, &tid);
	__u64 ret = PT_REGS_RC(ctx), ptr = ret;

	if (!p)
		return 0;
	if (p->fn != bpf_get_attach_cookie(ctx))
		return 0; /* the return of an inner call: wait for the outer one */
	if (p->fn == FN_POSIX_MEMALIGN) {
		ptr = 0;
		if ((int)ret == 0)
			bpf_probe_read_user(&ptr, sizeof(ptr), (void *)p->memptr);
	}
	if (p->fn == FN_REALLOC || p->fn == FN_REALLOCARRAY) {
		/* Success (or realloc(p, 0), which frees p and returns NULL)
		 * releases the old block; a failure leaves it allocated. */
		if (ptr || p->size == 0)
			account_free(p->old_ptr);
	}
	if (p->weight && p->key.ustack == STACK_DWARF) {
		/* As below: only allocations that succeeded count. */
		if (ptr)
			send_alloc(ctx, &p->key, p->size, p->weight, ptr, p->entry_ip);
	} else if (ptr && p->weight) {
		account_alloc(&p->key, p->size, p->weight, ptr);
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

SEC("uprobe")
int heap_free(struct pt_regs *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();

	if (!target_match(pt >> 32, (__u32)pt))
		return 0;
	account_free(PT_REGS_PARM1(ctx));
	return 0;
}

/* Threads that exit mid-call leave no pending state behind. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(heap_thread_exit, struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&pending, &tid);
	bpf_map_delete_elem(&sample_left, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
