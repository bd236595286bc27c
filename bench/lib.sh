# Helpers of bench/run.sh and its sections (sourced).
have() { command -v "$1" >/dev/null 2>&1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "n/a"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s..%s", lo, hi; else print "n/a" }'; }

# lost_of TOP.txt: the "lost N" of a bpfprof top header.
lost_of() { awk 'NR == 1 { for (i = 1; i < NF; i++) if ($i == "lost") { gsub(/[^0-9]/, "", $(i + 1)); print $(i + 1); exit } }' "$1" 2>/dev/null; }
# own_cost ERRFILE: "cpu_s rss_mb" from bpfprof -v's last line.
own_cost() { awk '/own cost:/ { print $4, $(NF - 1) }' "$1" | tail -1; }
# proc_cost PID: "cpu_s rss_mb" of a running process (itself, not its children).
proc_cost() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f ", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null
	awk '/VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}
