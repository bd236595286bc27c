/* trace: the supported subset of bpftrace's language (docs/trace.md), parsed
 * by recursive descent straight into the tables bpf/trace.bpf.c interprets.
 * Anything outside the subset is an error at its position, before anything
 * is attached. */
#include "trace/trace_user.h"
#include "symbols/symbolize.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>

enum tok_kind { T_END, T_IDENT, T_INT, T_STR, T_MAP, T_PUNCT };

struct tok {
	enum tok_kind kind;
	int pos, len;
	char text[256];
	int64_t num;
};

struct parser {
	struct tp_program *p;
	const char *s;
	int pos;
	struct tok t;            /* current token */
	int block;               /* block being parsed */
	int probe_first, probe_n;/* its probes */
};

#define SUPPORTED_PROBES "BEGIN, END, profile, interval, tracepoint, uprobe, uretprobe, usdt, software"
#define SUPPORTED_STMTS "@map[keys] = count()/sum()/avg()/min()/max()/stats()/hist()/lhist(), " \
	"@map[keys] = value, @map[keys]++, delete(@map[keys]), exit(); print/clear/zero(@map) in BEGIN/END/interval"

/* ---- errors ------------------------------------------------------------- */

static int error_at(struct parser *ps, int pos, int len, const char *fmt, ...)
{
	const char *s = ps->s, *ls = s, *le;
	int line = 1;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (int i = 0; i < pos && s[i]; i++) {
		if (s[i] == '\n') {
			line++;
			ls = s + i + 1;
		}
	}
	le = strchr(ls, '\n');
	if (!le)
		le = ls + strlen(ls);
	if (len < 1)
		len = 1;
	int col = (int)(s + pos - ls);

	/* bpftrace's shape: position, the line, a marker under the construct. */
	fprintf(stderr, "stdin:%d:%d-%d: ERROR: %s\n%.*s\n%*s", line, col + 1, col + len + 1, msg,
		(int)(le - ls), ls, col, "");
	for (int i = 0; i < len && ls + col + i < le; i++)
		fputc(i ? '~' : '^', stderr);
	fputc('\n', stderr);
	return -EINVAL;
}

#define ERR_TOK(ps, ...) error_at(ps, (ps)->t.pos, (ps)->t.len, __VA_ARGS__)

/* ---- lexer ---------------------------------------------------------------- */

static void skip_space(struct parser *ps)
{
	for (;;) {
		while (isspace((unsigned char)ps->s[ps->pos]))
			ps->pos++;
		if (ps->s[ps->pos] == '/' && ps->s[ps->pos + 1] == '/') {
			while (ps->s[ps->pos] && ps->s[ps->pos] != '\n')
				ps->pos++;
			continue;
		}
		return;
	}
}

static int next(struct parser *ps)
{
	static const char *const puncts[] = { "==", "!=", "<=", ">=", "&&", "||", "++", "--", "->", "+=",
					      "-=", "<<", ">>", "{", "}", "(", ")", "[", "]", ",", ";", "=",
					      "<", ">", "!", "+", "-", "*", "/", "%", "&", "|", "^", ".",
					      "?", ":", "$", "~", NULL };
	struct tok *t = &ps->t;
	const char *s = ps->s;

	skip_space(ps);
	memset(t, 0, sizeof(*t));
	t->pos = ps->pos;
	if (!s[ps->pos]) {
		t->kind = T_END;
		return 0;
	}
	if (s[ps->pos] == '@' || isalpha((unsigned char)s[ps->pos]) || s[ps->pos] == '_') {
		int start = ps->pos;

		t->kind = s[ps->pos] == '@' ? T_MAP : T_IDENT;
		ps->pos++;
		while (isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_')
			ps->pos++;
		t->len = ps->pos - start;
		if (t->len >= (int)sizeof(t->text))
			return error_at(ps, start, t->len, "name too long");
		memcpy(t->text, s + start, t->len);
		return 0;
	}
	if (isdigit((unsigned char)s[ps->pos])) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(s + ps->pos, &end, 0);
		if (errno || (isalnum((unsigned char)*end) && *end != 'e'))
			return error_at(ps, ps->pos, (int)(end - (s + ps->pos)) + 1, "bad number");
		t->kind = T_INT;
		t->num = (int64_t)v;
		t->len = (int)(end - (s + ps->pos));
		ps->pos += t->len;
		return 0;
	}
	if (s[ps->pos] == '"') {
		int start = ps->pos++, n = 0;

		while (s[ps->pos] && s[ps->pos] != '"' && s[ps->pos] != '\n') {
			if (n < (int)sizeof(t->text) - 1)
				t->text[n++] = s[ps->pos];
			ps->pos++;
		}
		if (s[ps->pos] != '"')
			return error_at(ps, start, ps->pos - start, "unterminated string");
		ps->pos++;
		t->kind = T_STR;
		t->len = ps->pos - start;
		return 0;
	}
	for (int i = 0; puncts[i]; i++) {
		size_t l = strlen(puncts[i]);

		if (!strncmp(s + ps->pos, puncts[i], l)) {
			t->kind = T_PUNCT;
			t->len = (int)l;
			memcpy(t->text, puncts[i], l);
			ps->pos += (int)l;
			return 0;
		}
	}
	return error_at(ps, ps->pos, 1, "unexpected character '%c'", s[ps->pos]);
}

static bool is(struct parser *ps, const char *punct)
{
	return ps->t.kind == T_PUNCT && !strcmp(ps->t.text, punct);
}

static bool is_ident(struct parser *ps, const char *name)
{
	return ps->t.kind == T_IDENT && !strcmp(ps->t.text, name);
}

