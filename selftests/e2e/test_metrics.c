// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: health and metrics, read with curl from weftd's listener.
 * Known traffic (so many connections, so many bytes each way) goes through
 * two services whose workloads the config names (selftests/data/e2e/
 * metrics.yaml: a Deployment's Pod, a WorkloadEntry, a client Pod), then
 * the istio_tcp_* series must carry Istio's labels for them and exactly
 * those counts; the weft_* series must agree with `weft` and the config.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define WEB_VIP "10.96.4.10"
#define LEGACY_VIP "10.96.4.20"
#define NOBODY_VIP "10.96.4.30"

/* web:80 gets three connections, web:81 one (the same labels). */
static const size_t web_payloads[] = { 1000, 2500, 4096 };
#define WEB_ALT_PAYLOAD 10
static const size_t legacy_payloads[] = { 100, 100 };

/*
 * The known traffic: payloads of 'x' to each VIP, the write side shut
 * after each, the answer read to EOF; one refused connect to the service
 * without endpoints.  Prints "<vip> sent N received N failed N" and
 * "refused <errno>".
 */
static int traffic_client(void *arg)
{
	static char payload[8192];
	const struct {
		const char *vip;
		const size_t *sizes;
		size_t n;
	} jobs[] = {
		{ WEB_VIP, web_payloads, sizeof(web_payloads) / sizeof(web_payloads[0]) },
		{ LEGACY_VIP, legacy_payloads,
		  sizeof(legacy_payloads) / sizeof(legacy_payloads[0]) },
	};
	char name[32];
	int err;

	(void)arg;
	memset(payload, 'x', sizeof(payload));
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		size_t sent = 0, received = 0;
		int failed = 0;

		for (size_t i = 0; i < jobs[j].n; i++) {
			size_t got;

			err = sb_tcp_ask(jobs[j].vip, 80, payload, jobs[j].sizes[i], true,
					 3000, name, sizeof(name), &got);
			if (err) {
				printf("%s: %s\n", jobs[j].vip, strerror(-err));
				failed++;
				continue;
			}
			sent += jobs[j].sizes[i];
			received += got;
		}
		printf("%s sent %zu received %zu failed %d (%s)\n", jobs[j].vip, sent,
		       received, failed, name);
	}
	err = sb_tcp_ask(WEB_VIP, 81, payload, WEB_ALT_PAYLOAD, true, 3000, name,
			 sizeof(name), NULL);
	printf("alt %d\n", -err);
	err = sb_tcp_ask(NOBODY_VIP, 80, "x", 1, false, 3000, name, sizeof(name), NULL);
	printf("refused %d\n", -err);
	return 0;
}

/* A request line that is not HTTP to the metrics port; prints the answer's
 * status line. */
static int malformed_client(void *arg)
{
	const int *port = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)*port) };
	struct timeval tv = { 3, 0 };
	char buf[512];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    send(fd, "HELLO THERE\r\n\r\n", 15, MSG_NOSIGNAL) != 15) {
		printf("connect/send: %s\n", strerror(errno));
		return 1;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("%s\n", buf);
	close(fd);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Samples in Prometheus text whose name and labels equal another's; the
 * first ones printed. */
static int duplicate_series(const char *text)
{
	char *copy = strdup(text ? text : ""), **keys = NULL, *save = NULL;
	size_t n = 0, cap = 0;
	int dups = 0;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *end;

		if (l[0] == '#' || !l[0])
			continue;
		end = strchr(l, '}') ? strchr(l, '}') + 1 : strchr(l, ' ');
		if (!end)
			continue;
		*end = '\0';
		if (n == cap) {
			char **nk = realloc(keys, (cap = cap ? cap * 2 : 256) * sizeof(*keys));

			if (!nk)
				break;
			keys = nk;
		}
		keys[n++] = l;
	}
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i], keys[i - 1]))
			continue;
		if (dups++ < 2)
			printf("%s: series twice in /metrics: %.300s...\n", test_name(), keys[i]);
	}
	free(keys);
	free(copy);
	return dups;
}

static char *scrape(const struct sb_agent *a)
{
	struct sb_result r;
	char *text = NULL;

	if (sb_agent_http(&r, a, "/metrics") == 200)
		text = strdup(r.out);
	sb_result_free(&r);
	return text;
}

/* A sample of one istio_tcp_* series for the labels; -1 when absent. */
static long long istio(const char *text, const char *metric,
		       const char *const labels[])
{
	return sb_prom_sum(text, metric, labels);
}

