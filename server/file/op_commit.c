/*
 * op_commit.c -- FOP_COMMIT: make a stage the file's next version.
 *
 * The sequence (under the handle's commit lock, so two workers never
 * commit one file at once), V being the writer's base version:
 *
 *	named [PUTFH, GETATTR]			only for base DFS_VERS_ANY
 *	fsync(stage); rename to <fh>.V+1 unless it exists; fsync(dir)
 *	named [PUTFH, PUTLOCK, COMMIT(V, size, srvid)]	the commit point
 *	unlink versions older than V+1
 *
 * The name server's COMMIT checks the version (CHANGED) and the writer's
 * lock (its TEST to the lock server), so a commit is one call to it; a
 * refused one puts the stage back, for the writer to retry or abort.
 * The rename never replaces another writer's commit: a .V+1 already
 * here is CHANGED, unless the name server still says V and the file is
 * old, the leftover of a COMMIT that got no answer (orphan_check()).
 *
 * Readers of V keep reading V until it is unlinked, then get STALE and
 * ask the name server again; nobody ever sees a partial V+1 (invariant
 * 1).  A crash before the name server's COMMIT leaves an orphan .V+1
 * that start-up GC removes; a crash after it leaves an older version
 * that GC removes too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "filed.h"
#include "log.h"
#include "status.h"

/* Seconds after which a .V+1 the name server does not know is surely
 * no COMMIT's in flight (calls to it time out after 5). */
#define ORPHAN_AGE_S	60

struct commit {
	struct filed_ctx	*fc;
	const dfs_fh		*fh;
	char			 hex[FH_HEXLEN + 1];
	char			 stage[STORE_PATHLEN];
	char			 vpath[STORE_PATHLEN];	/* <fh>.V+1 */
	uint64_t		 srvid;
	uint64_t		 oldvers;		/* V */
	uint64_t		 size;
};

/* Makes the stage durable and takes its size.  Returns 0, -STALE (the
 * stage went away) or -IO. */
static int
sync_stage(struct commit *c)
{
	struct stat	st;
	int		fd, rc = 0;

	fd = open(c->stage, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? -DFS_ERR_STALE : -DFS_ERR_IO;
	if (fsync(fd) == -1 || fstat(fd, &st) == -1) {
		log_warn("cannot sync stage '%s'", c->stage);
		rc = -DFS_ERR_IO;
	} else
		c->size = (uint64_t)st.st_size;
	close(fd);
	return rc;
}

/* rename(2) that fails (EEXIST) rather than replace `to`; where the
 * file system has no RENAME_NOREPLACE, link(2) and unlink(2).  Returns 0
 * or -1 (errno set). */
static int
rename_new(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) == -1)
		return -1;
	if (unlink(from) == -1)
		log_warn("cannot remove '%s'", from);
	return 0;
}

/*
 * A .V+1 is already here.  When the name server is past V, it is
 * another commit's: CHANGED.  When it still says V, the file is what a
 * COMMIT that got no answer left behind (report() leaves it when it
 * cannot tell what happened): once older than ORPHAN_AGE_S, when no
 * COMMIT of it can still be waiting at the name server, it may be
 * replaced (0); before, -DELAY.
 */
static int
orphan_check(struct commit *c)
{
	struct stat	st;
	dfs_attr	cur;
	int		rc;

	if ((rc = upcall_getattr(c->fc, c->fh, &cur)) != 0)
		return rc;
	if (cur.vers != c->oldvers)
		return -DFS_ERR_CHANGED;
	if (stat(c->vpath, &st) == -1)
		return -DFS_ERR_DELAY;		/* it just went: retry */
	if (time(NULL) - st.st_mtime < ORPHAN_AGE_S)
		return -DFS_ERR_DELAY;
	log_info("replacing '%s', left by a commit that got no answer",
	    c->vpath);
	return 0;
}

/* Renames the stage into place as version V+1 and makes the rename
 * durable.  Returns 0 or a negative dfs_stat: CHANGED when V+1 is
 * another commit's (orphan_check()). */
static int
install(struct commit *c)
{
	char	dir[STORE_PATHLEN];
	int	rc;

	if ((rc = store_mkdata(c->fc, c->hex)) != 0 ||
	    (rc = store_data_dir(c->fc, c->hex, dir, sizeof(dir))) != 0 ||
	    (rc = store_data_path(c->fc, c->hex, c->oldvers + 1, c->vpath,
	    sizeof(c->vpath))) != 0)
		return rc;
	if (rename_new(c->stage, c->vpath) == -1) {
		if (errno != EEXIST)
			return errno == ENOENT ? -DFS_ERR_STALE :
			    store_errno(errno);
		if ((rc = orphan_check(c)) != 0)
			return rc;
		if (rename(c->stage, c->vpath) == -1)
			return errno == ENOENT ? -DFS_ERR_STALE :
			    store_errno(errno);
	}
	if ((rc = store_fsync_dir(dir)) != 0)
		log_warn("cannot sync '%s'", dir);
	return rc;
}