static int expect(struct parser *ps, const char *punct)
{
	if (!is(ps, punct))
		return ERR_TOK(ps, "syntax error: expected '%s'", punct);
	return next(ps);
}

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
		return error_at(ps, pos, len, "cannot list tracepoints (%s): %s", root, strerror(errno));
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
		return error_at(ps, pos, len, "no tracepoint matches %s:%s", cat, name);
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

bool tp_resolve_binary(const char *name, pid_t pid, char *out, size_t n)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					    "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
					    NULL };
	char path[PATH_MAX];

	if (strchr(name, '/'))
		return in_target(pid, name, out, n);
	if (pid > 0) { /* a library the process has mapped: libc -> its libc.so.6 */
		char maps[64], line[PATH_MAX + 128], want[300];
		FILE *f;

		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
		snprintf(want, sizeof(want), "/%s", name);
		if ((f = fopen(maps, "r"))) {
			while (fgets(line, sizeof(line), f)) {
				char *p = strchr(line, '/'), *base;

				if (!p)
					continue;
				p[strcspn(p, "\n")] = 0;
				base = strrchr(p, '/');
				if (!strncmp(base, want, strlen(want)) &&
				    (base[strlen(want)] == '.' || base[strlen(want)] == '-' || !base[strlen(want)])) {
					fclose(f);
					return in_target(pid, p, out, n);
				}
			}
			fclose(f);
		}
	}
	for (int i = 0; dirs[i]; i++) {
		static const char *const forms[] = { "%s/%s", "%s/%s.so", "%s/%s.so.6", "%s/%s.so.1",
						     "%s/lib%s.so", "%s/lib%s.so.6", "%s/lib%s.so.1", NULL };

		for (int j = 0; forms[j]; j++) {
			snprintf(path, sizeof(path), forms[j], dirs[i], name);
			if (in_target(pid, path, out, n) && is_elf(out)) /* libc.so is a linker script */
				return true;
		}
	}
	return false;
}

