/* Stacks by id, read from the programs' stack stores (bpf/stacks.bpf.h) or
 * from user-space unwinding. */
#ifndef BPFPROF_STACKREAD_H
#define BPFPROF_STACKREAD_H

#include <bpf/libbpf.h>
#include "core/session.h"
#include "symbols/stacks.h"

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
void stack_reader_set_alt(struct stack_reader *r, struct bpf_map *alt, uint32_t base); /* two at most */
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

#endif
