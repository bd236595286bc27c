#!/bin/sh
# Installs what build, test and demo need: Debian packages, and the npm
# package that drives Chromium in the flame-graph tests. Idempotent and quiet
# when everything is present. Run as root (others: sudo make deps).
# Arguments name more packages (bench/deps.sh); a server among them is not
# started as a system service (policy-rc.d), the bench starts its own.
set -e
cd "$(dirname "$0")/.."
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libdw-dev libmicrohttpd-dev libcapstone-dev libclang-rt-14-dev pkg-config
      golang-go util-linux procps curl graphviz python3 python3-jsonschema chromium libjemalloc2 bpftrace redis-server redis-tools libc6-dbg binutils libdebuginfod1 $*"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages:$missing; run as root (sudo make deps)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Our own policy-rc.d only where there is none (never replace one).
	ours=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && ours=1
	fi
	rc=0
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
	[ -n "$ours" ] && rm -f /usr/sbin/policy-rc.d
	[ "$rc" -eq 0 ] || exit "$rc"
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
	echo "deps: installing playwright-core (tests/browser)"
	(cd tests/browser && npm install --no-audit --no-fund --silent >/dev/null)
fi
