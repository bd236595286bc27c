/* --unwind tables (#15): user stacks walked in the kernel with compact rows
 * built from each file's .eh_frame (user/symbols/unwind_table.c), loaded by
 * user/core/ktables.c: per file an array of rows (a hash of maps, one inner
 * array sized to each table), per process its executable mappings that have
 * a table. Code with no row (Go, JIT code, gaps) is stepped by frame
 * pointer. Walked stacks are kept with the others (stacks.bpf.h).
 * Include after filter.bpf.h. */
#ifndef BPFPROF_KTABLES_BPF_H
#define BPFPROF_KTABLES_BPF_H

#include "unwind.h"
#include "stacks.bpf.h"

#define KT_ROW_SEARCH 24     /* binary search steps: tables up to 16M rows */

struct kt_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP); /* each inner array has its own size */
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));       /* sizes, not types: older libbpf */
	__uint(value_size, sizeof(struct ut_row)); /* cannot size an inner map's typed value */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4096);
	__type(key, __u32);                 /* file id (user/core/ktables.c) */
	__array(values, struct kt_rows);
} kt_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);                 /* tgid */
	__type(value, struct kt_proc);
} kt_procs SEC(".maps");

/* Processes walked before their tables were loaded, for user space to load
 * them at its next turn (100 ms) rather than its next scan (1 s); each
 * (process, image) asked once. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1024);
	__type(value, __u32);
} kt_wanted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);                 /* tgid */
	__type(value, __u32);               /* exec + 1 asked for */
} kt_asked SEC(".maps");

/* Processes walked into code their tables lack (a library dlopen()ed
 * since, or a table evicted): asked for again at most every 20 ms. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);                 /* tgid */
	__type(value, __u64);               /* when last asked (ns) */
} kt_asked_code SEC(".maps");

struct kt_walk {
	__u64 pc, sp, bp;
	__u32 tgid, exec;
	__u32 n;
	bool exact;                         /* pc is not a return address */
	bool entry;                         /* pc is a function's first instruction */
	bool done;
	bool unknown;                       /* a pc in no mapping the tables know */
};

/* The index of tgid's mapping that holds pc, or -1. Global functions (here
 * and below): the verifier checks each loop once, not on every path that
 * calls it (attach went from 0.85 s to about 0.15 s). */
