/* The one symbolizer: kernel addresses from /proc/kallsyms, user addresses
 * through a snapshot of /proc/PID/maps and each mapped file's ELF symbols
 * (read through /proc/PID/map_files or /proc/PID/root, so containers and
 * deleted files resolve), [vdso], and perf-PID.map files for JIT code. */
#ifndef BPFPROF_SYMBOLIZE_H
#define BPFPROF_SYMBOLIZE_H

#include "model/profile.h"
#include "symbols/elfsym.h"
#include <sys/types.h>

struct symbolizer;

struct sym_frame {
	const char *func;        /* function name, or NULL when unresolved */
	const char *module;      /* mapped file path, "[vdso]", "[kernel.kallsyms]", or NULL */
	const char *build_id;    /* hex, or NULL */
	uint64_t map_start, map_end, map_pgoff;
	uint64_t offset;         /* file offset of the address inside module */
	uint64_t sym_off;        /* address - start of func (when func is set) */
	const char *file;        /* source file (Go: from .gopclntab), or NULL */
	int64_t line, start_line;
	/* Functions inlined at this address (Go), innermost first; func is
	 * the function they were inlined into. */
	int ninl;
	struct { const char *func, *file; int64_t line, start_line; } inl[7];
	enum pf_frame_kind kind;
};

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* A process is kept per program image: `exec` is how many times it exec'd
 * since the profile began (every BPF key carries it: exec_gens), so samples
 * taken before an exec resolve against the program that ran then.
 *
 * Reads /proc/PID/maps (again) and opens the files it maps, so the process
 * can be symbolized after it exits; an exec newer than the newest image
 * known starts a new image, keeping the old. -ESRCH if the process is gone
 * and was never seen. Cheap when nothing changed. */
int sym_snapshot(struct symbolizer *s, pid_t pid, uint32_t exec);
bool sym_known(struct symbolizer *s, pid_t pid);
/* Whether pid's image `exec` has been seen (a snapshot or mapping records). */
bool sym_has_image(struct symbolizer *s, pid_t pid, uint32_t exec);

/* Mapping changes reported by the kernel as they happen (perf mmap2,
 * comm-exec and fork records), so short-lived processes resolve even if
 * they exit before a snapshot. */
void sym_mmap_event(struct symbolizer *s, pid_t pid, uint64_t start, uint64_t len,
		    uint64_t pgoff, const char *path, uint64_t dev, uint64_t ino);
/* pid exec'd: a new image from here on (the old one is kept). */
void sym_exec_event(struct symbolizer *s, pid_t pid);
/* Sets pid's JIT symbols from perf-map text (modified in place); the file
 * reader and the fuzz harness use it. */
void sym_perf_map_text(struct symbolizer *s, pid_t pid, char *text);
void sym_fork_event(struct symbolizer *s, pid_t ppid, pid_t pid);

/* Resolve one address; always fills *f (func NULL when unresolved). */
void sym_user(struct symbolizer *s, pid_t pid, uint32_t exec, uint64_t addr, struct sym_frame *f);
void sym_kernel(struct symbolizer *s, uint64_t addr, struct sym_frame *f);

/* Reads /proc/kallsyms now rather than at the first kernel frame. */
void sym_preload_kernel(struct symbolizer *s);
/* A kernel data symbol near addr (static locks), or NULL. */
const char *sym_kernel_data(struct symbolizer *s, uint64_t addr, uint64_t *off);

/* The ELF file mapped at addr in pid (NULL if none), and addr as that
 * file's ELF virtual address (for unwinding). */
struct elf_syms *sym_user_vaddr(struct symbolizer *s, pid_t pid, uint32_t exec, uint64_t addr,
				 uint64_t *vaddr);
/* Calls fn for each executable mapping of pid's image exec (after a
 * snapshot or mapping records), in address order; es is NULL where no ELF
 * file could be read (JIT code, anonymous memory). */
void sym_each_exec_vma(struct symbolizer *s, pid_t pid, uint32_t exec,
		       void (*fn)(void *ctx, uint64_t start, uint64_t end, uint64_t pgoff,
				  const char *path, struct elf_syms *es),
		       void *ctx);
/* Loads (cached) the ELF at a path, for tests and probe resolution. */
struct elf_syms *sym_elf_path(struct symbolizer *s, const char *path);

/* Forgets processes that have exited (after their samples were symbolized),
 * so long runs do not grow. Returns how many. */
size_t sym_evict_exited(struct symbolizer *s);


/* --debuginfod: debug files not installed are fetched from the servers
 * in $DEBUGINFOD_URLS (libdebuginfod, loaded then). */
void sym_use_debuginfod(bool on);

#endif
