/* mallocstacks: allocation and in-use (leak) profiles by stack, through
 * probes on the allocator the target actually uses. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cmdbase.h"
#include "mallocstacks.h"
#include "symbols/probepoint.h"
#include "mallocstacks.skel.h"
#include "core/session.h"
#include "symbols/procmaps.h"
#include "core/unwinder.h"
#include "cmd/goheap.h"

struct heap_last {
	struct heap_key key;
	struct heap_val val;
};

/* A Go target whose heap profile is read from its runtime's buckets. */
struct go_heap_target {
	struct go_heap *heap;
	char comm[32];
};

struct mallocstacks {
	struct cmd_base base;            /* first: the shared part (cmdbase.h) */
	struct mallocstacks_bpf *skel;
	const char *lib;
	const char *prefix;
	bool alloc_only;
	uint64_t sample_bytes;
	struct hmap last_index;          /* key hash -> index into last */
	VEC(struct heap_last) last;      /* alloc values already reported */
	uint64_t probed_fns;
	/* --unwind dwarf: totals by key in base.uw.table (cumulative, like
	 * the kernel's heap map), and the live allocations sent, by (pid, ptr). */
	struct hmap live;                /* (pid, ptr) -> index into live_v + 1 */
	VEC(struct heap_alloc) live_v;
	VEC(uint32_t) live_free;         /* unused slots of live_v */
	uint64_t unknown_frees;
	bool multi;                      /* uprobe_multi links (kernel 6.6+), in base.fds */
	VEC(struct go_heap_target) go;   /* Go targets read from their own heap profile */
};

enum { OPT_LIB = 0x5000, OPT_PREFIX, OPT_ALLOC_ONLY, OPT_SAMPLE_BYTES };

static const struct option mallocstacks_opts[] = {
	{ "lib", required_argument, 0, OPT_LIB },
	{ "symbol-prefix", required_argument, 0, OPT_PREFIX },
	{ "alloc-only", no_argument, 0, OPT_ALLOC_ONLY },
	{ "sample-bytes", required_argument, 0, OPT_SAMPLE_BYTES },
	{ 0 },
};

static const struct {
	const char *name;
	enum alloc_fn fn;
} alloc_fns[] = {
	{ "malloc", FN_MALLOC }, { "calloc", FN_CALLOC }, { "realloc", FN_REALLOC },
	{ "reallocarray", FN_REALLOCARRAY }, { "posix_memalign", FN_POSIX_MEMALIGN },
	{ "aligned_alloc", FN_MEMALIGN }, { "memalign", FN_MEMALIGN },
	{ "valloc", FN_MALLOC }, { "pvalloc", FN_MALLOC },
};

