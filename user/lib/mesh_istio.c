// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Istio kinds: ServiceEntry, WorkloadEntry, VirtualService,
 * DestinationRule, AuthorizationPolicy, PeerAuthentication.
 *
 * Unlike Kubernetes objects, an Istio spec is read completely: every field
 * Istio defines is accepted (typed in mesh-t.h, or kept raw where noted)
 * and an unknown field is an error, so a typo ("wieght") is never silently
 * dropped.  Checks follow istio-dataplane-spec.md and Istio's own
 * validation; where they differ (route weights need not add up to 100)
 * the spec wins.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb.h"
#include "mesh-t.h"

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void error_at_key(struct ydec *d, const struct ynode *map,
			 const char *key, const char *msg)
{
	const struct ypair *p = ymap_find_pair(map, key);

	ydec_error_key(d, key, p ? p->value : map, "%s", msg);
}

static bool read_i32(struct ydec *d, const struct ynode *map, const char *key,
		     int64_t min, int64_t *out)
{
	*out = MESH_UNSET;
	return ydec_int(d, map, key, min, INT32_MAX, out);
}

static void read_dur(struct ydec *d, const struct ynode *map, const char *key,
		     int64_t *out)
{
	*out = MESH_UNSET;
	ydec_duration(d, map, key, out);
}

static void read_tristate(struct ydec *d, const struct ynode *map,
			  const char *key, int *out)
{
	bool b;

	*out = MESH_UNSET;
	if (ydec_bool(d, map, key, &b))
		*out = b;
}

/* percentage: {value: 0..100}; *out < 0 when absent. */
static void read_percentage(struct ydec *d, const struct ynode *map,
			    const char *key, double *out)
{
	const struct ynode *m;
	size_t mark;

	*out = MESH_UNSET;
	m = ydec_enter_map(d, map, key, &mark);
	if (!m)
		return;
	ydec_check_keys(d, m, KEYS("value"));
	if (!ydec_double(d, m, "value", 0, 100, out))
		*out = ymap_find(m, "value") ? MESH_UNSET : 0;
	ydec_pop(d, mark);
}

/* "." (own namespace), "*" (all), "~" (none) or a namespace. */
static void read_export_to(struct ydec *d, const struct ynode *spec,
			   struct ystrv *out)
{
	size_t mark;

	if (!ydec_strv(d, spec, "exportTo", false, out))
		return;
	mark = ydec_push(d, "exportTo");
	for (size_t i = 0; i < out->n; i++) {
		const char *s = out->v[i];

		if (strcmp(s, ".") && strcmp(s, "*") && strcmp(s, "~") &&
		    !mesh_valid_dns_label(s)) {
			size_t m = ydec_push_index(d, i);

			ydec_error(d, ymap_find(spec, "exportTo")->items[i],
				   "\"%.64s\" is not \".\", \"*\" or a namespace", s);
			ydec_pop(d, m);
		}
	}
	ydec_pop(d, mark);
}

static bool read_host(struct ydec *d, const struct ynode *map, const char *key,
		      bool allow_star, bool allow_ip, const char **out)
{
	union weft_addr ip;

	if (!ydec_str(d, map, key, out))
		return false;
	if (mesh_valid_host(*out, allow_star) ||
	    (allow_ip && !weft_addr_parse(*out, &ip)))
		return true;
	error_at_key(d, map, key, "not a valid host name");
	return false;
}

