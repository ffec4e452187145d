/*
 * wait.c -- parked LOCK requests, answered later in FIFO order.
 *
 * A LOCK that asked to wait and conflicts is not answered at once: its
 * COMPOUND returns no reply (lib/dispatch.c sends none), and a waiter
 * keeps what is needed to answer later: the connection, a copy of the
 * request, the results of the COMPOUND's earlier ops and the deadline.
 * The waiters are walked oldest first whenever locks are released, and
 * on the loop's tick once the earliest "wake" time has come: a waiter's
 * wake is the end of its wait or of the lease (or wait) in its way,
 * whichever is sooner, so an idle server with many waiters does nothing
 * between those events (the cost of waiting follows events, not waiters
 * times ticks).  Each waiter that can now be granted as a whole is
 * (lapsed conflicting locks are revoked, as for any request), and each
 * whose wait is over is answered LOCKED.  Waiters count against their
 * client's and the server's limits (limits.c).  No request overtakes an earlier
 * waiter that names one of its paths in a conflicting mode, so a stream
 * of short locks cannot starve a waiter; waiters hold nothing, so TEST
 * ignores them.
 *
 * Waiters live in memory only: a restart drops them, and their clients
 * see the connection close.  A waiter holds its reply through svcx
 * (lib/svcx.h), which keeps the request's xid and tells whether the
 * connection is still open; the connection counts as busy meanwhile, so
 * its idle timeout does not close it.  A new request on the connection
 * (the same svcx_conn_id(), an id never reused) drops its waiter
 * first: the client gave up on it.
 */
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "lockd.h"
#include "log.h"
#include "path.h"
#include "svcloop.h"
#include "svcx.h"

/* A path that waiters name, and how many want it in each mode. */
struct wpath {
	char		*path;
	size_t		 len;
	unsigned int	 nexcl;
	unsigned int	 nshared;
};

static int
cmp_wpath(const void *a, const void *b)
{
	const struct wpath	*x = a, *y = b;

	return path_cmp(x->path, x->len, y->path, y->len);
}

/* Returns the entry of `p` in the tree `set`, or NULL. */
static struct wpath *
wset_find(void *set, const dfs_path *p)
{
	struct wpath	key, **node;

	key.path = p->dfs_path_val;
	key.len = p->dfs_path_len;
	node = tfind(&key, &set, cmp_wpath);
	return node == NULL ? NULL : *node;
}

static void
wpath_free(void *p)
{
	struct wpath	*wp = p;

	free(wp->path);
	free(wp);
}

/* Takes the first n paths of `a` out of `set`. */
static void
wset_drop(void **set, const lock_args *a, unsigned int n)
{
	struct wpath	*wp;
	unsigned int	 i;

	for (i = 0; i < n; i++) {
		wp = wset_find(*set, &a->paths.paths_val[i]);
		if (wp == NULL)
			continue;
		if (a->mode == DFS_LOCK_EXCL)
			wp->nexcl--;
		else
			wp->nshared--;
		if (wp->nexcl == 0 && wp->nshared == 0) {
			tdelete(wp, set, cmp_wpath);
			wpath_free(wp);
		}
	}
}

/* Adds a new entry for `p` to `set`.  Returns it, or NULL. */
static struct wpath *
wpath_new(void **set, const dfs_path *p)
{
	struct wpath	*wp;

	if ((wp = calloc(1, sizeof(*wp))) == NULL ||
	    (wp->path = malloc(p->dfs_path_len ? p->dfs_path_len : 1)) ==
	    NULL) {
		free(wp);
		return NULL;
	}
	memcpy(wp->path, p->dfs_path_val, p->dfs_path_len);
	wp->len = p->dfs_path_len;
	if (tsearch(wp, set, cmp_wpath) == NULL) {
		wpath_free(wp);
		return NULL;
	}
	return wp;
}

/* Adds the paths of `a` to `set`.  Returns 0, or -DFS_ERR_RESOURCE with
 * `set` unchanged. */