static int mallocstacks_parse(struct session *s, int opt, const char *arg)
{
	struct mallocstacks *ms = s->priv;

	switch (opt) {
	case OPT_LIB: ms->lib = arg; return 0;
	case OPT_PREFIX: ms->prefix = arg; return 0;
	case OPT_ALLOC_ONLY: ms->alloc_only = true; return 0;
	case OPT_SAMPLE_BYTES:
		if (!parse_u64(arg, &ms->sample_bytes) || ms->sample_bytes < 1 || ms->sample_bytes > (1ULL << 40)) {
			err_msg("--sample-bytes '%s': expected a number of bytes from 1 to 2^40", arg);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static void sym_name(struct mallocstacks *ms, const char *fn, char *out, size_t n)
{
	snprintf(out, n, "%s%s", ms->prefix ? ms->prefix : "", fn);
}

/* An allocator library must be an ELF file with malloc and free. */
static int check_lib(struct session *s, struct mallocstacks *ms, const char *path, bool usage)
{
	struct elf_syms *es = sym_elf_path(s->sym, path);
	char m[128], f[128];

	sym_name(ms, "malloc", m, sizeof(m));
	sym_name(ms, "free", f, sizeof(f));
	if (access(path, R_OK) < 0) {
		err_msg("--lib %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!es) {
		err_msg("%s %s: not an ELF file", usage ? "--lib" : "allocator", path);
		return -EINVAL;
	}
	if (!elf_sym_addr(es, m) || !elf_sym_addr(es, f)) {
		err_msg("%s %s: has no %s/%s (use --symbol-prefix for prefixed allocators)",
			usage ? "--lib" : "allocator", path, m, f);
		return -EINVAL;
	}
	return 0;
}

static int mallocstacks_validate(struct session *s)
{
	struct mallocstacks *ms = s->priv;
	int err = 0;

	if (ms->lib) {
		struct symbolizer *sym = s->sym;

		s->sym = symbolizer_new(); /* the session's is made later */
		err = check_lib(s, ms, ms->lib, true);
		symbolizer_free(s->sym);
		s->sym = sym;
	}
	return err;
}

static void mallocstacks_describe(struct session *s, struct profile *p)
{
	struct mallocstacks *ms = s->priv;

	profile_add_type(p, "alloc_objects", "count");
	profile_add_type(p, "alloc_space", "bytes");
	profile_add_type(p, "inuse_objects", "count");
	profile_add_type(p, "inuse_space", "bytes");
	p->default_type = ms->alloc_only ? 1 : 3;
	p->period_type.type = pf_str(p, "space");
	p->period_type.unit = pf_str(p, "bytes");
	p->period = ms->sample_bytes ? (int64_t)ms->sample_bytes : 1;
}

struct allocator_search {
	char best[PATH_MAX], libc[PATH_MAX];
};

static bool allocator_line(const struct map_line *m, void *ctx)
{
	static const char *const special[] = { "libjemalloc", "libtcmalloc", "libmimalloc" };
	struct allocator_search *as = ctx;

	if (m->path[0] != '/')
		return true;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]) && !as->best[0]; i++)
		if (procmaps_named(m->path, special[i], false))
			snprintf(as->best, sizeof(as->best), "%s", m->path);
	if (!as->libc[0] && procmaps_named(m->path, "libc", true))
		snprintf(as->libc, sizeof(as->libc), "%s", m->path);
	return !as->best[0];
}

/* The allocator a process uses: a mapped jemalloc/tcmalloc/mimalloc, else
 * its libc; found through /proc/PID/maps, opened through /proc/PID/root. */
static bool find_allocator(pid_t pid, char *out, size_t n)
{
	struct allocator_search as = { "", "" };

	if (procmaps_each(pid, allocator_line, &as) < 0 || (!as.best[0] && !as.libc[0]))
		return false;
	/* A path too long to reach through /proc/PID/root is not guessed at. */
	return snprintf(out, n, "/proc/%d/root%s", pid, as.best[0] ? as.best : as.libc) < (int)n;
}

static int attach_one(struct mallocstacks *ms, struct bpf_program *prog, bool ret, pid_t pid,
		      const char *path, uint64_t off, enum alloc_fn fn)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret, .bpf_cookie = fn);
	struct bpf_link *link;

	if (ms->multi) {
		uint64_t cookie = fn;
		int fd = uprobe_multi_attach(prog, path, pid, &off, &cookie, 1, ret);

		if (fd < 0)
			return fd;
		vec_push(&ms->base.fds, fd);
		return 0;
	}
	link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &uo);
	if (!link)
		return -errno;
	vec_push(&ms->base.links, link);
	return 0;
}

/* Entry and return probes on the allocator's functions: one link each
 * with uprobe_multi, else one per function. */
static int attach_fns(struct mallocstacks *ms, pid_t pid, const char *path, const uint64_t *offs,
		      const uint64_t *cookies, size_t n, const char *const *names)
{
	struct mallocstacks_bpf *skel = ms->skel;
	int err = 0;

	/* Return probes before entry probes: a call that entered before its
	 * entry probe existed must not meet a return probe that finds another
	 * call's record (the size would be that call's). */
	if (ms->multi && n) {
		int fd = 0;

		if (!ms->alloc_only) {
			fd = uprobe_multi_attach(skel->progs.heap_exit, path, pid, offs, cookies, n, true);
			if (fd >= 0)
				vec_push(&ms->base.fds, fd);
		}
		if (fd >= 0) {
			fd = uprobe_multi_attach(skel->progs.heap_enter, path, pid, offs, cookies, n, false);
			if (fd >= 0)
				vec_push(&ms->base.fds, fd);
		}
		if (fd < 0)
			err_msg("cannot probe the allocator in %s: %s", path, strerror(-fd));
		return fd < 0 ? fd : 0;
	}
	for (size_t i = 0; i < n && !err; i++) {
		if ((!ms->alloc_only &&
		     (err = attach_one(ms, skel->progs.heap_exit, true, pid, path, offs[i], cookies[i])) < 0) ||
		    (err = attach_one(ms, skel->progs.heap_enter, false, pid, path, offs[i], cookies[i])) < 0)
			err_msg("cannot probe %s in %s: %s", names[i], path, strerror(-err));
	}
	return err;
}

