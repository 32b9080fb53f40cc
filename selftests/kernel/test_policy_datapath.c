// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf/policy.bpf.c against the compiled tables, in the real kernel.
 *
 * Every policy fixture of selftests/data/policy is compiled and written
 * by the agent's own apply_policy() into a loaded datapath; then a SYN for
 * every connection the unit tests try (every workload and addresses and
 * ports around what the policies name) goes through weft_policy_ingress
 * with BPF_PROG_TEST_RUN.  The program must pass exactly the connections
 * policy_evaluate() allows — the function `weft policy explain` uses — and
 * count and report each decision (weft_policy_stats, weft_policy_events).
 * A second apply then swaps the generation: decisions follow the new
 * tables at once and garbage collection leaves only the new rows.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/apply_policy.h"
#include "agent/loader.h"
#include "datapath.h"
#include "sysfs.h"
#include "test.h"
#include "../unit/policy_test_util.h"

#define ETH_HLEN 14
#define PKT_MAX 128

struct pd_env {
	char cgroup_root[PATH_MAX];
	char pin_dir[PATH_MAX];
	struct loader *loader;
	int prog;
};

static bool pd_setup(struct pd_env *env)
{
	memset(env, 0, sizeof(*env));
	if (geteuid() != 0) {
		test_skip("needs root");
		return false;
	}
	snprintf(env->pin_dir, sizeof(env->pin_dir),
		 "/sys/fs/bpf/weft-ktest-%d", getpid());
	/* Loaded, never attached: the cgroup is only opened. */
	if (!ASSERT_OK(sysfs_cgroup2_mount(env->cgroup_root,
					   sizeof(env->cgroup_root)),
		       "cgroup2") ||
	    !ASSERT_OK(loader_open(env->cgroup_root, env->pin_dir,
				   &env->loader), "loader_open"))
		return false;
	env->prog = loader_prog_fd(env->loader, "weft_policy_ingress");
	return ASSERT_GE(env->prog, 0, "weft_policy_ingress");
}

static void pd_teardown(struct pd_env *env)
{
	loader_free(env->loader);
	ASSERT_OK(datapath_uninstall(env->pin_dir), "uninstall");
}

static bool is_v4(const union weft_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff);
}

/*
 * An Ethernet frame carrying a TCP segment (flags) or UDP datagram from
 * src:40000 to dst:port; with hop_by_hop an IPv6 hop-by-hop header sits
 * in front of the transport header.  Returns its length, 0 when the two
 * addresses are of different families.
 */
static size_t pkt_build(unsigned char *p, const union weft_addr *src,
			const union weft_addr *dst, uint16_t port, uint8_t proto,
			uint8_t tcp_flags, bool hop_by_hop)
{
	size_t l3, l4_len = proto == IPPROTO_TCP ? 20 : 8, off;
	unsigned char *l4;

	memset(p, 0, PKT_MAX);
	if (is_v4(src) != is_v4(dst))
		return 0;
	if (is_v4(src)) {
		p[12] = 0x08;
		p[13] = 0x00;
		l3 = 20;
		p[ETH_HLEN] = 0x45;
		p[ETH_HLEN + 2] = 0;
		p[ETH_HLEN + 3] = (unsigned char)(l3 + l4_len);
		p[ETH_HLEN + 8] = 64;
		p[ETH_HLEN + 9] = proto;
		memcpy(p + ETH_HLEN + 12, &src->w[3], 4);
		memcpy(p + ETH_HLEN + 16, &dst->w[3], 4);
	} else {
		size_t ext = hop_by_hop ? 8 : 0;

		p[12] = 0x86;
		p[13] = 0xdd;
		l3 = 40 + ext;
		p[ETH_HLEN] = 0x60;
		p[ETH_HLEN + 5] = (unsigned char)(ext + l4_len);
		p[ETH_HLEN + 6] = hop_by_hop ? 0 : proto;
		p[ETH_HLEN + 7] = 64;
		memcpy(p + ETH_HLEN + 8, src->b, 16);
		memcpy(p + ETH_HLEN + 24, dst->b, 16);
		if (hop_by_hop) {
			p[ETH_HLEN + 40] = proto; /* next header */
			p[ETH_HLEN + 41] = 0;     /* 8 bytes in all */
			p[ETH_HLEN + 42] = 1;     /* PadN */
			p[ETH_HLEN + 43] = 4;
		}
	}
	off = ETH_HLEN + l3;
	l4 = p + off;
	l4[0] = 40000 >> 8;
	l4[1] = 40000 & 0xff;
	l4[2] = (unsigned char)(port >> 8);
	l4[3] = (unsigned char)port;
	if (proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
	} else {
		l4[5] = (unsigned char)l4_len;
	}
	return off + l4_len;
}

