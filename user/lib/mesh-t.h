/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The resource model behind struct mesh_config (mesh.h): what each
 * Kubernetes and Istio resource says, validated, in the shape later
 * compilers (lb_compile, routing, policy) read.
 *
 * Conventions for every type below:
 *   - all strings, arrays and nodes belong to the config (cfg->arena) and
 *     live until mesh_config_free(); nothing here is freed on its own;
 *   - optional strings are NULL when absent; required ones never are;
 *   - optional integers and durations are MESH_UNSET (-1) when absent;
 *     durations are nanoseconds; percentages are 0..100 or < 0 when absent;
 *   - every item keeps its source line, every resource its file and line,
 *     for "file:line:" diagnostics in compilers;
 *   - `doc` / `raw` members point into the parsed YAML (yaml_tree.h), kept
 *     for fields the model does not type yet (see each comment).
 */
#ifndef WEFT_MESH_T_H
#define WEFT_MESH_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/abi.h>

#include "yaml_tree.h"

#define MESH_UNSET (-1)
/* Longest list checked pairwise for duplicates (ports, hosts, subsets). */
#define MESH_MAX_LIST 4096
#define MESH_DEFAULT_NAMESPACE "default"
#define MESH_CLUSTER_DOMAIN "cluster.local"

enum mesh_kind {
	MESH_KIND_SERVICE,
	MESH_KIND_ENDPOINT_SLICE,
	MESH_KIND_ENDPOINTS,
	MESH_KIND_POD,
	MESH_KIND_SERVICE_ENTRY,
	MESH_KIND_WORKLOAD_ENTRY,
	MESH_KIND_VIRTUAL_SERVICE,
	MESH_KIND_DESTINATION_RULE,
	MESH_KIND_AUTHORIZATION_POLICY,
	MESH_KIND_PEER_AUTHENTICATION,
	MESH_KIND__MAX,
};

/* "Service", "ServiceEntry", ... */
const char *mesh_kind_name(enum mesh_kind kind);

struct mesh_meta {
	const char *name;
	const char *ns;            /* MESH_DEFAULT_NAMESPACE when absent */
	struct ykvs labels;
	struct ykvs annotations;
	bool deleting;             /* metadata.deletionTimestamp is set */
	const char *file;
	unsigned int line;         /* first line of the document */
	const struct ynode *doc;   /* the whole document */
};

/* A label selector's matchLabels (or a Service's spec.selector). */
struct mesh_selector {
	bool set;                  /* field present (even if empty) */
	struct ykvs match;         /* all must equal; empty matches all */
};

/* true when every selector label is among labels. */
bool mesh_selector_matches(const struct mesh_selector *sel,
			   const struct ykvs *labels);

/* An address or CIDR as written in ServiceEntry.addresses & co. */
struct mesh_cidr {
	union weft_addr addr;      /* network address, host bits as written */
	uint8_t prefix_len;        /* in the family's own bits (32 or 128) */
	bool v4;
	bool has_prefix;           /* written with "/len" */
	const char *text;
};

/* ---- Kubernetes ------------------------------------------------------ */

enum k8s_protocol { K8S_PROTO_TCP, K8S_PROTO_UDP, K8S_PROTO_SCTP };

enum k8s_service_type {
	K8S_SVC_CLUSTER_IP,
	K8S_SVC_NODE_PORT,
	K8S_SVC_LOAD_BALANCER,
	K8S_SVC_EXTERNAL_NAME,
};

enum k8s_ip_family { K8S_IPV4, K8S_IPV6 };

struct k8s_service_port {
	const char *name;          /* "" when unnamed (single-port Services) */
	enum k8s_protocol protocol;
	uint16_t port;
	uint16_t target_number;    /* targetPort as a number; 0 if named/unset */
	const char *target_name;   /* targetPort as a container port name */
	uint16_t node_port;        /* 0 when unset */
	const char *app_protocol;
	unsigned int line;
};

