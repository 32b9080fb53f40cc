// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "accel.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath.h"

static const char *const accel_map_names[] = {
	"weft_accel_hash", "weft_accel_flows", "weft_accel_config",
	"weft_accel_stats",
};

_Static_assert(sizeof(struct accel_maps) ==
		       sizeof(accel_map_names) / sizeof(accel_map_names[0]) *
			       sizeof(int),
	       "accel_map_names must list every accel_maps member");

int accel_maps_open(const char *pin_dir, struct accel_maps *m)
{
	int *fds = (int *)m;
	size_t n = sizeof(*m) / sizeof(int);
	char path[PATH_MAX];
	int err;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n; i++) {
		err = datapath_pin_path(path, sizeof(path), pin_dir,
					WEFT_PIN_MAPS_DIR, accel_map_names[i]);
		if (!err) {
			fds[i] = bpf_obj_get(path);
			err = fds[i] < 0 ? -errno : 0;
		}
		if (err) {
			accel_maps_close(m);
			return err;
		}
	}
	return 0;
}

void accel_maps_close(struct accel_maps *m)
{
	int *fds = (int *)m;

	for (size_t i = 0; i < sizeof(*m) / sizeof(int); i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

const char *accel_counter_name(unsigned int counter)
{
	static const char *const names[WEFT_ACCEL__MAX] = {
		[WEFT_ACCEL_SOCKETS_ADDED] = "sockets_added",
		[WEFT_ACCEL_CONNECTIONS] = "connections",
		[WEFT_ACCEL_MESSAGES] = "messages",
		[WEFT_ACCEL_BYTES] = "bytes",
		[WEFT_ACCEL_SKIP_DISABLED] = "skip_disabled",
		[WEFT_ACCEL_SKIP_PEER_UNMANAGED] = "skip_peer_unmanaged",
		[WEFT_ACCEL_SKIP_HASH_FULL] = "skip_hash_full",
		[WEFT_ACCEL_SKIP_INSERT_FAILED] = "skip_insert_failed",
		[WEFT_ACCEL_SKIP_EARLY_DATA] = "skip_early_data",
		[WEFT_ACCEL_FALLBACK_BACKLOG] = "fallback_backlog",
		[WEFT_ACCEL_FALLBACK_PEER_GONE] = "fallback_peer_gone",
		[WEFT_ACCEL_SKIP_BLOCKING] = "skip_blocking",
		[WEFT_ACCEL_FALLBACK_PEER_NOT_READY] = "fallback_peer_not_ready",
		[WEFT_ACCEL_RESUMED] = "resumed",
		[WEFT_ACCEL_SKIP_LISTENER_UNKNOWN] = "skip_listener_unknown",
	};

	return counter < WEFT_ACCEL__MAX && names[counter] ? names[counter]
							    : "unknown";
}

const char *accel_counter_reason(unsigned int counter, const char **kind)
{
	const char *name = accel_counter_name(counter);

	if (!strncmp(name, "skip_", 5)) {
		*kind = "skip";
		return name + 5;
	}
	if (!strncmp(name, "fallback_", 9)) {
		*kind = "fallback";
		return name + 9;
	}
	*kind = "accelerated";
	return name;
}

int accel_stats_read(int fd, __u64 sums[WEFT_ACCEL__MAX])
{
	int err = 0;

	for (unsigned int i = 0; i < WEFT_ACCEL__MAX && !err; i++)
		err = datapath_counter_read(fd, i, &sums[i]);
	return err;
}

int accel_config_write(int fd, bool enabled)
{
	struct weft_accel_config cfg = { .enabled = enabled };
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int accel_config_read(int fd, bool *enabled)
{
	struct weft_accel_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	*enabled = cfg.enabled;
	return 0;
}

long accel_socks_count(int fd)
{
	struct weft_accel_key key, *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		prev = &key;
		n++;
	}
	return errno == ENOENT ? n : -errno;
}
