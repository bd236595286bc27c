/* timeline: the execution tracer's timeline for any process, from the
 * scheduler (bpf/timeline.bpf.c): per thread, when it ran and on which CPU,
 * when it was blocked and in which state, when it was runnable but waiting
 * for a CPU (woken, or preempted), and who woke it — written as Chrome's
 * trace-event JSON, which ui.perfetto.dev and chrome://tracing load: one
 * process track per process, one thread track per thread, slices with their
 * arguments, flow arrows from waker to wakee. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cmdbase.h"
#include "core/session.h"
#include "core/sysinfo.h"
#include "render/render.h"
#include "render/output.h"
#include "timeline.h"
#include "timeline.skel.h"

/* A thread's current stretch: what it is doing since when. */
enum tl_state { TS_UNKNOWN, TS_RUNNING, TS_BLOCKED, TS_RUNNABLE };

struct tl_thread {
	uint32_t pid, tid;
	char comm[17];
	enum tl_state state;
	uint64_t since;
	uint32_t cpu, block_state, waker;
	bool preempted;
	uint64_t flow;              /* a wake-up's arrow to end when it runs (0: none) */
};

typedef VEC(struct tl_thread) thread_vec;

struct tl_cmd {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct timeline_bpf *skel;
	struct ring_buffer *rb;
	const char *path;           /* -o, or NULL for stdout */
	VEC(struct tl_event) events;
};

static int tl_validate(struct session *s)
{
	struct tl_cmd *t = s->priv;

	if (s->o.interval_ns) {
		err_msg("timeline: -i is not supported (one timeline per run)");
		return -EINVAL;
	}
	if (s->o.outputs.n > 1) {
		err_msg("timeline: one -o at most");
		return -EINVAL;
	}
	if (s->o.format && strcmp(s->o.format, "chrome") && strcmp(s->o.format, "json")) {
		err_msg("timeline: unknown format '%s' (valid: chrome, the trace-event JSON Perfetto loads)",
			s->o.format);
		return -EINVAL;
	}
	if (!s->o.pids.n && !s->o.tids.n && !s->o.cmd && !s->o.follow) {
		err_msg("timeline: name the target: -p PID, -t TID, --follow COMM or -- CMD");
		return -EINVAL;
	}
	t->path = s->o.outputs.n ? s->o.outputs.v[0] : NULL;
	if (t->path && output_check_path(t->path) < 0)
		return -EINVAL;
	return 0;
}

static void tl_describe(struct session *s, struct profile *p)
{
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tl_cmd *t = ctx;

	if (size >= sizeof(struct tl_event))
		vec_push(&t->events, *(const struct tl_event *)data);
	return 0;
}