struct k8s_service {
	struct mesh_meta meta;
	enum k8s_service_type type;
	bool headless;             /* clusterIP: None */
	size_t ncluster_ips;       /* clusterIP then the rest of clusterIPs */
	union weft_addr *cluster_ips;
	size_t nip_families;
	enum k8s_ip_family ip_families[2];
	const char *ip_family_policy;
	struct mesh_selector selector; /* set: spec.selector given */
	size_t nports;
	struct k8s_service_port *ports;
	const char *external_name;
	const struct ynode *spec;
};

struct k8s_object_ref {
	const char *kind;          /* NULL when there is no targetRef */
	const char *ns;            /* NULL: the referring object's */
	const char *name;
};

enum k8s_address_type { K8S_ADDR_IPV4, K8S_ADDR_IPV6, K8S_ADDR_FQDN };

struct k8s_slice_endpoint {
	struct ystrv addresses;    /* as written, 1..100 */
	union weft_addr *ips;      /* parsed; NULL for FQDN slices */
	bool ready;                /* conditions.ready; absent reads as true */
	bool serving;              /* absent: same as ready */
	bool terminating;          /* absent: false */
	const char *hostname;
	const char *node_name;
	const char *zone;
	struct k8s_object_ref target_ref;
	unsigned int line;
};

/* EndpointSlice and Endpoints port. */
struct k8s_endpoint_port {
	const char *name;          /* "" when unnamed */
	enum k8s_protocol protocol;
	uint16_t port;             /* 0: unset ("all ports", unusable for LB) */
	const char *app_protocol;
	unsigned int line;
};

struct k8s_endpoint_slice {
	struct mesh_meta meta;
	const char *service_name;  /* label kubernetes.io/service-name or NULL */
	enum k8s_address_type address_type;
	size_t nendpoints;
	struct k8s_slice_endpoint *endpoints;
	size_t nports;
	struct k8s_endpoint_port *ports;
};

struct k8s_endpoint_address {
	union weft_addr ip;
	const char *hostname;
	const char *node_name;
	struct k8s_object_ref target_ref;
	unsigned int line;
};

struct k8s_endpoints_subset {
	size_t naddresses;
	struct k8s_endpoint_address *addresses;
	size_t nnot_ready;
	struct k8s_endpoint_address *not_ready;
	size_t nports;
	struct k8s_endpoint_port *ports;
};

struct k8s_endpoints {
	struct mesh_meta meta;     /* name: the Service's name */
	size_t nsubsets;
	struct k8s_endpoints_subset *subsets;
};

struct k8s_container_port {
	const char *name;          /* NULL when unnamed */
	uint16_t container_port;
	enum k8s_protocol protocol;
	unsigned int line;
};

struct k8s_container {
	const char *name;
	size_t nports;
	struct k8s_container_port *ports;
};

enum k8s_pod_phase {
	K8S_POD_PHASE_UNSET,
	K8S_POD_PENDING,
	K8S_POD_RUNNING,
	K8S_POD_SUCCEEDED,
	K8S_POD_FAILED,
	K8S_POD_UNKNOWN,
};

/* metadata.ownerReferences entry (Pods: who created them). */
struct k8s_owner_ref {
	const char *kind;          /* "ReplicaSet", "StatefulSet", ... */
	const char *name;
	bool controller;           /* controller: true */
};

struct k8s_pod {
	struct mesh_meta meta;
	size_t nowners;            /* metadata.ownerReferences */
	struct k8s_owner_ref *owners;
	const char *service_account; /* spec.serviceAccountName, else
				      * spec.serviceAccount, else NULL */
	const char *node_name;
	bool host_network;
	size_t ncontainers;
	struct k8s_container *containers;
	enum k8s_pod_phase phase;
	bool ready;                /* status condition Ready is "True" */
	size_t nips;               /* status.podIP, then the rest of podIPs */
	union weft_addr *ips;
};

/* Ready for traffic: Running, condition Ready, an IP, not being deleted. */
bool k8s_pod_is_ready(const struct k8s_pod *pod);

/* ---- Istio: service registry ----------------------------------------- */

