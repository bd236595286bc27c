#include "render/flametree.h"

#include <stdlib.h>
#include <string.h>

#include "render/render.h"


static const struct flametree *sort_tree;

static int cmp_child(const void *a, const void *b)
{
	const struct ft_node *x = &sort_tree->nodes.v[*(const int32_t *)a];
	const struct ft_node *y = &sort_tree->nodes.v[*(const int32_t *)b];
	int c = strcmp(x->name, y->name);

	return c ? c : x->kind - y->kind;
}

/* The child of cur named (name, kind), created if new; v added to it. */
static int32_t descend(struct flametree *t, struct hmap *children, int32_t cur, const char *name,
		       uint8_t kind, int64_t v)
{
	bool found;
	uint64_t *slot = hmap_upsert(children, (uint64_t)cur, (uintptr_t)name ^ kind, t->nodes.n, &found);

	if (!found) {
		struct ft_node nd = { name, kind, 0, 0, cur, -1, -1, t->nodes.v[cur].depth + 1 };

		vec_push(&t->nodes, nd);
		if (nd.depth > t->max_depth)
			t->max_depth = nd.depth;
	}
	cur = (int32_t)*slot;
	t->nodes.v[cur].value += v;
	return cur;
}

void flametree_build(struct flametree *t, const struct profile *p, int sample_index)
{
	struct hmap children = { 0 }; /* (parent, name ptr ^ kind) -> node */
	struct sample_walk w;
	VEC(int32_t) kids = { 0 };

	memset(t, 0, sizeof(*t));
	vec_push(&t->nodes, ((struct ft_node){ "all", FT_KIND_PROCESS, 0, 0, -1, -1, -1, 0 }));
	sample_walk_init(&w, p, sample_index);
	while (sample_walk_next(&w)) {
		int32_t cur = 0;

		t->nodes.v[0].value += w.value;
		/* The process name sits under the root, as in folded output. */
		if (w.comm)
			cur = descend(t, &children, cur, w.comm, FT_KIND_PROCESS, w.value);
		for (size_t j = w.n; j-- > 0;) /* root first */
			cur = descend(t, &children, cur, w.names[j], w.kinds[j], w.value);
		t->nodes.v[cur].self += w.value;
	}
	/* Link children in name order, for a stable, readable layout. */
	sort_tree = t;
	for (size_t i = 1; i < t->nodes.n; i++)
		vec_push(&kids, (int32_t)i);
	vec_sort(&kids, cmp_child);
	for (size_t i = kids.n; i-- > 0;) {
		struct ft_node *nd = &t->nodes.v[kids.v[i]];

		nd->next_sibling = t->nodes.v[nd->parent].first_child;
		t->nodes.v[nd->parent].first_child = kids.v[i];
	}
	vec_free(&kids);
	hmap_free(&children);
}

void flametree_free(struct flametree *t)
{
	vec_free(&t->nodes);
}
