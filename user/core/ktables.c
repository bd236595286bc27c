/* --unwind tables: loading unwind tables into the BPF walker's maps. */
#include "core/ktables.h"
#include "symbols/unwind_table.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int ktables_init(struct ktables *kt, struct bpf_object *obj, struct symbolizer *sym, uint64_t budget,
		 bool verbose)
{
	memset(kt, 0, sizeof(*kt));
	kt->files = bpf_object__find_map_by_name(obj, "kt_files");
	kt->procs = bpf_object__find_map_by_name(obj, "kt_procs");
	kt->wanted = bpf_object__find_map_by_name(obj, "kt_wanted");
	kt->sym = sym;
	kt->next_file = 1;
	kt->budget = budget;
	kt->verbose = verbose;
	return kt->files && kt->procs ? 0 : -ENOENT;
}

static uint64_t table_bytes(uint32_t rows)
{
	return (uint64_t)rows * sizeof(struct ut_row);
}

/* Drops the least recently used table that no process being loaded now
 * needs (used before `now`); false if there is none. Processes that map
 * the file walk its code by frame pointer (counted by the walker) until
 * one of them is noted again and it is rebuilt. */
static bool evict_one(struct ktables *kt, uint64_t now)
{
	struct kt_file *lru = NULL;

	for (size_t i = 0; i < kt->known.n; i++) {
		struct kt_file *f = &kt->known.v[i];

		if (f->id && f->used < now && (!lru || f->used < lru->used))
			lru = f;
	}
	if (!lru)
		return false;
	bpf_map__delete_elem(kt->files, &lru->id, sizeof(lru->id), 0);
	kt->bytes -= table_bytes(lru->rows);
	if (kt->verbose)
		fprintf(stderr, "%s: unwind table of %s evicted (%llu KiB; --table-memory)\n", prog_name,
			lru->path, (unsigned long long)table_bytes(lru->rows) / 1024);
	lru->id = lru->rows = 0;
	lru->evicted = true;
	lru->evicted_ns = now_ns(CLOCK_MONOTONIC);
	kt->evicted++;
	return true;
}

/* Loads t as file `id`'s rows: 0 or -errno. */
static int load_rows(struct ktables *kt, uint32_t id, const struct unwind_table *t)
{
	/* Flags as the outer map's template has them (sizes may differ). */
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP);
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kt_rows", sizeof(uint32_t), sizeof(struct ut_row),
			    (uint32_t)t->rows.n, &mo);
	err = fd < 0 ? -errno : 0;
	if (!err) {
		/* Rows in chunks: one system call per 4096 rows. */
		uint32_t keys[4096];

		for (size_t i = 0; i < t->rows.n && !err; i += 4096) {
			uint32_t n = t->rows.n - i < 4096 ? (uint32_t)(t->rows.n - i) : 4096;

			for (uint32_t k = 0; k < n; k++)
				keys[k] = (uint32_t)(i + k);
			if (bpf_map_update_batch(fd, keys, &t->rows.v[i], &n, NULL) < 0)
				err = -errno;
		}
	}
	if (!err && bpf_map__update_elem(kt->files, &id, sizeof(id), &fd, sizeof(fd), BPF_ANY) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd); /* the outer map holds it */
	return err;
}

/* An evicted table is built again when a process needs it, at most every
 * 5 s: a bound too small for the working set would otherwise rebuild
 * tables at every turn. */
static bool rebuild_due(const struct kt_file *f)
{
	return f->evicted && now_ns(CLOCK_MONOTONIC) - f->evicted_ns > 5000000000ULL;
}

/* The file's record, added when new. */
static struct kt_file *file_of(struct ktables *kt, struct elf_syms *es, const char *path)
{
	bool found;
	uint64_t *slot = hmap_upsert(&kt->by_elf, (uintptr_t)es, 0, kt->known.n, &found);

	if (!found)
		vec_push(&kt->known, ((struct kt_file){ .es = es, .path = xstrdup(path) }));
	return &kt->known.v[*slot];
}

/* The file's table in the kernel, built and loaded when new or evicted:
 * its id << 32 | rows (0: no table). */
