// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb_compile() traffic management: VirtualService tcp[]/tls[] routes and
 * their weights, clusters (subsets, unknown hosts), DestinationRule
 * policies, over the fixtures in selftests/data/mesh/traffic and the Istio
 * samples.  Every compiled state is also checked for the lb.h invariants
 * (lb_state_ok).
 */
#include <ftw.h>
#include <netinet/in.h>

#include "config_test_util.h"
#include "mesh-t.h"

#define TRAFFIC "selftests/data/mesh/traffic/"
#define SAMPLES "../shared/istio-samples/"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool have_samples(void)
{
	char dir[1024];

	if (path_is_dir(repo_path(dir, sizeof(dir), "../shared/istio-samples")))
		return true;
	test_skip("istio-samples not found");
	return false;
}

/*
 * The lb.h contract: services sorted and unique, each with a route into
 * the clusters (the service's own cluster when there is no route), clusters
 * sorted by name and unique, backends sorted, workloads sorted and unique.
 */
static bool lb_state_ok(const struct lb_state *st)
{
	char name[2 * LB_NAME_MAX];

	for (size_t i = 0; i < st->nservices; i++) {
		const struct lb_service *s = &st->services[i];
		bool self = false;

		if (i && memcmp(&st->services[i - 1].vip, &s->vip, 16) > 0)
			return ASSERT_TRUE(false, "services sorted");
		if (!ASSERT_LE(s->ndests, LB_MAX_ROUTE_DESTS, s->host))
			return false;
		if (!s->route[0] && !ASSERT_EQ(s->ndests, 1, "no route: own"))
			return false;
		for (size_t d = 0; d < s->ndests; d++) {
			if (!ASSERT_LE(s->dests[d].cluster + 1, st->nclusters,
				       "dest in clusters") ||
			    !ASSERT_GE(s->dests[d].weight, 1, "dest weight"))
				return false;
			for (size_t e = 0; e < d; e++)
				if (!ASSERT_NEQ(s->dests[e].cluster,
						s->dests[d].cluster,
						"dests merged"))
					return false;
		}
		snprintf(name, sizeof(name), "outbound|%u||%s", s->port,
			 s->host);
		for (size_t c = 0; c < st->nclusters && !self; c++)
			self = !strcmp(st->clusters[c].name, name);
		if (!ASSERT_TRUE(self, name))
			return false;
		if (!s->route[0] &&
		    !ASSERT_STREQ(st->clusters[s->dests[0].cluster].name, name,
				  "no route: the service's own cluster"))
			return false;
	}
	for (size_t c = 0; c < st->nclusters; c++) {
		const struct lb_cluster *cl = &st->clusters[c];

		snprintf(name, sizeof(name), "outbound|%u|%s|%s", cl->port,
			 cl->subset, cl->host);
		if (!ASSERT_STREQ(cl->name, name, "cluster name") ||
		    (c && !ASSERT_TRUE(strcmp(st->clusters[c - 1].name,
					      cl->name) < 0,
				       "clusters sorted, unique")))
			return false;
		for (size_t j = 1; j < cl->nbackends; j++) {
			const struct lb_backend *a = &cl->backends[j - 1];
			const struct lb_backend *b = &cl->backends[j];
			int cmp = memcmp(&a->addr, &b->addr, sizeof(a->addr));

			if (!ASSERT_TRUE(cmp < 0 || (!cmp && a->port < b->port),
					 "cluster backends sorted"))
				return false;
		}
	}
	for (size_t w = 1; w < st->nworkloads; w++)
		if (!ASSERT_TRUE(memcmp(&st->workloads[w - 1].addr,
					&st->workloads[w].addr, 16) < 0,
				 "workloads sorted, unique"))
			return false;
	return true;
}

/*
 * Load repository-relative files and compile, lb_compile's stderr in
 * *log (malloc'd, may be NULL).  Returns lb_compile's result, or 1 when
 * the load failed (reported).
 */
static int compile_paths(const char *const *files, size_t n,
			 struct mesh_config **cfg, struct lb_state *st,
			 char **log)
{
	char paths[8][1100];
	const char *p[8];
	struct stderr_capture c;
	bool cap;
	int err;

	*cfg = NULL;
	memset(st, 0, sizeof(*st));
	if (log)
		*log = NULL;
	for (size_t i = 0; i < n && i < 8; i++)
		p[i] = repo_path(paths[i], sizeof(paths[i]), "%s", files[i]);
	if (!ASSERT_OK(load_captured(p, n, cfg, NULL), files[0]))
		return 1;
	cap = capture_begin(&c);
	err = lb_compile(*cfg, st);
	if (cap) {
		char *text = capture_end(&c);

		if (log)
			*log = text;
		else
			free(text);
	}
	if (!err)
		lb_state_ok(st);
	return err;
}

