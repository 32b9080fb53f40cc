/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Aligned text columns: rows are collected first so every column can be as
 * wide as its widest cell, then printed under a header line.  The last
 * column is never padded.  Cells are copied; bytes a terminal would act on
 * (control characters) are shown as '?', since map contents are untrusted.
 */
#ifndef WEFT_CLI_TABLE_H
#define WEFT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
	size_t ncols;
	const char *header[TABLE_MAX_COLS];
	unsigned int right; /* bit i set: right-align column i */
	size_t nrows, cap;
	char **cells; /* nrows * ncols */
};

/* header: ncols column names; returns 0 or -EINVAL (too many columns). */
int table_init(struct table *t, size_t ncols, const char *const *header,
	       unsigned int right);
/* Exactly t->ncols strings (NULL or "" prints as "-").  0 or -ENOMEM. */
int table_add(struct table *t, ...);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t); /* accepts a zeroed table */

#endif /* WEFT_CLI_TABLE_H */
