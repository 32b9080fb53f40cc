/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One logging set for every weft binary.  Messages go to stderr as
 * "<prog>: <level>: <text>"; config diagnostics put "file:line: " first
 * themselves.  libbpf's own log is routed here one level down (its warnings
 * become our info), see log_route_libbpf().
 */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

void log_init(const char *prog, enum log_level level);
enum log_level log_get_level(void);
void log_set_level(enum log_level level);

void log_printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vprintf(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Keep a copy of the first warning logged from now on (without the
 * "<prog>: warning: " prefix and the newline) in buf, until
 * log_capture_end().  For callers that must report why something failed
 * somewhere other than stderr.
 */
void log_capture_begin(char *buf, size_t len);
void log_capture_end(void);

/* Send libbpf's messages through log_printf, one level down. */
void log_route_libbpf(void);

#define pr_warn(...) log_printf(LOG_LEVEL_WARN, __VA_ARGS__)
#define pr_info(...) log_printf(LOG_LEVEL_INFO, __VA_ARGS__)
#define pr_debug(...) log_printf(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* WEFT_LOG_H */
