// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Workload network namespaces -> weft_netns (contract in netns_scan.h). */
#include "netns_scan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lb.h"
#include "log.h"
#include "map_util.h"
#include "vec.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14 */
#endif

/* The kernel gives every namespace's loopback device this index. */
#define LOOPBACK_IFINDEX 1
/* Bounds of the cgroup walk: deeper or further cgroups are not served. */
#define CGROUP_DEPTH_MAX 32
#define CGROUP_DIRS_MAX 65536

struct netns_scan {
	char *netns_dir, *name_prefix, *cgroup;
	dev_t nsfs_dev;           /* every namespace file lives on nsfs */
	struct netns_workload *ws; /* sorted by ino */
	size_t nws;
	__u64 *cgroup_ids;        /* the served cgroup tree, sorted */
	size_t ncgroup_ids;
	bool no_cookie;           /* SO_NETNS_COOKIE unsupported (logged) */
	bool walk_truncated;      /* CGROUP_*_MAX hit (logged once) */
};

/* A namespace seen by this scan's listing; order: netns_dir entries
 * first, so a stable name is kept over a /proc/<pid> path. */
struct found {
	ino_t ino;
	size_t order;
	char *path;
	bool in_cgroup; /* found through a process of the served cgroup */
};

struct listing {
	struct found *v;
	size_t n, cap;
	__u64 *ids;
	size_t nids, idcap;
};

static uint64_t mono_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	free(l->ids);
}

/* Add path when it is a namespace file (a netns_dir entry whose mount is
 * not there yet is a plain file: skipped until it is). */
static int listing_add(const struct netns_scan *s, struct listing *l,
		       const char *path, bool in_cgroup)
{
	struct stat st;
	char *copy;

	if (stat(path, &st) || st.st_dev != s->nsfs_dev)
		return 0;
	if (l->n && l->v[l->n - 1].ino == st.st_ino) {
		/* the processes of a cgroup mostly share one */
		l->v[l->n - 1].in_cgroup |= in_cgroup;
		return 0;
	}
	if (vec_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return -ENOMEM;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	l->v[l->n] = (struct found){ st.st_ino, l->n, copy, in_cgroup };
	l->n++;
	return 0;
}

static int list_netns_dir(const struct netns_scan *s, struct listing *l)
{
	size_t plen = s->name_prefix ? strlen(s->name_prefix) : 0;
	struct dirent *d;
	int err = 0;
	DIR *dp;

	dp = opendir(s->netns_dir);
	if (!dp) {
		pr_debug("netns dir %s: %s\n", s->netns_dir, strerror(errno));
		return 0;
	}
	while (!err && (d = readdir(dp))) {
		char path[PATH_MAX];

		if (d->d_name[0] == '.' ||
		    (plen && strncmp(d->d_name, s->name_prefix, plen)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", s->netns_dir,
			     d->d_name) >= (int)sizeof(path))
			continue;
		err = listing_add(s, l, path, false);
	}
	closedir(dp);
	return err;
}

/* The namespaces of the processes in the cgroup open as dfd. */
static int list_cgroup_procs(const struct netns_scan *s, struct listing *l,
			     int dfd)
{
	int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	int pid, err = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0; /* removed meanwhile */
	}
	while (!err && fscanf(f, "%d", &pid) == 1) {
		char path[32];

		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		err = listing_add(s, l, path, true);
	}
	fclose(f);
	return err;
}

