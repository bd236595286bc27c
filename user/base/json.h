/* A JSON reader: the whole text parsed into a tree of values, allocated in
 * one arena (freed at once). For files we read back (a saved timeline);
 * bounded in depth, and a malformed text is an error with its offset. */
#ifndef BPFPROF_JSON_H
#define BPFPROF_JSON_H

#include "base/util.h"

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	uint32_t n;               /* array or object: how many members */
	const char *key;          /* a member of an object: its name */
	union {
		double num;
		const char *str;  /* NUL-terminated (a \u0000 in it ends it early) */
		struct json *items;
	};
};

/* Parses text (len bytes) into a tree in a; NULL with why set if it is not
 * one JSON value (why names the byte offset). */
struct json *json_parse(const char *text, size_t len, struct arena *a, char *why, size_t why_len);
/* The member key of an object (the first one), or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* A member as a number or string, or dflt when it is absent or not one. */
double json_num(const struct json *obj, const char *key, double dflt);
/* A member as a whole number in [0, max] (clamped; 0 when absent, not a
 * number or negative): a cast of an out-of-range double is undefined. */
uint64_t json_uint(const struct json *obj, const char *key, uint64_t max);
const char *json_str(const struct json *obj, const char *key, const char *dflt);

#endif
