# Helpers for end-to-end tests; sourced by tests/run.sh for each tests/e2e/*.sh.
# A check prints "ok - NAME" or "not ok - NAME: why"; run.sh counts them.

BPFPROF=${BPFPROF:-$ROOT/build/bpfprof}
TB=$ROOT/tests/build
OUT=${OUT:-$(mktemp -d /tmp/bpfprof-test.XXXXXX)}
TARGET_PIDS=()

pass() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; }

# check NAME CONDITION-COMMAND... ; the why is the command's own output.
check() {
	local name=$1; shift
	local why
	if why=$("$@" 2>&1); then pass "$name"; else fail "$name" "${why:-$*}"; fi
}

# Float comparisons: ge A B, between X LO HI.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 >= b + 0) exit 0; print a " < " b; exit 1 }'; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { if (x + 0 >= lo + 0 && x + 0 <= hi + 0) exit 0; print x " not in [" lo ", " hi "]"; exit 1 }'; }
eq() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'"; return 1; }; }
contains() { grep -qF -- "$2" "$1" || { echo "no '$2' in $1:"; head -c 600 "$1"; return 1; }; }
lacks() { ! grep -qF -- "$2" "$1" || { echo "'$2' found in $1"; return 1; }; }
one_line() { [ "$(wc -l < "$1")" -eq 1 ] || { echo "expected one line on stderr, got:"; cat "$1"; return 1; }; }

# Starts a target in the background; waits for its "ready" line; sets TPID.
start_target() {
	local log
	log=$(mktemp "$OUT/target.XXXXXX")
	TLOG=$log # the target's output, for tests that read more of it
	"$@" > "$log" 2>&1 &
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for _ in $(seq 1 100); do
		grep -q '^ready' "$log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "target $* did not start" >&2
	return 1
}

# wait_attached ERRFILE: waits (10 s at most) until a profiler run with -v
# has written "attached" to ERRFILE. go_when_attached ERRFILE PID then lets a
# target started with WAIT_FOR_GO=1 go on (SIGUSR1). Attaching can take a few
# hundred ms on a loaded machine; a test that slept a fixed time lost blocks.
wait_attached() {
	for _ in $(seq 1 200); do
		grep -q 'attached in' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "profiler did not attach: $(tail -n 3 "$1")" >&2
	return 1
}
go_when_attached() {
	wait_attached "$1"
	kill -USR1 "$2" 2>/dev/null
}

stop_targets() {
	for p in "${TARGET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${TARGET_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	TARGET_PIDS=()
}
trap stop_targets EXIT

# Folded-file measures (percent of the file's total value):
# leaf_share FILE FUNC      samples whose leaf frame is FUNC
# stack_share FILE A;B;C    samples whose stack holds the sequence A;B;C
# total FILE
leaf_share() {
	awk -v f="$2" '{ v = $NF; t += v; sub(/ [0-9]+$/, ""); n = split($0, fr, ";");
		if (fr[n] == f) s += v } END { printf "%.2f\n", t ? 100 * s / t : 0 }' "$1"
}
stack_share() {
	awk -v q="$2" '{ v = $NF; t += v; line = ";" $0 ";"; sub(/ [0-9]+;$/, ";", line);
		if (index(line, ";" q ";")) s += v } END { printf "%.2f\n", t ? 100 * s / t : 0 }' "$1"
}
total() { awk '{ t += $NF } END { print t + 0 }' "$1"; }
