// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policy_compile(): the Istio samples accepted or rejected as documented,
 * the compiled tables agreeing with the reference evaluator on every
 * connection tried (samples and fixtures, address-derived and proven
 * identities), hand-checked verdicts for each semantic rule of
 * istio-dataplane-spec.md §4, and table layout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "policy_test_util.h"

/* ---- differential checks --------------------------------------------------- */

static const char *verdict_str(const struct policy_state *ps,
			       const struct weft_policy_verdict *v, char *buf,
			       size_t len)
{
	const char *pn = v->policy < ps->npolicies ?
				 ps->policies[v->policy].name : "-";
	const char *an = v->audit_policy < ps->npolicies ?
				 ps->policies[v->audit_policy].name : "-";

	snprintf(buf, len, "%s %s policy=%.64s rule=%d audit=%.64s/%d",
		 v->action == WEFT_POLICY_ACTION_ALLOW ? "ALLOW" : "DENY",
		 policy_reason_name(v->reason), pn, (int)v->rule,
		 v->flags & WEFT_POLICY_F_AUDIT ? an : "-", (int)v->audit_rule);
	return buf;
}

static bool same_verdict(const struct weft_policy_verdict *a,
			 const struct weft_policy_verdict *b)
{
	return a->action == b->action && a->reason == b->reason &&
	       a->flags == b->flags && a->policy == b->policy &&
	       a->rule == b->rule && a->audit_policy == b->audit_policy &&
	       a->audit_rule == b->audit_rule;
}

/*
 * Compare one connection; reports the first few differences.  wl: the
 * workloads the model derives identities from (t->lb's, or a copy with a
 * proven identity planted on src); peer: that identity for the tables.
 */
static bool diff_one(const struct pt *t, const struct lb_workload *wl,
		     size_t nwl, __u32 peer, const union weft_addr *src,
		     const union weft_addr *dst, uint16_t port, uint8_t proto,
		     unsigned int *fails)
{
	struct weft_policy_verdict vt, vm;
	char b1[600], b2[600], s1[64], s2[64];

	policy_evaluate_peer(&t->ps, peer, src, dst, port, proto, &vt);
	policy_evaluate_model(t->cfg, wl, nwl, &t->opts, src, dst, port,
			      proto, &vm);
	if (same_verdict(&vt, &vm))
		return true;
	if ((*fails)++ < 8)
		test_fail(__FILE__, __LINE__,
			  "%s -> %s:%u/%u peer %u: tables %s, model %s",
			  weft_addr_str(src, s1, sizeof(s1)),
			  weft_addr_str(dst, s2, sizeof(s2)), port, proto, peer,
			  verdict_str(&t->ps, &vt, b1, sizeof(b1)),
			  verdict_str(&t->ps, &vm, b2, sizeof(b2)));
	return false;
}

/* All (src, dst, port, proto) of gather(): tables == model. */
static size_t differential(const struct pt *t, const char *what)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct addrs as;
	struct ports pp;
	unsigned int fails = 0;
	size_t n = 0;

	gather(t, &as, &pp);
	for (size_t s = 0; s < as.n; s++)
		for (size_t d = 0; d < as.n; d++)
			for (size_t p = 0; p < pp.n; p++)
				for (size_t k = 0; k < 2; k++, n++)
					diff_one(t, t->lb.workloads,
						 t->lb.nworkloads, 0, &as.v[s],
						 &as.v[d], pp.v[p], protos[k],
						 &fails);
	if (fails)
		test_fail(__FILE__, __LINE__, "%s: %u of %zu differ", what,
			  fails, n);
	test_log("%s: %zu connections agree\n", what, n);
	return n;
}

/*
 * Proven identities: every identity of the mesh presented from every
 * address, to every workload.  The model sees it by a copy of the
 * workload list in which src carries that identity's namespace and
 * service account.
 */
