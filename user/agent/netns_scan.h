/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Workload network namespaces: which ones this agent serves, what their
 * cookie and addresses are, and weft_netns, which tells connect() the
 * source address of its workload before the socket is bound
 * (bpf/sock_lb.bpf.c, sock_policy_allows()).
 *
 * Served namespaces are found two ways, deduplicated by nsfs inode:
 *   - every entry of a netns directory (/run/netns: where CNI plugins and
 *     `ip netns` bind-mount them), optionally only names with a prefix;
 *   - the namespace of every process of the served cgroup tree
 *     (cgroup.procs of the cgroup and of every cgroup below it, then
 *     /proc/<pid>/ns/net): Kubernetes pods.
 * The agent's own namespace is served only when one of the two lists it.
 *
 * A namespace is entered (setns() in the calling thread, always followed
 * by a setns() back) only when it is new, when it had no global address
 * at its last visit (a CNI plugin creates the namespace first and
 * configures it afterwards), or when its last visit is older than
 * NETNS_REFRESH_MS; any other scan costs one stat() per entry and per
 * process.  So an address that changes on a namespace that already had
 * one is seen within NETNS_REFRESH_MS; meanwhile connect() decides with
 * the old one, and the destination, which sees the true source address,
 * still enforces.
 *
 * Not thread-safe: the calling thread changes network namespace while a
 * scan or netns_run() is under way.
 */
#ifndef WEFT_AGENT_NETNS_SCAN_H
#define WEFT_AGENT_NETNS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>
#include <weft/abi.h>

#define NETNS_REFRESH_MS 10000

struct netns_scan_opts {
	const char *netns_dir;   /* NULL: none */
	const char *name_prefix; /* only entries named so; NULL: every one */
	const char *cgroup;      /* served cgroup, absolute; NULL: none */
};

/* One served namespace, as of the last scan. */
struct netns_workload {
	ino_t ino;       /* nsfs inode: the namespace's identity while alive */
	char *path;      /* where it was found: <netns_dir>/<name> or
			  * /proc/<pid>/ns/net */
	__u64 cookie;    /* SO_NETNS_COOKIE; 0 when unknown */
	struct weft_netns_addrs addrs; /* flags 0: no global address */
	uint64_t visited_ms; /* CLOCK_MONOTONIC of the last visit; 0: never */
	bool in_cgroup;  /* a process of the served cgroup lives in it */
};

struct netns_scan;

/* A scanner for opts (the strings are copied).  0 or -ENOMEM. */
int netns_scan_new(const struct netns_scan_opts *opts, struct netns_scan **out);
void netns_scan_free(struct netns_scan *s); /* accepts NULL */

/*
 * Rescan: list the served namespaces, visit the new and stale ones (see
 * the top), forget the ones that are gone.  A namespace that cannot be
 * entered is skipped with a debug message.  Then, when map_fd >= 0, make
 * weft_netns hold exactly the namespaces with a cookie and at least one
 * global address: add or update those, delete every other cookie; and
 * when node_addrs_fd >= 0, make weft_node_addrs hold exactly the
 * addresses of those a process of the served cgroup lives in.
 * Returns 0, or a negative errno (logged; the previous list stays on
 * -ENOMEM).
 */
int netns_scan_run(struct netns_scan *s, int map_fd, int node_addrs_fd);

/* The served namespaces found by the last scan, sorted by inode. */
const struct netns_workload *netns_scan_workloads(const struct netns_scan *s,
						  size_t *n);

/* Is cgroup_id (a cgroup2 id) the served cgroup or one below it, as of
 * the last scan?  Always false without a served cgroup. */
bool netns_scan_serves_cgroup(const struct netns_scan *s, __u64 cgroup_id);

/*
 * Run fn(arg) inside w's namespace: enter it (after checking that w->path
 * still names the same namespace: -ESTALE otherwise), call fn, return to
 * the caller's namespace.  fn's result, or a negative errno when the
 * namespace could not be entered.  Returning cannot fail short of a
 * kernel bug; if it does, the process aborts rather than go on creating
 * sockets in a workload's namespace.
 */
int netns_run(const struct netns_workload *w, int (*fn)(void *arg), void *arg);

/*
 * One netlink request on nl (in the namespace nl was opened in): send req
 * and feed every answer to cb until the kernel says done (a dump's
 * NLMSG_DONE, or the ACK of a request with NLM_F_ACK).  0, or a negative
 * errno: the kernel's NLMSG_ERROR, or the socket's.
 */
int netns_nl_exchange(struct mnl_socket *nl, struct nlmsghdr *req,
		      mnl_cb_t cb, void *data);

#endif /* WEFT_AGENT_NETNS_SCAN_H */
