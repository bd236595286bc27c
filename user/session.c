#include "session.h"
#include "output.h"
#include "mmapwatch.h"
#include "child.h"
#include <linux/types.h>
#include "unwind.h"

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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#define DEFAULT_BTF "/sys/kernel/btf/vmlinux"

static const char common_help[] =
	"  target    -p, --pid PID[,PID...]   processes (all their threads)\n"
	"            -t, --tid TID[,TID...]   threads\n"
	"                --cgroup PATH        a cgroup v2 directory\n"
	"            -- CMD ARGS...           start CMD, attach before it runs, stop when it exits\n"
	"            (none)                   system-wide\n"
	"  time      -d, --duration SECONDS   default: until Ctrl-C or target exit\n"
	"            -i, --interval SECONDS   one profile per interval\n"
	"            -n, --count N            stop after N intervals\n"
	"                --follow NAME        keep profiling processes named NAME (comm) as they\n"
	"                                     come and go, instead of ending with the target\n"
	"  output    -f, --format FORMAT      %s (default: top)\n"
	"            -o, --output FILE        format from the extension when -f is absent;\n"
	"                                     repeat -o for several files from one run;\n"
	"                                     with -i, %%n / %%t expand to sequence / time\n"
	"                --sample-index NAME  which value top/folded show\n"
	"                --top N              top: rows to print (default 40, 0 = all)\n"
	"  stacks    -U, --user-only          user stacks only\n"
	"            -K, --kernel-only        kernel stacks only\n"
	"                --max-depth N        frames kept per stack (default 127)\n"
	"                --max-stacks N       distinct stacks per interval (default 16384)\n"
	"                --unwind MODE        fp (frame pointers, default), dwarf (.eh_frame: complete\n"
	"                                     through code without frame pointers), auto (dwarf\n"
	"                                     for targets whose executable lacks frame pointers)\n"
	"                --stack-bytes N      dwarf: user stack bytes copied per event (default 16384)\n"
	"  misc      -v, --verbose            libbpf messages and timings\n"
	"                --btf FILE           kernel BTF (default " DEFAULT_BTF ")\n"
	"            -h, --help, --version\n";

enum {
	OPT_CGROUP = 0x1000, OPT_SAMPLE_INDEX, OPT_TOP, OPT_MAX_DEPTH, OPT_MAX_STACKS,
	OPT_BTF, OPT_VERSION, OPT_FOLLOW, OPT_UNWIND, OPT_STACK_BYTES,
};

static const struct option common_opts[] = {
	{ "pid", required_argument, 0, 'p' },
	{ "tid", required_argument, 0, 't' },
	{ "cgroup", required_argument, 0, OPT_CGROUP },
	{ "duration", required_argument, 0, 'd' },
	{ "interval", required_argument, 0, 'i' },
	{ "count", required_argument, 0, 'n' },
	{ "format", required_argument, 0, 'f' },
	{ "output", required_argument, 0, 'o' },
	{ "sample-index", required_argument, 0, OPT_SAMPLE_INDEX },
	{ "top", required_argument, 0, OPT_TOP },
	{ "user-only", no_argument, 0, 'U' },
	{ "kernel-only", no_argument, 0, 'K' },
	{ "max-depth", required_argument, 0, OPT_MAX_DEPTH },
	{ "max-stacks", required_argument, 0, OPT_MAX_STACKS },
	{ "verbose", no_argument, 0, 'v' },
	{ "btf", required_argument, 0, OPT_BTF },
	{ "follow", required_argument, 0, OPT_FOLLOW },
	{ "unwind", required_argument, 0, OPT_UNWIND },
	{ "stack-bytes", required_argument, 0, OPT_STACK_BYTES },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, OPT_VERSION },
	{ 0 },
};

static void usage(const struct command *c, FILE *out)
{
	fprintf(out, "usage: %s %s [options] [-- CMD ARGS...]\n%s\n\n", prog_name, c->name, c->summary);
	if (c->options_help && c->options_help[0])
		fprintf(out, "%s options:\n%s\n", c->name, c->options_help);
	fprintf(out, "common options:\n");
	fprintf(out, common_help, renderer_names());
	fprintf(out, "\nexit status: 0 ok, 1 runtime failure, 2 bad usage or input;"
		     " with -- CMD, CMD's own status\n");
}

