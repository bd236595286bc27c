/* Compact unwind tables from .eh_frame (unwind_table.h). libdw parses the
 * CFI; each row of its table is classified into the few rules real x86-64
 * code uses. The FDEs are found through .eh_frame_hdr's sorted table (every
 * FDE, also in stripped files), else from the function symbols. */
#include "symbols/unwind_table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* ---- classifying one CFI row ---------------------------------------------- */

/* "saved at CFA + off": call_frame_cfa, plus_uconst off (libdw's form). */
static bool cfa_offset_rule(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (n != 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (ops[1].atom == DW_OP_plus_uconst || ops[1].atom == DW_OP_consts) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* The glibc/binutils .plt expression: rsp + N + (((rip & 15) >= K) << 3). */
static bool plt_rule(const Dwarf_Op *o, size_t n, int64_t *cfa_off, int *k)
{
	if (n != 9 || o[0].atom != DW_OP_breg7 || o[1].atom != DW_OP_breg16 || o[1].number ||
	    o[2].atom != DW_OP_lit15 || o[3].atom != DW_OP_and || o[4].atom < DW_OP_lit0 ||
	    o[4].atom > DW_OP_lit31 || o[5].atom != DW_OP_ge || o[6].atom != DW_OP_lit3 ||
	    o[7].atom != DW_OP_shl || o[8].atom != DW_OP_plus)
		return false;
	*cfa_off = (int64_t)o[0].number;
	*k = o[4].atom - DW_OP_lit0;
	return true;
}

static void classify(Dwarf_Frame *fr, struct ut_row *row)
{
	Dwarf_Op *ops, mem[3];
	size_t n;
	bool signal = false;
	int ra = dwarf_frame_info(fr, NULL, NULL, &signal);
	int64_t off, rbp = 0;
	int k;

	row->kind = UT_UNSUPPORTED;
	row->cfa_off = 0;
	row->rbp_off = 0;
	if (signal) {
		row->kind = UT_SIGNAL;
		return;
	}
	if (ra != REG_RA || dwarf_frame_register(fr, REG_RA, mem, &ops, &n) != 0)
		return;
	if (!n) {
		if (ops) /* undefined: nothing called this frame */
			row->kind = UT_STOP;
		return;
	}
	if (!cfa_offset_rule(ops, n, &off) || off != -8)
		return;
	if (dwarf_frame_register(fr, REG_RBP, mem, &ops, &n) != 0)
		return;
	if (n) {
		if (!cfa_offset_rule(ops, n, &rbp) || rbp % 8 || rbp / 8 < -128 || rbp / 8 > 127 || !rbp)
			return;
	}
	if (dwarf_frame_cfa(fr, &ops, &n) != 0 || !n)
		return;
	if (n == 1 && (ops[0].atom == DW_OP_breg7 || ops[0].atom == DW_OP_breg6)) {
		off = (int64_t)ops[0].number;
		row->kind = ops[0].atom == DW_OP_breg7 ? UT_CFA_RSP : UT_CFA_RBP;
	} else if (n == 1 && ops[0].atom == DW_OP_bregx && (ops[0].number == REG_RSP || ops[0].number == REG_RBP)) {
		off = (int64_t)ops[0].number2;
		row->kind = ops[0].number == REG_RSP ? UT_CFA_RSP : UT_CFA_RBP;
	} else if (plt_rule(ops, n, &off, &k)) {
		row->kind = UT_PLT;
		rbp = 8 * (int64_t)k; /* the threshold rides in rbp_off (rbp is unchanged in .plt) */
	} else {
		return;
	}
	if (off < INT16_MIN || off > INT16_MAX) {
		if (off % 8 || off / 8 < INT16_MIN || off / 8 > INT16_MAX || row->kind == UT_PLT) {
			row->kind = UT_UNSUPPORTED;
			return;
		}
		row->kind |= UT_F_CFA_X8;
		off /= 8;
	}
	row->cfa_off = (int16_t)off;
	row->rbp_off = (int8_t)(rbp / 8);
}

/* ---- building --------------------------------------------------------------- */

static void add_row(struct unwind_table *t, uint64_t vaddr, const struct ut_row *r)
{
	struct ut_row row = *r;
	struct ut_row *last = t->rows.n ? &t->rows.v[t->rows.n - 1] : NULL;

	row.pc = (uint32_t)(vaddr - t->base);
	if (last && last->pc == row.pc) { /* a gap marker the next FDE starts at */
		*last = row;
		if (t->rows.n > 1) {
			struct ut_row *prev = &t->rows.v[t->rows.n - 2];

			if (prev->kind == row.kind && prev->cfa_off == row.cfa_off && prev->rbp_off == row.rbp_off)
				t->rows.n--;
		}
		return;
	}
	if (last && last->kind == row.kind && last->cfa_off == row.cfa_off && last->rbp_off == row.rbp_off)
		return; /* the same rule goes on */
	if (row.kind == UT_UNSUPPORTED)
		t->unsupported++;
	vec_push(&t->rows, row);
}

/* Rows for the FDE that covers `start`, up to `limit` (the next FDE). */
static void add_fde(struct unwind_table *t, Dwarf_CFI *cfi, uint64_t start, uint64_t limit)
{
	uint64_t addr = start, end = start;

	while (addr < limit) {
		Dwarf_Frame *fr;
		Dwarf_Addr s, e;
		struct ut_row row;

		if (dwarf_cfi_addrframe(cfi, addr, &fr) != 0)
			break;
		dwarf_frame_info(fr, &s, &e, NULL);
		classify(fr, &row);
		free(fr);
		if (e <= addr)
			break;
		add_row(t, addr, &row);
		end = e;
		addr = e;
	}
	if (end > start) {
		struct ut_row gap = { .kind = UT_GAP };

		t->fdes++;
		add_row(t, end, &gap);
	}
}

typedef VEC(uint64_t) u64_vec;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t unwind_table_base(const struct elf_syms *es)
{
	uint64_t base = UINT64_MAX;

	for (size_t i = 0; i < es->segs.n; i++)
		if (es->segs.v[i].vaddr < base)
			base = es->segs.v[i].vaddr;
	return base == UINT64_MAX ? 0 : base;
}

int unwind_table_build(struct elf_syms *es, struct unwind_table *t)
{
	struct timespec t0, t1;
	u64_vec starts = { 0 };
	Dwarf_CFI *cfi;

	memset(t, 0, sizeof(*t));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!es->elf || !(cfi = dwarf_getcfi_elf(es->elf)))
		return -ENOENT;
	t->base = unwind_table_base(es);
	size_t nfde;
	const uint64_t *fdes = elf_fde_starts(es, &nfde);

	for (size_t i = 0; i < nfde; i++)
		vec_push(&starts, fdes[i]);
	if (!nfde) {
		/* No index: the functions' starts find their FDEs. */
		for (size_t i = 0; i < es->syms.n; i++)
			vec_push(&starts, es->syms.v[i].addr);
	}
	if (starts.n > 1)
		qsort(starts.v, starts.n, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < starts.n; i++) {
		uint64_t limit = i + 1 < starts.n ? starts.v[i + 1] : UINT64_MAX;

		if (starts.v[i] < t->base || starts.v[i] - t->base > UINT32_MAX)
			continue;
		if (t->rows.n && starts.v[i] - t->base < t->rows.v[t->rows.n - 1].pc)
			continue; /* inside an FDE already read (a symbol in its middle) */
		add_fde(t, cfi, starts.v[i], limit);
	}
	vec_free(&starts);
	dwarf_cfi_end(cfi);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	t->build_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	return t->rows.n ? 0 : -ENOENT;
}

void unwind_table_free(struct unwind_table *t)
{
	vec_free(&t->rows);
}

/* ---- one step ------------------------------------------------------------------ */

/* struct rt_sigframe at __restore_rt: sp points at the ucontext; its
 * mcontext (struct sigcontext) starts 40 bytes in. */
#define UC_MCONTEXT 40
#define SC_RBP 80
#define SC_RSP 120
#define SC_RIP 128

enum ut_step unwind_table_step(const struct ut_row *row, uint64_t *pc, uint64_t *sp, uint64_t *bp,
			       ut_read_fn read, void *ctx)
{
	uint64_t cfa, ra, nbp = *bp;

	switch (ut_kind(row)) {
	case UT_CFA_RSP: cfa = *sp + ut_cfa_off(row); break;
	case UT_CFA_RBP: cfa = *bp + ut_cfa_off(row); break;
	case UT_PLT: cfa = *sp + row->cfa_off + ((*pc & 15) >= (uint64_t)row->rbp_off ? 8 : 0); break;
	case UT_SIGNAL:
		if (!read(ctx, *sp + UC_MCONTEXT + SC_RBP, &nbp) || !read(ctx, *sp + UC_MCONTEXT + SC_RSP, &cfa) ||
		    !read(ctx, *sp + UC_MCONTEXT + SC_RIP, &ra))
			return UT_STEP_FAILED;
		*pc = ra;
		*sp = cfa;
		*bp = nbp;
		return UT_STEP_OK;
	case UT_STOP: return UT_STEP_END;
	case UT_GAP: return UT_STEP_FP;
	default: return UT_STEP_FAILED;
	}
	if (!read(ctx, cfa - 8, &ra))
		return UT_STEP_FAILED;
	/* A saved rbp that cannot be read (below sp in an epilogue, where the
	 * rule outlives the save) leaves it unknown, as libdw does: only a
	 * later frame that needs it fails. */
	if (ut_kind(row) != UT_PLT && row->rbp_off && !read(ctx, cfa + 8 * row->rbp_off, &nbp))
		nbp = 0;
	if (cfa <= *sp && ut_kind(row) != UT_CFA_RBP)
		return UT_STEP_FAILED; /* no progress: corrupt rules or stack */
	*pc = ra;
	*sp = cfa;
	*bp = nbp;
	return UT_STEP_OK;
}
