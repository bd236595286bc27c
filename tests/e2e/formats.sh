# Renderers and `report`: pprof, svg, json, dot, checked with the real consumers.

export HOME=$OUT PPROF_TMPDIR=$OUT  # go tool pprof keeps state under $HOME
start_target "$TB/hot" 8 single
"$BPFPROF" oncpu -p "$TPID" -d 2 -o "$OUT/f.pb.gz" -o "$OUT/f.folded" -o "$OUT/f.txt" \
	-o "$OUT/f.svg" -o "$OUT/f.json" -o "$OUT/f.dot" 2>/dev/null
check "one run writes six formats" eq "$(ls "$OUT"/f.* | wc -l)" 6
stop_targets

# pprof: gzip magic; go tool pprof reads it and agrees with our top.
check "pprof: gzip-compressed" eq "$(head -c 2 "$OUT/f.pb.gz" | od -An -tx1 | tr -d ' ')" 1f8b
go tool pprof -top "$OUT/f.pb.gz" > "$OUT/go-top.txt" 2>&1
ours=$(awk '$6 == "hot_spin" { sub("%", "", $2); print $2 }' "$OUT/f.txt")
theirs=$(awk '$6 == "hot_spin" { sub("%", "", $2); print $2 }' "$OUT/go-top.txt")
check "pprof: go tool pprof -top shows hot_spin" contains "$OUT/go-top.txt" "hot_spin"
check "pprof: go tool pprof's share equals ours ($ours%)" between "${theirs:-0}" "$(awk -v a="$ours" 'BEGIN { print a - 0.01 }')" "$(awk -v a="$ours" 'BEGIN { print a + 0.01 }')"
check "pprof: default sample type is samples" contains "$OUT/go-top.txt" "Type: samples"
check "pprof: the profile's File is the executable, not the kernel" contains "$OUT/go-top.txt" "File: hot"
go tool pprof -raw "$OUT/f.pb.gz" > "$OUT/go-raw.txt" 2>&1
check "pprof: pid/tid/comm labels" contains "$OUT/go-raw.txt" "comm:[hot]"
check "pprof: kernel mapping named [kernel.kallsyms] or user-only" \
	bash -c "! grep -q '_\[k\]' '$OUT/f.folded' || grep -q 'kernel.kallsyms' '$OUT/go-raw.txt'"
check "pprof: lost counts as comments" contains "$OUT/go-raw.txt" "bpfprof lost: stack map collisions=0"
go tool pprof -sample_index=cpu -top "$OUT/f.pb.gz" > "$OUT/go-cpu.txt" 2>&1
check "pprof: -sample_index=cpu works" contains "$OUT/go-cpu.txt" "Type: cpu"

# report: our pprof back to folded reproduces the direct output exactly.
"$BPFPROF" report "$OUT/f.pb.gz" -f folded > "$OUT/r.folded"
check "report: pprof -> folded equals the direct folded output" diff "$OUT/f.folded" "$OUT/r.folded"
"$BPFPROF" report "$OUT/f.pb.gz" --sample-index cpu > "$OUT/r-cpu.txt"
check "report --sample-index cpu: time units" contains "$OUT/r-cpu.txt" "cpu total"
pub=$(mktemp /tmp/bpfprof-public.XXXXXX.pb.gz)
cp "$OUT/f.pb.gz" "$pub" && chmod 644 "$pub"
setpriv --reuid=65534 --regid=65534 --clear-groups "$BPFPROF" report "$pub" > "$OUT/r-nobody.txt" 2>&1
rm -f "$pub"
check "report: needs no root" contains "$OUT/r-nobody.txt" "hot_spin"

