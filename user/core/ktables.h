/* --unwind tables (#15): the compact unwind tables of the files targets map,
 * loaded into the BPF walker's maps (bpf/ktables.bpf.h). One table per file
 * (by its ELF: device and inode), built when a process that maps it is first
 * seen and shared by every process after; each process's executable
 * mappings point at their files' tables. */
#ifndef BPFPROF_KTABLES_H
#define BPFPROF_KTABLES_H

#include <bpf/libbpf.h>
#include "core/session.h"

struct ktables {
	struct bpf_map *files, *procs;    /* kt_files (hash of maps), kt_procs */
	struct bpf_map *wanted;           /* kt_wanted: processes walked without tables */
	struct hmap by_elf;               /* struct elf_syms * -> file id << 32 | rows */
	struct hmap loaded;               /* (pid, exec) whose mappings are in kt_procs */
	uint32_t next_file;
	uint64_t rows, build_ns;          /* totals, for -v */
	uint32_t files_without;           /* files with no CFI (stepped by frame pointer) */
	uint32_t loads;                   /* processes' mappings loaded (ktables_note) */
	bool verbose;
};

/* pid's executable mappings (its image exec) into kt_procs, building and
 * loading the tables of files not seen before, when (pid, exec) is new or
 * maps more files than when loaded: for processes found by their events,
 * and targets as they load. */
void ktables_note(struct ktables *kt, struct session *s, pid_t pid, uint32_t exec);
/* A command's start, after load: the maps found, and -p targets' tables
 * loaded before the first event (-- CMD's after its exec: ktables_poll). */
int ktables_start(struct ktables *kt, struct session *s, struct bpf_object *obj);
/* Each turn of the loop: targets that exec'd or map more files; true if
 * any did (the loop then comes back at once: a program maps its libraries
 * one by one in the first milliseconds after its exec). */
bool ktables_poll(struct ktables *kt, struct session *s);
void ktables_free(struct ktables *kt);

#endif