enum istio_protocol {
	ISTIO_PROTO_UNSET,         /* sniffed */
	ISTIO_PROTO_HTTP,
	ISTIO_PROTO_HTTPS,
	ISTIO_PROTO_GRPC,
	ISTIO_PROTO_GRPC_WEB,
	ISTIO_PROTO_HTTP2,
	ISTIO_PROTO_HTTP_PROXY,
	ISTIO_PROTO_MONGO,
	ISTIO_PROTO_REDIS,
	ISTIO_PROTO_MYSQL,
	ISTIO_PROTO_TCP,
	ISTIO_PROTO_TLS,
	ISTIO_PROTO_UDP,
};

enum istio_se_location { ISTIO_MESH_EXTERNAL, ISTIO_MESH_INTERNAL };

enum istio_se_resolution {
	ISTIO_RES_NONE,
	ISTIO_RES_STATIC,
	ISTIO_RES_DNS,
	ISTIO_RES_DNS_ROUND_ROBIN,
	ISTIO_RES_DYNAMIC_DNS,
};

struct istio_se_port {
	const char *name;
	uint16_t number;
	enum istio_protocol protocol;
	uint16_t target_port;      /* 0 when unset */
	unsigned int line;
};

struct istio_port_map {
	const char *name;          /* a ServiceEntry port name */
	uint16_t port;
};

enum istio_addr_kind {
	ISTIO_ADDR_NONE,           /* no address: reached through `network` */
	ISTIO_ADDR_IP,
	ISTIO_ADDR_DNS,
	ISTIO_ADDR_UNIX,           /* unix:///path */
};

/* WorkloadEntry spec: a top-level WorkloadEntry or a ServiceEntry endpoint. */
struct istio_workload {
	const char *address;       /* as written; NULL when absent */
	enum istio_addr_kind addr_kind;
	union weft_addr ip;        /* ISTIO_ADDR_IP */
	size_t nports;
	struct istio_port_map *ports;
	struct ykvs labels;
	const char *network;
	const char *locality;
	uint32_t weight;           /* 0 when unset */
	const char *service_account;
	unsigned int line;
};

struct istio_service_entry {
	struct mesh_meta meta;
	struct ystrv hosts;        /* at least one */
	size_t naddresses;
	struct mesh_cidr *addresses;
	size_t nports;
	struct istio_se_port *ports;
	enum istio_se_location location;
	enum istio_se_resolution resolution;
	size_t nendpoints;
	struct istio_workload *endpoints;
	struct mesh_selector workload_selector; /* exclusive with endpoints */
	struct ystrv export_to;
	struct ystrv subject_alt_names;
};

struct istio_workload_entry {
	struct mesh_meta meta;
	struct istio_workload spec;
};

/* ---- Istio: routing -------------------------------------------------- */

enum istio_match_kind {
	ISTIO_MATCH_NONE,          /* field absent */
	ISTIO_MATCH_EXACT,
	ISTIO_MATCH_PREFIX,
	ISTIO_MATCH_REGEX,
	ISTIO_MATCH_PRESENT,       /* written as {}: present with any value */
};

struct istio_string_match {
	enum istio_match_kind kind;
	const char *value;         /* NULL for NONE and PRESENT */
};

struct istio_named_match {  /* headers / queryParams entry */
	const char *name;          /* lowercase for headers */
	struct istio_string_match match;
};

struct istio_http_match {
	const char *name;
	struct istio_string_match uri, scheme, method, authority;
	size_t nheaders;
	struct istio_named_match *headers;
	size_t nwithout_headers;
	struct istio_named_match *without_headers;
	size_t nquery_params;
	struct istio_named_match *query_params;
	uint16_t port;             /* 0: any */
	bool ignore_uri_case;
	struct ykvs source_labels; /* config-time selection, not per request */
	const char *source_namespace;
	struct ystrv gateways;
	const char *stat_prefix;
	unsigned int line;
};

struct istio_destination {
	const char *host;
	const char *subset;        /* NULL: all endpoints */
	uint16_t port;             /* 0: the only / the matching port */
};

struct istio_header_ops {
	struct ykvs set;
	struct ykvs add;
	struct ystrv remove;
};

