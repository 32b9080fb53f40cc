// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policy_compile() at 10, 1,000 and 10,000 rules: generated meshes (one
 * namespace of four workloads per 100 rules, ten rules per policy mixing
 * principals, namespaces, serviceAccounts, ipBlocks, ports and
 * conditions, one DENY in five, one root-namespace DENY) compile, their
 * tables grow about linearly with the rules, and a sample of connections
 * still agrees with the reference evaluator; and 10,000 rules that are
 * mostly ipBlocks (bench/gen-policies.awk's shape), where every CIDR is an
 * address class of one set.
 */
#include <netinet/in.h>
#include <time.h>

#include "config_test_util.h"
#include "mesh-t.h"
#include "policy.h"

static void gen_pod(FILE *f, size_t ns, size_t app)
{
	fprintf(f,
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: a%zu-0, namespace: ns%zu, labels: {app: a%zu}}\n"
		"spec: {serviceAccountName: sa%zu, containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.%zu.%zu.%zu}\n---\n",
		app, ns, app, app % 2, ns >> 8, ns & 255, app + 10);
}

/* Rule r of a policy in a mesh of k namespaces. */
static void gen_rule(FILE *f, size_t r, size_t k)
{
	size_t x = (r * 7 + 3) % k, y = r % 2, port = 8000 + r % 97;

	switch (r % 8) {
	case 0:
		fprintf(f, "  - from: [{source: {principals: [\"cluster.local/ns/ns%zu/sa/sa%zu\"]}}]\n",
			x, y);
		break;
	case 1:
		fprintf(f, "  - from: [{source: {namespaces: [\"ns%zu\"]}}]\n"
			   "    to: [{operation: {ports: [\"%zu\"]}}]\n", x, port);
		break;
	case 2:
		fprintf(f, "  - from: [{source: {ipBlocks: [\"10.%zu.0.0/16\"], notIpBlocks: [\"10.%zu.%zu.0/24\"]}}]\n",
			x >> 8, x >> 8, x & 255);
		break;
	case 3:
		fprintf(f, "  - from: [{source: {serviceAccounts: [\"ns%zu/sa%zu\"]}}]\n"
			   "    to: [{operation: {ports: [\"%zu\"]}}]\n", x, y, port);
		break;
	case 4:
		fprintf(f, "  - when: [{key: source.ip, values: [\"172.%zu.%zu.0/24\"]}]\n",
			16 + r % 16, r % 251);
		break;
	case 5:
		fprintf(f, "  - from: [{source: {principals: [\"cluster.local/ns/ns%zu/*\"]}}]\n",
			x);
		break;
	case 6:
		fprintf(f, "  - from: [{source: {namespaces: [\"ns%zu\", \"ns%zu\"]}}]\n"
			   "    to: [{operation: {notPorts: [\"22\"]}}]\n",
			x, (x + 1) % k);
		break;
	default:
		fprintf(f, "  - when: [{key: destination.port, values: [\"%zu\"]}, {key: source.namespace, values: [\"ns%zu\"]}]\n",
			port, x);
		break;
	}
}

/* A mesh with about nrules rules; malloc'd YAML text. */
static char *gen_mesh(size_t nrules, size_t *len)
{
	size_t k = nrules / 100 ? nrules / 100 : 1;
	size_t npol = (nrules + 9) / 10, r = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	for (size_t ns = 0; ns < k; ns++)
		for (size_t app = 0; app < 4; app++)
			gen_pod(f, ns, app);
	fprintf(f, "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
		   "metadata: {name: root-deny, namespace: istio-system}\n"
		   "spec:\n  action: DENY\n  rules:\n"
		   "  - from: [{source: {ipBlocks: [\"192.0.2.0/24\"]}}]\n---\n");
	for (size_t p = 0; p < npol; p++) {
		fprintf(f, "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
			   "metadata: {name: p%zu, namespace: ns%zu}\n"
			   "spec:\n  action: %s\n"
			   "  selector: {matchLabels: {app: a%zu}}\n  rules:\n",
			p, p % k, p % 5 == 4 ? "DENY" : "ALLOW", (p / k) % 4);
		for (size_t i = 0; i < 10 && r < nrules - 1; i++, r++)
			gen_rule(f, r, k);
		fprintf(f, "---\n");
	}
	fclose(f);
	return buf;
}

struct scale {
	size_t rules, bytes, rows, sets, ms;
};

/* Load yaml and compile it (lb, then policy); *ms: policy_compile's time. */
static int load_compile(const char *yaml, size_t len, struct mesh_config **cfg,
			struct lb_state *lb, struct policy_state *ps,
			size_t *ms)
{
	struct timespec t0, t1;
	int err;

	err = mesh_config_load_buffer("generated", yaml, len, cfg);
	if (!err)
		err = lb_compile(*cfg, lb);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!err)
		err = policy_compile(*cfg, lb, NULL, ps);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (size_t)((t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000);
	return err;
}

