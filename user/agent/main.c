// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weftd: the per-node agent.  Reads the mesh config, compiles it into the
 * pinned datapath maps, attaches the BPF programs to the node's cgroup and
 * then serves health and metrics, reloading on SIGHUP.  On exit the datapath
 * stays installed (pinned); `weftd --uninstall` removes it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "apply_policy.h"
#include "conn_sweep.h"
#include "datapath.h"
#include "lb.h"
#include "loader.h"
#include "log.h"
#include "mesh.h"
#include "metrics.h"
#include "netns_scan.h"
#include "node_config.h"
#include "policy.h"
#include "server.h"
#include "sysfs.h"

enum agent_mode {
	MODE_DAEMON,
	MODE_ONCE,
	MODE_CHECK,
	MODE_UNINSTALL,
};

struct agent {
	struct node_config node;
	char cgroup[PATH_MAX]; /* resolved */
	struct loader *loader;
	struct lb_state state; /* the config in force (for metric labels) */
	struct policy_state policy; /* its AuthorizationPolicy tables */
	struct server server;
	struct agent_metrics metrics;
	struct netns_scan *netns; /* served namespaces -> weft_netns */
	struct conn_sweep sweep;  /* connections judged by the policy */
	/* socketAcceleration is re-read from this file at every reload
	 * unless --socket-acceleration fixed it (NULL then). */
	const char *accel_node_file;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: weftd [options]\n"
		"  -c, --node-config FILE  node settings (YAML, see docs/config.md)\n"
		"  -d, --config-dir DIR    mesh config directory (Istio/Kubernetes YAML)\n"
		"      --cgroup PATH       cgroup to serve (absolute, or below the cgroup2 mount)\n"
		"      --pin-dir DIR       bpffs directory for maps and links\n"
		"  -n, --node-name NAME\n"
		"      --metrics-addr ADDR --metrics-port PORT (0: no listener)\n"
		"      --socket-acceleration on|off  same-node socket acceleration\n"
		"                          (default on; overrides socketAcceleration)\n"
		"      --once              apply the config and exit; the datapath stays\n"
		"      --check             validate the config and exit\n"
		"      --uninstall         remove every pin and link under the pin dir\n"
		"  -v, --verbose           more detail, libbpf's included\n");
}

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || end == text || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int copy_opt(char *dst, size_t len, const char *src, const char *what)
{
	if (strlen(src) >= len) {
		pr_warn("%s too long: %s\n", what, src);
		return -ENAMETOOLONG;
	}
	strcpy(dst, src);
	return 0;
}

/* The compiled config: routes and AuthorizationPolicy tables. */
struct agent_compiled {
	struct lb_state lb;
	struct policy_state policy;
};

static void agent_compiled_free(struct agent_compiled *c)
{
	lb_state_free(&c->lb);
	policy_state_free(&c->policy);
}

/*
 * Load and compile the config directory into *out.  Nothing is written:
 * on error the reasons are logged as "file:line: ..." and the caller keeps
 * whatever is in force.
 */
static int agent_compile(struct agent *a, struct agent_compiled *out)
{
	struct policy_opts opts = {
		.trust_domain = a->node.trust_domain,
		.enforced_protos = policy_protos(a->node.authorize_udp),
	};
	struct mesh_config *cfg = NULL;
	int err;

	err = mesh_config_load_dir(a->node.config_dir, &cfg);
	err = err ?: lb_compile(cfg, &out->lb);
	err = err ?: policy_compile(cfg, &out->lb, &opts, &out->policy);
	mesh_config_free(cfg);
	return err;
}

/* Apply *c; on success it becomes the config in force (moved). */
static int agent_write(struct agent *a, struct agent_compiled *c)
{
	struct apply_policy_result pres;
	struct apply_result res;
	int err;

	err = apply_state(loader_maps(a->loader), &c->lb, a->node.node_name,
			  &res);
	err = err ?: apply_policy(loader_maps(a->loader), &c->policy,
				  res.generation, &pres);
	if (err) {
		pr_warn("applying the config failed: %s\n", strerror(-err));
		return err;
	}
	lb_state_free(&a->state);
	policy_state_free(&a->policy);
	a->state = c->lb;
	a->policy = c->policy;
	memset(c, 0, sizeof(*c));
	pr_info("ready: generation %llu, %u services, %u clusters, %u backends (services +%u -%u, clusters +%u, backends +%u, %u garbage collected); %u authorization policies (+%u -%u), %zu policy rows in generation %u\n",
		(unsigned long long)res.generation, res.services, res.clusters,
		res.backends, res.services_added, res.services_removed,
		res.clusters_added, res.backends_added, res.garbage_collected,
		pres.policies, pres.policies_added, pres.policies_removed,
		pres.rows, pres.gen);
	return 0;
}

