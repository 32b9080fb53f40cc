// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "snapshot.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vec.h"

static int cmp_bytes(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(const size_t *)size);
}

/*
 * Every key of the hash map fd into a new array, sorted bytewise, each key
 * once.  A hash walk restarts from the first bucket when the key it stands
 * on is deleted; under constant churn it might never end, so it gives up
 * with -EAGAIN after 4 * capacity keys and lets the operator retry.
 */
static int map_keys(int fd, size_t key_size, size_t capacity, void **keys,
		    size_t *nkeys)
{
	size_t cap = 0, n = 0, kept = 0;
	char *arr = NULL;
	int err;

	for (;;) {
		err = vec_reserve((void **)&arr, &cap, n + 1, key_size);
		if (err)
			goto fail;
		err = bpf_map_get_next_key(fd, n ? arr + (n - 1) * key_size : NULL,
					   arr + n * key_size);
		if (err == -ENOENT)
			break;
		if (err)
			goto fail;
		if (++n > 4 * capacity) {
			err = -EAGAIN;
			goto fail;
		}
	}
	if (n)
		qsort_r(arr, n, key_size, cmp_bytes, &key_size);
	for (size_t i = 0; i < n; i++) {
		if (kept && !memcmp(arr + (kept - 1) * key_size,
				    arr + i * key_size, key_size))
			continue;
		memmove(arr + kept * key_size, arr + i * key_size, key_size);
		kept++;
	}
	*keys = arr;
	*nkeys = kept;
	return 0;
fail:
	free(arr);
	return err;
}

static int read_failed(struct cli_ctx *ctx, const char *map, int err)
{
	cli_error(ctx, CLI_EXIT_ERROR, "reading %s: %s", map,
		  err == -EAGAIN ? "the map changed too much while being read, retry"
				 : strerror(-err));
	return err;
}

static int cmp_u32(__u32 a, __u32 b)
{
	return a < b ? -1 : a > b;
}

/* Metadata and active count of b->id. */
static void backend_fill(const struct datapath_maps *maps,
			 struct snap_backend *b)
{
	struct weft_backend_meta meta;

	b->workload[0] = '\0';
	b->refs = 0;
	b->active = 0;
	if (bpf_map_lookup_elem(maps->backend_meta, &b->id, &meta) == 0) {
		CLI_STR_COPY(b->workload, meta.workload);
		b->refs = meta.refs;
	}
	/* An id past the array's end has no count: 0. */
	if (bpf_map_lookup_elem(maps->backend_active, &b->id, &b->active))
		b->active = 0;
}

/* ---- backends ------------------------------------------------------------ */

static int cmp_backend_by_id(const void *x, const void *y)
{
	const struct snap_backend *a = x, *b = y;

	return cmp_u32(a->id, b->id);
}

int snapshot_backends(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap)
{
	struct snap_backend *bes = NULL;
	size_t nkeys = 0, n = 0;
	__u32 *keys = NULL;
	int err;

	err = map_keys(maps->backends, sizeof(*keys), WEFT_MAX_BACKENDS,
		       (void **)&keys, &nkeys);
	if (err)
		return read_failed(ctx, "weft_backends", err);
	bes = calloc(nkeys + 1, sizeof(*bes));
	if (!bes) {
		free(keys);
		return read_failed(ctx, "weft_backends", -ENOMEM);
	}
	for (size_t i = 0; i < nkeys; i++) {
		bes[n].id = keys[i];
		err = bpf_map_lookup_elem(maps->backends, &keys[i], &bes[n].be);
		if (err == -ENOENT)
			continue; /* deleted since the walk saw it */
		if (err) {
			free(keys);
			free(bes);
			return read_failed(ctx, "weft_backends", err);
		}
		backend_fill(maps, &bes[n]);
		n++;
	}
	free(keys);
	if (n)
		qsort(bes, n, sizeof(*bes), cmp_backend_by_id);
	snap->backends = bes;
	snap->nbackends = n;
	return 0;
}

const struct snap_backend *snapshot_backend(const struct snapshot *snap,
					    __u32 id)
{
	struct snap_backend key = { .id = id };

	if (!snap->nbackends)
		return NULL;
	return bsearch(&key, snap->backends, snap->nbackends,
		       sizeof(*snap->backends), cmp_backend_by_id);
}

/*
 * Merge the entries of arr that share an id into the first of them, adding
 * up their weights; order of first appearance is kept.
 */
static int cmp_index_by_id(const void *x, const void *y, void *arg)
{
	const struct snap_backend *arr = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = cmp_u32(arr[a].id, arr[b].id);

	return c ? c : (a > b) - (a < b);
}

