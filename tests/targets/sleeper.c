/* Off-CPU target with known block times. sleeper MODE [args]
 *   sleep       sleep_fifty: 10 x 50 ms nanosleep (500 ms), then exits
 *   ratio       nap_three (30 ms) and nap_one (10 ms) alternately, 10 rounds
 *   mixed       short_naps: 100 x 1 ms; long_naps: 4 x 50 ms
 *   pipe        pipe_reader blocks reading a pipe that a child process feeds
 *               every 100 ms, 5 times (about 500 ms blocked)
 *   vfork       vfork_waiter: 3 x vfork of a child that sleeps 100 ms; the
 *               parent waits uninterruptibly (about 300 ms, state D)
 *   nap SECS    busy for 200 ms, then long_nap sleeps SECS (asleep at the end)
 *   naps SECS   sleep_fifty over and over for SECS (blocks end all the time)
 *   stacks SECS 4 threads nap 1 ms at the end of 1024 distinct call paths
 *               (10 levels of left_/right_step), over and over, for SECS
 * Prints "ready PID" first and "done" last. With WAIT_FOR_GO in the
 * environment it then waits for SIGUSR1 (at most 10 s): a test sends it once
 * the profiler says it is attached, so a slow attach cannot cut a block.
 * Without it, it naps 100 ms to let a profiler attached by pid settle. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

static volatile unsigned long sink;

/* Syscalls issued inline, so the blocked user frame is our own framed
 * function rather than a frameless libc wrapper (whose caller a
 * frame-pointer unwinder skips; that case belongs to --unwind dwarf). */
static inline __attribute__((always_inline)) long raw3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) void sleep_fifty(void) { for (int i = 0; i < 10; i++) nap_ms(50); sink++; }
__attribute__((noinline)) void nap_three(void) { nap_ms(30); sink++; }
__attribute__((noinline)) void nap_one(void) { nap_ms(10); sink++; }
__attribute__((noinline)) void short_naps(void) { for (int i = 0; i < 100; i++) nap_ms(1); sink++; }
__attribute__((noinline)) void long_naps(void) { for (int i = 0; i < 4; i++) nap_ms(50); sink++; }

__attribute__((noinline)) void pipe_reader(int fd)
{
	char buf[16];

	while (raw3(SYS_read, fd, (long)buf, sizeof(buf)) > 0)
		sink++;
}

__attribute__((noinline)) void vfork_waiter(void)
{
	static struct timespec ts = { 0, 100000000L };

	for (int i = 0; i < 3; i++) {
		/* The child shares this stack until it exits: inline syscalls
		 * only, no calls. The parent waits uninterruptibly meanwhile. */
		long pid = raw3(SYS_vfork, 0, 0, 0);

		if (pid == 0) {
			raw3(SYS_nanosleep, (long)&ts, 0, 0);
			raw3(SYS_exit, 0, 0, 0);
		}
		waitpid(pid, NULL, 0);
	}
	sink++;
}

/* 1024 distinct stacks: bit i of `path` picks left or right at level i. */
static double stacks_end;
__attribute__((noinline)) void left_step(int level, unsigned path);
__attribute__((noinline)) void right_step(int level, unsigned path);
static void step(int level, unsigned path)
{
	if (level == 10)
		nap_ms(1);
	else if (path & (1u << level))
		right_step(level + 1, path);
	else
		left_step(level + 1, path);
}
__attribute__((noinline)) void left_step(int level, unsigned path) { step(level, path); sink++; }
__attribute__((noinline)) void right_step(int level, unsigned path) { step(level, path); sink++; }

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *stack_walker(void *arg)
{
	for (unsigned i = (unsigned)(long)arg; mono_now() < stacks_end; i++)
		step(0, i % 1024);
	return NULL;
}

__attribute__((noinline)) void long_nap(int secs) { nap_ms(secs * 1000); sink++; }

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sleep";

	if (!target_ready())
		nap_ms(100); /* let a profiler attached by pid settle */
	if (!strcmp(mode, "sleep")) {
		sleep_fifty();
	} else if (!strcmp(mode, "ratio")) {
		for (int i = 0; i < 10; i++) {
			nap_three();
			nap_one();
		}
	} else if (!strcmp(mode, "mixed")) {
		short_naps();
		long_naps();
	} else if (!strcmp(mode, "pipe")) {
		int p[2];

		if (pipe(p))
			return 1;
		if (fork() == 0) {
			close(p[0]);
			for (int i = 0; i < 5; i++) {
				nap_ms(100);
				if (write(p[1], "x", 1) != 1)
					_exit(1);
			}
			_exit(0);
		}
		close(p[1]);
		pipe_reader(p[0]);
		wait(NULL);
	} else if (!strcmp(mode, "vfork")) {
		vfork_waiter();
	} else if (!strcmp(mode, "nap")) {
		double end;
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		end = t.tv_sec + t.tv_nsec / 1e9 + 0.2;
		do {
			for (int i = 0; i < 100000; i++)
				sink += i;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (t.tv_sec + t.tv_nsec / 1e9 < end);
		long_nap(argc > 2 ? atoi(argv[2]) : 5);
	} else if (!strcmp(mode, "stacks")) {
		pthread_t th[4];

		stacks_end = mono_now() + (argc > 2 ? atof(argv[2]) : 3);
		for (long i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, stack_walker, (void *)(i * 256));
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
	} else if (!strcmp(mode, "naps")) {
		struct timespec t;
		time_t end;

		clock_gettime(CLOCK_MONOTONIC, &t);
		end = t.tv_sec + (argc > 2 ? atoi(argv[2]) : 5);
		do {
			sleep_fifty();
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (t.tv_sec < end);
	}
	printf("done\n");
	return 0;
}
