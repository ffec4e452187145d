/*
 * op_lock.c -- the LOCK program's ops: LOCK, UNLOCK, RENEW, TEST, TESTTREE.
 *
 * Locks are on exact absolute paths.  A SHARED lock coexists with other
 * SHARED locks; an EXCL lock conflicts with any lock of another id; an
 * id never conflicts with itself.  A lapsed lease is not acted on until
 * a conflicting request arrives (courtesy expiry): only then is the lapsed
 * lock revoked, and only if the request will succeed because of it.  A
 * revoked id answers EXPIRED, so a holder whose lock was taken over cannot
 * commit with it (fencing, invariant 5); an id never issued here answers
 * BADLOCK, and a bad id never disturbs another holder.  A LOCK may wait
 * for its conflict to go away (wait.c); waiters hold nothing, so TEST
 * ignores them, but a new LOCK queues behind them.  A lock server on
 * standby (heartbeat.c: not the authority the name server confirms)
 * grants, renews and tests nothing: STANDBY.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lockd.h"
#include "path.h"
#include "svcloop.h"

static int
valid_mode(dfs_lockmode mode)
{
	return mode == DFS_LOCK_SHARED || mode == DFS_LOCK_EXCL;
}

/* Returns 1 if holder `h` stands in the way of `self` (NULL: nobody)
 * taking a path in `mode`. */
static int
conflicts(const struct lk *h, dfs_lockmode mode, const struct lk *self)
{
	if (h == self)
		return 0;
	return mode == DFS_LOCK_EXCL || h->mode == DFS_LOCK_EXCL;
}

/* Returns the first holder of `pe` (may be NULL) in conflict, preferring
 * one whose lease still runs, or NULL. */
static struct lk *
first_conflict(const struct pent *pe, dfs_lockmode mode,
    const struct lk *self, unsigned long long now)
{
	struct lk	*lapsed = NULL;
	unsigned int	 i;

	if (pe == NULL)
		return NULL;
	for (i = 0; i < pe->nholders; i++) {
		if (!conflicts(pe->holders[i], mode, self))
			continue;
		if (!lk_lapsed(pe->holders[i], now))
			return pe->holders[i];
		if (lapsed == NULL)
			lapsed = pe->holders[i];
	}
	return lapsed;
}

dfs_stat
lock_deny(lock_denied *d, const dfs_path *path, dfs_lockmode mode,
    unsigned long long deadline, unsigned long long now)
{
	unsigned long long	left;

	d->path.dfs_path_val = malloc(path->dfs_path_len ?
	    path->dfs_path_len : 1);
	if (d->path.dfs_path_val == NULL)
		return DFS_ERR_RESOURCE;
	memcpy(d->path.dfs_path_val, path->dfs_path_val, path->dfs_path_len);
	d->path.dfs_path_len = path->dfs_path_len;
	d->mode = mode;
	left = deadline > now ? deadline - now : 0;
	d->remaining_ms = left > UINT_MAX ? UINT_MAX : (unsigned int)left;
	return DFS_ERR_LOCKED;
}

/* Fills a lock_denied for `path` held by `h`.  Returns DFS_ERR_LOCKED, or
 * DFS_ERR_RESOURCE when out of memory. */
static dfs_stat
deny(lock_denied *d, const dfs_path *path, const struct lk *h,
    unsigned long long now)
{
	return lock_deny(d, path, h->mode, h->deadline, now);
}

/* Revokes every lapsed lock that conflicts with `self` taking `path` in
 * `mode`; the caller made sure no live one does.  Returns DFS_OK or the
 * failure's status. */
static dfs_stat
revoke_lapsed(struct lock_ctx *ctx, const dfs_path *path, dfs_lockmode mode,
    const struct lk *self, unsigned long long now)
{
	struct pent	*pe;
	struct lk	*h;
	int		 rc;

	/* ORDER: look the path up again after each revocation, which may
	 * free the entry */
	for (;;) {
		pe = table_path(ctx, path->dfs_path_val, path->dfs_path_len);
		h = first_conflict(pe, mode, self, now);
		if (h == NULL)
			return DFS_OK;
		rc = table_revoke(ctx, h);
		if (rc != 0)
			return rc == -DFS_ERR_IO ? DFS_ERR_SERVERFAULT :
			    (dfs_stat)-rc;
	}
}

