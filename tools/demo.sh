#!/bin/sh
# make demo: profile the bundled workload from its first instruction to its
# exit, print the top table, and write the profile files to demo-out/.
set -e
cd "$(dirname "$0")/.."
mkdir -p build/demo demo-out
clang -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	-o build/demo/workload tools/demo/workload.c

echo "== bpfprof oncpu -- build/demo/workload 4"
build/bpfprof oncpu -F 199 \
	-o demo-out/cpu.txt -o demo-out/cpu.folded -o demo-out/cpu.pb.gz \
	-o demo-out/cpu.svg -o demo-out/cpu.json -o demo-out/cpu.dot \
	-- build/demo/workload 4
echo
cat demo-out/cpu.txt | head -20
echo
echo "profile files (open cpu.svg in a browser; go tool pprof -top demo-out/cpu.pb.gz;"
echo "build/bpfprof report demo-out/cpu.pb.gz -f folded):"
ls -l demo-out | tail -n +2