static bool compile_scale(size_t nrules, struct scale *out, size_t nsample)
{
	struct mesh_config *cfg = NULL;
	struct lb_state lb = { 0 };
	struct policy_state ps = { 0 };
	struct stderr_capture cap;
	size_t len = 0, nrule_total = 0;
	char *yaml = gen_mesh(nrules, &len), *log;
	bool ok = false, capturing;
	unsigned int fails = 0;
	int err;

	if (!ASSERT_NOT_NULL(yaml, "generate"))
		return false;
	capturing = capture_begin(&cap);
	err = load_compile(yaml, len, &cfg, &lb, &ps, &out->ms);
	log = capturing ? capture_end(&cap) : NULL;
	if (!ASSERT_OK(err, "compile")) {
		printf("%s", log ? log : "");
		goto out;
	}
	for (size_t i = 0; i < cfg->nauthz_policies; i++)
		nrule_total += cfg->authz_policies[i].nrules;
	ASSERT_EQ(nrule_total, nrules, "rules generated");
	out->rules = nrule_total;
	out->bytes = policy_state_bytes(&ps);
	out->rows = ps.ndst + ps.nident + ps.nsrc_ident + ps.nsrc_net +
		    ps.nverdicts;
	out->sets = ps.nsets - 1;
	printf("  policy tables, %5zu rules: %4zu workloads, %3zu sets, %5zu dst, %5zu ident, %6zu src_ident, %6zu src_net, %7zu verdicts = %8zu bytes, compiled in %zu ms\n",
	       nrule_total, lb.nworkloads, out->sets, ps.ndst, ps.nident,
	       ps.nsrc_ident, ps.nsrc_net, ps.nverdicts, out->bytes, out->ms);
	/* tables == model on a deterministic sample of connections */
	for (size_t i = 0; i < nsample; i++) {
		static const uint16_t ports[] = { 22, 80, 8000, 8013, 8050, 8096 };
		const union weft_addr *s = &lb.workloads[(i * 31) % lb.nworkloads].addr;
		const union weft_addr *d = &lb.workloads[(i * 17 + i / 7) % lb.nworkloads].addr;
		union weft_addr other;
		uint16_t port = ports[i % 6] + (uint16_t)(i % 3);
		struct weft_policy_verdict a, b;

		if (i % 5 == 0) {
			weft_addr_parse(i % 10 ? "172.17.1.9" : "192.0.2.7", &other);
			s = &other;
		}
		policy_evaluate(&ps, s, d, port, IPPROTO_TCP, &a);
		policy_evaluate_model(cfg, lb.workloads, lb.nworkloads, NULL, s,
				      d, port, IPPROTO_TCP, &b);
		if (a.action != b.action || a.reason != b.reason ||
		    a.policy != b.policy || a.rule != b.rule)
			fails++;
	}
	ASSERT_EQ(fails, 0, "sample agrees with the model");
	ok = !test_failed();
out:
	free(log);
	free(yaml);
	policy_state_free(&ps);
	lb_state_free(&lb);
	mesh_config_free(cfg);
	return ok;
}

WEFT_TEST(policy_scale)
{
	struct scale s10, s1k, s10k;

	if (!compile_scale(10, &s10, 200) ||
	    !compile_scale(1000, &s1k, 2000) ||
	    !compile_scale(10000, &s10k, 1000))
		return;
	/* ten times the rules: about ten times the tables, not a hundred */
	ASSERT_LE(s10k.bytes, 15 * s1k.bytes, "10k vs 1k rules: linear");
	ASSERT_GE(s10k.bytes, 5 * s1k.bytes, "10k vs 1k rules: grows");
	ASSERT_LE(s1k.bytes, 150 * s10.bytes, "1k vs 10 rules");
}

/*
 * bench/gen-policies.awk's shape with most rules ipBlocks: Pods server
 * (10.202.5.2, selected), client, intruder and banned; DENY policies
 * istio-system/deny-banned (namespaces) and bench/deny-blocked (ipBlocks
 * 192.0.2.0/24); then ALLOW policies of 100 rules selecting the server,
 * rule i (policy 2 + i / 100, rule i % 100):
 *   i % 10 == 0   principals of tenant-i (no workload)
 *   i % 10 == 1   namespaces tenant-i (no workload)
 *   i % 100 == 2  ipBlocks 100.(64 + i / 256).0.0/16 but not the /24 of i
 *                 (nests over other rules' CIDRs)
 *   else          ipBlocks ipb_net(i) = 100.(64 + i / 256).(i % 256).0/24
 * on no port, 80, 8080 or 443 as i % 4; the last rule allows the client's
 * principal on port 80.  *ncidr: the distinct source CIDRs written.
 */