/* Checks LOCK's path list: each path absolute and valid, no path twice.
 * Returns DFS_OK, DFS_ERR_INVAL or DFS_ERR_NAMETOOLONG. */
static dfs_stat
check_paths(const lock_args *a)
{
	const dfs_path	*p = a->paths.paths_val;
	unsigned int	 n = a->paths.paths_len, i, j;
	int		 rc;

	if (n == 0 || n > DFS_MAXLOCKPATHS)
		return DFS_ERR_INVAL;
	for (i = 0; i < n; i++) {
		rc = path_check_abs(p[i].dfs_path_val, p[i].dfs_path_len);
		if (rc != 0)
			return (dfs_stat)-rc;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (p[i].dfs_path_len == p[j].dfs_path_len &&
			    memcmp(p[i].dfs_path_val, p[j].dfs_path_val,
			    p[i].dfs_path_len) == 0)
				return DFS_ERR_INVAL;
	return DFS_OK;
}

/* Checks TEST's or TESTTREE's path and mode.  Returns DFS_OK,
 * DFS_ERR_INVAL or DFS_ERR_NAMETOOLONG. */
static dfs_stat
check_test(const test_args *a)
{
	int	rc;

	rc = path_check_abs(a->path.dfs_path_val, a->path.dfs_path_len);
	if (rc != 0)
		return (dfs_stat)-rc;
	return valid_mode(a->mode) ? DFS_OK : DFS_ERR_INVAL;
}

/* Returns DFS_OK if `owner` may lock n more paths, after revoking the
 * lapsed locks that stand in the way of a limit; else DFS_ERR_LIMIT, or
 * the failure's status. */
static dfs_stat
check_limits(struct lock_ctx *ctx, const struct lclient *owner, size_t n,
    unsigned long long now)
{
	int	rc;

	if (limits_paths(ctx, owner, n) == 0)
		return DFS_OK;
	/* the table's total first: reclaiming it reclaims the owner's */
	rc = table_reclaim(ctx, ctx->lim.max_paths != 0 &&
	    ctx->npaths + n > ctx->lim.max_paths ? NULL : owner, now);
	if (rc < 0)
		return rc == -DFS_ERR_IO ? DFS_ERR_SERVERFAULT : (dfs_stat)-rc;
	return (dfs_stat)-limits_paths(ctx, owner, n);
}

dfs_stat
lock_try(struct lock_ctx *ctx, const lock_args *a, const struct waiter *self,
    struct lclient *owner, void *ahead, unsigned long long now,
    lock_res *res)
{
	const dfs_path	*p = a->paths.paths_val;
	unsigned int	 lease = a->lease_ms, i;
	struct lk	*h, *l;
	dfs_stat	 st;
	int		 rc;

	if (!heartbeat_authority(ctx, now))
		return DFS_ERR_STANDBY;
	if (lease == 0)
		lease = ctx->default_lease_ms;
	lease = limits_lease(ctx, lease);
	for (i = 0; i < a->paths.paths_len; i++) {
		h = first_conflict(table_path(ctx, p[i].dfs_path_val,
		    p[i].dfs_path_len), a->mode, NULL, now);
		if (h != NULL && !lk_lapsed(h, now))
			return deny(&res->lock_res_u.denied, &p[i], h, now);
	}
	/* ORDER: after the holders, so a denial names a holder if any */
	st = wait_conflict(ctx, a, self, ahead, now, &res->lock_res_u.denied);
	if (st != DFS_OK)
		return st;
	st = check_limits(ctx, owner, a->paths.paths_len, now);
	if (st != DFS_OK)
		return st;
	for (i = 0; i < a->paths.paths_len; i++) {
		st = revoke_lapsed(ctx, &p[i], a->mode, NULL, now);
		if (st != DFS_OK)
			return st;
	}
	rc = table_grant(ctx, p, a->paths.paths_len, a->mode, lease, owner,
	    &l);
	if (rc != 0)
		return rc == -DFS_ERR_IO ? DFS_ERR_SERVERFAULT : (dfs_stat)-rc;
	res->lock_res_u.ok.id.instance = ctx->instance;
	res->lock_res_u.ok.id.nonce = l->nonce;
	res->lock_res_u.ok.lease_ms = l->lease_ms;
	return DFS_OK;
}

/*
 * Op: LOCK paths<> mode lease_ms wait_ms
 *
 * Reads: every listed path's holders and their leases, the waiters.
 * Changes: revokes the lapsed locks that conflict (only when the whole
 * request is then granted), then records one new lock id holding every
 * path; returns the id and its lease.  A request does not overtake an
 * earlier waiter that names one of its paths in a conflicting mode: that
 * is a conflict too.  On a conflict, a LOCK with wait_ms > 0 that is the
 * last op of its COMPOUND is parked (oc->park; compound.c) and answered
 * when granted or when wait_ms has passed; anywhere else wait_ms counts
 * as 0.  A lease over the server's maximum is clamped (the reply says
 * the lease granted).  The paths count against the calling client's
 * address and the table's limits; lapsed locks are revoked to make room
 * when a limit is reached.
 * Errors: INVAL (no paths, more than DFS_MAXLOCKPATHS, a path listed
 * twice, a bad path or mode, lease over one day, wait over
 * LOCKD_MAX_WAIT_MS), NAMETOOLONG, LOCKED (the first path held by
 * another live lock, else the first one an earlier waiter wants, in
 * `denied`; nothing granted), LIMIT (the client or the server holds as
 * many paths as allowed, or a LOCK that would wait finds as many
 * waiting as allowed), STANDBY (not the lock authority), RESOURCE,
 * SERVERFAULT.
 */
dfs_stat
op_lock(struct op_ctx *oc, const lock_argop *argop, lock_resop *resop)
{
	struct lock_ctx	*ctx = oc->lc;
	const lock_args	*a = &argop->lock_argop_u.lock;
	lock_res	*r = &resop->lock_resop_u.lock;
	struct lclient	*owner;
	dfs_stat	 st;

	st = check_paths(a);
	if (st != DFS_OK)
		return st;
	if (!valid_mode(a->mode) || a->lease_ms > LOCKD_MAX_LEASE_MS ||
	    a->wait_ms > LOCKD_MAX_WAIT_MS)
		return DFS_ERR_INVAL;
	if ((owner = client_get(ctx, oc->caller)) == NULL)
		return DFS_ERR_RESOURCE;
	/* ORDER: pinned, as revoking its own lapsed locks may empty it */
	owner->pins++;
	st = lock_try(ctx, a, NULL, owner, ctx->wpaths, now_ms(), r);
	if (st == DFS_ERR_LOCKED && a->wait_ms > 0 && oc->cs.may_wait) {
		if (wait_admit(ctx, owner) == 0)
			oc->park = 1;
		else {
			free(r->lock_res_u.denied.path.dfs_path_val);
			memset(r, 0, sizeof(*r));
			st = DFS_ERR_LIMIT;
		}
	}
	owner->pins--;
	client_put(ctx, owner);
	return st;
}

/* Looks up a lock id.  Returns DFS_OK and sets *out, DFS_ERR_EXPIRED
 * (revoked here), or DFS_ERR_BADLOCK (other instance, never issued, or
 * unlocked). */
static dfs_stat
find_id(struct lock_ctx *ctx, const dfs_lockid *id, struct lk **out)
{
	*out = NULL;
	if (id->instance != ctx->instance)
		return DFS_ERR_BADLOCK;
	if (table_is_revoked(ctx, id->nonce))
		return DFS_ERR_EXPIRED;
	*out = table_find(ctx, id->nonce);
	return *out == NULL ? DFS_ERR_BADLOCK : DFS_OK;
}

/*
 * Op: UNLOCK id
 *
 * Reads: the id.
 * Changes: releases every path the id holds; the id is forgotten (later
 * use answers BADLOCK).
 * Errors: BADLOCK (unknown or other instance), EXPIRED (revoked),
 * SERVERFAULT.
 */
dfs_stat
op_unlock(struct op_ctx *oc, const lock_argop *argop, lock_resop *resop)
{
	struct lock_ctx	*ctx = oc->lc;
	struct lk	*l;
	dfs_stat	 st;

	(void)resop;
	st = find_id(ctx, &argop->lock_argop_u.unlock, &l);
	if (st != DFS_OK)
		return st;
	if (table_remove(ctx, l) != 0)
		return DFS_ERR_SERVERFAULT;
	return DFS_OK;
}

/*
 * Op: RENEW id
 *
 * Reads: the id.
 * Changes: restarts the id's lease (also a lapsed one not yet revoked);
 * returns the lease length.  Nothing durable changes.
 * Errors: BADLOCK (unknown or other instance), EXPIRED (revoked),
 * STANDBY (not the lock authority).
 */
dfs_stat
op_renew(struct op_ctx *oc, const lock_argop *argop, lock_resop *resop)
{
	struct lock_ctx	*ctx = oc->lc;
	unsigned long long now = now_ms();
	struct lk	*l;
	dfs_stat	 st;

	if (!heartbeat_authority(ctx, now))
		return DFS_ERR_STANDBY;
	st = find_id(ctx, &argop->lock_argop_u.renew, &l);
	if (st != DFS_OK)
		return st;
	table_renew(ctx, l, now);
	resop->lock_resop_u.renew.renew_res_u.lease_ms = l->lease_ms;
	return DFS_OK;
}

/* Returns 1 if `self` holds `pe` in a mode weaker than `mode`. */
static int
holds_weakly(const struct pent *pe, const struct lk *self,
    dfs_lockmode mode)
{
	unsigned int	i;

	if (pe == NULL || self == NULL)
		return 0;
	for (i = 0; i < pe->nholders; i++)
		if (pe->holders[i] == self)
			return mode == DFS_LOCK_EXCL &&
			    self->mode == DFS_LOCK_SHARED;
	return 0;
}

/*
 * Op: TEST path id mode
 *
 * Reads: the path's holders, the id (all zero: nobody).
 * Changes: revokes lapsed locks that conflict when that makes the answer
 * OK; renews a valid id's lease.  OK means the path is free for `mode`
 * and, when id holds it, holds it in that mode (a SHARED holder testing
 * EXCL gets LOCKED, naming its own lock).
 * Errors: INVAL (bad path or mode), NAMETOOLONG, LOCKED (in `denied`; also
 * for a bad or foreign id when someone else holds the path, whose lock is
 * left alone), EXPIRED (id revoked), BADLOCK (id unknown or other
 * instance, path free), STANDBY (not the lock authority), RESOURCE,
 * SERVERFAULT.
 */
dfs_stat
op_test(struct op_ctx *oc, const lock_argop *argop, lock_resop *resop)
{
	struct lock_ctx	*ctx = oc->lc;
	const test_args	*a = &argop->lock_argop_u.test;
	lock_denied	*d = &resop->lock_resop_u.test.test_res_u.denied;
	unsigned long long now = now_ms();
	struct pent	*pe;
	struct lk	*self = NULL, *h;
	dfs_stat	 idst = DFS_OK, st;

	if ((st = check_test(a)) != DFS_OK)
		return st;
	if (!heartbeat_authority(ctx, now))
		return DFS_ERR_STANDBY;
	if (a->id.instance != 0 || a->id.nonce != 0)
		idst = find_id(ctx, &a->id, &self);
	if (idst == DFS_ERR_EXPIRED)
		return idst;
	pe = table_path(ctx, a->path.dfs_path_val, a->path.dfs_path_len);
	h = first_conflict(pe, a->mode, self, now);
	if (idst != DFS_OK)
		return h != NULL ? deny(d, &a->path, h, now) : idst;
	if (holds_weakly(pe, self, a->mode))
		return deny(d, &a->path, self, now);
	if (h != NULL && !lk_lapsed(h, now))
		return deny(d, &a->path, h, now);
	st = revoke_lapsed(ctx, &a->path, a->mode, self, now);
	if (st != DFS_OK)
		return st;
	if (self != NULL)
		table_renew(ctx, self, now);
	return DFS_OK;
}

/* What a TESTTREE walk found among the locked paths of the subtree. */
struct treetest {
	const struct lk		*self;
	dfs_lockmode		 mode;
	unsigned long long	 now;
	struct pent		*live_pe, *lapsed_pe, *weak_pe;
	struct lk		*live, *lapsed;
};

/* tree.c visitor: notes the first live and the first lapsed conflict,
 * and the first path `self` holds too weakly. */
static void
treetest_visit(struct pent *pe, void *arg)
{
	struct treetest	*t = arg;
	struct lk	*h;

	if (t->weak_pe == NULL && holds_weakly(pe, t->self, t->mode))
		t->weak_pe = pe;
	h = first_conflict(pe, t->mode, t->self, t->now);
	if (h == NULL)
		return;
	if (!lk_lapsed(h, t->now) && t->live == NULL) {
		t->live = h;
		t->live_pe = pe;
	} else if (lk_lapsed(h, t->now) && t->lapsed == NULL) {
		t->lapsed = h;
		t->lapsed_pe = pe;
	}
}

/* deny() naming the locked path `pe`. */
static dfs_stat
deny_pent(lock_denied *d, const struct pent *pe, const struct lk *h,
    unsigned long long now)
{
	dfs_path	p;

	p.dfs_path_val = pe->path;
	p.dfs_path_len = (u_int)pe->len;
	return deny(d, &p, h, now);
}

/*
 * Op: TESTTREE path id mode
 *
 * TEST of `path` and of every locked path below it, with TEST's rules
 * for each: OK only when each is free for `mode` or held by `id` in it.
 * Reads: the locked paths of the subtree (a walk of all locked paths),
 * the id.  Changes: revokes the lapsed locks in the way when that makes
 * the answer OK; renews a valid id's lease.
 * Errors: as TEST; LOCKED names the first conflicting path found.
 */
dfs_stat
op_testtree(struct op_ctx *oc, const lock_argop *argop,
    lock_resop *resop)
{
	struct lock_ctx	*ctx = oc->lc;
	const test_args	*a = &argop->lock_argop_u.testtree;
	lock_denied	*d = &resop->lock_resop_u.testtree.test_res_u.denied;
	struct treetest	 t;
	struct lk	*self = NULL;
	dfs_stat	 idst;
	int		 rc;

	if ((idst = check_test(a)) != DFS_OK)
		return idst;
	if (a->id.instance != 0 || a->id.nonce != 0)
		idst = find_id(ctx, &a->id, &self);
	if (idst == DFS_ERR_EXPIRED)
		return idst;
	/* ORDER: walk again after each revocation, which frees entries */
	for (;;) {
		memset(&t, 0, sizeof(t));
		t.self = self;
		t.mode = a->mode;
		t.now = now_ms();
		table_walk_tree(ctx, a->path.dfs_path_val,
		    a->path.dfs_path_len, treetest_visit, &t);
		if (idst != DFS_OK && t.live == NULL && t.lapsed == NULL)
			return idst;
		if (idst != DFS_OK || t.live != NULL)
			return t.live != NULL ? deny_pent(d, t.live_pe, t.live,
			    t.now) : deny_pent(d, t.lapsed_pe, t.lapsed, t.now);
		if (t.weak_pe != NULL)
			return deny_pent(d, t.weak_pe, self, t.now);
		if (t.lapsed == NULL)
			break;
		rc = table_revoke(ctx, t.lapsed);
		if (rc != 0)
			return rc == -DFS_ERR_IO ? DFS_ERR_SERVERFAULT :
			    (dfs_stat)-rc;
	}
	if (self != NULL)
		table_renew(ctx, self, t.now);
	return DFS_OK;
}
