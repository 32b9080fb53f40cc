// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mesh config reader: the real Istio samples, hand-made fixtures in
 * selftests/data/mesh, deliberately broken files in selftests/data/broken
 * (each announcing its diagnostic in "# expect: <line>: <text>" lines),
 * YAML corner cases and limits.
 */
#include <dirent.h>
#include <ftw.h>

#include "config_test_util.h"
#include "mesh-t.h"

/* ---- the Istio samples -------------------------------------------------- */

static char **sample_paths;
static size_t nsample_paths;

static int collect_yaml(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	size_t l = strlen(path);
	char **p;

	(void)st;
	(void)ftw;
	if (type != FTW_F || l < 5 || strcmp(path + l - 5, ".yaml"))
		return 0;
	p = realloc(sample_paths, (nsample_paths + 1) * sizeof(*p));
	if (!p)
		return -1;
	sample_paths = p;
	sample_paths[nsample_paths] = strdup(path);
	return sample_paths[nsample_paths++] ? 0 : -1;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_samples(void)
{
	for (size_t i = 0; i < nsample_paths; i++)
		free(sample_paths[i]);
	free(sample_paths);
	sample_paths = NULL;
	nsample_paths = 0;
}

/* Collect ../shared/istio-samples/ **.yaml; false (skipped) when absent. */
static bool find_samples(void)
{
	char dir[1024];

	repo_path(dir, sizeof(dir), "../shared/istio-samples");
	if (!path_is_dir(dir)) {
		test_skip("%s not found", dir);
		return false;
	}
	if (!ASSERT_OK(nftw(dir, collect_yaml, 16, FTW_PHYS), "nftw"))
		return false;
	qsort(sample_paths, nsample_paths, sizeof(*sample_paths), cmp_path);
	return true;
}

static int load_sample(const char *rel, struct mesh_config **cfg)
{
	char path[1024];
	const char *p = repo_path(path, sizeof(path),
				  "../shared/istio-samples/%s", rel);

	return load_captured(&p, 1, cfg, NULL);
}

WEFT_TEST(config_istio_samples_parse)
{
	struct mesh_summary sum, total = { 0 };

	if (!find_samples())
		return;
	ASSERT_GE(nsample_paths, 40, "number of sample files");
	for (size_t i = 0; i < nsample_paths; i++) {
		const char *p = sample_paths[i];
		struct mesh_config *cfg = NULL;
		char *text = NULL;
		int err;

		err = load_captured((const char *const *)&p, 1, &cfg, &text);
		if (!ASSERT_OK(err, p))
			printf("%s", text ? text : "");
		ASSERT_FALSE(text && strstr(text, "warning"), "no warnings");
		free(text);
		mesh_config_summary(cfg, &sum);
		total.services += sum.services;
		total.endpoint_slices += sum.endpoint_slices;
		total.endpoints += sum.endpoints;
		total.pods += sum.pods;
		total.service_entries += sum.service_entries;
		total.workload_entries += sum.workload_entries;
		total.virtual_services += sum.virtual_services;
		total.destination_rules += sum.destination_rules;
		total.authorization_policies += sum.authorization_policies;
		total.peer_authentications += sum.peer_authentications;
		total.skipped += sum.skipped;
		mesh_config_free(cfg);
	}
	/* Counted by hand in the sample files. */
	ASSERT_EQ(total.services, 15, "Services");
	ASSERT_EQ(total.virtual_services, 26, "VirtualServices");
	ASSERT_EQ(total.destination_rules, 12, "DestinationRules");
	ASSERT_EQ(total.service_entries, 1, "ServiceEntries");
	ASSERT_EQ(total.authorization_policies, 27, "AuthorizationPolicies");
	ASSERT_EQ(total.peer_authentications, 0, "PeerAuthentications");
	ASSERT_EQ(total.pods + total.endpoint_slices + total.endpoints +
		  total.workload_entries, 0, "no Pods/slices/Endpoints/WEs");
	/* 3 Gateways, 7 ServiceAccounts, 12 Deployments */
	ASSERT_EQ(total.skipped, 22, "skipped documents");
	free_samples();
}

WEFT_TEST(config_istio_samples_summaries)
{
	static const struct {
		const char *file;
		struct mesh_summary want;
	} cases[] = {
		{ "bookinfo/platform/kube/bookinfo.yaml",
		  { .services = 4, .skipped = 10 } },
		{ "bookinfo/platform/kube/bookinfo-versions.yaml",
		  { .services = 6 } },
		{ "bookinfo/networking/destination-rule-all-mtls.yaml",
		  { .destination_rules = 4 } },
		{ "bookinfo/networking/virtual-service-all-v1.yaml",
		  { .virtual_services = 4 } },
		{ "bookinfo/networking/egress-rule-google-apis.yaml",
		  { .service_entries = 1, .virtual_services = 1,
		    .destination_rules = 1 } },
		{ "bookinfo/networking/bookinfo-gateway.yaml",
		  { .virtual_services = 1, .skipped = 1 } },
		{ "tcp-echo/tcp-echo-all-v1.yaml",
		  { .virtual_services = 1, .destination_rules = 1,
		    .skipped = 1 } },
		{ "security/multiple-policies-in.yaml",
		  { .authorization_policies = 9 } },
		{ "security/custom-bad-multiple-providers-in.yaml",
		  { .authorization_policies = 2 } },
		{ "sleep/sleep.yaml", { .services = 1, .skipped = 2 } },
	};
	char path[1024];

	if (!path_is_dir(repo_path(path, sizeof(path), "../shared/istio-samples"))) {
		test_skip("istio-samples not found");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mesh_config *cfg = NULL;
		struct mesh_summary s;

		if (!ASSERT_OK(load_sample(cases[i].file, &cfg), cases[i].file))
			continue;
		mesh_config_summary(cfg, &s);
		if (!ASSERT_TRUE(!memcmp(&s, &cases[i].want, sizeof(s)),
				 cases[i].file))
			printf("  got svc %zu vs %zu dr %zu se %zu ap %zu skipped %zu\n",
			       s.services, s.virtual_services,
			       s.destination_rules, s.service_entries,
			       s.authorization_policies, s.skipped);
		mesh_config_free(cfg);
	}
}

WEFT_TEST(config_skip_notice)
{
	struct mesh_config *cfg = NULL;
	struct mesh_summary s;
	char path[1024], *text = NULL;
	const char *p;

	p = repo_path(path, sizeof(path),
		      "../shared/istio-samples/bookinfo/networking/certmanager-gateway.yaml");
	if (access(p, R_OK)) {
		test_skip("istio-samples not found");
		return;
	}
	log_set_level(LOG_LEVEL_INFO);
	if (!ASSERT_OK(load_captured(&p, 1, &cfg, &text), "load"))
		goto out;
	ASSERT_TRUE(text_has_line(text, "certmanager-gateway.yaml:1: ",
				  "skipping Gateway istio-system/cert-manager-gateway: not implemented"),
		    "notice with file, line, kind, namespace and name");
	ASSERT_EQ(text_count(text, "skipping"), 1, "exactly one notice");
	ASSERT_EQ(text_count(text, "\n"), 1, "and nothing else");
	mesh_config_summary(cfg, &s);
	ASSERT_EQ(s.skipped, 1, "summary.skipped");
	ASSERT_EQ(s.virtual_services, 1, "the VirtualService is still read");
out:
	free(text);
	mesh_config_free(cfg);
}

/* ---- the model read from the samples ------------------------------------ */

static const struct istio_virtual_service *
find_vs(const struct mesh_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nvirtual_services; i++)
		if (!strcmp(cfg->virtual_services[i].meta.name, name))
			return &cfg->virtual_services[i];
	return NULL;
}

