/* bpfprof trace: bpftrace-style one-liners without a compiler at run time.
 * trace_parse.c compiles the program into tables; this file loads the one
 * precompiled BPF object (bpf/trace.bpf.c), fills the tables, attaches each
 * probe with its index as the attach cookie, runs BEGIN/interval/END in user
 * space and prints maps as bpftrace does (text or its NDJSON), or writes
 * stack-keyed maps as profiles (folded, pprof, svg, ...). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include "core/sysinfo.h"
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "trace/trace_user.h"
#include "core/child.h"
#include "trace.skel.h"
#include "core/bpfmaps.h"
#include "symbols/mmapwatch.h"
#include "render/output.h"
#include "model/profile.h"
#include "core/session.h"
#include "core/cli.h"
#include "symbols/stacks.h"
#include "symbols/symbolize.h"
#include "core/ktables.h"
#include "unwind.h"

struct trace {
	struct tp_program prog;
	struct trace_bpf *skel;
	link_vec links;
	fd_vec pfds;
	struct symbolizer *sym;
	struct mmap_watch watch;
	bool json, verbose, quiet;
	char *src_file;           /* a script read from a file or stdin (owned) */
	int64_t duration_ns;
	pid_t pid, child;
	const char *cmd;          /* for messages */
	const char *format;
	VEC(const char *) outputs;
	int stack_depth;
	struct stat_snapshot stats;
	bool multi;               /* uprobes through uprobe_multi links */
	struct ktables kt;        /* ustack: walked with unwind tables (#15) */
	VEC(int) multi_fds;
	/* the run (trace_main) */
	const char *src;          /* the program's text */
	char **cmd_argv;          /* -- CMD ARGS or -c "CMD ARGS", or NULL */
	char *cmd_copy, *words[64];
	struct child launch;      /* -- CMD, held until attached */
	bool profile_out;         /* -o or a profile format: one file at the end */
	size_t nattached;
};

struct entry {
	struct tr_key key;
	struct tr_val val;
};
typedef VEC(struct entry) entry_vec;

/* ---- reading maps ---------------------------------------------------------- */

static void read_entries(struct trace *t, entry_vec *out)
{
	int fd = bpf_map__fd(t->skel->maps.data);
	struct tr_key k, next;
	void *prev = NULL;

	out->n = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct entry e = { .key = next };

		if (bpf_map_lookup_elem(fd, &next, &e.val) == 0)
			vec_push(out, e);
		k = next;
		prev = &k;
	}
}

static int key_len(const struct tp_map *m)
{
	int n = 0;

	for (int i = 0; i < m->nparts; i++)
		n += m->parts[i].kind == SRC_COMM ? TASK_COMM_LEN : 8;
	return n;
}

static int64_t part_num(const struct tr_key *k, int off)
{
	int64_t v;

	memcpy(&v, k->data + off, sizeof(v));
	return v;
}

static pid_t hidden_pid(const struct tp_map *m, const struct tr_key *k)
{
	int off = 0;

	for (int i = 0; i < m->nparts; i++) {
		if (m->disp[i] == DISP_HIDDEN_PID)
			return (pid_t)part_num(k, off);
		off += m->parts[i].kind == SRC_COMM ? TASK_COMM_LEN : 8;
	}
	return 0;
}

struct strbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->n + need + 1 > b->cap) {
		b->cap = (b->n + need + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, need + 1, fmt, ap);
	va_end(ap);
	b->n += need;
}

/* A stack's frames by id (bpf/stacks.bpf.h). */
static bool read_stack(struct trace *t, int32_t id, uint64_t ips[127])
{
	return id >= 0 && bpf_map__lookup_elem(t->skel->maps.stacks, &id, sizeof(id), ips,
					       127 * sizeof(uint64_t), 0) == 0;
}

/* A stack as bpftrace prints it: "\n    sym+off" per frame, then "\n". */
static void add_stack(struct trace *t, struct strbuf *b, int32_t id, bool user, pid_t pid, int depth)
{
	uint64_t ips[127] = { 0 };

	if (!read_stack(t, id, ips)) {
		sb_add(b, "\n    [stack lost]\n");
		return;
	}
	sb_add(b, "\n");
	for (int i = 0; i < 127 && ips[i] && (!depth || i < depth); i++) {
		struct sym_frame f;

		if (user)
			sym_user(t->sym, pid, 0, ips[i], &f);
		else
			sym_kernel(t->sym, ips[i], &f);
		char safe[512];

		if (f.func)
			sb_add(b, "    %s+%llu\n", text_safe(f.func, safe, sizeof(safe)), (unsigned long long)f.sym_off);
		else
			sb_add(b, "    0x%llx\n", (unsigned long long)ips[i]);
	}
}

/* The key as text: parts joined by sep ("" for a map without keys). */
static char *key_string(struct trace *t, const struct tp_map *m, const struct tr_key *k, const char *sep)
{
	struct strbuf b = { 0 };
	pid_t pid = hidden_pid(m, k);
	int off = 0, shown = 0;

	sb_add(&b, "%s", "");
	for (int i = 0; i < m->nparts; i++) {
		int64_t v = part_num(k, off);
		struct sym_frame f;

		if (m->disp[i] != DISP_HIDDEN_PID && shown++)
			sb_add(&b, "%s", sep);
		switch (m->disp[i]) {
		case DISP_HIDDEN_PID:
			break;
		case DISP_COMM: {
			char comm[TASK_COMM_LEN + 1] = { 0 }, safe[TASK_COMM_LEN * 4 + 1];

			memcpy(comm, (const char *)k->data + off, TASK_COMM_LEN);
			sb_add(&b, "%s", text_safe(comm, safe, sizeof(safe)));
		}
			off += TASK_COMM_LEN;
			continue;
		case DISP_USTACK:
		case DISP_KSTACK:
			add_stack(t, &b, (int32_t)v, m->disp[i] == DISP_USTACK, pid, m->depth[i]);
			break;
		case DISP_PROBE:
			sb_add(&b, "%s", v >= 0 && (size_t)v < t->prog.probes.n ? t->prog.probes.v[v].text : "?");
			break;
		case DISP_FUNC_PROBE:
			sb_add(&b, "%s", v >= 0 && (size_t)v < t->prog.probes.n ? t->prog.probes.v[v].name : "?");
			break;
		case DISP_FUNC_IP:
			if (v < 0)
				sym_kernel(t->sym, (uint64_t)v, &f);
			else
				sym_user(t->sym, pid, 0, (uint64_t)v, &f);
			if (f.func)
				sb_add(&b, "%s", f.func);
			else
				sb_add(&b, "0x%llx", (unsigned long long)v);
			break;
		default:
			sb_add(&b, "%lld", (long long)v);
		}
		off += 8;
	}
	return b.s;
}

