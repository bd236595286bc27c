# Files a profiled process controls are hostile input to root bpfprof: a JIT
# target running as nobody points its perf map at a root-only file, a FIFO,
# or a 1 GiB sparse file. bpfprof must read none of them, never hang, finish
# in about its normal time, and say what it skipped.
chmod 755 "$TB" "$TB/jit" 2>/dev/null
secret=$OUT/root-only-secret
echo "SECRET_frame_name_5f3a" > "$secret"
printf '%s 1000 SECRET_frame_name_5f3a\n' 0 >> "$secret"
chmod 600 "$secret"
# setpriv execs the target: its pid is the one start_target sees.
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# The well-formed case first: JIT frames are named from the map.
start_target $NOBODY "$TB/jit" ok
"$BPFPROF" oncpu -p "$TPID" -d 1 -o "$OUT/jit-ok.folded" 2>"$OUT/jit-ok.err"
check "perf map: a JIT frame is named" contains "$OUT/jit-ok.folded" "jit_spin"
stop_targets
rm -f "/tmp/perf-$TPID.map"

# A name that carries a terminal escape prints escaped in top.
start_target $NOBODY "$TB/jit" escape
"$BPFPROF" oncpu -p "$TPID" -d 1 -f top > "$OUT/jit-esc.txt" 2>/dev/null
check "top: a name's terminal escape is shown escaped" contains "$OUT/jit-esc.txt" 'jit\x1b]0;retitled\x07spin'
check "top: no raw escape character reaches the terminal" eq "$(grep -c $'\033' "$OUT/jit-esc.txt")" 0
stop_targets
rm -f "/tmp/perf-$TPID.map"

for kind in link zero fifo big; do
	case $kind in
	link) start_target $NOBODY "$TB/jit" link "$secret" ;;
	zero) start_target $NOBODY "$TB/jit" link /dev/zero ;;
	*) start_target $NOBODY "$TB/jit" $kind ;;
	esac
	t0=$(date +%s%N)
	timeout 20 "$BPFPROF" oncpu -p "$TPID" -d 1 -o "$OUT/jit-$kind.folded" 2>"$OUT/jit-$kind.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "perf map ($kind): exit 0, no hang" eq "$rc" 0
	check "perf map ($kind): finished in under 3 s (a 1 s profile)" ge 3000 "$ms"
	check "perf map ($kind): the profile has samples" ge "$(total "$OUT/jit-$kind.folded")" 15
	check "perf map ($kind): nothing of the refused file in the profile" lacks "$OUT/jit-$kind.folded" "SECRET"
	check "perf map ($kind): a one-line warning says why" contains "$OUT/jit-$kind.err" "not read:"
	stop_targets
	rm -f "/tmp/perf-$TPID.map" # the target's (a link, FIFO or 1 GiB file): never left behind
done
check "perf map (link): named as a link" contains "$OUT/jit-link.err" "symbolic link"
check "perf map (fifo): named as not a regular file" contains "$OUT/jit-fifo.err" "not a regular file"
check "perf map (big): named as too large" contains "$OUT/jit-big.err" "larger than the limit"

# An ELF whose .symtab claims 4 GiB (a sparse file): skipped with a warning,
# the profile still made in about its normal time and memory.
cp "$TB/hot" "$OUT/sparse-elf"
python3 - "$OUT/sparse-elf" <<'PY'
import struct, sys, os
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum = struct.unpack_from('<HH', b, 0x3a)
for i in range(shnum):
    o = shoff + i * shentsize
    if struct.unpack_from('<I', b, o + 4)[0] == 2:  # SHT_SYMTAB
        off, = struct.unpack_from('<Q', b, o + 0x18)
        struct.pack_into('<Q', b, o + 0x20, 4 << 30)
        open(p, 'wb').write(b)
        os.truncate(p, off + (4 << 30))
        break
PY
chmod +x "$OUT/sparse-elf"
check "sparse ELF: the file claims 4 GiB" ge "$(stat -c %s "$OUT/sparse-elf")" 4294967296
t0=$(date +%s%N)
/usr/bin/time -f "%M" -o "$OUT/sparse.rss" "$BPFPROF" oncpu -d 1 -o "$OUT/sparse.folded" -- "$OUT/sparse-elf" 1.5 single 2> "$OUT/sparse.err" > /dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "sparse ELF: finished in under 4 s" ge 4000 "$ms"
check "sparse ELF: peak RSS under 200 MB" ge 204800 "$(tail -n 1 "$OUT/sparse.rss")"
check "sparse ELF: says the table was not read" contains "$OUT/sparse.err" "symbol table"
check "sparse ELF: the profile has samples" ge "$(total "$OUT/sparse.folded")" 20

# A gzip bomb given to report: refused, bounded, exit 2.
head -c 1000000000 /dev/zero | gzip -9 > "$OUT/bomb.pb.gz"
/usr/bin/time -f "%M" -o "$OUT/bomb.rss" "$BPFPROF" report "$OUT/bomb.pb.gz" > /dev/null 2> "$OUT/bomb.err"
check "report of a gzip bomb: exit 2" eq "$?" 2
check "report of a gzip bomb: one line" one_line "$OUT/bomb.err"
check "report of a gzip bomb: peak RSS under 300 MB" ge 307200 "$(tail -n 1 "$OUT/bomb.rss")"
rm -f "$OUT/sparse-elf" "$OUT/bomb.pb.gz"
