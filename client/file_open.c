/*
 * file_open.c -- dfs_open(), dfs_from_cache(), dfs_close(), dfs_abort().
 *
 * Open is one round trip to the name server (walk, CREATE or LOOKUP,
 * GETFH, GETATTR, LOCATE) after, for writers, an exclusive lock.  A file
 * opened "r" reads the version the name server gave at open (the cache
 * entry of exactly that version when there is one: the open round trip
 * is the consistency check), so it reads one committed version or fails
 * with STALE (file_read.c).  A writable file lives in a spool
 * (file_write.c), or for a writer that never reads back, goes straight
 * to a stage on the file server (file_direct.c); dfs_close() commits it.
 * "a" appends without downloading: the stage starts as a server-side
 * copy of the current version (STAGE keep = size) and only the appended
 * bytes travel.
 *
 * A writer normally takes its own lock; one opened under a lock the
 * client already holds (dfs_open_locked(), a dfs_lock() of the path, or
 * $DFS_LOCKS) borrows that id and leaves it held at close.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_core.h"

/* Builds the open COMPOUND for `f`.  `buf` holds the split path. */
static int
open_req(struct dfs_file *f, struct name_req *r, char *buf)
{
	const char	*parent, *base;
	int		 rc;

	if (f->flags & F_CREATE) {
		if ((rc = name_split(f->path, buf, &parent, &base)) != 0)
			return -DFS_ERR_ISDIR;
		lock_putlock(f->dfs, r, &f->lk.id, f->path, NULL);
		name_walk(r, parent);
		name_req_create(r, base, (f->flags & F_EXCL) != 0);
	} else
		name_walk(r, f->path);
	name_req_add(r, OP_GETFH);
	name_req_add(r, OP_GETATTR);
	name_req_add(r, OP_LOCATE);
	return 0;
}

/* Copies what the open COMPOUND returned into f (no file server for a
 * reader: srv.host stays NULL).  Returns 0 or status. */
int
file_open_take(struct dfs_file *f, const name_compound_res *res)
{
	const name_resop	*ops = res->res.res_val;
	u_int			 n = res->res.res_len;
	const dfs_attr		*a = &ops[n - 2].name_resop_u.getattr.
				    attr_res_u.attr;
	const servers_res	*loc = &ops[n - 1].name_resop_u.locate;
	const dfs_server	*s;
	u_int			 i;

	for (i = 0; i < n; i++)
		if (ops[i].op == OP_CREATE)
			f->created = ops[i].name_resop_u.create.create_res_u.
			    ok.created;
	fh_copy(&f->fh, &ops[n - 3].name_resop_u.getfh.getfh_res_u.fh);
	f->vers = a->vers;
	f->size = a->size;
	s = conn_pick(loc->servers_res_u.servers.servers_val,
	    loc->servers_res_u.servers.servers_len);
	if (s == NULL)		/* a reader may not need one: the cache */
		return (f->flags & F_WRITE) ? file_no_server(f) : 0;
	f->srv = *s;
	f->srv.host = strdup(s->host);
	return f->srv.host != NULL ? 0 : -DFS_ERR_NOMEM;
}

/* The name server part of open.  Returns 0 or a status. */
static int
open_name(struct dfs_file *f)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	char			buf[PATH_MAX];
	int			rc;

	rc = open_req(f, &r, buf);
	if (rc != 0)
		return rc;
	rc = conn_name(f->dfs, &r, &res, (f->flags & F_CREATE) == 0);
	if (rc == 0)
		rc = file_open_take(f, &res);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

/* Prepares the local side of a writable file.  Returns 0 or status. */
static int
open_spool(struct dfs_file *f)
{
	if (f->flags & F_TRUNC) {
		f->dirty = 1;		/* "w" empties the file at close */
	} else if ((f->flags & (F_APPEND | F_READ)) == F_APPEND) {
		f->base = f->size;	/* kept on the server */
	} else
		return file_download(f);
	if ((f->flags & F_READ) == 0) {
		f->dw.on = 1;
		f->dw.size = f->base;
		f->dw.keep = (f->flags & F_CACHE) && f->base == 0 &&
		    !f->dfs->cache.disabled;
	}
	return 0;
}

/*
 * Gets the lock a writable f works under: `lk` (which must hold the path
 * exclusively), else one this client holds on the path, else a new one.
 * Returns 0 or a status.
 */
static int
open_lock(struct dfs_file *f, const struct dfs_lock *lk)
{
	const char	*path = f->path;

	if ((f->flags & F_WRITE) == 0)
		return 0;
	if (lk != NULL && !lock_covers(lk, f->path))
		return -DFS_ERR_INVAL;
	if (lk == NULL)
		lk = lock_find(f->dfs, f->path);
	if (lk == NULL)
		return lock_take(f->dfs, &path, 1, &f->lk.id, &f->lk.lease_ms);
	f->lk.id = lk->id;
	f->lk.lease_ms = lk->lease_ms;
	f->lk.borrowed = 1;
	return 0;
}

/* Releases f's lock unless it was borrowed. */
static void
unlock_file(struct dfs_file *f)
{
	if (!f->lk.borrowed)
		(void)lock_release(f->dfs, &f->lk.id);
}

