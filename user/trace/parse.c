/* trace: the supported subset of bpftrace's language (docs/trace.md), parsed
 * by recursive descent straight into the tables bpf/trace.bpf.c interprets.
 * Anything outside the subset is an error at its position, before anything
 * is attached. */
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

/* ---- values, keys and maps ------------------------------------------------- */

static bool block_only(struct parser *ps, enum tp_type a, enum tp_type b)
{
	for (int i = 0; i < ps->probe_n; i++) {
		enum tp_type t = ps->p->probes.v[ps->probe_first + i].type;

		if (t != a && t != b)
			return false;
	}
	return ps->probe_n > 0;
}

static int find_map(struct parser *ps, const char *name)
{
	for (size_t i = 0; i < ps->p->maps.n; i++)
		if (!strcmp(ps->p->maps.v[i].name, name))
			return (int)i;
	struct tp_map m = { .agg = -1 };

	snprintf(m.name, sizeof(m.name), "%s", name);
	vec_push(&ps->p->maps, m);
	return (int)ps->p->maps.n - 1;
}

static int parse_value(struct parser *ps, struct tr_src_spec *out, bool allow_map);

/* A key part (or a value source, for keys are values too). */
static int parse_source(struct parser *ps, struct tr_src_spec *out, enum tp_disp *disp, int *depth,
			bool key)
{
	struct tok t = ps->t;
	static const struct { const char *name; enum tr_src src; } simple[] = {
		{ "pid", SRC_PID }, { "tid", SRC_TID }, { "cpu", SRC_CPU }, { "uid", SRC_UID },
		{ "cgroup", SRC_CGROUP }, { "nsecs", SRC_NSECS }, { "retval", SRC_RETVAL },
	};
	int err;

	memset(out, 0, sizeof(*out));
	*disp = DISP_INT;
	if (t.kind == T_INT || (t.kind == T_PUNCT && !strcmp(t.text, "-"))) {
		bool neg = t.kind == T_PUNCT;

		if (neg && ((err = lex_next(ps)) || ps->t.kind != T_INT))
			return err ? err : ERR_TOK(ps, "syntax error: expected a number");
		out->kind = SRC_CONST;
		out->imm = neg ? -ps->t.num : ps->t.num;
		return lex_next(ps);
	}
	if (t.kind == T_STR)
		return ERR_TOK(ps, "strings are supported only in comm == \"...\" predicates");
	if (t.kind == T_MAP)
		return ERR_TOK(ps, "a map value cannot be used here");
	if (t.kind == T_PUNCT && !strcmp(t.text, "$"))
		return ERR_TOK(ps, "scratch variables ($x) are not supported");
	if (t.kind == T_PUNCT && !strcmp(t.text, "*"))
		return ERR_TOK(ps, "pointer dereference is not supported");
	if (t.kind == T_PUNCT && !strcmp(t.text, "("))
		return ERR_TOK(ps, "casts and parenthesized expressions are not supported");
	if (t.kind != T_IDENT)
		return ERR_TOK(ps, "syntax error: expected a value");
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcmp(t.text, simple[i].name))
			continue;
		if (simple[i].src == SRC_RETVAL && !block_only(ps, PT_URETPROBE, PT_URETPROBE))
			return ERR_TOK(ps, "retval is available in uretprobe blocks only");
		out->kind = simple[i].src;
		return lex_next(ps);
	}
	if (!strncmp(t.text, "arg", 3) && isdigit((unsigned char)t.text[3]) && !t.text[4]) {
		if (t.text[3] > '5')
			return ERR_TOK(ps, "arg0..arg5 are supported");
		if (!block_only(ps, PT_UPROBE, PT_USDT))
			return ERR_TOK(ps, "%s is available in uprobe and usdt blocks only (tracepoints: args->FIELD)", t.text);
		out->kind = SRC_ARG;
		out->arg = (uint8_t)(t.text[3] - '0');
		return lex_next(ps);
	}
	if (!strcmp(t.text, "args")) {
		int pos = t.pos;

		if ((err = lex_next(ps)))
			return err;
		if (!lex_is(ps, "->") && !lex_is(ps, "."))
			return ERR_TOK(ps, "syntax error: expected args->FIELD");
		if ((err = lex_next(ps)))
			return err;
		if (ps->t.kind != T_IDENT)
			return ERR_TOK(ps, "syntax error: expected a field name");
		if (!block_only(ps, PT_TRACEPOINT, PT_TRACEPOINT))
			return parse_error_at(ps, pos, ps->t.pos + ps->t.len - pos, "args->FIELD is available in tracepoint blocks only");
		if ((err = probes_field(ps, ps->t.text, pos, ps->t.pos + ps->t.len - pos, out)))
			return err;
		if (ps->t.kind == T_PUNCT)
			return 0;
		return lex_next(ps);
	}
	if (key && (!strcmp(t.text, "ustack") || !strcmp(t.text, "kstack"))) {
		bool user = t.text[0] == 'u';

		out->kind = user ? SRC_USTACK : SRC_KSTACK;
		*disp = user ? DISP_USTACK : DISP_KSTACK;
		*depth = 0;
		if ((err = lex_next(ps)))
			return err;
		if (lex_is(ps, "(")) {
			if ((err = lex_next(ps)))
				return err;
			if (ps->t.kind != T_INT || ps->t.num < 1 || ps->t.num > 127)
				return ERR_TOK(ps, "%s(N): N is a depth, 1..127 (modes such as perf are not supported)", t.text);
			*depth = (int)ps->t.num;
			if ((err = lex_next(ps)) || (err = lex_expect(ps, ")")))
				return err;
		}
		return 0;
	}
	if (key && !strcmp(t.text, "comm")) {
		out->kind = SRC_COMM;
		*disp = DISP_COMM;
		return lex_next(ps);
	}
	if (key && !strcmp(t.text, "probe")) {
		out->kind = SRC_PROBE;
		*disp = DISP_PROBE;
		return lex_next(ps);
	}
	if (key && !strcmp(t.text, "func")) {
		bool by_probe = block_only(ps, PT_UPROBE, PT_URETPROBE) || block_only(ps, PT_USDT, PT_USDT);

		out->kind = by_probe ? SRC_PROBE : SRC_IP;
		*disp = by_probe ? DISP_FUNC_PROBE : DISP_FUNC_IP;
		return lex_next(ps);
	}
	if (!strcmp(t.text, "comm") || !strcmp(t.text, "ustack") || !strcmp(t.text, "kstack") ||
	    !strcmp(t.text, "func") || !strcmp(t.text, "probe"))
		return ERR_TOK(ps, "%s can be a map key, not a value", t.text);
	if (!strcmp(t.text, "printf") || !strcmp(t.text, "str") || !strcmp(t.text, "buf") ||
	    !strcmp(t.text, "sizeof") || !strcmp(t.text, "ksym") || !strcmp(t.text, "usym"))
		return ERR_TOK(ps, "%s() is not supported", t.text);
	return ERR_TOK(ps, "unknown value '%s'", t.text);
}