static uint64_t file_table(struct ktables *kt, struct elf_syms *es, const char *path)
{
	struct kt_file *f = file_of(kt, es, path);
	struct unwind_table t;
	uint64_t bytes;
	int err;

	f->used = kt->clock;
	if (f->id || (f->tried && !rebuild_due(f))) /* loaded, or no table to load (yet) */
		return (uint64_t)f->id << 32 | f->rows;
	f->tried = true;
	if (unwind_table_build(es, &t) < 0 || !t.rows.n) {
		kt->files_without++;
		return 0;
	}
	bytes = table_bytes((uint32_t)t.rows.n);
	while (kt->bytes + bytes > kt->budget && evict_one(kt, kt->clock))
		;
	if (kt->bytes + bytes > kt->budget) {
		/* Larger than the bound, or the bound is taken by this process's
		 * own files: its code is stepped by frame pointer (counted), and
		 * the file is not built again. */
		if (kt->verbose)
			fprintf(stderr, "%s: unwind table of %s not loaded: %llu KiB past --table-memory\n",
				prog_name, path, (unsigned long long)bytes / 1024);
		kt->refused++;
		f->evicted = false;
		unwind_table_free(&t);
		return 0;
	}
	err = load_rows(kt, kt->next_file, &t);
	if (err) {
		warn_msg("cannot load an unwind table (%zu rows): %s", t.rows.n, strerror(-err));
		unwind_table_free(&t);
		return 0;
	}
	f->id = kt->next_file++;
	f->rows = (uint32_t)t.rows.n;
	f->evicted = false;
	kt->bytes += bytes;
	kt->rows += t.rows.n;
	kt->build_ns += t.build_ns;
	if (kt->verbose)
		fprintf(stderr, "%s: unwind table of %s: %zu rows (%zu KiB), built in %.1f ms\n", prog_name,
			path, t.rows.n, t.rows.n * sizeof(struct ut_row) / 1024, t.build_ns / 1e6);
	unwind_table_free(&t);
	return (uint64_t)f->id << 32 | f->rows;
}

/* ---- tables built before the probes attach ---------------------------- */

/* Where the dynamic loader would find a DT_NEEDED name: the file's
 * DT_RUNPATH/DT_RPATH ($ORIGIN: its directory), LD_LIBRARY_PATH (a command
 * inherits ours), the default directories. No ld.so.cache: a library found
 * only there is built when mapped, as before. */
bool ktables_find_library(const char *name, const char *runpath, const char *origin, char *out, size_t n)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
					    "/usr/lib64", "/lib", "/usr/lib" };
	const char *lists[2] = { runpath, getenv("LD_LIBRARY_PATH") };

	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(out, R_OK) == 0;
	}
	for (int l = 0; l < 2; l++) {
		char copy[1024], *save = NULL;

		if (!lists[l])
			continue;
		snprintf(copy, sizeof(copy), "%s", lists[l]);
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if (!strncmp(d, "$ORIGIN", 7))
				snprintf(out, n, "%s%s/%s", origin, d + 7, name);
			else
				snprintf(out, n, "%s/%s", d, name);
			if (access(out, R_OK) == 0)
				return true;
		}
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, n, "%s/%s", dirs[i], name);
		if (access(out, R_OK) == 0)
			return true;
	}
	return false;
}

struct dep_walk {
	VEC(char *) files;                /* found so far, each once */
	char runpath[1024];               /* of the file being read */
	VEC(char *) needed;
	const char *origin;
};

static void on_dep(void *ctx, enum elf_dep kind, const char *text)
{
	struct dep_walk *w = ctx;

	if (kind == ELF_DEP_RUNPATH)
		snprintf(w->runpath, sizeof(w->runpath), "%s", text);
	else
		vec_push(&w->needed, xstrdup(text)); /* the interpreter: an absolute path */
}

static void add_file(struct dep_walk *w, const char *path)
{
	for (size_t i = 0; i < w->files.n; i++)
		if (!strcmp(w->files.v[i], path))
			return;
	vec_push(&w->files, xstrdup(path));
}

