/* trace: probe words resolved to attachments — tracepoints (from tracefs,
 * mounted if needed), uprobes and USDT in files or a process's libraries,
 * software events, profile and interval rates. Reads /sys, /proc and ELF
 * files; the grammar (parse.c) does not. */
#include "trace/parser.h"
#include "symbols/symbolize.h"
#include "symbols/procmaps.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <gelf.h>
#include <libelf.h>

/* ---- probes ---------------------------------------------------------------- */

static int add_probe(struct parser *ps, const struct tp_probe *pr)
{
	struct tp_probe copy = *pr;

	copy.block = ps->block;
	vec_push(&ps->p->probes, copy);
	ps->probe_n++;
	return 0;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int tracepoints(struct parser *ps, struct tp_probe *pr, int pos, int len)
{
	const char *root = "/sys/kernel/tracing/events";
	DIR *cd = opendir(root), *nd;
	struct dirent *c, *e;
	char cat[sizeof(pr->target)], name[sizeof(pr->name)];
	int found = 0;

	if (!cd)
		return parse_error_at(ps, pos, len, "cannot list tracepoints (%s): %s", root, strerror(errno));
	snprintf(cat, sizeof(cat), "%s", pr->target);
	snprintf(name, sizeof(name), "%s", pr->name);
	while ((c = readdir(cd))) {
		char dir[PATH_MAX];

		if (c->d_name[0] == '.' || fnmatch(cat, c->d_name, 0))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, c->d_name);
		if (!(nd = opendir(dir)))
			continue;
		while ((e = readdir(nd))) {
			char fmt[PATH_MAX + 300];

			if (e->d_name[0] == '.' || fnmatch(name, e->d_name, 0))
				continue;
			snprintf(fmt, sizeof(fmt), "%s/%s/format", dir, e->d_name);
			if (access(fmt, R_OK))
				continue;
			snprintf(pr->target, sizeof(pr->target), "%s", c->d_name);
			snprintf(pr->name, sizeof(pr->name), "%s", e->d_name);
			snprintf(pr->text, sizeof(pr->text), "tracepoint:%s:%s", c->d_name, e->d_name);
			add_probe(ps, pr);
			found++;
		}
		closedir(nd);
	}
	closedir(cd);
	if (!found)
		return parse_error_at(ps, pos, len, "no tracepoint matches %s:%s", cat, name);
	return 0;
}

static bool is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* With -p, a path means what it means to the target: its mount namespace,
 * reached through /proc/PID/root (never our own file of the same name). */
static bool in_target(pid_t pid, const char *path, char *out, size_t n)
{
	if (pid > 0)
		snprintf(out, n, "/proc/%d/root%s", pid, path);
	else
		snprintf(out, n, "%s", path);
	return !access(out, R_OK);
}

struct lib_search {
	const char *name;
	char found[PATH_MAX];
};

static bool lib_line(const struct map_line *m, void *ctx)
{
	struct lib_search *ls = ctx;

	if (m->path[0] != '/' || !procmaps_named(m->path, ls->name, true))
		return true;
	snprintf(ls->found, sizeof(ls->found), "%s", m->path);
	return false;
}

bool tp_resolve_binary(const char *name, pid_t pid, char *out, size_t n)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					    "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
					    NULL };
	char path[PATH_MAX];

	if (strchr(name, '/'))
		return in_target(pid, name, out, n);
	if (pid > 0) { /* a library the process has mapped: libc -> its libc.so.6 */
		struct lib_search ls = { name, "" };

		if (procmaps_each(pid, lib_line, &ls) == 0 && ls.found[0])
			return in_target(pid, ls.found, out, n);
	}
	for (int i = 0; dirs[i]; i++) {
		static const char *const forms[] = { "%s/%s", "%s/%s.so", "%s/%s.so.6", "%s/%s.so.1", "%s/%s.so.0",
						     "%s/lib%s.so", "%s/lib%s.so.6", "%s/lib%s.so.1", "%s/lib%s.so.0",
						     "%s/lib%s.so.3", "%s/lib%s.so.2", NULL };

		for (int j = 0; forms[j]; j++) {
			snprintf(path, sizeof(path), forms[j], dirs[i], name);
			if (in_target(pid, path, out, n) && is_elf(out)) /* libc.so is a linker script */
				return true;
		}
	}
	/* a program on $PATH (uprobe:bash:readline) */
	const char *envp = getenv("PATH");
	char *paths = xstrdup(envp ? envp : "/usr/bin:/bin"), *save = NULL;

	for (char *d = strtok_r(paths, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", d, name);
		if (access(path, X_OK) == 0 && in_target(pid, path, out, n) && is_elf(out)) {
			free(paths);
			return true;
		}
	}
	free(paths);
	return false;
}

