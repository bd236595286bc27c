/* trace: the grammar of bpftrace's language into a syntax tree (struct
 * node). Probe words are resolved as they are read (probes.c); types,
 * builtins and maps are checked afterwards (sema.c). */
#include "trace/parser.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>

static struct node *mk(struct parser *ps, enum node_kind k, int pos, int len)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->k = k;
	n->pos = pos;
	n->len = len;
	vec_push(&ps->p->nodes, n);
	return n;
}

static char *keep_str(struct parser *ps, const char *s, int len)
{
	char *c = xmalloc((size_t)len + 1);

	memcpy(c, s, (size_t)len);
	c[len] = 0;
	vec_push(&ps->p->allocs, (void *)c);
	return c;
}

static void span_to(struct parser *ps, struct node *n)
{
	/* up to the end of the last token read */
	int end = ps->t.pos;

	while (end > n->pos && isspace((unsigned char)ps->s[end - 1]))
		end--;
	if (end > n->pos)
		n->len = end - n->pos;
}

static int parse_expr(struct parser *ps, struct node **out);
static int parse_unary(struct parser *ps, struct node **out);
static int parse_block_body(struct parser *ps, struct node **out);

/* C type names for casts: (uint32)x, (int8)x, (struct foo *)p. */
static bool is_type_word(const char *w)
{
	static const char *const names[] = { "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
					      "uint64", "int", "char", "short", "long", "unsigned", "signed",
					      "struct", "union", "enum", "void", "bool", "u8", "u16", "u32",
					      "u64", "s8", "s16", "s32", "s64", "string", "inet", "buffer", NULL };

	for (int i = 0; names[i]; i++)
		if (!strcmp(w, names[i]))
			return true;
	return false;
}

/* After '(' at a type word: the type's text up to ')' into n->str. */
static int parse_cast(struct parser *ps, int pos, struct node **out)
{
	char text[256] = "";
	struct node *n;
	int err;

	while (!lex_is(ps, ")")) {
		if (ps->t.kind != T_IDENT && !lex_is(ps, "*") && !(ps->t.kind == T_INT) && !lex_is(ps, "[") &&
		    !lex_is(ps, "]"))
			return ERR_TOK(ps, "syntax error: unexpected '%s' in a cast", ps->t.text);
		if (strlen(text) + strlen(ps->t.text) + 2 >= sizeof(text))
			return ERR_TOK(ps, "type name too long");
		if (text[0] && ps->t.kind == T_IDENT)
			strcat(text, " ");
		if (ps->t.kind == T_INT)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%lld", (long long)ps->t.num);
		else
			strcat(text, ps->t.text);
		if ((err = lex_next(ps)))
			return err;
	}
	if ((err = lex_next(ps)))
		return err;
	n = mk(ps, N_CAST, pos, 0);
	n->str = keep_str(ps, text, (int)strlen(text));
	if ((err = parse_unary(ps, &n->a)) < 0) /* binds as a unary operator */
		return err;
	span_to(ps, n);
	*out = n;
	return 0;
}

/* Arguments of a call or keys of a map: '(' or '[' already read. */
static int parse_list(struct parser *ps, struct node *n, const char *close)
{
	int err, saved = ps->no_div;

	ps->no_div = 0;
	while (!lex_is(ps, close)) {
		struct node *a;

		if ((err = parse_expr(ps, &a)))
			return err;
		vec_push(&n->kids, a);
		if (lex_is(ps, ","))
			err = lex_next(ps);
		else if (!lex_is(ps, close))
			err = ERR_TOK(ps, "syntax error: expected ',' or '%s'", close);
		if (err)
			return err;
	}
	ps->no_div = saved;
	return lex_next(ps);
}