/* Visit the cgroup open as dfd (closed here) and the ones below it. */
static int walk_cgroup(struct netns_scan *s, struct listing *l, int dfd,
		       int depth)
{
	struct dirent *d;
	struct stat st;
	int err;
	DIR *dp;

	if (depth > CGROUP_DEPTH_MAX || l->nids >= CGROUP_DIRS_MAX) {
		if (!s->walk_truncated)
			pr_warn("cgroup %s: more than %d levels or %d cgroups; the ones beyond are not served\n",
				s->cgroup, CGROUP_DEPTH_MAX, CGROUP_DIRS_MAX);
		s->walk_truncated = true;
		close(dfd);
		return 0;
	}
	/* On cgroup2 a cgroup's id is its directory's inode number. */
	if (fstat(dfd, &st) == 0) {
		if (vec_reserve((void **)&l->ids, &l->idcap, l->nids + 1,
				sizeof(*l->ids))) {
			close(dfd);
			return -ENOMEM;
		}
		l->ids[l->nids++] = st.st_ino;
	}
	err = list_cgroup_procs(s, l, dfd);
	dp = fdopendir(dfd);
	if (!dp) {
		close(dfd);
		return err;
	}
	while (!err && (d = readdir(dp))) {
		int sub;

		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		sub = openat(dirfd(dp), d->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			err = walk_cgroup(s, l, sub, depth + 1);
	}
	closedir(dp);
	return err;
}

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Replace the workload list by the listing's namespaces, keeping what is
 * known of the ones seen before. */
static int scan_merge(struct netns_scan *s, struct listing *l)
{
	struct netns_workload *next;
	size_t n = 0, old = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), found_cmp);
	next = calloc(l->n ? l->n : 1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct found *f = &l->v[i];

		if (n && next[n - 1].ino == f->ino) {
			next[n - 1].in_cgroup |= f->in_cgroup;
			continue;
		}
		while (old < s->nws && s->ws[old].ino < f->ino)
			free(s->ws[old++].path);
		if (old < s->nws && s->ws[old].ino == f->ino) {
			next[n] = s->ws[old++];
			free(next[n].path);
		} else {
			next[n] = (struct netns_workload){ .ino = f->ino };
		}
		next[n].in_cgroup = f->in_cgroup;
		next[n++].path = f->path;
		f->path = NULL;
	}
	while (old < s->nws)
		free(s->ws[old++].path);
	free(s->ws);
	s->ws = next;
	s->nws = n;
	if (l->nids)
		qsort(l->ids, l->nids, sizeof(*l->ids), u64_cmp);
	free(s->cgroup_ids);
	s->cgroup_ids = l->ids;
	s->ncgroup_ids = l->nids;
	l->ids = NULL;
	return 0;
}

/* ---- inside a namespace ------------------------------------------------- */

struct ns_facts {
	__u64 cookie;
	bool no_cookie;
	struct weft_netns_addrs addrs;
};

static bool v4_is_global(const __u8 *a)
{
	return a[0] != 127 && a[0] != 0 && !(a[0] == 169 && a[1] == 254);
}

static bool v6_is_global(const __u8 *a)
{
	static const __u8 loopback[16] = { [15] = 1 };
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	return !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) && /* fe80::/10 */
	       memcmp(a, loopback, 16) && memcmp(a, mapped, 12);
}

/* RTM_NEWADDR: keep the first usable global address of each family. */
static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct weft_netns_addrs *out = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	__u32 flags = ifa->ifa_flags;
	const __u8 *a;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    ifa->ifa_index == LOOPBACK_IFINDEX)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(attr)) {
		case IFA_LOCAL:
			local = attr;
			break;
		case IFA_ADDRESS:
			address = attr;
			break;
		case IFA_FLAGS:
			if (mnl_attr_get_payload_len(attr) == 4)
				flags = mnl_attr_get_u32(attr);
			break;
		}
	}
	/* IFA_LOCAL is ours on a point-to-point link, IFA_ADDRESS the peer */
	attr = local ? local : address;
	if (!attr || (flags & IFA_F_DADFAILED))
		return MNL_CB_OK;
	a = mnl_attr_get_payload(attr);
	if (ifa->ifa_family == AF_INET && mnl_attr_get_payload_len(attr) == 4 &&
	    !(out->flags & WEFT_NETNS_F_IP4) && v4_is_global(a)) {
		memset(&out->ip4, 0, sizeof(out->ip4));
		out->ip4.b[10] = out->ip4.b[11] = 0xff; /* IPv4-mapped */
		memcpy(&out->ip4.b[12], a, 4);
		out->flags |= WEFT_NETNS_F_IP4;
	} else if (ifa->ifa_family == AF_INET6 &&
		   mnl_attr_get_payload_len(attr) == 16 &&
		   !(out->flags & WEFT_NETNS_F_IP6) && v6_is_global(a)) {
		memcpy(out->ip6.b, a, 16);
		out->flags |= WEFT_NETNS_F_IP6;
	}
	return MNL_CB_OK;
}

/* netns_run() callback: the namespace's cookie and global addresses. */
static int read_ns_facts(void *arg)
{
	struct ns_facts *facts = arg;
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifaddrmsg))]
		__attribute__((aligned(NLMSG_ALIGNTO)));
	socklen_t len = sizeof(facts->cookie);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int err;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* A socket belongs to the namespace it was created in. */
	if (getsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_NETNS_COOKIE,
		       &facts->cookie, &len)) {
		if (errno != ENOPROTOOPT) {
			err = -errno;
			goto out;
		}
		facts->no_cookie = true;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	err = netns_nl_exchange(nl, nlh, addr_cb, &facts->addrs);
out:
	mnl_socket_close(nl);
	return err;
}

