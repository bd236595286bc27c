/* Renderers read only the profile model. Adding a format = one file with a
 * render function + one row in the table in render.c. */
#ifndef BPFPROF_RENDER_H
#define BPFPROF_RENDER_H

#include "model/profile.h"

struct render_opts {
	int sample_index;   /* which value top/folded/svg/dot show */
	int top_n;          /* top: rows to print, 0 = all */
	bool lines;         /* --lines: a frame per source line ("func file.c:42") */
	const struct profile *base; /* folded: "stack BASE NEW" per stack (report --base) */
};

struct renderer {
	const char *name;
	const char *exts;   /* space-separated file extensions that select it */
	bool binary;        /* never written to a terminal */
	int (*render)(const struct profile *p, const struct render_opts *o, FILE *out);
};

const struct renderer *renderer_find(const char *name);
const struct renderer *renderer_for_path(const char *path); /* NULL if no match */
const char *renderer_names(void); /* "top|folded|..." for messages */

/* "3.49s", "12ms", "1.5MB", "42": a value in its unit, for people. */
void format_value(char *buf, size_t n, int64_t v, const char *unit);

/* The one walk over a profile's samples for the stack renderers: each
 * sample with a non-zero value of the chosen type, its frames leaf first
 * (inlined lines expanded; at most SAMPLE_WALK_FRAMES) and its comm. */
#define SAMPLE_WALK_FRAMES 1024
struct sample_walk {
	const struct profile *p;
	int type;
	size_t next;
	const struct pf_sample *s;   /* the current sample */
	int64_t value;
	const char *comm;            /* its "comm" label, or NULL */
	bool lines;                  /* name frames "func file.c:42" (set after init) */
	size_t n;                    /* frames */
	const char *names[SAMPLE_WALK_FRAMES];
	uint8_t kinds[SAMPLE_WALK_FRAMES];
};
void sample_walk_init(struct sample_walk *w, const struct profile *p, int type);
bool sample_walk_next(struct sample_walk *w);

int render_top(const struct profile *p, const struct render_opts *o, FILE *out);
int render_pprof(const struct profile *p, const struct render_opts *o, FILE *out);
int render_svg(const struct profile *p, const struct render_opts *o, FILE *out);
int render_json(const struct profile *p, const struct render_opts *o, FILE *out);
int render_dot(const struct profile *p, const struct render_opts *o, FILE *out);
int render_folded(const struct profile *p, const struct render_opts *o, FILE *out);
int render_traces(const struct profile *p, const struct render_opts *o, FILE *out);
int render_goroutine(const struct profile *p, const struct render_opts *o, FILE *out);
/* report --list: the source of the functions matching regex, with values per line;
 * -ENOENT (after a one-line error) when none matches, -EINVAL for a bad regex. */
int render_list(const struct profile *p, const struct render_opts *o, const char *regex, FILE *out);
/* A quoted JSON string (also safe inside HTML/CDATA), and XML text. */
void json_string(FILE *out, const char *s);
/* Same; html_safe false: only what JSON needs (bpftrace's NDJSON, trace). */
void json_string_as(FILE *out, const char *s, bool html_safe);
void xml_escape(FILE *out, const char *s);
/* The header line every text renderer shares. */
void render_header(const struct profile *p, const struct render_opts *o, FILE *out, const char *prefix);

#endif
