#!/bin/sh
# Installs what `make bench` compares against and drives, on top of
# tools/deps.sh: perf, libbpf-tools (offcputime), bpftrace, and the servers
# and load generators of the allocator section (redis with its jemalloc,
# nginx, ab). Idempotent; quiet when everything is present.
set -e
cd "$(dirname "$0")/.."
tools/deps.sh
PKGS="linux-perf libbpf-tools bpftrace redis-server redis-tools nginx-light apache2-utils"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "bench deps: missing packages:$missing; run as root" >&2
	exit 1
fi
echo "bench deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# A server package must not start (and keep) a system service here.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || { rm -f /usr/sbin/policy-rc.d; exit 1; }
rm -f /usr/sbin/policy-rc.d
