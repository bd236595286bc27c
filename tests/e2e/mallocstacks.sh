# mallocstacks end to end: exact allocation and in-use values per call site.
H=$TB/heap
hv() { python3 "$ROOT/tests/heap_values.py" "$@"; }

# A known leak among churn: exact values.
plain=$("$H" leak)
"$BPFPROF" mallocstacks -o "$OUT/leak.json" -o "$OUT/leak.txt" -o "$OUT/leak.pb.gz" -- "$H" leak > "$OUT/leak.out" 2>/dev/null
check "mallocstacks -- CMD: exit 0" eq "$?" 0
check "mallocstacks: the target's output is unchanged" eq "$(cat "$OUT/leak.out")" "$plain"
check "mallocstacks leak: leak_some 64 x 4096 allocated and in use" eq "$(hv "$OUT/leak.json" leak_some malloc)" "64 262144 64 262144"
check "mallocstacks leak: churn 1000 x 100 allocated, none in use" eq "$(hv "$OUT/leak.json" churn malloc)" "1000 100000 0 0"
check "mallocstacks: top defaults to inuse_space" contains "$OUT/leak.txt" "inuse_space total"
# The same leak one process down (-- sh -c): children are targets too.
"$BPFPROF" mallocstacks -o "$OUT/leak-child.json" -- sh -c "'$H' leak; true" > /dev/null 2>&1
check "mallocstacks -- sh -c: the child's leak_some 64 x 4096 in use" eq "$(hv "$OUT/leak-child.json" leak_some malloc)" "64 262144 64 262144"
HOME=$OUT go tool pprof -sample_index=alloc_space -top "$OUT/leak.pb.gz" > "$OUT/leak.go" 2>&1
check "mallocstacks pprof: go tool pprof -sample_index=alloc_space" contains "$OUT/leak.go" "Type: alloc_space"

# calloc, realloc (grow, NULL, 0), posix_memalign, aligned_alloc, failures.
"$BPFPROF" mallocstacks -o "$OUT/cases.json" -- "$H" cases > /dev/null 2>&1
check "calloc: nmemb*size, 5 x 1000 in use" eq "$(hv "$OUT/cases.json" do_calloc calloc)" "5 5000 5 5000"
check "realloc grow: the first block is freed by the move" eq "$(hv "$OUT/cases.json" realloc_first malloc)" "4 400 0 0"
check "realloc grow: 4 x 1000 in use" eq "$(hv "$OUT/cases.json" realloc_grow realloc)" "4 4000 4 4000"
check "realloc(NULL, n) is malloc(n)" eq "$(hv "$OUT/cases.json" realloc_null realloc)" "3 600 3 600"
check "realloc(p, 0) frees p" eq "$(hv "$OUT/cases.json" zero_first malloc)" "2 600 0 0"
check "realloc(p, 0) allocates nothing" eq "$(hv "$OUT/cases.json" realloc_zero realloc)" "0 0 0 0"
check "posix_memalign: 3 x 512 in use" eq "$(hv "$OUT/cases.json" do_memalign posix_memalign)" "3 1536 3 1536"
# (glibc's aligned_alloc is memalign: one function, shown under that name)
check "aligned_alloc: 2 x 256 in use (do_memalign: 3 x 512 + 2 x 256)" eq "$(hv "$OUT/cases.json" do_memalign)" "5 2048 5 2048"
check "failed allocations are not counted" eq "$(hv "$OUT/cases.json" fail_alloc)" "0 0 0 0"

# 4 threads allocating and freeing at once: exact totals.
"$BPFPROF" mallocstacks -o "$OUT/thr.json" -- "$H" threads > /dev/null 2>&1
check "threads: churn totals exact (4 x 10000 x 64, none in use)" eq "$(hv "$OUT/thr.json" thread_churn malloc)" "40000 2560000 0 0"
check "threads: leaks exact (4 x 100 x 32)" eq "$(hv "$OUT/thr.json" thread_leak malloc)" "400 12800 400 12800"

