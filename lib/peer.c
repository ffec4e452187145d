/*
 * peer.c -- a daemon's connection to another dfs daemon; its calls go
 * through the retry loop the client library uses too (retry.c).
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "dfs_types.h"
#include "peer.h"
#include "retry.h"
#include "rpcc.h"

int
peer_init(struct peer *p, const char *spec, rpcprog_t prog, rpcvers_t vers,
    unsigned int timeout_ms)
{
	char		host[sizeof(p->host)];
	unsigned int	port;
	int		rc;

	rc = rpcc_parse(spec, host, sizeof(host), &port);
	if (rc != 0)
		return rc;
	peer_init_addr(p, host, port, prog, vers, timeout_ms);
	return 0;
}

void
peer_init_addr(struct peer *p, const char *host, unsigned int port,
    rpcprog_t prog, rpcvers_t vers, unsigned int timeout_ms)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->port = port;
	p->prog = prog;
	p->vers = vers;
	p->timeout_ms = timeout_ms;
}

void
peer_close(struct peer *p)
{
	if (p->clnt != NULL)
		clnt_destroy(p->clnt);
	p->clnt = NULL;
}

int
peer_connect(struct peer *p)
{
	/* a connection the server closed (idle) is not called on */
	if (p->clnt != NULL && rpcc_closed(p->clnt))
		peer_close(p);
	if (p->clnt != NULL)
		return 0;
	p->clnt = rpcc_connect(p->host, p->port, p->prog, p->vers,
	    p->timeout_ms, 0, p->err, sizeof(p->err));
	return p->clnt != NULL ? 0 : -DFS_ERR_RPC;
}

/* One peer_call(): what retry_call() sends. */
struct peer_req {
	struct peer	*p;
	rpcproc_t	 proc;
	xdrproc_t	 xargs, xres;
	void		*args;
};

static int
peer_reconnect(void *arg)
{
	struct peer_req	*pr = arg;

	return peer_connect(pr->p);
}

static enum clnt_stat
peer_send(void *arg, CLIENT *c, void *res)
{
	struct peer_req	*pr = arg;
	struct timeval	 tv;

	tv.tv_sec = pr->p->timeout_ms / 1000;
	tv.tv_usec = (pr->p->timeout_ms % 1000) * 1000;
	return clnt_call(c, pr->proc, pr->xargs, pr->args, pr->xres, res, tv);
}

static void
peer_failed(void *arg, CLIENT *c, enum clnt_stat st)
{
	struct peer_req	*pr = arg;

	(void)c;
	snprintf(pr->p->err, sizeof(pr->p->err), "%s", clnt_sperrno(st));
}

int
peer_call(struct peer *p, rpcproc_t proc, xdrproc_t xargs, void *args,
    xdrproc_t xres, void *res, int idempotent)
{
	struct peer_req	pr = { p, proc, xargs, xres, args };
	struct retry	rt = {
		.cp = &p->clnt,
		.tries = idempotent ? 2 : 1,
		.connect = peer_reconnect,
		.send = peer_send,
		.failed = peer_failed,
		.arg = &pr,
		.res = res,
		.xres = xres,
	};

	return retry_call(&rt);
}

int
peer_name(struct peer *p, name_compound_args *args, name_compound_res *res,
    int idempotent)
{
	return peer_call(p, NAME_COMPOUND, (xdrproc_t)xdr_name_compound_args,
	    args, (xdrproc_t)xdr_name_compound_res, res, idempotent);
}

int
peer_lock(struct peer *p, lock_compound_args *args, lock_compound_res *res,
    int idempotent)
{
	return peer_call(p, LOCK_COMPOUND, (xdrproc_t)xdr_lock_compound_args,
	    args, (xdrproc_t)xdr_lock_compound_res, res, idempotent);
}

int
peer_local_host(struct peer *p, char *host, size_t hostlen)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fd;

	if (peer_connect(p) != 0 || !clnt_control(p->clnt, CLGET_FD,
	    (char *)&fd))
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return getnameinfo((struct sockaddr *)&ss, len, host,
	    (socklen_t)hostlen, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}
