// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: socket load balancing through one weftd.  Each test builds
 * the same sandbox (selftests/data/e2e/README.md): a client host and three
 * backends web-1..3 running testsrv, one agent whose cgroup the clients
 * join, then talks to VIPs with real clients (curl, socat) and small C
 * snippets run inside the cgroup and the client namespace.
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

#define NWEB 3
#define WEB_TCP 8080
#define WEB_UDP 5353
#define VIP_WEB "10.96.0.10"
#define VIP_UDP "10.96.0.20"
#define VIP_WEB6 "fd00:96::10"
#define VIP_NOBODY "10.96.0.30"

struct lb_env {
	struct sb_host client, web[NWEB];
	struct sb_proc srv[NWEB];
	struct sb_agent agent;
	struct sb_place in_cg;  /* client namespace, agent's cgroup */
	struct sb_place out_cg; /* client namespace, test's own cgroup */
};

/*
 * Build the sandbox and start weftd on the given data files.  False when
 * the test cannot go on (failed, or skipped when not root); the caller
 * still runs sb_teardown().
 */
static bool lb_up(struct lb_env *e, const char *const configs[])
{
	memset(e, 0, sizeof(*e));
	if (!sb_web_up(&e->client, e->web, e->srv, NWEB, true, WEB_TCP,
		       WEB_UDP) ||
	    !sb_agent_up(&e->agent, e->client.netns, configs))
		return false;
	e->in_cg = (struct sb_place){ e->agent.cgroup, e->client.netns };
	e->out_cg = (struct sb_place){ NULL, e->client.netns };
	return true;
}

/* Index of backend "web-N" in body, -1 for anything else. */
static int web_index(const char *body)
{
	if (strncmp(body, "web-", 4) || body[4] < '1' || body[4] > '0' + NWEB ||
	    body[5])
		return -1;
	return body[4] - '1';
}

/*
 * n GETs of url from `at`, one curl each.  Counts answers per backend in
 * hits[]; returns how many requests failed or got something else.
 */
static int tally(const struct sb_place *at, const char *url, int n,
		 int hits[NWEB])
{
	int bad = 0;

	memset(hits, 0, NWEB * sizeof(hits[0]));
	for (int i = 0; i < n; i++) {
		struct sb_result r;
		int idx;

		sb_curl(&r, at, url);
		idx = r.status == 0 ? web_index(r.out) : -1;
		if (idx >= 0) {
			hits[idx]++;
		} else if (bad++ < 3) {
			printf("%s: GET %s: curl status %d, body \"%s\", %s",
			       test_name(), url, r.status, r.out, r.err);
		}
		sb_result_free(&r);
	}
	test_log("  %d x %s: web-1 %d, web-2 %d, web-3 %d, failed %d\n", n, url,
		 hits[0], hits[1], hits[2], bad);
	return bad;
}

/* --- C clients, run by sb_call() inside the cgroup and namespace -------- */

struct peer {
	const char *addr; /* numeric, v4 or v6 (v4-mapped allowed) */
	int port;
};

static socklen_t peer_sockaddr(const struct peer *p, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, p->addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p->port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, p->addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p->port);
		return sizeof(*sin6);
	}
	return 0;
}

/* "addr:port" of a socket address, v6 as [addr]:port. */
static const char *sockaddr_str(const struct sockaddr_storage *ss, char *buf,
				size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%d", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%d", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "family %d", ss->ss_family);
	}
	return buf;
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * TCP: connect to the peer, print "peer <getpeername>" and the backend's
 * answer to an HTTP request.  Exit 0, or 1 with the reason printed.
 */
