/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect-time service load balancing: VIP:port -> backend, chosen once per
 * socket (connect) or per datagram (unconnected sendmsg), never per packet.
 * The lookup chain (route -> cluster -> slot -> backend) is described in
 * include/weft/abi.h; the reverse map lets recvmsg/getpeername show the VIP.
 */
#ifndef WEFT_BPF_LB_H
#define WEFT_BPF_LB_H

#include "common.h"
#include "counters.h"
#include "maps.h"

/* Set by the agent before load when the kernel has bpf_set_retval (5.18). */
const volatile bool have_set_retval = false;
/* ... and bpf_get_current_cgroup_id in sock_addr programs (policy events
 * name the client's cgroup; 0 without it). */
const volatile bool have_current_cgroup_id = false;

enum lb_verdict {
	LB_PASS = 0,   /* not a service (or PASSTHROUGH): leave it alone */
	LB_TRANSLATED, /* addr and port now name a backend */
	LB_REFUSE,     /* a service, but no backend can take it */
};

/* What a translation chose, for the socket's storage. */
struct lb_choice {
	__u32 service_id;
	__u32 cluster_id;
	__u32 backend_id;
	union weft_addr vip;
	__be16 vip_port;
};

static __always_inline void lb_addr_from_v4(union weft_addr *addr, __be32 ip)
{
	addr->w[0] = 0;
	addr->w[1] = 0;
	addr->w[2] = bpf_htonl(0x0000ffff);
	addr->w[3] = ip;
}

/* Weighted pick among a route's destinations (cumulative weights). */
static __always_inline __u32 lb_route_pick(const struct weft_service *svc)
{
	__u32 r;

	if (svc->ndests <= 1 || svc->weight_total == 0)
		return svc->dests[0].cluster_id;
	r = bpf_get_prandom_u32() % svc->weight_total;
#pragma unroll
	for (int i = 0; i < WEFT_MAX_ROUTE_DESTS; i++) {
		if (i < svc->ndests && r < svc->dests[i].weight_end)
			return svc->dests[i].cluster_id;
	}
	return svc->dests[0].cluster_id;
}

static __always_inline __u32 lb_slot_backend(__u32 cluster_id, __u32 slot)
{
	struct weft_slot_key key = { .cluster_id = cluster_id, .slot = slot };
	__u32 *backend_id = bpf_map_lookup_elem(&weft_cluster_slots, &key);

	if (unlikely(!backend_id)) {
		counter_inc(WEFT_CNT_LB_SLOT_MISSING);
		return 0;
	}
	return *backend_id;
}

static __always_inline __s64 lb_active(__u32 backend_id)
{
	__s64 *active = bpf_map_lookup_elem(&weft_backend_active, &backend_id);

	return active ? *active : 0;
}

/*
 * The client key of consistent hashing: the client's network namespace.
 * Every pod has its own, so on a node it names the client workload the way
 * Istio's useSourceIp does, and unlike the source address it is known
 * before the socket is bound.
 */
static __always_inline __u32 lb_client_hash(void *ctx)
{
	__u64 cookie = bpf_get_netns_cookie(ctx);

	cookie *= 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
	return (__u32)(cookie >> 32);
}

/* Backend id for a new connection to cluster cl, by its policy; 0: none. */
static __always_inline __u32 lb_cluster_pick(void *ctx, __u32 cluster_id,
					     const struct weft_cluster *cl)
{
	__u32 count = cl->count, a, b, ida, idb, *rr;

	switch (cl->policy) {
	case WEFT_LB_MAGLEV: {
		__u32 idx = cl->maglev_table * WEFT_MAGLEV_SIZE +
			    lb_client_hash(ctx) % WEFT_MAGLEV_SIZE;
		__u32 *id = bpf_map_lookup_elem(&weft_maglev, &idx);

		return id ? *id : 0;
	}
	case WEFT_LB_ROUND_ROBIN:
		rr = bpf_map_lookup_elem(&weft_rr_state, &cluster_id);
		if (!rr)
			return lb_slot_backend(cluster_id, 0);
		a = *rr;
		*rr = a + 1;
		return lb_slot_backend(cluster_id, a % count);
	case WEFT_LB_RANDOM:
		return lb_slot_backend(cluster_id,
				       bpf_get_prandom_u32() % count);
	default: /* LEAST_REQUEST: the better of two random choices */
		a = bpf_get_prandom_u32() % count;
		ida = lb_slot_backend(cluster_id, a);
		if (count == 1)
			return ida;
		b = bpf_get_prandom_u32() % count;
		idb = lb_slot_backend(cluster_id, b);
		if (!ida || (idb && lb_active(idb) < lb_active(ida)))
			return idb;
		return ida;
	}
}

static __always_inline void lb_count_no_backend(struct weft_service_stats *stats)
{
	counter_inc(WEFT_CNT_LB_NO_BACKEND);
	if (stats)
		stats->no_backend += 1;
}

/*
 * Translate (*addr, *port) if it is a service VIP.  `connected` says whether
 * the choice holds for the socket's life (connect) or for one datagram.
 * On LB_TRANSLATED a reverse entry keyed by the socket cookie is recorded so
 * that replies and getpeername() show the VIP, and *choice says what was
 * picked.
 */
