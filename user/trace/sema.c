/* trace: names resolved and types given — builtins and functions by name,
 * every expression's type, every map's key and value layout, every
 * variable's place, every printf's record layout — with bpftrace's error
 * messages at the construct's position. Two passes: the first learns the
 * maps' types from their assignments wherever they are (END may print a
 * map a later block fills), the second checks everything. */
#include "trace/trace_user.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

struct sema {
	struct tp_program *p;
	int block;
	struct tp_block *b;
	int pass;
	int loop_depth;
	int in_for;           /* inside a for loop's body (a callback: no probe context) */
};

#define ERR(s, n, ...) tp_error((s)->p->src, (n)->pos, (n)->len ? (n)->len : 1, __VA_ARGS__)

static struct type t_int(int bits, bool sign)
{
	return (struct type){ .k = TY_INT, .bits = (uint8_t)bits, .sign = sign, .size = 8 };
}

static struct type t_str(struct sema *s)
{
	return (struct type){ .k = TY_STR, .size = (uint16_t)tp_str_storage(s->p) };
}

static bool block_has(struct sema *s, enum tp_type t)
{
	for (int i = 0; i < s->b->nprobes; i++)
		if (s->p->probes.v[s->b->first_probe + i].type == t)
			return true;
	return false;
}

static bool block_only(struct sema *s, enum tp_type a, enum tp_type b, enum tp_type c)
{
	for (int i = 0; i < s->b->nprobes; i++) {
		enum tp_type t = s->p->probes.v[s->b->first_probe + i].type;

		if (t != a && t != b && t != c)
			return false;
	}
	return true;
}

const char *tp_type_name(const struct type *t, char *buf, size_t n)
{
	switch (t->k) {
	case TY_INT: snprintf(buf, n, "%sint%d", t->sign ? "" : "u", t->bits ? t->bits : 64); break;
	case TY_STR: snprintf(buf, n, "string[%d]", t->size); break;
	case TY_TUPLE: snprintf(buf, n, "tuple"); break;
	case TY_USTACK: snprintf(buf, n, "ustack"); break;
	case TY_KSTACK: snprintf(buf, n, "kstack"); break;
	case TY_USYM: snprintf(buf, n, "usym"); break;
	case TY_KSYM: snprintf(buf, n, "ksym"); break;
	case TY_PROBE: snprintf(buf, n, "probe"); break;
	case TY_FUNCNAME: snprintf(buf, n, "func"); break;
	case TY_NONE: snprintf(buf, n, "none"); break;
	default: snprintf(buf, n, "value"); break;
	}
	return buf;
}

static bool same_type(const struct type *a, const struct type *b)
{
	if (a->k != b->k)
		return false;
	if (a->k == TY_TUPLE) {
		if (a->nelem != b->nelem)
			return false;
		for (int i = 0; i < a->nelem; i++)
			if (!same_type(&a->elem[i], &b->elem[i]))
				return false;
	}
	return true;
}

/* A copy with strings at the program's string size (what maps, variables
 * and records hold). */
static struct type stored(struct sema *s, const struct type *t)
{
	struct type r = *t;

	if (r.k == TY_STR)
		r.size = (uint16_t)tp_str_storage(s->p);
	if (r.k == TY_TUPLE) {
		struct type *el = xcalloc(r.nelem, sizeof(*el));
		uint16_t *off = xcalloc(r.nelem, sizeof(*off));
		uint32_t o = 0;

		vec_push(&s->p->allocs, (void *)el);
		vec_push(&s->p->allocs, (void *)off);
		for (int i = 0; i < r.nelem; i++) {
			el[i] = stored(s, &t->elem[i]);
			off[i] = (uint16_t)o;
			o += (el[i].size + 7u) & ~7u;
		}
		r.elem = el;
		r.off = off;
		r.size = (uint16_t)o;
	}
	return r;
}

static int expr(struct sema *s, struct node *n);
static int stmt(struct sema *s, struct node *n);

/* Bytes a string value takes in maps, variables and records: max_strlen
 * rounded to 8, and at least comm's 16 (bpftrace's strlen limits what
 * str() reads, not comm or literals). */
int tp_str_storage(const struct tp_program *p)
{
	int n = (p->strlen_max + 7) & ~7;

	return n < 16 ? 16 : n;
}

/* A compile-time integer (lhist bounds, unroll counts, print's top). */
bool tp_const_int(const struct tp_program *p, const struct node *n, int64_t *v)
{
	int64_t a, b;

	switch (n->k) {
	case N_INT: *v = n->num; return true;
	case N_POSPARAM: {
		const char *txt = n->num > 0 && (size_t)n->num <= p->params.n ? p->params.v[n->num - 1] : NULL;
		char *end;

		if (n->num < 0) {
			*v = (int64_t)p->params.n;
			return true;
		}
		if (!txt || !*txt) {
			*v = 0;
			return true;
		}
		*v = strtoll(txt, &end, 0);
		return !*end;
	}
	case N_UNOP:
		if (!tp_const_int(p, n->a, &a))
			return false;
		if (n->op == '-') *v = -a;
		else if (n->op == '~') *v = ~a;
		else if (n->op == '!') *v = !a;
		else if (n->op == '+') *v = a;
		else return false;
		return true;
	case N_BINOP:
		if (!tp_const_int(p, n->a, &a) || !tp_const_int(p, n->b, &b))
			return false;
		switch (n->op) {
		case '+': *v = a + b; return true;
		case '-': *v = a - b; return true;
		case '*': *v = a * b; return true;
		case '/': if (!b) return false; *v = a / b; return true;
		case '%': if (!b) return false; *v = a % b; return true;
		case OP_SHL: *v = (int64_t)((uint64_t)a << (b & 63)); return true;
		case OP_SHR: *v = (int64_t)((uint64_t)a >> (b & 63)); return true;
		case '&': *v = a & b; return true;
		case '|': *v = a | b; return true;
		case '^': *v = a ^ b; return true;
		default: return false;
		}
	default:
		return false;
	}
}

static struct tp_map *find_map(struct sema *s, struct node *n)
{
	for (size_t i = 0; i < s->p->maps.n; i++) {
		if (!strcmp(s->p->maps.v[i].name, n->str)) {
			n->slot = (int)i;
			return &s->p->maps.v[i];
		}
	}
	struct tp_map m = { .npart = -1, .agg = -1, .first_pos = n->pos, .fd = -1 };

	snprintf(m.name, sizeof(m.name), "%s", n->str);
	vec_push(&s->p->maps, m);
	n->slot = (int)s->p->maps.n - 1;
	return &s->p->maps.v[s->p->maps.n - 1];
}

/* The key of a map reference: its parts' types checked against earlier
 * uses. */
static int map_key(struct sema *s, struct node *n)
{
	struct tp_map *m = find_map(s, n);
	struct type key = { .k = TY_TUPLE };
	int np = (int)n->kids.n;
	int err;

	if (np > TY_MAX_ELEMS)
		return ERR(s, n, "at most %d key parts", TY_MAX_ELEMS);
	for (int i = 0; i < np; i++) {
		if ((err = expr(s, n->kids.v[i])))
			return err;
		const struct type *t = &n->kids.v[i]->ty;

		if (t->k == TY_NONE)
			return ERR(s, n->kids.v[i], "this has no value to use as a key");
	}
	m = &s->p->maps.v[n->slot];
	if (m->npart >= 0 && m->npart != np)
		return ERR(s, n, "%s used with %d key part%s here, %d before", m->name, np, np == 1 ? "" : "s",
			   m->npart);
	struct type tmp = { .k = TY_TUPLE, .nelem = (uint8_t)np };
	struct type el[TY_MAX_ELEMS];

	for (int i = 0; i < np; i++)
		el[i] = n->kids.v[i]->ty;
	tmp.elem = el;
	key = stored(s, &tmp);
	if (m->npart >= 0) {
		for (int i = 0; i < np; i++) {
			if (!same_type(&m->key.elem[i], &key.elem[i])) {
				char a[32], b[32];

				return ERR(s, n->kids.v[i], "%s's key part %d is %s here, %s before", m->name, i + 1,
					   tp_type_name(&key.elem[i], a, sizeof(a)),
					   tp_type_name(&m->key.elem[i], b, sizeof(b)));
			}
		}
		return 0;
	}
	m->npart = np;
	m->key = key;
	return 0;
}

