/*
 * svcx.h -- dfs's one seam with libtirpc on the server side.
 *
 * Every server-side use of libtirpc behaviour that its API does not
 * promise lives behind this header; nothing else in dfs touches xp_ops,
 * xp_p1..xp_p3 or a transport's socket.  Two kinds of transport:
 *
 * - svcx's own connections, for dfs-named and dfs-lockd, which serve
 *   every client from one poll(2) loop.  libtirpc's connection code
 *   cannot do that safely (see svcx.c), so this module accepts,
 *   reads records (RFC 5531 record marking, any number of fragments)
 *   without blocking, decodes the call header, authenticates through
 *   libtirpc and calls the program's dispatcher, whose replies it queues
 *   and writes without blocking.  Every per-connection resource is
 *   bounded, and a connection that is idle, stalls in the middle of a
 *   request or does not read its replies is closed; when the connection
 *   table is full, a new client takes the place of the longest-idle
 *   one.  No peer can stall the loop.  A reply may be held and sent
 *   later with the xid of the request it answers, and a request parked
 *   and served again later.  svcx.c holds the connection table and the
 *   loop's calls, svcx_io.c a connection's reads, requests and replies,
 *   svcx_held.c held replies and parked requests.
 * - libtirpc's own stream transports (svc_vc: svc_fd_create(),
 *   svc_vc_create()), served in blocking mode by one process each, as
 *   dfs-filed's workers do, once attached with svcx_vc_attach()
 *   (svcx_vc.c).
 *
 * On both, a reply's body may end with bytes sent straight from a file
 * (svcx_reply_fd()), and each connection has an id that is never reused
 * (svcx_conn_id()).
 *
 * What it assumes of libtirpc, checked against libtirpc 1.3.3 (Debian
 * 12, package 1.3.3+ds-1): the layout of SVCXPRT and of struct xp_ops
 * in <rpc/svc.h>; SVCXPRT_EXT from <rpc/svc_mt.h> at xp_p3, which
 * _authenticate() fills in; that svc_getreq_common() calls a
 * transport's xp_ops->xp_recv (so a wrapped recv sees every request's
 * xid) and xp_ops->xp_destroy through the transport; that svc_vc writes
 * each reply whole before the dispatcher returns, so its output buffer
 * is empty and the socket is ours between replies; that xp_p2 is unused
 * by svcx's connections; and that xp_verf is the reply verifier, of
 * flavour RPCSEC_GSS when the reply body must be wrapped.
 * tests/unit/t_svcx.c and tests/unit/t_svcx_vc.c fail if any of it
 * changes.
 */
#ifndef DFS_SVCX_H
#define DFS_SVCX_H

#include <sys/types.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#define SVCX_MAXCONNS		1024		/* default, at most */
#define SVCX_IDLE_MS		(360 * 1000)	/* default */
#define SVCX_STALL_MS		(30 * 1000)	/* default */

struct svcx_limits {
	size_t		 maxrec;	/* bytes of one request record */
	unsigned int	 maxconns;	/* 0: SVCX_MAXCONNS */
	unsigned int	 maxperaddr;	/* from one address (0: any) */
	unsigned int	 idle_ms;	/* idle connection closed after
					   (0: SVCX_IDLE_MS) */
	unsigned int	 stall_ms;	/* a request begun, or replies
					   unread, make no progress
					   (0: SVCX_STALL_MS) */
};

/* A reply owed to a request whose dispatcher returned without one. */
struct svcx_held;

/* --- Life cycle --- */

/*
 * Serves program prog/vers on listening socket `lfd` (made non-blocking
 * here) with `dispatch`, within `lim`; the connection table is cut to
 * what RLIMIT_NOFILE allows.  Returns 0 or -1 (errno set).
 */
int	svcx_init(int lfd, rpcprog_t prog, rpcvers_t vers,
	    void (*dispatch)(struct svc_req *, SVCXPRT *),
	    const struct svcx_limits *lim);
/* Closes every connection (held replies are dropped) and the listener. */
void	svcx_release(void);

/* --- The loop --- */

/*
 * Appends the descriptors to poll to *pfd (grown with realloc(3); *cap
 * is its size) from index `at`.  Returns how many were added, or -1 when
 * memory ran out.  Call svcx_run() with the same entries after poll(2),
 * before anything else can change the connection table.
 */
int	svcx_pollset(struct pollfd **pfd, size_t *cap, size_t at);
/* Milliseconds until svcx needs to run even without events: 0 when
 * requests are buffered, -1 when nothing is due. */
int	svcx_timeout(void);
/* Serves what poll(2) reported on the n entries svcx_pollset() added,
 * and closes connections whose time is up. */
void	svcx_run(const struct pollfd *pfd, int n);
/* Connections open now (for tests and stats). */
unsigned int	svcx_nconns(void);

