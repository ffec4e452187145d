/*
 * op_write.c -- FOP_WRITE: fill a stage.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "filed.h"

#define WRITE_MAXEND	(1ULL << 62)	/* largest file we accept */

/* Writes all of buf at off.  Returns 0 or a negative dfs_stat. */
static int
write_full(int fd, const char *buf, size_t len, uint64_t off)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return store_errno(errno);
		done += (size_t)n;
	}
	return 0;
}

/*
 * WRITE(fh, stage, offset, data)
 *
 * Writes `data` at `offset` into the stage (id 0: the one the last STAGE
 * of this COMPOUND made); the reply's count is the bytes written.  Only
 * the stage changes: readers keep seeing the committed version.  Errors:
 * BADHANDLE, INVAL (stage 0 and no STAGE before), FBIG (offset + length
 * overflows or passes 2^62), STALE (no such stage of this file, e.g.
 * aborted or garbage-collected), NOSPC, IO.
 */
dfs_stat
op_write(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const write_args	*wa = &a->file_argop_u.write;
	char			 hex[FH_HEXLEN + 1], path[STORE_PATHLEN];
	uint64_t		 id;
	int			 rc, fd;

	if ((rc = store_fh(&wa->fh, hex)) != 0 ||
	    (rc = store_stage_id(oc, wa->stage, &id)) != 0)
		return (dfs_stat)-rc;
	if (wa->offset > WRITE_MAXEND ||
	    wa->data.data_len > WRITE_MAXEND - wa->offset)
		return DFS_ERR_FBIG;
	if ((rc = store_stage_path(oc->fc, hex, id, path, sizeof(path))) != 0)
		return (dfs_stat)-rc;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? DFS_ERR_STALE : DFS_ERR_IO;
	rc = write_full(fd, wa->data.data_val, wa->data.data_len,
	    wa->offset);
	close(fd);
	if (rc != 0)
		return (dfs_stat)-rc;
	r->file_resop_u.write.write_res_u.count = wa->data.data_len;
	return DFS_OK;
}
