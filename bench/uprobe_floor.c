/* uprobe_floor LIB SPEC... -- CMD ARGS: attaches empty programs to LIB and
 * runs CMD. SPEC is SYMBOL[+OFF] (entry) or ret:SYMBOL (return).
 * For bench/: the floor cost of probing the same places bpfprof does. */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elfsym.h"
#include "floor.skel.h"

int main(int argc, char **argv)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	struct elf_syms es;
	int i, st, fd;
	pid_t pid;

	if (!skel || argc < 4 || (fd = open(argv[1], 0)) < 0 || elf_syms_load_fd(&es, fd) < 0)
		return 2;
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		bool ret = !strncmp(argv[i], "ret:", 4);
		char name[128], *plus;
		uint64_t off = 0, addr, foff;

		snprintf(name, sizeof(name), "%s", argv[i] + (ret ? 4 : 0));
		if ((plus = strchr(name, '+'))) {
			off = strtoul(plus + 1, NULL, 0);
			*plus = 0;
		}
		if (!(addr = elf_sym_addr(&es, name)) || !elf_vaddr_to_offset(&es, addr, &foff))
			return 2;
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret);
		if (!bpf_program__attach_uprobe_opts(ret ? skel->progs.floor_ret : skel->progs.floor_entry,
						     -1, argv[1], foff + off, &uo))
			return 1;
	}
	if (i + 1 >= argc)
		return 2;
	if ((pid = fork()) == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
