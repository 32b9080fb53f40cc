// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `weft policy explain`: the built CLI against the mesh config in
 * selftests/data/policy-cli/mesh (no datapath, no privileges), one test per
 * kind of decision: by namespace, by principal, ipBlocks, ports, a root
 * namespace DENY, an ALLOW with an L7 field (fail closed), AUDIT, no
 * policy, a service expanded to its backends; then the JSON document,
 * usage errors (exit 2) and errors (exit 1).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"

#define OUT_MAX (16 * 1024)
#define FIXTURE "selftests/data/policy-cli"

/* <repo>/selftests/data/policy-cli/<name> */
static const char *fixture_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/" FIXTURE "/%s", test_repo_dir(), name);
	return buf;
}

/*
 * `<build>/weft <args>` through sh, stdout into out (stderr stays on the
 * test's unless args redirect it), logged with -v.  Returns the exit
 * status, or -1 when weft did not exit normally.
 */
static int __attribute__((format(printf, 3, 4)))
run_cli(char *out, size_t len, const char *fmt, ...)
{
	char args[2048], cmd[PATH_MAX + 2100];
	size_t n = 0, got;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s/weft' %s", test_build_dir(), args);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!ASSERT_NOT_NULL(p, "popen"))
		return -1;
	while (n + 1 < len && (got = fread(out + n, 1, len - n - 1, p)) > 0)
		n += got;
	out[n] = '\0';
	status = pclose(p);
	test_log("$ weft %s  [exit %d]\n%s", args,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `weft -d <mesh> policy explain <args>`, text output. */
static int __attribute__((format(printf, 3, 4)))
explain(char *out, size_t len, const char *fmt, ...)
{
	char dir[PATH_MAX], args[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return run_cli(out, len, "-d '%s' policy explain %s",
		       fixture_dir(dir, sizeof(dir), "mesh"), args);
}

/* "<repo>/selftests/data/policy-cli/mesh/policies.yaml:<line>" */
static const char *policy_at(char *buf, size_t len, unsigned int line)
{
	snprintf(buf, len, "%s/" FIXTURE "/mesh/policies.yaml:%u",
		 test_repo_dir(), line);
	return buf;
}

#define ASSERT_ORDER(s, a, b, what)                                         \
	({                                                                  \
		const char *___x = strstr((s), (a)), *___y = strstr((s), (b)); \
		ASSERT_TRUE(___x && ___y && ___x < ___y, what);             \
	})

#define AGREE_1 "tables and reference evaluator agree (1 connection)\n"

WEFT_TEST(cli_policy_allow_by_namespace)
{
	char out[OUT_MAX], want[2 * PATH_MAX], at[PATH_MAX];

	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from front/frontend --to shop/cart --port 7070"),
		       0, "front -> cart"))
		return;
	ASSERT_HAS(out, "from     10.20.0.5: front/frontend, "
			"cluster.local/ns/front/sa/frontend\n", "source identity");
	ASSERT_HAS(out, "to       10.10.1.10:7070/tcp: shop/cart, "
			"cluster.local/ns/shop/sa/cart\n", "destination identity");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   allow-match\n", "allowed");
	snprintf(want, sizeof(want),
		 "  policy   shop/cart-allow-front (ALLOW) rule 0, %s "
		 "(rule at line 22)\n", policy_at(at, sizeof(at), 16));
	ASSERT_HAS(out, want, "deciding policy, file:line");
	ASSERT_HAS(out, AGREE_1, "agree");

	/* Another namespace: the ALLOW does not match. */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from open/free-0 --to shop/cart --port 7070"),
		  0, "open -> cart");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   no-allow-match\n", "denied");
	ASSERT_HAS(out, "  applies  shop/cart-allow-front (ALLOW), "
			"shop/audit-evil (AUDIT)\n", "what applies");
}

