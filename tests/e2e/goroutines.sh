# goroutines: every goroutine of a Go program now, as Go's own goroutine
# profile counts them. The target parks 20 goroutines for ever in
# main.parkForever, 5 in main.napper (time.Sleep), 3 in main.lockWaiter
# (a mutex main.holdMutex holds), 2 in main.selectWait; on SIGUSR1 it
# writes Go's own goroutine profile and exits 0.
# per_func FOLDED: "function count" for the main.* functions of each stack
per_func() { awk '{ v = $NF; n = split($1, f, ";"); fn = ""; for (i = 1; i <= n; i++) if (f[i] ~ /^main\.[a-zA-Z]+$/ && f[i] != "main.main") fn = f[i]; if (fn != "") c[fn] += v } END { for (k in c) print k, c[k] }' "$1" | sort; }
for build in gogoroutines gogoroutines-s; do
	start_target "$TB/$build" "$OUT/$build-go.pb.gz" 60
	GPID=$TPID
	"$BPFPROF" goroutines -p "$GPID" -o "$OUT/$build.folded" -o "$OUT/$build.pb.gz" -o "$OUT/$build.json" 2> "$OUT/$build.err"
	check "goroutines ($build): exit 0" eq "$?" 0
	"$BPFPROF" goroutines -p "$GPID" > "$OUT/$build.txt" 2>&1
	kill -USR1 "$GPID"
	wait "$GPID"
	check "goroutines ($build): the target's output and exit status unchanged (0, its own profile written)" eq "$?:$(test -s "$OUT/$build-go.pb.gz" && echo written)" "0:written"
	"$BPFPROF" report "$OUT/$build-go.pb.gz" -f folded > "$OUT/$build-go.folded"
	check "goroutines ($build): exactly 20 goroutines parked in main.parkForever;runtime.chanrecv1" eq "$(awk '/main\.parkForever;runtime\.chanrecv1;runtime\.chanrecv;runtime\.gopark / { n += $NF } END { print n + 0 }' "$OUT/$build.folded")" 20
	check "goroutines ($build): per function, the same counts as Go's own goroutine profile" eq "$(per_func "$OUT/$build.folded" | tr '\n' ' ')" "$(per_func "$OUT/$build-go.folded" | tr '\n' ' ')"
	# Stack for stack, inlined frames included (sync.(*Mutex).Lock inlined
	# into main.lockWaiter); the main goroutine is elsewhere when Go writes.
	check "goroutines ($build): every stack and count equal to Go's goroutine profile (but main's)" eq \
		"$(sed 's/^[^;]*;//' "$OUT/$build.folded" | grep -v '^runtime.main;main.main;' | sort | tr '\n' '|')" \
		"$(grep -v '^runtime.main;main.main;' "$OUT/$build-go.folded" | sort | tr '\n' '|')"
	check "goroutines ($build): Go's traceback text: 20 blocks [chan receive] under main.parkForever" eq "$(awk '/^goroutine [0-9]+ \[/ { h = $0 } /^main\.parkForever\(/ && h ~ /\[chan receive\]:$/ { n++ } END { print n + 0 }' "$OUT/$build.txt")" 20
	check "goroutines ($build): file:line and 'created by main.main'" python3 -c "
t = open('$OUT/$build.txt').read()
assert 'gogoroutines/main.go:' in t and 'created by main.main' in t, t[:800]
assert '[sleep]' in t and '[semacquire]' in t and '[select]' in t, t[:800]"
	check "goroutines ($build): JSON labels goid and state" python3 -c "
import json
d = json.load(open('$OUT/$build.json'))
assert d['sample_types'][0]['type'] == 'goroutine', d['sample_types']
st = [s['labels']['state'] for s in d['samples']]
assert st.count('chan receive') >= 21 and all('goid' in s['labels'] for s in d['samples']), st"
	go tool pprof -traces "$OUT/$build.pb.gz" > "$OUT/$build-pprof.txt" 2>&1
	check "goroutines ($build): go tool pprof reads it" contains "$OUT/$build-pprof.txt" "main.parkForever"
done
# Not a Go program, no pid: one line, exit 2.
sleep 30 &
SL=$!
TARGET_PIDS+=("$SL")
"$BPFPROF" goroutines -p "$SL" > /dev/null 2> "$OUT/gr-e1"
check "goroutines of a non-Go process: exit 2, one line" eq "$?:$(wc -l < "$OUT/gr-e1")" "2:1"
check "goroutines of a non-Go process: says so" contains "$OUT/gr-e1" "not a Go program"
"$BPFPROF" goroutines > /dev/null 2> "$OUT/gr-e2"
check "goroutines without -p: exit 2, one line" eq "$?:$(wc -l < "$OUT/gr-e2")" "2:1"
