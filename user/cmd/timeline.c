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
#include <unistd.h>

#include "core/cli.h"
#include "core/cmdbase.h"
#include "core/goprobes.h"
#include "core/gotargets.h"
#include "core/session.h"
#include "core/stackread.h"
#include "core/sysinfo.h"
#include "base/syscalls.h"
#include "symbols/stacks.h"
#include "render/render.h"
#include "render/output.h"
#include "render/timeline_html.h"
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
	bool ran;                   /* cpu is where it last ran */
	uint32_t stack;             /* the stack it left the CPU from (a stackFrames id, 0: none) */
	uint64_t flow;              /* a wake-up's arrow to end when it runs (0: none) */
};

typedef VEC(struct tl_thread) thread_vec;

/* An event as kept until the end: what BPF sent, and for a system call its
 * return value and entry. */
struct tl_rec {
	struct tl_event e;
	int64_t ret;
	uint64_t start;
	int32_t seed;               /* its stacks in seeds (TL_SEED, a call open at the end), or -1 */
	bool open;                  /* a system call still in progress at the end */
};

/* A thread blocked at start: its stacks (TL_SEED's event names it by index). */
struct tl_seed_stacks {
	uint64_t kips[TL_SEED_DEPTH];
	uint64_t uips[128];
	size_t nu;
};

struct tl_cmd {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct timeline_bpf *skel;
	struct ring_buffer *rb;
	const char *path;           /* -o, or NULL for stdout */
	bool html;                  /* -f html or -o X.html: the page, else the JSON */
	uint64_t freq;              /* -F: on-CPU samples per second per CPU */
	VEC(struct tl_rec) events;
	VEC(struct tl_seed_stacks) seeds;
	int64_t min_syscall_ns;     /* --min-syscall (default 1 ms); -1: --no-syscalls */
	bool min_syscall_set;
	int64_t min_block_stack_ns; /* --min-block-stack (default 1 ms) */
	bool min_block_stack_set;
	struct hmap seen;           /* (pid, exec) noted for symbols and unwind tables */
	struct go_targets go;       /* Go targets: their goroutines get lanes */
};

enum { OPT_MIN_SYSCALL = 0x2000, OPT_NO_SYSCALLS, OPT_MIN_BLOCK_STACK };

static const struct option tl_opts[] = {
	{ "frequency", required_argument, 0, 'F' },
	{ "min-syscall", required_argument, 0, OPT_MIN_SYSCALL },
	{ "no-syscalls", no_argument, 0, OPT_NO_SYSCALLS },
	{ "min-block-stack", required_argument, 0, OPT_MIN_BLOCK_STACK },
	{ 0 },
};

static int tl_parse(struct session *s, int opt, const char *arg)
{
	struct tl_cmd *t = s->priv;

	switch (opt) {
	case 'F':
		return cli_parse_frequency(arg, &t->freq);
	case OPT_MIN_SYSCALL:
		if ((t->min_syscall_ns = parse_duration_ns(arg, "ms")) < 0) {
			err_msg("--min-syscall '%s': not a duration (e.g. 1ms, 200us, 0 for every call)", arg);
			return -EINVAL;
		}
		t->min_syscall_set = true;
		return 0;
	case OPT_MIN_BLOCK_STACK:
		if ((t->min_block_stack_ns = parse_duration_ns(arg, "ms")) < 0) {
			err_msg("--min-block-stack '%s': not a duration (e.g. 1ms, 100us, 0 for every block)", arg);
			return -EINVAL;
		}
		t->min_block_stack_set = true;
		return 0;
	case OPT_NO_SYSCALLS:
		t->min_syscall_ns = -1;
		t->min_syscall_set = true;
		return 0;
	}
	return -EINVAL;
}

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
	if (s->o.format && strcmp(s->o.format, "chrome") && strcmp(s->o.format, "json") &&
	    strcmp(s->o.format, "html")) {
		err_msg("timeline: unknown format '%s' (valid: chrome, the trace-event JSON Perfetto loads; html, "
			"a page that draws it)", s->o.format);
		return -EINVAL;
	}
	if (!s->o.pids.n && !s->o.tids.n && !s->o.cmd && !s->o.follow && !s->o.cgroup) {
		err_msg("timeline: name the target: -p PID, -t TID, --cgroup DIR, --follow COMM or -- CMD");
		return -EINVAL;
	}
	if (s->o.unwind == UNWIND_COPY) {
		err_msg("timeline: --unwind copy is not supported (the stacks are walked in BPF: tables or fp)");
		return -EINVAL;
	}
	if (!t->freq)
		t->freq = 99;
	if (!t->min_syscall_set)
		t->min_syscall_ns = 1000000;
	if (!t->min_block_stack_set)
		t->min_block_stack_ns = 1000000;
	t->path = s->o.outputs.n ? s->o.outputs.v[0] : NULL;
	if (s->o.format)
		t->html = !strcmp(s->o.format, "html");
	else if (t->path) {
		const char *dot = strrchr(t->path, '.');

		t->html = dot && (!strcmp(dot, ".html") || !strcmp(dot, ".htm"));
	}
	if (t->path && output_check_path(t->path) < 0)
		return -EINVAL;
	return 0;
}

