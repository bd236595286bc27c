/* bpfprof trace: bpftrace-style one-liners without a compiler at run time.
 * trace_parse.c compiles the program into tables; this file loads the one
 * precompiled BPF object (bpf/trace.bpf.c), fills the tables, attaches each
 * probe with its index as the attach cookie, runs BEGIN/interval/END in user
 * space and prints maps as bpftrace does (text or its NDJSON), or writes
 * stack-keyed maps as profiles (folded, pprof, svg, ...). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include "core/sysinfo.h"
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "trace/trace_user.h"
#include "core/child.h"
#include "trace.skel.h"
#include "core/bpfmaps.h"
#include "symbols/mmapwatch.h"
#include "render/output.h"
#include "model/profile.h"
#include "core/session.h"
#include "core/cli.h"
#include "symbols/stacks.h"
#include "symbols/symbolize.h"
#include "core/ktables.h"
#include "unwind.h"

struct trace {
	struct tp_program prog;
	struct trace_bpf *skel;
	link_vec links;
	fd_vec pfds;
	struct symbolizer *sym;
	struct mmap_watch watch;
	bool json, verbose, quiet;
	char *src_file;           /* a script read from a file or stdin (owned) */
	int64_t duration_ns;
	pid_t pid, child;
	const char *cmd;          /* for messages */
	const char *format;
	VEC(const char *) outputs; /* --profile */
	const char *out_path;      /* -o */
	bool list;                 /* -l */
	int stack_depth;
	struct stat_snapshot stats;
	bool multi;               /* uprobes through uprobe_multi links */
	struct ktables kt;        /* ustack: walked with unwind tables (#15) */
	VEC(int) multi_fds;
	/* the run (trace_main) */
	const char *src;          /* the program's text */
	char **cmd_argv;          /* -- CMD ARGS or -c "CMD ARGS", or NULL */
	char *cmd_copy, *words[64];
	struct child launch;      /* -- CMD, held until attached */
	bool profile_out;         /* -o or a profile format: one file at the end */
	size_t nattached;
	struct tp_printer printer;
	struct ring_buffer *rb;
	bool exited;              /* exit() */
	int exit_code;
};

/* ---- processes whose addresses are kept ----------------------------------------- */

/* The pids in a value of type ty at d (user stacks and symbols carry one). */
static void note_pids(struct trace *t, const struct type *ty, const uint8_t *d)
{
	if (ty->k == TY_USTACK || ty->k == TY_USYM) {
		int64_t pid;

		memcpy(&pid, d + 8, sizeof(pid));
		if (pid > 0 && !sym_known(t->sym, (pid_t)pid))
			sym_snapshot(t->sym, (pid_t)pid, 0);
	} else if (ty->k == TY_TUPLE) {
		for (int i = 0; i < ty->nelem; i++)
			note_pids(t, &ty->elem[i], d + ty->off[i]);
	}
}

static bool type_has_pid(const struct type *ty)
{
	if (ty->k == TY_USTACK || ty->k == TY_USYM)
		return true;
	for (int i = 0; ty->k == TY_TUPLE && i < ty->nelem; i++)
		if (type_has_pid(&ty->elem[i]))
			return true;
	return false;
}

/* Processes whose user addresses are in map keys or values: their
 * mappings read while they live (stacks print after they exit). */
static void snapshot_key_pids(struct trace *t)
{
	for (size_t i = 0; i < t->prog.maps.n; i++) {
		struct tp_map *m = &t->prog.maps.v[i];
		bool in_key = m->npart > 0 && type_has_pid(&m->key), in_val = m->agg == AG_NONE && type_has_pid(&m->val);
		uint8_t *key, *next, *val;
		bool first = true;

		if (m->fd < 0 || (!in_key && !in_val))
			continue;
		key = xcalloc(1, m->key_size);
		next = xcalloc(1, m->key_size);
		val = xcalloc(1, m->val_size * 256);
		while (bpf_map_get_next_key(m->fd, first ? NULL : key, next) == 0) {
			first = false;
			memcpy(key, next, m->key_size);
			if (in_key)
				note_pids(t, &m->key, key);
			if (in_val && bpf_map_lookup_elem(m->fd, key, val) == 0)
				note_pids(t, &m->val, val);
		}
		free(key);
		free(next);
		free(val);
	}
}

/* ---- profiles from stack-keyed maps ---------------------------------------- */

static int stack_map_index(const struct tp_program *p)
{
	for (size_t i = 0; i < p->maps.n; i++) {
		const struct tp_map *m = &p->maps.v[i];

		if (m->agg != AG_COUNT && m->agg != AG_SUM)
			continue;
		for (int j = 0; j < m->npart; j++)
			if (m->key.elem[j].k == TY_USTACK || m->key.elem[j].k == TY_KSTACK)
				return (int)i;
	}
	return -1;
}

