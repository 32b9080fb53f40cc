// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb_state.workloads: every address the mesh knows a workload by, with
 * Istio's names for it (the telemetry labels of istio-dataplane-spec.md
 * §6), sorted by address.
 *
 * Sources, in this order: every IP of every Pod, ready or not (a Pod with
 * hostNetwork is left out: its address is the node's, shared by every
 * process there); every WorkloadEntry with an IP address; every IP
 * endpoint written inline in a ServiceEntry (its workload name is the
 * ServiceEntry's).  One entry per address: a Pod that has finished
 * (Succeeded, Failed) or is being deleted yields to any other claimant of
 * its address (its IP may already be reused); otherwise the first in that
 * order wins.
 *
 * Workload name of a Pod: its controller's (the ownerReference with
 * controller: true, else the first one): a ReplicaSet "<deploy>-<hash>"
 * gives "<deploy>" (the label pod-template-hash when it is the suffix,
 * else the last "-" part), a StatefulSet, DaemonSet, Job or anything else
 * its own name; a Pod without owners, its own name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "lb_internal.h"
#include "mesh-t.h"
#include "vec.h"

struct wl_tmp {
	struct lb_workload w;
	int rank;     /* 0: live, 1: finished or being deleted */
	size_t order;
};

struct wl_list {
	struct wl_tmp *v;
	size_t n, cap;
};

/* Label key in a, else in b (may be NULL); NULL when in neither. */
static const char *label2(const struct ykvs *a, const struct ykvs *b,
			  const char *key)
{
	const char *v = ykvs_get(a, key);

	return v ? v : b ? ykvs_get(b, key) : NULL;
}

static const char *first_label(const struct ykvs *a, const struct ykvs *b,
			       const char *const *keys, const char *def)
{
	for (size_t i = 0; keys[i]; i++) {
		const char *v = label2(a, b, keys[i]);

		if (v && v[0])
			return v;
	}
	return def;
}

