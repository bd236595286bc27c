#include "render/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Expands %n (sequence) and %t (the interval's start, ISO-8601 UTC with
 * milliseconds) in an output path. */
static void expand_path(const char *pattern, uint64_t seq, int64_t time_ns, char *out, size_t n)
{
	size_t j = 0;

	for (const char *c = pattern; *c && j + 1 < n; c++) {
		if (c[0] == '%' && (c[1] == 'n' || c[1] == 't')) {
			char tmp[64];

			if (c[1] == 'n') {
				snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)seq);
			} else {
				time_t t = time_ns > 0 ? (time_t)(time_ns / 1000000000LL) : time(NULL);
				int ms = time_ns > 0 ? (int)(time_ns / 1000000 % 1000) : 0;
				struct tm tm;
				char sec[48];

				gmtime_r(&t, &tm);
				strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
				snprintf(tmp, sizeof(tmp), "%s.%03dZ", sec, ms);
			}
			j += snprintf(out + j, n - j, "%s", tmp);
			c++;
		} else {
			out[j++] = *c;
		}
	}
	out[j < n ? j : n - 1] = 0;
}

static bool is_pattern(const char *path)
{
	return strstr(path, "%n") || strstr(path, "%t");
}

/* The kernel's protected_symlinks rule, applied to our own writes: a
 * symlink in a sticky world-writable directory (/tmp) is followed only when
 * it belongs to us or to the directory's owner. Root following another
 * user's /tmp link would write wherever that user points it. */
static int check_symlink(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat lst, dst;

	if (lstat(path, &lst) < 0 || !S_ISLNK(lst.st_mode))
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	if (stat(dir, &dst) < 0)
		return 0;
	if ((dst.st_mode & (S_ISVTX | S_IWOTH)) == (S_ISVTX | S_IWOTH) &&
	    lst.st_uid != geteuid() && lst.st_uid != dst.st_uid) {
		err_msg("refusing to write %s: a symlink owned by uid %u in a sticky world-writable directory",
			path, (unsigned)lst.st_uid);
		return -EPERM;
	}
	return 0;
}

/* Fails early, before anything is attached, if -o cannot be written. */
static int check_output(const char *output)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat st;
	int err;

	expand_path(output, 0, 0, path, sizeof(path));
	if ((err = check_symlink(path)) < 0)
		return err;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			err_msg("cannot write %s: is a directory", path);
			return -EISDIR;
		}
		if (access(path, W_OK) < 0) {
			err = -errno;
			err_msg("cannot write %s: %s", path, strerror(-err));
			return err;
		}
		if (!S_ISREG(st.st_mode))
			return 0; /* a device, FIFO or socket: written in place */
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	if (access(dir, W_OK) < 0) {
		err = -errno;
		err_msg("cannot write %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/* A socket path is connected to (stream, then datagram), as a FIFO or a
 * device is opened: the profile goes to whoever listens there. */
static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int types[] = { SOCK_STREAM, SOCK_DGRAM }, err = -ENAMETOOLONG;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err;
	strcpy(sa.sun_path, path);
	for (int i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = -errno;
		close(fd);
		if (err != -EPROTOTYPE)
			break;
	}
	return err;
}

/* A regular file is replaced atomically: a temporary file in the same
 * directory, then rename, so a reader never sees a partial profile. It gets
 * the mode `>` would give: an existing file's own, else 0666 less the umask.
 * Anything else (a character device such as /dev/null, a FIFO, a socket) is
 * written in place, as the shell's `>` and perf -o do: replacing it would
 * destroy it. A symlink is followed to what it names. */
static int write_file(const char *path, const char *buf, size_t len)
{
	char real[PATH_MAX], tmp[PATH_MAX + 32];
	const char *dest = path;
	struct stat st;
	mode_t mode, mask;
	int fd, err;

	if ((err = check_symlink(path)) < 0)
		return err;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		fd = S_ISSOCK(st.st_mode) ? open_socket(path) : open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return fd == -1 ? -errno : fd;
		err = write_all(fd, buf, len);
		if (close(fd) < 0 && !err && errno != EINTR)
			err = -errno;
		return err;
	}
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (realpath(path, real)) {
			dest = real;
		} else { /* dangling: create what it names, as `>` does */
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
			if (fd < 0)
				return -errno;
			err = write_all(fd, buf, len);
			if (close(fd) < 0 && !err)
				err = -errno;
			return err;
		}
	}
	if (stat(dest, &st) == 0)
		mode = st.st_mode & 07777;
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", dest);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	fchmod(fd, mode);
	err = write_all(fd, buf, len);
	if (!err && fsync(fd) < 0 && errno != EINVAL)
		err = -errno; /* a full disk can show only here (delayed allocation) */
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, dest) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* Renders in memory, then writes at once: to stdout the profiled command
 * (-- CMD) shares, whose output must not land inside a profile (one NDJSON
 * document per line); to a file, so a write error is known before anything
 * is replaced. */
