/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map weft shares between its BPF objects.  Each object that
 * includes this header declares the same maps; the agent pins them under
 * <pinDir>/maps/ and libbpf makes later objects reuse the pinned ones, so
 * all programs of a node see one set.  Layouts: include/weft/abi.h.
 */
#ifndef WEFT_BPF_MAPS_H
#define WEFT_BPF_MAPS_H

#include "common.h"

/* --- load balancing: route -> cluster -> slot -> backend ----------------- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, struct weft_service_key);
	__type(value, struct weft_service);
} weft_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_CLUSTERS);
	__type(key, __u32);
	__type(value, struct weft_cluster);
} weft_clusters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_CLUSTER_SLOTS);
	__type(key, struct weft_slot_key);
	__type(value, __u32); /* backend id */
} weft_cluster_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct weft_backend);
} weft_backends SEC(".maps");

/* Maglev lookup tables, WEFT_MAGLEV_SIZE backend ids per table. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WEFT_MAGLEV_TABLES * WEFT_MAGLEV_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} weft_maglev SEC(".maps");

/* ROUND_ROBIN position per cluster, per CPU (as Envoy's is per worker). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_MAX_CLUSTERS);
	__type(key, __u32);
	__type(value, __u32);
} weft_rr_state SEC(".maps");

/* LEAST_REQUEST: connections open to each backend (signed: see apply.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WEFT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __s64);
} weft_backend_active SEC(".maps");

/* --- per socket ---------------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_SOCK_REVNAT);
	__type(key, struct weft_revnat_key);
	__type(value, struct weft_revnat_value);
} weft_sock_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct weft_sock_state);
} weft_sock_state SEC(".maps");

/* --- telemetry ----------------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct weft_service_stats);
} weft_service_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, WEFT_MAX_TCP_STATS);
	__type(key, struct weft_tcp_stats_key);
	__type(value, struct weft_tcp_stats);
} weft_tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} weft_counters SEC(".maps");

/* --- AuthorizationPolicy (layouts and generations: include/weft/abi.h) -- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_ADDRS);
	__type(key, struct weft_policy_dst_key);
	__type(value, struct weft_policy_dst_value);
} weft_policy_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_ADDRS);
	__type(key, struct weft_policy_ident_key);
	__type(value, struct weft_policy_ident_value);
} weft_policy_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_CLASSES);
	__type(key, struct weft_policy_src_ident_key);
	__type(value, struct weft_policy_class_value);
} weft_policy_src_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_NETS);
	__type(key, struct weft_policy_src_net_key);
	__type(value, struct weft_policy_class_value);
} weft_policy_src_net SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_VERDICTS);
	__type(key, struct weft_policy_verdict_key);
	__type(value, struct weft_policy_verdict);
} weft_policy_verdict SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_policy_config);
} weft_policy_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, WEFT_MAX_POLICY_STATS);
	__type(key, struct weft_policy_stats_key);
	__type(value, __u64);
} weft_policy_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WEFT_POLICY_EVENTS_BYTES);
} weft_policy_events SEC(".maps");

/* Workload network namespaces this node serves (agent-written). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_NETNS);
	__type(key, __u64);
	__type(value, struct weft_netns_addrs);
} weft_netns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_NODE_ADDRS);
	__type(key, union weft_addr);
	__type(value, __u32);
} weft_node_addrs SEC(".maps");

/* --- userspace-only metadata, pinned with BTF for the CLI and bpftool --- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct weft_service_meta);
} weft_service_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_CLUSTERS);
	__type(key, __u32);
	__type(value, struct weft_cluster_meta);
} weft_cluster_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct weft_backend_meta);
} weft_backend_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_agent_state);
} weft_agent_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct weft_policy_meta);
} weft_policy_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WEFT_MAX_POLICY_ADDRS);
	__type(key, __u32);
	__type(value, struct weft_policy_ident_meta);
} weft_policy_ident_meta SEC(".maps");

/* --- same-node socket acceleration (bpf/sock_accel.bpf.c) ----------------
 * The agent attaches the sk_msg program to weft_accel_hash itself (not to
 * the cgroup): the pinned map owns that attachment.  The value is the
 * socket; read from userspace it is the socket cookie (8 bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, WEFT_MAX_ACCEL_SOCKS);
	__type(key, struct weft_accel_key);
	__type(value, __u64);
} weft_accel_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct weft_accel_sock);
} weft_accel_sock SEC(".maps");

/* Cloned from a listening socket to each socket it creates (BPF_F_CLONE),
 * so the passive end knows its listener at ESTABLISHED. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct weft_accel_listener);
} weft_accel_listener SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_ACCEL_SOCKS);
	__type(key, struct weft_accel_key);
	__type(value, struct weft_accel_flow);
} weft_accel_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_accel_config);
} weft_accel_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_ACCEL__MAX);
	__type(key, __u32);
	__type(value, __u64);
} weft_accel_stats SEC(".maps");

#endif /* WEFT_BPF_MAPS_H */
