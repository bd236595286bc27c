# dump: every thread of a process now, without stopping it. The target is
# built as distributions build (no frame pointers): 3 threads in
# pthread_cond_wait, 2 reading an empty pipe, 1 in sleep, a ticker that
# prints a counter every 10 ms, main in pthread_join.
start_target "$TB/waiters"
WPID=$TPID
ticks() { tail -n 1 "$TLOG" | awk '{ print $2 + 0 }'; }
before=$(ticks)
"$BPFPROF" dump -p "$WPID" > "$OUT/dump.txt" 2> "$OUT/dump.err"
check "dump: exit 0" eq "$?" 0
sleep 0.05
check "dump: the target kept running (its counter advanced)" ge "$(( $(ticks) - before ))" 2
check "dump: 8 threads" contains "$OUT/dump.txt" "threads total 8"
# One block per thread: its header line, then frames; the calling function
# of each thread's wait is in its block.
blocks() { awk -v f="$1" '/^thread / { h = $0 } $2 == f { print h }' "$OUT/dump.txt"; }
check "dump: 3 threads under cond_waiter;pthread_cond_wait" eq "$(awk '/^thread / { b = "" } { b = b "\n" $0 } /  cond_waiter$/ && b ~ /pthread_cond_wait/ { n++ } END { print n + 0 }' "$OUT/dump.txt")" 3
check "dump: 2 threads under pipe_reader, in read(fd=3, ...)" eq "$(blocks pipe_reader | grep -c 'syscall=read(fd=3, ')" 2
check "dump: 1 thread under sleepy, in clock_nanosleep" eq "$(blocks sleepy | grep -c 'syscall=clock_nanosleep(')" 1
check "dump: 1 thread under ticker" eq "$(blocks ticker | wc -l)" 1
check "dump: main waits in pthread_join (its own frame under main)" eq "$(awk '/^thread / { b = "" } { b = b "\n" $0 } / main$/ && b ~ /pthread_clockjoin|pthread_join/ { n++ } END { print n + 0 }' "$OUT/dump.txt")" 1
check "dump: every thread in state S" eq "$(grep -c '^thread .* state=S ' "$OUT/dump.txt")" 8
check "dump: kernel frames first ([k]), down to the system call entry" contains "$OUT/dump.txt" "entry_SYSCALL_64_after_hwframe [k]"
check "dump: each user stack ends in the thread's start (clone3 / _start)" eq "$(awk '/^thread / { if (last != "") print last; last = "" } /^  #/ { last = $2 } END { print last }' "$OUT/dump.txt" | grep -cx 'clone3\|_start')" 8
# folded and pprof: threads counted per distinct stack.
"$BPFPROF" dump -p "$WPID" -f folded -o "$OUT/dump.folded" -o "$OUT/dump.pb.gz" 2> "$OUT/dump2.err"
check "dump -f folded: 3 threads on the cond_waiter stack, on one line" eq "$(awk '/;cond_waiter;pthread_cond_wait;/ { print $NF }' "$OUT/dump.folded")" 3
check "dump -f folded: 8 in all" eq "$(total "$OUT/dump.folded")" 8
go tool pprof -traces "$OUT/dump.pb.gz" > "$OUT/dump-pprof.txt" 2>&1
check "dump -o pprof: go tool pprof reads it (threads/count, cond_waiter)" python3 -c "
t = open('$OUT/dump-pprof.txt').read()
assert 'threads' in t and 'cond_waiter' in t, t[:500]"
# A hang is the same stack with a growing wait: two snapshots 0.3 s apart.
"$BPFPROF" dump -p "$WPID" -i 0.3 -n 2 -f json -o "$OUT/dump-%n.json" 2> "$OUT/dump3.err"
check "dump -i 0.3 -n 2: exit 0" eq "$?" 0
check "dump -i: sleepy's off-CPU time grew by ~0.3 s between snapshots" python3 -c "
import json
def wait(f):
    d = json.load(open(f))
    names = [fr['function'] for fr in d['frames']]
    for s in d['samples']:
        if any(names[i] == 'sleepy' for i in s['stack']):
            return s['labels']['offcpu_ns']
