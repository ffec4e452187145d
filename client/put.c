/*
 * put.c -- dfs_put(): many small files written whole, in a few round
 * trips and a few disk syncs.
 *
 * A tree of small files written one dfs_open() at a time costs each
 * file a name-server round trip and log sync (CREATE), a file-server
 * round trip with two fsyncs (STAGE, WRITE, COMMIT) and the name
 * server's log sync of the COMMIT.  dfs_put() does the same for up to
 * DFS_PUT_MAXFILES files at once:
 *
 *	name server	[PUTLOCK, (PUTROOTFH, LOOKUP dir, SAVEFH |
 *			 RESTOREFH), CREATE, GETFH] per file, as many
 *			 files as DFS_MAXOPS allows a COMPOUND
 *	file server	one PUT per server holding files of the batch
 *
 * A COMPOUND stops at its first failing op, so a file the name server
 * refuses (a directory there, a missing parent) fails alone and the next
 * COMPOUND starts at the file after it.  PUT answers each file apart.
 * The result is what dfs_open(), dfs_write() and dfs_close() of each
 * file would give: a missing file is created (0644), an existing one
 * replaced by a new version, committed and durable, and CHANGED when
 * another writer committed in between.
 *
 * Without a lock from the caller none is taken: a LOCK and an UNLOCK,
 * each a sync of the lock table, were a third of a small-file tree's
 * upload, and they protect nothing the servers do not.  The data is all
 * here, so there is no writing session for a lock to keep others out
 * of: the name server refuses the CREATE, and the file server the
 * commit, of a path someone else holds (LOCKED, that file alone), and a
 * commit that another writer's came before fails with CHANGED.  A file
 * whose path this client holds a lock on (dfs_lock(), $DFS_LOCKS) goes
 * under that lock, as dfs_open() would; a COMPOUND to the name server
 * carries the files of one lock.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

_Static_assert(DFS_PUT_MAXFILES <= DFS_MAXPUT &&
    DFS_PUT_MAXFILES <= DFS_MAXLOCKPATHS, "a batch is one PUT, one LOCK");
_Static_assert(DFS_PUT_MAXBYTES <= DFS_MAXDATA, "a batch's data is one PUT");

/* What the name server gave for one file. */
struct putent {
	char		*buf;		/* the split path, in dfs_put()'s block */
	const char	*dir, *base;
	dfs_fh		 fh;		/* malloc'd */
	dfs_server	 srv;		/* host malloc'd */
	uint64_t	 vers;
	int		 created;	/* by our CREATE: undone on failure */
};

/* Checks the arguments.  Returns 0 or -DFS_ERR_INVAL. */
static int
put_check(struct dfs_put *files, size_t n, const char *mode,
    const struct dfs_lock *lk)
{
	size_t	i, bytes = 0;

	if (n == 0 || n > DFS_PUT_MAXFILES ||
	    (strcmp(mode, "w") != 0 && strcmp(mode, "wc") != 0))
		return -DFS_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (files[i].len > DFS_PUT_MAXBYTES - bytes ||
		    (files[i].data == NULL && files[i].len > 0) ||
		    name_check(files[i].path) != 0 ||
		    (lk != NULL && !lock_covers(lk, files[i].path)))
			return -DFS_ERR_INVAL;
		bytes += files[i].len;
	}
	return 0;
}

/*
 * Appends the ops that create file i to r, walking to its directory
 * unless it is the previous file's (`same`).  Returns the index of its
 * last op (GETFH), or -1 when they do not fit.
 */
static int
add_create(struct name_req *r, struct putent *e, int same)
{
	u_int	need = same ? 3 : 5;

	if (r->n + need > DFS_MAXOPS)
		return -1;
	if (same)
		name_req_add(r, OP_RESTOREFH);
	else {
		name_walk(r, e->dir);
		name_req_add(r, OP_SAVEFH);
	}
	name_req_create(r, e->base, 0);
	name_req_add(r, OP_GETFH);
	return (int)r->n - 1;
}

/* Keeps what the name server answered for a file: its CREATE at
 * ops[k - 1], its GETFH at ops[k].  Returns 0 or a status. */
