#include "render/render.h"

#include <inttypes.h>
#include <string.h>

static const struct renderer renderers[] = {
	{ "top", ".txt", false, render_top },
	{ "folded", ".folded", false, render_folded },
	{ "pprof", ".pb.gz .pprof .pb", true, render_pprof },
	{ "svg", ".svg", false, render_svg },
	{ "json", ".json", false, render_json },
	{ "dot", ".dot", false, render_dot },
	{ "traces", ".traces", false, render_traces },
	{ "goroutine", ".goroutines", false, render_goroutine },
};
#define NRENDERERS (sizeof(renderers) / sizeof(renderers[0]))

const struct renderer *renderer_find(const char *name)
{
	for (size_t i = 0; i < NRENDERERS; i++)
		if (strcmp(renderers[i].name, name) == 0)
			return &renderers[i];
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

const struct renderer *renderer_for_path(const char *path)
{
	for (size_t i = 0; i < NRENDERERS; i++) {
		char exts[64], *tok, *save = NULL;

		snprintf(exts, sizeof(exts), "%s", renderers[i].exts);
		for (tok = strtok_r(exts, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (ends_with(path, tok))
				return &renderers[i];
	}
	return NULL;
}

const char *renderer_names(void)
{
	static char buf[128];

	if (!buf[0]) {
		for (size_t i = 0; i < NRENDERERS; i++) {
			if (i)
				strcat(buf, "|");
			strcat(buf, renderers[i].name);
		}
	}
	return buf;
}

static void trim_fixed(char *buf, size_t n, double v, const char *suffix)
{
	char num[64], *dot;

	snprintf(num, sizeof(num), "%.2f", v);
	if ((dot = strchr(num, '.'))) {
		char *end = num + strlen(num) - 1;

		while (end > dot && *end == '0')
			*end-- = 0;
		if (end == dot)
			*end = 0;
	}
	snprintf(buf, n, "%s%s", num, suffix);
}

void format_value(char *buf, size_t n, int64_t v, const char *unit)
{
	double a = v < 0 ? -(double)v : (double)v;

	if (v == 0) {
		snprintf(buf, n, "0");
	} else if (!strcmp(unit, "nanoseconds")) {
		if (a >= 1e9)
			trim_fixed(buf, n, v / 1e9, "s");
		else if (a >= 1e6)
			trim_fixed(buf, n, v / 1e6, "ms");
		else if (a >= 1e3)
			trim_fixed(buf, n, v / 1e3, "us");
		else
			snprintf(buf, n, "%" PRId64 "ns", v);
	} else if (!strcmp(unit, "bytes")) {
		if (a >= 1024.0 * 1024 * 1024)
			trim_fixed(buf, n, v / (1024.0 * 1024 * 1024), "GB");
		else if (a >= 1024.0 * 1024)
			trim_fixed(buf, n, v / (1024.0 * 1024), "MB");
		else if (a >= 1024)
			trim_fixed(buf, n, v / 1024.0, "kB");
		else
			snprintf(buf, n, "%" PRId64 "B", v);
	} else {
		snprintf(buf, n, "%" PRId64, v);
	}
}

/* "func file.c:42" (the file's base name), interned in the profile (its
 * string pool is a cache, even for a profile the renderers only read). */
static const char *line_name(struct profile *p, const char *func, const struct pf_line *ln)
{
	const char *base = strrchr(ln->file, '/');

	return strpool_internf(&p->strings, "%s %s:%lld", func, base ? base + 1 : ln->file, (long long)ln->line);
}

void sample_walk_init(struct sample_walk *w, const struct profile *p, int type)
{
	w->lines = false;
	w->p = p;
	w->type = type;
	w->next = 0;
}

bool sample_walk_next(struct sample_walk *w)
{
	const struct profile *p = w->p;
	const struct pf_label *comm;

	while (w->next < p->samples.n) {
		const struct pf_sample *s = &p->samples.v[w->next++];

		if (!s->values[w->type])
			continue;
		w->s = s;
		w->value = s->values[w->type];
		w->n = 0;
		for (uint32_t i = 0; i < s->nlocs; i++) {
			const struct pf_location *loc = &p->locations.v[s->locs[i]];

			for (uint32_t j = 0; j < loc->nlines && w->n < SAMPLE_WALK_FRAMES; j++) {
				w->names[w->n] = loc->lines[j].func ? loc->lines[j].func : "[unknown]";
				if (w->lines && loc->lines[j].file && loc->lines[j].line > 0)
					w->names[w->n] = line_name((struct profile *)p, w->names[w->n], &loc->lines[j]);
				w->kinds[w->n++] = loc->kind;
			}
		}
		comm = sample_label(s, "comm");
		w->comm = comm ? comm->str : NULL;
		return true;
	}
	return false;
}

void render_header(const struct profile *p, const struct render_opts *o, FILE *out, const char *prefix)
{
	const struct pf_value_type *t = &p->types[o->sample_index];
	char total[64], dur[64];

	format_value(total, sizeof(total), profile_total(p, o->sample_index), t->unit);
	format_value(dur, sizeof(dur), p->duration_ns, "nanoseconds");
	fprintf(out, "%s%s%s%s, %s, %s total %s (%zu stacks), lost %" PRIu64,
		prefix, p->command[0] ? p->command : "profile", p->target[0] ? ": " : "",
		p->target, dur, t->type, total, p->samples.n, profile_lost_total(p));
	if (profile_lost_total(p)) {
		const char *sep = " (";

		for (size_t i = 0; i < p->counters.n; i++) {
			if (!p->counters.v[i].value)
				continue;
			fprintf(out, "%s%s %" PRIu64, sep, p->counters.v[i].name, p->counters.v[i].value);
			sep = ", ";
		}
		fputc(')', out);
	}
	fputc('\n', out);
}

void json_string_as(FILE *out, const char *s, bool html_safe)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		/* <, > and & escaped too when the string may sit inside HTML or
		 * CDATA; otherwise newlines as bpftrace writes them. */
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n' && !html_safe)
			fputs("\\n", out);
		else if (*c < 0x20 || (html_safe && (*c == '<' || *c == '>' || *c == '&')))
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

void json_string(FILE *out, const char *s)
{
	json_string_as(out, s, true);
}

void xml_escape(FILE *out, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if (*c >= 0x20 || *c == '\t' || *c == '\n')
				fputc(*c, out);
		}
	}
}