/* ---- printing, as bpftrace does ------------------------------------------- */

struct shown {
	char *key;           /* text with ", ", JSON with "," */
	char *jkey;
	struct tr_val val;
	VEC(int64_t) buckets; /* hist/lhist: count per bucket index */
};
typedef VEC(struct shown) shown_vec;

static int64_t shown_value(const struct tp_map *m, const struct tr_val *v)
{
	switch (m->agg) {
	case AGG_COUNT: return v->count;
	case AGG_AVG: return v->count ? v->sum / v->count : 0;
	case AGG_MIN: return v->min;
	case AGG_MAX: return v->max;
	default: return v->sum;
	}
}

static void merge_val(const struct tp_map *m, struct tr_val *d, const struct tr_val *v, bool first)
{
	if (first) {
		*d = *v;
		return;
	}
	d->min = v->min < d->min ? v->min : d->min;
	d->max = v->max > d->max ? v->max : d->max;
	d->count += v->count;
	if (m->agg == TP_AGG_ASSIGN)
		d->sum = v->sum;
	else
		d->sum += v->sum;
}

static int cmp_shown(const void *a, const void *b, void *map)
{
	const struct shown *x = a, *y = b;
	int64_t vx = shown_value(map, &x->val), vy = shown_value(map, &y->val);

	if (vx != vy)
		return vx < vy ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Entries of map m, merged by their shown key (a hidden pid splits them in
 * the kernel), sorted by value ascending as bpftrace prints them. */
static void collect_map(struct trace *t, int mi, const entry_vec *all, shown_vec *out)
{
	const struct tp_map *m = &t->prog.maps.v[mi];
	bool hist = m->agg == AGG_HIST || m->agg == AGG_LHIST;
	int klen = key_len(m);
	struct hmap idx = { 0 };

	out->n = 0;
	for (size_t i = 0; i < all->n; i++) {
		const struct entry *e = &all->v[i];
		char *key, *jkey;
		bool found;
		uint64_t *slot;

		if (e->key.map_id != mi)
			continue;
		key = key_string(t, m, &e->key, ", ");
		jkey = key_string(t, m, &e->key, ",");
		slot = hmap_upsert(&idx, hash_bytes(key, strlen(key)), strlen(key), out->n, &found);
		if (!found) {
			struct shown s = { .key = key, .jkey = jkey };

			vec_push(out, s);
		} else {
			free(key);
			free(jkey);
		}
		struct shown *s = &out->v[*slot];

		merge_val(m, &s->val, &e->val, !found);
		if (hist) {
			int64_t b = part_num(&e->key, klen);

			while (b >= 0 && s->buckets.n <= (size_t)b && b < 4096)
				vec_push(&s->buckets, 0);
			if (b >= 0 && b < 4096)
				s->buckets.v[b] += e->val.count;
		}
	}
	hmap_free(&idx);
	if (out->n > 1)
		qsort_r(out->v, out->n, sizeof(out->v[0]), cmp_shown, (void *)m);
}

static void free_shown(shown_vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].jkey);
		vec_free(&v->v[i].buckets);
	}
	vec_free(v);
}

/* 1024 -> "1K", as bpftrace labels power-of-two buckets. */
static void size_label(char *buf, size_t n, int64_t v)
{
	static const char *const units[] = { "", "K", "M", "G", "T", "P", "E" };
	int u = 0;

	while (v && v % 1024 == 0 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, "%lld%s", (long long)v, units[u]);
}

/* Bucket b's bounds: lo (INT64_MIN = open) and hi inclusive (INT64_MAX = open). */
static void bucket_bounds(const struct tp_map *m, int64_t b, int64_t *lo, int64_t *hi)
{
	if (m->agg == AGG_HIST) {
		if (b == 0) { *lo = INT64_MIN; *hi = -1; }
		else if (b == 1) { *lo = 0; *hi = 0; }
		else { *lo = (int64_t)1 << (b - 2); *hi = ((int64_t)1 << (b - 1)) - 1; }
		return;
	}
	int64_t n = (m->hi - m->lo) / m->step;

	if (b == 0) { *lo = INT64_MIN; *hi = m->lo - 1; }
	else if (b > n) { *lo = m->lo + n * m->step; *hi = INT64_MAX; }
	else { *lo = m->lo + (b - 1) * m->step; *hi = *lo + m->step - 1; }
}

static void bucket_label(const struct tp_map *m, int64_t b, char *buf, size_t n)
{
	int64_t lo, hi;
	char a[32], c[32];

	bucket_bounds(m, b, &lo, &hi);
	if (m->agg == AGG_HIST) {
		if (b == 0)
			snprintf(buf, n, "(..., 0)");
		else if (b <= 2)
			snprintf(buf, n, "[%lld]", (long long)lo);
		else {
			size_label(a, sizeof(a), lo);
			size_label(c, sizeof(c), hi + 1);
			snprintf(buf, n, "[%s, %s)", a, c);
		}
		return;
	}
	if (lo == INT64_MIN)
		snprintf(buf, n, "(..., %lld)", (long long)(hi + 1));
	else if (hi == INT64_MAX)
		snprintf(buf, n, "[%lld, ...)", (long long)lo);
	else
		snprintf(buf, n, "[%lld, %lld)", (long long)lo, (long long)(hi + 1));
}

