/* stat: a time(1)-like summary seen from the kernel, for -- CMD and every
 * process it starts (or -p/-t for -d): wall, user and system CPU, time
 * runnable but waiting for a CPU, blocked time split into lock waits,
 * uninterruptible (I/O) and other sleep, faults, context switches,
 * migrations, threads and processes created, peak RSS, and the system
 * calls that took the most time. bpf/stat.bpf.c keeps the totals; CMD's
 * exit status passes through. Text for people, -f json for scripts. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cmdbase.h"
#include "core/session.h"
#include "base/syscalls.h"
#include "render/render.h"
#include "render/output.h"
#include "stat.h"
#include "stat.skel.h"

struct stat_cmd {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct stat_bpf *skel;
	bool json;
	const char *path;           /* -o, or NULL for stdout */
};

struct stat_result {
	uint64_t t[ST_NTOTALS];
	uint64_t wall_ns, user_ns, sys_ns, max_rss_bytes;
	int exit_status;            /* -1: CMD still running, or no CMD */
	struct sc_row { long nr; uint64_t count, ns; } sc[ST_NSYSCALLS];
	size_t nsc;
};

static int stat_validate(struct session *s)
{
	struct stat_cmd *st = s->priv;

	if (s->o.interval_ns) {
		err_msg("stat: -i is not supported (one summary per run)");
		return -EINVAL;
	}
	if (s->o.cgroup) {
		err_msg("stat: --cgroup is not supported (use -- CMD, -p or -t)");
		return -EINVAL;
	}
	if (s->o.outputs.n > 1) {
		err_msg("stat: one -o at most");
		return -EINVAL;
	}
	st->path = s->o.outputs.n ? s->o.outputs.v[0] : NULL;
	if (st->path && output_check_path(st->path) < 0)
		return -EINVAL;
	if (s->o.format && strcmp(s->o.format, "text") && strcmp(s->o.format, "json")) {
		err_msg("stat: unknown format '%s' (valid: text, json)", s->o.format);
		return -EINVAL;
	}
	st->json = s->o.format ? !strcmp(s->o.format, "json")
			       : st->path && strlen(st->path) > 5 && !strcmp(st->path + strlen(st->path) - 5, ".json");
	return 0;
}

static void stat_describe(struct session *s, struct profile *p)
{
}

/* Runs the task iterator once: seeding (start) or flushing (end). */
static int run_iter(struct stat_cmd *st, bool flush)
{
	struct bpf_link *link;
	char buf[64];
	int fd;

	st->skel->bss->flushing = flush;
	if (!(link = bpf_program__attach_iter(st->skel->progs.stat_iter, NULL)))
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	return fd < 0 ? fd : 0;
}

