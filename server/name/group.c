/*
 * group.c -- group commit: replies held until the one fdatasync that
 * covers them.
 *
 * A COMPOUND that changed the namespace appends its batch to the log
 * (kv_append) without waiting for the disk.  Its reply is held, and so
 * is the reply of every COMPOUND served while any change is not durable
 * yet, since it may have read that change.  At the end of the loop's
 * round, once the requests of every ready connection were served,
 * group_flush() syncs the log once (kv_sync) and sends every held reply.
 * Clients writing at the same time so share one fdatasync per round
 * instead of paying one each, and no reply leaves before the sync that
 * covers what it reflects (DESIGN.md invariant 6).  A reply that can
 * reflect nothing undurable (a read while nothing is pending, NULL, a
 * decode error) goes at once, so reads cost no more than before.
 *
 * A connection holds at most one reply: its client waits for it before
 * sending more, and one that does not (pipelining, or retrying after a
 * timeout) makes us flush before its next request is read.  Held replies
 * are so bounded by the number of connections.
 *
 * libtirpc has no deferred replies.  svc_sendreply() puts in the xid of
 * the last request read on the connection, and libtirpc frees the
 * SVCXPRT when its client goes away.  While a reply is held, the
 * connection's xp_ops is a copy of its own whose recv flushes first (a
 * new request never changes the xid under a held reply) and whose
 * destroy drops the held reply before libtirpc frees the connection;
 * sending puts the original ops back.  libtirpc's reaper of idle
 * connections (on EMFILE) skips any whose recv is not svc_vc_recv, so it
 * never frees a held one either.
 */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "named.h"

/* --- the connection: libtirpc --- */

/*
 * xp_ops callbacks get no user pointer, so the libtirpc side keeps the
 * daemon state it flushes here, next to the ops it swaps in; libtirpc's
 * service state is process-wide as well.
 */
static struct named_ctx		*tirpc_nc;
static const struct xp_ops	*conn_ops;	/* the connections' own */
static struct xp_ops		 held_ops;	/* conn_ops, two wrapped */

static bool_t
held_recv(SVCXPRT *xprt, struct rpc_msg *msg)
{
	/* ORDER: the held reply leaves before the read that would make
	 * libtirpc answer with the new request's xid */
	group_flush(tirpc_nc);
	return conn_ops->xp_recv(xprt, msg);
}

static void
held_destroy(SVCXPRT *xprt)
{
	group_drop(tirpc_nc, xprt);
	conn_ops->xp_destroy(xprt);
}

/* Swaps in held_ops.  Returns 0, or -1 for a connection of another
 * transport kind than the first one seen (not wrapped: reply now). */
static int
tirpc_bind(struct held *h, struct svc_req *rq)
{
	SVCXPRT	*xprt = rq->rq_xprt;

	if (xprt == NULL)
		return -1;
	if (conn_ops == NULL) {
		conn_ops = xprt->xp_ops;
		held_ops = *conn_ops;
		held_ops.xp_recv = held_recv;
		held_ops.xp_destroy = held_destroy;
	}
	if (xprt->xp_ops != conn_ops)
		return -1;
	xprt->xp_ops = &held_ops;
	h->conn = xprt;
	return 0;
}

static void
tirpc_unbind(struct held *h)
{
	((SVCXPRT *)h->conn)->xp_ops = conn_ops;
}

static void
tirpc_send(struct held *h)
{
	tirpc_unbind(h);
	if (!svc_sendreply(h->conn, (xdrproc_t)xdr_name_compound_res,
	    (caddr_t)&h->res))
		log_debug("cannot send a reply held for the log sync");
}

static const struct group_io tirpc_io = { tirpc_bind, tirpc_send,
    tirpc_unbind };

static const struct group_io *
io_of(struct named_ctx *nc)
{
	if (nc->group.io != NULL)
		return nc->group.io;
	tirpc_nc = nc;
	return &tirpc_io;
}

/* --- the queue --- */

static void
held_free(struct held *h)
{
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&h->res);
	free(h);
}

/* Makes every appended change durable; exits when that fails. */
static void
group_sync(struct named_ctx *nc)
{
	if (kv_commit(nc->kv) != 0)
		fatalx("cannot sync the name log: durability unknown");
}

int
group_hold(struct named_ctx *nc, struct svc_req *rq,
    name_compound_res *res)
{
	struct group	*g = &nc->group;
	struct held	*h;

	if (!kv_pending(nc->kv))
		return 0;
	if (rq == NULL || (h = calloc(1, sizeof(*h))) == NULL) {
		group_sync(nc);
		return 0;
	}
	if (io_of(nc)->bind(h, rq) != 0) {
		free(h);
		group_sync(nc);
		return 0;
	}
	h->res = *res;
	memset(res, 0, sizeof(*res));
	if (g->tail != NULL)
		g->tail->next = h;
	else
		g->head = h;
	g->tail = h;
	g->nheld++;
	return 1;
}

void
group_flush(struct named_ctx *nc)
{
	struct group	*g = &nc->group;
	struct held	*h;

	/* ORDER: durable before any reply that may reflect it */
	if (kv_pending(nc->kv))
		group_sync(nc);
	while ((h = g->head) != NULL) {
		g->head = h->next;
		if (g->head == NULL)
			g->tail = NULL;
		g->nheld--;
		io_of(nc)->send(h);
		held_free(h);
	}
}

void
group_drop(struct named_ctx *nc, const void *conn)
{
	struct group	*g = &nc->group;
	struct held	*h, *prev = NULL, *next;

	for (h = g->head; h != NULL; h = next) {
		next = h->next;
		if (h->conn != conn) {
			prev = h;
			continue;
		}
		if (prev == NULL)
			g->head = next;
		else
			prev->next = next;
		if (g->tail == h)
			g->tail = prev;
		g->nheld--;
		io_of(nc)->unbind(h);
		log_debug("held reply dropped: its connection closed");
		held_free(h);
	}
}

void
group_release(struct named_ctx *nc)
{
	struct group	*g = &nc->group;
	struct held	*h;

	while ((h = g->head) != NULL) {
		g->head = h->next;
		io_of(nc)->unbind(h);
		held_free(h);
	}
	g->tail = NULL;
	g->nheld = 0;
}
