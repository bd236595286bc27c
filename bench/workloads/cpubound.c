/* CPU-bound workload: main -> work -> inner_a / inner_b for SECONDS,
 * printing its own throughput ("ops_per_sec N") so slowdowns under a
 * profiler are measured by the workload itself. cpubound [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void inner_a(void) { for (int i = 0; i < 5000; i++) sink += i * 3; }
__attribute__((noinline)) void inner_b(void) { for (int i = 0; i < 5000; i++) sink ^= i * 5; }

__attribute__((noinline)) void work(void)
{
	inner_a();
	inner_b();
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, start, end;
	unsigned long ops = 0;

	printf("ready %d\n", getpid());
	fflush(stdout);
	start = now();
	end = start + secs;
	while (now() < end) {
		for (int i = 0; i < 100; i++)
			work();
		ops += 100;
	}
	printf("ops_per_sec %.0f\n", ops / (now() - start));
	return 0;
}
