// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * VirtualService tcp[] / tls[] rules -> the weighted destinations of each
 * service (lb_service.dests), as cluster requests that lb_cluster.c turns
 * into clusters.  Semantics (Istio's, istio-dataplane-spec.md §1, where a
 * connect-time L4 datapath leaves room, the choice is stated):
 *
 * Which VirtualServices.  Those bound to the mesh (gateways absent or
 * listing "mesh"), visible (exportTo absent, or listing anything but "~":
 * a node serves clients of every namespace and does not know the client's,
 * so "." and namespace lists count as visible), whose hosts cover one of
 * the service's hosts (a Service's FQDN, every host of a ServiceEntry).
 * Hosts: a short name ("reviews") is taken in the VirtualService's
 * namespace ("reviews.<ns>.svc.cluster.local"); a name with a dot is
 * taken as written, as Istio does; "*.suffix" covers every name ending in
 * ".suffix"; matching ignores case.
 *
 * Which rule.  Ports are classified as Istio does (UDP; appProtocol, else
 * the port name up to its first '-'; ServiceEntry protocol).  HTTP, HTTP2,
 * gRPC ports: http[] is the proxy's business, the service keeps its own
 * cluster (one pr_debug).  TLS and HTTPS ports: tls[] rules first, then
 * tcp[] (Envoy prefers a filter chain with a matching SNI over one
 * without).  Every other port (TCP, UDP, Mongo, MySQL, Redis, unnamed and
 * sniffed ones): tcp[] only.  Rules are tried VirtualService by
 * VirtualService in load order, each list in order, and the first rule
 * that applies gives the route (for TCP, Istio concatenates the rules of
 * every VirtualService of the host; "the first VS in load order" is the
 * first with an applicable rule).  A rule without match applies; else one
 * of its match blocks must hold: port unset or the service port;
 * destinationSubnets unset or one of them containing the VIP; for tls[],
 * one of sniHosts covering a service host (the SNI a client sends for that
 * host).  A match block with sourceLabels, sourceNamespace, sourceSubnet
 * or gateways without "mesh" chooses clients, which a node serving all of
 * them cannot do at config time: it is skipped, with a notice once.
 *
 * Weights (Istio >= 1.15).  One destination gets everything whatever its
 * weight (stored as weight 1).  With several, each gets w / sum(w); an
 * unset weight counts 0; weight-0 destinations are dropped; all 0 gives
 * ndests 0 (connections refused).  Destinations naming the same cluster
 * merge (weights add).  More than LB_MAX_ROUTE_DESTS clusters after the
 * merge is an error naming the rule.  A sum above 2^32-1 is halved until
 * it fits (notice).
 *
 * Destination port: destination.port, else the destination host's only
 * port, else the port number of the service being routed.
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
#include "vec.h"

/* ---- hosts -------------------------------------------------------------- */

/*
 * Called per service for route destinations and SNI hosts: a known host
 * comes back as the registry's own string, so only unknown short names
 * cost an allocation.
 */
const char *lb_host_resolve(struct lb_build *b, const char *host,
			    const char *ns)
{
	char buf[2 * LB_NAME_MAX];
	union weft_addr ip;
	size_t n, i;

	if (!host || strchr(host, '.') || !strcmp(host, "*") ||
	    !weft_addr_parse(host, &ip))
		return host;
	snprintf(buf, sizeof(buf), "%s.%s.svc." MESH_CLUSTER_DOMAIN, host, ns);
	i = lb_host_find(b, buf, &n);
	if (n)
		return b->hosts[i].name;
	return lb_keep(b, strdup(buf));
}

bool lb_host_covers(const char *pattern, const char *host)
{
	if (pattern[0] == '*') {
		size_t ls = strlen(pattern + 1), lh = strlen(host);

		return lh >= ls && !strcasecmp(host + lh - ls, pattern + 1);
	}
	return !strcasecmp(pattern, host);
}

