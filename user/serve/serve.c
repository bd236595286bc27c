/* bpfprof serve: Go-style /debug/pprof/ endpoints for any process, for
 * `go tool pprof`, Parca, Grafana Alloy and anything that scrapes pprof.
 * HTTP comes from libmicrohttpd (epoll, a small thread pool; a profile's
 * connection is suspended while a thread waits for its child). Each profile
 * runs as a child `bpfprof COMMAND -p PID -d SECONDS -o TMP.pb.gz`: requests
 * are isolated from one another, and a child's probes are released by the
 * kernel when it exits, whatever happens to it. A client that disconnects
 * ends its child at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve/serve.h"
#include "core/cli.h"
#include "serve/serve_request.h"
#include "base/util.h"

struct endpoint {
	const char *path;
	const char *command;
	const char *sample_index;   /* the pprof default, as Go's endpoint has it */
	int default_seconds;        /* 0: a snapshot (no duration), of one pid */
	const char *doc;
};

static const struct endpoint endpoints[] = {
	{ "profile", "oncpu", NULL, 30, "CPU profile (oncpu); pid or cgroup, seconds, hz, unwind" },
	{ "heap", "mallocstacks", "inuse_space", 30, "in-use memory by stack (mallocstacks); pid, seconds, unwind" },
	{ "allocs", "mallocstacks", "alloc_space", 30, "allocations by stack (mallocstacks); pid, seconds, unwind" },
	{ "mutex", "lockwait", NULL, 30, "lock contention (lockwait); pid or cgroup, seconds, unwind" },
	{ "block", "offcpu", NULL, 30, "off-CPU time (offcpu); pid or cgroup, seconds, unwind" },
	{ "threadcreate", "threadcreate", NULL, 30,
	  "threads and processes created, by creating stack (threadcreate); pid or cgroup, seconds, unwind" },
	{ "goroutine", "goroutines", NULL, 0, "every goroutine of a Go program now, by stack (goroutines); pid" },
};

static struct {
	char self[PATH_MAX];
	int max_seconds;
	int max_concurrent;
	int running;            /* profiles in flight */
	pthread_mutex_t lock;
	char token[80];         /* the secret callers present; "" with --no-auth */
	VEC(pid_t) allow_pids;  /* --allow-pid; empty: any */
	VEC(pid_t) allow_uids;  /* --allow-uid; empty: any */
	char workdir[PATH_MAX]; /* profiles in flight write here; emptied at start and stop */
	int suspended;          /* connections whose jobs have not resumed them yet */
	volatile int stopping;  /* SIGINT/SIGTERM: in-flight profiles end now */
} srv = { .max_seconds = 300, .max_concurrent = 4, .lock = PTHREAD_MUTEX_INITIALIZER };

#define DEFAULT_TOKEN_FILE "/run/bpfprof/serve.token"

static int headers_seen; /* *state of a request whose headers were seen */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     const void *body, size_t len, bool copy)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
		copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	return reply(c, status, "text/plain; charset=utf-8", buf, strlen(buf), true);
}

static enum MHD_Result index_page(struct MHD_Connection *c)
{
	char *buf = xmalloc(4096);
	size_t n = 0;

	n += snprintf(buf + n, 4096 - n, "<html><head><title>bpfprof /debug/pprof/</title></head><body>\n"
		      "<h1>bpfprof /debug/pprof/</h1>\n<p>Profiles of any process: add <code>?pid=PID</code> "
		      "(or <code>cgroup=PATH</code>) and <code>seconds=N</code> (at most %d).</p>\n<ul>\n",
		      srv.max_seconds);
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		n += snprintf(buf + n, 4096 - n, "<li><a href=\"/debug/pprof/%s\">%s</a>: %s</li>\n",
			      endpoints[i].path, endpoints[i].path, endpoints[i].doc);
	n += snprintf(buf + n, 4096 - n, "</ul>\n<p>e.g. <code>go tool pprof "
		      "'http://HOST:PORT/debug/pprof/profile?pid=4242&amp;seconds=10'</code></p>\n</body></html>\n");
	return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", buf, n, false);
}

