// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xfer: byte-exact TCP transfers in both directions at once, for the
 * socket acceleration tests and benchmarks.
 *
 *   xfer server --listen ADDR:PORT [options]
 *   xfer client --connect ADDR:PORT --bytes N [--back N] [options]
 *   xfer rr     --connect ADDR:PORT --count N     1-byte ping-pong, latency
 *   xfer bulk   --connect ADDR:PORT --seconds S   one-way throughput
 *   xfer sink   --listen ADDR:PORT                the rr and bulk peer
 *
 * A client connection sends a 32-byte header (what it will send, what it
 * wants back, a seed, the mode), then both ends send their bytes at the
 * same time, shut their write side (half-close) when done and read until
 * EOF.  Every byte is checked where it arrives: the stream is a
 * pseudo-random block of XFER_BLOCK bytes (a prime, so a lost or reordered
 * piece cannot line up by chance) repeated from a per-direction offset,
 * and a 64-bit FNV-1a checksum of each direction is printed.
 *
 * Options (both ends):
 *   --send write|send|sendmsg|writev|sendfile|splice   how data is sent
 *   --epoll          non-blocking sockets and one epoll loop (default:
 *                    blocking, a sender and a receiver thread per connection),
 *                    as event loops do it: a client's socket is non-blocking
 *                    before connect(), a listener is non-blocking and
 *                    accept4() gives SOCK_NONBLOCK sockets.
 *                    rr, bulk, sink: each socket gets its own
 *                    level-triggered epoll;
 *                    rr waits for EPOLLIN before every read, bulk waits for
 *                    EPOLLOUT on EAGAIN, sink waits for EPOLLIN, reads
 *                    until EAGAIN and echoes (rr) or discards (bulk)
 *   --read-size N    bytes per read (default 65536; 1 for byte-wise reads)
 *   --write-size N   bytes per send at most (default and maximum 262144)
 *   --peek           MSG_PEEK each read first and check the read matches
 *   --slow-us N      sleep N microseconds after every read (a slow reader)
 *   --conns N        client: connections at once; server: connections to
 *                    serve before exiting (default 1; server 0: forever)
 *   --close-after N  server: close a connection once N bytes arrived
 *                    (a peer closing mid-transfer)
 *   --reply-after-eof  server: send only once the client's bytes and EOF
 *                    arrived (request, half-close, response)
 *   --bind-port N    client: connect from this source port (with
 *                    SO_REUSEADDR), to make two connections' tuples equal
 *   --sequential     client, blocking: send everything, half-close, then
 *                    read (one thread, as a simple request/response client)
 *   --no-shutdown    no half-close: read exactly the announced bytes, then
 *                    close (with blocking reads: see docs/design.md on
 *                    EAGAIN after a half-close of an accelerated socket)
 *   --signals        blocking mode only (ignored with --epoll, and by rr and
 *                    bulk): each thread that blocks in reads (a connection's
 *                    receiver thread, which with --sequential or
 *                    --reply-after-eof also sends; each sink connection)
 *                    has its own CLOCK_MONOTONIC timer sending SIGALRM to
 *                    that thread alone every 200 us.  The handler is empty
 *                    but for a count and has SA_RESTART, so blocked calls
 *                    are interrupted and restarted thousands of times (an
 *                    EINTR is retried anyway); the bytes must still verify.
 *                    The summary line ends in " signals=N": handler runs
 *                    in this process so far
 *
 * Prints "xfer: client ok ..." (or "server") and exits 0 when every
 * connection transferred and verified all its bytes; "xfer: client FAIL
 * ..." and exits 1 otherwise.  The server and the sink print "xfer:
 * listening" once ready.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define XFER_BLOCK 1048573u /* prime */
#define XFER_MAGIC 0x78666572u /* "xfer" */
#define XFER_MAX_CONNS 256
#define XFER_CHUNK (256 * 1024)
#define XFER_SIGNAL_NS 200000 /* --signals: SIGALRM period */
#define XFER_STALL_MS 60000 /* --epoll: no readiness for this long fails */

/* glibc before 2.41 has the field but not the name */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

enum send_how { SEND_WRITE, SEND_SEND, SEND_SENDMSG, SEND_WRITEV,
		SEND_SENDFILE, SEND_SPLICE };
enum xfer_mode { MODE_TRANSFER = 0, MODE_RR = 1 };

struct header {
	uint32_t magic;
	uint32_t mode;
	uint64_t bytes;  /* client -> server */
	uint64_t back;   /* server -> client */
	uint64_t seed;
};

