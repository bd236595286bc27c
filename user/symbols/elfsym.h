/* One ELF file's symbols and load segments, read once and kept. */
#ifndef BPFPROF_ELFSYM_H
#define BPFPROF_ELFSYM_H

#include "base/util.h"
#include "symbols/srcframe.h"

struct go_pcln;

struct elf_sym {
	uint64_t addr, size;
	const char *name;    /* raw (possibly mangled) name */
	const char *demangled; /* filled lazily; == name when not mangled */
};

struct elf_seg {
	uint64_t vaddr, offset, filesz, memsz;
};

struct elf_cu_range {
	uint64_t lo, hi, off;    /* [lo, hi) in the CU at DWARF offset off */
};

struct elf_syms {
	struct arena arena;
	VEC(struct elf_sym) syms;  /* sorted by addr, one per address */
	VEC(struct elf_sym) aliases; /* the other names of those addresses */
	VEC(struct elf_seg) segs;  /* PT_LOAD segments */
	char build_id[41];         /* hex, "" when absent */
	char debuglink[256];       /* .gnu_debuglink file name, "" when absent */
	uint32_t debuglink_crc;    /* ... and the CRC32 of that file */
	int elf_type;              /* ET_EXEC / ET_DYN */
	bool has_symtab;           /* full .symtab (not only .dynsym) */
	bool is_go;                /* has a .go.buildinfo / .gopclntab section */
	struct go_pcln *gopcln;    /* Go: its function table (file:line), a copy */
	bool has_dwarf;            /* .debug_info here (the ELF is then kept) */
	const char *debug_path;    /* its separate debug file (build id), or NULL */
	void *dw;                  /* libdw handle, opened on first use */
	void *dw_elf;              /* the debug file's ELF, when separate */
	bool dw_tried;
	struct hmap abs_files;     /* a line table's relative name -> with its CU's directory */
	struct hmap fde_names;     /* unnamed code: FDE start -> its name */
	VEC(uint64_t) fde_starts;  /* .eh_frame_hdr's FDE starts, sorted */
	VEC(struct elf_cu_range) cu_ranges; /* DWARF without aranges (clang): the CUs' ranges */
	bool cu_indexed;
	bool fde_tried;
	bool warned;
	void *elf;                 /* libelf handle, kept for unwinding (see below) */
	void *cfi;                 /* its .eh_frame CFI (user/unwind.c), lazily */
	bool cfi_tried;
};

/* --unwind dwarf needs each file's .eh_frame after loading: keep the (mapped)
 * ELF of every file loaded from now on. */
void elf_syms_keep_elf(bool keep);

/* Reads an ELF from an open fd or from memory. Negative errno on failure
 * (-ENOEXEC: not an ELF). */
int elf_syms_load_fd(struct elf_syms *es, int fd);
int elf_syms_load_mem(struct elf_syms *es, void *image, size_t size);
/* Adds the symbols of a separate debug file (same build): .symtab there. */
int elf_syms_merge_fd(struct elf_syms *es, int fd);
void elf_syms_free(struct elf_syms *es);

/* File offset -> ELF virtual address; false if in no PT_LOAD segment. */
bool elf_offset_to_vaddr(const struct elf_syms *es, uint64_t off, uint64_t *vaddr);
/* ELF virtual address -> file offset (for uprobe attach offsets). */
bool elf_vaddr_to_offset(const struct elf_syms *es, uint64_t vaddr, uint64_t *off);
/* Go: the file and line of vaddr (a return address less 1 for callers),
 * from .gopclntab; false when not Go or not known. */
bool elf_go_line(const struct elf_syms *es, uint64_t vaddr, const char **file, int64_t *line);
/* The source frames at vaddr, inlined functions first and the function
 * itself last: Go's from .gopclntab, others' from DWARF (the file's own,
 * or its debug file by build id), read on first use; 0 when unknown. */
int elf_src_frames(struct elf_syms *es, uint64_t vaddr, struct src_frame *out, int max);
/* The file's .eh_frame CFI (libdw's Dwarf_CFI), when its ELF is kept. */
void *elf_cfi(struct elf_syms *es);
/* The start addresses of the file's FDEs (.eh_frame_hdr's index), sorted;
 * none without the index or the kept ELF. */
const uint64_t *elf_fde_starts(struct elf_syms *es, size_t *n);
/* Code without a symbol, named by the function around it: the start of
 * the .eh_frame FDE that contains vaddr; false if none (or the ELF is not
 * kept: --unwind fp). */
bool elf_fde_start(struct elf_syms *es, uint64_t vaddr, uint64_t *start);
/* The symbol containing vaddr, or NULL. */
const struct elf_sym *elf_sym_find(const struct elf_syms *es, uint64_t vaddr);
/* Address of a symbol by name (exact), 0 if absent; for probes and tests. */
uint64_t elf_sym_addr(const struct elf_syms *es, const char *name);
/* What a dynamically linked file asks of the loader, in file order: its
 * interpreter, DT_RUNPATH/DT_RPATH strings (before or after the
 * DT_NEEDED names they serve), DT_NEEDED names. Needs the kept ELF
 * (elf_syms_keep_elf); nothing without it. */
enum elf_dep { ELF_DEP_INTERP, ELF_DEP_RUNPATH, ELF_DEP_NEEDED };
typedef void (*elf_dep_fn)(void *ctx, enum elf_dep kind, const char *text);
void elf_dependencies(const struct elf_syms *es, elf_dep_fn fn, void *ctx);
/* C++ names keep their parameter lists (--full-names); by default they
 * are dropped, as pprof shows C++ names. */
void elf_syms_full_names(bool full);
/* C++ (Itanium ABI) demangling; returns name itself when not mangled. */
const char *elf_sym_pretty(struct elf_syms *es, struct elf_sym *s);

#endif
