# --unwind dwarf|auto: complete user stacks through code without frame
# pointers (tests/targets/nofp.c: gcc -O2, frame pointers omitted, and
# Debian's libc). Each case also runs with --unwind fp to show that the
# difference is real: frame pointers lose the same callers.

# A 5-deep call chain, CPU-bound.
"$BPFPROF" oncpu --unwind dwarf -o "$OUT/uw_chain.folded" -o "$OUT/uw_chain.txt" -- "$TB/nofp" chain 2 > /dev/null 2> "$OUT/uw.err"
check "dwarf oncpu: exit 0" eq "$?" 0
check "dwarf oncpu: main;stage1;...;stage5;spin complete in >= 90% of samples" \
	ge "$(stack_share "$OUT/uw_chain.folded" "_start;__libc_start_main;__libc_start_call_main;main;stage1;stage2;stage3;stage4;stage5;spin")" 90
check "dwarf oncpu: ~99 Hz for 2 s (150-250 samples)" between "$(total "$OUT/uw_chain.folded")" 150 250
check "dwarf oncpu: every unwind complete (header: lost 0)" contains "$OUT/uw_chain.txt" "lost 0"
"$BPFPROF" oncpu --unwind fp -o "$OUT/fp_chain.folded" -- "$TB/nofp" chain 2 > /dev/null 2>&1
check "fp oncpu: the same chain is not found (frame pointers lose it)" \
	eq "$(stack_share "$OUT/fp_chain.folded" "main;stage1;stage2;stage3;stage4;stage5;spin")" 0.00

# A callback called by libc (qsort): its callers through libc's frames.
"$BPFPROF" oncpu --unwind dwarf -o "$OUT/uw_qsort.folded" -- "$TB/nofp" qsort 2 > /dev/null 2>&1
cmp=$(leaf_share "$OUT/uw_qsort.folded" cmp_items)
check "dwarf qsort: cmp_items is where time goes (>= 40%)" ge "$cmp" 40
check "dwarf qsort: cmp_items seen under main;sort_loop;qsort_r (>= 90% of it)" \
	ge "$(awk -v c="$cmp" -v s="$(stack_share "$OUT/uw_qsort.folded" "main;sort_loop;qsort_r")" 'BEGIN { print c ? 100 * (s >= c ? c : s) / c : 0 }')" 90
"$BPFPROF" oncpu --unwind fp -o "$OUT/fp_qsort.folded" -- "$TB/nofp" qsort 2 > /dev/null 2>&1
check "fp qsort: cmp_items's callers through qsort are lost (< 5%)" \
	ge 5 "$(stack_share "$OUT/fp_qsort.folded" "sort_loop;qsort_r")"

# Blocking in libc (usleep) for offcpu.
"$BPFPROF" offcpu --unwind dwarf -o "$OUT/uw_sleep.folded" -- "$TB/nofp" sleep 20 > /dev/null 2>&1
check "dwarf offcpu: >= 90% of blocked time under main;wait_loop;nap;usleep" \
	ge "$(stack_share "$OUT/uw_sleep.folded" "main;wait_loop;nap;usleep")" 90
check "dwarf offcpu: ~1 s blocked (20 x 50 ms, +-15%)" between "$(total "$OUT/uw_sleep.folded")" 850000000 1150000000
"$BPFPROF" offcpu --unwind fp -o "$OUT/fp_sleep.folded" -- "$TB/nofp" sleep 20 > /dev/null 2>&1
check "fp offcpu: wait_loop is lost" eq "$(stack_share "$OUT/fp_sleep.folded" "wait_loop")" 0.00

# Allocations from FP-less code: exact bytes under the full chain.
"$BPFPROF" mallocstacks --unwind dwarf -f folded --sample-index inuse_space -o "$OUT/uw_alloc.folded" \
	-- "$TB/nofp" alloc 300 > /dev/null 2>&1
check "dwarf mallocstacks: 300 x 248 bytes in use under main;build_list;make_node;malloc (the ring holds them all)" \
	eq "$(grep -F ';main;build_list;make_node;malloc ' "$OUT/uw_alloc.folded" | awk '{ t += $NF } END { print t + 0 }')" 74400
