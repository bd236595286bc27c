/* trace: what the precompiled entry programs (trace.bpf.c) and the
 * programs generated for each probe block (user/trace/codegen.c) share.
 * An entry program runs first at every event: it keeps -p's filter, takes
 * the stacks the block needs (ustack walked with the unwind tables, which
 * generated code cannot do) and USDT arguments, writes them to this CPU's
 * struct tr_event, then tail-calls the block's program. */
#ifndef BPFPROF_TRACE_H
#define BPFPROF_TRACE_H

#include "common.h"

#define TR_MAX_ARGS 12          /* arg0..arg11 (USDT's limit) */
#define TR_SCRATCH_SIZE 16384   /* per CPU: strings, keys, records */

/* tr_attach flags: what the entry takes for the block. */
#define TR_NEED_USTACK 1
#define TR_NEED_KSTACK 2

struct tr_event {
	__u32 attach;           /* the attachment (probe builtin) */
	__s32 ustack;           /* stack ids, or STACK_LOST */
	__s32 kstack;
	__u32 nargs;
	__s64 args[TR_MAX_ARGS];/* USDT arguments */
};

/* Records on the ring buffer: a header, then the arguments as the format
 * (struct tp_fmt) lays them out. */
enum tr_action {
	TR_ACT_PRINTF = 1,
	TR_ACT_PRINT_MAP,       /* print(@m[, top[, div]]) */
	TR_ACT_CLEAR,
	TR_ACT_ZERO,
	TR_ACT_PRINT_VAL,       /* print(value) */
	TR_ACT_EXIT,            /* exit([code]): the code follows */
	TR_ACT_TIME,            /* time([fmt]) */
	TR_ACT_SYSTEM,          /* --unsafe: system(fmt, ...) */
	TR_ACT_CAT,             /* cat(fmt, ...) */
	TR_ACT_JOIN,            /* join(argv[, sep]) */
	TR_ACT_ERRORF,
};

struct tr_rec {
	__u32 fmt;              /* index of the format (struct tp_fmt) */
	__u32 cpu;
};

/* Probe kinds: which entry program, hence which program type. */
enum tr_kind { TK_PERF, TK_TRACEPOINT, TK_UPROBE, TK_URETPROBE, TK_USDT, TK_USER, TK_KPROBE, TK_KRETPROBE,
	       TK_RAWTP, TK_NKINDS };

#endif
