// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb_compile() workload table: Istio workload names from Pod owners,
 * service accounts, canonical service and revision labels, address
 * conflicts, WorkloadEntries and ServiceEntry endpoints.
 */
#include "config_test_util.h"

struct want_wl {
	const char *addr, *ns, *name, *sa, *app, *version;
};

static bool workloads_are(const struct lb_state *st,
			  const struct want_wl *want, size_t n)
{
	char buf[64];

	if (!ASSERT_EQ(st->nworkloads, n, "workloads"))
		goto dump;
	for (size_t i = 0; i < n; i++) {
		const struct lb_workload *w = &st->workloads[i];
		const char *what = want[i].addr;

		if (!ASSERT_STREQ(weft_addr_str(&w->addr, buf, sizeof(buf)),
				  want[i].addr, "addr") ||
		    !ASSERT_STREQ(w->ns, want[i].ns, what) ||
		    !ASSERT_STREQ(w->name, want[i].name, what) ||
		    !ASSERT_STREQ(w->service_account, want[i].sa, what) ||
		    !ASSERT_STREQ(w->app, want[i].app, what) ||
		    !ASSERT_STREQ(w->version, want[i].version, what))
			goto dump;
	}
	return true;
dump:
	for (size_t i = 0; i < st->nworkloads; i++) {
		const struct lb_workload *w = &st->workloads[i];

		printf("  have %s %s/%s sa=%s app=%s version=%s\n",
		       weft_addr_str(&w->addr, buf, sizeof(buf)), w->ns,
		       w->name, w->service_account, w->app, w->version);
	}
	return false;
}

static bool compile_file(const char *rel, struct mesh_config **cfg,
			 struct lb_state *st)
{
	char path[1100];
	const char *p = repo_path(path, sizeof(path), "%s", rel);

	*cfg = NULL;
	memset(st, 0, sizeof(*st));
	if (!ASSERT_OK(load_captured(&p, 1, cfg, NULL), rel))
		return false;
	return ASSERT_OK(lb_compile(*cfg, st), "lb_compile");
}

WEFT_TEST(lb_workload_table)
{
	static const struct want_wl want[] = {
		/* ReplicaSet hash stripped; app.kubernetes.io/name and /version
		 * before app and version;
		 * beats the ServiceEntry endpoint on 10.7.0.1 */
		{ "10.7.0.1", "apps", "web", "web-sa", "web", "2.1" },
		/* no pod-template-hash: last "-" part dropped; canonical
		 * labels first; not ready still known */
		{ "10.7.0.2", "apps", "api-v2", "api-old-field", "api-canon",
		  "r7" },
		/* the controller owner, not the first */
		{ "10.7.0.3", "apps", "db", "default", "db", "latest" },
		{ "10.7.0.4", "kube-system", "logger", "default", "logger",
		  "latest" },
		/* a live Pod beats a finished one on a reused address */
		{ "10.7.0.5", "apps", "fresh", "default", "fresh", "latest" },
		/* two live Pods: the first */
		{ "10.7.0.6", "apps", "first", "default", "one", "latest" },
		/* WorkloadEntry: spec labels, then metadata labels */
		{ "10.8.0.1", "vms", "vm-1", "vm-sa", "meta-app", "v3" },
		/* inline ServiceEntry endpoint: named after the entry */
		{ "10.8.0.2", "vms", "legacy", "legacy-sa", "legacy", "v1" },
		{ "fd00:7::1", "apps", "web", "web-sa", "web", "2.1" },
	};
	struct mesh_config *cfg;
	struct lb_state st;

	/* hostNetwork, IP-less Pods and DNS WorkloadEntries are left out */
	if (compile_file("selftests/data/mesh/traffic/workloads.yaml", &cfg,
			 &st))
		workloads_are(&st, want, sizeof(want) / sizeof(want[0]));
	lb_state_free(&st);
	mesh_config_free(cfg);
}

WEFT_TEST(lb_workload_owner_names)
{
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\n"
		"metadata: {name: p, labels: {pod-template-hash: %s},\n"
		"  ownerReferences: [{kind: %s, name: \"%s\", controller: true}]}\n"
		"spec: {containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.9.9.9}\n";
	static const struct {
		const char *hash, *kind, *owner, *want;
	} cases[] = {
		{ "abc12", "ReplicaSet", "reviews-v1-abc12", "reviews-v1" },
		/* the label that is not the suffix: last part dropped */
		{ "zzz", "ReplicaSet", "reviews-v1-abc12", "reviews-v1" },
		{ "abc12", "ReplicaSet", "plain", "plain" },
		{ "abc12", "StatefulSet", "db-set-abc12", "db-set-abc12" },
		{ "abc12", "Job", "backup-28391", "backup-28391" },
		{ "abc12", "DaemonSet", "agent", "agent" },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mesh_config *cfg = NULL;
		struct lb_state st;

		snprintf(buf, sizeof(buf), yaml, cases[i].hash, cases[i].kind,
			 cases[i].owner);
		if (!ASSERT_OK(mesh_config_load_buffer("owner.yaml", buf,
						       strlen(buf), &cfg),
			       cases[i].owner))
			continue;
		if (ASSERT_OK(lb_compile(cfg, &st), "compile") &&
		    ASSERT_EQ(st.nworkloads, 1, cases[i].owner)) {
			ASSERT_STREQ(st.workloads[0].name, cases[i].want,
				     cases[i].owner);
			ASSERT_STREQ(st.workloads[0].app, cases[i].want,
				     "app defaults to the workload name");
		}
		lb_state_free(&st);
		mesh_config_free(cfg);
	}
}

WEFT_TEST(lb_workload_bookinfo)
{
	struct mesh_config *cfg;
	struct lb_state st;

	if (compile_file("selftests/data/mesh/traffic/bookinfo-cluster.yaml",
			 &cfg, &st) &&
	    ASSERT_EQ(st.nworkloads, 6, "Pods")) {
		/* by address: 10.2.2.1, .2, .4, .11, .12, .13 */
		const struct lb_workload *w = &st.workloads[4];

		ASSERT_STREQ(w->name, "reviews-v2", "owner Deployment");
		ASSERT_STREQ(w->service_account, "bookinfo-reviews", "sa");
		ASSERT_STREQ(w->app, "reviews", "app");
		ASSERT_STREQ(w->version, "v2", "version");
		ASSERT_STREQ(st.workloads[2].name, "productpage-v1",
			     "productpage");
	}
	lb_state_free(&st);
	mesh_config_free(cfg);
}
