// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "stats_accel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "accel.h"
#include "table.h"

int stats_accel_read(struct cli_ctx *ctx, struct stats_accel *a)
{
	struct accel_maps m;
	int err;

	memset(a, 0, sizeof(*a));
	err = accel_maps_open(ctx->pin_dir, &m);
	if (err == -ENOENT)
		return 0;
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "opening the acceleration maps under %s: %s",
				 ctx->pin_dir, strerror(-err));
	a->present = true;
	err = accel_config_read(m.config, &a->enabled);
	err = err ?: accel_stats_read(m.stats, a->counters);
	if (!err) {
		a->sockets = accel_socks_count(m.socks);
		a->flows = accel_socks_count(m.flows);
		err = a->sockets < 0 ? (int)a->sockets :
		      a->flows < 0   ? (int)a->flows :
				       0;
	}
	accel_maps_close(&m);
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "reading the acceleration maps: %s",
				 strerror(-err));
	return 0;
}

void stats_accel_json(struct json_writer *w, const struct stats_accel *a)
{
	if (!a->present) {
		json_kv_null(w, "acceleration");
		return;
	}
	json_key(w, "acceleration");
	json_object_begin(w);
	json_kv_bool(w, "enabled", a->enabled);
	json_kv_i64(w, "sockets", a->sockets);
	json_kv_i64(w, "flows", a->flows);
	json_key(w, "counters");
	json_object_begin(w);
	for (unsigned int i = 0; i < WEFT_ACCEL__MAX; i++)
		json_kv_u64(w, accel_counter_name(i), a->counters[i]);
	json_object_end(w);
	json_object_end(w);
}

int stats_accel_text(const struct stats_accel *a)
{
	static const char *const header[] = { "ACCELERATION", "VALUE" };
	char num[24], name[48];
	struct table t;
	int err;

	if (!a->present)
		return 0;
	err = table_init(&t, 2, header, 1u << 1);
	err = err ?: table_add(&t, "enabled", a->enabled ? "yes" : "no");
	snprintf(num, sizeof(num), "%ld", a->sockets);
	err = err ?: table_add(&t, "sockets in hash", num);
	snprintf(num, sizeof(num), "%ld", a->flows);
	err = err ?: table_add(&t, "flow entries", num);
	for (unsigned int i = 0; !err && i < WEFT_ACCEL__MAX; i++) {
		snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)a->counters[i]);
		snprintf(name, sizeof(name), "accel_%s", accel_counter_name(i));
		err = table_add(&t, name, num);
	}
	if (!err)
		table_print(&t, stdout);
	table_free(&t);
	return err;
}
