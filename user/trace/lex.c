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

int tp_error(const char *s, int pos, int len, const char *fmt, ...)
{
	const char *ls = s, *le;
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
		if (ps->s[ps->pos] == '/' && ps->s[ps->pos + 1] == '*') {
			const char *e = strstr(ps->s + ps->pos + 2, "*/");

			ps->pos = e ? (int)(e - ps->s) + 2 : (int)strlen(ps->s);
			continue;
		}
		return;
	}
}

/* A string literal's escapes, as C's. */
static int lex_string(struct parser *ps, struct tok *t)
{
	const char *s = ps->s;
	int start = ps->pos++, n = 0;

	while (s[ps->pos] && s[ps->pos] != '"' && s[ps->pos] != '\n') {
		int c = (unsigned char)s[ps->pos++];

		if (c == '\\') {
			c = (unsigned char)s[ps->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'v': c = '\v'; break;
			case 'e': c = 27; break;
			case '\\': case '"': case '\'': break;
			case 'x': {
				int v = 0, k = 0;

				while (k < 2 && isxdigit((unsigned char)s[ps->pos])) {
					char h = s[ps->pos++];

					v = v * 16 + (isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
					k++;
				}
				if (!k)
					return parse_error_at(ps, ps->pos - 2, 2, "invalid escape sequence");
				c = v;
				break;
			}
			default:
				if (c >= '0' && c <= '7') {
					int v = c - '0', k = 1;

					while (k < 3 && s[ps->pos] >= '0' && s[ps->pos] <= '7')
						v = v * 8 + (s[ps->pos++] - '0'), k++;
					c = v & 0xff;
					break;
				}
				return parse_error_at(ps, ps->pos - 2, 2, "invalid escape character '\\%c'", c ? c : ' ');
			}
		}
		if (n < (int)sizeof(t->text) - 1)
			t->text[n++] = (char)c;
	}
	if (s[ps->pos] != '"')
		return parse_error_at(ps, start, ps->pos - start, "unterminated string");
	ps->pos++;
	t->kind = T_STR;
	t->strl = n;
	t->len = ps->pos - start;
	return 0;
}

int lex_next(struct parser *ps)
{
	static const char *const puncts[] = { "<<=", ">>=", "==", "!=", "<=", ">=", "&&", "||", "++", "--",
					      "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<",
					      ">>", "{", "}", "(", ")", "[", "]", ",", ";", "=", "<", ">",
					      "!", "+", "-", "*", "/", "%", "&", "|", "^", ".", "?", ":",
					      "~", "#", NULL };
	struct tok *t = &ps->t;
	const char *s = ps->s;

	lex_skip_space(ps);
	t->kind = T_END;
	t->len = 0;
	t->num = 0;
	t->strl = 0;
	t->text[0] = 0;
	t->pos = ps->pos;
	if (!s[ps->pos])
		return 0;
	if (s[ps->pos] == '@' || s[ps->pos] == '$' || isalpha((unsigned char)s[ps->pos]) || s[ps->pos] == '_') {
		int start = ps->pos;

		t->kind = s[ps->pos] == '@' ? T_MAP : s[ps->pos] == '$' ? T_VAR : T_IDENT;
		ps->pos++;
		if (t->kind == T_VAR && s[ps->pos] == '#')
			ps->pos++; /* $# */
		else
			while (isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_')
				ps->pos++;
		t->len = ps->pos - start;
		if (t->len >= 256)
			return parse_error_at(ps, start, t->len, "name too long");
		if (t->kind == T_VAR && t->len == 1)
			return parse_error_at(ps, start, 1, "syntax error: '$' must start a variable name");
		memcpy(t->text, s + start, t->len);
		t->text[t->len] = 0;
		return 0;
	}
	if (isdigit((unsigned char)s[ps->pos])) {
		char digits[64], *end;
		int start = ps->pos, n = 0;
		unsigned long long v, mul = 1;

		/* 1_000_000, 0x1f, 1e6, and time suffixes (ns, us, ms, s) as bpftrace */
		while ((isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_') && n < 62) {
			if (s[ps->pos] != '_')
				digits[n++] = s[ps->pos];
			ps->pos++;
		}
		digits[n] = 0;
		errno = 0;
		v = strtoull(digits, &end, 0);
		if (*end == 'e' && isdigit((unsigned char)end[1]) && strncmp(digits, "0x", 2)) {
			int e = atoi(end + 1);

			while (e-- > 0)
				mul *= 10;
			end += strspn(end + 1, "0123456789") + 1;
		}
		if (*end) {
			if (!strcmp(end, "ns")) mul *= 1;
			else if (!strcmp(end, "us")) mul *= 1000ULL;
			else if (!strcmp(end, "ms")) mul *= 1000000ULL;
			else if (!strcmp(end, "s")) mul *= 1000000000ULL;
			else if (!strcmp(end, "m")) mul *= 60000000000ULL;
			else if (!strcmp(end, "h")) mul *= 3600000000000ULL;
			else if (!strcmp(end, "d")) mul *= 86400000000000ULL;
			else if (strcmp(end, "u") && strcmp(end, "ul") && strcmp(end, "ull") && strcmp(end, "l") &&
				 strcmp(end, "ll") && strcmp(end, "U") && strcmp(end, "UL") && strcmp(end, "ULL") &&
				 strcmp(end, "LL") && strcmp(end, "L"))
				return parse_error_at(ps, start, ps->pos - start, "invalid integer '%.*s'",
						      ps->pos - start, s + start);
		}
		if (errno)
			return parse_error_at(ps, start, ps->pos - start, "integer too large");
		t->kind = T_INT;
		t->num = (int64_t)(v * mul);
		t->len = ps->pos - start;
		return 0;
	}
	if (s[ps->pos] == '\'' && s[ps->pos + 1] && s[ps->pos + 2] == '\'') {
		t->kind = T_INT;
		t->num = (unsigned char)s[ps->pos + 1];
		t->len = 3;
		ps->pos += 3;
		return 0;
	}
	if (s[ps->pos] == '"')
		return lex_string(ps, t);
	for (int i = 0; puncts[i]; i++) {
		size_t l = strlen(puncts[i]);

		if (!strncmp(s + ps->pos, puncts[i], l)) {
			t->kind = T_PUNCT;
			t->len = (int)l;
			memcpy(t->text, puncts[i], l + 1);
			ps->pos += (int)l;
			return 0;
		}
	}
	return parse_error_at(ps, ps->pos, 1, "syntax error: unexpected character '%c'", s[ps->pos]);
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
