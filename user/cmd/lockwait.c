/* lockwait: how often and how long threads wait for locks, by the waiting
 * stack (Go's mutex profile, for any process). See lockwait.bpf.c for how
 * user, kernel and Go lock waits are caught. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cmdbase.h"
#include "lockwait.h"
#include "symbols/probepoint.h"
#include "symbols/gobin.h"
#include "core/goprobes.h"
#include "lockwait.skel.h"
#include "core/session.h"
#include "symbols/procmaps.h"
#include "core/unwinder.h"

struct lockwait {
	struct cmd_base base;       /* first: the shared part (cmdbase.h) */
	struct lockwait_bpf *skel;
	bool user, kernel, by_lock;
	int64_t min_wait_ns;
	const char *lib;
	dev_t lib_dev;
	ino_t lib_ino;
	uint64_t outside_lib;    /* futex waits from outside --lib, not counted */
	VEC(char *) sem_libs;    /* libraries whose sem_wait is probed */
	uint64_t skipped_last[SKIP_NSLOTS];
};

enum { OPT_USER = 0x4000, OPT_KERNEL, OPT_MIN_WAIT, OPT_BY_LOCK, OPT_LIB };

static const struct option lockwait_opts[] = {
	{ "user", no_argument, 0, OPT_USER },
	{ "kernel", no_argument, 0, OPT_KERNEL },
	{ "min-wait", required_argument, 0, OPT_MIN_WAIT },
	{ "by-lock", no_argument, 0, OPT_BY_LOCK },
	{ "lib", required_argument, 0, OPT_LIB },
	{ 0 },
};