static int parse_primary(struct parser *ps, struct node **out)
{
	struct tok t = ps->t;
	struct node *n;
	int err;

	switch (t.kind) {
	case T_INT:
		n = mk(ps, N_INT, t.pos, t.len);
		n->num = t.num;
		*out = n;
		return lex_next(ps);
	case T_STR:
		n = mk(ps, N_STR, t.pos, t.len);
		n->str = keep_str(ps, t.text, t.strl);
		n->strl = t.strl;
		*out = n;
		return lex_next(ps);
	case T_VAR:
		if (isdigit((unsigned char)t.text[1]) || t.text[1] == '#') {
			n = mk(ps, N_POSPARAM, t.pos, t.len);
			n->num = t.text[1] == '#' ? -1 : atoi(t.text + 1);
		} else {
			n = mk(ps, N_VAR, t.pos, t.len);
		}
		n->str = keep_str(ps, t.text, t.len);
		*out = n;
		return lex_next(ps);
	case T_MAP:
		n = mk(ps, N_MAP, t.pos, t.len);
		n->str = keep_str(ps, t.text, t.len);
		if ((err = lex_next(ps)))
			return err;
		if (lex_is(ps, "[")) {
			if ((err = lex_next(ps)) || (err = parse_list(ps, n, "]")))
				return err;
			if (!n->kids.n)
				return parse_error_at(ps, t.pos, ps->t.pos - t.pos, "syntax error: empty map key");
		}
		span_to(ps, n);
		*out = n;
		return 0;
	case T_IDENT:
		if ((err = lex_next(ps)))
			return err;
		if (lex_is(ps, "(")) {
			n = mk(ps, N_CALL, t.pos, t.len);
			n->str = keep_str(ps, t.text, t.len);
			if ((err = lex_next(ps)))
				return err;
			if (!strcmp(t.text, "offsetof") && ps->t.kind == T_IDENT && is_type_word(ps->t.text)) {
				/* offsetof(struct X, field): the type's words, then the field */
				char text[256] = "";
				struct node *ty = mk(ps, N_BUILTIN, ps->t.pos, 0), *f;

				while (!lex_is(ps, ",") && ps->t.kind != T_END) {
					if (strlen(text) + strlen(ps->t.text) + 2 < sizeof(text)) {
						if (text[0])
							strcat(text, " ");
						strcat(text, ps->t.text);
					}
					if ((err = lex_next(ps)))
						return err;
				}
				if ((err = lex_expect(ps, ",")))
					return err;
				if (ps->t.kind != T_IDENT)
					return ERR_TOK(ps, "syntax error: offsetof(TYPE, FIELD)");
				ty->str = keep_str(ps, text, (int)strlen(text));
				f = mk(ps, N_BUILTIN, ps->t.pos, ps->t.len);
				f->str = keep_str(ps, ps->t.text, ps->t.len);
				vec_push(&n->kids, ty);
				vec_push(&n->kids, f);
				if ((err = lex_next(ps)) || (err = lex_expect(ps, ")")))
					return err;
				span_to(ps, n);
				*out = n;
				return 0;
			}
			if (!strcmp(t.text, "sizeof") && ps->t.kind == T_IDENT && is_type_word(ps->t.text)) {
				/* sizeof(TYPE): the type's words */
				char text[256] = "";
				struct node *ty = mk(ps, N_BUILTIN, ps->t.pos, 0);

				while (!lex_is(ps, ")") && ps->t.kind != T_END) {
					if (strlen(text) + strlen(ps->t.text) + 2 < sizeof(text)) {
						if (text[0] && ps->t.kind == T_IDENT)
							strcat(text, " ");
						strcat(text, ps->t.text);
					}
					if ((err = lex_next(ps)))
						return err;
				}
				ty->str = keep_str(ps, text, (int)strlen(text));
				vec_push(&n->kids, ty);
				if ((err = lex_expect(ps, ")")))
					return err;
				span_to(ps, n);
				*out = n;
				return 0;
			}
			if ((err = parse_list(ps, n, ")")))
				return err;
			span_to(ps, n);
		} else {
			n = mk(ps, N_BUILTIN, t.pos, t.len);
			n->str = keep_str(ps, t.text, t.len);
		}
		*out = n;
		return 0;
	case T_PUNCT:
		if (lex_is(ps, "(")) {
			int saved = ps->no_div;

			if ((err = lex_next(ps)))
				return err;
			if (ps->t.kind == T_IDENT && is_type_word(ps->t.text))
				return parse_cast(ps, t.pos, out);
			ps->no_div = 0;
			if ((err = parse_expr(ps, &n)))
				return err;
			if (lex_is(ps, ",")) { /* a tuple */
				struct node *tu = mk(ps, N_TUPLE, t.pos, 0);

				vec_push(&tu->kids, n);
				while (lex_is(ps, ",")) {
					if ((err = lex_next(ps)))
						return err;
					if (lex_is(ps, ")"))
						break;
					if ((err = parse_expr(ps, &n)))
						return err;
					vec_push(&tu->kids, n);
				}
				n = tu;
			}
			ps->no_div = saved;
			if ((err = lex_expect(ps, ")")))
				return err;
			if (n->k == N_TUPLE)
				span_to(ps, n);
			*out = n;
			return 0;
		}
		/* fall through */
	default:
		if (t.kind == T_END)
			return ERR_TOK(ps, "syntax error: unexpected end of program");
		return ERR_TOK(ps, "syntax error: unexpected '%s'", t.text);
	}
}

