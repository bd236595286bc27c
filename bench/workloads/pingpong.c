/* Context-switch-heavy workload: two processes pass a byte back and forth
 * over two pipes for SECONDS and print round trips per second. Run it under
 * `taskset -c 0` so every message is a context switch. pingpong [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, start, end;
	int a[2], b[2];
	unsigned long n = 0;
	char c = 'x';

	if (pipe(a) || pipe(b))
		return 1;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (fork() == 0) {
		while (read(a[0], &c, 1) == 1 && c != 'q')
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	start = now();
	end = start + secs;
	while ((n & 1023) || now() < end) {
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			return 1;
		n++;
	}
	c = 'q';
	if (write(a[1], &c, 1) != 1)
		return 1;
	wait(NULL);
	printf("ops_per_sec %.0f\n", n / (now() - start));
	return 0;
}
