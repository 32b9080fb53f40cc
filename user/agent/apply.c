// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "apply.h"
#include "apply_policy.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/abi.h>

#include "log.h"
#include "maglev.h"
#include "map_util.h"
#include "vec.h"

/* ---- small helpers --------------------------------------------------------- */

/* qsort/bsearch that accept an empty (NULL) array, which libc's do not. */
static void sort_array(void *arr, size_t n, size_t size,
		       int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(arr, n, size, cmp);
}

static void *find_in(const void *key, void *arr, size_t n, size_t size,
		     int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, arr, n, size, cmp) : NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static bool u32_in(__u32 v, __u32 *sorted, size_t n)
{
	return find_in(&v, sorted, n, sizeof(v), cmp_u32) != NULL;
}

/* ---- what the maps hold now ------------------------------------------------ */

struct backend_entry {
	union weft_addr addr;
	__be16 port;
	__u32 id;
	__u32 refs;     /* clusters of the new state naming it */
	const char *workload;
};

struct cluster_entry {
	char name[sizeof(((struct weft_cluster_meta *)0)->name)];
	__u32 id;
	struct weft_cluster value;
	bool wanted;
};

struct service_entry {
	struct weft_service_key key;
	struct weft_service value;
	bool wanted;
};

struct applied {
	struct backend_entry *backends; /* sorted by (addr, port) */
	size_t nbackends;
	struct cluster_entry *clusters; /* sorted by name */
	size_t nclusters;
	struct service_entry *services; /* sorted by key */
	size_t nservices;
};

static int backend_cmp(const void *a, const void *b)
{
	const struct backend_entry *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return c ?: (int)x->port - (int)y->port;
}