/* Check a list of host names read with ydec_strv. */
static void check_hosts(struct ydec *d, const struct ynode *map,
			const char *key, const struct ystrv *v,
			bool allow_star, bool allow_ip)
{
	const struct ynode *seq = ymap_find(map, key);
	size_t mark = ydec_push(d, key);
	union weft_addr ip;

	if (v->n > MESH_MAX_LIST) {
		ydec_error(d, seq, "too many entries (%zu, at most %d)", v->n,
			   MESH_MAX_LIST);
		ydec_pop(d, mark);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		size_t m = ydec_push_index(d, i);

		if (!mesh_valid_host(v->v[i], allow_star) &&
		    !(allow_ip && !weft_addr_parse(v->v[i], &ip)))
			ydec_error(d, seq->items[i],
				   "\"%.64s\" is not a valid host name", v->v[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(v->v[i], v->v[j]))
				ydec_error(d, seq->items[i],
					   "duplicate host \"%.64s\"", v->v[i]);
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

static void read_cidrs(struct ydec *d, const struct ynode *map,
		       const char *key, size_t *n, struct mesh_cidr **out)
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
		size_t m = ydec_push_index(d, i);

		if (mesh_read_cidr(d, seq->items[i], &(*out)[*n]))
			(*n)++;
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
}

/* ---- ServiceEntry and WorkloadEntry ------------------------------------ */

static const char *const istio_protocols[] = {
	"", "HTTP", "HTTPS", "GRPC", "GRPC-Web", "HTTP2", "HTTP_PROXY",
	"Mongo", "Redis", "MySQL", "TCP", "TLS", "UDP", NULL,
};

static bool proto_is_http_or_tls(enum istio_protocol p)
{
	switch (p) {
	case ISTIO_PROTO_HTTP:
	case ISTIO_PROTO_HTTPS:
	case ISTIO_PROTO_GRPC:
	case ISTIO_PROTO_GRPC_WEB:
	case ISTIO_PROTO_HTTP2:
	case ISTIO_PROTO_HTTP_PROXY:
	case ISTIO_PROTO_TLS:
		return true;
	default:
		return false;
	}
}

static bool read_workload(struct ydec *d, const struct ynode *m, void *elem,
			  void *ctx)
{
	struct istio_workload *w = elem;
	const struct ynode *ports;
	size_t mark;
	int64_t v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("address", "ports", "labels", "network",
				   "locality", "weight", "serviceAccount"));
	w->line = m->line;
	ydec_str(d, m, "address", &w->address);
	ydec_str(d, m, "network", &w->network);
	ydec_str(d, m, "locality", &w->locality);
	ydec_str(d, m, "serviceAccount", &w->service_account);
	mesh_read_labels(d, m, "labels", &w->labels);
	if (ydec_int(d, m, "weight", 0, UINT32_MAX, &v))
		w->weight = (uint32_t)v;
	if (!w->address || !w->address[0]) {
		w->address = NULL;
		w->addr_kind = ISTIO_ADDR_NONE;
		if (!w->network)
			error_at_key(d, m, "address",
				     "required (or set network to reach it through a gateway)");
	} else if (!strncmp(w->address, "unix://", 7)) {
		w->addr_kind = ISTIO_ADDR_UNIX;
		if (w->address[7] != '/' && w->address[7] != '@')
			error_at_key(d, m, "address",
				     "a unix address needs an absolute path or @abstract name");
	} else if (!weft_addr_parse(w->address, &w->ip)) {
		w->addr_kind = ISTIO_ADDR_IP;
	} else if (mesh_valid_host(w->address, false)) {
		w->addr_kind = ISTIO_ADDR_DNS;
	} else {
		error_at_key(d, m, "address",
			     "not a valid IP address, host name or unix:// path");
	}
	ports = ydec_enter_map(d, m, "ports", &mark);
	if (!ports)
		return true;
	w->ports = ydec_array(d, ports->n, sizeof(*w->ports));
	for (size_t i = 0; w->ports && i < ports->n; i++) {
		const char *name = ports->pairs[i].key->str;
		size_t m2 = ydec_push(d, name);

		if (!mesh_valid_dns_label(name))
			ydec_error(d, ports->pairs[i].key,
				   "\"%.64s\" is not a valid port name", name);
		if (ydec_as_int(d, ports->pairs[i].value, 1, 65535, &v))
			w->ports[w->nports++] = (struct istio_port_map){
				name, (uint16_t)v
			};
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
	if (w->addr_kind == ISTIO_ADDR_UNIX && w->nports)
		error_at_key(d, m, "ports", "a unix endpoint takes no ports");
	return true;
}

/* ctx: the ServiceEntry, for its ports read so far. */
static bool read_se_port(struct ydec *d, const struct ynode *it, void *elem,
			 void *ctx)
{
	const struct istio_service_entry *se = ctx;
	struct istio_se_port *p = elem;
	int v;

	ydec_check_keys(d, it, KEYS("number", "protocol", "name",
				    "targetPort"));
	p->line = it->line;
	if (ydec_required(d, it, "number"))
		mesh_read_port(d, it, "number", &p->number);
	if (ydec_enum(d, it, "protocol", istio_protocols, true, &v))
		p->protocol = (enum istio_protocol)v;
	if (ydec_required(d, it, "name") && ydec_str(d, it, "name", &p->name) &&
	    !mesh_valid_dns_label(p->name))
		error_at_key(d, it, "name", "not a valid port name");
	mesh_read_port(d, it, "targetPort", &p->target_port);
	for (size_t j = 0; j < se->nports; j++) {
		if (p->name && se->ports[j].name &&
		    !strcmp(p->name, se->ports[j].name))
			ydec_error(d, it, "port name \"%s\" already defined",
				   p->name);
		if (p->number && p->number == se->ports[j].number)
			ydec_error(d, it, "port %u already defined", p->number);
	}
	return true;
}

static bool se_has_port_name(const struct istio_service_entry *se,
			     const char *name)
{
	for (size_t i = 0; i < se->nports; i++)
		if (se->ports[i].name && !strcmp(se->ports[i].name, name))
			return true;
	return false;
}

/* Cross-field checks of a ServiceEntry, as Istio validates them. */
static void check_service_entry(struct ydec *d, const struct ynode *spec,
				struct istio_service_entry *se)
{
	const struct ynode *eps = ymap_find(spec, "endpoints");
	bool cidr = false, unix_ep = false;

	if (eps && se->workload_selector.set)
		error_at_key(d, spec, "workloadSelector",
			     "only one of workloadSelector or endpoints is allowed");
	for (size_t i = 0; i < se->naddresses; i++)
		cidr |= se->addresses[i].has_prefix;
	if (cidr && se->resolution != ISTIO_RES_NONE &&
	    se->resolution != ISTIO_RES_STATIC)
		error_at_key(d, spec, "addresses",
			     "CIDR addresses are allowed only with resolution NONE or STATIC");
	if (se->resolution == ISTIO_RES_NONE && se->nendpoints)
		error_at_key(d, spec, "endpoints",
			     "no endpoints may be given with resolution NONE");
	for (size_t i = 0; i < se->nendpoints; i++) {
		const struct istio_workload *w = &se->endpoints[i];
		size_t mark = ydec_push(d, "endpoints");

		ydec_push_index(d, i);
		if (se->resolution == ISTIO_RES_STATIC &&
		    w->addr_kind != ISTIO_ADDR_IP &&
		    w->addr_kind != ISTIO_ADDR_UNIX &&
		    !(w->addr_kind == ISTIO_ADDR_NONE && w->network))
			ydec_error(d, eps->items[i],
				   "address: resolution STATIC needs an IP address or unix:// path");
		unix_ep |= w->addr_kind == ISTIO_ADDR_UNIX;
		for (size_t j = 0; j < w->nports; j++)
			if (!se_has_port_name(se, w->ports[j].name))
				ydec_error(d, eps->items[i],
					   "ports: \"%s\" is not a port of the ServiceEntry",
					   w->ports[j].name);
		ydec_pop(d, mark);
	}
	if (unix_ep && se->nports != 1)
		error_at_key(d, spec, "ports",
			     "exactly one port is required with unix endpoints");
	if (se->resolution == ISTIO_RES_DNS && !se->nendpoints) {
		for (size_t i = 0; i < se->hosts.n; i++)
			if (strchr(se->hosts.v[i], '*'))
				error_at_key(d, spec, "hosts",
					     "hosts must be FQDNs (no wildcard) with resolution DNS and no endpoints");
	}
	if (se->resolution == ISTIO_RES_DNS_ROUND_ROBIN && se->nendpoints > 1)
		error_at_key(d, spec, "endpoints",
			     "resolution DNS_ROUND_ROBIN takes at most one endpoint");
	if (se->resolution != ISTIO_RES_NONE && se->hosts.n > 1) {
		for (size_t i = 0; i < se->nports; i++) {
			if (!proto_is_http_or_tls(se->ports[i].protocol)) {
				error_at_key(d, spec, "hosts",
					     "several hosts need HTTP or TLS ports to be told apart (or resolution NONE)");
				break;
			}
		}
	}
}

void mesh_istio_read_service_entry(struct mesh_config *cfg, struct ydec *d,
				   const struct ynode *doc,
				   const struct mesh_meta *meta)
{
	static const char *const locations[] = {
		"MESH_EXTERNAL", "MESH_INTERNAL", NULL,
	};
	static const char *const resolutions[] = {
		"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS", NULL,
	};
	struct istio_service_entry se = { .meta = *meta };
	const struct ynode *spec;
	size_t mark;
	int v;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	ydec_check_keys(d, spec, KEYS("hosts", "addresses", "ports", "location",
				      "resolution", "endpoints",
				      "workloadSelector", "exportTo",
				      "subjectAltNames"));
	if (ydec_required(d, spec, "hosts") &&
	    ydec_strv(d, spec, "hosts", false, &se.hosts)) {
		if (!se.hosts.n)
			error_at_key(d, spec, "hosts", "at least one host is required");
		check_hosts(d, spec, "hosts", &se.hosts, false, false);
	}
	read_cidrs(d, spec, "addresses", &se.naddresses, &se.addresses);
	YDEC_MAPS(d, ydec_seq_max(d, spec, "ports", MESH_MAX_LIST), "ports",
		  se.ports, se.nports, read_se_port, &se);
	if (ydec_enum(d, spec, "location", locations, false, &v))
		se.location = (enum istio_se_location)v;
	if (ydec_enum(d, spec, "resolution", resolutions, false, &v))
		se.resolution = (enum istio_se_resolution)v;
	YDEC_LIST(d, spec, "endpoints", se.endpoints, se.nendpoints,
		  read_workload, NULL);
	if (ymap_find(spec, "workloadSelector"))
		mesh_read_selector(d, spec, "workloadSelector", "labels",
				   &se.workload_selector);
	read_export_to(d, spec, &se.export_to);
	ydec_strv(d, spec, "subjectAltNames", false, &se.subject_alt_names);
	if (ydec_doc_ok(d))
		check_service_entry(d, spec, &se);
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->service_entries, cfg->nservice_entries, se);
}

void mesh_istio_read_workload_entry(struct mesh_config *cfg, struct ydec *d,
				    const struct ynode *doc,
				    const struct mesh_meta *meta)
{
	struct istio_workload_entry we = { .meta = *meta };
	const struct ynode *spec;
	size_t mark;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	read_workload(d, spec, &we.spec, NULL);
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->workload_entries, cfg->nworkload_entries, we);
}

/* ---- VirtualService ----------------------------------------------------- */

