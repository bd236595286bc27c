/* oncpu: where CPU time goes. A perf cpu-clock event on every online CPU
 * runs oncpu.bpf.c, which counts (thread, user stack, kernel stack). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/session.h"
#include "core/cmdbase.h"
#include "core/cli.h"
#include "core/gotargets.h"
#include "oncpu.h"
#include "oncpu.skel.h"
#include "core/unwinder.h"

struct oncpu {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct oncpu_bpf *skel;
	uint64_t freq;
	bool include_idle;
	struct go_targets go;       /* Go targets: their samples carry pprof labels */
};

enum { OPT_INCLUDE_IDLE = 0x2000 };

static const struct option oncpu_opts[] = {
	{ "frequency", required_argument, 0, 'F' },
	{ "include-idle", no_argument, 0, OPT_INCLUDE_IDLE },
	{ 0 },
};

static int oncpu_parse(struct session *s, int opt, const char *arg)
{
	struct oncpu *oc = s->priv;

	switch (opt) {
	case 'F':
		return cli_parse_frequency(arg, &oc->freq);
	case OPT_INCLUDE_IDLE:
		oc->include_idle = true;
		return 0;
	}
	return -EINVAL;
}

static void oncpu_describe(struct session *s, struct profile *p)
{
	struct oncpu *oc = s->priv;

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	p->default_type = 0;
	p->period_type.type = pf_str(p, "cpu");
	p->period_type.unit = pf_str(p, "nanoseconds");
	p->period = 1000000000LL / (oc->freq ? oc->freq : 99);
}

/* --unwind dwarf payload: the key, then a count of 1. */
_Static_assert(sizeof(struct oncpu_key) + sizeof(uint64_t) <= UW_PAYLOAD, "payload too big");
_Static_assert(sizeof(struct oncpu_key) % 8 == 0, "the count after the key must be 8-byte aligned");

static void merge_count(void *dst, const void *src)
{
	*(uint64_t *)dst += *(const uint64_t *)src;
}

static int oncpu_start(struct session *s)
{
	struct oncpu *oc = s->priv;
	static const struct cmd_records rec = {
		.key_size = sizeof(struct oncpu_key), .val_size = sizeof(uint64_t), .merge = merge_count,
		.layout = { offsetof(struct oncpu_key, ustack), offsetof(struct oncpu_key, kstack),
			    sizeof(struct oncpu_key) },
	};
	struct oncpu_bpf *skel;
	int err;
	uint64_t period;

	if (!oc->freq)
		oc->freq = 99;
	period = 1000000000ULL / oc->freq;
	if ((err = CMD_OPEN(s, &oc->base, oncpu, &oc->skel)) < 0)
		return err;
	skel = oc->skel;
	skel->rodata->include_idle = oc->include_idle;
	/* records: a quarter second of samples on every CPU */
	if ((err = cmd_prepare(s, &oc->base, NULL, oc->freq * session_possible_cpus() / 4 + 16)) < 0 ||
	    (err = cmd_loaded(s, &oc->base, oncpu_bpf__load(skel), &rec)) < 0)
		return err;
	go_targets_find(s, &oc->go, NULL);
	go_targets_mark(&oc->go, skel->maps.go_procs);

	return filter_follow_attach(skel->obj, &oc->base.links) ?:
	       perf_attach_cpu_clock(skel->progs.oncpu_sample, period, &oc->base.links, &oc->base.fds);
}

struct oncpu_drain {
	struct session *s;
	struct stack_builder *b;
	struct stack_reader *sr;
	uint64_t period;
};

static void add_entry(const void *k, const void *v, void *ctx)
{
	const struct oncpu_key *key = k;
	struct oncpu_drain *d = ctx;
	uint64_t count = *(const uint64_t *)v;
	int64_t values[2] = { (int64_t)count, (int64_t)(count * d->period) };
	char comm[TASK_COMM_LEN + 1] = { 0 };

	struct pf_label labels[16];
	uint32_t nl = go_targets_labels(&((struct oncpu *)d->s->priv)->go, d->b->p, key->pid, key->labels, labels, 16);

	memcpy(comm, key->comm, TASK_COMM_LEN);
	stack_begin(d->b);
	stack_reader_add(d->sr, d->b, key->kstack, 0, 0, STACK_KERNEL);
	stack_reader_add(d->sr, d->b, key->ustack, key->pid, key->exec, STACK_USER);
	stack_commit(d->b, values, key->pid, key->tid, comm, labels, nl);
}

static void add_pid(const void *k, const void *v, void *ctx)
{
	const struct oncpu_key *key = k;

	cmd_note(((struct oncpu_drain *)ctx)->s, key->pid, key->exec);
}

static int oncpu_collect(struct session *s, struct profile *p)
{
	struct oncpu *oc = s->priv;
	struct oncpu_bpf *skel = oc->skel;
	__u32 old = skel->bss->gen & 1;
	struct bpf_map *counts = old ? skel->maps.counts1 : skel->maps.counts0;
	struct bpf_map *stacks = old ? skel->maps.stacks1 : skel->maps.stacks0;
	struct stack_builder b;
	struct stack_reader *sr;

	struct oncpu_drain d = { .s = s, .b = &b, .period = 1000000000ULL / oc->freq };
	int err;

	/* Flip first: new samples go to the other set while we read this one. */
	set_generation(&skel->bss->gen, old ^ 1);
	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	sr = stack_reader_new(stacks, s->o.max_depth);
	d.sr = sr;
	err = map_drain(counts, sizeof(struct oncpu_key), sizeof(uint64_t), add_pid, &d, false);
	if (!err)
		err = map_drain(counts, sizeof(struct oncpu_key), sizeof(uint64_t), add_entry, &d, true);
	stack_reader_clear(sr);
	stack_reader_free(sr);
	/* --unwind dwarf: the records so far, counted in user space. */
	uw_poll(&oc->base.uw, 0);
	uw_drain(&oc->base.uw, &d.sr, s->o.max_depth, add_entry, &d);
	stack_builder_free(&b);
	cmd_report(&oc->base, p);
	return err;
}

/* The periodic scan: new processes, and (Go) the label sets of the samples
 * so far, read while the target lives. */
static void oncpu_scan(struct session *s)
{
	struct oncpu *oc = s->priv;

	cmd_scan(s);
	go_targets_prefetch_map(&oc->go, oc->skel->maps.counts0, sizeof(struct oncpu_key),
				offsetof(struct oncpu_key, labels));
	go_targets_prefetch_map(&oc->go, oc->skel->maps.counts1, sizeof(struct oncpu_key),
				offsetof(struct oncpu_key, labels));
}

static void oncpu_stop(struct session *s)
{
	struct oncpu *oc = s->priv;

	cmd_stop(&oc->base);
	oncpu_bpf__destroy(oc->skel);
	go_targets_free(&oc->go);
}

const struct command oncpu_command = {
	.name = "oncpu",
	.summary = "Sample on-CPU stacks: where CPU time goes (like Go's CPU profile).",
	.options_help =
		"  -F, --frequency HZ   samples per second per CPU (default 99)\n"
		"      --include-idle   count the idle task too (system-wide)\n",
	.long_opts = oncpu_opts,
	.short_opts = "F:",
	.parse_opt = oncpu_parse,
	.start = oncpu_start,
	.scan = oncpu_scan,
	.collect = oncpu_collect,
	.stop = oncpu_stop,
	.describe = oncpu_describe,
	.add_pid = cmd_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct oncpu),
};
