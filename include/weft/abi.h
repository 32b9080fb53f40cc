/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The weft map ABI: every key and value that crosses the BPF/userspace
 * boundary, included by bpf/ (after vmlinux.h) and by user/ (after
 * <linux/types.h>).  Rules, so both compilers agree on every byte:
 *   - fixed-width __u8..__u64 / __be16 / __be32 only; no pointers, no long;
 *   - every struct is padded explicitly to a multiple of 8 bytes and the
 *     padding is zeroed by the writer (hash keys are compared bytewise);
 *   - a layout change bumps WEFT_ABI_VERSION (pinned maps are reused across
 *     restarts only while their layout matches; see docs/design.md).
 */
#ifndef WEFT_ABI_H
#define WEFT_ABI_H

#ifndef __VMLINUX_H__ /* userspace: BPF programs get the types from vmlinux.h */
#include <linux/types.h>
#endif

#define WEFT_ABI_VERSION 3

/* Map capacities.  Service ids index the per-CPU counter arrays. */
#define WEFT_MAX_SERVICES      65536 /* (vip, port, proto) entries */
#define WEFT_MAX_CLUSTERS      65536
#define WEFT_MAX_CLUSTER_SLOTS 262144 /* all clusters' slots together */
#define WEFT_MAX_BACKENDS      65536
#define WEFT_MAX_SOCK_REVNAT   262144
#define WEFT_MAX_TCP_STATS     65536 /* (service, backend, source) series */
/* A cluster never has more slots than this; bounds the BPF slot pick. */
#define WEFT_MAX_BACKENDS_PER_SERVICE 4096
/* Weighted destinations of one service route (VirtualService route[]). */
#define WEFT_MAX_ROUTE_DESTS 8
/*
 * Maglev: each consistent-hash cluster owns one table of WEFT_MAGLEV_SIZE
 * entries (a prime well above the backend count, so that removing one of N
 * backends remaps about 1/N of the keys) in the flat weft_maglev array.
 */
#define WEFT_MAGLEV_SIZE   4093
#define WEFT_MAGLEV_TABLES 512

/* Names in the metadata maps (FQDNs, policy names), truncated to fit. */
#define WEFT_META_NAME_MAX 128

/*
 * An IP address of either family.  IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d) so that one lookup serves AF_INET sockets, AF_INET6
 * sockets and IPv4-mapped addresses on AF_INET6 sockets alike.
 */
union weft_addr {
	__u8 b[16];
	__be32 w[4];
};

/*
 * The lookup chain of a new connection:
 *
 *   weft_services[vip, port, proto]       the route: up to 8 weighted
 *        |  pick a destination by weight   destinations (clusters)
 *        v
 *   weft_clusters[cluster_id]             policy + number of slots
 *        |  pick a slot by policy
 *        v
 *   weft_cluster_slots[cluster_id, slot]  -> backend_id
 *   weft_backends[backend_id]             -> address, port
 *
 * A route is one map element, so a reader sees the old or the new split
 * whole.  A cluster's slots 0..count-1 are written before the cluster entry
 * that publishes count; slots and backends that fall out of use are deleted
 * only after a grace period (see user/agent/apply.h), so a reader that
 * picked an old slot still finds its backend.
 */
struct weft_service_key {
	union weft_addr vip;
	__be16 port;   /* service port, network order */
	__u8 proto;    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad0;
	__u32 pad1;
};

struct weft_route_dest {
	__u32 cluster_id;
	__u32 weight_end; /* cumulative weight: pick the first r < weight_end */
};

struct weft_service {
	__u32 service_id;   /* index into weft_service_stats and meta */
	__u16 ndests;       /* 0: refuse (every destination weighs 0) */
	__u16 flags;        /* reserved, 0 */
	__u32 weight_total; /* weight_end of the last destination */
	__u32 pad;
	struct weft_route_dest dests[WEFT_MAX_ROUTE_DESTS];
};

