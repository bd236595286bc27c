// SPDX-License-Identifier: GPL-2.0
/* trace: one generic program per probe type runs any one-liner of the
 * supported subset. The attach cookie names the attachment; the loader's
 * tables (blocks, stmts, keyspecs) say which predicate and statements run
 * and where each key part and value comes from. Map entries of every @map
 * share one hash map, keyed by map id and key bytes. */
#include "vmlinux.h"

/* x86-64 user registers in the kernel's stable layout (uapi asm/ptrace.h).
 * Our own type, not vmlinux.h's, also for libbpf's PT_REGS_*() (usdt.bpf.h
 * uses them): with no CO-RE relocation in this object, libbpf never loads
 * the kernel's BTF (about 10 MB of memory, most of trace's footprint). */
struct tr_regs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
	      flags, sp, ss;
};

#define __PT_REGS_CAST(x) ((const struct tr_regs *)(x))
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "trace.h"
#define FILTER_NO_FOLLOW
#include "filter.bpf.h"
#include "ktables.bpf.h"

volatile __u32 exit_requested = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);            /* attachments; sized by the loader */
	__type(key, __u32);
	__type(value, __u32);              /* block index */
} attach_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_MAX_BLOCKS);
	__type(key, __u32);
	__type(value, struct tr_block);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_MAX_STMTS);
	__type(key, __u32);
	__type(value, struct tr_stmt);
} stmts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_MAX_KEYSPECS);
	__type(key, __u32);
	__type(value, struct tr_keyspec);
} keyspecs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);         /* sized by the loader */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tr_key);
	__type(value, struct tr_val);
} data SEC(".maps");

struct stack_store stacks SEC(".maps");

/* Subprograms are global: verified once each, not once per call path
 * (static ones multiplied the paths past the verifier's limit). The tags
 * tell the verifier what the pointer arguments are. */
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))

/* The registers a program reads (arguments, return value, ip): copied
 * from the context, not the whole struct (the nested calls' stacks, ustack
 * walked with unwind tables among them, must fit in 512 bytes). */
struct ev_regs {
	__u64 di, si, dx, cx, r8, r9, ax, ip;
};

static __always_inline void copy_regs(struct ev_regs *e, const struct tr_regs *r)
{
	e->di = r->di;
	e->si = r->si;
	e->dx = r->dx;
	e->cx = r->cx;
	e->r8 = r->r8;
	e->r9 = r->r9;
	e->ax = r->ax;
	e->ip = r->ip;
}

/* What one event offers: registers (copied), the program's context, and
 * which attachment fired. */
struct event {
	struct ev_regs regs;
	void *ctx;
	__u32 kind;
	__u32 attach;
	__s32 ustack;   /* TR_BLOCK_USTACK: the user stack's id */
	__u32 pad;
};

__noinline int simple_value(void *ctx __arg_ctx, struct event *ev __arg_nonnull,
			 const struct tr_src_spec *s __arg_nonnull, __s64 *out __arg_nonnull);

/* ustack: with cfg.kt_enabled, walked with the unwind tables from the
 * task's user registers (saved at kernel entry; at a uprobe, the probe's);
 * else, and while a process's tables load (counted), by the kernel's
 * frame-pointer walker. Trace does not count execs: image 0 throughout,
 * as its symbolizer. No field of a kernel type is read (no CO-RE: trace
 * never loads the kernel's BTF). */
