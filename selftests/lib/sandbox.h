/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The end-to-end sandbox: everything an e2e test needs around the binaries
 * under test, built so that nothing touches the machine's own networking.
 *
 *   - one child cgroup per agent under the cgroup2 mount (found in
 *     /proc/mounts; /sys/fs/cgroup/unified on a hybrid layout);
 *   - hosts, each a network namespace with one veth "eth0" into a bridge
 *     that lives in a hub namespace of its own.  Every host of a sandbox
 *     sits on one L2 segment, SB_NET4 and SB_NET6, so backends are reachable
 *     from clients without a route, and no address exists outside the
 *     namespaces the test made;
 *   - processes started in a namespace and, optionally, a cgroup, their
 *     stdout and stderr captured.
 *
 * Every name is "weft-<pid>-<what>" with the pid of the test process, so
 * parallel runs never collide; after_all.c fails the suite if anything
 * named weft-* is left.
 *
 * Placement.  A process joins its cgroup first (writes itself to
 * cgroup.procs) and then enters the namespace with setns() on
 * /run/netns/<name>.  Not `ip netns exec`: that also unshares the mount
 * namespace and remounts /sys, after which the cgroup2 mount is no longer
 * where /proc/mounts says.  With setns() only the network namespace
 * changes, so weftd, started the same way, finds cgroups and bpffs as
 * usual.
 *
 * Clean-up.  Every create function registers its undo in one registry;
 * sb_teardown() runs it in reverse order (processes, pins, namespaces,
 * cgroups, files) and then checks that each thing is really gone.  It also
 * runs when the test dies on the runner's alarm, on SIGTERM/SIGINT, or on a
 * sanitizer error, so a failing test still leaves nothing behind.  Spawned
 * processes die with the test (PR_SET_PDEATHSIG) whatever happens.
 */
#ifndef WEFT_SELFTEST_SANDBOX_H
#define WEFT_SELFTEST_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define SB_NAME_MAX 64
#define SB_NET4_PREFIX 16 /* 10.201.0.0/16 */
#define SB_NET6_PREFIX 64 /* fd00:201::/64 */

/* Where a spawned process runs; NULL members mean "as the test". */
struct sb_place {
	const char *cgroup; /* absolute cgroup2 directory, joined first */
	const char *netns;  /* name of a namespace under /run/netns */
};

/* A host: one network namespace on the sandbox segment. */
struct sb_host {
	char netns[SB_NAME_MAX];
	char ip4[16];
	char ip6[46];
};

/* A long-running process (server, agent) with output in a log file. */
struct sb_proc {
	pid_t pid;  /* 0 once reaped */
	int status; /* once reaped: as in struct sb_result */
	char what[32];
	char log[PATH_MAX];
};

/* What a bounded command left: exit code and its two output streams. */
struct sb_result {
	int status;  /* exit code, 128+signal, -ETIMEDOUT, or -errno on spawn */
	char *out;   /* stdout, NUL-terminated ("" when none) */
	char *err;   /* stderr, likewise */
	long ms;     /* wall time */
};

#define SB_ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* --- set-up and clean-up ------------------------------------------------ */

/*
 * Start a sandbox for the calling test: a private run directory for logs
 * and configs (sb_run_dir()), signal and sanitizer hooks that run the
 * teardown, and bpffs mounted at /sys/fs/bpf if it was not.  Returns 0,
 * or -EPERM when not root (callers skip), or another negative errno.
 */
int sb_init(void);

/*
 * Undo everything registered, newest first, then verify it is gone.
 * Prints the tail of every process log when the test failed.  Returns the
 * number of things that could not be removed (0 = clean).  Idempotent.
 */
int sb_teardown(void);

const char *sb_run_dir(void);

/* "weft-<pid>-<what>" into buf. */
void sb_name(char *buf, size_t len, const char *what);

/* Mount point of cgroup2 from /proc/mounts into buf; 0 or -ENOENT. */
int sb_cgroup2_mount(char *buf, size_t len);

/* Mount bpffs at /sys/fs/bpf unless one is there (never unmounted: other
 * runs may be using it). */
int sb_bpffs_ensure(void);

/* mkdir <cgroup2>/weft-<pid>-<what>; absolute path into buf. */
int sb_cgroup_create(char *buf, size_t len, const char *what);

