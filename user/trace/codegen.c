/* trace: a probe block's syntax tree into BPF instructions, without LLVM
 * (as the ply tracer does). The model is simple and the verifier's friend:
 * integer expressions leave their value in r0, with intermediate values
 * spilled to the frame; strings, tuples, keys and records are built in
 * this CPU's scratch buffer (a map value: no 512-byte stack limit), whose
 * address r7 holds for the whole program. r6 is the context, r8 the event
 * the entry program prepared (trace.bpf.c). Maps are the program's own
 * (one BPF map per @map, as bpftrace's); output goes to one ring buffer as
 * records the user side formats. */
#include "trace/trace_user.h"

#include <errno.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include <stddef.h>
#include <string.h>

#define R0 0
#define R1 1
#define R2 2
#define R3 3
#define R4 4
#define R5 5
#define R6 6 /* ctx */
#define R7 7 /* scratch */
#define R8 8 /* event */
#define R9 9
#define FP 10

#define FRAME_MAX 512

/* x86-64 user registers in the kernel's stable layout (uapi asm/ptrace.h,
 * whose user-space names differ): what uprobe and perf contexts hold. */
struct pt_regs {
	uint64_t r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
		 flags, sp, ss;
};

struct loop {
	VEC(size_t) breaks, continues;
	bool callback;        /* a for loop's body: break returns 1, continue 0 */
};

/* A for loop's body, emitted after the program as a callback of
 * bpf_for_each_map_elem. */
struct pending_cb {
	struct node *n;
	size_t ld_at;         /* the instruction loading its address */
};

struct cg {
	struct tp_program *p;
	struct tp_block *b;
	int kind;
	const struct tp_fds *fds;
	VEC(struct bpf_insn) ins;
	int frame;            /* bytes of the frame in use */
	int frame_max;
	int scr;              /* scratch bytes in use (variables, then temps) */
	int scr_vars;
	VEC(size_t) returns;  /* jumps to the epilogue */
	VEC(struct pending_cb) callbacks;
	VEC(uint32_t) subprogs; /* where each callback starts */
	struct loop *loop;
	bool in_callback;
	struct loop *cb_loop;  /* the callback's own exits */
	int err;
	uint64_t start_ns;
	int ncpus;            /* possible CPUs (per-CPU maps' values) */
};

#define ERRN(c, n, ...) ((c)->err = tp_error((c)->p->src, (n)->pos, (n)->len ? (n)->len : 1, __VA_ARGS__))

static size_t emit(struct cg *c, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };

	vec_push(&c->ins, i);
	return c->ins.n - 1;
}

#define ALU_I(c, op, d, imm) emit(c, BPF_ALU64 | BPF_K | (op), d, 0, 0, imm)
#define ALU_R(c, op, d, s) emit(c, BPF_ALU64 | BPF_X | (op), d, s, 0, 0)
#define MOV_I(c, d, imm) ALU_I(c, BPF_MOV, d, imm)
#define MOV_R(c, d, s) ALU_R(c, BPF_MOV, d, s)
#define LDX(c, sz, d, s, off) emit(c, BPF_LDX | BPF_MEM | (sz), d, s, (int16_t)(off), 0)
#define STX(c, sz, d, s, off) emit(c, BPF_STX | BPF_MEM | (sz), d, s, (int16_t)(off), 0)
#define ST_I(c, sz, d, off, imm) emit(c, BPF_ST | BPF_MEM | (sz), d, 0, (int16_t)(off), imm)
#define JMP_I(c, op, d, imm) emit(c, BPF_JMP | BPF_K | (op), d, 0, 0, imm)
#define JMP_R(c, op, d, s) emit(c, BPF_JMP | BPF_X | (op), d, s, 0, 0)
#define JA(c) emit(c, BPF_JMP | BPF_JA, 0, 0, 0, 0)
#define CALL(c, fn) emit(c, BPF_JMP | BPF_CALL, 0, 0, 0, fn)

