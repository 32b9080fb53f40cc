#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make bench`: weft against its peers, side by side, in one run.
#
#   1. throughput and latency with wrk against a real nginx, through each
#      peer: direct (no mesh), kube-proxy style iptables DNAT and weft at
#      each service count, 2x iptables REDIRECT + HAProxy (the sidecar
#      stand-in) and HAProxy as a single hop; two loads each, keep-alive and
#      a new connection per request; host-wide CPU from /proc/stat;
#   2. wall time of `weftd --once` compiling and applying 10,000 services,
#      then a change to 1% of them;
#   3. delay from a config file change (alone, and with SIGHUP) to the
#      datapath honouring it, seen by a client in the cgroup;
#   4. AuthorizationPolicy: the same two loads with nginx and wrk inside a
#      weft cgroup whose policies hold 0 (none at all), 10, 1,000 and
#      10,000 ALLOW rules, only the last of which matches the client, so
#      every SYN is decided against the whole rule set; then the wall time
#      of weftd compiling and applying each rule set.
#
# Results: build/bench/results.md (also printed), raw wrk output and logs in
# build/bench/raw/.  docs/benchmarks.md explains the set-up and the knobs:
#
#   BENCH_QUICK=1            smoke run: 2 s cells, 1 round, fewer trials
#   BENCH_DURATION=5         seconds per measured cell
#   BENCH_WARMUP=1           seconds of discarded warm-up before each cell
#   BENCH_THREADS=2 BENCH_CONNECTIONS=32   wrk -t / -c, the same for all
#   BENCH_SERVICES="2000 20000"            service counts
#   BENCH_ENDPOINTS=2        endpoints of every service but the measured one
#   BENCH_ROUNDS=5           rounds of all cells, interleaved (median reported)
#   BENCH_PEERS="direct iptables weft haproxy-sidecar haproxy-hop"
#   BENCH_APPLY_SERVICES=10000 BENCH_APPLY_TRIALS=3 BENCH_RELOAD_TRIALS=7
#   BENCH_POLICY_RULES="0 10 1000 10000" BENCH_POLICY_TRIALS=3
#   BENCH_POLICY_BPF_STATS=1 run time of the policy peers' BPF programs
#   BENCH_SECTIONS="throughput apply reload policy"   sections to run
#
# Everything runs in network namespaces weft-bench-<pid>-* on a bridge of
# their own (10.202.0.0/16), under child cgroups weft-bench-<pid>-*, with
# pins under /sys/fs/bpf/weft-bench-<pid>-*; iptables rules exist only in
# those namespaces.  The trap of scripts/sandbox.sh removes all of it (and
# every process started here) on exit, error or Ctrl-C.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# --- knobs -------------------------------------------------------------------
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	def_duration=2 def_warmup=1 def_rounds=1 def_apply=1 def_reload=3 def_ptrials=1
else
	def_duration=5 def_warmup=1 def_rounds=5 def_apply=3 def_reload=7 def_ptrials=3
fi
DURATION=${BENCH_DURATION:-$def_duration}
WARMUP=${BENCH_WARMUP:-$def_warmup}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
SERVICES=${BENCH_SERVICES:-2000 20000}
ENDPOINTS=${BENCH_ENDPOINTS:-2}
ROUNDS=${BENCH_ROUNDS:-$def_rounds}
PEERS=${BENCH_PEERS:-direct iptables weft haproxy-sidecar haproxy-hop}
APPLY_SERVICES=${BENCH_APPLY_SERVICES:-10000}
APPLY_TRIALS=${BENCH_APPLY_TRIALS:-$def_apply}
RELOAD_TRIALS=${BENCH_RELOAD_TRIALS:-$def_reload}
POLICY_RULES=${BENCH_POLICY_RULES:-0 10 1000 10000}
POLICY_TRIALS=${BENCH_POLICY_TRIALS:-$def_ptrials}
POLICY_BPF_STATS=${BENCH_POLICY_BPF_STATS:-1}
SECTIONS=${BENCH_SECTIONS:-throughput apply reload policy}
OUT=build/bench

die() {
	echo "bench: $*" >&2
	exit 1
}

for v in DURATION WARMUP THREADS CONNECTIONS ENDPOINTS ROUNDS APPLY_SERVICES \
	APPLY_TRIALS RELOAD_TRIALS POLICY_TRIALS POLICY_BPF_STATS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v=${!v}: not a number"
done
for n in $SERVICES; do
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 2 ] || [ "$n" -gt 65000 ]; then
		die "BENCH_SERVICES: $n is not a count between 2 and 65000"
	fi
done
if [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 300 ]; then die "BENCH_DURATION: 1..300"; fi
[ "$APPLY_SERVICES" -le 65000 ] || die "BENCH_APPLY_SERVICES: at most 65000"
for s in $SECTIONS; do
	case $s in
	throughput | apply | reload | policy) ;;
	*) die "BENCH_SECTIONS: unknown section $s (throughput apply reload policy)" ;;
	esac
done
# bench/gen-policies.awk takes its ipBlocks from 100.64.0.0/10.
for n in $POLICY_RULES; do
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -gt 40000 ]; then
		die "BENCH_POLICY_RULES: $n is not a count between 0 and 40000"
	fi
done
section_on() { [[ " $SECTIONS " == *" $1 "* ]]; }
if section_on policy && [[ " $POLICY_RULES " != *" 0 "* ]]; then
	die "BENCH_POLICY_RULES: needs 0, the baseline the others are compared with"
fi

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, cgroups, BPF)"
WEFTD=$top/build/weftd
WEFT=$top/build/weft
[ -x "$WEFTD" ] || die "build/weftd missing: run make"
[ -x "$WEFT" ] || die "build/weft missing: run make"
for t in wrk nginx haproxy iptables iptables-restore ip nsenter curl awk sysctl bpftool "${CC:-gcc}"; do
	command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh installs it)"
done

# The exact command, for the report.
cmd=""
for v in $(compgen -e | grep '^BENCH_' || true); do
	cmd+="$v=${!v} "
done
if [ -n "${MAKELEVEL:-}" ]; then cmd+="make bench"; else cmd+="bench/run.sh"; fi

# --- sandbox -----------------------------------------------------------------
# shellcheck source=scripts/sandbox.sh
. scripts/sandbox.sh
SB_NAME_PREFIX="weft-bench-$$"
SB_UNINSTALL="$WEFTD --uninstall"
sb_init
# The clean-up may run inside a redirected command (an interrupted wrk):
# its report goes to the stderr the script started with.
exec 4>&2
trap 'sb_cleanup 2>&4' EXIT