static void bucket_range(const struct shown *s, size_t *first, size_t *last)
{
	*first = 0;
	*last = s->buckets.n;
	while (*first < *last && !s->buckets.v[*first])
		(*first)++;
	while (*last > *first && !s->buckets.v[*last - 1])
		(*last)--;
}

static void print_hist_text(const struct tp_map *m, const struct shown *s, FILE *out)
{
	size_t first, last;
	int64_t max = 0;
	char label[80], bar[53];

	bucket_range(s, &first, &last);
	for (size_t b = first; b < last; b++)
		if (s->buckets.v[b] > max)
			max = s->buckets.v[b];
	for (size_t b = first; b < last; b++) {
		int w = max ? (int)(s->buckets.v[b] * 52 / max) : 0;

		bucket_label(m, (int64_t)b, label, sizeof(label));
		memset(bar, ' ', 52);
		memset(bar, '@', w);
		bar[52] = 0;
		fprintf(out, "%-16s %7lld |%s|\n", label, (long long)s->buckets.v[b], bar);
	}
}

static void print_hist_json(const struct tp_map *m, const struct shown *s, FILE *out)
{
	size_t first, last;
	bool sep = false;

	bucket_range(s, &first, &last);
	fputc('[', out);
	for (size_t b = first; b < last; b++) {
		int64_t lo, hi;

		bucket_bounds(m, (int64_t)b, &lo, &hi);
		fprintf(out, "%s{", sep ? ", " : "");
		if (lo != INT64_MIN)
			fprintf(out, "\"min\": %lld, ", (long long)lo);
		if (hi != INT64_MAX)
			fprintf(out, "\"max\": %lld, ", (long long)hi);
		fprintf(out, "\"count\": %lld}", (long long)s->buckets.v[b]);
		sep = true;
	}
	fputc(']', out);
}

static void print_map(struct trace *t, int mi, const entry_vec *all, FILE *out)
{
	const struct tp_map *m = &t->prog.maps.v[mi];
	bool keyed = false, hist = m->agg == AGG_HIST || m->agg == AGG_LHIST;
	shown_vec v = { 0 };

	for (int i = 0; i < m->nparts; i++)
		keyed |= m->disp[i] != DISP_HIDDEN_PID;
	collect_map(t, mi, all, &v);
	if (!v.n) {
		free_shown(&v);
		return;
	}
	if (t->json) {
		const char *type = hist ? "hist" : m->agg == AGG_AVG || m->agg == AGG_STATS ? "stats" : "map";

		fprintf(out, "{\"type\": \"%s\", \"data\": {", type);
		json_string_as(out, m->name, false);
		fputs(": ", out);
		if (keyed)
			fputc('{', out);
		for (size_t i = 0; i < v.n; i++) {
			const struct shown *s = &v.v[i];

			if (keyed) {
				if (i)
					fputs(", ", out);
				json_string_as(out, s->jkey, false);
				fputs(": ", out);
			}
			if (hist)
				print_hist_json(m, s, out);
			else if (m->agg == AGG_STATS)
				fprintf(out, "{\"count\": %lld, \"average\": %lld, \"total\": %lld}",
					(long long)s->val.count, (long long)(s->val.count ? s->val.sum / s->val.count : 0),
					(long long)s->val.sum);
			else
				fprintf(out, "%lld", (long long)shown_value(m, &s->val));
			if (!keyed)
				break;
		}
		if (keyed)
			fputc('}', out);
		fputs("}}\n", out);
		free_shown(&v);
		fflush(out);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct shown *s = &v.v[i];
		char head[64 + 16];

		snprintf(head, sizeof(head), "%s", m->name);
		if (keyed)
			fprintf(out, "%s[%s]: ", head, s->key);
		else
			fprintf(out, "%s: ", head);
		if (hist) {
			fputc('\n', out);
			print_hist_text(m, s, out);
			fputc('\n', out);
		} else if (m->agg == AGG_STATS) {
			fprintf(out, "count %lld, average %lld, total %lld\n", (long long)s->val.count,
				(long long)(s->val.count ? s->val.sum / s->val.count : 0), (long long)s->val.sum);
		} else {
			fprintf(out, "%lld\n", (long long)shown_value(m, &s->val));
		}
		if (!keyed)
			break;
	}
	if (!hist && (m->agg == AGG_AVG || m->agg == AGG_STATS))
		fputc('\n', out);
	free_shown(&v);
	fflush(out);
}

static int cmp_map_names(const void *a, const void *b, void *ctx)
{
	const struct tp_program *p = ctx;

	return strcmp(p->maps.v[*(const int *)a].name, p->maps.v[*(const int *)b].name);
}

static void print_all(struct trace *t, FILE *out)
{
	entry_vec all = { 0 };
	int *order = xcalloc(t->prog.maps.n + 1, sizeof(int));

	read_entries(t, &all);
	for (size_t i = 0; i < t->prog.maps.n; i++)
		order[i] = (int)i;
	if (t->prog.maps.n > 1)
		qsort_r(order, t->prog.maps.n, sizeof(int), cmp_map_names, &t->prog);
	if (!t->json)
		fputc('\n', out);
	for (size_t i = 0; i < t->prog.maps.n; i++)
		print_map(t, order[i], &all, out);
	free(order);
	vec_free(&all);
}

static void clear_map(struct trace *t, int mi, bool zero)
{
	entry_vec all = { 0 };
	int fd = bpf_map__fd(t->skel->maps.data);
	struct tr_val z = { 0 };

	read_entries(t, &all);
	for (size_t i = 0; i < all.n; i++) {
		if (all.v[i].key.map_id != mi)
			continue;
		if (zero)
			bpf_map_update_elem(fd, &all.v[i].key, &z, BPF_EXIST);
		else
			bpf_map_delete_elem(fd, &all.v[i].key);
	}
	vec_free(&all);
}