static int uprobes(struct parser *ps, struct tp_probe *pr, int pos, int len)
{
	char path[PATH_MAX];
	struct elf_syms *es;
	int found = 0;
	const char *kind = pr->type == PT_URETPROBE ? "uretprobe" : "uprobe";

	if (!tp_resolve_binary(pr->target, ps->p->pid, path, sizeof(path)))
		return error_at(ps, pos, len, "%s: no such file or library: %s", kind, pr->target);
	/* The symbolizer's copy: the stacks printed later need the same file. */
	if (!(es = sym_elf_path(ps->p->sym, path)))
		return error_at(ps, pos, len, "%s: %s is not a readable ELF file", kind, path);
	if (pr->type == PT_URETPROBE && es->is_go)
		return error_at(ps, pos, len, "uretprobe on a Go binary (%s) would crash it (Go moves its "
			      "stacks); use uprobe", path);
	snprintf(pr->target, sizeof(pr->target), "%s", path);
	/* Shown as the target sees it. */
	const char *shown = path;
	char root[64];
	int rl = ps->p->pid > 0 ? snprintf(root, sizeof(root), "/proc/%d/root", ps->p->pid) : 0;

	if (rl > 0 && !strncmp(path, root, (size_t)rl) && path[rl] == '/')
		shown = path + rl;
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
			snprintf(one.name, sizeof(one.name), "%s", fn);
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
		return error_at(ps, pos, len, "%s: no function %s in %s", kind, pr->name, path);
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
static int probe_word(struct parser *ps)
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
		return error_at(ps, start, 1, "syntax error: expected a probe (%s)", SUPPORTED_PROBES);
	if (len >= (int)sizeof(word))
		return error_at(ps, start, len, "probe name too long");
	memcpy(word, s + start, len);
	word[len] = 0;
	ps->pos = end;
	for (tok = strtok_r(word, ":", &save); tok && nparts < 6; tok = strtok_r(NULL, ":", &save))
		parts[nparts++] = tok;
	if (!nparts)
		return error_at(ps, start, len, "syntax error: expected a probe");
	const char *t = parts[0];

	if (!strcmp(t, "BEGIN") || !strcmp(t, "END")) {
		pr.type = t[0] == 'B' ? PT_BEGIN : PT_END;
		snprintf(pr.text, sizeof(pr.text), "%s", t);
		return nparts == 1 ? add_probe(ps, &pr) : error_at(ps, start, len, "%s takes no arguments", t);
	}
	if (!strcmp(t, "profile") || !strcmp(t, "p") || !strcmp(t, "interval") || !strcmp(t, "i")) {
		bool prof = t[0] == 'p';

		pr.type = prof ? PT_PROFILE : PT_INTERVAL;
		if (nparts != 3 || !parse_u64s(parts[2], &v))
			return error_at(ps, start, len, "%s needs UNIT:N, e.g. %s", prof ? "profile" : "interval",
					prof ? "profile:hz:99" : "interval:s:1");
		uint64_t unit_ns = !strcmp(parts[1], "s") ? 1000000000ULL : !strcmp(parts[1], "ms") ? 1000000ULL :
				   !strcmp(parts[1], "us") ? 1000ULL : 0;

		if (!strcmp(parts[1], "hz"))
			pr.hz = v, pr.period_ns = v ? 1000000000ULL / v : 0;
		else if (!unit_ns)
			return error_at(ps, start, len, "unit '%s': use hz, s, ms or us", parts[1]);
		/* A period past ~292 years would wrap (and one over a year is
		 * surely a typo): refused. */
		else if (__builtin_mul_overflow(v, unit_ns, &pr.period_ns) ||
			 pr.period_ns > 366ULL * 86400 * 1000000000ULL)
			return error_at(ps, start, len, "period %s %s is too long (at most a year)", parts[2], parts[1]);
		if (!pr.period_ns)
			return error_at(ps, start, len, "period too short");
		snprintf(pr.text, sizeof(pr.text), "%s:%s:%s", prof ? "profile" : "interval", parts[1], parts[2]);
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "tracepoint") || !strcmp(t, "t")) {
		if (nparts != 3)
			return error_at(ps, start, len, "tracepoint needs CATEGORY:NAME, e.g. tracepoint:sched:sched_switch");
		pr.type = PT_TRACEPOINT;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		snprintf(pr.name, sizeof(pr.name), "%s", parts[2]);
		return tracepoints(ps, &pr, start, len);
	}
	if (!strcmp(t, "uprobe") || !strcmp(t, "u") || !strcmp(t, "uretprobe") || !strcmp(t, "ur")) {
		if (nparts != 3)
			return error_at(ps, start, len, "%s needs PATH:FUNCTION, e.g. uprobe:libc:malloc", t);
		pr.type = t[1] == 'r' ? PT_URETPROBE : PT_UPROBE;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		snprintf(pr.name, sizeof(pr.name), "%s", parts[2]);
		return uprobes(ps, &pr, start, len);
	}
	if (!strcmp(t, "usdt") || !strcmp(t, "U")) {
		char path[PATH_MAX];

		if (nparts != 4)
			return error_at(ps, start, len, "usdt needs PATH:PROVIDER:NAME");
		pr.type = PT_USDT;
		if (!tp_resolve_binary(parts[1], ps->p->pid, path, sizeof(path)))
			return error_at(ps, start, len, "usdt: no such file or library: %s", parts[1]);
		snprintf(pr.target, sizeof(pr.target), "%s", path);
		snprintf(pr.provider, sizeof(pr.provider), "%s", nparts == 4 ? parts[2] : "");
		snprintf(pr.name, sizeof(pr.name), "%s", parts[nparts - 1]);
		snprintf(pr.text, sizeof(pr.text), "usdt:%s:%s%s%s", path, pr.provider, pr.provider[0] ? ":" : "", pr.name);
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "software") || !strcmp(t, "s")) {
		if (nparts != 2 && nparts != 3)
			return error_at(ps, start, len, "software needs EVENT[:COUNT], e.g. software:page-faults:1");
		pr.type = PT_SOFTWARE;
		snprintf(pr.target, sizeof(pr.target), "%s", parts[1]);
		if (!software_event(parts[1], &pr.config, &pr.count))
			return error_at(ps, start, len, "software:%s: unknown event (cpu-clock, task-clock, page-faults, "
					"context-switches, cpu-migrations, minor-faults, major-faults, alignment-faults, "
					"emulation-faults)", parts[1]);
		if (nparts == 3 && !parse_u64s(parts[2], &pr.count))
			return error_at(ps, start, len, "software: bad count '%s'", parts[2]);
		snprintf(pr.text, sizeof(pr.text), "software:%s:%s", parts[1], nparts == 3 ? parts[2] : "");
		return add_probe(ps, &pr);
	}
	if (!strcmp(t, "kprobe") || !strcmp(t, "kretprobe") || !strcmp(t, "k") || !strcmp(t, "kr") ||
	    !strcmp(t, "kfunc") || !strcmp(t, "kretfunc") || !strcmp(t, "fentry") || !strcmp(t, "fexit") ||
	    !strcmp(t, "f") || !strcmp(t, "fr"))
		return error_at(ps, start, len, "%s probes are not supported by bpfprof trace%s; use "
				"tracepoint:, uprobe: or profile:", t,
				access("/sys/bus/event_source/devices/kprobe", F_OK) == 0 ? ""
				: " (and this kernel has no kprobe events)");
	return error_at(ps, start, len, "'%s' probes are not supported; supported: %s", t, SUPPORTED_PROBES);
}

/* ---- values, keys and maps ------------------------------------------------- */

static bool block_only(struct parser *ps, enum tp_type a, enum tp_type b)
{
	for (int i = 0; i < ps->probe_n; i++) {
		enum tp_type t = ps->p->probes.v[ps->probe_first + i].type;

		if (t != a && t != b)
			return false;
	}
	return ps->probe_n > 0;
}