static const struct lb_cluster *cl_find(const struct lb_state *st,
					const char *name)
{
	for (size_t i = 0; i < st->nclusters; i++)
		if (!strcmp(st->clusters[i].name, name))
			return &st->clusters[i];
	return NULL;
}

struct want_dest {
	const char *cluster;
	uint32_t weight;
};

/* s routes to want[] in this order (route "ns/name", or "" for none). */
static bool dests_are(const struct lb_state *st, const struct lb_service *s,
		      const char *route, const struct want_dest *want,
		      size_t n, const char *what)
{
	if (!ASSERT_NOT_NULL(s, what) ||
	    !ASSERT_STREQ(s->route, route, what))
		return false;
	if (!ASSERT_EQ(s->ndests, n, what))
		goto dump;
	for (size_t i = 0; i < n; i++)
		if (!ASSERT_STREQ(st->clusters[s->dests[i].cluster].name,
				  want[i].cluster, what) ||
		    !ASSERT_EQ(s->dests[i].weight, want[i].weight, what))
			goto dump;
	return true;
dump:
	for (size_t i = 0; i < s->ndests; i++)
		printf("  have %s weight %u\n",
		       st->clusters[s->dests[i].cluster].name,
		       s->dests[i].weight);
	return false;
}

/* Cluster `name` exists with this policy and these backends. */
static bool cluster_is(const struct lb_state *st, const char *name,
		       enum lb_policy policy, const struct want_backend *want,
		       size_t n)
{
	const struct lb_cluster *c = cl_find(st, name);
	char buf[64];

	if (!ASSERT_NOT_NULL(c, name) ||
	    !ASSERT_EQ(c->policy, policy, name))
		return false;
	if (!ASSERT_EQ(c->nbackends, n, name))
		goto dump;
	for (size_t i = 0; i < n; i++) {
		const struct lb_backend *b = &c->backends[i];

		if (!ASSERT_STREQ(weft_addr_str(&b->addr, buf, sizeof(buf)),
				  want[i].addr, name) ||
		    !ASSERT_EQ(b->port, want[i].port, name) ||
		    !ASSERT_EQ(b->weight, want[i].weight, name) ||
		    !ASSERT_STREQ(b->workload, want[i].workload, name))
			goto dump;
	}
	return true;
dump:
	for (size_t i = 0; i < c->nbackends; i++)
		printf("  have %s:%u weight %u \"%s\"\n",
		       weft_addr_str(&c->backends[i].addr, buf, sizeof(buf)),
		       c->backends[i].port, c->backends[i].weight,
		       c->backends[i].workload);
	return false;
}

/* Policy only. */
static bool policy_is(const struct lb_state *st, const char *name,
		      enum lb_policy policy)
{
	const struct lb_cluster *c = cl_find(st, name);

	return ASSERT_NOT_NULL(c, name) && ASSERT_EQ(c->policy, policy, name);
}

#define TE "tcp-echo.default.svc.cluster.local"

