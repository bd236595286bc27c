/* Compact unwind tables (symbols/unwind_table.c) against the reference:
 * for rows across real files (libc, our FP-less target, Debian's python3),
 * one step by the table must find the same caller as the libdw unwinder
 * (symbols/unwind_dwarf.c) on the same registers and stack. Needs no root.
 * Prints "ok - NAME" / "not ok - NAME: why". */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symbols/symbolize.h"
#include "symbols/unwind_dwarf.h"
#include "symbols/unwind_table.h"

#include "check.h"

#define FAKE_PID 0x3ffffff0
#define MAP_AT 0x100000000000ULL
#define STACK_AT 0x7ff000000000ULL
#define STACK_BYTES 8192

/* A stack whose every word names its address: what a rule read is visible. */
static uint64_t word_at(uint64_t addr)
{
	return 0x600000000000ULL + (addr - STACK_AT);
}

static bool read_stack(void *ctx, uint64_t addr, uint64_t *out)
{
	if (addr < STACK_AT || addr + 8 > STACK_AT + STACK_BYTES || addr % 8)
		return false;
	*out = word_at(addr);
	return true;
}

static const char *kind_name(int k)
{
	static const char *const names[] = { "cfa_rsp", "cfa_rbp", "plt", "signal", "stop", "gap", "unsupported" };

	return k >= 0 && k <= UT_UNSUPPORTED ? names[k] : "?";
}