static void read_destination(struct ydec *d, const struct ynode *map,
			     const char *key, struct istio_destination *out)
{
	const struct ynode *m, *port;
	size_t mark, m2;

	m = ydec_enter_map(d, map, key, &mark);
	if (!m)
		return;
	ydec_check_keys(d, m, KEYS("host", "subset", "port"));
	if (ydec_required(d, m, "host"))
		read_host(d, m, "host", false, false, &out->host);
	if (ydec_str(d, m, "subset", &out->subset) &&
	    !mesh_valid_dns_label(out->subset))
		error_at_key(d, m, "subset", "not a valid subset name");
	port = ydec_enter_map(d, m, "port", &m2);
	if (port) {
		ydec_check_keys(d, port, KEYS("number"));
		mesh_read_port(d, port, "number", &out->port);
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
}

static void read_string_match(struct ydec *d, const struct ynode *n,
			      struct istio_string_match *out)
{
	static const char *const kinds[] = { "exact", "prefix", "regex" };

	if (n->kind != YNODE_MAP) {
		ydec_error(d, n, "expected a mapping with exact, prefix or regex");
		return;
	}
	ydec_check_keys(d, n, KEYS("exact", "prefix", "regex"));
	out->kind = ISTIO_MATCH_PRESENT;
	for (int i = 0; i < 3; i++) {
		const struct ynode *v = ymap_find(n, kinds[i]);
		size_t m;

		if (!v)
			continue;
		if (out->kind != ISTIO_MATCH_PRESENT) {
			ydec_error(d, v, "only one of exact, prefix or regex");
			return;
		}
		m = ydec_push(d, kinds[i]);
		if (ydec_as_str(d, v, &out->value)) {
			out->kind = (enum istio_match_kind)(ISTIO_MATCH_EXACT + i);
			if (i == 2 && (!out->value[0] || strlen(out->value) > 1024))
				ydec_error(d, v, "regex must hold 1 to 1024 characters");
		}
		ydec_pop(d, m);
	}
}

static void read_field_match(struct ydec *d, const struct ynode *map,
			     const char *key, struct istio_string_match *out)
{
	const struct ynode *n = ymap_find(map, key);
	size_t mark;

	if (!n)
		return;
	mark = ydec_push(d, key);
	read_string_match(d, n, out);
	ydec_pop(d, mark);
}

static void read_named_matches(struct ydec *d, const struct ynode *map,
			       const char *key, bool lowercase, size_t *n,
			       struct istio_named_match **out)
{
	const struct ynode *m = ydec_map(d, map, key);
	size_t mark;

	if (!m)
		return;
	*out = ydec_array(d, m->n, sizeof(**out));
	if (!*out)
		return;
	mark = ydec_push(d, key);
	for (size_t i = 0; i < m->n; i++) {
		const struct ypair *p = &m->pairs[i];
		struct istio_named_match *nm = &(*out)[*n];
		size_t m2 = ydec_push(d, p->key->str);

		nm->name = p->key->str;
		if (!nm->name[0]) {
			ydec_error(d, p->key, "empty name");
		} else if (lowercase) {
			for (const char *c = nm->name; *c; c++) {
				if (*c >= 'A' && *c <= 'Z') {
					ydec_error(d, p->key,
						   "header name \"%.64s\" must be lowercase",
						   nm->name);
					break;
				}
			}
		}
		if (ynode_is_null(p->value))
			nm->match.kind = ISTIO_MATCH_PRESENT;
		else
			read_string_match(d, p->value, &nm->match);
		(*n)++;
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
}

static bool read_http_match(struct ydec *d, const struct ynode *m, void *elem,
			    void *ctx)
{
	struct istio_http_match *out = elem;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("name", "uri", "scheme", "method",
				   "authority", "headers", "port",
				   "sourceLabels", "gateways", "queryParams",
				   "ignoreUriCase", "withoutHeaders",
				   "sourceNamespace", "statPrefix"));
	out->line = m->line;
	ydec_str(d, m, "name", &out->name);
	read_field_match(d, m, "uri", &out->uri);
	read_field_match(d, m, "scheme", &out->scheme);
	read_field_match(d, m, "method", &out->method);
	read_field_match(d, m, "authority", &out->authority);
	read_named_matches(d, m, "headers", true, &out->nheaders, &out->headers);
	read_named_matches(d, m, "withoutHeaders", true,
			   &out->nwithout_headers, &out->without_headers);
	read_named_matches(d, m, "queryParams", false, &out->nquery_params,
			   &out->query_params);
	mesh_read_port(d, m, "port", &out->port);
	mesh_read_labels(d, m, "sourceLabels", &out->source_labels);
	ydec_strv(d, m, "gateways", false, &out->gateways);
	ydec_bool(d, m, "ignoreUriCase", &out->ignore_uri_case);
	ydec_str(d, m, "sourceNamespace", &out->source_namespace);
	ydec_str(d, m, "statPrefix", &out->stat_prefix);
	return true;
}

static void read_header_ops(struct ydec *d, const struct ynode *map,
			    const char *key, struct istio_header_ops *out)
{
	const struct ynode *m;
	size_t mark;

	m = ydec_enter_map(d, map, key, &mark);
	if (!m)
		return;
	ydec_check_keys(d, m, KEYS("set", "add", "remove"));
	ydec_kvs(d, m, "set", &out->set);
	ydec_kvs(d, m, "add", &out->add);
	ydec_strv(d, m, "remove", false, &out->remove);
	ydec_pop(d, mark);
}

static void read_headers(struct ydec *d, const struct ynode *map,
			 struct istio_headers *out)
{
	const struct ynode *m;
	size_t mark;

	m = ydec_enter_map(d, map, "headers", &mark);
	if (!m)
		return;
	ydec_check_keys(d, m, KEYS("request", "response"));
	read_header_ops(d, m, "request", &out->request);
	read_header_ops(d, m, "response", &out->response);
	ydec_pop(d, mark);
}

struct route_dests {
	bool http;                 /* HTTP routes also take headers */
	int64_t sum;               /* of the weights */
};

static bool read_route_dest(struct ydec *d, const struct ynode *it,
			    void *elem, void *ctx)
{
	struct route_dests *rd = ctx;
	struct istio_route_dest *r = elem;
	int64_t w;

	if (rd->http)
		ydec_check_keys(d, it, KEYS("destination", "weight", "headers"));
	else
		ydec_check_keys(d, it, KEYS("destination", "weight"));
	r->line = it->line;
	r->weight = MESH_UNSET;
	if (ydec_required(d, it, "destination"))
		read_destination(d, it, "destination", &r->dest);
	if (ydec_int(d, it, "weight", 0, INT32_MAX, &w)) {
		r->weight = (int32_t)w;
		rd->sum += w;
	}
	if (rd->http)
		read_headers(d, it, &r->headers);
	return true;
}

/*
 * route[]: weighted destinations.  Per the spec, weights need not add up
 * to 100; only a negative weight, or weights summing to 0 across more
 * than one destination, are rejected.
 */
static void read_route_dests(struct ydec *d, const struct ynode *map,
			     bool http, size_t *n,
			     struct istio_route_dest **out)
{
	struct route_dests rd = { .http = http };
	const struct ynode *seq;

	seq = YDEC_MAPS(d, ydec_seq(d, map, "route"), "route", *out, *n,
			read_route_dest, &rd);
	if (seq && seq->n > 1 && !rd.sum && ydec_doc_ok(d))
		ydec_error_key(d, "route", seq,
			       "weights add up to 0 across %zu destinations",
			       seq->n);
}

static bool valid_retry_on(const char *tok, size_t len)
{
	static const char *const policies[] = {
		"5xx", "gateway-error", "reset", "reset-before-request",
		"connect-failure", "retriable-4xx", "refused-stream",
		"retriable-status-codes", "retriable-headers",
		"envoy-ratelimited", "http3-post-connect-failure",
		"cancelled", "deadline-exceeded", "internal",
		"resource-exhausted", "unavailable", NULL,
	};
	int code = 0;

	for (size_t i = 0; policies[i]; i++)
		if (strlen(policies[i]) == len && !strncmp(policies[i], tok, len))
			return true;
	if (len != 3)
		return false;
	for (size_t i = 0; i < 3; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return false;
		code = code * 10 + tok[i] - '0';
	}
	return code >= 100 && code <= 599;
}

static bool read_retries(struct ydec *d, const struct ynode *m, void *elem,
			 void *ctx)
{
	struct istio_http_retry *r = elem;
	int64_t v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("attempts", "perTryTimeout", "retryOn",
				   "retryRemoteLocalities",
				   "retryIgnorePreviousHosts", "backoff"));
	r->attempts = MESH_UNSET;
	if (ydec_int(d, m, "attempts", 0, INT32_MAX, &v))
		r->attempts = (int32_t)v;
	read_dur(d, m, "perTryTimeout", &r->per_try_timeout_ns);
	read_dur(d, m, "backoff", &r->backoff_ns);
	read_tristate(d, m, "retryRemoteLocalities", &r->retry_remote_localities);
	read_tristate(d, m, "retryIgnorePreviousHosts",
		      &r->retry_ignore_previous_hosts);
	if (ydec_str(d, m, "retryOn", &r->retry_on)) {
		for (const char *p = r->retry_on; *p;) {
			size_t len = strcspn(p, ",");

			if (!valid_retry_on(p, len)) {
				char msg[128];

				snprintf(msg, sizeof(msg),
					 "\"%.*s\" is not a retryOn policy",
					 (int)(len > 64 ? 64 : len), p);
				error_at_key(d, m, "retryOn", msg);
			}
			p += len;
			if (*p)
				p++;
		}
	}
	if (!r->attempts && (r->per_try_timeout_ns >= 0 || r->retry_on ||
			     r->retry_remote_localities != MESH_UNSET))
		ydec_error(d, m, "retry settings given with attempts: 0 (retries off)");
	return true;
}

