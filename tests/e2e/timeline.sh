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
# stacks (the trace-event format's stackFrames, "sf" on events): every
# reference resolves, and the frames say where each thread was
frames = d["stackFrames"]
assert frames, "no stackFrames"
for k, f in frames.items():
    assert "name" in f and ("parent" not in f or f["parent"] in frames), (k, f)
for e in ev:
    if "sf" in e:
        assert str(e["sf"]) in frames, e
def stack(e):
    out, n = [], str(e["sf"]) if "sf" in e else None
    while n:
        out.append(frames[n]["name"]); n = frames[n].get("parent")
    return out
samples = [e for e in ev if e.get("cat") == "sample" and e["tid"] in workers]
assert d["otherData"]["samples"] >= len(samples) >= 25, len(samples)  # 400 ms on CPU at 99 Hz
spin = [e for e in samples if "spin_ms" in stack(e) and "worker" in stack(e)]
assert len(spin) >= 0.9 * len(samples), ("on-CPU samples in spin_ms <- worker", [stack(e) for e in samples[:3]])
assert samples[0]["args"]["stack"] == stack(samples[0]), "args.stack is the sf stack, leaf first"
waits = [x for x in ev if x["ph"] == "X" and x["tid"] in workers and x["name"].startswith("blocked") and x["dur"] > 10000]
# (the kernel stack taken at the wake-up, the user stack at the call's exit)
withstack = [x for x in waits if "worker" in stack(x) and "do_futex" in stack(x) and
             ("pthread_cond_wait" in stack(x) or "pthread_mutex_lock" in stack(x))]
assert len(withstack) >= 0.8 * len(waits), ("blocked in a futex <- pthread_cond_wait|mutex_lock <- worker",
                                            [stack(x) for x in waits[:3]])
# long system calls (1 ms and more by default): the workers' futex waits,
# ~20 ms each, called from worker
ends = {e["id"]: e["ts"] for e in ev if e.get("cat") == "syscall" and e["ph"] == "e"}
calls = [(e, ends[e["id"]] - e["ts"]) for e in ev if e.get("cat") == "syscall" and e["ph"] == "b" and e["id"] in ends]
for w in workers:
    fx = [d / 1000 for e, d in calls if e["tid"] == w and e["name"] == "futex" and "worker" in stack(e) and d > 10000]
    assert len(fx) >= 6 and 18 <= statistics.median(fx) <= 22, ("futex calls of ~20 ms from worker", w, fx)
PY

# Derived profiles: a window of a saved timeline as on-CPU, off-CPU and
# scheduler-latency profiles, next to oncpu and offcpu run over the same
# seconds of the same process (one thread always spinning, the others
# waiting: the main thread in join since before the start).
start_target "$TB/alternate" 150
alt=$TPID
"$BPFPROF" timeline -p "$alt" -d 2 -o "$OUT/tlw.json" 2> "$OUT/tlw.err" &
t1=$!
"$BPFPROF" oncpu -p "$alt" -d 2 --sample-index cpu -o "$OUT/tlw-on.folded" -o "$OUT/tlw-on.json" 2> /dev/null &
t2=$!
"$BPFPROF" offcpu -p "$alt" -d 2 -o "$OUT/tlw-off.folded" -o "$OUT/tlw-off.json" 2> /dev/null
wait $t1 $t2
stop_targets
"$BPFPROF" report "$OUT/tlw.json" -f folded > "$OUT/tlw-cpu.txt"
check "report trace.json: exit 0" eq "$?" 0
"$BPFPROF" report "$OUT/tlw.json" -f folded --sample-index offcpu > "$OUT/tlw-offcpu.txt"
"$BPFPROF" report "$OUT/tlw.json" -f folded --sample-index offcpu --from 0.5s --to 1500ms > "$OUT/tlw-win.txt"
"$BPFPROF" report "$OUT/tlw.json" -f folded --sample-index cpu --from 0.5 --to 1.5 > "$OUT/tlw-wincpu.txt"
"$BPFPROF" report "$OUT/tlw.json" --sample-index sched -o "$OUT/tlw-sched.pb.gz"
# The three runs start a few hundred ms apart and each lasts its own 2 s:
# compared as time per second of each run (the target is steady).
check "report trace.json: the window's profiles match oncpu/offcpu within 10%" python3 - "$OUT" <<'PY'
import sys, json
o = sys.argv[1]
def tot(f, pat):
    s = 0
    for l in open(f"{o}/{f}"):
        st, v = l.rsplit(" ", 1)
        if pat in st.split(";"):
            s += int(v)
    return s
def dur(f):
    d = json.load(open(f"{o}/{f}"))
    return d["duration_nanos"] if "duration_nanos" in d else d["otherData"]["duration_ns"]
def near(a, b, what):
    assert a > 0 and abs(a - b) <= 0.1 * a, (what, a, b)
