// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench-poll: how long after a config change does the datapath honour it?
 *
 *   bench-poll ADDR PORT BEFORE AFTER [--rename SRC DST] [--hup PID]
 *              [--timeout-ms N] [--interval-us N]
 *
 * Runs inside the weft cgroup (so its connects are translated).  It first
 * polls ADDR:PORT over HTTP/1.0 until an answer contains BEFORE (the old
 * backend: the previous change is in force), then takes t0, renames SRC to
 * DST (an atomic config file change, as a ConfigMap update is) and/or sends
 * SIGHUP to PID, and polls with a new connection every INTERVAL until an
 * answer contains AFTER.  Prints one line:
 *
 *   delay_ms=12.345 polls=N old=N failed=N
 *
 * old: answers still from the old backend after t0; failed: polls that got
 * no answer (a refused or reset connection would show a torn update).
 * Exit status 0 on success, 1 on timeout or error, 2 on usage.
 *
 * Built by bench/run.sh into build/bench/; not part of `make`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct poll_opts {
	struct sockaddr_in addr;
	const char *before, *after;
	const char *rename_src, *rename_dst;
	pid_t hup_pid;
	long timeout_ms;
	long interval_us;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * One HTTP/1.0 request on a new connection.  Returns the number of answer
 * bytes in buf (NUL-terminated), or a negative errno when there was no
 * answer.
 */
static int poll_once(const struct sockaddr_in *addr, char *buf, size_t len)
{
	static const char req[] = "GET / HTTP/1.0\r\nHost: bench\r\n\r\n";
	struct timeval tv = { .tv_sec = 1 };
	size_t got = 0;
	ssize_t n;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	if (!got)
		err = -ECONNRESET;
out:
	buf[got] = '\0';
	close(fd);
	return err ? err : (int)got;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-poll ADDR PORT BEFORE AFTER [--rename SRC DST] [--hup PID]\n"
		"                  [--timeout-ms N] [--interval-us N]\n");
}

static int parse_args(int argc, char **argv, struct poll_opts *o)
{
	int i;

	if (argc < 5)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &o->addr.sin_addr) != 1)
		return -EINVAL;
	o->before = argv[3];
	o->after = argv[4];
	o->timeout_ms = 10000;
	o->interval_us = 1000;
	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--rename") && i + 2 < argc) {
			o->rename_src = argv[++i];
			o->rename_dst = argv[++i];
		} else if (!strcmp(argv[i], "--hup") && i + 1 < argc) {
			o->hup_pid = (pid_t)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
			o->timeout_ms = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--interval-us") && i + 1 < argc) {
			o->interval_us = atol(argv[++i]);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long polls = 0, old = 0, failed = 0;
	struct poll_opts o;
	char buf[4096];
	double start, t0;
	bool seen = false;
	int n;

	if (parse_args(argc, argv, &o)) {
		usage();
		return 2;
	}
	start = now_ms();
	while (!seen && now_ms() - start < o.timeout_ms) {
		n = poll_once(&o.addr, buf, sizeof(buf));
		seen = n > 0 && strstr(buf, o.before);
		if (!seen)
			usleep((useconds_t)o.interval_us);
	}
	if (!seen) {
		fprintf(stderr, "bench-poll: %s never answered before the change\n",
			o.before);
		return 1;
	}

	t0 = now_ms();
	if (o.rename_src && rename(o.rename_src, o.rename_dst)) {
		fprintf(stderr, "bench-poll: rename %s: %s\n", o.rename_src,
			strerror(errno));
		return 1;
	}
	if (o.hup_pid > 0 && kill(o.hup_pid, SIGHUP)) {
		fprintf(stderr, "bench-poll: kill -HUP %d: %s\n", (int)o.hup_pid,
			strerror(errno));
		return 1;
	}
	while (now_ms() - t0 < o.timeout_ms) {
		polls++;
		n = poll_once(&o.addr, buf, sizeof(buf));
		if (n > 0 && strstr(buf, o.after)) {
			printf("delay_ms=%.3f polls=%lu old=%lu failed=%lu\n",
			       now_ms() - t0, polls, old, failed);
			return 0;
		}
		if (n > 0)
			old++;
		else
			failed++;
		usleep((useconds_t)o.interval_us);
	}
	fprintf(stderr, "bench-poll: %s did not answer within %ld ms (polls=%lu old=%lu failed=%lu)\n",
		o.after, o.timeout_ms, polls, old, failed);
	return 1;
}
