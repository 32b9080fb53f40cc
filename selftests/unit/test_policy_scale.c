// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policy_compile() at 10, 1,000 and 10,000 rules: generated meshes (one
 * namespace of four workloads per 100 rules, ten rules per policy mixing
 * principals, namespaces, serviceAccounts, ipBlocks, ports and
 * conditions, one DENY in five, one root-namespace DENY) compile, their
 * tables grow about linearly with the rules, and a sample of connections
 * still agrees with the reference evaluator.
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

static bool compile_scale(size_t nrules, struct scale *out, size_t nsample)
{
	struct mesh_config *cfg = NULL;
	struct lb_state lb = { 0 };
	struct policy_state ps = { 0 };
	struct stderr_capture cap;
	struct timespec t0, t1;
	size_t len = 0, nrule_total = 0;
	char *yaml = gen_mesh(nrules, &len), *log;
	bool ok = false, capturing;
	unsigned int fails = 0;
	int err;

	if (!ASSERT_NOT_NULL(yaml, "generate"))
		return false;
	capturing = capture_begin(&cap);
	err = mesh_config_load_buffer("generated", yaml, len, &cfg);
	if (!err)
		err = lb_compile(cfg, &lb);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!err)
		err = policy_compile(cfg, &lb, NULL, &ps);
	clock_gettime(CLOCK_MONOTONIC, &t1);
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
	out->ms = (size_t)((t1.tv_sec - t0.tv_sec) * 1000 +
			   (t1.tv_nsec - t0.tv_nsec) / 1000000);
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
