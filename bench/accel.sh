#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Same-node socket acceleration, side by side in one run (part of
# `make bench`; alone: `make bench-accel`):
#
#   loopback    client and server in one namespace on 127.0.0.1, no weft:
#               the reference the goals are stated against;
#   veth        client and server in two namespaces on the sandbox bridge
#               (veth, bridge, veth), both in weft's cgroup, acceleration
#               off (weftd attached, socketAcceleration: false);
#   veth+accel  the same pair, acceleration on (toggled with SIGHUP between
#               cells; it applies to new connections).
#
# Loads per cell: 1-byte request/response round trips on one connection
# (build/tools/xfer rr: p50, p99, mean), client and server free to run on
# any CPU, and again with both pinned to CPU 0 (no cross-CPU wake-up: on a
# VM, waking an idle vCPU costs more than the datapath); and bulk
# throughput of one connection (xfer bulk, sender's rate) with 128 KiB
# and 16 KiB writes.  Every program is an event loop (--epoll): weft
# accelerates only non-blocking sockets (docs/design.md).  Rounds are
# interleaved, each starting one cell later; the report gives medians.
# After each cell the weft_accel_* counters show which path was taken.
#
#   BENCH_QUICK=1              2 s bulk, 5000 round trips, 1 round
#   BENCH_ACCEL_SECONDS=5      seconds per bulk cell
#   BENCH_ACCEL_RR=20000       round trips per rr cell
#   BENCH_ACCEL_ROUNDS=3       rounds
#
# Results: build/bench/accel.md (also printed), raw output in
# build/bench/raw/accel-*.  Everything runs in namespaces and a cgroup
# weft-<pid>-* made by scripts/sandbox.sh, whose trap removes them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	def_seconds=2 def_rr=5000 def_rounds=1
else
	def_seconds=5 def_rr=20000 def_rounds=3
fi
SECONDS_BULK=${BENCH_ACCEL_SECONDS:-$def_seconds}
RR_COUNT=${BENCH_ACCEL_RR:-$def_rr}
ROUNDS=${BENCH_ACCEL_ROUNDS:-$def_rounds}
OUT=build/bench
RAW=$OUT/raw
XFER=$top/build/tools/xfer
WEFTD=$top/build/weftd
WEFT=$top/build/weft

