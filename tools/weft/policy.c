// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft policy explain: decide one connection offline, from the mesh config
 * alone, the way the datapath will (policy_evaluate over the compiled
 * tables), cross-checked against the reference evaluator
 * (policy_evaluate_model).  A disagreement is a weft bug: exit 1.
 *
 *   --from  an address, or ns/name of a workload (Istio's workload name,
 *           else a Pod or WorkloadEntry name): its first address of each
 *           destination's family;
 *   --to    an address, a workload ns/name (each of its addresses), or a
 *           service (host, name.ns, VIP or VIP:port): each backend of its
 *           route, at the backend's port, since policy is enforced at the
 *           destination workload;
 *   --port  the destination port: the service port for a service;
 *   --proto tcp (the default) or udp.
 *
 * The mesh config is that of -d, else configDir of -c, else the default
 * directory; the trust domain that of -c (cluster.local by default).
 */
#include "main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "log.h"
#include "mesh-t.h"
#include "mesh.h"
#include "node_config.h"
#include "policy.h"
#include "vec.h"

static const char policy_usage[] =
	"Usage: weft [-j] [-c NODE_CONFIG] [-d CONFIG_DIR] policy explain\n"
	"            --from SRC --to DST --port N [--proto tcp|udp]\n"
	"\n"
	"  Decide the connection SRC -> DST:N with the AuthorizationPolicies of\n"
	"  the mesh config, as the datapath will, and say which policy and rule\n"
	"  decided it.  Offline: reads the config, needs no datapath.\n"
	"\n"
	"  SRC := { ADDRESS | NAMESPACE/WORKLOAD }\n"
	"  DST := { ADDRESS | NAMESPACE/WORKLOAD | HOST | NAME.NAMESPACE |\n"
	"           VIP[:PORT] }\n"
	"\n"
	"  A workload is Istio's workload name (a Deployment's, ...), a Pod or\n"
	"  a WorkloadEntry; a source workload connects from its first address\n"
	"  of the destination's family.  A service is decided at each backend\n"
	"  of its route (policy is enforced at the destination workload), on\n"
	"  the backend's port; N is then the service port.\n"
	"\n"
	"  Exit status: 0 decided (allow or deny), 1 error, 2 usage error.\n";

struct explain_args {
	const char *from, *to;
	uint16_t port;        /* --port, else the port of a VIP:port --to */
	uint8_t proto;
	bool to_vip_port;     /* --to is VIP:port, in to_vip */
	union weft_addr to_vip;
};

struct addr_vec {
	size_t n, cap;
	union weft_addr *v;
};

/* One connection to decide. */
struct target {
	union weft_addr src, dst;
	uint16_t port;                 /* where policy sees it: the workload's */
	struct weft_policy_verdict tables, model;
};

struct target_vec {
	size_t n, cap;
	struct target *v;
};

struct explain {
	struct explain_args a;
	const char *dir;
	struct node_config node;
	struct policy_opts opts;
	struct mesh_config *cfg;
	struct lb_state lb;
	struct policy_state ps;
	struct addr_vec from;          /* the source's addresses */
	struct target_vec to;
	const struct lb_service *svcs[8]; /* the services --to named */
	size_t nsvcs;
	size_t skipped;                /* destinations of no source family */
	bool skipped_v4;               /* ... and which family that is */
};

static void explain_free(struct explain *x)
{
	free(x->from.v);
	free(x->to.v);
	policy_state_free(&x->ps);
	lb_state_free(&x->lb);
	mesh_config_free(x->cfg);
}

static int addr_push(struct addr_vec *s, const union weft_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i], a, sizeof(*a)))
			return 0;
	if (vec_reserve((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n++] = *a;
	return 0;
}

static int target_push(struct target_vec *s, const union weft_addr *dst,
		       uint16_t port)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i].dst, dst, sizeof(*dst)) &&
		    s->v[i].port == port)
			return 0;
	if (vec_reserve((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n++] = (struct target){ .dst = *dst, .port = port };
	return 0;
}

/* ---- arguments ---------------------------------------------------------- */

static bool is_workload_ref(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash && slash != s && slash[1] && !strchr(slash + 1, '/');
}

/* "10.96.0.1:80" or "[fd00::1]:80": 0, or -EINVAL when not that. */
static int parse_vip_port(const char *s, union weft_addr *a, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':'), *p;
	size_t len;
	unsigned long v;
	char *end;

	if (!colon)
		return -EINVAL;
	p = colon + 1;
	len = (size_t)(colon - s);
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return -EINVAL;
		s++;
		len -= 2;
	} else if (memchr(s, ':', len)) {
		return -EINVAL; /* a bare IPv6 address: no port */
	}
	if (len >= sizeof(buf) || *p < '0' || *p > '9')
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtoul(p, &end, 10);
	if (*end || !v || v > 65535 || weft_addr_parse(buf, a))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when not this one. */
