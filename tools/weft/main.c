// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft: inspect and remove the datapath a weftd pinned.
 *
 *   weft [-j|--json] [-p|--pin-dir DIR] [-c|--node-config FILE]
 *        [-d|--config-dir DIR] [-h] OBJECT COMMAND [ARGS]
 *
 * The pin directory is -p, else pinDir of the -c node config, else
 * NODE_DEFAULT_PIN_DIR; the mesh config directory (policy explain) is -d,
 * else configDir of the -c node config, else NODE_DEFAULT_CONFIG_DIR.
 * Objects and commands may be abbreviated to any unambiguous prefix.
 * Exit status: 0 success, 1 error, 2 usage error.
 */
#include "main.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lb.h"
#include "log.h"
#include "mesh-t.h"
#include "node_config.h"

static const char usage_text[] =
	"Usage: weft [OPTIONS] OBJECT COMMAND [ARGS]\n"
	"\n"
	"  service list   services (VIP:port/protocol), their weighted route to\n"
	"                 clusters and the clusters' backends\n"
	"  cluster list   clusters: policy, slots, backends with their weights\n"
	"  backend list   backends: workload, references, active connections\n"
	"  stats          per-service, per-connection-series and datapath\n"
	"                 counters, summed over CPUs\n"
	"  status         the agent's last apply: generation, time, counts\n"
	"  uninstall      remove every weft pin: detach programs, drop maps\n"
	"  policy explain --from SRC --to DST --port N [--proto tcp|udp]\n"
	"                 decide one connection with the AuthorizationPolicies\n"
	"                 of the mesh config (offline, no datapath needed)\n"
	"  monitor [--deny|--audit] [--count N] [--timeout SECONDS]\n"
	"                 stream the datapath's policy denies and audits, one\n"
	"                 line (-j: one JSON object) per connection\n"
	"  help           this text\n"
	"  version        weft and ABI versions\n"
	"\n"
	"OPTIONS := { -j|--json | -p|--pin-dir DIR | -c|--node-config FILE |\n"
	"             -d|--config-dir DIR | -h|--help }\n"
	"\n"
	"Objects and commands may be abbreviated to any unambiguous prefix\n"
	"(`weft se l`).  The pin directory is -p, else pinDir from the -c node\n"
	"config, else " NODE_DEFAULT_PIN_DIR ".  The mesh config directory is\n"
	"-d, else configDir from the -c node config, else\n"
	NODE_DEFAULT_CONFIG_DIR ".\n";

int cli_error(struct cli_ctx *ctx, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->json) {
		struct json_writer w;

		json_init(&w, stdout);
		json_object_begin(&w);
		json_kv_string(&w, "error", msg);
		json_object_end(&w);
		json_finish(&w);
	} else {
		fflush(stdout);
		fprintf(stderr, "weft: error: %s\n", msg);
	}
	return code;
}

int cli_dispatch(struct cli_ctx *ctx, const char *what,
		 const struct cli_cmd *cmds, int argc, char **argv)
{
	char names[256];
	int i;

	if (argc < 1)
		return cmds[0].fn(ctx, 0, argv);
	i = cli_lookup(cmds, argv[0]);
	if (i == -ENOTUNIQ) {
		cli_candidates(cmds, argv[0], names, sizeof(names));
		return cli_error(ctx, CLI_EXIT_USAGE, "ambiguous %s '%s': %s",
				 what, argv[0], names);
	}
	if (i < 0) {
		names[0] = '\0';
		for (int j = 0; cmds[j].name; j++) {
			size_t used = strlen(names);

			snprintf(names + used, sizeof(names) - used, "%s%s",
				 j ? ", " : "", cmds[j].name);
		}
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "unknown %s '%s' (one of: %s)", what, argv[0],
				 names);
	}
	return cmds[i].fn(ctx, argc - 1, argv + 1);
}

int cli_no_args(struct cli_ctx *ctx, const char *cmd, int argc, char **argv)
{
	if (argc > 0)
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "'%s' takes no arguments (got '%s')", cmd,
				 argv[0]);
	return CLI_EXIT_OK;
}

