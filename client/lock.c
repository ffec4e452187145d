/*
 * lock.c -- locks: the writers' own, explicit ones, and $DFS_LOCKS.
 *
 * dfs_open() for writing takes an exclusive lock on the path and
 * dfs_close() releases it; while the file is open the lease is renewed
 * whenever a third of it has passed and the application calls into the
 * library.  A cluster without a lock server writes unlocked.
 *
 * dfs_lock() takes explicit locks on several paths at once; a struct dfs
 * keeps the ones it took on a list, and the one handed down in
 * $DFS_LOCKS (parsed at connect), so that every change this client makes
 * to a path it holds can name the lock (OP_PUTLOCK, lock_putlock()): the
 * name server refuses changes to paths locked by others.  Locks live on
 * exact paths, so "holds" is a string comparison.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int
lock_is_zero(const dfs_lockid *id)
{
	return id->instance == 0 && id->nonce == 0;
}

/* Sets the detail of a LOCKED answer; names the path when `named`. */
static void
lock_denied_detail(struct dfs *dfs, const lock_denied *den, int named)
{
	unsigned int	s = (den->remaining_ms + 999) / 1000;

	if (named)
		conn_detail(dfs, "locked by another client, lease ends in "
		    "%u s (%.*s)", s, (int)den->path.dfs_path_len,
		    den->path.dfs_path_val);
	else
		conn_detail(dfs, "locked by another client, lease ends in "
		    "%u s", s);
}

/*
 * LOCK of `n` checked paths, the lock server waiting up to wait_ms.
 * Returns 0 with *id and *lease_ms, -DFS_ERR_LOCKED (detail set, naming
 * the conflicting path when n > 1), or another status.
 */
static int
lock_request(struct dfs *dfs, const char *const *paths, u_int n,
    dfs_lockmode mode, unsigned int wait_ms, dfs_lockid *id,
    unsigned int *lease_ms)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	dfs_path		 p[DFS_MAXLOCKPATHS];
	lock_args		*la;
	lock_res		*lr;
	u_int			 i;
	int			 rc;

	for (i = 0; i < n; i++)
		p[i] = mkpath(paths[i]);
	la = &lock_req_add(&r, LOP_LOCK)->lock_argop_u.lock;
	la->paths.paths_len = n;
	la->paths.paths_val = p;
	la->mode = mode;
	la->lease_ms = dfs->lease_ms;
	la->wait_ms = wait_ms;
	rc = conn_lock_wait(dfs, &r, &res, wait_ms);
	lr = res.res.res_len == 1 ? &res.res.res_val[0].lock_resop_u.lock :
	    NULL;
	if (rc == 0 && lr != NULL) {
		*id = lr->lock_res_u.ok.id;
		*lease_ms = lr->lock_res_u.ok.lease_ms;
	} else if (rc == 0)
		rc = -DFS_ERR_PROTO;
	else if (rc == -DFS_ERR_LOCKED && lr != NULL)
		lock_denied_detail(dfs, &lr->lock_res_u.denied, n > 1);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

int
lock_take(struct dfs *dfs, const char *const *paths, u_int n, dfs_lockid *id,
    unsigned int *lease_ms)
{
	int	rc;

	memset(id, 0, sizeof(*id));
	*lease_ms = 0;
	rc = lock_request(dfs, paths, n, DFS_LOCK_EXCL, 0, id, lease_ms);
	return rc == -DFS_ERR_NOSERVER ? 0 : rc;
}

/* UNLOCK or RENEW of a non-zero id.  Returns 0 or the status; sets
 * *lease_ms (may be NULL) after a RENEW. */