/* @name or @name[k, ...]: the map (created on first use) and a keyspec. */
static int parse_mapref(struct parser *ps, int *map_out, int *ks_out)
{
	struct tr_keyspec ks = { 0 };
	struct tok name = ps->t;
	int m, err, nparts = 0;
	struct tr_src_spec parts[TR_MAX_PARTS + 1];
	enum tp_disp disp[TR_MAX_PARTS + 1];
	int depth[TR_MAX_PARTS + 1] = { 0 };
	bool keyed = false, has_ustack = false, has_ip = false;
	int bytes = 0;

	if ((err = lex_next(ps)))
		return err;
	if (lex_is(ps, "[")) {
		keyed = true;
		do {
			if ((err = lex_next(ps)))
				return err;
			if (nparts == TR_MAX_PARTS)
				return ERR_TOK(ps, "at most %d map keys", TR_MAX_PARTS);
			if (ps->t.kind == T_MAP)
				return ERR_TOK(ps, "a map value cannot be a key");
			if ((err = parse_source(ps, &parts[nparts], &disp[nparts], &depth[nparts], true)))
				return err;
			if (parts[nparts].kind == SRC_USTACK)
				has_ustack = true;
			if (parts[nparts].kind == SRC_IP)
				has_ip = true;
			bytes += parts[nparts].kind == SRC_COMM ? TASK_COMM_LEN : 8;
			nparts++;
		} while (lex_is(ps, ","));
		if ((err = lex_expect(ps, "]")))
			return err;
	}
	/* User addresses mean something only with their process: keep the
	 * pid in the key (not shown; entries are merged when printed). */
	if (has_ustack || has_ip) {
		if (nparts == TR_MAX_PARTS)
			return parse_error_at(ps, name.pos, ps->t.pos - name.pos, "too many keys with a user stack (at most %d)",
					TR_MAX_PARTS - 1);
		memset(&parts[nparts], 0, sizeof(parts[nparts]));
		parts[nparts].kind = SRC_PID;
		disp[nparts] = DISP_HIDDEN_PID;
		bytes += 8;
		nparts++;
	}
	if (bytes > TR_KEY_BYTES - 8)
		return parse_error_at(ps, name.pos, ps->t.pos - name.pos, "key too large (%d bytes; at most %d)", bytes,
				TR_KEY_BYTES - 8);
	m = find_map(ps, name.text);
	struct tp_map *mp = &ps->p->maps.v[m];

	if (mp->keyed_known) {
		bool same = mp->nparts == nparts;

		for (int i = 0; same && i < nparts; i++)
			same = mp->parts[i].kind == parts[i].kind && mp->parts[i].off == parts[i].off &&
			       mp->parts[i].arg == parts[i].arg;
		if (!same)
			return parse_error_at(ps, name.pos, ps->t.pos - name.pos,
					"%s is used with different keys (%s)", name.text, keyed ? "keys differ" : "keyed elsewhere");
	} else {
		mp->keyed_known = true;
		mp->nparts = nparts;
		memcpy(mp->parts, parts, sizeof(parts[0]) * nparts);
		memcpy(mp->disp, disp, sizeof(disp[0]) * nparts);
		memcpy(mp->depth, depth, sizeof(depth[0]) * nparts);
	}
	if (ps->p->keyspecs.n >= TR_MAX_KEYSPECS)
		return parse_error_at(ps, name.pos, name.len, "too many map references (at most %d)", TR_MAX_KEYSPECS);
	ks.map_id = (uint16_t)m;
	ks.nparts = (uint8_t)nparts;
	memcpy(ks.parts, parts, sizeof(parts[0]) * nparts);
	vec_push(&ps->p->keyspecs, ks);
	*map_out = m;
	*ks_out = (int)ps->p->keyspecs.n - 1;
	return 0;
}

