/* The run loop every profiling command shares: parse, check, start, then
 * collect and write a profile per interval until the duration, a signal or
 * the target's end; every exit path stops the command. */
#include "core/session.h"
#include "core/cli.h"
#include "core/sysinfo.h"
#include "core/targets.h"
#include "render/output.h"
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
#include <sys/resource.h>
#include <sys/wait.h>

void session_sync_maps(struct session *s)
{
	if (s->watch)
		mmap_watch_drain(s->watch, s->sym);
}


static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* ---- the run loop ------------------------------------------------------- */

/* Collects and writes one profile. A partial last interval with nothing in
 * it is not worth a file: with `partial`, an empty one is dropped (returns 1);
 * one that holds data is always written (a short tail that held the last
 * events of a command was once dropped, and with it those events). */
static int emit(struct session *s, uint64_t seq, bool partial)
{
	if (s->cmd->summary_out)
		return s->cmd->summary_out(s, seq);

	struct profile *p = profile_new(s->cmd->name);
	struct render_opts ro = { .top_n = s->o.top_n, .lines = s->o.lines };
	uint64_t now_mono = now_ns(CLOCK_MONOTONIC);
	int err;

	session_describe_target(s, p);
	s->cmd->describe(s, p);
	p->time_ns = s->interval_start_ns;
	p->duration_ns = now_mono - s->interval_mono_ns;
	err = s->cmd->collect(s, p);
	s->interval_start_ns = now_ns(CLOCK_REALTIME);
	s->interval_mono_ns = now_mono;
	if (err < 0) {
		profile_free(p);
		return err;
	}
	/* --sample-index also makes that value the profile's default (pprof's
	 * default_sample_type), as Go's /debug/pprof/allocs does. */
	if (s->o.sample_index && profile_type_index(p, s->o.sample_index) >= 0)
		p->default_type = profile_type_index(p, s->o.sample_index);
	if (partial && !p->samples.n) {
		profile_free(p);
		return 1;
	}
	if (!p->samples.n)
		warn_msg("no samples in %.2fs: the target did not %s", p->duration_ns / 1e9,
			 strcmp(s->cmd->name, "oncpu") ? "produce events" : "run on a CPU");
	ro.sample_index = p->default_type;
	if (s->o.sample_index) {
		ro.sample_index = profile_type_index(p, s->o.sample_index);
		if (ro.sample_index < 0) { /* validated at start; defensive */
			profile_free(p);
			return -EINVAL;
		}
	}
	if (s->o.interval_ns && !s->o.outputs.n) {
		const char *fmt = s->out.renderers[0]->name;

		if (seq > 0 && !strcmp(fmt, "top"))
			fputc('\n', stdout);
		if (!strcmp(fmt, "folded")) { /* folded intervals: a comment line each */
			char when[64];
			time_t t = p->time_ns / 1000000000LL;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("# interval %llu %s %.3fs\n", (unsigned long long)seq, when, p->duration_ns / 1e9);
		}
	}
	/* A write that fails (a full disk) loses this interval's file, not
	 * the run: counted, warned about once each, and the run goes on. */
	if (output_write(&s->out, p, &ro, seq) < 0)
		s->write_failures++;
	err = 0;
	profile_free(p);
	/* Samples are symbolized: processes gone by now are not needed again. */
	if (s->o.interval_ns)
		sym_evict_exited(s->sym);
	return err;
}

/* Everything checked before anything attaches: the exit status on a
 * failure (after a one-line error), else 0. */
static int prepare(struct session *s, int argc, char **argv)
{
	if (cli_parse(s, argc, argv) < 0 || (s->cmd->validate && s->cmd->validate(s) < 0))
		return EXIT_USAGE;
	if (s->o.unwind != UNWIND_FP)
		elf_syms_keep_elf(true); /* the unwinder reads each file's .eh_frame */
	if ((!s->cmd->summary_out &&
	     output_setup(&s->out, s->o.format || s->o.outputs.n ? s->o.format : s->cmd->default_format,
			  s->o.outputs.v, s->o.outputs.n) < 0) ||
	    cli_check_sample_index(s) < 0 || targets_check(s) < 0)
		return EXIT_USAGE;
	if (!sysinfo_have_caps()) {
		err_msg("needs root (CAP_BPF and CAP_PERFMON)");
		return EXIT_RUNTIME;
	}
	if (sysinfo_check_btf(s) < 0 || session_check_kernel() < 0)
		return EXIT_RUNTIME;
	libbpf_set_print(s->o.verbose ? libbpf_print : libbpf_quiet);
	return 0;
}

/* Starts -- CMD (held), follows the targets' mappings, then the command's
 * programs; releases CMD once attached. The exit status on a failure. */