static int
lock_op(struct dfs *dfs, lock_opnum op, const dfs_lockid *id,
    unsigned int *lease_ms)
{
	struct lock_req		r = { .n = 0 };
	lock_compound_res	res;
	lock_argop		*a;
	int			rc;

	if (lock_is_zero(id))
		return 0;
	a = lock_req_add(&r, op);
	if (op == LOP_RENEW)
		a->lock_argop_u.renew = *id;
	else
		a->lock_argop_u.unlock = *id;
	rc = conn_lock(dfs, &r, &res, 1);
	if (rc == 0 && op == LOP_RENEW && lease_ms != NULL &&
	    res.res.res_len == 1)
		*lease_ms = res.res.res_val[0].lock_resop_u.renew.renew_res_u.
		    lease_ms;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

int
lock_renew(struct dfs *dfs, const dfs_lockid *id, unsigned int *lease_ms)
{
	return lock_op(dfs, LOP_RENEW, id, lease_ms);
}

int
lock_release(struct dfs *dfs, const dfs_lockid *id)
{
	return lock_op(dfs, LOP_UNLOCK, id, NULL);
}

/* --- struct dfs_lock ---------------------------------------------------- */

void
lock_free(struct dfs_lock *lk)
{
	if (lk == NULL)
		return;
	free(lk->paths);
	free(lk->buf);
	free(lk);
}

/* A lock (no id yet) over copies of n paths.  Returns it or NULL. */
static struct dfs_lock *
lock_new(const char *const *paths, int n)
{
	struct dfs_lock	*lk;
	size_t		 total = 0, len;
	char		*p;
	int		 i;

	for (i = 0; i < n; i++)
		total += strlen(paths[i]) + 1;
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL)
		return NULL;
	lk->paths = calloc((size_t)n, sizeof(*lk->paths));
	lk->buf = malloc(total);
	if (lk->paths == NULL || lk->buf == NULL) {
		lock_free(lk);
		return NULL;
	}
	for (i = 0, p = lk->buf; i < n; i++, p += len) {
		len = strlen(paths[i]) + 1;
		memcpy(p, paths[i], len);
		lk->paths[i] = p;
	}
	lk->npaths = n;
	return lk;
}

int
lock_covers(const struct dfs_lock *lk, const char *path)
{
	int	i;

	if (lk == NULL || !lk->exclusive)
		return 0;
	for (i = 0; i < lk->npaths; i++)
		if (strcmp(lk->paths[i], path) == 0)
			return 1;
	return 0;
}

const struct dfs_lock *
lock_find(const struct dfs *dfs, const char *path)
{
	const struct dfs_lock	*lk;

	for (lk = dfs->held; lk != NULL; lk = lk->next)
		if (lock_covers(lk, path))
			return lk;
	return lock_covers(dfs->envlock, path) ? dfs->envlock : NULL;
}

void
lock_putlock(struct dfs *dfs, struct name_req *r, const dfs_lockid *own,
    const char *path, const char *path2)
{
	const struct dfs_lock	*lk = NULL;

	if (own == NULL || lock_is_zero(own)) {
		lk = lock_find(dfs, path);
		if (lk == NULL && path2 != NULL)
			lk = lock_find(dfs, path2);
		own = lk != NULL ? &lk->id : NULL;
	}
	if (own != NULL)
		name_req_add(r, OP_PUTLOCK)->name_argop_u.putlock = *own;
}

void
lock_detach_all(struct dfs *dfs)
{
	struct dfs_lock	*lk, *next;

	for (lk = dfs->held; lk != NULL; lk = next) {
		next = lk->next;
		lk->dfs = NULL;
		lk->next = NULL;
	}
	dfs->held = NULL;
}

/* --- $DFS_LOCKS --------------------------------------------------------- */

/* Parses 16 lowercase hex digits (stops at a NUL).  Returns 0 or -1. */
static int
parse_hex64(const char *s, uint64_t *out)
{
	uint64_t	v = 0;
	int		i, d;

	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* Parses the first line, "ID MODE\n" (35 bytes).  Returns 0 or -1. */
static int
parse_head(const char *s, dfs_lockid *id, int *exclusive)
{
	if (parse_hex64(s, &id->instance) != 0 ||
	    parse_hex64(s + 16, &id->nonce) != 0 || lock_is_zero(id))
		return -1;
	if (s[32] != ' ' || (s[33] != 'x' && s[33] != 's') || s[34] != '\n')
		return -1;
	*exclusive = s[33] == 'x';
	return 0;
}

/* Splits lk->buf into lines, each a checked absolute path.  Returns 0
 * or -DFS_ERR_INVAL. */
static int
parse_paths(struct dfs_lock *lk)
{
	size_t	 len = strlen(lk->buf);
	char	*p, *nl;

	if (len > 0 && lk->buf[len - 1] == '\n')
		lk->buf[len - 1] = '\0';
	for (p = lk->buf; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (lk->npaths == DFS_MAXLOCKPATHS || name_check(p) != 0)
			return -DFS_ERR_INVAL;
		lk->paths[lk->npaths++] = p;
	}
	return 0;
}

int
lock_parse(const char *s, struct dfs_lock **lkp)
{
	struct dfs_lock	*lk;
	dfs_lockid	 id;
	int		 excl, rc;

	*lkp = NULL;
	if (parse_head(s, &id, &excl) != 0)
		return -DFS_ERR_INVAL;
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL)
		return -DFS_ERR_NOMEM;
	lk->id = id;
	lk->exclusive = excl;
	lk->buf = strdup(s + 35);
	lk->paths = calloc(DFS_MAXLOCKPATHS, sizeof(*lk->paths));
	rc = lk->buf != NULL && lk->paths != NULL ? parse_paths(lk) :
	    -DFS_ERR_NOMEM;
	if (rc != 0) {
		lock_free(lk);
		return rc;
	}
	*lkp = lk;
	return 0;
}