/* An entry probe's file offset, moved to the first emulated instruction
 * (probepoint.h); -v says where each probe sits and whether the kernel
 * emulates it there (jemalloc's malloc starts with a stepped cmp: redis
 * lost ~90% of its throughput to the single steps). */
static uint64_t entry_probe(struct session *s, const char *path, const char *name, uint64_t off,
			    unsigned reads)
{
	struct probe_place pl;

	probe_place_entry(path, off, reads, &pl);
	if (getenv("BPFPROF_PROBE_AT_ENTRY")) { /* bench/: the cost of not moving */
		probe_place_code(NULL, 0, off, reads, &pl);
		snprintf(pl.insn, sizeof(pl.insn), "(kept at the entry: BPFPROF_PROBE_AT_ENTRY)");
	}
	if (s->o.verbose)
		fprintf(stderr, "%s: probe %s at %s+0x%llx%s: %s (%s)\n", prog_name, name, path,
			(unsigned long long)pl.off, pl.moved ? " (moved past the prologue)" : "", pl.insn,
			pl.emulated ? "emulated" : "single-stepped");
	return pl.off;
}

static int attach_allocator(struct session *s, struct mallocstacks *ms, pid_t pid, const char *path)
{
	struct elf_syms *es = sym_elf_path(s->sym, path);
	struct mallocstacks_bpf *skel = ms->skel;
	uint64_t orig[16], done[16], cookies[16];
	const char *names[16];
	size_t ndone = 0;
	char name[128];
	uint64_t vaddr, off;
	int err;

	if (!es)
		return -ENOEXEC;
	for (size_t i = 0; i < sizeof(alloc_fns) / sizeof(alloc_fns[0]) && ndone < 16; i++) {
		bool dup = false;

		sym_name(ms, alloc_fns[i].name, name, sizeof(name));
		if (!(vaddr = elf_sym_addr(es, name)) || !elf_vaddr_to_offset(es, vaddr, &off))
			continue;
		for (size_t j = 0; j < ndone; j++)
			dup |= orig[j] == off; /* aliases (aligned_alloc = memalign) */
		if (dup)
			continue;
		names[ndone] = alloc_fns[i].name;
		cookies[ndone] = alloc_fns[i].fn;
		orig[ndone] = off;
		done[ndone++] = entry_probe(s, path, name, off, PROBE_C_ARGS(3));
		ms->probed_fns++;
	}
	/* free first: once an allocation is tracked, its free is seen (the
	 * other order left blocks freed in between as in use for ever). */
	if (!ms->alloc_only) {
		sym_name(ms, "free", name, sizeof(name));
		if ((vaddr = elf_sym_addr(es, name)) && elf_vaddr_to_offset(es, vaddr, &off) &&
		    (err = attach_one(ms, skel->progs.heap_free, false, pid, path,
				      entry_probe(s, path, name, off, PROBE_C_ARGS(1)), FN_COUNT)) < 0) {
			err_msg("cannot probe %s in %s: %s", name, path, strerror(-err));
			return err;
		}
	}
	if ((err = attach_fns(ms, pid, path, done, cookies, ndone, names)) < 0)
		return err;
	if (s->o.verbose)
		fprintf(stderr, "%s: probing the allocator in %s%s (%s)\n", prog_name, path,
			pid > 0 ? "" : " (all processes)", ms->multi ? "uprobe_multi links" : "a link per probe");
	return 0;
}

/* Go: runtime.mallocgc's entry (allocations only: Go frees by garbage
 * collection, and a return probe would crash the program). */
