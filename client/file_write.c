/*
 * file_write.c -- writing an open file: dfs_write(), dfs_write_from_fd(),
 * dfs_truncate(), and the upload of a spooled file at close.
 *
 * A writable file that may be read back ("w+", "r+", "a+") lives in a
 * spool (spool.c) until dfs_close() uploads it: STAGE with the first
 * chunk (and COMMIT, when that is all: a small file is one round trip),
 * then a WRITE a chunk, then COMMIT (file_stage.c).  A writer that never
 * reads back sends its bytes as they come instead (file_direct.c); the
 * entry points here pick between the two.  A committed write with "c"
 * stores what it uploaded as the new version's cache entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "file_core.h"

/* What every write does first: the offset of "a" modes, the lease.
 * Returns 0 or a status. */
static int
write_begin(struct dfs_file *f)
{
	f->dfs->detail[0] = '\0';
	if ((f->flags & F_WRITE) == 0)
		return -DFS_ERR_PERM;
	file_renew(f);
	if (f->flags & F_APPEND)
		f->off = (int64_t)file_size(f);
	if ((uint64_t)f->off < f->base)
		return -DFS_ERR_INVAL;
	return 0;
}

/* What every write does after: advances by what was written.  Returns
 * done. */
static ssize_t
write_end(struct dfs_file *f, ssize_t done)
{
	if (done > 0) {
		f->off += done;
		f->dirty = 1;
	}
	return done;
}

ssize_t
dfs_write(struct dfs_file *f, const void *buf, size_t n)
{
	int	rc;

	if ((rc = write_begin(f)) != 0)
		return rc;
	if (f->dw.on)
		return write_end(f, direct_write(f, buf, n));
	return write_end(f, spool_pwrite(&f->sp, buf, n,
	    (uint64_t)f->off - f->base));
}

ssize_t
dfs_write_from_fd(struct dfs_file *f, int fd, size_t n)
{
	char	buf[65536];
	ssize_t	got;
	int	rc, rerr = 0;

	if ((rc = write_begin(f)) != 0) {
		errno = 0;
		return rc;
	}
	if (f->dw.on)
		got = direct_put_fd(f, fd, n, (uint64_t)f->off, &rerr);
	else {
		do
			got = read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		while (got == -1 && errno == EINTR);
		if (got == -1) {
			rerr = errno;
			got = -DFS_ERR_IO;
		} else if (got > 0)
			got = spool_pwrite(&f->sp, buf, (size_t)got,
			    (uint64_t)f->off - f->base);
	}
	errno = rerr;
	return write_end(f, got);
}

int
dfs_truncate(struct dfs_file *f, uint64_t size)
{
	int	rc;

	if ((f->flags & F_WRITE) == 0)
		return -DFS_ERR_PERM;
	if (f->dw.on)
		return direct_truncate(f, size);
	if (size < f->base) {
		f->base = size;
		rc = spool_truncate(&f->sp, 0);
	} else
		rc = spool_truncate(&f->sp, size - f->base);
	if (rc == 0)
		f->dirty = 1;
	return rc;
}

/*
 * Uploads the spool and commits.  The first request is STAGE plus the
 * first chunk (plus COMMIT when that is all); the rest are one WRITE
 * each, then COMMIT.  Returns 0 or a status; on failure the stage is
 * dropped and the previous version stands.
 */
int
file_upload(struct dfs_file *f)
{
	struct file_req	 r = { .n = 0 };
	uint64_t	 stage = 0, off = 0;
	char		*buf;
	ssize_t		 n;
	int		 rc = 0;

	buf = malloc(DFS_CHUNK);
	if (buf == NULL)
		return -DFS_ERR_NOMEM;
	file_add_stage(f, &r);
	do {
		file_renew(f);	/* a long upload must not outlive the lease */
		n = spool_pread(&f->sp, buf, DFS_CHUNK, off);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n > 0)
			file_add_write(f, &r, stage, buf, (size_t)n,
			    f->base + off);
		off += (uint64_t)n;
		if (off >= f->sp.size)
			file_add_commit(f, &r, stage);
		rc = file_stage_call(f, &r, &stage);
		r.n = 0;
	} while (rc == 0 && off < f->sp.size);
	free(buf);
	if (rc != 0)
		file_abort_stage(f, stage, rc);
	return rc;
}

/* After a commit with "c": stores what was uploaded as the new
 * version's cache entry, when the spool holds all of it (not after an
 * "a" that kept the old bytes on the server). */
void
file_keep_written(struct dfs_file *f)
{
	struct cache_key	k = { f->fh.dfs_fh_val, f->fh.dfs_fh_len,
				    f->vers, f->size };

	if ((f->flags & F_CACHE) == 0 || f->base != 0 ||
	    (f->dw.on && !f->dw.keep))
		return;
	(void)cache_put_from_spool(&f->dfs->cache, &k, &f->sp);
}
