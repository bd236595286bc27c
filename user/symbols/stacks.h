/* The shared stack path: raw addresses from the BPF side become profile
 * locations, symbolized once per (process, address). Every command uses it. */
#ifndef BPFPROF_STACKS_H
#define BPFPROF_STACKS_H

#include "model/profile.h"
#include "symbols/symbolize.h"

struct stack_builder {
	struct profile *p;
	struct symbolizer *sym;
	struct hmap user_locs;   /* (exec << 32 | pid, addr) -> location + 1 */
	struct hmap kern_locs;   /* addr -> location + 1 */
	struct hmap pseudo_locs; /* interned name -> location + 1 */
	uint32_t kernel_mapping;
	int max_depth;           /* 0 = no limit */
	VEC(uint32_t) locs;      /* the stack being built, leaf first */
};

void stack_builder_init(struct stack_builder *b, struct profile *p, struct symbolizer *sym, int max_depth);
void stack_builder_free(struct stack_builder *b);
void stack_begin(struct stack_builder *b);
/* ips are leaf first (as bpf_get_stackid stores them); zeros end the stack. */
void stack_add_kernel(struct stack_builder *b, const uint64_t *ips, size_t n);
/* pid's user frames, in its image `exec` (symbolize.h). */
void stack_add_user(struct stack_builder *b, pid_t pid, uint32_t exec, const uint64_t *ips, size_t n);
/* For a probe at a function's first instruction: the caller's return
 * address (read from [sp]) goes after the leaf, where frame-pointer walking
 * cannot see it yet. */
void stack_add_user_entry(struct stack_builder *b, pid_t pid, uint32_t exec, const uint64_t *ips,
			  size_t n, uint64_t entry_ret);
/* A frame with a fixed name (e.g. "[no user stack]"), placed next. */
void stack_add_pseudo(struct stack_builder *b, const char *name);
/* Adds the sample: values are one per profile type; labels pid, tid, comm. */
void stack_commit(struct stack_builder *b, const int64_t *values, uint32_t pid,
		  uint32_t tid, const char *comm, const struct pf_label *extra, uint32_t nextra);

#endif