/* --- the API ------------------------------------------------------------ */

/* Checks the paths of a dfs_lock(): absolute, 1 to DFS_MAXLOCKPATHS,
 * none twice.  Returns 0 or a status. */
static int
check_paths(const char *const *paths, int n)
{
	int	i, j, rc;

	if (paths == NULL || n < 1 || n > DFS_MAXLOCKPATHS)
		return -DFS_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if ((rc = name_check(paths[i])) != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(paths[i], paths[j]) == 0)
				return -DFS_ERR_INVAL;
	}
	return 0;
}

int
dfs_lock(struct dfs *dfs, const char *const *paths, int npaths,
    int exclusive, unsigned int wait_ms, struct dfs_lock **lkp)
{
	struct dfs_lock	*lk;
	int		 rc;

	dfs->detail[0] = '\0';
	if ((rc = check_paths(paths, npaths)) != 0)
		return rc;
	if (wait_ms > DFS_MAXWAIT_MS)
		return -DFS_ERR_INVAL;
	if ((lk = lock_new(paths, npaths)) == NULL)
		return -DFS_ERR_NOMEM;
	lk->exclusive = exclusive != 0;
	rc = lock_request(dfs, paths, (u_int)npaths, lk->exclusive ?
	    DFS_LOCK_EXCL : DFS_LOCK_SHARED, wait_ms, &lk->id, &lk->lease_ms);
	if (rc != 0) {
		lock_free(lk);
		return rc;
	}
	lk->dfs = dfs;
	lk->next = dfs->held;
	dfs->held = lk;
	*lkp = lk;
	return 0;
}

int
dfs_lock_renew(struct dfs_lock *lk)
{
	if (lk->dfs == NULL)
		return -DFS_ERR_INVAL;		/* after dfs_disconnect() */
	lk->dfs->detail[0] = '\0';
	return lock_renew(lk->dfs, &lk->id, &lk->lease_ms);
}

int
dfs_unlock(struct dfs_lock *lk)
{
	struct dfs_lock	**pp;
	int		  rc = 0;

	if (lk == NULL)
		return 0;
	if (lk->dfs != NULL) {
		lk->dfs->detail[0] = '\0';
		rc = lock_release(lk->dfs, &lk->id);
		for (pp = &lk->dfs->held; *pp != NULL; pp = &(*pp)->next)
			if (*pp == lk) {
				*pp = lk->next;
				break;
			}
	}
	lock_free(lk);
	return rc;
}

unsigned int
dfs_lock_lease_ms(const struct dfs_lock *lk)
{
	return lk->lease_ms;
}

int
dfs_lock_export(const struct dfs_lock *lk, char *buf, size_t len)
{
	size_t	off;
	int	n, i;

	n = snprintf(buf, len, "%016llx%016llx %c",
	    (unsigned long long)lk->id.instance,
	    (unsigned long long)lk->id.nonce, lk->exclusive ? 'x' : 's');
	for (i = 0; i < lk->npaths && n >= 0; i++) {
		off = (size_t)n;
		n += snprintf(off < len ? buf + off : NULL,
		    off < len ? len - off : 0, "\n%s", lk->paths[i]);
	}
	return n;
}
