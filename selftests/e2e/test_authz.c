// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * AuthorizationPolicy end to end: workloads in four namespaces with their
 * own service accounts (selftests/data/e2e/authz-*.yaml), servers inside
 * the agent's cgroup so the destination enforces, clients both outside the
 * cgroup (a client that does not run weft: its SYN is dropped at the
 * destination) and inside it (a weft client whose namespace the agent
 * knows: connect() fails with EACCES).  Every case is also put to
 * `weft policy explain`, which must predict what the datapath did, and to
 * `weft monitor`, which must report each deny with its policy and reason.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AZ_PORT_OPEN 8080
#define AZ_PORT_OTHER 9090
#define AZ_PORT_MESH_DENIED 7070
#define AZ_PORT_UDP 5353
/* A SYN the destination drops is retried after 1 s: a connect() still
 * pending after this long was not answered. */
#define AZ_SYN_WAIT_MS 700

enum az_host { AZ_FE, AZ_BATCH, AZ_EXT, AZ_API, AZ_DB, AZ_SHOP, AZ_NHOSTS };

static const struct {
	const char *what, *ip4;
} az_hosts[AZ_NHOSTS] = {
	[AZ_FE] = { "fe", "10.201.0.2" },
	[AZ_BATCH] = { "batch", "10.201.0.3" },
	[AZ_EXT] = { "ext", "10.201.0.9" },
	[AZ_API] = { "api-1", "10.201.1.1" },
	[AZ_DB] = { "db-1", "10.201.1.2" },
	[AZ_SHOP] = { "shop-1", "10.201.1.3" },
};

struct az_case {
	enum az_host from, to;
	int port;
	bool allow;
	const char *reason;  /* policy_reason_name() */
	const char *policy;  /* deciding policy ns/name, NULL: none */
	bool audit;
};

/* The verdicts of authz-policies.yaml (explain must agree with each). */
static const struct az_case az_cases[] = {
	/* allow by namespace, deny by principal, ports */
	{ AZ_FE, AZ_API, AZ_PORT_OPEN, true, "allow-match", "backend/allow-namespaces", false },
	{ AZ_BATCH, AZ_API, AZ_PORT_OPEN, false, "deny-match", "backend/deny-batch", false },
	{ AZ_FE, AZ_API, AZ_PORT_OTHER, false, "no-allow-match", NULL, false },
	{ AZ_EXT, AZ_API, AZ_PORT_OPEN, false, "no-allow-match", NULL, false },
	/* ipBlocks / notIpBlocks, AUDIT does not block */
	{ AZ_FE, AZ_DB, AZ_PORT_OPEN, true, "allow-match", "db/allow-subnet", true },
	{ AZ_BATCH, AZ_DB, AZ_PORT_OPEN, false, "no-allow-match", NULL, false },
	{ AZ_EXT, AZ_DB, AZ_PORT_OPEN, true, "allow-match", "db/allow-subnet", false },
	/* root-namespace DENY wins over a namespace ALLOW */
	{ AZ_EXT, AZ_DB, AZ_PORT_MESH_DENIED, false, "deny-match", "istio-system/deny-7070", false },
	/* an ALLOW needing L7 fields never matches at L4 */
	{ AZ_FE, AZ_SHOP, AZ_PORT_OPEN, false, "allow-l7-only", "shop/allow-get", false },
};
#define AZ_NCASES (sizeof(az_cases) / sizeof(az_cases[0]))

struct az_env {
	struct sb_host host[AZ_NHOSTS];
	struct sb_proc srv[AZ_NHOSTS];
	struct sb_agent agent;
};

static bool az_is_server(enum az_host h)
{
	return h == AZ_API || h == AZ_DB || h == AZ_SHOP;
}

/*
 * Hosts, servers in the agent's cgroup (where the ingress program sees
 * their listeners), weftd with the workloads and the policies; with udp,
 * the servers answer UDP too and the node authorizes UDP (authorizeUdp).
 */
