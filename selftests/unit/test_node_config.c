// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * node_config_load(), the weft_addr helpers and the scalar readers of
 * yaml_tree (durations, integers, booleans) that every config uses.
 */
#include <arpa/inet.h>
#include <limits.h>

#include "config_test_util.h"
#include "node_config.h"
#include "yaml_tree.h"

/* Write text to a fresh temporary file; path in buf (unlink it). */
static bool write_tmp(char *buf, size_t len, const char *text)
{
	int fd;

	snprintf(buf, len, "/tmp/weft-node-XXXXXX.yaml");
	fd = mkstemps(buf, 5);
	if (!ASSERT_GE(fd, 0, "mkstemps"))
		return false;
	if (!ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text),
		       "write")) {
		close(fd);
		unlink(buf);
		return false;
	}
	close(fd);
	return true;
}

/* Load text over *cfg, capturing diagnostics into *out (malloc'd). */
static int load_node(const char *text, struct node_config *cfg, char **out,
		     char *path, size_t plen)
{
	struct stderr_capture c;
	int err;

	if (!write_tmp(path, plen, text))
		return -EIO;
	capture_begin(&c);
	err = node_config_load(path, cfg);
	*out = capture_end(&c);
	unlink(path);
	return err;
}

WEFT_TEST(node_config_defaults_and_load)
{
	static const char good[] =
		"# a node\n"
		"nodeName: node-1\n"
		"cgroupPath: weft-node-1\n"
		"pinDir: /sys/fs/bpf/weft-node-1\n"
		"configDir: /etc/weft/node-1.d\n"
		"metricsAddress: \"::1\"\n"
		"metricsPort: 15021\n"
		"trustDomain: example.org\n"
		"netnsDir: /var/run/netns\n"
		"socketAcceleration: false\n"
		"authorizeUdp: true\n";
	struct node_config cfg;
	char path[64], *text;

	node_config_defaults(&cfg);
	ASSERT_TRUE(cfg.node_name[0], "host name as node name");
	ASSERT_STREQ(cfg.cgroup_path, NODE_DEFAULT_CGROUP, "cgroup");
	ASSERT_STREQ(cfg.pin_dir, NODE_DEFAULT_PIN_DIR, "pin dir");
	ASSERT_STREQ(cfg.config_dir, NODE_DEFAULT_CONFIG_DIR, "config dir");
	ASSERT_STREQ(cfg.metrics_addr, NODE_DEFAULT_METRICS_ADDR, "address");
	ASSERT_EQ(cfg.metrics_port, NODE_DEFAULT_METRICS_PORT, "port");
	ASSERT_STREQ(cfg.trust_domain, NODE_DEFAULT_TRUST_DOMAIN, "td");
	ASSERT_STREQ(cfg.netns_dir, "/run/netns", "netns dir");
	ASSERT_TRUE(cfg.socket_acceleration, "socket acceleration on by default");
	ASSERT_FALSE(cfg.authorize_udp, "UDP not authorized, as in Istio");

	if (!ASSERT_OK(load_node(good, &cfg, &text, path, sizeof(path)), "load"))
		printf("%s", text);
	free(text);
	ASSERT_STREQ(cfg.node_name, "node-1", "nodeName");
	ASSERT_STREQ(cfg.cgroup_path, "weft-node-1", "cgroupPath");
	ASSERT_STREQ(cfg.pin_dir, "/sys/fs/bpf/weft-node-1", "pinDir");
	ASSERT_STREQ(cfg.config_dir, "/etc/weft/node-1.d", "configDir");
	ASSERT_STREQ(cfg.metrics_addr, "::1", "metricsAddress");
	ASSERT_EQ(cfg.metrics_port, 15021, "metricsPort");
	ASSERT_STREQ(cfg.trust_domain, "example.org", "trustDomain");
	ASSERT_STREQ(cfg.netns_dir, "/var/run/netns", "netnsDir");
	ASSERT_FALSE(cfg.socket_acceleration, "socketAcceleration");
	ASSERT_TRUE(cfg.authorize_udp, "authorizeUdp");

	/* Partial files override only what they name; port 0 disables. */
	ASSERT_OK(load_node("metricsPort: 0\n", &cfg, &text, path, sizeof(path)),
		  "partial");
	free(text);
	ASSERT_EQ(cfg.metrics_port, 0, "metrics off");
	ASSERT_STREQ(cfg.node_name, "node-1", "kept");

	/* Empty file, comments only: nothing changes. */
	ASSERT_OK(load_node("# nothing here\n", &cfg, &text, path, sizeof(path)),
		  "empty");
	free(text);
	ASSERT_STREQ(cfg.node_name, "node-1", "kept");
}

