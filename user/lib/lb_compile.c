// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mesh_config -> lb_state, as documented in lb.h.  This file builds the
 * (VIP, port, protocol) services and their backends, holds the endpoint
 * readers the clusters share, and runs the other parts (lb_internal.h):
 *
 *   services -> routes (lb_route.c) -> clusters (lb_cluster.c)
 *            -> workloads (lb_workload.c)
 *
 * Pure: reads the model, allocates the result, logs notices; nothing else.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb.h"
#include "lb_internal.h"
#include "log.h"
#include "mesh-t.h"
#include "vec.h"

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "UDP" : "TCP";
}

static void fmt_vip(const struct lb_service *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	weft_addr_str(&s->vip, a, sizeof(a));
	snprintf(buf, len, weft_addr_is_v4(&s->vip) ? "%s:%u/%s" : "[%s]:%u/%s",
		 a, s->port, proto_name(s->proto));
}

/* ---- small shared helpers ----------------------------------------------- */

bool lb_notice_once(struct lb_build *b, const void *key)
{
	for (size_t i = 0; i < b->nnoticed; i++)
		if (b->noticed[i] == key)
			return false;
	if (vec_reserve((void **)&b->noticed, &b->noticecap, b->nnoticed + 1,
			sizeof(*b->noticed)))
		return true; /* a repeated notice beats a lost one */
	b->noticed[b->nnoticed++] = key;
	return true;
}

char *lb_keep(struct lb_build *b, char *s)
{
	if (!s) {
		b->err = -ENOMEM;
		return NULL;
	}
	if (vec_reserve((void **)&b->strs, &b->strcap, b->nstrs + 1,
			sizeof(*b->strs))) {
		free(s);
		b->err = -ENOMEM;
		return NULL;
	}
	b->strs[b->nstrs++] = s;
	return s;
}

bool lb_labels_match(const struct ykvs *want, const struct ykvs *have)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = ykvs_get(have, want->kv[i].key);

		if (!v || strcmp(v, want->kv[i].value))
			return false;
	}
	return true;
}

/* ---- backends ----------------------------------------------------------- */

/*
 * Add one endpoint to sink unless its family or labels are not wanted
 * (labels NULL: unknown).
 */
static void sink_add(struct lb_build *b, const struct lb_sink *sink,
		     const union weft_addr *addr, uint16_t port,
		     uint32_t weight, const char *wl_ns, const char *wl_name,
		     const struct ykvs *labels)
{
	struct lb_bset *set = sink->set;
	struct lb_backend *be;

	if (b->err || !port)
		return;
	if (sink->family &&
	    weft_addr_is_v4(addr) != weft_addr_is_v4(sink->family))
		return;
	if (sink->subset && sink->subset->n &&
	    (!labels || !lb_labels_match(sink->subset, labels)))
		return;
	if (vec_reserve((void **)&set->v, &set->cap, set->n + 1,
			sizeof(*set->v))) {
		b->err = -ENOMEM;
		return;
	}
	be = &set->v[set->n++];
	memset(be, 0, sizeof(*be));
	be->addr = *addr;
	be->port = port;
	be->weight = !weight ? 1 : weight > UINT16_MAX ? UINT16_MAX :
							 (uint16_t)weight;
	if (wl_name && wl_name[0])
		snprintf(be->workload, sizeof(be->workload), "%s/%s", wl_ns,
			 wl_name);
}

static int cmp_backend(const void *pa, const void *pb)
{
	const struct lb_backend *a = pa, *b = pb;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (c)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	/* Among duplicates, the one that names its workload is kept. */
	if (!a->workload[0] != !b->workload[0])
		return a->workload[0] ? -1 : 1;
	c = strcmp(a->workload, b->workload);
	if (c)
		return c;
	return (int)b->weight - (int)a->weight;
}