static bool az_up_with(struct az_env *e, bool udp)
{
	static const int ports[] = { AZ_PORT_OPEN, AZ_PORT_OTHER,
				     AZ_PORT_MESH_DENIED, 0 };
	static const char *const configs[] = { "authz-workloads.yaml",
					       "authz-policies.yaml", NULL };
	int err = sb_init();

	if (err == -EPERM) {
		test_skip("needs root");
		return false;
	}
	if (!ASSERT_OK(err, "sandbox"))
		return false;
	for (int h = 0; h < AZ_NHOSTS; h++)
		if (!ASSERT_OK(sb_host_add(&e->host[h], az_hosts[h].what,
					   az_hosts[h].ip4, NULL),
			       az_hosts[h].what))
			return false;
	if (!ASSERT_OK(sb_agent_init(&e->agent, "node", e->host[AZ_FE].netns,
				     15020), "agent init"))
		return false;
	for (const char *const *c = configs; *c; c++)
		if (!ASSERT_OK(sb_agent_config(&e->agent, *c, NULL), *c))
			return false;
	if (udp) {
		char *node;
		int err;

		if (!ASSERT_OK(sb_agent_node_config(&e->agent), "node config"))
			return false;
		node = sb_read_file(e->agent.node_config);
		err = node ? 0 : -ENOMEM;
		if (!err) {
			char *text = NULL;

			err = asprintf(&text, "%sauthorizeUdp: true\n", node) < 0 ?
				      -ENOMEM :
				      sb_write_file(e->agent.node_config, text);
			free(text);
		}
		free(node);
		if (!ASSERT_OK(err, "authorizeUdp"))
			return false;
	}
	for (int h = 0; h < AZ_NHOSTS; h++)
		if (az_is_server(h) &&
		    !ASSERT_OK(sb_testsrv_start_in(&e->srv[h], &e->host[h],
						   e->agent.cgroup,
						   az_hosts[h].what, ports,
						   udp ? AZ_PORT_UDP : 0),
			       "testsrv"))
			return false;
	return ASSERT_OK(sb_agent_start(&e->agent, NULL), "weftd");
}

static bool az_up(struct az_env *e)
{
	return az_up_with(e, false);
}

struct az_ask {
	const char *addr;
	int port;
	int timeout_ms;
};

/* In the sandbox: one exchange; prints the answer, returns the errno. */
static int az_ask_fn(void *arg)
{
	const struct az_ask *q = arg;
	char name[64];
	int err = sb_tcp_ask(q->addr, q->port, "x", 1, true, q->timeout_ms,
			     name, sizeof(name), NULL);

	printf("%s", err ? "" : name);
	return -err;
}

/* errno of one connection from `from` at its place, the answer in r. */
static int az_ask(struct sb_result *r, const struct sb_place *at,
		  const char *addr, int port)
{
	struct az_ask q = { addr, port, AZ_SYN_WAIT_MS };

	return sb_call(r, at, 5000, az_ask_fn, &q);
}

/* What `weft policy explain` says about c, as "verdict reason policy". */
static void az_explain(const struct az_env *e, const struct az_case *c,
		       char *out, size_t len)
{
	const char *const args[] = {
		"-j", "policy", "explain", "-d", e->agent.config_dir,
		"--from", az_hosts[c->from].ip4, "--to", az_hosts[c->to].ip4,
		"--port", c->port == AZ_PORT_OPEN ? "8080" :
			  c->port == AZ_PORT_OTHER ? "9090" : "7070",
		NULL
	};
	struct sb_result r = {};
	char *obj;

	snprintf(out, len, "(explain failed)");
	if (sb_weft(&r, &e->agent, args) != 0) {
		test_log("weft policy explain: %s%s\n", r.out, r.err);
		sb_result_free(&r);
		return;
	}
	obj = sb_json_object_with(r.out, "reason", c->reason);
	snprintf(out, len, "%s", obj ? obj : r.out);
	free(obj);
	sb_result_free(&r);
}

static void az_check_explain(const struct az_env *e, const struct az_case *c,
			     const char *label)
{
	char got[4096], want[256];

	az_explain(e, c, got, sizeof(got));
	snprintf(want, sizeof(want), "\"verdict\":\"%s\",\"reason\":\"%s\"",
		 c->allow ? "allow" : "deny", c->reason);
	ASSERT_HAS(got, want, label);
	if (c->policy) {
		snprintf(want, sizeof(want), "\"policy\":\"%s\"", c->policy);
		ASSERT_HAS(got, want, label);
	}
	snprintf(want, sizeof(want), "\"audit\":%s", c->audit ? "true" : "false");
	ASSERT_HAS(got, want, label);
}

static void az_label(char *buf, size_t len, const struct az_case *c,
		     const char *point)
{
	snprintf(buf, len, "%s: %s -> %s:%d (%s)", point,
		 az_hosts[c->from].what, az_hosts[c->to].what, c->port,
		 c->reason);
}

/*
 * A client that does not run weft: outside the agent's cgroup.  The
 * destination decides on the SYN: allowed cases are answered by the
 * server, denied ones never connect.
 */
