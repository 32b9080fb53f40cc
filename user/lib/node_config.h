/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-node settings of one weftd: everything that must differ between two
 * agents running side by side on one machine (one per simulated node).
 * Read from a YAML file (see docs/config.md), then overridden by flags.
 *
 *   nodeName: node-1
 *   cgroupPath: weft-node-1         # relative to the cgroup2 mount, or absolute
 *   pinDir: /sys/fs/bpf/weft-node-1 # bpffs directory for maps and links
 *   configDir: /etc/weft/mesh.d     # mesh YAML watched by weftd
 *   metricsAddress: 127.0.0.1
 *   metricsPort: 15020
 *   trustDomain: cluster.local
 *   netnsDir: /run/netns            # workload network namespaces (CNI)
 *   socketAcceleration: false       # same-node socket-to-socket data path
 *   authorizeUdp: false             # AuthorizationPolicy for UDP too
 */
#ifndef WEFT_NODE_CONFIG_H
#define WEFT_NODE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define NODE_DEFAULT_PIN_DIR "/sys/fs/bpf/weft"
#define NODE_DEFAULT_CGROUP "weft"
#define NODE_DEFAULT_CONFIG_DIR "/etc/weft/mesh.d"
#define NODE_DEFAULT_METRICS_ADDR "127.0.0.1"
#define NODE_DEFAULT_METRICS_PORT 15020
#define NODE_DEFAULT_TRUST_DOMAIN "cluster.local"
#define NODE_DEFAULT_NETNS_DIR "/run/netns"

struct node_config {
	char node_name[64];
	char cgroup_path[PATH_MAX]; /* as given: absolute or relative */
	char pin_dir[PATH_MAX];
	char config_dir[PATH_MAX];
	char metrics_addr[64];
	uint16_t metrics_port; /* 0 = no metrics/health listener */
	char trust_domain[128];
	/* Every entry is a served workload's network namespace (absolute). */
	char netns_dir[PATH_MAX];
	bool socket_acceleration; /* default true; live with SIGHUP */
	/* AuthorizationPolicy for UDP too (each datagram decided); Istio
	 * authorizes TCP only, so off by default. */
	bool authorize_udp;
};

/* Fill in the defaults above (node name: the host name). */
void node_config_defaults(struct node_config *cfg);

/*
 * Read settings from a YAML file over what *cfg already holds.  Unknown
 * keys and bad values are errors reported as "file:line: what is wrong";
 * returns 0 or a negative errno, leaving *cfg unchanged on error.
 */
int node_config_load(const char *path, struct node_config *cfg);

#endif /* WEFT_NODE_CONFIG_H */
