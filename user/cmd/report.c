/* bpfprof report FILE: renders a saved pprof profile (ours or any other
 * tool's) in any format, or the profile of a window of a saved timeline
 * (trace-event JSON: --from/--to). Needs no privileges. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>

#include "render/output.h"
#include "render/pprof.h"
#include "render/timeline_read.h"
#include "cmd/report.h"
#include "cmd/disasm.h"
#include "core/cli.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: %s report FILE [options]\n"
		"Renders a pprof profile (gzipped or not), e.g. one written with -o x.pb.gz or\n"
		"by Go's runtime/pprof; or, from a timeline (bpfprof timeline -o trace.json), the\n"
		"profile of a window: sample types cpu (default), offcpu, sched (runnable,\n"
		"waiting for a CPU), syscall, and for Go gowait and gosched (goroutines), chosen\n"
		"with --sample-index.\n\n"
		"  -f, --format FORMAT      %s (default: top)\n"
		"  -o, --output FILE        format from the extension; repeatable\n"
		"      --sample-index NAME  which value to show (default: the profile's)\n"
		"      --top N              top: rows to print (default 40, 0 = all)\n"
		"      --lines              top, folded, dot, traces: a frame per source line\n"
		"      --list REGEX         the source of matching functions, values per line\n"
		"      --disasm REGEX       the instructions of matching functions, values per instruction\n"
		"      --from T, --to T     timeline: the window, from the trace's start (e.g. 1.5s,\n"
		"                           250ms; a bare number is seconds; default: all of it)\n"
		"      --base OLD           differential: top/traces/json/pprof show FILE - OLD; svg colours\n"
		"                           FILE's frames by their change (red grew, blue shrank); folded\n"
		"                           prints \"stack OLD FILE\" (flamegraph.pl's differential input)\n"
		"\nexit status: 0 ok, 1 runtime failure, 2 bad usage or a malformed file\n",
		prog_name, renderer_names());
}

/* A window's bound: a duration from the trace's start; -1 if absent,
 * -2 (after a one-line error) if malformed. */
static int64_t window_bound(const char *arg, const char *opt)
{
	int64_t ns;

	if (!arg)
		return -1;
	if ((ns = parse_duration_ns(arg, "s")) < 0) {
		err_msg("%s '%s': not a time from the trace's start (e.g. 1.5s, 250ms, 0)", opt, arg);
		return -2;
	}
	return ns;
}

/* Whether path is a regular file that begins as JSON does (a timeline). */
static bool file_is_json(const char *path)
{
	uint8_t head[256];
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n > 0 && timeline_is_json(head, (size_t)n);
}

/* FILE as a profile: a pprof file, or a timeline's window. NULL after a
 * one-line error, *status set. */
static struct profile *read_profile(const char *file, const char *from_arg, const char *to_arg, int *status)
{
	int64_t from = window_bound(from_arg, "--from"), to = window_bound(to_arg, "--to");
	struct profile *p = NULL;
	char why[256];
	size_t len = 0;
	char *data;

