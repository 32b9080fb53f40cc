// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The weft CLI against a datapath made by hand: maps with the layouts of
 * bpf/lib/maps.h are created with bpf_map_create(), pinned under a
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
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <weft/abi.h>

#include "../test.h"
#include "agent/metrics.h"
#include "datapath.h"
#include "mesh-t.h"
#include "sysfs.h"

#define CLI_OUT_MAX (64 * 1024)
#define FIX_MAGLEV_TABLES 4 /* the test's weft_maglev holds this many */

struct map_def {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries, flags;
	const char *key_type, *value_type; /* BTF names */
};

/*
 * As in bpf/lib/maps.h, only smaller, and in datapath_map_names order.
 * The LRU maps stay large enough that the kernel's per-CPU free lists
 * never evict what a test wrote.
 */
static const struct map_def map_defs[] = {
	{ "weft_services", BPF_MAP_TYPE_HASH, sizeof(struct weft_service_key),
	  sizeof(struct weft_service), 64, 0, "weft_service_key",
	  "weft_service" },
	{ "weft_clusters", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_cluster), 64, 0, "__u32", "weft_cluster" },
	{ "weft_cluster_slots", BPF_MAP_TYPE_HASH, sizeof(struct weft_slot_key),
	  sizeof(__u32), 256, 0, "weft_slot_key", "__u32" },
	{ "weft_backends", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_backend), 64, 0, "__u32", "weft_backend" },
	{ "weft_maglev", BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32),
	  FIX_MAGLEV_TABLES * WEFT_MAGLEV_SIZE, 0, "__u32", "__u32" },
	{ "weft_rr_state", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(__u32), 64, 0, "__u32", "__u32" },
	{ "weft_backend_active", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
	  sizeof(__s64), 64, 0, "__u32", "__s64" },
	{ "weft_sock_revnat", BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct weft_revnat_key), sizeof(struct weft_revnat_value),
	  4096, 0, "weft_revnat_key", "weft_revnat_value" },
	{ "weft_service_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(struct weft_service_stats), 16, 0, "__u32",
	  "weft_service_stats" },
	{ "weft_tcp_stats", BPF_MAP_TYPE_LRU_PERCPU_HASH,
	  sizeof(struct weft_tcp_stats_key), sizeof(struct weft_tcp_stats),
	  4096, 0, "weft_tcp_stats_key", "weft_tcp_stats" },
	{ "weft_counters", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(__u64), WEFT_CNT__MAX, 0, "__u32", "__u64" },
	{ "weft_service_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_service_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_service_meta" },
	{ "weft_cluster_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_cluster_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_cluster_meta" },
	{ "weft_backend_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_backend_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_backend_meta" },
	{ "weft_agent_state", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
	  sizeof(struct weft_agent_state), 1, 0, "__u32", "weft_agent_state" },
	{ "weft_policy_dst", BPF_MAP_TYPE_HASH,
	  sizeof(struct weft_policy_dst_key),
	  sizeof(struct weft_policy_dst_value), 64, BPF_F_NO_PREALLOC,
	  "weft_policy_dst_key", "weft_policy_dst_value" },
	{ "weft_policy_ident", BPF_MAP_TYPE_HASH,
	  sizeof(struct weft_policy_ident_key),
	  sizeof(struct weft_policy_ident_value), 64, BPF_F_NO_PREALLOC,
	  "weft_policy_ident_key", "weft_policy_ident_value" },
	{ "weft_policy_src_ident", BPF_MAP_TYPE_HASH,
	  sizeof(struct weft_policy_src_ident_key),
	  sizeof(struct weft_policy_class_value), 64, BPF_F_NO_PREALLOC,
	  "weft_policy_src_ident_key", "weft_policy_class_value" },
	{ "weft_policy_src_net", BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct weft_policy_src_net_key),
	  sizeof(struct weft_policy_class_value), 64, BPF_F_NO_PREALLOC,
	  "weft_policy_src_net_key", "weft_policy_class_value" },
	{ "weft_policy_verdict", BPF_MAP_TYPE_HASH,
	  sizeof(struct weft_policy_verdict_key),
	  sizeof(struct weft_policy_verdict), 64, BPF_F_NO_PREALLOC,
	  "weft_policy_verdict_key", "weft_policy_verdict" },
	{ "weft_policy_config", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
	  sizeof(struct weft_policy_config), 1, 0, "__u32",
	  "weft_policy_config" },
	{ "weft_policy_stats", BPF_MAP_TYPE_PERCPU_HASH,
	  sizeof(struct weft_policy_stats_key), sizeof(__u64), 64, 0,
	  "weft_policy_stats_key", "__u64" },
	{ "weft_policy_events", BPF_MAP_TYPE_RINGBUF, 0, 0, 64 * 1024, 0,
	  NULL, NULL },
	{ "weft_netns", BPF_MAP_TYPE_HASH, sizeof(__u64),
	  sizeof(struct weft_netns_addrs), 16, BPF_F_NO_PREALLOC, "__u64",
	  "weft_netns_addrs" },
	{ "weft_policy_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_policy_meta), 16, BPF_F_NO_PREALLOC, "__u32",
	  "weft_policy_meta" },
	{ "weft_policy_ident_meta", BPF_MAP_TYPE_HASH, sizeof(__u32),
	  sizeof(struct weft_policy_ident_meta), 16, BPF_F_NO_PREALLOC,
	  "__u32", "weft_policy_ident_meta" },
	{ "weft_node_addrs", BPF_MAP_TYPE_HASH, sizeof(union weft_addr),
	  sizeof(__u32), 16, BPF_F_NO_PREALLOC, "weft_addr", "__u32" },
};
#define NMAPS (sizeof(map_defs) / sizeof(map_defs[0]))

_Static_assert(NMAPS == sizeof(struct datapath_maps) / sizeof(int),
	       "a map_def for every pinned map");

enum fixture_flags {
	FIX_NO_DATA = 1 << 0,  /* maps only, nothing in them */
	FIX_BAD_SIZE = 1 << 1, /* fixture.bad: value 8 bytes too large */
	FIX_BAD_TYPE = 1 << 2, /* fixture.bad: the non-per-CPU type */
};

struct fixture {
	char dir[128];      /* "" until made */
	char cfg[PATH_MAX]; /* node config file, "" until made */
	int fds[NMAPS];
	struct bpf_object *obj; /* owns btf */
	struct btf *btf;
	int ncpus;
	const char *bad;    /* the map FIX_BAD_* applies to */
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
	if (strncmp(name, "__", 2) == 0) /* __u32, __s64, ... */
		return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
}

static int map_make(struct fixture *f, size_t i, unsigned int flags)
{
	const struct map_def *d = &map_defs[i];
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = d->flags);
	bool bad = f->bad && !strcmp(d->name, f->bad);
	enum bpf_map_type type = d->type;
	__u32 key_size = d->key_size, value_size = d->value_size;
	__u32 max_entries = d->max_entries;
	char path[PATH_MAX];
	int fd, kid, vid;

	if (bad && (flags & FIX_BAD_SIZE) && type == BPF_MAP_TYPE_RINGBUF) {
		/* a ring buffer has no value size: the wrong type instead */
		type = BPF_MAP_TYPE_ARRAY;
		key_size = sizeof(__u32);
		value_size = sizeof(__u64);
		max_entries = 1;
	} else if (bad && (flags & FIX_BAD_SIZE)) {
		value_size += 8;
	} else if (bad && (flags & FIX_BAD_TYPE)) {
		type = type == BPF_MAP_TYPE_LRU_PERCPU_HASH ? BPF_MAP_TYPE_LRU_HASH
		       : type == BPF_MAP_TYPE_PERCPU_ARRAY  ? BPF_MAP_TYPE_ARRAY
							    : BPF_MAP_TYPE_HASH;
	} else if (f->btf && d->key_type) {
		kid = btf_type(f->btf, d->key_type);
		vid = btf_type(f->btf, d->value_type);
		if (kid > 0 && vid > 0) {
			opts.btf_fd = btf__fd(f->btf);
			opts.btf_key_type_id = kid;
			opts.btf_value_type_id = vid;
		}
	}
	fd = bpf_map_create(type, d->name, key_size, value_size, max_entries,
			    &opts);
	if (fd < 0 && opts.btf_fd) {
		/* Layout and BTF disagree: the CLI test still runs. */
		test_log("%s: BTF refused (%d), without BTF\n", d->name, fd);
		opts.btf_fd = opts.btf_key_type_id = opts.btf_value_type_id = 0;
		fd = bpf_map_create(type, d->name, key_size, value_size,
				    max_entries, &opts);
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

/* A route destination for put_service(): cluster id and its weight. */
struct fix_dest {
	__u32 cluster_id, weight;
};

/* The route is written whole, as the agent does (weights cumulated). */
static int put_route(struct fixture *f, const union weft_addr *vip,
		     __u16 port, __u8 proto, __u32 id,
		     const struct fix_dest *dests, __u16 ndests)
{
	struct weft_service_key key = { .vip = *vip, .port = htons(port),
					.proto = proto };
	struct weft_service val = { .service_id = id, .ndests = ndests };

	for (__u16 i = 0; i < ndests; i++) {
		val.weight_total += dests[i].weight;
		val.dests[i].cluster_id = dests[i].cluster_id;
		val.dests[i].weight_end = val.weight_total;
	}
	return bpf_map_update_elem(map_fd(f, "weft_services"), &key, &val,
				   BPF_ANY);
}

static int put_service(struct fixture *f, __u32 id, const char *host,
		       const char *ns, const char *port_name,
		       const union weft_addr *vip, __u16 port, __u8 proto,
		       const struct fix_dest *dests, __u16 ndests)
{
	struct weft_service_meta meta = {};
	int err;

	err = put_route(f, vip, port, proto, id, dests, ndests);
	snprintf(meta.host, sizeof(meta.host), "%s", host);
	snprintf(meta.ns, sizeof(meta.ns), "%s", ns);
	snprintf(meta.port_name, sizeof(meta.port_name), "%s", port_name);
	meta.vip = *vip;
	meta.port = htons(port);
	meta.proto = proto;
	return err ?: bpf_map_update_elem(map_fd(f, "weft_service_meta"), &id,
					  &meta, BPF_ANY);
}

/* Slots first, then the cluster entry that publishes their count. */
static int put_cluster(struct fixture *f, __u32 id, const char *name,
		       enum weft_lb_policy policy, __u32 maglev_table,
		       const __u32 *slots, __u16 count)
{
	struct weft_cluster cl = { .count = count, .policy = policy,
				   .maglev_table = maglev_table };
	struct weft_cluster_meta meta = {};
	struct weft_slot_key key = { .cluster_id = id };
	int err = 0;

	for (key.slot = 0; !err && key.slot < count; key.slot++)
		err = bpf_map_update_elem(map_fd(f, "weft_cluster_slots"), &key,
					  &slots[key.slot], BPF_ANY);
	/* A maglev table of the slots' backends, in turn. */
	for (__u32 i = 0; !err && policy == WEFT_LB_MAGLEV &&
			  i < WEFT_MAGLEV_SIZE; i++) {
		__u32 idx = maglev_table * WEFT_MAGLEV_SIZE + i;

		err = bpf_map_update_elem(map_fd(f, "weft_maglev"), &idx,
					  &slots[i % count], BPF_ANY);
	}
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_clusters"), &id, &cl,
					 BPF_ANY);
	snprintf(meta.name, sizeof(meta.name), "%s", name);
	return err ?: bpf_map_update_elem(map_fd(f, "weft_cluster_meta"), &id,
					  &meta, BPF_ANY);
}

static int put_backend(struct fixture *f, __u32 id, const char *addr,
		       __u16 port, const char *workload, __u32 refs,
		       __s64 active)
{
	struct weft_backend be = { .port = htons(port) };
	struct weft_backend_meta meta = { .refs = refs };
	int err;

	if (strchr(addr, ':'))
		addr_v6(&be.addr, addr);
	else
		addr_v4(&be.addr, addr);
	err = bpf_map_update_elem(map_fd(f, "weft_backends"), &id, &be,
				  BPF_ANY);
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_backend_active"), &id,
					 &active, BPF_ANY);
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