int tp_format_field(const char *sys, const char *event, const char *field, unsigned *off,
		    unsigned *size, unsigned *sgn)
{
	char path[PATH_MAX + 600], line[512];
	int err = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", sys, event);
	if (!(f = fopen(path, "r")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *semi, *name;
		char *o = strstr(line, "offset:"), *sz = strstr(line, "size:"), *sg = strstr(line, "signed:");

		if (!decl || !o || !sz || !sg || !(semi = strchr(decl, ';')))
			continue;
		*semi = 0;
		name = semi;
		while (name > decl && (isalnum((unsigned char)name[-1]) || name[-1] == '_'))
			name--;
		if (strcmp(name, field))
			continue;
		err = 0;
		if (strchr(decl, '[') || sscanf(o, "offset:%u", off) != 1 || sscanf(sz, "size:%u", size) != 1 ||
		    sscanf(sg, "signed:%u", sgn) != 1 || *size > 8 || !*size)
			err = -EINVAL;
		break;
	}
	fclose(f);
	return err;
}

/* A tracepoint field from the format files of every tracepoint in the block
 * (they must agree on where it is). */
static int tp_field(struct parser *ps, const char *field, int pos, int len, struct tr_src_spec *out)
{
	bool found_any = false;

	for (int i = 0; i < ps->probe_n; i++) {
		struct tp_probe *pr = &ps->p->probes.v[ps->probe_first + i];
		unsigned off = 0, size = 0, sgn = 0;
		int err;

		if (pr->type != PT_TRACEPOINT)
			continue;
		err = tp_format_field(pr->target, pr->name, field, &off, &size, &sgn);
		if (err == -ESRCH)
			return error_at(ps, pos, len, "tracepoint %s:%s has no field '%s'", pr->target, pr->name, field);
		if (err == -EINVAL)
			return error_at(ps, pos, len, "args->%s is not an integer field", field);
		if (err < 0)
			return error_at(ps, pos, len, "cannot read the format of %s:%s: %s", pr->target, pr->name,
					strerror(-err));
		if (found_any && (out->off != off || out->size != size))
			return error_at(ps, pos, len, "args->%s lies at different offsets in the matched tracepoints", field);
		out->kind = SRC_FIELD;
		out->off = (uint16_t)off;
		out->size = (uint8_t)size;
		out->is_signed = (uint8_t)sgn;
		found_any = true;
	}
	return 0;
}

static int find_map(struct parser *ps, const char *name)
{
	for (size_t i = 0; i < ps->p->maps.n; i++)
		if (!strcmp(ps->p->maps.v[i].name, name))
			return (int)i;
	struct tp_map m = { .agg = -1 };

	snprintf(m.name, sizeof(m.name), "%s", name);
	vec_push(&ps->p->maps, m);
	return (int)ps->p->maps.n - 1;
}

static int parse_value(struct parser *ps, struct tr_src_spec *out, bool allow_map);

/* A key part (or a value source, for keys are values too). */
static int parse_source(struct parser *ps, struct tr_src_spec *out, enum tp_disp *disp, int *depth,
			bool key)
{
	struct tok t = ps->t;
	static const struct { const char *name; enum tr_src src; } simple[] = {
		{ "pid", SRC_PID }, { "tid", SRC_TID }, { "cpu", SRC_CPU }, { "uid", SRC_UID },
		{ "cgroup", SRC_CGROUP }, { "nsecs", SRC_NSECS }, { "retval", SRC_RETVAL },
	};
	int err;

	memset(out, 0, sizeof(*out));
	*disp = DISP_INT;
	if (t.kind == T_INT || (t.kind == T_PUNCT && !strcmp(t.text, "-"))) {
		bool neg = t.kind == T_PUNCT;

		if (neg && ((err = next(ps)) || ps->t.kind != T_INT))
			return err ? err : ERR_TOK(ps, "syntax error: expected a number");
		out->kind = SRC_CONST;
		out->imm = neg ? -ps->t.num : ps->t.num;
		return next(ps);
	}
	if (t.kind == T_STR)
		return ERR_TOK(ps, "strings are supported only in comm == \"...\" predicates");
	if (t.kind == T_MAP)
		return ERR_TOK(ps, "a map value cannot be used here");
	if (t.kind == T_PUNCT && !strcmp(t.text, "$"))
		return ERR_TOK(ps, "scratch variables ($x) are not supported");
	if (t.kind == T_PUNCT && !strcmp(t.text, "*"))
		return ERR_TOK(ps, "pointer dereference is not supported");
	if (t.kind == T_PUNCT && !strcmp(t.text, "("))
		return ERR_TOK(ps, "casts and parenthesized expressions are not supported");
	if (t.kind != T_IDENT)
		return ERR_TOK(ps, "syntax error: expected a value");
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcmp(t.text, simple[i].name))
			continue;
		if (simple[i].src == SRC_RETVAL && !block_only(ps, PT_URETPROBE, PT_URETPROBE))
			return ERR_TOK(ps, "retval is available in uretprobe blocks only");
		out->kind = simple[i].src;
		return next(ps);
	}
	if (!strncmp(t.text, "arg", 3) && isdigit((unsigned char)t.text[3]) && !t.text[4]) {
		if (t.text[3] > '5')
			return ERR_TOK(ps, "arg0..arg5 are supported");
		if (!block_only(ps, PT_UPROBE, PT_USDT))
			return ERR_TOK(ps, "%s is available in uprobe and usdt blocks only (tracepoints: args->FIELD)", t.text);
		out->kind = SRC_ARG;
		out->arg = (uint8_t)(t.text[3] - '0');
		return next(ps);
	}
	if (!strcmp(t.text, "args")) {
		int pos = t.pos;

		if ((err = next(ps)))
			return err;
		if (!is(ps, "->") && !is(ps, "."))
			return ERR_TOK(ps, "syntax error: expected args->FIELD");
		if ((err = next(ps)))
			return err;
		if (ps->t.kind != T_IDENT)
			return ERR_TOK(ps, "syntax error: expected a field name");
		if (!block_only(ps, PT_TRACEPOINT, PT_TRACEPOINT))
			return error_at(ps, pos, ps->t.pos + ps->t.len - pos, "args->FIELD is available in tracepoint blocks only");
		if ((err = tp_field(ps, ps->t.text, pos, ps->t.pos + ps->t.len - pos, out)))
			return err;
		if (ps->t.kind == T_PUNCT)
			return 0;
		return next(ps);
	}
	if (key && (!strcmp(t.text, "ustack") || !strcmp(t.text, "kstack"))) {
		bool user = t.text[0] == 'u';

		out->kind = user ? SRC_USTACK : SRC_KSTACK;
		*disp = user ? DISP_USTACK : DISP_KSTACK;
		*depth = 0;
		if ((err = next(ps)))
			return err;
		if (is(ps, "(")) {
			if ((err = next(ps)))
				return err;
			if (ps->t.kind != T_INT || ps->t.num < 1 || ps->t.num > 127)
				return ERR_TOK(ps, "%s(N): N is a depth, 1..127 (modes such as perf are not supported)", t.text);
			*depth = (int)ps->t.num;
			if ((err = next(ps)) || (err = expect(ps, ")")))
				return err;
		}
		return 0;
	}
	if (key && !strcmp(t.text, "comm")) {
		out->kind = SRC_COMM;
		*disp = DISP_COMM;
		return next(ps);
	}
	if (key && !strcmp(t.text, "probe")) {
		out->kind = SRC_PROBE;
		*disp = DISP_PROBE;
		return next(ps);
	}
	if (key && !strcmp(t.text, "func")) {
		bool by_probe = block_only(ps, PT_UPROBE, PT_URETPROBE) || block_only(ps, PT_USDT, PT_USDT);

		out->kind = by_probe ? SRC_PROBE : SRC_IP;
		*disp = by_probe ? DISP_FUNC_PROBE : DISP_FUNC_IP;
		return next(ps);
	}
	if (!strcmp(t.text, "comm") || !strcmp(t.text, "ustack") || !strcmp(t.text, "kstack") ||
	    !strcmp(t.text, "func") || !strcmp(t.text, "probe"))
		return ERR_TOK(ps, "%s can be a map key, not a value", t.text);
	if (!strcmp(t.text, "printf") || !strcmp(t.text, "str") || !strcmp(t.text, "buf") ||
	    !strcmp(t.text, "sizeof") || !strcmp(t.text, "ksym") || !strcmp(t.text, "usym"))
		return ERR_TOK(ps, "%s() is not supported", t.text);
	return ERR_TOK(ps, "unknown value '%s'", t.text);
}