WEFT_E2E_TEST(e2e_metrics_istio_tcp_and_weft)
{
	static const char *const web_labels[] = {
		"reporter=\"source\"",
		"source_workload=\"client\"",
		"source_workload_namespace=\"front\"",
		"source_principal=\"spiffe://cluster.local/ns/front/sa/client-sa\"",
		"source_app=\"client\"",
		"source_version=\"v7\"",
		"destination_workload=\"web-v1\"",
		"destination_workload_namespace=\"shop\"",
		"destination_principal=\"spiffe://cluster.local/ns/shop/sa/web-sa\"",
		"destination_app=\"web\"",
		"destination_version=\"v1\"",
		"destination_service=\"web.shop.svc.cluster.local\"",
		"destination_service_name=\"web\"",
		"destination_service_namespace=\"shop\"",
		NULL,
	};
	static const char *const legacy_labels[] = {
		"reporter=\"source\"",
		"source_workload=\"client\"",
		"source_workload_namespace=\"front\"",
		"source_principal=\"spiffe://cluster.local/ns/front/sa/client-sa\"",
		"destination_workload=\"web-vm-3\"",
		"destination_workload_namespace=\"vms\"",
		"destination_principal=\"spiffe://cluster.local/ns/vms/sa/vm-sa\"",
		"destination_service=\"legacy.vms.internal\"",
		"destination_service_name=\"legacy\"",
		"destination_service_namespace=\"vms\"",
		NULL,
	};
	struct sb_host client, web1, web3;
	struct sb_proc srv1, srv3;
	struct sb_place in_cg;
	struct sb_result r = {};
	struct sb_agent a;
	char *text = NULL, line[128];
	size_t web_sent = 0, web_recv = 0, legacy_sent = 0, legacy_recv = 0;
	int web_failed = -1, legacy_failed = -1, refused = -1, alt_err = -1, err;
	long long gen;

	err = sb_init();
	if (err == -EPERM) {
		test_skip("needs root");
		return;
	}
	if (!ASSERT_OK(err, "sb_init") ||
	    !ASSERT_OK(sb_host_add(&client, "client", "10.201.0.2", NULL), "client") ||
	    !ASSERT_OK(sb_host_add(&web1, "web-1", "10.201.1.1", NULL), "web-1") ||
	    !ASSERT_OK(sb_host_add(&web3, "web-3", "10.201.1.3", NULL), "web-3") ||
	    !ASSERT_OK(sb_testsrv_start(&srv1, &web1, "web-1", 8080, 0), "testsrv 1") ||
	    !ASSERT_OK(sb_testsrv_start(&srv3, &web3, "web-3", 8080, 0), "testsrv 3") ||
	    !ASSERT_OK(sb_agent_init(&a, "node", client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&a, "metrics.yaml", NULL), "config") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd"))
		goto out;
	in_cg = (struct sb_place){ a.cgroup, client.netns };

	/* Health, and the HTTP server's manners. */
	ASSERT_EQ(sb_agent_http(NULL, &a, "/healthz/ready"), 200, "/healthz/ready");
	ASSERT_EQ(sb_agent_http(NULL, &a, "/nothing-here"), 404, "unknown path: 404");
	sb_call(&r, &(struct sb_place){ NULL, client.netns }, 10000, malformed_client,
		&a.metrics_port);
	ASSERT_EQ(r.status, 0, "malformed request sent");
	ASSERT_STREQ(r.out, "HTTP/1.1 400 Bad Request\n", "malformed request: 400");
	sb_result_free(&r);

	text = scrape(&a);
	if (!ASSERT_NOT_NULL(text, "GET /metrics: 200"))
		goto out;
	ASSERT_EQ(sb_prom_count(text, "istio_tcp_connections_opened_total", NULL), 0,
		  "no istio_tcp series before any traffic");
	ASSERT_HAS(text, "# TYPE istio_tcp_connections_opened_total counter",
		   "istio_tcp_connections_opened_total is a counter");
	ASSERT_EQ(sb_prom_sum(text, "weft_config_reload_errors_total", NULL), 0,
		  "weft_config_reload_errors_total 0");
	free(text);
	text = NULL;

	/* The known traffic. */
	sb_call(&r, &in_cg, 30000, traffic_client, NULL);
	test_log("  %s", r.out);
	ASSERT_EQ(r.status, 0, "traffic client");
	for (char *l = strtok(r.out, "\n"); l; l = strtok(NULL, "\n")) {
		snprintf(line, sizeof(line), "%s", l);
		if (!strncmp(line, WEB_VIP " ", strlen(WEB_VIP) + 1))
			sscanf(line + strlen(WEB_VIP), " sent %zu received %zu failed %d",
			       &web_sent, &web_recv, &web_failed);
		else if (!strncmp(line, LEGACY_VIP " ", strlen(LEGACY_VIP) + 1))
			sscanf(line + strlen(LEGACY_VIP), " sent %zu received %zu failed %d",
			       &legacy_sent, &legacy_recv, &legacy_failed);
		else if (sscanf(line, "alt %d", &alt_err) != 1)
			sscanf(line, "refused %d", &refused);
	}
	sb_result_free(&r);
	ASSERT_EQ(web_failed, 0, "3 connections to web");
	ASSERT_EQ(legacy_failed, 0, "2 connections to legacy");
	ASSERT_EQ(web_sent, 1000 + 2500 + 4096, "bytes sent to web");
	ASSERT_EQ(web_recv, 3 * strlen("web-1\n"), "bytes received from web");
	ASSERT_EQ(legacy_recv, 2 * strlen("web-3\n"), "bytes received from legacy");
	ASSERT_EQ(alt_err, 0, "1 connection to web:81");
	ASSERT_EQ(refused, ECONNREFUSED, "no endpoints: connect refused");
	/* web:81 has the same labels as web:80 (Istio has no port label) */
	web_sent += WEB_ALT_PAYLOAD;
	web_recv += strlen("web-1\n");

	/* Closed connections are counted when the socket reaches TCP_CLOSE. */
	ASSERT_TRUE(SB_WAIT_UNTIL((free(text), text = scrape(&a),
				   istio(text, "istio_tcp_connections_closed_total",
					 web_labels) == 4 &&
				   istio(text, "istio_tcp_connections_closed_total",
					 legacy_labels) == 2), 5000),
		    "closed connections counted");
	if (!ASSERT_NOT_NULL(text, "GET /metrics"))
		goto out;
	for (const char *l = strstr(text, "\nistio_tcp_sent_bytes_total{"); l;
	     l = strstr(l + 1, "\nistio_tcp_sent_bytes_total{"))
		test_log("  %.*s\n", (int)strcspn(l + 1, "\n"), l + 1);
	ASSERT_EQ(istio(text, "istio_tcp_connections_opened_total", web_labels), 4,
		  "web: istio_tcp_connections_opened_total");
	ASSERT_EQ(istio(text, "istio_tcp_connections_closed_total", web_labels), 4,
		  "web: istio_tcp_connections_closed_total");
	ASSERT_EQ(istio(text, "istio_tcp_sent_bytes_total", web_labels), (long long)web_sent,
		  "web: istio_tcp_sent_bytes_total = bytes the client sent");
	ASSERT_EQ(istio(text, "istio_tcp_received_bytes_total", web_labels),
		  (long long)web_recv,
		  "web: istio_tcp_received_bytes_total = bytes the client received");
	ASSERT_EQ(istio(text, "istio_tcp_connections_opened_total", legacy_labels), 2,
		  "legacy: opened (WorkloadEntry workload)");
	ASSERT_EQ(istio(text, "istio_tcp_sent_bytes_total", legacy_labels),
		  (long long)legacy_sent, "legacy: sent bytes");
	ASSERT_EQ(istio(text, "istio_tcp_received_bytes_total", legacy_labels),
		  (long long)legacy_recv, "legacy: received bytes");
	ASSERT_EQ(sb_prom_count(text, "istio_tcp_connections_opened_total",
				SB_ARGV("destination_workload=\"unknown\"")), 0,
		  "no series with an unknown destination workload");

	/* The exposition format wants every series once: weft_tcp_stats keys
	 * are finer than the labels (the service port shows in none), so
	 * web:80 and web:81 must be summed into one series. */
	ASSERT_EQ(duplicate_series(text), 0,
		  "no series appears twice in /metrics");
	ASSERT_EQ(sb_prom_count(text, "istio_tcp_connections_opened_total", web_labels), 1,
		  "one series for client -> web-v1 (80 and 81 summed)");

	/* weft_* */
	ASSERT_EQ(sb_prom_sum(text, "weft_service_no_backend_total",
			      SB_ARGV("destination_service=\"nobody.shop.svc.cluster.local\"")),
		  1, "weft_service_no_backend_total of nobody after one refused connect");
	ASSERT_EQ(sb_prom_sum(text, "weft_service_connects_total",
			      SB_ARGV("destination_service=\"web.shop.svc.cluster.local\"")),
		  4, "weft_service_connects_total of web (ports 80 and 81)");
	ASSERT_EQ(sb_prom_sum(text, "weft_map_entries", SB_ARGV("map=\"weft_backends\"")),
		  2, "weft_map_entries of weft_backends");
	ASSERT_EQ(sb_prom_sum(text, "weft_map_entries", SB_ARGV("map=\"weft_services\"")),
		  4, "weft_map_entries of weft_services");
	ASSERT_GE(sb_prom_sum(text, "weft_map_capacity", SB_ARGV("map=\"weft_backends\"")),
		  2, "weft_map_capacity of weft_backends");
	gen = sb_agent_generation(&a);
	ASSERT_GE(gen, 1, "weft -j status generation");
	ASSERT_EQ(sb_prom_sum(text, "weft_config_generation", NULL), gen,
		  "weft_config_generation = weft status generation");
	ASSERT_EQ(sb_prom_sum(text, "weft_services", NULL), 4, "weft_services");
	ASSERT_EQ(sb_prom_sum(text, "weft_backends", NULL), 2, "weft_backends");

	/* A rejected config is counted. */
	if (!ASSERT_OK(sb_agent_config(&a, "broken.yaml", "zz-broken.yaml"), "broken") ||
	    !ASSERT_OK(sb_proc_wait_log(&a.proc, "zz-broken.yaml:8:", 5000), "rejected"))
		goto out;
	ASSERT_TRUE(SB_WAIT_UNTIL((free(text), text = scrape(&a),
				   sb_prom_sum(text, "weft_config_reload_errors_total",
					       NULL) >= 1), 3000),
		    "weft_config_reload_errors_total counts the rejection");
	ASSERT_EQ(sb_prom_sum(text, "weft_config_generation", NULL), gen,
		  "generation unchanged by the rejected config");
	ASSERT_TRUE(sb_prom_sum(text, "weft_config_last_error_timestamp_seconds", NULL) > 0,
		    "weft_config_last_error_timestamp_seconds set");
	ASSERT_EQ(sb_agent_http(NULL, &a, "/healthz/ready"), 200, "still ready");
out:
	free(text);
	sb_result_free(&r);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* A metrics client that sends its request one byte every 250 ms. */
static int dribble_client(void *arg)
{
	static const char req[] = "GET /healthz/ready HTTP/1.1\r\n\r\n";
	const int *port = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)*port) };
	char buf[256];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	printf("started\n");
	fflush(stdout);
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		if (i)
			usleep(250000);
		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
	}
	printf("request sent\n");
	fflush(stdout);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	printf("done: %.*s\n", (int)strcspn(buf, "\r\n"), buf);
	close(fd);
	return 0;
}

