// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "map_util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

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

