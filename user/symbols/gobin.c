/* A Go binary's runtime facts (gobin.h). */
#include "symbols/gobin.h"
#include "symbols/gopclntab.h"

#include <capstone/capstone.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

/* Go 1.19's runtime.g on amd64 (runtime2.go), checked against the DWARF
 * of a Go 1.19 build by the unit tests. */
static const struct go_layout layout_go119 = {
	.g_stack_hi = 8, .g_sched = 56, .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
	.g_waitreason = 176, .g_gopc = 296, .g_startpc = 312, .g_labels = 360,
	.gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .g_size = 384,
};
/* Go 1.19's waitReasonStrings, for binaries without .symtab. */
static const char *const reasons_go119[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive",
	"chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
	"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle", "GC worker (idle)",
	"preempted", "debug call",
};

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, sh) && (name = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(name, want))
			return scn;
	return NULL;
}

/* Bytes at virtual address va in the file (a PROGBITS section), or NULL. */
static const uint8_t *at_vaddr(Elf *elf, uint64_t va, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (va < sh.sh_addr || va - sh.sh_addr + len > sh.sh_size)
			continue;
		if (!(d = elf_getdata(scn, NULL)) || !d->d_buf || va - sh.sh_addr + len > d->d_size)
			return NULL;
		return (const uint8_t *)d->d_buf + (va - sh.sh_addr);
	}
	return NULL;
}

static uint64_t uvarint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	return 0;
}

/* The build info (.go.buildinfo): "\xff Go buildinf:", pointer size,
 * flags; Go 1.18+ (flags & 2) inlines the version as a varint-prefixed
 * string at 32, older ones point at a Go string header at 16. */
static void read_version(struct go_binary *gb, Elf *elf)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, ".go.buildinfo", &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const uint8_t *b, *end;
	uint64_t len = 0;
	const char *v = NULL;

	if (!d || !d->d_buf || d->d_size < 32 || memcmp(d->d_buf, "\xff Go buildinf:", 14))
		return;
	b = d->d_buf;
	end = b + d->d_size;
	if (b[15] & 2) {
		const uint8_t *p = b + 32;

		len = uvarint(&p, end);
		if (len < (uint64_t)(end - p))
			v = (const char *)p;
	} else if (b[14] == 8) {
		uint64_t hdr, sp;
		const uint8_t *s;

		memcpy(&hdr, b + 16, 8);
		if ((s = at_vaddr(elf, hdr, 16))) {
			memcpy(&sp, s, 8);
			memcpy(&len, s + 8, 8);
			if (len < 64)
				v = (const char *)at_vaddr(elf, sp, len);
		}
	}
	if (!v || !len || len >= sizeof(gb->version))
		return;
	memcpy(gb->version, v, len);
	gb->version[len] = 0;
	if (sscanf(gb->version, "go%d.%d", &gb->major, &gb->minor) != 2)
		gb->major = gb->minor = 0;
}

/* A data symbol's address from .symtab, 0 if absent; *size its size. */
static uint64_t symtab_addr(Elf *elf, const char *want, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (gelf_getsym(d, i, &s) && (name = elf_strptr(elf, sh.sh_link, s.st_name)) &&
			    !strcmp(name, want)) {
				if (size)
					*size = s.st_size;
				return s.st_value;
			}
		}
	}
	return 0;
}

/* Stripped: runtime.allgadd appends to allgs, so its code reads and writes
 * the slice's three words: the address X of which X, X+8 and X+16 are all
 * operands (RIP-relative) is allgs. */
