/* Go heap profile from the runtime's buckets (goheap.h). The layout is
 * Go's runtime/mprof.go (stable since Go 1.13): a bucket is next, allnext,
 * type, hash, size, nstk (six words), nstk pcs, then for a memory bucket
 * its memRecord, whose first cycle ("active") holds allocs, frees,
 * alloc_bytes, free_bytes as of the last completed GC — what Go's heap
 * profile reports. */
#include "cmd/goheap.h"
#include "symbols/gobin.h"
#include "base/util.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define MAX_BUCKETS (1u << 20)
#define MAX_STK 64
#define BUCKET_MEMPROFILE 1

struct go_record {
	uint64_t stk[MAX_STK];
	uint32_t nstk;
	uint64_t allocs, frees, alloc_bytes, free_bytes;
	uint64_t future[4];      /* the cycles not yet published, summed */
};

struct go_heap {
	pid_t pid;
	uint64_t mbuckets, rate_addr;
	int64_t rate;
	VEC(struct go_record) recs;
};

struct go_heap *go_heap_open(pid_t pid, const char *exe, char *why, size_t whylen)
{
	struct go_binary gb;
	struct go_heap *h;

	if (go_binary_load(&gb, exe, why, whylen) < 0)
		return NULL;
	if (!gb.mbuckets || !gb.memprofilerate) {
		snprintf(why, whylen, "%s: no runtime.mbuckets in its symbols (stripped)", exe);
		go_binary_free(&gb);
		return NULL;
	}
	if (gb.pie) {
		snprintf(why, whylen, "%s: a position-independent Go build (not read yet)", exe);
		go_binary_free(&gb);
		return NULL;
	}
	{
		int64_t rate = 0;
		uint8_t off = 0;

		/* The linker turns memory profiling off in a program that never
		 * reads it (runtime.disableMemoryProfiling), and so can the
		 * program (MemProfileRate = 0): no buckets are filled then. */
		if (!proc_read(pid, gb.memprofilerate, &rate, 8) || rate <= 0 ||
		    (gb.disablememprof && proc_read(pid, gb.disablememprof, &off, 1) && off)) {
			snprintf(why, whylen, "%s: memory profiling is off in this program (it never reads a "
				 "heap profile, or set MemProfileRate to 0)", exe);
			go_binary_free(&gb);
			return NULL;
		}
	}
	h = xcalloc(1, sizeof(*h));
	h->pid = pid;
	h->mbuckets = gb.mbuckets;
	h->rate_addr = gb.memprofilerate;
	go_binary_free(&gb);
	return h;
}

int go_heap_read(struct go_heap *h)
{
	uint64_t b, hdr[6];
	int64_t rate;
	VEC(struct go_record) recs = { 0 };
	bool active = false;

	if (!proc_read(h->pid, h->rate_addr, &rate, 8) || !proc_read(h->pid, h->mbuckets, &b, 8))
		return -errno;
	for (uint32_t n = 0; b && n < MAX_BUCKETS; n++) {
		struct go_record r = { 0 };
		uint64_t mem[16];   /* active, then future[3]: four words each */

		if (!proc_read(h->pid, b, hdr, sizeof(hdr))) {
			vec_free(&recs);
			return -EIO;
		}
		if (hdr[2] == BUCKET_MEMPROFILE && hdr[5] <= 1024) {
			r.nstk = hdr[5] < MAX_STK ? (uint32_t)hdr[5] : MAX_STK;
			if (proc_read(h->pid, b + 48, r.stk, r.nstk * 8) && proc_read(h->pid, b + 48 + hdr[5] * 8, mem, sizeof(mem))) {
				r.allocs = mem[0];
				r.frees = mem[1];
				r.alloc_bytes = mem[2];
				r.free_bytes = mem[3];
				for (int c = 1; c < 4; c++) {
					r.future[0] += mem[4 * c];
					r.future[1] += mem[4 * c + 1];
					r.future[2] += mem[4 * c + 2];
					r.future[3] += mem[4 * c + 3];
				}
				if (r.allocs || r.future[0])
					vec_push(&recs, r);
				active |= r.allocs || r.frees;
			}
		}
		b = hdr[1]; /* allnext */
	}
	/* No GC yet: Go's MemProfile then publishes every pending cycle (so a
	 * program that never collected still has a profile); so do we. */
	if (!active)
		for (size_t i = 0; i < recs.n; i++) {
			recs.v[i].allocs += recs.v[i].future[0];
			recs.v[i].frees += recs.v[i].future[1];
			recs.v[i].alloc_bytes += recs.v[i].future[2];
			recs.v[i].free_bytes += recs.v[i].future[3];
		}
	vec_free(&h->recs);
	h->recs.v = recs.v;
	h->recs.n = recs.n;
	h->recs.cap = recs.cap;
	h->rate = rate;
	return 0;
}

/* Go's scaleHeapSample: a bucket's sampled values to an estimate of all
 * allocations, for a sampling rate of one per `rate` bytes on average. */
static void scale(uint64_t count, uint64_t size, int64_t rate, int64_t *c, int64_t *sz)
{
	double avg, f;

	if (!count || !size) {
		*c = *sz = 0;
		return;
	}
	if (rate <= 1) {
		*c = (int64_t)count;
		*sz = (int64_t)size;
		return;
	}
	avg = (double)size / count;
	f = 1 / (1 - exp(-avg / rate));
	*c = (int64_t)(count * f);
	*sz = (int64_t)(size * f);
}

void go_heap_add(struct go_heap *h, struct stack_builder *b, const char *comm)
{
	for (size_t i = 0; i < h->recs.n; i++) {
		const struct go_record *r = &h->recs.v[i];
		int64_t v[4];

		if (!r->allocs)
			continue;
		uint64_t ips[MAX_STK];

		scale(r->allocs, r->alloc_bytes, h->rate, &v[0], &v[1]);
		scale(r->allocs - r->frees, r->alloc_bytes - r->free_bytes, h->rate, &v[2], &v[3]);
		/* The bucket's pcs are return addresses, the first one too: the
		 * builder takes ips[0] as a pc, so it gets the call itself. */
		for (uint32_t k = 0; k < r->nstk; k++)
			ips[k] = k ? r->stk[k] : r->stk[k] - 1;
		stack_begin(b);
		stack_add_user(b, h->pid, 0, ips, r->nstk);
		stack_commit(b, v, h->pid, h->pid, comm, NULL, 0);
	}
}

pid_t go_heap_pid(const struct go_heap *h)
{
	return h->pid;
}

void go_heap_free(struct go_heap *h)
{
	if (!h)
		return;
	vec_free(&h->recs);
	free(h);
}