static int write_profile(const char *path, const struct renderer *r, struct profile *p,
			 const struct render_opts *ro)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	if (!path && r->binary && isatty(STDOUT_FILENO)) {
		err_msg("%s output is binary; write it to a file with -o", r->name);
		return -EINVAL;
	}
	if (!(mem = open_memstream(&buf, &len)))
		return -ENOMEM;
	err = r->render(p, ro, mem);
	if (fclose(mem) != 0 && !err)
		err = -ENOMEM;
	if (!err) {
		if (path) {
			err = write_file(path, buf, len);
		} else {
			fflush(stdout);
			err = write_all(STDOUT_FILENO, buf, len);
		}
	}
	free(buf);
	return err;
}

int output_check_path(const char *path)
{
	return check_output(path);
}

int output_write_buffer(const char *path, const char *buf, size_t len)
{
	if (path)
		return write_file(path, buf, len);
	fflush(stdout);
	return write_all(STDOUT_FILENO, buf, len);
}

int output_setup(struct output_set *o, const char *format, const char **paths, size_t npaths)
{
	size_t n = npaths ? npaths : 1;

	o->n = n;
	o->paths = xcalloc(n, sizeof(*o->paths));
	o->renderers = xcalloc(n, sizeof(*o->renderers));
	o->last = xcalloc(n, sizeof(*o->last));
	o->repeat = xcalloc(n, sizeof(*o->repeat));
	for (size_t i = 0; i < n; i++) {
		const char *path = npaths ? paths[i] : NULL;
		const struct renderer *r;

		o->paths[i] = path;
		/* -f names the format of stdout or of a single -o file; with
		 * several files each extension names its own. */
		if (format && (n == 1 || !renderer_for_path(path))) {
			r = renderer_find(format);
			if (!r) {
				err_msg("unknown format '%s' (valid: %s)", format, renderer_names());
				return -EINVAL;
			}
		} else if (path) {
			r = renderer_for_path(path);
			if (!r) {
				err_msg("cannot tell the format of '%s' from its extension; use -f (%s)",
					path, renderer_names());
				return -EINVAL;
			}
		} else {
			r = renderer_find("top");
		}
		o->renderers[i] = r;
		if (path && check_output(path) < 0)
			return -EINVAL;
	}
	return 0;
}

/* An interval's file name: a pattern that expands to the name the previous
 * interval wrote (two intervals in one millisecond, a clock stepped back)
 * gets "-1", "-2"... before its extension, so no earlier interval's file is
 * overwritten. A path without %n or %t holds the latest interval. */
static void unique_path(struct output_set *o, size_t i, uint64_t seq, int64_t time_ns, char *out, size_t n)
{
	const char *pattern = o->paths[i];
	char *name, *dot;
	size_t at;

	expand_path(pattern, seq, time_ns, out, n);
	if (!is_pattern(pattern))
		return;
	if (o->last[i] && !strcmp(o->last[i], out)) {
		o->repeat[i]++;
	} else {
		free(o->last[i]);
		o->last[i] = xstrdup(out);
		o->repeat[i] = 0;
		return;
	}
	name = strrchr(o->last[i], '/');
	name = name ? name + 1 : o->last[i];
	dot = strchr(name, '.');
	at = dot ? (size_t)(dot - o->last[i]) : strlen(o->last[i]);
	snprintf(out, n, "%.*s-%u%s", (int)at, o->last[i], o->repeat[i], o->last[i] + at);
}

int output_write(struct output_set *o, struct profile *p, const struct render_opts *ro, uint64_t seq)
{
	int first_err = 0;

	/* Every output is tried: one that fails (a full disk, a closed
	 * pipe) does not stop the others. */
	for (size_t i = 0; i < o->n; i++) {
		char path[PATH_MAX];
		int err;

		if (o->paths[i])
			unique_path(o, i, seq, p->time_ns, path, sizeof(path));
		err = write_profile(o->paths[i] ? path : NULL, o->renderers[i], p, ro);
		if (err < 0) {
			if (err != -EINVAL)
				err_msg("cannot write %s: %s", o->paths[i] ? path : "stdout", strerror(-err));
			first_err = first_err ?: err;
		}
	}
	return first_err;
}

void output_free(struct output_set *o)
{
	for (size_t i = 0; i < o->n && o->last; i++)
		free(o->last[i]);
	free(o->last);
	free(o->repeat);
	free(o->paths);
	free(o->renderers);
	memset(o, 0, sizeof(*o));
}