/* @name or @name[k, ...]: the map (created on first use) and a keyspec. */
static int parse_mapref(struct parser *ps, int *map_out, int *ks_out)
{
	struct tr_keyspec ks = { 0 };
	struct tok name = ps->t;
	int m, err, nparts = 0;
	struct tr_src_spec parts[TR_MAX_PARTS + 1];
	enum tp_disp disp[TR_MAX_PARTS + 1];
	int depth[TR_MAX_PARTS + 1] = { 0 };
	bool keyed = false, has_ustack = false, has_ip = false;
	int bytes = 0;

	if ((err = next(ps)))
		return err;
	if (is(ps, "[")) {
		keyed = true;
		do {
			if ((err = next(ps)))
				return err;
			if (nparts == TR_MAX_PARTS)
				return ERR_TOK(ps, "at most %d map keys", TR_MAX_PARTS);
			if (ps->t.kind == T_MAP)
				return ERR_TOK(ps, "a map value cannot be a key");
			if ((err = parse_source(ps, &parts[nparts], &disp[nparts], &depth[nparts], true)))
				return err;
			if (parts[nparts].kind == SRC_USTACK)
				has_ustack = true;
			if (parts[nparts].kind == SRC_IP)
				has_ip = true;
			bytes += parts[nparts].kind == SRC_COMM ? TASK_COMM_LEN : 8;
			nparts++;
		} while (is(ps, ","));
		if ((err = expect(ps, "]")))
			return err;
	}
	/* User addresses mean something only with their process: keep the
	 * pid in the key (not shown; entries are merged when printed). */
	if (has_ustack || has_ip) {
		if (nparts == TR_MAX_PARTS)
			return error_at(ps, name.pos, ps->t.pos - name.pos, "too many keys with a user stack (at most %d)",
					TR_MAX_PARTS - 1);
		memset(&parts[nparts], 0, sizeof(parts[nparts]));
		parts[nparts].kind = SRC_PID;
		disp[nparts] = DISP_HIDDEN_PID;
		bytes += 8;
		nparts++;
	}
	if (bytes > TR_KEY_BYTES - 8)
		return error_at(ps, name.pos, ps->t.pos - name.pos, "key too large (%d bytes; at most %d)", bytes,
				TR_KEY_BYTES - 8);
	m = find_map(ps, name.text);
	struct tp_map *mp = &ps->p->maps.v[m];

	if (mp->keyed_known) {
		bool same = mp->nparts == nparts;

		for (int i = 0; same && i < nparts; i++)
			same = mp->parts[i].kind == parts[i].kind && mp->parts[i].off == parts[i].off &&
			       mp->parts[i].arg == parts[i].arg;
		if (!same)
			return error_at(ps, name.pos, ps->t.pos - name.pos,
					"%s is used with different keys (%s)", name.text, keyed ? "keys differ" : "keyed elsewhere");
	} else {
		mp->keyed_known = true;
		mp->nparts = nparts;
		memcpy(mp->parts, parts, sizeof(parts[0]) * nparts);
		memcpy(mp->disp, disp, sizeof(disp[0]) * nparts);
		memcpy(mp->depth, depth, sizeof(depth[0]) * nparts);
	}
	if (ps->p->keyspecs.n >= TR_MAX_KEYSPECS)
		return error_at(ps, name.pos, name.len, "too many map references (at most %d)", TR_MAX_KEYSPECS);
	ks.map_id = (uint16_t)m;
	ks.nparts = (uint8_t)nparts;
	memcpy(ks.parts, parts, sizeof(parts[0]) * nparts);
	vec_push(&ps->p->keyspecs, ks);
	*map_out = m;
	*ks_out = (int)ps->p->keyspecs.n - 1;
	return 0;
}

