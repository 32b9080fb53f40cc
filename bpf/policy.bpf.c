// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup_skb/ingress: AuthorizationPolicy at the destination.
 *
 * Runs for every packet delivered to a socket of the served cgroup, and
 * decides only the first packet of a connection: a TCP SYN (to a listener)
 * or, when UDP is enforced, each datagram.  Everything else passes at the
 * cost of reading the headers.  A denied SYN is dropped before the
 * listener creates a request socket, so the workload never sees the
 * connection; the client, weft or not, sees its SYNs go unanswered (as
 * with Cilium).  A weft client on a node that knows its network namespace
 * is refused earlier, at connect() (bpf/sock_lb.bpf.c).
 *
 * A client retries an unanswered SYN (1 s, 3 s, ...): a denied SYN that
 * repeats one already denied (same addresses, ports and initial sequence
 * number, remembered in a small private LRU) is dropped again without
 * being counted or reported, so counters and `weft monitor` show
 * connection attempts, not packets.
 *
 * The packet starts at the network header (cgroup skb programs see no
 * link layer).  IPv6 extension headers are walked (bounded), so a SYN
 * behind a hop-by-hop or destination-options header is still decided;
 * non-first fragments carry no transport header and pass (the first
 * fragment is decided).
 */
#include "lib/policy.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SK_DROP 0
#define SK_PASS 1

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60
#define IPV6_EXT_MAX 4
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define DENIED_SYNS_MAX 16384

/* A denied connection attempt: its SYN and every retry look alike. */
struct denied_syn {
	union weft_addr src;
	union weft_addr dst;
	__be16 sport;
	__be16 dport;
	__be32 seq;
};

/*
 * Private to this program (not pinned: a restarted weftd starts a fresh
 * one, at worst counting one retry twice).  Values unused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DENIED_SYNS_MAX);
	__type(key, struct denied_syn);
	__type(value, __u8);
} policy_denied_syns SEC(".maps");

/* The ports, and for TCP whether this is a SYN, of the transport header
 * at offset off (kept in *l4_off). */
static __always_inline int l4_read(struct __sk_buff *skb, __u32 off,
				   struct weft_policy_conn *c, bool *first,
				   __u32 *l4_off)
{
	__be16 ports[2];
	__u8 flags;

	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	c->sport = ports[0];
	c->dport = ports[1];
	*l4_off = off;
	if (c->proto == IPPROTO_UDP) {
		*first = true;
		return 0;
	}
	/* TCP flags: byte 13 of the header */
	if (bpf_skb_load_bytes(skb, off + 13, &flags, 1))
		return -1;
	*first = (flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	return 0;
}

static __always_inline int parse_v4(struct __sk_buff *skb,
				    struct weft_policy_conn *c, bool *first,
				    __u32 *l4_off)
{
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
		return -1;
	if (bpf_ntohs(ip.frag_off) & IP_OFFSET)
		return -1; /* not the first fragment */
	c->proto = ip.protocol;
	c->src.w[0] = c->src.w[1] = c->dst.w[0] = c->dst.w[1] = 0;
	c->src.w[2] = c->dst.w[2] = bpf_htonl(0x0000ffff);
	c->src.w[3] = ip.saddr;
	c->dst.w[3] = ip.daddr;
	if (c->proto != IPPROTO_TCP && c->proto != IPPROTO_UDP)
		return -1;
	return l4_read(skb, (__u32)ip.ihl * 4, c, first, l4_off);
}

static __always_inline int parse_v6(struct __sk_buff *skb,
				    struct weft_policy_conn *c, bool *first,
				    __u32 *l4_off)
{
	struct ipv6hdr ip;
	__u32 off = sizeof(ip);
	__u8 next;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
		return -1;
	__builtin_memcpy(&c->src, &ip.saddr, sizeof(c->src));
	__builtin_memcpy(&c->dst, &ip.daddr, sizeof(c->dst));
	next = ip.nexthdr;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		__u8 ext[2];

		if (next != NEXTHDR_HOP && next != NEXTHDR_ROUTING &&
		    next != NEXTHDR_DEST && next != NEXTHDR_FRAGMENT)
			break;
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
			return -1;
		if (next == NEXTHDR_FRAGMENT) {
			__be16 frag;

			if (bpf_skb_load_bytes(skb, off + 2, &frag,
					       sizeof(frag)))
				return -1;
			if (bpf_ntohs(frag) & ~7)
				return -1; /* offset != 0: not the first */
			off += 8;
		} else {
			off += ((__u32)ext[1] + 1) * 8;
		}
		next = ext[0];
	}
	c->proto = next;
	if (c->proto != IPPROTO_TCP && c->proto != IPPROTO_UDP)
		return -1;
	return l4_read(skb, off, c, first, l4_off);
}

/* Has this denied SYN (TCP header at l4_off) been seen, and accounted
 * for, before?  Records it when not. */
static __always_inline bool syn_seen_before(struct __sk_buff *skb,
					    const struct weft_policy_conn *c,
					    __u32 l4_off)
{
	struct denied_syn key = {
		.src = c->src, .dst = c->dst, .sport = c->sport,
		.dport = c->dport,
	};
	__u8 one = 1;

	/* the initial sequence number, bytes 4-7: read for denies only */
	if (bpf_skb_load_bytes(skb, l4_off + 4, &key.seq, sizeof(key.seq)))
		return false;

	if (bpf_map_lookup_elem(&policy_denied_syns, &key))
		return true;
	bpf_map_update_elem(&policy_denied_syns, &key, &one, BPF_ANY);
	return false;
}

SEC("cgroup_skb/ingress")
int weft_policy_ingress(struct __sk_buff *skb)
{
	const struct weft_policy_config *cfg = policy_config();
	struct weft_policy_conn c = { .point = WEFT_POLICY_POINT_INBOUND };
	__u32 identity = WEFT_POLICY_IDENTITY_UNKNOWN;
	struct weft_policy_verdict v;
	bool first = false;
	__u32 l4_off = 0;
	int err;

	if (!cfg || !cfg->nsets)
		return SK_PASS;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_v4(skb, &c, &first, &l4_off);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_v6(skb, &c, &first, &l4_off);
	else
		return SK_PASS;
	if (err || !first || !policy_active(cfg, c.proto))
		return SK_PASS;
	if (!policy_decide(cfg, &c, &v, &identity))
		return SK_PASS;
	if (v.action != WEFT_POLICY_ACTION_ALLOW && c.proto == IPPROTO_TCP &&
	    syn_seen_before(skb, &c, l4_off))
		return SK_DROP; /* a retry: accounted for the first time */
	policy_account(&c, &v, identity, bpf_skb_cgroup_id(skb));
	return v.action == WEFT_POLICY_ACTION_ALLOW ? SK_PASS : SK_DROP;
}