WEFT_E2E_TEST(e2e_authz_inbound_enforced_and_explained)
{
	struct sb_proc monitor;
	struct az_env e;
	char *events = NULL;

	if (!az_up(&e))
		goto out;
	{
		const char *const margs[] = { "-j", "monitor", "--timeout", "60",
					      NULL };
		char bin[PATH_MAX];
		const char *argv[16];
		int n = 0;

		ASSERT_OK(sb_bin(bin, sizeof(bin), "weft"), "weft built");
		argv[n++] = bin;
		argv[n++] = "-p";
		argv[n++] = e.agent.pin_dir;
		for (const char *const *m = margs; *m; m++)
			argv[n++] = *m;
		argv[n] = NULL;
		if (!ASSERT_OK(sb_spawn(&monitor, NULL, "monitor", argv),
			       "weft monitor"))
			goto out;
	}
	sb_sleep_ms(300); /* the monitor attaches to the ring buffer */

	for (size_t i = 0; i < AZ_NCASES; i++) {
		const struct az_case *c = &az_cases[i];
		struct sb_place at = { NULL, e.host[c->from].netns };
		struct sb_result r = {};
		char label[128];
		int err;

		az_label(label, sizeof(label), c, "inbound");
		err = az_ask(&r, &at, az_hosts[c->to].ip4, c->port);
		if (c->allow) {
			ASSERT_EQ(err, 0, label);
			ASSERT_STREQ(r.out, az_hosts[c->to].what, label);
		} else {
			/* the SYN went unanswered: timed out, not refused */
			ASSERT_TRUE(err == EINPROGRESS || err == ETIMEDOUT,
				    label);
			test_log("%s: errno %d\n", label, err);
		}
		sb_result_free(&r);
		az_check_explain(&e, c, label);
	}

	/*
	 * Counters: one SYN per case (the client gives up before the SYN is
	 * retried), so every deciding policy counted exactly its cases.
	 */
	{
		struct sb_result r = {};
		static const struct {
			const char *ns, *policy, *action, *audit;
			long long n;
		} want[] = {
			{ "backend", "allow-namespaces", "allow", "false", 1 },
			{ "backend", "deny-batch", "deny", "false", 1 },
			{ "db", "allow-subnet", "allow", "false", 2 },
			{ "db", "audit-frontend", "allow", "true", 1 },
			{ "istio-system", "deny-7070", "deny", "false", 1 },
			{ "shop", "allow-get", "deny", "false", 1 },
			{ "", "", "deny", "false", 3 }, /* no-allow-match */
		};

		if (ASSERT_EQ(sb_agent_http(&r, &e.agent, "/metrics"), 200,
			      "scrape"))
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
				char l[4][96];
				const char *const labels[] = { l[0], l[1], l[2],
							       l[3], NULL };

				snprintf(l[0], sizeof(l[0]),
					 "policy_namespace=\"%s\"", want[i].ns);
				snprintf(l[1], sizeof(l[1]), "policy=\"%s\"",
					 want[i].policy);
				snprintf(l[2], sizeof(l[2]), "action=\"%s\"",
					 want[i].action);
				snprintf(l[3], sizeof(l[3]), "audit=\"%s\"",
					 want[i].audit);
				ASSERT_EQ(sb_prom_sum(r.out,
						      "weft_policy_connections_total",
						      labels),
					  want[i].n, want[i].policy[0] ?
							     want[i].policy :
							     "no policy");
			}
		sb_result_free(&r);
	}

	sb_sleep_ms(300);
	sb_proc_stop(&monitor, SIGTERM, 2000);
	events = sb_proc_log(&monitor);
	if (!ASSERT_TRUE(events != NULL, "monitor output"))
		goto out;
	for (size_t i = 0; i < AZ_NCASES; i++) {
		const struct az_case *c = &az_cases[i];
		char want[256], label[128];

		if (c->allow && !c->audit)
			continue;
		az_label(label, sizeof(label), c, "monitor");
		snprintf(want, sizeof(want),
			 "\"src\":\"%s\"", az_hosts[c->from].ip4);
		ASSERT_HAS(events, want, label);
		snprintf(want, sizeof(want), "\"dst\":\"%s\",\"dport\":%d",
			 az_hosts[c->to].ip4, c->port);
		ASSERT_HAS(events, want, label);
		snprintf(want, sizeof(want), "\"reason\":\"%s\"", c->reason);
		ASSERT_HAS(events, want, label);
		if (c->policy) {
			snprintf(want, sizeof(want), "\"policy\":\"%s\"",
				 c->policy);
			ASSERT_HAS(events, want, label);
		}
	}
