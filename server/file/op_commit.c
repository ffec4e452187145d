/*
 * op_commit.c -- FOP_COMMIT: make a stage the file's next version; and
 * FOP_PUT: make many small files their handles' next versions at once.
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
 *
 * PUT runs the same steps for each of its files, the data coming in the
 * request, but shares the costly ones: with every handle's commit lock
 * held (taken in store_lock_slot() order), it writes each file to a
 * temporary version in its data directory (one directory to write back
 * per file, not a stage's and the data's) and renames it to <fh>.V+1,
 * then makes all of them durable with
 * one syncfs(2) of the state directory's file system (one disk flush,
 * where an fsync of the stage and one of the directory per file cost
 * two each), then sends their COMMITs to the name server in as few
 * COMPOUNDs as fit (one log sync each).  syncfs also writes back
 * whatever else is dirty on that file system: a state directory on a
 * file system of its own keeps that to dfs-filed's own writes.  A file
 * the name server refuses is taken back alone (its .V+1 unlinked) and
 * the COMMITs after it are sent again; a COMPOUND that got no answer is
 * settled file by file, as a lone COMMIT would be.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int			 put;			/* PUT: no stage kept */
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

	if ((rc = namecall_getattr(c->fc, c->fh, &cur)) != 0)
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
 * durable (but for PUT).  Returns 0 or a negative dfs_stat: CHANGED when V+1 is
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
	if (c->put)
		return 0;		/* op_put() syncs them all at once */
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

	if (namecall_getattr(c->fc, c->fh, &now) != 0) {
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

/* Takes V+1 back after the name server refused it: a COMMIT's stage is
 * put back for the writer, a PUT's file is dropped. */
static void
take_back(struct commit *c)
{
	if (c->put ? unlink(c->vpath) == -1 : rename(c->vpath, c->stage) == -1)
		log_warn("cannot take back '%s'", c->vpath);
}

/* Cleans up after the name server's answer `rc` to the COMMIT of V+1:
 * a refusal takes it back (unless its fate is `unknown`), a success
 * removes the older versions.  Returns rc, RPC made DELAY. */
static int
settle(struct commit *c, int rc, int unknown)
{
	if (rc == -DFS_ERR_RPC)
		rc = -DFS_ERR_DELAY;
	/* ORDER: never take back a version the name server may have */
	if (rc != 0 && !unknown)
		take_back(c);
	if (rc != 0 || c->oldvers == 0)
		return rc;	/* a first version has no older ones */
	if (store_prune(c->fc, c->hex, c->oldvers + 1, 0) != 0)
		log_warnx("cannot remove versions of %s older than %" PRIu64,
		    c->hex, c->oldvers + 1);
	return 0;
}

/* Reports V+1 to the name server under `lock` (twice at most, see
 * resolve()) and settles.  Returns 0 (attr filled) or a negative
 * dfs_stat. */
static int
report(struct commit *c, const dfs_lockid *lock, dfs_attr *attr)
{
	int	rc, tries = 0, unknown = 0;

	do {
		rc = namecall_commit(c->fc, c->fh, lock, c->oldvers, c->size,
		    c->srvid, attr);
		if (rc == -DFS_ERR_RPC || rc == -DFS_ERR_TIMEDOUT)
			rc = resolve(c, rc, attr, &unknown);
	} while (rc == -DFS_ERR_RPC && ++tries < 2);
	return settle(c, rc, unknown);
}

/* Sets c's base version V from `base`: DFS_VERS_ANY asks the name
 * server for the current one.  Returns 0 or a negative dfs_stat. */
static int
set_base(struct commit *c, uint64_t base)
{
	dfs_attr	cur;
	int		rc;

	c->oldvers = base;
	if (base != DFS_VERS_ANY)
		return 0;
	if ((rc = namecall_getattr(c->fc, c->fh, &cur)) != 0)
		return rc;
	if (cur.type != DFS_FTYPE_REG)
		return -DFS_ERR_ISDIR;
	c->oldvers = cur.vers;
	return 0;
}

/* The part of COMMIT under the handle's lock.  Returns 0 or a negative
 * dfs_stat. */
static int
commit_locked(struct commit *c, const commit_file_args *ca,
    dfs_attr *attr)
{
	int	rc;

	/* ORDER: an unreachable name server fails the commit before the
	 * stage is used up */
	if (namecall_connect(c->fc) != 0)
		return -DFS_ERR_DELAY;
	if ((rc = set_base(c, ca->base)) != 0 || (rc = sync_stage(c)) != 0 ||
	    (rc = install(c)) != 0)
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
	if (rc == 0)
		owner_forget(oc->fc, c.hex, id);
	if (rc == 0 && id == oc->stage)
		oc->stage = 0;
	return (dfs_stat)-rc;
}

/* --- PUT --------------------------------------------------------------- */

/* One file of a PUT. */
struct putf {
	struct commit	c;
	int		rc;		/* 0 or its negative dfs_stat */
	int		locked;		/* its commit lock is held */
	int		live;		/* its .V+1 is in place, unsettled */
	dfs_attr	attr;		/* the name server's, once committed */
};

/*
 * Room for the files of a PUT, kept from one PUT to the next: ~12 KiB a
 * file (the paths of struct commit) would otherwise be a fresh mapping
 * each time, and its unmapping, with the TLB shootdowns that go with it,
 * showed in profiles of a tree copy (docs/BENCHMARKS.md).  A worker
 * serves one request at a time.  Returns NULL when out of memory.
 */
static struct putf *
putf_room(u_int n)
{
	static struct putf	*room;
	static u_int		 cap;
	struct putf		*more;

	if (n > cap) {
		if ((more = realloc(room, n * sizeof(*room))) == NULL)
			return NULL;
		room = more;
		cap = n;
	}
	return room;
}

/* Is any valid handle in pf[] twice? */
static int
twice(const struct putf *pf, u_int n)
{
	u_int	i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (pf[i].rc == 0 && pf[j].rc == 0 &&
			    strcmp(pf[i].c.hex, pf[j].c.hex) == 0)
				return 1;
	return 0;
}

/* qsort_r(3) order of indices into a putf array by lock slot. */
static int
by_slot(const void *a, const void *b, void *arg)
{
	const struct putf	*pf = arg;
	unsigned int		 x, y;

	x = store_lock_slot(pf[*(const u_int *)a].c.hex);
	y = store_lock_slot(pf[*(const u_int *)b].c.hex);
	return x < y ? -1 : x > y;
}

/* Takes the commit locks of pf[]'s valid handles in ascending slot
 * order, marking each file whose lock it took.  Returns 0 or
 * -DFS_ERR_IO; either way unlock_all() drops what it took. */
static int
lock_all(struct filed_ctx *fc, struct putf *pf, u_int n)
{
	u_int	order[DFS_MAXPUT], m = 0, i;
	int	rc = 0;

	for (i = 0; i < n; i++)
		if (pf[i].rc == 0)
			order[m++] = i;
	qsort_r(order, m, sizeof(order[0]), by_slot, pf);
	for (i = 0; i < m && rc == 0; i++)
		if ((rc = store_lock(fc, pf[order[i]].c.hex)) == 0)
			pf[order[i]].locked = 1;
	return rc;
}

/* Drops every lock lock_all() took, whatever became of its file since
 * (a failed file's lock must go too, or the next COMMIT of that handle
 * from another connection waits for it forever). */
static void
unlock_all(struct filed_ctx *fc, struct putf *pf, u_int n)
{
	u_int	i;

	for (i = 0; i < n; i++)
		if (pf[i].locked) {
			store_unlock(fc, pf[i].c.hex);
			pf[i].locked = 0;
		}
}

/* Writes one file to a temporary version (its stage) and renames it
 * to V+1 (not synced).  Returns 0 or a negative dfs_stat; nothing is
 * left behind then. */
static int
put_stage(struct commit *c, const put_entry *f)
{
	int	fd, rc;

	if ((rc = set_base(c, f->base)) != 0)
		return rc;
	if ((fd = store_temp_create(c->fc, c->hex, c->stage)) < 0)
		return fd;
	rc = store_write(fd, f->data.data_val, f->data.data_len, 0);
	close(fd);
	c->size = f->data.data_len;
	if (rc == 0 && (rc = install(c)) == 0)
		return 0;
	if (unlink(c->stage) == -1 && errno != ENOENT)
		log_warn("cannot remove stage '%s'", c->stage);
	return rc;
}

/* Makes every file in place durable (store_sync()).  On failure each
 * is taken back and fails with IO. */
static void
sync_all(struct filed_ctx *fc, struct putf *pf, u_int n)
{
	u_int	i;

	for (i = 0; i < n && !pf[i].live; i++)
		;
	if (i == n || store_sync(fc) == 0)
		return;
	for (i = 0; i < n; i++)
		if (pf[i].live) {
			take_back(&pf[i].c);
			pf[i].live = 0;
			pf[i].rc = -DFS_ERR_IO;
		}
}

/* Settles a file whose COMMIT got no answer (`rc`): as report() would,
 * sending it again alone when it surely was not done. */
static void
lost(struct putf *p, int rc, const dfs_lockid *lock)
{
	int	unknown = 0;

	rc = resolve(&p->c, rc, &p->attr, &unknown);
	p->rc = rc == -DFS_ERR_RPC ? report(&p->c, lock, &p->attr) :
	    settle(&p->c, rc, unknown);
}

/* Reports every file in place to the name server, in as few COMPOUNDs
 * as fit and refusals allow, and settles each. */
static void
commit_all(struct filed_ctx *fc, struct putf *pf, u_int n,
    const put_entry *files, uint64_t srvid)
{
	struct namecommit	uc[DFS_MAXPUT];
	u_int		idx[DFS_MAXPUT], m = 0, i, j;
	int		k;

	for (i = 0; i < n; i++)
		if (pf[i].live) {
			memset(&uc[m], 0, sizeof(uc[m]));
			uc[m].fh = pf[i].c.fh;
			uc[m].lock = &files[i].lock;
			uc[m].oldvers = pf[i].c.oldvers;
			uc[m].size = pf[i].c.size;
			idx[m++] = i;
		}
	for (j = 0; j < m; j += (u_int)k) {
		k = namecall_commit_many(fc, &uc[j], m - j, srvid);
		if (k < 0) {
			for (; j < m; j++)
				lost(&pf[idx[j]], k, &files[idx[j]].lock);
			return;
		}
		for (i = j; i < j + (u_int)k; i++) {
			pf[idx[i]].attr = uc[i].attr;
			pf[idx[i]].rc = settle(&pf[idx[i]].c, uc[i].status, 0);
		}
	}
}

/*
 * PUT(files)
 *
 * Makes each file's data version base + 1 of its handle, as STAGE,
 * WRITE and COMMIT would, with one sync for all and their COMMITs in
 * few calls to the name server (see the top of this file).  Replies one
 * result per file, in order: OK with the attributes the name server now
 * has, or that file's error (those of COMMIT but INVAL; nothing is kept
 * of a failed file).  The op itself fails only with INVAL (no files, or
 * one handle twice), DELAY (no server id yet, or no name server), NOMEM
 * or IO (the commit locks): then no file was touched.
 */
dfs_stat
op_put(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const put_args	*pa = &a->file_argop_u.put;
	const put_entry	*files = pa->files.files_val;
	u_int		 n = pa->files.files_len, i;
	struct putf	*pf;
	fcommit_res	*out;
	uint64_t	 srvid = 0;
	int		 rc;

	if (n == 0 || n > DFS_MAXPUT)
		return DFS_ERR_INVAL;
	pf = putf_room(n);
	out = calloc(n, sizeof(*out));
	if (pf == NULL || out == NULL) {
		free(out);
		return DFS_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		pf[i].c.fc = oc->fc;
		pf[i].c.fh = &files[i].fh;
		pf[i].c.put = 1;
		pf[i].c.oldvers = pf[i].c.size = 0;
		pf[i].locked = pf[i].live = 0;
		memset(&pf[i].attr, 0, sizeof(pf[i].attr));
		pf[i].rc = store_fh(&files[i].fh, pf[i].c.hex);
	}
	if (twice(pf, n))
		rc = -DFS_ERR_INVAL;
	else if ((rc = store_server_id(oc->fc, &srvid)) == 0 &&
	    namecall_connect(oc->fc) != 0)
		rc = -DFS_ERR_DELAY;
	for (i = 0; i < n; i++)
		pf[i].c.srvid = srvid;
	if (rc == 0 && (rc = lock_all(oc->fc, pf, n)) != 0)
		unlock_all(oc->fc, pf, n);
	if (rc == 0) {
		for (i = 0; i < n; i++)
			if (pf[i].rc == 0) {
				pf[i].rc = put_stage(&pf[i].c, &files[i]);
				pf[i].live = pf[i].rc == 0;
			}
		sync_all(oc->fc, pf, n);
		commit_all(oc->fc, pf, n, files, srvid);
		unlock_all(oc->fc, pf, n);
		for (i = 0; i < n; i++) {
			out[i].status = (dfs_stat)-pf[i].rc;
			if (pf[i].rc == 0)
				out[i].fcommit_res_u.attr = pf[i].attr;
		}
		r->file_resop_u.put.put_res_u.files.files_len = n;
		r->file_resop_u.put.put_res_u.files.files_val = out;
		out = NULL;
	}
	free(out);
	return (dfs_stat)-rc;
}
