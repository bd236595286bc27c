/* What is profiled: -p/-t/--cgroup checked and kept alive (pid reuse is
 * told apart by start time), -- CMD launched, --follow NAME found, and each
 * target process's mappings kept for the symbolizer. */
#include "core/targets.h"
#include "symbols/mmapwatch.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

static bool process_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Fields of /proc/PID/stat after the command name (which may hold spaces
 * and parentheses): field 22 is the start time, in clock ticks since boot. */
static uint64_t proc_start_time(pid_t pid)
{
	char path[64], *text, *p;
	size_t len;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(text = read_whole_file(path, &len)))
		return 0;
	p = strrchr(text, ')');
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			&start) != 1)
		start = 0;
	free(text);
	return start;
}

pid_t proc_tgid(pid_t tid)
{
	char *text = proc_status(tid);
	const char *t = text ? status_field(text, "Tgid") : NULL;
	int tgid = t ? atoi(t) : 0;

	free(text);
	return tgid;
}

/* A -p target still alive: the same process, not another that got its pid
 * after it exited (kill(pid, 0) alone cannot tell them apart). */
static bool target_alive(struct session *s, pid_t pid)
{
	uint64_t *start = hmap_get(&s->pid_starts, (uint64_t)pid, 0);

	if (!process_exists(pid))
		return false;
	return !start || !*start || proc_start_time(pid) == *start;
}

static bool thread_exists(pid_t tid)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d", tid); /* /proc/TID works for any thread */
	return access(p, F_OK) == 0;
}

bool targets_any_alive(struct session *s)
{
	for (size_t i = 0; i < s->o.pids.n; i++)
		if (target_alive(s, s->o.pids.v[i]))
			return true;
	for (size_t i = 0; i < s->o.tids.n; i++)
		if (thread_exists(s->o.tids.v[i]))
			return true;
	return false;
}

int targets_check(struct session *s)
{
	struct statfs sfs;

	if (s->o.cmd && (s->o.pids.n || s->o.tids.n)) {
		err_msg("-- CMD cannot be combined with -p or -t");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->o.pids.n; i++) {
		pid_t pid = s->o.pids.v[i], tgid;
		bool found, dup = false;

		if (!process_exists(pid)) {
			err_msg("pid %d: no such process", pid);
			return -ESRCH;
		}
		/* A thread id given as -p: the kernel filter keys processes, so
		 * it would match nothing. Profile its process, and say so. */
		if ((tgid = proc_tgid(pid)) > 0 && tgid != pid) {
			fprintf(stderr, "%s: %d is a thread of process %d: profiling the process "
				"(-t %d profiles the thread alone)\n", prog_name, pid, tgid, pid);
			for (size_t j = 0; j < s->o.pids.n; j++)
				dup |= s->o.pids.v[j] == tgid;
			if (dup) {
				s->o.pids.v[i--] = s->o.pids.v[--s->o.pids.n];
				continue;
			}
			s->o.pids.v[i] = pid = tgid;
		}
		*hmap_upsert(&s->pid_starts, (uint64_t)pid, 0, 0, &found) = proc_start_time(pid);
	}
	for (size_t i = 0; i < s->o.tids.n; i++) {
		if (!thread_exists(s->o.tids.v[i])) {
			err_msg("tid %d: no such thread", s->o.tids.v[i]);
			return -ESRCH;
		}
	}
	if (s->o.cgroup) {
		s->cgroup_fd = open(s->o.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->cgroup_fd < 0) {
			err_msg("cgroup %s: %s", s->o.cgroup, strerror(errno));
			return -ENOENT;
		}
		if (fstatfs(s->cgroup_fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
			err_msg("cgroup %s: not a cgroup v2 directory", s->o.cgroup);
			return -EINVAL;
		}
	}
	return 0;
}


/* -- CMD: the one child launcher (child.c), held until attached. */
int targets_spawn_child(struct session *s)
{
	int err = child_spawn(&s->launch, s->o.cmd);

	if (err < 0)
		return err;
	s->child = s->launch.pid;
	vec_push(&s->o.pids, s->child);
	return 0;
}


/* --follow */

size_t session_pid_capacity(struct session *s)
{
	size_t n = s->o.pids.n;

	/* --follow's newcomers; -- CMD's children, added at fork. */
	return s->o.follow || s->o.cmd ? n + 4096 : (n ? n : 1);
}

static bool comm_is(pid_t pid, const char *name)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!(f = fopen(path, "r")))
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	return !strcmp(comm, name);
}