static int write_profile(struct trace *t)
{
	int mi = stack_map_index(&t->prog);

	if (mi < 0) {
		err_msg("-o/-f %s: the program has no count() or sum() map keyed by ustack or kstack",
			t->format ? t->format : "profile");
		return -EINVAL;
	}
	const struct tp_map *m = &t->prog.maps.v[mi];
	struct profile *p = profile_new("trace");
	struct stack_builder b;
	struct output_set out = { 0 };
	struct render_opts ro = { .top_n = 40 };
	int ncpu = libbpf_num_possible_cpus(), err;
	uint8_t *key = xcalloc(1, m->key_size), *next = xcalloc(1, m->key_size), *val = xcalloc((size_t)ncpu, 8);
	bool first = true;

	p->target = pf_str(p, m->name);
	profile_add_type(p, m->name[1] ? m->name + 1 : "value", "count");
	stack_builder_init(&b, p, t->sym, 127);
	while (bpf_map_get_next_key(m->fd, first ? NULL : key, next) == 0) {
		struct pf_label labels[TY_MAX_ELEMS];
		uint32_t nl = 0;
		int64_t value = 0;

		first = false;
		memcpy(key, next, m->key_size);
		if (bpf_map_lookup_elem(m->fd, key, val) != 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			int64_t v;

			memcpy(&v, val + 8 * c, 8);
			value += v;
		}
		stack_begin(&b);
		/* kernel frames first (leaf end), then user frames */
		for (int pass = 0; pass < 2; pass++) {
			for (int j = 0; j < m->npart; j++) {
				const struct type *ty = &m->key.elem[j];
				const uint8_t *d = key + m->key.off[j];
				uint64_t ips[127] = { 0 };
				int64_t id, pid = 0;

				if (ty->k != (pass ? TY_USTACK : TY_KSTACK))
					continue;
				memcpy(&id, d, 8);
				if (pass)
					memcpy(&pid, d + 8, 8);
				int32_t sid = (int32_t)id;

				if (sid < 0 || bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stacks), &sid, ips) != 0)
					stack_add_pseudo(&b, pass ? "[user stack lost]" : "[kernel stack lost]");
				else if (pass)
					stack_add_user(&b, (pid_t)pid, 0, ips, 127);
				else
					stack_add_kernel(&b, ips, 127);
			}
		}
		for (int j = 0; j < m->npart && nl < TY_MAX_ELEMS; j++) {
			const struct type *ty = &m->key.elem[j];
			char *txt, name[32];
			size_t len;

			if (ty->k == TY_USTACK || ty->k == TY_KSTACK)
				continue;
			tp_format_value(&t->printer, ty, key + m->key.off[j], &txt, &len, false, true);
			if (ty->k == TY_STR)
				snprintf(name, sizeof(name), "%s", j == 0 || !strcmp(txt, "") ? "comm" : "key");
			snprintf(name, sizeof(name), "key%d", j);
			if (ty->k == TY_INT) {
				int64_t v;

				memcpy(&v, key + m->key.off[j], 8);
				labels[nl++] = (struct pf_label){ .key = pf_str(p, name), .num = v };
			} else {
				labels[nl++] = (struct pf_label){ .key = pf_str(p, ty->k == TY_STR ? "comm" : name),
								  .str = pf_str(p, txt) };
			}
			free(txt);
		}
		profile_add_sample(p, b.locs.v, (uint32_t)b.locs.n, &value, labels, nl);
	}
	stats_report(&t->stats, t->skel->maps.stats, p);
	err = output_setup(&out, t->format, t->outputs.v, t->outputs.n);
	if (!err)
		err = output_write(&out, p, &ro, 0);
	output_free(&out);
	free(key);
	free(next);
	free(val);
	stack_builder_free(&b);
	profile_free(p);
	return err;
}

/* ---- attaching ------------------------------------------------------------- */

static int attach_perf(struct trace *t, const struct tp_probe *pr, uint32_t idx)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_SOFTWARE };

	/* profile: cpu-clock every period; software: the parser's event and count */
	attr.config = pr->type == PT_PROFILE ? PERF_COUNT_SW_CPU_CLOCK : pr->config;
	attr.sample_period = pr->type == PT_PROFILE ? pr->period_ns : pr->count;
	return perf_attach_all_cpus(t->skel->progs.tr_perf, &attr, idx, pr->text, &t->links, &t->pfds);
}

/* BPF_RAW_TRACEPOINT_OPEN with a cookie (Linux 6.10; libbpf 1.1 predates
 * it): the attribute's layout, as the kernel's uapi has it. */
static int rawtp_open(int prog_fd, const char *name, uint64_t cookie)
{
	union {
		struct {
			uint64_t name;
			uint32_t prog_fd;
			uint32_t pad;
			uint64_t cookie;
		} rt;
		char raw[128];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.rt.name = (uint64_t)(uintptr_t)name;
	attr.rt.prog_fd = (uint32_t)prog_fd;
	attr.rt.cookie = cookie;
	fd = (int)syscall(__NR_bpf, 17 /* BPF_RAW_TRACEPOINT_OPEN */, &attr, sizeof(attr.rt));
	return fd < 0 ? -errno : fd;
}

/* A hardware breakpoint on an address of the traced process (-p, -c). */
static int attach_watchpoint(struct trace *t, const struct tp_probe *pr, uint32_t idx)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_BREAKPOINT, .sample_period = 1,
					.bp_type = pr->bp_type, .bp_addr = pr->offset, .bp_len = pr->bp_len };
	pid_t pid = t->pid > 0 ? t->pid : t->child;
	LIBBPF_OPTS(bpf_perf_event_opts, o, .bpf_cookie = idx);
	struct bpf_link *l;
	int fd, err;

	if (pid <= 0) {
		err_msg("%s: a watchpoint watches one process: give -p PID or -c CMD", pr->text);
		return -EINVAL;
	}
	fd = (int)syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		err_msg("cannot attach %s: %s%s", pr->text, strerror(errno),
			errno == ENOENT || errno == EOPNOTSUPP ? " (this kernel or machine has no hardware breakpoints)" : "");
		return err;
	}
	l = bpf_program__attach_perf_event_opts(t->skel->progs.tr_perf, fd, &o);
	if (!l) {
		err = -errno;
		close(fd);
		err_msg("cannot attach %s: %s", pr->text, strerror(-err));
		return err;
	}
	vec_push(&t->pfds, fd);
	vec_push(&t->links, l);
	return 0;
}

static int attach_probe(struct trace *t, const struct tp_probe *pr, uint32_t idx)
{
	struct bpf_link *l = NULL;

	switch (pr->type) {
	case PT_WATCHPOINT:
		return attach_watchpoint(t, pr, idx);
	case PT_PROFILE:
	case PT_SOFTWARE:
		return attach_perf(t, pr, idx);
	case PT_TRACEPOINT: {
		LIBBPF_OPTS(bpf_tracepoint_opts, o, .bpf_cookie = idx);

		l = bpf_program__attach_tracepoint_opts(t->skel->progs.tr_tracepoint, pr->target, pr->name, &o);
		break;
	}
	case PT_UPROBE:
	case PT_URETPROBE: {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = idx, .retprobe = pr->type == PT_URETPROBE);

		l = bpf_program__attach_uprobe_opts(pr->type == PT_URETPROBE ? t->skel->progs.tr_uretprobe
									     : t->skel->progs.tr_uprobe,
						    t->pid > 0 ? t->pid : -1, pr->target, pr->offset, &o);
		break;
	}
	case PT_KPROBE:
	case PT_KRETPROBE: {
		LIBBPF_OPTS(bpf_kprobe_opts, o, .bpf_cookie = idx, .retprobe = pr->type == PT_KRETPROBE,
			    .offset = (size_t)pr->offset);

		l = bpf_program__attach_kprobe_opts(pr->type == PT_KRETPROBE ? t->skel->progs.tr_kretprobe
									      : t->skel->progs.tr_kprobe, pr->name, &o);
		break;
	}
	case PT_RAWTP: {
		int fd = rawtp_open(bpf_program__fd(t->skel->progs.tr_rawtp), pr->name, idx);

		if (fd < 0) {
			err_msg("cannot attach %s: %s%s", pr->text, strerror(-fd),
				fd == -EINVAL ? " (raw tracepoints with cookies need Linux 6.10 or later)" : "");
			return fd;
		}
		vec_push(&t->multi_fds, fd);
		return 0;
	}
	case PT_USDT: {
		LIBBPF_OPTS(bpf_usdt_opts, o, .usdt_cookie = idx);

		l = bpf_program__attach_usdt(t->skel->progs.tr_usdt, t->pid > 0 ? t->pid : -1, pr->target,
					     pr->provider, pr->name, &o);
		break;
	}
	default:
		return 0;
	}
	if (!l) {
		int err = -errno;

		err_msg("cannot attach %s: %s", pr->text, strerror(errno));
		return err;
	}
	vec_push(&t->links, l);
	return 0;
}

