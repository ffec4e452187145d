/*
 * file_direct.c -- writers that never read back ("w", "a").
 *
 * A writer that never reads back ("w", "a") keeps no local copy: its
 * bytes go to a stage on the file server as they come, a chunk at a
 * time, and dfs_close() commits the stage.  Nothing is visible before
 * the commit, so the whole-file semantics are those of the spool.  The
 * first chunk goes with STAGE on our connection (a file of one chunk is
 * STAGE, WRITE, COMMIT in one round trip at close); later chunks go
 * through a parallel transfer (parallel.c), several at once.  A chunk
 * is sent when it is full or when the next write is not contiguous with
 * it.  With "c" the bytes are
 * also spooled, for the cache entry of the new version, until they
 * outgrow the cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_core.h"

/* Sends the chunk being filled.  Returns 0 or a status. */
static int
direct_flush(struct dfs_file *f)
{
	struct file_req	 r = { .n = 0 };
	char		*slot;
	int		 rc;

	if (f->dw.len == 0)
		return 0;
	if (f->dw.stage != 0 && f->dw.par == NULL && f->dfs->streams > 1) {
		rc = parallel_start(f->dfs, &f->srv, &f->fh, FOP_WRITE,
		    f->dw.stage, 0, &f->dw.par);
		if (rc == 0)
			rc = parallel_wbuf(f->dw.par, f->dfs, &slot);
		if (rc != 0)
			return rc;
		/* once, the first chunk */
		memcpy(slot, f->dw.buf, f->dw.len);
		f->dw.buf = slot;
	}
	if (f->dw.par != NULL) {
		parallel_wqueue(f->dw.par, f->dw.len, f->dw.off);
		f->dw.buf = NULL;	/* the slot is the transfer's now */
		f->dw.len = 0;
		return 0;
	}
	if (f->dw.stage == 0)
		file_add_stage(f, &r);
	file_add_write(f, &r, f->dw.stage, f->dw.buf, f->dw.len, f->dw.off);
	f->dw.len = 0;
	return file_stage_call(f, &r, &f->dw.stage);
}

/* Gets a buffer for the next chunk.  Returns 0 or a status. */
static int
direct_buf(struct dfs_file *f)
{
	if (f->dw.buf != NULL)
		return 0;
	if (f->dw.par != NULL)
		return parallel_wbuf(f->dw.par, f->dfs, &f->dw.buf);
	if (f->dw.own == NULL && (f->dw.own = malloc(DFS_CHUNK)) == NULL)
		return -DFS_ERR_NOMEM;
	f->dw.buf = f->dw.own;
	return 0;
}

/* Stops spooling the cache copy. */
static void
direct_unkeep(struct dfs_file *f)
{
	f->dw.keep = 0;
	(void)spool_truncate(&f->sp, 0);
}

/* Makes the chunk being filled the one for file offset off: the chunk
 * before goes if off does not follow it.  Returns the room left in it
 * (at f->dw.buf + f->dw.len), or a status; a failure is kept and fails
 * dfs_close() too. */
static ssize_t
direct_room(struct dfs_file *f, uint64_t off)
{
	int	rc = f->dw.err;

	if (rc == 0 && f->dw.len > 0 && off != f->dw.off + f->dw.len)
		rc = direct_flush(f);
	if (rc == 0)
		rc = direct_buf(f);
	if (rc != 0)
		return f->dw.err = rc;
	if (f->dw.len == 0)
		f->dw.off = off;
	return (ssize_t)(DFS_CHUNK - f->dw.len);
}

/* Counts the `take` bytes just put at f->dw.buf + f->dw.len (file offset
 * off) and sends the chunk when full.  Returns take or a status. */
static ssize_t
direct_took(struct dfs_file *f, size_t take, uint64_t off)
{
	const char	*p = f->dw.buf + f->dw.len;
	int		 rc;

	f->dw.len += take;
	if (off + take > f->dw.size)
		f->dw.size = off + take;
	if (f->dw.keep && (f->dw.size > f->dfs->cache.limit ||
	    spool_pwrite(&f->sp, p, take, off) != (ssize_t)take))
		direct_unkeep(f);
	if (f->dw.len == DFS_CHUNK && (rc = direct_flush(f)) != 0)
		return f->dw.err = rc;
	return (ssize_t)take;
}

