/* trace: bpftrace-style one-liners run by a precompiled program
 * (bpf/trace.bpf.c). trace_parse.c turns the text into probes, tables for
 * the BPF side and user-space actions; trace.c attaches, runs and prints. */
#ifndef BPFPROF_TRACE_USER_H
#define BPFPROF_TRACE_USER_H

#include <linux/types.h>
#include <limits.h>
#include "base/util.h"
#include "symbols/symbolize.h"
#include "trace.h"

enum tp_type { PT_BEGIN, PT_END, PT_PROFILE, PT_INTERVAL, PT_TRACEPOINT, PT_UPROBE, PT_URETPROBE,
	       PT_USDT, PT_SOFTWARE };

/* One attachment (after globs are expanded). */
struct tp_probe {
	enum tp_type type;
	char target[PATH_MAX];    /* uprobe/usdt path, tracepoint category, software event */
	char name[256];           /* function, tracepoint, usdt name */
	char provider[128];       /* usdt */
	char text[PATH_MAX + 400];/* as bpftrace names it, for the probe key */
	uint64_t hz, period_ns;   /* profile, interval */
	uint64_t count;           /* software: events per sample */
	uint64_t config;          /* software: the perf event */
	uint64_t offset;          /* uprobe: file offset of the function */
	int block;
};

/* How a key part is shown. */
enum tp_disp { DISP_INT, DISP_COMM, DISP_USTACK, DISP_KSTACK, DISP_PROBE, DISP_FUNC_PROBE,
	       DISP_FUNC_IP, DISP_HIDDEN_PID };

#define TP_AGG_ASSIGN 100       /* a map of assigned values (@start[tid] = nsecs) */

struct tp_map {
	char name[64];            /* "@", "@name" */
	int nparts;               /* including a hidden pid part for user stacks */
	struct tr_src_spec parts[TR_MAX_PARTS];
	enum tp_disp disp[TR_MAX_PARTS];
	int depth[TR_MAX_PARTS];  /* ustack(N) / kstack(N), 0 = all */
	int agg;                  /* AGG_*, TP_AGG_ASSIGN, or -1 before its first use */
	int64_t lo, hi, step;     /* lhist */
	bool keyed_known;
};

enum ua_kind { UA_PRINT, UA_CLEAR, UA_ZERO, UA_EXIT };
struct tp_uaction {
	enum ua_kind kind;
	int map;                  /* -1: none */
};

/* A probe block: BPF blocks carry a predicate and statements; BEGIN, END
 * and interval blocks run user-space actions. */
struct tp_block {
	bool user;
	enum tp_type type;        /* of its first probe */
	uint64_t interval_ns;
	uint64_t next_ns;         /* next interval firing (run time) */
	VEC(struct tp_uaction) actions;
	struct tr_block cfg;
};

struct tp_program {
	const char *src;
	VEC(struct tp_probe) probes;
	VEC(struct tp_block) blocks;
	VEC(struct tr_stmt) stmts;
	VEC(struct tr_keyspec) keyspecs;
	VEC(struct tp_map) maps;
	pid_t pid;                /* -p: uprobes in this process, events filtered */
	struct symbolizer *sym;   /* ELF files are read once, for probes and stacks */
};

/* Parses and checks src; on error prints bpftrace-style position, the line
 * and a caret, and returns -EINVAL. */
int tp_parse(const char *src, struct tp_program *p);
void tp_free(struct tp_program *p);
/* Resolves a uprobe/usdt target like bpftrace: a path, or a library name
 * ("libc") found in the usual directories or in pid's mappings. */
bool tp_resolve_binary(const char *name, pid_t pid, char *out, size_t n);

/* An integer field of a tracepoint's format file: 0, -errno reading it,
 * -ESRCH no such field, -EINVAL not an integer. */
int tp_format_field(const char *sys, const char *event, const char *field, unsigned *off,
		    unsigned *size, unsigned *sgn);

#endif
