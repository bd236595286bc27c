#include "model/profile.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>

struct profile *profile_new(const char *command)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	p->command = pf_str(p, command ? command : "");
	p->target = pf_str(p, "");
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	vec_free(&p->mappings);
	vec_free(&p->locations);
	vec_free(&p->samples);
	vec_free(&p->counters);
	vec_free(&p->comments);
	hmap_free(&p->loc_index);
	hmap_free(&p->map_index);
	strpool_free(&p->strings);
	arena_free(&p->arena);
	free(p);
}

const char *pf_str(struct profile *p, const char *s)
{
	return s ? strpool_intern(&p->strings, s) : NULL;
}

int profile_add_type(struct profile *p, const char *type, const char *unit)
{
	if (p->ntypes == PF_MAX_TYPES)
		return -1;
	p->types[p->ntypes].type = pf_str(p, type);
	p->types[p->ntypes].unit = pf_str(p, unit);
	return p->ntypes++;
}

int profile_type_index(const struct profile *p, const char *type)
{
	for (int i = 0; i < p->ntypes; i++)
		if (strcmp(p->types[i].type, type) == 0)
			return i;
	return -1;
}

uint32_t profile_add_mapping(struct profile *p, const struct pf_mapping *m)
{
	const char *file = pf_str(p, m->file ? m->file : "");
	bool found;
	uint64_t *slot = hmap_upsert(&p->map_index, (uintptr_t)file, m->start ^ hash64(m->offset),
				     p->mappings.n + 1, &found);
	struct pf_mapping copy = *m;

	if (found)
		return *slot;
	copy.file = file;
	copy.build_id = pf_str(p, m->build_id);
	vec_push(&p->mappings, copy);
	return *slot;
}

uint32_t profile_add_location(struct profile *p, const struct pf_location *loc)
{
	struct pf_location copy = *loc;

	copy.lines = arena_alloc(&p->arena, sizeof(*copy.lines) * (loc->nlines ? loc->nlines : 1));
	for (uint32_t i = 0; i < loc->nlines; i++) {
		copy.lines[i].func = pf_str(p, loc->lines[i].func);
		copy.lines[i].file = pf_str(p, loc->lines[i].file);
		copy.lines[i].line = loc->lines[i].line;
		copy.lines[i].start_line = loc->lines[i].start_line;
	}
	vec_push(&p->locations, copy);
	return p->locations.n - 1;
}

uint32_t profile_add_frame(struct profile *p, uint32_t mapping, uint64_t addr,
			   enum pf_frame_kind kind, const char *func)
{
	return profile_add_frame_line(p, mapping, addr, kind, func, NULL, 0);
}

uint32_t profile_add_frame_line(struct profile *p, uint32_t mapping, uint64_t addr,
				enum pf_frame_kind kind, const char *func, const char *file, int64_t lineno)
{
	bool found;
	uint64_t *slot = hmap_upsert(&p->loc_index, ((uint64_t)mapping << 2) | kind, addr, 0, &found);
	struct pf_line line = { .func = func, .file = file, .line = lineno };
	struct pf_location loc = { .addr = addr, .mapping = mapping, .nlines = 1,
				   .lines = &line, .kind = kind };

	if (found)
		return *slot;
	*slot = profile_add_location(p, &loc);
	return *slot;
}

void profile_add_sample(struct profile *p, const uint32_t *locs, uint32_t nlocs,
			const int64_t *values, const struct pf_label *labels, uint32_t nlabels)
{
	struct pf_sample s = { .nlocs = nlocs, .nlabels = nlabels };

	s.locs = arena_alloc(&p->arena, sizeof(*locs) * (nlocs ? nlocs : 1));
	if (nlocs)
		memcpy(s.locs, locs, sizeof(*locs) * nlocs); /* locs may be NULL when empty */
	s.values = arena_alloc(&p->arena, sizeof(*values) * p->ntypes);
	memcpy(s.values, values, sizeof(*values) * p->ntypes);
	s.labels = arena_alloc(&p->arena, sizeof(*labels) * (nlabels ? nlabels : 1));
	for (uint32_t i = 0; i < nlabels; i++) {
		s.labels[i].key = pf_str(p, labels[i].key);
		s.labels[i].str = pf_str(p, labels[i].str);
		s.labels[i].num = labels[i].num;
	}
	vec_push(&p->samples, s);
}

void profile_add_counter(struct profile *p, const char *name, uint64_t value)
{
	name = pf_str(p, name);
	for (size_t i = 0; i < p->counters.n; i++) {
		if (p->counters.v[i].name == name) {
			p->counters.v[i].value += value;
			return;
		}
	}
	vec_push(&p->counters, ((struct pf_counter){ name, value }));
}

const struct pf_label *sample_label(const struct pf_sample *s, const char *key)
{
	for (uint32_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].key, key) == 0)
			return &s->labels[i];
	return NULL;
}

int64_t profile_total(const struct profile *p, int type_index)
{
	int64_t t = 0;

	for (size_t i = 0; i < p->samples.n; i++)
		t += p->samples.v[i].values[type_index];
	return t;
}

uint64_t profile_lost_total(const struct profile *p)
{
	uint64_t t = 0;

	for (size_t i = 0; i < p->counters.n; i++)
		t += p->counters.v[i].value;
	return t;
}

void profile_add_comment(struct profile *p, const char *text)
{
	vec_push(&p->comments, pf_str(p, text));
}

int profile_subtract(struct profile *p, const struct profile *base)
{
	int map[PF_MAX_TYPES], common = 0;
	VEC(uint32_t) locmap = { 0 };
	VEC(uint32_t) locs = { 0 };

	for (int t = 0; t < p->ntypes; t++) {
		map[t] = profile_type_index(base, p->types[t].type);
		common += map[t] >= 0;
	}
	if (!common)
		return -EINVAL;
	/* The base's locations, copied in (same function names, lines and
	 * file: the same frames to every renderer). */
	for (size_t i = 0; i < base->locations.n; i++) {
		const struct pf_location *l = &base->locations.v[i];
		struct pf_location copy = *l;

		copy.mapping = l->mapping ? profile_add_mapping(p, &base->mappings.v[l->mapping - 1]) : 0;
		vec_push(&locmap, profile_add_location(p, &copy));
	}
	for (size_t i = 0; i < base->samples.n; i++) {
		const struct pf_sample *s = &base->samples.v[i];
		int64_t values[PF_MAX_TYPES];

		locs.n = 0;
		for (uint32_t j = 0; j < s->nlocs; j++)
			vec_push(&locs, locmap.v[s->locs[j]]);
		for (int t = 0; t < p->ntypes; t++)
			values[t] = map[t] >= 0 ? -s->values[map[t]] : 0;
		profile_add_sample(p, locs.v, (uint32_t)locs.n, values, s->labels, s->nlabels);
	}
	vec_free(&locmap);
	vec_free(&locs);
	return 0;
}
