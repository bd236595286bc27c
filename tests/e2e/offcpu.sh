# offcpu end to end: targets with known block times.
S=$TB/sleeper
# ms_in FILE FUNC: off-CPU milliseconds of stacks holding FUNC (folded in ns)
ms_in() { awk -v f="$2" '{ line = ";" $0; sub(/ [0-9]+$/, ";", line); if (index(line, ";" f ";")) t += $NF } END { printf "%.1f\n", t / 1e6 }' "$1"; }

# 10 x 50 ms in sleep_fifty: 500 ms +-15%, with the kernel sleep path.
"$BPFPROF" offcpu -o "$OUT/sleep.folded" -- "$S" sleep > /dev/null 2>&1
check "offcpu -- CMD: exit 0" eq "$?" 0
check "offcpu sleep: sleep_fifty blocked 500 ms +-15%" between "$(ms_in "$OUT/sleep.folded" sleep_fifty)" 425 575
check "offcpu sleep: kernel stack shows the sleep path" contains "$OUT/sleep.folded" "do_nanosleep_[k]"
check "offcpu sleep: the user caller is main" ge "$(ms_in "$OUT/sleep.folded" "main;sleep_fifty")" 425
"$BPFPROF" offcpu -o "$OUT/sleep-child.folded" -- sh -c "'$S' sleep; true" > /dev/null 2>&1
check "offcpu -- sh -c: the child's sleep_fifty 500 ms +-15%" between "$(ms_in "$OUT/sleep-child.folded" sleep_fifty)" 425 575

# By pid: a thread blocked reading a pipe that another process feeds.
start_target env WAIT_FOR_GO=1 "$S" pipe
"$BPFPROF" offcpu -v -p "$TPID" -o "$OUT/pipe.folded" 2>"$OUT/pipe.err" &
bp=$!
go_when_attached "$OUT/pipe.err" "$TPID"
wait $bp
check "offcpu pipe: pipe_reader blocked ~500 ms (400-600)" between "$(ms_in "$OUT/pipe.folded" pipe_reader)" 400 600
check "offcpu pipe: kernel stack in pipe_read" contains "$OUT/pipe.folded" "pipe_read_[k]"
check "offcpu -p: the feeding child process is excluded" eq "$(grep -vc '^sleeper;' "$OUT/pipe.folded")" 0
stop_targets

# Two sleeping functions in a known ratio (30 ms : 10 ms).
"$BPFPROF" offcpu -o "$OUT/ratio.folded" -- "$S" ratio > /dev/null 2>&1
three=$(ms_in "$OUT/ratio.folded" nap_three); one=$(ms_in "$OUT/ratio.folded" nap_one)
check "offcpu ratio: nap_three:nap_one is 3:1 (75% +-7)" \
	between "$(awk -v a="$three" -v b="$one" 'BEGIN { print (a + b) ? 100 * a / (a + b) : 0 }')" 68 82
check "offcpu ratio: nap_three totals 300 ms +-15%" between "$three" 255 345

# --min-block drops short blocks only.
"$BPFPROF" offcpu --min-block 10ms -o "$OUT/min.folded" -- "$S" mixed > /dev/null 2>&1
"$BPFPROF" offcpu -o "$OUT/nomin.folded" -- "$S" mixed > /dev/null 2>&1
check "offcpu: without --min-block, 1 ms naps are counted (>= 80 ms)" ge "$(ms_in "$OUT/nomin.folded" short_naps)" 80
check "offcpu --min-block 10ms: short naps excluded" eq "$(ms_in "$OUT/min.folded" short_naps)" 0.0
check "offcpu --min-block 10ms: long naps kept (200 ms +-15%)" between "$(ms_in "$OUT/min.folded" long_naps)" 170 230
"$BPFPROF" offcpu --max-block 10ms -o "$OUT/max.folded" -- "$S" mixed > /dev/null 2>&1
check "offcpu --max-block 10ms: long naps excluded" eq "$(ms_in "$OUT/max.folded" long_naps)" 0.0