static void differential_peer(const struct pt *t, const char *what)
{
	struct lb_workload *wl;
	struct addrs as;
	struct ports pp;
	unsigned int fails = 0;
	size_t n = 0;

	gather(t, &as, &pp);
	wl = calloc(t->lb.nworkloads + 1, sizeof(*wl));
	if (!ASSERT_NOT_NULL(wl, "alloc"))
		return;
	for (size_t id = 1; id <= t->ps.nidentities; id++) {
		const struct policy_identity *pi = &t->ps.identities[id - 1];

		for (size_t s = 0; s < as.n; s++) {
			size_t nwl = t->lb.nworkloads, slot = nwl;

			memcpy(wl, t->lb.workloads, nwl * sizeof(*wl));
			for (size_t i = 0; i < nwl; i++)
				if (!memcmp(&wl[i].addr, &as.v[s],
					    sizeof(as.v[s])))
					slot = i;
			if (slot == nwl) {
				memset(&wl[slot], 0, sizeof(wl[slot]));
				wl[slot].addr = as.v[s];
				nwl++;
			}
			snprintf(wl[slot].ns, sizeof(wl[slot].ns), "%s", pi->ns);
			snprintf(wl[slot].service_account,
				 sizeof(wl[slot].service_account), "%s", pi->sa);
			for (size_t d = 0; d < t->lb.nworkloads; d++) {
				const union weft_addr *dst =
					&t->lb.workloads[d].addr;

				if (!memcmp(dst, &as.v[s], sizeof(*dst)))
					continue;
				for (size_t p = 0; p < pp.n; p++, n++)
					diff_one(t, wl, nwl, (__u32)id,
						 &as.v[s], dst, pp.v[p],
						 IPPROTO_TCP, &fails);
			}
		}
	}
	free(wl);
	if (fails)
		test_fail(__FILE__, __LINE__, "%s (peer): %u of %zu differ",
			  what, fails, n);
	test_log("%s: %zu proven-identity connections agree\n", what, n);
}

/* ---- the Istio samples --------------------------------------------------- */

struct sample_case {
	const char *file;
	/* notices expected: each substring on some line of the log, and
	 * exactly nnotices notices */
	size_t nnotices;
	const char *notices[4];
};

static const struct sample_case samples[] = {
	{ "allow-empty-rule-in.yaml", 0, { NULL } },
	{ "allow-full-rule-in.yaml", 1,
	  { "spec.rules[1] uses L7 fields (requestPrincipals, notRequestPrincipals, remoteIpBlocks, notRemoteIpBlocks, hosts, notHosts, methods, notMethods, paths, notPaths, request.headers[X-header], remote.ip, request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[iss], request.auth.claims[nested1][nested2], connection.sni, experimental.envoy.filters.a.b[c]): ALLOW never matches at L4" } },
	{ "allow-nil-rule-in.yaml", 1,
	  { "allow-none: ALLOW without rules: denies every connection" } },
	{ "allow-path-in.yaml", 1,
	  { "spec.rules[0] uses L7 fields (paths, notPaths): ALLOW never matches at L4" } },
	{ "audit-full-rule-in.yaml", 0, { NULL } },
	{ "custom-bad-multiple-providers-in.yaml", 5,
	  { "httpbin-2: CUSTOM providers default (foo/httpbin-1) and another both apply to 10.1.0.11: Istio allows one per workload",
	    "httpbin-1: CUSTOM (provider default) not enforceable at L4",
	    "httpbin-2: CUSTOM (provider another) not enforceable at L4",
	    "spec.rules[0] uses L7 fields (paths): enforced on its L4 parts alone" } },
	{ "custom-simple-http-in.yaml", 4,
	  { "httpbin-1: CUSTOM (provider default) not enforceable at L4: denies the connections its rules' L4 parts match" } },
	{ "deny-and-allow-in.yaml", 0, { NULL } },
	{ "deny-empty-rule-in.yaml", 0, { NULL } },
	{ "dry-run-allow-and-deny-in.yaml", 2,
	  { "httpbin-1: dry-run: not enforced", "httpbin-2: dry-run: not enforced" } },
	{ "dry-run-allow-in.yaml", 1, { "httpbin-1: dry-run: not enforced" } },
	{ "dry-run-mix-in.yaml", 2,
	  { "httpbin-1: dry-run: not enforced",
	    "httpbin-2: spec.rules[0] uses L7 fields (paths): ALLOW never matches at L4" } },
	{ "multiple-policies-in.yaml", 5,
	  { "httpbin-1: spec.rules[0] uses L7 fields (methods)",
	    "httpbin-3: spec.rules[0] uses L7 fields (hosts)",
	    "httpbin-6: spec.rules[0] uses L7 fields (requestPrincipals)",
	    "httpbin-9: spec.rules[0] uses L7 fields (request.headers[X-abc])" } },
	{ "simple-policy-multiple-td-aliases-in.yaml", 0, { NULL } },
};

static bool samples_present(void)
{
	char path[1024];

	if (path_is_dir(repo_path(path, sizeof(path),
				  "../shared/istio-samples/security")))
		return true;
	test_skip("istio-samples not found");
	return false;
}

