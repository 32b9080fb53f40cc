// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Two ways to decide one connection:
 *   - policy_evaluate(): the compiled tables only, with the lookups the
 *     BPF program will make (hash lookups as binary searches over the
 *     sorted rows, the LPM trie as a longest-first search);
 *   - policy_evaluate_model(): the reference, straight from the resources,
 *     following istio-dataplane-spec.md §4 sentence by sentence.
 * The unit tests require both to agree on every connection they try.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh-t.h"
#include "policy.h"

static void verdict_init(struct weft_policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->policy = v->rule = v->audit_policy = v->audit_rule = WEFT_POLICY_NONE;
}

static __u32 proto_bit(uint8_t proto)
{
	return proto == IPPROTO_TCP ? WEFT_POLICY_PROTO_TCP :
	       proto == IPPROTO_UDP ? WEFT_POLICY_PROTO_UDP : 0;
}

/* ---- table lookups -------------------------------------------------------- */

/* A hash map lookup: rows sorted by their key bytes. */
static const void *map_lookup(const void *rows, size_t n, size_t row_size,
			      const void *key, size_t key_size)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *row = (const char *)rows + mid * row_size;
		int r = memcmp(row, key, key_size);

		if (!r)
			return row + key_size;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define LOOKUP(ps, tbl, keyp)                                               \
	map_lookup((ps)->tbl, (ps)->n##tbl, sizeof(*(ps)->tbl), (keyp),     \
		   sizeof((ps)->tbl->k))

/* The LPM trie lookup: the longest prefix of (set, addr) present. */
static const struct weft_policy_class_value *
lpm_lookup(const struct policy_state *ps, __u32 set_id,
	   const union weft_addr *addr)
{
	for (int plen = 128; plen >= 0; plen--) {
		struct weft_policy_src_net_key k = {
			.prefixlen = 32 + (__u32)plen,
			.set_id = set_id,
			.addr = *addr,
		};
		const struct weft_policy_class_value *v;

		policy_addr_mask(&k.addr, (unsigned int)plen);
		v = LOOKUP(ps, src_net, &k);
		if (v)
			return v;
	}
	return NULL;
}

int policy_evaluate_peer(const struct policy_state *ps, __u32 peer_identity,
			 const union weft_addr *src,
			 const union weft_addr *dst, uint16_t port,
			 uint8_t proto, struct weft_policy_verdict *out)
{
	struct weft_policy_dst_key dk = { .addr = *dst };
	struct weft_policy_ident_key ik = { .addr = *src };
	struct weft_policy_src_ident_key sk = { 0 };
	struct weft_policy_verdict_key vk = { 0 };
	const struct weft_policy_dst_value *dv;
	const struct weft_policy_ident_value *iv;
	const struct weft_policy_class_value *cv, *nv;
	const struct weft_policy_verdict *v;

	verdict_init(out);
	out->action = WEFT_POLICY_ACTION_ALLOW;
	if (!(ps->enforced_protos & proto_bit(proto))) {
		out->reason = WEFT_POLICY_REASON_NOT_ENFORCED;
		return 0;
	}
	dv = LOOKUP(ps, dst, &dk);
	if (!dv) {
		out->reason = WEFT_POLICY_REASON_NO_POLICY;
		return 0;
	}
	if (peer_identity == WEFT_POLICY_IDENTITY_UNKNOWN) {
		iv = LOOKUP(ps, ident, &ik);
		peer_identity = iv ? iv->identity : WEFT_POLICY_IDENTITY_UNKNOWN;
	}
	sk.set_id = dv->set_id;
	sk.identity = peer_identity;
	cv = LOOKUP(ps, src_ident, &sk);
	nv = lpm_lookup(ps, dv->set_id, src);
	vk.set_id = dv->set_id;
	vk.id_class = cv ? cv->class_id : 0;
	vk.ip_class = nv ? nv->class_id : 0;
	vk.port = htons(port);
	vk.proto = proto;
	v = nv ? LOOKUP(ps, verdicts, &vk) : NULL;
	if (!v && nv) {
		vk.port = 0;
		v = LOOKUP(ps, verdicts, &vk);
	}
	if (!v) {
		out->action = WEFT_POLICY_ACTION_DENY;
		out->reason = WEFT_POLICY_REASON_NO_ENTRY;
		return 0;
	}
	*out = *v;
	return 0;
}