WEFT_TEST(cli_policy_deny_by_principal)
{
	char out[OUT_MAX];

	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from evil/intruder --to shop/web-v1 --port 8080"),
		       0, "intruder -> web-v1"))
		return;
	ASSERT_HAS(out, "cluster.local/ns/evil/sa/intruder\n", "principal");
	ASSERT_HAS(out, "  verdict  DENY + AUDIT\n  reason   deny-match\n"
			"  policy   shop/web-deny-intruder (DENY) rule 0, ",
		   "denied by principal");

	/* Another principal: no DENY matches, no ALLOW applies. */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from shop/cart --to shop/web-v1 --port 8080"),
		  0, "cart -> web-v1");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   no-allow-policy\n"
			"  applies  shop/web-deny-intruder (DENY), "
			"shop/audit-evil (AUDIT)\n", "allowed");
}

/* The trust domain and the config directory come from -c. */
WEFT_TEST(cli_policy_node_config)
{
	char out[OUT_MAX], dir[PATH_MAX], node[] = "/tmp/weft-test-policy-XXXXXX";
	FILE *f;
	int fd;

	fd = mkstemp(node);
	if (!ASSERT_GE(fd, 0, "mkstemp"))
		return;
	f = fdopen(fd, "w");
	if (!ASSERT_NOT_NULL(f, "fdopen")) {
		close(fd);
		goto out;
	}
	fprintf(f, "nodeName: node-test\nconfigDir: %s\ntrustDomain: example.org\n",
		fixture_dir(dir, sizeof(dir), "mesh"));
	fclose(f);
	/* cluster.local/ns/evil/sa/intruder is not example.org's intruder */
	if (!ASSERT_EQ(run_cli(out, sizeof(out),
			       "-c '%s' policy explain --from evil/intruder "
			       "--to shop/web-v1 --port 8080", node),
		       0, "-c"))
		goto out;
	ASSERT_HAS(out, "10.30.0.9: evil/intruder, example.org/ns/evil/sa/intruder\n",
		   "trust domain");
	ASSERT_HAS(out, "  verdict  ALLOW + AUDIT\n  reason   no-allow-policy\n",
		   "the principal no longer matches");
	/* -d wins over configDir */
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -c '%s' -d /nonexistent policy explain --from "
			  "10.0.0.1 --to 10.0.0.2 --port 1 2>/dev/null", node),
		  1, "-d over -c");
	ASSERT_HAS(out, "{\"error\":\"cannot load the mesh config: /nonexistent",
		   "-d used");
out:
	unlink(node);
}

WEFT_TEST(cli_policy_ip_blocks)
{
	char out[OUT_MAX];

	/* Not a workload: no identity, but inside the ipBlock. */
	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from 10.10.1.77 --to shop/db --port 5432"),
		       0, "10.10.1.77 -> db"))
		return;
	ASSERT_HAS(out, "from     10.10.1.77: unknown (not in the mesh)\n",
		   "unknown source");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   allow-match\n"
			"  policy   shop/db-allow (ALLOW) rule 0, ", "allowed");
	/* A workload outside it. */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend --to shop/db --port 5432"),
		  0, "frontend -> db");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   no-allow-match\n", "denied");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from 192.0.2.1 --to 10.10.1.20 --port 5432"),
		  0, "192.0.2.1 -> db");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   no-allow-match\n",
		   "outside, denied");
}

WEFT_TEST(cli_policy_ports)
{
	char out[OUT_MAX];

	ASSERT_EQ(explain(out, sizeof(out),
			  "--from shop/cart --to shop/db --port 5432"),
		  0, "cart -> db:5432");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   allow-match\n",
		   "the named port");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from shop/cart --to shop/db --port=6379"),
		  0, "cart -> db:6379");
	ASSERT_HAS(out, "to       10.10.1.20:6379/tcp: shop/db", "port shown");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   no-allow-match\n",
		   "another port");
}

