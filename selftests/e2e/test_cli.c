// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The weft CLI against a datapath made by hand: maps with the layouts of
 * bpf/lib/lb.h are created with bpf_map_create(), pinned under a
 * throwaway /sys/fs/bpf/weft-test-cli-<pid> and filled with a few
 * services; then the built binary runs through popen() and its text and
 * JSON output are checked.  The maps carry the BTF of the built BPF object
 * when it loads (so `bpftool map dump` shows field names), none otherwise.
 * Every test removes its pin directory, and fails if anything is left.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>
#include <weft/abi.h>

#include "../test.h"
#include "datapath.h"
#include "sysfs.h"

#define CLI_OUT_MAX (64 * 1024)

struct map_def {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries, flags;
	const char *key_type, *value_type; /* BTF names */
};

/* As in bpf/lib/lb.h and bpf/lib/counters.h, only smaller. */
static const struct map_def map_defs[] = {
	{ "weft_services", BPF_MAP_TYPE_HASH, sizeof(struct weft_service_key),
	  sizeof(struct weft_service_value), 64, 0, "weft_service_key",
	  "weft_service_value" },
	{ "weft_backends", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_backend), 64, 0, "__u32", "weft_backend" },
	{ "weft_sock_revnat", BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct weft_revnat_key), sizeof(struct weft_revnat_value), 64,
	  0, "weft_revnat_key", "weft_revnat_value" },
	{ "weft_service_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(struct weft_service_stats), 16, 0, "__u32",
	  "weft_service_stats" },
	{ "weft_counters", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(__u64), WEFT_CNT__MAX, 0, "__u32", "__u64" },
	{ "weft_service_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_service_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_service_meta" },
	{ "weft_backend_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_backend_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_backend_meta" },
	{ "weft_agent_state", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
	  sizeof(struct weft_agent_state), 1, 0, "__u32", "weft_agent_state" },
};
#define NMAPS (sizeof(map_defs) / sizeof(map_defs[0]))

enum fixture_flags {
	FIX_NO_DATA = 1 << 0,      /* maps only, nothing in them */
	FIX_BAD_BACKENDS = 1 << 1, /* weft_backends with a wrong value size */
};

struct fixture {
	char dir[128];      /* "" until made */
	char cfg[PATH_MAX]; /* node config file, "" until made */
	int fds[NMAPS];
	struct bpf_object *obj; /* owns btf */
	struct btf *btf;
	int ncpus;
};

/* ---- building the datapath by hand -------------------------------------- */

static void addr_v4(union weft_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->w[2] = htonl(0x0000ffff);
	inet_pton(AF_INET, text, &a->w[3]);
}

static void addr_v6(union weft_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	inet_pton(AF_INET6, text, a->b);
}

/*
 * The built BPF object, opened (not loaded) so that libbpf fixes up its BTF,
 * with that BTF loaded into the kernel; NULL when either step fails.
 */
static struct bpf_object *fixture_btf(struct btf **btf)
{
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	struct bpf_object *obj;
	char path[PATH_MAX];

	*btf = NULL;
	snprintf(path, sizeof(path), "%s/build/bpf/sock_lb.bpf.o",
		 test_repo_dir());
	obj = bpf_object__open_file(path, NULL);
	if (obj && bpf_object__btf(obj) &&
	    !btf__load_into_kernel(bpf_object__btf(obj))) {
		*btf = bpf_object__btf(obj);
	} else {
		test_log("no BTF from %s: maps without BTF\n", path);
		bpf_object__close(obj);
		obj = NULL;
	}
	libbpf_set_print(old);
	return obj;
}

static int btf_type(const struct btf *btf, const char *name)
{
	int id;

	if (strncmp(name, "__u", 3) == 0)
		return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	return id;
}

