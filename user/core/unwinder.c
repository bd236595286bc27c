#include "core/unwinder.h"
#include "core/bpfmaps.h"

#include <bpf/bpf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* ---- interned stacks ----------------------------------------------------- */

/* A second, independent hash: with FNV-1a it makes a 128-bit key. */
static uint64_t hash_words(const uint64_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h = hash64(h ^ w[i]);
	return h;
}

int32_t uw_store_intern(struct uw_store *st, const uint64_t *ips, size_t n)
{
	bool found;
	uint64_t *slot = hmap_upsert(&st->index, hash_bytes(ips, n * sizeof(*ips)),
				     hash_words(ips, n), 0, &found);

	if (!found) {
		uint64_t *copy = xcalloc(n + 1, sizeof(uint64_t));

		memcpy(copy, ips, n * sizeof(*ips));
		vec_push(&st->stacks, copy);
		*slot = st->stacks.n;
	}
	return (int32_t)(*slot - 1);
}

const uint64_t *uw_store_get(const struct uw_store *st, int32_t id)
{
	return id >= 0 && (size_t)id < st->stacks.n ? st->stacks.v[id] : NULL;
}

void uw_store_free(struct uw_store *st)
{
	for (size_t i = 0; i < st->stacks.n; i++)
		free(st->stacks.v[i]);
	vec_free(&st->stacks);
	hmap_free(&st->index);
}

/* ---- aggregation table ----------------------------------------------------- */

/* Entries are key, then the value at the next 8-byte boundary (offcpu's
 * key is 36 bytes; its u64 counters must be aligned). */
static size_t val_offset(const struct uw_table *t)
{
	return (t->key_size + 7) & ~(size_t)7;
}

static size_t entry_size(const struct uw_table *t)
{
	return (val_offset(t) + t->val_size + 7) & ~(size_t)7;
}

void uw_table_add(struct uw_table *t, const void *key, const void *val)
{
	bool found;
	uint64_t *slot = hmap_upsert(&t->index, hash_bytes(key, t->key_size),
				     hash_words(key, t->key_size / 8), 0, &found);
	size_t es = entry_size(t);

	if (!found) {
		while (t->entries.cap < (t->n + 1) * es) {
			t->entries.cap = t->entries.cap ? t->entries.cap * 2 : 64 * es;
			t->entries.v = xrealloc(t->entries.v, t->entries.cap);
		}
		memcpy(t->entries.v + t->n * es, key, t->key_size);
		memset(t->entries.v + t->n * es + t->key_size, 0, es - t->key_size);
		*slot = ++t->n;
	}
	t->merge(t->entries.v + (*slot - 1) * es + val_offset(t), val);
}

void uw_table_each(struct uw_table *t, void (*fn)(const void *key, const void *val, void *ctx),
		   void *ctx)
{
	size_t es = entry_size(t);

	for (size_t i = 0; i < t->n; i++)
		fn(t->entries.v + i * es, t->entries.v + i * es + val_offset(t), ctx);
}

void uw_table_clear(struct uw_table *t)
{
	t->n = 0;
	hmap_free(&t->index);
}

/* ---- records to stacks ------------------------------------------------------ */

bool uw_enabled(struct session *s)
{
	return s->o.unwind == UNWIND_COPY && !s->o.kernel_only;
}

int uw_configure(struct session *s, volatile struct prog_cfg *cfg, struct bpf_map *scratch,
		 struct bpf_map *events, struct bpf_map *records, unsigned ring_records)
{
	size_t rec = sizeof(struct uw_record) + s->o.stack_bytes + UW_PAGE;
	size_t ring = 1u << 16;
	int cpus = session_possible_cpus(), err;

