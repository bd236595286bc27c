/* Rust's v0 symbol mangling (RFC 2603) read back into the names Rust's own
 * tools print: "_RNvNtCs1234_5crate6module4func" is crate::module::func.
 * Paths, impls (<T>::f, <T as Trait>::f), closures ({closure#0}), generic
 * arguments (::<T, U>), the types they name, back-references. Crate
 * disambiguators (hashes) are left out, as rustc-demangle's default
 * display does; punycode identifiers are shown as they are stored. */
#include "symbols/rustv0.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct v0 {
	const char *s;      /* after "_R" */
	size_t pos, len;
	char *out;
	size_t n, cap;
	int depth;          /* recursion bound (hostile input) */
	int quiet;          /* parsing what is not shown (an impl's own path) */
	bool bad;
};

static void put(struct v0 *d, const char *s, size_t n)
{
	if (d->bad || d->quiet)
		return;
	if (d->n + n > (1u << 16)) { /* back-references can nest exponentially */
		d->bad = true;
		return;
	}
	if (d->n + n + 1 > d->cap) {
		d->cap = (d->n + n + 1) * 2;
		d->out = xrealloc(d->out, d->cap);
	}
	memcpy(d->out + d->n, s, n);
	d->n += n;
	d->out[d->n] = 0;
}

static void puts_(struct v0 *d, const char *s)
{
	put(d, s, strlen(s));
}

static char peek(struct v0 *d)
{
	return d->pos < d->len ? d->s[d->pos] : 0;
}

static bool eat(struct v0 *d, char c)
{
	if (peek(d) != c)
		return false;
	d->pos++;
	return true;
}

/* {0-9a-zA-Z} "_": "_" is 0, else the digits' value + 1. */
static uint64_t base62(struct v0 *d)
{
	uint64_t v = 0;

	if (eat(d, '_'))
		return 0;
	for (;;) {
		char c = peek(d);
		int x;

		if (c == '_') {
			d->pos++;
			return v + 1;
		}
		if (c >= '0' && c <= '9')
			x = c - '0';
		else if (c >= 'a' && c <= 'z')
			x = c - 'a' + 10;
		else if (c >= 'A' && c <= 'Z')
			x = c - 'A' + 36;
		else {
			d->bad = true;
			return 0;
		}
		d->pos++;
		if (v > UINT64_MAX / 62) {
			d->bad = true;
			return 0;
		}
		v = v * 62 + (uint64_t)x;
	}
}

static uint64_t decimal(struct v0 *d)
{
	uint64_t v = 0;

	if (peek(d) < '0' || peek(d) > '9') {
		d->bad = true;
		return 0;
	}
	if (eat(d, '0')) /* 0 is one digit: "00" is two zeros */
		return 0;
	while (peek(d) >= '0' && peek(d) <= '9') {
		v = v * 10 + (uint64_t)(d->s[d->pos++] - '0');
		if (v > d->len) {
			d->bad = true;
			return 0;
		}
	}
	return v;
}

static uint64_t disambiguator(struct v0 *d)
{
	return eat(d, 's') ? base62(d) + 1 : 0;
}

/* An identifier: its text's place in the input. */
static void ident(struct v0 *d, const char **text, size_t *n)
{
	bool puny = eat(d, 'u');
	uint64_t len = decimal(d);

	(void)puny;
	eat(d, '_');
	if (d->bad || d->pos + len > d->len) {
		d->bad = true;
		*text = "";
		*n = 0;
		return;
	}
	*text = d->s + d->pos;
	*n = (size_t)len;
	d->pos += (size_t)len;
}

static void path(struct v0 *d, bool in_value);
static void type(struct v0 *d);

/* Runs f at a back-reference's target, then returns here. */
static bool backref(struct v0 *d, void (*f)(struct v0 *, bool), bool arg)
{
	size_t at = d->pos - 1; /* the 'B' */
	uint64_t target = base62(d);
	size_t save = d->pos;

	if (d->bad || target >= at) { /* only backwards: no loops */
		d->bad = true;
		return false;
	}
	d->pos = (size_t)target;
	f(d, arg);
	d->pos = save;
	return true;
}

