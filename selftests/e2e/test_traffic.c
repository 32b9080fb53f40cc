// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: traffic management from Istio YAML.  VirtualService tcp[]
 * routes split new connections over DestinationRule subsets by weight, and
 * match on the service port and on destinationSubnets; all of it through
 * the real weftd, checked by real connections from the client namespace
 * inside the agent's cgroup (selftests/data/e2e/split.yaml).
 *
 * Shares are checked against the binomial spread of the sample: with n
 * connections and share p the standard deviation is sqrt(p(1-p)/n), and
 * every tolerance below is 3.5 of them or more (noted at each check), so a
 * correct datapath fails about once in several thousand runs while a wrong
 * split (say 75/25 for 80/20) fails every time.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWEB 3

struct traffic_env {
	struct sb_host client, web[NWEB];
	struct sb_proc srv[NWEB];
	struct sb_agent agent;
	struct sb_place in_cg;
};

/* Client, web-1..3 (testsrv on 8080), weftd on the given data files. */
static bool traffic_up(struct traffic_env *e, const char *const configs[])
{
	memset(e, 0, sizeof(*e));
	if (!sb_web_up(&e->client, e->web, e->srv, NWEB, false, 8080, 0) ||
	    !sb_agent_up(&e->agent, e->client.netns, configs))
		return false;
	e->in_cg = (struct sb_place){ e->agent.cgroup, e->client.netns };
	return true;
}

/* Run t from the client; false (with the reason) unless every one of its
 * connections was answered. */
static bool tally_all_ok(struct traffic_env *e, struct sb_tally *t,
			 const char *what)
{
	bool ok = ASSERT_OK(sb_tally_run(t, &e->in_cg), what);

	ok = ok && ASSERT_EQ(t->failed, 0, what);
	if (t->error[0])
		printf("%s: %s: first failure: %s\n", test_name(), what, t->error);
	return ok && ASSERT_EQ(t->ok, t->count, what);
}

/* |got - want| <= tol, in percentage points, with both in the message. */
static bool share_within(double got, double want, double tol, const char *what)
{
	if (fabs(got - want) <= tol)
		return true;
	test_fail(__FILE__, __LINE__, "%s: %.2f%%, expected %.1f%% +- %.1f", what,
		  got, want, tol);
	return false;
}

/*
 * The route of `vip` in `weft -j service list`: its destinations' shares
 * (JSON "share", a ratio) in order, how many.  -1 when the VIP is absent.
 */
static int route_shares(const struct sb_agent *a, const char *vip,
			double shares[], int max, char *clusters, size_t clen)
{
	struct sb_result r;
	char *svc, *p;
	int n = 0;

	if (clusters && clen)
		clusters[0] = '\0';
	if (sb_weft(&r, a, SB_ARGV("-j", "service", "list"))) {
		printf("%s: weft -j service list: %s\n", test_name(), r.err);
		sb_result_free(&r);
		return -1;
	}
	svc = sb_json_object_with(r.out, "vip", vip);
	sb_result_free(&r);
	if (!svc)
		return -1;
	for (p = svc; n < max && (p = strstr(p, "\"share\":")); p++)
		shares[n++] = strtod(p + 8, NULL);
	for (p = svc; clusters && (p = strstr(p, "\"cluster\":\"")); p++) {
		size_t len = strlen(clusters);

		p += 11;
		snprintf(clusters + len, clen - len, "%s%.*s", len ? " " : "",
			 (int)strcspn(p, "\""), p);
	}
	free(svc);
	return n;
}

