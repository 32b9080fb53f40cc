// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Maglev table properties the datapath relies on (user/lib/maglev.c). */
#include <errno.h>
#include <stdlib.h>

#include "lb.h"
#include "maglev.h"
#include "test.h"

#define M WEFT_MAGLEV_SIZE

static void backends_make(struct maglev_backend *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.1.%zu.%zu", i / 200, i % 200 + 1);
		memset(&b[i], 0, sizeof(b[i]));
		weft_addr_parse(ip, &b[i].addr);
		b[i].port = 8080;
		b[i].id = (uint32_t)i + 1;
		b[i].weight = 1;
	}
}

static void count_owners(const uint32_t *table, size_t *per, size_t n)
{
	memset(per, 0, n * sizeof(*per));
	for (size_t i = 0; i < M; i++)
		if (table[i] >= 1 && table[i] <= n)
			per[table[i] - 1]++;
}

WEFT_TEST(maglev_balanced)
{
	struct maglev_backend b[10];
	uint32_t table[M];
	size_t per[10], total = 0;

	backends_make(b, 10);
	if (!ASSERT_OK(maglev_build(b, 10, table, M), "build"))
		return;
	count_owners(table, per, 10);
	for (size_t i = 0; i < 10; i++) {
		total += per[i];
		/* every backend within one entry of M/N */
		ASSERT_GE(per[i], M / 10, "share");
		ASSERT_LE(per[i], M / 10 + 1, "share");
	}
	ASSERT_EQ(total, M, "every entry filled");
}

WEFT_TEST(maglev_weights)
{
	struct maglev_backend b[2];
	uint32_t table[M];
	size_t per[2];

	backends_make(b, 2);
	b[0].weight = 3;
	b[1].weight = 1;
	if (!ASSERT_OK(maglev_build(b, 2, table, M), "build"))
		return;
	count_owners(table, per, 2);
	ASSERT_GE(per[0], M * 3 / 4 - 2, "weight 3 owns 3/4");
	ASSERT_LE(per[0], M * 3 / 4 + 2, "weight 3 owns 3/4");
}

/* Removing one of N backends moves about 1/N of the keys, no more. */
WEFT_TEST(maglev_minimal_disruption)
{
	struct maglev_backend b[20];
	uint32_t before[M], after[M];
	size_t moved = 0, moved_other = 0;

	backends_make(b, 20);
	if (!ASSERT_OK(maglev_build(b, 20, before, M), "build 20"))
		return;
	/* drop backend id 8 (index 7) */
	memmove(&b[7], &b[8], 12 * sizeof(b[0]));
	if (!ASSERT_OK(maglev_build(b, 19, after, M), "build 19"))
		return;
	for (size_t i = 0; i < M; i++) {
		if (before[i] == after[i])
			continue;
		moved++;
		if (before[i] != 8)
			moved_other++;
		ASSERT_NEQ(after[i], 8, "removed backend gone");
	}
	/* its own M/N entries must move; Maglev moves a few others too */
	test_log("moved %zu entries, %zu not of the removed backend\n", moved,
		 moved_other);
	ASSERT_LE(moved, M / 20 + M / 40, "about 1/N of the table moved");
	ASSERT_LE(moved_other, M / 40, "others barely disturbed");
}

WEFT_TEST(maglev_deterministic_and_checked)
{
	struct maglev_backend b[5];
	uint32_t t1[M], t2[M];

	backends_make(b, 5);
	ASSERT_OK(maglev_build(b, 5, t1, M), "build");
	ASSERT_OK(maglev_build(b, 5, t2, M), "rebuild");
	ASSERT_TRUE(!memcmp(t1, t2, sizeof(t1)), "same set, same table");
	ASSERT_EQ(maglev_build(b, 0, t1, M), -EINVAL, "no backends");
	ASSERT_EQ(maglev_build(b, 5, t1, 1000), -EINVAL, "size not prime");
}