static int parse_postfix(struct parser *ps, struct node **out)
{
	struct node *n;
	int err;

	if ((err = parse_primary(ps, &n)))
		return err;
	for (;;) {
		struct tok t = ps->t;

		if (lex_is(ps, ".") || lex_is(ps, "->")) {
			struct node *f = mk(ps, N_FIELD, n->pos, 0);

			if ((err = lex_next(ps)))
				return err;
			if (ps->t.kind != T_IDENT && ps->t.kind != T_INT)
				return ERR_TOK(ps, "syntax error: expected a field name after '%s'", t.text);
			f->a = n;
			f->op = t.text[0] == '-';
			if (ps->t.kind == T_INT)
				f->num = ps->t.num, f->str = keep_str(ps, "", 0);
			else
				f->str = keep_str(ps, ps->t.text, ps->t.len), f->num = -1;
			if ((err = lex_next(ps)))
				return err;
			span_to(ps, f);
			n = f;
		} else if (lex_is(ps, "[")) {
			struct node *ix = mk(ps, N_INDEX, n->pos, 0);

			ix->a = n;
			if ((err = lex_next(ps)) || (err = parse_expr(ps, &ix->b)) || (err = lex_expect(ps, "]")))
				return err;
			span_to(ps, ix);
			n = ix;
		} else if (lex_is(ps, "++") || lex_is(ps, "--")) {
			struct node *u = mk(ps, N_INCDEC, n->pos, 0);

			u->a = n;
			u->op = t.text[0];
			u->num = 0;
			if ((err = lex_next(ps)))
				return err;
			span_to(ps, u);
			n = u;
		} else {
			break;
		}
	}
	*out = n;
	return 0;
}

static int parse_unary(struct parser *ps, struct node **out)
{
	struct tok t = ps->t;
	struct node *n;
	int err;

	if (t.kind == T_PUNCT && (lex_is(ps, "!") || lex_is(ps, "~") || lex_is(ps, "-") || lex_is(ps, "*") ||
				  lex_is(ps, "&") || lex_is(ps, "+"))) {
		if ((err = lex_next(ps)))
			return err;
		n = mk(ps, N_UNOP, t.pos, 0);
		n->op = t.text[0];
		if ((err = parse_unary(ps, &n->a)))
			return err;
		span_to(ps, n);
		*out = n;
		return 0;
	}
	if (lex_is(ps, "++") || lex_is(ps, "--")) {
		if ((err = lex_next(ps)))
			return err;
		n = mk(ps, N_INCDEC, t.pos, 0);
		n->op = t.text[0];
		n->num = 1;
		if ((err = parse_unary(ps, &n->a)))
			return err;
		span_to(ps, n);
		*out = n;
		return 0;
	}
	if (lex_is_ident(ps, "sizeof")) {
		/* sizeof(expr) or sizeof(type): left to sema */
		return parse_postfix(ps, out);
	}
	return parse_postfix(ps, out);
}

