// SPDX-License-Identifier: GPL-2.0
/* Empty probe programs: the floor any uprobe-based design pays. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int floor_entry(void *ctx) { return 0; }

SEC("uretprobe")
int floor_ret(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