/* Takes what fits of buf into the chunk, for file offset off.  Returns
 * the count or a status. */
static ssize_t
direct_put(struct dfs_file *f, const char *buf, size_t n, uint64_t off)
{
	ssize_t	room;

	if ((room = direct_room(f, off)) < 0)
		return room;
	if ((size_t)room > n)
		room = (ssize_t)n;
	memcpy(f->dw.buf + f->dw.len, buf, (size_t)room);
	return direct_took(f, (size_t)room, off);
}

/* Reads up to n bytes of fd straight into the chunk, for file offset
 * off.  Returns the count (0 at the end of fd) or a status; *rerr is
 * the errno of a failed read (then -DFS_ERR_IO), else 0. */
ssize_t
direct_put_fd(struct dfs_file *f, int fd, size_t n, uint64_t off, int *rerr)
{
	ssize_t	room, got;

	if ((room = direct_room(f, off)) < 0)
		return room;
	if ((size_t)room > n)
		room = (ssize_t)n;
	do
		got = read(fd, f->dw.buf + f->dw.len, (size_t)room);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		*rerr = errno;
		return -DFS_ERR_IO;
	}
	return got == 0 ? 0 : direct_took(f, (size_t)got, off);
}

/* dfs_write() of a direct writer: all of buf at f->off.  Returns n or a
 * status. */
ssize_t
direct_write(struct dfs_file *f, const char *buf, size_t n)
{
	size_t	done = 0;
	ssize_t	k;

	while (done < n) {
		k = direct_put(f, buf + done, n - done,
		    (uint64_t)f->off + done);
		if (k < 0)
			return k;
		done += (size_t)k;
	}
	return (ssize_t)n;
}

/* Everything written so far on the server, in the stage (made now if
 * need be).  Returns 0 or a status. */
static int
direct_sync(struct dfs_file *f)
{
	struct file_req	r = { .n = 0 };
	int		rc = f->dw.err;

	if (rc == 0)
		rc = direct_flush(f);
	if (rc == 0 && f->dw.par != NULL)
		rc = parallel_drain(f->dw.par, f->dfs);
	if (rc == 0 && f->dw.stage == 0) {
		file_add_stage(f, &r);
		rc = file_stage_call(f, &r, &f->dw.stage);
	}
	return rc != 0 ? (f->dw.err = rc) : 0;
}

/* dfs_truncate() of a direct writer: SETSIZE of the stage. */
int
direct_truncate(struct dfs_file *f, uint64_t size)
{
	struct file_req	 r = { .n = 0 };
	setsize_args	*sa;
	int		 rc;

	if ((rc = direct_sync(f)) != 0)
		return rc;
	sa = &file_req_add(&r, FOP_SETSIZE)->file_argop_u.setsize;
	sa->fh = f->fh;
	sa->stage = f->dw.stage;
	sa->size = size;
	if ((rc = file_stage_call(f, &r, &f->dw.stage)) != 0)
		return f->dw.err = rc;
	f->dw.size = size;
	f->dirty = 1;
	if (f->dw.keep && (f->base != 0 || spool_truncate(&f->sp, size) != 0))
		direct_unkeep(f);
	return 0;
}

/* dfs_close() of a direct writer: the rest, then COMMIT; a file that
 * never made its stage is STAGE [WRITE] COMMIT in one round trip.
 * Returns 0 or a status; on failure the stage is dropped. */
int
direct_commit(struct dfs_file *f)
{
	struct file_req	r = { .n = 0 };
	int		rc = f->dw.err;

	if (rc == 0 && f->dw.stage == 0) {
		file_add_stage(f, &r);
		if (f->dw.len > 0)
			file_add_write(f, &r, 0, f->dw.buf, f->dw.len,
			    f->dw.off);
		f->dw.len = 0;
	} else if (rc == 0)
		rc = direct_sync(f);
	if (rc == 0) {
		file_add_commit(f, &r, f->dw.stage);
		rc = file_stage_call(f, &r, &f->dw.stage);
	}
	if (rc != 0)
		file_abort_stage(f, f->dw.stage, rc);
	return rc;
}