/* Load-balancing policies (DestinationRule trafficPolicy.loadBalancer). */
enum weft_lb_policy {
	WEFT_LB_LEAST_REQUEST = 0, /* power of two choices on active conns */
	WEFT_LB_ROUND_ROBIN,       /* per-CPU rotation over the slots */
	WEFT_LB_RANDOM,
	WEFT_LB_MAGLEV,            /* consistent hash of the source address */
	WEFT_LB_PASSTHROUGH,       /* keep the original destination */
	WEFT_LB__MAX,
};

struct weft_cluster {
	__u16 count;        /* slots 0..count-1 in weft_cluster_slots */
	__u8 policy;        /* enum weft_lb_policy */
	__u8 pad0;
	__u32 maglev_table; /* WEFT_LB_MAGLEV: table index in weft_maglev */
};

struct weft_slot_key {
	__u32 cluster_id;
	__u32 slot;
};

/* weft_backends: hash keyed by __u32 backend id (ids are never 0). */
struct weft_backend {
	union weft_addr addr; /* same family as the service VIP */
	__be16 port;          /* network order */
	__u8 pad[6];
};

/*
 * weft_sock_revnat: LRU hash, for unconnected UDP only (connected sockets
 * keep their VIP in weft_sock_state): one entry per (socket, backend) a
 * datagram was sent to, so recvmsg can show the application the VIP it
 * used.  Keyed by socket cookie plus the backend, because a UDP socket that
 * is not connected may talk to several services at once.
 */
struct weft_revnat_key {
	__u64 cookie;
	union weft_addr backend;
	__be16 backend_port;
	__u8 pad[6];
};

struct weft_revnat_value {
	union weft_addr vip;
	__be16 vip_port;
	__u8 pad[6];
};

/* weft_service_stats: per-CPU array indexed by service_id. */
struct weft_service_stats {
	__u64 connects;   /* TCP/UDP connect() translated */
	__u64 datagrams;  /* unconnected UDP sendmsg translated */
	__u64 no_backend; /* refused: the service had no backend */
};

/*
 * weft_sock_state: socket-local storage of a socket translated at
 * connect().  It ties the socket's later events (established, close,
 * release) to its service and backend without any tuple lookup, and holds
 * the VIP that getpeername() and recvmsg() show, so connected sockets
 * never touch the shared weft_sock_revnat map (freed with the socket).
 */
struct weft_sock_state {
	__u32 service_id;
	__u32 cluster_id;
	__u32 backend_id;
	__u32 flags; /* enum weft_sock_flags */
	union weft_addr vip;
	union weft_addr backend;
	__be16 vip_port;
	__be16 backend_port;
	__u32 pad;
};

enum weft_sock_flags {
	WEFT_SOCK_F_ACTIVE = 1 << 0, /* counted in weft_backend_active */
	WEFT_SOCK_F_OPENED = 1 << 1, /* counted as opened in weft_tcp_stats */
	WEFT_SOCK_F_FIN_ACKED = 1 << 2, /* our FIN was acknowledged */
	WEFT_SOCK_F_PEER_FIN = 1 << 3,  /* the peer's FIN arrived */
};

/*
 * weft_tcp_stats: LRU per-CPU hash of TCP connection counters by service,
 * backend and client address, the source of istio_tcp_* metrics
 * (reporter="source").  Bytes are added when the connection closes.
 */
struct weft_tcp_stats_key {
	__u32 service_id;
	__u32 backend_id;
	union weft_addr source;
};

struct weft_tcp_stats {
	__u64 opened;
	__u64 closed;
	__u64 sent_bytes;     /* payload acknowledged by the backend */
	__u64 received_bytes; /* payload received from the backend */
};

/*
 * Datapath-wide counters: per-CPU array indexed by this enum.  Shared
 * with userspace, which names them with weft_counter_name()
 * (user/lib/datapath.h).
 */
