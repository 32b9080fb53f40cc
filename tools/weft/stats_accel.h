/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The same-node acceleration part of `weft stats`: whether it is on, the
 * sockets in its hash, and its counters (enum weft_accel_counter).
 */
#ifndef WEFT_CLI_STATS_ACCEL_H
#define WEFT_CLI_STATS_ACCEL_H

#include <stdbool.h>

#include <weft/abi.h>

#include "main.h"

struct stats_accel {
	bool present; /* false: a datapath pinned without acceleration maps */
	bool enabled;
	long sockets; /* entries of weft_accel_hash now */
	long flows;   /* entries of weft_accel_flows now */
	__u64 counters[WEFT_ACCEL__MAX];
};

/* Read under ctx->pin_dir.  0 (also when absent), or an exit code after
 * reporting the failure. */
int stats_accel_read(struct cli_ctx *ctx, struct stats_accel *a);

/* "acceleration": {...}, or null when absent, into the open object. */
void stats_accel_json(struct json_writer *w, const struct stats_accel *a);

/* A COUNTER VALUE table; 0 or -ENOMEM. */
int stats_accel_text(const struct stats_accel *a);

#endif /* WEFT_CLI_STATS_ACCEL_H */