# report of a profile written by Go's runtime/pprof: same top as go tool pprof.
"$TB/gopprof" "$OUT/go.pprof" 2
go tool pprof -top "$OUT/go.pprof" 2>/dev/null | awk '/flat%/ { on = 1; next } on && $2 + 0 >= 5 { print $6 }' | sort > "$OUT/go-names"
"$BPFPROF" report "$OUT/go.pprof" | awk '/flat%/ { on = 1; next } on && $2 + 0 >= 5 { print $6 }' | sort > "$OUT/our-names"
check "report of Go's runtime/pprof: top functions as go tool pprof" diff "$OUT/go-names" "$OUT/our-names"
check "report of Go's runtime/pprof: main.burnMost listed" contains "$OUT/our-names" "main.burnMost"

# Malformed files: one-line error, exit 2, never a crash.
head -c 200 "$OUT/f.pb.gz" > "$OUT/trunc.pb.gz"
gzip -dc "$OUT/f.pb.gz" > "$OUT/raw.pb"
head -c 300 "$OUT/raw.pb" > "$OUT/trunc.pb"
printf 'not a profile at all\n' > "$OUT/text.pb"
python3 -c "
import sys; d = bytearray(open('$OUT/raw.pb', 'rb').read())
for i in range(7, len(d), 97): d[i] ^= 0x5a
open('$OUT/corrupt.pb', 'wb').write(d)"
for f in trunc.pb.gz trunc.pb text.pb corrupt.pb; do
	"$BPFPROF" report "$OUT/$f" > /dev/null 2> "$OUT/rep.err"
	check "report rejects $f: exit 2" eq "$?" 2
	check "report rejects $f: one line" one_line "$OUT/rep.err"
done
# Values a total cannot hold: refused with a message, never a negative share.
python3 "$ROOT/tests/tools/mkpprof.py" "$OUT/small.pb" 5 7
"$BPFPROF" report "$OUT/small.pb" > "$OUT/rep-small.txt"
check "report: a hand-made profile totals 12" contains "$OUT/rep-small.txt" "samples total 12"
python3 "$ROOT/tests/tools/mkpprof.py" "$OUT/overflow.pb" 9223372036854775807 1
python3 "$ROOT/tests/tools/mkpprof.py" "$OUT/negative.pb" 5 -100
for f in overflow negative; do
	"$BPFPROF" report "$OUT/$f.pb" -f dot > "$OUT/rep-$f.out" 2> "$OUT/rep.err"
	check "report rejects $f values: exit 2" eq "$?" 2
	check "report rejects $f values: one line" one_line "$OUT/rep.err"
	check "report rejects $f values: nothing written" eq "$(wc -c < "$OUT/rep-$f.out")" 0
done
"$BPFPROF" report /nonexistent.pb.gz 2> "$OUT/rep.err"
check "report: missing file, exit 2" eq "$?" 2

# svg: valid XML, and in a real browser: shows, zooms, searches, no errors.
check "svg: valid XML" python3 -c "import xml.etree.ElementTree as E; E.parse('$OUT/f.svg')"
check "svg: the frames are in the file (draws without script)" contains "$OUT/f.svg" '<title>hot_spin ('

if [ -x /usr/bin/chromium ] && [ -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
	node "$ROOT/tests/browser/svg_check.js" "$OUT/f.svg" hot_spin || fail "svg: browser checks" "node exited $?"
else
	fail "svg: browser checks" "chromium or playwright-core missing (make deps installs them)"
fi

# json: valid against the documented schema, values add up.
share=$(python3 "$ROOT/tests/check_json.py" "$ROOT/docs/profile.schema.json" "$OUT/f.json" hot_spin 2>"$OUT/json.err")
check "json: matches docs/profile.schema.json" eq "$(cat "$OUT/json.err")" ""
check "json: hot_spin's share >= 70%" ge "${share:-0}" 70

# dot: Graphviz renders it, hot_spin is a node.
check "dot: dot -Tsvg renders it" dot -Tsvg "$OUT/f.dot" -o "$OUT/f-dot.svg"
check "dot: hot_spin node" contains "$OUT/f-dot.svg" "hot_spin"
