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
#      (ratings), and an Istio ServiceEntry with a WorkloadEntry (details,
#      as if it ran on a VM);
#   4. starts weftd on the cgroup and sends real traffic with curl through
#      the VIPs from the client, which runs inside the cgroup;
#   5. prints `weft service list`, `weft stats` and a few metrics;
#   6. removes everything (also on error or Ctrl-C): processes, pins and
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
)
for h in "${hosts[@]}"; do
	read -r name ip <<<"$h"
	sb_host "$name" "$ip"
	if [ "$name" != sleep ]; then
		sb_spawn "$SB_RUN_DIR/$name.log" - "$(sb_name "$name")" \
			"$TESTSRV" --name "$name" --tcp "$ip:9080"
		sb_wait_for "$SB_RUN_DIR/$name.log" ": ready" 5 ||
			{ cat "$SB_RUN_DIR/$name.log"; exit 1; }
	fi
	printf '  %-15s %-11s %s\n' "$name" "$ip" \
		"$([ "$name" = sleep ] && echo 'client, in the mesh cgroup' || echo 'testsrv :9080')"
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
printf '  %-17s %-16s %s\n' productpage.yaml "10.96.0.10:9080" "Service + EndpointSlice (1 pod)" \
	reviews.yaml "10.96.0.11:9080" "Service + EndpointSlice (v1, v2, v3)" \
	ratings.yaml "10.96.0.12:9080" "Service + Pod" \
	details.yaml "10.96.0.13:9080" "ServiceEntry + WorkloadEntry (VM)"
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

bold "the same VIP from outside the cgroup: not translated (no route)"
printf '  GET http://10.96.0.11:9080/ -> %s\n' "$(get - http://10.96.0.11:9080/)"
bold "a backend addressed directly: untouched"
printf '  GET http://10.201.3.2:9080/ -> %s\n' "$(get "$CG" http://10.201.3.2:9080/)"

bold "weft service list"
"$WEFT" -p "$PINS" service list
bold "weft stats"
"$WEFT" -p "$PINS" stats
bold "metrics (http://127.0.0.1:15020/metrics in the node namespace, first lines)"
sb_exec - "$CLIENT_NS" curl -sS --noproxy '*' --max-time 3 \
	http://127.0.0.1:15020/metrics 2>&1 | grep -v '^#' | head -n 12 | sed 's/^/  /'

if [ -n "${DEMO_PAUSE:-}" ]; then
	bold "paused: try  nsenter --net=/run/netns/$CLIENT_NS ...  (Enter to clean up)"
	read -r _
fi

bold "clean-up"
kill -TERM "$WEFTD_PID"
wait "$WEFTD_PID" || true
echo "  weftd stopped; the datapath stays pinned and attached:"
for d in links maps; do
	printf '    %s/%s/: %s\n' "$PINS" "$d" "$(cd "$PINS/$d" && echo *)"
done
"$WEFTD" --uninstall --pin-dir "$PINS"
echo "  weftd --uninstall: pins and links removed"
echo "  namespaces, cgroup and servers go with the EXIT trap"
