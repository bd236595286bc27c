# Source lines and inlined frames (#18): a target built -O2 -g whose hot
# function mix() is always inlined into outer().
"$BPFPROF" oncpu -f folded -o "$OUT/inl.folded" -o "$OUT/inl.pb.gz" -- "$TB/inl" 1.5 > /dev/null 2> "$OUT/inl.err"
check "lines: the inlined function is a frame under its caller in >= 90% of samples" \
	ge "$(stack_share "$OUT/inl.folded" "main;outer;mix")" 90
(cd / && go tool pprof -list '^mix$' "$OUT/inl.pb.gz") > "$OUT/inl.list" 2>&1
check "lines: go tool pprof -list mix shows the source, samples on the loop's lines (11, 12)" python3 -c "
import re
t = open('$OUT/inl.list').read()
assert 'ROUTINE' in t and '/* HOT */' in t, t[:600]
rows = {int(m.group(3)): int(m.group(1)) for m in re.finditer(r'^\s+(\d+)\s+(\d+)\s+(\d+):', t, re.M)}
total = sum(rows.values())
assert total > 50 and rows.get(11, 0) + rows.get(12, 0) >= 0.9 * total, rows"
(cd / && go tool pprof -list '^outer$' "$OUT/inl.pb.gz") > "$OUT/inl-outer.list" 2>&1
check "lines: the caller's line is the call site (s ^= mix(i))" python3 -c "
import re
t = open('$OUT/inl-outer.list').read()
m = re.search(r'^\s+\S+\s+(\d+)\s+21:\s+s \^= mix', t, re.M)
assert m and int(m.group(1)) > 50, t[:600]"
# No debug information: functions, no lines, no error.
"$BPFPROF" oncpu -f top -o "$OUT/nodbg.txt" -- "$TB/symtarget_stripped" > /dev/null 2> "$OUT/nodbg.err"
check "lines: a stripped binary: exit 0, profile written" bash -c "test -s '$OUT/nodbg.txt'"
# Unnamed code (a stripped library: Debian's libz, under python3's zlib) is
# named per function, by the start of the .eh_frame FDE around it, not per
# instruction.
LIBZ=$(readlink -f /usr/lib/x86_64-linux-gnu/libz.so.1)
"$BPFPROF" oncpu -f folded -o "$OUT/z.folded" -- /usr/bin/python3 -c "
import zlib, os
d = os.urandom(4 << 20)
for _ in range(4): zlib.compress(d, 9)" > /dev/null 2>&1
readelf --debug-dump=frames "$LIBZ" 2>/dev/null | sed -n 's/.*FDE.*pc=\([0-9a-f]*\)\.\..*/\1/p' | sed 's/^0*//' | sort -u > "$OUT/z.fdes"
check "lines: unnamed libz code named by its function's start (every libz+0x name is an FDE start)" python3 -c "
import re
fdes = set(l.strip() for l in open('$OUT/z.fdes') if l.strip())
names = set(m.group(1).lstrip('0') for l in open('$OUT/z.folded') for m in re.finditer(r'libz\.so[0-9.]*\+0x([0-9a-f]+)', l))
assert fdes and names, (len(fdes), names)
bad = names - fdes
assert not bad, sorted(bad)[:5]"
# report --list and --lines: the same lines, from our own tools.
"$BPFPROF" report "$OUT/inl.pb.gz" --list '^mix$' > "$OUT/inl-rl.txt" 2> "$OUT/inl-rl.err"
check "report --list mix: the source with the samples on the loop's lines" python3 -c "
import re
t = open('$OUT/inl-rl.txt').read()
rows = {int(m.group(3)): int(m.group(1)) for m in re.finditer(r'^\s+(\d+)\s+(\d+)\s+(\d+): ', t, re.M)}
assert '/* HOT */' in t and rows.get(11, 0) + rows.get(12, 0) >= 0.9 * sum(rows.values()) > 50, t[:500]"
"$BPFPROF" report "$OUT/inl.pb.gz" --list 'nosuchfunction' > /dev/null 2> "$OUT/inl-rl2.err"
check "report --list with no match: exit 2, one line" eq "$?:$(wc -l < "$OUT/inl-rl2.err")" "2:1"
"$BPFPROF" report "$OUT/inl.pb.gz" --lines -f top > "$OUT/inl-lines.txt"
check "report --lines: top by source line (mix inl.c:11/12)" grep -qE ' mix inl\.c:1[12]$' "$OUT/inl-lines.txt"
# report --disasm: the hot loop's instructions hold the samples (the inner
# loop: from the jump target back to the jne, in outer's code).
"$BPFPROF" report "$OUT/inl.pb.gz" --disasm '^outer$' > "$OUT/inl-da.txt" 2> "$OUT/inl-da.err"
check "report --disasm outer: capstone's instructions, >= 90% of samples in the inner loop" python3 -c "
import re
rows = [(int(m.group(1)) if m.group(1) != '.' else 0, int(m.group(2), 16), m.group(3)) for m in
        re.finditer(r'^\s+(\S+)\s+\S+\s+([0-9a-f]+): (.*)$', open('$OUT/inl-da.txt').read(), re.M)]
