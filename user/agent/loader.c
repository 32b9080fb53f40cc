// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weft/abi.h>

#include "accel.h"
#include "log.h"
#include "policy.skel.h"
#include "sock_accel.skel.h"
#include "sock_lb.skel.h"
#include "sockops.skel.h"
#include "sysfs.h"

/*
 * The BPF objects of the datapath, loaded in this order.  They declare the
 * same maps (bpf/lib/maps.h); the first one creates and pins them, the
 * later ones reuse the pins, so every program sees one set.
 */
struct loader {
	struct sock_lb *lb;     /* cgroup sock_addr + sock_release */
	struct sockops *ops;    /* cgroup sockops */
	struct policy *pol;     /* cgroup_skb ingress: AuthorizationPolicy */
	struct sock_accel *accel; /* sk_msg on weft_accel_hash; NULL: none */
	struct datapath_maps maps;
	struct accel_maps accel_maps; /* fds owned by the skeletons */
	struct loader_features features;
	int cgroup_fd;
	char cgroup_path[PATH_MAX];
	char pin_dir[PATH_MAX];
};

static void loader_probe(struct loader_features *f)
{
	f->set_retval = libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
						BPF_FUNC_set_retval, NULL) > 0;
	pr_debug("feature bpf_set_retval in sock_addr: %s\n",
		 f->set_retval ? "yes" : "no (refusals report EPERM)");
	f->current_cgroup_id =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
					BPF_FUNC_get_current_cgroup_id, NULL) > 0;
	pr_debug("feature bpf_get_current_cgroup_id in sock_addr: %s\n",
		 f->current_cgroup_id ? "yes" : "no (connect events carry cgroup 0)");
}

/*
 * Pin every weft_* map under pin_dir/maps.  libbpf reuses a pinned map when
 * its type, sizes and flags match, and refuses to load otherwise; a layout
 * change therefore fails loudly instead of mixing layouts.
 */
static int loader_set_pins(struct bpf_object *obj, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		if (strncmp(name, "weft_", 5))
			continue; /* .rodata and friends stay private */
		err = datapath_pin_path(path, sizeof(path), pin_dir,
					WEFT_PIN_MAPS_DIR, name);
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* Is the link at fd a cgroup link on the cgroup whose inode is cgroup_id? */
static bool link_on_cgroup(int fd, __u64 cgroup_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == BPF_LINK_TYPE_CGROUP &&
	       info.cgroup.cgroup_id == cgroup_id;
}

static int loader_attach_one(struct loader *l, struct bpf_program *prog,
			     const char *pin_dir, __u64 cgroup_id)
{
	const char *name = bpf_program__name(prog);
	struct bpf_link *link;
	char path[PATH_MAX];
	int err;

	err = datapath_pin_path(path, sizeof(path), pin_dir,
				WEFT_PIN_LINKS_DIR, name);
	if (err)
		return err;

	link = access(path, F_OK) == 0 ? bpf_link__open(path) : NULL;
	if (link) {
		if (link_on_cgroup(bpf_link__fd(link), cgroup_id)) {
			err = bpf_link__update_program(link, prog);
			bpf_link__destroy(link); /* the pin keeps it */
			if (err)
				pr_warn("%s: updating program: %s\n", path,
					strerror(-err));
			else
				pr_debug("%s: adopted, program replaced\n",
					 path);
			return err;
		}
		/* Pinned for another cgroup: the node config moved. */
		pr_info("%s: attached to another cgroup, re-attaching\n",
			path);
		bpf_link__unpin(link);
		bpf_link__destroy(link);
	}

	link = bpf_program__attach_cgroup(prog, l->cgroup_fd);
	if (!link) {
		err = -errno;
		pr_warn("attaching %s: %s\n", name, strerror(-err));
		return err;
	}
	err = bpf_link__pin(link, path);
	if (err)
		pr_warn("pinning %s: %s\n", path, strerror(-err));
	bpf_link__destroy(link); /* pinned: attachment outlives the fd */
	return err;
}

static int loader_attach_all(struct loader *l, const char *cgroup_path,
			     const char *pin_dir)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	struct stat st;
	int err;

	if (fstat(l->cgroup_fd, &st))
		return -errno;
	if (snprintf(path, sizeof(path), "%s/%s", pin_dir,
		     WEFT_PIN_LINKS_DIR) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = sysfs_mkdir_p(path);
	if (err) {
		pr_warn("%s: %s\n", path, strerror(-err));
		return err;
	}
	struct bpf_object *objs[] = { l->lb->obj, l->ops->obj, l->pol->obj };

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		bpf_object__for_each_program(prog, objs[i]) {
			err = loader_attach_one(l, prog, pin_dir, st.st_ino);
			if (err) {
				pr_warn("attaching to cgroup %s failed\n",
					cgroup_path);
				return err;
			}
		}
	}
	return 0;
}

