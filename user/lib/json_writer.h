/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small streaming JSON writer: values go straight to a FILE as they are
 * given, nothing is allocated, and nesting is tracked on a fixed stack so
 * that misuse (a key inside an array, a value without a key inside an
 * object, a mismatched end, nesting deeper than JSON_MAX_DEPTH) is caught.
 *
 * Errors are sticky: the first one is kept in w->err (a negative errno) and
 * every later call does nothing, so a caller writes a whole document and
 * checks json_finish() once.  Output is compact; a newline follows every
 * complete top-level value.
 *
 * Strings are written as valid JSON whatever the input bytes: '"', '\\'
 * and control characters are escaped, valid UTF-8 passes through, and any
 * byte that is not part of valid UTF-8 becomes U+FFFD.
 */
#ifndef WEFT_JSON_WRITER_H
#define WEFT_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	int err;      /* 0, or the first error: -EINVAL misuse, -E2BIG depth */
	int depth;    /* open containers */
	bool has_key; /* inside an object: a key waits for its value */
	/* Per open container: is it an object, has it a member yet. */
	bool is_object[JSON_MAX_DEPTH];
	bool nonempty[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *out);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);

/* The name of the next member; only directly inside an object. */
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s); /* NULL: null */
/* At most len bytes of s, stopping early at a NUL (fixed-size fields). */
void json_string_n(struct json_writer *w, const char *s, size_t len);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
void json_double(struct json_writer *w, double v); /* non-finite: null */
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* key + value in one call, for object members. */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_i64(struct json_writer *w, const char *key, int64_t v);
void json_kv_double(struct json_writer *w, const char *key, double v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
void json_kv_null(struct json_writer *w, const char *key);

/*
 * Returns 0 when a complete document was written and flushed, -EINVAL when
 * containers are still open or the writer was misused, -E2BIG for nesting
 * too deep, -EIO (or the stream's errno) when writing failed.
 */
int json_finish(struct json_writer *w);

#endif /* WEFT_JSON_WRITER_H */
