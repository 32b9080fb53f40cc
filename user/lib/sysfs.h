/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Finding the kernel filesystems weft needs: cgroup2 and bpffs. */
#ifndef WEFT_SYSFS_H
#define WEFT_SYSFS_H

#include <stddef.h>

/*
 * Find the cgroup2 mount from /proc/mounts (a unified layout has it at
 * /sys/fs/cgroup, a hybrid one at /sys/fs/cgroup/unified).  Returns 0 and
 * the mount point in buf, or -ENOENT when cgroup2 is not mounted.
 */
int sysfs_cgroup2_mount(char *buf, size_t len);

/*
 * Resolve a configured cgroup path: absolute paths are used as they are,
 * relative ones are taken below the cgroup2 mount.  The cgroup must exist
 * (weft never creates the cgroup it serves: the runtime owns it).
 */
int sysfs_cgroup_resolve(const char *configured, char *buf, size_t len);

/*
 * Make sure the directory `pin_dir` lives on a bpffs: when no bpffs is
 * mounted at /sys/fs/bpf and pin_dir is below it, mount one there.
 * Returns 0 or a negative errno with a message already logged.
 */
int sysfs_bpffs_ensure(const char *pin_dir);

/* mkdir -p, mode 0700 for the new levels.  0 or negative errno. */
int sysfs_mkdir_p(const char *path);

#endif /* WEFT_SYSFS_H */
