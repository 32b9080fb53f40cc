/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Writing compiled AuthorizationPolicy tables (user/lib/policy.h) into the
 * pinned weft_policy_* maps, one whole generation at a time:
 *
 *   1. rows of the inactive generation left over are deleted (nothing
 *      reads them: the last flip is at least one apply old);
 *   2. the new tables are written as the inactive generation: address
 *      keys carry gen, set ids and identities WEFT_POLICY_GEN_BIT when
 *      gen is 1, verdicts name policies by stable id;
 *   3. weft_policy_config is written with active_gen = the new generation
 *      (one element): every decision from now on uses the new tables whole;
 *   4. apply_policy_collect_garbage(), after APPLY_GRACE_NS, deletes the
 *      old generation's rows.
 *
 * Stable policy ids: a policy keeps its id (weft_policy_meta, keyed by
 * namespace/name) across applies and restarts, so its counters
 * (weft_policy_stats) keep counting; ids of removed policies are freed
 * with their counters.
 */
#ifndef WEFT_AGENT_APPLY_POLICY_H
#define WEFT_AGENT_APPLY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "policy.h"

struct apply_policy_result {
	uint32_t gen;          /* generation now active */
	size_t rows;           /* rows written */
	uint32_t policies;     /* policies with an id */
	uint32_t policies_added, policies_removed;
	size_t stale_deleted;  /* rows of older generations deleted */
};

/*
 * Make ps the policy in force (ps may be empty: no policy anywhere).
 * generation is the agent's config generation, recorded in the config
 * entry.  Returns 0, or a negative errno (a map full) after logging, with
 * the previous generation still in force.
 */
int apply_policy(const struct datapath_maps *maps, const struct policy_state *ps,
		 uint64_t generation, struct apply_policy_result *res);

/* Delete rows of the generation not in force.  Elements deleted, or a
 * negative errno. */
int apply_policy_collect_garbage(const struct datapath_maps *maps);

#endif /* WEFT_AGENT_APPLY_POLICY_H */