/* Runs a user-space block; true when it called exit(). */
static bool run_actions(struct trace *t, const struct tp_block *b)
{
	entry_vec all = { 0 };
	bool exit_now = false;

	for (size_t i = 0; i < b->actions.n; i++) {
		const struct tp_uaction *a = &b->actions.v[i];

		switch (a->kind) {
		case UA_PRINT:
			if (!t->skel)
				break;
			read_entries(t, &all);
			print_map(t, a->map, &all, stdout);
			break;
		case UA_CLEAR:
		case UA_ZERO:
			if (t->skel)
				clear_map(t, a->map, a->kind == UA_ZERO);
			break;
		case UA_EXIT:
			exit_now = true;
			break;
		}
	}
	vec_free(&all);
	return exit_now;
}

/* Processes whose user addresses are in keys: their maps, while they live. */
static void snapshot_key_pids(struct trace *t)
{
	entry_vec all = { 0 };

	if (!t->skel)
		return;
	read_entries(t, &all);
	for (size_t i = 0; i < all.n; i++) {
		pid_t pid = hidden_pid(&t->prog.maps.v[all.v[i].key.map_id], &all.v[i].key);

		if (pid > 0 && !sym_known(t->sym, pid))
			sym_snapshot(t->sym, pid, 0);
	}
	vec_free(&all);
}

/* ---- profiles from stack-keyed maps ---------------------------------------- */

static int write_profile(struct trace *t)
{
	const struct tp_map *m = NULL;
	int mi = -1;

	for (size_t i = 0; i < t->prog.maps.n && mi < 0; i++) {
		const struct tp_map *c = &t->prog.maps.v[i];

		if (c->agg != AGG_COUNT && c->agg != AGG_SUM)
			continue;
		for (int j = 0; j < c->nparts; j++)
			if (c->disp[j] == DISP_USTACK || c->disp[j] == DISP_KSTACK)
				mi = (int)i;
	}
	if (mi < 0) {
		err_msg("-o/-f %s: the program has no count() or sum() map keyed by ustack or kstack",
			t->format ? t->format : "profile");
		return -EINVAL;
	}
	m = &t->prog.maps.v[mi];

	struct profile *p = profile_new("trace");
	struct stack_builder b;
	struct output_set out = { 0 };
	struct render_opts ro = { .top_n = 40 };
	entry_vec all = { 0 };
	int err;

	p->target = pf_str(p, m->name);
	profile_add_type(p, m->name[1] ? m->name + 1 : "value", "count");
	stack_builder_init(&b, p, t->sym, 127);
	read_entries(t, &all);
	for (size_t i = 0; i < all.n; i++) {
		const struct entry *e = &all.v[i];
		pid_t pid = hidden_pid(m, &e->key);
		struct pf_label labels[TR_MAX_PARTS];
		uint32_t nl = 0;
		int64_t value = m->agg == AGG_COUNT ? e->val.count : e->val.sum;
		int off = 0;
		char comm[TASK_COMM_LEN + 1] = { 0 };

		if (e->key.map_id != mi)
			continue;
		stack_begin(&b);
		/* kernel frames first (leaf end), then user frames */
		for (int pass = 0; pass < 2; pass++) {
			off = 0;
			for (int j = 0; j < m->nparts; j++) {
				int64_t v = part_num(&e->key, off);
				uint64_t ips[127] = { 0 };
				int32_t id = (int32_t)v;

				off += m->parts[j].kind == SRC_COMM ? TASK_COMM_LEN : 8;
				if (m->disp[j] != (pass ? DISP_USTACK : DISP_KSTACK))
					continue;
				if (!read_stack(t, id, ips))
					stack_add_pseudo(&b, pass ? "[user stack lost]" : "[kernel stack lost]");
				else if (pass)
					stack_add_user(&b, pid, 0, ips, 127);
				else
					stack_add_kernel(&b, ips, 127);
			}
		}
		off = 0;
		for (int j = 0; j < m->nparts; j++) {
			int64_t v = part_num(&e->key, off);

			if (m->disp[j] == DISP_COMM) {
				memcpy(comm, e->key.data + off, TASK_COMM_LEN);
				labels[nl++] = (struct pf_label){ .key = pf_str(p, "comm"), .str = pf_str(p, comm) };
			} else if (m->disp[j] == DISP_INT) {
				char name[32];

				snprintf(name, sizeof(name), "key%d", j);
				labels[nl++] = (struct pf_label){ .key = pf_str(p, name), .num = v };
			}
			off += m->parts[j].kind == SRC_COMM ? TASK_COMM_LEN : 8;
		}
		profile_add_sample(p, b.locs.v, (uint32_t)b.locs.n, &value, labels, nl);
	}
	stats_report(&t->stats, t->skel->maps.stats, p);
	err = output_setup(&out, t->format, t->outputs.v, t->outputs.n);
	if (!err)
		err = output_write(&out, p, &ro, 0);
	output_free(&out);
	vec_free(&all);
	stack_builder_free(&b);
	profile_free(p);
	return err;
}

/* ---- attaching ------------------------------------------------------------- */

static int attach_perf(struct trace *t, const struct tp_probe *pr, uint32_t idx)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_SOFTWARE };

	/* profile: cpu-clock every period; software: the parser's event and count */
	attr.config = pr->type == PT_PROFILE ? PERF_COUNT_SW_CPU_CLOCK : pr->config;
	attr.sample_period = pr->type == PT_PROFILE ? pr->period_ns : pr->count;
	return perf_attach_all_cpus(t->skel->progs.tr_perf, &attr, idx, pr->text, &t->links, &t->pfds);
}