	if (!uw_enabled(s))
		return 0;
	cfg->uw_stack_bytes = s->o.stack_bytes;
	/* Room for ring_records records (a power of two of bytes). The buffer
	 * is mapped into this process twice (libbpf): its size is RSS. */
	while (ring < ring_records * rec && ring < (64u << 20))
		ring <<= 1;
	err = bpf_map__set_value_size(scratch, rec) ?:
	      bpf_map__set_max_entries(scratch, cpus > 0 ? cpus : 1) ?:
	      bpf_map__set_max_entries(events, ring);
	if (!err && records)
		err = bpf_map__set_value_size(records, rec) ?:
		      bpf_map__set_max_entries(records, s->o.max_stacks);
	return err;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct uw_ctx *u = ctx;

	if (len >= sizeof(uint32_t))
		u->handle(u, data, len);
	return 0;
}

void uw_keyed_record(struct uw_ctx *u, const struct uw_record *r, size_t len)
{
	char key[UW_PAYLOAD];
	int32_t id;

	if (len < sizeof(*r))
		return;
	memcpy(key, r->payload, u->table.key_size);
	id = uw_user_stack(u, r, len, 0);
	memcpy(key + u->layout.ustack_off, &id, sizeof(id));
	id = uw_kernel_stack(u, r);
	memcpy(key + u->layout.kstack_off, &id, sizeof(id));
	uw_table_add(&u->table, key, r->payload + u->layout.val_off);
}

int uw_open(struct uw_ctx *u, struct session *s, struct bpf_map *events, uw_handler handle,
	    void *cmd, size_t key_size, size_t val_size, void (*merge)(void *, const void *),
	    struct uw_key_layout layout)
{
	memset(u, 0, sizeof(*u));
	u->s = s;
	u->handle = handle ? handle : uw_keyed_record;
	u->layout = layout;
	u->cmd = cmd;
	u->max_depth = s->o.max_depth;
	u->table.key_size = key_size;
	u->table.val_size = val_size;
	u->table.merge = merge;
	if (!uw_enabled(s))
		return 0;
	u->rb = ring_buffer__new(bpf_map__fd(events), on_record, u, NULL);
	if (!u->rb) {
		int e = errno;

		err_msg("cannot read the unwinding ring buffer: %s", strerror(e));
		return -e;
	}
	return 0;
}

bool uw_poll(struct uw_ctx *u, int timeout_ms)
{
	struct epoll_event ev;

	if (!u->rb)
		return false;
	if (timeout_ms)
		epoll_wait(ring_buffer__epoll_fd(u->rb), &ev, 1, timeout_ms);
	/* Mappings first: a record's code was mapped before it ran. */
	session_sync_maps(u->s);
	ring_buffer__consume(u->rb);
	return true;
}

void uw_close(struct uw_ctx *u)
{
	if (u->rb && u->s->o.verbose && u->records)
		fprintf(stderr, "%s: unwound %llu user stacks (%.1f frames each), %.2f us per stack, "
			"%llu incomplete\n", prog_name, (unsigned long long)u->records,
			(double)u->frames / u->records, u->unwind_ns / 1e3 / u->records,
			(unsigned long long)u->incomplete);
	if (u->rb)
		ring_buffer__free(u->rb);
	u->rb = NULL;
	uw_store_free(&u->store);
	uw_table_clear(&u->table);
	free(u->table.entries.v);
	u->table.entries.v = NULL;
}

int32_t uw_user_stack(struct uw_ctx *u, const struct uw_record *r, size_t len, uint64_t leaf)
{
	uint64_t ips[128];
	size_t max = u->max_depth < 128 ? (size_t)u->max_depth : 128, n, skip = leaf ? 1 : 0;
	bool complete;

	if (r->flags & UW_F_NO_USER)
		return STACK_NONE;
	session_note_pid(u->s, r->pid, r->exec);
	u->records++;
	ips[0] = leaf;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	n = skip + uw_unwind(u->s->sym, r->pid, r, len, ips + skip, max - skip, &complete);
	u->unwind_ns += now_ns(CLOCK_MONOTONIC) - t0;
	u->frames += n;
	if (!complete && n < max) {
		u->incomplete++;
		if (getenv("BPFPROF_UNWIND_DEBUG")) {
			fprintf(stderr, "unwind incomplete: pid %u ulen %u frames %zu:", r->pid, r->ulen, n);
			for (size_t i = 0; i < n; i++) {
				struct sym_frame f;

				sym_user(u->s->sym, r->pid, r->exec, ips[i], &f);
				fprintf(stderr, " %s", f.func ? f.func : "?");
			}
			fprintf(stderr, "\n");
		}
	}
	if (!n)
		return STACK_LOST;
	return uw_store_intern(&u->store, ips, n);
}

