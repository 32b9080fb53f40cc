// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * weft uninstall: remove every pin under the pin directory (links first,
 * which detaches the programs, then maps) and the directories weft made,
 * and say what was removed.  A weftd still running keeps its programs
 * attached through the link fds it holds until it exits.
 */
#include "main.h"
#include "vec.h"

#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

struct path_list {
	size_t n, cap;
	char **paths;
};

static int path_add(struct path_list *l, const char *a, const char *b)
{
	char *p;

	if (vec_reserve((void **)&l->paths, &l->cap, l->n + 1,
			sizeof(*l->paths)))
		return -ENOMEM;
	if (asprintf(&p, "%s%s%s", a, b ? "/" : "", b ? b : "") < 0)
		return -ENOMEM;
	l->paths[l->n++] = p;
	return 0;
}

static void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pins datapath_uninstall() will remove from dir, then dir itself. */
static int collect(struct path_list *l, const char *dir)
{
	size_t first = l->n;
	struct dirent *ent;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (ent = readdir(d)))
		if (ent->d_name[0] != '.')
			err = path_add(l, dir, ent->d_name);
	closedir(d);
	if (err)
		return err;
	qsort(l->paths + first, l->n - first, sizeof(*l->paths), cmp_str);
	return path_add(l, dir, NULL);
}

/*
 * datapath_uninstall() unlinks whatever is in maps/ and links/: refuse
 * anything but a directory of its own on a bpffs, so that a mistyped -p
 * cannot delete ordinary files or empty the whole bpffs.
 */
static int check_pin_dir(struct cli_ctx *ctx, bool *exists)
{
	char parent[PATH_MAX];
	struct stat st, pst;
	struct statfs fs;

	*exists = false;
	if (statfs(ctx->pin_dir, &fs)) {
		if (errno == ENOENT)
			return CLI_EXIT_OK;
		return cli_error(ctx, CLI_EXIT_ERROR, "%s: %s", ctx->pin_dir,
				 strerror(errno));
	}
	if (fs.f_type != BPF_FS_MAGIC)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "%s is not on a bpffs; refusing to remove anything there",
				 ctx->pin_dir);
	snprintf(parent, sizeof(parent), "%s/..", ctx->pin_dir);
	if (stat(ctx->pin_dir, &st) || stat(parent, &pst))
		return cli_error(ctx, CLI_EXIT_ERROR, "%s: %s", ctx->pin_dir,
				 strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cli_error(ctx, CLI_EXIT_ERROR, "%s is not a directory",
				 ctx->pin_dir);
	if (st.st_dev != pst.st_dev || st.st_ino == pst.st_ino)
		return cli_error(ctx, CLI_EXIT_ERROR,
				 "%s is a bpffs mount point, not a weft pin directory",
				 ctx->pin_dir);
	*exists = true;
	return CLI_EXIT_OK;
}

int do_uninstall(struct cli_ctx *ctx, int argc, char **argv)
{
	struct path_list pins = {}, removed = {};
	char dir[PATH_MAX];
	struct stat st;
	bool exists;
	int err, ret;

	ret = cli_no_args(ctx, "uninstall", argc, argv);
	if (ret)
		return ret;
	ret = check_pin_dir(ctx, &exists);
	if (ret)
		return ret;

	if (exists) {
		/* Same order as datapath_uninstall(): links detach first. */
		snprintf(dir, sizeof(dir), "%s/%s", ctx->pin_dir,
			 WEFT_PIN_LINKS_DIR);
		err = collect(&pins, dir);
		snprintf(dir, sizeof(dir), "%s/%s", ctx->pin_dir,
			 WEFT_PIN_MAPS_DIR);
		err = err ?: collect(&pins, dir);
		err = err ?: path_add(&pins, ctx->pin_dir, NULL);
		if (err) {
			ret = cli_error(ctx, CLI_EXIT_ERROR, "%s: %s",
					ctx->pin_dir, strerror(-err));
			goto out;
		}
		err = datapath_uninstall(ctx->pin_dir);
		for (size_t i = 0; i < pins.n; i++) {
			if (lstat(pins.paths[i], &st) == 0 || errno != ENOENT)
				continue;
			if (path_add(&removed, pins.paths[i], NULL)) {
				err = err ?: -ENOMEM;
				break;
			}
		}
	} else {
		err = 0;
	}

	if (!ctx->json) {
		for (size_t i = 0; i < removed.n; i++)
			printf("removed %s\n", removed.paths[i]);
		if (!removed.n && !err)
			printf("nothing installed under %s\n", ctx->pin_dir);
	}
	if (err) {
		ret = cli_error(ctx, CLI_EXIT_ERROR,
				"uninstall under %s incomplete: %s", ctx->pin_dir,
				strerror(-err));
		goto out;
	}
	if (ctx->json) {
		json_object_begin(&ctx->jw);
		json_key(&ctx->jw, "removed");
		json_array_begin(&ctx->jw);
		for (size_t i = 0; i < removed.n; i++)
			json_string(&ctx->jw, removed.paths[i]);
		json_array_end(&ctx->jw);
		json_object_end(&ctx->jw);
		ret = cli_json_end(ctx);
	}
out:
	path_list_free(&removed);
	path_list_free(&pins);
	return ret;
}
