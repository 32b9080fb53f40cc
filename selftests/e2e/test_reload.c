// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end: live reconfiguration under load.  A connect loop runs in the
 * client namespace (inside the agent's cgroup) while the mesh config
 * changes under weftd: through its inotify watch (files renamed into
 * place, as a ConfigMap update does), through SIGHUP, and with a broken
 * file that must be rejected whole.  Every connection of the loop is
 * recorded with its time and the backend that answered, so the test can
 * say which configuration each one was made under.
 *
 * Service: reload-svc.yaml (10.96.3.10:80, a ServiceEntry), its
 * WorkloadEntries written by the test as reload-backends.yaml.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WEB 5
#define VIP "10.96.3.10"
#define NSTEPS 100
#define SETTLE_MS 30

struct reload_env {
	struct sb_host client, web[MAX_WEB];
	struct sb_proc srv[MAX_WEB];
	struct sb_agent agent;
	struct sb_place in_cg;
	int nweb;
};

/* The WorkloadEntries of reload-backends.yaml: web-i for each bit i-1 of
 * mask, with weight[i-1] (0 counts as 1). */
static void backends_yaml(char *buf, size_t len, unsigned int mask,
			  const int weight[])
{
	size_t n = (size_t)snprintf(buf, len, "# written by test_reload.c\n");

	for (int i = 1; i <= MAX_WEB; i++) {
		if (!(mask & (1u << (i - 1))))
			continue;
		n += (size_t)snprintf(buf + n, len - n,
			"---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
			"metadata: {name: web-%d, namespace: default}\n"
			"spec:\n  address: 10.201.1.%d\n  labels: {app: live}\n"
			"  weight: %d\n", i, i, weight && weight[i - 1] ? weight[i - 1] : 1);
	}
}

static int write_backends(const struct sb_agent *a, unsigned int mask,
			  const int weight[])
{
	char text[4096];

	backends_yaml(text, sizeof(text), mask, weight);
	return sb_agent_write_config(a, "reload-backends.yaml", text);
}

/* Client, web-1..nweb, weftd serving the backends in mask. */
static bool reload_up(struct reload_env *e, int nweb, unsigned int mask)
{
	memset(e, 0, sizeof(*e));
	e->nweb = nweb;
	if (!sb_web_up(&e->client, e->web, e->srv, nweb, false, 8080, 0) ||
	    !ASSERT_OK(sb_agent_init(&e->agent, "node", e->client.netns, 15020),
		       "agent init") ||
	    !ASSERT_OK(sb_agent_config(&e->agent, "reload-svc.yaml", NULL), "config") ||
	    !ASSERT_OK(write_backends(&e->agent, mask, NULL), "backends") ||
	    !ASSERT_OK(sb_agent_start(&e->agent, NULL), "weftd start"))
		return false;
	e->in_cg = (struct sb_place){ e->agent.cgroup, e->client.netns };
	return true;
}

/* Wait for weftd to log that generation gen is applied ("ready:
 * generation N," follows the map writes). */
static int wait_generation(struct sb_agent *a, long long gen, int timeout_ms)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "ready: generation %lld,", gen);
	return sb_proc_wait_log(&a->proc, needle, timeout_ms);
}

/* Backend number of an answer "web-N", 0 for anything else. */
static int web_no(const char *name)
{
	if (strncmp(name, "web-", 4) || name[4] < '1' || name[4] > '0' + MAX_WEB ||
	    name[5])
		return 0;
	return name[4] - '0';
}

/* Bitmask of the backends a `weft -j service list` lists for the VIP. */
static int listed_mask(const struct sb_agent *a)
{
	struct sb_result r;
	char *svc = NULL;
	int mask = 0;

	if (!sb_weft(&r, a, SB_ARGV("-j", "service", "list")))
		svc = sb_json_object_with(r.out, "vip", VIP);
	sb_result_free(&r);
	for (int i = 1; svc && i <= MAX_WEB; i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "\"address\":\"10.201.1.%d\"", i);
		if (strstr(svc, needle))
			mask |= 1 << (i - 1);
	}
	free(svc);
	return svc ? mask : -1;
}