a, b = wait('$OUT/dump-0.json'), wait('$OUT/dump-1.json')
assert a > 50e6 and 0.2e9 < b - a < 0.6e9, (a, b)"
kill "$WPID"
# Debian's own python3 (no frame pointers): the interpreter's frames down to main.
/usr/bin/python3 -c "import time; print('ready', flush=True); time.sleep(100)" > "$OUT/py.log" 2>&1 &
PY=$!
TARGET_PIDS+=("$PY")
for _ in $(seq 1 100); do grep -q ready "$OUT/py.log" && break; sleep 0.05; done
sleep 0.1
"$BPFPROF" dump -p "$PY" > "$OUT/dump-py.txt" 2>&1
check "dump, Debian python3 (stripped, no frame pointers): the eval loop down to _start" python3 -c "
t = open('$OUT/dump-py.txt').read()
for f in ('clock_nanosleep', 'PyObject_Vectorcall', '_PyEval_EvalFrameDefault', 'Py_BytesMain', '_start'):
    assert f in t, f"
kill "$PY"
# Threads that come and go while dumped: never a failure.
cat > "$OUT/churn.py" <<'PY'
import threading, time
print("ready", flush=True)
while True:
    ts = [threading.Thread(target=time.sleep, args=(0.001,)) for _ in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
PY
/usr/bin/python3 "$OUT/churn.py" > "$OUT/churn.log" 2>&1 &
CH=$!
TARGET_PIDS+=("$CH")
for _ in $(seq 1 100); do grep -q ready "$OUT/churn.log" && break; sleep 0.05; done
bad=0
for i in 1 2 3 4 5 6 7 8; do
	"$BPFPROF" dump -p "$CH" > "$OUT/churn.txt" 2> "$OUT/churn.err" || bad=$((bad + 1))
	grep -q '^thread ' "$OUT/churn.txt" || bad=$((bad + 1))
done
check "dump: threads exiting during the dump: 8 dumps, each exit 0 with threads" eq "$bad" 0
kill "$CH"
# Errors and odd targets: one line and a documented status.
"$BPFPROF" dump -p 999999 > /dev/null 2> "$OUT/e1"
check "dump -p (no such pid): exit 2" eq "$?" 2
check "dump -p (no such pid): one line" one_line "$OUT/e1"
"$BPFPROF" dump > /dev/null 2> "$OUT/e2"
check "dump without -p: exit 2" eq "$?" 2
check "dump without -p: one line" one_line "$OUT/e2"
"$BPFPROF" dump -p 2 > "$OUT/kthread.txt" 2> "$OUT/e3"
check "dump of a kernel thread: exit 0, kernel stack only, said" eq "$?:$(grep -c '\[kernel thread\]' "$OUT/kthread.txt"):$(grep -c 'kernel thread' "$OUT/e3")" "0:1:1"
/usr/bin/python3 -c "
import os, time
pid = os.fork()
if pid == 0: os._exit(0)
print('ready', pid, flush=True)
time.sleep(30)" > "$OUT/zombie.log" 2>&1 &
TARGET_PIDS+=("$!")
for _ in $(seq 1 100); do grep -q ready "$OUT/zombie.log" && break; sleep 0.05; done
ZPID=$(awk '{ print $2 }' "$OUT/zombie.log")
"$BPFPROF" dump -p "$ZPID" > "$OUT/zombie.txt" 2> "$OUT/e4"
check "dump of a zombie: exit 0, state Z, said on stderr" eq "$?:$(grep -c 'state=Z' "$OUT/zombie.txt"):$(grep -c zombie "$OUT/e4")" "0:1:1"
