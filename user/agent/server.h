/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's HTTP endpoint on metricsAddress:metricsPort:
 *   GET /healthz/ready  200 "ready" once a config is applied, else 503
 *   GET /metrics        Prometheus text exposition (version 0.0.4)
 * Anything else gets a proper error reply (400, 404, 405, 431).  One
 * request per connection; each connection is served with a short receive
 * timeout so a stalled client cannot hold the agent.
 */
#ifndef WEFT_AGENT_SERVER_H
#define WEFT_AGENT_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the /metrics body; returns 0 or a negative errno. */
typedef int (*server_metrics_fn)(FILE *out, void *data);

struct server {
	int listen_fd;
	bool ready;
	server_metrics_fn metrics;
	void *metrics_data;
};

/* Listen on addr:port (IPv4 or IPv6 literal).  0 or negative errno. */
int server_open(struct server *srv, const char *addr, uint16_t port);

/* Accept and answer one pending connection (call when listen_fd polls in). */
void server_handle(struct server *srv);

void server_close(struct server *srv);

#endif /* WEFT_AGENT_SERVER_H */
