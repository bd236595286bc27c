/* dot: the call graph (pprof's "web" view) for Graphviz. Nodes are functions
 * sized by flat value, labelled with flat and cumulative values; edges are
 * caller -> callee weighted by the value through them. Like pprof, nodes
 * under 0.5% and edges under 0.1% of the total are trimmed, and at most 80
 * nodes are kept. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

#define NODE_FRACTION 0.005
#define EDGE_FRACTION 0.001
#define MAX_NODES 80

struct dnode {
	const char *name;
	uint8_t kind;
	int64_t flat, cum;
	size_t stamp;
	int id;         /* > 0 when kept */
};

struct dedge {
	uint32_t from, to;
	int64_t value;
	size_t stamp;
};

static int cmp_cum(const void *a, const void *b)
{
	const struct dnode *x = *(struct dnode *const *)a, *y = *(struct dnode *const *)b;

	if (x->cum != y->cum)
		return x->cum > y->cum ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

int render_dot(const struct profile *p, const struct render_opts *o, FILE *out)
{
	VEC(struct dnode) nodes = { 0 };
	VEC(struct dedge) edges = { 0 };
	VEC(struct dnode *) order = { 0 };
	struct hmap nidx = { 0 }, eidx = { 0 };
	struct sample_walk w;
	uint32_t ids[SAMPLE_WALK_FRAMES];
	const char *unit = p->types[o->sample_index].unit;
	int64_t total = 0, maxflat = 1;
	size_t kept = 0;
	char a[64], b[64];

	sample_walk_init(&w, p, o->sample_index);
	w.lines = o->lines;
	while (sample_walk_next(&w)) {
		int64_t v = w.value;
		size_t n = w.n, i = w.next; /* stamps: once per sample */
		const char **names = w.names;
		const uint8_t *kinds = w.kinds;

		total += v;
		for (size_t j = 0; j < n; j++) {
			bool found;
			uint64_t *slot = hmap_upsert(&nidx, (uintptr_t)names[j], kinds[j], nodes.n, &found);
			struct dnode *d;

			if (!found)
				vec_push(&nodes, ((struct dnode){ names[j], kinds[j], 0, 0, SIZE_MAX, 0 }));
			d = &nodes.v[*slot];
			ids[j] = (uint32_t)*slot;
			if (j == 0)
				d->flat += v;
			if (d->stamp != i) {
				d->cum += v;
				d->stamp = i;
			}
		}
		for (size_t j = 0; j + 1 < n; j++) {
			bool found;
			uint64_t *slot = hmap_upsert(&eidx, ids[j + 1], ids[j], edges.n, &found);

			if (!found)
				vec_push(&edges, ((struct dedge){ ids[j + 1], ids[j], 0, SIZE_MAX }));
			if (edges.v[*slot].stamp != i) {
				edges.v[*slot].value += v;
				edges.v[*slot].stamp = i;
			}
		}
	}
	for (size_t i = 0; i < nodes.n; i++)
		vec_push(&order, &nodes.v[i]);
	vec_sort(&order, cmp_cum);
	for (size_t i = 0; i < order.n && kept < MAX_NODES; i++) {
		if (order.v[i]->cum < total * NODE_FRACTION)
			break;
		order.v[i]->id = (int)++kept;
		if (order.v[i]->flat > maxflat)
			maxflat = order.v[i]->flat;
	}

	fprintf(out, "digraph \"bpfprof\" {\nnode [style=filled fillcolor=\"#f8f8f8\" fontname=\"Helvetica\"]\n");
	format_value(a, sizeof(a), total, unit);
	fprintf(out, "subgraph cluster_L { \"legend\" [shape=box fontsize=16 label=\"");
	fprintf(out, "bpfprof %s %s\\lType: %s\\lShowing %zu of %zu nodes, total %s\\lLost samples: %" PRIu64 "\\l\"] }\n",
		p->command, p->target, p->types[o->sample_index].type, kept, nodes.n, a, profile_lost_total(p));
	for (size_t i = 0; i < nodes.n; i++) {
		const struct dnode *d = &nodes.v[i];
		double share = total ? (double)d->cum / total : 0;
		int red = 80 + (int)(175 * share), fs = 8 + (int)(24.0 * sqrt((double)d->flat / maxflat));
		char label[1024];

		if (!d->id)
			continue;
		format_value(a, sizeof(a), d->flat, unit);
		format_value(b, sizeof(b), d->cum, unit);
		snprintf(label, sizeof(label), "%s\n%s (%.2f%%)\nof %s (%.2f%%)", d->name, a,
			 total ? 100.0 * d->flat / total : 0, b, 100.0 * share);
		fprintf(out, "N%d [label=", d->id);
		dot_string(out, label);
		fprintf(out, " id=\"node%d\" fontsize=%d shape=box tooltip=", d->id, fs);
		dot_string(out, d->name);
		fprintf(out, " color=\"#%02x%02x%02x\" fillcolor=\"#%02x%02x%02x\"%s]\n",
			red, 60, 40, 240, 240 - (int)(60 * share), 230 - (int)(80 * share),
			d->kind == PF_FRAME_KERNEL ? " style=\"filled,dashed\"" : "");
	}
	for (size_t i = 0; i < edges.n; i++) {
		const struct dedge *e = &edges.v[i];
		const struct dnode *f = &nodes.v[e->from], *t = &nodes.v[e->to];
		double share = total ? (double)e->value / total : 0;

		if (!f->id || !t->id || e->value < total * EDGE_FRACTION)
			continue;
		format_value(a, sizeof(a), e->value, unit);
		fprintf(out, "N%d -> N%d [label=\" %s\" weight=%d penwidth=%.2f color=\"#%02x3c28\"]\n",
			f->id, t->id, a, 1 + (int)(100 * share), 1 + 4 * share, 80 + (int)(175 * share));
	}
	fputs("}\n", out);
	vec_free(&nodes);
	vec_free(&edges);
	vec_free(&order);
	hmap_free(&nidx);
	hmap_free(&eidx);
	return ferror(out) ? -EIO : 0;
}
