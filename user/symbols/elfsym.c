#include "symbols/elfsym.h"
#include "symbols/gopclntab.h"

#include <errno.h>
#include <fcntl.h>
#include <dwarf.h>
#include <gelf.h>
#include <libelf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/rustv0.h"

/* From libstdc++ (the Itanium C++ ABI's demangler). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static void elf_init_once(void)
{
	static bool done;

	if (!done) {
		elf_version(EV_CURRENT);
		done = true;
	}
}

static bool keep_elf;

void elf_syms_keep_elf(bool keep)
{
	keep_elf = keep;
}

/* Keeps elf (mapped, so the fd can close) or ends it. */
static void keep_or_end(struct elf_syms *es, Elf *elf, int err, bool has_fd)
{
	if (!elf)
		return;
	/* Kept for unwinding, or for its line tables (read when a sample
	 * lands in it: mapped, not read, until then). */
	if ((keep_elf || es->has_dwarf) && !err && (!has_fd || elf_cntl(elf, ELF_C_FDDONE) == 0)) {
		es->elf = elf;
		return;
	}
	elf_end(elf);
}

/* Higher is a better name for an address that has several. */
static int name_rank(const char *name, int bind)
{
	/* The plainest name wins (calloc over __libc_calloc, though glibc's
	 * calloc is a weak alias); binding only breaks ties. */
	int r = 300 + (bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0);

	while (*name == '_') {
		r -= 10;
		name++;
	}
	return r;
}

struct raw_sym {
	uint64_t addr, size;
	const char *name;
	int rank;
};
typedef VEC(struct raw_sym) raw_vec;

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	return strlen(x->name) < strlen(y->name) ? -1 : strlen(x->name) > strlen(y->name);
}

/* Symbol tables are read from files a profiled process may have crafted: a
 * table must lie inside the file, and one claiming more than this many bytes
 * (~11M symbols; the largest real ones are a few hundred thousand) is
 * skipped, with a warning, rather than read (a sparse file once claimed
 * 4 GiB and cost 11 s and 4 GB each time it was loaded). */
#define SYMTAB_MAX (256u << 20)

static const char *go_plain_name(struct elf_syms *es, const char *name)
{
	size_t n = strlen(name);

	if (n > 5 && !strcmp(name + n - 5, ".abi0")) {
		char *copy = arena_strdup(&es->arena, name);

		copy[n - 5] = 0;
		return copy;
	}
	return name;
}

static void collect_syms(struct elf_syms *es, Elf *elf, raw_vec *raw, bool symtab_only)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t file_size = 0;

	elf_rawfile(elf, &file_size);

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type != SHT_SYMTAB && (symtab_only || sh.sh_type != SHT_DYNSYM))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			es->has_symtab = true;
		if (sh.sh_size > SYMTAB_MAX || sh.sh_offset > file_size || sh.sh_size > file_size - sh.sh_offset) {
			warn_msg("an ELF symbol table of %llu bytes at offset %llu (file: %zu bytes) not read: "
				 "out of the file or over %u MiB", (unsigned long long)sh.sh_size,
				 (unsigned long long)sh.sh_offset, file_size, SYMTAB_MAX >> 20);
			continue;
		}
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			int type;

			if (!gelf_getsym(data, i, &s))
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (es->is_go) /* Go's assembly ABI suffix: Go's own tools show the plain name */
				name = go_plain_name(es, name);
			if (!s.st_size) { /* unsized (assembly): bound it by its section */
				Elf_Scn *home = elf_getscn(elf, s.st_shndx);
				GElf_Shdr hs;

				if (home && gelf_getshdr(home, &hs) && s.st_value >= hs.sh_addr &&
				    s.st_value < hs.sh_addr + hs.sh_size)
					s.st_size = hs.sh_addr + hs.sh_size - s.st_value;
			}
			vec_push(raw, ((struct raw_sym){ s.st_value, s.st_size,
				arena_strdup(&es->arena, name), name_rank(name, GELF_ST_BIND(s.st_info)) }));
		}
	}
}

