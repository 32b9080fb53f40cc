// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "maglev.h"

#include "lb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the backend identity; two seeds give offset and skip. */
static uint64_t backend_hash(const struct maglev_backend *b, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	const uint8_t *p = b->addr.b;

	for (size_t i = 0; i < sizeof(b->addr); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h = (h ^ (b->port & 0xff)) * 0x100000001b3ull;
	h = (h ^ (b->port >> 8)) * 0x100000001b3ull;
	/* final avalanche, so close addresses spread over the table */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static bool is_prime(size_t m)
{
	if (m < 2)
		return false;
	for (size_t d = 2; d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

int maglev_build(const struct maglev_backend *backends, size_t n,
		 uint32_t *table, size_t m)
{
	size_t *offset, *skip, *next, filled = 0;
	uint32_t g = 0;
	bool *taken;
	int err = -ENOMEM;

	if (!n || !is_prime(m))
		return -EINVAL;
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	taken = calloc(m, sizeof(*taken));
	if (!offset || !skip || !next || !taken)
		goto out;

	for (size_t i = 0; i < n; i++) {
		offset[i] = backend_hash(&backends[i], 0x6d61676c6576ull) % m;
		skip[i] = backend_hash(&backends[i], 0x736b6970ull) % (m - 1) + 1;
		g = lb_gcd(g, backends[i].weight ?: 1);
	}
	/* Each round, backend i claims weight/g entries of its permutation. */
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			uint32_t turns = (backends[i].weight ?: 1) / g;

			while (turns-- && filled < m) {
				size_t c;

				do {
					c = (offset[i] + next[i] * skip[i]) % m;
					next[i]++;
				} while (taken[c]);
				taken[c] = true;
				table[c] = backends[i].id;
				filled++;
			}
		}
	}
	err = 0;
out:
	free(offset);
	free(skip);
	free(next);
	free(taken);
	return err;
}
