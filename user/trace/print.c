/* trace: records and maps shown as bpftrace 0.17 shows them — printf with
 * its conversions, print() of values and maps, maps at the end sorted by
 * value, histograms drawn, stacks symbolized — in text or bpftrace's
 * NDJSON (-f json). */
#include "trace/trace_user.h"
#include "render/render.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <unistd.h>

struct sb {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
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

static void sb_json_str(struct sb *b, const char *s)
{
	sb_add(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_add(b, "\\%c", ch);
		else if (ch == '\n')
			sb_add(b, "\\n");
		else if (ch == '\t')
			sb_add(b, "\\t");
		else if (ch == '\r')
			sb_add(b, "\\r");
		else if (ch < 0x20)
			sb_add(b, "\\u%04x", ch);
		else
			sb_add(b, "%c", ch);
	}
	sb_add(b, "\"");
}

static int64_t i64_at(const void *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void add_stack(struct tp_printer *pr, struct sb *b, const struct type *ty, int32_t id, pid_t pid)
{
	uint64_t ips[127] = { 0 };
	bool user = ty->k == TY_USTACK;

	if (id < 0 || bpf_map_lookup_elem(pr->stacks_fd, &id, ips) != 0) {
		sb_add(b, "\n    [stack lost]\n");
		return;
	}
	sb_add(b, "\n");
	for (int i = 0; i < 127 && ips[i] && (!ty->limit || i < ty->limit); i++) {
		struct sym_frame f;
		char safe[512];

		if (user)
			sym_user(pr->sym, pid, 0, ips[i], &f);
		else
			sym_kernel(pr->sym, ips[i], &f);
		if (ty->mode == 2) /* raw */
			sb_add(b, "%llx\n", (unsigned long long)ips[i]);
		else if (ty->mode == 1 && f.func) /* perf's: address, symbol+offset, (module) */
			sb_add(b, "\t%llx %s+%llu (%s)\n", (unsigned long long)ips[i], text_safe(f.func, safe, sizeof(safe)),
			       (unsigned long long)f.sym_off, f.module ? f.module : "[unknown]");
		else if (ty->mode == 1)
			sb_add(b, "\t%llx 0x%llx (%s)\n", (unsigned long long)ips[i], (unsigned long long)ips[i],
			       f.module ? f.module : "[unknown]");
		else if (f.func)
			sb_add(b, "    %s+%llu\n", text_safe(f.func, safe, sizeof(safe)), (unsigned long long)f.sym_off);
		else
			sb_add(b, "    0x%llx\n", (unsigned long long)ips[i]);
	}
}

static void value_sb(struct tp_printer *pr, struct sb *b, const struct type *ty, const uint8_t *d, bool json)
{
	struct sym_frame f;
	int64_t v = i64_at(d);

	switch (ty->k) {
	case TY_INT:
		if (ty->sign)
			sb_add(b, "%" PRId64, v);
		else
			sb_add(b, "%" PRIu64, (uint64_t)v);
		return;
	case TY_STR: {
		char s[1100], safe[4400];
		size_t n = ty->size < sizeof(s) - 1 ? ty->size : sizeof(s) - 1;

		memcpy(s, d, n);
		s[n] = 0;
		if (json)
			sb_json_str(b, s);
		else
			sb_add(b, "%s", s);
		(void)safe;
		return;
	}
	case TY_TUPLE:
		sb_add(b, json ? "[" : "(");
		for (int i = 0; i < ty->nelem; i++) {
			if (i)
				sb_add(b, json ? "," : ", ");
			value_sb(pr, b, &ty->elem[i], d + ty->off[i], json);
		}
		sb_add(b, json ? "]" : ")");
		return;
	case TY_USTACK: case TY_KSTACK: {
		struct sb st = { 0 };

		add_stack(pr, &st, ty, (int32_t)v, ty->k == TY_USTACK ? (pid_t)i64_at(d + 8) : 0);
		if (json)
			sb_json_str(b, st.s ? st.s : "");
		else
			sb_add(b, "%s", st.s ? st.s : "");
		free(st.s);
		return;
	}
	case TY_USYM: case TY_KSYM: {
		const char *name;

		if (ty->k == TY_USYM && v >= 0)
			sym_user(pr->sym, (pid_t)i64_at(d + 8), 0, (uint64_t)v, &f);
		else
			sym_kernel(pr->sym, (uint64_t)v, &f);
		name = f.func;
		if (json)
			sb_add(b, "\"");
		if (name)
			sb_add(b, "%s", name);
		else
			sb_add(b, "0x%" PRIx64, (uint64_t)v);
		if (json)
			sb_add(b, "\"");
		return;
	}
	case TY_BUF: { /* as bpftrace's %r: printable bytes as they are, others \xNN */
		int64_t len = v;
		struct sb t = { 0 };

		sb_add(&t, "%s", "");
		for (int64_t i = 0; i < len && i < ty->size - 8; i++) {
			unsigned char ch = d[8 + i];

			if (ch >= 32 && ch < 127)
				sb_add(&t, "%c", ch);
			else
				sb_add(&t, "\\x%02x", ch);
		}
		if (json)
			sb_json_str(b, t.s);
		else
			sb_add(b, "%s", t.s);
		free(t.s);
		return;
	}
	case TY_INET: {
		char buf[64] = "";
		int af = (int)v == 10 ? AF_INET6 : AF_INET;

		inet_ntop(af, d + 8, buf, sizeof(buf));
		if (json)
			sb_json_str(b, buf);
		else
			sb_add(b, "%s", buf);
		return;
	}
	case TY_TIMESTAMP: {
		/* nsecs (monotonic) to the wall clock */
		struct timespec mono, real;
		char buf[256] = "", fmt[256];
		const char *f = ty->strfmt ? ty->strfmt : "%H:%M:%S";
		size_t k = 0;

		clock_gettime(CLOCK_MONOTONIC, &mono);
		clock_gettime(CLOCK_REALTIME, &real);
		int64_t wall = (int64_t)real.tv_sec * 1000000000LL + real.tv_nsec -
			       ((int64_t)mono.tv_sec * 1000000000LL + mono.tv_nsec - v);
		time_t secs = (time_t)(wall / 1000000000LL);
		struct tm tm;

		/* %f: microseconds, as bpftrace's */
		for (const char *c = f; *c && k < sizeof(fmt) - 8; c++) {
			if (c[0] == '%' && c[1] == 'f') {
				k += (size_t)snprintf(fmt + k, sizeof(fmt) - k, "%06lld", (long long)(wall % 1000000000LL / 1000));
				c++;
			} else {
				fmt[k++] = *c;
			}
		}
		fmt[k] = 0;
		localtime_r(&secs, &tm);
		strftime(buf, sizeof(buf), fmt, &tm);
		if (json)
			sb_json_str(b, buf);
		else
			sb_add(b, "%s", buf);
		return;
	}
	case TY_PROBE: case TY_FUNCNAME: {
		const struct tp_program *p = pr->p;
		const char *s = v >= 0 && (size_t)v < p->probes.n ?
				(ty->k == TY_PROBE ? p->probes.v[v].text : p->probes.v[v].name) : "?";

		if (json)
			sb_json_str(b, s);
		else
			sb_add(b, "%s", s);
		return;
	}
	default:
		sb_add(b, "?");
	}
}

void tp_format_value(struct tp_printer *pr, const struct type *ty, const void *data, char **out, size_t *len,
		     bool json, bool in_key)
{
	struct sb b = { 0 };

	(void)in_key;
	sb_add(&b, "%s", "");
	value_sb(pr, &b, ty, data, json);
	*out = b.s;
	*len = b.n;
}

/* ---- printf ---------------------------------------------------------------- */

static void format_printf(struct tp_printer *pr, const struct tp_fmt *f, const uint8_t *rec, struct sb *b)
{
	const char *c = f->fmt;
	int ai = 0;

	while (*c) {
		if (*c != '%') {
			const char *e = strchr(c, '%');
			size_t n = e ? (size_t)(e - c) : strlen(c);

			sb_add(b, "%.*s", (int)n, c);
			c += n;
			continue;
		}
		if (c[1] == '%') {
			sb_add(b, "%%");
			c += 2;
			continue;
		}
		/* the conversion: flags, width, precision kept; length replaced */
		char spec[64];
		size_t sn = 0;
		const char *start = c++;

		spec[sn++] = '%';
		while (*c && strchr("-+ #0", *c) && sn < 40)
			spec[sn++] = *c++;
		while (*c >= '0' && *c <= '9' && sn < 40)
			spec[sn++] = *c++;
		if (*c == '.') {
			spec[sn++] = *c++;
			while (*c >= '0' && *c <= '9' && sn < 40)
				spec[sn++] = *c++;
		}
		/* the length modifier says how wide the value is, as C's printf
		 * reads it (bpftrace hands the format to printf: "%d" of 2^32+5
		 * prints 5, "%ld" 4294967301) */
		int hs = 0, longs = 0;

		while (*c && strchr("hlzjtq", *c)) {
			hs += *c == 'h';
			longs += *c != 'h';
			c++;
		}
		char conv = *c ? *c++ : 's';

		(void)start;
		if (ai >= f->nargs)
			break;
		const struct type *ty = &f->args[ai];
		const uint8_t *d = rec + f->off[ai];

		ai++;
		if (conv == 's' || conv == 'r' || ty->k != TY_INT) {
			struct sb v = { 0 };

			value_sb(pr, &v, ty, d, false);
			spec[sn++] = 's';
			spec[sn] = 0;
			sb_add(b, spec, v.s ? v.s : "");
			free(v.s);
			continue;
		}
		int64_t v = i64_at(d);

		if (conv == 'c') {
			spec[sn++] = 'c';
			spec[sn] = 0;
			sb_add(b, spec, (int)v);
		} else if (conv == 'p') {
			spec[sn++] = 'p';
			spec[sn] = 0;
			sb_add(b, spec, (void *)(uintptr_t)v);
		} else {
			bool sgn = conv == 'd' || conv == 'i';

			if (!longs) /* int, short or char, as printf converts it */
				v = hs >= 2 ? (sgn ? (int64_t)(int8_t)v : (int64_t)(uint8_t)v) :
				    hs == 1 ? (sgn ? (int64_t)(int16_t)v : (int64_t)(uint16_t)v) :
				    (sgn ? (int64_t)(int32_t)v : (int64_t)(uint32_t)v);
			spec[sn++] = 'l';
			spec[sn++] = 'l';
			spec[sn++] = conv == 'i' ? 'd' : conv;
			spec[sn] = 0;
			sb_add(b, spec, (long long)v);
		}
	}
}

void tp_printf(struct tp_printer *pr, const struct tp_fmt *f, const uint8_t *rec)
{
	struct sb b = { 0 };

	sb_add(&b, "%s", "");
	if (f->action == TR_ACT_JOIN) {
		int64_t cnt = i64_at(rec + sizeof(struct tr_rec));
		int ssz = tp_str_storage(pr->p);

		for (int64_t i = 0; i < cnt && i < TR_JOIN_MAX; i++) {
			const char *a = (const char *)rec + sizeof(struct tr_rec) + 8 + i * ssz;

			sb_add(&b, "%s%.*s", i ? f->fmt : "", ssz, a);
		}
		sb_add(&b, "\n");
	} else if (f->action == TR_ACT_TIME) {
		char buf[512];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		buf[0] = 0;
		strftime(buf, sizeof(buf), f->fmt, &tm);
		sb_add(&b, "%s", buf);
	} else {
		format_printf(pr, f, rec, &b);
	}
	if (f->action == TR_ACT_SYSTEM || f->action == TR_ACT_CAT) {
		fflush(pr->out);
		if (f->action == TR_ACT_SYSTEM) {
			FILE *cmd = popen(b.s, "r");
			char buf[4096];
			size_t n;

			while (cmd && (n = fread(buf, 1, sizeof(buf), cmd)) > 0)
				fwrite(buf, 1, n, pr->out);
			if (cmd)
				pclose(cmd);
		} else {
			FILE *in = fopen(b.s, "r");
			char buf[4096];
			size_t n;

			if (!in)
				fprintf(stderr, "cat: cannot open %s\n", b.s);
			while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
				fwrite(buf, 1, n, pr->out);
			if (in)
				fclose(in);
		}
		free(b.s);
		return;
	}
	if (pr->json) {
		struct sb j = { 0 };

		sb_json_str(&j, b.s);
		fprintf(pr->out, "{\"type\": \"%s\", \"data\": %s}\n", f->action == TR_ACT_TIME ? "time" : "printf", j.s);
		free(j.s);
	} else {
		fputs(b.s, pr->out);
	}
	free(b.s);
}

void tp_print_value(struct tp_printer *pr, const struct type *ty, const void *data)
{
	struct sb b = { 0 };

	sb_add(&b, "%s", "");
	value_sb(pr, &b, ty, data, pr->json);
	if (pr->json)
		fprintf(pr->out, "{\"type\": \"value\", \"data\": %s}\n", b.s);
	else
		fprintf(pr->out, "%s\n", b.s);
	free(b.s);
}

/* ---- maps ---------------------------------------------------------------------- */

struct shown {
	char *key;            /* text, parts joined by ", " */
	char *jkey;           /* JSON's: joined by "," */
	int64_t count, sum, min, max;
	bool set;
	uint8_t *val;         /* AG_NONE: the value's bytes */
	VEC(int64_t) buckets; /* hist/lhist */
};
typedef VEC(struct shown) shown_vec;

static int64_t shown_value(const struct tp_map *m, const struct shown *s)
{
	switch (m->agg) {
	case AG_COUNT: case AG_SUM: return s->sum;
	case AG_AVG: return s->count ? s->sum / s->count : 0;
	case AG_MIN: return s->min;
	case AG_MAX: return s->max;
	case AG_STATS: return s->count;
	case AG_NONE: return m->val.k == TY_INT ? i64_at(s->val) : 0;
	default: return s->sum;
	}
}

static int cmp_shown(const void *a, const void *b, void *map)
{
	const struct tp_map *m = map;
	const struct shown *x = a, *y = b;
	bool by_value = m->agg != AG_NONE || m->val.k == TY_INT;

	if (by_value && m->agg != AG_HIST && m->agg != AG_LHIST) {
		int64_t vx = shown_value(m, x), vy = shown_value(m, y);

		if (vx != vy) {
			if (m->agg == AG_NONE && !m->val.sign)
				return (uint64_t)vx < (uint64_t)vy ? -1 : 1;
			return vx < vy ? -1 : 1;
		}
	}
	return strcmp(x->key, y->key);
}

static void key_text(struct tp_printer *pr, const struct tp_map *m, const uint8_t *k, bool json, char **out)
{
	struct sb b = { 0 };

	sb_add(&b, "%s", "");
	for (int i = 0; i < m->npart; i++) {
		if (i)
			sb_add(&b, json ? "," : ", ");
		const struct type *t = &m->key.elem[i];

		/* JSON keys are strings: their text as is */
		value_sb(pr, &b, t, k + m->key.off[i], false);
	}
	*out = b.s;
}

/* Entries merged over CPUs and over keys that print alike (a hidden pid of
 * a user stack or symbol), sorted as bpftrace sorts them. */
static void collect(struct tp_printer *pr, const struct tp_map *m, shown_vec *out)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = m->percpu ? ((m->val_size + 7) & ~7u) * (size_t)ncpu : m->val_size;
	uint8_t *key = xcalloc(1, m->key_size), *next = xcalloc(1, m->key_size), *val = xcalloc(1, vsz);
	bool hist = m->agg == AG_HIST || m->agg == AG_LHIST, first = true;
	struct hmap idx = { 0 };

	out->n = 0;
	while (bpf_map_get_next_key(m->fd, first ? NULL : key, next) == 0) {
		char *kt;
		bool found;
		uint64_t *slot;

		first = false;
		memcpy(key, next, m->key_size);
		if (bpf_map_lookup_elem(m->fd, key, val) != 0)
			continue;
		/* one text per key (a stack key is symbolized once): JSON's
		 * joined by ",", the text's by ", " */
		key_text(pr, m, key, pr->json, &kt);
		slot = hmap_upsert(&idx, hash_bytes(kt, strlen(kt)), strlen(kt), out->n, &found);
		if (!found) {
			struct shown s = { .key = kt, .jkey = kt };

			vec_push(out, s);
		} else {
			free(kt);
		}
		struct shown *s = &out->v[*slot];

		if (m->agg == AG_NONE) {
			if (!s->val)
				s->val = xcalloc(1, m->val_size);
			memcpy(s->val, val, m->val_size);
			continue;
		}
		for (int c = 0; c < ncpu; c++) {
			const uint8_t *v = val + (size_t)c * ((m->val_size + 7) & ~7u);
			int64_t a = i64_at(v), b = m->val_size >= 16 ? i64_at(v + 8) : 0;

			switch (m->agg) {
			case AG_COUNT: case AG_SUM: case AG_HIST: case AG_LHIST:
				s->sum += a;
				break;
			case AG_AVG: case AG_STATS:
				s->count += a;
				s->sum += b;
				break;
			case AG_MIN: case AG_MAX:
				if (!b)
					break;
				if (!s->set || (m->agg == AG_MIN ? a < s->min : a > s->max))
					s->min = s->max = a;
				s->set = true;
				break;
			}
			if (hist) {
				int64_t bk = i64_at(key + m->key_size - 8);

				while (bk >= 0 && bk < 4096 && s->buckets.n <= (size_t)bk)
					vec_push(&s->buckets, 0);
				if (bk >= 0 && bk < 4096)
					s->buckets.v[bk] += a;
			}
		}
	}
	hmap_free(&idx);
	free(key);
	free(next);
	free(val);
	if (out->n > 1)
		qsort_r(out->v, out->n, sizeof(out->v[0]), cmp_shown, (void *)m);
}

static void free_shown(shown_vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key); /* jkey is the same text */
		free(v->v[i].val);
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
	if (m->agg == AG_HIST) {
		if (b == 0) { *lo = INT64_MIN; *hi = -1; }
		else if (b == 1) { *lo = 0; *hi = 0; }
		else { *lo = (int64_t)1 << (b - 2); *hi = b >= 65 ? INT64_MAX : ((int64_t)1 << (b - 1)) - 1; }
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
	if (m->agg == AG_HIST) {
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

static void print_hist_text(const struct tp_map *m, const struct shown *s, FILE *out, int64_t div)
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
		fprintf(out, "%-16s %7lld |%s|\n", label, (long long)(s->buckets.v[b] / (div > 0 ? div : 1)), bar);
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

static void value_text(struct tp_printer *pr, const struct tp_map *m, const struct shown *s, bool json, int64_t div,
		       struct sb *b)
{
	int64_t d = div > 0 ? div : 1;

	if (m->agg == AG_STATS) {
		int64_t avg = s->count ? s->sum / s->count : 0;

		if (json)
			sb_add(b, "{\"count\": %lld, \"average\": %lld, \"total\": %lld}", (long long)s->count,
			       (long long)avg, (long long)s->sum);
		else
			sb_add(b, "count %lld, average %lld, total %lld", (long long)(s->count / d), (long long)(avg / d),
			       (long long)(s->sum / d));
	} else if (m->agg == AG_NONE) {
		if (m->val.k == TY_INT && div > 0) {
			if (m->val.sign)
				sb_add(b, "%lld", (long long)(i64_at(s->val) / d));
			else
				sb_add(b, "%llu", (unsigned long long)((uint64_t)i64_at(s->val) / (uint64_t)d));
		} else {
			value_sb(pr, b, &m->val, s->val, json);
		}
	} else {
		sb_add(b, "%lld", (long long)(shown_value(m, s) / d));
	}
}

static void print_map(struct tp_printer *pr, int mi, int64_t top, int64_t div)
{
	const struct tp_map *m = &pr->p->maps.v[mi];
	bool keyed = m->npart > 0, hist = m->agg == AG_HIST || m->agg == AG_LHIST;
	FILE *out = pr->out;
	shown_vec v = { 0 };
	size_t from = 0;

	collect(pr, m, &v);
	if (top > 0 && (size_t)top < v.n)
		from = v.n - (size_t)top;
	if (pr->json) {
		/* bpftrace 0.17's types: avg() is a "stats" too */
		const char *type = hist ? "hist" : m->agg == AG_STATS || m->agg == AG_AVG ? "stats" : "map";

		if (!v.n) {
			free_shown(&v);
			return;
		}
		fprintf(out, "{\"type\": \"%s\", \"data\": {", type);
		json_string_as(out, m->name, false);
		fputs(": ", out);
		if (keyed)
			fputc('{', out);
		for (size_t i = from; i < v.n; i++) {
			const struct shown *s = &v.v[i];
			struct sb b = { 0 };

			if (keyed) {
				if (i > from)
					fputs(", ", out);
				json_string_as(out, s->jkey, false);
				fputs(": ", out);
			}
			if (hist) {
				print_hist_json(m, s, out);
			} else {
				sb_add(&b, "%s", "");
				value_text(pr, m, s, true, div, &b);
				fputs(b.s, out);
				free(b.s);
			}
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
	if (!v.n) /* as bpftrace: an empty map is an empty line */
		fputc('\n', out);
	for (size_t i = from; i < v.n; i++) {
		const struct shown *s = &v.v[i];
		struct sb b = { 0 };

		if (keyed)
			fprintf(out, "%s[%s]: ", m->name, s->key);
		else
			fprintf(out, "%s: ", m->name);
		if (hist) {
			fputc('\n', out);
			print_hist_text(m, s, out, div);
			fputc('\n', out);
		} else {
			sb_add(&b, "%s", "");
			value_text(pr, m, s, false, div, &b);
			fprintf(out, "%s\n", b.s);
			free(b.s);
		}
		if (!keyed)
			break;
	}
	if (v.n && !hist && (m->agg == AG_AVG || m->agg == AG_STATS))
		fputc('\n', out);
	free_shown(&v);
	fflush(out);
}

void tp_print_map(struct tp_printer *pr, int mi, int64_t top, int64_t div)
{
	print_map(pr, mi, top, div);
}

void tp_clear_map(struct tp_printer *pr, int mi, bool zero)
{
	const struct tp_map *m = &pr->p->maps.v[mi];
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = m->percpu ? ((m->val_size + 7) & ~7u) * (size_t)ncpu : m->val_size;
	uint8_t *key = xcalloc(1, m->key_size), *next = xcalloc(1, m->key_size), *z = xcalloc(1, vsz);
	VEC(uint8_t *) keys = { 0 };
	bool first = true;

	while (bpf_map_get_next_key(m->fd, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, m->key_size);
		uint8_t *k = xmalloc(m->key_size);

		memcpy(k, key, m->key_size);
		vec_push(&keys, k);
	}
	for (size_t i = 0; i < keys.n; i++) {
		if (zero)
			bpf_map_update_elem(m->fd, keys.v[i], z, BPF_EXIST);
		else
			bpf_map_delete_elem(m->fd, keys.v[i]);
		free(keys.v[i]);
	}
	vec_free(&keys);
	free(key);
	free(next);
	free(z);
}

static int cmp_map_names(const void *a, const void *b, void *ctx)
{
	const struct tp_program *p = ctx;

	return strcmp(p->maps.v[*(const int *)a].name, p->maps.v[*(const int *)b].name);
}

void tp_print_all(struct tp_printer *pr)
{
	struct tp_program *p = pr->p;
	int *order = xcalloc(p->maps.n + 1, sizeof(int));

	for (size_t i = 0; i < p->maps.n; i++)
		order[i] = (int)i;
	if (p->maps.n > 1)
		qsort_r(order, p->maps.n, sizeof(int), cmp_map_names, p);
	if (!pr->json)
		fputs("\n\n", pr->out);
	for (size_t i = 0; i < p->maps.n; i++)
		print_map(pr, order[i], 0, 0);
	free(order);
}
