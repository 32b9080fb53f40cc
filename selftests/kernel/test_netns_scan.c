// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Workload namespaces and open connections, on the real kernel
 * (user/agent/netns_scan.c, user/agent/conn_sweep.c).
 *
 * netns_scan: sandbox namespaces with veth addresses are scanned (only
 * this run's, by name prefix) into the real pinned weft_netns; its
 * contents are checked against cookies read here independently
 * (SO_NETNS_COOKIE after our own setns()) and the addresses configured;
 * then the diff: an address appearing, a namespace deleted, a stale
 * cookie, and a namespace found through a process of the served cgroup.
 *
 * conn_sweep: an echo server in a sandbox namespace and in the served
 * cgroup, connections to it from two client namespaces, and a compiled
 * policy denying one client: after the sweep the denied client's
 * connections are reset and the allowed one still echoes; a denied
 * connection to a server outside the served cgroup stays open too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent/conn_sweep.h"
#include "agent/loader.h"
#include "agent/netns_scan.h"
#include "lb.h"
#include "mesh.h"
#include "policy.h"
#include "sandbox.h"
#include "test.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* Enter /run/netns/<name>; the namespace to return to in *home. */
static int netns_enter(const char *name, int *home)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	*home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*home < 0 || fd < 0 || setns(fd, CLONE_NEWNET))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err && *home >= 0)
		close(*home);
	return err;
}

static void netns_leave(int home)
{
	if (setns(home, CLONE_NEWNET))
		test_fail(__FILE__, __LINE__, "setns back: %s", strerror(errno));
	close(home);
}

/* The cookie of a named namespace, read the way the kernel documents it;
 * 0 on failure (reported). */
static __u64 cookie_of(const char *name)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	int home, fd;

	if (!ASSERT_OK(netns_enter(name, &home), name))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		test_fail(__FILE__, __LINE__, "cookie of %s: %s", name,
			  strerror(errno));
	if (fd >= 0)
		close(fd);
	netns_leave(home);
	return cookie;
}

static int map_count(int fd)
{
	__u64 key, *prev = NULL;
	int n = 0;

	while (n < 100000 && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		n++;
	}
	return n;
}

/* weft_netns[cookie] holds ip4 (and ip6 when not NULL), nothing else. */
static void check_entry(int fd, __u64 cookie, const char *ip4, const char *ip6)
{
	struct weft_netns_addrs want = {}, got;

	if (!ASSERT_OK(bpf_map_lookup_elem(fd, &cookie, &got) ? -errno : 0,
		       ip4))
		return;
	want.flags = WEFT_NETNS_F_IP4 | (ip6 ? WEFT_NETNS_F_IP6 : 0);
	weft_addr_parse(ip4, &want.ip4);
	if (ip6)
		weft_addr_parse(ip6, &want.ip6);
	ASSERT_TRUE(!memcmp(&want, &got, sizeof(want)), ip4);
}

/* weft_node_addrs has ip (or has not). */
static void check_node_addr(int fd, const char *ip, bool present)
{
	union weft_addr key = {};
	__u32 v;

	weft_addr_parse(ip, &key);
	ASSERT_EQ(bpf_map_lookup_elem(fd, &key, &v) == 0, present, ip);
}

static int sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static bool scan_finds_only(struct netns_scan *s, __u64 cookie)
{
	const struct netns_workload *ws;
	size_t n;

	if (netns_scan_run(s, -1, -1))
		return false;
	ws = netns_scan_workloads(s, &n);
	return n == 1 && ws[0].cookie == cookie;
}