# --alloc-only: allocation volume without in-use tracking.
"$BPFPROF" mallocstacks --alloc-only -o "$OUT/ao.json" -- "$H" leak > /dev/null 2>&1
check "--alloc-only: alloc values exact" eq "$(hv "$OUT/ao.json" churn malloc | cut -d' ' -f1,2)" "1000 100000"
check "--alloc-only: no in-use values" eq "$(hv "$OUT/ao.json" leak_some malloc | cut -d' ' -f3,4)" "0 0"

# --sample-bytes: scaled estimates. 40000 x 64 B = 2.56 MB churned, one
# sample per ~4 kB: within 20%.
"$BPFPROF" mallocstacks --sample-bytes 4096 -o "$OUT/sb.json" -- "$H" threads > /dev/null 2>&1
read -r ao as _ _ <<< "$(hv "$OUT/sb.json" thread_churn malloc)"
check "--sample-bytes 4096: alloc_space estimate within 20% of 2560000" between "$as" 2048000 3072000
check "--sample-bytes 4096: alloc_objects estimate within 20% of 40000" between "$ao" 32000 48000
check "--sample-bytes: rate recorded as the period" python3 -c "
import json; d = json.loads(open('$OUT/sb.json').read()); assert d['period'] == 4096, d['period']"

# jemalloc through LD_PRELOAD: found automatically with -p, or named by --lib.
JE=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null)
if [ -n "$JE" ]; then
	LD_PRELOAD=$JE "$BPFPROF" mallocstacks --lib "$JE" -o "$OUT/je.json" -- "$H" leak > /dev/null 2>&1
	check "jemalloc --lib: leak exact" eq "$(hv "$OUT/je.json" leak_some malloc)" "64 262144 64 262144"
	check "jemalloc --lib: churn exact" eq "$(hv "$OUT/je.json" churn malloc)" "1000 100000 0 0"
else
	fail "jemalloc" "libjemalloc2 is not installed (make deps installs it)"
fi

# Go: runtime.mallocgc, allocation volume by Go stack; the program unharmed.
"$BPFPROF" mallocstacks -o "$OUT/go.json" -- "$TB/goalloc" > "$OUT/go.out" 2>&1
check "go: the program completes normally" contains "$OUT/go.out" "allocated 1000"
read -r gao gas _ _ <<< "$(hv "$OUT/go.json" main.allocBlocks)"
check "go: main.allocBlocks allocated 1000 objects" between "$gao" 1000 1010
check "go: main.allocBlocks allocated 1000 x 4096 bytes" between "$gas" 4096000 4200000

# By pid: a target that exits during the run still yields its profile.
start_target "$TB/goalloc" 3
"$BPFPROF" mallocstacks -p "$TPID" -d 10 -o "$OUT/gp.json" 2>/dev/null
check "go -p: exits mid-run, profile written" ge "$(hv "$OUT/gp.json" main.allocBlocks | cut -d' ' -f1)" 1
stop_targets

# Bad input.
for args in "--lib /etc/passwd" "--lib /nonexistent.so" "--lib $(ls /lib/x86_64-linux-gnu/libz.so.1)" "--sample-bytes 0" "--sample-bytes x" "-p 999999"; do
	# shellcheck disable=SC2086
	"$BPFPROF" mallocstacks $args -d 1 > /dev/null 2> "$OUT/merr"
	check "mallocstacks $args: exit 2" eq "$?" 2
	check "mallocstacks $args: one line" one_line "$OUT/merr"
done

# Two processes forked from one parent hand out the same addresses: each
# one's live allocations are its own (they once took each other's, and
# in-use grew by MBs while each held at most one 4 KiB block).
start_target "$TB/heap" forked 4
workers=$(awk '/^workers/ { print $2 }' "$TLOG")
"$BPFPROF" mallocstacks -p "$workers" -d 1.5 -f json -o "$OUT/forked.json" 2> "$OUT/forked.err"
read -r f_alloc _ _ f_inuse <<< "$(python3 "$ROOT/tests/heap_values.py" "$OUT/forked.json" worker_churn malloc)"
check "forked workers: thousands of allocations seen" ge "$f_alloc" 1000
check "forked workers: in use at most one block per worker (<= 8192 B)" ge 8192 "$f_inuse"
stop_targets
