// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The streaming JSON writer: nesting, separators, escaping, misuse. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../test.h"

#include "json_writer.h"

struct json_buf {
	char *data;
	size_t len;
	FILE *f;
	struct json_writer w;
};

static bool jb_open(struct json_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->data, &b->len);
	if (!ASSERT_NOT_NULL(b->f, "open_memstream"))
		return false;
	json_init(&b->w, b->f);
	return true;
}

/* Finish the writer; returns its result, the text stays in b->data. */
static int jb_close(struct json_buf *b)
{
	int err = json_finish(&b->w);

	fclose(b->f);
	b->f = NULL;
	return err;
}

static void jb_free(struct json_buf *b)
{
	if (b->f)
		fclose(b->f);
	free(b->data);
}

WEFT_TEST(json_writer_nesting)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_object_begin(&b.w);
	json_kv_string(&b.w, "name", "reviews");
	json_key(&b.w, "ports");
	json_array_begin(&b.w);
	json_u64(&b.w, 9080);
	json_u64(&b.w, 9443);
	json_array_end(&b.w);
	json_key(&b.w, "backends");
	json_array_begin(&b.w);
	json_object_begin(&b.w);
	json_kv_u64(&b.w, "id", 1);
	json_kv_bool(&b.w, "ready", true);
	json_object_end(&b.w);
	json_object_begin(&b.w);
	json_kv_null(&b.w, "id");
	json_kv_bool(&b.w, "ready", false);
	json_object_end(&b.w);
	json_array_end(&b.w);
	json_key(&b.w, "empty_obj");
	json_object_begin(&b.w);
	json_object_end(&b.w);
	json_key(&b.w, "empty_arr");
	json_array_begin(&b.w);
	json_array_end(&b.w);
	json_object_end(&b.w);
	if (ASSERT_OK(jb_close(&b), "finish"))
		ASSERT_STREQ(b.data,
			     "{\"name\":\"reviews\",\"ports\":[9080,9443],"
			     "\"backends\":[{\"id\":1,\"ready\":true},"
			     "{\"id\":null,\"ready\":false}],"
			     "\"empty_obj\":{},\"empty_arr\":[]}\n",
			     "document");
	jb_free(&b);
}

WEFT_TEST(json_writer_numbers)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_array_begin(&b.w);
	json_u64(&b.w, 0);
	json_u64(&b.w, UINT64_MAX);
	json_i64(&b.w, INT64_MIN);
	json_i64(&b.w, -1);
	json_array_end(&b.w);
	/* Top-level scalars each end their own line. */
	json_u64(&b.w, 7);
	json_string(&b.w, NULL);
	if (ASSERT_OK(jb_close(&b), "finish"))
		ASSERT_STREQ(b.data,
			     "[0,18446744073709551615,-9223372036854775808,-1]\n"
			     "7\nnull\n",
			     "numbers");
	jb_free(&b);
}

WEFT_TEST(json_writer_doubles)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_object_begin(&b.w);
	json_kv_double(&b.w, "share", 0.8);
	json_kv_double(&b.w, "third", 1.0 / 3);
	json_kv_double(&b.w, "one", 1.0);
	json_kv_double(&b.w, "nan", NAN);
	json_object_end(&b.w);
	if (ASSERT_OK(jb_close(&b), "finish"))
		ASSERT_STREQ(b.data,
			     "{\"share\":0.8,\"third\":0.333333333333333,"
			     "\"one\":1,\"nan\":null}\n",
			     "doubles");
	jb_free(&b);
}

WEFT_TEST(json_writer_escaping)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_array_begin(&b.w);
	json_string(&b.w, "q\"b\\s/");
	json_string(&b.w, "\b\f\n\r\t\x01\x1f\x7f");
	json_string(&b.w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Lone continuation, truncated sequence, overlong '/', surrogate,
	 * above U+10FFFF, 0xff: each bad byte becomes U+FFFD. */
	json_string(&b.w, "a\x80z");
	json_string(&b.w, "\xe2\x82");
	json_string(&b.w, "\xc0\xaf");
	json_string(&b.w, "\xed\xa0\x80");
	json_string(&b.w, "\xf4\x90\x80\x80");
	json_string(&b.w, "\xff");
	json_array_end(&b.w);
	if (ASSERT_OK(jb_close(&b), "finish"))
		ASSERT_STREQ(b.data,
			     "[\"q\\\"b\\\\s/\","
			     "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\","
			     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
			     "\"a\\ufffdz\","
			     "\"\\ufffd\\ufffd\","
			     "\"\\ufffd\\ufffd\","
			     "\"\\ufffd\\ufffd\\ufffd\","
			     "\"\\ufffd\\ufffd\\ufffd\\ufffd\","
			     "\"\\ufffd\"]\n",
			     "escaped");
	jb_free(&b);
}