/* One file: its table, then one step at (up to) `samples` rows compared. */
static void check_file(struct symbolizer *sym, const char *path, size_t min_rows, bool need_special)
{
	struct unwind_table t;
	struct elf_syms *es = sym_elf_path(sym, path);
	struct uw_record *r = calloc(1, sizeof(*r) + STACK_BYTES);
	size_t compared = 0, agree = 0, kinds[UT_UNSUPPORTED + 1] = { 0 };
	char name[256], first_diff[256] = "";
	struct stat st;
	int err;

	snprintf(name, sizeof(name), "%s: table built", path);
	if (!es || stat(path, &st) < 0) {
		check(0, name, "cannot read %s", path);
		free(r);
		return;
	}
	err = unwind_table_build(es, &t);
	check(err == 0 && t.rows.n >= min_rows, name, "err %d, %zu rows", err, t.rows.n);
	if (err) {
		free(r);
		return;
	}
	printf("# %s: %u FDEs, %zu rows (%zu KiB), %u unsupported, built in %.1f ms\n", path, t.fdes,
	       t.rows.n, t.rows.n * sizeof(struct ut_row) / 1024, t.unsupported, t.build_ns / 1e6);
	for (size_t i = 0; i < t.rows.n; i++)
		kinds[ut_kind(&t.rows.v[i])]++;
	printf("# rows by rule:");
	for (int k = 0; k <= UT_UNSUPPORTED; k++)
		printf(" %s %zu", kind_name(k), kinds[k]);
	printf("\n");
	if (need_special) {
		snprintf(name, sizeof(name), "%s: .plt, signal trampoline and outermost frames have their rules", path);
		check(kinds[UT_PLT] && kinds[UT_SIGNAL] && kinds[UT_STOP], name, "plt %zu, signal %zu, stop %zu",
		      kinds[UT_PLT], kinds[UT_SIGNAL], kinds[UT_STOP]);
	}
	snprintf(name, sizeof(name), "%s: rules the walker cannot follow are under 2%% of rows", path);
	check(kinds[UT_UNSUPPORTED] * 50 < t.rows.n, name, "%zu of %zu", kinds[UT_UNSUPPORTED], t.rows.n);

	/* The whole file mapped at MAP_AT in a pretend process. */
	sym_mmap_event(sym, FAKE_PID, MAP_AT, (st.st_size + 4095) & ~4095ULL, 0, path, st.st_dev, st.st_ino);
	/* Each sampled row at its first byte, then at its middle. */
	for (size_t j = 0; j < 2 * t.rows.n; j++) {
		size_t i = j / 2;
		const struct ut_row *row = &t.rows.v[i];
		uint64_t span = i + 1 < t.rows.n ? t.rows.v[i + 1].pc - row->pc : 1;
		/* The record's copy starts at its sp: the whole stack lies above. */
		/* (.plt: the second entry's 13th byte, where the push has run) */
		uint64_t mid = ut_kind(row) == UT_PLT && span > 0x1c ? 0x1c : span / 2;
		uint64_t vaddr = t.base + row->pc + (j % 2 ? mid : 0), off, pc, sp = STACK_AT,
			 bp = STACK_AT + 4096, ips[4];
		enum ut_step step;
		bool complete, same;
		size_t n;

		/* A sample of the rows, and every row of the rare rules. */
		if (i % (t.rows.n / 1500 + 1) && ut_kind(row) != UT_PLT && ut_kind(row) != UT_SIGNAL && ut_kind(row) != UT_STOP)
			continue;
		if (ut_kind(row) == UT_GAP || ut_kind(row) == UT_UNSUPPORTED || !elf_vaddr_to_offset(es, vaddr, &off))
			continue;
		pc = MAP_AT + off;
		memset(r, 0, sizeof(*r));
		r->pid = FAKE_PID;
		r->ulen = STACK_BYTES;
		r->regs[UW_REG_IP] = pc;
		r->regs[UW_REG_SP] = sp;
		r->regs[UW_REG_BP] = bp;
		for (size_t w = 0; w < STACK_BYTES / 8; w++) {
			uint64_t v = word_at(STACK_AT + w * 8);

			memcpy(r->stack + w * 8, &v, 8);
		}
		n = uw_unwind(sym, FAKE_PID, r, sizeof(*r) + STACK_BYTES, ips, 2, &complete);
		step = unwind_table_step(row, &pc, &sp, &bp, read_stack, NULL);
		if (step == UT_STEP_END)
			same = n == 1 && complete;
		else if (step == UT_STEP_OK)
			same = n == 2 && ips[1] == pc;
		else
			same = n < 2;
		compared++;
		agree += same;
		if (!same && !first_diff[0])
			snprintf(first_diff, sizeof(first_diff), "vaddr %#llx (%s, cfa_off %d, rbp_off %d): table step %d pc %#llx, libdw %zu frames %#llx",
				 (unsigned long long)vaddr, kind_name(ut_kind(row)), (int)ut_cfa_off(row), row->rbp_off, step,
				 (unsigned long long)pc, n, n > 1 ? (unsigned long long)ips[1] : 0ULL);
	}
	snprintf(name, sizeof(name), "%s: one step by the table finds libdw's caller (%zu rows compared)", path, compared);
	check(compared >= (t.rows.n > 400 ? 100 : t.rows.n / 2) && agree == compared, name, "%zu of %zu agree; first: %s", agree, compared, first_diff);
	unwind_table_free(&t);
	free(r);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/build";
	struct symbolizer *sym;
	char nofp[PATH_MAX], waiters[PATH_MAX + 16];

	check_prefix = "unwind tables: ";
	elf_syms_keep_elf(true); /* the tables read each file's .eh_frame */
	sym = symbolizer_new();
	/* An absolute path: a mapping's file is found by its path. */
	if (!realpath(dir, nofp)) {
		printf("not ok - unwind tables: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(waiters, sizeof(waiters), "%s/waiters", nofp); /* main has a 32 KiB frame */
	strncat(nofp, "/nofp", sizeof(nofp) - strlen(nofp) - 1);
	check_file(sym, "/lib/x86_64-linux-gnu/libc.so.6", 10000, true);
	check_file(sym, nofp, 10, false);
	check_file(sym, waiters, 10, false);
	check_file(sym, "/usr/bin/python3", 10000, false);
	symbolizer_free(sym);
	printf("# end unwind-tables\n");
	return failures ? 1 : 0;
}
