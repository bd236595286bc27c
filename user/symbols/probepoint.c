#include "symbols/probepoint.h"

#include <capstone/capstone.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SCAN_BYTES 96 /* a dozen instructions: prologues are short */
#define SCAN_INSNS 16

/* The probe's registers and every part of each: an instruction that writes
 * one ends the scan. The stack pointer ([sp] is the caller's return address,
 * and a return probe hijacks it there) and the frame pointer (the caller's
 * chain) are always kept. */
#define R(q, d, w, b, h) { X86_REG_##q, X86_REG_##d, X86_REG_##w, X86_REG_##b, h }
static const x86_reg c_args[6][5] = {
	R(RDI, EDI, DI, DIL, X86_REG_INVALID), R(RSI, ESI, SI, SIL, X86_REG_INVALID),
	R(RDX, EDX, DX, DL, X86_REG_DH), R(RCX, ECX, CX, CL, X86_REG_CH),
	R(R8, R8D, R8W, R8B, X86_REG_INVALID), R(R9, R9D, R9W, R9B, X86_REG_INVALID),
};
static const x86_reg go_regs[][5] = { /* Go's integer argument order, and g */
	R(RAX, EAX, AX, AL, X86_REG_AH), R(RBX, EBX, BX, BL, X86_REG_BH),
	R(RCX, ECX, CX, CL, X86_REG_CH), R(RDI, EDI, DI, DIL, X86_REG_INVALID),
	R(RSI, ESI, SI, SIL, X86_REG_INVALID), R(R8, R8D, R8W, R8B, X86_REG_INVALID),
	R(R9, R9D, R9W, R9B, X86_REG_INVALID), R(R10, R10D, R10W, R10B, X86_REG_INVALID),
	R(R11, R11D, R11W, R11B, X86_REG_INVALID), R(R14, R14D, R14W, R14B, X86_REG_INVALID),
};
static const x86_reg always[2][5] = {
	R(RSP, ESP, SP, SPL, X86_REG_INVALID), R(RBP, EBP, BP, BPL, X86_REG_INVALID),
};
#undef R

static bool in_set(const x86_reg (*set)[5], size_t n, x86_reg r)
{
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 5; j++)
			if (set[i][j] == r && r != X86_REG_INVALID)
				return true;
	return false;
}

static bool writes_kept(csh h, const cs_insn *in, unsigned reads)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	size_t nc = reads & 0xff;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return true; /* unknown: assume the worst */
	for (int i = 0; i < nwr; i++)
		if (in_set(always, 2, wr[i]) || in_set(c_args, nc < 6 ? nc : 6, wr[i]) ||
		    ((reads & PROBE_GO_ABI) && in_set(go_regs, sizeof(go_regs) / sizeof(go_regs[0]), wr[i])))
			return true;
	return false;
}

/* Push of a register is emulated since Linux 6.10; older kernels step it.
 * Read off the version: there is no way to ask the kernel. */
static bool kernel_emulates_push(void)
{
	static int cached = -1;
	struct utsname u;
	int major = 0, minor = 0;

	if (cached < 0) {
		cached = uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
			 (major > 6 || (major == 6 && minor >= 10));
	}
	return cached;
}

/* Emulated at a uprobe (arch/x86/kernel/uprobes.c's branch and push
 * setups): jmp/call rel, jcc rel8/rel32, 0x90 nop, push reg. The opcode is
 * read past legacy and REX prefixes. */
static bool emulated(const cs_insn *in, bool *is_push)
{
	const cs_x86 *x = &in->detail->x86;
	uint8_t op = x->opcode[0], op2 = x->opcode[1];

	*is_push = false;
	if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) || op == 0x90)
		return true;
	if (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f)
		return true;
	if (op >= 0x50 && op <= 0x57 && (x->rex == 0 || x->rex == 0x41)) {
		*is_push = true;
		return kernel_emulates_push();
	}
	return false;
}

/* Instructions that end a scan whatever they write: control flow, stack
 * use, system calls, anything privileged. */
static bool ends_scan(const cs_insn *in)
{
	const cs_detail *d = in->detail;

	for (int i = 0; i < d->groups_count; i++)
		switch (d->groups[i]) {
		case CS_GRP_JUMP: case CS_GRP_CALL: case CS_GRP_RET: case CS_GRP_INT:
		case CS_GRP_IRET: case CS_GRP_PRIVILEGE: case CS_GRP_BRANCH_RELATIVE:
			return true;
		}
	switch (in->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_PUSH: case X86_INS_POP:
	case X86_INS_PUSHFQ: case X86_INS_POPFQ: case X86_INS_ENTER: case X86_INS_LEAVE:
	case X86_INS_UD2: case X86_INS_HLT: case X86_INS_XBEGIN: case X86_INS_XEND:
		return true;
	}
	return false;
}

void probe_place_code(const uint8_t *code, size_t len, uint64_t off, unsigned reads,
		      struct probe_place *out)
{
	csh h;
	cs_insn *in = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->off = off;
	snprintf(out->insn, sizeof(out->insn), "(not decoded)");
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(h, code, len, off, SCAN_INSNS, &in);
	for (size_t i = 0; i < n; i++) {
		bool push;

		if (emulated(&in[i], &push) || ends_scan(&in[i]) || writes_kept(h, &in[i], reads) || i + 1 == n) {
			/* Stop here: either the kernel emulates it, or moving
			 * past it would change what the probe sees. */
			out->off = in[i].address;
			out->moved = in[i].address - off;
			out->emulated = emulated(&in[i], &push);
			snprintf(out->insn, sizeof(out->insn), "%s%s%s", in[i].mnemonic,
				 in[i].op_str[0] ? " " : "", in[i].op_str);
			break;
		}
	}
	/* A scan that found nothing emulated keeps the entry (its
	 * instruction is stepped either way; moving gains nothing). */
	if (n && !out->emulated) {
		out->off = off;
		out->moved = 0;
		snprintf(out->insn, sizeof(out->insn), "%s%s%s", in[0].mnemonic,
			 in[0].op_str[0] ? " " : "", in[0].op_str);
	}
	cs_free(in, n);
	cs_close(&h);
}

void probe_place_entry(const char *path, uint64_t off, unsigned reads, struct probe_place *out)
{
	uint8_t code[SCAN_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t got = fd >= 0 ? pread(fd, code, sizeof(code), (off_t)off) : -1;

	if (fd >= 0)
		close(fd);
	if (got <= 0) {
		memset(out, 0, sizeof(*out));
		out->off = off;
		snprintf(out->insn, sizeof(out->insn), "(code not readable)");
		return;
	}
	probe_place_code(code, (size_t)got, off, reads, out);
}