/* Per-CPU values: CPU c gets base + c * step (only CPU 0 when !step). */
static int put_tcp_stats(struct fixture *f, __u32 service_id, __u32 backend_id,
			 const char *source, const struct weft_tcp_stats *base,
			 const struct weft_tcp_stats *step)
{
	struct weft_tcp_stats_key key = { .service_id = service_id,
					  .backend_id = backend_id };
	struct weft_tcp_stats *v = calloc(f->ncpus, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	addr_v4(&key.source, source);
	for (int c = 0; c < f->ncpus && (c == 0 || step); c++) {
		v[c].opened = base->opened + (step ? c * step->opened : 0);
		v[c].closed = base->closed + (step ? c * step->closed : 0);
		v[c].sent_bytes =
			base->sent_bytes + (step ? c * step->sent_bytes : 0);
		v[c].received_bytes = base->received_bytes +
				      (step ? c * step->received_bytes : 0);
	}
	err = bpf_map_update_elem(map_fd(f, "weft_tcp_stats"), &key, v,
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

static int put_policy(struct fixture *f, __u32 id, const char *ns,
		      const char *name, __u8 action, bool enforced, __u32 rules)
{
	struct weft_policy_meta meta = { .action = action,
					 .enforced = enforced,
					 .rules = rules };

	snprintf(meta.ns, sizeof(meta.ns), "%s", ns);
	snprintf(meta.name, sizeof(meta.name), "%s", name);
	return bpf_map_update_elem(map_fd(f, "weft_policy_meta"), &id, &meta,
				   BPF_ANY);
}

/* A weft_policy_stats row of per_cpu on every CPU. */
static int put_policy_stats(struct fixture *f, __u32 policy, __u8 point,
			    __u8 action, __u8 reason, __u8 audit, __u64 per_cpu)
{
	struct weft_policy_stats_key key = { .policy = policy, .point = point,
					     .action = action, .reason = reason,
					     .audit = audit };
	__u64 *v = calloc(f->ncpus, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (int c = 0; c < f->ncpus; c++)
		v[c] = per_cpu;
	err = bpf_map_update_elem(map_fd(f, "weft_policy_stats"), &key, v,
				  BPF_ANY);
	free(v);
	return err;
}

static int put_identity(struct fixture *f, __u32 identity,
			const char *principal)
{
	struct weft_policy_ident_meta meta = {};

	snprintf(meta.principal, sizeof(meta.principal), "%s", principal);
	return bpf_map_update_elem(map_fd(f, "weft_policy_ident_meta"),
				   &identity, &meta, BPF_ANY);
}

#define FIX_FRONT "cluster.local/ns/front/sa/frontend"
#define FIX_FRONT_ID (WEFT_POLICY_GEN_BIT | 1) /* of generation 1 */
#define FIX_EVIL "cluster.local/ns/evil/sa/intruder"
#define FIX_EVIL_ID (WEFT_POLICY_GEN_BIT | 2)
#define FIX_GONE_POLICY 7 /* counted, deleted from weft_policy_meta since */
#define FIX_SET (WEFT_POLICY_GEN_BIT | 1)

/*
 * The lookup chain of one connection, 10.20.0.5 (frontend) ->
 * 10.10.1.2:8080/tcp, in generation 1, as policy_compile would write it:
 * 10.10.1.2 is in set 1, frontend's identity is class 1 of that set, every
 * source address class 0 (::/0), and the verdict for the pair on port 8080
 * is shop/web-deny's rule 0.  docs/debugging.md walks it with bpftool.
 */
static int fixture_fill_policy_chain(struct fixture *f)
{
	struct weft_policy_dst_key dk = { .gen = 1 };
	struct weft_policy_dst_value dv = { .set_id = FIX_SET };
	struct weft_policy_ident_key ik = { .gen = 1 };
	struct weft_policy_ident_value iv = { .identity = FIX_FRONT_ID };
	struct weft_policy_src_ident_key sk = { .set_id = FIX_SET,
						.identity = FIX_FRONT_ID };
	struct weft_policy_class_value id_class = { .class_id = 1 };
	struct weft_policy_src_net_key nk = { .prefixlen = 32, /* ::/0 */
					      .set_id = FIX_SET };
	struct weft_policy_class_value ip_class = { .class_id = 0 };
	struct weft_policy_verdict_key vk = { .set_id = FIX_SET, .id_class = 1,
					      .ip_class = 0,
					      .port = htons(8080),
					      .proto = IPPROTO_TCP };
	struct weft_policy_verdict v = {
		.action = WEFT_POLICY_ACTION_DENY,
		.reason = WEFT_POLICY_REASON_DENY_MATCH,
		.policy = 1, .rule = 0,
		.audit_policy = WEFT_POLICY_NONE,
		.audit_rule = WEFT_POLICY_NONE,
	};
	int err;

	addr_v4(&dk.addr, "10.10.1.2");
	addr_v4(&ik.addr, "10.20.0.5");
	err = bpf_map_update_elem(map_fd(f, "weft_policy_dst"), &dk, &dv,
				  BPF_ANY);
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_policy_ident"), &ik,
					 &iv, BPF_ANY);
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_policy_src_ident"),
					 &sk, &id_class, BPF_ANY);
	err = err ?: bpf_map_update_elem(map_fd(f, "weft_policy_src_net"), &nk,
					 &ip_class, BPF_ANY);
	return err ?: bpf_map_update_elem(map_fd(f, "weft_policy_verdict"),
					  &vk, &v, BPF_ANY);
}

/*
 * AuthorizationPolicy: four policies (DENY, ALLOW, AUDIT, and a DENY in
 * dry-run that decided nothing), their counters per CPU (sums: n CPUs
 *   shop/web-deny   inbound deny deny-match            3n
 *   shop/cart-allow inbound allow allow-match          5n
 *                   connect allow allow-match           n
 *   shop/audit-evil inbound deny no-allow-match audit  2n (the same
 *   (none)          inbound deny no-allow-match        2n  connections)
 *                   connect allow no-allow-policy      4n
 *   #7              connect deny deny-match             n
 * two identities and the chain of fixture_fill_policy_chain().
 * Generation 1 is active.
 */
static int fixture_fill_policy(struct fixture *f)
{
	struct weft_policy_config cfg = {
		.active_gen = 1,
		.enforced_protos = WEFT_POLICY_PROTO_TCP,
		.nsets = 1,
		.generation = 42,
	};
	__u32 zero = 0;
	int err;

	err = put_policy(f, 1, "shop", "web-deny", ISTIO_AUTHZ_DENY, true, 1);
	err = err ?: put_policy(f, 2, "shop", "cart-allow", ISTIO_AUTHZ_ALLOW,
				true, 2);
	err = err ?: put_policy(f, 3, "shop", "audit-evil", ISTIO_AUTHZ_AUDIT,
				true, 1);
	err = err ?: put_policy(f, 4, "istio-system", "dry-run",
				ISTIO_AUTHZ_DENY, false, 0);
	err = err ?: put_policy_stats(f, 1, WEFT_POLICY_POINT_INBOUND,
				      WEFT_POLICY_ACTION_DENY,
				      WEFT_POLICY_REASON_DENY_MATCH, 0, 3);
	err = err ?: put_policy_stats(f, 2, WEFT_POLICY_POINT_INBOUND,
				      WEFT_POLICY_ACTION_ALLOW,
				      WEFT_POLICY_REASON_ALLOW_MATCH, 0, 5);
	err = err ?: put_policy_stats(f, 2, WEFT_POLICY_POINT_CONNECT,
				      WEFT_POLICY_ACTION_ALLOW,
				      WEFT_POLICY_REASON_ALLOW_MATCH, 0, 1);
	err = err ?: put_policy_stats(f, 3, WEFT_POLICY_POINT_INBOUND,
				      WEFT_POLICY_ACTION_DENY,
				      WEFT_POLICY_REASON_NO_ALLOW_MATCH, 1, 2);
	err = err ?: put_policy_stats(f, WEFT_POLICY_NONE,
				      WEFT_POLICY_POINT_INBOUND,
				      WEFT_POLICY_ACTION_DENY,
				      WEFT_POLICY_REASON_NO_ALLOW_MATCH, 0, 2);
	err = err ?: put_policy_stats(f, WEFT_POLICY_NONE,
				      WEFT_POLICY_POINT_CONNECT,
				      WEFT_POLICY_ACTION_ALLOW,
				      WEFT_POLICY_REASON_NO_ALLOW_POLICY, 0, 4);
	err = err ?: put_policy_stats(f, FIX_GONE_POLICY,
				      WEFT_POLICY_POINT_CONNECT,
				      WEFT_POLICY_ACTION_DENY,
				      WEFT_POLICY_REASON_DENY_MATCH, 0, 1);
	err = err ?: put_identity(f, FIX_FRONT_ID, FIX_FRONT);
	err = err ?: put_identity(f, FIX_EVIL_ID, FIX_EVIL);
	err = err ?: fixture_fill_policy_chain(f);
	return err ?: bpf_map_update_elem(map_fd(f, "weft_policy_config"),
					  &zero, &cfg, BPF_ANY);
}

#define FIX_REVIEWS "reviews.default.svc.cluster.local"
#define FIX_V1 "outbound|9080|v1|" FIX_REVIEWS
#define FIX_V2 "outbound|9080|v2|" FIX_REVIEWS
#define FIX_TLS "outbound|9443||" FIX_REVIEWS
#define FIX_DNS "outbound|53||kube-dns.kube-system.svc.cluster.local"
#define FIX_EXT "outbound|443||api.example.com"
#define FIX_RATINGS "outbound|9080||ratings.default.svc.cluster.local"

/*
 * Services, sorted as the CLI must print them, and their routes:
 *   api.example.com  10.96.0.30:443/tcp   -> 5 passthrough
 *   kube-dns         [fd00::a]:53/udp     -> 4 random       [5]
 *   ratings          10.96.0.20:9080/tcp  -> 6 least_request (no slot)
 *   reviews          10.96.0.10:9080/tcp  -> 1 least_request [1, 2, 1] 80%
 *                                            2 round_robin   [3]       20%
 *   reviews          10.96.0.10:9443/tcp  -> 3 maglev (table 3) [2, 3]
 * Backend 9 has no metadata, no slot, and -1 active connections (its id
 * was reused while a socket of the old backend was open).
 */
static int fixture_fill(struct fixture *f)
{
	static const __u32 v1[] = { 1, 2, 1 }, v2[] = { 3 }, tls[] = { 2, 3 },
			   dns[] = { 5 };
	struct weft_agent_state st = {
		.generation = 42,
		.applied_ns = 1700000000ull * 1000000000ull,
		.abi_version = WEFT_ABI_VERSION,
		.services = 5,
		.backends = 5,
	};
	union weft_addr a;
	__u32 zero = 0;
	int err;

	err = put_backend(f, 1, "10.0.0.1", 8080, "default/reviews-v1", 1, 3);
	err = err ?: put_backend(f, 2, "10.0.0.2", 8080, "default/reviews-v1",
				 2, 0);
	err = err ?: put_backend(f, 3, "10.0.0.3", 8080, "default/reviews-v2",
				 2, 1);
	err = err ?: put_backend(f, 5, "fd00::1:5", 5353,
				 "kube-system/coredns", 1, 0);
	err = err ?: put_backend(f, 9, "10.0.0.9", 80, NULL, 0, -1);

	err = err ?: put_cluster(f, 1, FIX_V1, WEFT_LB_LEAST_REQUEST, 0, v1, 3);
	err = err ?: put_cluster(f, 2, FIX_V2, WEFT_LB_ROUND_ROBIN, 0, v2, 1);
	err = err ?: put_cluster(f, 3, FIX_TLS, WEFT_LB_MAGLEV, 3, tls, 2);
	err = err ?: put_cluster(f, 4, FIX_DNS, WEFT_LB_RANDOM, 0, dns, 1);
	err = err ?: put_cluster(f, 5, FIX_EXT, WEFT_LB_PASSTHROUGH, 0, NULL, 0);
	err = err ?: put_cluster(f, 6, FIX_RATINGS, WEFT_LB_LEAST_REQUEST, 0,
				 NULL, 0);

	addr_v4(&a, "10.96.0.10");
	err = err ?: put_service(f, 1, FIX_REVIEWS, "default", "http", &a, 9080,
				 IPPROTO_TCP,
				 (struct fix_dest[]){ { 1, 80 }, { 2, 20 } }, 2);
	err = err ?: put_service(f, 4, FIX_REVIEWS, "default", "https", &a,
				 9443, IPPROTO_TCP,
				 (struct fix_dest[]){ { 3, 1 } }, 1);
	addr_v6(&a, "fd00::a");
	err = err ?: put_service(f, 2, "kube-dns.kube-system.svc.cluster.local",
				 "kube-system", "dns", &a, 53, IPPROTO_UDP,
				 (struct fix_dest[]){ { 4, 1 } }, 1);
	addr_v4(&a, "10.96.0.20");
	err = err ?: put_service(f, 3, "ratings.default.svc.cluster.local",
				 "default", "http", &a, 9080, IPPROTO_TCP,
				 (struct fix_dest[]){ { 6, 1 } }, 1);
	addr_v4(&a, "10.96.0.30");
	err = err ?: put_service(f, 5, "api.example.com", "default", "tls", &a,
				 443, IPPROTO_TCP,
				 (struct fix_dest[]){ { 5, 1 } }, 1);

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
	/* Sums: opened 2n, closed n, sent 100n + n(n-1)/2, received 1000n. */
	err = err ?: put_tcp_stats(f, 1, 1, "10.1.0.5",
				   &(struct weft_tcp_stats){ 2, 1, 100, 1000 },
				   &(struct weft_tcp_stats){ 0, 0, 1, 0 });
	/* One connection still open, on CPU 0 only. */
	err = err ?: put_tcp_stats(f, 1, 3, "10.1.0.6",
				   &(struct weft_tcp_stats){ 1, 0, 0, 0 }, NULL);
	/* A backend deleted since (id 42): the series outlives it. */
	err = err ?: put_tcp_stats(f, 4, 42, "10.1.0.5",
				   &(struct weft_tcp_stats){ 1, 1, 10, 20 },
				   &(struct weft_tcp_stats){ 0, 0, 0, 0 });
	err = err ?: put_counter(f, WEFT_CNT_LB_HIT, 10);
	err = err ?: put_counter(f, WEFT_CNT_LB_NO_BACKEND, 1);
	err = err ?: put_counter(f, WEFT_CNT_LB_PASSTHROUGH, 2);
	err = err ?: put_counter(f, WEFT_CNT_REVNAT_HIT, 3);

	err = err ?: fixture_fill_policy(f);

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

/* flags: enum fixture_flags; bad: the map FIX_BAD_* makes wrong. */
static bool fixture_setup_bad(struct fixture *f, unsigned int flags,
			      const char *bad)
{
	char maps[PATH_MAX + 8];
	int err;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < NMAPS; i++)
		f->fds[i] = -1;
	f->bad = bad;
	for (size_t i = 0; i < NMAPS; i++)
		if (!ASSERT_STREQ(map_defs[i].name, datapath_map_names[i],
				  "map_defs in datapath_map_names order"))
			return false;
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

static bool fixture_setup(struct fixture *f, unsigned int flags)
{
	return fixture_setup_bad(f, flags, NULL);
}

/* ---- running the CLI ----------------------------------------------------- */

/*
 * Run cmd through sh, stdout into out (stderr stays on the test's stderr
 * unless cmd redirects it), logged as "$ shown".  Returns the exit status,
 * or -1 when the command did not exit normally.
 */
static int run_cmd(char *out, size_t len, const char *cmd, const char *shown)
{
	size_t n = 0, got;
	FILE *p;
	int status;

	out[0] = '\0';
	p = popen(cmd, "r");
	if (!ASSERT_NOT_NULL(p, "popen"))
		return -1;
	while (n + 1 < len && (got = fread(out + n, 1, len - n - 1, p)) > 0)
		n += got;
	out[n] = '\0';
	status = pclose(p);
	test_log("$ %s  [exit %d]\n%s", shown,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `<build>/weft <args>`, see run_cmd(). */
static int __attribute__((format(printf, 3, 4)))
run_cli(char *out, size_t len, const char *fmt, ...)
{
	char args[1024], cmd[PATH_MAX + 1200], shown[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s/weft' %s", test_build_dir(), args);
	snprintf(shown, sizeof(shown), "weft %s", args);
	return run_cmd(out, len, cmd, shown);
}

/* A shell command line, see run_cmd(). */
static int __attribute__((format(printf, 3, 4)))
run_sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run_cmd(out, len, cmd, cmd);
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

/*
 * s from its first line starting with from, with every run of blanks made
 * one space and none at either end of a line: the content of aligned
 * columns without their widths.  "" when no line starts with from.
 */
static const char *squeeze_from(const char *s, const char *from, char *buf,
				size_t len)
{
	const char *p = s;
	size_t n = 0;
	bool blank = false;

	while (p && strncmp(p, from, strlen(from)))
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	for (bool bol = true; p && *p && n + 1 < len; p++) {
		if (*p == ' ') {
			blank = !bol;
			continue;
		}
		if (blank && *p != '\n')
			buf[n++] = ' ';
		blank = false;
		bol = *p == '\n';
		if (n + 1 < len)
			buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

static void log_bpftool(const struct fixture *f, const char *map)
{
	char *out = malloc(CLI_OUT_MAX);

	if (out)
		run_sh(out, CLI_OUT_MAX,
		       "command -v bpftool >/dev/null && bpftool map dump pinned '%s/%s/%s' 2>&1",
		       f->dir, WEFT_PIN_MAPS_DIR, map);
	free(out);
}

/* ---- tests ---------------------------------------------------------------- */

/* Backend objects of the JSON output, with their weight in context. */
#define J_BE(id, addr, port, workload, weight, active)                      \
	"{\"id\":" #id ",\"address\":\"" addr "\",\"port\":" #port           \
	",\"workload\":\"" workload "\",\"weight\":" #weight                 \
	",\"active\":" #active "}"
#define J_BE1(w) J_BE(1, "10.0.0.1", 8080, "default/reviews-v1", w, 3)
#define J_BE2(w) J_BE(2, "10.0.0.2", 8080, "default/reviews-v1", w, 0)
#define J_BE3(w) J_BE(3, "10.0.0.3", 8080, "default/reviews-v2", w, 1)
#define J_BE5(w) J_BE(5, "fd00::1:5", 5353, "kube-system/coredns", w, 0)

WEFT_KERNEL_TEST(cli_service_list)
{
	char *out = malloc(CLI_OUT_MAX), *again = malloc(CLI_OUT_MAX);
	char line[512];
	struct fixture f;
	union weft_addr ratings;

	if (!ASSERT_NOT_NULL(out, "malloc") || !ASSERT_NOT_NULL(again, "malloc"))
		goto free;
	if (!fixture_setup(&f, 0))
		goto free;

	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' service list", f.dir),
		       0, "service list"))
		goto out;
	ASSERT_TRUE(!strncmp(out, "HOST ", 5), "header first");
	ASSERT_HAS(out, "  NAMESPACE  ", "header");
	ASSERT_HAS(out, "  BACKENDS  ROUTE\n", "header");
	ASSERT_HAS(out, "\n     SHARE  CLUSTER  ", "detail header, indented");
	ASSERT_HAS(out, "  POLICY         ENDPOINTS\n", "detail header");
	ASSERT_HAS(out, "10.96.0.10:9080/tcp", "v4 VIP unmapped");
	ASSERT_HAS(out, "[fd00::a]:53/udp", "v6 VIP bracketed");
	ASSERT_FALSE(strstr(out, "::ffff:"), "no IPv4-mapped text");
	ASSERT_ORDER(out, "api.example.com ", "kube-dns.", "sorted by host");
	ASSERT_ORDER(out, "kube-dns.", "ratings.", "sorted by host");
	ASSERT_ORDER(out, "ratings.", "reviews.", "sorted by host");
	ASSERT_ORDER(out, "10.96.0.10:9080/tcp", "10.96.0.10:9443/tcp",
		     "then by port");

	/* The service row: distinct backends and a route summary. */
	line_of(out, "10.96.0.10:9080/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  3  v1 80.0%, v2 20.0%", "weighted route summary");
	line_of(out, "10.96.0.10:9443/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  2  reviews 100.0%", "one cluster, no subset");
	/* Its clusters under it, indented, in route order. */
	ASSERT_ORDER(out, "10.96.0.10:9080/tcp", "|v1|", "v1 under its service");
	ASSERT_ORDER(out, "|v1|", "|v2|", "route order");
	ASSERT_ORDER(out, "|v2|", "10.96.0.10:9443/tcp", "before the next");
	line_of(out, FIX_V1, line, sizeof(line));
	ASSERT_TRUE(!strncmp(line, "     80.0%  " FIX_V1 "  ", 12 + strlen(FIX_V1) + 2),
		    "v1 row: indented share, cluster");
	ASSERT_HAS(out, "  least_request  10.0.0.1:8080*2,10.0.0.2:8080\n",
		   "v1 row: policy, backends in slot order, weight 1 without '*'");
	line_of(out, FIX_V2, line, sizeof(line));
	ASSERT_HAS(line, "20.0%", "v2 share");
	ASSERT_HAS(line, "  round_robin    10.0.0.3:8080", "v2 row");
	line_of(out, FIX_TLS, line, sizeof(line));
	ASSERT_HAS(line, "100.0%", "maglev share");
	ASSERT_HAS(line, "  maglev         10.0.0.2:8080,10.0.0.3:8080",
		   "maglev row");
	line_of(out, FIX_DNS, line, sizeof(line));
	ASSERT_HAS(line, "  random         [fd00::1:5]:5353", "v6 backend");
	line_of(out, FIX_EXT, line, sizeof(line));
	ASSERT_HAS(line, "  passthrough    original destination",
		   "passthrough row");
	line_of(out, FIX_RATINGS, line, sizeof(line));
	ASSERT_HAS(line, "  least_request  -", "no backend: '-'");
	line_of(out, "10.96.0.20:9080/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  0  ratings 100.0%", "no backend: 0");

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
	ASSERT_TRUE(out[0] == '[', "a JSON array");
	ASSERT_HAS(out,
		   "{\"id\":1,\"host\":\"" FIX_REVIEWS "\","
		   "\"namespace\":\"default\",\"port_name\":\"http\","
		   "\"vip\":\"10.96.0.10\",\"port\":9080,\"protocol\":\"tcp\","
		   "\"route\":["
		   "{\"cluster\":\"" FIX_V1 "\",\"cluster_id\":1,\"weight\":80,"
		   "\"share\":0.8,\"policy\":\"least_request\","
		   "\"backends\":[" J_BE1(2) "," J_BE2(1) "]},"
		   "{\"cluster\":\"" FIX_V2 "\",\"cluster_id\":2,\"weight\":20,"
		   "\"share\":0.2,\"policy\":\"round_robin\","
		   "\"backends\":[" J_BE3(1) "]}],"
		   "\"backends\":[" J_BE1(2) "," J_BE2(1) "," J_BE3(1) "]}",
		   "weighted two-cluster route JSON");
	ASSERT_HAS(out,
		   "\"port\":9443,\"protocol\":\"tcp\",\"route\":["
		   "{\"cluster\":\"" FIX_TLS "\",\"cluster_id\":3,\"weight\":1,"
		   "\"share\":1,\"policy\":\"maglev\","
		   "\"backends\":[" J_BE2(1) "," J_BE3(1) "]}],"
		   "\"backends\":[" J_BE2(1) "," J_BE3(1) "]}",
		   "maglev route JSON");
	ASSERT_HAS(out,
		   "\"vip\":\"fd00::a\",\"port\":53,\"protocol\":\"udp\","
		   "\"route\":[{\"cluster\":\"" FIX_DNS "\",\"cluster_id\":4,"
		   "\"weight\":1,\"share\":1,\"policy\":\"random\","
		   "\"backends\":[" J_BE5(1) "]}],\"backends\":[" J_BE5(1) "]}",
		   "v6 JSON");
	ASSERT_HAS(out,
		   "\"port_name\":\"http\",\"vip\":\"10.96.0.20\",\"port\":9080,"
		   "\"protocol\":\"tcp\",\"route\":[{\"cluster\":\"" FIX_RATINGS
		   "\",\"cluster_id\":6,\"weight\":1,\"share\":1,"
		   "\"policy\":\"least_request\",\"backends\":[]}],"
		   "\"backends\":[]}",
		   "empty cluster JSON");
	ASSERT_HAS(out,
		   "\"policy\":\"passthrough\",\"backends\":[]}],"
		   "\"backends\":[]}",
		   "passthrough JSON");
	ASSERT_ORDER(out, "\"port\":9080,\"protocol\":\"tcp\",\"route\":[{",
		     "\"port\":9443", "JSON sorted too");

	/* Options after the object work as well. */
	ASSERT_EQ(run_cli(again, CLI_OUT_MAX, "service list -p '%s' --json",
			  f.dir),
		  0, "options last");
	ASSERT_STREQ(again, out, "same JSON");

	log_bpftool(&f, "weft_services");
	log_bpftool(&f, "weft_clusters");
	log_bpftool(&f, "weft_cluster_slots");
	log_bpftool(&f, "weft_cluster_meta");

	/* A route naming a cluster that is gone, split in thirds. */
	addr_v4(&ratings, "10.96.0.20");
	if (!ASSERT_OK(put_route(&f, &ratings, 9080, IPPROTO_TCP, 3,
				 (struct fix_dest[]){ { 99, 1 }, { 6, 2 } }, 2),
		       "route to cluster 99"))
		goto out;
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' service list 2>&1", f.dir),
		  0, "missing cluster: still listed");
	ASSERT_HAS(out, "service 3: route names cluster 99, which is missing",
		   "warned");
	line_of(out, "10.96.0.20:9080/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  0  #99 33.3%, ratings 66.7%", "summary");
	line_of(out, "#99 (missing)", line, sizeof(line));
	ASSERT_HAS(line, "33.3%  #99 (missing)", "missing cluster row");
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' service list 2>/dev/null",
			  f.dir),
		  0, "-j missing cluster");
	ASSERT_JSON(out, "missing cluster");
	ASSERT_HAS(out,
		   "\"route\":[{\"cluster\":null,\"cluster_id\":99,\"weight\":1,"
		   "\"share\":0.333,\"policy\":null,\"backends\":[]},"
		   "{\"cluster\":\"" FIX_RATINGS "\",\"cluster_id\":6,"
		   "\"weight\":2,\"share\":0.667,",
		   "missing cluster JSON, thirds rounded");

	/*
	 * Weights that do not add up (not what the agent writes): shown as
	 * the datapath picks, dests[0] taking what no weight_end claims.
	 * Another service's cluster is labelled with its host.
	 */
	{
		struct weft_service_key key = { .vip = ratings,
						.port = htons(9080),
						.proto = IPPROTO_TCP };
		struct weft_service val = {
			.service_id = 3, .ndests = 2, .weight_total = 4,
			.dests = { { 6, 1 }, { 1, 2 } },
		};

		ASSERT_OK(bpf_map_update_elem(map_fd(&f, "weft_services"), &key,
					      &val, BPF_ANY),
			  "short route");
	}
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' service list", f.dir), 0,
		  "short route");
	line_of(out, "10.96.0.20:9080/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  2  ratings 75.0%, reviews/v1 25.0%",
		   "leftover to the first destination");

	/* Every destination weighs 0: no destination, refused. */
	if (!ASSERT_OK(put_route(&f, &ratings, 9080, IPPROTO_TCP, 3, NULL, 0),
		       "empty route"))
		goto out;
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' service list", f.dir), 0,
		  "empty route");
	line_of(out, "10.96.0.20:9080/tcp", line, sizeof(line));
	ASSERT_HAS(line, "  0  refused (no destination)", "refused");
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' service list", f.dir), 0,
		  "-j empty route");
	ASSERT_HAS(out, "\"vip\":\"10.96.0.20\",\"port\":9080,\"protocol\":\"tcp\","
			"\"route\":[],\"backends\":[]}",
		   "empty route JSON");
out:
	fixture_teardown(&f);
free:
	free(out);
	free(again);
}

