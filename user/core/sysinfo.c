/* What this machine and kernel offer: privileges, BPF helpers, BTF, CPUs.
 * Probed on the running system, never assumed from a version. */
#include "core/sysinfo.h"
#include "core/session.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>

bool sysinfo_have_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_SYS_ADMIN (21) covers both on older kernels. */
	if (eff & (1ULL << 21))
		return true;
	return (eff & (1ULL << 38)) && (eff & (1ULL << 39));
}

/* The newest BPF features every program needs: attach cookies on uprobes
 * and perf events and bpf_task_pt_regs, both Linux 5.15. Probed on the
 * running kernel (distributions backport), not read off its version. */
int session_check_kernel(void)
{
	struct utsname u = { 0 };
	const char *missing = NULL;

	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, NULL) != 1)
		missing = "bpf_get_attach_cookie";
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_attach_cookie, NULL) != 1)
		missing = "bpf_get_attach_cookie in perf events";
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_task_pt_regs, NULL) != 1)
		missing = "bpf_task_pt_regs";
	if (!missing)
		return 0;
	uname(&u);
	err_msg("this kernel (%s) lacks the BPF helper %s; bpfprof needs Linux 5.15 or later", u.release, missing);
	return -ENOTSUP;
}

int sysinfo_check_btf(struct session *s)
{
	const char *path = s->o.btf_path ? s->o.btf_path : DEFAULT_BTF;
	unsigned char magic[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		if (s->o.btf_path)
			err_msg("no BTF at %s: %s", path, strerror(errno));
		else
			err_msg("kernel has no BTF at %s (a kernel built with CONFIG_DEBUG_INFO_BTF, or --btf FILE)", path);
		return -ENOENT;
	}
	n = read(fd, magic, 2);
	close(fd);
	/* BTF starts with magic 0xeB9F (little endian) */
	if (n != 2 || !((magic[0] == 0x9f && magic[1] == 0xeb) || (magic[0] == 0xeb && magic[1] == 0x9f))) {
		/* An ELF file with a .BTF section is also accepted by libbpf. */
		if (!(n == 2 && magic[0] == 0x7f && magic[1] == 'E')) {
			err_msg("%s is not a BTF file", path);
			return -EINVAL;
		}
	}
	return 0;
}

const char *session_btf_path(struct session *s)
{
	return s->o.btf_path;
}


/* The kernel's BTF (or --btf's), parsed once per run: it is tens of
 * megabytes, and each parse cost ~30 ms of start-up. */
static const struct btf *session_btf(struct session *s)
{
	const char *path = session_btf_path(s);

	if (!s->btf && !s->btf_failed) {
		s->btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
		if (!s->btf)
			s->btf_failed = true;
	}
	return s->btf;
}

void session_btf_release(struct session *s)
{
	btf__free(s->btf);
	s->btf = NULL;
}

bool session_have_tp_btf(struct session *s, const char *tracepoint)
{
	const struct btf *btf;
	char name[128];

	if (getenv("BPFPROF_FORCE_RAW_TP")) /* exercises the fallback where both work */
		return false;
	if (!(btf = session_btf(s)))
		return false;
	snprintf(name, sizeof(name), "btf_trace_%s", tracepoint);
	return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

int session_tp_nargs(struct session *s, const char *tracepoint)
{
	const struct btf *btf = session_btf(s);
	const struct btf_type *t;
	char name[128];
	int id, n = -1;

	if (!btf)
		return -1;
	snprintf(name, sizeof(name), "btf_trace_%s", tracepoint);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	/* typedef -> pointer -> func_proto(void *__data, args...) */
	t = id > 0 ? btf__type_by_id(btf, btf__type_by_id(btf, id)->type) : NULL;
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t))
		n = (int)btf_vlen(t) - 1;
	return n;
}


int session_possible_cpus(void)
{
	return libbpf_num_possible_cpus();
}

void sysinfo_mount_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0 && errno != EBUSY)
		warn_msg("cannot mount tracefs at /sys/kernel/tracing: %s", strerror(errno));
}
