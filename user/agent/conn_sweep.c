// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Closing the open connections a new policy denies (see conn_sweep.h). */
#include "conn_sweep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lb.h"
#include "log.h"
#include "netns_scan.h"
#include "policy.h"
#include "vec.h"

/* What the dump asks for: listeners tell which ports are inbound; a
 * server that half-closed (FIN_WAIT1/2) may still be receiving. */
#define SWEEP_STATES                                              \
	((1u << TCP_LISTEN) | (1u << TCP_ESTABLISHED) |           \
	 (1u << TCP_CLOSE_WAIT) | (1u << TCP_FIN_WAIT1) |         \
	 (1u << TCP_FIN_WAIT2))
/* Sockets kept per namespace and family; beyond, the rest is not judged
 * in this sweep (logged). */
#define SWEEP_SOCKETS_MAX (1u << 20)

struct sock_row {
	struct inet_diag_sockid id; /* as dumped: names it for SOCK_DESTROY */
	__u8 family;
	__u8 state;
	bool has_cgroup;
	__u64 cgroup_id;
	union weft_addr local, remote;
};

/* One namespace's sweep, run inside it. */
struct ns_sweep {
	struct conn_sweep *cs;
	const struct netns_scan *scan;
	const struct policy_state *ps;
	const struct netns_workload *w;
	struct sock_row *rows; /* one family's dump, listeners first */
	size_t n, cap, nlisten;
	bool truncated;
	struct conn_sweep_result res;
};

static void addr_from_diag(union weft_addr *a, __u8 family, const __be32 *w)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->b[10] = a->b[11] = 0xff; /* IPv4-mapped, as weft_addr is */
		a->w[3] = w[0];
	} else {
		memcpy(a->b, w, 16);
	}
}

static bool addr_is_any(const union weft_addr *a)
{
	static const union weft_addr any6, any4 = { .b = { [10] = 0xff,
							   [11] = 0xff } };

	return !memcmp(a, &any6, sizeof(*a)) || !memcmp(a, &any4, sizeof(*a));
}

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ns_sweep *sw = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct sock_row *r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_OK;
	if (sw->n >= SWEEP_SOCKETS_MAX) {
		sw->truncated = true;
		return MNL_CB_OK;
	}
	if (vec_reserve((void **)&sw->rows, &sw->cap, sw->n + 1,
			sizeof(*sw->rows))) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	r = &sw->rows[sw->n++];
	memset(r, 0, sizeof(*r));
	r->id = m->id;
	r->family = m->idiag_family;
	r->state = m->idiag_state;
	addr_from_diag(&r->local, m->idiag_family, m->id.idiag_src);
	addr_from_diag(&r->remote, m->idiag_family, m->id.idiag_dst);
	mnl_attr_for_each(attr, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(attr) == INET_DIAG_CGROUP_ID &&
		    mnl_attr_get_payload_len(attr) == sizeof(__u64)) {
			r->cgroup_id = mnl_attr_get_u64(attr);
			r->has_cgroup = true;
		}
	}
	return MNL_CB_OK;
}

/* A request of type about family's TCP sockets, built in buf. */
static struct inet_diag_req_v2 *diag_request(char *buf, __u16 type,
					     __u16 flags, __u8 family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = SWEEP_STATES;
	return req;
}

static int diag_dump(struct mnl_socket *nl, __u8 family, struct ns_sweep *sw)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))]
		__attribute__((aligned(NLMSG_ALIGNTO)));

	diag_request(buf, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, family);
	return netns_nl_exchange(nl, (struct nlmsghdr *)buf, diag_cb, sw);
}

/* Abort the socket r names (its cookie included, so never another one
 * that took its addresses meanwhile).  0 or negative errno. */
