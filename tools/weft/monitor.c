// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft monitor: stream the datapath's AuthorizationPolicy decisions from
 * weft_policy_events (every deny and every AUDIT match, see
 * bpf/lib/policy.h), one line per connection, or with -j one JSON object
 * per line (NDJSON), each flushed as it is written so that a pipe sees it
 * at once.
 *
 * One reader at a time: a BPF ring buffer has a single consumer position,
 * shared by every process that maps it, so two readers would split the
 * events between them (and could both print a record before either moves
 * the position).  A monitor therefore holds an exclusive flock on the
 * maps directory (bpffs holds no plain files to lock; nothing else in weft
 * locks it) and a second monitor of the same datapath is refused.
 *
 * The ring buffer keeps what nobody has read: a monitor first prints the
 * events queued since the last one stopped (at most WEFT_POLICY_EVENTS_BYTES
 * worth, about 2700; the datapath drops and counts as policy_events_lost
 * whatever does not fit).
 *
 * It stops on SIGINT or SIGTERM (exit 0), after --count events (exit 0),
 * or at --timeout (exit 0, or 1 when --count events had not all come).
 */
#include "main.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

static const char monitor_usage[] =
	"Usage: weft [-j] [-p PIN_DIR] monitor [--deny|--audit] [--count N]\n"
	"            [--timeout SECONDS]\n"
	"\n"
	"  Print each connection the datapath's AuthorizationPolicy denied or\n"
	"  audited, as it happens: time, point (inbound: the SYN at the\n"
	"  destination; connect: the client's connect()), verdict, source,\n"
	"  destination, protocol, the source's identity, the deciding policy\n"
	"  and rule, the AUDIT policy and rule, the reason.  With -j, one JSON\n"
	"  object per line.  Events queued before the monitor started come\n"
	"  first.  One monitor per datapath: a second one is refused.\n"
	"\n"
	"  --deny       denied connections only\n"
	"  --audit      audited connections only (allowed or denied)\n"
	"  --count N    stop after N events\n"
	"  --timeout S  stop after S seconds (a decimal; 0: print what is\n"
	"               queued and stop)\n"
	"\n"
	"  Exit status: 0 stopped (signal, --count, --timeout), 1 error or\n"
	"  fewer than --count events before --timeout, 2 usage error.\n";

/* The upper bound of --timeout (a year): keeps the deadline arithmetic
 * far from overflow. */
#define MONITOR_TIMEOUT_MAX (365.0 * 24 * 3600)

/* Returned by the ring buffer callback to stop consuming: --count is met. */
#define MONITOR_DONE (-ECANCELED)

enum monitor_filter {
	MONITOR_ALL = 0,
	MONITOR_DENY,
	MONITOR_AUDIT,
};

struct monitor_args {
	enum monitor_filter filter;
	unsigned long long count; /* 0: no limit */
	bool has_timeout;
	double timeout;           /* seconds */
};

struct monitor {
	struct cli_ctx *ctx;
	const struct datapath_maps *maps;
	struct monitor_args a;
	unsigned long long printed;
	int write_err;            /* negative errno of the last failed write */
};

/* ---- arguments ------------------------------------------------------------ */

/* "--name VALUE" or "--name=VALUE": the value, or NULL with *err set. */
static const char *monitor_value(struct cli_ctx *ctx, int argc, char **argv,
				 int *i, size_t name_len, int *err)
{
	const char *arg = argv[*i];

	if (arg[name_len] == '=')
		return arg + name_len + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	*err = cli_error(ctx, CLI_EXIT_USAGE, "monitor: %s needs a value", arg);
	return NULL;
}

/* The option at argv[i] is name, alone or as "name=VALUE". */
static bool monitor_opt_is(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(arg, name, n) && (!arg[n] || arg[n] == '=');
}

static int monitor_parse(struct cli_ctx *ctx, int argc, char **argv,
			 struct monitor_args *a)
{
	bool has_count = false;
	int err = 0;

	*a = (struct monitor_args){ .filter = MONITOR_ALL };
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *v;
		char *end;