WEFT_KERNEL_TEST(cli_cluster_list)
{
	char *out = malloc(CLI_OUT_MAX), *again = malloc(CLI_OUT_MAX);
	struct weft_slot_key slot = { .cluster_id = 1, .slot = 1 };
	__u32 gone = 77;
	char line[512];
	struct fixture f;

	if (!ASSERT_NOT_NULL(out, "malloc") || !ASSERT_NOT_NULL(again, "malloc"))
		goto free;
	if (!fixture_setup(&f, 0))
		goto free;
	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' cluster list", f.dir),
		       0, "cluster list"))
		goto out;
	ASSERT_TRUE(!strncmp(out, "ID  NAME  ", 10), "header");
	ASSERT_HAS(out, "  POLICY         SLOTS  MAGLEV  ENDPOINTS\n", "header");
	ASSERT_ORDER(out, FIX_V1, FIX_V2, "by id");
	ASSERT_ORDER(out, FIX_DNS, FIX_EXT, "by id");
	ASSERT_ORDER(out, FIX_EXT, FIX_RATINGS, "by id");
	line_of(out, FIX_V1, line, sizeof(line));
	ASSERT_TRUE(!strncmp(line, " 1  " FIX_V1, 4 + strlen(FIX_V1)),
		    "ids right-aligned");
	ASSERT_HAS(line, "  least_request      3       -  10.0.0.1:8080*2,10.0.0.2:8080",
		   "slots, no maglev table, weighted backends");
	line_of(out, FIX_TLS, line, sizeof(line));
	ASSERT_HAS(line, "  maglev             2       3  10.0.0.2:8080,10.0.0.3:8080",
		   "maglev table index");
	line_of(out, FIX_EXT, line, sizeof(line));
	ASSERT_HAS(line, "  passthrough        0       -  -", "passthrough");

	ASSERT_EQ(run_cli(again, CLI_OUT_MAX, "-p '%s' c l", f.dir), 0, "c l");
	ASSERT_STREQ(again, out, "c l == cluster list");

	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' cluster list",
			       f.dir),
		       0, "-j cluster list"))
		goto out;
	ASSERT_JSON(out, "cluster list");
	ASSERT_STREQ(out,
		     "[{\"id\":1,\"name\":\"" FIX_V1 "\",\"policy\":\"least_request\","
		     "\"slots\":3,\"maglev_table\":null,"
		     "\"backends\":[" J_BE1(2) "," J_BE2(1) "]},"
		     "{\"id\":2,\"name\":\"" FIX_V2 "\",\"policy\":\"round_robin\","
		     "\"slots\":1,\"maglev_table\":null,"
		     "\"backends\":[" J_BE3(1) "]},"
		     "{\"id\":3,\"name\":\"" FIX_TLS "\",\"policy\":\"maglev\","
		     "\"slots\":2,\"maglev_table\":3,"
		     "\"backends\":[" J_BE2(1) "," J_BE3(1) "]},"
		     "{\"id\":4,\"name\":\"" FIX_DNS "\",\"policy\":\"random\","
		     "\"slots\":1,\"maglev_table\":null,"
		     "\"backends\":[" J_BE5(1) "]},"
		     "{\"id\":5,\"name\":\"" FIX_EXT "\",\"policy\":\"passthrough\","
		     "\"slots\":0,\"maglev_table\":null,\"backends\":[]},"
		     "{\"id\":6,\"name\":\"" FIX_RATINGS "\","
		     "\"policy\":\"least_request\",\"slots\":0,"
		     "\"maglev_table\":null,\"backends\":[]}]\n",
		     "cluster list JSON");
	log_bpftool(&f, "weft_backend_active");

	/* Mid-update: a slot gone, a slot naming a backend that is gone. */
	ASSERT_OK(bpf_map_delete_elem(map_fd(&f, "weft_cluster_slots"), &slot),
		  "delete slot 1 of cluster 1");
	slot = (struct weft_slot_key){ .cluster_id = 2, .slot = 0 };
	ASSERT_OK(bpf_map_update_elem(map_fd(&f, "weft_cluster_slots"), &slot,
				      &gone, BPF_ANY),
		  "cluster 2 slot 0 -> backend 77");
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' cluster list 2>&1", f.dir),
		  0, "broken chain: still listed");
	ASSERT_HAS(out, "cluster 1: slot 1 of 3 missing", "slot warning");
	ASSERT_HAS(out, "cluster 2: a slot names backend 77, which is missing",
		   "backend warning");
	ASSERT_HAS(out, FIX_V1 "   least_request      3       -  10.0.0.1:8080*2\n",
		   "what is left");
	ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' cluster list 2>/dev/null",
			  f.dir),
		  0, "-j broken chain");
	ASSERT_JSON(out, "broken chain");
	ASSERT_HAS(out, "\"slots\":3,\"maglev_table\":null,\"backends\":["
			J_BE1(2) "]}",
		   "slots announced, backends found");
	ASSERT_HAS(out, "\"slots\":1,\"maglev_table\":null,\"backends\":[]}",
		   "backend 77 left out");
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
	ASSERT_TRUE(!strncmp(out, "ID  ADDRESS  ", 13), "header");
	ASSERT_HAS(out, "  WORKLOAD             REFS  ACTIVE\n", "header");
	ASSERT_HAS(out, "10.0.0.2:8080", "v4 backend");
	ASSERT_HAS(out, "default/reviews-v2", "workload");
	ASSERT_HAS(out, "[fd00::1:5]:5353", "v6 backend");
	ASSERT_ORDER(out, "10.0.0.1:8080", "10.0.0.2:8080", "by id");
	ASSERT_ORDER(out, "[fd00::1:5]:5353", "10.0.0.9:80", "by id");
	line_of(out, "10.0.0.9:80 ", line, sizeof(line));
	ASSERT_HAS(line, " -  ", "no metadata shows '-'");
	ASSERT_HAS(line, "     0      -1", "no refs, signed active count");
	line_of(out, "10.0.0.1:8080", line, sizeof(line));
	ASSERT_HAS(line, "     1       3", "refs and active");
	ASSERT_TRUE(line[0] == ' ' && strstr(line, "1  10.0.0.1:8080  "),
		    "ids right-aligned");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' backend list",
			       f.dir),
		       0, "-j backend list"))
		goto out;
	ASSERT_JSON(out, "backend list");
	ASSERT_STREQ(out,
		     "[{\"id\":1,\"address\":\"10.0.0.1\",\"port\":8080,"
		     "\"workload\":\"default/reviews-v1\",\"refs\":1,\"active\":3},"
		     "{\"id\":2,\"address\":\"10.0.0.2\",\"port\":8080,"
		     "\"workload\":\"default/reviews-v1\",\"refs\":2,\"active\":0},"
		     "{\"id\":3,\"address\":\"10.0.0.3\",\"port\":8080,"
		     "\"workload\":\"default/reviews-v2\",\"refs\":2,\"active\":1},"
		     "{\"id\":5,\"address\":\"fd00::1:5\",\"port\":5353,"
		     "\"workload\":\"kube-system/coredns\",\"refs\":1,\"active\":0},"
		     "{\"id\":9,\"address\":\"10.0.0.9\",\"port\":80,"
		     "\"workload\":\"\",\"refs\":0,\"active\":-1}]\n",
		     "backends JSON");