static int cluster_cmp(const void *a, const void *b)
{
	const struct cluster_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int service_cmp(const void *a, const void *b)
{
	const struct service_entry *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static void applied_free(struct applied *a)
{
	free(a->backends);
	free(a->clusters);
	free(a->services);
	memset(a, 0, sizeof(*a));
}

static int applied_read(const struct datapath_maps *maps, struct applied *a)
{
	struct weft_service_key skey, *sprev = NULL;
	__u32 key, *prev = NULL;
	size_t bcap = 0, ccap = 0, scap = 0;
	int err;

	memset(a, 0, sizeof(*a));
	while (bpf_map_get_next_key(maps->backends, prev, &key) == 0) {
		struct weft_backend be;

		prev = &key;
		if (bpf_map_lookup_elem(maps->backends, &key, &be))
			continue; /* deleted under us */
		err = vec_reserve((void **)&a->backends, &bcap,
				  a->nbackends + 1, sizeof(*a->backends));
		if (err)
			goto err;
		a->backends[a->nbackends++] = (struct backend_entry){
			.addr = be.addr, .port = be.port, .id = key,
		};
	}
	prev = NULL;
	while (bpf_map_get_next_key(maps->clusters, prev, &key) == 0) {
		struct weft_cluster_meta meta = {};
		struct cluster_entry *c;

		prev = &key;
		err = vec_reserve((void **)&a->clusters, &ccap,
				  a->nclusters + 1, sizeof(*a->clusters));
		if (err)
			goto err;
		c = &a->clusters[a->nclusters];
		memset(c, 0, sizeof(*c));
		if (bpf_map_lookup_elem(maps->clusters, &key, &c->value))
			continue;
		/* a cluster without a name cannot be matched: it stays garbage */
		if (bpf_map_lookup_elem(maps->cluster_meta, &key, &meta) ||
		    !meta.name[0])
			continue;
		memcpy(c->name, meta.name, sizeof(c->name));
		c->name[sizeof(c->name) - 1] = '\0';
		c->id = key;
		a->nclusters++;
	}
	while (bpf_map_get_next_key(maps->services, sprev, &skey) == 0) {
		struct service_entry *s;

		sprev = &skey;
		err = vec_reserve((void **)&a->services, &scap,
				  a->nservices + 1, sizeof(*a->services));
		if (err)
			goto err;
		s = &a->services[a->nservices];
		memset(s, 0, sizeof(*s));
		if (bpf_map_lookup_elem(maps->services, &skey, &s->value))
			continue;
		s->key = skey;
		a->nservices++;
	}
	sort_array(a->backends, a->nbackends, sizeof(*a->backends),
		   backend_cmp);
	sort_array(a->clusters, a->nclusters, sizeof(*a->clusters),
		   cluster_cmp);
	sort_array(a->services, a->nservices, sizeof(*a->services),
		   service_cmp);
	return 0;
err:
	applied_free(a);
	return err;
}

static struct backend_entry *backend_find(struct backend_entry *arr, size_t n,
					  const union weft_addr *addr,
					  __be16 port)
{
	struct backend_entry key = { .addr = *addr, .port = port };

	return find_in(&key, arr, n, sizeof(*arr), backend_cmp);
}

/* ---- backends -------------------------------------------------------------- */

static int zero_value(int fd, __u32 key, size_t value_size, bool percpu,
		      const char *what)
{
	size_t size = percpu ? (size_t)datapath_ncpus() * ((value_size + 7) & ~7ul)
			     : value_size;
	void *zero = calloc(1, size);
	int err;

	if (!zero)
		return -ENOMEM;
	err = map_write(fd, &key, zero, what);
	free(zero);
	return err;
}

/* The backends every cluster of the new state names, deduplicated, with ids. */
static int desired_backends(const struct lb_state *state, struct applied *cur,
			    struct id_pool *pool, struct backend_entry **out,
			    size_t *nout)
{
	struct backend_entry *arr = NULL;
	size_t n = 0, cap = 0, i, j, w;
	int err;

	for (i = 0; i < state->nclusters; i++) {
		const struct lb_cluster *cl = &state->clusters[i];

		for (j = 0; j < cl->nbackends; j++) {
			err = vec_reserve((void **)&arr, &cap, n + 1,
					  sizeof(*arr));
			if (err)
				goto err;
			arr[n++] = (struct backend_entry){
				.addr = cl->backends[j].addr,
				.port = htons(cl->backends[j].port),
				.refs = 1,
				.workload = cl->backends[j].workload,
			};
		}
	}
	sort_array(arr, n, sizeof(*arr), backend_cmp);
	for (i = 0, w = 0; i < n; i++) {
		if (w && backend_cmp(&arr[w - 1], &arr[i]) == 0) {
			arr[w - 1].refs++;
			if (!arr[w - 1].workload[0])
				arr[w - 1].workload = arr[i].workload;
			continue;
		}
		arr[w++] = arr[i];
	}
	n = w;
	for (i = 0; i < n; i++) {
		struct backend_entry *old = backend_find(
			cur->backends, cur->nbackends, &arr[i].addr, arr[i].port);

		arr[i].id = old ? old->id : id_pool_take(pool);
		if (!arr[i].id) {
			pr_warn("more than %u backends: id space exhausted\n",
				WEFT_MAX_BACKENDS - 1);
			err = -ENOSPC;
			goto err;
		}
	}
	*out = arr;
	*nout = n;
	return 0;
err:
	free(arr);
	return err;
}

static int write_backends(const struct datapath_maps *maps,
			  const struct backend_entry *arr, size_t n,
			  struct apply_result *res)
{
	for (size_t i = 0; i < n; i++) {
		struct weft_backend be = { .addr = arr[i].addr,
					   .port = arr[i].port };
		struct weft_backend_meta meta = { .refs = arr[i].refs };
		struct weft_backend old;
		int err;

		copy_str(meta.workload, sizeof(meta.workload),
			 arr[i].workload);
		if (bpf_map_lookup_elem(maps->backends, &arr[i].id, &old)) {
			/* a new id starts with no active connections */
			err = zero_value(maps->backend_active, arr[i].id,
					 sizeof(__s64), false,
					 "weft_backend_active");
			err = err ?: map_write(maps->backends, &arr[i].id, &be,
					       "weft_backends");
			if (err)
				return err;
			res->backends_added++;
		}
		err = map_write(maps->backend_meta, &arr[i].id, &meta,
				"weft_backend_meta");
		if (err)
			return err;
	}
	return 0;
}

/* ---- clusters -------------------------------------------------------------- */

/*
 * The slots of one cluster: each backend appears weight/g times (g the gcd
 * of the weights), so a uniform pick over slots honours the weights.  When
 * that exceeds WEFT_MAX_BACKENDS_PER_SERVICE, weights are dropped (one slot
 * each) with a warning.  Returns the number of slots.
 */
static size_t cluster_slots(const struct lb_cluster *cl,
			    struct backend_entry *desired, size_t ndesired,
			    __u32 *slots)
{
	__u32 g = 0, total = 0;
	size_t n = 0, i;

	for (i = 0; i < cl->nbackends; i++)
		g = lb_gcd(g, cl->backends[i].weight ?: 1);
	for (i = 0; i < cl->nbackends; i++)
		total += (cl->backends[i].weight ?: 1) / g;
	if (total > WEFT_MAX_BACKENDS_PER_SERVICE) {
		pr_warn("%s: weights need %u slots, more than %u: weights ignored\n",
			cl->name, total, WEFT_MAX_BACKENDS_PER_SERVICE);
		g = 0;
	}
	for (i = 0; i < cl->nbackends && n < WEFT_MAX_BACKENDS_PER_SERVICE;
	     i++) {
		const struct lb_backend *b = &cl->backends[i];
		struct backend_entry *be = backend_find(desired, ndesired,
							&b->addr, htons(b->port));
		__u32 copies = g ? (b->weight ?: 1) / g : 1;

		while (be && copies-- && n < WEFT_MAX_BACKENDS_PER_SERVICE)
			slots[n++] = be->id;
	}
	return n;
}

static int write_maglev(const struct datapath_maps *maps,
			const struct lb_cluster *cl,
			struct backend_entry *desired, size_t ndesired,
			__u32 table)
{
	struct maglev_backend *mb;
	__u32 *keys = NULL, *ids = NULL;
	__u32 count = WEFT_MAGLEV_SIZE;
	size_t n = 0;
	int err = -ENOMEM;

	mb = calloc(cl->nbackends ?: 1, sizeof(*mb));
	keys = calloc(WEFT_MAGLEV_SIZE, sizeof(*keys));
	ids = calloc(WEFT_MAGLEV_SIZE, sizeof(*ids));
	if (!mb || !keys || !ids)
		goto out;
	for (size_t i = 0; i < cl->nbackends; i++) {
		const struct lb_backend *b = &cl->backends[i];
		struct backend_entry *be = backend_find(desired, ndesired,
							&b->addr, htons(b->port));

		if (!be)
			continue;
		mb[n++] = (struct maglev_backend){ .id = be->id,
						   .weight = b->weight ?: 1,
						   .addr = b->addr,
						   .port = b->port };
	}
	err = maglev_build(mb, n, ids, WEFT_MAGLEV_SIZE);
	if (err)
		goto out;
	for (__u32 i = 0; i < WEFT_MAGLEV_SIZE; i++)
		keys[i] = table * WEFT_MAGLEV_SIZE + i;
	/* One syscall for the table; entries change one by one, and every
	 * value a reader may see is a live backend (see apply.h). */
	if (bpf_map_update_batch(maps->maglev, keys, ids, &count, NULL)) {
		err = -errno;
		pr_warn("%s: writing its Maglev table: %s\n", cl->name,
			strerror(errno));
	}
out:
	free(mb);
	free(keys);
	free(ids);
	return err;
}

/* Pools of ids and Maglev tables, with what the maps still hold taken. */
struct cluster_pools {
	struct id_pool ids;
	struct id_pool tables; /* table index + 1 */
	__u32 *slots;          /* scratch, WEFT_MAX_BACKENDS_PER_SERVICE */
};

static int write_cluster(const struct datapath_maps *maps,
			 const struct lb_cluster *cl, struct applied *cur,
			 struct backend_entry *desired, size_t ndesired,
			 struct cluster_pools *pools, __u32 *id_out,
			 struct apply_result *res)
{
	struct weft_cluster value = { .policy = (__u8)cl->policy };
	struct cluster_entry probe = {}, *old;
	struct weft_cluster_meta meta = {};
	size_t nslots, s;
	__u32 id;
	int err;

	copy_str(probe.name, sizeof(probe.name), cl->name);
	old = find_in(&probe, cur->clusters, cur->nclusters,
		      sizeof(*cur->clusters), cluster_cmp);
	if (old) {
		old->wanted = true;
		id = old->id;
	} else {
		id = id_pool_take(&pools->ids);
		if (!id) {
			pr_warn("more than %u clusters: id space exhausted\n",
				WEFT_MAX_CLUSTERS - 1);
			return -ENOSPC;
		}
		res->clusters_added++;
	}

	nslots = cluster_slots(cl, desired, ndesired, pools->slots);
	for (s = 0; s < nslots; s++) {
		struct weft_slot_key key = { .cluster_id = id,
					     .slot = (__u32)s };

		err = map_write(maps->cluster_slots, &key, &pools->slots[s],
				"weft_cluster_slots");
		if (err)
			return err;
	}
	if (cl->policy == LB_POLICY_MAGLEV && nslots) {
		if (old && old->value.policy == WEFT_LB_MAGLEV) {
			value.maglev_table = old->value.maglev_table;
		} else {
			__u32 t = id_pool_take(&pools->tables);

			if (!t) {
				pr_warn("%s: more than %u consistent-hash clusters\n",
					cl->name, WEFT_MAGLEV_TABLES);
				return -ENOSPC;
			}
			value.maglev_table = t - 1;
		}
		err = write_maglev(maps, cl, desired, ndesired,
				   value.maglev_table);
		if (err)
			return err;
	}
	value.count = (__u16)nslots;
	err = map_write(maps->clusters, &id, &value, "weft_clusters");
	if (err)
		return err;
	copy_str(meta.name, sizeof(meta.name), cl->name);
	err = map_write(maps->cluster_meta, &id, &meta, "weft_cluster_meta");
	if (err)
		return err;
	res->clusters++;
	*id_out = id;
	return 0;
}

/* 0 for an IPv4 (mapped) address, 1 for IPv6: a cluster variant index. */
static int family_of(const union weft_addr *addr)
{
	return weft_addr_is_v4(addr) ? 0 : 1;
}

/*
 * Write every cluster once per address family a route of that family needs
 * (cluster_id[2 * i + family]).  A cluster is a host's endpoints, which on a
 * dual-stack host are of both families, while a socket can only reach its
 * own: an IPv4 VIP must never be handed an IPv6 backend.  The variant keeps
 * the Istio name when one family is needed and gets "|ipv4"/"|ipv6"
 * appended when both are.
 */
static int write_clusters(const struct datapath_maps *maps,
			  const struct lb_state *state, struct applied *cur,
			  struct backend_entry *desired, size_t ndesired,
			  __u32 *cluster_id, struct apply_result *res)
{
	struct cluster_pools pools = {};
	unsigned char *needed = NULL;
	struct lb_cluster variant;
	size_t i;
	int err;

	pools.slots = calloc(WEFT_MAX_BACKENDS_PER_SERVICE,
			     sizeof(*pools.slots));
	needed = calloc(state->nclusters ?: 1, 1);
	variant.backends = calloc(WEFT_MAX_BACKENDS_PER_SERVICE,
				  sizeof(*variant.backends));
	err = pools.slots && needed && variant.backends ?
		      id_pool_init(&pools.ids, WEFT_MAX_CLUSTERS) : -ENOMEM;
	err = err ?: id_pool_init(&pools.tables, WEFT_MAGLEV_TABLES + 1);
	if (err)
		goto out;
	/* Ids and tables of every cluster still in the maps stay taken,
	 * garbage included: a reader may hold them. */
	{
		__u32 key, *prev = NULL;

		while (bpf_map_get_next_key(maps->clusters, prev, &key) == 0) {
			struct weft_cluster v;

			prev = &key;
			id_pool_mark(&pools.ids, key);
			if (!bpf_map_lookup_elem(maps->clusters, &key, &v) &&
			    v.policy == WEFT_LB_MAGLEV)
				id_pool_mark(&pools.tables, v.maglev_table + 1);
		}
	}
	for (i = 0; i < state->nservices; i++) {
		const struct lb_service *svc = &state->services[i];

		for (size_t d = 0; d < svc->ndests; d++)
			needed[svc->dests[d].cluster] |=
				1u << family_of(&svc->vip);
	}

	for (i = 0; i < state->nclusters; i++) {
		const struct lb_cluster *cl = &state->clusters[i];

		for (int fam = 0; fam < 2; fam++) {
			if (!(needed[i] & (1u << fam)))
				continue;
			variant = (struct lb_cluster){
				.port = cl->port, .policy = cl->policy,
				.backends = variant.backends,
			};
			/* a long name is cut: names are for people only */
			if (snprintf(variant.name, sizeof(variant.name), "%s%s",
				     cl->name,
				     needed[i] == 3 ? (fam ? "|ipv6" : "|ipv4")
						    : "") >=
			    (int)sizeof(variant.name))
				pr_debug("cluster name cut: %s\n", cl->name);
			for (size_t b = 0; b < cl->nbackends &&
					   variant.nbackends <
						   WEFT_MAX_BACKENDS_PER_SERVICE;
			     b++)
				if (family_of(&cl->backends[b].addr) == fam)
					variant.backends[variant.nbackends++] =
						cl->backends[b];
			err = write_cluster(maps, &variant, cur, desired,
					    ndesired, &pools,
					    &cluster_id[2 * i + fam], res);
			if (err)
				goto out;
		}
	}
out:
	id_pool_free(&pools.ids);
	id_pool_free(&pools.tables);
	free(pools.slots);
	free(variant.backends);
	free(needed);
	return err;
}

/* ---- services -------------------------------------------------------------- */

static int write_services(const struct datapath_maps *maps,
			  const struct lb_state *state, struct applied *cur,
			  const __u32 *cluster_id, struct apply_result *res)
{
	struct id_pool ids = {};
	int err;

	err = id_pool_init(&ids, WEFT_MAX_SERVICES);
	if (err)
		return err;
	for (size_t i = 0; i < cur->nservices; i++)
		id_pool_mark(&ids, cur->services[i].value.service_id);

	for (size_t i = 0; i < state->nservices; i++) {
		const struct lb_service *svc = &state->services[i];
		struct weft_service_meta meta = {};
		struct service_entry probe = {}, *old;
		struct weft_service value = {};
		__u32 total = 0;

		probe.key.vip = svc->vip;
		probe.key.port = htons(svc->port);
		probe.key.proto = svc->proto;
		old = find_in(&probe, cur->services, cur->nservices,
			      sizeof(*cur->services), service_cmp);
		if (old) {
			old->wanted = true;
			value.service_id = old->value.service_id;
		} else {
			value.service_id = id_pool_take(&ids);
			if (!value.service_id) {
				pr_warn("more than %u services: id space exhausted\n",
					WEFT_MAX_SERVICES - 1);
				err = -ENOSPC;
				break;
			}
			err = zero_value(maps->service_stats, value.service_id,
					 sizeof(struct weft_service_stats),
					 true, "weft_service_stats");
			if (err)
				break;
			res->services_added++;
		}
		for (size_t d = 0; d < svc->ndests && d < WEFT_MAX_ROUTE_DESTS;
		     d++) {
			total += svc->dests[d].weight;
			value.dests[d].cluster_id =
				cluster_id[2 * svc->dests[d].cluster +
					   family_of(&svc->vip)];
			value.dests[d].weight_end = total;
			value.ndests++;
		}
		value.weight_total = total;
		/* one element: the whole split changes at once */
		err = map_write(maps->services, &probe.key, &value,
				"weft_services");
		if (err)
			break;

		copy_str(meta.host, sizeof(meta.host), svc->host);
		copy_str(meta.ns, sizeof(meta.ns), svc->ns);
		copy_str(meta.port_name, sizeof(meta.port_name), svc->port_name);
		meta.vip = svc->vip;
		meta.port = htons(svc->port);
		meta.proto = svc->proto;
		err = map_write(maps->service_meta, &value.service_id, &meta,
				"weft_service_meta");
		if (err)
			break;
	}
	id_pool_free(&ids);
	return err;
}

static int write_agent_state(const struct datapath_maps *maps,
			     const char *node_name, struct apply_result *res)
{
	struct weft_agent_state st = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(maps->agent_state, &zero, &st))
		memset(&st, 0, sizeof(st));
	st.generation++;
	st.applied_ns = now_ns();
	st.rejected_ns = 0; /* the config in force is the latest one */
	memset(st.rejected_reason, 0, sizeof(st.rejected_reason));
	st.abi_version = WEFT_ABI_VERSION;
	st.services = res->services;
	st.backends = res->backends;
	copy_str(st.node_name, sizeof(st.node_name), node_name);
	res->generation = st.generation;
	return map_write(maps->agent_state, &zero, &st, "weft_agent_state");
}

int apply_state(const struct datapath_maps *maps, const struct lb_state *state,
		const char *node_name, struct apply_result *res)
{
	struct backend_entry *desired = NULL;
	struct id_pool backend_ids = {};
	struct applied cur = {};
	__u32 *cluster_id = NULL;
	size_t ndesired = 0, i;
	int err, gc;

	memset(res, 0, sizeof(*res));
	gc = apply_collect_garbage(maps);
	if (gc > 0)
		res->garbage_collected = (__u32)gc;

	cluster_id = calloc(state->nclusters ? 2 * state->nclusters : 1,
			    sizeof(*cluster_id));
	err = cluster_id ? applied_read(maps, &cur) : -ENOMEM;
	err = err ?: id_pool_init(&backend_ids, WEFT_MAX_BACKENDS);
	if (err)
		goto out;

	/* 1. backends, before anything names them */
	for (i = 0; i < cur.nbackends; i++)
		id_pool_mark(&backend_ids, cur.backends[i].id);
	err = desired_backends(state, &cur, &backend_ids, &desired, &ndesired);
	err = err ?: write_backends(maps, desired, ndesired, res);
	/* 2. clusters: slots and tables, then the entry publishing them */
	err = err ?: write_clusters(maps, state, &cur, desired, ndesired,
				    cluster_id, res);
	/* 3. routes, each in one element */
	err = err ?: write_services(maps, state, &cur, cluster_id, res);
	if (err)
		goto out;

	/* 4. services that are gone stop translating now; what they named
	 *    becomes garbage for a later pass */
	for (i = 0; i < cur.nservices; i++) {
		if (cur.services[i].wanted)
			continue;
		map_remove(maps->services, &cur.services[i].key);
		map_remove(maps->service_meta,
			   &cur.services[i].value.service_id);
		res->services_removed++;
	}

	res->services = (__u32)state->nservices;
	res->backends = (__u32)ndesired;
	err = write_agent_state(maps, node_name, res);
out:
	applied_free(&cur);
	id_pool_free(&backend_ids);
	free(desired);
	free(cluster_id);
	return err;
}

int apply_record_rejection(const struct datapath_maps *maps,
			   const char *reason)
{
	struct weft_agent_state st = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(maps->agent_state, &zero, &st))
		memset(&st, 0, sizeof(st));
	st.rejected_ns = now_ns();
	st.rejected_total++;
	copy_str(st.rejected_reason, sizeof(st.rejected_reason),
		 reason[0] ? reason : "rejected (no reason given)");
	return map_write(maps->agent_state, &zero, &st, "weft_agent_state");
}