		if (!strcmp(arg, "--deny") || !strcmp(arg, "--audit")) {
			enum monitor_filter f = arg[2] == 'd' ? MONITOR_DENY :
								MONITOR_AUDIT;

			if (a->filter && a->filter != f)
				return cli_error(ctx, CLI_EXIT_USAGE,
						 "monitor: --deny and --audit exclude each other");
			a->filter = f;
		} else if (monitor_opt_is(arg, "--count")) {
			if (has_count)
				return cli_error(ctx, CLI_EXIT_USAGE,
						 "monitor: --count given twice");
			v = monitor_value(ctx, argc, argv, &i, strlen("--count"),
					  &err);
			if (!v)
				return err;
			errno = 0;
			a->count = strtoull(v, &end, 10);
			if (errno || *end || v[0] < '0' || v[0] > '9' ||
			    !a->count)
				return cli_error(ctx, CLI_EXIT_USAGE,
						 "monitor: bad --count '%s' (a number of events, 1 or more)",
						 v);
			has_count = true;
		} else if (monitor_opt_is(arg, "--timeout")) {
			if (a->has_timeout)
				return cli_error(ctx, CLI_EXIT_USAGE,
						 "monitor: --timeout given twice");
			v = monitor_value(ctx, argc, argv, &i,
					  strlen("--timeout"), &err);
			if (!v)
				return err;
			errno = 0;
			a->timeout = strtod(v, &end);
			if (errno || *end || v[0] < '0' || v[0] > '9' ||
			    !isfinite(a->timeout) ||
			    a->timeout > MONITOR_TIMEOUT_MAX)
				return cli_error(ctx, CLI_EXIT_USAGE,
						 "monitor: bad --timeout '%s' (seconds, 0 or more)",
						 v);
			a->has_timeout = true;
		} else {
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "monitor: unexpected '%s' (try 'weft monitor help')",
					 arg);
		}
	}
	return CLI_EXIT_OK;
}

/* ---- one event -------------------------------------------------------------- */

/*
 * RFC 3339 UTC with microseconds.  bpf_ktime_get_ns() is CLOCK_MONOTONIC:
 * the wall-clock time is the event's ktime plus today's REALTIME -
 * MONOTONIC offset (off by the time the machine was suspended since, which
 * MONOTONIC does not count, or by a step of the clock since).
 */
static const char *monitor_time(__u64 ktime_ns, char *buf, size_t len)
{
	struct timespec mono, real;
	long long ns;
	time_t secs;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	ns = (long long)ktime_ns +
	     ((long long)real.tv_sec - mono.tv_sec) * 1000000000ll +
	     (real.tv_nsec - mono.tv_nsec);
	secs = (time_t)(ns / 1000000000ll);
	if (ns < 0 || !gmtime_r(&secs, &tm) ||
	    !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf + n, len - n, ".%06lldZ", ns % 1000000000ll / 1000);
	return buf;
}

/* "ns/name" of a stable policy id; NULL for WEFT_POLICY_NONE, "#id" when
 * weft_policy_meta no longer has it (deleted since the event). */
static const char *monitor_policy(const struct monitor *m, __u32 id,
				  char *buf, size_t len)
{
	struct weft_policy_meta meta;
	char ns[sizeof(meta.ns) + 1], name[sizeof(meta.name) + 1];

	if (id == WEFT_POLICY_NONE)
		return NULL;
	if (bpf_map_lookup_elem(m->maps->policy_meta, &id, &meta)) {
		snprintf(buf, len, "#%u", id);
		return buf;
	}
	CLI_STR_COPY(ns, meta.ns);
	CLI_STR_COPY(name, meta.name);
	snprintf(buf, len, "%s/%s", ns, name);
	return buf;
}

/* The principal of a tagged identity; NULL when unknown (0, or gone from
 * weft_policy_ident_meta after a generation swap). */
static const char *monitor_identity(const struct monitor *m, __u32 identity,
				    char *buf, size_t len)
{
	struct weft_policy_ident_meta meta;
	char principal[sizeof(meta.principal) + 1];

	if (identity == WEFT_POLICY_IDENTITY_UNKNOWN ||
	    bpf_map_lookup_elem(m->maps->policy_ident_meta, &identity, &meta))
		return NULL;
	CLI_STR_COPY(principal, meta.principal);
	snprintf(buf, len, "%s", principal);
	return buf;
}

/* The resolved fields of one event, as both outputs print them. */
struct monitor_line {
	char time[40];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char proto_buf[8];
	const char *proto;
	char identity_buf[sizeof(((struct weft_policy_ident_meta *)0)->principal) + 1];
	const char *identity;     /* NULL: unknown */
	char policy_buf[2 * WEFT_META_NAME_MAX], audit_buf[2 * WEFT_META_NAME_MAX];
	const char *policy;       /* NULL: none */
	const char *audit_policy; /* NULL: no AUDIT match */
	bool audit;
};

static void monitor_resolve(const struct monitor *m,
			    const struct weft_policy_event *e,
			    struct monitor_line *l)
{
	const struct weft_policy_verdict *v = &e->verdict;

	monitor_time(e->ktime_ns, l->time, sizeof(l->time));
	cli_addr_str(&e->conn.src, l->src, sizeof(l->src));
	cli_addr_str(&e->conn.dst, l->dst, sizeof(l->dst));
	l->proto = cli_proto_str(e->conn.proto, l->proto_buf, sizeof(l->proto_buf));
	l->identity = monitor_identity(m, e->src_identity, l->identity_buf,
				       sizeof(l->identity_buf));
	l->policy = monitor_policy(m, v->policy, l->policy_buf,
				   sizeof(l->policy_buf));
	l->audit = v->flags & WEFT_POLICY_F_AUDIT;
	l->audit_policy = l->audit ? monitor_policy(m, v->audit_policy,
						    l->audit_buf,
						    sizeof(l->audit_buf)) :
				     NULL;
}