static uint64_t allgs_from_code(Elf *elf)
{
	GElf_Shdr pcsh, textsh;
	Elf_Scn *pscn = find_section(elf, ".gopclntab", &pcsh), *tscn = find_section(elf, ".text", &textsh);
	Elf_Data *pd = pscn ? elf_getdata(pscn, NULL) : NULL;
	struct go_pcln t;
	uint64_t found = 0, entry = 0, end = 0;
	const char *name;
	const uint8_t *code;
	csh h;
	cs_insn *in;
	size_t n;
	VEC(uint64_t) refs = { 0 };

	if (!pd || !tscn || !go_pcln_init(&t, pd->d_buf, pd->d_size, textsh.sh_addr))
		return 0;
	for (uint64_t i = 0; i < t.nfunc; i++) {
		uint64_t e;

		if (go_pcln_func(&t, i, &e, &name) && !strcmp(name, "runtime.allgadd")) {
			entry = e;
			go_pcln_end(&t, i, &end);
			break;
		}
	}
	if (!entry || end <= entry || end - entry > 4096 || !(code = at_vaddr(elf, entry, end - entry)))
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(h, code, end - entry, entry, 0, &in);
	for (size_t i = 0; i < n; i++) {
		cs_x86 *x = &in[i].detail->x86;

		for (int k = 0; k < x->op_count; k++)
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP)
				vec_push(&refs, in[i].address + in[i].size + (uint64_t)x->operands[k].mem.disp);
	}
	for (size_t i = 0; i < refs.n && !found; i++) {
		bool w8 = false, w16 = false;

		for (size_t j = 0; j < refs.n; j++) {
			w8 |= refs.v[j] == refs.v[i] + 8;
			w16 |= refs.v[j] == refs.v[i] + 16;
		}
		if (w8 && w16)
			found = refs.v[i];
	}
	vec_free(&refs);
	if (n)
		cs_free(in, n);
	cs_close(&h);
	return found;
}

/* runtime.waitReasonStrings from .symtab: an array of Go strings. */
static void reasons_from_symtab(struct go_binary *gb, Elf *elf)
{
	uint64_t size = 0, va = symtab_addr(elf, "runtime.waitReasonStrings", &size);
	const uint8_t *arr;

	if (!va || !size || size % 16 || size > 16 * 256 || !(arr = at_vaddr(elf, va, size)))
		return;
	for (uint64_t i = 0; i < size / 16; i++) {
		uint64_t p, len;
		const char *s;

		memcpy(&p, arr + 16 * i, 8);
		memcpy(&len, arr + 16 * i + 8, 8);
		s = len && len < 128 ? (const char *)at_vaddr(elf, p, len) : NULL;
		vec_push(&gb->reasons, s ? strndup(s, len) : xstrdup(""));
	}
}

/* The offset of member `name` of the DWARF structure die, or -1. */
static int64_t member_offset(Dwarf_Die *st, const char *name)
{
	Dwarf_Die m;
	Dwarf_Attribute a;
	Dwarf_Word off;

	if (dwarf_child(st, &m) != 0)
		return -1;
	do {
		const char *n = dwarf_diename(&m);

		if (dwarf_tag(&m) == DW_TAG_member && n && !strcmp(n, name) &&
		    dwarf_attr(&m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &off) == 0)
			return (int64_t)off;
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

/* runtime.g and runtime.gobuf from DWARF; false when absent. */
static bool layout_from_dwarf(struct go_binary *gb, Elf *elf)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die g = { 0 }, gobuf = { 0 }, stack = { 0 };
	bool have_g = false, have_gobuf = false, have_stack = false;

	if (!dw)
		return false;
	while (!(have_g && have_gobuf && have_stack) &&
	       dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&d) != DW_TAG_structure_type || !(n = dwarf_diename(&d)))
					continue;
				if (!have_g && !strcmp(n, "runtime.g"))
					g = d, have_g = true;
				else if (!have_gobuf && !strcmp(n, "runtime.gobuf"))
					gobuf = d, have_gobuf = true;
				else if (!have_stack && !strcmp(n, "runtime.stack"))
					stack = d, have_stack = true;
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	if (have_g && have_gobuf && have_stack) {
		struct go_layout l = {
			.g_stack_hi = member_offset(&g, "stack") + member_offset(&stack, "hi"),
			.g_sched = member_offset(&g, "sched"),
			.g_atomicstatus = member_offset(&g, "atomicstatus"),
			.g_goid = member_offset(&g, "goid"),
			.g_waitsince = member_offset(&g, "waitsince"),
			.g_waitreason = member_offset(&g, "waitreason"),
			.g_gopc = member_offset(&g, "gopc"),
			.g_startpc = member_offset(&g, "startpc"),
			.g_labels = member_offset(&g, "labels"),
			.gobuf_sp = member_offset(&gobuf, "sp"),
			.gobuf_pc = member_offset(&gobuf, "pc"),
			.gobuf_bp = member_offset(&gobuf, "bp"),
		};
		Dwarf_Attribute a;
		Dwarf_Word size = 0;

		if (dwarf_attr(&g, DW_AT_byte_size, &a))
			dwarf_formudata(&a, &size);
		l.g_size = (int64_t)size;
		/* atomicstatus became an atomic.Uint32 (a struct) in Go 1.20:
		 * the same offset, the value first. */
		if (l.g_sched >= 0 && l.g_atomicstatus >= 0 && l.g_goid >= 0 && l.g_waitreason >= 0 &&
		    l.g_gopc >= 0 && l.gobuf_sp >= 0 && l.gobuf_pc >= 0 && l.gobuf_bp >= 0 && l.g_stack_hi >= 8 &&
		    l.g_size > 0 && l.g_size < 4096) {
			gb->g = l;
			gb->layout_from = "DWARF";
		}
	}
	dwarf_end(dw);
	return gb->layout_from != NULL;
}

