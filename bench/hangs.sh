# dump and stat (#17): the time to dump every thread of a process, next to
# gdb's `thread apply all bt`, and stat's cost on a system-call-heavy command
# next to /usr/bin/time and perf stat. Sourced by bench/run.sh; alone,
# `bash bench/hangs.sh` (after `make` and `make -C tests`) prints the section.
if [ -z "${BPFPROF:-}" ]; then
	set -u
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT" || exit 1
	B=bench/build REPS=${REPS:-5} BPFPROF=$ROOT/build/bpfprof
	mkdir -p "$B"
	TMP=$(mktemp -d /tmp/bpfprof-bench.XXXXXX)
	RES=$TMP/res.md
	source bench/lib.sh
	HG_ALONE=1
fi
HG_OUT=$TMP/hangs.md
WAITERS=$ROOT/tests/build/waiters
[ -x "$WAITERS" ] || make -s -C tests build/waiters >/dev/null

ms_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'; }

{
	echo "## dump: a snapshot of every thread (waiters, threads in pthread_cond_wait; median of $REPS)"
	echo
	echo "| threads | bpfprof dump: snapshot | bpfprof dump: whole run | gdb thread apply all bt | gdb / bpfprof (whole runs) |"
	echo "|---:|---:|---:|---:|---:|"
	for n in 10 100 1000; do
		"$WAITERS" many "$n" > "$TMP/w.log" 2>&1 &
		w=$!
		while ! grep -q ready "$TMP/w.log" 2>/dev/null; do sleep 0.05; done
		: > "$TMP/snap"; : > "$TMP/run"; : > "$TMP/gdb"
		for _ in $(seq 1 "$REPS"); do
			t0=$(date +%s%N)
			"$BPFPROF" dump -v -p "$w" > /dev/null 2> "$TMP/d.err"
			ms_since "$t0" >> "$TMP/run"
			awk '/threads in/ { print $(NF - 4) }' "$TMP/d.err" >> "$TMP/snap"
			if have gdb; then
				t0=$(date +%s%N)
				gdb -p "$w" -batch -ex "thread apply all bt" > /dev/null 2>&1
				ms_since "$t0" >> "$TMP/gdb"
			fi
		done
		kill "$w"; wait "$w" 2>/dev/null
		s=$(median < "$TMP/snap"); r=$(median < "$TMP/run"); g=$(median < "$TMP/gdb")
		echo "| $((n + 1)) | $s ms | $r ms | $g ms | $(awk -v g="$g" -v r="$r" 'BEGIN { if (g + 0 && r + 0) printf "%.1fx", g / r; else print "n/a" }') |"
	done
	echo
	echo "The snapshot is the iterator's read plus reading and unwinding each user stack (\`-v\` prints"
	echo "it); the whole run adds start-up (loading the iterator, reading kernel symbols). gdb stops the"
	echo "process (ptrace) for its whole run; dump does not stop it."
	echo
	echo "## stat: cost on a system-call-heavy command (dd, 1-byte blocks, 1M reads and writes; median of $REPS)"
	echo
	echo "| run | wall | vs alone |"
	echo "|---|---:|---:|"
	DD="dd if=/dev/zero of=/dev/null bs=1 count=1000000"
	: > "$TMP/none"; : > "$TMP/time"; : > "$TMP/perf"; : > "$TMP/bpf"
	for _ in $(seq 1 "$REPS"); do
		t0=$(date +%s%N); $DD 2>/dev/null; ms_since "$t0" >> "$TMP/none"
		t0=$(date +%s%N); /usr/bin/time -o /dev/null $DD 2>/dev/null; ms_since "$t0" >> "$TMP/time"
		if have perf; then
			t0=$(date +%s%N); perf stat -o /dev/null $DD 2>/dev/null; ms_since "$t0" >> "$TMP/perf"
		fi
		t0=$(date +%s%N); "$BPFPROF" stat -o /dev/null -- $DD 2>/dev/null; ms_since "$t0" >> "$TMP/bpf"
	done
	base=$(median < "$TMP/none")
	for k in none time perf bpf; do
		case $k in none) name="dd alone";; time) name="/usr/bin/time";; perf) name="perf stat";; bpf) name="bpfprof stat";; esac
		m=$(median < "$TMP/$k")
		echo "| $name | $m ms | $(awk -v m="$m" -v b="$base" 'BEGIN { if (m + 0 && b + 0) printf "%.2fx", m / b; else print "n/a" }') |"
	done
	echo
	echo "bpfprof stat times every system call (entry and exit programs) and every context switch of"
	echo "the command; /usr/bin/time reads getrusage once, perf stat counts with perf events. The whole"
	echo "run includes each tool's start-up."
	echo
} > "$HG_OUT"
if [ -n "${HG_ALONE:-}" ]; then
	cat "$HG_OUT"
else
	cat "$HG_OUT" >> "$RES"
fi