enum weft_counter {
	WEFT_CNT_LB_HIT = 0,         /* translated to a backend */
	WEFT_CNT_LB_NO_BACKEND,      /* service with no backend: refused */
	WEFT_CNT_LB_SLOT_MISSING,    /* slot entry absent (mid-update race) */
	WEFT_CNT_LB_BACKEND_MISSING, /* backend id without a backend entry */
	WEFT_CNT_LB_CLUSTER_MISSING, /* route names a cluster not present */
	WEFT_CNT_LB_PASSTHROUGH,     /* PASSTHROUGH cluster: left untouched */
	WEFT_CNT_REVNAT_HIT,         /* recvmsg/getpeername showed the VIP */
	WEFT_CNT_REVNAT_UPDATE_FAIL, /* could not record the reverse entry */
	WEFT_CNT_POLICY_STATS_FULL,  /* weft_policy_stats full: not counted */
	WEFT_CNT_POLICY_EVENTS_LOST, /* weft_policy_events full: event lost */
	WEFT_CNT__MAX,
};

/*
 * ---- AuthorizationPolicy at L4 ----------------------------------------------
 * Compiled by user/lib/policy_compile.c (the lookup chain is described in
 * user/lib/policy.h), enforced by bpf/policy.bpf.c on the SYN that reaches
 * a workload of the cgroup and by connect() of a workload whose network
 * namespace the agent knows (weft_netns).
 *
 * Two generations live side by side: every id the compiler renumbers (set
 * ids, identities) and every address key carries the generation it was
 * written for, and weft_policy_config.active_gen says which one is in
 * force.  The agent writes the inactive generation whole, flips
 * active_gen (one word), and deletes the old rows after a grace period, so
 * a lookup never mixes two compiles.
 */
#define WEFT_MAX_POLICY_ADDRS    131072 /* dst, ident rows (2 generations) */
#define WEFT_MAX_POLICY_CLASSES  262144 /* src_ident rows */
#define WEFT_MAX_POLICY_NETS     131072 /* src_net prefixes */
#define WEFT_MAX_POLICY_VERDICTS 524288
#define WEFT_MAX_POLICIES        65536  /* stable policy ids */
#define WEFT_MAX_POLICY_STATS    65536  /* counter rows */
#define WEFT_MAX_NETNS           16384
#define WEFT_POLICY_EVENTS_BYTES (256 * 1024)

#define WEFT_POLICY_GEN_BIT 0x80000000u /* set ids and identities of gen 1 */
#define WEFT_POLICY_NONE 0xffffffffu    /* no policy / rule */
#define WEFT_POLICY_IDENTITY_UNKNOWN 0  /* not a workload of the mesh */
#define WEFT_POLICY_PROTO_TCP 0x1u      /* enforced_protos bits */
#define WEFT_POLICY_PROTO_UDP 0x2u

/* DENY is 0 so that a zeroed verdict denies. */
enum weft_policy_action {
	WEFT_POLICY_ACTION_DENY = 0,
	WEFT_POLICY_ACTION_ALLOW = 1,
};

enum weft_policy_reason {
	WEFT_POLICY_REASON_NO_POLICY = 0,   /* allow: no policy applies to dst */
	WEFT_POLICY_REASON_NOT_ENFORCED,    /* allow: protocol not enforced (UDP
					     * by default: Istio authorizes TCP) */
	WEFT_POLICY_REASON_NO_ALLOW_POLICY, /* allow: policies apply, none is an
					     * ALLOW, no DENY matched */
	WEFT_POLICY_REASON_ALLOW_MATCH,     /* allow: policy/rule matched */
	WEFT_POLICY_REASON_DENY_MATCH,      /* deny: DENY policy/rule matched */
	WEFT_POLICY_REASON_NO_ALLOW_MATCH,  /* deny: ALLOW policies apply (maybe
					     * without rules), none matched */
	WEFT_POLICY_REASON_ALLOW_L7_ONLY,   /* deny: no ALLOW matched; policy/rule
					     * would on its L4 parts, but uses L7
					     * fields, which never match at L4 */
	WEFT_POLICY_REASON_CUSTOM_UNSUPPORTED, /* deny: a CUSTOM policy/rule
					     * matched on its L4 parts; ext_authz
					     * cannot be asked at L4 (fail closed) */
	WEFT_POLICY_REASON_NO_ENTRY,        /* deny: tables incomplete */
	WEFT_POLICY_REASON__MAX,
};

