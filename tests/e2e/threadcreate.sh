# threadcreate: the stacks that create threads and processes (#16's
# creation profile; any process). Debian's python3 (no frame pointers)
# starts 5 threads and forks twice, after a pause (its tables load first).
cat > "$OUT/tc.py" <<'PY'
import os, threading, time
time.sleep(0.3)
def spawn_threads():
    ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(5)]
    for t in ts: t.start()
    for t in ts: t.join()
def spawn_processes():
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
spawn_threads()
spawn_processes()
PY
"$BPFPROF" threadcreate -f json -o "$OUT/tc.json" -o "$OUT/tc.folded" -- /usr/bin/python3 "$OUT/tc.py" > /dev/null 2> "$OUT/tc.err"
check "threadcreate: exit 0" eq "$?" 0
check "threadcreate: 5 threads created under pthread_create" \
	eq "$(awk '/pthread_create/ { t += $NF } END { print t + 0 }' "$OUT/tc.folded")" 5
check "threadcreate: ... through Python's own frames (PyThread_start_new_thread), FP-less" \
	eq "$(awk '/PyThread_start_new_thread;pthread_create/ { t += $NF } END { print t + 0 }' "$OUT/tc.folded")" 5
check "threadcreate: 2 processes created, as the processes sample type" python3 -c "
import json
d = json.load(open('$OUT/tc.json'))
pi = [t['type'] for t in d['sample_types']].index('processes')
n = sum(s['values'][pi] for s in d['samples'])
assert n == 2, n"
"$BPFPROF" threadcreate --unwind copy -d 1 > /dev/null 2> "$OUT/tcerr"
check "threadcreate --unwind copy: exit 2" eq "$?" 2
check "threadcreate --unwind copy: one line" one_line "$OUT/tcerr"
# Go: the runtime makes its threads (Ms) in runtime.newm, ending in its own clone.
timeout 60 "$BPFPROF" threadcreate -f folded -o "$OUT/tc-go.folded" -- "$TB/gosleep" > /dev/null 2>&1
check "threadcreate, Go: threads created under runtime.newm;runtime.newm1;runtime.clone" \
	ge "$(awk '/runtime\.newm;runtime\.newm1;runtime\.clone/ { t += $NF } END { print t + 0 }' "$OUT/tc-go.folded")" 1
check "threadcreate, Go: every thread creation is under runtime.newm" \
	eq "$(awk '/runtime\.newm;/ { m += $NF } { t += $NF } END { print (t && m == t) ? "yes" : "no" }' "$OUT/tc-go.folded")" yes
