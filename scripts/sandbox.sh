# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The sandbox of selftests/lib/sandbox.h, for shell scripts (the demo):
# source it, call sb_init, build hosts and cgroups, and everything is undone
# by sb_cleanup, which sb_init sets as the EXIT/INT/TERM trap.
#
#   - names are weft-<pid>-<what> (pid of the script), so parallel runs and
#     the test suite never collide, and selftests/e2e/after_all.c finds
#     anything left;
#   - hosts are network namespaces on one bridge that lives in a hub
#     namespace: addresses exist only inside namespaces made here;
#   - a process joins its cgroup first, then enters the namespace with
#     `nsenter --net` (not `ip netns exec`, which remounts /sys and so hides
#     the cgroup2 and bpffs mounts from weftd).

SB_NAME_PREFIX="weft-$$"
SB_NETNS=()     # namespaces to delete
SB_CGROUPS=()   # cgroups to kill and remove
SB_PINS=()      # bpffs directories to remove
SB_PIDS=()      # background processes
SB_HUB=""
SB_NHOSTS=0
SB_RUN_DIR=""
SB_CGROUP2=""

sb_die() {
	echo "sandbox: $*" >&2
	exit 1
}

# cgroup2 mount from /proc/mounts: /sys/fs/cgroup/unified on hybrid systems.
sb_cgroup2_mount() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts
}

sb_init() {
	[ "$(id -u)" -eq 0 ] || sb_die "must run as root"
	SB_CGROUP2=$(sb_cgroup2_mount)
	[ -n "$SB_CGROUP2" ] || sb_die "no cgroup2 mount in /proc/mounts"
	if ! awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { f = 1 } END { exit !f }' /proc/mounts; then
		mount -t bpf -o mode=0700 bpf /sys/fs/bpf || sb_die "cannot mount bpffs"
	fi
	mkdir -p /run/netns
	SB_RUN_DIR=$(mktemp -d "/tmp/${SB_NAME_PREFIX}-XXXXXX")
	trap sb_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

sb_name() {
	echo "${SB_NAME_PREFIX}-$1"
}

# sb_cgroup WHAT VAR: make cgroup weft-<pid>-WHAT, its absolute path in VAR.
# (Not "$(sb_cgroup ...)": a command substitution is a subshell, and the
# registration for clean-up would be lost with it.)
sb_cgroup() {
	local cg
	cg="$SB_CGROUP2/$(sb_name "$1")"
	mkdir "$cg" || sb_die "mkdir $cg"
	SB_CGROUPS+=("$cg")
	printf -v "$2" '%s' "$cg"
}

# sb_pin_dir WHAT VAR: /sys/fs/bpf/weft-<pid>-WHAT in VAR, removed at clean-up.
sb_pin_dir() {
	local d
	d="/sys/fs/bpf/$(sb_name "$1")"
	SB_PINS+=("$d")
	printf -v "$2" '%s' "$d"
}

sb_netns() {
	ip netns add "$1" || sb_die "ip netns add $1"
	SB_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# sb_host WHAT IPV4 [IPV6]: namespace weft-<pid>-WHAT on the sandbox bridge,
# 10.201.0.0/16 and fd00:201::/64.
sb_host() {
	local ns port
	ns=$(sb_name "$1")
	if [ -z "$SB_HUB" ]; then
		SB_HUB=$(sb_name hub)
		sb_netns "$SB_HUB"
		ip -n "$SB_HUB" link add br0 type bridge forward_delay 0 mcast_snooping 0
		ip -n "$SB_HUB" link set br0 up
	fi
	sb_netns "$ns"
	port="p$SB_NHOSTS"
	SB_NHOSTS=$((SB_NHOSTS + 1))
	ip -n "$SB_HUB" link add "$port" type veth peer name eth0 netns "$ns"
	ip -n "$SB_HUB" link set "$port" master br0 up
	ip -n "$ns" addr add "$2/16" dev eth0
	[ -z "${3:-}" ] || ip -n "$ns" addr add "$3/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
}

# Joins $1 (a cgroup, or -) then enters netns $2 (or -), then runs the rest;
# one process throughout, so $! of a background run is the command itself.
# shellcheck disable=SC2016 # expanded by the inner shell
SB_ENTER='cg=$1 ns=$2; shift 2
if [ "$cg" != - ]; then echo $$ > "$cg/cgroup.procs" || exit 125; fi
if [ "$ns" != - ]; then exec nsenter --net="/run/netns/$ns" "$@"; fi
exec "$@"'

# sb_exec CGROUP|- NETNS|- CMD...: run CMD in the cgroup (first) and netns.
sb_exec() {
	sh -c "$SB_ENTER" sb_exec "$@"
}

# sb_spawn LOG CGROUP|- NETNS|- CMD...: like sb_exec, in the background,
# output to LOG; killed at cleanup.  Sets SB_LAST_PID.
sb_spawn() {
	local log=$1
	shift
	sh -c "$SB_ENTER" sb_exec "$@" >"$log" 2>&1 &
	SB_LAST_PID=$!
	SB_PIDS+=("$SB_LAST_PID")
}

# sb_wait_for FILE TEXT [SECONDS]: poll until FILE contains TEXT.
sb_wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Undo everything, newest kind first; report anything that stays.
sb_cleanup() {
	local rc=$? p ns cg d i left=""
	trap - EXIT INT TERM
	for p in "${SB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${SB_PIDS[@]}"; do
		for ((i = 0; i < 60; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for d in "${SB_PINS[@]}"; do
		[ -e "$d" ] || continue
		[ -z "${SB_UNINSTALL:-}" ] || $SB_UNINSTALL --pin-dir "$d" >/dev/null 2>&1 || true
		rm -rf "$d"
		[ ! -e "$d" ] || left+=" $d"
	done
	for ((i = ${#SB_NETNS[@]} - 1; i >= 0; i--)); do
		ns=${SB_NETNS[i]}
		ip netns del "$ns" 2>/dev/null || true
		[ ! -e "/run/netns/$ns" ] || left+=" netns:$ns"
	done
	for cg in "${SB_CGROUPS[@]}"; do
		[ -d "$cg" ] || continue
		echo 1 >"$cg/cgroup.kill" 2>/dev/null ||
			xargs -r kill -KILL <"$cg/cgroup.procs" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.05
		done
		[ ! -d "$cg" ] || left+=" $cg"
	done
	[ -z "$SB_RUN_DIR" ] || rm -rf "$SB_RUN_DIR"
	if [ -n "$left" ]; then
		echo "sandbox: could not remove:$left" >&2
		[ "$rc" -ne 0 ] || rc=1
	else
		echo "sandbox: removed ${#SB_PIDS[@]} processes, ${#SB_PINS[@]} pin dirs," \
			"${#SB_NETNS[@]} namespaces, ${#SB_CGROUPS[@]} cgroups" >&2
	fi
	exit "$rc"
}
