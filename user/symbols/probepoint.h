/* Where an entry uprobe goes. The kernel emulates a few x86 instructions at
 * a uprobe (relative jumps and calls, conditional jumps, nop, push of a
 * register) and single-steps every other one out of line, at ~10x the cost
 * per hit. probe_place_entry() moves a function's entry probe forward, past
 * instructions that change nothing the probe reads, to the first one the
 * kernel emulates; every call still passes through it, with the arguments,
 * the stack pointer and the frame pointer as they were at the entry. */
#ifndef BPFPROF_PROBEPOINT_H
#define BPFPROF_PROBEPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_place {
	uint64_t off;      /* file offset to probe */
	uint64_t moved;    /* bytes past the function's entry */
	bool emulated;     /* the instruction there is emulated, not stepped */
	char insn[200];    /* that instruction, for -v ("je 0x98fb8") */
};

/* What the probe reads besides the stack and frame pointers (always kept):
 * the first N C arguments (rdi, rsi, rdx, rcx, r8, r9), or Go's register
 * ABI (rax, rbx, rcx, rdi, ... and g in r14). */
#define PROBE_C_ARGS(n) ((unsigned)(n))
#define PROBE_GO_ABI 0x100u

/* Reads the code at file offset `off` of `path` (the function's entry).
 * Never fails: without a decodable instruction the entry itself is kept
 * (out->emulated false, insn says why). */
void probe_place_entry(const char *path, uint64_t off, unsigned reads, struct probe_place *out);

/* The same, on code already in memory (tests). */
void probe_place_code(const uint8_t *code, size_t len, uint64_t off, unsigned reads,
		      struct probe_place *out);

#endif
