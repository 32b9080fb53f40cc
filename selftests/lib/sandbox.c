// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The end-to-end sandbox; see sandbox.h for the model (names, placement,
 * clean-up order).  Everything here runs in the forked test process; the
 * registry is static because teardown must also run from a signal handler,
 * where nothing may be allocated to find what to undo.
 */
#include "sandbox.h"

#include "../test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <mntent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define BPFFS "/sys/fs/bpf"
#define NETNS_RUN_DIR "/run/netns"
#define SB_MAX_UNDO 128
#define SB_MAX_ARGS 64
#define SB_OUT_MAX (1 << 20)
#define PROC_STOP_MS 3000
#define LOG_TAIL_LINES 40

enum sb_kind { SB_DIR, SB_CGROUP, SB_NETNS, SB_PINS, SB_PROC };

struct sb_undo {
	enum sb_kind kind;
	bool done;
	pid_t pid;             /* SB_PROC: process group leader */
	char what[32];         /* SB_PROC */
	char path[PATH_MAX];   /* SB_PROC: its log */
};

static struct sb_undo undo[SB_MAX_UNDO];
static int nundo;
static pid_t owner; /* the test process; its forked helpers never tear down */
static volatile sig_atomic_t tearing_down;
static char run_dir[128];
static char hub[SB_NAME_MAX];
static int nhosts;

static const int hooked_signals[] = { SIGALRM, SIGTERM, SIGINT, SIGHUP };

/* --- small utilities ----------------------------------------------------- */

long sb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

void sb_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int sb_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

char *sb_read_file(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len == 1) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				n = -1;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

int sb_copy_file(const char *src, const char *dst)
{
	char *text = sb_read_file(src);
	int err;

	if (!text)
		return -errno ? -errno : -ENOMEM;
	err = sb_write_file(dst, text);
	free(text);
	return err;
}

void sb_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "weft-%d-%s", (int)getpid(), what);
}

const char *sb_run_dir(void)
{
	return run_dir;
}

static struct sb_undo *undo_push(enum sb_kind kind, const char *path)
{
	struct sb_undo *u;

	if (nundo == SB_MAX_UNDO) {
		printf("sandbox: undo registry full, raise SB_MAX_UNDO\n");
		return NULL;
	}
	u = &undo[nundo++];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	snprintf(u->path, sizeof(u->path), "%s", path);
	return u;
}

/* --- teardown ----------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) && errno != ENOENT)
		printf("sandbox: remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reap pid by `end` (sb_now_ms() clock): its exit status as in struct
 * sb_result, or -ETIMEDOUT, or -ECHILD when it is not our child (any more). */
static int reap_until(pid_t pid, long end)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		if (r < 0)
			return -ECHILD;
		if (sb_now_ms() >= end)
			return -ETIMEDOUT;
		sb_sleep_ms(10);
	}
}

/* Signal a process group, reap its leader (SIGKILL after timeout_ms), kill
 * whatever else is left in the group; the leader's exit status. */
static int group_stop(pid_t pid, int sig, int timeout_ms)
{
	int st;

	kill(-pid, sig);
	st = reap_until(pid, sb_now_ms() + timeout_ms);
	if (st == -ETIMEDOUT && sig != SIGKILL) {
		kill(-pid, SIGKILL);
		st = reap_until(pid, sb_now_ms() + 5000);
	}
	kill(-pid, SIGKILL);
	return st;
}

