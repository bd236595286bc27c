/* The part every profiling command shares, on the user side (cmdbase.h). */
#include "core/cmdbase.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cmd_opened(struct cmd_base *c, const char *name, struct bpf_object *obj,
	       volatile struct prog_cfg *cfg)
{
	int e = errno;

	c->name = name;
	if (!obj) {
		err_msg("cannot open the %s BPF program: %s", name, strerror(e));
		return -e;
	}
	c->obj = obj;
	c->cfg = cfg;
	return 0;
}

struct bpf_map *cmd_map(struct cmd_base *c, const char *name)
{
	return c->obj ? bpf_object__find_map_by_name(c->obj, name) : NULL;
}

/* Sets entries (and for stack maps the value size) of the named maps the
 * object has. */
static int size_common_maps(struct session *s, struct cmd_base *c)
{
	static const char *const stacks[] = { "stacks", "stacks0", "stacks1" };
	static const char *const counts[] = { "counts0", "counts1" };
	struct bpf_map *m;
	int err = 0;

	for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]) && !err; i++)
		if ((m = cmd_map(c, stacks[i])))
			err = bpf_map__set_max_entries(m, s->o.max_stacks);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]) && !err; i++)
		if ((m = cmd_map(c, counts[i])))
			err = bpf_map__set_max_entries(m, s->o.max_stacks);
	return err;
}

int cmd_prepare(struct session *s, struct cmd_base *c, const char *records, unsigned ring_records)
{
	int err;

	c->cfg->user_stacks = !s->o.kernel_only;
	c->cfg->kernel_stacks = !s->o.user_only;
	c->cfg->kt_enabled = s->o.unwind == UNWIND_TABLES && !s->o.kernel_only;
	filter_follow_prepare(c->obj, s);
	err = filter_configure(s, c->cfg, cmd_map(c, "target_pids"), cmd_map(c, "target_tids")) ?:
	      size_common_maps(s, c) ?:
	      uw_configure(s, c->cfg, cmd_map(c, "uw_scratch"), cmd_map(c, "uw_events"),
			   records ? cmd_map(c, records) : NULL, ring_records);
	if (err)
		err_msg("cannot size the %s maps: %s", c->name, strerror(-err));
	return err;
}