static struct {
	enum send_how send;
	bool epoll, peek;
	size_t read_size;
	size_t write_size;
	long slow_us;
	int conns;
	uint64_t close_after;
	bool reply_after_eof, no_shutdown, sequential;
	bool signals; /* false with --epoll: only blocking threads get timers */
	int bind_port;
} opt = { .read_size = 65536, .write_size = XFER_CHUNK, .conns = 1 };

static uint8_t *block;  /* XFER_BLOCK bytes, then XFER_CHUNK more (wrap) */
static int block_fd = -1; /* memfd of the same bytes, for sendfile/splice */

/* One direction of one connection. */
struct stream {
	uint64_t total, done, offset; /* offset: into the block at byte 0 */
	uint64_t fnv;
};

struct conn {
	int fd;
	struct header h;
	struct stream out, in;
	size_t hdr_done;  /* header bytes sent or received */
	bool server, out_shut, in_eof, failed;
	int pipe[2];      /* splice */
	size_t piped;     /* bytes in the pipe */
	char why[128];
};

static void fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static void block_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	block = malloc(XFER_BLOCK + XFER_CHUNK);
	if (!block)
		exit(2);
	for (size_t i = 0; i < XFER_BLOCK + XFER_CHUNK; i++) {
		if (i < XFER_BLOCK) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			block[i] = (uint8_t)(x >> 32);
		} else {
			block[i] = block[i - XFER_BLOCK];
		}
	}
	block_fd = memfd_create("xfer", 0);
	if (block_fd < 0 ||
	    write(block_fd, block, XFER_BLOCK + XFER_CHUNK) !=
		    (ssize_t)(XFER_BLOCK + XFER_CHUNK)) {
		perror("xfer: memfd");
		exit(2);
	}
}

static void fnv(uint64_t *h, const uint8_t *p, size_t n)
{
	if (!*h)
		*h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ p[i]) * 0x100000001b3ull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleep the full us microseconds: a signal (--signals) does not cut it
 * short, as it would usleep(). */
static void sleep_us(long us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000;
	struct timespec ts = { .tv_sec = (time_t)(end / 1000000000ull),
			       .tv_nsec = (long)(end % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* --- --signals: a SIGALRM timer per thread that blocks in reads --------- */

static atomic_ulong signals_seen; /* handler runs, every thread */

/* Installed with SA_RESTART: it only counts, and the kernel restarts the
 * call it interrupted (where it does not and says EINTR, xfer retries). */
static void on_sigalrm(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
}

struct sigtimer {
	timer_t id;
	bool on;
};

/*
 * With --signals, start a timer sending SIGALRM to the calling thread, and
 * only to it (SIGEV_THREAD_ID), every XFER_SIGNAL_NS; without, do nothing.
 * The thread must sigtimer_stop() it before it ends.  0, or -1 and errno.
 */
static int sigtimer_start(struct sigtimer *t)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID,
				.sigev_signo = SIGALRM };
	struct itimerspec its = {
		.it_value = { .tv_nsec = XFER_SIGNAL_NS },
		.it_interval = { .tv_nsec = XFER_SIGNAL_NS },
	};

	t->on = false;
	if (!opt.signals)
		return 0;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->id))
		return -1;
	if (timer_settime(t->id, 0, &its, NULL)) {
		int e = errno;

		timer_delete(t->id);
		errno = e;
		return -1;
	}
	t->on = true;
	return 0;
}

static void sigtimer_stop(struct sigtimer *t)
{
	if (t->on)
		timer_delete(t->id);
	t->on = false;
}

/* Where byte `done` of the stream sits in the block. */
static size_t stream_pos(const struct stream *s)
{
	return (size_t)((s->offset + s->done) % XFER_BLOCK);
}

/* One send of at most --write-size bytes; what send(2) would return. */
static ssize_t send_some(struct conn *c)
{
	struct stream *s = &c->out;
	size_t pos = stream_pos(s);
	size_t n = s->total - s->done < opt.write_size ? s->total - s->done :
							 opt.write_size;
	const uint8_t *p = block + pos;
	ssize_t r;

	switch (opt.send) {
	case SEND_WRITE:
		return write(c->fd, p, n);
	case SEND_SEND:
		return send(c->fd, p, n, MSG_NOSIGNAL);
	case SEND_SENDMSG:
	case SEND_WRITEV: {
		/* three pieces, so one call gathers several buffers */
		struct iovec iov[3];
		size_t a = n / 3, b = n / 3;
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

		iov[0] = (struct iovec){ (void *)p, a };
		iov[1] = (struct iovec){ (void *)(p + a), b };
		iov[2] = (struct iovec){ (void *)(p + a + b), n - a - b };
		if (opt.send == SEND_WRITEV)
			return writev(c->fd, iov, 3);
		return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	}
	case SEND_SENDFILE: {
		off_t off = (off_t)pos;

		return sendfile(c->fd, block_fd, &off, n);
	}
	case SEND_SPLICE:
		if (!c->piped) {
			loff_t off = (loff_t)pos;

			r = splice(block_fd, &off, c->pipe[1], NULL,
				   n < 65536 ? n : 65536, SPLICE_F_MOVE);
			if (r <= 0)
				return r < 0 ? r : -1;
			c->piped = (size_t)r;
		}
		r = splice(c->pipe[0], NULL, c->fd, NULL, c->piped,
			   SPLICE_F_MOVE | (opt.epoll ? SPLICE_F_NONBLOCK : 0));
		if (r > 0)
			c->piped -= (size_t)r;
		return r;
	}
	errno = EINVAL;
	return -1;
}

