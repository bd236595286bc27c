/* goroutines: every goroutine of a Go process now — id, state and wait
 * reason, how long it has waited, its stack and the `go` statement that
 * created it — read from the process's memory without stopping it: the
 * runtime's list of goroutines (runtime.allgs) and each g's saved
 * registers (g.sched), its stack walked by frame pointers (Go keeps them).
 * Where the binary's layout comes from: symbols/gobin.c. The default output
 * is Go's own debug=2 traceback text; -f folded|pprof|json give Go's
 * goroutine profile (goroutine/count per stack). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/session.h"
#include "core/cli.h"
#include "symbols/gobin.h"
#include "symbols/stacks.h"

#define MAX_GOROUTINES (16u << 20)
#define STACK_READ (64u << 10)
#define MAX_FRAMES 128

struct go_target {
	pid_t pid;
	char comm[32];
	struct go_binary bin;
	uint64_t bias;           /* PIE load bias */
};

struct goroutines {
	VEC(struct go_target) targets;
	bool all;                /* --all: the runtime's own goroutines too */
	uint64_t unreadable;     /* goroutines whose g or stack could not be read */
};

enum { OPT_ALL = 0x5000 };
static const struct option goroutines_opts[] = {
	{ "all", no_argument, 0, OPT_ALL },
	{ 0 },
};

static int goroutines_parse(struct session *s, int opt, const char *arg)
{
	struct goroutines *g = s->priv;

	if (opt == OPT_ALL) {
		g->all = true;
		return 0;
	}
	return -EINVAL;
}

static int goroutines_validate(struct session *s)
{
	if (s->o.cmd || !s->o.pids.n || s->o.tids.n || s->o.cgroup) {
		err_msg("goroutines: needs -p PID (a running Go program)");
		return -EINVAL;
	}
	if (!s->o.duration_ns && !s->o.interval_ns)
		s->o.duration_ns = 1; /* one snapshot, now */
	return 0;
}

static void goroutines_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "goroutine", "count");
	p->default_type = 0;
	p->period_type.type = pf_str(p, "goroutine");
	p->period_type.unit = pf_str(p, "count");
	p->period = 1;
}

/* The load bias of pid's executable (PIE), from its first mapping. */
static uint64_t load_bias(pid_t pid, const struct go_binary *gb)
{
	char path[64], line[512], exe[4096];
	ssize_t n;
	FILE *f;
	uint64_t bias = 0;

	if (!gb->pie)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, off;
		char *name = strchr(line, '/');

		if (name && sscanf(line, "%llx-%*x %*s %llx", &lo, &off) == 2 && off == 0 &&
		    !strncmp(name, exe, strlen(exe))) {
			bias = lo - gb->first_vaddr;
			break;
		}
	}
	fclose(f);
	return bias;
}

static int goroutines_start(struct session *s)
{
	struct goroutines *g = s->priv;

	for (size_t i = 0; i < s->o.pids.n; i++) {
		struct go_target t = { .pid = s->o.pids.v[i] };
		char exe[64], why[512];
		int err;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", t.pid);
		if ((err = go_binary_load(&t.bin, exe, why, sizeof(why))) < 0 ||
		    (err = go_binary_can_list(&t.bin, exe, why, sizeof(why))) < 0) {
			err_msg("goroutines: pid %d: %s", t.pid, why);
			go_binary_free(&t.bin);
			return -EINVAL;
		}
		t.bias = load_bias(t.pid, &t.bin);
		{
			char path[64], *c;
			size_t len;

			snprintf(path, sizeof(path), "/proc/%d/comm", t.pid);
			if ((c = read_whole_file(path, &len))) {
				snprintf(t.comm, sizeof(t.comm), "%.*s", (int)strcspn(c, "\n"), c);
				free(c);
			}
		}
		if (s->o.verbose)
			fprintf(stderr, "%s: pid %d: %s, runtime.g layout from %s, allgs at %#llx\n", prog_name,
				t.pid, t.bin.version[0] ? t.bin.version : "Go (version unknown)", t.bin.layout_from,
				(unsigned long long)(t.bin.allgs + t.bias));
		vec_push(&g->targets, t);
	}
	return 0;
}

static uint64_t u64_at(const uint8_t *b, int64_t off)
{
	uint64_t v;

	memcpy(&v, b + off, 8);
	return v;
}

/* Go's own unwinding: each function's frame size at a pc from the
 * function table (pcsp), the return address at its top; from the saved
 * pc/sp, within the stack copy [base, base + len). Frame pointers are not
 * needed (a goroutine in a system call has none saved). Compiler wrappers
 * and runtime.goexit are left out, as Go's tracebacks leave them. */