struct istio_headers {
	struct istio_header_ops request;
	struct istio_header_ops response;
};

struct istio_route_dest {
	struct istio_destination dest;
	int32_t weight;            /* >= 0, or MESH_UNSET */
	struct istio_headers headers; /* HTTP only */
	unsigned int line;
};

struct istio_http_retry {
	int32_t attempts;          /* MESH_UNSET: default 2; 0 disables */
	int64_t per_try_timeout_ns;
	const char *retry_on;      /* comma-separated tokens, as written */
	int retry_remote_localities; /* MESH_UNSET, 0 or 1 */
	int retry_ignore_previous_hosts;
	int64_t backoff_ns;
};

struct istio_fault {
	bool has_delay;
	int64_t fixed_delay_ns;
	int64_t exponential_delay_ns;
	double delay_percent;      /* < 0: absent (fault never fires) */
	bool has_abort;
	int32_t http_status;       /* MESH_UNSET when grpcStatus/http2Error */
	const char *grpc_status;
	const char *http2_error;
	double abort_percent;
};

enum istio_derive_port {
	ISTIO_DERIVE_UNSET,
	ISTIO_DERIVE_FROM_PROTOCOL_DEFAULT,
	ISTIO_DERIVE_FROM_REQUEST_PORT,
};

struct istio_redirect {
	const char *uri;
	const char *authority;
	const char *scheme;
	uint16_t port;             /* 0: keep */
	enum istio_derive_port derive_port;
	uint32_t redirect_code;    /* 0: 301 */
};

struct istio_direct_response {
	uint32_t status;
	const char *body_string;
	const char *body_bytes;    /* base64, as written */
};

struct istio_rewrite {
	const char *uri;
	const char *authority;
	const char *regex_match;   /* uriRegexRewrite.match */
	const char *regex_rewrite;
};

struct istio_delegate {
	const char *name;
	const char *ns;            /* NULL: the VirtualService's */
};

struct istio_mirror {
	struct istio_destination dest;
	double percent;            /* < 0: absent (100%) */
};

struct istio_http_route {
	const char *name;
	size_t nmatch;             /* 0: catch-all */
	struct istio_http_match *match;
	size_t nroute;
	struct istio_route_dest *route;
	/* At most one of route / redirect / direct_response / delegate. */
	const struct istio_redirect *redirect;
	const struct istio_direct_response *direct_response;
	const struct istio_delegate *delegate;
	const struct istio_rewrite *rewrite;
	int64_t timeout_ns;
	const struct istio_http_retry *retries;
	const struct istio_fault *fault;
	const struct istio_destination *mirror; /* legacy single mirror */
	double mirror_percent;     /* mirrorPercentage (or mirror_percent) */
	size_t nmirrors;
	struct istio_mirror *mirrors;
	struct istio_headers headers;
	const struct ynode *cors_policy; /* kept raw (a mapping) */
	unsigned int line;
};

/* tls[] and tcp[] match: sni_hosts only for TLS, source_subnet only TCP. */
struct istio_l4_match {
	struct ystrv sni_hosts;
	size_t ndestination_subnets;
	struct mesh_cidr *destination_subnets;
	uint16_t port;             /* 0: any */
	const char *source_subnet;
	struct ykvs source_labels;
	const char *source_namespace;
	struct ystrv gateways;
	unsigned int line;
};

struct istio_l4_route {
	size_t nmatch;
	struct istio_l4_match *match;
	size_t nroute;
	struct istio_route_dest *route; /* weights as for HTTP */
	unsigned int line;
};

struct istio_virtual_service {
	struct mesh_meta meta;
	struct ystrv hosts;        /* empty for a delegate VirtualService */
	struct ystrv gateways;     /* empty: "mesh" */
	struct ystrv export_to;
	size_t nhttp;
	struct istio_http_route *http;
	size_t ntls;
	struct istio_l4_route *tls;
	size_t ntcp;
	struct istio_l4_route *tcp;
};

/* true when the VirtualService applies to in-mesh (sidecar) traffic. */
bool istio_vs_applies_to_mesh(const struct istio_virtual_service *vs);