static int binop_prec(struct parser *ps, int *op)
{
	static const struct { const char *s; int op, prec; } ops[] = {
		{ "||", OP_OR, 1 }, { "&&", OP_AND, 2 }, { "|", '|', 3 }, { "^", '^', 4 }, { "&", '&', 5 },
		{ "==", OP_EQ, 6 }, { "!=", OP_NE, 6 }, { "<", '<', 7 }, { "<=", OP_LE, 7 }, { ">", '>', 7 },
		{ ">=", OP_GE, 7 }, { "<<", OP_SHL, 8 }, { ">>", OP_SHR, 8 }, { "+", '+', 9 }, { "-", '-', 9 },
		{ "*", '*', 10 }, { "/", '/', 10 }, { "%", '%', 10 },
	};

	if (ps->t.kind != T_PUNCT)
		return 0;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(ps->t.text, ops[i].s)) {
			if (ops[i].op == '/' && ps->no_div)
				return 0; /* the predicate's closing '/' */
			*op = ops[i].op;
			return ops[i].prec;
		}
	}
	return 0;
}

static int parse_binary(struct parser *ps, int min_prec, struct node **out)
{
	struct node *lhs;
	int err, op, prec;

	if ((err = parse_unary(ps, &lhs)))
		return err;
	while ((prec = binop_prec(ps, &op)) && prec >= min_prec) {
		struct node *n = mk(ps, N_BINOP, lhs->pos, 0);

		n->op = op;
		n->a = lhs;
		if ((err = lex_next(ps)) || (err = parse_binary(ps, prec + 1, &n->b)))
			return err;
		span_to(ps, n);
		lhs = n;
	}
	*out = lhs;
	return 0;
}

static int parse_expr(struct parser *ps, struct node **out)
{
	struct node *c;
	int err;

	if ((err = parse_binary(ps, 1, &c)))
		return err;
	if (lex_is(ps, "?")) {
		struct node *n = mk(ps, N_TERNARY, c->pos, 0);

		n->a = c;
		if ((err = lex_next(ps)) || (err = parse_expr(ps, &n->b)) || (err = lex_expect(ps, ":")) ||
		    (err = parse_expr(ps, &n->c)))
			return err;
		span_to(ps, n);
		c = n;
	}
	*out = c;
	return 0;
}

static const char *const assign_ops[] = { "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", NULL };