/* A fixed sequence of changes, the same every run. */
static unsigned int prng(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/*
 * 1. A hundred config changes while a client connects continuously:
 * backends removed and added, weights changed, each change a file renamed
 * into the config dir and picked up by inotify.  Every connection
 * succeeds, and every connection is answered by a backend of the config in
 * force when it was made: made after a change was applied (weftd logged
 * "ready: generation N") and before the next one was written, only the new
 * set; in between, the old or the new.  So no connection reaches a removed
 * backend once its removal is applied.
 */
WEFT_E2E_TEST(e2e_reload_100_changes_under_load)
{
	static long t_write[NSTEPS + 1], t_applied[NSTEPS + 1];
	static unsigned int set[NSTEPS + 1];
	static int settled[NSTEPS + 1];
	int weight[MAX_WEB] = { 1, 1, 1, 1, 1 }, removals = 0, adds = 0, reweights = 0;
	struct sb_loop loop = { .addr = VIP, .port = 80, .max_ms = 60000, .pause_us = 200 };
	size_t bad = 0, covered = 0, in_window = 0;
	unsigned int seed = 20240601, mask = 0x1f;
	long long gen0;
	struct reload_env e;
	int steps = 0, windows = 0;

	if (!reload_up(&e, MAX_WEB, mask))
		goto out;
	gen0 = sb_agent_generation(&e.agent);
	if (!ASSERT_GE(gen0, 1, "generation after start") ||
	    !ASSERT_OK(sb_loop_start(&loop, &e.in_cg, "loop"), "connect loop"))
		goto out;
	set[0] = mask;
	t_applied[0] = 0;
	sb_sleep_ms(200);

	for (int s = 1; s <= NSTEPS; s++) {
		unsigned int present = (unsigned int)__builtin_popcount(mask);
		int op = (int)(prng(&seed) % 3), k = (int)(prng(&seed) % MAX_WEB);

		if (op == 0 && present == 1)
			op = 1;
		if (op == 1 && present == MAX_WEB)
			op = 0;
		if (op == 0) {        /* remove the k-th present backend (cyclic) */
			while (!(mask & (1u << k)))
				k = (k + 1) % MAX_WEB;
			mask &= ~(1u << k);
			removals++;
		} else if (op == 1) { /* add the k-th absent one */
			while (mask & (1u << k))
				k = (k + 1) % MAX_WEB;
			mask |= 1u << k;
			adds++;
		} else {              /* another weight for a present one */
			while (!(mask & (1u << k)))
				k = (k + 1) % MAX_WEB;
			weight[k] = weight[k] % 4 + 1;
			reweights++;
		}
		set[s] = mask;
		t_write[s] = sb_now_ms();
		if (!ASSERT_OK(write_backends(&e.agent, mask, weight), "rewrite backends") ||
		    !ASSERT_OK(wait_generation(&e.agent, gen0 + s, 10000),
			       "change applied (ready: generation N)"))
			break;
		t_applied[s] = sb_now_ms();
		steps = s;
		/* let the loop connect under this config before the next */
		sb_sleep_ms(SETTLE_MS);
	}
	test_log("  %d changes applied: %d removals, %d additions, %d weight changes\n",
		 steps, removals, adds, reweights);
	ASSERT_EQ(steps, NSTEPS, "every change applied");
	ASSERT_EQ(listed_mask(&e.agent), (int)mask,
		  "weft service list: the last change's backends");
	sb_sleep_ms(200);

	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	test_log("  %zu connections during the changes, %zu failed\n", loop.nrecs,
		 loop.nfailed);
	ASSERT_EQ(loop.nfailed, 0, "no connection failed");
	ASSERT_GE(loop.nrecs, 500, "the loop kept connecting");
	for (size_t i = 0; i < loop.nrecs; i++) {
		const struct sb_loop_rec *r = &loop.recs[i];
		int lo = 0, hi = 0, n = web_no(r->name);
		unsigned int allowed = 0;

		if (r->err)
			continue;
		/* lo: last change applied before connect(); hi: last written */
		for (int s = 1; s <= steps; s++) {
			if (t_applied[s] <= r->t0)
				lo = s;
			if (t_write[s] <= r->t0)
				hi = s;
		}
		for (int s = lo; s <= hi; s++)
			allowed |= set[s];
		in_window += lo != hi;
		covered += lo == hi && lo > 0;
		if (lo == hi)
			settled[lo]++;
		if (n && (allowed & (1u << (n - 1))))
			continue;
		if (bad++ < 5)
			printf("%s: connection at %ld ms (change %d applied at %ld, next written at %ld) answered by \"%s\", not in set 0x%x\n",
			       test_name(), r->t0, lo, t_applied[lo],
			       lo < steps ? t_write[lo + 1] : -1L, r->name, allowed);
	}
	for (int s = 1; s <= steps; s++)
		windows += settled[s] > 0;
	test_log("  %zu connections made under a settled config (in %d of %d windows), %zu during a change\n",
		 covered, windows, steps, in_window);
	ASSERT_EQ(bad, 0, "every connection answered by a backend of the config in force");
	/* each change stays in force SETTLE_MS before the next is written */
	ASSERT_GE(windows, NSTEPS * 9 / 10, "connections made under (nearly) every change");
	ASSERT_TRUE(SB_WAIT_UNTIL(sb_agent_http(NULL, &e.agent, "/healthz/ready") == 200,
				  3000), "still ready");
out:
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * 2. SIGHUP: a change written without any event weftd watches (the file
 * truncated and written through a descriptor kept open: IN_MODIFY only) is
 * not applied until SIGHUP, then is, with the loop still connecting.
 */
WEFT_E2E_TEST(e2e_reload_sighup)
{
	struct sb_loop loop = { .addr = VIP, .port = 80, .max_ms = 60000, .pause_us = 500 };
	struct sb_tally t = { .addr = VIP, .port = 80, .count = 60, .cpu = -1 };
	char path[PATH_MAX + 32], text[4096];
	struct reload_env e;
	long long gen0 = -1;
	long t_applied = 0;
	size_t late = 0;
	int fd = -1;

	if (!reload_up(&e, 3, 0x7))
		goto out;
	gen0 = sb_agent_generation(&e.agent);
	if (!ASSERT_OK(sb_loop_start(&loop, &e.in_cg, "loop"), "connect loop"))
		goto out;

	snprintf(path, sizeof(path), "%s/reload-backends.yaml", e.agent.config_dir);
	backends_yaml(text, sizeof(text), 0x3, NULL); /* web-3 goes */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (!ASSERT_GE(fd, 0, "open reload-backends.yaml") ||
	    !ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text),
		       "write without closing"))
		goto out;
	sb_sleep_ms(500);
	ASSERT_EQ(sb_agent_generation(&e.agent), gen0,
		  "nothing applied before SIGHUP (no watched event)");
	ASSERT_EQ(listed_mask(&e.agent), 0x7, "web-3 still listed before SIGHUP");

	if (!ASSERT_OK(kill(e.agent.proc.pid, SIGHUP), "SIGHUP") ||
	    !ASSERT_OK(wait_generation(&e.agent, gen0 + 1, 5000), "applied on SIGHUP"))
		goto out;
	t_applied = sb_now_ms();
	ASSERT_OK(sb_proc_wait_log(&e.agent.proc, "SIGHUP: reloading", 1000),
		  "weftd says the reload came from SIGHUP");
	ASSERT_EQ(listed_mask(&e.agent), 0x3, "weft service list: web-3 gone");
	if (ASSERT_OK(sb_tally_run(&t, &e.in_cg), "60 connections") &&
	    ASSERT_EQ(t.failed, 0, "60 connections after SIGHUP")) {
		ASSERT_EQ(sb_tally_hits(&t, "web-3"), 0, "web-3 gets no new connection");
		ASSERT_GE(sb_tally_hits(&t, "web-1"), 1, "web-1 serves");
		ASSERT_GE(sb_tally_hits(&t, "web-2"), 1, "web-2 serves");
	}
	/* Closing the file is an IN_CLOSE_WRITE: one more (identical) apply. */
	close(fd);
	fd = -1;
	ASSERT_OK(wait_generation(&e.agent, gen0 + 2, 5000), "inotify reload on close");

	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	ASSERT_EQ(loop.nfailed, 0, "no connection of the loop failed");
	ASSERT_GE(loop.nrecs, 50, "the loop kept connecting");
	for (size_t i = 0; i < loop.nrecs; i++)
		late += loop.recs[i].t0 >= t_applied && !strcmp(loop.recs[i].name, "web-3");
	ASSERT_EQ(late, 0, "no loop connection reached web-3 after the SIGHUP apply");
out:
	if (fd >= 0)
		close(fd);
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* `weft -j status` compacted (the JSON object of the node), malloc'd. */
static char *status_json(const struct sb_agent *a)
{
	struct sb_result r;
	char *obj = NULL;

	if (!sb_weft(&r, a, SB_ARGV("-j", "status")))
		obj = sb_json_object_with(r.out, "node", a->what);
	sb_result_free(&r);
	return obj;
}

static long long metric(const struct sb_agent *a, const char *name)
{
	struct sb_result r;
	long long v = -1;

	if (sb_agent_http(&r, a, "/metrics") == 200)
		v = sb_prom_sum(r.out, name, NULL);
	sb_result_free(&r);
	return v;
}

/*
 * 3. A broken file is rejected whole while the loop runs: the datapath
 * keeps the old config (the backend change written with it is not
 * applied), `weft status` reports the rejection in text and JSON, the
 * metrics count it; the next good config is applied and clears the
 * report.
 */
WEFT_E2E_TEST(e2e_reload_rejected_config)
{
	struct sb_loop loop = { .addr = VIP, .port = 80, .max_ms = 60000, .pause_us = 500 };
	struct sb_tally t = { .addr = VIP, .port = 80, .count = 60, .cpu = -1 };
	struct sb_result r = {};
	long long gen0 = -1, rejected;
	struct reload_env e;
	char *st = NULL;
	size_t late = 0;
	long t_fixed;

	if (!reload_up(&e, 3, 0x7))
		goto out;
	gen0 = sb_agent_generation(&e.agent);
	ASSERT_EQ(metric(&e.agent, "weft_config_reload_errors_total"), 0,
		  "no reload error at start");
	if (!ASSERT_OK(sb_loop_start(&loop, &e.in_cg, "loop"), "connect loop"))
		goto out;

	/* A file that does not parse, then a change that would drop web-3. */
	if (!ASSERT_OK(sb_agent_config(&e.agent, "broken.yaml", "zz-broken.yaml"),
		       "broken file") ||
	    !ASSERT_OK(write_backends(&e.agent, 0x3, NULL), "drop web-3") ||
	    !ASSERT_OK(sb_proc_wait_log(&e.agent.proc, "zz-broken.yaml:8:", 5000),
		       "weftd logs zz-broken.yaml:8:"))
		goto out;
	/* let a reload for the second write, if separate, finish too */
	sb_sleep_ms(300);
	ASSERT_FALSE(sb_proc_exited(&e.agent.proc), "weftd keeps running");
	ASSERT_EQ(sb_agent_generation(&e.agent), gen0, "generation unchanged");
	ASSERT_EQ(listed_mask(&e.agent), 0x7, "old config in force: web-3 listed");
	if (ASSERT_OK(sb_tally_run(&t, &e.in_cg), "60 connections") &&
	    ASSERT_EQ(t.failed, 0, "60 connections while rejected"))
		ASSERT_GE(sb_tally_hits(&t, "web-3"), 1, "web-3 still served");
	ASSERT_EQ(sb_agent_http(NULL, &e.agent, "/healthz/ready"), 200, "still ready");

	st = status_json(&e.agent);
	rejected = sb_json_int(st, "rejected_total");
	ASSERT_GE(rejected, 1, "weft -j status: rejected_total");
	ASSERT_HAS(st, "\"rejected_at\":\"20", "weft -j status: rejected_at is a time");
	ASSERT_HAS(st, "zz-broken.yaml:8:", "weft -j status: rejected_reason says file:line");
	ASSERT_EQ(sb_json_int(st, "generation"), gen0, "weft -j status: generation");
	free(st);
	st = NULL;
	sb_weft(&r, &e.agent, SB_ARGV("status"));
	ASSERT_EQ(r.status, 0, "weft status");
	ASSERT_HAS(r.out, "rejected:     ", "weft status: rejected count");
	ASSERT_HAS(r.out, "rejected at:  20", "weft status: rejected at");
	ASSERT_HAS(r.out, "zz-broken.yaml:8:", "weft status: reason");
	sb_result_free(&r);
	ASSERT_EQ(metric(&e.agent, "weft_config_reload_errors_total"), rejected,
		  "weft_config_reload_errors_total counts the rejections");

	/* Fixed: the pending change (web-3 dropped) applies, the report goes. */
	if (!ASSERT_OK(sb_agent_remove_config(&e.agent, "zz-broken.yaml"), "rm broken") ||
	    !ASSERT_OK(wait_generation(&e.agent, gen0 + 1, 5000), "good config applied"))
		goto out;
	t_fixed = sb_now_ms();
	ASSERT_EQ(listed_mask(&e.agent), 0x3, "web-3 dropped by the good config");
	st = status_json(&e.agent);
	ASSERT_HAS(st, "\"rejected_at\":null", "weft -j status: rejected_at cleared");
	ASSERT_HAS(st, "\"rejected_reason\":null", "weft -j status: rejected_reason cleared");
	ASSERT_EQ(sb_json_int(st, "rejected_total"), rejected,
		  "weft -j status: rejected_total is a total");
	sb_weft(&r, &e.agent, SB_ARGV("status"));
	ASSERT_FALSE(strstr(r.out, "rejected at:"), "weft status: no rejection shown");
	sb_result_free(&r);
	ASSERT_GE(metric(&e.agent, "weft_config_reloads_total"), 1,
		  "weft_config_reloads_total");
	ASSERT_EQ(metric(&e.agent, "weft_config_generation"), gen0 + 1,
		  "weft_config_generation");

	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	ASSERT_EQ(loop.nfailed, 0, "no connection of the loop failed");
	ASSERT_GE(loop.nrecs, 50, "the loop kept connecting");
	for (size_t i = 0; i < loop.nrecs; i++)
		late += loop.recs[i].t0 >= t_fixed && !strcmp(loop.recs[i].name, "web-3");
	ASSERT_EQ(late, 0, "no loop connection reached web-3 after the good config");
out:
	free(st);
	sb_result_free(&r);
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/* canary-vs.yaml: canary's connections to echo v1 and v2 by weight. */
static int write_canary_vs(const struct sb_agent *a, int w1, int w2)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "# written by test_reload.c\n"
		 "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		 "metadata: {name: canary, namespace: default}\n"
		 "spec:\n  hosts: [canary]\n  tcp:\n  - route:\n"
		 "    - destination: {host: echo, subset: v1, port: {number: 9000}}\n"
		 "      weight: %d\n"
		 "    - destination: {host: echo, subset: v2, port: {number: 9000}}\n"
		 "      weight: %d\n", w1, w2);
	return sb_agent_write_config(a, "canary-vs.yaml", text);
}