on, off, tl = dur("tlw-on.json"), dur("tlw-off.json"), dur("tlw.json")
def total(f):
    return sum(int(l.rsplit(" ", 1)[1]) for l in open(f"{o}/{f}"))
# on-CPU: the profile's shape (spin_ms's share) within 10%, its rate within
# 15% (the three runs' windows are not the same seconds, and each one's
# start-up competes with the spinning thread in the others' windows)
near(tot("tlw-on.folded", "spin_ms") / total("tlw-on.folded"), tot("tlw-cpu.txt", "spin_ms") / total("tlw-cpu.txt"),
     "spin_ms's share of on-CPU time")
r1, r2 = tot("tlw-on.folded", "spin_ms") / on, tot("tlw-cpu.txt", "spin_ms") / tl
assert abs(r1 - r2) <= 0.15 * r1, ("cpu in spin_ms per second", r1, r2)
near(tot("tlw-off.folded", "worker") / off, tot("tlw-offcpu.txt", "worker") / tl, "the workers' time off CPU per second")
near(tot("tlw-off.folded", "main") / off, tot("tlw-offcpu.txt", "main") / tl, "main's join (blocked since before the start)")
near(1e9, tot("tlw-win.txt", "main"), "a 1 s window of main's join")
near(1e9, tot("tlw-wincpu.txt", "spin_ms"), "a 1 s window of one thread spinning")
PY
check "timeline -p: main's join, in futex since before the start, is a system call from the start" python3 -c "
import json
d = json.load(open('$OUT/tlw.json'))
b = [e for e in d['traceEvents'] if e.get('cat') == 'syscall' and e['ph'] == 'b' and e['tid'] == $alt]
assert any(e['name'] == 'futex' and e['args'].get('began_before_start') and e['ts'] < 50000 for e in b), b[:3]"
"$BPFPROF" report "$OUT/tlw.json" --sample-index syscall -f folded > "$OUT/tlw-sys.txt"
check "report --sample-index syscall: the join's futex from main" sh -c "grep -q ';main;.*1\$' '$OUT/tlw-sys.txt' || grep -q 'main' '$OUT/tlw-sys.txt'"
check "report trace.json: pprof output with the sample types" sh -c \
	"'$BPFPROF' report '$OUT/tlw-sched.pb.gz' --sample-index sched -f top | grep -q 'sched total'"
