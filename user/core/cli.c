/* The common command line of the profiling commands: parsing, --help, and
 * the checks of option values that need the command. */
#include "core/cli.h"
#include "core/sysinfo.h"
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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

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
	"                --lines              top, folded, dot, traces: a frame per source line\n"
	"                --full-names         C++ names with their parameter lists\n"
	"                --debuginfod         fetch missing debug files (lines, symbols) from the\n"
	"                                     servers in $DEBUGINFOD_URLS (off unless given)\n"
	"  stacks    -U, --user-only          user stacks only\n"
	"            -K, --kernel-only        kernel stacks only\n"
	"                --max-depth N        frames kept per stack (default 127)\n"
	"                --max-stacks N       distinct stacks per interval (default 16384)\n"
	"                --unwind MODE        tables (default: .eh_frame tables walked in the kernel,\n"
	"                                     complete through code without frame pointers),\n"
	"                                     fp (frame pointers only: cheapest), copy (stack bytes\n"
	"                                     copied and unwound in user space; also 'dwarf')\n"
	"                --stack-bytes N      copy: user stack bytes copied per event (default 16384)\n"
	"                --table-memory MIB   tables: kernel memory for unwind tables (default 256;\n"
	"                                     least recently used evicted, counted)\n"
	"  misc      -v, --verbose            libbpf messages and timings\n"
	"                --btf FILE           kernel BTF (default " DEFAULT_BTF ")\n"
	"            -h, --help, --version\n";

