# -o: what is at the path decides how it is written. Regular files are
# replaced atomically with the mode `>` would give; devices, FIFOs and
# sockets are written in place; a failing output loses its own profile only.

D=$OUT/outdir
mkdir -p "$D"
run_hot() { "$BPFPROF" oncpu -F 499 "$@" -- "$TB/hot" 0.5 single > /dev/null 2>> "$OUT/output.err"; }

# A character device (a private /dev/null: same major/minor) stays one.
mknod "$D/null" c 1 3
run_hot -o "$D/null" -f top
check "-o on a character device: exit 0" eq "$?" 0
check "-o on a character device: still a character device" test -c "$D/null"

# A FIFO: its reader gets the profile.
mkfifo "$D/fifo"
( exec cat "$D/fifo" > "$D/fifo.out" ) &
reader=$!
run_hot -o "$D/fifo" -f folded
wait "$reader"
check "-o on a FIFO: still a FIFO" test -p "$D/fifo"
check "-o on a FIFO: the reader got the folded stacks" contains "$D/fifo.out" "hot_spin"

# A Unix socket: whoever listens gets it.
python3 - "$D/sock" "$D/sock.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
open(sys.argv[2], "wb").write(data)
PY
listener=$!
for _ in $(seq 50); do [ -S "$D/sock" ] && break; sleep 0.05; done
run_hot -o "$D/sock" -f folded
wait "$listener"
check "-o on a socket: the listener got the folded stacks" contains "$D/sock.out" "hot_spin"

# Regular files: the mode `>` would give (umask), an existing file's own.
( umask 022; run_hot -o "$D/u022.folded" )
( umask 077; run_hot -o "$D/u077.folded" )
check "-o new file, umask 022: mode 644" eq "$(stat -c %a "$D/u022.folded")" 644
check "-o new file, umask 077: mode 600" eq "$(stat -c %a "$D/u077.folded")" 600
echo old > "$D/kept.folded"; chmod 640 "$D/kept.folded"
run_hot -o "$D/kept.folded"
check "-o existing file: keeps its mode 640" eq "$(stat -c %a "$D/kept.folded")" 640
check "-o existing file: replaced by the profile" contains "$D/kept.folded" "hot_spin"
check "-o: no temporary files left" eq "$(ls "$D" | grep -c '\.tmp\.')" 0

# Symlinks: followed (the link stays a link), except another user's link in
# a sticky world-writable directory, as protected_symlinks would refuse.
ln -s "$D/real.folded" "$D/link.folded"
run_hot -o "$D/link.folded"
check "-o through a symlink: the link is kept" test -L "$D/link.folded"
check "-o through a symlink: its target holds the profile" contains "$D/real.folded" "hot_spin"
sticky=$(mktemp -d /tmp/bpfprof-sticky.XXXXXX); chmod 1777 "$sticky"
echo precious > "$D/precious"
ln -s "$D/precious" "$sticky/p.folded"; chown -h 65534:65534 "$sticky/p.folded"
"$BPFPROF" oncpu -d 0.2 -o "$sticky/p.folded" > /dev/null 2> "$OUT/sym.err"
check "-o another user's symlink in a sticky dir: exit 2" eq "$?" 2
check "-o another user's symlink in a sticky dir: one line" one_line "$OUT/sym.err"
check "-o another user's symlink in a sticky dir: says why" contains "$OUT/sym.err" "sticky world-writable"
check "-o another user's symlink in a sticky dir: its target untouched" eq "$(cat "$D/precious")" precious
rm -rf "$sticky"

# A full device: the error says ENOSPC, exit 1.
mknod "$D/full" c 1 7
"$BPFPROF" oncpu -d 0.3 -o "$D/full" -f folded > /dev/null 2> "$OUT/full.err"
check "-o on a full device: exit 1" eq "$?" 1
check "-o on a full device: No space left on device" contains "$OUT/full.err" "No space left on device"

# Intervals: a failing output loses its own profiles, counted; the other
# output and the command go on to the end.
rm -f "$D"/iv-*.folded
"$BPFPROF" oncpu -i 0.3 -o "$D/full" -o "$D/iv-%n.folded" -f folded \
	-- sh -c "'$TB/hot' 1.5 single; echo done > '$D/cmd.done'" > /dev/null 2> "$OUT/iv.err"
check "-i with a failing output: exit 1" eq "$?" 1
check "-i with a failing output: the command ran to its end" test -f "$D/cmd.done"
check "-i with a failing output: the other output has every interval (>= 4)" ge "$(ls "$D"/iv-*.folded | wc -l)" 4
check "-i with a failing output: the lost profiles are counted" grep -qE "[0-9]+ of [0-9]+ profiles not written" "$OUT/iv.err"

# %t: the interval's start with milliseconds; no interval overwrites another.
rm -f "$D"/t-*.folded
"$BPFPROF" oncpu -i 0.3 -n 6 -o "$D/t-%t.folded" > /dev/null 2>&1
check "-i 0.3 -n 6 -o t-%t.folded: six files" eq "$(ls "$D"/t-*.folded | wc -l)" 6
check "%t has milliseconds" bash -c "ls '$D' | grep -qE '^t-[0-9-]+T[0-9:]+\.[0-9]{3}Z\.folded$'"