static int backends_merge(struct snap_backend *arr, size_t *n)
{
	size_t *idx, kept = 0;
	bool *keep;

	if (*n < 2)
		return 0;
	idx = calloc(*n, sizeof(*idx));
	keep = calloc(*n, sizeof(*keep));
	if (!idx || !keep) {
		free(idx);
		free(keep);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++)
		idx[i] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_index_by_id, arr);
	for (size_t i = 0, first = 0; i < *n; i++) {
		if (i && arr[idx[i]].id == arr[idx[first]].id) {
			arr[idx[first]].weight += arr[idx[i]].weight;
			continue;
		}
		first = i;
		keep[idx[i]] = true;
	}
	for (size_t i = 0; i < *n; i++)
		if (keep[i])
			arr[kept++] = arr[i];
	*n = kept;
	free(idx);
	free(keep);
	return 0;
}

/* ---- clusters ------------------------------------------------------------ */

static int cmp_cluster_by_id(const void *x, const void *y)
{
	const struct snap_cluster *a = x, *b = y;

	return cmp_u32(a->id, b->id);
}

static int cmp_u32_p(const void *x, const void *y)
{
	return cmp_u32(*(const __u32 *)x, *(const __u32 *)y);
}

/* Slots 0..count-1 of c into c->backends: one entry per backend. */
static int cluster_fill(const struct datapath_maps *maps,
			struct snap_cluster *c)
{
	struct weft_cluster_meta meta;
	struct weft_slot_key key = { .cluster_id = c->id };
	size_t n = 0, kept = 0;
	struct snap_backend *b;
	__u32 count = c->cl.count;
	int err;

	c->name[0] = '\0';
	if (bpf_map_lookup_elem(maps->cluster_meta, &c->id, &meta) == 0)
		CLI_STR_COPY(c->name, meta.name);
	if (!count)
		return 0;
	b = calloc(count, sizeof(*b));
	if (!b)
		return -ENOMEM;
	c->backends = b;
	for (key.slot = 0; key.slot < count; key.slot++) {
		err = bpf_map_lookup_elem(maps->cluster_slots, &key, &b[n].id);
		if (err == -ENOENT) {
			pr_warn("cluster %u: slot %u of %u missing (agent updating?)\n",
				c->id, key.slot, count);
			continue;
		}
		if (err)
			return err;
		b[n++].weight = 1;
	}
	err = backends_merge(b, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = bpf_map_lookup_elem(maps->backends, &b[i].id, &b[i].be);
		if (err == -ENOENT) {
			pr_warn("cluster %u: a slot names backend %u, which is missing\n",
				c->id, b[i].id);
			continue;
		}
		if (err)
			return err;
		b[kept] = b[i];
		backend_fill(maps, &b[kept]);
		kept++;
	}
	c->nbackends = kept;
	return 0;
}

int snapshot_clusters(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap, bool all)
{
	struct snap_cluster *cls = NULL;
	size_t nids = 0, cap = 0, n = 0, kept = 0;
	__u32 *ids = NULL;
	int err = 0;

	if (all) {
		err = map_keys(maps->clusters, sizeof(*ids), WEFT_MAX_CLUSTERS,
			       (void **)&ids, &nids);
		if (err)
			return read_failed(ctx, "weft_clusters", err);
		cap = nids;
	}
	/* Plus what the routes name: a cluster added after the walk. */
	for (size_t i = 0; !err && i < snap->nservices; i++) {
		const struct weft_service *v = &snap->services[i].val;

		for (size_t d = 0; !err && d < v->ndests &&
				   d < WEFT_MAX_ROUTE_DESTS; d++) {
			err = vec_reserve((void **)&ids, &cap, nids + 1,
					  sizeof(*ids));
			if (!err)
				ids[nids++] = v->dests[d].cluster_id;
		}
	}
	if (err)
		goto fail;
	if (nids)
		qsort(ids, nids, sizeof(*ids), cmp_u32_p);
	for (size_t i = 0; i < nids; i++)
		if (!kept || ids[kept - 1] != ids[i])
			ids[kept++] = ids[i];
	nids = kept;

	cls = calloc(nids + 1, sizeof(*cls));
	if (!cls) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < nids; i++) {
		cls[n].id = ids[i];
		err = bpf_map_lookup_elem(maps->clusters, &ids[i], &cls[n].cl);
		if (err == -ENOENT)
			continue; /* snapshot_routes() says which route */
		if (err)
			goto fail;
		n++;
		err = cluster_fill(maps, &cls[n - 1]);
		if (err)
			goto fail;
	}
	free(ids);
	snap->clusters = cls;
	snap->nclusters = n;
	return 0;