static int cmp_host(const void *pa, const void *pb)
{
	const struct lb_host *a = pa, *b = pb;
	int c = strcasecmp(a->name, b->name);

	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int host_push(struct lb_build *b, size_t *cap, enum mesh_kind kind,
		     const void *obj, char *name)
{
	if (!name)
		return -ENOMEM;
	if (vec_reserve((void **)&b->hosts, cap, b->nhosts + 1,
			sizeof(*b->hosts))) {
		free(name);
		return -ENOMEM;
	}
	b->hosts[b->nhosts] = (struct lb_host){ name, kind, obj, b->nhosts };
	b->nhosts++;
	return 0;
}

/* The registry of destination hosts: Services, then ServiceEntries. */
int lb_hosts_build(struct lb_build *b)
{
	const struct mesh_config *cfg = b->cfg;
	size_t cap = 0;

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct k8s_service *svc = &cfg->services[i];
		char *s;

		if (asprintf(&s, "%s.%s.svc." MESH_CLUSTER_DOMAIN,
			     svc->meta.name, svc->meta.ns) < 0)
			s = NULL;
		if (host_push(b, &cap, MESH_KIND_SERVICE, svc, s))
			return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->nservice_entries; i++) {
		const struct istio_service_entry *se = &cfg->service_entries[i];

		for (size_t j = 0; j < se->hosts.n; j++)
			if (host_push(b, &cap, MESH_KIND_SERVICE_ENTRY, se,
				      strdup(se->hosts.v[j])))
				return -ENOMEM;
	}
	if (b->nhosts)
		qsort(b->hosts, b->nhosts, sizeof(*b->hosts), cmp_host);
	return 0;
}

size_t lb_host_find(const struct lb_build *b, const char *host, size_t *n)
{
	size_t lo = 0, hi = b->nhosts, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(b->hosts[mid].name, host) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < b->nhosts && !strcasecmp(b->hosts[end].name, host);
	     end++)
		;
	*n = end - lo;
	return lo;
}

/* The registry's spelling of host, or host itself when unknown. */
static const char *host_canonical(const struct lb_build *b, const char *host)
{
	size_t n, i = lb_host_find(b, host, &n);

	return n ? b->hosts[i].name : host;
}

/* The only port of host's first registry entry; 0 if none or several. */
static uint16_t host_only_port(const struct lb_build *b, const char *host)
{
	size_t n, i = lb_host_find(b, host, &n);
	const struct k8s_service *svc;
	const struct istio_service_entry *se;

	if (!n)
		return 0;
	if (b->hosts[i].kind == MESH_KIND_SERVICE) {
		svc = b->hosts[i].obj;
		return svc->nports == 1 ? svc->ports[0].port : 0;
	}
	se = b->hosts[i].obj;
	return se->nports == 1 ? se->ports[0].number : 0;
}

/* ---- host patterns (VirtualService, DestinationRule) -------------------- */

static int cmp_hostref(const void *pa, const void *pb)
{
	const struct lb_hostref *a = pa, *b = pb;
	int c = strcasecmp(a->host, b->host);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int lb_hostrefs_add(struct lb_build *b, struct lb_hostrefs *exact,
		    struct lb_hostrefs *wild, const char *host,
		    const char *ns, size_t idx)
{
	const char *h = lb_host_resolve(b, host, ns);
	struct lb_hostrefs *r = h && h[0] == '*' ? wild : exact;
	char *s;

	if (!h || !(s = strdup(h)))
		return -ENOMEM;
	if (vec_reserve((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v))) {
		free(s);
		return -ENOMEM;
	}
	r->v[r->n++] = (struct lb_hostref){ s, idx };
	return 0;
}

void lb_hostrefs_sort(struct lb_hostrefs *r)
{
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_hostref);
}

size_t lb_hostrefs_find(const struct lb_hostrefs *r, const char *host,
			size_t *count)
{
	size_t lo = 0, hi = r->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(r->v[mid].host, host) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < r->n && !strcasecmp(r->v[end].host, host); end++)
		;
	*count = end - lo;
	return lo;
}

void lb_hostrefs_free(struct lb_hostrefs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].host);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

bool lb_export_visible(const struct ystrv *export_to)
{
	if (!export_to->n)
		return true;
	for (size_t i = 0; i < export_to->n; i++)
		if (strcmp(export_to->v[i], "~"))
			return true;
	return false;
}

static int rule_check_size(struct lb_build *b,
			   const struct istio_virtual_service *vs,
			   const struct istio_l4_route *r, const char *list);

/* Host patterns of the VirtualServices that apply to the node's clients;
 * their tcp[] and tls[] rules checked for size. */
static int vs_index(struct lb_build *b)
{
	const struct mesh_config *cfg = b->cfg;

	for (size_t i = 0; i < cfg->nvirtual_services; i++) {
		const struct istio_virtual_service *vs =
			&cfg->virtual_services[i];

		if (!istio_vs_applies_to_mesh(vs))
			continue;
		if (!lb_export_visible(&vs->export_to)) {
			pr_debug("%s:%u: VirtualService %s/%s is exported to no namespace: not applied\n",
				 vs->meta.file, vs->meta.line, vs->meta.ns,
				 vs->meta.name);
			continue;
		}
		for (size_t j = 0; j < vs->hosts.n; j++)
			if (lb_hostrefs_add(b, &b->vs_exact, &b->vs_wild,
					    vs->hosts.v[j], vs->meta.ns, i))
				return -ENOMEM;
		for (size_t j = 0; j < vs->ntcp; j++)
			if (rule_check_size(b, vs, &vs->tcp[j], "tcp"))
				return -ENOMEM;
		for (size_t j = 0; j < vs->ntls; j++)
			if (rule_check_size(b, vs, &vs->tls[j], "tls"))
				return -ENOMEM;
	}
	lb_hostrefs_sort(&b->vs_exact);
	return 0;
}

