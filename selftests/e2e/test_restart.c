// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: weftd restarts without loss.  The datapath is pinned
 * (maps under <pin dir>/maps_v<ABI>, one bpf_link per program under
 * <pin dir>/links), so killing the daemon takes nothing from the kernel,
 * and a new weftd adopts what is pinned: the same maps and the same links,
 * its freshly loaded programs swapped into them (BPF_LINK_UPDATE).
 *
 * Under load (a connect loop with one request/response per connection, and
 * long-lived connections exchanging data every 20 ms) weftd is killed with
 * SIGKILL and started again, three times; nothing fails, the service works
 * while no weftd runs, and the map and link ids are the same before and
 * after (read with bpf_obj_get() on the pins and with bpftool).
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <weft/abi.h>

#define NWEB 3
#define VIP "10.96.5.10"
#define STREAM_PORT 9100
#define NLONG 4      /* at least this many long-lived connections ... */
#define NLONG_MAX 16 /* ... and more until every backend has one */
#define ROUNDS 3

/* --- an echo server on a backend: its name first, then every byte back -- */

struct echo_job {
	const char *name;
	const char *ip;
	int port;
};

static int echo_server(void *arg)
{
	const struct echo_job *j = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)j->port) };
	struct pollfd pfd[65];
	int lfd, one = 1, n = 1;
	char hello[64];

	snprintf(hello, sizeof(hello), "%s\n", j->name);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, j->ip, &sin.sin_addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 64)) {
		printf("echo %s: %s\n", j->name, strerror(errno));
		return 1;
	}
	printf("echo %s: ready\n", j->name);
	fflush(stdout);
	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (;;) { /* until SIGTERM (teardown) */
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		for (int i = n - 1; i >= 1; i--) {
			char buf[4096];
			ssize_t r;

			if (!pfd[i].revents)
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (r > 0 && send(pfd[i].fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			close(pfd[i].fd);
			pfd[i] = pfd[--n];
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if (n == 65 || send(fd, hello, strlen(hello), MSG_NOSIGNAL) < 0) {
				close(fd);
				continue;
			}
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
	}
	return 0;
}

/* --- long-lived connections: NLONG sockets, one exchange each per round -- */

struct long_job {
	int max_ms;
};

static int long_client(void *arg)
{
	const struct long_job *j = arg;
	long end = sb_now_ms() + j->max_ms;
	struct timeval tv = { 3, 0 };
	int fds[NLONG_MAX], nfds = 0, rounds = 0, failed = 0;
	unsigned int seen = 0;
	sigset_t term, pending;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	while (nfds < NLONG_MAX && (nfds < NLONG || seen != (1u << NWEB) - 1)) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons(STREAM_PORT) };
		char hello[32] = "";
		int i = nfds++;
		ssize_t r;

		inet_pton(AF_INET, VIP, &sin.sin_addr);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fds[i], (struct sockaddr *)&sin, sizeof(sin))) {
			printf("connect %d: %s\n", i, strerror(errno));
			return 1;
		}
		/* the greeting is the backend's address, 10.201.1.<n>\n */
		r = recv(fds[i], hello, sizeof(hello) - 1, 0);
		hello[r > 0 ? r : 0] = '\0';
		if (!strncmp(hello, "10.201.1.", 9) && hello[9] >= '1' && hello[9] <= '0' + NWEB)
			seen |= 1u << (hello[9] - '1');
		printf("long %d: %s", i, r > 0 ? hello : "no greeting\n");
	}
	printf("long connections %d\n", nfds);
	fflush(stdout);
	while (sb_now_ms() < end) {
		long t = sb_now_ms();

		sigpending(&pending);
		if (sigismember(&pending, SIGTERM))
			break;
		for (int i = 0; i < nfds; i++) {
			char msg[64], back[64];
			size_t len, got = 0;

			len = (size_t)snprintf(msg, sizeof(msg), "conn %d round %d\n", i, rounds);
			if (send(fds[i], msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
				if (!failed++)
					printf("send %d round %d: %s\n", i, rounds, strerror(errno));
				continue;
			}
			while (got < len) {
				ssize_t r = recv(fds[i], back + got, len - got, 0);

				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (sb_now_ms() - t > 500)
				printf("slow: conn %d round %d: %ld ms\n", i, rounds,
				       sb_now_ms() - t);
			if (got != len || memcmp(msg, back, len)) {
				if (!failed++)
					printf("echo %d round %d: got %zu of %zu bytes (%s)\n", i,
					       rounds, got, len, strerror(errno));
			}
		}
		printf("round %d %ld\n", rounds++, t);
		usleep(20000);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	printf("rounds %d failed %d\n", rounds, failed);
	return 0;
}

/* --- ids of what is pinned ------------------------------------------------ */

struct pinned {
	char maps[4096];  /* "name=id " for every pinned map, by name */
	char links[2048]; /* "name=id " for every pinned link */
	char progs[2048]; /* "name=prog_id " of every link */
	int nmaps, nlinks;
};

static int pinned_read(const char *pin_dir, struct pinned *p)
{
	static const char *const dirs[2] = { WEFT_PIN_MAPS_DIR, WEFT_PIN_LINKS_DIR };

	memset(p, 0, sizeof(*p));
	for (int d = 0; d < 2; d++) {
		struct dirent **names;
		char dir[PATH_MAX];
		int n;

		snprintf(dir, sizeof(dir), "%s/%s", pin_dir, dirs[d]);
		n = scandir(dir, &names, NULL, alphasort);
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			char path[PATH_MAX + 256];
			int fd;

			if (names[i]->d_name[0] == '.')
				goto next;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			fd = bpf_obj_get(path);
			if (fd < 0)
				goto next;
			if (d == 0) {
				struct bpf_map_info info = {};
				__u32 len = sizeof(info);

				if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
					size_t l = strlen(p->maps);

					snprintf(p->maps + l, sizeof(p->maps) - l, "%s=%u ",
						 names[i]->d_name, info.id);
					p->nmaps++;
				}
			} else {
				struct bpf_link_info info = {};
				__u32 len = sizeof(info);

				if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
					size_t l = strlen(p->links), k = strlen(p->progs);

					snprintf(p->links + l, sizeof(p->links) - l, "%s=%u ",
						 names[i]->d_name, info.id);
					snprintf(p->progs + k, sizeof(p->progs) - k, "%s=%u ",
						 names[i]->d_name, info.prog_id);
					p->nlinks++;
				}
			}
			close(fd);
next:
			free(names[i]);
		}
		free(names);
	}
	return 0;
}