/* Sorts and keeps one symbol per address (the best name). */
static void finish_syms(struct elf_syms *es, raw_vec *raw)
{
	for (size_t i = 0; i < es->syms.n; i++) /* re-merge existing ones */
		vec_push(raw, ((struct raw_sym){ es->syms.v[i].addr, es->syms.v[i].size,
					 es->syms.v[i].name, 1000 }));
	es->syms.n = 0;
	vec_sort(raw, cmp_raw);
	for (size_t i = 0; i < raw->n; i++) {
		struct raw_sym *r = &raw->v[i];

		if (es->syms.n && es->syms.v[es->syms.n - 1].addr == r->addr) {
			struct elf_sym *last = &es->syms.v[es->syms.n - 1];

			if (!last->size)
				last->size = r->size;
			if (strcmp(last->name, r->name))
				vec_push(&es->aliases, ((struct elf_sym){ r->addr, r->size, r->name, NULL }));
			continue;
		}
		vec_push(&es->syms, ((struct elf_sym){ r->addr, r->size, r->name, NULL }));
	}
	vec_free(raw);
}

static void read_notes(struct elf_syms *es, Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		const char *sname;
		size_t shstrndx;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (elf_getshdrstrndx(elf, &shstrndx) == 0 &&
		    (sname = elf_strptr(elf, shstrndx, sh.sh_name))) {
			if (!strcmp(sname, ".gopclntab") || !strcmp(sname, ".go.buildinfo"))
				es->is_go = true;
			if (!strcmp(sname, ".debug_info") && sh.sh_type != SHT_NOBITS && sh.sh_size)
				es->has_dwarf = true;
			if (!strcmp(sname, ".gnu_debuglink") && sh.sh_type != SHT_NOBITS &&
			    (data = elf_getdata(scn, NULL)) && data->d_buf && data->d_size) {
				size_t nl = strnlen(data->d_buf, data->d_size), co = (nl + 1 + 3) & ~(size_t)3;

				snprintf(es->debuglink, sizeof(es->debuglink), "%.*s", (int)nl, (char *)data->d_buf);
				/* the debug file's CRC32 follows, 4-aligned */
				if (co + 4 <= data->d_size)
					memcpy(&es->debuglink_crc, (const char *)data->d_buf + co, 4);
			}
		}
		if (sh.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + name_off, "GNU", 4) && nh.n_descsz <= 20) {
				const unsigned char *d = (unsigned char *)data->d_buf + desc_off;

				for (size_t i = 0; i < nh.n_descsz; i++)
					sprintf(es->build_id + 2 * i, "%02x", d[i]);
			}
		}
	}
}

/* A section's header and bytes by name, or NULL. */
static Elf_Data *section_named(Elf *elf, const char *want, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, sh) && (name = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(name, want))
			return sh->sh_type == SHT_NOBITS ? NULL : elf_getdata(scn, NULL);
	return NULL;
}

/* A Go binary without .symtab (-ldflags=-s -w, distributions' builds):
 * its functions from .gopclntab, which the runtime itself needs and no
 * strip removes. */
static void collect_go_syms(struct elf_syms *es, raw_vec *raw)
{
	struct go_pcln *t = es->gopcln;

	for (uint64_t i = 0; i < t->nfunc; i++) {
		uint64_t entry, end;
		const char *name;

		if (go_pcln_func(t, i, &entry, &name) && go_pcln_end(t, i, &end) && end > entry)
			vec_push(raw, ((struct raw_sym){ entry, end - entry, arena_strdup(&es->arena, name),
							 name_rank(name, STB_GLOBAL) }));
	}
}

/* An object symbol's address in .symtab, 0 if absent. */
static uint64_t object_addr(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (gelf_getsym(d, i, &sym) && (name = elf_strptr(elf, sh.sh_link, sym.st_name)) && !strcmp(name, want))
				return sym.st_value;
		}
	}
	return 0;
}