out:
	free(events);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * A weft client: inside the cgroup, its namespace known to the agent, so
 * a denied connect() fails at once with EACCES, also through a VIP (the
 * policy is the backend's).
 */
WEFT_E2E_TEST(e2e_authz_connect_eacces)
{
	struct az_env e;

	if (!az_up(&e))
		goto out;
	for (size_t i = 0; i < AZ_NCASES; i++) {
		const struct az_case *c = &az_cases[i];
		struct sb_place at = { e.agent.cgroup, e.host[c->from].netns };
		struct sb_result r = {};
		char label[128];
		int err;

		az_label(label, sizeof(label), c, "connect");
		err = az_ask(&r, &at, az_hosts[c->to].ip4, c->port);
		if (c->allow) {
			ASSERT_EQ(err, 0, label);
			ASSERT_STREQ(r.out, az_hosts[c->to].what, label);
		} else {
			ASSERT_EQ(err, EACCES, label);
		}
		sb_result_free(&r);
	}
	{
		struct sb_place fe = { e.agent.cgroup, e.host[AZ_FE].netns };
		struct sb_place batch = { e.agent.cgroup, e.host[AZ_BATCH].netns };
		struct sb_result r = {};

		ASSERT_EQ(az_ask(&r, &fe, "10.96.0.20", 80), 0, "fe via VIP");
		ASSERT_STREQ(r.out, "api-1", "fe via VIP reaches api-1");
		sb_result_free(&r);
		ASSERT_EQ(az_ask(&r, &batch, "10.96.0.20", 80), EACCES,
			  "batch via VIP: denied by the backend's policy");
		sb_result_free(&r);
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* Bump the generation by writing `text` as authz-policies.yaml. */
static bool az_policies_write(struct az_env *e, const char *text)
{
	return ASSERT_OK(sb_agent_apply_config(&e->agent, "authz-policies.yaml",
					       text, 5000),
			 "policies applied");
}

struct az_hold {
	const char *addr;
	int port;
};

/*
 * In the sandbox: connect and wait, sending nothing (testsrv answers only
 * after input or EOF, so the connection stays open up to its idle time),
 * for up to 8 s.  Prints "open" once connected; returns the errno of the
 * first read, 0 for data or EOF, ETIMEDOUT when nothing happened.
 */
static int az_hold_fn(void *arg)
{
	const struct az_hold *q = arg;
	char buf[64];
	int err;

	err = sb_tcp_ask(q->addr, q->port, NULL, 0, false, 8000, buf,
			 sizeof(buf), NULL);
	return -err;
}

/*
 * A policy change applies to the next connection at once, and closes an
 * open connection it now denies (as ztunnel does).
 */
WEFT_E2E_TEST(e2e_authz_live_change)
{
	static const char *const deny_fe_on_db =
		"apiVersion: security.istio.io/v1\n"
		"kind: AuthorizationPolicy\n"
		"metadata: {name: deny-frontend, namespace: db}\n"
		"spec:\n"
		"  action: DENY\n"
		"  rules: [{from: [{source: {namespaces: [frontend]}}]}]\n";
	struct az_hold hold = { "10.201.1.2", AZ_PORT_OPEN };
	struct sb_proc holder;
	struct az_env e;
	char *policies = NULL, path[PATH_MAX];

	if (!az_up(&e))
		goto out;
	{
		struct sb_place batch = { NULL, e.host[AZ_BATCH].netns };
		struct sb_result r = {};

		ASSERT_NEQ(az_ask(&r, &batch, "10.201.1.1", AZ_PORT_OPEN), 0,
			  "batch -> api-1 denied before");
		sb_result_free(&r);
	}
	/* an open connection fe -> db-1, allowed now */
	{
		struct sb_place fe = { NULL, e.host[AZ_FE].netns };

		if (!ASSERT_OK(sb_spawn_fn(&holder, &fe, "holder", az_hold_fn,
					   &hold), "holder"))
			goto out;
		sb_sleep_ms(300);
	}
	/* drop deny-batch, add a DENY of frontend on db */
	sb_data(path, sizeof(path), "authz-policies.yaml");
	policies = sb_read_file(path);
	if (!ASSERT_TRUE(policies != NULL, "read policies"))
		goto out;
	{
		char *start = strstr(policies, "metadata: {name: deny-batch");
		char *doc = start ? strstr(start, "---\n") : NULL;
		char *prev = start;
		char *text;

		while (prev && prev > policies && strncmp(prev, "---\n", 4))
			prev--;
		if (!ASSERT_TRUE(doc && prev, "deny-batch document"))
			goto out;
		memmove(prev, doc, strlen(doc) + 1);
		if (asprintf(&text, "%s---\n%s", policies, deny_fe_on_db) < 0)
			goto out;
		free(policies);
		policies = text;
	}
	if (!az_policies_write(&e, policies))
		goto out;
	{
		struct sb_place batch = { NULL, e.host[AZ_BATCH].netns };
		struct sb_place fe = { NULL, e.host[AZ_FE].netns };
		struct sb_result r = {};

		ASSERT_EQ(az_ask(&r, &batch, "10.201.1.1", AZ_PORT_OPEN), 0,
			  "batch -> api-1 allowed after deny-batch is gone");
		ASSERT_STREQ(r.out, "api-1", "answered");
		sb_result_free(&r);
		ASSERT_NEQ(az_ask(&r, &fe, "10.201.1.2", AZ_PORT_OPEN), 0,
			  "fe -> db-1 denied by the new DENY");
		sb_result_free(&r);
	}
	/* the open connection was closed by the agent: reset, not idle */
	ASSERT_EQ(sb_proc_wait_exit(&holder, 5000), ECONNRESET,
		  "open fe -> db-1 connection reset by the new DENY");
	{
		struct sb_result r = {};

		if (ASSERT_EQ(sb_agent_http(&r, &e.agent, "/metrics"), 200,
			      "scrape"))
			ASSERT_EQ(sb_prom_sum(r.out,
					      "weft_policy_connections_closed_total",
					      NULL),
				  1, "one open connection closed, counted");
		sb_result_free(&r);
	}
out:
	free(policies);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

struct az_datagram {
	const char *addr;
	int port;
};

/* In the sandbox: one datagram out, the answer (within 500 ms) printed;
 * returns 0, or ETIMEDOUT when nothing came back. */
static int az_datagram_fn(void *arg)
{
	const struct az_datagram *q = arg;
	struct timeval tv = { 0, 500 * 1000 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)q->port) };
	char buf[64];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, q->addr, &sin.sin_addr) != 1)
		return EINVAL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)) != 1)
		return errno;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return errno == EAGAIN ? ETIMEDOUT : errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("%s", buf);
	return 0;
}

