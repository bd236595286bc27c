/* System calls by number (x86-64): names from the kernel headers the build
 * used, arguments named from tracefs's syscall formats where readable. */
#ifndef BPFPROF_SYSCALLS_H
#define BPFPROF_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

/* "read", or NULL for a number this build does not know. */
const char *syscall_name(long nr);
/* "read(fd=3, buf=0x7ffd2f0c, count=4096)": a call in progress, its
 * arguments named and as many as it takes when tracefs says (else all
 * six, unnamed). Writes at most n bytes; returns buf. */
const char *syscall_format(long nr, const uint64_t args[6], char *buf, size_t n);
/* The number of a name, or -1. */
long syscall_number(const char *name);

#endif
