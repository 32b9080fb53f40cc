// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * AuthorizationPolicy -> L4 lookup tables (policy.h has the lookup chain
 * and the record layouts).
 *
 * Steps:
 *   1. check and lower every rule: each field becomes a list of atoms
 *      (an identity pattern, a source CIDR, a port, a destination CIDR);
 *      L7 fields are dropped, and the rule's category says what that
 *      means (an ALLOW rule with L7 fields lands in CAT_ALLOW_L7, which
 *      never allows);
 *   2. identities: one per distinct principal of lb->workloads, sorted;
 *   3. destination sets: per workload address, the enforced policies that
 *      apply and which of their rules survive its destination.ip
 *      conditions; equal sets share an id;
 *   4. per set: identity classes (identities equal on every identity atom
 *      of the set), address classes (one per CIDR of the set plus ::/0,
 *      each entry's class holding the CIDRs that contain it, so the
 *      longest match decides every address condition), a verdict for each
 *      pair on each port the set names and on "any other port" (port 0);
 *      then classes with equal verdict rows are merged, the biggest
 *      identity class becomes class 0 (the lookup's miss value), and
 *      redundant rows are left out (a CIDR with its parent's class, a port
 *      with the pair's port-0 verdict).  The verdicts are found by one walk
 *      over the LPM entries per identity class that re-evaluates only the
 *      rules whose facts change (see "verdicts"), not every rule for
 *      every pair: ipBlocks rules each add an address class.
 *
 * Evaluation order inside a verdict (istio-dataplane-spec.md §4): CUSTOM,
 * DENY, no ALLOW policy, ALLOW, else deny; the first matching rule in
 * (policy config order, rule order) is the one reported.
 *
 * Choices where Istio leaves an L4 point to decide:
 *   - CUSTOM: the provider cannot be asked, so a connection its rules'
 *     L4 parts match is denied (custom-unsupported: fail closed); other
 *     connections go on to DENY/ALLOW.  (ztunnel ignores CUSTOM policies
 *     with a status message, which fails open.)
 *   - L7 fields (hosts, methods, paths, requestPrincipals, remoteIpBlocks,
 *     every condition key but source.ip/namespace/principal/
 *     serviceAccount and destination.ip/port): an ALLOW rule using any
 *     never matches (reported as allow-l7-only when nothing else allows
 *     and its L4 parts would have); DENY, CUSTOM and AUDIT rules match on
 *     their L4 parts alone (deny more, audit more).
 *   - Identity from the source address: a mesh workload's principal
 *     <td>/ns/<ns>/sa/<sa>; any other address has none, so every
 *     principal/namespace/serviceAccount value fails for it and every not*
 *     value holds.  source.serviceAccount is treated like serviceAccounts.
 *   - Trust-domain aliases: a principal written with an alias means ours.
 *   - dry-run and targetRefs policies are not enforced (notice); UDP is
 *     not enforced unless asked (Istio authorizes TCP only).
 *   - Rejected (file:line): serviceAccounts not "<ns>/<sa>" or "<sa>" or
 *     with namespaces/principals in one source (Istio's validation), port
 *     0 (the default row's key).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mesh-t.h"
#include "policy.h"
#include "vec.h"

/* ---- interning of byte strings ------------------------------------------ */

struct islot {
	uint64_t h;
	const void *key;
	uint32_t len;
	uint32_t id;
};

struct intern {
	size_t n, cap;          /* cap: power of two, 0 before first use */
	struct islot *slots;
	struct yarena *arena;   /* keys are copied here */
};

/*
 * Eight bytes per step: keys include whole verdict rows of a set (see
 * merge_classes), so a byte-at-a-time hash would dominate the compile.
 * Only slot placement depends on it; ids follow insertion order.
 */
static uint64_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b + i, len - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static int intern_grow(struct intern *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct islot *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->slots[i].key)
			continue;
		for (j = t->slots[i].h & (ncap - 1); ns[j].key;
		     j = (j + 1) & (ncap - 1))
			;
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

/* *id: the key's id (new ones numbered from 0 in order); 1 when new. */
static int intern_put(struct intern *t, const void *key, size_t len,
		      uint32_t *id)
{
	uint64_t h = hash_bytes(key, len);
	size_t j;
	void *copy;

	if ((t->n + 1) * 2 > t->cap && intern_grow(t))
		return -ENOMEM;
	for (j = h & (t->cap - 1); t->slots[j].key; j = (j + 1) & (t->cap - 1))
		if (t->slots[j].h == h && t->slots[j].len == len &&
		    !memcmp(t->slots[j].key, key, len)) {
			*id = t->slots[j].id;
			return 0;
		}
	copy = yarena_alloc(t->arena, len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	t->slots[j] = (struct islot){ h, copy, (uint32_t)len, (uint32_t)t->n };
	*id = (uint32_t)t->n++;
	return 1;
}

static void intern_free(struct intern *t)
{
	free(t->slots);
	t->slots = NULL;
	t->n = t->cap = 0;
}

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

/* ---- lowered rules -------------------------------------------------------- */

enum fkind {
	F_PRINCIPAL,  /* v: identity atoms */
	F_NS,
	F_SA,
	F_SRCIP,      /* v: ip atoms */
	F_PORT,       /* v: port numbers */
	F_DSTIP,      /* v: ip atoms (destination side) */
};

struct field {
	uint8_t kind;
	bool neg;     /* notX / notValues: none of v may match */
	uint32_t n;
	uint32_t *v;
};

struct group {        /* fields ANDed; empty: true */
	uint32_t n;
	struct field *f;
};

enum cat {
	CAT_CUSTOM,
	CAT_DENY,
	CAT_AUDIT,
	CAT_ALLOW,
	CAT_ALLOW_L7, /* an ALLOW rule using L7 fields: never allows */
	CAT__MAX,
};

struct lrule {
	uint32_t policy, rule;
	uint8_t cat;
	bool has_dstip;
	uint32_t nfrom, nto;
	struct group *from;   /* ORed; none: true */
	struct group *to;     /* ORed; none: true */
	struct group when;    /* ANDed */
};

enum id_kind { ID_PRINCIPAL, ID_NS, ID_SA };

struct id_atom {
	uint8_t kind;
	const char *value;    /* principal pattern (aliases resolved), ns
			       * pattern, or SA namespace */
	const char *sa;       /* ID_SA: the service account */
	uint32_t *match;      /* identity ids it matches, ascending */
	uint32_t nmatch;
};

struct ip_atom {
	union weft_addr net;
	unsigned int plen;    /* 0..128 */
};

struct lpolicy {
	const struct istio_authz_policy *p;
	bool enforced;
	uint32_t first_rule;  /* index into c->rules */
};

struct compiler {
	const struct mesh_config *cfg;
	const struct lb_state *lb;
	struct policy_opts o;
	struct policy_state *ps;
	struct yarena arena;
	struct intern id_atoms_ix, ip_atoms_ix;
	VEC(struct id_atom) id_atoms;
	VEC(struct ip_atom) ip_atoms;
	struct lpolicy *pol;
	VEC(struct lrule) rules;
	unsigned int errors;
};

static void where(const struct istio_authz_policy *p, unsigned int line,
		  char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u: AuthorizationPolicy %s/%s", p->meta.file,
		 line ? line : p->meta.line, p->meta.ns, p->meta.name);
}

#define C_ERROR(c, p, line, fmt, ...)                                       \
	do {                                                                \
		char ___w[512];                                             \
		where((p), (line), ___w, sizeof(___w));                     \
		pr_warn("%s: " fmt "\n", ___w, ##__VA_ARGS__);              \
		(c)->errors++;                                              \
	} while (0)

#define C_NOTICE(c, p, line, fmt, ...)                                      \
	do {                                                                \
		char ___w[512];                                             \
		where((p), (line), ___w, sizeof(___w));                     \
		pr_info("%s: " fmt "\n", ___w, ##__VA_ARGS__);              \
		(c)->ps->nnotices++;                                        \
	} while (0)

static int id_atom_get(struct compiler *c, uint8_t kind, const char *value,
		       size_t vlen, const char *sa, uint32_t *out)
{
	size_t slen = sa ? strlen(sa) : 0, klen = 2 + vlen + slen;
	struct id_atom a = { .kind = kind };
	char *key = malloc(klen);
	int r;

	if (!key)
		return -ENOMEM;
	/* kind, value, NUL, service account: unambiguous */
	key[0] = (char)('0' + kind);
	memcpy(key + 1, value, vlen);
	key[1 + vlen] = '\0';
	if (slen)
		memcpy(key + 2 + vlen, sa, slen);
	r = intern_put(&c->id_atoms_ix, key, klen, out);
	free(key);
	if (r <= 0)
		return r;
	a.value = yarena_strndup(&c->arena, value, vlen);
	a.sa = sa ? yarena_strndup(&c->arena, sa, slen) : NULL;
	if (!a.value || (sa && !a.sa))
		return -ENOMEM;
	return VEC_PUSH(c->id_atoms, a);
}

static int ip_atom_get(struct compiler *c, const char *text, uint32_t *out)
{
	struct ip_atom a = { 0 };
	int r;

	if (policy_cidr_parse(text, &a.net, &a.plen))
		return -EINVAL; /* the loader checked every CIDR */
	r = intern_put(&c->ip_atoms_ix, &a, sizeof(a), out);
	if (r <= 0)
		return r;
	return VEC_PUSH(c->ip_atoms, a);
}

static int port_value(const char *s)
{
	return atoi(s);
}

struct lower_ctx {
	struct compiler *c;
	const struct istio_authz_policy *p;
	unsigned int line;
	const char *what;     /* field path for diagnostics */
	char l7[1024];        /* L7 field names found */
};

static void note_l7(struct lower_ctx *x, const char *name)
{
	size_t l = strlen(x->l7);

	if (strstr(x->l7, name))
		return;
	snprintf(x->l7 + l, sizeof(x->l7) - l, "%s%s", l ? ", " : "", name);
}

/* Lower one value list into a field appended to g (nothing when empty). */
static int lower_values(struct lower_ctx *x, struct group *g, uint8_t kind,
			bool neg, const struct ystrv *vals)
{
	struct compiler *c = x->c;
	struct field *f;
	int err = 0;

	if (!vals->n)
		return 0;
	f = &g->f[g->n];
	*f = (struct field){ .kind = kind, .neg = neg };
	f->v = yarena_array(&c->arena, vals->n, sizeof(*f->v));
	if (!f->v)
		return -ENOMEM;
	for (size_t i = 0; i < vals->n && !err; i++) {
		const char *s = vals->v[i];
		char buf[POLICY_PRINCIPAL_MAX];
		const char *ns, *sa;
		size_t nl;
		uint32_t id = 0;

		switch (kind) {
		case F_PRINCIPAL:
			s = policy_principal_norm(&c->o, s, buf, sizeof(buf));
			err = id_atom_get(c, ID_PRINCIPAL, s, strlen(s), NULL,
					  &id);
			break;
		case F_NS:
			err = id_atom_get(c, ID_NS, s, strlen(s), NULL, &id);
			break;
		case F_SA:
			if (!policy_sa_split(s, x->p->meta.ns, &ns, &nl, &sa)) {
				C_ERROR(c, x->p, x->line,
					"%s: \"%s\" is not <namespace>/<serviceaccount> or <serviceaccount>",
					x->what, s);
				continue;
			}
			err = id_atom_get(c, ID_SA, ns, nl, sa, &id);
			break;
		case F_SRCIP:
		case F_DSTIP:
			err = ip_atom_get(c, s, &id);
			break;
		case F_PORT:
			id = (uint32_t)port_value(s);
			if (!id) {
				C_ERROR(c, x->p, x->line,
					"%s: port 0 is not a port", x->what);
				continue;
			}
			break;
		}
		if (err < 0)
			return err;
		err = 0;
		f->v[f->n++] = id;
	}
	g->n++;
	return 0;
}

static int lower_source(struct lower_ctx *x, const struct istio_authz_source *s,
			struct group *g)
{
	g->f = yarena_array(&x->c->arena, 8, sizeof(*g->f));
	if (!g->f)
		return -ENOMEM;
	if ((s->service_accounts.n || s->not_service_accounts.n) &&
	    (s->principals.n || s->not_principals.n || s->namespaces.n ||
	     s->not_namespaces.n))
		C_ERROR(x->c, x->p, x->line,
			"%s: serviceAccounts cannot be set together with namespaces or principals",
			x->what);
	if (s->request_principals.n)
		note_l7(x, "requestPrincipals");
	if (s->not_request_principals.n)
		note_l7(x, "notRequestPrincipals");
	if (s->remote_ip_blocks.n)
		note_l7(x, "remoteIpBlocks");
	if (s->not_remote_ip_blocks.n)
		note_l7(x, "notRemoteIpBlocks");
	if (lower_values(x, g, F_PRINCIPAL, false, &s->principals) ||
	    lower_values(x, g, F_PRINCIPAL, true, &s->not_principals) ||
	    lower_values(x, g, F_NS, false, &s->namespaces) ||
	    lower_values(x, g, F_NS, true, &s->not_namespaces) ||
	    lower_values(x, g, F_SA, false, &s->service_accounts) ||
	    lower_values(x, g, F_SA, true, &s->not_service_accounts) ||
	    lower_values(x, g, F_SRCIP, false, &s->ip_blocks) ||
	    lower_values(x, g, F_SRCIP, true, &s->not_ip_blocks))
		return -ENOMEM;
	return 0;
}

static int lower_operation(struct lower_ctx *x,
			   const struct istio_authz_operation *op,
			   struct group *g)
{
	static const struct { size_t off; const char *name; } l7[] = {
		{ offsetof(struct istio_authz_operation, hosts), "hosts" },
		{ offsetof(struct istio_authz_operation, not_hosts), "notHosts" },
		{ offsetof(struct istio_authz_operation, methods), "methods" },
		{ offsetof(struct istio_authz_operation, not_methods), "notMethods" },
		{ offsetof(struct istio_authz_operation, paths), "paths" },
		{ offsetof(struct istio_authz_operation, not_paths), "notPaths" },
	};

	for (size_t i = 0; i < sizeof(l7) / sizeof(l7[0]); i++)
		if (((const struct ystrv *)((const char *)op + l7[i].off))->n)
			note_l7(x, l7[i].name);
	g->f = yarena_array(&x->c->arena, 2, sizeof(*g->f));
	if (!g->f)
		return -ENOMEM;
	if (lower_values(x, g, F_PORT, false, &op->ports) ||
	    lower_values(x, g, F_PORT, true, &op->not_ports))
		return -ENOMEM;
	return 0;
}

static int lower_condition(struct lower_ctx *x,
			   const struct istio_authz_condition *cd,
			   struct group *g, bool *has_dstip)
{
	static const struct { const char *key; uint8_t kind; } keys[] = {
		{ "source.ip", F_SRCIP },
		{ "source.namespace", F_NS },
		{ "source.principal", F_PRINCIPAL },
		{ "source.serviceAccount", F_SA },
		{ "destination.ip", F_DSTIP },
		{ "destination.port", F_PORT },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(cd->key, keys[i].key))
			continue;
		*has_dstip |= keys[i].kind == F_DSTIP;
		if (lower_values(x, g, keys[i].kind, false, &cd->values) ||
		    lower_values(x, g, keys[i].kind, true, &cd->not_values))
			return -ENOMEM;
		return 0;
	}
	note_l7(x, cd->key);
	return 0;
}

static int lower_rule(struct compiler *c, const struct istio_authz_policy *p,
		      size_t pi, size_t ri, bool enforced)
{
	const struct istio_authz_rule *r = &p->rules[ri];
	struct lower_ctx x = { .c = c, .p = p };
	struct lrule lr = { .policy = (uint32_t)pi, .rule = (uint32_t)ri };
	char what[96];
	int err;

	x.what = what;
	lr.from = yarena_array(&c->arena, r->nfrom + 1, sizeof(*lr.from));
	lr.to = yarena_array(&c->arena, r->nto + 1, sizeof(*lr.to));
	lr.when.f = yarena_array(&c->arena, 2 * r->nwhen + 1,
				 sizeof(*lr.when.f));
	if (!lr.from || !lr.to || !lr.when.f)
		return -ENOMEM;
	for (size_t i = 0; i < r->nfrom; i++) {
		snprintf(what, sizeof(what), "spec.rules[%zu].from[%zu].source",
			 ri, i);
		x.line = r->from[i].line;
		err = lower_source(&x, &r->from[i], &lr.from[lr.nfrom++]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < r->nto; i++) {
		snprintf(what, sizeof(what), "spec.rules[%zu].to[%zu].operation",
			 ri, i);
		x.line = r->to[i].line;
		err = lower_operation(&x, &r->to[i], &lr.to[lr.nto++]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < r->nwhen; i++) {
		snprintf(what, sizeof(what), "spec.rules[%zu].when[%zu] (%s)",
			 ri, i, r->when[i].key);
		x.line = r->when[i].line;
		err = lower_condition(&x, &r->when[i], &lr.when,
				      &lr.has_dstip);
		if (err)
			return err;
	}
	switch (p->action) {
	case ISTIO_AUTHZ_ALLOW:
		lr.cat = x.l7[0] ? CAT_ALLOW_L7 : CAT_ALLOW;
		break;
	case ISTIO_AUTHZ_DENY:
		lr.cat = CAT_DENY;
		break;
	case ISTIO_AUTHZ_AUDIT:
		lr.cat = CAT_AUDIT;
		break;
	case ISTIO_AUTHZ_CUSTOM:
		lr.cat = CAT_CUSTOM;
		break;
	}
	if (x.l7[0] && enforced) {
		const char *effect =
			p->action == ISTIO_AUTHZ_ALLOW ?
				"ALLOW never matches at L4" :
			p->action == ISTIO_AUTHZ_AUDIT ?
				"AUDIT marks on its L4 parts alone" :
				"enforced on its L4 parts alone (denies more than asked)";

		C_NOTICE(c, p, r->line,
			 "spec.rules[%zu] uses L7 fields (%s): %s", ri, x.l7,
			 effect);
	}
	return VEC_PUSH(c->rules, lr);
}

static int lower_policies(struct compiler *c)
{
	const struct mesh_config *cfg = c->cfg;
	int err;

	c->pol = calloc(cfg->nauthz_policies + 1, sizeof(*c->pol));
	if (!c->pol)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nauthz_policies; i++) {
		const struct istio_authz_policy *p = &cfg->authz_policies[i];
		struct lpolicy *lp = &c->pol[i];

		lp->p = p;
		lp->enforced = !p->dry_run && !p->ntarget_refs;
		lp->first_rule = (uint32_t)c->rules.n;
		if (p->ntarget_refs)
			C_NOTICE(c, p, 0,
				 "targetRefs: applies to gateways and waypoints, not to workloads: not enforced here");
		else if (p->dry_run)
			C_NOTICE(c, p, 0,
				 "dry-run: not enforced (no shadow result at L4)");
		else if (p->action == ISTIO_AUTHZ_CUSTOM)
			C_NOTICE(c, p, 0,
				 "CUSTOM (provider %s) not enforceable at L4: denies the connections its rules' L4 parts match",
				 p->provider ? p->provider : "?");
		else if (p->action == ISTIO_AUTHZ_ALLOW && !p->nrules)
			C_NOTICE(c, p, 0,
				 "ALLOW without rules: denies every connection to its workloads");
		for (size_t j = 0; j < p->nrules; j++) {
			err = lower_rule(c, p, i, j, lp->enforced);
			if (err)
				return err;
		}
	}
	c->pol[cfg->nauthz_policies].first_rule = (uint32_t)c->rules.n;
	return 0;
}

/* ---- identities ---------------------------------------------------------- */

static int cmp_identity(const void *a, const void *b)
{
	return strcmp(((const struct policy_identity *)a)->principal,
		      ((const struct policy_identity *)b)->principal);
}

static void principal_of(const char *td, const char *ns, const char *sa,
			 char *buf, size_t len)
{
	snprintf(buf, len, "%s/ns/%s/sa/%s", td, ns, sa[0] ? sa : "default");
}

__u32 policy_identity_find(const struct policy_state *ps, const char *principal)
{
	size_t lo = 0, hi = ps->nidentities;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(ps->identities[mid].principal, principal);

		if (!r)
			return (__u32)mid + 1;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return WEFT_POLICY_IDENTITY_UNKNOWN;
}

static int build_identities(struct compiler *c)
{
	struct policy_state *ps = c->ps;
	const struct lb_state *lb = c->lb;
	size_t n = 0;

	ps->identities = calloc(lb->nworkloads + 1, sizeof(*ps->identities));
	ps->ident = calloc(lb->nworkloads + 1, sizeof(*ps->ident));
	if (!ps->identities || !ps->ident)
		return -ENOMEM;
	for (size_t i = 0; i < lb->nworkloads; i++) {
		struct policy_identity *id = &ps->identities[n];

		principal_of(ps->trust_domain, lb->workloads[i].ns,
			     lb->workloads[i].service_account, id->principal,
			     sizeof(id->principal));
		snprintf(id->ns, sizeof(id->ns), "%s", lb->workloads[i].ns);
		snprintf(id->sa, sizeof(id->sa), "%s",
			 lb->workloads[i].service_account[0] ?
				 lb->workloads[i].service_account : "default");
		n++;
	}
	if (n)
		qsort(ps->identities, n, sizeof(*ps->identities), cmp_identity);
	ps->nidentities = 0;
	for (size_t i = 0; i < n; i++)
		if (!ps->nidentities ||
		    strcmp(ps->identities[ps->nidentities - 1].principal,
			   ps->identities[i].principal))
			ps->identities[ps->nidentities++] = ps->identities[i];
	/* address -> identity; workloads are sorted by address already */
	for (size_t i = 0; i < lb->nworkloads; i++) {
		char pr[POLICY_PRINCIPAL_MAX];
		struct policy_ident_entry *e = &ps->ident[ps->nident++];

		principal_of(ps->trust_domain, lb->workloads[i].ns,
			     lb->workloads[i].service_account, pr, sizeof(pr));
		e->k.addr = lb->workloads[i].addr;
		e->v.identity = policy_identity_find(ps, pr);
	}
	return 0;
}

static bool id_atom_true(const struct id_atom *a,
			 const struct policy_identity *id)
{
	if (!id)
		return false;
	switch (a->kind) {
	case ID_PRINCIPAL:
		return policy_str_match(a->value, id->principal);
	case ID_NS:
		return policy_str_match(a->value, id->ns);
	default:
		return !strcmp(a->value, id->ns) && !strcmp(a->sa, id->sa);
	}
}

static int match_id_atoms(struct compiler *c)
{
	const struct policy_state *ps = c->ps;

	for (size_t i = 0; i < c->id_atoms.n; i++) {
		struct id_atom *a = &c->id_atoms.v[i];

		a->match = yarena_array(&c->arena, ps->nidentities + 1,
					sizeof(*a->match));
		if (!a->match)
			return -ENOMEM;
		for (size_t j = 0; j < ps->nidentities; j++)
			if (id_atom_true(a, &ps->identities[j]))
				a->match[a->nmatch++] = (uint32_t)j + 1;
	}
	return 0;
}

/* ---- destination sets ----------------------------------------------------- */

struct dset {
	struct u32vec policies;   /* applicable, enforced, config order */
	struct u32vec rules;      /* alive rules (indexes into c->rules) */
	bool has_allow;
	union weft_addr dst;      /* a destination of the set */
};

struct dsetvec {
	struct dset *v;
	size_t n, cap;
};

static bool field_any_ip(const struct compiler *c, const struct field *f,
			 const union weft_addr *addr)
{
	for (uint32_t i = 0; i < f->n; i++) {
		const struct ip_atom *a = &c->ip_atoms.v[f->v[i]];

		if (policy_cidr_contains(&a->net, a->plen, addr))
			return true;
	}
	return false;
}

/* All destination.ip conditions of r hold for dst. */
static bool rule_alive(const struct compiler *c, const struct lrule *r,
		       const union weft_addr *dst)
{
	for (uint32_t i = 0; r->has_dstip && i < r->when.n; i++) {
		const struct field *f = &r->when.f[i];

		if (f->kind == F_DSTIP && field_any_ip(c, f, dst) == f->neg)
			return false;
	}
	return true;
}

/*
 * What applies to destination w: the enforced policies whose scope holds
 * it, and their rules that survive its destination.ip conditions.  Two
 * destinations with equal lists share a set.
 */
static int dst_collect(struct compiler *c, const struct policy_wl_labels *lbl,
		       const struct lb_workload *w, struct dset *s)
{
	int err = 0;

	s->dst = w->addr;
	for (size_t i = 0; i < c->cfg->nauthz_policies && !err; i++) {
		const struct lpolicy *lp = &c->pol[i];

		if (!lp->enforced ||
		    !policy_applies(lp->p, c->o.root_ns, w->ns, lbl))
			continue;
		err = VEC_PUSH(s->policies, (uint32_t)i);
		s->has_allow |= lp->p->action == ISTIO_AUTHZ_ALLOW;
		for (uint32_t r = lp->first_rule;
		     r < c->pol[i + 1].first_rule && !err; r++)
			if (rule_alive(c, &c->rules.v[r], &w->addr))
				err = VEC_PUSH(s->rules, r);
	}
	return err;
}

/* ---- per-set compilation ----------------------------------------------- */

struct lpm_ent {
	struct ip_atom c;         /* the entry's prefix */
	int parent;               /* nearest enclosing entry, -1 for ::/0 */
	uint32_t local;           /* local ip atom + 1; 0: none (::/0) */
	uint32_t cls0;            /* class before merging */
	uint32_t cls;             /* final class */
};

struct setc {                     /* scratch for one set */
	struct yarena arena;
	struct intern vecs;
	uint32_t *id_local;       /* global id atom -> local index + 1 */
	uint32_t *ip_local;       /* global ip atom -> local index + 1 */
	VEC(uint32_t) id_list;    /* local id atoms (global ids) */
	VEC(uint32_t) ip_list;    /* local ip atoms (global ids) */
	VEC(uint16_t) ports;      /* sorted, unique */
	uint32_t *idcls0;         /* identity (0..N) -> class before merge */
	VEC(uint32_t) idrep0;     /* class -> representative identity */
	VEC(uint32_t) idfacts;    /* class i's true local id atoms, ascending: */
	VEC(uint32_t) idfacts_off; /* idfacts[off[i] .. off[i + 1]) */
	VEC(struct lpm_ent) ents;
	VEC(uint32_t) iprep0;     /* class -> representative entry */
	struct weft_policy_verdict *m; /* [id0][ip0][port] */
	uint32_t *id_final, *ip_final; /* class0 -> final */
	size_t nid_final, nip_final;
	uint32_t *id_rep_final, *ip_rep_final; /* final -> class0 rep */
};

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int collect_atoms(struct compiler *c, const struct dset *s,
			 struct setc *x)
{
	VEC(uint16_t) ports = { 0 };
	int err = 0;

	for (size_t k = 0; k < s->rules.n && !err; k++) {
		const struct lrule *r = &c->rules.v[s->rules.v[k]];

		for (uint32_t g = 0; g < r->nfrom + r->nto + 1 && !err; g++) {
			const struct group *gr = g < r->nfrom ? &r->from[g] :
						 g < r->nfrom + r->nto ?
						 &r->to[g - r->nfrom] : &r->when;

			for (uint32_t i = 0; i < gr->n && !err; i++) {
				const struct field *f = &gr->f[i];

				for (uint32_t j = 0; j < f->n && !err; j++) {
					uint32_t v = f->v[j];

					if (f->kind <= F_SA && !x->id_local[v]) {
						err = VEC_PUSH(x->id_list, v);
						x->id_local[v] = (uint32_t)x->id_list.n;
					} else if (f->kind == F_SRCIP &&
						   !x->ip_local[v]) {
						err = VEC_PUSH(x->ip_list, v);
						x->ip_local[v] = (uint32_t)x->ip_list.n;
					} else if (f->kind == F_PORT) {
						err = VEC_PUSH(ports, (uint16_t)v);
					}
				}
			}
		}
	}
	if (err) {
		free(ports.v);
		return err;
	}
	if (ports.n)
		qsort(ports.v, ports.n, sizeof(*ports.v), cmp_u16);
	for (size_t i = 0; i < ports.n; i++)
		if ((!x->ports.n || x->ports.v[x->ports.n - 1] != ports.v[i]) &&
		    VEC_PUSH(x->ports, ports.v[i])) {
			free(ports.v);
			return -ENOMEM;
		}
	free(ports.v);
	return 0;
}

/* Identity classes: identities with equal truth on every local atom. */
static int id_classes(struct compiler *c, struct setc *x)
{
	size_t nid = c->ps->nidentities;
	VEC(uint32_t) *lists;
	uint32_t empty, id;
	int err = 0;

	lists = calloc(nid + 1, sizeof(*lists));
	x->idcls0 = calloc(nid + 1, sizeof(*x->idcls0));
	if (!lists || !x->idcls0) {
		free(lists);
		return -ENOMEM;
	}
	/* the empty vector (no atom true) first: class 0, unknown's */
	if (intern_put(&x->vecs, "", 0, &empty) < 0 ||
	    VEC_PUSH(x->idrep0, 0) || VEC_PUSH(x->idfacts_off, 0) ||
	    VEC_PUSH(x->idfacts_off, 0)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t l = 0; l < x->id_list.n && !err; l++) {
		const struct id_atom *a = &c->id_atoms.v[x->id_list.v[l]];

		for (uint32_t j = 0; j < a->nmatch && !err; j++)
			err = VEC_PUSH(lists[a->match[j]], (uint32_t)l);
	}
	for (size_t i = 1; i <= nid && !err; i++) {
		int r;

		if (!lists[i].n) {
			x->idcls0[i] = empty;
			continue;
		}
		r = intern_put(&x->vecs, lists[i].v,
			       lists[i].n * sizeof(uint32_t), &id);
		if (r < 0)
			err = r;
		else if (r > 0)
			err = VEC_PUSH(x->idrep0, (uint32_t)i);
		for (size_t l = 0; r > 0 && l < lists[i].n && !err; l++)
			err = VEC_PUSH(x->idfacts, lists[i].v[l]);
		if (r > 0 && !err)
			err = VEC_PUSH(x->idfacts_off, (uint32_t)x->idfacts.n);
		x->idcls0[i] = id;
	}
out:
	for (size_t i = 0; i <= nid; i++)
		free(lists[i].v);
	free(lists);
	intern_free(&x->vecs);
	return err;
}

static int cmp_ent(const void *pa, const void *pb)
{
	const struct lpm_ent *a = pa, *b = pb;
	int r = memcmp(&a->c.net, &b->c.net, sizeof(a->c.net));

	if (r)
		return r;
	return (int)a->c.plen - (int)b->c.plen;
}

static bool ip_contains(const struct ip_atom *outer, const struct ip_atom *in)
{
	return outer->plen <= in->plen &&
	       policy_cidr_contains(&outer->net, outer->plen, &in->net);
}

/*
 * Address classes: one LPM entry per local CIDR plus ::/0.  An address
 * whose longest match is entry e lies in exactly the local CIDRs that
 * contain e (CIDRs nest or are disjoint), that is e and its ancestors, so
 * that chain is the entry's truth vector.
 */
static int ip_classes(struct compiler *c, struct setc *x)
{
	struct lpm_ent root = { .parent = -1 };
	struct u32vec vec = { 0 };
	int *stack = NULL;
	size_t sp = 0;
	int err = 0;

	for (size_t l = 0; l < x->ip_list.n; l++)
		if (c->ip_atoms.v[x->ip_list.v[l]].plen == 0)
			root.local = (uint32_t)l + 1; /* ::/0 written */
	if (VEC_PUSH(x->ents, root))
		return -ENOMEM;
	for (size_t l = 0; l < x->ip_list.n; l++) {
		struct lpm_ent e = {
			.c = c->ip_atoms.v[x->ip_list.v[l]],
			.local = (uint32_t)l + 1,
		};

		if (e.c.plen == 0)
			continue; /* the root entry */
		if (VEC_PUSH(x->ents, e))
			return -ENOMEM;
	}
	/* by (net, plen): ::/0 first, enclosing entries before enclosed */
	qsort(x->ents.v, x->ents.n, sizeof(*x->ents.v), cmp_ent);
	stack = calloc(x->ents.n + 1, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (size_t i = 0; i < x->ents.n && !err; i++) {
		struct lpm_ent *e = &x->ents.v[i];
		int r;

		while (sp && !ip_contains(&x->ents.v[stack[sp - 1]].c, &e->c))
			sp--;
		e->parent = sp ? stack[sp - 1] : -1;
		stack[sp++] = (int)i;
		vec.n = 0;
		for (int a = (int)i; a >= 0 && !err; a = x->ents.v[a].parent)
			if (x->ents.v[a].local)
				err = VEC_PUSH(vec, x->ents.v[a].local);
		if (err)
			break;
		if (vec.n)
			qsort(vec.v, vec.n, sizeof(*vec.v), cmp_u32);
		r = intern_put(&x->vecs, vec.v ? (void *)vec.v : (void *)"",
			       vec.n * sizeof(uint32_t), &e->cls0);
		if (r < 0)
			err = r;
		else if (r > 0)
			err = VEC_PUSH(x->iprep0, (uint32_t)i);
	}
	free(stack);
	free(vec.v);
	intern_free(&x->vecs);
	return err;
}

/* ---- verdicts ------------------------------------------------------------ */

/*
 * The matrix m[identity class][address class][port] holds, per cell, the
 * first rule (set order) of each category whose source side holds for the
 * pair and whose port side holds for the port.  Evaluating every rule for
 * every pair costs classes x classes x rules, and with ipBlocks rules the
 * address classes grow with the rules: quadratic.  Instead, per identity
 * class, one depth-first walk over the LPM entries keeps every rule's
 * source truth up to date incrementally, and a bitmap per (category, port)
 * answers "first rule" in a few word operations:
 *
 *   - the truth of a rule changes between two (identity, address) facts
 *     only when a fact it names changes: from the unknown identity at ::/0
 *     (the base, evaluated once per set) to identity class i, only the
 *     rules naming an id atom true for i; from an entry's parent to the
 *     entry, only the rules naming the entry's CIDR (the entry's facts are
 *     its parent's plus that CIDR, see ip_classes);
 *   - so a class costs its identity's rules plus one re-evaluation per
 *     (rule, CIDR) it names, undone on the way back up, and each address
 *     class is read off at its representative entry.
 *
 * Total: O(identity classes x (CIDR mentions x ports + address classes x
 * categories x ports) x log64(rules)), the last term being the matrix
 * itself.  Same cells as evaluating every rule: the tables do not change.
 */

/* Truth of the set's source atoms at one (identity class, LPM entry). */
struct facts {
	const struct setc *x;
	const uint32_t *id_mark;  /* local id atom -> stamp of its last class */
	uint32_t id_stamp;        /* the identity class's stamp */
	const uint8_t *ip_on;     /* local ip atom -> contains the entry */
};

/* s may be NULL for a port-side field (F_PORT): only the port decides. */
static bool field_true(const struct facts *s, const struct field *f,
		       uint16_t port)
{
	bool any = false;

	for (uint32_t i = 0; i < f->n && !any; i++) {
		uint32_t v = f->v[i];

		switch (f->kind) {
		case F_PRINCIPAL:
		case F_NS:
		case F_SA:
			any = s->id_mark[s->x->id_local[v] - 1] == s->id_stamp;
			break;
		case F_SRCIP:
			any = s->ip_on[s->x->ip_local[v] - 1];
			break;
		case F_PORT:
			any = v == port;
			break;
		case F_DSTIP:
			return true; /* alive rules: decided per set */
		}
	}
	return any != f->neg;
}

/* Fields of g of the given side (port-dependent or not) all hold. */
static bool group_true(const struct facts *s, const struct group *g,
		       bool port_side, uint16_t port)
{
	for (uint32_t i = 0; i < g->n; i++)
		if ((g->f[i].kind == F_PORT) == port_side &&
		    !field_true(s, &g->f[i], port))
			return false;
	return true;
}

static bool rule_src_true(const struct facts *s, const struct lrule *r)
{
	bool any = !r->nfrom;

	for (uint32_t i = 0; i < r->nfrom && !any; i++)
		any = group_true(s, &r->from[i], false, 0);
	return any && group_true(s, &r->when, false, 0);
}

/* The port side does not depend on the source. */
static bool rule_port_true(const struct lrule *r, uint16_t port)
{
	bool any = !r->nto;

	for (uint32_t i = 0; i < r->nto && !any; i++)
		any = group_true(NULL, &r->to[i], true, port);
	return any && group_true(NULL, &r->when, true, port);
}

static void verdict_init(struct weft_policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->policy = v->rule = v->audit_policy = v->audit_rule = WEFT_POLICY_NONE;
}

static void verdict_set(struct weft_policy_verdict *v, enum weft_policy_action a,
			enum weft_policy_reason r, const struct lrule *lr)
{
	v->action = (__u8)a;
	v->reason = (__u8)r;
	if (lr) {
		v->policy = lr->policy;
		v->rule = lr->rule;
	}
}

/* The verdict given the first matching rule of each category (or NULL). */
static void verdict_of(const struct dset *s,
		       const struct lrule *const first[CAT__MAX],
		       struct weft_policy_verdict *v)
{
	verdict_init(v);
	if (first[CAT_AUDIT]) {
		v->flags |= WEFT_POLICY_F_AUDIT;
		v->audit_policy = first[CAT_AUDIT]->policy;
		v->audit_rule = first[CAT_AUDIT]->rule;
	}
	if (first[CAT_CUSTOM])
		verdict_set(v, WEFT_POLICY_ACTION_DENY,
			    WEFT_POLICY_REASON_CUSTOM_UNSUPPORTED,
			    first[CAT_CUSTOM]);
	else if (first[CAT_DENY])
		verdict_set(v, WEFT_POLICY_ACTION_DENY,
			    WEFT_POLICY_REASON_DENY_MATCH, first[CAT_DENY]);
	else if (!s->has_allow)
		verdict_set(v, WEFT_POLICY_ACTION_ALLOW,
			    WEFT_POLICY_REASON_NO_ALLOW_POLICY, NULL);
	else if (first[CAT_ALLOW])
		verdict_set(v, WEFT_POLICY_ACTION_ALLOW,
			    WEFT_POLICY_REASON_ALLOW_MATCH, first[CAT_ALLOW]);
	else if (first[CAT_ALLOW_L7])
		verdict_set(v, WEFT_POLICY_ACTION_DENY,
			    WEFT_POLICY_REASON_ALLOW_L7_ONLY, first[CAT_ALLOW_L7]);
	else
		verdict_set(v, WEFT_POLICY_ACTION_DENY,
			    WEFT_POLICY_REASON_NO_ALLOW_MATCH, NULL);
}

/*
 * nsets sets of rule positions 0..n-1, each a bitmap plus summary levels
 * (a bit of level l + 1 set when its word of level l is non-zero), so that
 * insert, remove and smallest member take log64(n) word operations.
 */
struct rule_sets {
	size_t nlev, stride;      /* levels (top: one word); words per set */
	size_t off[8];            /* first word of each level in a set */
	uint64_t *w;
};

static int rule_sets_init(struct rule_sets *t, size_t nsets, size_t n)
{
	size_t words = n / 64 + 1;

	t->stride = 0;
	t->nlev = 0;
	for (;;) {
		t->off[t->nlev++] = t->stride;
		t->stride += words;
		if (words == 1)
			break;
		words = (words + 63) / 64;
	}
	if (nsets > SIZE_MAX / sizeof(uint64_t) / t->stride)
		return -E2BIG;
	t->w = calloc(nsets * t->stride + 1, sizeof(uint64_t));
	return t->w ? 0 : -ENOMEM;
}

static void rule_sets_add(struct rule_sets *t, size_t set, uint32_t k)
{
	uint64_t *w = t->w + set * t->stride;
	size_t i = k;

	for (size_t l = 0; l < t->nlev; l++, i /= 64)
		w[t->off[l] + i / 64] |= 1ull << (i % 64);
}

static void rule_sets_del(struct rule_sets *t, size_t set, uint32_t k)
{
	uint64_t *w = t->w + set * t->stride;
	size_t i = k;

	for (size_t l = 0; l < t->nlev; l++, i /= 64) {
		w[t->off[l] + i / 64] &= ~(1ull << (i % 64));
		if (w[t->off[l] + i / 64])
			break;
	}
}

/* Smallest member, or UINT32_MAX when the set is empty. */
static uint32_t rule_sets_first(const struct rule_sets *t, size_t set)
{
	const uint64_t *w = t->w + set * t->stride;
	size_t i = 0;

	if (!w[t->off[t->nlev - 1]])
		return UINT32_MAX;
	for (size_t l = t->nlev; l-- > 0;)
		i = i * 64 + (size_t)__builtin_ctzll(w[t->off[l] + i]);
	return (uint32_t)i;
}

/*
 * Incidence of the set's local atoms of one side (identity or source ip)
 * in its rules' source side (from, when): rule positions naming atom l,
 * ascending, once each, are inc[off[l] .. off[l + 1]).
 */
static int atom_incidence(const struct compiler *c, const struct dset *s,
			  const uint32_t *local, size_t natoms, bool ip,
			  uint32_t **off_out, uint32_t **inc_out)
{
	uint32_t *off = calloc(natoms + 2, sizeof(*off));
	uint32_t *last = calloc(natoms + 1, sizeof(*last));
	uint32_t *inc = NULL;

	if (!off || !last)
		goto oom;
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			for (size_t l = 2; l <= natoms + 1; l++)
				off[l] += off[l - 1];
			inc = malloc(((size_t)off[natoms + 1] + 1) *
				     sizeof(*inc));
			if (!inc)
				goto oom;
			memset(last, 0, (natoms + 1) * sizeof(*last));
		}
		for (size_t k = 0; k < s->rules.n; k++) {
			const struct lrule *r = &c->rules.v[s->rules.v[k]];

			for (uint32_t g = 0; g <= r->nfrom; g++) {
				const struct group *gr = g < r->nfrom ?
							 &r->from[g] : &r->when;

				for (uint32_t i = 0; i < gr->n; i++) {
					const struct field *f = &gr->f[i];

					if (ip ? f->kind != F_SRCIP :
						 f->kind > F_SA)
						continue;
					for (uint32_t j = 0; j < f->n; j++) {
						uint32_t l = local[f->v[j]] - 1;

						if (last[l] == k + 1)
							continue;
						last[l] = (uint32_t)k + 1;
						if (pass)
							inc[off[l + 1]++] = (uint32_t)k;
						else
							off[l + 2]++;
					}
				}
			}
		}
	}
	free(last);
	*off_out = off;
	*inc_out = inc;
	return 0;
oom:
	free(off);
	free(last);
	free(inc);
	return -ENOMEM;
}

/* Per-set state of the walk (compute_matrix). */
struct walk {
	const struct compiler *c;
	const struct dset *s;
	struct setc *x;
	size_t np;                /* ports named, plus port 0 last */
	uint8_t *cat, *pt;        /* rule -> category; [rule][port] holds */
	uint8_t *truth;           /* rule -> its source side holds now */
	struct rule_sets first;   /* per (category, port): true rules */
	uint32_t *idoff, *idinc;  /* atom_incidence of the id atoms */
	uint32_t *ipoff, *ipinc;  /* and of the source ip atoms */
	uint32_t *id_mark;        /* facts.id_mark */
	uint8_t *ip_on;           /* facts.ip_on */
	uint32_t *rid_mark;       /* rule -> last identity class naming it */
	size_t *path;             /* (entry, undo.n) from ::/0 down, pairs */
	struct u32vec undo;       /* rules flipped since ::/0 of the base */
	struct facts f;
};

static const struct lrule *walk_rule(const struct walk *w, size_t k)
{
	return &w->c->rules.v[w->s->rules.v[k]];
}

static void walk_set(struct walk *w, uint32_t k, bool v)
{
	w->truth[k] = v;
	for (size_t p = 0; p < w->np; p++) {
		size_t set = w->cat[k] * w->np + p;

		if (!w->pt[k * w->np + p])
			continue;
		if (v)
			rule_sets_add(&w->first, set, k);
		else
			rule_sets_del(&w->first, set, k);
	}
}

/* Re-evaluate rule k under w->f; a flip is recorded in undo when asked. */
static int walk_eval(struct walk *w, uint32_t k, bool record)
{
	bool v = rule_src_true(&w->f, walk_rule(w, k));

	if (v == w->truth[k])
		return 0;
	walk_set(w, k, v);
	return record ? VEC_PUSH(w->undo, k) : 0;
}

/* Flip back the rules recorded after undo position h. */
static void walk_undo(struct walk *w, size_t h)
{
	while (w->undo.n > h) {
		uint32_t k = w->undo.v[--w->undo.n];

		walk_set(w, k, !w->truth[k]);
	}
}

/* Leave the deepest entry of the path: its CIDR no longer holds. */
static void walk_up(struct walk *w, size_t *depth)
{
	size_t *top = &w->path[2 * --*depth];

	w->ip_on[w->x->ents.v[top[0]].local - 1] = 0;
	walk_undo(w, top[1]);
}

/* The current facts' verdicts on every port, into out[port]. */
static void walk_read(const struct walk *w, struct weft_policy_verdict *out)
{
	for (size_t p = 0; p < w->np; p++) {
		const struct lrule *first[CAT__MAX];

		for (size_t cat = 0; cat < CAT__MAX; cat++) {
			uint32_t k = rule_sets_first(&w->first, cat * w->np + p);

			first[cat] = k == UINT32_MAX ? NULL : walk_rule(w, k);
		}
		verdict_of(w->s, first, &out[p]);
	}
}

/*
 * Identity class i's row of the matrix: from the base to (i, ::/0), then
 * down and up the LPM entries; returns with the base restored.
 */
static int walk_id_class(struct walk *w, size_t i)
{
	struct setc *x = w->x;
	const uint32_t *facts = x->idfacts.v + x->idfacts_off.v[i];
	size_t nfacts = x->idfacts_off.v[i + 1] - x->idfacts_off.v[i];
	struct weft_policy_verdict *row = &x->m[i * x->iprep0.n * w->np];
	uint32_t stamp = (uint32_t)i + 1;
	size_t depth = 0;
	int err = 0;

	w->f.id_stamp = stamp;
	for (size_t a = 0; a < nfacts; a++)
		w->id_mark[facts[a]] = stamp;
	for (size_t a = 0; a < nfacts && !err; a++)
		for (uint32_t q = w->idoff[facts[a]];
		     q < w->idoff[facts[a] + 1] && !err; q++) {
			uint32_t k = w->idinc[q];

			if (w->rid_mark[k] == stamp)
				continue;
			w->rid_mark[k] = stamp;
			err = walk_eval(w, k, true);
		}
	if (!err && x->iprep0.v[x->ents.v[0].cls0] == 0)
		walk_read(w, &row[x->ents.v[0].cls0 * w->np]);
	/* entries sorted by (net, plen): each after its parent, its subtree
	 * right after it, so the path only grows by one at a time */
	for (size_t e = 1; e < x->ents.n && !err; e++) {
		const struct lpm_ent *en = &x->ents.v[e];
		uint32_t l = en->local - 1;

		while (depth && w->path[2 * (depth - 1)] != (size_t)en->parent)
			walk_up(w, &depth);
		w->path[2 * depth] = e;
		w->path[2 * depth + 1] = w->undo.n;
		depth++;
		w->ip_on[l] = 1;
		for (uint32_t q = w->ipoff[l]; q < w->ipoff[l + 1] && !err; q++)
			err = walk_eval(w, w->ipinc[q], true);
		if (!err && x->iprep0.v[en->cls0] == e)
			walk_read(w, &row[en->cls0 * w->np]);
	}
	while (depth)
		walk_up(w, &depth);
	walk_undo(w, 0);
	return err;
}

static int compute_matrix(struct compiler *c, const struct dset *s,
			  struct setc *x)
{
	size_t nid = x->idrep0.n, nip = x->iprep0.n, np = x->ports.n + 1;
	size_t nr = s->rules.n;
	struct walk w = { .c = c, .s = s, .x = x, .np = np };
	uint32_t root = x->ents.v[0].local;
	int err;

	if (nid && nip > SIZE_MAX / nid / np / sizeof(*x->m))
		return -E2BIG;
	if (nr > UINT32_MAX - 1 || nr > SIZE_MAX / np)
		return -E2BIG;
	x->m = calloc(nid * nip * np, sizeof(*x->m));
	w.cat = malloc(nr + 1);
	w.pt = malloc(nr * np + 1);
	w.truth = calloc(nr + 1, 1);
	w.id_mark = calloc(x->id_list.n + 1, sizeof(*w.id_mark));
	w.ip_on = calloc(x->ip_list.n + 1, 1);
	w.rid_mark = calloc(nr + 1, sizeof(*w.rid_mark));
	w.path = calloc(2 * x->ents.n + 1, sizeof(*w.path));
	err = !x->m || !w.cat || !w.pt || !w.truth || !w.id_mark ||
	      !w.ip_on || !w.rid_mark || !w.path ? -ENOMEM : 0;
	err = err ?: rule_sets_init(&w.first, CAT__MAX * np, nr);
	err = err ?: atom_incidence(c, s, x->id_local, x->id_list.n, false,
				    &w.idoff, &w.idinc);
	err = err ?: atom_incidence(c, s, x->ip_local, x->ip_list.n, true,
				    &w.ipoff, &w.ipinc);
	if (err)
		goto out;
	for (size_t k = 0; k < nr; k++) {
		const struct lrule *r = walk_rule(&w, k);

		w.cat[k] = r->cat;
		for (size_t p = 0; p < np; p++)
			w.pt[k * np + p] =
				rule_port_true(r, p < np - 1 ? x->ports.v[p] : 0);
	}
	/* the base: the unknown identity (class 0, stamp 1: it holds no id
	 * atom, so none is ever marked 1) at ::/0, where only a written ::/0
	 * holds */
	if (root)
		w.ip_on[root - 1] = 1;
	w.f = (struct facts){ .x = x, .id_mark = w.id_mark, .id_stamp = 1,
			      .ip_on = w.ip_on };
	for (size_t k = 0; k < nr && !err; k++)
		err = walk_eval(&w, (uint32_t)k, false);
	for (size_t i = 0; i < nid && !err; i++)
		err = walk_id_class(&w, i);
out:
	free(w.cat);
	free(w.pt);
	free(w.truth);
	free(w.first.w);
	free(w.idoff);
	free(w.idinc);
	free(w.ipoff);
	free(w.ipinc);
	free(w.id_mark);
	free(w.ip_on);
	free(w.rid_mark);
	free(w.path);
	free(w.undo.v);
	return err;
}

/* Merge identity classes with equal rows, then address classes with equal
 * columns (over the merged identity classes). */
static int merge_classes(struct setc *x)
{
	size_t nid = x->idrep0.n, nip = x->iprep0.n, np = x->ports.n + 1;
	size_t row = nip * np;
	struct weft_policy_verdict *col = NULL;
	int err = 0;

	x->id_final = calloc(nid + 1, sizeof(uint32_t));
	x->ip_final = calloc(nip + 1, sizeof(uint32_t));
	x->id_rep_final = calloc(nid + 1, sizeof(uint32_t));
	x->ip_rep_final = calloc(nip + 1, sizeof(uint32_t));
	if (!x->id_final || !x->ip_final || !x->id_rep_final ||
	    !x->ip_rep_final)
		return -ENOMEM;
	for (size_t i = 0; i < nid; i++) {
		int r = intern_put(&x->vecs, &x->m[i * row],
				   row * sizeof(*x->m), &x->id_final[i]);

		if (r < 0)
			return r;
		if (r > 0)
			x->id_rep_final[x->nid_final++] = (uint32_t)i;
	}
	intern_free(&x->vecs);
	col = calloc(x->nid_final * np + 1, sizeof(*col));
	if (!col)
		return -ENOMEM;
	for (size_t j = 0; j < nip && !err; j++) {
		int r;

		for (size_t f = 0; f < x->nid_final; f++)
			memcpy(&col[f * np],
			       &x->m[(x->id_rep_final[f] * nip + j) * np],
			       np * sizeof(*col));
		r = intern_put(&x->vecs, col, x->nid_final * np * sizeof(*col),
			       &x->ip_final[j]);
		if (r < 0)
			err = r;
		else if (r > 0)
			x->ip_rep_final[x->nip_final++] = (uint32_t)j;
	}
	free(col);
	intern_free(&x->vecs);
	return err;
}

static int cmp_key(const void *a, const void *b, size_t len)
{
	return memcmp(a, b, len);
}

/* Emit one set's rows into ps. */
static int emit_set(struct compiler *c, uint32_t set_id, struct setc *x)
{
	struct policy_state *ps = c->ps;
	size_t nid = ps->nidentities, np = x->ports.n + 1;
	size_t nip = x->iprep0.n;
	size_t *count = calloc(x->nid_final + 1, sizeof(*count));
	uint32_t *idnum = calloc(x->nid_final + 1, sizeof(*idnum));
	uint32_t *ipnum = calloc(x->nip_final + 1, sizeof(*ipnum));
	size_t best = 0, next;
	int err = 0;
	VEC(struct policy_src_ident_entry) si = { 0 };
	VEC(struct policy_src_net_entry) sn = { 0 };
	VEC(struct policy_verdict_entry) ve = { 0 };

	if (!count || !idnum || !ipnum) {
		err = -ENOMEM;
		goto out;
	}
	/* identity class numbering: the biggest one is 0 (the miss value) */
	for (size_t i = 0; i <= nid; i++)
		count[x->id_final[x->idcls0[i]]]++;
	for (size_t f = 1; f < x->nid_final; f++)
		if (count[f] > count[best])
			best = f;
	next = 1;
	for (size_t f = 0; f < x->nid_final; f++)
		idnum[f] = f == best ? 0 : (uint32_t)next++;
	for (size_t i = 0; i <= nid; i++) {
		uint32_t f = x->id_final[x->idcls0[i]];
		struct policy_src_ident_entry e = { 0 };

		if (!idnum[f])
			continue;
		e.k.set_id = set_id;
		e.k.identity = (__u32)i;
		e.v.class_id = idnum[f];
		if ((err = VEC_PUSH(si, e)))
			goto out;
	}
	/* address class numbering: ::/0's (entry 0 after sorting) is 0 */
	for (size_t f = 0; f < x->nip_final; f++)
		ipnum[f] = UINT32_MAX;
	next = 0;
	for (size_t e = 0; e < x->ents.n; e++) {
		uint32_t f = x->ip_final[x->ents.v[e].cls0];

		if (ipnum[f] == UINT32_MAX)
			ipnum[f] = (uint32_t)next++;
		x->ents.v[e].cls = ipnum[f];
	}
	for (size_t e = 0; e < x->ents.n; e++) {
		const struct lpm_ent *en = &x->ents.v[e];
		struct policy_src_net_entry r = { 0 };

		if (en->parent >= 0 && x->ents.v[en->parent].cls == en->cls)
			continue; /* its parent's class: redundant */
		r.k.prefixlen = 32 + en->c.plen;
		r.k.set_id = set_id;
		r.k.addr = en->c.net;
		r.v.class_id = en->cls;
		if ((err = VEC_PUSH(sn, r)))
			goto out;
	}
	/* verdicts: every final pair, port 0 plus ports that differ */
	for (size_t fi = 0; fi < x->nid_final; fi++) {
		for (size_t fj = 0; fj < x->nip_final; fj++) {
			const struct weft_policy_verdict *row =
				&x->m[(x->id_rep_final[fi] * nip +
				       x->ip_rep_final[fj]) * np];
			const struct weft_policy_verdict *def = &row[np - 1];

			for (size_t k = 0; k < np; k++) {
				struct policy_verdict_entry e = { 0 };

				if (k < np - 1 &&
				    !memcmp(&row[k], def, sizeof(*def)))
					continue;
				for (__u32 proto_bit = WEFT_POLICY_PROTO_TCP;
				     proto_bit <= WEFT_POLICY_PROTO_UDP;
				     proto_bit <<= 1) {
					if (!(ps->enforced_protos & proto_bit))
						continue;
					memset(&e, 0, sizeof(e));
					e.k.set_id = set_id;
					e.k.id_class = idnum[fi];
					e.k.ip_class = ipnum[fj];
					e.k.port = htons(k < np - 1 ?
							 x->ports.v[k] : 0);
					e.k.proto = proto_bit == WEFT_POLICY_PROTO_TCP ?
						    IPPROTO_TCP : IPPROTO_UDP;
					e.v = row[k];
					if ((err = VEC_PUSH(ve, e)))
						goto out;
				}
			}
		}
	}
#define APPEND(dst, ndst, src)                                                \
	do {                                                                  \
		void *p = realloc((dst), ((ndst) + (src).n + 1) * sizeof(*(dst))); \
		if (!p) {                                                     \
			err = -ENOMEM;                                        \
			goto out;                                             \
		}                                                             \
		(dst) = p;                                                    \
		if ((src).n)                                                  \
			memcpy((dst) + (ndst), (src).v,                       \
			       (src).n * sizeof(*(dst)));                     \
		(ndst) += (src).n;                                            \
	} while (0)
	APPEND(ps->src_ident, ps->nsrc_ident, si);
	APPEND(ps->src_net, ps->nsrc_net, sn);
	APPEND(ps->verdicts, ps->nverdicts, ve);
#undef APPEND
out:
	free(si.v);
	free(sn.v);
	free(ve.v);
	free(count);
	free(idnum);
	free(ipnum);
	return err;
}

static void setc_free(struct setc *x)
{
	free(x->id_list.v);
	free(x->ip_list.v);
	free(x->ports.v);
	free(x->idcls0);
	free(x->idrep0.v);
	free(x->idfacts.v);
	free(x->idfacts_off.v);
	free(x->ents.v);
	free(x->iprep0.v);
	free(x->m);
	free(x->id_final);
	free(x->ip_final);
	free(x->id_rep_final);
	free(x->ip_rep_final);
	intern_free(&x->vecs);
	yarena_release(&x->arena);
}

static int compile_set(struct compiler *c, uint32_t set_id,
		       const struct dset *s, uint32_t *id_local,
		       uint32_t *ip_local)
{
	struct setc x = { .id_local = id_local, .ip_local = ip_local };
	int err;

	x.vecs.arena = &x.arena;
	err = collect_atoms(c, s, &x);
	if (!err)
		err = id_classes(c, &x);
	if (!err)
		err = ip_classes(c, &x);
	if (!err)
		err = compute_matrix(c, s, &x);
	if (!err)
		err = merge_classes(&x);
	if (!err)
		err = emit_set(c, set_id, &x);
	for (size_t i = 0; i < x.id_list.n; i++)
		id_local[x.id_list.v[i]] = 0;
	for (size_t i = 0; i < x.ip_list.n; i++)
		ip_local[x.ip_list.v[i]] = 0;
	setc_free(&x);
	return err;
}

/* ---- sets and the whole ----------------------------------------------- */

static void dset_free(struct dset *s)
{
	free(s->policies.v);
	free(s->rules.v);
}

/* Istio takes one ext_authz provider per workload and refuses more. */
static void custom_providers_notice(struct compiler *c, const struct dset *s)
{
	const struct istio_authz_policy *first = NULL;
	char addr[64];

	for (size_t i = 0; i < s->policies.n; i++) {
		const struct istio_authz_policy *p = c->pol[s->policies.v[i]].p;

		if (p->action != ISTIO_AUTHZ_CUSTOM)
			continue;
		if (!first) {
			first = p;
		} else if (strcmp(first->provider, p->provider)) {
			C_NOTICE(c, p, 0,
				 "CUSTOM providers %s (%s/%s) and %s both apply to %s: Istio allows one per workload; both deny here",
				 first->provider, first->meta.ns,
				 first->meta.name, p->provider,
				 weft_addr_str(&s->dst, addr, sizeof(addr)));
			return;
		}
	}
}

static int build_sets(struct compiler *c, struct dsetvec *sets)
{
	const struct lb_state *lb = c->lb;
	struct policy_state *ps = c->ps;
	struct policy_wl_labels *lbl = NULL;
	struct yarena ia = { 0 };
	struct intern ix = { .arena = &ia };
	struct u32vec sig = { 0 };
	struct dset s = { 0 };
	size_t nlbl = 0;
	int err;

	err = policy_labels_index(c->cfg, &lbl, &nlbl);
	if (err)
		return err;
	ps->dst = calloc(lb->nworkloads + 1, sizeof(*ps->dst));
	/* set 0: no policy */
	if (!ps->dst || VEC_PUSH(*sets, s)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < lb->nworkloads; i++) {
		const struct lb_workload *w = &lb->workloads[i];
		uint32_t id;
		int r;

		memset(&s, 0, sizeof(s));
		err = dst_collect(c, policy_labels_find(lbl, nlbl, &w->addr),
				  w, &s);
		if (err || !s.policies.n)
			goto next;
		/* the key: policy list, a separator, alive-rule list */
		sig.n = 0;
		for (size_t k = 0; k < s.policies.n && !err; k++)
			err = VEC_PUSH(sig, s.policies.v[k]);
		if (!err)
			err = VEC_PUSH(sig, UINT32_MAX);
		for (size_t k = 0; k < s.rules.n && !err; k++)
			err = VEC_PUSH(sig, s.rules.v[k]);
		if (err)
			goto next;
		r = intern_put(&ix, sig.v, sig.n * sizeof(uint32_t), &id);
		if (r < 0) {
			err = r;
			goto next;
		}
		if (r > 0) {
			custom_providers_notice(c, &s);
			err = VEC_PUSH(*sets, s);
			if (!err)
				memset(&s, 0, sizeof(s)); /* now the set's */
		}
		ps->dst[ps->ndst].k.addr = w->addr;
		ps->dst[ps->ndst].v.set_id = id + 1; /* set ids from 1 */
		ps->ndst++;
next:
		dset_free(&s);
		if (err)
			goto out;
	}
out:
	free(sig.v);
	free(lbl);
	intern_free(&ix);
	yarena_release(&ia);
	return err;
}

static int cmp_dst(const void *a, const void *b)
{
	return cmp_key(a, b, sizeof(struct weft_policy_dst_key));
}

static int cmp_src_ident(const void *a, const void *b)
{
	return cmp_key(a, b, sizeof(struct weft_policy_src_ident_key));
}

static int cmp_src_net(const void *a, const void *b)
{
	return cmp_key(a, b, sizeof(struct weft_policy_src_net_key));
}

static int cmp_verdict(const void *a, const void *b)
{
	return cmp_key(a, b, sizeof(struct weft_policy_verdict_key));
}

static int fill_info(struct compiler *c)
{
	struct policy_state *ps = c->ps;

	ps->npolicies = c->cfg->nauthz_policies;
	ps->policies = calloc(ps->npolicies + 1, sizeof(*ps->policies));
	if (!ps->policies)
		return -ENOMEM;
	for (size_t i = 0; i < ps->npolicies; i++) {
		const struct istio_authz_policy *p = &c->cfg->authz_policies[i];
		struct policy_info *pi = &ps->policies[i];

		snprintf(pi->ns, sizeof(pi->ns), "%s", p->meta.ns);
		snprintf(pi->name, sizeof(pi->name), "%s", p->meta.name);
		pi->action = (__u8)p->action;
		pi->enforced = c->pol[i].enforced;
		pi->nrules = p->nrules;
		pi->file = p->meta.file;
		pi->line = p->meta.line;
	}
	return 0;
}

int policy_compile(const struct mesh_config *cfg, const struct lb_state *lb,
		   const struct policy_opts *opts, struct policy_state *out)
{
	struct compiler c = { .cfg = cfg, .lb = lb, .ps = out };
	struct dsetvec sets = { 0 };
	uint32_t *id_local = NULL, *ip_local = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if (opts)
		c.o = *opts;
	if (!c.o.trust_domain)
		c.o.trust_domain = POLICY_TRUST_DOMAIN;
	if (!c.o.root_ns)
		c.o.root_ns = POLICY_ROOT_NAMESPACE;
	if (!c.o.enforced_protos)
		c.o.enforced_protos = WEFT_POLICY_PROTO_TCP;
	snprintf(out->trust_domain, sizeof(out->trust_domain), "%s",
		 c.o.trust_domain);
	out->enforced_protos = c.o.enforced_protos;
	c.id_atoms_ix.arena = &c.arena;
	c.ip_atoms_ix.arena = &c.arena;

	err = lower_policies(&c);
	if (!err && c.errors)
		err = -EINVAL;
	if (!err)
		err = fill_info(&c);
	if (!err)
		err = build_identities(&c);
	if (!err)
		err = match_id_atoms(&c);
	if (!err)
		err = build_sets(&c, &sets);
	if (err)
		goto out;
	out->nsets = sets.n;
	out->set_info = calloc(sets.n + 1, sizeof(*out->set_info));
	id_local = calloc(c.id_atoms.n + 1, sizeof(*id_local));
	ip_local = calloc(c.ip_atoms.n + 1, sizeof(*ip_local));
	if (!out->set_info || !id_local || !ip_local) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 1; i < sets.n && !err; i++) {
		struct policy_set_info *si = &out->set_info[i];

		si->sample_dst = sets.v[i].dst;
		si->npolicies = sets.v[i].policies.n;
		si->policies = calloc(si->npolicies + 1, sizeof(__u32));
		if (!si->policies) {
			err = -ENOMEM;
			break;
		}
		memcpy(si->policies, sets.v[i].policies.v,
		       si->npolicies * sizeof(__u32));
		err = compile_set(&c, (uint32_t)i, &sets.v[i], id_local,
				  ip_local);
	}
	if (err)
		goto out;
	qsort(out->dst, out->ndst, sizeof(*out->dst), cmp_dst);
	if (out->nsrc_ident)
		qsort(out->src_ident, out->nsrc_ident, sizeof(*out->src_ident),
		      cmp_src_ident);
	if (out->nsrc_net)
		qsort(out->src_net, out->nsrc_net, sizeof(*out->src_net),
		      cmp_src_net);
	if (out->nverdicts)
		qsort(out->verdicts, out->nverdicts, sizeof(*out->verdicts),
		      cmp_verdict);
out:
	for (size_t i = 0; i < sets.n; i++)
		dset_free(&sets.v[i]);
	free(sets.v);
	free(id_local);
	free(ip_local);
	free(c.pol);
	free(c.rules.v);
	free(c.id_atoms.v);
	free(c.ip_atoms.v);
	intern_free(&c.id_atoms_ix);
	intern_free(&c.ip_atoms_ix);
	yarena_release(&c.arena);
	if (err) {
		size_t nn = out->nnotices;

		policy_state_free(out);
		out->nnotices = nn;
	}
	return err;
}

void policy_state_free(struct policy_state *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; ps->set_info && i < ps->nsets; i++)
		free(ps->set_info[i].policies);
	free(ps->set_info);
	free(ps->policies);
	free(ps->identities);
	free(ps->dst);
	free(ps->ident);
	free(ps->src_ident);
	free(ps->src_net);
	free(ps->verdicts);
	memset(ps, 0, sizeof(*ps));
}

size_t policy_state_bytes(const struct policy_state *ps)
{
	return ps->ndst * sizeof(*ps->dst) + ps->nident * sizeof(*ps->ident) +
	       ps->nsrc_ident * sizeof(*ps->src_ident) +
	       ps->nsrc_net * sizeof(*ps->src_net) +
	       ps->nverdicts * sizeof(*ps->verdicts);
}
