# oncpu end to end: real BPF program, real targets with known hot spots.

# A single hot function under a known call chain, by -p.
start_target "$TB/hot" 8 single
"$BPFPROF" oncpu -p "$TPID" -d 2.5 -f folded -o "$OUT/hot.folded" 2>"$OUT/hot.err"
check "oncpu -p: exit 0" eq "$?" 0
check "oncpu -p: hot_spin carries >= 70% of samples" ge "$(leaf_share "$OUT/hot.folded" hot_spin)" 70
check "oncpu -p: callers in order main;outer_caller;middle_caller;hot_spin" \
	ge "$(stack_share "$OUT/hot.folded" "main;outer_caller;middle_caller;hot_spin")" 70
check "oncpu -p: ~99 Hz for 2.5 s (200-300 samples)" between "$(total "$OUT/hot.folded")" 200 300
check "oncpu -p: folded lines start with the comm" eq "$(grep -vc '^hot;' "$OUT/hot.folded")" 0

# The same target, top table: hot_spin is the first row.
"$BPFPROF" oncpu -p "$TPID" -d 1.5 > "$OUT/hot.top" 2>&1
check "oncpu top: header names target and loss" contains "$OUT/hot.top" "oncpu: pid $TPID"
check "oncpu top: hot_spin is the heaviest row" eq "$(awk 'NR==4 { print $6 }' "$OUT/hot.top")" hot_spin
check "oncpu top: hot_spin flat% >= 70" ge "$(awk 'NR==4 { sub("%", "", $2); print $2 }' "$OUT/hot.top")" 70
stop_targets

# A 3:1 split between two functions, within +-10 points.
start_target "$TB/hot" 8 split
"$BPFPROF" oncpu -p "$TPID" -d 3 -F 199 -o "$OUT/split.folded" 2>/dev/null
three=$(leaf_share "$OUT/split.folded" spin_three)
one=$(leaf_share "$OUT/split.folded" spin_one)
check "oncpu split: spin_three:spin_one is 3:1 (75% +-10)" \
	between "$(awk -v a="$three" -v b="$one" 'BEGIN { print (a + b) ? 100 * a / (a + b) : 0 }')" 65 85
stop_targets

# -p excludes other busy processes.
start_target "$TB/mt" 8
other=$TPID
start_target "$TB/hot" 8 single
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/excl.folded" 2>/dev/null
check "oncpu -p: other processes excluded" eq "$(grep -c '^mt;' "$OUT/excl.folded")" 0
check "oncpu -p: target present while another competes" ge "$(leaf_share "$OUT/excl.folded" hot_spin)" 70
stop_targets

# Multi-threaded: all worker threads, and -t selects one of them.
start_target "$TB/mt" 8
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/mt.folded" 2>/dev/null &
all=$!
tid=$(ls /proc/"$TPID"/task | sort -n | sed -n 2p)
"$BPFPROF" oncpu -t "$tid" -d 2 -o "$OUT/mt1.folded" 2>/dev/null
wait $all
check "oncpu threads: thread_hot >= 70%" ge "$(leaf_share "$OUT/mt.folded" thread_hot)" 70
check "oncpu threads: called from worker" ge "$(stack_share "$OUT/mt.folded" "worker;thread_hot")" 70
check "oncpu -t: one of three threads is 20-50% of the process" \
	between "$(awk -v a="$(total "$OUT/mt1.folded")" -v b="$(total "$OUT/mt.folded")" 'BEGIN { print b ? 100 * a / b : 0 }')" 20 50
stop_targets

# A Go program: Go frames by name.
start_target "$TB/gohot" 8
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/go.folded" 2>/dev/null
check "oncpu go: main.hotLoop >= 70%" ge "$(leaf_share "$OUT/go.folded" main.hotLoop)" 70
check "oncpu go: main.main;main.driveWork;main.hotLoop" \
	ge "$(stack_share "$OUT/go.folded" "main.main;main.driveWork;main.hotLoop")" 70
stop_targets

# -- CMD: profiled from its start, exit status passed through.
"$BPFPROF" oncpu -o "$OUT/cmd.folded" -- "$TB/hot" 1.5 exit > /dev/null 2>&1
check "oncpu -- CMD: returns the command's exit status (7)" eq "$?" 7
check "oncpu -- CMD: hot_spin >= 70%" ge "$(leaf_share "$OUT/cmd.folded" hot_spin)" 70
check "oncpu -- CMD: stacks reach main" ge "$(stack_share "$OUT/cmd.folded" "main;outer_caller")" 70

