/* Go's function table (.gopclntab): function names, and file:line of any
 * pc, read from the binary itself, so stripped Go programs (-ldflags=-s -w
 * and distributions' builds) keep their names. Formats of Go 1.16/1.17
 * (magic 0xfffffffa), 1.18/1.19 (0xfffffff0) and 1.20+ (0xfffffff1). */
#ifndef BPFPROF_GOPCLNTAB_H
#define BPFPROF_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "symbols/srcframe.h"

struct go_pcln {
	const uint8_t *data;     /* the section's bytes (not owned) */
	size_t size;
	uint32_t magic;
	uint32_t quantum, ptrsize;
	uint64_t nfunc;
	uint64_t text_start;     /* 1.18+: base of entry offsets */
	const uint8_t *funcnames, *cutab, *filetab, *pctab, *functab;
	/* Inline trees (Go 1.18+ tables): the bytes from gofunc (moduledata's
	 * base of function data) on, as the binary holds them; NULL: unknown. */
	const uint8_t *gofunc;
	size_t gofunc_len;
	size_t funcnames_len, cutab_len, filetab_len, pctab_len, functab_len;
};

/* Parses the header; false for an unknown format or a truncated table.
 * text_start: the .text section's address (Go 1.16/1.17 tables do not
 * say; later ones do and it is checked against theirs). */
bool go_pcln_init(struct go_pcln *t, const uint8_t *data, size_t size, uint64_t text_vaddr);
/* Function i (0 <= i < nfunc): its entry address and name; false if bad. */
bool go_pcln_func(const struct go_pcln *t, uint64_t i, uint64_t *entry, const char **name);
/* Where function i ends (the next one's entry; the table's end for the last). */
bool go_pcln_end(const struct go_pcln *t, uint64_t i, uint64_t *end);
/* The function containing pc: its index, or -1. */
int64_t go_pcln_find(const struct go_pcln *t, uint64_t pc);
/* File and line of pc in function i (a return address: pass pc - 1). */
bool go_pcln_line(const struct go_pcln *t, uint64_t i, uint64_t pc, const char **file, int64_t *line);

/* The frames at pc in function i, innermost (inlined) first and the
 * function itself last; at most max; the number (0 if unknown). */
int go_pcln_frames(const struct go_pcln *t, uint64_t i, uint64_t pc, struct src_frame *out, int max);

/* The stack pointer's distance below the frame's top at pc in function i
 * (pcsp): the return address is at sp + delta. */
bool go_pcln_spdelta(const struct go_pcln *t, uint64_t i, uint64_t pc, int64_t *delta);
/* Function i's funcID (the runtime's special functions; version-specific
 * numbers), or -1. */
int go_pcln_funcid(const struct go_pcln *t, uint64_t i);

#endif