/* 1. 80/20 over two subsets: 5000 connections, v1 within 2 points of 80. */
WEFT_E2E_TEST(e2e_traffic_split_80_20)
{
	struct sb_tally t = { .addr = "10.96.1.1", .port = 9000, .count = 5000, .cpu = -1 };
	char clusters[512];
	struct traffic_env e;
	double shares[8];

	if (!traffic_up(&e, SB_ARGV("split.yaml")))
		goto out;

	/* What the CLI says is in the kernel: the route, as compiled. */
	ASSERT_EQ(route_shares(&e.agent, "10.96.1.1", shares, 8, clusters,
			       sizeof(clusters)), 2, "split-80: two destinations");
	ASSERT_TRUE(fabs(shares[0] - 0.8) < 1e-6 && fabs(shares[1] - 0.2) < 1e-6,
		    "weft service list: shares 0.8 and 0.2");
	ASSERT_HAS(clusters, "outbound|9000|v1|echo.default.svc.cluster.local",
		   "route names the v1 cluster");
	ASSERT_HAS(clusters, "outbound|9000|v2|echo.default.svc.cluster.local",
		   "route names the v2 cluster");

	if (!tally_all_ok(&e, &t, "5000 connections to split-80"))
		goto out;
	test_log("  split-80: v1 %.2f%%, v2 %.2f%%\n", sb_tally_pct(&t, "web-1"),
		 sb_tally_pct(&t, "web-2"));
	/* sd = sqrt(.8 * .2 / 5000) = 0.57 points: 2 points is 3.5 sd */
	share_within(sb_tally_pct(&t, "web-1"), 80, 2, "v1 (web-1) share");
	ASSERT_EQ(sb_tally_hits(&t, "web-1") + sb_tally_hits(&t, "web-2"), 5000,
		  "every connection went to v1 or v2");
	ASSERT_EQ(sb_tally_hits(&t, "web-3"), 0, "v3 gets nothing");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* 2. Weights that do not add up to 100, and a three-way split. */
WEFT_E2E_TEST(e2e_traffic_split_weights)
{
	struct sb_tally w13 = { .addr = "10.96.1.2", .port = 9000, .count = 4000, .cpu = -1 };
	struct sb_tally w3 = { .addr = "10.96.1.3", .port = 9000, .count = 4000, .cpu = -1 };
	struct traffic_env e;
	double shares[8];

	if (!traffic_up(&e, SB_ARGV("split.yaml")))
		goto out;

	ASSERT_EQ(route_shares(&e.agent, "10.96.1.2", shares, 8, NULL, 0), 2,
		  "split-13: two destinations");
	ASSERT_TRUE(fabs(shares[0] - 0.25) < 1e-6 && fabs(shares[1] - 0.75) < 1e-6,
		    "weights 1 and 3 listed as 0.25 and 0.75");
	if (tally_all_ok(&e, &w13, "4000 connections to split-13")) {
		/* sd = sqrt(.25 * .75 / 4000) = 0.68 points: 2.5 is 3.7 sd */
		share_within(sb_tally_pct(&w13, "web-1"), 25, 2.5, "weight 1 of 4 (web-1)");
		share_within(sb_tally_pct(&w13, "web-2"), 75, 2.5, "weight 3 of 4 (web-2)");
		ASSERT_EQ(sb_tally_hits(&w13, "web-3"), 0, "v3 not in the route");
	}

	ASSERT_EQ(route_shares(&e.agent, "10.96.1.3", shares, 8, NULL, 0), 3,
		  "split-3: three destinations");
	if (tally_all_ok(&e, &w3, "4000 connections to split-3")) {
		/* sd at most sqrt(.5 * .5 / 4000) = 0.79 points: 3 is 3.8 sd */
		share_within(sb_tally_pct(&w3, "web-1"), 50, 3, "v1 share of 50/30/20");
		share_within(sb_tally_pct(&w3, "web-2"), 30, 3, "v2 share of 50/30/20");
		share_within(sb_tally_pct(&w3, "web-3"), 20, 3, "v3 share of 50/30/20");
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 3. tcp[] match: two ports of one service routed to different subsets;
 * one VirtualService for two services whose VIPs lie in different
 * destinationSubnets.
 */
WEFT_E2E_TEST(e2e_traffic_match_port_and_subnet)
{
	static const struct {
		const char *vip;
		int port;
		const char *only;
		const char *what;
	} cases[] = {
		{ "10.96.1.10", 9000, "web-1", "echo:9000 (catch-all rule) -> v1" },
		{ "10.96.1.10", 9001, "web-2", "echo:9001 (match port 9001) -> v2" },
		{ "10.97.1.20", 9000, "web-3", "outer (10.97.0.0/16) -> v3" },
		{ "10.96.1.20", 9000, "web-2", "inner (not in the subnet) -> v2" },
	};
	struct traffic_env e;

	if (!traffic_up(&e, SB_ARGV("split.yaml")))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sb_tally t = { .addr = cases[i].vip, .port = cases[i].port,
				      .count = 150, .cpu = -1 };

		if (!tally_all_ok(&e, &t, cases[i].what))
			continue;
		ASSERT_EQ(sb_tally_hits(&t, cases[i].only), 150, cases[i].what);
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
