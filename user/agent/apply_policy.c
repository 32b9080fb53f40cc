// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "apply_policy.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/abi.h>

#include "log.h"
#include "map_util.h"
#include "vec.h"

static __u32 tag(__u32 id, __u32 gen)
{
	return id && gen ? id | WEFT_POLICY_GEN_BIT : id;
}

static bool tagged(__u32 id, __u32 gen)
{
	return id && !!(id & WEFT_POLICY_GEN_BIT) == !!gen;
}

static int config_read(const struct datapath_maps *maps,
		       struct weft_policy_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(maps->policy_config, &zero, cfg))
		return -errno;
	return 0;
}

/*
 * The rows of one generation, table by table: a key's 32-bit field at
 * `off` is either the generation itself (kind GEN_FIELD) or an id tagged
 * for it (kind GEN_TAG, see tag()).
 */
enum gen_kind { GEN_FIELD, GEN_TAG };

struct gen_rows {
	__u32 gen;
	size_t off;
	enum gen_kind kind;
};

static bool of_generation(const void *key, const void *arg)
{
	const struct gen_rows *g = arg;
	__u32 v;

	memcpy(&v, (const unsigned char *)key + g->off, sizeof(v));
	return g->kind == GEN_FIELD ? v == g->gen : tagged(v, g->gen);
}

/* Delete every row written for generation gen. */
static int delete_generation(const struct datapath_maps *maps, __u32 gen,
			     size_t *deleted)
{
	const struct {
		int fd;
		size_t key_size, off;
		enum gen_kind kind;
	} tables[] = {
		{ maps->policy_dst, sizeof(struct weft_policy_dst_key),
		  offsetof(struct weft_policy_dst_key, gen), GEN_FIELD },
		{ maps->policy_ident, sizeof(struct weft_policy_ident_key),
		  offsetof(struct weft_policy_ident_key, gen), GEN_FIELD },
		{ maps->policy_src_ident, sizeof(struct weft_policy_src_ident_key),
		  offsetof(struct weft_policy_src_ident_key, set_id), GEN_TAG },
		{ maps->policy_src_net, sizeof(struct weft_policy_src_net_key),
		  offsetof(struct weft_policy_src_net_key, set_id), GEN_TAG },
		{ maps->policy_verdict, sizeof(struct weft_policy_verdict_key),
		  offsetof(struct weft_policy_verdict_key, set_id), GEN_TAG },
		{ maps->policy_ident_meta, sizeof(__u32), 0, GEN_TAG },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && !err; i++) {
		struct gen_rows g = { gen, tables[i].off, tables[i].kind };

		err = map_delete_matching(tables[i].fd, tables[i].key_size,
					  of_generation, &g, deleted);
	}
	return err;
}

/* ---- stable policy ids ---------------------------------------------------- */

struct policy_id {
	__u32 id;
	struct weft_policy_meta meta;
	bool wanted;
};

static int read_policy_ids(int fd, struct policy_id **out, size_t *n)
{
	struct policy_id *ids = NULL;
	size_t cap = 0;
	__u32 key, *prev = NULL;

	*n = 0;
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		prev = &key;
		if (vec_reserve((void **)&ids, &cap, *n + 1, sizeof(*ids))) {
			free(ids);
			return -ENOMEM;
		}
		memset(&ids[*n], 0, sizeof(ids[*n]));
		ids[*n].id = key;
		if (!bpf_map_lookup_elem(fd, &key, &ids[*n].meta))
			(*n)++;
	}
	*out = ids;
	return 0;
}

/* Stable id of every compiled policy into stable[], new ones allocated. */
static int assign_policy_ids(const struct datapath_maps *maps,
			     const struct policy_state *ps, __u32 *stable,
			     struct apply_policy_result *res)
{
	struct policy_id *cur = NULL;
	struct id_pool pool = {};
	size_t ncur = 0;
	int err;

	err = read_policy_ids(maps->policy_meta, &cur, &ncur);
	err = err ?: id_pool_init(&pool, WEFT_MAX_POLICIES);
	if (err)
		goto out;
	for (size_t i = 0; i < ncur; i++)
		id_pool_mark(&pool, cur[i].id);
	for (size_t p = 0; p < ps->npolicies && !err; p++) {
		const struct policy_info *pi = &ps->policies[p];
		struct weft_policy_meta meta = {};

		copy_str(meta.ns, sizeof(meta.ns), pi->ns);
		copy_str(meta.name, sizeof(meta.name), pi->name);
		meta.action = pi->action;
		meta.enforced = pi->enforced;
		meta.rules = (__u32)pi->nrules;
		stable[p] = 0;
		for (size_t i = 0; i < ncur; i++) {
			if (!cur[i].wanted &&
			    !strcmp(cur[i].meta.ns, meta.ns) &&
			    !strcmp(cur[i].meta.name, meta.name)) {
				cur[i].wanted = true;
				stable[p] = cur[i].id;
				break;
			}
		}
		if (!stable[p]) {
			stable[p] = id_pool_take(&pool);
			if (!stable[p]) {
				pr_warn("more than %u AuthorizationPolicies\n",
					WEFT_MAX_POLICIES - 1);
				err = -ENOSPC;
				break;
			}
			res->policies_added++;
		}
		err = map_write(maps->policy_meta, &stable[p], &meta,
				"weft_policy_meta");
	}
	/* Ids of removed policies: forgotten after the flip (see below). */
	for (size_t i = 0; i < ncur && !err; i++)
		if (!cur[i].wanted)
			stable[ps->npolicies + res->policies_removed++] =
				cur[i].id;
out:
	id_pool_free(&pool);
	free(cur);
	return err;
}