/* ---- cluster requests --------------------------------------------------- */

/* Index of a new request; SIZE_MAX (b->err set) when out of memory. */
static size_t creq_add(struct lb_build *b, const char *host,
		       const char *subset, uint16_t port,
		       const struct mesh_meta *vs, const void *src,
		       unsigned int line)
{
	if (vec_reserve((void **)&b->req, &b->reqcap, b->nreq + 1,
			sizeof(*b->req))) {
		b->err = -ENOMEM;
		return SIZE_MAX;
	}
	b->req[b->nreq] = (struct lb_creq){ host, subset ? subset : "", port,
					    vs, src, line, 0 };
	return b->nreq++;
}

/* ---- VirtualService rules ----------------------------------------------- */

/* The service's hosts: a Service's FQDN, every host of a ServiceEntry. */
static size_t entry_hosts(const struct lb_entry *e, const char *const **v,
			  const char **one)
{
	if (e->kind == MESH_KIND_SERVICE_ENTRY) {
		const struct istio_service_entry *se = e->obj;

		*v = se->hosts.v;
		return se->hosts.n;
	}
	*one = e->svc.host;
	*v = one;
	return 1;
}

static bool cidr_contains(const struct mesh_cidr *c, const union weft_addr *a)
{
	unsigned int bits, i;

	if (c->v4 != !!weft_addr_is_v4(a))
		return false;
	bits = (c->v4 ? 96u : 0u) + c->prefix_len;
	for (i = 0; i < bits / 8; i++)
		if (c->addr.b[i] != a->b[i])
			return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((c->addr.b[i] ^ a->b[i]) & mask)
			return false;
	}
	return true;
}

/* One sniHost of a tls[] match covers one of the service's hosts. */
static bool sni_covers(struct lb_build *b,
		       const struct istio_virtual_service *vs,
		       const struct istio_l4_match *m, const struct lb_entry *e)
{
	const char *one, *const *hosts;
	size_t nhosts = entry_hosts(e, &hosts, &one);

	for (size_t i = 0; i < m->sni_hosts.n; i++) {
		const char *sni = lb_host_resolve(b, m->sni_hosts.v[i],
						  vs->meta.ns);

		for (size_t j = 0; sni && j < nhosts; j++)
			if (lb_host_covers(sni, hosts[j]))
				return true;
	}
	return false;
}

/* Does match block m hold for service e?  See the file comment. */
static bool l4_match_holds(struct lb_build *b,
			   const struct istio_virtual_service *vs,
			   const struct istio_l4_match *m,
			   const struct lb_entry *e, bool tls)
{
	const char *list = tls ? "tls" : "tcp", *why = NULL;
	bool subnet = !m->ndestination_subnets;

	if (m->port && m->port != e->svc.port)
		return false;
	for (size_t i = 0; i < m->ndestination_subnets && !subnet; i++)
		subnet = cidr_contains(&m->destination_subnets[i], &e->svc.vip);
	if (!subnet || (tls && !sni_covers(b, vs, m, e)))
		return false;
	if (m->gateways.n && !ystrv_has(&m->gateways, "mesh"))
		why = "gateways without \"mesh\"";
	else if (m->source_labels.n)
		why = "sourceLabels";
	else if (m->source_namespace)
		why = "sourceNamespace";
	else if (m->source_subnet)
		why = "sourceSubnet";
	if (!why)
		return true;
	if (lb_notice_once(b, m))
		pr_info("%s:%u: VirtualService %s/%s: %s match with %s skipped: it chooses clients, and weft serves every client of the node alike\n",
			vs->meta.file, m->line, vs->meta.ns, vs->meta.name,
			list, why);
	return false;
}

static bool l4_rule_applies(struct lb_build *b,
			    const struct istio_virtual_service *vs,
			    const struct istio_l4_route *r,
			    const struct lb_entry *e, bool tls)
{
	if (!r->nmatch)
		return true;
	for (size_t i = 0; i < r->nmatch; i++)
		if (l4_match_holds(b, vs, &r->match[i], e, tls))
			return true;
	return false;
}