/* /sys/fs/bpf/weft-<pid>-<what> into buf, registered for recursive
 * removal (not created: that is the agent's job). */
int sb_pin_dir(char *buf, size_t len, const char *what);

/* A namespace weft-<pid>-<what> with lo up, name into buf. */
int sb_netns_create(char *buf, size_t len, const char *what);

/*
 * A host: namespace weft-<pid>-<what>, veth eth0 into the sandbox bridge
 * (hub created on first use), addresses ip4/SB_NET4_PREFIX and
 * ip6/SB_NET6_PREFIX (either may be NULL; IPv6 without DAD).
 */
int sb_host_add(struct sb_host *h, const char *what, const char *ip4,
		const char *ip6);

/* `ip -n <netns> ARGS...`; 0 or a negative errno, output logged (-v). */
int sb_ip(const char *netns, const char *const args[]);

/* --- processes ----------------------------------------------------------- */

/*
 * Run argv (PATH searched) at `at`, stdin fed from `input` (NULL: empty),
 * killed with its process group after timeout_ms.  Fills *r (free with
 * sb_result_free) and returns r->status.
 */
int sb_run(struct sb_result *r, const struct sb_place *at, const char *input,
	   int timeout_ms, const char *const argv[]);

/* Same, for a C function run in a forked child placed at `at`: its return
 * value is the exit code, what it prints is captured. */
int sb_call(struct sb_result *r, const struct sb_place *at, int timeout_ms,
	    int (*fn)(void *arg), void *arg);

void sb_result_free(struct sb_result *r);

/* Start argv in the background at `at`, stdout+stderr to
 * <run dir>/<what>.log; registered so teardown kills its process group. */
int sb_spawn(struct sb_proc *p, const struct sb_place *at, const char *what,
	     const char *const argv[]);

/* Signal the process group, wait up to timeout_ms, SIGKILL after that.
 * Returns the exit status as in struct sb_result. */
int sb_proc_stop(struct sb_proc *p, int sig, int timeout_ms);

/* Whether p has exited (reaps it). */
bool sb_proc_exited(struct sb_proc *p);

/* The log so far, malloc'd ("" if empty); NULL only on ENOMEM. */
char *sb_proc_log(const struct sb_proc *p);

/* Poll p's log until it contains needle: 0, -ETIMEDOUT, or -ESRCH when
 * the process exited first. */
int sb_proc_wait_log(struct sb_proc *p, const char *needle, int timeout_ms);

/* --- small utilities ----------------------------------------------------- */

long sb_now_ms(void);
void sb_sleep_ms(long ms);

/* Evaluate cond every 20 ms until true or timeout_ms passed; the value of
 * the last evaluation. */
#define SB_WAIT_UNTIL(cond, timeout_ms)                                   \
	({                                                                \
		long ___end = sb_now_ms() + (timeout_ms);                 \
		bool ___ok;                                               \
		while (!(___ok = !!(cond)) && sb_now_ms() < ___end)       \
			sb_sleep_ms(20);                                  \
		___ok;                                                    \
	})

int sb_write_file(const char *path, const char *text);
char *sb_read_file(const char *path); /* malloc'd, NULL on error */
int sb_copy_file(const char *src, const char *dst);

/* --- weft fixtures ------------------------------------------------------- */

/* <build dir>/<name> into buf; -ENOENT if it is not built. */
int sb_bin(char *buf, size_t len, const char *name);

/* <repo>/selftests/data/e2e/<name> into buf. */
void sb_data(char *buf, size_t len, const char *name);

/* testsrv --name name on host h, TCP and UDP on both of h's addresses at
 * tcp_port / udp_port (0 = none); waits until it is ready. */
int sb_testsrv_start(struct sb_proc *p, const struct sb_host *h,
		     const char *name, int tcp_port, int udp_port);

/* The same in cgroup (NULL: the test's), TCP on every port of tcp_ports
 * (0-terminated, at most SB_TESTSRV_PORTS). */
#define SB_TESTSRV_PORTS 4
int sb_testsrv_start_in(struct sb_proc *p, const struct sb_host *h,
			const char *cgroup, const char *name,
			const int tcp_ports[], int udp_port);

