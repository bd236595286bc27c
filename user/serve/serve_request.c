#include "serve/serve_request.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* An integer parameter: absent (def), or 1..max; -1 when malformed. */
static long int_param(serve_param_fn get, void *ctx, const char *name, long def, long max)
{
	const char *v = get(ctx, name);
	uint64_t u;

	if (!v)
		return def;
	if (!parse_u64(v, &u) || u < 1 || u > (uint64_t)max)
		return -1;
	return (long)u;
}

int serve_request_parse(serve_param_fn get, void *ctx, int default_seconds, int max_seconds,
			int needs_pid, struct serve_request *rq, char *why, size_t n)
{
	memset(rq, 0, sizeof(*rq));
	rq->cgroup = get(ctx, "cgroup");
	rq->unwind = get(ctx, "unwind");
	rq->pid = int_param(get, ctx, "pid", 0, INT32_MAX);
	rq->seconds = int_param(get, ctx, "seconds", default_seconds < max_seconds ? default_seconds : max_seconds,
				max_seconds);
	rq->hz = int_param(get, ctx, "hz", 99, 100000);
	why[0] = 0;
	if (rq->pid < 0 || (!rq->pid && !rq->cgroup))
		snprintf(why, n, "bad request: pid must be a positive integer (or give cgroup=PATH)");
	else if (rq->pid && rq->cgroup)
		snprintf(why, n, "bad request: give pid or cgroup, not both");
	else if (rq->seconds < 0)
		snprintf(why, n, "bad request: seconds must be an integer from 1 to %d", max_seconds);
	else if (rq->hz < 0)
		snprintf(why, n, "bad request: hz must be an integer from 1 to 100000");
	else if (rq->unwind && strcmp(rq->unwind, "fp") && strcmp(rq->unwind, "copy") &&
		 strcmp(rq->unwind, "dwarf") && strcmp(rq->unwind, "auto") && strcmp(rq->unwind, "tables"))
		snprintf(why, n, "bad request: unwind must be tables, fp or copy");
	else if (rq->cgroup && needs_pid)
		snprintf(why, n, "bad request: this profile needs pid");
	else if (rq->cgroup && (!rq->cgroup[0] || strlen(rq->cgroup) >= 4096))
		snprintf(why, n, "bad request: cgroup must be a path");
	return why[0] ? 400 : 0;
}
