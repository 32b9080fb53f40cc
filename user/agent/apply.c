// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "apply.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/abi.h>

#include "log.h"

/* A backend as the maps hold it, or as the new state wants it. */
struct backend_entry {
	union weft_addr addr;
	__be16 port;
	__u32 id;
	__u32 refs;     /* services of the new state naming it */
	bool wanted;    /* part of the new state */
	const char *workload;
};

struct service_entry {
	struct weft_service_key key; /* slot 0 */
	struct weft_service_value value;
	bool wanted;
};

struct id_pool {
	unsigned char used[(WEFT_MAX_BACKENDS > WEFT_MAX_SERVICES ?
			    WEFT_MAX_BACKENDS : WEFT_MAX_SERVICES) / 8];
	__u32 limit; /* ids are 1..limit-1; 0 means "none" */
	__u32 next;  /* search hint */
};

static void id_pool_init(struct id_pool *p, __u32 limit)
{
	memset(p->used, 0, sizeof(p->used));
	p->limit = limit;
	p->next = 1;
}

static void id_pool_mark(struct id_pool *p, __u32 id)
{
	if (id < p->limit)
		p->used[id / 8] |= 1u << (id % 8);
}

/* Lowest free id at or after the hint, wrapping once; 0 when exhausted. */
static __u32 id_pool_take(struct id_pool *p)
{
	for (__u32 n = 0; n < p->limit; n++) {
		__u32 id = (p->next + n) % p->limit;

		if (id == 0 || (p->used[id / 8] & (1u << (id % 8))))
			continue;
		id_pool_mark(p, id);
		p->next = id + 1;
		return id;
	}
	return 0;
}

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

static int backend_cmp(const void *a, const void *b)
{
	const struct backend_entry *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return c ?: (int)x->port - (int)y->port;
}