static bool client_gone(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p;

	if (!ci)
		return false;
	p.fd = ci->connect_fd;
	p.events = POLLIN | POLLRDHUP;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return true;
	if (p.revents & POLLIN) { /* data or EOF? peek without consuming */
		char ch;

		return recv(p.fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
	}
	return false;
}

/* Compares in time independent of where the strings differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The caller presents the token as `Authorization: Bearer TOKEN` (Parca,
 * Grafana Alloy, Prometheus-style scrapers) or `?token=TOKEN` (go tool pprof
 * cannot send headers; a query string may end up in logs: prefer the header). */
static bool authorized(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");

	if (!srv.token[0])
		return true;
	if (h && !strncasecmp(h, "Bearer ", 7) && same_secret(h + 7, srv.token))
		return true;
	return q && same_secret(q, srv.token);
}

/* --allow-pid / --allow-uid: which processes callers may profile. */
static bool pid_allowed(long pid)
{
	char *text;
	const char *u;
	unsigned ruid;
	bool ok = false;

	if (srv.allow_pids.n) {
		for (size_t i = 0; i < srv.allow_pids.n; i++)
			ok |= srv.allow_pids.v[i] == pid;
		if (!ok)
			return false;
	}
	if (!srv.allow_uids.n)
		return true;
	if (!(text = proc_status((pid_t)pid)))
		return false;
	ok = false;
	if ((u = status_field(text, "Uid")) && sscanf(u, "%u", &ruid) == 1)
		for (size_t i = 0; i < srv.allow_uids.n; i++)
			ok |= (uid_t)srv.allow_uids.v[i] == ruid;
	free(text);
	return ok;
}

/* A cgroup= path: only directories under the cgroup v2 mount, after
 * resolving links and "..", and one answer for every refusal (so callers
 * learn nothing of paths they may not see). */
static bool cgroup_allowed(const char *cg, char *out, size_t n)
{
	char real[PATH_MAX];
	const char *root = "/sys/fs/cgroup";
	struct stat st;

	if (!realpath(cg, real) || strncmp(real, root, strlen(root)) ||
	    (real[strlen(root)] != '/' && real[strlen(root)] != 0) || stat(real, &st) || !S_ISDIR(st.st_mode))
		return false;
	snprintf(out, n, "%s", real);
	return !srv.allow_pids.n && !srv.allow_uids.n; /* an allow-list names processes */
}

static const char *get_param(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* A profile in flight. Its child is waited for in a thread of its own
 * while the connection is suspended: a worker thread that waited itself
 * could not serve the other connections it had accepted, which then
 * waited for its profile to end before theirs could start. */
struct job {
	struct MHD_Connection *c;
	const char *argv[20];
	char tmp[PATH_MAX + 16], out[PATH_MAX + 32], err_text[512];
	char ssec[32], spid[32], shz[32], cgpath[PATH_MAX], unwind[16];
	int status;             /* the child's wait status */
	bool started;           /* the child ran (else err_text says why not) */
	bool aborted;           /* client gone or server stopping: no answer */
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	int errpipe[2];
	pid_t child;
	uint64_t deadline;

	if (pipe2(errpipe, O_CLOEXEC) < 0 || (child = fork()) < 0) {
		snprintf(j->err_text, sizeof(j->err_text), "cannot start a profile: %s", strerror(errno));
		goto done;
	}
	if (child == 0) {
		/* Ends with serve, even a kill -9 of it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(127);
		dup2(errpipe[1], 2);
		execv(srv.self, (char **)j->argv);
		_exit(127);
	}
	close(errpipe[1]);
	j->started = true;
	/* The child has its -d; past that and a grace period, it is killed. */
	deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)(atol(j->ssec) + 30) * 1000000000ULL;
	while (waitpid(child, &j->status, WNOHANG) == 0) {
		if (!j->aborted && (client_gone(j->c) || srv.stopping)) {
			kill(child, SIGTERM); /* its exit path detaches the probes */
			j->aborted = true;
		}
		if (now_ns(CLOCK_MONOTONIC) > deadline) {
			kill(child, SIGKILL);
			j->aborted = true;
		}
		usleep(100000);
	}
	ssize_t n = read(errpipe[0], j->err_text, sizeof(j->err_text) - 1);
	close(errpipe[0]);
	j->err_text[n > 0 ? n : 0] = 0;
	j->err_text[strcspn(j->err_text, "\n")] = 0;
done:
	/* The slot is the child's: freed before answering, so a client that
	 * has its answer finds it free. */
	pthread_mutex_lock(&srv.lock);
	srv.running--;
	pthread_mutex_unlock(&srv.lock);
	MHD_resume_connection(j->c);
	pthread_mutex_lock(&srv.lock);
	srv.suspended--; /* the daemon may stop once none is suspended */
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

/* The job's answer, once its thread resumed the connection. */
static enum MHD_Result job_answer(struct MHD_Connection *c, struct job *j)
{
	struct stat fst;
	enum MHD_Result ret;

	if (j->aborted) {
		ret = MHD_NO; /* nobody to answer */
	} else if (!j->started) {
		ret = reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", j->err_text);
	} else if (!WIFEXITED(j->status) || WEXITSTATUS(j->status) != 0 || stat(j->out, &fst) < 0) {
		bool usage = WIFEXITED(j->status) && WEXITSTATUS(j->status) == 2;

		ret = reply_text(c, usage ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
				 j->err_text[0] ? j->err_text : "profile failed");
	} else {
		int fd = open(j->out, O_RDONLY | O_CLOEXEC);
		struct MHD_Response *r = MHD_create_response_from_fd((size_t)fst.st_size, fd);

		MHD_add_response_header(r, "Content-Type", "application/octet-stream");
		MHD_add_response_header(r, "Content-Disposition", "attachment; filename=\"profile.pb.gz\"");
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r); /* closes fd once sent */
	}
	unlink(j->out); /* an open response keeps the file */
	rmdir(j->tmp);
	return ret;
}

/* Checks the request, takes a slot and starts the job (*state then holds
 * it; request_done frees it). */
static enum MHD_Result run_profile(struct MHD_Connection *c, const struct endpoint *ep, void **state)
{
	struct serve_request rq;
	const char *cgroup;
	char why[512] = "";
	struct job *j;
	pthread_t th;
	pthread_attr_t attr;
	int argc = 0, err;

	if (serve_request_parse(get_param, c, ep->default_seconds ? ep->default_seconds : 1, srv.max_seconds,
				!strcmp(ep->path, "heap") || !strcmp(ep->path, "allocs") || !ep->default_seconds,
				&rq, why, sizeof(why)))
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	cgroup = rq.cgroup;
	if (rq.pid && !pid_allowed(rq.pid)) {
		free(j);
		return reply_text(c, MHD_HTTP_FORBIDDEN, "forbidden: pid %ld is not one this server may profile", rq.pid);
	}
	if (cgroup) {
		if (!cgroup_allowed(cgroup, j->cgpath, sizeof(j->cgpath))) {
			free(j);
			return reply_text(c, MHD_HTTP_FORBIDDEN, "forbidden: not a cgroup this server may profile");
		}
		cgroup = j->cgpath;
	}
	snprintf(j->tmp, sizeof(j->tmp), "%s/XXXXXX", srv.workdir);
	if (!mkdtemp(j->tmp)) {
		free(j);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a temporary directory: %s",
				  strerror(errno));
	}
	snprintf(j->out, sizeof(j->out), "%s/p.pb.gz", j->tmp);
	snprintf(j->ssec, sizeof(j->ssec), "%ld", rq.seconds);
	snprintf(j->spid, sizeof(j->spid), "%ld", rq.pid);
	snprintf(j->shz, sizeof(j->shz), "%ld", rq.hz);
	j->argv[argc++] = srv.self;
	j->argv[argc++] = ep->command;
	if (rq.pid) {
		j->argv[argc++] = "-p";
		j->argv[argc++] = j->spid;
	} else {
		j->argv[argc++] = "--cgroup";
		j->argv[argc++] = cgroup;
	}
	if (ep->default_seconds) {
		j->argv[argc++] = "-d";
		j->argv[argc++] = j->ssec;
	}
	j->argv[argc++] = "-o";
	j->argv[argc++] = j->out;
	if (!strcmp(ep->command, "oncpu")) {
		j->argv[argc++] = "-F";
		j->argv[argc++] = j->shz;
	}
	if (rq.unwind) {
		snprintf(j->unwind, sizeof(j->unwind), "%s", rq.unwind);
		j->argv[argc++] = "--unwind";
		j->argv[argc++] = j->unwind;
	}
	if (ep->sample_index) {
		j->argv[argc++] = "--sample-index";
		j->argv[argc++] = ep->sample_index;
	}
	j->argv[argc] = NULL;

	pthread_mutex_lock(&srv.lock);
	if (srv.running >= srv.max_concurrent) {
		pthread_mutex_unlock(&srv.lock);
		rmdir(j->tmp);
		free(j);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: %d profiles in progress (--max-concurrent)",
				  srv.max_concurrent);
	}
	srv.running++;
	srv.suspended++;
	pthread_mutex_unlock(&srv.lock);
	/* Busy, not idle, while the profile runs: the 10 s idle limit would
	 * otherwise close the connection before the answer is sent. */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)(rq.seconds + 60));
	*state = j;
	MHD_suspend_connection(c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, job_run, j);
	pthread_attr_destroy(&attr);
	if (err) { /* answered at once, as a child that could not start */
		snprintf(j->err_text, sizeof(j->err_text), "cannot start a profile: %s", strerror(err));
		pthread_mutex_lock(&srv.lock);
		srv.running--;
		srv.suspended--;
		pthread_mutex_unlock(&srv.lock);
		MHD_resume_connection(c);
	}
	return MHD_YES;
}

