/* Lock contention target. locks MODE [seconds]
 *   mutex     4 threads contend one mutex held ~1 ms in hold_mutex; each
 *             thread times its own pthread_mutex_lock calls (clock_gettime)
 *             and the total wait is printed as "measured_wait_ns N"
 *   rwlock    a writer holds the rwlock 5 ms at a time in write_section
 *             while 3 readers wait in read_section
 *   condvar   2 threads ping-pong on a condition variable (no contention)
 *   contended SECS  4 threads, short critical sections on one mutex: prints
 *             "ops_per_sec N" (acquisitions, all threads) and measured_wait_ns
 *   uncontended  one thread: 10M (or argv[3]) lock/unlock pairs ("ops_per_sec N")
 *   kernel    4 threads mmap/munmap on one mm (kernel mmap lock contention)
 *   sem       as mutex, with a process-shared POSIX semaphore used as a lock
 *             (postgres's LWLocks sleep so) in hold_sem; prints measured_wait_ns
 * Prints "ready PID" first. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile unsigned long sink;
static double end_time;
static long long measured_ns;
static int turn;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void busy_us(int us)
{
	long long end = now_ns() + us * 1000LL;

	while (now_ns() < end)
		sink++;
}

__attribute__((noinline)) void hold_mutex(void)
{
	long long t0 = now_ns();

	pthread_mutex_lock(&mu);
	__atomic_add_fetch(&measured_ns, now_ns() - t0, __ATOMIC_RELAXED);
	busy_us(1000);
	pthread_mutex_unlock(&mu);
}

static sem_t sem;

__attribute__((noinline)) void hold_sem(void)
{
	long long t0 = now_ns();

	while (sem_wait(&sem) != 0)
		;
	__atomic_add_fetch(&measured_ns, now_ns() - t0, __ATOMIC_RELAXED);
	busy_us(1000);
	sem_post(&sem);
}

__attribute__((noinline)) void *sem_worker(void *a)
{
	while (now() < end_time)
		hold_sem();
	return NULL;
}

static long long acquisitions;

/* Short sections, many acquisitions: contended, and sensitive to any cost
 * added to the lock's slow path. */
__attribute__((noinline)) void *contended_worker(void *a)
{
	long long n = 0, waited = 0;

	while (now() < end_time) {
		for (int i = 0; i < 1000; i++) {
			long long t0 = now_ns();

			pthread_mutex_lock(&mu);
			waited += now_ns() - t0;
			for (int j = 0; j < 50; j++)
				sink++;
			pthread_mutex_unlock(&mu);
			for (int j = 0; j < 50; j++)
				sink++;
			n++;
		}
	}
	__atomic_add_fetch(&acquisitions, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&measured_ns, waited, __ATOMIC_RELAXED);
	return a;
}

__attribute__((noinline)) void *mutex_worker(void *a)
{
	while (now() < end_time) {
		hold_mutex();
		busy_us(200);
	}
	return a;
}

__attribute__((noinline)) void write_section(void)
{
	pthread_rwlock_wrlock(&rw);
	busy_us(5000);
	pthread_rwlock_unlock(&rw);
}

__attribute__((noinline)) void read_section(void)
{
	pthread_rwlock_rdlock(&rw);
	busy_us(100);
	pthread_rwlock_unlock(&rw);
}

__attribute__((noinline)) void *writer(void *a)
{
	while (now() < end_time) {
		write_section();
		busy_us(1000);
	}
	return a;
}

__attribute__((noinline)) void *reader(void *a)
{
	while (now() < end_time) {
		read_section();
		busy_us(300);
	}
	return a;
}

__attribute__((noinline)) void *cond_pong(void *a)
{
	long me = (long)a;

	while (now() < end_time) {
		pthread_mutex_lock(&mu);
		while (turn != me && now() < end_time) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&cv, &mu, &ts);
		}
		turn = !me;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		usleep(2000); /* outside the lock: no mutex contention */
	}
	return a;
}

__attribute__((noinline)) void uncontended(long n)
{
	double t0 = now();

	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&mu);
		sink++;
		pthread_mutex_unlock(&mu);
	}
	printf("ops_per_sec %.0f\n", n / (now() - t0));
}

__attribute__((noinline)) void *mapper(void *a)
{
	while (now() < end_time) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			memset(p, 1, 1 << 16);
			munmap(p, 1 << 20);
		}
	}
	return a;
}

static void run(void *(*fn)(void *), int n)
{
	pthread_t t[8];

	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mutex";

	end_time = now() + (argc > 2 ? atof(argv[2]) : 2);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!strcmp(mode, "mutex")) {
		run(mutex_worker, 4);
		printf("measured_wait_ns %lld\n", measured_ns);
	} else if (!strcmp(mode, "contended")) {
		double t0 = now();

		run(contended_worker, 4);
		printf("ops_per_sec %.0f\n", acquisitions / (now() - t0));
		printf("measured_wait_ns %lld\n", measured_ns);
	} else if (!strcmp(mode, "rwlock")) {
		pthread_t w;

		pthread_create(&w, NULL, writer, NULL);
		run(reader, 3);
		pthread_join(w, NULL);
	} else if (!strcmp(mode, "condvar")) {
		run(cond_pong, 2);
	} else if (!strcmp(mode, "uncontended")) {
		uncontended(argc > 3 ? atol(argv[3]) : 10000000);
	} else if (!strcmp(mode, "kernel")) {
		run(mapper, 4);
	} else if (!strcmp(mode, "sem")) {
		sem_init(&sem, 1, 1);
		run(sem_worker, 4);
		printf("measured_wait_ns %lld\n", measured_ns);
	}
	return 0;
}
