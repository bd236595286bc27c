/* A saved timeline (Chrome trace-event JSON, as `bpfprof timeline` writes
 * it) read back as a profile of a time window: on-CPU, off-CPU and
 * scheduler-latency time by stack (`bpfprof report trace.json --from --to`). */
#ifndef BPFPROF_TIMELINE_READ_H
#define BPFPROF_TIMELINE_READ_H

#include "model/profile.h"

/* Whether data looks like trace-event JSON (an object, not a pprof file). */
bool timeline_is_json(const uint8_t *data, size_t len);
/* The profile of [from_ns, to_ns) since the trace's start (to_ns < 0: to
 * its end); NULL with why set if data is not a trace-event file. */
struct profile *timeline_read(const char *data, size_t len, int64_t from_ns, int64_t to_ns, char *why,
			      size_t why_len);

#endif
