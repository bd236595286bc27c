#include "symbols/symbolize.h"
#include "symbols/gopclntab.h"
#include "symbols/procmaps.h"

#include <ctype.h>
#include <elf.h>
#include <limits.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

struct vma {
	uint64_t start, end, pgoff;
	const char *path;      /* in symbolizer's string pool */
	struct elf_syms *elf;  /* NULL when it could not be read */
	uint64_t ino;          /* the file's inode (0: unknown) */
	bool retried;          /* elf was looked for again at a lookup */
};

struct perf_map_entry {
	uint64_t start, size;
	const char *name;
};

/* One program image of a process: exec counts the execs the process made
 * while profiled before it (the BPF side's exec_gens), so samples taken
 * before an exec keep the old program's mappings. */
struct proc {
	pid_t pid;
	uint32_t exec;
	VEC(struct vma) vmas;       /* executable mappings, sorted */
	uint64_t maps_hash;         /* hash of the maps text last read */
	bool perf_map_loaded;
	VEC(struct perf_map_entry) perf_map;
	size_t perf_map_len;        /* bytes read last time: re-read when it grows */
	uint64_t perf_map_checked;  /* when its size was last looked at (ns) */
	bool perf_map_refused;      /* warned once */
};

struct ksym {
	uint64_t addr;
	const char *name;
};
typedef VEC(struct ksym) ksym_vec;

struct symbolizer {
	struct strpool strings;
	struct hmap procs;          /* (pid, exec) -> struct proc * */
	struct hmap latest;         /* pid -> the newest image's exec */
	struct hmap elfs;           /* (dev, inode) -> struct elf_syms * (0 = unreadable) */
	VEC(struct elf_syms *) all_elfs;
	VEC(struct proc *) all_procs;
	bool kallsyms_loaded;
	ksym_vec ksyms;
	ksym_vec kdata;             /* data symbols, for naming kernel locks */
	bool kdata_loaded;
	struct arena knames;        /* kernel symbol names (unique: no interning) */
	struct elf_syms *vdso;
	bool vdso_loaded;
	uint64_t files_refused;     /* target files not read (read_untrusted) */
};

struct symbolizer *symbolizer_new(void)
{
	return xcalloc(1, sizeof(struct symbolizer));
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->all_elfs.n; i++) {
		elf_syms_free(s->all_elfs.v[i]);
		free(s->all_elfs.v[i]);
	}
	for (size_t i = 0; i < s->all_procs.n; i++) {
		vec_free(&s->all_procs.v[i]->vmas);
		vec_free(&s->all_procs.v[i]->perf_map);
		free(s->all_procs.v[i]);
	}
	vec_free(&s->all_elfs);
	vec_free(&s->all_procs);
	vec_free(&s->ksyms);
	vec_free(&s->kdata);
	arena_free(&s->knames);
	hmap_free(&s->procs);
	hmap_free(&s->latest);
	hmap_free(&s->elfs);
	strpool_free(&s->strings);
	free(s);
}

/* ---- ELF files ---------------------------------------------------------- */

/* debuginfod (elfutils' client, loaded when asked: no link-time need, no
 * network unless --debuginfod). */
static bool debuginfod_on;

void sym_use_debuginfod(bool on)
{
	debuginfod_on = on;
}

/* The debug file of a build id from $DEBUGINFOD_URLS: an open fd (its
 * cached path into path), or -1. */
static int debuginfod_fetch(const char *build_id, char *path, size_t n)
{
	static void *lib;
	static void *client;
	static void *(*begin)(void);
	static int (*find)(void *, const unsigned char *, int, char **);
	static bool tried, warned;
	unsigned char id[64];
	size_t len = strlen(build_id) / 2;
	char *got = NULL;
	int fd;

	if (!tried) {
		tried = true;
		lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
		if (lib) {
			*(void **)&begin = dlsym(lib, "debuginfod_begin");
			*(void **)&find = dlsym(lib, "debuginfod_find_debuginfo");
			client = begin && find ? begin() : NULL;
		}
		if (!client)
			warn_msg("--debuginfod: cannot use libdebuginfod.so.1 (apt install libdebuginfod1)");
		else if (!getenv("DEBUGINFOD_URLS") && !warned)
			warn_msg("--debuginfod: DEBUGINFOD_URLS is not set: only its local cache is searched");
	}
	if (!client || len == 0 || len > sizeof(id))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(build_id + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (unsigned char)v;
	}
	fd = find(client, id, (int)len, &got);
	if (fd < 0) {
		free(got);
		return -1;
	}
	snprintf(path, n, "%s", got ? got : "");
	free(got);
	return fd;
}

