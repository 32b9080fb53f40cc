/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Datapath-wide counters: one per-CPU slot per enum weft_counter, summed by
 * userspace.  Per-CPU so the hot path never takes a shared cache line.
 */
#ifndef WEFT_BPF_COUNTERS_H
#define WEFT_BPF_COUNTERS_H

#include "maps.h"

static __always_inline void counter_inc(enum weft_counter which)
{
	__u32 key = which;
	__u64 *value = bpf_map_lookup_elem(&weft_counters, &key);

	if (value)
		*value += 1;
}

#endif /* WEFT_BPF_COUNTERS_H */