static int parse_id_list(const char *arg, const char *what, void *vec_ptr)
{
	VEC(pid_t) *v = vec_ptr;
	char *copy = xstrdup(arg), *tok, *save = NULL;
	int err = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t id;

		if (!parse_u64(tok, &id) || id == 0 || id > INT_MAX) {
			err_msg("%s '%s': not a valid %s (a positive integer)", what, tok, what);
			err = -EINVAL;
			break;
		}
		vec_push(v, (pid_t)id);
	}
	if (!v->n && !err) {
		err_msg("--%s needs at least one id", what);
		err = -EINVAL;
	}
	free(copy);
	return err;
}

static int parse_seconds(const char *arg, const char *opt, int64_t *out)
{
	int64_t ns = parse_duration_ns(arg, "s");

	if (ns <= 0) {
		err_msg("%s '%s': expected a positive duration (e.g. 5, 1.5, 500ms)", opt, arg);
		return -EINVAL;
	}
	*out = ns;
	return 0;
}

static int parse_uint(const char *arg, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!parse_u64(arg, out) || *out < lo || *out > hi) {
		err_msg("%s '%s': expected an integer from %llu to %llu", opt, arg,
			(unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(struct session *s, int argc, char **argv)
{
	const struct command *c = s->cmd;
	struct option opts[64];
	char shorts[64];
	size_t n = 0;
	uint64_t u;
	int opt, err = 0;

	for (const struct option *o = common_opts; o->name; o++)
		opts[n++] = *o;
	for (const struct option *o = c->long_opts; o && o->name && n < 62; o++)
		opts[n++] = *o;
	opts[n] = (struct option){ 0 };

	snprintf(shorts, sizeof(shorts), "+:p:t:d:i:n:f:o:UKvh%s", c->short_opts ? c->short_opts : "");
	s->o.top_n = 40;
	s->o.max_depth = 127;
	s->o.max_stacks = 16384;
	s->o.stack_bytes = 16384;
	optind = 1;
	opterr = 0;
	/* '+' stops at the first non-option so "-- CMD" and CMD's own flags pass. */
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (opt) {
		case 'p': err = parse_id_list(optarg, "pid", &s->o.pids); break;
		case 't': err = parse_id_list(optarg, "tid", &s->o.tids); break;
		case OPT_CGROUP: s->o.cgroup = optarg; break;
		case 'd': err = parse_seconds(optarg, "--duration", &s->o.duration_ns); break;
		case 'i': err = parse_seconds(optarg, "--interval", &s->o.interval_ns); break;
		case 'n':
			err = parse_uint(optarg, "--count", 1, UINT32_MAX, &u);
			s->o.count = u;
			break;
		case 'f': s->o.format = optarg; break;
		case 'o': vec_push(&s->o.outputs, optarg); break;
		case OPT_SAMPLE_INDEX: s->o.sample_index = optarg; break;
		case OPT_TOP:
			err = parse_uint(optarg, "--top", 0, 1000000, &u);
			s->o.top_n = (int)u;
			break;
		case 'U': s->o.user_only = true; break;
		case 'K': s->o.kernel_only = true; break;
		case OPT_MAX_DEPTH:
			err = parse_uint(optarg, "--max-depth", 1, 127, &u);
			s->o.max_depth = (int)u;
			break;
		case OPT_MAX_STACKS:
			err = parse_uint(optarg, "--max-stacks", 64, 1u << 22, &u);
			s->o.max_stacks = (uint32_t)u;
			break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "fp"))
				s->o.unwind = UNWIND_FP;
			else if (!strcmp(optarg, "dwarf"))
				s->o.unwind = UNWIND_DWARF;
			else if (!strcmp(optarg, "auto"))
				s->o.unwind = UNWIND_AUTO;
			else {
				err_msg("--unwind '%s': use fp, dwarf or auto", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_STACK_BYTES:
			err = parse_uint(optarg, "--stack-bytes", 512, UW_MAX_STACK, &u);
			s->o.stack_bytes = (uint32_t)(u & ~7ULL);
			break;
		case 'v': s->o.verbose = true; break;
		case OPT_BTF: s->o.btf_path = optarg; break;
		case OPT_FOLLOW: s->o.follow = optarg; break;
		case 'h': usage(c, stdout); exit(EXIT_OK);
		case OPT_VERSION: printf("bpfprof %s\n", BPFPROF_VERSION); exit(EXIT_OK);
		case ':':
			err_msg("option '%s' needs a value (see %s %s --help)", argv[optind - 1], prog_name, c->name);
			return -EINVAL;
		case '?':
			err_msg("unknown option '%s' (see %s %s --help)", argv[optind - 1], prog_name, c->name);
			return -EINVAL;
		default:
			if (!c->parse_opt) {
				err_msg("unknown option '%s' (see %s %s --help)", argv[optind - 1], prog_name, c->name);
				return -EINVAL;
			}
			err = c->parse_opt(s, opt, optarg);
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0) {
			err_msg("unexpected argument '%s'; a command to run goes after '--'", argv[optind]);
			return -EINVAL;
		}
		s->o.cmd = &argv[optind];
	} else if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
		err_msg("'--' must be followed by a command to run");
		return -EINVAL;
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------- */

static bool have_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_SYS_ADMIN (21) covers both on older kernels. */
	if (eff & (1ULL << 21))
		return true;
	return (eff & (1ULL << 38)) && (eff & (1ULL << 39));
}

/* The newest BPF features every program needs: attach cookies on uprobes
 * and perf events and bpf_task_pt_regs, both Linux 5.15. Probed on the
 * running kernel (distributions backport), not read off its version. */
int session_check_kernel(void)
{
	struct utsname u = { 0 };
	const char *missing = NULL;

	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, NULL) != 1)
		missing = "bpf_get_attach_cookie";
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_attach_cookie, NULL) != 1)
		missing = "bpf_get_attach_cookie in perf events";
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_task_pt_regs, NULL) != 1)
		missing = "bpf_task_pt_regs";
	if (!missing)
		return 0;
	uname(&u);
	err_msg("this kernel (%s) lacks the BPF helper %s; bpfprof needs Linux 5.15 or later", u.release, missing);
	return -ENOTSUP;
}

