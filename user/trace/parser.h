/* The trace parser's own header: tokens, the parser state, and what its
 * three parts (lex.c, probes.c, parse.c) offer each other. */
#ifndef BPFPROF_TRACE_PARSER_H
#define BPFPROF_TRACE_PARSER_H

#include "trace/trace_user.h"

enum tok_kind { T_END, T_IDENT, T_INT, T_STR, T_MAP, T_PUNCT };

struct tok {
	enum tok_kind kind;
	int pos, len;
	char text[256];
	int64_t num;
};

struct parser {
	struct tp_program *p;
	const char *s;
	int pos;
	struct tok t;            /* current token */
	int block;               /* block being parsed */
	int probe_first, probe_n;/* its probes */
};

#define SUPPORTED_PROBES "BEGIN, END, profile, interval, tracepoint, uprobe, uretprobe, usdt, software"
#define SUPPORTED_STMTS "@map[keys] = count()/sum()/avg()/min()/max()/stats()/hist()/lhist(), " \
	"@map[keys] = value, @map[keys]++, delete(@map[keys]), exit(); print/clear/zero(@map) in BEGIN/END/interval"

/* An error at [pos, pos+len) of the source, as bpftrace prints it (the
 * position, the line, a marker under the construct); returns -EINVAL. */
int parse_error_at(struct parser *ps, int pos, int len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
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
/* args.FIELD of the block's tracepoints, from their format files. */
int probes_field(struct parser *ps, const char *field, int pos, int len, struct tr_src_spec *out);

#endif
