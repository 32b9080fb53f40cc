/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy fixtures for tests: load selftests/data/policy/mesh.yaml plus
 * policy files, compile them, and gather the connections worth trying
 * (every workload and addresses around every CIDR and port the policies
 * name).  Used by the unit tests (tables against the reference evaluator)
 * and the kernel tests (the datapath against the tables).
 */
#ifndef WEFT_SELFTEST_POLICY_TEST_UTIL_H
#define WEFT_SELFTEST_POLICY_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "config_test_util.h"
#include "mesh-t.h"
#include "policy.h"

#define MESH_FIXTURE "selftests/data/policy/mesh.yaml"

struct pt {
	struct mesh_config *cfg;
	struct lb_state lb;
	struct policy_state ps;
	struct policy_opts opts;
	char *log;     /* what loading and compiling printed */
	int err;       /* policy_compile()'s */
};

static inline void pt_free(struct pt *t)
{
	policy_state_free(&t->ps);
	lb_state_free(&t->lb);
	mesh_config_free(t->cfg);
	free(t->log);
	memset(t, 0, sizeof(*t));
}

/* Load mesh.yaml plus rels (repository-relative, or under ../shared when
 * they start with "samples:"), compile with opts; everything printed is
 * kept in t->log. */
static inline bool pt_load_many(struct pt *t, const char *const *rels, size_t n,
			 const struct policy_opts *opts)
{
	char buf[16][1024];
	const char *paths[16];
	enum log_level level = log_get_level();
	struct stderr_capture cap;
	bool capturing;
	int err;

	memset(t, 0, sizeof(*t));
	if (opts)
		t->opts = *opts;
	if (!ASSERT_LE(n + 1, 16, "files"))
		return false;
	paths[0] = repo_path(buf[0], sizeof(buf[0]), "%s", MESH_FIXTURE);
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(rels[i], "samples:", 8))
			paths[i + 1] = repo_path(buf[i + 1], sizeof(buf[i + 1]),
						 "../shared/istio-samples/security/%s",
						 rels[i] + 8);
		else
			paths[i + 1] = repo_path(buf[i + 1], sizeof(buf[i + 1]),
						 "%s", rels[i]);
	}
	capturing = capture_begin(&cap);
	log_set_level(LOG_LEVEL_INFO);
	err = mesh_config_load_files(paths, n + 1, &t->cfg);
	if (!err)
		err = lb_compile(t->cfg, &t->lb);
	if (!err)
		t->err = policy_compile(t->cfg, &t->lb, &t->opts, &t->ps);
	log_set_level(level);
	t->log = capturing ? capture_end(&cap) : strdup("");
	if (!ASSERT_OK(err, rels[0])) {
		printf("%s", t->log ? t->log : "");
		return false;
	}
	return true;
}

static inline bool pt_load(struct pt *t, const char *rel,
		    const struct policy_opts *opts)
{
	return pt_load_many(t, &rel, 1, opts);
}

static inline union weft_addr A(const char *s)
{
	union weft_addr a = { 0 };

	if (weft_addr_parse(s, &a))
		test_fail(__FILE__, __LINE__, "bad address %s", s);
	return a;
}

struct addrs {
	union weft_addr v[512];
	size_t n;
};

static inline void addrs_add(struct addrs *s, const union weft_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i], a, sizeof(*a)))
			return;
	if (s->n < sizeof(s->v) / sizeof(s->v[0]))
		s->v[s->n++] = *a;
}

struct ports {
	uint16_t v[512];
	size_t n;
};

static inline void ports_add(struct ports *s, long p)
{
	if (p < 1 || p > 65535)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return;
	if (s->n < sizeof(s->v) / sizeof(s->v[0]))
		s->v[s->n++] = (uint16_t)p;
}