/* ---- publishing ---------------------------------------------------------- */

static bool published(const struct netns_workload *w)
{
	return w->cookie && w->addrs.flags;
}

/* The keys a map should keep: n of size bytes, sorted by cmp. */
struct wanted_keys {
	const void *keys;
	size_t n, size;
	int (*cmp)(const void *, const void *);
};

static bool unwanted(const void *key, const void *arg)
{
	const struct wanted_keys *w = arg;

	return !w->n || !bsearch(key, w->keys, w->n, w->size, w->cmp);
}

static int publish(const struct netns_scan *s, int fd)
{
	size_t nwant = 0, gone = 0;
	__u64 *want;
	int err = 0, changed = 0, n;

	want = calloc(s->nws ? s->nws : 1, sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (size_t i = 0; i < s->nws; i++) {
		const struct netns_workload *w = &s->ws[i];
		struct weft_netns_addrs cur;

		if (!published(w))
			continue;
		want[nwant++] = w->cookie;
		if (!bpf_map_lookup_elem(fd, &w->cookie, &cur) &&
		    !memcmp(&cur, &w->addrs, sizeof(cur)))
			continue;
		pr_debug("weft_netns: cookie %llu: %s\n",
			 (unsigned long long)w->cookie, w->path);
		if (map_write(fd, &w->cookie, &w->addrs, "weft_netns"))
			err = err ?: -EIO;
		else
			changed++;
	}
	if (nwant)
		qsort(want, nwant, sizeof(*want), u64_cmp);
	n = map_delete_matching(fd, sizeof(*want), unwanted,
				&(struct wanted_keys){ want, nwant, sizeof(*want),
						       u64_cmp },
				&gone);
	err = err ?: n;
	changed += (int)gone;
	if (changed)
		pr_info("workload namespaces: %zu served, %zu with a cookie and an address in weft_netns (%d changed)\n",
			s->nws, nwant, changed);
	free(want);
	return err;
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(union weft_addr));
}

/*
 * weft_node_addrs: exactly the addresses of the published namespaces that
 * a process of the served cgroup lives in, the managed workloads (abi.h
 * says what for).  Written after weft_netns; a stale address is harmless
 * while it lasts (a client to it joins the hash and leaves at its first
 * send).
 */
static int publish_node_addrs(const struct netns_scan *s, int fd)
{
	union weft_addr *want;
	const __u32 one = 1;
	size_t nwant = 0;
	int err = 0, n;

	want = calloc(2 * (s->nws ? s->nws : 1), sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (size_t i = 0; i < s->nws; i++) {
		const struct netns_workload *w = &s->ws[i];

		if (!published(w) || !w->in_cgroup)
			continue;
		if (w->addrs.flags & WEFT_NETNS_F_IP4)
			want[nwant++] = w->addrs.ip4;
		if (w->addrs.flags & WEFT_NETNS_F_IP6)
			want[nwant++] = w->addrs.ip6;
	}
	for (size_t i = 0; i < nwant; i++)
		if (map_write(fd, &want[i], &one, "weft_node_addrs"))
			err = err ?: -EIO;
	if (nwant)
		qsort(want, nwant, sizeof(*want), addr_cmp);
	n = map_delete_matching(fd, sizeof(*want), unwanted,
				&(struct wanted_keys){ want, nwant, sizeof(*want),
						       addr_cmp },
				NULL);
	free(want);
	return n ?: err;
}

/* ---- the scanner ---------------------------------------------------------- */

static char *strdup_opt(const char *s, bool *oom)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c)
		*oom = true;
	return c;
}

int netns_scan_new(const struct netns_scan_opts *opts, struct netns_scan **out)
{
	struct netns_scan *s = calloc(1, sizeof(*s));
	bool oom = !s;
	struct stat st;

	*out = NULL;
	if (oom)
		return -ENOMEM;
	s->netns_dir = strdup_opt(opts->netns_dir, &oom);
	s->name_prefix = strdup_opt(opts->name_prefix, &oom);
	s->cgroup = strdup_opt(opts->cgroup, &oom);
	if (oom) {
		netns_scan_free(s);
		return -ENOMEM;
	}
	if (stat("/proc/self/ns/net", &st) == 0)
		s->nsfs_dev = st.st_dev;
	*out = s;
	return 0;
}

