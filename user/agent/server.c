// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_request.h"
#include "log.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int server_open(struct server *srv, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1, fd, err;

	srv->listen_fd = -1;
	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else {
		pr_warn("metrics address %s: not an IP address\n", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		err = -errno;
		pr_warn("metrics listener %s:%u: %s\n", addr, port,
			strerror(errno));
		close(fd);
		return err;
	}
	srv->listen_fd = fd;
	return 0;
}

/* The peer made progress: push the idle deadline, never past the total. */
static void conn_progress(struct server_conn *c)
{
	uint64_t idle = now_ms() + SERVER_IDLE_TIMEOUT_MS;

	c->deadline_ms = idle < c->hard_deadline_ms ? idle : c->hard_deadline_ms;
}

static void conn_close(struct server_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->in_len = c->out_len = c->out_off = 0;
}

void server_close(struct server *srv)
{
	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		conn_close(&srv->conns[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
}

/* Queue a whole reply on the connection; it is flushed as the peer reads. */
static void reply(struct server_conn *c, int status, const char *reason,
		  const char *content_type, const char *body, size_t len,
		  bool head_only)
{
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);

	if (!f) {
		conn_close(c);
		return;
	}
	fprintf(f,
		"HTTP/1.1 %d %s\r\n"
		"Content-Type: %s\r\n"
		"Content-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		status, reason, content_type, len);
	if (!head_only)
		fwrite(body, 1, len, f);
	if (fclose(f)) {
		free(out);
		conn_close(c);
		return;
	}
	free(c->out);
	c->out = out;
	c->out_len = out_len;
	c->out_off = 0;
}

static void reply_text(struct server_conn *c, int status, const char *reason,
		       const char *body)
{
	reply(c, status, reason, "text/plain; charset=utf-8", body,
	      strlen(body), false);
}

static void serve_metrics(struct server *srv, struct server_conn *c,
			  bool head_only)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	out = open_memstream(&body, &len);
	if (!out) {
		reply_text(c, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	err = srv->metrics ? srv->metrics(out, srv->metrics_data) : 0;
	if (fclose(out))
		err = err ?: -ENOMEM;
	if (err)
		reply_text(c, 500, "Internal Server Error",
			   "reading datapath maps failed\n");
	else
		reply(c, 200, "OK", "text/plain; version=0.0.4", body, len,
		      head_only);
	free(body);
}

/* A complete request head is in c->in: build the reply. */
static void serve(struct server *srv, struct server_conn *c,
		  const struct http_request *req)
{
	bool head = http_span_is(req->method, "HEAD");

	if (!head && !http_span_is(req->method, "GET")) {
		reply_text(c, 405, "Method Not Allowed", "use GET\n");
	} else if (http_span_is(req->path, "/healthz/ready")) {
		if (srv->ready)
			reply_text(c, 200, "OK", "ready\n");
		else
			reply_text(c, 503, "Service Unavailable",
				   "no configuration applied yet\n");
	} else if (http_span_is(req->path, "/metrics") ||
		   http_span_is(req->path, "/stats/prometheus")) {
		serve_metrics(srv, c, head);
	} else {
		reply_text(c, 404, "Not Found", "not found\n");
	}
}

static void conn_read(struct server *srv, struct server_conn *c)
{
	struct http_request req;
	ssize_t r;
	int rc;

	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			reply_text(c, 431, "Request Header Fields Too Large",
				   "request head over 8 KiB\n");
			return;
		}
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* more later */
		if (r <= 0) {
			if (c->in_len)
				reply_text(c, 400, "Bad Request",
					   "incomplete request\n");
			else
				conn_close(c);
			return;
		}
		c->in_len += (size_t)r;
		conn_progress(c);
		rc = http_parse_request(c->in, c->in_len, &req);
		if (rc >= 0) {
			serve(srv, c, &req);
			return;
		}
		if (rc == HTTP_PARSE_ERROR) {
			reply_text(c, 400, "Bad Request", "malformed request\n");
			return;
		}
	}
}

static void conn_write(struct server_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0)
			break;
		c->out_off += (size_t)w;
		conn_progress(c);
	}
	conn_close(c); /* sent, or the peer is gone */
}

static void server_accept(struct server *srv)
{
	for (int i = 0; i < SERVER_MAX_CONNS; i++) {
		struct server_conn *c = &srv->conns[i];
		int fd;

		if (c->fd >= 0)
			continue;
		fd = accept4(srv->listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		c->fd = fd;
		c->hard_deadline_ms = now_ms() + SERVER_CONN_TIMEOUT_MS;
		c->in_len = 0;
		conn_progress(c);
	}
	/* every slot busy: the rest waits in the backlog */
}

int server_poll_fds(const struct server *srv, struct pollfd *pfd, int max)
{
	int n = 0;

	if (srv->listen_fd < 0 || max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
	for (int i = 0; i < SERVER_MAX_CONNS && n < max; i++) {
		const struct server_conn *c = &srv->conns[i];

		if (c->fd >= 0)
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->out ? POLLOUT : POLLIN,
			};
	}
	return n;
}

static struct server_conn *conn_by_fd(struct server *srv, int fd)
{
	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		if (srv->conns[i].fd == fd)
			return &srv->conns[i];
	return NULL;
}

void server_dispatch(struct server *srv, const struct pollfd *pfd, int n)
{
	for (int i = 1; i < n; i++) {
		struct server_conn *c = conn_by_fd(srv, pfd[i].fd);

		if (!c || !pfd[i].revents)
			continue;
		if (!c->out)
			conn_read(srv, c);
		if (c->fd >= 0 && c->out)
			conn_write(c);
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		server_accept(srv);
}

int server_timeout_ms(const struct server *srv)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		if (srv->conns[i].fd >= 0 && srv->conns[i].deadline_ms < next)
			next = srv->conns[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void server_expire(struct server *srv)
{
	uint64_t now = now_ms();

	for (int i = 0; i < SERVER_MAX_CONNS; i++)
		if (srv->conns[i].fd >= 0 && srv->conns[i].deadline_ms <= now)
			conn_close(&srv->conns[i]);
}
