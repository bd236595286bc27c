/* Small shared helpers: errors, growable arrays, arena, string pool, hash map. */
#ifndef BPFPROF_UTIL_H
#define BPFPROF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Exit statuses (docs/cli.md). */
#define EXIT_OK      0
#define EXIT_RUNTIME 1 /* runtime failure: no root, no BTF, attach failed, I/O */
#define EXIT_USAGE   2 /* bad usage or bad input */

extern const char *prog_name; /* "bpfprof" */
extern uint64_t process_start_ns; /* CLOCK_MONOTONIC at main() */

/* One line on stderr: "bpfprof: <message>". */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
/* Reads a file that a profiled (possibly hostile) process controls: never
 * through a symbolic link, never blocking (a FIFO), only a regular file owned
 * by `owner` or root, at most `max` bytes. NULL with *why set when refused;
 * NULL with *why NULL when it does not exist. */
#include <sys/types.h>
/* `s` fit for a terminal: control characters (a symbol name may carry an
 * escape sequence that retitles or rewrites the screen) as \xNN. Returns s
 * itself when it has none, else buf (truncated to n). */
const char *text_safe(const char *s, char *buf, size_t n);
/* /proc/PID/status (NULL if gone), and the text after "NAME:" on its line
 * (NULL if absent): one reader of the fields several places need. */
char *proc_status(pid_t pid);
/* len bytes at addr in pid's memory (process_vm_readv: the process is
 * not stopped); false unless all were read. */
bool proc_read(pid_t pid, uint64_t addr, void *dst, size_t len);
const char *status_field(const char *status, const char *name);
/* A whole small file (e.g. under /proc), NUL-terminated; NULL on error. */
char *read_whole_file(const char *path, size_t *len);
char *read_untrusted(const char *path, uid_t owner, size_t max, size_t *len, const char **why);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Growable array: struct { T *v; size_t n, cap; }. */
#define VEC(T) struct { T *v; size_t n, cap; }
#define vec_push(vec, x) do {                                              \
	if ((vec)->n == (vec)->cap) {                                        \
		(vec)->cap = (vec)->cap ? (vec)->cap * 2 : 16;               \
		(vec)->v = xrealloc((vec)->v, (vec)->cap * sizeof(*(vec)->v)); \
	}                                                                    \
	(vec)->v[(vec)->n++] = (x);                                          \
} while (0)
/* Sorts a VEC; an empty one is left alone (qsort's base must not be NULL). */
#define vec_sort(vec, cmp) do {                                            \
	if ((vec)->n > 1)                                                    \
		qsort((vec)->v, (vec)->n, sizeof(*(vec)->v), cmp);            \
} while (0)
#define vec_free(vec) do { free((vec)->v); (vec)->v = NULL; (vec)->n = (vec)->cap = 0; } while (0)

/* Bump allocator: everything of one profile is freed at once. */
struct arena {
	struct arena_block *head;
	size_t used_bytes;
};
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

/* Open-addressing map from a 128-bit key to a 64-bit value. */
struct hmap_entry { uint64_t k1, k2, val; bool used; };
struct hmap {
	struct hmap_entry *e;
	size_t n, cap;
};
uint64_t hash64(uint64_t x);
uint64_t hash_bytes(const void *p, size_t n);
/* Returns the slot's value pointer, inserting *val_if_new when absent;
 * *found tells which. */
uint64_t *hmap_upsert(struct hmap *m, uint64_t k1, uint64_t k2, uint64_t val_if_new, bool *found);
uint64_t *hmap_get(const struct hmap *m, uint64_t k1, uint64_t k2);
bool hmap_delete(struct hmap *m, uint64_t k1, uint64_t k2);
void hmap_free(struct hmap *m);

/* Interned strings: equal strings get the same pointer (compare with ==). */
struct strpool {
	struct arena arena;
	struct hmap index; /* hash -> chain head index in strs */
	VEC(const char *) strs;
	VEC(uint32_t) next;
};
const char *strpool_intern(struct strpool *sp, const char *s);
const char *strpool_internf(struct strpool *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strpool_free(struct strpool *sp);

/* "1.5s", "250ms", "10us", "100ns", bare number = seconds; <0 on error. */
int64_t parse_duration_ns(const char *s, const char *default_unit);
/* Strict unsigned integer parse; false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);
uint64_t now_ns(int clock);
/* Sum of a per-CPU value array. */
uint64_t sum_percpu(const uint64_t *vals, int ncpus);

/* In an array of n elements of `size` bytes, sorted by the uint64_t at byte
 * offset `off` of each, how many have that field <= key (the index of the
 * first greater one). The one binary search of address tables. */
size_t upper_bound_u64(const void *base, size_t n, size_t size, size_t off, uint64_t key);
#define VEC_UPPER_BOUND(vec, field, key) \
	upper_bound_u64((vec).v, (vec).n, sizeof(*(vec).v), offsetof(__typeof__(*(vec).v), field), (key))

/* A CPU list file ("0-3,8"), e.g. /sys/devices/system/cpu/online: the
 * count, and the CPUs in *cpus (free it) when cpus is not NULL; -errno. */
int parse_cpu_list(const char *path, int **cpus);
int online_cpus(int **cpus);

#endif