static int lockwait_parse(struct session *s, int opt, const char *arg)
{
	struct lockwait *lw = s->priv;

	switch (opt) {
	case OPT_USER: lw->user = true; return 0;
	case OPT_KERNEL: lw->kernel = true; return 0;
	case OPT_BY_LOCK: lw->by_lock = true; return 0;
	case OPT_LIB: lw->lib = arg; return 0;
	case OPT_MIN_WAIT:
		lw->min_wait_ns = parse_duration_ns(arg, "ns");
		if (lw->min_wait_ns < 0) {
			err_msg("--min-wait '%s': expected a duration with a unit: ns, us, ms or s", arg);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static int lockwait_validate(struct session *s)
{
	struct lockwait *lw = s->priv;
	bool target = s->o.pids.n || s->o.tids.n || s->o.cgroup || s->o.cmd;

	if (!lw->user && !lw->kernel) { /* both for a target, kernel system-wide */
		lw->user = target;
		lw->kernel = true;
	}
	if (lw->lib) {
		struct symbolizer *sym = symbolizer_new();
		struct elf_syms *es = sym_elf_path(sym, lw->lib);
		struct stat st;
		int err = 0;

		if (stat(lw->lib, &st) < 0) {
			err_msg("--lib %s: %s", lw->lib, strerror(errno));
			err = -EINVAL;
		} else if (!es) {
			err_msg("--lib %s: not an ELF file", lw->lib);
			err = -EINVAL;
		} else if (!elf_sym_addr(es, "pthread_mutex_lock") && !elf_sym_addr(es, "__pthread_mutex_lock")) {
			err_msg("--lib %s: has no pthread_mutex_lock (not a pthread library)", lw->lib);
			err = -EINVAL;
		}
		lw->lib_dev = st.st_dev;
		lw->lib_ino = st.st_ino;
		symbolizer_free(sym);
		if (err)
			return err;
	}
	return 0;
}

static void lockwait_describe(struct session *s, struct profile *p)
{
	profile_add_type(p, "contentions", "count");
	profile_add_type(p, "delay", "nanoseconds");
	p->default_type = 1;
	p->period_type.type = pf_str(p, "contentions");
	p->period_type.unit = pf_str(p, "count");
	p->period = 1;
}

/* A Go target: sync.Mutex/RWMutex waits, with their delay. The entry of
 * sync.runtime_SemacquireMutex begins a wait; runtime.gopark with the
 * mutex's wait reason (its text in the program: "sync.Mutex.Lock" from Go
 * 1.22, "semacquire" before) marks it parked; runtime.execute ends it.
 * Entry probes only: return probes crash Go. Not a Go program: 0. */
static int attach_go_pid(struct session *s, struct lockwait *lw, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "sync.runtime_SemacquireMutex");
	char exe[PATH_MAX], why[256];
	struct elf_syms *es;
	struct bpf_link *link;
	struct go_binary gb;
	int err;

	if (!session_target_exe(s, pid, exe, sizeof(exe)) || !(es = sym_elf_path(s->sym, exe)) ||
	    !es->is_go || !elf_sym_addr(es, "sync.runtime_SemacquireMutex"))
		return 0;
	link = bpf_program__attach_uprobe_opts(lw->skel->progs.lw_go_semacquire, pid, exe, 0, &uo);
	if (!link) {
		int e = errno;

		err_msg("cannot probe sync.runtime_SemacquireMutex in %s: %s", exe, strerror(e));
		return -e;
	}
	vec_push(&lw->base.links, link);
	if ((err = go_probe_attach(s, lw->skel->progs.lw_gopark, pid, exe, es, "runtime.gopark", &lw->base.links)) < 0 ||
	    (err = go_probe_attach(s, lw->skel->progs.lw_goexecute, pid, exe, es, "runtime.execute",
				   &lw->base.links)) < 0)
		return err == -ENOENT ? 0 : err;
	if (go_binary_load(&gb, exe, why, sizeof(why)) == 0) {
		__u32 key = pid;
		__u8 reason = 0;
		bool found = false;

		for (size_t i = 0; i < gb.reasons.n && !found; i++)
			if (!strcmp(gb.reasons.v[i], "sync.Mutex.Lock"))
				reason = (__u8)i, found = true;
		for (size_t i = 0; i < gb.reasons.n && !found; i++)
			if (!strcmp(gb.reasons.v[i], "semacquire"))
				reason = (__u8)i, found = true;
		if (found)
			bpf_map_update_elem(bpf_map__fd(lw->skel->maps.go_mutex_reasons), &key, &reason, BPF_ANY);
		else
			warn_msg("pid %d (%s): Go's wait reasons unknown: sync.Mutex contentions counted, "
				 "without their delay", pid, gb.version[0] ? gb.version : "Go");
		go_binary_free(&gb);
	}
	if (s->o.verbose)
		fprintf(stderr, "%s: Go target %d: sync.Mutex waits from sync.runtime_SemacquireMutex to "
			"runtime.execute\n", prog_name, pid);
	return 0;
}

static int attach_go(struct session *s, struct lockwait *lw)
{
	int err;

	bool child_listed = false;

	for (size_t i = 0; i < s->o.pids.n; i++) {
		child_listed |= s->o.pids.v[i] == s->child;
		if ((err = attach_go_pid(s, lw, s->o.pids.v[i])) < 0)
			return err;
	}
	if (s->o.cmd && s->child > 0 && !child_listed)
		return attach_go_pid(s, lw, s->child);
	return 0;
}

/* The C library a process uses (as seen from here, through its root), or
 * ours for pid <= 0: where its sem_wait lives. */
struct libc_search {
	char found[PATH_MAX];
};

static bool libc_line(const struct map_line *m, void *ctx)
{
	struct libc_search *ls = ctx;

	if (m->path[0] != '/' || !procmaps_named(m->path, "libc", true))
		return true;
	snprintf(ls->found, sizeof(ls->found), "%s", m->path);
	return false;
}

static bool find_libc(pid_t pid, char *out, size_t n)
{
	struct libc_search ls = { "" };

	if (procmaps_each(pid, libc_line, &ls) < 0 || !ls.found[0])
		return false;
	if (pid > 0)
		snprintf(out, n, "/proc/%d/root%s", pid, ls.found);
	else
		snprintf(out, n, "%s", ls.found);
	return true;
}

/* Semaphores: an entry probe on sem_wait and its kin in a library (once per
 * library; the kernel filter keeps the targets). Not fatal: without it,
 * semaphore waits are counted among the skipped value-0 waits. */
static void attach_sem(struct session *s, struct lockwait *lw, const char *lib)
{
	static const char *const fns[] = { "sem_wait", "sem_timedwait", "sem_clockwait" };
	struct elf_syms *es;

	for (size_t i = 0; i < lw->sem_libs.n; i++)
		if (!strcmp(lw->sem_libs.v[i], lib))
			return;
	vec_push(&lw->sem_libs, xstrdup(lib));
	if (!(es = sym_elf_path(s->sym, lib)))
		return;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo);
		struct probe_place pl;
		struct bpf_link *link;
		uint64_t vaddr, off;

		if (!(vaddr = elf_sym_addr(es, fns[i])) || !elf_vaddr_to_offset(es, vaddr, &off))
			continue;
		probe_place_entry(lib, off, PROBE_C_ARGS(1), &pl);
		link = bpf_program__attach_uprobe_opts(lw->skel->progs.lw_sem_wait, -1, lib, pl.off, &uo);
		if (!link) {
			warn_msg("cannot probe %s in %s: %s (semaphore waits not told apart)", fns[i], lib,
				 strerror(errno));
			continue;
		}
		vec_push(&lw->base.links, link);
		if (s->o.verbose)
			fprintf(stderr, "%s: probe %s at %s+0x%llx: %s (%s)\n", prog_name, fns[i], lib,
				(unsigned long long)pl.off, pl.insn, pl.emulated ? "emulated" : "single-stepped");
	}
}