/* A rule index, or null when there is none. */
static void monitor_json_rule(struct json_writer *w, const char *key,
			      const char *policy, __u32 rule)
{
	if (policy && rule != WEFT_POLICY_NONE)
		json_kv_u64(w, key, rule);
	else
		json_kv_null(w, key);
}

static int monitor_json(struct monitor *m, const struct weft_policy_event *e,
			const struct monitor_line *l)
{
	struct json_writer *w = &m->ctx->jw;
	const struct weft_policy_verdict *v = &e->verdict;

	json_object_begin(w);
	json_kv_string(w, "time", l->time);
	json_kv_string(w, "point", policy_point_name(e->conn.point));
	json_kv_string(w, "action",
		       v->action == WEFT_POLICY_ACTION_ALLOW ? "allow" : "deny");
	json_kv_bool(w, "audit", l->audit);
	json_kv_string(w, "src", l->src);
	json_kv_u64(w, "sport", ntohs(e->conn.sport));
	json_kv_string(w, "dst", l->dst);
	json_kv_u64(w, "dport", ntohs(e->conn.dport));
	json_kv_string(w, "proto", l->proto);
	json_kv_string(w, "identity", l->identity);
	json_kv_string(w, "policy", l->policy);
	monitor_json_rule(w, "rule", l->policy, v->rule);
	json_kv_string(w, "audit_policy", l->audit_policy);
	monitor_json_rule(w, "audit_rule", l->audit_policy, v->audit_rule);
	json_kv_string(w, "reason", policy_reason_name(v->reason));
	json_object_end(w);
	return json_finish(w);
}

/* "2026-11-21T01:27:38.123456Z inbound DENY        10.1.0.5:43210 ->
 * 10.0.0.1:8080 tcp identity=... policy=ns/name rule=0 reason=..." */
static int monitor_text(const struct weft_policy_event *e,
			const struct monitor_line *l)
{
	const struct weft_policy_verdict *v = &e->verdict;
	char src[CLI_ADDR_PORT_LEN], dst[CLI_ADDR_PORT_LEN], verdict[16];

	snprintf(verdict, sizeof(verdict), "%s%s",
		 v->action == WEFT_POLICY_ACTION_ALLOW ? "ALLOW" : "DENY",
		 l->audit ? "+AUDIT" : "");
	printf("%s %s %-11s %s -> %s %s identity=%s policy=%s rule=",
	       l->time, policy_point_name(e->conn.point), verdict,
	       cli_addr_port_str(&e->conn.src, e->conn.sport, src, sizeof(src)),
	       cli_addr_port_str(&e->conn.dst, e->conn.dport, dst, sizeof(dst)),
	       l->proto, l->identity ? l->identity : "unknown",
	       l->policy ? l->policy : "-");
	if (l->policy && v->rule != WEFT_POLICY_NONE)
		printf("%u", v->rule);
	else
		putchar('-');
	if (l->audit_policy) {
		printf(" audit=%s audit_rule=", l->audit_policy);
		if (v->audit_rule != WEFT_POLICY_NONE)
			printf("%u", v->audit_rule);
		else
			putchar('-');
	}
	printf(" reason=%s\n", policy_reason_name(v->reason));
	if (fflush(stdout))
		return -errno;
	return ferror(stdout) ? -EIO : 0;
}

/* ring_buffer_sample_fn: 0, MONITOR_DONE at --count, or a write error. */
static int monitor_event(void *data, void *record, size_t size)
{
	struct monitor *m = data;
	struct weft_policy_event e;
	struct monitor_line l;
	int err;

	/* The layout check vouches for the map, not for the records: a
	 * shorter one is from another build of the datapath. */
	if (size < sizeof(e))
		return 0;
	memcpy(&e, record, sizeof(e));
	if ((m->a.filter == MONITOR_DENY &&
	     e.verdict.action == WEFT_POLICY_ACTION_ALLOW) ||
	    (m->a.filter == MONITOR_AUDIT &&
	     !(e.verdict.flags & WEFT_POLICY_F_AUDIT)))
		return 0;
	monitor_resolve(m, &e, &l);
	err = m->ctx->json ? monitor_json(m, &e, &l) : monitor_text(&e, &l);
	if (err) {
		m->write_err = err;
		return err;
	}
	m->printed++;
	return m->a.count && m->printed == m->a.count ? MONITOR_DONE : 0;
}

