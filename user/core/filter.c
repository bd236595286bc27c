/* The target filter every program shares (bpf/filter.bpf.h): its rodata,
 * its maps, and the programs that follow forks, execs and exits. */
#include "core/filter.h"
#include "core/unwinder.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int filter_configure(struct session *s, volatile struct prog_cfg *cfg, struct bpf_map *pids,
		     struct bpf_map *tids)
{
	cfg->pid = s->o.pids.n > 0 || s->o.follow;
	cfg->tid = s->o.tids.n > 0;
	cfg->cgroup = s->o.cgroup != NULL;
	if (s->o.cgroup && s->cgroup_fd >= 0) { /* a cgroup v2 directory's inode is its cgroup id */
		struct stat st;

		if (fstat(s->cgroup_fd, &st) == 0)
			cfg->cgroup_id = st.st_ino;
	}
	cfg->follow_children = s->o.cmd != NULL;
	cfg->root_child = s->o.cmd ? (uint32_t)s->child : 0;
	if (s->o.follow)
		strncpy((char *)cfg->follow_comm, s->o.follow, sizeof(cfg->follow_comm) - 1);
	return bpf_map__set_max_entries(pids, session_pid_capacity(s)) ?:
	       bpf_map__set_max_entries(tids, s->o.tids.n ? s->o.tids.n : 1);
}

static const char *const follow_progs[] = { "filter_fork", "filter_exit", "filter_exec" };

void filter_follow_prepare(struct bpf_object *obj, struct session *s)
{
	/* exec and exit always: they keep the per-process exec counts. */
	bool on[] = { s->o.cmd != NULL, true, true };

	s->exec_gens = bpf_object__find_map_by_name(obj, "exec_gens");

	for (int i = 0; i < 3; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, follow_progs[i]);

		if (prog)
			bpf_program__set_autoload(prog, on[i]);
	}
}

int filter_follow_attach(struct bpf_object *obj, link_vec *links)
{
	const char *const *names = follow_progs;

	for (int i = 0; i < 3; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, names[i]);
		struct bpf_link *link;
		int err;

		if (!prog || !bpf_program__autoload(prog))
			continue;
		if (!(link = bpf_program__attach(prog))) {
			err = -errno;
			err_msg("cannot follow targets' forks and execs (%s): %s", names[i], strerror(-err));
			return err;
		}
		vec_push(links, link);
	}
	return 0;
}

int filter_fill(struct session *s, struct bpf_map *pids, struct bpf_map *tids,
		struct bpf_map *cgroup)
{
	uint8_t one = 1;
	uint32_t zero = 0;
	int err = 0;

	for (size_t i = 0; i < s->o.pids.n && !err; i++)
		err = filter_add_pid(s, pids, s->o.pids.v[i]);
	for (size_t i = 0; i < s->o.tids.n && !err; i++) {
		uint32_t id = s->o.tids.v[i];

		err = bpf_map__update_elem(tids, &id, sizeof(id), &one, sizeof(one), BPF_ANY);
	}
	if (!err && s->cgroup_fd >= 0) {
		uint32_t fd = s->cgroup_fd;

		err = bpf_map__update_elem(cgroup, &zero, sizeof(zero), &fd, sizeof(fd), BPF_ANY);
	}
	if (err)
		err_msg("cannot fill the target filter: %s", strerror(-err));
	return err;
}

int filter_add_pid(struct session *s, struct bpf_map *pids, pid_t pid)
{
	uint32_t id = pid;
	uint8_t v = 1;

	return bpf_map__update_elem(pids, &id, sizeof(id), &v, sizeof(v), BPF_ANY);
}
