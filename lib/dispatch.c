/*
 * dispatch.c -- the service dispatcher every dfs program uses.
 */
#include <string.h>

#include "dispatch.h"
#include "rpcc.h"

void
svc_dispatch(struct svc_req *rq, SVCXPRT *xprt, const struct svc_prog *p)
{
	union {
		char		c[DISPATCH_MAXSZ];
		long double	align;
	} args, res;

	switch (rq->rq_proc) {
	case 0:
		(void)svc_sendreply(xprt, XDR_VOID, NULL);
		return;
	case 1:
		break;
	default:
		svcerr_noproc(xprt);
		return;
	}
	memset(&args, 0, sizeof(args));
	memset(&res, 0, sizeof(res));
	if (!svc_getargs(xprt, p->xargs, (caddr_t)&args)) {
		/* XDR_FREE of a half-decoded value frees what was made */
		(void)svc_freeargs(xprt, p->xargs, (caddr_t)&args);
		svcerr_decode(xprt);
		return;
	}
	if (p->compound(&args, &res, rq) &&
	    !svc_sendreply(xprt, p->xres, (caddr_t)&res))
		svcerr_systemerr(xprt);
	(void)svc_freeargs(xprt, p->xargs, (caddr_t)&args);
	xdr_free(p->xres, (caddr_t)&res);
}
