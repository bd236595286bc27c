#!/bin/sh
# Installs what `make bench` compares against and drives, on top of what
# tools/deps.sh installs: perf, libbpf-tools (offcputime), bpftrace, and the
# servers and load generators of the allocator section (redis with its
# jemalloc, nginx, ab). Idempotent; quiet when everything is present.
exec "$(dirname "$0")/../tools/deps.sh" linux-perf libbpf-tools bpftrace redis-server redis-tools nginx-light apache2-utils