/*
 * Reload: compile, and apply only a config that compiled completely.  A
 * rejection is recorded in the datapath's agent state, with its first
 * reason, for `weft status`.
 */
static int agent_apply(struct agent *a)
{
	struct agent_compiled c = {};
	char reason[256];
	int err;

	log_capture_begin(reason, sizeof(reason));
	err = agent_compile(a, &c);
	log_capture_end();
	if (err) {
		pr_warn("config in %s rejected; the running config stays in force\n",
			a->node.config_dir);
		apply_record_rejection(loader_maps(a->loader), reason);
	} else {
		err = agent_write(a, &c);
	}
	if (err) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		a->metrics.last_error_ns = (uint64_t)ts.tv_sec * 1000000000ull +
					   (uint64_t)ts.tv_nsec;
	}
	agent_compiled_free(&c);
	return err;
}

static int agent_check(struct agent *a)
{
	struct agent_compiled c = {};
	size_t backends = 0;
	int err;

	err = agent_compile(a, &c);
	if (!err) {
		for (size_t i = 0; i < c.lb.nservices; i++)
			backends += c.lb.services[i].nbackends;
		printf("%s: ok: %zu service ports, %zu backend endpoints, %zu authorization policies\n",
		       a->node.config_dir, c.lb.nservices, backends,
		       c.policy.npolicies);
	}
	agent_compiled_free(&c);
	return err;
}

static int agent_signals(sigset_t *set)
{
	int fd;

	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, set, NULL))
		return -errno;
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/*
 * Watch the config directory.  Editors and Kubernetes ConfigMap updates
 * (an atomic swap of the ..data symlink) produce bursts of events, so a
 * reload waits until the directory has been quiet for RELOAD_QUIET_MS.
 */
#define RELOAD_QUIET_MS 50
/* Garbage of an apply is collected once its grace period is over. */
#define GC_DELAY_MS (APPLY_GRACE_NS / 1000000 + 50)
/* Workload namespaces are rescanned this often (see netns_scan.h). */
#define NETNS_SCAN_MS 1000

