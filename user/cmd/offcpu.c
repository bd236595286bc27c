/* offcpu: where threads block, and for how long. sched_switch runs
 * offcpu.bpf.c, which times each off-CPU period and sums it by stack.
 * wall: the same, plus the time threads run (sampled on cpu-clock, state
 * "running"), in one unit: every thread's wall-clock time by stack. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cmdbase.h"
#include "core/cli.h"
#include "core/goprobes.h"
#include "core/gotargets.h"
#include "offcpu.h"
#include "offcpu.skel.h"
#include "core/session.h"
#include "core/unwinder.h"

struct offcpu {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct offcpu_bpf *skel;
	int64_t min_ns, max_ns;
	uint32_t state_mask;
	bool used_raw_tp;
	bool seed;                  /* threads blocked at start are seeded */
	bool have_prev_state;
	bool wall;                  /* the wall command: on-CPU samples too */
	bool threads;               /* --threads: Go targets as threads, not goroutines */
	struct go_targets go;       /* Go targets in the goroutine view */
	uint64_t go_runtime_ns;     /* this interval's waits of the runtime's own goroutines */
	bool per_thread;            /* wall --per-thread: a root frame per thread */
	uint64_t freq;              /* wall -F */
};

enum { OPT_MIN_BLOCK = 0x3000, OPT_MAX_BLOCK, OPT_STATE, OPT_PER_THREAD, OPT_THREADS };

static const struct option offcpu_opts[] = {
	{ "threads", no_argument, 0, OPT_THREADS },
	{ "min-block", required_argument, 0, OPT_MIN_BLOCK },
	{ "max-block", required_argument, 0, OPT_MAX_BLOCK },
	{ "state", required_argument, 0, OPT_STATE },
	{ 0 },
};

static const char *const state_names[OFFCPU_NSTATES] = {
	[OFFCPU_PREEMPTED] = "preempted",
	[OFFCPU_SLEEPING] = "sleeping",
	[OFFCPU_UNINTERRUPTIBLE] = "uninterruptible",
	[OFFCPU_IDLE] = "idle",
	[OFFCPU_OTHER] = "other",
	[OFFCPU_RUNNING] = "running",
};

static int parse_block(const char *arg, const char *opt, int64_t *out)
{
	int64_t ns = parse_duration_ns(arg, "ns");

	if (ns < 0) {
		err_msg("%s '%s': expected a duration with a unit: ns, us, ms or s (e.g. 1ms)", opt, arg);
		return -EINVAL;
	}
	*out = ns;
	return 0;
}

static int offcpu_parse(struct session *s, int opt, const char *arg)
{
	struct offcpu *oc = s->priv;

	switch (opt) {
	case OPT_THREADS: oc->threads = true; return 0;
	case OPT_MIN_BLOCK: return parse_block(arg, "--min-block", &oc->min_ns);
	case OPT_MAX_BLOCK: return parse_block(arg, "--max-block", &oc->max_ns);
	case OPT_STATE: {
		char *copy = xstrdup(arg), *tok, *save = NULL;
		int err = 0;

		oc->state_mask = 0;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int i;

			if (!strcmp(tok, "all")) {
				oc->state_mask = (1u << OFFCPU_NSTATES) - 1;
				continue;
			}
			for (i = 0; i < OFFCPU_NSTATES; i++)
				if (!strcmp(tok, state_names[i]))
					break;
			if (i == OFFCPU_NSTATES || (i == OFFCPU_RUNNING && !oc->wall)) {
				err_msg("--state '%s': unknown state (valid: all, %ssleeping, uninterruptible, "
					"preempted, idle, other; comma-separated)", tok, oc->wall ? "running, " : "");
				err = -EINVAL;
				break;
			}
			oc->state_mask |= 1u << i;
		}
		free(copy);
		return err;
	}
	}
	return -EINVAL;
}

static int offcpu_validate(struct session *s)
{
	struct offcpu *oc = s->priv;

	if (oc->wall && s->o.unwind == UNWIND_COPY) {
		err_msg("wall: --unwind copy is not supported; use tables (the default) or fp");
		return -EINVAL;
	}
	if (oc->max_ns && oc->min_ns > oc->max_ns) {
		err_msg("--min-block is greater than --max-block");
		return -EINVAL;
	}
	return 0;
}

static void offcpu_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "events", "count");
	profile_add_type(p, "offcpu", "nanoseconds");
	p->default_type = 1;
	p->period_type.type = pf_str(p, "offcpu");
	p->period_type.unit = pf_str(p, "nanoseconds");
	p->period = 1;
}

