// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Datapath tests for bpf/sock_lb.bpf.c with real sockets.
 *
 * The kernel has no BPF_PROG_TEST_RUN for cgroup sock_addr programs, so each
 * test runs the real thing on a small scale: the test process (already a
 * forked child of the runner) moves itself into a fresh child cgroup, enters
 * a private network namespace (unshare: it dies with the process, nothing to
 * clean), installs the datapath with the agent's own loader and apply code,
 * and talks to listeners on that namespace's loopback through VIPs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent/apply.h"
#include "agent/loader.h"
#include "datapath.h"
#include "lb.h"
#include "sysfs.h"
#include "test.h"

#define MAX_LISTENERS 4

struct lb_env {
	char cgroup[PATH_MAX];
	char cgroup_root[PATH_MAX - 64];
	char pin_dir[PATH_MAX];
	struct loader *loader;
	bool in_cgroup;
};

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int join_cgroup(const char *cgroup)
{
	char path[PATH_MAX + 32], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = -errno;
	} else {
		err = -errno;
	}
	close(fd);
	return err;
}

static bool env_setup(struct lb_env *env)
{
	memset(env, 0, sizeof(*env));
	if (!ASSERT_OK(sysfs_cgroup2_mount(env->cgroup_root,
					   sizeof(env->cgroup_root)),
		       "cgroup2 mount"))
		return false;
	snprintf(env->cgroup, sizeof(env->cgroup), "%s/weft-ktest-%d",
		 env->cgroup_root, getpid());
	snprintf(env->pin_dir, sizeof(env->pin_dir), "/sys/fs/bpf/weft-ktest-%d",
		 getpid());
	if (!ASSERT_OK(mkdir(env->cgroup, 0755) ? -errno : 0, "mkdir cgroup"))
		return false;
	if (!ASSERT_OK(join_cgroup(env->cgroup), "join cgroup"))
		return false;
	env->in_cgroup = true;
	if (!ASSERT_OK(unshare(CLONE_NEWNET) ? -errno : 0, "unshare netns") ||
	    !ASSERT_OK(loopback_up(), "lo up"))
		return false;
	return ASSERT_OK(loader_install(env->cgroup, env->pin_dir, &env->loader),
			 "loader_install");
}

static void env_teardown(struct lb_env *env)
{
	loader_free(env->loader);
	ASSERT_OK(datapath_uninstall(env->pin_dir), "uninstall");
	if (env->in_cgroup)
		ASSERT_OK(join_cgroup(env->cgroup_root), "leave cgroup");
	if (env->cgroup[0] && rmdir(env->cgroup) && errno != ENOENT)
		test_fail(__FILE__, __LINE__, "rmdir %s: %s", env->cgroup,
			  strerror(errno));
}

static void addr_set(union weft_addr *a, const char *text)
{
	if (weft_addr_parse(text, a))
		test_fail(__FILE__, __LINE__, "bad address %s", text);
}

/*
 * One service with its own cluster of the given backends ("127.0.0.1" with
 * backend_port[i]) balanced by `policy`.  With ndests > 0 its route goes to
 * the clusters of other specs instead (dest_spec[i], dest_weight[i]), the
 * way a VirtualService splits over subsets.
 */
struct svc_spec {
	const char *vip;
	uint16_t port;
	uint8_t proto;
	int nbackends;
	const char *backend[MAX_LISTENERS];
	uint16_t backend_port[MAX_LISTENERS];
	uint16_t weight[MAX_LISTENERS];
	enum lb_policy policy;
	int ndests;
	int dest_spec[MAX_LISTENERS];
	uint32_t dest_weight[MAX_LISTENERS];
};

#define MAX_SPECS 8

static int apply_specs(struct lb_env *env, const struct svc_spec *specs,
		       int nspecs)
{
	struct lb_service svcs[MAX_SPECS] = {};
	struct lb_cluster clusters[MAX_SPECS] = {};
	struct lb_backend backends[MAX_SPECS][MAX_LISTENERS] = {};
	struct lb_state state = { .nservices = (size_t)nspecs,
				  .services = svcs,
				  .nclusters = (size_t)nspecs,
				  .clusters = clusters };
	struct apply_result res;

	/* cluster names sort like the spec index: state->clusters is sorted */
	for (int i = 0; i < nspecs; i++) {
		struct lb_cluster *cl = &clusters[i];

		snprintf(cl->host, sizeof(cl->host),
			 "svc%d.test.svc.cluster.local", i);
		snprintf(cl->name, sizeof(cl->name),
			 "outbound|%u||svc%d.test.svc.cluster.local",
			 specs[i].port, i);
		cl->port = specs[i].port;
		cl->policy = specs[i].policy;
		cl->nbackends = (size_t)specs[i].nbackends;
		cl->backends = backends[i];
		for (int b = 0; b < specs[i].nbackends; b++) {
			addr_set(&backends[i][b].addr, specs[i].backend[b]);
			backends[i][b].port = specs[i].backend_port[b];
			backends[i][b].weight = specs[i].weight[b] ?: 1;
		}

		strcpy(svcs[i].host, cl->host);
		strcpy(svcs[i].ns, "test");
		addr_set(&svcs[i].vip, specs[i].vip);
		svcs[i].port = specs[i].port;
		svcs[i].proto = specs[i].proto;
		svcs[i].nbackends = cl->nbackends;
		svcs[i].backends = cl->backends;
		if (!specs[i].ndests) {
			svcs[i].ndests = 1;
			svcs[i].dests[0] = (struct lb_route_dest){ i, 1 };
			continue;
		}
		for (int d = 0; d < specs[i].ndests; d++) {
			if (!specs[i].dest_weight[d])
				continue;
			svcs[i].dests[svcs[i].ndests++] = (struct lb_route_dest){
				(size_t)specs[i].dest_spec[d],
				specs[i].dest_weight[d]
			};
		}
	}
	return apply_state(loader_maps(env->loader), &state, "ktest", &res);
}