die() {
	echo "bench-accel: $*" >&2
	exit 1
}
for v in SECONDS_BULK RR_COUNT ROUNDS; do
	[[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v=${!v}: not a positive number"
done
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, cgroups, BPF)"
for f in "$XFER" "$WEFTD" "$WEFT"; do
	[ -x "$f" ] || die "$f missing: run make bench-accel (or make all build/tools/xfer)"
done
for t in jq ip nsenter; do
	command -v "$t" >/dev/null || die "$t missing: run make deps"
done
mkdir -p "$RAW"

# shellcheck source=scripts/sandbox.sh
source scripts/sandbox.sh
sb_init

sb_host cli 10.201.0.2
sb_host srv 10.201.1.1
LO=$(sb_name lo)
sb_netns "$LO"
CG="" PIN=""
sb_cgroup accel CG
sb_pin_dir accel PIN
CLI=$(sb_name cli) SRV=$(sb_name srv)
NODE=$SB_RUN_DIR/node.yaml
mkdir "$SB_RUN_DIR/mesh"

node_config() { # on|off
	local v=false
	[ "$1" = on ] && v=true
	printf 'nodeName: bench\ncgroupPath: %s\npinDir: %s\nconfigDir: %s\nmetricsPort: 0\nsocketAcceleration: %s\n' \
		"$CG" "$PIN" "$SB_RUN_DIR/mesh" "$v" >"$NODE"
}
node_config off
sb_spawn "$RAW/accel-weftd.log" - "$CLI" "$WEFTD" -c "$NODE"
WEFTD_PID=$SB_LAST_PID
sb_wait_for "$RAW/accel-weftd.log" "socket acceleration: off" 15 || {
	cat "$RAW/accel-weftd.log" >&2
	die "weftd did not start"
}

accel_set() { # on|off: rewrite the node config, SIGHUP, wait for the log
	local n
	n=$(grep -c "socket acceleration: $1" "$RAW/accel-weftd.log" || true)
	node_config "$1"
	kill -HUP "$WEFTD_PID"
	for _ in $(seq 100); do
		[ "$(grep -c "socket acceleration: $1" "$RAW/accel-weftd.log" || true)" -gt "$n" ] && return 0
		sleep 0.05
	done
	die "weftd did not switch acceleration $1"
}

# Servers: the veth pair's in the cgroup (both ends managed), the
# loopback ones outside it.
sb_spawn "$RAW/accel-sink-srv.log" "$CG" "$SRV" "$XFER" sink --epoll --listen 10.201.1.1:7001
sb_spawn "$RAW/accel-sink0-srv.log" "$CG" "$SRV" taskset -c 0 "$XFER" sink --epoll --listen 10.201.1.1:7002
sb_spawn "$RAW/accel-bulk-srv.log" "$CG" "$SRV" "$XFER" sink --epoll --listen 10.201.1.1:5201
sb_spawn "$RAW/accel-sink-lo.log" - "$LO" "$XFER" sink --epoll --listen 127.0.0.1:7001
sb_spawn "$RAW/accel-sink0-lo.log" - "$LO" taskset -c 0 "$XFER" sink --epoll --listen 127.0.0.1:7002
sb_spawn "$RAW/accel-bulk-lo.log" - "$LO" "$XFER" sink --epoll --listen 127.0.0.1:5201
sleep 1

accel_json() {
	"$WEFT" -p "$PIN" -j stats | jq -c '.acceleration.counters'
}

# cell NAME: where its client runs and what it dials
declare -A C_CG C_NS C_ADDR
C_CG[loopback]=- C_NS[loopback]=$LO C_ADDR[loopback]=127.0.0.1
C_CG[veth]=$CG C_NS[veth]=$CLI C_ADDR[veth]=10.201.1.1
C_CG[veth+accel]=$CG C_NS[veth+accel]=$CLI C_ADDR[veth+accel]=10.201.1.1
CELLS=(loopback veth veth+accel)

TSV=$RAW/accel.tsv
printf 'round\tcell\tp50_us\tp99_us\tmean_us\tgbit_s\tconnections\tbytes\tfallbacks\tgbit_s_16k\tp50_us_cpu0\n' >"$TSV"

run_cell() { # ROUND CELL
	local round=$1 cell=$2 c0 c1 rr rr0 p50 p50cpu0 p99 mean gbit gbit16 conns bytes fb len
	case $cell in
	veth) accel_set off ;;
	veth+accel) accel_set on ;;
	esac
	c0=$(accel_json)
	rr=$(sb_exec "${C_CG[$cell]}" "${C_NS[$cell]}" "$XFER" rr --epoll \
		--connect "${C_ADDR[$cell]}:7001" --count "$RR_COUNT") ||
		die "$cell: xfer rr failed"
	rr0=$(sb_exec "${C_CG[$cell]}" "${C_NS[$cell]}" taskset -c 0 "$XFER" rr --epoll \
		--connect "${C_ADDR[$cell]}:7002" --count "$RR_COUNT") ||
		die "$cell: xfer rr (CPU 0) failed"
	printf '%s\n%s (both on CPU 0)\n' "$rr" "$rr0" >"$RAW/accel-r$round-$cell-rr.txt"
	p50cpu0=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$rr0")
	for len in 131072 16384; do
		sb_exec "${C_CG[$cell]}" "${C_NS[$cell]}" "$XFER" bulk --epoll \
			--connect "${C_ADDR[$cell]}:5201" --seconds "$SECONDS_BULK" \
			--write-size "$len" >"$RAW/accel-r$round-$cell-bulk$len.txt" ||
			die "$cell: xfer bulk failed (see $RAW/accel-r$round-$cell-bulk$len.txt)"
	done
	c1=$(accel_json)
	p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$rr")
	p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$rr")
	mean=$(sed -n 's/.*mean_us=\([0-9.]*\).*/\1/p' <<<"$rr")
	gbit=$(sed -n 's/.*gbit_s=\([0-9.]*\).*/\1/p' "$RAW/accel-r$round-$cell-bulk131072.txt")
	gbit16=$(sed -n 's/.*gbit_s=\([0-9.]*\).*/\1/p' "$RAW/accel-r$round-$cell-bulk16384.txt")
	conns=$(jq -n --argjson a "$c0" --argjson b "$c1" '$b.connections - $a.connections')
	bytes=$(jq -n --argjson a "$c0" --argjson b "$c1" '$b.bytes - $a.bytes')
	fb=$(jq -n --argjson a "$c0" --argjson b "$c1" \
		'($b.fallback_backlog - $a.fallback_backlog) + ($b.fallback_peer_gone - $a.fallback_peer_gone)')
	[ -n "$gbit" ] && [ -n "$gbit16" ] || die "$cell: no xfer bulk rate (see $RAW/accel-r$round-$cell-bulk*.txt)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$cell" "$p50" "$p99" \
		"$mean" "$gbit" "$conns" "$bytes" "$fb" "$gbit16" "$p50cpu0" >>"$TSV"
	printf '  %-11s rr p50 %6s us (CPU 0: %6s)  p99 %7s us  bulk %6s Gbit/s (16K writes %6s)  accelerated %s conns, %s bytes, %s fallbacks\n' \
		"$cell" "$p50" "$p50cpu0" "$p99" "$gbit" "$gbit16" "$conns" "$bytes" "$fb"
}