WEFT_TEST(node_config_errors_leave_cfg_unchanged)
{
	static const struct {
		const char *text;
		const char *want; /* after "<file>:" */
	} cases[] = {
		{ "nodeName: a\nnodName: b\n", "2: unknown field \"nodName\"" },
		{ "metricsPort: 70000\n", "1: metricsPort: 70000 is outside 0..65535" },
		{ "metricsPort: \"80\"\n", "1: metricsPort: expected an integer" },
		{ "metricsPort:\n", "1: metricsPort: a value is required" },
		{ "metricsAddress: 10.0.0\n",
		  "1: metricsAddress: \"10.0.0\" is not an IP address" },
		{ "pinDir: relative/dir\n", "1: pinDir: \"relative/dir\" is not an absolute path" },
		{ "netnsDir: run/netns\n", "1: netnsDir: \"run/netns\" is not an absolute path" },
		{ "netnsDir: \"\"\n", "1: netnsDir: must not be empty" },
		{ "nodeName: \"\"\n", "1: nodeName: must not be empty" },
		{ "nodeName: [a]\n", "1: nodeName: expected a string, got a list" },
		{ "nodeName: node 1\n", "1: nodeName: \"node 1\" is not a node name" },
		{ "- nodeName\n", "1: expected a mapping of settings" },
		{ "nodeName: a\n---\nnodeName: b\n", "3: expected one YAML document" },
		{ "nodeName: [a\n", "2: YAML syntax error" },
		{ "socketAcceleration: yes\n",
		  "1: socketAcceleration: expected true or false" },
	};
	struct node_config cfg, before;
	char path[64];

	node_config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL, want[256];

		before = cfg;
		ASSERT_EQ(load_node(cases[i].text, &cfg, &text, path, sizeof(path)),
			  -EINVAL, cases[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].want);
		ASSERT_HAS(text, want, cases[i].text);
		ASSERT_TRUE(!memcmp(&cfg, &before, sizeof(cfg)), "unchanged");
		free(text);
	}
	/* A good key next to a bad one is not applied either. */
	{
		char *text;

		before = cfg;
		ASSERT_EQ(load_node("nodeName: changed\nmetricsPort: -1\n", &cfg,
				    &text, path, sizeof(path)), -EINVAL, "mixed");
		ASSERT_STREQ(cfg.node_name, before.node_name, "all or nothing");
		free(text);
	}
	ASSERT_EQ(node_config_load("/nonexistent/weft.yaml", &cfg), -ENOENT,
		  "missing file");
}

