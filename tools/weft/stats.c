// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft stats: per-service counters (weft_service_stats), TCP connection
 * series by service, backend and client (weft_tcp_stats), datapath-wide
 * counters (weft_counters) and AuthorizationPolicy decisions by policy and
 * by reason (weft_policy_stats), each summed over all possible CPUs.
 */
#include "main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "snapshot.h"
#include "stats_accel.h"
#include "table.h"

struct stats_view {
	struct snapshot snap;
	struct weft_service_stats *svc; /* parallel to snap.services */
	size_t *by_id;                  /* snap.services indexes by id */
	__u64 counters[WEFT_CNT__MAX];
	struct stats_accel accel; /* same-node acceleration */
};

static int cmp_by_id(const void *x, const void *y, void *arg)
{
	const struct snap_service *svcs = arg;
	__u32 a = svcs[*(const size_t *)x].val.service_id;
	__u32 b = svcs[*(const size_t *)y].val.service_id;

	return a < b ? -1 : a > b;
}

/* The service with this id, NULL when it is gone. */
static const struct snap_service *stats_service(const struct stats_view *v,
						__u32 id)
{
	size_t lo = 0, hi = v->snap.nservices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snap_service *s = &v->snap.services[v->by_id[mid]];

		if (s->val.service_id == id)
			return s;
		if (s->val.service_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Connections in service list order (host, VIP, port), gone ones last. */
static int cmp_conn(const void *x, const void *y, void *arg)
{
	const struct stats_view *v = arg;
	const struct snap_conn *a = x, *b = y;
	const struct snap_service *sa = stats_service(v, a->key.service_id);
	const struct snap_service *sb = stats_service(v, b->key.service_id);
	size_t pa = sa ? (size_t)(sa - v->snap.services) : SIZE_MAX;
	size_t pb = sb ? (size_t)(sb - v->snap.services) : SIZE_MAX;

	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (a->key.service_id != b->key.service_id)
		return a->key.service_id < b->key.service_id ? -1 : 1;
	if (a->key.backend_id != b->key.backend_id)
		return a->key.backend_id < b->key.backend_id ? -1 : 1;
	return memcmp(&a->key.source, &b->key.source, sizeof(a->key.source));
}

static int stats_read(struct cli_ctx *ctx, const struct datapath_maps *maps,
		      struct stats_view *v)
{
	int err;

	err = snapshot_services(ctx, maps, &v->snap);
	err = err ?: snapshot_backends(ctx, maps, &v->snap);
	err = err ?: snapshot_conns(ctx, maps, &v->snap);
	err = err ?: snapshot_policies(ctx, maps, &v->snap);
	if (err)
		return err;
	v->svc = calloc(v->snap.nservices + 1, sizeof(*v->svc));
	v->by_id = calloc(v->snap.nservices + 1, sizeof(*v->by_id));
	if (!v->svc || !v->by_id) {
		cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->snap.nservices; i++)
		v->by_id[i] = i;
	if (v->snap.nservices)
		qsort_r(v->by_id, v->snap.nservices, sizeof(*v->by_id),
			cmp_by_id, v->snap.services);
	if (v->snap.nconns)
		qsort_r(v->snap.conns, v->snap.nconns, sizeof(*v->snap.conns),
			cmp_conn, v);
	for (size_t i = 0; i < v->snap.nservices; i++) {
		err = datapath_service_stats_read(maps->service_stats,
						  v->snap.services[i].val.service_id,
						  &v->svc[i]);
		/* A service id past the array's end has no counters. */
		if (err && err != -ENOENT) {
			cli_error(ctx, CLI_EXIT_ERROR,
				  "reading weft_service_stats[%u]: %s",
				  v->snap.services[i].val.service_id,
				  strerror(-err));
			return err;
		}
	}
	for (__u32 i = 0; i < WEFT_CNT__MAX; i++) {
		err = datapath_counter_read(maps->counters, i, &v->counters[i]);
		if (err && err != -ENOENT) {
			cli_error(ctx, CLI_EXIT_ERROR,
				  "reading weft_counters[%u]: %s", i,
				  strerror(-err));
			return err;
		}
	}
	return 0;
}

/* One count of p over every point. */
static __u64 policy_total(const struct snap_policy *p,
			  enum snap_policy_count what)
{
	__u64 sum = 0;

	for (int pt = 0; pt < WEFT_POLICY_POINT__MAX; pt++)
		sum += p->n[pt][what];
	return sum;
}

/* {"allow":N,"deny":N,"audit":N} members of one point, or of all. */
static void policy_counts_json(struct json_writer *w,
			       const struct snap_policy *p, int point)
{
	static const char *const names[SNAP_POLICY__COUNTS] = {
		"allow", "deny", "audit"
	};

	for (int c = 0; c < SNAP_POLICY__COUNTS; c++)
		json_kv_u64(w, names[c], point < 0 ? policy_total(p, c) :
						     p->n[point][c]);
}

/*
 * "policies": every policy, the gone ones with a null name, and last the
 * decisions no policy made (id null); "policy_reasons": every reason.
 */
static void policies_json(struct json_writer *w, const struct snapshot *snap)
{
	json_key(w, "policies");
	json_array_begin(w);
	for (size_t i = 0; i < snap->npolicies; i++) {
		const struct snap_policy *p = &snap->policies[i];

		json_object_begin(w);
		if (p->id == WEFT_POLICY_NONE)
			json_kv_null(w, "id");
		else
			json_kv_u64(w, "id", p->id);
		json_kv_string(w, "namespace", p->named ? p->ns : NULL);
		json_kv_string(w, "name", p->named ? p->name : NULL);
		json_kv_string(w, "action",
			       p->named ? cli_authz_action_str(p->action) : NULL);
		if (p->named) {
			json_kv_bool(w, "enforced", p->enforced);
			json_kv_u64(w, "rules", p->rules);
		} else {
			json_kv_null(w, "enforced");
			json_kv_null(w, "rules");
		}
		policy_counts_json(w, p, -1);
		for (int pt = 0; pt < WEFT_POLICY_POINT__MAX; pt++) {
			json_key(w, policy_point_name(pt));
			json_object_begin(w);
			policy_counts_json(w, p, pt);
			json_object_end(w);
		}
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "policy_reasons");
	json_array_begin(w);
	for (int r = 0; r < WEFT_POLICY_REASON__MAX; r++) {
		__u64 total = 0;

		json_object_begin(w);
		json_kv_string(w, "reason", policy_reason_name(r));
		for (int pt = 0; pt < WEFT_POLICY_POINT__MAX; pt++) {
			json_kv_u64(w, policy_point_name(pt), snap->reasons[r][pt]);
			total += snap->reasons[r][pt];
		}
		json_kv_u64(w, "total", total);
		json_object_end(w);
	}
	json_array_end(w);
}

static void stats_json(struct cli_ctx *ctx, const struct stats_view *v)
{
	struct json_writer *w = &ctx->jw;
	char addr[INET6_ADDRSTRLEN], proto[8];

	json_object_begin(w);
	json_key(w, "services");
	json_array_begin(w);
	for (size_t i = 0; i < v->snap.nservices; i++) {
		const struct snap_service *s = &v->snap.services[i];

		json_object_begin(w);
		json_kv_u64(w, "id", s->val.service_id);
		json_kv_string(w, "host", s->host);
		json_kv_string(w, "vip",
			       cli_addr_str(&s->key.vip, addr, sizeof(addr)));
		json_kv_u64(w, "port", ntohs(s->key.port));
		json_kv_string(w, "protocol",
			       cli_proto_str(s->key.proto, proto, sizeof(proto)));
		json_kv_u64(w, "connects", v->svc[i].connects);
		json_kv_u64(w, "datagrams", v->svc[i].datagrams);
		json_kv_u64(w, "no_backend", v->svc[i].no_backend);
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "connections");
	json_array_begin(w);
	for (size_t i = 0; i < v->snap.nconns; i++) {
		const struct snap_conn *c = &v->snap.conns[i];
		const struct snap_service *s = stats_service(v, c->key.service_id);
		const struct snap_backend *b =
			snapshot_backend(&v->snap, c->key.backend_id);

		json_object_begin(w);
		json_kv_u64(w, "service_id", c->key.service_id);
		json_kv_string(w, "host", s ? s->host : "");
		json_kv_u64(w, "backend_id", c->key.backend_id);
		/* null: the backend is gone from weft_backends */
		json_kv_string(w, "backend_address",
			       b ? cli_addr_str(&b->be.addr, addr, sizeof(addr))
				 : NULL);
		if (b)
			json_kv_u64(w, "backend_port", ntohs(b->be.port));
		else
			json_kv_null(w, "backend_port");
		json_kv_string(w, "workload", b ? b->workload : "");
		json_kv_string(w, "source", cli_addr_str(&c->key.source, addr,
							  sizeof(addr)));
		json_kv_u64(w, "opened", c->st.opened);
		json_kv_u64(w, "closed", c->st.closed);
		json_kv_u64(w, "sent_bytes", c->st.sent_bytes);
		json_kv_u64(w, "received_bytes", c->st.received_bytes);
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "counters");
	json_object_begin(w);
	for (unsigned int i = 0; i < WEFT_CNT__MAX; i++)
		json_kv_u64(w, weft_counter_name(i), v->counters[i]);
	json_object_end(w);
	policies_json(w, &v->snap);
	stats_accel_json(w, &v->accel);
	json_object_end(w);
}

/* Print t (then a blank line when more follows) unless err; free it. */
static int table_done(struct table *t, int err, bool more)
{
	if (!err)
		table_print(t, stdout);
	if (!err && more)
		putchar('\n');
	table_free(t);
	return err;
}

static int conns_text(const struct stats_view *v)
{
	static const char *const header[] = {
		"HOST",   "SERVICE", "BACKEND",    "WORKLOAD",      "SOURCE",
		"OPENED", "CLOSED",  "SENT_BYTES", "RECEIVED_BYTES"
	};
	char svc[CLI_ADDR_PORT_LEN + 8], backend[CLI_ADDR_PORT_LEN];
	char source[INET6_ADDRSTRLEN], proto[8], num[4][24];
	struct table t;
	int err;

	err = table_init(&t, 9, header, 0xfu << 5);
	for (size_t i = 0; !err && i < v->snap.nconns; i++) {
		const struct snap_conn *c = &v->snap.conns[i];
		const struct snap_service *s = stats_service(v, c->key.service_id);
		const struct snap_backend *b =
			snapshot_backend(&v->snap, c->key.backend_id);
		char vip[CLI_ADDR_PORT_LEN];

		if (s) {
			cli_addr_port_str(&s->key.vip, s->key.port, vip,
					  sizeof(vip));
			snprintf(svc, sizeof(svc), "%s/%s", vip,
				 cli_proto_str(s->key.proto, proto,
					       sizeof(proto)));
		} else {
			snprintf(svc, sizeof(svc), "#%u", c->key.service_id);
		}
		if (b)
			cli_addr_port_str(&b->be.addr, b->be.port, backend,
					  sizeof(backend));
		else
			snprintf(backend, sizeof(backend), "#%u",
				 c->key.backend_id);
		cli_addr_str(&c->key.source, source, sizeof(source));
		snprintf(num[0], sizeof(num[0]), "%" PRIu64,
			 (uint64_t)c->st.opened);
		snprintf(num[1], sizeof(num[1]), "%" PRIu64,
			 (uint64_t)c->st.closed);
		snprintf(num[2], sizeof(num[2]), "%" PRIu64,
			 (uint64_t)c->st.sent_bytes);
		snprintf(num[3], sizeof(num[3]), "%" PRIu64,
			 (uint64_t)c->st.received_bytes);
		err = table_add(&t, s ? s->host : NULL, svc, backend,
				b ? b->workload : NULL, source, num[0], num[1],
				num[2], num[3]);
	}
	return table_done(&t, err, false);
}

/* Decimal counts into num[0..n-1] (24 bytes each). */
static void counts_str(char (*num)[24], const __u64 *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(num[i], sizeof(num[i]), "%" PRIu64, (uint64_t)v[i]);
}

/*
 * A row per policy with its totals and under it a row per point that saw
 * any; "(none)" holds the decisions no policy made, "#id" a policy gone
 * from weft_policy_meta since it was counted.
 */
static int policies_text(const struct snapshot *snap)
{
	static const char *const header[] = {
		"POLICY", "ACTION", "ALLOW", "DENY", "AUDIT"
	};
	static const char *const detail[] = { "POINT", "ALLOW", "DENY", "AUDIT" };
	char name[sizeof(snap->policies->ns) + sizeof(snap->policies->name)];
	char action[32], num[SNAP_POLICY__COUNTS][24];
	__u64 total[SNAP_POLICY__COUNTS];
	struct table t;
	int err;

	err = table_init(&t, 5, header, 0x7u << 2);
	err = err ?: table_init_detail(&t, 4, detail, 0x7u << 1);
	for (size_t i = 0; !err && i < snap->npolicies; i++) {
		const struct snap_policy *p = &snap->policies[i];

		if (p->named)
			snprintf(name, sizeof(name), "%s/%s", p->ns, p->name);
		else if (p->id == WEFT_POLICY_NONE)
			snprintf(name, sizeof(name), "(none)");
		else
			snprintf(name, sizeof(name), "#%u", p->id);
		snprintf(action, sizeof(action), "%s%s",
			 p->named ? cli_authz_action_str(p->action) : "",
			 p->named && !p->enforced ? " (not enforced)" : "");
		for (int c = 0; c < SNAP_POLICY__COUNTS; c++)
			total[c] = policy_total(p, c);
		counts_str(num, total, SNAP_POLICY__COUNTS);
		err = table_add(&t, name, action, num[0], num[1], num[2]);
		for (int pt = 0; !err && pt < WEFT_POLICY_POINT__MAX; pt++) {
			if (!p->n[pt][0] && !p->n[pt][1] && !p->n[pt][2])
				continue;
			counts_str(num, p->n[pt], SNAP_POLICY__COUNTS);
			err = table_add_detail(&t, policy_point_name(pt), num[0],
					       num[1], num[2]);
		}
	}
	err = table_done(&t, err, true);
	if (err)
		return err;

	err = table_init(&t, 4, (const char *const[]){ "REASON", "INBOUND",
						       "CONNECT", "TOTAL" },
			 0x7u << 1);
	for (int r = 0; !err && r < WEFT_POLICY_REASON__MAX; r++) {
		__u64 row[3] = { snap->reasons[r][WEFT_POLICY_POINT_INBOUND],
				 snap->reasons[r][WEFT_POLICY_POINT_CONNECT] };

		row[2] = row[0] + row[1];
		counts_str(num, row, 3);
		err = table_add(&t, policy_reason_name(r), num[0], num[1],
				num[2]);
	}
	return table_done(&t, err, false);
}

static int stats_text(const struct stats_view *v)
{
	static const char *const svc_header[] = {
		"HOST", "SERVICE", "CONNECTS", "DATAGRAMS", "NO_BACKEND"
	};
	static const char *const cnt_header[] = { "COUNTER", "VALUE" };
	char vip[CLI_ADDR_PORT_LEN], svc[CLI_ADDR_PORT_LEN + 8], proto[8];
	char num[3][24];
	struct table t;
	int err;

	err = table_init(&t, 5, svc_header, 1u << 2 | 1u << 3 | 1u << 4);
	for (size_t i = 0; !err && i < v->snap.nservices; i++) {
		const struct snap_service *s = &v->snap.services[i];

		cli_addr_port_str(&s->key.vip, s->key.port, vip, sizeof(vip));
		snprintf(svc, sizeof(svc), "%s/%s", vip,
			 cli_proto_str(s->key.proto, proto, sizeof(proto)));
		snprintf(num[0], sizeof(num[0]), "%" PRIu64,
			 (uint64_t)v->svc[i].connects);
		snprintf(num[1], sizeof(num[1]), "%" PRIu64,
			 (uint64_t)v->svc[i].datagrams);
		snprintf(num[2], sizeof(num[2]), "%" PRIu64,
			 (uint64_t)v->svc[i].no_backend);
		err = table_add(&t, s->host, svc, num[0], num[1], num[2]);
	}
	err = table_done(&t, err, true);
	if (err)
		return err;

	err = conns_text(v);
	if (err)
		return err;

	putchar('\n');
	err = table_init(&t, 2, cnt_header, 1u << 1);
	for (unsigned int i = 0; !err && i < WEFT_CNT__MAX; i++) {
		snprintf(num[0], sizeof(num[0]), "%" PRIu64,
			 (uint64_t)v->counters[i]);
		err = table_add(&t, weft_counter_name(i), num[0]);
	}
	err = table_done(&t, err, true) ?: policies_text(&v->snap);
	if (err || !v->accel.present)
		return err;

	putchar('\n');
	return stats_accel_text(&v->accel);
}

int do_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	struct datapath_maps maps;
	struct stats_view v = {};
	int err;

	err = cli_no_args(ctx, "stats", argc, argv);
	if (err)
		return err;
	err = cli_maps_open(ctx, &maps, NULL, 0);
	if (err)
		return err;
	err = stats_read(ctx, &maps, &v);
	datapath_maps_close(&maps);
	if (!err && stats_accel_read(ctx, &v.accel))
		err = CLI_EXIT_ERROR; /* reported */
	if (err) {
		err = CLI_EXIT_ERROR;
	} else if (ctx->json) {
		stats_json(ctx, &v);
		err = cli_json_end(ctx);
	} else if (stats_text(&v)) {
		err = cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	}
	free(v.svc);
	free(v.by_id);
	snapshot_free(&v.snap);
	return err;
}
