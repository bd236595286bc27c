# Complete user stacks through code without frame pointers
# (tests/targets/nofp.c: gcc -O2, frame pointers omitted, and Debian's own
# binaries): --unwind copy (alias dwarf: stack copies unwound in user
# space, the reference) first, then the default (tables walked in the
# kernel). Cases also run with --unwind fp to show that the difference is
# real: frame pointers lose the same callers.

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

# The default (#15): .eh_frame tables walked in the kernel; `auto` and
# `tables` name it too. A target with frame pointers is as complete.
"$BPFPROF" oncpu --unwind auto -o "$OUT/auto_nofp.folded" -- "$TB/nofp" chain 1.5 > /dev/null 2>&1
check "--unwind auto (the default's old name): FP-less chain complete (>= 80%)" \
	ge "$(stack_share "$OUT/auto_nofp.folded" "main;stage1;stage2;stage3;stage4;stage5;spin")" 80
"$BPFPROF" oncpu -o "$OUT/dflt_fp.folded" -- "$TB/hot" 1.5 single > /dev/null 2>&1
check "default: a frame-pointer target still complete (>= 80%)" \
	ge "$(stack_share "$OUT/dflt_fp.folded" "main;outer_caller;middle_caller;hot_spin")" 80

# Bad input.
for args in "--unwind bogus" "--unwind" "--stack-bytes 100" "--stack-bytes 1000000" "--stack-bytes x"; do
	# shellcheck disable=SC2086
	"$BPFPROF" oncpu $args -d 1 > /dev/null 2> "$OUT/uwerr"
	check "oncpu $args: exit 2" eq "$?" 2
	check "oncpu $args: one line" one_line "$OUT/uwerr"
done

# The default: the same stacks walked in the kernel with .eh_frame tables,
# no stack copies, no --unwind option.
start_target "$TB/nofp" chain 8
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/kt_chain.folded" -o "$OUT/kt_chain.txt" 2> "$OUT/kt.err"
check "tables oncpu -p: exit 0" eq "$?" 0
check "tables oncpu -p: main;stage1;...;stage5;spin complete in >= 95% of samples" \
	ge "$(stack_share "$OUT/kt_chain.folded" "_start;__libc_start_main;__libc_start_call_main;main;stage1;stage2;stage3;stage4;stage5;spin")" 95
check "tables oncpu -p: ~99 Hz for 2 s (150-250 samples)" between "$(total "$OUT/kt_chain.folded")" 150 250
check "tables oncpu -p: tables loaded before the first sample (header: lost 0)" contains "$OUT/kt_chain.txt" "lost 0"
stop_targets
start_target "$TB/nofp" qsort 8
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/kt_qsort.folded" 2>/dev/null
cmp=$(leaf_share "$OUT/kt_qsort.folded" cmp_items)
check "tables qsort: cmp_items is where time goes (>= 40%)" ge "$cmp" 40
check "tables qsort: cmp_items seen under main;sort_loop;qsort_r (>= 95% of it)" \
	ge "$(awk -v c="$cmp" -v s="$(stack_share "$OUT/kt_qsort.folded" "main;sort_loop;qsort_r")" 'BEGIN { print c ? 100 * (s >= c ? c : s) / c : 0 }')" 95
stop_targets
# Debian's python3 (no frame pointers): every sample reaches Py_BytesMain.
printf 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nwhile True:\n    fib(25)\n' > "$OUT/fib.py"
/usr/bin/python3 "$OUT/fib.py" &
TARGET_PIDS+=("$!")
py=$!
sleep 0.5
"$BPFPROF" oncpu -p "$py" -d 2 -o "$OUT/kt_py.folded" 2>/dev/null
check "tables python3: >= 95% of samples reach Py_BytesMain" ge "$(stack_share "$OUT/kt_py.folded" "Py_BytesMain")" 95
"$BPFPROF" oncpu --unwind fp -p "$py" -d 1 -o "$OUT/fp_py.folded" 2>/dev/null
check "fp python3: (frame pointers reach Py_BytesMain in < 5%)" ge 5 "$(stack_share "$OUT/fp_py.folded" "Py_BytesMain")"
stop_targets
# -- CMD: the tables load once it has exec'd; samples before are counted.
"$BPFPROF" oncpu -o "$OUT/kt_cmd.folded" -o "$OUT/kt_cmd.txt" -- "$TB/nofp" chain 2 > /dev/null 2>&1
check "tables -- CMD: main;...;spin complete in >= 80% of samples" \
	ge "$(stack_share "$OUT/kt_cmd.folded" "main;stage1;stage2;stage3;stage4;stage5;spin")" 80