__noinline int kt_find_map(__u32 tgid, __u32 exec, __u64 pc)
{
	const struct kt_proc *p = bpf_map_lookup_elem(&kt_procs, &tgid);
	__u32 lo = 0, hi;

	if (!p || p->exec != exec) /* mappings of the program before an exec */
		return -1;
	hi = p->n < KT_MAX_MAPS ? p->n : KT_MAX_MAPS;
	for (int i = 0; i < KT_MAP_SEARCH && lo < hi; i++) {
		__u32 mid = (lo + hi) / 2;

		if (mid >= KT_MAX_MAPS)
			return -1;
		if (p->maps[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || lo > KT_MAX_MAPS || pc >= p->maps[lo - 1].end)
		return -1;
	return (int)(lo - 1);
}

/* The index of the row of file `file` (nrows rows) covering table pc tpc,
 * or -1. */
__noinline int kt_find_row(__u32 file, __u32 nrows, __u64 tpc)
{
	void *rows = bpf_map_lookup_elem(&kt_files, &file);
	__u32 lo = 0, hi = nrows;

	if (!rows)
		return -1;
	for (int i = 0; i < KT_ROW_SEARCH && lo < hi; i++) {
		__u32 mid = (lo + hi) / 2;
		const struct ut_row *r = bpf_map_lookup_elem(rows, &mid);

		if (!r)
			return -1;
		if (r->pc <= tpc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || lo < hi)
		return -1;
	return (int)(lo - 1);
}

static __always_inline bool kt_read(__u64 addr, __u64 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (void *)addr) == 0;
}

/* One frame: record pc, then find the caller. bpf_loop callback. */
static long kt_step(__u32 i, void *data)
{
	struct kt_walk *w = data;
	__u32 zero = 0;
	struct stored_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	const struct kt_proc *proc;
	const struct kt_map *m;
	const struct ut_row *row = NULL;
	__u64 lpc, cfa, ra, nbp;

	if (!st || !w->pc)
		return 1;
	if (w->n >= STACK_FRAMES) {
		stat_inc(STAT_UNWIND_DEPTH);
		return 1;
	}
	/* A return address may be one past its call's function. */
	lpc = w->exact ? w->pc : w->pc - 1;
	w->exact = false;
	{
		int mi = kt_find_map(w->tgid, w->exec, lpc);

		proc = mi >= 0 ? bpf_map_lookup_elem(&kt_procs, &w->tgid) : NULL;
		/* The mask keeps the verifier sure of the bound (a power of two). */
		m = proc ? &proc->maps[(__u32)mi & (KT_MAX_MAPS - 1)] : NULL;
	}
	if (!m) {
		/* Code mapped after the tables were loaded (counted; loaded at
		 * the next turn). A caller there was found by frame pointer
		 * from code that may not keep one: likely not a return
		 * address at all, so the walk ends before it. */
		w->unknown = true;
		if (w->n)
			return 1;
	}
	{
		__u32 n = w->n; /* bounded again here: the verifier lost it through w */

		if (n >= STACK_FRAMES)
			return 1;
		st->ips[n] = w->pc;
		w->n = n + 1;
	}
	if (m && m->nrows) {
		__u32 file = m->file;
		int idx = kt_find_row(file, m->nrows, lpc - m->bias);
		void *rows = idx >= 0 ? bpf_map_lookup_elem(&kt_files, &file) : NULL;

		if (rows) {
			__u32 key = idx;

			row = bpf_map_lookup_elem(rows, &key);
		} else if (idx < 0 && !bpf_map_lookup_elem(&kt_files, &file)) {
			w->unknown = true; /* its table was evicted (--table-memory) */
		}
	}
	if (!row && w->entry) {
		/* An entry probe in code with no table yet (a library mapped
		 * since): the return address is at [sp] (CFA = rsp + 8). */
		w->entry = false;
		if (!kt_read(w->sp, &ra))
			return 1;
		w->sp += 8;
		w->pc = ra;
		return 0;
	}
	w->entry = false;
	if (m && w->n == 1 && (!row || row->kind == UT_GAP)) {
		/* A leaf in known code without a rule: an assembly stub (clone3
		 * after its syscall, outside any FDE) that pushed nothing, or code
		 * that keeps a frame pointer. Its frame pointer's return address
		 * if that lands in a mapping, else the one at [sp]. */
		__u64 ra0;

		if ((!w->bp || !kt_read(w->bp + 8, &ra) || kt_find_map(w->tgid, w->exec, ra - 1) < 0) &&
		    kt_read(w->sp, &ra0) && kt_find_map(w->tgid, w->exec, ra0 - 1) >= 0) {
			w->sp += 8;
			w->pc = ra0;
			return 0;
		}
	}
	if (!row || row->kind == UT_GAP) {
		/* No rule here: frame pointers (Go, JIT code, padding). */
		if (!w->bp || !kt_read(w->bp, &nbp) || !kt_read(w->bp + 8, &ra) || w->bp < w->sp)
			return 1;
		w->sp = w->bp + 16;
		w->bp = nbp;
		w->pc = ra;
		return 0;
	}
	switch (ut_kind(row)) {
	case UT_CFA_RSP: cfa = w->sp + ut_cfa_off(row); break;
	case UT_CFA_RBP: cfa = w->bp + ut_cfa_off(row); break;
	case UT_PLT: cfa = w->sp + row->cfa_off + ((lpc & 15) >= (__u64)row->rbp_off ? 8 : 0); break;
	case UT_SIGNAL:
		/* __restore_rt: sp is at the ucontext; its mcontext 40 bytes in. */
		if (!kt_read(w->sp + 40 + 80, &nbp) || !kt_read(w->sp + 40 + 120, &cfa) ||
		    !kt_read(w->sp + 40 + 128, &ra)) {
			stat_inc(STAT_UNWIND_READ);
			return 1;
		}
		w->pc = ra;
		w->sp = cfa;
		w->bp = nbp;
		w->exact = true; /* the interrupted instruction itself */
		return 0;
	case UT_STOP:
		w->done = true;
		return 1;
	default:
		stat_inc(STAT_UNWIND_UNSUPPORTED);
		return 1;
	}
	if (!kt_read(cfa - 8, &ra)) {
		stat_inc(STAT_UNWIND_READ);
		return 1;
	}
	if (ut_kind(row) != UT_PLT && row->rbp_off && !kt_read(cfa + 8 * row->rbp_off, &w->bp))
		w->bp = 0;
	if (cfa <= w->sp && ut_kind(row) != UT_CFA_RBP)
		return 1;
	w->sp = cfa;
	w->pc = ra;
	return 0;
}

/* Whether tgid's tables are loaded for its image exec; else its stacks are
 * taken by frame pointers (the kernel's walker) and counted. */
static __always_inline bool kt_ready(__u32 tgid, __u32 exec)
{
	struct kt_proc *p = bpf_map_lookup_elem(&kt_procs, &tgid);

	__u32 *asked, want = exec + 1;

	if (p && p->exec == exec)
		return true;
	stat_inc(STAT_UNWIND_NO_TABLE);
	asked = bpf_map_lookup_elem(&kt_asked, &tgid);
	if (!asked || *asked != want) {
		bpf_map_update_elem(&kt_asked, &tgid, &want, BPF_ANY);
		bpf_map_push_elem(&kt_wanted, &tgid, 0);
	}
	return false;
}

/* Walks the user stack from pc, sp and bp (`entry`: pc is a function's
 * first instruction, as at an entry uprobe); the stack's id in `stacks`
 * (stacks.bpf.h), or STACK_LOST (counted). */
static __always_inline __s32 kt_walk(__u64 pc, __u64 sp, __u64 bp, bool entry, __u32 tgid, __u32 exec,
				     void *stacks)
{
	struct kt_walk w = { .pc = pc, .sp = sp, .bp = bp, .tgid = tgid, .exec = exec, .exact = true,
			     .entry = entry };

	bpf_loop(STACK_FRAMES + 1, kt_step, &w, 0);
	/* Code the tables do not know yet (the process, or a library it just
	 * mapped): walked by frame pointers meanwhile, and counted. */
	if (w.unknown && !w.done) {
		__u64 now = bpf_ktime_get_ns(), *last = bpf_map_lookup_elem(&kt_asked_code, &tgid);

		stat_inc(STAT_UNWIND_NO_TABLE);
		if (!last || now - *last > 20000000) {
			bpf_map_update_elem(&kt_asked_code, &tgid, &now, BPF_ANY);
			bpf_map_push_elem(&kt_wanted, &tgid, 0);
		}
	}
	if (!w.n) {
		stat_inc(STAT_USTACK_FAILED);
		return STACK_LOST;
	}
	return stack_keep(w.n, stacks);
}

/* From a struct pt_regs (the kernel's or trace's own layout). */
#define kt_walk_stack(regs, entry, tgid, exec, stacks) \
	kt_walk(PT_REGS_IP(regs), PT_REGS_SP(regs), (regs)->bp, entry, tgid, exec, stacks)

#endif
