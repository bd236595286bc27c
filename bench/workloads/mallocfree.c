/* malloc/free-heavy workload: N x (malloc(64) + free), printing the time per
 * pair ("ns_per_op X") so per-call probe overhead reads directly.
 * mallocfree [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;
static void *volatile last; /* escapes: the pair cannot be elided */

__attribute__((noinline)) void alloc_loop(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = malloc(64);

		p[0] = (char)i;
		last = p;
		sink += ((char *)last)[0];
		free(last);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	alloc_loop(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_op %.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