"$BPFPROF" mallocstacks --unwind fp -f folded --sample-index inuse_space -o "$OUT/fp_alloc.folded" \
	-- "$TB/nofp" alloc 300 > /dev/null 2>&1
check "fp mallocstacks: make_node's caller build_list is lost" eq "$(stack_share "$OUT/fp_alloc.folded" "build_list")" 0.00
check "fp mallocstacks: the same 74400 bytes, fewer frames" eq "$(total "$OUT/fp_alloc.folded")" "$(total "$OUT/uw_alloc.folded")"

# lockwait: the direct caller of pthread_mutex_lock, which frame pointers skip.
start_target "$TB/locks" mutex 3
"$BPFPROF" lockwait -p "$TPID" --unwind dwarf -d 1.5 -o "$OUT/uw_lock.folded" 2>/dev/null
check "dwarf lockwait: >= 90% of delay under hold_mutex;pthread_mutex_lock" \
	ge "$(stack_share "$OUT/uw_lock.folded" "mutex_worker;hold_mutex;pthread_mutex_lock")" 90
stop_targets

# Unwinding that stops early is counted, and the samples stay.
"$BPFPROF" oncpu --unwind dwarf --stack-bytes 512 -o "$OUT/uw_short.txt" -o "$OUT/uw_short.folded" \
	-- "$TB/nofp" qsort 1.5 > /dev/null 2>&1
check "--stack-bytes 512: incomplete unwinds are counted in the header" \
	grep -qE "dwarf unwinds incomplete [1-9]" "$OUT/uw_short.txt"
check "--stack-bytes 512: every sample is still there (100-200)" between "$(total "$OUT/uw_short.folded")" 100 200

# Events faster than the reader: counted without stacks, totals exact.
"$BPFPROF" mallocstacks --unwind dwarf -f json -o "$OUT/uw_burst.json" -- "$TB/heap" threads > /dev/null 2> "$OUT/uw_burst.err"
read -r bao _ bio _ <<< "$(python3 "$ROOT/tests/heap_values.py" "$OUT/uw_burst.json" --total)"
check "dwarf burst: alloc_objects exact (40405) though records were dropped" eq "$bao" 40405
check "dwarf burst: inuse_objects exact (405)" eq "$bio" 405
check "dwarf burst: the drop is reported" contains "$OUT/uw_burst.err" "counted without stacks"

# auto: dwarf for the FP-less executable, frame pointers for one that has them.
"$BPFPROF" oncpu --unwind auto -v -o "$OUT/auto_nofp.folded" -- "$TB/nofp" chain 1.5 > /dev/null 2> "$OUT/auto.err"
check "auto: FP-less target unwound with dwarf" \
	ge "$(stack_share "$OUT/auto_nofp.folded" "main;stage1;stage2;stage3;stage4;stage5;spin")" 90
check "auto: says what it chose" contains "$OUT/auto.err" "dwarf"
"$BPFPROF" oncpu --unwind auto -v -o "$OUT/auto_fp.folded" -- "$TB/hot" 1.5 single > /dev/null 2> "$OUT/auto2.err"
check "auto: frame-pointer target kept on fp" contains "$OUT/auto2.err" "frame pointers"
check "auto: frame-pointer target still complete" \
	ge "$(stack_share "$OUT/auto_fp.folded" "main;outer_caller;middle_caller;hot_spin")" 70

# Bad input.
for args in "--unwind bogus" "--unwind" "--stack-bytes 100" "--stack-bytes 1000000" "--stack-bytes x"; do
	# shellcheck disable=SC2086
	"$BPFPROF" oncpu $args -d 1 > /dev/null 2> "$OUT/uwerr"
	check "oncpu $args: exit 2" eq "$?" 2
	check "oncpu $args: one line" one_line "$OUT/uwerr"
done

