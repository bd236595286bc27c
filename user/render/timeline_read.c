/* A saved timeline as the profile of a window (timeline_read.h). From the
 * trace's events:
 *   cpu     the cpu-clock samples in the window ("cat":"sample"), each one
 *           sample period of CPU time, by the stack it ran;
 *   offcpu  the part in the window of each stretch off the CPU (blocked,
 *           then runnable until it ran, or preempted), by the stack it left
 *           the CPU from, labelled with the state as `offcpu` labels it;
 *   sched   of those, the part spent runnable, waiting for a CPU (Go's
 *           scheduler-latency profile, `go tool trace -pprof=sched`);
 *   syscall the part in the window of the long system calls the timeline
 *           kept, by the stack that made them, labelled with the call
 *           (`go tool trace -pprof=syscall`);
 *   gowait  Go: the goroutines' waits in the window, by the stack they
 *           parked at, labelled with Go's wait reason (as offcpu's goroutine
 *           view and Go's block profile; the runtime's own goroutines left
 *           out, as Go leaves them out);
 *   gosched Go: the goroutines' time runnable, waiting for a thread.
 * Stacks come from the trace's "stackFrames" tree ("sf" names the leaf).
 * Samples are merged by (stack, thread, state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "render/timeline_read.h"

enum { T_CPU, T_OFFCPU, T_SCHED, T_SYSCALL, T_GOWAIT, T_GOSCHED, T_N };

struct tl_read {
	struct profile *p;
	const struct json *frames;   /* "stackFrames", or NULL */
	struct hmap frame_idx;       /* hash of a frame id -> its index in frames + 1 */
	struct hmap frame_locs;      /* interned (category, name) -> location + 1 */
	struct hmap mappings;        /* interned category -> mapping index + 1 */
	struct hmap names;           /* (pid, tid) -> interned thread name */
	struct hmap merged;          /* (leaf, tid), (state, pid) -> sample index + 1 */
	VEC(uint32_t) locs;
	uint64_t next_addr;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* An id ("sf", "parent") as text: the format allows numbers and strings. */
static const char *id_text(const struct json *v, char *buf, size_t n)
{
	if (!v)
		return NULL;
	if (v->type == JSON_STRING)
		return v->str;
	if (v->type == JSON_NUMBER) {
		snprintf(buf, n, "%.0f", v->num);
		return buf;
	}
	return NULL;
}

static const struct json *frame_by_id(struct tl_read *r, const char *id)
{
	uint64_t *slot;

	if (!id || !r->frames)
		return NULL;
	slot = hmap_get(&r->frame_idx, hash_str(id), 0);
	if (slot && !strcmp(r->frames->items[*slot - 1].key, id))
		return &r->frames->items[*slot - 1];
	for (uint32_t i = 0; i < r->frames->n; i++) /* a hash shared by two ids */
		if (!strcmp(r->frames->items[i].key, id))
			return &r->frames->items[i];
	return NULL;
}

static uint32_t frame_location(struct tl_read *r, const struct json *f)
{
	const char *name = pf_str(r->p, json_str(f, "name", "[unnamed]"));
	const char *cat = pf_str(r->p, json_str(f, "category", "unknown"));
	bool found, kernel = !strcmp(cat, "kernel");
	uint64_t *m = hmap_upsert(&r->mappings, (uintptr_t)cat, 0, 0, &found), *loc;

	if (!found) {
		struct pf_mapping mp = { .file = kernel ? pf_str(r->p, "[kernel.kallsyms]") : cat, .kernel = kernel };

		*m = profile_add_mapping(r->p, &mp);
	}
	loc = hmap_upsert(&r->frame_locs, (uintptr_t)cat, (uintptr_t)name, 0, &found);
	if (!found) /* a made-up address per function: the file keeps names only */
		*loc = profile_add_frame(r->p, (uint32_t)*m, ++r->next_addr * 16,
					 kernel ? PF_FRAME_KERNEL : PF_FRAME_USER, name) + 1;
	return (uint32_t)*loc - 1;
}

/* r->locs: the stack whose leaf is frame id (leaf first). */
static void stack_locations(struct tl_read *r, const char *id)
{
	char buf[32];
	const struct json *f = frame_by_id(r, id);

	r->locs.n = 0;
	for (int depth = 0; f && depth < 1024; depth++) { /* a cycle in a hand-made file ends here */
		vec_push(&r->locs, frame_location(r, f));
		f = frame_by_id(r, id_text(json_get(f, "parent"), buf, sizeof(buf)));
	}
	if (!r->locs.n)
		vec_push(&r->locs, profile_add_frame(r->p, 0, 0, PF_FRAME_UNKNOWN, pf_str(r->p, "[no stack]")));
}

/* The state a stretch off the CPU is labelled with (offcpu's names). */
static const char *off_state(const struct json *ev)
{
	const struct json *args = json_get(ev, "args");
	const char *name = json_str(ev, "name", "");
	unsigned s = (unsigned)json_uint(args, "state", UINT32_MAX);

	if (!strncmp(name, "runnable (preempted)", 20))
		return "preempted";
	if (s & 0x1)
		return "sleeping";
	if (s & 0x2)
		return s & 0x400 ? "idle" : "uninterruptible";
	return "other";
}