WEFT_KERNEL_TEST(netns_scan)
{
	char prefix[SB_NAME_MAX], bare[SB_NAME_MAX], cgroup[PATH_MAX],
		pin_dir[PATH_MAX];
	struct netns_scan_opts opts = { .netns_dir = "/run/netns" };
	struct netns_scan *s = NULL, *by_cgroup = NULL;
	struct sb_host a, b;
	struct loader *l = NULL;
	struct sb_proc proc;
	__u64 ca, cb, cbare, stale = 12345;
	struct stat st;
	int err, fd, addrs_fd;

	err = sb_init();
	if (err == -EPERM) {
		test_skip("needs root");
		return;
	}
	if (!ASSERT_OK(err, "sandbox") ||
	    !ASSERT_OK(sb_host_add(&a, "scan-a", "10.201.2.1", "fd00:201::2:1"),
		       "host a") ||
	    !ASSERT_OK(sb_host_add(&b, "scan-b", "10.201.2.2", NULL), "host b") ||
	    !ASSERT_OK(sb_netns_create(bare, sizeof(bare), "scan-bare"), "bare") ||
	    !ASSERT_OK(sb_cgroup_create(cgroup, sizeof(cgroup), "scan"), "cg") ||
	    !ASSERT_OK(sb_pin_dir(pin_dir, sizeof(pin_dir), "scan"), "pins") ||
	    !ASSERT_OK(loader_open(cgroup, pin_dir, &l), "loader_open"))
		goto out;
	fd = loader_maps(l)->netns;
	addrs_fd = loader_maps(l)->node_addrs;
	ca = cookie_of(a.netns);
	cb = cookie_of(b.netns);
	cbare = cookie_of(bare);

	/* This run's namespaces only: the machine's own entries are never
	 * entered.  The hub and "bare" have no global address. */
	sb_name(prefix, sizeof(prefix), "");
	opts.name_prefix = prefix;
	if (!ASSERT_OK(netns_scan_new(&opts, &s), "new") ||
	    !ASSERT_OK(bpf_map_update_elem(fd, &stale, &(struct weft_netns_addrs){
						   .flags = WEFT_NETNS_F_IP4 },
					   BPF_ANY), "stale entry") ||
	    !ASSERT_OK(netns_scan_run(s, fd, addrs_fd), "scan"))
		goto out;
	ASSERT_EQ(map_count(fd), 2, "a and b only");
	ASSERT_EQ(map_count(addrs_fd), 0,
		  "weft_node_addrs: none, no process of the cgroup in them");
	check_entry(fd, ca, "10.201.2.1", "fd00:201::2:1");
	check_entry(fd, cb, "10.201.2.2", NULL);
	ASSERT_TRUE(bpf_map_lookup_elem(fd, &stale, &(struct weft_netns_addrs){}),
		    "stale cookie deleted");

	/* "bare" gains an address (it is visited again: it had none), b goes. */
	if (!ASSERT_OK(sb_ip(bare, SB_ARGV("link", "add", "v0", "type", "veth",
					   "peer", "name", "v1")), "veth") ||
	    !ASSERT_OK(sb_ip(bare, SB_ARGV("addr", "add", "10.201.2.3/24", "dev",
					   "v0")), "addr") ||
	    !ASSERT_OK(sb_ip(bare, SB_ARGV("link", "set", "v0", "up")), "up") ||
	    !ASSERT_OK(sb_ip(NULL, SB_ARGV("netns", "del", b.netns)), "del b") ||
	    !ASSERT_OK(netns_scan_run(s, fd, addrs_fd), "rescan"))
		goto out;
	ASSERT_EQ(map_count(fd), 2, "a and bare");
	check_entry(fd, ca, "10.201.2.1", "fd00:201::2:1");
	check_entry(fd, cbare, "10.201.2.3", NULL);
	ASSERT_TRUE(bpf_map_lookup_elem(fd, &cb, &(struct weft_netns_addrs){}),
		    "deleted namespace's cookie gone");

	/* A namespace known only through a process of the served cgroup;
	 * not the caller's own. */
	opts = (struct netns_scan_opts){ .cgroup = cgroup };
	if (!ASSERT_OK(netns_scan_new(&opts, &by_cgroup), "new by cgroup") ||
	    !ASSERT_OK(sb_spawn_fn(&proc, &(struct sb_place){ cgroup, a.netns },
				   "sleeper", sleep_forever, NULL), "spawn"))
		goto out;
	ASSERT_TRUE(SB_WAIT_UNTIL(scan_finds_only(by_cgroup, ca), 5000),
		    "the sleeper's namespace, only");
	/* Both scanners together, as weftd runs one: a's addresses are the
	 * managed workload's, in weft_node_addrs; bare's are not. */
	if (ASSERT_OK(netns_scan_run(by_cgroup, fd, addrs_fd), "publish")) {
		ASSERT_EQ(map_count(addrs_fd), 2, "weft_node_addrs: a's two");
		check_node_addr(addrs_fd, "10.201.2.1", true);
		check_node_addr(addrs_fd, "fd00:201::2:1", true);
		check_node_addr(addrs_fd, "10.201.2.3", false);
	}
	if (ASSERT_OK(stat(cgroup, &st) ? -errno : 0, "stat cgroup"))
		ASSERT_TRUE(netns_scan_serves_cgroup(by_cgroup, st.st_ino),
			    "serves its cgroup");
	ASSERT_FALSE(netns_scan_serves_cgroup(by_cgroup, 1), "not the root");
out:
	netns_scan_free(by_cgroup);
	netns_scan_free(s);
	loader_free(l);
	ASSERT_EQ(sb_teardown(), 0, "teardown");
}