static const struct istio_authz_policy *
find_ap(const struct mesh_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nauthz_policies; i++)
		if (!strcmp(cfg->authz_policies[i].meta.name, name))
			return &cfg->authz_policies[i];
	return NULL;
}

WEFT_TEST(config_samples_model_routing)
{
	const struct istio_virtual_service *vs;
	const struct istio_destination_rule *dr;
	struct mesh_config *cfg = NULL;
	char path[1024];

	if (!path_is_dir(repo_path(path, sizeof(path), "../shared/istio-samples"))) {
		test_skip("istio-samples not found");
		return;
	}
	/* Weighted HTTP route, 80/20. */
	if (!ASSERT_OK(load_sample("bookinfo/networking/virtual-service-reviews-80-20.yaml",
				   &cfg), "load 80-20"))
		return;
	vs = find_vs(cfg, "reviews");
	if (ASSERT_NOT_NULL(vs, "reviews") && ASSERT_EQ(vs->nhttp, 1, "http") &&
	    ASSERT_EQ(vs->http[0].nroute, 2, "destinations")) {
		ASSERT_STREQ(vs->hosts.v[0], "reviews", "host");
		ASSERT_STREQ(vs->meta.ns, "default", "namespace defaults");
		ASSERT_TRUE(istio_vs_applies_to_mesh(vs), "mesh");
		ASSERT_EQ(vs->http[0].route[0].weight, 80, "weight v1");
		ASSERT_STREQ(vs->http[0].route[0].dest.subset, "v1", "subset");
		ASSERT_EQ(vs->http[0].route[1].weight, 20, "weight v2");
		ASSERT_EQ(vs->http[0].nmatch, 0, "catch-all");
	}
	mesh_config_free(cfg);

	/* Header match and fault delay. */
	if (!ASSERT_OK(load_sample("bookinfo/networking/virtual-service-ratings-test-delay.yaml",
				   &cfg), "load delay"))
		return;
	vs = find_vs(cfg, "ratings");
	if (ASSERT_NOT_NULL(vs, "ratings") && ASSERT_EQ(vs->nhttp, 2, "rules") &&
	    ASSERT_EQ(vs->http[0].nmatch, 1, "match") &&
	    ASSERT_EQ(vs->http[0].match[0].nheaders, 1, "headers") &&
	    ASSERT_NOT_NULL(vs->http[0].fault, "fault")) {
		const struct istio_named_match *h = &vs->http[0].match[0].headers[0];

		ASSERT_STREQ(h->name, "end-user", "header name");
		ASSERT_EQ(h->match.kind, ISTIO_MATCH_EXACT, "exact");
		ASSERT_STREQ(h->match.value, "jason", "value");
		ASSERT_TRUE(vs->http[0].fault->has_delay, "delay");
		ASSERT_EQ(vs->http[0].fault->fixed_delay_ns, 7000000000LL, "7s");
		ASSERT_EQ((int)vs->http[0].fault->delay_percent, 100, "100%");
		ASSERT_NULL(vs->http[1].fault, "second rule has no fault");
	}
	mesh_config_free(cfg);

	/* TCP route through a gateway, and a DestinationRule. */
	if (!ASSERT_OK(load_sample("tcp-echo/tcp-echo-20-v2.yaml", &cfg),
		       "load tcp-echo"))
		return;
	vs = find_vs(cfg, "tcp-echo");
	if (ASSERT_NOT_NULL(vs, "tcp-echo") && ASSERT_EQ(vs->ntcp, 1, "tcp") &&
	    ASSERT_EQ(vs->tcp[0].nmatch, 1, "match") &&
	    ASSERT_EQ(vs->tcp[0].nroute, 2, "route")) {
		ASSERT_FALSE(istio_vs_applies_to_mesh(vs), "gateway only");
		ASSERT_EQ(vs->tcp[0].match[0].port, 31400, "match port");
		ASSERT_EQ(vs->tcp[0].route[0].dest.port, 9000, "dest port");
		ASSERT_EQ(vs->tcp[0].route[1].weight, 20, "weight");
	}
	mesh_config_free(cfg);

	if (!ASSERT_OK(load_sample("bookinfo/networking/destination-rule-reviews.yaml",
				   &cfg), "load dr"))
		return;
	dr = cfg->ndestination_rules ? &cfg->destination_rules[0] : NULL;
	if (ASSERT_NOT_NULL(dr, "dr") &&
	    ASSERT_NOT_NULL(dr->traffic_policy, "trafficPolicy")) {
		ASSERT_STREQ(dr->host, "reviews", "host");
		ASSERT_TRUE(dr->traffic_policy->lb.set, "loadBalancer");
		ASSERT_EQ(dr->traffic_policy->lb.simple, ISTIO_LB_RANDOM, "RANDOM");
		ASSERT_EQ(dr->nsubsets, 3, "subsets");
		ASSERT_STREQ(dr->subsets[2].name, "v3", "subset name");
		ASSERT_STREQ(ykvs_get(&dr->subsets[2].labels, "version"), "v3",
			     "subset labels");
	}
	mesh_config_free(cfg);
}