static int check_btf(struct session *s)
{
	const char *path = s->o.btf_path ? s->o.btf_path : DEFAULT_BTF;
	unsigned char magic[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		if (s->o.btf_path)
			err_msg("no BTF at %s: %s", path, strerror(errno));
		else
			err_msg("kernel has no BTF at %s (a kernel built with CONFIG_DEBUG_INFO_BTF, or --btf FILE)", path);
		return -ENOENT;
	}
	n = read(fd, magic, 2);
	close(fd);
	/* BTF starts with magic 0xeB9F (little endian) */
	if (n != 2 || !((magic[0] == 0x9f && magic[1] == 0xeb) || (magic[0] == 0xeb && magic[1] == 0x9f))) {
		/* An ELF file with a .BTF section is also accepted by libbpf. */
		if (!(n == 2 && magic[0] == 0x7f && magic[1] == 'E')) {
			err_msg("%s is not a BTF file", path);
			return -EINVAL;
		}
	}
	return 0;
}

const char *session_btf_path(struct session *s)
{
	return s->o.btf_path;
}

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

/* The process a thread id belongs to (itself for a process), or 0. */
static pid_t proc_tgid(pid_t tid)
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

static bool any_target_alive(struct session *s)
{
	for (size_t i = 0; i < s->o.pids.n; i++)
		if (target_alive(s, s->o.pids.v[i]))
			return true;
	for (size_t i = 0; i < s->o.tids.n; i++)
		if (thread_exists(s->o.tids.v[i]))
			return true;
	return false;
}

static int check_targets(struct session *s)
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

/* ---- output ------------------------------------------------------------- */

/* ---- targets ------------------------------------------------------------ */

/* -- CMD: the one child launcher (child.c), held until attached. */
static struct child launch = { .hold_fd = -1, .err_fd = -1, .status = -1 };

static int spawn_child(struct session *s)
{
	int err = child_spawn(&launch, s->o.cmd);

	if (err < 0)
		return err;
	s->child = launch.pid;
	vec_push(&s->o.pids, s->child);
	return 0;
}

/* ---- --follow ---------------------------------------------------------- */

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
static void follow_scan(struct session *s)
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

/* ---- helpers for commands ----------------------------------------------- */

/* The kernel's BTF (or --btf's), parsed once per run: it is tens of
 * megabytes, and each parse cost ~30 ms of start-up. */
static const struct btf *session_btf(struct session *s)
{
	const char *path = session_btf_path(s);

	if (!s->btf && !s->btf_failed) {
		s->btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
		if (!s->btf)
			s->btf_failed = true;
	}
	return s->btf;
}

