#!/usr/bin/env bash
# cpu-share-alert.sh PID FUNCTION THRESHOLD% [INTERVAL] [COUNT]
# Continuous-monitoring example: profiles PID's CPU in intervals and prints an
# ALERT line whenever FUNCTION (anywhere on the stack) takes more than
# THRESHOLD% of the samples of an interval. Feed its output to your alerting.
#   sudo tools/cpu-share-alert.sh 4242 compress_block 30 60
set -euo pipefail
pid=$1 func=$2 limit=$3 interval=${4:-60} count=${5:-0}
BPFPROF=${BPFPROF:-$(dirname "$0")/../build/bpfprof}
args=(oncpu -p "$pid" -i "$interval" -f folded)
[ "$count" -gt 0 ] && args+=(-n "$count")

"$BPFPROF" "${args[@]}" | awk -v f="$func" -v limit="$limit" '
	function report() {
		if (when == "") return
		share = total ? 100 * hit / total : 0
		printf "%s %s %s share %.1f%% of %d samples\n", (share > limit ? "ALERT" : "ok"), when, f, share, total
		fflush()
	}
	/^# interval / { report(); when = $4; total = 0; hit = 0; next }
	{
		v = $NF; total += v
		line = ";" $0; sub(/ [0-9]+$/, ";", line)
		if (index(line, ";" f ";")) hit += v
	}
	END { report() }'
