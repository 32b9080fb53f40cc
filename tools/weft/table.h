/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Aligned text columns: rows are collected first so every column can be as
 * wide as its widest cell, then printed under a header line.  The last
 * column is never padded.  Cells are copied; bytes a terminal would act on
 * (control characters) are shown as '?', since map contents are untrusted.
 *
 * A table may have a second level: detail rows with columns of their own,
 * each printed indented under the row added before it (a service, then its
 * clusters).  Detail columns are aligned over all detail rows, and their
 * header is printed indented under the main header.
 */
#ifndef WEFT_CLI_TABLE_H
#define WEFT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 10
#define TABLE_INDENT 4 /* of detail rows */

struct table_cols {
	size_t ncols;
	const char *header[TABLE_MAX_COLS];
	unsigned int right; /* bit i set: right-align column i */
};

struct table_row {
	int detail; /* 0: a main row, 1: a detail row */
	char *cells[TABLE_MAX_COLS];
};

struct table {
	struct table_cols cols[2]; /* main, detail */
	size_t nrows, cap;
	struct table_row *rows;
};

/* header: ncols column names; returns 0 or -EINVAL (too many columns). */
int table_init(struct table *t, size_t ncols, const char *const *header,
	       unsigned int right);
/* The detail columns, after table_init().  0 or -EINVAL. */
int table_init_detail(struct table *t, size_t ncols, const char *const *header,
		      unsigned int right);
/* Exactly ncols strings (NULL or "" prints as "-").  0 or -ENOMEM. */
int table_add(struct table *t, ...);
/* A detail row under the last table_add() row; -EINVAL before any. */
int table_add_detail(struct table *t, ...);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t); /* accepts a zeroed table */

#endif /* WEFT_CLI_TABLE_H */