/* A value: a source, @map[...] (its stored value) or nsecs - @map[...]. */
static int parse_value(struct parser *ps, struct tr_src_spec *out, bool allow_map)
{
	enum tp_disp disp;
	int depth = 0, err, m, ks, pos = ps->t.pos;

	if (ps->t.kind == T_MAP) {
		if (!allow_map)
			return ERR_TOK(ps, "a map value cannot be used here");
		if ((err = parse_mapref(ps, &m, &ks)))
			return err;
		memset(out, 0, sizeof(*out));
		out->kind = SRC_MAP;
		out->keyspec = (uint16_t)ks;
	} else if ((err = parse_source(ps, out, &disp, &depth, false))) {
		return err;
	}
	if (is(ps, "-") && out->kind == SRC_NSECS) {
		if ((err = next(ps)))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "only nsecs - @map[key] (the latency idiom) is supported; "
				       "other arithmetic is not");
		if ((err = parse_mapref(ps, &m, &ks)))
			return err;
		out->kind = SRC_NSECS_SINCE;
		out->keyspec = (uint16_t)ks;
	}
	/* ('/' may end a predicate: a division is caught as a syntax error.) */
	if (ps->t.kind == T_PUNCT && strchr("+-*%&|^", ps->t.text[0]) && ps->t.len <= 2 &&
	    !is(ps, "&&") && !is(ps, "||") && !is(ps, "++") && !is(ps, "->"))
		return error_at(ps, pos, ps->t.pos + ps->t.len - pos,
				"arithmetic is not supported (only nsecs - @map[key], the latency idiom)");
	return 0;
}

/* ---- predicates ---------------------------------------------------------- */

static int parse_cond(struct parser *ps, struct tr_block *b)
{
	struct tr_cond c = { 0 };
	int err, pos = ps->t.pos;
	bool paren = false, negate = false;

	if (b->nconds == TR_MAX_CONDS)
		return ERR_TOK(ps, "at most %d comparisons in a predicate", TR_MAX_CONDS);
	if (is(ps, "(")) {
		paren = true;
		if ((err = next(ps)))
			return err;
	}
	if (is(ps, "!")) {
		negate = true;
		if ((err = next(ps)))
			return err;
	}
	if (is_ident(ps, "comm")) {
		if ((err = next(ps)))
			return err;
		if (!is(ps, "==") && !is(ps, "!="))
			return ERR_TOK(ps, "comm is compared with == or != \"string\"");
		c.op = is(ps, "==") ? CMP_EQ : CMP_NE;
		if ((err = next(ps)))
			return err;
		if (ps->t.kind != T_STR)
			return ERR_TOK(ps, "comm is compared with a \"string\"");
		if (strlen(ps->t.text) >= TASK_COMM_LEN)
			return ERR_TOK(ps, "comm is at most %d characters", TASK_COMM_LEN - 1);
		c.lhs.kind = SRC_COMM;
		memcpy(c.str, ps->t.text, strlen(ps->t.text));
		if ((err = next(ps)))
			return err;
	} else {
		if ((err = parse_value(ps, &c.lhs, true)))
			return err;
		static const struct { const char *op; enum tr_cmp cmp; } ops[] = {
			{ "==", CMP_EQ }, { "!=", CMP_NE }, { "<", CMP_LT }, { "<=", CMP_LE },
			{ ">", CMP_GT }, { ">=", CMP_GE },
		};
		c.op = CMP_TRUE;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			if (!is(ps, ops[i].op))
				continue;
			c.op = ops[i].cmp;
			if ((err = next(ps)))
				return err;
			bool neg = is(ps, "-");

			if (neg && (err = next(ps)))
				return err;
			if (ps->t.kind == T_STR)
				return ERR_TOK(ps, "strings are compared only with comm");
			if (ps->t.kind != T_INT)
				return ERR_TOK(ps, "a comparison's right side must be a number");
			c.rhs = neg ? -ps->t.num : ps->t.num;
			if ((err = next(ps)))
				return err;
			break;
		}
		if (negate && c.op == CMP_TRUE) {
			c.op = CMP_EQ;
			c.rhs = 0;
			negate = false;
		}
	}
	if (negate)
		return error_at(ps, pos, ps->t.pos - pos, "'!' applies to a single value only");
	if (paren && (err = expect(ps, ")")))
		return err;
	if (is(ps, "("))
		return ERR_TOK(ps, "parentheses around more than one comparison are not supported");
	b->conds[b->nconds++] = c;
	return 0;
}

static int parse_predicate(struct parser *ps, struct tr_block *b)
{
	int err;

	if ((err = next(ps))) /* past the opening '/' */
		return err;
	for (;;) {
		if ((err = parse_cond(ps, b)))
			return err;
		if (is(ps, "&&")) {
			if ((err = next(ps)))
				return err;
			continue;
		}
		if (is(ps, "||")) {
			b->conds[b->nconds - 1].or_next = 1;
			if ((err = next(ps)))
				return err;
			continue;
		}
		break;
	}
	if (!is(ps, "/"))
		return ERR_TOK(ps, "syntax error: expected '/' to end the predicate (&&, || and comparisons only)");
	return next(ps);
}

/* ---- statements ------------------------------------------------------------ */

static int set_agg(struct parser *ps, int m, int agg, int pos, int len, const struct tr_stmt *st)
{
	struct tp_map *mp = &ps->p->maps.v[m];

	if (mp->agg >= 0 && mp->agg != agg)
		return error_at(ps, pos, len, "%s is used with two different functions", mp->name);
	if (agg == AGG_LHIST && mp->agg == AGG_LHIST && (mp->lo != st->lo || mp->hi != st->hi || mp->step != st->step))
		return error_at(ps, pos, len, "%s is used with two different lhist ranges", mp->name);
	mp->agg = agg;
	if (agg == AGG_LHIST) {
		mp->lo = st->lo;
		mp->hi = st->hi;
		mp->step = st->step;
	}
	return 0;
}