int32_t uw_kernel_stack(struct uw_ctx *u, const struct uw_record *r)
{
	size_t n = r->nkips < UW_MAX_KFRAMES ? r->nkips : UW_MAX_KFRAMES;

	if (!n)
		return STACK_NONE;
	return uw_store_intern(&u->store, (const uint64_t *)r->kips, n);
}

void uw_drain(struct uw_ctx *u, struct stack_reader **sr, int max_depth,
	      void (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	if (!u->rb)
		return;
	*sr = stack_reader_new_store(&u->store, max_depth);
	uw_table_each(&u->table, fn, ctx);
	uw_table_clear(&u->table);
	uw_store_free(&u->store);
	stack_reader_free(*sr);
	*sr = NULL;
}

void uw_report(struct uw_ctx *u, struct profile *p)
{
	if (!u->rb)
		return;
	for (size_t i = 0; i < p->counters.n; i++) {
		if (!u->warned_full && p->counters.v[i].value &&
		    !strcmp(p->counters.v[i].name, "records lost (ring buffer full)")) {
			/* Only options this command takes. */
			const char *name = u->s->cmd->name;
			const char *fewer = !strcmp(name, "oncpu") ? "a lower -F, " :
					    !strcmp(name, "mallocstacks") ? "--sample-bytes, " :
					    !strcmp(name, "offcpu") ? "a higher --min-block, " : "";

			warn_msg("%llu events came faster than their stacks could be unwound; they are "
				 "counted without stacks (fewer: %sa smaller --stack-bytes)",
				 (unsigned long long)p->counters.v[i].value, fewer);
			u->warned_full = true;
		}
	}
	profile_add_counter(p, "dwarf unwinds incomplete", u->incomplete - u->reported_incomplete);
	u->reported_incomplete = u->incomplete;
}

/* Reads [addr, addr + len) of pid's memory as far as it is mapped; the
 * bytes read. Page by page: process_vm_readv stops at the first iovec it
 * cannot read, and a stack ends where its mapping does. */
static size_t read_stack(pid_t pid, uint64_t addr, uint8_t *dst, size_t len)
{
	struct iovec local, remote[UW_MAX_STACK / UW_PAGE + 1];
	size_t n = 0, at = 0;
	ssize_t got;

	while (at < len && n < sizeof(remote) / sizeof(remote[0])) {
		size_t chunk = UW_PAGE - ((addr + at) & (UW_PAGE - 1));

		if (chunk > len - at)
			chunk = len - at;
		remote[n].iov_base = (void *)(uintptr_t)(addr + at);
		remote[n++].iov_len = chunk;
		at += chunk;
	}
	local.iov_base = dst;
	local.iov_len = at;
	got = process_vm_readv(pid, &local, 1, remote, n, 0);
	return got > 0 ? (size_t)got : 0;
}

size_t uw_unwind_live(struct symbolizer *sym, pid_t pid, uint32_t exec, const uint64_t *regs,
		      size_t stack_bytes, uint64_t *ips, size_t max, bool *complete, bool *unreadable)
{
	size_t bytes = stack_bytes < UW_MAX_STACK ? stack_bytes : UW_MAX_STACK, n;
	struct uw_record *r = xcalloc(1, sizeof(*r) + bytes);

	r->pid = pid;
	r->exec = exec;
	memcpy(r->regs, regs, sizeof(r->regs));
	r->ulen = read_stack(pid, regs[UW_REG_SP], r->stack, bytes);
	*unreadable = !r->ulen;
	*complete = false;
	n = r->ulen ? uw_unwind(sym, pid, r, sizeof(*r) + r->ulen, ips, max, complete) : 0;
	free(r);
	return n;
}
