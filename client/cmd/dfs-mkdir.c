/*
 * dfs-mkdir -- make dfs directories.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define USAGE	"dfs-mkdir [-p] [-m mode] [-s server] path ..."

struct mk {
	struct tool	 t;
	int		 parents;
	unsigned int	 mode;
};

/* Creates one directory; under -p an existing directory is fine.
 * Returns 0 or a dfs status. */
static int
mk_one(struct mk *mk, const char *path, unsigned int mode)
{
	struct dfs_info	st;
	int		rc;

	rc = dfs_mkdir(mk->t.dfs, path, mode);
	if (rc != -DFS_ERR_EXIST || !mk->parents)
		return rc;
	if ((rc = dfs_getattr(mk->t.dfs, path, &st)) != 0)
		return rc;
	return st.type == DFS_FTYPE_DIR ? 0 : -DFS_ERR_EXIST;
}

/* Creates a checked path (and with -p its missing parents, mode
 * u+wx as mkdir(1) does).  Returns 0 or -1 (reported under `arg`). */
static int
mk_path(struct mk *mk, const char *arg, char *path)
{
	unsigned int	 pmode;
	char		*p;
	int		 rc = 0;
	mode_t		 mask;

	mask = umask(0);
	umask(mask);
	pmode = (0777 & ~mask) | 0300;
	for (p = path + 1; mk->parents && rc == 0 &&
	    (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		rc = mk_one(mk, path, pmode);
		*p = '/';
	}
	if (rc == 0 && strcmp(path, "/") != 0)
		rc = mk_one(mk, path, mk->mode);
	else if (rc == 0 && !mk->parents)
		rc = -DFS_ERR_EXIST;
	if (rc != 0) {
		tool_err(&mk->t, arg, rc);
		return -1;
	}
	return 0;
}

/* Parses -m MODE (octal, at most 07777).  Returns 0 or -1. */
static int
parse_mode(const char *s, unsigned int *mode)
{
	unsigned long	v;

	if (tool_number(s, 8, 07777, &v) != 0)
		return -1;
	*mode = (unsigned int)v;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct mk	 mk;
	char		 path[PATH_MAX];
	mode_t		 mask;
	int		 ch, i;

	memset(&mk, 0, sizeof(mk));
	tool_init(&mk.t, "dfs-mkdir", USAGE);
	mask = umask(0);
	umask(mask);
	mk.mode = 0777 & ~mask;
	while ((ch = tool_getopt(&mk.t, argc, argv, "m:p", NULL)) != -1) {
		if (ch == 'p')
			mk.parents = 1;
		else if (ch == 'm' && parse_mode(optarg, &mk.mode) != 0) {
			fprintf(stderr, "dfs-mkdir: %s: invalid mode (octal, "
			    "at most 7777)\n", optarg);
			tool_usage(&mk.t);
		} else if (ch != 'm')
			tool_usage(&mk.t);
	}
	if (optind >= argc)
		tool_usage(&mk.t);
	tool_connect(&mk.t);
	for (i = optind; i < argc; i++)
		if (tool_path(&mk.t, argv[i], path) == 0)
			(void)mk_path(&mk, argv[i], path);
	return tool_exit(&mk.t);
}