static int begin(struct session *s)
{
	uint64_t t0;
	int err;

	s->sym = symbolizer_new();
	if (s->o.cmd && (err = targets_spawn_child(s)) < 0) {
		err_msg("cannot start %s: %s", s->o.cmd[0], strerror(-err));
		return EXIT_RUNTIME;
	}
	if (s->o.cmd) {
		/* Its mappings as they are made: a short command that exits
		 * before a snapshot still symbolizes. */
		if ((err = mmap_watch_open(s->watch, s->child)) < 0 && s->o.verbose)
			warn_msg("cannot follow %s's mappings: %s", s->o.cmd[0], strerror(-err));
	} else {
		for (size_t i = 0; i < s->o.pids.n; i++)
			session_snapshot(s, s->o.pids.v[i]);
		/* --follow: processes that exec NAME are targets in the kernel
		 * from their exec on; their mappings are followed from there,
		 * so one that exits before a scan still symbolizes. */
		if (s->o.follow && (err = mmap_watch_open_comm(s->watch, s->o.follow)) < 0 && s->o.verbose)
			warn_msg("cannot follow the mappings of %s processes: %s", s->o.follow, strerror(-err));
	}

	t0 = now_ns(CLOCK_MONOTONIC);
	err = s->cmd->start(s);
	s->started = true;
	s->attach_ns = now_ns(CLOCK_MONOTONIC) - t0;
	session_btf_release(s); /* if a command did not */
	if (err < 0)
		return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	if (s->o.follow)
		targets_follow_scan(s);
	if (s->o.verbose)
		fprintf(stderr, "%s: attached in %.1f ms (%.1f ms after start)\n", prog_name,
			s->attach_ns / 1e6, (now_ns(CLOCK_MONOTONIC) - process_start_ns) / 1e6);

	/* Kernel symbols are needed by the first profile; read them now,
	 * after attaching (not on the start-up path), so memory is flat, and
	 * before CMD runs: the loop then follows its exec from the first
	 * milliseconds (reading them took ~100 ms in which CMD ran unseen by
	 * the loop: its unwind tables came that late). */
	uint64_t attached_mono = now_ns(CLOCK_MONOTONIC), attached_real = now_ns(CLOCK_REALTIME);

	if (!s->o.user_only)
		sym_preload_kernel(s->sym);
	/* A running target's data starts when the programs attached (and
	 * offcpu's seed stamped the threads already blocked): the profile's
	 * window and -d count from there, so its duration is what it holds.
	 * -- CMD's count from its release, after this read. */
	if (s->o.cmd) {
		s->start_mono_ns = s->interval_mono_ns = now_ns(CLOCK_MONOTONIC);
		s->interval_start_ns = now_ns(CLOCK_REALTIME);
	} else {
		s->start_mono_ns = s->interval_mono_ns = attached_mono;
		s->interval_start_ns = attached_real;
	}
	if (s->o.cmd && (err = child_release(&s->launch)) < 0) {
		s->child = 0;
		err_msg("cannot run %s: %s", s->o.cmd[0], strerror(-err));
		return EXIT_USAGE;
	}
	return 0;
}

/* One turn of the loop's bookkeeping: whether collection should stop
 * (CMD or every target gone), with maps re-read and --follow scanned. */
struct loop_clock {
	uint64_t last_scan, last_follow, last_snap;
};

static bool targets_tick(struct session *s, struct loop_clock *c, uint64_t now)
{
	bool stop = false;

	if (s->child > 0) {
		if (child_reap(&s->launch, false)) {
			s->child_status = s->launch.status;
			s->child = 0;
			stop = true;
		} else {
			session_snapshot(s, s->child); /* it may have loaded libraries */
		}
	} else if (!s->o.cmd && (s->o.pids.n || s->o.tids.n)) {
		if (!s->o.follow && !targets_any_alive(s)) {
			fprintf(stderr, "%s: target exited after %.2fs\n", prog_name,
				(now - s->start_mono_ns) / 1e9);
			stop = true;
		} else if (now - c->last_snap >= 500000000ULL) {
			/* Re-read maps for libraries loaded since (dlopen). */
			for (size_t i = 0; i < s->o.pids.n; i++)
				session_snapshot(s, s->o.pids.v[i]);
			c->last_snap = now;
		}
	}
	if (s->o.follow && now - c->last_follow >= 250000000ULL) {
		targets_follow_scan(s);
		c->last_follow = now;
	}
	if (s->cmd->scan && now - c->last_scan >= 1000000000ULL) {
		s->cmd->scan(s);
		c->last_scan = now;
	}
	return stop;
}