/* ---- conn_sweep ----------------------------------------------------------- */

#define ECHO_PORT6 8080 /* AF_INET6 [::] listener: IPv4-mapped peers */
#define ECHO_PORT4 8081 /* AF_INET 0.0.0.0 listener */
#define ECHO_PORT_OUT 9090 /* a listener outside the served cgroup */
#define ECHO_CONNS 16

static const char sweep_policy[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: srv-0, namespace: default, labels: {app: srv}}\n"
	"spec: {containers: [{name: c}]}\n"
	"status: {phase: Running, podIP: 10.201.3.1}\n"
	"---\n"
	"apiVersion: security.istio.io/v1\n"
	"kind: AuthorizationPolicy\n"
	"metadata: {name: deny-c1, namespace: default}\n"
	"spec:\n"
	"  selector: {matchLabels: {app: srv}}\n"
	"  action: DENY\n"
	"  rules:\n"
	"  - from: [{source: {ipBlocks: [\"10.201.3.2/32\"]}}]\n";

static int listen_on(int family, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) :
				  bind(fd, (struct sockaddr *)&a4, sizeof(a4))) ||
	    listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Echo every byte back on every connection accepted on the listeners
 * given by *arg (a port list ending with 0; 8080 is AF_INET6). */
static int echo_server(void *arg)
{
	const int *ports = arg;
	struct pollfd pfd[4 + ECHO_CONNS];
	int nl = 0, n;

	for (; ports[nl] && nl < 4; nl++) {
		pfd[nl].fd = listen_on(ports[nl] == ECHO_PORT6 ? AF_INET6 : AF_INET,
				       ports[nl]);
		pfd[nl].events = POLLIN;
		if (pfd[nl].fd < 0)
			return 1;
	}
	n = nl;
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			return 1;
		for (int i = 0; i < n; i++) {
			char buf[256];
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i < nl) {
				int c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);

				if (c >= 0 && n < 4 + ECHO_CONNS)
					pfd[n++] = (struct pollfd){ c, POLLIN, 0 };
				else if (c >= 0)
					close(c);
				continue;
			}
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r > 0 && write(pfd[i].fd, buf, (size_t)r) == r)
				continue;
			close(pfd[i].fd);
			pfd[i--] = pfd[--n];
		}
	}
}

/* A TCP connection from namespace `from` to 10.201.3.1:port; -1 on
 * failure. */
static int connect_from(const char *from, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int home, fd = -1;

	inet_pton(AF_INET, "10.201.3.1", &sa.sin_addr);
	if (netns_enter(from, &home))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	netns_leave(home);
	return fd;
}

/* 0 when one byte goes to the server and comes back, else the error the
 * connection reports (-ECONNRESET), -EPIPE for EOF, -ETIMEDOUT. */
static int echo_once(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c = 'x';
	ssize_t r;

	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
		return -errno;
	if (poll(&p, 1, 3000) != 1)
		return -ETIMEDOUT;
	r = read(fd, &c, 1);
	return r == 1 ? 0 : r == 0 ? -EPIPE : -errno;
}

static bool compile_policy(struct lb_state *lb, struct policy_state *ps)
{
	struct policy_opts opts = {};
	struct mesh_config *cfg = NULL;
	int err;

	err = mesh_config_load_buffer("sweep.yaml", sweep_policy,
				      strlen(sweep_policy), &cfg);
	err = err ?: lb_compile(cfg, lb);
	err = err ?: policy_compile(cfg, lb, &opts, ps);
	mesh_config_free(cfg);
	return ASSERT_OK(err, "compile the policy");
}

static bool denied(const struct policy_state *ps, const char *src, int port)
{
	struct weft_policy_verdict v;
	union weft_addr s, d;

	weft_addr_parse(src, &s);
	weft_addr_parse("10.201.3.1", &d);
	policy_evaluate(ps, &s, &d, (uint16_t)port, IPPROTO_TCP, &v);
	return v.action == WEFT_POLICY_ACTION_DENY;
}