static bool read_fault(struct ydec *d, const struct ynode *m, void *elem,
		       void *ctx)
{
	struct istio_fault *f = elem;
	const struct ynode *sub;
	size_t m2;
	int64_t v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("delay", "abort"));
	f->delay_percent = f->abort_percent = MESH_UNSET;
	f->fixed_delay_ns = f->exponential_delay_ns = MESH_UNSET;
	f->http_status = MESH_UNSET;
	sub = ydec_enter_map(d, m, "delay", &m2);
	if (sub) {
		f->has_delay = true;
		ydec_check_keys(d, sub, KEYS("fixedDelay", "exponentialDelay",
					     "percentage", "percent"));
		read_dur(d, sub, "fixedDelay", &f->fixed_delay_ns);
		read_dur(d, sub, "exponentialDelay", &f->exponential_delay_ns);
		if ((f->fixed_delay_ns >= 0) == (f->exponential_delay_ns >= 0))
			ydec_error(d, sub, "exactly one of fixedDelay or exponentialDelay");
		read_percentage(d, sub, "percentage", &f->delay_percent);
		if (ydec_int(d, sub, "percent", 0, 100, &v) &&
		    f->delay_percent < 0)
			f->delay_percent = (double)v;
		ydec_pop(d, m2);
	}
	sub = ydec_enter_map(d, m, "abort", &m2);
	if (sub) {
		int n = 0;

		f->has_abort = true;
		ydec_check_keys(d, sub, KEYS("httpStatus", "grpcStatus",
					     "http2Error", "percentage"));
		if (ydec_int(d, sub, "httpStatus", 200, 599, &v))
			f->http_status = (int32_t)v;
		n += ymap_find(sub, "httpStatus") != NULL;
		n += ydec_str(d, sub, "grpcStatus", &f->grpc_status);
		n += ydec_str(d, sub, "http2Error", &f->http2_error);
		if (n != 1)
			ydec_error(d, sub, "exactly one of httpStatus, grpcStatus or http2Error");
		read_percentage(d, sub, "percentage", &f->abort_percent);
		ydec_pop(d, m2);
	}
	if (!f->has_delay && !f->has_abort)
		ydec_error(d, m, "needs a delay and/or an abort");
	return true;
}

static bool read_redirect(struct ydec *d, const struct ynode *m, void *elem,
			  void *ctx)
{
	static const char *const derive[] = {
		"FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT", NULL,
	};
	struct istio_redirect *r = elem;
	int64_t v;
	int e;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("uri", "authority", "port", "derivePort",
				   "scheme", "redirectCode"));
	ydec_str(d, m, "uri", &r->uri);
	ydec_str(d, m, "authority", &r->authority);
	mesh_read_port(d, m, "port", &r->port);
	if (ydec_enum(d, m, "derivePort", derive, false, &e))
		r->derive_port = (enum istio_derive_port)(e + 1);
	if (r->port && r->derive_port)
		ydec_error(d, m, "only one of port or derivePort");
	if (ydec_str(d, m, "scheme", &r->scheme) && strcmp(r->scheme, "http") &&
	    strcmp(r->scheme, "https"))
		error_at_key(d, m, "scheme", "must be \"http\" or \"https\"");
	if (ydec_int(d, m, "redirectCode", 300, 399, &v))
		r->redirect_code = (uint32_t)v;
	if (!r->uri && !r->authority && !r->scheme && !r->port &&
	    !r->derive_port)
		ydec_error(d, m, "must set uri, authority, scheme or port");
	return true;
}

static bool read_direct_response(struct ydec *d, const struct ynode *m,
				 void *elem, void *ctx)
{
	struct istio_direct_response *r = elem;
	const struct ynode *body;
	size_t m2;
	int64_t v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("status", "body"));
	if (ydec_required(d, m, "status") &&
	    ydec_int(d, m, "status", 200, 599, &v))
		r->status = (uint32_t)v;
	body = ydec_enter_map(d, m, "body", &m2);
	if (body) {
		ydec_check_keys(d, body, KEYS("string", "bytes"));
		ydec_str(d, body, "string", &r->body_string);
		ydec_str(d, body, "bytes", &r->body_bytes);
		if (r->body_string && r->body_bytes)
			ydec_error(d, body, "only one of string or bytes");
		ydec_pop(d, m2);
	}
	return true;
}

static bool read_rewrite(struct ydec *d, const struct ynode *m, void *elem,
			 void *ctx)
{
	struct istio_rewrite *r = elem;
	const struct ynode *rx;
	size_t m2;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("uri", "authority", "uriRegexRewrite"));
	ydec_str(d, m, "uri", &r->uri);
	ydec_str(d, m, "authority", &r->authority);
	rx = ydec_enter_map(d, m, "uriRegexRewrite", &m2);
	if (rx) {
		ydec_check_keys(d, rx, KEYS("match", "rewrite"));
		if (ydec_required(d, rx, "match"))
			ydec_str(d, rx, "match", &r->regex_match);
		if (ydec_required(d, rx, "rewrite"))
			ydec_str(d, rx, "rewrite", &r->regex_rewrite);
		ydec_pop(d, m2);
		if (r->uri)
			ydec_error(d, rx, "only one of uri or uriRegexRewrite");
	}
	if (!r->uri && !r->authority && !rx)
		ydec_error(d, m, "must set uri, authority or uriRegexRewrite");
	return true;
}

static bool read_delegate(struct ydec *d, const struct ynode *m, void *elem,
			  void *ctx)
{
	struct istio_delegate *r = elem;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("name", "namespace"));
	if (ydec_required(d, m, "name"))
		ydec_str(d, m, "name", &r->name);
	ydec_str(d, m, "namespace", &r->ns);
	return true;
}

static bool read_mirror(struct ydec *d, const struct ynode *it, void *elem,
			void *ctx)
{
	struct istio_mirror *m = elem;

	(void)ctx;
	ydec_check_keys(d, it, KEYS("destination", "percentage"));
	if (ydec_required(d, it, "destination"))
		read_destination(d, it, "destination", &m->dest);
	read_percentage(d, it, "percentage", &m->percent);
	return true;
}

static void read_mirrors(struct ydec *d, const struct ynode *route,
			 struct istio_http_route *r)
{
	const struct ynode *seq;
	struct istio_destination *mirror;
	int64_t v;

	r->mirror_percent = MESH_UNSET;
	if (ymap_find(route, "mirror")) {
		mirror = ydec_alloc(d, sizeof(*mirror));
		if (mirror) {
			read_destination(d, route, "mirror", mirror);
			r->mirror = mirror;
		}
	}
	read_percentage(d, route, "mirrorPercentage", &r->mirror_percent);
	if ((ydec_int(d, route, "mirrorPercent", 0, 100, &v) ||
	     ydec_int(d, route, "mirror_percent", 0, 100, &v)) &&
	    r->mirror_percent < 0)
		r->mirror_percent = (double)v;
	seq = ydec_seq(d, route, "mirrors");
	if (!seq)
		return;
	if (r->mirror)
		error_at_key(d, route, "mirrors", "only one of mirror or mirrors");
	YDEC_MAPS(d, seq, "mirrors", r->mirrors, r->nmirrors, read_mirror,
		  NULL);
}

/* ctx: bool, the route is in a delegate VirtualService. */
static bool read_http_route(struct ydec *d, const struct ynode *m, void *elem,
			    void *ctx)
{
	struct istio_http_route *r = elem;
	bool delegate_vs = *(bool *)ctx;
	int actions;

	ydec_check_keys(d, m, KEYS("name", "match", "route", "redirect",
				   "directResponse", "delegate", "rewrite",
				   "timeout", "retries", "fault", "mirror",
				   "mirrors", "mirrorPercentage",
				   "mirrorPercent", "mirror_percent",
				   "corsPolicy", "headers"));
	r->line = m->line;
	ydec_str(d, m, "name", &r->name);
	YDEC_LIST(d, m, "match", r->match, r->nmatch, read_http_match, NULL);
	read_route_dests(d, m, true, &r->nroute, &r->route);
	YDEC_OBJ(d, m, "redirect", r->redirect, read_redirect, NULL);
	YDEC_OBJ(d, m, "directResponse", r->direct_response,
		 read_direct_response, NULL);
	YDEC_OBJ(d, m, "delegate", r->delegate, read_delegate, NULL);
	YDEC_OBJ(d, m, "rewrite", r->rewrite, read_rewrite, NULL);
	read_dur(d, m, "timeout", &r->timeout_ns);
	YDEC_OBJ(d, m, "retries", r->retries, read_retries, NULL);
	YDEC_OBJ(d, m, "fault", r->fault, read_fault, NULL);
	read_mirrors(d, m, r);
	read_headers(d, m, &r->headers);
	r->cors_policy = ydec_map(d, m, "corsPolicy");
	actions = !!r->nroute + !!r->redirect +
		  !!r->direct_response + !!r->delegate;
	if (actions > 1)
		ydec_error(d, m, "only one of route, redirect, directResponse or delegate");
	else if (!actions)
		ydec_error(d, m, "needs a route, redirect, directResponse or delegate");
	if (r->delegate && delegate_vs)
		ydec_error(d, m, "a delegate VirtualService cannot delegate again");
	if (r->redirect && r->rewrite)
		ydec_error(d, m, "only one of redirect or rewrite");
	return true;
}

