# The sanitizer pass (sourced by tests/run.sh with BPFPROF = the ASan+UBSan
# build): short runs of every command through the paths that parse, unwind,
# aggregate and render. A sanitizer report exits non-zero (ASAN_OPTIONS /
# UBSAN_OPTIONS exitcode), which each check below sees.

# asan_run NAME ARGS...: the command exits 0 (or CMD's status) with no report.
asan_run() {
	local name=$1; shift
	"$@" > "$OUT/asan.out" 2> "$OUT/asan.err"
	local rc=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$OUT/asan.err"; then
		fail "asan: $name" "$(grep -m1 -A12 -E 'ERROR: |runtime error:' "$OUT/asan.err")"
	elif [ "$rc" -ne 0 ]; then
		fail "asan: $name" "exit $rc: $(head -5 "$OUT/asan.err")"
	else
		pass "asan: $name"
	fi
}
# asan_reject NAME ARGS...: bad input, exit 2, no sanitizer report.
asan_reject() {
	local name=$1; shift
	"$@" > /dev/null 2> "$OUT/asan.err"
	local rc=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$OUT/asan.err"; then
		fail "asan: $name" "$(grep -m1 -A12 -E 'ERROR: |runtime error:' "$OUT/asan.err")"
	else
		check "asan: $name: exit 2" eq "$rc" 2
	fi
}

F=$OUT/asan
mkdir -p "$F"
asan_run "oncpu -- CMD, six formats" "$BPFPROF" oncpu -o "$F/c.pb.gz" -o "$F/c.folded" -o "$F/c.txt" \
	-o "$F/c.svg" -o "$F/c.json" -o "$F/c.dot" -- "$TB/hot" 1 single
asan_run "oncpu --unwind dwarf" "$BPFPROF" oncpu --unwind dwarf -o "$F/d.folded" -- "$TB/nofp" chain 1
asan_run "oncpu --unwind tables" "$BPFPROF" oncpu --unwind tables -o "$F/kt.folded" -- "$TB/nofp" chain 1
asan_run "offcpu --unwind tables" "$BPFPROF" offcpu --unwind tables -o "$F/okt.folded" -- "$TB/nofp" sleep 5
asan_run "lockwait --unwind tables" "$BPFPROF" lockwait --unwind tables -o "$F/lkt.folded" -- "$TB/locks" mutex 1
asan_run "mallocstacks --unwind tables" "$BPFPROF" mallocstacks --unwind tables -o "$F/mkt.folded" -- "$TB/nofp" alloc 300
asan_run "oncpu, an idle target: empty profile" "$BPFPROF" oncpu -- sleep 0.3
asan_run "report of our pprof" "$BPFPROF" report "$F/c.pb.gz" -f json
asan_run "offcpu" "$BPFPROF" offcpu -o "$F/o.folded" -- "$TB/sleeper" ratio
asan_run "offcpu --unwind dwarf" "$BPFPROF" offcpu --unwind dwarf -o "$F/od.folded" -- "$TB/nofp" sleep 5
asan_run "offcpu -i" "$BPFPROF" offcpu -i 0.2 -o "$F/oi-%n.folded" -- "$TB/sleeper" ratio
asan_run "lockwait" "$BPFPROF" lockwait -o "$F/l.folded" -- "$TB/locks" contended 1
asan_run "lockwait --unwind dwarf" "$BPFPROF" lockwait --unwind dwarf -o "$F/ld.folded" -- "$TB/locks" mutex 1
asan_run "mallocstacks" "$BPFPROF" mallocstacks -o "$F/m.pb.gz" -- "$TB/heap" leak
asan_run "mallocstacks --unwind dwarf" "$BPFPROF" mallocstacks --unwind dwarf -o "$F/md.folded" -- "$TB/nofp" alloc 100
"$TB/waiters" > "$F/waiters.log" 2>&1 &
W=$!
sleep 0.3
asan_run "dump: traces and json" "$BPFPROF" dump -p "$W" -o "$F/dump.traces" -o "$F/dump.json"
kill "$W"
"$TB/waiters" spinsleep > "$F/spinsleep.log" 2>&1 &
W=$!
sleep 0.2
asan_run "wall -p --per-thread" "$BPFPROF" wall -p "$W" -d 1 --per-thread -o "$F/wall.folded"
kill "$W"
asan_run "stat -f json" "$BPFPROF" stat -f json -o "$F/stat.json" -- "$TB/waiters" busy 2 0.5
asan_run "trace: a map and a histogram" "$BPFPROF" trace -c "$TB/usdt 100" \
	"usdt:$TB/usdt:bpfprof:tick { @[comm] = count(); @h = hist(arg0); @s = stats(arg0); }"
asan_run "trace -f json, ustack key" "$BPFPROF" trace -f json -d 0.3 'profile:hz:99 { @[ustack, kstack] = count(); }'
asan_run "trace: printf, variables, a for loop, a struct" "$BPFPROF" trace -c "$TB/usdt 50" \
	'struct p { long a; }; usdt:'"$TB"'/usdt:bpfprof:tick { $x = arg0 * 2; if ($x > 90) { printf("%d %s\n", $x, comm); } @m[arg0 % 3] = count(); } END { for ($kv : @m) { printf("%d %d\n", $kv.0, $kv.1); } }'
asan_run "timeline -- CMD" "$BPFPROF" timeline -o "$F/tl.json" -- "$TB/alternate" 3
asan_run "timeline -o X.html, every block's stacks, every system call" "$BPFPROF" timeline --min-block-stack 0 \
	--min-syscall 0 -o "$F/tl.html" -- "$TB/alternate" 2
asan_run "report trace.json --from --to -f svg" "$BPFPROF" report "$F/tl.json" --from 10ms --to 0.1 -f svg -o "$F/tlw.svg"
asan_run "timeline of a Go program (goroutine lanes)" "$BPFPROF" timeline -o "$F/tlgo.json" -- "$TB/gohot" 1
asan_reject "trace: a later statement fails" "$BPFPROF" trace 'BEGIN { @a = count(); @b = bogus(); }'
asan_reject "trace: unknown probe" "$BPFPROF" trace 'nosuch:probe { @ = count(); }'
asan_reject "report: not a profile" "$BPFPROF" report /etc/passwd
