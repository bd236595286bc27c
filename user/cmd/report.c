/* bpfprof report FILE: renders a saved pprof profile (ours or any other
 * tool's) in any format. Needs no privileges. */
#include <getopt.h>
#include <errno.h>
#include <string.h>

#include "render/output.h"
#include "render/pprof.h"
#include "cmd/report.h"
#include "cmd/disasm.h"
#include "core/cli.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: %s report FILE [options]\n"
		"Renders a pprof profile (gzipped or not), e.g. one written with -o x.pb.gz or\n"
		"by Go's runtime/pprof.\n\n"
		"  -f, --format FORMAT      %s (default: top)\n"
		"  -o, --output FILE        format from the extension; repeatable\n"
		"      --sample-index NAME  which value to show (default: the profile's)\n"
		"      --top N              top: rows to print (default 40, 0 = all)\n"
		"      --lines              top, folded, dot, traces: a frame per source line\n"
		"      --list REGEX         the source of matching functions, values per line\n"
		"      --disasm REGEX       the instructions of matching functions, values per instruction\n"
		"      --base OLD           differential: top/traces/json/pprof show FILE - OLD; svg colours\n"
		"                           FILE's frames by their change (red grew, blue shrank); folded\n"
		"                           prints \"stack OLD FILE\" (flamegraph.pl's differential input)\n"
		"\nexit status: 0 ok, 1 runtime failure, 2 bad usage or a malformed file\n",
		prog_name, renderer_names());
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
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	const char *format = NULL, *index = NULL, *file = NULL, *list = NULL, *disasm = NULL, *base_file = NULL;
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
	p = pprof_read_file(file, why, sizeof(why));
	if (!p) {
		err_msg("%s: not a valid pprof profile: %s", file, why);
		goto out;
	}
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
