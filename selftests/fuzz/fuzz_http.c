// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the HTTP request head parser.  The input is copied
 * to a buffer of exactly its size (ASan catches a read one byte past), and
 * every span of a parsed head must lie inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

static void check_span(struct http_span s, const char *buf, size_t len)
{
	if (s.len && (s.p < buf || s.p + s.len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char *buf = malloc(size ?: 1);
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = http_parse_request(buf, size, &req);
	if (rc >= 0) {
		if ((size_t)rc > size)
			abort();
		check_span(req.method, buf, (size_t)rc);
		check_span(req.target, buf, (size_t)rc);
		check_span(req.path, buf, (size_t)rc);
		for (size_t i = 0; i < req.nheaders; i++) {
			check_span(req.headers[i].name, buf, (size_t)rc);
			check_span(req.headers[i].value, buf, (size_t)rc);
		}
	} else if (rc != HTTP_PARSE_ERROR && rc != HTTP_PARSE_PARTIAL) {
		abort();
	}
	free(buf);
	return 0;
}
