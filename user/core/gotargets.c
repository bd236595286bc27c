/* The Go programs among a run's targets (gotargets.h). */
#include "core/gotargets.h"

#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>

void go_targets_find(struct session *s, struct go_targets *t, const char *need)
{
	pid_t cmd[1];
	const pid_t *list = s->o.pids.v;
	size_t n = s->o.pids.n;

	if (s->o.cmd && s->child > 0) {
		cmd[0] = s->child;
		list = cmd;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct go_target_info g = { .pid = list[i] };
		struct elf_syms *es;
		char why[256];

		if (!session_target_exe(s, g.pid, g.exe, sizeof(g.exe)) || !(es = sym_elf_path(s->sym, g.exe)) ||
		    !es->is_go || (need && !elf_sym_addr(es, need)))
			continue;
		if (go_binary_load(&g.bin, g.exe, why, sizeof(why)) < 0)
			memset(&g.bin, 0, sizeof(g.bin)); /* reasons by number, no labels */
		vec_push(&t->v, g);
	}
}

void go_targets_mark(struct go_targets *t, struct bpf_map *go_procs)
{
	for (size_t i = 0; i < t->v.n; i++) {
		__u32 pid = t->v.v[i].pid;
		__u32 off = t->v.v[i].bin.layout_from && t->v.v[i].bin.g.g_labels > 0 ? (__u32)t->v.v[i].bin.g.g_labels : 0;

		bpf_map_update_elem(bpf_map__fd(go_procs), &pid, &off, BPF_ANY);
	}
}

struct go_target_info *go_targets_get(struct go_targets *t, pid_t pid)
{
	for (size_t i = 0; i < t->v.n; i++)
		if (t->v.v[i].pid == pid)
			return &t->v.v[i];
	return NULL;
}

static struct go_label_set *label_set(struct go_targets *t, pid_t pid, uint64_t labels)
{
	struct go_target_info *g;
	bool found;
	uint64_t *slot;

	if (!labels || !(g = go_targets_get(t, pid)))
		return NULL;
	slot = hmap_upsert(&t->sets, (uint64_t)pid, labels, 0, &found);
	if (!found) {
		char *k[16], *v[16];
		int got = go_read_labels(pid, &g->bin, labels, k, v, 16);
		struct go_label_set nw = { .first = (uint32_t)t->keys.n, .n = 0 };

		for (int i = 0; i < got; i++) {
			vec_push(&t->keys, k[i]);
			vec_push(&t->values, v[i]);
			nw.n++;
		}
		vec_push(&t->set_v, nw);
		*slot = t->set_v.n;
	}
	return &t->set_v.v[*slot - 1];
}

void go_targets_prefetch(struct go_targets *t, pid_t pid, uint64_t labels)
{
	label_set(t, pid, labels);
}

void go_targets_prefetch_map(struct go_targets *t, struct bpf_map *m, size_t key_size, size_t off)
{
	uint8_t key[256], next[256];
	void *prev = NULL;
	int fd = bpf_map__fd(m);

	if (!t->v.n || key_size > sizeof(key) || off + 8 > key_size)
		return;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		uint32_t pid;
		uint64_t labels;

		memcpy(&pid, next, 4); /* every key begins with the pid (common.h) */
		memcpy(&labels, next + off, 8);
		label_set(t, (pid_t)pid, labels);
		memcpy(key, next, key_size);
		prev = key;
	}
}

uint32_t go_targets_labels(struct go_targets *t, struct profile *p, pid_t pid, uint64_t labels,
			   struct pf_label *out, uint32_t max)
{
	struct go_label_set *set = label_set(t, pid, labels);
	uint32_t n = 0;

	for (uint32_t i = 0; set && i < set->n && n < max; i++, n++)
		out[n] = (struct pf_label){ .key = pf_str(p, t->keys.v[set->first + i]),
					    .str = pf_str(p, t->values.v[set->first + i]) };
	return n;
}

void go_targets_free(struct go_targets *t)
{
	for (size_t i = 0; i < t->v.n; i++)
		go_binary_free(&t->v.v[i].bin);
	vec_free(&t->v);
	for (size_t i = 0; i < t->keys.n; i++) {
		free(t->keys.v[i]);
		free(t->values.v[i]);
	}
	vec_free(&t->keys);
	vec_free(&t->values);
	hmap_free(&t->sets);
	vec_free(&t->set_v);
}