/* The section holding vaddr: its bytes from vaddr to its end. */
static const uint8_t *section_at(Elf *elf, uint64_t vaddr, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || vaddr < sh.sh_addr ||
		    vaddr >= sh.sh_addr + sh.sh_size || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		if (vaddr - sh.sh_addr >= d->d_size)
			return NULL;
		*len = d->d_size - (vaddr - sh.sh_addr);
		return (const uint8_t *)d->d_buf + (vaddr - sh.sh_addr);
	}
	return NULL;
}

/* Go 1.18+: where function data (inline trees) starts, moduledata.gofunc:
 * the symbol go.func.* (go:func.* from 1.20), or in a stripped 1.18/1.19
 * binary the word at 304 of moduledata, found in .noptrdata by its first
 * word (the address of .gopclntab). The bytes from there to the end of
 * their section are copied. */
static void load_gofunc(struct elf_syms *es, Elf *elf, uint64_t pclntab_addr)
{
	uint64_t gofunc = object_addr(elf, "go.func.*");
	const uint8_t *bytes;
	size_t len = 0;
	void *copy;

	if (!gofunc)
		gofunc = object_addr(elf, "go:func.*");
	if (!gofunc && es->gopcln->magic == 0xfffffff0) {
		GElf_Shdr sh;
		Elf_Data *nd = section_named(elf, ".noptrdata", &sh);

		for (size_t off = 0; nd && nd->d_buf && off + 312 <= nd->d_size; off += 8) {
			uint64_t w;

			memcpy(&w, (const uint8_t *)nd->d_buf + off, 8);
			if (w == pclntab_addr) {
				memcpy(&gofunc, (const uint8_t *)nd->d_buf + off + 304, 8);
				break;
			}
		}
	}
	if (!gofunc || !(bytes = section_at(elf, gofunc, &len)) || len > (256u << 20))
		return;
	copy = xmalloc(len);
	memcpy(copy, bytes, len);
	es->gopcln->gofunc = copy;
	es->gopcln->gofunc_len = len;
}

/* Go: a copy of .gopclntab, kept (the ELF itself may not be). */
static void load_gopcln(struct elf_syms *es, Elf *elf)
{
	GElf_Shdr pcsh, textsh;
	Elf_Data *pc = section_named(elf, ".gopclntab", &pcsh);
	uint64_t text = section_named(elf, ".text", &textsh) ? textsh.sh_addr : 0;
	struct go_pcln *t;
	void *copy;

	if (!pc || !pc->d_buf || pc->d_size > (512u << 20))
		return;
	copy = xmalloc(pc->d_size);
	memcpy(copy, pc->d_buf, pc->d_size);
	t = xcalloc(1, sizeof(*t));
	if (!go_pcln_init(t, copy, pc->d_size, text)) {
		free(copy);
		free(t);
		return;
	}
	es->gopcln = t;
	load_gofunc(es, elf, pcsh.sh_addr);
}

void *elf_cfi(struct elf_syms *es)
{
	if (!es->cfi_tried) {
		es->cfi_tried = true;
		if (es->elf)
			es->cfi = dwarf_getcfi_elf(es->elf);
	}
	return es->cfi;
}

/* FDE start addresses from .eh_frame_hdr's table (version 1; the usual
 * udata4 count and datarel sdata4 pairs). */
static bool fde_starts_from_hdr(Elf *elf, void *vec)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		const uint8_t *p;
		uint32_t count;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".eh_frame_hdr") || !(d = elf_getdata(scn, NULL)) || d->d_size < 12)
			continue;
		p = d->d_buf;
		/* version, eh_frame_ptr encoding, count encoding, table encoding */
		if (p[0] != 1 || p[2] != 0x03 || p[3] != 0x3b || (p[1] & 0x0f) != 0x0b)
			return false;
		memcpy(&count, p + 8, 4);
		if (12 + (uint64_t)count * 8 > d->d_size)
			return false;
		for (uint32_t i = 0; i < count; i++) {
			int32_t rel;

			memcpy(&rel, p + 12 + (size_t)i * 8, 4);
			vec_push((VEC(uint64_t) *)vec, sh.sh_addr + (int64_t)rel);
		}
		return true;
	}
	return false;
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

