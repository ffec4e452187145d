/*
 * libdfs-hello.c -- libdfs in a few lines: write a file, read it back.
 *
 * usage: DFS_SERVER=HOST[:PORT] libdfs-hello /path
 */
#include <stdio.h>
#include <string.h>

#include "dfs.h"

int
main(int argc, char *argv[])
{
	struct dfs	*dfs;
	struct dfs_file	*f;
	char		 buf[128];
	const char	*msg = "hello from libdfs\n";
	ssize_t		 n;
	int		 rc;

	if (argc != 2) {
		fprintf(stderr, "usage: libdfs-hello /path\n");
		return 1;
	}
	if ((rc = dfs_connect(&dfs, NULL)) != 0) {
		fprintf(stderr, "libdfs-hello: %s\n", dfs_strerror(rc));
		return 1;
	}
	/* "w": created if missing, locked, uploaded and committed on close */
	if ((rc = dfs_open(dfs, argv[1], "w", &f)) != 0 ||
	    (n = dfs_write(f, msg, strlen(msg))) < 0 ||
	    (rc = dfs_close(f)) != 0)
		goto fail;
	/* "r": streams exactly the version committed above */
	if ((rc = dfs_open(dfs, argv[1], "r", &f)) != 0)
		goto fail;
	while ((n = dfs_read(f, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	rc = n < 0 ? (int)n : dfs_close(f);
	if (rc != 0)
		goto fail;
	dfs_disconnect(dfs);
	return 0;
fail:
	fprintf(stderr, "libdfs-hello: %s: %s\n", argv[1], dfs_strerror(rc));
	dfs_disconnect(dfs);
	return 1;
}