static int
take_created(struct putent *e, const name_resop *ops, u_int k)
{
	const create_ok		*ok = &ops[k - 1].name_resop_u.create.
				    create_res_u.ok;
	const dfs_server	*s;

	if (ops[k - 1].op != OP_CREATE || ops[k].op != OP_GETFH ||
	    ops[k - 1].name_resop_u.create.status != DFS_OK ||
	    ops[k].name_resop_u.getfh.status != DFS_OK)
		return -DFS_ERR_SERVERFAULT;
	e->vers = ok->attr.vers;
	e->created = ok->created;
	/* ORDER: the handle first, a failure takes back what was created */
	fh_copy(&e->fh, &ops[k].name_resop_u.getfh.getfh_res_u.fh);
	if (e->fh.dfs_fh_val == NULL)
		return -DFS_ERR_NOMEM;
	s = conn_pick(ok->servers.servers_val, ok->servers.servers_len);
	if (s == NULL)
		return -DFS_ERR_NOSERVER;
	e->srv = *s;
	e->srv.host = strdup(s->host);
	return e->srv.host != NULL ? 0 : -DFS_ERR_NOMEM;
}

/* Creates (or opens) files[from..n) in one COMPOUND, as far as it goes
 * and as long as their locks (ids) are those of the first.  Returns the
 * index of the first file not settled by it. */
static size_t
create_some(struct dfs *dfs, struct dfs_put *files, struct putent *ents,
    size_t from, size_t n, const dfs_lockid *ids)
{
	struct name_req		*r;
	name_compound_res	 res;
	int			 last[DFS_PUT_MAXFILES], rc;
	size_t			 i, end, prev = n;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		for (i = from; i < n; i++)
			files[i].status = -DFS_ERR_NOMEM;
		return n;
	}
	name_req_add(r, OP_PUTLOCK)->name_argop_u.putlock = ids[from];
	for (end = from; end < n; end++) {
		if (files[end].status != 0) {
			last[end] = -1;		/* failed already */
			continue;
		}
		if (memcmp(&ids[end], &ids[from], sizeof(ids[end])) != 0)
			break;
		last[end] = add_create(r, &ents[end], prev < n &&
		    strcmp(ents[end].dir, ents[prev].dir) == 0);
		if (last[end] == -1)
			break;
		prev = end;
	}
	rc = conn_name(dfs, r, &res, 0);
	for (i = from; i < end; i++) {
		if (last[i] == -1)
			continue;
		if (res.res.res_len <= (u_int)last[i]) {
			/* this file failed, or the call did */
			files[i].status = rc != 0 ? rc : -DFS_ERR_SERVERFAULT;
			end = res.res.res_len > 0 ? i + 1 : end;
			break;
		}
		files[i].status = take_created(&ents[i], res.res.res_val,
		    (u_int)last[i]);
	}
	/* a call that failed as a whole fails every file it carried */
	for (; i < end && res.res.res_len == 0; i++)
		if (last[i] != -1)
			files[i].status = rc;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	free(r);
	return end;
}

/* Sends one PUT to srv with every created file it holds that is not
 * yet sent, and marks them sent (ents[i].srv.port = 0). */