/* A value: a source, @map[...] (its stored value) or nsecs - @map[...]. */
static int parse_value(struct parser *ps, struct tr_src_spec *out, bool allow_map)
{
	enum tp_disp disp;
	int depth = 0, err, m, ks, pos = ps->t.pos;

	if (ps->t.kind == T_MAP) {
		if (!allow_map)
			return ERR_TOK(ps, "a map value cannot be used here");
		if ((err = parse_mapref(ps, &m, &ks)))
			return err;
		memset(out, 0, sizeof(*out));
		out->kind = SRC_MAP;
		out->keyspec = (uint16_t)ks;
	} else if ((err = parse_source(ps, out, &disp, &depth, false))) {
		return err;
	}
	if (lex_is(ps, "-") && out->kind == SRC_NSECS) {
		if ((err = lex_next(ps)))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "only nsecs - @map[key] (the latency idiom) is supported; "
				       "other arithmetic is not");
		if ((err = parse_mapref(ps, &m, &ks)))
			return err;
		out->kind = SRC_NSECS_SINCE;
		out->keyspec = (uint16_t)ks;
	}
	/* ('/' may end a predicate: a division is caught as a syntax error.) */
	if (ps->t.kind == T_PUNCT && strchr("+-*%&|^", ps->t.text[0]) && ps->t.len <= 2 &&
	    !lex_is(ps, "&&") && !lex_is(ps, "||") && !lex_is(ps, "++") && !lex_is(ps, "->"))
		return parse_error_at(ps, pos, ps->t.pos + ps->t.len - pos,
				"arithmetic is not supported (only nsecs - @map[key], the latency idiom)");
	return 0;
}

