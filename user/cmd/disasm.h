/* report --disasm: a profile's values per instruction (disasm.c). */
#ifndef BPFPROF_DISASM_H
#define BPFPROF_DISASM_H

#include <stdio.h>
#include "model/profile.h"

/* The instructions of the sampled user functions matching regex, with
 * their values of sample type sample_index. -EINVAL (bad regex) or -ENOENT
 * (nothing matches) after a one-line error. */
int report_disasm(const struct profile *p, int sample_index, const char *regex, FILE *out);

#endif
