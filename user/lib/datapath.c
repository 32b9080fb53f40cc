// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "datapath.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weft/abi.h>

#include "log.h"

int datapath_pin_path(char *buf, size_t len, const char *pin_dir,
		      const char *subdir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s/%s", pin_dir, subdir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int map_open(const char *pin_dir, const char *name, int *fd)
{
	char path[PATH_MAX];
	int err;

	*fd = -1;
	err = datapath_pin_path(path, sizeof(path), pin_dir, WEFT_PIN_MAPS_DIR,
				name);
	if (err)
		return err;
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

const char *const datapath_map_names[] = {
	"weft_services",      "weft_clusters",       "weft_cluster_slots",
	"weft_backends",      "weft_maglev",         "weft_rr_state",
	"weft_backend_active", "weft_sock_revnat",   "weft_service_stats",
	"weft_tcp_stats",     "weft_counters",       "weft_service_meta",
	"weft_cluster_meta",  "weft_backend_meta",   "weft_agent_state",
	"weft_policy_dst",    "weft_policy_ident",   "weft_policy_src_ident",
	"weft_policy_src_net", "weft_policy_verdict", "weft_policy_config",
	"weft_policy_stats",  "weft_policy_events",  "weft_netns",
	"weft_policy_meta",   "weft_policy_ident_meta", "weft_node_addrs",
	NULL,
};

_Static_assert(sizeof(struct datapath_maps) ==
		       (sizeof(datapath_map_names) / sizeof(char *) - 1) *
			       sizeof(int),
	       "datapath_map_names must list every datapath_maps member");

int datapath_maps_open(const char *pin_dir, struct datapath_maps *maps)
{
	int *fds = (int *)maps;
	size_t i, n = sizeof(*maps) / sizeof(int);
	int err;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		err = map_open(pin_dir, datapath_map_names[i], &fds[i]);
		if (err) {
			if (err != -ENOENT)
				pr_warn("%s/%s/%s: %s\n", pin_dir,
					WEFT_PIN_MAPS_DIR, datapath_map_names[i],
					strerror(-err));
			datapath_maps_close(maps);
			return err;
		}
	}
	return 0;
}

void datapath_maps_close(struct datapath_maps *maps)
{
	int *fds = (int *)maps;
	size_t n = sizeof(*maps) / sizeof(int);

	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int datapath_unpin_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *ent;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name) >=
		    (int)sizeof(path)) {
			err = err ?: -ENAMETOOLONG;
			continue;
		}
		if (unlink(path) && errno != ENOENT) {
			pr_warn("%s: %s\n", path, strerror(errno));
			err = err ?: -errno;
		}
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT) {
		pr_warn("%s: %s\n", dir, strerror(errno));
		err = err ?: -errno;
	}
	return err;
}

/* Unlink every pin in pin_dir/subdir, then the directory itself. */
static int unpin_dir(const char *pin_dir, const char *subdir)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/%s", pin_dir, subdir) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	return datapath_unpin_dir(dir);
}

/* Map folders of any ABI version: "maps", "maps_v<N>". */
static int unpin_map_dirs(const char *pin_dir)
{
	struct dirent *ent;
	int err = 0;
	DIR *d = opendir(pin_dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((ent = readdir(d))) {
		if (strcmp(ent->d_name, "maps") &&
		    strncmp(ent->d_name, "maps_v", 6))
			continue;
		err = err ?: unpin_dir(pin_dir, ent->d_name);
	}
	closedir(d);
	return err;
}

int datapath_uninstall(const char *pin_dir)
{
	int err, err2;

	/* Links first: detach before the maps the programs use go away. */
	err = unpin_dir(pin_dir, WEFT_PIN_LINKS_DIR);
	err2 = unpin_map_dirs(pin_dir);
	err = err ?: err2;
	if (rmdir(pin_dir) && errno != ENOENT) {
		pr_warn("%s: %s\n", pin_dir, strerror(errno));
		err = err ?: -errno;
	}
	return err;
}

int datapath_ncpus(void)
{
	static int ncpus;

	if (!ncpus)
		ncpus = libbpf_num_possible_cpus();
	return ncpus;
}

const char *weft_counter_name(unsigned int counter)
{
	static const char *const names[WEFT_CNT__MAX] = {
		[WEFT_CNT_LB_HIT] = "lb_hit",
		[WEFT_CNT_LB_NO_BACKEND] = "lb_no_backend",
		[WEFT_CNT_LB_SLOT_MISSING] = "lb_slot_missing",
		[WEFT_CNT_LB_BACKEND_MISSING] = "lb_backend_missing",
		[WEFT_CNT_LB_CLUSTER_MISSING] = "lb_cluster_missing",
		[WEFT_CNT_LB_PASSTHROUGH] = "lb_passthrough",
		[WEFT_CNT_REVNAT_HIT] = "revnat_hit",
		[WEFT_CNT_REVNAT_UPDATE_FAIL] = "revnat_update_fail",
		[WEFT_CNT_POLICY_STATS_FULL] = "policy_stats_full",
		[WEFT_CNT_POLICY_EVENTS_LOST] = "policy_events_lost",
	};

	return counter < WEFT_CNT__MAX && names[counter] ? names[counter]
							  : "unknown";
}

int datapath_counter_read(int fd, unsigned int counter, __u64 *sum)
{
	int ncpus = datapath_ncpus();
	__u64 *values;
	__u32 key = counter;

	*sum = 0;
	if (ncpus <= 0)
		return -EINVAL;
	values = calloc((size_t)ncpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, values)) {
		int err = -errno;

		free(values);
		return err;
	}
	for (int i = 0; i < ncpus; i++)
		*sum += values[i];
	free(values);
	return 0;
}

int datapath_service_stats_read(int fd, __u32 service_id,
				struct weft_service_stats *sum)
{
	int ncpus = datapath_ncpus();
	struct weft_service_stats *values;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return -EINVAL;
	/* per-CPU values are laid out at 8-byte strides; this struct is 24 */
	values = calloc((size_t)ncpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &service_id, values)) {
		int err = -errno;

		free(values);
		return err;
	}
	for (int i = 0; i < ncpus; i++) {
		sum->connects += values[i].connects;
		sum->datagrams += values[i].datagrams;
		sum->no_backend += values[i].no_backend;
	}
	free(values);
	return 0;
}