#define WEFT_POLICY_F_AUDIT 0x01 /* an AUDIT policy matched: audit_policy/rule */

/*
 * weft_policy_verdict value.  In the maps `policy` and `audit_policy` are
 * stable policy ids (weft_policy_meta); in the compiler's tables they index
 * policy_state.policies.
 */
struct weft_policy_verdict {
	__u8 action;        /* enum weft_policy_action */
	__u8 reason;        /* enum weft_policy_reason */
	__u8 flags;         /* WEFT_POLICY_F_* */
	__u8 pad0;
	__u32 policy;       /* deciding policy or WEFT_POLICY_NONE */
	__u32 rule;         /* its rule index or WEFT_POLICY_NONE */
	__u32 audit_policy; /* first matching AUDIT policy or WEFT_POLICY_NONE */
	__u32 audit_rule;
	__u32 pad1;
};

/* weft_policy_dst: hash, destination workload address -> set. */
struct weft_policy_dst_key {
	union weft_addr addr;
	__u32 gen;          /* generation: 0 or 1 */
	__u32 pad;
};

struct weft_policy_dst_value {
	__u32 set_id;       /* >= 1, WEFT_POLICY_GEN_BIT for generation 1 */
	__u32 pad;
};

/* weft_policy_ident: hash, workload address -> identity. */
struct weft_policy_ident_key {
	union weft_addr addr;
	__u32 gen;
	__u32 pad;
};

struct weft_policy_ident_value {
	__u32 identity;     /* >= 1, WEFT_POLICY_GEN_BIT for generation 1 */
	__u32 pad;
};

/* weft_policy_src_ident: hash, (set, identity) -> identity class. */
struct weft_policy_src_ident_key {
	__u32 set_id;
	__u32 identity;     /* unknown (0) included */
};

struct weft_policy_class_value {
	__u32 class_id;
	__u32 pad;
};

/*
 * weft_policy_src_net: LPM trie, (set, source prefix) -> address class.
 * prefixlen counts the set id too: 32 + the prefix in 128-bit space (an
 * IPv4 /24 is 32 + 96 + 24).  addr has its host bits cleared.
 */
struct weft_policy_src_net_key {
	__u32 prefixlen;
	__u32 set_id;
	union weft_addr addr;
};

/* weft_policy_verdict: hash; port 0 is the set's default for the pair. */
struct weft_policy_verdict_key {
	__u32 set_id;
	__u32 id_class;
	__u32 ip_class;
	__be16 port;
	__u8 proto;         /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 pad;
};

/* weft_policy_config: array of one entry, written last by each apply. */
struct weft_policy_config {
	__u32 active_gen;      /* 0 or 1 */
	__u32 enforced_protos; /* WEFT_POLICY_PROTO_* */
	__u32 nsets;           /* 0: no policy anywhere, skip every lookup */
	__u32 pad;
	__u64 generation;      /* agent config generation it belongs to */
};

/* Where a verdict was reached. */
enum weft_policy_point {
	WEFT_POLICY_POINT_INBOUND = 0, /* SYN arriving at a workload */
	WEFT_POLICY_POINT_CONNECT = 1, /* connect() of a known workload */
	WEFT_POLICY_POINT__MAX,
};

/*
 * weft_policy_stats: per-CPU hash of connections decided, by policy (the
 * deciding one, or the AUDIT one when audit is 1), point, action and
 * reason.  Per-reason totals are sums over policies.
 */
struct weft_policy_stats_key {
	__u32 policy;       /* stable id or WEFT_POLICY_NONE */
	__u8 point;         /* enum weft_policy_point */
	__u8 action;
	__u8 reason;
	__u8 audit;         /* 1: counts AUDIT matches of `policy` */
};

