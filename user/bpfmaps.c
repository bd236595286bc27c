#include "bpfmaps.h"
#include "unwinder.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int filter_configure(struct session *s, volatile struct filter_cfg *cfg, struct bpf_map *pids,
		     struct bpf_map *tids)
{
	cfg->pid = s->o.pids.n > 0 || s->o.follow;
	cfg->tid = s->o.tids.n > 0;
	cfg->cgroup = s->o.cgroup != NULL;
	cfg->follow_children = s->o.cmd != NULL;
	cfg->root_child = s->o.cmd ? (uint32_t)s->child : 0;
	if (s->o.follow)
		strncpy((char *)cfg->follow_comm, s->o.follow, sizeof(cfg->follow_comm) - 1);
	return bpf_map__set_max_entries(pids, session_pid_capacity(s)) ?:
	       bpf_map__set_max_entries(tids, s->o.tids.n ? s->o.tids.n : 1);
}

int filter_add_pid(struct session *s, struct bpf_map *pids, pid_t pid);

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

int stackmap_size(struct session *s, struct bpf_map *m)
{
	return bpf_map__set_value_size(m, s->o.max_depth * sizeof(uint64_t)) ?:
	       bpf_map__set_max_entries(m, s->o.max_stacks);
}

struct stack_reader {
	struct bpf_map *map;
	struct bpf_map *alt;     /* ids >= alt_base are read here (offcpu's seed) */
	uint32_t alt_base;
	const struct uw_store *store;
	int depth;
	struct hmap cache;       /* id -> index into stacks + 1 (0 = unreadable) */
	VEC(uint64_t *) stacks;
	uint64_t missing;        /* entries whose stack id was no longer there */
};

void stack_reader_set_alt(struct stack_reader *r, struct bpf_map *alt, uint32_t base)
{
	r->alt = alt;
	r->alt_base = base;
}

void stack_reader_report(const struct stack_reader *r, struct profile *p)
{
	profile_add_counter(p, "stacks recycled before read", r->missing);
}

struct stack_reader *stack_reader_new(struct bpf_map *m, int max_depth)
{
	struct stack_reader *r = xcalloc(1, sizeof(*r));

	r->map = m;
	r->depth = max_depth;
	return r;
}

struct stack_reader *stack_reader_new_store(const struct uw_store *st, int max_depth)
{
	struct stack_reader *r = xcalloc(1, sizeof(*r));

	r->store = st;
	r->depth = max_depth;
	return r;
}

void stack_reader_add(struct stack_reader *r, struct stack_builder *b, int32_t id,
		      pid_t pid, uint32_t exec, enum stack_kind kind)
{
	stack_reader_add_entry(r, b, id, pid, exec, kind, 0);
}

void stack_reader_add_entry(struct stack_reader *r, struct stack_builder *b, int32_t id,
			    pid_t pid, uint32_t exec, enum stack_kind kind, uint64_t entry_ret)
{
	const uint64_t *ips;

	if (id == STACK_NONE)
		return;
	ips = stack_reader_get(r, id);
	if (!ips && id >= 0)
		r->missing++; /* recycled before it was read: counted */
	if (!ips) {
		stack_add_pseudo(b, kind == STACK_USER ? "[user stack lost]" : "[kernel stack lost]");
		return;
	}
	if (kind == STACK_USER)
		stack_add_user_entry(b, pid, exec, ips, r->depth, entry_ret);
	else
		stack_add_kernel(b, ips, r->depth);
}

void stack_reader_clear(struct stack_reader *r)
{
	if (r->map)
		stackmap_recycle(r->map, NULL);
}

