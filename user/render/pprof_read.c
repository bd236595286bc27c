/* Reads pprof profiles (ours, Go's runtime/pprof, any profile.proto writer)
 * into the profile model, checking every index and length on the way. */
#include "render/pprof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_UNCOMPRESSED (1ULL << 31)

struct dec {
	VEC(struct pb_reader) samples, mappings, locations, functions;
	VEC(const char *) strs;   /* pointers into a copy with NULs */
	struct arena arena;
	VEC(uint64_t) comments;
	struct pb_reader period_type;
	bool has_period_type;
	struct pf_value_type types[PF_MAX_TYPES];
	uint64_t type_ids[PF_MAX_TYPES][2];
	int ntypes;
	int64_t time_ns, duration_ns, period;
	uint64_t default_type;
	char *why;
	size_t why_len;
};

static bool fail(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->why[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(d->why, d->why_len, fmt, ap);
	va_end(ap);
	return false;
}

static bool str_ok(struct dec *d, uint64_t i, const char *what)
{
	if (i < d->strs.n)
		return true;
	return fail(d, "%s refers to string %llu of %zu", what, (unsigned long long)i, d->strs.n);
}

/* Repeated uint64: packed (LEN) or one varint per field. */
static bool read_repeated(struct pb_reader *r, int wire, void *vec_ptr)
{
	VEC(uint64_t) *v = vec_ptr;

	if (wire == PB_VARINT) {
		vec_push(v, pb_read_varint(r));
	} else if (wire == PB_LEN) {
		struct pb_reader sub = pb_read_len(r);

		while (!sub.error && sub.p < sub.end)
			vec_push(v, pb_read_varint(&sub));
		if (sub.error)
			r->error = true;
	} else {
		r->error = true;
	}
	return !r->error;
}

static bool top_level(struct dec *d, struct pb_reader *r)
{
	uint32_t f;
	int w;

	while (pb_next(r, &f, &w)) {
		if (w == PB_LEN && (f <= 6 || f == 11)) {
			struct pb_reader sub = pb_read_len(r);

			if (r->error)
				break;
			switch (f) {
			case 1: {
				uint32_t ff;
				int ww;

				if (d->ntypes == PF_MAX_TYPES)
					return fail(d, "more than %d sample types", PF_MAX_TYPES);
				d->type_ids[d->ntypes][0] = d->type_ids[d->ntypes][1] = 0;
				while (pb_next(&sub, &ff, &ww)) {
					if ((ff == 1 || ff == 2) && ww == PB_VARINT)
						d->type_ids[d->ntypes][ff - 1] = pb_read_varint(&sub);
					else
						pb_skip(&sub, ww);
				}
				if (sub.error)
					return fail(d, "malformed sample type");
				d->ntypes++;
				break;
			}
			case 2: vec_push(&d->samples, sub); break;
			case 3: vec_push(&d->mappings, sub); break;
			case 4: vec_push(&d->locations, sub); break;
			case 5: vec_push(&d->functions, sub); break;
			case 6: {
				size_t n = sub.end - sub.p;
				char *s = arena_alloc(&d->arena, n + 1);

				memcpy(s, sub.p, n);
				s[n] = 0;
				vec_push(&d->strs, s);
				break;
			}
			case 11: d->period_type = sub; d->has_period_type = true; break;
			}
			continue;
		}
		switch (f) {
		case 9: d->time_ns = (int64_t)pb_read_varint(r); break;
		case 10: d->duration_ns = (int64_t)pb_read_varint(r); break;
		case 12: d->period = (int64_t)pb_read_varint(r); break;
		case 13: read_repeated(r, w, &d->comments); break;
		case 14: d->default_type = pb_read_varint(r); break;
		default: pb_skip(r, w);
		}
	}
	if (r->error)
		return fail(d, "truncated or corrupt protobuf data");
	if (d->strs.n && d->strs.v[0][0])
		return fail(d, "string_table[0] is not empty");
	if (!d->strs.n)
		vec_push(&d->strs, "");
	return true;
}

struct func_info { const char *name, *file; };

/* The decoded messages become the profile in dependency order: types,
 * mappings, functions, locations (which name mappings and functions by
 * id), samples (which name locations), comments. Each step stops at the
 * first malformed or dangling entry (fail() says which). */
struct builder {
	struct dec *d;
	struct profile *p;
	struct hmap maps, funcs, locs;       /* pprof id -> our index (+1 for maps) */
	VEC(struct func_info) fv;
	VEC(uint64_t) ids, vals;             /* one sample's, reused */
	VEC(uint32_t) locidx;
	VEC(struct pf_line) lines;           /* one location's, reused */
	VEC(struct pf_label) labels;
	int64_t totals[PF_MAX_TYPES];
};

static bool build_types(struct builder *b, const char *source)
{
	struct dec *d = b->d;
	struct profile *p = b->p;
	bool ok = true;

	p->target = pf_str(p, source);
	for (int i = 0; i < d->ntypes && ok; i++) {
		ok = str_ok(d, d->type_ids[i][0], "sample type") && str_ok(d, d->type_ids[i][1], "sample unit");
		if (ok)
			profile_add_type(p, d->strs.v[d->type_ids[i][0]], d->strs.v[d->type_ids[i][1]]);
	}
	if (ok && !d->ntypes)
		ok = fail(d, "no sample types");
	p->time_ns = d->time_ns;
	p->duration_ns = d->duration_ns;
	p->period = d->period;
	if (ok && d->has_period_type) {
		uint64_t id[2];

		ok = pb_read_varints(&d->period_type, id, 2) && str_ok(d, id[0], "period type") && str_ok(d, id[1], "period unit");
		if (ok) {
			p->period_type.type = pf_str(p, d->strs.v[id[0]]);
			p->period_type.unit = pf_str(p, d->strs.v[id[1]]);
		}
	}
	/* default_sample_type, or pprof's convention: the last type. */
	p->default_type = p->ntypes ? p->ntypes - 1 : 0;
	if (ok && d->default_type && str_ok(d, d->default_type, "default sample type")) {
		int i = profile_type_index(p, d->strs.v[d->default_type]);

		if (i >= 0)
			p->default_type = i;
	}
	return ok;
}

static bool build_mappings(struct builder *b)
{
	struct dec *d = b->d;
	struct profile *p = b->p;
	bool ok = true, found;

	for (size_t i = 0; i < d->mappings.n && ok; i++) {
		struct pb_reader *r = &d->mappings.v[i];
		struct pf_mapping m = { 0 };
		uint64_t f[6]; /* id, start, limit, offset, file, build id */
		bool read = pb_read_varints(r, f, 6);
		uint64_t id = f[0], file = f[4], bid = f[5];

		m.start = f[1];
		m.limit = f[2];
		m.offset = f[3];
		if (!read || !id)
			ok = fail(d, "malformed mapping");
		else if (str_ok(d, file, "mapping") && str_ok(d, bid, "mapping")) {
			m.file = d->strs.v[file];
			m.build_id = bid ? d->strs.v[bid] : NULL;
			m.kernel = !strncmp(m.file, "[kernel", 7) || !strcmp(m.file, "[vmlinux]");
			/* Not interned by content: each id is its own mapping. */
			vec_push(&p->mappings, m);
			p->mappings.v[p->mappings.n - 1].file = pf_str(p, m.file);
			p->mappings.v[p->mappings.n - 1].build_id = pf_str(p, m.build_id);
			hmap_upsert(&b->maps, id, 0, p->mappings.n, &found);
			if (found)
				ok = fail(d, "duplicate mapping id %llu", (unsigned long long)id);
		} else {
			ok = false;
		}
	}
	return ok;
}

static bool build_functions(struct builder *b)
{
	struct dec *d = b->d;
	bool ok = true, found;

	for (size_t i = 0; i < d->functions.n && ok; i++) {
		struct pb_reader *r = &d->functions.v[i];
		uint64_t f[4]; /* id, name, system name, file */
		bool read = pb_read_varints(r, f, 4);
		uint64_t id = f[0], name = f[1], file = f[3];

		if (!read || !id)
			ok = fail(d, "malformed function");
		else if (str_ok(d, name, "function") && str_ok(d, file, "function")) {
			vec_push(&b->fv, ((struct func_info){ d->strs.v[name], file ? d->strs.v[file] : NULL }));
			hmap_upsert(&b->funcs, id, 0, b->fv.n - 1, &found);
			if (found)
				ok = fail(d, "duplicate function id %llu", (unsigned long long)id);
		} else {
			ok = false;
		}
	}
	return ok;
}

static bool build_locations(struct builder *b)
{
	struct dec *d = b->d;
	struct profile *p = b->p;
	bool ok = true, found;

	for (size_t i = 0; i < d->locations.n && ok; i++) {
		struct pb_reader *r = &d->locations.v[i];
		struct pf_location loc = { 0 };
		uint64_t id = 0, mapping = 0;
		uint32_t f;
		int w;

		b->lines.n = 0;
		while (ok && pb_next(r, &f, &w)) {
			if (f == 4 && w == PB_LEN) {
				struct pb_reader lr = pb_read_len(r);
				uint64_t lf[2], *slot; /* function id, line */
				bool read = pb_read_varints(&lr, lf, 2);
				uint64_t fid = lf[0];
				int64_t line = (int64_t)lf[1];

				if (!read || !(slot = hmap_get(&b->funcs, fid, 0))) {
					ok = fail(d, "location line refers to unknown function %llu", (unsigned long long)fid);
					break;
				}
				vec_push(&b->lines, ((struct pf_line){ b->fv.v[*slot].name, b->fv.v[*slot].file, line }));
				continue;
			}
			uint64_t v = w == PB_VARINT ? pb_read_varint(r) : (pb_skip(r, w), 0);

			if (f == 1)
				id = v;
			else if (f == 2)
				mapping = v;
			else if (f == 3)
				loc.addr = v;
		}
		if (!ok)
			break;
		if (r->error || !id) {
			ok = fail(d, "malformed location");
			break;
		}
		if (mapping) {
			uint64_t *slot = hmap_get(&b->maps, mapping, 0);

			if (!slot) {
				ok = fail(d, "location %llu refers to unknown mapping %llu",
					  (unsigned long long)id, (unsigned long long)mapping);
				break;
			}
			loc.mapping = (uint32_t)*slot;
		}
		loc.kind = loc.mapping && p->mappings.v[loc.mapping - 1].kernel ? PF_FRAME_KERNEL
			 : b->lines.n ? PF_FRAME_USER : PF_FRAME_UNKNOWN;
		if (!b->lines.n) { /* unsymbolized: name it by module and address */
			char name[512];
			const char *file = loc.mapping ? p->mappings.v[loc.mapping - 1].file : "";
			const char *base = strrchr(file, '/');

			snprintf(name, sizeof(name), "%s+0x%llx", *file ? (base ? base + 1 : file) : "[unknown]",
				 (unsigned long long)loc.addr);
			vec_push(&b->lines, ((struct pf_line){ pf_str(p, name), NULL, 0 }));
		}
		loc.lines = b->lines.v;
		loc.nlines = b->lines.n;
		hmap_upsert(&b->locs, id, 0, profile_add_location(p, &loc), &found);
		if (found)
			ok = fail(d, "duplicate location id %llu", (unsigned long long)id);
	}
	return ok;
}

static bool build_samples(struct builder *b)
{
	struct dec *d = b->d;
	struct profile *p = b->p;
	bool ok = true;

	for (size_t i = 0; i < d->samples.n && ok; i++) {
		struct pb_reader *r = &d->samples.v[i];
		uint32_t f;
		int w;

		b->ids.n = b->vals.n = b->locidx.n = b->labels.n = 0;
		while (ok && pb_next(r, &f, &w)) {
			if (f == 1)
				read_repeated(r, w, &b->ids);
			else if (f == 2)
				read_repeated(r, w, &b->vals);
			else if (f == 3 && w == PB_LEN) {
				struct pb_reader lr = pb_read_len(r);
				uint64_t lf[3]; /* key, str, num */
				bool read = pb_read_varints(&lr, lf, 3);
				uint64_t key = lf[0], str = lf[1];
				int64_t num = (int64_t)lf[2];

				if (!read || !str_ok(d, key, "label") || !str_ok(d, str, "label")) {
					ok = fail(d, "malformed label");
					break;
				}
				vec_push(&b->labels, ((struct pf_label){ d->strs.v[key], str ? d->strs.v[str] : NULL, num }));
			} else {
				pb_skip(r, w);
			}
		}
		if (!ok)
			break;
		if (r->error) {
			ok = fail(d, "malformed sample");
			break;
		}
		if (b->vals.n != (size_t)p->ntypes) {
			ok = fail(d, "sample %zu has %zu values for %d sample types", i, b->vals.n, p->ntypes);
			break;
		}
		/* Values a total could not hold would print as nonsense
		 * (negative totals and shares, invalid colours): refused. */
		for (size_t j = 0; j < b->vals.n && ok; j++) {
			int64_t v = (int64_t)b->vals.v[j];

			if (v < 0)
				ok = fail(d, "sample %zu has a negative %s value (%lld; diff profiles are not supported)",
					  i, p->types[j].type, (long long)v);
			else if (__builtin_add_overflow(b->totals[j], v, &b->totals[j]))
				ok = fail(d, "%s values add up past the 64-bit range at sample %zu",
					  p->types[j].type, i);
		}
		if (!ok)
			break;
		for (size_t j = 0; j < b->ids.n; j++) {
			uint64_t *slot = hmap_get(&b->locs, b->ids.v[j], 0);

			if (!slot) {
				ok = fail(d, "sample refers to unknown location %llu", (unsigned long long)b->ids.v[j]);
				break;
			}
			vec_push(&b->locidx, (uint32_t)*slot);
		}
		if (ok)
			profile_add_sample(p, b->locidx.v, b->locidx.n, (int64_t *)b->vals.v, b->labels.v, b->labels.n);
	}
	return ok;
}

static bool build_comments(struct builder *b)
{
	struct dec *d = b->d;
	struct profile *p = b->p;
	bool ok = true;

	for (size_t i = 0; i < d->comments.n && ok; i++) {
		const char *c;

		if (!str_ok(d, d->comments.v[i], "comment")) {
			ok = false;
			break;
		}
		c = d->strs.v[d->comments.v[i]];
		if (!strncmp(c, PPROF_COMMENT_COMMAND, strlen(PPROF_COMMENT_COMMAND))) {
			p->command = pf_str(p, c + strlen(PPROF_COMMENT_COMMAND));
		} else if (!strncmp(c, PPROF_COMMENT_TARGET, strlen(PPROF_COMMENT_TARGET))) {
			p->target = pf_str(p, c + strlen(PPROF_COMMENT_TARGET));
		} else if (!strncmp(c, PPROF_COMMENT_LOST, strlen(PPROF_COMMENT_LOST)) && strrchr(c, '=')) {
			char name[256];
			const char *eq = strrchr(c, '=');
			size_t n = eq - c - strlen(PPROF_COMMENT_LOST);

			snprintf(name, sizeof(name), "%.*s", (int)n, c + strlen(PPROF_COMMENT_LOST));
			profile_add_counter(p, name, strtoull(eq + 1, NULL, 10));
		} else {
			vec_push(&p->comments, pf_str(p, c));
		}
	}
	return ok;
}

static struct profile *build(struct dec *d, const char *source)
{
	struct builder b = { .d = d, .p = profile_new("profile") };
	bool ok = build_types(&b, source) && build_mappings(&b) && build_functions(&b) &&
		  build_locations(&b) && build_samples(&b) && build_comments(&b);

	hmap_free(&b.maps);
	hmap_free(&b.funcs);
	hmap_free(&b.locs);
	vec_free(&b.fv);
	vec_free(&b.ids);
	vec_free(&b.vals);
	vec_free(&b.locidx);
	vec_free(&b.lines);
	vec_free(&b.labels);
	if (!ok) {
		profile_free(b.p);
		return NULL;
	}
	return b.p;
}

static struct profile *decode(const uint8_t *data, size_t len, const char *source, char *why, size_t why_len)
{
	struct dec d = { .why = why, .why_len = why_len };
	struct pb_reader r = { data, data + len, false };
	struct profile *p = NULL;

	why[0] = 0;
	if (top_level(&d, &r))
		p = build(&d, source);
	vec_free(&d.samples);
	vec_free(&d.mappings);
	vec_free(&d.locations);
	vec_free(&d.functions);
	vec_free(&d.strs);
	vec_free(&d.comments);
	arena_free(&d.arena);
	if (!p && !why[0])
		snprintf(why, why_len, "malformed profile");
	return p;
}

struct profile *pprof_decode(const uint8_t *data, size_t len, char *why, size_t why_len)
{
	return decode(data, len, "", why, why_len);
}

static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, char *why, size_t why_len)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 4096, n = 0;
	/* A gzip bomb (a few MB that inflate to GBs) is refused: real profiles
	 * compress 3-30x; allow 50x, and 64 MiB for small files. */
	uint64_t limit = 64ULL * 1024 * 1024 + 50ULL * len;
	uint8_t *buf = xmalloc(cap);
	int zr;

	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		free(buf);
		snprintf(why, why_len, "cannot start gzip decoder");
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	do {
		if (n == cap) {
			if (cap >= MAX_UNCOMPRESSED || cap >= limit) {
				zr = Z_MEM_ERROR;
				break;
			}
			cap = cap * 2 < limit ? cap * 2 : limit;
			buf = xrealloc(buf, cap);
		}
		z.next_out = buf + n;
		z.avail_out = cap - n;
		zr = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
	} while (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0));
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		if (zr == Z_MEM_ERROR)
			snprintf(why, why_len, "decompresses to more than %llu MiB (50x its size): not a profile",
				 (unsigned long long)((limit < MAX_UNCOMPRESSED ? limit : MAX_UNCOMPRESSED) >> 20));
		else
			snprintf(why, why_len, "%s", zr == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data");
		return -EINVAL;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

struct profile *pprof_read_file(const char *path, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *data, *raw = NULL;
	size_t len, raw_len;
	struct profile *p = NULL;
	const char *base = strrchr(path, '/');

	why[0] = 0;
	if (fd < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		close(fd);
		return NULL;
	}
	len = st.st_size;
	data = xmalloc(len ? len : 1);
	if (len && read(fd, data, len) != (ssize_t)len) {
		snprintf(why, why_len, "cannot read: %s", strerror(errno));
		close(fd);
		free(data);
		return NULL;
	}
	close(fd);
	if (!len) {
		snprintf(why, why_len, "empty file");
	} else if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		if (gunzip(data, len, &raw, &raw_len, why, why_len) == 0)
			p = decode(raw, raw_len, base ? base + 1 : path, why, why_len);
	} else {
		p = decode(data, len, base ? base + 1 : path, why, why_len);
	}
	free(raw);
	free(data);
	return p;
}