"$BPFPROF" report "$OUT/tlw.json" --from 2s --to 1s > /dev/null 2> "$OUT/tlw-bad.err"
check "report --to before --from: exit 2, one line" eq "$?:$(wc -l < "$OUT/tlw-bad.err")" "2:1"
printf '{"traceEvents": [' > "$OUT/tl-trunc.json"
"$BPFPROF" report "$OUT/tl-trunc.json" > /dev/null 2> "$OUT/tl-trunc.err"
check "report of a truncated timeline: exit 2, one line" eq "$?:$(wc -l < "$OUT/tl-trunc.err")" "2:1"
"$BPFPROF" report "$OUT/tlw-sched.pb.gz" --from 1s > /dev/null 2> "$OUT/tl-notjson.err"
check "report --from on a pprof file: exit 2" eq "$?" 2
# The self-contained page (-o X.html), in headless Chromium: a lane per
# thread, zoom, a clicked slice's stack, a window's flame graph.
"$BPFPROF" timeline -o "$OUT/tl.html" -- "$TB/alternate" 10 > /dev/null 2>&1
check "timeline -o X.html: exit 0, a page" contains "$OUT/tl.html" '<script type="application/json" id="trace">'
if [ -x /usr/bin/chromium ] && [ -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
	node "$ROOT/tests/browser/timeline_check.js" "$OUT/tl.html" pthread_cond_wait spin_ms ||
		fail "html timeline: browser checks" "node exited $?"
else
	fail "html timeline: browser checks" "chromium or playwright-core missing (make deps installs them)"
fi

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

# Go: a lane per goroutine (gopark/execute/goready/goschedImpl/goexit0
# entry probes). goblock: 40 goroutines wait ~1 s on a channel in
# main.barChanWait that main closes, twice.
# (written as the page; the trace inside it read back as tl-go.json)
"$BPFPROF" timeline -o "$OUT/tl-go.html" -- "$TB/goblock" "$OUT/tl-gob" > /dev/null 2> "$OUT/tl-go.err"
check "timeline -- goblock: exit 0" eq "$?" 0
python3 - "$OUT/tl-go.html" "$OUT/tl-go.json" <<'PY'
import re, sys
m = re.search(r'<script type="application/json" id="trace">(.*?)</script>', open(sys.argv[1]).read(), re.S)
open(sys.argv[2], "w").write(m.group(1).replace("<\\/", "</"))
PY
check "timeline: goroutine lanes, chan waits of ~1 s at main.barChanWait, readied by main" python3 - "$OUT/tl-go.json" <<'PY'
import json, sys, statistics
d = json.load(open(sys.argv[1]))
ev, frames = d["traceEvents"], d["stackFrames"]
def stack(e):
    out, n = [], str(e["sf"]) if "sf" in e else None
    while n:
        out.append(frames[n]["name"]); n = frames[n].get("parent")
    return out
names = {e["tid"]: e["args"]["name"] for e in ev if e["name"] == "thread_name"}
lanes = [t for t, n in names.items() if n.startswith("goroutine ")]
assert len(lanes) >= 60, len(lanes)
g = [e for e in ev if e.get("cat") == "goroutine"]
waits = [e for e in g if e["name"] == "waiting (chan receive)" and "main.barChanWait" in stack(e)]
assert len(waits) >= 70, len(waits)
assert 0.9 <= statistics.median(e["dur"] for e in waits) / 1e6 <= 1.1, statistics.median(e["dur"] for e in waits)
by_main = [e for e in waits if e["args"].get("woken_by_goroutine") == 1]
assert len(by_main) >= 0.9 * len(waits), ("readied by goroutine 1 (main)", len(by_main), len(waits))
starts = {e["id"]: e for e in ev if e["ph"] == "s" and e["tid"] in lanes}
arrows = [e for e in ev if e["ph"] == "f" and e["id"] in starts and starts[e["id"]]["tid"] == min(lanes)]
assert len(arrows) >= 70, ("arrows from main's lane", len(arrows))
threads = {t for t in names if t not in lanes}
running = [e for e in g if e["name"] == "running"]
assert running and all(e["args"]["thread"] in threads for e in running), "running on one of the process's threads"
PY

# A window's goroutine waits (report --sample-index gowait) against the
# block profile goblock wrote itself in the same run: main.barChanWait's
# 80 goroutine-seconds within 10%; the runtime's own goroutines left out.
"$BPFPROF" report "$OUT/tl-go.json" --sample-index gowait -f folded > "$OUT/tl-gowait.folded"
"$BPFPROF" report "$OUT/tl-gob-block.pb.gz" --sample-index delay -f folded > "$OUT/tl-gob-block.folded"
check "report trace.json --sample-index gowait: main.barChanWait within 10% of Go's block profile" python3 - "$OUT" <<'PY'
import sys
o = sys.argv[1]
def under(f, fn):
    return sum(int(l.rsplit(" ", 1)[1]) for l in open(f"{o}/{f}") if fn in l.rsplit(" ", 1)[0].split(";"))
ours, go = under("tl-gowait.folded", "main.barChanWait"), under("tl-gob-block.folded", "main.barChanWait")
assert go > 0 and abs(ours - go) <= 0.1 * go, (ours, go)
text = open(f"{o}/tl-gowait.folded").read()
assert text and "runtime.bgsweep" not in text and "runtime.gcBgMarkWorker" not in text, "runtime goroutines"
PY
if [ -x /usr/bin/chromium ] && [ -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
	node "$ROOT/tests/browser/timeline_check.js" "$OUT/tl-go.html" runtime.chanrecv main.hotLoop gowait=main.barChanWait |
		grep -E "lane per thread|goroutines' waits|console errors" || fail "html timeline, Go: browser checks" "node exited $?"
fi

# --cgroup: the tasks in it only, though a switch's next and a wake-up's
# wakee are not the current task (tested on the task's own cgroup), and the
# threads blocked at start are seeded (the iterator tests the task too).
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$cg_root" ] && mkdir -p "$cg_root/bpfprof-tl-$$" 2>/dev/null; then
	cg=$cg_root/bpfprof-tl-$$
	start_target "$TB/alternate" 60
	alt=$TPID
	start_target "$TB/hot" 4 single
	echo "$alt" > "$cg/cgroup.procs"
	"$BPFPROF" timeline --cgroup "$cg" -d 1 -o "$OUT/tl-cg.json" 2> /dev/null
	check "timeline --cgroup: the cgroup's threads only, main's join from the start" python3 -c "
import json
ev = json.load(open('$OUT/tl-cg.json'))['traceEvents']
names = {e['tid']: e['args']['name'] for e in ev if e['name'] == 'thread_name'}
assert len(names) == 3 and set(names.values()) == {'alternate'}, names
main = [e for e in ev if e['ph'] == 'X' and e['tid'] == $alt and e['name'].startswith('blocked')]
assert main and main[0]['ts'] < 50000 and main[0]['dur'] > 800000, main[:2]"
	stop_targets
	echo "$$" > "$cg_root/cgroup.procs" 2>/dev/null
	rmdir "$cg" 2>/dev/null
else
	fail "timeline --cgroup" "no cgroup v2 hierarchy to test in"
fi

# Field by field (Perfetto's trace processor is not in the package
# registries): the schema in docs/, and the pairs, frames and tracks.
for f in tl tlw tl-go tl-over tl-cg; do
	check "timeline $f.json: docs/timeline.schema.json, ids paired, frames resolved, tracks named" \
		python3 "$ROOT/tests/check_trace.py" "$ROOT/docs/timeline.schema.json" "$OUT/$f.json"
done
