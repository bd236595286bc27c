/* trace: bpftrace's language compiled to BPF instructions without LLVM.
 * parse.c turns the text into a syntax tree and the probes it names
 * (probes.c resolves them); sema.c gives every expression a type and every
 * map a layout; codegen.c emits one BPF program per probe block; trace.c
 * loads, attaches and runs them; print.c shows printf records and maps as
 * bpftrace does. */
#ifndef BPFPROF_TRACE_USER_H
#define BPFPROF_TRACE_USER_H

#include <linux/types.h>
#include <limits.h>
#include <stdio.h>
#include "base/util.h"
#include "symbols/symbolize.h"
#include "trace.h"

struct btf;

enum tp_type { PT_BEGIN, PT_END, PT_PROFILE, PT_INTERVAL, PT_TRACEPOINT, PT_UPROBE, PT_URETPROBE,
	       PT_USDT, PT_SOFTWARE, PT_KPROBE, PT_KRETPROBE, PT_RAWTP, PT_WATCHPOINT };

/* One attachment (after globs are expanded). */
struct tp_probe {
	enum tp_type type;
	char target[PATH_MAX];    /* uprobe/usdt path, tracepoint category, software event */
	char name[256];           /* function, tracepoint, usdt name */
	char provider[128];       /* usdt */
	char text[PATH_MAX + 400];/* as bpftrace names it (probe builtin) */
	uint64_t hz, period_ns;   /* profile, interval */
	uint64_t count;           /* software: events per sample */
	uint64_t config;          /* software: the perf event */
	uint64_t offset;          /* uprobe: file offset of the function; watchpoint: address */
	uint32_t bp_len, bp_type; /* watchpoint: bytes watched, HW_BREAKPOINT_R/W/X */
	int block;
};

/* ---- types --------------------------------------------------------------- */

enum ty_kind {
	TY_NONE,      /* no value (statements, printf) */
	TY_INT,       /* stored in 8 bytes; bits/sign say how it was declared */
	TY_STR,       /* size bytes, NUL-padded */
	TY_TUPLE,     /* elements at 8-byte-aligned offsets */
	TY_USTACK,    /* {stack id, pid} */
	TY_KSTACK,    /* stack id */
	TY_USYM,      /* {address, pid} */
	TY_KSYM,      /* address */
	TY_PROBE,     /* attachment index, shown as its name */
	TY_FUNCNAME,  /* attachment index, shown as the probed function */
	TY_INET,      /* ntop(): {family, 16 address bytes} */
	TY_TIMESTAMP, /* nsecs shown as a time */
	TY_STRUCT,    /* a kernel struct in place: its address (btf_id) */
	TY_BUF,       /* buf(): {length, bytes} */
};

#define TY_MAX_ELEMS 16
#define TR_JOIN_MAX 16            /* join(): arguments read */

struct type {
	uint8_t k;
	uint8_t sign;
	uint8_t bits;         /* TY_INT: 8, 16, 32, 64 */
	uint8_t nelem;        /* TY_TUPLE */
	uint16_t size;        /* bytes a value takes in maps and records */
	int16_t limit;        /* stacks: frames shown (0: all) */
	uint8_t mode;         /* stacks: 0 bpftrace, 1 perf, 2 raw */
	struct type *elem;    /* TY_TUPLE: nelem types (owned by the program) */
	uint16_t *off;        /* TY_TUPLE: offsets */
	uint32_t btf_id;      /* TY_INT pointers to, and TY_STRUCT: a kernel type */
	const char *strfmt;   /* TY_TIMESTAMP: strftime's format */
	uint8_t elem_size;    /* TY_INT pointers: what p[i] reads (0: cannot index) */
	uint8_t elem_sign;
	uint32_t elem_btf;    /* ... or a kernel type */
};

/* A tracepoint field's layout in some of a block's tracepoints. */
struct tp_fvar {
	uint16_t off;
	uint8_t size, sign, is_str;   /* is_str: 1 char array, 2 __data_loc */
	uint32_t *probes;             /* attachment indexes */
	int nprobes;
};

/* ---- the syntax tree ------------------------------------------------------- */

enum node_kind {
	N_INT, N_STR, N_BUILTIN, N_POSPARAM, N_VAR, N_MAP, N_CALL, N_BINOP, N_UNOP, N_TERNARY,
	N_FIELD,      /* a.name, a->name: tracepoint args, tuple .N */
	N_INDEX,      /* a[i] (tuples, pointers) */
	N_CAST,       /* (type)a */
	N_TUPLE,
	N_ASSIGN,     /* a = b; op: 0 or the compound operator */
	N_INCDEC,     /* op: '+' or '-'; num: 1 prefix, 0 postfix */
	N_IF, N_WHILE, N_UNROLL, N_BLOCK, N_EXPR, N_RETURN, N_BREAK, N_CONTINUE, N_LET,
	N_FOR,        /* for ($kv : @map) { }: a = $kv, b = @map, c = the body */
};

