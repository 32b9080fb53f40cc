// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sk_msg: same-node socket acceleration, the data half.
 *
 * Runs on every send of a socket in weft_accel_hash (sockops put it there
 * at ESTABLISHED, lib/accel.h).  When the peer socket is in the hash too,
 * that is when both ends are managed by this agent, the data goes straight
 * into the peer's receive queue (bpf_msg_redirect_hash with
 * BPF_F_INGRESS): no TCP segments, no IP, no veth.  Otherwise SK_PASS: the
 * send takes the TCP stack.
 *
 * Ordering contract.  The receiver reads redirected data before anything
 * that arrived through TCP (tcp_bpf_recvmsg drains its psock queue first).
 * So a socket may go from redirecting to TCP once, never back: its first
 * send decides, and a fallback is for good (WEFT_ACCEL_F_TCP).  The
 * fallbacks: acceleration turned off for the node, the peer closed, or the
 * receiver has more than accel_backlog_limit bytes of redirected data
 * unread (a slow reader: a redirected send is never held back by the
 * receiver, TCP's window is).
 *
 * The agent attaches this program to weft_accel_hash (BPF_SK_MSG_VERDICT).
 */
#include "lib/accel.h"

#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Redirected bytes a receiver may leave unread before its sender falls
 * back to TCP: TCP's own per-socket bound (net.ipv4.tcp_rmem max, 6 MiB by
 * default).  Set by the agent before load.
 */
const volatile __u64 accel_backlog_limit = 6 << 20;

static __always_inline int accel_fall_back(struct weft_accel_sock *st,
					   enum weft_accel_counter why)
{
	st->flags |= WEFT_ACCEL_F_TCP;
	accel_count(why);
	return SK_PASS;
}

/*
 * The receiver's redirected bytes not read yet: its psock's msg_tot_len,
 * through bpf_probe_read_kernel() (the sk_msg program has no reference to
 * the peer socket).  0 when unknown: a kernel without msg_tot_len has no
 * bound (docs/design.md).
 */
static __always_inline __u64 accel_unread(const struct weft_accel_flow *flow)
{
	struct sock *receiver = (struct sock *)flow->sk_addr;
	struct sk_psock *psock = NULL;
	__u32 queued = 0;

	if (!bpf_core_field_exists(psock->msg_tot_len))
		return 0;
	if (BPF_CORE_READ_INTO(&psock, receiver, sk_user_data) || !psock)
		return 0;
	BPF_CORE_READ_INTO(&queued, psock, msg_tot_len);
	return queued;
}

/* Once per connection, whichever end redirects first: the active end's
 * flow entry holds the one word both ends race on. */
static __always_inline void accel_count_connection(struct weft_accel_sock *st,
						   struct weft_accel_flow *peer)
{
	struct weft_accel_flow *owner = peer;
	struct weft_accel_key own;

	if (st->flags & WEFT_ACCEL_F_ACTIVE) {
		accel_key_reverse(&st->peer, &own);
		owner = bpf_map_lookup_elem(&weft_accel_flows, &own);
		if (!owner)
			return;
	}
	if (!__sync_fetch_and_or(&owner->conn_counted, 1))
		accel_count(WEFT_ACCEL_CONNECTIONS);
}

SEC("sk_msg")
int weft_accel_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct weft_accel_flow *peer;
	struct weft_accel_sock *st;
	bool redirecting;

	if (!sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	if (!st || (st->flags & WEFT_ACCEL_F_TCP))
		return SK_PASS;
	redirecting = st->flags & WEFT_ACCEL_F_REDIRECTING;
	if (!accel_enabled())
		return accel_fall_back(st, redirecting ?
						   WEFT_ACCEL_FALLBACK_DISABLED :
						   WEFT_ACCEL_SKIP_DISABLED);
	/* No entry: the peer is not managed here, not established yet when
	 * we first send, or closed since. */
	peer = bpf_map_lookup_elem(&weft_accel_flows, &st->peer);
	if (!peer)
		return accel_fall_back(st, redirecting ?
						   WEFT_ACCEL_FALLBACK_PEER_GONE :
						   WEFT_ACCEL_SKIP_PEER_UNMANAGED);
	if (accel_unread(peer) > accel_backlog_limit)
		return accel_fall_back(st, WEFT_ACCEL_FALLBACK_BACKLOG);
	if (bpf_msg_redirect_hash(msg, &weft_accel_hash, &st->peer,
				  BPF_F_INGRESS) != SK_PASS)
		return accel_fall_back(st, redirecting ?
						   WEFT_ACCEL_FALLBACK_PEER_GONE :
						   WEFT_ACCEL_SKIP_PEER_UNMANAGED);
	__sync_fetch_and_add(&peer->received_bytes, msg->size);
	st->sent_bytes += msg->size;
	if (!redirecting) {
		st->flags |= WEFT_ACCEL_F_REDIRECTING;
		accel_count_connection(st, peer);
	}
	accel_count(WEFT_ACCEL_MESSAGES);
	accel_count_n(WEFT_ACCEL_BYTES, msg->size);
	return SK_PASS;
}
