/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * YAML as a tree: libyaml's event stream turned into documents of nodes
 * that each keep their 1-based source line, plus checked accessors that
 * report "file:line: path: what is wrong" for configuration readers.
 *
 * Semantics, chosen to match how Kubernetes reads YAML (YAML -> JSON):
 *   - a plain null scalar ("", "~", "null") means "not set": ymap_find()
 *     treats `key: null` exactly like an absent key;
 *   - numbers and booleans must be written plain (unquoted); a quoted
 *     "80" is a string and "expected an integer" is reported;
 *   - anchors and aliases are resolved (an alias shares its anchor's node)
 *     and "<<" merge keys are applied; a document may not grow past
 *     YTREE_MAX_NODES nodes after alias expansion ("billion laughs");
 *   - a mapping key may appear once; keys must be scalars.
 * Every node, string and array lives in a struct yarena that the caller
 * owns; nothing is freed separately.
 */
#ifndef WEFT_YAML_TREE_H
#define WEFT_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YTREE_MAX_DEPTH 64            /* nested sequences and mappings */
#define YTREE_MAX_INPUT (64u << 20)   /* bytes per file */
#define YTREE_MAX_NODES (4u << 20)    /* per stream, after alias expansion */
#define YDIAG_MAX_REPORTED 20         /* errors printed per load */

/*
 * Allocation arena: every allocation is its own malloc() linked into a
 * list (so ASan still sees each object's bounds), released at once.
 */
struct yarena {
	void *head;
};

void *yarena_alloc(struct yarena *a, size_t size);   /* zeroed; NULL: ENOMEM */
void *yarena_array(struct yarena *a, size_t n, size_t size); /* overflow-checked */
char *yarena_strndup(struct yarena *a, const char *s, size_t n);
char *yarena_printf(struct yarena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void yarena_release(struct yarena *a); /* accepts an empty arena */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode;

struct ypair {
	struct ynode *key;   /* always a scalar */
	struct ynode *value;
};

struct ynode {
	enum ynode_kind kind;
	unsigned int line;   /* 1-based */
	bool plain;          /* scalar written plain and untagged: may be a
			      * number, a boolean or null */
	const char *str;     /* scalar text, NUL-terminated */
	size_t len;          /* bytes in str (str may hold a "\0" escape) */
	size_t n;            /* sequence items or mapping pairs */
	struct ynode **items;  /* YNODE_SEQ */
	struct ypair *pairs;   /* YNODE_MAP, in source order */
	size_t weight;       /* nodes in this subtree, aliases expanded */
};

struct ydoc {
	struct ynode *root;  /* a plain empty scalar for an empty document */
	unsigned int line;   /* line of the first node */
};

struct ystream {
	size_t ndocs;
	struct ydoc *docs;
};

/*
 * Diagnostics shared by every reader of one load: the first
 * YDIAG_MAX_REPORTED errors are printed with pr_warn(), all are counted.
 */
struct ydiag {
	unsigned int errors;
	bool oom;            /* an allocation failed: the load is -ENOMEM */
};

void ydiag_report(struct ydiag *d, const char *file, unsigned int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print "N more errors not shown" when the cap was hit. */
void ydiag_flush(const struct ydiag *d);

/*
 * Parse buf (len bytes, need not be NUL-terminated) into *out, allocating
 * from a.  Syntax errors, alias and size problems are reported through d
 * as "name:line: ..." and return -EINVAL; -ENOMEM when out of memory.
 */
int ytree_parse(struct yarena *a, struct ydiag *d, const char *name,
		const char *buf, size_t len, struct ystream *out);

/*
 * Read a whole file (at most YTREE_MAX_INPUT bytes) into a malloc'd,
 * NUL-terminated buffer.  Returns 0 or a negative errno (-EFBIG when too
 * large); the caller frees *buf.
 */
int ytree_read_file(const char *path, char **buf, size_t *len);

bool ynode_is_null(const struct ynode *n);
/* Value for key in a mapping; NULL when map is not a mapping, the key is
 * absent or its value is null. */
const struct ynode *ymap_find(const struct ynode *map, const char *key);
/* Same, but returns the pair (to point diagnostics at the key). */
const struct ypair *ymap_find_pair(const struct ynode *map, const char *key);
/* Plain-scalar value as text when n is a scalar, else NULL (no report). */
const char *ynode_str(const struct ynode *n);

/* A list of strings and a string-to-string map, as read from YAML. */
struct ystrv {
	size_t n;
	const char **v;
};

struct ykv {
	const char *key;
	const char *value;
};

struct ykvs {
	size_t n;
	struct ykv *kv;      /* source order */
};

const char *ykvs_get(const struct ykvs *m, const char *key);
bool ystrv_has(const struct ystrv *v, const char *s);

/*
 * A decoder: walks one document, keeps the path of the field being read
 * ("spec.ports[0].port") and reports problems as
 * "file:line: path: message".  Accessors never fail hard: on a problem
 * they report, count it in diag and return false / NULL, so a reader can
 * carry on and find every problem of a document in one pass.
 */
#define YDEC_PATH_MAX 256

struct ydec {
	struct ydiag *diag;
	struct yarena *arena;
	const char *file;
	unsigned int doc_errors;   /* diag->errors when the document began */
	size_t pathlen;
	char path[YDEC_PATH_MAX];
};

void ydec_init(struct ydec *d, struct ydiag *diag, struct yarena *arena,
	       const char *file);
/* Start a document (resets the path); ydec_doc_ok(): no problem since. */
void ydec_doc_begin(struct ydec *d);
bool ydec_doc_ok(const struct ydec *d);
/* Append ".key" / "[i]" to the path; return the length to restore. */
size_t ydec_push(struct ydec *d, const char *key);
size_t ydec_push_index(struct ydec *d, size_t i);
void ydec_pop(struct ydec *d, size_t mark);

/* Report at node's line (fallback: line) with the current path. */
void ydec_error(struct ydec *d, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with ".key" appended to the path for this report only. */
void ydec_error_key(struct ydec *d, const char *key, const struct ynode *at,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Note an allocation failure (counted as an error, reported once). */
void ydec_oom(struct ydec *d);
/* Allocations through the arena that note ENOMEM in the diag. */
void *ydec_alloc(struct ydec *d, size_t size);
void *ydec_array(struct ydec *d, size_t n, size_t size);

/*
 * Scalar readers for a node already found, reporting at the current
 * path.  They return true and set *out only when the value is good.
 */
bool ydec_as_str(struct ydec *d, const struct ynode *n, const char **out);
bool ydec_as_int(struct ydec *d, const struct ynode *n, int64_t min,
		 int64_t max, int64_t *out);
bool ydec_as_bool(struct ydec *d, const struct ynode *n, bool *out);
bool ydec_as_double(struct ydec *d, const struct ynode *n, double min,
		    double max, double *out);
/* Go-style duration ("1h30m", "0.5s", "250ms"); nanoseconds, >= 0. */
bool ydec_as_duration(struct ydec *d, const struct ynode *n, int64_t *out);
/* Index of the value in names (NULL-terminated); unknown values are
 * reported with the list of accepted ones.  nocase: ASCII case-folded. */
bool ydec_as_enum(struct ydec *d, const struct ynode *n,
		  const char *const *names, bool nocase, int *out);

/*
 * Field readers: look key up in map (which must be a mapping), report at
 * "path.key".  An absent or null field returns false without a report;
 * use ydec_required() first for mandatory ones.
 */
bool ydec_required(struct ydec *d, const struct ynode *map, const char *key);
bool ydec_str(struct ydec *d, const struct ynode *map, const char *key,
	      const char **out);
bool ydec_int(struct ydec *d, const struct ynode *map, const char *key,
	      int64_t min, int64_t max, int64_t *out);
bool ydec_bool(struct ydec *d, const struct ynode *map, const char *key,
	       bool *out);
bool ydec_double(struct ydec *d, const struct ynode *map, const char *key,
		 double min, double max, double *out);
bool ydec_duration(struct ydec *d, const struct ynode *map, const char *key,
		   int64_t *out);
bool ydec_enum(struct ydec *d, const struct ynode *map, const char *key,
	       const char *const *names, bool nocase, int *out);
/* Child of the given kind, NULL when absent or of another kind
 * ("expected a mapping" / "expected a list" reported). */
const struct ynode *ydec_map(struct ydec *d, const struct ynode *map,
			     const char *key);
const struct ynode *ydec_seq(struct ydec *d, const struct ynode *map,
			     const char *key);
/* ydec_seq() that also reports a list longer than max entries (for
 * lists checked pairwise, so their cost stays bounded). */
const struct ynode *ydec_seq_max(struct ydec *d, const struct ynode *map,
				 const char *key, size_t max);
/* ydec_map() with ".key" pushed when found; pop with ydec_pop(d, *mark). */
const struct ynode *ydec_enter_map(struct ydec *d, const struct ynode *map,
				   const char *key, size_t *mark);
/*
 * Reads the mapping m into elem, a zeroed object, with m's place on the
 * path; ctx is the caller's.  Returns false to drop the object.
 */
typedef bool (*ydec_read_fn)(struct ydec *d, const struct ynode *m,
			     void *elem, void *ctx);
/*
 * An optional sub-object: fn reads the mapping under key into a new arena
 * object of size bytes, which is returned; NULL when the field is absent,
 * not a mapping (reported), out of memory or dropped.
 */
void *ydec_obj(struct ydec *d, const struct ynode *map, const char *key,
	       size_t size, ydec_read_fn fn, void *ctx);
/*
 * A list of mappings: fn reads item i of seq, the list under key, with
 * "key[i]" on the path (seq NULL: nothing to do).  Items that are not
 * mappings are reported ("expected a mapping") and skipped.  With size,
 * *arr is first set to an arena array of seq->n elements, *n counts the
 * items kept and a dropped item's slot is cleared and reused; both stay
 * current while fn runs, so fn can check an item against the earlier ones
 * (through ctx).  Without size, fn gets elem NULL and arr and n are
 * unused.  Returns seq, or NULL when seq was NULL or out of memory.
 */
const struct ynode *ydec_maps(struct ydec *d, const struct ynode *seq,
			      const char *key, size_t size, void **arr,
			      size_t *n, ydec_read_fn fn, void *ctx);
/* ydec_maps() into the array arr counted by n (both lvalues); YDEC_LIST
 * finds the list with ydec_seq() first.  YDEC_OBJ sets the pointer obj. */
#define YDEC_MAPS(d, seq, key, arr, n, fn, ctx)                             \
	ydec_maps((d), (seq), (key), sizeof(*(arr)), (void **)&(arr), &(n), \
		  (fn), (ctx))
#define YDEC_LIST(d, map, key, arr, n, fn, ctx) \
	YDEC_MAPS((d), ydec_seq((d), (map), (key)), (key), arr, n, fn, ctx)
#define YDEC_OBJ(d, map, key, obj, fn, ctx) \
	((obj) = ydec_obj((d), (map), (key), sizeof(*(obj)), (fn), (ctx)))
/* List of scalars as strings; empty strings rejected when !allow_empty. */
bool ydec_strv(struct ydec *d, const struct ynode *map, const char *key,
	       bool allow_empty, struct ystrv *out);
/* Mapping of scalars to scalars (a null value reads as ""). */
bool ydec_kvs(struct ydec *d, const struct ynode *map, const char *key,
	      struct ykvs *out);
/* Report every key of map not in known (NULL-terminated). */
void ydec_check_keys(struct ydec *d, const struct ynode *map,
		     const char *const *known);

#endif /* WEFT_YAML_TREE_H */
