/* A target built the way distributions build: -O2, no frame pointers.
 * Each mode has a known call chain that frame-pointer unwinding cannot
 * follow; tests check that --unwind dwarf reports it whole. Prints "ready PID".
 *   nofp chain SECONDS   main > stage1 > ... > stage5 > spin (CPU)
 *   nofp qsort SECONDS   main > sort_loop > qsort (libc) > cmp_items (CPU)
 *   nofp sleep N         main > wait_loop > nap > usleep (libc), N x 50 ms
 *   nofp alloc N         main > build_list > make_node > malloc, N x 256 bytes kept
 *   nofp signal SECONDS  main > sig_loop > interrupted (CPU), and every 10 ms a
 *                        SIGALRM whose handler on_alarm > handler_spin runs ~5 ms
 *   nofp recurse SECONDS main > descend x 200 > spin (deeper than 127 frames)
 *   nofp dlopen SECONDS  0.5 s idle, then dlopen(libnofplib.so) next to this
 *                        program: main > dl_loop > lib_chain > lib_a > lib_b > lib_spin */
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

#define NOINLINE __attribute__((noinline))

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static unsigned long spin(unsigned long n)
{
	unsigned long x = n;

	for (unsigned long i = 0; i < 200000; i++)
		x = x * 6364136223846793005UL + i;
	return x;
}

/* Each stage does work after its call, so no call is a tail call. */
NOINLINE static unsigned long stage5(unsigned long n) { unsigned long r = spin(n); sink += r; return r ^ n; }
NOINLINE static unsigned long stage4(unsigned long n) { unsigned long r = stage5(n + 1); sink += r; return r ^ n; }
NOINLINE static unsigned long stage3(unsigned long n) { unsigned long r = stage4(n + 1); sink += r; return r ^ n; }
NOINLINE static unsigned long stage2(unsigned long n) { unsigned long r = stage3(n + 1); sink += r; return r ^ n; }
NOINLINE static unsigned long stage1(unsigned long n) { unsigned long r = stage2(n + 1); sink += r; return r ^ n; }

NOINLINE static int cmp_items(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	/* Some work per comparison, so the callback is where time goes. */
	for (int i = 0; i < 20; i++)
		x = (x >> 1) ^ (x << 3), y = (y >> 1) ^ (y << 3);
	return x < y ? -1 : x > y;
}

NOINLINE static void sort_loop(double secs)
{
	size_t n = 4096;
	unsigned long *v = malloc(n * sizeof(*v));
	double end = now() + secs;

	while (now() < end) {
		for (size_t i = 0; i < n; i++)
			v[i] = (i * 2654435761UL) ^ (unsigned long)rand();
		qsort(v, n, sizeof(*v), cmp_items);
		sink += v[0];
	}
	free(v);
}

NOINLINE static void nap(void) { usleep(50000); sink++; }
NOINLINE static void wait_loop(int n) { for (int i = 0; i < n; i++) nap(); sink++; }

struct node { struct node *next; char payload[240]; };

NOINLINE static struct node *make_node(struct node *next)
{
	struct node *nd = malloc(sizeof(*nd));

	if (!nd)
		abort();
	memset(nd->payload, 1, sizeof(nd->payload));
	nd->next = next;
	return nd;
}

NOINLINE static struct node *build_list(int n)
{
	struct node *head = NULL;

	for (int i = 0; i < n; i++)
		head = make_node(head);
	sink += (unsigned long)head;
	return head;
}

/* The interrupted code and the handler: both FP-less and CPU-bound. */
NOINLINE static unsigned long handler_spin(void)
{
	double end = now() + 0.005;
	unsigned long x = 0;

	while (now() < end)
		x = spin(x);
	return x;
}

static void on_alarm(int sig)
{
	sink += handler_spin() + (unsigned)sig;
}

NOINLINE static void interrupted(double end)
{
	while (now() < end)
		sink += spin(sink);
}

NOINLINE static void sig_loop(double secs)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	interrupted(now() + secs);
	it = (struct itimerval){ 0 };
	setitimer(ITIMER_REAL, &it, NULL);
	sink++;
}

/* 200 frames, each doing work after its call (no tail call). */
NOINLINE static unsigned long descend(int depth, double end)
{
	unsigned long r;

	if (!depth) {
		r = 0;
		while (now() < end)
			r = spin(r);
		return r;
	}
	r = descend(depth - 1, end);
	sink += r;
	return r ^ (unsigned long)depth;
}

NOINLINE static int dl_loop(double secs)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	unsigned long (*chain)(unsigned long);
	void *lib;
	double end = now() + secs;

	if (n <= 0)
		return 1;
	path[n] = 0;
	strcpy(strrchr(path, '/') + 1, "libnofplib.so");
	usleep(500000); /* mapped after the profiler attached */
	if (!(lib = dlopen(path, RTLD_NOW)) || !(chain = (unsigned long (*)(unsigned long))dlsym(lib, "lib_chain"))) {
		fprintf(stderr, "nofp: %s\n", dlerror());
		return 1;
	}
	while (now() < end)
		sink += chain(sink);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "chain";
	double arg = argc > 2 ? atof(argv[2]) : 2;

	target_ready(); /* "ready PID"; with WAIT_FOR_GO=1, waits for SIGUSR1 */

	if (!strcmp(mode, "chain")) {
		double end = now() + arg;
		unsigned long n = 0;

		while (now() < end)
			n = stage1(n);
		sink += n;
	} else if (!strcmp(mode, "qsort")) {
		sort_loop(arg);
	} else if (!strcmp(mode, "sleep")) {
		wait_loop((int)arg);
	} else if (!strcmp(mode, "alloc")) {
		struct node *list = build_list((int)arg);

		/* Kept: live at exit, as a leak would be. */
		printf("%p\n", (void *)list);
		sleep(1);
	} else if (!strcmp(mode, "signal")) {
		sig_loop(arg);
	} else if (!strcmp(mode, "recurse")) {
		sink += descend(200, now() + arg);
	} else if (!strcmp(mode, "dlopen")) {
		int err = dl_loop(arg);

		sink++; /* not a tail call: main stays on the stack */
		return err;
	} else {
		fprintf(stderr, "usage: nofp chain|qsort|sleep|alloc|signal|recurse|dlopen N\n");
		return 2;
	}
	return 0;
}