out:
	fixture_teardown(&f);
}

WEFT_KERNEL_TEST(cli_stats)
{
	char out[16384], want[1024], line[512];
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
	ASSERT_HAS(out, "  SOURCE  ", "connections header");
	ASSERT_HAS(out, "  SENT_BYTES  RECEIVED_BYTES\n", "connections header");
	ASSERT_HAS(out, "lb_hit", "counter name");
	ASSERT_HAS(out, "lb_cluster_missing", "v2 counter name");
	ASSERT_HAS(out, "lb_passthrough", "v2 counter name");
	ASSERT_HAS(out, "revnat_update_fail", "counter name");
	ASSERT_ORDER(out, "kube-dns.", "reviews.", "sorted by host");
	ASSERT_ORDER(out, "NO_BACKEND", "RECEIVED_BYTES",
		     "services, then connections");
	ASSERT_ORDER(out, "RECEIVED_BYTES", "COUNTER",
		     "connections, then counters");
	line_of(out, "10.1.0.6", line, sizeof(line));
	ASSERT_HAS(line, FIX_REVIEWS "  10.96.0.10:9080/tcp  10.0.0.3:8080",
		   "connection: host, service, backend");
	ASSERT_HAS(line, "default/reviews-v2  10.1.0.6", "workload, source");
	ASSERT_TRUE(strlen(line) > 2 &&
			    !strcmp(line + strlen(line) - 2, " 0"),
		    "received bytes last");
	line_of(out, "#42", line, sizeof(line));
	ASSERT_HAS(line, "10.96.0.10:9443/tcp  #42  ", "gone backend by id");
	ASSERT_ORDER(out, "10.1.0.6", "#42", "connections in service order");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' stats", f.dir), 0,
		       "-j stats"))
		goto out;
	ASSERT_JSON(out, "stats");
	ASSERT_TRUE(!strncmp(out, "{\"services\":[{", 14), "stats shape");
	snprintf(want, sizeof(want),
		 "{\"id\":1,\"host\":\"" FIX_REVIEWS "\","
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
		 "\"connections\":["
		 "{\"service_id\":1,\"host\":\"" FIX_REVIEWS "\","
		 "\"backend_id\":1,\"backend_address\":\"10.0.0.1\","
		 "\"backend_port\":8080,\"workload\":\"default/reviews-v1\","
		 "\"source\":\"10.1.0.5\",\"opened\":%llu,\"closed\":%llu,"
		 "\"sent_bytes\":%llu,\"received_bytes\":%llu},"
		 "{\"service_id\":1,\"host\":\"" FIX_REVIEWS "\","
		 "\"backend_id\":3,\"backend_address\":\"10.0.0.3\","
		 "\"backend_port\":8080,\"workload\":\"default/reviews-v2\","
		 "\"source\":\"10.1.0.6\",\"opened\":1,\"closed\":0,"
		 "\"sent_bytes\":0,\"received_bytes\":0},"
		 "{\"service_id\":4,\"host\":\"" FIX_REVIEWS "\","
		 "\"backend_id\":42,\"backend_address\":null,"
		 "\"backend_port\":null,\"workload\":\"\","
		 "\"source\":\"10.1.0.5\",\"opened\":%llu,\"closed\":%llu,"
		 "\"sent_bytes\":%llu,\"received_bytes\":%llu}],",
		 2 * n, n, 100 * n + n * (n - 1) / 2, 1000 * n, n, n, 10 * n,
		 20 * n);
	ASSERT_HAS(out, want, "connections summed over CPUs");
	snprintf(want, sizeof(want),
		 "\"counters\":{\"lb_hit\":%llu,\"lb_no_backend\":%llu,"
		 "\"lb_slot_missing\":0,\"lb_backend_missing\":0,"
		 "\"lb_cluster_missing\":0,\"lb_passthrough\":%llu,"
		 "\"revnat_hit\":%llu,\"revnat_update_fail\":0,"
		 "\"policy_stats_full\":0,\"policy_events_lost\":0},",
		 10 * n, n, 2 * n, 3 * n);
	ASSERT_HAS(out, want, "counters");
	/* no acceleration maps pinned in the fixture: the last member */
	ASSERT_HAS(out, "\"acceleration\":null}\n", "acceleration absent");
	log_bpftool(&f, "weft_tcp_stats");