/* Profiles some output of which failed: warned about, and exit 1. */
static int written(struct session *s, uint64_t seq)
{
	if (!s->write_failures)
		return EXIT_OK;
	if (s->o.interval_ns)
		warn_msg("%llu of %llu profiles not written in full (see the errors above)",
			 (unsigned long long)s->write_failures, (unsigned long long)seq);
	return EXIT_RUNTIME;
}

/* Collects until the duration, a signal, or the targets' end, writing a
 * profile per interval and the last (or only) one. The exit status. */
static int run(struct session *s, const sigset_t *sigs)
{
	uint64_t seq = 0, deadline = 0, next_emit = 0;
	struct loop_clock clock = { 0 };
	int err;

	if (s->o.duration_ns)
		deadline = s->start_mono_ns + s->o.duration_ns;
	if (s->o.interval_ns)
		next_emit = s->start_mono_ns + s->o.interval_ns;
	for (;;) {
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		uint64_t at = now_ns(CLOCK_MONOTONIC);
		siginfo_t si;
		int sig;

		/* No longer than the deadline (dump's is now). */
		if (deadline && deadline < at + (uint64_t)tick.tv_nsec)
			tick.tv_nsec = deadline > at ? (long)(deadline - at) : 0;

		/* Events (--unwind dwarf records) are read as they come, with
		 * signals checked between. */
		if (s->cmd->poll && s->cmd->poll(s, 100))
			tick.tv_nsec = 0;
		sig = sigtimedwait(sigs, &si, &tick);
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		bool stop = sig == SIGINT || sig == SIGTERM;

		mmap_watch_drain(s->watch, s->sym);
		stop |= targets_tick(s, &clock, now);
		if (deadline && now >= deadline)
			stop = true;
		if (stop)
			break;
		if (next_emit && now >= next_emit) {
			mmap_watch_drain(s->watch, s->sym);
			s->final = s->o.count && seq + 1 == s->o.count;
			if (emit(s, seq++, false) < 0)
				return EXIT_RUNTIME;
			next_emit += s->o.interval_ns;
			if (s->o.count && seq >= s->o.count)
				return written(s, seq);
		}
	}
	/* The last (or only) profile; an interval run writes the partial last
	 * interval when it holds data. */
	mmap_watch_drain(s->watch, s->sym);
	if (s->watch->lost)
		warn_msg("%llu mapping records lost: some frames of %s may be unnamed",
			 (unsigned long long)s->watch->lost, s->o.cmd ? s->o.cmd[0] : "the targets");
	s->final = true;
	err = emit(s, seq, s->o.interval_ns != 0);
	if (err < 0)
		return EXIT_RUNTIME;
	return written(s, err == 0 ? seq + 1 : seq);
}

/* Stops the command and CMD on every path; frees the session. */
static int finish(struct session *s, int status)
{
	if (s->started && s->cmd->stop)
		s->cmd->stop(s);
	if (s->child > 0) {
		/* Collection ended (duration or signal) before CMD did: end it,
		 * as `timeout` would, and report its status. */
		child_finish(&s->launch);
		s->child_status = s->launch.status;
		s->child = 0;
	} else if (s->o.cmd) {
		child_finish(&s->launch); /* never released: closes the hold pipe */
	}
	if (s->o.cmd && s->child_status >= 0 && status == EXIT_OK)
		status = s->child_status;
	if (s->o.verbose && s->started) {
		/* Our own cost (not CMD's), for bench/ and the curious. */
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "%s: own cost: %.3f s CPU (user+sys), peak RSS %.1f MB\n", prog_name,
			ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, ru.ru_maxrss / 1024.0);
	}
	mmap_watch_close(s->watch);
	symbolizer_free(s->sym);
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	vec_free(&s->o.pids);
	vec_free(&s->o.tids);
	hmap_free(&s->pid_starts);
	btf__free(s->btf);
	vec_free(&s->o.outputs);
	output_free(&s->out);
	free(s->priv);
	return status;
}

int session_main(const struct command *cmd, int argc, char **argv)
{
	struct mmap_watch watch = { 0 };
	struct session s = { .cmd = cmd, .cgroup_fd = -1, .watch = &watch, .child_status = -1,
			     .launch = { .hold_fd = -1, .err_fd = -1, .status = -1 } };
	sigset_t sigs;
	int status;

	s.priv = xcalloc(1, cmd->priv_size ? cmd->priv_size : 1);
	if ((status = prepare(&s, argc, argv)) != 0)
		return finish(&s, status);
	/* Signals are taken synchronously in the loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((status = begin(&s)) != 0)
		return finish(&s, status);
	return finish(&s, run(&s, &sigs));
}