static size_t walk(const struct go_target *t, const uint8_t *stk, uint64_t base, size_t len, uint64_t pc,
		   uint64_t sp, uint64_t *ips, size_t max)
{
	const struct go_pcln *T = &t->bin.pcln;
	size_t n = 0;

	for (int depth = 0; n < max && depth < 1024; depth++) {
		uint64_t va = pc - t->bias, look = depth ? va - 1 : va, ret;
		int64_t i = go_pcln_find(T, look), delta;
		const char *name;
		uint64_t entry;
		int id;

		if (i < 0 || !go_pcln_func(T, (uint64_t)i, &entry, &name) || !strncmp(name, "runtime.goexit", 14))
			break;
		id = go_pcln_funcid(T, (uint64_t)i);
		if (!(t->bin.funcid_wrapper >= 0 && id == t->bin.funcid_wrapper && depth))
			ips[n++] = pc;
		if (!go_pcln_spdelta(T, (uint64_t)i, look, &delta))
			break;
		if (sp + delta < base || sp + delta + 8 > base + len)
			break;
		memcpy(&ret, stk + (sp + delta - base), 8);
		if (!ret)
			break;
		sp += delta + 8;
		pc = ret;
	}
	return n;
}

static const char *status_name(unsigned st)
{
	switch (st) {
	case GO_GRUNNABLE: return "runnable";
	case GO_GRUNNING: return "running";
	case GO_GSYSCALL: return "syscall";
	case GO_GWAITING: return "waiting";
	case GO_GCOPYSTACK: return "copystack";
	case GO_GPREEMPTED: return "preempted";
	default: return "unknown";
	}
}

/* One goroutine into the profile; false if it is not shown. */
static bool add_goroutine(struct session *s, struct stack_builder *b, struct go_target *t, uint64_t gaddr,
			  uint8_t *gbuf, uint8_t *stk, uint64_t now)
{
	struct goroutines *gs = s->priv;
	const struct go_layout *L = &t->bin.g;
	struct profile *p = b->p;
	unsigned status;
	uint64_t goid, sp, pc, hi, gopc, startpc, ips[MAX_FRAMES];
	int64_t since;
	struct pf_label labels[6];
	uint32_t nl = 0;
	int64_t one = 1;
	char state[160], created[512];
	struct sym_frame f;
	size_t n = 0;

	if (!proc_read(t->pid, gaddr, gbuf, L->g_size)) {
		gs->unreadable++;
		return false;
	}
	memcpy(&status, gbuf + L->g_atomicstatus, 4);
	status &= ~GO_GSCAN;
	if (status == GO_GDEAD || status == GO_GIDLE)
		return false;
	goid = u64_at(gbuf, L->g_goid);
	startpc = u64_at(gbuf, L->g_startpc);
	gopc = u64_at(gbuf, L->g_gopc);
	/* Go's own tracebacks and profiles leave out the runtime's goroutines
	 * (isSystemGoroutine): started in runtime.*, except runtime.main. */
	if (!gs->all && startpc) {
		sym_user(s->sym, t->pid, 0, startpc, &f);
		if (f.func && !strncmp(f.func, "runtime.", 8) && strcmp(f.func, "runtime.main") &&
		    strcmp(f.func, "runtime.handleAsyncEvent"))
			return false;
	}
	sp = u64_at(gbuf, L->g_sched + L->gobuf_sp);
	pc = u64_at(gbuf, L->g_sched + L->gobuf_pc);
	hi = u64_at(gbuf, L->g_stack_hi);
	stack_begin(b);
	if (status == GO_GRUNNING) {
		stack_add_pseudo(b, "[running on a thread: its stack is not saved]");
	} else if (pc && sp && hi > sp) {
		size_t len = hi - sp < STACK_READ ? hi - sp : STACK_READ;

		if (proc_read(t->pid, sp, stk, len))
			n = walk(t, stk, sp, len, pc, sp, ips, s->o.max_depth > 0 && s->o.max_depth < MAX_FRAMES
							      ? (size_t)s->o.max_depth : MAX_FRAMES);
		if (n)
			stack_add_user(b, t->pid, 0, ips, n);
		else {
			gs->unreadable++;
			stack_add_pseudo(b, "[stack unreadable]");
		}
	}
	/* "chan receive", as Go's traceback says, else the status. */
	if (status == GO_GWAITING) {
		const char *r = go_wait_reason(&t->bin, gbuf[L->g_waitreason]);

		if (r && *r)
			snprintf(state, sizeof(state), "%s", r);
		else
			snprintf(state, sizeof(state), "waiting (reason %u)", gbuf[L->g_waitreason]);
	} else {
		snprintf(state, sizeof(state), "%s", status_name(status));
	}
	labels[nl++] = (struct pf_label){ .key = pf_str(p, "goid"), .num = (int64_t)goid };
	labels[nl++] = (struct pf_label){ .key = pf_str(p, "state"), .str = pf_str(p, state) };
	memcpy(&since, gbuf + L->g_waitsince, 8);
	if ((status == GO_GWAITING || status == GO_GSYSCALL) && since > 0 && (uint64_t)since < now)
		labels[nl++] = (struct pf_label){ .key = pf_str(p, "wait_ns"), .num = (int64_t)(now - since) };
	if (gopc && goid != 1) { /* Go names no creator for the main goroutine */
		sym_user(s->sym, t->pid, 0, gopc - 1, &f);
		if (f.func) {
			labels[nl++] = (struct pf_label){ .key = pf_str(p, "created_by"), .str = pf_str(p, f.func) };
			if (f.file) {
				snprintf(created, sizeof(created), "%s:%lld", f.file, (long long)f.line);
				labels[nl++] = (struct pf_label){ .key = pf_str(p, "created_at"), .str = pf_str(p, created) };
			}
		}
	}
	stack_commit(b, &one, t->pid, t->pid, t->comm, labels, nl);
	return true;
}

