// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: weftd's life cycle.  Two agents side by side on one machine,
 * a rejected config while running, and --uninstall.  The sandbox is the
 * one of test_lb.c (selftests/data/e2e/README.md).
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weft/abi.h>

#define NWEB 3
#define VIP_URL "http://10.96.0.10/"

struct env {
	struct sb_host client, web[NWEB];
	struct sb_proc srv[NWEB];
};

/* Client and three backends; false when the test cannot go on. */
static bool env_up(struct env *e)
{
	memset(e, 0, sizeof(*e));
	return sb_web_up(&e->client, e->web, e->srv, NWEB, false, 8080, 0);
}

/*
 * n GETs of the web VIP from the client namespace in cg (NULL: outside any
 * agent's cgroup).  Returns a bitmask of the backends that answered (bit i
 * for web-(i+1)); *failed gets the number of requests without a backend's
 * answer, *last_status curl's status of the last failure.
 */
static unsigned int reach(const struct env *e, const char *cg, int n,
			  int *failed, int *last_status)
{
	struct sb_place at = { cg, e->client.netns };
	unsigned int seen = 0;

	*failed = 0;
	*last_status = 0;
	for (int i = 0; i < n; i++) {
		struct sb_result r;

		sb_curl(&r, &at, VIP_URL);
		if (r.status == 0 && !strncmp(r.out, "web-", 4) && r.out[4] >= '1' &&
		    r.out[4] <= '0' + NWEB && !r.out[5]) {
			seen |= 1u << (r.out[4] - '1');
		} else {
			++*failed;
			*last_status = r.status;
		}
		sb_result_free(&r);
	}
	test_log("  %d x %s from %s: backends seen 0x%x, failed %d (status %d)\n",
		 n, VIP_URL, cg ? strrchr(cg, '/') + 1 : "outside", seen, *failed,
		 *last_status);
	return seen;
}

static int service_backends(const struct sb_agent *a, const char *vip)
{
	struct sb_result r;
	char *svc;
	int n;

	if (sb_weft(&r, a, SB_ARGV("-j", "service", "list"))) {
		printf("%s: weft -j service list: status %d: %s\n", test_name(),
		       r.status, r.err);
		sb_result_free(&r);
		return -1;
	}
	svc = sb_json_object_with(r.out, "vip", vip);
	n = svc ? sb_json_count_after_last(svc, "backends", "address") : -1;
	free(svc);
	sb_result_free(&r);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* How many links `bpftool link show` lists on the cgroup with this id; -1
 * when bpftool failed. */
static int cgroup_links(unsigned long long cgid)
{
	char needle[64];
	struct sb_result r;
	int n = 0;

	snprintf(needle, sizeof(needle), "\"cgroup_id\":%llu,", cgid);
	if (sb_run(&r, NULL, NULL, 10000, SB_ARGV("bpftool", "-j", "link", "show")))
		n = -1;
	for (const char *p = r.out; n >= 0 && (p = strstr(p, needle)); p++)
		n++;
	sb_result_free(&r);
	return n;
}

/*
 * 7. Two agents side by side: own cgroup, pins, metrics port and config for
 * the same VIP.  Agent A is started with flags and a Kubernetes Service,
 * agent B with a node config file and a ServiceEntry + WorkloadEntry.
 */
WEFT_E2E_TEST(e2e_agents_side_by_side)
{
	struct sb_agent a, b;
	struct sb_result r = {};
	int failed, status;
	unsigned int seen;
	struct env e;

	if (!env_up(&e) ||
	    !ASSERT_OK(sb_agent_init(&a, "node-a", e.client.netns, 15020), "agent a") ||
	    !ASSERT_OK(sb_agent_init(&b, "node-b", e.client.netns, 15021), "agent b") ||
	    !ASSERT_OK(sb_agent_config(&a, "web-two.yaml", NULL), "config a") ||
	    !ASSERT_OK(sb_agent_config(&b, "web-entry.yaml", NULL), "config b") ||
	    !ASSERT_OK(sb_agent_node_config(&b), "node config b") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd a") ||
	    !ASSERT_OK(sb_agent_start(&b, NULL), "weftd b"))
		goto out;

	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "A's clients: every GET answered");
	ASSERT_EQ(seen, 0x3, "A's clients reach web-1 and web-2 only");
	seen = reach(&e, b.cgroup, 10, &failed, &status);
	ASSERT_EQ(failed, 0, "B's clients: every GET answered");
	ASSERT_EQ(seen, 0x4, "B's clients reach web-3 only");

	ASSERT_EQ(service_backends(&a, "10.96.0.10"), 2, "weft -p A: 2 backends");
	ASSERT_EQ(service_backends(&b, "10.96.0.10"), 1, "weft -c B: 1 backend");

	ASSERT_EQ(sb_agent_http(NULL, &a, "/healthz/ready"), 200, "A ready");
	ASSERT_EQ(sb_agent_http(NULL, &b, "/healthz/ready"), 200, "B ready");
	ASSERT_EQ(sb_agent_http(&r, &a, "/metrics"), 200, "A /metrics");
	ASSERT_GE(strlen(r.out), 1, "A /metrics has a body");
	sb_result_free(&r);
	ASSERT_EQ(sb_agent_http(&r, &b, "/metrics"), 200, "B /metrics");
	ASSERT_GE(strlen(r.out), 1, "B /metrics has a body");
	sb_result_free(&r);

	/* B's daemon goes; its datapath stays pinned and keeps working. */
	ASSERT_EQ(sb_proc_stop(&b.proc, SIGTERM, 5000), 0, "weftd b exits 0 on SIGTERM");
	ASSERT_TRUE(exists(b.pin_dir), "B's pins stay after SIGTERM");
	seen = reach(&e, b.cgroup, 5, &failed, &status);
	ASSERT_EQ(failed, 0, "B's datapath works without its daemon");
	ASSERT_EQ(seen, 0x4, "... still to web-3 only");

	/* Uninstall B; A is untouched. */
	sb_agent_run(&r, &b, SB_ARGV("--uninstall"));
	ASSERT_EQ(r.status, 0, "weftd --uninstall B");
	sb_result_free(&r);
	ASSERT_FALSE(exists(b.pin_dir), "B's pin dir removed");
	seen = reach(&e, b.cgroup, 3, &failed, &status);
	ASSERT_EQ(failed, 3, "B's clients no longer translated");
	ASSERT_EQ(status, 7, "... curl cannot connect (the VIP has no route)");
	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "A still answers after B's uninstall");
	ASSERT_EQ(seen, 0x3, "A still reaches web-1 and web-2 only");
	ASSERT_EQ(sb_agent_http(NULL, &a, "/healthz/ready"), 200, "A still ready");
	ASSERT_EQ(sb_proc_stop(&a.proc, SIGTERM, 5000), 0, "weftd a exits 0 on SIGTERM");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 9. A broken config while running is rejected whole: weftd says
 * file:line, keeps serving the old datapath (a change that came with the
 * broken file is not applied either), and applies the next good config.
 * At start-up the same config makes weftd exit 1 with nothing pinned.
 */
