/* A source-level frame at an address: the function, its file and line.
 * An address inside inlined code has several, innermost first. */
#ifndef BPFPROF_SRCFRAME_H
#define BPFPROF_SRCFRAME_H

#include <stdint.h>

struct src_frame {
	const char *func, *file;
	int64_t line;
	int64_t start_line;   /* where the function begins (0: unknown) */
};

#endif
