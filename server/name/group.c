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
 * Replies are held through svcx (lib/svcx.h), which keeps each one's
 * xid and connection: requests read after it on the connection are
 * served meanwhile, their replies held behind it while the sync is
 * pending, and a reply whose connection closed is dropped when sent.
 * Held replies are bounded by the requests one round can read (svcx
 * serves a bounded batch per connection per round).
 */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "named.h"
#include "svcx.h"

/* --- the connection: svcx --- */

static int
svcx_bind(struct held *h, struct svc_req *rq)
{
	h->conn = svcx_hold(rq);
	return h->conn != NULL ? 0 : -1;
}

static void
svcx_send(struct held *h)
{
	if (!svcx_reply_held(h->conn, (xdrproc_t)xdr_name_compound_res,
	    (caddr_t)&h->res))
		log_debug("cannot send a reply held for the log sync");
}

static void
svcx_unbind(struct held *h)
{
	svcx_drop_held(h->conn);
}

static const struct group_io svcx_io = { svcx_bind, svcx_send,
    svcx_unbind };

static const struct group_io *
io_of(struct named_ctx *nc)
{
	return nc->group.io != NULL ? nc->group.io : &svcx_io;
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
