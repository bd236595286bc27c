/* The DWARF (.eh_frame) unwinder of --unwind dwarf|auto, and the frame
 * pointer test behind auto. */
#ifndef BPFPROF_UNWIND_DWARF_H
#define BPFPROF_UNWIND_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "unwind.h"
#include "symbols/symbolize.h"

/* Unwinds r's user stack (len bytes of record) into ips (leaf first, at
 * most max), resolving files in pid's image r->exec; *complete when it
 * reached the outermost frame. */
size_t uw_unwind(struct symbolizer *sym, pid_t pid, const struct uw_record *r, size_t len,
		 uint64_t *ips, size_t max, bool *complete);

#endif