static const char *agg_name(int agg)
{
	static const char *const names[] = { "value", "count", "sum", "min", "max", "avg", "stats", "hist", "lhist" };

	return agg >= 0 && agg <= AG_LHIST ? names[agg] : "?";
}

/* A map's value: aggregation agg, or (AG_NONE) a value of type t. */
static int map_value(struct sema *s, struct node *n, int agg, const struct type *t, const struct node *call)
{
	struct tp_map *m = &s->p->maps.v[n->slot];

	if (m->agg < 0) {
		m->agg = agg;
		if (agg == AG_NONE)
			m->val = stored(s, t);
		if (agg == AG_LHIST && call) {
			int64_t v[3];

			for (int i = 0; i < 3; i++)
				if (!tp_const_int(s->p, call->kids.v[i + 1], &v[i]))
					return ERR(s, call->kids.v[i + 1], "lhist: min, max and step must be constants");
			if (v[2] <= 0 || v[1] <= v[0])
				return ERR(s, call, "lhist: step must be > 0 and max > min");
			if ((v[1] - v[0]) / v[2] > 1000)
				return ERR(s, call, "lhist: at most 1000 buckets");
			m->lo = v[0], m->hi = v[1], m->step = v[2];
		}
		return 0;
	}
	if (m->agg != agg) {
		char a[32];

		return ERR(s, n, "type mismatch for %s: trying to assign a value of type '%s' when the map already "
			   "holds a value of type '%s'", m->name,
			   agg == AG_NONE ? tp_type_name(t, a, sizeof(a)) : agg_name(agg),
			   m->agg == AG_NONE ? tp_type_name(&m->val, a, sizeof(a)) : agg_name(m->agg));
	}
	if (agg == AG_NONE && !same_type(&m->val, t)) {
		char a[32], b[32];

		/* ints of any width and sign mix freely */
		return ERR(s, n, "type mismatch for %s: trying to assign a value of type '%s' when the map already "
			   "holds a value of type '%s'", m->name, tp_type_name(t, a, sizeof(a)),
			   tp_type_name(&m->val, b, sizeof(b)));
	}
	return 0;
}

static struct tp_var *find_var(struct sema *s, const char *name)
{
	for (size_t i = 0; i < s->p->vars.n; i++)
		if (s->p->vars.v[i].block == s->block && !strcmp(s->p->vars.v[i].name, name))
			return &s->p->vars.v[i];
	return NULL;
}

static int builtin(struct sema *s, struct node *n)
{
	static const struct { const char *name; int id; } names[] = {
		{ "pid", B_PID }, { "tid", B_TID }, { "uid", B_UID }, { "gid", B_GID }, { "cpu", B_CPU },
		{ "comm", B_COMM }, { "nsecs", B_NSECS }, { "elapsed", B_ELAPSED }, { "cgroup", B_CGROUP },
		{ "curtask", B_CURTASK }, { "rand", B_RAND }, { "func", B_FUNC }, { "probe", B_PROBE },
		{ "retval", B_RETVAL }, { "args", B_ARGS }, { "ustack", B_USTACK }, { "kstack", B_KSTACK },
		{ "jiffies", B_JIFFIES }, { "numaid", B_NUMAID }, { "cpid", B_CPID }, { "true", B_TRUE },
		{ "false", B_FALSE }, { "reg", 0 },
	};
	const char *w = n->str;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(w, names[i].name))
			n->op = names[i].id;
	if (!n->op && (!strncmp(w, "arg", 3) || !strncmp(w, "sarg", 4)) && isdigit((unsigned char)w[w[0] == 's' ? 4 : 3])) {
		char *end;
		long k = strtol(w + (w[0] == 's' ? 4 : 3), &end, 10);

		if (!*end && k >= 0 && k < TR_MAX_ARGS) {
			n->op = w[0] == 's' ? B_SARG : B_ARG;
			n->num = k;
		}
	}
	if (s->in_for && (n->op == B_RETVAL || n->op == B_ARG || n->op == B_SARG || n->op == B_USTACK ||
			  n->op == B_KSTACK || (n->op == B_FUNC && block_only(s, PT_PROFILE, PT_SOFTWARE, PT_PROFILE))))
		return ERR(s, n, "%s cannot be used in a for loop's body (it runs once per map entry, outside the "
			   "probe's context): copy it to a variable before the loop", w);
	switch (n->op) {
	case 0: {
		int64_t v;

		for (size_t i = 0; i < s->p->macros.n; i++) {
			const struct tp_macro *m = &s->p->macros.v[i];

			if (strcmp(m->name, w))
				continue;
			if (!m->value)
				return ERR(s, n, "%s is defined empty", w);
			int pos = n->pos, len = n->len;

			*n = *m->value; /* the macro's expression in place of its name */
			n->kids.v = NULL;
			n->kids.n = n->kids.cap = 0;
			for (size_t k = 0; k < m->value->kids.n; k++)
				vec_push(&n->kids, m->value->kids.v[k]);
			n->pos = pos, n->len = len;
			return expr(s, n);
		}
		if (tp_known_constant(w, &v)) {
			n->k = N_INT;
			n->num = v;
			n->ty = t_int(64, true);
			return 0;
		}
		return ERR(s, n, "unknown identifier '%s'", w);
	}
	case B_PID: case B_TID: case B_UID: case B_GID: case B_CPU: case B_NUMAID: case B_CPID:
		n->ty = t_int(32, false);
		return 0;
	case B_RAND:
		n->ty = t_int(32, false);
		return 0;
	case B_TRUE: case B_FALSE:
		n->ty = t_int(64, false);
		return 0;
	case B_CURTASK: {
		int id = tp_ktype_struct("task_struct");

		n->ty = t_int(64, false);
		n->ty.btf_id = id > 0 ? (uint32_t)id : 0;
		return 0;
	}
	case B_NSECS: case B_ELAPSED: case B_CGROUP: case B_JIFFIES:
		n->ty = t_int(64, false);
		return 0;
	case B_COMM:
		n->ty = t_str(s);
		return 0;
	case B_PROBE:
		n->ty = (struct type){ .k = TY_PROBE, .size = 8 };
		return 0;
	case B_FUNC:
		if (block_only(s, PT_UPROBE, PT_URETPROBE, PT_USDT) || block_only(s, PT_KPROBE, PT_KRETPROBE, PT_KPROBE))
			n->ty = (struct type){ .k = TY_FUNCNAME, .size = 8 };
		else if (block_only(s, PT_PROFILE, PT_SOFTWARE, PT_PROFILE))
			n->ty = (struct type){ .k = TY_USYM, .size = 16 };
		else
			return ERR(s, n, "func is available in uprobe, uretprobe, usdt, profile and software probes");
		return 0;
	case B_RETVAL:
		if (!block_only(s, PT_URETPROBE, PT_KRETPROBE, PT_URETPROBE))
			return ERR(s, n, "retval is available in uretprobe and kretprobe blocks only");
		n->ty = t_int(64, false);
		return 0;
	case B_ARG: case B_SARG:
		if (!block_only(s, PT_UPROBE, PT_USDT, PT_KPROBE) && !block_only(s, PT_RAWTP, PT_RAWTP, PT_RAWTP))
			return ERR(s, n, "%s is available in uprobe, kprobe, usdt and rawtracepoint blocks (tracepoints: "
				   "args.FIELD)", w);
		if (n->op == B_ARG && n->num > 5 && block_has(s, PT_UPROBE))
			return ERR(s, n, "uprobes read arg0..arg5 (registers); stack arguments: sarg0..");
		n->ty = t_int(64, n->op == B_SARG);
		if (n->op == B_SARG && !block_only(s, PT_UPROBE, PT_UPROBE, PT_UPROBE))
			return ERR(s, n, "sarg is available in uprobe blocks only");
		return 0;
	case B_ARGS:
		return ERR(s, n, "args is a tracepoint's record: use args.FIELD");
	case B_USTACK:
		n->ty = (struct type){ .k = TY_USTACK, .size = 16 };
		s->b->ustack = true;
		return 0;
	case B_KSTACK:
		n->ty = (struct type){ .k = TY_KSTACK, .size = 8 };
		s->b->kstack = true;
		return 0;
	}
	return 0;
}