WEFT_TEST(json_writer_string_n)
{
	char field[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_object_begin(&b.w);
	json_key(&b.w, "full");
	json_string_n(&b.w, field, sizeof(field)); /* no NUL in the field */
	json_key(&b.w, "short");
	json_string_n(&b.w, "ab\0cd", 5);
	json_key(&b.w, "cut utf8");
	json_string_n(&b.w, "x\xc3\xa9", 2); /* cut inside a sequence */
	json_key(&b.w, "k\"ey");
	json_string(&b.w, "");
	json_object_end(&b.w);
	if (ASSERT_OK(jb_close(&b), "finish"))
		ASSERT_STREQ(b.data,
			     "{\"full\":\"abcdefgh\",\"short\":\"ab\","
			     "\"cut utf8\":\"x\\ufffd\",\"k\\\"ey\":\"\"}\n",
			     "bounded");
	jb_free(&b);
}

static int misuse(int what)
{
	struct json_buf b;
	int err;

	if (!jb_open(&b))
		return 0;
	switch (what) {
	case 0: /* key inside an array */
		json_array_begin(&b.w);
		json_key(&b.w, "k");
		json_array_end(&b.w);
		break;
	case 1: /* value without a key inside an object */
		json_object_begin(&b.w);
		json_u64(&b.w, 1);
		json_object_end(&b.w);
		break;
	case 2: /* mismatched end */
		json_object_begin(&b.w);
		json_array_end(&b.w);
		break;
	case 3: /* end with nothing open */
		json_object_end(&b.w);
		break;
	case 4: /* container left open */
		json_array_begin(&b.w);
		break;
	case 5: /* key waiting for its value */
		json_object_begin(&b.w);
		json_key(&b.w, "k");
		break;
	case 6: /* too deep */
		for (int i = 0; i <= JSON_MAX_DEPTH; i++)
			json_array_begin(&b.w);
		break;
	case 7: /* two keys in a row */
		json_object_begin(&b.w);
		json_key(&b.w, "a");
		json_key(&b.w, "b");
		break;
	}
	err = jb_close(&b);
	jb_free(&b);
	return err;
}

WEFT_TEST(json_writer_misuse)
{
	ASSERT_EQ(misuse(0), -EINVAL, "key in array");
	ASSERT_EQ(misuse(1), -EINVAL, "value without key");
	ASSERT_EQ(misuse(2), -EINVAL, "mismatched end");
	ASSERT_EQ(misuse(3), -EINVAL, "end at top level");
	ASSERT_EQ(misuse(4), -EINVAL, "left open");
	ASSERT_EQ(misuse(5), -EINVAL, "dangling key");
	ASSERT_EQ(misuse(6), -E2BIG, "too deep");
	ASSERT_EQ(misuse(7), -EINVAL, "two keys");
}

WEFT_TEST(json_writer_max_depth)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&b.w);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_end(&b.w);
	if (ASSERT_OK(jb_close(&b), "finish at the limit"))
		ASSERT_EQ(strlen(b.data), 2 * JSON_MAX_DEPTH + 1, "length");
	jb_free(&b);
}

/* After the first error nothing more is written. */
WEFT_TEST(json_writer_sticky_error)
{
	struct json_buf b;

	if (!jb_open(&b))
		return;
	json_array_begin(&b.w);
	json_key(&b.w, "bad");
	json_u64(&b.w, 1);
	json_array_end(&b.w);
	ASSERT_EQ(jb_close(&b), -EINVAL, "first error kept");
	ASSERT_STREQ(b.data, "[", "nothing after the error");
	jb_free(&b);
}
