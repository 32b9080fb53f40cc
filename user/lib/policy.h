/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Istio AuthorizationPolicy compiled for an L4 enforcement point: flat
 * tables of fixed-size records, each keyed as the BPF map that will hold
 * it, so that deciding a connection is a fixed chain of at most six map
 * lookups whatever the number of rules (no scan over rules anywhere).
 * Pure data, no kernel: the agent loads the tables later (see "For the
 * datapath" at the end).
 *
 * The lookup chain for a connection src -> dst:port/proto (policy_evaluate
 * makes exactly these lookups):
 *
 *   0. proto not in enforced_protos (weft_policy_config)
 *                                        -> ALLOW, NOT_ENFORCED
 *   1. weft_policy_dst[dst]              -> set id; miss: ALLOW, NO_POLICY
 *   2. peer identity: the socket's proven identity (mTLS, later: socket
 *      storage written by the proxy after the handshake) when there is
 *      one, else weft_policy_ident[src]  -> identity; miss: 0 (unknown)
 *   3. weft_policy_src_ident[set, identity] -> identity class;
 *      miss: class 0 (each set numbers its most common class 0, so only
 *      the other identities have rows)
 *   4. weft_policy_src_net[set, src] (LPM) -> address class (always hits:
 *      every set has a ::/0 entry)
 *   5. weft_policy_verdict[set, id class, address class, port, proto],
 *      then the same with port 0 (the set's verdict for every port no rule
 *      names); miss: DENY, NO_ENTRY (fail closed; never happens with a
 *      complete table)
 *
 * Why the source side is split into an identity class and an address
 * class, per destination set: rules test who the peer is (principals,
 * namespaces, serviceAccounts) and where it connects from (ipBlocks,
 * source.ip).  Keeping the two apart lets a proven identity (mTLS) replace
 * the address-derived one in step 2 without recompiling anything, and
 * classing per set keeps the verdict table a sum over sets rather than a
 * product of every set with every source class of the mesh.  Within a set
 * the verdict table holds every (identity class, address class) pair, so
 * it is exact for any peer identity at any address.
 *
 * Classes are deduplicated twice: sources whose facts are equal for every
 * atom (principal value, namespace value, CIDR, ...) of the set share a
 * class, then classes whose verdicts are equal on every port are merged.
 */
#ifndef WEFT_POLICY_H
#define WEFT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/abi.h>

#include "lb.h"

#define POLICY_TRUST_DOMAIN "cluster.local"
#define POLICY_ROOT_NAMESPACE "istio-system"
#define POLICY_PRINCIPAL_MAX (LB_NAME_MAX + 2 * LB_NS_MAX + 8)

#define POLICY_SET_NONE 0           /* no policy applies (not in the map) */

/* "no-policy", "allow-match", "custom-unsupported", ... */
const char *policy_reason_name(enum weft_policy_reason reason);

/* "inbound" (the SYN at the destination), "connect", "unknown". */
const char *policy_point_name(unsigned int point);

/*
 * Table rows: what the agent writes into each map (records in
 * include/weft/abi.h), sorted by key bytes.  Compiled with generation 0:
 * the agent tags ids and keys with the generation it writes (see
 * WEFT_POLICY_GEN_BIT).
 */
struct policy_dst_entry { struct weft_policy_dst_key k; struct weft_policy_dst_value v; };
struct policy_ident_entry { struct weft_policy_ident_key k; struct weft_policy_ident_value v; };
struct policy_src_ident_entry { struct weft_policy_src_ident_key k; struct weft_policy_class_value v; };
struct policy_src_net_entry { struct weft_policy_src_net_key k; struct weft_policy_class_value v; };
struct policy_verdict_entry { struct weft_policy_verdict_key k; struct weft_policy_verdict v; };

/* ---- compiled state (userspace) --------------------------------------- */

