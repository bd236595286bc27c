#!/usr/bin/env python3
"""heap_values.py FILE.json FUNC [FUNC2]: the four heap values summed over
samples whose stack holds FUNC (and FUNC2 directly below it, if given), or
of every sample with --total:
"alloc_objects alloc_space inuse_objects inuse_space"."""
import json, sys

d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
names = [t["type"] for t in d["sample_types"]]
want = sys.argv[2:]
if want == ["--total"]:  # every sample
    want = []
tot = [0] * len(names)
for s in d["samples"]:
    frames = [d["frames"][i]["function"] for i in s["stack"]][::-1]  # root first
    hit = not want or any(frames[i:i + len(want)] == want for i in range(len(frames)))
    if hit:
        tot = [a + b for a, b in zip(tot, s["values"])]
print(" ".join(str(tot[names.index(n)]) for n in ("alloc_objects", "alloc_space", "inuse_objects", "inuse_space")))