/* New processes named --follow: make them targets. Each pid's name is read
 * once (the set is forgotten every minute, for reused pids). */
void targets_follow_scan(struct session *s)
{
	static struct hmap seen;
	static uint64_t seen_since;
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	if (now_ns(CLOCK_MONOTONIC) - seen_since > 60000000000ULL) {
		hmap_free(&seen);
		seen_since = now_ns(CLOCK_MONOTONIC);
	}
	while ((e = readdir(d))) {
		uint64_t pid;
		bool known = false, found;

		if (!parse_u64(e->d_name, &pid))
			continue;
		hmap_upsert(&seen, pid, 0, 1, &found);
		if (found || !comm_is((pid_t)pid, s->o.follow))
			continue;
		for (size_t i = 0; i < s->o.pids.n && !known; i++)
			known = s->o.pids.v[i] == (pid_t)pid;
		if (known || s->o.pids.n >= session_pid_capacity(s))
			continue;
		if (s->cmd->add_pid && s->cmd->add_pid(s, (pid_t)pid) == 0) {
			vec_push(&s->o.pids, (pid_t)pid);
			session_snapshot(s, (pid_t)pid);
			if (s->o.verbose)
				fprintf(stderr, "%s: following pid %d (%s)\n", prog_name, (int)pid, s->o.follow);
		}
	}
	closedir(d);
}


bool session_target_exe(struct session *s, pid_t pid, char *out, size_t n)
{
	if (s->o.cmd && pid == s->child) /* not exec'd yet */
		return child_program_path(s->o.cmd[0], out, n);
	snprintf(out, n, "/proc/%d/exe", pid);
	return true;
}


/* How many times pid exec'd since the programs attached (0 before they
 * are loaded, or for programs that do not count: trace). */
uint32_t session_target_exec(struct session *s, pid_t pid)
{
	uint32_t key = pid, n = 0;

	if (s->exec_gens)
		bpf_map__lookup_elem(s->exec_gens, &key, sizeof(key), &n, sizeof(n), 0);
	return n;
}

void session_snapshot(struct session *s, pid_t pid)
{
	uint32_t exec = session_target_exec(s, pid), after;

	sym_snapshot(s->sym, pid, exec);
	/* An exec between the count and the read: the maps read may be the
	 * new program's; read them again as its image. */
	if ((after = session_target_exec(s, pid)) != exec)
		sym_snapshot(s->sym, pid, after);
}

void session_note_pid(struct session *s, pid_t pid, uint32_t exec)
{
	if (pid > 0 && !sym_has_image(s->sym, pid, exec))
		session_snapshot(s, pid);
}

void session_describe_target(struct session *s, struct profile *p)
{
	char buf[256];
	size_t j = 0;

	if (s->o.cmd) {
		j += snprintf(buf, sizeof(buf), "cmd");
		for (char **a = s->o.cmd; *a && j < sizeof(buf) - 1; a++)
			j += snprintf(buf + j, sizeof(buf) - j, " %s", *a);
	} else if (s->o.pids.n) {
		j += snprintf(buf, sizeof(buf), "pid");
		for (size_t i = 0; i < s->o.pids.n && j < sizeof(buf) - 1; i++)
			j += snprintf(buf + j, sizeof(buf) - j, "%s%d", i ? "," : " ", s->o.pids.v[i]);
	} else if (s->o.tids.n) {
		j += snprintf(buf, sizeof(buf), "tid");
		for (size_t i = 0; i < s->o.tids.n && j < sizeof(buf) - 1; i++)
			j += snprintf(buf + j, sizeof(buf) - j, "%s%d", i ? "," : " ", s->o.tids.v[i]);
	} else if (s->o.cgroup) {
		snprintf(buf, sizeof(buf), "cgroup %s", s->o.cgroup);
	} else {
		snprintf(buf, sizeof(buf), "system-wide");
	}
	p->target = pf_str(p, buf);
}