/* weft_policy_meta: hash, stable policy id -> name (never read by BPF). */
struct weft_policy_meta {
	char ns[64];
	char name[WEFT_META_NAME_MAX];
	__u8 action;        /* enum istio_authz_action (user/lib/mesh.h) */
	__u8 enforced;      /* 0: dry-run or targetRefs only */
	__u16 pad0;
	__u32 rules;
};

/* weft_policy_ident_meta: hash, tagged identity -> SPIFFE principal. */
struct weft_policy_ident_meta {
	char principal[192]; /* <trust domain>/ns/<ns>/sa/<sa> */
};

/* One connection as policy decides it.  Addresses as in weft_addr; ports
 * network order. */
struct weft_policy_conn {
	union weft_addr src;
	union weft_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 point;         /* enum weft_policy_point */
	__u8 pad[2];
};

/*
 * weft_policy_events: ring buffer of deny and audit decisions, read by
 * `weft monitor`.
 */
struct weft_policy_event {
	__u64 ktime_ns;     /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 cgroup_id;    /* cgroup of the local socket */
	struct weft_policy_conn conn;
	struct weft_policy_verdict verdict;
	__u32 src_identity; /* tagged; weft_policy_ident_meta names it */
	__u32 pad1;
};

/*
 * weft_netns: hash, network namespace cookie (SO_NETNS_COOKIE) -> the
 * workload addresses of that namespace, written by the agent for every
 * namespace it serves, so connect() knows its workload's source address
 * before the socket is bound.
 */
struct weft_netns_addrs {
	union weft_addr ip4; /* IPv4-mapped; valid when WEFT_NETNS_F_IP4 */
	union weft_addr ip6; /* valid when WEFT_NETNS_F_IP6 */
	__u32 flags;
	__u32 pad;
};

#define WEFT_NETNS_F_IP4 0x1u
#define WEFT_NETNS_F_IP6 0x2u

/*
 * weft_node_addrs: hash, workload address (IPv4-mapped or IPv6) -> 1, for
 * the namespaces of weft_netns that a process of the served cgroup lives
 * in: the managed workloads of this node.  Same-node
 * acceleration lets a client socket into its socket hash only when it
 * connected to one of them (or to loopback): a connection to anywhere
 * else can have no peer socket here, and joining and leaving the hash
 * would cost it a few microseconds.
 */
#define WEFT_MAX_NODE_ADDRS (2 * WEFT_MAX_NETNS)

/*
 * Metadata maps: written by the agent, never read by BPF.  They let the CLI
 * and `bpftool map dump` name what the datapath maps only number.
 *   weft_service_meta: hash, __u32 service_id -> struct weft_service_meta
 *   weft_backend_meta: hash, __u32 backend_id -> struct weft_backend_meta
 *   weft_cluster_meta: hash, __u32 cluster_id -> struct weft_cluster_meta
 */
struct weft_service_meta {
	char host[WEFT_META_NAME_MAX]; /* FQDN, truncated to fit */
	char ns[64];
	char port_name[32];
	union weft_addr vip;
	__be16 port;
	__u8 proto;
	__u8 pad[5];
};

struct weft_cluster_meta {
	char name[WEFT_META_NAME_MAX + 64]; /* outbound|port|subset|fqdn */
};

struct weft_backend_meta {
	char workload[WEFT_META_NAME_MAX]; /* "ns/name", "" if unknown */
	__u32 refs; /* number of services (vip, port, proto) using it */
	__u32 pad;
};

/*
 * weft_agent_state: array of one entry, the agent's last applied state, so
 * the CLI can tell which config generation the datapath runs.
 */
struct weft_agent_state {
	__u64 generation;    /* bumped at every successful apply */
	__u64 applied_ns;    /* CLOCK_REALTIME of that apply */
	__u32 abi_version;   /* WEFT_ABI_VERSION of the writer */
	__u32 services;      /* service (vip, port, proto) entries */
	__u32 backends;
	__u32 pad;
	char node_name[64];
	/* The last config the agent rejected (kept until one is accepted),
	 * so `weft status` can say why the running config did not change. */
	__u64 rejected_ns;      /* CLOCK_REALTIME; 0: the last config applied */
	__u64 rejected_total;   /* configs rejected since the pins exist */
	char rejected_reason[256]; /* first "file:line: what is wrong" */
};

