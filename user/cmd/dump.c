/* dump: what every thread of a process is doing now — state, time off the
 * CPU, the system call it is in, and its complete kernel and user stacks —
 * without ptrace and without stopping it. bpf/dump.bpf.c's task iterator
 * sends each thread's saved registers and kernel stack; here its user stack
 * is read and unwound with the DWARF unwinder (uw_unwind_live). One sample
 * per thread (sample type threads/count); `-f traces` (the default) prints
 * a block per thread, folded and pprof count threads per stack. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/session.h"
#include "core/targets.h"
#include "base/syscalls.h"
#include "symbols/stacks.h"
#include "core/unwinder.h"
#include "dump.h"
#include "dump.skel.h"

struct dump {
	struct dump_bpf *skel;
	struct bpf_link *iter;
	uint32_t stack_bytes;
	uint64_t unreadable, incomplete;
	uint64_t iter_ns;            /* the last read_threads, for -v */
};

static int dump_validate(struct session *s)
{
	struct dump *d = s->priv;

	if (s->o.cmd || (!s->o.pids.n && !s->o.tids.n)) {
		err_msg("dump: needs -p PID or -t TID (a running process)");
		return -EINVAL;
	}
	/* The user stacks are unwound here, from .eh_frame (frame pointers
	 * where a file has none): the unwinder needs each file's .eh_frame
	 * kept, which session prepare does for any mode but fp. */
	s->o.unwind = UNWIND_COPY;
	d->stack_bytes = s->o.stack_bytes > 16384 ? s->o.stack_bytes : UW_MAX_STACK;
	/* Without -d or -i: one snapshot, now. */
	if (!s->o.duration_ns && !s->o.interval_ns)
		s->o.duration_ns = 1;
	return 0;
}

static void dump_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "threads", "count");
	p->default_type = 0;
	p->period_type.type = pf_str(p, "threads");
	p->period_type.unit = pf_str(p, "count");
	p->period = 1;
}