void session_btf_release(struct session *s)
{
	btf__free(s->btf);
	s->btf = NULL;
}

bool session_have_tp_btf(struct session *s, const char *tracepoint)
{
	const struct btf *btf;
	char name[128];

	if (getenv("BPFPROF_FORCE_RAW_TP")) /* exercises the fallback where both work */
		return false;
	if (!(btf = session_btf(s)))
		return false;
	snprintf(name, sizeof(name), "btf_trace_%s", tracepoint);
	return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

int session_tp_nargs(struct session *s, const char *tracepoint)
{
	const struct btf *btf = session_btf(s);
	const struct btf_type *t;
	char name[128];
	int id, n = -1;

	if (!btf)
		return -1;
	snprintf(name, sizeof(name), "btf_trace_%s", tracepoint);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	/* typedef -> pointer -> func_proto(void *__data, args...) */
	t = id > 0 ? btf__type_by_id(btf, btf__type_by_id(btf, id)->type) : NULL;
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t))
		n = (int)btf_vlen(t) - 1;
	return n;
}

bool session_target_exe(struct session *s, pid_t pid, char *out, size_t n)
{
	if (s->o.cmd && pid == s->child) { /* not exec'd yet: find it as execvp will */
		const char *cmd = s->o.cmd[0];
		char *path, *dir, *save = NULL;

		if (strchr(cmd, '/')) {
			snprintf(out, n, "%s", cmd);
			return access(out, X_OK) == 0;
		}
		path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
		for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			snprintf(out, n, "%s/%s", dir, cmd);
			if (access(out, X_OK) == 0) {
				free(path);
				return true;
			}
		}
		free(path);
		return false;
	}
	snprintf(out, n, "/proc/%d/exe", pid);
	return true;
}

void session_sync_maps(struct session *s)
{
	if (s->watch)
		mmap_watch_drain(s->watch, s->sym);
}

/* How many times pid exec'd since the programs attached (0 before they
 * are loaded, or for programs that do not count: trace). */
static uint32_t target_exec(struct session *s, pid_t pid)
{
	uint32_t key = pid, n = 0;

	if (s->exec_gens)
		bpf_map__lookup_elem(s->exec_gens, &key, sizeof(key), &n, sizeof(n), 0);
	return n;
}

void session_snapshot(struct session *s, pid_t pid)
{
	uint32_t exec = target_exec(s, pid), after;

	sym_snapshot(s->sym, pid, exec);
	/* An exec between the count and the read: the maps read may be the
	 * new program's; read them again as its image. */
	if ((after = target_exec(s, pid)) != exec)
		sym_snapshot(s->sym, pid, after);
}

void session_note_pid(struct session *s, pid_t pid)
{
	if (pid > 0 && !sym_known(s->sym, pid))
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

static int parse_cpu_list(const char *path, int **cpus)
{
	FILE *f = fopen(path, "r");
	char buf[4096], *tok, *save = NULL;
	VEC(int) v = { 0 };

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		int a, b;

		if (sscanf(tok, "%d-%d", &a, &b) == 2) {
			for (int c = a; c <= b; c++)
				vec_push(&v, c);
		} else if (sscanf(tok, "%d", &a) == 1) {
			vec_push(&v, a);
		}
	}
	if (cpus)
		*cpus = v.v;
	else
		free(v.v);
	return (int)v.n;
}

int session_online_cpus(int **cpus)
{
	return parse_cpu_list("/sys/devices/system/cpu/online", cpus);
}