static void too_many(struct lb_build *b,
		     const struct istio_virtual_service *vs,
		     const struct istio_l4_route *r, const char *list,
		     size_t n)
{
	if (!lb_notice_once(b, r))
		return;
	pr_warn("%s:%u: VirtualService %s/%s: %s route has %zu destinations, more than the %d supported\n",
		vs->meta.file, r->line, vs->meta.ns, vs->meta.name, list, n,
		LB_MAX_ROUTE_DESTS);
	b->errors++;
}

/*
 * Reject a rule with more than LB_MAX_ROUTE_DESTS distinct destinations of
 * non-zero weight, whether or not a service uses it, so that a config is
 * valid or not by itself.  Distinct by (host, subset, port as written):
 * a destination without a port may still merge with one naming the
 * service's port later, which only makes this check stricter.
 */
static int rule_check_size(struct lb_build *b,
			   const struct istio_virtual_service *vs,
			   const struct istio_l4_route *r, const char *list)
{
	const char **hosts;
	size_t n = 0;

	if (r->nroute <= LB_MAX_ROUTE_DESTS)
		return 0;
	hosts = calloc(r->nroute, sizeof(*hosts));
	if (!hosts)
		return -ENOMEM;
	for (size_t i = 0; i < r->nroute; i++) {
		const struct istio_route_dest *a = &r->route[i];
		size_t j;

		hosts[i] = lb_host_resolve(b, a->dest.host, vs->meta.ns);
		if (!hosts[i])
			break;
		if (a->weight <= 0)
			continue;
		for (j = 0; j < i; j++) {
			const struct istio_route_dest *o = &r->route[j];

			if (o->weight > 0 && !strcasecmp(hosts[i], hosts[j]) &&
			    !strcmp(a->dest.subset ? a->dest.subset : "",
				    o->dest.subset ? o->dest.subset : "") &&
			    a->dest.port == o->dest.port)
				break;
		}
		n += j == i;
	}
	free(hosts);
	if (n > LB_MAX_ROUTE_DESTS)
		too_many(b, vs, r, list, n);
	return b->err;
}

/* A destination of a rule being compiled. */
struct rdest {
	const char *host;
	const char *subset;
	uint16_t port;
	uint64_t weight;
	const struct istio_route_dest *src;
};

/*
 * Compile rule r of vs into svc->dests.  Returns 0; a rule with too many
 * destinations is reported once (b->errors) and leaves ndests 0.
 */
static int route_dests(struct lb_build *b,
		       const struct istio_virtual_service *vs,
		       const struct istio_l4_route *r, const char *list,
		       const struct lb_entry *e, struct lb_service *svc)
{
	struct rdest *d;
	uint64_t sum = 0;
	size_t nd = 0;

	snprintf(svc->route, sizeof(svc->route), "%s/%s", vs->meta.ns,
		 vs->meta.name);
	svc->ndests = 0;
	if (!r->nroute)
		return 0;
	d = calloc(r->nroute, sizeof(*d));
	if (!d)
		return b->err = -ENOMEM;
	for (size_t i = 0; i < r->nroute; i++) {
		const struct istio_route_dest *rd = &r->route[i];
		uint64_t w = r->nroute == 1 ? 1 :
			     rd->weight > 0 ? (uint64_t)rd->weight : 0;
		const char *host, *subset = rd->dest.subset ? rd->dest.subset :
							       "";
		uint16_t port;
		size_t j;

		if (!w)
			continue;
		host = lb_host_resolve(b, rd->dest.host, vs->meta.ns);
		if (!host)
			break;
		host = host_canonical(b, host);
		port = rd->dest.port ? rd->dest.port : host_only_port(b, host);
		if (!port)
			port = e->svc.port;
		for (j = 0; j < nd; j++)
			if (!strcasecmp(d[j].host, host) &&
			    !strcmp(d[j].subset, subset) && d[j].port == port)
				break;
		if (j == nd)
			d[nd++] = (struct rdest){ host, subset, port, 0, rd };
		d[j].weight += w;
		sum += w;
	}
	if (b->err)
		goto out;
	if (nd > LB_MAX_ROUTE_DESTS) {
		too_many(b, vs, r, list, nd);
		goto out;
	}
	if (sum > UINT32_MAX) {
		if (lb_notice_once(b, &r->route))
			pr_info("%s:%u: VirtualService %s/%s: weights add up to more than 2^32-1; scaled down\n",
				vs->meta.file, r->line, vs->meta.ns,
				vs->meta.name);
		while (sum > UINT32_MAX) {
			sum = 0;
			for (size_t j = 0; j < nd; j++) {
				d[j].weight = (d[j].weight + 1) / 2;
				sum += d[j].weight;
			}
		}
	}
	for (size_t j = 0; j < nd; j++) {
		size_t q = creq_add(b, d[j].host, d[j].subset, d[j].port,
				    &vs->meta, d[j].src, d[j].src->line);

		if (q == SIZE_MAX)
			break;
		svc->dests[j] = (struct lb_route_dest){ q,
							(uint32_t)d[j].weight };
		svc->ndests = j + 1;
	}
out:
	free(d);
	return b->err;
}