out:
	fixture_teardown(&f);
}

/* The policy part of `weft stats`: fixture_fill_policy() summed. */
WEFT_KERNEL_TEST(cli_stats_policies)
{
	char *out = malloc(CLI_OUT_MAX), *want = malloc(CLI_OUT_MAX);
	char *got = malloc(CLI_OUT_MAX);
	unsigned long long n;
	struct fixture f;

	if (!ASSERT_NOT_NULL(out, "malloc") || !ASSERT_NOT_NULL(want, "malloc") ||
	    !ASSERT_NOT_NULL(got, "malloc"))
		goto free;
	if (!fixture_setup(&f, 0))
		goto free;
	n = (unsigned long long)f.ncpus;
	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-p '%s' stats", f.dir), 0,
		       "stats"))
		goto out;
	ASSERT_ORDER(out, "\nCOUNTER ", "\nPOLICY ", "counters, then policies");
	ASSERT_HAS(out, "\nPOLICY                ACTION               ALLOW  DENY  AUDIT\n"
			"    POINT    ALLOW  DENY  AUDIT\n",
		   "policy headers, points indented");
	/* Sorted by namespace and name, gone ones by id, "(none)" last;
	 * a point shown only when it saw something. */
	snprintf(want, CLI_OUT_MAX,
		 "POLICY ACTION ALLOW DENY AUDIT\n"
		 "POINT ALLOW DENY AUDIT\n"
		 "istio-system/dry-run DENY (not enforced) 0 0 0\n"
		 "shop/audit-evil AUDIT 0 0 %llu\n"
		 "inbound 0 0 %llu\n"
		 "shop/cart-allow ALLOW %llu 0 0\n"
		 "inbound %llu 0 0\n"
		 "connect %llu 0 0\n"
		 "shop/web-deny DENY 0 %llu 0\n"
		 "inbound 0 %llu 0\n"
		 "#7 - 0 %llu 0\n"
		 "connect 0 %llu 0\n"
		 "(none) - %llu %llu 0\n"
		 "inbound 0 %llu 0\n"
		 "connect %llu 0 0\n"
		 "\n"
		 "REASON INBOUND CONNECT TOTAL\n"
		 "no-policy 0 0 0\n"
		 "not-enforced 0 0 0\n"
		 "no-allow-policy 0 %llu %llu\n"
		 "allow-match %llu %llu %llu\n"
		 "deny-match %llu %llu %llu\n"
		 "no-allow-match %llu 0 %llu\n"
		 "allow-l7-only 0 0 0\n"
		 "custom-unsupported 0 0 0\n"
		 "no-entry 0 0 0\n",
		 2 * n, 2 * n, 6 * n, 5 * n, n, 3 * n, 3 * n, n, n, 4 * n,
		 2 * n, 2 * n, 4 * n, 4 * n, 4 * n, 5 * n, n, 6 * n, 3 * n, n,
		 4 * n, 2 * n, 2 * n);
	ASSERT_STREQ(squeeze_from(out, "POLICY ", got, CLI_OUT_MAX), want,
		     "policies and reasons, summed over CPUs and points");

	if (!ASSERT_EQ(run_cli(out, CLI_OUT_MAX, "-j -p '%s' stats", f.dir), 0,
		       "-j stats"))
		goto out;
	ASSERT_JSON(out, "stats");
#define J_COUNTS(a, d, u) "\"allow\":" a ",\"deny\":" d ",\"audit\":" u
#define J_POINTS(ia, id, iu, ca, cd, cu)                                       \
	J_COUNTS("%llu", "%llu", "%llu") ",\"inbound\":{" J_COUNTS(ia, id, iu) \
	"},\"connect\":{" J_COUNTS(ca, cd, cu) "}}"
	snprintf(want, CLI_OUT_MAX,
		 "\"policies\":["
		 "{\"id\":4,\"namespace\":\"istio-system\",\"name\":\"dry-run\","
		 "\"action\":\"DENY\",\"enforced\":false,\"rules\":0,"
		 J_POINTS("0", "0", "0", "0", "0", "0") ","
		 "{\"id\":3,\"namespace\":\"shop\",\"name\":\"audit-evil\","
		 "\"action\":\"AUDIT\",\"enforced\":true,\"rules\":1,"
		 J_POINTS("0", "0", "%llu", "0", "0", "0") ","
		 "{\"id\":2,\"namespace\":\"shop\",\"name\":\"cart-allow\","
		 "\"action\":\"ALLOW\",\"enforced\":true,\"rules\":2,"
		 J_POINTS("%llu", "0", "0", "%llu", "0", "0") ","
		 "{\"id\":1,\"namespace\":\"shop\",\"name\":\"web-deny\","
		 "\"action\":\"DENY\",\"enforced\":true,\"rules\":1,"
		 J_POINTS("0", "%llu", "0", "0", "0", "0") ","
		 "{\"id\":7,\"namespace\":null,\"name\":null,\"action\":null,"
		 "\"enforced\":null,\"rules\":null,"
		 J_POINTS("0", "0", "0", "0", "%llu", "0") ","
		 "{\"id\":null,\"namespace\":null,\"name\":null,\"action\":null,"
		 "\"enforced\":null,\"rules\":null,"
		 J_POINTS("0", "%llu", "0", "%llu", "0", "0") "],"
		 "\"policy_reasons\":["
		 "{\"reason\":\"no-policy\",\"inbound\":0,\"connect\":0,\"total\":0},"
		 "{\"reason\":\"not-enforced\",\"inbound\":0,\"connect\":0,\"total\":0},"
		 "{\"reason\":\"no-allow-policy\",\"inbound\":0,\"connect\":%llu,\"total\":%llu},"
		 "{\"reason\":\"allow-match\",\"inbound\":%llu,\"connect\":%llu,\"total\":%llu},"
		 "{\"reason\":\"deny-match\",\"inbound\":%llu,\"connect\":%llu,\"total\":%llu},"
		 "{\"reason\":\"no-allow-match\",\"inbound\":%llu,\"connect\":0,\"total\":%llu},"
		 "{\"reason\":\"allow-l7-only\",\"inbound\":0,\"connect\":0,\"total\":0},"
		 "{\"reason\":\"custom-unsupported\",\"inbound\":0,\"connect\":0,\"total\":0},"
		 "{\"reason\":\"no-entry\",\"inbound\":0,\"connect\":0,\"total\":0}],",
		 0ull, 0ull, 0ull,
		 0ull, 0ull, 2 * n, 2 * n,
		 6 * n, 0ull, 0ull, 5 * n, n,
		 0ull, 3 * n, 0ull, 3 * n,
		 0ull, n, 0ull, n,
		 4 * n, 2 * n, 0ull, 2 * n, 4 * n,
		 4 * n, 4 * n, 5 * n, n, 6 * n, 3 * n, n, 4 * n, 2 * n, 2 * n);
#undef J_POINTS
#undef J_COUNTS
	ASSERT_HAS(out, want, "policies JSON, the same sums");
	log_bpftool(&f, "weft_policy_stats");
out:
	fixture_teardown(&f);
free:
	free(out);
	free(want);
	free(got);
}

/* weftd's /metrics from the same maps: one series per weft_policy_stats row. */
WEFT_KERNEL_TEST(cli_metrics_policy)
{
	struct datapath_maps maps;
	struct agent_metrics m = { .maps = &maps, .node_name = "node-test",
				   .trust_domain = "cluster.local" };
	unsigned long long n;
	char *text = NULL, want[4096];
	struct fixture f;
	size_t len = 0;
	FILE *out;

	if (!fixture_setup(&f, 0))
		return;
	n = (unsigned long long)f.ncpus;
	if (!ASSERT_OK(datapath_maps_open(f.dir, &maps), "open the maps"))
		goto out;
	out = open_memstream(&text, &len);
	if (ASSERT_NOT_NULL(out, "open_memstream")) {
		ASSERT_OK(metrics_render(out, &m), "metrics_render");
		fclose(out);
	}
	datapath_maps_close(&maps);
	if (!text)
		goto out;
	test_log("%s", text);
	ASSERT_HAS(text,
		   "# TYPE weft_policy_generation gauge\nweft_policy_generation 42\n",
		   "generation of the tables");
	ASSERT_HAS(text, "# TYPE weft_policies gauge\nweft_policies 4\n",
		   "policies installed");
	ASSERT_HAS(text, "weft_datapath_events_total{event=\"policy_events_lost\"} 0\n",
		   "events lost");
	/* Sorted by labels: no policy (""), then by namespace and name,
	 * a policy gone from weft_policy_meta as "#id" in "unknown". */
#define P_SERIES(ns, name, action, reason, point, audit)                      \
	"weft_policy_connections_total{policy_namespace=\"" ns "\",policy=\""  \
	name "\",action=\"" action "\",reason=\"" reason "\",point=\"" point  \
	"\",audit=\"" audit "\"} %llu\n"
	snprintf(want, sizeof(want),
		 "# TYPE weft_policy_connections_total counter\n"
		 P_SERIES("", "", "allow", "no-allow-policy", "connect", "false")
		 P_SERIES("", "", "deny", "no-allow-match", "inbound", "false")
		 P_SERIES("shop", "audit-evil", "deny", "no-allow-match", "inbound",
			  "true")
		 P_SERIES("shop", "cart-allow", "allow", "allow-match", "connect",
			  "false")
		 P_SERIES("shop", "cart-allow", "allow", "allow-match", "inbound",
			  "false")
		 P_SERIES("shop", "web-deny", "deny", "deny-match", "inbound",
			  "false")
		 P_SERIES("unknown", "#7", "deny", "deny-match", "connect", "false")
		 "# HELP ",
		 4 * n, 2 * n, 2 * n, n, 5 * n, 3 * n, n);
#undef P_SERIES
	ASSERT_HAS(text, want, "weft_policy_connections_total, summed over CPUs");
	free(text);
out:
	fixture_teardown(&f);
}

/*
 * The fixture for a walk through its maps with bpftool and jq, the maps
 * directory into maps.  False when the walk cannot run (skipped, or set-up
 * failed); else tear the fixture down after.
 */
static bool bpftool_walk_setup(struct fixture *f, char *out, char *maps,
			       size_t len)
{
	if (run_sh(out, CLI_OUT_MAX,
		   "command -v bpftool >/dev/null && command -v jq >/dev/null")) {
		test_skip("needs bpftool and jq");
		return false;
	}
	if (!fixture_setup(f, 0))
		return false;
	if (!f->btf) {
		test_skip("no BTF: bpftool shows raw bytes only");
		fixture_teardown(f);
		return false;
	}
	snprintf(maps, len, "%s/%s", f->dir, WEFT_PIN_MAPS_DIR);
	return true;
}

/*
 * docs/debugging.md follows a VIP through the maps with bpftool; the same
 * commands run here against the fixture, so the guide stays true.
 */