static int attach_go(struct session *s, struct mallocstacks *ms, pid_t pid, const char *exe)
{
	struct elf_syms *es = sym_elf_path(s->sym, exe);
	uint64_t vaddr, off;
	int err;

	if (!es || !es->is_go || !(vaddr = elf_sym_addr(es, "runtime.mallocgc")) ||
	    !elf_vaddr_to_offset(es, vaddr, &off))
		return 0;
	off = entry_probe(s, exe, "runtime.mallocgc", off, PROBE_GO_ABI);
	if ((err = attach_one(ms, ms->skel->progs.heap_enter, false, pid, exe, off, FN_GO_MALLOCGC)) < 0) {
		err_msg("cannot probe runtime.mallocgc in %s: %s", exe, strerror(-err));
		return err;
	}
	ms->probed_fns++;
	if (s->o.verbose)
		fprintf(stderr, "%s: Go target %d: probing runtime.mallocgc\n", prog_name, pid);
	return 1;
}

static int attach_targets(struct session *s, struct mallocstacks *ms)
{
	char lib[PATH_MAX], exe[PATH_MAX];
	int err;

	if (!s->o.pids.n && s->o.follow)
		return 0; /* --follow attaches to each process as it appears */
	if (!s->o.pids.n) { /* system-wide or a cgroup: every user of our libc */
		if (!ms->lib && !find_allocator(getpid(), lib, sizeof(lib)))
			return -ENOENT;
		return attach_allocator(s, ms, -1, ms->lib ? ms->lib : lib);
	}
	for (size_t i = 0; i < s->o.pids.n; i++) {
		pid_t pid = s->o.pids.v[i];
		bool is_cmd = s->o.cmd && pid == s->child;
		bool go = false;

		if (session_target_exe(s, pid, exe, sizeof(exe))) {
			struct elf_syms *es = sym_elf_path(s->sym, exe);
			char why[512];

			/* A running Go program (-p): its own heap profile. A
			 * -- CMD may end before it can be read: its allocations
			 * are counted at runtime.mallocgc instead. */
			if (es && es->is_go && !ms->alloc_only && !is_cmd) {
				struct go_heap_target g = { .heap = go_heap_open(pid, exe, why, sizeof(why)) };

				if (g.heap) {
					/* Go's own heap profile: no probe at all. */
					char path[64], *c;
					size_t len;

					snprintf(path, sizeof(path), "/proc/%d/comm", pid);
					if (!is_cmd && (c = read_whole_file(path, &len))) {
						snprintf(g.comm, sizeof(g.comm), "%.*s", (int)strcspn(c, "\n"), c);
						free(c);
					} else {
						const char *base = strrchr(exe, '/');

						snprintf(g.comm, sizeof(g.comm), "%.15s", base ? base + 1 : exe);
					}
					vec_push(&ms->go, g);
					ms->probed_fns++;
					if (s->o.verbose)
						fprintf(stderr, "%s: Go target %d: its heap profile from runtime.mbuckets\n",
							prog_name, pid);
					continue;
				}
				warn_msg("pid %d: Go's heap profile not readable (%s): allocations from runtime.mallocgc, "
					 "in-use not measured", pid, why);
			}
			if ((err = attach_go(s, ms, pid, exe)) < 0)
				return err;
			go = err > 0;
		}
		if (ms->lib) {
			snprintf(lib, sizeof(lib), "%s", ms->lib);
		} else if (is_cmd) {
			/* Not exec'd yet: it will load the libc we use, or what
			 * LD_PRELOAD names. */
			const char *pre = getenv("LD_PRELOAD");

			if (pre && *pre && !strchr(pre, ' ') && !strchr(pre, ':'))
				snprintf(lib, sizeof(lib), "%s", pre);
			else if (!find_allocator(getpid(), lib, sizeof(lib)))
				continue;
		} else if (!find_allocator(pid, lib, sizeof(lib))) {
			if (go)
				continue; /* a pure Go program: mallocgc is all there is */
			err_msg("pid %d: no malloc library mapped (a static binary? use --lib PATH)", pid);
			return -EINVAL;
		}
		/* -- CMD: its children (sh -c, make, a forking server) are
		 * targets too. They run other binaries with the same libc, in
		 * other address spaces, so the probes go on the file for every
		 * process and the kernel filter (which follows forks) keeps
		 * only the command's tree. */
		if ((err = attach_allocator(s, ms, is_cmd ? -1 : pid, lib)) < 0)
			return err;
	}
	return ms->probed_fns || s->o.follow ? 0 : -ENOENT;
}

