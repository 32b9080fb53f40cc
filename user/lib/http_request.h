/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * An HTTP/1.x request head parser: zero-copy (the result points into the
 * caller's buffer) and incremental (call again with more bytes).  Used by
 * weftd's health and metrics endpoint; written to be fuzzed.
 */
#ifndef WEFT_HTTP_REQUEST_H
#define WEFT_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_MAX_HEADERS 64

struct http_span {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_span name;
	struct http_span value; /* leading and trailing blanks removed */
};

struct http_request {
	struct http_span method;
	struct http_span target;  /* request-target as sent ("/metrics?x") */
	struct http_span path;    /* target up to '?' */
	int minor_version;        /* HTTP/1.<minor> */
	size_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];
};

enum {
	HTTP_PARSE_ERROR = -1,    /* not an HTTP/1.x request head */
	HTTP_PARSE_PARTIAL = -2,  /* valid so far: need more bytes */
};

/*
 * Parse the request head in buf[0..len).  Returns the number of bytes the
 * head takes (through the blank line), HTTP_PARSE_PARTIAL when the head is
 * incomplete, HTTP_PARSE_ERROR when it is malformed (bad request line, a
 * control character, a header without a colon, more than HTTP_MAX_HEADERS
 * headers).  Lines may end in CRLF or a bare LF.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* 1 when span equals the NUL-terminated s (case-sensitive), else 0. */
int http_span_is(struct http_span span, const char *s);

#endif /* WEFT_HTTP_REQUEST_H */
