/* trace: C type definitions in a program (struct, union, enum), as bpftrace
 * takes them for casts of user memory: `struct req { int id; char name[16]; };
 * uprobe:./srv:handle { $r = (struct req *)arg0; printf("%s\n", $r->name); }`.
 * Structs and unions are laid out as C (x86-64 alignment) into a BTF object
 * of the program's own, which ktypes.c searches before the kernel's; enum
 * members become constants. No compiler: members are base types, pointers,
 * arrays and earlier structs. */
#include "trace/parser.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

struct cword {
	const char *s;
	int len, pos;
};

static bool cnext(struct parser *ps, struct cword *w)
{
	const char *s = ps->s;

	lex_skip_space(ps);
	w->pos = ps->pos;
	w->s = s + ps->pos;
	if (!s[ps->pos]) {
		w->len = 0;
		return false;
	}
	if (isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_') {
		while (isalnum((unsigned char)s[ps->pos]) || s[ps->pos] == '_')
			ps->pos++;
	} else {
		ps->pos++;
	}
	w->len = ps->pos - w->pos;
	return true;
}

static bool is(const struct cword *w, const char *t)
{
	return (int)strlen(t) == w->len && !strncmp(w->s, t, (size_t)w->len);
}

/* A base type's size, signedness and BTF id (added once). */
static int base_type(struct btf *b, const char *name, int size, bool sign)
{
	int id = btf__find_by_name(b, name);

	if (id > 0)
		return id;
	return btf__add_int(b, name, (size_t)size, sign ? BTF_INT_SIGNED : (size == 1 ? BTF_INT_CHAR : 0));
}

struct ctype {
	int id;          /* BTF type */
	int size, align;
};

static int type_align(struct btf *b, int id)
{
	int a = btf__align_of(b, (uint32_t)id);

	return a > 0 ? a : 1;
}

/* The type words before a member's name: base types, struct/union NAME. */
static int parse_base(struct parser *ps, struct btf *b, struct cword *w, struct ctype *out)
{
	int longs = 0, shorts = 0, chars = 0, ints = 0, bools = 0, voids = 0;
	bool sign = true, any = false;

	for (;;) {
		if (is(w, "const") || is(w, "volatile") || is(w, "signed")) {
			any |= is(w, "signed");
		} else if (is(w, "unsigned")) {
			sign = false, any = true;
		} else if (is(w, "long")) {
			longs++, any = true;
		} else if (is(w, "short")) {
			shorts++, any = true;
		} else if (is(w, "char")) {
			chars++, any = true;
		} else if (is(w, "int")) {
			ints++, any = true;
		} else if (is(w, "bool") || is(w, "_Bool")) {
			bools++, any = true;
		} else if (is(w, "void")) {
			voids++, any = true;
		} else if (!any && (is(w, "struct") || is(w, "union"))) {
			char name[128];
			int id;

			cnext(ps, w);
			snprintf(name, sizeof(name), "%.*s", w->len, w->s);
			id = btf__find_by_name_kind(b, name, BTF_KIND_STRUCT);
			if (id < 0)
				id = btf__find_by_name_kind(b, name, BTF_KIND_UNION);
			if (id < 0)
				return parse_error_at(ps, w->pos, w->len, "struct %s is not defined before its use", name);
			out->id = id;
			out->size = (int)btf__resolve_size(b, (uint32_t)id);
			out->align = type_align(b, id);
			cnext(ps, w);
			return 0;
		} else if (!any) {
			static const struct { const char *n; int size; bool sign; } named[] = {
				{ "uint8_t", 1, false }, { "uint16_t", 2, false }, { "uint32_t", 4, false },
				{ "uint64_t", 8, false }, { "int8_t", 1, true }, { "int16_t", 2, true },
				{ "int32_t", 4, true }, { "int64_t", 8, true }, { "u8", 1, false }, { "u16", 2, false },
				{ "u32", 4, false }, { "u64", 8, false }, { "s8", 1, true }, { "s16", 2, true },
				{ "s32", 4, true }, { "s64", 8, true }, { "size_t", 8, false }, { "ssize_t", 8, true },
				{ "pid_t", 4, true }, { "uid_t", 4, false }, { "__u8", 1, false }, { "__u16", 2, false },
				{ "__u32", 4, false }, { "__u64", 8, false }, { "uintptr_t", 8, false }, { "off_t", 8, true },
			};
			char name[64];

			snprintf(name, sizeof(name), "%.*s", w->len, w->s);
			for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
				if (!strcmp(name, named[i].n)) {
					out->id = base_type(b, name, named[i].size, named[i].sign);
					out->size = out->align = named[i].size;
					cnext(ps, w);
					return 0;
				}
			}
			return parse_error_at(ps, w->pos, w->len ? w->len : 1, "unknown type '%s' in a C definition", name);
		} else {
			break;
		}
		if (!cnext(ps, w))
			break;
	}
	int size = voids ? 1 : bools || chars ? 1 : shorts ? 2 : longs ? 8 : 4;
	const char *name = voids ? "void" : bools ? "bool" : chars ? (sign ? "char" : "unsigned char") :
			   shorts ? (sign ? "short" : "unsigned short") : longs ? (sign ? "long" : "unsigned long") :
			   (sign ? "int" : "unsigned int");

	(void)ints;
	out->id = base_type(b, name, size, sign && !bools);
	out->size = out->align = size;
	return 0;
}

