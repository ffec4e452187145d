/*
 * stdio.c -- dfs_fopen(): a FILE * over a dfs file (fopencookie(3)), so
 * existing code can fprintf(3) and fgets(3) on dfs.  fclose(3) commits.
 */
#include <errno.h>
#include <stdio.h>

#include "client.h"

/* errno for a dfs status: the same number where the enum mirrors errno,
 * EIO for protocol-only codes. */
static int
status_errno(int rc)
{
	int	s = -rc;

	if (s > 0 && s < 10000)
		return s;
	switch (s) {
	case DFS_ERR_STALE:
		return ESTALE;
	case DFS_ERR_LOCKED:
		return EAGAIN;
	case DFS_ERR_TIMEDOUT:
		return ETIMEDOUT;
	default:
		return EIO;
	}
}

static ssize_t
cookie_read(void *c, char *buf, size_t n)
{
	ssize_t	rc = dfs_read(c, buf, n);

	if (rc < 0) {
		errno = status_errno((int)rc);
		return -1;
	}
	return rc;
}

static ssize_t
cookie_write(void *c, const char *buf, size_t n)
{
	ssize_t	rc = dfs_write(c, buf, n);

	if (rc < 0) {
		errno = status_errno((int)rc);
		return 0;		/* fopencookie: 0 means error */
	}
	return rc;
}

static int
cookie_seek(void *c, off64_t *off, int whence)
{
	int64_t	rc = dfs_seek(c, *off, whence);

	if (rc < 0) {
		errno = status_errno((int)rc);
		return -1;
	}
	*off = rc;
	return 0;
}

static int
cookie_close(void *c)
{
	int	rc = dfs_close(c);

	if (rc < 0) {
		errno = status_errno(rc);
		return EOF;
	}
	return 0;
}

FILE *
dfs_fopen(struct dfs *dfs, const char *path, const char *mode)
{
	static const cookie_io_functions_t io = {
		cookie_read, cookie_write, cookie_seek, cookie_close
	};
	struct dfs_file	*f;
	FILE		*fp;
	int		 rc;

	rc = dfs_open(dfs, path, mode, &f);
	if (rc < 0) {
		errno = status_errno(rc);
		return NULL;
	}
	fp = fopencookie(f, mode, io);
	if (fp == NULL)
		(void)dfs_close(f);
	return fp;
}