/* ---- predicates ---------------------------------------------------------- */

static int parse_cond(struct parser *ps, struct tr_block *b)
{
	struct tr_cond c = { 0 };
	int err, pos = ps->t.pos;
	bool paren = false, negate = false;

	if (b->nconds == TR_MAX_CONDS)
		return ERR_TOK(ps, "at most %d comparisons in a predicate", TR_MAX_CONDS);
	if (lex_is(ps, "(")) {
		paren = true;
		if ((err = lex_next(ps)))
			return err;
	}
	if (lex_is(ps, "!")) {
		negate = true;
		if ((err = lex_next(ps)))
			return err;
	}
	if (lex_is_ident(ps, "comm")) {
		if ((err = lex_next(ps)))
			return err;
		if (!lex_is(ps, "==") && !lex_is(ps, "!="))
			return ERR_TOK(ps, "comm is compared with == or != \"string\"");
		c.op = lex_is(ps, "==") ? CMP_EQ : CMP_NE;
		if ((err = lex_next(ps)))
			return err;
		if (ps->t.kind != T_STR)
			return ERR_TOK(ps, "comm is compared with a \"string\"");
		if (strlen(ps->t.text) >= TASK_COMM_LEN)
			return ERR_TOK(ps, "comm is at most %d characters", TASK_COMM_LEN - 1);
		c.lhs.kind = SRC_COMM;
		memcpy(c.str, ps->t.text, strlen(ps->t.text));
		if ((err = lex_next(ps)))
			return err;
	} else {
		if ((err = parse_value(ps, &c.lhs, true)))
			return err;
		static const struct { const char *op; enum tr_cmp cmp; } ops[] = {
			{ "==", CMP_EQ }, { "!=", CMP_NE }, { "<", CMP_LT }, { "<=", CMP_LE },
			{ ">", CMP_GT }, { ">=", CMP_GE },
		};
		c.op = CMP_TRUE;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			if (!lex_is(ps, ops[i].op))
				continue;
			c.op = ops[i].cmp;
			if ((err = lex_next(ps)))
				return err;
			bool neg = lex_is(ps, "-");

			if (neg && (err = lex_next(ps)))
				return err;
			if (ps->t.kind == T_STR)
				return ERR_TOK(ps, "strings are compared only with comm");
			if (ps->t.kind != T_INT)
				return ERR_TOK(ps, "a comparison's right side must be a number");
			c.rhs = neg ? -ps->t.num : ps->t.num;
			if ((err = lex_next(ps)))
				return err;
			break;
		}
		if (negate && c.op == CMP_TRUE) {
			c.op = CMP_EQ;
			c.rhs = 0;
			negate = false;
		}
	}
	if (negate)
		return parse_error_at(ps, pos, ps->t.pos - pos, "'!' applies to a single value only");
	if (paren && (err = lex_expect(ps, ")")))
		return err;
	if (lex_is(ps, "("))
		return ERR_TOK(ps, "parentheses around more than one comparison are not supported");
	b->conds[b->nconds++] = c;
	return 0;
}

static int parse_predicate(struct parser *ps, struct tr_block *b)
{
	int err;

	if ((err = lex_next(ps))) /* past the opening '/' */
		return err;
	for (;;) {
		if ((err = parse_cond(ps, b)))
			return err;
		if (lex_is(ps, "&&")) {
			if ((err = lex_next(ps)))
				return err;
			continue;
		}
		if (lex_is(ps, "||")) {
			b->conds[b->nconds - 1].or_next = 1;
			if ((err = lex_next(ps)))
				return err;
			continue;
		}
		break;
	}
	if (!lex_is(ps, "/"))
		return ERR_TOK(ps, "syntax error: expected '/' to end the predicate (&&, || and comparisons only)");
	return lex_next(ps);
}

