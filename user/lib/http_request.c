// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "http_request.h"

#include <string.h>

/* RFC 9110 tchar: the characters of a method or header name. */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible characters plus blank and obs-text, as field values allow. */
static int is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

/*
 * The line starting at *pos: its end (excluding CR LF) in *end and the
 * position after its terminator in *next.  PARTIAL without a LF yet.
 */
static int next_line(const char *buf, size_t len, size_t pos, size_t *end,
		     size_t *next)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);
	size_t e;

	if (!lf)
		return HTTP_PARSE_PARTIAL;
	e = (size_t)(lf - buf);
	*next = e + 1;
	if (e > pos && buf[e - 1] == '\r')
		e--;
	*end = e;
	return 0;
}

static int parse_request_line(const char *buf, size_t pos, size_t end,
			      struct http_request *req)
{
	size_t i = pos, start;

	start = i;
	while (i < end && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == start || i >= end || buf[i] != ' ')
		return HTTP_PARSE_ERROR;
	req->method = (struct http_span){ buf + start, i - start };

	start = ++i;
	while (i < end && buf[i] != ' ') {
		unsigned char c = (unsigned char)buf[i];

		if (c <= 0x20 || c == 0x7f)
			return HTTP_PARSE_ERROR;
		i++;
	}
	if (i == start || i >= end)
		return HTTP_PARSE_ERROR;
	req->target = (struct http_span){ buf + start, i - start };
	req->path = req->target;
	for (size_t k = 0; k < req->target.len; k++) {
		if (req->target.p[k] == '?') {
			req->path.len = k;
			break;
		}
	}

	i++;
	if (end - i != 8 || memcmp(buf + i, "HTTP/1.", 7) ||
	    buf[i + 7] < '0' || buf[i + 7] > '9')
		return HTTP_PARSE_ERROR;
	req->minor_version = buf[i + 7] - '0';
	return 0;
}

static int parse_header(const char *buf, size_t pos, size_t end,
			struct http_header *h)
{
	size_t i = pos, vstart, vend;

	while (i < end && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == pos || i >= end || buf[i] != ':')
		return HTTP_PARSE_ERROR;
	h->name = (struct http_span){ buf + pos, i - pos };
	for (size_t k = i + 1; k < end; k++)
		if (!is_value_char((unsigned char)buf[k]))
			return HTTP_PARSE_ERROR;
	vstart = i + 1;
	vend = end;
	while (vstart < vend && (buf[vstart] == ' ' || buf[vstart] == '\t'))
		vstart++;
	while (vend > vstart && (buf[vend - 1] == ' ' || buf[vend - 1] == '\t'))
		vend--;
	h->value = (struct http_span){ buf + vstart, vend - vstart };
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	size_t pos = 0, end, next;
	int rc;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: ignore at least one empty line before the request */
	while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	rc = next_line(buf, len, pos, &end, &next);
	if (rc)
		return rc;
	rc = parse_request_line(buf, pos, end, req);
	if (rc)
		return rc;
	for (pos = next;;) {
		rc = next_line(buf, len, pos, &end, &next);
		if (rc)
			return rc;
		if (end == pos) /* the blank line ends the head */
			return next > (size_t)0x7fffffff ? HTTP_PARSE_ERROR
							  : (int)next;
		if (req->nheaders == HTTP_MAX_HEADERS)
			return HTTP_PARSE_ERROR;
		if (buf[pos] == ' ' || buf[pos] == '\t')
			return HTTP_PARSE_ERROR; /* obsolete line folding */
		rc = parse_header(buf, pos, end, &req->headers[req->nheaders]);
		if (rc)
			return rc;
		req->nheaders++;
		pos = next;
	}
}

int http_span_is(struct http_span span, const char *s)
{
	size_t n = strlen(s);

	return span.len == n && memcmp(span.p, s, n) == 0;
}
