/* top: like `go tool pprof -top`, functions by flat value. */
#include "render/render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fn_row {
	const char *name;
	int64_t flat, cum;
	size_t last_sample; /* counts cum once per sample */
};

static int cmp_rows(const void *a, const void *b)
{
	const struct fn_row *x = a, *y = b;

	/* By size: a differential profile's shrinkage (negative) ranks with its growth. */
	int64_t xf = x->flat < 0 ? -x->flat : x->flat, yf = y->flat < 0 ? -y->flat : y->flat;
	int64_t xc = x->cum < 0 ? -x->cum : x->cum, yc = y->cum < 0 ? -y->cum : y->cum;

	if (xf != yf)
		return xf > yf ? -1 : 1;
	if (xc != yc)
		return xc > yc ? -1 : 1;
	return strcmp(x->name, y->name);
}


int render_top(const struct profile *p, const struct render_opts *o, FILE *out)
{
	VEC(struct fn_row) rows = { 0 };
	struct hmap index = { 0 };
	struct sample_walk w;
	const char *unit = p->types[o->sample_index].unit;
	int64_t total = profile_total(p, o->sample_index), sum = 0;
	/* Differential (--base): percentages of the base, as pprof's -diff_base. */
	int btype = o->base ? profile_type_index(o->base, p->types[o->sample_index].type) : -1;
	int64_t denom = btype >= 0 ? profile_total(o->base, btype) : total;
	char a[32], b[32], safe[1024];
	size_t shown;

	sample_walk_init(&w, p, o->sample_index);
	w.lines = o->lines;
	while (sample_walk_next(&w)) {
		int64_t v = w.value;
		size_t n = w.n, i = w.next; /* counted once per sample */
		const char **names = w.names;

		for (size_t j = 0; j < n; j++) {
			bool found;
			uint64_t *slot = hmap_upsert(&index, (uintptr_t)names[j], 0, rows.n, &found);
			struct fn_row *r;

			if (!found)
				vec_push(&rows, ((struct fn_row){ names[j], 0, 0, SIZE_MAX }));
			r = &rows.v[*slot];
			if (j == 0)
				r->flat += v;
			if (r->last_sample != i) {
				r->cum += v;
				r->last_sample = i;
			}
		}
	}
	vec_sort(&rows, cmp_rows);

	render_header(p, o, out, "");
	format_value(a, sizeof(a), total, unit);
	shown = o->top_n > 0 && (size_t)o->top_n < rows.n ? (size_t)o->top_n : rows.n;
	fprintf(out, "Showing top %zu of %zu functions, %s total\n", shown, rows.n, a);
	fprintf(out, "%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
	for (size_t i = 0; i < shown; i++) {
		const struct fn_row *r = &rows.v[i];
		double t = denom ? (double)denom : 1;

		sum += r->flat;
		format_value(a, sizeof(a), r->flat, unit);
		format_value(b, sizeof(b), r->cum, unit);
		fprintf(out, "%10s %5.2f%% %5.2f%% %10s %5.2f%%  %s\n", a, 100.0 * r->flat / t,
			100.0 * sum / t, b, 100.0 * r->cum / t, text_safe(r->name, safe, sizeof(safe)));
	}
	vec_free(&rows);
	hmap_free(&index);
	return ferror(out) ? -EIO : 0;
}