rm -rf "$OUT"
mkdir -p "$OUT/raw"
# One build for the whole run, even if `make` rewrites build/ meanwhile
# (the BPF objects are inside weftd).
cp "$WEFTD" "$WEFT" "$OUT/"
WEFTD=$top/$OUT/weftd WEFT=$top/$OUT/weft
SB_UNINSTALL="$WEFTD --uninstall"
RAW=$top/$OUT/raw
RUN=$SB_RUN_DIR
POLL=$top/$OUT/bench-poll
"${CC:-gcc}" -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE bench/poll.c -o "$POLL"
BPF_STATS=$top/$OUT/bench-bpf-stats
"${CC:-gcc}" -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE bench/bpf-stats.c -o "$BPF_STATS"

section() { printf '\n== %s\n' "$*"; }
note() { printf '  %s\n' "$*"; }

# Forget a pid we stopped ourselves, so the clean-up never signals a
# recycled pid.
forget_pid() {
	local p keep=()
	for p in "${SB_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	SB_PIDS=("${keep[@]}")
}

stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Host-wide CPU counters: "total idle" jiffies from the first line of
# /proc/stat (idle includes iowait; guest time is already in user).
cpu_snap() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $5 + $6; exit }' /proc/stat
}
cpu_busy() { # "t0 i0" "t1 i1" -> busy % of all cores
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
		dt = y[1] - x[1]; di = y[2] - x[2];
		printf "%.1f", (dt > 0 ? 100 * (dt - di) / dt : 0) }'
}

# VIP of service number i, as bench/gen-services.awk assigns them.
vip_of() { echo "10.96.$(($1 / 254)).$(($1 % 254 + 1))"; }
label() { (($1 > 0 && $1 % 1000 == 0)) && echo "$(($1 / 1000))k" || echo "$1"; }

# wait_http CGROUP|- NETNS URL TEXT [SECONDS]: until URL answers with TEXT.
wait_http() {
	local i out
	for ((i = 0; i < ${5:-10} * 10; i++)); do
		out=$(sb_exec "$1" "$2" curl -s --max-time 1 "$3" 2>/dev/null) || true
		[[ $out == *"$4"* ]] && return 0
		sleep 0.1
	done
	echo "bench: $3 from $2 never answered '$4' (last: '$out')" >&2
	return 1
}

# The measured service: a Service and its EndpointSlice, in two files so a
# test can rewrite the slice alone.  target_files DIR VIP ENDPOINT.
target_service() {
	cat >"$1/target-service.yaml" <<-EOF
	apiVersion: v1
	kind: Service
	metadata:
	  name: bench-target
	  namespace: bench
	spec:
	  clusterIP: $2
	  ports:
	  - name: http
	    port: 80
	    protocol: TCP
	EOF
}
target_slice() { # FILE ENDPOINT
	cat >"$1" <<-EOF
	apiVersion: discovery.k8s.io/v1
	kind: EndpointSlice
	metadata:
	  name: bench-target-x1
	  namespace: bench
	  labels:
	    kubernetes.io/service-name: bench-target
	addressType: IPv4
	ports:
	- name: http
	  port: 80
	  protocol: TCP
	endpoints:
	- addresses: ["$2"]
	  conditions:
	    ready: true
	EOF
}

# --- topology ----------------------------------------------------------------
# Every peer has namespaces of its own on the sandbox bridge (so one peer's
# iptables rules and conntrack state never tax another), numbered k:
#   client 10.202.k.1, server 10.202.k.2 (+ .3, "backend-b"), mid 10.202.k.4.
# The client has a route for the VIPs (10.96.0.0/16) towards the bridge, as
# a node has a default route; only DNAT or weft make them reachable.
CG_CLIENT="" CG_SERVERS="" CG_AGENT=""
sb_cgroup client CG_CLIENT
sb_cgroup servers CG_SERVERS
sb_cgroup agent CG_AGENT
NET=0
T_NS=() T_PIDS=()

# Per namespace: room for a new connection per request.  No TIME_WAIT
# sockets are kept (tcp_max_tw_buckets=0): a closed cell's hundreds of
# thousands of them would otherwise expire a minute later, in the middle of
# some other peer's cell.
ns_tune() {
	sb_exec - "$1" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" \
		net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_max_tw_buckets=0 \
		net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096 >/dev/null
}

topo_up() { # [mid]
	NET=$((NET + 1))
	[ "$NET" -le 250 ] || die "too many topologies"
	T_NS=() T_PIDS=()
	T_CLI_IP=10.202.$NET.1 T_SRV_IP=10.202.$NET.2 T_SRV_B=10.202.$NET.3
	T_MID_IP=10.202.$NET.4
	sb_host "cli$NET" "$T_CLI_IP"
	T_CLI=$(sb_name "cli$NET")
	sb_host "srv$NET" "$T_SRV_IP"
	T_SRV=$(sb_name "srv$NET")
	ip -n "$T_SRV" addr add "$T_SRV_B/16" dev eth0
	ip -n "$T_CLI" route add 10.96.0.0/16 dev eth0
	T_NS=("$T_CLI" "$T_SRV")
	if [ "${1:-}" = mid ]; then
		sb_host "mid$NET" "$T_MID_IP"
		T_MID=$(sb_name "mid$NET")
		T_NS+=("$T_MID")
	fi
	for ns in "${T_NS[@]}"; do
		ns_tune "$ns"
	done
	nginx_start "$T_SRV"
}

topo_down() {
	local p ns
	for p in "${T_PIDS[@]}"; do
		stop_pid "$p"
	done
	for ns in "${T_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	T_NS=() T_PIDS=()
}

# spawn NAME CGROUP NETNS CMD...: a server of the current topology.
spawn() {
	local name=$1
	shift
	sb_spawn "$RUN/$name.log" "$@"
	T_PIDS+=("$SB_LAST_PID")
}

