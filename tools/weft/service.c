// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* weft service list: one row per (VIP, port, protocol) with its backends. */
#include "main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "table.h"

static void service_json(struct cli_ctx *ctx, const struct snapshot *snap)
{
	struct json_writer *w = &ctx->jw;
	char addr[INET6_ADDRSTRLEN], proto[8];

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
		json_key(w, "backends");
		json_array_begin(w);
		for (size_t j = 0; j < s->nbackends; j++) {
			const struct snap_backend *b = &s->backends[j];

			json_object_begin(w);
			json_kv_u64(w, "id", b->id);
			json_kv_string(w, "address",
				       cli_addr_str(&b->be.addr, addr,
						    sizeof(addr)));
			json_kv_u64(w, "port", ntohs(b->be.port));
			json_kv_string(w, "workload", b->workload);
			json_object_end(w);
		}
		json_array_end(w);
		json_object_end(w);
	}
	json_array_end(w);
}

/* "10.0.0.1:8080,10.0.0.2:8080" into a new string, or NULL. */
static char *service_endpoints(const struct snap_service *s)
{
	char one[CLI_ADDR_PORT_LEN];
	char *buf;
	size_t len = 0;

	buf = calloc(s->nbackends + 1, CLI_ADDR_PORT_LEN + 1);
	if (!buf)
		return NULL;
	for (size_t j = 0; j < s->nbackends; j++) {
		cli_addr_port_str(&s->backends[j].be.addr, s->backends[j].be.port,
				  one, sizeof(one));
		len += (size_t)sprintf(buf + len, "%s%s", j ? "," : "", one);
	}
	return buf;
}

static int service_text(const struct snapshot *snap)
{
	static const char *const header[] = { "HOST", "NAMESPACE", "SERVICE",
					      "BACKENDS", "ENDPOINTS" };
	char vip[CLI_ADDR_PORT_LEN], svc[CLI_ADDR_PORT_LEN + 8], proto[8];
	char count[8];
	struct table t;
	int err;

	err = table_init(&t, 5, header, 1u << 3);
	for (size_t i = 0; !err && i < snap->nservices; i++) {
		const struct snap_service *s = &snap->services[i];
		char *endpoints = service_endpoints(s);

		if (!endpoints) {
			err = -ENOMEM;
			break;
		}
		cli_addr_port_str(&s->key.vip, s->key.port, vip, sizeof(vip));
		snprintf(svc, sizeof(svc), "%s/%s", vip,
			 cli_proto_str(s->key.proto, proto, sizeof(proto)));
		snprintf(count, sizeof(count), "%u", s->val.count);
		err = table_add(&t, s->host, s->ns, svc, count, endpoints);
		free(endpoints);
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
	datapath_maps_close(&maps);
	if (err)
		return CLI_EXIT_ERROR;
	if (ctx->json) {
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
		"        VIP:port/protocol, backend count and backends\n";
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