/* args.FIELD: every tracepoint of the block must have it, of one kind
 * (integer or string); where they place it differently, the code picks the
 * layout by attachment. A pointer to a kernel struct can be followed. */
static int tp_field(struct sema *s, struct node *n)
{
	int kind = -1;

	n->nfvar = 0;
	for (int i = 0; i < s->b->nprobes; i++) {
		int pi = s->b->first_probe + i;
		struct tp_probe *pr = &s->p->probes.v[pi];
		unsigned off = 0, size = 0, sgn = 0;
		int is_str = 0, err, v;
		char decl[256] = "";

		if (pr->type != PT_TRACEPOINT)
			return ERR(s, n, "args is available in tracepoint blocks only");
		err = tp_format_field(pr->target, pr->name, n->str, &off, &size, &sgn, &is_str, decl, sizeof(decl));
		if (err == -ESRCH)
			return ERR(s, n, "tracepoint %s:%s has no field '%s'", pr->target, pr->name, n->str);
		if (err == -EINVAL)
			return ERR(s, n, "args.%s: a field of a type trace cannot read", n->str);
		if (err < 0)
			return ERR(s, n, "cannot read the format of %s:%s: %s", pr->target, pr->name, strerror(-err));
		if (kind >= 0 && kind != !!is_str)
			return ERR(s, n, "args.%s is a string in some of the block's tracepoints, not in others", n->str);
		kind = !!is_str;
		for (v = 0; v < n->nfvar; v++)
			if (n->fvar[v].off == off && n->fvar[v].size == size && n->fvar[v].sign == sgn &&
			    n->fvar[v].is_str == is_str)
				break;
		if (v == n->nfvar) {
			struct tp_fvar *nv = xcalloc((size_t)n->nfvar + 1, sizeof(*nv));

			if (n->nfvar)
				memcpy(nv, n->fvar, (size_t)n->nfvar * sizeof(*nv));
			vec_push(&s->p->allocs, (void *)nv);
			n->fvar = nv;
			n->fvar[v] = (struct tp_fvar){ .off = (uint16_t)off, .size = (uint8_t)(size > 255 ? 255 : size),
						       .sign = (uint8_t)sgn, .is_str = (uint8_t)is_str };
			n->fvar[v].probes = xcalloc((size_t)s->b->nprobes, sizeof(uint32_t));
			vec_push(&s->p->allocs, (void *)n->fvar[v].probes);
			n->nfvar++;
		}
		n->fvar[v].probes[n->fvar[v].nprobes++] = (uint32_t)pi;
		if (is_str) {
			n->ty = t_str(s);
		} else {
			n->ty = t_int(n->nfvar > 1 ? 64 : (int)size * 8, sgn);
			/* T *: indexable (argv[0]); struct foo *: followed with -> */
			int stars = 0;

			for (const char *c = decl; *c; c++)
				stars += *c == '*';
			if (stars >= 2) {
				n->ty.elem_size = 8;
			} else if (stars == 1) {
				static const struct { const char *w; int size; bool sign; } base[] = {
					{ "char", 1, true }, { "short", 2, true }, { "long", 8, true }, { "int", 4, true },
					{ "u8", 1, false }, { "u16", 2, false }, { "u32", 4, false }, { "u64", 8, false },
					{ "s8", 1, true }, { "s16", 2, true }, { "s32", 4, true }, { "s64", 8, true },
					{ "size_t", 8, false },
				};

				for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++) {
					if (strstr(decl, base[k].w)) {
						n->ty.elem_size = (uint8_t)base[k].size;
						n->ty.elem_sign = base[k].sign && !strstr(decl, "unsigned");
						break;
					}
				}
			}
			char *st = strstr(decl, "struct ");

			if (st && strchr(st, '*')) {
				char name[128];

				snprintf(name, sizeof(name), "%.*s", (int)strcspn(st + 7, " *"), st + 7);
				int id = tp_ktype_struct(name);

				n->ty.btf_id = id > 0 ? (uint32_t)id : 0;
			}
		}
	}
	n->field_off = n->fvar[0].off;
	n->field_size = n->fvar[0].size;
	n->num = n->fvar[0].is_str;
	return 0;
}

static int call(struct sema *s, struct node *n);

/* a->f or a.f on a kernel struct (or a pointer to one), from BTF. */
static int kernel_field(struct sema *s, struct node *n)
{
	struct tp_kmember m;
	int err = tp_ktype_member((int)n->a->ty.btf_id, n->str, &m);

	if (err == -EOPNOTSUPP)
		return ERR(s, n, "%s is a bit field: not supported yet", n->str);
	if (err < 0)
		return ERR(s, n, "struct %s has no field named %s", tp_ktype_name((int)n->a->ty.btf_id), n->str);
	n->kfield = (uint8_t)m.kind;
	n->field_off = (uint16_t)m.offset;
	n->field_size = (uint8_t)(m.size > 255 ? 255 : m.size);
	if (m.offset > 65535)
		return ERR(s, n, "field %s lies too far into its struct", n->str);
	switch (m.kind) {
	case TKM_INT:
		n->ty = t_int((int)m.size * 8, m.sign);
		return 0;
	case TKM_PTR: {
		struct tp_kmember to;

		n->ty = t_int(64, false);
		if (tp_ktype_pointee((int)m.target_id, &to) == 0) {
			if (to.kind == TKM_STRUCT && !m.char_ptr)
				n->ty.btf_id = to.type_id;
			if (to.kind == TKM_INT || to.kind == TKM_PTR) {
				n->ty.elem_size = (uint8_t)to.size;
				n->ty.elem_sign = to.sign;
			} else if (to.kind == TKM_STRUCT) {
				n->ty.elem_size = (uint8_t)(to.size > 255 ? 0 : to.size);
				n->ty.elem_btf = to.type_id;
			}
		}
		return 0;
	}
	case TKM_CHARS:
		n->ty = t_str(s);
		return 0;
	case TKM_STRUCT:
		n->ty = (struct type){ .k = TY_STRUCT, .size = 8, .btf_id = m.type_id };
		return 0;
	default: { /* an array: its address, indexable */
		struct tp_kmember el;

		n->ty = t_int(64, false);
		if (tp_ktype_pointee((int)m.target_id, &el) == 0) {
			if (el.kind == TKM_INT || el.kind == TKM_PTR) {
				n->ty.elem_size = (uint8_t)el.size;
				n->ty.elem_sign = el.sign;
			} else if (el.kind == TKM_STRUCT && el.size < 256) {
				n->ty.elem_size = (uint8_t)el.size;
				n->ty.elem_btf = el.type_id;
			}
		}
		return 0;
	}
	}
}

/* A string-typed expression, or a literal. */
static bool is_str(const struct node *n)
{
	return n->ty.k == TY_STR;
}

