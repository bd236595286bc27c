/* A CPU-bound target with known hot spots.
 *   hot [seconds] [mode]
 *   mode "single": main -> outer_caller -> middle_caller -> hot_spin (all time)
 *   mode "split":  work split 3:1 between spin_three and spin_one
 *   mode "exit":   like single, then exits with status 7
 *   mode "sys":    kernel_heavy reads /dev/zero: time in the kernel
 *   mode "exec":   like single, then execs the rest of its arguments
 * Prints "ready PID" once running so tests can attach to its pid (and with
 * WAIT_FOR_GO=1 waits for SIGUSR1 first: ready.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each call burns a fixed amount of work, so a loop of calls splits CPU
 * exactly by call counts. */
__attribute__((noinline)) void hot_spin(void)
{
	for (unsigned long i = 0; i < 2000000; i++)
		sink += i * 7;
}

/* Each spins for a fixed wall time per call, 3 ms vs 1 ms: an exact 3:1
 * CPU split whatever the code generation. */
__attribute__((noinline)) void spin_three(void)
{
	double end = now() + 0.003;

	while (now() < end)
		for (int i = 0; i < 1000; i++)
			sink += i * 7;
}

__attribute__((noinline)) void spin_one(void)
{
	double end = now() + 0.001;

	while (now() < end)
		for (int i = 0; i < 1000; i++)
			sink += i * 7;
}

__attribute__((noinline)) void middle_caller(double end)
{
	while (now() < end)
		hot_spin();
}

__attribute__((noinline)) void outer_caller(double end)
{
	middle_caller(end);
	sink++;
}

__attribute__((noinline)) void split_work(double end)
{
	while (now() < end) {
		spin_three();
		spin_one();
	}
}

__attribute__((noinline)) void kernel_heavy(double end)
{
	static char buf[1 << 20];
	int fd = open("/dev/zero", O_RDONLY);

	while (fd >= 0 && now() < end)
		if (read(fd, buf, sizeof(buf)) < 0)
			break;
	sink += buf[7];
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	const char *mode = argc > 2 ? argv[2] : "single";
	double end;

	target_ready();
	end = now() + secs;
	if (!strcmp(mode, "split"))
		split_work(end);
	else if (!strcmp(mode, "sys"))
		kernel_heavy(end);
	else
		outer_caller(end);
	if (!strcmp(mode, "exec") && argc > 3) {
		execv(argv[3], argv + 3);
		perror(argv[3]);
		return 127;
	}
	return !strcmp(mode, "exit") ? 7 : 0;
}