enum {
	OPT_CGROUP = 0x1000, OPT_SAMPLE_INDEX, OPT_TOP, OPT_MAX_DEPTH, OPT_MAX_STACKS,
	OPT_BTF, OPT_VERSION, OPT_FOLLOW, OPT_UNWIND, OPT_STACK_BYTES, OPT_TABLE_MEMORY, OPT_LINES, OPT_FULL_NAMES,
	OPT_DEBUGINFOD,
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
	{ "lines", no_argument, 0, OPT_LINES },
	{ "full-names", no_argument, 0, OPT_FULL_NAMES },
	{ "debuginfod", no_argument, 0, OPT_DEBUGINFOD },
	{ "user-only", no_argument, 0, 'U' },
	{ "kernel-only", no_argument, 0, 'K' },
	{ "max-depth", required_argument, 0, OPT_MAX_DEPTH },
	{ "max-stacks", required_argument, 0, OPT_MAX_STACKS },
	{ "verbose", no_argument, 0, 'v' },
	{ "btf", required_argument, 0, OPT_BTF },
	{ "follow", required_argument, 0, OPT_FOLLOW },
	{ "unwind", required_argument, 0, OPT_UNWIND },
	{ "stack-bytes", required_argument, 0, OPT_STACK_BYTES },
	{ "table-memory", required_argument, 0, OPT_TABLE_MEMORY },
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

int cli_parse_id_list(const char *arg, const char *what, void *vec_ptr)
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

int cli_parse_seconds(const char *arg, const char *opt, int64_t *out)
{
	int64_t ns = parse_duration_ns(arg, "s");

	if (ns <= 0) {
		err_msg("%s '%s': expected a positive duration (e.g. 5, 1.5, 500ms)", opt, arg);
		return -EINVAL;
	}
	*out = ns;
	return 0;
}

int cli_parse_uint(const char *arg, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!parse_u64(arg, out) || *out < lo || *out > hi) {
		err_msg("%s '%s': expected an integer from %llu to %llu", opt, arg,
			(unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	return 0;
}

/* Options that exclude or need each other. */
static int check_combinations(struct session *s)
{
	if (s->o.user_only && s->o.kernel_only) {
		err_msg("-U (user only) and -K (kernel only) exclude each other");
		return -EINVAL;
	}
	if (s->o.follow && (s->o.cmd || s->o.tids.n || s->o.cgroup || !s->cmd->add_pid)) {
		err_msg(s->cmd->add_pid ? "--follow works with -p or alone, not with -- CMD, -t or --cgroup"
					: "--follow is not supported by this command");
		return -EINVAL;
	}
	if (s->o.unwind == UNWIND_TABLES && !s->cmd->unwind_tables) {
		err_msg("--unwind tables: %s does not walk tables; use fp or copy", s->cmd->name);
		return -EINVAL;
	}
	/* Tables where the command walks them, else frame pointers. */
	if (s->o.unwind == UNWIND_DEFAULT)
		s->o.unwind = s->cmd->unwind_tables ? UNWIND_TABLES : UNWIND_FP;
	if (s->o.count && !s->o.interval_ns) {
		err_msg("-n/--count needs -i/--interval");
		return -EINVAL;
	}
	return 0;
}

int cli_parse(struct session *s, int argc, char **argv)
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
	s->o.table_memory = 256ULL << 20;
	cli_getopt_start();
	/* '+' stops at the first non-option so "-- CMD" and CMD's own flags pass. */
	while ((opt = cli_getopt(argc, argv, shorts, opts, c->name)) != -1) {
		switch (opt) {
		case 'p': err = cli_parse_id_list(optarg, "pid", &s->o.pids); break;
		case 't': err = cli_parse_id_list(optarg, "tid", &s->o.tids); break;
		case OPT_CGROUP: s->o.cgroup = optarg; break;
		case 'd': err = cli_parse_seconds(optarg, "--duration", &s->o.duration_ns); break;
		case 'i': err = cli_parse_seconds(optarg, "--interval", &s->o.interval_ns); break;
		case 'n':
			err = cli_parse_uint(optarg, "--count", 1, UINT32_MAX, &u);
			s->o.count = u;
			break;
		case 'f': s->o.format = optarg; break;
		case 'o': vec_push(&s->o.outputs, optarg); break;
		case OPT_SAMPLE_INDEX: s->o.sample_index = optarg; break;
		case OPT_TOP:
			err = cli_parse_uint(optarg, "--top", 0, 1000000, &u);
			s->o.top_n = (int)u;
			break;
		case OPT_LINES: s->o.lines = true; break;
		case OPT_FULL_NAMES: elf_syms_full_names(true); break;
		case OPT_DEBUGINFOD: sym_use_debuginfod(true); break;
		case 'U': s->o.user_only = true; break;
		case 'K': s->o.kernel_only = true; break;
		case OPT_MAX_DEPTH:
			err = cli_parse_uint(optarg, "--max-depth", 1, 127, &u);
			s->o.max_depth = (int)u;
			break;
		case OPT_MAX_STACKS:
			err = cli_parse_uint(optarg, "--max-stacks", 64, 1u << 22, &u);
			s->o.max_stacks = (uint32_t)u;
			break;
		case OPT_UNWIND:
			/* dwarf: copy's first name (it unwinds with DWARF CFI in
			 * user space); auto: the default, by its old name. */
			if (!strcmp(optarg, "fp"))
				s->o.unwind = UNWIND_FP;
			else if (!strcmp(optarg, "copy") || !strcmp(optarg, "dwarf"))
				s->o.unwind = UNWIND_COPY;
			else if (!strcmp(optarg, "auto"))
				s->o.unwind = UNWIND_DEFAULT;
			else if (!strcmp(optarg, "tables"))
				s->o.unwind = UNWIND_TABLES;
			else {
				err_msg("--unwind '%s': use tables (the default), fp or copy", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_STACK_BYTES:
			err = cli_parse_uint(optarg, "--stack-bytes", 512, UW_MAX_STACK, &u);
			s->o.stack_bytes = (uint32_t)(u & ~7ULL);
			break;
		case OPT_TABLE_MEMORY:
			err = cli_parse_uint(optarg, "--table-memory", 1, 1u << 20, &u);
			s->o.table_memory = u << 20;
			break;
		case 'v': s->o.verbose = true; break;
		case OPT_BTF: s->o.btf_path = optarg; break;
		case OPT_FOLLOW: s->o.follow = optarg; break;
		case 'h': usage(c, stdout); exit(EXIT_OK);
		case OPT_VERSION: printf("bpfprof %s\n", BPFPROF_VERSION); exit(EXIT_OK);
		case '?':
			return -EINVAL; /* cli_getopt said why */
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
	return check_combinations(s);
}


int cli_check_sample_index(struct session *s)
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

void cli_getopt_start(void)
{
	optind = 1;
	opterr = 0;
}

int cli_getopt(int argc, char **argv, const char *shorts, const struct option *opts, const char *cmd)
{
	int opt = getopt_long(argc, argv, shorts, opts, NULL);

	if (opt == ':')
		err_msg("option '%s' needs a value (see %s %s --help)", argv[optind - 1], prog_name, cmd);
	else if (opt == '?')
		err_msg("unknown option '%s' (see %s %s --help)", argv[optind - 1], prog_name, cmd);
	return opt == ':' ? '?' : opt;
}

static uint64_t max_sample_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "r");
	unsigned long long v = 100000;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 100000;
		fclose(f);
	}
	return v;
}

int cli_parse_frequency(const char *arg, uint64_t *out)
{
	uint64_t max = max_sample_rate();

	if (!parse_u64(arg, out) || *out < 1 || *out > max) {
		err_msg("-F '%s': sampling frequency must be 1..%llu Hz "
			"(kernel.perf_event_max_sample_rate)", arg, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}