static int loader_take_maps(struct loader *l)
{
	int *fds = (int *)&l->maps;

	for (size_t i = 0; datapath_map_names[i]; i++) {
		fds[i] = bpf_object__find_map_fd_by_name(l->lb->obj,
							 datapath_map_names[i]);
		if (fds[i] < 0) {
			pr_warn("BPF object has no map %s\n",
				datapath_map_names[i]);
			return -ENOENT;
		}
	}
	return 0;
}

/* --- same-node socket acceleration ---------------------------------------- */

/*
 * The bound of unread redirected data per receiving socket (see
 * bpf/sock_accel.bpf.c): net.ipv4.tcp_rmem's maximum in weftd's namespace,
 * TCP's own per-socket bound, but not below ACCEL_BACKLOG_FLOOR.  A
 * redirected sender is never held back by its receiver, and a receiver
 * that keeps up on average still falls behind while it is not scheduled:
 * on a busy 2-CPU machine bulk senders got 16 MiB ahead within 5 s, and
 * 32 MiB in some runs (falling back to TCP halved their throughput;
 * docs/benchmarks.md).  Node-wide, TCP memory pressure bounds the sum.
 */
#define ACCEL_BACKLOG_FLOOR (64u << 20)

/* net.ipv4.tcp_rmem's maximum, 0 when unreadable. */
static __u32 loader_tcp_rmem_max(void)
{
	unsigned int min, def, max;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_rmem", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%u %u %u", &min, &def, &max);
	fclose(f);
	return n == 3 ? max : 0;
}

/*
 * Load the sk_msg program over the maps sockops already pinned.  Not
 * fatal: a kernel that refuses it runs without acceleration (it stays off
 * in weft_accel_config, so sockops adds no socket to the hash).
 */
static void loader_accel_open(struct loader *l, const char *pin_dir)
{
	__u32 limit = loader_tcp_rmem_max();
	int err;

	l->accel = sock_accel__open();
	if (!l->accel) {
		pr_warn("socket acceleration unavailable: %s\n", strerror(errno));
		return;
	}
	l->accel->rodata->accel_backlog_limit =
		limit > ACCEL_BACKLOG_FLOOR ? limit : ACCEL_BACKLOG_FLOOR;
	err = loader_set_pins(l->accel->obj, pin_dir);
	err = err ?: sock_accel__load(l->accel);
	if (err) {
		/* Without fexit (no BTF trampolines, or tracing not allowed)
		 * the rest still works: blocking servers then leave the hash
		 * at their first segment (docs/design.md). */
		sock_accel__destroy(l->accel);
		l->accel = sock_accel__open();
		if (!l->accel) {
			pr_warn("socket acceleration unavailable: %s\n",
				strerror(errno));
			return;
		}
		l->accel->rodata->accel_backlog_limit =
			limit > ACCEL_BACKLOG_FLOOR ? limit : ACCEL_BACKLOG_FLOOR;
		bpf_program__set_autoload(l->accel->progs.weft_accel_accept, false);
		err = loader_set_pins(l->accel->obj, pin_dir);
		err = err ?: sock_accel__load(l->accel);
		if (!err)
			pr_info("socket acceleration: no fexit/inet_accept on this kernel; "
				"blocking servers leave the hash at their first segment\n");
	}
	if (err) {
		pr_warn("socket acceleration unavailable: loading the sk_msg program: %s\n",
			strerror(-err));
		sock_accel__destroy(l->accel);
		l->accel = NULL;
		return;
	}
	l->features.accel = true;
}