static int map_make(struct fixture *f, size_t i, unsigned int flags)
{
	const struct map_def *d = &map_defs[i];
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = d->flags);
	__u32 value_size = d->value_size;
	char path[PATH_MAX];
	int fd, kid, vid;

	if ((flags & FIX_BAD_BACKENDS) && !strcmp(d->name, "weft_backends"))
		value_size += 8;
	else if (f->btf) {
		kid = btf_type(f->btf, d->key_type);
		vid = btf_type(f->btf, d->value_type);
		if (kid > 0 && vid > 0) {
			opts.btf_fd = btf__fd(f->btf);
			opts.btf_key_type_id = kid;
			opts.btf_value_type_id = vid;
		}
	}
	fd = bpf_map_create(d->type, d->name, d->key_size, value_size,
			    d->max_entries, &opts);
	if (fd < 0 && opts.btf_fd) {
		/* Layout and BTF disagree: the CLI test still runs. */
		test_log("%s: BTF refused (%d), without BTF\n", d->name, fd);
		opts.btf_fd = opts.btf_key_type_id = opts.btf_value_type_id = 0;
		fd = bpf_map_create(d->type, d->name, d->key_size, value_size,
				    d->max_entries, &opts);
	}
	if (!ASSERT_GE(fd, 0, d->name))
		return fd;
	f->fds[i] = fd;
	snprintf(path, sizeof(path), "%s/%s/%s", f->dir, WEFT_PIN_MAPS_DIR,
		 d->name);
	return bpf_obj_pin(fd, path);
}

static int map_fd(const struct fixture *f, const char *name)
{
	for (size_t i = 0; i < NMAPS; i++)
		if (!strcmp(map_defs[i].name, name))
			return f->fds[i];
	return -1;
}

static int put_service(struct fixture *f, __u32 id, const char *host,
		       const char *ns, const char *port_name,
		       const union weft_addr *vip, __u16 port, __u8 proto,
		       const __u32 *backends, __u16 count)
{
	struct weft_service_key key = { .vip = *vip, .port = htons(port),
					.proto = proto };
	struct weft_service_value val = {};
	struct weft_service_meta meta = {};
	int err = 0;

	/* Slots first, then slot 0, as the agent publishes them. */
	for (__u16 i = 1; !err && i <= count; i++) {
		key.slot = i;
		val.backend_id = backends[i - 1];
		err = bpf_map_update_elem(map_fd(f, "weft_services"), &key,
					  &val, BPF_ANY);
	}
	key.slot = 0;
	memset(&val, 0, sizeof(val));
	val.service_id = id;
	val.count = count;
	val.flags = WEFT_SVC_F_REFUSE_EMPTY;
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_services"), &key,
					 &val, BPF_ANY);
	snprintf(meta.host, sizeof(meta.host), "%s", host);
	snprintf(meta.ns, sizeof(meta.ns), "%s", ns);
	snprintf(meta.port_name, sizeof(meta.port_name), "%s", port_name);
	meta.vip = *vip;
	meta.port = htons(port);
	meta.proto = proto;
	return err ?: bpf_map_update_elem(map_fd(f, "weft_service_meta"), &id,
					  &meta, BPF_ANY);
}

static int put_backend(struct fixture *f, __u32 id, const union weft_addr *a,
		       __u16 port, const char *workload, __u32 refs)
{
	struct weft_backend be = { .addr = *a, .port = htons(port) };
	struct weft_backend_meta meta = { .refs = refs };
	int err;

	err = bpf_map_update_elem(map_fd(f, "weft_backends"), &id, &be,
				  BPF_ANY);
	if (err || !workload)
		return err;
	snprintf(meta.workload, sizeof(meta.workload), "%s", workload);
	return bpf_map_update_elem(map_fd(f, "weft_backend_meta"), &id, &meta,
				   BPF_ANY);
}