WEFT_TEST(config_samples_model_authz)
{
	const struct istio_authz_policy *ap;
	struct mesh_config *cfg = NULL;
	char path[1024];

	if (!path_is_dir(repo_path(path, sizeof(path), "../shared/istio-samples"))) {
		test_skip("istio-samples not found");
		return;
	}
	if (ASSERT_OK(load_sample("security/custom-simple-http-in.yaml", &cfg),
		      "custom")) {
		ap = find_ap(cfg, "httpbin-1");
		if (ASSERT_NOT_NULL(ap, "httpbin-1")) {
			ASSERT_EQ(ap->action, ISTIO_AUTHZ_CUSTOM, "CUSTOM");
			ASSERT_STREQ(ap->provider, "default", "provider");
			ASSERT_STREQ(ykvs_get(&ap->selector.match, "app"),
				     "httpbin", "selector");
			ASSERT_EQ(ap->nrules, 1, "rules");
		}
	}
	mesh_config_free(cfg);
	if (ASSERT_OK(load_sample("security/allow-nil-rule-in.yaml", &cfg),
		      "nil rule")) {
		ap = find_ap(cfg, "allow-none");
		if (ASSERT_NOT_NULL(ap, "allow-none")) {
			ASSERT_EQ(ap->action, ISTIO_AUTHZ_ALLOW, "ALLOW default");
			ASSERT_EQ(ap->nrules, 0, "no rules: deny all");
		}
	}
	mesh_config_free(cfg);
	if (ASSERT_OK(load_sample("security/allow-empty-rule-in.yaml", &cfg),
		      "empty rule")) {
		ap = find_ap(cfg, "allow-all");
		if (ASSERT_NOT_NULL(ap, "allow-all") &&
		    ASSERT_EQ(ap->nrules, 1, "one rule")) {
			ASSERT_EQ(ap->rules[0].nfrom + ap->rules[0].nto +
				  ap->rules[0].nwhen, 0, "rule {} matches all");
		}
	}
	mesh_config_free(cfg);
	if (ASSERT_OK(load_sample("security/dry-run-mix-in.yaml", &cfg),
		      "dry-run")) {
		ASSERT_TRUE(find_ap(cfg, "httpbin-1") &&
			    find_ap(cfg, "httpbin-1")->dry_run, "dry-run true");
		ASSERT_TRUE(find_ap(cfg, "httpbin-2") &&
			    !find_ap(cfg, "httpbin-2")->dry_run, "dry-run false");
	}
	mesh_config_free(cfg);
	if (ASSERT_OK(load_sample("security/allow-full-rule-in.yaml", &cfg),
		      "full")) {
		ap = find_ap(cfg, "httpbin-1");
		if (ASSERT_NOT_NULL(ap, "httpbin-1") &&
		    ASSERT_EQ(ap->nrules, 2, "rules") &&
		    ASSERT_EQ(ap->rules[1].nfrom, 1, "from") &&
		    ASSERT_EQ(ap->rules[1].nto, 1, "to")) {
			const struct istio_authz_rule *r = &ap->rules[1];

			ASSERT_EQ(ap->rules[0].from[0].service_accounts.n, 2,
				  "serviceAccounts");
			ASSERT_EQ(r->from[0].ip_blocks.n, 2, "ipBlocks");
			ASSERT_STREQ(r->from[0].ip_blocks.v[1], "5.6.0.0/16",
				     "ipBlock");
			ASSERT_EQ(r->to[0].ports.n, 2, "ports");
			ASSERT_EQ(r->to[0].not_paths.n, 6, "notPaths");
			ASSERT_EQ(r->nwhen, 14, "conditions");
			ASSERT_STREQ(r->when[13].key,
				     "experimental.envoy.filters.a.b[c]", "key");
		}
	}
	mesh_config_free(cfg);
}