static const char *opt_value(struct cli_ctx *ctx, int argc, char **argv,
			     int *i, const char *name, int *err)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, "--", 2) || strncmp(arg + 2, name, n))
		return NULL;
	if (arg[2 + n] == '=')
		return arg + 3 + n;
	if (arg[2 + n])
		return NULL;
	if (*i + 1 >= argc) {
		*err = cli_error(ctx, CLI_EXIT_USAGE,
				 "policy explain: --%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

static int parse_args(struct cli_ctx *ctx, int argc, char **argv,
		      struct explain_args *a)
{
	const char *port = NULL, *proto = NULL, *v;
	const char **slot;
	union weft_addr from;
	uint16_t vport;
	int err = 0;

	*a = (struct explain_args){ .proto = IPPROTO_TCP };
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];

		if ((v = opt_value(ctx, argc, argv, &i, "from", &err)))
			slot = &a->from;
		else if (!err && (v = opt_value(ctx, argc, argv, &i, "to", &err)))
			slot = &a->to;
		else if (!err && (v = opt_value(ctx, argc, argv, &i, "port", &err)))
			slot = &port;
		else if (!err && (v = opt_value(ctx, argc, argv, &i, "proto", &err)))
			slot = &proto;
		else if (err)
			return err;
		else
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "policy explain: unexpected '%s' "
					 "(try 'weft policy help')", argv[i]);
		if (*slot)
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "policy explain: '%s' given twice", opt);
		if (!*v)
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "policy explain: empty value for '%s'",
					 opt);
		*slot = v;
	}
	if (!a->from || !a->to)
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "policy explain: missing --%s (try 'weft policy help')",
				 a->from ? "to" : "from");
	if (port) {
		char *end;
		unsigned long p;

		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || port[0] < '0' || port[0] > '9' || !p ||
		    p > 65535)
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "policy explain: bad port '%s' (1..65535)",
					 port);
		a->port = (uint16_t)p;
	}
	if (weft_addr_parse(a->from, &from) && !is_workload_ref(a->from))
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "--from '%s': expected an address or NAMESPACE/WORKLOAD",
				 a->from);
	if (!parse_vip_port(a->to, &a->to_vip, &vport)) {
		if (a->port && a->port != vport)
			return cli_error(ctx, CLI_EXIT_USAGE,
					 "--to '%s' and --port %u disagree",
					 a->to, a->port);
		a->port = vport;
		a->to_vip_port = true;
	}
	if (!a->port)
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "policy explain: missing --port");
	if (proto && !strcmp(proto, "udp"))
		a->proto = IPPROTO_UDP;
	else if (proto && strcmp(proto, "tcp"))
		return cli_error(ctx, CLI_EXIT_USAGE,
				 "policy explain: bad protocol '%s' (tcp or udp)",
				 proto);
	return CLI_EXIT_OK;
}

/* ---- loading -------------------------------------------------------------- */

static int explain_load(struct cli_ctx *ctx, struct explain *x)
{
	char why[512];
	int err;

	node_config_defaults(&x->node);
	if (ctx->node_file) {
		err = node_config_load(ctx->node_file, &x->node);
		if (err)
			return cli_error(ctx, CLI_EXIT_ERROR,
					 "%s: cannot load node config: %s",
					 ctx->node_file, strerror(-err));
	}
	x->dir = ctx->config_dir ? ctx->config_dir :
		 x->node.config_dir[0] ? x->node.config_dir :
					 NODE_DEFAULT_CONFIG_DIR;
	x->opts.trust_domain = x->node.trust_domain[0] ?
				       x->node.trust_domain :
				       NODE_DEFAULT_TRUST_DOMAIN;
	x->opts.enforced_protos = policy_protos(x->node.authorize_udp);

	log_capture_begin(why, sizeof(why));
	err = mesh_config_load_dir(x->dir, &x->cfg);
	if (!err)
		err = lb_compile(x->cfg, &x->lb);
	if (!err)
		err = policy_compile(x->cfg, &x->lb, &x->opts, &x->ps);
	log_capture_end();
	if (err && why[0])
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "cannot load the mesh config: %s", why);
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "cannot load the mesh config: %s: %s", x->dir,
				 strerror(-err));
	return CLI_EXIT_OK;
}

