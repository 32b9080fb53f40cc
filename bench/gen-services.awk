# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Generates the filler services of a benchmark: the same N services once as
# Kubernetes YAML for weftd and once as a kube-proxy style iptables-restore
# file, so both datapaths hold exactly the same services.
#
#   awk -f gen-services.awk -v fmt=yaml -v n=2000 -v eps=2 -v out=DIR [-v change=100]
#   awk -f gen-services.awk -v fmt=iptables -v n=2000 -v eps=2 \
#       -v target_vip=10.96.x.y -v target_ep=10.202.0.3 -v port=80
#
# fmt=yaml      services 0 .. n-2 into DIR/services-NNN.yaml, 1000 per file
#               (weftd caps one YAML stream at 2^20 nodes, about 15,000
#               services with their slices); the measured service, number
#               n-1, is written by run.sh into files of its own, so a test
#               can rewrite its slice alone.  With change=K, every K-th
#               service gets a new first endpoint (change=100: 1% differ).
# fmt=iptables  the whole nat table: OUTPUT -> KUBE-SERVICES, one rule per
#               service VIP:port -> KUBE-SVC-* -> KUBE-SEP-* -> DNAT, with
#               "-m statistic --mode random" when a service has more than
#               one endpoint, as kube-proxy writes it.  The measured service
#               (target_vip -> target_ep, one endpoint) is the LAST rule of
#               KUBE-SERVICES, so every new connection to it walks the chain.
#
# Addresses: service i has VIP 10.96.(i/254).(i%254+1) (so n <= 65024);
# filler endpoints come from 10.208.0.0/13 and 10.207.0.0/16 (changed ones).
# None of them exists anywhere; only the measured service is ever dialled.

function vip(i) {
	return sprintf("10.96.%d.%d", int(i / 254), i % 254 + 1)
}

function ep(i, j,    e) {
	if (change && j == 0 && i % change == 0)
		return sprintf("10.207.%d.%d", int(i / 256) % 256, i % 256)
	e = i * eps + j
	return sprintf("10.%d.%d.%d", 208 + int(e / 65536), int(e / 256) % 256, e % 256)
}

function yaml_service(i, f,    j, name) {
	name = sprintf("svc-%05d", i)
	printf "apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: bench\n", name > f
	printf "spec:\n  clusterIP: %s\n  ports:\n  - name: http\n    port: %d\n    protocol: TCP\n---\n", vip(i), port > f
	printf "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: %s-x1\n  namespace: bench\n", name > f
	printf "  labels:\n    kubernetes.io/service-name: %s\naddressType: IPv4\n", name > f
	printf "ports:\n- name: http\n  port: %d\n  protocol: TCP\nendpoints:\n", port > f
	for (j = 0; j < eps; j++)
		printf "- addresses: [\"%s\"]\n  conditions:\n    ready: true\n", ep(i, j) > f
	printf "---\n" > f
}

# One service's rules; chains are declared up front (see below).
function ipt_service(i, v, nep, addr,    j, svc) {
	svc = sprintf("KUBE-SVC-%05d", i)
	printf "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"bench/svc-%05d:http cluster IP\" -m tcp --dport %d -j %s\n", v, i, port, svc
	for (j = 0; j < nep; j++) {
		if (j < nep - 1)
			printf "-A %s -m statistic --mode random --probability %.11f -j KUBE-SEP-%05d-%d\n", svc, 1 / (nep - j), i, j
		else
			printf "-A %s -j KUBE-SEP-%05d-%d\n", svc, i, j
		printf "-A KUBE-SEP-%05d-%d -p tcp -m tcp -j DNAT --to-destination %s:%d\n", i, j, addr[j], port
	}
}

BEGIN {
	if (!n || !eps || (fmt != "yaml" && fmt != "iptables")) {
		print "gen-services.awk: need -v fmt=yaml|iptables -v n=N -v eps=E" > "/dev/stderr"
		exit 2
	}
	if (!port)
		port = 80
	if (fmt == "yaml") {
		if (out == "") {
			print "gen-services.awk: fmt=yaml needs -v out=DIR" > "/dev/stderr"
			exit 2
		}
		for (i = 0; i < n - 1; i++) {
			f = sprintf("%s/services-%03d.yaml", out, int(i / 1000))
			yaml_service(i, f)
			if (i % 1000 == 999)
				close(f)
		}
		exit 0
	}
	print "*nat"
	print ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]"
	print ":KUBE-SERVICES - [0:0]"
	for (i = 0; i < n; i++) {
		printf ":KUBE-SVC-%05d - [0:0]\n", i
		for (j = 0; j < (i == n - 1 ? 1 : eps); j++)
			printf ":KUBE-SEP-%05d-%d - [0:0]\n", i, j
	}
	print "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
	for (i = 0; i < n - 1; i++) {
		for (j = 0; j < eps; j++)
			a[j] = ep(i, j)
		ipt_service(i, vip(i), eps, a)
	}
	a[0] = target_ep
	ipt_service(n - 1, target_vip, 1, a)
	print "COMMIT"
}