/* ---- fixtures ------------------------------------------------------------ */

WEFT_TEST(config_fixture_routing_model)
{
	const struct istio_virtual_service *vs;
	const struct istio_destination_rule *dr;
	const struct istio_peer_authn *pa;
	const struct istio_http_route *r;
	struct mesh_config *cfg = NULL;
	char path[1024];
	const char *p = repo_path(path, sizeof(path),
				  "selftests/data/mesh/routing.yaml");

	if (!ASSERT_OK(load_captured(&p, 1, &cfg, NULL), "load"))
		return;
	vs = find_vs(cfg, "reviews-route");
	if (!ASSERT_NOT_NULL(vs, "vs") || !ASSERT_EQ(vs->nhttp, 4, "http"))
		goto out;
	r = &vs->http[0];
	ASSERT_STREQ(vs->meta.ns, "shop", "namespace");
	ASSERT_TRUE(istio_vs_applies_to_mesh(vs), "mesh listed");
	ASSERT_EQ(r->nmatch, 2, "two match blocks");
	ASSERT_EQ(r->match[0].nheaders, 2, "headers");
	ASSERT_EQ(r->match[0].headers[1].match.kind, ISTIO_MATCH_PRESENT, "{}");
	ASSERT_EQ(r->match[0].uri.kind, ISTIO_MATCH_PREFIX, "prefix");
	ASSERT_TRUE(r->match[0].ignore_uri_case, "ignoreUriCase");
	ASSERT_EQ(r->match[0].port, 9080, "port");
	ASSERT_EQ(r->match[1].query_params[0].match.kind, ISTIO_MATCH_REGEX,
		  "regex");
	ASSERT_EQ(r->route[0].weight, 75, "weight");
	ASSERT_EQ(r->route[0].dest.port, 9080, "dest port");
	ASSERT_STREQ(ykvs_get(&r->route[0].headers.request.set, "x-route"),
		     "jason", "header set");
	ASSERT_EQ(r->timeout_ns, 1500000000LL, "timeout");
	if (ASSERT_NOT_NULL(r->retries, "retries")) {
		ASSERT_EQ(r->retries->attempts, 3, "attempts");
		ASSERT_EQ(r->retries->per_try_timeout_ns, 500000000LL,
			  "perTryTimeout");
	}
	if (ASSERT_NOT_NULL(r->fault, "fault"))
		ASSERT_TRUE(r->fault->delay_percent > 10.4 &&
			    r->fault->delay_percent < 10.6, "10.5%");
	ASSERT_TRUE(r->mirror && !strcmp(r->mirror->host, "shadow"), "mirror");
	ASSERT_EQ((int)r->mirror_percent, 5, "mirror percent");
	ASSERT_TRUE(vs->http[1].redirect &&
		    vs->http[1].redirect->redirect_code == 308, "redirect");
	ASSERT_TRUE(vs->http[2].direct_response &&
		    vs->http[2].direct_response->status == 403, "direct");
	ASSERT_TRUE(vs->http[3].rewrite &&
		    !strcmp(vs->http[3].rewrite->uri, "/v1"), "rewrite");
	ASSERT_EQ(vs->http[3].route[0].weight, MESH_UNSET, "weight unset");
	if (ASSERT_EQ(vs->ntcp, 1, "tcp") &&
	    ASSERT_EQ(vs->tcp[0].match[0].ndestination_subnets, 1, "subnets"))
		ASSERT_EQ(vs->tcp[0].match[0].destination_subnets[0].prefix_len,
			  16, "/16");
	if (ASSERT_EQ(vs->ntls, 1, "tls"))
		ASSERT_STREQ(vs->tls[0].match[0].sni_hosts.v[0],
			     "reviews.shop.svc.cluster.local", "sni");

	dr = cfg->ndestination_rules ? &cfg->destination_rules[0] : NULL;
	if (ASSERT_NOT_NULL(dr, "dr") && ASSERT_NOT_NULL(dr->traffic_policy, "tp")) {
		const struct istio_traffic_policy *tp = dr->traffic_policy;

		ASSERT_TRUE(tp->lb.consistent_hash &&
			    tp->lb.consistent_hash->key == ISTIO_HASH_COOKIE &&
			    tp->lb.consistent_hash->maglev &&
			    tp->lb.consistent_hash->table_size == 65537, "maglev");
		ASSERT_TRUE(tp->conn_pool && tp->conn_pool->max_connections == 100 &&
			    tp->conn_pool->connect_timeout_ns == 30000000 &&
			    tp->conn_pool->h2_upgrade == ISTIO_H2_UPGRADE,
			    "connectionPool");
		ASSERT_TRUE(tp->outlier && tp->outlier->consecutive_5xx == 7 &&
			    tp->outlier->base_ejection_ns == 900000000000LL,
			    "outlierDetection");
		ASSERT_TRUE(tp->tls && tp->tls->mode == ISTIO_TLS_ISTIO_MUTUAL, "tls");
		ASSERT_TRUE(tp->nport_level == 1 && tp->port_level[0].port == 9080 &&
			    tp->port_level[0].lb.simple == ISTIO_LB_LEAST_REQUEST,
			    "portLevelSettings");
		ASSERT_TRUE(dr->nsubsets == 2 && dr->subsets[1].traffic_policy &&
			    dr->subsets[1].traffic_policy->lb.simple ==
			    ISTIO_LB_ROUND_ROBIN, "subset policy");
	}
	if (ASSERT_EQ(cfg->nauthz_policies, 1, "ap")) {
		const struct istio_authz_policy *ap = &cfg->authz_policies[0];

		ASSERT_EQ(ap->action, ISTIO_AUTHZ_DENY, "DENY");
		ASSERT_TRUE(ap->nrules == 1 && ap->rules[0].nwhen == 1 &&
			    !strcmp(ap->rules[0].when[0].key, "destination.port"),
			    "when");
	}
	pa = cfg->npeer_authns ? &cfg->peer_authns[0] : NULL;
	if (ASSERT_NOT_NULL(pa, "pa")) {
		ASSERT_EQ(pa->mode, ISTIO_MTLS_STRICT, "STRICT");
		ASSERT_TRUE(pa->nport_level == 2 && pa->port_level[0].port == 9090 &&
			    pa->port_level[0].mode == ISTIO_MTLS_PERMISSIVE &&
			    pa->port_level[1].port == 15021 &&
			    pa->port_level[1].mode == ISTIO_MTLS_DISABLE,
			    "portLevelMtls");
	}
out:
	mesh_config_free(cfg);
}

