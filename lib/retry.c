/*
 * retry.c -- the one retry loop of every ONC RPC call dfs makes (see
 * retry.h).
 */
#include <rpc/rpc.h>

#include "dfs_types.h"
#include "retry.h"
#include "rpcc.h"

static void
drop(CLIENT **cp)
{
	if (*cp != NULL)
		clnt_destroy(*cp);
	*cp = NULL;
}

int
retry_call(const struct retry *rt)
{
	enum clnt_stat	st;
	int		attempt, rc = -DFS_ERR_RPC;

	for (attempt = 0; attempt < rt->tries; attempt++) {
		/* a connection the server closed (idle) is not called on */
		if (*rt->cp != NULL && !rt->busy && rpcc_closed(*rt->cp))
			drop(rt->cp);
		if (*rt->cp == NULL && (rc = rt->connect(rt->arg)) != 0) {
			if (rc == -DFS_ERR_TIMEDOUT)
				break;
			continue;
		}
		st = rt->send(rt->arg, *rt->cp, rt->res);
		if (st == RPC_SUCCESS)
			return 0;
		rc = rpcc_error(st);
		if (rt->failed != NULL)
			rt->failed(rt->arg, *rt->cp, st);
		/* a dropped or confused connection is not reused */
		drop(rt->cp);
		/* XDR_FREE also resets the freed pointers for a retry */
		if (rt->xres != NULL)
			xdr_free(rt->xres, rt->res);
		/* a refusal will be refused again; a server that let the
		 * call time out (a raw call has asked it on a new
		 * connection already) would cost another probe */
		if (rc == -DFS_ERR_PROTO || rc == -DFS_ERR_TIMEDOUT)
			break;
	}
	return rc;
}