/* A DENY in the root namespace beats the ALLOW of the workload's own. */
WEFT_TEST(cli_policy_root_namespace_deny)
{
	char out[OUT_MAX], want[2 * PATH_MAX], at[PATH_MAX];

	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from 10.10.1.66 --to shop/db --port 5432"),
		       0, "10.10.1.66 -> db"))
		return;
	snprintf(want, sizeof(want),
		 "  verdict  DENY\n  reason   deny-match\n"
		 "  policy   istio-system/deny-blocklist (DENY) rule 0, %s "
		 "(rule at line 12)\n", policy_at(at, sizeof(at), 5));
	ASSERT_HAS(out, want, "root namespace DENY");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from 203.0.113.9 --to shop/db --port 5432"),
		  0, "203.0.113.9 -> db");
	ASSERT_HAS(out, "istio-system/deny-blocklist (DENY) rule 0", "range");
	/* Not labelled exposure: internal: the root policy does not apply. */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from 10.10.1.66 --to shop/web-v1 --port 8080"),
		  0, "10.10.1.66 -> web-v1");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   no-allow-policy\n",
		   "selector");
}

/* An ALLOW rule with an L7 field never matches at L4; each address of a
 * dual-stack workload is decided from the source's address of its family. */
WEFT_TEST(cli_policy_l7_fail_closed)
{
	char out[OUT_MAX];

	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from front/frontend --to shop/api --port 8080"),
		       0, "frontend -> api"))
		return;
	ASSERT_HAS(out, "to       10.10.1.30:8080/tcp: shop/api", "IPv4");
	ASSERT_HAS(out, "to       [fd00:10::30]:8080/tcp: shop/api, "
			"cluster.local/ns/shop/sa/api\n  source   fd00:20::5\n",
		   "IPv6, from the IPv6 address");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   allow-l7-only\n"
			"  policy   shop/api-get-only (ALLOW) rule 0, ",
		   "fail closed");
	ASSERT_HAS(out, "agree (2 connections)\n", "both decided");

	/* A source without IPv6: that destination address is skipped. */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from shop/cart --to shop/api --port 8080"),
		  0, "cart -> api");
	ASSERT_HAS(out, "skipped 1 IPv6 destination address: 'shop/cart' has "
			"no IPv6 address\n", "skipped");
	ASSERT_HAS(out, AGREE_1, "one decided");
}

WEFT_TEST(cli_policy_audit)
{
	char out[OUT_MAX], want[2 * PATH_MAX], at[PATH_MAX];

	if (!ASSERT_EQ(explain(out, sizeof(out),
			       "--from evil/intruder --to shop/cart --port 7070"),
		       0, "intruder -> cart"))
		return;
	snprintf(want, sizeof(want),
		 "  verdict  DENY + AUDIT\n  reason   no-allow-match\n"
		 "  audit    shop/audit-evil (AUDIT) rule 0, %s "
		 "(rule at line 78)\n", policy_at(at, sizeof(at), 72));
	ASSERT_HAS(out, want, "audited");
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -d '%s/" FIXTURE "/mesh' policy explain --from "
			  "evil/intruder --to shop/cart --port 7070",
			  test_repo_dir()),
		  0, "-j");
	snprintf(want, sizeof(want),
		 "\"audit\":true,\"audit_policy\":\"shop/audit-evil\","
		 "\"audit_rule\":0,\"audit_file\":\"%s/" FIXTURE
		 "/mesh/policies.yaml\",\"audit_line\":72,\"audit_rule_line\":78,",
		 test_repo_dir());
	ASSERT_HAS(out, want, "audit in JSON");
}

