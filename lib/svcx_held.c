/*
 * svcx_held.c -- what a dispatcher asks of the svcx connection its
 * request came on, beyond the reply: hold the reply for later
 * (svcx_hold()), park the request to serve it again (svcx_park(),
 * svcx_resume()), and the connection's id and liveness (svcx_own_*(),
 * for svcx_vc.c's calls on any transport).
 *
 * Each hold and park is a reference on its connection (svcx.c), so a
 * connection closed meanwhile stays, marked dead, until the hold is
 * dropped; a held reply to it is then dropped too.
 */
#include <stdint.h>
#include <stdlib.h>

#include <rpc/rpc.h>

#include "svcloop.h"
#include "svcx.h"
#include "svcx_impl.h"

/* --- held replies ----------------------------------------------------- */

struct svcx_held *
svcx_hold(struct svc_req *rq)
{
	struct svcx_held	*h;
	struct conn		*c;

	if (rq == NULL || rq->rq_xprt == NULL ||
	    (c = sx_conn_of(rq->rq_xprt)) == NULL || c->fd == -1)
		return NULL;
	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	h->c = c;
	h->xid = c->xid;
	h->park = 0;
	c->refs++;
	c->nheld++;
	return h;
}

/* --- parked requests -------------------------------------------------- */

struct svcx_held *
svcx_park(struct svc_req *rq)
{
	struct svcx_held	*h;

	if ((h = svcx_hold(rq)) == NULL)
		return NULL;
	h->park = 1;
	h->c->parked = 1;
	return h;
}

void *
svcx_resumed(struct svc_req *rq)
{
	struct conn	*c;
	void		*data;

	if (rq == NULL || rq->rq_xprt == NULL ||
	    (c = sx_conn_of(rq->rq_xprt)) == NULL)
		return NULL;
	data = c->resume_data;
	c->resume_data = NULL;
	return data;
}

int
svcx_resume(struct svcx_held *h, void *data)
{
	struct conn	*c = h->c;
	int		 served = 0;

	c->refs++;
	if (c->fd != -1 && c->parked) {
		c->parked = 0;
		c->resume_data = data;
		sx_serve_record(c);
		served = c->resume_data == NULL;
		c->resume_data = NULL;
		/* served for good unless parked again; what follows it is
		 * served by the loop's next round */
		if (c->fd != -1 && !c->parked) {
			sx_consume(c);
			(void)sx_parse(c);
		}
	}
	h->park = 0;
	svcx_drop_held(h);
	sx_conn_unref(c);
	return served;
}

int
svcx_held_alive(const struct svcx_held *h)
{
	return h->c->fd != -1;
}

const SVCXPRT *
svcx_held_xprt(const struct svcx_held *h)
{
	return &h->c->xprt;
}

void
svcx_drop_held(struct svcx_held *h)
{
	if (h == NULL)
		return;
	if (h->park)
		h->c->parked = 0;	/* served again next round */
	h->c->nheld--;
	h->c->last = now_ms();
	sx_conn_unref(h->c);
	free(h);
}

int
svcx_reply_held(struct svcx_held *h, xdrproc_t xres, void *res)
{
	struct conn	*c = h->c;
	uint32_t	 xid = c->xid;
	int		 ok = 0;

	if (c->fd != -1) {
		/* ORDER: x_reply() answers with c->xid */
		c->xid = h->xid;
		ok = svc_sendreply(&c->xprt, xres, res);
		c->xid = xid;
	}
	svcx_drop_held(h);
	return ok;
}

/* --- svcx.h's calls on any transport: svcx's side (svcx_impl.h) ------- */

/* xp_p2 keeps a connection's id: svcx's connections leave it unused */
_Static_assert(sizeof(void *) >= sizeof(uint64_t),
    "a connection id does not fit xp_p2");

int
svcx_own_id(SVCXPRT *xprt, uint64_t *id)
{
	if (sx_conn_of(xprt) == NULL)
		return -1;
	/* given at the first ask, so conn_new() need not know of it */
	if (xprt->xp_p2 == NULL)
		xprt->xp_p2 = (void *)(uintptr_t)svcx_next_id();
	*id = (uint64_t)(uintptr_t)xprt->xp_p2;
	return 0;
}

int
svcx_own_alive(SVCXPRT *xprt)
{
	struct conn	*c = sx_conn_of(xprt);

	return c == NULL ? -1 : c->fd != -1;
}

int
svcx_own_open(uint64_t id)
{
	unsigned int	i;

	/* a closed connection leaves the table, even while held */
	for (i = 0; i < sx.nconns; i++)
		if ((uint64_t)(uintptr_t)sx.conns[i]->xprt.xp_p2 == id)
			return 1;
	return 0;
}
