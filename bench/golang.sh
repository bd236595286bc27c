# Go (#16): the added cost per goroutine park/run pair of offcpu's goroutine
# view on a ping-pong over unbuffered channels (GOMAXPROCS=1: every round
# trip is two park/run pairs on one thread), next to offcpu --threads; and
# the time to list 10,000 goroutines. Sourced by bench/run.sh; alone,
# `bash bench/golang.sh` (after `make`) prints the section.
if [ -z "${BPFPROF:-}" ]; then
	set -u
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT" || exit 1
	B=bench/build REPS=${REPS:-5} SECS=${SECS:-4} BPFPROF=$ROOT/build/bpfprof
	mkdir -p "$B"
	TMP=$(mktemp -d /tmp/bpfprof-bench.XXXXXX)
	RES=$TMP/res.md
	source bench/lib.sh
	GL_ALONE=1
fi
GL_OUT=$TMP/golang.md
(cd bench/workloads/goload && GO111MODULE=off GOCACHE=$ROOT/$B/gocache go build -o "$ROOT/$B/goload" main.go)

gl_run() { # gl_run MODE: one ping-pong run; appends round trips/s
	local mode=$1 log=$TMP/gl-$1.log
	# The profiler runs the workload (-- CMD): attached before it starts.
	case $mode in
	none) GOMAXPROCS=1 $B/goload pingpong "$SECS" > "$log" ;;
	goroutines) GOMAXPROCS=1 "$BPFPROF" offcpu -f folded -o /dev/null -- $B/goload pingpong "$SECS" > "$log" 2>/dev/null ;;
	threads) GOMAXPROCS=1 "$BPFPROF" offcpu --threads -f folded -o /dev/null -- $B/goload pingpong "$SECS" > "$log" 2>/dev/null ;;
	esac
	awk '/round_trips_per_sec/ { print $2 }' "$log" >> "$TMP/gl-$mode"
}
for _ in $(seq 1 "$REPS"); do
	for m in none goroutines threads; do gl_run $m; done
done
{
	echo "## Go: goroutine blocking (offcpu's goroutine view), ping-pong over unbuffered channels, GOMAXPROCS=1, ${SECS}s (median of $REPS)"
	echo
	echo "| run | round trips/s | added per park/run pair |"
	echo "|---|---:|---:|"
	base=$(median < "$TMP/gl-none")
	for m in none goroutines threads; do
		r=$(median < "$TMP/gl-$m")
		echo "| $m | $r | $(awk -v r="$r" -v b="$base" 'BEGIN { if (r + 0 && b + 0) printf "%.2f us", (1e6 / r - 1e6 / b) / 2; else print "n/a" }') |"
	done
	echo
	echo "Each round trip is two park/run pairs (two uprobe hits each: runtime.gopark and"
	echo "runtime.execute). The issue's goal is under 1 us per pair; a uprobe hit costs about"
	echo "0.7 us on bare metal and several on this VM (see the uprobe floor above), so the pair"
	echo "costs two hits plus the map work."
	echo
	$B/goload many 10000 > "$TMP/many.log" 2>&1 &
	w=$!
	while ! grep -q ready "$TMP/many.log" 2>/dev/null; do sleep 0.05; done
	: > "$TMP/gsnap"
	for _ in $(seq 1 "$REPS"); do
		"$BPFPROF" goroutines -v -p "$w" -f folded -o /dev/null 2>&1 | awk '/goroutines shown in/ { print $(NF - 1) }' >> "$TMP/gsnap"
	done
	kill "$w"; wait "$w" 2>/dev/null
	echo "## Go: listing 10,000 goroutines (\`goroutines -p\`, median of $REPS)"
	echo
	echo "| goroutines | snapshot (read, walk, symbolize) |"
	echo "|---:|---:|"
	echo "| 10000 | $(median < "$TMP/gsnap") ms |"
	echo
} > "$GL_OUT"
if [ -n "${GL_ALONE:-}" ]; then
	cat "$GL_OUT"
else
	cat "$GL_OUT" >> "$RES"
fi
