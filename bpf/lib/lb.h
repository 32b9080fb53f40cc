/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect-time service load balancing: VIP:port -> backend, chosen once per
 * socket (connect) or per datagram (unconnected sendmsg), never per packet.
 * The maps follow the service -> backend-slot -> backend split described in
 * include/weft/abi.h; the reverse map lets recvmsg/getpeername show the VIP.
 */
#ifndef WEFT_BPF_LB_H
#define WEFT_BPF_LB_H

#include "common.h"
#include "counters.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_BACKEND_SLOTS);
	__type(key, struct weft_service_key);
	__type(value, struct weft_service_value);
} weft_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct weft_backend);
} weft_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_SOCK_REVNAT);
	__type(key, struct weft_revnat_key);
	__type(value, struct weft_revnat_value);
} weft_sock_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct weft_service_stats);
} weft_service_stats SEC(".maps");

/* Userspace-only metadata, defined here so it is pinned with BTF. */
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

/* Set by the agent before load when the kernel has bpf_set_retval (5.18+). */
const volatile bool have_set_retval = false;

enum lb_verdict {
	LB_PASS = 0,       /* not a service: leave the address alone */
	LB_TRANSLATED,     /* addr and port now name a backend */
	LB_REFUSE,         /* a service, but no backend can take it */
};

static __always_inline void lb_addr_from_v4(union weft_addr *addr, __be32 ip)
{
	addr->w[0] = 0;
	addr->w[1] = 0;
	addr->w[2] = bpf_htonl(0x0000ffff);
	addr->w[3] = ip;
}

static __always_inline struct weft_service_stats *lb_stats(__u32 service_id)
{
	return bpf_map_lookup_elem(&weft_service_stats, &service_id);
}

/*
 * Translate (*addr, *port) if it is a service VIP.  `connected` says whether
 * the choice holds for the socket's life (connect) or for one datagram.
 * On LB_TRANSLATED a reverse entry keyed by the socket cookie is recorded so
 * that replies and getpeername() show the VIP.
 */
static __always_inline enum lb_verdict
lb_translate(struct bpf_sock_addr *ctx, union weft_addr *addr, __be16 *port,
	     __u8 proto, bool connected)
{
	struct weft_service_key key = {};
	struct weft_service_value *svc, *slot;
	struct weft_service_stats *stats;
	struct weft_revnat_key rkey = {};
	struct weft_revnat_value rval = {};
	struct weft_backend *backend;
	__u16 count;

	key.vip = *addr;
	key.port = *port;
	key.proto = proto;
	svc = bpf_map_lookup_elem(&weft_services, &key);
	if (!svc)
		return LB_PASS;

	stats = lb_stats(svc->service_id);
	count = svc->count;
	if (count == 0) {
		counter_inc(WEFT_CNT_LB_NO_BACKEND);
		if (stats)
			stats->no_backend += 1;
		return LB_REFUSE;
	}

	key.slot = (__u16)(bpf_get_prandom_u32() % count) + 1;
	slot = bpf_map_lookup_elem(&weft_services, &key);
	if (unlikely(!slot)) {
		counter_inc(WEFT_CNT_LB_SLOT_MISSING);
		return LB_REFUSE;
	}
	backend = bpf_map_lookup_elem(&weft_backends, &slot->backend_id);
	if (unlikely(!backend)) {
		counter_inc(WEFT_CNT_LB_BACKEND_MISSING);
		return LB_REFUSE;
	}

	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.backend = backend->addr;
	rkey.backend_port = backend->port;
	rval.vip = *addr;
	rval.vip_port = *port;
	if (bpf_map_update_elem(&weft_sock_revnat, &rkey, &rval, BPF_ANY))
		counter_inc(WEFT_CNT_REVNAT_UPDATE_FAIL);

	*addr = backend->addr;
	*port = backend->port;
	counter_inc(WEFT_CNT_LB_HIT);
	if (stats) {
		if (connected)
			stats->connects += 1;
		else
			stats->datagrams += 1;
	}
	return LB_TRANSLATED;
}

/*
 * Undo the translation for what the application reads back: the source of
 * a datagram (recvmsg) or the peer of a socket (getpeername).  Returns true
 * when addr and port were rewritten to the VIP.
 */
static __always_inline bool lb_reverse(void *ctx, union weft_addr *addr,
				       __be16 *port)
{
	struct weft_revnat_key rkey = {};
	struct weft_revnat_value *rval;

	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.backend = *addr;
	rkey.backend_port = *port;
	rval = bpf_map_lookup_elem(&weft_sock_revnat, &rkey);
	if (!rval)
		return false;
	*addr = rval->vip;
	*port = rval->vip_port;
	counter_inc(WEFT_CNT_REVNAT_HIT);
	return true;
}

/*
 * Make the syscall fail with ECONNREFUSED, as a TCP connect to a port with
 * no listener does, so clients fail fast instead of timing out.  Kernels
 * without bpf_set_retval (before 5.18) report EPERM instead.
 */
static __always_inline int lb_refuse(void)
{
	if (have_set_retval)
		bpf_set_retval(-ECONNREFUSED);
	return SYS_REJECT;
}

#endif /* WEFT_BPF_LB_H */
