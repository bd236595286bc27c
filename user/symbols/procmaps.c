/* The one reader of /proc/PID/maps. */
#include "symbols/procmaps.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool procmaps_parse_line(char *line, struct map_line *m)
{
	unsigned long long start, end, pgoff, ino;
	char dev[16];
	int name_at = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &start, &end, m->perms, &pgoff, dev, &ino,
		   &name_at) < 6)
		return false;
	m->start = start;
	m->end = end;
	m->pgoff = pgoff;
	m->ino = ino;
	m->path = name_at ? line + name_at : "";
	return true;
}

int procmaps_each(pid_t pid, bool (*fn)(const struct map_line *m, void *ctx), void *ctx)
{
	char path[64], *text, *line, *save = NULL;
	size_t len;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	if (!(text = read_whole_file(path, &len)))
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct map_line m;

		if (procmaps_parse_line(line, &m) && !fn(&m, ctx))
			break;
	}
	free(text);
	return 0;
}

bool procmaps_named(const char *path, const char *prefix, bool whole_name)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(prefix);

	base = base ? base + 1 : path;
	if (strncmp(base, prefix, n))
		return false;
	return !whole_name || !base[n] || base[n] == '.' || base[n] == '-';
}
