// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "log.h"

#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

static const char *log_prog = "weft";
static enum log_level log_level = LOG_LEVEL_INFO;

void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

static char *capture_buf;
static size_t capture_len;

void log_capture_begin(char *buf, size_t len)
{
	capture_buf = len ? buf : NULL;
	capture_len = len;
	if (capture_buf)
		capture_buf[0] = '\0';
}

void log_capture_end(void)
{
	capture_buf = NULL;
	capture_len = 0;
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "warning", "info", "debug" };

	if (level == LOG_LEVEL_WARN && capture_buf && !capture_buf[0]) {
		va_list copy;
		size_t n;

		va_copy(copy, ap);
		vsnprintf(capture_buf, capture_len, fmt, copy);
		va_end(copy);
		n = strlen(capture_buf);
		if (n && capture_buf[n - 1] == '\n')
			capture_buf[n - 1] = '\0';
	}
	if (level > log_level)
		return;
	fprintf(stderr, "%s: %s: ", log_prog, names[level]);
	vfprintf(stderr, fmt, ap);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum log_level ours;

	switch (level) {
	case LIBBPF_WARN:
		ours = LOG_LEVEL_INFO;
		break;
	default:
		ours = LOG_LEVEL_DEBUG;
		break;
	}
	if (ours > log_level)
		return 0;
	log_vprintf(ours, fmt, ap);
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
