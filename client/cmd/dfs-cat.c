/*
 * dfs-cat -- concatenate dfs files to standard output.
 *
 * Each file is streamed a chunk at a time, so memory use does not grow
 * with file size.  A file that fails is reported and skipped; the exit
 * status says whether any did.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tool.h"

#define USAGE	"dfs-cat [--no-cache] [-s server] path ..."

/* Copies one dfs file to stdout; reports failures under `arg`. */
static void
cat_one(struct tool *t, const char *arg)
{
	char		 path[PATH_MAX];
	struct dfs_file	*f;
	ssize_t		 n;
	int		 rc;

	if (tool_path(t, arg, path) != 0)
		return;
	rc = dfs_open(t->dfs, path, tool_rmode(t), &f);
	if (rc != 0) {
		tool_err(t, arg, rc);
		return;
	}
	/* from a cached copy the kernel moves the bytes (sendfile) */
	while ((n = dfs_read_to_fd(f, STDOUT_FILENO, TOOL_CHUNK)) > 0)
		;
	if (n < 0 && errno == EPIPE)
		tool_epipe();
	if (n < 0 && errno != 0) {
		tool_errno(t, "write error", errno);
		exit(tool_exit(t));
	}
	if (n < 0)
		tool_err(t, arg, (int)n);
	(void)dfs_close(f);
	tool_cache_warn(t);
}

int
main(int argc, char *argv[])
{
	static const struct option	lopts[] = {
		{ "no-cache",	no_argument,	NULL,	'C' },
		{ NULL,		0,		NULL,	0 },
	};
	struct tool			t;
	int				i, ch;

	tool_init(&t, "dfs-cat", USAGE);
	while ((ch = tool_getopt(&t, argc, argv, "", lopts)) != -1) {
		if (ch != 'C')
			tool_usage(&t);
		t.no_cache = 1;
	}
	if (optind >= argc)
		tool_usage(&t);
	tool_connect(&t);
	for (i = optind; i < argc; i++)
		cat_one(&t, argv[i]);
	return tool_exit(&t);
}
