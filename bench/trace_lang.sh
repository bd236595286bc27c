# trace's language (#19) against bpftrace: start-up and peak RSS of a
# 30-line script with printf, variables and conditionals; the added cost per
# event of a printf-heavy one-liner (dd copying 1-byte blocks: one write
# tracepoint hit per byte), each tool and a run without tracing side by side
# in one run. Sourced by bench/run.sh; alone, `bash bench/trace_lang.sh`
# (after `make`) prints the section.
if [ -z "${BPFPROF:-}" ]; then
	set -u
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT" || exit 1
	B=bench/build REPS=${REPS:-5} BPFPROF=$ROOT/build/bpfprof
	mkdir -p "$B"
	TMP=$(mktemp -d /tmp/bpfprof-bench.XXXXXX)
	RES=$TMP/res.md
	source bench/lib.sh
	[ -x $B/rusage ] || clang -O2 -o $B/rusage bench/rusage.c
	TL_ALONE=1
fi
TL_OUT=$TMP/trace_lang.md
mount | grep -q ' /sys/kernel/tracing ' || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
# The script: a header, per-syscall bookkeeping, a summary every 100 ms,
# exit at the third.
cat > "$TMP/tl30.bt" <<'BT'
#define BIG 4096
BEGIN
{
	printf("%-8s %-16s %8s %s\n", "PID", "COMM", "BYTES", "KIND");
	@ticks = 0;
}
tracepoint:syscalls:sys_enter_write
/pid != 0/
{
	$n = args->count;
	if ($n >= BIG) {
		@big[comm] = count();
		$kind = "big";
	} else if ($n > 0) {
		@small[comm] = count();
		$kind = "small";
	} else {
		$kind = "empty";
	}
	@bytes = hist($n);
	@last[pid] = (comm, $n, $kind);
}
tracepoint:syscalls:sys_exit_write
/args->ret < 0/
{
	@errors[comm, args->ret] = count();
}
interval:ms:100
{
	@ticks++;
	printf("tick %d: %d processes wrote\n", @ticks, @ticks * 0);
	if (@ticks >= 3) { clear(@last); exit(); }
}
BT
: > "$TMP/tl-start-bpfprof"; : > "$TMP/tl-start-bpftrace"
for _ in $(seq 1 "$REPS"); do
	RUSAGE_OUT=$TMP/tl-start-bpfprof $B/rusage "$BPFPROF" trace "$TMP/tl30.bt" > /dev/null 2>&1
	have bpftrace && RUSAGE_OUT=$TMP/tl-start-bpftrace $B/rusage bpftrace "$TMP/tl30.bt" > /dev/null 2>&1
done
# Per event: dd writing N one-byte blocks to /dev/null, traced with a
# printf of two fields and comm per write.
N=200000
ONE='tracepoint:syscalls:sys_enter_write /comm == "dd"/ { printf("%d %d %s\n", args->fd, args->count, comm); }'
: > "$TMP/tl-ev-none"; : > "$TMP/tl-ev-bpfprof"; : > "$TMP/tl-ev-bpftrace"
for _ in $(seq 1 "$REPS"); do
	for tool in none bpfprof bpftrace; do
		case $tool in
		none) cmd=(dd if=/dev/zero of=/dev/null bs=1 count=$N) ;;
		bpfprof) cmd=("$BPFPROF" trace -q -c "/usr/bin/dd if=/dev/zero of=/dev/null bs=1 count=$N" "$ONE") ;;
		bpftrace) have bpftrace || continue
			  cmd=(bpftrace -c "/usr/bin/dd if=/dev/zero of=/dev/null bs=1 count=$N" -e "$ONE") ;;
		esac
		# dd's own wall time (its "copied" line), with the tracer attached
		"${cmd[@]}" > "$TMP/tl-ev.out" 2> "$TMP/tl-ev.err"
		awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,$/) print $(i - 1) }' "$TMP/tl-ev.err" "$TMP/tl-ev.out" | head -1 >> "$TMP/tl-ev-$tool"
		[ "$tool" = none ] || grep -c '^1 1 dd$' "$TMP/tl-ev.out" >> "$TMP/tl-lines-$tool"
	done
done
{
	echo "## trace: bpftrace's language against bpftrace 0.17 (median of $REPS)"
	echo
	echo "A 30-line script (printf, variables, if/else, a tuple-valued map, hist, an"
	echo "interval block that exits at its third run: ~0.3 s of tracing), whole run and peak RSS:"
	echo
	echo "| tool | whole run (s, wall) | ratio to bpftrace | peak RSS (MB) | ratio to bpftrace |"
	echo "|---|---|---|---|---|"
	bw=$(awk '{ print $1 }' "$TMP/tl-start-bpftrace" | median); br=$(awk '{ print $4 / 1024 }' "$TMP/tl-start-bpftrace" | median)
	for tool in bpfprof bpftrace; do
		[ -s "$TMP/tl-start-$tool" ] || continue
		w=$(awk '{ print $1 }' "$TMP/tl-start-$tool" | median); r=$(awk '{ printf "%.1f\n", $4 / 1024 }' "$TMP/tl-start-$tool" | median)
		echo "| $tool | $w ($(awk '{ print $1 }' "$TMP/tl-start-$tool" | spread)) | $(awk -v a="$w" -v b="$bw" 'BEGIN { if (b + 0) printf "1/%.1f", b / a; else print "n/a" }') | $r | $(awk -v a="$r" -v b="$br" 'BEGIN { if (b + 0) printf "1/%.1f", b / a; else print "n/a" }') |"
	done
	echo
	echo "Per event: \`$ONE\` on dd copying $N one-byte blocks (one hit per write):"
	echo
	echo "| tool | dd's time (s) | added per event | printf lines out of $N |"
	echo "|---|---:|---:|---:|"
	base=$(median < "$TMP/tl-ev-none")
	for tool in none bpfprof bpftrace; do
		[ -s "$TMP/tl-ev-$tool" ] || continue
		t=$(median < "$TMP/tl-ev-$tool")
		echo "| $tool | $t | $(awk -v t="$t" -v b="$base" -v n=$N 'BEGIN { if (t + 0 && b + 0) printf "%.2f us", (t - b) * 1e6 / n; else print "n/a" }') | $([ "$tool" = none ] && echo - || median < "$TMP/tl-lines-$tool") |"
	done
	echo
	echo "The added time per event is the tracepoint's and the program's cost on the writing"
	echo "thread (and the printing process competing for the two CPUs); lines short of $N were"
	echo "lost to a full ring (bpfprof counts them) or perf buffer (bpftrace says 'Lost')."
	echo
} > "$TL_OUT"
if [ -n "${TL_ALONE:-}" ]; then
	cat "$TL_OUT"
else
	cat "$TL_OUT" >> "$RES"
fi
