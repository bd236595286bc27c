/* --unwind tables: loading unwind tables into the BPF walker's maps. */
#include "core/ktables.h"
#include "symbols/unwind_table.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Finds the maps in obj (which has bpf/ktables.bpf.h), after load. */
static int ktables_init(struct ktables *kt, struct bpf_object *obj, bool verbose)
{
	memset(kt, 0, sizeof(*kt));
	kt->files = bpf_object__find_map_by_name(obj, "kt_files");
	kt->procs = bpf_object__find_map_by_name(obj, "kt_procs");
	kt->wanted = bpf_object__find_map_by_name(obj, "kt_wanted");
	kt->next_file = 1;
	kt->verbose = verbose;
	return kt->files && kt->procs ? 0 : -ENOENT;
}

/* The file's table in the kernel: its id and rows (0 rows: no table). */
static uint64_t file_table(struct ktables *kt, struct elf_syms *es, const char *path)
{
	struct unwind_table t;
	uint64_t *slot;
	bool found;
	int fd, err;
	uint32_t id;

	slot = hmap_upsert(&kt->by_elf, (uintptr_t)es, 0, 0, &found);
	if (found)
		return *slot;
	if (unwind_table_build(es, &t) < 0 || !t.rows.n) {
		kt->files_without++;
		return 0;
	}
	id = kt->next_file++;
	/* Flags as the outer map's template has them (sizes may differ). */
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP);

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kt_rows", sizeof(uint32_t), sizeof(struct ut_row),
			    (uint32_t)t.rows.n, &mo);
	err = fd < 0 ? -errno : 0;
	if (!err) {
		/* Rows in chunks: one system call per 4096 rows. */
		uint32_t keys[4096];

		for (size_t i = 0; i < t.rows.n && !err; i += 4096) {
			uint32_t n = t.rows.n - i < 4096 ? (uint32_t)(t.rows.n - i) : 4096;

			for (uint32_t k = 0; k < n; k++)
				keys[k] = (uint32_t)(i + k);
			if (bpf_map_update_batch(fd, keys, &t.rows.v[i], &n, NULL) < 0)
				err = -errno;
		}
	}
	if (!err && bpf_map__update_elem(kt->files, &id, sizeof(id), &fd, sizeof(fd), BPF_ANY) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd); /* the outer map holds it */
	if (err) {
		warn_msg("cannot load an unwind table (%zu rows): %s", t.rows.n, strerror(-err));
		unwind_table_free(&t);
		*slot = 0;
		return 0;
	}
	kt->rows += t.rows.n;
	kt->build_ns += t.build_ns;
	if (kt->verbose)
		fprintf(stderr, "%s: unwind table of %s: %zu rows (%zu KiB), built in %.1f ms\n", prog_name,
			path, t.rows.n,
			t.rows.n * sizeof(struct ut_row) / 1024, t.build_ns / 1e6);
	*slot = (uint64_t)id << 32 | t.rows.n;
	unwind_table_free(&t);
	return *slot;
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

static int ktables_add_pid(struct ktables *kt, struct session *s, pid_t pid, uint32_t exec)
{
	struct proc_fill f = { .kt = kt };
	struct kt_proc p = { .exec = exec };
	uint32_t key = pid;
	int err = 0;

	sym_each_exec_vma(s->sym, pid, exec, add_vma, &f);
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

static void count_vma(void *ctx, uint64_t start, uint64_t end, uint64_t pgoff, const char *path,
		      struct elf_syms *es)
{
	(*(uint64_t *)ctx)++;
}


void ktables_note(struct ktables *kt, struct session *s, pid_t pid, uint32_t exec)
{
	uint64_t files = 0, *slot;
	bool found;

	if (!kt->files || pid <= 0)
		return;
	/* Again when the image maps more files (a program's libraries come
	 * one by one after its exec; dlopen later). */
	sym_each_exec_vma(s->sym, pid, exec, count_vma, &files);
	slot = hmap_upsert(&kt->loaded, (uint32_t)pid, exec, 0, &found);
	if (*slot == files + 1)
		return;
	*slot = files + 1;
	kt->loads++;
	ktables_add_pid(kt, s, pid, exec);
}

int ktables_start(struct ktables *kt, struct session *s, struct bpf_object *obj)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	int err = ktables_init(kt, obj, s->o.verbose);

	if (err < 0)
		return err;
	for (size_t i = 0; i < s->o.pids.n && !s->o.cmd; i++) /* CMD: after its exec */
		ktables_note(kt, s, s->o.pids.v[i], 0);
	if (s->o.verbose)
		fprintf(stderr, "%s: unwind tables: %llu rows loaded in %.1f ms\n", prog_name,
			(unsigned long long)kt->rows, (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	return 0;
}

bool ktables_poll(struct ktables *kt, struct session *s)
{
	uint32_t before = kt->loads;

	if (!kt->files)
		return false;
	/* -- CMD released but not exec'd yet: look again in 2 ms, not 100. */
	if (s->o.cmd && s->child > 0 && s->started && !session_target_exec(s, s->child)) {
		usleep(2000);
		return true;
	}
	session_sync_maps(s); /* -- CMD's exec and mappings as they happen */
	/* Processes the walker met without tables (system-wide newcomers). */
	for (uint32_t tgid, n = 0; kt->wanted && n < 1024 &&
	     bpf_map_lookup_and_delete_elem(bpf_map__fd(kt->wanted), NULL, &tgid) == 0; n++) {
		uint32_t exec = session_target_exec(s, (pid_t)tgid);

		session_note_pid(s, (pid_t)tgid, exec);
		ktables_note(kt, s, (pid_t)tgid, exec);
	}
	for (size_t i = 0; i < s->o.pids.n; i++) {
		pid_t pid = s->o.pids.v[i];
		uint32_t exec = session_target_exec(s, pid);

		if (sym_has_image(s->sym, pid, exec))
			ktables_note(kt, s, pid, exec);
	}
	return kt->loads != before;
}

void ktables_free(struct ktables *kt)
{
	hmap_free(&kt->by_elf);
	hmap_free(&kt->loaded);
}