fail:
	for (size_t i = 0; cls && i < n; i++)
		free(cls[i].backends);
	free(cls);
	free(ids);
	return read_failed(ctx, "weft_clusters", err);
}

/* ---- services and routes ------------------------------------------------- */

static int cmp_service_key(const struct weft_service_key *a,
			   const struct weft_service_key *b)
{
	int c = memcmp(&a->vip, &b->vip, sizeof(a->vip));

	if (c)
		return c;
	if (a->port != b->port)
		return ntohs(a->port) < ntohs(b->port) ? -1 : 1;
	return (int)a->proto - (int)b->proto;
}

static int cmp_service_by_host(const void *x, const void *y)
{
	const struct snap_service *a = x, *b = y;
	int c = strcmp(a->host, b->host);

	return c ? c : cmp_service_key(&a->key, &b->key);
}

int snapshot_services(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap)
{
	struct weft_service_key *keys = NULL;
	struct snap_service *svcs;
	struct weft_service_meta meta;
	size_t nkeys = 0, n = 0;
	int err;

	err = map_keys(maps->services, sizeof(*keys), WEFT_MAX_SERVICES,
		       (void **)&keys, &nkeys);
	if (err)
		return read_failed(ctx, "weft_services", err);
	svcs = calloc(nkeys + 1, sizeof(*svcs));
	if (!svcs) {
		free(keys);
		return read_failed(ctx, "weft_services", -ENOMEM);
	}
	for (size_t i = 0; i < nkeys; i++) {
		struct snap_service *s = &svcs[n];

		s->key = keys[i];
		err = bpf_map_lookup_elem(maps->services, &keys[i], &s->val);
		if (err == -ENOENT)
			continue;
		if (err) {
			free(keys);
			free(svcs);
			return read_failed(ctx, "weft_services", err);
		}
		if (bpf_map_lookup_elem(maps->service_meta, &s->val.service_id,
					&meta) == 0) {
			CLI_STR_COPY(s->host, meta.host);
			CLI_STR_COPY(s->ns, meta.ns);
			CLI_STR_COPY(s->port_name, meta.port_name);
		}
		n++;
	}
	free(keys);
	if (n)
		qsort(svcs, n, sizeof(*svcs), cmp_service_by_host);
	snap->services = svcs;
	snap->nservices = n;
	return 0;
}

/*
 * What each destination gets of the picks, as lb_route_pick() does it: r
 * uniform in [0, weight_total), the first destination with r < weight_end
 * wins, and dests[0] takes what no destination claims (all of it when
 * there is one destination or weight_total is 0).
 */
static void route_weights(struct snap_service *s)
{
	const struct weft_service *v = &s->val;
	__u32 total = v->weight_total, lo = 0, hi;

	s->ndests = v->ndests < WEFT_MAX_ROUTE_DESTS ? v->ndests
						      : WEFT_MAX_ROUTE_DESTS;
	for (size_t d = 0; d < s->ndests; d++) {
		s->dests[d].cluster_id = v->dests[d].cluster_id;
		s->dests[d].weight = 0;
	}
	if (!s->ndests)
		return;
	if (s->ndests == 1 || !total) {
		s->dests[0].weight = total ? total : 1;
		s->route_total = s->dests[0].weight;
		return;
	}
	for (size_t d = 0; d < s->ndests; d++) {
		hi = v->dests[d].weight_end < total ? v->dests[d].weight_end
						    : total;
		if (hi > lo) {
			s->dests[d].weight = hi - lo;
			lo = hi;
		}
	}
	s->dests[0].weight += total - lo;
	s->route_total = total;
}

int snapshot_routes(struct cli_ctx *ctx, struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nservices; i++) {
		struct snap_service *s = &snap->services[i];
		size_t n = 0, cap = 0;
		int err;

		route_weights(s);
		for (size_t d = 0; d < s->ndests; d++) {
			struct snap_cluster key = { .id = s->dests[d].cluster_id };
			const struct snap_cluster *c = NULL;
			bool seen = false;

			if (snap->nclusters)
				c = bsearch(&key, snap->clusters, snap->nclusters,
					    sizeof(*c), cmp_cluster_by_id);
			s->dests[d].cluster = c ? (size_t)(c - snap->clusters)
						: SNAP_NONE;
			if (!c) {
				pr_warn("service %u: route names cluster %u, which is missing\n",
					s->val.service_id, key.id);
				continue;
			}
			for (size_t e = 0; e < d; e++)
				seen |= s->dests[e].cluster == s->dests[d].cluster;
			for (size_t j = 0; !seen && j < c->nbackends; j++) {
				err = vec_reserve((void **)&s->backends, &cap,
						  n + 1, sizeof(*s->backends));
				if (err)
					return read_failed(ctx, "weft_services", err);
				s->backends[n++] = c->backends[j];
			}
		}
		err = backends_merge(s->backends, &n);
		if (err)
			return read_failed(ctx, "weft_services", err);
		s->nbackends = n;
	}
	return 0;
}

