/* Minimal protocol-buffer wire format: a growable writer and a bounds-checked
 * reader. Enough for profile.proto; no generated code. */
#ifndef BPFPROF_PB_H
#define BPFPROF_PB_H

#include "base/util.h"

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

struct pb_buf {
	uint8_t *data;
	size_t len, cap;
};

void pb_varint(struct pb_buf *b, uint64_t v);
void pb_raw(struct pb_buf *b, const void *p, size_t n); /* already-encoded fields */
void pb_tag(struct pb_buf *b, uint32_t field, int wire);
void pb_bytes(struct pb_buf *b, uint32_t field, const void *p, size_t n);
void pb_u64(struct pb_buf *b, uint32_t field, uint64_t v);      /* omitted when 0 */
void pb_i64(struct pb_buf *b, uint32_t field, int64_t v);       /* omitted when 0 */
void pb_packed_u64(struct pb_buf *b, uint32_t field, const uint64_t *v, size_t n);
void pb_packed_i64(struct pb_buf *b, uint32_t field, const int64_t *v, size_t n);
void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *msg);
void pb_free(struct pb_buf *b);

struct pb_reader {
	const uint8_t *p, *end;
	bool error;
};

/* Next field: false at the end or on error (then r->error is set). */
bool pb_next(struct pb_reader *r, uint32_t *field, int *wire);
uint64_t pb_read_varint(struct pb_reader *r);
/* A length-delimited field's body as a sub-reader. */
struct pb_reader pb_read_len(struct pb_reader *r);
void pb_skip(struct pb_reader *r, int wire);
/* Reads all of a message whose fields of interest are varints numbered 1..n:
 * vals[k - 1] gets field k (the last one seen; 0 if absent), anything else
 * is skipped. False if the message is malformed. */
bool pb_read_varints(struct pb_reader *r, uint64_t *vals, uint32_t n);

#endif
