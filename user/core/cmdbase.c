/* The part every profiling command shares, on the user side (cmdbase.h). */
#include "core/cmdbase.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
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
	static const char *const walked[] = { "kt_stacks", "kt_stacks0", "kt_stacks1" };
	struct bpf_map *m;
	int err = 0;

	for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]) && !err; i++)
		if ((m = cmd_map(c, stacks[i])))
			err = stackmap_size(s, m);
	for (size_t i = 0; i < sizeof(walked) / sizeof(walked[0]) && !err && c->cfg->kt_enabled; i++)
		if ((m = cmd_map(c, walked[i])))
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
	return c->cfg->kt_enabled ? ktables_start(&c->kt, s, c->obj) : 0;
}

void cmd_report(struct cmd_base *c, struct profile *p)
{
	struct bpf_map *stats = cmd_map(c, "stats");

	if (stats)
		stats_report(&c->stats, stats, p);
	uw_report(&c->uw, p);
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
	ktables_note(&((struct cmd_base *)s->priv)->kt, s, pid, exec);
}

bool cmd_poll(struct session *s, int timeout_ms)
{
	struct cmd_base *c = s->priv;

	/* Mapping records first: a record of a process that just exec'd is
	 * unwound with the new program's mappings. */
	session_sync_maps(s);
	if (ktables_poll(&c->kt, s)) { /* a -- CMD exec'd or maps more: look again at once */
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
