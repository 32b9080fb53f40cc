#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Install the Debian 12 packages weft needs to build, test and run the demo.
# Idempotent: each package is checked with dpkg-query and only the missing
# ones are installed; `apt-get update` runs once, and only if something is
# missing.  Needs root when something is missing (or sudo, if present).
set -euo pipefail

PACKAGES=(
	make gcc clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libssl-dev libyaml-dev pkg-config
	iproute2 curl socat iperf3 jq wrk haproxy nginx-light iptables procps
)

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		as_root=(sudo)
	else
		echo "install-deps: missing ${missing[*]}; run as root to install" >&2
		exit 1
	fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# haproxy and nginx are benchmark tools here: install them without
# starting their services (policy-rc.d says "not now" to invoke-rc.d).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap '"${as_root[@]}" rm -f "$policy"' EXIT
	printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
	"${as_root[@]}" chmod 755 "$policy"
fi
status=0
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
if [ "$status" -ne 0 ]; then
	echo "install-deps: apt-get install failed ($status)" >&2
	exit "$status"
fi

still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "install-deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: done"
