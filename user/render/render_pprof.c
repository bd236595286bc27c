/* pprof: gzip-compressed profile.proto (field numbers: google/pprof
 * proto/profile.proto), written by our own encoder. Functions are already
 * symbolized (has_functions), so `go tool pprof` does not re-symbolize. */
#include "base/pb.h"
#include "render/pprof.h"
#include "render/render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct strtab {
	struct strpool canon;   /* content -> one pointer */
	struct hmap index;      /* canonical pointer -> string table index */
	VEC(const char *) strs;
};

static uint64_t str_id(struct strtab *t, const char *s)
{
	const char *c;
	bool found;
	uint64_t *slot;

	if (!s || !*s)
		return 0;
	c = strpool_intern(&t->canon, s);
	slot = hmap_upsert(&t->index, (uintptr_t)c, 0, t->strs.n, &found);
	if (!found)
		vec_push(&t->strs, c);
	return *slot;
}

static void value_type(struct pb_buf *out, uint32_t field, struct strtab *t, const struct pf_value_type *vt)
{
	struct pb_buf m = { 0 };

	pb_u64(&m, 1, str_id(t, vt->type));
	pb_u64(&m, 2, str_id(t, vt->unit));
	pb_message(out, field, &m);
	pb_free(&m);
}

/* The mapping most likely the main executable: a user mapping that is not
 * a shared library nor the vDSO, the lowest-addressed (executables load
 * below their libraries); else the first user mapping; else 0. */
static size_t main_mapping(const struct profile *p)
{
	size_t best = SIZE_MAX, any_user = SIZE_MAX;

	for (size_t i = 0; i < p->mappings.n; i++) {
		const struct pf_mapping *mp = &p->mappings.v[i];
		const char *base = mp->file ? strrchr(mp->file, '/') : NULL;

		if (mp->kernel || !mp->file || !mp->file[0])
			continue;
		if (any_user == SIZE_MAX)
			any_user = i;
		base = base ? base + 1 : mp->file;
		if (base[0] == '[' || strstr(base, ".so"))
			continue;
		if (best == SIZE_MAX || mp->start < p->mappings.v[best].start)
			best = i;
	}
	return best != SIZE_MAX ? best : any_user != SIZE_MAX ? any_user : 0;
}