static void wall_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "samples", "count"); /* on-CPU samples and blocks */
	profile_add_type(p, "wall", "nanoseconds");
	p->default_type = 1;
	p->period_type.type = pf_str(p, "wall");
	p->period_type.unit = pf_str(p, "nanoseconds");
	p->period = 1;
}

_Static_assert(sizeof(struct offcpu_uw_payload) <= UW_PAYLOAD, "payload too big");

static void merge_val(void *dst, const void *src)
{
	struct offcpu_val *d = dst;
	const struct offcpu_val *v = src;

	d->count += v->count;
	d->total_ns += v->total_ns;
}

/* --unwind dwarf, end of the run: threads still off CPU count up to now. */
static void add_pending_records(struct offcpu *oc, uint64_t now)
{
	int fd = bpf_map__fd(oc->skel->maps.uw_starts);
	size_t size = bpf_map__value_size(oc->skel->maps.uw_starts);
	struct uw_record *r = xmalloc(size);
	uint32_t key, next;
	void *prev = NULL;
	VEC(uint32_t) tids = { 0 };

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		vec_push(&tids, next);
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < tids.n; i++) {
		struct offcpu_uw_payload *pl = (void *)r->payload;
		uint64_t blocked;

		if (bpf_map_lookup_elem(fd, &tids.v[i], r) || pl->start >= now)
			continue;
		blocked = now - pl->start;
		if (blocked < oc->skel->rodata->min_block_ns || blocked > oc->skel->rodata->max_block_ns)
			continue;
		pl->val.count = 0; /* not an event yet: it has not ended */
		pl->val.total_ns = blocked;
		uw_keyed_record(&oc->base.uw, r, size);
	}
	vec_free(&tids);
	free(r);
}

/* The seed walked user stacks by frame pointers, which lose the callers
 * of code built without them (a hung thread's, most of all): each seeded
 * thread still blocked is unwound again here from .eh_frame, from the
 * registers the seed saved and its stack read now, and its seed stack
 * replaced. A thread that ran meanwhile (its start record changed) keeps
 * the frame-pointer walk: its stack memory is no longer the one the
 * registers describe. */
static void seed_unwind(struct session *s, struct offcpu *oc)
{
	int rfd = bpf_map__fd(oc->skel->maps.seed_regs), sfd = bpf_map__fd(oc->skel->maps.starts);
	int stfd = bpf_map__fd(oc->skel->maps.seed_stacks);
	uint32_t key, next;
	void *prev = NULL;
	VEC(uint32_t) tids = { 0 };

	while (bpf_map_get_next_key(rfd, prev, &next) == 0) {
		vec_push(&tids, next);
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < tids.n; i++) {
		uint64_t regs[UW_NREGS], ips[SEED_DEPTH] = { 0 };
		struct offcpu_start st, again;
		bool complete, unreadable;
		size_t n;

		if (bpf_map_lookup_elem(rfd, &tids.v[i], regs) || bpf_map_lookup_elem(sfd, &tids.v[i], &st) ||
		    st.ustack < SEED_STACK_BASE)
			continue;
		session_note_pid(s, st.pid, st.exec);
		n = uw_unwind_live(s->sym, st.pid, st.exec, regs, s->o.stack_bytes > 16384 ? s->o.stack_bytes : UW_MAX_STACK,
				   ips, SEED_DEPTH, &complete, &unreadable);
		if (!n || bpf_map_lookup_elem(sfd, &tids.v[i], &again) || again.start != st.start)
			continue;
		__u32 id = (__u32)st.ustack;
		bpf_map_update_elem(stfd, &id, ips, BPF_EXIST);
	}
	for (size_t i = 0; i < tids.n; i++)
		bpf_map_delete_elem(rfd, &tids.v[i]);
	vec_free(&tids);
}

/* Runs the seed iterator once (offcpu.bpf.c): threads blocked now get a
 * start record stamped now. After attaching, so none of their wake-ups is
 * missed. Not fatal: the profile then starts from each thread's next block. */
