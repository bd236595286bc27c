#!/bin/sh
# Installs the Debian packages that build, test and demo need. Idempotent and
# quiet when everything is present. Run as root (others: sudo make deps).
set -e
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libdw-dev pkg-config
      golang-go util-linux procps graphviz python3"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; run as root (sudo make deps)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
