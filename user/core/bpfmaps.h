/* BPF-side plumbing every command shares: draining aggregation maps,
 * map-set generations, links and attach helpers, the loss counters; and
 * (included from here) the target filter and the stack readers. */
#ifndef BPFPROF_BPFMAPS_H
#define BPFPROF_BPFMAPS_H

#include <bpf/libbpf.h>
#include "core/session.h"
#include "symbols/stacks.h"
#include "common.h"
#include "core/filter.h"
#include "core/stackread.h"


typedef VEC(int) fd_vec;

void links_destroy(struct bpf_link **links, size_t n);

/* Opens *attr (a perf event) on every online CPU and attaches prog to each,
 * with cookie as its attach cookie; a one-line error names `what`. */
struct perf_event_attr;
int perf_attach_all_cpus(struct bpf_program *prog, struct perf_event_attr *attr, uint64_t cookie,
			 const char *what, link_vec *links, fd_vec *fds);
/* The software cpu-clock event, one sample every period_ns, on every CPU. */
int perf_attach_cpu_clock(struct bpf_program *prog, uint64_t period_ns, link_vec *links, fd_vec *fds);

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