static int tcp_peer_client(void *arg)
{
	const struct peer *p = arg;
	struct sockaddr_storage ss, got;
	socklen_t len = peer_sockaddr(p, &ss), glen = sizeof(got);
	char buf[512], name[80];
	ssize_t n;
	int fd;

	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	set_timeouts(fd, 3000);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		printf("connect %s:%d: %s\n", p->addr, p->port, strerror(errno));
		return 1;
	}
	if (getpeername(fd, (struct sockaddr *)&got, &glen)) {
		printf("getpeername: %s\n", strerror(errno));
		return 1;
	}
	printf("peer %s\n", sockaddr_str(&got, name, sizeof(name)));
	if (send(fd, "GET / HTTP/1.0\r\n\r\n", 18, 0) != 18) {
		printf("send: %s\n", strerror(errno));
		return 1;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
	buf[n > 0 ? n : 0] = '\0';
	printf("answer %s", strstr(buf, "\r\n\r\n") ? strstr(buf, "\r\n\r\n") + 4 : "none\n");
	close(fd);
	return 0;
}

/*
 * Connect to the VIP of a service without backends; print the errno and
 * the milliseconds connect() took.
 */
static int refused_client(void *arg)
{
	const struct peer *p = arg;
	struct sockaddr_storage ss;
	socklen_t len = peer_sockaddr(p, &ss);
	long start;
	int fd, rc, err;

	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	set_timeouts(fd, 5000);
	start = sb_now_ms();
	rc = connect(fd, (struct sockaddr *)&ss, len);
	err = rc ? errno : 0;
	printf("errno %d ms %ld (%s)\n", err, sb_now_ms() - start,
	       rc ? strerror(err) : "connected");
	close(fd);
	return 0;
}

/*
 * UDP: `rounds` request/reply exchanges with the VIP on one socket, either
 * unconnected (sendto/recvfrom) or connected (send/recvfrom).  Prints one
 * line per reply: "<backend name> from <source address>".
 */
struct udp_job {
	struct peer vip;
	bool connected;
	int rounds;
};

static int udp_client(void *arg)
{
	const struct udp_job *j = arg;
	struct sockaddr_storage ss;
	socklen_t len = peer_sockaddr(&j->vip, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);

	set_timeouts(fd, 2000);
	if (j->connected && connect(fd, (struct sockaddr *)&ss, len)) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < j->rounds; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		char buf[128], name[80];
		ssize_t n;

		if ((j->connected ? send(fd, "ping\n", 5, 0) :
				    sendto(fd, "ping\n", 5, 0, (struct sockaddr *)&ss,
					   len)) != 5) {
			printf("send: %s\n", strerror(errno));
			return 1;
		}
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
			     &flen);
		if (n < 0) {
			printf("recvfrom: %s\n", strerror(errno));
			return 1;
		}
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		printf("%s from %s\n", buf, sockaddr_str(&from, name, sizeof(name)));
	}
	close(fd);
	return 0;
}

/* Check udp_client output: every reply from `want_from`, by a backend. */
static void check_udp(const struct sb_place *at, const struct udp_job *j,
		      const char *want_from, const char *what)
{
	int lines = 0, hits[NWEB] = {};
	struct sb_result r;

	sb_call(&r, at, 15000, udp_client, (void *)j);
	ASSERT_EQ(r.status, 0, what);
	for (char *l = strtok(r.out, "\n"); l; l = strtok(NULL, "\n")) {
		char name[32] = "", from[80] = "";
		int idx;

		lines++;
		if (sscanf(l, "%31s from %79s", name, from) != 2) {
			test_fail(__FILE__, __LINE__, "%s: unexpected \"%s\"",
				  what, l);
			continue;
		}
		idx = web_index(name);
		if (ASSERT_GE(idx, 0, what))
			hits[idx]++;
		ASSERT_STREQ(from, want_from, what);
	}
	ASSERT_EQ(lines, j->rounds, what);
	test_log("  %s: web-1 %d, web-2 %d, web-3 %d\n", what, hits[0], hits[1],
		 hits[2]);
	sb_result_free(&r);
}

/* --- the tests ----------------------------------------------------------- */