/* Per-CPU values: CPU c gets base + c * step. */
static int put_service_stats(struct fixture *f, __u32 id,
			     const struct weft_service_stats *base,
			     const struct weft_service_stats *step)
{
	struct weft_service_stats *v = calloc(f->ncpus, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (int c = 0; c < f->ncpus; c++) {
		v[c].connects = base->connects + c * step->connects;
		v[c].datagrams = base->datagrams + c * step->datagrams;
		v[c].no_backend = base->no_backend + c * step->no_backend;
	}
	err = bpf_map_update_elem(map_fd(f, "weft_service_stats"), &id, v,
				  BPF_ANY);
	free(v);
	return err;
}

static int put_counter(struct fixture *f, __u32 which, __u64 per_cpu)
{
	__u64 *v = calloc(f->ncpus, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (int c = 0; c < f->ncpus; c++)
		v[c] = per_cpu;
	err = bpf_map_update_elem(map_fd(f, "weft_counters"), &which, v,
				  BPF_ANY);
	free(v);
	return err;
}

/*
 * Services, sorted as the CLI must print them:
 *   kube-dns  [fd00::a]:53/udp      -> 3
 *   ratings   10.96.0.20:9080/tcp   -> (none)
 *   reviews   10.96.0.10:9080/tcp   -> 1, 2
 *   reviews   10.96.0.10:9443/tcp   -> 2
 * Backend 4 has no metadata and no service.
 */
static int fixture_fill(struct fixture *f)
{
	static const __u32 reviews[] = { 1, 2 }, reviews_tls[] = { 2 },
			   dns[] = { 3 };
	struct weft_agent_state st = {
		.generation = 42,
		.applied_ns = 1700000000ull * 1000000000ull,
		.abi_version = WEFT_ABI_VERSION,
		.services = 4,
		.backends = 4,
	};
	union weft_addr a;
	__u32 zero = 0;
	int err;

	addr_v4(&a, "10.0.0.1");
	err = put_backend(f, 1, &a, 8080, "default/reviews-v1", 1);
	addr_v4(&a, "10.0.0.2");
	err = err ?: put_backend(f, 2, &a, 8080, "default/reviews-v2", 2);
	addr_v6(&a, "fd00::1:5");
	err = err ?: put_backend(f, 3, &a, 5353, "kube-system/coredns", 1);
	addr_v4(&a, "10.0.0.9");
	err = err ?: put_backend(f, 4, &a, 80, NULL, 0);

	addr_v4(&a, "10.96.0.10");
	err = err ?: put_service(f, 1, "reviews.default.svc.cluster.local",
				 "default", "http", &a, 9080, IPPROTO_TCP,
				 reviews, 2);
	err = err ?: put_service(f, 4, "reviews.default.svc.cluster.local",
				 "default", "https", &a, 9443, IPPROTO_TCP,
				 reviews_tls, 1);
	addr_v6(&a, "fd00::a");
	err = err ?: put_service(f, 2, "kube-dns.kube-system.svc.cluster.local",
				 "kube-system", "dns", &a, 53, IPPROTO_UDP, dns,
				 1);
	addr_v4(&a, "10.96.0.20");
	err = err ?: put_service(f, 3, "ratings.default.svc.cluster.local",
				 "default", "http", &a, 9080, IPPROTO_TCP, NULL,
				 0);

	/* connects of service 1 sum to ncpus * (ncpus + 1) / 2. */
	err = err ?: put_service_stats(f, 1,
				       &(struct weft_service_stats){ 1, 0, 0 },
				       &(struct weft_service_stats){ 1, 0, 0 });
	err = err ?: put_service_stats(f, 2,
				       &(struct weft_service_stats){ 0, 7, 0 },
				       &(struct weft_service_stats){ 0, 0, 0 });
	err = err ?: put_service_stats(f, 3,
				       &(struct weft_service_stats){ 0, 0, 1 },
				       &(struct weft_service_stats){ 0, 0, 0 });
	err = err ?: put_counter(f, WEFT_CNT_LB_HIT, 10);
	err = err ?: put_counter(f, WEFT_CNT_LB_NO_BACKEND, 1);
	err = err ?: put_counter(f, WEFT_CNT_REVNAT_HIT, 3);

	snprintf(st.node_name, sizeof(st.node_name), "node-test");
	return err ?: bpf_map_update_elem(map_fd(f, "weft_agent_state"), &zero,
					  &st, BPF_ANY);
}

/* Remove the pin directory whatever state it is in; true if it is gone. */
static bool fixture_remove_dir(const char *dir)
{
	static const char *const subs[] = { WEFT_PIN_LINKS_DIR,
					    WEFT_PIN_MAPS_DIR };
	char sub[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *ent;
	DIR *d;

	for (size_t i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		d = opendir(sub);
		if (!d)
			continue;
		while ((ent = readdir(d)))
			if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, "..")) {
				snprintf(path, sizeof(path), "%s/%s", sub,
					 ent->d_name);
				unlink(path);
			}
		closedir(d);
		rmdir(sub);
	}
	rmdir(dir);
	return access(dir, F_OK) && errno == ENOENT;
}

static void fixture_teardown(struct fixture *f)
{
	for (size_t i = 0; i < NMAPS; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	bpf_object__close(f->obj);
	f->obj = NULL;
	f->btf = NULL;
	if (f->cfg[0])
		unlink(f->cfg);
	if (f->dir[0])
		ASSERT_TRUE(fixture_remove_dir(f->dir), "pin dir removed");
	f->dir[0] = f->cfg[0] = '\0';
}

static bool fixture_setup(struct fixture *f, unsigned int flags)
{
	char maps[PATH_MAX + 8];
	int err;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < NMAPS; i++)
		f->fds[i] = -1;
	if (geteuid() != 0) {
		test_skip("needs root");
		return false;
	}
	f->ncpus = datapath_ncpus();
	if (!ASSERT_GE(f->ncpus, 1, "ncpus"))
		return false;
	snprintf(f->dir, sizeof(f->dir), "/sys/fs/bpf/weft-test-cli-%d",
		 (int)getpid());
	/* Mounts bpffs on /sys/fs/bpf when there is none (left mounted:
	 * other weft processes may be using it). */
	if (!ASSERT_OK(sysfs_bpffs_ensure(f->dir), "bpffs")) {
		f->dir[0] = '\0';
		return false;
	}
	if (!ASSERT_OK(mkdir(f->dir, 0700) ? -errno : 0, "mkdir pin dir")) {
		f->dir[0] = '\0';
		return false;
	}
	snprintf(maps, sizeof(maps), "%s/%s", f->dir, WEFT_PIN_MAPS_DIR);
	if (!ASSERT_OK(mkdir(maps, 0700) ? -errno : 0, "mkdir maps"))
		goto fail;
	f->obj = fixture_btf(&f->btf);
	for (size_t i = 0; i < NMAPS; i++) {
		err = map_make(f, i, flags);
		if (!ASSERT_OK(err, map_defs[i].name))
			goto fail;
	}
	if (!(flags & FIX_NO_DATA) && !ASSERT_OK(fixture_fill(f), "fill maps"))
		goto fail;
	return true;
fail:
	fixture_teardown(f);
	return false;
}

/* ---- running the CLI ----------------------------------------------------- */

/*
 * Run `<build>/weft <args>` through sh, stdout into out (stderr stays on
 * the test's stderr unless args redirect it).  Returns the exit status,
 * or -1 when the command did not exit normally.
 */
static int __attribute__((format(printf, 3, 4)))
run_cli(char *out, size_t len, const char *fmt, ...)
{
	char args[1024], cmd[PATH_MAX + 1200];
	size_t n = 0, got;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s/weft' %s", test_build_dir(), args);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!ASSERT_NOT_NULL(p, "popen"))
		return -1;
	while (n + 1 < len && (got = fread(out + n, 1, len - n - 1, p)) > 0)
		n += got;
	out[n] = '\0';
	status = pclose(p);
	test_log("$ weft %s  [exit %d]\n%s", args,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Structural check of one JSON document and a newline: brackets balance
 * outside strings, strings hold no raw control characters.
 */
static bool json_well_formed(const char *s)
{
	char stack[64];
	int depth = 0;
	bool in_str = false;

	for (; *s && !(depth == 0 && *s == '\n'); s++) {
		unsigned char c = (unsigned char)*s;

		if (in_str) {
			if (c < 0x20)
				return false;
			if (c == '\\' && s[1])
				s++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			if (depth == (int)sizeof(stack))
				return false;
			stack[depth++] = c == '{' ? '}' : ']';
			break;
		case '}':
		case ']':
			if (!depth || stack[--depth] != c)
				return false;
			break;
		}
	}
	return !in_str && depth == 0 && s[0] == '\n' && s[1] == '\0';
}

#define ASSERT_JSON(out, what) \
	ASSERT_TRUE(json_well_formed(out), what ": well-formed JSON")

/* a appears before b in s. */
#define ASSERT_ORDER(s, a, b, what)                                         \
	({                                                                  \
		const char *___x = strstr((s), (a)), *___y = strstr((s), (b)); \
		ASSERT_TRUE(___x && ___y && ___x < ___y, what);             \
	})

/* The line of s that holds needle, without its newline ("" if none). */
static const char *line_of(const char *s, const char *needle, char *buf,
			   size_t len)
{
	const char *hit = strstr(s, needle), *start, *end;

	buf[0] = '\0';
	if (!hit)
		return buf;
	for (start = hit; start > s && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	if (!end)
		end = hit + strlen(hit);
	snprintf(buf, len, "%.*s", (int)(end - start), start);
	return buf;
}

static void log_bpftool(const struct fixture *f, const char *map)
{
	char cmd[PATH_MAX + 128], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "command -v bpftool >/dev/null && bpftool map dump pinned '%s/%s/%s' 2>&1",
		 f->dir, WEFT_PIN_MAPS_DIR, map);
	p = popen(cmd, "r");
	if (!p)
		return;
	test_log("$ bpftool map dump pinned %s/%s/%s\n", f->dir,
		 WEFT_PIN_MAPS_DIR, map);
	while (fgets(line, sizeof(line), p))
		test_log("%s", line);
	pclose(p);
}

/* ---- tests ---------------------------------------------------------------- */

WEFT_KERNEL_TEST(cli_service_list)
{
	char *out = malloc(CLI_OUT_MAX), *again = malloc(CLI_OUT_MAX);
	struct fixture f;

	if (!ASSERT_NOT_NULL(out, "malloc") || !ASSERT_NOT_NULL(again, "malloc"))
		goto free;
	if (!fixture_setup(&f, 0))
		goto free;

	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' service list", f.dir),
		       0, "service list"))
		goto out;
	ASSERT_HAS(out, "HOST", "header");
	ASSERT_HAS(out, "NAMESPACE", "header");
	ASSERT_HAS(out, "10.96.0.10:9080/tcp", "v4 VIP unmapped");
	ASSERT_HAS(out, "[fd00::a]:53/udp", "v6 VIP bracketed");
	ASSERT_HAS(out, "10.0.0.1:8080,10.0.0.2:8080", "backends in slot order");
	ASSERT_HAS(out, "[fd00::1:5]:5353", "v6 backend");
	ASSERT_FALSE(strstr(out, "::ffff:"), "no IPv4-mapped text");
	ASSERT_ORDER(out, "kube-dns.", "ratings.", "sorted by host");
	ASSERT_ORDER(out, "ratings.", "reviews.", "sorted by host");
	ASSERT_ORDER(out, "10.96.0.10:9080/tcp", "10.96.0.10:9443/tcp",
		     "then by port");

	/* Prefixes, and `service` alone lists. */
	ASSERT_EQ(run_cli(again, CLI_OUT_MAX, "-p '%s' se l", f.dir), 0, "se l");
	ASSERT_STREQ(again, out, "se l == service list");
	ASSERT_EQ(run_cli(again, CLI_OUT_MAX, "-p '%s' serv", f.dir), 0,
		  "serv");
	ASSERT_STREQ(again, out, "service == service list");

	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' service list",
			       f.dir),
		       0, "-j service list"))
		goto out;
	ASSERT_JSON(out, "service list");
	ASSERT_HAS(out,
		   "{\"id\":1,\"host\":\"reviews.default.svc.cluster.local\","
		   "\"namespace\":\"default\",\"port_name\":\"http\","
		   "\"vip\":\"10.96.0.10\",\"port\":9080,\"protocol\":\"tcp\","
		   "\"backends\":[{\"id\":1,\"address\":\"10.0.0.1\",\"port\":8080,"
		   "\"workload\":\"default/reviews-v1\"},{\"id\":2,"
		   "\"address\":\"10.0.0.2\",\"port\":8080,"
		   "\"workload\":\"default/reviews-v2\"}]}",
		   "reviews JSON");
	ASSERT_HAS(out, "\"vip\":\"fd00::a\",\"port\":53,\"protocol\":\"udp\"",
		   "v6 JSON");
	ASSERT_HAS(out, "\"port_name\":\"http\",\"vip\":\"10.96.0.20\","
			"\"port\":9080,\"protocol\":\"tcp\",\"backends\":[]}",
		   "empty backends");
	ASSERT_TRUE(out[0] == '[', "a JSON array");
	ASSERT_ORDER(out, "\"port\":9080,\"protocol\":\"tcp\",\"backends\":[{",
		     "\"port\":9443", "JSON sorted too");

	/* Options after the object work as well. */
	ASSERT_EQ(run_cli(again, CLI_OUT_MAX, "service list -p '%s' --json",
			  f.dir),
		  0, "options last");
	ASSERT_STREQ(again, out, "same JSON");

	log_bpftool(&f, "weft_services");
	log_bpftool(&f, "weft_service_meta");
	log_bpftool(&f, "weft_counters");
