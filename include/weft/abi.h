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

#define WEFT_ABI_VERSION 1

/* Map capacities.  Service ids index the per-CPU counter arrays. */
#define WEFT_MAX_SERVICES      65536 /* (vip, port, proto) entries */
#define WEFT_MAX_BACKEND_SLOTS 262144 /* service slots incl. slot 0 */
#define WEFT_MAX_BACKENDS      65536
#define WEFT_MAX_SOCK_REVNAT   262144
/* A service never has more slots than this; bounds the BPF slot lookup. */
#define WEFT_MAX_BACKENDS_PER_SERVICE 4096

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
 * weft_services: hash, the service -> backend-slot split.
 *   slot 0        the service itself: value.count backend slots follow,
 *                 value.service_id names it in the counter maps;
 *   slot 1..count value.backend_id names a weft_backends entry.
 * Slot entries are written before the slot-0 entry that publishes a new
 * count, so a lookup never sees a count larger than the slots present.
 */
struct weft_service_key {
	union weft_addr vip;
	__be16 port;   /* service port, network order */
	__u8 proto;    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad0;
	__u16 slot;
	__u16 pad1;
};

enum weft_service_flags {
	/* Answer with an explicit refusal when count == 0 (always set today;
	 * a service without the flag would fall through untranslated). */
	WEFT_SVC_F_REFUSE_EMPTY = 1 << 0,
};

struct weft_service_value {
	__u32 backend_id; /* slot > 0 */
	__u32 service_id; /* slot 0: index into weft_service_stats */
	__u16 count;      /* slot 0: number of backend slots */
	__u16 flags;      /* slot 0: enum weft_service_flags */
	__u32 pad;
};

/* weft_backends: hash keyed by __u32 backend id (ids are never 0). */
struct weft_backend {
	union weft_addr addr; /* same family as the service VIP */
	__be16 port;          /* network order */
	__u8 pad[6];
};

/*
 * weft_sock_revnat: LRU hash.  One entry per socket that was translated,
 * so recvmsg and getpeername can show the application the VIP it used.
 * Keyed by socket cookie plus the backend, because a UDP socket that is
 * not connected may talk to several services at once.
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
 * Datapath-wide counters: per-CPU array indexed by this enum.  Shared
 * with userspace, which names them with weft_counter_name()
 * (user/lib/datapath.h).
 */
enum weft_counter {
	WEFT_CNT_LB_HIT = 0,         /* translated to a backend */
	WEFT_CNT_LB_NO_BACKEND,      /* service with no backend: refused */
	WEFT_CNT_LB_SLOT_MISSING,    /* slot entry absent (mid-update race) */
	WEFT_CNT_LB_BACKEND_MISSING, /* backend id without a backend entry */
	WEFT_CNT_REVNAT_HIT,         /* recvmsg/getpeername showed the VIP */
	WEFT_CNT_REVNAT_UPDATE_FAIL, /* could not record the reverse entry */
	WEFT_CNT__MAX,
};

/*
 * Metadata maps: written by the agent, never read by BPF.  They let the CLI
 * and `bpftool map dump` name what the datapath maps only number.
 *   weft_service_meta: hash, __u32 service_id -> struct weft_service_meta
 *   weft_backend_meta: hash, __u32 backend_id -> struct weft_backend_meta
 */
#define WEFT_META_NAME_MAX 128
struct weft_service_meta {
	char host[WEFT_META_NAME_MAX]; /* FQDN, truncated to fit */
	char ns[64];
	char port_name[32];
	union weft_addr vip;
	__be16 port;
	__u8 proto;
	__u8 pad[5];
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
	__u32 services;      /* slot-0 entries written */
	__u32 backends;
	__u32 pad;
	char node_name[64];
};

/* Pinned object names below <pin_dir>/ (maps/ and links/ subfolders). */
#define WEFT_PIN_MAPS_DIR  "maps"
#define WEFT_PIN_LINKS_DIR "links"

#endif /* WEFT_ABI_H */
