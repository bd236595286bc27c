/* libFuzzer: the .eh_frame unwinder on arbitrary stack contents. The pc
 * points into this very program (so real CFI rules apply), the stack pointer
 * at the copy; the stack bytes, the claimed copy length and the registers
 * come from the input. The unwinder must stop, never read past the copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/symbolize.h"
#include "symbols/unwind_dwarf.h"

extern char __executable_start[], etext[];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct symbolizer *sym;
	size_t hdr = sizeof(struct uw_record), len;
	struct uw_record *r;
	uint64_t ips[128], pcoff = 0;
	bool complete;

	if (!sym) {
		sym = symbolizer_new();
		sym_snapshot(sym, getpid(), 0);
	}
	if (size < 16)
		return 0;
	len = hdr + (size - 16);
	r = calloc(1, len);
	memcpy(&pcoff, data, 8);
	memcpy(&r->ulen, data + 8, 4);          /* claimed: may exceed the copy */
	memcpy(&r->flags, data + 12, 4);
	r->pid = getpid();
	r->regs[UW_REG_IP] = (uint64_t)__executable_start + pcoff % (uint64_t)(etext - __executable_start);
	r->regs[UW_REG_SP] = 0x7ff000000000ULL;
	r->regs[UW_REG_BP] = 0x7ff000000000ULL + (pcoff >> 48);
	memcpy(r->stack, data + 16, size - 16);
	uw_unwind(sym, getpid(), r, len, ips, 128, &complete);
	free(r);
	return 0;
}