#define JQ_TCP_STATS                                                         \
	"jq -c '.[].formatted | {service: .key.service_id, "                 \
	"backend: .key.backend_id, source: (.key.source.b[12:] | join(\".\")), " \
	"opened: ([.values[].value.opened] | add), "                         \
	"closed: ([.values[].value.closed] | add), "                         \
	"sent_bytes: ([.values[].value.sent_bytes] | add), "                 \
	"received_bytes: ([.values[].value.received_bytes] | add)}'"

WEFT_KERNEL_TEST(cli_bpftool_walk)
{
	char *out = malloc(CLI_OUT_MAX), want[512];
	unsigned long long n;
	struct fixture f;
	char maps[256];

	if (!ASSERT_NOT_NULL(out, "malloc") ||
	    !bpftool_walk_setup(&f, out, maps, sizeof(maps))) {
		free(out);
		return;
	}
	n = (unsigned long long)f.ncpus;

	/* 10.96.0.10:9080/tcp: the VIP IPv4-mapped, the port in network
	 * order, the protocol, 5 bytes of padding. */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_services key hex "
			 "00 00 00 00 00 00 00 00 00 00 ff ff 0a 60 00 0a "
			 "23 78 06 00 00 00 00 00",
			 maps),
		  0, "route of 10.96.0.10:9080/tcp");
	ASSERT_HAS(out, "\"service_id\": 1,", "service id");
	ASSERT_HAS(out, "\"ndests\": 2,", "two destinations");
	ASSERT_HAS(out, "\"weight_total\": 100,", "weight total");
	ASSERT_HAS(out, "\"cluster_id\": 1,\n                \"weight_end\": 80",
		   "v1 up to 80");
	ASSERT_HAS(out, "\"cluster_id\": 2,\n                \"weight_end\": 100",
		   "v2 up to 100");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_clusters key 1 0 0 0",
			 maps),
		  0, "cluster 1");
	ASSERT_HAS(out, "\"count\": 3,\n        \"policy\": 0,", "3 slots");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_cluster_meta key 1 0 0 0",
			 maps),
		  0, "cluster 1 name");
	ASSERT_HAS(out, "\"name\": \"" FIX_V1 "\"", "name");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_cluster_slots "
			 "key 1 0 0 0 0 0 0 0",
			 maps),
		  0, "cluster 1 slot 0");
	ASSERT_HAS(out, "\"value\": 1\n", "backend 1");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map dump pinned %s/weft_cluster_slots | "
			 "jq -c '[.[].formatted | select(.key.cluster_id == 1)] | "
			 "sort_by(.key.slot) | map(.value)'",
			 maps),
		  0, "all slots of cluster 1");
	ASSERT_STREQ(out, "[1,2,1]\n", "slot order");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_backends key 1 0 0 0",
			 maps),
		  0, "backend 1");
	ASSERT_HAS(out, "255,255,10,0,0,1\n", "10.0.0.1");
	ASSERT_HAS(out, "\"port\": 36895,", "8080 in network order");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_backend_active key 1 0 0 0",
			 maps),
		  0, "backend 1 active");
	ASSERT_HAS(out, "\"value\": 3\n", "3 connections");
	/* Table 3 starts at 3 * WEFT_MAGLEV_SIZE, little-endian. */
	ASSERT_EQ(3 * WEFT_MAGLEV_SIZE, 0x2ff7, "maglev index in the guide");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_maglev key 0xf7 0x2f 0 0",
			 maps),
		  0, "maglev table 3, entry 0");
	ASSERT_HAS(out, "\"value\": 2\n", "backend 2");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map dump pinned %s/weft_tcp_stats | " JQ_TCP_STATS,
			 maps),
		  0, "tcp stats summed");
	snprintf(want, sizeof(want),
		 "{\"service\":1,\"backend\":1,\"source\":\"10.1.0.5\","
		 "\"opened\":%llu,\"closed\":%llu,\"sent_bytes\":%llu,"
		 "\"received_bytes\":%llu}\n",
		 2 * n, n, 100 * n + n * (n - 1) / 2, 1000 * n);
	ASSERT_HAS(out, want, "as weft stats sums them");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map dump pinned %s/weft_counters | "
			 "jq -c '[.[].formatted | {key, total: ([.values[].value] | add)}]'",
			 maps),
		  0, "counters summed");
	snprintf(want, sizeof(want),
		 "[{\"key\":0,\"total\":%llu},{\"key\":1,\"total\":%llu},"
		 "{\"key\":2,\"total\":0},{\"key\":3,\"total\":0},"
		 "{\"key\":4,\"total\":0},{\"key\":5,\"total\":%llu},"
		 "{\"key\":6,\"total\":%llu},{\"key\":7,\"total\":0},"
		 "{\"key\":8,\"total\":0},{\"key\":9,\"total\":0}]\n",
		 10 * n, n, 2 * n, 3 * n);
	ASSERT_STREQ(out, want, "as weft stats sums them");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map lookup pinned %s/weft_service_stats key 1 0 0 0 | "
			 "jq -c '.formatted.values | map(.value) | "
			 "{connects: (map(.connects) | add), "
			 "datagrams: (map(.datagrams) | add), "
			 "no_backend: (map(.no_backend) | add)}'",
			 maps),
		  0, "service stats summed");
	snprintf(want, sizeof(want),
		 "{\"connects\":%llu,\"datagrams\":0,\"no_backend\":0}\n",
		 n * (n + 1) / 2);
	ASSERT_STREQ(out, want, "as weft stats sums them");
	run_sh(out, CLI_OUT_MAX,
	       "bpftool map lookup pinned %s/weft_rr_state key 1 0 0 0", maps);
	fixture_teardown(&f);
	free(out);
}

/*
 * docs/debugging.md, "Authorization policy": the verdict of 10.20.0.5 ->
 * 10.10.1.2:8080/tcp looked up by hand, one map at a time, and the
 * counters summed with jq, against fixture_fill_policy().
 */
#define JQ_POLICY_STATS                                                      \
	"jq -c '.[].formatted | {policy: .key.policy, point: .key.point, "    \
	"action: .key.action, reason: .key.reason, audit: .key.audit, "       \
	"total: ([.values[].value] | add)}' | LC_ALL=C sort"
#define HEX_V4(a, b, c, d) "00 00 00 00 00 00 00 00 00 00 ff ff " a " " b " " c " " d

WEFT_KERNEL_TEST(cli_bpftool_policy_walk)
{
	char *out = malloc(CLI_OUT_MAX), want[1024];
	unsigned long long n;
	struct fixture f;
	char maps[256];

	if (!ASSERT_NOT_NULL(out, "malloc") ||
	    !bpftool_walk_setup(&f, out, maps, sizeof(maps))) {
		free(out);
		return;
	}
	n = (unsigned long long)f.ncpus;

	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map dump pinned %s/weft_policy_config", maps),
		  0, "config");
	ASSERT_HAS(out, "\"active_gen\": 1,", "generation 1 in force");
	ASSERT_HAS(out, "\"nsets\": 1,", "one set");
	ASSERT_HAS(out, "\"generation\": 42\n", "config generation");
	/* 1. the destination's set, in generation 1 */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_dst key hex "
			 HEX_V4("0a", "0a", "01", "02") " 01 00 00 00 00 00 00 00",
			 maps),
		  0, "dst 10.10.1.2, gen 1");
	ASSERT_HAS(out, "\"set_id\": 2147483649,", "set 1 | gen bit");
	/* 2. the source's identity */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_ident key hex "
			 HEX_V4("0a", "14", "00", "05") " 01 00 00 00 00 00 00 00",
			 maps),
		  0, "ident 10.20.0.5, gen 1");
	ASSERT_HAS(out, "\"identity\": 2147483649,", "identity 1 | gen bit");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_ident_meta "
			 "key hex 01 00 00 80", maps),
		  0, "who that is");
	ASSERT_HAS(out, "\"principal\": \"" FIX_FRONT "\"", "frontend");
	/* 3. its identity class in the set */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_src_ident "
			 "key hex 01 00 00 80 01 00 00 80", maps),
		  0, "src_ident");
	ASSERT_HAS(out, "\"class_id\": 1,", "identity class 1");
	/* 4. its address class: an LPM lookup with the full 32 + 128 bits */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_src_net "
			 "key hex a0 00 00 00 01 00 00 80 " HEX_V4("0a", "14", "00", "05"),
			 maps),
		  0, "src_net");
	ASSERT_HAS(out, "\"class_id\": 0,", "address class 0");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map dump pinned %s/weft_policy_src_net | "
			 "jq -c '.[].formatted | {prefixlen: .key.prefixlen, "
			 "set_id: .key.set_id, class_id: .value.class_id}'",
			 maps),
		  0, "src_net prefixes");
	ASSERT_STREQ(out,
		     "{\"prefixlen\":32,\"set_id\":2147483649,\"class_id\":0}\n",
		     "::/0 alone");
	/* 5. the verdict for port 8080/tcp */
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_verdict "
			 "key hex 01 00 00 80 01 00 00 00 00 00 00 00 1f 90 06 00",
			 maps),
		  0, "verdict");
	ASSERT_HAS(out, "\"action\": 0,\n        \"reason\": 4,", "deny, deny-match");
	ASSERT_HAS(out, "\"policy\": 1,\n        \"rule\": 0,", "policy 1 rule 0");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool map lookup pinned %s/weft_policy_meta key 1 0 0 0",
			 maps),
		  0, "policy 1");
	ASSERT_HAS(out, "\"ns\": \"shop\",\n        \"name\": \"web-deny\",",
		   "shop/web-deny");
	ASSERT_EQ(run_sh(out, CLI_OUT_MAX,
			 "bpftool -j map dump pinned %s/weft_policy_stats | "
			 JQ_POLICY_STATS, maps),
		  0, "stats summed");
	snprintf(want, sizeof(want),
		 "{\"policy\":1,\"point\":0,\"action\":0,\"reason\":4,\"audit\":0,\"total\":%llu}\n"
		 "{\"policy\":2,\"point\":0,\"action\":1,\"reason\":3,\"audit\":0,\"total\":%llu}\n"
		 "{\"policy\":2,\"point\":1,\"action\":1,\"reason\":3,\"audit\":0,\"total\":%llu}\n"
		 "{\"policy\":3,\"point\":0,\"action\":0,\"reason\":5,\"audit\":1,\"total\":%llu}\n"
		 "{\"policy\":4294967295,\"point\":0,\"action\":0,\"reason\":5,\"audit\":0,\"total\":%llu}\n"
		 "{\"policy\":4294967295,\"point\":1,\"action\":1,\"reason\":2,\"audit\":0,\"total\":%llu}\n"
		 "{\"policy\":7,\"point\":1,\"action\":0,\"reason\":4,\"audit\":0,\"total\":%llu}\n",
		 3 * n, 5 * n, n, 2 * n, 2 * n, 4 * n, n);
	ASSERT_STREQ(out, want, "as weft stats sums them");
	fixture_teardown(&f);
	free(out);
}

