/*
 * lockd.h -- dfs-lockd's private header: the lock table and the handlers.
 *
 * State lives in one struct lock_ctx that main() owns; the RPC entry
 * point reaches it through the one file-static pointer in compound.c.
 */
#ifndef DFS_LOCKD_H
#define DFS_LOCKD_H

#include <stddef.h>
#include <stdint.h>

#include "dfs_types.h"
#include "lock.h"

struct kv;

#define LOCKD_DEFAULT_LEASE_S	60
#define LOCKD_MAX_LEASE_MS	86400000U	/* one day */
#define LOCKD_REVOKED_KEEP_S	86400	/* revoked ids remembered */

/* One lock id and the paths it holds. */
struct lk {
	uint64_t		 nonce;
	dfs_lockmode		 mode;
	unsigned int		 lease_ms;
	unsigned long long	 deadline;	/* now_ms() clock */
	unsigned int		 npaths;
	struct pent		**paths;
};

/* One locked path and its holders (one EXCL, or any number SHARED). */
struct pent {
	char			*path;
	size_t			 len;
	struct lk		**holders;
	unsigned int		 nholders;
};

/* A revoked id, kept (oldest first) until LOCKD_REVOKED_KEEP_S. */
struct revoked {
	uint64_t		 nonce;
	int64_t			 when;	/* CLOCK_REALTIME seconds */
	struct revoked		*next;
};

struct lock_ctx {
	struct kv		*kv;
	uint64_t		 instance;
	unsigned int		 default_lease_ms;
	int			 kvfail;	/* a write failed: exit */
	/* tsearch(3) trees of struct lk, struct pent, struct revoked */
	void			*byid;
	void			*bypath;
	void			*revoked;
	struct revoked		*rhead, *rtail;	/* revoked, oldest first */
	size_t			 nlocks;
};

/* --- table.c: the lock table, in memory with write-through to kv --- */

/*
 * Loads (creating on first start) the instance id, every lock (each gets
 * a fresh full lease) and the revoked ids from ctx->kv, which must be
 * open; ctx->default_lease_ms must be set.  Returns 0 or -DFS_ERR_IO
 * with a message in err.
 */
int		 table_load(struct lock_ctx *ctx, char *err, size_t errlen);
/* Frees the in-memory table (not the kv store). */
void		 table_release(struct lock_ctx *ctx);
/* Returns the lock with this nonce, or NULL. */
struct lk	*table_find(struct lock_ctx *ctx, uint64_t nonce);
/* Returns 1 if this nonce was revoked (and not yet forgotten), else 0. */
int		 table_is_revoked(struct lock_ctx *ctx, uint64_t nonce);
/* Returns the entry of a locked path, or NULL when nobody holds it. */
struct pent	*table_path(struct lock_ctx *ctx, const char *path,
		    size_t len);
/*
 * Grants a new lock on `n` distinct, checked paths (the caller checked
 * conflicts).  Returns 0 and sets *out, or -DFS_ERR_RESOURCE (out of
 * memory) or -DFS_ERR_IO (kv failed; ctx->kvfail set).
 */
int		 table_grant(struct lock_ctx *ctx, const dfs_path *paths,
		    unsigned int n, dfs_lockmode mode, unsigned int lease_ms,
		    struct lk **out);
/* Removes a lock (UNLOCK).  Returns 0 or -DFS_ERR_IO. */
int		 table_remove(struct lock_ctx *ctx, struct lk *l);
/* Removes a lock and remembers its id as revoked.  Returns 0,
 * -DFS_ERR_RESOURCE or -DFS_ERR_IO. */
int		 table_revoke(struct lock_ctx *ctx, struct lk *l);
/* Restarts a lock's lease from `now` (now_ms()). */
void		 table_renew(struct lock_ctx *ctx, struct lk *l,
		    unsigned long long now);
/* Forgets revoked ids older than LOCKD_REVOKED_KEEP_S before `wallnow`
 * (seconds).  Returns how many, or -DFS_ERR_IO. */
int		 table_gc(struct lock_ctx *ctx, int64_t wallnow);
/* Returns 1 if the lease of `l` has lapsed at `now`, else 0. */
int		 lk_lapsed(const struct lk *l, unsigned long long now);

/* --- op_lock.c: the handlers --- */

dfs_stat	 op_illegal(struct lock_ctx *, const lock_argop *,
		    lock_resop *);
dfs_stat	 op_lock(struct lock_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_unlock(struct lock_ctx *, const lock_argop *,
		    lock_resop *);
dfs_stat	 op_renew(struct lock_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_test(struct lock_ctx *, const lock_argop *, lock_resop *);

/* --- main.c (and rpcgen's lock_svc.c) --- */

/* rpcgen's dispatcher, which lock.h does not declare. */
void		 dfs_lock_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

/* --- compound.c: the op table and the RPC entry point --- */

/* Sets the context lock_compound_1_svc() works on (main(), tests). */
void		 compound_setctx(struct lock_ctx *ctx);

#endif