/* --unwind tables: -p targets' tables loaded before the probes attach. */
static int tables_start(struct session *s, struct cmd_base *c)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	int err = ktables_init(&c->kt, c->obj, s->sym, s->o.table_memory, s->o.verbose);
	char path[PATH_MAX];

	if (err < 0) {
		err_msg("cannot find the unwind table maps: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < s->o.pids.n && !s->o.cmd; i++) /* CMD: after its exec */
		ktables_note(&c->kt, s->o.pids.v[i], 0);
	/* -- CMD: its program's tables and its libraries' before it runs, so
	 * its first milliseconds are walked with them (it maps its libraries
	 * within a millisecond of its exec, and a build takes 1-20 ms; under
	 * mallocstacks's probes on libc, each of our own allocations while
	 * building costs a uprobe hit). Else the C library's and the dynamic
	 * loader's, which nearly every process maps. */
	if (s->o.cmd && s->child > 0 && session_target_exe(s, s->child, path, sizeof(path)))
		ktables_prebuild(&c->kt, path, true);
	else if (!s->o.pids.n && ktables_find_library("libc.so.6", NULL, "", path, sizeof(path)))
		ktables_prebuild(&c->kt, path, true); /* with its dependency: the loader */
	if (s->o.verbose)
		fprintf(stderr, "%s: unwind tables: %llu rows loaded in %.1f ms\n", prog_name,
			(unsigned long long)c->kt.rows, (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	return 0;
}

int cmd_loaded(struct session *s, struct cmd_base *c, int load_err, const struct cmd_records *rec)
{
	int err;

	if (load_err < 0) {
		err_msg("cannot load the %s BPF program: %s (run with -v for the verifier log)", c->name,
			strerror(-load_err));
		return load_err;
	}
	if ((err = filter_fill(s, cmd_map(c, "target_pids"), cmd_map(c, "target_tids"),
			       cmd_map(c, "target_cgroup"))) < 0)
		return err;
	if ((err = uw_open(&c->uw, s, cmd_map(c, "uw_events"), rec->handle, c, rec->key_size,
			   rec->val_size, rec->merge, rec->layout)) < 0)
		return err;
	/* Processes found later (system-wide, children) get their tables
	 * when first seen (cmd_note). */
	return c->cfg->kt_enabled ? tables_start(s, c) : 0;
}

void cmd_report(struct cmd_base *c, struct profile *p)
{
	struct bpf_map *stats = cmd_map(c, "stats");

	if (stats)
		stats_report(&c->stats, stats, p);
	uw_report(&c->uw, p);
	ktables_report(&c->kt);
}

void cmd_stop(struct cmd_base *c)
{
	links_destroy(c->links.v, c->links.n);
	vec_free(&c->links);
	for (size_t i = 0; i < c->fds.n; i++)
		close(c->fds.v[i]);
	vec_free(&c->fds);
	uw_close(&c->uw);
	ktables_free(&c->kt);
}

int cmd_add_pid(struct session *s, pid_t pid)
{
	struct cmd_base *c = s->priv;

	return filter_add_pid(s, cmd_map(c, "target_pids"), pid);
}

void cmd_note(struct session *s, pid_t pid, uint32_t exec)
{
	session_note_pid(s, pid, exec);
	ktables_note(&((struct cmd_base *)s->priv)->kt, pid, exec);
}

/* ktables_poll's refresh: a process the walker queued. The mappings of
 * -- CMD's processes (and --follow's) come from their mapping events: a
 * snapshot of a process whose exec event is not in yet would be taken as
 * its new image (and the events then make another); the others are read
 * again from /proc (a library mapped since). */
static bool tables_refresh(void *ctx, pid_t pid, uint32_t *exec)
{
	struct session *s = ctx;

	*exec = session_target_exec(s, pid);
	if (!s->o.cmd && !s->o.follow)
		session_snapshot(s, pid);
	return sym_has_image(s->sym, pid, *exec);
}

/* --unwind tables, each turn: true when it should come again at once. */
static bool tables_poll(struct session *s, struct cmd_base *c)
{
	uint32_t before = c->kt.loads;
	bool soon = false;

	if (!c->kt.files)
		return false;
	if (s->o.cmd && s->child > 0 && s->started) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		/* -- CMD released but not exec'd yet, and its first 50 ms after:
		 * look again in 2 ms, not 100 (its mapping events come a little
		 * after its exec, its libraries one by one after that). */
		if (!session_target_exec(s, s->child)) {
			usleep(2000);
			return true;
		}
		if (!c->cmd_exec_ns)
			c->cmd_exec_ns = now;
		soon = now - c->cmd_exec_ns < 50000000ULL;
	}
	ktables_poll(&c->kt, tables_refresh, s);
	/* Targets that exec'd or map more files. */
	for (size_t i = 0; i < s->o.pids.n; i++) {
		pid_t pid = s->o.pids.v[i];
		uint32_t exec = session_target_exec(s, pid);

		if (sym_has_image(s->sym, pid, exec))
			ktables_note(&c->kt, pid, exec);
	}
	if (soon)
		usleep(2000);
	return soon || c->kt.loads != before;
}

bool cmd_poll(struct session *s, int timeout_ms)
{
	struct cmd_base *c = s->priv;

	/* Mapping records first: a record of a process that just exec'd is
	 * unwound with the new program's mappings. */
	session_sync_maps(s);
	if (tables_poll(s, c)) { /* a -- CMD exec'd or maps more: look again at once */
		uw_poll(&c->uw, 0);
		return true;
	}
	return uw_poll(&c->uw, timeout_ms);
}

void cmd_note_map_pids(struct session *s, struct bpf_map *m)
{
	uint8_t key[256], next[256];
	size_t ksize = bpf_map__key_size(m);
	void *prev = NULL;
	struct key_head h;

	if (ksize < sizeof(h) || ksize > sizeof(key))
		return;
	while (bpf_map_get_next_key(bpf_map__fd(m), prev, next) == 0) {
		memcpy(&h, next, sizeof(h));
		cmd_note(s, (pid_t)h.pid, h.exec);
		memcpy(key, next, ksize);
		prev = key;
	}
}

void cmd_scan(struct session *s)
{
	struct cmd_base *c = s->priv;
	struct bpf_map *m;

	if ((m = cmd_map(c, "counts0")))
		cmd_note_map_pids(s, m);
	if ((m = cmd_map(c, "counts1")))
		cmd_note_map_pids(s, m);
}