/* ctx: bool, a tls[] (not a tcp[]) route. */
static bool read_l4_match(struct ydec *d, const struct ynode *m, void *elem,
			  void *ctx)
{
	struct istio_l4_match *out = elem;
	bool tls = *(bool *)ctx;

	if (tls)
		ydec_check_keys(d, m, KEYS("sniHosts", "destinationSubnets",
					   "port", "sourceLabels", "gateways",
					   "sourceNamespace"));
	else
		ydec_check_keys(d, m, KEYS("destinationSubnets", "port",
					   "sourceSubnet", "sourceLabels",
					   "gateways", "sourceNamespace"));
	out->line = m->line;
	if (tls) {
		if (ydec_required(d, m, "sniHosts") &&
		    ydec_strv(d, m, "sniHosts", false, &out->sni_hosts)) {
			if (!out->sni_hosts.n)
				error_at_key(d, m, "sniHosts",
					     "at least one SNI host is required");
			check_hosts(d, m, "sniHosts", &out->sni_hosts, true,
				    true);
		}
	}
	read_cidrs(d, m, "destinationSubnets", &out->ndestination_subnets,
		   &out->destination_subnets);
	mesh_read_port(d, m, "port", &out->port);
	ydec_str(d, m, "sourceSubnet", &out->source_subnet);
	mesh_read_labels(d, m, "sourceLabels", &out->source_labels);
	ydec_str(d, m, "sourceNamespace", &out->source_namespace);
	ydec_strv(d, m, "gateways", false, &out->gateways);
	return true;
}

/* ctx: bool, a tls[] (not a tcp[]) route. */
static bool read_l4_route(struct ydec *d, const struct ynode *it, void *elem,
			  void *ctx)
{
	struct istio_l4_route *r = elem;

	ydec_check_keys(d, it, KEYS("match", "route"));
	r->line = it->line;
	if (*(bool *)ctx)
		ydec_required(d, it, "match");
	YDEC_LIST(d, it, "match", r->match, r->nmatch, read_l4_match, ctx);
	if (ydec_required(d, it, "route"))
		read_route_dests(d, it, false, &r->nroute, &r->route);
	return true;
}

bool istio_vs_applies_to_mesh(const struct istio_virtual_service *vs)
{
	return !vs->gateways.n || ystrv_has(&vs->gateways, "mesh");
}

void mesh_istio_read_virtual_service(struct mesh_config *cfg, struct ydec *d,
				     const struct ynode *doc,
				     const struct mesh_meta *meta)
{
	struct istio_virtual_service vs = { .meta = *meta };
	bool tls = true, tcp = false, delegate_vs;
	const struct ynode *spec;
	size_t mark;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	ydec_check_keys(d, spec, KEYS("hosts", "gateways", "http", "tls", "tcp",
				      "exportTo"));
	if (ydec_strv(d, spec, "hosts", false, &vs.hosts))
		check_hosts(d, spec, "hosts", &vs.hosts, true, true);
	ydec_strv(d, spec, "gateways", false, &vs.gateways);
	read_export_to(d, spec, &vs.export_to);
	if (istio_vs_applies_to_mesh(&vs) && ystrv_has(&vs.hosts, "*"))
		error_at_key(d, spec, "hosts",
			     "wildcard host * is not allowed for VirtualServices bound to the mesh");
	delegate_vs = !vs.hosts.n;
	YDEC_LIST(d, spec, "http", vs.http, vs.nhttp, read_http_route,
		  &delegate_vs);
	YDEC_LIST(d, spec, "tls", vs.tls, vs.ntls, read_l4_route, &tls);
	YDEC_LIST(d, spec, "tcp", vs.tcp, vs.ntcp, read_l4_route, &tcp);
	if (!vs.nhttp && !vs.ntls && !vs.ntcp && ydec_doc_ok(d))
		ydec_error(d, spec, "needs http, tcp or tls routes");
	if (!vs.hosts.n && (vs.gateways.n || vs.ntls || vs.ntcp))
		error_at_key(d, spec, "hosts",
			     "required (only a delegate VirtualService, with http routes and no gateways, has none)");
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->virtual_services, cfg->nvirtual_services, vs);
}

/* ---- DestinationRule ---------------------------------------------------- */

static bool read_consistent_hash(struct ydec *d, const struct ynode *m,
				 void *elem, void *ctx)
{
	struct istio_consistent_hash *h = elem;
	const struct ynode *sub;
	int keys = 0;
	size_t m2;
	bool b;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("httpHeaderName", "httpCookie",
				   "useSourceIp", "httpQueryParameterName",
				   "ringHash", "maglev", "minimumRingSize"));
	h->cookie_ttl_ns = MESH_UNSET;
	h->table_size = MESH_UNSET;
	if (ydec_str(d, m, "httpHeaderName", &h->name)) {
		h->key = ISTIO_HASH_HEADER;
		keys++;
	}
	if (ydec_str(d, m, "httpQueryParameterName", &h->name)) {
		h->key = ISTIO_HASH_QUERY_PARAM;
		keys++;
	}
	if (ydec_bool(d, m, "useSourceIp", &b) && b) {
		h->key = ISTIO_HASH_SOURCE_IP;
		keys++;
	}
	sub = ydec_enter_map(d, m, "httpCookie", &m2);
	if (sub) {
		ydec_check_keys(d, sub, KEYS("name", "path", "ttl",
					     "attributes"));
		h->key = ISTIO_HASH_COOKIE;
		keys++;
		if (ydec_required(d, sub, "name"))
			ydec_str(d, sub, "name", &h->name);
		ydec_str(d, sub, "path", &h->cookie_path);
		read_dur(d, sub, "ttl", &h->cookie_ttl_ns);
		ydec_seq(d, sub, "attributes");
		ydec_pop(d, m2);
	}
	if (keys != 1)
		ydec_error(d, m, "exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName");
	ydec_int(d, m, "minimumRingSize", 0, INT64_MAX, &h->table_size);
	sub = ydec_enter_map(d, m, "ringHash", &m2);
	if (sub) {
		ydec_check_keys(d, sub, KEYS("minimumRingSize"));
		ydec_int(d, sub, "minimumRingSize", 0, INT64_MAX, &h->table_size);
		ydec_pop(d, m2);
	}
	sub = ydec_enter_map(d, m, "maglev", &m2);
	if (sub) {
		ydec_check_keys(d, sub, KEYS("tableSize"));
		h->maglev = true;
		ydec_int(d, sub, "tableSize", 0, INT64_MAX, &h->table_size);
		ydec_pop(d, m2);
		if (ymap_find(m, "ringHash"))
			ydec_error(d, sub, "only one of ringHash or maglev");
	}
	return true;
}

static void read_load_balancer(struct ydec *d, const struct ynode *tp,
			       struct istio_load_balancer *out)
{
	static const char *const simple[] = {
		"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH",
		"ROUND_ROBIN", "LEAST_REQUEST", NULL,
	};
	const struct ynode *m;
	size_t mark;
	int v;

	out->warmup_ns = MESH_UNSET;
	m = ydec_enter_map(d, tp, "loadBalancer", &mark);
	if (!m)
		return;
	out->set = true;
	ydec_check_keys(d, m, KEYS("simple", "consistentHash",
				   "localityLbSetting", "warmupDurationSecs",
				   "warmup"));
	if (ydec_enum(d, m, "simple", simple, false, &v))
		out->simple = (enum istio_lb_simple)v;
	YDEC_OBJ(d, m, "consistentHash", out->consistent_hash,
		 read_consistent_hash, NULL);
	if (ymap_find(m, "simple") && ymap_find(m, "consistentHash"))
		ydec_error(d, m, "only one of simple or consistentHash");
	out->locality_lb_setting = ydec_map(d, m, "localityLbSetting");
	read_dur(d, m, "warmupDurationSecs", &out->warmup_ns);
	ydec_map(d, m, "warmup");
	ydec_pop(d, mark);
}