/* Addresses around a CIDR: its first, second and last address. */
static inline void addrs_cidr(struct addrs *s, const char *text)
{
	union weft_addr net, a;
	unsigned int plen;

	if (policy_cidr_parse(text, &net, &plen))
		return;
	addrs_add(s, &net);
	a = net;
	a.b[15] ^= 1;
	addrs_add(s, &a);
	a = net;
	for (unsigned int bit = plen; bit < 128; bit++)
		a.b[bit / 8] |= (__u8)(0x80 >> (bit % 8));
	addrs_add(s, &a);
}

static inline void strv_cidrs(struct addrs *s, const struct ystrv *v)
{
	for (size_t i = 0; i < v->n; i++)
		addrs_cidr(s, v->v[i]);
}

static inline void strv_ports(struct ports *s, const struct ystrv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		long p = strtol(v->v[i], NULL, 10);

		ports_add(s, p - 1);
		ports_add(s, p);
		ports_add(s, p + 1);
	}
}

/* Every workload, addresses around every CIDR the policies name, a few
 * outsiders; every port they name +-1 and a few common ones. */
static inline void gather(const struct pt *t, struct addrs *as, struct ports *ps)
{
	static const char *const outside[] = {
		"198.51.100.1", "2001:db8::1", "::1", "10.9.9.9",
		"0.0.0.1",
	};
	static const long common[] = { 1, 22, 80, 443, 8080, 65535 };

	as->n = 0;
	ps->n = 0;
	for (size_t i = 0; i < t->lb.nworkloads; i++)
		addrs_add(as, &t->lb.workloads[i].addr);
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		union weft_addr a = A(outside[i]);

		addrs_add(as, &a);
	}
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		ports_add(ps, common[i]);
	for (size_t i = 0; i < t->cfg->nauthz_policies; i++) {
		const struct istio_authz_policy *p = &t->cfg->authz_policies[i];

		for (size_t j = 0; j < p->nrules; j++) {
			const struct istio_authz_rule *r = &p->rules[j];

			for (size_t k = 0; k < r->nfrom; k++) {
				strv_cidrs(as, &r->from[k].ip_blocks);
				strv_cidrs(as, &r->from[k].not_ip_blocks);
				strv_cidrs(as, &r->from[k].remote_ip_blocks);
			}
			for (size_t k = 0; k < r->nto; k++) {
				strv_ports(ps, &r->to[k].ports);
				strv_ports(ps, &r->to[k].not_ports);
			}
			for (size_t k = 0; k < r->nwhen; k++) {
				const struct istio_authz_condition *c = &r->when[k];

				if (strstr(c->key, ".ip")) {
					strv_cidrs(as, &c->values);
					strv_cidrs(as, &c->not_values);
				} else if (!strcmp(c->key, "destination.port")) {
					strv_ports(ps, &c->values);
					strv_ports(ps, &c->not_values);
				}
			}
		}
	}
}

/* The fixtures of selftests/data/policy, each a case of §4. */
static const char *const fixtures[] = {
	"empty.yaml", "ipblocks.yaml", "root.yaml", "l7.yaml", "audit.yaml",
	"when.yaml", "match.yaml", "custom.yaml", "not-enforced.yaml",
};

#define FIX(f) "selftests/data/policy/" f

/* Every fixture at once: sets mixing root, namespace and selector
 * policies of every action. */
static const char *all_fixtures[sizeof(fixtures) / sizeof(fixtures[0])];

static inline bool pt_load_all(struct pt *t)
{
	size_t n = sizeof(fixtures) / sizeof(fixtures[0]);
	static char rels[sizeof(fixtures) / sizeof(fixtures[0])][256];

	for (size_t i = 0; i < n; i++) {
		snprintf(rels[i], sizeof(rels[i]), FIX("%s"), fixtures[i]);
		all_fixtures[i] = rels[i];
	}
	return pt_load_many(t, all_fixtures, n, NULL) &&
	       ASSERT_OK(t->err, "compile");
}

#endif /* WEFT_SELFTEST_POLICY_TEST_UTIL_H */
