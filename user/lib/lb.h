/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect-time load-balancing state compiled from a mesh_config: the list
 * of (VIP, port, protocol) services and the backends each one translates
 * to.  Pure data, no kernel: the agent diffs it against the pinned maps.
 */
#ifndef WEFT_LB_H
#define WEFT_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/abi.h>

#define LB_NAME_MAX 254 /* an FQDN plus NUL */
#define LB_NS_MAX 64
#define LB_WORKLOAD_MAX 128

struct lb_backend {
	union weft_addr addr; /* same family as the service VIP */
	uint16_t port;        /* host order */
	uint16_t weight;      /* WorkloadEntry weight; 1 when unset */
	char workload[LB_WORKLOAD_MAX]; /* "ns/name" of the Pod or
					 * WorkloadEntry, "" if unknown */
};

/*
 * How a cluster picks a backend for a new connection (DestinationRule
 * loadBalancer).  Values are shared with the datapath (enum weft_lb_policy
 * in include/weft/abi.h).
 */
enum lb_policy {
	LB_POLICY_LEAST_REQUEST = WEFT_LB_LEAST_REQUEST, /* Istio's default */
	LB_POLICY_ROUND_ROBIN = WEFT_LB_ROUND_ROBIN,
	LB_POLICY_RANDOM = WEFT_LB_RANDOM,
	LB_POLICY_MAGLEV = WEFT_LB_MAGLEV, /* consistentHash.useSourceIp */
	LB_POLICY_PASSTHROUGH = WEFT_LB_PASSTHROUGH, /* keep the original
						      * destination */
};

/*
 * A set of backends with one balancing policy: Envoy's cluster, named the
 * way Istio names it ("outbound|9080|v1|reviews.default.svc.cluster.local",
 * the subset part empty when there is none).
 */
struct lb_cluster {
	char name[LB_NAME_MAX + 64];
	char host[LB_NAME_MAX];
	char subset[LB_NS_MAX];   /* "" for all endpoints of the host */
	uint16_t port;            /* the destination service port */
	enum lb_policy policy;
	size_t nbackends;
	struct lb_backend *backends; /* sorted by (addr, port), no duplicates */
};

/* One weighted destination of a service's route. */
struct lb_route_dest {
	size_t cluster;           /* index into lb_state.clusters */
	uint32_t weight;          /* > 0; a share of w / sum(w) */
};

#define LB_MAX_ROUTE_DESTS WEFT_MAX_ROUTE_DESTS

struct lb_service {
	char host[LB_NAME_MAX];  /* FQDN: reviews.default.svc.cluster.local */
	char ns[LB_NS_MAX];
	char port_name[LB_NS_MAX]; /* "" when the port is unnamed */
	union weft_addr vip;
	uint16_t port;           /* host order */
	uint8_t proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	size_t nbackends;
	struct lb_backend *backends; /* sorted by (addr, port), no duplicates */
	/*
	 * Where new connections go: the first matching VirtualService tcp[]
	 * (or tls[]) rule's weighted destinations, else the service's own
	 * cluster (all of `backends`) with weight 1.  ndests == 0 only when
	 * every destination weighs 0: connections are refused.
	 */
	size_t ndests;
	struct lb_route_dest dests[LB_MAX_ROUTE_DESTS];
	char route[LB_NAME_MAX];  /* "ns/name" of the VirtualService, or "" */
};

/*
 * A workload the mesh knows (Pod or WorkloadEntry) by address: who is on
 * the other side of a connection, for metric labels now and for identity
 * and policy later.
 */
struct lb_workload {
	union weft_addr addr;
	char ns[LB_NS_MAX];
	char name[LB_WORKLOAD_MAX];    /* Istio's workload name: the Pod's
					* owning Deployment/StatefulSet/... when
					* known (ReplicaSet hash stripped), else
					* the Pod or WorkloadEntry name */
	char service_account[LB_NS_MAX]; /* "default" when unset */
	char app[LB_NS_MAX];           /* canonical service: label
					* service.istio.io/canonical-name, else
					* app.kubernetes.io/name, else app, else
					* the workload name */
	char version[LB_NS_MAX];       /* canonical revision, "latest" if none */
};

struct lb_state {
	size_t nservices;
	struct lb_service *services; /* sorted by (vip, port, proto), unique */
	size_t nclusters;
	struct lb_cluster *clusters; /* sorted by name, unique */
	size_t nworkloads;
	struct lb_workload *workloads; /* sorted by addr, unique (first wins) */
};

struct mesh_config;

/*
 * Compile cfg into *out.  Returns 0, or a negative errno after reporting
 * "file:line: what is wrong" for conflicts only visible across resources
 * (two services claiming the same VIP:port/proto).
 *
 * Sources of services, in this order:
 *   - Kubernetes Service with spec.clusterIP(s) (not "None"): one entry per
 *     clusterIP x port (protocol TCP unless UDP; SCTP skipped with a notice).
 *     Backends: ready endpoints of its EndpointSlices (label
 *     kubernetes.io/service-name) whose port name matches, else of its
 *     Endpoints object, else the ready Pods its spec.selector matches, with
 *     targetPort (a number, or a container port name resolved on each Pod).
 *   - Istio ServiceEntry with addresses (single IPs; a CIDR wider than one
 *     address is skipped with a notice) and resolution STATIC or DNS with IP
 *     endpoints: endpoints[] (inline WorkloadEntries) or workloadSelector
 *     over WorkloadEntries and Pods of its namespace.  The endpoint port is
 *     endpoint.ports[port.name], else port.targetPort, else port.number.
 *     resolution NONE compiles to nothing (original destination is kept).
 * Backends of the other address family than the VIP are left out.
 */
int lb_compile(const struct mesh_config *cfg, struct lb_state *out);

void lb_state_free(struct lb_state *state); /* accepts NULL, zeroes it */

/*
 * Every workload address a config declares, in the order and with the rank
 * that decide which claimant of an address wins (lowest rank, then first):
 * Pod IPs (hostNetwork Pods left out; rank 1 when the Pod has finished or is
 * being deleted), WorkloadEntry addresses, inline ServiceEntry endpoints.
 * lb_state.workloads and the policy compiler's label index both come from
 * this one walk.  fn returns false to stop; the walk then returns false.
 */
struct ykvs;
struct mesh_workload_addr {
	const union weft_addr *addr;
	const char *ns;
	const char *name;         /* Istio's workload name, name_len bytes */
	size_t name_len;
	const char *service_account; /* NULL when unset */
	const struct ykvs *labels;   /* first source of labels */
	const struct ykvs *labels2;  /* fallback (WorkloadEntry metadata), NULL */
	int rank;
};

bool mesh_workload_addrs_each(const struct mesh_config *cfg,
			      bool (*fn)(void *ctx,
					 const struct mesh_workload_addr *w),
			      void *ctx);

/*
 * Greatest common divisor, for reducing weights (3:1, not 30:10) before
 * they become slots or Maglev turns.  lb_gcd(0, x) == x.
 */
static inline uint32_t lb_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Address helpers shared by the agent, the CLI and tests. */
int weft_addr_parse(const char *text, union weft_addr *out); /* 0 / -EINVAL */
int weft_addr_is_v4(const union weft_addr *addr);
/* "10.0.0.1" or "fd00::1"; buf needs 46 bytes (INET6_ADDRSTRLEN). */
const char *weft_addr_str(const union weft_addr *addr, char *buf, size_t len);

#endif /* WEFT_LB_H */
