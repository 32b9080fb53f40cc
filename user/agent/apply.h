/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Writing a compiled lb_state into the pinned maps.  The maps themselves are
 * the only record of what is applied (nothing is cached between calls), so
 * a restarted agent picks up exactly where the last one stopped.
 *
 * Ordering contract, so that a connect() running concurrently never sees a
 * half-written service or a dangling id (the chain is described in
 * include/weft/abi.h):
 *   1. new backends are written before any slot or Maglev entry names them;
 *   2. a cluster's slots 0..n-1 (and its Maglev table) are written before
 *      the cluster entry that publishes count n;
 *   3. a route (service entry) is one element, written after every cluster
 *      it names: readers see the old split or the new one, whole;
 *   4. nothing a reader may still hold is deleted in the same apply:
 *      clusters no route names, slots above a cluster's count and backends
 *      nothing names are garbage, collected by apply_collect_garbage() once
 *      APPLY_GRACE_NS have passed since the apply that orphaned them.  A
 *      datapath program runs for microseconds, so a reader that picked an
 *      old id always finds it.
 * Ids (service, cluster, backend) are kept for the same key across applies
 * (service: vip/port/proto; cluster: its name; backend: address/port), so
 * counters keep counting and connections keep their meaning.
 */
#ifndef WEFT_AGENT_APPLY_H
#define WEFT_AGENT_APPLY_H

#include <stdint.h>

#include "datapath.h"
#include "lb.h"

#define APPLY_GRACE_NS 200000000ull /* 200 ms */

struct apply_result {
	uint64_t generation; /* the generation now in force */
	uint32_t services;   /* (vip, port, proto) entries installed */
	uint32_t clusters;
	uint32_t backends;
	uint32_t services_added, services_removed;
	uint32_t clusters_added;
	uint32_t backends_added;
	uint32_t garbage_collected; /* elements deleted by the GC pass */
};

/*
 * Make the maps route exactly as `state` says.  Collects garbage first when
 * the previous apply is older than the grace period.  Returns 0, or a
 * negative errno (a map full, an id space exhausted) after logging; on error
 * the maps hold a mix of old and new services, each one whole, and the next
 * successful apply converges.
 */
int apply_state(const struct datapath_maps *maps, const struct lb_state *state,
		const char *node_name, struct apply_result *result);

/*
 * Record in weft_agent_state that a config was rejected and why (the first
 * "file:line: ..." message), for `weft status`; the next successful apply
 * clears it.  0 or negative errno.
 */
int apply_record_rejection(const struct datapath_maps *maps,
			   const char *reason);

/*
 * Delete what no route reaches any more (see the contract above).  Only
 * safe when the last apply is at least APPLY_GRACE_NS old; returns -EAGAIN
 * without touching anything otherwise, else the number of elements deleted.
 */
int apply_collect_garbage(const struct datapath_maps *maps);

#endif /* WEFT_AGENT_APPLY_H */
