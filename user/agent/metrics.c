// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "metrics.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <weft/abi.h>

#include "lb.h"
#include "policy.h"
#include "vec.h"

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

/* Entries of a hash map, by walking its keys (agent-side, per scrape). */
static __u32 map_entries(int fd, __u32 key_size)
{
	char key[256], *prev = NULL;
	__u32 n = 0;

	if (key_size > sizeof(key))
		return 0;
	while (bpf_map_get_next_key(fd, prev, key) == 0) {
		prev = key;
		n++;
	}
	return n;
}

/* Fill level of every hash map: what runs out first as the mesh grows. */
static void render_map_fill(FILE *out, const struct agent_metrics *m)
{
	const int *fds = (const int *)m->maps;

	fprintf(out,
		"# HELP weft_map_entries Entries in a datapath hash map.\n"
		"# TYPE weft_map_entries gauge\n");
	for (size_t i = 0; datapath_map_names[i]; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			continue;
		switch (info.type) {
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_LRU_PERCPU_HASH:
			break;
		default:
			continue; /* arrays are always full by construction */
		}
		fprintf(out, "weft_map_entries{map=\"%s\"} %u\n",
			datapath_map_names[i], map_entries(fds[i], info.key_size));
		fprintf(out, "weft_map_capacity{map=\"%s\"} %u\n",
			datapath_map_names[i], info.max_entries);
	}
}

static int workload_cmp(const void *key, const void *elem)
{
	const struct lb_workload *w = elem;

	return memcmp(key, &w->addr, sizeof(w->addr));
}

static const struct lb_workload *workload_at(const struct agent_metrics *m,
					     const union weft_addr *addr)
{
	if (!m->state || !m->state->nworkloads)
		return NULL;
	return bsearch(addr, m->state->workloads, m->state->nworkloads,
		       sizeof(*m->state->workloads), workload_cmp);
}

/* One side's Istio labels ("source" or "destination"); "unknown" if unknown. */
static void workload_labels(FILE *out, const struct agent_metrics *m,
			    const char *side, const struct lb_workload *w)
{
	fprintf(out, "%s_workload=\"", side);
	label_value(out, w ? w->name : "unknown");
	fprintf(out, "\",%s_workload_namespace=\"", side);
	label_value(out, w ? w->ns : "unknown");
	fprintf(out, "\",%s_principal=\"", side);
	if (w) {
		fputs("spiffe://", out);
		label_value(out, m->trust_domain);
		fputs("/ns/", out);
		label_value(out, w->ns);
		fputs("/sa/", out);
		label_value(out, w->service_account);
	} else {
		fputs("unknown", out);
	}
	fprintf(out, "\",%s_app=\"", side);
	label_value(out, w ? w->app : "unknown");
	fprintf(out, "\",%s_version=\"", side);
	label_value(out, w ? w->version : "unknown");
	fprintf(out, "\",%s_canonical_service=\"", side);
	label_value(out, w ? w->app : "unknown");
	fprintf(out, "\",%s_canonical_revision=\"", side);
	label_value(out, w ? w->version : "latest");
	fprintf(out, "\",%s_cluster=\"unknown\",", side);
}

/*
 * The series of metric families whose map keys are finer than their
 * labels: rows are collected with their label set, then rows with equal
 * labels are summed into one series, since Prometheus must never see two
 * samples of one series.
 */
struct series {
	char *labels;   /* the inside of {...} */
	__u64 value[4]; /* one per family sharing the labels */
};

struct series_set {
	size_t n, cap;
	struct series *rows;
};

static int series_cmp(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->labels,
		      ((const struct series *)b)->labels);
}

/* Take over labels (NULL: out of memory).  0 or -ENOMEM. */
static int series_add(struct series_set *s, char *labels, const __u64 *value,
		      size_t nvalues)
{
	struct series row = { .labels = labels };

	if (!labels)
		return -ENOMEM;
	if (vec_reserve((void **)&s->rows, &s->cap, s->n + 1,
			sizeof(*s->rows))) {
		free(labels);
		return -ENOMEM;
	}
	memcpy(row.value, value, nvalues * sizeof(*value));
	s->rows[s->n++] = row;
	return 0;
}