static int expr(struct sema *s, struct node *n)
{
	int err;

	switch (n->k) {
	case N_INT:
		n->ty = t_int(64, true);
		return 0;
	case N_STR:
		n->ty = (struct type){ .k = TY_STR, .size = (uint16_t)(n->strl + 1) };
		return 0;
	case N_POSPARAM: {
		int64_t v;

		if (n->num > 0 && (size_t)n->num <= s->p->params.n && !tp_const_int(s->p, n, &v)) {
			/* a word: a string literal */
			const char *w = s->p->params.v[n->num - 1];

			n->k = N_STR;
			n->str = (char *)w;
			n->strl = (int)strlen(w);
			n->ty = (struct type){ .k = TY_STR, .size = (uint16_t)(n->strl + 1) };
			return 0;
		}
		n->ty = t_int(64, true);
		return 0;
	}
	case N_BUILTIN:
		return builtin(s, n);
	case N_VAR: {
		struct tp_var *v = find_var(s, n->str);

		if (!v)
			return ERR(s, n, "undefined variable %s", n->str);
		n->slot = (int)(v - s->p->vars.v);
		n->ty = v->ty;
		return 0;
	}
	case N_MAP: {
		struct tp_map *m;

		if ((err = map_key(s, n)))
			return err;
		m = &s->p->maps.v[n->slot];
		if (m->agg < 0) {
			if (s->pass == 0) {
				n->ty = t_int(64, true);
				return 0;
			}
			return ERR(s, n, "undefined map: %s", m->name);
		}
		if (m->agg == AG_HIST || m->agg == AG_LHIST)
			return ERR(s, n, "%s is a histogram: its value cannot be read (print it)", m->name);
		n->ty = m->agg == AG_NONE ? m->val : t_int(64, true);
		return 0;
	}
	case N_CALL:
		return call(s, n);
	case N_BINOP:
		if ((err = expr(s, n->a)) || (err = expr(s, n->b)))
			return err;
		if (is_str(n->a) || is_str(n->b)) {
			if ((n->op != OP_EQ && n->op != OP_NE) || !is_str(n->a) || !is_str(n->b))
				return ERR(s, n, "strings are compared with == and != only, with strings");
			n->ty = t_int(64, false);
			return 0;
		}
		if (n->a->ty.k != TY_INT && n->a->ty.k != TY_KSYM && n->a->ty.k != TY_PROBE)
			return ERR(s, n->a, "this cannot be used in arithmetic");
		if (n->b->ty.k != TY_INT && n->b->ty.k != TY_KSYM && n->b->ty.k != TY_PROBE)
			return ERR(s, n->b, "this cannot be used in arithmetic");
		n->ty = t_int(64, n->a->ty.sign && n->b->ty.sign);
		if (n->op == OP_EQ || n->op == OP_NE || n->op == '<' || n->op == '>' || n->op == OP_LE ||
		    n->op == OP_GE || n->op == OP_AND || n->op == OP_OR)
			n->ty = t_int(64, false);
		return 0;
	case N_UNOP:
		if ((err = expr(s, n->a)))
			return err;
		if (n->op == '*' && n->a->ty.k == TY_INT && n->a->ty.elem_size) {
			n->ty = n->a->ty.elem_btf ? (struct type){ .k = TY_STRUCT, .size = 8, .btf_id = n->a->ty.elem_btf }
						  : t_int(n->a->ty.elem_size * 8, n->a->ty.elem_sign);
			return 0;
		}
		if (n->op == '*' || n->op == '&')
			return ERR(s, n, "pointer %s is not supported %s", n->op == '*' ? "dereference" : "address-of",
				   n->op == '*' ? "here (pointers of a known type, uaddr() and kernel struct members can be "
				   "read with * and [i])" : "yet");
		if (n->a->ty.k != TY_INT)
			return ERR(s, n, "'%c' needs an integer", n->op);
		n->ty = t_int(64, n->op == '-' ? true : n->a->ty.sign);
		if (n->op == '!')
			n->ty = t_int(64, false);
		return 0;
	case N_TERNARY:
		if ((err = expr(s, n->a)) || (err = expr(s, n->b)) || (err = expr(s, n->c)))
			return err;
		if (n->a->ty.k != TY_INT)
			return ERR(s, n->a, "a condition must be an integer");
		if (n->b->ty.k != n->c->ty.k)
			return ERR(s, n, "both branches of ?: must have one type");
		n->ty = n->b->ty.k == TY_STR ? t_str(s) : n->b->ty;
		if (n->ty.k == TY_INT)
			n->ty = t_int(64, n->b->ty.sign && n->c->ty.sign);
		return 0;
	case N_FIELD:
		if (n->a->k == N_BUILTIN && !strcmp(n->a->str, "args")) {
			if (n->num >= 0 && !n->str[0])
				return ERR(s, n, "args has named fields");
			if (s->in_for)
				return ERR(s, n, "args cannot be used in a for loop's body: copy the field to a variable "
					   "before the loop");
			return tp_field(s, n);
		}
		if ((err = expr(s, n->a)))
			return err;
		if ((n->a->ty.k == TY_INT && n->a->ty.btf_id) || n->a->ty.k == TY_STRUCT)
			return kernel_field(s, n);
		if (n->a->ty.k == TY_TUPLE && n->num >= 0) {
			if (n->num >= n->a->ty.nelem)
				return ERR(s, n, "the tuple has %d elements", n->a->ty.nelem);
			n->ty = n->a->ty.elem[n->num];
			return 0;
		}
		return ERR(s, n, "field access on this value is not supported yet (tracepoint args.FIELD and "
			   "tuple.N are)");
	case N_INDEX:
		if ((err = expr(s, n->a)) || (err = expr(s, n->b)))
			return err;
		if (n->a->k == N_FIELD && n->a->kfield == TKM_CHARS) { /* task->comm[0] */
			n->num = 1;
			n->ty = t_int(8, true);
			return n->b->ty.k == TY_INT ? 0 : ERR(s, n->b, "an index must be an integer");
		}
		if (n->a->ty.k != TY_INT || !n->a->ty.elem_size)
			return ERR(s, n, "this cannot be indexed (pointers and arrays of known element types can)");
		if (n->b->ty.k != TY_INT)
			return ERR(s, n->b, "an index must be an integer");
		if (n->a->ty.elem_btf) {
			n->ty = (struct type){ .k = TY_STRUCT, .size = 8, .btf_id = n->a->ty.elem_btf };
		} else {
			n->ty = t_int(n->a->ty.elem_size * 8, n->a->ty.elem_sign);
		}
		return 0;
	case N_CAST: {
		static const struct { const char *name; int bits; bool sign; } casts[] = {
			{ "int8", 8, true }, { "int16", 16, true }, { "int32", 32, true }, { "int64", 64, true },
			{ "uint8", 8, false }, { "uint16", 16, false }, { "uint32", 32, false }, { "uint64", 64, false },
			{ "s8", 8, true }, { "s16", 16, true }, { "s32", 32, true }, { "s64", 64, true },
			{ "u8", 8, false }, { "u16", 16, false }, { "u32", 32, false }, { "u64", 64, false },
			{ "char", 8, true }, { "short", 16, true }, { "int", 32, true }, { "long", 64, true },
			{ "unsigned char", 8, false }, { "unsigned short", 16, false }, { "unsigned int", 32, false },
			{ "unsigned long", 64, false }, { "unsigned", 32, false }, { "bool", 8, false },
			{ "long long", 64, true }, { "unsigned long long", 64, false },
		};

		if ((err = expr(s, n->a)))
			return err;
		for (size_t i = 0; i < sizeof(casts) / sizeof(casts[0]); i++) {
			if (!strcmp(n->str, casts[i].name)) {
				if (n->a->ty.k != TY_INT)
					return ERR(s, n, "only integers can be cast to %s", n->str);
				n->ty = t_int(casts[i].bits, casts[i].sign);
				n->num = casts[i].bits;
				return 0;
			}
		}
		if (strchr(n->str, '*') && (!strncmp(n->str, "struct ", 7) || !strncmp(n->str, "union ", 6))) {
			char name[256];
			int id;

			snprintf(name, sizeof(name), "%s", n->str);
			*strchr(name, '*') = 0;
			name[strcspn(name, " ") + strcspn(name + strcspn(name, " ") + 1, " *") + 1] = 0;
			id = tp_ktype_struct(name);
			if (id <= 0)
				return ERR(s, n, "cast to '%s': the kernel has no type %s, and the program defines none",
					   n->str, name);
			if (n->a->ty.k != TY_INT)
				return ERR(s, n, "only integers can be cast to %s", n->str);
			n->ty = t_int(64, false);
			n->ty.btf_id = (uint32_t)id;
			n->num = 64;
			return 0;
		}
		return ERR(s, n, "cast to '%s' is not supported yet (integer and kernel struct pointer casts are)", n->str);
	}
	case N_TUPLE: {
		struct type tmp = { .k = TY_TUPLE, .nelem = (uint8_t)n->kids.n };
		struct type el[TY_MAX_ELEMS];

		if (n->kids.n > TY_MAX_ELEMS)
			return ERR(s, n, "at most %d tuple elements", TY_MAX_ELEMS);
		for (size_t i = 0; i < n->kids.n; i++) {
			if ((err = expr(s, n->kids.v[i])))
				return err;
			if (n->kids.v[i]->ty.k == TY_NONE || n->kids.v[i]->ty.k == TY_TUPLE)
				return ERR(s, n->kids.v[i], "a tuple element must be a value (not a tuple)");
			el[i] = n->kids.v[i]->ty;
		}
		tmp.elem = el;
		n->ty = stored(s, &tmp);
		return 0;
	}
	case N_ASSIGN: case N_INCDEC:
		return ERR(s, n, "an assignment is a statement, not a value");
	default:
		return ERR(s, n, "syntax error: this is not a value");
	}
}

