# Bad input: one line on stderr naming the problem, documented exit status.

# expect_error NAME STATUS TEXT -- ARGS...
expect_error() {
	local name=$1 want=$2 text=$3; shift 4
	"$@" > "$OUT/err.out" 2> "$OUT/err.txt"
	local rc=$?
	check "$name: exit $want" eq "$rc" "$want"
	check "$name: one line on stderr" one_line "$OUT/err.txt"
	check "$name: says '$text'" contains "$OUT/err.txt" "$text"
}

expect_error "no such pid" 2 "pid 999999: no such process" -- "$BPFPROF" oncpu -p 999999 -d 1
expect_error "bad pid" 2 "not a valid pid" -- "$BPFPROF" oncpu -p 12x -d 1
expect_error "no such tid" 2 "tid 999999: no such thread" -- "$BPFPROF" oncpu -t 999999 -d 1
expect_error "-F 0" 2 "sampling frequency must be" -- "$BPFPROF" oncpu -F 0 -d 1
expect_error "-F negative" 2 "sampling frequency must be" -- "$BPFPROF" oncpu -F -5 -d 1
expect_error "-F absurd" 2 "sampling frequency must be" -- "$BPFPROF" oncpu -F 100000000 -d 1
expect_error "unknown format" 2 "valid: top|folded" -- "$BPFPROF" oncpu -f flames -d 1
expect_error "unknown extension" 2 "cannot tell the format" -- "$BPFPROF" oncpu -o "$OUT/x.weird" -d 1
expect_error "unwritable -o" 2 "cannot write /nonexistent-dir/x.folded" -- "$BPFPROF" oncpu -o /nonexistent-dir/x.folded -d 1
expect_error "bad duration" 2 "--duration 'abc'" -- "$BPFPROF" oncpu -d abc
expect_error "zero duration" 2 "expected a positive duration" -- "$BPFPROF" oncpu -d 0
expect_error "unknown option" 2 "unknown option '--bogus'" -- "$BPFPROF" oncpu --bogus
expect_error "unknown command" 2 "unknown command 'cpuprof'" -- "$BPFPROF" cpuprof
expect_error "bad sample index" 2 "--sample-index 'bytes': oncpu has samples, cpu" -- "$BPFPROF" oncpu --sample-index bytes -d 1
expect_error "-U with -K" 2 "exclude each other" -- "$BPFPROF" oncpu -U -K -d 1
expect_error "command not found" 2 "cannot run /nonexistent/prog" -- "$BPFPROF" oncpu -- /nonexistent/prog
expect_error "no BTF file" 1 "no BTF at /nonexistent/vmlinux" -- "$BPFPROF" oncpu --btf /nonexistent/vmlinux -d 1
expect_error "not a BTF file" 1 "/etc/passwd is not a BTF file" -- "$BPFPROF" oncpu --btf /etc/passwd -d 1
expect_error "not root" 1 "needs root (CAP_BPF and CAP_PERFMON)" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$BPFPROF" oncpu -d 1
expect_error "not a cgroup" 2 "not a cgroup v2 directory" -- "$BPFPROF" oncpu --cgroup /tmp -d 1