void ktables_prebuild(struct ktables *kt, const char *path, bool with_deps)
{
	struct dep_walk w = { 0 };
	char found[PATH_MAX];

	if (!kt->files)
		return;
	kt->clock++;
	add_file(&w, path);
	/* Breadth first through what the loader will map (at most 256 files). */
	for (size_t i = 0; i < w.files.n && i < 256; i++) {
		struct elf_syms *es = sym_elf_path(kt->sym, w.files.v[i]);
		char dir[PATH_MAX], *slash;

		if (!es)
			continue;
		file_table(kt, es, w.files.v[i]);
		if (!with_deps)
			continue;
		snprintf(dir, sizeof(dir), "%s", w.files.v[i]);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		w.origin = slash ? dir : ".";
		w.runpath[0] = 0;
		elf_dependencies(es, on_dep, &w);
		for (size_t j = 0; j < w.needed.n; j++) {
			if (ktables_find_library(w.needed.v[j], w.runpath[0] ? w.runpath : NULL, w.origin, found,
					 sizeof(found)))
				add_file(&w, found);
			free(w.needed.v[j]);
		}
		w.needed.n = 0;
	}
	for (size_t i = 0; i < w.files.n; i++)
		free(w.files.v[i]);
	vec_free(&w.files);
	vec_free(&w.needed);
}

/* A process's executable mappings, those with a table first when there are
 * more than the walker takes. */
struct proc_fill {
	struct ktables *kt;
	VEC(struct kt_map) maps;
};

static void add_vma(void *ctx, uint64_t start, uint64_t end, uint64_t pgoff, const char *path,
		    struct elf_syms *es)
{
	struct proc_fill *f = ctx;
	/* Code without a table (no CFI, JIT code, anonymous memory) is listed
	 * too, as nrows 0: the walker steps it by frame pointer, and tells it
	 * apart from mappings not loaded yet (counted). */
	struct kt_map m = { .start = start, .end = end };
	uint64_t vaddr;

	if (es && elf_offset_to_vaddr(es, pgoff, &vaddr)) {
		uint64_t table = file_table(f->kt, es, path);

		/* A row's pc is (vaddr - base); vaddr = address - start + (vaddr at pgoff). */
		m.bias = start - (vaddr - unwind_table_base(es));
		m.file = (uint32_t)(table >> 32);
		m.nrows = (uint32_t)table;
	}
	vec_push(&f->maps, m);
}

static int by_tables_first(const void *a, const void *b)
{
	const struct kt_map *x = a, *y = b;

	if (!x->nrows != !y->nrows)
		return x->nrows ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int by_start(const void *a, const void *b)
{
	const struct kt_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int ktables_add_pid(struct ktables *kt, pid_t pid, uint32_t exec)
{
	struct proc_fill f = { .kt = kt };
	struct kt_proc p = { .exec = exec };
	uint32_t key = pid;
	int err = 0;

	sym_each_exec_vma(kt->sym, pid, exec, add_vma, &f);
	if (f.maps.n > KT_MAX_MAPS) {
		vec_sort(&f.maps, by_tables_first);
		f.maps.n = KT_MAX_MAPS;
	}
	vec_sort(&f.maps, by_start);
	for (size_t i = 0; i < f.maps.n; i++)
		p.maps[p.n++] = f.maps.v[i];
	if (p.n && bpf_map__update_elem(kt->procs, &key, sizeof(key), &p, sizeof(p), BPF_ANY) < 0)
		err = -errno;
	vec_free(&f.maps);
	return err;
}

struct proc_count {
	struct ktables *kt;
	uint64_t files;
	bool evicted;                     /* maps a file whose table was evicted */
};

/* Counts pid's mappings, and marks their files used now (the LRU). */
static void count_vma(void *ctx, uint64_t start, uint64_t end, uint64_t pgoff, const char *path,
		      struct elf_syms *es)
{
	struct proc_count *c = ctx;
	uint64_t *i = es ? hmap_get(&c->kt->by_elf, (uintptr_t)es, 0) : NULL;

	c->files++;
	if (i) {
		c->kt->known.v[*i].used = c->kt->clock;
		c->evicted |= rebuild_due(&c->kt->known.v[*i]);
	}
}

void ktables_note(struct ktables *kt, pid_t pid, uint32_t exec)
{
	struct proc_count c = { .kt = kt };
	uint64_t *slot;
	bool found;

	if (!kt->files || pid <= 0)
		return;
	kt->clock++;
	/* Again when the image maps more files (a program's libraries come
	 * one by one after its exec; dlopen later), or maps one whose table
	 * was evicted (rebuilt now: it was used more recently than others). */
	sym_each_exec_vma(kt->sym, pid, exec, count_vma, &c);
	slot = hmap_upsert(&kt->loaded, (uint32_t)pid, exec, 0, &found);
	if (*slot == c.files + 1 && !c.evicted)
		return;
	*slot = c.files + 1;
	kt->loads++;
	ktables_add_pid(kt, pid, exec);
}

/* Drops the mappings of processes that exited (kt_procs has room for
 * 4096, and a new process may get an old one's pid). */
static void prune_exited(struct ktables *kt)
{
	int fd = bpf_map__fd(kt->procs);
	uint32_t key, next, dead[256];
	size_t n = 0;
	struct kt_proc p;

	for (uint32_t *prev = NULL; n < 256 && bpf_map_get_next_key(fd, prev, &next) == 0;
	     key = next, prev = &key)
		if (kill((pid_t)next, 0) < 0 && errno == ESRCH)
			dead[n++] = next;
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &dead[i], &p) == 0)
			hmap_delete(&kt->loaded, dead[i], p.exec);
		bpf_map_delete_elem(fd, &dead[i]);
	}
}