/* Every uprobe (then uretprobe) of one binary in one uprobe_multi link;
 * cookies are the attachment indexes, as with single links. */
static int attach_multi(struct trace *t, size_t *nattached)
{
	struct tp_program *p = &t->prog;
	bool *done = xcalloc(p->probes.n + 1, sizeof(bool));
	uint64_t *offs = xcalloc(p->probes.n + 1, sizeof(uint64_t));
	uint64_t *cookies = xcalloc(p->probes.n + 1, sizeof(uint64_t));
	int err = 0;

	for (size_t i = 0; i < p->probes.n && !err; i++) {
		const struct tp_probe *first = &p->probes.v[i];
		bool ret = first->type == PT_URETPROBE;
		size_t n = 0;
		int fd;

		if (done[i] || (first->type != PT_UPROBE && !ret))
			continue;
		for (size_t j = i; j < p->probes.n; j++) {
			const struct tp_probe *pr = &p->probes.v[j];

			if (done[j] || pr->type != first->type || strcmp(pr->target, first->target))
				continue;
			done[j] = true;
			offs[n] = pr->offset;
			cookies[n++] = j;
		}
		fd = uprobe_multi_attach(ret ? t->skel->progs.tr_uretprobe : t->skel->progs.tr_uprobe,
					 first->target, t->pid, offs, cookies, n, ret);
		if (fd < 0) {
			err = fd;
			err_msg("cannot attach %s%s: %s", first->text, n > 1 ? " (and others in that file)" : "",
				strerror(-fd));
			break;
		}
		vec_push(&t->multi_fds, fd);
		*nattached += n;
	}
	free(done);
	free(offs);
	free(cookies);
	return err;
}

static bool uses_stack(const struct tp_program *p, bool user)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		if (user ? p->blocks.v[i].ustack : p->blocks.v[i].kstack)
			return true;
	return false;
}

/* ktables_poll's refresh: a process the walker queued. -c CMD's mappings
 * come from its mapping events; others are read from /proc. */
static bool trace_refresh(void *ctx, pid_t pid, uint32_t *exec)
{
	struct trace *t = ctx;

	*exec = 0;
	if (!t->child)
		sym_snapshot(t->sym, pid, 0);
	return sym_known(t->sym, pid);
}

/* One BPF map per @map, sized to the program (bpftrace's default of 4096
 * keys, or config max_map_keys); memory comes as entries do. */
static int create_maps(struct trace *t)
{
	for (size_t i = 0; i < t->prog.maps.n; i++) {
		struct tp_map *m = &t->prog.maps.v[i];
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
		char name[16];
		size_t k = 0;

		for (const char *c = m->name + 1; *c && k < sizeof(name) - 3; c++)
			name[k++] = isalnum((unsigned char)*c) || *c == '_' ? *c : '_';
		name[k] = 0;
		char full[20];

		snprintf(full, sizeof(full), "m_%s", name);
		full[15] = 0;
		m->fd = bpf_map_create(m->percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH, full, m->key_size,
				       m->val_size, (uint32_t)t->prog.map_keys_max *
				       (m->agg == AG_HIST || m->agg == AG_LHIST ? 16 : 1), &o);
		if (m->fd < 0) {
			int err = -errno;

			err_msg("cannot create the map %s: %s", m->name, strerror(errno));
			return err;
		}
	}
	return 0;
}

static const struct { enum bpf_prog_type type; } kind_types[TK_NKINDS] = {
	[TK_PERF] = { BPF_PROG_TYPE_PERF_EVENT }, [TK_TRACEPOINT] = { BPF_PROG_TYPE_TRACEPOINT },
	[TK_UPROBE] = { BPF_PROG_TYPE_KPROBE }, [TK_URETPROBE] = { BPF_PROG_TYPE_KPROBE },
	[TK_USDT] = { BPF_PROG_TYPE_KPROBE }, [TK_USER] = { BPF_PROG_TYPE_RAW_TRACEPOINT },
	[TK_KPROBE] = { BPF_PROG_TYPE_KPROBE }, [TK_KRETPROBE] = { BPF_PROG_TYPE_KPROBE },
	[TK_RAWTP] = { BPF_PROG_TYPE_RAW_TRACEPOINT },
};

static struct bpf_program *entry_prog(struct trace *t, int kind)
{
	switch (kind) {
	case TK_PERF: return t->skel->progs.tr_perf;
	case TK_TRACEPOINT: return t->skel->progs.tr_tracepoint;
	case TK_UPROBE: return t->skel->progs.tr_uprobe;
	case TK_URETPROBE: return t->skel->progs.tr_uretprobe;
	case TK_USDT: return t->skel->progs.tr_usdt;
	case TK_KPROBE: return t->skel->progs.tr_kprobe;
	case TK_KRETPROBE: return t->skel->progs.tr_kretprobe;
	case TK_RAWTP: return t->skel->progs.tr_rawtp;
	default: return NULL;
	}
}