/* ---- resolving --from and --to ------------------------------------------- */

static const struct lb_workload *wl_at(const struct lb_state *lb,
				       const union weft_addr *a)
{
	for (size_t i = 0; i < lb->nworkloads; i++)
		if (!memcmp(&lb->workloads[i].addr, a, sizeof(*a)))
			return &lb->workloads[i];
	return NULL;
}

static bool ns_name_eq(const char *ns, const char *name, const char *want_ns,
		       size_t ns_len, const char *want_name)
{
	return ns && name && strlen(ns) == ns_len &&
	       !strncmp(ns, want_ns, ns_len) && !strcmp(name, want_name);
}

/*
 * The addresses of workload "ns/name": Istio's workload name first (every
 * address of every Pod of a Deployment), else a Pod's IPs, else a
 * WorkloadEntry's IP.  0 with none found (out->n == 0), or -ENOMEM.
 */
static int workload_addrs(const struct explain *x, const char *ref,
			  struct addr_vec *out)
{
	const char *slash = strchr(ref, '/'), *name = slash + 1;
	size_t ns_len = (size_t)(slash - ref);
	int err = 0;

	for (size_t i = 0; !err && i < x->lb.nworkloads; i++) {
		const struct lb_workload *w = &x->lb.workloads[i];

		if (ns_name_eq(w->ns, w->name, ref, ns_len, name))
			err = addr_push(out, &w->addr);
	}
	for (size_t i = 0; !err && !out->n && i < x->cfg->npods; i++) {
		const struct k8s_pod *p = &x->cfg->pods[i];

		if (!ns_name_eq(p->meta.ns, p->meta.name, ref, ns_len, name))
			continue;
		for (size_t j = 0; !err && j < p->nips; j++)
			err = addr_push(out, &p->ips[j]);
	}
	for (size_t i = 0; !err && !out->n && i < x->cfg->nworkload_entries; i++) {
		const struct istio_workload_entry *we =
			&x->cfg->workload_entries[i];

		if (we->spec.addr_kind == ISTIO_ADDR_IP &&
		    ns_name_eq(we->meta.ns, we->meta.name, ref, ns_len, name))
			err = addr_push(out, &we->spec.ip);
	}
	return err;
}

static int resolve_from(struct cli_ctx *ctx, struct explain *x)
{
	union weft_addr a;

	if (!weft_addr_parse(x->a.from, &a))
		return addr_push(&x->from, &a) ?
			       cli_error(ctx, CLI_EXIT_ERROR, "out of memory") :
			       CLI_EXIT_OK;
	if (workload_addrs(x, x->a.from, &x->from))
		return cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	if (!x->from.n)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "--from '%s': no workload, Pod or WorkloadEntry of that name in %s",
				 x->a.from, x->dir);
	return CLI_EXIT_OK;
}

/* "reviews.bookinfo" and "reviews.bookinfo.svc" name
 * reviews.bookinfo.svc.cluster.local. */
static bool host_matches(const char *host, const char *arg)
{
	size_t n = strlen(arg);

	if (!strcmp(host, arg))
		return true;
	if (strncmp(host, arg, n) || host[n] != '.')
		return false;
	host += n + 1;
	return !strcmp(host, "svc." MESH_CLUSTER_DOMAIN) ||
	       (n > 4 && !strcmp(arg + n - 4, ".svc") &&
		!strcmp(host, MESH_CLUSTER_DOMAIN));
}

/* Every backend of the route of each service with that VIP (or host),
 * port and protocol, at the backend's port. */
