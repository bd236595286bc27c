/* The target filter every program shares (bpf/filter.bpf.h). */
#ifndef BPFPROF_FILTER_H
#define BPFPROF_FILTER_H

#include <bpf/libbpf.h>
#include "core/session.h"
#include "common.h"

typedef VEC(struct bpf_link *) link_vec;

/* Sets the rodata filter flags and sizes the target maps (before load). */
int filter_configure(struct session *s, volatile struct prog_cfg *cfg, struct bpf_map *pids,
		     struct bpf_map *tids);
/* Fills the target maps (after load). */
int filter_fill(struct session *s, struct bpf_map *pids, struct bpf_map *tids,
		struct bpf_map *cgroup);
/* --follow: one more target process (after load). */
int filter_add_pid(struct session *s, struct bpf_map *pids, pid_t pid);
/* The programs that follow targets' forks (-- CMD's children join the
 * target map), execs (--follow; every target's exec count) and exits:
 * which load (before load), and attaching them where the skeleton's attach
 * does not (after load). */
void filter_follow_prepare(struct bpf_object *obj, struct session *s);
int filter_follow_attach(struct bpf_object *obj, link_vec *links);

#endif