/* Builtins (N_BUILTIN op) and functions (N_CALL op), set by sema. */
enum {
	B_PID = 1, B_TID, B_UID, B_GID, B_CPU, B_COMM, B_NSECS, B_ELAPSED, B_CGROUP, B_CURTASK, B_RAND,
	B_FUNC, B_PROBE, B_RETVAL, B_ARG, B_SARG, B_ARGS, B_USTACK, B_KSTACK, B_JIFFIES, B_NUMAID, B_CPID,
	B_TRUE, B_FALSE, B_IP,
};
enum {
	F_PRINTF = 1, F_PRINT, F_CLEAR, F_ZERO, F_DELETE, F_EXIT, F_COUNT, F_SUM, F_AVG, F_MIN, F_MAX,
	F_STATS, F_HIST, F_LHIST, F_STR, F_STRNCMP, F_KSYM, F_USYM, F_KSTACK, F_USTACK, F_TIME, F_SIGNAL,
	F_SYSTEM, F_CAT, F_SIZEOF, F_HAS_KEY, F_STRCONTAINS, F_ERRORF, F_NSECS, F_BSWAP, F_JOIN, F_NTOP,
	F_KADDR, F_STRFTIME, F_REG, F_UADDR, F_BUF, F_CGROUPID, F_OFFSETOF,
};

/* Operators beyond single characters. */
enum { OP_EQ = 256, OP_NE, OP_LE, OP_GE, OP_AND, OP_OR, OP_SHL, OP_SHR };

struct node {
	enum node_kind k;
	int pos, len;             /* in the source, for errors */
	int op;                   /* operator; builtin or function id */
	int64_t num;
	char *str;                /* names; a string literal's bytes */
	int strl;
	struct node *a, *b, *c;   /* operands; if: cond, then, else */
	VEC(struct node *) kids;  /* call arguments, map keys, statements, tuple */
	struct type ty;           /* set by sema */
	int slot;                 /* variable, map or format index (sema) */
	uint16_t field_off;       /* N_FIELD: offset and size in the record or struct */
	uint8_t field_size;
	uint8_t field_sign;
	struct tp_fvar *fvar;     /* args.FIELD where the block's tracepoints */
	int nfvar;                /* place it differently: one per layout */
	uint8_t kfield;           /* N_FIELD of a kernel struct: TKM_* of the member */
};

/* ---- maps, variables, formats ---------------------------------------------- */

enum agg_kind { AG_NONE, AG_COUNT, AG_SUM, AG_MIN, AG_MAX, AG_AVG, AG_STATS, AG_HIST, AG_LHIST };

struct tp_map {
	char name[64];            /* "@", "@name" */
	int npart;                /* key parts; -1 until known */
	struct type key;          /* a tuple of the parts (scalar maps: one int 0) */
	struct type val;          /* the assigned value's type (AG_NONE) */
	int agg;                  /* enum agg_kind; -1 until known */
	int64_t lo, hi, step;     /* lhist */
	bool percpu;              /* aggregations: summed over CPUs when read */
	uint32_t key_size, val_size;
	int fd;
	int first_pos;            /* where it is first named (errors) */
};

struct tp_var {
	char name[64];
	int block;
	struct type ty;
	int off;                  /* in the frame or the scratch buffer */
	bool in_scratch;
};

/* A printf/print/time/... call's arguments as they arrive in a record. */
struct tp_fmt {
	int action;               /* TR_ACT_* */
	char *fmt;                /* printf: the format */
	int nargs;
	struct type args[TY_MAX_ELEMS + 1];
	uint16_t off[TY_MAX_ELEMS + 1];
	uint32_t size;            /* of the record, header included */
	int map;                  /* print/clear/zero: the map */
	int64_t top, div;         /* print(@m, top, div) */
};

/* A probe block. */
struct tp_block {
	enum tp_type type;        /* of its first probe */
	uint32_t kinds;           /* 1 << TK_*: the program types its code runs as */
	struct node *pred;        /* or NULL */
	struct node *body;        /* N_BLOCK */
	uint64_t interval_ns;     /* interval */
	uint64_t next_ns;         /* next interval firing (run time) */
	int prog_fd[TK_NKINDS];   /* the generated programs, one per kind */
	bool ustack, kstack;      /* what the entry program takes for it */
	bool has_for;             /* for loops: variables live in scratch memory */
	int first_probe, nprobes;
	int pos;
};

/* #define NAME VALUE */
struct tp_macro {
	char name[64];
	struct node *value;       /* NULL: defined empty */
};

