#!/usr/bin/env bash
# Runs the whole suite: unit tests, the fuzz harnesses for a few seconds each,
# then every tests/e2e/*.sh, then the unit tests and a short e2e subset again
# on a build under ASan+UBSan. The last
# line is "N passed, N failed". Needs root (the e2e tests load BPF programs).
#
# A part fails as a whole (one "not ok" line) when it exits non-zero or does
# not reach its end marker: a crash, a `set -u` abort or a rejected promise is
# a failure, not a silence.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
cd "$ROOT" || exit 1
OUT=$(mktemp -d /tmp/bpfprof-test.XXXXXX)
export OUT
LOG=$OUT/results
: > "$LOG"

make -s -j"$(nproc)" -C tests all >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }

# part NAME CMD...: runs CMD, its output to the terminal and the log; one
# "not ok" when it exits non-zero or prints no end marker ("# end NAME").
part() {
	local name=$1 rc t0=$SECONDS
	shift
	{ "$@"; rc=$?; [ $rc -eq 0 ] && echo "# end $name"; exit $rc; } 2>&1 | tee "$OUT/part.log"
	rc=${PIPESTATUS[0]}
	cat "$OUT/part.log" >> "$LOG"
	echo "$((SECONDS - t0)) $name" >> "$OUT/times"
	if [ "$rc" -ne 0 ]; then
		echo "not ok - $name: exited with status $rc" | tee -a "$LOG"
	elif ! grep -qx "# end $name" "$OUT/part.log"; then
		echo "not ok - $name: ended before its last line" | tee -a "$LOG"
	fi
}

e2e() { # runs one script in a subshell with the helpers
	( source tests/lib.sh; source "$1" ) || return $?
}

start=$(date +%s)
part unit tests/build/test_unit tests/build
# The layers of user/ point one way (docs/design.md): no include cycle.
part layers tools/layers.sh
# Unwind tables against the libdw unwinder, on libc, python3 and our target.
part unwind-tables tests/build/test_unwind tests/build
# The trace grammar needs no privilege: run as nobody where setpriv exists.
if command -v setpriv >/dev/null; then
	part grammar setpriv --reuid=65534 --regid=65534 --clear-groups tests/build/test_grammar
else
	part grammar tests/build/test_grammar
fi
# Fuzzing: each libFuzzer harness (tests/fuzz) for a few seconds on its
# committed corpus; `make fuzz` runs them for as long as asked.
if [ -z "${TESTS:-}" ] || [ "${TESTS}" = fuzz ]; then
	if make -s -j"$(nproc)" -C tests fuzz >"$OUT/fuzz-build.log" 2>&1; then
		part fuzz tests/fuzz/run.sh "${FUZZ_SECONDS:-3}"
	else
		cat "$OUT/fuzz-build.log"
		echo "not ok - fuzz: build failed" | tee -a "$LOG"
	fi
fi
for t in tests/e2e/*.sh; do
	[ -n "${TESTS:-}" ] && [[ "$t" != *"$TESTS"* ]] && continue
	echo "# $t" | tee -a "$LOG"
	part "$t" e2e "$t"
done

# Sanitizers: the unit tests and tests/asan.sh (every command, briefly).
if [ -z "${TESTS:-}" ] || [ "${TESTS}" = asan ]; then
	echo "# asan+ubsan" | tee -a "$LOG"
	if make -s -j"$(nproc)" -C tests asan >"$OUT/asan-build.log" 2>&1; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
		export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98
		part "asan: unit" tests/build/test_unit_asan tests/build
		part "asan: grammar" tests/build/test_grammar_asan
		part "asan: unwind-tables" tests/build/test_unwind_asan tests/build
		part "asan: e2e" env BPFPROF="$ROOT/build/asan/bpfprof" bash -c 'source tests/lib.sh; source tests/asan.sh'
	else
		cat "$OUT/asan-build.log"
		echo "not ok - asan: build failed" | tee -a "$LOG"
	fi
fi

# Where the time went: the slowest parts (the suite must stay under 10 minutes).
echo "# slowest parts (s): $(sort -rn "$OUT/times" 2>/dev/null | head -6 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')"
passed=$(grep -c '^ok - ' "$LOG")
failed=$(grep -c '^not ok - ' "$LOG")
echo "# $(( $(date +%s) - start ))s, outputs in $OUT"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