static bool read_conn_pool(struct ydec *d, const struct ynode *m, void *elem,
			   void *ctx)
{
	static const char *const h2[] = {
		"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE", NULL,
	};
	struct istio_conn_pool *c = elem;
	const struct ynode *tcp, *http, *ka;
	size_t m2, m3;
	int v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("tcp", "http"));
	c->max_connections = c->connect_timeout_ns = MESH_UNSET;
	c->keepalive_probes = c->keepalive_time_ns = MESH_UNSET;
	c->keepalive_interval_ns = c->max_connection_duration_ns = MESH_UNSET;
	c->tcp_idle_timeout_ns = c->http1_max_pending_requests = MESH_UNSET;
	c->http2_max_requests = c->max_requests_per_connection = MESH_UNSET;
	c->max_retries = c->http_idle_timeout_ns = MESH_UNSET;
	c->max_concurrent_streams = MESH_UNSET;
	c->use_client_protocol = MESH_UNSET;
	tcp = ydec_enter_map(d, m, "tcp", &m2);
	if (tcp) {
		ydec_check_keys(d, tcp, KEYS("maxConnections", "connectTimeout",
					     "tcpKeepalive",
					     "maxConnectionDuration",
					     "idleTimeout"));
		read_i32(d, tcp, "maxConnections", 0, &c->max_connections);
		read_dur(d, tcp, "connectTimeout", &c->connect_timeout_ns);
		read_dur(d, tcp, "maxConnectionDuration",
			 &c->max_connection_duration_ns);
		read_dur(d, tcp, "idleTimeout", &c->tcp_idle_timeout_ns);
		ka = ydec_enter_map(d, tcp, "tcpKeepalive", &m3);
		if (ka) {
			ydec_check_keys(d, ka, KEYS("probes", "time", "interval"));
			read_i32(d, ka, "probes", 0, &c->keepalive_probes);
			read_dur(d, ka, "time", &c->keepalive_time_ns);
			read_dur(d, ka, "interval", &c->keepalive_interval_ns);
			ydec_pop(d, m3);
		}
		ydec_pop(d, m2);
	}
	http = ydec_enter_map(d, m, "http", &m2);
	if (http) {
		ydec_check_keys(d, http, KEYS("http1MaxPendingRequests",
					      "http2MaxRequests",
					      "maxRequestsPerConnection",
					      "maxRetries", "idleTimeout",
					      "h2UpgradePolicy",
					      "useClientProtocol",
					      "maxConcurrentStreams"));
		read_i32(d, http, "http1MaxPendingRequests", 0,
			 &c->http1_max_pending_requests);
		read_i32(d, http, "http2MaxRequests", 0, &c->http2_max_requests);
		read_i32(d, http, "maxRequestsPerConnection", 0,
			 &c->max_requests_per_connection);
		read_i32(d, http, "maxRetries", 0, &c->max_retries);
		read_i32(d, http, "maxConcurrentStreams", 0,
			 &c->max_concurrent_streams);
		read_dur(d, http, "idleTimeout", &c->http_idle_timeout_ns);
		if (ydec_enum(d, http, "h2UpgradePolicy", h2, false, &v))
			c->h2_upgrade = (enum istio_h2_upgrade)v;
		read_tristate(d, http, "useClientProtocol",
			      &c->use_client_protocol);
		ydec_pop(d, m2);
	}
	return true;
}

static bool read_outlier(struct ydec *d, const struct ynode *m, void *elem,
			 void *ctx)
{
	struct istio_outlier *o = elem;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("splitExternalLocalOriginErrors",
				   "consecutiveLocalOriginFailures",
				   "consecutiveGatewayErrors",
				   "consecutive5xxErrors", "consecutiveErrors",
				   "interval", "baseEjectionTime",
				   "maxEjectionPercent", "minHealthPercent"));
	read_i32(d, m, "consecutiveErrors", 0, &o->consecutive_errors);
	read_i32(d, m, "consecutive5xxErrors", 0, &o->consecutive_5xx);
	read_i32(d, m, "consecutiveGatewayErrors", 0, &o->consecutive_gateway);
	read_i32(d, m, "consecutiveLocalOriginFailures", 0,
		 &o->consecutive_local_origin);
	read_tristate(d, m, "splitExternalLocalOriginErrors",
		      &o->split_external_local);
	read_dur(d, m, "interval", &o->interval_ns);
	read_dur(d, m, "baseEjectionTime", &o->base_ejection_ns);
	o->max_ejection_percent = o->min_health_percent = MESH_UNSET;
	ydec_int(d, m, "maxEjectionPercent", 0, 100, &o->max_ejection_percent);
	ydec_int(d, m, "minHealthPercent", 0, 100, &o->min_health_percent);
	return true;
}

static bool read_client_tls(struct ydec *d, const struct ynode *m, void *elem,
			    void *ctx)
{
	static const char *const modes[] = {
		"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL,
	};
	struct istio_client_tls *t = elem;
	int v;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("mode", "clientCertificate", "privateKey",
				   "caCertificates", "credentialName",
				   "subjectAltNames", "sni",
				   "insecureSkipVerify", "caCrl"));
	if (ydec_enum(d, m, "mode", modes, false, &v))
		t->mode = (enum istio_tls_mode)(v + ISTIO_TLS_DISABLE);
	ydec_str(d, m, "clientCertificate", &t->client_certificate);
	ydec_str(d, m, "privateKey", &t->private_key);
	ydec_str(d, m, "caCertificates", &t->ca_certificates);
	ydec_str(d, m, "credentialName", &t->credential_name);
	ydec_str(d, m, "sni", &t->sni);
	ydec_str(d, m, "caCrl", &t->ca_crl);
	ydec_strv(d, m, "subjectAltNames", false, &t->subject_alt_names);
	read_tristate(d, m, "insecureSkipVerify", &t->insecure_skip_verify);
	if (t->mode == ISTIO_TLS_MUTUAL && !t->credential_name &&
	    (!t->client_certificate || !t->private_key))
		ydec_error(d, m, "mode MUTUAL needs clientCertificate and privateKey, or credentialName");
	return true;
}

/* ctx: the traffic policy, for its port settings read so far. */
static bool read_port_policy(struct ydec *d, const struct ynode *it,
			     void *elem, void *ctx)
{
	const struct istio_traffic_policy *tp = ctx;
	struct istio_port_policy *pp = elem;
	const struct ynode *port;
	size_t m;

	ydec_check_keys(d, it, KEYS("port", "loadBalancer", "connectionPool",
				    "outlierDetection", "tls"));
	pp->line = it->line;
	if (ydec_required(d, it, "port") &&
	    (port = ydec_enter_map(d, it, "port", &m))) {
		ydec_check_keys(d, port, KEYS("number"));
		if (ydec_required(d, port, "number"))
			mesh_read_port(d, port, "number", &pp->port);
		ydec_pop(d, m);
	}
	for (size_t j = 0; pp->port && j < tp->nport_level; j++)
		if (tp->port_level[j].port == pp->port)
			ydec_error(d, it, "port %u already has settings",
				   pp->port);
	read_load_balancer(d, it, &pp->lb);
	YDEC_OBJ(d, it, "connectionPool", pp->conn_pool, read_conn_pool, NULL);
	YDEC_OBJ(d, it, "outlierDetection", pp->outlier, read_outlier, NULL);
	YDEC_OBJ(d, it, "tls", pp->tls, read_client_tls, NULL);
	return true;
}

static bool read_traffic_policy(struct ydec *d, const struct ynode *m,
				void *elem, void *ctx)
{
	struct istio_traffic_policy *tp = elem;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("loadBalancer", "connectionPool",
				   "outlierDetection", "tls",
				   "portLevelSettings", "tunnel",
				   "proxyProtocol", "retryBudget"));
	tp->line = m->line;
	read_load_balancer(d, m, &tp->lb);
	YDEC_OBJ(d, m, "connectionPool", tp->conn_pool, read_conn_pool, NULL);
	YDEC_OBJ(d, m, "outlierDetection", tp->outlier, read_outlier, NULL);
	YDEC_OBJ(d, m, "tls", tp->tls, read_client_tls, NULL);
	tp->tunnel = ydec_map(d, m, "tunnel");
	tp->proxy_protocol = ydec_map(d, m, "proxyProtocol");
	ydec_map(d, m, "retryBudget");
	if (!m->n)
		ydec_error(d, m, "traffic policy must have at least one field");
	YDEC_MAPS(d, ydec_seq_max(d, m, "portLevelSettings", MESH_MAX_LIST),
		  "portLevelSettings", tp->port_level, tp->nport_level,
		  read_port_policy, tp);
	return true;
}

/* ctx: the DestinationRule, for its subsets read so far. */
static bool read_subset(struct ydec *d, const struct ynode *it, void *elem,
			void *ctx)
{
	const struct istio_destination_rule *dr = ctx;
	struct istio_subset *s = elem;

	ydec_check_keys(d, it, KEYS("name", "labels", "trafficPolicy"));
	s->line = it->line;
	if (ydec_required(d, it, "name") && ydec_str(d, it, "name", &s->name)) {
		if (!mesh_valid_dns_label(s->name))
			error_at_key(d, it, "name", "not a valid subset name");
		for (size_t j = 0; j < dr->nsubsets; j++)
			if (dr->subsets[j].name &&
			    !strcmp(dr->subsets[j].name, s->name))
				ydec_error(d, it, "duplicate subset \"%s\"",
					   s->name);
	}
	mesh_read_labels(d, it, "labels", &s->labels);
	YDEC_OBJ(d, it, "trafficPolicy", s->traffic_policy, read_traffic_policy,
		 NULL);
	return true;
}

