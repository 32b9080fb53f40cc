#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make demo`: a bookinfo-like mesh in a sandbox, load-balanced by weft.
#
#   1. installs missing packages and builds weftd, weft and testsrv;
#   2. builds a sandbox: one bridge in its own namespace and one namespace
#      per workload (productpage, details, reviews v1-v3, ratings, and a
#      "sleep" client), all on 10.201.0.0/16, plus one child cgroup;
#   3. writes the mesh config: Kubernetes Services with clusterIPs and
#      EndpointSlices (productpage, reviews), a Service selecting a Pod
#      (ratings), an Istio ServiceEntry with a WorkloadEntry (details, as if
#      it ran on a VM), and Istio's tcp-echo with a VirtualService that
#      splits its connections 80/20 between DestinationRule subsets;
#   4. starts weftd on the cgroup and sends real traffic with curl and
#      socat through the VIPs from the client, which runs inside the
#      cgroup; shifts tcp-echo's traffic live by editing the VirtualService;
#   5. applies an AuthorizationPolicy (ratings accepts reviews only) and
#      shows it enforced in the kernel: the client's connect() fails with
#      EACCES, the same client without weft has its SYN dropped at ratings,
#      `weft monitor` streams the denies, `weft policy explain` says why;
#   6. prints `weft service list`, `weft stats` and a few metrics;
#   7. removes everything (also on error or Ctrl-C): processes, pins and
#      links, namespaces, cgroup.
#
# Nothing touches the machine's own interfaces, routes or cgroups.
# DEMO_PAUSE=1 waits for Enter before cleaning up, to look around.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=scripts/sandbox.sh
. scripts/sandbox.sh

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces, cgroups, BPF)" >&2; exit 1; }

if [ -t 1 ]; then
	bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	bold() { printf '\n== %s\n' "$*"; }
fi

bold "dependencies and build"
scripts/install-deps.sh
make --no-print-directory build/weftd build/weft build/tools/testsrv
WEFTD=$top/build/weftd
WEFT=$top/build/weft
TESTSRV=$top/build/tools/testsrv
SB_UNINSTALL="$WEFTD --uninstall"

sb_init
sb_cgroup mesh CG
sb_pin_dir mesh PINS
CONF=$SB_RUN_DIR/mesh.d
mkdir "$CONF"

bold "sandbox (namespaces ${SB_NAME_PREFIX}-*, cgroup ${CG#"$SB_CGROUP2"/})"
# workload        IPv4          served as
hosts=(
	"sleep          10.201.0.2"
	"productpage-v1 10.201.1.1"
	"details-vm     10.201.2.1"
	"reviews-v1     10.201.3.1"
	"reviews-v2     10.201.3.2"
	"reviews-v3     10.201.3.3"
	"ratings-v1     10.201.4.1"
	"tcp-echo-v1    10.201.5.1"
	"tcp-echo-v2    10.201.5.2"
)
for h in "${hosts[@]}"; do
	read -r name ip <<<"$h"
	sb_host "$name" "$ip"
	port=9080
	case $name in tcp-echo-*) port=9000 ;; esac
	# ratings listens inside the mesh cgroup: the policy below is
	# enforced where its SYNs arrive
	cg=-
	[ "$name" = ratings-v1 ] && cg=$CG
	if [ "$name" != sleep ]; then
		sb_spawn "$SB_RUN_DIR/$name.log" "$cg" "$(sb_name "$name")" \
			"$TESTSRV" --name "$name" --tcp "$ip:$port"
		sb_wait_for "$SB_RUN_DIR/$name.log" ": ready" 5 ||
			{ cat "$SB_RUN_DIR/$name.log"; exit 1; }
	fi
	printf '  %-15s %-11s %s\n' "$name" "$ip" \
		"$([ "$name" = sleep ] && echo 'client, in the mesh cgroup' || echo "testsrv :$port$([ "$cg" = - ] || echo ', in the mesh cgroup')")"
done
CLIENT_NS=$(sb_name sleep)

