// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * testsrv: the backend the end-to-end tests and the demo put behind VIPs.
 * It answers with its own name so a client can tell which backend it hit.
 *
 *   testsrv --name NAME [--tcp ADDR:PORT]... [--udp ADDR:PORT]... [-v]
 *
 * ADDR is an IPv4 address or a bracketed IPv6 one ("[fd00:201::1]:8080").
 *   TCP  an HTTP request (a method token, a space, ... up to the blank line)
 *        gets "HTTP/1.1 200 OK", "Connection: close" and the body "NAME\n";
 *        anything else, or EOF before any byte, gets "NAME\n".  The server
 *        then shuts down its side, drains the client and closes.
 *   UDP  every datagram gets one datagram "NAME\n" back, sent from the
 *        socket it arrived on.
 * Prints "testsrv NAME: ready" on stderr once every socket listens; exits 0
 * on SIGTERM or SIGINT.  One epoll loop, no threads; a connection idle for
 * CONN_IDLE_MS is closed so a silent client cannot pin a descriptor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 32
#define CONN_BUF 4096
#define CONN_IDLE_MS 10000

enum item_kind { ITEM_TCP_LISTEN, ITEM_UDP, ITEM_CONN, ITEM_SIGNAL, ITEM_TIMER };

/* What epoll_event.data.ptr points at. */
struct item {
	enum item_kind kind;
	int fd;
};

struct conn {
	struct item item; /* first: epoll hands back &conn->item */
	struct conn *next, *prev;
	long long last_ms;
	bool answered; /* response sent, write side shut: only draining now */
	size_t len;
	char buf[CONN_BUF];
};

static const char *name = "testsrv";
static char reply[256];
static size_t reply_len;
static bool verbose;
static int epfd = -1;
static struct conn conns; /* list head */
static struct item listeners[MAX_LISTENERS];
static int nlisteners;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int epoll_add(struct item *it, int fd, enum item_kind kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = it };

	it->kind = kind;
	it->fd = fd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* "1.2.3.4:80" or "[::1]:80" into *ss; returns 0 or -EINVAL. */
static int parse_endpoint(const char *s, struct sockaddr_storage *ss,
			  socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	char *end;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hlen = (size_t)(rb - s - 1);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port > 65535)
		return -EINVAL;

	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		*sslen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		*sslen = sizeof(*sin);
	}
	return 0;
}

static int listener_open(const char *spec, int type)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	if (nlisteners == MAX_LISTENERS) {
		fprintf(stderr, "testsrv: too many listeners\n");
		return -E2BIG;
	}
	if (parse_endpoint(spec, &ss, &sslen)) {
		fprintf(stderr, "testsrv: bad endpoint '%s' (ADDR:PORT or [ADDR6]:PORT)\n",
			spec);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:p and 0.0.0.0:p may both be asked for. */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen))
		goto err;
	if (type == SOCK_STREAM && listen(fd, 128))
		goto err;
	if (epoll_add(&listeners[nlisteners], fd,
		      type == SOCK_STREAM ? ITEM_TCP_LISTEN : ITEM_UDP))
		goto err;
	nlisteners++;
	return 0;
err:
	fprintf(stderr, "testsrv: %s %s: %s\n",
		type == SOCK_STREAM ? "tcp" : "udp", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

static void conn_close(struct conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	close(c->item.fd); /* also removes it from the epoll set */
	free(c);
}

static void tcp_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN, or a client that gave up */
		c = calloc(1, sizeof(*c));
		if (!c || epoll_add(&c->item, fd, ITEM_CONN)) {
			free(c);
			close(fd);
			continue;
		}
		c->last_ms = now_ms();
		c->next = conns.next;
		c->prev = &conns;
		conns.next->prev = c;
		conns.next = c;
	}
}

/*
 * Whether buf[0..len) can still be the start of an HTTP request line:
 * 1 yes and complete headers, 0 yes but incomplete, -1 not HTTP.
 */
static int http_state(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && buf[i] >= 'A' && buf[i] <= 'Z'; i++)
		;
	if (i == len)
		return i < 16 ? 0 : -1;
	if (i == 0 || buf[i] != ' ')
		return -1;
	return memmem(buf, len, "\r\n\r\n", 4) || memmem(buf, len, "\n\n", 2) ?
		       1 : 0;
}