/* 1: passed, 0: dropped, negative errno when the run failed. */
static int pd_run(const struct pd_env *env, const unsigned char *pkt,
		  size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = (__u32)len, .repeat = 1);
	int err = bpf_prog_test_run_opts(env->prog, &opts);

	return err ? err : (int)opts.retval;
}

/* Expected tallies of one pass, from policy_evaluate(). */
struct pd_tally {
	size_t runs, decided, denied, audited;
	size_t events;   /* denies and audits: one event each */
	size_t by_reason[WEFT_POLICY_REASON__MAX][2];
	unsigned int mismatches;
};

static void pd_one(const struct pd_env *env, const struct policy_state *ps,
		   const union weft_addr *src, const union weft_addr *dst,
		   uint16_t port, uint8_t proto, struct pd_tally *t)
{
	struct weft_policy_verdict v;
	unsigned char pkt[PKT_MAX];
	char s1[64], s2[64];
	size_t len = pkt_build(pkt, src, dst, port, proto, 0x02, false);
	int got;

	if (!len)
		return;
	policy_evaluate(ps, src, dst, port, proto, &v);
	got = pd_run(env, pkt, len);
	t->runs++;
	if (v.reason != WEFT_POLICY_REASON_NO_POLICY &&
	    v.reason != WEFT_POLICY_REASON_NOT_ENFORCED) {
		t->decided++;
		t->by_reason[v.reason][v.action]++;
		t->denied += v.action == WEFT_POLICY_ACTION_DENY;
		t->audited += !!(v.flags & WEFT_POLICY_F_AUDIT);
		t->events += v.action == WEFT_POLICY_ACTION_DENY ||
			     (v.flags & WEFT_POLICY_F_AUDIT);
	}
	if (got == (v.action == WEFT_POLICY_ACTION_ALLOW))
		return;
	if (t->mismatches++ < 8)
		test_fail(__FILE__, __LINE__,
			  "%s -> %s:%u/%u: datapath %d, tables %s (%s)",
			  weft_addr_str(src, s1, sizeof(s1)),
			  weft_addr_str(dst, s2, sizeof(s2)), port, proto, got,
			  v.action == WEFT_POLICY_ACTION_ALLOW ? "allow" : "deny",
			  policy_reason_name(v.reason));
}

/* Every gathered TCP (and UDP) connection through the program. */
static void pd_pass(const struct pd_env *env, const struct pt *t,
		    struct pd_tally *tally)
{
	struct addrs as;
	struct ports pp;

	memset(tally, 0, sizeof(*tally));
	gather(t, &as, &pp);
	for (size_t s = 0; s < as.n; s++)
		for (size_t d = 0; d < as.n; d++)
			for (size_t p = 0; p < pp.n; p++) {
				pd_one(env, &t->ps, &as.v[s], &as.v[d],
				       pp.v[p], IPPROTO_TCP, tally);
				pd_one(env, &t->ps, &as.v[s], &as.v[d],
				       pp.v[p], IPPROTO_UDP, tally);
			}
	test_log("%zu SYNs/datagrams: %zu decided by policy, %zu denied, %zu audited\n",
		 tally->runs, tally->decided, tally->denied, tally->audited);
}