static void
put_to(struct dfs *dfs, struct dfs_put *files, struct putent *ents,
    size_t n, const dfs_server srv, const dfs_lockid *ids, int cache)
{
	struct file_req		 r = { .n = 0 };
	put_entry		 pf[DFS_PUT_MAXFILES];
	size_t			 idx[DFS_PUT_MAXFILES], m = 0, i;
	put_args		*pa;
	file_compound_res	 res;
	const fcommit_res	*out;
	struct cache_key	 k;
	int			 rc;

	for (i = 0; i < n; i++) {
		if (files[i].status != 0 || ents[i].srv.port != srv.port ||
		    strcmp(ents[i].srv.host, srv.host) != 0)
			continue;
		memset(&pf[m], 0, sizeof(pf[m]));
		pf[m].fh = ents[i].fh;
		pf[m].lock = ids[i];
		/* CHANGED if anyone committed since CREATE: no lost update */
		pf[m].base = ents[i].vers;
		pf[m].data.data_val = (char *)files[i].data;
		pf[m].data.data_len = (u_int)files[i].len;
		ents[i].srv.port = 0;
		idx[m++] = i;
	}
	pa = &file_req_add(&r, FOP_PUT)->file_argop_u.put;
	pa->files.files_len = (u_int)m;
	pa->files.files_val = pf;
	rc = conn_file(dfs, &srv, &r, &res, 0);
	out = res.res.res_len == 1 ? res.res.res_val[0].file_resop_u.put.
	    put_res_u.files.files_val : NULL;
	if (rc == 0 && (out == NULL || res.res.res_val[0].file_resop_u.put.
	    put_res_u.files.files_len != m))
		rc = -DFS_ERR_SERVERFAULT;
	for (i = 0; i < m; i++) {
		files[idx[i]].status = rc != 0 ? rc : -(int)out[i].status;
		if (rc != 0 || out[i].status != DFS_OK || !cache)
			continue;
		k.fh = pf[i].fh.dfs_fh_val;
		k.fhlen = pf[i].fh.dfs_fh_len;
		k.vers = out[i].fcommit_res_u.attr.vers;
		k.size = files[idx[i]].len;
		(void)cache_put_mem(&dfs->cache, &k, files[idx[i]].data);
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
}

/*
 * Moves each file we created whose server could not be reached to
 * another server (place.c), once.  Returns how many were moved (their
 * status is 0 again, to be sent).
 */
static size_t
place_some(struct dfs *dfs, struct dfs_put *files, struct putent *ents,
    size_t n, const dfs_lockid *ids)
{
	name_compound_res	 res;
	size_t			 i, moved = 0;
	int			 rc;

	for (i = 0; i < n; i++) {
		if (!place_transport(files[i].status) || !ents[i].created ||
		    ents[i].fh.dfs_fh_val == NULL)
			continue;
		rc = place_again(dfs, &ids[i], files[i].path, ents[i].srv.id,
		    &res);
		if (rc == 0) {
			free(ents[i].fh.dfs_fh_val);
			free(ents[i].srv.host);
			memset(&ents[i].fh, 0, sizeof(ents[i].fh));
			memset(&ents[i].srv, 0, sizeof(ents[i].srv));
			rc = take_created(&ents[i], res.res.res_val,
			    res.res.res_len - 3);
		}
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
		if (rc == 0) {
			files[i].status = 0;
			moved++;
		}
	}
	return moved;
}

/* Sends one PUT per file server, in the order of its first file, of the
 * files created and not yet sent. */
static void
put_all(struct dfs *dfs, struct dfs_put *files, struct putent *ents,
    size_t n, const dfs_lockid *ids, int cache)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (files[i].status == 0 && ents[i].srv.port != 0)
			put_to(dfs, files, ents, n, ents[i].srv, ids, cache);
}

int
dfs_put(struct dfs *dfs, struct dfs_put *files, size_t n, const char *mode,
    const struct dfs_lock *lk)
{
	struct putent	*ents;
	char		*names;
	dfs_lockid	 ids[DFS_PUT_MAXFILES];
	const struct dfs_lock *held;
	size_t		 i, len = 0;
	int		 rc;

	dfs->detail[0] = '\0';
	rc = put_check(files, n, mode, lk);
	for (i = 0; rc == 0 && i < n; i++)
		len += strlen(files[i].path) + 1;
	ents = rc == 0 ? calloc(n, sizeof(*ents)) : NULL;
	names = rc == 0 ? malloc(len) : NULL;
	if (rc == 0 && (ents == NULL || names == NULL))
		rc = -DFS_ERR_NOMEM;
	if (rc != 0) {
		for (i = 0; i < n; i++)
			files[i].status = rc;
		free(ents);
		free(names);
		return rc;
	}
	for (i = 0, len = 0; i < n; i++) {
		files[i].status = 0;
		ents[i].buf = names + len;
		len += strlen(files[i].path) + 1;
		if (name_split(files[i].path, ents[i].buf, &ents[i].dir,
		    &ents[i].base) != 0)
			files[i].status = -DFS_ERR_ISDIR;	/* "/" */
	}
	/* the caller's lock, else one this client holds, else none (see
	 * the head) */
	for (i = 0; i < n; i++) {
		held = lk != NULL ? lk : lock_find(dfs, files[i].path);
		if (held != NULL)
			ids[i] = held->id;
		else
			memset(&ids[i], 0, sizeof(ids[i]));
	}
	/* ORDER: a COMPOUND starts at a file still to create, whose lock
	 * the ones after it must share */
	for (i = 0; i < n; )
		if (files[i].status != 0)
			i++;
		else
			i = create_some(dfs, files, ents, i, n, ids);
	put_all(dfs, files, ents, n, ids, strcmp(mode, "wc") == 0);
	if (place_some(dfs, files, ents, n, ids) > 0)
		put_all(dfs, files, ents, n, ids, strcmp(mode, "wc") == 0);
	for (i = 0; i < n; i++) {
		/* a failed create leaves no name (place.c) */
		if (files[i].status != 0 && ents[i].created &&
		    ents[i].fh.dfs_fh_val != NULL)
			place_undo(dfs, &ids[i], files[i].path, &ents[i].fh);
		if (rc == 0)
			rc = files[i].status;
		free(ents[i].fh.dfs_fh_val);
		free(ents[i].srv.host);
	}
	free(ents);
	free(names);
	return rc;
}
