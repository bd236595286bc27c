/* What bpfprof needs to read a Go program's runtime state from outside:
 * its Go version (build info), where runtime.allgs is, the layout of
 * runtime.g, and the wait reasons' text. From the binary's DWARF and
 * .symtab when present; for stripped binaries, allgs is found in the code
 * of runtime.allgadd and the layout comes from a table keyed by the Go
 * version. An unknown layout is an error, never a guess. */
#ifndef BPFPROF_GOBIN_H
#define BPFPROF_GOBIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/util.h"
#include "symbols/gopclntab.h"

struct go_layout {
	int64_t g_stack_hi, g_sched, g_atomicstatus, g_goid, g_waitsince, g_waitreason;
	int64_t g_gopc, g_startpc, g_labels;
	int64_t gobuf_sp, gobuf_pc, gobuf_bp;
	int64_t g_size;          /* bytes to read per g (covers every field) */
};

struct go_binary {
	char version[64];        /* "go1.19.8", "" when the build info is unreadable */
	int major, minor;
	uint64_t allgs;          /* vaddr of runtime.allgs ([]*g), 0 if not found */
	uint64_t mbuckets;       /* vaddr of runtime.mbuckets (the heap profile's buckets), 0 if unknown */
	uint64_t memprofilerate; /* vaddr of runtime.MemProfileRate */
	uint64_t disablememprof; /* vaddr of runtime.disableMemoryProfiling (a bool), 0 if absent */
	struct go_layout g;
	const char *layout_from; /* "DWARF" or "the Go 1.19 table" */
	VEC(char *) reasons;     /* waitReasonStrings, by waitReason */
	struct go_pcln pcln;     /* its function table (a copy): the stack walk */
	void *pcln_buf;
	int funcid_wrapper;      /* funcID of compiler wrappers (elided), -1 unknown */
	bool pie;                /* ET_DYN: addresses move by the load bias */
	uint64_t first_vaddr;    /* the lowest PT_LOAD address, page-aligned */
};

/* Reads path (a Go executable); 0, or -errno with a one-line reason in
 * why (not an ELF, not Go, no function table). */
int go_binary_load(struct go_binary *gb, const char *path, char *why, size_t whylen);
/* Whether its goroutines can be listed (a known layout, allgs found);
 * else -ENOTSUP and why. */
int go_binary_can_list(const struct go_binary *gb, const char *path, char *why, size_t whylen);
void go_binary_free(struct go_binary *gb);
/* The text of a wait reason ("chan receive"), or NULL. */
const char *go_wait_reason(const struct go_binary *gb, unsigned reason);

/* pprof labels (pprof.Do, SetGoroutineLabels): the label set g.labels
 * points at, read from pid's memory — a *map[string]string up to Go 1.20.
 * Up to max pairs into keys/values (strings the caller frees); the number
 * read, or -1 when the memory does not look like a label set. */
int go_read_labels(pid_t pid, const struct go_binary *gb, uint64_t labels, char **keys, char **values, int max);

/* For tests: the built-in layout of a Go version (NULL if none), and
 * allgs as found in runtime.allgadd's code (what stripped binaries use). */
const struct go_layout *go_layout_table(int major, int minor);
uint64_t go_binary_allgs_from_code(const char *path);

/* Goroutine statuses (runtime2.go), without the _Gscan bit. */
enum { GO_GIDLE = 0, GO_GRUNNABLE = 1, GO_GRUNNING = 2, GO_GSYSCALL = 3, GO_GWAITING = 4,
       GO_GDEAD = 6, GO_GCOPYSTACK = 8, GO_GPREEMPTED = 9, GO_GSCAN = 0x1000 };

#endif