# A target that exits mid-run: collection ends, stacks still symbolized.
start_target "$TB/hot" 1.2 single
t0=$(date +%s%N)
"$BPFPROF" oncpu -p "$TPID" -d 10 -o "$OUT/exit.folded" 2>"$OUT/exit.err"
rc=$?
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
check "oncpu exit mid-run: exit 0" eq "$rc" 0
check "oncpu exit mid-run: stops when the target exits (< 4 s)" ge 4000 "$secs"
check "oncpu exit mid-run: says the target exited" contains "$OUT/exit.err" "target exited"
check "oncpu exit mid-run: stacks symbolized after exit" ge "$(leaf_share "$OUT/exit.folded" hot_spin)" 70
stop_targets

# A target that execs mid-run (hot for 1 s, then nofp for 1 s, mapped at
# other addresses): samples taken before the exec keep the old program's
# names, by -p (maps re-read) and by -- CMD (mapping records).
start_target env WAIT_FOR_GO=1 "$TB/hot" 1 exec "$TB/nofp" chain 1
"$BPFPROF" oncpu -p "$TPID" -d 6 -o "$OUT/exec-p.folded" -v 2>"$OUT/exec-p.err" &
bp=$!
go_when_attached "$OUT/exec-p.err" "$TPID"
wait $bp
check "oncpu -p, target execs: the new program is profiled" ge "$(awk '/^nofp;/ { t += $NF } END { print t + 0 }' "$OUT/exec-p.folded")" 30
check "oncpu -p, target execs: samples before the exec keep their names (>= 30%)" \
	ge "$(stack_share "$OUT/exec-p.folded" "main;outer_caller;middle_caller;hot_spin")" 30
check "oncpu -p, target execs: the new program's FP-less chain complete (its tables loaded at the exec)" \
	ge "$(awk '/^nofp;/ { t += $NF; if ($0 ~ /main;stage1;stage2;stage3;stage4;stage5;spin /) s += $NF } END { print t ? 100 * s / t : 0 }' "$OUT/exec-p.folded")" 80
stop_targets
"$BPFPROF" oncpu -o "$OUT/exec-cmd.folded" -- "$TB/hot" 1 exec "$TB/nofp" chain 1 > /dev/null 2>&1
check "oncpu -- CMD, command execs: the new program is profiled" ge "$(awk '/^nofp;/ { t += $NF } END { print t + 0 }' "$OUT/exec-cmd.folded")" 30
check "oncpu -- CMD, command execs: samples before the exec keep their names (>= 30%)" \
	ge "$(stack_share "$OUT/exec-cmd.folded" "main;outer_caller;middle_caller;hot_spin")" 30
check "oncpu -- CMD, command execs: the new program's FP-less chain complete" \
	ge "$(awk '/^nofp;/ { t += $NF; if ($0 ~ /main;stage1;stage2;stage3;stage4;stage5;spin /) s += $NF } END { print t ? 100 * s / t : 0 }' "$OUT/exec-cmd.folded")" 80
# System-wide: the process is found by its samples, before and after.
"$BPFPROF" oncpu -d 4 -o "$OUT/exec-sys.folded" -v 2>"$OUT/exec-sys.err" &
bp=$!
wait_attached "$OUT/exec-sys.err"
"$TB/hot" 1 exec "$TB/nofp" chain 1 > /dev/null
wait $bp
check "oncpu system-wide, a process execs: the old program's samples named (>= 50)" \
	ge "$(awk '/^hot;.*main;outer_caller;middle_caller;hot_spin / { t += $NF } END { print t + 0 }' "$OUT/exec-sys.folded")" 50
check "oncpu system-wide, a process execs: the new program's leaf named (>= 50)" \
	ge "$(awk '/^nofp;.*;spin / { t += $NF } END { print t + 0 }' "$OUT/exec-sys.folded")" 50

# Kernel stacks, and -U / -K.
start_target "$TB/hot" 8 sys
"$BPFPROF" oncpu -p "$TPID" -d 1.5 -o "$OUT/sys.folded" 2>/dev/null
check "oncpu kernel: most samples end in kernel frames" ge "$(awk '{ t += $NF; if ($0 ~ /_\[k\] [0-9]+$/) k += $NF } END { print t ? 100 * k / t : 0 }' "$OUT/sys.folded")" 70
check "oncpu kernel: the read path is named" contains "$OUT/sys.folded" "read_[k]"
"$BPFPROF" oncpu -p "$TPID" -d 1 -U -o "$OUT/sysU.folded" 2>/dev/null
check "oncpu -U: no kernel frames" lacks "$OUT/sysU.folded" "_[k]"
"$BPFPROF" oncpu -p "$TPID" -d 1 -K -o "$OUT/sysK.folded" 2>/dev/null
check "oncpu -K: no user frames" eq "$(grep -c 'kernel_heavy\|main;' "$OUT/sysK.folded")" 0
stop_targets