WEFT_TEST(config_yaml_features)
{
	const struct k8s_service *listed = NULL, *merged = NULL;
	struct mesh_config *cfg = NULL;
	struct mesh_summary s;
	char path[1024];
	const char *p = repo_path(path, sizeof(path),
				  "selftests/data/mesh/yaml-features.yaml");

	if (!ASSERT_OK(load_captured(&p, 1, &cfg, NULL), "load"))
		return;
	mesh_config_summary(cfg, &s);
	ASSERT_EQ(s.services, 2, "Services from a List");
	ASSERT_EQ(s.skipped, 1, "ConfigMap in the List skipped");
	for (size_t i = 0; i < cfg->nservices; i++) {
		if (!strcmp(cfg->services[i].meta.name, "listed"))
			listed = &cfg->services[i];
		if (!strcmp(cfg->services[i].meta.name, "merged"))
			merged = &cfg->services[i];
	}
	if (ASSERT_NOT_NULL(listed, "listed")) {
		ASSERT_STREQ(ykvs_get(&listed->selector.match, "tier"), "backend",
			     "selector through an alias");
		ASSERT_EQ(listed->ports[0].target_number, 8080, "targetPort");
	}
	if (ASSERT_NOT_NULL(merged, "merged") &&
	    ASSERT_EQ(merged->nports, 1, "ports")) {
		ASSERT_EQ(merged->ports[0].port, 81, "explicit key wins");
		ASSERT_STREQ(merged->ports[0].name, "http", "merged key");
		ASSERT_EQ(merged->ports[0].target_number, 8080, "merged key");
	}
	mesh_config_free(cfg);
}

