// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup sock_addr programs: connect-time service load balancing.
 *
 *   connect4/6      TCP and connected UDP: VIP:port -> backend, once
 *   sendmsg4/6      unconnected UDP: the same, per datagram
 *   recvmsg4/6      unconnected UDP: replies appear to come from the VIP
 *   getpeername4/6  the application sees the VIP it dialled
 *   sock_release    a released socket stops counting as an active
 *                   connection of its backend (LEAST_REQUEST)
 *
 * AF_INET6 sockets reach the *6 programs for IPv6 and for IPv4-mapped
 * addresses alike; weft_addr keeps IPv4 mapped, so one lookup serves both.
 *
 * connect() also enforces AuthorizationPolicy for the destination it
 * finally reaches (the backend, after translation) when the agent knows
 * the caller's network namespace, and so its workload address
 * (weft_netns): a denied connect() fails at once with EACCES instead of
 * waiting for the destination to drop its SYN (bpf/policy.bpf.c).
 */
#include "lib/lb.h"
#include "lib/policy.h"

#ifndef EACCES
#define EACCES 13
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline bool lb_proto_supported(__u32 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static __always_inline void ctx_load6(struct bpf_sock_addr *ctx,
				      union weft_addr *addr)
{
	addr->w[0] = ctx->user_ip6[0];
	addr->w[1] = ctx->user_ip6[1];
	addr->w[2] = ctx->user_ip6[2];
	addr->w[3] = ctx->user_ip6[3];
}

static __always_inline void ctx_store6(struct bpf_sock_addr *ctx,
				       const union weft_addr *addr)
{
	ctx->user_ip6[0] = addr->w[0];
	ctx->user_ip6[1] = addr->w[1];
	ctx->user_ip6[2] = addr->w[2];
	ctx->user_ip6[3] = addr->w[3];
}

/* Is a connect() from this socket's namespace to dst:port allowed? */
static __always_inline bool sock_policy_allows(struct bpf_sock_addr *ctx,
					       const union weft_addr *dst,
					       __be16 port, __u32 proto)
{
	const struct weft_policy_config *cfg = policy_config();
	struct weft_netns_addrs *ns;
	struct weft_policy_conn c = { .point = WEFT_POLICY_POINT_CONNECT };
	__u64 cookie;

	if (!policy_active(cfg, (__u8)proto))
		return true;
	cookie = bpf_get_netns_cookie(ctx);
	ns = bpf_map_lookup_elem(&weft_netns, &cookie);
	if (!ns)
		return true; /* unknown workload: the destination decides */
	if (dst->w[0] == 0 && dst->w[1] == 0 &&
	    dst->w[2] == bpf_htonl(0x0000ffff)) {
		if (!(ns->flags & WEFT_NETNS_F_IP4))
			return true;
		c.src = ns->ip4;
	} else {
		if (!(ns->flags & WEFT_NETNS_F_IP6))
			return true;
		c.src = ns->ip6;
	}
	c.dst = *dst;
	c.dport = port;
	c.proto = (__u8)proto;
	return policy_check(cfg, &c,
			    have_current_cgroup_id ? bpf_get_current_cgroup_id() : 0) ==
	       WEFT_POLICY_ACTION_ALLOW;
}

/* connect() denied by policy: EACCES (EPERM before bpf_set_retval). */
static __always_inline int sock_policy_refuse(void)
{
	if (have_set_retval)
		bpf_set_retval(-EACCES);
	return SYS_REJECT;
}

static __always_inline int sock4_forward(struct bpf_sock_addr *ctx,
					 bool connected)
{
	struct lb_choice choice;
	union weft_addr addr;
	__be16 port = (__be16)ctx->user_port;
	__u32 proto = ctx->protocol;

	if (!lb_proto_supported(proto))
		return SYS_PROCEED;
	lb_addr_from_v4(&addr, ctx->user_ip4);
	switch (lb_translate(ctx, &addr, &port, proto, connected, &choice)) {
	case LB_TRANSLATED:
		if (connected && !sock_policy_allows(ctx, &addr, port, proto))
			return sock_policy_refuse();
		/* IPv4 VIPs only ever carry IPv4 backends (agent contract). */
		if (connected &&
		    !lb_sock_remember(ctx, &choice, &addr, port))
			lb_revnat_record(ctx, &choice, &addr, port);
		ctx->user_ip4 = addr.w[3];
		ctx->user_port = port;
		return SYS_PROCEED;
	case LB_REFUSE:
		return lb_refuse();
	default:
		if (connected && !sock_policy_allows(ctx, &addr, port, proto))
			return sock_policy_refuse();
		return SYS_PROCEED;
	}
}

static __always_inline int sock6_forward(struct bpf_sock_addr *ctx,
					 bool connected)
{
	struct lb_choice choice;
	union weft_addr addr;
	__be16 port = (__be16)ctx->user_port;
	__u32 proto = ctx->protocol;

	if (!lb_proto_supported(proto))
		return SYS_PROCEED;
	ctx_load6(ctx, &addr);
	switch (lb_translate(ctx, &addr, &port, proto, connected, &choice)) {
	case LB_TRANSLATED:
		if (connected && !sock_policy_allows(ctx, &addr, port, proto))
			return sock_policy_refuse();
		if (connected &&
		    !lb_sock_remember(ctx, &choice, &addr, port))
			lb_revnat_record(ctx, &choice, &addr, port);
		ctx_store6(ctx, &addr);
		ctx->user_port = port;
		return SYS_PROCEED;
	case LB_REFUSE:
		return lb_refuse();
	default:
		if (connected && !sock_policy_allows(ctx, &addr, port, proto))
			return sock_policy_refuse();
		return SYS_PROCEED;
	}
}

static __always_inline void sock4_reverse(struct bpf_sock_addr *ctx)
{
	union weft_addr addr;
	__be16 port = (__be16)ctx->user_port;

	lb_addr_from_v4(&addr, ctx->user_ip4);
	if (lb_reverse(ctx, &addr, &port)) {
		ctx->user_ip4 = addr.w[3];
		ctx->user_port = port;
	}
}

static __always_inline void sock6_reverse(struct bpf_sock_addr *ctx)
{
	union weft_addr addr;
	__be16 port = (__be16)ctx->user_port;

	ctx_load6(ctx, &addr);
	if (lb_reverse(ctx, &addr, &port)) {
		ctx_store6(ctx, &addr);
		ctx->user_port = port;
	}
}

SEC("cgroup/connect4")
int weft_connect4(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx, true);
}