static int agent_watch(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				      IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
		int err = -errno;

		pr_warn("watching %s: %s (reload with SIGHUP)\n", dir,
			strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* Drain pending inotify events; true if any was read. */
static bool agent_watch_drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;

	while (read(fd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

/*
 * Apply socketAcceleration, for connections established from now on: open
 * connections keep the path they have (docs/design.md says why).
 */
static void agent_accel_apply(struct agent *a)
{
	struct node_config now = a->node;

	if (a->accel_node_file && !node_config_load(a->accel_node_file, &now))
		a->node.socket_acceleration = now.socket_acceleration;
	if (loader_accel_set(a->loader, a->node.socket_acceleration))
		pr_warn("could not write weft_accel_config\n");
	else
		pr_info("socket acceleration: %s\n",
			a->node.socket_acceleration &&
					loader_features(a->loader)->accel ?
				"on" :
				"off");
}

static void agent_reload(struct agent *a, const char *why)
{
	pr_info("%s: reloading %s\n", why, a->node.config_dir);
	agent_accel_apply(a);
	if (agent_apply(a))
		a->metrics.reload_errors++;
	else
		a->metrics.reloads++;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* poll() timeout until the earliest of the deadlines (0 = unset). */
static int timeout_until(uint64_t now, const uint64_t *deadlines, int n,
			 int server_ms)
{
	int64_t best = server_ms;

	for (int i = 0; i < n; i++) {
		int64_t left;

		if (!deadlines[i])
			continue;
		left = deadlines[i] > now ? (int64_t)(deadlines[i] - now) : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}

/* Reset open connections the policy in force now denies; counted. */
static void agent_sweep(struct agent *a)
{
	int closed = conn_sweep_on_change(&a->sweep, a->netns, &a->policy);

	if (closed > 0)
		a->metrics.policy_conns_closed += (uint64_t)closed;
}

/*
 * The agent's one event loop: signals, config dir and netns dir events,
 * the HTTP endpoint, and three timers (reload after a quiet period,
 * garbage collection after the grace period, the namespace rescan).
 * After every config applied, the namespaces are rescanned and the open
 * connections judged when the policy tables changed.  Nothing in it
 * blocks.
 */
static int agent_run(struct agent *a)
{
	struct pollfd pfd[3 + 1 + SERVER_MAX_CONNS];
	uint64_t reload_at = 0, gc_at = 0, netns_at = 0;
	uint64_t applied = a->metrics.reloads;
	int netns_map = loader_maps(a->loader)->netns;
	int node_addrs_map = loader_maps(a->loader)->node_addrs;
	sigset_t set;
	int sfd, wfd, nfd = -1, err = 0;

	sfd = agent_signals(&set);
	if (sfd < 0)
		return sfd;
	wfd = agent_watch(a->node.config_dir); /* < 0: SIGHUP only */
	if (access(a->node.netns_dir, F_OK) == 0) /* else: the timer only */
		nfd = agent_watch(a->node.netns_dir);
	a->server.listen_fd = -1;
	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		a->server.conns[i].fd = -1;
	if (a->node.metrics_port) {
		err = server_open(&a->server, a->node.metrics_addr,
				  a->node.metrics_port);
		if (err)
			goto out;
	}
	a->metrics.maps = loader_maps(a->loader);
	a->metrics.node_name = a->node.node_name;
	a->metrics.trust_domain = a->node.trust_domain;
	a->metrics.state = &a->state;
	a->metrics.accel = loader_accel_maps(a->loader);
	a->server.metrics = metrics_render;
	a->server.metrics_data = &a->metrics;
	a->server.ready = true; /* the initial config was applied */
	gc_at = mono_ms() + GC_DELAY_MS;
	netns_at = mono_ms() + NETNS_SCAN_MS;

	for (;;) {
		uint64_t deadlines[3] = { reload_at, gc_at, netns_at }, now;
		struct signalfd_siginfo si;
		int nsrv, n;

		if (a->metrics.reloads != applied) { /* a config was applied */
			applied = a->metrics.reloads;
			netns_scan_run(a->netns, netns_map, node_addrs_map);
			agent_sweep(a);
		}
		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = wfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = nfd, .events = POLLIN };
		nsrv = server_poll_fds(&a->server, pfd + 3,
				       (int)(sizeof(pfd) / sizeof(pfd[0])) - 3);
		n = poll(pfd, (nfds_t)(3 + nsrv),
			 timeout_until(mono_ms(), deadlines, 3,
				       server_timeout_ms(&a->server)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		now = mono_ms();
		if (reload_at && now >= reload_at) {
			reload_at = 0;
			agent_reload(a, "config dir changed");
			gc_at = now + GC_DELAY_MS;
		}
		if (gc_at && now >= gc_at)
			gc_at = apply_collect_garbage(loader_maps(a->loader)) ==
					-EAGAIN ?
					now + GC_DELAY_MS :
					0;
		if ((pfd[2].revents & POLLIN) && agent_watch_drain(nfd) &&
		    netns_at > now + RELOAD_QUIET_MS) /* entries come, go */
			netns_at = now + RELOAD_QUIET_MS;
		if (now >= netns_at) {
			netns_scan_run(a->netns, netns_map, node_addrs_map);
			netns_at = now + NETNS_SCAN_MS;
		}
		server_expire(&a->server);
		if ((pfd[1].revents & POLLIN) && agent_watch_drain(wfd))
			reload_at = now + RELOAD_QUIET_MS; /* wait for quiet */
		server_dispatch(&a->server, pfd + 3, nsrv);
		if (!(pfd[0].revents & POLLIN) ||
		    read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload_at = 0;
			agent_reload(a, "SIGHUP");
			gc_at = mono_ms() + GC_DELAY_MS;
			continue;
		}
		pr_info("signal %u: exiting; the datapath stays installed (weftd --uninstall removes it)\n",
			si.ssi_signo);
		break;
	}
out:
	server_close(&a->server);
	if (nfd >= 0)
		close(nfd);
	if (wfd >= 0)
		close(wfd);
	close(sfd);
	return err;
}

int main(int argc, char **argv)
{
	enum { OPT_CGROUP = 256, OPT_PIN_DIR, OPT_METRICS_ADDR,
	       OPT_METRICS_PORT, OPT_ONCE, OPT_CHECK, OPT_UNINSTALL,
	       OPT_ACCEL };
	static const struct option opts[] = {
		{ "node-config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, 'd' },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "node-name", required_argument, NULL, 'n' },
		{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
		{ "metrics-port", required_argument, NULL, OPT_METRICS_PORT },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "uninstall", no_argument, NULL, OPT_UNINSTALL },
		{ "socket-acceleration", required_argument, NULL, OPT_ACCEL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	/* Flags override the node config file, whatever their order. */
	const char *node_file = NULL, *flag[OPT_ACCEL + 1] = {};
	enum agent_mode mode = MODE_DAEMON;
	struct agent_compiled compiled = {};
	struct netns_scan_opts served = {};
	struct agent a = {};
	int opt, err, verbose = 0;

	log_init("weftd", LOG_LEVEL_INFO);
	while ((opt = getopt_long(argc, argv, "c:d:n:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			node_file = optarg;
			break;
		case 'd':
		case 'n':
		case OPT_CGROUP:
		case OPT_PIN_DIR:
		case OPT_METRICS_ADDR:
		case OPT_METRICS_PORT:
		case OPT_ACCEL:
			flag[opt] = optarg;
			break;
		case OPT_ONCE:
			mode = MODE_ONCE;
			break;
		case OPT_CHECK:
			mode = MODE_CHECK;
			break;
		case OPT_UNINSTALL:
			mode = MODE_UNINSTALL;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	log_route_libbpf();

	node_config_defaults(&a.node);
	if (node_file && node_config_load(node_file, &a.node))
		return 1;
	err = 0;
	if (flag['d'])
		err = err ?: copy_opt(a.node.config_dir, sizeof(a.node.config_dir),
				      flag['d'], "config dir");
	if (flag['n'])
		err = err ?: copy_opt(a.node.node_name, sizeof(a.node.node_name),
				      flag['n'], "node name");
	if (flag[OPT_CGROUP])
		err = err ?: copy_opt(a.node.cgroup_path,
				      sizeof(a.node.cgroup_path),
				      flag[OPT_CGROUP], "cgroup path");
	if (flag[OPT_PIN_DIR])
		err = err ?: copy_opt(a.node.pin_dir, sizeof(a.node.pin_dir),
				      flag[OPT_PIN_DIR], "pin dir");
	if (flag[OPT_METRICS_ADDR])
		err = err ?: copy_opt(a.node.metrics_addr,
				      sizeof(a.node.metrics_addr),
				      flag[OPT_METRICS_ADDR], "metrics address");
	if (flag[OPT_METRICS_PORT] &&
	    parse_port(flag[OPT_METRICS_PORT], &a.node.metrics_port)) {
		pr_warn("--metrics-port %s: not a port number\n",
			flag[OPT_METRICS_PORT]);
		err = -EINVAL;
	}
	if (flag[OPT_ACCEL]) {
		if (!strcmp(flag[OPT_ACCEL], "on")) {
			a.node.socket_acceleration = true;
		} else if (!strcmp(flag[OPT_ACCEL], "off")) {
			a.node.socket_acceleration = false;
		} else {
			pr_warn("--socket-acceleration %s: expected on or off\n",
				flag[OPT_ACCEL]);
			err = -EINVAL;
		}
	} else {
		a.accel_node_file = node_file;
	}
	if (err)
		return 2;

	switch (mode) {
	case MODE_CHECK:
		return agent_check(&a) ? 1 : 0;
	case MODE_UNINSTALL:
		err = datapath_uninstall(a.node.pin_dir);
		if (!err)
			pr_info("removed the datapath pinned under %s\n",
				a.node.pin_dir);
		return err ? 1 : 0;
	default:
		break;
	}

	/* A config that does not compile installs nothing at all. */
	if (agent_compile(&a, &compiled)) {
		pr_warn("config in %s rejected; nothing installed\n",
			a.node.config_dir);
		return 1;
	}
	/* Fill the maps before the programs are attached (or swapped into
	 * the pinned links): traffic never meets an empty datapath. */
	if (sysfs_cgroup_resolve(a.node.cgroup_path, a.cgroup,
				 sizeof(a.cgroup)) ||
	    loader_open(a.cgroup, a.node.pin_dir, &a.loader)) {
		agent_compiled_free(&compiled);
		return 1;
	}
	err = agent_write(&a, &compiled);
	agent_compiled_free(&compiled);
	if (!err)
		agent_accel_apply(&a);
	/* weft_netns before attaching: the first connect() knows its
	 * workload; connections opened before are judged once attached. */
	served = (struct netns_scan_opts){ .netns_dir = a.node.netns_dir,
					   .cgroup = a.cgroup };
	err = err ?: netns_scan_new(&served, &a.netns);
	if (!err)
		netns_scan_run(a.netns, loader_maps(a.loader)->netns,
			       loader_maps(a.loader)->node_addrs);
	err = err ?: loader_attach(a.loader);
	if (!err)
		pr_info("node %s: datapath attached to %s, pinned under %s\n",
			a.node.node_name, a.cgroup, a.node.pin_dir);
	if (!err)
		agent_sweep(&a);
	if (!err && mode == MODE_DAEMON)
		err = agent_run(&a);
	loader_free(a.loader);
	netns_scan_free(a.netns);
	lb_state_free(&a.state);
	policy_state_free(&a.policy);
	return err ? 1 : 0;
}