check "tables -- CMD: the others are counted, not silent" bash -c "
	complete=\$(awk '/main;stage1;stage2;stage3;stage4;stage5;spin / { t += \$NF } END { print t + 0 }' '$OUT/kt_cmd.folded')
	all=\$(awk '{ t += \$NF } END { print t + 0 }' '$OUT/kt_cmd.folded')
	lost=\$(grep -o 'no table loaded) [0-9]*' '$OUT/kt_cmd.txt' | awk '{ print \$NF }')
	[ \$(( all - complete )) -le \$(( \${lost:-0} + 2 )) ]"
# offcpu: a nap() that calls usleep, FP-less: its blocked time under the
# whole chain, the totals by the target's own clock (20 x 50 ms). With
# -- CMD the first nap may come before its tables (counted); with -p the
# tables are there first.
"$BPFPROF" offcpu -o "$OUT/kt_sleep.folded" -- "$TB/nofp" sleep 20 > /dev/null 2>&1
check "tables offcpu -- CMD: >= 90% of blocked time under main;wait_loop;nap;usleep" \
	ge "$(stack_share "$OUT/kt_sleep.folded" "main;wait_loop;nap;usleep")" 90
check "tables offcpu -- CMD: ~1 s blocked (20 x 50 ms, +-10%; the held launcher not counted)" \
	between "$(total "$OUT/kt_sleep.folded")" 900000000 1100000000
start_target "$TB/nofp" sleep 100
"$BPFPROF" offcpu -p "$TPID" -d 2 -o "$OUT/kt_sleep_p.folded" 2>/dev/null
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
"$BPFPROF" lockwait -p "$TPID" -d 2 -o "$OUT/kt_lock.folded" 2>/dev/null
check "tables lockwait -p: >= 95% of delay under hold_mutex;pthread_mutex_lock" \
	ge "$(stack_share "$OUT/kt_lock.folded" "hold_mutex;pthread_mutex_lock")" 95
stop_targets
# mallocstacks: exact bytes in use under main;build_list;make_node;malloc for
# FP-less code, the allocator's entry row finding its caller.
start_target env WAIT_FOR_GO=1 "$TB/nofp" alloc 300
"$BPFPROF" mallocstacks -p "$TPID" -d 3 -v -f folded --sample-index inuse_space \
	-o "$OUT/kt_alloc.folded" 2> "$OUT/kt_alloc.err" &
bp=$!
go_when_attached "$OUT/kt_alloc.err" "$TPID"
wait $bp
check "tables mallocstacks -p: 300 x 248 bytes in use under main;build_list;make_node;malloc" \
	eq "$(grep -F ';main;build_list;make_node;malloc ' "$OUT/kt_alloc.folded" | awk '{ t += $NF } END { print t + 0 }')" 74400
stop_targets
# -- CMD of 1 ms: no time for tables; frame pointers (and the entry's [sp])
# as before, counted.
"$BPFPROF" mallocstacks -f folded --sample-index inuse_space -o "$OUT/kt_alloc2.folded" \
	-o "$OUT/kt_alloc2.txt" -- "$TB/nofp" alloc 300 > /dev/null 2>&1
check "tables mallocstacks -- CMD, short: make_node;malloc as with frame pointers" \
	eq "$(grep -F 'make_node;malloc ' "$OUT/kt_alloc2.folded" | awk '{ t += $NF } END { print t + 0 }')" 74400
