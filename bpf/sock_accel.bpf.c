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
 * Ordering.  The receiver reads redirected data before anything that
 * arrived through TCP (tcp_bpf_recvmsg drains its psock queue first), so
 * going from redirect to TCP is always safe, and going from TCP back to
 * redirect only once the receiver has read every byte this socket sent
 * through TCP: its copied_seq has reached our write_seq (both count TCP
 * bytes only; ours cannot move while we send, since the send holds our
 * socket lock, and the receiver's only grows).  A send takes TCP for now
 * (WEFT_ACCEL_F_VIA_TCP) while the receiver is not accepted yet, is
 * blocking, or is too far behind (more than accel_backlog_limit bytes of
 * redirected data unread, or TCP memory pressure: a redirected send is
 * never held back by the receiver, TCP's window is), and for good
 * (WEFT_ACCEL_F_TCP) once the peer is gone.
 *
 * Blocking sockets stay out of the hash (lib/accel.h says why).  A socket
 * that finds its own file blocking at a send, or whose first send finds
 * no peer, leaves the hash, when nothing was ever redirected to it.  The
 * program cannot delete from a socket hash: it marks the socket
 * (WEFT_ACCEL_F_LEAVE) and sockops deletes it when it writes the first
 * segment of that send (lib/accel.h).  Its flow entry is closed first,
 * so that no peer redirects to it from then on: the peer adds to
 * received_bytes, then reads closed; the leaving socket sets closed, then
 * reads received_bytes; with both atomic, at least one sees the other, and
 * a socket that sees received bytes stays (leaving would drop them).
 *
 * The agent attaches this program to weft_accel_hash (BPF_SK_MSG_VERDICT).
 */
#include "lib/accel.h"

#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Redirected bytes a receiver may leave unread before its sender falls
 * back to TCP.  Set by the agent before load: net.ipv4.tcp_rmem's maximum,
 * at least 64 MiB (user/agent/loader.c says why).
 */
const volatile __u64 accel_backlog_limit = 64 << 20;

/* Unread bytes above which TCP memory pressure makes the sender fall
 * back: tcp_rmem's default receive buffer. */
#define ACCEL_PRESSURE_UNREAD (128 << 10)

/* The receiver's backlog is read once per this many redirected bytes (the
 * reads cost a tenth of a small send), so the bound can be passed by at
 * most this much. */
#define ACCEL_BACKLOG_CHECK_BYTES (256 << 10)

/* For good: the peer is gone, or this socket is leaving the hash. */
static __always_inline int accel_fall_back(struct weft_accel_sock *st,
					   enum weft_accel_counter why)
{
	st->flags |= WEFT_ACCEL_F_TCP;
	accel_count(why);
	return SK_PASS;
}

/* This send takes TCP, and so does every send until the receiver has
 * caught up (accel_caught_up()); a stretch of them is counted once. */
static __always_inline int accel_via_tcp(struct weft_accel_sock *st,
					 enum weft_accel_counter why)
{
	if (!(st->flags & WEFT_ACCEL_F_VIA_TCP)) {
		st->flags |= WEFT_ACCEL_F_VIA_TCP;
		accel_count(why);
	}
	return SK_PASS;
}

/* The receiver has read every byte the sender sent through TCP. */
static __always_inline bool accel_caught_up(struct tcp_sock *sender,
					    const struct sock *receiver)
{
	__u32 copied = 0;

	if (BPF_CORE_READ_INTO(&copied, (const struct tcp_sock *)receiver,
			       copied_seq))
		return false;
	return copied == BPF_CORE_READ(sender, write_seq);
}

/*
 * The receiver's redirected bytes not read yet: its psock's msg_tot_len,
 * through bpf_probe_read_kernel() (the sk_msg program has no reference to
 * the peer socket).  0 when unknown: a kernel without msg_tot_len has no
 * bound (docs/design.md).
 */
static __always_inline __u64 accel_unread(struct sock *receiver)
{
	struct sk_psock *psock = NULL;
	__u64 user_data = 0;
	__u32 queued = 0;

	if (!bpf_core_field_exists(psock->msg_tot_len))
		return 0;
	if (BPF_CORE_READ_INTO(&user_data, receiver, sk_user_data))
		return 0;
	/* The low bits of sk_user_data are flags (SK_USER_DATA_NOCOPY,
	 * _BPF, _PSOCK): the psock pointer is 8-byte aligned. */
	psock = (struct sk_psock *)(user_data & ~7ull);
	if (!psock)
		return 0;
	BPF_CORE_READ_INTO(&queued, psock, msg_tot_len);
	return queued;
}

/*
 * TCP memory pressure (net.ipv4.tcp_mem[1] exceeded node-wide), read
 * through the receiver's proto.  Redirected data is charged to TCP's
 * memory like received segments; under pressure TCP shrinks its windows,
 * and a redirected sender must stop adding too: the per-socket bound
 * alone would let many stalled receivers exhaust tcp_mem, after which a
 * redirected send fails with ENOMEM.
 */
static __always_inline bool accel_tcp_memory_pressure(struct sock *receiver)
{
	unsigned long *pressure = NULL, value = 0;
	struct proto *prot = NULL;

	if (BPF_CORE_READ_INTO(&prot, receiver, __sk_common.skc_prot) || !prot ||
	    BPF_CORE_READ_INTO(&pressure, prot, memory_pressure) || !pressure ||
	    bpf_probe_read_kernel(&value, sizeof(value), pressure))
		return false;
	return value != 0;
}

/* The receiver is too far behind: the per-socket bound, or TCP memory
 * pressure while it has more than a default receive buffer unread. */
static __always_inline bool accel_peer_behind(const struct weft_accel_flow *peer)
{
	struct sock *receiver = (struct sock *)peer->sk_addr;
	__u64 unread = accel_unread(receiver);

	return unread > accel_backlog_limit ||
	       (unread > ACCEL_PRESSURE_UNREAD &&
		accel_tcp_memory_pressure(receiver));
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

/*
 * The first send found no peer, or our own file is blocking (see the top
 * of this file): close our flow entry to redirects and leave, unless a
 * peer ever redirected to us (then we stay, and the peer may go on: each
 * direction decides for itself).
 */
static __always_inline int accel_leave(struct weft_accel_sock *st,
				       enum weft_accel_counter why)
{
	struct weft_accel_flow *own_flow;
	struct weft_accel_key own;

	accel_key_reverse(&st->peer, &own);
	own_flow = bpf_map_lookup_elem(&weft_accel_flows, &own);
	if (own_flow && accel_flow_close(own_flow))
		st->flags |= WEFT_ACCEL_F_LEAVE;
	return accel_fall_back(st, why);
}

SEC("sk_msg")
int weft_accel_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct weft_accel_flow *peer;
	struct weft_accel_sock *st;
	struct sock *receiver;
	struct tcp_sock *self;
	bool redirecting;
	/* ctx fields read once, with plain loads (ACCEL_CTX_READ says why) */
	__u32 size = ACCEL_CTX_READ(msg->size);

	if (!sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	if (!st || (st->flags & WEFT_ACCEL_F_TCP))
		return SK_PASS;
	self = bpf_skc_to_tcp_sock(sk);
	if (!self)
		return SK_PASS;
	redirecting = st->flags & WEFT_ACCEL_F_REDIRECTING;
	if (accel_own_file_mode(self) == ACCEL_FILE_BLOCKING)
		return accel_leave(st, WEFT_ACCEL_SKIP_BLOCKING);
	peer = bpf_map_lookup_elem(&weft_accel_flows, &st->peer);
	if (!peer)
		goto no_peer;
	receiver = (struct sock *)peer->sk_addr;
	/* Not accepted yet, or blocking (then it leaves the hash at our
	 * segment, and our next send finds no peer).  Once seen ready it
	 * stays a valid receiver: redirected data never wakes a reader
	 * without data, whatever its file says later. */
	if (!(st->flags & WEFT_ACCEL_F_PEER_READY)) {
		if (accel_file_mode(receiver) != ACCEL_FILE_NONBLOCKING)
			return accel_via_tcp(st, WEFT_ACCEL_FALLBACK_PEER_NOT_READY);
		st->flags |= WEFT_ACCEL_F_PEER_READY;
	}
	if ((st->flags & WEFT_ACCEL_F_VIA_TCP) && !accel_caught_up(self, receiver))
		return SK_PASS;
	if (st->unchecked_bytes + size > ACCEL_BACKLOG_CHECK_BYTES) {
		if (accel_peer_behind(peer))
			return accel_via_tcp(st, WEFT_ACCEL_FALLBACK_BACKLOG);
		st->unchecked_bytes = 0;
	}
	/* Announce the bytes, then check the peer still takes them (the
	 * fetching add is a full barrier: the load cannot pass it). */
	__sync_fetch_and_add(&peer->received_bytes, size);
	if (*(volatile __u32 *)&peer->closed ||
	    bpf_msg_redirect_hash(msg, &weft_accel_hash, &st->peer,
				  BPF_F_INGRESS) != SK_PASS) {
		__sync_fetch_and_sub(&peer->received_bytes, size);
		goto no_peer;
	}
	st->sent_bytes += size;
	st->unchecked_bytes += size;
	if (st->flags & WEFT_ACCEL_F_VIA_TCP) {
		st->flags &= ~WEFT_ACCEL_F_VIA_TCP;
		if (redirecting)
			accel_count(WEFT_ACCEL_RESUMED);
	}
	if (!redirecting) {
		st->flags |= WEFT_ACCEL_F_REDIRECTING;
		accel_count_connection(st, peer);
	}
	accel_count(WEFT_ACCEL_MESSAGES);
	accel_count_n(WEFT_ACCEL_BYTES, size);
	return SK_PASS;

no_peer: /* not managed here, not established yet, or closed since */
	return redirecting ? accel_fall_back(st, WEFT_ACCEL_FALLBACK_PEER_GONE) :
			     accel_leave(st, WEFT_ACCEL_SKIP_PEER_UNMANAGED);
}

/*
 * fexit of inet_accept(), for every accept() on the node (IPv4 and IPv6;
 * the socket's file, with accept4()'s O_NONBLOCK, exists by then).  A
 * passive socket entered the hash at ESTABLISHED without a file; if
 * accept() made it blocking, it leaves now, before the program can read
 * from it (lib/accel.h says why a blocking socket must not be in the
 * hash).  Nothing was redirected to it: no sender redirects to a receiver
 * without a file.  Sockets of other agents and of no agent have no
 * weft_accel_sock storage here and are left alone.
 */
SEC("fexit/inet_accept")
int BPF_PROG(weft_accel_accept, struct socket *listener, struct socket *sock)
{
	struct weft_accel_sock *st;
	struct sock *sk = sock->sk;

	(void)ctx;
	(void)listener;
	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	if (!st || (st->flags & WEFT_ACCEL_F_TCP) ||
	    sock->file->f_flags & ACCEL_O_NONBLOCK)
		return 0;
	accel_leave_blocking(st);
	return 0;
}
