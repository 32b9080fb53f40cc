/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Same-node socket acceleration, the sockops half: an established socket
 * of the node's cgroup goes into weft_accel_hash under its own key, with
 * the key its peer would be stored under kept in its socket storage.  The
 * sk_msg half (bpf/sock_accel.bpf.c) redirects a send to that peer when the
 * peer is in the hash too, that is when both ends are managed here.
 */
#ifndef WEFT_BPF_ACCEL_H
#define WEFT_BPF_ACCEL_H

#include "maps.h"

#include <bpf/bpf_core_read.h>

#ifndef E2BIG
#define E2BIG 7 /* a #define in the kernel, not in vmlinux.h */
#endif
/* fcntl.h's O_NONBLOCK on x86, arm64 and the other asm-generic
 * architectures (a #define, not in vmlinux.h). */
#define ACCEL_O_NONBLOCK 04000

static __always_inline void accel_count_n(enum weft_accel_counter which,
					  __u64 n)
{
	__u32 key = which;
	__u64 *value = bpf_map_lookup_elem(&weft_accel_stats, &key);

	if (value)
		*value += n;
}

static __always_inline void accel_count(enum weft_accel_counter which)
{
	accel_count_n(which, 1);
}

/*
 * Whether a socket's reads can block, from its file's O_NONBLOCK.  Only
 * sockets that cannot block may be in weft_accel_hash: a socket in a
 * socket hash reads through tcp_bpf_recvmsg(), whose blocking wait returns
 * EAGAIN when the socket is woken without data (a signal, its own FIN
 * acknowledged, send-buffer space) where tcp_recvmsg() would wait again
 * or restart (docs/design.md).  A non-blocking reader never waits there.
 */
enum accel_file_mode {
	ACCEL_FILE_NONE = -1,   /* no file: a passive socket not accepted yet */
	ACCEL_FILE_BLOCKING = 0,
	ACCEL_FILE_NONBLOCKING = 1,
};

/* sk: a kernel socket address (CO-RE reads, never faults). */
static __always_inline enum accel_file_mode accel_file_mode(const struct sock *sk)
{
	struct socket *sock = NULL;
	struct file *file = NULL;
	unsigned int flags = 0;

	if (BPF_CORE_READ_INTO(&sock, sk, sk_socket) || !sock ||
	    BPF_CORE_READ_INTO(&file, sock, file) || !file ||
	    BPF_CORE_READ_INTO(&flags, file, f_flags))
		return ACCEL_FILE_NONE;
	return flags & ACCEL_O_NONBLOCK ? ACCEL_FILE_NONBLOCKING :
					  ACCEL_FILE_BLOCKING;
}

/* The same for a socket the program holds a BTF pointer to: direct
 * (faulting-safe) loads instead of helper calls. */
static __always_inline enum accel_file_mode accel_own_file_mode(struct tcp_sock *tp)
{
	struct socket *sock = tp->inet_conn.icsk_inet.sk.sk_socket;
	struct file *file = sock ? sock->file : NULL;

	if (!file)
		return ACCEL_FILE_NONE;
	return file->f_flags & ACCEL_O_NONBLOCK ? ACCEL_FILE_NONBLOCKING :
						  ACCEL_FILE_BLOCKING;
}

/* Off until the agent has written its config (an empty map reads 0). */
static __always_inline bool accel_enabled(void)
{
	__u32 zero = 0;
	struct weft_accel_config *cfg =
		bpf_map_lookup_elem(&weft_accel_config, &zero);

	return cfg && cfg->enabled;
}

static __always_inline bool accel_addr_is_loopback(const union weft_addr *a)
{
	if (a->w[0] == 0 && a->w[1] == 0 && a->w[2] == bpf_htonl(0x0000ffff))
		return (bpf_ntohl(a->w[3]) >> 24) == 127; /* 127.0.0.0/8 */
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == 0 &&
	       a->w[3] == bpf_htonl(1); /* ::1 */
}

/* The same connection seen from the other end. */
static __always_inline void accel_key_reverse(const struct weft_accel_key *k,
					      struct weft_accel_key *r)
{
	r->local = k->remote;
	r->remote = k->local;
	r->local_port = k->remote_port;
	r->remote_port = k->local_port;
	r->family = k->family;
	r->pad = 0;
	r->netns_cookie = k->netns_cookie;
}

/* ctx fields through volatile loads, for the reason in sockops.bpf.c. */
#define ACCEL_CTX_READ(field) (*(volatile __u32 *)&(field))