/* ---- statements ------------------------------------------------------------ */

static int set_agg(struct parser *ps, int m, int agg, int pos, int len, const struct tr_stmt *st)
{
	struct tp_map *mp = &ps->p->maps.v[m];

	if (mp->agg >= 0 && mp->agg != agg)
		return parse_error_at(ps, pos, len, "%s is used with two different functions", mp->name);
	if (agg == AGG_LHIST && mp->agg == AGG_LHIST && (mp->lo != st->lo || mp->hi != st->hi || mp->step != st->step))
		return parse_error_at(ps, pos, len, "%s is used with two different lhist ranges", mp->name);
	mp->agg = agg;
	if (agg == AGG_LHIST) {
		mp->lo = st->lo;
		mp->hi = st->hi;
		mp->step = st->step;
	}
	return 0;
}

static int parse_int_arg(struct parser *ps, int64_t *v)
{
	bool neg = lex_is(ps, "-");
	int err;

	if (neg && (err = lex_next(ps)))
		return err;
	if (ps->t.kind != T_INT)
		return ERR_TOK(ps, "expected a number");
	*v = neg ? -ps->t.num : ps->t.num;
	return lex_next(ps);
}

static int push_stmt(struct parser *ps, struct tr_block *b, const struct tr_stmt *st, int pos)
{
	if (b->nstmts == TR_MAX_BLOCK_STMTS)
		return parse_error_at(ps, pos, 1, "at most %d statements in a block", TR_MAX_BLOCK_STMTS);
	if (ps->p->stmts.n == TR_MAX_STMTS)
		return parse_error_at(ps, pos, 1, "at most %d statements in a program", TR_MAX_STMTS);
	if (!b->nstmts)
		b->first_stmt = (uint32_t)ps->p->stmts.n;
	vec_push(&ps->p->stmts, *st);
	b->nstmts++;
	return 0;
}

static int parse_user_stmt(struct parser *ps, struct tp_block *blk)
{
	struct tok t = ps->t;
	struct tp_uaction a = { .map = -1 };
	int err;

	if (t.kind == T_IDENT && (!strcmp(t.text, "print") || !strcmp(t.text, "clear") || !strcmp(t.text, "zero"))) {
		a.kind = t.text[0] == 'p' ? UA_PRINT : t.text[0] == 'c' ? UA_CLEAR : UA_ZERO;
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "%s() takes a map, e.g. %s(@name)", t.text, t.text);
		a.map = find_map(ps, ps->t.text);
		if ((err = lex_next(ps)))
			return err;
		if (lex_is(ps, "["))
			return ERR_TOK(ps, "%s() takes a whole map, without keys", t.text);
		if ((err = lex_expect(ps, ")")))
			return err;
	} else if (lex_is_ident(ps, "exit")) {
		a.kind = UA_EXIT;
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")) || (err = lex_expect(ps, ")")))
			return err;
	} else if (t.kind == T_MAP) {
		return ERR_TOK(ps, "maps are updated by kernel probes; BEGIN, END and interval blocks run "
			       "print(), clear(), zero() and exit()");
	} else {
		return ERR_TOK(ps, "'%s' is not supported here; BEGIN, END and interval blocks run print(), "
			       "clear(), zero() and exit()", t.text);
	}
	vec_push(&blk->actions, a);
	return 0;
}

