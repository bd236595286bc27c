/* The Go programs among a run's targets (-p pids, -- CMD): their binaries'
 * runtime facts (symbols/gobin.h), the BPF map that marks them (go_procs:
 * where runtime.g keeps its pprof labels), and their goroutines' pprof
 * label sets read back as sample labels. offcpu and oncpu share it. */
#ifndef BPFPROF_GOTARGETS_H
#define BPFPROF_GOTARGETS_H

#include <bpf/libbpf.h>
#include <limits.h>
#include "core/session.h"
#include "symbols/gobin.h"

struct go_target_info {
	pid_t pid;
	char exe[PATH_MAX];
	struct go_binary bin;
};

struct go_label_set {
	uint32_t first, n;         /* into keys/values */
};

struct go_targets {
	VEC(struct go_target_info) v;
	/* Label sets read so far, by (pid, pointer): a set is immutable once a
	 * goroutine carries it, and must be read while the process lives (a
	 * -- CMD may be gone when the profile is written): read at each scan
	 * (go_targets_prefetch) and kept for the run. */
	struct hmap sets;
	VEC(struct go_label_set) set_v;
	VEC(char *) keys, values;
};

/* Finds the Go programs among the targets (needs: runtime.gopark when
 * `need` is non-NULL, that function too). */
void go_targets_find(struct session *s, struct go_targets *t, const char *need);
/* Marks them in go_procs (tgid -> offset of g.labels; 0 when unknown). */
void go_targets_mark(struct go_targets *t, struct bpf_map *go_procs);
struct go_target_info *go_targets_get(struct go_targets *t, pid_t pid);
/* The pprof labels of set `labels` of pid, interned in p, appended to
 * out (at most max); the number added. */
uint32_t go_targets_labels(struct go_targets *t, struct profile *p, pid_t pid, uint64_t labels,
			   struct pf_label *out, uint32_t max);
/* Reads set `labels` of pid now if not read yet. */
void go_targets_prefetch(struct go_targets *t, pid_t pid, uint64_t labels);
/* Reads the sets named by the keys of map m (a counts map), whose labels
 * field is at byte `off` of each key of key_size bytes. */
void go_targets_prefetch_map(struct go_targets *t, struct bpf_map *m, size_t key_size, size_t off);
void go_targets_free(struct go_targets *t);

#endif
