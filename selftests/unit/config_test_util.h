/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the config unit tests (test_config.c,
 * test_lb_compile.c, test_node_config.c): paths in the repository,
 * stderr capture for diagnostics, lookups in the compiled LB state.
 */
#ifndef WEFT_CONFIG_TEST_UTIL_H
#define WEFT_CONFIG_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "lb.h"
#include "log.h"
#include "mesh.h"

/* <repo>/<fmt...> into buf. */
static inline const char *repo_path(char *buf, size_t len, const char *fmt,
				     ...)
{
	char rel[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(buf, len, "%s/%s", test_repo_dir(), rel);
	return buf;
}

static inline bool path_is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/*
 * Redirect fd 2 to a temporary file and back, returning what was written
 * (malloc'd, NUL-terminated; "" on trouble).  A file, not a pipe, so a
 * long diagnostic run never blocks on a full pipe.
 */
struct stderr_capture {
	int saved;
	FILE *f;
};

static inline bool capture_begin(struct stderr_capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	if (!c->f)
		return false;
	c->saved = dup(STDERR_FILENO);
	if (c->saved < 0 || dup2(fileno(c->f), STDERR_FILENO) < 0) {
		fclose(c->f);
		c->f = NULL;
		return false;
	}
	return true;
}

static inline char *capture_end(struct stderr_capture *c)
{
	char *buf;
	long n;

	fflush(stderr);
	if (!c->f)
		return strdup("");
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	fseek(c->f, 0, SEEK_END);
	n = ftell(c->f);
	rewind(c->f);
	buf = malloc(n > 0 ? (size_t)n + 1 : 1);
	if (!buf) {
		fclose(c->f);
		return NULL;
	}
	if (n > 0 && fread(buf, 1, (size_t)n, c->f) != (size_t)n)
		n = 0;
	buf[n > 0 ? n : 0] = '\0';
	fclose(c->f);
	c->f = NULL;
	test_log("--- captured stderr ---\n%s-----------------------\n", buf);
	return buf;
}

/* Is there a line in text holding `a` and, after it, `b`? */
static inline bool text_has_line(const char *text, const char *a,
				 const char *b)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		char *pa = copy ? strstr(copy, a) : NULL;
		bool ok = pa && strstr(pa + strlen(a), b);

		free(copy);
		if (ok)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

static inline size_t text_count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Load files with stderr captured; *err_text is malloc'd (or NULL). */
static inline int load_captured(const char *const *paths, size_t n,
				struct mesh_config **cfg, char **err_text)
{
	struct stderr_capture c;
	bool cap = capture_begin(&c);
	int err = mesh_config_load_files(paths, n, cfg);
	char *text = cap ? capture_end(&c) : strdup("");

	if (err_text)
		*err_text = text;
	else
		free(text);
	return err;
}

static inline const struct lb_service *
lb_find(const struct lb_state *st, const char *vip, uint16_t port,
	uint8_t proto)
{
	union weft_addr a;

	if (weft_addr_parse(vip, &a))
		return NULL;
	for (size_t i = 0; i < st->nservices; i++) {
		const struct lb_service *s = &st->services[i];

		if (!memcmp(&s->vip, &a, sizeof(a)) && s->port == port &&
		    s->proto == proto)
			return s;
	}
	return NULL;
}

struct want_backend {
	const char *addr;
	uint16_t port;
	uint16_t weight;
	const char *workload;
};

/* Backends of s equal want[], in order; reports the first difference. */
static inline bool lb_backends_are(const struct lb_service *s,
				   const struct want_backend *want, size_t n,
				   const char *what)
{
	char buf[64];

	if (!ASSERT_NOT_NULL(s, what))
		return false;
	if (!ASSERT_EQ(s->nbackends, n, what))
		goto dump;
	for (size_t i = 0; i < n; i++) {
		const struct lb_backend *b = &s->backends[i];

		if (!ASSERT_STREQ(weft_addr_str(&b->addr, buf, sizeof(buf)),
				  want[i].addr, what) ||
		    !ASSERT_EQ(b->port, want[i].port, what) ||
		    !ASSERT_EQ(b->weight, want[i].weight, what) ||
		    !ASSERT_STREQ(b->workload, want[i].workload, what))
			goto dump;
	}
	return true;
dump:
	for (size_t i = 0; i < s->nbackends; i++)
		printf("  have %s:%u weight %u \"%s\"\n",
		       weft_addr_str(&s->backends[i].addr, buf, sizeof(buf)),
		       s->backends[i].port, s->backends[i].weight,
		       s->backends[i].workload);
	return false;
}

#endif /* WEFT_CONFIG_TEST_UTIL_H */