int cli_json_end(struct cli_ctx *ctx)
{
	int err = json_finish(&ctx->jw);

	if (err) {
		fprintf(stderr, "weft: error: writing JSON: %s\n",
			strerror(-err));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

const char *cli_proto_str(__u8 proto, char *buf, size_t len)
{
	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_UDP)
		return "udp";
	snprintf(buf, len, "%u", proto);
	return buf;
}

const char *cli_addr_str(const union weft_addr *addr, char *buf, size_t len)
{
	weft_addr_str(addr, buf, len);
	if (len && !buf[0])
		snprintf(buf, len, "?");
	return buf;
}

const char *cli_addr_port_str(const union weft_addr *addr, __be16 port,
			      char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	cli_addr_str(addr, a, sizeof(a));
	snprintf(buf, len, weft_addr_is_v4(addr) ? "%s:%u" : "[%s]:%u", a,
		 ntohs(port));
	return buf;
}

static const char *const policy_names[WEFT_LB__MAX] = {
	[WEFT_LB_LEAST_REQUEST] = "least_request",
	[WEFT_LB_ROUND_ROBIN] = "round_robin",
	[WEFT_LB_RANDOM] = "random",
	[WEFT_LB_MAGLEV] = "maglev",
	[WEFT_LB_PASSTHROUGH] = "passthrough",
};

const char *cli_policy_str(__u8 policy, char *buf, size_t len)
{
	if (policy < WEFT_LB__MAX && policy_names[policy])
		return policy_names[policy];
	snprintf(buf, len, "%u", policy);
	return buf;
}

static const char *const authz_actions[] = {
	[ISTIO_AUTHZ_ALLOW] = "ALLOW",
	[ISTIO_AUTHZ_DENY] = "DENY",
	[ISTIO_AUTHZ_AUDIT] = "AUDIT",
	[ISTIO_AUTHZ_CUSTOM] = "CUSTOM",
};

const char *cli_authz_action_str(__u8 action)
{
	return action < sizeof(authz_actions) / sizeof(authz_actions[0]) &&
			       authz_actions[action] ?
		       authz_actions[action] :
		       "?";
}

static unsigned int cli_permille(__u64 part, __u64 total)
{
	return total ? (unsigned int)((part * 1000 + total / 2) / total) : 0;
}

const char *cli_percent_str(__u64 part, __u64 total, char *buf, size_t len)
{
	unsigned int pm = cli_permille(part, total);

	snprintf(buf, len, "%u.%u%%", pm / 10, pm % 10);
	return buf;
}

void cli_json_kv_ratio(struct json_writer *w, const char *key, __u64 part,
		       __u64 total)
{
	json_kv_double(w, key, cli_permille(part, total) / 1000.0);
}

/*
 * The layout every map must have for this build to read it; a datapath
 * pinned by a weftd of another ABI version is refused, not misread.  Sizes
 * and types as in bpf/lib/maps.h; max_entries is not checked (the agent
 * sizes some maps per node, tests make them small).
 */
#define NMAPS (sizeof(struct datapath_maps) / sizeof(int))
static const struct map_layout {
	__u32 type, key_size, value_size;
} map_layouts[NMAPS] = {
	/* Indexed like the fds (and datapath_map_names); -Woverride-init
	 * catches a map listed twice, check_layouts() one left out. */
#define LAYOUT(field, type, key, value)                                      \
	[offsetof(struct datapath_maps, field) / sizeof(int)] = {            \
		type, sizeof(key), sizeof(value) }
	LAYOUT(services, BPF_MAP_TYPE_HASH, struct weft_service_key,
	       struct weft_service),
	LAYOUT(clusters, BPF_MAP_TYPE_HASH, __u32, struct weft_cluster),
	LAYOUT(cluster_slots, BPF_MAP_TYPE_HASH, struct weft_slot_key, __u32),
	LAYOUT(backends, BPF_MAP_TYPE_HASH, __u32, struct weft_backend),
	LAYOUT(maglev, BPF_MAP_TYPE_ARRAY, __u32, __u32),
	LAYOUT(rr_state, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u32),
	LAYOUT(backend_active, BPF_MAP_TYPE_ARRAY, __u32, __s64),
	LAYOUT(sock_revnat, BPF_MAP_TYPE_LRU_HASH, struct weft_revnat_key,
	       struct weft_revnat_value),
	LAYOUT(service_stats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32,
	       struct weft_service_stats),
	LAYOUT(tcp_stats, BPF_MAP_TYPE_LRU_PERCPU_HASH,
	       struct weft_tcp_stats_key, struct weft_tcp_stats),
	LAYOUT(counters, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64),
	LAYOUT(service_meta, BPF_MAP_TYPE_HASH, __u32,
	       struct weft_service_meta),
	LAYOUT(cluster_meta, BPF_MAP_TYPE_HASH, __u32,
	       struct weft_cluster_meta),
	LAYOUT(backend_meta, BPF_MAP_TYPE_HASH, __u32,
	       struct weft_backend_meta),
	LAYOUT(agent_state, BPF_MAP_TYPE_ARRAY, __u32, struct weft_agent_state),
	LAYOUT(policy_dst, BPF_MAP_TYPE_HASH, struct weft_policy_dst_key,
	       struct weft_policy_dst_value),
	LAYOUT(policy_ident, BPF_MAP_TYPE_HASH, struct weft_policy_ident_key,
	       struct weft_policy_ident_value),
	LAYOUT(policy_src_ident, BPF_MAP_TYPE_HASH,
	       struct weft_policy_src_ident_key,
	       struct weft_policy_class_value),
	LAYOUT(policy_src_net, BPF_MAP_TYPE_LPM_TRIE,
	       struct weft_policy_src_net_key,
	       struct weft_policy_class_value),
	LAYOUT(policy_verdict, BPF_MAP_TYPE_HASH, struct weft_policy_verdict_key,
	       struct weft_policy_verdict),
	LAYOUT(policy_config, BPF_MAP_TYPE_ARRAY, __u32,
	       struct weft_policy_config),
	LAYOUT(policy_stats, BPF_MAP_TYPE_PERCPU_HASH,
	       struct weft_policy_stats_key, __u64),
	/* a ring buffer has no key or value */
	[offsetof(struct datapath_maps, policy_events) / sizeof(int)] = {
		BPF_MAP_TYPE_RINGBUF, 0, 0 },
	LAYOUT(netns, BPF_MAP_TYPE_HASH, __u64, struct weft_netns_addrs),
	LAYOUT(policy_meta, BPF_MAP_TYPE_HASH, __u32, struct weft_policy_meta),
	LAYOUT(policy_ident_meta, BPF_MAP_TYPE_HASH, __u32,
	       struct weft_policy_ident_meta),
	LAYOUT(node_addrs, BPF_MAP_TYPE_HASH, union weft_addr, __u32),
#undef LAYOUT
};

static int check_layouts(struct cli_ctx *ctx, const struct datapath_maps *maps)
{
	const int *fds = (const int *)maps;

	for (size_t i = 0; i < NMAPS; i++) {
		const struct map_layout *l = &map_layouts[i];
		const char *name = datapath_map_names[i];
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int err;

		if (!l->type)
			return cli_error(ctx, CLI_EXIT_ERROR,
					 "%s: no layout known (weft bug)", name);
		err = bpf_obj_get_info_by_fd(fds[i], &info, &len);
		if (err)
			return cli_error(ctx, CLI_EXIT_ERROR, "%s: %s", name,
					 strerror(-err));
		if (info.type != l->type || info.key_size != l->key_size ||
		    info.value_size != l->value_size)
			return cli_error(ctx, CLI_EXIT_ERROR,
					 "%s/%s/%s: type %u key %u value %u bytes, "
					 "this weft (ABI %d) expects type %u key %u value %u; "
					 "use the weft of the running weftd",
					 ctx->pin_dir, WEFT_PIN_MAPS_DIR, name,
					 info.type, info.key_size,
					 info.value_size, WEFT_ABI_VERSION,
					 l->type, l->key_size, l->value_size);
	}
	return CLI_EXIT_OK;
}

int cli_maps_open(struct cli_ctx *ctx, struct datapath_maps *maps,
		  char *absent, size_t absent_len)
{
	char path[PATH_MAX], msg[PATH_MAX + 128];
	struct stat st;
	int err;

	err = datapath_maps_open(ctx->pin_dir, maps);
	if (err == -ENOENT) {
		snprintf(path, sizeof(path), "%s/%s", ctx->pin_dir,
			 WEFT_PIN_MAPS_DIR);
		if (stat(path, &st) == 0)
			snprintf(msg, sizeof(msg),
				 "not installed: the datapath under %s is incomplete "
				 "(a map pin is missing); restart weftd or run 'weft uninstall'",
				 ctx->pin_dir);
		else
			snprintf(msg, sizeof(msg),
				 "not installed: no weft datapath pinned under %s",
				 ctx->pin_dir);
		if (absent) {
			snprintf(absent, absent_len, "%s", msg);
			return CLI_EXIT_ERROR;
		}
		return cli_error(ctx, CLI_EXIT_ERROR, "%s", msg);
	}
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "cannot open the datapath under %s: %s%s",
				 ctx->pin_dir, strerror(-err),
				 err == -EPERM || err == -EACCES ? " (run as root)" : "");
	err = check_layouts(ctx, maps);
	if (err)
		datapath_maps_close(maps);
	return err;
}

