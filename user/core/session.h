/* The common command line and run loop shared by every profiling command:
 * targets, timing, intervals, output, signals, `-- CMD`. A command supplies
 * only its options and four hooks (start, scan, collect, stop). */
#ifndef BPFPROF_SESSION_H
#define BPFPROF_SESSION_H

#include <getopt.h>
#include <sys/types.h>
#include "model/profile.h"
#include "render/render.h"
#include "symbols/symbolize.h"
#include "render/output.h"
#include "core/child.h"
#include "core/sysinfo.h"

struct session;
struct btf;

struct command {
	const char *name;
	const char *summary;
	const char *options_help;        /* the command's own options, for --help */
	const struct option *long_opts;  /* the command's own long options */
	const char *short_opts;          /* and short ones, getopt syntax */
	/* Returns 0, or -EINVAL after printing a one-line error (exit 2). */
	int (*parse_opt)(struct session *s, int opt, const char *arg);
	int (*validate)(struct session *s);       /* after parsing; -EINVAL = usage */
	int (*start)(struct session *s);          /* open, load, attach; <0 = exit 1 */
	void (*scan)(struct session *s);          /* optional, periodic: note new pids */
	int (*collect)(struct session *s, struct profile *p); /* one interval's data */
	void (*stop)(struct session *s);          /* detach and free; every exit path */
	void (*describe)(struct session *s, struct profile *p); /* sample types etc. */
	int (*add_pid)(struct session *s, pid_t pid);  /* --follow: a new target process */
	/* Optional: wait up to timeout_ms for events and read them (--unwind
	 * dwarf records); true if it waited (the loop then checks signals
	 * without waiting). */
	bool (*poll)(struct session *s, int timeout_ms);
	bool unwind_tables;             /* walks user stacks with tables (--unwind tables) */
	const char *default_format;     /* stdout's format without -f/-o (NULL: top) */
	/* Instead of collect and the renderers: the command writes its own
	 * output (stat's summary; it handles -f/-o itself). 0 or -errno. */
	int (*summary_out)(struct session *s, uint64_t seq);
	size_t priv_size;
};

/* --unwind: tables (the default where the command walks them), fp, copy. */
enum unwind_mode { UNWIND_DEFAULT, UNWIND_FP, UNWIND_COPY, UNWIND_TABLES };

struct session_opts {
	VEC(pid_t) pids;
	VEC(pid_t) tids;
	const char *cgroup;
	char **cmd;                 /* argv after "--", or NULL */
	int64_t duration_ns;        /* 0 = until signal or target exit */
	int64_t interval_ns;        /* 0 = one profile at the end */
	uint64_t count;             /* intervals, 0 = unlimited */
	const char *format;
	VEC(const char *) outputs;  /* -o, repeatable */
	const char *sample_index;
	bool user_only, kernel_only;
	int max_depth;              /* frames kept per stack (user and kernel each) */
	uint32_t max_stacks;        /* stack map entries */
	enum unwind_mode unwind;    /* --unwind */
	uint32_t stack_bytes;       /* --stack-bytes */
	uint64_t table_memory;      /* --table-memory, bytes */
	int top_n;
	bool lines;                 /* --lines */
	bool verbose;
	const char *btf_path;
	const char *follow;         /* --follow COMM */
};

struct session {
	const struct command *cmd;
	struct session_opts o;
	struct symbolizer *sym;
	void *priv;                 /* the command's own state (priv_size bytes) */
	pid_t child;                /* -- CMD */
	struct child launch;        /* -- CMD, held until attached (child.c) */
	int child_status;           /* -- CMD's exit status once reaped, else -1 */
	bool started;               /* the command's start() ran: stop() must */
	int cgroup_fd;              /* -1 unless --cgroup */
	uint64_t start_mono_ns;     /* when probes were attached */
	uint64_t interval_start_ns; /* CLOCK_REALTIME, for time_nanos */
	uint64_t interval_mono_ns;
	uint64_t attach_ns;         /* start() duration, for -v */
	bool final;                 /* the collect in progress is the run's last */
	struct output_set out;      /* -f / -o */
	struct mmap_watch *watch;   /* -- CMD: its mapping events */
	uint64_t write_failures;    /* profiles some output of which failed */
	struct hmap pid_starts;     /* -p pid -> its start time (a reused pid is not it) */
	struct bpf_map *exec_gens;  /* the programs' per-process exec counts (filter.bpf.h) */
	struct btf *btf;            /* the kernel's BTF, parsed once (session_btf) */
	bool btf_failed;
};

/* Runs a command with argv (argv[0] is the command name); returns the exit status. */
int session_main(const struct command *cmd, int argc, char **argv);

/* A target's executable: /proc/PID/exe, or for -- CMD (not yet exec'd) the
 * file execvp will run. */
bool session_target_exe(struct session *s, pid_t pid, char *out, size_t n);
/* Target map capacity: room for --follow's newcomers. */
size_t session_pid_capacity(struct session *s);
/* Applies mapping events seen so far (-- CMD), before reading stacks. */
void session_sync_maps(struct session *s);
/* For commands: make sure pid's maps in its image `exec` are snapshotted
 * (cheap if already): a process seen first, or since it exec'd. */
void session_note_pid(struct session *s, pid_t pid, uint32_t exec);
/* How many times pid exec'd since the programs attached (its image). */
uint32_t session_target_exec(struct session *s, pid_t pid);
/* Re-reads pid's maps into the program image the BPF side counts it in
 * now (an exec since the last read starts a new image, keeping the old). */
void session_snapshot(struct session *s, pid_t pid);
/* The target as words, e.g. "pid 4242", for headers and titles. */
void session_describe_target(struct session *s, struct profile *p);

#endif
