// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Run after every kernel and e2e test: the suite fails if anything weft
 * made is still on the machine.  Looked for by name, whoever made it:
 *   - network namespaces /run/netns/weft-*
 *   - cgroups named weft-* (cgroup2 mount and /sys/fs/cgroup, 4 levels)
 *   - anything under /sys/fs/bpf/weft-*
 *   - loaded BPF programs named weft_*
 * Programs are freed asynchronously after their last link or fd goes (RCU,
 * workqueues), so the check polls for a few seconds before failing.
 */
#include "../test.h"
#include "../lib/sandbox.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEFT_MAX 2048
#define CGROUP_DEPTH 4

static char left[LEFT_MAX];

static void note(const char *kind, const char *what)
{
	size_t n = strlen(left);

	if (n < sizeof(left) - 1)
		snprintf(left + n, sizeof(left) - n, "  %s %.300s\n", kind, what);
}

static void dir_entries(const char *dir, const char *prefix, const char *kind)
{
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		char path[PATH_MAX];

		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		note(kind, path);
	}
	closedir(dp);
}

static int cgroup_visit(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	if (flag != FTW_D)
		return FTW_CONTINUE;
	if (!strncmp(path + ftw->base, "weft-", 5))
		note("cgroup", path);
	return ftw->level >= CGROUP_DEPTH ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
}

static void bpf_progs(void)
{
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		char what[64];
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* freed meanwhile */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, "weft_", 5)) {
			snprintf(what, sizeof(what), "id %u %s", id, info.name);
			note("bpf prog", what);
		}
		close(fd);
	}
}

static bool nothing_left(void)
{
	char mnt[PATH_MAX];

	left[0] = '\0';
	dir_entries("/run/netns", "weft-", "netns");
	dir_entries("/sys/fs/bpf", "weft-", "bpffs");
	/* FTW_ACTIONRETVAL (GNU, -D_GNU_SOURCE) to stop at CGROUP_DEPTH. */
	nftw("/sys/fs/cgroup", cgroup_visit, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	if (!sb_cgroup2_mount(mnt, sizeof(mnt)) && strncmp(mnt, "/sys/fs/cgroup", 14))
		nftw(mnt, cgroup_visit, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	bpf_progs();
	return left[0] == '\0';
}

WEFT_AFTER_ALL_TEST(after_all_nothing_left)
{
	if (geteuid() != 0) {
		test_skip("needs root");
		return;
	}
	if (!SB_WAIT_UNTIL(nothing_left(), 5000))
		test_fail(__FILE__, __LINE__,
			  "left on the machine by this or another run:\n%s", left);
}