out:
	fixture_teardown(&f);
free:
	free(out);
	free(again);
}

WEFT_KERNEL_TEST(cli_backend_list)
{
	char out[8192], line[256];
	struct fixture f;

	if (!fixture_setup(&f, 0))
		return;
	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' b l", f.dir), 0,
		       "b l"))
		goto out;
	ASSERT_HAS(out, "ID", "header");
	ASSERT_HAS(out, "WORKLOAD", "header");
	ASSERT_HAS(out, "10.0.0.2:8080", "v4 backend");
	ASSERT_HAS(out, "default/reviews-v2", "workload");
	ASSERT_HAS(out, "[fd00::1:5]:5353", "v6 backend");
	ASSERT_ORDER(out, "10.0.0.1:8080", "10.0.0.2:8080", "by id");
	ASSERT_ORDER(out, "[fd00::1:5]:5353", "10.0.0.9:80", "by id");
	line_of(out, "10.0.0.9:80 ", line, sizeof(line));
	ASSERT_HAS(line, " -  ", "no metadata shows '-'");
	ASSERT_HAS(line, "   0", "no refs");
	line_of(out, "10.0.0.2:8080", line, sizeof(line));
	ASSERT_TRUE(line[0] == ' ' && strstr(line, "2  10.0.0.2:8080  "),
		    "ids right-aligned");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' backend list",
			       f.dir),
		       0, "-j backend list"))
		goto out;
	ASSERT_JSON(out, "backend list");
	ASSERT_HAS(out,
		   "[{\"id\":1,\"address\":\"10.0.0.1\",\"port\":8080,"
		   "\"workload\":\"default/reviews-v1\",\"refs\":1},"
		   "{\"id\":2,\"address\":\"10.0.0.2\",\"port\":8080,"
		   "\"workload\":\"default/reviews-v2\",\"refs\":2},"
		   "{\"id\":3,\"address\":\"fd00::1:5\",\"port\":5353,"
		   "\"workload\":\"kube-system/coredns\",\"refs\":1},"
		   "{\"id\":4,\"address\":\"10.0.0.9\",\"port\":80,"
		   "\"workload\":\"\",\"refs\":0}]\n",
		   "backends JSON");