/* ---- Istio: DestinationRule ------------------------------------------ */

enum istio_lb_simple {
	ISTIO_LB_UNSPECIFIED,      /* LEAST_REQUEST */
	ISTIO_LB_LEAST_CONN,       /* deprecated alias of LEAST_REQUEST */
	ISTIO_LB_RANDOM,
	ISTIO_LB_PASSTHROUGH,
	ISTIO_LB_ROUND_ROBIN,
	ISTIO_LB_LEAST_REQUEST,
};

enum istio_hash_key {
	ISTIO_HASH_HEADER,
	ISTIO_HASH_COOKIE,
	ISTIO_HASH_SOURCE_IP,
	ISTIO_HASH_QUERY_PARAM,
};

struct istio_consistent_hash {
	enum istio_hash_key key;
	const char *name;          /* header / cookie / query parameter */
	const char *cookie_path;
	int64_t cookie_ttl_ns;
	bool maglev;               /* else ring hash */
	int64_t table_size;        /* ring minimum size or maglev table size */
};

struct istio_load_balancer {
	bool set;
	enum istio_lb_simple simple;
	const struct istio_consistent_hash *consistent_hash; /* or simple */
	const struct ynode *locality_lb_setting; /* kept raw (a mapping) */
	int64_t warmup_ns;
};

enum istio_h2_upgrade { ISTIO_H2_DEFAULT, ISTIO_H2_DO_NOT_UPGRADE,
			ISTIO_H2_UPGRADE };

struct istio_conn_pool {
	int64_t max_connections;
	int64_t connect_timeout_ns;
	int64_t keepalive_probes;
	int64_t keepalive_time_ns;
	int64_t keepalive_interval_ns;
	int64_t max_connection_duration_ns;
	int64_t tcp_idle_timeout_ns;
	int64_t http1_max_pending_requests;
	int64_t http2_max_requests;
	int64_t max_requests_per_connection;
	int64_t max_retries;
	int64_t http_idle_timeout_ns;
	enum istio_h2_upgrade h2_upgrade;
	int use_client_protocol;   /* MESH_UNSET, 0, 1 */
	int64_t max_concurrent_streams;
};

struct istio_outlier {
	int64_t consecutive_errors; /* deprecated field, as written */
	int64_t consecutive_5xx;
	int64_t consecutive_gateway;
	int64_t consecutive_local_origin;
	int split_external_local;   /* MESH_UNSET, 0, 1 */
	int64_t interval_ns;
	int64_t base_ejection_ns;
	int64_t max_ejection_percent;
	int64_t min_health_percent;
};

enum istio_tls_mode {
	ISTIO_TLS_UNSET,           /* auto mTLS */
	ISTIO_TLS_DISABLE,
	ISTIO_TLS_SIMPLE,
	ISTIO_TLS_MUTUAL,
	ISTIO_TLS_ISTIO_MUTUAL,
};

struct istio_client_tls {
	enum istio_tls_mode mode;
	const char *client_certificate;
	const char *private_key;
	const char *ca_certificates;
	const char *credential_name;
	const char *sni;
	const char *ca_crl;
	struct ystrv subject_alt_names;
	int insecure_skip_verify;  /* MESH_UNSET, 0, 1 */
};

struct istio_port_policy {
	uint16_t port;
	struct istio_load_balancer lb;
	const struct istio_conn_pool *conn_pool;
	const struct istio_outlier *outlier;
	const struct istio_client_tls *tls;
	unsigned int line;
};

struct istio_traffic_policy {
	struct istio_load_balancer lb;
	const struct istio_conn_pool *conn_pool;   /* NULL: defaults */
	const struct istio_outlier *outlier;       /* NULL: off */
	const struct istio_client_tls *tls;        /* NULL: auto mTLS */
	size_t nport_level;
	struct istio_port_policy *port_level;
	const struct ynode *tunnel;                /* kept raw */
	const struct ynode *proxy_protocol;        /* kept raw */
	unsigned int line;
};

