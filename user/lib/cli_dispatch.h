/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `prog OBJECT COMMAND` dispatch tables with unambiguous prefixes, as
 * bpftool does it, except that a prefix matching several names is an error
 * rather than the first match: `weft s` could be service, stats or status.
 *
 * struct cli_ctx is defined by each program (its options and output state);
 * the table only passes it along.
 */
#ifndef WEFT_CLI_DISPATCH_H
#define WEFT_CLI_DISPATCH_H

#include <stddef.h>

struct cli_ctx;

struct cli_cmd {
	const char *name;
	/* Gets the arguments after the word that selected it. */
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
};

/*
 * Find word in cmds (terminated by an entry with a NULL name): a name equal
 * to word wins, else the one name word is a prefix of.  Returns its index,
 * -ENOENT when no name matches (or word is empty), -ENOTUNIQ when several
 * do.
 */
int cli_lookup(const struct cli_cmd *cmds, const char *word);

/*
 * The names word is a prefix of, as "service, stats, status", into buf
 * (truncated to fit, always NUL-terminated).  Returns how many matched.
 */
size_t cli_candidates(const struct cli_cmd *cmds, const char *word, char *buf,
		      size_t len);

#endif /* WEFT_CLI_DISPATCH_H */