static int
wset_add(void **set, const lock_args *a)
{
	struct wpath	*wp;
	unsigned int	 i;

	for (i = 0; i < a->paths.paths_len; i++) {
		wp = wset_find(*set, &a->paths.paths_val[i]);
		if (wp == NULL && (wp = wpath_new(set,
		    &a->paths.paths_val[i])) == NULL) {
			wset_drop(set, a, i);
			return -DFS_ERR_RESOURCE;
		}
		if (a->mode == DFS_LOCK_EXCL)
			wp->nexcl++;
		else
			wp->nshared++;
	}
	return 0;
}

/* Returns 1 if a request for a path in `mode` must queue behind the
 * waiters counted in `wp` (may be NULL). */
static int
wpath_conflicts(const struct wpath *wp, dfs_lockmode mode)
{
	if (wp == NULL)
		return 0;
	return wp->nexcl > 0 || (mode == DFS_LOCK_EXCL && wp->nshared > 0);
}

/* Returns 1 if waiter w names path p. */
static int
names(const struct waiter *w, const dfs_path *p)
{
	const dfs_path	*q = w->args.paths.paths_val;
	unsigned int	 i;

	for (i = 0; i < w->args.paths.paths_len; i++)
		if (q[i].dfs_path_len == p->dfs_path_len &&
		    memcmp(q[i].dfs_path_val, p->dfs_path_val,
		    p->dfs_path_len) == 0)
			return 1;
	return 0;
}

dfs_stat
wait_conflict(struct lock_ctx *ctx, const lock_args *a,
    const struct waiter *self, void *ahead, unsigned long long now,
    lock_denied *d)
{
	const dfs_path		*p = a->paths.paths_val;
	const struct waiter	*w;
	unsigned int		 i;

	for (i = 0; i < a->paths.paths_len; i++)
		if (wpath_conflicts(wset_find(ahead, &p[i]), a->mode))
			break;
	if (i == a->paths.paths_len)
		return DFS_OK;
	for (w = ctx->whead; w != NULL && w != self; w = w->next)
		if ((a->mode == DFS_LOCK_EXCL ||
		    w->args.mode == DFS_LOCK_EXCL) && names(w, &p[i]))
			return lock_deny(d, &p[i], w->args.mode, w->deadline,
			    now);
	/* not reached while `ahead` matches the list */
	return lock_deny(d, &p[i], DFS_LOCK_EXCL, now, now);
}

/* --- the connection: svcx --- */

/* Holds the request's reply and names its connection (lib/svcx.h).
 * Returns 0 or -1. */
static int
xprt_bind(struct waiter *w, struct svc_req *rq)
{
	if ((w->held = svcx_hold(rq)) == NULL)
		return -1;
	w->conn = svcx_conn_id(rq->rq_xprt);
	return 0;
}

/* Returns 1 while w's connection is open, else 0. */
static int
xprt_alive(const struct waiter *w)
{
	return svcx_held_alive(w->held);
}

/* Sends the reply with the xid of w's request. */
static void
xprt_reply(struct waiter *w)
{
	if (!svcx_reply_held(w->held, (xdrproc_t)xdr_lock_compound_res,
	    (caddr_t)&w->res))
		log_warnx("cannot answer a waiting lock request");
	w->held = NULL;
}

static const struct wait_io xprt_io = { xprt_bind, xprt_alive, xprt_reply };

static const struct wait_io *
io_of(const struct lock_ctx *ctx)
{
	return ctx->wio != NULL ? ctx->wio : &xprt_io;
}

/* --- the queue --- */

static void
waiter_free(struct waiter *w)
{
	svcx_drop_held(w->held);
	xdr_free((xdrproc_t)xdr_lock_args, (char *)&w->args);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&w->res);
	free(w);
}

/* Deep-copies LOCK args (free with xdr_free, also after a failure).
 * Returns 0 or -1. */
