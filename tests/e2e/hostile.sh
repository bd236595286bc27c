# Files a profiled process controls are hostile input to root bpfprof: a JIT
# target running as nobody points its perf map at a root-only file, a FIFO,
# or a 1 GiB sparse file. bpfprof must read none of them, never hang, finish
# in about its normal time, and say what it skipped.
chmod 755 "$TB" "$TB/jit" 2>/dev/null
secret=$OUT/root-only-secret
echo "SECRET_frame_name_5f3a" > "$secret"
printf '%s 1000 SECRET_frame_name_5f3a\n' 0 >> "$secret"
chmod 600 "$secret"
# setpriv execs the target: its pid is the one start_target sees.
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# The well-formed case first: JIT frames are named from the map.
start_target $NOBODY "$TB/jit" ok
"$BPFPROF" oncpu -p "$TPID" -d 1 -o "$OUT/jit-ok.folded" 2>"$OUT/jit-ok.err"
check "perf map: a JIT frame is named" contains "$OUT/jit-ok.folded" "jit_spin"
stop_targets

# A name that carries a terminal escape prints escaped in top.
start_target $NOBODY "$TB/jit" escape
"$BPFPROF" oncpu -p "$TPID" -d 1 -f top > "$OUT/jit-esc.txt" 2>/dev/null
check "top: a name's terminal escape is shown escaped" contains "$OUT/jit-esc.txt" 'jit\x1b]0;retitled\x07spin'
check "top: no raw escape character reaches the terminal" eq "$(grep -c $'\033' "$OUT/jit-esc.txt")" 0
stop_targets

for kind in link fifo big; do
	if [ $kind = link ]; then start_target $NOBODY "$TB/jit" link "$secret"; else start_target $NOBODY "$TB/jit" $kind; fi
	t0=$(date +%s%N)
	timeout 20 "$BPFPROF" oncpu -p "$TPID" -d 1 -o "$OUT/jit-$kind.folded" 2>"$OUT/jit-$kind.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "perf map ($kind): exit 0, no hang" eq "$rc" 0
	check "perf map ($kind): finished in under 3 s (a 1 s profile)" ge 3000 "$ms"
	check "perf map ($kind): the profile has samples" ge "$(total "$OUT/jit-$kind.folded")" 15
	check "perf map ($kind): nothing of the refused file in the profile" lacks "$OUT/jit-$kind.folded" "SECRET"
	check "perf map ($kind): a one-line warning says why" contains "$OUT/jit-$kind.err" "not read:"
	stop_targets
done
check "perf map (link): named as a link" contains "$OUT/jit-link.err" "symbolic link"
check "perf map (fifo): named as not a regular file" contains "$OUT/jit-fifo.err" "not a regular file"
check "perf map (big): named as too large" contains "$OUT/jit-big.err" "larger than the limit"
rm -f /tmp/perf-*.map.hostile 2>/dev/null