static int parse_stmt(struct parser *ps, struct node **out, bool *needs_semi)
{
	struct tok t = ps->t;
	struct node *n, *e;
	int err;

	*needs_semi = true;
	if (lex_is_ident(ps, "if")) {
		n = mk(ps, N_IF, t.pos, t.len);
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")) || (err = parse_expr(ps, &n->a)) ||
		    (err = lex_expect(ps, ")")) || (err = parse_block_body(ps, &n->b)))
			return err;
		if (lex_is_ident(ps, "else")) {
			if ((err = lex_next(ps)))
				return err;
			if (lex_is_ident(ps, "if")) {
				bool semi;
				struct node *blk = mk(ps, N_BLOCK, ps->t.pos, 0);

				if ((err = parse_stmt(ps, &e, &semi)))
					return err;
				vec_push(&blk->kids, e);
				n->c = blk;
			} else if ((err = parse_block_body(ps, &n->c))) {
				return err;
			}
		}
		*needs_semi = false;
		*out = n;
		return 0;
	}
	if (lex_is_ident(ps, "while")) {
		n = mk(ps, N_WHILE, t.pos, t.len);
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")) || (err = parse_expr(ps, &n->a)) ||
		    (err = lex_expect(ps, ")")) || (err = parse_block_body(ps, &n->b)))
			return err;
		*needs_semi = false;
		*out = n;
		return 0;
	}
	if (lex_is_ident(ps, "unroll")) {
		n = mk(ps, N_UNROLL, t.pos, t.len);
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")) || (err = parse_expr(ps, &n->a)) ||
		    (err = lex_expect(ps, ")")) || (err = parse_block_body(ps, &n->b)))
			return err;
		*needs_semi = false;
		*out = n;
		return 0;
	}
	if (lex_is_ident(ps, "for")) {
		n = mk(ps, N_FOR, t.pos, t.len);
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")))
			return err;
		if (ps->t.kind != T_VAR)
			return ERR_TOK(ps, "syntax error: expected a $variable: for ($kv : @map)");
		if ((err = parse_primary(ps, &n->a)) || (err = lex_expect(ps, ":")))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "for loops iterate over a map: for ($kv : @map) (ranges are not supported yet)");
		if ((err = parse_primary(ps, &n->b)))
			return err;
		if (n->b->kids.n)
			return parse_error_at(ps, n->b->pos, n->b->len, "for loops take a whole map, without a key");
		if ((err = lex_expect(ps, ")")) || (err = parse_block_body(ps, &n->c)))
			return err;
		*needs_semi = false;
		*out = n;
		return 0;
	}
	if (lex_is(ps, "{")) {
		*needs_semi = false;
		return parse_block_body(ps, out);
	}
	if (lex_is_ident(ps, "return") || lex_is_ident(ps, "break") || lex_is_ident(ps, "continue")) {
		n = mk(ps, t.text[0] == 'r' ? N_RETURN : t.text[0] == 'b' ? N_BREAK : N_CONTINUE, t.pos, t.len);
		*out = n;
		return lex_next(ps);
	}
	if (lex_is_ident(ps, "let")) {
		n = mk(ps, N_LET, t.pos, t.len);
		if ((err = lex_next(ps)))
			return err;
		if (ps->t.kind != T_VAR)
			return ERR_TOK(ps, "syntax error: expected a $variable after let");
		if ((err = parse_primary(ps, &n->a)))
			return err;
		if (lex_is(ps, ":")) { /* a declared type: taken from the value */
			if ((err = lex_next(ps)))
				return err;
			while (ps->t.kind == T_IDENT || lex_is(ps, "*") || lex_is(ps, "[") || lex_is(ps, "]") ||
			       ps->t.kind == T_INT)
				if ((err = lex_next(ps)))
					return err;
		}
		if (lex_is(ps, "=")) {
			if ((err = lex_next(ps)) || (err = parse_expr(ps, &n->b)))
				return err;
		}
		span_to(ps, n);
		*out = n;
		return 0;
	}
	if ((err = parse_expr(ps, &e)))
		return err;
	for (int i = 0; assign_ops[i]; i++) {
		if (!lex_is(ps, assign_ops[i]))
			continue;
		n = mk(ps, N_ASSIGN, e->pos, 0);
		n->a = e;
		n->op = i == 0 ? 0 : !strcmp(assign_ops[i], "<<=") ? OP_SHL : !strcmp(assign_ops[i], ">>=") ? OP_SHR :
			assign_ops[i][0];
		if (e->k != N_MAP && e->k != N_VAR)
			return parse_error_at(ps, e->pos, e->len, "syntax error: only maps and $variables can be "
					      "assigned");
		if ((err = lex_next(ps)) || (err = parse_expr(ps, &n->b)))
			return err;
		span_to(ps, n);
		*out = n;
		return 0;
	}
	n = mk(ps, N_EXPR, e->pos, e->len);
	n->a = e;
	*out = n;
	return 0;
}

/* '{' statements '}' into an N_BLOCK; the token after '}' is read unless
 * the block ends a probe (probe words are raw text). */
static int parse_stmts(struct parser *ps, struct node **out, bool read_after)
{
	struct node *blk = mk(ps, N_BLOCK, ps->t.pos, 0);
	int err;

	if ((err = lex_expect(ps, "{")))
		return err;
	while (!lex_is(ps, "}")) {
		struct node *st;
		bool semi;

		if (ps->t.kind == T_END)
			return ERR_TOK(ps, "syntax error: expected '}'");
		if (lex_is(ps, ";")) {
			if ((err = lex_next(ps)))
				return err;
			continue;
		}
		if ((err = parse_stmt(ps, &st, &semi)))
			return err;
		vec_push(&blk->kids, st);
		if (lex_is(ps, ";")) {
			if ((err = lex_next(ps)))
				return err;
		} else if (semi && !lex_is(ps, "}")) {
			return ERR_TOK(ps, "syntax error: expected ';' or '}'");
		}
	}
	span_to(ps, blk);
	blk->len = ps->t.pos + 1 - blk->pos;
	*out = blk;
	return read_after ? lex_next(ps) : 0;
}