static int cmp_size(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

/* Indices of the VirtualServices covering one of e's hosts, load order. */
static size_t vs_candidates(struct lb_build *b, const struct lb_entry *e,
			    size_t **out)
{
	const char *one, *const *hosts;
	size_t nhosts = entry_hosts(e, &hosts, &one), n = 0, cap = 0, u = 0;
	size_t *v = NULL;

	for (size_t h = 0; h < nhosts; h++) {
		size_t cnt, first = lb_hostrefs_find(&b->vs_exact, hosts[h],
						     &cnt);

		for (size_t k = 0; k < cnt + b->vs_wild.n; k++) {
			const struct lb_hostref *r;

			if (k < cnt) {
				r = &b->vs_exact.v[first + k];
			} else {
				r = &b->vs_wild.v[k - cnt];
				if (!lb_host_covers(r->host, hosts[h]))
					continue;
			}
			if (vec_reserve((void **)&v, &cap, n + 1, sizeof(*v))) {
				free(v);
				b->err = -ENOMEM;
				*out = NULL;
				return 0;
			}
			v[n++] = r->idx;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_size);
	for (size_t i = 0; i < n; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	return u;
}

/* The first applicable rule of the candidates: tls[] (TLS ports), tcp[]. */
static const struct istio_l4_route *
rule_find(struct lb_build *b, const struct lb_entry *e, const size_t *cand,
	  size_t ncand, const struct istio_virtual_service **vs_out,
	  const char **list)
{
	const struct istio_virtual_service *vss = b->cfg->virtual_services;

	for (int pass = e->pclass == LB_PORT_TLS ? 0 : 1; pass < 2; pass++) {
		bool tls = pass == 0;

		for (size_t c = 0; c < ncand; c++) {
			const struct istio_virtual_service *vs = &vss[cand[c]];
			const struct istio_l4_route *rules = tls ? vs->tls :
								   vs->tcp;
			size_t n = tls ? vs->ntls : vs->ntcp;

			for (size_t i = 0; i < n; i++)
				if (l4_rule_applies(b, vs, &rules[i], e, tls)) {
					*vs_out = vs;
					*list = tls ? "tls" : "tcp";
					return &rules[i];
				}
		}
	}
	return NULL;
}

static int route_service(struct lb_build *b, const struct lb_entry *e,
			 struct lb_service *svc)
{
	const struct istio_virtual_service *vs = NULL;
	const struct istio_l4_route *rule = NULL;
	const char *list = NULL;
	size_t *cand = NULL, ncand, self;

	self = creq_add(b, host_canonical(b, svc->host), "", svc->port, NULL,
			NULL, 0);
	if (self == SIZE_MAX)
		return b->err;
	ncand = vs_candidates(b, e, &cand);
	if (b->err)
		return b->err;
	if (e->pclass == LB_PORT_HTTP) {
		for (size_t c = 0; c < ncand; c++) {
			vs = &b->cfg->virtual_services[cand[c]];
			if (vs->nhttp) {
				pr_debug("%s:%u: VirtualService %s/%s: %s port %u is HTTP: its http[] routes belong to the proxy; connect-time balancing uses the service's own cluster\n",
					 vs->meta.file, vs->meta.line,
					 vs->meta.ns, vs->meta.name, svc->host,
					 svc->port);
				break;
			}
		}
	} else {
		rule = rule_find(b, e, cand, ncand, &vs, &list);
	}
	free(cand);
	if (rule)
		return route_dests(b, vs, rule, list, e, svc);
	svc->route[0] = '\0';
	svc->ndests = 1;
	svc->dests[0] = (struct lb_route_dest){ self, 1 };
	return 0;
}

int lb_routes_build(struct lb_build *b, struct lb_state *out)
{
	int err = vs_index(b);

	for (size_t i = 0; !err && i < out->nservices; i++)
		err = route_service(b, &b->e[i], &out->services[i]);
	return err ? err : b->err;
}