static int uprobes_in(struct parser *ps, struct tp_probe *pr, int pos, int len);

/* A glob in the path (uprobe:/usr/lib/x86_64-*-gnu/libc.so.6:malloc): every file it names. */
static int uprobes(struct parser *ps, struct tp_probe *pr, int pos, int len)
{
	glob_t g;
	int err = 0;

	if (!has_glob(pr->target) || !strchr(pr->target, '/'))
		return uprobes_in(ps, pr, pos, len);
	if (glob(pr->target, 0, NULL, &g) != 0 || !g.gl_pathc) {
		globfree(&g);
		return parse_error_at(ps, pos, len, "%s: no file matches %s",
				      pr->type == PT_URETPROBE ? "uretprobe" : "uprobe", pr->target);
	}
	for (size_t i = 0; i < g.gl_pathc && !err; i++) {
		struct tp_probe one = *pr;

		snprintf(one.target, sizeof(one.target), "%s", g.gl_pathv[i]);
		err = uprobes_in(ps, &one, pos, len);
	}
	globfree(&g);
	return err;
}

static int uprobes_in(struct parser *ps, struct tp_probe *pr, int pos, int len)
{
	char path[PATH_MAX];
	struct elf_syms *es;
	int found = 0;
	const char *kind = pr->type == PT_URETPROBE ? "uretprobe" : "uprobe";

	if (!tp_resolve_binary(pr->target, ps->p->pid, path, sizeof(path)))
		return parse_error_at(ps, pos, len, "%s: no such file or library: %s", kind, pr->target);
	/* The symbolizer's copy: the stacks printed later need the same file. */
	if (!(es = sym_elf_path(ps->p->sym, path)))
		return parse_error_at(ps, pos, len, "%s: %s is not a readable ELF file", kind, path);
	if (pr->type == PT_URETPROBE && es->is_go)
		return parse_error_at(ps, pos, len, "uretprobe on a Go binary (%s) would crash it (Go moves its "
			      "stacks); use uprobe", path);
	snprintf(pr->target, sizeof(pr->target), "%s", path);
	/* Shown as the target sees it. */
	const char *shown = path;
	char root[64];
	int rl = ps->p->pid > 0 ? snprintf(root, sizeof(root), "/proc/%d/root", ps->p->pid) : 0;

	if (rl > 0 && !strncmp(path, root, (size_t)rl) && path[rl] == '/')
		shown = path + rl;
	/* FUNC+OFF, or an address */
	char *plus = strchr(pr->name, '+');
	uint64_t extra = 0;

	if (plus) {
		if (!parse_u64(plus + 1, &extra))
			return parse_error_at(ps, pos, len, "%s: bad offset '%s'", kind, plus + 1);
		*plus = 0;
	}
	if (!strncmp(pr->name, "0x", 2) || isdigit((unsigned char)pr->name[0])) {
		uint64_t addr;
		struct tp_probe one = *pr;

		char *aend;

		errno = 0;
		addr = strtoull(pr->name, &aend, 0);
		if (errno || *aend || !elf_vaddr_to_offset(es, addr, &one.offset))
			return parse_error_at(ps, pos, len, "%s: %s is not an address in %s", kind, pr->name, path);
		one.offset += extra;
		snprintf(one.text, sizeof(one.text), "%s:%s:%s", kind, shown, pr->name);
		return add_probe(ps, &one);
	}
	for (int pass = 0; pass < 2; pass++) {
		VEC(struct elf_sym) *v = pass ? (void *)&es->aliases : (void *)&es->syms;

		for (size_t i = 0; i < v->n; i++) {
			const char *fn = v->v[i].name;
			char want[sizeof(pr->name)];

			snprintf(want, sizeof(want), "%s", pr->name);
			if (fnmatch(want, fn, 0))
				continue;
			struct tp_probe one = *pr;

			/* Attached by file offset: libbpf's own lookup by name
			 * misses some symbols (IFUNCs) that we list. */
			if (!elf_vaddr_to_offset(es, v->v[i].addr, &one.offset))
				continue;
			if (extra && extra >= v->v[i].size)
				return parse_error_at(ps, pos, len, "%s: offset %llu is past the end of %s (%llu bytes)", kind,
						      (unsigned long long)extra, fn, (unsigned long long)v->v[i].size);
			one.offset += extra;
			snprintf(one.name, sizeof(one.name), "%s", fn);
			if (extra)
				snprintf(one.text, sizeof(one.text), "%s:%s:%s+%llu", kind, shown, fn, (unsigned long long)extra);
			else
				snprintf(one.text, sizeof(one.text), "%s:%s:%s", kind, shown, fn);
			add_probe(ps, &one);
			found++;
			if (!has_glob(pr->name))
				break;
		}
		if (found && !has_glob(pr->name))
			break;
	}
	if (!found)
		return parse_error_at(ps, pos, len, "%s: no function %s in %s", kind, pr->name, path);
	return 0;
}