int go_binary_load(struct go_binary *gb, const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	Elf *elf;
	GElf_Shdr sh;

	memset(gb, 0, sizeof(*gb));
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(-err));
		return err;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(why, whylen, "%s is not an ELF file", path);
		err = -ENOEXEC;
		goto out;
	}
	if (!find_section(elf, ".gopclntab", &sh) && !find_section(elf, ".go.buildinfo", &sh)) {
		snprintf(why, whylen, "%s is not a Go program", path);
		err = -ENOEXEC;
		goto out;
	}
	read_version(gb, elf);
	gb->funcid_wrapper = gb->major == 1 && gb->minor >= 17 && gb->minor <= 19 ? 21 : -1;
	{
		GElf_Shdr pcsh, textsh;
		Elf_Scn *ps = find_section(elf, ".gopclntab", &pcsh), *ts = find_section(elf, ".text", &textsh);
		Elf_Data *pd = ps ? elf_getdata(ps, NULL) : NULL;

		if (pd && pd->d_buf && pd->d_size < (512u << 20)) {
			gb->pcln_buf = xmalloc(pd->d_size);
			memcpy(gb->pcln_buf, pd->d_buf, pd->d_size);
			if (!go_pcln_init(&gb->pcln, gb->pcln_buf, pd->d_size, ts ? textsh.sh_addr : 0)) {
				free(gb->pcln_buf);
				gb->pcln_buf = NULL;
			}
		}
		if (!gb->pcln_buf) {
			snprintf(why, whylen, "%s: its Go function table (.gopclntab) is missing or unreadable", path);
			err = -ENOTSUP;
			goto out;
		}
	}
	{
		GElf_Ehdr eh;
		size_t nph;

		gb->pie = gelf_getehdr(elf, &eh) && eh.e_type == ET_DYN;
		gb->first_vaddr = UINT64_MAX;
		if (elf_getphdrnum(elf, &nph) == 0)
			for (size_t i = 0; i < nph; i++) {
				GElf_Phdr ph;

				if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < gb->first_vaddr)
					gb->first_vaddr = ph.p_vaddr & ~4095ULL;
			}
	}
	if (!(gb->allgs = symtab_addr(elf, "runtime.allgs", NULL)))
		gb->allgs = allgs_from_code(elf);
	reasons_from_symtab(gb, elf);
	gb->mbuckets = symtab_addr(elf, "runtime.mbuckets", NULL);
	gb->memprofilerate = symtab_addr(elf, "runtime.MemProfileRate", NULL);
	gb->disablememprof = symtab_addr(elf, "runtime.disableMemoryProfiling", NULL);
	if (!layout_from_dwarf(gb, elf) && gb->major == 1 && gb->minor == 19) {
		gb->g = layout_go119;
		gb->layout_from = "the Go 1.19 table";
	}
	if (!gb->reasons.n && gb->major == 1 && gb->minor == 19)
		for (size_t i = 0; i < sizeof(reasons_go119) / sizeof(reasons_go119[0]); i++)
			vec_push(&gb->reasons, xstrdup(reasons_go119[i]));
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int go_binary_can_list(const struct go_binary *gb, const char *path, char *why, size_t whylen)
{
	if (!gb->layout_from) {
		snprintf(why, whylen, "%s (%s) has no DWARF and its Go version's runtime layout is not known "
			 "(known without DWARF: go1.19)", path, gb->version[0] ? gb->version : "Go version unknown");
		return -ENOTSUP;
	}
	if (!gb->allgs) {
		snprintf(why, whylen, "%s (%s): runtime.allgs not found", path, gb->version);
		return -ENOTSUP;
	}
	return 0;
}

