/* folded: "comm;root;...;leaf VALUE", kernel frames suffixed _[k], one line
 * per distinct stack, as flamegraph.pl, inferno and speedscope read it. */
#include "render/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


struct folded_line {
	const char *text;
	int64_t value;
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

int render_folded(const struct profile *p, const struct render_opts *o, FILE *out)
{
	struct strpool pool = { 0 };
	struct hmap index = { 0 };
	VEC(struct folded_line) lines = { 0 };
	struct sample_walk w;
	size_t cap = 4096, len;
	char *buf = xmalloc(cap);

	sample_walk_init(&w, p, o->sample_index);
	w.lines = o->lines;
	while (sample_walk_next(&w)) {
		const char *text;
		bool found;
		uint64_t *slot;

		len = 0;
		buf[0] = 0;
		if (w.comm)
			put_frame(&buf, &len, &cap, w.comm, "");
		for (size_t j = w.n; j-- > 0;) {
			if (len)
				put_frame(&buf, &len, &cap, "", ";");
			put_frame(&buf, &len, &cap, w.names[j], w.kinds[j] == PF_FRAME_KERNEL ? "_[k]" : "");
		}
		text = strpool_intern(&pool, buf);
		slot = hmap_upsert(&index, (uintptr_t)text, 0, lines.n, &found);
		if (!found)
			vec_push(&lines, ((struct folded_line){ text, 0 }));
		lines.v[*slot].value += w.value;
	}
	vec_sort(&lines, cmp_lines);
	for (size_t i = 0; i < lines.n; i++)
		fprintf(out, "%s %" PRId64 "\n", lines.v[i].text[0] ? lines.v[i].text : "[no stack]",
			lines.v[i].value);
	free(buf);
	vec_free(&lines);
	hmap_free(&index);
	strpool_free(&pool);
	return ferror(out) ? -EIO : 0;
}