WEFT_E2E_TEST(e2e_agent_rejects_bad_config)
{
	char path[PATH_MAX + 32];
	struct sb_agent a, bad;
	struct stat cg;
	struct sb_result r = {};
	int failed, status;
	unsigned int seen;
	struct env e;

	if (!env_up(&e) ||
	    !ASSERT_OK(sb_agent_init(&a, "node", e.client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&a, "web.yaml", NULL), "config") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd"))
		goto out;
	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "every GET answered before");
	ASSERT_EQ(seen, 0x7, "all three backends before");

	/* web-3 dropped, plus a file that does not parse: nothing applies. */
	if (!ASSERT_OK(sb_agent_config(&a, "web-two.yaml", "web.yaml"), "rewrite") ||
	    !ASSERT_OK(sb_agent_config(&a, "broken.yaml", "zz-broken.yaml"), "broken") ||
	    !ASSERT_OK(kill(a.proc.pid, SIGHUP), "SIGHUP"))
		goto out;
	ASSERT_OK(sb_proc_wait_log(&a.proc, "zz-broken.yaml:8:", 5000),
		  "weftd reports zz-broken.yaml:8: on stderr");
	ASSERT_FALSE(sb_proc_exited(&a.proc), "weftd keeps running");
	ASSERT_EQ(sb_agent_http(NULL, &a, "/healthz/ready"), 200, "still ready");
	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "old datapath still answers");
	ASSERT_EQ(seen, 0x7, "old config kept: web-3 still reached");
	ASSERT_EQ(service_backends(&a, "10.96.0.10"), 3, "still 3 backends listed");

	sb_agent_run(&r, &a, SB_ARGV("--check"));
	ASSERT_EQ(r.status, 1, "weftd --check on the broken dir exits 1");
	ASSERT_HAS(r.err, "zz-broken.yaml:8:", "--check says file:line");
	sb_result_free(&r);

	/* A semantic error is reported at its line too. */
	snprintf(path, sizeof(path), "%s/zz-broken.yaml", a.config_dir);
	unlink(path);
	ASSERT_OK(sb_agent_config(&a, "bad-vip.yaml", NULL), "bad-vip");
	sb_agent_run(&r, &a, SB_ARGV("--check"));
	ASSERT_EQ(r.status, 1, "weftd --check with an invalid clusterIP exits 1");
	ASSERT_HAS(r.err, "bad-vip.yaml:8:", "--check says file:line");
	sb_result_free(&r);

	/* Fixed: the next SIGHUP applies the pending change. */
	snprintf(path, sizeof(path), "%s/bad-vip.yaml", a.config_dir);
	unlink(path);
	if (!ASSERT_OK(kill(a.proc.pid, SIGHUP), "SIGHUP"))
		goto out;
	ASSERT_TRUE(SB_WAIT_UNTIL(service_backends(&a, "10.96.0.10") == 2, 5000),
		    "good config applied after the fix");
	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "answers after the fix");
	ASSERT_EQ(seen, 0x3, "web-3 gone after the fix");

	/* At start-up: exit 1, file:line, nothing pinned. */
	if (!ASSERT_OK(sb_agent_init(&bad, "bad", e.client.netns, 0), "agent bad") ||
	    !ASSERT_OK(sb_agent_config(&bad, "web.yaml", NULL), "config bad") ||
	    !ASSERT_OK(sb_agent_config(&bad, "broken.yaml", NULL), "config bad"))
		goto out;
	sb_agent_run(&r, &bad, SB_ARGV("--once"));
	ASSERT_EQ(r.status, 1, "weftd --once with a broken config exits 1");
	ASSERT_HAS(r.err, "broken.yaml:8:", "start-up error says file:line");
	sb_result_free(&r);
	ASSERT_FALSE(exists(bad.pin_dir), "rejected at start-up: pin dir not created");
	if (!stat(bad.cgroup, &cg))
		ASSERT_EQ(cgroup_links((unsigned long long)cg.st_ino), 0,
			  "rejected at start-up: no link on the cgroup");
	ASSERT_EQ(sb_proc_stop(&a.proc, SIGTERM, 5000), 0, "weftd exits 0 on SIGTERM");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 10. `weftd --uninstall` removes every pin and link: the pin dir goes,
 * bpftool lists no link on the cgroup, and the VIP is an address again.
 * Before that, SIGTERM leaves the datapath pinned and working.
 */
