/* A hot function the compiler always inlines into its caller, built as
 * distributions build (-O2 -g, no frame pointers): all the time is in
 * mix(), inlined into outer(). usage: inl SECONDS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline __attribute__((always_inline)) uint64_t mix(uint64_t x)
{
	for (int i = 0; i < 64; i++)
		x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ULL; /* HOT */
	return x;
}

__attribute__((noinline)) uint64_t outer(uint64_t n)
{
	uint64_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s ^= mix(i);
	return s;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	struct timespec t0, t;
	uint64_t s = 0;
	static volatile uint64_t n = 100000; /* a call the compiler cannot hoist */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		s += outer(n + (s & 1));
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	printf("%llu\n", (unsigned long long)(s & 1));
	return 0;
}
