/* .gopclntab reading (gopclntab.h). The layout is the Go runtime's own
 * (runtime/symtab.go: pcHeader, functab, _func; pcvalue tables are
 * zig-zag varint pairs of value and pc deltas). Every offset is checked
 * against the section: the binary is the target's, untrusted input. */
#include "symbols/gopclntab.h"

#include <string.h>

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n); /* little-endian hosts (x86-64) */
	return v;
}

/* A sub-table at header offset `off`, up to the next one (or the end). */
static bool part(const struct go_pcln *t, uint64_t off, uint64_t end, const uint8_t **p, size_t *len)
{
	if (off > t->size || end > t->size || end < off)
		return false;
	*p = t->data + off;
	*len = end - off;
	return true;
}

bool go_pcln_init(struct go_pcln *t, const uint8_t *data, size_t size, uint64_t text_vaddr)
{
	uint64_t nfiles, hdr[8], ends[5];
	unsigned n;

	memset(t, 0, sizeof(*t));
	if (size < 8)
		return false;
	t->data = data;
	t->size = size;
	t->magic = (uint32_t)rd(data, 4);
	t->quantum = data[6];
	t->ptrsize = data[7];
	if (data[4] || data[5] || t->ptrsize != 8 || !t->quantum)
		return false;
	/* After the first 8 bytes: nfunc, nfiles, [textStart,] then the
	 * offsets of funcnametab, cutab, filetab, pctab, pclntab. */
	switch (t->magic) {
	case 0xfffffffa: n = 7; break;              /* 1.16, 1.17 */
	case 0xfffffff0: case 0xfffffff1: n = 8; break; /* 1.18, 1.19; 1.20+ */
	default: return false;
	}
	if (size < 8 + 8 * n)
		return false;
	for (unsigned i = 0; i < n; i++)
		hdr[i] = rd(data + 8 + 8 * i, 8);
	t->nfunc = hdr[0];
	nfiles = hdr[1];
	(void)nfiles;
	if (n == 8) {
		t->text_start = hdr[2];
		memmove(hdr + 2, hdr + 3, 5 * sizeof(hdr[0]));
	} else {
		t->text_start = text_vaddr;
	}
	/* hdr[2..6]: funcname, cu, file, pc, func tables, in that order. */
	for (int i = 0; i < 5; i++)
		ends[i] = i < 4 ? hdr[3 + i] : size;
	if (!part(t, hdr[2], ends[0], &t->funcnames, &t->funcnames_len) ||
	    !part(t, hdr[3], ends[1], &t->cutab, &t->cutab_len) ||
	    !part(t, hdr[4], ends[2], &t->filetab, &t->filetab_len) ||
	    !part(t, hdr[5], ends[3], &t->pctab, &t->pctab_len) ||
	    !part(t, hdr[6], ends[4], &t->functab, &t->functab_len))
		return false;
	/* functab: nfunc + 1 pairs (entry, funcoff): 4-byte fields from 1.18 on. */
	size_t pair = t->magic == 0xfffffffa ? 16 : 8;
	if (t->nfunc == 0 || t->nfunc > t->functab_len / pair)
		return false;
	return true;
}

static unsigned fsize(const struct go_pcln *t)
{
	return t->magic == 0xfffffffa ? 8 : 4;
}

static bool entry_of(const struct go_pcln *t, uint64_t i, uint64_t *entry, uint64_t *funcoff)
{
	unsigned f = fsize(t);

	if (i > t->nfunc || (i + 1) * 2 * f > t->functab_len)
		return false;
	*entry = rd(t->functab + i * 2 * f, f);
	*funcoff = rd(t->functab + i * 2 * f + f, f);
	if (f == 4)
		*entry += t->text_start;
	return true;
}

/* The _func record of function i: its bytes, within the function table. */
static const uint8_t *func_rec(const struct go_pcln *t, uint64_t i, size_t need)
{
	uint64_t entry, off;

	if (!entry_of(t, i, &entry, &off) || off > t->functab_len || t->functab_len - off < need)
		return NULL;
	return t->functab + off;
}

/* Field offsets in _func: after entry (8 bytes in 1.16/1.17, a 4-byte
 * offset later) come nameoff, args, deferreturn, pcsp, pcfile, pcln,
 * npcdata, cuOffset (4 bytes each). */