/*
 * The socket's own key and its peer's (the same connection seen from the
 * other end).  local_port is host order in bpf_sock_ops, remote_port the
 * network-order port in the upper half of the word.
 */
static __always_inline void accel_keys(struct bpf_sock_ops *skops,
				       struct weft_accel_key *own,
				       struct weft_accel_key *peer)
{
	/* Every field read before the family branch: see ACCEL_CTX_READ. */
	__u32 family = ACCEL_CTX_READ(skops->family);
	__u32 lport = ACCEL_CTX_READ(skops->local_port);
	__u32 rport = ACCEL_CTX_READ(skops->remote_port);
	__u32 l4 = ACCEL_CTX_READ(skops->local_ip4);
	__u32 r4 = ACCEL_CTX_READ(skops->remote_ip4);
	__u32 l6[4], r6[4];

	l6[0] = ACCEL_CTX_READ(skops->local_ip6[0]);
	l6[1] = ACCEL_CTX_READ(skops->local_ip6[1]);
	l6[2] = ACCEL_CTX_READ(skops->local_ip6[2]);
	l6[3] = ACCEL_CTX_READ(skops->local_ip6[3]);
	r6[0] = ACCEL_CTX_READ(skops->remote_ip6[0]);
	r6[1] = ACCEL_CTX_READ(skops->remote_ip6[1]);
	r6[2] = ACCEL_CTX_READ(skops->remote_ip6[2]);
	r6[3] = ACCEL_CTX_READ(skops->remote_ip6[3]);
	if (family == AF_INET) {
		own->local.w[2] = bpf_htonl(0x0000ffff);
		own->local.w[3] = l4;
		own->remote.w[2] = bpf_htonl(0x0000ffff);
		own->remote.w[3] = r4;
	} else {
		for (int i = 0; i < 4; i++) {
			own->local.w[i] = l6[i];
			own->remote.w[i] = r6[i];
		}
	}
	own->local_port = bpf_htons((__u16)lport);
	own->remote_port = (__be16)(rport >> 16);
	own->family = own->local.w[0] == 0 && own->local.w[1] == 0 &&
				      own->local.w[2] == bpf_htonl(0x0000ffff) ?
			      AF_INET :
			      AF_INET6;
	if (accel_addr_is_loopback(&own->local) &&
	    accel_addr_is_loopback(&own->remote))
		own->netns_cookie = bpf_get_netns_cookie(skops);

	accel_key_reverse(own, peer);
}

