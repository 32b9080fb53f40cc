// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft status: the agent's last apply as recorded in weft_agent_state, and
 * the last config it rejected, if the newest one was.
 * "Not installed" is an answer, not a usage problem: it exits 1 so that
 * scripts can wait for an agent with `until weft status; do ...`.
 */
#include "main.h"

#include <bpf/bpf.h>
#include <string.h>
#include <time.h>

/* RFC 3339 in UTC, or NULL when the agent never applied. */
static const char *status_time(__u64 ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!ns || !gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return buf;
}

static int status_absent(struct cli_ctx *ctx, const char *why)
{
	if (!ctx->json) {
		printf("%s\n", why);
		return CLI_EXIT_ERROR;
	}
	json_object_begin(&ctx->jw);
	json_kv_bool(&ctx->jw, "installed", false);
	json_kv_string(&ctx->jw, "error", why);
	json_object_end(&ctx->jw);
	return cli_json_end(ctx) ?: CLI_EXIT_ERROR;
}

static void status_text(const struct cli_ctx *ctx,
			const struct weft_agent_state *st, const char *node,
			const char *applied, const char *rejected,
			const char *reason)
{
	printf("installed:    yes\n");
	printf("pin dir:      %s\n", ctx->pin_dir);
	printf("node:         %s\n", node[0] ? node : "-");
	printf("generation:   %llu\n", (unsigned long long)st->generation);
	printf("applied at:   %s\n", applied ? applied : "never");
	printf("abi version:  %u", st->abi_version);
	if (st->abi_version && st->abi_version != WEFT_ABI_VERSION)
		printf(" (this weft: %d)", WEFT_ABI_VERSION);
	printf("\nservices:     %u\n", st->services);
	printf("backends:     %u\n", st->backends);
	printf("rejected:     %llu\n", (unsigned long long)st->rejected_total);
	if (!rejected)
		return;
	/* The newest config was refused: the one in force is older. */
	printf("rejected at:  %s\n", rejected);
	printf("reason:       ");
	for (const char *p = reason; *p; p++)
		putchar((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('\n');
}

int do_status(struct cli_ctx *ctx, int argc, char **argv)
{
	char why[PATH_MAX + 128], applied[32], rejected[32];
	char node[sizeof(((struct weft_agent_state *)0)->node_name) + 1];
	char reason[sizeof(((struct weft_agent_state *)0)->rejected_reason) + 1];
	struct weft_agent_state st;
	struct datapath_maps maps;
	const char *when, *refused;
	__u32 zero = 0;
	int err;

	err = cli_no_args(ctx, "status", argc, argv);
	if (err)
		return err;
	why[0] = '\0';
	err = cli_maps_open(ctx, &maps, why, sizeof(why));
	if (err)
		return why[0] ? status_absent(ctx, why) : err;
	err = bpf_map_lookup_elem(maps.agent_state, &zero, &st);
	datapath_maps_close(&maps);
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "reading weft_agent_state: %s", strerror(-err));

	CLI_STR_COPY(node, st.node_name);
	CLI_STR_COPY(reason, st.rejected_reason);
	when = status_time(st.applied_ns, applied, sizeof(applied));
	refused = status_time(st.rejected_ns, rejected, sizeof(rejected));
	if (!ctx->json) {
		status_text(ctx, &st, node, when, refused, reason);
		return CLI_EXIT_OK;
	}
	json_object_begin(&ctx->jw);
	json_kv_bool(&ctx->jw, "installed", true);
	json_kv_string(&ctx->jw, "node", node);
	json_kv_u64(&ctx->jw, "generation", st.generation);
	json_kv_string(&ctx->jw, "applied_at", when); /* null: never */
	json_kv_u64(&ctx->jw, "abi_version", st.abi_version);
	json_kv_u64(&ctx->jw, "services", st.services);
	json_kv_u64(&ctx->jw, "backends", st.backends);
	json_kv_u64(&ctx->jw, "rejected_total", st.rejected_total);
	/* null, null: the newest config is the one in force */
	json_kv_string(&ctx->jw, "rejected_at", refused);
	json_kv_string(&ctx->jw, "rejected_reason", refused ? reason : NULL);
	json_object_end(&ctx->jw);
	return cli_json_end(ctx);
}
