/*
 * op_read.c -- FOP_READ: bytes of one committed version.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "filed.h"

/* Reads up to `count` bytes at `off` into `buf`.  Returns the number
 * read, or -1 (errno set). */
static ssize_t
read_full(int fd, char *buf, size_t count, uint64_t off)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < count) {
		n = pread(fd, buf + done, count - done, (off_t)off +
		    (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * Reads `count` bytes at `off` of the open version `fd` into the reply,
 * or, when oc->zc allows, only sizes the reply and leaves the bytes to
 * sendread.c (oc->rfd takes `fd` then).  Returns DFS_OK, DFS_ERR_NOMEM
 * or DFS_ERR_IO.
 */
static dfs_stat
read_into(struct op_ctx *oc, int fd, uint64_t off, u_int count,
    read_ok *ok)
{
	struct stat	st;
	uint64_t	size;
	ssize_t		n = 0;

	if (fstat(fd, &st) == -1)
		return DFS_ERR_IO;
	size = (uint64_t)st.st_size;
	if (off < size && count > size - off)
		count = (u_int)(size - off);
	if (off < size && oc->zc) {
		n = count;
		oc->rfd = fd;
		oc->roff = off;
	} else if (off < size) {
		ok->data.data_val = malloc(count > 0 ? count : 1);
		if (ok->data.data_val == NULL)
			return DFS_ERR_NOMEM;
		n = read_full(fd, ok->data.data_val, count, off);
		if (n == -1)
			return (dfs_stat)-store_errno(errno);
	}
	ok->data.data_len = (u_int)n;
	ok->eof = off + (uint64_t)n >= size;
	return DFS_OK;
}

/*
 * READ(fh, vers, offset, count)
 *
 * Reads up to `count` bytes at `offset` of version `vers` of the file,
 * straight from its version file (a lone READ's bytes go from it to the
 * socket: sendread.c); eof is set when the reply reaches the end.
 * Changes nothing.  Errors: BADHANDLE (not a handle), INVAL (vers 0,
 * count over DFS_MAXDATA), RESOURCE (the COMPOUND's READs exceed
 * DFS_MAXDATA), STALE (this server does not hold that version), IO,
 * NOMEM.
 */
dfs_stat
op_read(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const read_args	*ra = &a->file_argop_u.read;
	char		 hex[FH_HEXLEN + 1], path[STORE_PATHLEN];
	dfs_stat	 st;
	int		 rc, fd;

	if ((rc = store_fh(&ra->fh, hex)) != 0)
		return (dfs_stat)-rc;
	if (ra->vers == 0 || ra->count > DFS_MAXDATA)
		return DFS_ERR_INVAL;
	if (oc->ndata + ra->count > DFS_MAXDATA)
		return DFS_ERR_RESOURCE;
	if ((rc = store_data_path(oc->fc, hex, ra->vers, path,
	    sizeof(path))) != 0)
		return (dfs_stat)-rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? DFS_ERR_STALE : DFS_ERR_IO;
	st = read_into(oc, fd, ra->offset, ra->count,
	    &r->file_resop_u.read.read_res_u.ok);
	if (oc->rfd != fd)
		close(fd);
	if (st == DFS_OK)
		oc->ndata += ra->count;
	return st;
}