/* One weftd, its cgroup, pins, config and metrics endpoint. */
struct sb_agent {
	char what[16];
	char cgroup[PATH_MAX];     /* absolute */
	char pin_dir[PATH_MAX];
	char config_dir[PATH_MAX];
	char netns[SB_NAME_MAX];   /* where weftd runs, outside the cgroup */
	int metrics_port;          /* 0: no listener */
	/* When set (sb_agent_node_config()), weftd and weft get "-c FILE"
	 * instead of one flag per setting. */
	char node_config[PATH_MAX];
	struct sb_proc proc;
};

/*
 * Prepare an agent: cgroup weft-<pid>-<what> (created), pin dir
 * weft-<pid>-<what> (registered), config dir <run dir>/<what>.d (empty).
 */
int sb_agent_init(struct sb_agent *a, const char *what, const char *netns,
		  int metrics_port);

/* Write the agent's settings as a node config file (docs/config.md keys;
 * the cgroup relative to the cgroup2 mount) and use it from now on. */
int sb_agent_node_config(struct sb_agent *a);

/* Copy selftests/data/e2e/<data_name> to <config dir>/<as> (NULL: same). */
int sb_agent_config(struct sb_agent *a, const char *data_name, const char *as);

/* Start weftd with the agent's flags plus extra (may be NULL; "-v" for
 * libbpf's detail in the log), wait
 * for "ready" on stderr and for /healthz/ready to answer 200. */
int sb_agent_start(struct sb_agent *a, const char *const extra[]);

/* Run weftd once with the agent's flags and args (e.g. "--once"). */
int sb_agent_run(struct sb_result *r, const struct sb_agent *a,
		 const char *const args[]);

/* `weft -p <pin dir> ARGS...` */
int sb_weft(struct sb_result *r, const struct sb_agent *a,
	    const char *const args[]);

/* HTTP status of GET http://127.0.0.1:<metrics port><path>, body into *r
 * when r is not NULL; negative errno if curl itself failed. */
int sb_agent_http(struct sb_result *r, const struct sb_agent *a,
		  const char *path);

/* `curl` GET of url at `at`; the body with trailing newline stripped goes
 * to r->out.  Returns curl's exit code (7: could not connect). */
int sb_curl(struct sb_result *r, const struct sb_place *at, const char *url);

/*
 * Looking into the CLI's JSON without a JSON library: the innermost object
 * of json that contains "key":"value" (whitespace outside strings removed),
 * malloc'd, or NULL.  Then the integer member `key` of such an object
 * (first match at any depth; -1 when absent), and how many times "key":
 * occurs in it.
 */
char *sb_json_object_with(const char *json, const char *key, const char *value);
long long sb_json_int(const char *obj, const char *key);
int sb_json_count(const char *obj, const char *key);
/* The same count from the last "array_key": member on (a service's
 * top-level "backends" follows the ones nested in its "route"). */
int sb_json_count_after_last(const char *obj, const char *array_key,
			     const char *key);

/* --- background functions, config files, TCP clients --------------------- */

/*
 * Like sb_spawn(), for a C function: fn(arg) runs in a forked child placed
 * at `at` (arg is read in the child's copy of memory), its stdout and
 * stderr go to <run dir>/<what>.log and its return value is the exit code.
 * Registered like any process: teardown sends SIGTERM to its group.
 */
int sb_spawn_fn(struct sb_proc *p, const struct sb_place *at, const char *what,
		int (*fn)(void *arg), void *arg);

/* Wait up to timeout_ms for p to exit by itself; its status as in struct
 * sb_result, or -ETIMEDOUT (p is left running). */
int sb_proc_wait_exit(struct sb_proc *p, int timeout_ms);

/*
 * Write <config dir>/<name> as a ConfigMap update does: the text into a
 * temporary ".<name>.tmp" (not *.yaml, so never read by weftd), renamed
 * over the file (one IN_MOVED_TO for weftd's watch).
 */
int sb_agent_write_config(const struct sb_agent *a, const char *name,
			  const char *text);

/* Remove <config dir>/<name>; 0 or a negative errno. */
int sb_agent_remove_config(const struct sb_agent *a, const char *name);

/* The datapath's config generation from `weft -j status`; -1 on error. */
long long sb_agent_generation(const struct sb_agent *a);

/* sb_agent_write_config(), then wait up to timeout_ms for the generation
 * to move past the one before: 0, -ETIMEDOUT, or the write's error. */