/*
 * A failed send or recv: 1 to call again (EINTR), 0 to wait for epoll
 * (EAGAIN with --epoll), -1 failed.  EAGAIN on a blocking socket is a
 * failure: TCP never returns it there.
 */
static int io_error(struct conn *c, const char *what, uint64_t at)
{
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN && opt.epoll)
		return 0;
	fail(c, "%s at byte %" PRIu64 ": %s", what, at, strerror(errno));
	return -1;
}

/* Send until done or EAGAIN; shut the write side when done.  -1: failed. */
static int pump_out(struct conn *c)
{
	while (c->out.done < c->out.total) {
		ssize_t r = send_some(c);

		if (r < 0) {
			int e = io_error(c, "send", c->out.done);

			if (e > 0)
				continue;
			return e;
		}
		fnv(&c->out.fnv, block + stream_pos(&c->out), (size_t)r);
		c->out.done += (uint64_t)r;
	}
	if (!c->out_shut) {
		c->out_shut = true;
		if (!opt.no_shutdown && shutdown(c->fd, SHUT_WR)) {
			fail(c, "shutdown: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Read until EOF (or EAGAIN with --epoll), checking every byte.  -1:
 * failed. */
static int pump_in(struct conn *c)
{
	static __thread uint8_t buf[65536], peeked[65536];
	size_t want = opt.read_size < sizeof(buf) ? opt.read_size : sizeof(buf);

	while (!c->in_eof) {
		ssize_t r, p = 0;

		if (opt.no_shutdown && c->in.done == c->in.total) {
			c->in_eof = true; /* all announced bytes: done */
			return 0;
		}
		if (opt.no_shutdown && want > c->in.total - c->in.done)
			want = (size_t)(c->in.total - c->in.done);

		if (opt.peek)
			p = recv(c->fd, peeked, want, MSG_PEEK);
		r = p < 0 ? p : recv(c->fd, buf, p > 0 ? (size_t)p : want, 0);
		if (r < 0) {
			int e = io_error(c, "recv", c->in.done);

			if (e > 0)
				continue;
			return e;
		}
		if (r == 0) {
			c->in_eof = true;
			if (c->in.done != c->in.total) {
				fail(c, "EOF after %" PRIu64 " of %" PRIu64 " bytes",
				     c->in.done, c->in.total);
				return -1;
			}
			return 0;
		}
		if (opt.peek && (r != p || memcmp(buf, peeked, (size_t)r))) {
			fail(c, "MSG_PEEK saw %zd bytes, the read %zd, or other bytes",
			     p, r);
			return -1;
		}
		if (c->in.done + (uint64_t)r > c->in.total) {
			fail(c, "%" PRIu64 " bytes more than announced",
			     c->in.done + (uint64_t)r - c->in.total);
			return -1;
		}
		if (memcmp(buf, block + stream_pos(&c->in), (size_t)r)) {
			fail(c, "wrong bytes at %" PRIu64, c->in.done);
			return -1;
		}
		fnv(&c->in.fnv, buf, (size_t)r);
		c->in.done += (uint64_t)r;
		if (c->server && opt.close_after && c->in.done >= opt.close_after) {
			fail(c, "closed on purpose after %" PRIu64 " bytes",
			     c->in.done);
			return -1;
		}
		if (opt.slow_us)
			sleep_us(opt.slow_us);
	}
	return 0;
}

/* Streams from the header: each direction starts at its own offset. */
static void conn_streams(struct conn *c)
{
	uint64_t c2s = c->h.seed % XFER_BLOCK;
	uint64_t s2c = (c->h.seed * 7919 + 104729) % XFER_BLOCK;

	c->out = (struct stream){ .total = c->server ? c->h.back : c->h.bytes,
				  .offset = c->server ? s2c : c2s };
	c->in = (struct stream){ .total = c->server ? c->h.bytes : c->h.back,
				 .offset = c->server ? c2s : s2c };
}

/* Header exchange: send (client) or receive (server) the rest of it. */
static int pump_header(struct conn *c)
{
	while (c->hdr_done < sizeof(c->h)) {
		char *p = (char *)&c->h + c->hdr_done;
		size_t n = sizeof(c->h) - c->hdr_done;
		ssize_t r = c->server ? recv(c->fd, p, n, 0) :
					send(c->fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && opt.epoll)
			return 0;
		if (r <= 0) {
			fail(c, "header: %s", r ? strerror(errno) : "EOF");
			return -1;
		}
		c->hdr_done += (size_t)r;
	}
	if (c->server && c->h.magic != XFER_MAGIC) {
		fail(c, "bad header");
		return -1;
	}
	return 1;
}

/* --- blocking: a sender thread and a receiver thread per connection ---- */

static void *sender_thread(void *arg)
{
	pump_out(arg);
	return NULL;
}

/* The receiver: reads (and sends too with --sequential or
 * --reply-after-eof), so it is the thread a --signals timer interrupts. */
static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct sigtimer st;
	pthread_t t;

	if (sigtimer_start(&st)) {
		fail(c, "timer_create: %s", strerror(errno));
		goto out;
	}
	if (pump_header(c) < 0)
		goto out;
	conn_streams(c);
	if (c->server && opt.reply_after_eof) {
		if (!pump_in(c))
			pump_out(c);
		goto out;
	}
	if (!c->server && opt.sequential) {
		if (!pump_out(c))
			pump_in(c);
		goto out;
	}
	if (pthread_create(&t, NULL, sender_thread, c)) {
		fail(c, "pthread_create");
		goto out;
	}
	pump_in(c);
	if (c->failed) /* unblock the sender */
		shutdown(c->fd, SHUT_RDWR);
	pthread_join(t, NULL);
out:
	sigtimer_stop(&st);
	close(c->fd);
	c->fd = -1;
	return NULL;
}

static void run_blocking(struct conn *conns, int n)
{
	pthread_t t[XFER_MAX_CONNS];

	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, conn_thread, &conns[i]))
			fail(&conns[i], "pthread_create");
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* --- non-blocking: one epoll loop over every connection ---------------- */

/* Advance c as far as it goes; true once it is finished (or failed). */
static bool conn_step(struct conn *c)
{
	if (c->failed)
		return true;
	if (c->hdr_done < sizeof(c->h)) {
		int r = pump_header(c);

		if (r <= 0)
			return r < 0;
		conn_streams(c);
	}
	if (pump_in(c) < 0)
		return true;
	if ((!c->server || !opt.reply_after_eof || c->in_eof) && pump_out(c) < 0)
		return true;
	return c->in_eof && c->out_shut;
}

static void run_epoll(struct conn *conns, int n)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), left = n;
	struct epoll_event evs[64];

	for (int i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET,
					  .data.ptr = &conns[i] };

		fcntl(conns[i].fd, F_SETFL, O_NONBLOCK);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev))
			fail(&conns[i], "epoll_ctl: %s", strerror(errno));
	}
	for (int i = 0; i < n; i++)
		if (conn_step(&conns[i])) {
			close(conns[i].fd);
			conns[i].fd = -1;
			left--;
		}
	while (left > 0) {
		int k = epoll_wait(ep, evs, 64, 60000);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			for (int i = 0; i < n; i++)
				if (conns[i].fd >= 0)
					fail(&conns[i], "no progress for 60 s");
			break;
		}
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->fd >= 0 && conn_step(c)) {
				close(c->fd);
				c->fd = -1;
				left--;
			}
		}
	}
	close(ep);
}

