/* The demo workload: a toy request server whose CPU time splits across
 * known functions (about 50% hashing, 30% parsing, 20% rendering).
 *   workload [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Work in fixed units; the unit counts are read at run time so that every
 * function runs the same machine code, and CPU splits by unit count. */
static volatile unsigned long units_hash = 50, units_parse = 30, units_render = 20;

static inline __attribute__((always_inline)) void burn(unsigned long units)
{
	for (unsigned long u = 0; u < units; u++)
		for (int i = 0; i < 2000; i++)
			sink += (unsigned long)i * 2654435761u;
}

__attribute__((noinline)) void compute_hash(void) { burn(units_hash); sink++; }
__attribute__((noinline)) void parse_request(void) { burn(units_parse); sink++; }
__attribute__((noinline)) void render_response(void) { burn(units_render); sink++; }

__attribute__((noinline)) void handle_request(void)
{
	parse_request();
	compute_hash();
	render_response();
	sink++;
}

__attribute__((noinline)) void serve(double seconds)
{
	double end = now() + seconds;
	unsigned long n = 0;

	while (now() < end) {
		handle_request();
		n++;
	}
	printf("workload: served %lu requests\n", n);
}

int main(int argc, char **argv)
{
	serve(argc > 1 ? atof(argv[1]) : 4);
	return 0;
}
