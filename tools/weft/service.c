// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft service list: one row per (VIP, port, protocol) with its route, then
 * one indented row per destination cluster with its share, policy and
 * backends.
 */
#include "main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "table.h"

static const struct snap_cluster *dest_cluster(const struct snapshot *snap,
					       const struct snap_dest *d)
{
	return d->cluster == SNAP_NONE ? NULL : &snap->clusters[d->cluster];
}

static void service_json(struct cli_ctx *ctx, const struct snapshot *snap)
{
	struct json_writer *w = &ctx->jw;
	char addr[INET6_ADDRSTRLEN], proto[8], policy[8];

	json_array_begin(w);
	for (size_t i = 0; i < snap->nservices; i++) {
		const struct snap_service *s = &snap->services[i];

		json_object_begin(w);
		json_kv_u64(w, "id", s->val.service_id);
		json_kv_string(w, "host", s->host);
		json_kv_string(w, "namespace", s->ns);
		json_kv_string(w, "port_name", s->port_name);
		json_kv_string(w, "vip", cli_addr_str(&s->key.vip, addr,
						       sizeof(addr)));
		json_kv_u64(w, "port", ntohs(s->key.port));
		json_kv_string(w, "protocol",
			       cli_proto_str(s->key.proto, proto, sizeof(proto)));
		json_key(w, "route");
		json_array_begin(w);
		for (size_t d = 0; d < s->ndests; d++) {
			const struct snap_dest *dest = &s->dests[d];
			const struct snap_cluster *c = dest_cluster(snap, dest);

			json_object_begin(w);
			/* null: the cluster is missing from weft_clusters */
			json_kv_string(w, "cluster", c ? c->name : NULL);
			json_kv_u64(w, "cluster_id", dest->cluster_id);
			json_kv_u64(w, "weight", dest->weight);
			cli_json_kv_ratio(w, "share", dest->weight,
					  s->route_total);
			json_kv_string(w, "policy",
				       c ? cli_policy_str(c->cl.policy, policy,
							  sizeof(policy))
					 : NULL);
			json_key(w, "backends");
			snapshot_backends_json(w, c ? c->backends : NULL,
					       c ? c->nbackends : 0);
			json_object_end(w);
		}
		json_array_end(w);
		json_key(w, "backends");
		snapshot_backends_json(w, s->backends, s->nbackends);
		json_object_end(w);
	}
	json_array_end(w);
}

/*
 * A short name of a destination for the route summary: the subset of
 * "outbound|9080|v1|reviews.default.svc.cluster.local", prefixed with the
 * first label of its host when that is another service's ("ratings/v1"),
 * the host's first label when there is no subset, "#<id>" without a name.
 */
static void dest_label(const struct snap_service *s,
		       const struct snap_cluster *c, __u32 id, char *buf,
		       size_t len)
{
	const char *name = c ? c->name : "", *f[4] = { name };
	int subset_len, label_len, n = 1;

	for (const char *p = name; n < 4 && (p = strchr(p, '|'));)
		f[n++] = ++p;
	if (n < 4 || !f[3][0]) {
		snprintf(buf, len, "#%u", id);
		return;
	}
	subset_len = (int)(f[3] - 1 - f[2]);
	label_len = (int)strcspn(f[3], ".");
	if (!subset_len)
		snprintf(buf, len, "%.*s", label_len, f[3]);
	else if (!strcmp(s->host, f[3]))
		snprintf(buf, len, "%.*s", subset_len, f[2]);
	else
		snprintf(buf, len, "%.*s/%.*s", label_len, f[3], subset_len,
			 f[2]);
}

/* "v1 80.0%, v2 20.0%" into a new string, or NULL. */
static char *route_summary(const struct snapshot *snap,
			   const struct snap_service *s)
{
	char label[64], pct[16];
	size_t len = 0, size;
	char *buf;

	if (!s->ndests)
		return strdup("refused (no destination)");
	size = s->ndests * (sizeof(label) + sizeof(pct) + 4);
	buf = calloc(1, size);
	if (!buf)
		return NULL;
	for (size_t d = 0; d < s->ndests; d++) {
		const struct snap_dest *dest = &s->dests[d];

		dest_label(s, dest_cluster(snap, dest), dest->cluster_id, label,
			   sizeof(label));
		len += (size_t)snprintf(buf + len, size - len, "%s%s %s",
					d ? ", " : "", label,
					cli_percent_str(dest->weight,
							s->route_total, pct,
							sizeof(pct)));
	}
	return buf;
}

