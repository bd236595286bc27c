#include "base/pb.h"

#include <stdlib.h>
#include <string.h>

static void grow(struct pb_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->data = xrealloc(b->data, b->cap);
	}
}

void pb_varint(struct pb_buf *b, uint64_t v)
{
	grow(b, 10);
	while (v >= 0x80) {
		b->data[b->len++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	b->data[b->len++] = (uint8_t)v;
}

void pb_tag(struct pb_buf *b, uint32_t field, int wire)
{
	pb_varint(b, ((uint64_t)field << 3) | wire);
}

void pb_raw(struct pb_buf *b, const void *p, size_t n)
{
	grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pb_bytes(struct pb_buf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pb_u64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	if (v) {
		pb_tag(b, field, PB_VARINT);
		pb_varint(b, v);
	}
}

void pb_i64(struct pb_buf *b, uint32_t field, int64_t v)
{
	pb_u64(b, field, (uint64_t)v); /* int64: two's complement, 10 bytes if negative */
}

void pb_packed_u64(struct pb_buf *b, uint32_t field, const uint64_t *v, size_t n)
{
	struct pb_buf tmp = { 0 };

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		pb_varint(&tmp, v[i]);
	pb_bytes(b, field, tmp.data, tmp.len);
	pb_free(&tmp);
}

void pb_packed_i64(struct pb_buf *b, uint32_t field, const int64_t *v, size_t n)
{
	pb_packed_u64(b, field, (const uint64_t *)v, n);
}

void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *msg)
{
	pb_bytes(b, field, msg->data, msg->len);
}

void pb_free(struct pb_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

uint64_t pb_read_varint(struct pb_reader *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (r->p >= r->end) {
			r->error = true;
			return 0;
		}
		byte = *r->p++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	r->error = true; /* more than 10 bytes */
	return 0;
}

struct pb_reader pb_read_len(struct pb_reader *r)
{
	uint64_t n = pb_read_varint(r);
	struct pb_reader sub = { 0 };

	if (r->error || n > (uint64_t)(r->end - r->p)) {
		r->error = true;
		sub.error = true;
		return sub;
	}
	sub.p = r->p;
	sub.end = r->p + n;
	r->p += n;
	return sub;
}

void pb_skip(struct pb_reader *r, int wire)
{
	size_t n = 0;

	switch (wire) {
	case PB_VARINT: pb_read_varint(r); return;
	case PB_LEN: pb_read_len(r); return;
	case PB_I64: n = 8; break;
	case PB_I32: n = 4; break;
	default: r->error = true; return;
	}
	if ((size_t)(r->end - r->p) < n)
		r->error = true;
	else
		r->p += n;
}

bool pb_next(struct pb_reader *r, uint32_t *field, int *wire)
{
	uint64_t tag;

	if (r->error || r->p >= r->end)
		return false;
	tag = pb_read_varint(r);
	if (r->error)
		return false;
	*field = (uint32_t)(tag >> 3);
	*wire = (int)(tag & 7);
	if (*field == 0) {
		r->error = true;
		return false;
	}
	return true;
}

bool pb_read_varints(struct pb_reader *r, uint64_t *vals, uint32_t n)
{
	uint32_t f;
	int w;

	memset(vals, 0, n * sizeof(*vals));
	while (pb_next(r, &f, &w)) {
		if (w == PB_VARINT && f >= 1 && f <= n)
			vals[f - 1] = pb_read_varint(r);
		else
			pb_skip(r, w);
	}
	return !r->error;
}