WEFT_KERNEL_TEST(cli_status)
{
	char out[4096], missing[PATH_MAX + 16], want[512];
	struct weft_agent_state st;
	struct fixture f;
	__u32 zero = 0;
	FILE *cfg;
	int fd;

	if (!fixture_setup(&f, 0))
		return;
	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' status", f.dir), 0,
		       "status"))
		goto out;
	ASSERT_HAS(out, "node-test", "node");
	ASSERT_HAS(out, "generation:   42", "generation");
	snprintf(want, sizeof(want), "abi version:  %d\n", WEFT_ABI_VERSION);
	ASSERT_HAS(out, want, "abi version");
	ASSERT_HAS(out, "services:     5\n", "services");
	ASSERT_HAS(out, "2023-11-14T22:13:20Z", "applied at");
	ASSERT_HAS(out, "rejected:     0\n", "nothing rejected");
	ASSERT_FALSE(strstr(out, "reason:"), "no reason");

	if (!ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' statu", f.dir), 0,
		       "-j statu"))
		goto out;
	snprintf(want, sizeof(want),
		 "{\"installed\":true,\"node\":\"node-test\","
		 "\"generation\":42,\"applied_at\":\"2023-11-14T22:13:20Z\","
		 "\"abi_version\":%d,\"services\":5,\"backends\":5,"
		 "\"rejected_total\":0,\"rejected_at\":null,"
		 "\"rejected_reason\":null}\n",
		 WEFT_ABI_VERSION);
	ASSERT_STREQ(out, want, "status JSON");

	/* The agent refused the newest config: status says so, and why. */
	if (!ASSERT_OK(bpf_map_lookup_elem(map_fd(&f, "weft_agent_state"), &zero,
					   &st),
		       "read agent state"))
		goto out;
	st.rejected_ns = (1700000000ull + 60) * 1000000000ull;
	st.rejected_total = 2;
	snprintf(st.rejected_reason, sizeof(st.rejected_reason),
		 "mesh/reviews.yaml:12: VirtualService default/reviews:\n"
		 "every route weight is 0");
	if (!ASSERT_OK(bpf_map_update_elem(map_fd(&f, "weft_agent_state"), &zero,
					   &st, BPF_ANY),
		       "record a rejection"))
		goto out;
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' status", f.dir), 0,
		  "status, rejected");
	ASSERT_HAS(out,
		   "rejected:     2\n"
		   "rejected at:  2023-11-14T22:14:20Z\n"
		   "reason:       mesh/reviews.yaml:12: VirtualService "
		   "default/reviews:?every route weight is 0\n",
		   "rejection, control bytes shown as '?'");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' status", f.dir), 0,
		  "-j status, rejected");
	ASSERT_JSON(out, "status, rejected");
	ASSERT_HAS(out,
		   "\"rejected_total\":2,\"rejected_at\":\"2023-11-14T22:14:20Z\","
		   "\"rejected_reason\":\"mesh/reviews.yaml:12: VirtualService "
		   "default/reviews:\\nevery route weight is 0\"}\n",
		   "rejection JSON");

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
	ASSERT_HAS(out, "/" WEFT_PIN_MAPS_DIR "/weft_services\n", "map");
	ASSERT_ORDER(out, "/links/weft_connect4", "/" WEFT_PIN_MAPS_DIR "/weft_agent_state",
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
	snprintf(path, sizeof(path), "{\"removed\":[\"%s/" WEFT_PIN_MAPS_DIR "/weft_agent_state\"",
		 f.dir);
	ASSERT_HAS(out, path, "sorted paths");
	snprintf(path, sizeof(path), "\"%s/" WEFT_PIN_MAPS_DIR "\",\"%s\"]}\n",
		 f.dir, f.dir);
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
	char out[4096], want[512];
	struct fixture f;

	if (!fixture_setup(&f, FIX_NO_DATA))
		return;
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' service list", f.dir),
		  0, "empty list");
	ASSERT_STREQ(out, "[]\n", "empty JSON array");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' cluster list", f.dir),
		  0, "empty cluster list");
	ASSERT_STREQ(out, "[]\n", "empty JSON array");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' backend list", f.dir), 0,
		  "empty text");
	ASSERT_STREQ(out, "ID  ADDRESS  WORKLOAD  REFS  ACTIVE\n", "header only");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' service list", f.dir), 0,
		  "empty service text");
	ASSERT_STREQ(out,
		     "HOST  NAMESPACE  SERVICE  BACKENDS  ROUTE\n"
		     "    SHARE  CLUSTER  POLICY  ENDPOINTS\n",
		     "both headers only");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' stats", f.dir), 0,
		  "empty stats");
	ASSERT_HAS(out, "\"connections\":[],\"counters\":{\"lb_hit\":0,",
		   "no connection");
	/* No policy: the default row alone, every reason at 0. */
	ASSERT_HAS(out,
		   "\"policies\":[{\"id\":null,\"namespace\":null,\"name\":null,"
		   "\"action\":null,\"enforced\":null,\"rules\":null,"
		   "\"allow\":0,\"deny\":0,\"audit\":0,",
		   "no policy");
	ASSERT_HAS(out, "{\"reason\":\"no-entry\",\"inbound\":0,\"connect\":0,"
			"\"total\":0}],\"acceleration\":null}\n",
		   "reasons at 0, then no acceleration");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' status", f.dir), 0,
		  "status, never applied");
	ASSERT_HAS(out, "\"applied_at\":null", "never applied");
	fixture_teardown(&f);

	/* The type is checked too: a weft_tcp_stats that is not per-CPU. */
	if (!fixture_setup_bad(&f, FIX_NO_DATA | FIX_BAD_TYPE, "weft_tcp_stats"))
		return;
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' stats 2>&1", f.dir), 1,
		  "wrong map type");
	snprintf(want, sizeof(want),
		 "weft: error: %s/" WEFT_PIN_MAPS_DIR "/weft_tcp_stats: type %d key %zu value %zu "
		 "bytes, this weft (ABI %d) expects type %d key %zu value %zu; "
		 "use the weft of the running weftd\n",
		 f.dir, BPF_MAP_TYPE_LRU_HASH, sizeof(struct weft_tcp_stats_key),
		 sizeof(struct weft_tcp_stats), WEFT_ABI_VERSION,
		 BPF_MAP_TYPE_LRU_PERCPU_HASH, sizeof(struct weft_tcp_stats_key),
		 sizeof(struct weft_tcp_stats));
	ASSERT_STREQ(out, want, "type mismatch explained");
	fixture_teardown(&f);
}

/* Every pinned map is checked before anything is read. */
WEFT_KERNEL_TEST(cli_layout_check_every_map)
{
	char out[4096], want[256];
	struct fixture f;

	for (size_t i = 0; i < NMAPS; i++) {
		if (!fixture_setup_bad(&f, FIX_NO_DATA | FIX_BAD_SIZE,
				       map_defs[i].name))
			return;
		ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' status", f.dir),
			  1, map_defs[i].name);
		ASSERT_JSON(out, "layout error");
		snprintf(want, sizeof(want), "{\"error\":\"%s/" WEFT_PIN_MAPS_DIR "/%s: type ",
			 f.dir, map_defs[i].name);
		ASSERT_HAS(out, want, "names the map");
		fixture_teardown(&f);
	}
}

/* Usage errors need no datapath. */
WEFT_TEST(cli_usage_errors)
{
	char out[4096], want[64];

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
	ASSERT_EQ(run_cli(out, sizeof(out), "-j c frob"), 2,
		  "unknown cluster command");
	ASSERT_HAS(out, "unknown cluster command 'frob' (one of: list, help)",
		   "c is cluster");
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
	ASSERT_HAS(out, "cluster list", "help text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-h"), 0, "-h");
	ASSERT_HAS(out, "Usage: weft", "-h text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j h"), 0, "-j help");
	ASSERT_JSON(out, "help");
	ASSERT_EQ(run_cli(out, sizeof(out), "ve"), 0, "version");
	ASSERT_HAS(out, "weft ", "version text");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j version"), 0, "-j version");
	snprintf(want, sizeof(want), "\"abi_version\":%d,", WEFT_ABI_VERSION);
	ASSERT_HAS(out, want, "version JSON");
}

/* ---- weft monitor ----------------------------------------------------------- */

/*
 * Queue ev in the ring buffer ring_fd as the datapath does: a socket
 * filter that copies it from its stack with bpf_ringbuf_output(), run once
 * through BPF_PROG_TEST_RUN.  0 or a negative errno.
 */
static int ring_write(int ring_fd, const struct weft_policy_event *ev)
{
	__u64 words[sizeof(*ev) / 8];
	const int size = (int)sizeof(words);
	struct bpf_insn insns[3 * sizeof(words) / 8 + 8], *i = insns;
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int fd, err;

	_Static_assert(sizeof(*ev) % 8 == 0, "event in whole words");
	memcpy(words, ev, sizeof(words));
	for (int w = 0; w < size / 8; w++) {
		/* r1 = words[w]; *(u64 *)(r10 - size + 8w) = r1 */
		*i++ = (struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM,
					  .dst_reg = BPF_REG_1,
					  .imm = (__s32)(__u32)words[w] };
		*i++ = (struct bpf_insn){ .imm = (__s32)(words[w] >> 32) };
		*i++ = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | BPF_DW,
					  .dst_reg = BPF_REG_10,
					  .src_reg = BPF_REG_1,
					  .off = (__s16)(8 * w - size) };
	}
	/* return bpf_ringbuf_output(ring, r10 - size, size, 0) */
	*i++ = (struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM,
				  .dst_reg = BPF_REG_1,
				  .src_reg = BPF_PSEUDO_MAP_FD, .imm = ring_fd };
	*i++ = (struct bpf_insn){ 0 };
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X,
				  .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 };
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_ADD | BPF_K,
				  .dst_reg = BPF_REG_2, .imm = -size };
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K,
				  .dst_reg = BPF_REG_3, .imm = size };
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K,
				  .dst_reg = BPF_REG_4, .imm = 0 };
	*i++ = (struct bpf_insn){ .code = BPF_JMP | BPF_CALL,
				  .imm = BPF_FUNC_ringbuf_output };
	*i++ = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "weft_test_event",
			   "GPL", insns, (size_t)(i - insns), NULL);
	if (fd < 0)
		return fd;
	err = bpf_prog_test_run_opts(fd, &run);
	close(fd);
	return err ?: (int)run.retval;
}

/*
 * Three events, their wall-clock time at .5 of the second before now
 * (its prefix "YYYY-MM-DDTHH:MM:SS." into when): the monitor's conversion
 * from CLOCK_MONOTONIC lands within microseconds of it, so in that second
 * whatever the fraction shows.
 *   0: inbound DENY, deny-match by shop/web-deny rule 0, from frontend
 *   1: connect DENY + AUDIT shop/audit-evil rule 0, no-allow-match by no
 *      policy, IPv6, from the intruder (an identity of generation 1)
 *   2: inbound ALLOW + AUDIT, allow-match by policy 7 (gone) rule 1, UDP,
 *      from identity 5 (no name: unknown)
 */
static void monitor_events(struct weft_policy_event ev[3], char *when,
			   size_t len)
{
	struct timespec mono, real;
	long long offset;
	time_t secs;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	offset = ((long long)real.tv_sec - mono.tv_sec) * 1000000000ll +
		 (real.tv_nsec - mono.tv_nsec);
	secs = real.tv_sec - 1;
	gmtime_r(&secs, &tm);
	strftime(when, len, "%Y-%m-%dT%H:%M:%S.", &tm);

	memset(ev, 0, 3 * sizeof(*ev));
	for (int i = 0; i < 3; i++) {
		ev[i].ktime_ns = (__u64)((long long)secs * 1000000000ll +
					 500000000ll - offset);
		ev[i].conn.proto = IPPROTO_TCP;
		ev[i].verdict.policy = ev[i].verdict.rule = WEFT_POLICY_NONE;
		ev[i].verdict.audit_policy = WEFT_POLICY_NONE;
		ev[i].verdict.audit_rule = WEFT_POLICY_NONE;
	}
	addr_v4(&ev[0].conn.src, "10.20.0.5");
	addr_v4(&ev[0].conn.dst, "10.10.1.2");
	ev[0].conn.sport = htons(43210);
	ev[0].conn.dport = htons(8080);
	ev[0].conn.point = WEFT_POLICY_POINT_INBOUND;
	ev[0].verdict.action = WEFT_POLICY_ACTION_DENY;
	ev[0].verdict.reason = WEFT_POLICY_REASON_DENY_MATCH;
	ev[0].verdict.policy = 1;
	ev[0].verdict.rule = 0;
	ev[0].src_identity = FIX_FRONT_ID;

	addr_v6(&ev[1].conn.src, "fd00:20::9");
	addr_v6(&ev[1].conn.dst, "fd00:10::10");
	ev[1].conn.sport = 0; /* connect(): no source port yet */
	ev[1].conn.dport = htons(7070);
	ev[1].conn.point = WEFT_POLICY_POINT_CONNECT;
	ev[1].verdict.action = WEFT_POLICY_ACTION_DENY;
	ev[1].verdict.reason = WEFT_POLICY_REASON_NO_ALLOW_MATCH;
	ev[1].verdict.flags = WEFT_POLICY_F_AUDIT;
	ev[1].verdict.audit_policy = 3;
	ev[1].verdict.audit_rule = 0;
	ev[1].src_identity = FIX_EVIL_ID;

	addr_v4(&ev[2].conn.src, "10.30.0.9");
	addr_v4(&ev[2].conn.dst, "10.10.1.10");
	ev[2].conn.sport = htons(1000);
	ev[2].conn.dport = htons(7070);
	ev[2].conn.proto = IPPROTO_UDP;
	ev[2].conn.point = WEFT_POLICY_POINT_INBOUND;
	ev[2].verdict.action = WEFT_POLICY_ACTION_ALLOW;
	ev[2].verdict.reason = WEFT_POLICY_REASON_ALLOW_MATCH;
	ev[2].verdict.flags = WEFT_POLICY_F_AUDIT;
	ev[2].verdict.policy = FIX_GONE_POLICY;
	ev[2].verdict.rule = 1;
	ev[2].verdict.audit_policy = 3;
	ev[2].verdict.audit_rule = 0;
	ev[2].src_identity = 5;
}