_Static_assert(sizeof(struct heap_uw_payload) <= UW_PAYLOAD, "payload too big");

static void merge_heap(void *dst, const void *src)
{
	struct heap_val *d = dst;
	const struct heap_val *v = src;

	d->alloc_objects += v->alloc_objects;
	d->alloc_bytes += v->alloc_bytes;
	d->inuse_objects += v->inuse_objects;
	d->inuse_bytes += v->inuse_bytes;
}

/* --unwind dwarf: an allocation (unwound; tracked when it has a pointer)
 * or the free of a tracked one. */
/* A free of a live allocation (by its record, or one the ring had no room
 * for: lost_frees). */
static void apply_free(struct mallocstacks *ms, struct uw_table *table, uint32_t pid, uint64_t ptr)
{
	uint64_t *slot = hmap_get(&ms->live, pid, ptr);
	struct heap_alloc *a;

	if (!slot) {
		ms->unknown_frees++; /* its allocation's record was lost */
		return;
	}
	a = &ms->live_v.v[*slot - 1];
	struct heap_val v = { .inuse_objects = -(int64_t)a->weight,
			      .inuse_bytes = -(int64_t)(a->size * a->weight) };

	uw_table_add(table, &a->key, &v);
	vec_push(&ms->live_free, (uint32_t)(*slot - 1));
	hmap_delete(&ms->live, pid, ptr);
}

static void lost_free(const void *k, const void *v, void *ctx)
{
	const struct alloc_key *ak = k;
	struct mallocstacks *ms = ctx;

	apply_free(ms, &ms->base.uw.table, ak->pid, ak->ptr);
}

static void heap_record(struct uw_ctx *u, const struct uw_record *r, size_t len)
{
	struct mallocstacks *ms = u->cmd;

	if (r->type == HEAP_REC_FREE && len >= sizeof(struct heap_uw_free)) {
		const struct heap_uw_free *fr = (const void *)r;

		apply_free(ms, &u->table, fr->pid, fr->ptr);
		return;
	}
	if (r->type != HEAP_REC_ALLOC || len < sizeof(*r))
		return;
	struct heap_uw_payload pl;

	memcpy(&pl, r->payload, sizeof(pl));
	pl.key.ustack = uw_user_stack(u, r, len, pl.entry_ip);
	struct heap_val v = { .alloc_objects = (int64_t)pl.weight,
			      .alloc_bytes = (int64_t)(pl.size * pl.weight) };

	if (pl.ptr) {
		struct heap_alloc a = { .size = pl.size, .weight = pl.weight, .key = pl.key };
		bool found;
		uint64_t *slot = hmap_upsert(&ms->live, pl.key.pid, pl.ptr, 0, &found);

		if (found) { /* freed while its free was lost: replace */
			struct heap_alloc *old = &ms->live_v.v[*slot - 1];
			struct heap_val ov = { .inuse_objects = -(int64_t)old->weight,
					       .inuse_bytes = -(int64_t)(old->size * old->weight) };

			uw_table_add(&u->table, &old->key, &ov);
			*old = a;
		} else if (ms->live_free.n) {
			uint32_t i = ms->live_free.v[--ms->live_free.n];

			ms->live_v.v[i] = a;
			*slot = i + 1;
		} else {
			vec_push(&ms->live_v, a);
			*slot = ms->live_v.n;
		}
		v.inuse_objects = v.alloc_objects;
		v.inuse_bytes = v.alloc_bytes;
	}
	uw_table_add(&u->table, &pl.key, &v);
}

/* Opens, configures and loads; with multi, the uprobe programs are loaded
 * for uprobe_multi links. */