struct istio_subset {
	const char *name;
	struct ykvs labels;
	const struct istio_traffic_policy *traffic_policy; /* NULL: inherit */
	unsigned int line;
};

struct istio_destination_rule {
	struct mesh_meta meta;
	const char *host;
	const struct istio_traffic_policy *traffic_policy; /* NULL: none */
	size_t nsubsets;
	struct istio_subset *subsets;
	struct ystrv export_to;
	struct mesh_selector workload_selector;
};

/* ---- Istio: security ------------------------------------------------- */

enum istio_authz_action {
	ISTIO_AUTHZ_ALLOW,         /* default */
	ISTIO_AUTHZ_DENY,
	ISTIO_AUTHZ_AUDIT,
	ISTIO_AUTHZ_CUSTOM,        /* ext_authz `provider`: parsed, not
				    * enforceable by weft's L4 datapath */
};

struct istio_authz_source {
	struct ystrv principals, not_principals;
	struct ystrv request_principals, not_request_principals;
	struct ystrv namespaces, not_namespaces;
	struct ystrv service_accounts, not_service_accounts;
	struct ystrv ip_blocks, not_ip_blocks;           /* IP or CIDR text */
	struct ystrv remote_ip_blocks, not_remote_ip_blocks;
	unsigned int line;
};

struct istio_authz_operation {
	struct ystrv hosts, not_hosts;
	struct ystrv ports, not_ports;                   /* decimal text */
	struct ystrv methods, not_methods;
	struct ystrv paths, not_paths;
	unsigned int line;
};

struct istio_authz_condition {
	const char *key;           /* "source.ip", "request.headers[x]", ... */
	struct ystrv values, not_values;
	unsigned int line;
};

/* A rule: from AND to AND when; each list is ORed; empty lists match. */
struct istio_authz_rule {
	size_t nfrom;
	struct istio_authz_source *from;
	size_t nto;
	struct istio_authz_operation *to;
	size_t nwhen;
	struct istio_authz_condition *when;
	unsigned int line;
};

struct istio_target_ref {
	const char *group;
	const char *kind;
	const char *name;
	const char *ns;
};

struct istio_authz_policy {
	struct mesh_meta meta;
	enum istio_authz_action action;
	struct mesh_selector selector;   /* selector.matchLabels */
	size_t ntarget_refs;             /* targetRef and targetRefs */
	struct istio_target_ref *target_refs;
	const char *provider;            /* CUSTOM only */
	bool dry_run;                    /* annotation istio.io/dry-run */
	/* rules absent and rules: [] are the same (ALLOW: deny all); a rule
	 * {} matches everything. */
	size_t nrules;
	struct istio_authz_rule *rules;
};

enum istio_mtls_mode {
	ISTIO_MTLS_UNSET,          /* inherit; PERMISSIVE at the top */
	ISTIO_MTLS_DISABLE,
	ISTIO_MTLS_PERMISSIVE,
	ISTIO_MTLS_STRICT,
};

struct istio_port_mtls {
	uint16_t port;             /* workload (container) port */
	enum istio_mtls_mode mode;
};

struct istio_peer_authn {
	struct mesh_meta meta;
	struct mesh_selector selector;
	enum istio_mtls_mode mode;
	size_t nport_level;        /* only with a non-empty selector */
	struct istio_port_mtls *port_level;
};

/* ---- the config ------------------------------------------------------ */

/*
 * Resources in load order (file order, then document order).  Arrays are
 * malloc'd; everything they point to lives in the arena.  Kind, namespace
 * and name are unique per kind.
 */
struct mesh_config {
	struct yarena arena;
	size_t skipped;

	size_t nservices;
	struct k8s_service *services;
	size_t nslices;
	struct k8s_endpoint_slice *slices;
	size_t nendpoints;
	struct k8s_endpoints *endpoints;
	size_t npods;
	struct k8s_pod *pods;
	size_t nservice_entries;
	struct istio_service_entry *service_entries;
	size_t nworkload_entries;
	struct istio_workload_entry *workload_entries;
	size_t nvirtual_services;
	struct istio_virtual_service *virtual_services;
	size_t ndestination_rules;
	struct istio_destination_rule *destination_rules;
	size_t nauthz_policies;
	struct istio_authz_policy *authz_policies;
	size_t npeer_authns;
	struct istio_peer_authn *peer_authns;
};

