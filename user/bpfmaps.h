/* BPF-side plumbing every command shares: target filter maps, stack maps,
 * draining aggregation maps, map-set generations, and the loss counters. */
#ifndef BPFPROF_BPFMAPS_H
#define BPFPROF_BPFMAPS_H

#include <bpf/libbpf.h>
#include "session.h"
#include "stacks.h"
#include "common.h"

/* Sets the rodata filter flags and sizes the target maps (before load). */
int filter_configure(struct session *s, volatile struct filter_cfg *cfg, struct bpf_map *pids,
		     struct bpf_map *tids);
/* Fills the target maps (after load). */
int filter_fill(struct session *s, struct bpf_map *pids, struct bpf_map *tids,
		struct bpf_map *cgroup);
/* --follow: one more target process (after load). */
int filter_add_pid(struct session *s, struct bpf_map *pids, pid_t pid);
/* Stack map: --max-depth frames per stack, --max-stacks entries (before load). */
int stackmap_size(struct session *s, struct bpf_map *m);

enum stack_kind { STACK_USER, STACK_KERNEL };

/* Reads stacks by id from one stack map, each id once. */
struct stack_reader;
struct stack_reader *stack_reader_new(struct bpf_map *m, int max_depth);
/* Or from stacks unwound in user space (--unwind dwarf). */
struct uw_store;
struct stack_reader *stack_reader_new_store(const struct uw_store *st, int max_depth);
/* Appends stack `id` (or a marker for STACK_LOST) to the builder; user
 * stacks are pid's in its image `exec`. */
void stack_reader_add(struct stack_reader *r, struct stack_builder *b, int32_t id,
		      pid_t pid, uint32_t exec, enum stack_kind kind);
void stack_reader_add_entry(struct stack_reader *r, struct stack_builder *b, int32_t id,
			    pid_t pid, uint32_t exec, enum stack_kind kind, uint64_t entry_ret);
/* The raw addresses of stack id (leaf first, zero-terminated), or NULL. */
const uint64_t *stack_reader_get(struct stack_reader *r, int32_t id);
/* Ids from base on are read from another map (same value layout: u64 ips,
 * zero-terminated), e.g. stacks a BPF program walked itself. */
void stack_reader_set_alt(struct stack_reader *r, struct bpf_map *alt, uint32_t base);
/* Adds the profile counter of entries whose stack was recycled first. */
struct profile;
void stack_reader_report(const struct stack_reader *r, struct profile *p);
/* Deletes every entry of the stack map, for reuse. */
void stack_reader_clear(struct stack_reader *r);
void stack_reader_free(struct stack_reader *r);
/* Deletes every stack map entry whose id is not a key of keep (NULL: all,
 * for a map no program writes to any more); with keep, only once the map is
 * more than half full. */
void stackmap_recycle(struct bpf_map *m, const struct hmap *keep);

typedef VEC(struct bpf_link *) link_vec;
/* The programs that follow targets' forks (-- CMD's children join the
 * target map), execs (--follow; every target's exec count) and exits:
 * which load (before load), and attaching them where the skeleton's attach
 * does not (after load). */
void filter_follow_prepare(struct bpf_object *obj, struct session *s);
int filter_follow_attach(struct bpf_object *obj, link_vec *links);
typedef VEC(int) fd_vec;

void links_destroy(struct bpf_link **links, size_t n);

/* Opens *attr (a perf event) on every online CPU and attaches prog to each,
 * with cookie as its attach cookie; a one-line error names `what`. */
struct perf_event_attr;
int perf_attach_all_cpus(struct bpf_program *prog, struct perf_event_attr *attr, uint64_t cookie,
			 const char *what, link_vec *links, fd_vec *fds);

/* uprobe_multi links (kernel 6.6+): one link for many offsets of one file,
 * detached with one RCU grace period instead of one per probe (~100 ms
 * each here). Programs must be loaded for it (uprobe_multi_prepare). */
#define BPF_TRACE_UPROBE_MULTI_ 48   /* enum bpf_attach_type, kernel 6.6 */
void uprobe_multi_prepare(struct bpf_program *prog);
/* Returns a link fd, or -errno. cookies may be NULL. */
int uprobe_multi_attach(struct bpf_program *prog, const char *path, pid_t pid,
			const uint64_t *offsets, const uint64_t *cookies, size_t n, bool ret);

/* Calls fn on every entry; with del, deletes the entries it visited. */
int map_drain(struct bpf_map *m, size_t key_size, size_t value_size,
	      void (*fn)(const void *key, const void *value, void *ctx), void *ctx, bool del);

/* Switches the programs to the other map set and waits until no program
 * can still be writing to the old one. */
void set_generation(volatile uint32_t *gen, uint32_t value);

/* Loss counters: adds this interval's increase of each stats slot. */
struct stat_snapshot {
	uint64_t last[STAT_NSLOTS];
};
void stats_report(struct stat_snapshot *st, struct bpf_map *stats, struct profile *p);

#endif
