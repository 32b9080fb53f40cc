/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The installed datapath as seen from bpffs: where weftd pins its maps and
 * links, and how any weft binary opens or removes them.
 *
 *   <pin_dir>/maps_v3/<map name>    every map of every weft BPF object
 *   <pin_dir>/links/<prog name>  one bpf_link per attached program
 *
 * A link pin owns its attachment: removing the pin (with no process holding
 * the link) detaches the program.  Nothing weft attaches lives outside
 * pin_dir, which is what makes `weft uninstall` complete.
 */
#ifndef WEFT_DATAPATH_H
#define WEFT_DATAPATH_H

#include <stddef.h>

#include <weft/abi.h>

/* Pinned map fds; -1 where a map is absent.  Order: datapath_map_names. */
struct datapath_maps {
	int services;       /* weft_services: routes */
	int clusters;       /* weft_clusters */
	int cluster_slots;  /* weft_cluster_slots */
	int backends;       /* weft_backends */
	int maglev;         /* weft_maglev */
	int rr_state;       /* weft_rr_state (per-CPU) */
	int backend_active; /* weft_backend_active */
	int sock_revnat;    /* weft_sock_revnat */
	int service_stats;  /* weft_service_stats (per-CPU) */
	int tcp_stats;      /* weft_tcp_stats (LRU per-CPU) */
	int counters;       /* weft_counters (per-CPU) */
	int service_meta;   /* weft_service_meta */
	int cluster_meta;   /* weft_cluster_meta */
	int backend_meta;   /* weft_backend_meta */
	int agent_state;    /* weft_agent_state */
	int policy_dst;       /* weft_policy_*: include/weft/abi.h */
	int policy_ident;
	int policy_src_ident;
	int policy_src_net;   /* LPM trie */
	int policy_verdict;
	int policy_config;
	int policy_stats;     /* per-CPU */
	int policy_events;    /* ring buffer */
	int netns;            /* weft_netns */
	int policy_meta;
	int policy_ident_meta;
	int node_addrs;       /* weft_node_addrs */
};

/* Map names in struct datapath_maps order; NULL-terminated. */
extern const char *const datapath_map_names[];

/*
 * Open every pinned map under pin_dir.  Returns 0, or -ENOENT when no
 * datapath is installed there (weftd never ran, or it was uninstalled), or
 * another negative errno.  Close with datapath_maps_close().
 */
int datapath_maps_open(const char *pin_dir, struct datapath_maps *maps);
void datapath_maps_close(struct datapath_maps *maps); /* accepts closed */

/* "<pin_dir>/maps_v3/<name>" or "<pin_dir>/links/<name>" into buf. */
int datapath_pin_path(char *buf, size_t len, const char *pin_dir,
		      const char *subdir, const char *name);

/*
 * Remove every link and map pin under pin_dir and the directories weft made,
 * detaching all weft programs.  Pins of other tools are never touched.
 * Returns 0 (also when nothing was installed) or the first negative errno.
 */
int datapath_uninstall(const char *pin_dir);

/* Name of a datapath counter ("lb_hit"), "unknown" out of range. */
const char *weft_counter_name(unsigned int counter);

/*
 * Sum a per-CPU __u64 counter array entry / a per-CPU weft_service_stats
 * entry over all CPUs.  0 or negative errno.
 */
int datapath_counter_read(int fd, unsigned int counter, __u64 *sum);
int datapath_service_stats_read(int fd, __u32 service_id,
				struct weft_service_stats *sum);

/* Unlink every pin directly in dir, then dir itself.  0 or -errno. */
int datapath_unpin_dir(const char *dir);

/* Number of possible CPUs, for per-CPU map values (cached). */
int datapath_ncpus(void);

#endif /* WEFT_DATAPATH_H */