void stackmap_recycle(struct bpf_map *m, const struct hmap *keep)
{
	uint32_t key, next;
	void *prev = NULL;
	VEC(uint32_t) all = { 0 };
	size_t n = 0;

	while (bpf_map__get_next_key(m, prev, &next, sizeof(next)) == 0) {
		if (!keep || !hmap_get(keep, next, 0))
			vec_push(&all, next);
		n++;
		key = next;
		prev = &key;
	}
	/* A map the programs still write to (keep given): a thread may be
	 * handed an existing id in the moment before it is deleted, and its
	 * event then has no stack. So recycle only when the map is more than
	 * half full; ids otherwise stay, harmlessly, for the next interval.
	 * (Interval runs of offcpu lost ~5% of their stacks to this.) */
	if (keep && n * 2 < bpf_map__max_entries(m))
		all.n = 0;
	for (size_t i = 0; i < all.n; i++)
		bpf_map__delete_elem(m, &all.v[i], sizeof(uint32_t), 0);
	vec_free(&all);
}

void stack_reader_free(struct stack_reader *r)
{
	for (size_t i = 0; i < r->stacks.n; i++)
		free(r->stacks.v[i]);
	vec_free(&r->stacks);
	hmap_free(&r->cache);
	free(r);
}

int map_drain(struct bpf_map *m, size_t key_size, size_t value_size,
	      void (*fn)(const void *key, const void *value, void *ctx), void *ctx, bool del)
{
	int fd = bpf_map__fd(m);
	char *keys = NULL, *val = xmalloc(value_size);
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	/* Collect keys first: deleting while iterating would restart the walk. */
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			keys = xrealloc(keys, cap * key_size);
		}
		if (bpf_map_get_next_key(fd, prev, keys + n * key_size) != 0)
			break;
		prev = keys + n * key_size;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		void *k = keys + i * key_size;

		if (bpf_map_lookup_elem(fd, k, val) != 0)
			continue;
		fn(k, val, ctx);
		if (del)
			bpf_map_delete_elem(fd, k);
	}
	free(keys);
	free(val);
	return err;
}

void links_destroy(struct bpf_link **links, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
}

