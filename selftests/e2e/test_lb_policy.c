// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: DestinationRule load-balancing policies, through the real
 * weftd and real connections (selftests/data/e2e/policies.yaml,
 * hash-svc.yaml).  Each policy is told apart by what only it does:
 * ROUND_ROBIN never gives one backend twice in a row to a client pinned to
 * one CPU (its position is per CPU, as Envoy's is per worker); RANDOM does,
 * about a third of the time; LEAST_REQUEST steers new connections away
 * from a backend holding open ones; a consistent hash sends every
 * connection of one client (network namespace) to one backend, and moves
 * only the clients of a removed backend.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_WEB 4
#define NCLIENTS 12

struct policy_env {
	struct sb_host client, web[MAX_WEB];
	struct sb_proc srv[MAX_WEB];
	struct sb_agent agent;
	struct sb_place in_cg;
};

/* Client, web-1..nweb (testsrv on 8080 at 10.201.1.<i>), weftd on the
 * given data files. */
static bool policy_up(struct policy_env *e, int nweb,
		      const char *const configs[])
{
	memset(e, 0, sizeof(*e));
	if (!sb_web_up(&e->client, e->web, e->srv, nweb, false, 8080, 0) ||
	    !sb_agent_up(&e->agent, e->client.netns, configs))
		return false;
	e->in_cg = (struct sb_place){ e->agent.cgroup, e->client.netns };
	return true;
}

static bool tally_all_ok(const struct sb_place *at, struct sb_tally *t,
			 const char *what)
{
	bool ok = ASSERT_OK(sb_tally_run(t, at), what);

	if (t->error[0])
		printf("%s: %s: first failure: %s\n", test_name(), what, t->error);
	return ok && ASSERT_EQ(t->failed, 0, what) && ASSERT_EQ(t->ok, t->count, what);
}

/* The policy `weft -j cluster list` shows for a cluster, malloc'd ("" when
 * the cluster is absent). */
static char *cluster_policy(const struct sb_agent *a, const char *cluster)
{
	struct sb_result r;
	char *obj = NULL, *p, *policy;

	if (!sb_weft(&r, a, SB_ARGV("-j", "cluster", "list")))
		obj = sb_json_object_with(r.out, "name", cluster);
	sb_result_free(&r);
	p = obj ? strstr(obj, "\"policy\":\"") : NULL;
	policy = p ? strndup(p + 10, strcspn(p + 10, "\"")) : strdup("");
	free(obj);
	return policy;
}

static void check_policy(const struct sb_agent *a, const char *cluster,
			 const char *want)
{
	char *got = cluster_policy(a, cluster);
	char what[160];

	snprintf(what, sizeof(what), "weft cluster list: policy of %s", cluster);
	ASSERT_STREQ(got, want, what);
	free(got);
}

/* Every backend of t got between lo and hi connections (all n named). */
static void spread_within(const struct sb_tally *t, int nweb, int lo, int hi,
			  const char *what)
{
	for (int i = 0; i < nweb; i++) {
		char name[16], msg[160];
		int hits;

		snprintf(name, sizeof(name), "web-%d", i + 1);
		hits = sb_tally_hits(t, name);
		snprintf(msg, sizeof(msg), "%s: connections to %s", what, name);
		ASSERT_GE(hits, lo, msg);
		ASSERT_LE(hits, hi, msg);
	}
}

/* 1. ROUND_ROBIN: 300 connections from one client, exactly rotating;
 * RANDOM: spread, but not a rotation. */
WEFT_E2E_TEST(e2e_lb_policy_round_robin_and_random)
{
	struct sb_tally rr = { .addr = "10.96.2.1", .port = 9000, .count = 300, .cpu = 0 };
	struct sb_tally rnd = { .addr = "10.96.2.2", .port = 9000, .count = 300, .cpu = 0 };
	struct policy_env e;

	if (!policy_up(&e, 3, SB_ARGV("policies.yaml")))
		goto out;
	check_policy(&e.agent, "outbound|9000||rr.default.svc.cluster.local",
		     "round_robin");
	check_policy(&e.agent, "outbound|9000||random.default.svc.cluster.local",
		     "random");

	if (tally_all_ok(&e.in_cg, &rr, "ROUND_ROBIN: 300 connections")) {
		/* each within 10% of 100 */
		spread_within(&rr, 3, 90, 110, "ROUND_ROBIN");
		ASSERT_EQ(rr.repeats, 0,
			  "ROUND_ROBIN: never the same backend twice in a row (one CPU)");
	}
	if (tally_all_ok(&e.in_cg, &rnd, "RANDOM: 300 connections")) {
		/* mean 100, sd 8.2: +-40 is 4.9 sd */
		spread_within(&rnd, 3, 60, 140, "RANDOM");
		/* 299 pairs, each the same backend with p = 1/3: mean 100,
		 * sd 8.2; a rotation would give 0 */
		ASSERT_GE(rnd.repeats, 50, "RANDOM: the same backend twice in a row");
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* --- LEAST_REQUEST: connections held open on one backend --------------- */

struct hold_job {
	const char *addr;
	int port;
	int want;     /* connections to hold on the first backend seen */
	int attempts; /* bound */
};

/* Connect, send a byte, read the name up to EOF; the open socket, or -1. */
static int open_and_ask(const char *addr, int port, char *name, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 3, 0 };
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	name[0] = '\0';
	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    send(fd, "x", 1, MSG_NOSIGNAL) != 1)
		goto fail;
	for (;;) {
		ssize_t r = recv(fd, name + n, len - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == len - 1)
			break;
	}
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	if (name[0])
		return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Hold `want` connections open on one backend (the first one answering),
 * closing those that land elsewhere; print "held N NAME" and keep them
 * until SIGTERM.  The sockets stay open after the server's answer and FIN,
 * so the datapath counts them as active until they are closed.
 */
static int hold_client(void *arg)
{
	const struct hold_job *j = arg;
	char target[32] = "";
	int fds[64], held = 0, tries = 0, sig;
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	while (held < j->want && held < 64 && tries++ < j->attempts) {
		char name[32];
		int fd = open_and_ask(j->addr, j->port, name, sizeof(name));

		if (fd < 0) {
			printf("connection failed: %s\n", strerror(errno));
			continue;
		}
		if (!target[0])
			snprintf(target, sizeof(target), "%s", name);
		if (!strcmp(name, target))
			fds[held++] = fd;
		else
			close(fd);
	}
	printf("held %d %s after %d connections\n", held, target, tries);
	fflush(stdout);
	sigwait(&term, &sig);
	for (int i = 0; i < held; i++)
		close(fds[i]);
	return 0;
}

/* "active" of the backend at addr in `weft -j backend list`; -1 if absent. */
static long long backend_active(const struct sb_agent *a, const char *addr)
{
	struct sb_result r;
	char *obj = NULL;
	long long v;

	if (!sb_weft(&r, a, SB_ARGV("-j", "backend", "list")))
		obj = sb_json_object_with(r.out, "address", addr);
	sb_result_free(&r);
	v = sb_json_int(obj, "active");
	free(obj);
	return v;
}

/*
 * 2. LEAST_REQUEST (no DestinationRule: Istio's default): with 6
 * connections held open on one backend, new connections avoid it.  Two
 * random choices, the less loaded wins: the loaded backend only wins when
 * both choices are it, 1/9 of the time, against 1/3 without the rule.
 */
WEFT_E2E_TEST(e2e_lb_policy_least_request)
{
	struct hold_job job = { "10.96.2.3", 9000, 6, 400 };
	struct sb_tally t = { .addr = "10.96.2.3", .port = 9000, .count = 300, .cpu = -1 };
	char loaded[32] = "", addr[16], *log = NULL;
	struct sb_proc holder;
	struct policy_env e;
	int held = 0;

	if (!policy_up(&e, 3, SB_ARGV("policies.yaml")))
		goto out;
	check_policy(&e.agent, "outbound|9000||lr.default.svc.cluster.local",
		     "least_request");
	if (!ASSERT_OK(sb_spawn_fn(&holder, &e.in_cg, "holder", hold_client, &job),
		       "holder") ||
	    !ASSERT_OK(sb_proc_wait_log(&holder, "held ", 20000), "holder holds"))
		goto out;
	log = sb_proc_log(&holder);
	sscanf(strstr(log, "held "), "held %d %31s", &held, loaded);
	test_log("  %s", strstr(log, "held "));
	if (!ASSERT_EQ(held, 6, "6 connections held open on one backend") ||
	    !ASSERT_EQ(strncmp(loaded, "web-", 4), 0, "held on a web backend"))
		goto out;
	snprintf(addr, sizeof(addr), "10.201.1.%c", loaded[4]);
	ASSERT_EQ(backend_active(&e.agent, addr), 6,
		  "weft backend list: 6 active connections on the loaded backend");

	if (tally_all_ok(&e.in_cg, &t, "300 new connections")) {
		double pct = sb_tally_pct(&t, loaded);

		test_log("  loaded %s got %.1f%% of new connections\n", loaded, pct);
		/* expected 11.1%, sd 1.8 points; 1/3 without least-request */
		ASSERT_LE(pct, 20, "the loaded backend gets at most 20% (percent)");
		for (int i = 1; i <= 3; i++) {
			char name[16];

			snprintf(name, sizeof(name), "web-%d", i);
			if (strcmp(name, loaded))
				ASSERT_GE(sb_tally_pct(&t, name), 30,
					  "each idle backend gets at least 30% (percent)");
		}
	}
	ASSERT_EQ(sb_proc_stop(&holder, SIGTERM, 5000), 0, "holder exits 0");
	ASSERT_TRUE(SB_WAIT_UNTIL(backend_active(&e.agent, addr) == 0, 3000),
		    "active count back to 0 once the held sockets are closed");
out:
	free(log);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* --- consistent hash ------------------------------------------------------ */

/* hash-pods.yaml: Pods ch-<i> at 10.201.1.<i> for every i in mask. */
static int write_hash_pods(const struct sb_agent *a, unsigned int mask)
{
	char text[4096];
	size_t len = 0;

	len += (size_t)snprintf(text + len, sizeof(text) - len,
				"# written by test_lb_policy.c: the Pods behind ch\n");
	for (int i = 1; i <= MAX_WEB; i++) {
		if (!(mask & (1u << (i - 1))))
			continue;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"---\napiVersion: v1\nkind: Pod\n"
			"metadata: {name: ch-%d, namespace: default, labels: {app: ch}}\n"
			"spec: {containers: [{name: testsrv}]}\n"
			"status: {phase: Running, podIP: 10.201.1.%d, "
			"conditions: [{type: Ready, status: \"True\"}]}\n", i, i);
	}
	return sb_agent_write_config(a, "hash-pods.yaml", text);
}

/* Backends of the VIP in `weft -j service list`; -1 when it is absent. */
static int vip_backends(const struct sb_agent *a, const char *vip)
{
	struct sb_result r;
	char *svc = NULL;
	int n;

	if (!sb_weft(&r, a, SB_ARGV("-j", "service", "list")))
		svc = sb_json_object_with(r.out, "vip", vip);
	sb_result_free(&r);
	n = svc ? sb_json_count_after_last(svc, "backends", "address") : -1;
	free(svc);
	return n;
}

/*
 * Every client's backend: 20 connections each, all to one backend (1..4
 * into got[]); false when a client failed or was spread.
 */
static bool clients_backends(struct sb_host clients[], const char *cgroup,
			     int got[], const char *phase)
{
	bool ok = true;

	for (int c = 0; c < NCLIENTS; c++) {
		struct sb_place at = { cgroup, clients[c].netns };
		struct sb_tally t = { .addr = "10.96.2.4", .port = 9000, .count = 20,
				      .cpu = -1 };
		char what[96];

		snprintf(what, sizeof(what), "%s: client %d: 20 connections", phase, c + 1);
		got[c] = 0;
		if (!tally_all_ok(&at, &t, what)) {
			ok = false;
			continue;
		}
		snprintf(what, sizeof(what), "%s: client %d always reaches one backend",
			 phase, c + 1);
		if (!ASSERT_EQ(t.nnames, 1, what) ||
		    !ASSERT_EQ(strncmp(t.names[0], "web-", 4), 0, what)) {
			ok = false;
			continue;
		}
		got[c] = t.names[0][4] - '0';
	}
	return ok;
}

/*
 * 3. consistentHash useSourceIp: 12 client namespaces (one per pod, the
 * hash key) each always reach the same backend; after the busiest of 4
 * backends is removed, its clients move and the others stay.  Maglev
 * promises "about 1/N": rebuilding the table without one backend also
 * moves a few entries of the others (0.2-0.4% for these addresses, so
 * about a 3% chance that one of ~9 staying clients is on such an entry);
 * one such mover is tolerated, two are a failure.
 */
WEFT_E2E_TEST(e2e_lb_policy_consistent_hash)
{
	struct sb_host clients[NCLIENTS];
	int before[NCLIENTS], after[NCLIENTS], per[MAX_WEB + 1] = {};
	int removed = 0, moved_stayers = 0, distinct = 0;
	struct policy_env e;

	if (!policy_up(&e, MAX_WEB, SB_ARGV("hash-svc.yaml")) ||
	    !ASSERT_OK(write_hash_pods(&e.agent, 0xf), "hash-pods.yaml") ||
	    !ASSERT_TRUE(SB_WAIT_UNTIL(vip_backends(&e.agent, "10.96.2.4") == 4, 5000),
			 "4 backends applied"))
		goto out;
	check_policy(&e.agent, "outbound|9000||ch.default.svc.cluster.local", "maglev");
	for (int c = 0; c < NCLIENTS; c++) {
		char what[16], ip[16];

		snprintf(what, sizeof(what), "client-%d", c + 1);
		snprintf(ip, sizeof(ip), "10.201.0.%d", 11 + c);
		if (!ASSERT_OK(sb_host_add(&clients[c], what, ip, NULL), what))
			goto out;
	}

	if (!clients_backends(clients, e.agent.cgroup, before, "4 backends"))
		goto out;
	for (int c = 0; c < NCLIENTS; c++)
		per[before[c]]++;
	for (int b = 1; b <= MAX_WEB; b++) {
		distinct += per[b] > 0;
		if (per[b] > per[removed])
			removed = b;
	}
	test_log("  clients per backend: web-1 %d, web-2 %d, web-3 %d, web-4 %d\n",
		 per[1], per[2], per[3], per[4]);
	ASSERT_GE(distinct, 2, "12 clients are spread over several backends");

	/* The busiest backend goes. */
	if (!ASSERT_OK(write_hash_pods(&e.agent, 0xf & ~(1u << (removed - 1))),
		       "rewrite hash-pods.yaml") ||
	    !ASSERT_TRUE(SB_WAIT_UNTIL(vip_backends(&e.agent, "10.96.2.4") == 3, 5000),
			 "the removal applied"))
		goto out;
	if (!clients_backends(clients, e.agent.cgroup, after, "web removed"))
		goto out;
	for (int c = 0; c < NCLIENTS; c++) {
		test_log("  client-%d: web-%d -> web-%d\n", c + 1, before[c], after[c]);
		if (before[c] == removed)
			ASSERT_NEQ(after[c], removed, "a client of the removed backend moved");
		else
			moved_stayers += after[c] != before[c];
	}
	ASSERT_LE(moved_stayers, 1,
		  "clients of the other backends stay (one Maglev table mover tolerated)");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 4. Overrides: portLevelSettings give port 9001 of one service a
 * consistent hash while 9000 keeps the top-level ROUND_ROBIN; a subset's
 * trafficPolicy gives its cluster a consistent hash while another subset
 * of the same rule keeps ROUND_ROBIN.
 */
WEFT_E2E_TEST(e2e_lb_policy_port_and_subset_override)
{
	static const struct {
		const char *vip;
		int port;
		const char *cluster, *policy;
		bool sticky;
	} cases[] = {
		{ "10.96.2.5", 9000, "outbound|9000||plevel.default.svc.cluster.local",
		  "round_robin", false },
		{ "10.96.2.5", 9001, "outbound|9001||plevel.default.svc.cluster.local",
		  "maglev", true },
		{ "10.96.2.6", 9000, "outbound|9000|sticky|sub.default.svc.cluster.local",
		  "maglev", true },
		{ "10.96.2.7", 9000, "outbound|9000|plain|sub.default.svc.cluster.local",
		  "round_robin", false },
	};
	struct policy_env e;

	if (!policy_up(&e, 3, SB_ARGV("policies.yaml")))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sb_tally t = { .addr = cases[i].vip, .port = cases[i].port,
				      .count = 150, .cpu = 0 };
		char what[200];

		check_policy(&e.agent, cases[i].cluster, cases[i].policy);
		snprintf(what, sizeof(what), "%s:%d (%s)", cases[i].vip, cases[i].port,
			 cases[i].policy);
		if (!tally_all_ok(&e.in_cg, &t, what))
			continue;
		if (cases[i].sticky) {
			ASSERT_EQ(t.nnames, 1, "consistent hash: one backend for the client");
		} else {
			spread_within(&t, 3, 45, 55, what);
			ASSERT_EQ(t.repeats, 0, "round robin: a rotation");
		}
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* "weight" of the first backend at addr in a service of the CLI's JSON. */
static long long backend_weight(const char *svc, const char *addr)
{
	char *be = svc ? sb_json_object_with(svc, "address", addr) : NULL;
	long long w = sb_json_int(be, "weight");

	free(be);
	return w;
}

/* 5. WorkloadEntry weights 3 and 1: 75% / 25% of 3000 connections. */
WEFT_E2E_TEST(e2e_lb_policy_workload_entry_weight)
{
	struct sb_tally t = { .addr = "10.96.2.8", .port = 9000, .count = 3000, .cpu = -1 };
	struct sb_result r = {};
	struct policy_env e;
	char *svc = NULL;

	if (!policy_up(&e, 3, SB_ARGV("policies.yaml")))
		goto out;
	sb_weft(&r, &e.agent, SB_ARGV("-j", "service", "list"));
	svc = sb_json_object_with(r.out, "vip", "10.96.2.8");
	ASSERT_EQ(backend_weight(svc, "10.201.1.1"), 3,
		  "weft service list: vm-1 (10.201.1.1) weighs 3");
	ASSERT_EQ(backend_weight(svc, "10.201.1.2"), 1,
		  "weft service list: vm-2 (10.201.1.2) weighs 1");
	if (tally_all_ok(&e.in_cg, &t, "3000 connections")) {
		double pct = sb_tally_pct(&t, "web-1");

		test_log("  weight 3: %.2f%%, weight 1: %.2f%%\n", pct,
			 sb_tally_pct(&t, "web-2"));
		/* sd = sqrt(.75 * .25 / 3000) = 0.79 points: 3 is 3.8 sd */
		ASSERT_GE(pct, 72, "weight 3 of 4: at least 72% (percent)");
		ASSERT_LE(pct, 78, "weight 3 of 4: at most 78% (percent)");
		ASSERT_EQ(sb_tally_hits(&t, "web-3"), 0, "web-3 is not an endpoint");
	}
out:
	free(svc);
	sb_result_free(&r);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
