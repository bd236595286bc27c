/* The one in-memory profile model. Every command fills one; every renderer
 * reads one. Shaped like pprof's profile.proto so that pprof round-trips. */
#ifndef BPFPROF_PROFILE_H
#define BPFPROF_PROFILE_H

#include "base/util.h"

#define PF_MAX_TYPES 8

struct pf_value_type {
	const char *type; /* interned, e.g. "cpu" */
	const char *unit; /* interned, e.g. "nanoseconds" */
};

enum pf_frame_kind {
	PF_FRAME_USER = 0,   /* resolved in a user ELF (or perf map) */
	PF_FRAME_KERNEL = 1, /* kernel or kernel module */
	PF_FRAME_UNKNOWN = 2 /* unresolved, JIT or anonymous code */
};

struct pf_mapping {
	uint64_t start, limit, offset;
	const char *file;     /* interned; "[kernel.kallsyms]" for the kernel */
	const char *build_id; /* interned hex, or NULL */
	bool kernel;
};

struct pf_line {
	const char *func;     /* interned function name */
	const char *file;     /* interned source file, or NULL */
	int64_t line;
	int64_t start_line;   /* the function's first line (0: unknown); Go's PGO wants it */
};

struct pf_location {
	uint64_t addr;
	uint32_t mapping;     /* index + 1 into mappings; 0 = none */
	uint32_t nlines;
	struct pf_line *lines; /* inlined callee first, its caller last */
	uint8_t kind;         /* enum pf_frame_kind */
};

struct pf_label {
	const char *key;      /* interned */
	const char *str;      /* interned, or NULL for a numeric label */
	int64_t num;
};

struct pf_sample {
	uint32_t *locs;       /* location indices, leaf first */
	uint32_t nlocs;
	uint32_t nlabels;
	int64_t *values;      /* one per sample type */
	struct pf_label *labels;
};

/* A named counter of lost or degraded data, shown by every renderer. */
struct pf_counter {
	const char *name;
	uint64_t value;
};

struct profile {
	const char *command;  /* "oncpu", or what a read file says */
	const char *target;   /* "pid 4242", "system-wide", ... */
	struct pf_value_type types[PF_MAX_TYPES];
	int ntypes;
	int default_type;
	struct pf_value_type period_type;
	int64_t period;
	int64_t time_ns, duration_ns;
	VEC(struct pf_mapping) mappings;
	VEC(struct pf_location) locations;
	VEC(struct pf_sample) samples;
	VEC(struct pf_counter) counters;
	VEC(const char *) comments;
	struct strpool strings;
	struct arena arena;
	struct hmap loc_index;  /* (mapping, addr|kind) -> location index + 1 */
	struct hmap map_index;  /* (file, start) -> mapping index + 1 */
};

struct profile *profile_new(const char *command);
void profile_free(struct profile *p);
const char *pf_str(struct profile *p, const char *s); /* intern */
int profile_add_type(struct profile *p, const char *type, const char *unit);
int profile_type_index(const struct profile *p, const char *type); /* -1 if absent */

uint32_t profile_add_mapping(struct profile *p, const struct pf_mapping *m); /* returns index+1 */
/* Location of one frame with one function line (the common case); interned
 * by (mapping, addr, kind) so the same frame is one location. */
uint32_t profile_add_frame(struct profile *p, uint32_t mapping, uint64_t addr,
			   enum pf_frame_kind kind, const char *func);
/* The same with the line's source file and line (file NULL: unknown). */
uint32_t profile_add_frame_line(struct profile *p, uint32_t mapping, uint64_t addr,
				enum pf_frame_kind kind, const char *func, const char *file, int64_t line);
uint32_t profile_add_location(struct profile *p, const struct pf_location *loc);
/* Copies locs/values/labels into the profile. */
void profile_add_sample(struct profile *p, const uint32_t *locs, uint32_t nlocs,
			const int64_t *values, const struct pf_label *labels, uint32_t nlabels);
void profile_add_counter(struct profile *p, const char *name, uint64_t value);
/* A note for people (pprof's comments), e.g. what a profile left out. */
void profile_add_comment(struct profile *p, const char *text);

/* A differential profile: base's samples added with their values negated
 * (pprof's -diff_base), for the sample types both have; -EINVAL if none. */
int profile_subtract(struct profile *p, const struct profile *base);
const struct pf_label *sample_label(const struct pf_sample *s, const char *key);
int64_t profile_total(const struct profile *p, int type_index);
uint64_t profile_lost_total(const struct profile *p);

#endif
