#include "symbols/mmapwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DATA_PAGES 16


static int watch_open(struct mmap_watch *w, pid_t pid);

int mmap_watch_open(struct mmap_watch *w, pid_t pid)
{
	memset(w, 0, sizeof(*w));
	return watch_open(w, pid);
}

int mmap_watch_open_comm(struct mmap_watch *w, const char *comm)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->comm, sizeof(w->comm), "%s", comm);
	return watch_open(w, -1);
}

static int watch_open(struct mmap_watch *w, pid_t pid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.size = sizeof(attr),
		.mmap = 1,
		.mmap2 = 1,      /* executable mappings, with file names */
		.comm = 1,
		.comm_exec = 1,  /* tells exec apart from a rename */
		.task = 1,       /* fork records */
		.inherit = pid > 0, /* its threads and children too */
		/* A timestamp at the end of every record: the buffers of all
		 * CPUs are merged in time order (see mmap_watch_drain). */
		.sample_id_all = 1,
		.sample_type = PERF_SAMPLE_TIME,
	};
	long page = sysconf(_SC_PAGESIZE);
	int *cpus = NULL, n = online_cpus(&cpus), err = 0;

	if (n <= 0)
		return n ? n : -ENODEV;
	w->size = DATA_PAGES * page;
	w->cpus = xcalloc(n, sizeof(*w->cpus));
	for (int i = 0; i < n; i++) {
		struct mmap_watch_cpu *c = &w->cpus[w->ncpus];

		c->fd = syscall(__NR_perf_event_open, &attr, pid, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (c->fd < 0) {
			if (errno == ENODEV)
				continue;
			err = -errno;
			break;
		}
		c->base = mmap(NULL, w->size + page, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->base == MAP_FAILED) {
			err = -errno;
			close(c->fd);
			break;
		}
		w->ncpus++;
	}
	free(cpus);
	if (err)
		mmap_watch_close(w);
	return err;
}

struct watch_rec {
	uint64_t time;
	uint32_t seq;
	uint32_t size;
	char *data;
};

typedef VEC(struct watch_rec) rec_vec;

static int cmp_rec(const void *a, const void *b)
{
	const struct watch_rec *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Copies one CPU's new records out of its buffer. */
static void read_one(struct mmap_watch *w, struct mmap_watch_cpu *c, rec_vec *out)
{
	struct perf_event_mmap_page *meta = c->base;
	long page = sysconf(_SC_PAGESIZE);
	char *data = (char *)c->base + page;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE), tail = meta->data_tail;

	while (tail < head) {
		struct perf_event_header hdr;
		size_t off = tail % w->size;
		struct watch_rec r;

		/* Records may wrap around the end of the buffer: copy out. */
		for (size_t i = 0; i < sizeof(hdr); i++)
			((char *)&hdr)[i] = data[(off + i) % w->size];
		if (hdr.size < sizeof(hdr) + 8)
			break;
		r.data = xmalloc(hdr.size);
		for (size_t i = 0; i < hdr.size; i++)
			r.data[i] = data[(off + i) % w->size];
		tail += hdr.size;
		r.size = hdr.size;
		memcpy(&r.time, r.data + hdr.size - 8, 8); /* sample_id: the time */
		r.seq = (uint32_t)out->n;
		vec_push(out, r);
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

/* A system-wide watch keeps only the processes it follows. */
static bool kept(struct mmap_watch *w, uint32_t pid)
{
	return !w->comm[0] || hmap_get(&w->followed, pid, 0);
}

static void apply(struct mmap_watch *w, const struct watch_rec *r, struct symbolizer *s)
{
	struct perf_event_header *hdr = (void *)r->data;
	char *rec = r->data;

	if (hdr->type == PERF_RECORD_MMAP2) {
		struct {
			struct perf_event_header h;
			uint32_t pid, tid;
			uint64_t addr, len, pgoff;
			uint32_t maj, min;
			uint64_t ino, ino_generation;
			uint32_t prot, flags;
			char filename[];
		} *m = (void *)rec;

		if (r->size < sizeof(*m) + 9)
			return;
		rec[r->size - 9] = 0; /* the name is padded and NUL-terminated; be sure */
		if ((m->prot & PROT_EXEC) && kept(w, m->pid))
			sym_mmap_event(s, m->pid, m->addr, m->len, m->pgoff, m->filename,
				       makedev(m->maj, m->min), m->ino);
	} else if (hdr->type == PERF_RECORD_COMM && (hdr->misc & PERF_RECORD_MISC_COMM_EXEC)) {
		uint32_t *ids = (uint32_t *)(rec + sizeof(*hdr)); /* pid, tid, comm */
		const char *comm = (const char *)(ids + 2);
		bool found;

		if (w->comm[0] && r->size > sizeof(*hdr) + 8 + 8) {
			if (!strncmp(comm, w->comm, sizeof(w->comm) - 1))
				hmap_upsert(&w->followed, ids[0], 0, 1, &found);
			else
				hmap_delete(&w->followed, ids[0], 0); /* it became another program */
		}
		if (ids[0] == ids[1] && kept(w, ids[0]))
			sym_exec_event(s, ids[0]);
	} else if (hdr->type == PERF_RECORD_FORK) {
		uint32_t *ids = (uint32_t *)(rec + sizeof(*hdr)); /* pid, ppid, tid, ptid */
		bool found;

		if (ids[0] == ids[2] && ids[0] != ids[1] && kept(w, ids[1])) {
			if (w->comm[0])
				hmap_upsert(&w->followed, ids[0], 0, 1, &found);
			sym_fork_event(s, ids[1], ids[0]);
		}
	} else if (hdr->type == PERF_RECORD_EXIT && w->comm[0]) {
		uint32_t *ids = (uint32_t *)(rec + sizeof(*hdr)); /* pid, ppid, tid, ptid */

		if (ids[0] == ids[2])
			hmap_delete(&w->followed, ids[0], 0); /* its mappings stay in the symbolizer */
	} else if (hdr->type == PERF_RECORD_LOST) {
		w->lost += *(uint64_t *)(rec + sizeof(*hdr) + 8);
	}
}

/* Records of one process may sit in several CPUs' buffers: an exec on one
 * CPU and the library mappings after it on another (the process migrated
 * meanwhile). Read in CPU order, the exec could wipe mappings made after it
 * (seen as flaky unnamed libc frames); merged by time, it cannot. */
void mmap_watch_drain(struct mmap_watch *w, struct symbolizer *s)
{
	rec_vec recs = { 0 };

	for (int i = 0; i < w->ncpus; i++)
		read_one(w, &w->cpus[i], &recs);
	vec_sort(&recs, cmp_rec);
	for (size_t i = 0; i < recs.n; i++) {
		apply(w, &recs.v[i], s);
		free(recs.v[i].data);
	}
	vec_free(&recs);
}

void mmap_watch_close(struct mmap_watch *w)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < w->ncpus; i++) {
		munmap(w->cpus[i].base, w->size + page);
		close(w->cpus[i].fd);
	}
	free(w->cpus);
	hmap_free(&w->followed);
	memset(w, 0, sizeof(*w));
}