void lb_backends_sort(struct lb_backend *v, size_t *n)
{
	size_t out = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), cmp_backend);
	for (size_t i = 0; i < *n; i++) {
		if (out && !memcmp(&v[out - 1].addr, &v[i].addr,
				   sizeof(v[i].addr)) &&
		    v[out - 1].port == v[i].port)
			continue;
		v[out++] = v[i];
	}
	*n = out;
}

/* ---- lookups ------------------------------------------------------------ */

static int cmp_ref(const void *pa, const void *pb)
{
	const struct lb_ref *a = pa, *b = pb;
	int c = strcmp(a->ns, b->ns);

	if (!c)
		c = strcmp(a->key, b->key);
	if (!c) /* load order, so that results never depend on qsort */
		c = (uintptr_t)a->obj < (uintptr_t)b->obj ? -1 :
		    (uintptr_t)a->obj > (uintptr_t)b->obj;
	return c;
}

static int refs_build(struct lb_refs *refs, const void *base, size_t n,
		      size_t size, size_t meta_off, size_t key_off)
{
	refs->n = 0;
	refs->r = calloc(n ? n : 1, sizeof(*refs->r));
	if (!refs->r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *obj = (const char *)base + i * size;
		const struct mesh_meta *m =
			(const struct mesh_meta *)(obj + meta_off);
		const char *key = "";

		if (key_off != SIZE_MAX)
			key = *(const char *const *)(obj + key_off);
		if (!key)
			continue; /* a slice without its service-name label */
		refs->r[refs->n++] = (struct lb_ref){ m->ns, key, obj };
	}
	if (refs->n)
		qsort(refs->r, refs->n, sizeof(*refs->r), cmp_ref);
	return 0;
}