/* Sorted ids of the links `bpftool -j link show` lists on the cgroup, as
 * "id id ..."; "" when none or bpftool failed. */
static void bpftool_links(const char *cgroup, char *buf, size_t len)
{
	unsigned long ids[64];
	char needle[64];
	struct sb_result r;
	struct stat st;
	int n = 0;

	buf[0] = '\0';
	if (stat(cgroup, &st))
		return;
	snprintf(needle, sizeof(needle), "\"cgroup_id\":%llu", (unsigned long long)st.st_ino);
	sb_run(&r, NULL, NULL, 10000, SB_ARGV("bpftool", "-j", "link", "show"));
	for (char *p = strstr(r.out, "{\"id\":"); p && n < 64;) {
		char *next = strstr(p + 1, "{\"id\":"), *hit = strstr(p, needle);

		if (hit && (!next || hit < next))
			ids[n++] = strtoul(p + 6, NULL, 10);
		p = next;
	}
	sb_result_free(&r);
	for (int i = 0; i < n; i++) /* insertion sort, n is small */
		for (int k = i; k > 0 && ids[k] < ids[k - 1]; k--) {
			unsigned long t = ids[k];

			ids[k] = ids[k - 1];
			ids[k - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		size_t l = strlen(buf);

		snprintf(buf + l, len - l, "%s%lu", i ? " " : "", ids[i]);
	}
}

static int words(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s != ' ' && (s[1] == ' ' || !s[1]);
	return n;
}

static int count_in_log(const struct sb_proc *p, const char *needle)
{
	char *log = sb_proc_log(p);
	int n = 0;

	for (char *s = log; s && (s = strstr(s, needle)); s++)
		n++;
	free(log);
	return n;
}

/* `weft -j ... list` compacted (no whitespace outside strings). */
static char *weft_json(const struct sb_agent *a, const char *const args[])
{
	struct sb_result r;
	char *out = NULL, *o;
	bool in_str = false;

	if (!sb_weft(&r, a, args) && (out = malloc(strlen(r.out) + 1))) {
		o = out;
		for (const char *p = r.out; *p; p++) {
			if (*p == '"' && (p == r.out || p[-1] != '\\'))
				in_str = !in_str;
			if (in_str || !strchr(" \n\t\r", *p))
				*o++ = *p;
		}
		*o = '\0';
	}
	sb_result_free(&r);
	return out;
}

/* The top-level backends of VIP:port in `weft -j service list`. */
static int port_backends(const struct sb_agent *a, int port)
{
	char *json = weft_json(a, SB_ARGV("-j", "service", "list")), needle[64], *svc, *end;
	int n = -1;

	snprintf(needle, sizeof(needle), "\"vip\":\"%s\",\"port\":%d,", VIP, port);
	svc = json ? strstr(json, needle) : NULL;
	if (svc) {
		/* up to the next service ("host" comes first in each) */
		end = strstr(svc, "\"host\":");
		if (end)
			*end = '\0';
		n = sb_json_count_after_last(svc, "backends", "address");
	}
	free(json);
	return n;
}

/* "connects" of VIP:port in `weft -j stats`. */
static long long port_connects(const struct sb_agent *a, int port)
{
	char *json = weft_json(a, SB_ARGV("-j", "stats")), needle[64], *svc;
	long long v;

	snprintf(needle, sizeof(needle), "\"vip\":\"%s\",\"port\":%d,", VIP, port);
	svc = json ? strstr(json, needle) : NULL;
	v = sb_json_int(svc, "connects");
	free(json);
	return v;
}

/* Sum of istio_tcp_connections_opened_total over a destination service. */
static long long istio_opened(const struct sb_agent *a, const char *service)
{
	char label[160];
	struct sb_result r;
	long long v = -1;

	snprintf(label, sizeof(label), "destination_service=\"%s\"", service);
	if (sb_agent_http(&r, a, "/metrics") == 200)
		v = sb_prom_sum(r.out, "istio_tcp_connections_opened_total",
				SB_ARGV(label));
	sb_result_free(&r);
	return v;
}

WEFT_E2E_TEST(e2e_restart_sigkill_under_load)
{
	static const char *const ip4[NWEB] = { "10.201.1.1", "10.201.1.2", "10.201.1.3" };
	struct sb_loop loop = { .addr = VIP, .port = 80, .max_ms = 60000, .pause_us = 300 };
	struct long_job long_job = { .max_ms = 60000 };
	struct echo_job echo[NWEB];
	struct sb_host client, web[NWEB];
	struct sb_proc srv[NWEB], esrv[NWEB], longp = {};
	char links0[512], links[512], *log = NULL;
	long down_from[ROUNDS] = {}, down_to[ROUNDS] = {}, t_removed = -1;
	size_t late = 0, nlong = 0, on_removed = 0;
	long long connects = -1, opened = -1;
	struct pinned pin0, pin, prev;
	struct sb_result r = {};
	struct sb_place in_cg;
	struct sb_agent a;
	long long gen;
	int err, rounds = -1, long_failed = -1, down_rounds = 0;
	size_t down_conns = 0;

	err = sb_init();
	if (err == -EPERM) {
		test_skip("needs root");
		return;
	}
	if (!ASSERT_OK(err, "sb_init") ||
	    !ASSERT_OK(sb_host_add(&client, "client", "10.201.0.2", NULL), "client"))
		goto out;
	for (int i = 0; i < NWEB; i++) {
		char what[16], ewhat[16];

		snprintf(what, sizeof(what), "web-%d", i + 1);
		snprintf(ewhat, sizeof(ewhat), "echo-%d", i + 1);
		if (!ASSERT_OK(sb_host_add(&web[i], what, ip4[i], NULL), what) ||
		    !ASSERT_OK(sb_testsrv_start(&srv[i], &web[i], what, 8080, 0), "testsrv"))
			goto out;
		echo[i] = (struct echo_job){ ip4[i] /* name: its address */, ip4[i],
					     STREAM_PORT };
		if (!ASSERT_OK(sb_spawn_fn(&esrv[i], &(struct sb_place){ NULL, web[i].netns },
					   ewhat, echo_server, &echo[i]), ewhat) ||
		    !ASSERT_OK(sb_proc_wait_log(&esrv[i], ": ready", 5000), ewhat))
			goto out;
	}
	if (!ASSERT_OK(sb_agent_init(&a, "node", client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&a, "restart.yaml", NULL), "config") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd"))
		goto out;
	in_cg = (struct sb_place){ a.cgroup, client.netns };
	if (!ASSERT_OK(pinned_read(a.pin_dir, &pin0), "read pins"))
		goto out;
	prev = pin0;
	bpftool_links(a.cgroup, links0, sizeof(links0));
	test_log("  maps: %s\n  links: %s\n  programs: %s\n  bpftool links on the cgroup: %s\n",
		 pin0.maps, pin0.links, pin0.progs, links0);
	ASSERT_GE(pin0.nmaps, 10, "maps pinned");
	ASSERT_GE(pin0.nlinks, 4, "links pinned");
	ASSERT_EQ(words(links0), pin0.nlinks,
		  "bpftool lists every pinned link on the cgroup");
	gen = sb_agent_generation(&a);

	if (!ASSERT_OK(sb_loop_start(&loop, &in_cg, "loop"), "connect loop") ||
	    !ASSERT_OK(sb_spawn_fn(&longp, &in_cg, "long", long_client, &long_job),
		       "long-lived connections") ||
	    !ASSERT_OK(sb_proc_wait_log(&longp, "round 1 ", 5000), "long-lived exchanging"))
		goto out;

	for (int round = 0; round < ROUNDS; round++) {
		struct sb_tally t = { .addr = VIP, .port = 80, .count = 50, .cpu = -1 };
		char what[96];

		sb_sleep_ms(300);
		ASSERT_EQ(sb_proc_stop(&a.proc, SIGKILL, 3000), 128 + SIGKILL, "SIGKILL weftd");
		down_from[round] = sb_now_ms();

		/* No weftd at all: the pinned datapath serves. */
		if (ASSERT_OK(sb_tally_run(&t, &in_cg), "50 connections without weftd"))
			ASSERT_EQ(t.failed, 0, "no weftd: every connection answered");
		ASSERT_EQ(sb_agent_generation(&a), gen, "no weftd: weft status reads the pins");
		/* The second time, the config changes while no weftd runs: the
		 * next one applies it (web-3 goes). */
		if (round == 1 &&
		    !ASSERT_OK(sb_agent_config(&a, "restart-two.yaml", "restart.yaml"),
			       "config changed while no weftd runs"))
			goto out;
		sb_sleep_ms(300);

		down_to[round] = sb_now_ms();
		test_log("  round %d: weftd down from %ld to %ld\n", round + 1,
			 down_from[round], down_to[round]);
		if (!ASSERT_OK(sb_agent_start(&a, NULL), "weftd restarted") ||
		    !ASSERT_TRUE(SB_WAIT_UNTIL(count_in_log(&a.proc, "datapath attached") ==
						       round + 2, 5000),
				 "the new weftd attached"))
			goto out;
		ASSERT_EQ(sb_agent_generation(&a), ++gen,
			  "the new weftd continued the pinned generation");
		if (round == 1) {
			t_removed = sb_now_ms();
			ASSERT_EQ(port_backends(&a, 80), 2,
				  "the change made while no weftd ran is applied");
		}
		if (!ASSERT_OK(pinned_read(a.pin_dir, &pin), "read pins"))
			goto out;
		bpftool_links(a.cgroup, links, sizeof(links));
		snprintf(what, sizeof(what), "restart %d: the same map ids (adopted)", round + 1);
		ASSERT_STREQ(pin.maps, pin0.maps, what);
		snprintf(what, sizeof(what), "restart %d: the same link ids", round + 1);
		ASSERT_STREQ(pin.links, pin0.links, what);
		snprintf(what, sizeof(what), "restart %d: bpftool: the same links on the cgroup",
			 round + 1);
		ASSERT_STREQ(links, links0, what);
		/* every link runs a program of the new weftd */
		for (char *p = pin.progs, *q = prev.progs; *p && *q;) {
			size_t lp = strcspn(p, " "), lq = strcspn(q, " ");

			snprintf(what, sizeof(what), "restart %d: program swapped: %.*s",
				 round + 1, (int)lp, p);
			ASSERT_FALSE(lp == lq && !strncmp(p, q, lp), what);
			p += lp + (p[lp] == ' ');
			q += lq + (q[lq] == ' ');
		}
		test_log("  restart %d: programs %s\n", round + 1, pin.progs);
		prev = pin;
	}

	/* A weftd that cannot start (broken config) leaves the pinned
	 * datapath as it is: exit 1, the same maps, links and programs. */
	ASSERT_EQ(sb_proc_stop(&a.proc, SIGKILL, 3000), 128 + SIGKILL, "SIGKILL weftd");
	if (!ASSERT_OK(sb_agent_config(&a, "broken.yaml", "zz-broken.yaml"), "broken"))
		goto out;
	sb_agent_run(&r, &a, NULL);
	ASSERT_EQ(r.status, 1, "weftd with a broken config exits 1");
	ASSERT_HAS(r.err, "zz-broken.yaml:8:", "... saying file:line");
	sb_result_free(&r);
	if (ASSERT_OK(pinned_read(a.pin_dir, &pin), "read pins")) {
		ASSERT_STREQ(pin.maps, pin0.maps, "failed start: the same maps");
		ASSERT_STREQ(pin.links, pin0.links, "failed start: the same links");
		ASSERT_STREQ(pin.progs, prev.progs, "failed start: the same programs");
	}
	ASSERT_EQ(sb_agent_generation(&a), gen, "failed start: generation unchanged");
	sb_sleep_ms(300);
	if (!ASSERT_OK(sb_agent_remove_config(&a, "zz-broken.yaml"), "fixed") ||
	    !ASSERT_OK(sb_agent_start(&a, NULL), "weftd started again"))
		goto out;

	sb_sleep_ms(300);
	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	ASSERT_EQ(sb_proc_stop(&longp, SIGTERM, 10000), 0, "long-lived client exits 0");
	log = sb_proc_log(&longp);
	if (strstr(log, "rounds "))
		sscanf(strstr(log, "rounds "), "rounds %d failed %d", &rounds, &long_failed);
	for (char *l = strstr(log, "round "); l; l = strstr(l + 1, "\nround ")) {
		long t = 0;
		int r;

		if (sscanf(l + (*l == '\n'), "round %d %ld", &r, &t) != 2)
			continue;
		for (int k = 0; k < ROUNDS; k++)
			down_rounds += t >= down_from[k] && t < down_to[k];
	}
	if (strstr(log, "long connections "))
		nlong = strtoul(strstr(log, "long connections ") + 17, NULL, 10);
	for (char *l = strstr(log, ": 10.201.1.3\n"); l; l = strstr(l + 1, ": 10.201.1.3\n"))
		on_removed++;
	for (size_t i = 0; i < loop.nrecs; i++) {
		for (int k = 0; k < ROUNDS; k++)
			down_conns += loop.recs[i].t0 >= down_from[k] &&
				      loop.recs[i].t1 < down_to[k];
		late += t_removed > 0 && loop.recs[i].t0 >= t_removed &&
			!strcmp(loop.recs[i].name, "web-3");
	}
	test_log("  loop: %zu connections, %zu failed, %zu while no weftd ran\n",
		 loop.nrecs, loop.nfailed, down_conns);
	test_log("  long-lived: %d rounds of %zu exchanges, %d failed, %d rounds while no weftd ran, %zu connections on web-3 (removed)\n",
		 rounds, nlong, long_failed, down_rounds, on_removed);
	ASSERT_EQ(loop.nfailed, 0, "no connection of the loop failed");
	ASSERT_GE(loop.nrecs, 200, "the loop kept connecting");
	ASSERT_GE(down_conns, ROUNDS, "the loop connected while no weftd ran");
	ASSERT_EQ(long_failed, 0, "no exchange on a long-lived connection failed");
	ASSERT_GE(rounds, 50, "long-lived connections kept exchanging");
	ASSERT_GE(down_rounds, ROUNDS, "... also while no weftd ran");
	ASSERT_GE(on_removed, 1, "long-lived connections to web-3 ...");
	ASSERT_EQ(late, 0, "no new connection reached web-3 once its removal was applied");

	/* The datapath counted everything, with and without weftd. */
	connects = port_connects(&a, 80);
	ASSERT_EQ(connects, (long long)loop.nrecs + ROUNDS * 50,
		  "weft stats: connects of :80 = loop + 3 x 50, across restarts");
	opened = istio_opened(&a, "web.default.svc.cluster.local");
	ASSERT_EQ(opened, (long long)(loop.nrecs + ROUNDS * 50 + nlong),
		  "istio_tcp_connections_opened_total of web, across restarts");
	ASSERT_EQ(sb_proc_stop(&a.proc, SIGTERM, 5000), 0, "the last weftd exits 0 on SIGTERM");
out:
	free(log);
	sb_result_free(&r);
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