static void tl_describe(struct session *s, struct profile *p)
{
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	struct tl_cmd *t = s->priv;
	const struct tl_event *e = data;
	bool found;

	if (size < sizeof(*e))
		return 0;
	if (e->kind == TL_SYSCALL) {
		const struct tl_syscall *sc = data;
		struct tl_rec rec = { .e = *e, .seed = -1 };

		if (size < sizeof(*sc))
			return 0;
		rec.ret = sc->ret;
		rec.start = sc->start;
		vec_push(&t->events, rec);
		if (e->ustack != STACK_NONE && (hmap_upsert(&t->seen, e->pid, e->exec, 0, &found), !found))
			cmd_note(s, (pid_t)e->pid, e->exec);
		return 0;
	}
	if (e->kind == TL_SEED || e->kind == TL_OPEN_SYSCALL) {
		const struct tl_seed *sd = data;
		struct tl_seed_stacks st = { 0 };
		struct tl_rec rec = { .e = *e, .seed = (int32_t)t->seeds.n };
		bool complete, unreadable;

		if (size < sizeof(*sd))
			return 0;
		memcpy(st.kips, sd->kips, sizeof(st.kips));
		if (sd->regs[16]) { /* asleep: its user stack, unwound while it still sleeps */
			session_note_pid(s, (pid_t)e->pid, e->exec);
			st.nu = uw_unwind_live(s->sym, (pid_t)e->pid, e->exec, (const uint64_t *)sd->regs, UW_MAX_STACK,
					       st.uips, sizeof(st.uips) / sizeof(st.uips[0]) - 1, &complete, &unreadable);
		}
		if (e->kind == TL_OPEN_SYSCALL) { /* a call in progress: from its entry to now */
			rec.e.kind = TL_SYSCALL;
			rec.e.state = e->preempt; /* began before the run */
			rec.start = sd->start;
			rec.open = true;
		}
		vec_push(&t->seeds, st);
		vec_push(&t->events, rec);
		return 0;
	}
	vec_push(&t->events, ((struct tl_rec){ .e = *e, .seed = -1 }));
	/* a process seen with a stack: its mappings kept for the symbols,
	 * its unwind tables loaded for the next walks */
	if (e->ustack != STACK_NONE && (hmap_upsert(&t->seen, e->pid, e->exec, 0, &found), !found))
		cmd_note(s, (pid_t)e->pid, e->exec);
	return 0;
}

/* The Go targets' goroutines: entry probes on the runtime's scheduler
 * (gopark and execute needed; goready, goschedImpl and goexit0 where the
 * binary has them) and where goid is in runtime.g. A binary whose g layout
 * is unknown has no goroutine lanes (said once). */
static int attach_go(struct session *s, struct tl_cmd *t)
{
	/* goready runs on the waker's goroutine (ready, on the system stack,
	 * no longer knows it): ready only where goready was inlined */
	static const char *const optional[] = { "runtime.goready", "runtime.goschedImpl", "runtime.goexit0" };
	struct bpf_program *opt_progs[] = { t->skel->progs.tl_goready, t->skel->progs.tl_gosched,
					    t->skel->progs.tl_goexit };
	int err;

	for (size_t i = 0; i < t->go.v.n; i++) {
		struct go_target_info *g = &t->go.v.v[i];
		struct elf_syms *es = sym_elf_path(s->sym, g->exe);
		__u32 pid = g->pid, off = g->bin.layout_from && g->bin.g.g_goid > 0 ? (__u32)g->bin.g.g_goid : 0;

		if (!es || !off) {
			warn_msg("timeline: pid %d: where %s keeps goroutine ids is unknown: no goroutine lanes",
				 g->pid, g->exe);
			continue;
		}
		bpf_map_update_elem(bpf_map__fd(t->skel->maps.tl_go), &pid, &off, BPF_ANY);
		if ((err = go_probe_attach(s, t->skel->progs.tl_gopark, g->pid, g->exe, es, "runtime.gopark",
					   &t->base.links)) < 0 ||
		    (err = go_probe_attach(s, t->skel->progs.tl_goexecute, g->pid, g->exe, es, "runtime.execute",
					   &t->base.links)) < 0)
			return err;
		for (size_t j = 0; j < sizeof(optional) / sizeof(optional[0]); j++) {
			err = go_probe_attach(s, opt_progs[j], g->pid, g->exe, es, optional[j], &t->base.links);
			if (err == -ENOENT && j == 0)
				err = go_probe_attach(s, opt_progs[j], g->pid, g->exe, es, "runtime.ready", &t->base.links);
			if (err < 0 && err != -ENOENT)
				return err;
		}
	}
	return 0;
}

/* Runs the seed iterator: at start, after attaching (no switch is missed),
 * each target thread's state now and a blocked one's stacks; at the end, the
 * long system calls still in progress (bpf/timeline.bpf.c). Read at once, so
 * a user stack is unwound while its thread still sleeps. Not fatal: a
 * thread then starts at its first switch; a call in progress is left out. */