/* MHD_OPTION_NOTIFY_COMPLETED: a request's end, answered or not. */
static void request_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	if (*state && *state != &headers_seen) {
		struct job *j = *state;

		unlink(j->out); /* also when the answer was never made */
		rmdir(j->tmp);
		free(j);
	}
	*state = NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	if (*state && *state != &headers_seen) /* a job, resumed: its answer */
		return job_answer(c, *state);
	if (*state == NULL) { /* called once for headers, again to answer */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

		*state = &headers_seen;
		/* A body is not ours to read: refused before it is sent. */
		if ((cl && strcmp(cl, "0")) || te)
			return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "a request body is not accepted");
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET");
	if (*upload_size) { /* a body announced some other way: discarded */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/healthz"))
		return reply_text(c, MHD_HTTP_OK, "ok");
	if (!strcmp(url, "/debug/pprof/") || !strcmp(url, "/debug/pprof") || !strcmp(url, "/"))
		return index_page(c);
	if (!authorized(c)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			strlen("unauthorized: send Authorization: Bearer TOKEN (or ?token=)\n"),
			(void *)"unauthorized: send Authorization: Bearer TOKEN (or ?token=)\n", MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"bpfprof\"");
		MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
		ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strncmp(url, "/debug/pprof/", 13)) {
		for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
			if (!strcmp(url + 13, endpoints[i].path))
				return run_profile(c, &endpoints[i], state);
	}
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: %s (see /debug/pprof/)", url);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s serve [--listen ADDR:PORT] [--max-seconds N] [--max-concurrent N]\n"
		"                     [--token-file FILE | --no-auth] [--allow-pid LIST] [--allow-uid LIST]\n"
		"Serves /debug/pprof/{profile,heap,allocs,mutex,block,threadcreate,goroutine}?pid=PID&seconds=N, an index\n"
		"at /debug/pprof/ and /healthz. Default 127.0.0.1:6060; other addresses need --listen.\n"
		"Callers present a token (Authorization: Bearer TOKEN, or ?token=TOKEN), read from\n"
		"--token-file (default " DEFAULT_TOKEN_FILE ", created root-only if absent);\n"
		"--no-auth answers anyone, and only on a loopback address. --allow-pid/--allow-uid\n"
		"restrict which processes may be profiled (403 otherwise).\n"
		"\nexit status: 0 on SIGINT/SIGTERM, 1 runtime failure, 2 bad usage\n", prog_name);
}

