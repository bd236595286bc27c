/* watched N: writes a global counter N times (then reads it N times), 1 ms
 * apart; built without PIE so its address is the symbol's (nm), for
 * trace's watchpoints. Prints "ready PID". */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile long counter;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10, sum = 0;

	printf("ready %d\n", getpid());
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		counter = i;
		usleep(1000);
	}
	for (long i = 0; i < n; i++)
		sum += counter;
	return sum == n * (n - 1) ? 0 : 0;
}