check "tables mallocstacks -- CMD, short: the frame-pointer stacks are counted" contains "$OUT/kt_alloc2.txt" "no table loaded"
"$BPFPROF" trace --unwind tables 'BEGIN { exit(); }' > /dev/null 2> "$OUT/kterr"
check "trace --unwind: not an option of trace: exit 2" eq "$?" 2
# trace's ustack: walked with the tables too (no option), bpftrace's text.
start_target "$TB/nofp" chain 8
"$BPFPROF" trace "profile:hz:99 /pid == $TPID/ { @[ustack] = count(); }" -d 1.5 -f folded --profile "$OUT/kt_tr.folded" 2>/dev/null
check "trace ustack: FP-less chain complete in >= 95% of samples" \
	ge "$(stack_share "$OUT/kt_tr.folded" "_start;__libc_start_main;__libc_start_call_main;main;stage1;stage2;stage3;stage4;stage5;spin")" 95
stop_targets
"$BPFPROF" trace -c "$TB/nofp sleep 6" "uprobe:libc:usleep { @[ustack] = count(); }" > "$OUT/kt_tr2.txt" 2>&1
check "trace -c, uprobe ustack through FP-less code: usleep's callers nap, wait_loop, main" \
	bash -c "grep -A4 'usleep+0' '$OUT/kt_tr2.txt' | tr -d ' ' | tr '\n' ';' | grep -qE 'usleep\+0;nap\+[0-9]+;wait_loop\+[0-9]+;main\+[0-9]+'"

# A signal handler's stack continues through __restore_rt into the code it
# interrupted (the interrupted pc is exact: its function, not a caller).
start_target "$TB/nofp" signal 8
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/kt_sig.folded" 2>/dev/null
h=$(stack_share "$OUT/kt_sig.folded" "on_alarm;handler_spin")
check "signal: the handler takes CPU (>= 20%)" ge "$h" 20
check "signal: >= 90% of the handler's samples continue into main;sig_loop;interrupted" \
	ge "$(awk -v h="$h" -v s="$(stack_share "$OUT/kt_sig.folded" "main;sig_loop;interrupted")" 'BEGIN { print h ? 100 * (s - (100 - h) > 0 ? s - (100 - h) : 0) / h : 0 }')" 90
check "signal: the interrupted code's own samples complete too" \
	ge "$(stack_share "$OUT/kt_sig.folded" "main;sig_loop;interrupted")" 95
stop_targets
# Deeper than 127 frames: truncated (the leaf side kept) and counted; no
# sample lost.
start_target "$TB/nofp" recurse 8
"$BPFPROF" oncpu -p "$TPID" -d 1.5 -o "$OUT/kt_deep.folded" -o "$OUT/kt_deep.txt" 2>/dev/null
check "recursion > 127: samples kept (100-200 at 99 Hz)" between "$(total "$OUT/kt_deep.folded")" 100 200
check "recursion > 127: truncations counted in the header" grep -qE "stacks truncated at 127 frames [1-9]" "$OUT/kt_deep.txt"
check "recursion > 127: the leaf side kept (descend;spin, 127 frames)" \
	bash -c "awk '{ n = split(\$1, f, \";\"); if (f[n] == \"spin\" && f[n-1] == \"descend\" && n >= 127) ok++ } END { exit !ok }' '$OUT/kt_deep.folded'"
stop_targets
# A library dlopen()ed after the profile started (FP-less): its table is
# loaded when it is mapped; the samples before are counted.
start_target "$TB/nofp" dlopen 8
"$BPFPROF" oncpu -p "$TPID" -d 2.5 -v -o "$OUT/kt_dl.folded" -o "$OUT/kt_dl.txt" 2> "$OUT/kt_dl.err"
check "dlopen: the library's table is built once it is mapped" contains "$OUT/kt_dl.err" "libnofplib.so"
ls=$(leaf_share "$OUT/kt_dl.folded" lib_spin)
check "dlopen: lib_spin is where time goes (>= 60%)" ge "$ls" 60
check "dlopen: >= 90% of lib_spin under main;dl_loop;lib_chain;lib_a;lib_b" \
	ge "$(awk -v c="$ls" -v s="$(stack_share "$OUT/kt_dl.folded" "main;dl_loop;lib_chain;lib_a;lib_b;lib_spin")" 'BEGIN { print c ? 100 * (s >= c ? c : s) / c : 0 }')" 90
