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

#include "tool/common.h"

#define USAGE	"dfs-cat [-s server] path ..."

static char	buf[TOOL_CHUNK];

/* Writes n bytes at p to stdout; on a write error reports it and exits
 * (nothing more can be done). */
static void
put(struct tool *t, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			tool_epipe();
		if (w < 0) {
			tool_errno(t, "write error", errno);
			exit(tool_exit(t));
		}
		p += w;
		n -= (size_t)w;
	}
}

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
	rc = dfs_open(t->dfs, path, "r", &f);
	if (rc != 0) {
		tool_err(t, arg, rc);
		return;
	}
	while ((n = dfs_read(f, buf, sizeof(buf))) > 0)
		put(t, buf, (size_t)n);
	if (n < 0)
		tool_err(t, arg, (int)n);
	(void)dfs_close(f);
}

int
main(int argc, char *argv[])
{
	struct tool	t;
	int		i;

	tool_init(&t, "dfs-cat", USAGE);
	while (tool_getopt(&t, argc, argv, "", NULL) != -1)
		tool_usage(&t);
	if (optind >= argc)
		tool_usage(&t);
	tool_connect(&t);
	for (i = optind; i < argc; i++)
		cat_one(&t, argv[i]);
	return tool_exit(&t);
}