static bool log_has(const struct sb_proc *p, const char *needle)
{
	char *log = sb_proc_log(p);
	bool has = log && strstr(log, needle);

	free(log);
	return has;
}

static int backends_of(const struct sb_agent *a, const char *vip)
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
 * A slow client on the metrics port (a request dribbled over 7 s, as a
 * stuck scraper or anything that can reach the port may do) must not hold
 * up the agent: a config change is applied and /healthz/ready answers
 * while it is still sending.
 * The endpoint shares weftd's event loop, so it must never block on a
 * client (user/agent/server.h).
 */
WEFT_E2E_TEST(e2e_metrics_slow_client_does_not_block_agent)
{
	struct sb_host client, web[3];
	struct sb_proc srv[3], slow;
	struct sb_agent a;
	bool applied = false, slow_done = false;
	int health = -1;
	long t0;

	if (!sb_web_up(&client, web, srv, 3, false, 8080, 0))
		goto out;
	if (!ASSERT_OK(sb_agent_init(&a, "node", client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&a, "web.yaml", NULL), "config") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd") ||
	    !ASSERT_OK(sb_spawn_fn(&slow, &(struct sb_place){ NULL, client.netns },
				   "slow-client", dribble_client, &a.metrics_port),
		       "slow client") ||
	    !ASSERT_OK(sb_proc_wait_log(&slow, "started", 5000), "slow client connected"))
		goto out;
	sb_sleep_ms(500); /* weftd has accepted it and is reading */

	if (!ASSERT_OK(sb_agent_config(&a, "web-two.yaml", "web.yaml"), "drop web-3"))
		goto out;
	t0 = sb_now_ms();
	/* Bounded by the slow client itself (about 7 s). */
	/* applied first: seen applied, then seen still sending, proves the
	 * order */
	SB_WAIT_UNTIL((applied = backends_of(&a, "10.96.0.10") == 2,
		       slow_done = log_has(&slow, "request sent"), applied || slow_done),
		      20000);
	test_log("  change %s after %ld ms, the slow client %s\n",
		 applied ? "applied" : "not applied", sb_now_ms() - t0,
		 slow_done ? "had sent its request" : "still sending");
	ASSERT_TRUE(applied && !slow_done,
		    "config change applied while a slow metrics client still sends");
	if (applied && !slow_done) {
		health = sb_agent_http(NULL, &a, "/healthz/ready");
		slow_done = log_has(&slow, "request sent"); /* after the answer */
		ASSERT_TRUE(health == 200 && !slow_done,
			    "/healthz/ready answered while the slow client sends");
	}
	ASSERT_TRUE(SB_WAIT_UNTIL(backends_of(&a, "10.96.0.10") == 2, 5000),
		    "the config change is applied in the end");
	ASSERT_OK(sb_proc_wait_log(&slow, "done: HTTP/1.1 200", 20000),
		  "the slow client is answered too");
out:
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