/* A peer identity; its id is its index + 1. */
struct policy_identity {
	char principal[POLICY_PRINCIPAL_MAX]; /* <td>/ns/<ns>/sa/<sa> */
	char ns[LB_NS_MAX];
	char sa[LB_NS_MAX];
};

/* One AuthorizationPolicy, in config order (verdict.policy indexes it). */
struct policy_info {
	char ns[LB_NS_MAX];
	char name[LB_NS_MAX * 4];
	__u8 action;          /* enum istio_authz_action */
	bool enforced;        /* false: dry-run, or targetRefs only */
	size_t nrules;
	const char *file;     /* the config's; valid while it lives */
	unsigned int line;
};

/* For explain: which policies a set holds. */
struct policy_set_info {
	size_t npolicies;
	__u32 *policies;      /* indexes into policy_state.policies */
	union weft_addr sample_dst; /* one destination of the set */
};

struct policy_state {
	char trust_domain[LB_NS_MAX * 4];
	__u32 enforced_protos;        /* POLICY_PROTO_* */
	size_t npolicies;
	struct policy_info *policies;
	size_t nidentities;
	struct policy_identity *identities; /* sorted by principal */
	size_t nsets;                 /* including unused set 0 */
	struct policy_set_info *set_info;
	size_t ndst, nident, nsrc_ident, nsrc_net, nverdicts;
	struct policy_dst_entry *dst;
	struct policy_ident_entry *ident;
	struct policy_src_ident_entry *src_ident;
	struct policy_src_net_entry *src_net;
	struct policy_verdict_entry *verdicts;
	size_t nnotices;              /* notices printed while compiling */
};

/* enforced_protos of a node: TCP, and UDP when it authorizes UDP. */
static inline __u32 policy_protos(bool authorize_udp)
{
	return WEFT_POLICY_PROTO_TCP |
	       (authorize_udp ? WEFT_POLICY_PROTO_UDP : 0);
}

struct policy_opts {
	const char *trust_domain;     /* NULL: cluster.local */
	/* Trust domains written in principals that mean ours. */
	const char *const *trust_domain_aliases;
	size_t naliases;
	const char *root_ns;          /* NULL: istio-system */
	__u32 enforced_protos;        /* 0: TCP only */
};

struct mesh_config;

/*
 * Compile cfg's AuthorizationPolicies for lb->workloads (lb_compile's
 * output: destinations and address-derived identities).  Returns 0, or
 * -EINVAL after reporting "file:line: ..." for a policy that cannot be
 * read faithfully (malformed serviceAccounts, serviceAccounts together
 * with principals or namespaces, port 0), or -ENOMEM.  Policies that are
 * accepted but enforced differently at L4 get a notice (pr_info), counted
 * in out->nnotices.
 *
 * Semantics (Istio's, at an L4 point; the choices are listed at the top
 * of policy_compile.c):
 * scope: own namespace, the root namespace mesh-wide, narrowed by
 * selector; targetRefs and dry-run policies are not enforced.  Order:
 * CUSTOM (deny on its rules' L4 parts), DENY, no ALLOW -> allow, ALLOW
 * match -> allow, else deny.  AUDIT only sets WEFT_POLICY_F_AUDIT.  L7 fields:
 * an ALLOW rule using any never matches; DENY, AUDIT and CUSTOM rules
 * match on their L4 parts alone.
 */
int policy_compile(const struct mesh_config *cfg, const struct lb_state *lb,
		   const struct policy_opts *opts, struct policy_state *out);

void policy_state_free(struct policy_state *ps); /* accepts NULL, zeroes */

/* Bytes of keys and values in all tables (what the maps will hold). */
size_t policy_state_bytes(const struct policy_state *ps);

/*
 * Decide src -> dst:port (host order)/proto with the tables only, making
 * the lookups listed at the top.  peer_identity: a proven identity that
 * overrides the address-derived one, or WEFT_POLICY_IDENTITY_UNKNOWN to take it
 * from the address (policy_evaluate).  Returns 0.
 */