static __always_inline enum lb_verdict
lb_translate(struct bpf_sock_addr *ctx, union weft_addr *addr, __be16 *port,
	     __u8 proto, bool connected, struct lb_choice *choice)
{
	struct weft_service_key key = {};
	struct weft_service_stats *stats;
	struct weft_revnat_key rkey = {};
	struct weft_revnat_value rval = {};
	struct weft_backend *backend;
	struct weft_cluster *cl;
	struct weft_service *svc;
	__u32 cluster_id, backend_id;

	key.vip = *addr;
	key.port = *port;
	key.proto = proto;
	svc = bpf_map_lookup_elem(&weft_services, &key);
	if (!svc)
		return LB_PASS;

	stats = bpf_map_lookup_elem(&weft_service_stats, &svc->service_id);
	if (svc->ndests == 0) {
		lb_count_no_backend(stats);
		return LB_REFUSE;
	}
	cluster_id = lb_route_pick(svc);
	cl = bpf_map_lookup_elem(&weft_clusters, &cluster_id);
	if (unlikely(!cl)) {
		counter_inc(WEFT_CNT_LB_CLUSTER_MISSING);
		lb_count_no_backend(stats);
		return LB_REFUSE;
	}
	if (cl->policy == WEFT_LB_PASSTHROUGH) {
		counter_inc(WEFT_CNT_LB_PASSTHROUGH);
		return LB_PASS;
	}
	if (cl->count == 0) {
		lb_count_no_backend(stats);
		return LB_REFUSE;
	}
	backend_id = lb_cluster_pick(ctx, cluster_id, cl);
	backend = backend_id ? bpf_map_lookup_elem(&weft_backends, &backend_id)
			     : NULL;
	if (unlikely(!backend)) {
		counter_inc(WEFT_CNT_LB_BACKEND_MISSING);
		lb_count_no_backend(stats);
		return LB_REFUSE;
	}

	/* connected sockets keep the VIP in their own storage */
	if (!connected) {
		rkey.cookie = bpf_get_socket_cookie(ctx);
		rkey.backend = backend->addr;
		rkey.backend_port = backend->port;
		rval.vip = *addr;
		rval.vip_port = *port;
		if (bpf_map_update_elem(&weft_sock_revnat, &rkey, &rval,
					BPF_ANY))
			counter_inc(WEFT_CNT_REVNAT_UPDATE_FAIL);
	}

	choice->vip = *addr;
	choice->vip_port = *port;
	*addr = backend->addr;
	*port = backend->port;
	choice->service_id = svc->service_id;
	choice->cluster_id = cluster_id;
	choice->backend_id = backend_id;
	counter_inc(WEFT_CNT_LB_HIT);
	if (stats) {
		if (connected)
			stats->connects += 1;
		else
			stats->datagrams += 1;
	}
	return LB_TRANSLATED;
}

static __always_inline void lb_active_add(__u32 backend_id, __s64 delta)
{
	__s64 *active = bpf_map_lookup_elem(&weft_backend_active, &backend_id);

	if (active)
		__sync_fetch_and_add(active, delta);
}

/*
 * Remember, in the socket's own storage, what connect() chose: sockops and
 * sock_release find it there, getpeername and recvmsg take the VIP from it,
 * and the backend counts one more active connection until the socket is
 * released.  A socket connected again (UDP may) gives its previous
 * backend's count back first.  Returns false when no storage could be had
 * (memory pressure): the caller then records the VIP in weft_sock_revnat.
 */
static __always_inline bool lb_sock_remember(struct bpf_sock_addr *ctx,
					     const struct lb_choice *choice,
					     const union weft_addr *backend,
					     __be16 backend_port)
{
	struct weft_sock_state *st;
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return false;
	st = bpf_sk_storage_get(&weft_sock_state, sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return false;
	if (st->flags & WEFT_SOCK_F_ACTIVE)
		lb_active_add(st->backend_id, -1);
	st->service_id = choice->service_id;
	st->cluster_id = choice->cluster_id;
	st->backend_id = choice->backend_id;
	st->flags = WEFT_SOCK_F_ACTIVE;
	st->vip = choice->vip;
	st->vip_port = choice->vip_port;
	st->backend = *backend;
	st->backend_port = backend_port;
	lb_active_add(choice->backend_id, 1);
	return true;
}

/* The fallback when a connected socket got no storage. */
static __always_inline void lb_revnat_record(struct bpf_sock_addr *ctx,
					     const struct lb_choice *choice,
					     const union weft_addr *backend,
					     __be16 backend_port)
{
	struct weft_revnat_key rkey = {};
	struct weft_revnat_value rval = {};

	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.backend = *backend;
	rkey.backend_port = backend_port;
	rval.vip = choice->vip;
	rval.vip_port = choice->vip_port;
	if (bpf_map_update_elem(&weft_sock_revnat, &rkey, &rval, BPF_ANY))
		counter_inc(WEFT_CNT_REVNAT_UPDATE_FAIL);
}

/*
 * Undo the translation for what the application reads back: the source of
 * a datagram (recvmsg) or the peer of a socket (getpeername).  Returns true
 * when addr and port were rewritten to the VIP.
 */
static __always_inline bool lb_reverse(struct bpf_sock_addr *ctx,
				       union weft_addr *addr, __be16 *port)
{
	struct weft_revnat_key rkey = {};
	struct weft_revnat_value *rval;
	struct weft_sock_state *st;
	struct bpf_sock *sk = ctx->sk;

	/* a connected socket: its own storage says which VIP it dialled */
	st = sk ? bpf_sk_storage_get(&weft_sock_state, sk, 0, 0) : NULL;
	if (st && st->backend_port == *port &&
	    st->backend.w[0] == addr->w[0] && st->backend.w[1] == addr->w[1] &&
	    st->backend.w[2] == addr->w[2] && st->backend.w[3] == addr->w[3]) {
		*addr = st->vip;
		*port = st->vip_port;
		counter_inc(WEFT_CNT_REVNAT_HIT);
		return true;
	}

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
