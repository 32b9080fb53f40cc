// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft cluster list: every weft_clusters entry with its name, policy, slot
 * count and the backends of its slots.
 */
#include "main.h"

#include <errno.h>
#include <stdlib.h>

#include "snapshot.h"
#include "table.h"

static void cluster_json(struct cli_ctx *ctx, const struct snapshot *snap)
{
	struct json_writer *w = &ctx->jw;
	char policy[8];

	json_array_begin(w);
	for (size_t i = 0; i < snap->nclusters; i++) {
		const struct snap_cluster *c = &snap->clusters[i];

		json_object_begin(w);
		json_kv_u64(w, "id", c->id);
		json_kv_string(w, "name", c->name);
		json_kv_string(w, "policy", cli_policy_str(c->cl.policy, policy,
							   sizeof(policy)));
		json_kv_u64(w, "slots", c->cl.count);
		if (c->cl.policy == WEFT_LB_MAGLEV)
			json_kv_u64(w, "maglev_table", c->cl.maglev_table);
		else
			json_kv_null(w, "maglev_table");
		json_key(w, "backends");
		snapshot_backends_json(w, c->backends, c->nbackends);
		json_object_end(w);
	}
	json_array_end(w);
}

static int cluster_text(const struct snapshot *snap)
{
	static const char *const header[] = { "ID",     "NAME",   "POLICY",
					      "SLOTS",  "MAGLEV", "ENDPOINTS" };
	char id[16], slots[16], table[16], policy[8];
	struct table t;
	int err;

	/* ID, SLOTS and MAGLEV right-aligned. */
	err = table_init(&t, 6, header, 1u << 0 | 1u << 3 | 1u << 4);
	for (size_t i = 0; !err && i < snap->nclusters; i++) {
		const struct snap_cluster *c = &snap->clusters[i];
		char *endpoints = snapshot_endpoints(c->backends, c->nbackends);

		if (!endpoints) {
			err = -ENOMEM;
			break;
		}
		snprintf(id, sizeof(id), "%u", c->id);
		snprintf(slots, sizeof(slots), "%u", c->cl.count);
		if (c->cl.policy == WEFT_LB_MAGLEV)
			snprintf(table, sizeof(table), "%u", c->cl.maglev_table);
		else
			table[0] = '\0';
		err = table_add(&t, id, c->name,
				cli_policy_str(c->cl.policy, policy,
					       sizeof(policy)),
				slots, table, endpoints);
		free(endpoints);
	}
	if (!err)
		table_print(&t, stdout);
	table_free(&t);
	return err;
}

static int cluster_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct datapath_maps maps;
	struct snapshot snap = {};
	int err;

	err = cli_no_args(ctx, "cluster list", argc, argv);
	if (err)
		return err;
	err = cli_maps_open(ctx, &maps, NULL, 0);
	if (err)
		return err;
	err = snapshot_clusters(ctx, &maps, &snap, true);
	datapath_maps_close(&maps);
	if (err) {
		err = CLI_EXIT_ERROR;
	} else if (ctx->json) {
		cluster_json(ctx, &snap);
		err = cli_json_end(ctx);
	} else if (cluster_text(&snap)) {
		err = cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	}
	snapshot_free(&snap);
	return err;
}

static int cluster_help(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char text[] =
		"Usage: weft cluster { list | help }\n"
		"  list  every cluster: id, name (outbound|port|subset|host),\n"
		"        policy, slot count, maglev table (maglev only) and its\n"
		"        backends in slot order (ADDR:PORT*N: N slots, its weight)\n";
	int err = cli_no_args(ctx, "cluster help", argc, argv);

	return err ? err : cli_usage(ctx, text);
}

int do_cluster(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "list", cluster_list },
		{ "help", cluster_help },
		{ NULL, NULL },
	};

	return cli_dispatch(ctx, "cluster command", cmds, argc, argv);
}