static int parse_int_arg(struct parser *ps, int64_t *v)
{
	bool neg = is(ps, "-");
	int err;

	if (neg && (err = next(ps)))
		return err;
	if (ps->t.kind != T_INT)
		return ERR_TOK(ps, "expected a number");
	*v = neg ? -ps->t.num : ps->t.num;
	return next(ps);
}

static int push_stmt(struct parser *ps, struct tr_block *b, const struct tr_stmt *st, int pos)
{
	if (b->nstmts == TR_MAX_BLOCK_STMTS)
		return error_at(ps, pos, 1, "at most %d statements in a block", TR_MAX_BLOCK_STMTS);
	if (ps->p->stmts.n == TR_MAX_STMTS)
		return error_at(ps, pos, 1, "at most %d statements in a program", TR_MAX_STMTS);
	if (!b->nstmts)
		b->first_stmt = (uint32_t)ps->p->stmts.n;
	vec_push(&ps->p->stmts, *st);
	b->nstmts++;
	return 0;
}

static int parse_user_stmt(struct parser *ps, struct tp_block *blk)
{
	struct tok t = ps->t;
	struct tp_uaction a = { .map = -1 };
	int err;

	if (t.kind == T_IDENT && (!strcmp(t.text, "print") || !strcmp(t.text, "clear") || !strcmp(t.text, "zero"))) {
		a.kind = t.text[0] == 'p' ? UA_PRINT : t.text[0] == 'c' ? UA_CLEAR : UA_ZERO;
		if ((err = next(ps)) || (err = expect(ps, "(")))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "%s() takes a map, e.g. %s(@name)", t.text, t.text);
		a.map = find_map(ps, ps->t.text);
		if ((err = next(ps)))
			return err;
		if (is(ps, "["))
			return ERR_TOK(ps, "%s() takes a whole map, without keys", t.text);
		if ((err = expect(ps, ")")))
			return err;
	} else if (is_ident(ps, "exit")) {
		a.kind = UA_EXIT;
		if ((err = next(ps)) || (err = expect(ps, "(")) || (err = expect(ps, ")")))
			return err;
	} else if (t.kind == T_MAP) {
		return ERR_TOK(ps, "maps are updated by kernel probes; BEGIN, END and interval blocks run "
			       "print(), clear(), zero() and exit()");
	} else {
		return ERR_TOK(ps, "'%s' is not supported here; BEGIN, END and interval blocks run print(), "
			       "clear(), zero() and exit()", t.text);
	}
	vec_push(&blk->actions, a);
	return 0;
}

