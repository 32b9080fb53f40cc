// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb_compile() over the fixtures in selftests/data/mesh: every source of
 * services and backends lb.h documents, readiness, address families,
 * ordering, VIP conflicts, and the real samples.
 */
#include <netinet/in.h>

#include "config_test_util.h"
#include "mesh-t.h"

/* Load fixture files (relative to selftests/data/mesh) and compile. */
static bool compile_fixtures(struct mesh_config **cfg, struct lb_state *st,
			     const char *const *files, size_t n)
{
	char paths[8][1024];
	const char *p[8];

	for (size_t i = 0; i < n && i < 8; i++)
		p[i] = repo_path(paths[i], sizeof(paths[i]),
				 "selftests/data/mesh/%s", files[i]);
	*cfg = NULL;
	memset(st, 0, sizeof(*st));
	if (!ASSERT_OK(load_captured(p, n, cfg, NULL), files[0]))
		return false;
	return ASSERT_OK(lb_compile(*cfg, st), "lb_compile");
}

static bool compile_one(const char *file, struct mesh_config **cfg,
			struct lb_state *st)
{
	return compile_fixtures(cfg, st, &file, 1);
}

/* Services sorted by (vip, port, proto), backends by (addr, port). */
static bool lb_state_sorted(const struct lb_state *st)
{
	for (size_t i = 0; i < st->nservices; i++) {
		const struct lb_service *s = &st->services[i];

		if (i) {
			const struct lb_service *p = &st->services[i - 1];
			int c = memcmp(&p->vip, &s->vip, sizeof(s->vip));

			if (c > 0 || (!c && (p->port > s->port ||
					     (p->port == s->port &&
					      p->proto >= s->proto))))
				return false;
		}
		for (size_t j = 1; j < s->nbackends; j++) {
			const struct lb_backend *a = &s->backends[j - 1];
			const struct lb_backend *b = &s->backends[j];
			int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

			if (c > 0 || (!c && a->port >= b->port))
				return false;
		}
	}
	return true;
}