/* kprobe:FUNC[+OFF] (globs over the functions the kernel can probe). */
static int kprobes(struct parser *ps, struct tp_probe *pr, const char *spec, bool ret, int pos, int len)
{
	char fn[256], *plus;
	uint64_t off = 0;
	int found = 0;

	snprintf(fn, sizeof(fn), "%s", spec);
	if ((plus = strchr(fn, '+'))) {
		if (ret || !parse_u64(plus + 1, &off))
			return parse_error_at(ps, pos, len, "kprobe: bad offset '%s'", plus + 1);
		*plus = 0;
	}
	pr->type = ret ? PT_KRETPROBE : PT_KPROBE;
	pr->offset = off;
	if (!has_glob(fn)) {
		snprintf(pr->name, sizeof(pr->name), "%s", fn);
		snprintf(pr->text, sizeof(pr->text), "%s:%s", ret ? "kretprobe" : "kprobe", spec);
		return add_probe(ps, pr);
	}
	FILE *f = fopen("/sys/kernel/tracing/available_filter_functions", "r");
	char line[512];

	if (!f)
		return parse_error_at(ps, pos, len, "kprobe: cannot list the kernel's functions: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\n")] = 0;
		if (fnmatch(fn, line, 0) || strchr(line, '.'))
			continue;
		struct tp_probe one = *pr;

		snprintf(one.name, sizeof(one.name), "%.255s", line);
		snprintf(one.text, sizeof(one.text), "%s:%s", ret ? "kretprobe" : "kprobe", one.name);
		add_probe(ps, &one);
		found++;
	}
	fclose(f);
	if (!found)
		return parse_error_at(ps, pos, len, "kprobe: no kernel function matches %s", fn);
	return 0;
}

