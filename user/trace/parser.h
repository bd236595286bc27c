/* The trace parser's own header: tokens, the parser state, and what its
 * parts (lex.c, probes.c, parse.c) offer each other. */
#ifndef BPFPROF_TRACE_PARSER_H
#define BPFPROF_TRACE_PARSER_H

#include "trace/trace_user.h"

enum tok_kind { T_END, T_IDENT, T_INT, T_STR, T_MAP, T_VAR, T_PUNCT };

struct tok {
	enum tok_kind kind;
	int pos, len;
	char text[1024];        /* names, punctuation; a string's bytes */
	int strl;               /* a string's length */
	int64_t num;
};

struct parser {
	struct tp_program *p;
	const char *s;
	int pos;
	struct tok t;            /* current token */
	int block;               /* block being parsed */
	int probe_first, probe_n;/* its probes */
	int no_div;              /* parsing a predicate: '/' ends it */
};

#define SUPPORTED_PROBES "BEGIN, END, profile, interval, tracepoint, uprobe, uretprobe, usdt, software, kprobe, kretprobe"

/* An error at [pos, pos+len) of the source; returns -EINVAL. */
#define parse_error_at(ps, pos, len, ...) tp_error((ps)->s, pos, len, __VA_ARGS__)
#define ERR_TOK(ps, ...) parse_error_at(ps, (ps)->t.pos, (ps)->t.len, __VA_ARGS__)

/* The lexer: the next token into ps->t; tests on it. */
void lex_skip_space(struct parser *ps);
int lex_next(struct parser *ps);
bool lex_is(struct parser *ps, const char *punct);
bool lex_is_ident(struct parser *ps, const char *name);
int lex_expect(struct parser *ps, const char *punct);

/* The probe list before a block's '{' (raw text up to it): each probe
 * resolved (globs expanded, files and offsets found) and added. */
int probes_parse_word(struct parser *ps);

/* A C definition (struct, union, enum) at ps->pos, into the program's own
 * BTF (structs) or its constants (enums). */
int tp_cdefs_parse(struct parser *ps);

/* A file's USDT notes (provider, name), allocated into *out; their count. */
struct usdt_note {
	char provider[128];
	char name[256];
};
int tp_usdt_notes(const char *path, struct usdt_note **out);

#endif