/* ---- connections ---------------------------------------------------------- */

static int cmp_conn(const void *x, const void *y)
{
	const struct snap_conn *a = x, *b = y;
	int c = cmp_u32(a->key.service_id, b->key.service_id);

	if (!c)
		c = cmp_u32(a->key.backend_id, b->key.backend_id);
	return c ? c : memcmp(&a->key.source, &b->key.source,
			      sizeof(a->key.source));
}

_Static_assert(sizeof(struct weft_tcp_stats) % 8 == 0,
	       "per-CPU values are laid out at 8-byte strides");

int snapshot_conns(struct cli_ctx *ctx, const struct datapath_maps *maps,
		   struct snapshot *snap)
{
	struct weft_tcp_stats_key *keys = NULL;
	struct weft_tcp_stats *percpu = NULL;
	struct snap_conn *conns = NULL;
	int ncpus = datapath_ncpus();
	size_t nkeys = 0, n = 0;
	int err;

	if (ncpus <= 0)
		return read_failed(ctx, "weft_tcp_stats", -EINVAL);
	err = map_keys(maps->tcp_stats, sizeof(*keys), WEFT_MAX_TCP_STATS,
		       (void **)&keys, &nkeys);
	if (err)
		return read_failed(ctx, "weft_tcp_stats", err);
	conns = calloc(nkeys + 1, sizeof(*conns));
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!conns || !percpu) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++) {
		struct snap_conn *c = &conns[n];

		err = bpf_map_lookup_elem(maps->tcp_stats, &keys[i], percpu);
		if (err == -ENOENT)
			continue; /* evicted (LRU) since the walk saw it */
		if (err)
			goto out;
		c->key = keys[i];
		for (int cpu = 0; cpu < ncpus; cpu++) {
			c->st.opened += percpu[cpu].opened;
			c->st.closed += percpu[cpu].closed;
			c->st.sent_bytes += percpu[cpu].sent_bytes;
			c->st.received_bytes += percpu[cpu].received_bytes;
		}
		n++;
	}
	err = 0;
	if (n)
		qsort(conns, n, sizeof(*conns), cmp_conn);
	snap->conns = conns;
	snap->nconns = n;
	conns = NULL;
out:
	free(conns);
	free(percpu);
	free(keys);
	return err ? read_failed(ctx, "weft_tcp_stats", err) : 0;
}

/* ---- policies ------------------------------------------------------------- */

static int cmp_policy_by_id(const void *x, const void *y)
{
	const struct snap_policy *a = x, *b = y;

	return cmp_u32(a->id, b->id);
}

/* Named ones by namespace and name, then the others by id (NONE last). */
static int cmp_policy_by_name(const void *x, const void *y)
{
	const struct snap_policy *a = x, *b = y;
	int c;

	if (a->named != b->named)
		return a->named ? -1 : 1;
	if (a->named && (c = strcmp(a->ns, b->ns)))
		return c;
	if (a->named && (c = strcmp(a->name, b->name)))
		return c;
	return cmp_u32(a->id, b->id);
}

/* The policy with this id in pols (sorted by id), added when absent. */
static struct snap_policy *policy_get(struct snap_policy *pols, size_t *n,
				      __u32 id)
{
	struct snap_policy key = { .id = id }, *p;
	size_t i;

	p = bsearch(&key, pols, *n, sizeof(*pols), cmp_policy_by_id);
	if (p)
		return p;
	for (i = *n; i > 0 && pols[i - 1].id > id; i--)
		pols[i] = pols[i - 1];
	pols[i] = key;
	(*n)++;
	return &pols[i];
}

/* Add one weft_policy_stats row, its per-CPU values in percpu. */
static void policy_count(struct snapshot *snap, struct snap_policy *pols,
			 size_t *n, const struct weft_policy_stats_key *k,
			 const __u64 *percpu, int ncpus)
{
	enum snap_policy_count what;
	__u64 sum = 0;

	if (k->point >= WEFT_POLICY_POINT__MAX)
		return; /* from a newer datapath: no column for it */
	for (int cpu = 0; cpu < ncpus; cpu++)
		sum += percpu[cpu];
	what = k->audit ? SNAP_POLICY_AUDIT :
	       k->action == WEFT_POLICY_ACTION_ALLOW ? SNAP_POLICY_ALLOW :
						       SNAP_POLICY_DENY;
	policy_get(pols, n, k->policy)->n[k->point][what] += sum;
	if (!k->audit && k->reason < WEFT_POLICY_REASON__MAX)
		snap->reasons[k->reason][k->point] += sum;
}

