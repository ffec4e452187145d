/*
 * op_stage.c -- FOP_STAGE: start a new version of a file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "filed.h"

/*
 * Opens version `vers` of `hex` as the source of a STAGE keeping `keep`
 * bytes.  Returns the fd, or a negative dfs_stat: -STALE (not held),
 * -INVAL (keep beyond its size), -IO.
 */
static int
open_source(struct filed_ctx *fc, const char *hex, uint64_t vers,
    uint64_t keep)
{
	char		path[STORE_PATHLEN];
	struct stat	st;
	int		fd, rc;

	if (vers == 0)
		return -DFS_ERR_INVAL;	/* version 0 is empty */
	if ((rc = store_data_path(fc, hex, vers, path, sizeof(path))) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? -DFS_ERR_STALE : -DFS_ERR_IO;
	rc = 0;
	if (fstat(fd, &st) == -1)
		rc = -DFS_ERR_IO;
	else if (keep > (uint64_t)st.st_size)
		rc = -DFS_ERR_INVAL;
	if (rc != 0)
		close(fd);
	return rc != 0 ? rc : fd;
}

/* Creates a new stage of `hex` holding the first `keep` bytes of `src`
 * (-1: empty) and stores its id in *id.  Returns 0 or a negative
 * dfs_stat. */
static int
make_stage(struct filed_ctx *fc, const char *hex, int src, uint64_t keep,
    uint64_t *id)
{
	char	path[STORE_PATHLEN];
	int	fd, rc;

	if ((fd = store_stage_create(fc, hex, id, path)) < 0)
		return fd;
	rc = src != -1 ? store_copy(src, fd, keep) : 0;
	close(fd);
	if (rc != 0)
		(void)store_stage_drop(fc, hex, *id);
	return rc;
}

/*
 * STAGE(fh, vers, keep, lock)
 *
 * Creates a stage with a new random id: empty when keep is 0, else a
 * copy of the first `keep` bytes of version `vers` (for appends and
 * truncation).  The id is returned and becomes the COMPOUND's current
 * stage.  The stage belongs to this connection: when the connection is
 * gone before a COMMIT or ABORT, the stage is removed (owner.c).  With
 * fc->check_handles (the daemon), the name server must know the handle
 * and the writer's `lock` must let it change the file (its TESTLOCK, the
 * check COMMIT makes) first: a handle it never issued, or removed, or a
 * file another writer holds locked, or a lock that expired, gets no
 * stage, since nothing could commit it.  Committed versions are
 * untouched.  Errors: BADHANDLE, INVAL (keep beyond that version's
 * size, or keep > 0 with vers 0), STALE (version not held, or the name
 * server does not know the handle), LOCKED, EXPIRED, BADLOCK (the
 * writer's lock), DELAY (the name server or the lock server did not
 * answer), RESOURCE (the connection owns OWNER_PER_CONN stages, or the
 * server OWNER_MAX), NOSPC, IO.
 */
dfs_stat
op_stage(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const stage_args	*sa = &a->file_argop_u.stage;
	char			 hex[FH_HEXLEN + 1];
	uint64_t		 id;
	int			 rc, src = -1;

	if ((rc = store_fh(&sa->fh, hex)) != 0)
		return (dfs_stat)-rc;
	if (oc->fc->check_handles &&
	    (rc = namecall_may_write(oc->fc, &sa->fh, &sa->lock)) != 0)
		return (dfs_stat)-rc;
	if (sa->keep > 0 &&
	    (src = open_source(oc->fc, hex, sa->vers, sa->keep)) < 0)
		return (dfs_stat)-src;
	rc = make_stage(oc->fc, hex, src, sa->keep, &id);
	if (src != -1)
		close(src);
	if (rc != 0)
		return (dfs_stat)-rc;
	oc->stage = id;
	r->file_resop_u.stage.stage_res_u.stage = id;
	return DFS_OK;
}