static void run_seed(struct tl_cmd *t, bool at_end)
{
	struct bpf_link *link;
	char buf[256];
	int fd;

	t->skel->bss->at_end = at_end;
	if (!(link = bpf_program__attach_iter(t->skel->progs.tl_seed, NULL))) {
		warn_msg("timeline: cannot list the threads at %s%s: %s", at_end ? "the end" : "start",
			 at_end ? " (system calls in progress are left out)" : " (they appear at their first switch)",
			 strerror(errno));
		return;
	}
	if ((fd = bpf_iter_create(bpf_link__fd(link))) >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	ring_buffer__consume(t->rb);
}

static int tl_start(struct session *s)
{
	struct tl_cmd *t = s->priv;
	static const struct cmd_records rec = { 0 };
	int err;

	if ((err = CMD_OPEN(s, &t->base, timeline, &t->skel)) < 0)
		return err;
	t->skel->rodata->have_prev_state = session_tp_nargs(s, "sched_switch") >= 4;
	/* 0 sends every call: the BPF side's 0 means none, so 1 ns */
	t->skel->rodata->min_syscall_ns = t->min_syscall_ns < 0 ? 0 : t->min_syscall_ns ? t->min_syscall_ns : 1;
	t->skel->rodata->min_stack_block_ns = t->min_block_stack_ns;
	/* the system call hooks: long calls, and a long block's user stack */
	bpf_program__set_autoload(t->skel->progs.tl_sys_enter, t->min_syscall_ns >= 0 || t->min_block_stack_ns);
	bpf_program__set_autoload(t->skel->progs.tl_sys_exit, t->min_syscall_ns >= 0 || t->min_block_stack_ns);
	t->skel->rodata->ring_bytes = bpf_map__max_entries(t->skel->maps.events);
	bpf_program__set_autoattach(t->skel->progs.tl_sample, false);
	bpf_program__set_autoattach(t->skel->progs.tl_seed, false);
	go_targets_find(s, &t->go, "runtime.gopark");
	{
		struct bpf_program *gp[] = { t->skel->progs.tl_gopark, t->skel->progs.tl_goexecute,
					     t->skel->progs.tl_goready, t->skel->progs.tl_gosched,
					     t->skel->progs.tl_goexit };

		for (size_t i = 0; i < sizeof(gp) / sizeof(gp[0]); i++) {
			bpf_program__set_autoload(gp[i], t->go.v.n > 0);
			bpf_program__set_autoattach(gp[i], false);
		}
	}
	session_btf_release(s);
	if ((err = cmd_prepare(s, &t->base, NULL, 0)) < 0 ||
	    (err = cmd_loaded(s, &t->base, timeline_bpf__load(t->skel), &rec)) < 0)
		return err;
	if ((err = timeline_bpf__attach(t->skel)) < 0) {
		err_msg("timeline: cannot attach to the scheduler's tracepoints: %s", strerror(-err));
		return err;
	}
	if ((err = perf_attach_cpu_clock(t->skel->progs.tl_sample, 1000000000ULL / t->freq, &t->base.links,
					 &t->base.fds)) < 0 ||
	    (err = attach_go(s, t)) < 0)
		return err;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, s, NULL);
	if (!t->rb) {
		err = -errno;
		err_msg("timeline: cannot read its ring buffer: %s", strerror(-err));
		return err;
	}
	run_seed(t, false);
	return 0;
}

static bool tl_poll(struct session *s, int timeout_ms)
{
	struct tl_cmd *t = s->priv;

	if (!t->rb)
		return false;
	if (cmd_poll(s, 0)) /* mappings, and a -- CMD's unwind tables as it execs */
		timeout_ms = 0;
	ring_buffer__poll(t->rb, timeout_ms);
	return true;
}

/* ---- stacks: the trace-event format's stackFrames ---------------------------
 * Every stack is a path in one tree of frames (a node per function, under
 * its caller), written once as "stackFrames": {"id": {"name", "category",
 * "parent"}}; an event names its leaf with "sf". Inlined functions are
 * frames of their own, as in the flame graphs. */
struct tl_frame {
	uint32_t parent;            /* 0: a root */
	const char *name, *category; /* interned in the writer's profile */
};

struct tl_writer {
	FILE *out;
	uint64_t t0;
	bool first;                 /* no event written yet (no comma before it) */
	struct profile *p;          /* holds the symbols' locations and strings */
	struct stack_builder b;
	struct stack_reader *sr;
	VEC(struct tl_frame) frames; /* node id - 1 */
	struct hmap frame_idx;      /* (parent, name) -> id */
	struct hmap stack_idx;      /* (ustack, kstack), (pid, exec) -> id + 1 (0: no stack) */
};

static uint32_t frame_child(struct tl_writer *w, uint32_t parent, const char *name, const char *category)
{
	bool found;
	uint64_t *slot = hmap_upsert(&w->frame_idx, parent, (uintptr_t)name, w->frames.n + 1, &found);

	if (!found) {
		struct tl_frame f = { parent, name, category };

		vec_push(&w->frames, f);
	}
	return (uint32_t)*slot;
}

static const char *location_category(struct tl_writer *w, const struct pf_location *loc)
{
	const char *file, *base;

	if (loc->kind == PF_FRAME_KERNEL)
		return pf_str(w->p, "kernel");
	if (!loc->mapping || !(file = w->p->mappings.v[loc->mapping - 1].file))
		return pf_str(w->p, "unknown");
	base = strrchr(file, '/');
	return pf_str(w->p, base ? base + 1 : file);
}