static void attach_sems(struct session *s, struct lockwait *lw)
{
	char lib[PATH_MAX];

	if (lw->lib) {
		attach_sem(s, lw, lw->lib);
		return;
	}
	if (!s->o.pids.n || s->o.cmd) { /* system-wide, or a command not exec'd yet: our libc */
		if (find_libc(0, lib, sizeof(lib)))
			attach_sem(s, lw, lib);
		if (!s->o.cmd)
			return;
	}
	for (size_t i = 0; i < s->o.pids.n; i++)
		if (s->o.pids.v[i] != s->child && find_libc(s->o.pids.v[i], lib, sizeof(lib)))
			attach_sem(s, lw, lib);
}

_Static_assert(sizeof(struct lock_uw_payload) <= UW_PAYLOAD, "payload too big");

static void merge_val(void *dst, const void *src)
{
	struct lock_val *d = dst;
	const struct lock_val *v = src;

	d->count += v->count;
	d->total_ns += v->total_ns;
	if (v->max_ns > d->max_ns)
		d->max_ns = v->max_ns;
}


static int lockwait_start(struct session *s)
{
	struct lockwait *lw = s->priv;
	static const struct cmd_records rec = {
		.key_size = sizeof(struct lock_key), .val_size = sizeof(struct lock_val), .merge = merge_val,
		.layout = { offsetof(struct lock_key, ustack), offsetof(struct lock_key, kstack),
			    offsetof(struct lock_uw_payload, val) },
	};
	struct lockwait_bpf *skel;
	bool tp_btf = session_have_tp_btf(s, "contention_begin");
	int err;

	session_btf_release(s);
	if ((err = CMD_OPEN(s, &lw->base, lockwait, &lw->skel)) < 0)
		return err;
	skel = lw->skel;
	skel->rodata->by_lock = lw->by_lock;
	skel->rodata->min_wait_ns = lw->min_wait_ns;
	skel->rodata->trace_user = lw->user;
	skel->rodata->trace_kernel = lw->kernel;
	bpf_program__set_autoload(skel->progs.lw_sys_enter, lw->user);
	bpf_program__set_autoload(skel->progs.lw_sys_exit, lw->user);
	bpf_program__set_autoload(skel->progs.lw_kbegin_btf, lw->kernel && tp_btf);
	bpf_program__set_autoload(skel->progs.lw_kend_btf, lw->kernel && tp_btf);
	bpf_program__set_autoload(skel->progs.lw_kbegin_raw, lw->kernel && !tp_btf);
	bpf_program__set_autoload(skel->progs.lw_kend_raw, lw->kernel && !tp_btf);
	bpf_program__set_autoload(skel->progs.lw_go_semacquire, lw->user);
	bpf_program__set_autoload(skel->progs.lw_gopark, lw->user);
	bpf_program__set_autoload(skel->progs.lw_goexecute, lw->user);
	bpf_program__set_autoload(skel->progs.lw_sem_wait, lw->user);
	if ((err = cmd_prepare(s, &lw->base, NULL, UW_RING_EVENTS)) < 0)
		return err;
	if ((err = bpf_map__set_max_entries(skel->maps.ustarts, 65536) ?:
		   bpf_map__set_max_entries(skel->maps.kstarts, 65536))) {
		err_msg("cannot size the lockwait maps: %s", strerror(-err));
		return err;
	}
	if ((err = cmd_loaded(s, &lw->base, lockwait_bpf__load(skel), &rec)) < 0)
		return err;
	/* The uprobe is attached per Go target below, not by the skeleton. */
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_link *link;

		if (prog == skel->progs.lw_go_semacquire || prog == skel->progs.lw_sem_wait ||
		    prog == skel->progs.lw_gopark || prog == skel->progs.lw_goexecute || !bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			err_msg("cannot attach %s: %s%s", bpf_program__section_name(prog), strerror(-err),
				strstr(bpf_program__section_name(prog), "contention") ?
				" (kernel lock tracepoints missing? try --user)" : "");
			return err;
		}
		vec_push(&lw->base.links, link);
	}
	if (lw->user && (err = attach_go(s, lw)) < 0)
		return err;
	if (lw->user)
		attach_sems(s, lw);
	return 0;
}

