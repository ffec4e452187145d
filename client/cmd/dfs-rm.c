/*
 * dfs-rm -- remove dfs files and, with -r, directory trees.
 *
 * A tree is removed depth first: each directory is listed (and the
 * listing closed) before its entries are removed, then removed itself
 * with dfs_rmdir() once empty.  A failure is reported and the rest goes
 * on; the exit status says whether anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define USAGE	"dfs-rm [-fr] [-s server] path ..."

struct rm {
	struct tool	 t;
	int		 force;
	int		 recursive;
};

static int	rm_path(struct rm *, const char *, const char *);

/* Reports a failure unless it is a missing file under -f.  Returns -1. */
static int
rm_fail(struct rm *rm, const char *what, int rc)
{
	if (!(rm->force && rc == -DFS_ERR_NOENT))
		tool_err(&rm->t, what, rc);
	return -1;
}

/* Removes a directory's entries and then the directory.  Returns 0 or
 * -1 (reported). */
static int
rm_tree(struct rm *rm, const char *path)
{
	char	 child[PATH_MAX];
	char	**names;
	size_t	 n, i;
	int	 rc, failed = 0;

	rc = tool_list(rm->t.dfs, path, &names, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		if (tool_join(child, path, names[i]) != 0) {
			tool_err(&rm->t, path, -DFS_ERR_NAMETOOLONG);
			failed = 1;
		} else if (rm_path(rm, child, child) != 0)
			failed = 1;
	}
	tool_names_free(names, n);
	if (rc != 0)
		return rm_fail(rm, path, rc);
	if (failed)
		return -1;
	if ((rc = dfs_rmdir(rm->t.dfs, path)) != 0)
		return rm_fail(rm, path, rc);
	return 0;
}

/* Removes one checked path, shown as `what`.  Returns 0 or -1. */
static int
rm_path(struct rm *rm, const char *what, const char *path)
{
	struct dfs_info	st;
	int		rc;

	if ((rc = dfs_getattr(rm->t.dfs, path, &st)) != 0)
		return rm_fail(rm, what, rc);
	if (st.type != DFS_FTYPE_DIR) {
		if ((rc = dfs_unlink(rm->t.dfs, path)) != 0)
			return rm_fail(rm, what, rc);
		return 0;
	}
	if (!rm->recursive)
		return rm_fail(rm, what, -DFS_ERR_ISDIR);
	if (strcmp(path, "/") == 0) {
		tool_errx(&rm->t, what, "refusing to remove the root "
		    "directory");
		return -1;
	}
	return rm_tree(rm, path);
}

int
main(int argc, char *argv[])
{
	struct rm	 rm;
	char		 path[PATH_MAX];
	int		 ch, i;

	memset(&rm, 0, sizeof(rm));
	tool_init(&rm.t, "dfs-rm", USAGE);
	while ((ch = tool_getopt(&rm.t, argc, argv, "fr", NULL)) != -1) {
		if (ch == 'f')
			rm.force = 1;
		else if (ch == 'r')
			rm.recursive = 1;
		else
			tool_usage(&rm.t);
	}
	if (optind >= argc && !rm.force)
		tool_usage(&rm.t);
	if (optind >= argc)
		return 0;
	tool_connect(&rm.t);
	for (i = optind; i < argc; i++)
		if (tool_path(&rm.t, argv[i], path) == 0)
			(void)rm_path(&rm, argv[i], path);
	return tool_exit(&rm.t);
}
