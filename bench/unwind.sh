# Sourced by bench/run.sh (needs its B, TMP, RES, REPS, SECS, BPFPROF, median,
# spread, have). The unwinding modes against perf's DWARF mode, on a target
# built without frame pointers whose time goes to a callback called by libc's
# qsort.
gcc -O2 -g -fomit-frame-pointer -o $B/nofp tests/targets/nofp.c -ldl
# 10 s, a short profile's length: a profile's fixed start (~0.22 s of CPU,
# mostly BPF verification) would otherwise hide what unwinding costs.
UW_SECS=${UW_SECS:-10}

# share_main FILE: percent of samples (folded) whose stack reaches main.
share_main() { awk '{ v = $NF; t += v; if ($0 ~ /(^|;)main;/) s += v } END { printf "%.1f", t ? 100 * s / t : 0 }' "$1"; }

run_unwind() {
	local tool=$1 log=$TMP/uw-$1.log
	$B/nofp qsort "$UW_SECS" > "$log" &
	local w=$!
	while ! grep -q ready "$log" 2>/dev/null; do sleep 0.01; done
	case $tool in
	none) ;;
	copy|fp|tables)
		RUSAGE_OUT=$TMP/uwru-$tool $B/rusage "$BPFPROF" oncpu -F 99 --unwind $tool -p $w \
			-o "$TMP/uw-$tool.folded" 2>/dev/null
		share_main "$TMP/uw-$tool.folded" >> "$TMP/uwmain-$tool"; echo >> "$TMP/uwmain-$tool" ;;
	perf)
		RUSAGE_OUT=$TMP/uwru-perf.rec $B/rusage perf record -q -F 99 --call-graph dwarf -p $w \
			-o "$TMP/uw-perf.data" >/dev/null 2>&1
		RUSAGE_OUT=$TMP/uwru-perf.rep $B/rusage perf report -i "$TMP/uw-perf.data" --stdio \
			> /dev/null 2>&1
		# Same measure as ours: samples whose call chain reaches main.
		perf script -i "$TMP/uw-perf.data" 2>/dev/null | awk '
			/^$/ { if (n) { t++; if (m) s++ } n = 0; m = 0; next }
			{ n++; if ($2 ~ /^main\+/) m = 1 }
			END { if (n) { t++; if (m) s++ } printf "%.1f\n", t ? 100 * s / t : 0 }' >> "$TMP/uwmain-perf"
		lost=$(perf report -i "$TMP/uw-perf.data" --stdio --stats 2>/dev/null | awk '/LOST/ { print $NF; exit }')
		echo "${lost:-0}" >> "$TMP/uwlost-perf" ;;
	esac
	wait $w
}

uw_tools="none fp copy tables"
if have perf && perf record -q -F 99 --call-graph dwarf -o "$TMP/pd.data" -- true >/dev/null 2>&1; then
	uw_tools="$uw_tools perf"
fi
for r in $(seq 1 "$REPS"); do
	for t in $uw_tools; do run_unwind "$t"; done
done
{
echo "## oncpu's unwinding modes and perf: FP-less target (gcc -O2), time in a qsort callback, ${UW_SECS}s, 99 Hz"
echo
echo "Tool CPU is the whole cost of a profile: for perf, \`perf record --call-graph dwarf\` plus"
echo "\`perf report --stdio\`; for bpfprof, the one command (it unwinds while recording)."
echo "\"reaches main\" is the share of samples whose stack goes all the way up to main."
echo
echo "| tool | tool CPU (s, user+sys) | peak RSS (MB) | samples reaching main (%) |"
echo "|---|---|---|---|"
for t in tables fp copy; do
	name="--unwind $t"; [ "$t" = tables ] && name="(default: tables)"
	echo "| bpfprof oncpu $name | $(awk '{ print $2 + $3 }' "$TMP/uwru-$t" | median) ($(awk '{ print $2 + $3 }' "$TMP/uwru-$t" | spread)) | $(awk '{ print $4 / 1024 }' "$TMP/uwru-$t" | median) | $(median < "$TMP/uwmain-$t") |"
done
if [[ "$uw_tools" == *perf* ]]; then
	paste "$TMP/uwru-perf.rec" "$TMP/uwru-perf.rep" | awk '{ print $2 + $3 + $6 + $7 }' > "$TMP/uwcpu-perf"
	paste "$TMP/uwru-perf.rec" "$TMP/uwru-perf.rep" | awk '{ print ($4 > $8 ? $4 : $8) / 1024 }' > "$TMP/uwrss-perf"
	echo "| perf record --call-graph dwarf -F 99 + perf report | $(median < "$TMP/uwcpu-perf") ($(spread < "$TMP/uwcpu-perf")) | $(median < "$TMP/uwrss-perf") | $(median < "$TMP/uwmain-perf") |"
else
	echo "| perf record --call-graph dwarf | failed or missing on this machine | | |"
fi
echo
} >> "$RES"