/* Sum weft_policy_stats over CPUs into [reason][action] (audit rows
 * apart). */
static void pd_stats(const struct datapath_maps *maps,
		     size_t by_reason[WEFT_POLICY_REASON__MAX][2],
		     size_t *audit_rows_total)
{
	struct weft_policy_stats_key key, *prev = NULL;
	int ncpus = datapath_ncpus();
	__u64 *vals = calloc((size_t)ncpus, sizeof(*vals));

	memset(by_reason, 0, sizeof(size_t) * WEFT_POLICY_REASON__MAX * 2);
	*audit_rows_total = 0;
	while (vals && !bpf_map_get_next_key(maps->policy_stats, prev, &key)) {
		size_t sum = 0;

		prev = &key;
		if (bpf_map_lookup_elem(maps->policy_stats, &key, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += vals[c];
		if (key.audit)
			*audit_rows_total += sum;
		else if (key.reason < WEFT_POLICY_REASON__MAX && key.action < 2)
			by_reason[key.reason][key.action] += sum;
	}
	free(vals);
}

static int count_event(void *ctx, void *data, size_t len)
{
	(void)data;
	if (len == sizeof(struct weft_policy_event))
		(*(size_t *)ctx)++;
	return 0;
}

static size_t map_rows(int fd, size_t key_size)
{
	unsigned char prev[64], key[64];
	size_t n = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : prev, key)) {
		first = false;
		memcpy(prev, key, key_size);
		n++;
	}
	return n;
}

