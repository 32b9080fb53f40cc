/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A copy of the datapath maps, read once and joined with the metadata maps,
 * so a command prints from memory and never emits half a document when a
 * read fails.  The agent may update the maps while they are read: entries
 * that vanish are skipped (with a warning on stderr where that means the
 * chain route -> cluster -> slot -> backend is broken), entries seen twice
 * (a hash walk restarts when its cursor is deleted) are kept once.
 *
 * Each snapshot_*() reads one part and may be combined with the others;
 * all return 0, or a negative errno after reporting it through ctx.
 */
#ifndef WEFT_CLI_SNAPSHOT_H
#define WEFT_CLI_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "main.h"

#define SNAP_FIELD(type, field) (sizeof(((type *)0)->field) + 1)

struct snap_backend {
	__u32 id;
	struct weft_backend be;
	char workload[SNAP_FIELD(struct weft_backend_meta, workload)]; /* "" */
	__u32 refs;   /* weft_backend_meta: services using it */
	__s64 active; /* weft_backend_active: open connections */
	/*
	 * In a cluster: the slots holding it (its weight).  In a service: the
	 * slots over all the route's clusters.  0 in snapshot.backends.
	 */
	__u32 weight;
};

struct snap_cluster {
	__u32 id;
	struct weft_cluster cl;
	char name[SNAP_FIELD(struct weft_cluster_meta, name)]; /* "" */
	size_t nbackends;
	struct snap_backend *backends; /* distinct, by first slot */
};

/* One destination of a route with its effective weight. */
struct snap_dest {
	__u32 cluster_id;
	__u32 weight;   /* share of the picks: weight / route_total */
	size_t cluster; /* index into snapshot.clusters, SNAP_NONE: absent */
};
#define SNAP_NONE ((size_t)-1)

struct snap_service {
	struct weft_service_key key;
	struct weft_service val;
	char host[SNAP_FIELD(struct weft_service_meta, host)];
	char ns[SNAP_FIELD(struct weft_service_meta, ns)];
	char port_name[SNAP_FIELD(struct weft_service_meta, port_name)];
	/* Filled by snapshot_routes(): */
	size_t ndests;
	struct snap_dest dests[WEFT_MAX_ROUTE_DESTS];
	__u32 route_total;             /* sum of dests[].weight */
	size_t nbackends;
	struct snap_backend *backends; /* distinct over the route, in order */
};

/* A weft_tcp_stats series summed over CPUs. */
struct snap_conn {
	struct weft_tcp_stats_key key;
	struct weft_tcp_stats st;
};

/* What weft_policy_stats counts, per point; see struct snap_policy. */
enum snap_policy_count {
	SNAP_POLICY_ALLOW = 0, /* connections it allowed */
	SNAP_POLICY_DENY,      /* connections it denied */
	SNAP_POLICY_AUDIT,     /* connections its AUDIT rules matched */
	SNAP_POLICY__COUNTS,
};

/*
 * One AuthorizationPolicy and the connections it decided, summed over
 * CPUs; id WEFT_POLICY_NONE stands for the decisions no policy made
 * (no-allow-policy, no-allow-match without rules, no-entry, ...).
 */
struct snap_policy {
	__u32 id;     /* stable id (weft_policy_meta) or WEFT_POLICY_NONE */
	bool named;   /* found in weft_policy_meta; else gone since counted */
	char ns[SNAP_FIELD(struct weft_policy_meta, ns)];
	char name[SNAP_FIELD(struct weft_policy_meta, name)];
	__u8 action;  /* enum istio_authz_action, when named */
	bool enforced;
	__u32 rules;
	__u64 n[WEFT_POLICY_POINT__MAX][SNAP_POLICY__COUNTS];
};

struct snapshot {
	size_t nservices;
	struct snap_service *services; /* by host, then VIP, port, protocol */
	size_t nclusters;
	struct snap_cluster *clusters; /* by id */
	size_t nbackends;
	struct snap_backend *backends; /* by id */
	size_t nconns;
	struct snap_conn *conns;       /* by service id, backend id, source */
	size_t npolicies;
	/* by namespace and name, then the gone ones by id, WEFT_POLICY_NONE
	 * (always there) last */
	struct snap_policy *policies;
	/* Decisions by reason and point (AUDIT matches are not decisions). */
	__u64 reasons[WEFT_POLICY_REASON__MAX][WEFT_POLICY_POINT__MAX];
};

/* weft_services with their metadata (routes unresolved). */
int snapshot_services(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap);
/*
 * Clusters with their backends: every weft_clusters entry when all is
 * set, else those the routes of snap->services name.
 */
int snapshot_clusters(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap, bool all);
/* Join services to clusters (after snapshot_services and _clusters). */
int snapshot_routes(struct cli_ctx *ctx, struct snapshot *snap);
/* Every weft_backends entry. */
int snapshot_backends(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap);
/* Every weft_tcp_stats series, summed over CPUs. */
int snapshot_conns(struct cli_ctx *ctx, const struct datapath_maps *maps,
		   struct snapshot *snap);
/* Every policy of weft_policy_meta and every weft_policy_stats row. */
int snapshot_policies(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap);
void snapshot_free(struct snapshot *snap); /* accepts a zeroed snapshot */

/* Lookups by id in a snapshot; NULL when absent. */
const struct snap_backend *snapshot_backend(const struct snapshot *snap,
					    __u32 id);

/* ---- output shared by the commands ---- */

/*
 * "10.0.0.1:8080*2,10.0.0.2:8080" (a weight above 1 after the '*') into a
 * new string, "" for none; NULL when out of memory.
 */
char *snapshot_endpoints(const struct snap_backend *b, size_t n);
/* A JSON array of {"id","address","port","workload","weight","active"}. */
void snapshot_backends_json(struct json_writer *w, const struct snap_backend *b,
			    size_t n);

#endif /* WEFT_CLI_SNAPSHOT_H */