void netns_scan_free(struct netns_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nws; i++)
		free(s->ws[i].path);
	free(s->ws);
	free(s->cgroup_ids);
	free(s->netns_dir);
	free(s->name_prefix);
	free(s->cgroup);
	free(s);
}

/* Enter the namespaces that need a visit (contract at the top of .h). */
static void scan_visit(struct netns_scan *s)
{
	uint64_t now = mono_now_ms();

	for (size_t i = 0; i < s->nws; i++) {
		struct netns_workload *w = &s->ws[i];
		struct ns_facts facts = {};
		char a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
		int err;

		if (w->visited_ms && w->addrs.flags &&
		    now - w->visited_ms < NETNS_REFRESH_MS)
			continue;
		err = netns_run(w, read_ns_facts, &facts);
		if (err) {
			pr_debug("netns %s: %s\n", w->path, strerror(-err));
			continue;
		}
		if (facts.no_cookie && !s->no_cookie)
			pr_warn("SO_NETNS_COOKIE is not supported (Linux < 5.14): connect() will not enforce AuthorizationPolicy; destinations still do\n");
		s->no_cookie |= facts.no_cookie;
		if (!w->visited_ms || w->cookie != facts.cookie ||
		    memcmp(&w->addrs, &facts.addrs, sizeof(w->addrs)))
			pr_debug("netns %s: cookie %llu, %s %s\n", w->path,
				 (unsigned long long)facts.cookie,
				 facts.addrs.flags & WEFT_NETNS_F_IP4 ?
					 weft_addr_str(&facts.addrs.ip4, a4,
						       sizeof(a4)) :
					 "-",
				 facts.addrs.flags & WEFT_NETNS_F_IP6 ?
					 weft_addr_str(&facts.addrs.ip6, a6,
						       sizeof(a6)) :
					 "-");
		w->cookie = facts.cookie;
		w->addrs = facts.addrs;
		w->visited_ms = now;
	}
}

int netns_scan_run(struct netns_scan *s, int map_fd, int node_addrs_fd)
{
	int published_err;

	struct listing l = {};
	int err = 0;

	if (s->netns_dir)
		err = list_netns_dir(s, &l);
	if (!err && s->cgroup) {
		int dfd = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0)
			err = walk_cgroup(s, &l, dfd, 0);
		else
			pr_debug("cgroup %s: %s\n", s->cgroup, strerror(errno));
	}
	err = err ?: scan_merge(s, &l);
	listing_free(&l);
	if (err) {
		pr_warn("scanning workload namespaces: %s\n", strerror(-err));
		return err;
	}
	scan_visit(s);
	published_err = map_fd >= 0 ? publish(s, map_fd) : 0;
	err = node_addrs_fd >= 0 ? publish_node_addrs(s, node_addrs_fd) : 0;
	return published_err ?: err;
}

const struct netns_workload *netns_scan_workloads(const struct netns_scan *s,
						  size_t *n)
{
	*n = s->nws;
	return s->ws;
}

bool netns_scan_serves_cgroup(const struct netns_scan *s, __u64 cgroup_id)
{
	return s->ncgroup_ids &&
	       bsearch(&cgroup_id, s->cgroup_ids, s->ncgroup_ids,
		       sizeof(*s->cgroup_ids), u64_cmp);
}

int netns_run(const struct netns_workload *w, int (*fn)(void *arg), void *arg)
{
	struct stat st;
	int home, fd, ret;

	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_home;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (st.st_ino != w->ino) {
		ret = -ESTALE; /* a /proc/<pid> path of a pid reused meanwhile */
		goto out;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	ret = fn(arg);
	if (setns(home, CLONE_NEWNET)) {
		pr_warn("cannot return from network namespace %s: %s\n",
			w->path, strerror(errno));
		abort();
	}
out:
	close(fd);
out_home:
	close(home);
	return ret;
}

int netns_nl_exchange(struct mnl_socket *nl, struct nlmsghdr *req,
		      mnl_cb_t cb, void *data)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	static unsigned int last_seq;
	unsigned int portid = mnl_socket_get_portid(nl), seq = ++last_seq;
	ssize_t n;
	int ret;

	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}
