/* trace: the configuration a one-liner compiles to (user/trace_parse.c) and
 * the generic BPF program (trace.bpf.c) runs. No code is generated: each
 * probe block is a predicate and statements over a fixed set of value
 * sources, interpreted from array maps filled before the probes attach. */
#ifndef BPFPROF_TRACE_H
#define BPFPROF_TRACE_H

#include "common.h"

#define TR_MAX_BLOCKS 32
#define TR_MAX_STMTS 64       /* in all blocks */
#define TR_MAX_BLOCK_STMTS 8  /* in one block */
#define TR_MAX_CONDS 8        /* comparisons in one predicate */
#define TR_MAX_KEYSPECS 96
#define TR_MAX_PARTS 4        /* key parts of one map */
#define TR_KEY_BYTES 48       /* 4 parts of 8 bytes, comm takes 16, + bucket */

/* Where a value comes from. */
enum tr_src {
	SRC_NONE = 0,
	SRC_CONST,      /* imm */
	SRC_ARG,        /* arg0..arg5 (uprobe/usdt); arg = index */
	SRC_RETVAL,     /* uretprobe */
	SRC_FIELD,      /* tracepoint field: off, size, is_signed */
	SRC_NSECS,
	SRC_PID,
	SRC_TID,
	SRC_CPU,
	SRC_UID,
	SRC_CGROUP,
	SRC_COMM,       /* 16 bytes (keys, and == "str" in predicates) */
	SRC_USTACK,     /* stack id (keys only) */
	SRC_KSTACK,
	SRC_PROBE,      /* attachment index (keys) */
	SRC_IP,         /* the probed instruction pointer (func key) */
	SRC_MAP,        /* the value stored in a map entry: keyspec */
	SRC_NSECS_SINCE,/* nsecs - map value: keyspec */
};

struct tr_src_spec {
	__u8 kind;
	__u8 size;      /* field size in bytes */
	__u8 is_signed;
	__u8 arg;
	__u16 off;      /* field offset */
	__u16 keyspec;  /* SRC_MAP, SRC_NSECS_SINCE */
	__s64 imm;
};

/* The key of one map reference: the map and its parts, in order. */
struct tr_keyspec {
	__u16 map_id;
	__u8 nparts;
	__u8 pad[5];
	struct tr_src_spec parts[TR_MAX_PARTS];
};

enum tr_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_TRUE /* lhs != 0 */ };

struct tr_cond {
	struct tr_src_spec lhs;
	__u8 op;
	__u8 or_next;   /* this condition ends an AND group: OR with the next */
	__u8 pad[6];
	__s64 rhs;
	char str[TASK_COMM_LEN]; /* comm == "str" */
};

enum tr_action { ACT_AGG, ACT_ASSIGN, ACT_DELETE, ACT_EXIT };
enum tr_agg { AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_STATS, AGG_HIST, AGG_LHIST };

struct tr_stmt {
	__u8 action;
	__u8 agg;
	__u16 keyspec;
	__u32 pad;
	struct tr_src_spec val;
	__s64 lo, hi, step; /* lhist */
};

/* tr_block flags: where the block's keys hold ustack, walked once per
 * event at the top (a walk deep in the interpreter's calls overflows the
 * 512-byte BPF stack): before the predicate when a condition needs it. */
#define TR_BLOCK_USTACK 1
#define TR_BLOCK_USTACK_COND 2

struct tr_block {
	__u32 first_stmt;
	__u32 nstmts;
	__u32 nconds;
	__u32 flags;    /* TR_BLOCK_* (set by the loader) */
	struct tr_cond conds[TR_MAX_CONDS];
};

/* A map entry's key: which map, then the key parts (and, for hist and
 * lhist, the bucket as the last 8 bytes). */
struct tr_key {
	__u16 map_id;
	__u16 pad[3];
	__u8 data[TR_KEY_BYTES];
};

struct tr_val {
	__s64 count;
	__s64 sum;      /* sum, avg, stats; the assigned value */
	__s64 min;
	__s64 max;
};

/* Probe kinds, for how arguments are read. */
enum tr_kind { TK_PERF, TK_TRACEPOINT, TK_UPROBE, TK_URETPROBE, TK_USDT };

#endif