# --unwind tables (#15, oncpu so far): the same stacks walked in the kernel
# with .eh_frame tables, no stack copies.
start_target "$TB/nofp" chain 8
"$BPFPROF" oncpu --unwind tables -p "$TPID" -d 2 -o "$OUT/kt_chain.folded" -o "$OUT/kt_chain.txt" 2> "$OUT/kt.err"
check "tables oncpu -p: exit 0" eq "$?" 0
check "tables oncpu -p: main;stage1;...;stage5;spin complete in >= 95% of samples" \
	ge "$(stack_share "$OUT/kt_chain.folded" "_start;__libc_start_main;__libc_start_call_main;main;stage1;stage2;stage3;stage4;stage5;spin")" 95
check "tables oncpu -p: ~99 Hz for 2 s (150-250 samples)" between "$(total "$OUT/kt_chain.folded")" 150 250
check "tables oncpu -p: tables loaded before the first sample (header: lost 0)" contains "$OUT/kt_chain.txt" "lost 0"
stop_targets
start_target "$TB/nofp" qsort 8
"$BPFPROF" oncpu --unwind tables -p "$TPID" -d 2 -o "$OUT/kt_qsort.folded" 2>/dev/null
cmp=$(leaf_share "$OUT/kt_qsort.folded" cmp_items)
check "tables qsort: cmp_items is where time goes (>= 40%)" ge "$cmp" 40
check "tables qsort: cmp_items seen under main;sort_loop;qsort_r (>= 95% of it)" \
	ge "$(awk -v c="$cmp" -v s="$(stack_share "$OUT/kt_qsort.folded" "main;sort_loop;qsort_r")" 'BEGIN { print c ? 100 * (s >= c ? c : s) / c : 0 }')" 95
stop_targets
# Debian's python3 (no frame pointers): every sample reaches Py_BytesMain.
printf 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nwhile True:\n    fib(25)\n' > "$OUT/fib.py"
python3 "$OUT/fib.py" &
TARGET_PIDS+=("$!")
py=$!
sleep 0.5
"$BPFPROF" oncpu --unwind tables -p "$py" -d 2 -o "$OUT/kt_py.folded" 2>/dev/null
check "tables python3: >= 95% of samples reach Py_BytesMain" ge "$(stack_share "$OUT/kt_py.folded" "Py_BytesMain")" 95
"$BPFPROF" oncpu --unwind fp -p "$py" -d 1 -o "$OUT/fp_py.folded" 2>/dev/null
check "fp python3: (frame pointers reach Py_BytesMain in < 5%)" ge 5 "$(stack_share "$OUT/fp_py.folded" "Py_BytesMain")"
stop_targets
# -- CMD: the tables load once it has exec'd; samples before are counted.
"$BPFPROF" oncpu --unwind tables -o "$OUT/kt_cmd.folded" -o "$OUT/kt_cmd.txt" -- "$TB/nofp" chain 2 > /dev/null 2>&1
check "tables -- CMD: main;...;spin complete in >= 80% of samples" \
	ge "$(stack_share "$OUT/kt_cmd.folded" "main;stage1;stage2;stage3;stage4;stage5;spin")" 80
check "tables -- CMD: the others are counted, not silent" bash -c "
	complete=\$(awk '/main;stage1;stage2;stage3;stage4;stage5;spin / { t += \$NF } END { print t + 0 }' '$OUT/kt_cmd.folded')
	all=\$(awk '{ t += \$NF } END { print t + 0 }' '$OUT/kt_cmd.folded')
	lost=\$(grep -o 'tables not loaded yet) [0-9]*' '$OUT/kt_cmd.txt' | awk '{ print \$NF }')
	[ \$(( all - complete )) -le \$(( \${lost:-0} + 2 )) ]"
# offcpu: a nap() that calls usleep, FP-less: its blocked time under the
# whole chain, the totals by the target's own clock (20 x 50 ms). With
# -- CMD the first nap may come before its tables (counted); with -p the
# tables are there first.
"$BPFPROF" offcpu --unwind tables -o "$OUT/kt_sleep.folded" -- "$TB/nofp" sleep 20 > /dev/null 2>&1
check "tables offcpu -- CMD: >= 90% of blocked time under main;wait_loop;nap;usleep" \
	ge "$(stack_share "$OUT/kt_sleep.folded" "main;wait_loop;nap;usleep")" 90