int snapshot_policies(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap)
{
	struct weft_policy_stats_key *keys = NULL;
	struct snap_policy *pols = NULL;
	size_t nids = 0, nkeys = 0, n = 0;
	int ncpus = datapath_ncpus();
	const char *map = "weft_policy_meta";
	__u64 *percpu = NULL;
	__u32 *ids = NULL;
	int err;

	if (ncpus <= 0)
		return read_failed(ctx, "weft_policy_stats", -EINVAL);
	err = map_keys(maps->policy_meta, sizeof(*ids), WEFT_MAX_POLICIES,
		       (void **)&ids, &nids);
	if (!err) {
		map = "weft_policy_stats";
		err = map_keys(maps->policy_stats, sizeof(*keys),
			       WEFT_MAX_POLICY_STATS, (void **)&keys, &nkeys);
	}
	if (err)
		goto out;
	/* Room for every id named or counted, and NONE. */
	pols = calloc(nids + nkeys + 1, sizeof(*pols));
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!pols || !percpu) {
		err = -ENOMEM;
		goto out;
	}
	policy_get(pols, &n, WEFT_POLICY_NONE);
	map = "weft_policy_meta";
	for (size_t i = 0; i < nids; i++) {
		struct weft_policy_meta meta;
		struct snap_policy *p;

		err = bpf_map_lookup_elem(maps->policy_meta, &ids[i], &meta);
		if (err == -ENOENT)
			continue; /* deleted since the walk saw it */
		if (err)
			goto out;
		p = policy_get(pols, &n, ids[i]);
		p->named = true;
		CLI_STR_COPY(p->ns, meta.ns);
		CLI_STR_COPY(p->name, meta.name);
		p->action = meta.action;
		p->enforced = meta.enforced;
		p->rules = meta.rules;
	}
	map = "weft_policy_stats";
	for (size_t i = 0; i < nkeys; i++) {
		err = bpf_map_lookup_elem(maps->policy_stats, &keys[i], percpu);
		if (err == -ENOENT)
			continue;
		if (err)
			goto out;
		policy_count(snap, pols, &n, &keys[i], percpu, ncpus);
	}
	err = 0;
	qsort(pols, n, sizeof(*pols), cmp_policy_by_name);
	snap->policies = pols;
	snap->npolicies = n;
	pols = NULL;
out:
	free(pols);
	free(percpu);
	free(keys);
	free(ids);
	return err ? read_failed(ctx, map, err) : 0;
}

void snapshot_free(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nservices; i++)
		free(snap->services[i].backends);
	free(snap->services);
	for (size_t i = 0; i < snap->nclusters; i++)
		free(snap->clusters[i].backends);
	free(snap->clusters);
	free(snap->backends);
	free(snap->conns);
	free(snap->policies);
	memset(snap, 0, sizeof(*snap));
}

/* ---- output shared by the commands ---------------------------------------- */

char *snapshot_endpoints(const struct snap_backend *b, size_t n)
{
	char one[CLI_ADDR_PORT_LEN];
	char *buf;
	size_t len = 0;

	/* ",", the address, "*" and up to 10 digits of weight each */
	buf = calloc(n + 1, CLI_ADDR_PORT_LEN + 12);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		cli_addr_port_str(&b[i].be.addr, b[i].be.port, one, sizeof(one));
		len += (size_t)sprintf(buf + len, "%s%s", i ? "," : "", one);
		if (b[i].weight > 1)
			len += (size_t)sprintf(buf + len, "*%u", b[i].weight);
	}
	return buf;
}

void snapshot_backends_json(struct json_writer *w, const struct snap_backend *b,
			    size_t n)
{
	char addr[INET6_ADDRSTRLEN];

	json_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(w);
		json_kv_u64(w, "id", b[i].id);
		json_kv_string(w, "address",
			       cli_addr_str(&b[i].be.addr, addr, sizeof(addr)));
		json_kv_u64(w, "port", ntohs(b[i].be.port));
		json_kv_string(w, "workload", b[i].workload);
		json_kv_u64(w, "weight", b[i].weight);
		json_kv_i64(w, "active", b[i].active);
		json_object_end(w);
	}
	json_array_end(w);
}