assert rows, open('$OUT/inl-da.txt').read()[:300]
# the inner loop: the last backward jne and its target
jne = [(a, int(t.split()[-1], 16)) for v, a, t in rows if t.startswith('jne') and int(t.split()[-1], 16) < a]
lo, hi = jne[0][1], jne[0][0]
inner = sum(v for v, a, t in rows if lo <= a <= hi)
total = sum(v for v, a, t in rows)
assert total > 50 and inner >= 0.9 * total, (inner, total, hex(lo), hex(hi))"
# report --base: a differential view of two profiles (hot's spin before,
# inl's mix after): top signed, folded in flamegraph.pl's two columns.
"$BPFPROF" oncpu -o "$OUT/old.pb.gz" -- "$TB/hot" 1 single > /dev/null 2>&1
"$BPFPROF" report "$OUT/inl.pb.gz" --base "$OUT/old.pb.gz" -f top > "$OUT/diff.txt" 2>&1
check "report --base: top shows growth (mix, +) and shrinkage (hot_spin, -)" python3 -c "
import re
rows = {m.group(2): int(m.group(1)) for m in re.finditer(r'^\s*(-?\d+)\s.*\s(\S+)$', open('$OUT/diff.txt').read(), re.M)}
assert rows.get('mix', 0) > 50 and rows.get('hot_spin', 0) < -50, rows"
"$BPFPROF" report "$OUT/inl.pb.gz" --base "$OUT/old.pb.gz" -f folded > "$OUT/diff.folded"
check "report --base -f folded: 'stack OLD NEW' lines" python3 -c "
lines = [l.rsplit(' ', 2) for l in open('$OUT/diff.folded')]
assert lines and all(len(l) == 3 for l in lines), lines[:2]
assert any(';hot_spin' in s and int(o) > 50 and int(n) == 0 for s, o, n in lines)
assert any(';mix' in s and int(o) == 0 and int(n) > 50 for s, o, n in lines)"
# A differential flame graph: the same program sampled at twice the rate
# (hot_spin grew: red), against another program (every frame new).
"$BPFPROF" oncpu -F 199 -o "$OUT/new.pb.gz" -- "$TB/hot" 1 single > /dev/null 2>&1
"$BPFPROF" report "$OUT/new.pb.gz" --base "$OUT/old.pb.gz" -f svg > "$OUT/diff.svg" 2> "$OUT/diff.err"
check "report --base -f svg: a differential flame graph (hot_spin grew: red, titled with its growth)" python3 -c "
import re
svg = open('$OUT/diff.svg').read()
assert 'differential' in svg and '\"diff\":true' in svg
m = re.search(r'<title>hot_spin \(([^)]*)\), \+(\d+)[^<]*</title><rect [^>]*fill=\"hsl\((\d+),85%', svg)
assert m and int(m.group(2)) > 30 and m.group(3) == '0', m and m.groups()"
"$BPFPROF" report "$OUT/inl.pb.gz" --base "$OUT/old.pb.gz" -f svg > "$OUT/diff2.svg" 2>&1
check "report --base -f svg: frames the base lacks are marked new" grep -q '<title>mix ([^)]*), new</title>' "$OUT/diff2.svg"
"$BPFPROF" report "$OUT/inl.pb.gz" --base "$OUT/old.pb.gz" -f dot > /dev/null 2> "$OUT/diff.err"
check "report --base -f dot: refused, exit 2, one line" eq "$?:$(wc -l < "$OUT/diff.err")" "2:1"
(cd / && go tool pprof -raw "$OUT/inl.pb.gz") > "$OUT/inl.raw" 2>&1
check "lines: Function.start_line set (mix begins at line 9, outer at 16: Go's PGO reads it)" \
	bash -c "grep -q 'mix .*inl.c:1[12] s=9' '$OUT/inl.raw' && grep -q 'outer .*inl.c:2[01] s=16' '$OUT/inl.raw'"
