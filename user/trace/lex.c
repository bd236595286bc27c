/* trace: the lexer and bpftrace-shaped error messages. */
#include "trace/parser.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>

/* ---- errors ------------------------------------------------------------- */

int parse_error_at(struct parser *ps, int pos, int len, const char *fmt, ...)
{
	const char *s = ps->s, *ls = s, *le;
	int line = 1;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (int i = 0; i < pos && s[i]; i++) {
		if (s[i] == '\n') {
			line++;
			ls = s + i + 1;
		}
	}
	le = strchr(ls, '\n');
	if (!le)
		le = ls + strlen(ls);
	if (len < 1)
		len = 1;
	int col = (int)(s + pos - ls);

	/* bpftrace's shape: position, the line, a marker under the construct. */
	fprintf(stderr, "stdin:%d:%d-%d: ERROR: %s\n%.*s\n%*s", line, col + 1, col + len + 1, msg,
		(int)(le - ls), ls, col, "");
	for (int i = 0; i < len && ls + col + i < le; i++)
		fputc(i ? '~' : '^', stderr);
	fputc('\n', stderr);
	return -EINVAL;
}


/* ---- lexer ---------------------------------------------------------------- */

void lex_skip_space(struct parser *ps)
{
	for (;;) {
		while (isspace((unsigned char)ps->s[ps->pos]))
			ps->pos++;
		if (ps->s[ps->pos] == '/' && ps->s[ps->pos + 1] == '/') {
			while (ps->s[ps->pos] && ps->s[ps->pos] != '\n')
				ps->pos++;
			continue;
		}
		return;
	}
}

int lex_next(struct parser *ps)
{
	static const char *const puncts[] = { "==", "!=", "<=", ">=", "&&", "||", "++", "--", "->", "+=",
					      "-=", "<<", ">>", "{", "}", "(", ")", "[", "]", ",", ";", "=",
					      "<", ">", "!", "+", "-", "*", "/", "%", "&", "|", "^", ".",
					      "?", ":", "$", "~", NULL };
	struct tok *t = &ps->t;
	const char *s = ps->s;

	lex_skip_space(ps);
	memset(t, 0, sizeof(*t));
	t->pos = ps->pos;
	if (!s[ps->pos]) {
		t->kind = T_END;
		return 0;
	}
	if (s[ps->pos] == '@' || isalpha((unsigned char)s[ps->pos]) || s[ps->pos] == '_') {
		int start = ps->pos;

		t->kind = s[ps->pos] == '@' ? T_MAP : T_IDENT;
		ps->pos++;
		while (isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_')
			ps->pos++;
		t->len = ps->pos - start;
		if (t->len >= (int)sizeof(t->text))
			return parse_error_at(ps, start, t->len, "name too long");
		memcpy(t->text, s + start, t->len);
		return 0;
	}
	if (isdigit((unsigned char)s[ps->pos])) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(s + ps->pos, &end, 0);
		if (errno || (isalnum((unsigned char)*end) && *end != 'e'))
			return parse_error_at(ps, ps->pos, (int)(end - (s + ps->pos)) + 1, "bad number");
		t->kind = T_INT;
		t->num = (int64_t)v;
		t->len = (int)(end - (s + ps->pos));
		ps->pos += t->len;
		return 0;
	}
	if (s[ps->pos] == '"') {
		int start = ps->pos++, n = 0;

		while (s[ps->pos] && s[ps->pos] != '"' && s[ps->pos] != '\n') {
			if (n < (int)sizeof(t->text) - 1)
				t->text[n++] = s[ps->pos];
			ps->pos++;
		}
		if (s[ps->pos] != '"')
			return parse_error_at(ps, start, ps->pos - start, "unterminated string");
		ps->pos++;
		t->kind = T_STR;
		t->len = ps->pos - start;
		return 0;
	}
	for (int i = 0; puncts[i]; i++) {
		size_t l = strlen(puncts[i]);

		if (!strncmp(s + ps->pos, puncts[i], l)) {
			t->kind = T_PUNCT;
			t->len = (int)l;
			memcpy(t->text, puncts[i], l);
			ps->pos += (int)l;
			return 0;
		}
	}
	return parse_error_at(ps, ps->pos, 1, "unexpected character '%c'", s[ps->pos]);
}

bool lex_is(struct parser *ps, const char *punct)
{
	return ps->t.kind == T_PUNCT && !strcmp(ps->t.text, punct);
}

bool lex_is_ident(struct parser *ps, const char *name)
{
	return ps->t.kind == T_IDENT && !strcmp(ps->t.text, name);
}

int lex_expect(struct parser *ps, const char *punct)
{
	if (!lex_is(ps, punct))
		return ERR_TOK(ps, "syntax error: expected '%s'", punct);
	return lex_next(ps);
}
