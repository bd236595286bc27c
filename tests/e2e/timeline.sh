# timeline: the targets' threads' scheduling as Chrome trace-event JSON
# (Perfetto, chrome://tracing), on targets with known behaviour.

# Two threads take turns through a mutex, each holding it 20 ms (spinning)
# while the other waits: blocked slices of ~20 ms that alternate between
# them, and wake-up arrows from the one that lets go to the one that waits.
"$BPFPROF" timeline -o "$OUT/tl.json" -- "$TB/alternate" 10 > /dev/null 2> "$OUT/tl.err"
check "timeline -- CMD: exit 0" eq "$?" 0
check "timeline: trace-event JSON with the required fields, a track per thread, alternation, wake-ups" python3 - "$OUT/tl.json" <<'PY'
import json, sys, statistics
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
assert ev and d["otherData"]["lost"] == 0, d["otherData"]
for e in ev:  # the format's required fields
    assert {"name", "ph", "pid"} <= e.keys(), e
    if e["ph"] in ("X", "s", "f"):
        assert "tid" in e and "ts" in e and e["ts"] >= 0, e
    if e["ph"] == "X":
        assert e["dur"] >= 0, e
threads = {e["tid"]: e["args"]["name"] for e in ev if e["name"] == "thread_name"}
workers = [t for t, n in threads.items() if n == "alternate" and any(
    x["tid"] == t and x["ph"] == "X" and x["name"].startswith("blocked") and x["dur"] > 10000 for x in ev)]
workers = [t for t in workers if t != min(threads)]  # not the main thread (it waits in join)
assert len(workers) == 2, (threads, workers)
longb = sorted((x["ts"], x["tid"], x["dur"]) for x in ev
               if x["ph"] == "X" and x["tid"] in workers and x["name"].startswith("blocked") and x["dur"] > 10000)
for w in workers:
    durs = [b[2] / 1000 for b in longb if b[1] == w]
    assert len(durs) >= 6, (w, durs)
    assert 18 <= statistics.median(durs) <= 22, (w, durs)  # 20 ms +-2
alt = sum(1 for a, b in zip(longb, longb[1:]) if a[1] != b[1])
assert alt >= 0.8 * (len(longb) - 1), ("the waits alternate", [b[1] for b in longb])
starts = {e["id"]: e["tid"] for e in ev if e["ph"] == "s"}
cross = [e for e in ev if e["ph"] == "f" and e["id"] in starts and starts[e["id"]] in workers
         and e["tid"] in workers and starts[e["id"]] != e["tid"]]
assert len(cross) >= 10, ("waker -> wakee arrows between the workers", len(cross))
PY
# Three spinners on this machine's CPUs (more spinners than CPUs): they
# wait runnable, preempted, for a CPU.
n=$(( $(nproc) + 1 ))
"$BPFPROF" timeline -o "$OUT/tl-over.json" -- sh -c "for i in \$(seq $n); do timeout 0.6 sh -c 'while :; do :; done' & done; wait" > /dev/null 2>&1
check "timeline: runnable-but-not-running gaps on an oversubscribed run" python3 -c "
import json
ev = json.load(open('$OUT/tl-over.json'))['traceEvents']
pre = [e for e in ev if e['ph'] == 'X' and e['name'] == 'runnable (preempted)' and e['dur'] > 1000]
assert len(pre) >= 5, len(pre)"
"$BPFPROF" timeline -d 0.2 > /dev/null 2> "$OUT/tl-notarget.err"
check "timeline without a target: exit 2, one line" eq "$?:$(wc -l < "$OUT/tl-notarget.err")" "2:1"