/* The leaf frame id of the stack in w->b (0: empty). */
static uint32_t built_stack(struct tl_writer *w)
{
	uint32_t node = 0;

	for (size_t i = w->b.locs.n; i-- > 0;) { /* root first */
		const struct pf_location *loc = &w->p->locations.v[w->b.locs.v[i]];
		const char *cat = location_category(w, loc);

		if (!loc->nlines) {
			char addr[32];

			snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)loc->addr);
			node = frame_child(w, node, pf_str(w->p, addr), cat);
		}
		for (uint32_t l = loc->nlines; l-- > 0;) /* the caller, then what it inlined */
			node = frame_child(w, node, loc->lines[l].func, cat);
	}
	return node;
}

/* The leaf frame id of event e's stacks (0: it has none). */
static uint32_t stack_of(struct tl_writer *w, const struct tl_event *e)
{
	uint64_t k1 = (uint64_t)(uint32_t)e->ustack << 32 | (uint32_t)e->kstack;
	uint64_t k2 = (uint64_t)e->pid << 32 | e->exec;
	uint32_t node;
	bool found;
	uint64_t *slot;

	if ((e->ustack == STACK_NONE && e->kstack == STACK_NONE) || !w->sr)
		return 0;
	slot = hmap_upsert(&w->stack_idx, k1, k2, 0, &found);
	if (found)
		return (uint32_t)*slot;
	stack_begin(&w->b);
	stack_reader_add(w->sr, &w->b, e->kstack, 0, 0, STACK_KERNEL);
	stack_reader_add(w->sr, &w->b, e->ustack, (pid_t)e->pid, e->exec, STACK_USER);
	node = built_stack(w);
	/* the map may have grown: look the slot up again */
	*hmap_get(&w->stack_idx, k1, k2) = node;
	return node;
}

/* The same for a thread blocked at start (its stacks came with the seed). */
static uint32_t seed_stack(struct tl_writer *w, const struct tl_event *e, const struct tl_seed_stacks *st)
{
	stack_begin(&w->b);
	stack_add_kernel(&w->b, st->kips, TL_SEED_DEPTH);
	if (st->nu)
		stack_add_user(&w->b, (pid_t)e->pid, e->exec, st->uips, st->nu);
	return built_stack(w);
}

/* ,"sf":ID and, with args, the stack leaf first in args "stack" (what
 * Perfetto shows when the event is clicked). */
static void write_stack_args(struct tl_writer *w, uint32_t node)
{
	fputs(",\"stack\":[", w->out);
	for (uint32_t n = node, i = 0; n && i < 512; n = w->frames.v[n - 1].parent, i++) {
		if (i)
			fputc(',', w->out);
		json_string(w->out, w->frames.v[n - 1].name);
	}
	fputc(']', w->out);
}

