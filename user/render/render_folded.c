/* folded: "comm;root;...;leaf VALUE", kernel frames suffixed _[k], one line
 * per distinct stack, as flamegraph.pl, inferno and speedscope read it. */
#include "render/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


struct folded_line {
	const char *text;
	int64_t value, base;
};

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

/* Frame names may not contain the separators (';' between frames, ' '
 * before the value): those characters are replaced. */
static void put_frame(char **buf, size_t *len, size_t *cap, const char *name, const char *suffix)
{
	size_t need = strlen(name) + strlen(suffix) + 2;

	if (*len + need >= *cap) {
		*cap = (*len + need) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	for (const char *c = name; *c; c++)
		(*buf)[(*len)++] = (*c == ';' || *c == '\n') ? ':' : (*c == ' ' ? '_' : *c);
	memcpy(*buf + *len, suffix, strlen(suffix));
	*len += strlen(suffix);
	(*buf)[*len] = 0;
}

/* Adds one profile's stacks to the lines (into .value, or .base). */
static void fold(const struct profile *p, int type, bool by_line, bool into_base, struct strpool *pool,
		 struct hmap *index, void *lines_vec, char **buf, size_t *cap)
{
	VEC(struct folded_line) *lines = lines_vec;
	struct sample_walk w;
	size_t len;

	sample_walk_init(&w, p, type);
	w.lines = by_line;
	while (sample_walk_next(&w)) {
		const char *text;
		bool found;
		uint64_t *slot;

		len = 0;
		(*buf)[0] = 0;
		if (w.comm)
			put_frame(buf, &len, cap, w.comm, "");
		for (size_t j = w.n; j-- > 0;) {
			if (len)
				put_frame(buf, &len, cap, "", ";");
			put_frame(buf, &len, cap, w.names[j], w.kinds[j] == PF_FRAME_KERNEL ? "_[k]" : "");
		}
		text = strpool_intern(pool, *buf);
		slot = hmap_upsert(index, (uintptr_t)text, 0, lines->n, &found);
		if (!found)
			vec_push(lines, ((struct folded_line){ text, 0, 0 }));
		if (into_base)
			lines->v[*slot].base += w.value;
		else
			lines->v[*slot].value += w.value;
	}
}

int render_folded(const struct profile *p, const struct render_opts *o, FILE *out)
{
	struct strpool pool = { 0 };
	struct hmap index = { 0 };
	VEC(struct folded_line) lines = { 0 };
	size_t cap = 4096;
	char *buf = xmalloc(cap);
	int btype = o->base ? profile_type_index(o->base, p->types[o->sample_index].type) : -1;

	fold(p, o->sample_index, o->lines, false, &pool, &index, &lines, &buf, &cap);
	/* Differential (report --base): "stack BASE NEW", the two-column form
	 * flamegraph.pl draws as a differential flame graph. */
	if (o->base && btype >= 0)
		fold(o->base, btype, o->lines, true, &pool, &index, &lines, &buf, &cap);
	vec_sort(&lines, cmp_lines);
	for (size_t i = 0; i < lines.n; i++) {
		const char *text = lines.v[i].text[0] ? lines.v[i].text : "[no stack]";

		if (o->base)
			fprintf(out, "%s %" PRId64 " %" PRId64 "\n", text, lines.v[i].base, lines.v[i].value);
		else
			fprintf(out, "%s %" PRId64 "\n", text, lines.v[i].value);
	}
	free(buf);
	vec_free(&lines);
	hmap_free(&index);
	strpool_free(&pool);
	return ferror(out) ? -EIO : 0;
}