static int dest_row(struct table *t, const struct snapshot *snap,
		    const struct snap_service *s, const struct snap_dest *dest)
{
	const struct snap_cluster *c = dest_cluster(snap, dest);
	char pct[16], policy[8], missing[32];
	char *endpoints;
	int err;

	cli_percent_str(dest->weight, s->route_total, pct, sizeof(pct));
	if (!c) {
		snprintf(missing, sizeof(missing), "#%u (missing)",
			 dest->cluster_id);
		return table_add_detail(t, pct, missing, "-", "-");
	}
	if (c->cl.policy == WEFT_LB_PASSTHROUGH)
		endpoints = strdup("original destination");
	else
		endpoints = snapshot_endpoints(c->backends, c->nbackends);
	if (!endpoints)
		return -ENOMEM;
	err = table_add_detail(t, pct, c->name[0] ? c->name : NULL,
			       cli_policy_str(c->cl.policy, policy,
					      sizeof(policy)),
			       endpoints);
	free(endpoints);
	return err;
}

static int service_text(const struct snapshot *snap)
{
	static const char *const header[] = { "HOST", "NAMESPACE", "SERVICE",
					      "BACKENDS", "ROUTE" };
	static const char *const detail[] = { "SHARE", "CLUSTER", "POLICY",
					      "ENDPOINTS" };
	char vip[CLI_ADDR_PORT_LEN], svc[CLI_ADDR_PORT_LEN + 8], proto[8];
	char count[16];
	struct table t;
	int err;

	err = table_init(&t, 5, header, 1u << 3);
	err = err ?: table_init_detail(&t, 4, detail, 1u << 0);
	for (size_t i = 0; !err && i < snap->nservices; i++) {
		const struct snap_service *s = &snap->services[i];
		char *route = route_summary(snap, s);

		if (!route) {
			err = -ENOMEM;
			break;
		}
		cli_addr_port_str(&s->key.vip, s->key.port, vip, sizeof(vip));
		snprintf(svc, sizeof(svc), "%s/%s", vip,
			 cli_proto_str(s->key.proto, proto, sizeof(proto)));
		snprintf(count, sizeof(count), "%zu", s->nbackends);
		err = table_add(&t, s->host, s->ns, svc, count, route);
		free(route);
		for (size_t d = 0; !err && d < s->ndests; d++)
			err = dest_row(&t, snap, s, &s->dests[d]);
	}
	if (!err)
		table_print(&t, stdout);
	table_free(&t);
	return err;
}

static int service_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct datapath_maps maps;
	struct snapshot snap = {};
	int err;

	err = cli_no_args(ctx, "service list", argc, argv);
	if (err)
		return err;
	err = cli_maps_open(ctx, &maps, NULL, 0);
	if (err)
		return err;
	err = snapshot_services(ctx, &maps, &snap);
	err = err ?: snapshot_clusters(ctx, &maps, &snap, false);
	err = err ?: snapshot_routes(ctx, &snap);
	datapath_maps_close(&maps);
	if (err) {
		err = CLI_EXIT_ERROR;
	} else if (ctx->json) {
		service_json(ctx, &snap);
		err = cli_json_end(ctx);
	} else if (service_text(&snap)) {
		err = cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	}
	snapshot_free(&snap);
	return err;
}

static int service_help(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char text[] =
		"Usage: weft service { list | help }\n"
		"  list  one row per (VIP, port, protocol): host, namespace,\n"
		"        VIP:port/protocol, distinct backends and the route; under\n"
		"        it one row per destination cluster: share of new\n"
		"        connections, cluster, policy and backends in slot order\n"
		"        (ADDR:PORT*N: the backend holds N slots, its weight)\n";
	int err = cli_no_args(ctx, "service help", argc, argv);

	return err ? err : cli_usage(ctx, text);
}

int do_service(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "list", service_list },
		{ "help", service_help },
		{ NULL, NULL },
	};

	return cli_dispatch(ctx, "service command", cmds, argc, argv);
}
