/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * AuthorizationPolicy decisions for one connection: the fixed chain of map
 * lookups that user/lib/policy.h describes (and user/lib/policy_eval.c's
 * policy_evaluate() makes on the same tables, so `weft policy explain`
 * and the datapath agree by construction), then the accounting: per-policy
 * and per-reason counters, and an event for every deny and audit.
 *
 * Cost is flat in the number of rules: at most three hash lookups, one LPM
 * lookup and two hash lookups, whatever the config holds.
 */
#ifndef WEFT_BPF_POLICY_H
#define WEFT_BPF_POLICY_H

#include "common.h"
#include "counters.h"
#include "maps.h"

static __always_inline const struct weft_policy_config *policy_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&weft_policy_config, &zero);
}

static __always_inline __u32 policy_proto_bit(__u8 proto)
{
	return proto == IPPROTO_TCP ? WEFT_POLICY_PROTO_TCP :
	       proto == IPPROTO_UDP ? WEFT_POLICY_PROTO_UDP : 0;
}

/*
 * Is any policy in force for proto?  Callers test this first, so a node
 * without AuthorizationPolicy pays one array lookup per decision point.
 */
static __always_inline bool policy_active(const struct weft_policy_config *cfg,
					  __u8 proto)
{
	return cfg && cfg->nsets && (cfg->enforced_protos & policy_proto_bit(proto));
}

/*
 * Decide c under cfg's generation.  *identity gets the peer's (tagged)
 * identity, for the event.  Returns false when no policy applies to the
 * destination (allow, nothing to count: the common case for traffic to
 * workloads without policy), true with *out filled otherwise.
 */
static __always_inline bool policy_decide(const struct weft_policy_config *cfg,
					  const struct weft_policy_conn *c,
					  struct weft_policy_verdict *out,
					  __u32 *identity)
{
	struct weft_policy_dst_key dk = {};
	struct weft_policy_ident_key ik = {};
	struct weft_policy_src_ident_key sk = {};
	struct weft_policy_src_net_key nk = {};
	struct weft_policy_verdict_key vk = {};
	struct weft_policy_dst_value *dv;
	struct weft_policy_ident_value *iv;
	struct weft_policy_class_value *cv, *nv;
	struct weft_policy_verdict *v;
	__u32 gen = cfg->active_gen; /* read once: the whole chain uses it */

	dk.addr = c->dst;
	dk.gen = gen;
	dv = bpf_map_lookup_elem(&weft_policy_dst, &dk);
	if (!dv)
		return false;
	ik.addr = c->src;
	ik.gen = gen;
	iv = bpf_map_lookup_elem(&weft_policy_ident, &ik);
	*identity = iv ? iv->identity : WEFT_POLICY_IDENTITY_UNKNOWN;

	sk.set_id = dv->set_id;
	sk.identity = *identity;
	cv = bpf_map_lookup_elem(&weft_policy_src_ident, &sk);

	nk.prefixlen = 32 + 128;
	nk.set_id = dv->set_id;
	nk.addr = c->src;
	nv = bpf_map_lookup_elem(&weft_policy_src_net, &nk);

	vk.set_id = dv->set_id;
	vk.id_class = cv ? cv->class_id : 0;
	vk.ip_class = nv ? nv->class_id : 0;
	vk.port = c->dport;
	vk.proto = c->proto;
	v = nv ? bpf_map_lookup_elem(&weft_policy_verdict, &vk) : NULL;
	if (!v && nv) {
		vk.port = 0;
		v = bpf_map_lookup_elem(&weft_policy_verdict, &vk);
	}
	if (!v) {
		/* fail closed: a complete table always has the row */
		__builtin_memset(out, 0, sizeof(*out));
		out->action = WEFT_POLICY_ACTION_DENY;
		out->reason = WEFT_POLICY_REASON_NO_ENTRY;
		out->policy = out->rule = WEFT_POLICY_NONE;
		out->audit_policy = out->audit_rule = WEFT_POLICY_NONE;
		return true;
	}
	*out = *v;
	return true;
}

static __always_inline void policy_count(__u32 policy, __u8 point,
					 __u8 action, __u8 reason, __u8 audit)
{
	struct weft_policy_stats_key key = {
		.policy = policy, .point = point, .action = action,
		.reason = reason, .audit = audit,
	};
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&weft_policy_stats, &key);
	if (n) {
		*n += 1;
		return;
	}
	if (bpf_map_update_elem(&weft_policy_stats, &key, &one, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&weft_policy_stats, &key))
		counter_inc(WEFT_CNT_POLICY_STATS_FULL);
}

static __always_inline void policy_event(const struct weft_policy_conn *c,
					 const struct weft_policy_verdict *v,
					 __u32 identity, __u64 cgroup_id)
{
	struct weft_policy_event *e;

	e = bpf_ringbuf_reserve(&weft_policy_events, sizeof(*e), 0);
	if (!e) {
		counter_inc(WEFT_CNT_POLICY_EVENTS_LOST);
		return;
	}
	e->ktime_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgroup_id;
	e->conn = *c;
	e->verdict = *v;
	e->src_identity = identity;
	e->pad1 = 0;
	bpf_ringbuf_submit(e, 0);
}

/*
 * Account for a decided connection: counted by its deciding policy and
 * reason, an AUDIT match once more under the audit policy; denies and
 * audits also go to weft_policy_events.
 */
static __always_inline void policy_account(const struct weft_policy_conn *c,
					   const struct weft_policy_verdict *v,
					   __u32 identity, __u64 cgroup_id)
{
	policy_count(v->policy, c->point, v->action, v->reason, 0);
	if (v->flags & WEFT_POLICY_F_AUDIT)
		policy_count(v->audit_policy, c->point, v->action, v->reason, 1);
	if (v->action != WEFT_POLICY_ACTION_ALLOW ||
	    (v->flags & WEFT_POLICY_F_AUDIT))
		policy_event(c, v, identity, cgroup_id);
}

/* Decide and account for c.  Returns the action (ALLOW when no policy
 * applies: nothing is counted then). */
static __always_inline int policy_check(const struct weft_policy_config *cfg,
					const struct weft_policy_conn *c,
					__u64 cgroup_id)
{
	struct weft_policy_verdict v;
	__u32 identity = WEFT_POLICY_IDENTITY_UNKNOWN;

	if (!policy_decide(cfg, c, &v, &identity))
		return WEFT_POLICY_ACTION_ALLOW;
	policy_account(c, &v, identity, cgroup_id);
	return v.action;
}

#endif /* WEFT_BPF_POLICY_H */
