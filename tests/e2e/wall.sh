# wall: on-CPU (sampled) and off-CPU (measured) time in one unit. The
# target (no frame pointers) spins 50 ms and sleeps 50 ms, in a loop.
"$BPFPROF" wall -d 3 -f json -o "$OUT/wall.json" -o "$OUT/wall.folded" -- "$TB/waiters" spinsleep > /dev/null 2> "$OUT/wall.err"
check "wall -- CMD: CMD's status (ended by -d: SIGTERM, 143)" eq "$?" 143
check "wall: ~3 s of wall-clock time for its one thread" between "$(total "$OUT/wall.folded")" 2.7e9 3.1e9
# share FILE RE: percent of the value whose stack has main then a frame matching RE
# (gcc may name the function spin_ms.constprop.0)
share() { awk -v re="$2" '{ v = $NF; t += v; if (index($0, ";main;") && $0 ~ (";" re "[.;]")) s += v }
	END { printf "%.2f\n", t ? 100 * s / t : 0 }' "$1"; }
check "wall: spin_ms (on CPU) 50% +-5" between "$(share "$OUT/wall.folded" "spin_ms")" 45 55
check "wall: sleep_ms (off CPU) 50% +-5" between "$(share "$OUT/wall.folded" "sleep_ms")" 45 55
check "wall: the state label splits it: running ~50%, sleeping ~50%" python3 -c "
import json
d = json.load(open('$OUT/wall.json'))
w = [t['type'] for t in d['sample_types']].index('wall')
by = {}
for s in d['samples']:
    by[s['labels']['state']] = by.get(s['labels']['state'], 0) + s['values'][w]
t = sum(by.values())
assert 0.45 < by.get('running', 0) / t < 0.55 and 0.45 < by.get('sleeping', 0) / t < 0.55, by"
# A running process: every thread's time is the whole duration (blocked
# threads seeded at start, their stacks unwound from .eh_frame).
start_target "$TB/waiters"
"$BPFPROF" wall -p "$TPID" -d 1 --per-thread -f folded -o "$OUT/wall-p.folded" 2> "$OUT/wall-p.err"
check "wall -p --per-thread: exit 0" eq "$?" 0
check "wall -p --per-thread: 8 threads, one root frame each" eq "$(sed 's/;.*//; s/^[^;]*;//' "$OUT/wall-p.folded" | awk -F';' '{ print $2 }' "$OUT/wall-p.folded" | sort -u | grep -c '^\[tid_')" 8
check "wall -p: each thread ~1 s (8 threads: 7.2..8.4 s)" between "$(total "$OUT/wall-p.folded")" 7.2e9 8.4e9
check "wall -p: threads blocked since before the run, complete stacks (cond_waiter, FP-less)" ge "$(awk '/clone3;start_thread;cond_waiter;pthread_cond_wait/ { n++ } END { print n + 0 }' "$OUT/wall-p.folded")" 3
check "wall -p: main blocked in pthread_join, under main" ge "$(grep -c ';main;__pthread_clockjoin_ex' "$OUT/wall-p.folded")" 1
TICK=$(ls "/proc/$TPID/task" | sort -n | tail -n 1)
"$BPFPROF" wall -t "$TICK" -d 1 -f json -o "$OUT/wall-t.json" 2> "$OUT/wall-t.err"
check "wall -t: only that thread, ~1 s" python3 -c "
import json
d = json.load(open('$OUT/wall-t.json'))
w = [t['type'] for t in d['sample_types']].index('wall')
tids = {s['labels']['tid'] for s in d['samples']}
t = sum(s['values'][w] for s in d['samples'])
assert tids == {$TICK}, tids
assert 0.85e9 < t < 1.15e9, t"
"$BPFPROF" wall --unwind copy -d 1 > /dev/null 2> "$OUT/wall-e1"
check "wall --unwind copy: exit 2" eq "$?" 2
check "wall --unwind copy: one line" one_line "$OUT/wall-e1"
"$BPFPROF" offcpu --state running -d 1 > /dev/null 2> "$OUT/wall-e2"
check "offcpu --state running: exit 2 (wall's state only)" eq "$?" 2