WEFT_E2E_TEST(e2e_agent_uninstall)
{
	char maps[PATH_MAX + 8], links[PATH_MAX + 8];
	struct sb_result r = {};
	int failed, status;
	unsigned int seen;
	struct sb_agent a;
	struct stat cg;
	struct env e;

	if (!env_up(&e) ||
	    !ASSERT_OK(sb_agent_init(&a, "node", e.client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&a, "web.yaml", NULL), "config") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd") ||
	    !ASSERT_OK(stat(a.cgroup, &cg), "stat cgroup"))
		goto out;
	snprintf(maps, sizeof(maps), "%s/" WEFT_PIN_MAPS_DIR, a.pin_dir);
	snprintf(links, sizeof(links), "%s/links", a.pin_dir);
	ASSERT_TRUE(exists(maps), "maps pinned under <pin dir>/maps_v<ABI>");
	ASSERT_TRUE(exists(links), "links pinned under <pin dir>/links");
	ASSERT_GE(cgroup_links((unsigned long long)cg.st_ino), 4,
		  "bpftool: weft links on the cgroup");

	ASSERT_EQ(sb_proc_stop(&a.proc, SIGTERM, 5000), 0, "weftd exits 0 on SIGTERM");
	seen = reach(&e, a.cgroup, 30, &failed, &status);
	ASSERT_EQ(failed, 0, "pinned datapath works without weftd");
	ASSERT_EQ(seen, 0x7, "... to all three backends");

	sb_weft(&r, &a, SB_ARGV("-j", "status"));
	ASSERT_EQ(r.status, 0, "weft -j status with weftd stopped");
	sb_result_free(&r);

	sb_agent_run(&r, &a, SB_ARGV("--uninstall"));
	ASSERT_EQ(r.status, 0, "weftd --uninstall");
	sb_result_free(&r);
	ASSERT_FALSE(exists(a.pin_dir), "pin dir removed");
	ASSERT_TRUE(SB_WAIT_UNTIL(cgroup_links((unsigned long long)cg.st_ino) == 0, 3000),
		    "bpftool: no link left on the cgroup");
	sb_run(&r, NULL, NULL, 10000, SB_ARGV("bpftool", "cgroup", "show", a.cgroup));
	ASSERT_STREQ(r.out, "", "bpftool cgroup show: nothing attached");
	sb_result_free(&r);
	reach(&e, a.cgroup, 3, &failed, &status);
	ASSERT_EQ(failed, 3, "VIP no longer translated");
	ASSERT_EQ(status, 7, "... curl cannot connect (the VIP has no route)");

	sb_agent_run(&r, &a, SB_ARGV("--uninstall"));
	ASSERT_EQ(r.status, 0, "a second --uninstall is a no-op");
	sb_result_free(&r);
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
