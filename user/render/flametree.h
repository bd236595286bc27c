/* The merged call tree (root first) that the flame graph and the call graph
 * views are drawn from. */
#ifndef BPFPROF_FLAMETREE_H
#define BPFPROF_FLAMETREE_H

#include "model/profile.h"

/* Node kinds: enum pf_frame_kind, or the process (comm) level. */
#define FT_KIND_PROCESS 3

struct ft_node {
	const char *name;
	uint8_t kind;
	int64_t value;      /* total of the samples through this node */
	int64_t self;       /* of which this node is the leaf */
	int32_t parent;     /* -1 for the root */
	int32_t first_child, next_sibling; /* -1 = none; children sorted by name */
	int32_t depth;
};

struct flametree {
	VEC(struct ft_node) nodes; /* nodes.v[0] is the root ("all") */
	int32_t max_depth;
};

void flametree_build(struct flametree *t, const struct profile *p, int sample_index);
void flametree_free(struct flametree *t);

#endif