static int attach_probe(struct trace *t, const struct tp_probe *pr, uint32_t idx)
{
	struct bpf_link *l = NULL;

	switch (pr->type) {
	case PT_PROFILE:
	case PT_SOFTWARE:
		return attach_perf(t, pr, idx);
	case PT_TRACEPOINT: {
		LIBBPF_OPTS(bpf_tracepoint_opts, o, .bpf_cookie = idx);

		l = bpf_program__attach_tracepoint_opts(t->skel->progs.tr_tracepoint, pr->target, pr->name, &o);
		break;
	}
	case PT_UPROBE:
	case PT_URETPROBE: {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = idx, .retprobe = pr->type == PT_URETPROBE);

		l = bpf_program__attach_uprobe_opts(pr->type == PT_URETPROBE ? t->skel->progs.tr_uretprobe
									     : t->skel->progs.tr_uprobe,
						    t->pid > 0 ? t->pid : -1, pr->target, pr->offset, &o);
		break;
	}
	case PT_USDT: {
		LIBBPF_OPTS(bpf_usdt_opts, o, .usdt_cookie = idx);

		l = bpf_program__attach_usdt(t->skel->progs.tr_usdt, t->pid > 0 ? t->pid : -1, pr->target,
					     pr->provider, pr->name, &o);
		break;
	}
	default:
		return 0;
	}
	if (!l) {
		int err = -errno;

		err_msg("cannot attach %s: %s", pr->text, strerror(errno));
		return err;
	}
	vec_push(&t->links, l);
	return 0;
}

/* Every uprobe (then uretprobe) of one binary in one uprobe_multi link;
 * cookies are the attachment indexes, as with single links. */
static int attach_multi(struct trace *t, size_t *nattached)
{
	struct tp_program *p = &t->prog;
	bool *done = xcalloc(p->probes.n + 1, sizeof(bool));
	uint64_t *offs = xcalloc(p->probes.n + 1, sizeof(uint64_t));
	uint64_t *cookies = xcalloc(p->probes.n + 1, sizeof(uint64_t));
	int err = 0;

	for (size_t i = 0; i < p->probes.n && !err; i++) {
		const struct tp_probe *first = &p->probes.v[i];
		bool ret = first->type == PT_URETPROBE;
		size_t n = 0;
		int fd;

		if (done[i] || (first->type != PT_UPROBE && !ret))
			continue;
		for (size_t j = i; j < p->probes.n; j++) {
			const struct tp_probe *pr = &p->probes.v[j];

			if (done[j] || pr->type != first->type || strcmp(pr->target, first->target))
				continue;
			done[j] = true;
			offs[n] = pr->offset;
			cookies[n++] = j;
		}
		fd = uprobe_multi_attach(ret ? t->skel->progs.tr_uretprobe : t->skel->progs.tr_uprobe,
					 first->target, t->pid, offs, cookies, n, ret);
		if (fd < 0) {
			err = fd;
			err_msg("cannot attach %s%s: %s", first->text, n > 1 ? " (and others in that file)" : "",
				strerror(-fd));
			break;
		}
		vec_push(&t->multi_fds, fd);
		*nattached += n;
	}
	free(done);
	free(offs);
	free(cookies);
	return err;
}

/* Whether some map's key holds a user stack (or, with kernel_too, either
 * stack). */
static bool uses_stacks(const struct tp_program *p, bool kernel_too)
{
	for (size_t i = 0; i < p->maps.n; i++)
		for (int j = 0; j < p->maps.v[i].nparts; j++)
			if (p->maps.v[i].disp[j] == DISP_USTACK || (kernel_too && p->maps.v[i].disp[j] == DISP_KSTACK))
				return true;
	return false;
}

static bool keyspec_has_ustack(const struct tp_program *p, uint16_t ks)
{
	const struct tr_keyspec *k = ks < p->keyspecs.n ? &p->keyspecs.v[ks] : NULL;

	for (int i = 0; k && i < k->nparts && i < TR_MAX_PARTS; i++)
		if (k->parts[i].kind == SRC_USTACK)
			return true;
	return false;
}

static bool src_has_ustack(const struct tp_program *p, const struct tr_src_spec *s)
{
	return (s->kind == SRC_MAP || s->kind == SRC_NSECS_SINCE) && keyspec_has_ustack(p, s->keyspec);
}

/* TR_BLOCK_* flags: whether the block's keys (its statements', or its
 * conditions') hold ustack. */
static uint32_t block_ustack_flags(const struct tp_program *p, const struct tr_block *b)
{
	uint32_t f = 0;

	for (uint32_t i = 0; i < b->nconds && i < TR_MAX_CONDS; i++)
		if (src_has_ustack(p, &b->conds[i].lhs))
			f |= TR_BLOCK_USTACK | TR_BLOCK_USTACK_COND;
	for (uint32_t i = b->first_stmt; i < b->first_stmt + b->nstmts && i < p->stmts.n; i++) {
		const struct tr_stmt *st = &p->stmts.v[i];

		if ((st->action != ACT_EXIT && keyspec_has_ustack(p, st->keyspec)) || src_has_ustack(p, &st->val))
			f |= TR_BLOCK_USTACK;
	}
	return f;
}

/* ktables_poll's refresh: a process the walker queued. -c CMD's mappings
 * come from its mapping events; others are read from /proc. */
static bool trace_refresh(void *ctx, pid_t pid, uint32_t *exec)
{
	struct trace *t = ctx;

	*exec = 0;
	if (!t->child)
		sym_snapshot(t->sym, pid, 0);
	return sym_known(t->sym, pid);
}

