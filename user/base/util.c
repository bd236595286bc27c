#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *prog_name = "bpfprof";
uint64_t process_start_ns;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Keep every error on one line. */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	fprintf(stderr, "%s: %s%s\n", prog_name, prefix, buf);
}

void err_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

static void oom(void)
{
	err_msg("out of memory");
	exit(EXIT_RUNTIME);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n) {
		size_t size = n > 65536 ? n : 65536;

		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	a->used_bytes += n;
	b->used += n;
	return memset(b->data + b->used - n, 0, n);
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(arena_alloc(a, n), s, n);
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->used_bytes = 0;
}

uint64_t hash64(uint64_t x)
{
	/* splitmix64 finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static size_t hmap_slot(const struct hmap *m, uint64_t k1, uint64_t k2)
{
	size_t mask = m->cap - 1;
	size_t i = hash64(k1 ^ hash64(k2)) & mask;

	while (m->e[i].used && (m->e[i].k1 != k1 || m->e[i].k2 != k2))
		i = (i + 1) & mask;
	return i;
}

uint64_t *hmap_get(const struct hmap *m, uint64_t k1, uint64_t k2)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = hmap_slot(m, k1, k2);
	return m->e[i].used ? &m->e[i].val : NULL;
}

static void hmap_grow(struct hmap *m)
{
	struct hmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->e = xcalloc(m->cap, sizeof(*m->e));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.e[i].used) {
			size_t j = hmap_slot(m, old.e[i].k1, old.e[i].k2);

			m->e[j] = old.e[i];
			m->n++;
		}
	}
	free(old.e);
}

uint64_t *hmap_upsert(struct hmap *m, uint64_t k1, uint64_t k2, uint64_t val_if_new, bool *found)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3)
		hmap_grow(m);
	i = hmap_slot(m, k1, k2);
	if (m->e[i].used) {
		if (found)
			*found = true;
		return &m->e[i].val;
	}
	m->e[i] = (struct hmap_entry){ .k1 = k1, .k2 = k2, .val = val_if_new, .used = true };
	m->n++;
	if (found)
		*found = false;
	return &m->e[i].val;
}

void hmap_free(struct hmap *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

const char *strpool_intern(struct strpool *sp, const char *s)
{
	uint64_t h = hash_bytes(s, strlen(s));
	bool found;
	uint64_t *head = hmap_upsert(&sp->index, h, 0, UINT64_MAX, &found);
	uint32_t idx;

	for (uint64_t i = *head; i != UINT64_MAX; i = sp->next.v[i] == UINT32_MAX ? UINT64_MAX : sp->next.v[i])
		if (strcmp(sp->strs.v[i], s) == 0)
			return sp->strs.v[i];
	idx = sp->strs.n;
	vec_push(&sp->strs, arena_strdup(&sp->arena, s));
	vec_push(&sp->next, *head == UINT64_MAX ? UINT32_MAX : (uint32_t)*head);
	*head = idx;
	return sp->strs.v[idx];
}

const char *strpool_internf(struct strpool *sp, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strpool_intern(sp, buf);
}

void strpool_free(struct strpool *sp)
{
	arena_free(&sp->arena);
	hmap_free(&sp->index);
	vec_free(&sp->strs);
	vec_free(&sp->next);
}

int64_t parse_duration_ns(const char *s, const char *default_unit)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 },
	};
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -1;
	if (!*end)
		end = (char *)default_unit;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double ns = v * units[i].mult;

			if (ns > 9.2e18)
				return -1;
			return (int64_t)ns;
		}
	}
	return -1;
}

bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t sum_percpu(const uint64_t *vals, int ncpus)
{
	uint64_t s = 0;

	for (int i = 0; i < ncpus; i++)
		s += vals[i];
	return s;
}

bool hmap_delete(struct hmap *m, uint64_t k1, uint64_t k2)
{
	size_t mask, i, j;

	if (!m->cap)
		return false;
	mask = m->cap - 1;
	i = hmap_slot(m, k1, k2);
	if (!m->e[i].used)
		return false;
	/* Backward-shift deletion keeps linear probing chains intact. */
	for (j = (i + 1) & mask; m->e[j].used; j = (j + 1) & mask) {
		size_t home = hash64(m->e[j].k1 ^ hash64(m->e[j].k2)) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->e[i] = m->e[j];
			i = j;
		}
	}
	m->e[i].used = false;
	m->n--;
	return true;
}

char *read_untrusted(const char *path, uid_t owner, size_t max, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r;

	*why = NULL;
	if (fd < 0) {
		if (errno == ELOOP)
			*why = "a symbolic link (not followed)";
		else if (errno != ENOENT && errno != ENOTDIR)
			*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_uid != owner && st.st_uid != 0)
		*why = "owned by another user than the process's";
	else if ((uint64_t)st.st_size > max)
		*why = "larger than the limit";
	if (*why) {
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	/* Read what fstat promised, no more: a file that grows meanwhile is
	 * read up to its size then (and again next time). */
	while (n < (size_t)st.st_size && (r = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

const char *text_safe(const char *s, char *buf, size_t n)
{
	size_t o = 0;
	const unsigned char *c;

	for (c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			break;
	if (!*c)
		return s; /* nothing to escape: the common case, no copy */
	for (c = (const unsigned char *)s; *c && o + 5 < n; c++) {
		if (*c < 0x20 || *c == 0x7f)
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", *c);
		else
			buf[o++] = (char)*c;
	}
	buf[o] = 0;
	return buf;
}

char *read_whole_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf;
	ssize_t r;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

char *proc_status(pid_t pid)
{
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return read_whole_file(path, &len);
}

const char *status_field(const char *status, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':')
			return p + n + 1;
	return NULL;
}

int parse_cpu_list(const char *path, int **cpus)
{
	FILE *f = fopen(path, "r");
	char buf[4096], *tok, *save = NULL;
	VEC(int) v = { 0 };

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		int a, b;

		if (sscanf(tok, "%d-%d", &a, &b) == 2) {
			for (int c = a; c <= b; c++)
				vec_push(&v, c);
		} else if (sscanf(tok, "%d", &a) == 1) {
			vec_push(&v, a);
		}
	}
	if (cpus)
		*cpus = v.v;
	else
		free(v.v);
	return (int)v.n;
}


int online_cpus(int **cpus)
{
	return parse_cpu_list("/sys/devices/system/cpu/online", cpus);
}

size_t upper_bound_u64(const void *base, size_t n, size_t size, size_t off, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * size + off, sizeof(v));
		if (v <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool proc_read(pid_t pid, uint64_t addr, void *dst, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)addr, len };

	return addr && process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len;
}
