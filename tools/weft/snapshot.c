// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "snapshot.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/*
 * A hash walk restarts from the first bucket when the key it stands on is
 * deleted; under constant churn it might never end.  Give up after this
 * many keys and let the operator retry.
 */
#define SNAP_MAX_WALK (4u * WEFT_MAX_BACKEND_SLOTS)

/* Copy a fixed-size, maybe unterminated, metadata field. */
#define META_COPY(dst, src)                                              \
	do {                                                             \
		_Static_assert(sizeof(dst) == sizeof(src) + 1, "size");  \
		memcpy(dst, src, sizeof(src));                           \
		(dst)[sizeof(src)] = '\0';                               \
	} while (0)

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void backend_fill(const struct datapath_maps *maps,
			 struct snap_backend *b)
{
	struct weft_backend_meta meta;

	b->workload[0] = '\0';
	b->refs = 0;
	if (bpf_map_lookup_elem(maps->backend_meta, &b->id, &meta) == 0) {
		META_COPY(b->workload, meta.workload);
		b->refs = meta.refs;
	}
}

/* Resolve slots 1..count of svc into svc->backends. */
static int service_fill(const struct datapath_maps *maps,
			struct snap_service *svc)
{
	struct weft_service_key key = svc->key;
	struct weft_service_value slot;
	struct weft_service_meta meta;
	__u16 count = svc->val.count;
	int err;

	svc->host[0] = svc->ns[0] = svc->port_name[0] = '\0';
	if (bpf_map_lookup_elem(maps->service_meta, &svc->val.service_id,
				&meta) == 0) {
		META_COPY(svc->host, meta.host);
		META_COPY(svc->ns, meta.ns);
		META_COPY(svc->port_name, meta.port_name);
	}
	if (!count)
		return 0;
	svc->backends = calloc(count, sizeof(*svc->backends));
	if (!svc->backends)
		return -ENOMEM;
	for (__u16 i = 1; i <= count; i++) {
		struct snap_backend *b = &svc->backends[svc->nbackends];

		key.slot = i;
		err = bpf_map_lookup_elem(maps->services, &key, &slot);
		if (err == -ENOENT) {
			pr_warn("service %u: slot %u of %u missing (agent updating?)\n",
				svc->val.service_id, i, count);
			continue;
		}
		if (err)
			return err;
		b->id = slot.backend_id;
		err = bpf_map_lookup_elem(maps->backends, &b->id, &b->be);
		if (err == -ENOENT) {
			pr_warn("service %u: slot %u names backend %u, which is missing\n",
				svc->val.service_id, i, b->id);
			continue;
		}
		if (err)
			return err;
		backend_fill(maps, b);
		svc->nbackends++;
	}
	return 0;
}

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

static int cmp_service_by_key(const void *x, const void *y)
{
	const struct snap_service *a = x, *b = y;

	return cmp_service_key(&a->key, &b->key);
}

static int cmp_service_by_host(const void *x, const void *y)
{
	const struct snap_service *a = x, *b = y;
	int c = strcmp(a->host, b->host);

	return c ? c : cmp_service_key(&a->key, &b->key);
}

static int cmp_backend_by_id(const void *x, const void *y)
{
	const struct snap_backend *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

int snapshot_services(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap)
{
	struct weft_service_key key, next;
	struct weft_service_value val;
	size_t cap = 0, n = 0, walked = 0, kept;
	struct snap_service *svcs = NULL;
	bool first = true;
	int err;

	for (;;) {
		err = bpf_map_get_next_key(maps->services, first ? NULL : &key,
					   &next);
		if (err == -ENOENT)
			break;
		if (err)
			goto fail;
		first = false;
		key = next;
		if (++walked > SNAP_MAX_WALK) {
			err = -EAGAIN;
			goto fail;
		}
		if (key.slot != 0)
			continue;
		err = bpf_map_lookup_elem(maps->services, &key, &val);
		if (err == -ENOENT)
			continue; /* deleted since the walk saw it */
		if (err)
			goto fail;
		err = grow((void **)&svcs, &cap, n, sizeof(*svcs));
		if (err)
			goto fail;
		memset(&svcs[n], 0, sizeof(svcs[n]));
		svcs[n].key = key;
		svcs[n].val = val;
		n++;
	}

	/* Drop what a restarted walk saw twice. */
	if (n)
		qsort(svcs, n, sizeof(*svcs), cmp_service_by_key);
	kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && !cmp_service_key(&svcs[kept - 1].key, &svcs[i].key))
			continue;
		svcs[kept++] = svcs[i];
	}
	n = kept;

	for (size_t i = 0; i < n; i++) {
		err = service_fill(maps, &svcs[i]);
		if (err)
			goto fail;
	}
	if (n)
		qsort(svcs, n, sizeof(*svcs), cmp_service_by_host);
	snap->services = svcs;
	snap->nservices = n;
	return 0;

fail:
	for (size_t i = 0; i < n; i++)
		free(svcs[i].backends);
	free(svcs);
	cli_error(ctx, CLI_EXIT_ERROR, "reading weft_services: %s",
		  err == -EAGAIN ? "the map changed too much while being read, retry"
				 : strerror(-err));
	return err;
}

int snapshot_backends(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct snapshot *snap)
{
	size_t cap = 0, n = 0, walked = 0, kept;
	struct snap_backend *bes = NULL;
	__u32 key = 0, next;
	bool first = true;
	int err;

	for (;;) {
		err = bpf_map_get_next_key(maps->backends, first ? NULL : &key,
					   &next);
		if (err == -ENOENT)
			break;
		if (err)
			goto fail;
		first = false;
		key = next;
		if (++walked > SNAP_MAX_WALK) {
			err = -EAGAIN;
			goto fail;
		}
		err = grow((void **)&bes, &cap, n, sizeof(*bes));
		if (err)
			goto fail;
		bes[n].id = key;
		err = bpf_map_lookup_elem(maps->backends, &key, &bes[n].be);
		if (err == -ENOENT)
			continue;
		if (err)
			goto fail;
		backend_fill(maps, &bes[n]);
		n++;
	}
	if (n)
		qsort(bes, n, sizeof(*bes), cmp_backend_by_id);
	kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && bes[kept - 1].id == bes[i].id)
			continue;
		bes[kept++] = bes[i];
	}
	snap->backends = bes;
	snap->nbackends = kept;
	return 0;

fail:
	free(bes);
	cli_error(ctx, CLI_EXIT_ERROR, "reading weft_backends: %s",
		  err == -EAGAIN ? "the map changed too much while being read, retry"
				 : strerror(-err));
	return err;
}

void snapshot_free(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nservices; i++)
		free(snap->services[i].backends);
	free(snap->services);
	free(snap->backends);
	memset(snap, 0, sizeof(*snap));
}