WEFT_TEST(addr_parse_and_format)
{
	static const struct {
		const char *in, *out;
		int v4;
	} good[] = {
		{ "10.0.0.1", "10.0.0.1", 1 },
		{ "255.255.255.255", "255.255.255.255", 1 },
		{ "fd00::1", "fd00::1", 0 },
		{ "::", "::", 0 },
		{ "::ffff:192.0.2.1", "192.0.2.1", 1 },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", 0 },
	};
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1/32",
		"fe80::1%eth0", "::1::", "host.example.com", " 10.0.0.1",
	};
	union weft_addr a;
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!ASSERT_OK(weft_addr_parse(good[i].in, &a), good[i].in))
			continue;
		ASSERT_EQ(weft_addr_is_v4(&a), good[i].v4, good[i].in);
		ASSERT_STREQ(weft_addr_str(&a, buf, sizeof(buf)), good[i].out,
			     good[i].in);
	}
	ASSERT_OK(weft_addr_parse("192.0.2.7", &a), "v4");
	ASSERT_EQ(a.b[10], 0xff, "IPv4-mapped");
	ASSERT_EQ(a.b[11], 0xff, "IPv4-mapped");
	ASSERT_EQ(a.b[15], 7, "network order");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		union weft_addr keep = a;

		ASSERT_EQ(weft_addr_parse(bad[i], &a), -EINVAL, bad[i]);
		ASSERT_TRUE(!memcmp(&keep, &a, sizeof(a)), "untouched");
	}
	ASSERT_EQ(weft_addr_parse(NULL, &a), -EINVAL, "NULL");
}

/* Read one scalar with the ydec readers. */
static struct ynode scalar(const char *s, bool plain)
{
	return (struct ynode){ .kind = YNODE_SCALAR, .line = 1, .plain = plain,
			       .str = s, .len = strlen(s) };
}

WEFT_TEST(yaml_scalar_readers)
{
	static const struct {
		const char *in;
		int64_t ns;
	} durations[] = {
		{ "0", 0 }, { "1s", 1000000000LL }, { "1.5s", 1500000000LL },
		{ "250ms", 250000000LL }, { "1h30m", 5400000000000LL },
		{ "10us", 10000 }, { "7ns", 7 }, { ".5s", 500000000LL },
	};
	static const char *const bad_durations[] = {
		"", "5", "1x", "s", "-1s", "1.5", "1h-1s", "ms",
	};
	struct ydiag diag = { 0 };
	struct yarena arena = { 0 };
	struct stderr_capture c;
	struct ydec d;
	struct ynode n;
	int64_t v;
	bool b;
	double f;
	char *text;

	ydec_init(&d, &diag, &arena, "t.yaml");
	capture_begin(&c);
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		n = scalar(durations[i].in, true);
		v = -1;
		if (ASSERT_TRUE(ydec_as_duration(&d, &n, &v), durations[i].in))
			ASSERT_EQ(v, durations[i].ns, durations[i].in);
	}
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
		n = scalar(bad_durations[i], true);
		ASSERT_FALSE(ydec_as_duration(&d, &n, &v), bad_durations[i]);
	}
	n = scalar("-42", true);
	ASSERT_TRUE(ydec_as_int(&d, &n, -100, 100, &v) && v == -42, "negative");
	n = scalar("042", true);
	ASSERT_FALSE(ydec_as_int(&d, &n, 0, 100, &v), "leading zero");
	n = scalar("42", false);
	ASSERT_FALSE(ydec_as_int(&d, &n, 0, 100, &v), "quoted");
	n = scalar("9223372036854775808", true);
	ASSERT_FALSE(ydec_as_int(&d, &n, INT64_MIN, INT64_MAX, &v), "overflow");
	n = scalar("True", true);
	ASSERT_TRUE(ydec_as_bool(&d, &n, &b) && b, "True");
	n = scalar("yes", true);
	ASSERT_FALSE(ydec_as_bool(&d, &n, &b), "yes is not a boolean");
	n = scalar("12.5", true);
	ASSERT_TRUE(ydec_as_double(&d, &n, 0, 100, &f) && f == 12.5, "double");
	n = scalar("nan", true);
	ASSERT_FALSE(ydec_as_double(&d, &n, 0, 100, &f), "nan");
	text = capture_end(&c);
	ASSERT_HAS(text, "t.yaml:1: expected an integer, got a quoted string \"42\"",
		   "message");
	ASSERT_HAS(text, "t.yaml:1: expected true or false, got \"yes\"", "message");
	free(text);
	yarena_release(&arena);
}