/* 1. Three backends behind a TCP VIP; direct traffic untouched. */
WEFT_E2E_TEST(e2e_lb_tcp_three_backends)
{
	struct sb_result r = {};
	char *svc = NULL, *st = NULL;
	struct lb_env e;
	int hits[NWEB];

	if (!lb_up(&e, SB_ARGV("web.yaml")))
		goto out;

	ASSERT_EQ(tally(&e.in_cg, "http://" VIP_WEB "/", 60, hits), 0,
		  "60 GETs via the VIP all answered by a backend");
	for (int i = 0; i < NWEB; i++)
		ASSERT_GE(hits[i], 1, "every backend seen");

	sb_curl(&r, &e.in_cg, "http://10.201.1.2:8080/");
	ASSERT_EQ(r.status, 0, "direct curl to web-2");
	ASSERT_STREQ(r.out, "web-2", "direct curl answered by web-2 itself");
	sb_result_free(&r);

	sb_weft(&r, &e.agent, SB_ARGV("-j", "service", "list"));
	ASSERT_EQ(r.status, 0, "weft -j service list");
	svc = sb_json_object_with(r.out, "vip", VIP_WEB);
	if (ASSERT_NOT_NULL(svc, "service list has the web VIP")) {
		ASSERT_EQ(sb_json_int(svc, "port"), 80, "service port");
		ASSERT_HAS(svc, "\"protocol\":\"tcp\"", "service protocol");
		ASSERT_EQ(sb_json_count_after_last(svc, "backends", "address"),
			  NWEB, "three backends");
		ASSERT_HAS(svc, "\"address\":\"10.201.1.1\",\"port\":8080",
			   "backend address and port");
		ASSERT_HAS(svc, "\"workload\":\"default/web-1\"",
			   "backend workload from the EndpointSlice targetRef");
	}
	sb_result_free(&r);

	sb_weft(&r, &e.agent, SB_ARGV("-j", "stats"));
	ASSERT_EQ(r.status, 0, "weft -j stats");
	st = sb_json_object_with(r.out, "vip", VIP_WEB);
	ASSERT_GE(sb_json_int(st, "connects"), 60, "stats: connects of web");
	ASSERT_GE(sb_json_int(r.out, "lb_hit"), 60, "stats: lb_hit counter");
	sb_result_free(&r);
out:
	free(svc);
	free(st);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* 2. UDP through the VIP: replies come back, and from the VIP. */
WEFT_E2E_TEST(e2e_lb_udp)
{
	struct udp_job unconn = { { VIP_UDP, 53 }, false, 12 };
	struct udp_job conn = { { VIP_UDP, 53 }, true, 6 };
	struct sb_result r = {};
	struct lb_env e;
	int ok = 0;

	if (!lb_up(&e, SB_ARGV("web.yaml", "echo-udp.yaml")))
		goto out;

	/* socat's UDP-SENDTO uses sendto/recvfrom and drops datagrams that do
	 * not come from the address it sent to: an answer proves the source
	 * was rewritten to the VIP. */
	for (int i = 0; i < 5; i++) {
		sb_run(&r, &e.in_cg, "ping\n", 10000,
		       SB_ARGV("socat", "-t", "2", "-T", "3", "-",
			       "UDP-SENDTO:" VIP_UDP ":53"));
		ok += r.status == 0 && web_index(strtok(r.out, "\n") ?: "") >= 0;
		if (r.status)
			printf("socat UDP-SENDTO: status %d: %s", r.status, r.err);
		sb_result_free(&r);
	}
	ASSERT_EQ(ok, 5, "socat UDP-SENDTO via the VIP: every datagram answered");

	ok = 0;
	for (int i = 0; i < 5; i++) {
		sb_run(&r, &e.in_cg, "ping\n", 10000,
		       SB_ARGV("socat", "-t", "2", "-T", "3", "-",
			       "UDP:" VIP_UDP ":53"));
		ok += r.status == 0 && web_index(strtok(r.out, "\n") ?: "") >= 0;
		if (r.status)
			printf("socat UDP: status %d: %s", r.status, r.err);
		sb_result_free(&r);
	}
	ASSERT_EQ(ok, 5, "socat connected UDP via the VIP: every datagram answered");

	check_udp(&e.in_cg, &unconn, VIP_UDP ":53", "unconnected UDP, recvfrom source");
	check_udp(&e.in_cg, &conn, VIP_UDP ":53", "connected UDP, recvfrom source");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* 3. IPv6 VIP with IPv6 backends; IPv4 VIP reached as ::ffff:a.b.c.d. */
WEFT_E2E_TEST(e2e_lb_ipv6)
{
	struct udp_job mapped_udp = { { "::ffff:" VIP_UDP, 53 }, false, 6 };
	struct lb_env e;
	int hits[NWEB];

	if (!lb_up(&e, SB_ARGV("web.yaml", "web6.yaml", "echo-udp.yaml")))
		goto out;

	ASSERT_EQ(tally(&e.in_cg, "http://[" VIP_WEB6 "]/", 30, hits), 0,
		  "30 GETs via the IPv6 VIP");
	for (int i = 0; i < NWEB; i++)
		ASSERT_GE(hits[i], 1, "every IPv6 backend seen");

	ASSERT_EQ(tally(&e.in_cg, "http://[::ffff:" VIP_WEB "]/", 30, hits), 0,
		  "30 GETs via the v4-mapped VIP on AF_INET6 sockets");
	for (int i = 0; i < NWEB; i++)
		ASSERT_GE(hits[i], 1, "every backend seen via v4-mapped");

	check_udp(&e.in_cg, &mapped_udp, "[::ffff:" VIP_UDP "]:53",
		  "v4-mapped unconnected UDP, recvfrom source");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* 4. getpeername() on a translated socket shows the VIP, not the backend. */
WEFT_E2E_TEST(e2e_lb_getpeername)
{
	static const struct {
		struct peer to;
		const char *want;
	} cases[] = {
		{ { VIP_WEB, 80 }, "peer " VIP_WEB ":80\n" },
		{ { VIP_WEB6, 80 }, "peer [" VIP_WEB6 "]:80\n" },
		{ { "::ffff:" VIP_WEB, 80 }, "peer [::ffff:" VIP_WEB "]:80\n" },
		/* not a service: untouched */
		{ { "10.201.1.1", 8080 }, "peer 10.201.1.1:8080\nanswer web-1\n" },
	};
	struct lb_env e;

	if (!lb_up(&e, SB_ARGV("web.yaml", "web6.yaml")))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sb_result r;

		sb_call(&r, &e.in_cg, 10000, tcp_peer_client, (void *)&cases[i].to);
		test_log("  connect %s:%d -> %s", cases[i].to.addr,
			 cases[i].to.port, r.out);
		ASSERT_EQ(r.status, 0, cases[i].to.addr);
		ASSERT_HAS(r.out, cases[i].want, "getpeername");
		ASSERT_HAS(r.out, "answer web-", "a backend answered");
		sb_result_free(&r);
	}
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* Whether `weft -j service list` mentions `present` and not `absent`. */
static bool listing_has(const struct sb_agent *a, const char *present,
			const char *absent)
{
	struct sb_result r;
	bool ok;

	sb_weft(&r, a, SB_ARGV("-j", "service", "list"));
	ok = r.status == 0 && strstr(r.out, present) && !strstr(r.out, absent);
	sb_result_free(&r);
	return ok;
}

/* 5. A backend removed from the config (file rewritten + SIGHUP) gets no
 * new connections. */
WEFT_E2E_TEST(e2e_lb_backend_removed)
{
	struct lb_env e;
	int hits[NWEB];
	bool gone;

	if (!lb_up(&e, SB_ARGV("web.yaml")))
		goto out;
	ASSERT_EQ(tally(&e.in_cg, "http://" VIP_WEB "/", 30, hits), 0, "before");
	ASSERT_GE(hits[2], 1, "web-3 serves before the change");

	if (!ASSERT_OK(sb_agent_config(&e.agent, "web-two.yaml", "web.yaml"),
		       "rewrite web.yaml") ||
	    !ASSERT_OK(kill(e.agent.proc.pid, SIGHUP), "SIGHUP weftd"))
		goto out;
	gone = SB_WAIT_UNTIL(listing_has(&e.agent, "10.201.1.2", "10.201.1.3"),
			     5000);
	ASSERT_TRUE(gone, "web-3 leaves `weft service list` after SIGHUP");

	ASSERT_EQ(tally(&e.in_cg, "http://" VIP_WEB "/", 30, hits), 0, "after");
	ASSERT_EQ(hits[2], 0, "no new connection reaches web-3");
	ASSERT_GE(hits[0], 1, "web-1 still serves");
	ASSERT_GE(hits[1], 1, "web-2 still serves");
	ASSERT_FALSE(sb_proc_exited(&e.agent.proc), "weftd still running");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* 6. A service without backends refuses at once. */
WEFT_E2E_TEST(e2e_lb_no_backend)
{
	struct peer nobody = { VIP_NOBODY, 80 };
	struct sb_result r = {};
	char *st = NULL;
	struct lb_env e;
	long ms = -1;
	int err = -1;

	if (!lb_up(&e, SB_ARGV("web.yaml", "nobody.yaml")))
		goto out;

	sb_call(&r, &e.in_cg, 10000, refused_client, &nobody);
	test_log("  connect %s:80: %s", VIP_NOBODY, r.out);
	ASSERT_EQ(sscanf(r.out, "errno %d ms %ld", &err, &ms), 2, "client output");
	ASSERT_EQ(err, ECONNREFUSED, "connect() errno");
	ASSERT_LE(ms, 999, "refused in under a second (ms)");
	sb_result_free(&r);

	sb_curl(&r, &e.in_cg, "http://" VIP_NOBODY "/");
	ASSERT_EQ(r.status, 7, "curl exit code (couldn't connect)");
	ASSERT_LE(r.ms, 999, "curl gave up in under a second (ms)");
	sb_result_free(&r);

	sb_weft(&r, &e.agent, SB_ARGV("-j", "stats"));
	ASSERT_EQ(r.status, 0, "weft -j stats");
	st = sb_json_object_with(r.out, "vip", VIP_NOBODY);
	ASSERT_GE(sb_json_int(st, "no_backend"), 2, "stats: no_backend of nobody");
	ASSERT_GE(sb_json_int(r.out, "lb_no_backend"), 2,
		  "stats: lb_no_backend counter");
	sb_result_free(&r);
out:
	free(st);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 8. A process outside the agent's cgroup is not translated.  A decoy host
 * really owns the VIP address and the client namespace routes to it, so an
 * untranslated connect() gets an answer, from "decoy".
 */
WEFT_E2E_TEST(e2e_lb_outside_cgroup)
{
	struct sb_host decoy, decoy_vip;
	struct sb_proc decoy_srv;
	struct sb_result r = {};
	struct lb_env e;
	int hits[NWEB], ok = 0;

	if (!lb_up(&e, SB_ARGV("web.yaml")))
		goto out;
	if (!ASSERT_OK(sb_host_add(&decoy, "decoy", "10.201.9.1", NULL), "decoy") ||
	    !ASSERT_OK(sb_ip(decoy.netns, SB_ARGV("addr", "add", VIP_WEB "/32",
						  "dev", "eth0")), "decoy VIP") ||
	    !ASSERT_OK(sb_ip(e.client.netns, SB_ARGV("route", "add", VIP_WEB "/32",
						     "via", "10.201.9.1")),
		       "client route to the decoy"))
		goto out;
	decoy_vip = decoy;
	snprintf(decoy_vip.ip4, sizeof(decoy_vip.ip4), VIP_WEB);
	if (!ASSERT_OK(sb_testsrv_start(&decoy_srv, &decoy_vip, "decoy", 80, 0),
		       "decoy testsrv"))
		goto out;

	for (int i = 0; i < 10; i++) {
		sb_curl(&r, &e.out_cg, "http://" VIP_WEB "/");
		ok += r.status == 0 && !strcmp(r.out, "decoy");
		sb_result_free(&r);
	}
	ASSERT_EQ(ok, 10, "outside the cgroup the VIP is just an address (decoy)");

	ASSERT_EQ(tally(&e.in_cg, "http://" VIP_WEB "/", 15, hits), 0,
		  "inside the cgroup every GET reaches a backend, never the decoy");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