static int resolve_service(struct cli_ctx *ctx, struct explain *x,
			   const union weft_addr *vip, const char *host)
{
	char ports[256] = "", proto[8], pa[CLI_ADDR_PORT_LEN];
	bool named = false;

	for (size_t i = 0; i < x->lb.nservices; i++) {
		const struct lb_service *s = &x->lb.services[i];
		size_t used = strlen(ports);

		if (vip ? memcmp(&s->vip, vip, sizeof(*vip)) :
			  !host_matches(s->host, host))
			continue;
		named = true;
		snprintf(ports + used, sizeof(ports) - used, "%s%u/%s",
			 used ? ", " : "", s->port,
			 cli_proto_str(s->proto, proto, sizeof(proto)));
		if (s->port != x->a.port || s->proto != x->a.proto)
			continue;
		if (x->nsvcs == sizeof(x->svcs) / sizeof(x->svcs[0]))
			return cli_error(ctx, CLI_EXIT_ERROR,
					 "--to '%s': too many services match",
					 x->a.to);
		x->svcs[x->nsvcs++] = s;
		for (size_t d = 0; d < s->ndests; d++) {
			const struct lb_cluster *c =
				&x->lb.clusters[s->dests[d].cluster];

			for (size_t b = 0; b < c->nbackends; b++)
				if (target_push(&x->to, &c->backends[b].addr,
						c->backends[b].port))
					return cli_error(ctx, CLI_EXIT_ERROR,
							 "out of memory");
		}
	}
	if (!named)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 vip ? "--to '%s': no service has that VIP in %s" :
				       "--to '%s': no service of that host in %s",
				 x->a.to, x->dir);
	if (!x->nsvcs)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "--to '%s': no %s port %u (its ports: %s)",
				 x->a.to, cli_proto_str(x->a.proto, proto,
							sizeof(proto)),
				 x->a.port, ports);
	if (!x->to.n)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "--to '%s': %s has no backends to decide for",
				 x->a.to,
				 cli_addr_port_str(&x->svcs[0]->vip,
						   htons(x->svcs[0]->port), pa,
						   sizeof(pa)));
	return CLI_EXIT_OK;
}

static bool is_vip(const struct lb_state *lb, const union weft_addr *a)
{
	for (size_t i = 0; i < lb->nservices; i++)
		if (!memcmp(&lb->services[i].vip, a, sizeof(*a)))
			return true;
	return false;
}

static int resolve_to(struct cli_ctx *ctx, struct explain *x)
{
	struct addr_vec addrs = { 0 };
	union weft_addr a;
	int err;

	if (x->a.to_vip_port)
		return resolve_service(ctx, x, &x->a.to_vip, NULL);
	if (!weft_addr_parse(x->a.to, &a)) {
		if (is_vip(&x->lb, &a))
			return resolve_service(ctx, x, &a, NULL);
		return target_push(&x->to, &a, x->a.port) ?
			       cli_error(ctx, CLI_EXIT_ERROR, "out of memory") :
			       CLI_EXIT_OK;
	}
	if (!is_workload_ref(x->a.to))
		return resolve_service(ctx, x, NULL, x->a.to);
	err = workload_addrs(x, x->a.to, &addrs);
	for (size_t i = 0; !err && i < addrs.n; i++)
		err = target_push(&x->to, &addrs.v[i], x->a.port);
	free(addrs.v);
	if (err)
		return cli_error(ctx, CLI_EXIT_ERROR, "out of memory");
	if (!x->to.n)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "--to '%s': no workload, Pod or WorkloadEntry of that name in %s",
				 x->a.to, x->dir);
	return CLI_EXIT_OK;
}

/* Give each destination the source's first address of its family; drop
 * those of a family the source has none of. */
static int pair_sources(struct cli_ctx *ctx, struct explain *x)
{
	size_t kept = 0;

	for (size_t i = 0; i < x->to.n; i++) {
		struct target *t = &x->to.v[i];
		const union weft_addr *src = NULL;

		for (size_t j = 0; !src && j < x->from.n; j++)
			if (weft_addr_is_v4(&x->from.v[j]) ==
			    weft_addr_is_v4(&t->dst))
				src = &x->from.v[j];
		if (!src) {
			x->skipped_v4 = weft_addr_is_v4(&t->dst);
			continue;
		}
		t->src = *src;
		x->to.v[kept++] = *t;
	}
	x->skipped = x->to.n - kept;
	x->to.n = kept;
	if (!kept)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "'%s' has no address of the family of '%s' (IPv%d)",
				 x->a.from, x->a.to,
				 weft_addr_is_v4(&x->to.v[0].dst) ? 4 : 6);
	return CLI_EXIT_OK;
}

/* ---- deciding -------------------------------------------------------------- */

static bool verdict_eq(const struct weft_policy_verdict *a,
		       const struct weft_policy_verdict *b)
{
	return a->action == b->action && a->reason == b->reason &&
	       a->flags == b->flags && a->policy == b->policy &&
	       a->rule == b->rule && a->audit_policy == b->audit_policy &&
	       a->audit_rule == b->audit_rule;
}