/* --- Held replies --- */

/*
 * Holds the reply to request rq: the dispatcher then returns without
 * replying, and svcx_reply_held() answers later with rq's xid (requests
 * that came after it on the connection may be answered first).  The
 * connection counts as busy, never idle, while it owes the reply.
 * Returns the hold, or NULL when rq did not come through svcx or memory
 * ran out (then reply now).
 */
struct svcx_held	*svcx_hold(struct svc_req *rq);
/* Is the held reply's connection still open?  Returns 1 or 0. */
int	svcx_held_alive(const struct svcx_held *h);
/* The SVCXPRT the held request came on (only for comparing). */
const SVCXPRT	*svcx_held_xprt(const struct svcx_held *h);
/*
 * Sends the held reply (xres encodes res) and frees h.  A reply to a
 * closed connection is dropped.  Returns 1 when it was queued, else 0.
 */
int	svcx_reply_held(struct svcx_held *h, xdrproc_t xres, void *res);
/* Frees h without replying; a parked record is served again in the
 * loop's next round, as if it had just arrived. */
void	svcx_drop_held(struct svcx_held *h);

/* --- Parked requests --- */

/*
 * Parks request rq while its dispatcher waits for something outside
 * (dfs-named: the lock server's answer to the TESTs a COMPOUND needs):
 * the dispatcher returns without replying, the record stays buffered,
 * and nothing more is read or served from its connection until
 * svcx_resume(), so the connection's requests keep their order.  The
 * connection counts as busy meanwhile, like a held reply.  Returns the
 * park, or NULL when rq did not come through svcx or memory ran out
 * (then serve it now).
 */
struct svcx_held	*svcx_park(struct svc_req *rq);
/*
 * Serves the parked record again, now, through the dispatcher, which
 * takes `data` with svcx_resumed(); then frees h.  Call it from the
 * loop, never from within a dispatcher.  Returns 1 when the dispatcher
 * took data; 0 when the connection has closed meanwhile or the
 * dispatcher did not take it (data is then still the caller's).
 */
int	svcx_resume(struct svcx_held *h, void *data);
/* In a dispatcher: the data svcx_resume() passed for this request, once
 * (then NULL); NULL for a request served the first time. */
void	*svcx_resumed(struct svc_req *rq);

/* --- Any transport: svcx's, or libtirpc's once attached --- */

/*
 * Attaches libtirpc stream transport xprt (svc_fd_create(),
 * svc_vc_create(); served in blocking mode by this process alone) to
 * svcx, so that the calls below work on it: its xp_ops become a copy
 * whose recv notes each request's xid.  The attachment goes with the
 * transport (SVC_DESTROY).  Returns 0 or -1 (out of memory; the
 * transport works on, unattached).
 */
int	svcx_vc_attach(SVCXPRT *xprt);
/*
 * The id of xprt's connection: never 0, never given to another
 * connection of this process.  Returns it, or 0 when xprt is neither
 * svcx's nor attached.
 */
uint64_t	svcx_conn_id(SVCXPRT *xprt);
/* Is xprt's connection open?  Returns 1 or 0 (also for a transport
 * that is neither svcx's nor attached). */
int	svcx_alive(SVCXPRT *xprt);
/*
 * Is the connection of id `id` (svcx_conn_id()) open?  Unlike
 * svcx_alive(), this may be asked once its transport may be gone:
 * libtirpc destroys a stream transport whose client hung up or whose
 * read or write failed.  Returns 1 or 0.
 */
int	svcx_conn_open(uint64_t id);

/* The reply of svcx_reply_fd() but for the file's bytes, at most. */
#define SVCX_FD_HDRMAX	512

/*
 * Can the request being served on xprt be answered with
 * svcx_reply_fd()?  Only when xprt is svcx's or attached, and the
 * request's flavour sends reply bodies as they are (not RPCSEC_GSS).
 * Returns 1 or 0.
 */
int	svcx_can_reply_fd(SVCXPRT *xprt);
/*
 * Answers the request being served on xprt with res (encoded by xres),
 * whose encoding must end with a variable-length opaque the caller left
 * empty (length 0): on the wire, that opaque holds the `len` bytes of
 * file `fd` at `off` (read with sendfile(2) or pread(2); fd stays the
 * caller's).  Everything but those bytes must fit SVCX_FD_HDRMAX.  Only
 * when svcx_can_reply_fd(xprt).  Returns 1 when the reply was sent (or
 * queued), 0 when it could not be: the connection is then closed or
 * shut down, since part of a record may have gone out (logged).
 */
int	svcx_reply_fd(SVCXPRT *xprt, xdrproc_t xres, void *res, int fd,
	    off_t off, u_int len);

#endif