check "dlopen: the samples before its table are counted, not silent" bash -c "
	complete=\$(awk '/main;dl_loop;lib_chain;lib_a;lib_b;lib_spin / { t += \$NF } END { print t + 0 }' '$OUT/kt_dl.folded')
	spin=\$(awk '/;lib_spin / { t += \$NF } END { print t + 0 }' '$OUT/kt_dl.folded')
	lost=\$(grep -o 'no table loaded) [0-9]*' '$OUT/kt_dl.txt' | awk '{ print \$NF }')
	[ \$(( spin - complete )) -le \${lost:-0} ]"
stop_targets
# Two processes share libc's table: built once, both complete.
start_target "$TB/nofp" qsort 8
q1=$TPID
start_target "$TB/nofp" qsort 8
"$BPFPROF" oncpu -p "$q1,$TPID" -d 2 -v -o "$OUT/kt_two.folded" 2> "$OUT/kt_two.err"
check "two processes: libc's table built once" eq "$(grep -c 'unwind table of .*/libc\.so\.6:' "$OUT/kt_two.err")" 1
cmp=$(leaf_share "$OUT/kt_two.folded" cmp_items)
check "two processes: cmp_items under main;sort_loop;qsort_r (>= 95% of it)" \
	ge "$(awk -v c="$cmp" -v s="$(stack_share "$OUT/kt_two.folded" "main;sort_loop;qsort_r")" 'BEGIN { print c ? 100 * (s >= c ? c : s) / c : 0 }')" 95
stop_targets
# Table memory is bounded: system-wide with 1 MiB, tables are evicted or
# refused, said on stderr; the profile is still whole.
start_target "$TB/nofp" chain 8
/usr/bin/python3 "$OUT/fib.py" &
TARGET_PIDS+=("$!")
"$BPFPROF" oncpu --table-memory 1 -d 2 -o "$OUT/kt_mem.folded" 2> "$OUT/kt_mem.err"
check "--table-memory 1: exit 0" eq "$?" 0
check "--table-memory 1: profile not empty" ge "$(total "$OUT/kt_mem.folded")" 100
check "--table-memory 1: evictions said on stderr" grep -qE "over --table-memory 1 MiB: [0-9]+ evicted, [0-9]+ not loaded" "$OUT/kt_mem.err"
stop_targets
for args in "--table-memory 0" "--table-memory x"; do
	# shellcheck disable=SC2086
	"$BPFPROF" oncpu $args -d 1 > /dev/null 2> "$OUT/uwerr"
	check "oncpu $args: exit 2" eq "$?" 2
	check "oncpu $args: one line" one_line "$OUT/uwerr"
done
# Debian's redis-server (no frame pointers) under redis-benchmark: its
# samples reach main or start_thread.
if command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null; then
	redis-server --port 16379 --save '' --appendonly no > /dev/null 2>&1 &
	TARGET_PIDS+=("$!")
	rp=$!
	sleep 0.5
	redis-benchmark -p 16379 -n 2000000 -c 20 -q > /dev/null 2>&1 &
	TARGET_PIDS+=("$!")
	sleep 0.3
	"$BPFPROF" oncpu -p "$rp" -d 2 -o "$OUT/kt_redis.folded" 2>/dev/null
	check "redis-server: samples (>= 50)" ge "$(total "$OUT/kt_redis.folded")" 50
	check "redis-server: >= 90% reach main or start_thread" \
		ge "$(awk '/;main;|;start_thread;/ { m += $NF } { t += $NF } END { print t ? 100 * m / t : 0 }' "$OUT/kt_redis.folded")" 90
	stop_targets
else
	check "redis-server and redis-benchmark installed (tools/deps.sh)" false
fi
# A frame larger than 32 KiB (main's 4096 pthread_t array): its CFA offset
# is kept in 8-byte words, so the walk goes on through it to _start.
"$BPFPROF" oncpu -d 1.5 -f folded -o "$OUT/bigframe.folded" -- "$TB/waiters" spinsleep > /dev/null 2> "$OUT/bigframe.err"
check "tables: through a 32 KiB frame: >= 95% of main's samples reach _start" python3 -c "
lines = [l.rsplit(' ', 1) for l in open('$OUT/bigframe.folded')]
main = sum(int(v) for s, v in lines if ';main;' in s)
full = sum(int(v) for s, v in lines if ';main;' in s and ';_start;' in s)
assert main > 50 and full >= 0.95 * main, (full, main)"