int cli_usage(struct cli_ctx *ctx, const char *text)
{
	if (!ctx->json) {
		fputs(text, stdout);
		return CLI_EXIT_OK;
	}
	json_object_begin(&ctx->jw);
	json_kv_string(&ctx->jw, "usage", text);
	json_object_end(&ctx->jw);
	return cli_json_end(ctx);
}

static int do_help(struct cli_ctx *ctx, int argc, char **argv)
{
	int err = cli_no_args(ctx, "help", argc, argv);

	return err ? err : cli_usage(ctx, usage_text);
}

static int do_version(struct cli_ctx *ctx, int argc, char **argv)
{
	int err = cli_no_args(ctx, "version", argc, argv);

	if (err)
		return err;
	if (!ctx->json) {
		printf("weft %s (ABI %d, libbpf %s)\n", WEFT_VERSION,
		       WEFT_ABI_VERSION, libbpf_version_string());
		return CLI_EXIT_OK;
	}
	json_object_begin(&ctx->jw);
	json_kv_string(&ctx->jw, "version", WEFT_VERSION);
	json_kv_u64(&ctx->jw, "abi_version", WEFT_ABI_VERSION);
	json_kv_string(&ctx->jw, "libbpf", libbpf_version_string());
	json_object_end(&ctx->jw);
	return cli_json_end(ctx);
}

