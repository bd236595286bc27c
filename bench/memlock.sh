#!/usr/bin/env bash
# memlock.sh PID: kernel memory locked by the BPF maps PID holds open (sum
# of "memlock:" in /proc/PID/fdinfo of its map fds), in bytes. Counts each
# map once even if several fds point at it.
pid=$1
declare -A seen
total=0
for f in /proc/"$pid"/fdinfo/*; do
	id=$(awk '/^map_id:/ { print $2 }' "$f" 2>/dev/null)
	[ -n "$id" ] && [ -z "${seen[$id]:-}" ] || continue
	seen[$id]=1
	total=$(( total + $(awk '/^memlock:/ { print $2 }' "$f") ))
done
echo "$total"
