// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mesh_config -> lb_state: the (VIP, port, protocol) services and their
 * backends, as documented in lb.h.  Pure: reads the model, allocates the
 * result, logs notices; nothing else.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "log.h"
#include "mesh-t.h"

/* A service being built, with what is needed to name its source. */
struct lb_entry {
	struct lb_service svc;
	size_t bcap;
	enum mesh_kind kind;
	const struct mesh_meta *owner;
	size_t order;
};

/*
 * Resources looked up per service, sorted by (namespace, key) so that a
 * service visits only its own namespace: keeps lb_compile near
 * O(resources log resources) instead of services x pods.
 */
struct lb_ref {
	const char *ns;
	const char *key;   /* slice: service name; Endpoints: name; else "" */
	const void *obj;
};

struct lb_refs {
	struct lb_ref *r;
	size_t n;
};

struct lb_build {
	struct lb_entry *e;
	size_t n, cap;
	int err;
	struct lb_refs pods, slices, endpoints, wes;
};

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

/* Start a service; NULL (b->err set) when out of memory. */
static struct lb_entry *lb_begin(struct lb_build *b, enum mesh_kind kind,
				 const struct mesh_meta *owner,
				 const char *host, const char *port_name,
				 const union weft_addr *vip, uint16_t port,
				 uint8_t proto)
{
	struct lb_entry *e;

	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;
		void *p = realloc(b->e, ncap * sizeof(*b->e));

		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->e = p;
		b->cap = ncap;
	}
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->owner = owner;
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

