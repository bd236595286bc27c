/* What is profiled: the run loop's side (session.h has the commands'). */
#ifndef BPFPROF_TARGETS_H
#define BPFPROF_TARGETS_H

#include "core/session.h"

/* Checks -p/-t/--cgroup before anything attaches: a thread id given as -p
 * becomes its process (with a note), each pid's start time is kept, the
 * cgroup opened. -EINVAL/-ESRCH/-ENOENT after a one-line error. */
int targets_check(struct session *s);
/* Whether any -p/-t target still lives (the same process: start time). */
bool targets_any_alive(struct session *s);
/* -- CMD: starts it held (child.c) and makes it the target. */
int targets_spawn_child(struct session *s);
/* The process a thread id belongs to (itself for a process), or 0. */
pid_t proc_tgid(pid_t tid);
/* --follow NAME: adds running processes named NAME not yet followed. */
void targets_follow_scan(struct session *s);

#endif