static int
copy_args(lock_args *dst, const lock_args *src)
{
	const dfs_path	*sp = src->paths.paths_val;
	unsigned int	 n = src->paths.paths_len, i;
	dfs_path	*p;

	*dst = *src;
	dst->paths.paths_len = 0;
	dst->paths.paths_val = p = calloc(n ? n : 1, sizeof(*p));
	if (p == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		p[i].dfs_path_val = malloc(sp[i].dfs_path_len ?
		    sp[i].dfs_path_len : 1);
		if (p[i].dfs_path_val == NULL)
			return -1;
		memcpy(p[i].dfs_path_val, sp[i].dfs_path_val,
		    sp[i].dfs_path_len);
		p[i].dfs_path_len = sp[i].dfs_path_len;
		dst->paths.paths_len = i + 1;
	}
	return 0;
}

static void
append(struct waiter **head, struct waiter **tail, struct waiter *w)
{
	w->next = NULL;
	if (*tail != NULL)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

/* Takes w (after prev, NULL if first) off the queue. */
static void
unqueue(struct lock_ctx *ctx, struct waiter *prev, struct waiter *w)
{
	if (prev == NULL)
		ctx->whead = w->next;
	else
		prev->next = w->next;
	if (ctx->wtail == w)
		ctx->wtail = prev;
	w->next = NULL;
	ctx->nwaiters--;
	wset_drop(&ctx->wpaths, &w->args, w->args.paths.paths_len);
	w->owner->nwaiters--;
	client_put(ctx, w->owner);
	w->owner = NULL;
}

/* Returns when a waiter denied `r` at `now` (by a holder or an earlier
 * waiter) should be looked at again: when that lapses, or its own wait
 * ends. */
static unsigned long long
wake_time(const struct waiter *w, const lock_res *r, unsigned long long now)
{
	unsigned long long	t = now + r->lock_res_u.denied.remaining_ms;

	return t < w->deadline ? t : w->deadline;
}

int
wait_park(struct lock_ctx *ctx, const char *caller, const lock_args *a,
    lock_compound_res *res, struct svc_req *rq)
{
	struct waiter		*w;
	struct lclient		*owner;
	unsigned long long	 now = now_ms();

	if (res->res.res_len == 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if (copy_args(&w->args, a) != 0 || io_of(ctx)->bind(w, rq) != 0 ||
	    (owner = client_get(ctx, caller)) == NULL) {
		waiter_free(w);
		return -1;
	}
	if (wset_add(&ctx->wpaths, &w->args) != 0) {
		client_put(ctx, owner);
		waiter_free(w);
		return -1;
	}
	w->owner = owner;
	owner->nwaiters++;
	w->deadline = now + a->wait_ms;
	w->res = *res;
	memset(res, 0, sizeof(*res));
	w->wake = wake_time(w, &w->res.res.res_val[w->res.res.res_len - 1].
	    lock_resop_u.lock, now);
	if (ctx->nwaiters == 0 || w->wake < ctx->wake_at)
		ctx->wake_at = w->wake;
	append(&ctx->whead, &ctx->wtail, w);
	ctx->nwaiters++;
	log_debug("lock request parked for up to %u ms (%zu waiting)",
	    a->wait_ms, ctx->nwaiters);
	return 0;
}

void
wait_drop_xprt(struct lock_ctx *ctx, SVCXPRT *xprt)
{
	wait_drop_conn(ctx, svcx_conn_id(xprt));
}

void
wait_drop_conn(struct lock_ctx *ctx, uint64_t conn)
{
	struct waiter	*w, *prev = NULL, *next;

	for (w = ctx->whead; w != NULL; w = next) {
		next = w->next;
		if (w->conn != conn) {
			prev = w;
			continue;
		}
		unqueue(ctx, prev, w);
		log_debug("waiting lock request dropped: new request on its "
		    "connection");
		waiter_free(w);
	}
}

/* Puts the LOCK's final result (status st, body r) in w's reply and
 * moves w to the decided list. */
static void
decide(struct lock_ctx *ctx, struct waiter *w, dfs_stat st, lock_res *r)
{
	lock_resop	*slot = &w->res.res.res_val[w->res.res.res_len - 1];

	xdr_free((xdrproc_t)xdr_lock_res, (char *)&slot->lock_resop_u.lock);
	slot->lock_resop_u.lock = *r;
	slot->lock_resop_u.lock.status = st;
	w->res.status = st;
	append(&ctx->dhead, &ctx->dtail, w);
}

/* One walk over the queue at `now`; sets ctx->wake_at to the earliest
 * wake of those left.  Returns how many were decided. */
static size_t
pass_once(struct lock_ctx *ctx, unsigned long long now)
{
	const struct wait_io	*io = io_of(ctx);
	struct waiter		*w, *prev = NULL, *next;
	void			*ahead = NULL;	/* before w */
	lock_res		 r;
	size_t			 n = 0;

	ctx->wake_at = ULLONG_MAX;
	for (w = ctx->whead; w != NULL; w = next) {
		next = w->next;
		if (!io->alive(w)) {
			unqueue(ctx, prev, w);
			log_debug("waiting lock request dropped: connection "
			    "gone");
			waiter_free(w);
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.status = lock_try(ctx, &w->args, w, w->owner, ahead, now,
		    &r);
		if (r.status == DFS_ERR_LOCKED && now < w->deadline) {
			w->wake = wake_time(w, &r, now);
			if (w->wake < ctx->wake_at)
				ctx->wake_at = w->wake;
			xdr_free((xdrproc_t)xdr_lock_res, (char *)&r);
			/* out of memory: the rest waits for the next tick */
			if (wset_add(&ahead, &w->args) != 0) {
				ctx->wake_at = now;
				break;
			}
			prev = w;
			continue;
		}
		unqueue(ctx, prev, w);
		decide(ctx, w, r.status, &r);
		n++;
	}
	tdestroy(ahead, wpath_free);
	return n;
}

size_t
wait_pass(struct lock_ctx *ctx, unsigned long long now)
{
	unsigned long	before;
	size_t		n = 0;

	/* A grant that revoked a lapsed lock may have freed a path an
	 * earlier waiter wants: walk again.  Ends, as each walk that
	 * revokes also grants, so the queue shrinks. */
	do {
		before = ctx->nreleased;
		n += pass_once(ctx, now);
	} while (ctx->nreleased != before && ctx->nwaiters > 0);
	return n;
}

void
wait_answer(struct lock_ctx *ctx)
{
	const struct wait_io	*io = io_of(ctx);
	struct waiter		*w;

	while ((w = ctx->dhead) != NULL) {
		ctx->dhead = w->next;
		if (ctx->dhead == NULL)
			ctx->dtail = NULL;
		if (io->alive(w))
			io->reply(w);
		else
			log_debug("lock request decided (%d), but its "
			    "connection is gone", (int)w->res.status);
		waiter_free(w);
	}
}

void
wait_tick(struct lock_ctx *ctx, unsigned long long now)
{
	if (ctx->nwaiters == 0 || now < ctx->wake_at)
		return;
	(void)wait_pass(ctx, now);
	/* ORDER: grants durable before their replies */
	compound_commit(ctx);
	wait_answer(ctx);
}

int
wait_admit(struct lock_ctx *ctx, const struct lclient *c)
{
	const struct wait_io	*io;
	struct waiter		*w, *prev = NULL, *next;

	if (limits_waiters(ctx, c) == 0)
		return 0;
	/* at a limit: first forget the waiters nobody waits for */
	io = io_of(ctx);
	for (w = ctx->whead; w != NULL; w = next) {
		next = w->next;
		if (io->alive(w)) {
			prev = w;
			continue;
		}
		unqueue(ctx, prev, w);
		waiter_free(w);
	}
	return limits_waiters(ctx, c);
}

void
wait_release(struct lock_ctx *ctx)
{
	struct waiter	*w;

	while ((w = ctx->whead) != NULL) {
		ctx->whead = w->next;
		w->owner->nwaiters--;
		client_put(ctx, w->owner);
		waiter_free(w);
	}
	while ((w = ctx->dhead) != NULL) {
		ctx->dhead = w->next;
		waiter_free(w);
	}
	tdestroy(ctx->wpaths, wpath_free);
	ctx->wpaths = NULL;
	ctx->whead = ctx->wtail = ctx->dhead = ctx->dtail = NULL;
	ctx->nwaiters = 0;
}
