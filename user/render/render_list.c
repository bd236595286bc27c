/* report --list REGEX: the source of the functions whose names match, with
 * the chosen value per line (flat: the line was running; cum: on the
 * stack), as `go tool pprof -list` prints it. Lines come from the profile
 * (DWARF or Go's table at collection); the source is read from the file
 * the profile names when it exists here, else only the lines with values
 * are printed, and said so. */
#include "render/render.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct line_row {
	int64_t line, flat, cum;
	size_t last;   /* the sample that added cum last */
};

struct func_rows {
	const char *func, *file;
	VEC(struct line_row) rows;
	int64_t flat, cum;
};

static struct line_row *row_of(struct func_rows *f, int64_t line)
{
	for (size_t i = 0; i < f->rows.n; i++)
		if (f->rows.v[i].line == line)
			return &f->rows.v[i];
	vec_push(&f->rows, ((struct line_row){ line, 0, 0, SIZE_MAX }));
	return &f->rows.v[f->rows.n - 1];
}

static int cmp_rows(const void *a, const void *b)
{
	const struct line_row *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* Tabs to spaces (8-column stops), for a terminal and for text_safe. */
static void expand_tabs(const char *in, char *out, size_t n)
{
	size_t col = 0;

	for (; *in && col + 9 < n; in++) {
		if (*in == '\t') {
			do
				out[col++] = ' ';
			while (col % 8);
		} else {
			out[col++] = *in;
		}
	}
	out[col] = 0;
}

static void print_func(const struct func_rows *f, const char *unit, FILE *out)
{
	char a[32], b[32], safe[1024], text_buf[2048], *text = NULL;
	int64_t lo = f->rows.v[0].line, hi = f->rows.v[f->rows.n - 1].line, n = 0;
	size_t len = 0, r = 0;
	FILE *src = f->file ? fopen(f->file, "r") : NULL;

	format_value(a, sizeof(a), f->flat, unit);
	format_value(b, sizeof(b), f->cum, unit);
	fprintf(out, "ROUTINE ======================== %s in %s\n", text_safe(f->func, safe, sizeof(safe)),
		f->file ? text_safe(f->file, safe, sizeof(safe)) : "(no file)");
	fprintf(out, "%10s %10s (flat, cum)\n", a, b);
	if (!src) {
		fprintf(out, "    (source not found here: the lines with values only)\n");
		for (size_t i = 0; i < f->rows.n; i++) {
			format_value(a, sizeof(a), f->rows.v[i].flat, unit);
			format_value(b, sizeof(b), f->rows.v[i].cum, unit);
			fprintf(out, "%10s %10s %6" PRId64 ": \n", a, b, f->rows.v[i].line);
		}
		return;
	}
	/* The lines with values and a few around them. */
	lo = lo > 3 ? lo - 3 : 1;
	hi += 3;
	while (getline(&text, &len, src) > 0 && ++n <= hi) {
		if (n < lo)
			continue;
		while (r < f->rows.n && f->rows.v[r].line < n)
			r++;
		if (r < f->rows.n && f->rows.v[r].line == n) {
			format_value(a, sizeof(a), f->rows.v[r].flat, unit);
			format_value(b, sizeof(b), f->rows.v[r].cum, unit);
		} else {
			snprintf(a, sizeof(a), ".");
			snprintf(b, sizeof(b), ".");
		}
		text[strcspn(text, "\n")] = 0;
		expand_tabs(text, safe, sizeof(safe));
		fprintf(out, "%10s %10s %6" PRId64 ": %s\n", a, b, n, text_safe(safe, text_buf, sizeof(text_buf)));
	}
	free(text);
	fclose(src);
}

int render_list(const struct profile *p, const struct render_opts *o, const char *regex, FILE *out)
{
	VEC(struct func_rows) funcs = { 0 };
	regex_t re;
	const char *unit = p->types[o->sample_index].unit;
	int err = 0;

	if (regcomp(&re, regex, REG_EXTENDED | REG_NOSUB)) {
		err_msg("--list '%s': not a regular expression", regex);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];
		int64_t v = s->values[o->sample_index];
		bool leaf = true;

		if (!v)
			continue;
		for (uint32_t j = 0; j < s->nlocs; j++) {
			const struct pf_location *loc = &p->locations.v[s->locs[j]];

			for (uint32_t k = 0; k < loc->nlines; k++, leaf = false) {
				const struct pf_line *ln = &loc->lines[k];
				struct func_rows *f = NULL;
				struct line_row *row;

				if (!ln->func || ln->line <= 0 || regexec(&re, ln->func, 0, NULL, 0))
					continue;
				for (size_t m = 0; m < funcs.n && !f; m++)
					if (funcs.v[m].func == ln->func && funcs.v[m].file == ln->file)
						f = &funcs.v[m];
				if (!f) {
					vec_push(&funcs, ((struct func_rows){ ln->func, ln->file }));
					f = &funcs.v[funcs.n - 1];
				}
				row = row_of(f, ln->line);
				if (leaf) {
					row->flat += v;
					f->flat += v;
				}
				if (row->last != i) {
					row->cum += v;
					row->last = i;
				}
			}
		}
		/* a function's cum: once per sample */
		for (size_t m = 0; m < funcs.n; m++) {
			bool seen = false;

			for (size_t r = 0; r < funcs.v[m].rows.n; r++)
				seen |= funcs.v[m].rows.v[r].last == i;
			funcs.v[m].cum += seen ? v : 0;
		}
	}
	regfree(&re);
	if (!funcs.n) {
		err_msg("--list '%s': no function with source lines matches", regex);
		err = -ENOENT;
	}
	if (funcs.n) {
		char t[32];

		format_value(t, sizeof(t), profile_total(p, o->sample_index), unit);
		fprintf(out, "Total: %s\n", t);
	}
	for (size_t m = 0; m < funcs.n; m++) {
		qsort(funcs.v[m].rows.v, funcs.v[m].rows.n, sizeof(struct line_row), cmp_rows);
		print_func(&funcs.v[m], unit, out);
		vec_free(&funcs.v[m].rows);
	}
	vec_free(&funcs);
	return err ? err : (ferror(out) ? -EIO : 0);
}