/*
 * The name server's COMMIT got no answer (`rc`), so we do not know
 * whether it happened.  Asks again: committed -> *attr, 0.  Not
 * committed after a failed connection -> -RPC: the request was lost
 * (the name server dropped the connection, as when it restarts, or died
 * before its log sync) and may be sent again.  Not committed after a
 * timeout, no answer now, or the version moved elsewhere -> -DELAY, and
 * *unknown is set unless it surely was not ours: a timed-out COMMIT may
 * still be waiting to be served, so V+1 stays for start-up GC to
 * settle.
 */
static int
resolve(struct commit *c, int rc, dfs_attr *attr, int *unknown)
{
	dfs_attr	now;

	if (upcall_getattr(c->fc, c->fh, &now) != 0) {
		*unknown = 1;
		return -DFS_ERR_DELAY;
	}
	if (now.vers == c->oldvers + 1 && now.size == c->size) {
		*attr = now;
		return 0;
	}
	if (now.vers != c->oldvers)
		return -DFS_ERR_DELAY;
	if (rc == -DFS_ERR_TIMEDOUT) {
		*unknown = 1;
		return -DFS_ERR_DELAY;
	}
	return -DFS_ERR_RPC;
}

/* Reports V+1 to the name server under `lock` (twice at most, see
 * resolve()) and cleans up after its answer: a refusal puts the stage
 * back for the writer.  Returns 0 (attr filled) or a negative
 * dfs_stat. */
static int
report(struct commit *c, const dfs_lockid *lock, dfs_attr *attr)
{
	int	rc, tries = 0, unknown = 0;

	do {
		rc = upcall_commit(c->fc, c->fh, lock, c->oldvers, c->size,
		    c->srvid, attr);
		if (rc == -DFS_ERR_RPC || rc == -DFS_ERR_TIMEDOUT)
			rc = resolve(c, rc, attr, &unknown);
	} while (rc == -DFS_ERR_RPC && ++tries < 2);
	if (rc == -DFS_ERR_RPC)
		rc = -DFS_ERR_DELAY;
	/* ORDER: never take back a version the name server may have */
	if (rc != 0 && !unknown && rename(c->vpath, c->stage) == -1)
		log_warn("cannot restore stage '%s'", c->stage);
	if (rc != 0)
		return rc;
	if (store_prune(c->fc, c->hex, c->oldvers + 1, 0) != 0)
		log_warnx("cannot remove versions of %s older than %" PRIu64,
		    c->hex, c->oldvers + 1);
	return 0;
}

/* The part of COMMIT under the handle's lock.  Returns 0 or a negative
 * dfs_stat. */
static int
commit_locked(struct commit *c, const commit_file_args *ca,
    dfs_attr *attr)
{
	dfs_attr	cur;
	int		rc;

	/* ORDER: an unreachable name server fails the commit before the
	 * stage is used up */
	if (upcall_connect(c->fc) != 0)
		return -DFS_ERR_DELAY;
	c->oldvers = ca->base;
	if (ca->base == DFS_VERS_ANY) {
		if ((rc = upcall_getattr(c->fc, c->fh, &cur)) != 0)
			return rc;
		if (cur.type != DFS_FTYPE_REG)
			return -DFS_ERR_ISDIR;
		c->oldvers = cur.vers;
	}
	if ((rc = sync_stage(c)) != 0 || (rc = install(c)) != 0)
		return rc;
	return report(c, &ca->lock, attr);
}

/*
 * COMMIT(fh, stage, lock, base)
 *
 * Makes the stage (id 0: the one the last STAGE of this COMPOUND made)
 * version V+1 of the file, V being `base` (DFS_VERS_ANY: the name
 * server's current version), and reports it to the name server under
 * `lock` (see the top of this file).  The stage is gone afterwards, and
 * so are versions older than V+1.  Replies the attributes the name
 * server now has.  Errors: BADHANDLE, INVAL (stage 0 and no STAGE
 * before), STALE (no such stage, or the name server no longer knows the
 * file), ISDIR, LOCKED / EXPIRED / BADLOCK (the lock server refused
 * `lock` for the file's path; the stage is kept), CHANGED (another
 * version came after `base`: nothing committed, the stage is kept),
 * DELAY (this server has no id yet, or the name or lock server did not
 * answer), NOSPC, IO.
 */
dfs_stat
op_commit(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const commit_file_args	*ca = &a->file_argop_u.commit;
	struct commit		 c = { .fc = oc->fc, .fh = &ca->fh };
	uint64_t		 id;
	int			 rc;

	if ((rc = store_fh(&ca->fh, c.hex)) != 0 ||
	    (rc = store_stage_id(oc, ca->stage, &id)) != 0 ||
	    (rc = store_stage_path(oc->fc, c.hex, id, c.stage,
	    sizeof(c.stage))) != 0)
		return (dfs_stat)-rc;
	if (access(c.stage, F_OK) == -1)
		return errno == ENOENT ? DFS_ERR_STALE : DFS_ERR_IO;
	if ((rc = store_server_id(oc->fc, &c.srvid)) != 0 ||
	    (rc = store_lock(oc->fc, c.hex)) != 0)
		return (dfs_stat)-rc;
	rc = commit_locked(&c, ca, &r->file_resop_u.commit.fcommit_res_u.attr);
	store_unlock(oc->fc, c.hex);
	if (rc == 0 && id == oc->stage)
		oc->stage = 0;
	return (dfs_stat)-rc;
}
