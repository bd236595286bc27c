/* What this machine and kernel offer, probed on the running system. */
#ifndef BPFPROF_SYSINFO_H
#define BPFPROF_SYSINFO_H

#include <stdbool.h>

struct session;

#define DEFAULT_BTF "/sys/kernel/btf/vmlinux"

/* CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in effect. */
bool sysinfo_have_caps(void);
/* --btf FILE (or the kernel's own) exists and is BTF; else a one-line error. */
int sysinfo_check_btf(struct session *s);
/* Whether the running kernel has the BPF helpers the programs use; else a
 * one-line error naming the first one missing and -ENOTSUP. */
int session_check_kernel(void);
/* libbpf open options' btf_custom_path: --btf's, or NULL for the kernel's. */
const char *session_btf_path(struct session *s);
/* Whether the kernel's BTF describes this tracepoint (tp_btf attachable);
 * else use raw_tp. BPFPROF_FORCE_RAW_TP=1 forces the fallback. */
bool session_have_tp_btf(struct session *s, const char *tracepoint);
/* The number of arguments a tracepoint passes BPF (from the kernel's BTF),
 * or -1 when unknown. */
int session_tp_nargs(struct session *s, const char *tracepoint);
/* The two above parse the kernel's BTF once; a command releases it before
 * loading its programs (libbpf parses its own copy then: not both at once). */
void session_btf_release(struct session *s);
/* Mounts tracefs at /sys/kernel/tracing unless it is there (a fresh
 * machine may not have it mounted); a warning if that fails. */
void sysinfo_mount_tracefs(void);
/* Number of possible CPUs (for per-CPU maps). */
int session_possible_cpus(void);

#endif