bold "mesh config ($CONF)"
# One EndpointSlice entry: address, pod name.
endpoint() {
	printf -- '- addresses: ["%s"]\n  conditions:\n    ready: true\n' "$1"
	printf -- '  targetRef:\n    kind: Pod\n    name: %s\n    namespace: bookinfo\n' "$2"
}
# Service NAME CLUSTER_IP
service() {
	cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $1
  namespace: bookinfo
  labels:
    app: $1
spec:
  clusterIP: $2
  selector:
    app: $1
  ports:
  - name: http
    port: 9080
    targetPort: 9080
    protocol: TCP
EOF
}
slice_head() {
	cat <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $1-abcde
  namespace: bookinfo
  labels:
    kubernetes.io/service-name: $1
addressType: IPv4
ports:
- name: http
  port: 9080
  protocol: TCP
endpoints:
EOF
}
{
	service productpage 10.96.0.10
	echo ---
	slice_head productpage
	endpoint 10.201.1.1 productpage-v1-6f9df695b7-7rmn2
} >"$CONF/productpage.yaml"
{
	service reviews 10.96.0.11
	echo ---
	slice_head reviews
	endpoint 10.201.3.1 reviews-v1-5b5d6494f4-4vqhm
	endpoint 10.201.3.2 reviews-v2-5b667bcbf8-zs2lr
	endpoint 10.201.3.3 reviews-v3-5b9bd44f4-vf8j9
} >"$CONF/reviews.yaml"
{
	service ratings 10.96.0.12
	cat <<'EOF'
---
apiVersion: v1
kind: Pod
metadata:
  name: ratings-v1-7c6c9b5d9-m2x8k
  namespace: bookinfo
  labels:
    app: ratings
    version: v1
spec:
  serviceAccountName: bookinfo-ratings
  containers:
  - name: ratings
    image: docker.io/istio/examples-bookinfo-ratings-v1:1.20.3
    ports:
    - containerPort: 9080
status:
  phase: Running
  conditions:
  - type: Ready
    status: "True"
  podIP: 10.201.4.1
  podIPs:
  - ip: 10.201.4.1
EOF
	cat <<'EOF'
---
apiVersion: v1
kind: Pod
metadata:
  name: sleep-7656cf8794-9b5lx
  namespace: bookinfo
  labels: {app: sleep}
spec:
  serviceAccountName: sleep
  containers: [{name: sleep, image: curlimages/curl}]
status:
  phase: Running
  podIP: 10.201.0.2
EOF
} >"$CONF/ratings.yaml"
cat >"$CONF/details.yaml" <<'EOF'
# details runs on a VM outside Kubernetes: declared with a ServiceEntry
# that selects a WorkloadEntry.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: details
  namespace: bookinfo
spec:
  hosts:
  - details.bookinfo.example.com
  addresses:
  - 10.96.0.13
  ports:
  - number: 9080
    name: http
    protocol: HTTP
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector:
    labels:
      app: details
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-vm
  namespace: bookinfo
spec:
  address: 10.201.2.1
  labels:
    app: details
    version: v1
  serviceAccount: bookinfo-details
EOF
# tcp-echo: Istio's TCP sample, v1 and v2 Pods behind one Service, split
# by a VirtualService tcp route over DestinationRule subsets.
tcp_echo_pod() { # name version ip
	cat <<EOF
---
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: bookinfo
  labels: {app: tcp-echo, version: $2}
spec:
  containers:
  - name: tcp-echo
    image: docker.io/istio/tcp-echo-server:1.3
    ports: [{containerPort: 9000}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  podIP: $3
EOF
}
tcp_echo_route() { # weight-v1 weight-v2
	cat <<EOF
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: tcp-echo
  namespace: bookinfo
spec:
  hosts: [tcp-echo]
  tcp:
  - match: [{port: 9000}]
    route:
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v1}
      weight: $1
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v2}
      weight: $2
