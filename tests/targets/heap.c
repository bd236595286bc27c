/* Allocation target with exact expectations. heap MODE
 *   leak     leak_some: 64 x malloc(4096) kept; churn: 1000 x malloc(100)+free
 *   cases    do_calloc: 5 x calloc(10, 100) kept; realloc_grow: 4 x
 *            malloc(100) (in realloc_first) grown by realloc(p, 1000), kept;
 *            realloc_null: 3 x realloc(NULL, 200) kept; realloc_zero: 2 x
 *            malloc(300) then realloc(p, 0); do_memalign: 3 x
 *            posix_memalign(64, 512) and 2 x aligned_alloc(64, 256) kept;
 *            fail_alloc: 2 x malloc(huge) -> NULL; free(NULL)
 *   threads  4 threads: 10000 x malloc(64)+free each, and 100 x malloc(32) kept
 *   steady SECS  steady_alloc: malloc(32)+free every ms for SECS; prints
 *            "ready PID" first and "allocations N" at the end
 *   forked SECS  two forked worker processes, each worker_churn: malloc(4096),
 *            a short nap, free, for SECS (the same addresses in both, as in
 *            nginx's workers); prints "workers PID1,PID2" and "ready PID"
 * Prints a checksum of what it wrote, so a test can see the output unchanged. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile keep[1024];
static volatile int nkeep;
static volatile unsigned long checksum;

static void hold(void *p)
{
	keep[nkeep++ % 1024] = p;
}

static void touch(void *p, size_t n)
{
	if (!p)
		return;
	memset(p, 7, n);
	checksum += ((unsigned char *)p)[n - 1];
}

__attribute__((noinline)) void leak_some(void)
{
	for (int i = 0; i < 64; i++) {
		void *p = malloc(4096);

		touch(p, 4096);
		hold(p);
	}
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(100);

		touch(p, 100);
		free(p);
	}
}

__attribute__((noinline)) void do_calloc(void)
{
	for (int i = 0; i < 5; i++) {
		void *p = calloc(10, 100);

		touch(p, 1000);
		hold(p);
	}
}

__attribute__((noinline)) void *realloc_first(void)
{
	void *p = malloc(100);

	touch(p, 100);
	return p;
}

__attribute__((noinline)) void realloc_grow(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = realloc(realloc_first(), 1000);

		touch(p, 1000);
		hold(p);
	}
}

__attribute__((noinline)) void realloc_null(void)
{
	void *volatile none = NULL; /* else the compiler makes it malloc(200) */

	for (int i = 0; i < 3; i++) {
		void *p = realloc(none, 200);

		touch(p, 200);
		hold(p);
	}
}

__attribute__((noinline)) void *zero_first(void)
{
	void *p = malloc(300);

	touch(p, 300);
	return p;
}

__attribute__((noinline)) void realloc_zero(void)
{
	for (int i = 0; i < 2; i++)
		hold(realloc(zero_first(), 0)); /* frees; returns NULL */
}

__attribute__((noinline)) void do_memalign(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, 512) == 0) {
			touch(p, 512);
			hold(p);
		}
	}
	for (int i = 0; i < 2; i++) {
		void *p = aligned_alloc(64, 256);

		touch(p, 256);
		hold(p);
	}
}

__attribute__((noinline)) void fail_alloc(void)
{
	volatile size_t huge = SIZE_MAX / 2;

	for (int i = 0; i < 2; i++)
		hold(malloc(huge));
	free(NULL);
}

__attribute__((noinline)) void thread_churn(void)
{
	for (int i = 0; i < 10000; i++) {
		void *p = malloc(64);

		touch(p, 64);
		free(p);
	}
}

__attribute__((noinline)) void thread_leak(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(32);

		touch(p, 32);
		hold(p);
	}
}

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *a)
{
	thread_churn();
	pthread_mutex_lock(&hold_mu);
	thread_leak();
	pthread_mutex_unlock(&hold_mu);
	return a;
}

__attribute__((noinline)) long steady_alloc(double secs)
{
	struct timespec ts = { 0, 1000000 };
	long n = 0, iters = (long)(secs * 1000);

	for (long i = 0; i < iters; i++) {
		void *p = malloc(32);

		touch(p, 32);
		free(p);
		n++;
		nanosleep(&ts, NULL);
	}
	return n;
}

__attribute__((noinline)) void worker_churn(double secs)
{
	struct timespec ts = { 0, 200000 };
	long iters = (long)(secs * 2000);

	for (long i = 0; i < iters; i++) {
		void *p = malloc(4096);

		touch(p, 4096);
		nanosleep(&ts, NULL);
		free(p);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "leak";

	if (!strcmp(mode, "steady")) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		printf("allocations %ld\n", steady_alloc(argc > 2 ? atof(argv[2]) : 3));
		return 0;
	}

	if (!strcmp(mode, "forked")) {
		double secs = argc > 2 ? atof(argv[2]) : 3;
		pid_t w[2];

		for (int i = 0; i < 2; i++)
			if ((w[i] = fork()) == 0) {
				worker_churn(secs);
				_exit(0);
			}
		printf("workers %d,%d\nready %d\n", w[0], w[1], getpid());
		fflush(stdout);
		while (wait(NULL) > 0)
			;
		return 0;
	}
	if (!strcmp(mode, "leak")) {
		leak_some();
		churn();
	} else if (!strcmp(mode, "cases")) {
		do_calloc();
		realloc_grow();
		realloc_null();
		realloc_zero();
		do_memalign();
		fail_alloc();
	} else if (!strcmp(mode, "threads")) {
		pthread_t t[4];

		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	}
	printf("checksum %lu kept %d\n", checksum, nkeep);
	return 0;
}
