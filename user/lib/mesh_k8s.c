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

/* Element i of seq as a mapping, with "[i]" pushed; NULL when not one. */
static const struct ynode *item_map(struct ydec *d, const struct ynode *seq,
				    size_t i, size_t *mark)
{
	const struct ynode *it = seq->items[i];

	*mark = ydec_push_index(d, i);
	if (it->kind != YNODE_MAP) {
		ydec_error(d, it, "expected a mapping");
		ydec_pop(d, *mark);
		return NULL;
	}
	return it;
}

static void read_object_ref(struct ydec *d, const struct ynode *map,
			    const char *key, struct k8s_object_ref *ref)
{
	const struct ynode *m = ydec_map(d, map, key);
	size_t mark;

	if (!m)
		return;
	mark = ydec_push(d, key);
	ydec_str(d, m, "kind", &ref->kind);
	ydec_str(d, m, "namespace", &ref->ns);
	ydec_str(d, m, "name", &ref->name);
	if (!ref->kind)
		ref->kind = "";
	ydec_pop(d, mark);
}

/* ---- Service ---------------------------------------------------------- */

static void read_service_port(struct ydec *d, const struct ynode *p,
			      struct k8s_service_port *out)
{
	const struct ynode *tp;

	out->line = p->line;
	out->name = "";
	if (ydec_str(d, p, "name", &out->name) && !mesh_valid_dns_label(out->name)) {
		size_t m = ydec_push(d, "name");

		ydec_error(d, ymap_find(p, "name"),
			   "\"%.64s\" is not a valid port name", out->name);
		ydec_pop(d, m);
	}
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
}

static void read_service_ports(struct ydec *d, const struct ynode *spec,
			       struct k8s_service *svc)
{
	const struct ynode *seq = ydec_seq_max(d, spec, "ports",
						 MESH_MAX_LIST);
	size_t mark;

	if (!seq)
		return;
	svc->ports = ydec_array(d, seq->n, sizeof(*svc->ports));
	if (!svc->ports)
		return;
	mark = ydec_push(d, "ports");
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *p;
		size_t m;

		p = item_map(d, seq, i, &m);
		if (!p)
			continue;
		read_service_port(d, p, &svc->ports[svc->nports]);
		svc->nports++;
		ydec_pop(d, m);
	}
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
		if (have_single && n && memcmp(&single, &ips[0], sizeof(single))) {
			size_t m = ydec_push(d, "clusterIPs");

			ydec_error(d, seq, "first entry must equal clusterIP");
			ydec_pop(d, m);
		}
		if (have_single && none) {
			size_t m = ydec_push(d, "clusterIP");

			ydec_error(d, spec, "must be \"None\" as clusterIPs is");
			ydec_pop(d, m);
		}
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
	struct k8s_service *slot;
	size_t mark;
	int v;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_map(d, doc, "spec");
	if (!spec)
		return;
	svc.spec = spec;
	mark = ydec_push(d, "spec");
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
	if (!ydec_doc_ok(d))
		return;
	slot = MESH_PUSH(d, cfg->services, cfg->nservices);
	if (slot)
		*slot = svc;
}

/* ---- EndpointSlice and Endpoints ---------------------------------------- */

static void read_endpoint_port(struct ydec *d, const struct ynode *p,
			       bool port_required, struct k8s_endpoint_port *out)
{
	out->line = p->line;
	out->name = "";
	ydec_str(d, p, "name", &out->name);
	mesh_read_k8s_protocol(d, p, "protocol", &out->protocol);
	if (!port_required || ydec_required(d, p, "port"))
		mesh_read_port(d, p, "port", &out->port);
	ydec_str(d, p, "appProtocol", &out->app_protocol);
}

static void read_endpoint_ports(struct ydec *d, const struct ynode *map,
				bool port_required, size_t *n,
				struct k8s_endpoint_port **out)
{
	const struct ynode *seq = ydec_seq_max(d, map, "ports",
						 MESH_MAX_LIST);
	size_t mark;