static int service_cmp(const void *a, const void *b)
{
	const struct service_entry *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

struct applied {
	struct backend_entry *backends;
	size_t nbackends;
	struct service_entry *services;
	size_t nservices;
};

static void applied_free(struct applied *a)
{
	free(a->backends);
	free(a->services);
	memset(a, 0, sizeof(*a));
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 256;
	p = realloc(*arr, *cap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

/* Read what the maps hold now: backends and slot-0 service entries. */
static int applied_read(const struct datapath_maps *maps, struct applied *a)
{
	struct weft_service_key skey, *sprev = NULL;
	__u32 bkey, *bprev = NULL;
	size_t bcap = 0, scap = 0;
	int err;

	memset(a, 0, sizeof(*a));
	while (bpf_map_get_next_key(maps->backends, bprev, &bkey) == 0) {
		struct weft_backend be;

		bprev = &bkey;
		if (bpf_map_lookup_elem(maps->backends, &bkey, &be))
			continue; /* deleted under us */
		err = grow((void **)&a->backends, &bcap, a->nbackends,
			   sizeof(*a->backends));
		if (err)
			goto err;
		a->backends[a->nbackends++] = (struct backend_entry){
			.addr = be.addr, .port = be.port, .id = bkey,
		};
	}
	while (bpf_map_get_next_key(maps->services, sprev, &skey) == 0) {
		struct weft_service_value v;

		sprev = &skey;
		if (skey.slot != 0 ||
		    bpf_map_lookup_elem(maps->services, &skey, &v))
			continue;
		err = grow((void **)&a->services, &scap, a->nservices,
			   sizeof(*a->services));
		if (err)
			goto err;
		a->services[a->nservices++] = (struct service_entry){
			.key = skey, .value = v,
		};
	}
	sort_array(a->backends, a->nbackends, sizeof(*a->backends),
		   backend_cmp);
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

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, len - n);
}

static int map_write(int fd, const void *key, const void *value,
		     const char *what)
{
	if (bpf_map_update_elem(fd, key, value, BPF_ANY)) {
		int err = -errno;

		pr_warn("writing %s: %s%s\n", what, strerror(errno),
			errno == E2BIG || errno == ENOMEM ? " (map full)" : "");
		return err;
	}
	return 0;
}

static void map_remove(int fd, const void *key)
{
	(void)bpf_map_delete_elem(fd, key); /* already gone is fine */
}

static __u32 gcd(__u32 a, __u32 b)
{
	while (b) {
		__u32 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * The slots of one service: each backend appears weight/g times (g the gcd
 * of the weights), so a uniform pick over slots honours the weights.  When
 * that exceeds WEFT_MAX_BACKENDS_PER_SERVICE, weights are dropped (one slot
 * each) and a warning says so.  Returns the number of slots written.
 */
static size_t service_slots(const struct lb_service *svc,
			    struct backend_entry *desired, size_t ndesired,
			    __u32 *slots)
{
	__u32 g = 0, total = 0;
	size_t n = 0, i;

	for (i = 0; i < svc->nbackends; i++)
		g = gcd(g, svc->backends[i].weight ?: 1);
	for (i = 0; i < svc->nbackends; i++)
		total += (svc->backends[i].weight ?: 1) / g;
	if (total > WEFT_MAX_BACKENDS_PER_SERVICE) {
		pr_warn("%s:%u: weights need %u slots, more than %u: weights ignored\n",
			svc->host, svc->port, total,
			WEFT_MAX_BACKENDS_PER_SERVICE);
		g = 0;
	}
	for (i = 0; i < svc->nbackends && n < WEFT_MAX_BACKENDS_PER_SERVICE;
	     i++) {
		const struct lb_backend *b = &svc->backends[i];
		struct backend_entry *be =
			backend_find(desired, ndesired, &b->addr, htons(b->port));
		__u32 copies = g ? (b->weight ?: 1) / g : 1;

		if (!be)
			continue; /* cannot happen: desired holds them all */
		while (copies-- && n < WEFT_MAX_BACKENDS_PER_SERVICE)
			slots[n++] = be->id;
	}
	return n;
}

/* Collect the backends the new state names, deduplicated, with ids. */
static int desired_backends(const struct lb_state *state, struct applied *cur,
			    struct id_pool *pool, struct backend_entry **out,
			    size_t *nout)
{
	struct backend_entry *arr = NULL;
	size_t n = 0, cap = 0, i, j, w;
	int err;

	for (i = 0; i < state->nservices; i++) {
		const struct lb_service *svc = &state->services[i];

		for (j = 0; j < svc->nbackends; j++) {
			const struct lb_backend *b = &svc->backends[j];

			if (weft_addr_is_v4(&b->addr) !=
			    weft_addr_is_v4(&svc->vip))
				continue;
			err = grow((void **)&arr, &cap, n, sizeof(*arr));
			if (err)
				goto err;
			arr[n++] = (struct backend_entry){
				.addr = b->addr, .port = htons(b->port),
				.refs = 1, .wanted = true,
				.workload = b->workload,
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

		if (old) {
			old->wanted = true;
			arr[i].id = old->id;
			continue;
		}
		arr[i].id = id_pool_take(pool);
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
			  struct backend_entry *arr, size_t n,
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
			err = map_write(maps->backends, &arr[i].id, &be,
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

static int zero_service_stats(const struct datapath_maps *maps, __u32 id)
{
	size_t size = (size_t)datapath_ncpus() *
		      ((sizeof(struct weft_service_stats) + 7) & ~7ul);
	void *zero = calloc(1, size);
	int err;

	if (!zero)
		return -ENOMEM;
	err = map_write(maps->service_stats, &id, zero, "weft_service_stats");
	free(zero);
	return err;
}

static int write_service(const struct datapath_maps *maps,
			 const struct lb_service *svc, struct applied *cur,
			 struct id_pool *svc_ids, struct backend_entry *desired,
			 size_t ndesired, __u32 *slots,
			 struct apply_result *res)
{
	struct weft_service_value value = { .flags = WEFT_SVC_F_REFUSE_EMPTY };
	struct service_entry probe = {}, *old;
	struct weft_service_meta meta = {};
	__u16 old_count = 0;
	size_t nslots, s;
	int err;

	probe.key.vip = svc->vip;
	probe.key.port = htons(svc->port);
	probe.key.proto = svc->proto;
	old = find_in(&probe, cur->services, cur->nservices,
		      sizeof(*cur->services), service_cmp);
	if (old) {
		old->wanted = true;
		value.service_id = old->value.service_id;
		old_count = old->value.count;
	} else {
		value.service_id = id_pool_take(svc_ids);
		if (!value.service_id) {
			pr_warn("more than %u services: id space exhausted\n",
				WEFT_MAX_SERVICES - 1);
			return -ENOSPC;
		}
		err = zero_service_stats(maps, value.service_id);
		if (err)
			return err;
		res->services_added++;
	}

	nslots = service_slots(svc, desired, ndesired, slots);
	for (s = 0; s < nslots; s++) {
		struct weft_service_key key = probe.key;
		struct weft_service_value sv = { .backend_id = slots[s],
						 .service_id = value.service_id };

		key.slot = (__u16)(s + 1);
		err = map_write(maps->services, &key, &sv, "weft_services slot");
		if (err)
			return err;
	}
	value.count = (__u16)nslots;
	err = map_write(maps->services, &probe.key, &value, "weft_services");
	if (err)
		return err;
	for (s = nslots + 1; s <= old_count; s++) {
		struct weft_service_key key = probe.key;

		key.slot = (__u16)s;
		map_remove(maps->services, &key);
	}

	copy_str(meta.host, sizeof(meta.host), svc->host);
	copy_str(meta.ns, sizeof(meta.ns), svc->ns);
	copy_str(meta.port_name, sizeof(meta.port_name), svc->port_name);
	meta.vip = svc->vip;
	meta.port = htons(svc->port);
	meta.proto = svc->proto;
	return map_write(maps->service_meta, &value.service_id, &meta,
			 "weft_service_meta");
}

static void remove_service(const struct datapath_maps *maps,
			   const struct service_entry *svc)
{
	struct weft_service_key key = svc->key;

	map_remove(maps->services, &key); /* slot 0 first: lookups stop */
	for (__u32 s = 1; s <= svc->value.count; s++) {
		key.slot = (__u16)s;
		map_remove(maps->services, &key);
	}
	map_remove(maps->service_meta, &svc->value.service_id);
}

static int write_agent_state(const struct datapath_maps *maps,
			     const char *node_name, struct apply_result *res)
{
	struct weft_agent_state st = {};
	struct timespec now;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(maps->agent_state, &zero, &st))
		memset(&st, 0, sizeof(st));
	clock_gettime(CLOCK_REALTIME, &now);
	st.generation++;
	st.applied_ns = (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec;
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
	struct id_pool *pool = NULL;
	struct applied cur = {};
	__u32 *slots = NULL;
	size_t ndesired = 0, i;
	int err;

	memset(res, 0, sizeof(*res));
	pool = malloc(sizeof(*pool));
	slots = calloc(WEFT_MAX_BACKENDS_PER_SERVICE, sizeof(*slots));
	if (!pool || !slots) {
		err = -ENOMEM;
		goto out;
	}
	err = applied_read(maps, &cur);
	if (err)
		goto out;

	/* 1. backends, before anything names them */
	id_pool_init(pool, WEFT_MAX_BACKENDS);
	for (i = 0; i < cur.nbackends; i++)
		id_pool_mark(pool, cur.backends[i].id);
	err = desired_backends(state, &cur, pool, &desired, &ndesired);
	if (err)
		goto out;
	err = write_backends(maps, desired, ndesired, res);
	if (err)
		goto out;

	/* 2. services: slots, then slot 0, then trim */
	id_pool_init(pool, WEFT_MAX_SERVICES);
	for (i = 0; i < cur.nservices; i++)
		id_pool_mark(pool, cur.services[i].value.service_id);
	for (i = 0; i < state->nservices; i++) {
		err = write_service(maps, &state->services[i], &cur, pool,
				    desired, ndesired, slots, res);
		if (err)
			goto out;
	}

	/* 3. services that are gone */
	for (i = 0; i < cur.nservices; i++) {
		if (cur.services[i].wanted)
			continue;
		remove_service(maps, &cur.services[i]);
		res->services_removed++;
	}

	/* 4. backends nobody names */
	for (i = 0; i < cur.nbackends; i++) {
		if (cur.backends[i].wanted)
			continue;
		map_remove(maps->backends, &cur.backends[i].id);
		map_remove(maps->backend_meta, &cur.backends[i].id);
		res->backends_removed++;
	}

	res->services = (__u32)state->nservices;
	res->backends = (__u32)ndesired;
	err = write_agent_state(maps, node_name, res);
out:
	applied_free(&cur);
	free(desired);
	free(slots);
	free(pool);
	return err;
}
