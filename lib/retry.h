/*
 * retry.h -- the one retry loop of every ONC RPC call dfs makes.
 *
 * The client library (client/conn.c, client/parallel.c) and the daemons
 * calling each other (lib/peer.c) keep one CLIENT * per server and call
 * through it with this loop: a connection the server closed while idle
 * is dropped before a call, a missing one is made, a call that failed in
 * transport drops its connection (a half-read reply must never be read
 * again) and, while tries remain, is sent again on a new one.  What
 * differs between the users (how to connect, what to send, where the
 * failure's text goes) comes in as callbacks.
 */
#ifndef DFS_RETRY_H
#define DFS_RETRY_H

#include <rpc/rpc.h>

struct retry {
	CLIENT		**cp;		/* the connection; NULL: none yet */
	int		  tries;	/* calls at most, 1 or more */
	/*
	 * Makes *cp.  Returns 0, or a negative status: the loop goes on
	 * with the next try, except after -DFS_ERR_TIMEDOUT (connected,
	 * but the server did not answer a probe: it will not answer the
	 * next one either), which ends it.
	 */
	int		(*connect)(void *arg);
	/* One call on c, its reply decoded into res. */
	enum clnt_stat	(*send)(void *arg, CLIENT *c, void *res);
	/* Keeps the text of a call that failed on c (NULL: none). */
	void		(*failed)(void *arg, CLIENT *c, enum clnt_stat st);
	void		 *arg;
	void		 *res;		/* zeroed by the caller */
	xdrproc_t	  xres;		/* frees res between tries, or NULL */
	/* The connection is never idle between calls (a transfer's own):
	 * no check that the server closed it, which costs a poll(2). */
	int		  busy;
};

/*
 * Runs the loop.  Returns 0 when a reply arrived (res holds it: look at
 * its own status, and free it with xres), or the last failure:
 * connect()'s status, or -DFS_ERR_RPC, -DFS_ERR_TIMEDOUT, -DFS_ERR_PROTO
 * for a call (after -DFS_ERR_PROTO, the server is not the program asked
 * for, no other try is made).
 */
int	retry_call(const struct retry *rt);

#endif