void mesh_istio_read_destination_rule(struct mesh_config *cfg, struct ydec *d,
				      const struct ynode *doc,
				      const struct mesh_meta *meta)
{
	struct istio_destination_rule dr = { .meta = *meta };
	const struct ynode *spec;
	size_t mark;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	ydec_check_keys(d, spec, KEYS("host", "trafficPolicy", "subsets",
				      "exportTo", "workloadSelector"));
	if (ydec_required(d, spec, "host"))
		read_host(d, spec, "host", true, false, &dr.host);
	YDEC_OBJ(d, spec, "trafficPolicy", dr.traffic_policy,
		 read_traffic_policy, NULL);
	read_export_to(d, spec, &dr.export_to);
	if (ymap_find(spec, "workloadSelector"))
		mesh_read_selector(d, spec, "workloadSelector", "matchLabels",
				   &dr.workload_selector);
	YDEC_MAPS(d, ydec_seq_max(d, spec, "subsets", MESH_MAX_LIST), "subsets",
		  dr.subsets, dr.nsubsets, read_subset, &dr);
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->destination_rules, cfg->ndestination_rules, dr);
}

/* ---- AuthorizationPolicy ------------------------------------------------ */

struct strv_field {
	const char *key;
	size_t off;   /* of a struct ystrv */
	enum { SV_ANY, SV_CIDR, SV_PORT } check;
};

#define SRC(k, f, c) { k, offsetof(struct istio_authz_source, f), c }
static const struct strv_field source_fields[] = {
	SRC("principals", principals, SV_ANY),
	SRC("notPrincipals", not_principals, SV_ANY),
	SRC("requestPrincipals", request_principals, SV_ANY),
	SRC("notRequestPrincipals", not_request_principals, SV_ANY),
	SRC("namespaces", namespaces, SV_ANY),
	SRC("notNamespaces", not_namespaces, SV_ANY),
	SRC("serviceAccounts", service_accounts, SV_ANY),
	SRC("notServiceAccounts", not_service_accounts, SV_ANY),
	SRC("ipBlocks", ip_blocks, SV_CIDR),
	SRC("notIpBlocks", not_ip_blocks, SV_CIDR),
	SRC("remoteIpBlocks", remote_ip_blocks, SV_CIDR),
	SRC("notRemoteIpBlocks", not_remote_ip_blocks, SV_CIDR),
	{ NULL, 0, SV_ANY },
};
#undef SRC

#define OP(k, f, c) { k, offsetof(struct istio_authz_operation, f), c }
static const struct strv_field operation_fields[] = {
	OP("hosts", hosts, SV_ANY),
	OP("notHosts", not_hosts, SV_ANY),
	OP("ports", ports, SV_PORT),
	OP("notPorts", not_ports, SV_PORT),
	OP("methods", methods, SV_ANY),
	OP("notMethods", not_methods, SV_ANY),
	OP("paths", paths, SV_ANY),
	OP("notPaths", not_paths, SV_ANY),
	{ NULL, 0, SV_ANY },
};
#undef OP

/* Check the entries of a string list as IPs/CIDRs or port numbers. */
static void check_values(struct ydec *d, const struct ynode *seq,
			 const struct ystrv *v, int check)
{
	struct mesh_cidr c;
	int64_t port;

	for (size_t i = 0; check != SV_ANY && i < v->n; i++) {
		const struct ynode *it = seq->items[i];
		size_t m = ydec_push_index(d, i);

		if (check == SV_CIDR)
			mesh_read_cidr(d, it, &c);
		else if (strspn(v->v[i], "0123456789") != strlen(v->v[i]) ||
			 strlen(v->v[i]) > 5 ||
			 (port = strtol(v->v[i], NULL, 10)) > 65535)
			ydec_error(d, it, "\"%.64s\" is not a port number",
				   v->v[i]);
		ydec_pop(d, m);
	}
}

/* Read the string-list fields of a source/operation; false when empty. */
static bool read_strv_fields(struct ydec *d, const struct ynode *m,
			     const struct strv_field *fields, void *out)
{
	const char *keys[16];
	bool any = false;
	size_t n = 0;

	for (; fields[n].key; n++)
		keys[n] = fields[n].key;
	keys[n] = NULL;
	ydec_check_keys(d, m, keys);
	for (size_t i = 0; fields[i].key; i++) {
		struct ystrv *v = (struct ystrv *)((char *)out + fields[i].off);
		size_t mark;

		if (!ydec_strv(d, m, fields[i].key, false, v))
			continue;
		any |= v->n > 0;
		mark = ydec_push(d, fields[i].key);
		check_values(d, ymap_find(m, fields[i].key), v, fields[i].check);
		ydec_pop(d, mark);
	}
	return any;
}

static const char *const condition_keys[] = {
	"source.ip", "remote.ip", "source.namespace", "source.principal",
	"source.serviceAccount", "request.auth.principal",
	"request.auth.audiences", "request.auth.presenter",
	"destination.ip", "destination.port", "connection.sni", NULL,
};

static bool condition_key_known(const char *k)
{
	size_t l = strlen(k);

	for (size_t i = 0; condition_keys[i]; i++)
		if (!strcmp(k, condition_keys[i]))
			return true;
	if ((!strncmp(k, "request.headers[", 16) ||
	     !strncmp(k, "request.auth.claims[", 20)) && l && k[l - 1] == ']')
		return !strstr(k, "[]");
	return !strncmp(k, "experimental.envoy.filters.", 27) && l > 27;
}

static bool read_condition(struct ydec *d, const struct ynode *m, void *elem,
			   void *ctx)
{
	struct istio_authz_condition *c = elem;
	int check = SV_ANY;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("key", "values", "notValues"));
	c->line = m->line;
	if (!ydec_required(d, m, "key") || !ydec_str(d, m, "key", &c->key))
		return true;
	if (!condition_key_known(c->key)) {
		error_at_key(d, m, "key", "unknown condition key");
		return true;
	}
	if (!strcmp(c->key, "source.ip") || !strcmp(c->key, "remote.ip") ||
	    !strcmp(c->key, "destination.ip"))
		check = SV_CIDR;
	else if (!strcmp(c->key, "destination.port"))
		check = SV_PORT;
	if (ydec_strv(d, m, "values", false, &c->values)) {
		size_t mark = ydec_push(d, "values");

		check_values(d, ymap_find(m, "values"), &c->values, check);
		ydec_pop(d, mark);
	}
	if (ydec_strv(d, m, "notValues", false, &c->not_values)) {
		size_t mark = ydec_push(d, "notValues");

		check_values(d, ymap_find(m, "notValues"), &c->not_values, check);
		ydec_pop(d, mark);
	}
	if (!c->values.n && !c->not_values.n)
		ydec_error(d, m, "at least one of values or notValues is required for key %s",
			   c->key);
	return true;
}

/*
 * from[] / to[]: a list of {source: {...}} or {operation: {...}}; the list,
 * when given, and each inner block must not be empty.
 */
struct rule_block {
	const char *inner;         /* "source" or "operation" */
	const struct strv_field *fields;
	size_t line_off;           /* of the element's line */
};

static const struct ynode *rule_list(struct ydec *d, const struct ynode *rule,
				     const char *key)
{
	const struct ynode *seq = ydec_seq(d, rule, key);

	if (seq && !seq->n)
		ydec_error_key(d, key, seq, "must not be empty");
	return seq;
}

/* ctx: the struct rule_block of the list. */
static bool read_rule_block(struct ydec *d, const struct ynode *it,
			    void *elem, void *ctx)
{
	const struct rule_block *rb = ctx;
	const struct ynode *body;
	size_t m;

	ydec_check_keys(d, it, (const char *const[]){ rb->inner, NULL });
	if (ydec_required(d, it, rb->inner) &&
	    (body = ydec_enter_map(d, it, rb->inner, &m))) {
		memcpy((char *)elem + rb->line_off, &body->line,
		       sizeof(body->line));
		if (!read_strv_fields(d, body, rb->fields, elem))
			ydec_error(d, body, "must not be empty");
		ydec_pop(d, m);
	}
	return true;
}