/*
 * weft_accel_accept (fexit of inet_accept) takes a blocking socket out of
 * the hash when it is accepted.  A tracing link cannot swap its program,
 * so the new link is attached first and then replaces the pin: for a
 * moment both programs run, and the second finds nothing left to do.
 * Without it (a kernel without fexit) a blocking server socket leaves at
 * its first segment instead, which docs/design.md describes: logged, not
 * fatal.
 */
static void loader_accel_attach_accept(struct loader *l)
{
	struct bpf_link *link;
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", l->pin_dir,
		     WEFT_PIN_LINKS_DIR) >= (int)sizeof(path) ||
	    sysfs_mkdir_p(path) ||
	    datapath_pin_path(path, sizeof(path), l->pin_dir,
			      WEFT_PIN_LINKS_DIR, "weft_accel_accept"))
		return;
	if (!bpf_program__autoload(l->accel->progs.weft_accel_accept))
		return;
	link = bpf_program__attach_trace(l->accel->progs.weft_accel_accept);
	if (!link) {
		pr_warn("socket acceleration: attaching fexit/inet_accept: %s; "
			"blocking servers leave the hash at their first segment\n",
			strerror(errno));
		return;
	}
	unlink(path);
	err = bpf_link__pin(link, path);
	if (err)
		pr_warn("pinning %s: %s\n", path, strerror(-err));
	bpf_link__destroy(link); /* pinned: attachment outlives the fd */
}

/*
 * Attach the sk_msg program to the socket hash.  The map holds the
 * attachment (there is no link to pin before Linux 6.10), so it lives as
 * long as the pinned map; attaching again replaces the program of an
 * earlier weftd in one step.  Sockets already in the hash keep the program
 * they were added with, which reads the same pinned maps.
 */
static int loader_accel_attach(struct loader *l)
{
	int err;

	if (!l->accel)
		return 0;
	err = bpf_prog_attach(bpf_program__fd(l->accel->progs.weft_accel_msg),
			      bpf_map__fd(l->accel->maps.weft_accel_hash),
			      BPF_SK_MSG_VERDICT, 0);
	if (err) {
		err = -errno;
		pr_warn("attaching weft_accel_msg to weft_accel_hash: %s\n",
			strerror(-err));
		return err;
	}
	loader_accel_attach_accept(l);
	return 0;
}

/* The acceleration maps as sockops loaded them (it declares them all). */
static void loader_accel_take_maps(struct loader *l)
{
	struct bpf_object *obj = l->ops->obj;

	l->accel_maps.socks = bpf_object__find_map_fd_by_name(obj, "weft_accel_hash");
	l->accel_maps.flows = bpf_object__find_map_fd_by_name(obj, "weft_accel_flows");
	l->accel_maps.config = bpf_object__find_map_fd_by_name(obj, "weft_accel_config");
	l->accel_maps.stats = bpf_object__find_map_fd_by_name(obj, "weft_accel_stats");
}

const struct accel_maps *loader_accel_maps(const struct loader *l)
{
	return l->accel_maps.config >= 0 ? &l->accel_maps : NULL;
}

int loader_accel_set(struct loader *l, bool enabled)
{
	int fd = l->accel_maps.config;

	if (enabled && !l->features.accel) {
		pr_warn("socketAcceleration: the kernel refused the sk_msg program; staying off\n");
		enabled = false;
	}
	if (fd < 0)
		return -ENOENT;
	return accel_config_write(fd, enabled);
}