SEC("cgroup/connect6")
int weft_connect6(struct bpf_sock_addr *ctx)
{
	return sock6_forward(ctx, true);
}

SEC("cgroup/sendmsg4")
int weft_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx, false);
}

SEC("cgroup/sendmsg6")
int weft_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock6_forward(ctx, false);
}

/* recvmsg and getpeername programs must return 1: they only rewrite. */
SEC("cgroup/recvmsg4")
int weft_recvmsg4(struct bpf_sock_addr *ctx)
{
	sock4_reverse(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/recvmsg6")
int weft_recvmsg6(struct bpf_sock_addr *ctx)
{
	sock6_reverse(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int weft_getpeername4(struct bpf_sock_addr *ctx)
{
	sock4_reverse(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername6")
int weft_getpeername6(struct bpf_sock_addr *ctx)
{
	sock6_reverse(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/sock_release")
int weft_sock_release(struct bpf_sock *sk)
{
	struct weft_sock_state *st;

	st = bpf_sk_storage_get(&weft_sock_state, sk, 0, 0);
	if (st && (st->flags & WEFT_SOCK_F_ACTIVE)) {
		st->flags &= ~WEFT_SOCK_F_ACTIVE;
		lb_active_add(st->backend_id, -1);
	}
	return SYS_PROCEED;
}