WEFT_TEST(config_load_dir)
{
	struct mesh_config *cfg = NULL, *sentinel = (struct mesh_config *)&cfg;
	struct mesh_summary s;
	char path[1024];

	if (!ASSERT_OK(mesh_config_load_dir(repo_path(path, sizeof(path),
						       "selftests/data/mesh/dir"),
					    &cfg), "load dir"))
		return;
	mesh_config_summary(cfg, &s);
	ASSERT_EQ(s.services, 1, ".yaml read");
	ASSERT_EQ(s.destination_rules, 1, ".yml read");
	ASSERT_EQ(s.peer_authentications, 1, "second document");
	ASSERT_STREQ(cfg->peer_authns[0].meta.ns, "istio-system", "namespace");
	ASSERT_STREQ(cfg->services[0].meta.ns, "default", "default namespace");
	mesh_config_free(cfg);

	cfg = sentinel;
	ASSERT_EQ(mesh_config_load_dir(repo_path(path, sizeof(path),
						 "selftests/data/no-such-dir"),
				       &cfg), -ENOENT, "missing dir");
	ASSERT_TRUE(cfg == sentinel, "out untouched");
	mesh_config_free(NULL);
}

/* ---- broken input ------------------------------------------------------- */

struct expect {
	unsigned int line;
	char text[256];
};