/* A .gnu_debuglink file where gdb looks for it (beside the file, in its
 * .debug/, under /usr/lib/debug/ + its directory), its CRC32 checked: an
 * open fd and its path, or -1. */
static int debuglink_open(const struct elf_syms *es, const char *path, char *out, size_t n)
{
	char dir[PATH_MAX];
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!es->debuglink[0] || !slash || strchr(es->debuglink, '/'))
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	for (int i = 0; i < 3; i++) {
		static const char *const forms[] = { "%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s" };
		/* a container's /proc/PID/root prefix stays in front of /usr/lib/debug */
		const char *d = dir, *root_end = NULL;

		if (i == 2 && !strncmp(dir, "/proc/", 6) && (root_end = strstr(dir, "/root/")))
			d = root_end + 5;
		snprintf(out, n, forms[i], d, es->debuglink);
		int fd = open(out, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		unsigned char buf[65536];
		uLong crc = crc32(0, NULL, 0);
		ssize_t got;

		if (fd < 0)
			continue;
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			crc = crc32(crc, buf, (uInt)got);
		if (got == 0 && (uint32_t)crc == es->debuglink_crc && lseek(fd, 0, SEEK_SET) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

static struct elf_syms *elf_from_fd(struct symbolizer *s, int fd, const char *path)
{
	struct elf_syms *es = xcalloc(1, sizeof(*es));

	if (elf_syms_load_fd(es, fd) < 0) {
		elf_syms_free(es);
		free(es);
		return NULL;
	}
	/* Distro binaries keep full symbols in a separate debug file found by
	 * build id; use it when installed (e.g. libc6-dbg). */
	if ((!es->has_symtab || !es->has_dwarf) && (es->build_id[0] || es->debuglink[0])) {
		char dbg[PATH_MAX];
		int dfd;

		snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug",
			 es->build_id, es->build_id + 2);
		dfd = open(dbg, O_RDONLY | O_CLOEXEC);
		if (dfd < 0)
			dfd = debuglink_open(es, path, dbg, sizeof(dbg));
		if (dfd < 0 && debuginfod_on)
			dfd = debuginfod_fetch(es->build_id, dbg, sizeof(dbg));
		if (dfd >= 0) {
			elf_syms_merge_fd(es, dfd);
			close(dfd);
			es->debug_path = arena_strdup(&es->arena, dbg); /* its lines, when asked */
		}
	}
	vec_push(&s->all_elfs, es);
	return es;
}

/* Opens a file once per (device, inode), whichever path reaches it. */
static struct elf_syms *elf_cached_open(struct symbolizer *s, int fd, const char *path)
{
	struct stat st;
	bool found;
	uint64_t *slot;

	if (fstat(fd, &st) < 0)
		return NULL;
	slot = hmap_upsert(&s->elfs, st.st_dev, st.st_ino, 0, &found);
	if (!found)
		*slot = (uintptr_t)elf_from_fd(s, fd, path);
	return (struct elf_syms *)(uintptr_t)*slot;
}

struct elf_syms *sym_elf_path(struct symbolizer *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct elf_syms *es;

	if (fd < 0)
		return NULL;
	es = elf_cached_open(s, fd, path);
	close(fd);
	return es;
}

static struct elf_syms *vdso_syms(struct symbolizer *s)
{
	/* Every process of this kernel maps the same vDSO image as we do. */
	if (!s->vdso_loaded) {
		Elf64_Ehdr *img = (Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);

		s->vdso_loaded = true;
		if (img) {
			/* The image ends with its section headers. */
			size_t size = img->e_shoff + (size_t)img->e_shnum * img->e_shentsize;

			s->vdso = xcalloc(1, sizeof(*s->vdso));
			if (elf_syms_load_mem(s->vdso, img, size) < 0) {
				free(s->vdso);
				s->vdso = NULL;
			} else {
				vec_push(&s->all_elfs, s->vdso);
			}
		}
	}
	return s->vdso;
}

static struct elf_syms *open_mapped(struct symbolizer *s, pid_t pid, const struct vma *v)
{
	char p[PATH_MAX + 64];
	struct elf_syms *es;
	int fd;

	if (!strcmp(v->path, "[vdso]"))
		return vdso_syms(s);
	if (v->path[0] != '/')
		return NULL;
	/* map_files reaches the exact file mapped, even when deleted or in
	 * another mount namespace; /proc/PID/root is the container's view.
	 * Never the same path in our own namespace: it may be another file
	 * (sym_mmap_event checks device and inode before it does that). */
	snprintf(p, sizeof(p), "/proc/%d/map_files/%lx-%lx", pid,
		 (unsigned long)v->start, (unsigned long)v->end);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(p, sizeof(p), "/proc/%d/root%s", pid, v->path);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0)
		return NULL;
	/* (the path, for a .gnu_debuglink beside it, as the process sees it) */
	snprintf(p, sizeof(p), "/proc/%d/root%s", pid, v->path);
	es = elf_cached_open(s, fd, p);
	close(fd);
	return es;
}

/* ---- processes ---------------------------------------------------------- */

static struct proc *image_get(struct symbolizer *s, pid_t pid, uint32_t exec)
{
	uint64_t *slot = hmap_get(&s->procs, (uint32_t)pid, exec);

	return slot ? (struct proc *)(uintptr_t)*slot : NULL;
}

/* The image (pid, exec), created empty; it becomes the newest if it is
 * newer than the newest. */
static struct proc *image_create(struct symbolizer *s, pid_t pid, uint32_t exec)
{
	bool found;
	uint64_t *slot = hmap_upsert(&s->procs, (uint32_t)pid, exec, 0, &found), *newest;
	struct proc *pr;

	if (!found) {
		pr = xcalloc(1, sizeof(*pr));
		pr->pid = pid;
		pr->exec = exec;
		vec_push(&s->all_procs, pr);
		*slot = (uintptr_t)pr;
	}
	newest = hmap_upsert(&s->latest, (uint32_t)pid, 0, exec, &found);
	if (found && *newest < exec)
		*newest = exec;
	return (struct proc *)(uintptr_t)*slot;
}

/* The process's newest image (what /proc/PID/maps shows now). */
static struct proc *proc_get(struct symbolizer *s, pid_t pid, bool create)
{
	uint64_t *newest = hmap_get(&s->latest, (uint32_t)pid, 0);

	if (newest)
		return image_get(s, pid, (uint32_t)*newest);
	return create ? image_create(s, pid, 0) : NULL;
}

/* The image a sample of (pid, exec) ran in: that one, else the nearest
 * older one known, else the newest (the profile and the symbolizer began
 * counting at slightly different moments). */
static struct proc *proc_image(struct symbolizer *s, pid_t pid, uint32_t exec)
{
	uint64_t *newest = hmap_get(&s->latest, (uint32_t)pid, 0);
	struct proc *pr;

	if (!newest)
		return NULL;
	if (exec >= *newest)
		return image_get(s, pid, (uint32_t)*newest);
	for (uint32_t e = exec + 1; e-- > 0 && exec - e < 64;)
		if ((pr = image_get(s, pid, e)))
			return pr;
	return image_get(s, pid, (uint32_t)*newest);
}

bool sym_known(struct symbolizer *s, pid_t pid)
{
	return proc_get(s, pid, false) != NULL;
}

void sym_each_exec_vma(struct symbolizer *s, pid_t pid, uint32_t exec,
		       void (*fn)(void *ctx, uint64_t start, uint64_t end, uint64_t pgoff,
				  const char *path, struct elf_syms *es),
		       void *ctx)
{
	struct proc *pr = proc_image(s, pid, exec);

	for (size_t i = 0; pr && i < pr->vmas.n; i++)
		fn(ctx, pr->vmas.v[i].start, pr->vmas.v[i].end, pr->vmas.v[i].pgoff, pr->vmas.v[i].path,
		   pr->vmas.v[i].elf);
}

bool sym_has_image(struct symbolizer *s, pid_t pid, uint32_t exec)
{
	return image_get(s, pid, exec) != NULL;
}


int sym_snapshot(struct symbolizer *s, pid_t pid, uint32_t exec)
{
	char path[64];
	size_t len;
	char *text, *line, *save = NULL;
	struct proc *pr;
	uint64_t h;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	text = read_whole_file(path, &len);
	if (!text || !len) { /* gone (or a zombie): keep what we had */
		free(text);
		return sym_known(s, pid) ? 0 : -ESRCH;
	}
	h = hash_bytes(text, len);
	/* The maps are the newest image's; an exec we were not told of
	 * (mapping records) starts a new one, keeping the old. */
	pr = proc_get(s, pid, false);
	if (!pr || exec > pr->exec)
		pr = image_create(s, pid, exec);
	if (pr->maps_hash == h) {
		free(text);
		return 0;
	}
	pr->maps_hash = h;
	pr->vmas.n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct map_line m;

		if (!procmaps_parse_line(line, &m) || m.perms[2] != 'x')
			continue;
		vec_push(&pr->vmas, ((struct vma){ m.start, m.end, m.pgoff,
						   strpool_intern(&s->strings, m.path), NULL, m.ino }));
	}
	free(text);
	/* Open the files now, while the process (and its mount namespace and
	 * deleted files) still exists. */
	for (size_t i = 0; i < pr->vmas.n; i++)
		pr->vmas.v[i].elf = open_mapped(s, pid, &pr->vmas.v[i]);
	return 0;
}

