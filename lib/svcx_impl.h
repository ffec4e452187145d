/*
 * svcx_impl.h -- between the files of the svcx module (svcx.h is its
 * contract).  Nothing outside lib/svcx*.c includes it.
 *
 *   svcx.c       life cycle, accepting, the connection table and its
 *                limits, the loop's interface (svcx_pollset(),
 *                svcx_timeout(), svcx_run())
 *   svcx_io.c    a connection's input (reading, joining fragments into
 *                records), its SVCXPRT's ops, serving a record, queuing
 *                and writing replies (svcx_own_reply_fd() too)
 *   svcx_held.c  held replies, parked requests, and the svcx_own_*
 *                calls that ask about a connection
 *   svcx_vc.c    libtirpc's own stream transports once attached, and
 *                the calls of svcx.h that work on both kinds
 *
 * What the first three share is here: struct conn, the module's state
 * `sx`, and the sx_*() calls, grouped by the file that defines them.
 */
#ifndef DFS_SVCX_IMPL_H
#define DFS_SVCX_IMPL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <rpc/rpc.h>
#include <rpc/svc_mt.h>

#include "svcx.h"

#define SVCX_LAST_FRAG		0x80000000U

#define SVCX_BATCH		32		/* records per connection per round */
#define SVCX_INBUF_MIN		4096
#define SVCX_INBUF_KEEP		65536		/* larger is freed when empty */
#define SVCX_OUT_LOWAT		(256 * 1024)	/* stop reading past this */
#define SVCX_READ_MAX		(256 * 1024)	/* one read(2), at most */
#define SVCX_PAUSE_MS		100		/* no descriptor to accept with */
#define SVCX_FD_RESERVE		32		/* descriptors kept for the rest */
#define SVCX_CRED_AREA		(2 * MAX_AUTH_BYTES + 1024)

/*
 * One of svcx's own connections.  It lives as long as its socket or any
 * reference (refs): the round dispatching it and each held reply; see
 * svcx.c.
 */
struct conn {
	SVCXPRT			 xprt;		/* first: xp_p1 points back */
	SVCXPRT_EXT		 ext;		/* xp_p3: _authenticate()'s */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 fd;		/* -1 once closed */
	unsigned int		 refs;		/* round + held replies */
	unsigned int		 nheld;
	/* input */
	unsigned char		*in;
	size_t			 incap, inlen;
	size_t			 rec_len;	/* joined record bytes */
	size_t			 pos;		/* next raw byte to parse */
	size_t			 frag_left;
	int			 in_frag, last_frag;
	int			 ready;		/* a whole record is buffered */
	int			 parked;	/* ... and waits for svcx_resume() */
	void			*resume_data;	/* for svcx_resumed() */
	unsigned long long	 rec_start;	/* first byte of a request */
	/* the request being served */
	XDR			 xdrs;
	uint32_t		 xid;
	/* output */
	unsigned char		*out;
	size_t			 outcap, outlen, outoff;
	unsigned long long	 last;		/* last progress either way */
};

struct svcx_held {
	struct conn	*c;
	uint32_t	 xid;
	int		 park;		/* svcx_park()'s, not svcx_hold()'s */
};

/* The module's state: one listener, one program, one table (svcx.c). */
struct sx_state {
	int			  lfd, spare;
	rpcprog_t		  prog;
	rpcvers_t		  vers;
	void			(*dispatch)(struct svc_req *, SVCXPRT *);
	struct svcx_limits	  lim;
	struct conn		**conns;	/* open ones, dense */
	unsigned int		  nconns;
	unsigned long long	  pause_until;	/* accept(2) again then */
	unsigned char		 *scratch;	/* reply encoding */
	size_t			  scratchcap;
};
extern struct sx_state	sx;

/* --- svcx.c --- */

/* Closes c's socket and takes it out of the table; the struct goes with
 * its last reference. */
void		sx_conn_close(struct conn *c, const char *why);

/* --- svcx_io.c --- */

/* The ops of every SVCXPRT of svcx's own: what tells one apart. */
extern const struct xp_ops	sx_conn_ops;
extern const struct xp_ops2	sx_conn_ops2;

/* Handles one connection's events (revents from poll(2)): write, read,
 * serve. */
void		sx_conn_events(struct conn *c, short revents);
/* Serves the whole record buffered in c (c->ready): header,
 * authentication, the dispatcher.  Closes c if it is not a call. */
void		sx_serve_record(struct conn *c);
/* Drops the served record from c's buffer, keeping what follows it. */
void		sx_consume(struct conn *c);
/* Joins what was read into the record; sets c->ready once it is whole.
 * Returns 0, or -1 when it breaks the limit (c is then closed). */
int		sx_parse(struct conn *c);

/* --- inline, for every file --- */

/* The connection behind xprt, or NULL when xprt is not one of svcx's. */
static inline struct conn *
sx_conn_of(SVCXPRT *xprt)
{
	return xprt->xp_ops == &sx_conn_ops ? xprt->xp_p1 : NULL;
}

/* Drops a reference to c; frees it with the last one once closed. */
static inline void
sx_conn_unref(struct conn *c)
{
	if (--c->refs > 0 || c->fd != -1)
		return;
	free(c->in);
	free(c->out);
	free(c);
}

/* --- svcx_vc.c --- */

/* A connection id never handed out before (svcx_conn_id()). */
uint64_t	svcx_next_id(void);
/*
 * Turns the record `rec` (record mark, then a reply whose encoding ends
 * with an empty variable-length opaque; `n` bytes in all) into the head
 * of one carrying `len` more bytes in that opaque, and their padding:
 * the opaque's length and the record mark are rewritten.  Returns the
 * padding's length (0 to 3), or -1 when rec is too short to be one.
 */
int		svcx_fd_patch(unsigned char *rec, size_t n, u_int len);
/* Fills in msg as the accepted reply (ar_verf: xprt's verifier) whose
 * results xres encodes from res. */
void		svcx_fd_msg(struct rpc_msg *msg, SVCXPRT *xprt, uint32_t xid,
		    xdrproc_t xres, void *res);

/* --- svcx's side of the calls in svcx.h, for its own connections ---
 * Each returns -1 when xprt is not one. */

/* svcx_held.c */
int		svcx_own_id(SVCXPRT *xprt, uint64_t *id);
int		svcx_own_alive(SVCXPRT *xprt);
/* Is `id` one of svcx's open connections?  Returns 1 or 0. */
int		svcx_own_open(uint64_t id);
/* svcx_io.c */
int		svcx_own_reply_fd(SVCXPRT *xprt, xdrproc_t xres, void *res,
		    int fd, off_t off, u_int len);

#endif
