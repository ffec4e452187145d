/*
 * peer.h -- a daemon's connection to another dfs daemon.
 *
 * Daemons call each other (a file server asks the name server and the
 * lock server before a commit; every server registers with the name
 * server).  A peer keeps one CLIENT * and reconnects after a transport
 * failure, so a restarted peer is found again without the caller caring.
 */
#ifndef DFS_PEER_H
#define DFS_PEER_H

#include <rpc/rpc.h>

#include "name.h"
#include "lock.h"

struct peer {
	char		 host[256];
	unsigned int	 port;		/* 0: ask rpcbind on host */
	rpcprog_t	 prog;
	rpcvers_t	 vers;
	unsigned int	 timeout_ms;
	CLIENT		*clnt;
	char		 err[256];	/* last connection error */
};

/* Sets up a peer for HOST[:PORT]; does not connect yet.  Returns 0 or
 * -DFS_ERR_INVAL for a bad spec. */
int	peer_init(struct peer *p, const char *spec, rpcprog_t prog,
	    rpcvers_t vers, unsigned int timeout_ms);
/* Same, from a host and port (port 0: rpcbind). */
void	peer_init_addr(struct peer *p, const char *host, unsigned int port,
	    rpcprog_t prog, rpcvers_t vers, unsigned int timeout_ms);
/* Connects if not connected (no call is made).  Returns 0 or
 * -DFS_ERR_RPC with p->err set. */
int	peer_connect(struct peer *p);
/* Drops the connection.  peer_close() on a never-used peer is fine. */
void	peer_close(struct peer *p);

/*
 * Calls procedure `proc`.  `res` must be zeroed; on success free it with
 * xdr_free(xres, res).  A transport failure drops the connection, and if
 * `idempotent`, the call is retried once on a new one.  Returns 0 when a
 * reply arrived (look at its own status), else -DFS_ERR_RPC,
 * -DFS_ERR_TIMEDOUT or -DFS_ERR_PROTO.
 */
int	peer_call(struct peer *p, rpcproc_t proc, xdrproc_t xargs,
	    void *args, xdrproc_t xres, void *res, int idempotent);

/* Typed COMPOUND calls on top of peer_call().  Same returns. */
int	peer_name(struct peer *p, name_compound_args *args,
	    name_compound_res *res, int idempotent);
int	peer_lock(struct peer *p, lock_compound_args *args,
	    lock_compound_res *res, int idempotent);

/* The local address of the current connection as a numeric host
 * string, for servers that must tell the name server where they are.
 * Returns 0 or -1. */
int	peer_local_host(struct peer *p, char *host, size_t hostlen);

#endif