static void add(struct tl_read *r, const struct json *ev, const char *label, const char *state, int type,
		int64_t value)
{
	char buf[32];
	const char *sf = id_text(json_get(ev, "sf"), buf, sizeof(buf));
	const struct json *leaf = frame_by_id(r, sf);
	uint32_t pid = (uint32_t)json_uint(ev, "pid", UINT32_MAX), tid = (uint32_t)json_uint(ev, "tid", UINT32_MAX);
	const char *st = state ? pf_str(r->p, state) : NULL;
	uint64_t k1 = (uint64_t)(leaf ? leaf - r->frames->items + 1 : 0) << 32 | tid;
	bool found;
	int64_t *v;
	uint64_t *slot = hmap_upsert(&r->merged, k1, (uint64_t)(uintptr_t)st ^ ((uint64_t)pid << 48) ^
				     (uint64_t)(type == T_SYSCALL) << 63,
				     0, &found);

	if (!found) {
		int64_t values[T_N] = { 0 };
		uint64_t *name = hmap_get(&r->names, pid, tid);
		struct pf_label labels[4] = {
			{ .key = pf_str(r->p, "pid"), .num = pid },
			{ .key = pf_str(r->p, "tid"), .num = tid },
			{ .key = pf_str(r->p, "comm"), .str = name ? (const char *)(uintptr_t)*name : pf_str(r->p, "?") },
			{ .key = pf_str(r->p, label), .str = st },
		};

		stack_locations(r, sf);
		profile_add_sample(r->p, r->locs.v, (uint32_t)r->locs.n, values, labels, st ? 4 : 3);
		*slot = r->p->samples.n;
	}
	v = &r->p->samples.v[*slot - 1].values[type];
	*v = *v > INT64_MAX - value ? INT64_MAX : *v + value; /* a made-up file's sums saturate */
}

/* Whether a goroutine's wait is one of the runtime's own goroutines (GC
 * workers, the sweeper, the scavenger): its entry function, the frame
 * under runtime.goexit at the root, is in package runtime (runtime.main is
 * the program's main goroutine). */
static bool runtime_goroutine(struct tl_read *r, const struct json *ev)
{
	char buf[32];
	const struct json *f = frame_by_id(r, id_text(json_get(ev, "sf"), buf, sizeof(buf)));
	const char *root = NULL, *below = NULL, *entry;

	for (int depth = 0; f && depth < 1024; depth++) {
		below = root;
		root = json_str(f, "name", "");
		f = frame_by_id(r, id_text(json_get(f, "parent"), buf, sizeof(buf)));
	}
	entry = root && !strcmp(root, "runtime.goexit") ? below : root;
	return entry && !strncmp(entry, "runtime.", 8) && strcmp(entry, "runtime.main");
}

bool timeline_is_json(const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	return i < len && (data[i] == '{' || data[i] == '[');
}