WEFT_TEST(cli_policy_no_policy)
{
	char out[OUT_MAX];

	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend --to open/free-0 --port 80"),
		  0, "frontend -> free");
	ASSERT_HAS(out, "to       10.40.0.4:80/tcp: open/free-0, "
			"cluster.local/ns/open/sa/default\n"
			"  verdict  ALLOW\n  reason   no-policy\n\n", "no policy");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from 10.40.0.4 --to 10.99.0.1 --port 443"),
		  0, "-> outside the mesh");
	ASSERT_HAS(out, "from     10.40.0.4: open/free-0, ", "source by address");
	ASSERT_HAS(out, "to       10.99.0.1:443/tcp: unknown (not in the mesh)\n"
			"  verdict  ALLOW\n  reason   no-policy\n", "not a workload");
	/* Istio authorizes TCP only */
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from evil/intruder --to shop/web-v1 --port 8080 "
			  "--proto udp"),
		  0, "udp");
	ASSERT_HAS(out, "8080/udp", "udp shown");
	ASSERT_HAS(out, "  verdict  ALLOW\n  reason   not-enforced\n", "udp");
}

/* A service is decided at each backend of its route, on its port. */
WEFT_TEST(cli_policy_service_backends)
{
	const char *const forms[] = {
		"--to web.shop --port 80",
		"--to web.shop.svc --port 80",
		"--to web.shop.svc.cluster.local --port 80",
		"--to 10.96.10.1 --port 80",
		"--to 10.96.10.1:80",
		"--to 10.96.10.1:80 --port 80",
	};
	char out[OUT_MAX];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (!ASSERT_EQ(explain(out, sizeof(out), "--from front/frontend %s",
				       forms[i]),
			       0, forms[i]))
			continue;
		ASSERT_HAS(out, "service  web.shop.svc.cluster.local "
				"10.96.10.1:80/tcp\n", forms[i]);
		ASSERT_HAS(out, "to       10.10.1.1:8080/tcp: shop/web-v1, "
				"cluster.local/ns/shop/sa/web\n"
				"  verdict  ALLOW\n  reason   no-allow-policy\n",
			   "v1 allowed");
		ASSERT_HAS(out, "to       10.10.1.2:8080/tcp: shop/web-v2, "
				"cluster.local/ns/shop/sa/web\n"
				"  verdict  DENY\n  reason   deny-match\n"
				"  policy   shop/web-v2-canary (DENY) rule 0, ",
			   "v2 denied");
		ASSERT_ORDER(out, "10.10.1.1:8080", "10.10.1.2:8080", "order");
		ASSERT_HAS(out, "agree (2 connections)\n", forms[i]);
	}
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend --to web.shop --port 8080 2>&1"),
		  1, "not a service port");
	ASSERT_HAS(out, "weft: error: --to 'web.shop': no tcp port 8080 (its ports: 80/tcp)",
		   "the service's ports");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend --to web.shop --port 80 --proto udp 2>&1"),
		  1, "not a udp service");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend --to 10.96.10.9:80 2>&1"),
		  1, "not a VIP");
	ASSERT_HAS(out, "no service has that VIP", "VIP");
}