static int snapshot(struct session *s, struct stack_builder *b, struct go_target *t)
{
	uint64_t hdr[3], *ptrs, now = now_ns(CLOCK_MONOTONIC);
	uint8_t *gbuf, *stk;
	size_t shown = 0;

	if (!proc_read(t->pid, t->bin.allgs + t->bias, hdr, sizeof(hdr))) {
		err_msg("goroutines: pid %d: cannot read its goroutine list: %s", t->pid, strerror(errno));
		return -errno;
	}
	if (hdr[1] > hdr[2] || hdr[1] > MAX_GOROUTINES || (hdr[1] && !hdr[0])) {
		err_msg("goroutines: pid %d: runtime.allgs does not look like a goroutine list (%llu of %llu)",
			t->pid, (unsigned long long)hdr[1], (unsigned long long)hdr[2]);
		return -EINVAL;
	}
	ptrs = xcalloc(hdr[1] + 1, 8);
	if (hdr[1] && !proc_read(t->pid, hdr[0], ptrs, hdr[1] * 8)) {
		err_msg("goroutines: pid %d: cannot read its goroutine list: %s", t->pid, strerror(errno));
		free(ptrs);
		return -EIO;
	}
	gbuf = xmalloc(t->bin.g.g_size);
	stk = xmalloc(STACK_READ);
	for (uint64_t i = 0; i < hdr[1]; i++)
		if (ptrs[i])
			shown += add_goroutine(s, b, t, ptrs[i], gbuf, stk, now);
	if (s->o.verbose)
		fprintf(stderr, "%s: pid %d: %zu of %llu goroutines shown in %.1f ms\n", prog_name, t->pid, shown,
			(unsigned long long)hdr[1], (now_ns(CLOCK_MONOTONIC) - now) / 1e6);
	free(ptrs);
	free(gbuf);
	free(stk);
	return 0;
}

static int goroutines_collect(struct session *s, struct profile *p)
{
	struct goroutines *gs = s->priv;
	struct stack_builder b;
	int err = 0;

	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	gs->unreadable = 0;
	for (size_t i = 0; i < gs->targets.n && !err; i++) {
		session_snapshot(s, gs->targets.v[i].pid);
		err = snapshot(s, &b, &gs->targets.v[i]);
	}
	if (gs->unreadable)
		profile_add_counter(p, "goroutines unreadable", gs->unreadable);
	stack_builder_free(&b);
	return err;
}

static void goroutines_stop(struct session *s)
{
	struct goroutines *gs = s->priv;

	for (size_t i = 0; i < gs->targets.n; i++)
		go_binary_free(&gs->targets.v[i].bin);
	vec_free(&gs->targets);
}

const struct command goroutines_command = {
	.name = "goroutines",
	.summary = "Show every goroutine of a Go process now (Go's goroutine profile, debug=2 text).",
	.options_help = "      --all                 the runtime's own goroutines too (GOTRACEBACK=system)\n",
	.long_opts = goroutines_opts,
	.parse_opt = goroutines_parse,
	.validate = goroutines_validate,
	.start = goroutines_start,
	.collect = goroutines_collect,
	.stop = goroutines_stop,
	.describe = goroutines_describe,
	.default_format = "goroutine",
	.priv_size = sizeof(struct goroutines),
};