static bool read_authz_rule(struct ydec *d, const struct ynode *m, void *elem,
			    void *ctx)
{
	struct rule_block from = {
		"source", source_fields,
		offsetof(struct istio_authz_source, line),
	};
	struct rule_block to = {
		"operation", operation_fields,
		offsetof(struct istio_authz_operation, line),
	};
	struct istio_authz_rule *r = elem;

	(void)ctx;
	ydec_check_keys(d, m, KEYS("from", "to", "when"));
	r->line = m->line;
	YDEC_MAPS(d, rule_list(d, m, "from"), "from", r->from, r->nfrom,
		  read_rule_block, &from);
	YDEC_MAPS(d, rule_list(d, m, "to"), "to", r->to, r->nto,
		  read_rule_block, &to);
	YDEC_LIST(d, m, "when", r->when, r->nwhen, read_condition, NULL);
	return true;
}

/* Appends to ctx, the policy, whose target_refs has room for it. */
static bool read_target_ref(struct ydec *d, const struct ynode *m, void *elem,
			    void *ctx)
{
	struct istio_authz_policy *ap = ctx;
	struct istio_target_ref *t = &ap->target_refs[ap->ntarget_refs++];

	(void)elem;
	ydec_check_keys(d, m, KEYS("group", "kind", "name", "namespace"));
	ydec_str(d, m, "group", &t->group);
	if (ydec_required(d, m, "kind"))
		ydec_str(d, m, "kind", &t->kind);
	if (ydec_required(d, m, "name"))
		ydec_str(d, m, "name", &t->name);
	ydec_str(d, m, "namespace", &t->ns);
	return true;
}

static void read_target_refs(struct ydec *d, const struct ynode *spec,
			     struct istio_authz_policy *ap)
{
	const struct ynode *one = ydec_map(d, spec, "targetRef");
	const struct ynode *seq = ydec_seq(d, spec, "targetRefs");
	size_t total = (one ? 1 : 0) + (seq ? seq->n : 0);

	if (!total)
		return;
	ap->target_refs = ydec_array(d, total, sizeof(*ap->target_refs));
	if (!ap->target_refs)
		return;
	if (one) {
		size_t m = ydec_push(d, "targetRef");

		read_target_ref(d, one, NULL, ap);
		ydec_pop(d, m);
	}
	ydec_maps(d, seq, "targetRefs", 0, NULL, NULL, read_target_ref, ap);
	if (seq && one)
		error_at_key(d, spec, "targetRefs", "only one of targetRef or targetRefs");
}

/* CUSTOM policies cannot use identity fields or these conditions. */
static void check_custom_rules(struct ydec *d, const struct ynode *spec,
			       const struct istio_authz_policy *ap)
{
	for (size_t i = 0; i < ap->nrules; i++) {
		const struct istio_authz_rule *r = &ap->rules[i];
		bool bad = false;

		for (size_t j = 0; j < r->nfrom; j++) {
			const struct istio_authz_source *s = &r->from[j];

			bad |= s->namespaces.n || s->not_namespaces.n ||
			       s->principals.n || s->not_principals.n ||
			       s->request_principals.n ||
			       s->not_request_principals.n;
		}
		for (size_t j = 0; j < r->nwhen; j++) {
			const char *k = r->when[j].key;

			bad |= k && (!strcmp(k, "source.namespace") ||
				     !strcmp(k, "source.principal") ||
				     !strncmp(k, "request.auth.", 13));
		}
		if (bad) {
			size_t m = ydec_push(d, "rules");

			ydec_push_index(d, i);
			ydec_error(d, ymap_find(spec, "rules")->items[i],
				   "namespaces, principals, requestPrincipals and identity conditions are not supported with action CUSTOM");
			ydec_pop(d, m);
		}
	}
}

void mesh_istio_read_authz_policy(struct mesh_config *cfg, struct ydec *d,
				  const struct ynode *doc,
				  const struct mesh_meta *meta)
{
	static const char *const actions[] = {
		"ALLOW", "DENY", "AUDIT", "CUSTOM", NULL,
	};
	struct istio_authz_policy ap = { .meta = *meta };
	const struct ynode *spec, *prov;
	const char *dry;
	size_t mark, m;
	int v;

	dry = ykvs_get(&meta->annotations, "istio.io/dry-run");
	if (dry) {
		if (!strcasecmp(dry, "true"))
			ap.dry_run = true;
		else if (strcasecmp(dry, "false"))
			ydec_error(d, ymap_find(meta->doc, "metadata"),
				   "metadata.annotations.istio.io/dry-run: must be \"true\" or \"false\"");
	}
	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	ydec_check_keys(d, spec, KEYS("selector", "targetRef", "targetRefs",
				      "action", "provider", "rules"));
	if (ydec_enum(d, spec, "action", actions, false, &v))
		ap.action = (enum istio_authz_action)v;
	if (ymap_find(spec, "selector"))
		mesh_read_selector(d, spec, "selector", "matchLabels",
				   &ap.selector);
	read_target_refs(d, spec, &ap);
	if (ap.selector.set && ap.ntarget_refs)
		error_at_key(d, spec, "selector",
			     "only one of selector or targetRef(s)");
	prov = ydec_enter_map(d, spec, "provider", &m);
	if (prov) {
		ydec_check_keys(d, prov, KEYS("name"));
		ydec_str(d, prov, "name", &ap.provider);
		ydec_pop(d, m);
	}
	YDEC_LIST(d, spec, "rules", ap.rules, ap.nrules, read_authz_rule, NULL);
	if (ap.action == ISTIO_AUTHZ_CUSTOM) {
		if (!ap.nrules)
			error_at_key(d, spec, "rules",
				     "action CUSTOM without rules never applies (add a rule {} to match every request)");
		else if (!ap.provider || !ap.provider[0])
			error_at_key(d, spec, "provider",
				     "provider.name is required with action CUSTOM");
		check_custom_rules(d, spec, &ap);
	} else if (ymap_find(spec, "provider")) {
		error_at_key(d, spec, "provider",
			     "only allowed with action CUSTOM");
	}
	if (ap.action == ISTIO_AUTHZ_DENY && !ap.nrules)
		error_at_key(d, spec, "rules",
			     "action DENY without rules never applies (add a rule {} to match every request)");
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->authz_policies, cfg->nauthz_policies, ap);
}

/* ---- PeerAuthentication ------------------------------------------------- */

static const char *const mtls_modes[] = {
	"UNSET", "DISABLE", "PERMISSIVE", "STRICT", NULL,
};

static bool read_mtls(struct ydec *d, const struct ynode *m,
		      enum istio_mtls_mode *out)
{
	int v;

	ydec_check_keys(d, m, KEYS("mode"));
	if (!ydec_enum(d, m, "mode", mtls_modes, false, &v))
		return false;
	*out = (enum istio_mtls_mode)v;
	return true;
}

void mesh_istio_read_peer_authn(struct mesh_config *cfg, struct ydec *d,
				const struct ynode *doc,
				const struct mesh_meta *meta)
{
	struct istio_peer_authn pa = { .meta = *meta };
	const struct ynode *spec, *mtls, *ports;
	size_t mark, m;

	if (!ydec_required(d, doc, "spec"))
		return;
	spec = ydec_enter_map(d, doc, "spec", &mark);
	if (!spec)
		return;
	ydec_check_keys(d, spec, KEYS("selector", "mtls", "portLevelMtls"));
	if (ymap_find(spec, "selector"))
		mesh_read_selector(d, spec, "selector", "matchLabels",
				   &pa.selector);
	mtls = ydec_enter_map(d, spec, "mtls", &m);
	if (mtls) {
		read_mtls(d, mtls, &pa.mode);
		ydec_pop(d, m);
	}
	ports = ydec_enter_map(d, spec, "portLevelMtls", &m);
	if (ports) {
		if (!pa.selector.match.n)
			ydec_error(d, ports, "needs a selector with labels (not allowed mesh- or namespace-wide)");
		if (!ports->n)
			ydec_error(d, ports, "must have at least one port");
		pa.port_level = ydec_array(d, ports->n, sizeof(*pa.port_level));
		for (size_t i = 0; pa.port_level && i < ports->n; i++) {
			const struct ypair *p = &ports->pairs[i];
			struct istio_port_mtls *pm = &pa.port_level[pa.nport_level];
			size_t m2 = ydec_push(d, p->key->str);
			int64_t port;

			/* Map keys are strings in JSON: "15021" and 15021 alike. */
			struct ynode key = *p->key;

			key.plain = true;
			if (ydec_as_int(d, &key, 1, 65535, &port)) {
				pm->port = (uint16_t)port;
				if (p->value->kind != YNODE_MAP)
					ydec_error(d, p->value, "expected a mapping with mode");
				else if (read_mtls(d, p->value, &pm->mode))
					pa.nport_level++;
			}
			ydec_pop(d, m2);
		}
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
	MESH_ADD(d, cfg->peer_authns, cfg->npeer_authns, pa);
}