/* perf software events by bpftrace's names, with default sample counts. */
static bool software_event(const char *name, uint64_t *config, uint64_t *dflt)
{
	static const struct { const char *a, *b; uint64_t config, dflt; } ev[] = {
		{ "cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000 },
		{ "task-clock", NULL, PERF_COUNT_SW_TASK_CLOCK, 1000000 },
		{ "page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100 },
		{ "context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000 },
		{ "cpu-migrations", "migrations", PERF_COUNT_SW_CPU_MIGRATIONS, 1 },
		{ "minor-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MIN, 100 },
		{ "major-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1 },
		{ "alignment-faults", NULL, PERF_COUNT_SW_ALIGNMENT_FAULTS, 1 },
		{ "emulation-faults", NULL, PERF_COUNT_SW_EMULATION_FAULTS, 1 },
	};

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (!strcmp(name, ev[i].a) || (ev[i].b && !strcmp(name, ev[i].b))) {
			*config = ev[i].config;
			*dflt = ev[i].dflt;
			return true;
		}
	}
	return false;
}

static bool parse_u64s(const char *s, uint64_t *v)
{
	return parse_u64(s, v) && *v > 0;
}

/* A probe is a word up to a space, ',' or '{'; its parts split at ':'. */
int probes_parse_word(struct parser *ps)
{
	const char *s = ps->s;
	int start = ps->pos, end = start, nparts = 0, len;
	char word[PATH_MAX + 400], *parts[6], *save = NULL, *tok;
	struct tp_probe pr = { 0 };
	uint64_t v;

	while (s[end] && !isspace((unsigned char)s[end]) && s[end] != ',' && s[end] != '{')
		end++;
	len = end - start;
	if (!len)
		return parse_error_at(ps, start, 1, "syntax error: expected a probe (%s)", SUPPORTED_PROBES);
	if (len >= (int)sizeof(word))
		return parse_error_at(ps, start, len, "probe name too long");
	memcpy(word, s + start, len);
	word[len] = 0;
	ps->pos = end;
	for (tok = strtok_r(word, ":", &save); tok && nparts < 6; tok = strtok_r(NULL, ":", &save))
		parts[nparts++] = tok;
	if (!nparts)
		return parse_error_at(ps, start, len, "syntax error: expected a probe");
	const char *t = parts[0];

	/* BEGIN/END, or begin/end (bpftrace's spelling since 0.23) */
	if (!strcmp(t, "BEGIN") || !strcmp(t, "END") || !strcmp(t, "begin") || !strcmp(t, "end")) {
		pr.type = (t[0] == 'B' || t[0] == 'b') ? PT_BEGIN : PT_END;
		snprintf(pr.text, sizeof(pr.text), "%s", t);
		return nparts == 1 ? add_probe(ps, &pr) : parse_error_at(ps, start, len, "%s takes no arguments", t);
	}
	if (!strcmp(t, "profile") || !strcmp(t, "p") || !strcmp(t, "interval") || !strcmp(t, "i")) {
		bool prof = t[0] == 'p';

		pr.type = prof ? PT_PROFILE : PT_INTERVAL;
		char unit_buf[8] = "", num_buf[32] = "";

		if (nparts == 2) { /* interval:100ms, profile:99hz (bpftrace's newer shorthand) */
			size_t dl = strspn(parts[1], "0123456789");

			if (dl && dl < sizeof(num_buf) && strlen(parts[1] + dl) < sizeof(unit_buf)) {
				memcpy(num_buf, parts[1], dl);
				snprintf(unit_buf, sizeof(unit_buf), "%s", parts[1] + dl);
				parts[1] = unit_buf;
				parts[2] = num_buf;
				nparts = 3;
			}
		}
		if (nparts != 3 || !parse_u64s(parts[2], &v))
			return parse_error_at(ps, start, len, "%s needs UNIT:N, e.g. %s", prof ? "profile" : "interval",
					prof ? "profile:hz:99" : "interval:s:1");
		uint64_t unit_ns = !strcmp(parts[1], "s") ? 1000000000ULL : !strcmp(parts[1], "ms") ? 1000000ULL :
				   !strcmp(parts[1], "us") ? 1000ULL : 0;

		if (!strcmp(parts[1], "hz"))
			pr.hz = v, pr.period_ns = v ? 1000000000ULL / v : 0;
		else if (!unit_ns)
			return parse_error_at(ps, start, len, "unit '%s': use hz, s, ms or us", parts[1]);
		/* A period past ~292 years would wrap (and one over a year is
		 * surely a typo): refused. */
		else if (__builtin_mul_overflow(v, unit_ns, &pr.period_ns) ||
			 pr.period_ns > 366ULL * 86400 * 1000000000ULL)
			return parse_error_at(ps, start, len, "period %s %s is too long (at most a year)", parts[2], parts[1]);
		if (!pr.period_ns)
			return parse_error_at(ps, start, len, "period too short");
		snprintf(pr.text, sizeof(pr.text), "%s:%s:%s", prof ? "profile" : "interval", parts[1], parts[2]);
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "tracepoint") || !strcmp(t, "t")) {
		if (nparts != 3)
			return parse_error_at(ps, start, len, "tracepoint needs CATEGORY:NAME, e.g. tracepoint:sched:sched_switch");
		pr.type = PT_TRACEPOINT;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		snprintf(pr.name, sizeof(pr.name), "%s", parts[2]);
		return tracepoints(ps, &pr, start, len);
	}
	if (!strcmp(t, "uprobe") || !strcmp(t, "u") || !strcmp(t, "uretprobe") || !strcmp(t, "ur")) {
		if (nparts != 3)
			return parse_error_at(ps, start, len, "%s needs PATH:FUNCTION, e.g. uprobe:libc:malloc", t);
		pr.type = t[1] == 'r' ? PT_URETPROBE : PT_UPROBE;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		snprintf(pr.name, sizeof(pr.name), "%s", parts[2]);
		return uprobes(ps, &pr, start, len);
	}
	if (!strcmp(t, "usdt") || !strcmp(t, "U")) {
		char path[PATH_MAX];
		struct usdt_note *notes = NULL;
		int nn, found = 0;

		if (nparts != 3 && nparts != 4)
			return parse_error_at(ps, start, len, "usdt needs PATH:[PROVIDER:]NAME");
		pr.type = PT_USDT;
		if (!tp_resolve_binary(parts[1], ps->p->pid, path, sizeof(path)))
			return parse_error_at(ps, start, len, "usdt: no such file or library: %s", parts[1]);
		snprintf(pr.target, sizeof(pr.target), "%s", path);
		/* the file's notes: the provider when it is left out, globs */
		nn = tp_usdt_notes(path, &notes);
		for (int i = 0; i < nn; i++) {
			bool dup = false;

			if ((nparts == 4 && fnmatch(parts[2], notes[i].provider, 0)) ||
			    fnmatch(parts[nparts - 1], notes[i].name, 0))
				continue;
			for (int j = 0; j < i && !dup; j++) /* one probe per provider:name */
				dup = !strcmp(notes[j].provider, notes[i].provider) && !strcmp(notes[j].name, notes[i].name);
			if (dup)
				continue;
			struct tp_probe one = pr;

			snprintf(one.provider, sizeof(one.provider), "%s", notes[i].provider);
			snprintf(one.name, sizeof(one.name), "%s", notes[i].name);
			snprintf(one.text, sizeof(one.text), "usdt:%s:%s:%s", path, one.provider, one.name);
			add_probe(ps, &one);
			found++;
		}
		free(notes);
		if (!found)
			return parse_error_at(ps, start, len, "usdt: no probe %s%s%s in %s", nparts == 4 ? parts[2] : "",
					      nparts == 4 ? ":" : "", parts[nparts - 1], path);
		return 0;
	}
	if (!strcmp(t, "watchpoint") || !strcmp(t, "w")) {
		/* watchpoint:ADDR:LEN:MODE, in -p's or -c's process */
		uint64_t addr, blen;
		const char *mode = nparts == 4 ? parts[3] : "";

		char *end = NULL;

		if (nparts == 4) {
			errno = 0;
			addr = strtoull(parts[1], &end, 0);
		}
		if (nparts != 4 || errno || !end || *end || !isdigit((unsigned char)parts[1][0]) ||
		    !parse_u64(parts[2], &blen))
			return parse_error_at(ps, start, len, "watchpoint needs ADDRESS:LENGTH:MODE, e.g. "
					      "watchpoint:0x601040:8:w");
		if (blen != 1 && blen != 2 && blen != 4 && blen != 8)
			return parse_error_at(ps, start, len, "watchpoint: the length must be 1, 2, 4 or 8");
		pr.type = PT_WATCHPOINT;
		pr.offset = addr;
		pr.bp_len = (uint32_t)blen;
		for (const char *m = mode; *m; m++) {
			if (*m == 'r')
				pr.bp_type |= 1; /* HW_BREAKPOINT_R */
			else if (*m == 'w')
				pr.bp_type |= 2; /* HW_BREAKPOINT_W */
			else if (*m == 'x')
				pr.bp_type |= 4; /* HW_BREAKPOINT_X */
			else
				return parse_error_at(ps, start, len, "watchpoint: mode '%s': use r, w, x or rw", mode);
		}
		if (!pr.bp_type || ((pr.bp_type & 4) && pr.bp_type != 4))
			return parse_error_at(ps, start, len, "watchpoint: mode '%s': use r, w, rw or x (x alone)", mode);
		if (pr.bp_type == 1)
			return parse_error_at(ps, start, len, "watchpoint: x86 cannot watch reads alone: use rw");
		snprintf(pr.text, sizeof(pr.text), "watchpoint:%s:%s:%s", parts[1], parts[2], mode);
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "rawtracepoint") || !strcmp(t, "rt")) {
		char found[PATH_MAX];

		if (nparts != 2 && nparts != 3)
			return parse_error_at(ps, start, len, "rawtracepoint needs NAME, e.g. rawtracepoint:sched_switch");
		/* a tracepoint of that name in some category */
		found[0] = 0;
		DIR *cd = opendir("/sys/kernel/tracing/events");
		struct dirent *c;

		while (cd && (c = readdir(cd)) && !found[0]) {
			char path[PATH_MAX + 300];

			if (c->d_name[0] == '.' || (nparts == 3 && strcmp(c->d_name, parts[1])))
				continue;
			snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s", c->d_name, parts[nparts - 1]);
			if (access(path, F_OK) == 0)
				snprintf(found, sizeof(found), "%s", parts[nparts - 1]);
		}
		if (cd)
			closedir(cd);
		if (!found[0])
			return parse_error_at(ps, start, len, "rawtracepoint: no tracepoint named %s", parts[nparts - 1]);
		pr.type = PT_RAWTP;
		snprintf(pr.name, sizeof(pr.name), "%s", found);
		snprintf(pr.text, sizeof(pr.text), "rawtracepoint:%s", found);
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "software") || !strcmp(t, "s")) {
		if (nparts != 2 && nparts != 3)
			return parse_error_at(ps, start, len, "software needs EVENT[:COUNT], e.g. software:page-faults:1");
		pr.type = PT_SOFTWARE;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		if (!software_event(parts[1], &pr.config, &pr.count))
			return parse_error_at(ps, start, len, "software:%s: unknown event (cpu-clock, task-clock, page-faults, "
					"context-switches, cpu-migrations, minor-faults, major-faults, alignment-faults, "
					"emulation-faults)", parts[1]);
		if (nparts == 3 && !parse_u64s(parts[2], &pr.count))
			return parse_error_at(ps, start, len, "software: bad count '%s'", parts[2]);
		snprintf(pr.text, sizeof(pr.text), "software:%s:%s", parts[1], nparts == 3 ? parts[2] : "");
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "kprobe") || !strcmp(t, "kretprobe") || !strcmp(t, "k") || !strcmp(t, "kr")) {
		bool ret = !strcmp(t, "kretprobe") || !strcmp(t, "kr");

		/* the running kernel's kprobe events, not assumed */
		if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) != 0)
			return parse_error_at(ps, start, len, "%s probes are not available on this kernel (it has no "
					      "kprobe events: CONFIG_KPROBE_EVENTS); use tracepoint:, uprobe: or profile:", t);
		if (nparts != 2 && nparts != 3)
			return parse_error_at(ps, start, len, "%s needs FUNCTION, e.g. kprobe:vfs_read", t);
		return kprobes(ps, &pr, parts[nparts - 1], ret, start, len);
	}
	if (!strcmp(t, "kfunc") || !strcmp(t, "kretfunc") || !strcmp(t, "fentry") || !strcmp(t, "fexit") ||
	    !strcmp(t, "f") || !strcmp(t, "fr"))
		return parse_error_at(ps, start, len, "%s probes are not supported by bpfprof trace yet; use kprobe: "
				      "(where the kernel has them), tracepoint: or uprobe:", t);
	return parse_error_at(ps, start, len, "'%s' probes are not supported; supported: %s", t, SUPPORTED_PROBES);
}


