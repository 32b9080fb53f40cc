/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Established connections after a policy change.  The datapath decides a
 * connection once, on its SYN (bpf/policy.bpf.c) or at connect(); a DENY
 * added later would leave the connections already open running.  ztunnel
 * re-evaluates open connections when policy changes and closes the ones no
 * longer allowed (Istio sidecars do not); weft does as ztunnel does.
 *
 * In every served namespace (netns_scan.h) the TCP sockets are dumped
 * with NETLINK_SOCK_DIAG, both families.  An established socket (or one
 * in CLOSE_WAIT: it can still send) whose local port is a listening port
 * of that namespace, with the listener's address equal to its own or a
 * wildcard, is the destination side of an inbound connection.  It is
 * judged as the ingress program judged its SYN, policy_evaluate(remote,
 * local, local port, TCP), and when denied it is destroyed with
 * SOCK_DESTROY: the kernel sends the peer a RST and the local application
 * sees ECONNABORTED.  Only sockets of the served cgroup tree are judged,
 * the ones the ingress program enforces for: a namespace also holds
 * sockets of processes weft does not serve (and never the host's own
 * namespace, unless a netns directory or a served process lists it).
 */
#ifndef WEFT_AGENT_CONN_SWEEP_H
#define WEFT_AGENT_CONN_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

struct netns_scan;
struct policy_state;

struct conn_sweep {
	uint64_t digest;  /* of the tables of the last sweep */
	bool swept;       /* a sweep ran: digest is valid */
	bool no_destroy;  /* SOCK_DESTROY unsupported (logged once) */
};

struct conn_sweep_result {
	unsigned int namespaces; /* entered */
	unsigned int judged;     /* inbound connections evaluated */
	unsigned int closed;     /* denied and destroyed */
	unsigned int failed;     /* denied, not destroyed */
};

/*
 * Close the inbound TCP connections ps denies in every namespace of the
 * last scan of s (run netns_scan_run() first: the served cgroups come
 * from it too).  Logs "policy: closed N established connections ..." at
 * info level, each one at debug level with its policy and reason.
 * Returns the number closed, or a negative errno when no namespace could
 * be swept at all.  *res may be NULL.
 */
int conn_sweep_run(struct conn_sweep *cs, const struct netns_scan *s,
		   const struct policy_state *ps, struct conn_sweep_result *res);

/*
 * conn_sweep_run() when ps differs from the tables of the last sweep
 * (the first call always sweeps: connections opened before the agent
 * started, or under tables a previous agent applied, are judged once),
 * else nothing.  The comparison is a 64-bit digest of everything
 * policy_evaluate() reads.  Same return value; 0 when nothing changed.
 */
int conn_sweep_on_change(struct conn_sweep *cs, const struct netns_scan *s,
			 const struct policy_state *ps);

#endif /* WEFT_AGENT_CONN_SWEEP_H */
