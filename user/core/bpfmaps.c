#include "core/bpfmaps.h"
#include "core/unwinder.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	int *cpus = NULL, ncpus = online_cpus(&cpus), err = 0;
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

int perf_attach_cpu_clock(struct bpf_program *prog, uint64_t period_ns, link_vec *links, fd_vec *fds)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		/* cpu-clock counts nanoseconds: a fixed period gives exact Hz
		 * and makes cpu time = samples x period. */
		.sample_period = period_ns,
	};

	return perf_attach_all_cpus(prog, &attr, 0, "cpu-clock", links, fds);
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
	[STAT_UNWIND_UNSUPPORTED] = "walks stopped by an unsupported unwind rule",
	[STAT_UNWIND_READ] = "walks stopped by an unreadable stack",
	[STAT_UNWIND_DEPTH] = "stacks truncated at 127 frames",
	[STAT_UNWIND_NO_TABLE] = "stacks walked by frame pointers (no table loaded)",
	[STAT_ALLOC_FAILED] = "entries not stored (no memory at hand in the kernel's atomic context)",
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