static const char *action_str(__u8 action)
{
	return action == WEFT_POLICY_ACTION_ALLOW ? "ALLOW" : "DENY";
}

/* "DENY deny-match shop/x rule 0" for the disagreement error. */
static void verdict_brief(const struct explain *x,
			  const struct weft_policy_verdict *v, char *buf, size_t len)
{
	const struct policy_info *p = v->policy < x->ps.npolicies ?
					      &x->ps.policies[v->policy] : NULL;

	snprintf(buf, len, "%s %s%s %s%s%s rule %d, audit %d/%d",
		 action_str(v->action), policy_reason_name(v->reason),
		 v->flags & WEFT_POLICY_F_AUDIT ? " +AUDIT" : "",
		 p ? p->ns : "-", p ? "/" : "", p ? p->name : "",
		 (int)v->rule, (int)v->audit_policy, (int)v->audit_rule);
}

static int explain_decide(struct cli_ctx *ctx, struct explain *x)
{
	for (size_t i = 0; i < x->to.n; i++) {
		struct target *t = &x->to.v[i];
		char a[CLI_ADDR_PORT_LEN], b[INET6_ADDRSTRLEN], tv[512], mv[512];
		int err;

		err = policy_evaluate(&x->ps, &t->src, &t->dst, t->port,
				      x->a.proto, &t->tables);
		if (!err)
			err = policy_evaluate_model(x->cfg, x->lb.workloads,
						    x->lb.nworkloads, &x->opts,
						    &t->src, &t->dst, t->port,
						    x->a.proto, &t->model);
		if (err)
			return cli_error(ctx, CLI_EXIT_ERROR,
					 "evaluating: %s", strerror(-err));
		if (verdict_eq(&t->tables, &t->model))
			continue;
		verdict_brief(x, &t->tables, tv, sizeof(tv));
		verdict_brief(x, &t->model, mv, sizeof(mv));
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "%s -> %s: the tables decide '%s', the reference "
				 "evaluator '%s' (a weft bug; please report it)",
				 cli_addr_str(&t->src, b, sizeof(b)),
				 cli_addr_port_str(&t->dst, htons(t->port), a,
						   sizeof(a)),
				 tv, mv);
	}
	return CLI_EXIT_OK;
}

/* ---- output ---------------------------------------------------------------- */

/* The policies that apply at dst (its set), NULL when none do. */
static const struct policy_set_info *dst_set(const struct policy_state *ps,
					     const union weft_addr *dst)
{
	for (size_t i = 0; i < ps->ndst; i++) {
		__u32 id = ps->dst[i].v.set_id;

		if (!memcmp(&ps->dst[i].k.addr, dst, sizeof(*dst)))
			return id < ps->nsets ? &ps->set_info[id] : NULL;
	}
	return NULL;
}

static unsigned int rule_line(const struct explain *x, __u32 policy,
			      __u32 rule)
{
	const struct istio_authz_policy *p;

	if (policy >= x->cfg->nauthz_policies)
		return 0;
	p = &x->cfg->authz_policies[policy];
	return rule < p->nrules ? p->rules[rule].line : 0;
}

/* "<td>/ns/<ns>/sa/<sa>" of the workload at a, "" when none. */
static const char *principal_of(const struct explain *x,
				const struct lb_workload *w, char *buf,
				size_t len)
{
	if (!w)
		return "";
	snprintf(buf, len, "%s/ns/%s/sa/%s", x->opts.trust_domain, w->ns,
		 w->service_account[0] ? w->service_account : "default");
	return buf;
}

static void json_identity(struct json_writer *w, const struct explain *x,
			  const union weft_addr *a)
{
	const struct lb_workload *wl = wl_at(&x->lb, a);
	char name[LB_NS_MAX + LB_WORKLOAD_MAX + 2], pr[POLICY_PRINCIPAL_MAX];

	snprintf(name, sizeof(name), "%s/%s", wl ? wl->ns : "",
		 wl ? wl->name : "");
	json_kv_string(w, "workload", wl ? name : NULL);
	json_kv_string(w, "principal",
		       wl ? principal_of(x, wl, pr, sizeof(pr)) : NULL);
}

