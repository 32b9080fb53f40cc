/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Prometheus exposition of the datapath maps and the agent's own state. */
#ifndef WEFT_AGENT_METRICS_H
#define WEFT_AGENT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "datapath.h"

struct agent_metrics {
	const struct datapath_maps *maps;
	const char *node_name;
	uint64_t reload_errors; /* configs rejected since start */
	uint64_t reloads;       /* configs applied since start */
};

/* server_metrics_fn: data is a struct agent_metrics. */
int metrics_render(FILE *out, void *data);

#endif /* WEFT_AGENT_METRICS_H */
