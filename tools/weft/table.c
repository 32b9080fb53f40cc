// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_GAP 2

int table_init(struct table *t, size_t ncols, const char *const *header,
	       unsigned int right)
{
	memset(t, 0, sizeof(*t));
	if (!ncols || ncols > TABLE_MAX_COLS)
		return -EINVAL;
	t->ncols = ncols;
	t->right = right;
	for (size_t i = 0; i < ncols; i++)
		t->header[i] = header[i];
	return 0;
}

static char *cell_dup(const char *s)
{
	char *copy = strdup(s && *s ? s : "-");

	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

int table_add(struct table *t, ...)
{
	char **row;
	va_list ap;
	int err = 0;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells = reallocarray(t->cells, cap * t->ncols,
					    sizeof(*cells));

		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = err ? NULL : cell_dup(va_arg(ap, const char *));
		if (!row[i])
			err = -ENOMEM;
	}
	va_end(ap);
	if (err) {
		for (size_t i = 0; i < t->ncols; i++)
			free(row[i]);
		return err;
	}
	t->nrows++;
	return 0;
}

static void table_line(const struct table *t, const size_t *width,
		       const char *const *cells, FILE *out)
{
	for (size_t i = 0; i < t->ncols; i++) {
		bool last = i + 1 == t->ncols;
		int w = (int)width[i];

		if (t->right & (1u << i))
			fprintf(out, "%*s", w, cells[i]);
		else if (last)
			fputs(cells[i], out);
		else
			fprintf(out, "%-*s", w, cells[i]);
		if (!last)
			fprintf(out, "%*s", TABLE_GAP, "");
	}
	fputc('\n', out);
}

void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS];

	for (size_t i = 0; i < t->ncols; i++)
		width[i] = strlen(t->header[i]);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t len = strlen(t->cells[r * t->ncols + i]);

			if (len > width[i])
				width[i] = len;
		}
	table_line(t, width, t->header, out);
	for (size_t r = 0; r < t->nrows; r++)
		table_line(t, width, (const char *const *)t->cells + r * t->ncols,
			   out);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}
