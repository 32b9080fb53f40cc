/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A copy of the datapath's service and backend maps, read once and joined
 * with the metadata maps, so a command prints from memory and never emits
 * half a document when a read fails.  The agent may update the maps while
 * they are read: entries that vanish are skipped, entries seen twice (a
 * hash walk restarts when its cursor is deleted) are kept once.
 */
#ifndef WEFT_CLI_SNAPSHOT_H
#define WEFT_CLI_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "main.h"

struct snap_backend {
	__u32 id;
	struct weft_backend be;
	char workload[WEFT_META_NAME_MAX + 1]; /* "" if no metadata */
	__u32 refs;
};

struct snap_service {
	struct weft_service_key key; /* slot 0 */
	struct weft_service_value val;
	char host[sizeof(((struct weft_service_meta *)0)->host) + 1];
	char ns[sizeof(((struct weft_service_meta *)0)->ns) + 1];
	char port_name[sizeof(((struct weft_service_meta *)0)->port_name) + 1];
	size_t nbackends; /* slots resolved; val.count were announced */
	struct snap_backend *backends; /* slot order */
};

struct snapshot {
	size_t nservices;
	struct snap_service *services; /* by host, then VIP, port, protocol */
	size_t nbackends;
	struct snap_backend *backends; /* by id */
};

/*
 * Read the services (with the backends of their slots) into *snap.
 * Returns 0, or a negative errno after reporting it through ctx.
 */
int snapshot_services(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap);
/* Read every weft_backends entry into *snap.  Same returns. */
int snapshot_backends(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap);
void snapshot_free(struct snapshot *snap); /* accepts a zeroed snapshot */

#endif /* WEFT_CLI_SNAPSHOT_H */