/* --- set-up -------------------------------------------------------------- */

static socklen_t parse_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon = strrchr(text, ':');
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return 0;
	hl = (size_t)(colon - text);
	if (text[0] == '[') {
		text++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return 0;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(colon + 1));
		return sizeof(*sin6);
	}
	return 0;
}

static int conn_prepare(struct conn *c, int fd, bool server)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->server = server;
	c->pipe[0] = c->pipe[1] = -1;
	if (opt.send == SEND_SPLICE && pipe(c->pipe))
		return -1;
	return 0;
}

static int report(struct conn *conns, int n, const char *who)
{
	uint64_t sent = 0, received = 0;
	char sig[40] = "";
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct conn *c = &conns[i];

		sent += c->out.done;
		received += c->in.done;
		if (c->failed) {
			if (bad++ < 5)
				printf("xfer: %s conn %d: %s\n", who, i, c->why);
		} else {
			printf("xfer: %s conn %d: sent %" PRIu64 " fnv %016" PRIx64
			       ", received %" PRIu64 " fnv %016" PRIx64 "\n",
			       who, i, c->out.done, c->out.fnv, c->in.done,
			       c->in.fnv);
		}
		if (c->pipe[0] >= 0) {
			close(c->pipe[0]);
			close(c->pipe[1]);
		}
	}
	if (opt.signals)
		snprintf(sig, sizeof(sig), " signals=%lu",
			 atomic_load_explicit(&signals_seen, memory_order_relaxed));
	printf("xfer: %s %s conns=%d failed=%d sent=%" PRIu64 " received=%" PRIu64
	       "%s\n", who, bad ? "FAIL" : "ok", n, bad, sent, received, sig);
	fflush(stdout);
	return bad ? 1 : 0;
}

