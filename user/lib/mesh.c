// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mesh config loader: files and directories -> YAML documents -> per-kind
 * readers (mesh_k8s.c, mesh_istio.c), then checks across documents
 * (duplicates).  All-or-nothing: any problem frees everything.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lb.h"
#include "log.h"
#include "mesh-t.h"
#include "mesh.h"
#include "vec.h"

static const char *const api_networking[] = {
	"networking.istio.io/v1alpha3", "networking.istio.io/v1beta1",
	"networking.istio.io/v1", NULL,
};
static const char *const api_security[] = {
	"security.istio.io/v1beta1", "security.istio.io/v1", NULL,
};
static const char *const api_core[] = { "v1", NULL };
static const char *const api_discovery[] = { "discovery.k8s.io/v1", NULL };

typedef void (*mesh_read_fn)(struct mesh_config *cfg, struct ydec *d,
			     const struct ynode *doc,
			     const struct mesh_meta *meta);

static const struct mesh_kind_desc {
	const char *name;
	const char *const *api_versions;
	mesh_read_fn read;
	bool dns1035_name;   /* Service names are DNS-1035 labels */
	/* The kind's array in struct mesh_config: offsets of the array
	 * pointer and of its count, and the element size. */
	size_t arr_off, n_off, size;
} kinds[MESH_KIND__MAX] = {
#define CFG_ARRAY(arr, n) offsetof(struct mesh_config, arr), \
	offsetof(struct mesh_config, n), sizeof(*((struct mesh_config *)0)->arr)
	[MESH_KIND_SERVICE] = { "Service", api_core, mesh_k8s_read_service,
				true, CFG_ARRAY(services, nservices) },
	[MESH_KIND_ENDPOINT_SLICE] = { "EndpointSlice", api_discovery,
				       mesh_k8s_read_endpoint_slice, false,
				       CFG_ARRAY(slices, nslices) },
	[MESH_KIND_ENDPOINTS] = { "Endpoints", api_core,
				  mesh_k8s_read_endpoints, false,
				  CFG_ARRAY(endpoints, nendpoints) },
	[MESH_KIND_POD] = { "Pod", api_core, mesh_k8s_read_pod, false,
			    CFG_ARRAY(pods, npods) },
	[MESH_KIND_SERVICE_ENTRY] = { "ServiceEntry", api_networking,
				      mesh_istio_read_service_entry, false,
				      CFG_ARRAY(service_entries,
						nservice_entries) },
	[MESH_KIND_WORKLOAD_ENTRY] = { "WorkloadEntry", api_networking,
				       mesh_istio_read_workload_entry, false,
				       CFG_ARRAY(workload_entries,
						 nworkload_entries) },
	[MESH_KIND_VIRTUAL_SERVICE] = { "VirtualService", api_networking,
					mesh_istio_read_virtual_service, false,
					CFG_ARRAY(virtual_services,
						  nvirtual_services) },
	[MESH_KIND_DESTINATION_RULE] = { "DestinationRule", api_networking,
					 mesh_istio_read_destination_rule,
					 false,
					 CFG_ARRAY(destination_rules,
						   ndestination_rules) },
	[MESH_KIND_AUTHORIZATION_POLICY] = { "AuthorizationPolicy",
					     api_security,
					     mesh_istio_read_authz_policy,
					     false,
					     CFG_ARRAY(authz_policies,
						       nauthz_policies) },
	[MESH_KIND_PEER_AUTHENTICATION] = { "PeerAuthentication",
					    api_security,
					    mesh_istio_read_peer_authn, false,
					    CFG_ARRAY(peer_authns,
						      npeer_authns) },
#undef CFG_ARRAY
};

const char *mesh_kind_name(enum mesh_kind kind)
{
	return kind < MESH_KIND__MAX ? kinds[kind].name : "?";
}