WEFT_KERNEL_TEST(conn_sweep)
{
	static const int served_ports[] = { ECHO_PORT6, ECHO_PORT4, 0 };
	static const int other_ports[] = { ECHO_PORT_OUT, 0 };
	char prefix[SB_NAME_MAX], cgroup[PATH_MAX];
	struct netns_scan_opts opts = { .netns_dir = "/run/netns" };
	struct conn_sweep_result res = {};
	struct conn_sweep cs = {};
	struct netns_scan *s = NULL;
	struct sb_host srv, c1, c2;
	struct sb_proc echo, other;
	struct lb_state lb = {};
	struct policy_state ps = {};
	/* c1 -> 8080, c1 -> 8081, c2 -> 8080, c1 -> 9090 */
	int fds[4] = { -1, -1, -1, -1 }, late = -1, err;

	err = sb_init();
	if (err == -EPERM) {
		test_skip("needs root");
		return;
	}
	if (!ASSERT_OK(err, "sandbox") ||
	    !ASSERT_OK(sb_host_add(&srv, "sweep-srv", "10.201.3.1", NULL), "srv") ||
	    !ASSERT_OK(sb_host_add(&c1, "sweep-c1", "10.201.3.2", NULL), "c1") ||
	    !ASSERT_OK(sb_host_add(&c2, "sweep-c2", "10.201.3.3", NULL), "c2") ||
	    !ASSERT_OK(sb_cgroup_create(cgroup, sizeof(cgroup), "sweep"), "cg") ||
	    !ASSERT_OK(sb_spawn_fn(&echo, &(struct sb_place){ cgroup, srv.netns },
				   "echo", echo_server, (void *)served_ports),
		       "echo server") ||
	    !ASSERT_OK(sb_spawn_fn(&other, &(struct sb_place){ NULL, srv.netns },
				   "echo-out", echo_server, (void *)other_ports),
		       "echo server outside the cgroup") ||
	    !compile_policy(&lb, &ps))
		goto out;
	ASSERT_TRUE(denied(&ps, "10.201.3.2", ECHO_PORT6), "c1 denied");
	ASSERT_FALSE(denied(&ps, "10.201.3.3", ECHO_PORT6), "c2 allowed");

	/* Before: every connection works (so the checks after can fail). */
	ASSERT_TRUE(SB_WAIT_UNTIL((fds[0] = connect_from(c1.netns, ECHO_PORT6)) >= 0,
				  5000),
		    "c1 -> 8080");
	fds[1] = connect_from(c1.netns, ECHO_PORT4);
	fds[2] = connect_from(c2.netns, ECHO_PORT6);
	ASSERT_TRUE(SB_WAIT_UNTIL((fds[3] = connect_from(c1.netns, ECHO_PORT_OUT)) >= 0,
				  5000),
		    "c1 -> 9090");
	for (int i = 0; i < 4; i++)
		if (!ASSERT_OK(fds[i] >= 0 ? echo_once(fds[i]) : -ENOTCONN,
			       "echo before the sweep"))
			goto out;

	sb_name(prefix, sizeof(prefix), "");
	opts.name_prefix = prefix;
	opts.cgroup = cgroup;
	if (!ASSERT_OK(netns_scan_new(&opts, &s), "scanner") ||
	    !ASSERT_OK(netns_scan_run(s, -1, -1), "scan"))
		goto out;
	ASSERT_EQ(conn_sweep_run(&cs, s, &ps, &res), 2, "closed");
	ASSERT_EQ(res.closed, 2, "closed (result)");
	ASSERT_EQ(res.failed, 0, "failed");
	ASSERT_EQ(res.judged, 3, "judged: the served inbound ones");

	err = echo_once(fds[0]);
	ASSERT_TRUE(err == -ECONNRESET || err == -EPIPE, "c1 -> 8080 reset");
	err = echo_once(fds[1]);
	ASSERT_TRUE(err == -ECONNRESET || err == -EPIPE, "c1 -> 8081 reset");
	ASSERT_OK(echo_once(fds[2]), "c2 -> 8080 allowed: still open");
	ASSERT_OK(echo_once(fds[3]), "c1 -> 9090 not served: still open");

	/* On change only: the first call sweeps, the same tables again do
	 * not. */
	late = connect_from(c1.netns, ECHO_PORT6);
	ASSERT_OK(late >= 0 ? echo_once(late) : -ENOTCONN, "late connection");
	ASSERT_EQ(conn_sweep_on_change(&cs, s, &ps), 1, "first: sweeps");
	close(late);
	late = connect_from(c1.netns, ECHO_PORT6);
	ASSERT_EQ(conn_sweep_on_change(&cs, s, &ps), 0, "same tables: no sweep");
	ASSERT_OK(late >= 0 ? echo_once(late) : -ENOTCONN, "left open");
out:
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (late >= 0)
		close(late);
	netns_scan_free(s);
	policy_state_free(&ps);
	lb_state_free(&lb);
	ASSERT_EQ(sb_teardown(), 0, "teardown");
}