const uint64_t *elf_fde_starts(struct elf_syms *es, size_t *n)
{
	if (!es->fde_tried) {
		es->fde_tried = true;
		if (es->elf && fde_starts_from_hdr(es->elf, &es->fde_starts) && es->fde_starts.n > 1)
			qsort(es->fde_starts.v, es->fde_starts.n, sizeof(uint64_t), cmp_addr);
	}
	*n = es->fde_starts.n;
	return es->fde_starts.v;
}

bool elf_fde_start(struct elf_syms *es, uint64_t vaddr, uint64_t *start)
{
	Dwarf_CFI *cfi = elf_cfi(es);
	Dwarf_Frame *fr;
	size_t n, lo = 0, hi;
	const uint64_t *v = elf_fde_starts(es, &n);

	/* The last FDE starting at or before vaddr, if some FDE covers it. */
	if (!n || !cfi || dwarf_cfi_addrframe(cfi, vaddr, &fr) != 0)
		return false;
	free(fr);
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	*start = v[lo - 1];
	return true;
}

/* The libdw handle of a file's debug information: the file's own
 * (.debug_info), else its separate debug file. */
static Dwarf *dwarf_of(struct elf_syms *es)
{
	if (!es->dw_tried) {
		es->dw_tried = true;
		if (es->has_dwarf && es->elf) {
			es->dw = dwarf_begin_elf(es->elf, DWARF_C_READ, NULL);
		} else if (es->debug_path) {
			int fd = open(es->debug_path, O_RDONLY | O_CLOEXEC);
			Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;

			if (elf && elf_cntl(elf, ELF_C_FDDONE) == 0 && (es->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL)))
				es->dw_elf = elf;
			else if (elf)
				elf_end(elf);
			if (fd >= 0)
				close(fd);
		}
	}
	return es->dw;
}

/* A DIE's name, through its abstract origin or specification. */
static const char *die_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;
	const char *n = NULL;

	if (dwarf_attr_integrate(d, DW_AT_name, &a))
		n = dwarf_formstring(&a);
	return n;
}

/* A file name as the line table has it, made absolute with the compile
 * directory when relative (as addr2line shows it; go tool pprof -list
 * finds the source by it). Kept per name. */
static const char *abs_file(struct elf_syms *es, Dwarf_Die *cu, const char *file)
{
	Dwarf_Attribute a;
	const char *dir;
	bool found;
	uint64_t *slot;
	char buf[4096];

	if (!file || file[0] == '/')
		return file;
	slot = hmap_upsert(&es->abs_files, (uintptr_t)file, 0, 0, &found);
	if (!found) {
		dir = dwarf_attr(cu, DW_AT_comp_dir, &a) ? dwarf_formstring(&a) : NULL;
		if (dir && dir[0] == '/') {
			snprintf(buf, sizeof(buf), "%s/%s", dir, file[0] == '.' && file[1] == '/' ? file + 2 : file);
			*slot = (uintptr_t)arena_strdup(&es->arena, buf);
		} else {
			*slot = (uintptr_t)file;
		}
	}
	return (const char *)(uintptr_t)*slot;
}

/* The CU holding vaddr. Through .debug_aranges when the file has them
 * (gcc emits them); clang does not, and libdw then finds nothing: the CUs'
 * own address ranges, indexed once per file, sorted. */