int policy_evaluate(const struct policy_state *ps, const union weft_addr *src,
		    const union weft_addr *dst, uint16_t port, uint8_t proto,
		    struct weft_policy_verdict *out)
{
	return policy_evaluate_peer(ps, WEFT_POLICY_IDENTITY_UNKNOWN, src, dst,
				    port, proto, out);
}

/* ---- reference evaluator ------------------------------------------------ */

struct peer {
	bool known;
	char principal[POLICY_PRINCIPAL_MAX];
	const char *ns, *sa;
};

struct conn {
	const struct policy_opts *o;
	const struct istio_authz_policy *p;  /* policy being matched */
	const struct peer *peer;
	const union weft_addr *src, *dst;
	uint16_t port;
};

static const struct lb_workload *find_wl(const struct lb_workload *wl,
					 size_t n, const union weft_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&wl[i].addr, a, sizeof(*a)))
			return &wl[i];
	return NULL;
}

/* "principals" / source.principal: the peer's SPIFFE name without the
 * spiffe:// scheme, trust-domain aliases mapped to ours. */
static bool match_principal(const struct conn *x, const char *value)
{
	char buf[POLICY_PRINCIPAL_MAX];

	return x->peer->known &&
	       policy_str_match(policy_principal_norm(x->o, value, buf,
						      sizeof(buf)),
				x->peer->principal);
}

static bool match_namespace(const struct conn *x, const char *value)
{
	return x->peer->known && policy_str_match(value, x->peer->ns);
}

/* "<ns>/<sa>" or "<sa>" (the policy's namespace), exact. */
static bool match_sa(const struct conn *x, const char *value)
{
	const char *ns, *sa;
	size_t nl;

	if (!x->peer->known ||
	    !policy_sa_split(value, x->p->meta.ns, &ns, &nl, &sa))
		return false;
	return strlen(x->peer->ns) == nl && !memcmp(x->peer->ns, ns, nl) &&
	       !strcmp(x->peer->sa, sa);
}

static bool match_ip(const struct conn *x, const char *value,
		     const union weft_addr *addr)
{
	union weft_addr net;
	unsigned int plen;

	(void)x;
	return !policy_cidr_parse(value, &net, &plen) &&
	       policy_cidr_contains(&net, plen, addr);
}

static bool match_port(const struct conn *x, const char *value)
{
	return atoi(value) == (int)x->port;
}

enum vkind { V_PRINCIPAL, V_NS, V_SA, V_SRC_IP, V_DST_IP, V_PORT };

static bool match_one(const struct conn *x, enum vkind k, const char *v)
{
	switch (k) {
	case V_PRINCIPAL:
		return match_principal(x, v);
	case V_NS:
		return match_namespace(x, v);
	case V_SA:
		return match_sa(x, v);
	case V_SRC_IP:
		return match_ip(x, v, x->src);
	case V_DST_IP:
		return match_ip(x, v, x->dst);
	case V_PORT:
		return match_port(x, v);
	}
	return false;
}

/* "Values within a field are ORed. not* fields negate." An absent
 * (empty) field does not constrain. */
static bool field_ok(const struct conn *x, enum vkind k,
		     const struct ystrv *vals, bool negate)
{
	bool any = false;

	if (!vals->n)
		return true;
	for (size_t i = 0; i < vals->n && !any; i++)
		any = match_one(x, k, vals->v[i]);
	return negate ? !any : any;
}

/* "Fields inside a Source are ANDed"; L7 fields are dropped here (their
 * effect is decided by the caller from rule_uses_l7()). */
static bool source_ok(const struct conn *x, const struct istio_authz_source *s)
{
	return field_ok(x, V_PRINCIPAL, &s->principals, false) &&
	       field_ok(x, V_PRINCIPAL, &s->not_principals, true) &&
	       field_ok(x, V_NS, &s->namespaces, false) &&
	       field_ok(x, V_NS, &s->not_namespaces, true) &&
	       field_ok(x, V_SA, &s->service_accounts, false) &&
	       field_ok(x, V_SA, &s->not_service_accounts, true) &&
	       field_ok(x, V_SRC_IP, &s->ip_blocks, false) &&
	       field_ok(x, V_SRC_IP, &s->not_ip_blocks, true);
}

static bool operation_ok(const struct conn *x,
			 const struct istio_authz_operation *op)
{
	return field_ok(x, V_PORT, &op->ports, false) &&
	       field_ok(x, V_PORT, &op->not_ports, true);
}

