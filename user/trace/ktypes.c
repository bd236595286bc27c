/* trace: the kernel's types and constants, as bpftrace finds them in the
 * kernel's headers and BTF. Constants: a table of the #defines its bundled
 * tools use (no headers are read: no compiler), then the running kernel's
 * enums. Types: structs and their members from the kernel's BTF, for
 * casts, curtask and field access. BTF is read once, when first needed
 * (about 10 MB: programs without kernel types never pay it). */
#include "trace/trace_user.h"

#include <errno.h>
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

static struct btf *kernel_btf(void)
{
	if (!vmlinux_tried) {
		vmlinux_tried = true;
		vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux))
			vmlinux = NULL;
	}
	return vmlinux;
}

bool tp_known_constant(const char *name, int64_t *v)
{
	for (size_t i = 0; i < sizeof(defines) / sizeof(defines[0]); i++) {
		if (!strcmp(defines[i].name, name)) {
			*v = defines[i].value;
			return true;
		}
	}
	kernel_btf();
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

/* ---- kernel types ------------------------------------------------------------- */

static uint32_t skip_mods(const struct btf *b, uint32_t id)
{
	for (;;) {
		const struct btf_type *t = btf__type_by_id(b, id);

		if (!t || !(btf_is_mod(t) || btf_is_typedef(t)))
			return id;
		id = t->type;
	}
}

/* The program's own types (cdefs.c): ids with this bit set. */
#define USER_ID 0x40000000u
static struct btf *user_btf;

void tp_ktype_user(struct btf *b)
{
	user_btf = b;
}

/* The BTF an id belongs to, and the id in it. */
static struct btf *btf_of(uint32_t *id)
{
	if (*id & USER_ID) {
		*id &= ~USER_ID;
		return user_btf;
	}
	return kernel_btf();
}

static uint32_t tag(const struct btf *b, uint32_t id)
{
	return b && b == user_btf && id ? id | USER_ID : id;
}

int tp_ktype_struct(const char *name)
{
	const char *n = name;
	int id;

	if (!strncmp(n, "struct ", 7))
		n += 7;
	else if (!strncmp(n, "union ", 6))
		n += 6;
	if (user_btf) {
		id = btf__find_by_name_kind(user_btf, n, BTF_KIND_STRUCT);
		if (id < 0)
			id = btf__find_by_name_kind(user_btf, n, BTF_KIND_UNION);
		if (id > 0)
			return (int)(id | USER_ID);
	}
	struct btf *b = kernel_btf();

	if (!b)
		return -ENOENT;
	id = btf__find_by_name_kind(b, n, BTF_KIND_STRUCT);
	if (id < 0)
		id = btf__find_by_name_kind(b, n, BTF_KIND_UNION);
	if (id < 0)
		id = btf__find_by_name_kind(b, n, BTF_KIND_TYPEDEF);
	return id < 0 ? id : (int)skip_mods(b, (uint32_t)id);
}

/* What a value of BTF type id is to a program. */
static int classify(const struct btf *b, uint32_t id, struct tp_kmember *out)
{
	const struct btf_type *t;

	id = skip_mods(b, id);
	t = btf__type_by_id(b, id);
	out->type_id = id;
	if (!t)
		return -ENOENT;
	if (btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t)) {
		out->kind = TKM_INT;
		out->size = t->size;
		out->sign = btf_is_int(t) ? !!(btf_int_encoding(t) & BTF_INT_SIGNED) : true;
		return 0;
	}
	if (btf_is_ptr(t)) {
		const struct btf_type *to = btf__type_by_id(b, skip_mods(b, t->type));

		out->kind = TKM_PTR;
		out->size = 8;
		out->target_id = skip_mods(b, t->type);
		out->char_ptr = to && btf_is_int(to) && to->size == 1;
		return 0;
	}
	if (btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);
		const struct btf_type *el = btf__type_by_id(b, skip_mods(b, a->type));

		out->kind = el && btf_is_int(el) && el->size == 1 ? TKM_CHARS : TKM_ARRAY;
		out->size = (uint32_t)btf__resolve_size(b, id);
		out->target_id = skip_mods(b, a->type);
		return 0;
	}
	if (btf_is_composite(t)) {
		out->kind = TKM_STRUCT;
		out->size = t->size;
		return 0;
	}
	return -ENOTSUP;
}

/* A member by name, in anonymous members too; offset in bytes. */
static int find_member(const struct btf *b, uint32_t id, const char *name, uint32_t base, struct tp_kmember *out)
{
	const struct btf_type *t = btf__type_by_id(b, skip_mods(b, id));
	const struct btf_member *m;

	if (!t || !btf_is_composite(t))
		return -EINVAL;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(b, m->name_off);
		uint32_t bit = btf_member_bit_offset(t, i);

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
			if (btf_member_bitfield_size(t, i) || bit % 8)
				return -EOPNOTSUPP;
			out->offset = base + bit / 8;
			return classify(b, m->type, out);
		}
		if (find_member(b, m->type, name, base + bit / 8, out) == 0)
			return 0;
	}
	return -ENOENT;
}

static void tag_member(const struct btf *b, struct tp_kmember *m)
{
	m->type_id = tag(b, m->type_id);
	m->target_id = tag(b, m->target_id);
}

int tp_ktype_member(int struct_id, const char *name, struct tp_kmember *out)
{
	uint32_t id = (uint32_t)struct_id;
	struct btf *b = btf_of(&id);
	int err;

	if (!b)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	err = find_member(b, id, name, 0, out);
	tag_member(b, out);
	return err;
}

const char *tp_ktype_name(int type_id)
{
	uint32_t id = (uint32_t)type_id;
	struct btf *b = btf_of(&id);
	const struct btf_type *t = b ? btf__type_by_id(b, id) : NULL;

	return t ? btf__name_by_offset(b, t->name_off) : "?";
}

int tp_ktype_pointee(int type_id, struct tp_kmember *out)
{
	uint32_t id = (uint32_t)type_id;
	struct btf *b = btf_of(&id);
	int err;

	if (!b)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	err = classify(b, id, out);
	tag_member(b, out);
	return err;
}

/* ---- kernel symbols ------------------------------------------------------------- */

bool tp_kernel_symbol(const char *name, uint64_t *addr)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512];
	bool found = false;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, sym[256];

		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && !strcmp(sym, name)) {
			*addr = a;
			found = a != 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}