EOF
}
{
	cat <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: tcp-echo
  namespace: bookinfo
spec:
  clusterIP: 10.96.0.14
  selector: {app: tcp-echo}
  ports: [{name: tcp, port: 9000, targetPort: 9000}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: tcp-echo
  namespace: bookinfo
spec:
  host: tcp-echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
EOF
	tcp_echo_pod tcp-echo-v1-6d7c6f9b4-8kq2x v1 10.201.5.1
	tcp_echo_pod tcp-echo-v2-5f8c7b6d9-2xm4p v2 10.201.5.2
} >"$CONF/tcp-echo.yaml"
tcp_echo_route 80 20 >"$CONF/tcp-echo-route.yaml"
printf '  %-19s %-16s %s\n' productpage.yaml "10.96.0.10:9080" "Service + EndpointSlice (1 pod)" \
	reviews.yaml "10.96.0.11:9080" "Service + EndpointSlice (v1, v2, v3)" \
	ratings.yaml "10.96.0.12:9080" "Service + Pod (and the sleep Pod)" \
	details.yaml "10.96.0.13:9080" "ServiceEntry + WorkloadEntry (VM)" \
	tcp-echo.yaml "10.96.0.14:9000" "Service + Pods v1, v2 + DestinationRule subsets" \
	tcp-echo-route.yaml "" "VirtualService: tcp route v1 80%, v2 20%"
"$WEFTD" --check -d "$CONF" || { echo "demo: weftd rejected the config" >&2; exit 1; }

bold "weftd (cgroup ${CG#"$SB_CGROUP2"/}, pins $PINS)"
# weftd runs in the client's namespace (metrics on its loopback), outside
# the cgroup it serves.
sb_spawn "$SB_RUN_DIR/weftd.log" - "$CLIENT_NS" \
	"$WEFTD" -d "$CONF" --cgroup "$CG" --pin-dir "$PINS" -n demo-node \
	--metrics-addr 127.0.0.1 --metrics-port 15020
WEFTD_PID=$SB_LAST_PID
if ! sb_wait_for "$SB_RUN_DIR/weftd.log" ready 15; then
	cat "$SB_RUN_DIR/weftd.log"
	echo "demo: weftd did not get ready" >&2
	exit 1
fi
sed 's/^/  | /' "$SB_RUN_DIR/weftd.log"

bold "traffic from 'sleep' (inside the cgroup) through the VIPs"
get() { # get CGROUP|- URL -> body or curl's error
	sb_exec "$1" "$CLIENT_NS" curl -sS --noproxy '*' --connect-timeout 2 \
		--max-time 4 "$2" 2>&1 || true
}
declare -A seen=()
for svc in productpage:10 reviews:11 ratings:12 details:13 reviews:11 reviews:11 \
	reviews:11 reviews:11 reviews:11 productpage:10 reviews:11 reviews:11; do
	url="http://10.96.0.${svc#*:}:9080/"
	answer=$(get "$CG" "$url")
	seen[$answer]=$((${seen[$answer]:-0} + 1))
	printf '  GET %-26s %-12s -> %s\n' "$url" "(${svc%:*})" "$answer"
done
echo
echo "  answers per backend:"
for k in "${!seen[@]}"; do
	printf '    %-16s %d\n' "$k" "${seen[$k]}"
done | sort

# n connections to tcp-echo through its VIP: how many each version took.
echo_split() {
	local n=$1 v1=0 v2=0 other=0 answer
	for _ in $(seq "$n"); do
		answer=$(echo hello | sb_exec "$CG" "$CLIENT_NS" socat -T2 - \
			TCP:10.96.0.14:9000,connect-timeout=2 2>&1 || true)
		case $answer in
		tcp-echo-v1) v1=$((v1 + 1)) ;;
		tcp-echo-v2) v2=$((v2 + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
	printf '  %d connections: v1 %d, v2 %d%s\n' "$n" "$v1" "$v2" \
		"$([ "$other" = 0 ] || echo ", failed $other")"
}
generation() {
	"$WEFT" -j -p "$PINS" status | sed -n 's/.*"generation":\([0-9]*\).*/\1/p'
}
bold "tcp-echo (10.96.0.14:9000): VirtualService tcp route, v1 80% / v2 20%"
echo_split 50
bold "traffic shift: the VirtualService now says v1 0% / v2 100% (file rewritten)"
gen=$(generation)
tcp_echo_route 0 100 >"$CONF/tcp-echo-route.yaml.new"
mv "$CONF/tcp-echo-route.yaml.new" "$CONF/tcp-echo-route.yaml"
for _ in $(seq 50); do # inotify, then the apply: well under a second
	[ "$(generation)" != "$gen" ] && break
	sleep 0.1
done
tail -n 2 "$SB_RUN_DIR/weftd.log" | sed 's/^/  | /'
echo_split 20

bold "the same VIP from outside the cgroup: not translated (no route)"
printf '  GET http://10.96.0.11:9080/ -> %s\n' "$(get - http://10.96.0.11:9080/)"
bold "a backend addressed directly: untouched"
printf '  GET http://10.201.3.2:9080/ -> %s\n' "$(get "$CG" http://10.201.3.2:9080/)"

bold "same-node socket acceleration: sleep downloads from nginx on ratings-v1, both in the cgroup"
# nginx and curl use non-blocking sockets, as event loops do: each send
# goes straight into the peer socket's receive queue (docs/design.md).
WWW=$SB_RUN_DIR/www
mkdir -p "$WWW"
head -c 67108864 /dev/urandom >"$WWW/blob"
echo ok >"$WWW/index.html"
cat >"$SB_RUN_DIR/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1;
pid $SB_RUN_DIR/nginx.pid; error_log stderr notice;
events { worker_connections 64; }
http {
	access_log off; sendfile on;
	client_body_temp_path $WWW; proxy_temp_path $WWW; fastcgi_temp_path $WWW;
	uwsgi_temp_path $WWW; scgi_temp_path $WWW;
	server { listen 10.201.4.1:8088; root $WWW; }
}
EOF
sb_spawn "$SB_RUN_DIR/nginx.log" "$CG" "$(sb_name ratings-v1)" \
	nginx -e stderr -c "$SB_RUN_DIR/nginx.conf"
for _ in $(seq 50); do
	sb_exec - "$CLIENT_NS" curl -sf --noproxy '*' -o /dev/null --max-time 1 \
		http://10.201.4.1:8088/ 2>/dev/null && break
	sleep 0.1
done
accel_counts() {
	"$WEFT" -j -p "$PINS" stats |
		jq -r '.acceleration.counters | "\(.connections) connections, \(.bytes) bytes"'
}
echo "  weft stats before: $(accel_counts) redirected"
got=$(sb_exec "$CG" "$CLIENT_NS" curl -sS --noproxy '*' --max-time 30 \
	http://10.201.4.1:8088/blob http://10.201.4.1:8088/blob | sha256sum)
want=$(cat "$WWW/blob" "$WWW/blob" | sha256sum)
printf '  curl: 64 MiB twice on one keep-alive connection, sha256 %s\n' \
	"$([ "$got" = "$want" ] && echo "matches the file" || echo "DIFFERS")"
echo "  weft stats after:  $(accel_counts) redirected"

bold "AuthorizationPolicy: ratings accepts only bookinfo-reviews (file added)"
cat >"$CONF/ratings-authz.yaml.new" <<'EOF'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ratings-from-reviews
  namespace: bookinfo
spec:
  selector:
    matchLabels: {app: ratings}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: [cluster.local/ns/bookinfo/sa/bookinfo-reviews]
EOF
sed 's/^/  /' "$CONF/ratings-authz.yaml.new"
"$WEFT" -p "$PINS" monitor --timeout 8 >"$SB_RUN_DIR/monitor.log" 2>&1 &
MONITOR_PID=$!
gen=$(generation)
mv "$CONF/ratings-authz.yaml.new" "$CONF/ratings-authz.yaml"
for _ in $(seq 50); do
	[ "$(generation)" != "$gen" ] && break
	sleep 0.1
done
printf '  sleep (weft client) GET http://10.96.0.12:9080/ -> %s\n' \
	"$(get "$CG" http://10.96.0.12:9080/ | head -n 1)"
echo "    (connect() refused by weft with EACCES: sleep is not bookinfo-reviews)"
printf '  sleep without weft (outside the cgroup) GET http://10.201.4.1:9080/ -> %s\n' \
	"$(get - http://10.201.4.1:9080/ | head -n 1)"
echo "    (its SYN was dropped at ratings: the connection times out)"
printf '  GET http://10.96.0.11:9080/ (reviews, no policy) -> %s\n' \
	"$(get "$CG" http://10.96.0.11:9080/)"
echo
echo "  weft monitor (deny events from the ring buffer):"
wait "$MONITOR_PID" || true
sed 's/^/    /' "$SB_RUN_DIR/monitor.log"
echo
echo "  weft policy explain --from 10.201.0.2 --to 10.96.0.12 --port 9080:"
"$WEFT" policy explain -d "$CONF" --from 10.201.0.2 --to 10.96.0.12 \
	--port 9080 2>/dev/null | sed 's/^/    /'

bold "weft service list"
"$WEFT" -p "$PINS" service list
bold "weft stats"
"$WEFT" -p "$PINS" stats
bold "metrics (http://127.0.0.1:15020/metrics in the node namespace, first lines)"
# (into a file first, then the first 12 series: no reader closes a pipe
# early, which would fail the demo)
sb_exec - "$CLIENT_NS" curl -sS --noproxy '*' --max-time 3 \
	http://127.0.0.1:15020/metrics >"$SB_RUN_DIR/metrics.txt" 2>&1 || true
grep -v -m 12 '^#' "$SB_RUN_DIR/metrics.txt" | sed 's/^/  /'

if [ -n "${DEMO_PAUSE:-}" ]; then
	bold "paused: try  nsenter --net=/run/netns/$CLIENT_NS ...  (Enter to clean up)"
	read -r _
fi

bold "clean-up"
kill -TERM "$WEFTD_PID"
wait "$WEFTD_PID" || true
echo "  weftd stopped; the datapath stays pinned and attached:"
for d in "$PINS"/*/; do
	printf '    %s: %s\n' "$d" "$(cd "$d" && echo *)"
done
"$WEFTD" --uninstall --pin-dir "$PINS"
echo "  weftd --uninstall: pins and links removed"
echo "  namespaces, cgroup and servers go with the EXIT trap"
