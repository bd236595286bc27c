# trace: bpftrace-style one-liners on the precompiled program, against
# targets with known behaviour, side by side with bpftrace where it helps.
mount | grep -q ' /sys/kernel/tracing ' || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
LIBC=$(ldd "$TB/heap" | awk '/libc.so/ { print $3 }')

# profile: where a known hot function is.
start_target "$TB/hot" 6 single
# -p: only that process's events, whatever the probe.
"$BPFPROF" trace -p "$TPID" 'profile:hz:99 { @[pid] = count(); }' -d 1 > "$OUT/tr_pid.txt" 2>&1
check "trace -p: only the target's samples" eq "$(grep -c '^@\[' "$OUT/tr_pid.txt")" 1
check "trace -p: it is the target" grep -q "^@\[$TPID\]: " "$OUT/tr_pid.txt"
# A probe list: two probes, one block; probe and func keys.
"$BPFPROF" trace -c "$TB/usdt 10" "usdt:$TB/usdt:bpfprof:tick,uprobe:$TB/usdt:tick { @[probe] = count(); @f[func] = count(); }" > "$OUT/tr_list.txt" 2>&1
check "trace probe list: each probe counted (10 + 10)" eq "$(grep -c '^@\[.*tick\]: 10$' "$OUT/tr_list.txt")" 2
check "trace func key: the probed function" grep -q '^@f\[tick\]: 20$' "$OUT/tr_list.txt"
"$BPFPROF" trace "profile:hz:99 /pid == $TPID/ { @[ustack] = count(); }" -d 1.5 > "$OUT/tr_prof.txt" 2>&1
check "trace profile: exit 0" eq "$?" 0
check "trace profile: bpftrace's header" eq "$(head -1 "$OUT/tr_prof.txt")" "Attaching 1 probe..."
check "trace profile: stacks printed as bpftrace does (frame+offset)" grep -qE '^    hot_spin\+[0-9]+$' "$OUT/tr_prof.txt"
check "trace profile: ~99 Hz for 1.5 s (110-190 samples)" between \
	"$(awk -F': ' '/^\]: / { t += $2 } END { print t + 0 }' "$OUT/tr_prof.txt")" 110 190
# The same map as a profile: folded and pprof.
"$BPFPROF" trace "profile:hz:99 /pid == $TPID/ { @[ustack] = count(); }" -d 1.5 --profile "$OUT/tr_prof.folded" --profile "$OUT/tr_prof.pb.gz" 2>/dev/null
check "trace --profile folded: hot_spin under main;outer_caller;middle_caller (>= 70%)" \
	ge "$(stack_share "$OUT/tr_prof.folded" "main;outer_caller;middle_caller;hot_spin")" 70
check "trace --profile pprof: go tool pprof reads it" sh -c "HOME=$OUT go tool pprof -top '$OUT/tr_prof.pb.gz' | grep -q hot_spin"
stop_targets

# uprobe: an exact number of hits (heap leak: 1000 + 64 mallocs, + stdio's buffer).
"$BPFPROF" trace -c "$TB/heap leak" "uprobe:libc:malloc /comm == \"heap\"/ { @n = count(); @b[ustack(3)] = sum(arg0); }" > "$OUT/tr_up.txt" 2>&1
check "trace uprobe: exact count of malloc calls (1065)" eq "$(awk '/^@n: / { print $2 }' "$OUT/tr_up.txt")" 1065
check "trace uprobe: bytes by stack sum to 1000 x 100 + 64 x 4096 + 4096" \
	eq "$(awk -F': ' '/^\]: / { t += $2 } END { print t }' "$OUT/tr_up.txt")" 366240

# usdt: a probe written into the target's notes fires 1000 times with i = 0..999.
"$BPFPROF" trace -c "$TB/usdt 1000" "usdt:$TB/usdt:bpfprof:tick { @ = count(); @s = sum(arg0); @h = lhist(arg0, 0, 1000, 100); }" > "$OUT/tr_usdt.txt" 2>&1
check "trace usdt: 1000 hits" eq "$(awk '/^@: / { print $2 }' "$OUT/tr_usdt.txt")" 1000
check "trace usdt: argument sum 499500" eq "$(awk '/^@s: / { print $2 }' "$OUT/tr_usdt.txt")" 499500
"$BPFPROF" trace "usdt:$TB/usdt:bpfprof:tick { @ = count(); }" -- "$TB/usdt" 25 > "$OUT/tr_dd.txt" 2>&1
check "trace -- CMD: the command runs once attached (25 hits)" eq "$(awk '/^@: / { print $2 }' "$OUT/tr_dd.txt")" 25
check "trace usdt: lhist has 10 buckets of 100" eq "$(grep -cE '^\[[0-9]+, [0-9]+\) +100 \|' "$OUT/tr_usdt.txt")" 10