/* "# expect: <line>: <text>" lines at the top of a file. */
static size_t read_expects(const char *path, struct expect *ex, size_t max)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *text;

		if (strncmp(line, "# expect: ", 10))
			break;
		ex[n].line = (unsigned int)strtoul(line + 10, &text, 10);
		if (strncmp(text, ": ", 2))
			break;
		snprintf(ex[n].text, sizeof(ex[n].text), "%s", text + 2);
		ex[n].text[strcspn(ex[n].text, "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

WEFT_TEST(config_broken_files)
{
	struct dirent **names = NULL;
	char dir[1024];
	size_t files = 0;
	int n;

	repo_path(dir, sizeof(dir), "selftests/data/broken");
	n = scandir(dir, &names, NULL, alphasort);
	if (!ASSERT_GE(n, 0, "scandir"))
		return;
	for (int i = 0; i < n; i++) {
		struct mesh_config *cfg, *sentinel = (struct mesh_config *)&cfg;
		const char *name = names[i]->d_name;
		struct expect ex[8];
		char path[1400], where[1500], *text = NULL;
		const char *p = path;
		size_t nex;
		int err;

		if (strlen(name) < 6 || strcmp(name + strlen(name) - 5, ".yaml"))
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		nex = read_expects(path, ex, 8);
		if (!ASSERT_GE(nex, 1, name))
			continue;
		cfg = sentinel;
		err = load_captured(&p, 1, &cfg, &text);
		ASSERT_EQ(err, -EINVAL, name);
		ASSERT_TRUE(cfg == sentinel, "nothing returned");
		for (size_t j = 0; j < nex; j++) {
			snprintf(where, sizeof(where), "%s:%u: ", path, ex[j].line);
			if (!ASSERT_TRUE(text_has_line(text, where, ex[j].text),
					 name))
				printf("  want \"%s%s\"\n  got:\n%s", where,
				       ex[j].text, text ? text : "");
		}
		ASSERT_EQ(text_count(text, "warning: "), nex,
			  "no unexpected diagnostics");
		free(text);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ASSERT_GE(files, 12, "broken files");
}

WEFT_TEST(config_all_or_nothing)
{
	struct mesh_config *cfg, *sentinel = (struct mesh_config *)&cfg;
	char good[1024], bad[1024], missing[1024];
	const char *paths[2];

	paths[0] = repo_path(good, sizeof(good), "selftests/data/mesh/k8s-pods.yaml");
	paths[1] = repo_path(bad, sizeof(bad), "selftests/data/broken/bad-ip.yaml");
	cfg = sentinel;
	ASSERT_EQ(load_captured(paths, 2, &cfg, NULL), -EINVAL, "good + bad");
	ASSERT_TRUE(cfg == sentinel, "nothing returned");

	paths[1] = repo_path(missing, sizeof(missing), "selftests/data/mesh/nope.yaml");
	ASSERT_EQ(load_captured(paths, 2, &cfg, NULL), -ENOENT, "missing file");
	ASSERT_TRUE(cfg == sentinel, "nothing returned");

	/* The same resource in two files is a duplicate too. */
	paths[1] = paths[0];
	ASSERT_EQ(load_captured(paths, 2, &cfg, NULL), -EINVAL, "file twice");
	ASSERT_TRUE(cfg == sentinel, "nothing returned");
}

/* Thirty bad documents: twenty reported, then a count of the rest. */
WEFT_TEST(config_error_cap)
{
	struct mesh_config *cfg = NULL;
	struct stderr_capture c;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *text;
	int err;

	if (!ASSERT_NOT_NULL(buf, "malloc"))
		return;
	for (int i = 0; i < 30; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"---\napiVersion: v1\nkind: Service\nmetadata: {name: s%d}\n"
					"spec: {ports: [{port: %d}]}\n", i, 70000 + i);
	capture_begin(&c);
	err = mesh_config_load_buffer("many.yaml", buf, len, &cfg);
	text = capture_end(&c);
	ASSERT_EQ(err, -EINVAL, "rejected");
	ASSERT_NULL(cfg, "nothing returned");
	ASSERT_EQ(text_count(text, "warning: many.yaml:"), YDIAG_MAX_REPORTED,
		  "reported");
	ASSERT_HAS(text, "warning: many.yaml:5: spec.ports[0].port: 70000 is outside 1..65535",
		   "first");
	ASSERT_HAS(text, "10 more errors not shown", "the rest counted");
	free(text);
	free(buf);
}

/* ---- YAML limits ---------------------------------------------------------- */

static int load_text(const char *name, const char *yaml, char **text)
{
	struct mesh_config *cfg = NULL;
	struct stderr_capture c;
	int err;

	capture_begin(&c);
	err = mesh_config_load_buffer(name, yaml, strlen(yaml), &cfg);
	*text = capture_end(&c);
	mesh_config_free(cfg);
	return err;
}

WEFT_TEST(config_yaml_limits)
{
	/* Nine levels of ten aliases: 10^9 nodes once expanded. */
	static const char laughs[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct mesh_config *cfg = NULL;
	struct stderr_capture c;
	char *text, *big;
	int err;

	ASSERT_EQ(load_text("laughs.yaml", laughs, &text), -EINVAL, "laughs");
	ASSERT_HAS(text, "laughs.yaml:", "file named");
	ASSERT_HAS(text, "too many YAML nodes", "expansion limit");
	free(text);

	ASSERT_EQ(load_text("merge.yaml", "a: &a {x: 1}\nb: {<<: [1, 2]}\n",
			    &text), -EINVAL, "bad merge");
	ASSERT_HAS(text, "merge.yaml:2: merge key (<<) needs a mapping", "merge");
	free(text);

	ASSERT_EQ(load_text("keys.yaml", "? [a, b]\n: c\n", &text), -EINVAL,
		  "complex key");
	ASSERT_HAS(text, "keys.yaml:1: mapping keys must be scalars", "keys");
	free(text);

	ASSERT_EQ(load_text("utf.yaml", "a: \"\\xff\"\nb: \xff\xfe\n", &text),
		  -EINVAL, "invalid UTF-8");
	ASSERT_HAS(text, "utf.yaml:2: YAML syntax error", "reader error line");
	free(text);

	/* Larger than YTREE_MAX_INPUT: refused before parsing. */
	big = malloc(YTREE_MAX_INPUT + 2);
	if (ASSERT_NOT_NULL(big, "malloc")) {
		memset(big, '#', YTREE_MAX_INPUT + 1);
		capture_begin(&c);
		err = mesh_config_load_buffer("big.yaml", big,
					      YTREE_MAX_INPUT + 1, &cfg);
		text = capture_end(&c);
		ASSERT_EQ(err, -EINVAL, "too large");
		ASSERT_HAS(text, "big.yaml:1: file too large", "message");
		free(text);
		free(big);
	}

	/* Empty input, comments only, "---" only: an empty config. */
	ASSERT_OK(load_text("empty.yaml", "", &text), "empty");
	free(text);
	ASSERT_OK(load_text("dashes.yaml", "# nothing\n---\n---\n...\n", &text),
		  "dashes");
	free(text);
}

WEFT_TEST(config_namespace_and_names)
{
	static const char svc[] =
		"apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n"
		"spec: {ports: [{port: 80}]}\n---\n"
		"apiVersion: v1\nkind: Service\nmetadata: {name: ok, namespace: NS}\n"
		"spec: {ports: [{port: 80}, {port: 81, name: b}]}\n";
	static const char pod[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n";
	struct mesh_config *cfg = NULL;
	char *text;

	ASSERT_EQ(load_text("names.yaml", svc, &text), -EINVAL, "rejected");
	ASSERT_HAS(text, "names.yaml:3: metadata.name: \"Bad_Name\" is not a valid Service name",
		   "name");
	ASSERT_HAS(text, "names.yaml:8: metadata.namespace: \"NS\" is not a valid namespace",
		   "namespace");
	ASSERT_HAS(text, "names.yaml:9: spec.ports[0]: name: required when a Service has several ports",
		   "port names");
	free(text);

	ASSERT_OK(mesh_config_load_buffer("ns.yaml", pod, sizeof(pod) - 1, &cfg),
		  "pod");
	if (ASSERT_NOT_NULL(cfg, "cfg") && ASSERT_EQ(cfg->npods, 1, "pods"))
		ASSERT_STREQ(cfg->pods[0].meta.ns, "default", "namespace");
	mesh_config_free(cfg);
}
