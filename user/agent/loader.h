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

#include "accel.h"
#include "datapath.h"

struct loader;

struct loader_features {
	bool set_retval; /* bpf_set_retval in cgroup sock_addr programs (5.18) */
	bool current_cgroup_id; /* bpf_get_current_cgroup_id there too */
	bool accel;      /* the sk_msg program of socket acceleration loaded */
};

/*
 * Open and load the BPF objects for cgroup_path (resolved, absolute) with
 * their maps pinned under pin_dir/maps_v<ABI>/, reusing pinned maps of this
 * layout.  Nothing is attached yet: the caller fills the maps first, so the
 * programs never see an empty datapath.  Returns 0 and a loader, or a
 * negative errno with the reason logged.
 */
int loader_open(const char *cgroup_path, const char *pin_dir,
		struct loader **out);

/*
 * Attach every program to the cgroup through a pinned link: a link pinned
 * by an earlier agent is adopted and switched to the new program in one
 * step (BPF_LINK_UPDATE); a missing one is created.  Then map folders of
 * other ABI versions under pin_dir are removed: their programs are gone
 * from the links, so nothing uses them any more.  0 or negative errno.
 */
int loader_attach(struct loader *l);

/*
 * Same-node socket acceleration on or off (weft_accel_config), for
 * connections established from now on; open ones keep their path.  Stays
 * off, with a warning, when the kernel refused the sk_msg program.  0 or
 * negative errno.
 */
int loader_accel_set(struct loader *l, bool enabled);

/* The acceleration maps (owned by the loader); NULL when the datapath was
 * loaded without them. */
const struct accel_maps *loader_accel_maps(const struct loader *l);

/* loader_open() then loader_attach(), for callers with nothing to fill. */
int loader_install(const char *cgroup_path, const char *pin_dir,
		   struct loader **out);

/* fd of the loaded program `name` (e.g. "weft_policy_ingress"), owned by
 * the loader; -ENOENT when no object has it.  For BPF_PROG_TEST_RUN. */
int loader_prog_fd(const struct loader *l, const char *name);

/* The map fds of the installed datapath (owned by the loader). */
const struct datapath_maps *loader_maps(const struct loader *l);
const struct loader_features *loader_features(const struct loader *l);

/*
 * Release the loader's fds.  The datapath stays installed: its links and
 * maps are pinned.  Accepts NULL.
 */
void loader_free(struct loader *l);

#endif /* WEFT_AGENT_LOADER_H */