static int stat_start(struct session *s)
{
	struct stat_cmd *st = s->priv;
	static const struct cmd_records rec = { 0 };
	int err;

	if ((err = CMD_OPEN(s, &st->base, stat, &st->skel)) < 0)
		return err;
	st->skel->rodata->have_prev_state = session_tp_nargs(s, "sched_switch") >= 4;
	session_btf_release(s);
	bpf_program__set_autoattach(st->skel->progs.stat_iter, false);
	if ((err = cmd_prepare(s, &st->base, NULL, 0)) < 0 ||
	    (err = cmd_loaded(s, &st->base, stat_bpf__load(st->skel), &rec)) < 0)
		return err;
	if ((err = stat_bpf__attach(st->skel)) < 0) {
		err_msg("stat: cannot attach to the scheduler's tracepoints: %s", strerror(-err));
		return err;
	}
	if ((err = run_iter(st, false)) < 0) {
		err_msg("stat: cannot list the target's threads: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* VmHWM of a live process, in bytes (0 if gone). */
static uint64_t peak_rss(pid_t pid)
{
	char *status = proc_status(pid);
	const char *v = status ? status_field(status, "VmHWM") : NULL;
	uint64_t kb = v ? strtoull(v, NULL, 10) : 0;

	free(status);
	return kb * 1024;
}

static int cmp_sc(const void *a, const void *b)
{
	const struct sc_row *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : (x->count > y->count ? -1 : x->count < y->count);
}

static int gather(struct session *s, struct stat_result *r)
{
	struct stat_cmd *st = s->priv;
	int ncpu = session_possible_cpus(), err;
	uint64_t now = now_ns(CLOCK_MONOTONIC), (*per)[ST_NTOTALS] = xcalloc(ncpu, sizeof(*per));
	struct stat_syscall *sc = xcalloc(ncpu, sizeof(*sc));
	uint32_t zero = 0;

	memset(r, 0, sizeof(*r));
	if ((err = run_iter(st, true)) < 0)
		warn_msg("stat: threads alive at the end are not counted: %s", strerror(-err));
	if (bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.totals), &zero, per) == 0) {
		for (int c = 0; c < ncpu; c++)
			for (int i = 0; i < ST_NTOTALS; i++) {
				if (i == ST_MAXRSS_PAGES)
					r->t[i] = per[c][i] > r->t[i] ? per[c][i] : r->t[i];
				else
					r->t[i] += per[c][i];
			}
	}
	for (uint32_t nr = 0; nr < ST_NSYSCALLS; nr++) {
		uint64_t count = 0, ns = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.syscalls), &nr, sc))
			continue;
		for (int c = 0; c < ncpu; c++) {
			count += sc[c].count;
			ns += sc[c].ns;
		}
		if (count)
			r->sc[r->nsc++] = (struct sc_row){ nr, count, ns };
	}
	qsort(r->sc, r->nsc, sizeof(r->sc[0]), cmp_sc);
	free(per);
	free(sc);

	/* CPU time is the scheduler's (exact); the kernel's tick-sampled user
	 * and system times only split it, as getrusage does. */
	uint64_t ut = r->t[ST_UTIME_NS], stm = r->t[ST_STIME_NS], rt = r->t[ST_RUNTIME_NS];
	if (ut + stm) {
		r->user_ns = (uint64_t)((double)rt * ut / (ut + stm));
		r->sys_ns = rt - r->user_ns;
	} else {
		r->user_ns = rt;
	}
	if (s->o.cmd) {
		uint64_t end = st->skel->bss->root_exit_ns && s->child <= 0 ? st->skel->bss->root_exit_ns : now;

		r->wall_ns = end > s->start_mono_ns ? end - s->start_mono_ns : 0;
	} else {
		r->wall_ns = now - s->start_mono_ns;
	}
	r->max_rss_bytes = r->t[ST_MAXRSS_PAGES] * (uint64_t)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < s->o.pids.n; i++) {
		uint64_t b = peak_rss(s->o.pids.v[i]);

		r->max_rss_bytes = b > r->max_rss_bytes ? b : r->max_rss_bytes;
	}
	if (s->child > 0) {
		uint64_t b = peak_rss(s->child);

		r->max_rss_bytes = b > r->max_rss_bytes ? b : r->max_rss_bytes;
	}
	r->exit_status = s->o.cmd && s->child <= 0 ? s->child_status : -1;
	return 0;
}

static void secs(char *buf, size_t n, uint64_t ns)
{
	snprintf(buf, n, "%10.3f s", ns / 1e9);
}

static void write_text(struct session *s, const struct stat_result *r, FILE *out)
{
	char a[32], target[256];
	double wall = r->wall_ns ? (double)r->wall_ns : 1;
	struct profile *p = profile_new("stat");

	session_describe_target(s, p);
	snprintf(target, sizeof(target), "%s", p->target);
	profile_free(p);
	fprintf(out, "stat: %s", target);
	if (r->exit_status >= 0)
		fprintf(out, ", exit status %d", r->exit_status);
	fprintf(out, "\n\n");
	secs(a, sizeof(a), r->wall_ns);
	fprintf(out, "  %-10s %s\n", "wall", a);
	secs(a, sizeof(a), r->user_ns);
	fprintf(out, "  %-10s %s   %5.1f%% of wall\n", "user", a, 100.0 * r->user_ns / wall);
	secs(a, sizeof(a), r->sys_ns);
	fprintf(out, "  %-10s %s   %5.1f%% of wall\n", "sys", a, 100.0 * r->sys_ns / wall);
	fprintf(out, "\n  thread time off the CPU (summed over threads):\n");
	secs(a, sizeof(a), r->t[ST_RUNNABLE_NS]);
	fprintf(out, "  %-10s %s   ready to run, waiting for a CPU\n", "runnable", a);
	secs(a, sizeof(a), r->t[ST_SLEEPING_NS]);
	fprintf(out, "  %-10s %s   sleeping (not on a lock)\n", "sleeping", a);
	secs(a, sizeof(a), r->t[ST_LOCKWAIT_NS]);
	fprintf(out, "  %-10s %s   waiting for a pthread mutex or rwlock\n", "lockwait", a);
	secs(a, sizeof(a), r->t[ST_IOWAIT_NS]);
	fprintf(out, "  %-10s %s   uninterruptible (D: disk and other I/O)\n", "iowait", a);
	if (r->t[ST_OTHER_NS]) {
		secs(a, sizeof(a), r->t[ST_OTHER_NS]);
		fprintf(out, "  %-10s %s   stopped or traced\n", "other", a);
	}
	fprintf(out, "\n  %-24s %llu minor, %llu major\n", "page faults", (unsigned long long)r->t[ST_FAULTS_MINOR],
		(unsigned long long)r->t[ST_FAULTS_MAJOR]);
	fprintf(out, "  %-24s %llu voluntary, %llu involuntary\n", "context switches",
		(unsigned long long)r->t[ST_CTX_VOLUNTARY], (unsigned long long)r->t[ST_CTX_INVOLUNTARY]);
	fprintf(out, "  %-24s %llu\n", "CPU migrations", (unsigned long long)r->t[ST_MIGRATIONS]);
	fprintf(out, "  %-24s %llu threads, %llu processes\n", "created",
		(unsigned long long)r->t[ST_THREADS_CREATED], (unsigned long long)r->t[ST_PROCS_CREATED]);
	format_value(a, sizeof(a), (int64_t)r->max_rss_bytes, "bytes");
	fprintf(out, "  %-24s %s\n", "peak RSS", a);
	if (r->nsc) {
		fprintf(out, "\n  system calls by time (summed over threads):\n");
		fprintf(out, "  %-24s %10s %12s\n", "name", "calls", "time");
		for (size_t i = 0; i < r->nsc && i < 10; i++) {
			const char *name = syscall_name(r->sc[i].nr);
			char num[32];

			snprintf(num, sizeof(num), "syscall_%ld", r->sc[i].nr);
			secs(a, sizeof(a), r->sc[i].ns);
			fprintf(out, "  %-24s %10llu %s\n", name ? name : num, (unsigned long long)r->sc[i].count, a);
		}
	}
}