/* TCP_LISTEN_CB: remember the listener in the storage its sockets clone. */
static __always_inline void accel_sock_listen(struct bpf_sock_ops *skops)
{
	struct weft_accel_listener *l;
	struct bpf_sock *sk = skops->sk;

	if (!sk)
		return;
	l = bpf_sk_storage_get(&weft_accel_listener, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (l)
		l->sk_addr = (__u64)sk;
}

/*
 * At ESTABLISHED: why the socket may not join because its reads could
 * block, or WEFT_ACCEL__MAX when they cannot.  The active end's own file
 * says; the passive end has none yet, so its listener's says (event loops
 * make both non-blocking; a thread-per-connection server both blocking).
 * A listener from before the agent attached is unknown: the socket stays
 * out, since a blocking reader could already be waiting in recv() by the
 * time it could leave on a kernel without fexit (docs/design.md).
 */
static __always_inline enum weft_accel_counter
accel_blocking_reason(struct bpf_sock *sk, bool active)
{
	struct weft_accel_listener *l;
	struct tcp_sock *tp;

	if (active) {
		tp = bpf_skc_to_tcp_sock(sk);
		return tp && accel_own_file_mode(tp) == ACCEL_FILE_NONBLOCKING ?
			       WEFT_ACCEL__MAX :
			       WEFT_ACCEL_SKIP_BLOCKING;
	}
	l = bpf_sk_storage_get(&weft_accel_listener, sk, 0, 0);
	if (!l)
		return WEFT_ACCEL_SKIP_LISTENER_UNKNOWN;
	return accel_file_mode((struct sock *)l->sk_addr) == ACCEL_FILE_NONBLOCKING ?
		       WEFT_ACCEL__MAX :
		       WEFT_ACCEL_SKIP_BLOCKING;
}

/*
 * ACTIVE_ and PASSIVE_ESTABLISHED_CB: put the socket in the hash unless
 * acceleration is off, the socket already sent payload through TCP (TCP
 * Fast Open data in the SYN: a redirected byte must never overtake one
 * that took the TCP path), its reads may block (accel_blocking_reason()), or it
 * is the passive end of a connection whose active end is not in the hash.
 * Nothing is redirected to a passive socket before accept() gave it a
 * non-blocking file (bpf/sock_accel.bpf.c).  A socket that fails to enter
 * the hash sends through TCP, and its peer finds nothing to redirect to.
 * The state callback is turned on so that accel_sock_state() sees the
 * close.
 */
static __always_inline void accel_sock_established(struct bpf_sock_ops *skops,
						   bool active)
{
	struct weft_accel_key own = {}, peer = {};
	struct weft_accel_flow flow = {};
	enum weft_accel_counter why;
	struct weft_accel_sock *st;
	struct bpf_sock *sk;
	long err;

	if (!accel_enabled()) {
		accel_count(WEFT_ACCEL_SKIP_DISABLED);
		return;
	}
	if (skops->data_segs_out) {
		accel_count(WEFT_ACCEL_SKIP_EARLY_DATA);
		return;
	}
	sk = skops->sk;
	if (!sk)
		return;
	why = accel_blocking_reason(sk, active);
	if (why != WEFT_ACCEL__MAX) {
		accel_count(why);
		return;
	}
	accel_keys(skops, &own, &peer);
	/* A client joins only when it dialled a workload of this node (or
	 * loopback): elsewhere there is no peer socket to redirect to. */
	if (active && !accel_addr_is_loopback(&own.remote) &&
	    !bpf_map_lookup_elem(&weft_node_addrs, &own.remote)) {
		accel_count(WEFT_ACCEL_SKIP_PEER_UNMANAGED);
		return;
	}
	/* The active end is in the hash before the passive end gets here
	 * (SYN-ACK before the final ACK): without it the peer is not ours,
	 * and a socket that would only ever use TCP stays out of the hash. */
	if (!active) {
		struct weft_accel_flow *f =
			bpf_map_lookup_elem(&weft_accel_flows, &peer);

		/* closed is re-checked, atomically, at each send */
		if (!f || *(volatile __u32 *)&f->closed) {
			accel_count(WEFT_ACCEL_SKIP_PEER_UNMANAGED);
			return;
		}
	}
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		accel_count(WEFT_ACCEL_SKIP_INSERT_FAILED);
		return;
	}
	st->peer = peer;
	st->flags = active ? WEFT_ACCEL_F_ACTIVE : 0;
	st->sent_bytes = 0;
	st->unchecked_bytes = 0;
	/* The flow entry first: a peer that finds us in the hash finds it. */
	flow.sk_addr = (__u64)sk;
	err = bpf_map_update_elem(&weft_accel_flows, &own, &flow, BPF_NOEXIST);
	if (!err) {
		err = bpf_sock_hash_update(skops, &weft_accel_hash, &own,
					   BPF_NOEXIST);
		if (err)
			bpf_map_delete_elem(&weft_accel_flows, &own);
	}
	if (err) {
		st->flags |= WEFT_ACCEL_F_TCP;
		accel_count(err == -E2BIG ? WEFT_ACCEL_SKIP_HASH_FULL :
					    WEFT_ACCEL_SKIP_INSERT_FAILED);
		return;
	}
	/* STATE: the close (accel_sock_state); header options: the first
	 * segments, when the socket may leave (accel_sock_segment); every
	 * segment received: whether it became blocking (accel_sock_received). */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
						 BPF_SOCK_OPS_STATE_CB_FLAG |
						 BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
						 BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
	accel_count(WEFT_ACCEL_SOCKETS_ADDED);
}

/*
 * HDR_OPT_LEN_CB, for each segment the socket writes while the callback is
 * on: once its sends are decided, stop the callbacks, and take the socket
 * out of the hash if its first send marked it to leave (an sk_msg program
 * cannot delete from a socket hash; sockops may).  Writes no option.
 */