/*
 * A listening socket on addr; with --epoll it is non-blocking, as an event
 * loop's is (same-node acceleration reads the listener's O_NONBLOCK when a
 * connection is established: docs/design.md).  -1 with errno on failure.
 */
static int listen_on(const char *addr, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = parse_addr(addr, &ss);
	int lfd, one = 1;

	if (!len) {
		errno = EINVAL;
		return -1;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
				   (opt.epoll ? SOCK_NONBLOCK : 0), 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, backlog))
		return -1;
	return lfd;
}

/* The next connection of lfd: with --epoll non-blocking (accept4
 * SOCK_NONBLOCK), waiting for it in poll(). */
static int accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
						   (opt.epoll ? SOCK_NONBLOCK : 0));

		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return fd;
		if (errno == EAGAIN && poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

static int do_server(const char *addr)
{
	static struct conn conns[XFER_MAX_CONNS];
	int lfd = listen_on(addr, 1024), served = 0, bad = 0;

	if (lfd < 0) {
		fprintf(stderr, "xfer: listen %s: %s\n", addr, strerror(errno));
		return 2;
	}
	fprintf(stderr, "xfer: listening\n");
	/* Accept a batch of opt.conns (the client opens them at once), serve
	 * it, repeat; --conns 0 serves batches of one forever. */
	while (!opt.conns || served < opt.conns) {
		int batch = opt.conns ? opt.conns - served : 1;

		if (batch > XFER_MAX_CONNS)
			batch = XFER_MAX_CONNS;
		for (int i = 0; i < batch; i++) {
			int fd = accept_one(lfd);

			if (fd < 0 || conn_prepare(&conns[i], fd, true)) {
				perror("xfer: accept");
				return 2;
			}
		}
		if (opt.epoll)
			run_epoll(conns, batch);
		else
			run_blocking(conns, batch);
		bad |= report(conns, batch, "server");
		served += batch;
	}
	return bad;
}

/*
 * connect() as event loops do it (--epoll): the socket is non-blocking
 * before connect() and stays so (same-node acceleration takes only sockets
 * that are non-blocking when the connection is established).  Returns fd,
 * or -1 with fd closed.
 */
static int connect_nonblocking(int fd, const struct sockaddr *to, socklen_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t elen = sizeof(int);
	int err = 0;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    (connect(fd, to, len) && errno != EINPROGRESS))
		goto fail;
	while (poll(&p, 1, XFER_STALL_MS) < 0)
		if (errno != EINTR)
			goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		goto fail;
	if (!(p.revents & POLLOUT) || err) {
		errno = err ?: ETIMEDOUT;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int dial(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = parse_addr(addr, &ss);
	int fd;

	if (!len)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (opt.bind_port) {
		struct sockaddr_storage src = { .ss_family = ss.ss_family };
		int one = 1;

		/* the port sits at the same offset in both families */
		((struct sockaddr_in *)&src)->sin_port = htons((uint16_t)opt.bind_port);
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&src, len)) {
			close(fd);
			return -1;
		}
	}
	if (opt.epoll)
		return connect_nonblocking(fd, (struct sockaddr *)&ss, len);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int do_client(const char *addr, uint64_t bytes, uint64_t back)
{
	static struct conn conns[XFER_MAX_CONNS];
	int n = opt.conns < 1 ? 1 : opt.conns;

	if (n > XFER_MAX_CONNS)
		n = XFER_MAX_CONNS;
	for (int i = 0; i < n; i++) {
		int fd = dial(addr);

		if (fd < 0 || conn_prepare(&conns[i], fd, false)) {
			fprintf(stderr, "xfer: connect %s: %s\n", addr,
				strerror(errno));
			return 2;
		}
		conns[i].h = (struct header){ .magic = XFER_MAGIC,
					      .mode = MODE_TRANSFER,
					      .bytes = bytes, .back = back,
					      .seed = (uint64_t)getpid() * 31 + (uint64_t)i };
	}
	if (opt.epoll)
		run_epoll(conns, n);
	else
		run_blocking(conns, n);
	return report(conns, n, "client");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* --- rr, bulk and sink: one socket, blocking or with its own epoll ------ */

/*
 * A socket of the rr, bulk and sink paths.  ep < 0: blocking, and EAGAIN is
 * a failure as everywhere in xfer.  ep >= 0 (--epoll): fd is O_NONBLOCK
 * and registered, level-triggered, in ep for `events`, which sock_wait()
 * changes only when asked for others; a wait longer than stall_ms (< 0:
 * no limit) fails with ETIMEDOUT.
 */
struct sock {
	int fd, ep, stall_ms;
	uint32_t events;
};

/* Make s->fd non-blocking with an epoll instance of its own waiting for
 * `events`.  0, or -1 and errno. */
static int sock_nonblock(struct sock *s, uint32_t events, int stall_ms)
{
	struct epoll_event ev = { .events = events, .data.fd = s->fd };
	int fl = fcntl(s->fd, F_GETFL);

	if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK))
		return -1;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0)
		return -1;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->fd, &ev)) {
		int e = errno;

		close(s->ep);
		s->ep = -1;
		errno = e;
		return -1;
	}
	s->events = events;
	s->stall_ms = stall_ms;
	return 0;
}