static int cmp_cu_range(const void *a, const void *b)
{
	const struct elf_cu_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool cu_of(struct elf_syms *es, Dwarf *dw, uint64_t vaddr, Dwarf_Die *cu)
{
	typeof(es->cu_ranges) *idx = &es->cu_ranges;
	size_t lo = 0, hi;

	if (dwarf_addrdie(dw, vaddr, cu))
		return true;
	if (!es->cu_indexed) {
		Dwarf_Off off = 0, next;
		size_t hsize;

		es->cu_indexed = true;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			Dwarf_Die d;
			Dwarf_Addr base, start, end;
			ptrdiff_t it = 0;

			if (dwarf_offdie(dw, off + hsize, &d))
				while ((it = dwarf_ranges(&d, it, &base, &start, &end)) > 0)
					if (end > start)
						vec_push(idx, ((struct elf_cu_range){ start, end, off + hsize }));
			off = next;
		}
		if (idx->n > 1)
			qsort(idx->v, idx->n, sizeof(idx->v[0]), cmp_cu_range);
	}
	hi = idx->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx->v[mid].lo <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges may nest or overlap little: look back a few */
	for (size_t i = lo; i-- > 0 && lo - i <= 8;)
		if (vaddr >= idx->v[i].lo && vaddr < idx->v[i].hi)
			return dwarf_offdie(dw, idx->v[i].off, cu) != NULL;
	return false;
}

/* DWARF: the line at vaddr, and the chain of inlined subroutines around it
 * (each one's call site is the line in the next one out). */
static int dwarf_frames(struct elf_syms *es, uint64_t vaddr, struct src_frame *out, int max)
{
	Dwarf *dw = dwarf_of(es);
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Line *ln;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	const char *file = NULL;
	int line = 0, ns, n = 0;
	bool outermost = false;

	if (!dw || !cu_of(es, dw, vaddr, &cu))
		return 0;
	if ((ln = dwarf_getsrc_die(&cu, vaddr))) {
		file = dwarf_linesrc(ln, NULL, NULL);
		dwarf_lineno(ln, &line);
	}
	dwarf_getsrcfiles(&cu, &files, &nfiles);
	ns = dwarf_getscopes(&cu, vaddr, &scopes);
	/* Past the innermost function, libdw lists the abstract definition's
	 * scopes; the concrete nesting (inlined into what, inlined into what)
	 * is the chain of DIEs that contain the innermost one. */
	for (int i = 0; i < ns; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Die *chain = NULL, inner = scopes[i];
			int nc = dwarf_getscopes_die(&inner, &chain);

			if (nc > 0) {
				free(scopes);
				scopes = chain;
				ns = nc;
			}
			break;
		}
		if (tag == DW_TAG_subprogram)
			break;
	}
	for (int i = 0; i < ns && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		Dwarf_Attribute a;
		Dwarf_Word cf = 0, cl = 0;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		int decl = 0;

		dwarf_decl_line(&scopes[i], &decl);
		out[n++] = (struct src_frame){ die_name(&scopes[i]), abs_file(es, &cu, file), line, decl };
		if (tag == DW_TAG_subprogram) {
			outermost = true;
			break;
		}
		/* The next frame out is at this one's call site. */
		if (dwarf_attr(&scopes[i], DW_AT_call_file, &a) && dwarf_formudata(&a, &cf) == 0 && files && cf < nfiles)
			file = dwarf_filesrc(files, cf, NULL, NULL);
		else
			file = NULL;
		line = dwarf_attr(&scopes[i], DW_AT_call_line, &a) && dwarf_formudata(&a, &cl) == 0 ? (int)cl : 0;
	}
	free(scopes);
	/* The function itself when its scope was not listed (libdw lists an
	 * inlined instance's abstract scopes, not the concrete caller), or no
	 * scope at all: named by the caller from the symbol table. */
	if (!outermost && (n || file) && n < max)
		out[n++] = (struct src_frame){ NULL, abs_file(es, &cu, file), line };
	return n;
}

