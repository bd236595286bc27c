# lockwait end to end: contended, uncontended and condition-variable targets.
L=$TB/locks
export HOME=$OUT
ns_in() { awk -v f="$2" '{ line = ";" $0; sub(/ [0-9]+$/, ";", line); if (index(line, ";" f ";")) t += $NF } END { print t + 0 }' "$1"; }
LIBC=$(ldd "$L" | awk '/libc.so/ { print $3 }')

# 4 threads on one mutex held 1 ms: delay matches what the target measured.
"$BPFPROF" lockwait --user -o "$OUT/mu.folded" -o "$OUT/mu.pb.gz" -- "$L" mutex 2 > "$OUT/mu.out" 2>/dev/null
check "lockwait -- CMD: exit 0" eq "$?" 0
measured=$(awk '/measured_wait_ns/ { print $2 }' "$OUT/mu.out")
ours=$(total "$OUT/mu.folded")
check "lockwait mutex: total delay within 25% of the target's own clock ($measured ns)" \
	between "$ours" "$(awk -v m="$measured" 'BEGIN { print m * 0.75 }')" "$(awk -v m="$measured" 'BEGIN { print m * 1.25 }')"
check "lockwait mutex: the contending thread function holds >= 90%" \
	ge "$(awk -v a="$(ns_in "$OUT/mu.folded" mutex_worker)" -v b="$ours" 'BEGIN { print b ? 100 * a / b : 0 }')" 90
go tool pprof -raw "$OUT/mu.pb.gz" > "$OUT/mu.raw" 2>&1
check "lockwait mutex: labelled lock_kind mutex" contains "$OUT/mu.raw" "lock_kind:[mutex]"
check "lockwait mutex: pprof sample types are Go's mutex profile's" contains "$OUT/mu.raw" "contentions/count delay/nanoseconds"
"$BPFPROF" report "$OUT/mu.pb.gz" > "$OUT/mu.txt"
check "lockwait mutex: top defaults to delay" contains "$OUT/mu.txt" "delay total"

