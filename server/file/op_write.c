/*
 * op_write.c -- FOP_WRITE and FOP_SETSIZE: fill a stage, set its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "filed.h"

#define WRITE_MAXEND	(1ULL << 62)	/* largest file we accept */

/* A stage WRITE or SETSIZE changes. */
struct stage {
	char		hex[FH_HEXLEN + 1];
	uint64_t	id;
	char		path[STORE_PATHLEN];
};

/* Names stage `stage` (0: this COMPOUND's) of fh in *st.  Returns 0 or
 * a negative dfs_stat: BADHANDLE, INVAL. */
static int
stage_path(struct op_ctx *oc, const dfs_fh *fh, uint64_t stage,
    struct stage *st)
{
	int	rc;

	if ((rc = store_fh(fh, st->hex)) != 0 ||
	    (rc = store_stage_id(oc, stage, &st->id)) != 0)
		return rc;
	return store_stage_path(oc->fc, st->hex, st->id, st->path,
	    sizeof(st->path));
}

/* A WRITE or SETSIZE failed on the stage (disk full, I/O error): the
 * upload cannot succeed, so its stage goes now rather than hold the
 * space until its connection closes (the client's ABORT then answers
 * STALE). */
static void
stage_failed(struct op_ctx *oc, const struct stage *st)
{
	(void)store_stage_drop(oc->fc, st->hex, st->id);
	if (st->id == oc->stage)
		oc->stage = 0;
}

/* Opens a stage for writing.  Returns the fd or -STALE / -IO. */
static int
open_stage(const char *path)
{
	int	fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd == -1)
		return errno == ENOENT ? -DFS_ERR_STALE : -DFS_ERR_IO;
	return fd;
}

/*
 * Takes (F_WRLCK) or drops (F_UNLCK) an OFD lock on all of a stage, open
 * as `fd`, around a WRITE's pwrite: the WRITEs of one upload come on
 * several connections, so several workers write the stage at once, and
 * ext4 holds the inode's lock for a whole pwrite while the others spin
 * on it (docs/BENCHMARKS.md, "Observations moved out of the code").
 * Queued on this lock they sleep instead.  Only CPU is at stake, so a
 * failure to lock is ignored.
 */
static void
stage_lock(int fd, short type)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1 && errno == EINTR)
		;
}

/*
 * WRITE(fh, stage, offset, data)
 *
 * Writes `data` at `offset` into the stage (id 0: the one the last STAGE
 * of this COMPOUND made); the reply's count is the bytes written.  Only
 * the stage changes: readers keep seeing the committed version.
 * Errors: BADHANDLE, INVAL (stage 0 and no STAGE before), FBIG (offset
 * + length overflows or passes 2^62), STALE (no such stage of this
 * file, e.g. aborted, swept or garbage-collected), NOSPC, IO.  When the
 * write itself fails (NOSPC, IO, FBIG from the file system), the stage
 * is removed: nothing of a failed upload stays on the disk.
 */
dfs_stat
op_write(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const write_args	*wa = &a->file_argop_u.write;
	const char		*data = wa->data.data_val;
	struct stage		 st;
	size_t			 len = wa->data.data_len;
	uint64_t		 off = wa->offset;
	int			 rc, fd;

	if ((rc = stage_path(oc, &wa->fh, wa->stage, &st)) != 0)
		return (dfs_stat)-rc;
	if (off > WRITE_MAXEND || len > WRITE_MAXEND - off)
		return DFS_ERR_FBIG;
	if ((fd = open_stage(st.path)) < 0)
		return (dfs_stat)-fd;
	stage_lock(fd, F_WRLCK);
	rc = store_write(fd, data, len, off);
	stage_lock(fd, F_UNLCK);
	/* start the disk writes now: they overlap the rest of the upload,
	 * and COMMIT's fsync finds little left to do */
	if (rc == 0 && len > 0)
		(void)sync_file_range(fd, (off_t)off, (off_t)len,
		    SYNC_FILE_RANGE_WRITE);
	close(fd);
	if (rc != 0) {
		stage_failed(oc, &st);
		return (dfs_stat)-rc;
	}
	r->file_resop_u.write.write_res_u.count = wa->data.data_len;
	return DFS_OK;
}

/*
 * SETSIZE(fh, stage, size)
 *
 * Cuts the stage to `size` bytes or extends it with zeros (a writer's
 * truncate).  Errors: as WRITE (a failed ftruncate removes the stage).
 */
dfs_stat
op_setsize(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const setsize_args	*sa = &a->file_argop_u.setsize;
	struct stage		 st;
	int			 rc, fd;

	(void)r;
	if ((rc = stage_path(oc, &sa->fh, sa->stage, &st)) != 0)
		return (dfs_stat)-rc;
	if (sa->size > WRITE_MAXEND)
		return DFS_ERR_FBIG;
	if ((fd = open_stage(st.path)) < 0)
		return (dfs_stat)-fd;
	rc = ftruncate(fd, (off_t)sa->size) == -1 ? store_errno(errno) : 0;
	close(fd);
	if (rc != 0)
		stage_failed(oc, &st);
	return (dfs_stat)-rc;
}