/* Add a backend unless its family differs from the VIP's. */
static void lb_backend_add(struct lb_build *b, struct lb_entry *e,
			   const union weft_addr *addr, uint16_t port,
			   uint32_t weight, const char *wl_ns,
			   const char *wl_name)
{
	struct lb_backend *be;

	if (b->err || weft_addr_is_v4(addr) != weft_addr_is_v4(&e->svc.vip) ||
	    !port)
		return;
	if (e->svc.nbackends == e->bcap) {
		size_t ncap = e->bcap ? e->bcap * 2 : 8;
		void *p = realloc(e->svc.backends, ncap * sizeof(*be));

		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		e->svc.backends = p;
		e->bcap = ncap;
	}
	be = &e->svc.backends[e->svc.nbackends++];
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

/* Sort by (addr, port) and keep one backend per pair. */
static void lb_backends_finish(struct lb_service *s)
{
	size_t out = 0;

	if (!s->nbackends)
		return;
	qsort(s->backends, s->nbackends, sizeof(*s->backends), cmp_backend);
	for (size_t i = 0; i < s->nbackends; i++) {
		if (out && !memcmp(&s->backends[out - 1].addr,
				   &s->backends[i].addr,
				   sizeof(s->backends[i].addr)) &&
		    s->backends[out - 1].port == s->backends[i].port)
			continue;
		s->backends[out++] = s->backends[i];
	}
	s->nbackends = out;
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

/* First entry of (ns, key); key NULL: of ns.  refs->n when none. */
static size_t refs_first(const struct lb_refs *refs, const char *ns,
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

static bool refs_match(const struct lb_refs *refs, size_t i, const char *ns,
		       const char *key)
{
	return i < refs->n && !strcmp(refs->r[i].ns, ns) &&
	       (!key || !strcmp(refs->r[i].key, key));
}

#define REFS_FOR_EACH(i, refs, ns, key)                          \
	for (size_t i = refs_first((refs), (ns), (key));         \
	     refs_match((refs), i, (ns), (key)); i++)

static int lb_index(struct lb_build *b, const struct mesh_config *cfg)
{
	const size_t none = SIZE_MAX;

	if (refs_build(&b->pods, cfg->pods, cfg->npods, sizeof(*cfg->pods),
		       offsetof(struct k8s_pod, meta), none) ||
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

static void lb_index_free(struct lb_build *b)
{
	free(b->pods.r);
	free(b->slices.r);
	free(b->endpoints.r);
	free(b->wes.r);
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

/* Backends from EndpointSlices; false when the Service has none. */
static bool k8s_from_slices(struct lb_build *b, const struct k8s_service *svc,
			    const struct k8s_service_port *sp,
			    struct lb_entry *e)
{
	bool found = false;

	REFS_FOR_EACH(i, &b->slices, svc->meta.ns, svc->meta.name) {
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
			lb_backend_add(b, e, &ep->ips[0], port->port, 1,
				       ref_ns(&ep->target_ref, es->meta.ns),
				       pod_ref_name(&ep->target_ref));
		}
	}
	return found;
}

static bool k8s_from_endpoints(struct lb_build *b,
			       const struct k8s_service *svc,
			       const struct k8s_service_port *sp,
			       struct lb_entry *e)
{
	REFS_FOR_EACH(i, &b->endpoints, svc->meta.ns, svc->meta.name) {
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

				lb_backend_add(b, e, &a->ip, port->port, 1,
					       ref_ns(&a->target_ref, ep->meta.ns),
					       pod_ref_name(&a->target_ref));
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
			  struct lb_entry *e)
{
	if (!svc->selector.set || !svc->selector.match.n)
		return;
	REFS_FOR_EACH(i, &b->pods, svc->meta.ns, NULL) {
		const struct k8s_pod *pod = b->pods.r[i].obj;
		uint16_t port;

		if (!k8s_pod_is_ready(pod) ||
		    !mesh_selector_matches(&svc->selector, &pod->meta.labels))
			continue;
		port = k8s_pod_target(pod, sp);
		for (size_t j = 0; j < pod->nips; j++)
			lb_backend_add(b, e, &pod->ips[j], port, 1, pod->meta.ns,
				       pod->meta.name);
	}
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

			e = lb_begin(b, MESH_KIND_SERVICE, &svc->meta, host,
				     sp->name, &svc->cluster_ips[i], sp->port,
				     sp->protocol == K8S_PROTO_UDP ?
				     IPPROTO_UDP : IPPROTO_TCP);
			if (!e)
				return;
			if (!k8s_from_slices(b, svc, sp, e) &&
			    !k8s_from_endpoints(b, svc, sp, e))
				k8s_from_pods(b, svc, sp, e);
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

static void se_add_workload(struct lb_build *b, struct lb_entry *e,
			    const struct istio_se_port *p,
			    const struct istio_workload *w,
			    const char *wl_ns, const char *wl_name)
{
	if (w->addr_kind != ISTIO_ADDR_IP) {
		pr_debug("%s:%u: endpoint %s is not an IP address: not load-balanced here\n",
			 e->owner->file, w->line, w->address ? w->address : "-");
		return;
	}
	lb_backend_add(b, e, &w->ip, se_endpoint_port(p, w), w->weight, wl_ns,
		       wl_name);
}

static void se_backends(struct lb_build *b,
			const struct istio_service_entry *se,
			const struct istio_se_port *p, struct lb_entry *e)
{
	const struct mesh_selector *sel = &se->workload_selector;
	uint16_t port = p->target_port ? p->target_port : p->number;

	for (size_t i = 0; i < se->nendpoints; i++)
		se_add_workload(b, e, p, &se->endpoints[i], NULL, NULL);
	if (!sel->set)
		return;
	REFS_FOR_EACH(i, &b->wes, se->meta.ns, NULL) {
		const struct istio_workload_entry *we = b->wes.r[i].obj;

		if (mesh_selector_matches(sel, &we->spec.labels))
			se_add_workload(b, e, p, &we->spec, we->meta.ns,
					we->meta.name);
	}
	REFS_FOR_EACH(i, &b->pods, se->meta.ns, NULL) {
		const struct k8s_pod *pod = b->pods.r[i].obj;

		if (!k8s_pod_is_ready(pod) ||
		    !mesh_selector_matches(sel, &pod->meta.labels))
			continue;
		for (size_t j = 0; j < pod->nips; j++)
			lb_backend_add(b, e, &pod->ips[j], port, 1, pod->meta.ns,
				       pod->meta.name);
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

			e = lb_begin(b, MESH_KIND_SERVICE_ENTRY, &se->meta,
				     se->hosts.v[0], port->name, &vip->addr,
				     port->number,
				     port->protocol == ISTIO_PROTO_UDP ?
				     IPPROTO_UDP : IPPROTO_TCP);
			if (!e)
				return;
			se_backends(b, se, port, e);
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
 * repeat within one resource (e.g. "10.0.0.1" and "10.0.0.1/32").
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
			free(e->svc.backends);
			e->svc.backends = NULL;
			continue;
		}
		lb_backends_finish(&e->svc);
		if (e->svc.nbackends > WEFT_MAX_BACKENDS_PER_SERVICE) {
			char vip[80];

			fmt_vip(&e->svc, vip, sizeof(vip));
			pr_warn("%s:%u: %s %s/%s: %s has %zu backends, more than the %d supported\n",
				e->owner->file, e->owner->line,
				mesh_kind_name(e->kind), e->owner->ns,
				e->owner->name, vip, e->svc.nbackends,
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
		b->e[i].svc.backends = NULL;
	}
	out->nservices = n;
	return 0;
}

int lb_compile(const struct mesh_config *cfg, struct lb_state *out)
{
	struct lb_build b = { 0 };
	int err;

	memset(out, 0, sizeof(*out));
	if (!cfg)
		return 0;
	b.err = lb_index(&b, cfg);
	for (size_t i = 0; i < cfg->nservices && !b.err; i++)
		lb_k8s_service(&b, &cfg->services[i]);
	for (size_t i = 0; i < cfg->nservice_entries && !b.err; i++)
		lb_service_entry(&b, &cfg->service_entries[i]);
	err = b.err ? b.err : lb_assemble(&b, out);
	lb_index_free(&b);
	for (size_t i = 0; i < b.n; i++)
		free(b.e[i].svc.backends);
	free(b.e);
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
	memset(state, 0, sizeof(*state));
}
