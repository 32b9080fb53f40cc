// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The HTTP/1.x request head parser (user/lib/http_request.c). */
#include <string.h>

#include "../test.h"
#include "http_request.h"

static int parse(const char *text, struct http_request *req)
{
	return http_parse_request(text, strlen(text), req);
}

WEFT_TEST(http_request_complete)
{
	const char *text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n"
			   "Accept:  text/plain \r\n\r\nBODY";
	struct http_request req;

	if (!ASSERT_EQ(parse(text, &req), (int)(strstr(text, "BODY") - text),
		       "head length"))
		return;
	ASSERT_TRUE(http_span_is(req.method, "GET"), "method");
	ASSERT_TRUE(http_span_is(req.target, "/metrics?x=1"), "target");
	ASSERT_TRUE(http_span_is(req.path, "/metrics"), "path");
	ASSERT_EQ(req.minor_version, 1, "version");
	ASSERT_EQ(req.nheaders, 2, "headers");
	ASSERT_TRUE(http_span_is(req.headers[1].name, "Accept"), "name");
	ASSERT_TRUE(http_span_is(req.headers[1].value, "text/plain"),
		    "value trimmed");
}

WEFT_TEST(http_request_incremental)
{
	const char *text = "GET / HTTP/1.0\n\n";
	struct http_request req;
	size_t n = strlen(text);

	/* every prefix is "need more", the whole is the head (bare LF ok) */
	for (size_t i = 0; i < n; i++)
		if (!ASSERT_EQ(http_parse_request(text, i, &req),
			       HTTP_PARSE_PARTIAL, "prefix"))
			return;
	ASSERT_EQ(http_parse_request(text, n, &req), (int)n, "whole");
	ASSERT_EQ(req.minor_version, 0, "HTTP/1.0");
}

WEFT_TEST(http_request_malformed)
{
	static const char *const bad[] = {
		"GET\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET /  HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET /a\x01 HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
		"GET / HTTP/1.1\r\n folded\r\n\r\n",
		"GET / HTTP/1.1x\r\n\r\n",
	};
	struct http_request req;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(parse(bad[i], &req), HTTP_PARSE_ERROR, bad[i]);
}

WEFT_TEST(http_request_header_limit)
{
	char text[4096] = "GET / HTTP/1.1\r\n";
	struct http_request req;

	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		strcat(text, "X: y\r\n");
	strcat(text, "\r\n");
	ASSERT_EQ(parse(text, &req), (int)strlen(text), "at the limit");
	text[strlen(text) - 2] = '\0';
	strcat(text, "X: y\r\n\r\n");
	ASSERT_EQ(parse(text, &req), HTTP_PARSE_ERROR, "one over the limit");
}
