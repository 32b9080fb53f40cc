/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Installing the datapath: open the BPF objects, reuse or create the
 * pinned maps, load, and attach each program to the node's cgroup through
 * a pinned bpf_link.  A link already pinned by an earlier weftd is adopted
 * and switched to the new program atomically (BPF_LINK_UPDATE), so a
 * restart never leaves the cgroup without its programs.
 */
#ifndef WEFT_AGENT_LOADER_H
#define WEFT_AGENT_LOADER_H

#include <stdbool.h>

#include "datapath.h"

struct loader;

struct loader_features {
	bool set_retval; /* bpf_set_retval in cgroup sock_addr programs (5.18) */
};

/*
 * Install into cgroup_path (resolved, absolute) pinning under pin_dir.
 * Returns 0 and a loader, or a negative errno with the reason logged.
 */
int loader_install(const char *cgroup_path, const char *pin_dir,
		   struct loader **out);

/* The map fds of the installed datapath (owned by the loader). */
const struct datapath_maps *loader_maps(const struct loader *l);
const struct loader_features *loader_features(const struct loader *l);

/*
 * Release the loader's fds.  The datapath stays installed: its links and
 * maps are pinned.  Accepts NULL.
 */
void loader_free(struct loader *l);

#endif /* WEFT_AGENT_LOADER_H */
