// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-node settings of one weftd, from a small YAML mapping. */
#include "node_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "log.h"
#include "yaml_tree.h"

void node_config_defaults(struct node_config *cfg)
{
	char host[256];

	memset(cfg, 0, sizeof(*cfg));
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(cfg->node_name, sizeof(cfg->node_name), "%.*s",
		 (int)sizeof(cfg->node_name) - 1, host);
	snprintf(cfg->cgroup_path, sizeof(cfg->cgroup_path), "%s",
		 NODE_DEFAULT_CGROUP);
	snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s",
		 NODE_DEFAULT_PIN_DIR);
	snprintf(cfg->config_dir, sizeof(cfg->config_dir), "%s",
		 NODE_DEFAULT_CONFIG_DIR);
	snprintf(cfg->metrics_addr, sizeof(cfg->metrics_addr), "%s",
		 NODE_DEFAULT_METRICS_ADDR);
	cfg->metrics_port = NODE_DEFAULT_METRICS_PORT;
	snprintf(cfg->trust_domain, sizeof(cfg->trust_domain), "%s",
		 NODE_DEFAULT_TRUST_DOMAIN);
	snprintf(cfg->netns_dir, sizeof(cfg->netns_dir), "%s",
		 NODE_DEFAULT_NETNS_DIR);
	cfg->socket_acceleration = true; /* off: socketAcceleration: false */
}

/* Node names and trust domains: letters, digits, '.', '-', '_'. */
static bool name_chars(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
			     strlen(s);
}

/*
 * Copy a string field into dst (size bytes) after checking it; reports
 * and leaves dst alone when the value is empty, too long or fails ok().
 */
static void read_field(struct ydec *d, const struct ynode *root,
		       const char *key, char *dst, size_t size,
		       bool (*ok)(const char *), const char *what)
{
	const struct ynode *n = ymap_find(root, key);
	const char *s;
	size_t mark;

	if (!ymap_find_pair(root, key))
		return;
	mark = ydec_push(d, key);
	if (!n) {
		ydec_error(d, root, "a value is required");
	} else if (ydec_as_str(d, n, &s)) {
		if (!*s)
			ydec_error(d, n, "must not be empty");
		else if (strlen(s) >= size)
			ydec_error(d, n, "too long (at most %zu characters)",
				   size - 1);
		else if (ok && !ok(s))
			ydec_error(d, n, "\"%.64s\" is not %s", s, what);
		else
			memcpy(dst, s, strlen(s) + 1);
	}
	ydec_pop(d, mark);
}

static bool is_absolute(const char *s)
{
	return s[0] == '/';
}

static bool is_ip(const char *s)
{
	union weft_addr a;

	return !weft_addr_parse(s, &a);
}

int node_config_load(const char *path, struct node_config *cfg)
{
	static const char *const keys[] = {
		"nodeName", "cgroupPath", "pinDir", "configDir",
		"metricsAddress", "metricsPort", "trustDomain", "netnsDir",
		"socketAcceleration", "authorizeUdp", NULL,
	};
	struct yarena arena = { 0 };
	struct ydiag diag = { 0 };
	struct node_config next = *cfg;
	struct ystream st = { 0 };
	const struct ynode *root;
	struct ydec d;
	size_t len;
	char *buf;
	int err;

	err = ytree_read_file(path, &buf, &len);
	if (err) {
		pr_warn("%s: %s\n", path,
			err == -EFBIG ? "file too large" : strerror(-err));
		return err == -EFBIG ? -EINVAL : err;
	}
	err = ytree_parse(&arena, &diag, path, buf, len, &st);
	if (err)
		goto out;
	ydec_init(&d, &diag, &arena, path);
	ydec_doc_begin(&d);
	if (st.ndocs > 1)
		ydiag_report(&diag, path, st.docs[1].line,
			     "expected one YAML document, found %zu", st.ndocs);
	root = st.ndocs ? st.docs[0].root : NULL;
	if (root && !ynode_is_null(root)) {
		int64_t port;

		if (root->kind != YNODE_MAP) {
			ydec_error(&d, root, "expected a mapping of settings");
			goto check;
		}
		ydec_check_keys(&d, root, keys);
		read_field(&d, root, "nodeName", next.node_name,
			   sizeof(next.node_name), name_chars,
			   "a node name (letters, digits, '.', '-', '_')");
		read_field(&d, root, "cgroupPath", next.cgroup_path,
			   sizeof(next.cgroup_path), NULL, NULL);
		read_field(&d, root, "pinDir", next.pin_dir,
			   sizeof(next.pin_dir), is_absolute,
			   "an absolute path");
		read_field(&d, root, "configDir", next.config_dir,
			   sizeof(next.config_dir), NULL, NULL);
		read_field(&d, root, "metricsAddress", next.metrics_addr,
			   sizeof(next.metrics_addr), is_ip, "an IP address");
		read_field(&d, root, "trustDomain", next.trust_domain,
			   sizeof(next.trust_domain), name_chars,
			   "a trust domain (letters, digits, '.', '-', '_')");
		read_field(&d, root, "netnsDir", next.netns_dir,
			   sizeof(next.netns_dir), is_absolute,
			   "an absolute path");
		ydec_bool(&d, root, "socketAcceleration",
			  &next.socket_acceleration);
		ydec_bool(&d, root, "authorizeUdp", &next.authorize_udp);
		if (ymap_find_pair(root, "metricsPort")) {
			if (!ymap_find(root, "metricsPort")) {
				size_t m = ydec_push(&d, "metricsPort");

				ydec_error(&d, root, "a value is required");
				ydec_pop(&d, m);
			} else if (ydec_int(&d, root, "metricsPort", 0, 65535,
					    &port)) {
				next.metrics_port = (uint16_t)port;
			}
		}
	}
check:
	if (diag.errors) {
		ydiag_flush(&diag);
		err = diag.oom ? -ENOMEM : -EINVAL;
		goto out;
	}
	*cfg = next;
out:
	yarena_release(&arena);
	free(buf);
	return err;
}