/* Futex waits that are not lock waits: left out, and said so in each
 * profile (a pprof comment) and on stderr. */
static void report_skipped(struct lockwait *lw, struct profile *p)
{
	static const char *const what[SKIP_NSLOTS] = {
		[SKIP_VALUE0] = "futex waits for 0 (condition variables, untracked semaphores)",
		[SKIP_OTHER] = "other futex waits (pthread_join, custom futex users)",
	};
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *vals = xcalloc(ncpus, sizeof(uint64_t)), delta[SKIP_NSLOTS] = { 0 };

	for (uint32_t slot = 0; slot < SKIP_NSLOTS; slot++) {
		uint64_t total = 0;
		char note[160];

		if (bpf_map_lookup_elem(bpf_map__fd(lw->skel->maps.skipped), &slot, vals) == 0)
			for (int c = 0; c < ncpus; c++)
				total += vals[c];
		delta[slot] = total - lw->skipped_last[slot];
		snprintf(note, sizeof(note), "not counted as lock waits: %llu %s",
			 (unsigned long long)delta[slot], what[slot]);
		profile_add_comment(p, note);
		lw->skipped_last[slot] = total;
	}
	free(vals);
	if (delta[SKIP_VALUE0] || delta[SKIP_OTHER])
		fprintf(stderr, "%s: not counted as lock waits: %llu %s, %llu %s\n", prog_name,
			(unsigned long long)delta[SKIP_VALUE0], what[SKIP_VALUE0],
			(unsigned long long)delta[SKIP_OTHER], what[SKIP_OTHER]);
}

static const char *kind_label(const struct lock_key *k, char *buf, size_t n)
{
	const char *rw = k->flags & LCB_F_READ ? "read" : "write";

	switch (k->kind) {
	case LOCK_USER_MUTEX: return "mutex";
	case LOCK_USER_RWLOCK: return "rwlock";
	case LOCK_GO_MUTEX: return "go-mutex";
	case LOCK_USER_SEM: return "semaphore";
	}
	if (k->flags & LCB_F_PERCPU)
		snprintf(buf, n, "kernel percpu-rwsem %s", rw);
	else if (k->flags & LCB_F_MUTEX)
		snprintf(buf, n, "kernel mutex");
	else if (k->flags & LCB_F_RT)
		snprintf(buf, n, "kernel rtmutex");
	else if (k->flags & LCB_F_SPIN)
		snprintf(buf, n, k->flags & (LCB_F_READ | LCB_F_WRITE) ? "kernel rwlock %s" : "kernel spinlock", rw);
	else if (k->flags & (LCB_F_READ | LCB_F_WRITE))
		snprintf(buf, n, "kernel rwsem %s", rw);
	else
		snprintf(buf, n, "kernel lock");
	return buf;
}

