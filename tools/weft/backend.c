// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* weft backend list: every weft_backends entry with its metadata. */
#include "main.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "snapshot.h"
#include "table.h"

static void backend_json(struct cli_ctx *ctx, const struct snapshot *snap)
{
	struct json_writer *w = &ctx->jw;
	char addr[INET6_ADDRSTRLEN];

	json_array_begin(w);
	for (size_t i = 0; i < snap->nbackends; i++) {
		const struct snap_backend *b = &snap->backends[i];

		json_object_begin(w);
		json_kv_u64(w, "id", b->id);
		json_kv_string(w, "address",
			       cli_addr_str(&b->be.addr, addr, sizeof(addr)));
		json_kv_u64(w, "port", ntohs(b->be.port));
		json_kv_string(w, "workload", b->workload);
		json_kv_u64(w, "refs", b->refs);
		json_kv_i64(w, "active", b->active);
		json_object_end(w);
	}
	json_array_end(w);
}

static int backend_text(const struct snapshot *snap)
{
	static const char *const header[] = { "ID", "ADDRESS", "WORKLOAD",
					      "REFS", "ACTIVE" };
	char id[16], addr[CLI_ADDR_PORT_LEN], refs[16], active[24];
	struct table t;
	int err;

	/* ID, REFS and ACTIVE right-aligned. */
	err = table_init(&t, 5, header, 1u << 0 | 1u << 3 | 1u << 4);
	for (size_t i = 0; !err && i < snap->nbackends; i++) {
		const struct snap_backend *b = &snap->backends[i];

		snprintf(id, sizeof(id), "%u", b->id);
		snprintf(refs, sizeof(refs), "%u", b->refs);
		snprintf(active, sizeof(active), "%lld", (long long)b->active);
		cli_addr_port_str(&b->be.addr, b->be.port, addr, sizeof(addr));
		err = table_add(&t, id, addr, b->workload, refs, active);
	}
	if (!err)
		table_print(&t, stdout);
	table_free(&t);
	return err;
}

static int backend_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct datapath_maps maps;
	struct snapshot snap = {};
	int err;

	err = cli_no_args(ctx, "backend list", argc, argv);
	if (err)
		return err;
	err = cli_maps_open(ctx, &maps, NULL, 0);
	if (err)
		return err;
	err = snapshot_backends(ctx, &maps, &snap);
	datapath_maps_close(&maps);
	if (err)
		return CLI_EXIT_ERROR;
	if (ctx->json) {
		backend_json(ctx, &snap);
		err = cli_json_end(ctx);
	} else if (backend_text(&snap)) {
		err = cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	}
	snapshot_free(&snap);
	return err;
}

static int backend_help(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char text[] =
		"Usage: weft backend { list | help }\n"
		"  list  every backend: id, address:port, workload, how many\n"
		"        services (VIP, port, protocol) use it, and its open\n"
		"        connections (weft_backend_active, what least_request\n"
		"        compares)\n";
	int err = cli_no_args(ctx, "backend help", argc, argv);

	return err ? err : cli_usage(ctx, text);
}

int do_backend(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "list", backend_list },
		{ "help", backend_help },
		{ NULL, NULL },
	};

	return cli_dispatch(ctx, "backend command", cmds, argc, argv);
}