/* Queue the events of monitor_events() whose bit is set in which. */
static bool monitor_queue(const struct fixture *f,
			  const struct weft_policy_event ev[3],
			  unsigned int which)
{
	for (int i = 0; i < 3; i++)
		if ((which & 1u << i) &&
		    !ASSERT_OK(ring_write(map_fd(f, "weft_policy_events"), &ev[i]),
			       "queue an event"))
			return false;
	return true;
}

/* Each event as monitor prints it, after its time and a space / after
 * {"time":"<time>", */
static const char *const monitor_text_lines[3] = {
	"inbound DENY        10.20.0.5:43210 -> 10.10.1.2:8080 tcp "
	"identity=" FIX_FRONT " policy=shop/web-deny rule=0 reason=deny-match",
	"connect DENY+AUDIT  [fd00:20::9]:0 -> [fd00:10::10]:7070 tcp "
	"identity=" FIX_EVIL " policy=- rule=- audit=shop/audit-evil "
	"audit_rule=0 reason=no-allow-match",
	"inbound ALLOW+AUDIT 10.30.0.9:1000 -> 10.10.1.10:7070 udp "
	"identity=unknown policy=#7 rule=1 audit=shop/audit-evil audit_rule=0 "
	"reason=allow-match",
};

static const char *const monitor_json_lines[3] = {
	"\"point\":\"inbound\",\"action\":\"deny\",\"audit\":false,"
	"\"src\":\"10.20.0.5\",\"sport\":43210,\"dst\":\"10.10.1.2\","
	"\"dport\":8080,\"proto\":\"tcp\",\"identity\":\"" FIX_FRONT "\","
	"\"policy\":\"shop/web-deny\",\"rule\":0,\"audit_policy\":null,"
	"\"audit_rule\":null,\"reason\":\"deny-match\"}",
	"\"point\":\"connect\",\"action\":\"deny\",\"audit\":true,"
	"\"src\":\"fd00:20::9\",\"sport\":0,\"dst\":\"fd00:10::10\","
	"\"dport\":7070,\"proto\":\"tcp\",\"identity\":\"" FIX_EVIL "\","
	"\"policy\":null,\"rule\":null,\"audit_policy\":\"shop/audit-evil\","
	"\"audit_rule\":0,\"reason\":\"no-allow-match\"}",
	"\"point\":\"inbound\",\"action\":\"allow\",\"audit\":true,"
	"\"src\":\"10.30.0.9\",\"sport\":1000,\"dst\":\"10.10.1.10\","
	"\"dport\":7070,\"proto\":\"udp\",\"identity\":null,"
	"\"policy\":\"#7\",\"rule\":1,\"audit_policy\":\"shop/audit-evil\","
	"\"audit_rule\":0,\"reason\":\"allow-match\"}",
};

/*
 * out holds exactly the events of which (bits of monitor_events()
 * indexes), in order, one line each, text or JSON, each at time when.
 */
static void assert_monitor_lines(const char *out, bool json,
				 unsigned int which, const char *when,
				 const char *what)
{
	char want[1024], line[1024];
	const char *p = out;
	int lines = 0;

	for (int i = 0; i < 3; i++) {
		const char *nl;

		if (!(which & 1u << i))
			continue;
		lines++;
		nl = strchr(p, '\n');
		if (!ASSERT_NOT_NULL(nl, what))
			return;
		snprintf(line, sizeof(line), "%.*s\n", (int)(nl - p), p);
		p = nl + 1;
		if (json) {
			ASSERT_TRUE(json_well_formed(line), what);
			snprintf(want, sizeof(want), "{\"time\":\"%s", when);
			ASSERT_STREQ(strndupa(line, strlen(want)), want, what);
			/* {"time":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ", */
			snprintf(want, sizeof(want), "%s\n",
				 monitor_json_lines[i]);
			ASSERT_STREQ(line + 38, want, what);
		} else {
			ASSERT_STREQ(strndupa(line, strlen(when)), when, what);
			snprintf(want, sizeof(want), "%s\n",
				 monitor_text_lines[i]);
			ASSERT_STREQ(line + 28, want, what);
		}
	}
	ASSERT_STREQ(p, "", what);
	test_log("%s: %d lines as expected\n", what, lines);
}

/* A `weft monitor` running in the background, its stdout on a pipe. */
struct monitor_proc {
	pid_t pid;
	FILE *out;
};

/* `weft -p DIR monitor --count <count> --timeout 60`; false on failure. */
static bool monitor_start(const struct fixture *f, const char *count,
			  struct monitor_proc *m)
{
	char weft[PATH_MAX];
	int pfd[2];

	snprintf(weft, sizeof(weft), "%s/weft", test_build_dir());
	if (!ASSERT_OK(pipe(pfd) ? -errno : 0, "pipe"))
		return false;
	m->pid = fork();
	if (m->pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execl(weft, weft, "-p", f->dir, "monitor", "--count", count,
		      "--timeout", "60", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	m->out = m->pid > 0 ? fdopen(pfd[0], "r") : NULL;
	if (!ASSERT_GE(m->pid, 0, "fork") || !ASSERT_NOT_NULL(m->out, "fdopen")) {
		close(pfd[0]);
		return false;
	}
	return true;
}

/* Its next line into line ("" at EOF). */
static void monitor_line(struct monitor_proc *m, char *line, size_t len)
{
	if (!fgets(line, (int)len, m->out))
		line[0] = '\0';
}

/* Send sig (0: none), wait: the exit status, -1 when killed. */
static int monitor_stop(struct monitor_proc *m, int sig)
{
	int status = 0;

	if (sig)
		kill(m->pid, sig);
	waitpid(m->pid, &status, 0);
	fclose(m->out);
	test_log("monitor, signal %d: status %#x\n", sig, status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Arguments are checked before the datapath is opened. */
WEFT_TEST(cli_monitor_usage)
{
	char out[4096];

	ASSERT_EQ(run_cli(out, sizeof(out), "monitor help"), 0, "help");
	ASSERT_HAS(out, "Usage: weft [-j] [-p PIN_DIR] monitor", "help text");
	ASSERT_HAS(out, "One monitor per datapath", "one reader said");
	ASSERT_EQ(run_cli(out, sizeof(out), "help"), 0, "weft help");
	ASSERT_HAS(out, "  monitor [--deny|--audit] [--count N] [--timeout SECONDS]\n",
		   "in weft help");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --count 0"), 2,
		  "--count 0");
	ASSERT_STREQ(out,
		     "{\"error\":\"monitor: bad --count '0' (a number of events, 1 or more)\"}\n",
		     "JSON usage error");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --count=-1"), 2,
		  "--count=-1");
	ASSERT_HAS(out, "bad --count '-1'", "negative count");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --count"), 2,
		  "--count without a value");
	ASSERT_HAS(out, "--count needs a value", "missing value");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --count 1 --count 2"),
		  2, "--count twice");
	ASSERT_HAS(out, "monitor: --count given twice", "twice");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --timeout=-1"), 2,
		  "--timeout=-1");
	ASSERT_HAS(out, "bad --timeout '-1'", "negative timeout");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --timeout 1x"), 2,
		  "--timeout 1x");
	ASSERT_HAS(out, "bad --timeout '1x'", "bad timeout");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --timeout -1"), 2,
		  "--timeout -1");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --timeout nan"), 2,
		  "--timeout nan");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --deny --audit"), 2,
		  "--deny --audit");
	ASSERT_HAS(out, "--deny and --audit exclude each other", "exclusive");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j monitor --deny extra"), 2,
		  "extra word");
	ASSERT_HAS(out, "monitor: unexpected 'extra'", "extra word named");
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-p /sys/fs/bpf/weft-test-cli-none monitor --timeout 0 2>&1"),
		  1, "not installed");
	ASSERT_HAS(out, "weft: error: not installed", "not installed, text");
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -p /sys/fs/bpf/weft-test-cli-none monitor --timeout 0"),
		  1, "-j not installed");
	ASSERT_HAS(out, "{\"error\":\"not installed", "not installed, JSON");
}

WEFT_KERNEL_TEST(cli_monitor)
{
	char out[8192], when[64], maps[PATH_MAX + 16], line[1024];
	struct weft_policy_event ev[3];
	struct monitor_proc mon;
	struct fixture f;
	int lock;

	if (!fixture_setup(&f, 0))
		return;
	monitor_events(ev, when, sizeof(when));

	/* Nothing queued: --timeout ends it, --count not met is an error. */
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' monitor --timeout 0",
			  f.dir),
		  0, "empty, --timeout 0");
	ASSERT_STREQ(out, "", "nothing printed");
	ASSERT_EQ(run_cli(out, sizeof(out), "-j -p '%s' monitor --timeout 0.2",
			  f.dir),
		  0, "empty, --timeout 0.2");
	ASSERT_STREQ(out, "", "nothing printed");
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-p '%s' monitor --count 1 --timeout 0 2>&1", f.dir),
		  1, "--count not met");
	ASSERT_STREQ(out, "weft: error: monitor: timeout after 0 of 1 events\n",
		     "says so");

	/* --count takes the first two and leaves the third queued. */
	if (!monitor_queue(&f, ev, 0x7))
		goto out;
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -p '%s' monitor --count 2 --timeout 60", f.dir),
		  0, "-j --count 2");
	assert_monitor_lines(out, true, 0x3, when, "-j --count 2");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' monitor --timeout 0",
			  f.dir),
		  0, "the rest");
	assert_monitor_lines(out, false, 0x4, when, "text, the third");

	/* Filters: what they leave out is consumed all the same. */
	if (!monitor_queue(&f, ev, 0x7))
		goto out;
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' monitor --deny --timeout 0",
			  f.dir),
		  0, "--deny");
	assert_monitor_lines(out, false, 0x3, when, "--deny");
	ASSERT_EQ(run_cli(out, sizeof(out), "-p '%s' monitor --timeout 0",
			  f.dir),
		  0, "after --deny");
	ASSERT_STREQ(out, "", "nothing left");
	if (!monitor_queue(&f, ev, 0x7))
		goto out;
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -p '%s' monitor --audit --count 2 --timeout 60",
			  f.dir),
		  0, "-j --audit --count 2");
	assert_monitor_lines(out, true, 0x6, when, "--audit");

	/* One reader: a second monitor is refused while one holds the lock. */
	snprintf(maps, sizeof(maps), "%s/%s", f.dir, WEFT_PIN_MAPS_DIR);
	lock = open(maps, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ASSERT_GE(lock, 0, "open maps dir"))
		goto out;
	if (ASSERT_OK(flock(lock, LOCK_EX | LOCK_NB) ? -errno : 0, "flock")) {
		ASSERT_EQ(run_cli(out, sizeof(out),
				  "-j -p '%s' monitor --timeout 0", f.dir),
			  1, "second monitor");
		ASSERT_HAS(out, "{\"error\":\"another 'weft monitor' is reading",
			   "refused, JSON");
	}
	close(lock);

	/*
	 * Running: the first line (queued before) says the monitor is set
	 * up; an event queued now wakes it.  Were it not woken, it would
	 * exit 1 at its timeout, one event short.
	 */
	if (!monitor_queue(&f, ev, 0x1) || !monitor_start(&f, "2", &mon))
		goto out;
	monitor_line(&mon, line, sizeof(line));
	assert_monitor_lines(line, false, 0x1, when, "queued before");
	if (monitor_queue(&f, ev, 0x4)) {
		monitor_line(&mon, line, sizeof(line));
		assert_monitor_lines(line, false, 0x4, when, "queued while it runs");
	}
	ASSERT_EQ(monitor_stop(&mon, 0), 0, "--count 2 met");

	/* SIGINT and SIGTERM end it cleanly (one event of 5: without the
	 * signal it would run to its timeout and exit 1; unhandled, the
	 * signal kills it). */
	for (int i = 0; i < 2; i++) {
		int sig = i ? SIGTERM : SIGINT;

		if (!monitor_queue(&f, ev, 0x2) || !monitor_start(&f, "5", &mon))
			goto out;
		monitor_line(&mon, line, sizeof(line));
		assert_monitor_lines(line, false, 0x2, when, "before the signal");
		ASSERT_EQ(monitor_stop(&mon, sig), 0,
			  i ? "SIGTERM: exit 0" : "SIGINT: exit 0");
	}
out:
	fixture_teardown(&f);
}