int elf_src_frames(struct elf_syms *es, uint64_t vaddr, struct src_frame *out, int max)
{
	int64_t i;

	if (es->gopcln)
		return (i = go_pcln_find(es->gopcln, vaddr)) < 0 ? 0 : go_pcln_frames(es->gopcln, (uint64_t)i, vaddr, out, max);
	return dwarf_frames(es, vaddr, out, max);
}

bool elf_go_line(const struct elf_syms *es, uint64_t vaddr, const char **file, int64_t *line)
{
	int64_t i;

	if (!es->gopcln || (i = go_pcln_find(es->gopcln, vaddr)) < 0)
		return false;
	return go_pcln_line(es->gopcln, (uint64_t)i, vaddr, file, line);
}

static int load_elf(struct elf_syms *es, Elf *elf)
{
	raw_vec raw = { 0 };
	GElf_Ehdr eh;
	size_t nph;

	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	es->elf_type = eh.e_type;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
				vec_push(&es->segs, ((struct elf_seg){ ph.p_vaddr, ph.p_offset,
								ph.p_filesz, ph.p_memsz }));
		}
	}
	read_notes(es, elf);
	collect_syms(es, elf, &raw, false);
	if (es->is_go)
		load_gopcln(es, elf);
	if (es->gopcln && !es->has_symtab)
		collect_go_syms(es, &raw);
	finish_syms(es, &raw);
	return 0;
}

int elf_syms_load_fd(struct elf_syms *es, int fd)
{
	Elf *elf;
	int err;

	elf_init_once();
	memset(es, 0, sizeof(*es));
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = load_elf(es, elf);
	keep_or_end(es, elf, err, true);
	return err;
}

int elf_syms_load_mem(struct elf_syms *es, void *image, size_t size)
{
	Elf *elf;
	int err;

	elf_init_once();
	memset(es, 0, sizeof(*es));
	elf = elf_memory(image, size);
	err = load_elf(es, elf);
	keep_or_end(es, elf, err, false);
	return err;
}

int elf_syms_merge_fd(struct elf_syms *es, int fd)
{
	raw_vec raw = { 0 };
	Elf *elf;

	elf_init_once();
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -ENOEXEC;
	}
	collect_syms(es, elf, &raw, true);
	finish_syms(es, &raw);
	elf_end(elf);
	return 0;
}

void elf_syms_free(struct elf_syms *es)
{
	if (es->gopcln) {
		free((void *)es->gopcln->data);
		free((void *)es->gopcln->gofunc);
		free(es->gopcln);
	}
	if (es->cfi)
		dwarf_cfi_end(es->cfi);
	if (es->dw)
		dwarf_end(es->dw);
	hmap_free(&es->abs_files);
	hmap_free(&es->fde_names);
	vec_free(&es->fde_starts);
	vec_free(&es->cu_ranges);
	if (es->dw_elf)
		elf_end(es->dw_elf);
	if (es->elf)
		elf_end(es->elf);
	vec_free(&es->syms);
	vec_free(&es->segs);
	vec_free(&es->aliases);
	arena_free(&es->arena);
}

bool elf_offset_to_vaddr(const struct elf_syms *es, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < es->segs.n; i++) {
		const struct elf_seg *s = &es->segs.v[i];

		if (off >= s->offset && off < s->offset + s->memsz) {
			*vaddr = off - s->offset + s->vaddr;
			return true;
		}
	}
	return false;
}

const struct elf_sym *elf_sym_find(const struct elf_syms *es, uint64_t vaddr)
{
	size_t lo = VEC_UPPER_BOUND(es->syms, addr, vaddr); /* first symbol past vaddr */
	const struct elf_sym *s;

	if (!lo)
		return NULL;
	s = &es->syms.v[lo - 1];
	/* A sized symbol must contain the address; an unsized one (some
	 * assembly) is trusted up to the next symbol. */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	return s;
}

