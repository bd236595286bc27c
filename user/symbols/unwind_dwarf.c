/* Unwinding a user stack from a copy of its top and the registers, with
 * each mapped file's .eh_frame (libdw parses the CFI; the register rules
 * are applied here), falling back to frame pointers where a file has no
 * CFI. Pure: it reads only the record and the symbolizer's files. */
#include "symbols/unwind_dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The copied top of the user stack: the only memory the rules may read. */
struct stack_copy {
	uint64_t base;
	const uint8_t *data;
	size_t len;
};

static bool read_word(const struct stack_copy *m, uint64_t addr, uint64_t *out)
{
	if (addr < m->base || addr - m->base + 8 > m->len)
		return false;
	memcpy(out, m->data + (addr - m->base), 8);
	return true;
}

struct regset {
	uint64_t r[UW_NREGS];
	uint32_t known;          /* bit per register */
};

/* Evaluates a CFI expression; *is_value when it yields a value rather than
 * the address where the value is saved. */
static bool eval_ops(const Dwarf_Op *ops, size_t nops, const struct regset *rs, uint64_t cfa,
		     const struct stack_copy *m, uint64_t *out, bool *is_value)
{
	uint64_t st[16];
	int sp = 0;

	*is_value = false;
	for (size_t i = 0; i < nops; i++) {
		const Dwarf_Op *op = &ops[i];
		uint8_t a = op->atom;
		uint64_t x, y;

#define PUSH(v) do { if (sp == 16) return false; st[sp++] = (v); } while (0)
#define POP(v) do { if (!sp) return false; (v) = st[--sp]; } while (0)
		if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			PUSH((uint64_t)(a - DW_OP_lit0));
		} else if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
			unsigned reg = a - DW_OP_breg0;

			if (reg >= UW_NREGS || !(rs->known & (1u << reg)))
				return false;
			PUSH(rs->r[reg] + (int64_t)op->number);
		} else {
			switch (a) {
			case DW_OP_bregx:
				if (op->number >= UW_NREGS || !(rs->known & (1u << op->number)))
					return false;
				PUSH(rs->r[op->number] + (int64_t)op->number2);
				break;
			case DW_OP_call_frame_cfa: PUSH(cfa); break;
			case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
			case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
			case DW_OP_constu: case DW_OP_consts:
				PUSH(op->number);
				break;
			case DW_OP_plus_uconst: POP(x); PUSH(x + op->number); break;
			case DW_OP_dup: POP(x); PUSH(x); PUSH(x); break;
			case DW_OP_drop: POP(x); break;
			case DW_OP_deref:
				POP(x);
				if (!read_word(m, x, &y))
					return false;
				PUSH(y);
				break;
			case DW_OP_plus: POP(y); POP(x); PUSH(x + y); break;
			case DW_OP_minus: POP(y); POP(x); PUSH(x - y); break;
			case DW_OP_mul: POP(y); POP(x); PUSH(x * y); break;
			case DW_OP_and: POP(y); POP(x); PUSH(x & y); break;
			case DW_OP_or: POP(y); POP(x); PUSH(x | y); break;
			case DW_OP_shl: POP(y); POP(x); PUSH(y < 64 ? x << y : 0); break;
			case DW_OP_shr: POP(y); POP(x); PUSH(y < 64 ? x >> y : 0); break;
			case DW_OP_ge: POP(y); POP(x); PUSH((int64_t)x >= (int64_t)y); break;
			case DW_OP_gt: POP(y); POP(x); PUSH((int64_t)x > (int64_t)y); break;
			case DW_OP_le: POP(y); POP(x); PUSH((int64_t)x <= (int64_t)y); break;
			case DW_OP_lt: POP(y); POP(x); PUSH((int64_t)x < (int64_t)y); break;
			case DW_OP_eq: POP(y); POP(x); PUSH(x == y); break;
			case DW_OP_ne: POP(y); POP(x); PUSH(x != y); break;
			case DW_OP_stack_value: *is_value = true; break;
			default:
				return false; /* beyond what unwinding tables use */
			}
		}
#undef PUSH
#undef POP
	}
	if (!sp)
		return false;
	*out = st[sp - 1];
	return true;
}

/* Callee-saved registers (and the pc) that a caller's frame can recover. */
static const int callee_saved[] = { 3, UW_REG_BP, 12, 13, 14, 15, UW_REG_IP };

/* One step by frame pointer, for code without CFI (Go, JIT code). */
static bool fp_step(struct regset *rs, const struct stack_copy *m)
{
	uint64_t bp = rs->r[UW_REG_BP], nbp, ra;

	if (!(rs->known & (1u << UW_REG_BP)) || bp < rs->r[UW_REG_SP] ||
	    !read_word(m, bp, &nbp) || !read_word(m, bp + 8, &ra))
		return false;
	rs->r[UW_REG_SP] = bp + 16;
	rs->r[UW_REG_BP] = nbp;
	rs->r[UW_REG_IP] = ra;
	rs->known = (1u << UW_REG_SP) | (1u << UW_REG_BP) | (1u << UW_REG_IP);
	return true;
}

