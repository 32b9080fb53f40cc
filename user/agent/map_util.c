// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "map_util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vec.h"

void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, len - n);
}

int map_write(int fd, const void *key, const void *value,
		     const char *what)
{
	if (bpf_map_update_elem(fd, key, value, BPF_ANY)) {
		int err = -errno;

		pr_warn("writing %s: %s%s\n", what, strerror(errno),
			errno == E2BIG || errno == ENOMEM ? " (map full)" : "");
		return err;
	}
	return 0;
}

void map_remove(int fd, const void *key)
{
	(void)bpf_map_delete_elem(fd, key); /* already gone is fine */
}

int map_delete_matching(int fd, size_t key_size,
			bool (*matches)(const void *key, const void *arg),
			const void *arg, size_t *deleted)
{
	unsigned char *keys = NULL, prev[64], cur[64];
	size_t n = 0, cap = 0;
	bool first = true;
	int err = 0;

	if (key_size > sizeof(cur))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, first ? NULL : prev, cur) == 0) {
		first = false;
		memcpy(prev, cur, key_size);
		if (!matches(cur, arg))
			continue;
		err = vec_reserve((void **)&keys, &cap, n + 1, key_size);
		if (err)
			break;
		memcpy(keys + n++ * key_size, cur, key_size);
	}
	for (size_t i = 0; i < n; i++)
		map_remove(fd, keys + i * key_size);
	if (deleted)
		*deleted += n;
	free(keys);
	return err;
}

__u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

int id_pool_init(struct id_pool *p, __u32 limit)
{
	p->used = calloc(limit / 8 + 1, 1);
	p->limit = limit;
	p->next = 1;
	return p->used ? 0 : -ENOMEM;
}

void id_pool_free(struct id_pool *p)
{
	free(p->used);
	p->used = NULL;
}

void id_pool_mark(struct id_pool *p, __u32 id)
{
	if (id >= p->limit)
		return;
	p->used[id / 8] |= 1u << (id % 8);
	if (id >= p->next)
		p->next = id + 1;
}

__u32 id_pool_take(struct id_pool *p)
{
	for (__u32 n = 0; n < p->limit; n++) {
		__u32 id = (p->next + n) % p->limit;

		if (id == 0 || (p->used[id / 8] & (1u << (id % 8))))
			continue;
		id_pool_mark(p, id);
		return id;
	}
	return 0;
}

