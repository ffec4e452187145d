/*
 * spool.c -- the local copy of a file being written.
 *
 * In memory while it is at most max_mem bytes; past that, everything
 * moves to an unlinked temporary file (O_TMPFILE where the file system
 * has it) and stays there, so memory use is bounded whatever the file's
 * size (the seed's SpooledTemporaryFile).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#define SPOOL_MAXSIZE	(UINT64_C(1) << 62)

void
spool_init(struct spool *sp, size_t max_mem, const char *dir)
{
	memset(sp, 0, sizeof(*sp));
	sp->max_mem = max_mem;
	sp->fd = -1;
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
}

void
spool_release(struct spool *sp)
{
	free(sp->mem);
	if (sp->fd != -1)
		close(sp->fd);
	sp->mem = NULL;
	sp->fd = -1;
	sp->size = sp->cap = 0;
}

static int
errno_status(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return -DFS_ERR_NOSPC;
	case EFBIG:
		return -DFS_ERR_FBIG;
	case ENOMEM:
		return -DFS_ERR_NOMEM;
	default:
		return -DFS_ERR_IO;
	}
}

/* Opens an anonymous temporary file in sp->dir.  Returns fd or -1. */
static int
tmpfile_open(const struct spool *sp)
{
	char	path[PATH_MAX];
	int	fd;

	fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if ((size_t)snprintf(path, sizeof(path), "%s/.dfs-spool.XXXXXX",
	    sp->dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd != -1)
		unlink(path);
	return fd;
}

/* Moves the in-memory bytes to a temporary file.  Returns 0 or status. */
static int
spill(struct spool *sp)
{
	size_t	done = 0;
	ssize_t	n;
	int	fd;

	fd = tmpfile_open(sp);
	if (fd == -1)
		return errno_status(errno);
	while (done < sp->size) {
		n = pwrite(fd, sp->mem + done, sp->size - done, (off_t)done);
		if (n <= 0) {
			n = errno_status(n == 0 ? EIO : errno);
			close(fd);
			return (int)n;
		}
		done += (size_t)n;
	}
	free(sp->mem);
	sp->mem = NULL;
	sp->cap = 0;
	sp->fd = fd;
	return 0;
}

/* Grows the memory buffer to hold `end` bytes. */
static int
mem_reserve(struct spool *sp, size_t end)
{
	size_t	ncap = sp->cap ? sp->cap : 4096;
	char	*nm;

	if (end <= sp->cap)
		return 0;
	while (ncap < end)
		ncap *= 2;
	if (ncap > sp->max_mem)
		ncap = sp->max_mem;
	nm = realloc(sp->mem, ncap);
	if (nm == NULL)
		return -DFS_ERR_NOMEM;
	memset(nm + sp->cap, 0, ncap - sp->cap);
	sp->mem = nm;
	sp->cap = ncap;
	return 0;
}

ssize_t
spool_pwrite(struct spool *sp, const void *buf, size_t n, uint64_t off)
{
	size_t	done = 0;
	ssize_t	w;
	int	rc;

	if (off > SPOOL_MAXSIZE || n > SPOOL_MAXSIZE - off)
		return -DFS_ERR_FBIG;
	if (n == 0)		/* as write(2): changes nothing (and no
				   memcpy to a spool not allocated yet) */
		return 0;
	if (sp->fd == -1 && off + n > sp->max_mem && (rc = spill(sp)) != 0)
		return rc;
	if (sp->fd == -1) {
		if ((rc = mem_reserve(sp, (size_t)(off + n))) != 0)
			return rc;
		memcpy(sp->mem + off, buf, n);
	} else
		while (done < n) {
			w = pwrite(sp->fd, (const char *)buf + done, n - done,
			    (off_t)(off + done));
			if (w <= 0)
				return errno_status(w == 0 ? EIO : errno);
			done += (size_t)w;
		}
	if (off + n > sp->size)
		sp->size = off + n;
	return (ssize_t)n;
}

ssize_t
spool_pread(struct spool *sp, void *buf, size_t n, uint64_t off)
{
	ssize_t	r;

	if (off >= sp->size)
		return 0;
	if (n > sp->size - off)
		n = (size_t)(sp->size - off);
	if (sp->fd == -1) {
		memcpy(buf, sp->mem + off, n);
		return (ssize_t)n;
	}
	r = pread(sp->fd, buf, n, (off_t)off);
	return r < 0 ? errno_status(errno) : r;
}

int
spool_truncate(struct spool *sp, uint64_t size)
{
	int	rc;

	if (size > SPOOL_MAXSIZE)
		return -DFS_ERR_FBIG;
	if (sp->fd == -1 && size > sp->max_mem && (rc = spill(sp)) != 0)
		return rc;
	if (sp->fd != -1) {
		if (ftruncate(sp->fd, (off_t)size) == -1)
			return errno_status(errno);
	} else if (size > sp->size) {
		if ((rc = mem_reserve(sp, (size_t)size)) != 0)
			return rc;
	} else	/* bytes past the end stay zero: a later hole reads 0 */
		memset(sp->mem + size, 0, (size_t)(sp->size - size));
	sp->size = size;
	return 0;
}