/*
 * 4. A traffic shift (Istio's "TCP traffic shifting" task) under load:
 * canary's route goes from all-v1 to all-v2 in one VirtualService
 * rewrite.  The route is one map element, so every connection made before
 * the write reaches v1, every one made after the apply reaches v2, none
 * fails; then 50/50 splits a tally.
 */
WEFT_E2E_TEST(e2e_reload_traffic_shift)
{
	struct sb_loop loop = { .addr = "10.96.1.30", .port = 9000, .max_ms = 60000,
				.pause_us = 300 };
	struct sb_tally t = { .addr = "10.96.1.30", .port = 9000, .count = 2000, .cpu = -1 };
	size_t before_v1 = 0, before = 0, after_v2 = 0, after = 0;
	struct reload_env e;
	long t_write, t_applied;
	long long gen;

	memset(&e, 0, sizeof(e));
	if (!sb_web_up(&e.client, e.web, e.srv, 3, false, 8080, 0))
		goto out;
	if (!ASSERT_OK(sb_agent_init(&e.agent, "node", e.client.netns, 15020), "agent") ||
	    !ASSERT_OK(sb_agent_config(&e.agent, "split.yaml", NULL), "split.yaml") ||
	    !ASSERT_OK(sb_agent_config(&e.agent, "canary.yaml", NULL), "canary.yaml") ||
	    !ASSERT_OK(write_canary_vs(&e.agent, 100, 0), "canary 100/0") ||
	    !ASSERT_OK(sb_agent_start(&e.agent, NULL), "weftd"))
		goto out;
	e.in_cg = (struct sb_place){ e.agent.cgroup, e.client.netns };
	gen = sb_agent_generation(&e.agent);

	if (!ASSERT_OK(sb_loop_start(&loop, &e.in_cg, "loop"), "connect loop"))
		goto out;
	sb_sleep_ms(300);
	t_write = sb_now_ms();
	if (!ASSERT_OK(write_canary_vs(&e.agent, 0, 100), "canary 0/100") ||
	    !ASSERT_OK(wait_generation(&e.agent, gen + 1, 5000), "shift applied"))
		goto out;
	t_applied = sb_now_ms();
	sb_sleep_ms(300);
	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	ASSERT_EQ(loop.nfailed, 0, "no connection failed during the shift");
	for (size_t i = 0; i < loop.nrecs; i++) {
		const struct sb_loop_rec *r = &loop.recs[i];

		if (r->t1 < t_write) {
			before++;
			before_v1 += !strcmp(r->name, "web-1");
		} else if (r->t0 >= t_applied) {
			after++;
			after_v2 += !strcmp(r->name, "web-2");
		}
	}
	test_log("  before the write: %zu of %zu to v1; after the apply: %zu of %zu to v2\n",
		 before_v1, before, after_v2, after);
	ASSERT_GE(before, 50, "connections before the shift");
	ASSERT_EQ(before_v1, before, "before the shift: every connection to v1");
	ASSERT_GE(after, 50, "connections after the shift");
	ASSERT_EQ(after_v2, after, "after the shift: every connection to v2");

	if (!ASSERT_OK(write_canary_vs(&e.agent, 50, 50), "canary 50/50") ||
	    !ASSERT_OK(wait_generation(&e.agent, gen + 2, 5000), "50/50 applied"))
		goto out;
	if (ASSERT_OK(sb_tally_run(&t, &e.in_cg), "2000 connections") &&
	    ASSERT_EQ(t.failed, 0, "2000 connections at 50/50")) {
		double v1 = sb_tally_pct(&t, "web-1");

		/* sd = sqrt(.5 * .5 / 2000) = 1.1 points: 4 is 3.6 sd */
		ASSERT_TRUE(v1 >= 46 && v1 <= 54, "50/50: v1 between 46% and 54%");
		ASSERT_EQ(sb_tally_hits(&t, "web-1") + sb_tally_hits(&t, "web-2"), 2000,
			  "50/50: only v1 and v2");
	}
out:
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}

