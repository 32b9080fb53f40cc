/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lb_compile() internals, shared by its parts and nothing else:
 *
 *   lb_compile.c   services (VIP, port, proto) and their backends, the
 *                  endpoint readers every part uses, assembly, free;
 *   lb_route.c     VirtualService tcp[]/tls[] rules -> weighted cluster
 *                  requests per service;
 *   lb_cluster.c   cluster requests -> unique clusters: backends (subsets)
 *                  and policy (DestinationRule);
 *   lb_workload.c  the workload table (Pods, WorkloadEntries).
 *
 * One struct lb_build carries the state of one compile; every part reports
 * config problems with pr_warn("file:line: ...") and counts them in
 * b->errors (the compile then fails with -EINVAL), and sets b->err on
 * allocation failure.
 */
#ifndef WEFT_LB_INTERNAL_H
#define WEFT_LB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb.h"
#include "mesh-t.h"

#define LB_ROOT_NAMESPACE "istio-system"

/* A growing list of backends. */
struct lb_bset {
	struct lb_backend *v;
	size_t n, cap;
};

/*
 * Where endpoints go and which ones are wanted: only the family of
 * `family` (NULL: both) and, when `subset` is set, only endpoints whose
 * labels hold every subset label (an endpoint with unknown labels matches
 * only a subset without labels).
 */
struct lb_sink {
	struct lb_bset *set;
	const union weft_addr *family;
	const struct ykvs *subset;
};

/* How a port's traffic is routed (the VirtualService list it takes). */
enum lb_port_class {
	LB_PORT_TCP,  /* tcp[]: TCP, UDP, Mongo, MySQL, Redis, sniffed, ... */
	LB_PORT_TLS,  /* tls[] by SNI, then tcp[]: TLS, HTTPS */
	LB_PORT_HTTP, /* http[]: the proxy's business, not compiled here */
};

/* A service being built, with what is needed to name and route it. */
struct lb_entry {
	struct lb_service svc;
	struct lb_bset bs;
	enum mesh_kind kind;            /* SERVICE or SERVICE_ENTRY */
	const struct mesh_meta *owner;
	const void *obj;                /* k8s_service / istio_service_entry */
	enum lb_port_class pclass;
	size_t order;
};

/*
 * Resources looked up by (namespace, key), sorted, so that a lookup visits
 * only its own namespace: keeps lb_compile near O(n log n).
 */
struct lb_ref {
	const char *ns;
	const char *key;
	const void *obj;
};

struct lb_refs {
	struct lb_ref *r;
	size_t n;
};

/* A destination host of the registry: a Service's FQDN or an SE host. */
struct lb_host {
	char *name;                /* owned */
	enum mesh_kind kind;
	const void *obj;
	size_t order;              /* Services first, then SEs, load order */
};

/* A host pattern of a VirtualService or DestinationRule, resolved. */
struct lb_hostref {
	char *host;                /* owned; FQDN, "*.suffix" or "*" */
	size_t idx;                /* index in cfg->virtual_services / dr */
};

/* Host patterns: exact ones sorted by (host nocase, idx), wildcards in
 * load order. */
struct lb_hostrefs {
	struct lb_hostref *v;
	size_t n, cap;
};

/*
 * A cluster asked for by a service (its own) or by a route destination,
 * before deduplication.  `cluster` is filled by lb_clusters_build().
 */
struct lb_creq {
	const char *host;          /* owned by the build (hosts or strs) */
	const char *subset;        /* "" for none */
	uint16_t port;
	const struct mesh_meta *vs; /* asking VirtualService, NULL: service */
	const void *src;           /* its route destination (notices once) */
	unsigned int line;
	size_t cluster;
};

struct lb_build {
	const struct mesh_config *cfg;
	int err;                   /* -ENOMEM */
	size_t errors;             /* config problems reported */

	struct lb_entry *e;        /* services; after lb_assemble() e[i] is
				    * out->services[i] */
	size_t n, cap;