static struct bpf_map *prog_array(struct trace *t, int kind)
{
	switch (kind) {
	case TK_PERF: return t->skel->maps.progs_perf;
	case TK_TRACEPOINT: return t->skel->maps.progs_tp;
	case TK_UPROBE: return t->skel->maps.progs_up;
	case TK_URETPROBE: return t->skel->maps.progs_uret;
	case TK_USDT: return t->skel->maps.progs_usdt;
	case TK_KPROBE: return t->skel->maps.progs_kp;
	case TK_KRETPROBE: return t->skel->maps.progs_kret;
	case TK_RAWTP: return t->skel->maps.progs_rawtp;
	default: return NULL;
	}
}

static int probe_kind(enum tp_type ty)
{
	switch (ty) {
	case PT_PROFILE: case PT_SOFTWARE: case PT_WATCHPOINT: return TK_PERF;
	case PT_TRACEPOINT: return TK_TRACEPOINT;
	case PT_UPROBE: return TK_UPROBE;
	case PT_URETPROBE: return TK_URETPROBE;
	case PT_USDT: return TK_USDT;
	case PT_KPROBE: return TK_KPROBE;
	case PT_KRETPROBE: return TK_KRETPROBE;
	case PT_RAWTP: return TK_RAWTP;
	default: return TK_USER;
	}
}

/* BTF for a program with for-loop callbacks: the main function (global)
 * and each callback (static), as bpf_for_each_map_elem requires. */
static int describe_functions(const uint32_t *subs, size_t nsubs, struct btf **out, struct bpf_func_info **info)
{
	struct btf *b = btf__new_empty();
	int i32, main_proto, cb_proto, main_fn, cb_fn, err;

	if (libbpf_get_error(b))
		return -ENOMEM;
	i32 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	main_proto = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "ctx", i32);
	cb_proto = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "map", i32);
	btf__add_func_param(b, "key", i32);
	btf__add_func_param(b, "value", i32);
	btf__add_func_param(b, "ctx", i32);
	main_fn = btf__add_func(b, "main", BTF_FUNC_GLOBAL, main_proto);
	cb_fn = btf__add_func(b, "loop_body", BTF_FUNC_STATIC, cb_proto);
	if (main_fn < 0 || cb_fn < 0 || (err = btf__load_into_kernel(b)) < 0) {
		err = main_fn < 0 ? main_fn : cb_fn < 0 ? cb_fn : -errno;
		btf__free(b);
		return err ? err : -EINVAL;
	}
	*info = xcalloc(nsubs + 1, sizeof(**info));
	(*info)[0] = (struct bpf_func_info){ .insn_off = 0, .type_id = (uint32_t)main_fn };
	for (size_t i = 0; i < nsubs; i++)
		(*info)[i + 1] = (struct bpf_func_info){ .insn_off = subs[i], .type_id = (uint32_t)cb_fn };
	*out = b;
	return 0;
}

/* Every block's programs: generated, then loaded as the entry program
 * that tail-calls them is (type and attach type must match). */
static int load_blocks(struct trace *t)
{
	struct tp_fds fds = {
		.scratch = bpf_map__fd(t->skel->maps.scratch), .event = bpf_map__fd(t->skel->maps.event),
		.ring = bpf_map__fd(t->skel->maps.ring), .stacks = bpf_map__fd(t->skel->maps.stacks),
		.stats = bpf_map__fd(t->skel->maps.stats),
	};

	for (size_t bi = 0; bi < t->prog.blocks.n; bi++) {
		struct tp_block *b = &t->prog.blocks.v[bi];

		for (int k = 0; k < TK_NKINDS; k++) {
			struct bpf_program *entry = entry_prog(t, k);
			void *insns = NULL;
			size_t n = 0;
			int err, fd;

			b->prog_fd[k] = -1;
			if (!(b->kinds & (1u << k)))
				continue;
			uint32_t *subs = NULL;
			size_t nsubs = 0;

			if ((err = tp_codegen(&t->prog, (int)bi, k, &fds, &insns, &n, &subs, &nsubs)) < 0)
				return err;
			size_t log_size = t->verbose ? 16u << 20 : 0;
			char *log = log_size ? xmalloc(log_size) : NULL;
			LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = (uint32_t)log_size,
				    .log_level = log ? 1 : 0,
				    .expected_attach_type = entry ? bpf_program__expected_attach_type(entry) : 0);
			struct btf *fbtf = NULL;
			struct bpf_func_info *finfo = NULL;

			/* for loops' callbacks: the kernel wants each function
			 * described (BTF func_info), callbacks static */
			if (nsubs && (err = describe_functions(subs, nsubs, &fbtf, &finfo)) < 0) {
				err_msg("cannot describe block %zu's functions to the kernel: %s", bi + 1, strerror(-err));
				free(subs);
				free(insns);
				return err;
			}
			if (fbtf) {
				o.prog_btf_fd = btf__fd(fbtf);
				o.func_info = finfo;
				o.func_info_cnt = (uint32_t)nsubs + 1;
				o.func_info_rec_size = sizeof(*finfo);
			}
			free(subs);
			char name[16];

			snprintf(name, sizeof(name), "tr_b%u", (unsigned)(bi % 100000));
			fd = bpf_prog_load(kind_types[k].type, name, "GPL", insns, n, &o);
			if (fd < 0 && !log) { /* again with the verifier's log, to say why */
				err = -errno;
				log_size = 4u << 20;
				log = xmalloc(log_size);
				o.log_buf = log;
				o.log_size = (uint32_t)log_size;
				o.log_level = 1;
				fd = bpf_prog_load(kind_types[k].type, name, "GPL", insns, n, &o);
				errno = -err;
			}
			if (fd < 0) {
				err = -errno;
				/* the verifier's last lines say why */
				const char *tail = log ? log + strlen(log) : NULL;
				int lines = 0;

				while (tail && tail > log && lines < 4)
					if (*--tail == '\n')
						lines++;
				err_msg("the kernel refused probe block %zu's program (%zu instructions): %s%s%s", bi + 1, n,
					strerror(-err), tail && *tail ? "\n" : "", tail ? tail : "");
				free(log);
				free(insns);
				btf__free(fbtf);
				free(finfo);
				return err;
			}
			if (t->verbose)
				fprintf(stderr, "%s: block %zu (%s): %zu instructions\n", prog_name, bi + 1,
					k == TK_USER ? "user" : bpf_program__name(entry), n);
			free(log);
			free(insns);
			btf__free(fbtf);
			free(finfo);
			b->prog_fd[k] = fd;
		}
	}
	return 0;
}

