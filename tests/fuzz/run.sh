#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS: each libFuzzer harness for SECONDS on its
# committed corpus (tests/fuzz/corpus/NAME, read only) plus a scratch copy
# for what it finds. Prints "ok - fuzz NAME: ..." or "not ok - ..." with the
# crashing input saved in the scratch directory. `make fuzz` runs it long,
# `make test` for a few seconds each.
set -u
secs=${1:-300}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/bpfprof-fuzz.XXXXXX)
status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
for name in pprof timeline trace elf perfmap unwind serve; do
	bin=$ROOT/tests/build/fuzz_$name
	mkdir -p "$work/$name"
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $name: $bin not built (make -C tests fuzz)"
		status=1
		continue
	fi
	if (cd "$work/$name" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/$name/" "$work/$name" "$ROOT/tests/fuzz/corpus/$name") \
		> "$work/$name.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$work/$name.log" | tail -n 1)
		echo "ok - fuzz $name: ${runs:-done} in ${secs}s"
	else
		echo "not ok - fuzz $name: see $work/$name.log ($(grep -m1 -E 'ERROR|SUMMARY' "$work/$name.log"))"
		status=1
	fi
done
exit $status