static int dump_start(struct session *s)
{
	struct dump *d = s->priv;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = session_btf_path(s));
	int err;

	d->skel = dump_bpf__open_opts(&oo);
	if (!d->skel) {
		err = -errno;
		err_msg("dump: cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	if ((err = dump_bpf__load(d->skel)) < 0) {
		err_msg("dump: cannot load the task iterator: %s (kernel 5.15+ with BTF is needed)",
			strerror(-err));
		return err;
	}
	d->iter = bpf_program__attach_iter(d->skel->progs.dump_task, NULL);
	if (!d->iter) {
		err = -errno;
		err_msg("dump: cannot attach the task iterator: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* Every thread of pid, as the iterator sends them, into *out (n records). */
static int read_threads(struct dump *d, pid_t pid, struct dump_thread **out, size_t *n)
{
	size_t cap = 64 * sizeof(struct dump_thread), len = 0;
	char *buf = xmalloc(cap);
	ssize_t got;
	int fd, err = 0;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	d->skel->bss->target_tgid = pid;
	fd = bpf_iter_create(bpf_link__fd(d->iter));
	if (fd < 0) {
		free(buf);
		return fd;
	}
	for (;;) {
		if (cap - len < sizeof(struct dump_thread)) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			break;
		}
		if (!got)
			break;
		len += got;
	}
	close(fd);
	d->iter_ns = now_ns(CLOCK_MONOTONIC) - t0;
	*out = (struct dump_thread *)buf;
	*n = len / sizeof(struct dump_thread);
	return err;
}

static const char *state_name(const struct dump_thread *t)
{
	if (t->exit_state & 32)
		return "Z";
	if (t->exit_state & 16)
		return "X";
	if (t->state == 0)
		return "R";
	if (t->state & 1)
		return "S";
	if (t->state & 2)
		return (t->state & 1024) ? "I" : "D";
	if (t->state & 4)
		return "T";
	if (t->state & 8)
		return "t";
	if (t->state & 64)
		return "P";
	return "?";
}

static bool wanted_tid(struct session *s, pid_t pid, pid_t tid)
{
	bool any_pid = false;

	for (size_t i = 0; i < s->o.pids.n; i++)
		any_pid |= s->o.pids.v[i] == pid;
	if (any_pid)
		return true;
	for (size_t i = 0; i < s->o.tids.n; i++)
		if (s->o.tids.v[i] == tid)
			return true;
	return false;
}

static void add_thread(struct session *s, struct stack_builder *b, const struct dump_thread *t)
{
	struct dump *d = s->priv;
	struct profile *p = b->p;
	char comm[TASK_COMM_LEN + 1] = { 0 }, call[256];
	struct pf_label labels[4];
	uint32_t nl = 0, exec = session_target_exec(s, t->pid);
	int64_t one = 1;

	memcpy(comm, t->comm, TASK_COMM_LEN);
	stack_begin(b);
	if (!s->o.user_only && t->nkips)
		stack_add_kernel(b, (const uint64_t *)t->kips, t->nkips);
	if (s->o.kernel_only) {
		/* kernel frames only */
	} else if (t->flags & DUMP_F_KTHREAD) {
		stack_add_pseudo(b, "[kernel thread]");
	} else if (t->flags & DUMP_F_NO_MM) {
		stack_add_pseudo(b, "[exited: no user memory]");
	} else {
		uint64_t ips[128];
		size_t max = s->o.max_depth > 0 && s->o.max_depth < 128 ? (size_t)s->o.max_depth : 128, n;
		bool complete = false, unreadable = false;

		session_note_pid(s, t->pid, exec);
		n = uw_unwind_live(s->sym, t->pid, exec, (const uint64_t *)t->regs, d->stack_bytes, ips, max,
				   &complete, &unreadable);
		d->unreadable += unreadable;
		if (!complete && n < max)
			d->incomplete++;
		if (n)
			stack_add_user(b, t->pid, exec, ips, n);
		else
			stack_add_pseudo(b, "[user stack unreadable]");
	}
	labels[nl++] = (struct pf_label){ .key = pf_str(p, "state"), .str = pf_str(p, state_name(t)) };
	if (t->flags & DUMP_F_ON_CPU)
		labels[nl++] = (struct pf_label){ .key = pf_str(p, "oncpu"), .str = pf_str(p, "yes") };
	else
		labels[nl++] = (struct pf_label){ .key = pf_str(p, "offcpu_ns"), .num = (int64_t)t->offcpu_ns };
	if (t->syscall >= 0)
		labels[nl++] = (struct pf_label){ .key = pf_str(p, "syscall"),
						  .str = pf_str(p, syscall_format(t->syscall, (const uint64_t *)t->args, call, sizeof(call))) };
	stack_commit(b, &one, t->pid, t->tid, comm, labels, nl);
}

static int dump_collect(struct session *s, struct profile *p)
{
	struct dump *d = s->priv;
	struct stack_builder b;
	VEC(pid_t) procs = { 0 };
	int err = 0;

	/* The processes: -p's, and those of -t's threads. */
	for (size_t i = 0; i < s->o.pids.n; i++)
		vec_push(&procs, s->o.pids.v[i]);
	for (size_t i = 0; i < s->o.tids.n; i++) {
		pid_t tgid = proc_tgid(s->o.tids.v[i]);
		bool dup = false;

		for (size_t j = 0; j < procs.n; j++)
			dup |= procs.v[j] == tgid;
		if (tgid > 0 && !dup)
			vec_push(&procs, tgid);
	}
	sysinfo_mount_tracefs(); /* the system calls' argument names */
	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	d->unreadable = d->incomplete = 0;
	for (size_t i = 0; i < procs.n && !err; i++) {
		struct dump_thread *threads;
		size_t n = 0, shown = 0;
		uint64_t t0 = now_ns(CLOCK_MONOTONIC), t1;

		if ((err = read_threads(d, procs.v[i], &threads, &n)) < 0) {
			err_msg("dump: cannot read the threads of pid %d: %s", procs.v[i], strerror(-err));
			break;
		}
		for (size_t j = 0; j < n; j++) {
			if (!wanted_tid(s, threads[j].pid, threads[j].tid))
				continue;
			add_thread(s, &b, &threads[j]);
			shown++;
		}
		t1 = now_ns(CLOCK_MONOTONIC);
		if (s->o.verbose)
			fprintf(stderr, "%s: dump: pid %d: %zu threads in %.1f ms (iterator %.1f ms)\n", prog_name,
				procs.v[i], n, (t1 - t0) / 1e6, d->iter_ns / 1e6);
		if (!n)
			warn_msg("pid %d: no threads (it exited)", procs.v[i]);
		else if (threads[0].flags & DUMP_F_KTHREAD)
			warn_msg("pid %d is a kernel thread: its kernel stack only", procs.v[i]);
		else if (n == 1 && threads[0].exit_state)
			warn_msg("pid %d is a zombie: it exited and its parent has not reaped it", procs.v[i]);
		else if (!shown)
			warn_msg("pid %d: none of the -t threads are alive", procs.v[i]);
		free(threads);
	}
	if (d->incomplete)
		profile_add_counter(p, "dwarf unwinds incomplete", d->incomplete);
	if (d->unreadable)
		profile_add_counter(p, "user stacks unreadable", d->unreadable);
	stack_builder_free(&b);
	vec_free(&procs);
	if (!err && !p->samples.n) {
		err_msg("dump: no threads to show");
		err = -ESRCH;
	}
	return err;
}

static void dump_stop(struct session *s)
{
	struct dump *d = s->priv;

	bpf_link__destroy(d->iter);
	dump_bpf__destroy(d->skel);
}

const struct command dump_command = {
	.name = "dump",
	.summary = "Show every thread of a process now: state, wait, system call, full stacks.",
	.validate = dump_validate,
	.start = dump_start,
	.collect = dump_collect,
	.stop = dump_stop,
	.describe = dump_describe,
	.default_format = "traces",
	.priv_size = sizeof(struct dump),
};