int policy_evaluate_peer(const struct policy_state *ps, __u32 peer_identity,
			 const union weft_addr *src,
			 const union weft_addr *dst, uint16_t port,
			 uint8_t proto, struct weft_policy_verdict *out);
int policy_evaluate(const struct policy_state *ps, const union weft_addr *src,
		    const union weft_addr *dst, uint16_t port, uint8_t proto,
		    struct weft_policy_verdict *out);

/* Identity id of a principal ("td/ns/x/sa/y"), 0 when none. */
__u32 policy_identity_find(const struct policy_state *ps,
			   const char *principal);

/*
 * Reference evaluator: walks cfg's policies in order for one connection,
 * following istio-dataplane-spec.md §4 directly (no tables).  Identities
 * come from wl (lb_state.workloads).  Same verdict as policy_evaluate for
 * the same input, policy and rule included.  Returns 0.
 */
int policy_evaluate_model(const struct mesh_config *cfg,
			  const struct lb_workload *wl, size_t nwl,
			  const struct policy_opts *opts,
			  const union weft_addr *src,
			  const union weft_addr *dst, uint16_t port,
			  uint8_t proto, struct weft_policy_verdict *out);

/* ---- internals shared by policy*.c ------------------------------------- */

struct ykvs;
struct mesh_selector;
struct istio_authz_policy;

/* Istio string match: "*" any non-empty, "*suf", "pre*", else exact;
 * a NULL value (attribute absent) never matches. */
bool policy_str_match(const char *pattern, const char *value);

/* "a.b.c.d[/n]" or IPv6[/n] -> masked address and prefix in 128-bit
 * space.  0 or -EINVAL. */
int policy_cidr_parse(const char *text, union weft_addr *addr,
		      unsigned int *plen);
bool policy_cidr_contains(const union weft_addr *net, unsigned int plen,
			  const union weft_addr *addr);
void policy_addr_mask(union weft_addr *addr, unsigned int plen);

/* serviceAccounts value "ns/sa" or "sa" (ns: the policy's); false when
 * malformed. */
bool policy_sa_split(const char *value, const char *policy_ns,
		     const char **ns, size_t *ns_len, const char **sa);

/* A principal value with an alias trust domain rewritten to ours, in buf
 * (or value itself when nothing changes or it does not fit). */
const char *policy_principal_norm(const struct policy_opts *o,
				  const char *value, char *buf, size_t len);

/* true when the condition key is one of the L4 ones (source.ip,
 * source.namespace, source.principal, source.serviceAccount,
 * destination.ip, destination.port). */
bool policy_when_key_l4(const char *key);

/* Labels a selector sees for one workload address, found as lb_compile
 * finds the workload (same sources and precedence as lb_workload.c): Pod
 * labels, WorkloadEntry spec labels over its metadata labels, inline
 * ServiceEntry endpoint labels. */
struct policy_wl_labels {
	union weft_addr addr;
	const struct ykvs *a, *b;     /* b may be NULL */
	int rank;
	size_t order;
};

/* All candidates sorted by (addr, precedence); -ENOMEM. */
int policy_labels_index(const struct mesh_config *cfg,
			struct policy_wl_labels **out, size_t *n);
const struct policy_wl_labels *
policy_labels_find(const struct policy_wl_labels *idx, size_t n,
		   const union weft_addr *addr);
bool policy_selector_matches(const struct mesh_selector *sel,
			     const struct policy_wl_labels *l);

/* Does policy p apply to a workload in ns with labels l? */
bool policy_applies(const struct istio_authz_policy *p, const char *root_ns,
		    const char *wl_ns, const struct policy_wl_labels *l);

/*
 * The datapath: bpf/lib/policy.h makes the lookups above on the
 * weft_policy_* maps, which user/agent/apply_policy.c fills a generation at
 * a time (see include/weft/abi.h and docs/design.md).
 */

#endif /* WEFT_POLICY_H */
