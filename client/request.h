/*
 * request.h -- building and sending COMPOUNDs, op by op.
 *
 * Internal to libdfs (and used by the integration tests): a request is a
 * fixed array of ops filled in order; the shorthands point the arguments
 * at the caller's memory (nothing is copied), so the strings and handles
 * must outlive the call.
 */
#ifndef DFS_REQUEST_H
#define DFS_REQUEST_H

#include <rpc/rpc.h>

#include "name.h"
#include "lock.h"
#include "file.h"

/* A COMPOUND for the name server (name_req), a file server (file_req)
 * or the lock server (lock_req): ops[0..n) in order. */
struct name_req {
	name_argop	ops[DFS_XDR_MAXOPS];
	u_int		n;
};
struct file_req {
	file_argop	ops[16];
	u_int		n;
};
struct lock_req {
	lock_argop	ops[16];
	u_int		n;
};

/* Appends an op (zeroed, op code set) and returns it for its args. */
name_argop	*name_req_add(struct name_req *r, name_opnum op);
file_argop	*file_req_add(struct file_req *r, file_opnum op);
lock_argop	*lock_req_add(struct lock_req *r, lock_opnum op);
/* Shorthands that point the arg at `s` (not copied). */
void		 name_req_lookup(struct name_req *r, const char *path);
void		 name_req_create(struct name_req *r, const char *name,
		    int excl);
void		 name_req_mkdir(struct name_req *r, const char *name);
void		 name_req_putfh(struct name_req *r, const dfs_fh *fh);

/*
 * Sends the COMPOUND with the handle's timeout; res is zeroed first and
 * must be freed with xdr_free.  Returns the clnt_stat (RPC_SUCCESS when a
 * reply arrived).
 */
enum clnt_stat	 name_call(CLIENT *c, struct name_req *r,
		    name_compound_res *res);
enum clnt_stat	 file_call(CLIENT *c, struct file_req *r,
		    file_compound_res *res);
enum clnt_stat	 lock_call(CLIENT *c, struct lock_req *r,
		    lock_compound_res *res);

/* A dfs_path or dfs_name over a C string (no copy). */
dfs_path	 mkpath(const char *s);
dfs_name	 mkname(const char *s);
/* Copies a handle (malloc'd; free fh->dfs_fh_val). */
void		 fh_copy(dfs_fh *dst, const dfs_fh *src);

#endif