static unsigned field(const struct go_pcln *t, unsigned k)
{
	return (t->magic == 0xfffffffa ? 8 : 4) + 4 * k;
}
enum { F_NAME = 0, F_PCSP = 3, F_PCFILE = 4, F_PCLN = 5, F_CU = 7, F_FUNCID = 8 };

bool go_pcln_func(const struct go_pcln *t, uint64_t i, uint64_t *entry, const char **name)
{
	const uint8_t *f = func_rec(t, i, field(t, F_CU) + 4);
	uint64_t off;
	int32_t nameoff;

	if (!f || !entry_of(t, i, entry, &off))
		return false;
	nameoff = (int32_t)rd(f + field(t, F_NAME), 4);
	if (nameoff < 0 || (size_t)nameoff >= t->funcnames_len ||
	    !memchr(t->funcnames + nameoff, 0, t->funcnames_len - nameoff))
		return false;
	*name = (const char *)t->funcnames + nameoff;
	return true;
}

bool go_pcln_end(const struct go_pcln *t, uint64_t i, uint64_t *end)
{
	uint64_t off;

	return i < t->nfunc && entry_of(t, i + 1, end, &off);
}

int64_t go_pcln_find(const struct go_pcln *t, uint64_t pc)
{
	uint64_t lo = 0, hi = t->nfunc, e, off;

	/* the last pair's entry is the end of the last function */
	if (!entry_of(t, 0, &e, &off) || pc < e || !entry_of(t, t->nfunc, &e, &off) || pc >= e)
		return -1;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (!entry_of(t, mid, &e, &off))
			return -1;
		if (e <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo;
}

static bool varint(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
	uint32_t v = 0;

	for (unsigned shift = 0; *p < end && shift < 35; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* The value of pcvalue table `off` at pc (function entry `entry`). */
static bool pcvalue(const struct go_pcln *t, uint32_t off, uint64_t entry, uint64_t pc, int32_t *out)
{
	const uint8_t *p, *end = t->pctab + t->pctab_len;
	uint64_t cur = entry;
	int32_t val = -1;
	bool first = true;

	if (!off || off >= t->pctab_len)
		return false;
	p = t->pctab + off;
	for (int steps = 0; steps < 1000000; steps++) {
		uint32_t uv, pcd;

		if (!varint(&p, end, &uv) || (uv == 0 && !first))
			return false;
		val += (int32_t)(-(uv & 1) ^ (uv >> 1));
		if (!varint(&p, end, &pcd))
			return false;
		cur += (uint64_t)pcd * t->quantum;
		first = false;
		if (pc < cur) {
			*out = val;
			return true;
		}
	}
	return false;
}

bool go_pcln_line(const struct go_pcln *t, uint64_t i, uint64_t pc, const char **file, int64_t *line)
{
	const uint8_t *f = func_rec(t, i, field(t, F_CU) + 4);
	uint64_t entry, off;
	int32_t fileno, ln;
	uint32_t cu, fileoff;

	if (!f || !entry_of(t, i, &entry, &off))
		return false;
	if (!pcvalue(t, (uint32_t)rd(f + field(t, F_PCFILE), 4), entry, pc, &fileno) ||
	    !pcvalue(t, (uint32_t)rd(f + field(t, F_PCLN), 4), entry, pc, &ln) || fileno < 0)
		return false;
	cu = (uint32_t)rd(f + field(t, F_CU), 4);
	if (((uint64_t)cu + (uint32_t)fileno + 1) * 4 > t->cutab_len)
		return false;
	fileoff = (uint32_t)rd(t->cutab + ((uint64_t)cu + (uint32_t)fileno) * 4, 4);
	if (fileoff >= t->filetab_len || !memchr(t->filetab + fileoff, 0, t->filetab_len - fileoff))
		return false;
	*file = (const char *)t->filetab + fileoff;
	*line = ln;
	return true;
}

bool go_pcln_spdelta(const struct go_pcln *t, uint64_t i, uint64_t pc, int64_t *delta)
{
	const uint8_t *f = func_rec(t, i, field(t, F_CU) + 4);
	uint64_t entry, off;
	int32_t d;

	if (!f || !entry_of(t, i, &entry, &off) ||
	    !pcvalue(t, (uint32_t)rd(f + field(t, F_PCSP), 4), entry, pc, &d) || d < 0)
		return false;
	*delta = d;
	return true;
}

int go_pcln_funcid(const struct go_pcln *t, uint64_t i)
{
	const uint8_t *f = func_rec(t, i, field(t, F_FUNCID) + 1);

	return f ? f[field(t, F_FUNCID)] : -1;
}

/* Where _func's variable part starts: after its fixed fields (Go 1.16/1.17:
 * 44 bytes with an 8-byte entry; 1.18/1.19: 40; 1.20+: 44, startLine). */
static unsigned func_fixed(const struct go_pcln *t)
{
	return t->magic == 0xfffffff0 ? 40 : 44;
}

/* pcdata table k of function record f (0: none). */
static uint32_t pcdata_off(const struct go_pcln *t, const uint8_t *f, uint32_t k)
{
	uint32_t npcdata = (uint32_t)rd(f + field(t, 6), 4);
	size_t at = func_fixed(t) + 4 * (size_t)k;

	if (k >= npcdata || (size_t)(f - t->functab) + at + 4 > t->functab_len)
		return 0;
	return (uint32_t)rd(f + at, 4);
}

/* funcdata k of f: an offset from gofunc (1.18+), or ~0 for none. */
static uint32_t funcdata_off(const struct go_pcln *t, const uint8_t *f, uint32_t k)
{
	uint32_t npcdata = (uint32_t)rd(f + field(t, 6), 4);
	unsigned nfuncdata = f[func_fixed(t) - 1];
	size_t at = func_fixed(t) + 4 * (size_t)npcdata + 4 * (size_t)k;

	if (k >= nfuncdata || (size_t)(f - t->functab) + at + 4 > t->functab_len)
		return ~0u;
	return (uint32_t)rd(f + at, 4);
}

enum { PCDATA_INLTREE = 2, FUNCDATA_INLTREE = 3 };

int go_pcln_frames(const struct go_pcln *t, uint64_t i, uint64_t pc, struct src_frame *out, int max)
{
	const uint8_t *f = func_rec(t, i, field(t, F_CU) + 4);
	uint64_t entry, off, look = pc;
	const char *name;
	int n = 0;

	if (!f || max <= 0 || !go_pcln_func(t, i, &entry, &name) || !entry_of(t, i, &entry, &off))
		return 0;
	/* Inlined calls: Go 1.18+ tables, with the function data known. */
	if (t->magic != 0xfffffffa && t->gofunc && f[func_fixed(t) - 1] > FUNCDATA_INLTREE) {
		uint32_t pcd = pcdata_off(t, f, PCDATA_INLTREE), fd = funcdata_off(t, f, FUNCDATA_INLTREE);
		/* inlinedCall: 1.18/1.19 {parent i16, funcID u8, _, file i32,
		 * line i32, func_ i32, parentPc i32} (20 bytes); 1.20+ {funcID
		 * u8, _ [3], nameOff i32, parentPc i32, startLine i32} (16). */
		size_t sz = t->magic == 0xfffffff0 ? 20 : 16;
		unsigned name_at = t->magic == 0xfffffff0 ? 12 : 4, ppc_at = t->magic == 0xfffffff0 ? 16 : 8;

		for (int depth = 0; pcd && fd != ~0u && n < max - 1 && depth < 64; depth++) {
			int32_t ix, nameoff, ppc;
			const uint8_t *e;
			struct src_frame fr = { 0 };

			if (!pcvalue(t, pcd, entry, look, &ix) || ix < 0)
				break;
			if ((uint64_t)fd + ((uint64_t)ix + 1) * sz > t->gofunc_len)
				break;
			e = t->gofunc + fd + (uint64_t)ix * sz;
			nameoff = (int32_t)rd(e + name_at, 4);
			ppc = (int32_t)rd(e + ppc_at, 4);
			if (nameoff < 0 || (size_t)nameoff >= t->funcnames_len ||
			    !memchr(t->funcnames + nameoff, 0, t->funcnames_len - nameoff))
				break;
			fr.func = (const char *)t->funcnames + nameoff;
			if (!go_pcln_line(t, i, look, &fr.file, &fr.line))
				fr.file = NULL;
			out[n++] = fr;
			look = entry + (uint32_t)ppc;
		}
	}
	out[n].func = name;
	if (!go_pcln_line(t, i, look, &out[n].file, &out[n].line)) {
		out[n].file = NULL;
		out[n].line = 0;
	}
	return n + 1;
}