struct profile *timeline_read(const char *data, size_t len, int64_t from_ns, int64_t to_ns, char *why,
			      size_t why_len)
{
	struct arena a = { 0 };
	struct tl_read r = { 0 };
	const struct json *root = json_parse(data, len, &a, why, why_len), *events, *other;
	double period_ns, from_us = (double)from_ns / 1000.0, to_us = to_ns < 0 ? 1e300 : (double)to_ns / 1000.0;
	char note[160];
	double end_us, last_us = 0;
	struct hmap ends = { 0 };      /* a system call's id -> its end (a double's bits) */

	if (!root)
		goto fail;
	events = root->type == JSON_ARRAY ? root : json_get(root, "traceEvents");
	if (!events || events->type != JSON_ARRAY) {
		snprintf(why, why_len, "JSON without \"traceEvents\" (not a trace-event file)");
		goto fail;
	}
	other = json_get(root, "otherData");
	period_ns = (double)json_uint(other, "sample_period_ns", 1000000000000ULL);
	if (period_ns < 1)
		period_ns = 1e9 / 99;
	r.frames = json_get(root, "stackFrames");
	if (r.frames && r.frames->type != JSON_OBJECT)
		r.frames = NULL;
	for (uint32_t i = 0; r.frames && i < r.frames->n; i++) {
		bool found;

		hmap_upsert(&r.frame_idx, hash_str(r.frames->items[i].key), 0, i + 1, &found);
	}
	r.p = profile_new("timeline");
	profile_add_type(r.p, "cpu", "nanoseconds");
	profile_add_type(r.p, "offcpu", "nanoseconds");
	profile_add_type(r.p, "sched", "nanoseconds");
	profile_add_type(r.p, "syscall", "nanoseconds");
	profile_add_type(r.p, "gowait", "nanoseconds");
	profile_add_type(r.p, "gosched", "nanoseconds");
	r.p->default_type = T_CPU;
	r.p->period_type.type = pf_str(r.p, "cpu");
	r.p->period_type.unit = pf_str(r.p, "nanoseconds");
	r.p->period = (int64_t)period_ns;
	/* thread names first (metadata events come last in ours), and the
	 * system calls' ends by id */
	for (uint32_t i = 0; i < events->n; i++) {
		const struct json *ev = &events->items[i];
		bool found;

		if (!strcmp(json_str(ev, "ph", ""), "e") && !strcmp(json_str(ev, "cat", ""), "syscall")) {
			double ts = json_num(ev, "ts", 0);

			memcpy(hmap_upsert(&ends, json_uint(ev, "id", UINT64_MAX), 0, 0, &found), &ts, sizeof(ts));
			continue;
		}
		if (!strcmp(json_str(ev, "ph", ""), "M") && !strcmp(json_str(ev, "name", ""), "thread_name"))
			*hmap_upsert(&r.names, json_uint(ev, "pid", UINT32_MAX), json_uint(ev, "tid", UINT32_MAX), 0,
				     &found) = (uintptr_t)pf_str(r.p, json_str(json_get(ev, "args"), "name", "?"));
	}
	for (uint32_t i = 0; i < events->n; i++) {
		const struct json *ev = &events->items[i];
		const char *ph = json_str(ev, "ph", ""), *name = json_str(ev, "name", "");
		double ts = json_num(ev, "ts", -1), end, overlap;

		if (ts < 0)
			continue;
		if (ts + json_num(ev, "dur", 0) > last_us && ts + json_num(ev, "dur", 0) < 1e15)
			last_us = ts + json_num(ev, "dur", 0);
		if (!strcmp(json_str(ev, "cat", ""), "sample") && (!strcmp(ph, "i") || !strcmp(ph, "I") || !strcmp(ph, "P"))) {
			if (ts >= from_us && ts < to_us)
				add(&r, ev, NULL, NULL, T_CPU, (int64_t)period_ns);
			continue;
		}
		if (!strcmp(ph, "b") && !strcmp(json_str(ev, "cat", ""), "syscall")) {
			uint64_t *e = hmap_get(&ends, json_uint(ev, "id", UINT64_MAX), 0);

			end = ts;
			if (e)
				memcpy(&end, e, sizeof(end));
		} else if (!strcmp(ph, "X") && !strcmp(json_str(ev, "cat", ""), "goroutine")) {
			if (!strcmp(name, "running") || (!strncmp(name, "waiting", 7) && runtime_goroutine(&r, ev)))
				continue;
			end = ts + json_num(ev, "dur", 0);
		} else if (strcmp(ph, "X") || strcmp(json_str(ev, "cat", ""), "sched") || !strcmp(name, "running")) {
			continue;
		} else {
			end = ts + json_num(ev, "dur", 0);
		}
		overlap = (end < to_us ? end : to_us) - (ts > from_us ? ts : from_us);
		if (!(overlap > 0))
			continue;
		if (overlap > 1e12) /* a made-up file's: kept in range */
			overlap = 1e12;
		if (*ph == 'b') {
			add(&r, ev, "syscall", name, T_SYSCALL, (int64_t)(overlap * 1000.0));
			continue;
		}
		if (!strcmp(json_str(ev, "cat", ""), "goroutine")) { /* "waiting (chan receive)": the reason */
			char reason[96];
			const char *open = strchr(name, '(');

			snprintf(reason, sizeof(reason), "%s", open ? open + 1 : name);
			reason[strcspn(reason, ")")] = 0;
			if (!strncmp(name, "waiting", 7))
				add(&r, ev, "state", reason, T_GOWAIT, (int64_t)(overlap * 1000.0));
			else
				add(&r, ev, "state", "runnable", T_GOSCHED, (int64_t)(overlap * 1000.0));
			continue;
		}
		add(&r, ev, "state", off_state(ev), T_OFFCPU, (int64_t)(overlap * 1000.0));
		if (!strncmp(name, "runnable", 8))
			add(&r, ev, "state", off_state(ev), T_SCHED, (int64_t)(overlap * 1000.0));
	}
	if (to_ns < 0)
		snprintf(note, sizeof(note), "window: from %.3f ms to the end of the timeline", from_us / 1000.0);
	else
		snprintf(note, sizeof(note), "window: %.3f ms to %.3f ms of the timeline", from_us / 1000.0,
			 to_us / 1000.0);
	profile_add_comment(r.p, note);
	r.p->target = pf_str(r.p, json_str(other, "target", "a saved timeline"));
	end_us = json_num(other, "duration_ns", last_us * 1000.0) / 1000.0; /* else the last event's end */
	end_us = ((to_us < end_us ? to_us : end_us) - from_us) * 1000.0;
	r.p->duration_ns = end_us > 0 ? (end_us < 9e18 ? (int64_t)end_us : INT64_MAX) : 0;
	if (other && json_get(other, "lost"))
		profile_add_counter(r.p, "events lost while recording (ring buffer full)",
				    json_uint(other, "lost", UINT64_MAX / 2));
fail:
	hmap_free(&ends);
	hmap_free(&r.frame_idx);
	hmap_free(&r.frame_locs);
	hmap_free(&r.mappings);
	hmap_free(&r.names);
	hmap_free(&r.merged);
	vec_free(&r.locs);
	arena_free(&a);
	return r.p;
}
