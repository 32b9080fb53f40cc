/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Growable arrays: the one realloc-doubling helper every userspace table
 * (compiler output, map snapshots, scan results) grows with.
 */
#ifndef WEFT_VEC_H
#define WEFT_VEC_H

#include <stddef.h>

/*
 * Make room for `need` elements of `elem` bytes in *v, whose capacity is
 * *cap elements: doubles from 16 until it fits.  Returns 0, or -ENOMEM
 * (also when the size would overflow) leaving *v and *cap as they were.
 */
int vec_reserve(void **v, size_t *cap, size_t need, size_t elem);

/* A typed array and a push that grows it: 0 or -ENOMEM. */
#define VEC(T) struct { T *v; size_t n, cap; }
#define VEC_PUSH(vec, val)                                                 \
	(vec_reserve((void **)&(vec).v, &(vec).cap, (vec).n + 1,           \
		     sizeof(*(vec).v)) ? -ENOMEM :                         \
	 ((vec).v[(vec).n++] = (val), 0))

#endif /* WEFT_VEC_H */