/* A record's format into the program (second pass: the first pass only
 * learns map types), its index into n->slot. */
static void add_fmt(struct sema *s, struct node *n, struct tp_fmt *f)
{
	if (s->pass == 1) {
		vec_push(&s->p->fmts, *f);
		n->slot = (int)s->p->fmts.n - 1;
	} else {
		free(f->fmt);
	}
}

/* printf's format: conversions checked against the arguments. */
static int check_format(struct sema *s, struct node *n, const char *fmt, int first_arg)
{
	int nconv = 0;

	for (const char *c = fmt; *c; c++) {
		if (*c != '%')
			continue;
		if (c[1] == '%') {
			c++;
			continue;
		}
		c++;
		c += strspn(c, "-+ #0");
		c += strspn(c, "0123456789");
		if (*c == '.')
			c++, c += strspn(c, "0123456789");
		c += strspn(c, "hlzjt");
		if (!*c || !strchr("diouxXcspr", *c))
			return ERR(s, n, "printf: unknown conversion '%%%c' (bpftrace's are d i o u x X c s p r)", *c ? *c : ' ');
		int ai = first_arg + nconv;

		if (ai < (int)n->kids.n) {
			const struct type *t = &n->kids.v[ai]->ty;

			if (*c == 'r' && t->k != TY_BUF)
				return ERR(s, n->kids.v[ai], "printf: %%r specifier expects a buffer (buf())");
			if (*c != 's' && *c != 'r' && (t->k == TY_STR || t->k == TY_TUPLE || t->k == TY_USTACK ||
					   t->k == TY_KSTACK))
				return ERR(s, n->kids.v[ai], "printf: %%%c specifier expects an integer", *c);
		}
		nconv++;
	}
	if (nconv != (int)n->kids.n - first_arg)
		return ERR(s, n, "%s: the format has %d conversion%s but %d argument%s follow", n->str, nconv,
			   nconv == 1 ? "" : "s", (int)n->kids.n - first_arg, (int)n->kids.n - first_arg == 1 ? "" : "s");
	return 0;
}

/* A record for printf-like calls: its arguments from first_arg. */
static int record(struct sema *s, struct node *n, int action, int first_arg, const char *fmt)
{
	struct tp_fmt f = { .action = action, .nargs = (int)n->kids.n - first_arg, .map = -1 };
	uint32_t off = sizeof(struct tr_rec);

	if (f.nargs > TY_MAX_ELEMS)
		return ERR(s, n, "at most %d arguments", TY_MAX_ELEMS);
	for (int i = 0; i < f.nargs; i++) {
		const struct type *t = &n->kids.v[first_arg + i]->ty;

		if (t->k == TY_NONE)
			return ERR(s, n->kids.v[first_arg + i], "this has no value to print");
		f.args[i] = stored(s, t);
		f.off[i] = (uint16_t)off;
		off += (f.args[i].size + 7u) & ~7u;
	}
	f.size = off;
	if (off > TR_SCRATCH_SIZE / 4)
		return ERR(s, n, "the arguments take %u bytes: at most %d", off, TR_SCRATCH_SIZE / 4);
	f.fmt = xstrdup(fmt ? fmt : "");
	add_fmt(s, n, &f);
	return 0;
}

static int map_arg(struct sema *s, struct node *n, int i, bool keys_ok)
{
	struct node *m = i < (int)n->kids.n ? n->kids.v[i] : NULL;
	int err;

	if (!m || m->k != N_MAP)
		return ERR(s, m ? m : n, "%s() takes a map (@name)", n->str);
	if (!keys_ok && m->kids.n)
		return ERR(s, m, "%s() takes a whole map, without a key", n->str);
	find_map(s, m);
	if (keys_ok && (err = map_key(s, m)))
		return err;
	return 0;
}

