/* pprof labels of Go targets (pprof.Do, SetGoroutineLabels): the current
 * goroutine's g is in R14 while Go code runs, and g.labels points at its
 * label set; the pointer goes into the sample's key and user space reads
 * the set (symbols/gobin.c). go_procs holds, per Go target process, where
 * labels sit in its runtime.g (filled by the loader). */
#ifndef BPFPROF_GOLABELS_BPF_H
#define BPFPROF_GOLABELS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);      /* tgid */
	__type(value, __u32);    /* offsetof(runtime.g, labels) */
} go_procs SEC(".maps");

/* The label set of the goroutine whose g is `g`, in process tgid (0: none,
 * or not a Go target). */
static __always_inline __u64 go_labels(__u32 tgid, __u64 g)
{
	__u32 *off = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 labels = 0;

	if (!off || !*off || !g || bpf_probe_read_user(&labels, sizeof(labels), (void *)(g + *off)))
		return 0;
	return labels;
}

#endif