WEFT_KERNEL_TEST(policy_datapath_agrees_with_tables)
{
	size_t stats[WEFT_POLICY_REASON__MAX][2], audit_total, events = 0;
	const struct datapath_maps *maps;
	struct apply_policy_result res;
	struct ring_buffer *rb = NULL;
	struct pd_tally tally;
	struct pd_env env;
	__u64 lost = 0;
	struct pt t = {}, t2 = {};

	if (!pd_setup(&env))
		goto out;
	maps = loader_maps(env.loader);
	if (!pt_load_all(&t) || !ASSERT_OK(apply_policy(maps, &t.ps, 1, &res),
					   "apply"))
		goto out;
	ASSERT_EQ(res.gen, 1, "first apply writes generation 1");
	rb = ring_buffer__new(maps->policy_events, count_event, &events, NULL);
	if (!ASSERT_NOT_NULL(rb, "ring buffer"))
		goto out;

	pd_pass(&env, &t, &tally);
	ASSERT_EQ(tally.mismatches, 0, "datapath == tables on every connection");
	ASSERT_GE(tally.denied, 100, "the fixtures deny plenty");

	/* counters: per reason and action exactly as the tables decided */
	pd_stats(maps, stats, &audit_total);
	for (int r = 0; r < WEFT_POLICY_REASON__MAX; r++)
		for (int a = 0; a < 2; a++)
			if (stats[r][a] != tally.by_reason[r][a])
				test_fail(__FILE__, __LINE__,
					  "%s/%s: counted %zu, decided %zu",
					  policy_reason_name(r),
					  a ? "allow" : "deny", stats[r][a],
					  tally.by_reason[r][a]);
	ASSERT_EQ(audit_total, tally.audited, "audit rows");

	/* events: every deny and every audit, or counted as lost */
	ring_buffer__consume(rb);
	datapath_counter_read(maps->counters, WEFT_CNT_POLICY_EVENTS_LOST,
			      &lost);
	test_log("events: %zu read, %llu lost\n", events,
		 (unsigned long long)lost);
	ASSERT_EQ(events + lost, tally.events, "one event per deny or audit");

	/* packets that start nothing pass untouched; extension headers do
	 * not hide a SYN */
	{
		union weft_addr any = A("::"), v6dst = { 0 };
		unsigned char pkt[PKT_MAX];
		struct weft_policy_verdict v;
		bool found = false;
		size_t len;

		/* an IPv6 destination some policy denies from "::" */
		for (size_t i = 0; i < t.ps.ndst && !found; i++) {
			v6dst = t.ps.dst[i].k.addr;
			if (is_v4(&v6dst))
				continue;
			policy_evaluate(&t.ps, &any, &v6dst, 80, IPPROTO_TCP, &v);
			found = v.action == WEFT_POLICY_ACTION_DENY;
		}
		if (ASSERT_TRUE(found, "an IPv6 workload that denies")) {
			size_t before, after, audit;

			/* a client retrying its SYN (same ISN) is one
			 * attempt: counted and reported once; a new ISN is
			 * a new attempt */
			pd_stats(maps, stats, &audit);
			before = stats[v.reason][0];
			len = pkt_build(pkt, &any, &v6dst, 80, IPPROTO_TCP,
					0x02, false);
			pkt[len - 20 + 7] = 0x2a; /* sequence number 42 */
			events = 0;
			ring_buffer__consume(rb);
			events = 0;
			for (int i = 0; i < 3; i++)
				ASSERT_EQ(pd_run(&env, pkt, len), 0,
					  "SYN and its retries dropped");
			pkt[len - 20 + 7] = 0x2b;
			ASSERT_EQ(pd_run(&env, pkt, len), 0, "new attempt dropped");
			ring_buffer__consume(rb);
			pd_stats(maps, stats, &audit);
			after = stats[v.reason][0];
			ASSERT_EQ(after - before, 2, "two attempts counted, not four SYNs");
			ASSERT_EQ(events, 2, "two attempts reported");

			len = pkt_build(pkt, &any, &v6dst, 80, IPPROTO_TCP,
					0x02, true);
			ASSERT_EQ(pd_run(&env, pkt, len), 0,
				  "SYN behind a hop-by-hop header: dropped");
			len = pkt_build(pkt, &any, &v6dst, 80, IPPROTO_TCP,
					0x12, false);
			ASSERT_EQ(pd_run(&env, pkt, len), 1, "SYN-ACK passes");
			len = pkt_build(pkt, &any, &v6dst, 80, IPPROTO_TCP,
					0x10, false);
			ASSERT_EQ(pd_run(&env, pkt, len), 1, "ACK passes");
		}
	}

	/*
	 * Second generation: the empty-policy fixture alone.  Decisions
	 * follow it at once; after garbage collection only its rows are
	 * left.
	 */
	if (!pt_load(&t2, "selftests/data/policy/audit.yaml", NULL) ||
	    !ASSERT_OK(t2.err, "compile audit.yaml") ||
	    !ASSERT_OK(apply_policy(maps, &t2.ps, 2, &res), "apply 2"))
		goto out;
	ASSERT_EQ(res.gen, 0, "second apply writes generation 0");
	ASSERT_GE(res.policies_removed, 1, "policies removed");
	pd_pass(&env, &t2, &tally);
	ASSERT_EQ(tally.mismatches, 0, "datapath == new tables at once");
	ASSERT_GE(apply_policy_collect_garbage(maps), 1, "old rows deleted");
	ASSERT_EQ(map_rows(maps->policy_dst, sizeof(struct weft_policy_dst_key)),
		  t2.ps.ndst, "dst rows of the new generation only");
	ASSERT_EQ(map_rows(maps->policy_verdict,
			   sizeof(struct weft_policy_verdict_key)),
		  t2.ps.nverdicts, "verdict rows of the new generation only");
	ASSERT_EQ(map_rows(maps->policy_src_net,
			   sizeof(struct weft_policy_src_net_key)),
		  t2.ps.nsrc_net, "LPM rows of the new generation only");
	ASSERT_EQ(map_rows(maps->policy_meta, sizeof(__u32)),
		  t2.ps.npolicies, "names of removed policies forgotten");
	pd_pass(&env, &t2, &tally);
	ASSERT_EQ(tally.mismatches, 0, "and still after garbage collection");
out:
	ring_buffer__free(rb);
	pt_free(&t);
	pt_free(&t2);
	pd_teardown(&env);
}