/*
 * UDP when the node authorizes it (authorizeUdp: true; Istio itself
 * authorizes TCP only): every datagram reaching a served workload is
 * decided, a denied one dropped, and explain (given the same node
 * config) predicts each outcome.
 */
WEFT_E2E_TEST(e2e_authz_udp_when_enabled)
{
	static const struct az_case udp_cases[] = {
		{ AZ_FE, AZ_DB, AZ_PORT_UDP, true, "allow-match", "db/allow-subnet", true },
		{ AZ_BATCH, AZ_DB, AZ_PORT_UDP, false, "no-allow-match", NULL, false },
		{ AZ_FE, AZ_API, AZ_PORT_UDP, false, "no-allow-match", NULL, false },
		{ AZ_BATCH, AZ_API, AZ_PORT_UDP, false, "deny-match", "backend/deny-batch", false },
	};
	struct az_env e;

	if (!az_up_with(&e, true))
		goto out;
	for (size_t i = 0; i < sizeof(udp_cases) / sizeof(udp_cases[0]); i++) {
		const struct az_case *c = &udp_cases[i];
		struct sb_place at = { NULL, e.host[c->from].netns };
		struct az_datagram q = { az_hosts[c->to].ip4, c->port };
		const char *const args[] = {
			"-j", "policy", "explain", "--from", az_hosts[c->from].ip4,
			"--to", az_hosts[c->to].ip4, "--port", "5353",
			"--proto", "udp", NULL
		};
		struct sb_result r = {};
		char label[128], want[160];
		int err;

		az_label(label, sizeof(label), c, "udp");
		err = sb_call(&r, &at, 5000, az_datagram_fn, &q);
		if (c->allow) {
			ASSERT_EQ(err, 0, label);
			ASSERT_STREQ(r.out, az_hosts[c->to].what, label);
		} else {
			ASSERT_EQ(err, ETIMEDOUT, label);
		}
		sb_result_free(&r);
		if (!ASSERT_EQ(sb_weft(&r, &e.agent, args), 0, "explain"))
			test_log("%s%s\n", r.out, r.err);
		snprintf(want, sizeof(want),
			 "\"verdict\":\"%s\",\"reason\":\"%s\"",
			 c->allow ? "allow" : "deny", c->reason);
		ASSERT_HAS(r.out, want, label);
		sb_result_free(&r);
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
