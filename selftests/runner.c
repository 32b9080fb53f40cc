// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The weft test runner.  Every WEFT_TEST() registers itself; main() runs
 * the selected ones, each in a forked child so that a crash or a hang
 * (per-test alarm) fails that test alone.  The last line printed is always
 * "N passed, N failed, N skipped".
 *
 *   test_weft [-u|-k|-e] [-t SUBSTR]... [-x SUBSTR]... [-v] [-l]
 *             [-B BUILD_DIR] [-R REPO_DIR] [-T SECONDS]
 */
#include "test.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 512
#define MAX_FILTERS 32

struct test_entry {
	const char *name;
	test_fn fn;
	enum test_kind kind;
	const char *file;
};

static struct test_entry tests[MAX_TESTS];
static int ntests;

/* State of the test running in this (child) process. */
static const char *current_name;
static bool current_failed;
static bool current_skipped;
static bool verbose;
static const char *build_dir = "build/test";
static const char *repo_dir = ".";

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_SKIP = 77 };

void test_register(const char *name, test_fn fn, enum test_kind kind,
		   const char *file)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "runner: too many tests, raise MAX_TESTS\n");
		abort();
	}
	tests[ntests++] = (struct test_entry){ name, fn, kind, file };
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failed = true;
	printf("%s:FAIL:%s:%d: ", current_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	current_skipped = true;
	printf("%s:SKIP: ", current_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

bool test_failed(void)
{
	return current_failed;
}

const char *test_name(void)
{
	return current_name;
}

const char *test_build_dir(void)
{
	return build_dir;
}

const char *test_repo_dir(void)
{
	return repo_dir;
}

void test_log(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static int cmp_tests(const void *a, const void *b)
{
	const struct test_entry *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return strcmp(x->name, y->name);
}

static bool matches(const char *name, char **filters, int n)
{
	for (int i = 0; i < n; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

static int run_one(const struct test_entry *t, unsigned int timeout)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("%s:FAIL: fork: %s\n", t->name, strerror(errno));
		return EXIT_FAIL;
	}
	if (pid == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		current_name = t->name;
		alarm(timeout);
		t->fn();
		/* exit(), not _exit(): LeakSanitizer checks at exit and turns
		 * a leak into a non-zero status, which fails the test. */
		if (current_failed)
			exit(EXIT_FAIL);
		exit(current_skipped ? EXIT_SKIP : EXIT_PASS);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("%s:FAIL: waitpid: %s\n", t->name,
			       strerror(errno));
			return EXIT_FAIL;
		}
	}
	if (WIFSIGNALED(status)) {
		printf("%s:FAIL: killed by signal %d%s\n", t->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return EXIT_FAIL;
	}
	switch (WEXITSTATUS(status)) {
	case EXIT_PASS:
		return EXIT_PASS;
	case EXIT_SKIP:
		return EXIT_SKIP;
	default:
		return EXIT_FAIL;
	}
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-u|-k|-e] [-t SUBSTR]... [-x SUBSTR]... [-v] [-l]\n"
		"          [-B BUILD_DIR] [-R REPO_DIR] [-T SECONDS]\n"
		"  -u/-k/-e  only unit / kernel / end-to-end tests (may combine)\n"
		"  -t, -x    run only / skip tests whose name contains SUBSTR\n"
		"  -l        list tests and exit\n",
		prog);
}

int main(int argc, char **argv)
{
	char *only[MAX_FILTERS], *except[MAX_FILTERS];
	int nonly = 0, nexcept = 0, kinds = 0, opt;
	int passed = 0, failed = 0, skipped = 0, n = 0;
	unsigned int timeout = 600;
	bool list = false;

	while ((opt = getopt(argc, argv, "ukeT:t:x:vlB:R:h")) != -1) {
		switch (opt) {
		case 'u':
			kinds |= 1 << TEST_UNIT;
			break;
		case 'k':
			kinds |= 1 << TEST_KERNEL;
			break;
		case 'e':
			kinds |= 1 << TEST_E2E;
			break;
		case 'T':
			timeout = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 't':
			if (nonly < MAX_FILTERS)
				only[nonly++] = optarg;
			break;
		case 'x':
			if (nexcept < MAX_FILTERS)
				except[nexcept++] = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'l':
			list = true;
			break;
		case 'B':
			build_dir = optarg;
			break;
		case 'R':
			repo_dir = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!kinds)
		kinds = (1 << TEST_UNIT) | (1 << TEST_KERNEL) | (1 << TEST_E2E);
	if (kinds & ((1 << TEST_KERNEL) | (1 << TEST_E2E)))
		kinds |= 1 << TEST_AFTER_ALL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	qsort(tests, ntests, sizeof(tests[0]), cmp_tests);
	for (int i = 0; i < ntests; i++) {
		const struct test_entry *t = &tests[i];
		int rc;

		if (!(kinds & (1 << t->kind)))
			continue;
		if (nonly && t->kind != TEST_AFTER_ALL &&
		    !matches(t->name, only, nonly))
			continue;
		if (nexcept && matches(t->name, except, nexcept))
			continue;
		n++;
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		rc = run_one(t, timeout);
		printf("#%d %s:%s\n", n, t->name,
		       rc == EXIT_PASS ? "OK" : rc == EXIT_SKIP ? "SKIP" : "FAIL");
		if (rc == EXIT_PASS)
			passed++;
		else if (rc == EXIT_SKIP)
			skipped++;
		else
			failed++;
	}
	if (list)
		return 0;
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