static void ld_imm64(struct cg *c, int dst, uint64_t v)
{
	if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
		MOV_I(c, dst, (int32_t)v);
		return;
	}
	emit(c, BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(c, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static void ld_map(struct cg *c, int dst, int fd)
{
	emit(c, BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
	emit(c, 0, 0, 0, 0, 0);
}

static int frame_alloc(struct cg *c);
static void frame_free(struct cg *c);

/* stats[slot]++ (this CPU's): a loss counted, as every command counts them. */
static void stat_inc(struct cg *c, int slot)
{
	int t = frame_alloc(c);
	size_t miss;

	ST_I(c, BPF_W, FP, t, slot);
	ld_map(c, R1, c->fds->stats);
	MOV_R(c, R2, FP);
	ALU_I(c, BPF_ADD, R2, t);
	CALL(c, BPF_FUNC_map_lookup_elem);
	miss = JMP_I(c, BPF_JEQ, R0, 0);
	LDX(c, BPF_DW, R1, R0, 0);
	ALU_I(c, BPF_ADD, R1, 1);
	STX(c, BPF_DW, R0, R1, 0);
	c->ins.v[miss].off = 3;
	frame_free(c);
}

/* After a helper whose failure (r0 != 0) is a loss of kind slot. */
static void count_failure(struct cg *c, int slot)
{
	size_t ok = JMP_I(c, BPF_JEQ, R0, 0);

	stat_inc(c, slot);
	c->ins.v[ok].off = (int16_t)(c->ins.n - ok - 1);
}

/* A jump's target: here. */
static void patch(struct cg *c, size_t at)
{
	c->ins.v[at].off = (int16_t)(c->ins.n - at - 1);
}

static void patch_to(struct cg *c, size_t at, size_t target)
{
	c->ins.v[at].off = (int16_t)(target - at - 1);
}

static int frame_alloc(struct cg *c)
{
	c->frame += 8;
	if (c->frame > c->frame_max)
		c->frame_max = c->frame;
	return -c->frame;
}

static void frame_free(struct cg *c)
{
	c->frame -= 8;
}

static int scr_alloc(struct cg *c, struct node *n, int size)
{
	int off = c->scr;

	c->scr += (size + 7) & ~7;
	if (c->scr > TR_SCRATCH_SIZE) {
		ERRN(c, n, "the block needs more than %d bytes of scratch memory", TR_SCRATCH_SIZE);
		return 0;
	}
	return off;
}

/* r7 + off into reg. */
static void scr_addr(struct cg *c, int reg, int off)
{
	MOV_R(c, reg, R7);
	if (off)
		ALU_I(c, BPF_ADD, reg, off);
}

static void zero_scr(struct cg *c, int off, int size)
{
	for (int i = 0; i + 8 <= size; i += 8)
		ST_I(c, BPF_DW, R7, off + i, 0);
	for (int i = size & ~7; i < size; i++)
		ST_I(c, BPF_B, R7, off + i, 0);
}

/* size bytes from src reg + soff to scratch doff (sizes are multiples of 8). */
static void copy_to_scr(struct cg *c, int src, int soff, int doff, int size)
{
	for (int i = 0; i < size; i += 8) {
		LDX(c, BPF_DW, R1, src, soff + i);
		STX(c, BPF_DW, R7, R1, doff + i);
	}
}

static void trunc_int(struct cg *c, int reg, int bits, bool sign)
{
	if (bits >= 64 || !bits)
		return;
	if (sign) {
		ALU_I(c, BPF_LSH, reg, 64 - bits);
		ALU_I(c, BPF_ARSH, reg, 64 - bits);
	} else if (bits == 32) {
		emit(c, BPF_ALU | BPF_MOV | BPF_X, reg, reg, 0, 0);
	} else {
		ALU_I(c, BPF_AND, reg, (int32_t)((1u << bits) - 1));
	}
}

/* dst op= src, for the operators of expressions and compound assignments. */
static void alu(struct cg *c, int op, int dst, int src, bool sign)
{
	switch (op) {
	case '+': ALU_R(c, BPF_ADD, dst, src); break;
	case '-': ALU_R(c, BPF_SUB, dst, src); break;
	case '*': ALU_R(c, BPF_MUL, dst, src); break;
	case '/': ALU_R(c, BPF_DIV, dst, src); break;
	case '%': ALU_R(c, BPF_MOD, dst, src); break;
	case '&': ALU_R(c, BPF_AND, dst, src); break;
	case '|': ALU_R(c, BPF_OR, dst, src); break;
	case '^': ALU_R(c, BPF_XOR, dst, src); break;
	case OP_SHL: ALU_R(c, BPF_LSH, dst, src); break;
	case OP_SHR: ALU_R(c, sign ? BPF_ARSH : BPF_RSH, dst, src); break;
	}
}

/* size bytes at scratch off onto the ring buffer (a loss counted). */
static void ring_output(struct cg *c, int off, int size)
{
	ld_map(c, R1, c->fds->ring);
	scr_addr(c, R2, off);
	MOV_I(c, R3, size);
	MOV_I(c, R4, 0);
	CALL(c, BPF_FUNC_ringbuf_output);
	count_failure(c, STAT_RINGBUF_FULL);
}

static int gen_int(struct cg *c, struct node *n);
static int str_size(struct cg *c);
static int str_max(struct cg *c);
static int gen_value(struct cg *c, struct node *n, int off);
static int gen_stmt(struct cg *c, struct node *n);

static bool user_block(struct cg *c)
{
	return c->kind == TK_USER;
}

/* ---- builtins ---------------------------------------------------------------- */

static int pt_regs_off(int arg)
{
	static const int offs[] = { offsetof(struct pt_regs, di), offsetof(struct pt_regs, si),
				    offsetof(struct pt_regs, dx), offsetof(struct pt_regs, cx),
				    offsetof(struct pt_regs, r8), offsetof(struct pt_regs, r9) };

	return offs[arg];
}

static int gen_builtin(struct cg *c, struct node *n)
{
	switch (n->op) {
	case B_PID:
		CALL(c, BPF_FUNC_get_current_pid_tgid);
		ALU_I(c, BPF_RSH, R0, 32);
		break;
	case B_TID:
		CALL(c, BPF_FUNC_get_current_pid_tgid);
		trunc_int(c, R0, 32, false);
		break;
	case B_UID:
		CALL(c, BPF_FUNC_get_current_uid_gid);
		trunc_int(c, R0, 32, false);
		break;
	case B_GID:
		CALL(c, BPF_FUNC_get_current_uid_gid);
		ALU_I(c, BPF_RSH, R0, 32);
		break;
	case B_CPU: CALL(c, BPF_FUNC_get_smp_processor_id); break;
	case B_NSECS: CALL(c, BPF_FUNC_ktime_get_ns); break;
	case B_ELAPSED:
		CALL(c, BPF_FUNC_ktime_get_ns);
		ld_imm64(c, R1, c->start_ns);
		ALU_R(c, BPF_SUB, R0, R1);
		break;
	case B_CGROUP: CALL(c, BPF_FUNC_get_current_cgroup_id); break;
	case B_CURTASK: CALL(c, BPF_FUNC_get_current_task); break;
	case B_RAND: CALL(c, BPF_FUNC_get_prandom_u32); break;
	case B_JIFFIES: CALL(c, BPF_FUNC_jiffies64); break;
	case B_NUMAID: CALL(c, BPF_FUNC_get_numa_node_id); break;
	case B_CPID: ld_imm64(c, R0, (uint64_t)c->p->cpid); break;
	case B_TRUE: MOV_I(c, R0, 1); break;
	case B_FALSE: MOV_I(c, R0, 0); break;
	case B_PROBE: case B_FUNC:
		if (user_block(c))
			MOV_I(c, R0, c->b->first_probe);
		else
			LDX(c, BPF_W, R0, R8, offsetof(struct tr_event, attach));
		break;
	case B_RETVAL:
		LDX(c, BPF_DW, R0, R6, offsetof(struct pt_regs, ax));
		break;
	case B_ARG:
		if (c->kind == TK_RAWTP) /* the tracepoint's arguments, as an array */
			LDX(c, BPF_DW, R0, R6, 8 * n->num);
		else if (c->kind == TK_USDT)
			LDX(c, BPF_DW, R0, R8, offsetof(struct tr_event, args) + 8 * n->num);
		else
			LDX(c, BPF_DW, R0, R6, pt_regs_off((int)n->num));
		break;
	case B_SARG: {
		int t = frame_alloc(c);

		MOV_R(c, R1, FP);
		ALU_I(c, BPF_ADD, R1, t);
		MOV_I(c, R2, 8);
		LDX(c, BPF_DW, R3, R6, offsetof(struct pt_regs, sp));
		ALU_I(c, BPF_ADD, R3, (int32_t)(8 * (n->num + 1)));
		ST_I(c, BPF_DW, FP, t, 0);
		CALL(c, BPF_FUNC_probe_read_user);
		LDX(c, BPF_DW, R0, FP, t);
		frame_free(c);
		break;
	}
	default:
		return ERRN(c, n, "%s has no integer value", n->str);
	}
	return 0;
}

/* ---- maps ----------------------------------------------------------------------- */

/* The key of map reference n at scratch off (its bucket slot left). */
static int gen_key(struct cg *c, struct node *n, int off)
{
	struct tp_map *m = &c->p->maps.v[n->slot];
	int err;

	if (m->npart <= 0) {
		ST_I(c, BPF_DW, R7, off, 0);
		return 0;
	}
	for (int i = 0; i < m->npart; i++)
		if ((err = gen_value(c, n->kids.v[i], off + m->key.off[i])))
			return err;
	return 0;
}

/* r0 = the entry of map m for the key at koff, created (zeroed, at voff)
 * when missing; jumps to *miss (to patch) when it cannot be. */
static void lookup_or_init(struct cg *c, struct tp_map *m, int koff, int voff, size_t *miss)
{
	size_t found;

	ld_map(c, R1, m->fd);
	scr_addr(c, R2, koff);
	CALL(c, BPF_FUNC_map_lookup_elem);
	found = JMP_I(c, BPF_JNE, R0, 0);
	zero_scr(c, voff, (int)m->val_size);
	ld_map(c, R1, m->fd);
	scr_addr(c, R2, koff);
	scr_addr(c, R3, voff);
	MOV_I(c, R4, BPF_NOEXIST);
	CALL(c, BPF_FUNC_map_update_elem);
	ld_map(c, R1, m->fd);
	scr_addr(c, R2, koff);
	CALL(c, BPF_FUNC_map_lookup_elem);
	size_t got = JMP_I(c, BPF_JNE, R0, 0);

	stat_inc(c, STAT_MAP_FULL); /* no room for a new key: counted */
	*miss = JA(c);
	patch(c, got);
	patch(c, found);
}

/* A map's value read: into scratch off (any type) or r0 (ints, off < 0). */
static int gen_map_read(struct cg *c, struct node *n, int off)
{
	struct tp_map *m = &c->p->maps.v[n->slot];
	int save = c->scr, koff = scr_alloc(c, n, (int)m->key_size), err;
	size_t miss, done;

	if ((err = gen_key(c, n, koff)))
		return err;
	ld_map(c, R1, m->fd);
	scr_addr(c, R2, koff);
	CALL(c, BPF_FUNC_map_lookup_elem);
	miss = JMP_I(c, BPF_JEQ, R0, 0);
	if (off < 0) {
		if (m->agg == AG_AVG) {
			LDX(c, BPF_DW, R1, R0, 0);
			LDX(c, BPF_DW, R0, R0, 8);
			ALU_R(c, BPF_DIV, R0, R1);
		} else {
			LDX(c, BPF_DW, R0, R0, 0);
		}
		done = JA(c);
		patch(c, miss);
		MOV_I(c, R0, 0);
	} else {
		copy_to_scr(c, R0, 0, off, (int)m->val_size);
		done = JA(c);
		patch(c, miss);
		zero_scr(c, off, (int)m->val_size);
	}
	patch(c, done);
	c->scr = save;
	return 0;
}

/* ---- expressions ------------------------------------------------------------------ */

/* Two strings compared: r0 = 1 when equal (up to n bytes, or the NUL). */
static int gen_str_eq(struct cg *c, struct node *a, struct node *b, int64_t limit)
{
	int save = c->scr, size = a->ty.k == TY_STR ? str_size(c) : 0;
	VEC(size_t) ne = { 0 };
	size_t eq_jumps[2048];
	int neq = 0, err;

	if (b->k != N_STR && a->k == N_STR) {
		struct node *t = a;

		a = b;
		b = t;
	}
	int aoff = scr_alloc(c, a, size);

	if ((err = gen_value(c, a, aoff)))
		return err;
	if (limit <= 0 || limit > size)
		limit = size;
	if (b->k == N_STR) {
		/* against a literal: byte by byte with immediates */
		int n = b->strl + 1 < limit ? b->strl + 1 : (int)limit;

		for (int i = 0; i < n; i++) {
			LDX(c, BPF_B, R1, R7, aoff + i);
			vec_push(&ne, JMP_I(c, BPF_JNE, R1, i < b->strl ? (unsigned char)b->str[i] : 0));
		}
	} else {
		int boff = scr_alloc(c, b, size);

		if ((err = gen_value(c, b, boff)))
			return err;
		for (int i = 0; i < limit && neq < 2048; i++) {
			LDX(c, BPF_B, R1, R7, aoff + i);
			LDX(c, BPF_B, R2, R7, boff + i);
			vec_push(&ne, JMP_R(c, BPF_JNE, R1, R2));
			eq_jumps[neq++] = JMP_I(c, BPF_JEQ, R1, 0);
		}
	}
	size_t eq_pos = c->ins.n;

	MOV_I(c, R0, 1);
	size_t done = JA(c);

	for (size_t i = 0; i < ne.n; i++)
		patch(c, ne.v[i]);
	MOV_I(c, R0, 0);
	patch(c, done);
	/* equal up to a NUL in both */
	for (int i = 0; i < neq; i++)
		patch_to(c, eq_jumps[i], eq_pos);
	vec_free(&ne);
	c->scr = save;
	return 0;
}

static int cmp_op(int op, bool sign)
{
	switch (op) {
	case OP_EQ: return BPF_JEQ;
	case OP_NE: return BPF_JNE;
	case '<': return sign ? BPF_JSLT : BPF_JLT;
	case OP_LE: return sign ? BPF_JSLE : BPF_JLE;
	case '>': return sign ? BPF_JSGT : BPF_JGT;
	case OP_GE: return sign ? BPF_JSGE : BPF_JGE;
	}
	return -1;
}

static int gen_binop(struct cg *c, struct node *n)
{
	int err, slot, jop;
	bool sign = n->a->ty.sign && n->b->ty.sign;

	if (n->a->ty.k == TY_STR) {
		if ((err = gen_str_eq(c, n->a, n->b, 0)))
			return err;
		if (n->op == OP_NE)
			ALU_I(c, BPF_XOR, R0, 1);
		return 0;
	}
	if (n->op == OP_AND || n->op == OP_OR) {
		size_t shortcut, done;

		if ((err = gen_int(c, n->a)))
			return err;
		shortcut = JMP_I(c, n->op == OP_AND ? BPF_JEQ : BPF_JNE, R0, 0);
		if ((err = gen_int(c, n->b)))
			return err;
		done = JMP_I(c, n->op == OP_AND ? BPF_JEQ : BPF_JNE, R0, 0);
		MOV_I(c, R0, n->op == OP_AND ? 1 : 0);
		size_t end = JA(c);

		patch(c, shortcut);
		patch(c, done);
		MOV_I(c, R0, n->op == OP_AND ? 0 : 1);
		patch(c, end);
		return 0;
	}
	if ((err = gen_int(c, n->a)))
		return err;
	slot = frame_alloc(c);
	STX(c, BPF_DW, FP, R0, slot);
	if ((err = gen_int(c, n->b)))
		return err;
	MOV_R(c, R1, R0);
	LDX(c, BPF_DW, R0, FP, slot);
	frame_free(c);
	if ((jop = cmp_op(n->op, sign)) >= 0) {
		size_t t = JMP_R(c, jop, R0, R1);

		MOV_I(c, R0, 0);
		size_t end = JA(c);

		patch(c, t);
		MOV_I(c, R0, 1);
		patch(c, end);
		return 0;
	}
	alu(c, n->op, R0, R1, n->a->ty.sign);
	return 0;
}

/* One layout of a tracepoint field: its integer into r0, or (strings)
 * its text at scratch off. */
static void gen_fvar(struct cg *c, const struct node *n, const struct tp_fvar *v, int off)
{
	int size = v->size, sz = size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;

	if (v->is_str) {
		zero_scr(c, off, str_size(c));
		if (v->is_str == 2) { /* __data_loc: offset in the low 16 bits */
			LDX(c, BPF_W, R3, R6, v->off);
			ALU_I(c, BPF_AND, R3, 0xffff);
			ALU_R(c, BPF_ADD, R3, R6);
		} else {
			MOV_R(c, R3, R6);
			ALU_I(c, BPF_ADD, R3, v->off);
		}
		scr_addr(c, R1, off);
		MOV_I(c, R2, v->is_str == 1 && v->size < str_max(c) ? v->size : str_max(c));
		CALL(c, BPF_FUNC_probe_read_kernel_str);
		return;
	}
	if (v->off >= 8 && v->off % size == 0 && (size == 1 || size == 2 || size == 4 || size == 8)) {
		LDX(c, sz, R0, R6, v->off);
	} else {
		int t = frame_alloc(c);

		ST_I(c, BPF_DW, FP, t, 0);
		MOV_R(c, R1, FP);
		ALU_I(c, BPF_ADD, R1, t);
		MOV_I(c, R2, size > 8 ? 8 : size);
		MOV_R(c, R3, R6);
		ALU_I(c, BPF_ADD, R3, v->off);
		CALL(c, BPF_FUNC_probe_read_kernel);
		LDX(c, BPF_DW, R0, FP, t);
		frame_free(c);
	}
	trunc_int(c, R0, size * 8, v->sign);
	(void)n;
}

/* A tracepoint field: the layout of the attachment that fired. */
static int gen_field(struct cg *c, struct node *n, int off)
{
	VEC(size_t) to = { 0 }, ends = { 0 };

	if (n->nfvar <= 1) {
		gen_fvar(c, n, &n->fvar[0], off);
		return 0;
	}
	LDX(c, BPF_W, R1, R8, offsetof(struct tr_event, attach));
	for (int v = 0; v + 1 < n->nfvar; v++)
		for (int i = 0; i < n->fvar[v].nprobes; i++)
			vec_push(&to, JMP_I(c, BPF_JEQ, R1, (int32_t)n->fvar[v].probes[i]));
	gen_fvar(c, n, &n->fvar[n->nfvar - 1], off);
	vec_push(&ends, JA(c));
	size_t k = 0;

	for (int v = 0; v + 1 < n->nfvar; v++) {
		for (int i = 0; i < n->fvar[v].nprobes; i++)
			patch(c, to.v[k++]);
		gen_fvar(c, n, &n->fvar[v], off);
		vec_push(&ends, JA(c));
	}
	for (size_t i = 0; i < ends.n; i++)
		patch(c, ends.v[i]);
	vec_free(&to);
	vec_free(&ends);
	return 0;
}

/* A kernel struct's member: r0 = its address, then (ints, pointers) its
 * value read, or (char arrays) the string at scratch off. */
static int gen_kfield(struct cg *c, struct node *n, int off)
{
	int err;

	if ((err = gen_int(c, n->a)))
		return err;
	if (n->field_off)
		ALU_I(c, BPF_ADD, R0, n->field_off);
	switch (n->kfield) {
	case TKM_INT: case TKM_PTR: {
		int t = frame_alloc(c), size = n->field_size > 8 ? 8 : n->field_size;

		MOV_R(c, R3, R0);
		ST_I(c, BPF_DW, FP, t, 0);
		MOV_R(c, R1, FP);
		ALU_I(c, BPF_ADD, R1, t);
		MOV_I(c, R2, size);
		CALL(c, BPF_FUNC_probe_read);
		LDX(c, BPF_DW, R0, FP, t);
		frame_free(c);
		trunc_int(c, R0, n->ty.bits, n->ty.sign);
		return 0;
	}
	case TKM_CHARS: {
		int lim = n->field_size < str_max(c) ? n->field_size : str_max(c);

		MOV_R(c, R3, R0);
		zero_scr(c, off, str_size(c));
		scr_addr(c, R1, off);
		MOV_I(c, R2, lim);
		CALL(c, BPF_FUNC_probe_read_str);
		return 0;
	}
	default:
		return 0; /* the address */
	}
}

static int gen_int(struct cg *c, struct node *n)
{
	int err;

	if (c->err)
		return c->err;
	switch (n->k) {
	case N_INT:
		ld_imm64(c, R0, (uint64_t)n->num);
		return 0;
	case N_POSPARAM: {
		int64_t v;

		tp_const_int(c->p, n, &v);
		ld_imm64(c, R0, (uint64_t)v);
		return 0;
	}
	case N_BUILTIN:
		return gen_builtin(c, n);
	case N_VAR: {
		struct tp_var *v = &c->p->vars.v[n->slot];

		if (v->in_scratch)
			LDX(c, BPF_DW, R0, R7, v->off);
		else
			LDX(c, BPF_DW, R0, FP, v->off);
		return 0;
	}
	case N_MAP:
		return gen_map_read(c, n, -1);
	case N_BINOP:
		return gen_binop(c, n);
	case N_UNOP:
		if ((err = gen_int(c, n->a)))
			return err;
		switch (n->op) {
		case '*': { /* a typed pointer read */
			int t = frame_alloc(c), es = n->a->ty.elem_size;

			if (n->ty.k == TY_STRUCT) {
				frame_free(c);
				break;
			}
			MOV_R(c, R3, R0);
			ST_I(c, BPF_DW, FP, t, 0);
			MOV_R(c, R1, FP);
			ALU_I(c, BPF_ADD, R1, t);
			MOV_I(c, R2, es > 8 ? 8 : es);
			CALL(c, BPF_FUNC_probe_read);
			LDX(c, BPF_DW, R0, FP, t);
			frame_free(c);
			trunc_int(c, R0, n->ty.bits, n->ty.sign);
			break;
		}
		case '-': ALU_I(c, BPF_NEG, R0, 0); break;
		case '~': ALU_I(c, BPF_XOR, R0, -1); break;
		case '!': {
			size_t z = JMP_I(c, BPF_JEQ, R0, 0);

			MOV_I(c, R0, 0);
			size_t e = JA(c);

			patch(c, z);
			MOV_I(c, R0, 1);
			patch(c, e);
			break;
		}
		default: break;
		}
		return 0;
	case N_TERNARY: {
		size_t els, end;

		if ((err = gen_int(c, n->a)))
			return err;
		els = JMP_I(c, BPF_JEQ, R0, 0);
		if ((err = gen_int(c, n->b)))
			return err;
		end = JA(c);
		patch(c, els);
		if ((err = gen_int(c, n->c)))
			return err;
		patch(c, end);
		return 0;
	}
	case N_CAST:
		if ((err = gen_int(c, n->a)))
			return err;
		trunc_int(c, R0, n->ty.bits, n->ty.sign);
		return 0;
	case N_FIELD:
		if (n->kfield)
			return gen_kfield(c, n, -1);
		if (n->nfvar)
			return gen_field(c, n, -1);
		{
			int save = c->scr, off = scr_alloc(c, n, n->a->ty.size);

			if ((err = gen_value(c, n->a, off)))
				return err;
			LDX(c, BPF_DW, R0, R7, off + n->a->ty.off[n->num]);
			c->scr = save;
		}
		return 0;
	case N_INDEX: { /* p[i]: the element read (structs: its address) */
		int slot = frame_alloc(c), es = n->num == 1 ? 1 : n->a->ty.elem_size;

		if (n->num == 1) { /* a char array member: its address */
			if ((err = gen_int(c, n->a->a)))
				return err;
			if (n->a->field_off)
				ALU_I(c, BPF_ADD, R0, n->a->field_off);
		} else if ((err = gen_int(c, n->a))) {
			return err;
		}
		STX(c, BPF_DW, FP, R0, slot);
		if ((err = gen_int(c, n->b)))
			return err;
		if (es > 1)
			ALU_I(c, BPF_MUL, R0, es);
		LDX(c, BPF_DW, R3, FP, slot);
		ALU_R(c, BPF_ADD, R3, R0);
		if (n->ty.k == TY_STRUCT) {
			MOV_R(c, R0, R3);
			frame_free(c);
			return 0;
		}
		ST_I(c, BPF_DW, FP, slot, 0);
		MOV_R(c, R1, FP);
		ALU_I(c, BPF_ADD, R1, slot);
		MOV_I(c, R2, es > 8 ? 8 : es);
		CALL(c, BPF_FUNC_probe_read);
		LDX(c, BPF_DW, R0, FP, slot);
		frame_free(c);
		trunc_int(c, R0, n->ty.bits, n->ty.sign);
		return 0;
	}
	case N_CALL:
		switch (n->op) {
		case F_STRNCMP:
			if ((err = gen_str_eq(c, n->kids.v[0], n->kids.v[1], n->num)))
				return err;
			ALU_I(c, BPF_XOR, R0, 1); /* 0 when equal, as strncmp */
			return 0;
		case F_STRCONTAINS: { /* is needle in haystack: a bounded double loop */
			int save = c->scr, sz = str_size(c);
			int h = scr_alloc(c, n, sz), nd = scr_alloc(c, n, sz);

			if ((err = gen_value(c, n->kids.v[0], h)) || (err = gen_value(c, n->kids.v[1], nd)))
				return err;
			MOV_I(c, R0, 0);
			MOV_I(c, R2, 0);
			size_t outer = c->ins.n;
			size_t o_end = JMP_I(c, BPF_JGE, R2, sz);

			MOV_I(c, R3, 0);
			size_t inner = c->ins.n;
			size_t i_full = JMP_I(c, BPF_JGE, R3, sz);

			MOV_R(c, R4, R7);
			ALU_I(c, BPF_ADD, R4, nd);
			ALU_R(c, BPF_ADD, R4, R3);
			LDX(c, BPF_B, R5, R4, 0);
			size_t n_end = JMP_I(c, BPF_JEQ, R5, 0);

			MOV_R(c, R4, R2);
			ALU_R(c, BPF_ADD, R4, R3);
			size_t past = JMP_I(c, BPF_JGE, R4, sz);

			ALU_R(c, BPF_ADD, R4, R7);
			ALU_I(c, BPF_ADD, R4, h);
			LDX(c, BPF_B, R1, R4, 0);
			size_t h_end = JMP_I(c, BPF_JEQ, R1, 0);
			size_t differ = JMP_R(c, BPF_JNE, R1, R5);

			ALU_I(c, BPF_ADD, R3, 1);
			patch_to(c, JA(c), inner);
			patch(c, past); /* the next start */
			patch(c, differ);
			ALU_I(c, BPF_ADD, R2, 1);
			patch_to(c, JA(c), outer);
			patch(c, i_full);
			patch(c, n_end); /* the whole needle matched */
			MOV_I(c, R0, 1);
			patch(c, o_end);
			patch(c, h_end);
			c->scr = save;
			return 0;
		}
		case F_SIZEOF:
			MOV_I(c, R0, (int32_t)n->num);
			return 0;
		case F_REG:
			LDX(c, BPF_DW, R0, R6, (int)n->num);
			return 0;
		case F_BSWAP:
			if ((err = gen_int(c, n->kids.v[0])))
				return err;
			emit(c, BPF_ALU | BPF_END | BPF_TO_BE, R0, 0, 0, n->ty.bits ? n->ty.bits : 64);
			return 0;
		case F_HAS_KEY: {
			struct node *m = n->kids.v[0];
			struct tp_map *mp = &c->p->maps.v[m->slot];
			int save = c->scr, koff = scr_alloc(c, m, (int)mp->key_size);

			if ((err = gen_key(c, m, koff)))
				return err;
			ld_map(c, R1, mp->fd);
			scr_addr(c, R2, koff);
			CALL(c, BPF_FUNC_map_lookup_elem);
			size_t z = JMP_I(c, BPF_JEQ, R0, 0);

			MOV_I(c, R0, 1);
			patch(c, z);
			c->scr = save;
			return 0;
		}
		default:
			break;
		}
		/* fall through */
	default:
		if (n->ty.k == TY_KSYM || n->ty.k == TY_PROBE || n->ty.k == TY_FUNCNAME) {
			int save = c->scr, off = scr_alloc(c, n, 8);

			if ((err = gen_value(c, n, off)))
				return err;
			LDX(c, BPF_DW, R0, R7, off);
			c->scr = save;
			return 0;
		}
		return ERRN(c, n, "not an integer here");
	}
}

/* A string at off: a literal's bytes, zero-padded. */
static void gen_str_lit(struct cg *c, const char *s, int len, int off, int size)
{
	for (int i = 0; i < size; i += 8) {
		uint64_t w = 0;

		for (int j = 0; j < 8 && i + j < size - 1; j++)
			if (i + j < len)
				w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
		if (!w) {
			ST_I(c, BPF_DW, R7, off + i, 0);
		} else {
			ld_imm64(c, R1, w);
			STX(c, BPF_DW, R7, R1, off + i);
		}
	}
}

static int str_size(struct cg *c)
{
	return tp_str_storage(c->p);
}

/* What a string holds at most, its NUL included (max_strlen). */
static int str_max(struct cg *c)
{
	return c->p->strlen_max;
}

/* n's value, as stored (struct type size), at scratch off. */
static int gen_value(struct cg *c, struct node *n, int off)
{
	int err, size = n->ty.size;

	if (c->err)
		return c->err;
	switch (n->ty.k) {
	case TY_INT:
		if ((err = gen_int(c, n)))
			return err;
		STX(c, BPF_DW, R7, R0, off);
		return 0;
	case TY_KSYM:
		if (n->k == N_CALL) {
			if ((err = gen_int(c, n->kids.v[0])))
				return err;
		} else if ((err = gen_int(c, n))) {
			return err;
		}
		STX(c, BPF_DW, R7, R0, off);
		return 0;
	case TY_PROBE: case TY_FUNCNAME:
		if (n->k == N_BUILTIN) {
			if ((err = gen_builtin(c, n)))
				return err;
			STX(c, BPF_DW, R7, R0, off);
			return 0;
		}
		break;
	case TY_KSTACK:
		if (n->k == N_BUILTIN || n->k == N_CALL) {
			if (user_block(c))
				MOV_I(c, R0, STACK_LOST);
			else
				emit(c, BPF_LDX | BPF_MEM | BPF_W, R0, R8, offsetof(struct tr_event, kstack), 0);
			STX(c, BPF_DW, R7, R0, off);
			return 0;
		}
		break;
	case TY_USTACK: case TY_USYM:
		if (n->k == N_BUILTIN || n->k == N_CALL) {
			if (n->ty.k == TY_USTACK) {
				if (user_block(c))
					MOV_I(c, R0, STACK_LOST);
				else
					LDX(c, BPF_W, R0, R8, offsetof(struct tr_event, ustack));
			} else if (n->k == N_BUILTIN) { /* func in profile: the sampled ip */
				LDX(c, BPF_DW, R0, R6, offsetof(struct pt_regs, ip));
			} else if ((err = gen_int(c, n->kids.v[0]))) {
				return err;
			}
			STX(c, BPF_DW, R7, R0, off);
			CALL(c, BPF_FUNC_get_current_pid_tgid);
			ALU_I(c, BPF_RSH, R0, 32);
			STX(c, BPF_DW, R7, R0, off + 8);
			return 0;
		}
		break;
	case TY_INET: {
		struct node *addr = n->kids.v[n->kids.n - 1];

		if (n->kids.n == 2) {
			if ((err = gen_int(c, n->kids.v[0])))
				return err;
		} else {
			MOV_I(c, R0, 2); /* AF_INET */
		}
		STX(c, BPF_DW, R7, R0, off);
		ST_I(c, BPF_DW, R7, off + 8, 0);
		ST_I(c, BPF_DW, R7, off + 16, 0);
		if (addr->ty.k == TY_STR) /* 16 bytes: an IPv6 address read as a string */
			return gen_value(c, addr, off + 8) ? c->err : 0;
		if ((err = gen_int(c, addr)))
			return err;
		STX(c, BPF_W, R7, R0, off + 8);
		return 0;
	}
	case TY_BUF: { /* buf(p, n): the length, then n bytes */
		struct node *a = n->kids.v[0];
		int len = (int)n->num;

		if (a->ty.k == TY_STR) {
			ST_I(c, BPF_DW, R7, off, len);
			return gen_value(c, a, off + 8);
		}
		if ((err = gen_int(c, a)))
			return err;
		MOV_R(c, R3, R0);
		ST_I(c, BPF_DW, R7, off, len);
		zero_scr(c, off + 8, (len + 7) & ~7);
		scr_addr(c, R1, off + 8);
		MOV_I(c, R2, len);
		CALL(c, BPF_FUNC_probe_read);
		return 0;
	}
	case TY_TIMESTAMP:
		if ((err = gen_int(c, n->kids.v[1])))
			return err;
		STX(c, BPF_DW, R7, R0, off);
		return 0;
	case TY_STR:
		switch (n->k) {
		case N_STR:
			gen_str_lit(c, n->str, n->strl, off, str_size(c));
			return 0;
		case N_BUILTIN: /* comm */
			zero_scr(c, off, str_size(c));
			scr_addr(c, R1, off);
			MOV_I(c, R2, 16);
			CALL(c, BPF_FUNC_get_current_comm);
			return 0;
		case N_CALL: { /* str() */
			struct node *a = n->kids.v[0];
			int64_t lim = str_max(c);

			if (a->ty.k == TY_STR)
				return gen_value(c, a, off);
			if (n->kids.n > 1) {
				int64_t v;

				if (tp_const_int(c->p, n->kids.v[1], &v)) {
					if (v + 1 < lim)
						lim = v + 1; /* n characters and the NUL */
					if (lim < 1)
						lim = 1;
				}
			}
			if ((err = gen_int(c, a)))
				return err;
			MOV_R(c, R3, R0);
			zero_scr(c, off, str_size(c));
			scr_addr(c, R1, off);
			MOV_I(c, R2, (int32_t)lim);
			CALL(c, BPF_FUNC_probe_read_str);
			return 0;
		}
		case N_FIELD: /* args.FIELD or a kernel struct's char array (tuples: below) */
			if (n->kfield)
				return gen_kfield(c, n, off);
			if (n->nfvar)
				return gen_field(c, n, off);
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
	/* the kinds of node that hold any type */
	switch (n->k) {
	case N_VAR: {
		struct tp_var *v = &c->p->vars.v[n->slot];

		if (v->in_scratch)
			copy_to_scr(c, R7, v->off, off, size);
		else {
			LDX(c, BPF_DW, R0, FP, v->off);
			STX(c, BPF_DW, R7, R0, off);
		}
		return 0;
	}
	case N_MAP:
		return gen_map_read(c, n, off);
	case N_TERNARY: {
		size_t els, end;

		if ((err = gen_int(c, n->a)))
			return err;
		els = JMP_I(c, BPF_JEQ, R0, 0);
		if ((err = gen_value(c, n->b, off)))
			return err;
		end = JA(c);
		patch(c, els);
		if ((err = gen_value(c, n->c, off)))
			return err;
		patch(c, end);
		return 0;
	}
	case N_TUPLE:
		for (int i = 0; i < n->ty.nelem; i++)
			if ((err = gen_value(c, n->kids.v[i], off + n->ty.off[i])))
				return err;
		return 0;
	case N_FIELD: { /* a tuple's element */
		int save = c->scr, toff = scr_alloc(c, n, n->a->ty.size);

		if ((err = gen_value(c, n->a, toff)))
			return err;
		copy_to_scr(c, R7, toff + n->a->ty.off[n->num], off, (size + 7) & ~7);
		c->scr = save;
		return 0;
	}
	default:
		return ERRN(c, n, "this value cannot be used here yet");
	}
}

/* ---- statements --------------------------------------------------------------------- */

/* A record: header (format index, cpu) and the call's arguments. */
static int gen_record(struct cg *c, struct node *n, int first_arg, bool ret_after)
{
	struct tp_fmt *f = &c->p->fmts.v[n->slot];
	int save = c->scr, off = scr_alloc(c, n, (int)f->size), err;

	ST_I(c, BPF_W, R7, off, n->slot);
	ST_I(c, BPF_W, R7, off + 4, 0);
	for (int i = 0; i < f->nargs; i++)
		if ((err = gen_value(c, n->kids.v[first_arg + i], off + f->off[i])))
			return err;
	ring_output(c, off, (int)f->size);
	c->scr = save;
	if (ret_after)
		vec_push(&c->returns, JA(c));
	return 0;
}

static void gen_log2(struct cg *c)
{
	/* r0 = bpftrace's hist bucket of r1: (..,0) 0, 0 1, 1 2, [2,4) 3 ... */
	size_t neg = JMP_I(c, BPF_JSLT, R1, 0), zero = JMP_I(c, BPF_JEQ, R1, 0);

	MOV_I(c, R0, 2);
	for (int sh = 32; sh >= 1; sh /= 2) {
		MOV_R(c, R2, R1);
		ALU_I(c, BPF_RSH, R2, sh);
		size_t skip = JMP_I(c, BPF_JEQ, R2, 0);

		MOV_R(c, R1, R2);
		ALU_I(c, BPF_ADD, R0, sh);
		patch(c, skip);
	}
	size_t end = JA(c);

	patch(c, neg);
	MOV_I(c, R0, 0);
	size_t end2 = JA(c);

	patch(c, zero);
	MOV_I(c, R0, 1);
	patch(c, end);
	patch(c, end2);
}

static int gen_agg(struct cg *c, struct node *mapref, struct node *call)
{
	struct tp_map *m = &c->p->maps.v[mapref->slot];
	int save = c->scr, vslot = frame_alloc(c), err;
	int koff = scr_alloc(c, mapref, (int)m->key_size), voff = scr_alloc(c, mapref, (int)m->val_size);
	size_t miss;

	if (call->kids.n) {
		if ((err = gen_int(c, call->kids.v[0])))
			return err;
	} else {
		MOV_I(c, R0, 1);
	}
	STX(c, BPF_DW, FP, R0, vslot);
	if ((err = gen_key(c, mapref, koff)))
		return err;
	if (m->agg == AG_HIST || m->agg == AG_LHIST) {
		LDX(c, BPF_DW, R1, FP, vslot);
		if (m->agg == AG_HIST) {
			gen_log2(c);
		} else {
			/* below lo: 0; at or above hi: the last; else (v - lo) / step + 1 */
			ld_imm64(c, R2, (uint64_t)m->lo);
			size_t lo = JMP_R(c, BPF_JSLT, R1, R2);

			ld_imm64(c, R2, (uint64_t)m->hi);
			size_t hi = JMP_R(c, BPF_JSGE, R1, R2);

			MOV_R(c, R0, R1);
			ld_imm64(c, R2, (uint64_t)m->lo);
			ALU_R(c, BPF_SUB, R0, R2);
			ld_imm64(c, R2, (uint64_t)m->step);
			ALU_R(c, BPF_DIV, R0, R2);
			ALU_I(c, BPF_ADD, R0, 1);
			size_t e1 = JA(c);

			patch(c, lo);
			MOV_I(c, R0, 0);
			size_t e2 = JA(c);

			patch(c, hi);
			ld_imm64(c, R0, (uint64_t)((m->hi - m->lo) / m->step + 1));
			patch(c, e1);
			patch(c, e2);
		}
		STX(c, BPF_DW, R7, R0, koff + (int)m->key_size - 8);
	}
	lookup_or_init(c, m, koff, voff, &miss);
	LDX(c, BPF_DW, R1, FP, vslot);
	switch (m->agg) {
	case AG_COUNT: case AG_HIST: case AG_LHIST:
		LDX(c, BPF_DW, R2, R0, 0);
		ALU_I(c, BPF_ADD, R2, 1);
		STX(c, BPF_DW, R0, R2, 0);
		break;
	case AG_SUM:
		LDX(c, BPF_DW, R2, R0, 0);
		ALU_R(c, BPF_ADD, R2, R1);
		STX(c, BPF_DW, R0, R2, 0);
		break;
	case AG_AVG: case AG_STATS:
		LDX(c, BPF_DW, R2, R0, 0);
		ALU_I(c, BPF_ADD, R2, 1);
		STX(c, BPF_DW, R0, R2, 0);
		LDX(c, BPF_DW, R2, R0, 8);
		ALU_R(c, BPF_ADD, R2, R1);
		STX(c, BPF_DW, R0, R2, 8);
		break;
	case AG_MIN: case AG_MAX: {
		/* {value, set}: the first value, then a smaller (larger) one */
		LDX(c, BPF_DW, R2, R0, 8);
		size_t first = JMP_I(c, BPF_JEQ, R2, 0);

		LDX(c, BPF_DW, R2, R0, 0);
		size_t keep = JMP_R(c, m->agg == AG_MIN ? BPF_JSLE : BPF_JSGE, R2, R1);

		patch(c, first);
		STX(c, BPF_DW, R0, R1, 0);
		ST_I(c, BPF_DW, R0, 8, 1);
		patch(c, keep);
		break;
	}
	default:
		break;
	}
	patch(c, miss);
	frame_free(c);
	c->scr = save;
	return 0;
}

/* @m[k] = v, @m[k] op= v, @m[k]++ */
static int gen_map_assign(struct cg *c, struct node *t, struct node *v, int op, int64_t delta)
{
	struct tp_map *m = &c->p->maps.v[t->slot];
	int save = c->scr, err;
	int koff = scr_alloc(c, t, (int)m->key_size), voff = scr_alloc(c, t, (int)m->val_size);

	if (!op) {
		if ((err = gen_value(c, v, voff)) || (err = gen_key(c, t, koff)))
			return err;
		ld_map(c, R1, m->fd);
		scr_addr(c, R2, koff);
		scr_addr(c, R3, voff);
		MOV_I(c, R4, BPF_ANY);
		CALL(c, BPF_FUNC_map_update_elem);
		count_failure(c, STAT_MAP_FULL);
		c->scr = save;
		return 0;
	}
	int vslot = frame_alloc(c);
	size_t miss;

	if (v) {
		if ((err = gen_int(c, v)))
			return err;
	} else {
		ld_imm64(c, R0, (uint64_t)delta);
	}
	STX(c, BPF_DW, FP, R0, vslot);
	if ((err = gen_key(c, t, koff)))
		return err;
	lookup_or_init(c, m, koff, voff, &miss);
	LDX(c, BPF_DW, R1, FP, vslot);
	if ((op == '+' || op == '-') && !m->percpu) {
		if (op == '-')
			ALU_I(c, BPF_NEG, R1, 0);
		emit(c, BPF_STX | BPF_ATOMIC | BPF_DW, R0, R1, 0, BPF_ADD);
	} else {
		LDX(c, BPF_DW, R2, R0, 0);
		alu(c, op, R2, R1, false);
		STX(c, BPF_DW, R0, R2, 0);
	}
	patch(c, miss);
	frame_free(c);
	c->scr = save;
	return 0;
}

static int gen_var_assign(struct cg *c, struct node *t, struct node *v, int op, int64_t delta)
{
	struct tp_var *var = &c->p->vars.v[t->slot];
	int err;

	if (!op) {
		if (var->in_scratch)
			return gen_value(c, v, var->off);
		if ((err = gen_int(c, v)))
			return err;
		STX(c, BPF_DW, FP, R0, var->off);
		return 0;
	}
	if (v) {
		if ((err = gen_int(c, v)))
			return err;
		MOV_R(c, R1, R0);
	} else {
		ld_imm64(c, R1, (uint64_t)delta);
	}
	if (var->in_scratch)
		LDX(c, BPF_DW, R0, R7, var->off);
	else
		LDX(c, BPF_DW, R0, FP, var->off);
	alu(c, op, R0, R1, var->ty.sign);
	if (var->in_scratch)
		STX(c, BPF_DW, R7, R0, var->off);
	else
		STX(c, BPF_DW, FP, R0, var->off);
	return 0;
}

static int gen_block(struct cg *c, struct node *n)
{
	int err;

	for (size_t i = 0; i < n->kids.n; i++)
		if ((err = gen_stmt(c, n->kids.v[i])))
			return err;
	return 0;
}

static int gen_call_stmt(struct cg *c, struct node *n)
{
	int err;

	switch (n->op) {
	case F_PRINTF: case F_SYSTEM: case F_CAT: case F_ERRORF:
		return gen_record(c, n, 1, false);
	case F_TIME: case F_PRINT: case F_CLEAR: case F_ZERO:
		if (n->op == F_PRINT && c->p->fmts.v[n->slot].action == TR_ACT_PRINT_VAL)
			return gen_record(c, n, 0, false);
		return gen_record(c, n, 0, false);
	case F_EXIT: {
		struct tp_fmt *f = &c->p->fmts.v[n->slot];
		int save = c->scr, off = scr_alloc(c, n, (int)f->size);

		if (n->kids.n) {
			if ((err = gen_int(c, n->kids.v[0])))
				return err;
		} else {
			MOV_I(c, R0, 0);
		}
		STX(c, BPF_DW, R7, R0, off + 8);
		ST_I(c, BPF_W, R7, off, n->slot);
		ST_I(c, BPF_W, R7, off + 4, 0);
		ring_output(c, off, (int)f->size);
		c->scr = save;
		vec_push(&c->returns, JA(c));
		return 0;
	}
	case F_JOIN: {
		/* the array's strings, up to the first NULL, into the record */
		struct tp_fmt *f = &c->p->fmts.v[n->slot];
		int save = c->scr, off = scr_alloc(c, n, (int)f->size), ssz = str_size(c);
		int base = frame_alloc(c), ptr = frame_alloc(c);
		VEC(size_t) stop = { 0 };

		if ((err = gen_int(c, n->kids.v[0])))
			return err;
		STX(c, BPF_DW, FP, R0, base);
		ST_I(c, BPF_W, R7, off, n->slot);
		ST_I(c, BPF_W, R7, off + 4, 0);
		ST_I(c, BPF_DW, R7, off + 8, 0);
		for (int i = 0; i < TR_JOIN_MAX; i++) {
			ST_I(c, BPF_DW, FP, ptr, 0);
			MOV_R(c, R1, FP);
			ALU_I(c, BPF_ADD, R1, ptr);
			MOV_I(c, R2, 8);
			LDX(c, BPF_DW, R3, FP, base);
			ALU_I(c, BPF_ADD, R3, 8 * i);
			CALL(c, BPF_FUNC_probe_read);
			LDX(c, BPF_DW, R3, FP, ptr);
			vec_push(&stop, JMP_I(c, BPF_JEQ, R3, 0));
			scr_addr(c, R1, off + 16 + i * ssz);
			MOV_I(c, R2, ssz);
			CALL(c, BPF_FUNC_probe_read_str);
			ST_I(c, BPF_DW, R7, off + 8, i + 1);
		}
		for (size_t i = 0; i < stop.n; i++)
			patch(c, stop.v[i]);
		vec_free(&stop);
		ring_output(c, off, (int)f->size);
		frame_free(c);
		frame_free(c);
		c->scr = save;
		return 0;
	}
	case F_DELETE: {
		struct node *m = n->kids.v[0];
		struct tp_map *mp = &c->p->maps.v[m->slot];
		int save = c->scr, koff = scr_alloc(c, m, (int)mp->key_size);

		if (mp->agg == AG_HIST || mp->agg == AG_LHIST)
			return ERRN(c, n, "delete() of one key of a histogram is not supported yet (clear() it)");
		if ((err = gen_key(c, m, koff)))
			return err;
		ld_map(c, R1, mp->fd);
		scr_addr(c, R2, koff);
		CALL(c, BPF_FUNC_map_delete_elem);
		c->scr = save;
		return 0;
	}
	case F_SIGNAL:
		if ((err = gen_int(c, n->kids.v[0])))
			return err;
		MOV_R(c, R1, R0);
		CALL(c, BPF_FUNC_send_signal);
		return 0;
	default:
		/* a value computed for nothing */
		if (n->ty.k == TY_INT)
			return gen_int(c, n);
		return 0;
	}
}

static int gen_stmt(struct cg *c, struct node *n)
{
	int err;

	if (c->err)
		return c->err;
	switch (n->k) {
	case N_BLOCK:
		return gen_block(c, n);
	case N_IF: {
		size_t els, end;

		if ((err = gen_int(c, n->a)))
			return err;
		els = JMP_I(c, BPF_JEQ, R0, 0);
		if ((err = gen_block(c, n->b)))
			return err;
		if (n->c) {
			end = JA(c);
			patch(c, els);
			if ((err = gen_block(c, n->c)))
				return err;
			patch(c, end);
		} else {
			patch(c, els);
		}
		return 0;
	}
	case N_WHILE: {
		struct loop l = { 0 }, *outer = c->loop;
		size_t top = c->ins.n, exit_j;

		if ((err = gen_int(c, n->a)))
			return err;
		exit_j = JMP_I(c, BPF_JEQ, R0, 0);
		c->loop = &l;
		err = gen_block(c, n->b);
		c->loop = outer;
		if (err)
			return err;
		size_t back = JA(c);

		patch_to(c, back, top);
		patch(c, exit_j);
		for (size_t i = 0; i < l.breaks.n; i++)
			patch(c, l.breaks.v[i]);
		for (size_t i = 0; i < l.continues.n; i++)
			patch_to(c, l.continues.v[i], top);
		vec_free(&l.breaks);
		vec_free(&l.continues);
		return 0;
	}
	case N_FOR: {
		struct pending_cb cb = { .n = n };
		struct tp_map *m = &c->p->maps.v[n->b->slot];

		ld_map(c, R1, m->fd);
		cb.ld_at = emit(c, BPF_LD | BPF_DW | BPF_IMM, R2, BPF_PSEUDO_FUNC, 0, 0);
		emit(c, 0, 0, 0, 0, 0);
		MOV_I(c, R3, 0);
		MOV_I(c, R4, 0);
		CALL(c, BPF_FUNC_for_each_map_elem);
		vec_push(&c->callbacks, cb);
		return 0;
	}
	case N_UNROLL:
		for (int64_t i = 0; i < n->num; i++)
			if ((err = gen_block(c, n->b)))
				return err;
		return 0;
	case N_BREAK:
		vec_push(&c->loop->breaks, JA(c));
		return 0;
	case N_CONTINUE:
		vec_push(&c->loop->continues, JA(c));
		return 0;
	case N_RETURN: /* in a for loop's body: the loop ends */
		if (c->in_callback)
			vec_push(&c->cb_loop->breaks, JA(c));
		else
			vec_push(&c->returns, JA(c));
		return 0;
	case N_LET:
		if (!n->b) {
			struct tp_var *v = &c->p->vars.v[n->a->slot];

			if (v->in_scratch)
				zero_scr(c, v->off, v->ty.size);
			else
				ST_I(c, BPF_DW, FP, v->off, 0);
			return 0;
		}
		return gen_var_assign(c, n->a, n->b, 0, 0);
	case N_EXPR: {
		struct node *e = n->a;

		if (e->k == N_INCDEC) {
			struct node *t = e->a;
			int64_t d = e->op == '+' ? 1 : -1;

			if (t->k == N_VAR)
				return gen_var_assign(c, t, NULL, '+', d);
			return gen_map_assign(c, t, NULL, '+', d);
		}
		if (e->k == N_CALL)
			return gen_call_stmt(c, e);
		if (e->ty.k == TY_INT)
			return gen_int(c, e);
		return 0;
	}
	case N_ASSIGN: {
		struct node *t = n->a, *v = n->b;

		if (t->k == N_VAR)
			return gen_var_assign(c, t, v, n->op, 0);
		if (v->k == N_CALL && v->op >= F_COUNT && v->op <= F_LHIST)
			return gen_agg(c, t, v);
		return gen_map_assign(c, t, v, n->op, 0);
	}
	default:
		return ERRN(c, n, "not a statement");
	}
}

/* r7 = this CPU's scratch, r8 = its event; jumps (to patch) when missing. */
static void lookup_slots(struct cg *c, size_t *fail1, size_t *fail2)
{
	ST_I(c, BPF_W, FP, -8, c->kind == TK_PERF ? 1 : 0);
	ST_I(c, BPF_W, FP, -4, 0);
	ld_map(c, R1, c->fds->scratch);
	MOV_R(c, R2, FP);
	ALU_I(c, BPF_ADD, R2, -8);
	CALL(c, BPF_FUNC_map_lookup_elem);
	*fail1 = JMP_I(c, BPF_JEQ, R0, 0);
	MOV_R(c, R7, R0);
	ld_map(c, R1, c->fds->event);
	MOV_R(c, R2, FP);
	ALU_I(c, BPF_ADD, R2, -8);
	CALL(c, BPF_FUNC_map_lookup_elem);
	*fail2 = JMP_I(c, BPF_JEQ, R0, 0);
	MOV_R(c, R8, R0);
}

/* A for loop's body as a callback: (map, key, value, ctx) -> 0 to go on,
 * 1 to stop. The loop variable gets the entry's key and value. */
static int gen_callback(struct cg *c, const struct pending_cb *cb)
{
	struct node *n = cb->n;
	struct tp_map *m = &c->p->maps.v[n->b->slot];
	struct tp_var *v = &c->p->vars.v[n->a->slot];
	struct loop l = { .callback = true }, *outer = c->loop, *outer_cb = c->cb_loop;
	int saved_frame = c->frame, saved_max = c->frame_max, err;
	size_t f1, f2, start = c->ins.n;
	int ksize = m->npart <= 0 ? 8 : (int)m->key.size;
	int vsize = m->agg == AG_NONE ? (int)((m->val.size + 7) & ~7) : 8;

	c->ins.v[cb->ld_at].imm = (int32_t)(start - cb->ld_at - 1);
	vec_push(&c->subprogs, (uint32_t)start);
	c->frame = 8;
	c->frame_max = 8;
	MOV_R(c, R6, R2); /* the key */
	MOV_R(c, R9, R3); /* the value */
	lookup_slots(c, &f1, &f2);
	copy_to_scr(c, R6, 0, v->off + v->ty.off[0], ksize);
	if (m->percpu) {
		/* an aggregation's value is every CPU's (the callback is handed
		 * this CPU's): summed (count, sum, avg), or the least/greatest
		 * set one (min, max) */
		int voff = v->off + v->ty.off[1], acc = frame_alloc(c), cnt = frame_alloc(c);
		bool minmax = m->agg == AG_MIN || m->agg == AG_MAX;

		ST_I(c, BPF_DW, FP, acc, 0);
		ST_I(c, BPF_DW, FP, cnt, 0);
		for (int cpu = 0; cpu < c->ncpus; cpu++) {
			ld_map(c, R1, m->fd);
			MOV_R(c, R2, R6);
			MOV_I(c, R3, cpu);
			CALL(c, BPF_FUNC_map_lookup_percpu_elem);
			size_t none = JMP_I(c, BPF_JEQ, R0, 0);

			if (minmax) {
				LDX(c, BPF_DW, R1, R0, 8); /* set? */
				size_t unset = JMP_I(c, BPF_JEQ, R1, 0);

				LDX(c, BPF_DW, R1, R0, 0);
				LDX(c, BPF_DW, R2, FP, cnt);
				size_t first = JMP_I(c, BPF_JEQ, R2, 0);

				LDX(c, BPF_DW, R2, FP, acc);
				size_t keep = JMP_R(c, m->agg == AG_MIN ? BPF_JSLE : BPF_JSGE, R2, R1);

				patch(c, first);
				STX(c, BPF_DW, FP, R1, acc);
				ST_I(c, BPF_DW, FP, cnt, 1);
				patch(c, keep);
				patch(c, unset);
			} else {
				LDX(c, BPF_DW, R1, R0, 0);
				LDX(c, BPF_DW, R2, FP, acc);
				ALU_R(c, BPF_ADD, R2, R1);
				STX(c, BPF_DW, FP, R2, acc);
				if (m->agg == AG_AVG || m->agg == AG_STATS) {
					LDX(c, BPF_DW, R1, R0, 8);
					LDX(c, BPF_DW, R2, FP, cnt);
					ALU_R(c, BPF_ADD, R2, R1);
					STX(c, BPF_DW, FP, R2, cnt);
				}
			}
			patch(c, none);
		}
		LDX(c, BPF_DW, R0, FP, acc);
		if (m->agg == AG_AVG) { /* {count, total}: the average */
			LDX(c, BPF_DW, R0, FP, cnt);
			LDX(c, BPF_DW, R1, FP, acc);
			size_t zero = JMP_I(c, BPF_JEQ, R1, 0);

			ALU_R(c, BPF_DIV, R0, R1);
			patch(c, zero);
		}
		STX(c, BPF_DW, R7, R0, voff);
		frame_free(c);
		frame_free(c);
	} else {
		copy_to_scr(c, R9, 0, v->off + v->ty.off[1], vsize);
	}
	c->loop = &l;
	c->cb_loop = &l;
	c->in_callback = true;
	err = gen_block(c, n->c);
	c->in_callback = false;
	c->loop = outer;
	c->cb_loop = outer_cb;
	if (err)
		return err;
	/* continue */
	patch(c, f1);
	patch(c, f2);
	for (size_t i = 0; i < l.continues.n; i++)
		patch(c, l.continues.v[i]);
	MOV_I(c, R0, 0);
	emit(c, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (l.breaks.n) { /* (an exit nothing jumps to would be refused) */
		for (size_t i = 0; i < l.breaks.n; i++)
			patch(c, l.breaks.v[i]);
		MOV_I(c, R0, 1);
		emit(c, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	vec_free(&l.breaks);
	vec_free(&l.continues);
	if (c->frame_max > FRAME_MAX)
		return ERRN(c, n, "the loop's body needs more than %d bytes of BPF stack", FRAME_MAX);
	c->frame = saved_frame;
	c->frame_max = saved_max;
	return 0;
}

int tp_codegen(struct tp_program *p, int block, int kind, const struct tp_fds *fds, void **insns, size_t *n,
	       uint32_t **subprogs, size_t *nsubprogs)
{
	struct cg c = { .p = p, .b = &p->blocks.v[block], .kind = kind, .fds = fds };
	struct tp_block *b = c.b;
	size_t fail1, fail2, fail_pred = (size_t)-1;
	int err = 0;

	c.start_ns = (uint64_t)p->start_ns;
	c.ncpus = libbpf_num_possible_cpus();
	if (c.ncpus < 1)
		c.ncpus = 1;
	/* Variables: integers in the frame (below the lookup key at fp-8),
	 * the rest in scratch, first. */
	c.frame = 8;
	for (size_t i = 0; i < p->vars.n; i++) {
		struct tp_var *v = &p->vars.v[i];

		if (v->block != block)
			continue;
		if (v->ty.k == TY_INT && !b->has_for) {
			v->in_scratch = false;
			v->off = frame_alloc(&c);
		} else { /* (a for loop's body, a callback, sees scratch, not this frame) */
			v->in_scratch = true;
			v->off = c.scr;
			c.scr += (v->ty.size + 7) & ~7;
		}
	}
	c.scr_vars = c.scr;
	/* prologue: ctx, this CPU's scratch and event */
	MOV_R(&c, R6, R1);
	lookup_slots(&c, &fail1, &fail2);
	for (size_t i = 0; i < p->vars.n; i++) { /* the verifier wants them set */
		struct tp_var *v = &p->vars.v[i];

		if (v->block != block)
			continue;
		if (v->in_scratch)
			zero_scr(&c, v->off, v->ty.size);
		else
			ST_I(&c, BPF_DW, FP, v->off, 0);
	}
	if (b->pred) {
		if ((err = gen_int(&c, b->pred)))
			goto out;
		fail_pred = JMP_I(&c, BPF_JEQ, R0, 0);
	}
	if ((err = gen_block(&c, b->body)))
		goto out;
	/* epilogue */
	patch(&c, fail1);
	patch(&c, fail2);
	if (fail_pred != (size_t)-1)
		patch(&c, fail_pred);
	for (size_t i = 0; i < c.returns.n; i++)
		patch(&c, c.returns.v[i]);
	MOV_I(&c, R0, 0);
	emit(&c, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (c.frame_max > FRAME_MAX)
		err = tp_error(p->src, b->pos, 1, "the block needs more than %d bytes of BPF stack", FRAME_MAX);
	/* for loops' bodies, after the program (a body's own loops after it) */
	for (size_t i = 0; !err && i < c.callbacks.n; i++) {
		struct pending_cb cb = c.callbacks.v[i];

		err = gen_callback(&c, &cb);
	}
out:
	vec_free(&c.returns);
	vec_free(&c.callbacks);
	*subprogs = NULL;
	*nsubprogs = 0;
	if (err || c.err) {
		vec_free(&c.subprogs);
		vec_free(&c.ins);
		return err ? err : c.err;
	}
	*insns = c.ins.v;
	*n = c.ins.n;
	*subprogs = c.subprogs.v;
	*nsubprogs = c.subprogs.n;
	return 0;
}
