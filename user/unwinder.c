#include "unwinder.h"
#include "bpfmaps.h"

#include <bpf/bpf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* ---- interned stacks ----------------------------------------------------- */

/* A second, independent hash: with FNV-1a it makes a 128-bit key. */
static uint64_t hash_words(const uint64_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h = hash64(h ^ w[i]);
	return h;
}

int32_t uw_store_intern(struct uw_store *st, const uint64_t *ips, size_t n)
{
	bool found;
	uint64_t *slot = hmap_upsert(&st->index, hash_bytes(ips, n * sizeof(*ips)),
				     hash_words(ips, n), 0, &found);

	if (!found) {
		uint64_t *copy = xcalloc(n + 1, sizeof(uint64_t));

		memcpy(copy, ips, n * sizeof(*ips));
		vec_push(&st->stacks, copy);
		*slot = st->stacks.n;
	}
	return (int32_t)(*slot - 1);
}

const uint64_t *uw_store_get(const struct uw_store *st, int32_t id)
{
	return id >= 0 && (size_t)id < st->stacks.n ? st->stacks.v[id] : NULL;
}

void uw_store_free(struct uw_store *st)
{
	for (size_t i = 0; i < st->stacks.n; i++)
		free(st->stacks.v[i]);
	vec_free(&st->stacks);
	hmap_free(&st->index);
}

/* ---- aggregation table ----------------------------------------------------- */

/* Entries are key, then the value at the next 8-byte boundary (offcpu's
 * key is 36 bytes; its u64 counters must be aligned). */
static size_t val_offset(const struct uw_table *t)
{
	return (t->key_size + 7) & ~(size_t)7;
}

static size_t entry_size(const struct uw_table *t)
{
	return (val_offset(t) + t->val_size + 7) & ~(size_t)7;
}

void uw_table_add(struct uw_table *t, const void *key, const void *val)
{
	bool found;
	uint64_t *slot = hmap_upsert(&t->index, hash_bytes(key, t->key_size),
				     hash_words(key, t->key_size / 8), 0, &found);
	size_t es = entry_size(t);

	if (!found) {
		while (t->entries.cap < (t->n + 1) * es) {
			t->entries.cap = t->entries.cap ? t->entries.cap * 2 : 64 * es;
			t->entries.v = xrealloc(t->entries.v, t->entries.cap);
		}
		memcpy(t->entries.v + t->n * es, key, t->key_size);
		memset(t->entries.v + t->n * es + t->key_size, 0, es - t->key_size);
		*slot = ++t->n;
	}
	t->merge(t->entries.v + (*slot - 1) * es + val_offset(t), val);
}

void uw_table_each(struct uw_table *t, void (*fn)(const void *key, const void *val, void *ctx),
		   void *ctx)
{
	size_t es = entry_size(t);

	for (size_t i = 0; i < t->n; i++)
		fn(t->entries.v + i * es, t->entries.v + i * es + val_offset(t), ctx);
}

void uw_table_clear(struct uw_table *t)
{
	t->n = 0;
	hmap_free(&t->index);
}

/* ---- the unwinder ---------------------------------------------------------- */

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