bool ktables_poll(struct ktables *kt, ktables_refresh_fn refresh, void *ctx)
{
	uint32_t before = kt->loads;

	if (!kt->files)
		return false;
	if (now_ns(CLOCK_MONOTONIC) - kt->pruned_ns > 1000000000ULL) {
		prune_exited(kt);
		kt->pruned_ns = now_ns(CLOCK_MONOTONIC);
	}
	/* Processes the walker met without tables (system-wide newcomers), or
	 * in code their tables lack (mapped since). */
	for (uint32_t tgid, n = 0; kt->wanted && n < 1024 &&
	     bpf_map_lookup_and_delete_elem(bpf_map__fd(kt->wanted), NULL, &tgid) == 0; n++)
		vec_push(&kt->pending, (pid_t)tgid);
	for (size_t i = 0, j = 0, n = kt->pending.n; i < n; i++, kt->pending.n = j) {
		pid_t pid = kt->pending.v[i];
		uint32_t exec;

		if (refresh(ctx, pid, &exec))
			ktables_note(kt, pid, exec);
		else if (kill(pid, 0) == 0 || errno != ESRCH)
			kt->pending.v[j++] = pid; /* its mappings not known yet: next turn */
	}
	return kt->loads != before;
}

void ktables_report(struct ktables *kt)
{
	uint64_t evicted = kt->evicted - kt->reported_evicted, refused = kt->refused - kt->reported_refused;

	/* A cause, not a loss: the samples it affects are counted as walked
	 * by frame pointers. */
	if (evicted || refused)
		warn_msg("unwind tables over --table-memory %llu MiB: %llu evicted, %llu not loaded; "
			 "their code was walked by frame pointers (raise --table-memory)",
			 (unsigned long long)(kt->budget >> 20), (unsigned long long)evicted,
			 (unsigned long long)refused);
	kt->reported_evicted = kt->evicted;
	kt->reported_refused = kt->refused;
}

void ktables_free(struct ktables *kt)
{
	if (kt->files && kt->verbose)
		fprintf(stderr, "%s: unwind tables: %u built (%llu rows, %.1f ms), %u files without "
			"CFI; %llu KiB in the kernel at the end; %llu evicted, %llu not loaded\n", prog_name,
			kt->next_file - 1, (unsigned long long)kt->rows, kt->build_ns / 1e6, kt->files_without,
			(unsigned long long)kt->bytes / 1024, (unsigned long long)kt->evicted,
			(unsigned long long)kt->refused);
	for (size_t i = 0; i < kt->known.n; i++)
		free(kt->known.v[i].path);
	vec_free(&kt->known);
	vec_free(&kt->pending);
	hmap_free(&kt->by_elf);
	hmap_free(&kt->loaded);
}