/*
 * --epoll: wait until s->fd is ready for `events`, or has an error or a
 * hang-up (which the call after then reports).  EINTR waits on towards the
 * same deadline.  0, or -1 and errno (ETIMEDOUT: nothing for stall_ms).
 */
static int sock_wait(struct sock *s, uint32_t events)
{
	uint64_t end = now_ns() + (uint64_t)(s->stall_ms > 0 ? s->stall_ms : 0) *
					  1000000ull;
	struct epoll_event ev = { .events = events, .data.fd = s->fd };

	if (events != s->events) {
		if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->fd, &ev))
			return -1;
		s->events = events;
	}
	for (;;) {
		int ms = -1, k;

		if (s->stall_ms >= 0) {
			uint64_t now = now_ns();

			if (now >= end) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = (int)((end - now + 999999) / 1000000);
		}
		k = epoll_wait(s->ep, &ev, 1, ms);
		if (k > 0)
			return 0;
		if (k < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * One read of at most len bytes: > 0 read, 0 EOF, -1 and errno.  EINTR is
 * retried; with --epoll every read comes after a wait for EPOLLIN, and
 * EAGAIN waits again.
 */
static ssize_t sock_read(struct sock *s, void *buf, size_t len)
{
	for (;;) {
		ssize_t r;

		if (s->ep >= 0 && sock_wait(s, EPOLLIN))
			return -1;
		r = read(s->fd, buf, len);
		if (r >= 0)
			return r;
		if (errno == EINTR || (errno == EAGAIN && s->ep >= 0))
			continue;
		return -1;
	}
}

/* Exactly len bytes: 0, or -1 and errno (ECONNRESET: EOF came first). */
static int sock_read_full(struct sock *s, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t r = sock_read(s, (char *)buf + got, len - got);

		if (r <= 0) {
			if (!r)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* All len bytes, across short writes and EINTR; with --epoll EAGAIN waits
 * for EPOLLOUT.  0, or -1 and errno. */
static int sock_write_all(struct sock *s, const void *buf, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t r = write(s->fd, (const char *)buf + put, len - put);

		if (r >= 0) {
			put += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || s->ep < 0 || sock_wait(s, EPOLLOUT))
			return -1;
	}
	return 0;
}

static void sock_close(struct sock *s)
{
	if (s->ep >= 0)
		close(s->ep);
	close(s->fd);
	s->fd = s->ep = -1;
}

/*
 * rr: one connection, count round trips of one byte each way (the server
 * echoes in MODE_RR).  Prints p50, p99 and mean in microseconds.  With
 * --epoll each round trip is a write (EPOLLOUT wait on EAGAIN), an
 * epoll_wait for EPOLLIN and a read.
 */
static int do_rr(const char *addr, long count)
{
	struct header h = { .magic = XFER_MAGIC, .mode = MODE_RR };
	uint64_t *rtt = calloc((size_t)count, sizeof(*rtt)), sum = 0;
	struct sock s = { .fd = dial(addr), .ep = -1 };
	int one = 1;
	char b = 'x';

	if (s.fd < 0 || !rtt || sock_write_all(&s, &h, sizeof(h)) ||
	    (opt.epoll && sock_nonblock(&s, EPOLLIN, XFER_STALL_MS))) {
		perror("xfer: rr");
		return 2;
	}
	setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (long i = 0; i < count; i++) {
		uint64_t t0 = now_ns();
		ssize_t r = -1;

		if (sock_write_all(&s, &b, 1) || (r = sock_read(&s, &b, 1)) != 1) {
			if (r)
				perror("xfer: rr");
			else
				fprintf(stderr, "xfer: rr: EOF after %ld round trips\n",
					i);
			return 1;
		}
		rtt[i] = now_ns() - t0;
		sum += rtt[i];
	}
	qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
	printf("xfer: rr count=%ld p50_us=%.2f p99_us=%.2f mean_us=%.2f\n", count,
	       rtt[count / 2] / 1e3, rtt[count * 99 / 100] / 1e3,
	       (double)sum / (double)count / 1e3);
	sock_close(&s);
	free(rtt);
	return 0;
}

/* bulk: one connection, seconds of one-way sends (server discards).  With
 * --epoll a send that finds the socket full waits for EPOLLOUT. */
static int do_bulk(const char *addr, double seconds)
{
	struct header h = { .magic = XFER_MAGIC, .mode = MODE_TRANSFER,
			    .bytes = UINT64_MAX / 2 };
	struct conn c;
	struct sock s = { .fd = dial(addr), .ep = -1 };
	uint64_t t0, t1;

	if (s.fd < 0 || conn_prepare(&c, s.fd, false) ||
	    sock_write_all(&s, &h, sizeof(h)) ||
	    (opt.epoll && sock_nonblock(&s, EPOLLOUT, XFER_STALL_MS))) {
		perror("xfer: bulk");
		return 2;
	}
	c.h = h;
	conn_streams(&c);
	t0 = t1 = now_ns();
	while ((double)(t1 - t0) < seconds * 1e9) {
		for (int i = 0; i < 64; i++) {
			ssize_t r = send_some(&c);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN && s.ep >= 0 &&
			    !sock_wait(&s, EPOLLOUT))
				continue;
			if (r < 0) {
				printf("xfer: bulk FAIL %s\n", strerror(errno));
				return 1;
			}
			c.out.done += (uint64_t)r;
		}
		t1 = now_ns();
	}
	printf("xfer: bulk bytes=%" PRIu64 " seconds=%.3f gbit_s=%.2f\n", c.out.done,
	       (double)(t1 - t0) / 1e9, (double)c.out.done * 8 / (double)(t1 - t0));
	sock_close(&s);
	return 0;
}

/*
 * Server side of rr and bulk, a thread per connection: echo bytes (rr) or
 * discard them (bulk) until EOF or an error.  Blocking: read and echo
 * (with --signals under a SIGALRM timer).  --epoll (the socket came
 * non-blocking from accept4): wait for EPOLLIN, read until EAGAIN.
 */
static void *serve_simple(void *arg)
{
	struct sock s = { .fd = (int)(intptr_t)arg, .ep = -1 };
	static __thread char buf[1 << 17];
	struct sigtimer st;
	struct header h;
	size_t size;
	ssize_t r;
	int one = 1;

	if (sigtimer_start(&st)) {
		perror("xfer: sink: timer_create");
		goto out;
	}
	if (opt.epoll && sock_nonblock(&s, EPOLLIN, -1))
		goto out;
	if (sock_read_full(&s, &h, sizeof(h)))
		goto out;
	setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	size = h.mode == MODE_RR ? 1 : sizeof(buf);
	if (s.ep < 0) {
		while ((r = sock_read(&s, buf, size)) > 0)
			if (h.mode == MODE_RR && sock_write_all(&s, buf, (size_t)r))
				break;
		goto out;
	}
	while (!sock_wait(&s, EPOLLIN)) {
		while ((r = read(s.fd, buf, size)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r < 0 || (h.mode == MODE_RR &&
				      sock_write_all(&s, buf, (size_t)r)))
				goto out;
		}
		if (!r)
			break; /* EOF */
	}
out:
	sigtimer_stop(&st);
	sock_close(&s);
	return NULL;
}

/* The sink's accept loop, forever: a serve_simple() thread per connection. */
static int do_sink(const char *addr)
{
	int lfd = listen_on(addr, 128);

	if (lfd < 0) {
		perror("xfer: sink");
		return 2;
	}
	fprintf(stderr, "xfer: listening\n");
	for (;;) {
		int fd = accept_one(lfd);
		pthread_t t;

		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, serve_simple, (void *)(intptr_t)fd))
			close(fd);
		else
			pthread_detach(t);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xfer server --listen ADDR:PORT [options]\n"
		"       xfer sink   --listen ADDR:PORT     (rr and bulk peer)\n"
		"       xfer client --connect ADDR:PORT --bytes N [--back N] [options]\n"
		"       xfer rr     --connect ADDR:PORT --count N [--epoll]\n"
		"       xfer bulk   --connect ADDR:PORT --seconds S [--send HOW] [--epoll]\n"
		"options: --send write|send|sendmsg|writev|sendfile|splice --epoll\n"
		"         --read-size N --peek --slow-us N --conns N --close-after N\n"
		"         --reply-after-eof --no-shutdown --sequential --bind-port N\n"
		"         --signals\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const hows[] = { "write", "send", "sendmsg",
					    "writev", "sendfile", "splice" };
	enum { O_LISTEN = 256, O_CONNECT, O_BYTES, O_BACK, O_SEND, O_EPOLL,
	       O_READ, O_PEEK, O_SLOW, O_CONNS, O_CLOSE, O_COUNT, O_SECONDS,
	       O_REPLY, O_NOSHUT, O_SEQ, O_BIND, O_SIGNALS, O_WRITE };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "bytes", required_argument, NULL, O_BYTES },
		{ "back", required_argument, NULL, O_BACK },
		{ "send", required_argument, NULL, O_SEND },
		{ "epoll", no_argument, NULL, O_EPOLL },
		{ "read-size", required_argument, NULL, O_READ },
		{ "write-size", required_argument, NULL, O_WRITE },
		{ "peek", no_argument, NULL, O_PEEK },
		{ "slow-us", required_argument, NULL, O_SLOW },
		{ "conns", required_argument, NULL, O_CONNS },
		{ "close-after", required_argument, NULL, O_CLOSE },
		{ "count", required_argument, NULL, O_COUNT },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "reply-after-eof", no_argument, NULL, O_REPLY },
		{ "no-shutdown", no_argument, NULL, O_NOSHUT },
		{ "sequential", no_argument, NULL, O_SEQ },
		{ "bind-port", required_argument, NULL, O_BIND },
		{ "signals", no_argument, NULL, O_SIGNALS },
		{}
	};
	const char *listen_at = NULL, *connect_to = NULL, *cmd;
	uint64_t bytes = 0, back = 0;
	long count = 10000;
	double seconds = 5;
	int o;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN: listen_at = optarg; break;
		case O_CONNECT: connect_to = optarg; break;
		case O_BYTES: bytes = strtoull(optarg, NULL, 0); break;
		case O_BACK: back = strtoull(optarg, NULL, 0); break;
		case O_SEND:
			for (o = 0; o < 6 && strcmp(optarg, hows[o]); o++)
				;
			if (o == 6)
				usage();
			opt.send = (enum send_how)o;
			break;
		case O_EPOLL: opt.epoll = true; break;
		case O_READ: opt.read_size = strtoul(optarg, NULL, 0); break;
		case O_WRITE: opt.write_size = strtoul(optarg, NULL, 0); break;
		case O_PEEK: opt.peek = true; break;
		case O_SLOW: opt.slow_us = strtol(optarg, NULL, 0); break;
		case O_CONNS: opt.conns = atoi(optarg); break;
		case O_CLOSE: opt.close_after = strtoull(optarg, NULL, 0); break;
		case O_COUNT: count = strtol(optarg, NULL, 0); break;
		case O_SECONDS: seconds = strtod(optarg, NULL); break;
		case O_REPLY: opt.reply_after_eof = true; break;
		case O_NOSHUT: opt.no_shutdown = true; break;
		case O_SEQ: opt.sequential = true; break;
		case O_BIND: opt.bind_port = atoi(optarg); break;
		case O_SIGNALS: opt.signals = true; break;
		default: usage();
		}
	}
	if (!opt.read_size)
		opt.read_size = 1;
	if (!opt.write_size || opt.write_size > XFER_CHUNK)
		opt.write_size = XFER_CHUNK;
	if (opt.epoll)
		opt.signals = false; /* no thread blocks in reads */
	if (opt.signals) {
		struct sigaction sa = { .sa_handler = on_sigalrm,
					.sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL)) {
			perror("xfer: sigaction");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	block_init();
	if (!strcmp(cmd, "server") && listen_at)
		return do_server(listen_at);
	if (!strcmp(cmd, "sink") && listen_at)
		return do_sink(listen_at);
	if (!strcmp(cmd, "client") && connect_to)
		return do_client(connect_to, bytes, back);
	if (!strcmp(cmd, "rr") && connect_to && count > 0)
		return do_rr(connect_to, count);
	if (!strcmp(cmd, "bulk") && connect_to)
		return do_bulk(connect_to, seconds);
	usage();
	return 2;
}