struct lw_drain {
	struct session *s;
	struct lockwait *lw;
	struct stack_builder *b;
	struct stack_reader *sr;
};

/* --lib: a user lock wait counts only if the futex call is made from that
 * library (the leaf user frame lies in a mapping of that file). */
static bool from_lib(struct lw_drain *d, const struct lock_key *k)
{
	const uint64_t *ips;
	struct sym_frame f;
	struct stat st;
	char path[PATH_MAX];

	if (!d->lw->lib || k->kind == LOCK_KERNEL || k->kind == LOCK_GO_MUTEX)
		return true;
	if (!(ips = stack_reader_get(d->sr, k->ustack)) || !ips[0])
		return false;
	sym_user(d->s->sym, k->pid, k->exec, ips[0], &f);
	if (!f.module)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/map_files/%lx-%lx", k->pid,
		 (unsigned long)f.map_start, (unsigned long)f.map_end);
	if (stat(path, &st) < 0 && stat(f.module, &st) < 0)
		return false;
	return st.st_dev == d->lw->lib_dev && st.st_ino == d->lw->lib_ino;
}

static void add_entry(const void *kp, const void *vp, void *ctx)
{
	const struct lock_key *k = kp;
	const struct lock_val *v = vp;
	struct lw_drain *d = ctx;
	int64_t values[2] = { (int64_t)v->count, (int64_t)v->total_ns };
	struct pf_label labels[3];
	char kind[64], lock[160], comm[TASK_COMM_LEN + 1] = { 0 };
	uint32_t nl = 0;

	if (!from_lib(d, k)) {
		d->lw->outside_lib += v->count;
		return;
	}
	labels[nl++] = (struct pf_label){ .key = "lock_kind", .str = kind_label(k, kind, sizeof(kind)) };
	if (k->kind != LOCK_GO_MUTEX)
		labels[nl++] = (struct pf_label){ .key = "max_delay_ns", .num = (int64_t)v->max_ns };
	if (d->lw->by_lock) {
		uint64_t off;
		const char *name = k->kind == LOCK_KERNEL ? sym_kernel_data(d->s->sym, k->lock, &off) : NULL;

		if (name && off)
			snprintf(lock, sizeof(lock), "%s+0x%llx", name, (unsigned long long)off);
		else if (name)
			snprintf(lock, sizeof(lock), "%s", name);
		else
			snprintf(lock, sizeof(lock), "0x%llx", (unsigned long long)k->lock);
		labels[nl++] = (struct pf_label){ .key = "lock", .str = lock };
	}
	memcpy(comm, k->comm, TASK_COMM_LEN);
	stack_begin(d->b);
	stack_reader_add(d->sr, d->b, k->kstack, 0, 0, STACK_KERNEL);
	stack_reader_add_entry(d->sr, d->b, k->ustack, k->pid, k->exec, STACK_USER, k->entry_ret);
	stack_commit(d->b, values, k->pid, k->tid, comm, labels, nl);
}

static void note_pid(const void *kp, const void *vp, void *ctx)
{
	cmd_note(((struct lw_drain *)ctx)->s, ((const struct lock_key *)kp)->pid,
			 ((const struct lock_key *)kp)->exec);
}