static void type_as_path(struct v0 *d, bool unused)
{
	(void)unused;
	type(d);
}

static void generic_args(struct v0 *d)
{
	bool first = true;

	puts_(d, "<");
	while (!d->bad && !eat(d, 'E')) {
		if (!first)
			puts_(d, ", ");
		first = false;
		if (eat(d, 'L')) { /* a lifetime */
			base62(d);
			puts_(d, "'_");
		} else if (eat(d, 'K')) { /* a const */
			if (eat(d, 'p')) {
				puts_(d, "_");
			} else if (eat(d, 'B')) {
				backref(d, type_as_path, false);
			} else { /* a type (not shown), the value in hex digits up to '_' */
				unsigned long long v = 0;
				bool neg;
				char num[32];

				d->quiet++;
				type(d);
				d->quiet--;
				neg = eat(d, 'n');
				while (peek(d) && peek(d) != '_')
					v = v * 16 + (unsigned long long)(peek(d) <= '9' ? peek(d) - '0' : (peek(d) | 0x20) - 'a' + 10),
					d->pos++;
				eat(d, '_');
				snprintf(num, sizeof(num), "%s%llu", neg ? "-" : "", v);
				puts_(d, num);
			}
		} else {
			type(d);
		}
		if (!peek(d)) {
			d->bad = true;
			break;
		}
	}
	puts_(d, ">");
}

static void type(struct v0 *d)
{
	static const char *const basic[26] = {
		['a' - 'a'] = "i8", ['b' - 'a'] = "bool", ['c' - 'a'] = "char", ['d' - 'a'] = "f64",
		['e' - 'a'] = "str", ['f' - 'a'] = "f32", ['h' - 'a'] = "u8", ['i' - 'a'] = "isize",
		['j' - 'a'] = "usize", ['l' - 'a'] = "i32", ['m' - 'a'] = "u32", ['n' - 'a'] = "i128",
		['o' - 'a'] = "u128", ['s' - 'a'] = "i16", ['t' - 'a'] = "u16", ['u' - 'a'] = "()",
		['v' - 'a'] = "...", ['x' - 'a'] = "i64", ['y' - 'a'] = "u64", ['z' - 'a'] = "!",
		['p' - 'a'] = "_",
	};
	char c = peek(d);

	if (++d->depth > 200 || d->bad) {
		d->bad = true;
		return;
	}
	if (c >= 'a' && c <= 'z' && basic[c - 'a']) {
		d->pos++;
		puts_(d, basic[c - 'a']);
	} else if (eat(d, 'R') || eat(d, 'Q')) {
		bool mut = d->s[d->pos - 1] == 'Q';

		if (eat(d, 'L'))
			base62(d);
		puts_(d, mut ? "&mut " : "&");
		type(d);
	} else if (eat(d, 'P') || eat(d, 'O')) {
		puts_(d, d->s[d->pos - 1] == 'P' ? "*const " : "*mut ");
		type(d);
	} else if (eat(d, 'A')) {
		puts_(d, "[");
		type(d);
		puts_(d, "; ");
		if (eat(d, 'K')) {
			type(d);
			while (peek(d) && peek(d) != '_')
				d->pos++;
			eat(d, '_');
		}
		puts_(d, "N]");
	} else if (eat(d, 'S')) {
		puts_(d, "[");
		type(d);
		puts_(d, "]");
	} else if (eat(d, 'T')) {
		int n = 0;

		puts_(d, "(");
		while (!d->bad && !eat(d, 'E')) {
			if (n++)
				puts_(d, ", ");
			type(d);
			if (!peek(d))
				d->bad = true;
		}
		puts_(d, n == 1 ? ",)" : ")");
	} else if (eat(d, 'F')) { /* fn(...) -> ...: shown as fn(..) */
		if (eat(d, 'G'))
			base62(d);
		eat(d, 'U');
		if (eat(d, 'K')) {
			if (!eat(d, 'C')) {
				const char *t;
				size_t n;

				ident(d, &t, &n);
			}
		}
		puts_(d, "fn(");
		bool first = true;

		while (!d->bad && !eat(d, 'E')) {
			if (!first)
				puts_(d, ", ");
			first = false;
			type(d);
			if (!peek(d))
				d->bad = true;
		}
		puts_(d, ")");
		if (!eat(d, 'u')) { /* -> () is not shown */
			puts_(d, " -> ");
			type(d);
		}
	} else if (eat(d, 'D')) { /* dyn Trait + ... */
		puts_(d, "dyn ");
		if (eat(d, 'G'))
			base62(d);
		bool first = true;

		while (!d->bad && !eat(d, 'E')) {
			if (!first)
				puts_(d, " + ");
			first = false;
			path(d, false);
			bool open = false;

			while (eat(d, 'p')) { /* Trait<..., Output = T> */
				const char *t;
				size_t n;

				if (!open && !d->quiet && d->n && d->out[d->n - 1] == '>') {
					d->out[--d->n] = 0;
					puts_(d, ", ");
				} else {
					puts_(d, open ? ", " : "<");
				}
				open = true;
				ident(d, &t, &n);
				put(d, t, n);
				puts_(d, " = ");
				type(d);
			}
			if (open)
				puts_(d, ">");
			if (!peek(d))
				d->bad = true;
		}
		if (eat(d, 'L'))
			base62(d);
	} else if (eat(d, 'B')) {
		backref(d, type_as_path, false);
	} else {
		path(d, false);
	}
	d->depth--;
}