static int call(struct sema *s, struct node *n)
{
	static const struct { const char *name; int id, min, max; } fns[] = {
		{ "printf", F_PRINTF, 1, 17 }, { "print", F_PRINT, 1, 3 }, { "clear", F_CLEAR, 1, 1 },
		{ "zero", F_ZERO, 1, 1 }, { "delete", F_DELETE, 1, 2 }, { "exit", F_EXIT, 0, 1 },
		{ "count", F_COUNT, 0, 0 }, { "sum", F_SUM, 1, 1 }, { "avg", F_AVG, 1, 1 }, { "min", F_MIN, 1, 1 },
		{ "max", F_MAX, 1, 1 }, { "stats", F_STATS, 1, 1 }, { "hist", F_HIST, 1, 2 }, { "lhist", F_LHIST, 4, 4 },
		{ "str", F_STR, 1, 2 }, { "strncmp", F_STRNCMP, 3, 3 }, { "ksym", F_KSYM, 1, 1 }, { "usym", F_USYM, 1, 1 },
		{ "kstack", F_KSTACK, 0, 2 }, { "ustack", F_USTACK, 0, 2 }, { "time", F_TIME, 0, 1 },
		{ "signal", F_SIGNAL, 1, 1 }, { "system", F_SYSTEM, 1, 17 }, { "cat", F_CAT, 1, 17 },
		{ "sizeof", F_SIZEOF, 1, 1 }, { "has_key", F_HAS_KEY, 2, 17 }, { "strcontains", F_STRCONTAINS, 2, 2 },
		{ "errorf", F_ERRORF, 1, 17 }, { "bswap", F_BSWAP, 1, 1 }, { "join", F_JOIN, 1, 2 },
		{ "ntop", F_NTOP, 1, 2 }, { "kaddr", F_KADDR, 1, 1 }, { "strftime", F_STRFTIME, 2, 2 },
		{ "reg", F_REG, 1, 1 }, { "uaddr", F_UADDR, 1, 1 }, { "buf", F_BUF, 1, 2 },
		{ "cgroupid", F_CGROUPID, 1, 1 }, { "offsetof", F_OFFSETOF, 2, 2 },
	};
	int nargs = (int)n->kids.n, err;

	n->op = 0;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (strcmp(n->str, fns[i].name))
			continue;
		n->op = fns[i].id;
		if (nargs < fns[i].min || nargs > fns[i].max) {
			if (fns[i].min == fns[i].max)
				return ERR(s, n, "%s() takes %d argument%s (%d given)", n->str, fns[i].min,
					   fns[i].min == 1 ? "" : "s", nargs);
			return ERR(s, n, "%s() takes %d to %d arguments (%d given)", n->str, fns[i].min, fns[i].max, nargs);
		}
	}
	if (!n->op) {
		static const char *const later[] = { "macaddr", "path", "override", "kptr", "uptr", "percpu_kaddr",
						     "skboutput", "pton", "len", "unwatch", "debugf", "nsecs",
						     "cgroup_path", "socket_cookie", NULL };

		for (int i = 0; later[i]; i++)
			if (!strcmp(n->str, later[i]))
				return ERR(s, n, "%s() is not supported yet", n->str);
		return ERR(s, n, "unknown function: '%s'", n->str);
	}
	/* the arguments' types (maps as whole maps where a map is named) */
	for (int i = 0; i < nargs; i++) {
		struct node *a = n->kids.v[i];

		if (a->k == N_MAP && (n->op == F_PRINT || n->op == F_CLEAR || n->op == F_ZERO ||
				      n->op == F_DELETE || n->op == F_HAS_KEY) && i == 0)
			continue;
		if ((n->op == F_KSTACK || n->op == F_USTACK) && a->k == N_BUILTIN &&
		    (!strcmp(a->str, "perf") || !strcmp(a->str, "bpftrace") || !strcmp(a->str, "raw")))
			continue;
		if ((n->op == F_SIZEOF || n->op == F_OFFSETOF) && a->k == N_BUILTIN)
			continue;
		if ((err = expr(s, a)))
			return err;
	}
	n->ty = (struct type){ .k = TY_NONE };
	switch (n->op) {
	case F_PRINTF: case F_SYSTEM: case F_CAT: case F_ERRORF: {
		struct node *f = n->kids.v[0];

		if (f->k != N_STR)
			return ERR(s, f, "%s: the first argument must be a format string", n->str);
		if ((err = check_format(s, n, f->str, 1)))
			return err;
		if (n->op == F_SYSTEM && !s->p->unsafe)
			return ERR(s, n, "system() needs --unsafe");
		return record(s, n, n->op == F_PRINTF || n->op == F_ERRORF ? TR_ACT_PRINTF :
				    n->op == F_SYSTEM ? TR_ACT_SYSTEM : TR_ACT_CAT, 1, f->str);
	}
	case F_JOIN: {
		struct tp_fmt f = { .action = TR_ACT_JOIN, .map = -1 };
		int ssz = tp_str_storage(s->p);

		if (n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "join() takes an array of string pointers (char **)");
		if (nargs == 2 && n->kids.v[1]->k != N_STR)
			return ERR(s, n->kids.v[1], "join()'s separator must be a string literal");
		f.fmt = xstrdup(nargs == 2 ? n->kids.v[1]->str : " ");
		f.nargs = 0;
		f.size = sizeof(struct tr_rec) + 8 + TR_JOIN_MAX * ssz;
		add_fmt(s, n, &f);
		return 0;
	}
	case F_TIME: {
		const char *fmt = "%H:%M:%S\n";

		if (nargs) {
			if (n->kids.v[0]->k != N_STR)
				return ERR(s, n->kids.v[0], "time() takes a format string");
			fmt = n->kids.v[0]->str;
		}
		n->kids.n = 0;
		return record(s, n, TR_ACT_TIME, 0, fmt);
	}
	case F_PRINT:
		if (n->kids.v[0]->k == N_MAP && !n->kids.v[0]->kids.n) {
			int64_t top = 0, div = 0;

			if ((err = map_arg(s, n, 0, false)))
				return err;
			if (nargs > 1 && !tp_const_int(s->p, n->kids.v[1], &top))
				return ERR(s, n->kids.v[1], "print: top must be a constant");
			if (nargs > 2 && !tp_const_int(s->p, n->kids.v[2], &div))
				return ERR(s, n->kids.v[2], "print: div must be a constant");
			struct tp_fmt f = { .action = TR_ACT_PRINT_MAP, .map = n->kids.v[0]->slot, .top = top, .div = div,
					    .size = sizeof(struct tr_rec) };

			add_fmt(s, n, &f);
			return 0;
		}
		if (nargs > 1)
			return ERR(s, n, "print(value) takes one argument");
		if (n->kids.v[0]->k == N_MAP && (err = expr(s, n->kids.v[0])))
			return err;
		return record(s, n, TR_ACT_PRINT_VAL, 0, NULL);
	case F_CLEAR: case F_ZERO: {
		if ((err = map_arg(s, n, 0, false)))
			return err;
		struct tp_fmt f = { .action = n->op == F_CLEAR ? TR_ACT_CLEAR : TR_ACT_ZERO, .map = n->kids.v[0]->slot,
				    .size = sizeof(struct tr_rec) };

		add_fmt(s, n, &f);
		return 0;
	}
	case F_DELETE:
		if (nargs == 2) { /* delete(@m, key) */
			struct node *m = n->kids.v[0];

			if (m->k != N_MAP || m->kids.n)
				return ERR(s, n, "delete(@map, key) or delete(@map[key])");
			vec_push(&m->kids, n->kids.v[1]);
			n->kids.n = 1;
		}
		if ((err = map_arg(s, n, 0, true)))
			return err;
		return 0;
	case F_HAS_KEY: {
		struct node *m = n->kids.v[0];

		if (m->k != N_MAP || m->kids.n)
			return ERR(s, n, "has_key(@map, key...)");
		for (int i = 1; i < nargs; i++)
			vec_push(&m->kids, n->kids.v[i]);
		n->kids.n = 1;
		if ((err = map_arg(s, n, 0, true)))
			return err;
		n->ty = t_int(8, false);
		return 0;
	}
	case F_EXIT: {
		struct tp_fmt f = { .action = TR_ACT_EXIT, .nargs = 1, .size = sizeof(struct tr_rec) + 8 };

		f.args[0] = t_int(64, true);
		f.off[0] = sizeof(struct tr_rec);
		if (nargs && n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "exit() takes an integer exit code");
		add_fmt(s, n, &f);
		return 0;
	}
	case F_COUNT: case F_SUM: case F_AVG: case F_MIN: case F_MAX: case F_STATS: case F_HIST: case F_LHIST:
		if (nargs && n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "%s() takes an integer", n->str);
		n->ty = t_int(64, true);
		return 0; /* checked where assigned (stmt) */
	case F_STR:
		if (n->kids.v[0]->ty.k != TY_INT && n->kids.v[0]->ty.k != TY_STR)
			return ERR(s, n->kids.v[0], "str() takes an address or a string");
		if (nargs == 2 && n->kids.v[1]->ty.k != TY_INT)
			return ERR(s, n->kids.v[1], "str()'s length must be an integer");
		n->ty = t_str(s);
		return 0;
	case F_STRNCMP: case F_STRCONTAINS:
		if (!is_str(n->kids.v[0]) || !is_str(n->kids.v[1]))
			return ERR(s, n, "%s() compares strings", n->str);
		if (n->op == F_STRNCMP && !tp_const_int(s->p, n->kids.v[2], &n->num))
			return ERR(s, n->kids.v[2], "strncmp: the length must be a constant");
		n->ty = t_int(64, false);
		return 0;
	case F_KSYM: case F_USYM:
		if (n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "%s() takes an address", n->str);
		n->ty = n->op == F_KSYM ? (struct type){ .k = TY_KSYM, .size = 8 } : (struct type){ .k = TY_USYM, .size = 16 };
		return 0;
	case F_KSTACK: case F_USTACK: {
		struct type t = n->op == F_KSTACK ? (struct type){ .k = TY_KSTACK, .size = 8 }
						  : (struct type){ .k = TY_USTACK, .size = 16 };

		for (int i = 0; i < nargs; i++) {
			struct node *a = n->kids.v[i];
			int64_t v;

			if (a->k == N_BUILTIN && (!strcmp(a->str, "perf") || !strcmp(a->str, "bpftrace") ||
						  !strcmp(a->str, "raw")))
				t.mode = a->str[0] == 'p' ? 1 : a->str[0] == 'r' ? 2 : 0;
			else if (tp_const_int(s->p, a, &v) && v >= 0 && v <= 1024)
				t.limit = (int16_t)v;
			else
				return ERR(s, a, "%s(): a mode (bpftrace, perf, raw) and a constant frame limit", n->str);
		}
		if (n->op == F_KSTACK)
			s->b->kstack = true;
		else
			s->b->ustack = true;
		n->ty = t;
		return 0;
	}
	case F_SIGNAL:
		if (!s->p->unsafe)
			return ERR(s, n, "signal() needs --unsafe");
		if (n->kids.v[0]->k == N_STR) { /* "KILL", "SIGKILL" */
			struct node *a = n->kids.v[0];
			char name[64];
			int64_t v;

			snprintf(name, sizeof(name), "%s%s", strncmp(a->str, "SIG", 3) ? "SIG" : "", a->str);
			if (!tp_known_constant(name, &v) || v < 1 || v > 64)
				return ERR(s, a, "signal(): unknown signal \"%s\"", a->str);
			a->k = N_INT;
			a->num = v;
			a->ty = t_int(64, true);
		}
		return 0;
	case F_OFFSETOF: {
		struct node *ty = n->kids.v[0], *f = n->kids.v[1];
		int id = ty->k == N_BUILTIN ? tp_ktype_struct(ty->str) : -1;
		struct tp_kmember m;

		if (id <= 0)
			return ERR(s, ty, "offsetof: no type %s (in the program or the kernel)", ty->str ? ty->str : "?");
		if (f->k != N_BUILTIN || tp_ktype_member(id, f->str, &m) < 0)
			return ERR(s, f, "offsetof: %s has no field %s", ty->str, f->str ? f->str : "?");
		n->k = N_INT;
		n->num = m.offset;
		n->ty = t_int(64, false);
		return 0;
	}
	case F_CGROUPID: { /* a cgroup v2 directory's id is its inode */
		struct node *a = n->kids.v[0];
		struct stat st;

		if (a->k != N_STR)
			return ERR(s, a, "cgroupid() takes a cgroup's path");
		if (stat(a->str, &st) < 0 || !S_ISDIR(st.st_mode))
			return ERR(s, a, "cgroupid(\"%s\"): not a cgroup directory", a->str);
		n->k = N_INT;
		n->num = (int64_t)st.st_ino;
		n->ty = t_int(64, false);
		return 0;
	}
	case F_SIZEOF: {
		struct node *a = n->kids.v[0];

		n->ty = t_int(64, false);
		if (a->k == N_BUILTIN && !a->op) {
			static const struct { const char *n; int v; } sz[] = {
				{ "int8", 1 }, { "uint8", 1 }, { "int16", 2 }, { "uint16", 2 }, { "int32", 4 },
				{ "uint32", 4 }, { "int64", 8 }, { "uint64", 8 }, { "char", 1 }, { "short", 2 },
				{ "int", 4 }, { "long", 8 },
			};

			for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
				if (!strcmp(a->str, sz[i].n)) {
					n->num = sz[i].v;
					return 0;
				}
			}
			if (strchr(a->str, '*')) {
				n->num = 8;
				return 0;
			}
			if (!strncmp(a->str, "struct ", 7) || !strncmp(a->str, "union ", 6)) {
				int id = tp_ktype_struct(a->str);
				struct tp_kmember m;

				if (id <= 0 || tp_ktype_pointee(id, &m) < 0)
					return ERR(s, a, "sizeof: no type %s (in the program or the kernel)", a->str);
				n->num = m.size;
				return 0;
			}
			if ((err = expr(s, a)))
				return err;
		}
		n->num = a->ty.k == TY_INT ? (a->ty.bits ? a->ty.bits / 8 : 8) : a->ty.size;
		return 0;
	}
	case F_NTOP: {
		struct node *addr = n->kids.v[nargs - 1];

		if (nargs == 2 && n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "ntop(): the family must be an integer (AF_INET, AF_INET6)");
		if (addr->ty.k != TY_INT && addr->ty.k != TY_STR)
			return ERR(s, addr, "ntop() takes an IPv4 address (an integer) or an IPv6 one (16 bytes)");
		n->ty = (struct type){ .k = TY_INET, .size = 24 };
		return 0;
	}
	case F_KADDR: {
		struct node *a = n->kids.v[0];
		uint64_t addr;

		if (a->k != N_STR)
			return ERR(s, a, "kaddr() takes a kernel symbol's name");
		if (!tp_kernel_symbol(a->str, &addr))
			return ERR(s, a, "kaddr(\"%s\"): no such kernel symbol", a->str);
		n->k = N_INT;
		n->num = (int64_t)addr;
		n->ty = t_int(64, false);
		return 0;
	}
	case F_STRFTIME:
		if (n->kids.v[0]->k != N_STR)
			return ERR(s, n->kids.v[0], "strftime() takes a format string first");
		if (n->kids.v[1]->ty.k != TY_INT)
			return ERR(s, n->kids.v[1], "strftime() takes a time in nanoseconds (nsecs)");
		n->ty = (struct type){ .k = TY_TIMESTAMP, .size = 8, .strfmt = n->kids.v[0]->str };
		return 0;
	case F_REG: {
		static const char *const regs[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
						    "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags",
						    "sp", "ss", NULL };
		struct node *a = n->kids.v[0];

		if (a->k != N_STR)
			return ERR(s, a, "reg() takes a register's name (\"ip\", \"sp\", \"di\"...)");
		if (!block_only(s, PT_UPROBE, PT_URETPROBE, PT_USDT) && !block_only(s, PT_PROFILE, PT_SOFTWARE, PT_PROFILE) &&
		    !block_only(s, PT_KPROBE, PT_KRETPROBE, PT_KPROBE))
			return ERR(s, n, "reg() is available in uprobe, kprobe, usdt, profile and software blocks");
		n->num = -1;
		for (int i = 0; regs[i]; i++)
			if (!strcmp(regs[i], a->str))
				n->num = i * 8;
		if (n->num < 0)
			return ERR(s, a, "reg(\"%s\"): not an x86-64 register name", a->str);
		n->ty = t_int(64, false);
		return 0;
	}
	case F_UADDR: {
		struct node *a = n->kids.v[0];
		struct elf_syms *es = NULL;

		if (a->k != N_STR)
			return ERR(s, a, "uaddr() takes a symbol's name");
		for (int i = 0; i < s->b->nprobes && !es; i++) {
			struct tp_probe *pr = &s->p->probes.v[s->b->first_probe + i];

			if (pr->type == PT_UPROBE || pr->type == PT_URETPROBE || pr->type == PT_USDT)
				es = sym_elf_path(s->p->sym, pr->target);
		}
		if (!es)
			return ERR(s, n, "uaddr() is available in uprobe, uretprobe and usdt blocks");
		for (int pass = 0; pass < 2; pass++) {
			VEC(struct elf_sym) *v = pass ? (void *)&es->aliases : (void *)&es->syms;

			for (size_t i = 0; i < v->n; i++) {
				if (strcmp(v->v[i].name, a->str))
					continue;
				n->k = N_INT;
				n->num = (int64_t)v->v[i].addr;
				n->ty = t_int(64, false);
				n->ty.elem_size = (uint8_t)(v->v[i].size >= 8 || !v->v[i].size ? 8 :
							    v->v[i].size >= 4 ? 4 : v->v[i].size >= 2 ? 2 : 1);
				n->ty.elem_sign = true;
				if (es->elf_type == 3 /* ET_DYN */)
					return ERR(s, a, "uaddr(\"%s\"): the binary is position-independent: its address "
						   "is known only in a process (not supported yet)", a->str);
				return 0;
			}
		}
		return ERR(s, a, "uaddr(\"%s\"): no such symbol in the probed binary", a->str);
	}
	case F_BUF: {
		int64_t len = s->p->strlen_max;

		if (n->kids.v[0]->ty.k != TY_INT && n->kids.v[0]->ty.k != TY_STR)
			return ERR(s, n->kids.v[0], "buf() takes an address");
		if (nargs == 2 && (!tp_const_int(s->p, n->kids.v[1], &len) || len < 1 || len > 1024))
			return ERR(s, n->kids.v[1], "buf()'s length must be a constant from 1 to 1024");
		n->num = len;
		n->ty = (struct type){ .k = TY_BUF, .size = (uint16_t)(8 + ((len + 7) & ~7)) };
		return 0;
	}
	case F_BSWAP:
		if (n->kids.v[0]->ty.k != TY_INT)
			return ERR(s, n->kids.v[0], "bswap() takes an integer");
		n->ty = n->kids.v[0]->ty;
		return 0;
	}
	return 0;
}