/* ---- garbage collection ---------------------------------------------------- */

struct u32_set {
	__u32 *v;
	size_t n, cap;
};

static int u32_set_add(struct u32_set *s, __u32 v)
{
	int err = vec_reserve((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));

	if (!err)
		s->v[s->n++] = v;
	return err;
}

static void u32_set_seal(struct u32_set *s)
{
	sort_array(s->v, s->n, sizeof(*s->v), cmp_u32);
}

int apply_collect_garbage(const struct datapath_maps *maps)
{
	struct u32_set live_clusters = {}, live_backends = {}, dead = {};
	struct weft_slot_key skey, *sprev = NULL, *dead_slots = NULL;
	size_t ndead_slots = 0, dead_slots_cap = 0;
	struct weft_service_key key, *kprev = NULL;
	struct weft_agent_state st = {};
	__u32 id, *prev = NULL, zero = 0;
	int err = 0, deleted = 0;

	if (!bpf_map_lookup_elem(maps->agent_state, &zero, &st) &&
	    now_ns() - st.applied_ns < APPLY_GRACE_NS)
		return -EAGAIN;

	/* clusters some route names */
	while (bpf_map_get_next_key(maps->services, kprev, &key) == 0) {
		struct weft_service svc;

		kprev = &key;
		if (bpf_map_lookup_elem(maps->services, &key, &svc))
			continue;
		for (__u16 d = 0; d < svc.ndests && d < WEFT_MAX_ROUTE_DESTS;
		     d++)
			err = err ?: u32_set_add(&live_clusters,
						 svc.dests[d].cluster_id);
	}
	u32_set_seal(&live_clusters);

	/* clusters nobody names: entry, meta (slots below) */
	while (!err && bpf_map_get_next_key(maps->clusters, prev, &id) == 0) {
		struct weft_cluster cl;

		prev = &id;
		if (u32_in(id, live_clusters.v, live_clusters.n)) {
			/* a live Maglev table keeps its backends */
			if (!bpf_map_lookup_elem(maps->clusters, &id, &cl) &&
			    cl.policy == WEFT_LB_MAGLEV && cl.count) {
				for (__u32 i = 0; i < WEFT_MAGLEV_SIZE && !err;
				     i++) {
					__u32 idx = cl.maglev_table *
						    WEFT_MAGLEV_SIZE + i, b;

					if (!bpf_map_lookup_elem(maps->maglev,
								 &idx, &b))
						err = u32_set_add(&live_backends,
								  b);
				}
			}
			continue;
		}
		err = u32_set_add(&dead, id);
	}
	for (size_t i = 0; i < dead.n; i++) {
		map_remove(maps->clusters, &dead.v[i]);
		map_remove(maps->cluster_meta, &dead.v[i]);
		deleted++;
	}

	/* slots of dead clusters, and slots above a live cluster's count */
	while (!err &&
	       bpf_map_get_next_key(maps->cluster_slots, sprev, &skey) == 0) {
		struct weft_cluster cl;
		__u32 backend;

		sprev = &skey;
		if (!bpf_map_lookup_elem(maps->clusters, &skey.cluster_id,
					 &cl) &&
		    skey.slot < cl.count &&
		    u32_in(skey.cluster_id, live_clusters.v, live_clusters.n)) {
			if (!bpf_map_lookup_elem(maps->cluster_slots, &skey,
						 &backend))
				err = u32_set_add(&live_backends, backend);
			continue;
		}
		err = vec_reserve((void **)&dead_slots, &dead_slots_cap,
				  ndead_slots + 1, sizeof(*dead_slots));
		if (!err)
			dead_slots[ndead_slots++] = skey;
	}
	/* deleted after the walk: deleting the current key restarts it */
	for (size_t i = 0; i < ndead_slots; i++) {
		map_remove(maps->cluster_slots, &dead_slots[i]);
		deleted++;
	}
	free(dead_slots);
	u32_set_seal(&live_backends);

	/* backends nothing names */
	dead.n = 0;
	prev = NULL;
	while (!err && bpf_map_get_next_key(maps->backends, prev, &id) == 0) {
		prev = &id;
		if (!u32_in(id, live_backends.v, live_backends.n))
			err = u32_set_add(&dead, id);
	}
	for (size_t i = 0; !err && i < dead.n; i++) {
		map_remove(maps->backends, &dead.v[i]);
		map_remove(maps->backend_meta, &dead.v[i]);
		deleted++;
	}

	free(live_clusters.v);
	free(live_backends.v);
	free(dead.v);
	if (!err) {
		/* the policy generation the last apply replaced */
		int n = apply_policy_collect_garbage(maps);

		if (n < 0)
			err = n;
		else
			deleted += n;
	}
	if (err) {
		pr_warn("garbage collection: %s\n", strerror(-err));
		return err;
	}
	if (deleted)
		pr_debug("garbage collection: %d elements deleted\n", deleted);
	return deleted;
}