static int sockaddr_make(struct sockaddr_storage *ss, const char *ip,
			 uint16_t port, int family)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ?
			       (int)sizeof(*sin) : -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1 ?
		       (int)sizeof(*sin6) : -EINVAL;
}

static int listener(const char *ip, uint16_t port, int type)
{
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	struct sockaddr_storage ss;
	int one = 1, fd, len;

	len = sockaddr_make(&ss, ip, port, family);
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || len < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* connect() to ip:port on a new socket; returns the fd or -errno. */
static int dial(const char *ip, uint16_t port, int family, int type)
{
	struct sockaddr_storage ss;
	int fd, len, err;

	len = sockaddr_make(&ss, ip, port, family);
	if (len < 0)
		return len;
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Which listener got the connection: index, or -1 after 1 s. */
static int accepted_by(const int *lfd, int n)
{
	struct pollfd pfd[MAX_LISTENERS];

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
	if (poll(pfd, (nfds_t)n, 1000) <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (pfd[i].revents & POLLIN) {
			int c = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				close(c);
			return i;
		}
	}
	return -1;
}

/* Accept one pending connection on lfd and keep it in *fd; 0 or -1. */
static int accepted_by_keep(int lfd, int *fd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (poll(&pfd, 1, 1000) != 1)
		return -1;
	*fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return *fd >= 0 ? 0 : -1;
}

static ssize_t recv_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static bool peer_is(int fd, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[INET6_ADDRSTRLEN] = "?";
	uint16_t got;

	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		return false;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		got = ntohs(sin->sin_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		got = ntohs(sin6->sin6_port);
	}
	test_log("getpeername: %s:%u\n", buf, got);
	return strcmp(buf, ip) == 0 && got == port;
}

static __u64 service_connects(struct lb_env *env, const char *vip,
			      uint16_t port, uint8_t proto, __u64 *no_backend)
{
	const struct datapath_maps *maps = loader_maps(env->loader);
	struct weft_service_key key = { .port = htons(port), .proto = proto };
	struct weft_service val;
	struct weft_service_stats st = {};

	addr_set(&key.vip, vip);
	if (bpf_map_lookup_elem(maps->services, &key, &val) ||
	    datapath_service_stats_read(maps->service_stats, val.service_id,
					&st))
		return (__u64)-1;
	if (no_backend)
		*no_backend = st.no_backend;
	return st.connects;
}

/* The cluster of a service's route destination d. */
static bool cluster_of(struct lb_env *env, const char *vip, uint16_t port,
		       int d, struct weft_cluster *cl)
{
	const struct datapath_maps *maps = loader_maps(env->loader);
	struct weft_service_key key = { .port = htons(port),
					.proto = IPPROTO_TCP };
	struct weft_service svc;

	addr_set(&key.vip, vip);
	return !bpf_map_lookup_elem(maps->services, &key, &svc) &&
	       d < svc.ndests &&
	       !bpf_map_lookup_elem(maps->clusters, &svc.dests[d].cluster_id,
				    cl);
}

/* 3 TCP backends behind one VIP, for one socket family. */
static void tcp_spread(int family, const char *vip, const char *lo)
{
	struct svc_spec spec = {
		.vip = vip, .port = 80, .proto = IPPROTO_TCP, .nbackends = 3,
		.backend = { lo, lo, lo }, .backend_port = { 9001, 9002, 9003 },
	};
	int lfd[3] = { -1, -1, -1 }, hits[3] = {}, i;
	const char *dial_vip = vip;
	char mapped[64];
	struct lb_env env;

	if (family == AF_INET6 && !strchr(vip, ':')) {
		/* IPv4-mapped VIP on an AF_INET6 socket */
		snprintf(mapped, sizeof(mapped), "::ffff:%s", vip);
		dial_vip = mapped;
	}
	if (!env_setup(&env))
		goto out;
	for (i = 0; i < 3; i++) {
		lfd[i] = listener(lo, spec.backend_port[i], SOCK_STREAM);
		if (!ASSERT_GE(lfd[i], 0, "listener"))
			goto out;
	}
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	for (i = 0; i < 60; i++) {
		int fd = dial(dial_vip, 80, family, SOCK_STREAM), who;

		if (!ASSERT_GE(fd, 0, "connect via VIP"))
			goto out;
		if (i == 0)
			ASSERT_TRUE(peer_is(fd, dial_vip, 80),
				    "getpeername shows the VIP");
		who = accepted_by(lfd, 3);
		close(fd);
		if (!ASSERT_GE(who, 0, "a backend accepted"))
			goto out;
		hits[who]++;
	}
	for (i = 0; i < 3; i++)
		ASSERT_GE(hits[i], 1, "every backend reached");
	ASSERT_EQ(service_connects(&env, vip, 80, IPPROTO_TCP, NULL), 60,
		  "per-service connects");
out:
	for (i = 0; i < 3; i++)
		if (lfd[i] >= 0)
			close(lfd[i]);
	env_teardown(&env);
}

WEFT_KERNEL_TEST(sock_lb_tcp4)
{
	tcp_spread(AF_INET, "10.96.0.1", "127.0.0.1");
}

WEFT_KERNEL_TEST(sock_lb_tcp6)
{
	tcp_spread(AF_INET6, "fd00:96::1", "::1");
}

WEFT_KERNEL_TEST(sock_lb_tcp_v4_mapped)
{
	tcp_spread(AF_INET6, "10.96.0.1", "127.0.0.1");
}

/* Unconnected UDP: sendto(VIP), the reply's source reads as the VIP. */
static void udp_roundtrip(int family, const char *vip, const char *lo,
			  bool connected)
{
	struct svc_spec spec = {
		.vip = vip, .port = 53, .proto = IPPROTO_UDP, .nbackends = 1,
		.backend = { lo }, .backend_port = { 9053 },
	};
	struct sockaddr_storage to, from, peer;
	socklen_t flen = sizeof(from), plen = sizeof(peer);
	int srv = -1, cli = -1, len;
	char buf[64];
	ssize_t n;
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	srv = listener(lo, 9053, SOCK_DGRAM);
	if (!ASSERT_GE(srv, 0, "udp backend") ||
	    !ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	len = sockaddr_make(&to, vip, 53, family);
	if (connected) {
		cli = dial(vip, 53, family, SOCK_DGRAM);
		if (!ASSERT_GE(cli, 0, "udp connect via VIP"))
			goto out;
		ASSERT_TRUE(peer_is(cli, vip, 53), "getpeername shows the VIP");
		n = send(cli, "ping", 4, 0);
	} else {
		cli = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		n = sendto(cli, "ping", 4, 0, (struct sockaddr *)&to,
			   (socklen_t)len);
	}
	if (!ASSERT_EQ(n, 4, "send to VIP"))
		goto out;
	/* the backend answers whoever sent it */
	struct pollfd p = { .fd = srv, .events = POLLIN };
	if (!ASSERT_EQ(poll(&p, 1, 1000), 1, "backend got the datagram"))
		goto out;
	n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
	ASSERT_EQ(n, 4, "backend read");
	ASSERT_EQ(sendto(srv, "pong", 4, 0, (struct sockaddr *)&peer, plen), 4,
		  "backend reply");
	p = (struct pollfd){ .fd = cli, .events = POLLIN };
	if (!ASSERT_EQ(poll(&p, 1, 1000), 1, "reply arrived"))
		goto out;
	n = recvfrom(cli, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	ASSERT_EQ(n, 4, "client read");
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&from;
		struct sockaddr_in *b = (struct sockaddr_in *)&to;

		ASSERT_EQ(a->sin_addr.s_addr, b->sin_addr.s_addr,
			  "reply source is the VIP");
		ASSERT_EQ(a->sin_port, b->sin_port, "reply port is the VIP's");
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from;
		struct sockaddr_in6 *b = (struct sockaddr_in6 *)&to;

		ASSERT_TRUE(!memcmp(&a->sin6_addr, &b->sin6_addr, 16),
			    "reply source is the VIP");
		ASSERT_EQ(a->sin6_port, b->sin6_port, "reply port is the VIP's");
	}
out:
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);
	env_teardown(&env);
}

WEFT_KERNEL_TEST(sock_lb_udp4_sendto)
{
	udp_roundtrip(AF_INET, "10.96.0.53", "127.0.0.1", false);
}

WEFT_KERNEL_TEST(sock_lb_udp6_sendto)
{
	udp_roundtrip(AF_INET6, "fd00:96::53", "::1", false);
}

WEFT_KERNEL_TEST(sock_lb_udp4_connected)
{
	udp_roundtrip(AF_INET, "10.96.0.53", "127.0.0.1", true);
}

WEFT_KERNEL_TEST(sock_lb_udp_v4_mapped_sendto)
{
	udp_roundtrip(AF_INET6, "::ffff:10.96.0.53", "127.0.0.1", false);
}

/* A service without backends refuses at once; other addresses pass. */
WEFT_KERNEL_TEST(sock_lb_no_backend_refused)
{
	struct svc_spec spec[2] = {
		{ .vip = "10.96.0.9", .port = 80, .proto = IPPROTO_TCP },
		{ .vip = "fd00:96::9", .port = 80, .proto = IPPROTO_TCP },
	};
	__u64 refused = 0;
	struct lb_env env;
	int lfd = -1, fd;

	if (!env_setup(&env))
		goto out;
	if (!ASSERT_OK(apply_specs(&env, spec, 2), "apply"))
		goto out;
	fd = dial("10.96.0.9", 80, AF_INET, SOCK_STREAM);
	ASSERT_EQ(fd, -ECONNREFUSED, "v4 connect refused");
	fd = dial("fd00:96::9", 80, AF_INET6, SOCK_STREAM);
	ASSERT_EQ(fd, -ECONNREFUSED, "v6 connect refused");
	fd = dial("10.96.0.9", 80, AF_INET, SOCK_DGRAM);
	/* no UDP service on that VIP: untranslated, and nothing routes it */
	ASSERT_EQ(fd, -ENETUNREACH, "udp to a TCP-only VIP untouched");
	service_connects(&env, "10.96.0.9", 80, IPPROTO_TCP, &refused);
	ASSERT_EQ(refused, 1, "no_backend counted");

	/* a non-service address on the same port is untouched */
	lfd = listener("127.0.0.1", 80, SOCK_STREAM);
	fd = dial("127.0.0.1", 80, AF_INET, SOCK_STREAM);
	if (ASSERT_GE(fd, 0, "direct connect untouched")) {
		ASSERT_TRUE(peer_is(fd, "127.0.0.1", 80), "peer unchanged");
		close(fd);
	}
out:
	if (lfd >= 0)
		close(lfd);
	env_teardown(&env);
}

/* Count which of n listeners takes each of `rounds` connections. */
static bool spread(const char *vip, const int *lfd, int n, int rounds,
		   int *hits)
{
	memset(hits, 0, sizeof(int) * (size_t)n);
	for (int i = 0; i < rounds; i++) {
		int fd = dial(vip, 80, AF_INET, SOCK_STREAM), who;

		if (!ASSERT_GE(fd, 0, "connect via VIP"))
			return false;
		who = accepted_by(lfd, n);
		close(fd);
		if (!ASSERT_GE(who, 0, "a backend accepted"))
			return false;
		hits[who]++;
	}
	return true;
}

/* WorkloadEntry-style weights 3:1 become 3:1 slots. */
WEFT_KERNEL_TEST(sock_lb_weights)
{
	struct svc_spec spec = {
		.vip = "10.96.0.2", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 2, .backend = { "127.0.0.1", "127.0.0.1" },
		.backend_port = { 9001, 9002 }, .weight = { 30, 10 },
		.policy = LB_POLICY_RANDOM,
	};
	int lfd[2] = { -1, -1 }, hits[2];
	struct lb_env env;
	struct weft_cluster cl;

	if (!env_setup(&env))
		goto out;
	lfd[0] = listener("127.0.0.1", 9001, SOCK_STREAM);
	lfd[1] = listener("127.0.0.1", 9002, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	if (ASSERT_TRUE(cluster_of(&env, "10.96.0.2", 80, 0, &cl), "cluster"))
		ASSERT_EQ(cl.count, 4, "3+1 slots after dividing by the gcd");
	if (!spread("10.96.0.2", lfd, 2, 400, hits))
		goto out;
	/* expected 300; 4.6 standard deviations either side */
	ASSERT_GE(hits[0], 260, "weight 3 backend share");
	ASSERT_LE(hits[0], 340, "weight 3 backend share");
out:
	for (int i = 0; i < 2; i++)
		if (lfd[i] >= 0)
			close(lfd[i]);
	env_teardown(&env);
}

/* A removed backend gets no new connection; ids and counters carry over. */
WEFT_KERNEL_TEST(sock_lb_backend_removed)
{
	struct svc_spec spec = {
		.vip = "10.96.0.3", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 3, .backend = { "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		.backend_port = { 9001, 9002, 9003 },
	};
	int lfd[3] = { -1, -1, -1 }, hits[3];
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	for (int i = 0; i < 3; i++)
		lfd[i] = listener("127.0.0.1", spec.backend_port[i], SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply 3 backends") ||
	    !spread("10.96.0.3", lfd, 3, 30, hits))
		goto out;
	spec.nbackends = 2; /* drop 127.0.0.1:9003 */
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply 2 backends") ||
	    !spread("10.96.0.3", lfd, 3, 60, hits))
		goto out;
	ASSERT_EQ(hits[2], 0, "removed backend not reached");
	ASSERT_GE(hits[0], 1, "backend 1 reached");
	ASSERT_GE(hits[1], 1, "backend 2 reached");
	ASSERT_EQ(service_connects(&env, "10.96.0.3", 80, IPPROTO_TCP, NULL),
		  90, "counter kept across the change");
out:
	for (int i = 0; i < 3; i++)
		if (lfd[i] >= 0)
			close(lfd[i]);
	env_teardown(&env);
}

static __u32 link_prog_id(const char *pin_dir, const char *prog)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	datapath_pin_path(path, sizeof(path), pin_dir, "links", prog);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	close(fd);
	return info.prog_id;
}

/* A second install adopts the pinned links and maps of the first. */
WEFT_KERNEL_TEST(sock_lb_reinstall_adopts_pins)
{
	struct svc_spec spec = {
		.vip = "10.96.0.4", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 1, .backend = { "127.0.0.1" },
		.backend_port = { 9001 },
	};
	__u32 before, after;
	struct lb_env env;
	int lfd = -1, fd;

	if (!env_setup(&env))
		goto out;
	lfd = listener("127.0.0.1", 9001, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	before = link_prog_id(env.pin_dir, "weft_connect4");
	loader_free(env.loader);
	env.loader = NULL;

	/* no agent: the pinned datapath still translates */
	fd = dial("10.96.0.4", 80, AF_INET, SOCK_STREAM);
	if (ASSERT_GE(fd, 0, "connect with no agent running"))
		close(fd);
	ASSERT_EQ(accepted_by(&lfd, 1), 0, "backend reached");

	if (!ASSERT_OK(loader_install(env.cgroup, env.pin_dir, &env.loader),
		       "second install"))
		goto out;
	after = link_prog_id(env.pin_dir, "weft_connect4");
	ASSERT_NEQ(before, 0, "link pinned");
	ASSERT_NEQ(after, before, "new program swapped into the same link");
	/* maps reused: the service is there without applying again */
	fd = dial("10.96.0.4", 80, AF_INET, SOCK_STREAM);
	if (ASSERT_GE(fd, 0, "connect after re-install"))
		close(fd);
	ASSERT_EQ(accepted_by(&lfd, 1), 0, "backend reached");
	ASSERT_EQ(service_connects(&env, "10.96.0.4", 80, IPPROTO_TCP, NULL),
		  2, "counters carried over");
out:
	if (lfd >= 0)
		close(lfd);
	env_teardown(&env);
}

/* ---- traffic management ---------------------------------------------------- */

/* Hold connections open: fds[i] for each, listener index in who[i]. */
static bool hold(const char *vip, const int *lfd, int nl, int n, int *fds,
		 int *who, int *accepted)
{
	for (int i = 0; i < n; i++) {
		struct pollfd pfd[MAX_LISTENERS];
		int got = -1;

		fds[i] = dial(vip, 80, AF_INET, SOCK_STREAM);
		if (!ASSERT_GE(fds[i], 0, "connect via VIP"))
			return false;
		for (int l = 0; l < nl; l++)
			pfd[l] = (struct pollfd){ .fd = lfd[l], .events = POLLIN };
		if (poll(pfd, (nfds_t)nl, 1000) > 0)
			for (int l = 0; l < nl && got < 0; l++)
				if (pfd[l].revents & POLLIN)
					got = l;
		if (!ASSERT_GE(got, 0, "accepted"))
			return false;
		accepted[i] = accept4(lfd[got], NULL, NULL, SOCK_CLOEXEC);
		who[i] = got;
	}
	return true;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static __s64 backend_active(struct lb_env *env, const char *ip, uint16_t port)
{
	const struct datapath_maps *maps = loader_maps(env->loader);
	__u32 key, *prev = NULL;
	union weft_addr addr;
	__s64 active = -1;

	addr_set(&addr, ip);
	while (bpf_map_get_next_key(maps->backends, prev, &key) == 0) {
		struct weft_backend be;

		prev = &key;
		if (!bpf_map_lookup_elem(maps->backends, &key, &be) &&
		    !memcmp(&be.addr, &addr, sizeof(addr)) &&
		    be.port == htons(port))
			bpf_map_lookup_elem(maps->backend_active, &key, &active);
	}
	return active;
}

/* A VirtualService-style 80/20 split over two clusters, within 2 points. */
WEFT_KERNEL_TEST(sock_lb_route_split)
{
	struct svc_spec spec[3] = {
		{ .vip = "10.96.1.1", .port = 80, .proto = IPPROTO_TCP,
		  .nbackends = 1, .backend = { "127.0.0.1" },
		  .backend_port = { 9001 } },
		{ .vip = "10.96.1.2", .port = 80, .proto = IPPROTO_TCP,
		  .nbackends = 1, .backend = { "127.0.0.1" },
		  .backend_port = { 9002 } },
		{ .vip = "10.96.1.3", .port = 80, .proto = IPPROTO_TCP,
		  .ndests = 2, .dest_spec = { 0, 1 }, .dest_weight = { 4, 1 } },
	};
	int lfd[2] = { -1, -1 }, hits[2];
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	lfd[0] = listener("127.0.0.1", 9001, SOCK_STREAM);
	lfd[1] = listener("127.0.0.1", 9002, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, spec, 3), "apply 4:1") ||
	    !spread("10.96.1.3", lfd, 2, 5000, hits))
		goto out;
	test_log("split: %d / %d\n", hits[0], hits[1]);
	ASSERT_GE(hits[0], 3900, "80% share -2 points");
	ASSERT_LE(hits[0], 4100, "80% share +2 points");

	/* weights change in one element: 0:1 sends everything to cluster 1 */
	spec[2].dest_weight[0] = 0;
	if (!ASSERT_OK(apply_specs(&env, spec, 3), "apply 0:1") ||
	    !spread("10.96.1.3", lfd, 2, 50, hits))
		goto out;
	ASSERT_EQ(hits[0], 0, "weight 0 gets nothing");

	/* every destination weighs 0: refused */
	spec[2].dest_weight[1] = 0;
	if (ASSERT_OK(apply_specs(&env, spec, 3), "apply 0:0"))
		ASSERT_EQ(dial("10.96.1.3", 80, AF_INET, SOCK_STREAM),
			  -ECONNREFUSED, "no destination: refused");
out:
	close_all(lfd, 2);
	env_teardown(&env);
}

/* ROUND_ROBIN on one CPU visits the backends in turn, exactly. */
WEFT_KERNEL_TEST(sock_lb_round_robin)
{
	struct svc_spec spec = {
		.vip = "10.96.1.4", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 3, .backend = { "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		.backend_port = { 9001, 9002, 9003 },
		.policy = LB_POLICY_ROUND_ROBIN,
	};
	int lfd[3] = { -1, -1, -1 }, hits[3];
	cpu_set_t cpus;
	struct lb_env env;

	/* the rotation is per CPU, as Envoy's is per worker thread */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (!ASSERT_OK(sched_setaffinity(0, sizeof(cpus), &cpus) ? -errno : 0,
		       "pin to CPU 0") ||
	    !env_setup(&env))
		goto out;
	for (int i = 0; i < 3; i++)
		lfd[i] = listener("127.0.0.1", spec.backend_port[i], SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply") ||
	    !spread("10.96.1.4", lfd, 3, 30, hits))
		goto out;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(hits[i], 10, "each backend in turn");
out:
	close_all(lfd, 3);
	env_teardown(&env);
}

/*
 * LEAST_REQUEST (the default) keeps open connections even across backends
 * (two random choices, the less loaded wins), and the active counts it
 * reads return to zero when the sockets close.
 */
WEFT_KERNEL_TEST(sock_lb_least_request)
{
	struct svc_spec spec = {
		.vip = "10.96.1.5", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 3, .backend = { "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		.backend_port = { 9001, 9002, 9003 },
	};
	int lfd[3] = { -1, -1, -1 }, fds[60], acc[60], who[60], per[3] = {};
	struct lb_env env;
	int lo, hi;

	for (int i = 0; i < 60; i++)
		fds[i] = acc[i] = -1;
	if (!env_setup(&env))
		goto out;
	for (int i = 0; i < 3; i++)
		lfd[i] = listener("127.0.0.1", spec.backend_port[i], SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply") ||
	    !hold("10.96.1.5", lfd, 3, 60, fds, who, acc))
		goto out;
	for (int i = 0; i < 60; i++)
		per[who[i]]++;
	lo = hi = per[0];
	for (int i = 0; i < 3; i++) {
		lo = per[i] < lo ? per[i] : lo;
		hi = per[i] > hi ? per[i] : hi;
		ASSERT_EQ(backend_active(&env, "127.0.0.1", spec.backend_port[i]),
			  per[i], "active count matches open connections");
	}
	test_log("least request: %d %d %d\n", per[0], per[1], per[2]);
	/* the two choices may coincide (1 in 3), so some spread remains */
	ASSERT_LE(hi - lo, 8, "open connections stay balanced");
	close_all(fds, 60);
	for (int i = 0; i < 60; i++)
		fds[i] = -1;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(backend_active(&env, "127.0.0.1", spec.backend_port[i]),
			  0, "released sockets count down");

	/* a loaded backend is avoided: 12 open on 9001 alone, then 18 more
	 * over all three; 9001 only wins when both choices name it (1/9) */
	spec.nbackends = 1;
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply 9001 only") ||
	    !hold("10.96.1.5", lfd, 3, 12, fds, who, acc))
		goto out;
	spec.nbackends = 3;
	memset(per, 0, sizeof(per));
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply all three") ||
	    !hold("10.96.1.5", lfd, 3, 18, fds + 12, who + 12, acc + 12))
		goto out;
	for (int i = 12; i < 30; i++)
		per[who[i]]++;
	test_log("after preload: %d %d %d\n", per[0], per[1], per[2]);
	ASSERT_LE(per[0], 7, "the loaded backend gets few new connections");
out:
	close_all(fds, 60);
	close_all(acc, 60);
	close_all(lfd, 3);
	env_teardown(&env);
}

/* The table entry the datapath uses for this network namespace. */
static __u32 maglev_entry_for_netns(struct lb_env *env, const char *vip)
{
	__u64 cookie = 0, h;
	socklen_t len = sizeof(cookie);
	struct weft_cluster cl;
	__u32 idx, id = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		test_fail(__FILE__, __LINE__, "SO_NETNS_COOKIE: %s",
			  strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!cluster_of(env, vip, 80, 0, &cl))
		return 0;
	h = cookie * 0x9e3779b97f4a7c15ull; /* as lb_client_hash() */
	idx = cl.maglev_table * WEFT_MAGLEV_SIZE +
	      (__u32)(h >> 32) % WEFT_MAGLEV_SIZE;
	bpf_map_lookup_elem(loader_maps(env->loader)->maglev, &idx, &id);
	return id;
}

static int listener_of_backend(struct lb_env *env, __u32 id,
			       const struct svc_spec *spec)
{
	struct weft_backend be;

	if (bpf_map_lookup_elem(loader_maps(env->loader)->backends, &id, &be))
		return -1;
	for (int i = 0; i < spec->nbackends; i++)
		if (be.port == htons(spec->backend_port[i]))
			return i;
	return -1;
}

/*
 * consistentHash useSourceIp: one client (network namespace) always lands
 * on the backend its Maglev entry names; removing another backend leaves
 * it there.
 */
WEFT_KERNEL_TEST(sock_lb_maglev)
{
	struct svc_spec spec = {
		.vip = "10.96.1.6", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 4,
		.backend = { "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		.backend_port = { 9001, 9002, 9003, 9004 },
		.policy = LB_POLICY_MAGLEV,
	};
	int lfd[4] = { -1, -1, -1, -1 }, hits[4], mine, other;
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	for (int i = 0; i < 4; i++)
		lfd[i] = listener("127.0.0.1", spec.backend_port[i], SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply") ||
	    !spread("10.96.1.6", lfd, 4, 20, hits))
		goto out;
	mine = listener_of_backend(&env, maglev_entry_for_netns(&env, "10.96.1.6"),
				   &spec);
	if (!ASSERT_GE(mine, 0, "table entry names a backend"))
		goto out;
	ASSERT_EQ(hits[mine], 20, "same client, same backend");

	/* drop a backend that is not ours: remaining ones keep their place */
	other = (mine + 1) % 4;
	spec.backend_port[other] = spec.backend_port[3];
	spec.nbackends = 3;
	if (other == 3) /* it was the last one: just drop it */
		spec.backend_port[other] = 0;
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply without one") ||
	    !spread("10.96.1.6", lfd, 4, 20, hits))
		goto out;
	ASSERT_EQ(hits[mine], 20, "client not moved by another's removal");
out:
	close_all(lfd, 4);
	env_teardown(&env);
}

/* sockops: opened/closed and byte counts per (service, backend, client). */
WEFT_KERNEL_TEST(sock_lb_tcp_stats)
{
	struct svc_spec spec = {
		.vip = "10.96.1.7", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 1, .backend = { "127.0.0.1" },
		.backend_port = { 9001 },
	};
	struct weft_tcp_stats_key key, *prev = NULL;
	int lfd = -1, fd = -1, srv = -1, ncpus = datapath_ncpus();
	struct weft_tcp_stats sum = {}, *per = NULL;
	char buf[1000] = {};
	struct lb_env env;
	int series = 0;

	if (!env_setup(&env))
		goto out;
	lfd = listener("127.0.0.1", 9001, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	fd = dial("10.96.1.7", 80, AF_INET, SOCK_STREAM);
	if (!ASSERT_GE(fd, 0, "connect") ||
	    !ASSERT_EQ(accepted_by_keep(lfd, &srv), 0, "accepted"))
		goto out;
	ASSERT_EQ(send(fd, buf, 1000, 0), 1000, "client sends 1000");
	ASSERT_EQ(recv_all(srv, buf, 1000), 1000, "server reads 1000");
	ASSERT_EQ(send(srv, buf, 500, 0), 500, "server sends 500");
	ASSERT_EQ(recv_all(fd, buf, 500), 500, "client reads 500");
	close(srv);
	srv = -1;
	recv(fd, buf, 1, 0); /* FIN */
	close(fd);
	fd = -1;
	usleep(20000);

	per = calloc((size_t)ncpus, sizeof(*per));
	while (per && bpf_map_get_next_key(loader_maps(env.loader)->tcp_stats,
					   prev, &key) == 0) {
		prev = &key;
		if (bpf_map_lookup_elem(loader_maps(env.loader)->tcp_stats,
					&key, per))
			continue;
		series++;
		for (int c = 0; c < ncpus; c++) {
			sum.opened += per[c].opened;
			sum.closed += per[c].closed;
			sum.sent_bytes += per[c].sent_bytes;
			sum.received_bytes += per[c].received_bytes;
		}
	}
	ASSERT_EQ(series, 1, "one (service, backend, source) series");
	ASSERT_EQ(sum.opened, 1, "opened");
	ASSERT_EQ(sum.closed, 1, "closed");
	ASSERT_EQ(sum.sent_bytes, 1000, "sent bytes");
	ASSERT_EQ(sum.received_bytes, 500, "received bytes");
out:
	free(per);
	if (srv >= 0)
		close(srv);
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	env_teardown(&env);
}

static size_t map_count(int fd, size_t key_size)
{
	char key[64], *prev = NULL;
	size_t n = 0;

	(void)key_size;
	while (bpf_map_get_next_key(fd, prev, key) == 0) {
		prev = key;
		n++;
	}
	return n;
}

/* Orphaned clusters, slots and backends live through the grace period. */
WEFT_KERNEL_TEST(sock_lb_garbage_after_grace)
{
	struct svc_spec spec[2] = {
		{ .vip = "10.96.1.8", .port = 80, .proto = IPPROTO_TCP,
		  .nbackends = 3, .backend = { "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		  .backend_port = { 9001, 9002, 9003 } },
		{ .vip = "10.96.1.9", .port = 80, .proto = IPPROTO_TCP,
		  .nbackends = 1, .backend = { "127.0.0.1" },
		  .backend_port = { 9004 } },
	};
	const struct datapath_maps *maps;
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	maps = loader_maps(env.loader);
	if (!ASSERT_OK(apply_specs(&env, spec, 2), "apply"))
		goto out;
	ASSERT_EQ(map_count(maps->backends, 4), 4, "4 backends");
	ASSERT_EQ(map_count(maps->cluster_slots, 8), 4, "4 slots");

	spec[0].nbackends = 2; /* 127.0.0.1:9003 goes */
	if (!ASSERT_OK(apply_specs(&env, spec, 1), "apply, 2nd service gone"))
		goto out;
	ASSERT_EQ(map_count(maps->services, 24), 1, "route removed at once");
	ASSERT_EQ(map_count(maps->backends, 4), 4, "backends kept for grace");
	ASSERT_EQ(apply_collect_garbage(maps), -EAGAIN, "too early to collect");
	usleep((APPLY_GRACE_NS / 1000) + 20000);
	/* svc1's cluster, svc0's slot 2 and svc1's slot 0, 2 backends */
	ASSERT_EQ(apply_collect_garbage(maps), 5, "collected");
	ASSERT_EQ(map_count(maps->clusters, 4), 1, "orphan cluster gone");
	ASSERT_EQ(map_count(maps->cluster_slots, 8), 2, "stale slots gone");
	ASSERT_EQ(map_count(maps->backends, 4), 2, "orphan backends gone");
	ASSERT_EQ(map_count(maps->backend_meta, 4), 2, "their meta too");
out:
	env_teardown(&env);
}

/* PASSTHROUGH keeps the original destination. */
WEFT_KERNEL_TEST(sock_lb_passthrough)
{
	struct svc_spec spec = {
		.vip = "10.96.1.10", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 1, .backend = { "127.0.0.1" },
		.backend_port = { 9001 }, .policy = LB_POLICY_PASSTHROUGH,
	};
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	if (ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		ASSERT_EQ(dial("10.96.1.10", 80, AF_INET, SOCK_STREAM),
			  -ENETUNREACH, "VIP left alone (nothing routes it)");
out:
	env_teardown(&env);
}

/*
 * A dual-stack host's cluster holds endpoints of both families; each VIP
 * must only ever reach backends of its own family.
 */
WEFT_KERNEL_TEST(sock_lb_dual_stack_cluster)
{
	struct svc_spec spec[2] = {
		{ .vip = "10.96.1.11", .port = 80, .proto = IPPROTO_TCP,
		  .nbackends = 2, .backend = { "127.0.0.1", "::1" },
		  .backend_port = { 9001, 9002 }, .policy = LB_POLICY_RANDOM },
		{ .vip = "fd00:96::11", .port = 80, .proto = IPPROTO_TCP,
		  .ndests = 1, .dest_spec = { 0 }, .dest_weight = { 1 } },
	};
	int lfd[2] = { -1, -1 }, hits[2] = {};
	struct lb_env env;

	if (!env_setup(&env))
		goto out;
	lfd[0] = listener("127.0.0.1", 9001, SOCK_STREAM);
	lfd[1] = listener("::1", 9002, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, spec, 2), "apply"))
		goto out;
	for (int i = 0; i < 20; i++) {
		int fd = dial("10.96.1.11", 80, AF_INET, SOCK_STREAM), who;

		if (!ASSERT_GE(fd, 0, "v4 connect"))
			goto out;
		who = accepted_by(lfd, 2);
		close(fd);
		if (who >= 0)
			hits[who]++;
		fd = dial("fd00:96::11", 80, AF_INET6, SOCK_STREAM);
		if (!ASSERT_GE(fd, 0, "v6 connect"))
			goto out;
		who = accepted_by(lfd, 2);
		close(fd);
		if (who >= 0)
			hits[who] += 100;
	}
	ASSERT_EQ(hits[0], 20, "v4 VIP reached only the v4 backend");
	ASSERT_EQ(hits[1], 2000, "v6 VIP reached only the v6 backend");
out:
	close_all(lfd, 2);
	env_teardown(&env);
}

/*
 * An agent with a new map layout (simulated: the pinned maps are moved to
 * another version's folder) creates fresh maps, fills them, swaps its
 * programs into the same links and removes the old folder; connections
 * through the VIP work before, during and after.
 */
WEFT_KERNEL_TEST(sock_lb_upgrade_new_layout)
{
	struct svc_spec spec = {
		.vip = "10.96.1.12", .port = 80, .proto = IPPROTO_TCP,
		.nbackends = 1, .backend = { "127.0.0.1" },
		.backend_port = { 9001 },
	};
	char cur[PATH_MAX + 32], old[PATH_MAX + 32];
	__u32 link_before, link_after;
	struct lb_env env;
	struct stat st;
	int lfd = -1, fd;

	if (!env_setup(&env))
		goto out;
	lfd = listener("127.0.0.1", 9001, SOCK_STREAM);
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "apply"))
		goto out;
	loader_free(env.loader);
	env.loader = NULL;
	link_before = link_prog_id(env.pin_dir, "weft_connect4");

	snprintf(cur, sizeof(cur), "%s/%s", env.pin_dir, WEFT_PIN_MAPS_DIR);
	snprintf(old, sizeof(old), "%s/maps_v0", env.pin_dir);
	if (!ASSERT_OK(rename(cur, old) ? -errno : 0, "pretend an old layout"))
		goto out;

	/* new agent: open (fresh maps), fill, then attach */
	if (!ASSERT_OK(loader_open(env.cgroup, env.pin_dir, &env.loader),
		       "open with a new layout"))
		goto out;
	fd = dial("10.96.1.12", 80, AF_INET, SOCK_STREAM);
	if (ASSERT_GE(fd, 0, "old programs still serve while filling"))
		close(fd);
	ASSERT_EQ(accepted_by(&lfd, 1), 0, "backend reached");
	if (!ASSERT_OK(apply_specs(&env, &spec, 1), "fill the new maps") ||
	    !ASSERT_OK(loader_attach(env.loader), "swap programs"))
		goto out;
	link_after = link_prog_id(env.pin_dir, "weft_connect4");
	ASSERT_NEQ(link_after, link_before, "same link, new program");
	ASSERT_NEQ(stat(old, &st), 0, "old maps folder removed");
	fd = dial("10.96.1.12", 80, AF_INET, SOCK_STREAM);
	if (ASSERT_GE(fd, 0, "new programs serve"))
		close(fd);
	ASSERT_EQ(accepted_by(&lfd, 1), 0, "backend reached");
out:
	if (lfd >= 0)
		close(lfd);
	env_teardown(&env);
}