# --state separates uninterruptible (vfork parent waits in D) from sleeping.
"$BPFPROF" offcpu --state uninterruptible -o "$OUT/d.folded" -- "$S" vfork > /dev/null 2>&1
"$BPFPROF" offcpu --state sleeping -o "$OUT/s.folded" -- "$S" vfork > /dev/null 2>&1
check "offcpu --state uninterruptible: vfork_waiter ~300 ms" between "$(ms_in "$OUT/d.folded" vfork_waiter)" 250 400
# The vfork children are followed: their naps (S, on the shared stack) are
# the sleeping profile; the parent's D wait in kernel_clone is not.
# (raw3, the inline syscall wrapper, shows as an inlined frame when the
# binary's DWARF is read; without it vfork_waiter calls the entry directly.)
# A nap whose kernel stack the store could not keep (an allocation refused
# at a new process's first switches: counted in the lost line) is still
# under vfork_waiter; the nanosleep path must show for the others.
check "offcpu --state sleeping: the children's naps under vfork_waiter (~300 ms)" \
	between "$(ms_in "$OUT/s.folded" vfork_waiter)" 250 400
check "offcpu --state sleeping: ... in nanosleep" \
	ge "$(awk -v a="$(ms_in "$OUT/s.folded" "vfork_waiter;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_nanosleep_[k]")" \
		-v b="$(ms_in "$OUT/s.folded" "vfork_waiter;raw3;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_nanosleep_[k]")" \
		'BEGIN { print a + b }')" 90
check "offcpu --state sleeping: the parent's vfork wait absent" eq "$(ms_in "$OUT/s.folded" "kernel_clone_[k]")" 0.0
"$BPFPROF" offcpu -f pprof -o "$OUT/d.pb.gz" --state uninterruptible -- "$S" vfork > /dev/null 2>&1
HOME=$OUT go tool pprof -raw "$OUT/d.pb.gz" > "$OUT/d.raw" 2>&1
check "offcpu: state is a sample label" contains "$OUT/d.raw" "state:[uninterruptible]"

