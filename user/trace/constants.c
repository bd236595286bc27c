/* trace: names of constants a program may use without defining them, as
 * bpftrace finds them in the kernel's headers and BTF: a table of the
 * #defines its bundled tools use (no headers are read: no compiler), then
 * the running kernel's enums from its BTF (read once, when first needed). */
#include "trace/trace_user.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <string.h>

static const struct { const char *name; int64_t value; } defines[] = {
	/* task states (linux/sched.h) */
	{ "TASK_RUNNING", 0 }, { "TASK_INTERRUPTIBLE", 1 }, { "TASK_UNINTERRUPTIBLE", 2 },
	{ "__TASK_STOPPED", 4 }, { "__TASK_TRACED", 8 }, { "EXIT_DEAD", 16 }, { "EXIT_ZOMBIE", 32 },
	{ "TASK_PARKED", 64 }, { "TASK_DEAD", 128 }, { "TASK_WAKEKILL", 256 }, { "TASK_WAKING", 512 },
	{ "TASK_NOLOAD", 1024 }, { "TASK_NEW", 2048 }, { "TASK_IDLE", 1026 },
	/* address families (linux/socket.h) */
	{ "AF_UNSPEC", 0 }, { "AF_UNIX", 1 }, { "AF_LOCAL", 1 }, { "AF_INET", 2 }, { "AF_INET6", 10 },
	{ "AF_NETLINK", 16 }, { "AF_PACKET", 17 },
	/* signals */
	{ "SIGHUP", 1 }, { "SIGINT", 2 }, { "SIGQUIT", 3 }, { "SIGILL", 4 }, { "SIGTRAP", 5 }, { "SIGABRT", 6 },
	{ "SIGBUS", 7 }, { "SIGFPE", 8 }, { "SIGKILL", 9 }, { "SIGUSR1", 10 }, { "SIGSEGV", 11 },
	{ "SIGUSR2", 12 }, { "SIGPIPE", 13 }, { "SIGALRM", 14 }, { "SIGTERM", 15 }, { "SIGCHLD", 17 },
	{ "SIGCONT", 18 }, { "SIGSTOP", 19 }, { "SIGTSTP", 20 },
	/* open flags (asm-generic/fcntl.h) */
	{ "O_RDONLY", 0 }, { "O_WRONLY", 1 }, { "O_RDWR", 2 }, { "O_CREAT", 0100 }, { "O_EXCL", 0200 },
	{ "O_TRUNC", 01000 }, { "O_APPEND", 02000 }, { "O_NONBLOCK", 04000 }, { "O_DIRECTORY", 0200000 },
	{ "O_CLOEXEC", 02000000 },
	/* errno */
	{ "EPERM", 1 }, { "ENOENT", 2 }, { "ESRCH", 3 }, { "EINTR", 4 }, { "EIO", 5 }, { "EAGAIN", 11 },
	{ "ENOMEM", 12 }, { "EACCES", 13 }, { "EFAULT", 14 }, { "EBUSY", 16 }, { "EEXIST", 17 },
	{ "EINVAL", 22 }, { "ENOSPC", 28 }, { "EPIPE", 32 }, { "ETIMEDOUT", 110 }, { "ECONNREFUSED", 111 },
	/* sizes */
	{ "PAGE_SIZE", 4096 }, { "TASK_COMM_LEN", 16 }, { "NAME_MAX", 255 }, { "PATH_MAX", 4096 },
};

static struct btf *vmlinux;
static bool vmlinux_tried;

bool tp_known_constant(const char *name, int64_t *v)
{
	for (size_t i = 0; i < sizeof(defines) / sizeof(defines[0]); i++) {
		if (!strcmp(defines[i].name, name)) {
			*v = defines[i].value;
			return true;
		}
	}
	if (!vmlinux_tried) {
		vmlinux_tried = true;
		vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux))
			vmlinux = NULL;
	}
	for (uint32_t id = 1; vmlinux && id < btf__type_cnt(vmlinux); id++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (int i = 0; i < btf_vlen(t); i++, e++) {
				if (!strcmp(btf__name_by_offset(vmlinux, e->name_off), name)) {
					*v = e->val;
					return true;
				}
			}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (int i = 0; i < btf_vlen(t); i++, e++) {
				if (!strcmp(btf__name_by_offset(vmlinux, e->name_off), name)) {
					*v = (int64_t)btf_enum64_value(e);
					return true;
				}
			}
		}
	}
	return false;
}
