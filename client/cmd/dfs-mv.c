/*
 * dfs-mv -- rename a dfs file or directory.
 *
 * One atomic dfs_rename().  If the target is an existing directory the
 * source moves into it under its own name.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define USAGE	"dfs-mv [-s server] source target"

/* Where `src` goes: into `dst` if it is a directory, else `dst`.  Sets
 * `to` and its display name `shown`.  Returns 0 or -1 (reported). */
static int
target(struct tool *t, const char *src, const char *dstarg,
    const char *dst, char *to, char *shown)
{
	struct dfs_info	st;
	char		base[PATH_MAX];
	int		rc;

	snprintf(to, PATH_MAX, "%s", dst);
	snprintf(shown, PATH_MAX, "%s", dstarg);
	rc = dfs_getattr(t->dfs, dst, &st);
	if (rc == -DFS_ERR_NOENT)
		return 0;
	if (rc != 0) {
		tool_err(t, dstarg, rc);
		return -1;
	}
	if (st.type != DFS_FTYPE_DIR || strcmp(src, "/") == 0)
		return 0;
	tool_basename(src, base);
	if (tool_join(to, dst, base) != 0) {
		tool_err(t, dstarg, -DFS_ERR_NAMETOOLONG);
		return -1;
	}
	snprintf(shown, PATH_MAX, "%s", to);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct tool	t;
	struct dfs_info	st;
	char		src[PATH_MAX], dst[PATH_MAX], to[PATH_MAX];
	char		shown[PATH_MAX];
	int		rc;

	tool_init(&t, "dfs-mv", USAGE);
	while (tool_getopt(&t, argc, argv, "", NULL) != -1)
		tool_usage(&t);
	if (argc - optind != 2)
		tool_usage(&t);
	if (tool_path(&t, argv[optind], src) != 0 ||
	    tool_path(&t, argv[optind + 1], dst) != 0)
		return 1;
	tool_connect(&t);
	/* a missing source is reported as such, not as a target problem */
	if ((rc = dfs_getattr(t.dfs, src, &st)) != 0) {
		tool_err(&t, argv[optind], rc);
		return tool_exit(&t);
	}
	if (target(&t, src, argv[optind + 1], dst, to, shown) != 0)
		return tool_exit(&t);
	if ((rc = dfs_rename(t.dfs, src, to)) != 0)
		tool_err(&t, shown, rc);
	return tool_exit(&t);
}