uint64_t elf_sym_addr(const struct elf_syms *es, const char *name)
{
	for (size_t i = 0; i < es->syms.n; i++)
		if (strcmp(es->syms.v[i].name, name) == 0)
			return es->syms.v[i].addr;
	for (size_t i = 0; i < es->aliases.n; i++)
		if (strcmp(es->aliases.v[i].name, name) == 0)
			return es->aliases.v[i].addr;
	return 0;
}

static bool full_names;

void elf_syms_full_names(bool full)
{
	full_names = full;
}

/* pprof's default for C++: the name without its parameter list (and the
 * qualifiers after it): "demo::Widget::spin(int) const" is
 * "demo::Widget::spin"; "Foo::operator()(int)" is "Foo::operator()".
 * The list is the last balanced (...) group, ignoring what angle brackets
 * hold. */
static void strip_params(char *d)
{
	size_t n = strlen(d);
	int depth = 0;
	char *close = NULL;

	for (char *p = d + n; p-- > d;) {
		if (*p == ')') {
			close = p;
			break;
		}
	}
	if (!close)
		return;
	for (char *p = close; p >= d; p--) {
		if (*p == ')')
			depth++;
		else if (*p == '(' && --depth == 0) {
			if (p > d)
				*p = 0;
			return;
		}
	}
}

/* Rust's legacy mangling is Itanium's with a hash as the last component
 * ("core::fmt::write::h1f9a0c6de1d1b6b2"): the name without it, as Rust's
 * own tools print it. */
static void strip_rust_hash(char *d)
{
	size_t n = strlen(d);

	if (n < 20 || strncmp(d + n - 19, "::h", 3))
		return;
	for (size_t i = n - 16; i < n; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return;
	d[n - 19] = 0;
}

const char *elf_sym_pretty(struct elf_syms *es, struct elf_sym *s)
{
	if (!s->demangled) {
		s->demangled = s->name;
		if (s->name[0] == '_' && s->name[1] == 'R') { /* Rust's v0 mangling */
			char *d = rust_v0_demangle(s->name);

			if (d)
				s->demangled = arena_strdup(&es->arena, d);
			free(d);
		} else if (s->name[0] == '_' && s->name[1] == 'Z') {
			int status = 0;
			char *d = __cxa_demangle(s->name, NULL, NULL, &status);

			if (d && status == 0) {
				if (!full_names)
					strip_params(d);
				strip_rust_hash(d);
				s->demangled = arena_strdup(&es->arena, d);
			}
			free(d);
		}
	}
	return s->demangled;
}

bool elf_vaddr_to_offset(const struct elf_syms *es, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < es->segs.n; i++) {
		const struct elf_seg *s = &es->segs.v[i];

		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*off = vaddr - s->vaddr + s->offset;
			return true;
		}
	}
	return false;
}

void elf_dependencies(const struct elf_syms *es, elf_dep_fn fn, void *ctx)
{
	Elf *elf = es->elf;
	Elf_Scn *scn = NULL;
	size_t nph = 0;

	if (!elf)
		return;
	/* The program interpreter (the dynamic loader). */
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			size_t size;
			const char *raw = elf_rawfile(elf, &size);

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP && raw &&
			    ph.p_offset < size && ph.p_filesz <= size - ph.p_offset &&
			    memchr(raw + ph.p_offset, 0, ph.p_filesz))
				fn(ctx, ELF_DEP_INTERP, raw + ph.p_offset);
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn d;
			const char *name;

			if (!gelf_getdyn(data, (int)i, &d))
				break;
			if (d.d_tag != DT_NEEDED && d.d_tag != DT_RUNPATH && d.d_tag != DT_RPATH)
				continue;
			if (!(name = elf_strptr(elf, sh.sh_link, d.d_un.d_val)))
				continue;
			fn(ctx, d.d_tag == DT_NEEDED ? ELF_DEP_NEEDED : ELF_DEP_RUNPATH, name);
		}
	}
}
