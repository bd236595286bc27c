/* json: one JSON document per profile, on one line (so intervals stream as
 * NDJSON). Schema: docs/profile.schema.json, described in docs/formats.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

static const char *kind_name(int kind)
{
	return kind == PF_FRAME_KERNEL ? "kernel" : kind == PF_FRAME_USER ? "user" : "unknown";
}

static void value_type(FILE *out, const struct pf_value_type *vt)
{
	fputs("{\"type\":", out);
	json_string(out, vt->type ? vt->type : "");
	fputs(",\"unit\":", out);
	json_string(out, vt->unit ? vt->unit : "");
	fputc('}', out);
}

int render_json(const struct profile *p, const struct render_opts *o, FILE *out)
{
	/* Frame table: one entry per (location, inlined line), so a location
	 * with inlined calls expands like it does in top and folded. */
	uint32_t *base = xcalloc(p->locations.n + 1, sizeof(*base));
	uint32_t nframes = 0;

	fputs("{\"format\":\"bpfprof-profile\",\"version\":1,\"command\":", out);
	json_string(out, p->command);
	fputs(",\"target\":", out);
	json_string(out, p->target);
	fprintf(out, ",\"time_nanos\":%" PRId64 ",\"duration_nanos\":%" PRId64 ",\"sample_types\":[",
		p->time_ns, p->duration_ns);
	for (int i = 0; i < p->ntypes; i++) {
		if (i)
			fputc(',', out);
		value_type(out, &p->types[i]);
	}
	fputs("],\"default_sample_type\":", out);
	json_string(out, p->ntypes ? p->types[p->default_type].type : "");
	fputs(",\"period_type\":", out);
	value_type(out, &p->period_type);
	fprintf(out, ",\"period\":%" PRId64 ",\"lost\":{", p->period);
	for (size_t i = 0; i < p->counters.n; i++) {
		if (i)
			fputc(',', out);
		json_string(out, p->counters.v[i].name);
		fprintf(out, ":%" PRIu64, p->counters.v[i].value);
	}
	fputs("},\"frames\":[", out);
	for (size_t i = 0; i < p->locations.n; i++) {
		const struct pf_location *loc = &p->locations.v[i];
		const struct pf_mapping *m = loc->mapping ? &p->mappings.v[loc->mapping - 1] : NULL;

		base[i] = nframes;
		for (uint32_t j = 0; j < loc->nlines; j++, nframes++) {
			if (nframes)
				fputc(',', out);
			fputs("{\"function\":", out);
			json_string(out, loc->lines[j].func ? loc->lines[j].func : "[unknown]");
			fputs(",\"module\":", out);
			if (m && m->file && m->file[0])
				json_string(out, m->file);
			else
				fputs("null", out);
			fprintf(out, ",\"address\":\"0x%" PRIx64 "\"", loc->addr);
			if (m && !m->kernel && loc->addr >= m->start)
				fprintf(out, ",\"offset\":\"0x%" PRIx64 "\"", loc->addr - m->start + m->offset);
			fprintf(out, ",\"kind\":\"%s\"", kind_name(loc->kind));
			if (loc->lines[j].file && loc->lines[j].file[0]) {
				fputs(",\"file\":", out);
				json_string(out, loc->lines[j].file);
				fprintf(out, ",\"line\":%" PRId64, loc->lines[j].line);
			}
			if (j + 1 < loc->nlines)
				fputs(",\"inlined\":true", out);
			fputc('}', out);
		}
	}
	fputs("],\"samples\":[", out);
	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];
		bool first = true;

		fputs(i ? ",{\"stack\":[" : "{\"stack\":[", out);
		for (uint32_t j = 0; j < s->nlocs; j++) {
			const struct pf_location *loc = &p->locations.v[s->locs[j]];

			for (uint32_t k = 0; k < loc->nlines; k++) {
				fprintf(out, "%s%u", first ? "" : ",", base[s->locs[j]] + k);
				first = false;
			}
		}
		fputs("],\"values\":[", out);
		for (int j = 0; j < p->ntypes; j++)
			fprintf(out, "%s%" PRId64, j ? "," : "", s->values[j]);
		fputs("],\"labels\":{", out);
		for (uint32_t j = 0; j < s->nlabels; j++) {
			if (j)
				fputc(',', out);
			json_string(out, s->labels[j].key);
			fputc(':', out);
			if (s->labels[j].str)
				json_string(out, s->labels[j].str);
			else
				fprintf(out, "%" PRId64, s->labels[j].num);
		}
		fputs("}}", out);
	}
	fputs("]}\n", out);
	free(base);
	(void)o;
	return ferror(out) ? -EIO : 0;
}