/* --- same-node socket acceleration (docs/design.md) ----------------------- */

#define WEFT_MAX_ACCEL_SOCKS 65536 /* established sockets in weft_accel_hash */

/*
 * weft_accel_hash: socket hash of established TCP sockets of the node's
 * cgroup, keyed by the connection as seen from that socket.  The sk_msg
 * program redirects a send to the socket stored under the reversed key:
 * the peer, found only when its end is managed by this agent too.
 *
 * Addresses are IPv4-mapped for IPv4 (AF_INET sockets and v4-mapped
 * AF_INET6 sockets meet on one key).  netns_cookie is the socket's network
 * namespace cookie when both addresses are loopback, else 0: 127.0.0.1 and
 * ::1 repeat in every pod, but both ends of a loopback connection live in
 * the same namespace, so the cookie tells two pods' loopback connections
 * apart.  Other addresses are unique on a node (pod IPs), and the two ends
 * of a pod-to-pod connection sit in different namespaces, so no cookie
 * could be shared there.
 */
struct weft_accel_key {
	union weft_addr local;
	union weft_addr remote;
	__be16 local_port;
	__be16 remote_port;
	__u16 family; /* of the addresses: AF_INET (mapped) or AF_INET6 */
	__u16 pad;
	__u64 netns_cookie;
};

/*
 * weft_accel_sock: socket-local storage of every socket in
 * weft_accel_hash, written by sockops at ESTABLISHED and then only by the
 * socket's own sk_msg runs (under its socket lock).
 */
struct weft_accel_sock {
	struct weft_accel_key peer; /* the key the peer is stored under */
	__u32 flags;                /* enum weft_accel_sock_flags */
	__u32 pad;
	__u64 sent_bytes;           /* redirected to the peer */
	__u64 unchecked_bytes;      /* redirected since the peer's backlog
				     * was last read */
};

/*
 * weft_accel_flows: hash, the socket's own key (as in weft_accel_hash) ->
 * what its peer's sk_msg program needs to know of it, since an sk_msg
 * program cannot reach another socket's storage.  Added at ESTABLISHED,
 * deleted when the socket reaches TCP_CLOSE.
 */
struct weft_accel_flow {
	/* Kernel address of the socket, read only with
	 * bpf_probe_read_kernel() for its unread redirected bytes (a stale
	 * entry reads garbage, never faults; the worst outcome is a needless
	 * fallback to TCP). */
	__u64 sk_addr;
	__u64 received_bytes; /* redirected to this socket (atomic adds) */
	__u32 conn_counted;   /* active end's entry: 1 once counted */
	/* 1: the socket takes no more redirected data (it is leaving the
	 * hash, see bpf/sock_accel.bpf.c); set and read with atomics. */
	__u32 closed;
};

/*
 * weft_accel_listener: socket storage of a listening socket of the cgroup,
 * cloned into every socket it creates.  Its kernel address, so that the
 * passive end can read its listener's O_NONBLOCK at ESTABLISHED (it has
 * no file of its own before accept(); bpf/lib/accel.h).
 */
struct weft_accel_listener {
	__u64 sk_addr;
};

