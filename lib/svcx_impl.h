/*
 * svcx_impl.h -- between the two halves of the svcx module: svcx.c
 * (svcx's own connections) and svcx_vc.c (libtirpc's attached stream
 * transports).  Nothing outside lib/svcx*.c includes it.
 */
#ifndef DFS_SVCX_IMPL_H
#define DFS_SVCX_IMPL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#define SVCX_LAST_FRAG		0x80000000U

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

/* svcx.c's side of the calls in svcx.h, for its own connections.  Each
 * returns -1 when xprt is not one. */
int		svcx_own_id(SVCXPRT *xprt, uint64_t *id);
int		svcx_own_alive(SVCXPRT *xprt);
/* Is `id` one of svcx's open connections?  Returns 1 or 0. */
int		svcx_own_open(uint64_t id);
int		svcx_own_reply_fd(SVCXPRT *xprt, xdrproc_t xres, void *res,
		    int fd, off_t off, u_int len);

#endif