static const struct vma *find_vma(struct proc *pr, uint64_t addr)
{
	size_t i = VEC_UPPER_BOUND(pr->vmas, start, addr);

	return i && addr < pr->vmas.v[i - 1].end ? &pr->vmas.v[i - 1] : NULL;
}

/* A mapping whose file could not be opened when it was recorded (the
 * process between two states of an exec, a transient error), looked for
 * once more: through the process if it lives, else at the same path here if
 * it is the same inode. One retry per mapping. */
static void retry_open(struct symbolizer *s, pid_t pid, struct vma *v)
{
	struct stat st;
	int fd;

	v->retried = true;
	if ((v->elf = open_mapped(s, pid, v)) || v->path[0] != '/' || !v->ino)
		return;
	if ((fd = open(v->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_ino == v->ino)
		v->elf = elf_cached_open(s, fd, v->path);
	close(fd);
}

struct elf_syms *sym_user_vaddr(struct symbolizer *s, pid_t pid, uint32_t exec, uint64_t addr, uint64_t *vaddr)
{
	struct proc *pr = proc_image(s, pid, exec);
	struct vma *v = pr ? (struct vma *)find_vma(pr, addr) : NULL;

	if (v && !v->elf && !v->retried)
		retry_open(s, pid, v);

	if (!v || !v->elf || !elf_offset_to_vaddr(v->elf, addr - v->start + v->pgoff, vaddr))
		return NULL;
	return v->elf;
}

static int cmp_perf_map(const void *a, const void *b)
{
	const struct perf_map_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* JIT runtimes (V8, the JVM with perf-map-agent, LuaJIT, ...) write
 * /tmp/perf-PID.map: "START SIZE name" in hex, PID as seen in the namespace.
 * The file is the target's to write, so it is hostile input to us (root):
 * read through the target's own root, never through a link, never from a
 * FIFO or device, only if the target's user or root owns it, at most
 * PERF_MAP_MAX bytes (read_untrusted). A process that is gone is not looked
 * up in our own namespace: its file there may be another's. */
#define PERF_MAP_MAX (64u << 20)

static void perf_map_parse(struct symbolizer *s, struct proc *pr, char *text);

static void load_perf_map(struct symbolizer *s, struct proc *pr)
{
	char path[PATH_MAX], *text = NULL, *save = NULL;
	pid_t nspid = pr->pid;
	uid_t uid = (uid_t)-1;
	const char *why = NULL;
	size_t len;

	pr->perf_map_loaded = true;
	pr->perf_map_checked = now_ns(CLOCK_MONOTONIC);
	if (!(text = proc_status(pr->pid)))
		return; /* gone: keep what was read while it lived */
	{
		const char *u = status_field(text, "Uid");
		char *ns = (char *)status_field(text, "NSpid");
		unsigned ruid, euid;

		if (u && sscanf(u, "%u %u", &ruid, &euid) == 2)
			uid = euid;
		if (ns) {
			char *end = strchr(ns, '\n'), *last = NULL;

			if (end)
				*end = 0;
			for (char *t = strtok_r(ns, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
				last = t;
			if (last)
				nspid = atoi(last);
		}
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", pr->pid, nspid);
	text = read_untrusted(path, uid, PERF_MAP_MAX, &len, &why);
	if (!text) {
		if (why && !pr->perf_map_refused) {
			warn_msg("%s not read: %s (JIT frames of pid %d stay unnamed)", path, why, pr->pid);
			pr->perf_map_refused = true;
			s->files_refused++;
		}
		return;
	}
	if (len == pr->perf_map_len) { /* unchanged */
		free(text);
		return;
	}
	pr->perf_map_len = len;
	perf_map_parse(s, pr, text);
	free(text);
}

/* "START SIZE name" lines, hex; anything else is skipped. */
static void perf_map_parse(struct symbolizer *s, struct proc *pr, char *text)
{
	char *line, *save = NULL;

	pr->perf_map.n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, size;
		int name_at = 0;

		if (sscanf(line, "%lx %lx %n", &start, &size, &name_at) >= 2 && name_at)
			vec_push(&pr->perf_map, ((struct perf_map_entry){ start, size,
				strpool_intern(&s->strings, line + name_at) }));
	}
	vec_sort(&pr->perf_map, cmp_perf_map);
}

void sym_perf_map_text(struct symbolizer *s, pid_t pid, char *text)
{
	struct proc *pr = proc_get(s, pid, true);

	pr->perf_map_loaded = true;
	pr->perf_map_checked = now_ns(CLOCK_MONOTONIC);
	perf_map_parse(s, pr, text);
}

static const char *perf_map_find(struct symbolizer *s, struct proc *pr, uint64_t addr)
{
	size_t lo;

	/* JIT code appears as the program runs: the map is re-read when it
	 * has grown, looked at no more than once a second. */
	if (!pr->perf_map_loaded || now_ns(CLOCK_MONOTONIC) - pr->perf_map_checked > 1000000000ULL)
		load_perf_map(s, pr);
	lo = VEC_UPPER_BOUND(pr->perf_map, start, addr);
	if (lo && addr < pr->perf_map.v[lo - 1].start + pr->perf_map.v[lo - 1].size)
		return pr->perf_map.v[lo - 1].name;
	return NULL;
}

/* "libz.so.1+0x4a00": unnamed code by the file offset of its function's
 * start (.eh_frame's FDE), kept per start. */
static const char *fde_name(struct elf_syms *es, const char *path, uint64_t vaddr, uint64_t *off)
{
	uint64_t start, foff;
	bool found;
	uint64_t *slot;
	const char *base = strrchr(path, '/');
	char name[PATH_MAX + 32];

	if (!elf_fde_start(es, vaddr, &start) || !elf_vaddr_to_offset(es, start, &foff))
		return NULL;
	*off = vaddr - start;
	slot = hmap_upsert(&es->fde_names, start, 0, 0, &found);
	if (!found) {
		snprintf(name, sizeof(name), "%s+0x%llx", base ? base + 1 : path, (unsigned long long)foff);
		*slot = (uintptr_t)arena_strdup(&es->arena, name);
	}
	return (const char *)(uintptr_t)*slot;
}

/* File:line, and the functions inlined at vaddr (Go's table, or DWARF). */
static void src_frames(struct elf_syms *es, uint64_t vaddr, struct sym_frame *f)
{
	struct src_frame fr[8];
	int n = elf_src_frames(es, vaddr, fr, 8);

	if (n <= 0)
		return;
	/* The outermost is the function itself: the symbol's name stays. */
	f->file = fr[n - 1].file;
	f->line = fr[n - 1].line;
	f->start_line = fr[n - 1].start_line;
	for (int i = 0; i < n - 1 && i < 7; i++) {
		f->inl[i].func = fr[i].func ? fr[i].func : "[inlined]";
		f->inl[i].file = fr[i].file;
		f->inl[i].line = fr[i].line;
		f->inl[i].start_line = fr[i].start_line;
		f->ninl++;
	}
}

void sym_user(struct symbolizer *s, pid_t pid, uint32_t exec, uint64_t addr, struct sym_frame *f)
{
	struct proc *pr = proc_image(s, pid, exec);
	struct vma *v = pr ? (struct vma *)find_vma(pr, addr) : NULL;
	uint64_t vaddr;

	if (v && !v->elf && !v->retried)
		retry_open(s, pid, v);
	memset(f, 0, sizeof(*f));
	f->kind = PF_FRAME_USER;
	if (v) {
		f->module = v->path[0] ? v->path : "[anon]";
		f->map_start = v->start;
		f->map_end = v->end;
		f->map_pgoff = v->pgoff;
		f->offset = addr - v->start + v->pgoff;
		if (v->elf) {
			f->build_id = v->elf->build_id[0] ? v->elf->build_id : NULL;
			if (elf_offset_to_vaddr(v->elf, f->offset, &vaddr)) {
				struct elf_sym *es = (struct elf_sym *)elf_sym_find(v->elf, vaddr);

				if (es) {
					f->func = elf_sym_pretty(v->elf, es);
					f->sym_off = vaddr - es->addr;
					src_frames(v->elf, vaddr, f);
					return;
				}
				/* No symbol (a stripped library): named by the
				 * function around it, one name per function, not one
				 * per instruction. */
				if ((f->func = fde_name(v->elf, v->path, vaddr, &f->sym_off)))
					return;
			}
		}
	}
	if (pr && (!v || !v->elf) && (f->func = perf_map_find(s, pr, addr))) {
		f->kind = PF_FRAME_UNKNOWN; /* JIT code */
		return;
	}
	f->kind = v && v->elf ? PF_FRAME_USER : PF_FRAME_UNKNOWN;
	if (!v)
		f->offset = addr;
}

/* ---- kernel ------------------------------------------------------------- */

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Text symbols, or with data, the data symbols (static locks), which only
 * --by-lock needs. */
static void load_kallsyms_kind(struct symbolizer *s, bool data)
{
	size_t len;
	char *text = read_whole_file("/proc/kallsyms", &len), *line, *save = NULL;
	ksym_vec *v = data ? &s->kdata : &s->ksyms;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end, *name;
		uint64_t addr = strtoull(line, &end, 16);
		char type;

		if (end == line || !addr || end[0] != ' ')
			continue;
		type = tolower((unsigned char)end[1]);
		if (data ? (type != 'd' && type != 'b') : (type != 't' && type != 'w'))
			continue;
		name = end + 3;
		name[strcspn(name, " \t")] = 0; /* drop "[module]" */
		vec_push(v, ((struct ksym){ addr, arena_strdup(&s->knames, name) }));
	}
	free(text);
	vec_sort(v, cmp_ksym);
}

static void load_kallsyms(struct symbolizer *s)
{
	s->kallsyms_loaded = true;
	load_kallsyms_kind(s, false);
}

void sym_preload_kernel(struct symbolizer *s)
{
	if (!s->kallsyms_loaded)
		load_kallsyms(s);
}

const char *sym_kernel_data(struct symbolizer *s, uint64_t addr, uint64_t *off)
{
	size_t lo;

	if (!s->kdata_loaded) {
		s->kdata_loaded = true;
		load_kallsyms_kind(s, true);
	}
	lo = VEC_UPPER_BOUND(s->kdata, addr, addr);
	/* Data symbols carry no size: trust only a near one (a lock is
	 * usually at or close to the start of its variable). */
	if (!lo || addr - s->kdata.v[lo - 1].addr > 4096)
		return NULL;
	*off = addr - s->kdata.v[lo - 1].addr;
	return s->kdata.v[lo - 1].name;
}

void sym_kernel(struct symbolizer *s, uint64_t addr, struct sym_frame *f)
{
	size_t lo;

	if (!s->kallsyms_loaded)
		load_kallsyms(s);
	memset(f, 0, sizeof(*f));
	f->kind = PF_FRAME_KERNEL;
	f->module = "[kernel.kallsyms]";
	f->offset = addr;
	lo = VEC_UPPER_BOUND(s->ksyms, addr, addr);
	if (lo) {
		f->func = s->ksyms.v[lo - 1].name;
		f->sym_off = addr - s->ksyms.v[lo - 1].addr;
	}
}

/* ---- mapping events (perf mmap2/comm/fork records) ----------------------- */

static int cmp_vma(const void *a, const void *b)
{
	const struct vma *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void sym_mmap_event(struct symbolizer *s, pid_t pid, uint64_t start, uint64_t len,
		    uint64_t pgoff, const char *path, uint64_t dev, uint64_t ino)
{
	struct proc *pr = proc_get(s, pid, true);
	struct vma v = { start, start + len, pgoff, strpool_intern(&s->strings, path), NULL, ino };
	size_t j = 0;

	/* A new mapping replaces whatever it overlaps. */
	for (size_t i = 0; i < pr->vmas.n; i++)
		if (pr->vmas.v[i].end <= v.start || pr->vmas.v[i].start >= v.end)
			pr->vmas.v[j++] = pr->vmas.v[i];
	pr->vmas.n = j;
	v.elf = open_mapped(s, pid, &v);
	if (!v.elf && path[0] == '/') {
		/* The process is gone: the file at the same path here, but only
		 * if it is the very file it mapped (device and inode from the
		 * record). A command in its own mount namespace or chroot maps
		 * other files under the same names; those stay unnamed. */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;

		if (fd >= 0) {
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_ino == ino &&
			    (uint64_t)st.st_dev == dev)
				v.elf = elf_cached_open(s, fd, path);
			close(fd);
		}
	}
	vec_push(&pr->vmas, v);
	vec_sort(&pr->vmas, cmp_vma);
	pr->maps_hash = 0; /* the next snapshot re-reads /proc/PID/maps */
}

void sym_exec_event(struct symbolizer *s, pid_t pid)
{
	struct proc *pr = proc_get(s, pid, false);

	/* A new, empty image; the old one stays for the samples taken in it.
	 * A process first seen at its exec starts at image 1, as the BPF
	 * side counts that exec too. */
	image_create(s, pid, pr ? pr->exec + 1 : 1);
}

void sym_fork_event(struct symbolizer *s, pid_t ppid, pid_t pid)
{
	struct proc *parent = proc_get(s, ppid, false), *child;

	if (!parent || ppid == pid)
		return;
	child = proc_get(s, pid, true);
	parent = proc_get(s, ppid, false); /* proc_get may have grown the table */
	child->vmas.n = 0;
	for (size_t i = 0; i < parent->vmas.n; i++)
		vec_push(&child->vmas, parent->vmas.v[i]);
}

size_t sym_evict_exited(struct symbolizer *s)
{
	size_t j = 0, evicted = 0;

	for (size_t i = 0; i < s->all_procs.n; i++) {
		struct proc *pr = s->all_procs.v[i];
		char path[32];

		snprintf(path, sizeof(path), "/proc/%d", pr->pid);
		if (access(path, F_OK) == 0) {
			s->all_procs.v[j++] = pr;
			continue;
		}
		hmap_delete(&s->procs, (uint32_t)pr->pid, pr->exec);
		hmap_delete(&s->latest, (uint32_t)pr->pid, 0);
		vec_free(&pr->vmas);
		vec_free(&pr->perf_map);
		free(pr);
		evicted++;
	}
	s->all_procs.n = j;
	return evicted;
}