static int agg_of(int fn)
{
	switch (fn) {
	case F_COUNT: return AG_COUNT;
	case F_SUM: return AG_SUM;
	case F_AVG: return AG_AVG;
	case F_MIN: return AG_MIN;
	case F_MAX: return AG_MAX;
	case F_STATS: return AG_STATS;
	case F_HIST: return AG_HIST;
	case F_LHIST: return AG_LHIST;
	default: return -1;
	}
}

static int assign_var(struct sema *s, struct node *target, struct node *val, bool declare)
{
	struct tp_var *v = find_var(s, target->str);
	struct type t = stored(s, &val->ty);

	if (val->ty.k == TY_NONE)
		return ERR(s, val, "this has no value to assign");
	if (!v) {
		struct tp_var nv = { .block = s->block, .ty = t };

		snprintf(nv.name, sizeof(nv.name), "%s", target->str);
		vec_push(&s->p->vars, nv);
		v = &s->p->vars.v[s->p->vars.n - 1];
	} else if (!same_type(&v->ty, &t)) {
		char a[32], b[32];

		return ERR(s, target, "type mismatch for %s: trying to assign a value of type '%s' when the "
			   "variable already holds a value of type '%s'", target->str, tp_type_name(&t, a, sizeof(a)),
			   tp_type_name(&v->ty, b, sizeof(b)));
	}
	(void)declare;
	target->slot = (int)(v - s->p->vars.v);
	target->ty = v->ty;
	return 0;
}

static int block(struct sema *s, struct node *n)
{
	int err;

	for (size_t i = 0; i < n->kids.n; i++)
		if ((err = stmt(s, n->kids.v[i])))
			return err;
	return 0;
}

