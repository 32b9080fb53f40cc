// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "table.h"
#include "vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_GAP 2

static int cols_init(struct table_cols *c, size_t ncols,
		     const char *const *header, unsigned int right)
{
	if (!ncols || ncols > TABLE_MAX_COLS)
		return -EINVAL;
	c->ncols = ncols;
	c->right = right;
	for (size_t i = 0; i < ncols; i++)
		c->header[i] = header[i];
	return 0;
}

int table_init(struct table *t, size_t ncols, const char *const *header,
	       unsigned int right)
{
	memset(t, 0, sizeof(*t));
	return cols_init(&t->cols[0], ncols, header, right);
}

int table_init_detail(struct table *t, size_t ncols, const char *const *header,
		      unsigned int right)
{
	return cols_init(&t->cols[1], ncols, header, right);
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

static int table_vadd(struct table *t, int detail, va_list ap)
{
	size_t ncols = t->cols[detail].ncols;
	struct table_row *row;
	int err = 0;

	if (!ncols || (detail && !t->nrows))
		return -EINVAL;
	if (vec_reserve((void **)&t->rows, &t->cap, t->nrows + 1,
			sizeof(*t->rows)))
		return -ENOMEM;
	row = &t->rows[t->nrows];
	memset(row, 0, sizeof(*row));
	row->detail = detail;
	for (size_t i = 0; i < ncols; i++) {
		row->cells[i] = err ? NULL : cell_dup(va_arg(ap, const char *));
		if (!row->cells[i])
			err = -ENOMEM;
	}
	if (err) {
		for (size_t i = 0; i < ncols; i++)
			free(row->cells[i]);
		return err;
	}
	t->nrows++;
	return 0;
}

int table_add(struct table *t, ...)
{
	va_list ap;
	int err;

	va_start(ap, t);
	err = table_vadd(t, 0, ap);
	va_end(ap);
	return err;
}

int table_add_detail(struct table *t, ...)
{
	va_list ap;
	int err;

	va_start(ap, t);
	err = table_vadd(t, 1, ap);
	va_end(ap);
	return err;
}

static void table_line(const struct table_cols *c, const size_t *width,
		       int indent, char *const *cells, FILE *out)
{
	fprintf(out, "%*s", indent, "");
	for (size_t i = 0; i < c->ncols; i++) {
		bool last = i + 1 == c->ncols;
		int w = (int)width[i];

		if (c->right & (1u << i))
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
	size_t width[2][TABLE_MAX_COLS];

	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < t->cols[d].ncols; i++)
			width[d][i] = strlen(t->cols[d].header[i]);
	for (size_t r = 0; r < t->nrows; r++) {
		const struct table_row *row = &t->rows[r];

		for (size_t i = 0; i < t->cols[row->detail].ncols; i++) {
			size_t len = strlen(row->cells[i]);

			if (len > width[row->detail][i])
				width[row->detail][i] = len;
		}
	}
	for (int d = 0; d < 2; d++)
		if (t->cols[d].ncols)
			table_line(&t->cols[d], width[d], d ? TABLE_INDENT : 0,
				   (char *const *)t->cols[d].header, out);
	for (size_t r = 0; r < t->nrows; r++) {
		const struct table_row *row = &t->rows[r];

		table_line(&t->cols[row->detail], width[row->detail],
			   row->detail ? TABLE_INDENT : 0, row->cells, out);
	}
}

void table_free(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < TABLE_MAX_COLS; i++)
			free(t->rows[r].cells[i]);
	free(t->rows);
	t->rows = NULL;
	t->nrows = t->cap = 0;
}
