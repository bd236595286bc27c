/* --unwind dwarf|auto, user side: records from the BPF side (registers plus
 * a copy of the top of the user stack, bpf/unwind.h) are read from the ring
 * buffer, unwound (symbols/unwind_dwarf.c), interned, and aggregated in user
 * space with the same keys and values the kernel maps hold in frame-pointer
 * mode, so each command's code that turns entries into samples runs
 * unchanged. */
#ifndef BPFPROF_UNWINDER_H
#define BPFPROF_UNWINDER_H

#include <bpf/libbpf.h>
#include <linux/types.h>
#include "core/session.h"
#include "unwind.h"
#include "symbols/unwind_dwarf.h"

/* Interned stacks: id -> zero-terminated addresses (leaf first). */
struct uw_store {
	struct hmap index;        /* content hash -> id + 1 */
	VEC(uint64_t *) stacks;
};
int32_t uw_store_intern(struct uw_store *st, const uint64_t *ips, size_t n);
const uint64_t *uw_store_get(const struct uw_store *st, int32_t id);
void uw_store_free(struct uw_store *st);

/* Fixed-size keys to values merged by a command-supplied function. */
struct uw_table {
	size_t key_size, val_size;
	void (*merge)(void *dst, const void *src);
	struct hmap index;        /* key hash -> entry index + 1 */
	VEC(char) entries;        /* key then value, entry after entry */
	size_t n;
};
void uw_table_add(struct uw_table *t, const void *key, const void *val);
void uw_table_each(struct uw_table *t, void (*fn)(const void *key, const void *val, void *ctx),
		   void *ctx);
void uw_table_clear(struct uw_table *t);

struct uw_ctx;
/* A command's record handler: unwind (uw_user_stack), then add to table.
 * NULL selects uw_keyed_record. */
typedef void (*uw_handler)(struct uw_ctx *u, const struct uw_record *r, size_t len);

/* Where a payload's key keeps its stack ids (offsets in the key), and
 * where the value starts in the payload (after the key's padding). */
struct uw_key_layout {
	size_t ustack_off, kstack_off, val_off;
};

struct uw_ctx {
	struct session *s;
	struct ring_buffer *rb;
	struct uw_store store;    /* user and kernel stacks from records */
	struct uw_table table;
	uw_handler handle;
	void *cmd;                /* the command's state, for the handler */
	struct uw_key_layout layout;
	uint64_t records, incomplete, reported_incomplete;
	uint64_t unwind_ns, frames;  /* for -v: the cost per stack */
	int max_depth;
	bool warned_full;
};

/* Whether this run copies user stacks (--unwind dwarf or auto). */
bool uw_enabled(struct session *s);
/* Before load: the rodata knobs and the sizes of the scratch map, the ring
 * buffer and (offcpu) a map that keeps records until a thread wakes. */
int uw_configure(struct session *s, volatile struct prog_cfg *cfg, struct bpf_map *scratch,
		 struct bpf_map *events, struct bpf_map *records, unsigned ring_records);
/* Ring sizes, in records: enough for a quarter second of samples, or a
 * burst of events. */
#define UW_RING_EVENTS 256
/* After load: start reading records. */
int uw_open(struct uw_ctx *u, struct session *s, struct bpf_map *events, uw_handler handle,
	    void *cmd, size_t key_size, size_t val_size, void (*merge)(void *, const void *),
	    struct uw_key_layout layout);
/* The usual record: a payload of key then value; the key's stack ids are
 * set from the unwound user stack and the record's kernel stack, and the
 * value is merged into the table. */
void uw_keyed_record(struct uw_ctx *u, const struct uw_record *r, size_t len);
/* Reads what the ring buffer holds, waiting up to timeout_ms; false
 * (without waiting) when records are off. */
bool uw_poll(struct uw_ctx *u, int timeout_ms);
void uw_close(struct uw_ctx *u);
/* The record's user stack, unwound and interned (STACK_NONE without one);
 * leaf, when not 0, goes first (e.g. the allocator, for a record taken at
 * its return). */
int32_t uw_user_stack(struct uw_ctx *u, const struct uw_record *r, size_t len, uint64_t leaf);
/* The record's kernel stack, interned (STACK_NONE without one). */
int32_t uw_kernel_stack(struct uw_ctx *u, const struct uw_record *r);
/* Calls fn on every aggregated entry with *sr reading the unwound stacks,
 * then empties the table and the stacks (after uw_poll). */
struct stack_reader;
void uw_drain(struct uw_ctx *u, struct stack_reader **sr, int max_depth,
	      void (*fn)(const void *key, const void *val, void *ctx), void *ctx);
/* A thread that is not running, unwound from the user registers it
 * entered the kernel with (regs: UW_NREGS, DWARF numbering) and the top of
 * its stack read from its memory now (process_vm_readv, page by page, up
 * to stack_bytes; the target is not stopped): frames leaf first into ips
 * (at most max), resolved in pid's image exec; *complete as uw_unwind,
 * *unreadable when no stack byte could be read (the thread exited). */
size_t uw_unwind_live(struct symbolizer *sym, pid_t pid, uint32_t exec, const uint64_t *regs,
		      size_t stack_bytes, uint64_t *ips, size_t max, bool *complete, bool *unreadable);
/* This interval's unwinding counters, into the profile's loss counters. */
void uw_report(struct uw_ctx *u, struct profile *p);

#endif
