// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Attribute matching shared by the policy compiler and the reference
 * evaluator: Istio's string patterns, CIDRs, serviceAccounts values,
 * trust-domain aliases, which condition keys an L4 point can see, and the
 * labels a selector is matched against.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "mesh-t.h"
#include "policy.h"
#include "vec.h"

static const char *const reason_names[WEFT_POLICY_REASON__MAX] = {
	[WEFT_POLICY_REASON_NO_POLICY] = "no-policy",
	[WEFT_POLICY_REASON_NOT_ENFORCED] = "not-enforced",
	[WEFT_POLICY_REASON_NO_ALLOW_POLICY] = "no-allow-policy",
	[WEFT_POLICY_REASON_ALLOW_MATCH] = "allow-match",
	[WEFT_POLICY_REASON_DENY_MATCH] = "deny-match",
	[WEFT_POLICY_REASON_NO_ALLOW_MATCH] = "no-allow-match",
	[WEFT_POLICY_REASON_ALLOW_L7_ONLY] = "allow-l7-only",
	[WEFT_POLICY_REASON_CUSTOM_UNSUPPORTED] = "custom-unsupported",
	[WEFT_POLICY_REASON_NO_ENTRY] = "no-entry",
};

const char *policy_reason_name(enum weft_policy_reason reason)
{
	if ((unsigned int)reason >= WEFT_POLICY_REASON__MAX)
		return "unknown";
	return reason_names[reason];
}

const char *policy_point_name(unsigned int point)
{
	return point == WEFT_POLICY_POINT_INBOUND ? "inbound" :
	       point == WEFT_POLICY_POINT_CONNECT ? "connect" :
						    "unknown";
}

bool policy_str_match(const char *pattern, const char *value)
{
	size_t pl, vl;

	if (!value)
		return false;
	pl = strlen(pattern);
	vl = strlen(value);
	if (!strcmp(pattern, "*"))
		return vl > 0;
	if (pattern[0] == '*')
		return vl >= pl - 1 &&
		       !memcmp(value + vl - (pl - 1), pattern + 1, pl - 1);
	if (pl && pattern[pl - 1] == '*')
		return vl >= pl - 1 && !memcmp(value, pattern, pl - 1);
	return !strcmp(pattern, value);
}

void policy_addr_mask(union weft_addr *addr, unsigned int plen)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;

		if (bits < 8)
			addr->b[i] &= (__u8)(0xff00u >> bits);
	}
}

int policy_cidr_parse(const char *text, union weft_addr *addr,
		      unsigned int *plen)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long n;
	char *end;
	bool v4;

	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (weft_addr_parse(buf, addr))
		return -EINVAL;
	v4 = strchr(buf, ':') == NULL;
	*plen = 128;
	if (slash) {
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		n = strtoul(slash + 1, &end, 10);
		if (*end || n > (v4 ? 32u : 128u))
			return -EINVAL;
		*plen = (unsigned int)n + (v4 ? 96 : 0);
	}
	policy_addr_mask(addr, *plen);
	return 0;
}

bool policy_cidr_contains(const union weft_addr *net, unsigned int plen,
			  const union weft_addr *addr)
{
	union weft_addr a = *addr;

	policy_addr_mask(&a, plen);
	return !memcmp(&a, net, sizeof(a));
}

bool policy_sa_split(const char *value, const char *policy_ns,
		     const char **ns, size_t *ns_len, const char **sa)
{
	const char *slash = strchr(value, '/');

	if (!value[0] || strchr(value, '*'))
		return false;
	if (!slash) {
		*ns = policy_ns;
		*ns_len = strlen(policy_ns);
		*sa = value;
		return true;
	}
	if (slash == value || !slash[1] || strchr(slash + 1, '/'))
		return false;
	*ns = value;
	*ns_len = (size_t)(slash - value);
	*sa = slash + 1;
	return true;
}

const char *policy_principal_norm(const struct policy_opts *o,
				  const char *value, char *buf, size_t len)
{
	const char *td = o && o->trust_domain ? o->trust_domain :
						  POLICY_TRUST_DOMAIN;
	const char *slash = strchr(value, '/');
	size_t tl;

	if (!o || !slash || value[0] == '*')
		return value;
	tl = (size_t)(slash - value);
	for (size_t i = 0; i < o->naliases; i++) {
		const char *a = o->trust_domain_aliases[i];

		/* a value too long for buf names no identity of ours
		 * either way: keep it as written */
		if (strlen(a) == tl && !memcmp(a, value, tl) &&
		    (size_t)snprintf(buf, len, "%s%s", td, slash) < len)
			return buf;
	}
	return value;
}

bool policy_when_key_l4(const char *key)
{
	static const char *const l4[] = {
		"source.ip", "source.namespace", "source.principal",
		"source.serviceAccount", "destination.ip", "destination.port",
		NULL,
	};

	for (size_t i = 0; l4[i]; i++)
		if (!strcmp(key, l4[i]))
			return true;
	return false;
}

/* ---- labels of a workload address ---------------------------------------- */

struct lbl_list {
	struct policy_wl_labels *v;
	size_t n, cap;
};

static bool lbl_add(struct lbl_list *l, const union weft_addr *addr,
		    const struct ykvs *a, const struct ykvs *b, int rank)
{
	if (vec_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return false;
	l->v[l->n] = (struct policy_wl_labels){
		.addr = *addr, .a = a, .b = b, .rank = rank, .order = l->n,
	};
	l->n++;
	return true;
}

static int cmp_lbl(const void *pa, const void *pb)
{
	const struct policy_wl_labels *a = pa, *b = pb;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (c)
		return c;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	return a->order < b->order ? -1 : a->order > b->order;
}

static bool lbl_add_one(void *ctx, const struct mesh_workload_addr *w)
{
	return lbl_add(ctx, w->addr, w->labels, w->labels2, w->rank);
}

/* The labels of every workload address, in lb_state.workloads' order. */
int policy_labels_index(const struct mesh_config *cfg,
			struct policy_wl_labels **out, size_t *n)
{
	struct lbl_list l = { 0 };

	if (!mesh_workload_addrs_each(cfg, lbl_add_one, &l))
		goto oom;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_lbl);
	*out = l.v;
	*n = l.n;
	return 0;
oom:
	free(l.v);
	return -ENOMEM;
}

const struct policy_wl_labels *
policy_labels_find(const struct policy_wl_labels *idx, size_t n,
		   const union weft_addr *addr)
{
	size_t lo = 0, hi = n;

	/* first element >= addr: the winner for that address */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(&idx[mid].addr, addr, sizeof(*addr)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && !memcmp(&idx[lo].addr, addr, sizeof(*addr)))
		return &idx[lo];
	return NULL;
}

bool policy_selector_matches(const struct mesh_selector *sel,
			     const struct policy_wl_labels *l)
{
	for (size_t i = 0; i < sel->match.n; i++) {
		const char *k = sel->match.kv[i].key;
		const char *v = l ? ykvs_get(l->a, k) : NULL;

		if (!v && l && l->b)
			v = ykvs_get(l->b, k);
		if (!v || strcmp(v, sel->match.kv[i].value))
			return false;
	}
	return true;
}

bool policy_applies(const struct istio_authz_policy *p, const char *root_ns,
		    const char *wl_ns, const struct policy_wl_labels *l)
{
	if (p->dry_run || p->ntarget_refs)
		return false;
	if (strcmp(p->meta.ns, wl_ns) && strcmp(p->meta.ns, root_ns))
		return false;
	return !p->selector.set || policy_selector_matches(&p->selector, l);
}