static void path(struct v0 *d, bool in_value)
{
	char c = peek(d);

	if (++d->depth > 200 || d->bad || !c) {
		d->bad = true;
		return;
	}
	d->pos++;
	switch (c) {
	case 'C': { /* the crate root: its name (the disambiguator is its hash) */
		const char *t;
		size_t n;

		disambiguator(d);
		ident(d, &t, &n);
		put(d, t, n);
		break;
	}
	case 'M': /* <T>: the impl's own path (where it is) is not shown */
		disambiguator(d);
		d->quiet++;
		path(d, false);
		d->quiet--;
		puts_(d, "<");
		type(d);
		puts_(d, ">");
		break;
	case 'X': /* <T as Trait> */
		disambiguator(d);
		d->quiet++;
		path(d, false);
		d->quiet--;
		/* fall through */
	case 'Y':
		puts_(d, "<");
		type(d);
		puts_(d, " as ");
		path(d, false);
		puts_(d, ">");
		break;
	case 'N': {
		char ns = peek(d);
		const char *t;
		size_t n;
		uint64_t dis;

		d->pos++;
		path(d, in_value);
		dis = disambiguator(d);
		ident(d, &t, &n);
		if (ns >= 'A' && ns <= 'Z') { /* special: closures, shims */
			puts_(d, "::{");
			puts_(d, ns == 'C' ? "closure" : ns == 'S' ? "shim" : "?");
			if (n) {
				puts_(d, ":");
				put(d, t, n);
			}
			char num[32];

			snprintf(num, sizeof(num), "#%llu}", (unsigned long long)dis);
			puts_(d, num);
		} else if (n) {
			puts_(d, "::");
			put(d, t, n);
		}
		break;
	}
	case 'I':
		path(d, in_value);
		if (in_value)
			puts_(d, "::");
		generic_args(d);
		break;
	case 'B':
		backref(d, path, in_value);
		break;
	default:
		d->bad = true;
	}
	d->depth--;
}

char *rust_v0_demangle(const char *sym)
{
	struct v0 d = { 0 };
	const char *s = sym;

	if (!strncmp(s, "__R", 3))
		s++; /* some platforms add an underscore */
	if (strncmp(s, "_R", 2))
		return NULL;
	d.s = s + 2;
	d.len = strlen(d.s);
	if (peek(&d) >= '0' && peek(&d) <= '9') /* an encoding version */
		decimal(&d);
	put(&d, "", 0);
	path(&d, true);
	/* an instantiating crate and a vendor suffix may follow: not shown */
	if (d.bad || !d.n) {
		free(d.out);
		return NULL;
	}
	return d.out;
}
