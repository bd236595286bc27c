/* --unwind dwarf, BPF side: copy the user registers and the top of the user
 * stack into a scratch record and send it to user space, which unwinds it
 * with .eh_frame (user/core/unwinder.c). Include after filter.bpf.h. */
#ifndef BPFPROF_UNWIND_BPF_H
#define BPFPROF_UNWIND_BPF_H

#include "unwind.h"

/* cfg.uw_stack_bytes: 0 = no records (frame pointers or tables); else how
 * many bytes of user stack to copy (--unwind copy). */

/* One scratch record per CPU (a plain array: per-CPU values are limited to
 * 32 KiB). Value size = header + stack bytes + one page of slack, set by
 * the loader; untyped so the size can change at open time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct uw_record) + UW_PAGE);
} uw_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* grown by the loader for --unwind dwarf */
} uw_events SEC(".maps");

/* Whether this process's user stacks go to user space for DWARF unwinding. */
/* x86-64 user registers in DWARF numbering (0-15; 16 is the pc), the order
 * user space unwinds from (struct uw_record). A macro: pr is a stack copy
 * or a task's pt_regs read directly (iterators). */
#define UW_DWARF_REGS(out, pr)                                                              \
	do {                                                                                \
		(out)[0] = (pr)->ax;   (out)[1] = (pr)->dx;   (out)[2] = (pr)->cx;           \
		(out)[3] = (pr)->bx;   (out)[4] = (pr)->si;   (out)[5] = (pr)->di;           \
		(out)[6] = (pr)->bp;   (out)[7] = (pr)->sp;   (out)[8] = (pr)->r8;           \
		(out)[9] = (pr)->r9;   (out)[10] = (pr)->r10; (out)[11] = (pr)->r11;         \
		(out)[12] = (pr)->r12; (out)[13] = (pr)->r13; (out)[14] = (pr)->r14;         \
		(out)[15] = (pr)->r15; (out)[16] = (pr)->ip;                                 \
	} while (0)

static __always_inline bool uw_wanted(__u32 tgid)
{
	return cfg.uw_stack_bytes != 0;
}

static __always_inline struct uw_record *uw_scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&uw_scratch, &cpu);
}

/* Fills r: kernel stack (when kstack), and from uregs (the task's user-mode
 * registers; NULL = none) the registers and up to cfg.uw_stack_bytes of stack,
 * page by page so a stack that ends before the limit still copies whole. */
static __always_inline void uw_capture(void *ctx, struct uw_record *r, struct pt_regs *uregs,
				       bool kstack)
{
	struct pt_regs pr;
	__u64 off = 0, want = cfg.uw_stack_bytes, sp;

	r->nkips = 0;
	r->ulen = 0;
	r->flags = 0;
	r->exec = exec_gen(r->pid);
	r->pad = 0;
	if (kstack) {
		long n = bpf_get_stack(ctx, r->kips, sizeof(r->kips), 0);

		if (n > 0)
			r->nkips = n / sizeof(__u64);
		else
			stat_inc(STAT_KSTACK_FAILED);
	}
	if (!uregs || bpf_probe_read_kernel(&pr, sizeof(pr), uregs)) {
		r->flags |= UW_F_NO_USER;
		return;
	}
	UW_DWARF_REGS(r->regs, &pr);
	sp = pr.sp;
	for (int i = 0; i < UW_MAX_STACK / UW_PAGE + 1; i++) {
		__u64 chunk;

		if (off >= want)
			break;
		chunk = UW_PAGE - ((sp + off) & (UW_PAGE - 1));
		if (chunk > want - off)
			chunk = want - off;
		if (chunk == 0 || chunk > UW_PAGE)
			break;
		/* Again, for the verifier: the bound must sit on this register. */
		asm volatile("" : "+r"(off));
		if (off >= want)
			break;
		/* A page that is not there ends the copy (stack top, or a page
		 * the kernel cannot fault in from here). */
		if (bpf_probe_read_user(r->stack + off, chunk, (void *)(sp + off)))
			break;
		off += chunk;
	}
	r->ulen = off;
}

/* This CPU's scratch record for thread (tgid, tid) of record type `type`,
 * captured (uw_capture); NULL when there is none. The caller fills the
 * payload and sends it (uw_submit), and if either fails counts the event
 * without its user stack (STACK_LOST): never dropped. */
static __always_inline struct uw_record *uw_begin(void *ctx, __u32 type, __u32 tgid, __u32 tid,
						  struct pt_regs *uregs, bool kstack)
{
	struct uw_record *r = uw_scratch_get();

	if (!r)
		return NULL;
	r->type = type;
	r->pid = tgid;
	r->tid = tid;
	uw_capture(ctx, r, uregs, kstack);
	return r;
}

/* Wake the reader only once the buffer is a quarter full: a wake-up per
 * record would cost the traced thread a cross-CPU wake-up each time (and
 * show up in lockwait as contention on the reader's wait queue). The
 * reader also looks at least every 100 ms. */
static __always_inline __u64 uw_wakeup_flag(void)
{
	return bpf_ringbuf_query(&uw_events, BPF_RB_AVAIL_DATA) >
	       bpf_ringbuf_query(&uw_events, BPF_RB_RING_SIZE) / 4 ? BPF_RB_FORCE_WAKEUP
								    : BPF_RB_NO_WAKEUP;
}

/* Sends the header and the copied stack; false (counted) if it did not fit. */
static __always_inline bool uw_submit(struct uw_record *r)
{
	__u64 len = r->ulen;

	if (len > cfg.uw_stack_bytes)
		len = cfg.uw_stack_bytes;
	if (bpf_ringbuf_output(&uw_events, r, sizeof(*r) + len, uw_wakeup_flag())) {
		stat_inc(STAT_RINGBUF_FULL);
		return false;
	}
	return true;
}

#endif