int perf_attach_all_cpus(struct bpf_program *prog, struct perf_event_attr *attr, uint64_t cookie,
			 const char *what, link_vec *links, fd_vec *fds)
{
	LIBBPF_OPTS(bpf_perf_event_opts, po, .bpf_cookie = cookie);
	int *cpus = NULL, ncpus = session_online_cpus(&cpus), err = 0;
	size_t attached = links->n;

	if (ncpus <= 0) {
		err_msg("cannot read the online CPUs: %s", strerror(-ncpus));
		return ncpus ? ncpus : -ENODEV;
	}
	for (int i = 0; i < ncpus && !err; i++) {
		int fd = (int)syscall(__NR_perf_event_open, attr, -1, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *link;

		if (fd < 0) {
			if (errno == ENODEV) /* the CPU went offline meanwhile */
				continue;
			err = -errno;
			err_msg("%s: cannot open a perf event on CPU %d: %s", what, cpus[i], strerror(errno));
			break;
		}
		vec_push(fds, fd);
		if (!(link = bpf_program__attach_perf_event_opts(prog, fd, &po))) {
			err = -errno;
			err_msg("%s: cannot attach to the perf event on CPU %d: %s", what, cpus[i], strerror(errno));
			break;
		}
		vec_push(links, link);
	}
	free(cpus);
	if (!err && links->n == attached) {
		err_msg("%s: no CPU could be sampled", what);
		err = -ENODEV;
	}
	return err;
}

void uprobe_multi_prepare(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(prog, (enum bpf_attach_type)BPF_TRACE_UPROBE_MULTI_);
}

int uprobe_multi_attach(struct bpf_program *prog, const char *path, pid_t pid,
			const uint64_t *offsets, const uint64_t *cookies, size_t n, bool ret)
{
	/* BPF_LINK_CREATE's uprobe_multi layout (uapi linux/bpf.h, 6.6); the
	 * installed headers predate it. The rest of bpf_attr stays zero. */
	union {
		struct {
			uint32_t prog_fd, target_fd, attach_type, flags;
			uint64_t path, offsets, ref_ctr_offsets, cookies;
			uint32_t cnt, flags2, pid;
		} lc;
		char bytes[160];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.lc.prog_fd = (uint32_t)bpf_program__fd(prog);
	attr.lc.attach_type = BPF_TRACE_UPROBE_MULTI_;
	attr.lc.path = (uint64_t)(uintptr_t)path;
	attr.lc.offsets = (uint64_t)(uintptr_t)offsets;
	attr.lc.cookies = (uint64_t)(uintptr_t)cookies;
	attr.lc.cnt = (uint32_t)n;
	attr.lc.flags2 = ret ? 1 /* BPF_F_UPROBE_MULTI_RETURN */ : 0;
	attr.lc.pid = pid > 0 ? (uint32_t)pid : 0;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

void set_generation(volatile uint32_t *gen, uint32_t value)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	__atomic_store_n(gen, value, __ATOMIC_SEQ_CST);
	/* Programs run to completion in microseconds (perf and tracepoint
	 * programs cannot sleep); 5 ms is far beyond any in-flight one. */
	nanosleep(&ts, NULL);
}

static const char *const stat_names[STAT_NSLOTS] = {
	[STAT_USTACK_FAILED] = "user stack walk failed",
	[STAT_KSTACK_FAILED] = "kernel stack walk failed",
	[STAT_STACK_COLLISION] = "stack map collisions",
	[STAT_MAP_FULL] = "map full drops",
	[STAT_RINGBUF_FULL] = "records lost (ring buffer full)",
	[STAT_CHILD_LOST] = "child processes not followed (target map full)",
};

void stats_report(struct stat_snapshot *st, struct bpf_map *stats, struct profile *p)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *vals = xcalloc(ncpus, sizeof(uint64_t));

	for (uint32_t slot = 0; slot < STAT_NSLOTS; slot++) {
		uint64_t total;

		if (bpf_map__lookup_elem(stats, &slot, sizeof(slot), vals, ncpus * sizeof(uint64_t), 0))
			continue;
		total = sum_percpu(vals, ncpus);
		if (stat_names[slot])
			profile_add_counter(p, stat_names[slot], total - st->last[slot]);
		st->last[slot] = total;
	}
	free(vals);
}

const uint64_t *stack_reader_get(struct stack_reader *r, int32_t id)
{
	bool found;
	uint64_t *slot, *ips;

	if (id < 0)
		return NULL;
	if (r->store)
		return uw_store_get(r->store, id);
	slot = hmap_upsert(&r->cache, (uint32_t)id, 0, 0, &found);
	if (!found) {
		struct bpf_map *m = r->alt && (uint32_t)id >= r->alt_base ? r->alt : r->map;
		size_t vsize = bpf_map__value_size(m);

		ips = xcalloc(vsize / sizeof(uint64_t) > (size_t)r->depth ? vsize / sizeof(uint64_t) : (size_t)r->depth,
			      sizeof(uint64_t));
		if (bpf_map__lookup_elem(m, &id, sizeof(id), ips, vsize, 0) == 0) {
			vec_push(&r->stacks, ips);
			*slot = r->stacks.n;
		} else {
			free(ips);
		}
	}
	return *slot ? r->stacks.v[*slot - 1] : NULL;
}

/* The target_pids value: a target, and with --unwind auto whether its
 * user stacks are unwound from .eh_frame. */
static uint8_t target_value(struct session *s, pid_t pid)
{
	return TARGET_PID | (s->o.unwind == UNWIND_AUTO && uw_pid_needs_dwarf(s, pid) ? TARGET_DWARF : 0);
}

int filter_add_pid(struct session *s, struct bpf_map *pids, pid_t pid)
{
	uint32_t id = pid;
	uint8_t v = target_value(s, pid);

	return bpf_map__update_elem(pids, &id, sizeof(id), &v, sizeof(v), BPF_ANY);
}