int
dfs_open_locked(struct dfs *dfs, const char *path, const char *mode,
    const struct dfs_lock *lk, struct dfs_file **fp)
{
	struct dfs_file	*f;
	int		 rc;

	if ((rc = file_new(dfs, path, &f)) != 0)
		return rc;
	f->flags = file_mode(mode);
	rc = f->flags != 0 ? open_lock(f, lk) : -DFS_ERR_INVAL;
	file_lease_start(f);
	if (rc == 0)
		rc = open_name(f);
	if (rc == 0 && (f->flags & F_WRITE))
		rc = open_spool(f);
	else if (rc == 0 && !file_entry_open(f) && f->srv.host == NULL)
		rc = file_no_server(f);
	if (rc != 0) {
		file_unplace(f);	/* ORDER: under our lock */
		unlock_file(f);
		file_free(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int
dfs_open(struct dfs *dfs, const char *path, const char *mode,
    struct dfs_file **fp)
{
	return dfs_open_locked(dfs, path, mode, NULL, fp);
}

int
dfs_abort(struct dfs_file *f)
{
	struct dfs	*dfs = f->dfs;

	dfs->detail[0] = '\0';
	if (f->dw.on && f->dw.stage != 0) {
		/* ORDER: no WRITE after the ABORT */
		parallel_end(f->dw.par);
		f->dw.par = NULL;
		/* after the failure that made the writer give up */
		file_abort_stage(f, f->dw.stage, f->dw.err);
	}
	/* ORDER: under our lock */
	if (f->flags & F_WRITE)
		file_unplace(f);
	unlock_file(f);
	file_free(f);
	return 0;
}

int
dfs_close(struct dfs_file *f)
{
	struct dfs	*dfs = f->dfs;
	int		 rc = 0;

	dfs->detail[0] = '\0';
	if ((f->flags & F_WRITE) && f->dirty)
		rc = f->dw.on ? direct_commit(f) : file_upload(f);
	if (rc == 0 && (f->flags & F_WRITE) && f->dirty)
		file_keep_written(f);
	else if (rc != 0)
		file_unplace(f);	/* ORDER: under our lock */
	unlock_file(f);
	file_free(f);
	return rc;
}

/* --- dfs_from_cache ------------------------------------------------------ */

/* [walk, GETFH, GETATTR] of f->path: the current version, without
 * asking where it lives.  Returns 0, -DFS_ERR_ISDIR or a status. */
static int
current_version(struct dfs_file *f)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	const dfs_attr		*a;
	int			 rc;

	name_walk(&r, f->path);
	name_req_add(&r, OP_GETFH);
	name_req_add(&r, OP_GETATTR);
	rc = conn_name(f->dfs, &r, &res, 1);
	if (rc == 0 && res.res.res_len == r.n) {
		a = &res.res.res_val[r.n - 1].name_resop_u.getattr.
		    attr_res_u.attr;
		fh_copy(&f->fh, &res.res.res_val[r.n - 2].name_resop_u.getfh.
		    getfh_res_u.fh);
		f->vers = a->vers;
		f->size = a->size;
		if (a->type == DFS_FTYPE_DIR)
			rc = -DFS_ERR_ISDIR;
		else if (f->fh.dfs_fh_val == NULL)
			rc = -DFS_ERR_NOMEM;
	} else if (rc == 0)
		rc = -DFS_ERR_PROTO;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

/* TEST(f->path, id, SHARED).  Returns 0 or a status. */
static int
test_lock(struct dfs_file *f, const dfs_lockid *id)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	test_args		*ta;
	int			 rc;

	ta = &lock_req_add(&r, LOP_TEST)->lock_argop_u.test;
	ta->path = mkpath(f->path);
	ta->id = *id;
	ta->mode = DFS_LOCK_SHARED;
	rc = conn_lock(f->dfs, &r, &res, 1);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

/* Asks the lock server whether someone else holds f->path exclusively
 * (TEST for a shared hold, under our own exclusive lock of the path if
 * we have one, else the zero id).  Returns 0 (also without a lock
 * server), -DFS_ERR_LOCKED (detail set) or a transport status. */
static int
locked_elsewhere(struct dfs_file *f)
{
	const struct dfs_lock	*own = lock_find(f->dfs, f->path);
	dfs_lockid		 zero = { 0, 0 };
	int			 rc;

	rc = test_lock(f, own != NULL ? &own->id : &zero);
	/* our lock was taken over: then ask as nobody */
	if (own != NULL && (rc == -DFS_ERR_EXPIRED ||
	    rc == -DFS_ERR_BADLOCK))
		rc = test_lock(f, &zero);
	if (rc == -DFS_ERR_LOCKED)
		conn_detail(f->dfs, "locked for writing by another client");
	return rc == -DFS_ERR_NOSERVER ? 0 : rc;
}

int
dfs_from_cache(struct dfs *dfs, const char *path, struct dfs_file **fp)
{
	struct dfs_file	*f;
	int		 rc;

	if ((rc = file_new(dfs, path, &f)) != 0)
		return rc;
	f->flags = F_READ;
	rc = current_version(f);
	if (rc == 0)
		rc = locked_elsewhere(f);
	if (rc == 0 && !file_entry_open(f)) {
		conn_detail(dfs, "the cache holds no copy of version %" PRIu64,
		    f->vers);
		rc = -DFS_ERR_STALE;
	}
	if (rc != 0) {
		file_free(f);
		return rc;
	}
	*fp = f;
	return 0;
}