static int parse_kernel_stmt(struct parser *ps, struct tr_block *b)
{
	struct tok t = ps->t;
	struct tr_stmt st = { 0 };
	int err, m, ks;

	if (is_ident(ps, "exit")) {
		st.action = ACT_EXIT;
		if ((err = next(ps)) || (err = expect(ps, "(")) || (err = expect(ps, ")")))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (is_ident(ps, "delete")) {
		if ((err = next(ps)) || (err = expect(ps, "(")))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "delete() takes a map entry, e.g. delete(@start[tid])");
		if ((err = parse_mapref(ps, &m, &ks)) || (err = expect(ps, ")")))
			return err;
		st.action = ACT_DELETE;
		st.keyspec = (uint16_t)ks;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (t.kind == T_IDENT && (!strcmp(t.text, "print") || !strcmp(t.text, "clear") || !strcmp(t.text, "zero")))
		return ERR_TOK(ps, "%s() runs in BEGIN, END and interval blocks only", t.text);
	if (t.kind == T_IDENT && !strcmp(t.text, "printf"))
		return ERR_TOK(ps, "printf is not supported: bpfprof trace aggregates in maps; supported: %s",
			       SUPPORTED_STMTS);
	if (t.kind == T_IDENT && (!strcmp(t.text, "if") || !strcmp(t.text, "while") || !strcmp(t.text, "unroll") ||
				   !strcmp(t.text, "for")))
		return ERR_TOK(ps, "'%s' is not supported (use a predicate: probe /cond/ { ... })", t.text);
	if (t.kind == T_PUNCT && !strcmp(t.text, "$"))
		return ERR_TOK(ps, "scratch variables ($x) are not supported");
	if (t.kind != T_MAP)
		return ERR_TOK(ps, "'%s' is not supported; supported: %s", t.text, SUPPORTED_STMTS);
	if ((err = parse_mapref(ps, &m, &ks)))
		return err;
	st.keyspec = (uint16_t)ks;
	if (is(ps, "++")) {
		st.action = ACT_AGG;
		st.agg = AGG_COUNT;
		if ((err = set_agg(ps, m, AGG_COUNT, t.pos, ps->t.pos + 2 - t.pos, &st)) || (err = next(ps)))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (!is(ps, "="))
		return ERR_TOK(ps, "syntax error: expected '=' or '++' after %s", t.text);
	if ((err = next(ps)))
		return err;
	static const struct { const char *name; int agg; int nargs; } fns[] = {
		{ "count", AGG_COUNT, 0 }, { "sum", AGG_SUM, 1 }, { "avg", AGG_AVG, 1 }, { "min", AGG_MIN, 1 },
		{ "max", AGG_MAX, 1 }, { "stats", AGG_STATS, 1 }, { "hist", AGG_HIST, 1 }, { "lhist", AGG_LHIST, 4 },
	};
	for (size_t i = 0; ps->t.kind == T_IDENT && i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct tok f = ps->t;

		if (strcmp(f.text, fns[i].name))
			continue;
		st.action = ACT_AGG;
		st.agg = (uint8_t)fns[i].agg;
		if ((err = next(ps)) || (err = expect(ps, "(")))
			return err;
		if (fns[i].nargs) {
			if ((err = parse_value(ps, &st.val, true)))
				return err;
			if (fns[i].agg == AGG_LHIST) {
				int64_t lo, hi, step;

				if ((err = expect(ps, ",")) || (err = parse_int_arg(ps, &lo)) ||
				    (err = expect(ps, ",")) || (err = parse_int_arg(ps, &hi)) ||
				    (err = expect(ps, ",")) || (err = parse_int_arg(ps, &step)))
					return err;
				st.lo = lo;
				st.hi = hi;
				st.step = step;
				if (st.step <= 0 || st.hi <= st.lo || (st.hi - st.lo) / st.step > 1000)
					return error_at(ps, f.pos, ps->t.pos - f.pos,
							"lhist(v, min, max, step): needs min < max, step > 0, at most 1000 buckets");
			}
		}
		if (!is(ps, ")"))
			return ERR_TOK(ps, "syntax error: %s() takes %s", f.text,
				       fns[i].nargs == 0 ? "no arguments" : fns[i].nargs == 1 ? "one value" : "(value, min, max, step)");
		if ((err = next(ps)) || (err = set_agg(ps, m, fns[i].agg, t.pos, ps->t.pos - t.pos, &st)))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (ps->t.kind == T_IDENT) {
		/* an identifier followed by '(' is an unsupported function */
		const char *s = ps->s + ps->t.pos + ps->t.len;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '(')
			return ERR_TOK(ps, "%s() is not supported; aggregations: count, sum, avg, min, max, stats, "
				       "hist, lhist", ps->t.text);
	}
	/* @map[k] = value: an assignment (e.g. @start[tid] = nsecs). */
	st.action = ACT_ASSIGN;
	if ((err = parse_value(ps, &st.val, true)))
		return err;
	if ((err = set_agg(ps, m, TP_AGG_ASSIGN, t.pos, ps->t.pos - t.pos, &st)))
		return err;
	return push_stmt(ps, b, &st, t.pos);
}

static int parse_block(struct parser *ps)
{
	struct tp_block blk = { 0 };
	int err;

	ps->block = (int)ps->p->blocks.n;
	ps->probe_first = (int)ps->p->probes.n;
	ps->probe_n = 0;
	for (;;) {
		skip_space(ps);
		if ((err = probe_word(ps)))
			return err;
		skip_space(ps);
		if (ps->s[ps->pos] != ',')
			break;
		ps->pos++;
	}
	struct tp_probe *first = &ps->p->probes.v[ps->probe_first];

	blk.type = first->type;
	blk.user = first->type == PT_BEGIN || first->type == PT_END || first->type == PT_INTERVAL;
	for (int i = 1; i < ps->probe_n; i++) {
		enum tp_type t = ps->p->probes.v[ps->probe_first + i].type;
		bool user = t == PT_BEGIN || t == PT_END || t == PT_INTERVAL;

		if (user || blk.user)
			return error_at(ps, ps->pos - 1, 1, "BEGIN, END and interval probes cannot share a block with others");
	}
	if (blk.type == PT_INTERVAL)
		blk.interval_ns = first->period_ns;
	if ((err = next(ps)))
		return err;
	if (is(ps, "/")) {
		if (blk.user)
			return ERR_TOK(ps, "predicates are supported on kernel probes only");
		if ((err = parse_predicate(ps, &blk.cfg)))
			return err;
	}
	if ((err = expect(ps, "{")))
		return err;
	while (!is(ps, "}")) {
		if (ps->t.kind == T_END)
			err = ERR_TOK(ps, "syntax error: expected '}'");
		else if (is(ps, ";"))
			err = next(ps);
		else if (!(err = blk.user ? parse_user_stmt(ps, &blk) : parse_kernel_stmt(ps, &blk.cfg)) &&
			 !is(ps, ";") && !is(ps, "}"))
			err = ERR_TOK(ps, "syntax error: expected ';' or '}'");
		if (err) {
			vec_free(&blk.actions); /* not in the program yet: tp_free would miss it */
			return err;
		}
	}
	vec_push(&ps->p->blocks, blk);
	if (ps->p->blocks.n > TR_MAX_BLOCKS)
		return ERR_TOK(ps, "at most %d probe blocks", TR_MAX_BLOCKS);
	/* The next block starts right after '}' (probe words are raw text). */
	return 0;
}

int tp_parse(const char *src, struct tp_program *p)
{
	struct parser ps = { .p = p, .s = src };
	int err;

	p->src = src;
	skip_space(&ps);
	if (!src[ps.pos])
		return error_at(&ps, 0, 1, "empty program");
	while (src[ps.pos]) {
		if ((err = parse_block(&ps)))
			return err;
		skip_space(&ps);
	}
	for (size_t i = 0; i < p->maps.n; i++) {
		if (p->maps.v[i].agg < 0) {
			const char *at = strstr(src, p->maps.v[i].name);

			return error_at(&ps, at ? (int)(at - src) : 0, (int)strlen(p->maps.v[i].name),
					"%s is never assigned by a kernel probe", p->maps.v[i].name);
		}
	}
	return 0;
}

void tp_free(struct tp_program *p)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		vec_free(&p->blocks.v[i].actions);
	vec_free(&p->probes);
	vec_free(&p->blocks);
	vec_free(&p->stmts);
	vec_free(&p->keyspecs);
	vec_free(&p->maps);
}
