// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Prefix matching of `weft OBJECT COMMAND` dispatch tables. */
#include <errno.h>

#include "../test.h"
#include "cli_dispatch.h"

/* The objects of tools/weft/main.c; only looked up, fn is never called. */
static const struct cli_cmd objects[] = {
	{ "service", NULL },
	{ "cluster", NULL },
	{ "backend", NULL },
	{ "stats", NULL },
	{ "status", NULL },
	{ "uninstall", NULL },
	{ "policy", NULL },
	{ "help", NULL },
	{ "version", NULL },
	{ NULL, NULL },
};

WEFT_TEST(cli_dispatch_prefixes)
{
	ASSERT_EQ(cli_lookup(objects, "service"), 0, "exact");
	ASSERT_EQ(cli_lookup(objects, "se"), 0, "se");
	ASSERT_EQ(cli_lookup(objects, "c"), 1, "c");
	ASSERT_EQ(cli_lookup(objects, "b"), 2, "b");
	ASSERT_EQ(cli_lookup(objects, "stats"), 3, "stats exact");
	ASSERT_EQ(cli_lookup(objects, "statu"), 4, "statu");
	ASSERT_EQ(cli_lookup(objects, "u"), 5, "u");
	ASSERT_EQ(cli_lookup(objects, "p"), 6, "p");
	ASSERT_EQ(cli_lookup(objects, "v"), 8, "v");
}

WEFT_TEST(cli_dispatch_ambiguous)
{
	char buf[64];

	ASSERT_EQ(cli_lookup(objects, "s"), -ENOTUNIQ, "s");
	ASSERT_EQ(cli_lookup(objects, "st"), -ENOTUNIQ, "st");
	ASSERT_EQ(cli_lookup(objects, "stat"), -ENOTUNIQ, "stat");
	ASSERT_EQ(cli_candidates(objects, "s", buf, sizeof(buf)), 3, "n s");
	ASSERT_STREQ(buf, "service, stats, status", "s candidates");
	ASSERT_EQ(cli_candidates(objects, "stat", buf, sizeof(buf)), 2, "n stat");
	ASSERT_STREQ(buf, "stats, status", "stat candidates");
}

WEFT_TEST(cli_dispatch_unknown)
{
	char buf[16];

	ASSERT_EQ(cli_lookup(objects, "x"), -ENOENT, "x");
	ASSERT_EQ(cli_lookup(objects, "services"), -ENOENT, "longer than name");
	ASSERT_EQ(cli_lookup(objects, "Service"), -ENOENT, "case matters");
	ASSERT_EQ(cli_lookup(objects, ""), -ENOENT, "empty");
	ASSERT_EQ(cli_lookup(objects, NULL), -ENOENT, "NULL");
	ASSERT_EQ(cli_candidates(objects, "x", buf, sizeof(buf)), 0, "none");
	ASSERT_STREQ(buf, "", "no candidates");
}

/* A name that is a prefix of another still selects itself. */
WEFT_TEST(cli_dispatch_exact_wins)
{
	static const struct cli_cmd cmds[] = {
		{ "listen", NULL },
		{ "lister", NULL },
		{ "list", NULL },
		{ NULL, NULL },
	};

	ASSERT_EQ(cli_lookup(cmds, "list"), 2, "exact after prefixes");
	ASSERT_EQ(cli_lookup(cmds, "li"), -ENOTUNIQ, "li");
	ASSERT_EQ(cli_lookup(cmds, "liste"), -ENOTUNIQ, "liste");
	ASSERT_EQ(cli_lookup(cmds, "listen"), 0, "listen");
}

WEFT_TEST(cli_dispatch_candidates_truncate)
{
	char buf[12];

	ASSERT_EQ(cli_candidates(objects, "s", buf, sizeof(buf)), 3, "count");
	ASSERT_STREQ(buf, "service, st", "truncated, terminated");
	ASSERT_EQ(cli_candidates(objects, "s", buf, 0), 3, "len 0");
}
