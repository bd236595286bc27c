#!/usr/bin/env python3
"""check_trace.py SCHEMA FILE: validates a bpfprof timeline (trace-event JSON)
against docs/timeline.schema.json, then what a schema cannot say: every
stack frame and parent resolves, begin/end and arrow pairs match by id, a
thread's scheduling slices do not overlap, every track is named. Perfetto's
trace processor is not in the package registries this suite may use; these
are the fields it reads."""
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
jsonschema.validate(d, schema)
ev, frames = d["traceEvents"], d["stackFrames"]
assert ev, "no events"
for k, f in frames.items():
    assert "parent" not in f or f["parent"] in frames, ("dangling parent", k, f)
for e in ev:
    assert "sf" not in e or str(e["sf"]) in frames, ("dangling sf", e)
for kind, (a, b) in {"syscall": ("b", "e"), "wakeup": ("s", "f")}.items():
    begins = {e["id"]: e for e in ev if e.get("cat") == kind and e["ph"] == a}
    ends = {e["id"]: e for e in ev if e.get("cat") == kind and e["ph"] == b}
    assert set(ends) <= set(begins), (kind, "an end without its begin", sorted(set(ends) - set(begins))[:5])
    if kind == "syscall":
        assert set(begins) == set(ends), (kind, "a begin without its end")
    for i, e in ends.items():
        assert e["ts"] >= begins[i]["ts"] - 0.001, (kind, "ends before it begins", begins[i], e)
tracks = {}
for e in ev:
    if e["ph"] == "X" and e["cat"] == "sched":
        tracks.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
for tid, sl in tracks.items():
    sl.sort()
    for (a0, a1), (b0, b1) in zip(sl, sl[1:]):
        assert b0 >= a1 - 0.002, ("overlapping slices on thread", tid, (a0, a1), (b0, b1))
named = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
used = {e["tid"] for e in ev if e["ph"] in ("X", "i")}
assert used <= named, ("tracks without a name", sorted(used - named)[:5])
print("ok")