static void run_seed(struct session *s, struct offcpu *oc)
{
	struct bpf_link *link = bpf_program__attach_iter(oc->skel->progs.offcpu_seed, NULL);
	char buf[256];
	int fd;

	if (!link) {
		warn_msg("cannot list the threads blocked at start: %s", strerror(errno));
		return;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	if (s->o.verbose)
		fprintf(stderr, "%s: %llu threads were blocked at start (counted from now)\n", prog_name,
			(unsigned long long)oc->skel->bss->seeded);
	if (s->o.unwind != UNWIND_FP)
		seed_unwind(s, oc);
}

/* Opens, configures and loads, with or without the start-up seed. */
static int open_and_load(struct session *s, struct offcpu *oc, bool seed)
{
	struct offcpu_bpf *skel;
	int err;

	if ((err = CMD_OPEN(s, &oc->base, offcpu, &oc->skel)) < 0)
		return err;
	skel = oc->skel;
	skel->rodata->state_mask = oc->state_mask ? oc->state_mask : (1u << OFFCPU_NSTATES) - 1;
	skel->rodata->min_block_ns = oc->min_ns ? oc->min_ns : 1;
	skel->rodata->max_block_ns = oc->max_ns ? (uint64_t)oc->max_ns : ~0ULL;
	skel->rodata->have_prev_state = oc->have_prev_state;
	bpf_program__set_autoload(oc->used_raw_tp ? skel->progs.offcpu_switch_btf
						  : skel->progs.offcpu_switch_raw, false);
	oc->seed = seed;
	if (oc->wall) {
		if (!oc->freq)
			oc->freq = 99;
		skel->rodata->sample_period_ns = 1000000000ULL / oc->freq;
	}
	bpf_program__set_autoload(skel->progs.offcpu_sample, oc->wall);
	bpf_program__set_autoattach(skel->progs.offcpu_sample, false);
	bpf_program__set_autoload(skel->progs.offcpu_gopark, oc->go.v.n > 0);
	bpf_program__set_autoattach(skel->progs.offcpu_gopark, false);
	bpf_program__set_autoload(skel->progs.offcpu_goexecute, oc->go.v.n > 0);
	bpf_program__set_autoattach(skel->progs.offcpu_goexecute, false);
	bpf_program__set_autoload(skel->progs.offcpu_seed, seed);
	bpf_program__set_autoattach(skel->progs.offcpu_seed, false);
	if ((err = cmd_prepare(s, &oc->base, "uw_starts", UW_RING_EVENTS)) < 0)
		return err;
	err = bpf_map__set_max_entries(skel->maps.starts, 65536);
	if (!err && !uw_enabled(s))
		err = bpf_map__set_value_size(skel->maps.uw_starts, sizeof(struct uw_record));
	if (err) {
		err_msg("cannot size the offcpu maps: %s", strerror(-err));
		return err;
	}
	return offcpu_bpf__load(skel);
}

/* The targets that are Go programs: measured by their goroutines unless
 * --threads (or wall, which is a thread view). -p pids and -- CMD. */
static void find_go_targets(struct session *s, struct offcpu *oc)
{
	if (oc->threads || oc->wall)
		return;
	go_targets_find(s, &oc->go, "runtime.execute");
	for (size_t i = 0; i < oc->go.v.n && s->o.verbose; i++)
		fprintf(stderr, "%s: pid %d is a Go program (%s): its goroutines are measured (--threads for "
			"its threads)\n", prog_name, oc->go.v.v[i].pid,
			oc->go.v.v[i].bin.version[0] ? oc->go.v.v[i].bin.version : "version unknown");
}

static int offcpu_start(struct session *s)
{
	struct offcpu *oc = s->priv;
	static const struct cmd_records rec = {
		.key_size = sizeof(struct offcpu_key), .val_size = sizeof(struct offcpu_val), .merge = merge_val,
		.layout = { offsetof(struct offcpu_key, ustack), offsetof(struct offcpu_key, kstack),
			    offsetof(struct offcpu_uw_payload, val) },
	};
	struct offcpu_bpf *skel;
	int err;

	find_go_targets(s, oc);
	oc->used_raw_tp = !session_have_tp_btf(s, "sched_switch");
	oc->have_prev_state = session_tp_nargs(s, "sched_switch") >= 4;
	session_btf_release(s);
	/* The start-up seed needs a sleepable task iterator that may read
	 * another task's user memory (Linux 5.18+). A kernel that refuses it
	 * loads the rest alone: threads blocked at start are then seen from
	 * their next block on (-v says so). */
	err = getenv("BPFPROF_NO_SEED") ? -ENOTSUP : open_and_load(s, oc, true);
	if (err < 0) {
		if (oc->skel)
			offcpu_bpf__destroy(oc->skel);
		oc->skel = NULL;
		if (s->o.verbose)
			fprintf(stderr, "%s: threads blocked at start are not seeded (%s)\n", prog_name,
				strerror(-err));
		err = open_and_load(s, oc, false);
	}
	if ((err = cmd_loaded(s, &oc->base, err, &rec)) < 0)
		return err;
	skel = oc->skel;
	/* Go targets: their threads leave sched_switch's count before it is
	 * attached; their goroutines are probed. */
	go_targets_mark(&oc->go, skel->maps.go_procs);
	if ((err = offcpu_bpf__attach(skel)) < 0) {
		err_msg("cannot attach to sched_switch (%s): %s", oc->used_raw_tp ? "raw_tp" : "tp_btf",
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < oc->go.v.n; i++) {
		struct go_target_info *g = &oc->go.v.v[i];
		struct elf_syms *es = sym_elf_path(s->sym, g->exe);

		if (!es || (err = go_probe_attach(s, skel->progs.offcpu_gopark, g->pid, g->exe, es, "runtime.gopark",
						  &oc->base.links)) < 0 ||
		    (err = go_probe_attach(s, skel->progs.offcpu_goexecute, g->pid, g->exe, es, "runtime.execute",
					   &oc->base.links)) < 0) {
			if (!es || err == -ENOENT)
				err_msg("pid %d: %s has no runtime.gopark/runtime.execute (use --threads)", g->pid, g->exe);
			return es ? err : -ENOENT;
		}
	}
	if (oc->wall && (err = perf_attach_cpu_clock(skel->progs.offcpu_sample, skel->rodata->sample_period_ns,
						      &oc->base.links, &oc->base.fds)) < 0)
		return err;
	if (s->o.verbose)
		fprintf(stderr, "%s: offcpu attached with %s\n", prog_name, oc->used_raw_tp ? "raw_tp" : "tp_btf");
	if (oc->seed)
		run_seed(s, oc);
	return 0;
}

static void offcpu_scan(struct session *s)
{
	struct offcpu *oc = s->priv;

	/* Go: the label sets of the waits so far, read while the target lives. */
	go_targets_prefetch_map(&oc->go, oc->skel->maps.counts0, sizeof(struct offcpu_key),
				offsetof(struct offcpu_key, labels));
	go_targets_prefetch_map(&oc->go, oc->skel->maps.counts1, sizeof(struct offcpu_key),
				offsetof(struct offcpu_key, labels));
	uint32_t key, next;
	void *prev = NULL;
	struct offcpu_start st;

	while (bpf_map_get_next_key(bpf_map__fd(oc->skel->maps.starts), prev, &next) == 0) {
		if (bpf_map_lookup_elem(bpf_map__fd(oc->skel->maps.starts), &next, &st) == 0) {
			cmd_note(s, st.pid, st.exec);
		}
		key = next;
		prev = &key;
	}
}

struct offcpu_drain {
	struct session *s;
	struct stack_builder *b;
	struct stack_reader *sr;
};

/* A goroutine wait's label: Go's text for its wait reason. */
static const char *go_reason(struct offcpu *oc, const struct offcpu_key *key, char *buf, size_t n)
{
	struct go_target_info *g = go_targets_get(&oc->go, key->pid);
	const char *r;

	if (g && (r = go_wait_reason(&g->bin, key->state)) && *r)
		return r;
	snprintf(buf, n, "wait reason %u", key->state);
	return buf;
}

/* A goroutine started in the runtime (its outermost frame below
 * runtime.goexit is runtime.*, other than runtime.main). */
static bool runtime_goroutine(const struct stack_builder *b)
{
	for (size_t i = b->locs.n; i-- > 0;) {
		const struct pf_location *loc = &b->p->locations.v[b->locs.v[i]];
		const char *fn = loc->nlines ? loc->lines[loc->nlines - 1].func : NULL;

		if (!fn || !strcmp(fn, "runtime.goexit"))
			continue;
		return !strncmp(fn, "runtime.", 8) && strcmp(fn, "runtime.main");
	}
	return false;
}

static void add_sample(struct offcpu_drain *d, const struct offcpu_key *key, uint64_t count, uint64_t ns)
{
	int64_t values[2] = { (int64_t)count, (int64_t)ns };
	char rbuf[32];
	struct pf_label state = { .key = "state", .str = key->go ? go_reason(d->s->priv, key, rbuf, sizeof(rbuf))
				  : state_names[key->state < OFFCPU_NSTATES ? key->state : OFFCPU_OTHER] };
	char comm[TASK_COMM_LEN + 1] = { 0 };

	memcpy(comm, key->comm, TASK_COMM_LEN);
	stack_begin(d->b);
	stack_reader_add(d->sr, d->b, key->kstack, 0, 0, STACK_KERNEL);
	stack_reader_add(d->sr, d->b, key->ustack, key->pid, key->exec, STACK_USER);
	if (key->kthread)
		stack_add_pseudo(d->b, "[kernel thread]");
	if (key->go && runtime_goroutine(d->b)) {
		/* Go's own profiles leave the runtime's goroutines out (GC
		 * workers, the sweeper, the scavenger): so does this one, and
		 * says how much in a comment. */
		((struct offcpu *)d->s->priv)->go_runtime_ns += ns;
		return;
	}
	if (((struct offcpu *)d->s->priv)->per_thread) {
		char name[64];

		snprintf(name, sizeof(name), "[tid %u]", key->tid);
		stack_add_pseudo(d->b, name);
	}
	{
		struct pf_label labels[12] = { state };
		uint32_t nl = 1 + go_targets_labels(&((struct offcpu *)d->s->priv)->go, d->b->p, key->pid,
						    key->labels, labels + 1, 11);

		stack_commit(d->b, values, key->pid, key->tid, comm, labels, nl);
	}
}

static void add_entry(const void *k, const void *v, void *ctx)
{
	const struct offcpu_val *val = v;

	add_sample(ctx, k, val->count, val->total_ns);
}

static void note_pid(const void *k, const void *v, void *ctx)
{
	const struct offcpu_key *key = k;

	cmd_note(((struct offcpu_drain *)ctx)->s, key->pid, key->exec);
}

/* Threads still off CPU: their stacks stay in the stack map; at the end of
 * the run, their blocks so far are counted up to now. Between intervals a
 * block counts once, in the interval in which it ends: the loader cannot
 * move a record's accounting start without racing the thread's wake-up. */
static void add_pending(struct offcpu *oc, struct offcpu_drain *d, uint64_t now, bool final)
{
	int fd = bpf_map__fd(oc->skel->maps.starts);
	uint32_t key, next;
	void *prev = NULL;
	VEC(uint32_t) tids = { 0 };
	struct hmap keep = { 0 };

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		vec_push(&tids, next);
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < tids.n; i++) {
		struct offcpu_start st;
		uint64_t blocked;

		if (bpf_map_lookup_elem(fd, &tids.v[i], &st))
			continue;
		if (st.ustack >= 0)
			hmap_upsert(&keep, (uint32_t)st.ustack, 0, 1, NULL);
		if (st.kstack >= 0)
			hmap_upsert(&keep, (uint32_t)st.kstack, 0, 1, NULL);
		if (!final || st.start >= now)
			continue;
		blocked = now - st.start;
		if (blocked < oc->skel->rodata->min_block_ns || blocked > oc->skel->rodata->max_block_ns)
			continue;
		struct offcpu_key k = { .pid = st.pid, .exec = st.exec, .tid = tids.v[i], .ustack = st.ustack,
					.kstack = st.kstack, .state = st.state, .kthread = st.kthread };

		memcpy(k.comm, st.comm, sizeof(k.comm));
		cmd_note(d->s, st.pid, st.exec);
		add_sample(d, &k, 0, blocked);
	}
	/* Recycle the other stacks, so a long run does not fill the stack map.
	 * A thread that blocks on an existing stack in the few microseconds
	 * between the walk above and this delete loses that stack (counted as
	 * "[... stack lost]", not silently). */
	if (!final) {
		stackmap_recycle(oc->skel->maps.stacks, &keep);
	}
	hmap_free(&keep);
	vec_free(&tids);
}

static int offcpu_collect(struct session *s, struct profile *p)
{
	struct offcpu *oc = s->priv;
	struct offcpu_bpf *skel = oc->skel;
	__u32 old = skel->bss->gen & 1;
	struct bpf_map *counts = old ? skel->maps.counts1 : skel->maps.counts0;
	struct stack_builder b;
	struct offcpu_drain d = { .s = s, .b = &b };
	uint64_t boundary = now_ns(CLOCK_MONOTONIC);
	int err;

	set_generation(&skel->bss->gen, old ^ 1);
	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	d.sr = stack_reader_new(skel->maps.stacks, s->o.max_depth);
	stack_reader_set_alt(d.sr, skel->maps.seed_stacks, SEED_STACK_BASE);
	stack_reader_set_alt(d.sr, skel->maps.stacks, STACK_STORE_BASE); /* above the seed's ids */
	err = map_drain(counts, sizeof(struct offcpu_key), sizeof(struct offcpu_val), note_pid, &d, false);
	if (!err)
		err = map_drain(counts, sizeof(struct offcpu_key), sizeof(struct offcpu_val), add_entry, &d, true);
	add_pending(oc, &d, boundary, s->final);
	stack_reader_report(d.sr, p);
	stack_reader_free(d.sr);
	/* --unwind dwarf: finished blocks so far, then (at the end) those in
	 * progress, in that order so none counts twice. */
	uw_poll(&oc->base.uw, 0);
	if (oc->base.uw.rb && s->final)
		add_pending_records(oc, boundary);
	uw_drain(&oc->base.uw, &d.sr, s->o.max_depth, add_entry, &d);
	stack_builder_free(&b);
	if (oc->go_runtime_ns) {
		char note[160];

		snprintf(note, sizeof(note), "left out, as Go's profiles do: %.3f s of waits of the Go runtime's own "
			 "goroutines (GC workers, sweeper, scavenger)", oc->go_runtime_ns / 1e9);
		profile_add_comment(p, note);
		oc->go_runtime_ns = 0;
	}
	cmd_report(&oc->base, p);
	return err;
}

static void offcpu_stop(struct session *s)
{
	struct offcpu *oc = s->priv;

	go_targets_free(&oc->go);
	cmd_stop(&oc->base);
	offcpu_bpf__destroy(oc->skel);
}

const struct command offcpu_command = {
	.name = "offcpu",
	.summary = "Off-CPU time by stack: where threads block, and for how long.",
	.options_help =
		"      --min-block DURATION  count only blocks at least this long (e.g. 1ms)\n"
		"      --max-block DURATION  count only blocks at most this long\n"
		"      --state LIST          all (default), sleeping, uninterruptible, preempted,\n"
		"                            idle, other; comma-separated\n"
		"      --threads             a Go target as threads (default: its goroutines)\n",
	.long_opts = offcpu_opts,
	.parse_opt = offcpu_parse,
	.validate = offcpu_validate,
	.start = offcpu_start,
	.scan = offcpu_scan,
	.collect = offcpu_collect,
	.stop = offcpu_stop,
	.describe = offcpu_describe,
	.add_pid = cmd_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct offcpu),
};

