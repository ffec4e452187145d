/*
 * req.h -- building and sending COMPOUNDs, op by op.
 *
 * Internal to libdfs (and used by the integration tests): a request is a
 * fixed array of ops filled in order; the shorthands point the arguments
 * at the caller's memory (nothing is copied), so the strings and handles
 * must outlive the call.
 */
#ifndef DFS_REQ_H
#define DFS_REQ_H

#include <rpc/rpc.h>

#include "name.h"
#include "lock.h"
#include "file.h"

struct nreq {
	name_argop	ops[DFS_XDR_MAXOPS];
	u_int		n;
};
struct freq {
	file_argop	ops[16];
	u_int		n;
};
struct lreq {
	lock_argop	ops[16];
	u_int		n;
};

/* Appends an op (zeroed, op code set) and returns it for its args. */
name_argop	*nreq_add(struct nreq *r, name_opnum op);
file_argop	*freq_add(struct freq *r, file_opnum op);
lock_argop	*lreq_add(struct lreq *r, lock_opnum op);
/* Shorthands that point the arg at `s` (not copied). */
void		 nreq_lookup(struct nreq *r, const char *path);
void		 nreq_create(struct nreq *r, const char *name, int excl);
void		 nreq_mkdir(struct nreq *r, const char *name);
void		 nreq_putfh(struct nreq *r, const dfs_fh *fh);

/*
 * Sends the COMPOUND with the handle's timeout; res is zeroed first and
 * must be freed with xdr_free.  Returns the clnt_stat (RPC_SUCCESS when a
 * reply arrived).
 */
enum clnt_stat	 name_call(CLIENT *c, struct nreq *r, name_compound_res *res);
enum clnt_stat	 file_call(CLIENT *c, struct freq *r, file_compound_res *res);
enum clnt_stat	 lock_call(CLIENT *c, struct lreq *r, lock_compound_res *res);

/* A dfs_path or dfs_name over a C string (no copy). */
dfs_path	 mkpath(const char *s);
dfs_name	 mkname(const char *s);
/* Copies a handle (malloc'd; free fh->dfs_fh_val). */
void		 fh_copy(dfs_fh *dst, const dfs_fh *src);

#endif