static int diag_destroy(struct mnl_socket *nl, const struct sock_row *r)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))]
		__attribute__((aligned(NLMSG_ALIGNTO)));

	diag_request(buf, SOCK_DESTROY, NLM_F_ACK, r->family)->id = r->id;
	return netns_nl_exchange(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

/* The destination side of an inbound connection: its local port is
 * listened on, at its own address or a wildcard. */
static bool row_is_inbound(const struct ns_sweep *sw, const struct sock_row *r)
{
	for (size_t i = 0; i < sw->nlisten; i++) {
		const struct sock_row *l = &sw->rows[i];

		if (l->id.idiag_sport == r->id.idiag_sport &&
		    (addr_is_any(&l->local) ||
		     !memcmp(&l->local, &r->local, sizeof(r->local))))
			return true;
	}
	return false;
}

static void log_closed(const struct ns_sweep *sw, const struct sock_row *r,
		       const struct weft_policy_verdict *v)
{
	const struct policy_info *p = v->policy < sw->ps->npolicies ?
					      &sw->ps->policies[v->policy] :
					      NULL;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	pr_debug("policy: closed %s:%u -> %s:%u in %s: %s, policy %s%s%s rule %d\n",
		 weft_addr_str(&r->remote, src, sizeof(src)),
		 ntohs(r->id.idiag_dport),
		 weft_addr_str(&r->local, dst, sizeof(dst)),
		 ntohs(r->id.idiag_sport), sw->w->path,
		 policy_reason_name(v->reason), p ? p->ns : "-",
		 p ? "/" : "", p ? p->name : "", (int)v->rule);
}

/* Judge one inbound socket; destroy it when denied. */
static void judge(struct ns_sweep *sw, struct mnl_socket *nl,
		  const struct sock_row *r)
{
	struct weft_policy_verdict v;
	int err;

	sw->res.judged++;
	policy_evaluate(sw->ps, &r->remote, &r->local, ntohs(r->id.idiag_sport),
			IPPROTO_TCP, &v);
	if (v.action != WEFT_POLICY_ACTION_DENY)
		return;
	if (sw->cs->no_destroy) {
		sw->res.failed++;
		return;
	}
	err = diag_destroy(nl, r);
	if (!err) {
		sw->res.closed++;
		log_closed(sw, r, &v);
	} else if (err == -ENOENT || err == -ESTALE) {
		return; /* closed by itself meanwhile */
	} else {
		sw->res.failed++;
		if (err == -EOPNOTSUPP) {
			pr_warn("SOCK_DESTROY is not supported (CONFIG_INET_DIAG_DESTROY): connections a new policy denies stay open until they end\n");
			sw->cs->no_destroy = true;
		} else {
			pr_debug("policy: closing a connection in %s: %s\n",
				 sw->w->path, strerror(-err));
		}
	}
}

/* Move the listeners to the front of sw->rows. */
static void rows_listeners_first(struct ns_sweep *sw)
{
	sw->nlisten = 0;
	for (size_t i = 0; i < sw->n; i++) {
		if (sw->rows[i].state == TCP_LISTEN) {
			struct sock_row t = sw->rows[sw->nlisten];

			sw->rows[sw->nlisten++] = sw->rows[i];
			sw->rows[i] = t;
		}
	}
}

/* netns_run() callback: one namespace, both families. */
static int sweep_here(void *arg)
{
	static const __u8 families[] = { AF_INET, AF_INET6 };
	struct ns_sweep *sw = arg;
	struct mnl_socket *nl;
	int err = 0;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	for (size_t f = 0; f < sizeof(families) && !err; f++) {
		sw->n = 0;
		err = diag_dump(nl, families[f], sw);
		rows_listeners_first(sw);
		for (size_t i = sw->nlisten; i < sw->n && !err; i++) {
			const struct sock_row *r = &sw->rows[i];

			if (r->has_cgroup &&
			    netns_scan_serves_cgroup(sw->scan, r->cgroup_id) &&
			    row_is_inbound(sw, r))
				judge(sw, nl, r);
		}
	}
	mnl_socket_close(nl);
	return err;
}

/* Can any TCP connection be denied by ps? */
static bool policy_denies_any(const struct policy_state *ps)
{
	return ps->ndst && (ps->enforced_protos & WEFT_POLICY_PROTO_TCP);
}

int conn_sweep_run(struct conn_sweep *cs, const struct netns_scan *s,
		   const struct policy_state *ps, struct conn_sweep_result *res)
{
	struct ns_sweep sw = { .cs = cs, .scan = s, .ps = ps };
	const struct netns_workload *ws;
	size_t nws;
	int first_err = 0, swept = 0, tried = 0;

	ws = netns_scan_workloads(s, &nws);
	if (!policy_denies_any(ps))
		nws = 0; /* every verdict is an ALLOW: nothing to visit */
	for (size_t i = 0; i < nws; i++) {
		int err;

		if (!ws[i].addrs.flags)
			continue; /* no workload address: nothing inbound */
		sw.w = &ws[i];
		tried++;
		err = netns_run(&ws[i], sweep_here, &sw);
		if (err) {
			pr_debug("policy: sweeping %s: %s\n", ws[i].path,
				 strerror(-err));
			first_err = first_err ?: err;
			continue;
		}
		swept++;
		sw.res.namespaces++;
	}
	free(sw.rows);
	if (sw.truncated)
		pr_warn("policy: a namespace holds more than %u TCP sockets; the rest were not judged\n",
			SWEEP_SOCKETS_MAX);
	pr_info("policy: closed %u established connections the policy in force denies (%u inbound judged in %u namespaces%s)\n",
		sw.res.closed, sw.res.judged, sw.res.namespaces,
		sw.res.failed ? ", some denied ones could not be closed" : "");
	if (res)
		*res = sw.res;
	if (tried && !swept)
		return first_err;
	return (int)sw.res.closed;
}

/* FNV-1a, 64 bits. */
static uint64_t digest_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define DIGEST_TABLE(h, ps, tbl)                                          \
	digest_add(digest_add((h), &(ps)->n##tbl, sizeof((ps)->n##tbl)),   \
		   (ps)->tbl, (ps)->n##tbl * sizeof(*(ps)->tbl))

/* Everything policy_evaluate() reads. */
static uint64_t policy_digest(const struct policy_state *ps)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = digest_add(h, &ps->enforced_protos, sizeof(ps->enforced_protos));
	h = DIGEST_TABLE(h, ps, dst);
	h = DIGEST_TABLE(h, ps, ident);
	h = DIGEST_TABLE(h, ps, src_ident);
	h = DIGEST_TABLE(h, ps, src_net);
	return DIGEST_TABLE(h, ps, verdicts);
}

int conn_sweep_on_change(struct conn_sweep *cs, const struct netns_scan *s,
			 const struct policy_state *ps)
{
	uint64_t digest = policy_digest(ps);

	if (cs->swept && digest == cs->digest)
		return 0;
	cs->swept = true;
	cs->digest = digest;
	if (!policy_denies_any(ps))
		return 0;
	return conn_sweep_run(cs, s, ps, NULL);
}