# The latency idiom: six 50 ms naps (uprobe + uretprobe, nsecs - @start[tid]).
"$BPFPROF" trace -c "$TB/nofp sleep 6" "uprobe:$TB/nofp:nap { @s[tid] = nsecs; } uretprobe:$TB/nofp:nap /@s[tid]/ { @ns = hist(nsecs - @s[tid]); @st = stats(nsecs - @s[tid]); delete(@s[tid]); }" > "$OUT/tr_lat.txt" 2>&1
check "trace latency: six naps in the [32M, 64M) bucket" grep -qE '^\[32M, 64M\) +6 \|@+\|$' "$OUT/tr_lat.txt"
check "trace latency: stats count 6, average 50-60 ms" \
	between "$(awk '/^@st: count 6, average/ { gsub(",", ""); print $5 }' "$OUT/tr_lat.txt")" 50000000 60000000
check "trace latency: deleted start entries are gone" lacks "$OUT/tr_lat.txt" "@s["

# tracepoint fields and hist: 1000 reads of 1 KiB by dd.
( sleep 0.5; dd if=/dev/zero of=/dev/null bs=1k count=1000 2>/dev/null ) &
"$BPFPROF" trace 'tracepoint:syscalls:sys_exit_read /args->ret > 0 && comm == "dd"/ { @ = hist(args->ret); @c[comm] = count(); }' -d 1.5 > "$OUT/tr_tp.txt" 2>&1
wait
check "trace tracepoint: >= 1000 reads of 1K in [1K, 2K)" \
	ge "$(awk '/^\[1K, 2K\)/ { print $3 }' "$OUT/tr_tp.txt")" 1000
check "trace tracepoint: counted by comm" ge "$(awk -F': ' '/^@c\[dd\]/ { print $2 }' "$OUT/tr_tp.txt")" 1000

# JSON: bpftrace's NDJSON shapes.
"$BPFPROF" trace -f json -c "$TB/usdt 100" "usdt:$TB/usdt:bpfprof:tick { @[comm] = count(); @n = count(); @h = hist(arg0); @s = stats(arg0); @a = avg(arg0); }" > "$OUT/tr.json" 2>/dev/null
check "trace json: shapes as bpftrace's" python3 - "$OUT/tr.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]  # not the target's own output
assert lines[0] == {"type": "attached_probes", "data": {"probes": 1}}, lines[0]
by = {list(l["data"])[0]: l for l in lines[1:]}
assert by["@"]["type"] == "map" and by["@"]["data"]["@"] == {"usdt": 100}, by["@"]
assert by["@n"]["data"]["@n"] == 100
h = by["@h"]
assert h["type"] == "hist" and h["data"]["@h"][0] == {"min": 0, "max": 0, "count": 1}, h
assert sum(b["count"] for b in h["data"]["@h"]) == 100
assert by["@s"]["type"] == "stats" and by["@s"]["data"]["@s"] == {"count": 100, "average": 49, "total": 4950}
assert by["@a"]["data"]["@a"] == 49
PY

# Side by side with bpftrace 0.17 on the same deterministic workloads.
if command -v bpftrace > /dev/null; then
	for prog in "uprobe:$LIBC:malloc /comm == \"heap\" && arg0 < 1000000/ { @n = count(); @h = hist(arg0); @by[comm] = sum(arg0); }" \
		    "usdt:$TB/usdt:bpfprof:tick { @n = count(); @l = lhist(arg0, 0, 500, 50); @m = max(arg0); @mn = min(arg0); }"; do
		case $prog in usdt*) cmd="$TB/usdt 700" ;; *) cmd="$TB/heap cases" ;; esac
		"$BPFPROF" trace -f json -c "$cmd" "$prog" 2>/dev/null | grep '"type": "\(map\|hist\|stats\)"' | sort > "$OUT/tr_ours.json"
		bpftrace -f json -c "$cmd" -e "$prog" 2>/dev/null | grep '"type": "\(map\|hist\|stats\)"' | sort > "$OUT/tr_bt.json"
		check "same as bpftrace: ${prog%% *}" diff "$OUT/tr_ours.json" "$OUT/tr_bt.json"
	done