struct tp_program {
	const char *src;
	VEC(struct tp_probe) probes;
	VEC(struct tp_block) blocks;
	VEC(struct tp_map) maps;
	VEC(struct tp_var) vars;
	VEC(struct tp_fmt) fmts;
	VEC(struct node *) nodes; /* every node, to free */
	VEC(void *) allocs;       /* types' arrays, strings */
	VEC(char *) params;       /* positional parameters $1..$N */
	VEC(struct tp_macro) macros;
	struct btf *ubtf;         /* C definitions of the program (cdefs.c) */
	int strlen_max;           /* config max_strlen (64) */
	int map_keys_max;         /* config max_map_keys (4096) */
	pid_t pid;                /* -p: uprobes in this process, events filtered */
	struct symbolizer *sym;   /* ELF files are read once, for probes and stacks */
	bool unsafe;
	uint64_t start_ns;        /* CLOCK_MONOTONIC at start (elapsed) */
	pid_t cpid;               /* -c/-- CMD's pid */
};

/* A compile-time integer (constants, positional parameters, arithmetic
 * on them). */
bool tp_const_int(const struct tp_program *p, const struct node *n, int64_t *v);
const char *tp_type_name(const struct type *t, char *buf, size_t n);
int tp_str_storage(const struct tp_program *p);

/* Parses and checks src (types, maps); on error prints bpftrace-style
 * position, the line and a caret, and returns -EINVAL. */
int tp_parse(const char *src, struct tp_program *p);
int tp_sema(struct tp_program *p);
void tp_free(struct tp_program *p);
/* Resolves a uprobe/usdt target like bpftrace: a path, or a library name
 * ("libc") found in the usual directories or in pid's mappings. */
bool tp_resolve_binary(const char *name, pid_t pid, char *out, size_t n);

/* A tracepoint field from its format file: 0, -errno reading it, -ESRCH no
 * such field. *is_str for char arrays and __data_loc strings. */
int tp_format_field(const char *sys, const char *event, const char *field, unsigned *off,
		    unsigned *size, unsigned *sgn, int *is_str, char *decl, size_t decl_len);

/* A constant by name: #defines of the kernel's headers that tools use,
 * then the kernel's enums (BTF). */
bool tp_known_constant(const char *name, int64_t *v);

/* Kernel types (BTF): a struct's id by name ("task_struct", "struct
 * sock"), or -errno; a member's place and what it holds. */
enum { TKM_INT = 1, TKM_PTR, TKM_CHARS, TKM_ARRAY, TKM_STRUCT };
struct tp_kmember {
	int kind;                 /* TKM_* */
	uint32_t offset, size;
	bool sign, char_ptr;
	uint32_t type_id;         /* the member's type (modifiers skipped) */
	uint32_t target_id;       /* TKM_PTR: pointee; TKM_ARRAY/CHARS: element */
};
int tp_ktype_struct(const char *name);
/* The program's own definitions, searched first (NULL: none). */
void tp_ktype_user(struct btf *b);
int tp_ktype_member(int struct_id, const char *name, struct tp_kmember *out);
int tp_ktype_pointee(int type_id, struct tp_kmember *out);
const char *tp_ktype_name(int id);

/* A kernel symbol's address (/proc/kallsyms). */
bool tp_kernel_symbol(const char *name, uint64_t *addr);

/* -l [PATTERN]: probes listed as bpftrace lists them; 0 or -errno. */
int tp_list(const char *pattern, bool verbose, pid_t pid);

/* An error at [pos, pos+len) of src, as bpftrace prints it. */
int tp_error(const char *src, int pos, int len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- code generation (codegen.c) ------------------------------------------ */

struct tp_fds {
	int scratch, event, ring, stacks, stats, exit_flag;
};

/* The block's program: instructions into *insns (owned by the caller),
 * their count into *n; where for-loop callbacks (subprograms) start into
 * *subprogs (owned by the caller; the loader describes them in BTF). */
int tp_codegen(struct tp_program *p, int block, int kind, const struct tp_fds *fds, void **insns, size_t *n,
	       uint32_t **subprogs, size_t *nsubprogs);

/* ---- output (print.c) ------------------------------------------------------ */

struct tp_printer {
	struct tp_program *p;
	struct symbolizer *sym;
	int stacks_fd;
	bool json;
	FILE *out;
};

/* One value of type ty at data, as bpftrace prints it in text or JSON. */
void tp_format_value(struct tp_printer *pr, const struct type *ty, const void *data, char **out, size_t *len,
		     bool json, bool in_key);
/* A printf record (after its header). */
void tp_printf(struct tp_printer *pr, const struct tp_fmt *f, const uint8_t *rec);
void tp_print_map(struct tp_printer *pr, int mi, int64_t top, int64_t div);
void tp_print_value(struct tp_printer *pr, const struct type *ty, const void *data);
void tp_clear_map(struct tp_printer *pr, int mi, bool zero);
void tp_print_all(struct tp_printer *pr);

#endif
