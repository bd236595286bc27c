/* --unwind dwarf: what the BPF side sends so user space can unwind a user
 * stack from .eh_frame: the task's user registers and a copy of the top of
 * its user stack. Shared by every program and user/unwind.c. */
#ifndef BPFPROF_UNWIND_H
#define BPFPROF_UNWIND_H

#include "common.h"

#define UW_NREGS 17          /* x86-64 DWARF registers 0..16; 16 is the pc */
#define UW_REG_BP 6
#define UW_REG_SP 7
#define UW_REG_IP 16
#define UW_MAX_STACK 65536   /* --stack-bytes limit */
#define UW_PAGE 4096
#define UW_MAX_KFRAMES 127
#define UW_PAYLOAD 96        /* the command's own key and values */

/* One event with a user stack to unwind. The BPF side fills a per-CPU
 * scratch copy and sends the header plus `ulen` stack bytes. */
struct uw_record {
	__u32 type;              /* the command's record type */
	__u32 pid;
	__u32 tid;
	__u32 nkips;             /* kernel frames in kips (0: none) */
	__u32 ulen;              /* user stack bytes copied from regs[UW_REG_SP] */
	__u32 flags;             /* UW_F_* */
	__u32 exec;              /* execs of pid before the event (exec_gens) */
	__u32 pad;
	__u64 regs[UW_NREGS];    /* user registers, DWARF numbering */
	__u8 payload[UW_PAYLOAD];
	__u64 kips[UW_MAX_KFRAMES];
	__u8 stack[];
};

enum ut_kind {
	UT_CFA_RSP,      /* CFA = rsp + cfa_off */
	UT_CFA_RBP,      /* CFA = rbp + cfa_off */
	UT_PLT,          /* .plt: CFA = rsp + cfa_off + ((pc & 15) >= rbp_off ? 8 : 0) */
	UT_SIGNAL,       /* a signal trampoline (__restore_rt): registers in the ucontext */
	UT_STOP,         /* the outermost frame (_start, clone, thread start) */
	UT_GAP,          /* no CFI here: step by frame pointer */
	UT_UNSUPPORTED,  /* CFI this table cannot express: the walk stops (counted) */
};

/* 8 bytes. The return address is always at CFA - 8 (x86-64 ABI; checked
 * when built, else UT_UNSUPPORTED). */
struct ut_row {
	__u32 pc;     /* from here (ELF vaddr - table base) to the next row's pc */
	__s16 cfa_off;
	__s8 rbp_off;  /* rbp saved at CFA + 8 * rbp_off; 0: rbp unchanged (UT_PLT: the threshold) */
	__u8 kind;    /* enum ut_kind, | UT_F_CFA_X8 */
};
/* cfa_off counts 8-byte words: a frame larger than 32 KiB (a big array on
 * the stack, in main more than anywhere) still fits the row. */
#define UT_F_CFA_X8 0x40
#define UT_KIND_MASK 0x3f
static inline __u8 ut_kind(const struct ut_row *r)
{
	return r->kind & UT_KIND_MASK;
}
static inline long ut_cfa_off(const struct ut_row *r)
{
	return (r->kind & UT_F_CFA_X8) ? 8L * r->cfa_off : r->cfa_off;
}

/* --unwind tables: a process's executable mappings that have a table,
 * sorted by start (user/core/ktables.c fills them; bpf/ktables.bpf.h
 * reads them). A row's pc is the address less `bias`. */
#define KT_MAX_MAPS 128      /* a power of two (bpf/ktables.bpf.h masks with it) */
#define KT_MAP_SEARCH 8      /* binary search steps over KT_MAX_MAPS mappings */
struct kt_map {
	__u64 start, end;
	__u64 bias;
	__u32 file;        /* kt_files key */
	__u32 nrows;
};
struct kt_proc {
	__u32 n;
	__u32 exec;        /* the image these are (exec_gens): another's are not used */
	struct kt_map maps[KT_MAX_MAPS];
};
/* A stored stack (bpf/stacks.bpf.h): frames leaf first, zero-terminated
 * when shorter. Stored stacks' ids start here. */
#define STACK_STORE_BASE 0x60000000  /* offcpu's seed uses 0x40000000 up */
struct stored_stack {
	__u64 ips[127];
};

#define UW_F_NO_USER 1       /* no user context (kernel thread) or -K */
#define UW_F_RETURN_PC 2     /* regs are at a return: the pc is a return address */

#endif
