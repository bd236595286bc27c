/* Entry uprobes on Go runtime functions (goprobes.h). */
#include "core/goprobes.h"
#include "symbols/probepoint.h"

#include <errno.h>
#include <string.h>

int go_probe_attach(struct session *s, struct bpf_program *prog, pid_t pid, const char *exe,
		    const struct elf_syms *es, const char *func, link_vec *links)
{
	uint64_t va = elf_sym_addr(es, func), off;
	struct probe_place pl;
	struct bpf_link *link;

	if (!va || !elf_vaddr_to_offset(es, va, &off))
		return -ENOENT;
	probe_place_entry(exe, off, PROBE_GO_ABI, &pl);
	link = bpf_program__attach_uprobe(prog, false, pid, exe, pl.off);
	if (!link) {
		int e = errno;

		err_msg("cannot probe %s in %s: %s", func, exe, strerror(e));
		return -e;
	}
	vec_push(links, link);
	if (s->o.verbose)
		fprintf(stderr, "%s: pid %d: probing %s at +%llu (%s%s)\n", prog_name, pid, func,
			(unsigned long long)pl.moved, pl.insn, pl.emulated ? ", emulated" : ", single-stepped");
	return 0;
}