WEFT_TEST(policy_samples_accepted)
{
	char path[1024];
	size_t listed = 0;
	FILE *ls;

	if (!samples_present())
		return;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample_case *sc = &samples[i];
		char rel[256];
		struct pt t;

		snprintf(rel, sizeof(rel), "samples:%s", sc->file);
		if (!pt_load(&t, rel, NULL))
			continue;
		if (ASSERT_OK(t.err, sc->file)) {
			ASSERT_EQ(t.ps.nnotices, sc->nnotices, sc->file);
			for (size_t k = 0; k < 4 && sc->notices[k]; k++)
				ASSERT_HAS(t.log, sc->notices[k], sc->file);
			/* notices say where: file:line: */
			if (sc->nnotices)
				ASSERT_HAS(t.log, sc->file, "file:line");
		}
		if (test_failed())
			printf("%s", t.log);
		pt_free(&t);
	}
	/* the table lists every sample there is */
	snprintf(path, sizeof(path),
		 "ls %s/../shared/istio-samples/security/*.yaml | wc -l",
		 test_repo_dir());
	ls = popen(path, "r");
	if (ASSERT_NOT_NULL(ls, "ls")) {
		if (fscanf(ls, "%zu", &listed) != 1)
			listed = 0;
		pclose(ls);
	}
	ASSERT_EQ(listed, sizeof(samples) / sizeof(samples[0]),
		  "every sample listed");
}

WEFT_TEST(policy_samples_differential)
{
	if (!samples_present())
		return;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char rel[256];
		struct pt t;

		snprintf(rel, sizeof(rel), "samples:%s", samples[i].file);
		if (pt_load(&t, rel, NULL) && ASSERT_OK(t.err, rel)) {
			differential(&t, samples[i].file);
			differential_peer(&t, samples[i].file);
		}
		pt_free(&t);
	}
}

/* What the samples mean for httpbin v1 (10.1.0.11) at L4. */
struct want {
	const char *src, *dst;
	uint16_t port;
	enum weft_policy_action action;
	enum weft_policy_reason reason;
	const char *policy;   /* NULL: WEFT_POLICY_NONE */
	int rule;             /* -1: WEFT_POLICY_NONE */
	const char *audit;    /* NULL: no audit flag */
};

static void check_wants(const struct pt *t, const struct want *w, size_t n,
			const char *what)
{
	for (size_t i = 0; i < n; i++) {
		union weft_addr s = A(w[i].src), d = A(w[i].dst);
		struct weft_policy_verdict v;
		const char *pn;
		char buf[600], lbl[320];
		bool ok;

		policy_evaluate(&t->ps, &s, &d, w[i].port, IPPROTO_TCP, &v);
		pn = v.policy < t->ps.npolicies ?
			     t->ps.policies[v.policy].name : NULL;
		ok = v.action == w[i].action && v.reason == w[i].reason &&
		     (w[i].policy ? pn && !strcmp(pn, w[i].policy) : !pn) &&
		     (w[i].rule < 0 ? v.rule == WEFT_POLICY_NONE :
				      v.rule == (__u32)w[i].rule) &&
		     (w[i].audit ?
		      (v.flags & WEFT_POLICY_F_AUDIT) &&
		      !strcmp(t->ps.policies[v.audit_policy].name, w[i].audit) :
		      !(v.flags & WEFT_POLICY_F_AUDIT));
		if (!ok) {
			snprintf(lbl, sizeof(lbl), "%s: %s -> %s:%u", what,
				 w[i].src, w[i].dst, w[i].port);
			test_fail(__FILE__, __LINE__, "%s: got %s", lbl,
				  verdict_str(&t->ps, &v, buf, sizeof(buf)));
		}
	}
}

#define ALLOW WEFT_POLICY_ACTION_ALLOW
#define DENY WEFT_POLICY_ACTION_DENY
#define R(x) WEFT_POLICY_REASON_##x
#define HTTPBIN1 "10.1.0.11"
#define HTTPBIN2 "10.1.0.12"
#define SLEEP "10.1.0.13"
#define PLAIN "10.1.0.14"
#define CLIENT "10.2.0.21"
#define DB "10.2.0.22"
#define ADMIN "10.2.1.5"
#define INGRESS "10.3.0.2"
#define VM "192.168.10.7"
#define MYSQL "192.168.10.8"
#define OUTSIDE "198.51.100.1"

