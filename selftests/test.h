/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The weft test runner's interface.  A test is a function declared with
 * WEFT_TEST(name); it registers itself before main() runs.  ASSERT_*
 * macros evaluate to true when the check holds; when it does not they print
 * "<test>:FAIL:<file>:<line>: <what>" and mark the running test failed, so
 * a test writes `if (!ASSERT_OK(err, "load")) goto out;` and cleans up.
 *
 * The runner prints "#<n> <test>:OK|FAIL|SKIP" per test and, as its very
 * last line, "N passed, N failed, N skipped".
 */
#ifndef WEFT_SELFTEST_H
#define WEFT_SELFTEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);

/* Test classes, chosen on the command line (-u unit only, -e e2e only). */
enum test_kind {
	TEST_UNIT = 1, /* pure userspace, no privileges needed */
	TEST_KERNEL,   /* loads BPF / needs root, but no network namespaces */
	TEST_E2E,      /* namespaces, cgroups, real daemons and clients */
	TEST_AFTER_ALL, /* checks on what the suite left behind; run last,
			 * whenever kernel or e2e tests were selected */
};

void test_register(const char *name, test_fn fn, enum test_kind kind,
		   const char *file);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool test_failed(void);
const char *test_name(void);
/* Directory holding the built binaries (weftd, weft, helpers); from -B. */
const char *test_build_dir(void);
/* Repository top (to find selftests/data and ../shared); from -R. */
const char *test_repo_dir(void);
/* Print only when -v was given. */
void test_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define WEFT_TEST_KIND(name, kind)                                      \
	static void test_##name(void);                                  \
	__attribute__((constructor)) static void register_##name(void)  \
	{                                                               \
		test_register(#name, test_##name, kind, __FILE__);      \
	}                                                               \
	static void test_##name(void)

#define WEFT_TEST(name) WEFT_TEST_KIND(name, TEST_UNIT)
#define WEFT_KERNEL_TEST(name) WEFT_TEST_KIND(name, TEST_KERNEL)
#define WEFT_E2E_TEST(name) WEFT_TEST_KIND(name, TEST_E2E)
#define WEFT_AFTER_ALL_TEST(name) WEFT_TEST_KIND(name, TEST_AFTER_ALL)

#define ASSERT_TRUE(cond, what)                                         \
	({                                                              \
		bool ___ok = !!(cond);                                  \
		if (!___ok)                                             \
			test_fail(__FILE__, __LINE__, "%s: expected true", \
				  (what));                              \
		___ok;                                                  \
	})

#define ASSERT_FALSE(cond, what) ASSERT_TRUE(!(cond), what)

#define ASSERT_EQ(actual, expected, what)                                   \
	({                                                                  \
		long long ___a = (long long)(actual);                       \
		long long ___e = (long long)(expected);                     \
		bool ___ok = ___a == ___e;                                  \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got %lld, expected %lld", (what), ___a, \
				  ___e);                                    \
		___ok;                                                      \
	})

#define ASSERT_NEQ(actual, unexpected, what)                                \
	({                                                                  \
		long long ___a = (long long)(actual);                       \
		long long ___u = (long long)(unexpected);                   \
		bool ___ok = ___a != ___u;                                  \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got %lld, expected anything else",   \
				  (what), ___a);                            \
		___ok;                                                      \
	})

#define ASSERT_GE(actual, bound, what)                                      \
	({                                                                  \
		long long ___a = (long long)(actual);                       \
		long long ___b = (long long)(bound);                        \
		bool ___ok = ___a >= ___b;                                  \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got %lld, expected >= %lld", (what), \
				  ___a, ___b);                              \
		___ok;                                                      \
	})

#define ASSERT_LE(actual, bound, what)                                      \
	({                                                                  \
		long long ___a = (long long)(actual);                       \
		long long ___b = (long long)(bound);                        \
		bool ___ok = ___a <= ___b;                                  \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got %lld, expected <= %lld", (what), \
				  ___a, ___b);                              \
		___ok;                                                      \
	})

/* 0 or a negative errno is the house convention: anything else fails. */
#define ASSERT_OK(err, what)                                                \
	({                                                                  \
		long long ___e = (long long)(err);                          \
		bool ___ok = ___e == 0;                                     \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__, "%s: error %lld (%s)", \
				  (what), ___e,                             \
				  ___e < 0 ? strerror((int)-___e) : "");    \
		___ok;                                                      \
	})

#define ASSERT_ERR(err, what)                                               \
	({                                                                  \
		long long ___e = (long long)(err);                          \
		bool ___ok = ___e < 0;                                      \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got %lld, expected an error", (what), \
				  ___e);                                    \
		___ok;                                                      \
	})

#define ASSERT_NULL(ptr, what) ASSERT_TRUE((ptr) == NULL, what)
#define ASSERT_NOT_NULL(ptr, what) ASSERT_TRUE((ptr) != NULL, what)

#define ASSERT_STREQ(actual, expected, what)                                \
	({                                                                  \
		const char *___a = (actual);                                \
		const char *___e = (expected);                              \
		bool ___ok = ___a && ___e && strcmp(___a, ___e) == 0;       \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: got \"%s\", expected \"%s\"", (what), \
				  ___a ? ___a : "(null)",                   \
				  ___e ? ___e : "(null)");                  \
		___ok;                                                      \
	})

/* Substring check, for diagnostics and command output. */
#define ASSERT_HAS(haystack, needle, what)                                  \
	({                                                                  \
		const char *___h = (haystack);                              \
		const char *___n = (needle);                                \
		bool ___ok = ___h && ___n && strstr(___h, ___n) != NULL;    \
		if (!___ok)                                                 \
			test_fail(__FILE__, __LINE__,                       \
				  "%s: \"%s\" not found in \"%.400s\"",     \
				  (what), ___n ? ___n : "(null)",           \
				  ___h ? ___h : "(null)");                  \
		___ok;                                                      \
	})

#endif /* WEFT_SELFTEST_H */