	struct lb_refs pods, pods_by_name, slices, endpoints, wes;

	struct lb_host *hosts;     /* sorted by (name nocase, order) */
	size_t nhosts;

	struct lb_hostrefs vs_exact, vs_wild;  /* mesh VirtualServices */
	struct lb_hostrefs dr_exact, dr_wild;  /* DestinationRules in use */

	struct lb_creq *req;
	size_t nreq, reqcap;

	char **strs;               /* strings owned by the build */
	size_t nstrs, strcap;

	const void **noticed;      /* things already reported once */
	size_t nnoticed, noticecap;
};

/* ---- lb_compile.c ---- */

/* First ref of (ns, key); key NULL: of ns.  refs->n when none. */
size_t lb_refs_first(const struct lb_refs *refs, const char *ns,
		     const char *key);
bool lb_refs_match(const struct lb_refs *refs, size_t i, const char *ns,
		   const char *key);
#define LB_REFS_FOR_EACH(i, refs, ns, key)                       \
	for (size_t i = lb_refs_first((refs), (ns), (key));      \
	     lb_refs_match((refs), i, (ns), (key)); i++)

/* true the first time for key: notices are printed once per compile. */
bool lb_notice_once(struct lb_build *b, const void *key);
/* Keep s (malloc'd) until the end of the compile; NULL on ENOMEM. */
char *lb_keep(struct lb_build *b, char *s);

/* Every label of want is in have, with the same value. */
bool lb_labels_match(const struct ykvs *want, const struct ykvs *have);

/* Ready endpoints of one Service port / ServiceEntry port into sink. */
void lb_k8s_backends(struct lb_build *b, const struct k8s_service *svc,
		     const struct k8s_service_port *sp,
		     const struct lb_sink *sink);
void lb_se_backends(struct lb_build *b, const struct istio_service_entry *se,
		    const struct istio_se_port *p, const struct lb_sink *sink);
/* Sort by (addr, port) and keep one backend per pair. */
void lb_backends_sort(struct lb_backend *v, size_t *n);

/* ---- hosts (lb_route.c) ---- */

/* "name" -> "name.<ns>.svc.cluster.local"; anything with a dot, "*..."
 * and IPs as written.  The result lives as long as the build (NULL:
 * ENOMEM); needs lb_hosts_build() first. */
const char *lb_host_resolve(struct lb_build *b, const char *host,
			    const char *ns);
/* pattern ("a.b", "*.b" or "*") covers host (case-insensitive). */
bool lb_host_covers(const char *pattern, const char *host);
/* Registry entries for host: first index and count (0 when unknown). */
size_t lb_host_find(const struct lb_build *b, const char *host, size_t *n);
int lb_hosts_build(struct lb_build *b);

/* Add host, resolved in ns, to exact or (a "*" pattern) to wild. */
int lb_hostrefs_add(struct lb_build *b, struct lb_hostrefs *exact,
		    struct lb_hostrefs *wild, const char *host,
		    const char *ns, size_t idx);
void lb_hostrefs_sort(struct lb_hostrefs *r);
/* First entry of r (sorted) for host, and how many there are. */
size_t lb_hostrefs_find(const struct lb_hostrefs *r, const char *host,
			size_t *count);
void lb_hostrefs_free(struct lb_hostrefs *r);
/* exportTo as seen by a node serving every namespace: hidden only when
 * every entry is "~". */
bool lb_export_visible(const struct ystrv *export_to);

/* ---- lb_route.c ---- */

int lb_routes_build(struct lb_build *b, struct lb_state *out);

/* ---- lb_cluster.c ---- */

int lb_dr_index(struct lb_build *b);
/* Deduplicate b->req into out->clusters, fill backends and policies,
 * point every service's dests at them. */
int lb_clusters_build(struct lb_build *b, struct lb_state *out);

/* ---- lb_workload.c ---- */

int lb_workloads_build(struct lb_build *b, struct lb_state *out);

#endif /* WEFT_LB_INTERNAL_H */