static int tl_start(struct session *s)
{
	struct tl_cmd *t = s->priv;
	static const struct cmd_records rec = { 0 };
	int err;

	if ((err = CMD_OPEN(s, &t->base, timeline, &t->skel)) < 0)
		return err;
	t->skel->rodata->have_prev_state = session_tp_nargs(s, "sched_switch") >= 4;
	t->skel->rodata->ring_bytes = bpf_map__max_entries(t->skel->maps.events);
	session_btf_release(s);
	if ((err = cmd_prepare(s, &t->base, NULL, 0)) < 0 ||
	    (err = cmd_loaded(s, &t->base, timeline_bpf__load(t->skel), &rec)) < 0)
		return err;
	if ((err = timeline_bpf__attach(t->skel)) < 0) {
		err_msg("timeline: cannot attach to the scheduler's tracepoints: %s", strerror(-err));
		return err;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL);
	if (!t->rb) {
		err = -errno;
		err_msg("timeline: cannot read its ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

static bool tl_poll(struct session *s, int timeout_ms)
{
	struct tl_cmd *t = s->priv;

	if (!t->rb)
		return false;
	ring_buffer__poll(t->rb, timeout_ms);
	return true;
}

/* ---- the trace-event JSON ---------------------------------------------------- */

static struct tl_thread *thread_of(struct hmap *idx, thread_vec *threads, const struct tl_event *e)
{
	bool found;
	uint64_t *slot = hmap_upsert(idx, e->tid, 0, threads->n, &found);

	if (!found) {
		struct tl_thread th = { .pid = e->pid, .tid = e->tid };

		vec_push(threads, th);
	}
	struct tl_thread *th = &threads->v[*slot];

	memcpy(th->comm, e->comm, 16); /* the latest name (exec renames) */
	th->comm[16] = 0;
	return th;
}

static const char *state_name(uint32_t st)
{
	if (st & 0x2)
		return "blocked (D: uninterruptible, I/O)";
	if (st & 0x1)
		return "blocked (S: sleeping)";
	if (st & 0x4)
		return "stopped";
	if (st & 0x8)
		return "traced";
	return "blocked";
}

static double us(uint64_t ns, uint64_t t0)
{
	return ns >= t0 ? (double)(ns - t0) / 1000.0 : 0;
}

/* Closes th's current stretch at ts as a slice. */
static void close_slice(FILE *out, const struct tl_thread *th, uint64_t ts, uint64_t t0, bool *first)
{
	const char *name;

	if (th->state == TS_UNKNOWN || ts < th->since)
		return;
	name = th->state == TS_RUNNING ? "running" : th->state == TS_RUNNABLE ?
	       (th->preempted ? "runnable (preempted)" : "runnable (woken, waiting for a CPU)") :
	       state_name(th->block_state);
	fprintf(out, "%s\n{\"name\":\"%s\",\"cat\":\"sched\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		"\"dur\":%.3f,\"args\":{", *first ? "" : ",", name, th->pid, th->tid, us(th->since, t0),
		(double)(ts - th->since) / 1000.0);
	if (th->state == TS_RUNNING)
		fprintf(out, "\"cpu\":%u", th->cpu);
	else if (th->state == TS_BLOCKED)
		fprintf(out, "\"state\":%u%s", th->block_state, th->waker ? "" : "");
	else
		fprintf(out, "\"preempted\":%s", th->preempted ? "true" : "false");
	if (th->state == TS_BLOCKED && th->waker)
		fprintf(out, ",\"woken_by\":%u", th->waker);
	fputs("}}", out);
	*first = false;
}

static void write_chrome(struct tl_cmd *t, FILE *out, uint64_t end_ns, uint64_t lost)
{
	struct hmap idx = { 0 };
	thread_vec threads = { 0 };
	uint64_t t0 = t->events.n ? t->events.v[0].ts : end_ns, flows = 0;
	bool first = true;

	fputs("{\"traceEvents\":[", out);
	for (size_t i = 0; i < t->events.n; i++) {
		const struct tl_event *e = &t->events.v[i];
		struct tl_thread *th = thread_of(&idx, &threads, e);

		switch (e->kind) {
		case TL_IN:
			close_slice(out, th, e->ts, t0, &first);
			if (th->flow) { /* the wake-up's arrow ends where it runs */
				fprintf(out, ",\n{\"name\":\"wakeup\",\"cat\":\"wakeup\",\"ph\":\"f\",\"bp\":\"e\",\"id\":%llu,"
					"\"pid\":%u,\"tid\":%u,\"ts\":%.3f}", (unsigned long long)th->flow, th->pid, th->tid,
					us(e->ts, t0));
				th->flow = 0;
			}
			th->state = TS_RUNNING;
			th->since = e->ts;
			th->cpu = e->cpu;
			break;
		case TL_OUT:
			if (th->state == TS_RUNNING)
				close_slice(out, th, e->ts, t0, &first);
			th->since = e->ts;
			th->preempted = e->preempt || !e->state;
			th->state = th->preempted ? TS_RUNNABLE : TS_BLOCKED;
			th->block_state = e->state;
			th->waker = 0;
			break;
		case TL_WAKE:
		case TL_NEW: {
			uint64_t *w = hmap_get(&idx, e->other, 0);

			if (th->state == TS_BLOCKED) {
				th->waker = e->other;
				close_slice(out, th, e->ts, t0, &first);
			} else if (th->state == TS_RUNNING) {
				break; /* woken while still on its CPU: nothing changes */
			}
			th->state = TS_RUNNABLE;
			th->preempted = false;
			th->since = e->ts;
			if (w) { /* an arrow from the waker (a thread of the targets) */
				const struct tl_thread *wt = &threads.v[*w];

				th->flow = ++flows;
				fprintf(out, "%s\n{\"name\":\"wakeup\",\"cat\":\"wakeup\",\"ph\":\"s\",\"id\":%llu,\"pid\":%u,"
					"\"tid\":%u,\"ts\":%.3f}", first ? "" : ",", (unsigned long long)th->flow, wt->pid,
					wt->tid, us(e->ts, t0));
				first = false;
			}
			break;
		}
		}
	}
	/* the stretches still open at the end */
	for (size_t i = 0; i < threads.n; i++)
		close_slice(out, &threads.v[i], end_ns, t0, &first);
	/* names: a process track each, a thread track each */
	for (size_t i = 0; i < threads.n; i++) {
		const struct tl_thread *th = &threads.v[i];

		fprintf(out, "%s\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":",
			first ? "" : ",", th->pid, th->tid);
		json_string(out, th->comm);
		fputs("}}", out);
		first = false;
		if (th->pid == th->tid) {
			fprintf(out, ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":", th->pid);
			json_string(out, th->comm);
			fputs("}}", out);
		}
	}
	fprintf(out, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"bpfprof timeline\",\"events\":%zu,"
		"\"lost\":%llu}}\n", t->events.n, (unsigned long long)lost);
	hmap_free(&idx);
	vec_free(&threads);
}

static int tl_summary(struct session *s, uint64_t seq)
{
	struct tl_cmd *t = s->priv;
	struct profile *p = profile_new("timeline");
	uint64_t lost = 0, end = now_ns(CLOCK_MONOTONIC);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	if (t->rb)
		ring_buffer__consume(t->rb);
	cmd_report(&t->base, p);
	for (size_t i = 0; i < p->counters.n; i++)
		lost += p->counters.v[i].value;
	if (lost)
		warn_msg("timeline: %llu events lost (the ring buffer was full): the timeline has gaps",
			 (unsigned long long)lost);
	profile_free(p);
	if (!(mem = open_memstream(&buf, &len)))
		return -ENOMEM;
	write_chrome(t, mem, end, lost);
	err = fclose(mem) ? -ENOMEM : output_write_buffer(t->path, buf, len);
	if (err < 0)
		err_msg("timeline: cannot write %s: %s", t->path ? t->path : "to stdout", strerror(-err));
	free(buf);
	return err;
}

static void tl_stop(struct session *s)
{
	struct tl_cmd *t = s->priv;

	ring_buffer__free(t->rb);
	t->rb = NULL;
	cmd_stop(&t->base);
	timeline_bpf__destroy(t->skel);
	vec_free(&t->events);
}

const struct command timeline_command = {
	.name = "timeline",
	.summary = "Record the targets' threads' scheduling (run, block, wait, wake-ups) as a timeline "
		   "that Perfetto and chrome://tracing load (-o trace.json).",
	.validate = tl_validate,
	.start = tl_start,
	.stop = tl_stop,
	.poll = tl_poll,
	.describe = tl_describe,
	.summary_out = tl_summary,
	.default_format = "chrome",
	.priv_size = sizeof(struct tl_cmd),
};