check "tables offcpu -- CMD: ~1 s blocked (20 x 50 ms, +-10%; the held launcher not counted)" \
	between "$(total "$OUT/kt_sleep.folded")" 900000000 1100000000
start_target "$TB/nofp" sleep 100
"$BPFPROF" offcpu --unwind tables -p "$TPID" -d 2 -o "$OUT/kt_sleep_p.folded" 2>/dev/null
check "tables offcpu -p: >= 95% of blocked time under main;wait_loop;nap;usleep" \
	ge "$(stack_share "$OUT/kt_sleep_p.folded" "main;wait_loop;nap;usleep")" 95
check "tables offcpu -p: the target's own clock (2 s of 50 ms naps, +-10%)" \
	between "$(total "$OUT/kt_sleep_p.folded")" 1800000000 2200000000
stop_targets
# -p, and a target with frame pointers (its .eh_frame serves as well).
start_target env WAIT_FOR_GO=1 "$TB/sleeper" naps 4
"$BPFPROF" offcpu --unwind tables -p "$TPID" -d 2 -v -o "$OUT/kt_nap.folded" 2> "$OUT/kt_nap.err" &
bp=$!
go_when_attached "$OUT/kt_nap.err" "$TPID"
wait $bp
check "tables offcpu -p: the naps under main;sleep_fifty (>= 90% of blocked time)" \
	ge "$(stack_share "$OUT/kt_nap.folded" "main;sleep_fifty")" 90
stop_targets
# lockwait: the function that called pthread_mutex_lock (frame pointers
# skip it: Debian's libc has none).
start_target "$TB/locks" mutex 8
"$BPFPROF" lockwait --unwind tables -p "$TPID" -d 2 -o "$OUT/kt_lock.folded" 2>/dev/null
check "tables lockwait -p: >= 95% of delay under hold_mutex;pthread_mutex_lock" \
	ge "$(stack_share "$OUT/kt_lock.folded" "hold_mutex;pthread_mutex_lock")" 95
stop_targets
# mallocstacks: exact bytes in use under main;build_list;make_node;malloc for
# FP-less code, the allocator's entry row finding its caller.
start_target env WAIT_FOR_GO=1 "$TB/nofp" alloc 300
"$BPFPROF" mallocstacks --unwind tables -p "$TPID" -d 3 -v -f folded --sample-index inuse_space \
	-o "$OUT/kt_alloc.folded" 2> "$OUT/kt_alloc.err" &
bp=$!
go_when_attached "$OUT/kt_alloc.err" "$TPID"
wait $bp
check "tables mallocstacks -p: 300 x 248 bytes in use under main;build_list;make_node;malloc" \
	eq "$(grep -F ';main;build_list;make_node;malloc ' "$OUT/kt_alloc.folded" | awk '{ t += $NF } END { print t + 0 }')" 74400
stop_targets
# -- CMD of 1 ms: no time for tables; frame pointers (and the entry's [sp])
# as before, counted.
"$BPFPROF" mallocstacks --unwind tables -f folded --sample-index inuse_space -o "$OUT/kt_alloc2.folded" \
	-o "$OUT/kt_alloc2.txt" -- "$TB/nofp" alloc 300 > /dev/null 2>&1
check "tables mallocstacks -- CMD, short: make_node;malloc as with frame pointers" \
	eq "$(grep -F 'make_node;malloc ' "$OUT/kt_alloc2.folded" | awk '{ t += $NF } END { print t + 0 }')" 74400
check "tables mallocstacks -- CMD, short: the frame-pointer stacks are counted" contains "$OUT/kt_alloc2.txt" "tables not loaded yet"
"$BPFPROF" trace --unwind tables 'BEGIN { exit(); }' > /dev/null 2> "$OUT/kterr"
check "trace --unwind: not an option of trace: exit 2" eq "$?" 2
