#include "render/flametree.h"

#include <stdlib.h>
#include <string.h>

#include "render/render.h"

#define MAX_FRAMES 1024

static const struct flametree *sort_tree;

static int cmp_child(const void *a, const void *b)
{
	const struct ft_node *x = &sort_tree->nodes.v[*(const int32_t *)a];
	const struct ft_node *y = &sort_tree->nodes.v[*(const int32_t *)b];
	int c = strcmp(x->name, y->name);

	return c ? c : x->kind - y->kind;
}

void flametree_build(struct flametree *t, const struct profile *p, int sample_index)
{
	struct hmap children = { 0 }; /* (parent, name ptr ^ kind) -> node */
	const char *names[MAX_FRAMES];
	uint8_t kinds[MAX_FRAMES];
	VEC(int32_t) kids = { 0 };

	memset(t, 0, sizeof(*t));
	vec_push(&t->nodes, ((struct ft_node){ "all", FT_KIND_PROCESS, 0, 0, -1, -1, -1, 0 }));
	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];
		int64_t v = s->values[sample_index];
		const struct pf_label *comm = sample_label(s, "comm");
		size_t n = sample_frames(p, s, names, kinds, MAX_FRAMES - 1);
		int32_t cur = 0;

		/* The process name sits under the root, as in folded output. */
		if (comm && comm->str) {
			names[n] = comm->str;
			kinds[n++] = FT_KIND_PROCESS;
		}

		if (!v)
			continue;
		t->nodes.v[0].value += v;
		for (size_t j = n; j-- > 0;) { /* root first */
			bool found;
			uint64_t *slot = hmap_upsert(&children, (uint64_t)cur,
						     (uintptr_t)names[j] ^ kinds[j], t->nodes.n, &found);

			if (!found) {
				struct ft_node nd = { names[j], kinds[j], 0, 0, cur, -1, -1,
						      t->nodes.v[cur].depth + 1 };

				vec_push(&t->nodes, nd);
				if (nd.depth > t->max_depth)
					t->max_depth = nd.depth;
			}
			cur = (int32_t)*slot;
			t->nodes.v[cur].value += v;
		}
		t->nodes.v[cur].self += v;
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