/* Sort by labels, summing the rows of equal labels into one. */
static void series_merge(struct series_set *s)
{
	size_t w = 0;

	if (s->n > 1)
		qsort(s->rows, s->n, sizeof(*s->rows), series_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (w && !strcmp(s->rows[w - 1].labels, s->rows[i].labels)) {
			for (int v = 0; v < 4; v++)
				s->rows[w - 1].value[v] += s->rows[i].value[v];
			free(s->rows[i].labels);
			continue;
		}
		s->rows[w++] = s->rows[i];
	}
	s->n = w;
}

/* One counter family: HELP, TYPE and value[v] of every series. */
static void series_print(FILE *out, const struct series_set *s,
			 const char *name, const char *help, int v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (size_t i = 0; i < s->n; i++)
		fprintf(out, "%s{%s} %llu\n", name, s->rows[i].labels,
			(unsigned long long)s->rows[i].value[v]);
}

static void series_free(struct series_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].labels);
	free(s->rows);
}

/* The Istio labels of one weft_tcp_stats key, into a new string. */
static char *tcp_series_labels(const struct agent_metrics *m,
			       const struct weft_tcp_stats_key *key)
{
	struct weft_service_meta svc = {};
	struct weft_backend be = {};
	char *labels = NULL;
	size_t len = 0;
	FILE *out;

	out = open_memstream(&labels, &len);
	if (!out)
		return NULL;
	bpf_map_lookup_elem(m->maps->service_meta, &key->service_id, &svc);
	bpf_map_lookup_elem(m->maps->backends, &key->backend_id, &be);
	fputs("reporter=\"source\",", out);
	workload_labels(out, m, "source", workload_at(m, &key->source));
	workload_labels(out, m, "destination", workload_at(m, &be.addr));
	fputs("destination_service=\"", out);
	label_value(out, svc.host[0] ? svc.host : "unknown");
	fputs("\",destination_service_name=\"", out);
	/* the first label of the FQDN */
	for (const char *h = svc.host; *h && *h != '.'; h++)
		fputc(*h == '"' || *h == '\\' ? '_' : *h, out);
	if (!svc.host[0])
		fputs("unknown", out);
	fputs("\",destination_service_namespace=\"", out);
	label_value(out, svc.ns[0] ? svc.ns : "unknown");
	fputs("\",request_protocol=\"tcp\",response_flags=\"-\","
	      "connection_security_policy=\"unknown\"", out);
	if (fclose(out)) {
		free(labels);
		return NULL;
	}
	return labels;
}

/*
 * istio_tcp_* with Istio's label names, reporter="source": this node's
 * clients, as ztunnel reports them.  weft_tcp_stats is finer than the
 * labels (service port, client address), so entries with the same label
 * set are summed into one series: Prometheus must never see two samples
 * of one series.
 */
