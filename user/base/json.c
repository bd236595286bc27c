/* The JSON reader (json.h): recursive descent over the text. The members of
 * the container being read wait on one shared stack and are copied into the
 * arena when it closes, so each container is one allocation of its exact
 * size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

#define JSON_MAX_DEPTH 256

struct json_parser {
	const char *p, *end, *start;
	struct arena *a;
	VEC(struct json) pending; /* members of the open containers */
	char *why;
	size_t why_len;
	bool failed;
};

static void fail(struct json_parser *jp, const char *what)
{
	if (!jp->failed)
		snprintf(jp->why, jp->why_len, "%s at byte %zu", what, (size_t)(jp->p - jp->start));
	jp->failed = true;
}

static void skip_space(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static bool literal(struct json_parser *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return false;
	jp->p += n;
	return true;
}

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at jp->p (the opening quote), unescaped into the arena. */
static const char *string(struct json_parser *jp)
{
	const char *s = ++jp->p, *q = s;
	char *out, *o;

	while (q < jp->end && *q != '"') /* its extent: escapes are never longer unescaped */
		q += *q == '\\' && q + 1 < jp->end ? 2 : 1;
	if (q >= jp->end) {
		fail(jp, "unterminated string");
		return NULL;
	}
	o = out = arena_alloc(jp->a, (size_t)(q - s) + 1);
	while (jp->p < q) {
		unsigned char c = (unsigned char)*jp->p++;
		int cp, lo;

		if (c < 0x20) {
			jp->p--;
			fail(jp, "control character in a string");
			return NULL;
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		switch (*jp->p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (q - jp->p < 4 || (cp = hex4(jp->p)) < 0) {
				fail(jp, "bad \\u escape");
				return NULL;
			}
			jp->p += 4;
			/* a surrogate pair: one code point (6 bytes in, 4 out) */
			if (cp >= 0xd800 && cp < 0xdc00 && q - jp->p >= 6 && jp->p[0] == '\\' && jp->p[1] == 'u' &&
			    (lo = hex4(jp->p + 2)) >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				jp->p += 6;
			}
			o += put_utf8(o, (unsigned)cp);
			break;
		default:
			jp->p--;
			fail(jp, "bad escape");
			return NULL;
		}
	}
	*o = 0;
	jp->p = q + 1;
	return out;
}

static bool value(struct json_parser *jp, struct json *v, int depth);

/* The members of an array or object, after its opening bracket. */
static bool container(struct json_parser *jp, struct json *v, int depth)
{
	bool obj = *jp->p++ == '{';
	char close = obj ? '}' : ']';
	size_t base = jp->pending.n;

	v->type = obj ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= JSON_MAX_DEPTH) {
		fail(jp, "nested too deep");
		return false;
	}
	skip_space(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		v->n = 0;
		v->items = NULL;
		return true;
	}
	for (;;) {
		struct json m = { 0 };

		skip_space(jp);
		if (obj) {
			if (jp->p >= jp->end || *jp->p != '"') {
				fail(jp, "expected a member name");
				return false;
			}
			if (!(m.key = string(jp)))
				return false;
			skip_space(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				fail(jp, "expected ':'");
				return false;
			}
			jp->p++;
		}
		if (!value(jp, &m, depth + 1))
			return false;
		vec_push(&jp->pending, m);
		skip_space(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			break;
		}
		fail(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		return false;
	}
	v->n = (uint32_t)(jp->pending.n - base);
	v->items = arena_alloc(jp->a, v->n * sizeof(struct json));
	memcpy(v->items, jp->pending.v + base, v->n * sizeof(struct json));
	jp->pending.n = base;
	return true;
}

static bool value(struct json_parser *jp, struct json *v, int depth)
{
	const char *key = v->key;

	skip_space(jp);
	if (jp->p >= jp->end) {
		fail(jp, "unexpected end");
		return false;
	}
	memset(v, 0, sizeof(*v));
	v->key = key;
	switch (*jp->p) {
	case '{':
	case '[':
		return container(jp, v, depth);
	case '"':
		v->type = JSON_STRING;
		return (v->str = string(jp)) != NULL;
	case 't':
		v->type = JSON_TRUE;
		break;
	case 'f':
		v->type = JSON_FALSE;
		break;
	case 'n':
		v->type = JSON_NULL;
		break;
	default: {
		/* a number: strtod on a bounded copy (the text is not NUL-terminated) */
		char buf[64];
		size_t n = 0;
		char *end;

		while (jp->p + n < jp->end && n < sizeof(buf) - 1 && strchr("+-0123456789.eE", jp->p[n]))
			n++;
		memcpy(buf, jp->p, n);
		buf[n] = 0;
		v->type = JSON_NUMBER;
		v->num = n ? strtod(buf, &end) : 0;
		if (!n || end != buf + n || !isfinite(v->num)) {
			fail(jp, "bad value");
			return false;
		}
		jp->p += n;
		return true;
	}
	}
	if (!literal(jp, v->type == JSON_TRUE ? "true" : v->type == JSON_FALSE ? "false" : "null")) {
		fail(jp, "bad value");
		return false;
	}
	return true;
}

struct json *json_parse(const char *text, size_t len, struct arena *a, char *why, size_t why_len)
{
	struct json_parser jp = { .p = text, .end = text + len, .start = text, .a = a, .why = why,
				  .why_len = why_len };
	struct json *root = arena_alloc(a, sizeof(*root));
	bool ok;

	memset(root, 0, sizeof(*root));
	ok = value(&jp, root, 0);
	skip_space(&jp);
	if (ok && jp.p != jp.end) {
		fail(&jp, "text after the value");
		ok = false;
	}
	vec_free(&jp.pending);
	return ok ? root : NULL;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (uint32_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->items[i].key, key))
			return &obj->items[i];
	return NULL;
}

double json_num(const struct json *obj, const char *key, double dflt)
{
	const struct json *m = json_get(obj, key);

	return m && m->type == JSON_NUMBER ? m->num : dflt;
}

uint64_t json_uint(const struct json *obj, const char *key, uint64_t max)
{
	double v = json_num(obj, key, 0);

	if (!(v > 0))
		return 0;
	return v >= (double)max ? max : (uint64_t)v;
}

const char *json_str(const struct json *obj, const char *key, const char *dflt)
{
	const struct json *m = json_get(obj, key);

	return m && m->type == JSON_STRING ? m->str : dflt;
}
