/* The part every profiling command shares, on the user side: what its state
 * starts with (s->priv begins with a struct cmd_base), the steps of start()
 * that are the same for every program (open, prepare, loaded), and default
 * hooks. A command file then holds only what is its own: its options, its
 * maps and probes, and how its entries become samples. */
#ifndef BPFPROF_CMDBASE_H
#define BPFPROF_CMDBASE_H

#include "core/bpfmaps.h"
#include "core/unwinder.h"
#include "core/ktables.h"

struct cmd_base {
	const char *name;               /* "oncpu", for messages */
	struct bpf_object *obj;
	volatile struct prog_cfg *cfg;  /* the programs' shared rodata (common.h) */
	link_vec links;                 /* detached by cmd_stop */
	fd_vec fds;                     /* perf events, uprobe_multi links: closed by cmd_stop */
	struct stat_snapshot stats;
	struct uw_ctx uw;               /* --unwind dwarf|auto records */
	struct ktables kt;              /* --unwind tables: the files' tables in the kernel */
	uint64_t cmd_exec_ns;           /* when -- CMD was first seen exec'd */
};

/* Opens skeleton NAME_bpf (with --btf) into *skelp and tells the base its
 * object and rodata; 0, or -errno after a one-line error. */
#define CMD_OPEN(s, base, NAME, skelp)                                                          \
	({                                                                                      \
		LIBBPF_OPTS(bpf_object_open_opts, oo_, .btf_custom_path = session_btf_path(s)); \
		*(skelp) = NAME##_bpf__open_opts(&oo_);                                         \
		cmd_opened((base), #NAME, *(skelp) ? (*(skelp))->obj : NULL,                    \
			   *(skelp) ? &(*(skelp))->rodata->cfg : NULL);                          \
	})
int cmd_opened(struct cmd_base *c, const char *name, struct bpf_object *obj,
	       volatile struct prog_cfg *cfg);

/* Before load, what every program has, found by name in the object: the
 * shared rodata (target filter, -U/-K, unwinding), the target maps, the
 * fork/exec/exit programs, stack stores (`stacks`, `stacks0/1`:
 * --max-stacks), aggregation maps (`counts0/1`: --max-stacks), and the
 * record maps (`uw_scratch`, `uw_events`, and `records` if not NULL: room
 * for ring_records records). 0, or -errno after a one-line error. */
int cmd_prepare(struct session *s, struct cmd_base *c, const char *records, unsigned ring_records);

/* How a command's --unwind records are kept (unwinder.h). */
struct cmd_records {
	uw_handler handle;              /* NULL: payload is key then value */
	size_t key_size, val_size;
	void (*merge)(void *dst, const void *src);
	struct uw_key_layout layout;
};
/* After NAME_bpf__load() returned load_err: a one-line error if it failed;
 * else the target maps filled, the records read from here on, and the
 * targets' unwind tables loaded (--unwind tables). */
int cmd_loaded(struct session *s, struct cmd_base *c, int load_err, const struct cmd_records *rec);

/* A map of the object by name (NULL if it has none). */
struct bpf_map *cmd_map(struct cmd_base *c, const char *name);
/* The interval's loss counters: the programs' stats and the records'. */
void cmd_report(struct cmd_base *c, struct profile *p);
/* Detaches and closes what the base holds (not the skeleton). */
void cmd_stop(struct cmd_base *c);

/* Notes (session_note_pid) the process and image each key of m begins
 * with (every aggregation key starts with a struct key_head). */
void cmd_note_map_pids(struct session *s, struct bpf_map *m);

/* Notes a process seen in an event: its maps snapshotted, its unwind tables
 * loaded (once per image; again when it maps more files). */
void cmd_note(struct session *s, pid_t pid, uint32_t exec);

/* Default hooks: --follow's new target; reading records (and a -- CMD's
 * tables as it execs); the periodic scan (the pids in counts0/1: a
 * system-wide profile snapshots new processes while they live). */
int cmd_add_pid(struct session *s, pid_t pid);
bool cmd_poll(struct session *s, int timeout_ms);
void cmd_scan(struct session *s);

#endif