int pprof_encode(const struct profile *p, struct pb_buf *out)
{
	struct strtab t = { 0 };
	struct hmap funcs = { 0 };   /* (name id, file id) -> function id */
	struct pb_buf body = { 0 }, fnbuf = { 0 }, m = { 0 };
	VEC(uint64_t) ids = { 0 };
	uint64_t nfuncs = 0;
	char comment[512];

	vec_push(&t.strs, ""); /* string_table[0] must be "" */
	for (int i = 0; i < p->ntypes; i++)
		value_type(&body, 1, &t, &p->types[i]);

	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];

		ids.n = 0;
		for (uint32_t j = 0; j < s->nlocs; j++)
			vec_push(&ids, (uint64_t)s->locs[j] + 1);
		pb_packed_u64(&m, 1, ids.v, ids.n);
		pb_packed_i64(&m, 2, s->values, p->ntypes);
		for (uint32_t j = 0; j < s->nlabels; j++) {
			struct pb_buf l = { 0 };

			pb_u64(&l, 1, str_id(&t, s->labels[j].key));
			if (s->labels[j].str)
				pb_u64(&l, 2, str_id(&t, s->labels[j].str));
			else
				pb_i64(&l, 3, s->labels[j].num);
			pb_message(&m, 3, &l);
			pb_free(&l);
		}
		pb_message(&body, 2, &m);
		m.len = 0;
	}

	/* pprof names a profile's "File" after its first mapping: the main
	 * executable goes first, keeping its id. */
	size_t first = main_mapping(p);

	for (size_t k = 0; k < p->mappings.n; k++) {
		size_t i = k == 0 ? first : (k <= first ? k - 1 : k);
		const struct pf_mapping *mp = &p->mappings.v[i];

		pb_u64(&m, 1, i + 1);
		pb_u64(&m, 2, mp->start);
		pb_u64(&m, 3, mp->limit);
		pb_u64(&m, 4, mp->offset);
		pb_u64(&m, 5, str_id(&t, mp->file));
		pb_u64(&m, 6, str_id(&t, mp->build_id));
		pb_u64(&m, 7, 1); /* has_functions */
		pb_message(&body, 3, &m);
		m.len = 0;
	}

	for (size_t i = 0; i < p->locations.n; i++) {
		const struct pf_location *loc = &p->locations.v[i];

		pb_u64(&m, 1, i + 1);
		pb_u64(&m, 2, loc->mapping);
		pb_u64(&m, 3, loc->addr);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct pf_line *ln = &loc->lines[j];
			uint64_t name = str_id(&t, ln->func), file = str_id(&t, ln->file);
			bool found;
			uint64_t *fid = hmap_upsert(&funcs, name, file, nfuncs + 1, &found);
			struct pb_buf l = { 0 };

			if (!found) {
				struct pb_buf f = { 0 };

				nfuncs++;
				pb_u64(&f, 1, *fid);
				pb_u64(&f, 2, name);
				pb_u64(&f, 3, name);
				pb_u64(&f, 4, file);
				if (ln->start_line > 0)
					pb_i64(&f, 5, ln->start_line);
				pb_message(&fnbuf, 5, &f);
				pb_free(&f);
			}
			pb_u64(&l, 1, *fid);
			pb_i64(&l, 2, ln->line);
			pb_message(&m, 4, &l);
			pb_free(&l);
		}
		pb_message(&body, 4, &m);
		m.len = 0;
	}
	/* Functions after locations: they were numbered while writing them. */
	pb_raw(&body, fnbuf.data, fnbuf.len);

	/* Metadata, in comments so that `report` restores it. */
	snprintf(comment, sizeof(comment), "%s%s", PPROF_COMMENT_COMMAND, p->command);
	uint64_t c_cmd = str_id(&t, comment);
	snprintf(comment, sizeof(comment), "%s%s", PPROF_COMMENT_TARGET, p->target);
	uint64_t c_target = str_id(&t, comment);
	VEC(uint64_t) cids = { 0 };

	vec_push(&cids, c_cmd);
	vec_push(&cids, c_target);
	for (size_t i = 0; i < p->counters.n; i++) {
		snprintf(comment, sizeof(comment), "%s%s=%llu", PPROF_COMMENT_LOST,
			 p->counters.v[i].name, (unsigned long long)p->counters.v[i].value);
		vec_push(&cids, str_id(&t, comment));
	}
	for (size_t i = 0; i < p->comments.n; i++)
		vec_push(&cids, str_id(&t, p->comments.v[i]));
	uint64_t default_type = p->ntypes ? str_id(&t, p->types[p->default_type].type) : 0;
	uint64_t pt_type = str_id(&t, p->period_type.type), pt_unit = str_id(&t, p->period_type.unit);

	for (size_t i = 0; i < t.strs.n; i++)
		pb_bytes(&body, 6, t.strs.v[i], strlen(t.strs.v[i]));
	pb_i64(&body, 9, p->time_ns);
	pb_i64(&body, 10, p->duration_ns);
	if (pt_type || pt_unit) {
		pb_u64(&m, 1, pt_type);
		pb_u64(&m, 2, pt_unit);
		pb_message(&body, 11, &m);
		m.len = 0;
	}
	pb_i64(&body, 12, p->period);
	for (size_t i = 0; i < cids.n; i++) {
		pb_tag(&body, 13, PB_VARINT);
		pb_varint(&body, cids.v[i]);
	}
	pb_u64(&body, 14, default_type);

	*out = body;
	pb_free(&fnbuf);
	pb_free(&m);
	vec_free(&ids);
	vec_free(&cids);
	vec_free(&t.strs);
	hmap_free(&t.index);
	strpool_free(&t.canon);
	hmap_free(&funcs);
	return 0;
}

int render_pprof(const struct profile *p, const struct render_opts *o, FILE *out)
{
	struct pb_buf raw;
	z_stream z = { 0 };
	unsigned char chunk[65536];
	int zr, err = 0;

	pprof_encode(p, &raw);
	/* windowBits 15 + 16: gzip framing, as pprof files are on disk. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		pb_free(&raw);
		return -ENOMEM;
	}
	z.next_in = raw.data;
	z.avail_in = raw.len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			err = -EIO;
			break;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	pb_free(&raw);
	return err ? err : (ferror(out) ? -EIO : 0);
}