static void cgroup_kill_procs(const char *cg)
{
	char path[PATH_MAX + 32];
	char *procs;

	snprintf(path, sizeof(path), "%s/cgroup.kill", cg);
	if (sb_write_file(path, "1") == 0)
		return;
	/* Kernels before 5.14: one by one. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	procs = sb_read_file(path);
	for (char *s = procs, *e; s && *s; s = e) {
		long pid = strtol(s, &e, 10);

		if (e == s)
			break;
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
	}
	free(procs);
}

/* Kill the members, then rmdir (EBUSY until they are gone). */
static void cgroup_remove(const char *cg)
{
	long end = sb_now_ms() + 5000;

	cgroup_kill_procs(cg);
	while (rmdir(cg) && errno != ENOENT) {
		if (errno != EBUSY || sb_now_ms() > end) {
			printf("sandbox: rmdir %s: %s\n", cg, strerror(errno));
			return;
		}
		/* Killed members may be our children: reap so they go. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sb_sleep_ms(20);
	}
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* What `ip netns del` does: drop the bind mount, then the file.  Returns
 * 0, or 1 if the namespace is still there. */
static int netns_remove(const char *name)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	umount2(path, MNT_DETACH);
	unlink(path);
	if (!exists(path))
		return 0;
	printf("sandbox: netns %s left: %s\n", name, strerror(errno));
	return 1;
}

static int undo_one(struct sb_undo *u)
{
	int st;

	switch (u->kind) {
	case SB_PROC:
		st = group_stop(u->pid, SIGTERM, PROC_STOP_MS);
		/* -ECHILD: already reaped, e.g. killed with its cgroup. */
		if (st != 0 && st != 128 + SIGTERM && st != -ECHILD) {
			printf("sandbox: %s exited with status %d on SIGTERM (log %s)\n",
			       u->what, st, u->path);
			return 1;
		}
		return 0;
	case SB_PINS:
		rm_tree(u->path);
		break;
	case SB_NETNS:
		return netns_remove(u->path);
	case SB_CGROUP:
		cgroup_remove(u->path);
		break;
	case SB_DIR:
		rm_tree(u->path);
		break;
	}
	if (exists(u->path)) {
		printf("sandbox: %s left\n", u->path);
		return 1;
	}
	return 0;
}

static void print_tail(const char *title, const char *path)
{
	char *text = sb_read_file(path);
	const char *p;
	int lines = 0;

	if (!text)
		return;
	p = text + strlen(text);
	while (p > text && lines <= LOG_TAIL_LINES)
		if (*--p == '\n')
			lines++;
	if (p != text)
		p++;
	printf("---- %s (%s) ----\n%s%s", title, path, p,
	       *p && p[strlen(p) - 1] != '\n' ? "\n" : "");
	free(text);
}

int sb_teardown(void)
{
	int problems = 0;

	if (!owner || getpid() != owner || tearing_down)
		return 0;
	tearing_down = 1;
	alarm(0);
	alarm(120); /* teardown has its own bound; each step has one too */

	for (int i = nundo - 1; i >= 0; i--) {
		if (undo[i].done || undo[i].kind == SB_DIR)
			continue;
		problems += undo_one(&undo[i]);
		undo[i].done = true;
	}
	if (problems || test_failed())
		for (int i = 0; i < nundo; i++)
			if (undo[i].kind == SB_PROC)
				print_tail(undo[i].what, undo[i].path);
	for (int i = nundo - 1; i >= 0; i--) {
		if (undo[i].done)
			continue;
		problems += undo_one(&undo[i]);
		undo[i].done = true;
	}
	nundo = 0;
	hub[0] = '\0';
	nhosts = 0;
	alarm(0);
	tearing_down = 0;
	return problems;
}

static void sb_on_signal(int sig)
{
	if (!tearing_down && owner && getpid() == owner) {
		printf("sandbox: signal %d (%s), tearing down\n", sig,
		       sig == SIGALRM ? "test timeout" : strsignal(sig));
		sb_teardown();
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Sanitizers call this before they exit on an error. */
extern void __sanitizer_set_death_callback(void (*cb)(void))
	__attribute__((weak));

static void sb_on_death(void)
{
	sb_teardown();
}

/* --- set-up -------------------------------------------------------------- */

int sb_cgroup2_mount(char *buf, size_t len)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/mounts", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}

static bool bpffs_mounted(void)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/mounts", "r");
	bool found = false;

	if (!f)
		return false;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_dir, BPFFS) && !strcmp(m->mnt_type, "bpf"))
			found = true;
	endmntent(f);
	return found;
}

int sb_bpffs_ensure(void)
{
	int fd, err = 0;

	if (bpffs_mounted())
		return 0;
	/*
	 * Parallel runs: check again under a lock on the mount point, so two
	 * runs never stack two bpffs instances (pins in the lower one would
	 * vanish from view).
	 */
	fd = open(BPFFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	flock(fd, LOCK_EX);
	if (!bpffs_mounted() && mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		err = -errno;
	flock(fd, LOCK_UN);
	close(fd);
	return err;
}

int sb_init(void)
{
	struct sigaction sa = { .sa_handler = sb_on_signal };
	char tmpl[64];
	int err;

	if (geteuid() != 0)
		return -EPERM;
	owner = getpid();
	nundo = 0;
	hub[0] = '\0';
	nhosts = 0;
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(hooked_signals) / sizeof(hooked_signals[0]); i++)
		sigaction(hooked_signals[i], &sa, NULL);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(sb_on_death);

	snprintf(tmpl, sizeof(tmpl), "/tmp/weft-e2e-%d-XXXXXX", (int)owner);
	if (!mkdtemp(tmpl))
		return -errno;
	snprintf(run_dir, sizeof(run_dir), "%s", tmpl);
	undo_push(SB_DIR, run_dir);

	err = sb_bpffs_ensure();
	if (err)
		printf("sandbox: cannot mount bpffs at " BPFFS ": %s\n",
		       strerror(-err));
	mkdir(NETNS_RUN_DIR, 0755);
	return err;
}

int sb_cgroup_create(char *buf, size_t len, const char *what)
{
	char mnt[PATH_MAX], name[SB_NAME_MAX];
	int err = sb_cgroup2_mount(mnt, sizeof(mnt));

	if (err)
		return err;
	sb_name(name, sizeof(name), what);
	snprintf(buf, len, "%s/%s", mnt, name);
	if (mkdir(buf, 0755))
		return -errno;
	return undo_push(SB_CGROUP, buf) ? 0 : -ENOSPC;
}

int sb_pin_dir(char *buf, size_t len, const char *what)
{
	char name[SB_NAME_MAX];

	sb_name(name, sizeof(name), what);
	snprintf(buf, len, BPFFS "/%s", name);
	return undo_push(SB_PINS, buf) ? 0 : -ENOSPC;
}

/* --- processes ----------------------------------------------------------- */

/* In a fresh child: own process group, die with the test, join the
 * cgroup, then the namespace (see sandbox.h for why in this order). */
static void child_place(const struct sb_place *at)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != owner && owner)
		_exit(125);
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; i < sizeof(hooked_signals) / sizeof(hooked_signals[0]); i++)
		signal(hooked_signals[i], SIG_DFL);

	if (at && at->cgroup) {
		char path[PATH_MAX + 16], pid[16];
		int fd;

		snprintf(path, sizeof(path), "%s/cgroup.procs", at->cgroup);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
			dprintf(2, "sandbox: join %s: %s\n", path, strerror(errno));
			_exit(125);
		}
		close(fd);
	}
	if (at && at->netns) {
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", at->netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			dprintf(2, "sandbox: setns %s: %s\n", path, strerror(errno));
			_exit(125);
		}
		close(fd);
	}
}

struct outbuf {
	char *buf;
	size_t len, cap;
};

