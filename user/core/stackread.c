/* Stacks by id: from a program's stack store (or a second map, offcpu's seed), or
 * from stacks unwound in user space, each read once per interval. */
#include "core/stackread.h"
#include "core/unwinder.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stack_reader {
	struct bpf_map *map;
	struct {                 /* ids from base up are read from map (offcpu's seed, walked stacks) */
		struct bpf_map *map;
		uint32_t base;
	} alt[2];
	const struct uw_store *store;
	int depth;
	struct hmap cache;       /* id -> index into stacks + 1 (0 = unreadable) */
	VEC(uint64_t *) stacks;
	uint64_t missing;        /* entries whose stack id was no longer there */
};

void stack_reader_set_alt(struct stack_reader *r, struct bpf_map *alt, uint32_t base)
{
	int i = r->alt[0].map && r->alt[0].base != base ? 1 : 0;

	r->alt[i].map = alt;
	r->alt[i].base = base;
}

void stack_reader_report(const struct stack_reader *r, struct profile *p)
{
	profile_add_counter(p, "stacks recycled before read", r->missing);
}

struct stack_reader *stack_reader_new(struct bpf_map *m, int max_depth)
{
	struct stack_reader *r = xcalloc(1, sizeof(*r));

	r->map = m;
	r->depth = max_depth;
	return r;
}

struct stack_reader *stack_reader_new_store(const struct uw_store *st, int max_depth)
{
	struct stack_reader *r = xcalloc(1, sizeof(*r));

	r->store = st;
	r->depth = max_depth;
	return r;
}

void stack_reader_add(struct stack_reader *r, struct stack_builder *b, int32_t id,
		      pid_t pid, uint32_t exec, enum stack_kind kind)
{
	stack_reader_add_entry(r, b, id, pid, exec, kind, 0);
}

void stack_reader_add_entry(struct stack_reader *r, struct stack_builder *b, int32_t id,
			    pid_t pid, uint32_t exec, enum stack_kind kind, uint64_t entry_ret)
{
	const uint64_t *ips;

	if (id == STACK_NONE)
		return;
	ips = stack_reader_get(r, id);
	if (!ips && id >= 0)
		r->missing++; /* recycled before it was read: counted */
	if (!ips) {
		stack_add_pseudo(b, kind == STACK_USER ? "[user stack lost]" : "[kernel stack lost]");
		return;
	}
	if (kind == STACK_USER)
		stack_add_user_entry(b, pid, exec, ips, r->depth, entry_ret);
	else
		stack_add_kernel(b, ips, r->depth);
}

void stack_reader_clear(struct stack_reader *r)
{
	if (r->map)
		stackmap_recycle(r->map, NULL);
}

void stackmap_recycle(struct bpf_map *m, const struct hmap *keep)
{
	uint32_t key, next;
	void *prev = NULL;
	VEC(uint32_t) all = { 0 };
	size_t n = 0;

	while (bpf_map__get_next_key(m, prev, &next, sizeof(next)) == 0) {
		if (!keep || !hmap_get(keep, next, 0))
			vec_push(&all, next);
		n++;
		key = next;
		prev = &key;
	}
	/* A map the programs still write to (keep given): a thread may be
	 * handed an existing id in the moment before it is deleted, and its
	 * event then has no stack. So recycle only when the map is more than
	 * half full; ids otherwise stay, harmlessly, for the next interval.
	 * (Interval runs of offcpu lost ~5% of their stacks to this.) */
	if (keep && n * 2 < bpf_map__max_entries(m))
		all.n = 0;
	for (size_t i = 0; i < all.n; i++)
		bpf_map__delete_elem(m, &all.v[i], sizeof(uint32_t), 0);
	vec_free(&all);
}

void stack_reader_free(struct stack_reader *r)
{
	for (size_t i = 0; i < r->stacks.n; i++)
		free(r->stacks.v[i]);
	vec_free(&r->stacks);
	hmap_free(&r->cache);
	free(r);
}

const uint64_t *stack_reader_get(struct stack_reader *r, int32_t id)
{
	bool found;
	uint64_t *slot, *ips;

	if (id < 0)
		return NULL;
	if (r->store)
		return uw_store_get(r->store, id);
	slot = hmap_upsert(&r->cache, (uint32_t)id, 0, 0, &found);
	if (!found) {
		struct bpf_map *m = r->map;
		uint32_t best = 0;

		for (int i = 0; i < 2; i++)
			if (r->alt[i].map && (uint32_t)id >= r->alt[i].base && r->alt[i].base >= best) {
				m = r->alt[i].map;
				best = r->alt[i].base;
			}
		size_t vsize = bpf_map__value_size(m);

		ips = xcalloc(vsize / sizeof(uint64_t) > (size_t)r->depth ? vsize / sizeof(uint64_t) : (size_t)r->depth,
			      sizeof(uint64_t));
		if (bpf_map__lookup_elem(m, &id, sizeof(id), ips, vsize, 0) == 0) {
			vec_push(&r->stacks, ips);
			*slot = r->stacks.n;
		} else {
			free(ips);
		}
	}
	return *slot ? r->stacks.v[*slot - 1] : NULL;
}
