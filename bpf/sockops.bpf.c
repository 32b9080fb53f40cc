// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockops: TCP connection lifetime of sockets that weft translated.
 *
 * connect() left the socket's service and backend in weft_sock_state; here
 * the connection is counted as opened once the handshake completes and as
 * closed, with its byte counts, when it reaches TCP_CLOSE.  These are the
 * istio_tcp_* metrics with reporter="source".
 *
 * It also puts every established socket of the cgroup into the socket
 * hash of same-node acceleration (lib/accel.h), whether translated or not.
 */
#include "lib/accel.h"
#include "lib/common.h"
#include "lib/maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * ctx fields are read with volatile loads: left to itself clang turns the
 * family branch into a select between &local_ip4 and &local_ip6[3] and one
 * load through the chosen pointer, which the verifier rejects (a ctx
 * pointer may not be offset).
 */
#define CTX_READ(field) (*(volatile __u32 *)&(field))
static __always_inline void tcp_stats_key(struct bpf_sock_ops *skops,
					  const struct weft_sock_state *st,
					  struct weft_tcp_stats_key *key)
{
	__u32 family = CTX_READ(skops->family);
	__u32 ip4 = CTX_READ(skops->local_ip4);
	__u32 ip6_0 = CTX_READ(skops->local_ip6[0]);
	__u32 ip6_1 = CTX_READ(skops->local_ip6[1]);
	__u32 ip6_2 = CTX_READ(skops->local_ip6[2]);
	__u32 ip6_3 = CTX_READ(skops->local_ip6[3]);

	key->service_id = st->service_id;
	key->backend_id = st->backend_id;
	if (family == AF_INET) {
		key->source.w[0] = 0;
		key->source.w[1] = 0;
		key->source.w[2] = bpf_htonl(0x0000ffff);
		key->source.w[3] = ip4;
	} else {
		key->source.w[0] = ip6_0;
		key->source.w[1] = ip6_1;
		key->source.w[2] = ip6_2;
		key->source.w[3] = ip6_3;
	}
}

static __always_inline struct weft_tcp_stats *
tcp_stats_get(const struct weft_tcp_stats_key *key)
{
	struct weft_tcp_stats zero = {}, *stats;

	stats = bpf_map_lookup_elem(&weft_tcp_stats, key);
	if (stats)
		return stats;
	bpf_map_update_elem(&weft_tcp_stats, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&weft_tcp_stats, key);
}

/*
 * The kernel's byte counters follow sequence numbers, so they include the
 * SYN and the FINs; istio_tcp_*_bytes count payload.  The state changes
 * tell which FINs were exchanged: ours is acknowledged on the way to
 * FIN_WAIT2 or out of LAST_ACK/CLOSING, the peer's arrives on the way to
 * CLOSE_WAIT or CLOSING, or out of FIN_WAIT2 (the normal TIME_WAIT path).
 */
static __always_inline int sockops_state_change(struct bpf_sock_ops *skops,
						struct weft_sock_state *st,
						__u32 old, __u32 new)
{
	struct weft_tcp_stats_key key = {};
	struct weft_tcp_stats *stats;
	__u64 sent, received, accel_sent, accel_received;

	if (new == BPF_TCP_FIN_WAIT2)
		st->flags |= WEFT_SOCK_F_FIN_ACKED;
	if (new == BPF_TCP_CLOSE_WAIT || new == BPF_TCP_CLOSING)
		st->flags |= WEFT_SOCK_F_PEER_FIN;
	if (new != BPF_TCP_CLOSE || !(st->flags & WEFT_SOCK_F_OPENED))
		return 1;
	if (old == BPF_TCP_LAST_ACK || old == BPF_TCP_CLOSING)
		st->flags |= WEFT_SOCK_F_FIN_ACKED;
	if (old == BPF_TCP_FIN_WAIT2)
		st->flags |= WEFT_SOCK_F_PEER_FIN;
	st->flags &= ~WEFT_SOCK_F_OPENED;

	sent = skops->bytes_acked;
	received = skops->bytes_received;
	sent -= sent ? 1 : 0; /* the SYN */
	if ((st->flags & WEFT_SOCK_F_FIN_ACKED) && sent)
		sent -= 1;
	if ((st->flags & WEFT_SOCK_F_PEER_FIN) && received)
		received -= 1;
	/* plus what went socket to socket, never as TCP segments */
	accel_sock_bytes(skops, &accel_sent, &accel_received);
	sent += accel_sent;
	received += accel_received;
	tcp_stats_key(skops, st, &key); /* only now: most calls stop above */
	stats = tcp_stats_get(&key);
	if (stats) {
		stats->closed += 1;
		stats->sent_bytes += sent;
		stats->received_bytes += received;
	}
	return 1;
}

SEC("sockops")
int weft_sockops(struct bpf_sock_ops *skops)
{
	struct weft_tcp_stats_key key = {};
	struct weft_tcp_stats *stats;
	struct weft_sock_state *st;
	struct bpf_sock *sk;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		accel_sock_established(skops, true);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		accel_sock_established(skops, false);
		return 1;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		accel_sock_segment(skops);
		return 1;
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		accel_sock_listen(skops);
		return 1;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		accel_sock_received(skops);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		break;
	default:
		return 1;
	}
	sk = skops->sk;
	if (!sk)
		return 1;
	st = bpf_sk_storage_get(&weft_sock_state, sk, 0, 0);
	if (!st) { /* not a service connection */
		if (skops->op == BPF_SOCK_OPS_STATE_CB)
			accel_sock_state(skops);
		return 1;
	}

	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
		tcp_stats_key(skops, st, &key);
		stats = tcp_stats_get(&key);
		if (stats)
			stats->opened += 1;
		st->flags |= WEFT_SOCK_F_OPENED;
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
							 BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	}
	/* STATE_CB: args[0] old state, args[1] new state */
	sockops_state_change(skops, st, skops->args[0], skops->args[1]);
	accel_sock_state(skops); /* after: it reads the accel byte counts */
	return 1;
}