else
	fail "same as bpftrace" "bpftrace is not installed (make deps installs it)"
fi

# Canonical one-liners from bpftrace's tutorial that fall in the subset.
i=0
for prog in 'tracepoint:syscalls:sys_enter_* { @[probe] = count(); }' \
	    'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }' \
	    'tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }' \
	    'tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }' \
	    'profile:hz:99 { @[kstack] = count(); }' \
	    'tracepoint:sched:sched_switch { @[kstack] = count(); }' \
	    'software:faults:1 { @[comm] = count(); }' \
	    'profile:hz:99 { @[comm] = count(); } interval:ms:200 { print(@); clear(@); }'; do
	i=$((i + 1))
	( sleep 0.2; dd if=/dev/zero of=/dev/null bs=512 count=200 2>/dev/null; ls / > /dev/null ) &
	"$BPFPROF" trace "$prog" -d 0.8 > "$OUT/tr_canon$i.txt" 2> "$OUT/tr_canon$i.err"
	rc=$?
	wait
	check "tutorial one-liner $i: exit 0 and a non-empty map ($prog)" sh -c "[ $rc = 0 ] && grep -q '^@' '$OUT/tr_canon$i.txt'"
done
check "tutorial: the glob attached every sys_enter_* tracepoint (> 100)" \
	ge "$(head -1 "$OUT/tr_canon1.txt" | awk '{ print $2 }')" 100
check "tutorial: interval print ran several times" ge "$(grep -c '^@\[' "$OUT/tr_canon8.txt")" 3

# exit() from a kernel probe ends the run; BEGIN { exit(); } needs no probe at all.
"$BPFPROF" trace -c "$TB/usdt 50" "usdt:$TB/usdt:bpfprof:tick { @ = count(); exit(); }" > "$OUT/tr_exit.txt" 2>&1
check "trace exit(): the run ends at the first hits" between "$(awk '/^@: / { print $2 }' "$OUT/tr_exit.txt")" 1 50
"$BPFPROF" trace 'BEGIN { exit(); }' > "$OUT/tr_begin.txt" 2>&1
check "trace BEGIN { exit(); }: exit 0" eq "$?" 0

# Rejected before attaching: bpftrace-style position, the line and a marker; exit 2.
reject() { # reject NAME PROGRAM EXPECTED-MESSAGE-PART
	"$BPFPROF" trace "$2" -d 1 > /dev/null 2> "$OUT/tr_rej.err"
	local rc=$?
	check "rejects $1: exit 2" eq "$rc" 2
	check "rejects $1: position, line and marker" sh -c "head -1 '$OUT/tr_rej.err' | grep -qE '^stdin:[0-9]+:[0-9]+-[0-9]+: ERROR: ' && [ \$(wc -l < '$OUT/tr_rej.err') -eq 3 ] && sed -n 3p '$OUT/tr_rej.err' | grep -qE '^ *\^~*$'"
	check "rejects $1: says why" grep -qF -- "$3" "$OUT/tr_rej.err"
}
reject "undefined variable" 'profile:hz:99 { @ = sum($x); }' "undefined variable \$x"
reject "printf arguments" 'BEGIN { printf("%d %s\\n", 1); }' "2 conversions but 1 argument"
if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	"$BPFPROF" trace -d 0.5 'kprobe:vfs_read { @ = count(); }' > "$OUT/tr_kp.txt" 2>&1
	check "trace kprobe: attached where the kernel has kprobe events" grep -q '^Attaching 1 probe' "$OUT/tr_kp.txt"
else
	reject kprobe 'kprobe:do_sys_open { @ = count(); }' "kprobe probes are not available on this kernel"