static void write_json(struct session *s, const struct stat_result *r, FILE *out)
{
	struct profile *p = profile_new("stat");
	static const struct { const char *key; int slot; } counts[] = {
		{ "runnable_ns", ST_RUNNABLE_NS }, { "sleeping_ns", ST_SLEEPING_NS },
		{ "iowait_ns", ST_IOWAIT_NS }, { "lockwait_ns", ST_LOCKWAIT_NS }, { "other_ns", ST_OTHER_NS },
		{ "faults_minor", ST_FAULTS_MINOR }, { "faults_major", ST_FAULTS_MAJOR },
		{ "ctx_voluntary", ST_CTX_VOLUNTARY }, { "ctx_involuntary", ST_CTX_INVOLUNTARY },
		{ "migrations", ST_MIGRATIONS }, { "threads_created", ST_THREADS_CREATED },
		{ "processes_created", ST_PROCS_CREATED },
	};

	session_describe_target(s, p);
	fprintf(out, "{\"command\":\"stat\",\"target\":");
	json_string(out, p->target);
	profile_free(p);
	fprintf(out, ",\"wall_ns\":%llu,\"user_ns\":%llu,\"sys_ns\":%llu", (unsigned long long)r->wall_ns,
		(unsigned long long)r->user_ns, (unsigned long long)r->sys_ns);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		fprintf(out, ",\"%s\":%llu", counts[i].key, (unsigned long long)r->t[counts[i].slot]);
	fprintf(out, ",\"max_rss_bytes\":%llu,\"exit_status\":", (unsigned long long)r->max_rss_bytes);
	if (r->exit_status >= 0)
		fprintf(out, "%d", r->exit_status);
	else
		fprintf(out, "null");
	fprintf(out, ",\"syscalls\":[");
	for (size_t i = 0; i < r->nsc; i++) {
		const char *name = syscall_name(r->sc[i].nr);
		char num[32];

		snprintf(num, sizeof(num), "syscall_%ld", r->sc[i].nr);
		fprintf(out, "%s{\"name\":\"%s\",\"count\":%llu,\"time_ns\":%llu}", i ? "," : "", name ? name : num,
			(unsigned long long)r->sc[i].count, (unsigned long long)r->sc[i].ns);
	}
	fprintf(out, "]}\n");
}

static int stat_summary(struct session *s, uint64_t seq)
{
	struct stat_cmd *st = s->priv;
	struct stat_result *r = xmalloc(sizeof(*r));
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int err;

	if (!mem) {
		free(r);
		return -ENOMEM;
	}
	gather(s, r);
	if (st->json)
		write_json(s, r, mem);
	else
		write_text(s, r, mem);
	err = fclose(mem) ? -ENOMEM : output_write_buffer(st->path, buf, len);
	if (err < 0)
		err_msg("stat: cannot write %s: %s", st->path ? st->path : "to stdout", strerror(-err));
	free(buf);
	free(r);
	return err;
}

static void stat_stop(struct session *s)
{
	struct stat_cmd *st = s->priv;

	cmd_stop(&st->base);
	stat_bpf__destroy(st->skel);
}

const struct command stat_command = {
	.name = "stat",
	.summary = "Summarize a command's run like time(1), seen from the kernel (CPU, waits, faults).",
	.validate = stat_validate,
	.start = stat_start,
	.stop = stat_stop,
	.describe = stat_describe,
	.summary_out = stat_summary,
	.priv_size = sizeof(struct stat_cmd),
};
