// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "sysfs.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <mntent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "log.h"

#define BPFFS_DEFAULT "/sys/fs/bpf"

int sysfs_cgroup2_mount(char *buf, size_t len)
{
	struct mntent *ent;
	int err = -ENOENT;
	FILE *f;

	f = setmntent("/proc/mounts", "r");
	if (!f)
		return -errno;
	while ((ent = getmntent(f))) {
		if (strcmp(ent->mnt_type, "cgroup2"))
			continue;
		if (strlen(ent->mnt_dir) >= len) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, ent->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	return err;
}

int sysfs_cgroup_resolve(const char *configured, char *buf, size_t len)
{
	char mount[PATH_MAX];
	struct stat st;
	int err, n;

	if (configured[0] == '/') {
		n = snprintf(buf, len, "%s", configured);
	} else {
		err = sysfs_cgroup2_mount(mount, sizeof(mount));
		if (err) {
			pr_warn("cgroup2 is not mounted (no cgroup2 line in /proc/mounts)\n");
			return err;
		}
		n = snprintf(buf, len, "%s/%s", mount, configured);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (stat(buf, &st)) {
		err = -errno;
		pr_warn("cgroup %s: %s\n", buf, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_warn("cgroup %s: not a directory\n", buf);
		return -ENOTDIR;
	}
	return 0;
}

static bool path_is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int sysfs_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int sysfs_bpffs_ensure(const char *pin_dir)
{
	char parent[PATH_MAX];
	char *slash;

	/* Walk up to the deepest existing ancestor and test that. */
	if (snprintf(parent, sizeof(parent), "%s", pin_dir) >=
	    (int)sizeof(parent))
		return -ENAMETOOLONG;
	for (;;) {
		struct stat st;

		if (stat(parent, &st) == 0)
			break;
		slash = strrchr(parent, '/');
		if (!slash || slash == parent)
			return -ENOENT;
		*slash = '\0';
	}
	if (path_is_bpffs(parent))
		return 0;
	if (strncmp(pin_dir, BPFFS_DEFAULT "/", sizeof(BPFFS_DEFAULT)) ||
	    path_is_bpffs(BPFFS_DEFAULT)) {
		pr_warn("pin dir %s is not on a bpffs (mount one: mount -t bpf bpf <dir>)\n",
			pin_dir);
		return -EINVAL;
	}
	if (mount("bpf", BPFFS_DEFAULT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		pr_warn("mounting bpffs on %s: %s\n", BPFFS_DEFAULT,
			strerror(errno));
		return err;
	}
	pr_info("mounted bpffs on %s\n", BPFFS_DEFAULT);
	return 0;
}