static int stmt(struct sema *s, struct node *n)
{
	int err;

	switch (n->k) {
	case N_BLOCK:
		return block(s, n);
	case N_IF:
		if ((err = expr(s, n->a)))
			return err;
		if (n->a->ty.k != TY_INT)
			return ERR(s, n->a, "a condition must be an integer");
		if ((err = block(s, n->b)) || (n->c && (err = block(s, n->c))))
			return err;
		return 0;
	case N_WHILE:
		if ((err = expr(s, n->a)))
			return err;
		if (n->a->ty.k != TY_INT)
			return ERR(s, n->a, "a condition must be an integer");
		s->loop_depth++;
		err = block(s, n->b);
		s->loop_depth--;
		return err;
	case N_UNROLL: {
		int64_t k;

		if (!tp_const_int(s->p, n->a, &k) || k < 1 || k > 100)
			return ERR(s, n->a, "unroll takes a constant from 1 to 100");
		n->num = k;
		return block(s, n->b);
	}
	case N_FOR: {
		struct tp_map *m = find_map(s, n->b);
		struct type el[2], tmp = { .k = TY_TUPLE, .nelem = 2 };
		struct node fake = { .k = N_INT };

		if (m->agg < 0) {
			if (s->pass == 1)
				return ERR(s, n->b, "undefined map: %s", m->name);
			m = NULL;
		}
		if (m && (m->agg == AG_HIST || m->agg == AG_LHIST))
			return ERR(s, n->b, "for loops over histograms are not supported");
		if (!m)
			el[0] = t_int(64, true), el[1] = t_int(64, true);
		else {
			el[0] = m->npart <= 0 ? t_int(64, true) : m->npart == 1 ? m->key.elem[0] : m->key;
			el[1] = m->agg == AG_NONE ? m->val : t_int(64, true);
		}
		tmp.elem = el;
		fake.ty = stored(s, &tmp);
		if ((err = assign_var(s, n->a, &fake, true)))
			return err;
		s->b->has_for = true;
		s->in_for++;
		s->loop_depth++;
		err = block(s, n->c);
		s->loop_depth--;
		s->in_for--;
		return err;
	}
	case N_BREAK: case N_CONTINUE:
		if (!s->loop_depth)
			return ERR(s, n, "%s outside a loop", n->k == N_BREAK ? "break" : "continue");
		return 0;
	case N_RETURN:
		return 0;
	case N_LET:
		if (find_var(s, n->a->str) && s->pass == 1 && 0)
			return ERR(s, n->a, "variable %s is already declared", n->a->str);
		if (!n->b) {
			struct node zero = { .k = N_INT, .ty = t_int(64, true) };

			return assign_var(s, n->a, &zero, true);
		}
		if ((err = expr(s, n->b)))
			return err;
		return assign_var(s, n->a, n->b, true);
	case N_EXPR:
		if (n->a->k == N_INCDEC)
			goto incdec;
		if (n->a->k == N_CALL) {
			if ((err = expr(s, n->a)))
				return err;
			if (agg_of(n->a->op) >= 0)
				return ERR(s, n->a, "%s() must be assigned to a map (@x = %s(...))", n->a->str, n->a->str);
			return 0;
		}
		if ((err = expr(s, n->a)))
			return err;
		return 0; /* a value computed for nothing, as bpftrace allows */
	incdec: {
		struct node *t = n->a->a;

		if (t->k == N_VAR) {
			struct tp_var *v = find_var(s, t->str);

			if (!v)
				return ERR(s, t, "undefined variable %s", t->str);
			if (v->ty.k != TY_INT)
				return ERR(s, t, "%s is not an integer", t->str);
			t->slot = (int)(v - s->p->vars.v);
			t->ty = v->ty;
			return 0;
		}
		if (t->k != N_MAP)
			return ERR(s, t, "only maps and $variables can be incremented");
		if ((err = map_key(s, t)))
			return err;
		struct type it = t_int(64, true);

		if (s->p->maps.v[t->slot].agg == AG_COUNT || s->p->maps.v[t->slot].agg == AG_SUM)
			return 0; /* @x = count() ... @x++ */
		return map_value(s, t, AG_NONE, &it, NULL);
	}
	case N_ASSIGN: {
		struct node *t = n->a, *v = n->b;

		if (t->k == N_VAR) {
			if ((err = expr(s, v)))
				return err;
			if (v->k == N_CALL && agg_of(v->op) >= 0)
				return ERR(s, v, "%s() must be assigned to a map", v->str);
			if (n->op) {
				struct tp_var *var = find_var(s, t->str);

				if (!var)
					return ERR(s, t, "undefined variable %s", t->str);
				if (var->ty.k != TY_INT || v->ty.k != TY_INT)
					return ERR(s, n, "compound assignment needs integers");
			}
			return assign_var(s, t, v, false);
		}
		if ((err = map_key(s, t)) || (err = expr(s, v)))
			return err;
		if (v->k == N_CALL && agg_of(v->op) >= 0) {
			if (n->op)
				return ERR(s, n, "an aggregation is assigned with '='");
			return map_value(s, t, agg_of(v->op), NULL, v);
		}
		if (v->ty.k == TY_NONE)
			return ERR(s, v, "this has no value to assign");
		if (n->op) {
			struct type it = t_int(64, true);

			if (v->ty.k != TY_INT)
				return ERR(s, v, "compound assignment needs an integer");
			if (s->p->maps.v[t->slot].agg == AG_COUNT || s->p->maps.v[t->slot].agg == AG_SUM)
				return 0;
			return map_value(s, t, AG_NONE, &it, NULL);
		}
		return map_value(s, t, AG_NONE, &v->ty, NULL);
	}
	default:
		return ERR(s, n, "syntax error: this is not a statement");
	}
}

/* Kinds of a block's programs. */
static uint32_t block_kinds(struct tp_program *p, struct tp_block *b)
{
	uint32_t k = 0;

	for (int i = 0; i < b->nprobes; i++) {
		switch (p->probes.v[b->first_probe + i].type) {
		case PT_PROFILE: case PT_SOFTWARE: case PT_WATCHPOINT: k |= 1u << TK_PERF; break;
		case PT_TRACEPOINT: k |= 1u << TK_TRACEPOINT; break;
		case PT_UPROBE: k |= 1u << TK_UPROBE; break;
		case PT_URETPROBE: k |= 1u << TK_URETPROBE; break;
		case PT_KPROBE: k |= 1u << TK_KPROBE; break;
		case PT_KRETPROBE: k |= 1u << TK_KRETPROBE; break;
		case PT_RAWTP: k |= 1u << TK_RAWTP; break;
		case PT_USDT: k |= 1u << TK_USDT; break;
		default: k |= 1u << TK_USER; break;
		}
	}
	return k;
}

int tp_sema(struct tp_program *p)
{
	struct sema s = { .p = p };
	int err;

	for (s.pass = 0; s.pass < 2; s.pass++) {
		/* variables are the block's; learnt again in each pass */
		p->vars.n = 0;
		for (size_t i = 0; i < p->blocks.n; i++) {
			s.block = (int)i;
			s.b = &p->blocks.v[i];
			s.b->kinds = block_kinds(p, s.b);
			if (s.b->pred) {
				if ((err = expr(&s, s.b->pred)))
					goto fail;
				if (s.b->pred->ty.k != TY_INT) {
					err = ERR(&s, s.b->pred, "a predicate must be an integer");
					goto fail;
				}
			}
			if ((err = block(&s, s.b->body)))
				goto fail;
		}
	}
	for (size_t i = 0; i < p->maps.n; i++) {
		struct tp_map *m = &p->maps.v[i];

		if (m->agg < 0)
			return tp_error(p->src, m->first_pos, (int)strlen(m->name), "undefined map: %s", m->name);
		m->percpu = m->agg != AG_NONE;
		m->key_size = m->npart > 0 ? m->key.size : 8;
		if (m->agg == AG_HIST || m->agg == AG_LHIST)
			m->key_size += 8; /* the bucket */
		m->val_size = m->agg == AG_NONE ? m->val.size :
			      (m->agg == AG_AVG || m->agg == AG_STATS || m->agg == AG_MIN || m->agg == AG_MAX) ? 16 : 8;
		if (m->val_size < 8)
			m->val_size = 8;
	}
	return 0;
fail:
	return err;
}