static const struct cli_cmd objects[] = {
	{ "service", do_service },
	{ "cluster", do_cluster },
	{ "backend", do_backend },
	{ "stats", do_stats },
	{ "status", do_status },
	{ "uninstall", do_uninstall },
	{ "policy", do_policy },
	{ "monitor", do_monitor },
	{ "help", do_help },
	{ "version", do_version },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "node-config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct node_config node;
	const char *node_file = NULL;
	struct cli_ctx ctx = {};
	char bad[128] = "";
	bool help = false;
	int opt, err, ret, nwords = 0;

	log_init("weft", LOG_LEVEL_WARN);
	log_route_libbpf();
	json_init(&ctx.jw, stdout);

	/*
	 * Options may follow the object (`weft service list -j`).  Words (the
	 * object, the command, its arguments) are moved down to
	 * argv[1..nwords] in order; after the object, a long option weft does
	 * not know is the command's (`policy explain --from X`) and moves down
	 * with them.  "-": getopt returns words in place, never permutes, so
	 * every slot below optind has been read already.  A bad option is
	 * reported after the loop, once -j is known.
	 */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-:jp:c:d:h", options, NULL)) != -1) {
		switch (opt) {
		case 1:
			argv[++nwords] = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'p':
			ctx.pin_dir = optarg;
			break;
		case 'c':
			node_file = optarg;
			break;
		case 'd':
			ctx.config_dir = optarg;
			break;
		case 'h':
			help = true;
			break;
		case ':':
			if (!bad[0])
				snprintf(bad, sizeof(bad), "option '%s' needs an argument",
					 argv[optind - 1]);
			break;
		default:
			if (nwords && !optopt) {
				argv[++nwords] = argv[optind - 1];
				break;
			}
			if (!bad[0]) {
				if (optopt)
					snprintf(bad, sizeof(bad), "unknown option '-%c'",
						 optopt);
				else
					snprintf(bad, sizeof(bad), "unknown option '%s'",
						 argv[optind - 1]);
			}
			break;
		}
	}
	if (bad[0])
		return cli_error(&ctx, CLI_EXIT_USAGE, "%s; try 'weft help'", bad);
	if (help)
		return do_help(&ctx, 0, NULL);
	while (optind < argc) /* after "--" */
		argv[++nwords] = argv[optind++];
	argc = nwords;
	argv++;
	ctx.node_file = node_file;
	if (argc < 1) {
		if (!ctx.json)
			fputs(usage_text, stderr);
		return cli_error(&ctx, CLI_EXIT_USAGE, "missing OBJECT");
	}

	if (!ctx.pin_dir) {
		node_config_defaults(&node);
		if (node_file) {
			err = node_config_load(node_file, &node);
			if (err)
				return cli_error(&ctx, CLI_EXIT_ERROR,
						 "%s: cannot load node config: %s",
						 node_file, strerror(-err));
		}
		ctx.pin_dir = node.pin_dir[0] ? node.pin_dir : NODE_DEFAULT_PIN_DIR;
	}
	ret = cli_dispatch(&ctx, "object", objects, argc, argv);
	/* Text output is not checked line by line: catch a full disk or a
	 * closed pipe here, so that a truncated listing never exits 0. */
	if (fflush(stdout) || ferror(stdout)) {
		if (!ret)
			fprintf(stderr, "weft: error: writing output: %s\n",
				strerror(errno ?: EIO));
		return CLI_EXIT_ERROR;
	}
	return ret;
}
