/*
 * dispatch.h -- the service dispatcher every dfs program uses.
 *
 * It replaces rpcgen's -m dispatcher, which answers a request whose
 * arguments fail to decode with svcerr_decode() but never frees what the
 * partial decode allocated: each garbage request leaked memory, so a
 * hostile client could grow a daemon without bound.  Ours frees it.
 * Contract as in svc.h: unknown procedure -> svcerr_noproc, decode
 * failure -> svcerr_decode, else the handler and svc_sendreply.
 */
#ifndef DFS_DISPATCH_H
#define DFS_DISPATCH_H

#include <rpc/rpc.h>

#define DISPATCH_MAXSZ	64	/* bytes of a COMPOUND's args or result */

struct svc_prog {
	xdrproc_t	 xargs;		/* xdr_name_compound_args */
	xdrproc_t	 xres;		/* xdr_name_compound_res */
	/* Fills res from args; FALSE sends no reply. */
	bool_t		(*compound)(void *args, void *res, struct svc_req *rq);
};

/* Serves procedure 0 (NULL) and 1 (COMPOUND) of one program. */
void	svc_dispatch(struct svc_req *rq, SVCXPRT *xprt,
	    const struct svc_prog *p);

#endif
