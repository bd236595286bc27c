/* --unwind tables (#15): the compact unwind tables of the files targets map,
 * loaded into the BPF walker's maps (bpf/ktables.bpf.h). One table per file
 * (by its ELF: device and inode), built when a process that maps it is first
 * seen and shared by every process after; each process's executable
 * mappings point at their files' tables. */
#ifndef BPFPROF_KTABLES_H
#define BPFPROF_KTABLES_H

#include <bpf/libbpf.h>
#include "symbols/symbolize.h"

/* A file seen in a target's mappings. */
struct kt_file {
	struct elf_syms *es;
	char *path;
	uint32_t id, rows;                /* kt_files key; 0: no table (none, or evicted) */
	uint64_t used;                    /* the last note of a process that maps it */
	bool tried;                       /* built once (with a table or not) */
	bool evicted;                     /* built again when a process needs it */
	uint64_t evicted_ns;
};

struct ktables {
	struct bpf_map *files, *procs;    /* kt_files (hash of maps), kt_procs */
	struct bpf_map *wanted;           /* kt_wanted: processes walked without tables */
	struct symbolizer *sym;
	VEC(struct kt_file) known;        /* every file seen */
	struct hmap by_elf;               /* struct elf_syms * -> index in known */
	struct hmap loaded;               /* (pid, exec) whose mappings are in kt_procs */
	VEC(pid_t) pending;               /* queued by the walker, mappings not known yet */
	uint32_t next_file;
	uint64_t clock;                   /* ktables_note calls: the LRU's time */
	uint64_t bytes, budget;           /* rows loaded now; --table-memory */
	uint64_t rows, build_ns;          /* totals, for -v */
	uint32_t files_without;           /* files with no CFI (stepped by frame pointer) */
	uint32_t loads;                   /* processes' mappings loaded (ktables_note) */
	uint64_t evicted, reported_evicted; /* tables dropped for the memory bound */
	uint64_t refused, reported_refused; /* tables not loaded: larger than the bound */
	uint64_t pruned_ns;               /* when exited processes were last dropped */
	bool verbose;
};

/* Finds the maps in obj (which has bpf/ktables.bpf.h), after load; sym
 * gives the processes' mappings and the files. budget: --table-memory. */
int ktables_init(struct ktables *kt, struct bpf_object *obj, struct symbolizer *sym, uint64_t budget,
		 bool verbose);
/* pid's executable mappings (its image exec) into kt_procs, building and
 * loading the tables of files not seen before, when (pid, exec) is new or
 * maps more files than when loaded (or one whose table was evicted). */
void ktables_note(struct ktables *kt, pid_t pid, uint32_t exec);
/* Builds and loads the tables of the file at path (and, with_deps, of
 * what the dynamic loader will map for it) before any process maps them. */
void ktables_prebuild(struct ktables *kt, const char *path, bool with_deps);
/* Where the dynamic loader would find a DT_NEEDED name (runpath and origin:
 * the asking file's DT_RUNPATH and directory, or NULL/""). */
bool ktables_find_library(const char *name, const char *runpath, const char *origin, char *out, size_t n);
/* Brings pid's mappings up to date in the symbolizer: false while they
 * cannot be known yet (asked again at the next turn); *exec its image. */
typedef bool (*ktables_refresh_fn)(void *ctx, pid_t pid, uint32_t *exec);
/* Each turn of the loop: the processes the walker queued (met without
 * tables, or in code mapped since) get their tables; exited ones are
 * dropped. True if any process's tables were loaded. */
bool ktables_poll(struct ktables *kt, ktables_refresh_fn refresh, void *ctx);
/* Tables evicted or refused since the last report: one line on stderr. */
void ktables_report(struct ktables *kt);
void ktables_free(struct ktables *kt);

#endif