int tp_format_field(const char *sys, const char *event, const char *field, unsigned *off,
		    unsigned *size, unsigned *sgn, int *is_str, char *decl_out, size_t decl_len)
{
	char path[PATH_MAX + 600], line[512];
	int err = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", sys, event);
	if (!(f = fopen(path, "r")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *semi, *name, *br;
		char *o = strstr(line, "offset:"), *sz = strstr(line, "size:"), *sg = strstr(line, "signed:");

		if (!decl || !o || !sz || !sg || !(semi = strchr(decl, ';')))
			continue;
		*semi = 0;
		/* the name: the last identifier, before an array's [N] */
		name = semi;
		br = NULL;
		if (name > decl && name[-1] == ']') {
			while (name > decl && *name != '[')
				name--;
			br = name;
		}
		while (name > decl && isspace((unsigned char)name[-1]))
			name--;
		char *ne = name;

		while (name > decl && (isalnum((unsigned char)name[-1]) || name[-1] == '_'))
			name--;
		if ((size_t)(ne - name) != strlen(field) || strncmp(name, field, ne - name))
			continue;
		err = 0;
		if (decl_out)
			snprintf(decl_out, decl_len, "%.*s", (int)(name - decl - 6), decl + 6);
		/* char arrays and __data_loc strings read as strings */
		*is_str = strstr(decl, "__data_loc") ? 2 : (br && strstr(decl, "char ")) ? 1 : 0;
		if (sscanf(o, "offset:%u", off) != 1 || sscanf(sz, "size:%u", size) != 1 ||
		    sscanf(sg, "signed:%u", sgn) != 1 || !*size || (!*is_str && *size > 8))
			err = -EINVAL;
		break;
	}
	fclose(f);
	return err;
}

/* ---- USDT notes ------------------------------------------------------------- */

int tp_usdt_notes(const char *path, struct usdt_note **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0, cap = 0;
	Elf *e;
	Elf_Scn *scn = NULL;

	*out = NULL;
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	if (!(e = elf_begin(fd, ELF_C_READ, NULL))) {
		close(fd);
		return 0;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const char *desc = (const char *)d->d_buf + doff;
			const char *prov, *name;

			if (nh.n_type != 3 || nh.n_namesz != 8 || memcmp((const char *)d->d_buf + noff, "stapsdt", 8) ||
			    nh.n_descsz < 3 * 8 + 2)
				continue;
			prov = desc + 24;
			name = prov + strnlen(prov, nh.n_descsz - 24) + 1;
			if (name >= desc + nh.n_descsz)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, (size_t)cap * sizeof(**out));
			}
			snprintf((*out)[n].provider, sizeof((*out)[n].provider), "%s", prov);
			snprintf((*out)[n].name, sizeof((*out)[n].name), "%.*s", (int)(desc + nh.n_descsz - name), name);
			n++;
		}
	}
	elf_end(e);
	close(fd);
	return n;
}