/* policy + rule as members prefixed with pre ("" or "audit_"). */
static void json_policy(struct json_writer *w, const struct explain *x,
			const char *pre, __u32 policy, __u32 rule)
{
	const struct policy_info *p = policy < x->ps.npolicies ?
					      &x->ps.policies[policy] : NULL;
	char key[32], name[sizeof(p->ns) + sizeof(p->name) + 1];

	if (p)
		snprintf(name, sizeof(name), "%s/%s", p->ns, p->name);
	snprintf(key, sizeof(key), "%spolicy", pre);
	json_kv_string(w, key, p ? name : NULL);
	snprintf(key, sizeof(key), "%srule", pre);
	if (p && rule != WEFT_POLICY_NONE)
		json_kv_u64(w, key, rule);
	else
		json_kv_null(w, key);
	snprintf(key, sizeof(key), "%sfile", pre);
	json_kv_string(w, key, p ? p->file : NULL);
	snprintf(key, sizeof(key), "%sline", pre);
	if (p)
		json_kv_u64(w, key, p->line);
	else
		json_kv_null(w, key);
	snprintf(key, sizeof(key), "%srule_line", pre);
	if (p && rule_line(x, policy, rule))
		json_kv_u64(w, key, rule_line(x, policy, rule));
	else
		json_kv_null(w, key);
}

static int explain_json(struct cli_ctx *ctx, const struct explain *x)
{
	struct json_writer *w = &ctx->jw;
	char a[INET6_ADDRSTRLEN], proto[8];

	json_object_begin(w);
	json_key(w, "from");
	json_object_begin(w);
	json_kv_string(w, "address",
		       cli_addr_str(&x->to.v[0].src, a, sizeof(a)));
	json_identity(w, x, &x->to.v[0].src);
	json_object_end(w);
	json_key(w, "services");
	json_array_begin(w);
	for (size_t i = 0; i < x->nsvcs; i++) {
		const struct lb_service *s = x->svcs[i];

		json_object_begin(w);
		json_kv_string(w, "host", s->host);
		json_kv_string(w, "vip", cli_addr_str(&s->vip, a, sizeof(a)));
		json_kv_u64(w, "port", s->port);
		json_kv_string(w, "protocol",
			       cli_proto_str(s->proto, proto, sizeof(proto)));
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "to");
	json_array_begin(w);
	for (size_t i = 0; i < x->to.n; i++) {
		const struct target *t = &x->to.v[i];
		const struct weft_policy_verdict *v = &t->tables;
		const struct policy_set_info *set = dst_set(&x->ps, &t->dst);
		bool audit = v->flags & WEFT_POLICY_F_AUDIT;

		json_object_begin(w);
		json_kv_string(w, "address", cli_addr_str(&t->dst, a, sizeof(a)));
		json_kv_u64(w, "port", t->port);
		json_kv_string(w, "protocol",
			       cli_proto_str(x->a.proto, proto, sizeof(proto)));
		json_identity(w, x, &t->dst);
		json_kv_string(w, "source", cli_addr_str(&t->src, a, sizeof(a)));
		json_kv_string(w, "verdict",
			       v->action == WEFT_POLICY_ACTION_ALLOW ? "allow" : "deny");
		json_kv_string(w, "reason", policy_reason_name(v->reason));
		json_policy(w, x, "", v->policy, v->rule);
		json_kv_bool(w, "audit", audit);
		if (audit)
			json_policy(w, x, "audit_", v->audit_policy,
				    v->audit_rule);
		json_key(w, "policies");
		json_array_begin(w);
		for (size_t j = 0; set && j < set->npolicies; j++) {
			const struct policy_info *p =
				&x->ps.policies[set->policies[j]];
			char name[sizeof(p->ns) + sizeof(p->name) + 1];

			snprintf(name, sizeof(name), "%s/%s", p->ns, p->name);
			json_string(w, name);
		}
		json_array_end(w);
		json_object_end(w);
	}
	json_array_end(w);
	json_kv_u64(w, "skipped", x->skipped);
	json_kv_bool(w, "agree", true);
	json_object_end(w);
	return cli_json_end(ctx);
}

/* "front/frontend, cluster.local/ns/front/sa/frontend" */
static void print_identity(const struct explain *x, const union weft_addr *a)
{
	const struct lb_workload *wl = wl_at(&x->lb, a);
	char pr[POLICY_PRINCIPAL_MAX];

	if (wl)
		printf("%s/%s, %s\n", wl->ns, wl->name,
		       principal_of(x, wl, pr, sizeof(pr)));
	else
		printf("unknown (not in the mesh)\n");
}