# System-wide finds the busy process; argv[0] alias; SIGINT still writes.
start_target "$TB/hot" 8 single
"$BPFPROF" oncpu -d 2 -o "$OUT/sys-wide.folded" 2>/dev/null
check "oncpu system-wide: hot;...;hot_spin present" \
	ge "$(grep '^hot;' "$OUT/sys-wide.folded" | awk '{ t += $NF } END { print t + 0 }')" 100
"$ROOT/build/oncpu" -p "$TPID" -d 1 > "$OUT/alias.top" 2>&1
check "argv[0] oncpu: same command" contains "$OUT/alias.top" "hot_spin"
"$BPFPROF" oncpu -p "$TPID" -o "$OUT/int.folded" 2>/dev/null &
bp=$!
sleep 1.5
kill -INT $bp
wait $bp
check "oncpu SIGINT: exit 0" eq "$?" 0
check "oncpu SIGINT: profile written" ge "$(leaf_share "$OUT/int.folded" hot_spin)" 70
stop_targets

# --cgroup: only processes inside that cgroup v2 directory.
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$cg_root" ] && mkdir -p "$cg_root/bpfprof-test-$$" 2>/dev/null; then
	cg=$cg_root/bpfprof-test-$$
	start_target "$TB/mt" 6
	start_target "$TB/hot" 6 single
	echo "$TPID" > "$cg/cgroup.procs"
	"$BPFPROF" oncpu --cgroup "$cg" -d 1.5 -o "$OUT/cg.folded" 2>/dev/null
	check "oncpu --cgroup: only the process in the cgroup" eq "$(grep -vc '^hot;' "$OUT/cg.folded")" 0
	check "oncpu --cgroup: its samples are there" ge "$(leaf_share "$OUT/cg.folded" hot_spin)" 70
	stop_targets
	echo "$$" > "$cg_root/cgroup.procs" 2>/dev/null
	rmdir "$cg" 2>/dev/null
else
	fail "oncpu --cgroup" "no cgroup v2 hierarchy to test in"
fi

# -- CMD follows the command's children: a shell running the hot program.
"$BPFPROF" oncpu -o "$OUT/child.folded" -- sh -c "'$TB/hot' 1 single; true" > /dev/null 2>&1
check "oncpu -- sh -c 'hot; true': the child's samples are there (>= 70)" ge "$(total "$OUT/child.folded")" 70
check "oncpu -- sh -c 'hot; true': >= 90% in hot_spin" ge "$(leaf_share "$OUT/child.folded" hot_spin)" 90
check "oncpu -- sh -c: the child's frames are named" ge "$(stack_share "$OUT/child.folded" "main;outer_caller")" 90

# -p with a thread id profiles the thread's process, and says so.
start_target "$TB/mt" 4
tid=$(ls "/proc/$TPID/task" | sort -n | tail -n 1)
"$BPFPROF" oncpu -p "$tid" -d 1 -o "$OUT/tidasp.folded" 2> "$OUT/tidasp.err"
check "-p THREAD: a note names the process" contains "$OUT/tidasp.err" "is a thread of process $TPID"
check "-p THREAD: the process is profiled" ge "$(total "$OUT/tidasp.folded")" 50
stop_targets

# A target that exits and whose pid is then reused by another process: the
# run ends (start times differ), it does not go on profiling the stranger.
start_target "$TB/hot" 0.5 single
victim=$TPID
"$BPFPROF" oncpu -p "$victim" -d 6 -o "$OUT/reuse.folded" 2> "$OUT/reuse.err" &
bp=$!
wait "$victim" 2>/dev/null
reused=0
for _ in $(seq 20); do
	echo $(( victim - 1 )) > /proc/sys/kernel/ns_last_pid
	sleep 4 &
	if [ $! -eq "$victim" ]; then reused=1; break; fi
	kill $! 2>/dev/null
done
t0=$(date +%s%N)
wait "$bp"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "pid reuse: the pid was taken by another process (test setup)" eq "$reused" 1
check "pid reuse: the run ends when its target exits (< 2.5 s after)" ge 2500 "$ms"
check "pid reuse: says the target exited" contains "$OUT/reuse.err" "target exited"
kill %+ 2>/dev/null

# A short command in its own mount namespace, where the path it runs is
# another file than ours at that path: never named from our file.
mkdir -p "$OUT/mntns"; cp "$TB/sleeper" "$OUT/mntns/prog"
"$BPFPROF" oncpu -F 999 -o "$OUT/mntns.folded" -- unshare -m sh -c \
	"mount --bind '$TB/hot' '$OUT/mntns/prog' && exec '$OUT/mntns/prog' 0.05 single" > /dev/null 2>&1
check "mount namespace: the command's samples are there" ge "$(grep '^prog;' "$OUT/mntns.folded" | total /dev/stdin)" 20
check "mount namespace: no names from our file at the same path" lacks "$OUT/mntns.folded" "nap_"