size_t lb_refs_first(const struct lb_refs *refs, const char *ns,
		     const char *key)
{
	size_t lo = 0, hi = refs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(refs->r[mid].ns, ns);

		if (!c && key)
			c = strcmp(refs->r[mid].key, key);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool lb_refs_match(const struct lb_refs *refs, size_t i, const char *ns,
		   const char *key)
{
	return i < refs->n && !strcmp(refs->r[i].ns, ns) &&
	       (!key || !strcmp(refs->r[i].key, key));
}

static int lb_index(struct lb_build *b, const struct mesh_config *cfg)
{
	const size_t none = SIZE_MAX;

	if (refs_build(&b->pods, cfg->pods, cfg->npods, sizeof(*cfg->pods),
		       offsetof(struct k8s_pod, meta), none) ||
	    refs_build(&b->pods_by_name, cfg->pods, cfg->npods,
		       sizeof(*cfg->pods), offsetof(struct k8s_pod, meta),
		       offsetof(struct k8s_pod, meta.name)) ||
	    refs_build(&b->slices, cfg->slices, cfg->nslices,
		       sizeof(*cfg->slices),
		       offsetof(struct k8s_endpoint_slice, meta),
		       offsetof(struct k8s_endpoint_slice, service_name)) ||
	    refs_build(&b->endpoints, cfg->endpoints, cfg->nendpoints,
		       sizeof(*cfg->endpoints),
		       offsetof(struct k8s_endpoints, meta),
		       offsetof(struct k8s_endpoints, meta.name)) ||
	    refs_build(&b->wes, cfg->workload_entries, cfg->nworkload_entries,
		       sizeof(*cfg->workload_entries),
		       offsetof(struct istio_workload_entry, meta), none))
		return -ENOMEM;
	return 0;
}

/* ---- Kubernetes Service ------------------------------------------------- */

static const char *ref_ns(const struct k8s_object_ref *r, const char *def)
{
	return r->ns ? r->ns : def;
}

static const char *pod_ref_name(const struct k8s_object_ref *r)
{
	return r->kind && !strcmp(r->kind, "Pod") ? r->name : NULL;
}

/* Labels of the Pod an endpoint's targetRef names; NULL when unknown.
 * Looked up only when a subset needs them. */
static const struct ykvs *ref_labels(const struct lb_build *b,
				     const struct lb_sink *sink,
				     const struct k8s_object_ref *r,
				     const char *def_ns)
{
	const char *name = pod_ref_name(r);
	const char *ns = ref_ns(r, def_ns);
	size_t i;

	if (!sink->subset || !sink->subset->n || !name)
		return NULL;
	i = lb_refs_first(&b->pods_by_name, ns, name);
	if (!lb_refs_match(&b->pods_by_name, i, ns, name))
		return NULL;
	return &((const struct k8s_pod *)b->pods_by_name.r[i].obj)->meta.labels;
}

/* Backends from EndpointSlices; false when the Service has none. */
static bool k8s_from_slices(struct lb_build *b, const struct k8s_service *svc,
			    const struct k8s_service_port *sp,
			    const struct lb_sink *sink)
{
	bool found = false;

	LB_REFS_FOR_EACH(i, &b->slices, svc->meta.ns, svc->meta.name) {
		const struct k8s_endpoint_slice *es = b->slices.r[i].obj;
		const struct k8s_endpoint_port *port = NULL;

		found = true;
		if (es->address_type == K8S_ADDR_FQDN)
			continue;
		for (size_t j = 0; j < es->nports && !port; j++)
			if (!strcmp(es->ports[j].name, sp->name) &&
			    es->ports[j].protocol == sp->protocol)
				port = &es->ports[j];
		if (!port)
			continue;
		for (size_t j = 0; j < es->nendpoints; j++) {
			const struct k8s_slice_endpoint *ep = &es->endpoints[j];

			/* Like kube-proxy: the first address stands for all. */
			if (!ep->ready || !ep->ips || !ep->addresses.n)
				continue;
			sink_add(b, sink, &ep->ips[0], port->port, 1,
				 ref_ns(&ep->target_ref, es->meta.ns),
				 pod_ref_name(&ep->target_ref),
				 ref_labels(b, sink, &ep->target_ref,
					    es->meta.ns));
		}
	}
	return found;
}

static bool k8s_from_endpoints(struct lb_build *b,
			       const struct k8s_service *svc,
			       const struct k8s_service_port *sp,
			       const struct lb_sink *sink)
{
	LB_REFS_FOR_EACH(i, &b->endpoints, svc->meta.ns, svc->meta.name) {
		const struct k8s_endpoints *ep = b->endpoints.r[i].obj;

		for (size_t j = 0; j < ep->nsubsets; j++) {
			const struct k8s_endpoints_subset *s = &ep->subsets[j];
			const struct k8s_endpoint_port *port = NULL;

			for (size_t k = 0; k < s->nports && !port; k++)
				if (!strcmp(s->ports[k].name, sp->name) &&
				    s->ports[k].protocol == sp->protocol)
					port = &s->ports[k];
			if (!port)
				continue;
			for (size_t k = 0; k < s->naddresses; k++) {
				const struct k8s_endpoint_address *a =
					&s->addresses[k];

				sink_add(b, sink, &a->ip, port->port, 1,
					 ref_ns(&a->target_ref, ep->meta.ns),
					 pod_ref_name(&a->target_ref),
					 ref_labels(b, sink, &a->target_ref,
						    ep->meta.ns));
			}
		}
		return true;
	}
	return false;
}

/* targetPort on one Pod: a number, a container port name, or the port. */
static uint16_t k8s_pod_target(const struct k8s_pod *pod,
			       const struct k8s_service_port *sp)
{
	if (sp->target_number)
		return sp->target_number;
	if (!sp->target_name)
		return sp->port;
	for (size_t i = 0; i < pod->ncontainers; i++) {
		const struct k8s_container *c = &pod->containers[i];

		for (size_t j = 0; j < c->nports; j++)
			if (c->ports[j].name &&
			    !strcmp(c->ports[j].name, sp->target_name) &&
			    c->ports[j].protocol == sp->protocol)
				return c->ports[j].container_port;
	}
	return 0; /* the Pod does not serve it: left out, as Kubernetes does */
}

static void k8s_from_pods(struct lb_build *b, const struct k8s_service *svc,
			  const struct k8s_service_port *sp,
			  const struct lb_sink *sink)
{
	if (!svc->selector.set || !svc->selector.match.n)
		return;
	LB_REFS_FOR_EACH(i, &b->pods, svc->meta.ns, NULL) {
		const struct k8s_pod *pod = b->pods.r[i].obj;
		uint16_t port;

		if (!k8s_pod_is_ready(pod) ||
		    !mesh_selector_matches(&svc->selector, &pod->meta.labels))
			continue;
		port = k8s_pod_target(pod, sp);
		for (size_t j = 0; j < pod->nips; j++)
			sink_add(b, sink, &pod->ips[j], port, 1, pod->meta.ns,
				 pod->meta.name, &pod->meta.labels);
	}
}

void lb_k8s_backends(struct lb_build *b, const struct k8s_service *svc,
		     const struct k8s_service_port *sp,
		     const struct lb_sink *sink)
{
	if (!k8s_from_slices(b, svc, sp, sink) &&
	    !k8s_from_endpoints(b, svc, sp, sink))
		k8s_from_pods(b, svc, sp, sink);
}

/*
 * Istio's protocol of a Service port (kube ConvertProtocol): UDP is UDP;
 * appProtocol, else the port name, up to its first '-'.
 */
static enum lb_port_class k8s_port_class(const struct k8s_service_port *sp)
{
	static const char *const http[] = { "http", "http2", "grpc",
					    "grpc-web", "http_proxy", NULL };
	static const char *const tls[] = { "https", "tls", NULL };
	const char *name = sp->name;
	size_t len;

	if (sp->protocol == K8S_PROTO_UDP)
		return LB_PORT_TCP;
	if (sp->app_protocol && sp->app_protocol[0]) {
		name = sp->app_protocol;
		if (!strcmp(name, "kubernetes.io/h2c") ||
		    !strcmp(name, "kubernetes.io/ws"))
			return LB_PORT_HTTP;
		if (!strcmp(name, "kubernetes.io/wss"))
			return LB_PORT_TLS;
	}
	if (!name)
		return LB_PORT_TCP;
	if (!strncasecmp(name, "grpc-web", 8))
		return LB_PORT_HTTP;
	len = strcspn(name, "-");
	for (size_t i = 0; http[i]; i++)
		if (strlen(http[i]) == len && !strncasecmp(name, http[i], len))
			return LB_PORT_HTTP;
	for (size_t i = 0; tls[i]; i++)
		if (strlen(tls[i]) == len && !strncasecmp(name, tls[i], len))
			return LB_PORT_TLS;
	return LB_PORT_TCP; /* TCP, Mongo, MySQL, Redis, sniffed, ... */
}

static enum lb_port_class se_port_class(const struct istio_se_port *p)
{
	switch (p->protocol) {
	case ISTIO_PROTO_HTTP:
	case ISTIO_PROTO_HTTP2:
	case ISTIO_PROTO_GRPC:
	case ISTIO_PROTO_GRPC_WEB:
	case ISTIO_PROTO_HTTP_PROXY:
		return LB_PORT_HTTP;
	case ISTIO_PROTO_HTTPS:
	case ISTIO_PROTO_TLS:
		return LB_PORT_TLS;
	default:
		return LB_PORT_TCP;
	}
}

/* Start a service; NULL (b->err set) when out of memory. */
static struct lb_entry *lb_begin(struct lb_build *b, enum mesh_kind kind,
				 const struct mesh_meta *owner,
				 const void *obj, enum lb_port_class pclass,
				 const char *host, const char *port_name,
				 const union weft_addr *vip, uint16_t port,
				 uint8_t proto)
{
	struct lb_entry *e;

	if (vec_reserve((void **)&b->e, &b->cap, b->n + 1, sizeof(*b->e))) {
		b->err = -ENOMEM;
		return NULL;
	}
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->owner = owner;
	e->obj = obj;
	e->pclass = pclass;
	e->order = b->n++;
	snprintf(e->svc.host, sizeof(e->svc.host), "%s", host);
	snprintf(e->svc.ns, sizeof(e->svc.ns), "%s", owner->ns);
	snprintf(e->svc.port_name, sizeof(e->svc.port_name), "%s",
		 port_name ? port_name : "");
	e->svc.vip = *vip;
	e->svc.port = port;
	e->svc.proto = proto;
	return e;
}

static void lb_k8s_service(struct lb_build *b, const struct k8s_service *svc)
{
	char host[LB_NAME_MAX];

	if (svc->headless || !svc->ncluster_ips)
		return;
	snprintf(host, sizeof(host), "%s.%s.svc." MESH_CLUSTER_DOMAIN,
		 svc->meta.name, svc->meta.ns);
	for (size_t p = 0; p < svc->nports && !b->err; p++) {
		const struct k8s_service_port *sp = &svc->ports[p];

		if (sp->protocol == K8S_PROTO_SCTP) {
			pr_info("%s:%u: Service %s/%s port %u/SCTP skipped: SCTP is not supported\n",
				svc->meta.file, sp->line, svc->meta.ns,
				svc->meta.name, sp->port);
			continue;
		}
		for (size_t i = 0; i < svc->ncluster_ips && !b->err; i++) {
			struct lb_entry *e;

			e = lb_begin(b, MESH_KIND_SERVICE, &svc->meta, svc,
				     k8s_port_class(sp), host, sp->name,
				     &svc->cluster_ips[i], sp->port,
				     sp->protocol == K8S_PROTO_UDP ?
				     IPPROTO_UDP : IPPROTO_TCP);
			if (!e)
				return;
			lb_k8s_backends(b, svc, sp,
					&(struct lb_sink){ &e->bs, &e->svc.vip,
							   NULL });
		}
	}
}

/* ---- ServiceEntry ------------------------------------------------------- */

static uint16_t se_endpoint_port(const struct istio_se_port *p,
				 const struct istio_workload *w)
{
	for (size_t i = 0; w && i < w->nports; i++)
		if (!strcmp(w->ports[i].name, p->name))
			return w->ports[i].port;
	return p->target_port ? p->target_port : p->number;
}

static void se_add_workload(struct lb_build *b, const struct lb_sink *sink,
			    const struct istio_service_entry *se,
			    const struct istio_se_port *p,
			    const struct istio_workload *w,
			    const char *wl_ns, const char *wl_name)
{
	if (w->addr_kind != ISTIO_ADDR_IP) {
		pr_debug("%s:%u: endpoint %s is not an IP address: not load-balanced here\n",
			 se->meta.file, w->line, w->address ? w->address : "-");
		return;
	}
	sink_add(b, sink, &w->ip, se_endpoint_port(p, w), w->weight, wl_ns,
		 wl_name, &w->labels);
}

void lb_se_backends(struct lb_build *b, const struct istio_service_entry *se,
		    const struct istio_se_port *p, const struct lb_sink *sink)
{
	const struct mesh_selector *sel = &se->workload_selector;
	uint16_t port = p->target_port ? p->target_port : p->number;

	for (size_t i = 0; i < se->nendpoints; i++)
		se_add_workload(b, sink, se, p, &se->endpoints[i], NULL, NULL);
	if (!sel->set)
		return;
	LB_REFS_FOR_EACH(i, &b->wes, se->meta.ns, NULL) {
		const struct istio_workload_entry *we = b->wes.r[i].obj;

		if (mesh_selector_matches(sel, &we->spec.labels))
			se_add_workload(b, sink, se, p, &we->spec, we->meta.ns,
					we->meta.name);
	}
	LB_REFS_FOR_EACH(i, &b->pods, se->meta.ns, NULL) {
		const struct k8s_pod *pod = b->pods.r[i].obj;

		if (!k8s_pod_is_ready(pod) ||
		    !mesh_selector_matches(sel, &pod->meta.labels))
			continue;
		for (size_t j = 0; j < pod->nips; j++)
			sink_add(b, sink, &pod->ips[j], port, 1, pod->meta.ns,
				 pod->meta.name, &pod->meta.labels);
	}
}

static void lb_service_entry(struct lb_build *b,
			     const struct istio_service_entry *se)
{
	switch (se->resolution) {
	case ISTIO_RES_STATIC:
	case ISTIO_RES_DNS:
	case ISTIO_RES_DNS_ROUND_ROBIN:
		break;
	case ISTIO_RES_DYNAMIC_DNS:
		if (se->naddresses)
			pr_info("%s:%u: ServiceEntry %s/%s: resolution DYNAMIC_DNS is resolved per request, not load-balanced at connect time\n",
				se->meta.file, se->meta.line, se->meta.ns,
				se->meta.name);
		return;
	default:
		return; /* NONE: the original destination is kept */
	}
	for (size_t a = 0; a < se->naddresses && !b->err; a++) {
		const struct mesh_cidr *vip = &se->addresses[a];

		if (vip->prefix_len != (vip->v4 ? 32 : 128)) {
			pr_info("%s:%u: ServiceEntry %s/%s address %s skipped: a CIDR wider than one address is not a VIP\n",
				se->meta.file, se->meta.line, se->meta.ns,
				se->meta.name, vip->text);
			continue;
		}
		for (size_t p = 0; p < se->nports && !b->err; p++) {
			const struct istio_se_port *port = &se->ports[p];
			struct lb_entry *e;

			e = lb_begin(b, MESH_KIND_SERVICE_ENTRY, &se->meta, se,
				     se_port_class(port), se->hosts.v[0],
				     port->name, &vip->addr, port->number,
				     port->protocol == ISTIO_PROTO_UDP ?
				     IPPROTO_UDP : IPPROTO_TCP);
			if (!e)
				return;
			lb_se_backends(b, se, port,
				       &(struct lb_sink){ &e->bs, &e->svc.vip,
							  NULL });
		}
	}
}

/* ---- assembly ----------------------------------------------------------- */

static int cmp_entry(const void *pa, const void *pb)
{
	const struct lb_entry *a = pa, *b = pb;
	int c = memcmp(&a->svc.vip, &b->svc.vip, sizeof(a->svc.vip));

	if (c)
		return c;
	if (a->svc.port != b->svc.port)
		return a->svc.port < b->svc.port ? -1 : 1;
	if (a->svc.proto != b->svc.proto)
		return a->svc.proto < b->svc.proto ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static bool same_key(const struct lb_service *a, const struct lb_service *b)
{
	return !memcmp(&a->vip, &b->vip, sizeof(a->vip)) && a->port == b->port &&
	       a->proto == b->proto;
}

/*
 * Sort, reject a (VIP, port, proto) claimed by two resources, drop a
 * repeat within one resource (e.g. "10.0.0.1" and "10.0.0.1/32").  On
 * success out->services[i] is b->e[i].svc, the backends moved over.
 */
static int lb_assemble(struct lb_build *b, struct lb_state *out)
{
	size_t n = 0, errors = 0;

	if (b->n)
		qsort(b->e, b->n, sizeof(*b->e), cmp_entry);
	for (size_t i = 0; i < b->n; i++) {
		struct lb_entry *e = &b->e[i];

		if (n && same_key(&b->e[n - 1].svc, &e->svc)) {
			const struct lb_entry *first = &b->e[n - 1];
			char vip[80];

			if (first->owner != e->owner) {
				fmt_vip(&e->svc, vip, sizeof(vip));
				pr_warn("%s:%u: %s %s/%s claims %s, already claimed by %s %s/%s (%s:%u)\n",
					e->owner->file, e->owner->line,
					mesh_kind_name(e->kind), e->owner->ns,
					e->owner->name, vip,
					mesh_kind_name(first->kind),
					first->owner->ns, first->owner->name,
					first->owner->file, first->owner->line);
				errors++;
			}
			free(e->bs.v);
			e->bs.v = NULL;
			continue;
		}
		lb_backends_sort(e->bs.v, &e->bs.n);
		if (e->bs.n > WEFT_MAX_BACKENDS_PER_SERVICE) {
			char vip[80];

			fmt_vip(&e->svc, vip, sizeof(vip));
			pr_warn("%s:%u: %s %s/%s: %s has %zu backends, more than the %d supported\n",
				e->owner->file, e->owner->line,
				mesh_kind_name(e->kind), e->owner->ns,
				e->owner->name, vip, e->bs.n,
				WEFT_MAX_BACKENDS_PER_SERVICE);
			errors++;
		}
		b->e[n++] = *e;
	}
	b->n = n;
	if (n > WEFT_MAX_SERVICES) {
		pr_warn("%zu services, more than the %d supported\n", n,
			WEFT_MAX_SERVICES);
		errors++;
	}
	if (errors)
		return -EINVAL;
	out->services = calloc(n ? n : 1, sizeof(*out->services));
	if (!out->services)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		out->services[i] = b->e[i].svc;
		out->services[i].backends = b->e[i].bs.v;
		out->services[i].nbackends = b->e[i].bs.n;
		b->e[i].bs.v = NULL;
	}
	out->nservices = n;
	return 0;
}

static void lb_build_free(struct lb_build *b)
{
	free(b->pods.r);
	free(b->pods_by_name.r);
	free(b->slices.r);
	free(b->endpoints.r);
	free(b->wes.r);
	for (size_t i = 0; i < b->n; i++)
		free(b->e[i].bs.v);
	free(b->e);
	for (size_t i = 0; i < b->nhosts; i++)
		free(b->hosts[i].name);
	free(b->hosts);
	lb_hostrefs_free(&b->vs_exact);
	lb_hostrefs_free(&b->vs_wild);
	lb_hostrefs_free(&b->dr_exact);
	lb_hostrefs_free(&b->dr_wild);
	free(b->req);
	for (size_t i = 0; i < b->nstrs; i++)
		free(b->strs[i]);
	free(b->strs);
	free(b->noticed);
}

int lb_compile(const struct mesh_config *cfg, struct lb_state *out)
{
	struct lb_build b = { .cfg = cfg };
	int err;

	memset(out, 0, sizeof(*out));
	if (!cfg)
		return 0;
	b.err = lb_index(&b, cfg);
	for (size_t i = 0; i < cfg->nservices && !b.err; i++)
		lb_k8s_service(&b, &cfg->services[i]);
	for (size_t i = 0; i < cfg->nservice_entries && !b.err; i++)
		lb_service_entry(&b, &cfg->service_entries[i]);
	err = b.err;
	if (!err)
		err = lb_assemble(&b, out);
	if (!err)
		err = lb_hosts_build(&b);
	if (!err)
		err = lb_dr_index(&b);
	if (!err)
		err = lb_routes_build(&b, out);
	if (!err)
		err = lb_clusters_build(&b, out);
	if (!err)
		err = lb_workloads_build(&b, out);
	if (!err && b.err)
		err = b.err;
	if (!err && b.errors)
		err = -EINVAL;
	lb_build_free(&b);
	if (err)
		lb_state_free(out);
	return err;
}

void lb_state_free(struct lb_state *state)
{
	if (!state)
		return;
	for (size_t i = 0; i < state->nservices; i++)
		free(state->services[i].backends);
	free(state->services);
	for (size_t i = 0; i < state->nclusters; i++)
		free(state->clusters[i].backends);
	free(state->clusters);
	free(state->workloads);
	memset(state, 0, sizeof(*state));
}