fi
reject kfunc 'kfunc:vfs_read { @ = count(); }' "kfunc probes are not supported by bpfprof trace yet"
reject "map type mismatch" 'BEGIN { @x = count(); @x = "s"; }' "type mismatch for @x"
reject cast 'profile:hz:99 { @ = sum((struct nosuch_type *)curtask); }' "the kernel has no type struct nosuch_type"
reject "string compare" 'profile:hz:99 /pid == "x"/ { @ = count(); }' "strings are compared with == and != only, with strings"
reject "syntax error" 'profile:hz:99 { @ = count( }' "syntax error"
reject "unknown function" 'profile:hz:99 { @ = quantize(pid); }' "unknown function: 'quantize'"
reject "retval outside uretprobe" "uprobe:$LIBC:malloc { @ = sum(retval); }" "retval is available in uretprobe"
reject "args outside tracepoint" 'profile:hz:99 { @ = sum(args->ret); }' "tracepoint blocks only"
reject "unknown field" 'tracepoint:syscalls:sys_exit_read { @ = sum(args->nope); }' "has no field 'nope'"
reject "undefined map" 'profile:hz:99 { print(@x); }' "undefined map: @x"
reject "uretprobe on Go" "uretprobe:$TB/gohot:main.hotLoop { @ = count(); }" "Go"
reject "missing binary" 'uprobe:/nonexistent/bin:f { @ = count(); }' "no such file"
reject "no matching tracepoint" 'tracepoint:nosuch:thing { @ = count(); }' "no tracepoint matches"
reject "pointer dereference" 'profile:hz:99 { @ = sum(*pid); }' "dereference"

# -- CMD: the command's exit status is trace's; a command that cannot run is
# exit 2 with one line.
"$BPFPROF" trace 'profile:hz:99 { @ = count(); }' -- sh -c 'sleep 0.2; exit 3' > /dev/null 2>&1
check "trace -- CMD: exits with the command's status (3)" eq "$?" 3
"$BPFPROF" trace 'profile:hz:99 { @ = count(); }' -- /nonexistent/prog > /dev/null 2> "$OUT/tr_noprog.err"
check "trace -- /nonexistent/prog: exit 2" eq "$?" 2
check "trace -- /nonexistent/prog: says so" contains "$OUT/tr_noprog.err" "cannot run /nonexistent/prog"
"$BPFPROF" trace 'interval:s:5000000000 { exit(); }' -d 0.3 > /dev/null 2> "$OUT/tr_iv.err"
check "trace interval:s:5000000000: rejected, not wrapped (exit 2)" eq "$?" 2
check "trace interval:s:5000000000: says the period is too long" contains "$OUT/tr_iv.err" "too long"

# -p: a uprobe's binary is the target's own, in its mount namespace. There
# hot sits at a path where ours is another program (sleeper, no hot_spin).
ns=$OUT/nsbin; mkdir -p "$ns"; cp "$TB/sleeper" "$ns/prog"
mkdir -p "$OUT/nsdata"; cp "$TB/hot" "$OUT/nsdata/prog"
unshare -m --propagation private sh -c "mount --bind '$OUT/nsdata' '$ns' && exec '$ns/prog' 3 single" > "$OUT/ns.log" 2>&1 &
nspid=$!
TARGET_PIDS+=("$nspid")
for _ in $(seq 50); do grep -q ready "$OUT/ns.log" && break; sleep 0.1; done
"$BPFPROF" trace -p "$nspid" "uprobe:$ns/prog:hot_spin { @ = count(); }" -d 1 > "$OUT/tr_ns.txt" 2>&1
check "trace -p: uprobe on the binary in the target's mount namespace" ge "$(awk '/^@: / { print $2 }' "$OUT/tr_ns.txt")" 5
check "trace -p: the probe is shown at the target's path" lacks "$OUT/tr_ns.txt" "/proc/"
stop_targets
# bpftrace's newer spelling (begin/end), a script file, a script on stdin, -q.
"$BPFPROF" trace -q 'begin { exit(); } end { print(@a); } profile:hz:99 { @a = count(); }' > /dev/null 2> "$OUT/tr-lc.err"
check "trace: lower-case begin/end accepted (bpftrace >= 0.23's spelling)" eq "$?:$(wc -c < "$OUT/tr-lc.err")" "0:0"
printf 'interval:ms:100 { exit(); }\nprofile:hz:99 { @n = count(); }\n' > "$OUT/tr-script.bt"
"$BPFPROF" trace "$OUT/tr-script.bt" > "$OUT/tr-script.out" 2>&1
check "trace SCRIPT.bt: the file's program runs (as bpftrace FILE)" bash -c "grep -q '^Attaching 2 probes' '$OUT/tr-script.out' && grep -q '^@n: [0-9]' '$OUT/tr-script.out'"
"$BPFPROF" trace -q - < "$OUT/tr-script.bt" > "$OUT/tr-stdin.out" 2>&1
check "trace - (stdin), -q: no 'Attaching' line, the map printed" bash -c "! grep -q Attaching '$OUT/tr-stdin.out' && grep -q '^@n: [0-9]' '$OUT/tr-stdin.out'"