static int render_istio_tcp(FILE *out, const struct agent_metrics *m)
{
	static const struct {
		const char *name, *help;
	} names[4] = {
		{ "istio_tcp_connections_opened_total", "TCP connections opened." },
		{ "istio_tcp_connections_closed_total", "TCP connections closed." },
		{ "istio_tcp_sent_bytes_total",
		  "Payload bytes sent by the client (acknowledged)." },
		{ "istio_tcp_received_bytes_total",
		  "Payload bytes received by the client." },
	};
	struct weft_tcp_stats_key key, *prev = NULL;
	int ncpus = datapath_ncpus(), err = 0;
	struct series_set rows = {};
	struct weft_tcp_stats *per;

	per = calloc((size_t)ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	while (!err &&
	       bpf_map_get_next_key(m->maps->tcp_stats, prev, &key) == 0) {
		__u64 value[4] = {};

		prev = &key;
		if (bpf_map_lookup_elem(m->maps->tcp_stats, &key, per))
			continue;
		for (int c = 0; c < ncpus; c++) {
			value[0] += per[c].opened;
			value[1] += per[c].closed;
			value[2] += per[c].sent_bytes;
			value[3] += per[c].received_bytes;
		}
		err = series_add(&rows, tcp_series_labels(m, &key), value, 4);
	}
	series_merge(&rows);
	for (int v = 0; v < 4 && !err; v++)
		series_print(out, &rows, names[v].name, names[v].help, v);
	series_free(&rows);
	free(per);
	return err;
}

/*
 * The labels of one weft_policy_stats key, into a new string: the
 * deciding (or, audit="true", the AUDIT) policy, empty for decisions no
 * policy made, policy="#<id>" in namespace "unknown" for one deleted since.
 */
static char *policy_series_labels(const struct agent_metrics *m,
				  const struct weft_policy_stats_key *key)
{
	struct weft_policy_meta meta = {};
	char *labels = NULL, ns[sizeof(meta.ns) + 1] = "";
	char name[sizeof(meta.name) + 1] = "";
	size_t len = 0;
	FILE *out;

	if (key->policy != WEFT_POLICY_NONE &&
	    bpf_map_lookup_elem(m->maps->policy_meta, &key->policy, &meta)) {
		snprintf(ns, sizeof(ns), "unknown");
		snprintf(name, sizeof(name), "#%u", key->policy);
	} else if (key->policy != WEFT_POLICY_NONE) {
		memcpy(ns, meta.ns, sizeof(meta.ns));
		memcpy(name, meta.name, sizeof(meta.name));
	}
	out = open_memstream(&labels, &len);
	if (!out)
		return NULL;
	fputs("policy_namespace=\"", out);
	label_value(out, ns);
	fputs("\",policy=\"", out);
	label_value(out, name);
	fprintf(out, "\",action=\"%s\",reason=\"%s\",point=\"%s\",audit=\"%s\"",
		key->action == WEFT_POLICY_ACTION_ALLOW ? "allow" : "deny",
		policy_reason_name(key->reason), policy_point_name(key->point),
		key->audit ? "true" : "false");
	if (fclose(out)) {
		free(labels);
		return NULL;
	}
	return labels;
}

/* AuthorizationPolicy: the compiled config in force and its decisions. */
static int render_policy(FILE *out, const struct agent_metrics *m)
{
	struct weft_policy_stats_key key, *prev = NULL;
	struct weft_policy_config cfg = {};
	int ncpus = datapath_ncpus(), err = 0;
	struct series_set rows = {};
	__u32 zero = 0;
	__u64 *per;

	bpf_map_lookup_elem(m->maps->policy_config, &zero, &cfg);
	fprintf(out,
		"# HELP weft_policy_generation Config generation of the AuthorizationPolicy tables in force.\n"
		"# TYPE weft_policy_generation gauge\n"
		"weft_policy_generation %llu\n"
		"# HELP weft_policies AuthorizationPolicies installed (weft_policy_meta).\n"
		"# TYPE weft_policies gauge\n"
		"weft_policies %u\n",
		(unsigned long long)cfg.generation,
		map_entries(m->maps->policy_meta, sizeof(__u32)));

	per = calloc((size_t)ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	while (!err &&
	       bpf_map_get_next_key(m->maps->policy_stats, prev, &key) == 0) {
		__u64 sum = 0;

		prev = &key;
		if (bpf_map_lookup_elem(m->maps->policy_stats, &key, per))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += per[c];
		err = series_add(&rows, policy_series_labels(m, &key), &sum, 1);
	}
	series_merge(&rows);
	if (!err)
		series_print(out, &rows, "weft_policy_connections_total",
			     "Connections decided by AuthorizationPolicy, by deciding policy "
			     "(audit=\"true\": matched AUDIT policy), action, reason and point.",
			     0);
	series_free(&rows);
	free(per);
	return err;
}

/* One series per counter of this kind ("skip", "fallback"), by reason. */
static void render_accel_reasons(FILE *out, const __u64 *sums,
				 const char *kind, const char *name,
				 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (unsigned int c = 0; c < WEFT_ACCEL__MAX; c++) {
		const char *k, *reason = accel_counter_reason(c, &k);

		if (!strcmp(k, kind))
			fprintf(out, "%s{reason=\"%s\"} %llu\n", name, reason,
				(unsigned long long)sums[c]);
	}
}

/*
 * Same-node socket acceleration: connections and bytes that went socket to
 * socket, and sockets that did not (weft_accel_not_accelerated_total) or
 * stopped (weft_accel_fallbacks_total), by reason.
 */
static void render_accel(FILE *out, const struct accel_maps *am)
{
	__u64 sums[WEFT_ACCEL__MAX];
	bool enabled = false;

	if (accel_config_read(am->config, &enabled) ||
	    accel_stats_read(am->stats, sums))
		return;
	fprintf(out,
		"# HELP weft_accel_enabled 1 when same-node socket acceleration is on.\n"
		"# TYPE weft_accel_enabled gauge\n"
		"weft_accel_enabled %d\n"
		"# HELP weft_accel_sockets Established sockets in the acceleration socket hash.\n"
		"# TYPE weft_accel_sockets gauge\n"
		"weft_accel_sockets %ld\n"
		"# HELP weft_accel_sockets_added_total Sockets put in the acceleration socket hash.\n"
		"# TYPE weft_accel_sockets_added_total counter\n"
		"weft_accel_sockets_added_total %llu\n"
		"# HELP weft_accel_connections_total Connections whose data went socket to socket.\n"
		"# TYPE weft_accel_connections_total counter\n"
		"weft_accel_connections_total %llu\n"
		"# HELP weft_accel_messages_total Sends redirected to the peer socket.\n"
		"# TYPE weft_accel_messages_total counter\n"
		"weft_accel_messages_total %llu\n"
		"# HELP weft_accel_bytes_total Bytes redirected to the peer socket.\n"
		"# TYPE weft_accel_bytes_total counter\n"
		"weft_accel_bytes_total %llu\n"
		"# HELP weft_accel_resumed_total Senders that went back from TCP to redirecting once their receiver had read every byte sent through TCP.\n"
		"# TYPE weft_accel_resumed_total counter\n"
		"weft_accel_resumed_total %llu\n",
		enabled, accel_socks_count(am->socks),
		(unsigned long long)sums[WEFT_ACCEL_SOCKETS_ADDED],
		(unsigned long long)sums[WEFT_ACCEL_CONNECTIONS],
		(unsigned long long)sums[WEFT_ACCEL_MESSAGES],
		(unsigned long long)sums[WEFT_ACCEL_BYTES],
		(unsigned long long)sums[WEFT_ACCEL_RESUMED]);
	render_accel_reasons(out, sums, "skip", "weft_accel_not_accelerated_total",
			     "Sockets whose sends took TCP for good without having redirected, by reason.");
	render_accel_reasons(out, sums, "fallback", "weft_accel_fallbacks_total",
			     "Stretches of sends that took TCP on a connection that can redirect, by reason "
			     "(backlog and peer_not_ready end when the receiver catches up, peer_gone is for good).");
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
		"# HELP weft_config_last_error_timestamp_seconds When a config was last rejected (0: never).\n"
		"# TYPE weft_config_last_error_timestamp_seconds gauge\n"
		"weft_config_last_error_timestamp_seconds %.3f\n"
		"# HELP weft_policy_connections_closed_total Open connections reset because a policy change denies them.\n"
		"# TYPE weft_policy_connections_closed_total counter\n"
		"weft_policy_connections_closed_total %llu\n"
		"# HELP weft_services Service (VIP, port, protocol) entries installed.\n"
		"# TYPE weft_services gauge\n"
		"weft_services %u\n"
		"# HELP weft_backends Backends installed.\n"
		"# TYPE weft_backends gauge\n"
		"weft_backends %u\n",
		(double)st.applied_ns / 1e9, (unsigned long long)m->reloads,
		(unsigned long long)m->reload_errors,
		(double)m->last_error_ns / 1e9,
		(unsigned long long)m->policy_conns_closed, st.services,
		st.backends);

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
	render_map_fill(out, m);
	if (m->accel)
		render_accel(out, m->accel);
	render_services(out, m);
	return render_policy(out, m) ?: render_istio_tcp(out, m);
}
