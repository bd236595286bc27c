#!/bin/sh
# Prints the include edges between user/'s folders (FROM -> TO, with the
# files) and fails if any two folders include each other, directly or
# through others: the layers only point down.
cd "$(dirname "$0")/../user" || exit 2
edges=$(for f in */*.c */*.h; do
	from=${f%%/*}
	grep -o '#include "[a-z]*/' "$f" | sed 's/#include "//; s#/##' | while read -r to; do
		[ "$to" != "$from" ] && echo "$from $to"
	done
done | sort -u)
echo "$edges"
# tsort reports a cycle on stderr.
if echo "$edges" | tsort 2>&1 >/dev/null | grep -q cycle; then
	echo "include cycle between folders:" >&2
	echo "$edges" | tsort 2>&1 >/dev/null >&2
	exit 1
fi