WEFT_TEST(policy_samples_semantics)
{
	static const struct {
		const char *file;
		struct want w[4];
	} cases[] = {
		{ "allow-nil-rule-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		    { SLEEP, HTTPBIN2, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL } } },
		{ "allow-empty-rule-in.yaml",
		  { { OUTSIDE, HTTPBIN1, 80, ALLOW, R(ALLOW_MATCH), "allow-all", 0, NULL } } },
		{ "allow-path-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, DENY, R(ALLOW_L7_ONLY), "httpbin-1", 0, NULL } } },
		{ "allow-full-rule-in.yaml",
		  /* rule 0: serviceAccounts my-ns/my-sa or foo/sa-only: none;
		   * rule 1 wants principals "*" and notPrincipals "*": even
		   * its L4 parts never hold */
		  { { SLEEP, HTTPBIN1, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL } } },
		{ "audit-full-rule-in.yaml",
		  { { OUTSIDE, PLAIN, 80, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, "audit-all" } } },
		{ "deny-empty-rule-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, DENY, R(DENY_MATCH), "deny-all", 0, NULL },
		    { SLEEP, HTTPBIN2, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL } } },
		{ "deny-and-allow-in.yaml",
		  { { SLEEP, PLAIN, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL } } },
		{ "custom-simple-http-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, DENY, R(CUSTOM_UNSUPPORTED), "httpbin-1", 0, NULL } } },
		{ "dry-run-mix-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, DENY, R(ALLOW_L7_ONLY), "httpbin-2", 0, NULL } } },
		{ "dry-run-allow-in.yaml",
		  { { SLEEP, HTTPBIN1, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL } } },
		{ "multiple-policies-in.yaml",
		  /* httpbin-4 (ports 80, 90) first allows on 80; elsewhere the
		   * first L7 rule (httpbin-1's methods) is reported */
		  { { OUTSIDE, PLAIN, 80, ALLOW, R(ALLOW_MATCH), "httpbin-4", 0, NULL },
		    { OUTSIDE, PLAIN, 81, DENY, R(ALLOW_L7_ONLY), "httpbin-6", 0, NULL },
		    { OUTSIDE, HTTPBIN1, 81, DENY, R(ALLOW_L7_ONLY), "httpbin-1", 0, NULL },
		    { "5.6.7.9", PLAIN, 81, ALLOW, R(ALLOW_MATCH), "httpbin-8", 0, NULL } } },
	};

	if (!samples_present())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256];
		struct pt t;
		size_t n = 0;

		while (n < 4 && cases[i].w[n].src)
			n++;
		snprintf(rel, sizeof(rel), "samples:%s", cases[i].file);
		if (pt_load(&t, rel, NULL) && ASSERT_OK(t.err, rel))
			check_wants(&t, cases[i].w, n, cases[i].file);
		pt_free(&t);
	}
}

/* ---- fixtures ------------------------------------------------------------ */


WEFT_TEST(policy_fixtures_differential)
{
	static const char *const aliases[] = { "old-td" };
	const struct policy_opts variants[] = {
		{ 0 },
		{ .enforced_protos = WEFT_POLICY_PROTO_TCP | WEFT_POLICY_PROTO_UDP,
		  .trust_domain_aliases = aliases, .naliases = 1 },
		{ .trust_domain = "example.org", .root_ns = "foo" },
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]);
		     i++) {
			char rel[256];
			struct pt t;

			snprintf(rel, sizeof(rel), FIX("%s"), fixtures[i]);
			if (pt_load(&t, rel, &variants[v]) &&
			    ASSERT_OK(t.err, rel)) {
				differential(&t, fixtures[i]);
				if (v == 0)
					differential_peer(&t, fixtures[i]);
			}
			pt_free(&t);
		}
	}
}

/* Every fixture at once: sets mixing root, namespace and selector
 * policies of every action. */
WEFT_TEST(policy_fixtures_together)
{
	struct pt t;

	if (pt_load_all(&t)) {
		differential(&t, "all fixtures");
		differential_peer(&t, "all fixtures");
	}
	pt_free(&t);
}

WEFT_TEST(policy_empty_cases)
{
	static const struct want w[] = {
		{ CLIENT, SLEEP, 80, ALLOW, R(ALLOW_MATCH), "allow-all-sleep", 0, NULL },
		{ OUTSIDE, SLEEP, 1, ALLOW, R(ALLOW_MATCH), "allow-all-sleep", 0, NULL },
		{ SLEEP, HTTPBIN2, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ SLEEP, HTTPBIN1, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL },
		{ CLIENT, DB, 5432, DENY, R(DENY_MATCH), "deny-all-db", 0, NULL },
		{ DB, CLIENT, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL },
		{ SLEEP, VM, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ OUTSIDE, MYSQL, 3306, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ SLEEP, "8.8.8.8", 53, ALLOW, R(NO_POLICY), NULL, -1, NULL },
	};
	const struct policy_opts udp_only = { .enforced_protos = WEFT_POLICY_PROTO_UDP };
	union weft_addr s = A(CLIENT), d = A(DB);
	struct weft_policy_verdict v;
	struct pt t;

	if (pt_load(&t, FIX("empty.yaml"), NULL) && ASSERT_OK(t.err, "compile")) {
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "empty");
		/* Istio authorizes TCP only; UDP passes unless enforced */
		policy_evaluate(&t.ps, &s, &d, 53, IPPROTO_UDP, &v);
		ASSERT_EQ(v.reason, WEFT_POLICY_REASON_NOT_ENFORCED, "udp");
		ASSERT_EQ(v.action, WEFT_POLICY_ACTION_ALLOW, "udp allowed");
		ASSERT_HAS(t.log, "allow-nothing: ALLOW without rules", "notice");
	}
	pt_free(&t);
	if (pt_load(&t, FIX("empty.yaml"), &udp_only) && ASSERT_OK(t.err, "udp")) {
		policy_evaluate(&t.ps, &s, &d, 53, IPPROTO_UDP, &v);
		ASSERT_EQ(v.reason, WEFT_POLICY_REASON_DENY_MATCH, "udp enforced");
		policy_evaluate(&t.ps, &s, &d, 53, IPPROTO_TCP, &v);
		ASSERT_EQ(v.reason, WEFT_POLICY_REASON_NOT_ENFORCED, "tcp not");
	}
	pt_free(&t);
}

