// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

#define REQUEST_MAX 8192

int server_open(struct server *srv, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1, fd, err;

	srv->listen_fd = -1;
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

void server_close(struct server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
}

static void reply(int fd, int status, const char *reason,
		  const char *content_type, const char *body, size_t len)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     status, reason, content_type, len);
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n)
		return;
	while (len) {
		ssize_t w = send(fd, body, len, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void reply_text(int fd, int status, const char *reason,
		       const char *body)
{
	reply(fd, status, reason, "text/plain; charset=utf-8", body,
	      strlen(body));
}

/* Read until the end of the request head; -1 on error or timeout. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap - 1) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return len ? (ssize_t)len : -1;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (ssize_t)len;
	}
	return -2; /* head too large */
}

static void serve_metrics(struct server *srv, int fd)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	out = open_memstream(&body, &len);
	if (!out) {
		reply_text(fd, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	err = srv->metrics ? srv->metrics(out, srv->metrics_data) : 0;
	fclose(out);
	if (err)
		reply_text(fd, 500, "Internal Server Error",
			   "reading datapath maps failed\n");
	else
		reply(fd, 200, "OK", "text/plain; version=0.0.4", body, len);
	free(body);
}

void server_handle(struct server *srv)
{
	struct timeval tv = { .tv_sec = 1 };
	char buf[REQUEST_MAX], *sp1, *sp2, *eol;
	ssize_t n;
	int fd;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	n = read_head(fd, buf, sizeof(buf));
	if (n == -2) {
		reply_text(fd, 431, "Request Header Fields Too Large",
			   "request head over 8 KiB\n");
		goto out;
	}
	if (n < 0)
		goto out;
	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	eol = strpbrk(buf, "\r\n");
	if (eol)
		*eol = '\0';
	sp1 = strchr(buf, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    sp1[1] != '/') {
		reply_text(fd, 400, "Bad Request", "malformed request line\n");
		goto out;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	if (strcmp(buf, "GET") && strcmp(buf, "HEAD")) {
		reply_text(fd, 405, "Method Not Allowed", "use GET\n");
		goto out;
	}
	if (!strcmp(sp1 + 1, "/healthz/ready")) {
		if (srv->ready)
			reply_text(fd, 200, "OK", "ready\n");
		else
			reply_text(fd, 503, "Service Unavailable",
				   "no configuration applied yet\n");
	} else if (!strcmp(sp1 + 1, "/metrics") ||
		   !strcmp(sp1 + 1, "/stats/prometheus")) {
		serve_metrics(srv, fd);
	} else {
		reply_text(fd, 404, "Not Found", "not found\n");
	}
out:
	close(fd);
}
