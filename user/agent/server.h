/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's HTTP endpoint on metricsAddress:metricsPort:
 *   GET /healthz/ready  200 "ready" once a config is applied, else 503
 *   GET /metrics        Prometheus text exposition (version 0.0.4)
 * Anything else gets a proper error reply (400, 404, 405, 431, 503).
 *
 * The endpoint shares weftd's single event loop with reloads and signals,
 * so it never blocks: sockets are non-blocking, each connection keeps its
 * own request and reply buffers, and a connection that makes no progress
 * for SERVER_IDLE_TIMEOUT_MS, or is not done after SERVER_CONN_TIMEOUT_MS,
 * is dropped.  At
 * most SERVER_MAX_CONNS connections are served at once; more wait in the
 * listen backlog.  One request per connection (Connection: close).
 */
#ifndef WEFT_AGENT_SERVER_H
#define WEFT_AGENT_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SERVER_MAX_CONNS 16
#define SERVER_REQUEST_MAX 8192
#define SERVER_IDLE_TIMEOUT_MS 5000
#define SERVER_CONN_TIMEOUT_MS 60000

/* Writes the /metrics body; returns 0 or a negative errno. */
typedef int (*server_metrics_fn)(FILE *out, void *data);

struct server_conn {
	int fd;                   /* -1: slot free */
	uint64_t deadline_ms;     /* CLOCK_MONOTONIC: idle or total, earlier */
	uint64_t hard_deadline_ms;
	size_t in_len;
	char in[SERVER_REQUEST_MAX];
	char *out;                /* the whole reply, once the request is in */
	size_t out_len, out_off;
};

struct server {
	int listen_fd;
	bool ready;
	server_metrics_fn metrics;
	void *metrics_data;
	struct server_conn conns[SERVER_MAX_CONNS];
};

/* Listen on addr:port (IPv4 or IPv6 literal).  0 or negative errno. */
int server_open(struct server *srv, const char *addr, uint16_t port);

/*
 * Fill pfd[0..max) with what the endpoint waits for (the listener, then
 * each connection for input or output); returns how many were filled.
 */
int server_poll_fds(const struct server *srv, struct pollfd *pfd, int max);

/* Act on the revents of the fds server_poll_fds() filled. */
void server_dispatch(struct server *srv, const struct pollfd *pfd, int n);

/* Milliseconds until the nearest connection deadline; -1 if none. */
int server_timeout_ms(const struct server *srv);

/* Close connections past their deadline. */
void server_expire(struct server *srv);

void server_close(struct server *srv); /* listener and connections */

#endif /* WEFT_AGENT_SERVER_H */
