// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kubernetes kinds: Service, EndpointSlice (discovery.k8s.io/v1), legacy
 * v1 Endpoints and Pod.  Only the fields the data plane uses are read and
 * checked; the rest of a Kubernetes object is ignored, as kubectl output
 * carries many (status, managedFields, ...).
 */
#include <string.h>

#include "lb.h"
#include "mesh-t.h"

/* IANA service name, as a named container port: 1..15 of [a-z0-9-],
 * at least one letter, no leading, trailing or double '-'. */
static bool iana_svc_name(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;

	if (!len || len > 15 || s[0] == '-' || s[len - 1] == '-' ||
	    strstr(s, "--"))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

static void read_object_ref(struct ydec *d, const struct ynode *map,
			    const char *key, struct k8s_object_ref *ref)
{
	size_t mark;
	const struct ynode *m = ydec_enter_map(d, map, key, &mark);

	if (!m)
		return;
	ydec_str(d, m, "kind", &ref->kind);
	ydec_str(d, m, "namespace", &ref->ns);
	ydec_str(d, m, "name", &ref->name);
	if (!ref->kind)
		ref->kind = "";
	ydec_pop(d, mark);
}

/* ---- Service ---------------------------------------------------------- */

static bool read_service_port(struct ydec *d, const struct ynode *p,
			      void *elem, void *ctx)
{
	struct k8s_service_port *out = elem;
	const struct ynode *tp;

	(void)ctx;
	out->line = p->line;
	out->name = "";
	if (ydec_str(d, p, "name", &out->name) && !mesh_valid_dns_label(out->name))
		ydec_error_key(d, "name", ymap_find(p, "name"),
			       "\"%.64s\" is not a valid port name", out->name);
	mesh_read_k8s_protocol(d, p, "protocol", &out->protocol);
	if (ydec_required(d, p, "port"))
		mesh_read_port(d, p, "port", &out->port);
	tp = ymap_find(p, "targetPort");
	if (tp) {
		size_t m = ydec_push(d, "targetPort");
		int64_t v;

		if (tp->kind == YNODE_SCALAR && tp->plain &&
		    tp->str[0] >= '0' && tp->str[0] <= '9') {
			if (ydec_as_int(d, tp, 1, 65535, &v))
				out->target_number = (uint16_t)v;
		} else if (ydec_as_str(d, tp, &out->target_name) &&
			   !iana_svc_name(out->target_name)) {
			ydec_error(d, tp, "\"%.64s\" is not a valid port name%s",
				   out->target_name,
				   strspn(out->target_name, "0123456789") ==
				   strlen(out->target_name) ?
				   " (write a port number without quotes)" : "");
			out->target_name = NULL;
		}
		ydec_pop(d, m);
	}
	{
		int64_t v;

		if (ydec_int(d, p, "nodePort", 0, 65535, &v))
			out->node_port = (uint16_t)v;
	}
	ydec_str(d, p, "appProtocol", &out->app_protocol);
	return true;
}

static void read_service_ports(struct ydec *d, const struct ynode *spec,
			       struct k8s_service *svc)
{
	const struct ynode *seq;
	size_t mark;

	seq = YDEC_MAPS(d, ydec_seq_max(d, spec, "ports", MESH_MAX_LIST),
			"ports", svc->ports, svc->nports, read_service_port,
			NULL);
	if (!seq)
		return;
	mark = ydec_push(d, "ports");
	for (size_t i = 0; i < svc->nports; i++) {
		const struct k8s_service_port *a = &svc->ports[i];
		size_t m = ydec_push_index(d, i);

		if (svc->nports > 1 && !a->name[0])
			ydec_error(d, seq->items[i],
				   "name: required when a Service has several ports");
		for (size_t j = 0; j < i; j++) {
			const struct k8s_service_port *b = &svc->ports[j];

			if (a->name[0] && !strcmp(a->name, b->name))
				ydec_error(d, seq->items[i],
					   "duplicate port name \"%s\"", a->name);
			else if (a->port && a->port == b->port &&
				 a->protocol == b->protocol)
				ydec_error(d, seq->items[i],
					   "duplicate port %u", a->port);
		}
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

static void read_cluster_ips(struct ydec *d, const struct ynode *spec,
			     struct k8s_service *svc)
{
	const struct ynode *seq = ydec_seq(d, spec, "clusterIPs");
	union weft_addr ips[2], single;
	bool have_single = false, none = false;
	const char *s;
	size_t n = 0;

	if (ydec_str(d, spec, "clusterIP", &s)) {
		size_t m = ydec_push(d, "clusterIP");

		if (!strcmp(s, "None"))
			none = true;
		else if (s[0])
			have_single = mesh_read_ip(d, ymap_find(spec, "clusterIP"),
						   &single);
		ydec_pop(d, m);
	}
	if (seq) {
		size_t mark = ydec_push(d, "clusterIPs");

		for (size_t i = 0; i < seq->n; i++) {
			const struct ynode *it = seq->items[i];
			size_t m = ydec_push_index(d, i);

			if (it->kind == YNODE_SCALAR && !strcmp(it->str, "None")) {
				if (seq->n > 1)
					ydec_error(d, it, "\"None\" must be the only entry");
				none = true;
			} else if (n == 2) {
				ydec_error(d, it, "at most two addresses (one per family)");
			} else if (mesh_read_ip(d, it, &ips[n])) {
				if (n && weft_addr_is_v4(&ips[0]) ==
					 weft_addr_is_v4(&ips[n]))
					ydec_error(d, it, "dual-stack addresses must be of different families");
				n++;
			}
			ydec_pop(d, m);
		}
		ydec_pop(d, mark);
		if (have_single && n && memcmp(&single, &ips[0], sizeof(single)))
			ydec_error_key(d, "clusterIPs", seq,
				       "first entry must equal clusterIP");
		if (have_single && none)
			ydec_error_key(d, "clusterIP", spec,
				       "must be \"None\" as clusterIPs is");
	} else if (have_single) {
		ips[n++] = single;
	}
	svc->headless = none;
	if (!n)
		return;
	svc->cluster_ips = ydec_array(d, n, sizeof(*svc->cluster_ips));
	if (!svc->cluster_ips)
		return;
	memcpy(svc->cluster_ips, ips, n * sizeof(*ips));
	svc->ncluster_ips = n;
}

static void read_ip_families(struct ydec *d, const struct ynode *spec,
			     struct k8s_service *svc)
{
	static const char *const fams[] = { "IPv4", "IPv6", NULL };
	static const char *const policies[] = {
		"SingleStack", "PreferDualStack", "RequireDualStack", NULL,
	};
	const struct ynode *seq = ydec_seq(d, spec, "ipFamilies");
	size_t mark;
	int v;

	if (ydec_enum(d, spec, "ipFamilyPolicy", policies, false, &v))
		svc->ip_family_policy = policies[v];
	if (!seq)
		return;
	mark = ydec_push(d, "ipFamilies");
	for (size_t i = 0; i < seq->n; i++) {
		size_t m = ydec_push_index(d, i);

		if (!ydec_as_enum(d, seq->items[i], fams, false, &v)) {
			/* reported */
		} else if (i >= 2) {
			ydec_error(d, seq->items[i], "at most two families");
		} else if (i == 1 && (int)svc->ip_families[0] == v) {
			ydec_error(d, seq->items[i], "duplicate family %s", fams[v]);
		} else {
			svc->ip_families[svc->nip_families++] =
				(enum k8s_ip_family)v;
			if (i < svc->ncluster_ips &&
			    weft_addr_is_v4(&svc->cluster_ips[i]) !=
			    (v == K8S_IPV4))
				ydec_error(d, seq->items[i],
					   "%s does not match clusterIPs[%zu]",
					   fams[v], i);
		}
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

void mesh_k8s_read_service(struct mesh_config *cfg, struct ydec *d,
			   const struct ynode *doc, const struct mesh_meta *meta)
{
	static const char *const types[] = {
		"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", NULL,
	};
	struct k8s_service svc = { .meta = *meta };
	const struct ynode *spec;
	size_t mark;
	int v;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	svc.spec = spec;
	if (ydec_enum(d, spec, "type", types, false, &v))
		svc.type = (enum k8s_service_type)v;
	read_cluster_ips(d, spec, &svc);
	read_ip_families(d, spec, &svc);
	if (ymap_find(spec, "selector"))
		mesh_read_selector(d, spec, "selector", NULL, &svc.selector);
	read_service_ports(d, spec, &svc);
	ydec_str(d, spec, "externalName", &svc.external_name);
	if (svc.type == K8S_SVC_EXTERNAL_NAME && !svc.external_name)
		ydec_required(d, spec, "externalName");
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->services, cfg->nservices, svc);
}

/* ---- EndpointSlice and Endpoints ---------------------------------------- */

/* EndpointSlice ports and Endpoints subset ports, as they are read. */
struct endpoint_ports {
	bool port_required;        /* Endpoints: port is required */
	size_t n;
	struct k8s_endpoint_port *ports;
};

static bool read_endpoint_port(struct ydec *d, const struct ynode *p,
			       void *elem, void *ctx)
{
	const struct endpoint_ports *eps = ctx;
	struct k8s_endpoint_port *out = elem;

	out->line = p->line;
	out->name = "";
	ydec_str(d, p, "name", &out->name);
	mesh_read_k8s_protocol(d, p, "protocol", &out->protocol);
	if (!eps->port_required || ydec_required(d, p, "port"))
		mesh_read_port(d, p, "port", &out->port);
	ydec_str(d, p, "appProtocol", &out->app_protocol);
	for (size_t j = 0; j < eps->n; j++)
		if (!strcmp(eps->ports[j].name, out->name))
			ydec_error(d, p, "duplicate port name \"%s\"",
				   out->name);
	return true;
}

static void read_endpoint_ports(struct ydec *d, const struct ynode *map,
				bool port_required, size_t *n,
				struct k8s_endpoint_port **out)
{
	struct endpoint_ports eps = { .port_required = port_required };

	YDEC_MAPS(d, ydec_seq_max(d, map, "ports", MESH_MAX_LIST), "ports",
		  eps.ports, eps.n, read_endpoint_port, &eps);
	*n = eps.n;
	*out = eps.ports;
}

static void read_slice_addresses(struct ydec *d, const struct ynode *ep,
				 enum k8s_address_type type,
				 struct k8s_slice_endpoint *out)
{
	size_t mark;

	if (!ydec_required(d, ep, "addresses") ||
	    !ydec_strv(d, ep, "addresses", false, &out->addresses))
		return;
	mark = ydec_push(d, "addresses");
	if (out->addresses.n < 1 || out->addresses.n > 100)
		ydec_error(d, ymap_find(ep, "addresses"),
			   "must hold 1 to 100 addresses");
	if (type != K8S_ADDR_FQDN)
		out->ips = ydec_array(d, out->addresses.n, sizeof(*out->ips));
	for (size_t i = 0; i < out->addresses.n; i++) {
		const struct ynode *it = ymap_find(ep, "addresses")->items[i];
		const char *a = out->addresses.v[i];
		size_t m = ydec_push_index(d, i);

		if (type == K8S_ADDR_FQDN) {
			if (!mesh_valid_host(a, false))
				ydec_error(d, it, "\"%.64s\" is not a valid FQDN", a);
		} else if (out->ips && mesh_read_ip(d, it, &out->ips[i]) &&
			   weft_addr_is_v4(&out->ips[i]) != (type == K8S_ADDR_IPV4)) {
			ydec_error(d, it, "\"%.64s\" is not an %s address", a,
				   type == K8S_ADDR_IPV4 ? "IPv4" : "IPv6");
		}
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

/* ctx: the slice's enum k8s_address_type. */
static bool read_slice_endpoint(struct ydec *d, const struct ynode *ep,
				void *elem, void *ctx)
{
	const struct ynode *cond = ydec_map(d, ep, "conditions");
	struct k8s_slice_endpoint *out = elem;

	out->line = ep->line;
	read_slice_addresses(d, ep, *(enum k8s_address_type *)ctx, out);
	out->ready = true;
	out->terminating = false;
	if (cond) {
		size_t m = ydec_push(d, "conditions");

		ydec_bool(d, cond, "ready", &out->ready);
		out->serving = out->ready;
		ydec_bool(d, cond, "serving", &out->serving);
		ydec_bool(d, cond, "terminating", &out->terminating);
		ydec_pop(d, m);
	} else {
		out->serving = true;
	}
	ydec_str(d, ep, "hostname", &out->hostname);
	ydec_str(d, ep, "nodeName", &out->node_name);
	ydec_str(d, ep, "zone", &out->zone);
	read_object_ref(d, ep, "targetRef", &out->target_ref);
	return true;
}

void mesh_k8s_read_endpoint_slice(struct mesh_config *cfg, struct ydec *d,
				  const struct ynode *doc,
				  const struct mesh_meta *meta)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct k8s_endpoint_slice es = { .meta = *meta };
	int v = 0;

	es.service_name = ykvs_get(&meta->labels, "kubernetes.io/service-name");
	if (ydec_required(d, doc, "addressType") &&
	    ydec_enum(d, doc, "addressType", types, false, &v))
		es.address_type = (enum k8s_address_type)v;
	YDEC_LIST(d, doc, "endpoints", es.endpoints, es.nendpoints,
		  read_slice_endpoint, &es.address_type);
	read_endpoint_ports(d, doc, false, &es.nports, &es.ports);
	MESH_ADD(d, cfg->slices, cfg->nslices, es);
}

static bool read_endpoint_address(struct ydec *d, const struct ynode *it,
				  void *elem, void *ctx)
{
	struct k8s_endpoint_address *a = elem;

	(void)ctx;
	a->line = it->line;
	if (ydec_required(d, it, "ip")) {
		size_t m = ydec_push(d, "ip");

		mesh_read_ip(d, ymap_find(it, "ip"), &a->ip);
		ydec_pop(d, m);
	}
	ydec_str(d, it, "hostname", &a->hostname);
	ydec_str(d, it, "nodeName", &a->node_name);
	read_object_ref(d, it, "targetRef", &a->target_ref);
	return true;
}

static bool read_endpoints_subset(struct ydec *d, const struct ynode *it,
				  void *elem, void *ctx)
{
	struct k8s_endpoints_subset *s = elem;

	(void)ctx;
	YDEC_LIST(d, it, "addresses", s->addresses, s->naddresses,
		  read_endpoint_address, NULL);
	YDEC_LIST(d, it, "notReadyAddresses", s->not_ready, s->nnot_ready,
		  read_endpoint_address, NULL);
	read_endpoint_ports(d, it, true, &s->nports, &s->ports);
	return true;
}

void mesh_k8s_read_endpoints(struct mesh_config *cfg, struct ydec *d,
			     const struct ynode *doc,
			     const struct mesh_meta *meta)
{
	struct k8s_endpoints ep = { .meta = *meta };

	YDEC_LIST(d, doc, "subsets", ep.subsets, ep.nsubsets,
		  read_endpoints_subset, NULL);
	MESH_ADD(d, cfg->endpoints, cfg->nendpoints, ep);
}

/* ---- Pod ---------------------------------------------------------------- */

static bool read_container_port(struct ydec *d, const struct ynode *it,
				void *elem, void *ctx)
{
	struct k8s_container_port *p = elem;

	(void)ctx;
	p->line = it->line;
	if (ydec_str(d, it, "name", &p->name) && !iana_svc_name(p->name))
		ydec_error_key(d, "name", ymap_find(it, "name"),
			       "\"%.64s\" is not a valid port name (at most 15 of a-z, 0-9, '-', with a letter)",
			       p->name);
	if (ydec_required(d, it, "containerPort"))
		mesh_read_port(d, it, "containerPort", &p->container_port);
	mesh_read_k8s_protocol(d, it, "protocol", &p->protocol);
	return true;
}

static bool read_container(struct ydec *d, const struct ynode *c, void *elem,
			   void *ctx)
{
	struct k8s_container *out = elem;

	(void)ctx;
	ydec_str(d, c, "name", &out->name);
	YDEC_LIST(d, c, "ports", out->ports, out->nports, read_container_port,
		  NULL);
	return true;
}

static void read_pod_spec(struct ydec *d, const struct ynode *spec,
			  struct k8s_pod *pod)
{
	const struct ynode *seq = ydec_seq(d, spec, "containers");

	if (!ydec_str(d, spec, "serviceAccountName", &pod->service_account))
		ydec_str(d, spec, "serviceAccount", &pod->service_account);
	ydec_str(d, spec, "nodeName", &pod->node_name);
	ydec_bool(d, spec, "hostNetwork", &pod->host_network);
	YDEC_MAPS(d, seq, "containers", pod->containers, pod->ncontainers,
		  read_container, NULL);
}

/* status.podIPs as they are read: at most one address per family. */
struct pod_ips {
	size_t n;
	union weft_addr ips[2];
};

static bool read_pod_ip(struct ydec *d, const struct ynode *it, void *elem,
			void *ctx)
{
	struct pod_ips *p = ctx;

	(void)elem;
	if (!ydec_required(d, it, "ip")) {
		/* reported */
	} else if (p->n == 2) {
		ydec_error(d, it, "at most two addresses (one per family)");
	} else {
		size_t m = ydec_push(d, "ip");

		if (mesh_read_ip(d, ymap_find(it, "ip"), &p->ips[p->n]))
			p->n++;
		ydec_pop(d, m);
	}
	return true;
}

static bool read_pod_condition(struct ydec *d, const struct ynode *it,
			       void *elem, void *ctx)
{
	static const char *const cstatus[] = { "True", "False", "Unknown", NULL };
	struct k8s_pod *pod = ctx;
	const char *type = NULL;
	int v;

	(void)elem;
	if (ydec_required(d, it, "type") && ydec_str(d, it, "type", &type) &&
	    ydec_required(d, it, "status") &&
	    ydec_enum(d, it, "status", cstatus, false, &v) &&
	    !strcmp(type, "Ready"))
		pod->ready = v == 0;
	return true;
}

static void read_pod_status(struct ydec *d, const struct ynode *st,
			    struct k8s_pod *pod)
{
	static const char *const phases[] = {
		"Pending", "Running", "Succeeded", "Failed", "Unknown", NULL,
	};
	const struct ynode *seq;
	struct pod_ips p = { 0 };
	union weft_addr first;
	bool have_first = false;
	int v;

	if (ydec_enum(d, st, "phase", phases, false, &v))
		pod->phase = (enum k8s_pod_phase)(v + K8S_POD_PENDING);
	if (ymap_find(st, "podIP")) {
		size_t m = ydec_push(d, "podIP");

		have_first = mesh_read_ip(d, ymap_find(st, "podIP"), &first);
		ydec_pop(d, m);
	}
	seq = ydec_maps(d, ydec_seq(d, st, "podIPs"), "podIPs", 0, NULL, NULL,
			read_pod_ip, &p);
	if (seq && have_first && p.n && memcmp(&first, &p.ips[0], sizeof(first)))
		ydec_error_key(d, "podIPs", seq, "first entry must equal podIP");
	if (!p.n && have_first)
		p.ips[p.n++] = first;
	if (p.n) {
		pod->ips = ydec_array(d, p.n, sizeof(*pod->ips));
		if (pod->ips) {
			memcpy(pod->ips, p.ips, p.n * sizeof(*p.ips));
			pod->nips = p.n;
		}
	}
	ydec_maps(d, ydec_seq(d, st, "conditions"), "conditions", 0, NULL, NULL,
		  read_pod_condition, pod);
}

/*
 * metadata.ownerReferences: kind and name of each owner (the workload name
 * of a Pod comes from its controller).  Entries without both are ignored,
 * as Kubernetes objects ignore what they do not need.
 */
static bool read_pod_owner(struct ydec *d, const struct ynode *it, void *elem,
			   void *ctx)
{
	struct k8s_owner_ref *o = elem;

	(void)ctx;
	ydec_str(d, it, "kind", &o->kind);
	ydec_str(d, it, "name", &o->name);
	ydec_bool(d, it, "controller", &o->controller);
	return o->kind && o->name && o->name[0];
}

void mesh_k8s_read_pod(struct mesh_config *cfg, struct ydec *d,
		       const struct ynode *doc, const struct mesh_meta *meta)
{
	struct k8s_pod pod = { .meta = *meta };
	const struct ynode *spec, *st, *md, *owners;
	size_t mark;

	md = ymap_find(doc, "metadata");
	if (md && md->kind == YNODE_MAP) {
		mark = ydec_push(d, "metadata");
		owners = ydec_seq(d, md, "ownerReferences");
		if (owners && owners->n)
			YDEC_MAPS(d, owners, "ownerReferences", pod.owners,
				  pod.nowners, read_pod_owner, NULL);
		ydec_pop(d, mark);
	}
	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (spec) {
		read_pod_spec(d, spec, &pod);
		ydec_pop(d, mark);
	}
	st = ydec_enter_map(d, doc, "status", &mark);
	if (st) {
		read_pod_status(d, st, &pod);
		ydec_pop(d, mark);
	}
	MESH_ADD(d, cfg->pods, cfg->npods, pod);
}

bool k8s_pod_is_ready(const struct k8s_pod *pod)
{
	return pod->phase == K8S_POD_RUNNING && pod->ready && pod->nips &&
	       !pod->meta.deleting;
}