static int open_and_load(struct session *s, struct mallocstacks *ms, bool multi)
{
	struct mallocstacks_bpf *skel;
	int err;

	if ((err = CMD_OPEN(s, &ms->base, mallocstacks, &ms->skel)) < 0)
		return err;
	skel = ms->skel;
	skel->rodata->alloc_only = ms->alloc_only;
	skel->rodata->sample_bytes = ms->sample_bytes;
	if (multi) {
		uprobe_multi_prepare(skel->progs.heap_enter);
		uprobe_multi_prepare(skel->progs.heap_exit);
		uprobe_multi_prepare(skel->progs.heap_free);
	}
	if ((err = cmd_prepare(s, &ms->base, NULL, UW_RING_EVENTS)) < 0)
		return err;
	if ((err = bpf_map__set_max_entries(skel->maps.heap, s->o.max_stacks) ?:
		   bpf_map__set_max_entries(skel->maps.allocs, 1 << 20) ?:
		   bpf_map__set_max_entries(skel->maps.pending, 65536) ?:
		   bpf_map__set_max_entries(skel->maps.sample_left, 65536))) {
		err_msg("cannot size the mallocstacks maps: %s", strerror(-err));
		return err;
	}
	ms->multi = multi;
	return mallocstacks_bpf__load(skel);
}

static int mallocstacks_start(struct session *s)
{
	struct mallocstacks *ms = s->priv;
	static const struct cmd_records rec = {
		.handle = heap_record, .key_size = sizeof(struct heap_key), .val_size = sizeof(struct heap_val),
		.merge = merge_heap, .layout = { offsetof(struct heap_key, ustack), 0, 0 },
	};
	struct mallocstacks_bpf *skel;
	int err;

	/* uprobe_multi links first; an older kernel loads one link per probe. */
	if ((err = open_and_load(s, ms, true)) < 0) {
		mallocstacks_bpf__destroy(ms->skel);
		ms->skel = NULL;
		err = open_and_load(s, ms, false);
	}
	if ((err = cmd_loaded(s, &ms->base, err, &rec)) < 0)
		return err;
	skel = ms->skel;
	for (uint32_t i = 0; i < LN_TABLE_SIZE; i++) {
		uint32_t v = (uint32_t)(-log((i + 0.5) / LN_TABLE_SIZE) * 1024);

		bpf_map__update_elem(skel->maps.ln_table, &i, sizeof(i), &v, sizeof(v), BPF_ANY);
	}
	struct bpf_link *exit_link = bpf_program__attach(skel->progs.heap_thread_exit);

	if (!exit_link) {
		err = -errno;
		err_msg("cannot attach to sched_process_exit: %s", strerror(-err));
		return err;
	}
	vec_push(&ms->base.links, exit_link);
	if ((err = filter_follow_attach(skel->obj, &ms->base.links)) < 0)
		return err;
	err = attach_targets(s, ms);
	if (err == -ENOENT)
		err_msg("found no allocator to probe (use --lib PATH)");
	return err == -EINVAL ? -EINVAL : err;
}

static void mallocstacks_scan(struct session *s)
{
	struct mallocstacks *ms = s->priv;

	cmd_note_map_pids(s, ms->skel->maps.heap);
	/* Go targets: read while they live (a -- CMD is gone by the end). */
	for (size_t i = 0; i < ms->go.n; i++)
		go_heap_read(ms->go.v[i].heap);
}

struct ms_drain {
	struct session *s;
	struct mallocstacks *ms;
	struct stack_builder *b;
	struct stack_reader *sr;
};

/* alloc values per interval (difference from what was reported before);
 * in-use values as they are now. */
static void add_entry(const void *kp, const void *vp, void *ctx)
{
	const struct heap_key *k = kp;
	const struct heap_val *v = vp;
	struct ms_drain *d = ctx;
	struct mallocstacks *ms = d->ms;
	bool found;
	uint64_t *slot = hmap_upsert(&ms->last_index, hash_bytes(k, sizeof(*k)), 0, ms->last.n, &found);
	struct heap_last *last;
	int64_t values[4];
	char comm[TASK_COMM_LEN + 1] = { 0 };

	if (!found)
		vec_push(&ms->last, ((struct heap_last){ *k, { 0 } }));
	last = &ms->last.v[*slot];
	values[0] = v->alloc_objects - last->val.alloc_objects;
	values[1] = v->alloc_bytes - last->val.alloc_bytes;
	values[2] = v->inuse_objects;
	values[3] = v->inuse_bytes;
	last->val = *v;
	if (!values[0] && !values[1] && !values[2] && !values[3])
		return;
	cmd_note(d->s, k->pid, k->exec);
	memcpy(comm, k->comm, TASK_COMM_LEN);
	stack_begin(d->b);
	stack_reader_add_entry(d->sr, d->b, k->ustack, k->pid, k->exec, STACK_USER, k->entry_ret);
	stack_commit(d->b, values, k->pid, k->pid, comm, NULL, 0);
}