static int parse_kernel_stmt(struct parser *ps, struct tr_block *b)
{
	struct tok t = ps->t;
	struct tr_stmt st = { 0 };
	int err, m, ks;

	if (lex_is_ident(ps, "exit")) {
		st.action = ACT_EXIT;
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")) || (err = lex_expect(ps, ")")))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (lex_is_ident(ps, "delete")) {
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")))
			return err;
		if (ps->t.kind != T_MAP)
			return ERR_TOK(ps, "delete() takes a map entry, e.g. delete(@start[tid])");
		if ((err = parse_mapref(ps, &m, &ks)) || (err = lex_expect(ps, ")")))
			return err;
		st.action = ACT_DELETE;
		st.keyspec = (uint16_t)ks;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (t.kind == T_IDENT && (!strcmp(t.text, "print") || !strcmp(t.text, "clear") || !strcmp(t.text, "zero")))
		return ERR_TOK(ps, "%s() runs in BEGIN, END and interval blocks only", t.text);
	if (t.kind == T_IDENT && !strcmp(t.text, "printf"))
		return ERR_TOK(ps, "printf is not supported: bpfprof trace aggregates in maps; supported: %s",
			       SUPPORTED_STMTS);
	if (t.kind == T_IDENT && (!strcmp(t.text, "if") || !strcmp(t.text, "while") || !strcmp(t.text, "unroll") ||
				   !strcmp(t.text, "for")))
		return ERR_TOK(ps, "'%s' is not supported (use a predicate: probe /cond/ { ... })", t.text);
	if (t.kind == T_PUNCT && !strcmp(t.text, "$"))
		return ERR_TOK(ps, "scratch variables ($x) are not supported");
	if (t.kind != T_MAP)
		return ERR_TOK(ps, "'%s' is not supported; supported: %s", t.text, SUPPORTED_STMTS);
	if ((err = parse_mapref(ps, &m, &ks)))
		return err;
	st.keyspec = (uint16_t)ks;
	if (lex_is(ps, "++")) {
		st.action = ACT_AGG;
		st.agg = AGG_COUNT;
		if ((err = set_agg(ps, m, AGG_COUNT, t.pos, ps->t.pos + 2 - t.pos, &st)) || (err = lex_next(ps)))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (!lex_is(ps, "="))
		return ERR_TOK(ps, "syntax error: expected '=' or '++' after %s", t.text);
	if ((err = lex_next(ps)))
		return err;
	static const struct { const char *name; int agg; int nargs; } fns[] = {
		{ "count", AGG_COUNT, 0 }, { "sum", AGG_SUM, 1 }, { "avg", AGG_AVG, 1 }, { "min", AGG_MIN, 1 },
		{ "max", AGG_MAX, 1 }, { "stats", AGG_STATS, 1 }, { "hist", AGG_HIST, 1 }, { "lhist", AGG_LHIST, 4 },
	};
	for (size_t i = 0; ps->t.kind == T_IDENT && i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct tok f = ps->t;

		if (strcmp(f.text, fns[i].name))
			continue;
		st.action = ACT_AGG;
		st.agg = (uint8_t)fns[i].agg;
		if ((err = lex_next(ps)) || (err = lex_expect(ps, "(")))
			return err;
		if (fns[i].nargs) {
			if ((err = parse_value(ps, &st.val, true)))
				return err;
			if (fns[i].agg == AGG_LHIST) {
				int64_t lo, hi, step;

				if ((err = lex_expect(ps, ",")) || (err = parse_int_arg(ps, &lo)) ||
				    (err = lex_expect(ps, ",")) || (err = parse_int_arg(ps, &hi)) ||
				    (err = lex_expect(ps, ",")) || (err = parse_int_arg(ps, &step)))
					return err;
				st.lo = lo;
				st.hi = hi;
				st.step = step;
				if (st.step <= 0 || st.hi <= st.lo || (st.hi - st.lo) / st.step > 1000)
					return parse_error_at(ps, f.pos, ps->t.pos - f.pos,
							"lhist(v, min, max, step): needs min < max, step > 0, at most 1000 buckets");
			}
		}
		if (!lex_is(ps, ")"))
			return ERR_TOK(ps, "syntax error: %s() takes %s", f.text,
				       fns[i].nargs == 0 ? "no arguments" : fns[i].nargs == 1 ? "one value" : "(value, min, max, step)");
		if ((err = lex_next(ps)) || (err = set_agg(ps, m, fns[i].agg, t.pos, ps->t.pos - t.pos, &st)))
			return err;
		return push_stmt(ps, b, &st, t.pos);
	}
	if (ps->t.kind == T_IDENT) {
		/* an identifier followed by '(' is an unsupported function */
		const char *s = ps->s + ps->t.pos + ps->t.len;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '(')
			return ERR_TOK(ps, "%s() is not supported; aggregations: count, sum, avg, min, max, stats, "
				       "hist, lhist", ps->t.text);
	}
	/* @map[k] = value: an assignment (e.g. @start[tid] = nsecs). */
	st.action = ACT_ASSIGN;
	if ((err = parse_value(ps, &st.val, true)))
		return err;
	if ((err = set_agg(ps, m, TP_AGG_ASSIGN, t.pos, ps->t.pos - t.pos, &st)))
		return err;
	return push_stmt(ps, b, &st, t.pos);
}