/*
 * A config dir laid out as the kubelet mounts a ConfigMap: the files are
 * symlinks through "..data" to a timestamped directory, and an update
 * writes a new directory and swaps ..data with one rename.
 */
static int configmap_version(const struct sb_agent *a, int version,
			     unsigned int mask)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128], tmp[PATH_MAX + 64];
	char src[PATH_MAX], text[4096], target[64];
	int err;

	snprintf(target, sizeof(target), "..2024_06_01_00_00_%02d.%d", version, version);
	snprintf(dir, sizeof(dir), "%s/%s", a->config_dir, target);
	if (mkdir(dir, 0755))
		return -errno;
	sb_data(src, sizeof(src), "reload-svc.yaml");
	snprintf(path, sizeof(path), "%s/reload-svc.yaml", dir);
	err = sb_copy_file(src, path);
	backends_yaml(text, sizeof(text), mask, NULL);
	snprintf(path, sizeof(path), "%s/reload-backends.yaml", dir);
	err = err ?: sb_write_file(path, text);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", a->config_dir);
	snprintf(path, sizeof(path), "%s/..data", a->config_dir);
	if (symlink(target, tmp) || rename(tmp, path))
		return -errno;
	if (version > 1) { /* the kubelet removes the old version */
		char old[PATH_MAX + 128];

		snprintf(old, sizeof(old), "%s/..2024_06_01_00_00_%02d.%d/reload-svc.yaml",
			 a->config_dir, version - 1, version - 1);
		unlink(old);
		snprintf(old, sizeof(old), "%s/..2024_06_01_00_00_%02d.%d/reload-backends.yaml",
			 a->config_dir, version - 1, version - 1);
		unlink(old);
		snprintf(old, sizeof(old), "%s/..2024_06_01_00_00_%02d.%d", a->config_dir,
			 version - 1, version - 1);
		rmdir(old);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "reload-backends.yaml" : "reload-svc.yaml";
		char link[PATH_MAX + 64], to[128];

		snprintf(link, sizeof(link), "%s/%s", a->config_dir, name);
		snprintf(to, sizeof(to), "..data/%s", name);
		if (symlink(to, link))
			return -errno;
	}
	return 0;
}

