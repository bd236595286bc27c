/* The handshake every target shares with tests/lib.sh: print "ready PID";
 * with WAIT_FOR_GO in the environment, then wait (at most 10 s) for SIGUSR1,
 * which the test sends once the profiler says it attached. */
#ifndef TARGET_READY_H
#define TARGET_READY_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Returns whether it waited for the signal. */
static inline int target_ready(void)
{
	struct timespec limit = { 10, 0 };
	sigset_t go;

	if (!getenv("WAIT_FOR_GO")) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		return 0;
	}
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	sigprocmask(SIG_BLOCK, &go, NULL);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	sigtimedwait(&go, NULL, &limit);
	/* An exec'd program must not inherit the block, nor the handshake. */
	sigprocmask(SIG_UNBLOCK, &go, NULL);
	unsetenv("WAIT_FOR_GO");
	return 1;
}

#endif
