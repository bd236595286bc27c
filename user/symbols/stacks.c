#include "symbols/stacks.h"

#include <stdlib.h>
#include <string.h>

void stack_builder_init(struct stack_builder *b, struct profile *p, struct symbolizer *sym, int max_depth)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->sym = sym;
	b->max_depth = max_depth;
}

void stack_builder_free(struct stack_builder *b)
{
	hmap_free(&b->user_locs);
	hmap_free(&b->kern_locs);
	hmap_free(&b->pseudo_locs);
	vec_free(&b->locs);
}

void stack_begin(struct stack_builder *b)
{
	b->locs.n = 0;
}

static bool room(struct stack_builder *b)
{
	return !b->max_depth || b->locs.n < (size_t)b->max_depth;
}

static uint32_t frame_location(struct stack_builder *b, const struct sym_frame *f, uint64_t addr)
{
	struct profile *p = b->p;
	uint32_t mapping = 0;
	char name[512];

	if (f->module) {
		struct pf_mapping m = { .start = f->map_start, .limit = f->map_end,
					.offset = f->map_pgoff, .file = f->module,
					.build_id = f->build_id, .kernel = f->kind == PF_FRAME_KERNEL };
		mapping = profile_add_mapping(p, &m);
	}
	if (f->func && f->ninl) { /* Go: inlined callees first, their caller last */
		struct pf_line lines[8];
		struct pf_location loc = { .addr = addr, .mapping = mapping, .kind = f->kind, .lines = lines };

		for (int i = 0; i < f->ninl; i++)
			lines[loc.nlines++] = (struct pf_line){ f->inl[i].func, f->inl[i].file, f->inl[i].line,
								f->inl[i].start_line };
		lines[loc.nlines++] = (struct pf_line){ f->func, f->file, f->line, f->start_line };
		return profile_add_location(p, &loc);
	}
	if (f->func && f->start_line > 0) {
		struct pf_line ln = { f->func, f->file, f->line, f->start_line };
		struct pf_location loc = { .addr = addr, .mapping = mapping, .kind = f->kind, .lines = &ln, .nlines = 1 };

		return profile_add_location(p, &loc);
	}
	if (f->func)
		return profile_add_frame_line(p, mapping, addr, f->kind, f->func, f->file, f->line);
	/* Never drop a frame: name it by module and offset. */
	if (f->module) {
		const char *base = strrchr(f->module, '/');

		snprintf(name, sizeof(name), "%s+0x%llx", base ? base + 1 : f->module,
			 (unsigned long long)f->offset);
	} else {
		snprintf(name, sizeof(name), "[unknown]+0x%llx", (unsigned long long)addr);
	}
	return profile_add_frame(p, mapping, addr, f->kind, name);
}

/* The tracing machinery that ran our program (bpf_prog_*, bpf_trace_run*,
 * __traceiter_*) sits at the leaf end of kernel stacks: not the target's. */
static bool is_tracing_frame(const char *name)
{
	static const char *const prefixes[] = { "bpf_prog_", "bpf_trace_run", "__bpf_trace_",
						"__traceiter_", "bpf_trampoline_", "perf_trace_" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void stack_add_kernel(struct stack_builder *b, const uint64_t *ips, size_t n)
{
	size_t i = 0;

	for (; i < n && ips[i]; i++) {
		struct sym_frame f;

		sym_kernel(b->sym, i ? ips[i] - 1 : ips[i], &f);
		if (!f.func || !is_tracing_frame(f.func))
			break;
	}
	for (; i < n && ips[i] && room(b); i++) {
		/* Callers' addresses are return addresses: step back into the
		 * call instruction so a call at a function's end resolves right. */
		uint64_t addr = i ? ips[i] - 1 : ips[i];
		bool found;
		uint64_t *slot = hmap_upsert(&b->kern_locs, addr, 0, 0, &found);

		if (!found) {
			struct sym_frame f;

			sym_kernel(b->sym, addr, &f);
			*slot = frame_location(b, &f, addr) + 1;
		}
		vec_push(&b->locs, (uint32_t)(*slot - 1));
	}
}

void stack_add_user(struct stack_builder *b, pid_t pid, uint32_t exec, const uint64_t *ips, size_t n)
{
	uint64_t image = (uint64_t)exec << 32 | (uint32_t)pid;

	for (size_t i = 0; i < n && ips[i] && room(b); i++) {
		uint64_t addr = i ? ips[i] - 1 : ips[i];
		bool found;
		uint64_t *slot = hmap_upsert(&b->user_locs, image, addr, 0, &found);

		if (!found) {
			struct sym_frame f;

			sym_user(b->sym, pid, exec, addr, &f);
			*slot = frame_location(b, &f, addr) + 1;
		}
		vec_push(&b->locs, (uint32_t)(*slot - 1));
	}
}

void stack_add_pseudo(struct stack_builder *b, const char *name)
{
	const char *interned = pf_str(b->p, name);
	bool found;
	uint64_t *slot;

	if (!room(b))
		return;
	slot = hmap_upsert(&b->pseudo_locs, (uintptr_t)interned, 0, 0, &found);
	if (!found) {
		struct pf_line line = { .func = interned };
		struct pf_location loc = { .nlines = 1, .lines = &line, .kind = PF_FRAME_UNKNOWN };

		*slot = profile_add_location(b->p, &loc) + 1;
	}
	vec_push(&b->locs, (uint32_t)(*slot - 1));
}

void stack_commit(struct stack_builder *b, const int64_t *values, uint32_t pid,
		  uint32_t tid, const char *comm, const struct pf_label *extra, uint32_t nextra)
{
	struct pf_label labels[16];
	uint32_t n = 0;

	labels[n++] = (struct pf_label){ .key = "pid", .num = pid };
	labels[n++] = (struct pf_label){ .key = "tid", .num = tid };
	labels[n++] = (struct pf_label){ .key = "comm", .str = comm };
	for (uint32_t i = 0; i < nextra && n < 16; i++)
		labels[n++] = extra[i];
	profile_add_sample(b->p, b->locs.v, b->locs.n, values, labels, n);
}

void stack_add_user_entry(struct stack_builder *b, pid_t pid, uint32_t exec, const uint64_t *ips,
			  size_t n, uint64_t entry_ret)
{
	uint64_t tmp[130];
	size_t m = 0;

	if (!entry_ret || !n || !ips[0] || n > 128) {
		stack_add_user(b, pid, exec, ips, n);
		return;
	}
	tmp[m++] = ips[0];
	tmp[m++] = entry_ret;
	for (size_t i = 1; i < n && ips[i]; i++)
		tmp[m++] = ips[i];
	stack_add_user(b, pid, exec, tmp, m);
}