static int load_and_attach(struct trace *t, size_t *nattached)
{
	struct tp_program *p = &t->prog;
	struct trace_bpf *skel;
	bool have[TK_NKINDS] = { 0 };
	int err;

	for (size_t i = 0; i < p->probes.n; i++)
		have[probe_kind(p->probes.v[i].type)] = true;
	/* uprobe_multi where the kernel has it (6.6+): one detach for all the
	 * uprobes of a binary rather than ~100 ms each; else one link each. */
	t->multi = have[TK_UPROBE] || have[TK_URETPROBE];
again:
	skel = t->skel = trace_bpf__open();
	if (!skel) {
		int e = errno;

		err_msg("cannot open the trace BPF program: %s", strerror(e));
		return -e;
	}
	if (t->multi) {
		uprobe_multi_prepare(skel->progs.tr_uprobe);
		uprobe_multi_prepare(skel->progs.tr_uretprobe);
	}
	bpf_program__set_autoload(skel->progs.tr_perf, have[TK_PERF]);
	bpf_program__set_autoload(skel->progs.tr_tracepoint, have[TK_TRACEPOINT]);
	bpf_program__set_autoload(skel->progs.tr_uprobe, have[TK_UPROBE]);
	bpf_program__set_autoload(skel->progs.tr_uretprobe, have[TK_URETPROBE]);
	bpf_program__set_autoload(skel->progs.tr_usdt, have[TK_USDT]);
	bpf_program__set_autoload(skel->progs.tr_kprobe, have[TK_KPROBE]);
	bpf_program__set_autoload(skel->progs.tr_kretprobe, have[TK_KRETPROBE]);
	bpf_program__set_autoload(skel->progs.tr_rawtp, have[TK_RAWTP]);
	skel->rodata->cfg.pid = t->pid > 0;
	skel->rodata->cfg.kt_enabled = uses_stack(p, true);
	uint32_t na = p->probes.n ? (uint32_t)p->probes.n : 1;

	/* Maps sized to the program: the stack map only when a block takes a
	 * stack (bpftrace always locks a 130 MB one). */
	err = bpf_map__set_max_entries(skel->maps.attach_flags, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_perf, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_tp, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_up, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_uret, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_usdt, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_kp, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_kret, na) ?:
	      bpf_map__set_max_entries(skel->maps.progs_rawtp, na) ?:
	      bpf_map__set_max_entries(skel->maps.stacks, uses_stack(p, true) || uses_stack(p, false) ? 16384 : 1) ?:
	      bpf_map__set_max_entries(skel->maps.target_pids, 1) ?:
	      bpf_map__set_max_entries(skel->maps.target_tids, 1);
	if (err) {
		err_msg("cannot size the trace maps: %s", strerror(-err));
		return err;
	}
	if ((err = trace_bpf__load(skel)) < 0) {
		if (t->multi) {
			trace_bpf__destroy(skel);
			t->skel = NULL;
			t->multi = false;
			goto again;
		}
		err_msg("cannot load the trace BPF program: %s (run with -v for the verifier log)", strerror(-err));
		return err;
	}
	t->printer.stacks_fd = bpf_map__fd(skel->maps.stacks);
	if ((err = create_maps(t)) < 0 || (err = load_blocks(t)) < 0)
		return err;
	for (uint32_t i = 0; i < p->probes.n; i++) {
		const struct tp_block *b = &p->blocks.v[p->probes.v[i].block];
		int k = probe_kind(p->probes.v[i].type);
		uint32_t flags = (b->ustack ? TR_NEED_USTACK : 0) | (b->kstack ? TR_NEED_KSTACK : 0);

		bpf_map__update_elem(skel->maps.attach_flags, &i, sizeof(i), &flags, sizeof(flags), BPF_ANY);
		if (k != TK_USER && bpf_map_update_elem(bpf_map__fd(prog_array(t, k)), &i, &b->prog_fd[k], BPF_ANY)) {
			err = -errno;
			err_msg("cannot chain probe %s to its block: %s", p->probes.v[i].text, strerror(errno));
			return err;
		}
	}
	if (t->pid > 0) {
		uint32_t id = (uint32_t)t->pid;
		uint8_t one = 1;

		bpf_map__update_elem(skel->maps.target_pids, &id, sizeof(id), &one, sizeof(one), BPF_ANY);
	}
	if (skel->rodata->cfg.kt_enabled) {
		char exe[PATH_MAX];

		/* The unwind tables of -p's process before the probes attach;
		 * -c CMD's program and libraries before it runs; else the C
		 * library's and the loader's (nearly every process maps them). */
		ktables_init(&t->kt, skel->obj, t->sym, 256ULL << 20, t->verbose);
		if (t->pid > 0) {
			sym_snapshot(t->sym, t->pid, 0);
			ktables_note(&t->kt, t->pid, 0);
		} else if (t->child > 0 && child_program_path(t->cmd_argv[0], exe, sizeof(exe)))
			ktables_prebuild(&t->kt, exe, true);
		else if (t->pid <= 0 && ktables_find_library("libc.so.6", NULL, "", exe, sizeof(exe)))
			ktables_prebuild(&t->kt, exe, true);
	}
	*nattached = 0;
	for (uint32_t i = 0; i < p->probes.n; i++) {
		enum tp_type ty = p->probes.v[i].type;

		if (ty == PT_BEGIN || ty == PT_END || ty == PT_INTERVAL)
			continue;
		if (t->multi && (ty == PT_UPROBE || ty == PT_URETPROBE))
			continue; /* below, a link per binary */
		if ((err = attach_probe(t, &p->probes.v[i], i)) < 0)
			return err;
		(*nattached)++;
	}
	if (t->multi && (err = attach_multi(t, nattached)) < 0)
		return err;
	return 0;
}