static void print_policy(const struct explain *x, const char *label,
			 __u32 policy, __u32 rule)
{
	const struct policy_info *p = &x->ps.policies[policy];
	unsigned int line = rule_line(x, policy, rule);

	printf("  %-8s %s/%s (%s)", label, p->ns, p->name,
	       cli_authz_action_str(p->action));
	if (rule != WEFT_POLICY_NONE)
		printf(" rule %u", rule);
	printf(", %s:%u", p->file, p->line);
	if (line)
		printf(" (rule at line %u)", line);
	printf("\n");
}

static int explain_text(const struct explain *x)
{
	char a[CLI_ADDR_PORT_LEN], proto[8];

	printf("from     %s: ", cli_addr_str(&x->to.v[0].src, a, sizeof(a)));
	print_identity(x, &x->to.v[0].src);
	for (size_t i = 0; i < x->nsvcs; i++) {
		const struct lb_service *s = x->svcs[i];

		printf("service  %s %s/%s\n", s->host,
		       cli_addr_port_str(&s->vip, htons(s->port), a, sizeof(a)),
		       cli_proto_str(s->proto, proto, sizeof(proto)));
	}
	for (size_t i = 0; i < x->to.n; i++) {
		const struct target *t = &x->to.v[i];
		const struct weft_policy_verdict *v = &t->tables;
		const struct policy_set_info *set = dst_set(&x->ps, &t->dst);

		printf("\nto       %s/%s: ",
		       cli_addr_port_str(&t->dst, htons(t->port), a, sizeof(a)),
		       cli_proto_str(x->a.proto, proto, sizeof(proto)));
		print_identity(x, &t->dst);
		if (memcmp(&t->src, &x->to.v[0].src, sizeof(t->src)))
			printf("  source   %s\n",
			       cli_addr_str(&t->src, a, sizeof(a)));
		printf("  verdict  %s%s\n", action_str(v->action),
		       v->flags & WEFT_POLICY_F_AUDIT ? " + AUDIT" : "");
		printf("  reason   %s\n", policy_reason_name(v->reason));
		if (v->policy < x->ps.npolicies)
			print_policy(x, "policy", v->policy, v->rule);
		if ((v->flags & WEFT_POLICY_F_AUDIT) &&
		    v->audit_policy < x->ps.npolicies)
			print_policy(x, "audit", v->audit_policy, v->audit_rule);
		if (v->policy >= x->ps.npolicies && set && set->npolicies) {
			printf("  applies ");
			for (size_t j = 0; j < set->npolicies; j++) {
				const struct policy_info *p =
					&x->ps.policies[set->policies[j]];

				printf("%s %s/%s (%s)", j ? "," : "", p->ns,
				       p->name, cli_authz_action_str(p->action));
			}
			printf("\n");
		}
	}
	if (x->skipped)
		printf("\nskipped %zu IPv%d destination address%s: '%s' has no IPv%d address\n",
		       x->skipped, x->skipped_v4 ? 4 : 6,
		       x->skipped == 1 ? "" : "es", x->a.from,
		       x->skipped_v4 ? 4 : 6);
	printf("\ntables and reference evaluator agree (%zu connection%s)\n",
	       x->to.n, x->to.n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static int do_explain(struct cli_ctx *ctx, int argc, char **argv)
{
	struct explain x = { 0 };
	int err;

	err = parse_args(ctx, argc, argv, &x.a);
	if (err)
		return err;
	err = explain_load(ctx, &x);
	if (!err)
		err = resolve_from(ctx, &x);
	if (!err)
		err = resolve_to(ctx, &x);
	if (!err)
		err = pair_sources(ctx, &x);
	if (!err)
		err = explain_decide(ctx, &x);
	if (!err)
		err = ctx->json ? explain_json(ctx, &x) : explain_text(&x);
	explain_free(&x);
	return err;
}

static int do_policy_help(struct cli_ctx *ctx, int argc, char **argv)
{
	int err = cli_no_args(ctx, "help", argc, argv);

	return err ? err : cli_usage(ctx, policy_usage);
}

static const struct cli_cmd policy_cmds[] = {
	{ "explain", do_explain },
	{ "help", do_policy_help },
	{ NULL, NULL },
};

int do_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "policy command", policy_cmds, argc, argv);
}
