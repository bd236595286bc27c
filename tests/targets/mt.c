/* Multi-threaded CPU target: 3 worker threads spin in thread_hot, the main
 * thread waits. mt [seconds] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static double end_time;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void thread_hot(void)
{
	for (unsigned long i = 0; i < 1000000; i++)
		sink += i;
}

__attribute__((noinline)) void *worker(void *arg)
{
	while (now() < end_time)
		thread_hot();
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t[3];

	end_time = now() + (argc > 1 ? atof(argv[1]) : 5);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