void go_binary_free(struct go_binary *gb)
{
	free(gb->pcln_buf);
	gb->pcln_buf = NULL;
	for (size_t i = 0; i < gb->reasons.n; i++)
		free(gb->reasons.v[i]);
	vec_free(&gb->reasons);
}

const char *go_wait_reason(const struct go_binary *gb, unsigned reason)
{
	return reason < gb->reasons.n ? gb->reasons.v[reason] : NULL;
}

const struct go_layout *go_layout_table(int major, int minor)
{
	return major == 1 && minor == 19 ? &layout_go119 : NULL;
}

uint64_t go_binary_allgs_from_code(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	uint64_t a = 0;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	if ((elf = elf_begin(fd, ELF_C_READ_MMAP, NULL))) {
		a = allgs_from_code(elf);
		elf_end(elf);
	}
	close(fd);
	return a;
}

/* A Go string (pointer, length) as a C string, if printable and short. */
static char *go_string(pid_t pid, const uint8_t *hdr)
{
	uint64_t p, len;
	char *s;

	memcpy(&p, hdr, 8);
	memcpy(&len, hdr + 8, 8);
	if (len > 256 || (len && !p))
		return NULL;
	s = xmalloc(len + 1);
	if (len && !proc_read(pid, p, s, len)) {
		free(s);
		return NULL;
	}
	s[len] = 0;
	for (uint64_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20) {
			free(s);
			return NULL;
		}
	return s;
}

/* map[string]string's layout (runtime/map.go, Go 1.12 to 1.23): hmap
 * { count, flags, B, noverflow, hash0, buckets, oldbuckets, ... }; a
 * bucket holds 8 tophash bytes, 8 keys, 8 values (strings, 16 bytes each)
 * and an overflow pointer; a filled cell has tophash >= 5. */
int go_read_labels(pid_t pid, const struct go_binary *gb, uint64_t labels, char **keys, char **values, int max)
{
	uint64_t mapp, count, buckets, nb;
	uint8_t h[48], bkt[272];
	int n = 0;

	if (gb->major != 1 || gb->minor > 20 || !proc_read(pid, labels, &mapp, 8))
		return -1;
	if (!mapp)
		return 0;
	if (!proc_read(pid, mapp, h, sizeof(h)))
		return -1;
	memcpy(&count, h, 8);
	memcpy(&buckets, h + 16, 8);
	if (count > 64 || h[9] > 6)
		return -1;
	nb = 1ull << h[9];
	for (uint64_t b = 0; b < nb && n < max; b++) {
		uint64_t addr = buckets + b * sizeof(bkt);

		for (int chain = 0; addr && chain < 8 && n < max; chain++) {
			if (!proc_read(pid, addr, bkt, sizeof(bkt)))
				return n ? n : -1;
			for (int i = 0; i < 8 && n < max; i++) {
				if (bkt[i] < 5)
					continue;
				keys[n] = go_string(pid, bkt + 8 + 16 * i);
				values[n] = go_string(pid, bkt + 8 + 128 + 16 * i);
				if (!keys[n] || !values[n]) {
					free(keys[n]);
					free(values[n]);
					continue;
				}
				n++;
			}
			memcpy(&addr, bkt + 264, 8);
		}
	}
	return n;
}
