# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Generates the mesh config of one peer of the policy section of
# bench/run.sh: the Pods that give its addresses identities, and N ALLOW
# rules selecting the server of which only the last one matches the client.
#
#   awk -f gen-policies.awk -v n=1000 -v client=10.202.5.1 -v server=10.202.5.2 \
#       -v intruder=10.202.5.5 -v banned=10.202.5.6 -v out=DIR
#
# DIR/workloads.yaml  Pods (identity <cluster.local>/ns/<ns>/sa/<sa>):
#     server    bench/nginx           app=bench-server  (nginx, measured)
#     client    bench-client/wrk      app=bench-client  (wrk: allowed)
#     intruder  bench-intruder/curl   no ALLOW rule names it: denied
#                                     (no-allow-match)
#     banned    bench-banned/curl     a DENY policy names its namespace
#                                     (deny-match)
# DIR/policies.yaml   only when n > 0 (n = 0 is the "no policy" baseline):
#     ALLOW policies bench/allow-NNN selecting app=bench-server, 100 rules
#     each, n rules in all: rules 0 .. n-2 never match the client, in turn
#       principals [cluster.local/ns/tenant-i/sa/app]
#       namespaces [tenant-i]
#       ipBlocks   [100.(64+i/256).(i%256).0/24]   (100.64.0.0/10, unused)
#     each with no port, port 80, 8080 or 443 in turn (so the verdict table
#     has rows per port as well as the "any other port" row); rule n-1, the
#     last of the last policy, allows the client's principal on port 80;
#     two DENY policies that the client does not match, evaluated first:
#       istio-system/deny-banned  (root namespace: mesh-wide) namespaces
#                                 [bench-banned]
#       bench/deny-blocked        selecting the server: ipBlocks
#                                 [192.0.2.0/24], principals of a tenant
# so every connection of the client is allowed only after the whole rule
# set was compiled in, and DENY is evaluated on the way.

function pod(name, ns, sa, app, ip) {
	printf "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {app: %s}}\n", name, ns, app > wl
	printf "spec: {serviceAccountName: %s, containers: [{name: c}]}\n", sa > wl
	printf "status: {phase: Running, podIP: %s}\n---\n", ip > wl
}

function filler(i,    src, port) {
	if (i % 3 == 0)
		src = sprintf("principals: [\"cluster.local/ns/tenant-%05d/sa/app\"]", i)
	else if (i % 3 == 1)
		src = sprintf("namespaces: [tenant-%05d]", i)
	else
		src = sprintf("ipBlocks: [100.%d.%d.0/24]", 64 + int(i / 256), i % 256)
	port = i % 4 == 1 ? "80" : i % 4 == 2 ? "8080" : i % 4 == 3 ? "443" : ""
	printf "  - from: [{source: {%s}}]\n", src > pol
	if (port != "")
		printf "    to: [{operation: {ports: [\"%s\"]}}]\n", port > pol
}

function policy_head(p) {
	printf "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" > pol
	printf "metadata: {name: allow-%03d, namespace: bench}\n", p > pol
	printf "spec:\n  selector: {matchLabels: {app: bench-server}}\n  action: ALLOW\n  rules:\n" > pol
}

BEGIN {
	if (n == "" || out == "" || client == "" || server == "" || intruder == "" || banned == "") {
		print "gen-policies.awk: needs -v n= client= server= intruder= banned= out=" > "/dev/stderr"
		exit 1
	}
	if (n > 40000) {
		print "gen-policies.awk: n is at most 40000 (ipBlocks of 100.64.0.0/10)" > "/dev/stderr"
		exit 1
	}
	wl = out "/workloads.yaml"
	pod("bench-server", "bench", "nginx", "bench-server", server)
	pod("bench-client", "bench-client", "wrk", "bench-client", client)
	pod("bench-intruder", "bench-intruder", "curl", "bench-intruder", intruder)
	pod("bench-banned", "bench-banned", "curl", "bench-banned", banned)
	close(wl)
	if (n == 0)
		exit 0
	pol = out "/policies.yaml"
	printf "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" > pol
	printf "metadata: {name: deny-banned, namespace: istio-system}\n" > pol
	printf "spec:\n  action: DENY\n  rules:\n  - from: [{source: {namespaces: [bench-banned]}}]\n---\n" > pol
	printf "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" > pol
	printf "metadata: {name: deny-blocked, namespace: bench}\n" > pol
	printf "spec:\n  selector: {matchLabels: {app: bench-server}}\n  action: DENY\n  rules:\n" > pol
	printf "  - from: [{source: {ipBlocks: [192.0.2.0/24]}}]\n" > pol
	printf "  - from: [{source: {principals: [\"cluster.local/ns/tenant-blocked/sa/app\"]}}]\n---\n" > pol
	for (i = 0; i < n; i++) {
		if (i % 100 == 0) {
			if (i > 0)
				printf "---\n" > pol
			policy_head(i / 100)
		}
		if (i < n - 1) {
			filler(i)
			continue
		}
		printf "  - from: [{source: {principals: [\"cluster.local/ns/bench-client/sa/wrk\"]}}]\n" > pol
		printf "    to: [{operation: {ports: [\"80\"]}}]\n" > pol
	}
	close(pol)
}