static void conn_answer(struct conn *c, bool http)
{
	/* HEAD gets the headers of the GET answer and no body. */
	bool body = !(http && c->len >= 5 && !memcmp(c->buf, "HEAD ", 5));
	char msg[512];
	int n = 0;

	if (http)
		n = snprintf(msg, sizeof(msg),
			     "HTTP/1.1 200 OK\r\n"
			     "Content-Type: text/plain\r\n"
			     "Content-Length: %zu\r\n"
			     "Connection: close\r\n"
			     "\r\n",
			     reply_len);
	if (body) {
		memcpy(msg + n, reply, reply_len);
		n += (int)reply_len;
	}
	/* A few hundred bytes on a fresh socket: the send buffer takes them. */
	(void)send(c->item.fd, msg, (size_t)n, MSG_NOSIGNAL);
	if (verbose)
		fprintf(stderr, "testsrv %s: answered %s\n", name,
			http ? "http" : "raw");
	shutdown(c->item.fd, SHUT_WR);
	c->answered = true;
}

static void conn_input(struct conn *c)
{
	char drain[4096];
	ssize_t n;
	int st;

	c->last_ms = now_ms();
	if (c->answered) {
		n = recv(c->item.fd, drain, sizeof(drain), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	n = recv(c->item.fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c);
		return;
	}
	if (n == 0) { /* EOF before a complete request: answer raw */
		st = c->len ? http_state(c->buf, c->len) : -1;
		conn_answer(c, st >= 0);
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	st = http_state(c->buf, c->len);
	if (st == 0 && c->len < sizeof(c->buf))
		return; /* wait for the rest of the headers */
	conn_answer(c, st >= 0);
}

static void udp_input(int fd)
{
	struct sockaddr_storage peer;
	char buf[2048];

	for (;;) {
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&peer, &plen);

		if (n < 0)
			return;
		(void)sendto(fd, reply, reply_len, 0, (struct sockaddr *)&peer,
			     plen);
	}
}

static void conns_expire(void)
{
	long long now = now_ms();
	struct conn *c, *next;

	for (c = conns.next; c != &conns; c = next) {
		next = c->next;
		if (now - c->last_ms > CONN_IDLE_MS)
			conn_close(c);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: testsrv --name NAME [--tcp ADDR:PORT]... [--udp ADDR:PORT]... [-v]\n"
		"  ADDR is a.b.c.d or [ipv6]; replies carry NAME\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "tcp", required_argument, NULL, 't' },
		{ "udp", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct item sig_item, timer_item;
	int sfd = -1, tfd = -1, opt, rc = 1;
	bool stop = false;
	sigset_t mask;

	conns.next = conns.prev = &conns;
	/* Parse twice: the name must be known before any socket exists. */
	while ((opt = getopt_long(argc, argv, "n:t:u:vh", opts, NULL)) != -1) {
		if (opt == 'n')
			name = optarg;
		else if (opt == 'v')
			verbose = true;
		else if (opt != 't' && opt != 'u') {
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	reply_len = (size_t)snprintf(reply, sizeof(reply), "%s\n", name);
	if (reply_len >= sizeof(reply)) {
		fprintf(stderr, "testsrv: name too long\n");
		return 2;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) ||
	    epoll_add(&sig_item, sfd, ITEM_SIGNAL) ||
	    epoll_add(&timer_item, tfd, ITEM_TIMER)) {
		perror("testsrv: setup");
		goto out;
	}

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:t:u:vh", opts, NULL)) != -1) {
		if ((opt == 't' && listener_open(optarg, SOCK_STREAM)) ||
		    (opt == 'u' && listener_open(optarg, SOCK_DGRAM)))
			goto out;
	}
	if (!nlisteners) {
		usage();
		goto out;
	}
	fprintf(stderr, "testsrv %s: ready\n", name);

	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, -1);
		bool expire = false;

		if (n < 0 && errno != EINTR) {
			perror("testsrv: epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct item *it = evs[i].data.ptr;
			uint64_t ticks;

			switch (it->kind) {
			case ITEM_TCP_LISTEN:
				tcp_accept(it->fd);
				break;
			case ITEM_UDP:
				udp_input(it->fd);
				break;
			case ITEM_CONN:
				conn_input((struct conn *)it);
				break;
			case ITEM_TIMER:
				/* Expire after the batch: a later event in it
				 * may name a connection expiry would free. */
				expire = read(it->fd, &ticks, sizeof(ticks)) > 0;
				break;
			case ITEM_SIGNAL:
				stop = true;
				break;
			}
		}
		if (expire)
			conns_expire();
	}
	rc = 0;
out:
	while (conns.next != &conns)
		conn_close(conns.next);
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (epfd >= 0)
		close(epfd);
	return rc;
}