out:
	fixture_teardown(&f);
}

WEFT_KERNEL_TEST(cli_stats)
{
	char out[8192], want[512];
	struct fixture f;
	unsigned long long n;

	if (!fixture_setup(&f, 0))
		return;
	n = (unsigned long long)f.ncpus;
	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' stats", f.dir), 0,
		       "stats"))
		goto out;
	ASSERT_HAS(out, "CONNECTS", "header");
	ASSERT_HAS(out, "NO_BACKEND", "header");
	ASSERT_HAS(out, "lb_hit", "counter name");
	ASSERT_HAS(out, "revnat_update_fail", "counter name");
	ASSERT_ORDER(out, "kube-dns.", "reviews.", "sorted by host");
	ASSERT_ORDER(out, "NO_BACKEND", "COUNTER", "services, then counters");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' stats", f.dir), 0,
		       "-j stats"))
		goto out;
	ASSERT_JSON(out, "stats");
	snprintf(want, sizeof(want),
		 "{\"id\":1,\"host\":\"reviews.default.svc.cluster.local\","
		 "\"vip\":\"10.96.0.10\",\"port\":9080,\"protocol\":\"tcp\","
		 "\"connects\":%llu,\"datagrams\":0,\"no_backend\":0}",
		 n * (n + 1) / 2);
	ASSERT_HAS(out, want, "per-CPU connects summed");
	snprintf(want, sizeof(want),
		 "\"protocol\":\"udp\",\"connects\":0,\"datagrams\":%llu,"
		 "\"no_backend\":0}",
		 7 * n);
	ASSERT_HAS(out, want, "datagrams summed");
	snprintf(want, sizeof(want),
		 "\"connects\":0,\"datagrams\":0,\"no_backend\":%llu}", n);
	ASSERT_HAS(out, want, "no_backend summed");
	snprintf(want, sizeof(want),
		 "\"counters\":{\"lb_hit\":%llu,\"lb_no_backend\":%llu,"
		 "\"lb_slot_missing\":0,\"lb_backend_missing\":0,"
		 "\"revnat_hit\":%llu,\"revnat_update_fail\":0}}\n",
		 10 * n, n, 3 * n);
	ASSERT_HAS(out, want, "counters");
	ASSERT_TRUE(!strncmp(out, "{\"services\":[{", 14), "stats shape");
