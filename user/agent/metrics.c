// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "metrics.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <weft/abi.h>

#include "lb.h"

/* Prometheus label values escape backslash, quote and newline. */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*s, out);
	}
}

static int render_services(FILE *out, const struct agent_metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} series[] = {
		{ "weft_service_connects_total",
		  "Connections (TCP, connected UDP) translated to a backend.",
		  offsetof(struct weft_service_stats, connects) },
		{ "weft_service_datagrams_total",
		  "Unconnected UDP datagrams translated to a backend.",
		  offsetof(struct weft_service_stats, datagrams) },
		{ "weft_service_no_backend_total",
		  "Connections refused because the service had no backend.",
		  offsetof(struct weft_service_stats, no_backend) },
	};

	for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
		__u32 key, *prev = NULL;

		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n",
			series[s].name, series[s].help, series[s].name);
		while (bpf_map_get_next_key(m->maps->service_meta, prev, &key) ==
		       0) {
			struct weft_service_stats st;
			struct weft_service_meta meta;
			char vip[INET6_ADDRSTRLEN];

			prev = &key;
			if (bpf_map_lookup_elem(m->maps->service_meta, &key,
						&meta) ||
			    datapath_service_stats_read(m->maps->service_stats,
							key, &st))
				continue;
			fprintf(out, "%s{destination_service=\"",
				series[s].name);
			label_value(out, meta.host);
			fprintf(out, "\",destination_service_namespace=\"");
			label_value(out, meta.ns[0] ? meta.ns : "unknown");
			fprintf(out, "\",vip=\"%s\",port=\"%u\",protocol=\"%s\"} %llu\n",
				weft_addr_str(&meta.vip, vip, sizeof(vip)),
				ntohs(meta.port),
				meta.proto == IPPROTO_UDP ? "udp" : "tcp",
				(unsigned long long)*(__u64 *)((char *)&st +
							       series[s].offset));
		}
	}
	return 0;
}

int metrics_render(FILE *out, void *data)
{
	const struct agent_metrics *m = data;
	struct weft_agent_state st = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->maps->agent_state, &zero, &st))
		return -errno;
	fprintf(out,
		"# HELP weft_config_generation Generation of the mesh config in force.\n"
		"# TYPE weft_config_generation gauge\n"
		"weft_config_generation{node=\"");
	label_value(out, m->node_name);
	fprintf(out, "\"} %llu\n", (unsigned long long)st.generation);
	fprintf(out,
		"# HELP weft_config_applied_timestamp_seconds When that generation was applied.\n"
		"# TYPE weft_config_applied_timestamp_seconds gauge\n"
		"weft_config_applied_timestamp_seconds %.3f\n"
		"# HELP weft_config_reloads_total Configs applied since weftd started.\n"
		"# TYPE weft_config_reloads_total counter\n"
		"weft_config_reloads_total %llu\n"
		"# HELP weft_config_reload_errors_total Configs rejected since weftd started.\n"
		"# TYPE weft_config_reload_errors_total counter\n"
		"weft_config_reload_errors_total %llu\n"
		"# HELP weft_services Service (VIP, port, protocol) entries installed.\n"
		"# TYPE weft_services gauge\n"
		"weft_services %u\n"
		"# HELP weft_backends Backends installed.\n"
		"# TYPE weft_backends gauge\n"
		"weft_backends %u\n",
		(double)st.applied_ns / 1e9, (unsigned long long)m->reloads,
		(unsigned long long)m->reload_errors, st.services, st.backends);

	fprintf(out,
		"# HELP weft_datapath_events_total Datapath events by kind (see weft stats).\n"
		"# TYPE weft_datapath_events_total counter\n");
	for (unsigned int c = 0; c < WEFT_CNT__MAX; c++) {
		__u64 sum;

		if (datapath_counter_read(m->maps->counters, c, &sum))
			continue;
		fprintf(out, "weft_datapath_events_total{event=\"%s\"} %llu\n",
			weft_counter_name(c), (unsigned long long)sum);
	}
	return render_services(out, m);
}
