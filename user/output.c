#include "output.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Expands %n (sequence) and %t (ISO-8601 UTC time) in an output path. */
static void expand_path(const char *pattern, uint64_t seq, char *out, size_t n)
{
	size_t j = 0;

	for (const char *c = pattern; *c && j + 1 < n; c++) {
		if (c[0] == '%' && (c[1] == 'n' || c[1] == 't')) {
			char tmp[64];

			if (c[1] == 'n') {
				snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)seq);
			} else {
				time_t t = time(NULL);
				struct tm tm;

				gmtime_r(&t, &tm);
				strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm);
			}
			j += snprintf(out + j, n - j, "%s", tmp);
			c++;
		} else {
			out[j++] = *c;
		}
	}
	out[j < n ? j : n - 1] = 0;
}

/* Fails early, before anything is attached, if -o cannot be written. */
static int check_output(const char *output)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat st;

	expand_path(output, 0, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_msg("cannot write %s: is a directory", path);
		return -EISDIR;
	}
	if (access(dir, W_OK) < 0 || (stat(path, &st) == 0 && access(path, W_OK) < 0)) {
		err_msg("cannot write %s: %s", path, strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* Writes atomically: a temporary file in the same directory, then rename,
 * so a reader never sees a partial profile. */
static int write_profile(const char *output, const struct renderer *r, struct profile *p,
			 const struct render_opts *ro, uint64_t seq)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	FILE *f;
	int fd, err;

	if (!output) {
		if (r->binary && isatty(STDOUT_FILENO)) {
			err_msg("%s output is binary; write it to a file with -o", r->name);
			return -EINVAL;
		}
		/* Rendered in memory, then written at once: the profiled
		 * command (-- CMD) shares our stdout, and its output must not
		 * land inside a profile (one NDJSON document per line). */
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);

		if (!mem)
			return -ENOMEM;
		err = r->render(p, ro, mem);
		fclose(mem);
		fflush(stdout);
		for (size_t off = 0; off < len;) {
			ssize_t n = write(STDOUT_FILENO, buf + off, len - off);

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				err = err ?: -EIO;
				break;
			}
			off += (size_t)n;
		}
		free(buf);
		return err;
	}
	expand_path(output, seq, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err_msg("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	fchmod(fd, 0644);
	err = r->render(p, ro, f);
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		err_msg("cannot write %s: %s", path, strerror(-err));
	}
	return err;
}


int output_setup(struct output_set *o, const char *format, const char **paths, size_t npaths)
{
	size_t n = npaths ? npaths : 1;

	o->n = n;
	o->paths = xcalloc(n, sizeof(*o->paths));
	o->renderers = xcalloc(n, sizeof(*o->renderers));
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

int output_write(struct output_set *o, struct profile *p, const struct render_opts *ro, uint64_t seq)
{
	int err = 0;

	for (size_t i = 0; i < o->n && !err; i++)
		err = write_profile(o->paths[i], o->renderers[i], p, ro, seq);
	return err;
}

void output_free(struct output_set *o)
{
	free(o->paths);
	free(o->renderers);
	memset(o, 0, sizeof(*o));
}