static int parse_block(struct parser *ps)
{
	struct tp_block blk = { 0 };
	int err;

	ps->block = (int)ps->p->blocks.n;
	ps->probe_first = (int)ps->p->probes.n;
	ps->probe_n = 0;
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
	blk.user = first->type == PT_BEGIN || first->type == PT_END || first->type == PT_INTERVAL;
	for (int i = 1; i < ps->probe_n; i++) {
		enum tp_type t = ps->p->probes.v[ps->probe_first + i].type;
		bool user = t == PT_BEGIN || t == PT_END || t == PT_INTERVAL;

		if (user || blk.user)
			return parse_error_at(ps, ps->pos - 1, 1, "BEGIN, END and interval probes cannot share a block with others");
	}
	if (blk.type == PT_INTERVAL)
		blk.interval_ns = first->period_ns;
	if ((err = lex_next(ps)))
		return err;
	if (lex_is(ps, "/")) {
		if (blk.user)
			return ERR_TOK(ps, "predicates are supported on kernel probes only");
		if ((err = parse_predicate(ps, &blk.cfg)))
			return err;
	}
	if ((err = lex_expect(ps, "{")))
		return err;
	while (!lex_is(ps, "}")) {
		if (ps->t.kind == T_END)
			err = ERR_TOK(ps, "syntax error: expected '}'");
		else if (lex_is(ps, ";"))
			err = lex_next(ps);
		else if (!(err = blk.user ? parse_user_stmt(ps, &blk) : parse_kernel_stmt(ps, &blk.cfg)) &&
			 !lex_is(ps, ";") && !lex_is(ps, "}"))
			err = ERR_TOK(ps, "syntax error: expected ';' or '}'");
		if (err) {
			vec_free(&blk.actions); /* not in the program yet: tp_free would miss it */
			return err;
		}
	}
	vec_push(&ps->p->blocks, blk);
	if (ps->p->blocks.n > TR_MAX_BLOCKS)
		return ERR_TOK(ps, "at most %d probe blocks", TR_MAX_BLOCKS);
	/* The next block starts right after '}' (probe words are raw text). */
	return 0;
}

int tp_parse(const char *src, struct tp_program *p)
{
	struct parser ps = { .p = p, .s = src };
	int err;

	p->src = src;
	lex_skip_space(&ps);
	if (!src[ps.pos])
		return parse_error_at(&ps, 0, 1, "empty program");
	while (src[ps.pos]) {
		if ((err = parse_block(&ps)))
			return err;
		lex_skip_space(&ps);
	}
	for (size_t i = 0; i < p->maps.n; i++) {
		if (p->maps.v[i].agg < 0) {
			const char *at = strstr(src, p->maps.v[i].name);

			return parse_error_at(&ps, at ? (int)(at - src) : 0, (int)strlen(p->maps.v[i].name),
					"%s is never assigned by a kernel probe", p->maps.v[i].name);
		}
	}
	return 0;
}

void tp_free(struct tp_program *p)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		vec_free(&p->blocks.v[i].actions);
	vec_free(&p->probes);
	vec_free(&p->blocks);
	vec_free(&p->stmts);
	vec_free(&p->keyspecs);
	vec_free(&p->maps);
}