static int mallocstacks_collect(struct session *s, struct profile *p)
{
	struct mallocstacks *ms = s->priv;
	struct stack_builder b;
	struct ms_drain d = { .s = s, .ms = ms, .b = &b };
	int err;

	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	d.sr = stack_reader_new(ms->skel->maps.stacks, s->o.max_depth);
	err = map_drain(ms->skel->maps.heap, sizeof(struct heap_key), sizeof(struct heap_val), add_entry, &d, false);
	stack_reader_free(d.sr);
	if (ms->base.uw.rb) {
		/* Totals stay (in-use is cumulative); stacks stay with them. */
		uw_poll(&ms->base.uw, 0);
		/* After the records: the allocations they free were sent first. */
		map_drain(ms->skel->maps.lost_frees, sizeof(struct alloc_key), sizeof(uint8_t), lost_free, ms, true);
		d.sr = stack_reader_new_store(&ms->base.uw.store, s->o.max_depth);
		uw_table_each(&ms->base.uw.table, add_entry, &d);
		stack_reader_free(d.sr);
		if (ms->unknown_frees)
			profile_add_counter(p, "frees of unrecorded allocations", ms->unknown_frees);
		ms->unknown_frees = 0;
	}
	for (size_t i = 0; i < ms->go.n; i++) {
		struct go_heap_target *g = &ms->go.v[i];

		go_heap_read(g->heap); /* or the last read, if it exited */
		session_note_pid(s, go_heap_pid(g->heap), 0);
		go_heap_add(g->heap, &b, g->comm);
	}
	stack_builder_free(&b);
	cmd_report(&ms->base, p);
	return err;
}

static void mallocstacks_stop(struct session *s)
{
	struct mallocstacks *ms = s->priv;

	cmd_stop(&ms->base);
	for (size_t i = 0; i < ms->go.n; i++)
		go_heap_free(ms->go.v[i].heap);
	vec_free(&ms->go);
	vec_free(&ms->last);
	hmap_free(&ms->last_index);
	hmap_free(&ms->live);
	vec_free(&ms->live_v);
	vec_free(&ms->live_free);
	mallocstacks_bpf__destroy(ms->skel);
}

static int mallocstacks_add_pid(struct session *s, pid_t pid)
{
	struct mallocstacks *x = s->priv;
	char lib[PATH_MAX], exe[PATH_MAX];
	int err = cmd_add_pid(s, pid);

	if (err)
		return err;
	session_target_exe(s, pid, exe, sizeof(exe));
	if ((err = attach_go(s, x, pid, exe)) < 0)
		return err;
	if (x->lib)
		snprintf(lib, sizeof(lib), "%s", x->lib);
	else if (!find_allocator(pid, lib, sizeof(lib)))
		return err > 0 ? 0 : -ENOENT;
	return attach_allocator(s, x, pid, lib);
}

const struct command mallocstacks_command = {
	.name = "mallocstacks",
	.summary = "Allocations and in-use (leaked) memory by stack (Go's heap profile).",
	.options_help =
		"      --alloc-only         allocation volume only: entry probes, no frees (cheaper)\n"
		"      --sample-bytes N     record about one allocation per N bytes, scaled (like\n"
		"                           Go's MemProfileRate)\n"
		"      --lib PATH           the allocator library (default: a mapped jemalloc,\n"
		"                           tcmalloc or mimalloc, else libc)\n"
		"      --symbol-prefix PFX  allocator symbols are PFX + malloc, free, ... (e.g. je_)\n",
	.long_opts = mallocstacks_opts,
	.parse_opt = mallocstacks_parse,
	.validate = mallocstacks_validate,
	.start = mallocstacks_start,
	.scan = mallocstacks_scan,
	.collect = mallocstacks_collect,
	.stop = mallocstacks_stop,
	.describe = mallocstacks_describe,
	.add_pid = mallocstacks_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct mallocstacks),
};