/* ---- shared checks ------------------------------------------------------ */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? of len 1..max, over s[0..len). */
static bool dns_label_n(const char *s, size_t len, size_t max, bool upper)
{
	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool ok = upper ? is_alnum(s[i]) : is_lower_alnum(s[i]);

		if (!ok && !(s[i] == '-' && i && i + 1 < len))
			return false;
	}
	return true;
}

bool mesh_valid_dns_label(const char *s)
{
	return dns_label_n(s, strlen(s), 63, false);
}

bool mesh_valid_dns_subdomain(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (!dns_label_n(p, l, 63, false))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

static bool dns1035_label(const char *s)
{
	return mesh_valid_dns_label(s) && s[0] >= 'a' && s[0] <= 'z';
}

bool mesh_valid_host(const char *s, bool allow_star)
{
	size_t len = strlen(s);
	const char *p = s, *dot;
	bool all_digits = true;

	if (!len || len > 253)
		return false;
	if (!strcmp(s, "*"))
		return allow_star;
	/* First label: "*", "*.", "*foo" or a plain label. */
	dot = strchr(p, '.');
	if (p[0] == '*') {
		size_t l = dot ? (size_t)(dot - p) : len;

		if (l > 1 && !dns_label_n(p + 1 + (p[1] == '-'),
					  l - 1 - (p[1] == '-'), 62, true))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
	for (;;) {
		size_t l;

		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		if (!l && !dot && p != s)
			break; /* trailing dot of an FQDN */
		if (!dns_label_n(p, l, 63, true))
			return false;
		all_digits = strspn(p, "0123456789") >= l;
		if (!dot)
			break;
		p = dot + 1;
	}
	return !all_digits;
}

bool mesh_read_ip(struct ydec *d, const struct ynode *n, union weft_addr *out)
{
	const char *s;

	if (!ydec_as_str(d, n, &s))
		return false;
	if (weft_addr_parse(s, out)) {
		ydec_error(d, n, "\"%.64s\" is not a valid IP address", s);
		return false;
	}
	return true;
}

bool mesh_read_cidr(struct ydec *d, const struct ynode *n,
		    struct mesh_cidr *out)
{
	char buf[64];
	const char *s, *slash;
	union weft_addr a;
	int64_t plen = -1;
	unsigned int max;

	if (!ydec_as_str(d, n, &s))
		return false;
	slash = strchr(s, '/');
	if (strlen(s) >= sizeof(buf))
		goto bad;
	memcpy(buf, s, strlen(s) + 1);
	if (slash) {
		char *end;

		buf[slash - s] = '\0';
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			goto bad;
		plen = strtol(slash + 1, &end, 10);
		if (*end)
			goto bad;
	}
	if (weft_addr_parse(buf, &a))
		goto bad;
	max = weft_addr_is_v4(&a) ? 32 : 128;
	if (plen > (int64_t)max)
		goto bad;
	out->addr = a;
	out->v4 = max == 32;
	out->has_prefix = slash != NULL;
	out->prefix_len = (uint8_t)(plen < 0 ? max : plen);
	out->text = s;
	return true;
bad:
	ydec_error(d, n, "\"%.64s\" is not a valid IP address or CIDR", s);
	return false;
}

/* Kubernetes label value / qualified-name part: [A-Za-z0-9._-], alnum ends. */
static bool label_part(const char *s, size_t len, bool allow_empty)
{
	if (!len)
		return allow_empty;
	if (len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool label_key(const char *k)
{
	const char *slash = strchr(k, '/');
	char prefix[254];

	if (!slash)
		return label_part(k, strlen(k), false);
	if ((size_t)(slash - k) >= sizeof(prefix) || slash == k)
		return false;
	memcpy(prefix, k, (size_t)(slash - k));
	prefix[slash - k] = '\0';
	return mesh_valid_dns_subdomain(prefix) &&
	       label_part(slash + 1, strlen(slash + 1), false);
}

bool mesh_read_labels(struct ydec *d, const struct ynode *map,
		      const char *key, struct ykvs *out)
{
	const struct ynode *m;
	bool ok = true;
	size_t mark;

	if (!ydec_kvs(d, map, key, out))
		return false;
	m = ymap_find(map, key);
	mark = ydec_push(d, key);
	for (size_t i = 0; i < out->n; i++) {
		const struct ypair *p = &m->pairs[i];
		size_t m2 = ydec_push(d, out->kv[i].key);

		if (!label_key(out->kv[i].key)) {
			ydec_error(d, p->key, "invalid label key");
			ok = false;
		} else if (!label_part(out->kv[i].value,
				       strlen(out->kv[i].value), true)) {
			ydec_error(d, p->value, "invalid label value \"%.64s\"",
				   out->kv[i].value);
			ok = false;
		}
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
	return ok;
}

bool mesh_read_selector(struct ydec *d, const struct ynode *map,
			const char *key, const char *inner,
			struct mesh_selector *out)
{
	static const char *const match_labels[] = { "matchLabels", NULL };
	static const char *const labels[] = { "labels", NULL };
	const struct ynode *sel = ydec_map(d, map, key);
	bool ok = true;
	size_t mark;

	if (!sel)
		return false;
	mark = ydec_push(d, key);
	if (inner) {
		ydec_check_keys(d, sel, !strcmp(inner, "labels") ? labels :
								    match_labels);
		if (ymap_find(sel, inner))
			ok = mesh_read_labels(d, sel, inner, &out->match);
	} else {
		ydec_pop(d, mark);
		ok = mesh_read_labels(d, map, key, &out->match);
		mark = ydec_push(d, key);
	}
	for (size_t i = 0; ok && inner && i < out->match.n; i++) {
		if (strchr(out->match.kv[i].key, '*') ||
		    strchr(out->match.kv[i].value, '*')) {
			ydec_error(d, sel, "wildcard is not supported in selector: \"%s=%s\"",
				   out->match.kv[i].key, out->match.kv[i].value);
			ok = false;
		}
	}
	ydec_pop(d, mark);
	out->set = ok;
	return ok;
}

bool mesh_selector_matches(const struct mesh_selector *sel,
			   const struct ykvs *labels)
{
	for (size_t i = 0; i < sel->match.n; i++) {
		const char *v = ykvs_get(labels, sel->match.kv[i].key);

		if (!v || strcmp(v, sel->match.kv[i].value))
			return false;
	}
	return true;
}

bool mesh_read_k8s_protocol(struct ydec *d, const struct ynode *map,
			    const char *key, enum k8s_protocol *out)
{
	static const char *const names[] = { "TCP", "UDP", "SCTP", NULL };
	int v;

	*out = K8S_PROTO_TCP;
	if (!ydec_enum(d, map, key, names, false, &v))
		return !ymap_find(map, key);
	*out = (enum k8s_protocol)v;
	return true;
}

bool mesh_read_port(struct ydec *d, const struct ynode *map, const char *key,
		    uint16_t *out)
{
	int64_t v;

	if (!ydec_int(d, map, key, 1, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

void mesh_add(struct ydec *d, void **arr, size_t *n, const void *res,
	      size_t size)
{
	if (!ydec_doc_ok(d))
		return;
	/* Capacity is implicit: the next power of two >= n. */
	if (!(*n & (*n - 1))) {
		size_t cap = *n ? *n * 2 : 1;
		void *p = cap > SIZE_MAX / size ? NULL :
			  realloc(*arr, cap * size);

		if (!p) {
			ydec_oom(d);
			return;
		}
		*arr = p;
	}
	memcpy((char *)*arr + (*n)++ * size, res, size);
}

/* ---- documents ---------------------------------------------------------- */

struct mesh_loader {
	struct mesh_config *cfg;
	struct ydiag diag;
	int io_err;        /* first file that could not be read */
};

static bool read_meta(struct ydec *d, const struct ynode *obj,
		      const struct mesh_kind_desc *kd, const char *file,
		      struct mesh_meta *meta)
{
	const struct ynode *md;
	size_t mark;

	memset(meta, 0, sizeof(*meta));
	meta->file = file;
	meta->line = obj->line;
	meta->doc = obj;
	meta->ns = MESH_DEFAULT_NAMESPACE;
	if (!ydec_required(d, obj, "metadata"))
		return false;
	md = ydec_enter_map(d, obj, "metadata", &mark);
	if (!md)
		return false;
	if (ydec_required(d, md, "name") && ydec_str(d, md, "name", &meta->name)) {
		bool ok = kd->dns1035_name ? dns1035_label(meta->name) :
					     mesh_valid_dns_subdomain(meta->name);

		if (!ok)
			ydec_error_key(d, "name", ymap_find(md, "name"),
				       "\"%.64s\" is not a valid %s name (%s)",
				       meta->name, kd->name,
				       kd->dns1035_name ?
				       "lowercase letters, digits and '-', starting with a letter, at most 63" :
				       "lowercase DNS name, at most 253");
	}
	if (ydec_str(d, md, "namespace", &meta->ns) &&
	    !mesh_valid_dns_label(meta->ns))
		ydec_error_key(d, "namespace", ymap_find(md, "namespace"),
			       "\"%.64s\" is not a valid namespace", meta->ns);
	mesh_read_labels(d, md, "labels", &meta->labels);
	ydec_kvs(d, md, "annotations", &meta->annotations);
	meta->deleting = ymap_find(md, "deletionTimestamp") != NULL;
	ydec_pop(d, mark);
	return ydec_doc_ok(d);
}

/* A name for the skip notice, read without complaints. */
static const char *lenient(const struct ynode *md, const char *key,
			   const char *def)
{
	const struct ynode *n = ymap_find(md, key);

	return n && n->kind == YNODE_SCALAR ? n->str : def;
}

static void read_object(struct mesh_loader *ld, struct ydec *d,
			const struct ynode *obj, const char *file);

/* kind: List (as kubectl prints): every item is read as a document. */
static void read_list(struct mesh_loader *ld, struct ydec *d,
		      const struct ynode *obj, const char *file)
{
	const struct ynode *items = ydec_seq(d, obj, "items");

	for (size_t i = 0; items && i < items->n; i++) {
		size_t mark = ydec_push(d, "items");

		ydec_push_index(d, i);
		read_object(ld, d, items->items[i], file);
		ydec_pop(d, mark);
	}
}

static void read_object(struct mesh_loader *ld, struct ydec *d,
			const struct ynode *obj, const char *file)
{
	const struct mesh_kind_desc *kd = NULL;
	const char *kind = NULL, *api = NULL;
	struct mesh_meta meta;
	enum mesh_kind k;

	if (obj->kind != YNODE_MAP) {
		ydec_error(d, obj, "expected a Kubernetes object (a mapping with apiVersion and kind)");
		return;
	}
	if (!ydec_required(d, obj, "kind") || !ydec_str(d, obj, "kind", &kind))
		return;
	if (!strcmp(kind, "List") && ymap_find(obj, "items")) {
		read_list(ld, d, obj, file);
		return;
	}
	for (k = 0; k < MESH_KIND__MAX; k++) {
		if (!strcmp(kinds[k].name, kind)) {
			kd = &kinds[k];
			break;
		}
	}
	if (!kd) {
		const struct ynode *md = ymap_find(obj, "metadata");

		pr_info("%s:%u: skipping %s %s/%s: not implemented\n", file,
			obj->line, kind,
			lenient(md, "namespace", MESH_DEFAULT_NAMESPACE),
			lenient(md, "name", "(unnamed)"));
		ld->cfg->skipped++;
		return;
	}
	if (ydec_required(d, obj, "apiVersion") &&
	    ydec_str(d, obj, "apiVersion", &api)) {
		bool ok = false;

		for (size_t i = 0; kd->api_versions[i] && !ok; i++)
			ok = !strcmp(api, kd->api_versions[i]);
		if (!ok)
			ydec_error_key(d, "apiVersion", ymap_find(obj, "apiVersion"),
				       "\"%.64s\" is not a supported apiVersion for %s (use %s)",
				       api, kd->name, kd->api_versions[0]);
	}
	read_meta(d, obj, kd, file, &meta);
	kd->read(ld->cfg, d, obj, &meta);
}

static void read_document(struct mesh_loader *ld, const char *file,
			  const struct ydoc *doc)
{
	struct ydec d;

	if (ynode_is_null(doc->root))
		return; /* empty document, "---" alone */
	ydec_init(&d, &ld->diag, &ld->cfg->arena, file);
	ydec_doc_begin(&d);
	read_object(ld, &d, doc->root, file);
}

static void load_buffer(struct mesh_loader *ld, const char *name,
			const char *buf, size_t len)
{
	struct ystream st = { 0 };
	char *file;

	file = yarena_strndup(&ld->cfg->arena, name, strlen(name));
	if (!file) {
		ld->diag.oom = true;
		ld->diag.errors++;
		return;
	}
	if (ytree_parse(&ld->cfg->arena, &ld->diag, file, buf, len, &st))
		return;
	for (size_t i = 0; i < st.ndocs; i++)
		read_document(ld, file, &st.docs[i]);
}

/* ---- checks across documents ------------------------------------------- */

struct res_ref {
	enum mesh_kind kind;
	const struct mesh_meta *meta;
	size_t seq;
};

static int cmp_res_ref(const void *pa, const void *pb)
{
	const struct res_ref *a = pa, *b = pb;
	int c;

	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	c = strcmp(a->meta->ns, b->meta->ns);
	if (!c)
		c = strcmp(a->meta->name, b->meta->name);
	if (!c)
		c = a->seq < b->seq ? -1 : a->seq > b->seq;
	return c;
}

/* The resource array of kind k, for walks over every resource. */
static void kind_array(const struct mesh_config *cfg, enum mesh_kind k,
		       char **base, size_t *n, size_t *size)
{
	memcpy(base, (const char *)cfg + kinds[k].arr_off, sizeof(*base));
	memcpy(n, (const char *)cfg + kinds[k].n_off, sizeof(*n));
	*size = kinds[k].size;
}

/* Report every (kind, namespace, name) defined more than once. */
static void check_duplicates(struct mesh_loader *ld)
{
	struct res_ref *refs = NULL;
	size_t total = 0, n = 0;

	for (enum mesh_kind k = 0; k < MESH_KIND__MAX; k++) {
		char *base;
		size_t cnt, size;

		kind_array(ld->cfg, k, &base, &cnt, &size);
		total += cnt;
	}
	if (!total)
		return;
	refs = calloc(total, sizeof(*refs));
	if (!refs) {
		ld->diag.oom = true;
		ld->diag.errors++;
		return;
	}
	for (enum mesh_kind k = 0; k < MESH_KIND__MAX; k++) {
		char *base;
		size_t cnt, size;

		kind_array(ld->cfg, k, &base, &cnt, &size);
		for (size_t i = 0; i < cnt; i++, n++)
			refs[n] = (struct res_ref){
				k, (const struct mesh_meta *)(base + i * size), n
			};
	}
	qsort(refs, n, sizeof(*refs), cmp_res_ref);
	for (size_t i = 1, first = 0; i < n; i++) {
		const struct mesh_meta *a = refs[first].meta, *b = refs[i].meta;

		if (refs[i].kind != refs[first].kind || strcmp(a->ns, b->ns) ||
		    strcmp(a->name, b->name)) {
			first = i;
			continue;
		}
		ydiag_report(&ld->diag, b->file, b->line,
			     "duplicate %s %s/%s (first defined at %s:%u)",
			     mesh_kind_name(refs[i].kind), b->ns, b->name,
			     a->file, a->line);
	}
	free(refs);
}

/* ---- public API ----------------------------------------------------------- */

static int loader_begin(struct mesh_loader *ld)
{
	memset(ld, 0, sizeof(*ld));
	ld->cfg = calloc(1, sizeof(*ld->cfg));
	return ld->cfg ? 0 : -ENOMEM;
}

static int loader_end(struct mesh_loader *ld, struct mesh_config **out)
{
	int err = 0;

	if (!ld->diag.errors)
		check_duplicates(ld);
	if (ld->diag.errors || ld->io_err) {
		ydiag_flush(&ld->diag);
		if (ld->diag.oom)
			err = -ENOMEM;
		else if (ld->io_err)
			err = ld->io_err;
		else
			err = -EINVAL;
		mesh_config_free(ld->cfg);
		return err;
	}
	*out = ld->cfg;
	return 0;
}

int mesh_config_load_buffer(const char *name, const char *buf, size_t len,
			    struct mesh_config **out)
{
	struct mesh_loader ld;
	int err;

	err = loader_begin(&ld);
	if (err)
		return err;
	load_buffer(&ld, name ? name : "<buffer>", buf, len);
	return loader_end(&ld, out);
}

static void load_file(struct mesh_loader *ld, const char *path)
{
	size_t len;
	char *buf;
	int err;

	err = ytree_read_file(path, &buf, &len);
	if (err) {
		if (err == -EFBIG)
			pr_warn("%s: file too large (limit %u bytes)\n", path,
				YTREE_MAX_INPUT);
		else
			pr_warn("%s: %s\n", path, strerror(-err));
		if (!ld->io_err)
			ld->io_err = err == -EFBIG ? -EINVAL : err;
		return;
	}
	load_buffer(ld, path, buf, len);
	free(buf);
}

int mesh_config_load_files(const char *const *paths, size_t npaths,
			   struct mesh_config **out)
{
	struct mesh_loader ld;
	int err;

	err = loader_begin(&ld);
	if (err)
		return err;
	for (size_t i = 0; i < npaths; i++)
		load_file(&ld, paths[i]);
	return loader_end(&ld, out);
}

static bool yaml_name(const char *name)
{
	size_t l = strlen(name);

	if (name[0] == '.')
		return false; /* editor temp files, Kubernetes ..data links */
	return (l > 5 && !strcmp(name + l - 5, ".yaml")) ||
	       (l > 4 && !strcmp(name + l - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int mesh_config_load_dir(const char *dir, struct mesh_config **out)
{
	char **paths = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dp;
	int err = 0;

	dp = opendir(dir);
	if (!dp) {
		err = -errno;
		pr_warn("%s: %s\n", dir, strerror(-err));
		return err;
	}
	while ((de = readdir(dp))) {
		struct stat st;
		char *path;

		if (!yaml_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			err = -ENOMEM;
			goto out;
		}
		if (stat(path, &st) || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (vec_reserve((void **)&paths, &cap, n + 1, sizeof(*paths))) {
			free(path);
			err = -ENOMEM;
			goto out;
		}
		paths[n++] = path;
	}
	if (n)
		qsort(paths, n, sizeof(*paths), cmp_str);
	err = mesh_config_load_files((const char *const *)paths, n, out);
out:
	closedir(dp);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return err;
}

void mesh_config_free(struct mesh_config *cfg)
{
	char *base;
	size_t n, size;

	if (!cfg)
		return;
	for (enum mesh_kind k = 0; k < MESH_KIND__MAX; k++) {
		kind_array(cfg, k, &base, &n, &size);
		free(base);
	}
	yarena_release(&cfg->arena);
	free(cfg);
}

void mesh_config_summary(const struct mesh_config *cfg,
			 struct mesh_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (!cfg)
		return;
	out->services = cfg->nservices;
	out->endpoint_slices = cfg->nslices;
	out->endpoints = cfg->nendpoints;
	out->pods = cfg->npods;
	out->service_entries = cfg->nservice_entries;
	out->workload_entries = cfg->nworkload_entries;
	out->virtual_services = cfg->nvirtual_services;
	out->destination_rules = cfg->ndestination_rules;
	out->authorization_policies = cfg->nauthz_policies;
	out->peer_authentications = cfg->npeer_authns;
	out->skipped = cfg->skipped;
}
