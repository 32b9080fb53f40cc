// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(struct json_writer *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void json_fail(struct json_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

/*
 * Everything a value needs before it: the separator inside an array, the
 * check that a key came first inside an object.  False when the value must
 * not be written.
 */
static bool json_value_prefix(struct json_writer *w)
{
	int top = w->depth - 1;

	if (w->err)
		return false;
	if (w->depth == 0)
		return true;
	if (w->is_object[top]) {
		if (!w->has_key) {
			json_fail(w, -EINVAL);
			return false;
		}
		w->has_key = false;
		return true;
	}
	if (w->nonempty[top])
		fputc(',', w->out);
	w->nonempty[top] = true;
	return true;
}

/* A complete top-level value ends its line. */
static void json_value_done(struct json_writer *w)
{
	if (w->depth == 0)
		fputc('\n', w->out);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes available), or
 * 0 when s does not start one: overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range is what rules out the bad forms. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void json_write_string(struct json_writer *w, const char *str,
			      size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	fputc('"', w->out);
	while (i < n && s[i]) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", w->out);
			break;
		case '\\':
			fputs("\\\\", w->out);
			break;
		case '\b':
			fputs("\\b", w->out);
			break;
		case '\f':
			fputs("\\f", w->out);
			break;
		case '\n':
			fputs("\\n", w->out);
			break;
		case '\r':
			fputs("\\r", w->out);
			break;
		case '\t':
			fputs("\\t", w->out);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(w->out, "\\u%04x", c);
				break;
			}
			len = utf8_seq_len(s + i,
					   strnlen(str + i, n - i < 4 ? n - i : 4));
			if (!len) {
				fputs("\\ufffd", w->out);
				break;
			}
			fwrite(s + i, 1, len, w->out);
			i += len;
			continue;
		}
		i++;
	}
	fputc('"', w->out);
}

static void json_container_begin(struct json_writer *w, bool object)
{
	if (!json_value_prefix(w))
		return;
	if (w->depth == JSON_MAX_DEPTH) {
		json_fail(w, -E2BIG);
		return;
	}
	w->is_object[w->depth] = object;
	w->nonempty[w->depth] = false;
	w->depth++;
	fputc(object ? '{' : '[', w->out);
}

static void json_container_end(struct json_writer *w, bool object)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->is_object[w->depth - 1] != object ||
	    w->has_key) {
		json_fail(w, -EINVAL);
		return;
	}
	w->depth--;
	fputc(object ? '}' : ']', w->out);
	json_value_done(w);
}

void json_object_begin(struct json_writer *w)
{
	json_container_begin(w, true);
}

void json_object_end(struct json_writer *w)
{
	json_container_end(w, true);
}

void json_array_begin(struct json_writer *w)
{
	json_container_begin(w, false);
}

void json_array_end(struct json_writer *w)
{
	json_container_end(w, false);
}

void json_key(struct json_writer *w, const char *key)
{
	int top = w->depth - 1;

	if (w->err)
		return;
	if (w->depth == 0 || !w->is_object[top] || w->has_key || !key) {
		json_fail(w, -EINVAL);
		return;
	}
	if (w->nonempty[top])
		fputc(',', w->out);
	w->nonempty[top] = true;
	json_write_string(w, key, SIZE_MAX);
	fputc(':', w->out);
	w->has_key = true;
}

void json_string_n(struct json_writer *w, const char *s, size_t len)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (!json_value_prefix(w))
		return;
	json_write_string(w, s, len);
	json_value_done(w);
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_n(w, s, SIZE_MAX);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	if (!json_value_prefix(w))
		return;
	fprintf(w->out, "%" PRIu64, v);
	json_value_done(w);
}

void json_double(struct json_writer *w, double v)
{
	if (!isfinite(v)) {
		json_null(w); /* JSON has no NaN or infinity */
		return;
	}
	if (!json_value_prefix(w))
		return;
	/* shortest form that reads back the same: 0.8, not 0.80000000000000004 */
	fprintf(w->out, "%.15g", v);
	json_value_done(w);
}

void json_i64(struct json_writer *w, int64_t v)
{
	if (!json_value_prefix(w))
		return;
	fprintf(w->out, "%" PRId64, v);
	json_value_done(w);
}

void json_bool(struct json_writer *w, bool v)
{
	if (!json_value_prefix(w))
		return;
	fputs(v ? "true" : "false", w->out);
	json_value_done(w);
}

void json_null(struct json_writer *w)
{
	if (!json_value_prefix(w))
		return;
	fputs("null", w->out);
	json_value_done(w);
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void json_kv_double(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v);
}

void json_kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_i64(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_kv_null(struct json_writer *w, const char *key)
{
	json_key(w, key);
	json_null(w);
}

int json_finish(struct json_writer *w)
{
	if (!w->err && (w->depth || w->has_key))
		w->err = -EINVAL;
	if (fflush(w->out))
		json_fail(w, -errno);
	else if (ferror(w->out))
		json_fail(w, -EIO);
	return w->err;
}
