/* The one reader of /proc/PID/maps: the symbolizer's snapshots, and the
 * commands that look for a library a process has mapped (its libc, its
 * allocator, a uprobe's "libc"). */
#ifndef BPFPROF_PROCMAPS_H
#define BPFPROF_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct map_line {
	uint64_t start, end, pgoff, ino;
	char perms[8];            /* "r-xp" */
	const char *path;         /* "" when anonymous; "[vdso]" and the like as is */
};

/* Parses one line of the file (modified in place); false if malformed. */
bool procmaps_parse_line(char *line, struct map_line *m);
/* Calls fn on each line of pid's maps (pid <= 0: our own) until it returns
 * false. -errno when the file cannot be read. */
int procmaps_each(pid_t pid, bool (*fn)(const struct map_line *m, void *ctx), void *ctx);
/* Whether path's base name starts with prefix; with whole_name, only if the
 * prefix is followed by '.', '-' or the end ("libc" is libc.so.6 or
 * libc-2.31.so, not libcap.so). */
bool procmaps_named(const char *path, const char *prefix, bool whole_name);

#endif
