#include "mmapwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DATA_PAGES 16

int session_online_cpus(int **cpus);

int mmap_watch_open(struct mmap_watch *w, pid_t pid)
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
		.inherit = 1,    /* its threads and children too */
	};
	long page = sysconf(_SC_PAGESIZE);
	int *cpus = NULL, n = session_online_cpus(&cpus), err = 0;

	memset(w, 0, sizeof(*w));
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

static void drain_one(struct mmap_watch *w, struct mmap_watch_cpu *c, struct symbolizer *s)
{
	struct perf_event_mmap_page *meta = c->base;
	char *data;
	uint64_t head, tail;
	long page = sysconf(_SC_PAGESIZE);

	data = (char *)c->base + page;
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = meta->data_tail;
	while (tail < head) {
		struct perf_event_header hdr;
		char rec[8192];
		size_t off = tail % w->size;

		/* Records may wrap around the end of the buffer: copy out. */
		for (size_t i = 0; i < sizeof(hdr); i++)
			((char *)&hdr)[i] = data[(off + i) % w->size];
		if (hdr.size < sizeof(hdr) || hdr.size > sizeof(rec))
			break;
		for (size_t i = 0; i < hdr.size; i++)
			rec[i] = data[(off + i) % w->size];
		tail += hdr.size;

		if (hdr.type == PERF_RECORD_MMAP2) {
			struct {
				struct perf_event_header h;
				uint32_t pid, tid;
				uint64_t addr, len, pgoff;
				uint32_t maj, min;
				uint64_t ino, ino_generation;
				uint32_t prot, flags;
				char filename[];
			} *m = (void *)rec;

			rec[hdr.size - 1] = 0;
			if (m->prot & PROT_EXEC)
				sym_mmap_event(s, m->pid, m->addr, m->len, m->pgoff, m->filename);
		} else if (hdr.type == PERF_RECORD_COMM && (hdr.misc & PERF_RECORD_MISC_COMM_EXEC)) {
			uint32_t *ids = (uint32_t *)(rec + sizeof(hdr));

			if (ids[0] == ids[1])
				sym_exec_event(s, ids[0]);
		} else if (hdr.type == PERF_RECORD_FORK) {
			uint32_t *ids = (uint32_t *)(rec + sizeof(hdr)); /* pid, ppid, tid, ptid */

			if (ids[0] == ids[2] && ids[0] != ids[1])
				sym_fork_event(s, ids[1], ids[0]);
		} else if (hdr.type == PERF_RECORD_LOST) {
			w->lost += *(uint64_t *)(rec + sizeof(hdr) + 8);
		}
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

/* Records of one process may sit in several CPUs' buffers; an exec on one
 * CPU and the mappings after it on another keep their order only if read
 * in time order. Each buffer is in order, and exec/mmap of one process
 * happen on the CPU it runs on during exec; reading the buffers one after
 * another is right unless the process migrates in the middle of exec. */
void mmap_watch_drain(struct mmap_watch *w, struct symbolizer *s)
{
	for (int i = 0; i < w->ncpus; i++)
		drain_one(w, &w->cpus[i], s);
}

void mmap_watch_close(struct mmap_watch *w)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < w->ncpus; i++) {
		munmap(w->cpus[i].base, w->size + page);
		close(w->cpus[i].fd);
	}
	free(w->cpus);
	memset(w, 0, sizeof(*w));
}
