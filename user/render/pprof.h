/* pprof (profile.proto) encoding and decoding of the profile model. */
#ifndef BPFPROF_PPROF_H
#define BPFPROF_PPROF_H

#include "base/pb.h"
#include "model/profile.h"

/* Comments that carry bpfprof's metadata through a pprof file. */
#define PPROF_COMMENT_COMMAND "bpfprof command: "
#define PPROF_COMMENT_TARGET  "bpfprof target: "
#define PPROF_COMMENT_LOST    "bpfprof lost: "

/* Uncompressed profile.proto. */
int pprof_encode(const struct profile *p, struct pb_buf *out);

/* Reads a pprof file, gzipped or not, into a new profile. On malformed or
 * truncated input returns NULL with a one-line reason in why. */
struct profile *pprof_read_file(const char *path, char *why, size_t why_len);
struct profile *pprof_decode(const uint8_t *data, size_t len, char *why, size_t why_len);

#endif