int loader_open(const char *cgroup_path, const char *pin_dir,
		struct loader **out)
{
	char maps_dir[PATH_MAX];
	struct loader *l;
	int err;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cgroup_fd = -1;
	if (snprintf(l->cgroup_path, sizeof(l->cgroup_path), "%s",
		     cgroup_path) >= (int)sizeof(l->cgroup_path) ||
	    snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin_dir) >=
		    (int)sizeof(l->pin_dir)) {
		err = -ENAMETOOLONG;
		goto err_free;
	}

	err = sysfs_bpffs_ensure(pin_dir);
	if (err)
		goto err_free;
	if (snprintf(maps_dir, sizeof(maps_dir), "%s/%s", pin_dir,
		     WEFT_PIN_MAPS_DIR) >= (int)sizeof(maps_dir)) {
		err = -ENAMETOOLONG;
		goto err_free;
	}
	err = sysfs_mkdir_p(maps_dir);
	if (err) {
		pr_warn("%s: %s\n", maps_dir, strerror(-err));
		goto err_free;
	}

	l->cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		err = -errno;
		pr_warn("cgroup %s: %s\n", cgroup_path, strerror(errno));
		goto err_free;
	}

	loader_probe(&l->features);
	l->lb = sock_lb__open();
	l->ops = sockops__open();
	l->pol = policy__open();
	if (!l->lb || !l->ops || !l->pol) {
		err = -errno ?: -ENOMEM;
		pr_warn("opening BPF objects: %s\n", strerror(-err));
		goto err_destroy;
	}
	l->lb->rodata->have_set_retval = l->features.set_retval;
	l->lb->rodata->have_current_cgroup_id = l->features.current_cgroup_id;
	err = loader_set_pins(l->lb->obj, pin_dir);
	err = err ?: loader_set_pins(l->ops->obj, pin_dir);
	err = err ?: loader_set_pins(l->pol->obj, pin_dir);
	if (err)
		goto err_destroy;
	err = sock_lb__load(l->lb);
	err = err ?: sockops__load(l->ops);
	err = err ?: policy__load(l->pol);
	if (err) {
		pr_warn("loading BPF programs: %s (a map pinned under %s with another layout? see docs/operations.md)\n",
			strerror(-err), maps_dir);
		goto err_destroy;
	}
	err = loader_take_maps(l);
	if (err)
		goto err_destroy;
	loader_accel_take_maps(l);
	loader_accel_open(l, pin_dir);
	*out = l;
	return 0;

err_destroy:
	policy__destroy(l->pol);
	sockops__destroy(l->ops);
	sock_lb__destroy(l->lb);
	close(l->cgroup_fd);
err_free:
	free(l);
	return err;
}

/*
 * Remove map folders of other ABI versions ("maps_v<N>", and the unversioned
 * "maps" of the first releases).  Called once the links run our programs.
 */
static void loader_retire_old_maps(const char *pin_dir)
{
	struct dirent *ent;
	DIR *d = opendir(pin_dir);

	if (!d)
		return;
	while ((ent = readdir(d))) {
		char path[PATH_MAX];

		if (strcmp(ent->d_name, "maps") &&
		    strncmp(ent->d_name, "maps_v", 6))
			continue;
		if (!strcmp(ent->d_name, WEFT_PIN_MAPS_DIR))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", pin_dir,
			     ent->d_name) >= (int)sizeof(path))
			continue;
		pr_info("upgrade: removing the maps of the previous layout in %s\n",
			path);
		datapath_unpin_dir(path);
	}
	closedir(d);
}

int loader_attach(struct loader *l)
{
	int err = loader_accel_attach(l);

	err = err ?: loader_attach_all(l, l->cgroup_path, l->pin_dir);

	if (!err)
		loader_retire_old_maps(l->pin_dir);
	return err;
}

int loader_install(const char *cgroup_path, const char *pin_dir,
		   struct loader **out)
{
	int err = loader_open(cgroup_path, pin_dir, out);

	if (err)
		return err;
	err = loader_attach(*out);
	if (err) {
		loader_free(*out);
		*out = NULL;
	}
	return err;
}

int loader_prog_fd(const struct loader *l, const char *name)
{
	const struct bpf_object *objs[] = { l->lb->obj, l->ops->obj,
					    l->pol->obj };

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(objs[i], name);

		if (prog)
			return bpf_program__fd(prog);
	}
	return -ENOENT;
}

const struct datapath_maps *loader_maps(const struct loader *l)
{
	return &l->maps;
}

const struct loader_features *loader_features(const struct loader *l)
{
	return &l->features;
}

void loader_free(struct loader *l)
{
	if (!l)
		return;
	/* pinned maps and links survive */
	policy__destroy(l->pol);
	sock_accel__destroy(l->accel);
	sockops__destroy(l->ops);
	sock_lb__destroy(l->lb);
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	free(l);
}