# nginx_start NETNS: nginx in cgroup NGINX_CG if set (a policy peer's weft
# cgroup, where the ingress program sees its listener), else servers.
nginx_start() {
	local dir=$RUN/nginx$NET
	mkdir -p "$dir"
	sed -e "s|@DIR@|$dir|g" -e "s|@ADDR_B@|$T_SRV_B|g" bench/nginx.conf >"$dir/nginx.conf"
	spawn "nginx$NET" "${NGINX_CG:-$CG_SERVERS}" "$1" nginx -p "$dir/" -c "$dir/nginx.conf" \
		-e "$dir/error.log" -g 'daemon off;'
	wait_http - "$1" "http://$T_SRV_IP/" backend-a 10 || {
		cat "$dir/error.log" "$RUN/nginx$NET.log" >&2
		die "nginx did not start"
	}
}

haproxy_start() { # NAME NETNS TEMPLATE [BACKEND]
	local cfg=$RUN/$1$NET.cfg
	sed -e "s|@BACKEND@|${4:-}|g" "bench/$3" >"$cfg"
	haproxy -c -q -f "$cfg" || die "bad haproxy config $cfg"
	spawn "$1$NET" "$CG_SERVERS" "$2" haproxy -db -f "$cfg"
}

# --- generated configs ---------------------------------------------------------
if section_on throughput; then
	section "configs"
	declare -A FILLERS
	for n in $SERVICES; do
		FILLERS[$n]=$RUN/fillers-$n
		mkdir "${FILLERS[$n]}"
		awk -f bench/gen-services.awk -v fmt=yaml -v n="$n" -v eps="$ENDPOINTS" -v out="${FILLERS[$n]}"
		note "$n services ($((n - 1)) fillers with $ENDPOINTS endpoints + the measured one)"
	done
fi

# --- the run's context -----------------------------------------------------------
NCPU=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
START_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HOST_IPT_BEFORE=$(iptables-save 2>/dev/null | sed '/^#/d' | md5sum)
s0=$(cpu_snap)
sleep 2
IDLE_BUSY=$(cpu_busy "$s0" "$(cpu_snap)")
note "$CPU_MODEL, $NCPU cores, $MEM, kernel $(uname -r)"
note "background load before the run: $IDLE_BUSY% busy over 2 s, loadavg $LOAD_START"
# Wall time of each section run, for the report: "throughput 312.4 s, ...".
WALL="" T_SECTION=$(now)
wall() {
	WALL+="${WALL:+, }$1 $(elapsed "$T_SECTION" "$(now)") s"
	T_SECTION=$(now)
}

# --- throughput --------------------------------------------------------------------
CELLS=$RAW/cells.tsv
printf 'round\tpeer\tload\trps\tp50_us\tp99_us\tcpu_busy_pct\terrors\trequests\n' >"$CELLS"
declare -A SETUP_NOTE

tcp_opens() { # NETNS -> "active passive" TCP opens so far
	sb_exec - "$1" cat /proc/net/snmp |
		awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6, $7 }'
}

# Per peer, once set up: cgroup of its client, URL, client and server
# namespaces, all its namespaces and processes, weft pin dir.
declare -A P_CG P_URL P_CLI P_SRV P_NS P_PIDS P_PIN
# Policy peers only: their config dir.
declare -A P_DIR

# run_cell ROUND PEER LOAD: a warm-up, then the measured wrk run.
run_cell() {
	local round=$1 peer=$2 load=$3 hdr=() raw s0 s1 busy o0 o1 cg ns url
	cg=${P_CG[$peer]} ns=${P_CLI[$peer]} url=${P_URL[$peer]}
	[ "$load" = close ] && hdr=(-H 'Connection: close')
	raw=$RAW/r$round-$peer-$load.txt
	sb_exec "$cg" "$ns" timeout --foreground -s KILL $((WARMUP + 20)) \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${hdr[@]}" "$url" \
		>"$RAW/r$round-$peer-$load.warmup.txt" 2>&1 || true
	o0=$(tcp_opens "${P_SRV[$peer]}")
	s0=$(cpu_snap)
	# A failing wrk means a broken set-up, never noise: stop.
	sb_exec "$cg" "$ns" timeout --foreground -s KILL $((DURATION + 30)) \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${hdr[@]}" "$url" \
		>"$raw" 2>&1 || { cat "$raw" >&2; die "$peer, $load: wrk failed ($?)"; }
	s1=$(cpu_snap)
	o1=$(tcp_opens "${P_SRV[$peer]}")
	busy=$(cpu_busy "$s0" "$s1")
	{
		echo
		echo "# host CPU busy over the run: $busy% of $NCPU cores"
		echo "# nginx's namespace accepted $(($(cut -d' ' -f2 <<<"$o1") - $(cut -d' ' -f2 <<<"$o0"))) TCP connections"
		echo "# wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency ${hdr[*]} $url (cgroup ${cg##*/}, netns $ns)"
	} >>"$raw"
	read -r rps p50 p99 errs reqs < <(awk -f bench/wrk.awk "$raw")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$peer" "$load" \
		"$rps" "$p50" "$p99" "$busy" "$errs" "$reqs" >>"$CELLS"
	printf '  %-16s %-9s %9s req/s  p50 %7s us  p99 %8s us  cpu %5s%%  errors %s\n' \
		"$peer" "$load" "$rps" "$p50" "$p99" "$busy" "$errs"
}