static int load_and_attach(struct trace *t, size_t *nattached)
{
	struct tp_program *p = &t->prog;
	struct trace_bpf *skel;
	bool have[5] = { 0 };
	int err;

	for (size_t i = 0; i < p->probes.n; i++) {
		switch (p->probes.v[i].type) {
		case PT_PROFILE: case PT_SOFTWARE: have[TK_PERF] = true; break;
		case PT_TRACEPOINT: have[TK_TRACEPOINT] = true; break;
		case PT_UPROBE: have[TK_UPROBE] = true; break;
		case PT_URETPROBE: have[TK_URETPROBE] = true; break;
		case PT_USDT: have[TK_USDT] = true; break;
		default: break;
		}
	}
	/* uprobe_multi where the kernel has it (6.6+): one detach for all the
	 * uprobes of a binary rather than ~100 ms each; else one link each. */
	t->multi = have[TK_UPROBE] || have[TK_URETPROBE];
again:
	skel = t->skel = trace_bpf__open();
	if (!skel) {
		int e = errno;

		err_msg("cannot open the trace BPF program: %s", strerror(e));
		return -e;
	}
	if (t->multi) {
		uprobe_multi_prepare(skel->progs.tr_uprobe);
		uprobe_multi_prepare(skel->progs.tr_uretprobe);
	}
	bpf_program__set_autoload(skel->progs.tr_perf, have[TK_PERF]);
	bpf_program__set_autoload(skel->progs.tr_tracepoint, have[TK_TRACEPOINT]);
	bpf_program__set_autoload(skel->progs.tr_uprobe, have[TK_UPROBE]);
	bpf_program__set_autoload(skel->progs.tr_uretprobe, have[TK_URETPROBE]);
	bpf_program__set_autoload(skel->progs.tr_usdt, have[TK_USDT]);
	skel->rodata->cfg.pid = t->pid > 0;
	skel->rodata->cfg.kt_enabled = uses_stacks(p, false);
	/* Maps sized to the program: the stack map only when a key holds a
	 * stack (bpftrace always locks a 130 MB one). */
	err = bpf_map__set_max_entries(skel->maps.attach_block, p->probes.n ? p->probes.n : 1) ?:
	      bpf_map__set_max_entries(skel->maps.data, 65536) ?:
	      bpf_map__set_max_entries(skel->maps.stacks, uses_stacks(p, true) ? 16384 : 1) ?:
	      bpf_map__set_max_entries(skel->maps.target_pids, 1) ?:
	      bpf_map__set_max_entries(skel->maps.target_tids, 1);
	if (err) {
		err_msg("cannot size the trace maps: %s", strerror(-err));
		return err;
	}
	if ((err = trace_bpf__load(skel)) < 0) {
		if (t->multi) {
			trace_bpf__destroy(skel);
			t->skel = NULL;
			t->multi = false;
			goto again;
		}
		err_msg("cannot load the trace BPF program: %s (run with -v for the verifier log)", strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < p->blocks.n; i++)
	{
		struct tr_block b = p->blocks.v[i].cfg;

		b.flags = block_ustack_flags(p, &b);
		bpf_map__update_elem(skel->maps.blocks, &i, sizeof(i), &b, sizeof(b), BPF_ANY);
	}
	for (uint32_t i = 0; i < p->stmts.n; i++)
		bpf_map__update_elem(skel->maps.stmts, &i, sizeof(i), &p->stmts.v[i], sizeof(struct tr_stmt), BPF_ANY);
	for (uint32_t i = 0; i < p->keyspecs.n; i++)
		bpf_map__update_elem(skel->maps.keyspecs, &i, sizeof(i), &p->keyspecs.v[i], sizeof(struct tr_keyspec), BPF_ANY);
	for (uint32_t i = 0; i < p->probes.n; i++) {
		uint32_t b = (uint32_t)p->probes.v[i].block;

		bpf_map__update_elem(skel->maps.attach_block, &i, sizeof(i), &b, sizeof(b), BPF_ANY);
	}
	if (t->pid > 0) {
		uint32_t id = (uint32_t)t->pid;
		uint8_t one = 1;

		bpf_map__update_elem(skel->maps.target_pids, &id, sizeof(id), &one, sizeof(one), BPF_ANY);
	}
	if (skel->rodata->cfg.kt_enabled) {
		char exe[PATH_MAX];

		/* The unwind tables of -p's process before the probes attach;
		 * -c CMD's program and libraries before it runs; else the C
		 * library's and the loader's (nearly every process maps them). */
		ktables_init(&t->kt, skel->obj, t->sym, 256ULL << 20, t->verbose);
		if (t->pid > 0) {
			sym_snapshot(t->sym, t->pid, 0);
			ktables_note(&t->kt, t->pid, 0);
		} else if (t->child > 0 && child_program_path(t->cmd_argv[0], exe, sizeof(exe)))
			ktables_prebuild(&t->kt, exe, true);
		else if (t->pid <= 0 && ktables_find_library("libc.so.6", NULL, "", exe, sizeof(exe)))
			ktables_prebuild(&t->kt, exe, true);
	}
	*nattached = 0;
	for (uint32_t i = 0; i < p->probes.n; i++) {
		enum tp_type ty = p->probes.v[i].type;

		if (ty == PT_BEGIN || ty == PT_END || ty == PT_INTERVAL)
			continue;
		if (t->multi && (ty == PT_UPROBE || ty == PT_URETPROBE))
			continue; /* below, a link per binary */
		if ((err = attach_probe(t, &p->probes.v[i], i)) < 0)
			return err;
		(*nattached)++;
	}
	if (t->multi && (err = attach_multi(t, nattached)) < 0)
		return err;
	return 0;
}

/* ---- the command ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s trace [options] 'PROGRAM' [-- CMD ARGS...]   (or -e 'PROGRAM')\n"
		"Runs a bpftrace-style one-liner (a subset: docs/trace.md) with a precompiled\n"
		"BPF program: no compiler at run time.\n\n"
		"  -e PROGRAM          the program\n"
		"  -d, --duration SEC  stop after SEC (default: until exit(), Ctrl-C or -c/-p ends)\n"
		"  -p, --pid PID       only events of PID (uprobes in PID)\n"
		"  -- CMD ARGS...      run CMD once attached; stop when it exits (or -c 'CMD ARGS',\n"
		"                      split at spaces, as bpftrace takes it)\n"
		"  -f, --format FMT    text (default, as bpftrace), json (bpftrace's NDJSON), or a\n"
		"                      profile format for a ustack/kstack-keyed count()/sum() map:\n"
		"                      %s\n"
		"  -o, --output FILE   profile file(s); format from the extension (repeatable)\n"
		"  -v, --verbose       libbpf messages\n", prog_name, renderer_names());
}

static int print_all_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int print_no_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* All of a stream (a script on stdin), or NULL. */
static char *read_stream(FILE *in)
{
	size_t cap = 4096, len = 0, got;
	char *buf = xmalloc(cap);

	while ((got = fread(buf + len, 1, cap - len - 1, in)) > 0) {
		len += got;
		if (cap - len < 2) {
			if (cap > (16u << 20)) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	buf[len] = 0;
	return buf;
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* The command line into t; the exit status on an error, else -1. */
static int parse_args(struct trace *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, 0, 'd' }, { "pid", required_argument, 0, 'p' },
		{ "format", required_argument, 0, 'f' }, { "output", required_argument, 0, 'o' },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
		{ "quiet", no_argument, 0, 'q' }, { 0 },
	};
	char *save = NULL;
	int opt, nopt = argc;
	uint64_t u;

	/* `-- CMD ARGS...` as every command takes it (bpftrace's -c also works). */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			t->cmd_argv = argv + i + 1;
			break;
		}
	}
	cli_getopt_start();
	while ((opt = cli_getopt(nopt, argv, ":e:d:p:c:f:o:vhq", opts, "trace")) != -1) {
		switch (opt) {
		case 'e': t->src = optarg; break;
		case 'd':
			if (cli_parse_seconds(optarg, "-d", &t->duration_ns) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			if (!parse_u64(optarg, &u) || !u || u > INT32_MAX) {
				err_msg("-p '%s': expected a process id", optarg);
				return EXIT_USAGE;
			}
			t->pid = (pid_t)u;
			if (kill(t->pid, 0) < 0 && errno == ESRCH) {
				err_msg("-p %d: no such process", t->pid);
				return EXIT_USAGE;
			}
			break;
		case 'c': {
			int n = 0;

			free(t->cmd_copy);
			t->cmd_copy = xstrdup(optarg);
			for (char *w = strtok_r(t->cmd_copy, " \t", &save); w && n < 63; w = strtok_r(NULL, " \t", &save))
				t->words[n++] = w;
			t->words[n] = NULL;
			t->cmd_argv = t->words;
			break;
		}
		case 'f': t->format = optarg; break;
		case 'o': vec_push(&t->outputs, optarg); break;
		case 'v': t->verbose = true; break;
		case 'q': t->quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (!t->src && optind < nopt) {
		/* As bpftrace: a script file, or - for stdin; our extension: a
		 * program's text when no file of that name exists. */
		const char *arg = argv[optind++];
		struct stat st;

		if (!strcmp(arg, "-") || (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
			size_t len;

			t->src_file = !strcmp(arg, "-") ? read_stream(stdin) : read_whole_file(arg, &len);
			if (!t->src_file) {
				err_msg("cannot read the script %s: %s", arg, strerror(errno));
				return EXIT_USAGE;
			}
			t->src = t->src_file;
		} else {
			t->src = arg;
		}
	}
	if (!t->src || optind < nopt) {
		err_msg(t->src ? "one program only (quote it)" : "no program (see %s trace --help)", prog_name);
		return EXIT_USAGE;
	}
	if (t->cmd_argv && !t->cmd_argv[0]) {
		err_msg("no command after -- (or -c)");
		return EXIT_USAGE;
	}
	t->cmd = t->cmd_argv ? t->cmd_argv[0] : NULL;
	if (t->format && !strcmp(t->format, "json"))
		t->json = true;
	else if (t->format && strcmp(t->format, "text") && !renderer_find(t->format)) {
		err_msg("-f '%s': use text, json or %s", t->format, renderer_names());
		return EXIT_USAGE;
	}
	t->profile_out = t->outputs.n || (t->format && strcmp(t->format, "text") && !t->json);
	if (t->json && t->outputs.n) {
		err_msg("-f json prints to stdout; -o writes profiles (use one or the other)");
		return EXIT_USAGE;
	}
	return -1;
}

/* A profile output needs a stack-keyed count or sum map, and outputs that
 * can be written: checked before anything attaches. */
static int check_profile_out(struct trace *t)
{
	struct output_set o = { 0 };
	bool stack_map = false;

	for (size_t i = 0; i < t->prog.maps.n; i++)
		for (int j = 0; j < t->prog.maps.v[i].nparts; j++)
			stack_map |= (t->prog.maps.v[i].agg == AGG_COUNT || t->prog.maps.v[i].agg == AGG_SUM) &&
				     (t->prog.maps.v[i].disp[j] == DISP_USTACK || t->prog.maps.v[i].disp[j] == DISP_KSTACK);
	if (!stack_map) {
		err_msg("profile output needs a count() or sum() map keyed by ustack or kstack");
		return -EINVAL;
	}
	if (output_setup(&o, t->format, t->outputs.v, t->outputs.n) < 0)
		return -EINVAL;
	output_free(&o);
	return 0;
}

/* Starts -- CMD held, attaches the kernel blocks, says how many probes
 * (as bpftrace counts them: BEGIN, END and interval too). */
static int attach(struct trace *t)
{
	bool kernel = false;
	int err;

	for (size_t i = 0; i < t->prog.blocks.n; i++)
		kernel |= !t->prog.blocks.v[i].user;
	if (t->cmd_argv && (err = child_spawn(&t->launch, t->cmd_argv)) < 0) {
		err_msg("cannot start %s: %s", t->cmd, strerror(-err));
		return EXIT_RUNTIME;
	}
	t->child = t->launch.pid;
	if (t->child > 0 && mmap_watch_open(&t->watch, t->child) < 0 && t->verbose)
		warn_msg("cannot follow %s's mappings", t->cmd);
	if (kernel && load_and_attach(t, &t->nattached) < 0)
		return EXIT_RUNTIME;
	if (t->verbose)
		fprintf(stderr, "%s: attached in %.1f ms after start\n", prog_name,
			(now_ns(CLOCK_MONOTONIC) - process_start_ns) / 1e6);
	for (size_t i = 0; i < t->prog.probes.n; i++) {
		enum tp_type ty = t->prog.probes.v[i].type;

		t->nattached += ty == PT_BEGIN || ty == PT_END || ty == PT_INTERVAL;
	}
	if (t->json)
		printf("{\"type\": \"attached_probes\", \"data\": {\"probes\": %zu}}\n", t->nattached);
	else if (!t->profile_out && !t->quiet)
		printf("Attaching %zu probe%s...\n", t->nattached, t->nattached == 1 ? "" : "s");
	fflush(stdout);
	if (t->pid > 0)
		sym_snapshot(t->sym, t->pid, 0);
	return 0;
}

/* BEGIN, then CMD released, then interval blocks until the duration, a
 * signal, exit(), or the target's end. The exit status on a failure. */
static int run(struct trace *t)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_scan = start, deadline = 0;
	bool done = false;
	int err;

	for (size_t i = 0; i < t->prog.blocks.n; i++) {
		struct tp_block *b = &t->prog.blocks.v[i];

		if (b->type == PT_BEGIN && run_actions(t, b))
			done = true;
		if (b->type == PT_INTERVAL)
			b->next_ns = start + b->interval_ns;
	}
	if (t->child > 0 && (err = child_release(&t->launch)) < 0) { /* once everything is attached */
		err_msg("cannot run %s: %s", t->cmd, strerror(-err));
		t->child = 0;
		return EXIT_USAGE;
	}
	if (t->duration_ns)
		deadline = start + t->duration_ns;
	while (!done && !stop_signal) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		uint64_t now;

		nanosleep(&ts, NULL);
		now = now_ns(CLOCK_MONOTONIC);
		if (t->child > 0) {
			mmap_watch_drain(&t->watch, t->sym);
			if (child_reap(&t->launch, false)) {
				t->child = 0;
				done = true;
			}
		}
		done |= t->pid > 0 && kill(t->pid, 0) < 0 && errno == ESRCH;
		done |= t->skel && t->skel->bss->exit_requested;
		done |= deadline && now >= deadline;
		for (size_t i = 0; i < t->prog.blocks.n && !done; i++) {
			struct tp_block *b = &t->prog.blocks.v[i];

			if (b->type == PT_INTERVAL && now >= b->next_ns) {
				b->next_ns += b->interval_ns;
				if (run_actions(t, b))
					done = true;
			}
		}
		if (now - last_scan >= 250000000ULL) {
			snapshot_key_pids(t);
			last_scan = now;
		}
		/* Processes the walker met without tables: each turn (10 ms), as
		 * a command maps its libraries in its first milliseconds. */
		ktables_poll(&t->kt, trace_refresh, t);
	}
	return EXIT_OK;
}

/* END blocks, then the maps printed (or the profile written), then what
 * was lost. */
static int report_end(struct trace *t)
{
	int status = EXIT_OK;

	if (t->child > 0)
		mmap_watch_drain(&t->watch, t->sym);
	snapshot_key_pids(t); /* a last look at processes that may exit soon */
	for (size_t i = 0; i < t->prog.blocks.n; i++)
		if (t->prog.blocks.v[i].type == PT_END)
			run_actions(t, &t->prog.blocks.v[i]);
	if (t->profile_out) {
		if (write_profile(t) < 0)
			status = EXIT_RUNTIME;
	} else if (t->skel) {
		print_all(t, stdout);
	}
	if (t->skel) {
		struct profile *p = profile_new("trace");

		stats_report(&t->stats, t->skel->maps.stats, p);
		for (size_t i = 0; i < p->counters.n; i++)
			if (p->counters.v[i].value)
				warn_msg("%s: %llu", p->counters.v[i].name, (unsigned long long)p->counters.v[i].value);
		profile_free(p);
	}
	return status;
}

/* Detaches everything and ends CMD on every path. */
static int finish(struct trace *t, int status)
{
	if (t->cmd_argv)
		child_finish(&t->launch); /* still running: SIGTERM, as timeout(1) */
	/* As every command: with -- CMD, its exit status unless we failed. */
	if (t->cmd_argv && status == EXIT_OK && t->launch.status >= 0)
		status = t->launch.status;
	links_destroy(t->links.v, t->links.n);
	for (size_t i = 0; i < t->multi_fds.n; i++)
		close(t->multi_fds.v[i]);
	vec_free(&t->multi_fds);
	for (size_t i = 0; i < t->pfds.n; i++)
		close(t->pfds.v[i]);
	vec_free(&t->links);
	vec_free(&t->pfds);
	ktables_free(&t->kt);
	trace_bpf__destroy(t->skel);
	mmap_watch_close(&t->watch);
	symbolizer_free(t->sym);
	tp_free(&t->prog);
	vec_free(&t->outputs);
	free(t->cmd_copy);
	free(t->src_file);
	return status;
}

int trace_main(int argc, char **argv)
{
	struct trace t = { .launch = { .hold_fd = -1, .err_fd = -1, .status = -1 } };
	int status = parse_args(&t, argc, argv);

	if (status >= 0)
		return finish(&t, status);
	if (geteuid() != 0) {
		err_msg("needs root (CAP_BPF and CAP_PERFMON)");
		return finish(&t, EXIT_RUNTIME);
	}
	if (session_check_kernel() < 0)
		return finish(&t, EXIT_RUNTIME);
	/* Tracepoint names and formats live in tracefs: mount it if needed. */
	sysinfo_mount_tracefs();
	t.prog.pid = t.pid;
	/* ustack is walked with unwind tables, which need each file's ELF
	 * kept; the parser loads the probed files. */
	if (strstr(t.src, "ustack"))
		elf_syms_keep_elf(true);
	t.sym = t.prog.sym = symbolizer_new();
	if (tp_parse(t.src, &t.prog) < 0 || (t.profile_out && check_profile_out(&t) < 0))
		return finish(&t, EXIT_USAGE);
	libbpf_set_print(t.verbose ? print_all_libbpf : print_no_libbpf);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((status = attach(&t)) != 0 || (status = run(&t)) != 0)
		return finish(&t, status);
	return finish(&t, report_end(&t));
}