	if (!seq)
		return;
	*out = ydec_array(d, seq->n, sizeof(**out));
	if (!*out)
		return;
	mark = ydec_push(d, "ports");
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *p;
		size_t m;

		p = item_map(d, seq, i, &m);
		if (!p)
			continue;
		read_endpoint_port(d, p, port_required, &(*out)[*n]);
		for (size_t j = 0; j < *n; j++)
			if (!strcmp((*out)[j].name, (*out)[*n].name))
				ydec_error(d, p, "duplicate port name \"%s\"",
					   (*out)[*n].name);
		(*n)++;
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
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

static void read_slice_endpoint(struct ydec *d, const struct ynode *ep,
				enum k8s_address_type type,
				struct k8s_slice_endpoint *out)
{
	const struct ynode *cond = ydec_map(d, ep, "conditions");

	out->line = ep->line;
	read_slice_addresses(d, ep, type, out);
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
}

void mesh_k8s_read_endpoint_slice(struct mesh_config *cfg, struct ydec *d,
				  const struct ynode *doc,
				  const struct mesh_meta *meta)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct k8s_endpoint_slice es = { .meta = *meta };
	struct k8s_endpoint_slice *slot;
	const struct ynode *seq;
	int v = 0;

	es.service_name = ykvs_get(&meta->labels, "kubernetes.io/service-name");
	if (ydec_required(d, doc, "addressType") &&
	    ydec_enum(d, doc, "addressType", types, false, &v))
		es.address_type = (enum k8s_address_type)v;
	seq = ydec_seq(d, doc, "endpoints");
	if (seq) {
		size_t mark = ydec_push(d, "endpoints");

		es.endpoints = ydec_array(d, seq->n, sizeof(*es.endpoints));
		for (size_t i = 0; es.endpoints && i < seq->n; i++) {
			const struct ynode *ep;
			size_t m;

			ep = item_map(d, seq, i, &m);
			if (!ep)
				continue;
			read_slice_endpoint(d, ep, es.address_type,
					    &es.endpoints[es.nendpoints++]);
			ydec_pop(d, m);
		}
		ydec_pop(d, mark);
	}
	read_endpoint_ports(d, doc, false, &es.nports, &es.ports);
	if (!ydec_doc_ok(d))
		return;
	slot = MESH_PUSH(d, cfg->slices, cfg->nslices);
	if (slot)
		*slot = es;
}

static void read_endpoint_addresses(struct ydec *d, const struct ynode *map,
				    const char *key, size_t *n,
				    struct k8s_endpoint_address **out)
{
	const struct ynode *seq = ydec_seq(d, map, key);
	size_t mark;