static char *gen_ipblocks_mesh(size_t n, size_t *len, size_t *ncidr)
{
	static const char *const ports[] = { NULL, "80", "8080", "443" };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fprintf(f,
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: server, namespace: bench, labels: {app: server}}\n"
		"spec: {serviceAccountName: nginx, containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.202.5.2}\n---\n"
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: client, namespace: bench-client, labels: {app: client}}\n"
		"spec: {serviceAccountName: wrk, containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.202.5.1}\n---\n"
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: intruder, namespace: bench-intruder}\n"
		"spec: {serviceAccountName: curl, containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.202.5.5}\n---\n"
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: banned, namespace: bench-banned}\n"
		"spec: {serviceAccountName: curl, containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.202.5.6}\n---\n"
		"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
		"metadata: {name: deny-banned, namespace: istio-system}\n"
		"spec:\n  action: DENY\n  rules:\n"
		"  - from: [{source: {namespaces: [bench-banned]}}]\n---\n"
		"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
		"metadata: {name: deny-blocked, namespace: bench}\n"
		"spec:\n  selector: {matchLabels: {app: server}}\n"
		"  action: DENY\n  rules:\n"
		"  - from: [{source: {ipBlocks: [192.0.2.0/24]}}]\n---\n");
	*ncidr = 1;
	for (size_t i = 0; i < n; i++) {
		if (i % 100 == 0)
			fprintf(f, "%sapiVersion: security.istio.io/v1\n"
				   "kind: AuthorizationPolicy\n"
				   "metadata: {name: allow-%03zu, namespace: bench}\n"
				   "spec:\n  selector: {matchLabels: {app: server}}\n"
				   "  action: ALLOW\n  rules:\n",
				i ? "---\n" : "", i / 100);
		if (i == n - 1) {
			fprintf(f, "  - from: [{source: {principals: [cluster.local/ns/bench-client/sa/wrk]}}]\n"
				   "    to: [{operation: {ports: [\"80\"]}}]\n");
			break;
		}
		if (i % 10 == 0) {
			fprintf(f, "  - from: [{source: {principals: [cluster.local/ns/tenant-%zu/sa/app]}}]\n", i);
		} else if (i % 10 == 1) {
			fprintf(f, "  - from: [{source: {namespaces: [tenant-%zu]}}]\n", i);
		} else if (i % 100 == 2) {
			fprintf(f, "  - from: [{source: {ipBlocks: [100.%zu.0.0/16], notIpBlocks: [100.%zu.%zu.0/24]}}]\n",
				64 + i / 256, 64 + i / 256, i % 256);
			*ncidr += 2;
		} else {
			fprintf(f, "  - from: [{source: {ipBlocks: [100.%zu.%zu.0/24]}}]\n",
				64 + i / 256, i % 256);
			*ncidr += 1;
		}
		if (ports[i % 4])
			fprintf(f, "    to: [{operation: {ports: [\"%s\"]}}]\n",
				ports[i % 4]);
	}
	fprintf(f, "---\n");
	fclose(f);
	return buf;
}

/*
 * 10,000 rules, about 8,000 of them ipBlocks: every address class is one
 * CIDR (the compile must stay about linear in them; the time is printed,
 * not asserted), the tables hold one LPM row per CIDR and a few verdicts
 * each, and connections from inside, between and outside the CIDRs agree
 * with the reference evaluator and with the rule written for them.
 */