static bool condition_ok(const struct conn *x,
			 const struct istio_authz_condition *c)
{
	enum vkind k;

	if (!strcmp(c->key, "source.ip"))
		k = V_SRC_IP;
	else if (!strcmp(c->key, "destination.ip"))
		k = V_DST_IP;
	else if (!strcmp(c->key, "destination.port"))
		k = V_PORT;
	else if (!strcmp(c->key, "source.namespace"))
		k = V_NS;
	else if (!strcmp(c->key, "source.principal"))
		k = V_PRINCIPAL;
	else if (!strcmp(c->key, "source.serviceAccount"))
		k = V_SA;
	else
		return true; /* L7 attribute: dropped */
	return field_ok(x, k, &c->values, false) &&
	       field_ok(x, k, &c->not_values, true);
}

static bool rule_uses_l7(const struct istio_authz_rule *r)
{
	for (size_t i = 0; i < r->nfrom; i++) {
		const struct istio_authz_source *s = &r->from[i];

		if (s->request_principals.n || s->not_request_principals.n ||
		    s->remote_ip_blocks.n || s->not_remote_ip_blocks.n)
			return true;
	}
	for (size_t i = 0; i < r->nto; i++) {
		const struct istio_authz_operation *o = &r->to[i];

		if (o->hosts.n || o->not_hosts.n || o->methods.n ||
		    o->not_methods.n || o->paths.n || o->not_paths.n)
			return true;
	}
	for (size_t i = 0; i < r->nwhen; i++)
		if (!policy_when_key_l4(r->when[i].key))
			return true;
	return false;
}

/* "Rules are ORed. Inside a rule, from AND to AND when. List entries are
 * ORed." Matched on the rule's L4 parts. */
static bool rule_l4_matches(const struct conn *x,
			    const struct istio_authz_rule *r)
{
	bool from = !r->nfrom, to = !r->nto;

	for (size_t i = 0; i < r->nfrom && !from; i++)
		from = source_ok(x, &r->from[i]);
	for (size_t i = 0; i < r->nto && !to; i++)
		to = operation_ok(x, &r->to[i]);
	if (!from || !to)
		return false;
	for (size_t i = 0; i < r->nwhen; i++)
		if (!condition_ok(x, &r->when[i]))
			return false;
	return true;
}

struct hit {
	bool found;
	__u32 policy, rule;
};

/*
 * First (policy, rule) in config order among the applicable policies of
 * action a whose rule matches: l7 selects rules with (true) or without
 * (false) L7 fields; any: both.
 */
enum l7sel { L7_ANY, L7_WITHOUT, L7_WITH };

static struct hit first_match(const struct mesh_config *cfg,
			      const bool *applies, enum istio_authz_action a,
			      enum l7sel sel, struct conn *x)
{
	struct hit h = { false, WEFT_POLICY_NONE, WEFT_POLICY_NONE };

	for (size_t i = 0; i < cfg->nauthz_policies; i++) {
		const struct istio_authz_policy *p = &cfg->authz_policies[i];

		if (!applies[i] || p->action != a)
			continue;
		x->p = p;
		for (size_t j = 0; j < p->nrules; j++) {
			bool l7 = rule_uses_l7(&p->rules[j]);

			if ((sel == L7_WITHOUT && l7) || (sel == L7_WITH && !l7))
				continue;
			if (rule_l4_matches(x, &p->rules[j])) {
				h = (struct hit){ true, (__u32)i, (__u32)j };
				return h;
			}
		}
	}
	return h;
}

static void decide(struct weft_policy_verdict *v, enum weft_policy_action a,
		   enum weft_policy_reason r, const struct hit *h)
{
	v->action = (__u8)a;
	v->reason = (__u8)r;
	if (h) {
		v->policy = h->policy;
		v->rule = h->rule;
	}
}