# States from the tracepoint's prev_state, not task->__state read at
# switch-out (a waker on the other CPU can already have set TASK_WAKING):
# two processes passing a byte over pipes, ~100k sleeps, none "other".
"$BPFPROF" offcpu -f json -o "$OUT/pp.json" -- "$TB/pingpong" 1 > /dev/null 2>&1
pp_states=$(python3 -c "
import json, collections
c = collections.Counter()
for s in json.load(open('$OUT/pp.json'))['samples']: c[s['labels'].get('state')] += s['values'][0]
print(c['sleeping'], c['other'])")
check "offcpu pingpong: thousands of sleeps seen" ge "${pp_states% *}" 5000
check "offcpu pingpong: no sleep labelled other" eq "${pp_states#* }" 0

# Asleep at the end of the run: counted up to the end, never beyond it.
start_target env WAIT_FOR_GO=1 "$S" nap 5
"$BPFPROF" offcpu -v -p "$TPID" -d 1.5 -o "$OUT/nap.folded" 2>"$OUT/nap.err" &
bp=$!
go_when_attached "$OUT/nap.err" "$TPID"
wait $bp
napms=$(ms_in "$OUT/nap.folded" long_nap)
check "offcpu: a thread asleep at the end is counted up to the end (~1.3 s)" between "$napms" 1100 1500
check "offcpu: a thread's total never exceeds the run's wall time" \
	ge 1550 "$(awk '{ t += $NF } END { printf "%d", t / 1e6 }' "$OUT/nap.folded")"
stop_targets

# Go: blocking in a channel receive and time.Sleep shows Go frames.
"$BPFPROF" offcpu -o "$OUT/go.folded" -- "$TB/gosleep" > /dev/null 2>&1
check "offcpu go: Go runtime frames named" contains "$OUT/go.folded" "runtime."
check "offcpu go: ~1 s blocked in total (main thread and Ms)" ge "$(awk '{ t += $NF } END { printf "%d", t / 1e6 }' "$OUT/go.folded")" 900

# Kernel threads are labelled; the top table's header.
"$BPFPROF" offcpu -d 1 -o "$OUT/sys.folded" -o "$OUT/sys.txt" 2>/dev/null
check "offcpu system-wide: kernel threads labelled" contains "$OUT/sys.folded" "[kernel_thread];ret_from_fork"
check "offcpu top: header" contains "$OUT/sys.txt" "offcpu: system-wide"
check "offcpu: BPF machinery frames trimmed" lacks "$OUT/sys.folded" "bpf_trace_run"
"$ROOT/build/offcpu" -o "$OUT/alias.folded" -- "$S" sleep > /dev/null 2>&1
check "argv[0] offcpu" contains "$OUT/alias.folded" "sleep_fifty"

# The raw_tp fallback (kernels without tp_btf) gives the same result.
BPFPROF_FORCE_RAW_TP=1 "$BPFPROF" offcpu -v -o "$OUT/raw.folded" -- "$S" sleep > /dev/null 2> "$OUT/raw.err"
check "offcpu raw_tp fallback: attached with raw_tp" contains "$OUT/raw.err" "attached with raw_tp"
check "offcpu raw_tp fallback: sleep_fifty 500 ms +-15%" between "$(ms_in "$OUT/raw.folded" sleep_fifty)" 425 575

# Bad input.
for args in "--min-block 5xs" "--min-block 10ms --max-block 1ms" "--state napping" "-p 999999" "--max-block -1ms"; do
	# shellcheck disable=SC2086
	"$BPFPROF" offcpu $args -d 1 > /dev/null 2> "$OUT/oerr"
	check "offcpu $args: exit 2" eq "$?" 2
	check "offcpu $args: one line" one_line "$OUT/oerr"
done

# Interval mode over many distinct stacks (4 threads, 1024 call paths, 1 ms
# naps): every event whose stack is missing is counted in the lost line, and
# none loses its stack to recycling between intervals.
"$BPFPROF" offcpu -U -i 0.1 -f json -- "$S" stacks 2 > "$OUT/stacks.json" 2>/dev/null
stk=$(python3 -c "
import json, collections
lost = collections.Counter(); ev = gone = 0; paths = set()
for l in open('$OUT/stacks.json').read().splitlines():
    if not l.startswith('{'): continue
    d = json.loads(l); lost.update(d['lost'])
    for s in d['samples']:
        fr = [d['frames'][i]['function'] for i in s['stack']]
        if 'stack_walker' in fr: ev += s['values'][0]; paths.add(tuple(fr))
        if '[user stack lost]' in fr: gone += s['values'][0]
print(ev, len(paths), gone, sum(lost.values()), lost['stacks recycled before read'])")
read -r stk_ev stk_paths stk_gone stk_lost stk_recycled <<< "$stk"
check "offcpu -i over 1024 stacks: thousands of naps seen" ge "$stk_ev" 3000
check "offcpu -i over 1024 stacks: most call paths seen" ge "$stk_paths" 900
check "offcpu -i over 1024 stacks: every event without its stack is counted" ge "$stk_lost" "$stk_gone"
check "offcpu -i over 1024 stacks: none recycled before read" eq "$stk_recycled" 0

# Already asleep when the run starts: seeded at start (a task iterator), so
# the whole run is counted, under the stack it sleeps in.
start_target "$S" nap 5
sleep 0.5 # busy 200 ms, then asleep for 5 s
"$BPFPROF" offcpu -p "$TPID" -d 1.5 -o "$OUT/seed.folded" 2>/dev/null
check "offcpu: a thread asleep since before the run is counted from the start (1.5 s +-10%)" \
	between "$(ms_in "$OUT/seed.folded" "main;long_nap")" 1350 1650
check "offcpu: ... with its kernel stack" contains "$OUT/seed.folded" "hrtimer_nanosleep_[k]"
stop_targets