__noinline int user_stack(void *ctx __arg_ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 ip = 0, sp = 0, bp = 0;
	/* Three words, not the whole struct: the calls' stacks add up. */
	const struct tr_regs *r;

	if (cfg.kt_enabled) {
		r = (const struct tr_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		if (!bpf_probe_read_kernel(&ip, sizeof(ip), &r->ip) &&
		    !bpf_probe_read_kernel(&sp, sizeof(sp), &r->sp) &&
		    !bpf_probe_read_kernel(&bp, sizeof(bp), &r->bp) && ip && kt_ready(tgid, 0))
			return kt_walk(ip, sp, bp, false, tgid, 0, &stacks);
	}
	return stack_get(ctx, BPF_F_USER_STACK, &stacks, STAT_USTACK_FAILED);
}

__noinline int build_key(void *ctx __arg_ctx, struct event *ev __arg_nonnull, __u32 ks_idx,
			struct tr_key *k __arg_nonnull)
{
	struct tr_keyspec *ks = bpf_map_lookup_elem(&keyspecs, &ks_idx);
	__u32 off = 0;

	if (!ks)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	k->map_id = ks->map_id;
	for (int i = 0; i < TR_MAX_PARTS; i++) {
		const struct tr_src_spec *p = &ks->parts[i];
		__s64 v = 0;

		if (i >= ks->nparts)
			break;
		if (off > TR_KEY_BYTES - 16)
			return -1;
		switch (p->kind) {
		case SRC_COMM:
			bpf_get_current_comm(&k->data[off], TASK_COMM_LEN);
			off += TASK_COMM_LEN;
			continue;
		case SRC_USTACK:
			v = ev->ustack;
			break;
		case SRC_KSTACK:
			v = stack_get(ctx, 0, &stacks, STAT_KSTACK_FAILED);
			break;
		default:
			simple_value(ctx, ev, p, &v);
		}
		__builtin_memcpy(&k->data[off], &v, sizeof(v));
		off += sizeof(v);
	}
	return off;
}

/* Every source but map values (keys never hold those: no recursion). */
__noinline int simple_value(void *ctx __arg_ctx, struct event *ev __arg_nonnull,
			 const struct tr_src_spec *s __arg_nonnull, __s64 *out __arg_nonnull)
{
	__u64 v = 0;

	switch (s->kind) {
	case SRC_CONST: v = s->imm; break;
	case SRC_ARG:
		if (ev->kind == TK_USDT) {
			long a = 0;

			if (bpf_usdt_arg(ctx, s->arg, &a))
				return false;
			v = a;
			break;
		}
		switch (s->arg) { /* the SysV calling convention */
		case 0: v = ev->regs.di; break;
		case 1: v = ev->regs.si; break;
		case 2: v = ev->regs.dx; break;
		case 3: v = ev->regs.cx; break;
		case 4: v = ev->regs.r8; break;
		default: v = ev->regs.r9; break;
		}
		break;
	case SRC_RETVAL: v = ev->regs.ax; break;
	case SRC_FIELD: {
		__u8 size = s->size > 8 ? 8 : s->size;

		if (bpf_probe_read_kernel(&v, size & 15, (void *)((unsigned long)ctx + s->off)))
			return false;
		if (s->is_signed && size < 8) {
			int shift = 64 - size * 8;

			v = (__u64)(((__s64)(v << shift)) >> shift);
		}
		break;
	}
	case SRC_NSECS: v = bpf_ktime_get_ns(); break;
	case SRC_PID: v = bpf_get_current_pid_tgid() >> 32; break;
	case SRC_TID: v = (__u32)bpf_get_current_pid_tgid(); break;
	case SRC_CPU: v = bpf_get_smp_processor_id(); break;
	case SRC_UID: v = (__u32)bpf_get_current_uid_gid(); break;
	case SRC_CGROUP: v = bpf_get_current_cgroup_id(); break;
	case SRC_PROBE: v = ev->attach; break;
	case SRC_IP: v = ev->regs.ip; break;
	default:
		return false;
	}
	*out = v;
	return true;
}

/* A value: a simple source, or a value stored in a map entry. */
__noinline int src_value(void *ctx __arg_ctx, struct event *ev __arg_nonnull,
		      const struct tr_src_spec *s __arg_nonnull, __s64 *out __arg_nonnull)
{
	struct tr_key k;
	struct tr_val *val;

	if (s->kind != SRC_MAP && s->kind != SRC_NSECS_SINCE)
		return simple_value(ctx, ev, s, out);
	if (build_key(ctx, ev, s->keyspec, &k) < 0)
		return false;
	val = bpf_map_lookup_elem(&data, &k);
	if (!val)
		return false;
	*out = s->kind == SRC_MAP ? val->sum : (__s64)(bpf_ktime_get_ns() - val->sum);
	return true;
}

static __always_inline __u64 log2_bucket(__s64 v)
{
	__u64 x = v, r = 0;

	/* bpftrace's hist: (..., 0) is 0, [0] is 1, [1] is 2, [2, 4) is 3 ... */
	if (v < 0)
		return 0;
	if (v == 0)
		return 1;
	if (x >> 32) { x >>= 32; r += 32; }
	if (x >> 16) { x >>= 16; r += 16; }
	if (x >> 8) { x >>= 8; r += 8; }
	if (x >> 4) { x >>= 4; r += 4; }
	if (x >> 2) { x >>= 2; r += 2; }
	if (x >> 1) r += 1;
	return r + 2;
}

__noinline int exec_stmt(void *ctx __arg_ctx, struct event *ev __arg_nonnull, __u32 idx)
{
	struct tr_stmt *st = bpf_map_lookup_elem(&stmts, &idx);
	struct tr_val zero = {}, *val;
	struct tr_key k;
	__s64 v = 1;
	int off;

	if (!st)
		return 0;
	if (st->action == ACT_EXIT) {
		exit_requested = 1;
		return 0;
	}
	if (st->action != ACT_DELETE && st->val.kind != SRC_NONE && !src_value(ctx, ev, &st->val, &v))
		return 0; /* e.g. nsecs - @start[tid] without a start */
	off = build_key(ctx, ev, st->keyspec, &k);
	if (off < 0)
		return 0;
	if (st->action == ACT_DELETE) {
		bpf_map_delete_elem(&data, &k);
		return 0;
	}
	if (st->action == ACT_ASSIGN) {
		struct tr_val nv = { .count = 1, .sum = v };

		if (bpf_map_update_elem(&data, &k, &nv, BPF_ANY))
			stat_inc(STAT_MAP_FULL);
		return 0;
	}
	if (st->agg == AGG_HIST || st->agg == AGG_LHIST) {
		__u64 b;

		if (st->agg == AGG_HIST)
			b = log2_bucket(v);
		else if (v < st->lo)
			b = 0;
		else if (v >= st->hi)
			b = (__u64)(st->hi - st->lo) / (__u64)(st->step > 0 ? st->step : 1) + 1;
		else
			b = (__u64)(v - st->lo) / (__u64)(st->step > 0 ? st->step : 1) + 1;
		__u32 o = (__u32)off;

		asm volatile("" : "+r"(o));
		if (o > TR_KEY_BYTES - 8)
			return 0;
		__builtin_memcpy(&k.data[o], &b, sizeof(b));
	}
	val = lookup_or_init(&data, &k, &zero);
	if (!val)
		return 0;
	if (__sync_fetch_and_add(&val->count, 1) == 0) {
		val->min = v;
		val->max = v;
	} else {
		if (v < val->min)
			val->min = v; /* racy across CPUs, as bpftrace's */
		if (v > val->max)
			val->max = v;
	}
	if (st->agg == AGG_SUM || st->agg == AGG_AVG || st->agg == AGG_STATS)
		__sync_fetch_and_add(&val->sum, v);
	return 0;
}

__noinline int predicate(void *ctx __arg_ctx, struct event *ev __arg_nonnull, struct tr_block *b __arg_nonnull)
{
	bool result = false, group = true;

	for (int i = 0; i < TR_MAX_CONDS; i++) {
		struct tr_cond *c = &b->conds[i];
		__s64 v = 0;
		bool r;

		if (i >= b->nconds)
			break;
		if (c->lhs.kind == SRC_COMM) {
			char comm[TASK_COMM_LEN];
			bool same = true;

			bpf_get_current_comm(comm, sizeof(comm));
			for (int j = 0; j < TASK_COMM_LEN; j++) {
				if (comm[j] != c->str[j]) {
					same = false;
					break;
				}
				if (!comm[j])
					break;
			}
			r = c->op == CMP_NE ? !same : same;
		} else {
			bool ok = src_value(ctx, ev, &c->lhs, &v);

			switch (c->op) {
			case CMP_EQ: r = v == c->rhs; break;
			case CMP_NE: r = v != c->rhs; break;
			case CMP_LT: r = v < c->rhs; break;
			case CMP_LE: r = v <= c->rhs; break;
			case CMP_GT: r = v > c->rhs; break;
			case CMP_GE: r = v >= c->rhs; break;
			default: r = ok && v != 0; break;
			}
		}
		group = group && r;
		if (c->or_next || i + 1 >= b->nconds) {
			result = result || group;
			group = true;
		}
	}
	return b->nconds ? result : true;
}

static __always_inline int run(void *ctx, struct event *ev)
{
	__u32 *bi = bpf_map_lookup_elem(&attach_block, &ev->attach);
	__u64 id = bpf_get_current_pid_tgid();
	struct tr_block *b;

	if (!bi || !target_match(id >> 32, (__u32)id)) /* -p */
		return 0;
	b = bpf_map_lookup_elem(&blocks, bi);
	if (!b)
		return 0;
	stat_inc(STAT_EVENTS);
	ev->ustack = STACK_LOST;
	if (b->flags & TR_BLOCK_USTACK_COND)
		ev->ustack = user_stack(ctx);
	if (!predicate(ctx, ev, b))
		return 0;
	if ((b->flags & TR_BLOCK_USTACK) && !(b->flags & TR_BLOCK_USTACK_COND))
		ev->ustack = user_stack(ctx);
	for (int i = 0; i < TR_MAX_BLOCK_STMTS; i++) {
		if (i >= b->nstmts)
			break;
		exec_stmt(ctx, ev, b->first_stmt + i);
	}
	return 0;
}

SEC("perf_event")
int tr_perf(struct bpf_perf_event_data *ctx)
{
	struct event ev = { .kind = TK_PERF, .attach = bpf_get_attach_cookie(ctx) };

	copy_regs(&ev.regs, (const struct tr_regs *)&ctx->regs); /* bpf_perf_event_data's first member */
	return run(ctx, &ev);
}

SEC("tracepoint")
int tr_tracepoint(void *ctx)
{
	struct event ev = { .kind = TK_TRACEPOINT, .attach = bpf_get_attach_cookie(ctx) };

	return run(ctx, &ev);
}

SEC("uprobe")
int tr_uprobe(struct pt_regs *ctx)
{
	struct event ev = { .kind = TK_UPROBE, .attach = bpf_get_attach_cookie(ctx) };

	copy_regs(&ev.regs, (const struct tr_regs *)ctx);
	return run(ctx, &ev);
}

SEC("uretprobe")
int tr_uretprobe(struct pt_regs *ctx)
{
	struct event ev = { .kind = TK_URETPROBE, .attach = bpf_get_attach_cookie(ctx) };

	copy_regs(&ev.regs, (const struct tr_regs *)ctx);
	return run(ctx, &ev);
}

SEC("usdt")
int tr_usdt(struct pt_regs *ctx)
{
	struct event ev = { .kind = TK_USDT, .attach = bpf_usdt_cookie(ctx) };

	copy_regs(&ev.regs, (const struct tr_regs *)ctx);
	return run(ctx, &ev);
}

char LICENSE[] SEC("license") = "GPL";