static int parse_block_body(struct parser *ps, struct node **out)
{
	return parse_stmts(ps, out, true);
}

static bool is_user_type(enum tp_type t)
{
	return t == PT_BEGIN || t == PT_END || t == PT_INTERVAL;
}

static int parse_probe_block(struct parser *ps)
{
	struct tp_block blk = { 0 };
	int err;

	ps->block = (int)ps->p->blocks.n;
	ps->probe_first = (int)ps->p->probes.n;
	ps->probe_n = 0;
	blk.pos = ps->pos;
	for (;;) {
		lex_skip_space(ps);
		if ((err = probes_parse_word(ps)))
			return err;
		lex_skip_space(ps);
		if (ps->s[ps->pos] != ',')
			break;
		ps->pos++;
	}
	struct tp_probe *first = &ps->p->probes.v[ps->probe_first];

	blk.type = first->type;
	blk.first_probe = ps->probe_first;
	blk.nprobes = ps->probe_n;
	for (int i = 1; i < ps->probe_n; i++) {
		enum tp_type t = ps->p->probes.v[ps->probe_first + i].type;

		if ((is_user_type(t) || is_user_type(blk.type)) && t != blk.type)
			return parse_error_at(ps, blk.pos, ps->pos - blk.pos,
					      "BEGIN, END and interval probes cannot share a block with others");
	}
	if (blk.type == PT_INTERVAL)
		blk.interval_ns = first->period_ns;
	if ((err = lex_next(ps)))
		return err;
	if (lex_is(ps, "/")) {
		ps->no_div = 1;
		if ((err = lex_next(ps)) || (err = parse_expr(ps, &blk.pred)))
			return err;
		ps->no_div = 0;
		if ((err = lex_expect(ps, "/")))
			return err;
	}
	if (!lex_is(ps, "{"))
		return ERR_TOK(ps, "syntax error: expected '{' (a probe name ends at a space, ',' or '{')");
	if ((err = parse_stmts(ps, &blk.body, false)))
		return err;
	vec_push(&ps->p->blocks, blk);
	return 0;
}

/* config = { max_strlen = 128; ... } */
static int parse_config(struct parser *ps)
{
	int err;

	if ((err = lex_next(ps)) || (err = lex_next(ps)) || (err = lex_expect(ps, "=")) ||
	    (err = lex_expect(ps, "{")))
		return err;
	while (!lex_is(ps, "}")) {
		struct tok key = ps->t;

		if (key.kind != T_IDENT)
			return ERR_TOK(ps, "syntax error: expected a config name");
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "=")))
			return err;
		if (ps->t.kind != T_INT && ps->t.kind != T_STR && ps->t.kind != T_IDENT)
			return ERR_TOK(ps, "syntax error: expected a config value");
		const char *name = key.text;

		if (!strncmp(name, "BPFTRACE_", 9))
			name += 9;
		if (!strcasecmp(name, "max_strlen") || !strcasecmp(name, "strlen")) {
			if (ps->t.kind != T_INT || ps->t.num < 1 || ps->t.num > 1024)
				return ERR_TOK(ps, "max_strlen must be 1..1024");
			ps->p->strlen_max = (int)ps->t.num;
		} else if (!strcasecmp(name, "max_map_keys")) {
			if (ps->t.kind != T_INT || ps->t.num < 1)
				return ERR_TOK(ps, "max_map_keys must be a positive number");
			ps->p->map_keys_max = (int)ps->t.num;
		}
		/* others (stack_mode, print_maps_on_exit...) are accepted and
		 * have their default meaning */
		if ((err = lex_next(ps)))
			return err;
		if (lex_is(ps, ";") && (err = lex_next(ps)))
			return err;
	}
	ps->pos = ps->t.pos + 1;
	lex_skip_space(ps);
	if (ps->s[ps->pos] == ';')
		ps->pos++;
	return 0;
}

