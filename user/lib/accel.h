/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Same-node socket acceleration as seen from userspace: its pinned maps
 * (kept apart from struct datapath_maps, so a datapath pinned before
 * acceleration existed still opens), its counters and its on/off switch.
 *
 *   <pin_dir>/maps_v3/weft_accel_hash    socket hash (key -> socket cookie)
 *   <pin_dir>/maps_v3/weft_accel_flows   key -> what the peer needs
 *   <pin_dir>/maps_v3/weft_accel_config  [0] = { enabled }
 *   <pin_dir>/maps_v3/weft_accel_stats   per-CPU, enum weft_accel_counter
 */
#ifndef WEFT_ACCEL_H
#define WEFT_ACCEL_H

#include <stdbool.h>

#include <weft/abi.h>

struct accel_maps {
	int socks;  /* weft_accel_hash */
	int flows;  /* weft_accel_flows */
	int config; /* weft_accel_config */
	int stats;  /* weft_accel_stats */
};

/* Open the pinned maps: 0, -ENOENT when the datapath under pin_dir has no
 * acceleration maps, or another negative errno.  Close with
 * accel_maps_close() (accepts closed maps). */
int accel_maps_open(const char *pin_dir, struct accel_maps *m);
void accel_maps_close(struct accel_maps *m);

/* Name of a counter ("connections"), "unknown" out of range. */
const char *accel_counter_name(unsigned int counter);

/* The counter's kind for metrics: "accelerated", "skip" (reason: the
 * name after "skip_") or "fallback" (after "fallback_"). */
const char *accel_counter_reason(unsigned int counter, const char **kind);

/* Every counter summed over the CPUs.  0 or negative errno. */
int accel_stats_read(int fd, __u64 sums[WEFT_ACCEL__MAX]);

/* Switch acceleration on or off for new sends (docs/design.md). */
int accel_config_write(int fd, bool enabled);
int accel_config_read(int fd, bool *enabled);

/* Entries now of weft_accel_hash or weft_accel_flows (walks the keys,
 * both keyed by struct weft_accel_key).  >= 0, or negative errno. */
long accel_socks_count(int fd);

#endif /* WEFT_ACCEL_H */