WEFT_TEST(policy_scale_ipblocks)
{
	static const uint16_t ports[] = { 22, 80, 443, 8080 };
	const size_t n = 10000;
	struct mesh_config *cfg = NULL;
	struct lb_state lb = { 0 };
	struct policy_state ps = { 0 };
	size_t len = 0, ncidr = 0, allowed = 0, ms = 0;
	char *yaml = gen_ipblocks_mesh(n, &len, &ncidr);
	unsigned int fails = 0;

	if (!ASSERT_NOT_NULL(yaml, "generate"))
		return;
	if (!ASSERT_OK(load_compile(yaml, len, &cfg, &lb, &ps, &ms), "compile"))
		goto out;
	printf("  policy tables, %zu rules (%zu CIDRs): %zu src_net, %zu verdicts, compiled in %zu ms\n",
	       n, ncidr, ps.nsrc_net, ps.nverdicts, ms);
	/* sets: the server's, and the others' (deny-banned only) */
	ASSERT_EQ(ps.nsets, 3, "sets (with set 0)");
	ASSERT_EQ(ps.ndst, 4, "dst rows");
	/* identity classes besides class 0: client and banned at the
	 * server, banned at the others */
	ASSERT_EQ(ps.nsrc_ident, 3, "src_ident rows");
	/* a row per CIDR and ::/0 in both sets, but for CIDRs deciding as
	 * their parent (a /24 on 8080 under an earlier /16 rule on 8080) */
	ASSERT_LE(ps.nsrc_net, ncidr + 2, "src_net rows: one per CIDR");
	ASSERT_GE(ps.nsrc_net, ncidr * 3 / 4, "src_net rows: most CIDRs");
	ASSERT_LE(ps.nverdicts, 6 * ncidr, "verdicts: a few per CIDR");
	for (size_t s = 0; s < 600; s++) {
		size_t i = (s * 7919) % (n - 1);
		uint16_t port = ports[s % 4];
		char text[64];
		union weft_addr src, dst;
		struct weft_policy_verdict a, b;

		weft_addr_parse("10.202.5.2", &dst);
		switch (s % 6) {
		case 0: /* a workload: banned, client, intruder, server */
			snprintf(text, sizeof(text), "10.202.5.%zu",
				 (size_t[]){ 6, 1, 5, 2 }[s / 6 % 4]);
			break;
		case 1:
			snprintf(text, sizeof(text), "192.0.2.%zu", s % 250);
			break;
		case 2: /* outside every CIDR */
			snprintf(text, sizeof(text), "100.127.%zu.9", s % 250);
			break;
		default: /* inside rule i's /24 (or the /16 of a nest) */
			snprintf(text, sizeof(text), "100.%zu.%zu.%zu",
				 64 + i / 256, i % 256, 1 + s % 250);
			break;
		}
		weft_addr_parse(text, &src);
		policy_evaluate(&ps, &src, &dst, port, IPPROTO_TCP, &a);
		policy_evaluate_model(cfg, lb.workloads, lb.nworkloads, NULL,
				      &src, &dst, port, IPPROTO_TCP, &b);
		if (a.action != b.action || a.reason != b.reason ||
		    a.policy != b.policy || a.rule != b.rule) {
			if (!fails)
				printf("  %s -> :%u: tables %s %u/%u, model %s %u/%u\n",
				       text, port, policy_reason_name(a.reason),
				       a.policy, a.rule,
				       policy_reason_name(b.reason), b.policy,
				       b.rule);
			fails++;
		}
		allowed += a.reason == WEFT_POLICY_REASON_ALLOW_MATCH;
	}
	ASSERT_EQ(fails, 0, "sample agrees with the model");
	ASSERT_GE(allowed, 100, "sample: ipBlocks rules allow");
	/* i = 9997: 100.103.13.0/24 on port 80 (policy 101, rule 97); i =
	 * 9802 and 9902: 100.102.0.0/16 on port 8080 but not .74.0/24 and
	 * .174.0/24 (policies 100 and 101, rule 2); deny-blocked: policy 1 */
	{
		struct { const char *src; uint16_t port; __u8 reason; __u32 policy, rule; } want[] = {
			{ "100.103.13.20", 80, WEFT_POLICY_REASON_ALLOW_MATCH, 101, 97 },
			{ "100.103.13.20", 8080, WEFT_POLICY_REASON_NO_ALLOW_MATCH, WEFT_POLICY_NONE, WEFT_POLICY_NONE },
			{ "100.102.5.1", 8080, WEFT_POLICY_REASON_ALLOW_MATCH, 100, 2 },
			{ "100.102.74.1", 8080, WEFT_POLICY_REASON_ALLOW_MATCH, 101, 2 },
			{ "100.102.174.1", 8080, WEFT_POLICY_REASON_ALLOW_MATCH, 100, 2 },
			{ "100.102.5.1", 443, WEFT_POLICY_REASON_NO_ALLOW_MATCH, WEFT_POLICY_NONE, WEFT_POLICY_NONE },
			{ "192.0.2.1", 80, WEFT_POLICY_REASON_DENY_MATCH, 1, 0 },
		};

		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			union weft_addr src, dst;
			struct weft_policy_verdict v;

			weft_addr_parse(want[k].src, &src);
			weft_addr_parse("10.202.5.2", &dst);
			policy_evaluate(&ps, &src, &dst, want[k].port,
					IPPROTO_TCP, &v);
			ASSERT_EQ(v.reason, want[k].reason, want[k].src);
			ASSERT_EQ(v.policy, want[k].policy, want[k].src);
			ASSERT_EQ(v.rule, want[k].rule, want[k].src);
		}
	}
out:
	free(yaml);
	policy_state_free(&ps);
	lb_state_free(&lb);
	mesh_config_free(cfg);
}