int policy_evaluate_model(const struct mesh_config *cfg,
			  const struct lb_workload *wl, size_t nwl,
			  const struct policy_opts *opts,
			  const union weft_addr *src,
			  const union weft_addr *dst, uint16_t port,
			  uint8_t proto, struct weft_policy_verdict *out)
{
	struct policy_opts o = opts ? *opts : (struct policy_opts){ 0 };
	const struct lb_workload *dw, *sw;
	const struct policy_wl_labels *lbl = NULL;
	struct policy_wl_labels *idx = NULL;
	struct peer peer = { 0 };
	struct conn x = { .o = &o, .peer = &peer, .src = src, .dst = dst,
			  .port = port };
	struct hit h;
	bool *applies = NULL, any = false, any_allow = false;
	size_t nidx = 0;
	int err;

	if (!o.trust_domain)
		o.trust_domain = POLICY_TRUST_DOMAIN;
	if (!o.root_ns)
		o.root_ns = POLICY_ROOT_NAMESPACE;
	if (!o.enforced_protos)
		o.enforced_protos = WEFT_POLICY_PROTO_TCP;
	verdict_init(out);
	out->action = WEFT_POLICY_ACTION_ALLOW;
	if (!(o.enforced_protos & proto_bit(proto))) {
		out->reason = WEFT_POLICY_REASON_NOT_ENFORCED;
		return 0;
	}
	/* "A policy covers its own namespace; in the root namespace it
	 * covers the whole mesh. It can be narrowed with a label selector." */
	dw = find_wl(wl, nwl, dst);
	if (dw) {
		err = policy_labels_index(cfg, &idx, &nidx);
		if (err)
			return err;
		lbl = policy_labels_find(idx, nidx, dst);
		applies = calloc(cfg->nauthz_policies + 1, sizeof(*applies));
		if (!applies) {
			free(idx);
			return -ENOMEM;
		}
		for (size_t i = 0; i < cfg->nauthz_policies; i++) {
			const struct istio_authz_policy *p =
				&cfg->authz_policies[i];

			applies[i] = policy_applies(p, o.root_ns, dw->ns, lbl);
			any |= applies[i];
			any_allow |= applies[i] && p->action == ISTIO_AUTHZ_ALLOW;
		}
	}
	if (!any) {
		out->reason = WEFT_POLICY_REASON_NO_POLICY;
		goto out;
	}
	/* §5: the peer's identity, from its address until mTLS proves it */
	sw = find_wl(wl, nwl, src);
	if (sw) {
		peer.known = true;
		peer.ns = sw->ns;
		peer.sa = sw->service_account[0] ? sw->service_account :
						  "default";
		snprintf(peer.principal, sizeof(peer.principal),
			 "%s/ns/%s/sa/%s", o.trust_domain, peer.ns, peer.sa);
	}
	/* "AUDIT only marks the request." */
	h = first_match(cfg, applies, ISTIO_AUTHZ_AUDIT, L7_ANY, &x);
	if (h.found) {
		out->flags |= WEFT_POLICY_F_AUDIT;
		out->audit_policy = h.policy;
		out->audit_rule = h.rule;
	}
	/* 1. CUSTOM: the provider cannot be asked at L4: fail closed */
	h = first_match(cfg, applies, ISTIO_AUTHZ_CUSTOM, L7_ANY, &x);
	if (h.found) {
		decide(out, WEFT_POLICY_ACTION_DENY,
		       WEFT_POLICY_REASON_CUSTOM_UNSUPPORTED, &h);
		goto out;
	}
	/* 2. "Any matching DENY: deny." (L7 parts dropped: matches more) */
	h = first_match(cfg, applies, ISTIO_AUTHZ_DENY, L7_ANY, &x);
	if (h.found) {
		decide(out, WEFT_POLICY_ACTION_DENY, WEFT_POLICY_REASON_DENY_MATCH, &h);
		goto out;
	}
	/* 3. "No ALLOW policies on the workload: allow." */
	if (!any_allow) {
		decide(out, WEFT_POLICY_ACTION_ALLOW, WEFT_POLICY_REASON_NO_ALLOW_POLICY,
		       NULL);
		goto out;
	}
	/* 4. "Any ALLOW matches: allow." Rules with L7 fields never do. */
	h = first_match(cfg, applies, ISTIO_AUTHZ_ALLOW, L7_WITHOUT, &x);
	if (h.found) {
		decide(out, WEFT_POLICY_ACTION_ALLOW, WEFT_POLICY_REASON_ALLOW_MATCH, &h);
		goto out;
	}
	/* 5. "Otherwise: deny." Say so when an L7 rule would have allowed. */
	h = first_match(cfg, applies, ISTIO_AUTHZ_ALLOW, L7_WITH, &x);
	if (h.found)
		decide(out, WEFT_POLICY_ACTION_DENY, WEFT_POLICY_REASON_ALLOW_L7_ONLY, &h);
	else
		decide(out, WEFT_POLICY_ACTION_DENY, WEFT_POLICY_REASON_NO_ALLOW_MATCH,
		       NULL);
out:
	free(applies);
	free(idx);
	return 0;
}