out:
	fixture_teardown(&f);
}

WEFT_KERNEL_TEST(cli_status)
{
	char out[4096], missing[PATH_MAX + 16];
	struct fixture f;
	FILE *cfg;
	int fd;

	if (!fixture_setup(&f, 0))
		return;
	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' status", f.dir), 0,
		       "status"))
		goto out;
	ASSERT_HAS(out, "node-test", "node");
	ASSERT_HAS(out, "generation:   42", "generation");
	ASSERT_HAS(out, "2023-11-14T22:13:20Z", "applied at");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' statu", f.dir), 0,
		       "-j statu"))
		goto out;
	ASSERT_STREQ(out,
		     "{\"installed\":true,\"node\":\"node-test\","
		     "\"generation\":42,\"applied_at\":\"2023-11-14T22:13:20Z\","
		     "\"abi_version\":1,\"services\":4,\"backends\":4}\n",
		     "status JSON");

	/* The pin dir from a node config file (-p still wins over it). */
	snprintf(f.cfg, sizeof(f.cfg), "/tmp/weft-test-cli-XXXXXX");
	fd = mkstemp(f.cfg);
	if (!ASSERT_GE(fd, 0, "mkstemp")) {
		f.cfg[0] = '\0';
		goto out;
	}
	cfg = fdopen(fd, "w");
	if (!ASSERT_NOT_NULL(cfg, "fdopen")) {
		close(fd);
		goto out;
	}
	fprintf(cfg, "nodeName: node-test\npinDir: %s\n", f.dir);
	fclose(cfg);
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -c '%s' status", f.cfg), 0,
		  "status -c");
	ASSERT_HAS(out, "\"installed\":true", "found through -c");
	snprintf(missing, sizeof(missing), "%s-none", f.dir);
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -c '%s' -p '%s' status", f.cfg,
			  missing),
		  1, "-p over -c");
	ASSERT_HAS(out, "\"installed\":false", "-p won");

	/* Not installed: exit 1, in both forms. */
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' status", missing), 1,
		  "status, none");
	ASSERT_HAS(out, "not installed", "text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' status", missing), 1,
		  "-j status, none");
	ASSERT_JSON(out, "not installed");
	ASSERT_HAS(out, "{\"installed\":false,\"error\":\"not installed", "json");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' service list", missing),
		  1, "-j service list, none");
	ASSERT_HAS(out, "{\"error\":\"not installed", "json error");