/* The tcp-echo samples: the 80/20 split across subsets v1 and v2. */
WEFT_TEST(lb_traffic_tcp_echo_80_20)
{
	static const char *const files[] = {
		TRAFFIC "tcp-echo-cluster.yaml",
		SAMPLES "tcp-echo/tcp-echo-all-v1.yaml",
		TRAFFIC "tcp-echo-mesh-20-v2.yaml",
	};
	static const struct want_dest split[] = {
		{ "outbound|9000|v1|" TE, 80 },
		{ "outbound|9000|v2|" TE, 20 },
	};
	static const struct want_dest other[] = { { "outbound|9001||" TE, 1 } };
	static const struct want_backend v1[] = {
		{ "10.2.1.1", 9000, 1, "default/tcp-echo-v1-6f7d9b8c4-abcde" },
		{ "10.2.1.2", 9000, 1, "default/tcp-echo-v1-6f7d9b8c4-fghij" },
	};
	static const struct want_backend v2[] = {
		{ "10.2.1.3", 9000, 1, "default/tcp-echo-v2-7c5b8d9f6-klmno" },
	};
	static const struct want_backend all[] = {
		{ "10.2.1.1", 9000, 1, "default/tcp-echo-v1-6f7d9b8c4-abcde" },
		{ "10.2.1.2", 9000, 1, "default/tcp-echo-v1-6f7d9b8c4-fghij" },
		{ "10.2.1.3", 9000, 1, "default/tcp-echo-v2-7c5b8d9f6-klmno" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (!have_samples())
		return;
	if (ASSERT_OK(compile_paths(files, 3, &cfg, &st, NULL), "compile")) {
		ASSERT_EQ(st.nservices, 2, "ports 9000 and 9001");
		dests_are(&st, lb_find(&st, "10.96.1.10", 9000, IPPROTO_TCP),
			  "default/tcp-echo-mesh", split, 2, "80/20");
		/* match.port 9000: port 9001 keeps its own cluster */
		dests_are(&st, lb_find(&st, "10.96.1.10", 9001, IPPROTO_TCP),
			  "", other, 1, "9001");
		cluster_is(&st, "outbound|9000|v1|" TE,
			   LB_POLICY_LEAST_REQUEST, v1, 2);
		cluster_is(&st, "outbound|9000|v2|" TE,
			   LB_POLICY_LEAST_REQUEST, v2, 1);
		cluster_is(&st, "outbound|9000||" TE, LB_POLICY_LEAST_REQUEST,
			   all, 3);
		ASSERT_EQ(st.nclusters, 4, "v1, v2 and the two own clusters");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

/*
 * The samples' own tcp-echo VirtualServices are bound to the ingress
 * gateway (hosts "*", port 31400): they do not route in-mesh connections.
 */
WEFT_TEST(lb_traffic_tcp_echo_gateway_vs_not_mesh)
{
	static const char *const groups[][2] = {
		{ TRAFFIC "tcp-echo-cluster.yaml",
		  SAMPLES "tcp-echo/tcp-echo-20-v2.yaml" },
		{ TRAFFIC "tcp-echo-cluster.yaml",
		  SAMPLES "tcp-echo/tcp-echo-all-v1.yaml" },
	};
	static const struct want_dest own[] = { { "outbound|9000||" TE, 1 } };

	if (!have_samples())
		return;
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		struct mesh_config *cfg;
		struct lb_state st;

		if (ASSERT_OK(compile_paths(groups[g], 2, &cfg, &st, NULL),
			      groups[g][1])) {
			dests_are(&st, lb_find(&st, "10.96.1.10", 9000,
					       IPPROTO_TCP),
				  "", own, 1, groups[g][1]);
			ASSERT_EQ(st.nclusters, 2, "own clusters only");
		}
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
}

#define BI(h) h ".default.svc.cluster.local"

/* Bookinfo: HTTP ports keep their own cluster; DestinationRule policy. */
WEFT_TEST(lb_traffic_bookinfo)
{
	static const char *const all_v1[] = {
		TRAFFIC "bookinfo-cluster.yaml",
		SAMPLES "bookinfo/networking/destination-rule-all.yaml",
		SAMPLES "bookinfo/networking/virtual-service-reviews-80-20.yaml",
	};
	static const char *const random[] = {
		TRAFFIC "bookinfo-cluster.yaml",
		SAMPLES "bookinfo/networking/destination-rule-reviews.yaml",
		SAMPLES "bookinfo/networking/virtual-service-all-v1.yaml",
	};
	static const struct want_backend reviews[] = {
		{ "10.2.2.11", 9080, 1, "default/reviews-v1-7d8c9b6f4-x1z" },
		{ "10.2.2.12", 9080, 1, "default/reviews-v2-8e9d7c5b3-x2z" },
		{ "10.2.2.13", 9080, 1, "default/reviews-v3-9f6e8d4c2-x3z" },
	};
	static const struct want_dest own[] = {
		{ "outbound|9080||" BI("reviews"), 1 },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (!have_samples())
		return;
	if (ASSERT_OK(compile_paths(all_v1, 3, &cfg, &st, NULL), "all")) {
		ASSERT_EQ(st.nservices, 4, "services");
		/* http[] 80/20 belongs to the proxy: no subset clusters */
		dests_are(&st, lb_find(&st, "10.96.2.3", 9080, IPPROTO_TCP),
			  "", own, 1, "reviews");
		ASSERT_EQ(st.nclusters, 4, "own clusters only");
		cluster_is(&st, "outbound|9080||" BI("reviews"),
			   LB_POLICY_LEAST_REQUEST, reviews, 3);
		ASSERT_EQ(st.nworkloads, 6, "one workload per Pod");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);

	if (ASSERT_OK(compile_paths(random, 3, &cfg, &st, NULL), "random")) {
		cluster_is(&st, "outbound|9080||" BI("reviews"),
			   LB_POLICY_RANDOM, reviews, 3);
		policy_is(&st, "outbound|9080||" BI("ratings"),
			  LB_POLICY_LEAST_REQUEST);
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

#define W(h) h ".w.svc.cluster.local"

WEFT_TEST(lb_traffic_weights)
{
	static const char *const files[] = { TRAFFIC "weights.yaml" };
	static const struct want_dest split[] = {
		{ "outbound|7000|v1|" W("a"), 1 },
		{ "outbound|7000|v2|" W("a"), 3 },
	};
	static const struct want_dest single[] = {
		{ "outbound|7000||" W("c"), 1 },
	};
	static const struct want_dest zero[] = {
		{ "outbound|7000||" W("b"), 5 },
	};
	static const struct want_dest merged[] = {
		{ "outbound|7000|v1|" W("a"), 5 },
		{ "outbound|7000||" W("b"), 5 },
	};
	static const struct want_dest eight[] = {
		{ "outbound|7000|v1|" W("a"), 10 },
		{ "outbound|7000|v2|" W("a"), 2 },
		{ "outbound|7000|s3|" W("a"), 3 },
		{ "outbound|7000|s4|" W("a"), 4 },
		{ "outbound|7000|s5|" W("a"), 5 },
		{ "outbound|7000|s6|" W("a"), 6 },
		{ "outbound|7000|s7|" W("a"), 7 },
		{ "outbound|7000|s8|" W("a"), 8 },
	};
	static const struct want_backend v2[] = {
		{ "10.3.3.2", 7000, 1, "w/a-2" },
		{ "10.3.3.3", 7000, 1, "w/a-3" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (ASSERT_OK(compile_paths(files, 1, &cfg, &st, NULL), "compile")) {
		dests_are(&st, lb_find(&st, "10.96.3.1", 7000, IPPROTO_TCP),
			  "w/a-split", split, 2, "1 and 3: 1/4 and 3/4");
		cluster_is(&st, "outbound|7000|v2|" W("a"),
			   LB_POLICY_LEAST_REQUEST, v2, 2);
		dests_are(&st, lb_find(&st, "10.96.3.2", 7000, IPPROTO_TCP),
			  "w/b-to-c", single, 1, "single: weight ignored");
		dests_are(&st, lb_find(&st, "10.96.3.3", 7000, IPPROTO_TCP),
			  "w/c-zero", zero, 1, "0 and unset dropped");
		dests_are(&st, lb_find(&st, "10.96.3.4", 7000, IPPROTO_TCP),
			  "w/d-merge", merged, 2, "same cluster merged");
		dests_are(&st, lb_find(&st, "10.96.3.5", 7000, IPPROTO_TCP),
			  "w/e-eight", eight, 8, "eight after merging");
	}
	lb_state_free(&st);

	/* Every weight 0 (validation rejects it in YAML; the compiler must
	 * not rely on that): the route refuses connections. */
	if (cfg) {
		for (size_t i = 0; i < cfg->nvirtual_services; i++) {
			struct istio_virtual_service *vs =
				&cfg->virtual_services[i];

			if (strcmp(vs->meta.name, "f-zero"))
				continue;
			for (size_t j = 0; j < vs->tcp[0].nroute; j++)
				vs->tcp[0].route[j].weight = 0;
		}
		if (ASSERT_OK(lb_compile(cfg, &st), "all zero")) {
			const struct lb_service *s;

			s = lb_find(&st, "10.96.3.6", 7000, IPPROTO_TCP);
			if (dests_are(&st, s, "w/f-zero", NULL, 0, "all 0"))
				ASSERT_TRUE(lb_state_ok(&st), "state");
		}
		lb_state_free(&st);
	}
	mesh_config_free(cfg);
}

WEFT_TEST(lb_traffic_too_many_destinations)
{
	static const char *const files[] = { TRAFFIC "weights.yaml",
					     TRAFFIC "too-many.yaml" };
	struct mesh_config *cfg;
	struct lb_state st;
	char *log = NULL, want[1200], path[1100];
	int err;

	err = compile_paths(files, 2, &cfg, &st, &log);
	ASSERT_EQ(err, -EINVAL, "nine clusters rejected");
	ASSERT_EQ(st.nservices + st.nclusters + st.nworkloads, 0,
		  "nothing returned");
	repo_path(path, sizeof(path), TRAFFIC "too-many.yaml");
	snprintf(want, sizeof(want),
		 "%s:8: VirtualService w/nine: tcp route has 9 destinations, more than the 8 supported",
		 path);
	ASSERT_HAS(log, want, "file:line names the VirtualService");
	ASSERT_EQ(text_count(log, "more than the 8"), 1, "reported once");
	free(log);
	lb_state_free(&st);
	mesh_config_free(cfg);
}

#define D(h) h ".default.svc.cluster.local"

WEFT_TEST(lb_traffic_rule_selection)
{
	static const char *const files[] = { TRAFFIC "match.yaml" };
	static const struct {
		const char *vip;
		uint16_t port;
		uint8_t proto;
		const char *route;
		const char *cluster;
	} cases[] = {
		/* m-rules' matches fail, sourceLabels/gateways block
		 * skipped: the later VirtualService's catch-all */
		{ "10.96.4.1", 5000, IPPROTO_TCP, "default/m-late",
		  "outbound|5000||" D("z") },
		{ "10.96.4.1", 5001, IPPROTO_TCP, "default/m-rules",
		  "outbound|5000||" D("x") },
		/* destinationSubnets holds for m2's VIP; x's rule (port 5001)
		 * does not */
		{ "10.97.4.1", 5000, IPPROTO_TCP, "default/m-rules",
		  "outbound|5000||" D("y") },
		/* HTTPS: tls[] by SNI, destination's only port */
		{ "10.96.4.1", 443, IPPROTO_TCP, "default/m-rules",
		  "outbound|5000||" D("w") },
		/* TLS port whose SNI rules do not hold: tcp[] */
		{ "10.96.4.1", 8443, IPPROTO_TCP, "default/m-late",
		  "outbound|5000||" D("z") },
		/* HTTP by name prefix, gRPC, appProtocol: own cluster */
		{ "10.96.4.1", 80, IPPROTO_TCP, "", "outbound|80||" D("m1") },
		{ "10.96.4.1", 81, IPPROTO_TCP, "", "outbound|81||" D("m1") },
		{ "10.96.4.1", 82, IPPROTO_TCP, "", "outbound|82||" D("m1") },
		/* unnamed (sniffed) and UDP ports are TCP-ish */
		{ "10.96.4.4", 83, IPPROTO_TCP, "default/m-late",
		  "outbound|5000||" D("z") },
		{ "10.96.4.1", 53, IPPROTO_UDP, "default/m-late",
		  "outbound|5000||" D("z") },
		/* exportTo "." applies; subnet list and port both hold */
		{ "10.96.4.3", 3306, IPPROTO_TCP, "default/m-dot",
		  "outbound|5000||" D("y") },
		/* the wildcard host covers the targets too */
		{ "10.96.4.10", 5000, IPPROTO_TCP, "default/m-late",
		  "outbound|5000||" D("z") },
	};
	struct mesh_config *cfg;
	struct lb_state st;
	char *log = NULL;

	if (ASSERT_OK(compile_paths(files, 1, &cfg, &st, &log), "compile")) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			struct want_dest d = { cases[i].cluster, 1 };
			char what[64];

			snprintf(what, sizeof(what), "%s:%u", cases[i].vip,
				 cases[i].port);
			dests_are(&st, lb_find(&st, cases[i].vip,
					       cases[i].port, cases[i].proto),
				  cases[i].route, &d, 1, what);
		}
		ASSERT_TRUE(text_has_line(log, "VirtualService default/m-rules: tcp match with sourceLabels skipped",
					  "serves every client"),
			    "sourceLabels notice");
		ASSERT_TRUE(text_has_line(log, "VirtualService default/m-rules: tcp match with gateways without \"mesh\" skipped",
					  ""),
			    "gateways notice");
		ASSERT_EQ(text_count(log, "sourceLabels skipped"), 1,
			  "notice once");
		ASSERT_FALSE(strstr(log, "warning"), "no warnings");
	}
	free(log);
	lb_state_free(&st);
	mesh_config_free(cfg);
}

#define P(h) h ".p.svc.cluster.local"
#define Q(h) h ".q.svc.cluster.local"

WEFT_TEST(lb_traffic_destination_rule_lookup)
{
	static const char *const files[] = { TRAFFIC "policy.yaml" };
	struct mesh_config *cfg;
	struct lb_state st;
	char *log = NULL;

	if (ASSERT_OK(compile_paths(files, 1, &cfg, &st, &log), "compile")) {
		/* own namespace, before root and another, whatever order */
		policy_is(&st, "outbound|6000||" P("p1"), LB_POLICY_ROUND_ROBIN);
		/* root namespace before another namespace */
		policy_is(&st, "outbound|6000||" P("p2"), LB_POLICY_ROUND_ROBIN);
		/* other namespaces in load order, exact before a wildcard;
		 * LEAST_CONN is LEAST_REQUEST */
		policy_is(&st, "outbound|6000||" P("p3"),
			  LB_POLICY_LEAST_REQUEST);
		/* exact before wildcard; the longer wildcard first; the
		 * workloadSelector rule is not applied */
		policy_is(&st, "outbound|6000||" Q("q1"), LB_POLICY_ROUND_ROBIN);
		policy_is(&st, "outbound|6000||" Q("q2"), LB_POLICY_RANDOM);
		ASSERT_TRUE(text_has_line(log, "DestinationRule q/q1-selected not applied",
					  "workloadSelector"),
			    "workloadSelector notice");
		/* consistentHash.useSourceIp: maglev and ring hash alike */
		policy_is(&st, "outbound|6000||" P("mg"), LB_POLICY_MAGLEV);
		policy_is(&st, "outbound|6001||" P("mg"), LB_POLICY_MAGLEV);
	}
	free(log);
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_traffic_policy_overrides_and_subsets)
{
	static const char *const files[] = { TRAFFIC "policy.yaml" };
	static const struct {
		const char *subset;
		enum lb_policy p7000, p7001, p7002;
	} cases[] = {
		/* top RANDOM; 7001 port level ROUND_ROBIN; 7002 port level
		 * without loadBalancer: the default, not inherited */
		{ "", LB_POLICY_RANDOM, LB_POLICY_ROUND_ROBIN,
		  LB_POLICY_LEAST_REQUEST },
		{ "v1", LB_POLICY_RANDOM, LB_POLICY_ROUND_ROBIN,
		  LB_POLICY_LEAST_REQUEST },
		/* subset: useSourceIp over everything but its own port level */
		{ "v2", LB_POLICY_MAGLEV, LB_POLICY_PASSTHROUGH,
		  LB_POLICY_MAGLEV },
		/* header hash: not at L4 */
		{ "hv3", LB_POLICY_LEAST_REQUEST, LB_POLICY_LEAST_REQUEST,
		  LB_POLICY_LEAST_REQUEST },
		/* merged second rule: its subset, the first rule's policy */
		{ "late", LB_POLICY_RANDOM, LB_POLICY_ROUND_ROBIN,
		  LB_POLICY_LEAST_REQUEST },
	};
	static const struct want_backend v1[] = { { "10.5.0.1", 7000, 1, "p/pl-1" } };
	static const struct want_backend v2[] = { { "10.5.0.2", 7000, 1, "p/pl-2" } };
	static const struct want_dest route[] = {
		{ "outbound|7000|v1|" P("pl"), 1 },
		{ "outbound|7000|v2|" P("pl"), 1 },
		{ "outbound|7000|hv3|" P("pl"), 1 },
		{ "outbound|7000|late|" P("pl"), 1 },
		{ "outbound|7000|missing|" P("pl"), 1 },
		{ "outbound|9999||" P("pl"), 1 },
		{ "outbound|7000||" P("ghost"), 1 },
		{ "outbound|80||nowhere.example.com", 1 },
	};
	struct mesh_config *cfg;
	struct lb_state st;
	char *log = NULL;

	if (!ASSERT_OK(compile_paths(files, 1, &cfg, &st, &log), "compile"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const enum lb_policy want[] = { cases[i].p7000, cases[i].p7001,
						cases[i].p7002 };

		for (uint16_t p = 0; p < 3; p++) {
			char name[128];

			snprintf(name, sizeof(name), "outbound|%u|%s|%s",
				 7000 + p, cases[i].subset, P("pl"));
			policy_is(&st, name, want[p]);
		}
	}
	/* first definition of a subset wins (pl-more's v1 is not used) */
	cluster_is(&st, "outbound|7000|v1|" P("pl"), LB_POLICY_RANDOM, v1, 1);
	cluster_is(&st, "outbound|7000|late|" P("pl"), LB_POLICY_RANDOM, v2,
		   1);
	dests_are(&st, lb_find(&st, "10.96.5.30", 7000, IPPROTO_TCP),
		  "p/pl-route", route, 8, "eight destinations");
	/* missing subset, missing port, unknown hosts: no backends */
	cluster_is(&st, "outbound|7000|missing|" P("pl"), LB_POLICY_RANDOM,
		   NULL, 0);
	cluster_is(&st, "outbound|9999||" P("pl"), LB_POLICY_RANDOM, NULL, 0);
	cluster_is(&st, "outbound|80||nowhere.example.com",
		   LB_POLICY_LEAST_REQUEST, NULL, 0);
	ASSERT_NOT_NULL(cl_find(&st, "outbound|7000||" P("ghost")), "ghost");
	ASSERT_TRUE(text_has_line(log, "policy.yaml:", "DestinationRule p/pl: consistentHash on httpHeaderName needs the HTTP request; LEAST_REQUEST"),
		    "header hash notice");
	ASSERT_EQ(text_count(log, "consistentHash on httpHeaderName"), 1,
		  "notice once");
	ASSERT_TRUE(text_has_line(log, "VirtualService p/pl-route routes to subset \"missing\" of " P("pl"),
				  "which no DestinationRule defines"),
		    "missing subset notice");
	ASSERT_TRUE(text_has_line(log, "VirtualService p/pl-route routes to nowhere.example.com",
				  "neither a Service nor a ServiceEntry"),
		    "unknown host notice");
	ASSERT_TRUE(text_has_line(log, "VirtualService p/pl-route routes to " P("ghost"),
				  "neither a Service nor a ServiceEntry"),
		    "unknown short host notice");
	ASSERT_TRUE(text_has_line(log, "routes to port 9999 of " P("pl"),
				  "no such port"),
		    "missing port notice");
	/* once per route destination, not per cluster */
	ASSERT_EQ(text_count(log, "routes to subset \"missing\""), 1,
		  "missing subset notice once");
	ASSERT_EQ(text_count(log, "routes to " P("ghost")), 1,
		  "unknown host notice once");
	ASSERT_FALSE(strstr(log, "warning"), "no warnings");
out:
	free(log);
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_traffic_serviceentry_subsets)
{
	static const char *const files[] = { TRAFFIC "se-subsets.yaml" };
	static const struct want_dest db[] = {
		{ "outbound|5432|v1|db.vm.internal", 10 },
		{ "outbound|5432|v2|db.vm.internal", 90 },
	};
	static const struct want_backend db_v1[] = {
		{ "10.9.0.1", 5432, 3, "vm/db-1" },
	};
	static const struct want_backend db_v2[] = {
		{ "10.9.0.2", 5432, 1, "vm/db-2" },
		{ "10.9.0.3", 6432, 2, "vm/db-3" },
	};
	static const struct want_dest cache[] = {
		{ "outbound|6379|primary|cache.vm.internal", 3 },
		{ "outbound|6379|replicas|cache.vm.internal", 1 },
	};
	static const struct want_backend primary[] = {
		{ "192.168.9.1", 16379, 4, "" },
	};
	static const struct want_backend replicas[] = {
		{ "192.168.9.2", 16379, 1, "" },
		{ "192.168.9.3", 26379, 1, "" },
	};
	static const struct want_dest egress[] = {
		{ "outbound|443||api.example.com", 1 },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (ASSERT_OK(compile_paths(files, 1, &cfg, &st, NULL), "compile")) {
		dests_are(&st, lb_find(&st, "240.0.9.1", 5432, IPPROTO_TCP),
			  "vm/db-canary", db, 2, "db");
		cluster_is(&st, "outbound|5432|v1|db.vm.internal",
			   LB_POLICY_ROUND_ROBIN, db_v1, 1);
		cluster_is(&st, "outbound|5432|v2|db.vm.internal",
			   LB_POLICY_ROUND_ROBIN, db_v2, 2);
		dests_are(&st, lb_find(&st, "240.0.9.2", 6379, IPPROTO_TCP),
			  "vm/cache-split", cache, 2, "cache");
		cluster_is(&st, "outbound|6379|primary|cache.vm.internal",
			   LB_POLICY_LEAST_REQUEST, primary, 1);
		cluster_is(&st, "outbound|6379|replicas|cache.vm.internal",
			   LB_POLICY_LEAST_REQUEST, replicas, 2);
		/* tls[] by a wildcard SNI to a resolution NONE host */
		dests_are(&st, lb_find(&st, "240.0.9.3", 443, IPPROTO_TCP),
			  "vm/egress-sni", egress, 1, "egress");
		cluster_is(&st, "outbound|443||api.example.com",
			   LB_POLICY_PASSTHROUGH, NULL, 0);
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_traffic_slice_subsets)
{
	static const char *const files[] = { TRAFFIC "slice-subsets.yaml" };
	static const struct want_backend v1[] = {
		{ "10.6.0.1", 8080, 1, "s/shop-v1" },
		{ "10.6.0.5", 8080, 1, "s/shop-v1b" },
	};
	static const struct want_backend v2[] = {
		{ "10.6.0.2", 8080, 1, "s/shop-v2" },
	};
	/* a subset without labels: every endpoint, unknown labels too */
	static const struct want_backend all[] = {
		{ "10.6.0.1", 8080, 1, "s/shop-v1" },
		{ "10.6.0.2", 8080, 1, "s/shop-v2" },
		{ "10.6.0.3", 8080, 1, "" },
		{ "10.6.0.4", 8080, 1, "s/gone" },
		{ "10.6.0.5", 8080, 1, "s/shop-v1b" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (ASSERT_OK(compile_paths(files, 1, &cfg, &st, NULL), "compile")) {
		/* no targetRef, or a Pod that is not there: unknown labels,
		 * in no labelled subset */
		cluster_is(&st, "outbound|8000|v1|shop.s.svc.cluster.local",
			   LB_POLICY_LEAST_REQUEST, v1, 2);
		cluster_is(&st, "outbound|8000|v2|shop.s.svc.cluster.local",
			   LB_POLICY_LEAST_REQUEST, v2, 1);
		cluster_is(&st, "outbound|8000|all|shop.s.svc.cluster.local",
			   LB_POLICY_LEAST_REQUEST, all, 5);
		cluster_is(&st, "outbound|8000||shop.s.svc.cluster.local",
			   LB_POLICY_LEAST_REQUEST, all, 5);
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

/* The earlier fixtures: no route, each service's own cluster holds what
 * the service lists (a dual-stack host's cluster holds both families). */
WEFT_TEST(lb_traffic_own_cluster_is_service_backends)
{
	static const char *const fixtures[] = {
		"k8s-slice.yaml", "k8s-endpoints.yaml", "k8s-pods.yaml",
		"se-static.yaml", "se-selector.yaml", "se-dns.yaml",
		"dualstack.yaml", "routing.yaml",
	};

	for (size_t f = 0; f < ARRAY_SIZE(fixtures); f++) {
		char rel[256];
		const char *p = rel;
		struct mesh_config *cfg;
		struct lb_state st;

		snprintf(rel, sizeof(rel), "selftests/data/mesh/%s",
			 fixtures[f]);
		if (!ASSERT_OK(compile_paths(&p, 1, &cfg, &st, NULL), rel))
			goto next;
		for (size_t i = 0; i < st.nservices; i++) {
			const struct lb_service *s = &st.services[i];
			const struct lb_cluster *c;
			size_t same = 0;

			if (s->route[0] || !ASSERT_EQ(s->ndests, 1, rel))
				continue;
			c = &st.clusters[s->dests[0].cluster];
			for (size_t j = 0; j < c->nbackends; j++)
				if (weft_addr_is_v4(&c->backends[j].addr) ==
				    weft_addr_is_v4(&s->vip))
					same++;
			if (!ASSERT_EQ(same, s->nbackends, c->name))
				continue;
			for (size_t j = 0, k = 0; j < c->nbackends; j++) {
				if (weft_addr_is_v4(&c->backends[j].addr) !=
				    weft_addr_is_v4(&s->vip))
					continue;
				ASSERT_TRUE(!memcmp(&c->backends[j],
						    &s->backends[k++],
						    sizeof(*s->backends)),
					    c->name);
			}
		}
		if (!strcmp(fixtures[f], "dualstack.yaml")) {
			const struct lb_cluster *c = cl_find(
				&st, "outbound|8080||dual.default.svc.cluster.local");

			if (ASSERT_NOT_NULL(c, "dual"))
				ASSERT_EQ(c->nbackends, 2, "both families");
		}
next:
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
}

static char **sample_files;
static size_t nsample_files;

static int collect_sample(const char *path, const struct stat *sb, int type,
			  struct FTW *ftw)
{
	size_t len = strlen(path);
	char **p;

	(void)sb;
	(void)ftw;
	if (type != FTW_F || len < 5 || strcmp(path + len - 5, ".yaml"))
		return 0;
	p = realloc(sample_files, (nsample_files + 1) * sizeof(*p));
	if (!p)
		return -1;
	sample_files = p;
	sample_files[nsample_files] = strdup(path);
	return sample_files[nsample_files++] ? 0 : -1;
}

/* Every sample file compiles, alone and with the cluster fixtures. */
WEFT_TEST(lb_traffic_every_sample_compiles)
{
	char dir[1024];

	if (!have_samples())
		return;
	repo_path(dir, sizeof(dir), "../shared/istio-samples");
	if (!ASSERT_OK(nftw(dir, collect_sample, 16, FTW_PHYS), "nftw"))
		goto out;
	ASSERT_GE(nsample_files, 40, "sample files");
	for (size_t i = 0; i < nsample_files; i++) {
		const char *p[2] = { sample_files[i], NULL };
		char fixture[1100];
		struct mesh_config *cfg = NULL;
		struct lb_state st;
		char *text = NULL;
		int err;

		/* with the bookinfo cluster, unless it defines the same
		 * Services */
		p[1] = repo_path(fixture, sizeof(fixture),
				 TRAFFIC "bookinfo-cluster.yaml");
		if (strstr(p[0], "platform/kube/bookinfo.yaml"))
			p[1] = NULL;
		if (!ASSERT_OK(load_captured(p, p[1] ? 2 : 1, &cfg, &text),
			       p[0])) {
			printf("%s", text ? text : "");
			free(text);
			continue;
		}
		free(text);
		err = lb_compile(cfg, &st);
		if (ASSERT_OK(err, p[0]))
			ASSERT_TRUE(lb_state_ok(&st), p[0]);
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
out:
	for (size_t i = 0; i < nsample_files; i++)
		free(sample_files[i]);
	free(sample_files);
	sample_files = NULL;
	nsample_files = 0;
}
