/* Entry uprobes on a Go program's runtime functions (offcpu's goroutine
 * view, lockwait's Go mutexes): placed at the function's first instruction
 * the kernel emulates (probepoint.h, Go's register ABI kept), never a
 * return probe (it crashes Go). */
#ifndef BPFPROF_GOPROBES_H
#define BPFPROF_GOPROBES_H

#include <bpf/libbpf.h>
#include "core/bpfmaps.h"
#include "core/session.h"
#include "symbols/elfsym.h"

/* Attaches prog at `func` of exe (es: its symbols) for pid; 0, -ENOENT
 * when exe has no such function, or -errno after a one-line error. */
int go_probe_attach(struct session *s, struct bpf_program *prog, pid_t pid, const char *exe,
		    const struct elf_syms *es, const char *func, link_vec *links);

#endif