static void write_frames(struct tl_writer *w)
{
	fputs(",\n\"stackFrames\":{", w->out);
	for (size_t i = 0; i < w->frames.n; i++) {
		const struct tl_frame *f = &w->frames.v[i];

		fprintf(w->out, "%s\n\"%zu\":{\"name\":", i ? "," : "", i + 1);
		json_string(w->out, f->name);
		fputs(",\"category\":", w->out);
		json_string(w->out, f->category);
		if (f->parent)
			fprintf(w->out, ",\"parent\":\"%u\"", f->parent);
		fputc('}', w->out);
	}
	fputs("}", w->out);
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

/* An event's start: ",\n{" but for the first. */
static void begin_event(struct tl_writer *w)
{
	fputs(w->first ? "\n{" : ",\n{", w->out);
	w->first = false;
}

/* Blocked stretches this long carry their stack in args too. */
#define STACK_ARGS_MIN_NS 1000000

/* Closes th's current stretch at ts as a slice. */
static void close_slice(struct tl_writer *w, const struct tl_thread *th, uint64_t ts)
{
	const char *name;

	if (th->state == TS_UNKNOWN || ts < th->since)
		return;
	name = th->state == TS_RUNNING ? "running" : th->state == TS_RUNNABLE ?
	       (th->preempted ? "runnable (preempted)" : "runnable (woken, waiting for a CPU)") :
	       state_name(th->block_state);
	begin_event(w);
	fprintf(w->out, "\"name\":\"%s\",\"cat\":\"sched\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		"\"dur\":%.3f", name, th->pid, th->tid, us(th->since, w->t0), (double)(ts - th->since) / 1000.0);
	if (th->state != TS_RUNNING && th->stack)
		fprintf(w->out, ",\"sf\":%u", th->stack);
	fputs(",\"args\":{", w->out);
	if (th->state == TS_RUNNING)
		fprintf(w->out, "\"cpu\":%u", th->cpu);
	else if (th->state == TS_BLOCKED)
		fprintf(w->out, "\"state\":%u", th->block_state);
	else if (th->preempted)
		fputs("\"preempted\":true", w->out);
	else /* woken: the state it was blocked in, for the off-CPU profile of a window */
		fprintf(w->out, "\"preempted\":false,\"state\":%u", th->block_state);
	if (th->state == TS_BLOCKED && th->waker)
		fprintf(w->out, ",\"woken_by\":%u", th->waker);
	if (th->state == TS_BLOCKED && th->stack && ts - th->since >= STACK_ARGS_MIN_NS)
		write_stack_args(w, th->stack);
	fputs("}}", w->out);
}

static void write_flow(struct tl_writer *w, char ph, uint64_t id, uint32_t pid, uint32_t tid, uint64_t ts)
{
	begin_event(w);
	fprintf(w->out, "\"name\":\"wakeup\",\"cat\":\"wakeup\",\"ph\":\"%c\",%s\"id\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.3f}", ph, ph == 'f' ? "\"bp\":\"e\"," : "", (unsigned long long)id, pid, tid, us(ts, w->t0));
}

static void write_sample(struct tl_writer *w, const struct tl_event *e, uint32_t node)
{
	begin_event(w);
	fprintf(w->out, "\"name\":\"cpu sample\",\"cat\":\"sample\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.3f", e->pid, e->tid, us(e->ts, w->t0));
	if (node)
		fprintf(w->out, ",\"sf\":%u", node);
	fprintf(w->out, ",\"args\":{\"cpu\":%u", e->cpu);
	if (node)
		write_stack_args(w, node);
	fputs("}}", w->out);
}

/* A long system call: an async slice of the process (the thread's track
 * holds its scheduling slices, which a call does not nest with), args
 * naming the thread. */
static void write_syscall(struct tl_writer *w, const struct tl_rec *r, uint32_t node, uint64_t id)
{
	const char *name = syscall_name(r->e.other);
	char nbuf[32];

	if (!name) {
		snprintf(nbuf, sizeof(nbuf), "syscall %u", r->e.other);
		name = nbuf;
	}
	begin_event(w);
	fprintf(w->out, "\"name\":\"%s\",\"cat\":\"syscall\",\"ph\":\"b\",\"id\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.3f", name, (unsigned long long)id, r->e.pid, r->e.tid, us(r->start, w->t0));
	if (node)
		fprintf(w->out, ",\"sf\":%u", node);
	fprintf(w->out, ",\"args\":{\"tid\":%u,\"nr\":%u", r->e.tid, r->e.other);
	if (r->open)
		fputs(",\"in_progress_at_end\":true", w->out);
	else
		fprintf(w->out, ",\"ret\":%lld", (long long)r->ret);
	if (r->e.state)
		fputs(",\"began_before_start\":true", w->out);
	if (node)
		write_stack_args(w, node);
	fputs("}}", w->out);
	begin_event(w);
	fprintf(w->out, "\"name\":\"%s\",\"cat\":\"syscall\",\"ph\":\"e\",\"id\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.3f}", name, (unsigned long long)id, r->e.pid, r->e.tid, us(r->e.ts, w->t0));
}

/* A long block's stacks come after its switch-out (the kernel stack at the
 * wake-up, the user stack at the system call's exit): given to that
 * switch-out, the thread's last one that blocked, before the JSON is
 * written. */
static void attach_block_stacks(struct tl_cmd *t)
{
	struct hmap last = { 0 }; /* tid -> index + 1 of its last blocking TL_OUT */
	bool found;

	for (size_t i = 0; i < t->events.n; i++) {
		struct tl_event *e = &t->events.v[i].e;
		uint64_t *slot;

		if (e->kind == TL_OUT && e->state && !e->preempt) {
			*hmap_upsert(&last, e->tid, 0, 0, &found) = i + 1;
		} else if (e->kind == TL_BLOCK_STACK && (slot = hmap_get(&last, e->tid, 0)) && *slot) {
			struct tl_event *out = &t->events.v[*slot - 1].e;

			if (e->kstack != STACK_NONE)
				out->kstack = e->kstack;
			if (e->ustack != STACK_NONE) {
				out->ustack = e->ustack;
				out->exec = e->exec;
			}
		}
	}
	hmap_free(&last);
}

/* ---- goroutine lanes --------------------------------------------------------
 * A Go target's goroutines, each a track of its process (tid GO_TID_BASE +
 * goid: above any thread id), sorted after the threads: running (on which
 * thread), runnable, waiting (Go's wait reason, the stack it parked at),
 * with arrows from the goroutine that readied it. */
#define GO_TID_BASE 1000000000u

enum go_state { GS_UNKNOWN, GS_RUNNING, GS_RUNNABLE, GS_WAITING, GS_DEAD };

struct tl_gor {
	uint32_t pid, goid, tid;    /* tid: the thread it runs on */
	enum go_state state;
	uint64_t since, flow;
	uint32_t reason, stack, waker;
	bool yielded;
};

static const char *go_reason_text(struct tl_cmd *t, uint32_t pid, uint32_t reason, char *buf, size_t n)
{
	struct go_target_info *g = go_targets_get(&t->go, (pid_t)pid);
	const char *r = g ? go_wait_reason(&g->bin, reason) : NULL;

	if (!r) {
		snprintf(buf, n, "wait reason %u", reason);
		return buf;
	}
	return r;
}

static void close_go(struct tl_writer *w, struct tl_cmd *t, const struct tl_gor *g, uint64_t ts)
{
	char rbuf[32];

	if (g->state == GS_UNKNOWN || g->state == GS_DEAD || ts < g->since)
		return;
	begin_event(w);
	fputs("\"name\":", w->out);
	if (g->state == GS_WAITING) {
		char name[96];

		snprintf(name, sizeof(name), "waiting (%s)", go_reason_text(t, g->pid, g->reason, rbuf, sizeof(rbuf)));
		json_string(w->out, name);
	} else {
		fputs(g->state == GS_RUNNING ? "\"running\"" : g->yielded ? "\"runnable (preempted or yielded)\"" :
		      "\"runnable\"", w->out);
	}
	fprintf(w->out, ",\"cat\":\"goroutine\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f",
		g->pid, GO_TID_BASE + g->goid, us(g->since, w->t0), (double)(ts - g->since) / 1000.0);
	if (g->state == GS_WAITING && g->stack)
		fprintf(w->out, ",\"sf\":%u", g->stack);
	fprintf(w->out, ",\"args\":{\"goroutine\":%u", g->goid);
	if (g->state == GS_RUNNING)
		fprintf(w->out, ",\"thread\":%u", g->tid);
	if (g->state == GS_WAITING && g->waker)
		fprintf(w->out, ",\"woken_by_goroutine\":%u", g->waker);
	if (g->state == GS_WAITING && g->stack && ts - g->since >= STACK_ARGS_MIN_NS)
		write_stack_args(w, g->stack);
	fputs("}}", w->out);
}

struct go_lanes {
	struct hmap idx;            /* (pid, goid) -> index in v */
	VEC(struct tl_gor) v;
	struct hmap running;        /* tid -> goid + 1 running on it */
};

static struct tl_gor *gor_of(struct go_lanes *gl, uint32_t pid, uint32_t goid)
{
	bool found;
	uint64_t *slot = hmap_upsert(&gl->idx, pid, goid, gl->v.n, &found);

	if (!found) {
		struct tl_gor g = { .pid = pid, .goid = goid };

		vec_push(&gl->v, g);
	}
	return &gl->v.v[*slot];
}

/* One goroutine event; flows numbers the wake-up arrows (shared with the threads'). */
static void go_event(struct tl_writer *w, struct tl_cmd *t, struct go_lanes *gl, const struct tl_event *e,
		     uint64_t *flows)
{
	struct tl_gor *g;
	uint64_t *cur;
	bool found;

	if (!e->other)
		return; /* g0 or an unreadable g: not a goroutine */
	g = gor_of(gl, e->pid, e->other);
	if (g->state == GS_DEAD && e->kind != TL_GO_RUN)
		return;
	switch (e->kind) {
	case TL_GO_RUN:
		cur = hmap_upsert(&gl->running, e->tid, 0, 0, &found);
		if (found && *cur && *cur - 1 != e->other) { /* what ran on this thread stopped without parking */
			struct tl_gor *prev = gor_of(gl, e->pid, (uint32_t)(*cur - 1));

			g = gor_of(gl, e->pid, e->other); /* the vector may have moved */
			if (prev->state == GS_RUNNING && prev->tid == e->tid) {
				close_go(w, t, prev, e->ts);
				prev->state = GS_RUNNABLE;
				prev->yielded = true;
				prev->since = e->ts;
			}
		}
		*hmap_get(&gl->running, e->tid, 0) = (uint64_t)e->other + 1;
		close_go(w, t, g, e->ts);
		if (g->flow) {
			write_flow(w, 'f', g->flow, g->pid, GO_TID_BASE + g->goid, e->ts);
			g->flow = 0;
		}
		g->state = GS_RUNNING;
		g->tid = e->tid;
		g->since = e->ts;
		break;
	case TL_GO_PARK:
		close_go(w, t, g, e->ts);
		g->state = GS_WAITING;
		g->reason = e->state;
		g->waker = 0;
		g->since = e->ts;
		g->stack = stack_of(w, e);
		if ((cur = hmap_get(&gl->running, e->tid, 0)) && *cur == (uint64_t)e->other + 1)
			*cur = 0;
		break;
	case TL_GO_READY:
		if (g->state == GS_RUNNING)
			break;
		if (g->state == GS_WAITING)
			g->waker = e->state;
		close_go(w, t, g, e->ts);
		g->state = GS_RUNNABLE;
		g->yielded = false;
		g->since = e->ts;
		if (e->state && hmap_get(&gl->idx, e->pid, e->state)) { /* an arrow from the waker's lane */
			g->flow = ++*flows;
			write_flow(w, 's', g->flow, e->pid, GO_TID_BASE + e->state, e->ts);
		}
		break;
	case TL_GO_YIELD:
	case TL_GO_EXIT:
		close_go(w, t, g, e->ts);
		g->state = e->kind == TL_GO_EXIT ? GS_DEAD : GS_RUNNABLE;
		g->yielded = true;
		g->since = e->ts;
		if ((cur = hmap_get(&gl->running, e->tid, 0)) && *cur == (uint64_t)e->other + 1)
			*cur = 0;
		break;
	}
}

static void write_chrome(struct session *s, FILE *out, uint64_t end_ns, struct profile *counters)
{
	struct tl_cmd *t = s->priv;
	struct hmap idx = { 0 };
	thread_vec threads = { 0 };
	struct tl_writer w = { .out = out, .first = true, .p = profile_new("timeline") };
	uint64_t flows = 0, samples = 0, lost = 0, syscalls = 0;
	struct go_lanes gl = { 0 };

	w.t0 = end_ns;
	for (size_t i = 0; i < t->events.n; i++) { /* a system call's entry can come before the first event */
		const struct tl_rec *r = &t->events.v[i];
		uint64_t ts = r->e.kind == TL_SYSCALL && r->start < r->e.ts ? r->start : r->e.ts;

		if (ts < w.t0)
			w.t0 = ts;
	}
	stack_builder_init(&w.b, w.p, s->sym, s->o.max_depth);
	w.sr = stack_reader_new(t->skel->maps.stacks, s->o.max_depth);
	attach_block_stacks(t);
	fputs("{\"traceEvents\":[", out);
	for (size_t i = 0; i < t->events.n; i++) {
		const struct tl_event *e = &t->events.v[i].e;
		struct tl_thread *th = thread_of(&idx, &threads, e);

		switch (e->kind) {
		case TL_IN:
			close_slice(&w, th, e->ts);
			if (th->flow) { /* the wake-up's arrow ends where it runs */
				write_flow(&w, 'f', th->flow, th->pid, th->tid, e->ts);
				th->flow = 0;
			}
			if (th->ran && th->cpu != e->cpu) { /* a migration: runs on another CPU than last time */
				begin_event(&w);
				fprintf(out, "\"name\":\"migrate\",\"cat\":\"sched\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,"
					"\"tid\":%u,\"ts\":%.3f,\"args\":{\"from_cpu\":%u,\"to_cpu\":%u}}", th->pid, th->tid,
					us(e->ts, w.t0), th->cpu, e->cpu);
			}
			th->state = TS_RUNNING;
			th->since = e->ts;
			th->cpu = e->cpu;
			th->ran = true;
			break;
		case TL_OUT:
			if (th->state == TS_RUNNING)
				close_slice(&w, th, e->ts);
			th->since = e->ts;
			th->preempted = e->preempt || !e->state;
			th->state = th->preempted ? TS_RUNNABLE : TS_BLOCKED;
			th->block_state = e->state;
			th->waker = 0;
			th->stack = stack_of(&w, e);
			break;
		case TL_SEED: /* how it was at start, unless it switched already */
			if (th->state != TS_UNKNOWN)
				break;
			th->since = e->ts;
			th->cpu = e->cpu;
			th->state = e->preempt ? TS_RUNNING : !e->state ? TS_RUNNABLE : TS_BLOCKED;
			th->preempted = !e->preempt && !e->state;
			th->block_state = e->state;
			if (th->state == TS_BLOCKED && t->events.v[i].seed >= 0)
				th->stack = seed_stack(&w, e, &t->seeds.v[t->events.v[i].seed]);
			break;
		case TL_SYSCALL:
			write_syscall(&w, &t->events.v[i], t->events.v[i].seed >= 0 ?
				      seed_stack(&w, e, &t->seeds.v[t->events.v[i].seed]) : stack_of(&w, e), ++syscalls);
			break;
		case TL_GO_RUN:
		case TL_GO_PARK:
		case TL_GO_READY:
		case TL_GO_YIELD:
		case TL_GO_EXIT:
			go_event(&w, t, &gl, e, &flows);
			break;
		case TL_SAMPLE:
			samples++;
			write_sample(&w, e, stack_of(&w, e));
			break;
		case TL_WAKE:
		case TL_NEW: {
			uint64_t *wk = hmap_get(&idx, e->other, 0);

			if (th->state == TS_BLOCKED) {
				th->waker = e->other;
				close_slice(&w, th, e->ts);
			} else if (th->state == TS_RUNNING) {
				break; /* woken while still on its CPU: nothing changes */
			}
			th->state = TS_RUNNABLE;
			th->preempted = false;
			th->since = e->ts;
			if (wk) { /* an arrow from the waker (a thread of the targets) */
				const struct tl_thread *wt = &threads.v[*wk];

				th->flow = ++flows;
				write_flow(&w, 's', th->flow, wt->pid, wt->tid, e->ts);
			}
			break;
		}
		}
	}
	/* the stretches still open at the end */
	for (size_t i = 0; i < threads.n; i++)
		close_slice(&w, &threads.v[i], end_ns);
	for (size_t i = 0; i < gl.v.n; i++) {
		const struct tl_gor *g = &gl.v.v[i];

		close_go(&w, t, g, end_ns);
		begin_event(&w);
		fprintf(out, "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":"
			"\"goroutine %u\"}}", g->pid, GO_TID_BASE + g->goid, g->goid);
		begin_event(&w); /* after the threads (their sort index is their tid) */
		fprintf(out, "\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
			"\"args\":{\"sort_index\":%u}}", g->pid, GO_TID_BASE + g->goid, GO_TID_BASE + g->goid);
	}
	/* names: a process track each, a thread track each */
	for (size_t i = 0; i < threads.n; i++) {
		const struct tl_thread *th = &threads.v[i];

		begin_event(&w);
		fprintf(out, "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":",
			th->pid, th->tid);
		json_string(out, th->comm);
		fputs("}}", out);
		if (th->pid == th->tid) {
			fprintf(out, ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":", th->pid);
			json_string(out, th->comm);
			fputs("}}", out);
		}
	}
	fputs("\n]", out);
	write_frames(&w);
	/* what was recorded, and what was lost (the programs' counters by name) */
	stack_reader_report(w.sr, counters);
	for (size_t i = 0; i < counters->counters.n; i++)
		if (strstr(counters->counters.v[i].name, "ring buffer"))
			lost += counters->counters.v[i].value;
	fprintf(out, ",\n\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"bpfprof timeline\",\"events\":%zu,"
		"\"lost\":%llu,\"samples\":%llu,\"sample_period_ns\":%llu,\"duration_ns\":%llu,\"target\":", t->events.n,
		(unsigned long long)lost, (unsigned long long)samples, (unsigned long long)(1000000000ULL / t->freq),
		(unsigned long long)(end_ns - w.t0));
	session_describe_target(s, w.p);
	json_string(out, w.p->target);
	fputs(",\"counters\":{", out);
	for (size_t i = 0, n = 0; i < counters->counters.n; i++) {
		const struct pf_counter *c = &counters->counters.v[i];

		if (!c->value)
			continue;
		fputs(n++ ? "," : "", out);
		json_string(out, c->name);
		fprintf(out, ":%llu", (unsigned long long)c->value);
	}
	fputs("}}}\n", out);
	stack_reader_free(w.sr);
	stack_builder_free(&w.b);
	profile_free(w.p);
	vec_free(&w.frames);
	hmap_free(&w.frame_idx);
	hmap_free(&w.stack_idx);
	hmap_free(&idx);
	vec_free(&threads);
	hmap_free(&gl.idx);
	hmap_free(&gl.running);
	vec_free(&gl.v);
}

/* A page this big takes a browser tens of seconds to parse and draw. */
#define PAGE_WARN_BYTES (200u << 20)

static int tl_summary(struct session *s, uint64_t seq)
{
	struct tl_cmd *t = s->priv;
	struct profile *counters = profile_new("timeline");
	uint64_t end = now_ns(CLOCK_MONOTONIC);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	if (t->rb) {
		ring_buffer__consume(t->rb);
		if (t->min_syscall_ns >= 0)
			run_seed(t, true); /* the long system calls still in progress */
	}
	cmd_report(&t->base, counters);
	if (!(mem = open_memstream(&buf, &len))) {
		profile_free(counters);
		return -ENOMEM;
	}
	write_chrome(s, mem, end, counters);
	for (size_t i = 0; i < counters->counters.n; i++) {
		const struct pf_counter *c = &counters->counters.v[i];

		if (c->value)
			warn_msg("timeline: %llu %s%s", (unsigned long long)c->value, c->name,
				 strstr(c->name, "ring buffer") ? ": the timeline has gaps" : "");
	}
	profile_free(counters);
	err = fclose(mem) ? -ENOMEM : 0;
	if (!err && t->html) { /* the page, with the JSON inside */
		char *page = NULL;
		size_t plen = 0;

		if (!(mem = open_memstream(&page, &plen)))
			err = -ENOMEM;
		else if ((err = timeline_html_write(mem, buf, len)), fclose(mem) || err < 0)
			err = err < 0 ? err : -ENOMEM;
		if (err < 0) {
			free(page);
		} else {
			free(buf);
			buf = page;
			len = plen;
			if (len > PAGE_WARN_BYTES) /* the page parses the whole trace at once */
				warn_msg("timeline: the page holds %zu MB of trace: a browser may take long to open it; "
					 "for long or busy recordings, -o trace.json into ui.perfetto.dev", len >> 20);
		}
	}
	if (!err)
		err = output_write_buffer(t->path, buf, len);
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
	vec_free(&t->seeds);
	hmap_free(&t->seen);
	go_targets_free(&t->go);
}

const struct command timeline_command = {
	.name = "timeline",
	.summary = "A timeline of threads and goroutines (run, block, wait, wake-ups, stacks, system calls): "
		   "-o trace.json for Perfetto, -o trace.html for a page.",
	.options_help =
		"  -F, --frequency HZ       on-CPU samples (with stacks) per second per CPU (default 99)\n"
		"      --min-syscall D      system calls that take D or more (default 1ms; 0: all)\n"
		"      --no-syscalls        no system calls\n"
		"      --min-block-stack D  stacks for blocks that last D or more (default 1ms; 0: every\n"
		"                           block, walked at each switch: microseconds per switch)\n"
		"  -o FILE.json | FILE.html trace-event JSON (Perfetto, chrome://tracing) or the page\n",
	.long_opts = tl_opts,
	.short_opts = "F:",
	.parse_opt = tl_parse,
	.validate = tl_validate,
	.start = tl_start,
	.stop = tl_stop,
	.poll = tl_poll,
	.describe = tl_describe,
	.summary_out = tl_summary,
	.default_format = "chrome",
	.unwind_tables = true,
	.priv_size = sizeof(struct tl_cmd),
};