# peer_up PEER: build its topology and datapath, check that the backend
# answers through it.
peer_up() {
	local peer=$1 n t0 t1 dir url
	# Not locals: sb_cgroup and sb_pin_dir set them by name, and a local
	# of theirs with the same name would shadow ours.
	peer_cg=$CG_CLIENT peer_pin=""
	case $peer in
	direct)
		topo_up
		url=http://$T_SRV_IP/
		;;
	iptables-*)
		n=${PEER_COUNT[$peer]}
		topo_up
		awk -f bench/gen-services.awk -v fmt=iptables -v n="$n" -v eps="$ENDPOINTS" \
			-v target_vip="$(vip_of $((n - 1)))" -v target_ep="$T_SRV_IP" \
			>"$RUN/iptables-$NET.rules"
		t0=$(now)
		sb_exec - "$T_CLI" iptables-restore "$RUN/iptables-$NET.rules" ||
			die "iptables-restore in $T_CLI failed"
		t1=$(now)
		SETUP_NOTE[$peer]="iptables-restore of $n services: $(elapsed "$t0" "$t1") s"
		url=http://$(vip_of $((n - 1)))/
		;;
	weft-*)
		n=${PEER_COUNT[$peer]}
		topo_up
		dir=$RUN/weft-$NET.d
		mkdir "$dir"
		ln "${FILLERS[$n]}"/*.yaml "$dir/"
		target_service "$dir" "$(vip_of $((n - 1)))"
		target_slice "$dir/target-slice.yaml" "$T_SRV_IP"
		sb_cgroup "weft$NET" peer_cg
		sb_pin_dir "weft$NET" peer_pin
		t0=$(now)
		sb_exec - "$T_CLI" "$WEFTD" -d "$dir" --cgroup "$peer_cg" --pin-dir "$peer_pin" \
			--metrics-port 0 --once >"$RAW/weftd-$peer.log" 2>&1 || {
			cat "$RAW/weftd-$peer.log" >&2
			die "weftd --once for $peer failed"
		}
		t1=$(now)
		SETUP_NOTE[$peer]="weftd --once with $n services: $(elapsed "$t0" "$t1") s"
		url=http://$(vip_of $((n - 1)))/
		;;
	policy-*)
		# nginx and wrk both in the weft cgroup; nginx listens before
		# weftd applies, as its start-up check comes from its own address,
		# which the rules do not allow.
		n=${PEER_COUNT[$peer]}
		sb_cgroup "$peer" peer_cg
		sb_pin_dir "$peer" peer_pin
		NGINX_CG=$peer_cg topo_up
		sb_host "icpt$NET" "10.202.$NET.5"
		sb_host "ban$NET" "10.202.$NET.6"
		T_NS+=("$(sb_name "icpt$NET")" "$(sb_name "ban$NET")")
		dir=$RUN/policy-$NET.d
		mkdir "$dir"
		awk -f bench/gen-policies.awk -v n="$n" -v client="$T_CLI_IP" -v server="$T_SRV_IP" \
			-v intruder="10.202.$NET.5" -v banned="10.202.$NET.6" -v out="$dir"
		P_DIR[$peer]=$dir
		t0=$(now)
		sb_exec - "$T_CLI" "$WEFTD" -d "$dir" --cgroup "$peer_cg" --pin-dir "$peer_pin" \
			--metrics-port 0 --once >"$RAW/weftd-$peer.log" 2>&1 || {
			cat "$RAW/weftd-$peer.log" >&2
			die "weftd --once for $peer failed"
		}
		t1=$(now)
		rows=$(grep -o '[0-9]* policy rows' "$RAW/weftd-$peer.log" | tail -n 1) || true
		SETUP_NOTE[$peer]="weftd --once with $n rules: $(elapsed "$t0" "$t1") s${rows:+, $rows}"
		url=http://$T_SRV_IP/
		;;
	haproxy-sidecar)
		topo_up
		haproxy_start sidecar-in "$T_SRV" haproxy-sidecar-in.cfg
		sb_exec - "$T_SRV" iptables-restore bench/sidecar-server.rules || die "iptables-restore"
		haproxy_start sidecar-out "$T_CLI" haproxy-sidecar-out.cfg
		sb_exec - "$T_CLI" iptables-restore bench/sidecar-client.rules || die "iptables-restore"
		url=http://$T_SRV_IP/
		;;
	haproxy-hop)
		topo_up mid
		haproxy_start hop "$T_MID" haproxy-hop.cfg "$T_SRV_IP"
		url=http://$T_MID_IP/
		;;
	*)
		die "unknown peer $peer"
		;;
	esac
	P_CG[$peer]=$peer_cg P_URL[$peer]=$url P_CLI[$peer]=$T_CLI P_SRV[$peer]=$T_SRV
	P_NS[$peer]="${T_NS[*]}" P_PIDS[$peer]="${T_PIDS[*]}" P_PIN[$peer]=$peer_pin
	wait_http "$peer_cg" "$T_CLI" "$url" backend-a 10 || {
		tail -n 5 "$RUN"/*"$NET".log >&2
		die "$peer: no answer through $url"
	}
	note "$peer: client ${T_CLI##*-} -> $url${SETUP_NOTE[$peer]:+; ${SETUP_NOTE[$peer]}}"
}

# Evidence that the path under test was the one taken, then teardown.
peer_down() {
	local peer=$1 p ns
	case $peer in
	iptables-*)
		sb_exec - "${P_CLI[$peer]}" iptables -t nat -L KUBE-SERVICES -n -v -x | tail -n 2 \
			>"$RAW/$peer.kube-services-tail.txt" 2>&1 || true
		;;
	weft-*)
		# The measured service's connects and the datapath's counters.
		"$WEFT" -p "${P_PIN[$peer]}" -j stats 2>&1 |
			grep -o '{[^{}]*"bench-target[^{}]*}\|"counters":{[^{}]*}' \
				>"$RAW/$peer.weft-stats.txt" || true
		$SB_UNINSTALL --pin-dir "${P_PIN[$peer]}" >/dev/null 2>&1 || true
		rm -rf "${P_PIN[$peer]}"
		;;
	policy-*)
		policy_counters "$peer"
		$SB_UNINSTALL --pin-dir "${P_PIN[$peer]}" >/dev/null 2>&1 || true
		rm -rf "${P_PIN[$peer]}"
		;;
	esac
	for p in ${P_PIDS[$peer]}; do
		stop_pid "$p"
	done
	for ns in ${P_NS[$peer]}; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

declare -A PEER_COUNT
PEER_LIST=()
for p in $PEERS; do
	case $p in
	iptables | weft)
		for n in $SERVICES; do
			PEER_LIST+=("$p-$(label "$n")")
			PEER_COUNT[$p-$(label "$n")]=$n
		done
		;;
	*) PEER_LIST+=("$p") ;;
	esac
done

if section_on throughput; then
	section "peers"
	for peer in "${PEER_LIST[@]}"; do
		peer_up "$peer"
	done
	# Only weft peers' clients may meet BPF programs: the shared client cgroup
	# must have none attached.
	if [ -n "$(bpftool cgroup show "$CG_CLIENT" 2>&1)" ]; then
		bpftool cgroup show "$CG_CLIENT" >&2
		die "programs attached to $CG_CLIENT: the non-weft peers would not be clean"
	fi

	# Cells interleave: each round runs every peer once per load, starting one
	# peer later than the round before, so a burst of background load (this
	# is a shared 2-core VM) lands on different peers in different rounds; the
	# report takes the median over rounds.
	section "throughput: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s per cell, $ROUNDS round(s)"
	npeers=${#PEER_LIST[@]}
	for ((round = 1; round <= ROUNDS; round++)); do
		for load in keepalive close; do
			for ((i = 0; i < npeers; i++)); do
				run_cell "$round" "${PEER_LIST[(i + round - 1) % npeers]}" "$load"
			done
		done
	done
	for peer in "${PEER_LIST[@]}"; do
		peer_down "$peer"
	done
	wall throughput
fi

# --- weftd: compile and apply N services -------------------------------------------
if section_on apply; then
	section "weftd --once with $APPLY_SERVICES services x 3 endpoints, then 1% of them changed ($APPLY_TRIALS runs)"
	APPLY=$RAW/apply.tsv
	printf 'trial\twhat\tseconds\tdetail\n' >"$APPLY"
	mkdir "$RUN/apply-base.d" "$RUN/apply-changed.d"
	awk -f bench/gen-services.awk -v fmt=yaml -v n=$((APPLY_SERVICES + 1)) -v eps=3 \
		-v out="$RUN/apply-base.d"
	awk -f bench/gen-services.awk -v fmt=yaml -v n=$((APPLY_SERVICES + 1)) -v eps=3 -v change=100 \
		-v out="$RUN/apply-changed.d"
	CG_APPLY="" PIN_APPLY=""
	sb_cgroup apply CG_APPLY
	sb_pin_dir apply PIN_APPLY
	# The hub netns comes with the first host: one with nothing in it when
	# the throughput section did not run.
	[ -n "$SB_HUB" ] || sb_host idle 10.202.255.254
	HUB=$SB_HUB

	# timed TRIAL KEY WHAT DIR [weftd flags]: one timed weftd run in the hub
	# netns (weftd opens no socket with --metrics-port 0, but stays off the
	# host's network all the same).
	timed() {
		local trial=$1 key=$2 what=$3 dir=$4 t0 t1 log detail
		shift 4
		log=$RAW/apply-$trial-$key.log
		t0=$(now)
		sb_exec - "$HUB" "$WEFTD" -d "$dir" --cgroup "$CG_APPLY" --pin-dir "$PIN_APPLY" \
			--metrics-port 0 "$@" >"$log" 2>&1 || {
			cat "$log" >&2
			die "weftd $* failed"
		}
		t1=$(now)
		detail=$(grep -o 'ready: .*\|ok: .*' "$log" | tail -n 1 || true)
		printf '%s\t%s\t%s\t%s\n' "$trial" "$what" "$(elapsed "$t0" "$t1")" "$detail" >>"$APPLY"
		printf '  %-44s %s s  %s\n' "$what" "$(elapsed "$t0" "$t1")" "$detail"
	}
	for ((trial = 1; trial <= APPLY_TRIALS; trial++)); do
		timed "$trial" check "--check (parse + compile only)" "$RUN/apply-base.d" --check
		timed "$trial" initial "--once, empty maps (load, attach, apply all)" "$RUN/apply-base.d" --once
		timed "$trial" change "--once, 1% of the services changed" "$RUN/apply-changed.d" --once
		timed "$trial" same "--once, nothing changed" "$RUN/apply-changed.d" --once
		$SB_UNINSTALL --pin-dir "$PIN_APPLY" >/dev/null 2>&1 || die "weftd --uninstall"
	done
	wall apply
fi

# --- weftd: config change -> datapath --------------------------------------------------
if section_on reload; then
	section "delay from a changed EndpointSlice to the new backend answering ($RELOAD_TRIALS trials per row)"
	RELOAD=$RAW/reload.tsv
	printf 'config\ttrigger\ttrial\tdelay_ms\tpolls\told\tfailed\n' >"$RELOAD"
	topo_up
	CG_RELOAD="" PIN_RELOAD=""
	sb_cgroup reload CG_RELOAD
	sb_pin_dir reload PIN_RELOAD
	R_VIP=$(vip_of "$APPLY_SERVICES")
	mkdir "$RUN/stage"
	INOTIFY_NOTE=""

	# The big config is the apply section's: made here when it did not run.
	if [ ! -d "$RUN/apply-base.d" ]; then
		mkdir "$RUN/apply-base.d"
		awk -f bench/gen-services.awk -v fmt=yaml -v n=$((APPLY_SERVICES + 1)) -v eps=3 \
			-v out="$RUN/apply-base.d"
	fi
	for size in 1 $((APPLY_SERVICES + 1)); do
		dir=$RUN/reload-$size.d
		mkdir "$dir"
		[ "$size" -eq 1 ] || ln "$RUN/apply-base.d"/*.yaml "$dir/"
		target_service "$dir" "$R_VIP"
		target_slice "$dir/target-slice.yaml" "$T_SRV_IP"
		cur=a
		log=$RAW/weftd-reload-$size.log
		sb_spawn "$log" "$CG_AGENT" "$T_CLI" "$WEFTD" -d "$dir" --cgroup "$CG_RELOAD" \
			--pin-dir "$PIN_RELOAD" --metrics-port 0
		wpid=$SB_LAST_PID
		sb_wait_for "$log" "ready" 60 || { cat "$log" >&2; die "weftd did not get ready"; }
		if grep -q 'reload with SIGHUP' "$log"; then
			INOTIFY_NOTE="weftd could not watch its config dir: $(grep 'reload with SIGHUP' "$log")"
		fi
		for trigger in "file change" "file change + SIGHUP"; do
			for ((trial = 1; trial <= RELOAD_TRIALS; trial++)); do
				if [ "$cur" = a ]; then next=b addr=$T_SRV_B; else next=a addr=$T_SRV_IP; fi
				target_slice "$RUN/stage/target-slice.yaml" "$addr"
				hup=()
				[ "$trigger" = "file change" ] || hup=(--hup "$wpid")
				res=$(sb_exec "$CG_RELOAD" "$T_CLI" "$POLL" "$R_VIP" 80 "backend-$cur" "backend-$next" \
					--rename "$RUN/stage/target-slice.yaml" "$dir/target-slice.yaml" \
					"${hup[@]}" --timeout-ms 15000 2>>"$RAW/reload-poll.err") || res=""
				if [ -z "$res" ]; then
					printf '%s\t%s\t%s\ttimeout\t\t\t\n' "$size services" "$trigger" "$trial" >>"$RELOAD"
					note "$size services, $trigger, trial $trial: no answer from backend-$next within 15 s"
					if [ "$trigger" = "file change" ]; then
						# Without a reaction to the file, the next trials would
						# time out too; bring the datapath back in line and stop.
						kill -HUP "$wpid"
						cur=$next
						INOTIFY_NOTE+="${INOTIFY_NOTE:+; }weftd did not react to the file change by itself ($size services)"
						sleep 1
						break
					fi
					die "the datapath never honoured the change (see $log)"
				fi
				cur=$next
				# delay_ms=X polls=N old=N failed=N
				read -r d p o f < <(tr '=' ' ' <<<"$res" | awk '{ print $2, $4, $6, $8 }')
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size services" "$trigger" "$trial" "$d" "$p" "$o" "$f" >>"$RELOAD"
				note "$size services, $trigger, trial $trial: $d ms ($o old answers, $f failed polls)"
				sleep 0.3 # let a reload queued by the same change finish
			done
		done
		stop_pid "$wpid"
		$SB_UNINSTALL --pin-dir "$PIN_RELOAD" >/dev/null 2>&1 || die "weftd --uninstall"
	done
	topo_down
	wall reload
fi

# --- AuthorizationPolicy: cost per rule count -----------------------------------------
# One peer per rule count, policy-0 (no AuthorizationPolicy at all: the
# baseline), policy-10, policy-1k, ..., each with namespaces, a cgroup and
# a weftd of its own (peer_up), and Pods that give the client, the server
# and two refused clients identities (bench/gen-policies.awk).  nginx and
# wrk both run in the weft cgroup: the destination's cgroup_skb/ingress
# program decides every SYN nginx receives, and connect() decides too when
# weftd knows the client's network namespace (weft_netns).
POLICY_CELLS=$RAW/policy-cells.tsv
POLICY_POINTS=$RAW/policy-points.tsv
POLICY_APPLY=$RAW/policy-apply.tsv
POLICY_PROGS=$RAW/policy-progs.tsv
declare -A P_ICPT P_BAN POLICY_CHECK P_PROGS

# policy_prog_ids PEER: ids of the ingress (policy) and connect4 (load
# balancing and policy at connect()) programs attached to its cgroup.
policy_prog_ids() {
	local json id_in id_conn
	json=$(bpftool -j cgroup show "${P_CG[$1]}")
	id_in=$(grep -o '"id":[0-9]*,"attach_type":"cgroup_inet_ingress"' <<<"$json" | grep -o '[0-9]*' | head -n 1) || true
	id_conn=$(grep -o '"id":[0-9]*,"attach_type":"cgroup_inet4_connect"' <<<"$json" | grep -o '[0-9]*' | head -n 1) || true
	if [ -z "$id_in" ] || [ -z "$id_conn" ]; then
		echo "$json" >&2
		die "$1: no ingress or connect4 program on ${P_CG[$1]}"
	fi
	P_PROGS[$1]="$id_in $id_conn"
}

# CPU time of a cgroup's processes so far (µs): wrk and nginx of a policy
# peer, with the kernel work done on their behalf, without the rest of the
# machine that host-wide busy % includes.
cg_usage() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }

# policy_prog_snap PEER: "runs ns runs ns" of its ingress and connect4
# programs so far (0 while run-time statistics are off).
policy_prog_snap() {
	local id json cnt ns out=""
	for id in ${P_PROGS[$1]}; do
		json=$(bpftool -j prog show id "$id")
		cnt=$(grep -o '"run_cnt":[0-9]*' <<<"$json" | cut -d: -f2) || true
		ns=$(grep -o '"run_time_ns":[0-9]*' <<<"$json" | cut -d: -f2) || true
		out+="${cnt:-0} ${ns:-0} "
	done
	echo "$out"
}

# policy_verify PEER: before any cell, proof that the rules are in force.
# From outside any weft cgroup the intruder (no ALLOW rule names it) and
# the banned client (a DENY policy names its namespace) must get no answer:
# the destination dropped their SYNs (curl exit 28, timeout).  From inside
# the peer's cgroup the intruder must get none either; exit 7 means
# connect() was refused at once (the connect hook knew its namespace), 28
# that its SYN was dropped at the destination.  With no policy all three
# get answers, so the refusals come from the rules.
policy_verify() {
	local peer=$1 n what cg ns rc out res=""
	n=${PEER_COUNT[$peer]}
	for what in intruder banned intruder-in-cgroup; do
		case $what in
		intruder) cg=$CG_CLIENT ns=${P_ICPT[$peer]} ;;
		banned) cg=$CG_CLIENT ns=${P_BAN[$peer]} ;;
		*) cg=${P_CG[$peer]} ns=${P_ICPT[$peer]} ;;
		esac
		rc=0
		out=$(sb_exec "$cg" "$ns" curl -s --connect-timeout 1 --max-time 2 "${P_URL[$peer]}" 2>&1) || rc=$?
		if [ "$n" -eq 0 ]; then
			[[ $out == *backend-a* ]] || die "$peer: $what got no answer without any policy (curl exit $rc)"
			res+="${res:+, }$what answered"
			continue
		fi
		[[ $out != *backend-a* ]] || die "$peer: $what got an answer: the policy is not enforced"
		case $rc in
		7) res+="${res:+, }$what refused at connect() (curl exit 7)" ;;
		28) res+="${res:+, }$what: SYN dropped (curl exit 28)" ;;
		*) res+="${res:+, }$what: no answer (curl exit $rc)" ;;
		esac
	done
	POLICY_CHECK[$peer]=$res
	note "$peer: $res"
}

# policy_counters PEER: what the datapath decided over the peer's life
# (checks, warm-ups and cells): weft_policy_stats summed over CPUs and
# policies per point/action/reason, the namespaces weftd knew (weft_netns),
# the connections nginx's namespace accepted, and the rows of each policy
# table.  bpftool prints the BTF-formatted keys; jq is not a dependency,
# hence grep and awk.
policy_counters() {
	local peer=$1 maps sums netns opens t c rows=""
	maps=$(printf '%s\n' "${P_PIN[$peer]}"/maps_v* | head -n 1)
	bpftool -j map dump pinned "$maps/weft_policy_stats" >"$RAW/$peer.policy-stats.json" 2>&1 || true
	bpftool -j map dump pinned "$maps/weft_netns" >"$RAW/$peer.netns.json" 2>&1 || true
	sums=$(grep -o '"formatted":{"key":{[^}]*},"values":\[[^]]*\]' "$RAW/$peer.policy-stats.json" |
		awk -f bench/policy-stats.awk) || true
	netns=$(grep -o '"formatted":{"key"' "$RAW/$peer.netns.json" | wc -l) || true
	opens=$(tcp_opens "${P_SRV[$peer]}" | cut -d' ' -f2)
	for t in dst ident src_ident src_net verdict; do
		c=$(bpftool -j map dump pinned "$maps/weft_policy_$t" | grep -o '"formatted":{"key"' | wc -l) || true
		rows+="${rows:+ }$t=$c"
	done
	"$WEFT" -p "${P_PIN[$peer]}" -j stats >"$RAW/$peer.weft-stats.json" 2>&1 || true
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$peer" "${PEER_COUNT[$peer]}" "$opens" "$netns" "${sums:-none}" "$rows" >>"$POLICY_POINTS"
}

if section_on policy; then
	section "AuthorizationPolicy: rules ${POLICY_RULES// /, }"
	printf 'round\tpeer\tload\trps\tp50_us\tp99_us\tcpu_busy_pct\terrors\trequests\n' >"$POLICY_CELLS"
	printf 'peer\trules\tnginx_accepted\tnetns_known\tdecisions\ttable_rows\n' >"$POLICY_POINTS"
	POLICY_PEERS=()
	for n in $POLICY_RULES; do
		POLICY_PEERS+=("policy-$(label "$n")")
		PEER_COUNT[policy-$(label "$n")]=$n
	done
	for peer in "${POLICY_PEERS[@]}"; do
		peer_up "$peer"
		P_ICPT[$peer]=$(sb_name "icpt$NET") P_BAN[$peer]=$(sb_name "ban$NET")
		policy_prog_ids "$peer"
		policy_verify "$peer"
		# What `weft policy explain` (the tables, offline) says of the
		# client and the intruder: the deciding policy and rule.
		for ip in "$T_CLI_IP" "10.202.$NET.5" "10.202.$NET.6"; do
			"$WEFT" -d "${P_DIR[$peer]}" policy explain --from "$ip" --to "$T_SRV_IP" --port 80 2>&1 |
				grep -v '^  applies' || true
		done >"$RAW/$peer.explain.txt"
	done

	# Run time of the programs themselves, per cell: req/s on 2 shared
	# cores cannot resolve a difference of a few hundred ns per connection.
	# bench-bpf-stats holds the statistics on for the cells only; every BPF
	# program of the machine pays two clock reads per run meanwhile.
	printf 'round\tpeer\tload\tingress_runs\tingress_ns\tconnect4_runs\tconnect4_ns\tcgroup_cpu_us\trequests\n' >"$POLICY_PROGS"
	STATS_PID="" PROG_NOTE=""
	if [ "$POLICY_BPF_STATS" = 1 ]; then
		sb_spawn "$RAW/bpf-stats.log" - - "$BPF_STATS"
		STATS_PID=$SB_LAST_PID
		if ! sb_wait_for "$RAW/bpf-stats.log" enabled 5; then
			PROG_NOTE="BPF run-time statistics unavailable: $(head -n 1 "$RAW/bpf-stats.log")"
			note "$PROG_NOTE"
			stop_pid "$STATS_PID"
			STATS_PID=""
		fi
	fi

	# Same cells, rounds and rotation as the throughput section; run_cell
	# appends to CELLS.
	CELLS=$POLICY_CELLS
	section "policy: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s per cell, $ROUNDS round(s)"
	npeers=${#POLICY_PEERS[@]}
	for ((round = 1; round <= ROUNDS; round++)); do
		for load in keepalive close; do
			for ((i = 0; i < npeers; i++)); do
				peer=${POLICY_PEERS[(i + round - 1) % npeers]}
				read -r a0 b0 c0 d0 < <(policy_prog_snap "$peer")
				u0=$(cg_usage "${P_CG[$peer]}")
				run_cell "$round" "$peer" "$load"
				u1=$(cg_usage "${P_CG[$peer]}")
				read -r a1 b1 c1 d1 < <(policy_prog_snap "$peer")
				# Requests of warm-up and cell, the window of the deltas.
				reqs=$(cat "$RAW/r$round-$peer-$load.warmup.txt" "$RAW/r$round-$peer-$load.txt" |
					awk '/ requests in / { n += $1 } END { print n + 0 }')
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$peer" "$load" \
					$((a1 - a0)) $((b1 - b0)) $((c1 - c0)) $((d1 - d0)) $((u1 - u0)) "$reqs" >>"$POLICY_PROGS"
			done
		done
	done
	[ -z "$STATS_PID" ] || stop_pid "$STATS_PID"
	for peer in "${POLICY_PEERS[@]}"; do
		peer_down "$peer"
	done

	# Compile and apply alone, in a cgroup with no process: --check
	# (parse + compile), --once on an empty pin dir (load, attach, write
	# every row), --once again with the same config (a whole new generation
	# is written, then the old one deleted).
	section "policy: weftd compiling and applying each rule set ($POLICY_TRIALS runs)"
	printf 'rules\ttrial\twhat\tseconds\trows\n' >"$POLICY_APPLY"
	CG_PAPPLY="" PIN_PAPPLY=""
	sb_cgroup policy-apply CG_PAPPLY
	sb_pin_dir policy-apply PIN_PAPPLY
	for ((trial = 1; trial <= POLICY_TRIALS; trial++)); do
		for peer in "${POLICY_PEERS[@]}"; do
			n=${PEER_COUNT[$peer]}
			for what in check once again; do
				flag=--once
				[ "$what" != check ] || flag=--check
				log=$RAW/policy-apply-$trial-$peer-$what.log
				t0=$(now)
				sb_exec - "$SB_HUB" "$WEFTD" -d "${P_DIR[$peer]}" --cgroup "$CG_PAPPLY" \
					--pin-dir "$PIN_PAPPLY" --metrics-port 0 "$flag" >"$log" 2>&1 || {
					cat "$log" >&2
					die "weftd $flag with $n rules failed"
				}
				t1=$(now)
				rows=$(grep -o '[0-9]* policy rows' "$log" | tail -n 1 | cut -d' ' -f1 || true)
				printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$trial" "$what" "$(elapsed "$t0" "$t1")" "${rows:-}" >>"$POLICY_APPLY"
				printf '  %6s rules  %-6s %s s%s\n' "$n" "$what" "$(elapsed "$t0" "$t1")" "${rows:+  $rows policy rows}"
			done
			$SB_UNINSTALL --pin-dir "$PIN_PAPPLY" >/dev/null 2>&1 || die "weftd --uninstall"
		done
	done
	wall policy
fi

# --- report ------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- bpf include user tools Makefile 2>/dev/null)" ]; then
	REV+=" + uncommitted changes"
fi
RESULTS=$OUT/results.md
{
	echo "# weft benchmark results"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $START_DATE |"
	echo "| command | \`$cmd\` (weft $REV) |"
	echo "| machine | $CPU_MODEL, $NCPU cores, $MEM |"
	echo "| kernel | $(uname -r) |"
	echo "| tools | $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | sed 's|.*/||'), HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }'), $(iptables -V) |"
	echo "| load | wrk -t$THREADS -c$CONNECTIONS, ${WARMUP} s warm-up then ${DURATION} s per cell, $ROUNDS round(s) (median) |"
	echo "| background | $IDLE_BUSY% CPU busy in 2 s before the run; loadavg $LOAD_START at start, $LOAD_END at end |"
	echo "| wall time | $WALL |"
	if section_on throughput; then
		echo
		echo "## Throughput and latency through each peer"
		echo
		echo "Client (wrk) → peer → nginx, each peer on namespaces of its own.  Medians"
		echo "over $ROUNDS interleaved rounds; \"req/s min–max\" shows the spread between"
		echo "rounds.  CPU is host-wide (/proc/stat, all $NCPU cores, wrk and nginx"
		echo "included) over the measured window: wrk is a closed loop that saturates"
		echo "the machine, so busy % is ~100 for every peer and the cost of a path shows"
		echo "in req/s and in CPU µs/req (busy CPU time / requests).  \"× direct\" is the"
		echo "ratio to the direct peer under the same load."
		awk -f bench/report.awk -v section=throughput -v ncpu="$NCPU" "$RAW/cells.tsv"
		echo
		for p in "${PEER_LIST[@]}"; do
			[ -z "${SETUP_NOTE[$p]:-}" ] || echo "- $p set-up: ${SETUP_NOTE[$p]}"
		done
		echo
		awk -f bench/report.awk -v section=goal "$RAW/cells.tsv"
	fi
	if section_on apply; then
		echo
		echo "## weftd: compile and apply $APPLY_SERVICES services (3 endpoints each)"
		echo
		echo "Wall time of one weftd process; each run starts from an empty pin dir, then"
		echo "applies the 1% change, then the same config again.  \"1% changed\": the first"
		echo "endpoint of every 100th service replaced."
		echo
		awk -f bench/report.awk -v section=apply "$APPLY"
	fi
	if section_on reload; then
		echo
		echo "## weftd: config change to datapath"
		echo
		echo "weftd in daemon mode; the measured EndpointSlice file is replaced"
		echo "(rename(2), atomic) with one naming the other backend, alone or followed"
		echo "at once by SIGHUP; a client in the cgroup opens a new connection to the"
		echo "VIP every ~1 ms until the new backend answers."
		echo
		awk -f bench/report.awk -v section=reload "$RELOAD"
		[ -z "$INOTIFY_NOTE" ] || { echo; echo "Note: $INOTIFY_NOTE."; }
	fi
	if section_on policy; then
		echo
		echo "## AuthorizationPolicy: rules ${POLICY_RULES// /, }"
		echo
		echo "nginx and wrk both inside a weft cgroup (one per rule count, with"
		echo "namespaces of its own); N ALLOW rules select nginx (principals,"
		echo "namespaces and ipBlocks of nobody, with and without ports), only the last"
		echo "one matches wrk's principal, after two DENY policies that do not match;"
		echo "0 rules: no AuthorizationPolicy at all.  Keep-alive and a new connection"
		echo "per request, medians over $ROUNDS interleaved rounds, CPU as in the"
		echo "throughput section; ratios are to 0 rules under the same load."
		awk -f bench/report.awk -v section=policy -v ncpu="$NCPU" -v base=policy-0 "$POLICY_CELLS"
		echo
		echo "Run time of the peer's own BPF programs over the close cells"
		echo "(BPF_ENABLE_STATS; warm-ups included; medians over rounds).  connect4"
		echo "runs once per connection: load balancing (no VIP here: one miss) and,"
		echo "with policies, the decision at connect().  The ingress program runs for"
		echo "every packet delivered to a socket of the cgroup (wrk's and nginx's) and"
		echo "decides only SYNs; its time per connection is its total over connect4's"
		echo "runs.  The statistics add two clock reads to each run."
		echo
		[ -z "$PROG_NOTE" ] || { echo "$PROG_NOTE."; echo; }
		awk -f bench/report.awk -v section=policy_progs -v base=policy-0 "$POLICY_PROGS"
		echo
		echo "Enforcement checks before the cells (curl; exit 28: SYN dropped at the"
		echo "destination, 7: connect() refused):"
		echo
		for p in "${POLICY_PEERS[@]}"; do
			echo "- $p: ${SETUP_NOTE[$p]}; ${POLICY_CHECK[$p]}"
		done
		echo
		echo "Decisions counted by the datapath over each peer's life (weft_policy_stats,"
		echo "summed over CPUs and policies; checks and warm-ups included), the network"
		echo "namespaces weftd knew (weft_netns: connect() decides only for those) and"
		echo "the TCP connections nginx's namespace accepted:"
		echo
		awk -f bench/report.awk -v section=policy_points "$POLICY_POINTS"
		echo
		echo "weftd alone on each rule set, in a cgroup with no process (median of"
		echo "$POLICY_TRIALS): \`--check\` parses and compiles; \`--once\` on an empty pin"
		echo "dir also loads and attaches the programs and writes every row; \`--once\`"
		echo "again writes the whole other generation and deletes the old one."
		echo
		awk -f bench/report.awk -v section=policy_apply "$POLICY_APPLY"
	fi
	echo
	echo "Raw wrk output, weftd logs and TSVs: \`$OUT/raw/\`."
} >"$RESULTS"

section "results ($RESULTS)"
cat "$RESULTS"
if [ "$(iptables-save 2>/dev/null | sed '/^#/d' | md5sum)" != "$HOST_IPT_BEFORE" ]; then
	echo "bench: warning: the host's iptables rules changed during the run (not by this script: every rule here is inside a bench namespace)" >&2
fi
