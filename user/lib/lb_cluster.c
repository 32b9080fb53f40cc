// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Cluster requests (lb_route.c) -> lb_state.clusters: one cluster per
 * (host, subset, port), named as Istio names it
 * ("outbound|<port>|<subset>|<fqdn>"), sorted by name; every service's
 * dests[] then point into them.
 *
 * Backends.  The ready endpoints of every registry entry of the host (a
 * Kubernetes Service: EndpointSlices, else Endpoints, else selected Pods;
 * a ServiceEntry: endpoints[] and workloadSelector) on its port with that
 * number, of both address families (a dual-stack host's cluster holds both;
 * the agent writes one variant per family a route needs, see
 * user/agent/apply.c, so a socket only meets its own family), with
 * WorkloadEntry weights.  A subset keeps the endpoints whose labels hold
 * every subset label: Pod labels (an EndpointSlice or Endpoints address
 * through its targetRef Pod), WorkloadEntry spec.labels, inline endpoint
 * labels; an endpoint whose labels are unknown matches only a subset
 * without labels.  A host that is neither a Service nor a ServiceEntry, a
 * subset no applicable DestinationRule defines, or a port the host does
 * not have give a cluster without backends (connections are refused, as
 * Istio fails them) and a notice naming the VirtualService.  A host whose
 * every entry is a ServiceEntry with resolution NONE is PASSTHROUGH.
 *
 * DestinationRule.  Rules with a workloadSelector choose client workloads,
 * which a node serving every client cannot honour: not applied (notice);
 * rules exported to "~" only are hidden.  For host H (namespace: that of
 * its Service or ServiceEntry), candidates are the rules whose host covers
 * H (a short name taken in the rule's namespace, "*.suffix" wildcards).
 * The rule taken is the first by: its namespace is H's, then the root
 * namespace istio-system, then any other; an exact host before a wildcard,
 * a longer wildcard before a shorter; load order.  Rules of that namespace
 * with the same host merge, in load order: the first trafficPolicy and the
 * first definition of each subset win (Istio's merge).
 *
 * Policy (trafficPolicy.loadBalancer): absent, UNSPECIFIED, LEAST_REQUEST
 * and LEAST_CONN -> LEAST_REQUEST; ROUND_ROBIN; RANDOM; PASSTHROUGH;
 * consistentHash on useSourceIp (ringHash or maglev) -> MAGLEV; on an HTTP
 * key (header, cookie, query parameter) -> LEAST_REQUEST with a notice.
 * portLevelSettings for the cluster's port replace the top-level settings
 * whole: without a loadBalancer there, the default applies (the API's
 * "not inherited" rule).  A subset's trafficPolicy then overrides the
 * loadBalancer field when it sets one, and its own portLevelSettings for
 * the port replace it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb.h"
#include "lb_internal.h"
#include "log.h"
#include "mesh-t.h"

/* ---- DestinationRule lookup -------------------------------------------- */

int lb_dr_index(struct lb_build *b)
{
	const struct mesh_config *cfg = b->cfg;

	for (size_t i = 0; i < cfg->ndestination_rules; i++) {
		const struct istio_destination_rule *dr =
			&cfg->destination_rules[i];

		if (dr->workload_selector.set) {
			pr_info("%s:%u: DestinationRule %s/%s not applied: its workloadSelector chooses clients, and weft serves every client of the node alike\n",
				dr->meta.file, dr->meta.line, dr->meta.ns,
				dr->meta.name);
			continue;
		}
		if (!lb_export_visible(&dr->export_to))
			continue;
		if (lb_hostrefs_add(b, &b->dr_exact, &b->dr_wild, dr->host,
				    dr->meta.ns, i))
			return -ENOMEM;
	}
	lb_hostrefs_sort(&b->dr_exact);
	return 0;
}

/* Namespace tier of a rule for a host in host_ns: lower is preferred. */
static int dr_tier(const char *dr_ns, const char *host_ns)
{
	if (host_ns && !strcmp(dr_ns, host_ns))
		return 0;
	return strcmp(dr_ns, LB_ROOT_NAMESPACE) ? 2 : 1;
}

/* a is preferred to b (both cover the host). */
static bool dr_better(const struct lb_build *b, const struct lb_hostref *x,
		      const struct lb_hostref *y, const char *host_ns)
{
	const struct istio_destination_rule *drs = b->cfg->destination_rules;
	int tx = dr_tier(drs[x->idx].meta.ns, host_ns);
	int ty = dr_tier(drs[y->idx].meta.ns, host_ns);
	bool wx = x->host[0] == '*', wy = y->host[0] == '*';
	size_t lx = strlen(x->host), ly = strlen(y->host);

	if (tx != ty)
		return tx < ty;
	if (wx != wy)
		return !wx;
	if (wx && lx != ly)
		return lx > ly;
	return x->idx < y->idx;
}

/*
 * The DestinationRules that apply to host, merged as Istio merges them:
 * their indices in load order into *out (malloc'd).  Returns the count.
 */
static size_t dr_lookup(struct lb_build *b, const char *host,
			const char *host_ns, size_t **out)
{
	const struct istio_destination_rule *drs = b->cfg->destination_rules;
	const struct lb_hostref *best = NULL;
	size_t cnt, first = lb_hostrefs_find(&b->dr_exact, host, &cnt);
	size_t total = cnt + b->dr_wild.n, n = 0;
	size_t *v;

	*out = NULL;
	for (size_t k = 0; k < total; k++) {
		const struct lb_hostref *r = k < cnt ? &b->dr_exact.v[first + k] :
					     &b->dr_wild.v[k - cnt];

		if (k >= cnt && !lb_host_covers(r->host, host))
			continue;
		if (!best || dr_better(b, r, best, host_ns))
			best = r;
	}
	if (!best)
		return 0;
	v = malloc(total * sizeof(*v));
	if (!v) {
		b->err = -ENOMEM;
		return 0;
	}
	for (size_t k = 0; k < total; k++) {
		const struct lb_hostref *r = k < cnt ? &b->dr_exact.v[first + k] :
					     &b->dr_wild.v[k - cnt];

		if (!strcasecmp(r->host, best->host) &&
		    !strcmp(drs[r->idx].meta.ns, drs[best->idx].meta.ns))
			v[n++] = r->idx;
	}
	/* exact entries are in load order, wildcards too; one kind only */
	*out = v;
	return n;
}

/* ---- policy ------------------------------------------------------------- */

/* The loadBalancer in force and where it was written. */
struct lb_pick {
	const struct istio_load_balancer *lb; /* NULL: the default */
	const struct mesh_meta *dr;
	unsigned int line;
};

static const struct istio_port_policy *
port_policy(const struct istio_traffic_policy *tp, uint16_t port)
{
	for (size_t i = 0; i < tp->nport_level; i++)
		if (tp->port_level[i].port == port)
			return &tp->port_level[i];
	return NULL;
}

/* Apply tp (top level or a subset's) over *pick for port. */
static void pick_apply(struct lb_pick *pick,
		       const struct istio_traffic_policy *tp,
		       const struct mesh_meta *dr, uint16_t port)
{
	const struct istio_port_policy *pp = port_policy(tp, port);

	if (tp->lb.set)
		*pick = (struct lb_pick){ &tp->lb, dr, tp->line };
	if (pp)
		*pick = (struct lb_pick){ pp->lb.set ? &pp->lb : NULL, dr,
					  pp->line };
}

static const char *hash_key_name(enum istio_hash_key key)
{
	switch (key) {
	case ISTIO_HASH_HEADER:
		return "httpHeaderName";
	case ISTIO_HASH_COOKIE:
		return "httpCookie";
	case ISTIO_HASH_QUERY_PARAM:
		return "httpQueryParameterName";
	default:
		return "useSourceIp";
	}
}

static enum lb_policy pick_policy(struct lb_build *b,
				  const struct lb_pick *pick)
{
	const struct istio_consistent_hash *ch;

	if (!pick->lb)
		return LB_POLICY_LEAST_REQUEST;
	ch = pick->lb->consistent_hash;
	if (ch) {
		if (ch->key == ISTIO_HASH_SOURCE_IP)
			return LB_POLICY_MAGLEV;
		if (lb_notice_once(b, ch))
			pr_info("%s:%u: DestinationRule %s/%s: consistentHash on %s needs the HTTP request; LEAST_REQUEST at connect time\n",
				pick->dr->file, pick->line, pick->dr->ns,
				pick->dr->name, hash_key_name(ch->key));
		return LB_POLICY_LEAST_REQUEST;
	}
	switch (pick->lb->simple) {
	case ISTIO_LB_ROUND_ROBIN:
		return LB_POLICY_ROUND_ROBIN;
	case ISTIO_LB_RANDOM:
		return LB_POLICY_RANDOM;
	case ISTIO_LB_PASSTHROUGH:
		return LB_POLICY_PASSTHROUGH;
	default: /* UNSPECIFIED, LEAST_REQUEST, LEAST_CONN */
		return LB_POLICY_LEAST_REQUEST;
	}
}

/* ---- one cluster -------------------------------------------------------- */

static const char *host_namespace(const struct lb_build *b, size_t h0,
				  size_t nh)
{
	if (!nh)
		return NULL;
	if (b->hosts[h0].kind == MESH_KIND_SERVICE)
		return ((const struct k8s_service *)b->hosts[h0].obj)->meta.ns;
	return ((const struct istio_service_entry *)b->hosts[h0].obj)->meta.ns;
}

/*
 * Endpoints of every registry entry of the host on port into sink; false
 * when no entry has that port.  *passthrough: every entry is a
 * ServiceEntry with resolution NONE.
 */
static bool host_backends(struct lb_build *b, size_t h0, size_t nh,
			  uint16_t port, const struct lb_sink *sink,
			  bool *passthrough)
{
	bool found = false;

	*passthrough = nh > 0;
	for (size_t k = h0; k < h0 + nh; k++) {
		if (b->hosts[k].kind == MESH_KIND_SERVICE) {
			const struct k8s_service *svc = b->hosts[k].obj;

			*passthrough = false;
			for (size_t p = 0; p < svc->nports; p++)
				if (svc->ports[p].port == port &&
				    svc->ports[p].protocol != K8S_PROTO_SCTP) {
					lb_k8s_backends(b, svc, &svc->ports[p],
							sink);
					found = true;
					break;
				}
		} else {
			const struct istio_service_entry *se = b->hosts[k].obj;
			const struct istio_se_port *sp = NULL;

			if (se->resolution != ISTIO_RES_NONE)
				*passthrough = false;
			for (size_t p = 0; p < se->nports && !sp; p++)
				if (se->ports[p].number == port)
					sp = &se->ports[p];
			found |= sp != NULL;
			if (sp && (se->resolution == ISTIO_RES_STATIC ||
				   se->resolution == ISTIO_RES_DNS ||
				   se->resolution == ISTIO_RES_DNS_ROUND_ROBIN))
				lb_se_backends(b, se, sp, sink);
		}
	}
	return found;
}

/* The notice prefix of the request that asked for a cluster. */
#define ASKER_FMT "%s:%u: VirtualService %s/%s"
#define ASKER_ARGS(q) (q)->vs->file, (q)->line, (q)->vs->ns, (q)->vs->name

/*
 * Backends and policy of c.  asker: a route request for it (for notices),
 * NULL when only services asked for it.
 */
static void cluster_fill(struct lb_build *b, struct lb_cluster *c,
			 const struct lb_creq *asker)
{
	const struct istio_destination_rule *drs = b->cfg->destination_rules;
	const struct istio_destination_rule *sub_dr = NULL;
	const struct istio_traffic_policy *top = NULL;
	const struct istio_subset *sub = NULL;
	struct lb_bset bs = { 0 };
	struct lb_pick pick = { 0 };
	size_t nh, h0 = lb_host_find(b, c->host, &nh);
	size_t *grp = NULL, ngrp;
	bool passthrough = false, have_port;

	ngrp = dr_lookup(b, c->host, host_namespace(b, h0, nh), &grp);
	for (size_t i = 0; i < ngrp && !top; i++) {
		top = drs[grp[i]].traffic_policy;
		if (top)
			pick_apply(&pick, top, &drs[grp[i]].meta, c->port);
	}
	for (size_t i = 0; c->subset[0] && i < ngrp && !sub; i++)
		for (size_t j = 0; j < drs[grp[i]].nsubsets; j++)
			if (!strcmp(drs[grp[i]].subsets[j].name, c->subset)) {
				sub = &drs[grp[i]].subsets[j];
				sub_dr = &drs[grp[i]];
				break;
			}
	free(grp);
	if (sub && sub->traffic_policy)
		pick_apply(&pick, sub->traffic_policy, &sub_dr->meta, c->port);
	c->policy = pick_policy(b, &pick);

	if (!nh) {
		if (asker && lb_notice_once(b, asker->src))
			pr_info(ASKER_FMT " routes to %s, which is neither a Service nor a ServiceEntry: connections to %s fail\n",
				ASKER_ARGS(asker), c->host, c->name);
		return;
	}
	if (c->subset[0] && !sub) {
		if (asker && lb_notice_once(b, asker->src))
			pr_info(ASKER_FMT " routes to subset \"%s\" of %s, which no DestinationRule defines: connections to %s fail\n",
				ASKER_ARGS(asker), c->subset, c->host, c->name);
		return;
	}
	have_port = host_backends(b, h0, nh, c->port,
				  &(struct lb_sink){ &bs, NULL,
						     sub ? &sub->labels : NULL },
				  &passthrough);
	if (!have_port && asker && lb_notice_once(b, asker->src))
		pr_info(ASKER_FMT " routes to port %u of %s, which has no such port: connections to %s fail\n",
			ASKER_ARGS(asker), c->port, c->host, c->name);
	if (passthrough)
		c->policy = LB_POLICY_PASSTHROUGH;
	lb_backends_sort(bs.v, &bs.n);
	c->backends = bs.v;
	c->nbackends = bs.n;
	if (bs.n > WEFT_MAX_BACKENDS_PER_SERVICE) {
		pr_warn("cluster %s has %zu backends, more than the %d supported\n",
			c->name, bs.n, WEFT_MAX_BACKENDS_PER_SERVICE);
		b->errors++;
	}
}

/* ---- all clusters ------------------------------------------------------- */

static int cmp_req(const void *pa, const void *pb, void *arg)
{
	const struct lb_creq *req = arg;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct lb_creq *a = &req[ia], *b = &req[ib];
	int c = strcasecmp(a->host, b->host);

	if (!c)
		c = strcmp(a->subset, b->subset);
	if (!c && a->port != b->port)
		c = a->port < b->port ? -1 : 1;
	if (!c)
		c = ia < ib ? -1 : ia > ib;
	return c;
}

static bool same_cluster(const struct lb_creq *a, const struct lb_creq *b)
{
	return !strcasecmp(a->host, b->host) && !strcmp(a->subset, b->subset) &&
	       a->port == b->port;
}

static int cmp_cluster_name(const void *pa, const void *pb, void *arg)
{
	const struct lb_cluster *cl = arg;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;

	return strcmp(cl[ia].name, cl[ib].name);
}

int lb_clusters_build(struct lb_build *b, struct lb_state *out)
{
	size_t *idx = NULL, *pos = NULL, nu = 0;
	struct lb_cluster *tmp = NULL;
	int err = -ENOMEM;

	if (!b->nreq)
		return 0;
	idx = malloc(b->nreq * sizeof(*idx));
	tmp = calloc(b->nreq, sizeof(*tmp));
	if (!idx || !tmp)
		goto out;
	for (size_t i = 0; i < b->nreq; i++)
		idx[i] = i;
	qsort_r(idx, b->nreq, sizeof(*idx), cmp_req, b->req);

	/* One cluster per run of equal requests; the first route request
	 * of the run speaks for it in notices. */
	for (size_t i = 0; i < b->nreq && !b->err;) {
		const struct lb_creq *q = &b->req[idx[i]], *asker = NULL;
		struct lb_cluster *c = &tmp[nu];
		size_t j;
		int len;

		for (j = i; j < b->nreq && same_cluster(q, &b->req[idx[j]]);
		     j++) {
			b->req[idx[j]].cluster = nu;
			if (!asker && b->req[idx[j]].vs)
				asker = &b->req[idx[j]];
		}
		snprintf(c->host, sizeof(c->host), "%s", q->host);
		snprintf(c->subset, sizeof(c->subset), "%s", q->subset);
		c->port = q->port;
		len = snprintf(c->name, sizeof(c->name), "outbound|%u|%s|%s",
			       c->port, c->subset, c->host);
		if (len < 0 || (size_t)len >= sizeof(c->name)) {
			pr_warn("cluster name outbound|%u|%s|%s is longer than %zu bytes\n",
				c->port, c->subset, c->host,
				sizeof(c->name) - 1);
			b->errors++;
		}
		cluster_fill(b, c, asker);
		nu++;
		i = j;
	}
	if (b->err) {
		err = b->err;
		goto out;
	}
	if (nu > WEFT_MAX_CLUSTERS) {
		pr_warn("%zu clusters, more than the %d supported\n", nu,
			WEFT_MAX_CLUSTERS);
		b->errors++;
	}

	/* Sort by name: perm[k] is the temporary index of cluster k. */
	for (size_t u = 0; u < nu; u++)
		idx[u] = u;
	qsort_r(idx, nu, sizeof(*idx), cmp_cluster_name, tmp);
	pos = malloc(nu * sizeof(*pos));
	out->clusters = calloc(nu, sizeof(*out->clusters));
	if (!pos || !out->clusters)
		goto out;
	for (size_t k = 0; k < nu; k++) {
		out->clusters[k] = tmp[idx[k]];
		pos[idx[k]] = k;
	}
	out->nclusters = nu;
	nu = 0; /* backends moved to out */
	for (size_t i = 0; i < b->nreq; i++)
		b->req[i].cluster = pos[b->req[i].cluster];
	for (size_t i = 0; i < out->nservices; i++) {
		struct lb_service *s = &out->services[i];

		for (size_t d = 0; d < s->ndests; d++)
			s->dests[d].cluster = b->req[s->dests[d].cluster].cluster;
	}
	err = 0;
out:
	for (size_t u = 0; u < nu; u++)
		free(tmp[u].backends);
	free(tmp);
	free(idx);
	free(pos);
	return err;
}