static void outbuf_add(struct outbuf *o, const char *data, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *nb;

		while (cap < o->len + n + 1)
			cap *= 2;
		if (cap > SB_OUT_MAX)
			return; /* keep what fits; output this big is a bug */
		nb = realloc(o->buf, cap);
		if (!nb)
			return;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static char *outbuf_take(struct outbuf *o)
{
	if (!o->buf)
		return strdup("");
	return o->buf;
}

static int run_child(struct sb_result *r, const struct sb_place *at,
		     const char *input, int timeout_ms,
		     const char *const argv[], int (*fn)(void *), void *arg)
{
	struct outbuf out = {}, err = {};
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	long start = sb_now_ms(), end = start + timeout_ms;
	bool timed_out = false;
	int st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(in, O_CLOEXEC) || pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		r->status = -errno;
		goto out_pipes;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r->status = -errno;
		goto out_pipes;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		close(in[1]);
		close(op[0]);
		close(ep[0]);
		child_place(at);
		if (fn) {
			int rc = fn(arg);

			fflush(NULL);
			_exit(rc);
		}
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "sandbox: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(op[1]);
	close(ep[1]);
	in[0] = op[1] = ep[1] = -1;

	if (input && *input) /* small by contract: fits in the pipe */
		(void)!write(in[1], input, strlen(input));
	close(in[1]);
	in[1] = -1;

	for (;;) {
		struct pollfd pfd[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		long left = end - sb_now_ms();
		char buf[4096];

		if (op[0] < 0 && ep[0] < 0)
			break;
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &ep[0] : &op[0];
			ssize_t n;

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n > 0) {
				outbuf_add(i ? &err : &out, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	st = timed_out ? -ETIMEDOUT : reap_until(pid, end);
	if (st == -ETIMEDOUT)
		group_stop(pid, SIGKILL, 1000);
	else
		kill(-pid, SIGKILL); /* anything it left in its group */
	r->status = st;
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	r->out = outbuf_take(&out);
	r->err = outbuf_take(&err);
	r->ms = sb_now_ms() - start;
	return r->status;
}

static void log_cmd(const char *const argv[], const struct sb_place *at)
{
	if (!argv)
		return;
	test_log("  $");
	if (at && at->cgroup)
		test_log(" [cg %s]", strrchr(at->cgroup, '/') + 1);
	if (at && at->netns)
		test_log(" [ns %s]", at->netns);
	for (const char *const *a = argv; *a; a++)
		test_log(" %s", *a);
	test_log("\n");
}

int sb_run(struct sb_result *r, const struct sb_place *at, const char *input,
	   int timeout_ms, const char *const argv[])
{
	log_cmd(argv, at);
	return run_child(r, at, input, timeout_ms, argv, NULL, NULL);
}

int sb_call(struct sb_result *r, const struct sb_place *at, int timeout_ms,
	    int (*fn)(void *arg), void *arg)
{
	return run_child(r, at, NULL, timeout_ms, NULL, fn, arg);
}

void sb_result_free(struct sb_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/*
 * Fork a process into `at` with stdin from /dev/null and stdout/stderr into
 * <run dir>/<what>.log, in a process group of its own registered for
 * clean-up; the child runs child(arg) and exits with its result.
 */
static int spawn_child(struct sb_proc *p, const struct sb_place *at,
		       const char *what, int (*child)(void *arg), void *arg)
{
	struct sb_undo *u;
	int fd, nul;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	snprintf(p->what, sizeof(p->what), "%s", what);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", run_dir, what);
	fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || nul < 0) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		if (nul >= 0)
			close(nul);
		return err;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd);
		close(nul);
		return -errno;
	}
	if (pid == 0) {
		int rc;

		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		child_place(at);
		rc = child(arg);
		fflush(NULL);
		_exit(rc);
	}
	setpgid(pid, pid);
	close(fd);
	close(nul);
	p->pid = pid;
	u = undo_push(SB_PROC, p->log);
	if (!u) {
		group_stop(pid, SIGKILL, 1000);
		p->pid = 0;
		return -ENOSPC;
	}
	u->pid = pid;
	snprintf(u->what, sizeof(u->what), "%s", what);
	return 0;
}

/* spawn_child() body for sb_spawn: exec argv; 127 when it cannot. */
static int exec_argv(void *arg)
{
	char *const *argv = arg;

	execvp(argv[0], argv);
	dprintf(2, "sandbox: exec %s: %s\n", argv[0], strerror(errno));
	return 127;
}

int sb_spawn(struct sb_proc *p, const struct sb_place *at, const char *what,
	     const char *const argv[])
{
	log_cmd(argv, at);
	return spawn_child(p, at, what, exec_argv, (void *)argv);
}

static void proc_reaped(struct sb_proc *p, int status)
{
	for (int i = 0; i < nundo; i++)
		if (undo[i].kind == SB_PROC && undo[i].pid == p->pid)
			undo[i].done = true;
	p->status = status;
	p->pid = 0;
}

int sb_proc_stop(struct sb_proc *p, int sig, int timeout_ms)
{
	if (p->pid > 0)
		proc_reaped(p, group_stop(p->pid, sig, timeout_ms));
	return p->status;
}

bool sb_proc_exited(struct sb_proc *p)
{
	int st;

	if (p->pid <= 0)
		return true;
	st = reap_until(p->pid, 0); /* one look, no waiting */
	if (st == -ETIMEDOUT)
		return false;
	kill(-p->pid, SIGKILL);
	proc_reaped(p, st);
	return true;
}

char *sb_proc_log(const struct sb_proc *p)
{
	char *text = sb_read_file(p->log);

	return text ? text : strdup("");
}

int sb_proc_wait_log(struct sb_proc *p, const char *needle, int timeout_ms)
{
	long end = sb_now_ms() + timeout_ms;

	for (;;) {
		char *text = sb_proc_log(p);
		bool found = text && strstr(text, needle);

		free(text);
		if (found)
			return 0;
		if (sb_proc_exited(p))
			return -ESRCH;
		if (sb_now_ms() > end)
			return -ETIMEDOUT;
		sb_sleep_ms(20);
	}
}

/* --- namespaces and links ------------------------------------------------ */

struct argv_buf {
	const char *v[SB_MAX_ARGS];
	int n;
};

static void av_add(struct argv_buf *a, const char *s)
{
	if (a->n < SB_MAX_ARGS - 1)
		a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void av_addv(struct argv_buf *a, const char *const *v)
{
	for (; v && *v; v++)
		av_add(a, *v);
}

int sb_ip(const char *netns, const char *const args[])
{
	struct argv_buf a = {};
	struct sb_result r;
	int st;

	av_add(&a, "ip");
	if (netns) {
		av_add(&a, "-n");
		av_add(&a, netns);
	}
	av_addv(&a, args);
	st = sb_run(&r, NULL, NULL, 10000, a.v);
	if (st) {
		printf("sandbox: ip");
		for (int i = 1; i < a.n; i++)
			printf(" %s", a.v[i]);
		printf(": status %d: %s", st, r.err);
	}
	sb_result_free(&r);
	return st ? -EIO : 0;
}

int sb_netns_create(char *buf, size_t len, const char *what)
{
	int err;

	sb_name(buf, len, what);
	err = sb_ip(NULL, SB_ARGV("netns", "add", buf));
	if (err)
		return err;
	if (!undo_push(SB_NETNS, buf))
		return -ENOSPC;
	return sb_ip(buf, SB_ARGV("link", "set", "lo", "up"));
}

/* The hub: a namespace holding only the bridge every host plugs into. */
static int hub_ensure(void)
{
	int err;

	if (hub[0])
		return 0;
	err = sb_netns_create(hub, sizeof(hub), "hub");
	if (err)
		return err;
	err = sb_ip(hub, SB_ARGV("link", "add", "br0", "type", "bridge",
				 "forward_delay", "0", "mcast_snooping", "0"));
	return err ? err : sb_ip(hub, SB_ARGV("link", "set", "br0", "up"));
}

int sb_host_add(struct sb_host *h, const char *what, const char *ip4,
		const char *ip6)
{
	char port[16], cidr[64];
	int err;

	memset(h, 0, sizeof(*h));
	err = hub_ensure();
	if (err)
		return err;
	err = sb_netns_create(h->netns, sizeof(h->netns), what);
	if (err)
		return err;
	/* Names in the hub only need to be unique there. */
	snprintf(port, sizeof(port), "p%d", nhosts++);
	err = sb_ip(hub, SB_ARGV("link", "add", port, "type", "veth", "peer",
				 "name", "eth0", "netns", h->netns));
	if (!err)
		err = sb_ip(hub, SB_ARGV("link", "set", port, "master", "br0",
					 "up"));
	if (!err && ip4) {
		snprintf(h->ip4, sizeof(h->ip4), "%s", ip4);
		snprintf(cidr, sizeof(cidr), "%s/%d", ip4, SB_NET4_PREFIX);
		err = sb_ip(h->netns, SB_ARGV("addr", "add", cidr, "dev", "eth0"));
	}
	if (!err && ip6) {
		snprintf(h->ip6, sizeof(h->ip6), "%s", ip6);
		snprintf(cidr, sizeof(cidr), "%s/%d", ip6, SB_NET6_PREFIX);
		err = sb_ip(h->netns, SB_ARGV("addr", "add", cidr, "dev", "eth0",
					      "nodad"));
	}
	if (!err)
		err = sb_ip(h->netns, SB_ARGV("link", "set", "eth0", "up"));
	return err;
}

/* --- weft fixtures ------------------------------------------------------- */

int sb_bin(char *buf, size_t len, const char *name)
{
	char dir[PATH_MAX];

	if (!realpath(test_build_dir(), dir))
		snprintf(dir, sizeof(dir), "%s", test_build_dir());
	snprintf(buf, len, "%s/%s", dir, name);
	return access(buf, X_OK) ? -ENOENT : 0;
}

void sb_data(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/selftests/data/e2e/%s", test_repo_dir(), name);
}

int sb_testsrv_start_in(struct sb_proc *p, const struct sb_host *h,
			const char *cgroup, const char *name,
			const int tcp_ports[], int udp_port)
{
	char bin[PATH_MAX], eps[2 * (SB_TESTSRV_PORTS + 1)][80], what[32];
	struct sb_place at = { .cgroup = cgroup, .netns = h->netns };
	struct argv_buf a = {};
	int err, n = 0;

	err = sb_bin(bin, sizeof(bin), "tools/testsrv");
	if (err) {
		printf("sandbox: %s is not built\n", bin);
		return err;
	}
	av_add(&a, bin);
	av_add(&a, "--name");
	av_add(&a, name);
	for (int i = 0; i <= SB_TESTSRV_PORTS; i++) {
		bool udp = i == SB_TESTSRV_PORTS || !tcp_ports[i];
		int port = udp ? udp_port : tcp_ports[i];

		if (!port)
			break;
		if (h->ip4[0]) {
			snprintf(eps[n], sizeof(eps[n]), "%s:%d", h->ip4, port);
			av_add(&a, udp ? "--udp" : "--tcp");
			av_add(&a, eps[n++]);
		}
		if (h->ip6[0]) {
			snprintf(eps[n], sizeof(eps[n]), "[%s]:%d", h->ip6, port);
			av_add(&a, udp ? "--udp" : "--tcp");
			av_add(&a, eps[n++]);
		}
		if (udp)
			break;
	}
	snprintf(what, sizeof(what), "testsrv-%s", name);
	err = sb_spawn(p, &at, what, a.v);
	return err ? err : sb_proc_wait_log(p, ": ready", 5000);
}

int sb_testsrv_start(struct sb_proc *p, const struct sb_host *h,
		     const char *name, int tcp_port, int udp_port)
{
	const int tcp[] = { tcp_port, 0 };

	return sb_testsrv_start_in(p, h, NULL, name, tcp, udp_port);
}

int sb_agent_init(struct sb_agent *a, const char *what, const char *netns,
		  int metrics_port)
{
	int err;

	memset(a, 0, sizeof(*a));
	snprintf(a->what, sizeof(a->what), "%s", what);
	snprintf(a->netns, sizeof(a->netns), "%s", netns);
	a->metrics_port = metrics_port;
	err = sb_cgroup_create(a->cgroup, sizeof(a->cgroup), what);
	if (!err)
		err = sb_pin_dir(a->pin_dir, sizeof(a->pin_dir), what);
	if (err)
		return err;
	snprintf(a->config_dir, sizeof(a->config_dir), "%s/%s.d", run_dir, what);
	return mkdir(a->config_dir, 0755) ? -errno : 0;
}

int sb_agent_config(struct sb_agent *a, const char *data_name, const char *as)
{
	char src[PATH_MAX], dst[PATH_MAX + 64];

	sb_data(src, sizeof(src), data_name);
	snprintf(dst, sizeof(dst), "%s/%s", a->config_dir, as ? as : data_name);
	return sb_copy_file(src, dst);
}

int sb_agent_node_config(struct sb_agent *a)
{
	char mnt[PATH_MAX], text[4 * PATH_MAX];
	const char *cg = a->cgroup;
	size_t n;

	if (!sb_cgroup2_mount(mnt, sizeof(mnt)) && (n = strlen(mnt)) &&
	    !strncmp(cg, mnt, n) && cg[n] == '/')
		cg += n + 1;
	snprintf(text, sizeof(text),
		 "# node settings of agent %s (sandbox)\n"
		 "nodeName: %s\n"
		 "cgroupPath: %s\n"
		 "pinDir: %s\n"
		 "configDir: %s\n"
		 "metricsAddress: 127.0.0.1\n"
		 "metricsPort: %d\n",
		 a->what, a->what, cg, a->pin_dir, a->config_dir,
		 a->metrics_port);
	snprintf(a->node_config, sizeof(a->node_config), "%s/%s-node.yaml",
		 run_dir, a->what);
	return sb_write_file(a->node_config, text);
}

/* The flags that name the agent's cgroup, pins and config. */
static int agent_argv(struct argv_buf *av, char *bin, size_t len,
		      const struct sb_agent *a)
{
	int err = sb_bin(bin, len, "weftd");

	if (err) {
		printf("sandbox: %s is not built\n", bin);
		return err;
	}
	av_add(av, bin);
	if (a->node_config[0])
		av_addv(av, SB_ARGV("-c", a->node_config));
	else
		av_addv(av, SB_ARGV("-d", a->config_dir, "--cgroup", a->cgroup,
				    "--pin-dir", a->pin_dir, "-n", a->what));
	return 0;
}

int sb_agent_start(struct sb_agent *a, const char *const extra[])
{
	struct sb_place at = { .netns = a->netns };
	struct argv_buf av = {};
	char bin[PATH_MAX], port[16], what[32];
	int err;

	err = agent_argv(&av, bin, sizeof(bin), a);
	if (err)
		return err;
	snprintf(port, sizeof(port), "%d", a->metrics_port);
	if (!a->node_config[0])
		av_addv(&av, SB_ARGV("--metrics-addr", "127.0.0.1",
				     "--metrics-port", port));
	av_addv(&av, extra);
	snprintf(what, sizeof(what), "weftd-%s", a->what);
	err = sb_spawn(&a->proc, &at, what, av.v);
	if (err)
		return err;
	err = sb_proc_wait_log(&a->proc, "ready", 15000);
	if (err) {
		printf("sandbox: weftd-%s not ready: %s\n", a->what,
		       err == -ESRCH ? "it exited" : "timeout");
		return err;
	}
	if (a->metrics_port &&
	    !SB_WAIT_UNTIL(sb_agent_http(NULL, a, "/healthz/ready") == 200, 5000)) {
		printf("sandbox: weftd-%s: /healthz/ready never answered 200\n",
		       a->what);
		return -ETIMEDOUT;
	}
	return 0;
}

int sb_agent_run(struct sb_result *r, const struct sb_agent *a,
		 const char *const args[])
{
	struct sb_place at = { .netns = a->netns };
	struct argv_buf av = {};
	char bin[PATH_MAX];
	int err;

	err = agent_argv(&av, bin, sizeof(bin), a);
	if (err) {
		memset(r, 0, sizeof(*r));
		r->out = strdup("");
		r->err = strdup("weftd not built");
		return r->status = err;
	}
	av_addv(&av, args);
	return sb_run(r, &at, NULL, 20000, av.v);
}

int sb_weft(struct sb_result *r, const struct sb_agent *a,
	    const char *const args[])
{
	struct argv_buf av = {};
	char bin[PATH_MAX];

	if (sb_bin(bin, sizeof(bin), "weft")) {
		memset(r, 0, sizeof(*r));
		r->out = strdup("");
		r->err = strdup("weft not built");
		return r->status = -ENOENT;
	}
	if (a->node_config[0])
		av_addv(&av, SB_ARGV(bin, "-c", a->node_config));
	else
		av_addv(&av, SB_ARGV(bin, "-p", a->pin_dir));
	av_addv(&av, args);
	return sb_run(r, NULL, NULL, 10000, av.v);
}

int sb_agent_http(struct sb_result *r, const struct sb_agent *a,
		  const char *path)
{
	struct sb_place at = { .netns = a->netns };
	struct sb_result tmp, *res = r ? r : &tmp;
	char url[128];
	char *nl;
	int code;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", a->metrics_port, path);
	if (sb_run(res, &at, NULL, 5000,
		   SB_ARGV("curl", "-sS", "--noproxy", "*", "--max-time", "3",
			   "-w", "\n%{http_code}", url))) {
		code = res->status > 0 ? -EIO : res->status;
	} else {
		nl = strrchr(res->out, '\n');
		code = nl ? atoi(nl + 1) : -EIO;
		if (nl)
			*nl = '\0';
	}
	if (!r)
		sb_result_free(&tmp);
	return code;
}

int sb_curl(struct sb_result *r, const struct sb_place *at, const char *url)
{
	size_t n;

	sb_run(r, at, NULL, 10000,
	       SB_ARGV("curl", "-sS", "-g", "--noproxy", "*", "--connect-timeout",
		       "3", "--max-time", "5", url));
	n = strlen(r->out);
	if (n && r->out[n - 1] == '\n')
		r->out[n - 1] = '\0';
	return r->status;
}

/* --- JSON peeking -------------------------------------------------------- */

static char *json_compact(const char *json)
{
	char *out = malloc(strlen(json) + 1), *o = out;
	bool in_str = false;

	if (!out)
		return NULL;
	for (const char *p = json; *p; p++) {
		if (in_str) {
			*o++ = *p;
			if (*p == '\\' && p[1])
				*o++ = *++p;
			else if (*p == '"')
				in_str = false;
		} else if (*p == '"') {
			in_str = true;
			*o++ = *p;
		} else if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Braces inside strings would confuse this; weft's names have none. */
char *sb_json_object_with(const char *json, const char *key, const char *value)
{
	char needle[256], *c = json_compact(json), *hit, *start, *end, *obj = NULL;
	int depth;

	if (!c)
		return NULL;
	snprintf(needle, sizeof(needle), "\"%s\":\"%s\"", key, value);
	hit = strstr(c, needle);
	if (!hit)
		goto out;
	for (start = hit, depth = 0; start > c; start--) {
		if (*start == '}')
			depth++;
		else if (*start == '{' && depth-- == 0)
			break;
	}
	for (end = hit, depth = 0; *end; end++) {
		if (*end == '{')
			depth++;
		else if (*end == '}' && depth-- == 0)
			break;
	}
	if (*start == '{' && *end == '}')
		obj = strndup(start, (size_t)(end - start + 1));
out:
	free(c);
	return obj;
}

long long sb_json_int(const char *obj, const char *key)
{
	char needle[128];
	const char *p;

	snprintf(needle, sizeof(needle), "\"%s\":", key);
	p = obj ? strstr(obj, needle) : NULL;
	if (!p)
		return -1;
	p += strlen(needle);
	return *p >= '0' && *p <= '9' ? strtoll(p, NULL, 10) : -1;
}

int sb_json_count_after_last(const char *obj, const char *array_key,
			     const char *key)
{
	const char *last = NULL;
	char needle[128];

	snprintf(needle, sizeof(needle), "\"%s\":", array_key);
	for (const char *p = obj; p && (p = strstr(p, needle)); p++)
		last = p;
	return last ? sb_json_count(last, key) : 0;
}

int sb_json_count(const char *obj, const char *key)
{
	char needle[128];
	int n = 0;

	snprintf(needle, sizeof(needle), "\"%s\":", key);
	for (const char *p = obj; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* --- background functions, config files, TCP clients --------------------- */

int sb_spawn_fn(struct sb_proc *p, const struct sb_place *at, const char *what,
		int (*fn)(void *arg), void *arg)
{
	test_log("  $ [fn %s]%s%s\n", what, at && at->netns ? " ns " : "",
		 at && at->netns ? at->netns : "");
	return spawn_child(p, at, what, fn, arg);
}

int sb_proc_wait_exit(struct sb_proc *p, int timeout_ms)
{
	int st;

	if (p->pid <= 0)
		return p->status;
	st = reap_until(p->pid, sb_now_ms() + timeout_ms);
	if (st == -ETIMEDOUT)
		return st;
	kill(-p->pid, SIGKILL); /* anything it left in its group */
	proc_reaped(p, st);
	return st;
}

int sb_agent_write_config(const struct sb_agent *a, const char *name,
			  const char *text)
{
	char tmp[PATH_MAX + 80], dst[PATH_MAX + 80];
	int err;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", a->config_dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", a->config_dir, name);
	err = sb_write_file(tmp, text);
	if (!err && rename(tmp, dst))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int sb_agent_remove_config(const struct sb_agent *a, const char *name)
{
	char path[PATH_MAX + 80];

	snprintf(path, sizeof(path), "%s/%s", a->config_dir, name);
	return unlink(path) ? -errno : 0;
}

int sb_agent_apply_config(const struct sb_agent *a, const char *name,
			  const char *text, int timeout_ms)
{
	long long gen = sb_agent_generation(a);
	int err = sb_agent_write_config(a, name, text);

	if (err)
		return err;
	return SB_WAIT_UNTIL(sb_agent_generation(a) > gen, timeout_ms) ?
		       0 :
		       -ETIMEDOUT;
}

long long sb_agent_generation(const struct sb_agent *a)
{
	struct sb_result r;
	long long gen = -1;

	if (sb_weft(&r, a, SB_ARGV("-j", "status")) == 0)
		gen = sb_json_int(r.out, "generation");
	sb_result_free(&r);
	return gen;
}

static socklen_t sb_sockaddr(const char *addr, int port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	return 0;
}

int sb_tcp_ask(const char *addr, int port, const void *payload, size_t len,
	       bool shut_wr, int timeout_ms, char *name, size_t name_len,
	       size_t *received)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct sockaddr_storage ss;
	socklen_t sslen = sb_sockaddr(addr, port, &ss);
	size_t got = 0, sent = 0, nlen = 0;
	bool line_done = !name_len;
	char buf[4096];
	int fd, err = 0;

	if (name_len)
		name[0] = '\0';
	if (received)
		*received = 0;
	if (!sslen)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sslen)) {
		err = -errno;
		goto out;
	}
	while (sent < len) {
		ssize_t n = send(fd, (const char *)payload + sent, len - sent,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto out;
		}
		sent += (size_t)n;
	}
	if (shut_wr && shutdown(fd, SHUT_WR)) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (n == 0)
			break;
		/* the first line, as far as it fits */
		for (ssize_t i = 0; i < n && !line_done; i++) {
			if (buf[i] == '\n' || nlen + 1 >= name_len) {
				line_done = true;
				break;
			}
			name[nlen++] = buf[i];
			name[nlen] = '\0';
		}
		got += (size_t)n;
	}
	if (received)
		*received = got;
	if (!got)
		err = -ENODATA;
out:
	close(fd);
	return err;
}

static int tally_client(void *arg)
{
	const struct sb_tally *t = arg;
	char names[SB_TALLY_NAMES][32], prev[32] = "", first_err[160] = "";
	int hits[SB_TALLY_NAMES] = {}, nnames = 0, ok = 0, failed = 0, repeats = 0;

	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			printf("affinity %s\n", strerror(errno));
	}
	for (int i = 0; i < t->count; i++) {
		char name[32];
		int err = sb_tcp_ask(t->addr, t->port, "x", 1, false, 3000, name,
				     sizeof(name), NULL);
		int k;

		if (err) {
			if (!failed++)
				snprintf(first_err, sizeof(first_err),
					 "connection %d to %s:%d: %s", i, t->addr,
					 t->port, strerror(-err));
			prev[0] = '\0';
			continue;
		}
		ok++;
		for (k = 0; k < nnames && strcmp(names[k], name); k++)
			;
		if (k == nnames && nnames < SB_TALLY_NAMES)
			snprintf(names[nnames++], sizeof(names[0]), "%s", name);
		if (k < nnames)
			hits[k]++;
		if (ok == 1)
			printf("first %s\n", name);
		repeats += !strcmp(prev, name);
		snprintf(prev, sizeof(prev), "%s", name);
	}
	for (int k = 0; k < nnames; k++)
		printf("hit %s %d\n", names[k], hits[k]);
	printf("ok %d\nfailed %d\nrepeats %d\n", ok, failed, repeats);
	if (first_err[0])
		printf("error %s\n", first_err);
	return 0;
}

int sb_tally_run(struct sb_tally *t, const struct sb_place *at)
{
	struct sb_result r;
	int st;

	t->nnames = t->ok = t->failed = t->repeats = 0;
	t->first[0] = t->error[0] = '\0';
	memset(t->hits, 0, sizeof(t->hits));
	st = sb_call(&r, at, 30000 + t->count * 20, tally_client, t);
	for (char *l = strtok(r.out, "\n"); l; l = strtok(NULL, "\n")) {
		char name[32];
		int n;

		if (sscanf(l, "hit %31s %d", name, &n) == 2 &&
		    t->nnames < SB_TALLY_NAMES) {
			snprintf(t->names[t->nnames], sizeof(t->names[0]), "%s", name);
			t->hits[t->nnames++] = n;
		} else if (!strncmp(l, "first ", 6)) {
			snprintf(t->first, sizeof(t->first), "%s", l + 6);
		} else if (!strncmp(l, "error ", 6)) {
			snprintf(t->error, sizeof(t->error), "%s", l + 6);
		} else {
			sscanf(l, "ok %d", &t->ok);
			sscanf(l, "failed %d", &t->failed);
			sscanf(l, "repeats %d", &t->repeats);
		}
	}
	test_log("  %d x %s:%d:", t->count, t->addr, t->port);
	for (int k = 0; k < t->nnames; k++)
		test_log(" %s %d", t->names[k], t->hits[k]);
	test_log(", failed %d, repeats %d%s%s\n", t->failed, t->repeats,
		 t->error[0] ? ", first failure: " : "", t->error);
	if (st)
		printf("%s: tally client %s:%d: status %d: %s\n", test_name(),
		       t->addr, t->port, st, r.err);
	sb_result_free(&r);
	return st;
}

int sb_tally_hits(const struct sb_tally *t, const char *name)
{
	for (int k = 0; k < t->nnames; k++)
		if (!strcmp(t->names[k], name))
			return t->hits[k];
	return 0;
}

double sb_tally_pct(const struct sb_tally *t, const char *name)
{
	return t->ok ? 100.0 * sb_tally_hits(t, name) / t->ok : 0;
}

static int loop_client(void *arg)
{
	const struct sb_loop *l = arg;
	long end = sb_now_ms() + l->max_ms;
	sigset_t term, pending;

	/* Blocked, and looked at between connections only: a stop never
	 * interrupts a connection (EINTR would look like a failure). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	while (sb_now_ms() < end) {
		char name[32];
		long t0, t1;
		int err;

		sigpending(&pending);
		if (sigismember(&pending, SIGTERM))
			break;
		t0 = sb_now_ms();
		err = sb_tcp_ask(l->addr, l->port, "x", 1, false, 3000, name,
				 sizeof(name), NULL);
		t1 = sb_now_ms();
		if (err)
			printf("%ld %ld !%d %s\n", t0, t1, -err, strerror(-err));
		else
			printf("%ld %ld %s\n", t0, t1, name[0] ? name : "?");
		if (l->pause_us)
			usleep((useconds_t)l->pause_us);
	}
	printf("end\n");
	return 0;
}

int sb_loop_start(struct sb_loop *l, const struct sb_place *at,
		  const char *what)
{
	l->recs = NULL;
	l->nrecs = l->nfailed = 0;
	return sb_spawn_fn(&l->proc, at, what, loop_client, l);
}

int sb_loop_stop(struct sb_loop *l)
{
	size_t cap = 0;
	char *log, *save = NULL;
	int st;

	st = sb_proc_stop(&l->proc, SIGTERM, 10000);
	log = sb_proc_log(&l->proc);
	for (char *line = log ? strtok_r(log, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct sb_loop_rec rec = {};
		char word[32];

		if (sscanf(line, "%ld %ld %31s", &rec.t0, &rec.t1, word) != 3)
			continue;
		if (word[0] == '!') {
			rec.err = atoi(word + 1);
			l->nfailed++;
		} else {
			snprintf(rec.name, sizeof(rec.name), "%s", word);
		}
		if (l->nrecs == cap) {
			struct sb_loop_rec *nr;

			cap = cap ? cap * 2 : 4096;
			nr = realloc(l->recs, cap * sizeof(*nr));
			if (!nr)
				break;
			l->recs = nr;
		}
		l->recs[l->nrecs++] = rec;
	}
	free(log);
	return st;
}

void sb_loop_free(struct sb_loop *l)
{
	free(l->recs);
	l->recs = NULL;
	l->nrecs = l->nfailed = 0;
}

/* Whether the sample line's label set (from '{' to '}') has every label. */
static bool prom_labels_match(const char *open, const char *close,
			      const char *const labels[])
{
	for (const char *const *lab = labels; lab && *lab; lab++) {
		size_t n = strlen(*lab);
		const char *p = open;
		bool found = false;

		while ((p = memmem(p, (size_t)(close - p), *lab, n))) {
			if ((p[-1] == '{' || p[-1] == ',') &&
			    (p[n] == ',' || p[n] == '}')) {
				found = true;
				break;
			}
			p++;
		}
		if (!found)
			return false;
	}
	return true;
}

static long long prom_scan(const char *text, const char *name,
			   const char *const labels[], int *count)
{
	size_t n = strlen(name);
	long long sum = 0;

	*count = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *open, *close, *value;

		if (strncmp(l, name, n) || (l[n] != '{' && l[n] != ' '))
			continue;
		open = l + n;
		if (*open == '{') {
			close = strchr(open, '}');
			if (!close || (strchr(open, '\n') && strchr(open, '\n') < close))
				continue;
			value = close + 1;
		} else {
			close = open;
			value = open;
		}
		if (!prom_labels_match(open, close, labels) ||
		    (open == close && labels && *labels))
			continue;
		sum += strtoll(value, NULL, 10);
		++*count;
	}
	return sum;
}

long long sb_prom_sum(const char *text, const char *name,
		      const char *const labels[])
{
	int count;
	long long sum = prom_scan(text ? text : "", name, labels, &count);

	return count ? sum : -1;
}

int sb_prom_count(const char *text, const char *name,
		  const char *const labels[])
{
	int count;

	prom_scan(text ? text : "", name, labels, &count);
	return count;
}

bool sb_web_up(struct sb_host *client, struct sb_host web[],
	       struct sb_proc srv[], int nweb, bool dual_stack,
	       uint16_t tcp_port, uint16_t udp_port)
{
	int err = sb_init();

	if (err == -EPERM) {
		test_skip("needs root");
		return false;
	}
	if (!ASSERT_OK(err, "sb_init") ||
	    !ASSERT_OK(sb_host_add(client, "client", "10.201.0.2",
				   dual_stack ? "fd00:201::2" : NULL),
		       "client host"))
		return false;
	for (int i = 0; i < nweb; i++) {
		char what[24], ip4[24], ip6[40];

		snprintf(what, sizeof(what), "web-%d", i + 1);
		snprintf(ip4, sizeof(ip4), "10.201.1.%d", i + 1);
		snprintf(ip6, sizeof(ip6), "fd00:201::1:%d", i + 1);
		if (!ASSERT_OK(sb_host_add(&web[i], what, ip4,
					   dual_stack ? ip6 : NULL), what) ||
		    !ASSERT_OK(sb_testsrv_start(&srv[i], &web[i], what, tcp_port,
						udp_port), "testsrv"))
			return false;
	}
	return true;
}

bool sb_agent_up(struct sb_agent *a, const char *netns,
		 const char *const configs[])
{
	if (!ASSERT_OK(sb_agent_init(a, "node", netns, 15020), "agent init"))
		return false;
	for (const char *const *c = configs; *c; c++)
		if (!ASSERT_OK(sb_agent_config(a, *c, NULL), *c))
			return false;
	return ASSERT_OK(sb_agent_start(a, NULL), "weftd start");
}