NCPU=$(nproc)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== socket acceleration: $ROUNDS round(s), $RR_COUNT round trips, ${SECONDS_BULK}s bulk per cell"
for ((round = 1; round <= ROUNDS; round++)); do
	for ((i = 0; i < ${#CELLS[@]}; i++)); do
		run_cell "$round" "${CELLS[(i + round - 1) % ${#CELLS[@]}]}"
	done
done

RESULTS=$OUT/accel.md
{
	echo "# Same-node socket acceleration"
	echo
	echo "$START, weft $(git rev-parse --short HEAD 2>/dev/null || echo unknown), kernel $(uname -r), $NCPU CPUs; loadavg $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end."
	echo "Medians of $ROUNDS round(s); rr: $RR_COUNT 1-byte round trips on one connection (xfer rr); bulk: xfer bulk --epoll into xfer sink --epoll, one connection, ${SECONDS_BULK} s, sender's rate, 128 KiB and 16 KiB writes. Both programs are event loops (non-blocking sockets): weft accelerates only those (docs/design.md)."
	echo
	echo "| cell | rr p50 µs | × loopback | rr p99 µs | rr mean µs | rr p50 µs, one CPU | × loopback | bulk Gbit/s | × loopback | bulk 16K Gbit/s | × loopback | accelerated conns / bytes / fallbacks (last round) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	awk -F'\t' -v order="${CELLS[*]}" '
	NR > 1 { n[$2]++; p50[$2, n[$2]] = $3; p99[$2, n[$2]] = $4; mean[$2, n[$2]] = $5
		 g[$2, n[$2]] = $6; acc[$2] = $7 " / " $8 " / " $9; g16[$2, n[$2]] = $10
		 p0[$2, n[$2]] = $11 }
	function med(a, c, k,   v, i, j, t, m) {
		m = n[c]
		for (i = 1; i <= m; i++) v[i] = a[c, i] + 0
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}
	END {
		split(order, cells, " ")
		lp = med(p50, "loopback"); lm = med(mean, "loopback"); lg = med(g, "loopback")
		lg16 = med(g16, "loopback"); lp0 = med(p0, "loopback")
		for (k = 1; k in cells; k++) {
			c = cells[k]
			printf "| %s | %.2f | %.2f× | %.2f | %.2f | %.2f | %.2f× | %.2f | %.2f× | %.2f | %.2f× | %s |\n", c,
				med(p50, c), med(p50, c) / lp, med(p99, c), med(mean, c),
				med(p0, c), med(p0, c) / lp0,
				med(g, c), med(g, c) / lg, med(g16, c), med(g16, c) / lg16, acc[c]
		}
	}' "$TSV"
	echo
	echo "Raw: \`$RAW/accel-*\` (xfer rr and bulk lines, weftd log, TSV)."
} >"$RESULTS"
echo
cat "$RESULTS"