/* ---- -l ----------------------------------------------------------------------- */

static void list_tracepoint_args(const char *cat, const char *name)
{
	char path[PATH_MAX + 600], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", cat, name);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *semi;

		if (!decl || !(semi = strchr(decl, ';')) || strstr(decl, "common_"))
			continue;
		*semi = 0;
		printf("    %s\n", decl + 6);
	}
	fclose(f);
}

static bool want(const char *pattern, const char *full)
{
	return !pattern || !fnmatch(pattern, full, 0);
}

int tp_list(const char *pattern, bool verbose, pid_t pid)
{
	static const char *const sw[] = { "alignment-faults", "bpf-output", "context-switches", "cs",
					  "cpu-clock", "cpu", "cpu-migrations", "migrations", "dummy",
					  "emulation-faults", "major-faults", "minor-faults", "page-faults",
					  "faults", "task-clock", NULL };
	char full[PATH_MAX + 600], pat[PATH_MAX + 600];
	const char *colon = pattern ? strchr(pattern, ':') : NULL;
	int shown = 0;

	/* short provider names as bpftrace's */
	if (pattern && colon) {
		static const struct { const char *s, *l; } alias[] = {
			{ "t", "tracepoint" }, { "s", "software" }, { "u", "uprobe" }, { "U", "usdt" },
			{ "ur", "uretprobe" }, { "p", "profile" }, { "i", "interval" },
		};
		size_t pl = (size_t)(colon - pattern);

		snprintf(pat, sizeof(pat), "%s", pattern);
		for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
			if (strlen(alias[i].s) == pl && !strncmp(pattern, alias[i].s, pl))
				snprintf(pat, sizeof(pat), "%s%s", alias[i].l, colon);
		pattern = pat;
		colon = strchr(pattern, ':');
	}
	/* uprobe:BIN:FUNC and usdt:BIN:... list the file's functions or notes */
	if (pattern && (!strncmp(pattern, "uprobe:", 7) || !strncmp(pattern, "uretprobe:", 10) ||
			!strncmp(pattern, "usdt:", 5))) {
		const char *bin = colon + 1, *rest = strchr(bin, ':');
		char name[PATH_MAX], path[PATH_MAX];

		snprintf(name, sizeof(name), "%.*s", rest ? (int)(rest - bin) : (int)strlen(bin), bin);
		if (!tp_resolve_binary(name, pid, path, sizeof(path))) {
			err_msg("-l: no such file or library: %s", name);
			return -ENOENT;
		}
		char want_pat[PATH_MAX + 600];

		snprintf(want_pat, sizeof(want_pat), "%.*s:%s:%s", (int)(colon - pattern), pattern, path,
			 rest ? rest + 1 : "*");
		if (pattern[1] == 's') { /* usdt */
			struct usdt_note *notes;
			int n = tp_usdt_notes(path, &notes);

			for (int i = 0; i < n; i++) {
				snprintf(full, sizeof(full), "usdt:%s:%s:%s", path, notes[i].provider, notes[i].name);
				if (!fnmatch(want_pat, full, 0))
					printf("%s\n", full), shown++;
			}
			free(notes);
		} else {
			struct symbolizer *sym = symbolizer_new();
			struct elf_syms *es = sym_elf_path(sym, path);

			for (size_t i = 0; es && i < es->syms.n; i++) {
				snprintf(full, sizeof(full), "%.*s:%s:%s", (int)(colon - pattern), pattern, path, es->syms.v[i].name);
				if (!fnmatch(want_pat, full, 0))
					printf("%s\n", full), shown++;
			}
			symbolizer_free(sym);
		}
		return shown ? 0 : -ENOENT;
	}
	if (pattern && (!strncmp(pattern, "kprobe:", 7) || !strncmp(pattern, "kretprobe:", 10))) {
		FILE *f = fopen("/sys/kernel/tracing/available_filter_functions", "r");
		char line[512];
		const char *fpat = colon + 1;

		if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) != 0 || !f) {
			if (f)
				fclose(f);
			err_msg("-l %s: kprobes are not available on this kernel (no kprobe events)", pattern);
			return -ENOTSUP;
		}
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, " \t\n")] = 0;
			if (!fnmatch(fpat, line, 0))
				printf("%.*s:%s\n", (int)(colon - pattern), pattern, line), shown++;
		}
		fclose(f);
		return 0;
	}
	if (pattern && (!strncmp(pattern, "kfunc:", 6) || !strncmp(pattern, "fentry:", 7))) {
		err_msg("-l %s: %.*s probes are not supported by bpfprof trace yet", pattern, (int)(colon - pattern), pattern);
		return -ENOTSUP;
	}
	/* a pattern without a provider matches whole names, as bpftrace's */
	if (pattern && !colon) {
		static char any[PATH_MAX + 1200];

		if (strchr(pattern, '*') || strchr(pattern, '?'))
			snprintf(any, sizeof(any), "*:%.*s", PATH_MAX, pattern);
		else
			snprintf(any, sizeof(any), "*%.*s*", PATH_MAX, pattern);
		pattern = any;
	}
	for (int i = 0; sw[i]; i++) {
		snprintf(full, sizeof(full), "software:%s:", sw[i]);
		if (want(pattern, full) || (pattern && !fnmatch(pattern, full, 0)))
			printf("%s\n", full), shown++;
	}
	const char *root = "/sys/kernel/tracing/events";
	struct dirent **cats = NULL;
	int nc = scandir(root, &cats, NULL, alphasort);

	for (int c = 0; c < nc; c++) {
		char dir[PATH_MAX];
		struct dirent **evs = NULL;
		int ne;

		if (cats[c]->d_name[0] == '.' || cats[c]->d_type != DT_DIR) {
			free(cats[c]);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s", root, cats[c]->d_name);
		ne = scandir(dir, &evs, NULL, alphasort);
		for (int e = 0; e < ne; e++) {
			if (evs[e]->d_name[0] != '.' && evs[e]->d_type == DT_DIR) {
				snprintf(full, sizeof(full), "tracepoint:%s:%s", cats[c]->d_name, evs[e]->d_name);
				if (want(pattern, full)) {
					printf("%s\n", full);
					shown++;
					if (verbose)
						list_tracepoint_args(cats[c]->d_name, evs[e]->d_name);
				}
			}
			free(evs[e]);
		}
		free(evs);
		free(cats[c]);
	}
	free(cats);
	return 0;
}