WEFT_TEST(policy_ip_blocks)
{
	static const struct want w[] = {
		{ SLEEP, CLIENT, 8080, ALLOW, R(ALLOW_MATCH), "client-ips", 0, NULL },
		{ SLEEP, CLIENT, 8081, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		/* notIpBlocks: a single address, then a /16 */
		{ HTTPBIN2, CLIENT, 8080, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ "10.2.0.99", CLIENT, 8080, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		/* a /32 inside the excluded /16, notPorts */
		{ DB, CLIENT, 8080, ALLOW, R(ALLOW_MATCH), "client-ips", 1, NULL },
		{ DB, CLIENT, 22, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ "10.9.9.9", CLIENT, 9090, ALLOW, R(ALLOW_MATCH), "client-ips", 0, NULL },
		{ "192.168.10.200", CLIENT, 9090, ALLOW, R(ALLOW_MATCH), "client-ips", 0, NULL },
		{ VM, CLIENT, 9090, ALLOW, R(ALLOW_MATCH), "client-ips", 0, NULL },
		/* when source.ip values / notValues */
		{ "203.0.113.5", CLIENT, 1234, ALLOW, R(ALLOW_MATCH), "client-ips", 2, NULL },
		{ "203.0.113.127", CLIENT, 1234, ALLOW, R(ALLOW_MATCH), "client-ips", 2, NULL },
		{ "203.0.113.128", CLIENT, 1234, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ "fd00:1::11", CLIENT, 7000, ALLOW, R(ALLOW_MATCH), "client-ips", 3, NULL },
		{ "fd00:1::11", CLIENT, 8080, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ "fd00:2::1", CLIENT, 7000, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("ipblocks.yaml"), NULL) && ASSERT_OK(t.err, "compile"))
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "ipblocks");
	pt_free(&t);
}

WEFT_TEST(policy_root_namespace)
{
	static const struct want w[] = {
		{ CLIENT, HTTPBIN1, 22, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ ADMIN, HTTPBIN1, 22, DENY, R(DENY_MATCH), "no-ssh", 0, NULL },
		{ ADMIN, HTTPBIN1, 23, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ SLEEP, HTTPBIN1, 80, ALLOW, R(ALLOW_MATCH), "foo-from-foo", 0, NULL },
		{ INGRESS, HTTPBIN2, 80, ALLOW, R(ALLOW_MATCH), "foo-from-foo", 0, NULL },
		/* tier=back, mesh-wide by selector */
		{ CLIENT, DB, 5432, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, NULL },
		{ SLEEP, DB, 5432, DENY, R(DENY_MATCH), "back-tier", 0, NULL },
		{ OUTSIDE, DB, 5432, DENY, R(DENY_MATCH), "back-tier", 0, NULL },
		{ ADMIN, DB, 22, DENY, R(DENY_MATCH), "no-ssh", 0, NULL },
		{ SLEEP, VM, 80, DENY, R(DENY_MATCH), "back-tier", 0, NULL },
		{ CLIENT, VM, 80, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, NULL },
		{ ADMIN, MYSQL, 22, DENY, R(DENY_MATCH), "no-ssh", 0, NULL },
		{ OUTSIDE, MYSQL, 22, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("root.yaml"), NULL) && ASSERT_OK(t.err, "compile"))
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "root");
	pt_free(&t);
}

