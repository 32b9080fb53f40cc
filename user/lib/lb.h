/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect-time load-balancing state compiled from a mesh_config: the list
 * of (VIP, port, protocol) services and the backends each one translates
 * to.  Pure data, no kernel: the agent diffs it against the pinned maps.
 */
#ifndef WEFT_LB_H
#define WEFT_LB_H

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

struct lb_service {
	char host[LB_NAME_MAX];  /* FQDN: reviews.default.svc.cluster.local */
	char ns[LB_NS_MAX];
	char port_name[LB_NS_MAX]; /* "" when the port is unnamed */
	union weft_addr vip;
	uint16_t port;           /* host order */
	uint8_t proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	size_t nbackends;
	struct lb_backend *backends; /* sorted by (addr, port), no duplicates */
};

struct lb_state {
	size_t nservices;
	struct lb_service *services; /* sorted by (vip, port, proto), unique */
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

/* Address helpers shared by the agent, the CLI and tests. */
int weft_addr_parse(const char *text, union weft_addr *out); /* 0 / -EINVAL */
int weft_addr_is_v4(const union weft_addr *addr);
/* "10.0.0.1" or "fd00::1"; buf needs 46 bytes (INET6_ADDRSTRLEN). */
const char *weft_addr_str(const union weft_addr *addr, char *buf, size_t len);

#endif /* WEFT_LB_H */