	if (!seq)
		return;
	*out = ydec_array(d, seq->n, sizeof(**out));
	if (!*out)
		return;
	mark = ydec_push(d, key);
	for (size_t i = 0; i < seq->n; i++) {
		struct k8s_endpoint_address *a = &(*out)[*n];
		const struct ynode *it;
		size_t m;

		it = item_map(d, seq, i, &m);
		if (!it)
			continue;
		a->line = it->line;
		if (ydec_required(d, it, "ip")) {
			size_t m2 = ydec_push(d, "ip");

			mesh_read_ip(d, ymap_find(it, "ip"), &a->ip);
			ydec_pop(d, m2);
		}
		ydec_str(d, it, "hostname", &a->hostname);
		ydec_str(d, it, "nodeName", &a->node_name);
		read_object_ref(d, it, "targetRef", &a->target_ref);
		(*n)++;
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

void mesh_k8s_read_endpoints(struct mesh_config *cfg, struct ydec *d,
			     const struct ynode *doc,
			     const struct mesh_meta *meta)
{
	struct k8s_endpoints ep = { .meta = *meta };
	const struct ynode *seq = ydec_seq(d, doc, "subsets");
	struct k8s_endpoints *slot;

	if (seq) {
		size_t mark = ydec_push(d, "subsets");

		ep.subsets = ydec_array(d, seq->n, sizeof(*ep.subsets));
		for (size_t i = 0; ep.subsets && i < seq->n; i++) {
			struct k8s_endpoints_subset *s = &ep.subsets[ep.nsubsets];
			const struct ynode *it;
			size_t m;

			it = item_map(d, seq, i, &m);
			if (!it)
				continue;
			read_endpoint_addresses(d, it, "addresses",
						&s->naddresses, &s->addresses);
			read_endpoint_addresses(d, it, "notReadyAddresses",
						&s->nnot_ready, &s->not_ready);
			read_endpoint_ports(d, it, true, &s->nports, &s->ports);
			ep.nsubsets++;
			ydec_pop(d, m);
		}
		ydec_pop(d, mark);
	}
	if (!ydec_doc_ok(d))
		return;
	slot = MESH_PUSH(d, cfg->endpoints, cfg->nendpoints);
	if (slot)
		*slot = ep;
}

/* ---- Pod ---------------------------------------------------------------- */

static void read_container(struct ydec *d, const struct ynode *c,
			   struct k8s_container *out)
{
	const struct ynode *seq;
	size_t mark;

	ydec_str(d, c, "name", &out->name);
	seq = ydec_seq(d, c, "ports");
	if (!seq)
		return;
	out->ports = ydec_array(d, seq->n, sizeof(*out->ports));
	if (!out->ports)
		return;
	mark = ydec_push(d, "ports");
	for (size_t i = 0; i < seq->n; i++) {
		struct k8s_container_port *p = &out->ports[out->nports];
		const struct ynode *it;
		size_t m;

		it = item_map(d, seq, i, &m);
		if (!it)
			continue;
		p->line = it->line;
		if (ydec_str(d, it, "name", &p->name) && !iana_svc_name(p->name)) {
			size_t m2 = ydec_push(d, "name");

			ydec_error(d, ymap_find(it, "name"),
				   "\"%.64s\" is not a valid port name (at most 15 of a-z, 0-9, '-', with a letter)",
				   p->name);
			ydec_pop(d, m2);
		}
		if (ydec_required(d, it, "containerPort"))
			mesh_read_port(d, it, "containerPort", &p->container_port);
		mesh_read_k8s_protocol(d, it, "protocol", &p->protocol);
		out->nports++;
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

static void read_pod_spec(struct ydec *d, const struct ynode *spec,
			  struct k8s_pod *pod)
{
	const struct ynode *seq = ydec_seq(d, spec, "containers");
	size_t mark;

	if (!ydec_str(d, spec, "serviceAccountName", &pod->service_account))
		ydec_str(d, spec, "serviceAccount", &pod->service_account);
	ydec_str(d, spec, "nodeName", &pod->node_name);
	ydec_bool(d, spec, "hostNetwork", &pod->host_network);
	if (!seq)
		return;
	mark = ydec_push(d, "containers");
	pod->containers = ydec_array(d, seq->n, sizeof(*pod->containers));
	for (size_t i = 0; pod->containers && i < seq->n; i++) {
		const struct ynode *c;
		size_t m;

		c = item_map(d, seq, i, &m);
		if (!c)
			continue;
		read_container(d, c, &pod->containers[pod->ncontainers++]);
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

static void read_pod_status(struct ydec *d, const struct ynode *st,
			    struct k8s_pod *pod)
{
	static const char *const phases[] = {
		"Pending", "Running", "Succeeded", "Failed", "Unknown", NULL,
	};
	static const char *const cstatus[] = { "True", "False", "Unknown", NULL };
	const struct ynode *seq;
	union weft_addr ips[2], first;
	bool have_first = false;
	size_t n = 0, mark;
	int v;

	if (ydec_enum(d, st, "phase", phases, false, &v))
		pod->phase = (enum k8s_pod_phase)(v + K8S_POD_PENDING);
	if (ymap_find(st, "podIP")) {
		size_t m = ydec_push(d, "podIP");

		have_first = mesh_read_ip(d, ymap_find(st, "podIP"), &first);
		ydec_pop(d, m);
	}
	seq = ydec_seq(d, st, "podIPs");
	if (seq) {
		size_t mark = ydec_push(d, "podIPs");

		for (size_t i = 0; i < seq->n; i++) {
			const struct ynode *it;
			size_t m;

			it = item_map(d, seq, i, &m);
			if (!it)
				continue;
			if (!ydec_required(d, it, "ip")) {
				/* reported */
			} else if (n == 2) {
				ydec_error(d, it, "at most two addresses (one per family)");
			} else {
				size_t m2 = ydec_push(d, "ip");

				if (mesh_read_ip(d, ymap_find(it, "ip"), &ips[n]))
					n++;
				ydec_pop(d, m2);
			}
			ydec_pop(d, m);
		}
		if (have_first && n && memcmp(&first, &ips[0], sizeof(first)))
			ydec_error(d, seq, "first entry must equal podIP");
		ydec_pop(d, mark);
	}
	if (!n && have_first)
		ips[n++] = first;
	if (n) {
		pod->ips = ydec_array(d, n, sizeof(*pod->ips));
		if (pod->ips) {
			memcpy(pod->ips, ips, n * sizeof(*ips));
			pod->nips = n;
		}
	}
	seq = ydec_seq(d, st, "conditions");
	if (!seq)
		return;
	mark = ydec_push(d, "conditions");
	for (size_t i = 0; i < seq->n; i++) {
		const char *type = NULL;
		const struct ynode *it;
		size_t m;

		it = item_map(d, seq, i, &m);
		if (!it)
			continue;
		if (ydec_required(d, it, "type") && ydec_str(d, it, "type", &type) &&
		    ydec_required(d, it, "status") &&
		    ydec_enum(d, it, "status", cstatus, false, &v) &&
		    !strcmp(type, "Ready"))
			pod->ready = v == 0;
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

/*
 * metadata.ownerReferences: kind and name of each owner (the workload name
 * of a Pod comes from its controller).  Entries without both are ignored,
 * as Kubernetes objects ignore what they do not need.
 */
static void read_pod_owners(struct ydec *d, const struct ynode *md,
			    struct k8s_pod *pod)
{
	const struct ynode *seq = ydec_seq(d, md, "ownerReferences");
	size_t mark;

	if (!seq || !seq->n)
		return;
	pod->owners = ydec_array(d, seq->n, sizeof(*pod->owners));
	if (!pod->owners)
		return;
	mark = ydec_push(d, "ownerReferences");
	for (size_t i = 0; i < seq->n; i++) {
		struct k8s_owner_ref *o = &pod->owners[pod->nowners];
		const struct ynode *it;
		size_t m;

		it = item_map(d, seq, i, &m);
		if (!it)
			continue;
		ydec_str(d, it, "kind", &o->kind);
		ydec_str(d, it, "name", &o->name);
		ydec_bool(d, it, "controller", &o->controller);
		if (o->kind && o->name && o->name[0])
			pod->nowners++;
		else
			memset(o, 0, sizeof(*o));
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

void mesh_k8s_read_pod(struct mesh_config *cfg, struct ydec *d,
		       const struct ynode *doc, const struct mesh_meta *meta)
{
	struct k8s_pod pod = { .meta = *meta };
	const struct ynode *spec, *st, *md;
	struct k8s_pod *slot;
	size_t mark;

	md = ymap_find(doc, "metadata");
	if (md && md->kind == YNODE_MAP) {
		mark = ydec_push(d, "metadata");
		read_pod_owners(d, md, &pod);
		ydec_pop(d, mark);
	}
	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_map(d, doc, "spec");
	if (spec) {
		mark = ydec_push(d, "spec");
		read_pod_spec(d, spec, &pod);
		ydec_pop(d, mark);
	}
	st = ydec_map(d, doc, "status");
	if (st) {
		mark = ydec_push(d, "status");
		read_pod_status(d, st, &pod);
		ydec_pop(d, mark);
	}
	if (!ydec_doc_ok(d))
		return;
	slot = MESH_PUSH(d, cfg->pods, cfg->npods);
	if (slot)
		*slot = pod;
}

bool k8s_pod_is_ready(const struct k8s_pod *pod)
{
	return pod->phase == K8S_POD_RUNNING && pod->ready && pod->nips &&
	       !pod->meta.deleting;
}
