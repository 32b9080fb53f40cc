// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libyaml events -> struct ynode trees, and the checked accessors of
 * struct ydec.  See yaml_tree.h for the semantics.
 */
#include "yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"
#include "vec.h"

/* --- arena ------------------------------------------------------------ */

struct yblock {
	struct yblock *next;
	max_align_t data[];
};

void *yarena_alloc(struct yarena *a, size_t size)
{
	struct yblock *b;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	b = calloc(1, sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = a->head;
	a->head = b;
	return b->data;
}

void *yarena_array(struct yarena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return yarena_alloc(a, (n && size) ? n * size : 1);
}

char *yarena_strndup(struct yarena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = yarena_alloc(a, n + 1);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

char *yarena_printf(struct yarena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = yarena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void yarena_release(struct yarena *a)
{
	struct yblock *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* --- diagnostics ------------------------------------------------------ */

void ydiag_report(struct ydiag *d, const char *file, unsigned int line,
		  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (d->errors++ >= YDIAG_MAX_REPORTED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Values from the input are quoted in messages: keep them on one
	 * line so that no input can forge a diagnostic of its own. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	pr_warn("%s:%u: %s\n", file, line, msg);
}

void ydiag_flush(const struct ydiag *d)
{
	if (d->errors > YDIAG_MAX_REPORTED)
		pr_warn("%u more errors not shown\n",
			d->errors - YDIAG_MAX_REPORTED);
}

/* --- tree building ---------------------------------------------------- */

struct yframe {
	struct ynode *node;   /* container being built */
	struct ynode **kids;  /* malloc'd; a mapping alternates key, value */
	size_t n, cap;
	char *anchor;         /* malloc'd; registered when the node ends */
};

struct yanchor {
	char *name;
	struct ynode *node;
};

struct ybuild {
	struct yarena *a;
	struct ydiag *d;
	const char *name;
	struct yframe stack[YTREE_MAX_DEPTH];
	size_t depth;
	struct yanchor *anchors;
	size_t nanchors, capanchors;
	size_t expanded;      /* nodes so far, aliases expanded */
	struct ynode *root;
	unsigned int doc_line;
	struct ydoc *docs;    /* malloc'd; copied to the arena at the end */
	size_t ndocs, capdocs;
	int err;              /* first error: -EINVAL or -ENOMEM */
};

static const char YTREE_STR_TAG[] = "tag:yaml.org,2002:str";

static void ybuild_fail(struct ybuild *b, int err, unsigned int line,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void ybuild_fail(struct ybuild *b, int err, unsigned int line,
			const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (b->err)
		return;
	b->err = err;
	if (err == -ENOMEM) {
		b->d->oom = true;
		ydiag_report(b->d, b->name, line, "out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ydiag_report(b->d, b->name, line, "%s", msg);
}

static struct ynode *ybuild_node(struct ybuild *b, enum ynode_kind kind,
				 const yaml_mark_t *mark)
{
	struct ynode *n;

	if (b->expanded >= YTREE_MAX_NODES) {
		ybuild_fail(b, -EINVAL, (unsigned int)mark->line + 1,
			    "too many YAML nodes (limit %u)", YTREE_MAX_NODES);
		return NULL;
	}
	n = yarena_alloc(b->a, sizeof(*n));
	if (!n) {
		ybuild_fail(b, -ENOMEM, (unsigned int)mark->line + 1, "-");
		return NULL;
	}
	b->expanded++;
	n->kind = kind;
	n->line = (unsigned int)mark->line + 1;
	n->weight = 1;
	return n;
}

static void ybuild_anchor(struct ybuild *b, char *name, struct ynode *node)
{
	if (!name)
		return;
	if (vec_reserve((void **)&b->anchors, &b->capanchors, b->nanchors + 1,
			sizeof(*b->anchors))) {
		free(name);
		ybuild_fail(b, -ENOMEM, node->line, "-");
		return;
	}
	b->anchors[b->nanchors++] = (struct yanchor){ name, node };
}

static void ybuild_clear_anchors(struct ybuild *b)
{
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	b->nanchors = 0;
}

/* Attach a finished node to the open container, or make it the root. */
static void ybuild_add(struct ybuild *b, struct ynode *n)
{
	struct yframe *f;

	if (!b->depth) {
		b->root = n;
		return;
	}
	f = &b->stack[b->depth - 1];
	if (vec_reserve((void **)&f->kids, &f->cap, f->n + 1,
			sizeof(*f->kids))) {
		ybuild_fail(b, -ENOMEM, n->line, "-");
		return;
	}
	f->kids[f->n++] = n;
}

static char *dup_anchor(struct ybuild *b, const yaml_char_t *anchor,
			unsigned int line)
{
	char *s;

	if (!anchor)
		return NULL;
	s = strdup((const char *)anchor);
	if (!s)
		ybuild_fail(b, -ENOMEM, line, "-");
	return s;
}

static void ybuild_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	struct ynode *n;

	n = ybuild_node(b, YNODE_SCALAR, &ev->start_mark);
	if (!n)
		return;
	n->str = yarena_strndup(b->a, (const char *)ev->data.scalar.value,
				ev->data.scalar.length);
	if (!n->str) {
		ybuild_fail(b, -ENOMEM, n->line, "-");
		return;
	}
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !(tag && !strcmp(tag, YTREE_STR_TAG));
	ybuild_anchor(b, dup_anchor(b, ev->data.scalar.anchor, n->line), n);
	ybuild_add(b, n);
}

static void ybuild_open(struct ybuild *b, const yaml_event_t *ev,
			enum ynode_kind kind)
{
	const yaml_char_t *anchor = kind == YNODE_SEQ ?
		ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
	struct yframe *f;
	struct ynode *n;

	if (b->depth == YTREE_MAX_DEPTH) {
		ybuild_fail(b, -EINVAL, (unsigned int)ev->start_mark.line + 1,
			    "nested too deep (more than %d levels)",
			    YTREE_MAX_DEPTH);
		return;
	}
	n = ybuild_node(b, kind, &ev->start_mark);
	if (!n)
		return;
	f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = dup_anchor(b, anchor, n->line);
}

struct ymerge_ent {
	struct ypair pair;
	size_t pos;      /* order of precedence: explicit keys first */
	bool explicit;
};

static int cmp_merge_ent(const void *pa, const void *pb)
{
	const struct ymerge_ent *a = pa, *b = pb;
	int c = strcmp(a->pair.key->str, b->pair.key->str);

	if (c)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int cmp_pos(const void *pa, const void *pb)
{
	const struct ymerge_ent *a = pa, *b = pb;

	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static bool is_merge_key(const struct ynode *k)
{
	return k->kind == YNODE_SCALAR && k->plain && !strcmp(k->str, "<<");
}

/* Queue the pairs of a "<<" source mapping behind the explicit ones. */
static int merge_source(struct ybuild *b, const struct ynode *src,
			struct ymerge_ent **ents, size_t *n, size_t *cap)
{
	if (src->kind != YNODE_MAP) {
		ybuild_fail(b, -EINVAL, src->line,
			    "merge key (<<) needs a mapping or a list of mappings");
		return -EINVAL;
	}
	if (vec_reserve((void **)ents, cap, *n + src->n, sizeof(**ents))) {
		ybuild_fail(b, -ENOMEM, src->line, "-");
		return -ENOMEM;
	}
	for (size_t i = 0; i < src->n; i++) {
		(*ents)[*n] = (struct ymerge_ent){ src->pairs[i], *n, false };
		(*n)++;
	}
	return 0;
}

/*
 * Build the pairs of a finished mapping: keys must be scalars and unique;
 * "<<" merges add the keys of their mappings that are not set explicitly
 * (earlier sources win).
 */
static void ybuild_finish_map(struct ybuild *b, struct yframe *f)
{
	struct ynode *m = f->node;
	struct ymerge_ent *ents = NULL;
	size_t n = 0, cap = 0, npairs = f->n / 2, out = 0;
	bool merges = false;

	if (vec_reserve((void **)&ents, &cap, npairs ? npairs : 1,
			sizeof(*ents))) {
		ybuild_fail(b, -ENOMEM, m->line, "-");
		return;
	}
	for (size_t i = 0; i < npairs; i++) {
		struct ynode *k = f->kids[2 * i], *v = f->kids[2 * i + 1];

		if (k->kind != YNODE_SCALAR) {
			ybuild_fail(b, -EINVAL, k->line,
				    "mapping keys must be scalars");
			goto out;
		}
		if (is_merge_key(k)) {
			merges = true;
			continue;
		}
		ents[n] = (struct ymerge_ent){ { k, v }, n, true };
		n++;
	}
	for (size_t i = 0; merges && i < npairs; i++) {
		struct ynode *k = f->kids[2 * i], *v = f->kids[2 * i + 1];

		if (!is_merge_key(k))
			continue;
		if (v->kind == YNODE_SEQ) {
			for (size_t j = 0; j < v->n; j++)
				if (merge_source(b, v->items[j], &ents, &n, &cap))
					goto out;
		} else if (merge_source(b, v, &ents, &n, &cap)) {
			goto out;
		}
	}
	/* Sort by (key, precedence), keep the first of each key. */
	qsort(ents, n, sizeof(*ents), cmp_merge_ent);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(ents[i].pair.key->str,
				 ents[out - 1].pair.key->str)) {
			if (ents[i].explicit) {
				ybuild_fail(b, -EINVAL, ents[i].pair.key->line,
					    "duplicate key \"%.64s\" (first at line %u)",
					    ents[i].pair.key->str,
					    ents[out - 1].pair.key->line);
				goto out;
			}
			continue;
		}
		ents[out++] = ents[i];
	}
	qsort(ents, out, sizeof(*ents), cmp_pos);
	m->pairs = yarena_array(b->a, out, sizeof(*m->pairs));
	if (!m->pairs) {
		ybuild_fail(b, -ENOMEM, m->line, "-");
		goto out;
	}
	for (size_t i = 0; i < out; i++)
		m->pairs[i] = ents[i].pair;
	m->n = out;
out:
	free(ents);
}

static void ybuild_close(struct ybuild *b)
{
	struct yframe *f = &b->stack[--b->depth];
	struct ynode *n = f->node;

	for (size_t i = 0; i < f->n; i++)
		n->weight += f->kids[i]->weight;
	if (n->kind == YNODE_SEQ) {
		n->items = yarena_array(b->a, f->n, sizeof(*n->items));
		if (!n->items) {
			ybuild_fail(b, -ENOMEM, n->line, "-");
		} else {
			if (f->n)
				memcpy(n->items, f->kids, f->n * sizeof(*n->items));
			n->n = f->n;
		}
	} else {
		ybuild_finish_map(b, f);
	}
	free(f->kids);
	f->kids = NULL;
	if (b->err) {
		free(f->anchor);
	} else {
		ybuild_anchor(b, f->anchor, n);
		ybuild_add(b, n);
	}
	f->anchor = NULL;
}

static void ybuild_alias(struct ybuild *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	unsigned int line = (unsigned int)ev->start_mark.line + 1;
	struct ynode *target = NULL;

	for (size_t i = b->nanchors; i-- > 0;) {
		if (!strcmp(b->anchors[i].name, name)) {
			target = b->anchors[i].node;
			break;
		}
	}
	if (!target) {
		ybuild_fail(b, -EINVAL, line, "alias *%.64s names no anchor before it",
			    name);
		return;
	}
	if (target->weight > YTREE_MAX_NODES - b->expanded) {
		ybuild_fail(b, -EINVAL, line,
			    "too many YAML nodes after expanding alias *%.64s (limit %u)",
			    name, YTREE_MAX_NODES);
		return;
	}
	b->expanded += target->weight;
	ybuild_add(b, target);
}

static void ybuild_end_doc(struct ybuild *b)
{
	ybuild_clear_anchors(b);
	if (!b->root)
		return;
	if (vec_reserve((void **)&b->docs, &b->capdocs, b->ndocs + 1,
			sizeof(*b->docs))) {
		ybuild_fail(b, -ENOMEM, b->doc_line, "-");
		return;
	}
	b->docs[b->ndocs].root = b->root;
	b->docs[b->ndocs].line = ynode_is_null(b->root) ? b->doc_line :
							  b->root->line;
	b->ndocs++;
	b->root = NULL;
}

static unsigned int line_at_offset(const char *buf, size_t len, size_t off)
{
	unsigned int line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

static void ybuild_syntax_error(struct ybuild *b, const yaml_parser_t *p,
				const char *buf, size_t len)
{
	unsigned int line;

	if (p->error == YAML_MEMORY_ERROR) {
		ybuild_fail(b, -ENOMEM, 0, "-");
		return;
	}
	if (p->error == YAML_READER_ERROR)
		line = line_at_offset(buf, len, p->problem_offset);
	else
		line = (unsigned int)p->problem_mark.line + 1;
	if (p->context)
		ybuild_fail(b, -EINVAL, line,
			    "YAML syntax error: %s (%s at line %u)",
			    p->problem ? p->problem : "unknown problem",
			    p->context, (unsigned int)p->context_mark.line + 1);
	else
		ybuild_fail(b, -EINVAL, line, "YAML syntax error: %s",
			    p->problem ? p->problem : "unknown problem");
}

int ytree_parse(struct yarena *a, struct ydiag *d, const char *name,
		const char *buf, size_t len, struct ystream *out)
{
	struct ybuild b = { .a = a, .d = d, .name = name };
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;

	if (len > YTREE_MAX_INPUT) {
		ydiag_report(d, name, 1, "file too large (%zu bytes, limit %u)",
			     len, YTREE_MAX_INPUT);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser)) {
		d->oom = true;
		ydiag_report(d, name, 1, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !b.err) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ybuild_syntax_error(&b, &parser, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b.root = NULL;
			b.doc_line = (unsigned int)ev.start_mark.line + 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			ybuild_end_doc(&b);
			break;
		case YAML_SCALAR_EVENT:
			ybuild_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ybuild_open(&b, &ev, YNODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			ybuild_open(&b, &ev, YNODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ybuild_close(&b);
			break;
		case YAML_ALIAS_EVENT:
			ybuild_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth) {
		struct yframe *f = &b.stack[--b.depth];

		free(f->kids);
		free(f->anchor);
	}
	ybuild_clear_anchors(&b);
	free(b.anchors);
	if (!b.err) {
		out->docs = yarena_array(a, b.ndocs, sizeof(*out->docs));
		if (!out->docs) {
			ybuild_fail(&b, -ENOMEM, 0, "-");
		} else {
			if (b.ndocs)
				memcpy(out->docs, b.docs,
				       b.ndocs * sizeof(*out->docs));
			out->ndocs = b.ndocs;
		}
	}
	free(b.docs);
	return b.err;
}

int ytree_read_file(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int fd, err;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto err_close;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > YTREE_MAX_INPUT) {
				err = -EFBIG;
				goto err_free;
			}
			if (vec_reserve((void **)&buf, &cap,
					cap ? cap * 2 : 65536, 1)) {
				err = -ENOMEM;
				goto err_free;
			}
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto err_free;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > YTREE_MAX_INPUT) {
		err = -EFBIG;
		goto err_free;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;

err_free:
	free(buf);
err_close:
	close(fd);
	return err;
}

/* --- lookups ---------------------------------------------------------- */

bool ynode_is_null(const struct ynode *n)
{
	if (!n)
		return true;
	if (n->kind != YNODE_SCALAR || !n->plain)
		return false;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const struct ypair *ymap_find_pair(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->pairs[i].key->str, key))
			return &map->pairs[i];
	return NULL;
}

const struct ynode *ymap_find(const struct ynode *map, const char *key)
{
	const struct ypair *p = ymap_find_pair(map, key);

	if (!p || ynode_is_null(p->value))
		return NULL;
	return p->value;
}

const char *ynode_str(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR ? n->str : NULL;
}

const char *ykvs_get(const struct ykvs *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->kv[i].key, key))
			return m->kv[i].value;
	return NULL;
}

bool ystrv_has(const struct ystrv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

/* --- decoder ---------------------------------------------------------- */

void ydec_init(struct ydec *d, struct ydiag *diag, struct yarena *arena,
	       const char *file)
{
	memset(d, 0, sizeof(*d));
	d->diag = diag;
	d->arena = arena;
	d->file = file;
}

void ydec_doc_begin(struct ydec *d)
{
	d->doc_errors = d->diag->errors;
	d->pathlen = 0;
	d->path[0] = '\0';
}

bool ydec_doc_ok(const struct ydec *d)
{
	return d->diag->errors == d->doc_errors && !d->diag->oom;
}

static size_t ydec_append(struct ydec *d, const char *text)
{
	size_t mark = d->pathlen;
	int n;

	n = snprintf(d->path + d->pathlen, sizeof(d->path) - d->pathlen, "%s",
		     text);
	if (n < 0 || (size_t)n >= sizeof(d->path) - d->pathlen)
		d->pathlen = sizeof(d->path) - 1;
	else
		d->pathlen += (size_t)n;
	return mark;
}

size_t ydec_push(struct ydec *d, const char *key)
{
	size_t mark = d->pathlen;

	if (d->pathlen)
		ydec_append(d, ".");
	ydec_append(d, key);
	return mark;
}

size_t ydec_push_index(struct ydec *d, size_t i)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	return ydec_append(d, buf);
}

void ydec_pop(struct ydec *d, size_t mark)
{
	d->pathlen = mark;
	d->path[mark] = '\0';
}

static void ydec_verror(struct ydec *d, const struct ynode *at,
			const char *fmt, va_list ap)
{
	unsigned int line = at ? at->line : 0;
	char msg[384];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (d->pathlen)
		ydiag_report(d->diag, d->file, line, "%s: %s", d->path, msg);
	else
		ydiag_report(d->diag, d->file, line, "%s", msg);
}

void ydec_error(struct ydec *d, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ydec_verror(d, at, fmt, ap);
	va_end(ap);
}

void ydec_error_key(struct ydec *d, const char *key, const struct ynode *at,
		    const char *fmt, ...)
{
	size_t mark = ydec_push(d, key);
	va_list ap;

	va_start(ap, fmt);
	ydec_verror(d, at, fmt, ap);
	va_end(ap);
	ydec_pop(d, mark);
}

void ydec_oom(struct ydec *d)
{
	if (d->diag->oom)
		return;
	d->diag->oom = true;
	ydiag_report(d->diag, d->file, 0, "out of memory");
}

void *ydec_alloc(struct ydec *d, size_t size)
{
	void *p = yarena_alloc(d->arena, size);

	if (!p)
		ydec_oom(d);
	return p;
}

void *ydec_array(struct ydec *d, size_t n, size_t size)
{
	void *p = yarena_array(d->arena, n, size);

	if (!p)
		ydec_oom(d);
	return p;
}

static const char *kind_name(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	if (ynode_is_null(n))
		return "null";
	return n->plain ? "a plain scalar" : "a quoted string";
}

bool ydec_as_str(struct ydec *d, const struct ynode *n, const char **out)
{
	if (n->kind != YNODE_SCALAR) {
		ydec_error(d, n, "expected a string, got %s", kind_name(n));
		return false;
	}
	if (strlen(n->str) != n->len) {
		ydec_error(d, n, "string contains a NUL character");
		return false;
	}
	*out = n->str;
	return true;
}

/* Decimal integer as YAML 1.2 (core schema) writes it; no leading zero. */
static bool parse_int(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	const char *p = s;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!*p || (p[0] == '0' && p[1]))
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

bool ydec_as_int(struct ydec *d, const struct ynode *n, int64_t min,
		 int64_t max, int64_t *out)
{
	int64_t v;

	if (n->kind != YNODE_SCALAR || !n->plain || ynode_is_null(n)) {
		if (n->kind == YNODE_SCALAR && !ynode_is_null(n))
			ydec_error(d, n, "expected an integer, got %s \"%.64s\"",
				   kind_name(n), n->str);
		else
			ydec_error(d, n, "expected an integer, got %s",
				   kind_name(n));
		return false;
	}
	if (!parse_int(n->str, &v)) {
		ydec_error(d, n, "expected an integer, got \"%.64s\"", n->str);
		return false;
	}
	if (v < min && min == 0) {
		ydec_error(d, n, "must not be negative, got %lld", (long long)v);
		return false;
	}
	if (v < min || v > max) {
		ydec_error(d, n, "%lld is outside %lld..%lld", (long long)v,
			   (long long)min, (long long)max);
		return false;
	}
	*out = v;
	return true;
}

bool ydec_as_bool(struct ydec *d, const struct ynode *n, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	if (n->kind == YNODE_SCALAR && n->plain) {
		for (size_t i = 0; i < 3; i++) {
			if (!strcmp(n->str, yes[i])) {
				*out = true;
				return true;
			}
			if (!strcmp(n->str, no[i])) {
				*out = false;
				return true;
			}
		}
	}
	if (n->kind == YNODE_SCALAR)
		ydec_error(d, n, "expected true or false, got \"%.64s\"", n->str);
	else
		ydec_error(d, n, "expected true or false, got %s", kind_name(n));
	return false;
}

bool ydec_as_double(struct ydec *d, const struct ynode *n, double min,
		    double max, double *out)
{
	char *end;
	double v;

	if (n->kind != YNODE_SCALAR || !n->plain || ynode_is_null(n)) {
		ydec_error(d, n, "expected a number, got %s", kind_name(n));
		return false;
	}
	errno = 0;
	v = strtod(n->str, &end);
	if (end == n->str || *end || errno || !isfinite(v) ||
	    strpbrk(n->str, "xXnN")) {
		ydec_error(d, n, "expected a number, got \"%.64s\"", n->str);
		return false;
	}
	if (v < min || v > max) {
		ydec_error(d, n, "%g is outside %g..%g", v, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* "1h30m", "1.5s", "250ms", "0": as Go's time.ParseDuration, no sign. */
static bool parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 },
		{ "m", 60LL * 1000000000 }, { "h", 3600LL * 1000000000 },
	};
	double total = 0;
	const char *p = s;

	if (!strcmp(s, "0")) {
		*out = 0;
		return true;
	}
	if (!*p)
		return false;
	while (*p) {
		const char *start = p;
		double v = 0, scale = 1;
		bool digits = false;
		size_t best = 0, bestlen = 0;

		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			v = v * 10 + (*p - '0');
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
				scale /= 10;
				v += (*p - '0') * scale;
			}
		}
		if (!digits || p == start)
			return false;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(p, units[i].unit, l) && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (!bestlen)
			return false;
		p += bestlen;
		total += v * (double)units[best].ns;
		if (total > (double)INT64_MAX / 2)
			return false;
	}
	*out = (int64_t)total;
	return true;
}

bool ydec_as_duration(struct ydec *d, const struct ynode *n, int64_t *out)
{
	const char *s;

	if (!ydec_as_str(d, n, &s))
		return false;
	if (*s == '-') {
		ydec_error(d, n, "duration must not be negative, got \"%.64s\"", s);
		return false;
	}
	if (!parse_duration(s, out)) {
		ydec_error(d, n, "expected a duration like \"1.5s\" or \"100ms\", got \"%.64s\"",
			   s);
		return false;
	}
	return true;
}

bool ydec_as_enum(struct ydec *d, const struct ynode *n,
		  const char *const *names, bool nocase, int *out)
{
	char list[256] = "";
	size_t used = 0;
	const char *s;

	if (!ydec_as_str(d, n, &s))
		return false;
	for (int i = 0; names[i]; i++) {
		if (nocase ? !strcasecmp(s, names[i]) : !strcmp(s, names[i])) {
			*out = i;
			return true;
		}
	}
	for (int i = 0; names[i] && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	ydec_error(d, n, "unknown value \"%.64s\" (expected one of %s)", s, list);
	return false;
}

bool ydec_required(struct ydec *d, const struct ynode *map, const char *key)
{
	if (ymap_find(map, key))
		return true;
	ydec_error_key(d, key, map, "required");
	return false;
}

/* Field reader boilerplate: find, push the key, read, pop. */
#define YDEC_FIELD(d, map, key, call)                                   \
	({                                                              \
		const struct ynode *___n = ymap_find((map), (key));     \
		bool ___ok = false;                                     \
		if (___n) {                                             \
			size_t ___m = ydec_push((d), (key));            \
			___ok = call;                                   \
			ydec_pop((d), ___m);                            \
		}                                                       \
		___ok;                                                  \
	})

bool ydec_str(struct ydec *d, const struct ynode *map, const char *key,
	      const char **out)
{
	return YDEC_FIELD(d, map, key, ydec_as_str(d, ___n, out));
}

bool ydec_int(struct ydec *d, const struct ynode *map, const char *key,
	      int64_t min, int64_t max, int64_t *out)
{
	return YDEC_FIELD(d, map, key, ydec_as_int(d, ___n, min, max, out));
}

bool ydec_bool(struct ydec *d, const struct ynode *map, const char *key,
	       bool *out)
{
	return YDEC_FIELD(d, map, key, ydec_as_bool(d, ___n, out));
}

bool ydec_double(struct ydec *d, const struct ynode *map, const char *key,
		 double min, double max, double *out)
{
	return YDEC_FIELD(d, map, key,
			  ydec_as_double(d, ___n, min, max, out));
}

bool ydec_duration(struct ydec *d, const struct ynode *map, const char *key,
		   int64_t *out)
{
	return YDEC_FIELD(d, map, key, ydec_as_duration(d, ___n, out));
}

bool ydec_enum(struct ydec *d, const struct ynode *map, const char *key,
	       const char *const *names, bool nocase, int *out)
{
	return YDEC_FIELD(d, map, key,
			  ydec_as_enum(d, ___n, names, nocase, out));
}

static const struct ynode *ydec_child(struct ydec *d, const struct ynode *map,
				      const char *key, enum ynode_kind kind)
{
	const struct ynode *n = ymap_find(map, key);

	if (!n || n->kind == kind)
		return n;
	ydec_error_key(d, key, n, "expected %s, got %s",
		       kind == YNODE_MAP ? "a mapping" : "a list", kind_name(n));
	return NULL;
}

const struct ynode *ydec_map(struct ydec *d, const struct ynode *map,
			     const char *key)
{
	return ydec_child(d, map, key, YNODE_MAP);
}

const struct ynode *ydec_seq(struct ydec *d, const struct ynode *map,
			     const char *key)
{
	return ydec_child(d, map, key, YNODE_SEQ);
}

const struct ynode *ydec_seq_max(struct ydec *d, const struct ynode *map,
				 const char *key, size_t max)
{
	const struct ynode *seq = ydec_seq(d, map, key);

	if (!seq || seq->n <= max)
		return seq;
	ydec_error_key(d, key, seq, "too many entries (%zu, at most %zu)",
		       seq->n, max);
	return NULL;
}

const struct ynode *ydec_enter_map(struct ydec *d, const struct ynode *map,
				   const char *key, size_t *mark)
{
	const struct ynode *m = ydec_map(d, map, key);

	if (m)
		*mark = ydec_push(d, key);
	return m;
}

void *ydec_obj(struct ydec *d, const struct ynode *map, const char *key,
	       size_t size, ydec_read_fn fn, void *ctx)
{
	const struct ynode *m = ydec_map(d, map, key);
	void *obj;
	size_t mark;

	if (!m || !(obj = ydec_alloc(d, size)))
		return NULL;
	mark = ydec_push(d, key);
	if (!fn(d, m, obj, ctx))
		obj = NULL;
	ydec_pop(d, mark);
	return obj;
}

const struct ynode *ydec_maps(struct ydec *d, const struct ynode *seq,
			      const char *key, size_t size, void **arr,
			      size_t *n, ydec_read_fn fn, void *ctx)
{
	size_t mark;

	if (!seq)
		return NULL;
	if (size) {
		*arr = ydec_array(d, seq->n, size);
		if (!*arr)
			return NULL;
		*n = 0;
	}
	mark = ydec_push(d, key);
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->items[i];
		char *elem = size ? (char *)*arr + *n * size : NULL;
		size_t m = ydec_push_index(d, i);

		if (it->kind != YNODE_MAP) {
			ydec_error(d, it, "expected a mapping");
		} else if (fn(d, it, elem, ctx)) {
			if (elem)
				(*n)++;
		} else if (elem) {
			memset(elem, 0, size);
		}
		ydec_pop(d, m);
	}
	ydec_pop(d, mark);
	return seq;
}

bool ydec_strv(struct ydec *d, const struct ynode *map, const char *key,
	       bool allow_empty, struct ystrv *out)
{
	const struct ynode *seq = ydec_seq(d, map, key);
	size_t mark, n = 0;
	bool ok = true;
	const char **v;

	if (!seq)
		return false;
	v = ydec_array(d, seq->n, sizeof(*v));
	if (!v)
		return false;
	mark = ydec_push(d, key);
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->items[i];
		size_t m2 = ydec_push_index(d, i);
		const char *s;

		if (ynode_is_null(it) && !allow_empty) {
			ydec_error(d, it, "must not be empty");
			ok = false;
		} else if (!ydec_as_str(d, it, &s)) {
			ok = false;
		} else if (!*s && !allow_empty) {
			ydec_error(d, it, "must not be empty");
			ok = false;
		} else {
			v[n++] = s;
		}
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
	if (!ok)
		return false;
	out->n = n;
	out->v = v;
	return true;
}

bool ydec_kvs(struct ydec *d, const struct ynode *map, const char *key,
	      struct ykvs *out)
{
	const struct ynode *m = ydec_map(d, map, key);
	size_t mark;
	bool ok = true;
	struct ykv *kv;

	if (!m)
		return false;
	kv = ydec_array(d, m->n, sizeof(*kv));
	if (!kv)
		return false;
	mark = ydec_push(d, key);
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *v = m->pairs[i].value;
		size_t m2 = ydec_push(d, m->pairs[i].key->str);

		kv[i].key = m->pairs[i].key->str;
		if (ynode_is_null(v))
			kv[i].value = "";
		else if (!ydec_as_str(d, v, &kv[i].value))
			ok = false;
		ydec_pop(d, m2);
	}
	ydec_pop(d, mark);
	if (!ok)
		return false;
	out->n = m->n;
	out->kv = kv;
	return true;
}

void ydec_check_keys(struct ydec *d, const struct ynode *map,
		     const char *const *known)
{
	if (!map || map->kind != YNODE_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->pairs[i].key;
		bool found = false;

		for (size_t j = 0; known[j] && !found; j++)
			found = !strcmp(k->str, known[j]);
		if (!found)
			ydec_error(d, k, "unknown field \"%.64s\"", k->str);
	}
}