out:
	fixture_teardown(&f);
}

WEFT_KERNEL_TEST(cli_uninstall)
{
	char out[8192], path[PATH_MAX + 64];
	struct fixture f;
	int fd;

	if (!fixture_setup(&f, 0))
		return;
	/* A pinned "link" (any object will do) must go first. */
	snprintf(path, sizeof(path), "%s/%s", f.dir, WEFT_PIN_LINKS_DIR);
	if (!ASSERT_OK(mkdir(path, 0700) ? -errno : 0, "mkdir links"))
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "weft_fake_link", 4, 4, 1,
			    NULL);
	if (!ASSERT_GE(fd, 0, "fake link"))
		goto out;
	snprintf(path, sizeof(path), "%s/%s/weft_connect4", f.dir,
		 WEFT_PIN_LINKS_DIR);
	ASSERT_OK(bpf_obj_pin(fd, path), "pin fake link");
	close(fd);

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' uninstall", f.dir),
		       0, "uninstall"))
		goto out;
	ASSERT_HAS(out, "removed ", "says what it removed");
	ASSERT_HAS(out, "/links/weft_connect4\n", "link");
	ASSERT_HAS(out, "/maps/weft_services\n", "map");
	ASSERT_ORDER(out, "/links/weft_connect4", "/maps/weft_agent_state",
		     "links first");
	snprintf(path, sizeof(path), "removed %s\n", f.dir);
	ASSERT_HAS(out, path, "the directory too");
	ASSERT_TRUE(access(f.dir, F_OK) && errno == ENOENT, "pin dir gone");

	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' uninstall", f.dir), 0,
		  "uninstall again");
	ASSERT_HAS(out, "nothing installed", "idempotent");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' status", f.dir), 1,
		  "status after");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' uninstall", f.dir), 0,
		  "-j uninstall, none");
	ASSERT_STREQ(out, "{\"removed\":[]}\n", "nothing, JSON");

	/* JSON lists the paths. */
	fixture_teardown(&f);
	if (!fixture_setup(&f, FIX_NO_DATA))
		return;
	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' u", f.dir), 0,
		       "-j u"))
		goto out;
	ASSERT_JSON(out, "uninstall");
	snprintf(path, sizeof(path), "{\"removed\":[\"%s/maps/weft_agent_state\"",
		 f.dir);
	ASSERT_HAS(out, path, "sorted paths");
	snprintf(path, sizeof(path), "\"%s/maps\",\"%s\"]}\n", f.dir, f.dir);
	ASSERT_HAS(out, path, "directories last");
	ASSERT_TRUE(access(f.dir, F_OK) && errno == ENOENT, "pin dir gone");

	/* Never outside bpffs, never the bpffs root. */
	ASSERT_EQ(run_cli(out, sizeof(out), "-p /tmp uninstall 2>&1"), 1,
		  "not bpffs");
	ASSERT_HAS(out, "not on a bpffs", "refused");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p /sys/fs/bpf uninstall 2>&1"), 1,
		  "bpffs root");
	ASSERT_HAS(out, "mount point", "refused");