/* struct|union NAME { members } ; with the keyword read. */
static int parse_record(struct parser *ps, struct btf *b, bool is_union, struct cword *w)
{
	char name[128];
	struct { char name[128]; int type, off; } members[128];
	int n = 0, size = 0, align = 1, err, id;

	cnext(ps, w);
	snprintf(name, sizeof(name), "%.*s", w->len, w->s);
	if (!cnext(ps, w) || !is(w, "{"))
		return parse_error_at(ps, w->pos, 1, "expected '{' in the definition of %s", name);
	cnext(ps, w);
	while (!is(w, "}")) {
		struct ctype t = { 0 };
		int ptrs = 0, count = 1;

		if (!w->len)
			return parse_error_at(ps, w->pos, 1, "unterminated definition of %s", name);
		if ((err = parse_base(ps, b, w, &t)))
			return err;
		while (is(w, "*"))
			ptrs++, cnext(ps, w);
		if (!(isalpha((unsigned char)w->s[0]) || w->s[0] == '_'))
			return parse_error_at(ps, w->pos, w->len, "expected a member name in %s", name);
		if (n >= 128)
			return parse_error_at(ps, w->pos, w->len, "more than 128 members in %s", name);
		snprintf(members[n].name, sizeof(members[n].name), "%.*s", w->len, w->s);
		cnext(ps, w);
		if (is(w, "[")) {
			cnext(ps, w);
			count = atoi(w->s);
			cnext(ps, w);
			if (!is(w, "]") || count < 0)
				return parse_error_at(ps, w->pos, 1, "expected ']' after an array size");
			cnext(ps, w);
		}
		if (is(w, ":"))
			return parse_error_at(ps, w->pos, 1, "bit fields are not supported");
		if (!is(w, ";"))
			return parse_error_at(ps, w->pos, w->len ? w->len : 1, "expected ';' after member %s", members[n].name);
		cnext(ps, w);
		int type = t.id, msize = t.size, malign = t.align;

		for (int i = 0; i < ptrs; i++)
			type = btf__add_ptr(b, type), msize = malign = 8;
		if (count != 1 || w->s[0] == '\0') {
			int idx = base_type(b, "unsigned int", 4, false);

			type = btf__add_array(b, idx, type, (uint32_t)count);
			msize *= count;
		}
		int off = is_union ? 0 : (size + malign - 1) / malign * malign;

		members[n].type = type;
		members[n].off = off;
		n++;
		size = is_union ? (msize > size ? msize : size) : off + msize;
		if (malign > align)
			align = malign;
	}
	size = (size + align - 1) / align * align;
	id = is_union ? btf__add_union(b, name, (uint32_t)size) : btf__add_struct(b, name, (uint32_t)size);
	for (int i = 0; i < n && id > 0; i++)
		btf__add_field(b, members[i].name, members[i].type, (uint32_t)members[i].off * 8, 0);
	if (id < 0)
		return parse_error_at(ps, w->pos, 1, "cannot record the definition of %s: %s", name, strerror(-id));
	cnext(ps, w); /* ';' */
	return 0;
}

/* enum [NAME] { A, B = 5, C }; its members as constants (#define). */
static int parse_enum(struct parser *ps, struct cword *w)
{
	int64_t next = 0;

	cnext(ps, w);
	if (!is(w, "{"))
		cnext(ps, w);
	if (!is(w, "{"))
		return parse_error_at(ps, w->pos, 1, "expected '{' in an enum");
	cnext(ps, w);
	while (!is(w, "}")) {
		struct tp_macro m = { 0 };
		struct node *v = xcalloc(1, sizeof(*v));

		vec_push(&ps->p->nodes, v); /* freed with the program, whatever happens */
		if (!w->len)
			return parse_error_at(ps, w->pos, 1, "unterminated enum");
		snprintf(m.name, sizeof(m.name), "%.*s", w->len, w->s);
		cnext(ps, w);
		if (is(w, "=")) {
			char *end;

			lex_skip_space(ps);
			next = strtoll(ps->s + ps->pos, &end, 0);
			ps->pos = (int)(end - ps->s);
			cnext(ps, w);
		}
		v->k = N_INT;
		v->num = next++;
		m.value = v;
		vec_push(&ps->p->macros, m);
		if (is(w, ","))
			cnext(ps, w);
	}
	cnext(ps, w);
	if (!is(w, ";"))
		ps->pos = w->pos;
	return 0;
}

int tp_cdefs_parse(struct parser *ps)
{
	struct cword w;

	if (!ps->p->ubtf) {
		ps->p->ubtf = btf__new_empty();
		if (libbpf_get_error(ps->p->ubtf)) {
			ps->p->ubtf = NULL;
			return parse_error_at(ps, ps->pos, 1, "cannot hold C definitions");
		}
		tp_ktype_user(ps->p->ubtf);
	}
	cnext(ps, &w);
	if (is(&w, "typedef"))
		return parse_error_at(ps, w.pos, w.len, "typedef is not supported yet: name the struct");
	if (is(&w, "enum"))
		return parse_enum(ps, &w);
	return parse_record(ps, ps->p->ubtf, is(&w, "union"), &w);
}
