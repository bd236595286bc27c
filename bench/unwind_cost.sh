# The cost of each unwinding mode side by side (#15): the default (tables
# walked in the kernel) against --unwind fp and --unwind copy, per event, in
# one run. Sourced by bench/run.sh; alone, `bash bench/unwind_cost.sh`
# (after `make`) prints this section and bench/unwind.sh's.
if [ -z "${BPFPROF:-}" ]; then
	set -u
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT" || exit 1
	B=bench/build REPS=${REPS:-5} SECS=${SECS:-4} BPFPROF=$ROOT/build/bpfprof
	mkdir -p "$B"
	CFL="-O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer"
	clang $CFL -o $B/pingpong bench/workloads/pingpong.c
	clang $CFL -o $B/mallocfree bench/workloads/mallocfree.c
	clang $CFL -o $B/rusage bench/rusage.c
	TMP=$(mktemp -d /tmp/bpfprof-bench.XXXXXX)
	RES=$TMP/res.md
	source bench/lib.sh
	UC_ALONE=1
	source bench/unwind.sh # oncpu's modes against perf's DWARF mode
fi
UC_OUT=$TMP/unwind_cost.md
UC_MODES="fp tables copy"
MF_N=${MF_N:-300000}

# offcpu on the pipe ping-pong, the command as the target (both of its
# processes, one CPU: every round trip is two context switches).
uc_switch() {
	local mode=$1 log=$TMP/ucs-$1.log
	if [ "$mode" = none ]; then
		taskset -c 0 $B/pingpong "$SECS" > "$log"
	else
		"$BPFPROF" offcpu --unwind "$mode" -v -o "$TMP/ucs.txt" -- taskset -c 0 $B/pingpong "$SECS" \
			> "$log" 2> "$TMP/ucs.err"
		own_cost "$TMP/ucs.err" >> "$TMP/ucscost-$mode"
		lost_of "$TMP/ucs.txt" >> "$TMP/ucslost-$mode"
	fi
	awk '/ops_per_sec/ { print $2 }' "$log" >> "$TMP/ucsops-$mode"
}
# mallocstacks --alloc-only on malloc(64)+free pairs: one walk per call.
uc_malloc() {
	local mode=$1 log=$TMP/ucm-$1.log
	if [ "$mode" = none ]; then
		$B/mallocfree "$MF_N" > "$log"
	else
		"$BPFPROF" mallocstacks --alloc-only --unwind "$mode" -v -o "$TMP/ucm.txt" -- $B/mallocfree "$MF_N" \
			> "$log" 2> "$TMP/ucm.err"
		own_cost "$TMP/ucm.err" >> "$TMP/ucmcost-$mode"
		lost_of "$TMP/ucm.txt" >> "$TMP/ucmlost-$mode"
	fi
	awk '/ns_per_op/ { print $2 }' "$log" >> "$TMP/ucmns-$mode"
}
# Start to attached (-v), -p on an idle process.
uc_attach() {
	"$BPFPROF" oncpu --unwind "$1" -v -p "$2" -d 0.1 2>&1 >/dev/null |
		awk '/after start/ { gsub(/[()]/, ""); print $(NF - 3) }' >> "$TMP/ucatt-$1"
}

sleep 600 & uc_idle=$!
for r in $(seq 1 "$REPS"); do
	for m in none $UC_MODES; do uc_switch "$m"; uc_malloc "$m"; done
	for m in $UC_MODES; do uc_attach "$m" "$uc_idle"; done
done
kill $uc_idle 2>/dev/null
# Table memory of a system-wide profile: every table -v reports, summed.
"$BPFPROF" oncpu -v -d 3 -o "$TMP/ucsw.txt" 2> "$TMP/ucsw.err"
sw_tables=$(grep -c 'unwind table of' "$TMP/ucsw.err")
sw_kib=$(awk '/unwind table of/ { gsub(/[(]/, "", $(NF - 5)); k += $(NF - 5) } END { print k + 0 }' "$TMP/ucsw.err")
sw_rows=$(awk '/unwind table of/ { r += $(NF - 7) } END { print r + 0 }' "$TMP/ucsw.err")
sw_ms=$(awk '/unwind table of/ { t += $(NF - 1) } END { printf "%.0f", t }' "$TMP/ucsw.err")
sw_procs=$(ls -d /proc/[0-9]* | wc -l)

# added PREFIX MODE: the mode's added cost per event over unprofiled, in us.
sw_base=$(median < "$TMP/ucsops-none")
mf_base=$(median < "$TMP/ucmns-none")
sw_added() { awk -v a="$(median < "$TMP/ucsops-$1")" -v b="$sw_base" 'BEGIN { printf "%.2f", 1e6 / a - 1e6 / b }'; }
mf_added() { awk -v a="$(median < "$TMP/ucmns-$1")" -v b="$mf_base" 'BEGIN { printf "%.3f", (a - b) / 1000 }'; }
{
echo "## Unwinding modes side by side: added cost per event (#15)"
echo
echo "The default (\`tables\`: .eh_frame rows walked in the kernel) against \`--unwind fp\` (the"
echo "kernel's frame-pointer walker) and \`--unwind copy\` (16 KiB of stack copied, unwound in user"
echo "space). Targets built with frame pointers, so every mode walks complete stacks; the ratio is"
echo "the default's added cost over fp's (goal: at most 1.3)."
echo
echo "| workload | unprofiled | fp: added per event (us) | tables (default) | copy | tables / fp |"
echo "|---|---|---|---|---|---|"
echo "| offcpu -- pingpong, one CPU (round trip = 2 switches) | $sw_base round trips/s | $(sw_added fp) | $(sw_added tables) | $(sw_added copy) | $(awk -v t="$(sw_added tables)" -v f="$(sw_added fp)" 'BEGIN { printf "%.2f", (f > 0 ? t / f : 0) }') |"
echo "| mallocstacks --alloc-only -- mallocfree (per malloc) | $mf_base ns/pair | $(mf_added fp) | $(mf_added tables) | $(mf_added copy) | $(awk -v t="$(mf_added tables)" -v f="$(mf_added fp)" 'BEGIN { printf "%.2f", (f > 0 ? t / f : 0) }') |"
echo
echo "| mode | offcpu: bpfprof CPU (s) / RSS (MB) / lost | mallocstacks: CPU (s) / RSS (MB) / lost | start to attached, oncpu -p (ms) |"
echo "|---|---|---|---|"
for m in $UC_MODES; do
	echo "| $m | $(awk '{ print $1 }' "$TMP/ucscost-$m" | median) / $(awk '{ print $2 }' "$TMP/ucscost-$m" | median) / $(median < "$TMP/ucslost-$m") | $(awk '{ print $1 }' "$TMP/ucmcost-$m" | median) / $(awk '{ print $2 }' "$TMP/ucmcost-$m" | median) / $(median < "$TMP/ucmlost-$m") | $(median < "$TMP/ucatt-$m") ($(spread < "$TMP/ucatt-$m")) |"
done
echo
echo "Table memory of a system-wide \`oncpu -d 3\` ($sw_procs processes running): $sw_tables tables,"
echo "$sw_rows rows, $sw_kib KiB of kernel memory, built in $sw_ms ms in all."
echo
} > "$UC_OUT"
cat "$UC_OUT" >> "$RES"
if [ -n "${UC_ALONE:-}" ]; then
	cat "$RES"
	rm -rf "$TMP"
fi