/* 5. A ConfigMap update (the ..data symlink swapped) is picked up. */
WEFT_E2E_TEST(e2e_reload_configmap_swap)
{
	struct sb_loop loop = { .addr = VIP, .port = 80, .max_ms = 60000, .pause_us = 500 };
	struct reload_env e;
	long long gen;
	long t_applied = 0;
	size_t late = 0;

	memset(&e, 0, sizeof(e));
	if (!sb_web_up(&e.client, e.web, e.srv, 3, false, 8080, 0))
		goto out;
	if (!ASSERT_OK(sb_agent_init(&e.agent, "node", e.client.netns, 15020), "agent") ||
	    !ASSERT_OK(configmap_version(&e.agent, 1, 0x7), "ConfigMap, first version") ||
	    !ASSERT_OK(sb_agent_start(&e.agent, NULL), "weftd"))
		goto out;
	e.in_cg = (struct sb_place){ e.agent.cgroup, e.client.netns };
	gen = sb_agent_generation(&e.agent);
	ASSERT_EQ(listed_mask(&e.agent), 0x7, "three backends through the symlinks");
	if (!ASSERT_OK(sb_loop_start(&loop, &e.in_cg, "loop"), "connect loop"))
		goto out;
	sb_sleep_ms(200);
	if (!ASSERT_OK(configmap_version(&e.agent, 2, 0x3), "ConfigMap update") ||
	    !ASSERT_OK(wait_generation(&e.agent, gen + 1, 5000), "update applied"))
		goto out;
	t_applied = sb_now_ms();
	ASSERT_EQ(listed_mask(&e.agent), 0x3, "web-3 gone");
	sb_sleep_ms(300);
	ASSERT_EQ(sb_loop_stop(&loop), 0, "connect loop exits 0");
	ASSERT_EQ(loop.nfailed, 0, "no connection failed");
	for (size_t i = 0; i < loop.nrecs; i++)
		late += loop.recs[i].t0 >= t_applied && !strcmp(loop.recs[i].name, "web-3");
	ASSERT_EQ(late, 0, "no connection reached web-3 after the update");
out:
	sb_loop_free(&loop);
	ASSERT_EQ(sb_teardown(), 0, "teardown left nothing");
}