/* The token: read from FILE, which must be root's and unreadable by others;
 * created with a fresh random token (0600, in a 0700 directory) if absent. */
static int load_token(const char *path)
{
	unsigned char raw[24];
	char dir[PATH_MAX], *slash, *text;
	struct stat st;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = 0;
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				err_msg("--token-file %s: cannot make %s: %s", path, dir, strerror(errno));
				return -1;
			}
		}
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			err_msg("cannot make a token: %s", strerror(errno));
			return -1;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(srv.token + 2 * i, 3, "%02x", raw[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, srv.token, strlen(srv.token)) != (ssize_t)strlen(srv.token) ||
		    write(fd, "\n", 1) != 1) {
			err_msg("--token-file %s: cannot write: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		fprintf(stderr, "%s: wrote a new token to %s (root only)\n", prog_name, path);
		return 0;
	}
	if (fd < 0) {
		err_msg("--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		err_msg("--token-file %s: must be a regular file of root's that others cannot read (chmod 600)", path);
		return -1;
	}
	close(fd);
	text = read_whole_file(path, &len);
	if (!text)
		return -1;
	text[strcspn(text, "\r\n")] = 0;
	if (strlen(text) < 16 || strlen(text) >= sizeof(srv.token)) {
		free(text);
		err_msg("--token-file %s: the token must be 16 to %zu characters", path, sizeof(srv.token) - 1);
		return -1;
	}
	snprintf(srv.token, sizeof(srv.token), "%s", text);
	free(text);
	return 0;
}

/* Empties the work directory: profiles of a server that was killed (or of
 * this one, at its end) leave nothing behind. Only names mkdtemp made. */
static void clean_workdir(void)
{
	DIR *d = opendir(srv.workdir);
	struct dirent *e;
	char path[PATH_MAX * 2 + 8];

	if (!d)
		return;
	while ((e = readdir(d))) {
		DIR *sub;
		struct dirent *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", srv.workdir, e->d_name);
		if ((sub = opendir(path))) {
			while ((f = readdir(sub))) {
				char file[PATH_MAX * 3];

				if (f->d_name[0] == '.')
					continue;
				snprintf(file, sizeof(file), "%s/%s", path, f->d_name);
				unlink(file);
			}
			closedir(sub);
		}
		rmdir(path);
	}
	closedir(d);
}

int serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, 0, 'l' },
		{ "max-seconds", required_argument, 0, 's' },
		{ "max-concurrent", required_argument, 0, 'c' },
		{ "token-file", required_argument, 0, 't' },
		{ "no-auth", no_argument, 0, 'n' },
		{ "allow-pid", required_argument, 0, 'p' },
		{ "allow-uid", required_argument, 0, 'u' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	const char *listen = "127.0.0.1:6060", *token_file = DEFAULT_TOKEN_FILE;
	bool no_auth = false;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	char host[64];
	uint64_t u;
	int opt, port;
	sigset_t sigs;
	const char *colon;

	cli_getopt_start();
	while ((opt = cli_getopt(argc, argv, ":l:h", opts, "serve")) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 's':
			if (cli_parse_uint(optarg, "--max-seconds", 1, 86400, &u) < 0)
				return EXIT_USAGE;
			srv.max_seconds = (int)u;
			break;
		case 'c':
			if (cli_parse_uint(optarg, "--max-concurrent", 1, 1024, &u) < 0)
				return EXIT_USAGE;
			srv.max_concurrent = (int)u;
			break;
		case 't': token_file = optarg; break;
		case 'n': no_auth = true; break;
		case 'p':
			if (cli_parse_id_list(optarg, "pid", &srv.allow_pids) < 0)
				return EXIT_USAGE;
			break;
		case 'u':
			if (cli_parse_id_list(optarg, "uid", &srv.allow_uids) < 0)
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return EXIT_USAGE; /* cli_getopt said why */
		}
	}
	colon = strrchr(listen, ':');
	if (!colon || colon - listen >= (long)sizeof(host) || !parse_u64(colon + 1, &u) || u < 1 || u > 65535) {
		err_msg("--listen '%s': expected IPV4ADDR:PORT, e.g. 127.0.0.1:6060", listen);
		return EXIT_USAGE;
	}
	port = (int)u;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		err_msg("--listen '%s': '%s' is not an IPv4 address", listen, host);
		return EXIT_USAGE;
	}
	addr.sin_port = htons(port);
	if (no_auth && (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
		err_msg("--no-auth is only for a loopback address (127.x.x.x), not %s", host);
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		err_msg("needs root (CAP_BPF and CAP_PERFMON) to run profiles");
		return EXIT_RUNTIME;
	}
	if (no_auth)
		warn_msg("--no-auth: every local user can profile any process through %s", listen);
	else if (load_token(token_file) < 0)
		return EXIT_RUNTIME;
	/* One work directory per port, root's alone, emptied now (a server
	 * killed with -9 left its profiles' files there) and at the end. */
	mkdir("/run/bpfprof", 0700);
	snprintf(srv.workdir, sizeof(srv.workdir), "/run/bpfprof/serve-%d.d", port);
	if (mkdir(srv.workdir, 0700) < 0 && errno != EEXIST) {
		err_msg("cannot make %s: %s", srv.workdir, strerror(errno));
		return EXIT_RUNTIME;
	}
	clean_workdir();
	/* Idle connections cost a file descriptor each, not a thread. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (readlink("/proc/self/exe", srv.self, sizeof(srv.self) - 1) < 0) {
		err_msg("cannot find my own executable: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* epoll and a pool of threads: an idle connection costs a file
	 * descriptor, not a thread (no select() FD_SETSIZE wall either); a
	 * profile's connection is suspended while a thread of its own waits
	 * for its child, so the pool always answers (/healthz under 2,000
	 * idle connections). Idle connections are closed after 10 s; a
	 * profile in progress is not idle. */
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
			     0, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(srv.max_concurrent + 4),
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_LIMIT, 8192u,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4096u, /* one remote host: half */
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
			     MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
			     MHD_OPTION_END);
	if (!d) {
		err_msg("cannot listen on %s: %s", listen, strerror(errno ? errno : EADDRINUSE));
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "%s: serving /debug/pprof/ on http://%s\n", prog_name, listen);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigwaitinfo(&sigs, NULL);
	srv.stopping = 1; /* in-flight profiles end, their jobs resume their connections */
	for (;;) { /* the daemon cannot stop with a connection suspended */
		pthread_mutex_lock(&srv.lock);
		int left = srv.suspended;

		pthread_mutex_unlock(&srv.lock);
		if (!left)
			break;
		usleep(20000);
	}
	MHD_stop_daemon(d);
	clean_workdir();
	return EXIT_OK;
}