	*status = EXIT_USAGE;
	if (from == -2 || to == -2)
		return NULL;
	if (to >= 0 && from >= 0 && to <= from) {
		err_msg("--to %s is not after --from %s", to_arg, from_arg);
		return NULL;
	}
	if (!file_is_json(file)) {
		if (from_arg || to_arg)
			err_msg("--from/--to: %s is not a timeline (bpfprof timeline -o trace.json)", file);
		else if (!(p = pprof_read_file(file, why, sizeof(why))))
			err_msg("%s: not a valid pprof profile: %s", file, why);
		return p;
	}
	if (!(data = read_whole_file(file, &len))) {
		err_msg("%s: %s", file, strerror(errno));
		*status = EXIT_RUNTIME;
		return NULL;
	}
	if (!(p = timeline_read(data, len, from < 0 ? 0 : from, to, why, sizeof(why))))
		err_msg("%s: not a valid timeline (trace-event JSON): %s", file, why);
	free(data);
	return p;
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, 0, 'f' },
		{ "output", required_argument, 0, 'o' },
		{ "sample-index", required_argument, 0, 'S' },
		{ "top", required_argument, 0, 'T' },
		{ "lines", no_argument, 0, 'L' },
		{ "list", required_argument, 0, 'l' },
		{ "disasm", required_argument, 0, 'D' },
		{ "base", required_argument, 0, 'B' },
		{ "from", required_argument, 0, 'F' },
		{ "to", required_argument, 0, 'U' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	const char *format = NULL, *index = NULL, *file = NULL, *list = NULL, *disasm = NULL, *base_file = NULL;
	const char *from_arg = NULL, *to_arg = NULL;
	struct profile *base = NULL;
	VEC(const char *) outs = { 0 };
	struct render_opts ro = { .top_n = 40 };
	struct output_set out = { 0 };
	struct profile *p = NULL;
	char why[256];
	uint64_t u;
	int opt, status = EXIT_USAGE;

	cli_getopt_start();
	while ((opt = cli_getopt(argc, argv, ":f:o:h", opts, "report")) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'o': vec_push(&outs, optarg); break;
		case 'S': index = optarg; break;
		case 'T':
			if (cli_parse_uint(optarg, "--top", 0, 1000000, &u) < 0)
				goto out;
			ro.top_n = (int)u;
			break;
		case 'L': ro.lines = true; break;
		case 'l': list = optarg; break;
		case 'D': disasm = optarg; break;
		case 'B': base_file = optarg; break;
		case 'F': from_arg = optarg; break;
		case 'U': to_arg = optarg; break;
		case 'h': usage(stdout); status = EXIT_OK; goto out;
		default: goto out; /* cli_getopt said why */
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc) {
		err_msg("report takes one file; unexpected '%s'", argv[optind]);
		goto out;
	}
	if (!file) {
		err_msg("report needs a profile file (see %s report --help)", prog_name);
		goto out;
	}
	if (output_setup(&out, format, outs.v, outs.n) < 0)
		goto out;
	if (!(p = read_profile(file, from_arg, to_arg, &status)))
		goto out;
	ro.sample_index = p->default_type;
	if (index && (ro.sample_index = profile_type_index(p, index)) < 0) {
		char names[256] = "";

		for (int i = 0; i < p->ntypes; i++) {
			if (i)
				strcat(names, ", ");
			strncat(names, p->types[i].type, sizeof(names) - strlen(names) - 1);
		}
		err_msg("--sample-index '%s': %s has %s", index, file, names);
		goto out;
	}
	if (list || disasm) { /* a listing to stdout instead of a format */
		int err = list ? render_list(p, &ro, list, stdout) : report_disasm(p, ro.sample_index, disasm, stdout);

		status = err == -EINVAL || err == -ENOENT ? EXIT_USAGE : err < 0 ? EXIT_RUNTIME : EXIT_OK;
		goto out;
	}
	if (base_file) {
		/* Differential (pprof's -diff_base): folded gets both columns
		 * ("stack BASE NEW", flamegraph.pl's differential input); the
		 * others the difference, NEW - BASE, signed. */
		const char *r = out.renderers[0]->name;

		if (out.n != 1 || !strcmp(r, "dot")) {
			err_msg("--base: one output, in top, folded, svg, traces, json or pprof (dot is not "
				"differential)");
			goto out;
		}
		if (!(base = pprof_read_file(base_file, why, sizeof(why)))) {
			err_msg("%s: not a valid pprof profile: %s", base_file, why);
			goto out;
		}
		ro.base = base; /* folded's first column; svg's colours; top's percentages */
		if (strcmp(r, "folded") && strcmp(r, "svg") && profile_subtract(p, base) < 0) {
			err_msg("--base %s: no sample type in common with %s", base_file, file);
			goto out;
		}
	}
	status = output_write(&out, p, &ro, 0) < 0 ? EXIT_RUNTIME : EXIT_OK;
out:
	profile_free(base);
	profile_free(p);
	output_free(&out);
	vec_free(&outs);
	return status;
}
