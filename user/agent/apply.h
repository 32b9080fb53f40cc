/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Writing a compiled lb_state into the pinned maps.  The maps themselves are
 * the only record of what is applied (nothing is cached between calls), so
 * a restarted agent picks up exactly where the last one stopped.
 *
 * Ordering contract, so that a connect() running concurrently never sees a
 * half-written service:
 *   1. new backends are written before any slot names them;
 *   2. a service's slots 1..n are written before slot 0 publishes count n,
 *      and slots above n are deleted only after it;
 *   3. removed services lose slot 0 first, then their slots;
 *   4. backends no service names any more are deleted last.
 * Each map element update is atomic on its own; a reader sees the old or the
 * new service, never a count pointing past the slots present.
 */
#ifndef WEFT_AGENT_APPLY_H
#define WEFT_AGENT_APPLY_H

#include <stdint.h>

#include "datapath.h"
#include "lb.h"

struct apply_result {
	uint64_t generation; /* the generation now in force */
	uint32_t services;   /* (vip, port, proto) entries installed */
	uint32_t backends;
	uint32_t services_added, services_removed;
	uint32_t backends_added, backends_removed;
};

/*
 * Make the maps hold exactly `state`.  Returns 0, or a negative errno (a map
 * full, an id space exhausted) after logging; on error the maps may hold a
 * mix of old and new services, each one whole (see the ordering contract),
 * and the next successful apply converges.
 */
int apply_state(const struct datapath_maps *maps, const struct lb_state *state,
		const char *node_name, struct apply_result *result);

#endif /* WEFT_AGENT_APPLY_H */