# An rwlock writer blocking readers.
# (glibc's rwlock wait path is frameless: the user stack stops in libc, so
# the check is on the label.)
"$BPFPROF" lockwait --user -o "$OUT/rw.json" -o "$OUT/rw.pb.gz" -- "$L" rwlock 1.5 > /dev/null 2>&1
rwns=$(python3 -c "
import json; d = json.load(open('$OUT/rw.json'))
print(sum(s['values'][1] for s in d['samples'] if s['labels'].get('lock_kind') == 'rwlock'))")
check "lockwait rwlock: readers wait on the rwlock (>= 100 ms)" ge "$rwns" 100000000
go tool pprof -raw "$OUT/rw.pb.gz" > "$OUT/rw.raw" 2>&1
check "lockwait rwlock: labelled lock_kind rwlock" contains "$OUT/rw.raw" "lock_kind:[rwlock]"

# A condition-variable ping-pong is not mutex contention.
"$BPFPROF" lockwait --user -o "$OUT/cv.folded" -- "$L" condvar 1.5 > /dev/null 2> "$OUT/cv.err"
check "lockwait condvar: says the value-0 futex waits it left out" contains "$OUT/cv.err" "not counted as lock waits: "
check "lockwait condvar: ... and how many (> 0)" bash -c "grep -Eq 'lock waits: [1-9][0-9]* futex waits for 0' '$OUT/cv.err'"
check "lockwait condvar: cond waits not counted (< 50 ms of ~1.5 s of waiting)" ge 50000000 "$(total "$OUT/cv.folded")"

# Lock-heavy but uncontended: nothing to report.
"$BPFPROF" lockwait --user -o "$OUT/un.folded" -- "$L" uncontended > "$OUT/un.out" 2>/dev/null
check "lockwait uncontended: 10M lock/unlock pairs, no contention reported" eq "$(total "$OUT/un.folded")" 0
check "lockwait uncontended: target ran to the end" contains "$OUT/un.out" "ops_per_sec"

# Kernel locks: mmap/munmap from 4 threads contend on the mm's lock.
"$BPFPROF" lockwait --kernel -o "$OUT/k.folded" -o "$OUT/k.pb.gz" -- "$L" kernel 1.5 > /dev/null 2>&1
check "lockwait --kernel: contention with kernel stacks" ge "$(grep -c '_\[k\]' "$OUT/k.folded")" 1
go tool pprof -raw "$OUT/k.pb.gz" > "$OUT/k.raw" 2>&1
check "lockwait --kernel: lock kind label" contains "$OUT/k.raw" "lock_kind:[kernel"
check "lockwait --kernel: the mm lock's slow path" contains "$OUT/k.folded" "rwsem_down_write_slowpath_[k]"
check "lockwait --kernel: user stacks say which call (mapper;mmap/munmap: complete through libc)" grep -qE 'start_thread;mapper;(__)?(mmap|munmap);' "$OUT/k.folded"
"$BPFPROF" lockwait --kernel --by-lock -o "$OUT/kb.pb.gz" -- "$L" kernel 1 > /dev/null 2>&1
go tool pprof -raw "$OUT/kb.pb.gz" > "$OUT/kb.raw" 2>&1
check "lockwait --by-lock: lock label" contains "$OUT/kb.raw" "lock:["

# Go: sync.Mutex contention by stack, and the program is not harmed.
"$BPFPROF" lockwait --user --sample-index contentions -o "$OUT/go.folded" -- "$TB/golock" > "$OUT/go.out" 2>&1
check "lockwait go: the program completes normally" contains "$OUT/go.out" "acquired"
check "lockwait go: main.holdLock;sync.(*Mutex).Lock;sync.(*Mutex).lockSlow contentions (>= 100, Lock inlined)" \
	ge "$(ns_in "$OUT/go.folded" "main.holdLock;sync.(*Mutex).Lock;sync.(*Mutex).lockSlow")" 100

# --min-wait, --lib.
"$BPFPROF" lockwait --user --min-wait 1s -o "$OUT/mw.folded" -- "$L" mutex 1 > /dev/null 2>&1
check "lockwait --min-wait 1s: 1 ms waits excluded" eq "$(total "$OUT/mw.folded")" 0
"$BPFPROF" lockwait --user --lib "$LIBC" -o "$OUT/lib.folded" -- "$L" mutex 1 > /dev/null 2>&1
check "lockwait --lib libc: waits counted" ge "$(total "$OUT/lib.folded")" 100000000

# Bad input.
for args in "--lib /etc/passwd" "--lib /nonexistent.so" "--lib $(ls /lib/x86_64-linux-gnu/libz.so.1)" "--min-wait 3parsecs" "-p 999999"; do
	# shellcheck disable=SC2086
	"$BPFPROF" lockwait $args -d 1 > /dev/null 2> "$OUT/lerr"
	check "lockwait $args: exit 2" eq "$?" 2
	check "lockwait $args: one line" one_line "$OUT/lerr"
done

# POSIX semaphores used as locks (postgres's LWLocks sleep in sem_wait): the
# wait is told apart from a condition variable by a probe on sem_wait.
"$BPFPROF" lockwait --user -o "$OUT/sem.json" -o "$OUT/sem.folded" -- "$L" sem 2 > "$OUT/sem.out" 2>/dev/null
semw=$(awk '/measured_wait_ns/ { print $2 }' "$OUT/sem.out")
semd=$(python3 -c "
import json; d = json.load(open('$OUT/sem.json'))
print(sum(s['values'][1] for s in d['samples'] if s['labels'].get('lock_kind') == 'semaphore'))")
check "lockwait sem: semaphore waits counted (>= 1 s)" ge "$semd" 1000000000
check "lockwait sem: labelled semaphore, total within 25% of the target's own clock" \
	between "$semd" "$(( semw * 3 / 4 ))" "$(( semw * 5 / 4 ))"
"$BPFPROF" lockwait --user --unwind dwarf -o "$OUT/semd.folded" -- "$L" sem 1 > /dev/null 2>&1
check "lockwait sem --unwind dwarf: the waiting function (hold_sem) on >= 90% of the delay" \
	ge "$(stack_share "$OUT/semd.folded" "hold_sem")" 90