/* The policies apply_policy() removed, for map_delete_matching(). */
struct removed_policies {
	const __u32 *ids;
	size_t n;
};

static bool stats_of_removed(const void *key, const void *arg)
{
	const struct weft_policy_stats_key *k = key;
	const struct removed_policies *r = arg;

	for (size_t i = 0; i < r->n; i++)
		if (k->policy == r->ids[i])
			return true;
	return false;
}

/* Forget removed policies: their name and their counters. */
static void forget_policies(const struct datapath_maps *maps,
			    const __u32 *removed, size_t n)
{
	struct removed_policies r = { removed, n };
	size_t deleted = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		map_remove(maps->policy_meta, &removed[i]);
	map_delete_matching(maps->policy_stats,
			    sizeof(struct weft_policy_stats_key),
			    stats_of_removed, &r, &deleted);
}

/* ---- the tables ------------------------------------------------------------ */

static __u32 stable_of(const __u32 *stable, size_t npolicies, __u32 index)
{
	return index < npolicies ? stable[index] : WEFT_POLICY_NONE;
}

static int write_tables(const struct datapath_maps *maps,
			const struct policy_state *ps, const __u32 *stable,
			__u32 gen, size_t *rows)
{
	int err = 0;
	size_t i;

	for (i = 0; i < ps->nidentities && !err; i++) {
		struct weft_policy_ident_meta meta = {};
		__u32 id = tag((__u32)i + 1, gen);

		copy_str(meta.principal, sizeof(meta.principal),
			 ps->identities[i].principal);
		err = map_write(maps->policy_ident_meta, &id, &meta,
				"weft_policy_ident_meta");
	}
	for (i = 0; i < ps->nsrc_ident && !err; i++) {
		struct weft_policy_src_ident_key k = ps->src_ident[i].k;

		k.set_id = tag(k.set_id, gen);
		k.identity = tag(k.identity, gen);
		err = map_write(maps->policy_src_ident, &k, &ps->src_ident[i].v,
				"weft_policy_src_ident");
	}
	for (i = 0; i < ps->nsrc_net && !err; i++) {
		struct weft_policy_src_net_key k = ps->src_net[i].k;

		k.set_id = tag(k.set_id, gen);
		err = map_write(maps->policy_src_net, &k, &ps->src_net[i].v,
				"weft_policy_src_net");
	}
	for (i = 0; i < ps->nverdicts && !err; i++) {
		struct weft_policy_verdict_key k = ps->verdicts[i].k;
		struct weft_policy_verdict v = ps->verdicts[i].v;

		k.set_id = tag(k.set_id, gen);
		v.policy = stable_of(stable, ps->npolicies, v.policy);
		v.audit_policy = stable_of(stable, ps->npolicies,
					   v.audit_policy);
		err = map_write(maps->policy_verdict, &k, &v,
				"weft_policy_verdict");
	}
	/* Addresses last: nothing reaches the rows above before them (and
	 * nothing reaches these before the flip). */
	for (i = 0; i < ps->nident && !err; i++) {
		struct weft_policy_ident_key k = ps->ident[i].k;
		struct weft_policy_ident_value v = ps->ident[i].v;

		k.gen = gen;
		v.identity = tag(v.identity, gen);
		err = map_write(maps->policy_ident, &k, &v,
				"weft_policy_ident");
	}
	for (i = 0; i < ps->ndst && !err; i++) {
		struct weft_policy_dst_key k = ps->dst[i].k;
		struct weft_policy_dst_value v = ps->dst[i].v;

		k.gen = gen;
		v.set_id = tag(v.set_id, gen);
		err = map_write(maps->policy_dst, &k, &v, "weft_policy_dst");
	}
	*rows = ps->nidentities + ps->nsrc_ident + ps->nsrc_net +
		ps->nverdicts + ps->nident + ps->ndst;
	return err;
}

int apply_policy(const struct datapath_maps *maps, const struct policy_state *ps,
		 uint64_t generation, struct apply_policy_result *res)
{
	struct weft_policy_config cfg = {}, next = {};
	__u32 *stable, zero = 0;
	size_t nids;
	int err;

	memset(res, 0, sizeof(*res));
	err = config_read(maps, &cfg);
	if (err)
		return err;
	next.active_gen = cfg.active_gen ^ 1;
	next.enforced_protos = ps->enforced_protos;
	next.nsets = ps->nsets > 1 ? (__u32)ps->nsets - 1 : 0;
	next.generation = generation;

	/* room for every compiled policy plus every id now in the map */
	nids = ps->npolicies + WEFT_MAX_POLICIES;
	stable = calloc(nids, sizeof(*stable));
	if (!stable)
		return -ENOMEM;
	err = delete_generation(maps, next.active_gen, &res->stale_deleted);
	err = err ?: assign_policy_ids(maps, ps, stable, res);
	err = err ?: write_tables(maps, ps, stable, next.active_gen, &res->rows);
	if (err) {
		/* The generation in force is untouched; the half-written one
		 * is deleted by the next apply or garbage collection. */
		free(stable);
		return err;
	}
	err = map_write(maps->policy_config, &zero, &next, "weft_policy_config");
	if (!err) {
		forget_policies(maps, stable + ps->npolicies,
				res->policies_removed);
		res->gen = next.active_gen;
		res->policies = (uint32_t)ps->npolicies;
	}
	free(stable);
	return err;
}

int apply_policy_collect_garbage(const struct datapath_maps *maps)
{
	struct weft_policy_config cfg;
	size_t deleted = 0;
	int err = config_read(maps, &cfg);

	err = err ?: delete_generation(maps, cfg.active_gen ^ 1, &deleted);
	return err ? err : (int)deleted;
}