/* Append one workload; false on ENOMEM. */
static bool wl_add(struct wl_list *l, const union weft_addr *addr,
		   const char *ns, const char *name, size_t name_len,
		   const char *sa, const struct ykvs *labels,
		   const struct ykvs *labels2, int rank)
{
	static const char *const app_keys[] = {
		"service.istio.io/canonical-name", "app.kubernetes.io/name",
		"app", NULL,
	};
	static const char *const ver_keys[] = {
		"service.istio.io/canonical-revision",
		"app.kubernetes.io/version", "version", NULL,
	};
	struct wl_tmp *t;
	int nl = name_len > LB_WORKLOAD_MAX ? LB_WORKLOAD_MAX : (int)name_len;

	if (vec_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return false;
	t = &l->v[l->n];
	memset(t, 0, sizeof(*t));
	t->rank = rank;
	t->order = l->n++;
	t->w.addr = *addr;
	snprintf(t->w.ns, sizeof(t->w.ns), "%s", ns);
	snprintf(t->w.name, sizeof(t->w.name), "%.*s", nl, name);
	snprintf(t->w.service_account, sizeof(t->w.service_account), "%s",
		 sa && sa[0] ? sa : "default");
	snprintf(t->w.app, sizeof(t->w.app), "%s",
		 first_label(labels, labels2, app_keys, t->w.name));
	snprintf(t->w.version, sizeof(t->w.version), "%s",
		 first_label(labels, labels2, ver_keys, "latest"));
	return true;
}

/* Istio's workload name of a Pod; *len: its length in *out. */
static const char *pod_workload(const struct k8s_pod *pod, size_t *len)
{
	const struct k8s_owner_ref *o = NULL;
	const char *hash, *dash;
	size_t n, hl;

	for (size_t i = 0; i < pod->nowners && !o; i++)
		if (pod->owners[i].controller)
			o = &pod->owners[i];
	if (!o && pod->nowners)
		o = &pod->owners[0];
	if (!o) {
		*len = strlen(pod->meta.name);
		return pod->meta.name;
	}
	n = strlen(o->name);
	*len = n;
	if (strcmp(o->kind, "ReplicaSet"))
		return o->name;
	hash = ykvs_get(&pod->meta.labels, "pod-template-hash");
	hl = hash ? strlen(hash) : 0;
	if (hl && n > hl + 1 && o->name[n - hl - 1] == '-' &&
	    !strcmp(o->name + n - hl, hash)) {
		*len = n - hl - 1;
		return o->name;
	}
	dash = strrchr(o->name, '-');
	if (dash && dash != o->name)
		*len = (size_t)(dash - o->name);
	return o->name;
}

static int cmp_wl(const void *pa, const void *pb)
{
	const struct wl_tmp *a = pa, *b = pb;
	int c = memcmp(&a->w.addr, &b->w.addr, sizeof(a->w.addr));

	if (c)
		return c;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	return a->order < b->order ? -1 : a->order > b->order;
}

bool mesh_workload_addrs_each(const struct mesh_config *cfg,
			      bool (*fn)(void *ctx,
					 const struct mesh_workload_addr *w),
			      void *ctx)
{
	struct mesh_workload_addr w;

	for (size_t i = 0; i < cfg->npods; i++) {
		const struct k8s_pod *pod = &cfg->pods[i];

		if (pod->host_network)
			continue;
		w = (struct mesh_workload_addr){
			.ns = pod->meta.ns,
			.service_account = pod->service_account,
			.labels = &pod->meta.labels,
			.rank = pod->phase == K8S_POD_SUCCEEDED ||
				pod->phase == K8S_POD_FAILED ||
				pod->meta.deleting,
		};
		w.name = pod_workload(pod, &w.name_len);
		for (size_t j = 0; j < pod->nips; j++) {
			w.addr = &pod->ips[j];
			if (!fn(ctx, &w))
				return false;
		}
	}
	for (size_t i = 0; i < cfg->nworkload_entries; i++) {
		const struct istio_workload_entry *we =
			&cfg->workload_entries[i];

		if (we->spec.addr_kind != ISTIO_ADDR_IP)
			continue;
		w = (struct mesh_workload_addr){
			.addr = &we->spec.ip, .ns = we->meta.ns,
			.name = we->meta.name,
			.name_len = strlen(we->meta.name),
			.service_account = we->spec.service_account,
			.labels = &we->spec.labels, .labels2 = &we->meta.labels,
		};
		if (!fn(ctx, &w))
			return false;
	}
	for (size_t i = 0; i < cfg->nservice_entries; i++) {
		const struct istio_service_entry *se = &cfg->service_entries[i];

		for (size_t j = 0; j < se->nendpoints; j++) {
			const struct istio_workload *ep = &se->endpoints[j];

			if (ep->addr_kind != ISTIO_ADDR_IP)
				continue;
			w = (struct mesh_workload_addr){
				.addr = &ep->ip, .ns = se->meta.ns,
				.name = se->meta.name,
				.name_len = strlen(se->meta.name),
				.service_account = ep->service_account,
				.labels = &ep->labels,
			};
			if (!fn(ctx, &w))
				return false;
		}
	}
	return true;
}

static bool wl_collect_one(void *ctx, const struct mesh_workload_addr *w)
{
	return wl_add(ctx, w->addr, w->ns, w->name, w->name_len,
		      w->service_account, w->labels, w->labels2, w->rank);
}

static bool wl_collect(const struct mesh_config *cfg, struct wl_list *l)
{
	return mesh_workload_addrs_each(cfg, wl_collect_one, l);
}

int lb_workloads_build(struct lb_build *b, struct lb_state *out)
{
	struct wl_list l = { 0 };
	size_t n = 0;

	if (!wl_collect(b->cfg, &l)) {
		free(l.v);
		return -ENOMEM;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_wl);
	out->workloads = calloc(l.n ? l.n : 1, sizeof(*out->workloads));
	if (!out->workloads) {
		free(l.v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l.n; i++)
		if (!n || memcmp(&out->workloads[n - 1].addr, &l.v[i].w.addr,
				 sizeof(l.v[i].w.addr)))
			out->workloads[n++] = l.v[i].w;
	out->nworkloads = n;
	free(l.v);
	return 0;
}
