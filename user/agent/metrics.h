/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Prometheus exposition of the datapath maps and the agent's own state. */
#ifndef WEFT_AGENT_METRICS_H
#define WEFT_AGENT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "accel.h"
#include "datapath.h"
#include "lb.h"

struct agent_metrics {
	const struct datapath_maps *maps;
	const char *node_name;
	const char *trust_domain;
	/* The config in force: names the workloads behind addresses in the
	 * istio_* labels.  NULL until the first apply. */
	const struct lb_state *state;
	uint64_t reload_errors; /* configs rejected since start */
	uint64_t reloads;       /* configs applied since start */
	uint64_t last_error_ns; /* CLOCK_REALTIME of the last rejection */
	/* open connections reset because a policy change denies them
	 * (user/agent/conn_sweep.h) */
	uint64_t policy_conns_closed;
	/* Same-node acceleration maps; NULL: none (weft_accel_* omitted). */
	const struct accel_maps *accel;
};

/* server_metrics_fn: data is a struct agent_metrics. */
int metrics_render(FILE *out, void *data);

#endif /* WEFT_AGENT_METRICS_H */