/* The preamble: #include lines, C type definitions, config. */
static int parse_preamble_item(struct parser *ps, bool *done)
{
	const char *s = ps->s + ps->pos;
	int err;

	*done = false;
	if (!strncmp(s, "#define", 7) && isspace((unsigned char)s[7])) {
		/* an object-like macro: its value parsed as an expression (sema
		 * puts it where the name is used) */
		struct tp_macro m = { 0 };
		const char *e = strchr(s, '\n');
		int end = e ? (int)(e - ps->s) : (int)strlen(ps->s);

		ps->pos += 7;
		if ((err = lex_next(ps)))
			return err;
		if (ps->t.kind != T_IDENT)
			return ERR_TOK(ps, "#define: expected a name");
		snprintf(m.name, sizeof(m.name), "%.63s", ps->t.text);
		if (ps->s[ps->pos] == '(')
			return ERR_TOK(ps, "#define: macros with parameters are not supported");
		lex_skip_space(ps);
		if (ps->pos < end) {
			if ((err = lex_next(ps)) || (err = parse_expr(ps, &m.value)))
				return err;
			ps->pos = ps->t.pos; /* the token after the value is the next item's */
		}
		vec_push(&ps->p->macros, m);
		return 0;
	}
	if (*s == '#') {
		const char *e = strchr(s, '\n');

		ps->pos = e ? (int)(e - ps->s) + 1 : (int)strlen(ps->s);
		return 0;
	}
	if (!strncmp(s, "config", 6) && !isalnum((unsigned char)s[6]) && s[6] != ':') {
		return parse_config(ps);
	}
	if ((!strncmp(s, "struct", 6) || !strncmp(s, "union", 5) || !strncmp(s, "enum", 4) ||
	     !strncmp(s, "typedef", 7)) && !strchr(":", s[strcspn(s, " \t\n:{")])) {
		return tp_cdefs_parse(ps);
	}
	if (!strncmp(s, "macro", 5) && isspace((unsigned char)s[5]))
		return parse_error_at(ps, ps->pos, 5, "macros are not supported yet");
	if (!strncmp(s, "import", 6) && isspace((unsigned char)s[6]))
		return parse_error_at(ps, ps->pos, 6, "import is not supported");
	if (!strncmp(s, "fn", 2) && isspace((unsigned char)s[2]))
		return parse_error_at(ps, ps->pos, 2, "user-defined functions are not supported yet");
	(void)err;
	*done = true;
	return 0;
}

int tp_parse(const char *src, struct tp_program *p)
{
	struct parser ps = { .p = p, .s = src };
	bool preamble = true;
	int err;

	p->src = src;
	if (!p->strlen_max)
		p->strlen_max = 64;
	if (!p->map_keys_max)
		p->map_keys_max = 4096;
	lex_skip_space(&ps);
	if (!src[ps.pos])
		return parse_error_at(&ps, 0, 1, "empty program");
	while (src[ps.pos]) {
		if (preamble) {
			bool done;

			if ((err = parse_preamble_item(&ps, &done)))
				return err;
			if (!done) {
				lex_skip_space(&ps);
				continue;
			}
			preamble = false;
		}
		if ((err = parse_probe_block(&ps)))
			return err;
		lex_skip_space(&ps);
	}
	if (!p->blocks.n)
		return parse_error_at(&ps, 0, 1, "no probes in the program");
	return 0;
}

void tp_free(struct tp_program *p)
{
	for (size_t i = 0; i < p->nodes.n; i++) {
		vec_free(&p->nodes.v[i]->kids);
		free(p->nodes.v[i]);
	}
	for (size_t i = 0; i < p->allocs.n; i++)
		free(p->allocs.v[i]);
	if (p->ubtf) {
		tp_ktype_user(NULL);
		btf__free(p->ubtf);
		p->ubtf = NULL;
	}
	for (size_t i = 0; i < p->fmts.n; i++)
		free(p->fmts.v[i].fmt);
	vec_free(&p->nodes);
	vec_free(&p->allocs);
	vec_free(&p->probes);
	vec_free(&p->blocks);
	vec_free(&p->maps);
	vec_free(&p->vars);
	vec_free(&p->fmts);
	vec_free(&p->params);
	vec_free(&p->macros);
}
