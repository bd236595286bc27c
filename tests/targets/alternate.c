/* alternate N: two threads take turns through one mutex, N turns each:
 * each holds it 20 ms (spinning: on the CPU) while the other waits for it
 * (blocked in the futex), for timeline's alternation test. Prints "ready
 * PID". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void spin_ms(int ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void *worker(void *arg)
{
	int me = (int)(long)arg;

	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&lock);
		while (turn != me) /* strict turns: the other one waits */
			pthread_cond_wait(&turn_cv, &lock);
		spin_ms(20);
		turn = !me;
		pthread_cond_broadcast(&turn_cv);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	rounds = argc > 1 ? atoi(argv[1]) : 10;
	printf("ready %d\n", getpid());
	fflush(stdout);
	pthread_create(&a, NULL, worker, (void *)0L);
	pthread_create(&b, NULL, worker, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