int sb_agent_apply_config(const struct sb_agent *a, const char *name,
			  const char *text, int timeout_ms);

/*
 * One TCP exchange from the calling process (call it in the sandbox):
 * connect to addr:port (numeric v4 or v6), send len bytes of payload,
 * shut the write side down when shut_wr, read until EOF.  The first line
 * of the answer goes to name (testsrv answers with its name), the byte
 * count to *received (may be NULL).  Returns 0 or a negative errno.
 */
int sb_tcp_ask(const char *addr, int port, const void *payload, size_t len,
	       bool shut_wr, int timeout_ms, char *name, size_t name_len,
	       size_t *received);

/*
 * `count` sequential connections to addr:port from one process at `at`,
 * each sending one byte and reading the backend's name (sb_tcp_ask()).
 * The result per backend name, the failures, and how often one backend
 * answered twice in a row (0 for a strict rotation).
 */
#define SB_TALLY_NAMES 16
struct sb_tally {
	const char *addr;
	int port;
	int count;
	int cpu; /* pin the client to this CPU (sched_setaffinity); -1: no */
	/* filled by sb_tally_run() */
	int nnames;
	char names[SB_TALLY_NAMES][32];
	int hits[SB_TALLY_NAMES];
	int ok, failed, repeats;
	char first[32];   /* the first answer's name */
	char error[160];  /* the first failure, "" when none */
};

/* Run t's connections at `at`; 0 when the client ran (check t->failed), a
 * negative errno or the client's exit status otherwise. */
int sb_tally_run(struct sb_tally *t, const struct sb_place *at);

/* Answers from backend `name`. */
int sb_tally_hits(const struct sb_tally *t, const char *name);

/* Share of `name` in the successful answers, in percent (0 when none). */
double sb_tally_pct(const struct sb_tally *t, const char *name);

/*
 * A connect loop in the background: one connection after another to
 * addr:port (sb_tcp_ask(), one byte out, the backend's name back), each
 * recorded with sb_now_ms() at connect() and after the answer, until
 * sb_loop_stop() or max_ms.  SIGTERM is taken between connections, never
 * in the middle of one, so stopping it fails nothing.
 */
struct sb_loop_rec {
	long t0, t1;   /* sb_now_ms(): before connect(), after the answer */
	char name[32]; /* the answer's first line; "" on failure */
	int err;       /* 0, or the errno of the failure */
};

struct sb_loop {
	const char *addr;
	int port;
	int max_ms;   /* the client stops by itself after this long */
	int pause_us; /* between connections */
	struct sb_proc proc;
	/* after sb_loop_stop() */
	struct sb_loop_rec *recs;
	size_t nrecs, nfailed;
};

int sb_loop_start(struct sb_loop *l, const struct sb_place *at,
		  const char *what);

/* Stop the loop and read its records; the client's exit status (0). */
int sb_loop_stop(struct sb_loop *l);

void sb_loop_free(struct sb_loop *l);

/*
 * Prometheus text: the sum of the samples of metric `name` whose labels
 * include every `key="value"` given in labels (NULL-terminated, each
 * written as key="value"); -1 when no sample matches.
 */
long long sb_prom_sum(const char *text, const char *name,
		      const char *const labels[]);

/* How many samples of `name` match labels (as for sb_prom_sum). */
int sb_prom_count(const char *text, const char *name,
		  const char *const labels[]);

/*
 * The topology most e2e tests start from: sb_init(), a "client" host at
 * 10.201.0.2 (fd00:201::2 with dual_stack) and hosts web-1..web-nweb at
 * 10.201.1.<i> (fd00:201::1:<i>), each running testsrv on tcp_port (and
 * udp_port when non-zero).  Returns false when the test cannot go on: a
 * failure was reported, or the test was skipped because it is not root.
 * The caller runs sb_teardown() either way.
 */
bool sb_web_up(struct sb_host *client, struct sb_host web[],
	       struct sb_proc srv[], int nweb, bool dual_stack,
	       uint16_t tcp_port, uint16_t udp_port);

/*
 * weftd for node "node" with its metrics in netns, the NULL-terminated
 * data files of configs in its config dir, started and ready.  False after
 * reporting a failure.
 */
bool sb_agent_up(struct sb_agent *a, const char *netns,
		 const char *const configs[]);

#endif /* WEFT_SELFTEST_SANDBOX_H */