WEFT_TEST(cli_policy_json)
{
	char out[OUT_MAX], want[2 * PATH_MAX + 1024], dir[PATH_MAX];
	int ret;

	fixture_dir(dir, sizeof(dir), "mesh");
	if (!ASSERT_EQ(run_cli(out, sizeof(out),
			       "-j -d '%s' policy explain --from 10.10.1.66 "
			       "--to db.shop --port 5432", dir),
		       0, "-j"))
		return;
	snprintf(want, sizeof(want),
		 "{\"from\":{\"address\":\"10.10.1.66\",\"workload\":null,"
		 "\"principal\":null},"
		 "\"services\":[{\"host\":\"db.shop.svc.cluster.local\","
		 "\"vip\":\"10.96.10.2\",\"port\":5432,\"protocol\":\"tcp\"}],"
		 "\"to\":[{\"address\":\"10.10.1.20\",\"port\":5432,"
		 "\"protocol\":\"tcp\",\"workload\":\"shop/db\","
		 "\"principal\":\"cluster.local/ns/shop/sa/db\","
		 "\"source\":\"10.10.1.66\",\"verdict\":\"deny\","
		 "\"reason\":\"deny-match\","
		 "\"policy\":\"istio-system/deny-blocklist\",\"rule\":0,"
		 "\"file\":\"%s/policies.yaml\",\"line\":5,\"rule_line\":12,"
		 "\"audit\":false,"
		 "\"policies\":[\"istio-system/deny-blocklist\","
		 "\"shop/db-allow\",\"shop/audit-evil\"]}],"
		 "\"skipped\":0,\"agree\":true}\n", dir);
	ASSERT_STREQ(out, want, "the whole document");

	/* No deciding policy: nulls, not absent members. */
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "policy explain --from front/frontend --to "
			  "open/free-0 --port 80 -d '%s' --json", dir),
		  0, "options after the command");
	ASSERT_HAS(out, "\"verdict\":\"allow\",\"reason\":\"no-policy\","
			"\"policy\":null,\"rule\":null,\"file\":null,"
			"\"line\":null,\"rule_line\":null,\"audit\":false,"
			"\"policies\":[]}", "nulls");

	/* The service case through jq, when there is one. */
	if (system("command -v jq >/dev/null 2>&1")) {
		test_log("no jq: structural check skipped\n");
		return;
	}
	ret = run_cli(out, sizeof(out),
		      "-j -d '%s' policy explain --from front/frontend --to "
		      "web.shop --port 80 | jq -e '"
		      ".from == {address: \"10.20.0.5\", workload: \"front/frontend\","
		      " principal: \"cluster.local/ns/front/sa/frontend\"}"
		      " and (.to | length) == 2"
		      " and ([.to[] | .verdict] == [\"allow\", \"deny\"])"
		      " and ([.to[] | .address] == [\"10.10.1.1\", \"10.10.1.2\"])"
		      " and ([.to[] | .port] == [8080, 8080])"
		      " and .to[1].policy == \"shop/web-v2-canary\""
		      " and .to[1].rule == 0 and (.to[1].line | type) == \"number\""
		      " and .to[0].reason == \"no-allow-policy\""
		      " and .to[0].policy == null"
		      " and .services[0].port == 80 and .agree' >/dev/null",
		      dir);
	ASSERT_EQ(ret, 0, "jq structure");
}

WEFT_TEST(cli_policy_usage_errors)
{
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{ "policy", "missing --from" },
		{ "policy explain --from 10.0.0.1", "missing --to" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2", "missing --port" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2 --port 0",
		  "bad port '0'" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2 --port 70000",
		  "bad port '70000'" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2 --port 8o",
		  "bad port '8o'" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2 --port 1 --proto sctp",
		  "bad protocol 'sctp'" },
		{ "policy explain --from 10.0.0.1 --from 10.0.0.3 --to 10.0.0.2",
		  "'--from' given twice" },
		{ "policy explain --from web --to 10.0.0.2 --port 1",
		  "--from 'web': expected an address or NAMESPACE/WORKLOAD" },
		{ "policy explain --from 10.0.0.1 --to 10.0.0.2:80 --port 81",
		  "--to '10.0.0.2:80' and --port 81 disagree" },
		{ "policy explain --from 10.0.0.1 --to", "--to needs a value" },
		{ "policy explain --from= --to 10.0.0.2 --port 1",
		  "empty value for '--from='" },
		{ "policy explain --from 10.0.0.1 --frob", "unexpected '--frob'" },
		{ "policy explain --from 10.0.0.1 extra", "unexpected 'extra'" },
		{ "policy frob", "unknown policy command 'frob' (one of: explain, help)" },
		{ "--frob policy explain", "unknown option '--frob'" },
	};
	char out[OUT_MAX], want[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(run_cli(out, sizeof(out), "%s 2>&1", cases[i].args), 2,
			  cases[i].args);
		snprintf(want, sizeof(want), "weft: error: ");
		ASSERT_HAS(out, want, cases[i].args);
		ASSERT_HAS(out, cases[i].msg, cases[i].args);
		ASSERT_EQ(run_cli(out, sizeof(out), "-j %s 2>/dev/null",
				  cases[i].args),
			  2, cases[i].args);
		ASSERT_TRUE(!strncmp(out, "{\"error\":\"", 10) &&
				    strstr(out, cases[i].msg) &&
				    !strcmp(out + strlen(out) - 3, "\"}\n"),
			    "JSON error");
	}
	ASSERT_EQ(run_cli(out, sizeof(out), "policy help"), 0, "help");
	ASSERT_HAS(out, "--from SRC --to DST --port N", "policy usage");
	ASSERT_EQ(run_cli(out, sizeof(out), "help"), 0, "weft help");
	ASSERT_HAS(out, "policy explain", "listed in weft help");
	ASSERT_HAS(out, "-d|--config-dir DIR", "-d in weft help");
}