out:
	fixture_teardown(&f);
}

WEFT_KERNEL_TEST(cli_empty_and_abi_mismatch)
{
	char out[4096];
	struct fixture f;

	if (!fixture_setup(&f, FIX_NO_DATA))
		return;
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' service list", f.dir),
		  0, "empty list");
	ASSERT_STREQ(out, "[]\n", "empty JSON array");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' backend list", f.dir), 0,
		  "empty text");
	ASSERT_HAS(out, "ID  ADDRESS  WORKLOAD  REFS\n", "header only");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' status", f.dir), 0,
		  "status, never applied");
	ASSERT_HAS(out, "\"applied_at\":null", "never applied");
	fixture_teardown(&f);

	if (!fixture_setup(&f, FIX_BAD_BACKENDS))
		return;
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' backend list", f.dir),
		  1, "ABI mismatch");
	ASSERT_HAS(out, "{\"error\":\"", "JSON error");
	ASSERT_HAS(out, "weft_backends", "names the map");
	fixture_teardown(&f);
}

/* Usage errors need no datapath. */
WEFT_TEST(cli_usage_errors)
{
	char out[4096];

	ASSERT_EQ(run_cli(out, sizeof(out), "s l 2>&1"), 2, "ambiguous");
	ASSERT_HAS(out, "ambiguous object 's': service, stats, status", "text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j stat 2>/dev/null"), 2,
		  "-j ambiguous");
	ASSERT_STREQ(out,
		     "{\"error\":\"ambiguous object 'stat': stats, status\"}\n",
		     "JSON error on stdout");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j frob"), 2, "unknown object");
	ASSERT_HAS(out, "{\"error\":\"unknown object 'frob'", "unknown");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j service frob"), 2,
		  "unknown command");
	ASSERT_HAS(out, "unknown service command 'frob'", "unknown command");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j service list extra"), 2,
		  "extra argument");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j --frob status"), 2,
		  "unknown option");
	ASSERT_JSON(out, "unknown option");
	ASSERT_EQ(run_cli(out, sizeof(out), "2>&1"), 2, "no object");
	ASSERT_HAS(out, "Usage: weft", "usage shown");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -c /nonexistent/node.yaml status"),
		  1, "bad node config");
	ASSERT_HAS(out, "{\"error\":\"/nonexistent/node.yaml", "config error");

	ASSERT_EQ(run_cli(out, sizeof(out), "help"), 0, "help");
	ASSERT_HAS(out, "service list", "help text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-h"), 0, "-h");
	ASSERT_HAS(out, "Usage: weft", "-h text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j h"), 0, "-j help");
	ASSERT_JSON(out, "help");
	ASSERT_EQ(run_cli(out, sizeof(out), "ve"), 0, "version");
	ASSERT_HAS(out, "weft ", "version text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j version"), 0, "-j version");
	ASSERT_HAS(out, "\"abi_version\":1", "version JSON");
}
