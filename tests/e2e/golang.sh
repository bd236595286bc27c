# Go programs as Go's own profilers see them: goroutine blocking (offcpu)
# and sync.Mutex delay (lockwait), against the block profile the program
# writes itself in the same run. 40 goroutines wait ~1 s on a channel in
# main.barChanWait, twice (~80 s); 4 goroutines wait for a mutex in
# main.mutexWait (~1.5 s).
# under FOLDED FUNC: the value of the stacks through FUNC
under() { awk -v f="$2" '{ v = $NF; if (index(";" $0, ";" f ";") || index(";" $0, ";" f " ")) s += v } END { print s + 0 }' "$1"; }
near() { awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN { if (b > 0 && a >= b * (1 - tol) && a <= b * (1 + tol)) exit 0; print a " vs " b " (+-" tol * 100 "%)"; exit 1 }'; }
"$BPFPROF" offcpu -f json -o "$OUT/gw.json" -o "$OUT/gw.folded" -- "$TB/goblock" "$OUT/gw" > "$OUT/gw.out" 2> "$OUT/gw.err"
check "offcpu -- Go program: its exit status and output unchanged" eq "$?:$(cat "$OUT/gw.out")" "0:done"
"$BPFPROF" report "$OUT/gw-block.pb.gz" -f folded --sample-index delay > "$OUT/gw-go-block.folded"
check "offcpu, Go: goroutine blocking under main.barChanWait within 20% of Go's block profile" \
	near "$(under "$OUT/gw.folded" main.barChanWait)" "$(under "$OUT/gw-go-block.folded" main.barChanWait)" 0.2
check "offcpu, Go: ... and it is ~80 goroutine-seconds (40 x 1 s, twice)" between "$(under "$OUT/gw.folded" main.barChanWait)" 70e9 90e9
check "offcpu, Go: labelled with Go's wait reason (chan receive, semacquire)" python3 -c "
import json
d = json.load(open('$OUT/gw.json'))
names = [f['function'] for f in d['frames']]
st = {s['labels']['state'] for s in d['samples'] if any(names[i] == 'main.barChanWait' for i in s['stack'])}
assert st == {'chan receive'}, st
st = {s['labels']['state'] for s in d['samples'] if any(names[i] == 'main.mutexWait' for i in s['stack'])}
assert 'semacquire' in st, st"
check "offcpu, Go: the runtime's own goroutines left out (no runtime.bgsweep)" bash -c "test -s '$OUT/gw.folded' && ! grep -q 'runtime.bgsweep' '$OUT/gw.folded'"
"$BPFPROF" offcpu --threads -f folded -o "$OUT/gw-threads.folded" -- "$TB/goblock" "$OUT/gwt" > /dev/null 2>&1
check "offcpu --threads, Go: the thread view (the blocked goroutines' 80 s are not there)" \
	bash -c "test -s '$OUT/gw-threads.folded' && [ \"\$(awk '/main.barChanWait/ { s += \$NF } END { print s + 0 }' '$OUT/gw-threads.folded')\" -lt 10000000000 ]"
"$BPFPROF" lockwait -f folded -o "$OUT/gw-lock.folded" -- "$TB/goblock" "$OUT/gwl" > /dev/null 2> "$OUT/gw-lock.err"
"$BPFPROF" report "$OUT/gwl-block.pb.gz" -f folded --sample-index delay > "$OUT/gwl-go-block.folded"
check "lockwait, Go: sync.Mutex delay under main.mutexWait within 25% of Go's block profile's sync.(*Mutex).Lock" \
	near "$(under "$OUT/gw-lock.folded" main.mutexWait)" "$(awk '/main.mutexWait;sync.\(\*Mutex\).Lock/ { s += $NF } END { print s + 0 }' "$OUT/gwl-go-block.folded")" 0.25
check "lockwait, Go: the waiter's stack through Lock (inlined) and lockSlow" contains "$OUT/gw-lock.folded" "main.mutexWait;sync.(*Mutex).Lock;sync.(*Mutex).lockSlow;sync.runtime_SemacquireMutex"
# Heap: mallocstacks on a Go process reports Go's heap profile, from the
# runtime's own buckets (no allocator probe). The target keeps 64 MiB live
# from main.keepLive, writes its own heap profile, then waits (HOLD).
HOLD=1 "$TB/goblock" "$OUT/gh" > "$OUT/gh.log" 2>&1 &
GH=$!
TARGET_PIDS+=("$GH")
for _ in $(seq 1 150); do grep -q done "$OUT/gh.log" && break; sleep 0.1; done
"$BPFPROF" mallocstacks -p "$GH" -d 0.3 -f json -o "$OUT/gh.json" -o "$OUT/gh.folded" 2> "$OUT/gh.err"
check "mallocstacks -p Go: exit 0" eq "$?" 0
kill -USR1 "$GH"
"$BPFPROF" report "$OUT/gh-heap.pb.gz" -f folded --sample-index inuse_space > "$OUT/gh-go.folded"
check "mallocstacks, Go: inuse_space under main.keepLive within 10% of Go's heap profile" \
	near "$(under "$OUT/gh.folded" main.keepLive)" "$(under "$OUT/gh-go.folded" main.keepLive)" 0.1
check "mallocstacks, Go: ... about 64 MiB (Go samples one allocation per 512 KiB and scales)" between "$(under "$OUT/gh.folded" main.keepLive)" 40e6 95e6
check "mallocstacks, Go: the four values of Go's heap profile" python3 -c "
import json
d = json.load(open('$OUT/gh.json'))
types = [t['type'] for t in d['sample_types']]
assert types == ['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'], types
assert d['default_sample_type'] == 'inuse_space', d['default_sample_type']"
# Goroutine creation: threadcreate counts `go` statements (runtime.newproc)
# by the creating stack: 20 + 2 x 40 + 1 + 4 = 105 from main.main.
"$BPFPROF" threadcreate -f json -o "$OUT/gtc.json" -o "$OUT/gtc.folded" --sample-index goroutines -- "$TB/goblock" "$OUT/gtc" > /dev/null 2>&1
check "threadcreate, Go: 105 goroutines created by main.main" eq "$(awk '/;main\.main;runtime\.newproc / { n += $NF } END { print n + 0 }' "$OUT/gtc.folded")" 105
check "threadcreate, Go: label created=goroutine" python3 -c "
import json
d = json.load(open('$OUT/gtc.json'))
assert any(s['labels'].get('created') == 'goroutine' for s in d['samples']), d['samples'][:2]"
# pprof labels (pprof.Do): oncpu and offcpu samples of a Go program carry
# its goroutines' labels.
"$BPFPROF" oncpu -f json -o "$OUT/glab.json" -- "$TB/golabels" 2.5 > /dev/null 2>&1
check "oncpu, Go: pprof labels on samples (worker=alpha on burnAlpha, beta on burnBeta)" python3 -c "
import json
d = json.load(open('$OUT/glab.json'))
names = [f['function'] for f in d['frames']]
by = {}
for s in d['samples']:
    fn = [names[i] for i in s['stack'] if names[i] in ('main.burnAlpha', 'main.burnBeta')]
    if fn:
        by.setdefault(fn[0], {}).setdefault(s['labels'].get('worker'), 0)
        by[fn[0]][s['labels'].get('worker')] += s['values'][0]
assert by['main.burnAlpha'].get('alpha', 0) >= 0.95 * sum(by['main.burnAlpha'].values()), by
assert by['main.burnBeta'].get('beta', 0) >= 0.95 * sum(by['main.burnBeta'].values()), by"
"$BPFPROF" offcpu -f json -o "$OUT/glabo.json" -- "$TB/golabels" 2.5 > /dev/null 2>&1
check "offcpu, Go: pprof labels on goroutine waits (request=slow on waitSlow)" python3 -c "
import json
d = json.load(open('$OUT/glabo.json'))
names = [f['function'] for f in d['frames']]
v = [s['labels'].get('request') for s in d['samples'] if any(names[i] == 'main.waitSlow' for i in s['stack'])]
assert v and all(x == 'slow' for x in v), v"
