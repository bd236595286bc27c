/* threadcreate: which code creates threads and processes (Go's threadcreate
 * profile, working; any process). threadcreate.bpf.c counts, at each
 * successful creation, the creating thread's user stack. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/session.h"
#include "core/cmdbase.h"
#include "core/goprobes.h"
#include "threadcreate.h"
#include "threadcreate.skel.h"

struct threadcreate {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct threadcreate_bpf *skel;
};

static int threadcreate_validate(struct session *s)
{
	if (s->o.unwind == UNWIND_COPY) {
		err_msg("threadcreate: --unwind copy is not supported; use tables (the default) or fp");
		return -EINVAL;
	}
	if (s->o.kernel_only) {
		err_msg("threadcreate: -K: the creating code is user code (kernel stacks are all kernel_clone)");
		return -EINVAL;
	}
	return 0;
}

static void threadcreate_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "threadcreate", "count");
	profile_add_type(p, "processes", "count");
	profile_add_type(p, "goroutines", "count");
	p->default_type = 0;
	p->period_type.type = pf_str(p, "threadcreate");
	p->period_type.unit = pf_str(p, "count");
	p->period = 1;
}

static int threadcreate_start(struct session *s)
{
	struct threadcreate *tc = s->priv;
	static const struct cmd_records rec = { 0 }; /* no --unwind copy records */
	struct bpf_link *link;
	int err;

	if ((err = CMD_OPEN(s, &tc->base, threadcreate, &tc->skel)) < 0)
		return err;
	bpf_program__set_autoattach(tc->skel->progs.threadcreate_newproc, false);
	if ((err = cmd_prepare(s, &tc->base, NULL, 0)) < 0 ||
	    (err = cmd_loaded(s, &tc->base, threadcreate_bpf__load(tc->skel), &rec)) < 0)
		return err;
	if ((err = filter_follow_attach(tc->skel->obj, &tc->base.links)) < 0)
		return err;
	/* Go targets: goroutine creation too. */
	for (size_t i = 0; i < s->o.pids.n + (s->o.cmd && s->child > 0); i++) {
		pid_t pid = i < s->o.pids.n ? s->o.pids.v[i] : s->child;
		char exe[PATH_MAX];
		struct elf_syms *es;

		if (i == s->o.pids.n && s->o.pids.n && s->o.pids.v[0] == s->child)
			break; /* CMD is already in the list */
		if (session_target_exe(s, pid, exe, sizeof(exe)) && (es = sym_elf_path(s->sym, exe)) && es->is_go &&
		    (err = go_probe_attach(s, tc->skel->progs.threadcreate_newproc, pid, exe, es, "runtime.newproc",
					   &tc->base.links)) < 0 && err != -ENOENT)
			return err;
	}
	if (!(link = bpf_program__attach(tc->skel->progs.threadcreate_fork))) {
		err = -errno;
		err_msg("cannot attach to sched_process_fork: %s", strerror(-err));
		return err;
	}
	vec_push(&tc->base.links, link);
	return 0;
}

struct threadcreate_drain {
	struct session *s;
	struct stack_builder *b;
	struct stack_reader *sr;
};

static void add_entry(const void *k, const void *v, void *ctx)
{
	const struct threadcreate_key *key = k;
	struct threadcreate_drain *d = ctx;
	uint64_t n = *(const uint64_t *)v;
	static const char *const made[] = { "thread", "process", "goroutine" };
	int64_t values[3] = { 0 };
	char comm[TASK_COMM_LEN + 1] = { 0 };
	unsigned what = key->process < 3 ? key->process : 0;
	struct pf_label kind = { .key = pf_str(d->b->p, "created"), .str = pf_str(d->b->p, made[what]) };

	values[what] = (int64_t)n;

	memcpy(comm, key->comm, TASK_COMM_LEN);
	stack_begin(d->b);
	stack_reader_add(d->sr, d->b, key->ustack, key->pid, key->exec, STACK_USER);
	stack_commit(d->b, values, key->pid, key->tid, comm, &kind, 1);
}

static void add_pid(const void *k, const void *v, void *ctx)
{
	const struct threadcreate_key *key = k;

	cmd_note(((struct threadcreate_drain *)ctx)->s, key->pid, key->exec);
}

static int threadcreate_collect(struct session *s, struct profile *p)
{
	struct threadcreate *tc = s->priv;
	struct threadcreate_bpf *skel = tc->skel;
	__u32 old = skel->bss->gen & 1;
	struct bpf_map *counts = old ? skel->maps.counts1 : skel->maps.counts0;
	struct stack_builder b;
	struct threadcreate_drain d = { .s = s, .b = &b };
	int err;

	/* Flip first: new creations go to the other set while we read this one. */
	set_generation(&skel->bss->gen, old ^ 1);
	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	d.sr = stack_reader_new(skel->maps.stacks, s->o.max_depth);
	err = map_drain(counts, sizeof(struct threadcreate_key), sizeof(uint64_t), add_pid, &d, false);
	if (!err)
		err = map_drain(counts, sizeof(struct threadcreate_key), sizeof(uint64_t), add_entry, &d, true);
	stack_reader_report(d.sr, p);
	stack_reader_free(d.sr); /* the stacks stay: creations are few, and later ones reuse them */
	stack_builder_free(&b);
	cmd_report(&tc->base, p);
	return err;
}

static void threadcreate_stop(struct session *s)
{
	struct threadcreate *tc = s->priv;

	cmd_stop(&tc->base);
	threadcreate_bpf__destroy(tc->skel);
}

const struct command threadcreate_command = {
	.name = "threadcreate",
	.summary = "Count the stacks that create threads and processes (like Go's threadcreate profile).",
	.validate = threadcreate_validate,
	.start = threadcreate_start,
	.scan = cmd_scan,
	.collect = threadcreate_collect,
	.stop = threadcreate_stop,
	.describe = threadcreate_describe,
	.add_pid = cmd_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct threadcreate),
};