enum weft_accel_sock_flags {
	WEFT_ACCEL_F_ACTIVE = 1 << 0,      /* this end called connect() */
	WEFT_ACCEL_F_REDIRECTING = 1 << 1, /* it redirected a send once */
	/* Its sends take the TCP stack, for good (the peer is gone, or the
	 * socket is leaving the hash). */
	WEFT_ACCEL_F_TCP = 1 << 2,
	/* Nothing was ever redirected to it: sockops takes it out of the
	 * hash at its next segment, making it plain TCP. */
	WEFT_ACCEL_F_LEAVE = 1 << 3,
	/* Its last send took TCP for now (receiver not accepted yet, or too
	 * far behind): it redirects again only once the receiver has read
	 * every byte it sent through TCP, so no redirected byte overtakes
	 * one that took TCP. */
	WEFT_ACCEL_F_VIA_TCP = 1 << 4,
	/* The peer socket was seen accepted and non-blocking: a valid
	 * receiver from then on (bpf/sock_accel.bpf.c). */
	WEFT_ACCEL_F_PEER_READY = 1 << 5,
};

/*
 * weft_accel_config: array of one entry, written by the agent.  Read when a
 * connection is established only: turning acceleration off leaves open
 * connections on the path they have, new ones take TCP.
 */
struct weft_accel_config {
	__u32 enabled; /* 0: no new socket enters the hash */
	__u32 pad;
};

/*
 * weft_accel_stats: per-CPU array indexed by this enum (names in
 * user/lib/accel.c).  SKIP_* count sockets (each end on its own) whose
 * sends take TCP for good without having redirected; FALLBACK_* count
 * stretches of sends that took TCP on a connection that can redirect:
 * BACKLOG and PEER_NOT_READY end with RESUMED, PEER_GONE is for good.
 */
enum weft_accel_counter {
	WEFT_ACCEL_SOCKETS_ADDED = 0, /* sockets put in weft_accel_hash */
	WEFT_ACCEL_CONNECTIONS,       /* connections with redirected data */
	WEFT_ACCEL_MESSAGES,          /* sends redirected */
	WEFT_ACCEL_BYTES,             /* bytes redirected */
	WEFT_ACCEL_SKIP_DISABLED,     /* acceleration off for the node */
	WEFT_ACCEL_SKIP_PEER_UNMANAGED, /* peer not in the hash: other node,
					 * other cgroup, or not established
					 * yet when this end first sent */
	WEFT_ACCEL_SKIP_HASH_FULL,    /* weft_accel_hash full */
	WEFT_ACCEL_SKIP_INSERT_FAILED, /* other insert error (key exists) */
	WEFT_ACCEL_SKIP_EARLY_DATA,   /* sent data before ESTABLISHED (TFO) */
	/* Sends took TCP while the receiver was too far behind (slow
	 * reader); once per stretch, which ends with RESUMED. */
	WEFT_ACCEL_FALLBACK_BACKLOG,
	WEFT_ACCEL_FALLBACK_PEER_GONE, /* peer socket closed first */
	/* A blocking socket: kept out of the hash at connect(), or taken out
	 * once accepted or at its first send (docs/design.md says why). */
	WEFT_ACCEL_SKIP_BLOCKING,
	/* Sends took TCP while the receiver was not accepted yet, or
	 * blocking (it then leaves the hash); once per stretch. */
	WEFT_ACCEL_FALLBACK_PEER_NOT_READY,
	/* A sender went back from TCP to redirecting: its receiver had read
	 * every byte sent through TCP. */
	WEFT_ACCEL_RESUMED,
	/* A passive socket whose listener was listening before the agent
	 * attached: whether accept() makes it blocking is unknown, so it
	 * stays out (docs/design.md). */
	WEFT_ACCEL_SKIP_LISTENER_UNKNOWN,
	WEFT_ACCEL__MAX,
};

/*
 * Pinned object folders below <pin_dir>/.  Maps live in a folder named for
 * the ABI version, so an agent with a new layout creates its maps beside the
 * old ones, fills them, switches the pinned links over to its programs and
 * only then removes the old folder (see user/agent/loader.h).  bpffs
 * refuses names with a dot, hence the underscore.
 */
#define WEFT_STR_(x) #x
#define WEFT_STR(x) WEFT_STR_(x)
#define WEFT_PIN_MAPS_DIR  "maps_v" WEFT_STR(WEFT_ABI_VERSION)
#define WEFT_PIN_LINKS_DIR "links"

#endif /* WEFT_ABI_H */
