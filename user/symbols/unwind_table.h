/* Compact unwind tables: a file's .eh_frame turned into sorted rows, each
 * saying for the code from its pc on how to find the caller — the form the
 * kernel-side walker (#15) reads from BPF maps, and the user-space step
 * below uses to check it. Built once per file, off the hot path. */
#ifndef BPFPROF_UNWIND_TABLE_H
#define BPFPROF_UNWIND_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "base/util.h"
#include "symbols/elfsym.h"
#include "unwind.h" /* struct ut_row, shared with the BPF walker */

struct unwind_table {
	uint64_t base;           /* the ELF vaddr rows are relative to (lowest PT_LOAD) */
	VEC(struct ut_row) rows; /* sorted by pc, adjacent rows differ */
	uint32_t fdes;           /* FDEs read */
	uint32_t unsupported;    /* rows made UT_UNSUPPORTED */
	uint64_t build_ns;
};

/* Builds t from es's .eh_frame (es must keep its ELF: elf_syms_keep_elf).
 * 0, or -ENOENT when the file has no CFI, -errno on other failures. */
int unwind_table_build(struct elf_syms *es, struct unwind_table *t);
/* The vaddr a file's rows are relative to: its lowest PT_LOAD address. */
uint64_t unwind_table_base(const struct elf_syms *es);
void unwind_table_free(struct unwind_table *t);

/* Reads the 8-byte word at addr of the unwound task's memory. */
typedef bool (*ut_read_fn)(void *ctx, uint64_t addr, uint64_t *out);

enum ut_step {
	UT_STEP_OK,        /* *pc, *sp, *bp are the caller's */
	UT_STEP_END,       /* the outermost frame: the stack is complete */
	UT_STEP_FP,        /* no rule here: the caller must step by frame pointer */
	UT_STEP_FAILED,    /* an unsupported rule, or memory that could not be read */
};
/* One step with row (the row covering *pc): the caller's pc, sp and bp. */
enum ut_step unwind_table_step(const struct ut_row *row, uint64_t *pc, uint64_t *sp, uint64_t *bp,
			       ut_read_fn read, void *ctx);

#endif
