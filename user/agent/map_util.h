/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small helpers of the agent's map writers (apply.c, apply_policy.c). */
#ifndef WEFT_AGENT_MAP_UTIL_H
#define WEFT_AGENT_MAP_UTIL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

/* Copy src into dst[len], truncated, the rest zeroed (map values). */
void copy_str(char *dst, size_t len, const char *src);

/* bpf_map_update_elem(BPF_ANY); logs "writing <what>: ..." on error. */
int map_write(int fd, const void *key, const void *value, const char *what);

/* Delete key; already gone is fine. */
void map_remove(int fd, const void *key);

/*
 * Delete every entry whose key (key_size bytes, at most 64) matches(key,
 * arg).  The keys are collected first: deleting the key a get_next_key
 * walk stands on would restart the walk.  Adds how many went to *deleted
 * (when not NULL).  0, -ENOMEM, or -EINVAL for a key over 64 bytes.
 */
int map_delete_matching(int fd, size_t key_size,
			bool (*matches)(const void *key, const void *arg),
			const void *arg, size_t *deleted);

/* CLOCK_REALTIME in ns (weft_agent_state times). */
__u64 now_ns(void);

/*
 * Ids 1..limit-1 (0 means none).  New ids continue after the highest one in
 * use and wrap, so an id freed by garbage collection is not handed out
 * again soon: sockets still open to an old backend count down its active
 * connections for a while.
 */
struct id_pool {
	unsigned char *used;
	__u32 limit;
	__u32 next;
};

int id_pool_init(struct id_pool *p, __u32 limit);
void id_pool_free(struct id_pool *p);
void id_pool_mark(struct id_pool *p, __u32 id);
__u32 id_pool_take(struct id_pool *p); /* 0: exhausted */

#endif /* WEFT_AGENT_MAP_UTIL_H */
