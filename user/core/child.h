/* The one child launcher: `-- CMD` for every command. CMD is forked and held
 * before exec until the probes are attached, so its first instruction is
 * profiled; an exec that fails is reported as the exec's errno. */
#ifndef BPFPROF_CHILD_H
#define BPFPROF_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

struct child {
	pid_t pid;       /* 0 once reaped */
	int hold_fd;     /* write end: one byte lets CMD exec */
	int err_fd;      /* read end: the exec's errno, or EOF on success */
	int status;      /* exit status as a shell reports it, -1 until known */
};

/* The file execvp will run for cmd (searched in $PATH when it has no
 * slash); false if there is none. */
bool child_program_path(const char *cmd, char *out, size_t n);
/* Forks argv held; -errno on failure. Signals are unblocked in the child. */
int child_spawn(struct child *c, char **argv);
/* Lets CMD exec; -errno (e.g. -ENOENT) if the exec failed (CMD reaped). */
int child_release(struct child *c);
/* Reaps CMD if it exited (wait = block until it does); true once reaped. */
bool child_reap(struct child *c, bool wait);
/* Ends a CMD still running when collection ends (SIGTERM, as timeout(1)),
 * reaps it, closes what is open. */
void child_finish(struct child *c);

#endif
