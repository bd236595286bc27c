# timeline (#21): the target's slowdown on the pipe ping-pong (every round
# trip is two switches and two wake-ups, all recorded), events recorded per
# second and lost, and bytes per million events (ring and JSON), next to
# `perf sched record` on the same workload in the same run. Sourced by
# bench/run.sh; alone, `bash bench/timeline.sh` (after `make`) prints it.
if [ -z "${BPFPROF:-}" ]; then
	set -u
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT" || exit 1
	B=bench/build REPS=${REPS:-3} SECS=${SECS:-3} BPFPROF=$ROOT/build/bpfprof
	mkdir -p "$B"
	TMP=$(mktemp -d /tmp/bpfprof-bench.XXXXXX)
	RES=$TMP/res.md
	source bench/lib.sh
	[ -x $B/pingpong ] || clang -O2 -o $B/pingpong bench/workloads/pingpong.c
	TLB_ALONE=1
fi
TLB_OUT=$TMP/timeline.md
: > "$TMP/tlb-none"; : > "$TMP/tlb-bpfprof"; : > "$TMP/tlb-lean"; : > "$TMP/tlb-perf"; : > "$TMP/tlb-events"; : > "$TMP/tlb-lost"; : > "$TMP/tlb-bytes"
for _ in $(seq 1 "$REPS"); do
	taskset -c 0 $B/pingpong "$SECS" | awk '/ops_per_sec/ { print $2 }' >> "$TMP/tlb-none"
	"$BPFPROF" timeline -o "$TMP/tlb.json" -- taskset -c 0 $B/pingpong "$SECS" > "$TMP/tlb.out" 2> "$TMP/tlb.err"
	awk '/ops_per_sec/ { print $2 }' "$TMP/tlb.out" >> "$TMP/tlb-bpfprof"
	"$BPFPROF" timeline --min-block-stack 0 -o "$TMP/tlb-lean.json" -- taskset -c 0 $B/pingpong "$SECS" 2> /dev/null |
		awk '/ops_per_sec/ { print $2 }' >> "$TMP/tlb-lean"
	python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['otherData']; print(d['events'], d['lost'])" "$TMP/tlb.json" > "$TMP/tlb.n"
	awk -v s="$SECS" '{ print $1 / s }' "$TMP/tlb.n" >> "$TMP/tlb-events"
	awk '{ print $2 }' "$TMP/tlb.n" >> "$TMP/tlb-lost"
	awk -v b="$(stat -c %s "$TMP/tlb.json")" '{ if ($1) print b / $1 * 1e6 }' "$TMP/tlb.n" >> "$TMP/tlb-bytes"
	if have perf; then
		(cd "$TMP" && perf sched record -q -o "$TMP/perf-sched.data" -- taskset -c 0 "$ROOT/$B/pingpong" "$SECS" 2>/dev/null) |
			awk '/ops_per_sec/ { print $2 }' >> "$TMP/tlb-perf"
		stat -c %s "$TMP/perf-sched.data" >> "$TMP/tlb-perfbytes"
	fi
done
{
	base=$(median < "$TMP/tlb-none")
	echo "## timeline: the pipe ping-pong on one CPU, ${SECS}s, recorded (median of $REPS)"
	echo
	echo "| recorder | round trips/s | vs unrecorded | added per round trip |"
	echo "|---|---:|---:|---:|"
	for t in none bpfprof lean perf; do
		[ -s "$TMP/tlb-$t" ] || continue
		m=$(median < "$TMP/tlb-$t")
		name=$t; [ $t = none ] && name="unrecorded"; [ $t = bpfprof ] && name="bpfprof timeline (default: stacks for blocks of 1 ms and more, system calls of 1 ms and more, 99 Hz samples)"; [ $t = lean ] && name="bpfprof timeline --min-block-stack 0 (every block's stacks, walked at the switch)"; [ $t = perf ] && name="perf sched record"
		echo "| $name | $m | $(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.0f%%", 100 * m / b }') | $(awk -v m="$m" -v b="$base" 'BEGIN { if (m + 0 && b + 0) printf "%.2f us", 1e6 / m - 1e6 / b; else print "n/a" }') |"
	done
	echo
	echo "bpfprof timeline recorded $(median < "$TMP/tlb-events") events/s ($(median < "$TMP/tlb-lost") lost) into"
	echo "$(median < "$TMP/tlb-bytes" | awk '{ printf "%.0f", $1 / 1e6 }') MB of JSON per million events (64 bytes each in the ring, 80 for a system call);"
	[ -s "$TMP/tlb-perfbytes" ] && echo "perf sched record's file: $(median < "$TMP/tlb-perfbytes" | awk '{ printf "%.1f", $1 / 1e6 }') MB for the same run."
	echo
} > "$TLB_OUT"
if [ -n "${TLB_ALONE:-}" ]; then
	cat "$TLB_OUT"
else
	cat "$TLB_OUT" >> "$RES"
fi
