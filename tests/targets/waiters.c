/* Threads that wait in known places, for dump (and wall, stat). Built as
 * distributions build (no frame pointers).
 *   waiters            3 threads in pthread_cond_wait (cond_waiter), 2
 *                      reading an empty pipe (pipe_reader), 1 in sleep
 *                      (sleepy), a ticker printing a counter every 10 ms
 *                      (ticker), main in pthread_join; runs until killed.
 *   waiters many N     N threads in pthread_cond_wait, main in pthread_join.
 *   waiters spinsleep  one thread: spin 50 ms, sleep 50 ms, for ever.
 *   waiters statmix    sleep 1 s, spin 1 s, then wait ~0.5 s for a mutex
 *                      another thread holds (sleeping); exit status 3.
 *   waiters busy N S   N threads spin until S seconds have passed. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ready.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pipefd[2];
static volatile int never;

__attribute__((noinline)) static void *cond_waiter(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!never)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return arg;
}

__attribute__((noinline)) static void *pipe_reader(void *arg)
{
	char c;

	while (read(pipefd[0], &c, 1) > 0)
		;
	return arg;
}

__attribute__((noinline)) static void *sleepy(void *arg)
{
	for (;;)
		sleep(100);
	return arg;
}

__attribute__((noinline)) static void *ticker(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (unsigned long n = 1;; n++) {
		printf("tick %lu\n", n);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return arg;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__attribute__((noinline)) static void spin_ms(int ms)
{
	uint64_t end = mono_ns() + ms * 1000000ULL;

	while (mono_ns() < end)
		;
}

__attribute__((noinline)) static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static volatile int held;

__attribute__((noinline)) static void *holder(void *arg)
{
	pthread_mutex_lock(&mu);
	held = 1;
	sleep_ms(500);
	pthread_mutex_unlock(&mu);
	return arg;
}

static uint64_t busy_until;

__attribute__((noinline)) static void *busy(void *arg)
{
	while (mono_ns() < busy_until)
		;
	return arg;
}

static void start(pthread_t *t, void *(*fn)(void *))
{
	if (pthread_create(t, NULL, fn, NULL)) {
		perror("pthread_create");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	pthread_t t[4096];
	int n = 0;

	if (argc > 1 && !strcmp(argv[1], "spinsleep")) {
		target_ready();
		for (;;) {
			spin_ms(50);
			sleep_ms(50);
		}
	}
	if (argc > 1 && !strcmp(argv[1], "statmix")) {
		target_ready();
		sleep_ms(1000);
		spin_ms(1000);
		start(&t[0], holder);
		while (!held)
			;
		pthread_mutex_lock(&mu); /* ~0.5 s: the holder sleeps with it */
		pthread_mutex_unlock(&mu);
		pthread_join(t[0], NULL);
		return 3;
	}
	if (argc > 3 && !strcmp(argv[1], "busy")) {
		int want = atoi(argv[2]);

		target_ready();
		busy_until = mono_ns() + (uint64_t)(atof(argv[3]) * 1e9);
		for (n = 0; n < want && n < 4096; n++)
			start(&t[n], busy);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "many")) {
		int want = atoi(argv[2]);

		for (n = 0; n < want && n < 4096; n++)
			start(&t[n], cond_waiter);
	} else {
		if (pipe(pipefd)) {
			perror("pipe");
			return 1;
		}
		for (int i = 0; i < 3; i++)
			start(&t[n++], cond_waiter);
		for (int i = 0; i < 2; i++)
			start(&t[n++], pipe_reader);
		start(&t[n++], sleepy);
		start(&t[n++], ticker);
	}
	usleep(100 * 1000); /* every thread in its wait */
	target_ready();
	pthread_join(t[0], NULL);
	return 0;
}