# clang's DWARF has no .debug_aranges (gcc's has): lines still found, the
# CUs' own ranges indexed. The issue's own case: the demo's compute_hash.
sh tools/demo.sh > /dev/null 2>&1
(cd / && go tool pprof -list '^compute_hash$' "$ROOT/demo-out/cpu.pb.gz") > "$OUT/demo.list" 2>&1
check "lines: clang-built demo: go tool pprof -list compute_hash has its source lines" python3 -c "
import re
t = open('$OUT/demo.list').read()
rows = [int(m.group(1)) for m in re.finditer(r'^\s+\S+\s+(\d+)\s+\d+:', t, re.M)]  # cum (burn() is inlined)
assert 'No source information' not in t and rows and sum(rows) > 100, t[:500]"

# --debuginfod: a binary without DWARF gets its lines from a debuginfod
# server (here a local stand-in serving /buildid/ID/debuginfo); without the
# option nothing is asked.
objcopy --only-keep-debug "$TB/hot" "$OUT/hot.debug"
objcopy --strip-debug "$TB/hot" "$OUT/hot-nodebug"
bid=$(readelf -n "$TB/hot" | awk '/Build ID:/ { print $3 }')
python3 - "$OUT/hot.debug" "$bid" > "$OUT/dinfod.port" 2> "$OUT/dinfod.log" <<'PY' &
import http.server, sys
debug, bid = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sys.stderr.write("GET %s\n" % self.path); sys.stderr.flush()
        if self.path == "/buildid/%s/debuginfo" % bid:
            data = open(debug, "rb").read()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(404); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
dsrv=$!
for _ in $(seq 50); do [ -s "$OUT/dinfod.port" ] && break; sleep 0.1; done
export DEBUGINFOD_URLS="http://127.0.0.1:$(cat "$OUT/dinfod.port")" DEBUGINFOD_CACHE_PATH="$OUT/dcache"
"$BPFPROF" oncpu -o "$OUT/nodbg.pb.gz" -- "$OUT/hot-nodebug" 1 single > /dev/null 2>&1
check "--debuginfod not given: no server asked" sh -c "! grep -q GET '$OUT/dinfod.log'"
"$BPFPROF" oncpu --debuginfod -o "$OUT/dinfod.pb.gz" -- "$OUT/hot-nodebug" 1 single > /dev/null 2>&1
(cd / && go tool pprof -raw "$OUT/dinfod.pb.gz") > "$OUT/dinfod.raw" 2>&1
check "--debuginfod: the debug file fetched by build id" grep -q "GET /buildid/$bid/debuginfo" "$OUT/dinfod.log"
check "--debuginfod: hot_spin has its source line" grep -qE 'hot_spin .*hot\.c:[0-9]+' "$OUT/dinfod.raw"
kill "$dsrv" 2>/dev/null; wait "$dsrv" 2>/dev/null
unset DEBUGINFOD_URLS DEBUGINFOD_CACHE_PATH
# .gnu_debuglink: the debug file beside the binary, found by name and CRC.
mkdir -p "$OUT/dl" && cp "$OUT/hot.debug" "$OUT/dl/hot.debug"
objcopy --strip-debug --add-gnu-debuglink="$OUT/dl/hot.debug" "$TB/hot" "$OUT/dl/hot-linked"
"$BPFPROF" oncpu -o "$OUT/dl.pb.gz" -- "$OUT/dl/hot-linked" 1 single > /dev/null 2>&1
(cd / && go tool pprof -raw "$OUT/dl.pb.gz") > "$OUT/dl.raw" 2>&1
check ".gnu_debuglink: hot_spin's line from the debug file beside the binary" grep -qE 'hot_spin .*hot\.c:[0-9]+' "$OUT/dl.raw"