/* ---- the command ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s trace [options] PROGRAM|FILE|- [ARGS...] [-- CMD ARGS...]\n"
		"       %s trace -l [PATTERN]\n"
		"Runs a program in bpftrace's language (docs/trace.md), compiled to BPF\n"
		"without LLVM. ARGS are its positional parameters ($1, $2, ...).\n\n"
		"  -e PROGRAM          the program (else FILE, - for stdin, or the text)\n"
		"  -l [PATTERN]        list probes (tracepoint:, software:, uprobe:BIN:, usdt:BIN:);\n"
		"                      with -v, tracepoints' arguments\n"
		"  -d, --duration SEC  stop after SEC (default: until exit(), Ctrl-C or -c/-p ends)\n"
		"  -p, --pid PID       only events of PID (uprobes in PID)\n"
		"  -c 'CMD ARGS'       run CMD once attached; stop when it exits (also -- CMD ARGS...)\n"
		"  -o, --output FILE   write the output to FILE (as bpftrace)\n"
		"  -f, --format FMT    text (default, as bpftrace), json (bpftrace's NDJSON), or a\n"
		"                      profile format for a ustack/kstack-keyed count()/sum() map:\n"
		"                      %s\n"
		"  --profile FILE      that map as a profile file; format from the extension\n"
		"                      (repeatable)\n"
		"  -q, --quiet         no 'Attaching N probes...'\n"
		"  --unsafe            allow system() and signal()\n"
		"  -k, -B MODE, --no-warnings   accepted for bpftrace's command lines\n"
		"  -v, --verbose       libbpf messages, instruction counts\n"
		"  -V, --version       the version\n", prog_name, prog_name, renderer_names());
}

static int print_all_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int print_no_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* All of a stream (a script on stdin), or NULL. */
static char *read_stream(FILE *in)
{
	size_t cap = 4096, len = 0, got;
	char *buf = xmalloc(cap);

	while ((got = fread(buf + len, 1, cap - len - 1, in)) > 0) {
		len += got;
		if (cap - len < 2) {
			if (cap > (16u << 20)) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	buf[len] = 0;
	return buf;
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* The command line into t; the exit status on an error, else -1. */
enum { OPT_PROFILE = 1000, OPT_UNSAFE, OPT_NO_WARNINGS };

static int parse_args(struct trace *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, 0, 'd' }, { "pid", required_argument, 0, 'p' },
		{ "format", required_argument, 0, 'f' }, { "output", required_argument, 0, 'o' },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
		{ "quiet", no_argument, 0, 'q' }, { "profile", required_argument, 0, OPT_PROFILE },
		{ "unsafe", no_argument, 0, OPT_UNSAFE }, { "no-warnings", no_argument, 0, OPT_NO_WARNINGS },
		{ "version", no_argument, 0, 'V' }, { 0 },
	};
	char *save = NULL;
	int opt, nopt = argc;
	uint64_t u;

	/* `-- CMD ARGS...` as every command takes it (bpftrace's -c also works). */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			t->cmd_argv = argv + i + 1;
			break;
		}
	}
	cli_getopt_start();
	while ((opt = cli_getopt(nopt, argv, ":e:d:p:c:f:o:vhqlkB:VI:", opts, "trace")) != -1) {
		switch (opt) {
		case 'e': t->src = optarg; break;
		case 'd':
			if (cli_parse_seconds(optarg, "-d", &t->duration_ns) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			if (!parse_u64(optarg, &u) || !u || u > INT32_MAX) {
				err_msg("-p '%s': expected a process id", optarg);
				return EXIT_USAGE;
			}
			t->pid = (pid_t)u;
			if (kill(t->pid, 0) < 0 && errno == ESRCH) {
				err_msg("-p %d: no such process", t->pid);
				return EXIT_USAGE;
			}
			break;
		case 'c': {
			int n = 0;

			free(t->cmd_copy);
			t->cmd_copy = xstrdup(optarg);
			for (char *w = strtok_r(t->cmd_copy, " \t", &save); w && n < 63; w = strtok_r(NULL, " \t", &save))
				t->words[n++] = w;
			t->words[n] = NULL;
			t->cmd_argv = t->words;
			break;
		}
		case 'f': t->format = optarg; break;
		case 'o': t->out_path = optarg; break;
		case OPT_PROFILE: vec_push(&t->outputs, optarg); break;
		case OPT_UNSAFE: t->prog.unsafe = true; break;
		case OPT_NO_WARNINGS: case 'k': case 'B': case 'I': break;
		case 'l': t->list = true; break;
		case 'v': t->verbose = true; break;
		case 'q': t->quiet = true; break;
		case 'V': printf("bpfprof trace %s (bpftrace's language, without LLVM)\n", BPFPROF_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: return EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (t->list) {
		t->src = optind < nopt ? argv[optind++] : NULL;
		if (optind < nopt) {
			err_msg("-l takes one pattern");
			return EXIT_USAGE;
		}
		return -1;
	}
	if (!t->src && optind < nopt) {
		/* As bpftrace: a script file, or - for stdin; our extension: a
		 * program's text when no file of that name exists. */
		const char *arg = argv[optind++];
		struct stat st;

		if (!strcmp(arg, "-") || (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
			size_t len;

			t->src_file = !strcmp(arg, "-") ? read_stream(stdin) : read_whole_file(arg, &len);
			if (!t->src_file) {
				err_msg("cannot read the script %s: %s", arg, strerror(errno));
				return EXIT_USAGE;
			}
			t->src = t->src_file;
		} else {
			t->src = arg;
		}
	}
	if (!t->src) {
		err_msg("no program (see %s trace --help)", prog_name);
		return EXIT_USAGE;
	}
	/* the rest: positional parameters $1..$N */
	while (optind < nopt)
		vec_push(&t->prog.params, argv[optind++]);
	if (t->cmd_argv && !t->cmd_argv[0]) {
		err_msg("no command after -- (or -c)");
		return EXIT_USAGE;
	}
	t->cmd = t->cmd_argv ? t->cmd_argv[0] : NULL;
	if (t->format && !strcmp(t->format, "json"))
		t->json = true;
	else if (t->format && strcmp(t->format, "text") && !renderer_find(t->format)) {
		err_msg("-f '%s': use text, json or %s", t->format, renderer_names());
		return EXIT_USAGE;
	}
	t->profile_out = t->outputs.n || (t->format && strcmp(t->format, "text") && !t->json);
	if (t->json && t->outputs.n) {
		err_msg("-f json prints the program's output; --profile writes profiles (use one or the other)");
		return EXIT_USAGE;
	}
	if (t->out_path) {
		int fd;

		if (output_check_path(t->out_path) < 0)
			return EXIT_USAGE;
		fd = open(t->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			err_msg("-o %s: %s", t->out_path, strerror(errno));
			return EXIT_USAGE;
		}
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return -1;
}

/* A profile output needs a stack-keyed count or sum map, and outputs that
 * can be written: checked before anything attaches. */
static int check_profile_out(struct trace *t)
{
	struct output_set o = { 0 };

	if (stack_map_index(&t->prog) < 0) {
		err_msg("profile output needs a count() or sum() map keyed by ustack or kstack");
		return -EINVAL;
	}
	if (output_setup(&o, t->format, t->outputs.v, t->outputs.n) < 0)
		return -EINVAL;
	output_free(&o);
	return 0;
}

/* A record from the ring buffer: printf, print, clear, exit... */
static int on_record(void *ctx, void *data, size_t size)
{
	struct trace *t = ctx;
	const struct tr_rec *r = data;
	const struct tp_fmt *f;

	if (size < sizeof(*r) || r->fmt >= t->prog.fmts.n)
		return 0;
	f = &t->prog.fmts.v[r->fmt];
	if (size < f->size || t->exited)
		return 0;
	switch (f->action) {
	case TR_ACT_PRINTF: case TR_ACT_TIME: case TR_ACT_SYSTEM: case TR_ACT_CAT: case TR_ACT_JOIN:
		tp_printf(&t->printer, f, data);
		break;
	case TR_ACT_PRINT_VAL:
		tp_print_value(&t->printer, &f->args[0], (const uint8_t *)data + f->off[0]);
		break;
	case TR_ACT_PRINT_MAP:
		snapshot_key_pids(t);
		tp_print_map(&t->printer, f->map, f->top, f->div);
		break;
	case TR_ACT_CLEAR: case TR_ACT_ZERO:
		tp_clear_map(&t->printer, f->map, f->action == TR_ACT_ZERO);
		break;
	case TR_ACT_EXIT: {
		int64_t code;

		memcpy(&code, (const uint8_t *)data + f->off[0], sizeof(code));
		t->exited = true;
		t->exit_code = (int)code;
		break;
	}
	}
	return 0;
}

/* Starts -- CMD held, loads every block and attaches the kernel ones,
 * says how many probes (as bpftrace counts them: BEGIN, END and interval
 * too). */
static int attach(struct trace *t)
{
	int err;

	if (t->cmd_argv && (err = child_spawn(&t->launch, t->cmd_argv)) < 0) {
		err_msg("cannot start %s: %s", t->cmd, strerror(-err));
		return EXIT_RUNTIME;
	}
	t->child = t->launch.pid;
	t->prog.cpid = t->child;
	if (t->child > 0 && mmap_watch_open(&t->watch, t->child) < 0 && t->verbose)
		warn_msg("cannot follow %s's mappings", t->cmd);
	t->prog.start_ns = now_ns(CLOCK_MONOTONIC);
	if (load_and_attach(t, &t->nattached) < 0)
		return EXIT_RUNTIME;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.ring), on_record, t, NULL);
	if (!t->rb) {
		err_msg("cannot read the trace ring buffer: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (t->verbose)
		fprintf(stderr, "%s: attached in %.1f ms after start\n", prog_name,
			(now_ns(CLOCK_MONOTONIC) - process_start_ns) / 1e6);
	for (size_t i = 0; i < t->prog.probes.n; i++) {
		enum tp_type ty = t->prog.probes.v[i].type;

		t->nattached += ty == PT_BEGIN || ty == PT_END || ty == PT_INTERVAL;
	}
	if (t->json)
		printf("{\"type\": \"attached_probes\", \"data\": {\"probes\": %zu}}\n", t->nattached);
	else if (!t->profile_out && !t->quiet)
		printf("Attaching %zu probe%s...\n", t->nattached, t->nattached == 1 ? "" : "s");
	fflush(stdout);
	if (t->pid > 0)
		sym_snapshot(t->sym, t->pid, 0);
	return 0;
}

/* A BEGIN, END or interval block: its program run once, here (as a raw
 * tracepoint program run by the kernel's test runner), its records read. */
static void run_user_block(struct trace *t, const struct tp_block *b)
{
	uint64_t args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (t->exited || b->prog_fd[TK_USER] < 0)
		return;
	if (bpf_prog_test_run_opts(b->prog_fd[TK_USER], &o) < 0 && t->verbose)
		warn_msg("cannot run the %s block: %s", t->prog.probes.v[b->first_probe].text, strerror(errno));
	ring_buffer__consume(t->rb);
	fflush(stdout);
}

/* BEGIN, then CMD released, then events and interval blocks until the
 * duration, a signal, exit(), or the target's end. The exit status on a
 * failure. */
static int run(struct trace *t)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_scan = start, deadline = 0;
	int err;

	for (size_t i = 0; i < t->prog.blocks.n; i++) {
		struct tp_block *b = &t->prog.blocks.v[i];

		if (b->type == PT_BEGIN)
			run_user_block(t, b);
		if (b->type == PT_INTERVAL)
			b->next_ns = start + b->interval_ns;
	}
	if (t->child > 0 && !t->exited && (err = child_release(&t->launch)) < 0) { /* once everything is attached */
		err_msg("cannot run %s: %s", t->cmd, strerror(-err));
		t->child = 0;
		return EXIT_USAGE;
	}
	if (t->duration_ns)
		deadline = start + t->duration_ns;
	while (!t->exited && !stop_signal) {
		uint64_t now, wait_ns = 10000000ULL;

		for (size_t i = 0; i < t->prog.blocks.n; i++) {
			struct tp_block *b = &t->prog.blocks.v[i];

			now = now_ns(CLOCK_MONOTONIC);
			if (b->type == PT_INTERVAL && b->next_ns > now && b->next_ns - now < wait_ns)
				wait_ns = b->next_ns - now;
		}
		ring_buffer__poll(t->rb, (int)(wait_ns / 1000000ULL) ? (int)(wait_ns / 1000000ULL) : 1);
		fflush(stdout);
		now = now_ns(CLOCK_MONOTONIC);
		if (t->child > 0) {
			mmap_watch_drain(&t->watch, t->sym);
			if (child_reap(&t->launch, false)) {
				t->child = 0;
				break;
			}
		}
		if (t->pid > 0 && kill(t->pid, 0) < 0 && errno == ESRCH)
			break;
		if (deadline && now >= deadline)
			break;
		for (size_t i = 0; i < t->prog.blocks.n && !t->exited; i++) {
			struct tp_block *b = &t->prog.blocks.v[i];

			if (b->type == PT_INTERVAL && now >= b->next_ns) {
				b->next_ns += b->interval_ns;
				if (b->next_ns <= now) /* we were late: no burst */
					b->next_ns = now + b->interval_ns;
				run_user_block(t, b);
			}
		}
		if (now - last_scan >= 250000000ULL) {
			snapshot_key_pids(t);
			last_scan = now;
		}
		/* Processes the walker met without tables: each turn (10 ms), as
		 * a command maps its libraries in its first milliseconds. */
		ktables_poll(&t->kt, trace_refresh, t);
	}
	return EXIT_OK;
}

/* END blocks, then the maps printed (or the profile written), then what
 * was lost. */
static int report_end(struct trace *t)
{
	int status = EXIT_OK;

	if (t->child > 0)
		mmap_watch_drain(&t->watch, t->sym);
	snapshot_key_pids(t); /* a last look at processes that may exit soon */
	ring_buffer__consume(t->rb);
	t->exited = false; /* END runs after exit() too */
	for (size_t i = 0; i < t->prog.blocks.n; i++)
		if (t->prog.blocks.v[i].type == PT_END)
			run_user_block(t, &t->prog.blocks.v[i]);
	if (t->profile_out) {
		if (write_profile(t) < 0)
			status = EXIT_RUNTIME;
	} else {
		tp_print_all(&t->printer);
	}
	fflush(stdout);
	struct profile *p = profile_new("trace");

	stats_report(&t->stats, t->skel->maps.stats, p);
	for (size_t i = 0; i < p->counters.n; i++)
		if (p->counters.v[i].value && strcmp(p->counters.v[i].name, "events"))
			warn_msg("%s: %llu", p->counters.v[i].name, (unsigned long long)p->counters.v[i].value);
	profile_free(p);
	if (status == EXIT_OK && t->exit_code)
		status = t->exit_code;
	return status;
}

/* Detaches everything and ends CMD on every path. */
static int finish(struct trace *t, int status)
{
	if (t->cmd_argv)
		child_finish(&t->launch); /* still running: SIGTERM, as timeout(1) */
	/* As every command: with -- CMD, its exit status unless we failed. */
	if (t->cmd_argv && status == EXIT_OK && t->launch.status >= 0)
		status = t->launch.status;
	links_destroy(t->links.v, t->links.n);
	ring_buffer__free(t->rb);
	for (size_t i = 0; i < t->prog.blocks.n; i++)
		for (int k = 0; k < TK_NKINDS; k++)
			if (t->prog.blocks.v[i].prog_fd[k] > 0)
				close(t->prog.blocks.v[i].prog_fd[k]);
	for (size_t i = 0; i < t->prog.maps.n; i++)
		if (t->prog.maps.v[i].fd >= 0)
			close(t->prog.maps.v[i].fd);
	for (size_t i = 0; i < t->multi_fds.n; i++)
		close(t->multi_fds.v[i]);
	vec_free(&t->multi_fds);
	for (size_t i = 0; i < t->pfds.n; i++)
		close(t->pfds.v[i]);
	vec_free(&t->links);
	vec_free(&t->pfds);
	ktables_free(&t->kt);
	trace_bpf__destroy(t->skel);
	mmap_watch_close(&t->watch);
	symbolizer_free(t->sym);
	tp_free(&t->prog);
	vec_free(&t->outputs);
	free(t->cmd_copy);
	free(t->src_file);
	return status;
}

int trace_main(int argc, char **argv)
{
	struct trace t = { .launch = { .hold_fd = -1, .err_fd = -1, .status = -1 } };
	int status = parse_args(&t, argc, argv);

	if (status >= 0)
		return finish(&t, status);
	if (geteuid() != 0) {
		err_msg("needs root (CAP_BPF and CAP_PERFMON)");
		return finish(&t, EXIT_RUNTIME);
	}
	if (session_check_kernel() < 0)
		return finish(&t, EXIT_RUNTIME);
	/* Tracepoint names and formats live in tracefs: mount it if needed. */
	sysinfo_mount_tracefs();
	if (t.list)
		return finish(&t, tp_list(t.src, t.verbose, t.pid) < 0 ? EXIT_USAGE : EXIT_OK);
	t.prog.pid = t.pid;
	/* ustack is walked with unwind tables, which need each file's ELF
	 * kept; the parser loads the probed files. */
	if (strstr(t.src, "ustack"))
		elf_syms_keep_elf(true);
	t.sym = t.prog.sym = symbolizer_new();
	/* bpftrace's environment settings (config = { } in the program wins) */
	static const char *const strlen_env[] = { "BPFTRACE_MAX_STRLEN", "BPFTRACE_STRLEN", NULL };
	static const char *const keys_env[] = { "BPFTRACE_MAX_MAP_KEYS", "BPFTRACE_MAP_KEYS_MAX", NULL };

	for (int i = 0; strlen_env[i]; i++) {
		uint64_t v;

		if (getenv(strlen_env[i]) && parse_u64(getenv(strlen_env[i]), &v) && v >= 1 && v <= 1024)
			t.prog.strlen_max = (int)v;
	}
	for (int i = 0; keys_env[i]; i++) {
		uint64_t v;

		if (getenv(keys_env[i]) && parse_u64(getenv(keys_env[i]), &v) && v >= 1 && v <= (1u << 24))
			t.prog.map_keys_max = (int)v;
	}
	t.printer = (struct tp_printer){ .p = &t.prog, .sym = t.sym, .json = t.json, .out = stdout, .stacks_fd = -1 };
	if (tp_parse(t.src, &t.prog) < 0 || tp_sema(&t.prog) < 0 || (t.profile_out && check_profile_out(&t) < 0))
		return finish(&t, EXIT_USAGE);
	libbpf_set_print(t.verbose ? print_all_libbpf : print_no_libbpf);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((status = attach(&t)) != 0 || (status = run(&t)) != 0)
		return finish(&t, status);
	return finish(&t, report_end(&t));
}