WEFT_TEST(policy_l7_fields)
{
	static const struct want w[] = {
		{ CLIENT, HTTPBIN1, 8000, ALLOW, R(ALLOW_MATCH), "httpbin-l7", 1, NULL },
		/* the ALLOW rule with methods would match every connection */
		{ CLIENT, HTTPBIN1, 80, DENY, R(ALLOW_L7_ONLY), "httpbin-l7", 0, NULL },
		{ SLEEP, HTTPBIN2, 80, DENY, R(ALLOW_L7_ONLY), "httpbin-l7", 0, NULL },
		/* DENY on paths + port: the port alone */
		{ SLEEP, HTTPBIN1, 9000, DENY, R(DENY_MATCH), "httpbin-admin", 0, NULL },
		{ CLIENT, HTTPBIN1, 9000, DENY, R(DENY_MATCH), "httpbin-admin", 0, NULL },
		/* DENY requestPrincipals + namespaces: namespaces alone */
		{ CLIENT, PLAIN, 80, DENY, R(DENY_MATCH), "plain-jwt", 0, NULL },
		{ SLEEP, PLAIN, 80, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("l7.yaml"), NULL) && ASSERT_OK(t.err, "compile")) {
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "l7");
		ASSERT_TRUE(text_has_line(t.log, "httpbin-l7: spec.rules[0] uses L7 fields (methods)",
					  "ALLOW never matches at L4"), "allow notice");
		ASSERT_TRUE(text_has_line(t.log, "httpbin-l7: spec.rules[2] uses L7 fields (request.headers[x-user])",
					  "ALLOW never matches"), "when notice");
		ASSERT_TRUE(text_has_line(t.log, "plain-jwt: spec.rules[0] uses L7 fields (requestPrincipals)",
					  "L4 parts alone"), "deny notice");
		ASSERT_TRUE(text_has_line(t.log, "l7.yaml:", "httpbin-admin"),
			    "file:line");
	}
	pt_free(&t);
}

WEFT_TEST(policy_audit)
{
	static const struct want w[] = {
		{ CLIENT, HTTPBIN1, 80, ALLOW, R(ALLOW_MATCH), "httpbin-known", 0, "audit-bar" },
		{ SLEEP, HTTPBIN1, 80, ALLOW, R(ALLOW_MATCH), "httpbin-known", 0, NULL },
		{ OUTSIDE, HTTPBIN1, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ OUTSIDE, SLEEP, 80, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, "audit-sleep-80" },
		{ OUTSIDE, SLEEP, 81, ALLOW, R(NO_ALLOW_POLICY), NULL, -1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("audit.yaml"), NULL) && ASSERT_OK(t.err, "compile"))
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "audit");
	pt_free(&t);
}

WEFT_TEST(policy_conditions)
{
	static const struct want w[] = {
		{ SLEEP, DB, 5432, ALLOW, R(ALLOW_MATCH), "db-when", 0, NULL },
		{ SLEEP, DB, 5433, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ HTTPBIN1, DB, 5432, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		/* source.serviceAccount short form: the policy's namespace;
		 * destination.ip holds for db's address */
		{ CLIENT, DB, 1, ALLOW, R(ALLOW_MATCH), "db-when", 1, NULL },
		/* destination.ip per address of a dual-stack Pod */
		{ CLIENT, HTTPBIN1, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ CLIENT, "fd00:1::11", 80, ALLOW, R(ALLOW_MATCH), "httpbin-v6", 0, NULL },
		{ SLEEP, HTTPBIN1, 15000, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ SLEEP, HTTPBIN1, 80, ALLOW, R(ALLOW_MATCH), "httpbin-v6", 1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("when.yaml"), NULL) && ASSERT_OK(t.err, "compile")) {
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "when");
		/* v4 and v6 addresses of httpbin v1 are different sets */
		ASSERT_EQ(t.ps.nsets, 4, "sets: none, db, httpbin v4, v6");
	}
	pt_free(&t);
}