int session_possible_cpus(void)
{
	return libbpf_num_possible_cpus();
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
	struct profile *p = profile_new(s->cmd->name);
	struct render_opts ro = { .top_n = s->o.top_n };
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

static int check_sample_index(struct session *s)
{
	struct profile *p;
	int ok;

	if (!s->o.sample_index)
		return 0;
	p = profile_new(s->cmd->name);
	s->cmd->describe(s, p);
	ok = profile_type_index(p, s->o.sample_index) >= 0;
	if (!ok) {
		char names[256] = "";

		for (int i = 0; i < p->ntypes; i++) {
			if (i)
				strcat(names, ", ");
			strncat(names, p->types[i].type, sizeof(names) - strlen(names) - 1);
		}
		err_msg("--sample-index '%s': %s has %s", s->o.sample_index, s->cmd->name, names);
	}
	profile_free(p);
	return ok ? 0 : -EINVAL;
}

int session_main(const struct command *cmd, int argc, char **argv)
{
	struct session s = { .cmd = cmd, .cgroup_fd = -1 };
	struct mmap_watch watch = { 0 };
	sigset_t sigs;

	s.watch = &watch;
	uint64_t seq = 0, last_scan = 0, last_follow = 0, last_snap = 0, deadline = 0, next_emit = 0;
	int status = EXIT_OK, child_status = -1, err;
	bool started = false;

	s.priv = xcalloc(1, cmd->priv_size ? cmd->priv_size : 1);
	if (parse_args(&s, argc, argv) < 0 || (cmd->validate && cmd->validate(&s) < 0)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (s.o.unwind != UNWIND_FP)
		elf_syms_keep_elf(true); /* the unwinder reads each file's .eh_frame */
	if (s.o.user_only && s.o.kernel_only) {
		err_msg("-U (user only) and -K (kernel only) exclude each other");
		status = EXIT_USAGE;
		goto out;
	}
	if (s.o.follow && (s.o.cmd || s.o.tids.n || s.o.cgroup || !cmd->add_pid)) {
		err_msg(cmd->add_pid ? "--follow works with -p or alone, not with -- CMD, -t or --cgroup"
				     : "--follow is not supported by this command");
		status = EXIT_USAGE;
		goto out;
	}
	if (s.o.count && !s.o.interval_ns) {
		err_msg("-n/--count needs -i/--interval");
		status = EXIT_USAGE;
		goto out;
	}
	if (output_setup(&s.out, s.o.format, s.o.outputs.v, s.o.outputs.n) < 0 || check_sample_index(&s) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (check_targets(&s) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (!have_caps()) {
		err_msg("needs root (CAP_BPF and CAP_PERFMON)");
		status = EXIT_RUNTIME;
		goto out;
	}
	if (check_btf(&s) < 0 || session_check_kernel() < 0) {
		status = EXIT_RUNTIME;
		goto out;
	}
	libbpf_set_print(s.o.verbose ? libbpf_print : libbpf_quiet);

	/* Signals are taken synchronously in the loop below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	s.sym = symbolizer_new();
	if (s.o.cmd && (err = spawn_child(&s)) < 0) {
		err_msg("cannot start %s: %s", s.o.cmd[0], strerror(-err));
		status = EXIT_RUNTIME;
		goto out;
	}
	if (s.o.cmd) {
		/* Its mappings as they are made: a short command that exits
		 * before a snapshot still symbolizes. */
		if ((err = mmap_watch_open(&watch, s.child)) < 0 && s.o.verbose)
			warn_msg("cannot follow %s's mappings: %s", s.o.cmd[0], strerror(-err));
	} else {
		for (size_t i = 0; i < s.o.pids.n; i++)
			session_snapshot(&s, s.o.pids.v[i]);
		/* --follow: processes that exec NAME are targets in the kernel
		 * from their exec on; their mappings are followed from there,
		 * so one that exits before a scan still symbolizes. */
		if (s.o.follow && (err = mmap_watch_open_comm(&watch, s.o.follow)) < 0 && s.o.verbose)
			warn_msg("cannot follow the mappings of %s processes: %s", s.o.follow, strerror(-err));
	}

	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	err = cmd->start(&s);
	started = true;
	s.attach_ns = now_ns(CLOCK_MONOTONIC) - t0;
	session_btf_release(&s); /* if a command did not */
	if (err < 0) {
		status = err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	if (s.o.follow)
		follow_scan(&s);
	if (s.o.verbose)
		fprintf(stderr, "%s: attached in %.1f ms (%.1f ms after start)\n", prog_name,
			s.attach_ns / 1e6, (now_ns(CLOCK_MONOTONIC) - process_start_ns) / 1e6);

	s.start_mono_ns = s.interval_mono_ns = now_ns(CLOCK_MONOTONIC);
	s.interval_start_ns = now_ns(CLOCK_REALTIME);
	if (s.o.duration_ns)
		deadline = s.start_mono_ns + s.o.duration_ns;
	if (s.o.interval_ns)
		next_emit = s.start_mono_ns + s.o.interval_ns;
	if (s.o.cmd && (err = child_release(&launch)) < 0) {
		s.child = 0;
		err_msg("cannot run %s: %s", s.o.cmd[0], strerror(-err));
		status = EXIT_USAGE;
		goto out;
	}

	/* Kernel symbols are needed by the first profile; read them now,
	 * after attaching (not on the start-up path), so memory is flat. */
	if (!s.o.user_only)
		sym_preload_kernel(s.sym);

	for (;;) {
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		siginfo_t si;
		int sig;

		/* Events (--unwind dwarf records) are read as they come, with
		 * signals checked between. */
		if (cmd->poll && cmd->poll(&s, 100))
			tick.tv_nsec = 0;
		sig = sigtimedwait(&sigs, &si, &tick);
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		bool stop = false;

		mmap_watch_drain(&watch, s.sym);

		if (sig == SIGINT || sig == SIGTERM)
			stop = true;
		if (s.child > 0) {
			if (child_reap(&launch, false)) {
				child_status = launch.status;
				s.child = 0;
				stop = true;
			} else {
				session_snapshot(&s, s.child); /* it may have loaded libraries */
			}
		} else if (!s.o.cmd && (s.o.pids.n || s.o.tids.n)) {
			if (!s.o.follow && !any_target_alive(&s)) {
				fprintf(stderr, "%s: target exited after %.2fs\n", prog_name,
					(now - s.start_mono_ns) / 1e9);
				stop = true;
			} else if (now - last_snap >= 500000000ULL) {
				/* Re-read maps for libraries loaded since (dlopen). */
				for (size_t i = 0; i < s.o.pids.n; i++)
					session_snapshot(&s, s.o.pids.v[i]);
				last_snap = now;
			}
		}
		if (deadline && now >= deadline)
			stop = true;
		if (s.o.follow && now - last_follow >= 250000000ULL) {
			follow_scan(&s);
			last_follow = now;
		}
		if (cmd->scan && now - last_scan >= 1000000000ULL) {
			cmd->scan(&s);
			last_scan = now;
		}
		if (stop)
			break;
		if (next_emit && now >= next_emit) {
			mmap_watch_drain(&watch, s.sym);
			s.final = s.o.count && seq + 1 == s.o.count;
			if ((err = emit(&s, seq++, false)) < 0) {
				status = EXIT_RUNTIME;
				goto out;
			}
			next_emit += s.o.interval_ns;
			if (s.o.count && seq >= s.o.count)
				goto done;
		}
	}
	/* The last (or only) profile; an interval run writes the partial last
	 * interval when it holds data. */
	mmap_watch_drain(&watch, s.sym);
	if (watch.lost)
		warn_msg("%llu mapping records lost: some frames of %s may be unnamed",
			 (unsigned long long)watch.lost, s.o.cmd[0]);
	s.final = true;
	err = emit(&s, seq, s.o.interval_ns != 0);
	if (err < 0)
		status = EXIT_RUNTIME;
	else if (err == 0)
		seq++;
done:
	if (s.write_failures) {
		if (s.o.interval_ns)
			warn_msg("%llu of %llu profiles not written in full (see the errors above)",
				 (unsigned long long)s.write_failures, (unsigned long long)seq);
		status = EXIT_RUNTIME;
	}
out:
	if (started && cmd->stop)
		cmd->stop(&s);
	if (s.child > 0) {
		/* Collection ended (duration or signal) before CMD did: end it,
		 * as `timeout` would, and report its status. */
		child_finish(&launch);
		child_status = launch.status;
		s.child = 0;
	} else if (s.o.cmd) {
		child_finish(&launch); /* never released: closes the hold pipe */
	}
	if (s.o.cmd && child_status >= 0 && status == EXIT_OK)
		status = child_status;
	if (s.o.verbose && started) {
		/* Our own cost (not CMD's), for bench/ and the curious. */
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "%s: own cost: %.3f s CPU (user+sys), peak RSS %.1f MB\n", prog_name,
			ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, ru.ru_maxrss / 1024.0);
	}
	mmap_watch_close(&watch);
	symbolizer_free(s.sym);
	if (s.cgroup_fd >= 0)
		close(s.cgroup_fd);
	vec_free(&s.o.pids);
	vec_free(&s.o.tids);
	hmap_free(&s.pid_starts);
	btf__free(s.btf);
	vec_free(&s.o.outputs);
	output_free(&s.out);
	free(s.priv);
	return status;
}