/* ---- the loop ------------------------------------------------------------------ */

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Hold the one-reader lock: 0, or an exit code after reporting.  *fd keeps
 * the lock until closed.
 */
static int monitor_lock(struct cli_ctx *ctx, int *fd)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", ctx->pin_dir, WEFT_PIN_MAPS_DIR);
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return cli_error(ctx, CLI_EXIT_ERROR, "%s: %s", dir,
				 strerror(errno));
	if (!flock(*fd, LOCK_EX | LOCK_NB))
		return CLI_EXIT_OK;
	if (errno == EWOULDBLOCK)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "another 'weft monitor' is reading the policy events of %s "
				 "(a ring buffer has one reader: two would split the events)",
				 ctx->pin_dir);
	return cli_error(ctx, CLI_EXIT_ERROR, "locking %s: %s", dir,
			 strerror(errno));
}

/*
 * Consume until a signal, --count or --timeout.  The wait is one epoll
 * over the ring buffer (libbpf's epoll fd, nested) and a signalfd for
 * SIGINT/SIGTERM, blocked meanwhile, so a signal between two waits is
 * never missed.
 */
static int monitor_run(struct monitor *m, struct ring_buffer *rb)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[2];
	struct signalfd_siginfo si;
	struct cli_ctx *ctx = m->ctx;
	long long deadline = 0;
	sigset_t stop, old;
	int sfd = -1, epfd = -1, ret = CLI_EXIT_OK, err, n;
	bool done = false;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		ret = cli_error(ctx, CLI_EXIT_ERROR, "monitor: %s",
				strerror(errno));
		goto out;
	}
	ev.data.fd = sfd;
	err = epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = ring_buffer__epoll_fd(rb);
	if (!err)
		err = epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if (err) {
		ret = cli_error(ctx, CLI_EXIT_ERROR, "monitor: epoll: %s",
				strerror(errno));
		goto out;
	}
	if (m->a.has_timeout)
		deadline = monotonic_ms() +
			   (long long)(m->a.timeout * 1000 + 0.999); /* ceil */

	/* What was queued before we came first, then as it comes. */
	err = ring_buffer__consume(rb);
	while (!done && err >= 0) {
		int wait_ms = -1;

		if (m->a.has_timeout) {
			long long left = deadline - monotonic_ms();

			if (left <= 0)
				break;
			wait_ms = left > 60000 ? 60000 : (int)left;
		}
		n = epoll_wait(epfd, got, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = cli_error(ctx, CLI_EXIT_ERROR, "monitor: epoll_wait: %s",
					strerror(errno));
			goto out;
		}
		/* Print what is there before stopping for a signal. */
		for (int i = 0; i < n && err >= 0; i++)
			if (got[i].data.fd != sfd)
				err = ring_buffer__consume(rb);
		/* Taken, not left pending: unblocking it below would kill us. */
		for (int i = 0; i < n; i++)
			if (got[i].data.fd == sfd)
				done = read(sfd, &si, sizeof(si)) == sizeof(si);
	}
	if (err == MONITOR_DONE) {
		ret = CLI_EXIT_OK;
	} else if (err < 0 && m->write_err) {
		/* stdout is gone or full: nothing more can be said there */
		fprintf(stderr, "weft: error: writing output: %s\n",
			strerror(-m->write_err));
		ret = CLI_EXIT_ERROR;
	} else if (err < 0) {
		ret = cli_error(ctx, CLI_EXIT_ERROR,
				"monitor: reading the ring buffer: %s",
				strerror(-err));
	} else if (!done && m->a.count && m->printed < m->a.count) {
		ret = cli_error(ctx, CLI_EXIT_ERROR,
				"monitor: timeout after %llu of %llu events",
				m->printed, m->a.count);
	}
out:
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int do_monitor(struct cli_ctx *ctx, int argc, char **argv)
{
	struct monitor m = { .ctx = ctx };
	struct datapath_maps maps;
	struct ring_buffer *rb;
	int err, lock_fd = -1;

	if (argc == 1 && !strcmp(argv[0], "help"))
		return cli_usage(ctx, monitor_usage);
	err = monitor_parse(ctx, argc, argv, &m.a);
	if (err)
		return err;
	err = cli_maps_open(ctx, &maps, NULL, 0);
	if (err)
		return err;
	m.maps = &maps;
	err = monitor_lock(ctx, &lock_fd);
	if (err)
		goto out;
	rb = ring_buffer__new(maps.policy_events, monitor_event, &m, NULL);
	if (!rb) {
		err = cli_error(ctx, CLI_EXIT_ERROR,
				"monitor: cannot map weft_policy_events: %s",
				strerror(errno));
		goto out;
	}
	err = monitor_run(&m, rb);
	ring_buffer__free(rb);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	datapath_maps_close(&maps);
	return err;
}