static const struct option wall_opts[] = {
	{ "frequency", required_argument, 0, 'F' },
	{ "per-thread", no_argument, 0, OPT_PER_THREAD },
	{ "min-block", required_argument, 0, OPT_MIN_BLOCK },
	{ "max-block", required_argument, 0, OPT_MAX_BLOCK },
	{ "state", required_argument, 0, OPT_STATE },
	{ 0 },
};

static int wall_parse(struct session *s, int opt, const char *arg)
{
	struct offcpu *oc = s->priv;

	oc->wall = true;
	switch (opt) {
	case 'F': return cli_parse_frequency(arg, &oc->freq);
	case OPT_PER_THREAD: oc->per_thread = true; return 0;
	}
	return offcpu_parse(s, opt, arg);
}

static int wall_validate(struct session *s)
{
	((struct offcpu *)s->priv)->wall = true;
	return offcpu_validate(s);
}

/* wall: offcpu's programs plus on-CPU samples, one unit (see the top). */
const struct command wall_command = {
	.name = "wall",
	.summary = "Wall-clock time by stack: on-CPU (sampled) and off-CPU (measured) together.",
	.options_help =
		"  -F, --frequency HZ        on-CPU samples per second (default 99)\n"
		"      --per-thread          a root frame per thread ([tid N]): one flame per thread\n"
		"      --min-block DURATION  count only blocks at least this long (e.g. 1ms)\n"
		"      --max-block DURATION  count only blocks at most this long\n"
		"      --state LIST          all (default), running, sleeping, uninterruptible,\n"
		"                            preempted, idle, other; comma-separated\n",
	.long_opts = wall_opts,
	.short_opts = "F:",
	.parse_opt = wall_parse,
	.validate = wall_validate,
	.start = offcpu_start,
	.scan = offcpu_scan,
	.collect = offcpu_collect,
	.stop = offcpu_stop,
	.describe = wall_describe,
	.add_pid = cmd_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct offcpu),
};
