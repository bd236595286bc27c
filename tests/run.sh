#!/usr/bin/env bash
# Runs the whole suite: unit tests, then every tests/e2e/*.sh. The last line
# is "N passed, N failed". Needs root (the e2e tests load BPF programs).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
cd "$ROOT" || exit 1
OUT=$(mktemp -d /tmp/bpfprof-test.XXXXXX)
export OUT
LOG=$OUT/results

make -s -C tests all >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }

start=$(date +%s)
{
	tests/build/test_unit tests/build
	for t in tests/e2e/*.sh; do
		[ -n "${TESTS:-}" ] && [[ "$t" != *"$TESTS"* ]] && continue
		echo "# $t"
		( source tests/lib.sh; source "$t" )
	done
} 2>&1 | tee "$LOG"

passed=$(grep -c '^ok - ' "$LOG")
failed=$(grep -c '^not ok - ' "$LOG")
echo "# $(( $(date +%s) - start ))s, outputs in $OUT"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
