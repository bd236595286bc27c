/* A target built the way distributions build: -O2, no frame pointers.
 * Each mode has a known call chain that frame-pointer unwinding cannot
 * follow; tests check that --unwind dwarf reports it whole. Prints "ready PID".
 *   nofp chain SECONDS   main > stage1 > ... > stage5 > spin (CPU)
 *   nofp qsort SECONDS   main > sort_loop > qsort (libc) > cmp_items (CPU)
 *   nofp sleep N         main > wait_loop > nap > usleep (libc), N x 50 ms
 *   nofp alloc N         main > build_list > make_node > malloc, N x 256 bytes kept */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	} else {
		fprintf(stderr, "usage: nofp chain|qsort|sleep|alloc N\n");
		return 2;
	}
	return 0;
}
