/* bpfprof: one binary, subcommands; also callable as oncpu, offcpu, ... */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include <time.h>

#include "cmd/report.h"
#include "serve/serve.h"

int trace_main(int argc, char **argv);
#include "core/session.h"

extern const struct command oncpu_command;
extern const struct command offcpu_command;
extern const struct command lockwait_command;
extern const struct command mallocstacks_command;
extern const struct command threadcreate_command;
extern const struct command dump_command;
extern const struct command wall_command;
extern const struct command stat_command;
extern const struct command goroutines_command;
extern const struct command timeline_command;

static const struct command *const commands[] = {
	&oncpu_command,
	&offcpu_command,
	&lockwait_command,
	&mallocstacks_command,
	&threadcreate_command,
	&wall_command,
	&dump_command,
	&stat_command,
	&goroutines_command,
	&timeline_command,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s COMMAND [options] [-- CMD ARGS...]\n\ncommands:\n", prog_name);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-13s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "  %-13s %s\n", "report", "Render a saved pprof profile (ours or Go's) in any format, or a window of a timeline.");
	fprintf(out, "  %-13s %s\n", "serve", "Serve Go-style /debug/pprof/ endpoints for any process.");
	fprintf(out, "  %-13s %s\n", "trace", "Run a bpftrace-style one-liner (no compiler at run time).");
	fprintf(out, "\n'%s COMMAND --help' lists a command's options. Exit status: 0 ok,"
		     " 1 runtime failure, 2 bad usage or input.\n", prog_name);
}

int main(int argc, char **argv)
{
	process_start_ns = now_ns(CLOCK_MONOTONIC);
	const char *self = basename(argv[0]);
	const struct command *c = find_command(self);

	if (c) /* called as oncpu, offcpu, ... */
		return session_main(c, argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("bpfprof %s\n", BPFPROF_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "trace"))
		return trace_main(argc - 1, argv + 1);
	c = find_command(argv[1]);
	if (!c) {
		err_msg("unknown command '%s' (see %s --help)", argv[1], prog_name);
		return EXIT_USAGE;
	}
	return session_main(c, argc - 1, argv + 1);
}