/* ---- loader internals: mesh.c, mesh_k8s.c and mesh_istio.c only -------- */

/*
 * Per-kind readers.  Each reads the document `doc` (a mapping) whose
 * metadata is already in *meta, reports problems through d and appends
 * the resource to cfg only when the document had none.
 */
void mesh_k8s_read_service(struct mesh_config *cfg, struct ydec *d,
			   const struct ynode *doc, const struct mesh_meta *meta);
void mesh_k8s_read_endpoint_slice(struct mesh_config *cfg, struct ydec *d,
				  const struct ynode *doc,
				  const struct mesh_meta *meta);
void mesh_k8s_read_endpoints(struct mesh_config *cfg, struct ydec *d,
			     const struct ynode *doc,
			     const struct mesh_meta *meta);
void mesh_k8s_read_pod(struct mesh_config *cfg, struct ydec *d,
		       const struct ynode *doc, const struct mesh_meta *meta);
void mesh_istio_read_service_entry(struct mesh_config *cfg, struct ydec *d,
				   const struct ynode *doc,
				   const struct mesh_meta *meta);
void mesh_istio_read_workload_entry(struct mesh_config *cfg, struct ydec *d,
				    const struct ynode *doc,
				    const struct mesh_meta *meta);
void mesh_istio_read_virtual_service(struct mesh_config *cfg, struct ydec *d,
				     const struct ynode *doc,
				     const struct mesh_meta *meta);
void mesh_istio_read_destination_rule(struct mesh_config *cfg, struct ydec *d,
				      const struct ynode *doc,
				      const struct mesh_meta *meta);
void mesh_istio_read_authz_policy(struct mesh_config *cfg, struct ydec *d,
				  const struct ynode *doc,
				  const struct mesh_meta *meta);
void mesh_istio_read_peer_authn(struct mesh_config *cfg, struct ydec *d,
				const struct ynode *doc,
				const struct mesh_meta *meta);

/*
 * Append the resource res to the malloc'd array arr of n elements (both
 * lvalues) when the document had no problem; out of memory is noted in d.
 */
void mesh_add(struct ydec *d, void **arr, size_t *n, const void *res,
	      size_t size);
#define MESH_ADD(d, arr, n, res)                     \
	mesh_add((d), (void **)&(arr), &(n), &(res), \
		 sizeof(*(arr)) + 0 * sizeof((arr) == &(res)))

/* Shared checks; each reports at the current path + key and returns ok. */
bool mesh_valid_dns_label(const char *s);      /* RFC 1123 label */
bool mesh_valid_dns_subdomain(const char *s);  /* RFC 1123 subdomain */
/* Host name as Istio takes it: optional "*." or "*" prefix, labels of
 * letters, digits and '-'; a lone "*" only when allow_star. */
bool mesh_valid_host(const char *s, bool allow_star);
bool mesh_read_ip(struct ydec *d, const struct ynode *n, union weft_addr *out);
bool mesh_read_cidr(struct ydec *d, const struct ynode *n,
		    struct mesh_cidr *out);
/* Read a label map and check keys and values as Kubernetes does. */
bool mesh_read_labels(struct ydec *d, const struct ynode *map,
		      const char *key, struct ykvs *out);
/* {matchLabels: {...}} under key; wildcards rejected as Istio does. */
bool mesh_read_selector(struct ydec *d, const struct ynode *map,
			const char *key, const char *inner,
			struct mesh_selector *out);
bool mesh_read_k8s_protocol(struct ydec *d, const struct ynode *map,
			    const char *key, enum k8s_protocol *out);
/* A port 1..65535 under key; false when absent or bad. */
bool mesh_read_port(struct ydec *d, const struct ynode *map, const char *key,
		    uint16_t *out);

#endif /* WEFT_MESH_T_H */
