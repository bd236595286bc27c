/* traces: every sample on its own, its labels then its stack, leaf first —
 * like `go tool pprof -traces`, and shaped for `dump`, where a sample is a
 * thread: "thread 1235 (worker) state=S offcpu=2.3s syscall=read(fd=3, ...)"
 * then its frames as a debugger prints them. */
#include "render/render.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static void put_label(const struct profile *p, const struct pf_label *l, FILE *out)
{
	char safe[1024], v[64];
	size_t klen = strlen(l->key);

	if (l->str) {
		fprintf(out, " %s=%s", l->key, text_safe(l->str, safe, sizeof(safe)));
	} else if (klen > 3 && !strcmp(l->key + klen - 3, "_ns")) {
		/* a duration: shown in its unit, named without the suffix */
		format_value(v, sizeof(v), l->num, "nanoseconds");
		fprintf(out, " %.*s=%s", (int)(klen - 3), l->key, v);
	} else {
		fprintf(out, " %s=%" PRId64, l->key, l->num);
	}
}

int render_traces(const struct profile *p, const struct render_opts *o, FILE *out)
{
	const struct pf_value_type *t = &p->types[o->sample_index];
	bool show_value = strcmp(t->unit, "count") != 0;
	struct sample_walk w;
	char safe[1024], v[64];

	render_header(p, o, out, "");
	sample_walk_init(&w, p, o->sample_index);
	w.lines = o->lines;
	while (sample_walk_next(&w)) {
		const struct pf_label *tid = sample_label(w.s, "tid"), *pid = sample_label(w.s, "pid");

		fputc('\n', out);
		if (tid)
			fprintf(out, "thread %" PRId64, tid->num);
		else if (pid)
			fprintf(out, "process %" PRId64, pid->num);
		else
			fprintf(out, "sample");
		if (w.comm)
			fprintf(out, " (%s)", text_safe(w.comm, safe, sizeof(safe)));
		if (pid && tid && pid->num != tid->num)
			fprintf(out, " pid=%" PRId64, pid->num);
		for (uint32_t i = 0; i < w.s->nlabels; i++) {
			const struct pf_label *l = &w.s->labels[i];

			if (strcmp(l->key, "pid") && strcmp(l->key, "tid") && strcmp(l->key, "comm"))
				put_label(p, l, out);
		}
		if (show_value || w.value != 1) {
			format_value(v, sizeof(v), w.value, t->unit);
			fprintf(out, " %s=%s", t->type, v);
		}
		fputc('\n', out);
		if (!w.n)
			fprintf(out, "    (no stack)\n");
		for (size_t i = 0; i < w.n; i++)
			fprintf(out, "  #%-3zu %s%s\n", i, text_safe(w.names[i], safe, sizeof(safe)),
				w.kinds[i] == PF_FRAME_KERNEL ? " [k]" : "");
	}
	return ferror(out) ? -EIO : 0;
}