static Dwarf_CFI *cfi_of(struct elf_syms *es)
{
	if (!es->cfi_tried) {
		es->cfi_tried = true;
		if (es->elf)
			es->cfi = dwarf_getcfi_elf(es->elf);
	}
	return es->cfi;
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
		cfi = es ? cfi_of(es) : NULL;
		if (!cfi || dwarf_cfi_addrframe(cfi, vaddr, &fr) != 0) {
			/* No CFI: at a function's first instruction (an entry
			 * probe) the return address is at [sp]; elsewhere
			 * follow frame pointers. */
			const struct elf_sym *fn = n == 1 && exact && es ? elf_sym_find(es, vaddr) : NULL;

			if (fn && fn->addr == vaddr && read_word(&m, rs.r[UW_REG_SP], &val)) {
				rs.r[UW_REG_IP] = val;
				rs.r[UW_REG_SP] += 8;
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

/* ---- records to stacks ------------------------------------------------------ */

bool uw_enabled(struct session *s)
{
	return s->o.unwind != UNWIND_FP && !s->o.kernel_only;
}

int uw_configure(struct session *s, volatile __u32 *stack_bytes, volatile bool *per_pid,
		 struct bpf_map *scratch, struct bpf_map *events, struct bpf_map *records,
		 unsigned ring_records)
{
	size_t rec = sizeof(struct uw_record) + s->o.stack_bytes + UW_PAGE;
	size_t ring = 1u << 16;
	int cpus = session_possible_cpus(), err;

	if (!uw_enabled(s))
		return 0;
	*stack_bytes = s->o.stack_bytes;
	/* auto picks per target process; system-wide it is dwarf for all. */
	*per_pid = s->o.unwind == UNWIND_AUTO && (s->o.pids.n || s->o.cmd || s->o.follow);
	/* Room for ring_records records (a power of two of bytes). The buffer
	 * is mapped into this process twice (libbpf): its size is RSS. */
	while (ring < ring_records * rec && ring < (64u << 20))
		ring <<= 1;
	err = bpf_map__set_value_size(scratch, rec) ?:
	      bpf_map__set_max_entries(scratch, cpus > 0 ? cpus : 1) ?:
	      bpf_map__set_max_entries(events, ring);
	if (!err && records)
		err = bpf_map__set_value_size(records, rec) ?:
		      bpf_map__set_max_entries(records, s->o.max_stacks);
	return err;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct uw_ctx *u = ctx;

	if (len >= sizeof(uint32_t))
		u->handle(u, data, len);
	return 0;
}

void uw_keyed_record(struct uw_ctx *u, const struct uw_record *r, size_t len)
{
	char key[UW_PAYLOAD];
	int32_t id;

	if (len < sizeof(*r))
		return;
	memcpy(key, r->payload, u->table.key_size);
	id = uw_user_stack(u, r, len, 0);
	memcpy(key + u->layout.ustack_off, &id, sizeof(id));
	id = uw_kernel_stack(u, r);
	memcpy(key + u->layout.kstack_off, &id, sizeof(id));
	uw_table_add(&u->table, key, r->payload + u->layout.val_off);
}

int uw_open(struct uw_ctx *u, struct session *s, struct bpf_map *events, uw_handler handle,
	    void *cmd, size_t key_size, size_t val_size, void (*merge)(void *, const void *),
	    struct uw_key_layout layout)
{
	memset(u, 0, sizeof(*u));
	u->s = s;
	u->handle = handle ? handle : uw_keyed_record;
	u->layout = layout;
	u->cmd = cmd;
	u->max_depth = s->o.max_depth;
	u->table.key_size = key_size;
	u->table.val_size = val_size;
	u->table.merge = merge;
	if (!uw_enabled(s))
		return 0;
	u->rb = ring_buffer__new(bpf_map__fd(events), on_record, u, NULL);
	if (!u->rb) {
		int e = errno;

		err_msg("cannot read the unwinding ring buffer: %s", strerror(e));
		return -e;
	}
	return 0;
}

bool uw_poll(struct uw_ctx *u, int timeout_ms)
{
	struct epoll_event ev;

	if (!u->rb)
		return false;
	if (timeout_ms)
		epoll_wait(ring_buffer__epoll_fd(u->rb), &ev, 1, timeout_ms);
	/* Mappings first: a record's code was mapped before it ran. */
	session_sync_maps(u->s);
	ring_buffer__consume(u->rb);
	return true;
}

void uw_close(struct uw_ctx *u)
{
	if (u->rb && u->s->o.verbose && u->records)
		fprintf(stderr, "%s: unwound %llu user stacks (%.1f frames each), %.2f us per stack, "
			"%llu incomplete\n", prog_name, (unsigned long long)u->records,
			(double)u->frames / u->records, u->unwind_ns / 1e3 / u->records,
			(unsigned long long)u->incomplete);
	if (u->rb)
		ring_buffer__free(u->rb);
	u->rb = NULL;
	uw_store_free(&u->store);
	uw_table_clear(&u->table);
	free(u->table.entries.v);
	u->table.entries.v = NULL;
}

int32_t uw_user_stack(struct uw_ctx *u, const struct uw_record *r, size_t len, uint64_t leaf)
{
	uint64_t ips[128];
	size_t max = u->max_depth < 128 ? (size_t)u->max_depth : 128, n, skip = leaf ? 1 : 0;
	bool complete;

	if (r->flags & UW_F_NO_USER)
		return STACK_NONE;
	session_note_pid(u->s, r->pid);
	u->records++;
	ips[0] = leaf;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	n = skip + uw_unwind(u->s->sym, r->pid, r, len, ips + skip, max - skip, &complete);
	u->unwind_ns += now_ns(CLOCK_MONOTONIC) - t0;
	u->frames += n;
	if (!complete && n < max) {
		u->incomplete++;
		if (getenv("BPFPROF_UNWIND_DEBUG")) {
			fprintf(stderr, "unwind incomplete: pid %u ulen %u frames %zu:", r->pid, r->ulen, n);
			for (size_t i = 0; i < n; i++) {
				struct sym_frame f;

				sym_user(u->s->sym, r->pid, r->exec, ips[i], &f);
				fprintf(stderr, " %s", f.func ? f.func : "?");
			}
			fprintf(stderr, "\n");
		}
	}
	if (!n)
		return STACK_LOST;
	return uw_store_intern(&u->store, ips, n);
}

int32_t uw_kernel_stack(struct uw_ctx *u, const struct uw_record *r)
{
	size_t n = r->nkips < UW_MAX_KFRAMES ? r->nkips : UW_MAX_KFRAMES;

	if (!n)
		return STACK_NONE;
	return uw_store_intern(&u->store, (const uint64_t *)r->kips, n);
}

void uw_drain(struct uw_ctx *u, struct stack_reader **sr, int max_depth,
	      void (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	if (!u->rb)
		return;
	*sr = stack_reader_new_store(&u->store, max_depth);
	uw_table_each(&u->table, fn, ctx);
	uw_table_clear(&u->table);
	uw_store_free(&u->store);
	stack_reader_free(*sr);
	*sr = NULL;
}

void uw_report(struct uw_ctx *u, struct profile *p)
{
	if (!u->rb)
		return;
	for (size_t i = 0; i < p->counters.n; i++) {
		if (!u->warned_full && p->counters.v[i].value &&
		    !strcmp(p->counters.v[i].name, "records lost (ring buffer full)")) {
			/* Only options this command takes. */
			const char *name = u->s->cmd->name;
			const char *fewer = !strcmp(name, "oncpu") ? "a lower -F, " :
					    !strcmp(name, "mallocstacks") ? "--sample-bytes, " :
					    !strcmp(name, "offcpu") ? "a higher --min-block, " : "";

			warn_msg("%llu events came faster than their stacks could be unwound; they are "
				 "counted without stacks (fewer: %sa smaller --stack-bytes)",
				 (unsigned long long)p->counters.v[i].value, fewer);
			u->warned_full = true;
		}
	}
	profile_add_counter(p, "dwarf unwinds incomplete", u->incomplete - u->reported_incomplete);
	u->reported_incomplete = u->incomplete;
}

/* ---- --unwind auto ---------------------------------------------------------- */

/* Frame pointers or not, judged by function prologues: `push %rbp;
 * mov %rsp,%rbp` (after an optional endbr64) in most functions. */
static bool has_frame_pointers(struct elf_syms *es, const char *path)
{
	static const uint8_t prologue[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	size_t checked = 0, with_fp = 0;
	int fd;

	if (es->is_go)
		return true; /* Go keeps frame pointers (and has no .eh_frame) */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	for (size_t i = 0; i < es->syms.n && checked < 400; i++) {
		uint8_t code[8];
		uint64_t off;
		const uint8_t *p = code;

		if (es->syms.v[i].size < 16 || !elf_vaddr_to_offset(es, es->syms.v[i].addr, &off) ||
		    pread(fd, code, sizeof(code), off) != sizeof(code))
			continue;
		checked++;
		if (!memcmp(p, endbr64, 4))
			p += 4;
		if (!memcmp(p, prologue, 4))
			with_fp++;
	}
	close(fd);
	return checked && with_fp * 2 >= checked;
}

bool uw_pid_needs_dwarf(struct session *s, pid_t pid)
{
	char path[PATH_MAX];
	struct elf_syms *es;

	if (s->o.unwind == UNWIND_DWARF)
		return true;
	if (s->o.unwind != UNWIND_AUTO)
		return false;
	if (!session_target_exe(s, pid, path, sizeof(path)) || !(es = sym_elf_path(s->sym, path)))
		return true;
	if (has_frame_pointers(es, path)) {
		if (s->o.verbose)
			fprintf(stderr, "%s: pid %d: %s has frame pointers: --unwind auto uses fp\n",
				prog_name, pid, path);
		return false;
	}
	if (s->o.verbose)
		fprintf(stderr, "%s: pid %d: %s lacks frame pointers: --unwind auto uses dwarf\n",
			prog_name, pid, path);
	return true;
}
