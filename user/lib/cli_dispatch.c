// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "cli_dispatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_prefix(const char *word, const char *name)
{
	return strncmp(word, name, strlen(word)) == 0;
}

int cli_lookup(const struct cli_cmd *cmds, const char *word)
{
	int found = -ENOENT;

	if (!word || !*word)
		return -ENOENT;
	for (int i = 0; cmds[i].name; i++) {
		if (strcmp(word, cmds[i].name) == 0)
			return i;
		if (!is_prefix(word, cmds[i].name))
			continue;
		/* Keep going: an exact match further down still wins. */
		found = found == -ENOENT ? i : -ENOTUNIQ;
	}
	return found;
}

size_t cli_candidates(const struct cli_cmd *cmds, const char *word, char *buf,
		      size_t len)
{
	size_t n = 0, used = 0;

	if (len)
		buf[0] = '\0';
	if (!word)
		return 0;
	for (int i = 0; cmds[i].name; i++) {
		int w;

		if (!is_prefix(word, cmds[i].name))
			continue;
		if (used < len) {
			w = snprintf(buf + used, len - used, "%s%s",
				     n ? ", " : "", cmds[i].name);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}