size_t uw_unwind(struct symbolizer *sym, pid_t pid, const struct uw_record *r, size_t len,
		 uint64_t *ips, size_t max, bool *complete)
{
	struct stack_copy m = { r->regs[UW_REG_SP], r->stack, 0 };
	struct regset rs;
	bool exact = !(r->flags & UW_F_RETURN_PC); /* the pc is not a return address */
	size_t n = 0;

	*complete = false;
	if (len > sizeof(*r))
		m.len = r->ulen < len - sizeof(*r) ? r->ulen : len - sizeof(*r);
	memcpy(rs.r, r->regs, sizeof(rs.r));
	rs.known = (1u << UW_NREGS) - 1;
	while (n < max) {
		uint64_t pc = rs.r[UW_REG_IP], vaddr, cfa, val;
		struct elf_syms *es;
		Dwarf_CFI *cfi;
		Dwarf_Frame *fr = NULL;
		Dwarf_Op *ops, mem[3];
		size_t nops;
		struct regset next = { .known = 0 };
		uint32_t failed = 0;
		bool signal = false, is_value;
		int ra_reg;

		if (!pc)
			break;
		ips[n++] = pc;
		/* A return address may be one past the call's function end. */
		es = sym_user_vaddr(sym, pid, r->exec, exact ? pc : pc - 1, &vaddr);
		cfi = es ? (Dwarf_CFI *)elf_cfi(es) : NULL;
		if (!cfi || dwarf_cfi_addrframe(cfi, vaddr, &fr) != 0) {
			/* No CFI: at a function's first instruction (an entry
			 * probe) the return address is at [sp]; elsewhere
			 * follow frame pointers. */
			const struct elf_sym *fn = n == 1 && exact && es ? elf_sym_find(es, vaddr) : NULL;

			if (fn && fn->addr == vaddr && read_word(&m, rs.r[UW_REG_SP], &val)) {
				rs.r[UW_REG_IP] = val;
				rs.r[UW_REG_SP] += 8;
			} else if ((rs.known & (1u << UW_REG_BP)) && !rs.r[UW_REG_BP] && n > 1) {
				/* Code without CFI whose frame pointer is 0: the
				 * ABI's mark of the outermost frame (the dynamic
				 * loader's _start clears rbp). */
				*complete = true;
				break;
			} else if (!fp_step(&rs, &m)) {
				break;
			}
			exact = false;
			continue;
		}
		ra_reg = dwarf_frame_info(fr, NULL, NULL, &signal);
		if (ra_reg < 0 || ra_reg >= UW_NREGS ||
		    dwarf_frame_cfa(fr, &ops, &nops) != 0 || !nops ||
		    !eval_ops(ops, nops, &rs, 0, &m, &cfa, &is_value)) {
			free(fr);
			break;
		}
		for (int i = 0; i < UW_NREGS; i++) {
			int reg = i;

			/* A signal frame restores every register; a call only
			 * the callee-saved ones and the return address. */
			if (!signal) {
				if (i >= (int)(sizeof(callee_saved) / sizeof(callee_saved[0])))
					break;
				reg = callee_saved[i];
			}
			if (reg == UW_REG_SP)
				continue;
			if (dwarf_frame_register(fr, reg, mem, &ops, &nops) != 0) {
				failed |= 1u << reg;
				continue;
			}
			if (!nops) {
				if (!ops && (rs.known & (1u << reg))) { /* same value */
					next.r[reg] = rs.r[reg];
					next.known |= 1u << reg;
				}
				continue; /* else undefined */
			}
			if (!eval_ops(ops, nops, &rs, cfa, &m, &val, &is_value) ||
			    (!is_value && !read_word(&m, val, &val))) {
				failed |= 1u << reg;
				continue;
			}
			next.r[reg] = val;
			next.known |= 1u << reg;
		}
		free(fr);
		next.r[UW_REG_SP] = cfa;
		next.known |= 1u << UW_REG_SP;
		if (ra_reg != UW_REG_IP) {
			next.r[UW_REG_IP] = next.r[ra_reg];
			next.known = (next.known & ~(1u << UW_REG_IP)) |
				     (((next.known >> ra_reg) & 1) << UW_REG_IP);
			failed |= ((failed >> ra_reg) & 1) << UW_REG_IP;
		}
		if (failed & (1u << UW_REG_IP))
			break; /* e.g. the return address lies beyond the copy */
		if (!(next.known & (1u << UW_REG_IP)) || !next.r[UW_REG_IP]) {
			/* The outermost frame (_start, a thread's start) marks
			 * its return address undefined. */
			*complete = true;
			break;
		}
		if (!signal && cfa <= rs.r[UW_REG_SP])
			break; /* no progress: corrupt rules or stack */
		exact = signal;
		rs = next;
	}
	return n;
}