static int lockwait_collect(struct session *s, struct profile *p)
{
	struct lockwait *lw = s->priv;
	struct lockwait_bpf *skel = lw->skel;
	__u32 old = skel->bss->gen & 1;
	struct bpf_map *counts = old ? skel->maps.counts1 : skel->maps.counts0;
	struct stack_builder b;
	struct lw_drain d = { .s = s, .lw = lw, .b = &b };
	struct hmap keep = { 0 };
	int err;

	set_generation(&skel->bss->gen, old ^ 1);
	stack_builder_init(&b, p, s->sym, s->o.max_depth);
	d.sr = stack_reader_new(skel->maps.stacks, s->o.max_depth);
	err = map_drain(counts, sizeof(struct lock_key), sizeof(struct lock_val), note_pid, &d, false);
	if (!err)
		err = map_drain(counts, sizeof(struct lock_key), sizeof(struct lock_val), add_entry, &d, true);
	/* Keep the stacks of waits still in progress; recycle the rest. */
	struct bpf_map *starts[2] = { skel->maps.ustarts, skel->maps.kstarts };

	for (int i = 0; i < 2; i++) {
		uint32_t key, next;
		void *prev = NULL;
		struct lock_start st;

		while (bpf_map_get_next_key(bpf_map__fd(starts[i]), prev, &next) == 0) {
			if (bpf_map_lookup_elem(bpf_map__fd(starts[i]), &next, &st) == 0) {
				if (st.ustack >= 0)
					hmap_upsert(&keep, (uint32_t)st.ustack, 0, 1, NULL);
				if (st.kstack >= 0)
					hmap_upsert(&keep, (uint32_t)st.kstack, 0, 1, NULL);
			}
			key = next;
			prev = &key;
		}
	}
	stackmap_recycle(skel->maps.stacks, &keep);
	hmap_free(&keep);
	stack_reader_report(d.sr, p);
	stack_reader_free(d.sr);
	uw_poll(&lw->base.uw, 0); /* --unwind dwarf */
	uw_drain(&lw->base.uw, &d.sr, s->o.max_depth, add_entry, &d);
	stack_builder_free(&b);
	cmd_report(&lw->base, p);
	if (lw->outside_lib) {
		fprintf(stderr, "%s: %llu futex lock waits made outside %s were not counted\n",
			prog_name, (unsigned long long)lw->outside_lib, lw->lib);
		lw->outside_lib = 0;
	}
	report_skipped(lw, p);
	return err;
}

static void lockwait_stop(struct session *s)
{
	struct lockwait *lw = s->priv;

	cmd_stop(&lw->base);
	for (size_t i = 0; i < lw->sem_libs.n; i++)
		free(lw->sem_libs.v[i]);
	vec_free(&lw->sem_libs);
	lockwait_bpf__destroy(lw->skel);
}

static int lockwait_add_pid(struct session *s, pid_t pid)
{
	struct lockwait *x = s->priv;
	int err = cmd_add_pid(s, pid);

	if (err || !x->user)
		return err;
	{
		char lib[PATH_MAX];

		if (!x->lib && find_libc(pid, lib, sizeof(lib)))
			attach_sem(s, x, lib);
	}
	return attach_go_pid(s, x, pid);
}

const struct command lockwait_command = {
	.name = "lockwait",
	.summary = "Lock contention by waiting stack: pthread, Go and kernel locks (Go's mutex profile).",
	.options_help =
		"      --user               user-space locks (pthread mutex/rwlock, Go sync.Mutex)\n"
		"      --kernel             kernel locks (default: both with a target, kernel system-wide)\n"
		"      --min-wait DURATION  count only waits at least this long (e.g. 10us)\n"
		"      --by-lock            also key by lock (address, or kernel symbol) as a label\n"
		"      --lib PATH           count only futex waits made from this library (a libc or\n"
		"                           libpthread at a non-standard path, or a static executable)\n",
	.long_opts = lockwait_opts,
	.parse_opt = lockwait_parse,
	.validate = lockwait_validate,
	.start = lockwait_start,
	.scan = cmd_scan,
	.collect = lockwait_collect,
	.stop = lockwait_stop,
	.describe = lockwait_describe,
	.add_pid = lockwait_add_pid,
	.poll = cmd_poll,
	.unwind_tables = true,
	.priv_size = sizeof(struct lockwait),
};
