/*
 * rpcc.h -- client connections: a CLIENT * to HOST[:PORT] with timeouts.
 *
 * Used by the client library and by daemons that call other daemons.
 * Without a port the address comes from rpcbind on HOST; with one, we
 * connect straight to it (the -N test setup).  Every connection has a
 * call timeout; nothing here blocks forever.
 */
#ifndef DFS_RPCC_H
#define DFS_RPCC_H

#include <stddef.h>
#include <rpc/rpc.h>

/* xdr_void as an xdrproc_t: the cast through void (*)(void) is the one
 * -Wcast-function-type accepts. */
#define XDR_VOID	((xdrproc_t)(void (*)(void))xdr_void)

/*
 * Splits "HOST", "HOST:PORT", "[V6ADDR]:PORT" or a bare "V6ADDR".
 * Returns 0, or
 * -DFS_ERR_INVAL for an empty host, a bad port or a host too long for
 * `hostlen`.  *port is 0 when none was given.
 */
int	rpcc_parse(const char *spec, char *host, size_t hostlen,
	    unsigned int *port);

/*
 * Connects to program `prog` version `vers` on host:port (port 0: ask
 * rpcbind).  `bufsz` sizes the socket and record buffers (0: defaults).
 * Returns the handle, or NULL with a message in err.  The connect itself
 * and every later call time out after timeout_ms.
 */
CLIENT	*rpcc_connect(const char *host, unsigned int port, rpcprog_t prog,
	    rpcvers_t vers, unsigned int timeout_ms, unsigned int bufsz,
	    char *err, size_t errlen);

/*
 * Returns 1 when the server has closed clnt's connection (an idle
 * timeout: nothing is owed on a connection between calls, so anything
 * readable is its end), else 0.  Calling on such a connection would
 * fail, and a call that is not idempotent could not be retried.
 */
int	rpcc_closed(CLIENT *clnt);

/*
 * Is the server at the far end of connected socket `fd` still
 * answering?  A reply that is slow to come may be a server at work or
 * one that stopped (SIGSTOP, hung: the kernel still acknowledges what is
 * sent), which TCP alone cannot tell apart.  So this calls NULL of
 * prog/vers on a new connection to the same address, giving `ms` to
 * connect and as long to answer.  Returns 0 (it answered), or
 * -DFS_ERR_TIMEDOUT (no answer: it stopped) or -DFS_ERR_RPC (refused,
 * or fd is not connected) with the cause in err.
 */
int	rpcc_alive(int fd, rpcprog_t prog, rpcvers_t vers, unsigned int ms,
	    char *err, size_t errlen);

/* Maps a failed call's clnt_stat to -DFS_ERR_TIMEDOUT, -DFS_ERR_PROTO
 * (the peer is not this program) or -DFS_ERR_RPC. */
int	rpcc_error(enum clnt_stat st);

#endif
