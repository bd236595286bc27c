#include "core/child.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int child_spawn(struct child *c, char **argv)
{
	int hold[2], errp[2];

	c->pid = 0;
	c->hold_fd = c->err_fd = -1;
	c->status = -1;
	if (!argv || !argv[0])
		return -EINVAL;
	if (pipe2(hold, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;

		close(hold[0]);
		close(hold[1]);
		return -e;
	}
	c->pid = fork();
	if (c->pid < 0) {
		int e = errno;

		c->pid = 0;
		close(hold[0]), close(hold[1]), close(errp[0]), close(errp[1]);
		return -e;
	}
	if (c->pid == 0) {
		sigset_t none;
		char x;
		int e;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(hold[1]);
		close(errp[0]);
		if (read(hold[0], &x, 1) != 1)
			_exit(127); /* the profiler went away before attaching */
		execvp(argv[0], argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(hold[0]);
	close(errp[1]);
	c->hold_fd = hold[1];
	c->err_fd = errp[0];
	return 0;
}

static int wait_status_to_exit(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int child_release(struct child *c)
{
	int e = 0;
	ssize_t n;

	if (c->hold_fd < 0)
		return -EINVAL;
	n = write(c->hold_fd, "x", 1);
	close(c->hold_fd);
	c->hold_fd = -1;
	if (n != 1)
		return -EPIPE;
	n = read(c->err_fd, &e, sizeof(e)); /* EOF: the exec succeeded */
	close(c->err_fd);
	c->err_fd = -1;
	if (n == sizeof(e)) {
		child_reap(c, true);
		return -e;
	}
	return 0;
}

bool child_reap(struct child *c, bool wait)
{
	int st;

	if (c->pid <= 0)
		return true;
	if (waitpid(c->pid, &st, wait ? 0 : WNOHANG) != c->pid)
		return false;
	c->status = wait_status_to_exit(st);
	c->pid = 0;
	return true;
}

void child_finish(struct child *c)
{
	if (c->hold_fd >= 0)
		close(c->hold_fd); /* never released: it exits 127 without exec */
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->hold_fd = c->err_fd = -1;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		child_reap(c, true);
	}
}

bool child_program_path(const char *cmd, char *out, size_t n)
{
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
