/*
 * acall.h -- asynchronous RPC calls from an event-loop daemon.
 *
 * dfs-named serves everyone from one poll(2) loop, and it must ask the
 * lock server before a change.  A CLIENT of libtirpc waits for its reply
 * inside clnt_call(), and the whole loop waits with it; this module
 * instead sends calls on one non-blocking TCP connection and hands each
 * reply (or failure) to a callback from the loop (lib/svcloop.h's
 * source), so a lock server that never answers costs the loop nothing.
 *
 * Calls are AUTH_NONE, on one connection, answered in any order (matched
 * by xid).  A call not answered by its deadline fails with TIMEDOUT; the
 * connection is then closed and the calls queued behind it fail too (a
 * server that lets one call wait lets the next wait as well).  Every
 * reply is bounded (`maxreply`), and a reply that does not decode closes
 * the connection.
 */
#ifndef DFS_ACALL_H
#define DFS_ACALL_H

#include <poll.h>
#include <stddef.h>

#include <rpc/rpc.h>

struct acall;

/*
 * A call's end: rc 0 and its decoded result in `res` (freed with
 * xdr_free() after done() returns), or rc -DFS_ERR_TIMEDOUT (no reply
 * by the deadline), -DFS_ERR_RPC (no connection, or it broke: err says
 * why) or -DFS_ERR_PROTO (the server refused the call) with res NULL.
 */
typedef void	acall_done(void *arg, int rc, void *res, const char *err);

/* A client of prog/vers whose replies are at most maxreply bytes; no
 * connection yet.  Returns NULL when memory ran out. */
struct acall	*acall_new(rpcprog_t prog, rpcvers_t vers, size_t maxreply);
/* Fails every pending call (-DFS_ERR_RPC), closes and frees. */
void	acall_free(struct acall *a);
/* Aims the client at host (numeric) and port; a connection elsewhere is
 * closed, its calls failed. */
void	acall_target(struct acall *a, const char *host, unsigned int port);

/*
 * Sends proc(args), connecting first when needed.  done(arg, ...) is
 * called from acall_run() (never from here) once the reply of type
 * xres (ressz bytes) arrived or timeout_ms passed.  Returns 0, or a
 * negative dfs_stat when the call could not even be queued (no target,
 * the address is not numeric, no memory, args do not encode):
 * done() is then never called.
 */
int	acall_send(struct acall *a, rpcproc_t proc, xdrproc_t xargs,
	    const void *args, xdrproc_t xres, size_t ressz,
	    unsigned int timeout_ms, acall_done *done, void *arg);
/* Calls not ended yet. */
unsigned int	acall_pending(const struct acall *a);

/* The loop's side (struct svcloop_src): the descriptor and events to
 * poll (fd -1: none), the work after poll(2), and the ms until the next
 * deadline (-1: none). */
void	acall_pollfd(struct acall *a, struct pollfd *p);
void	acall_run(struct acall *a, short revents);
int	acall_timeout(const struct acall *a);

#endif