WEFT_TEST(cli_policy_errors)
{
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{ "--from shop/nope --to shop/db --port 1",
		  "--from 'shop/nope': no workload, Pod or WorkloadEntry of that name in " },
		{ "--from shop/cart --to nope/db --port 1",
		  "--to 'nope/db': no workload, Pod or WorkloadEntry of that name in " },
		{ "--from shop/cart --to nope.shop --port 1",
		  "--to 'nope.shop': no service of that host in " },
		{ "--from 10.20.0.5 --to fd00:10::30 --port 1",
		  "'10.20.0.5' has no address of the family of 'fd00:10::30' (IPv6)" },
	};
	char out[OUT_MAX], dir[PATH_MAX];

	fixture_dir(dir, sizeof(dir), "mesh");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(explain(out, sizeof(out), "%s 2>&1", cases[i].args), 1,
			  cases[i].args);
		ASSERT_HAS(out, cases[i].msg, cases[i].args);
		ASSERT_EQ(run_cli(out, sizeof(out),
				  "-j -d '%s' policy explain %s 2>/dev/null", dir,
				  cases[i].args),
			  1, cases[i].args);
		ASSERT_TRUE(!strncmp(out, "{\"error\":\"", 10) &&
				    strstr(out, cases[i].msg),
			    "JSON error");
	}

	/* A policy that does not load: its file:line, in the JSON error too. */
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-j -d '%s' policy explain --from 10.0.0.1 --to "
			  "10.0.0.2 --port 1 2>/dev/null",
			  fixture_dir(dir, sizeof(dir), "broken")),
		  1, "broken config");
	ASSERT_HAS(out, "{\"error\":\"cannot load the mesh config: ", "JSON");
	ASSERT_HAS(out, "/broken/policy.yaml:9: AuthorizationPolicy shop/mixed: ",
		   "file:line");
	ASSERT_EQ(run_cli(out, sizeof(out),
			  "-d /nonexistent/weft policy explain --from 10.0.0.1 "
			  "--to 10.0.0.2 --port 1 2>&1"),
		  1, "no config dir");
	ASSERT_HAS(out, "weft: error: cannot load the mesh config: /nonexistent/weft",
		   "names the directory");
}

/* Workloads by Istio's workload name, Pod name or WorkloadEntry name. */
WEFT_TEST(cli_policy_workload_names)
{
	char out[OUT_MAX];

	ASSERT_EQ(explain(out, sizeof(out),
			  "--from front/frontend-6b7f9c-x2k4q --to shop/web-v2-8f6b4-fghij "
			  "--port 8080"),
		  0, "Pod names");
	ASSERT_HAS(out, "from     10.20.0.5: front/frontend, ", "Pod -> workload");
	ASSERT_HAS(out, "to       10.10.1.2:8080/tcp: shop/web-v2, ", "Pod");
	ASSERT_HAS(out, "  reason   deny-match\n", "decided");
	ASSERT_EQ(explain(out, sizeof(out),
			  "--from legacy/billing-vm --to shop/db --port 5432"),
		  0, "WorkloadEntry");
	ASSERT_HAS(out, "from     192.168.50.4: legacy/billing-vm, "
			"cluster.local/ns/legacy/sa/billing\n", "VM identity");
	ASSERT_HAS(out, "  verdict  DENY\n  reason   no-allow-match\n", "VM denied");
}