static __always_inline void accel_sock_segment(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct weft_accel_sock *st;
	struct weft_accel_key own;

	if (!sk)
		return;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	if (st && !(st->flags & (WEFT_ACCEL_F_TCP | WEFT_ACCEL_F_REDIRECTING)))
		return; /* no send yet */
	if (st && (st->flags & WEFT_ACCEL_F_LEAVE)) {
		st->flags &= ~WEFT_ACCEL_F_LEAVE;
		accel_key_reverse(&st->peer, &own);
		bpf_map_delete_elem(&weft_accel_flows, &own);
		bpf_map_delete_elem(&weft_accel_hash, &own);
	}
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						 ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/*
 * Close the socket's flow entry to redirects and report whether none ever
 * came (then it may leave the hash without dropping unread data).  The
 * peer's sk_msg adds to received_bytes, then reads closed; we set closed,
 * then read received_bytes: with both atomic, one of the two sees the
 * other.  When data came, the entry is opened again (the peer may keep
 * redirecting) and false returned.
 */
static __always_inline bool accel_flow_close(struct weft_accel_flow *flow)
{
	__sync_lock_test_and_set(&flow->closed, 1);
	if (!__sync_fetch_and_add(&flow->received_bytes, 0))
		return true;
	__sync_lock_test_and_set(&flow->closed, 0);
	return false;
}

/*
 * A socket found blocking leaves the hash now (from a program that may
 * delete from it: sockops, or the fexit at accept()), unless something was
 * redirected to it; its sends take TCP from now on either way.
 */
static __always_inline void accel_leave_blocking(struct weft_accel_sock *st)
{
	struct weft_accel_flow *flow;
	struct weft_accel_key own;

	st->flags |= WEFT_ACCEL_F_TCP;
	accel_key_reverse(&st->peer, &own);
	flow = bpf_map_lookup_elem(&weft_accel_flows, &own);
	if (flow && accel_flow_close(flow)) {
		bpf_map_delete_elem(&weft_accel_hash, &own);
		bpf_map_delete_elem(&weft_accel_flows, &own);
		accel_count(WEFT_ACCEL_SKIP_BLOCKING);
	}
}

/* Whether anything was ever redirected to the socket (then it can no
 * longer leave the hash: leaving would drop unread data). */
static __always_inline bool accel_received_any(const struct weft_accel_sock *st)
{
	struct weft_accel_flow *flow;
	struct weft_accel_key own;

	accel_key_reverse(&st->peer, &own);
	flow = bpf_map_lookup_elem(&weft_accel_flows, &own);
	return !flow || __sync_fetch_and_add(&flow->received_bytes, 0);
}

/*
 * PARSE_HDR_OPT_CB, for the segments the socket receives while it may
 * still have to leave the hash: a socket whose file turned out blocking (a
 * passive socket once accepted, or one made blocking after connect())
 * leaves, unless something was redirected to it (leaving would drop unread
 * data; nothing is redirected to a blocking receiver, so only a socket made
 * blocking after it received redirected data stays: docs/design.md).  A
 * socket not accepted yet, or non-blocking with nothing redirected to it
 * yet, is looked at again at its next segment; any other is decided, and
 * the callback goes off (it would run for every segment otherwise).
 */
static __always_inline void accel_sock_received(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	enum accel_file_mode mode;
	struct weft_accel_sock *st;
	struct tcp_sock *tp;

	if (!sk)
		return;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	tp = bpf_skc_to_tcp_sock(sk);
	if (!st || !tp)
		return;
	if (!(st->flags & WEFT_ACCEL_F_TCP)) {
		mode = accel_own_file_mode(tp);
		if (mode == ACCEL_FILE_NONE)
			return;
		if (mode == ACCEL_FILE_BLOCKING)
			accel_leave_blocking(st);
		else if (!accel_received_any(st))
			return;
	}
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						 ~BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
}

/*
 * STATE_CB.  TCP_CLOSE: the flow entry goes (the kernel removes the socket
 * from weft_accel_hash itself, at close() or unhash).  Call it after
 * anything that still reads the entry (accel_sock_bytes()).
 */
static __always_inline void accel_sock_state(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct weft_accel_key own;
	struct weft_accel_sock *st;

	if (skops->args[1] != BPF_TCP_CLOSE || !sk)
		return;
	st = bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0);
	if (!st)
		return;
	accel_key_reverse(&st->peer, &own);
	bpf_map_delete_elem(&weft_accel_flows, &own);
}

/* Bytes this socket sent and received by redirection, for the payload
 * counts of istio_tcp_* (0 for a socket never in the hash). */
static __always_inline void accel_sock_bytes(struct bpf_sock_ops *skops,
					     __u64 *sent, __u64 *received)
{
	struct bpf_sock *sk = skops->sk;
	struct weft_accel_sock *st =
		sk ? bpf_sk_storage_get(&weft_accel_sock, sk, 0, 0) : NULL;
	struct weft_accel_flow *flow = NULL;
	struct weft_accel_key own;

	*sent = 0;
	*received = 0;
	if (!st)
		return;
	*sent = st->sent_bytes;
	accel_key_reverse(&st->peer, &own);
	flow = bpf_map_lookup_elem(&weft_accel_flows, &own);
	if (flow)
		*received = flow->received_bytes;
}

#endif /* WEFT_BPF_ACCEL_H */