WEFT_TEST(policy_string_match)
{
	static const char *const aliases[] = { "old-td" };
	static const struct want w[] = {
		{ SLEEP, CLIENT, 8443, ALLOW, R(ALLOW_MATCH), "client-match", 0, NULL },
		{ HTTPBIN1, CLIENT, 8443, DENY, R(DENY_MATCH), "client-no-httpbin", 0, NULL },
		{ ADMIN, CLIENT, 8443, ALLOW, R(ALLOW_MATCH), "client-match", 0, NULL },
		{ DB, CLIENT, 443, ALLOW, R(ALLOW_MATCH), "client-match", 1, NULL },
		{ OUTSIDE, CLIENT, 443, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ OUTSIDE, CLIENT, 80, ALLOW, R(ALLOW_MATCH), "client-match", 2, NULL },
		{ DB, CLIENT, 80, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ SLEEP, CLIENT, 6379, ALLOW, R(ALLOW_MATCH), "client-match", 3, NULL },
		{ DB, CLIENT, 6379, ALLOW, R(ALLOW_MATCH), "client-match", 3, NULL },
		{ ADMIN, CLIENT, 6379, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ PLAIN, CLIENT, 6000, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ ADMIN, CLIENT, 7443, ALLOW, R(ALLOW_MATCH), "client-match", 5, NULL },
		{ DB, CLIENT, 7443, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
	};
	static const struct want w_alias[] = {
		{ PLAIN, CLIENT, 6000, ALLOW, R(ALLOW_MATCH), "client-match", 4, NULL },
	};
	static const struct want w_td[] = {
		/* principals in cluster.local no longer name our workloads */
		{ SLEEP, CLIENT, 8443, DENY, R(NO_ALLOW_MATCH), NULL, -1, NULL },
		{ ADMIN, CLIENT, 8443, ALLOW, R(ALLOW_MATCH), "client-match", 0, NULL },
	};
	struct policy_opts o = { .trust_domain_aliases = aliases, .naliases = 1 };
	struct pt t;

	if (pt_load(&t, FIX("match.yaml"), NULL) && ASSERT_OK(t.err, "compile"))
		check_wants(&t, w, sizeof(w) / sizeof(w[0]), "match");
	pt_free(&t);
	if (pt_load(&t, FIX("match.yaml"), &o) && ASSERT_OK(t.err, "aliases"))
		check_wants(&t, w_alias, 1, "aliases");
	pt_free(&t);
	o = (struct policy_opts){ .trust_domain = "example.org" };
	if (pt_load(&t, FIX("match.yaml"), &o) && ASSERT_OK(t.err, "td")) {
		check_wants(&t, w_td, 2, "trust domain");
		ASSERT_NEQ(policy_identity_find(&t.ps, "example.org/ns/foo/sa/sleep"),
			   0, "principal in our trust domain");
	}
	pt_free(&t);

	ASSERT_TRUE(policy_str_match("*", "x"), "presence");
	ASSERT_FALSE(policy_str_match("*", ""), "presence, empty");
	ASSERT_FALSE(policy_str_match("*", NULL), "absent");
	ASSERT_TRUE(policy_str_match("ab*", "ab"), "prefix, equal");
	ASSERT_TRUE(policy_str_match("*ab", "xab"), "suffix");
	ASSERT_FALSE(policy_str_match("*ab", "b"), "suffix, short");
	ASSERT_FALSE(policy_str_match("a*b", "axb"), "no infix wildcard");
}

WEFT_TEST(policy_custom_and_not_enforced)
{
	static const struct want w[] = {
		{ CLIENT, SLEEP, 8443, DENY, R(CUSTOM_UNSUPPORTED), "sleep-extauthz", 0, NULL },
		{ CLIENT, SLEEP, 80, ALLOW, R(ALLOW_MATCH), "sleep-allow-all", 0, NULL },
	};
	static const struct want w2[] = {
		{ CLIENT, SLEEP, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL },
		{ CLIENT, HTTPBIN1, 80, ALLOW, R(NO_POLICY), NULL, -1, NULL },
	};
	struct pt t;

	if (pt_load(&t, FIX("custom.yaml"), NULL) && ASSERT_OK(t.err, "custom")) {
		check_wants(&t, w, 2, "custom");
		ASSERT_HAS(t.log, "CUSTOM (provider opa) not enforceable at L4",
			   "notice");
	}
	pt_free(&t);
	if (pt_load(&t, FIX("not-enforced.yaml"), NULL) &&
	    ASSERT_OK(t.err, "not enforced")) {
		check_wants(&t, w2, 2, "not enforced");
		ASSERT_HAS(t.log, "gateway-deny: targetRefs: applies to gateways and waypoints",
			   "targetRefs notice");
		ASSERT_HAS(t.log, "sleep-dry-run: dry-run: not enforced",
			   "dry-run notice");
		ASSERT_EQ(t.ps.ndst, 0, "no destination has a policy");
	}
	pt_free(&t);
}

/* A proven identity (mTLS, later) replaces the address-derived one. */
WEFT_TEST(policy_proven_identity)
{
	union weft_addr out = A(OUTSIDE), client = A(CLIENT), db = A(DB),
			sleep = A(SLEEP);
	struct weft_policy_verdict v;
	__u32 id;
	struct pt t;

	if (!pt_load(&t, FIX("when.yaml"), NULL) || !ASSERT_OK(t.err, "compile"))
		goto out;
	/* an outsider is refused; the same address with bar-client's
	 * certificate gets rule 1 */
	policy_evaluate(&t.ps, &out, &db, 80, IPPROTO_TCP, &v);
	ASSERT_EQ(v.reason, WEFT_POLICY_REASON_NO_ALLOW_MATCH, "outsider");
	id = policy_identity_find(&t.ps, "cluster.local/ns/bar/sa/bar-client");
	if (!ASSERT_NEQ(id, 0, "identity"))
		goto out;
	policy_evaluate_peer(&t.ps, id, &out, &db, 80, IPPROTO_TCP, &v);
	ASSERT_EQ(v.reason, WEFT_POLICY_REASON_ALLOW_MATCH, "proven");
	ASSERT_EQ(v.rule, 1, "rule");
	/* and a workload's own identity changes nothing */
	for (size_t i = 0; i < t.lb.nworkloads; i++) {
		struct weft_policy_verdict a, b;
		__u32 own = t.ps.ident[i].v.identity;

		policy_evaluate(&t.ps, &t.lb.workloads[i].addr, &db, 5432,
				IPPROTO_TCP, &a);
		policy_evaluate_peer(&t.ps, own, &t.lb.workloads[i].addr, &db,
				     5432, IPPROTO_TCP, &b);
		ASSERT_TRUE(same_verdict(&a, &b), "own identity");
	}
	(void)client;
	(void)sleep;
out:
	pt_free(&t);
}

WEFT_TEST(policy_rejects)
{
	static const struct {
		const char *file, *text;
	} bad[] = {
		{ "sa-format.yaml",
		  "sa-format.yaml:8: AuthorizationPolicy foo/bad-sa: spec.rules[0].from[0].source: \"foo/sleep/extra\" is not <namespace>/<serviceaccount> or <serviceaccount>" },
		{ "sa-mix.yaml",
		  "sa-mix.yaml:8: AuthorizationPolicy foo/bad-mix: spec.rules[0].from[0].source: serviceAccounts cannot be set together with namespaces or principals" },
		{ "port-zero.yaml",
		  "port-zero.yaml:8: AuthorizationPolicy foo/bad-port: spec.rules[0].to[0].operation: port 0 is not a port" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rel[256];
		struct pt t;

		snprintf(rel, sizeof(rel), FIX("bad/%s"), bad[i].file);
		if (pt_load(&t, rel, NULL)) {
			ASSERT_EQ(t.err, -EINVAL, bad[i].file);
			ASSERT_HAS(t.log, bad[i].text, bad[i].file);
			ASSERT_EQ(t.ps.nverdicts + t.ps.ndst, 0, "nothing kept");
		}
		pt_free(&t);
	}
}

/* Layout the BPF maps rely on, and table invariants. */
WEFT_TEST(policy_tables)
{
	struct pt t;

	ASSERT_EQ(sizeof(struct weft_policy_verdict), 24, "verdict");
	ASSERT_EQ(sizeof(struct weft_policy_verdict_key), 16, "verdict key");
	ASSERT_EQ(sizeof(struct weft_policy_src_net_key), 24, "lpm key");
	ASSERT_EQ(sizeof(struct weft_policy_src_ident_key), 8, "ident key");
	ASSERT_EQ(sizeof(struct weft_policy_dst_key), 24, "dst key: address + generation");
	ASSERT_EQ(sizeof(struct weft_policy_ident_key), 24, "ident key");
	ASSERT_EQ(sizeof(struct weft_policy_dst_value), 8, "dst value");
	ASSERT_EQ(sizeof(struct weft_policy_class_value), 8, "class value");

	if (!pt_load_all(&t))
		goto out;
	/* identities: sorted, unique, one per principal */
	ASSERT_EQ(t.ps.nidentities, 10, "identities");
	for (size_t i = 1; i < t.ps.nidentities; i++)
		ASSERT_TRUE(strcmp(t.ps.identities[i - 1].principal,
				   t.ps.identities[i].principal) < 0, "sorted");
	ASSERT_STREQ(t.ps.identities[0].principal,
		     "cluster.local/ns/bar-admin/sa/admin", "first");
	ASSERT_EQ(t.ps.nident, t.lb.nworkloads, "every address");
	/* every set: a ::/0 row; class ids dense from 0 */
	for (size_t s = 1; s < t.ps.nsets; s++) {
		bool root = false;

		for (size_t i = 0; i < t.ps.nsrc_net; i++)
			root |= t.ps.src_net[i].k.set_id == s &&
				t.ps.src_net[i].k.prefixlen == 32;
		ASSERT_TRUE(root, "::/0 row");
	}
	for (size_t i = 0; i < t.ps.nverdicts; i++) {
		const struct policy_verdict_entry *e = &t.ps.verdicts[i];

		ASSERT_EQ(e->k.pad + e->v.pad0 + e->v.pad1, 0, "padding");
		ASSERT_TRUE(e->k.set_id >= 1 && e->k.set_id < t.ps.nsets, "set");
		if (i)
			ASSERT_TRUE(memcmp(&t.ps.verdicts[i - 1].k, &e->k,
					   sizeof(e->k)) < 0, "sorted, unique");
	}
	/* identity class 0 is never written (the miss value) */
	for (size_t i = 0; i < t.ps.nsrc_ident; i++)
		ASSERT_NEQ(t.ps.src_ident[i].v.class_id, 0, "class 0 implicit");
	test_log("tables: %zu dst, %zu ident, %zu src_ident, %zu src_net, %zu verdicts, %zu sets, %zu bytes\n",
		 t.ps.ndst, t.ps.nident, t.ps.nsrc_ident, t.ps.nsrc_net,
		 t.ps.nverdicts, t.ps.nsets, policy_state_bytes(&t.ps));
out:
	pt_free(&t);
}