WEFT_TEST(lb_compile_service_endpointslices)
{
	static const struct want_backend http[] = {
		{ "10.1.0.10", 9080, 1, "" },
		{ "10.1.0.11", 9080, 1, "shop/reviews-v2-b" },
		{ "10.1.0.12", 9080, 1, "shop/reviews-v1-a" },
	};
	static const struct want_backend dns[] = {
		{ "10.1.0.10", 5353, 1, "" },
		{ "10.1.0.11", 5353, 1, "shop/reviews-v2-b" },
		{ "10.1.0.12", 5353, 1, "shop/reviews-v1-a" },
	};
	const struct lb_service *s;
	struct mesh_config *cfg;
	struct lb_state st;

	if (!compile_one("k8s-slice.yaml", &cfg, &st))
		goto out;
	ASSERT_EQ(st.nservices, 2, "TCP and UDP port");
	ASSERT_TRUE(lb_state_sorted(&st), "sorted");
	s = lb_find(&st, "10.96.0.10", 9080, IPPROTO_TCP);
	/* Not ready 10.1.0.13 out, duplicate 10.1.0.12 once, stray Pod and
	 * the other Service's slice ignored. */
	if (lb_backends_are(s, http, 3, "http backends")) {
		ASSERT_STREQ(s->host, "reviews.shop.svc.cluster.local", "FQDN");
		ASSERT_STREQ(s->ns, "shop", "ns");
		ASSERT_STREQ(s->port_name, "http", "port name");
	}
	s = lb_find(&st, "10.96.0.10", 53, IPPROTO_UDP);
	lb_backends_are(s, dns, 3, "udp backends");
out:
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_service_endpoints)
{
	static const struct want_backend want[] = {
		{ "10.1.1.1", 9080, 1, "default/details-1" },
		{ "10.1.1.2", 9080, 1, "" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("k8s-endpoints.yaml", &cfg, &st)) {
		ASSERT_EQ(st.nservices, 1, "services");
		/* notReadyAddresses and the subset without the port left out */
		lb_backends_are(lb_find(&st, "10.96.0.20", 9080, IPPROTO_TCP),
				want, 2, "backends");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_service_pods_named_port)
{
	static const struct want_backend http[] = {
		{ "10.2.0.1", 8080, 1, "apps/web-1" },
		{ "10.2.0.2", 8081, 1, "apps/web-2" },
	};
	static const struct want_backend metrics[] = {
		{ "10.2.0.1", 9100, 1, "apps/web-1" },
		{ "10.2.0.2", 9100, 1, "apps/web-2" },
		{ "10.2.0.6", 9100, 1, "apps/web-6" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("k8s-pods.yaml", &cfg, &st)) {
		ASSERT_EQ(st.nservices, 2, "services");
		/* Per-Pod resolution of "http-web"; web-6 has no such port;
		 * not Ready, Pending, IP-less, other-namespace, other-label
		 * and deleting Pods are left out. */
		lb_backends_are(lb_find(&st, "10.96.0.30", 80, IPPROTO_TCP),
				http, 2, "named targetPort");
		lb_backends_are(lb_find(&st, "10.96.0.30", 9100, IPPROTO_TCP),
				metrics, 3, "numeric targetPort");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_not_ready_left_out)
{
	static const char yaml[] =
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
		"spec: {clusterIP: 10.96.9.1, selector: {app: s}, ports: [{port: 80}]}\n"
		"---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: s}}\n"
		"spec: {containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.9.0.1, conditions: [{type: Ready, status: \"%s\"}]}\n";
	char buf[512];

	for (int ready = 0; ready < 2; ready++) {
		struct mesh_config *cfg = NULL;
		const struct lb_service *s;
		struct lb_state st;

		snprintf(buf, sizeof(buf), yaml, ready ? "True" : "False");
		if (!ASSERT_OK(mesh_config_load_buffer("ready.yaml", buf,
						       strlen(buf), &cfg), "load"))
			continue;
		if (ASSERT_OK(lb_compile(cfg, &st), "compile")) {
			s = lb_find(&st, "10.96.9.1", 80, IPPROTO_TCP);
			/* A service without backends still exists (refused). */
			if (ASSERT_NOT_NULL(s, "service"))
				ASSERT_EQ(s->nbackends, ready, "backends");
		}
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
}

WEFT_TEST(lb_compile_serviceentry_static)
{
	static const struct want_backend pg[] = {
		{ "192.168.1.10", 6432, 3, "" },   /* endpoint.ports[name] */
		{ "192.168.1.11", 15432, 1, "" },  /* targetPort */
	};
	static const struct want_backend admin[] = {
		{ "192.168.1.10", 9000, 3, "" },   /* number */
		{ "192.168.1.11", 9000, 1, "" },
	};
	const struct lb_service *s;
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("se-static.yaml", &cfg, &st)) {
		ASSERT_EQ(st.nservices, 2, "services");
		s = lb_find(&st, "240.0.0.10", 5432, IPPROTO_TCP);
		if (lb_backends_are(s, pg, 2, "tcp-pg")) {
			ASSERT_STREQ(s->host, "db.vm.example.com", "first host");
			ASSERT_STREQ(s->ns, "data", "ns");
			ASSERT_STREQ(s->port_name, "tcp-pg", "port name");
		}
		lb_backends_are(lb_find(&st, "240.0.0.10", 9000, IPPROTO_TCP),
				admin, 2, "http-admin");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_serviceentry_workload_selector)
{
	static const struct want_backend want[] = {
		{ "10.3.0.1", 8888, 5, "vms/we-1" },
		{ "10.3.0.2", 8080, 1, "vms/we-2" },
		{ "10.3.0.9", 8080, 1, "vms/api-pod" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("se-selector.yaml", &cfg, &st)) {
		ASSERT_EQ(st.nservices, 1, "services");
		/* other labels, other namespace, DNS address left out */
		lb_backends_are(lb_find(&st, "240.0.0.20", 80, IPPROTO_TCP),
				want, 3, "selected workloads");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_serviceentry_dns_and_none)
{
	static const struct want_backend want[] = {
		{ "203.0.113.5", 443, 1, "" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("se-dns.yaml", &cfg, &st)) {
		/* DNS: IP endpoint only; NONE: nothing; /24: not a VIP */
		ASSERT_EQ(st.nservices, 1, "services");
		lb_backends_are(lb_find(&st, "240.0.0.30", 443, IPPROTO_TCP),
				want, 1, "DNS with IP endpoints");
		ASSERT_NULL(lb_find(&st, "240.0.0.40", 443, IPPROTO_TCP),
			    "NONE compiles to nothing");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_ipv6_dual_stack)
{
	static const struct want_backend v4[] = { { "10.4.0.1", 8080, 1, "" } };
	static const struct want_backend v6[] = { { "fd00:4::1", 8080, 1, "" } };
	static const struct want_backend v6only[] = { { "fd00:1::1", 80, 1, "" } };
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_one("dualstack.yaml", &cfg, &st)) {
		ASSERT_EQ(st.nservices, 3, "services");
		ASSERT_TRUE(lb_state_sorted(&st), "sorted");
		ASSERT_TRUE(st.nservices == 3 &&
			    weft_addr_is_v4(&st.services[0].vip) &&
			    !weft_addr_is_v4(&st.services[1].vip),
			    "IPv4-mapped VIPs sort first");
		/* each VIP gets the backends of its own family only */
		lb_backends_are(lb_find(&st, "10.96.0.50", 8080, IPPROTO_TCP),
				v4, 1, "dual v4");
		lb_backends_are(lb_find(&st, "fd00:10::2", 8080, IPPROTO_TCP),
				v6, 1, "dual v6");
		lb_backends_are(lb_find(&st, "fd00:10::1", 80, IPPROTO_TCP),
				v6only, 1, "IPv6 Service, not-ready left out");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_vip_conflict)
{
	static const char *const files[] = { "conflict/a.yaml",
					     "conflict/b.yaml" };
	char a[1024], b[1024], want[2200], *text;
	struct mesh_config *cfg = NULL;
	const char *p[2];
	struct stderr_capture c;
	struct lb_state st;
	int err;

	p[0] = repo_path(a, sizeof(a), "selftests/data/mesh/%s", files[0]);
	p[1] = repo_path(b, sizeof(b), "selftests/data/mesh/%s", files[1]);
	if (!ASSERT_OK(load_captured(p, 2, &cfg, NULL), "load"))
		return;
	capture_begin(&c);
	err = lb_compile(cfg, &st);
	text = capture_end(&c);
	ASSERT_EQ(err, -EINVAL, "conflict rejected");
	ASSERT_EQ(st.nservices, 0, "nothing returned");
	ASSERT_NULL(st.services, "nothing returned");
	snprintf(want, sizeof(want), "%s:1: ServiceEntry default/y claims 10.96.1.1:80/TCP, already claimed by Service default/x (%s:1)",
		 b, a);
	ASSERT_HAS(text, want, "names both resources");
	free(text);
	lb_state_free(&st);
	mesh_config_free(cfg);

	/* Either file alone compiles. */
	if (compile_fixtures(&cfg, &st, files, 1)) {
		ASSERT_EQ(st.nservices, 1, "one");
		lb_state_free(&st);
	}
	mesh_config_free(cfg);
}

WEFT_TEST(lb_compile_samples)
{
	static const char *const groups[][4] = {
		{ "bookinfo/platform/kube/bookinfo.yaml",
		  "bookinfo/networking/destination-rule-all.yaml",
		  "bookinfo/networking/virtual-service-all-v1.yaml", NULL },
		{ "tcp-echo/tcp-echo-services.yaml",
		  "tcp-echo/tcp-echo-20-v2.yaml", NULL },
		{ "bookinfo/platform/kube/bookinfo.yaml",
		  "bookinfo/platform/kube/bookinfo-versions.yaml",
		  "tcp-echo/tcp-echo.yaml",
		  "bookinfo/networking/egress-rule-google-apis.yaml" },
	};
	char dir[1024];

	if (!path_is_dir(repo_path(dir, sizeof(dir), "../shared/istio-samples"))) {
		test_skip("istio-samples not found");
		return;
	}
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		char paths[4][1100];
		const char *p[4];
		struct mesh_config *cfg = NULL;
		struct lb_state st;
		size_t n = 0;

		for (; n < 4 && groups[g][n]; n++)
			p[n] = repo_path(paths[n], sizeof(paths[n]),
					 "../shared/istio-samples/%s",
					 groups[g][n]);
		if (!ASSERT_OK(load_captured(p, n, &cfg, NULL), groups[g][0]))
			continue;
		if (ASSERT_OK(lb_compile(cfg, &st), "compile"))
			/* The samples give no clusterIPs and the egress
			 * ServiceEntry no address: no VIP to translate. */
			ASSERT_EQ(st.nservices, 0, "services");
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
}

WEFT_TEST(lb_compile_empty_and_free)
{
	struct lb_state st;

	ASSERT_OK(lb_compile(NULL, &st), "no config");
	ASSERT_EQ(st.nservices, 0, "empty");
	ASSERT_EQ(st.nclusters + st.nworkloads, 0, "no clusters, workloads");
	ASSERT_TRUE(!st.services && !st.clusters && !st.workloads,
		    "nothing allocated");
	lb_state_free(&st);
	lb_state_free(&st);
	lb_state_free(NULL);
}
