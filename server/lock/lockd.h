/*
 * lockd.h -- dfs-lockd's private header: the lock table and the handlers.
 *
 * State lives in one struct lock_ctx that main() owns; the RPC entry
 * point reaches it through the one file-static pointer in compound.c.
 * What belongs to one COMPOUND (the caller's address, whether its LOCK
 * waits) is in a struct op_ctx on the entry point's stack, which every
 * handler gets.
 */
#ifndef DFS_LOCKD_H
#define DFS_LOCKD_H

#include <sys/types.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compound.h"
#include "dfs_types.h"
#include "lock.h"
#include "peer.h"
#include "registrar.h"

struct kv;

#define LOCKD_DEFAULT_LEASE_S	60
#define LOCKD_MAX_LEASE_MS	86400000U	/* one day */
#define LOCKD_MAX_WAIT_MS	300000U		/* five minutes */
#define LOCKD_REVOKED_KEEP_S	86400	/* revoked ids remembered */
#define LOCKD_FENCE_MS		6000	/* authority after a REGISTER sent */
/* Default limits (main.c; 0 in struct lock_limits means none) */
#define LOCKD_DEF_MAX_LEASE_S	300	/* longer leases are clamped */
#define LOCKD_DEF_MAX_PATHS	16384	/* locked paths, all clients */
#define LOCKD_DEF_CLIENT_PATHS	1024	/* locked paths, one address */
#define LOCKD_DEF_MAX_WAITERS	1024	/* waiting LOCKs, all clients */
#define LOCKD_DEF_CLIENT_WAITERS 64	/* waiting LOCKs, one address */
#define LOCKD_ADDRLEN		46	/* INET6_ADDRSTRLEN */

/*
 * What one client may take (limits.c).  A client is its network address
 * (not its port: one host is one client); 0 means no limit.  A lock on
 * n paths counts n paths, so the lock table's memory and log stay within
 * about max_paths * DFS_MAXPATHLEN bytes whatever the clients send.
 */
struct lock_limits {
	unsigned int		 max_lease_ms;	/* longer ones are clamped */
	size_t			 max_paths;
	size_t			 client_paths;
	size_t			 max_waiters;
	size_t			 client_waiters;
};

/* A client address and what it holds and waits for; freed when all
 * three counts are zero (limits.c). */
struct lclient {
	char			 addr[LOCKD_ADDRLEN];	/* "" unknown */
	size_t			 npaths;
	size_t			 nwaiters;
	unsigned int		 pins;		/* in use by a handler */
};

/* One lock id and the paths it holds. */
struct lk {
	uint64_t		 nonce;
	dfs_lockmode		 mode;
	unsigned int		 lease_ms;
	unsigned long long	 deadline;	/* now_ms() clock */
	unsigned int		 npaths;
	struct pent		**paths;
	struct lclient		*owner;		/* who took it */
	struct lk		*prev, *next;	/* every lock, any order */
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

/*
 * A parked LOCK (wait.c): the last op of a COMPOUND that asked to wait.
 * `conn` names its connection (svcx_conn_id(), lib/svcx.h); `held`
 * answers it later, and stays valid after its connection closed.
 */
struct waiter {
	struct waiter		*next;		/* arrival order */
	uint64_t		 conn;		/* the wait_io's name for it */
	struct svcx_held	*held;		/* NULL in the tests' stubs */
	lock_args		 args;		/* deep copy */
	lock_compound_res	 res;		/* LOCK's slot last */
	unsigned long long	 deadline;	/* now_ms() clock */
	unsigned long long	 wake;		/* look again no sooner */
	struct lclient		*owner;
};

/*
 * How waiters reach their clients: the RPC connection in the daemon
 * (wait.c), a stub in the tests.
 */
struct wait_io {
	/* Records where the request came from.  Returns 0, or -1 when it
	 * cannot be answered later (it is then answered at once). */
	int	(*bind)(struct waiter *w, struct svc_req *rq);
	/* Returns 1 if w's connection is still the one it came on. */
	int	(*alive)(const struct waiter *w);
	/* Sends w->res on w's connection. */
	void	(*reply)(struct waiter *w);
};

struct lock_ctx {
	struct kv		*kv;
	uint64_t		 instance;
	unsigned int		 default_lease_ms;
	int			 kvfail;	/* a write failed: exit */
	/* heartbeat.c: with a name server, grant and renew only while it
	 * confirms this server as the lock authority */
	int			 fenced;
	_Atomic unsigned long long auth_until;	/* now_ms() clock */
	/* tsearch(3) trees of struct lk, struct pent, struct revoked */
	void			*byid;
	void			*bypath;
	void			*revoked;
	struct revoked		*rhead, *rtail;	/* revoked, oldest first */
	size_t			 nlocks;
	size_t			 npaths;	/* held, all locks */
	struct lk		*lkhead;	/* every lock */
	unsigned long		 nreleased;	/* locks removed */
	/* limits.c: per client address */
	struct lock_limits	 lim;
	void			*clients;	/* tree of struct lclient */
	/* waiters (wait.c), in memory only */
	const struct wait_io	*wio;		/* NULL: RPC */
	struct waiter		*whead, *wtail;	/* oldest first */
	size_t			 nwaiters;
	void			*wpaths;	/* tree of their paths */
	unsigned long long	 wake_at;	/* earliest waiter's wake */
	struct waiter		*dhead, *dtail;	/* to answer */
	/* STATS: per op code (compound.c), since start; not durable */
	struct op_counter	 counters[DFS_MAXCOUNTERS];
};

/* One COMPOUND's state (compound.c), which every handler gets. */
struct op_ctx {
	struct compound_state	 cs;		/* lib/compound.c's */
	struct lock_ctx		*lc;
	char			 caller[LOCKD_ADDRLEN];	/* its address */
	int			 park;		/* its last op, a LOCK, waits */
};

/* The registration heartbeat, on a thread of its own (heartbeat.c). */
struct heartbeat {
	struct peer		 named;
	struct registrar	 reg;
	struct lock_ctx		*ctx;		/* only auth_until is shared */
	int			 standby;	/* as last logged; -1 unknown */
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stop;		/* under mu */
	int			 running;
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
 * conflicts and limits) to `owner`, which it counts them against.
 * Returns 0 and sets *out, or -DFS_ERR_RESOURCE (out of memory) or
 * -DFS_ERR_IO (kv failed; ctx->kvfail set).
 */
int		 table_grant(struct lock_ctx *ctx, const dfs_path *paths,
		    unsigned int n, dfs_lockmode mode, unsigned int lease_ms,
		    struct lclient *owner, struct lk **out);
/*
 * Revokes every lapsed lock of `owner` (NULL: of anyone) at `now`: a
 * client at a limit must not be refused for locks nobody may use any
 * more.  Returns how many, -DFS_ERR_RESOURCE or -DFS_ERR_IO.
 */
int		 table_reclaim(struct lock_ctx *ctx,
		    const struct lclient *owner, unsigned long long now);
/* Removes a lock (UNLOCK; counted in ctx->nreleased).  Returns 0 or
 * -DFS_ERR_IO. */
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

/* --- tree.c: the locked paths of a subtree --- */

/* Calls fn for every locked path that is absolute `path` (len bytes) or
 * below it, in no particular order.  fn must not change the table. */
void		 table_walk_tree(struct lock_ctx *ctx, const char *path,
		    size_t len, void (*fn)(struct pent *pe, void *arg),
		    void *arg);

/* --- limits.c: per-client accounting and the limits --- */

/* Long options of the limits (no short form), for getopt_long(3). */
#define LOCKD_OPT_MAX_LEASE	256
#define LOCKD_OPT_MAX_PATHS	257
#define LOCKD_OPT_CLIENT_PATHS	258
#define LOCKD_OPT_MAX_WAITERS	259
#define LOCKD_OPT_CLIENT_WAITERS 260
#define LOCKD_LIMITS_LONGOPTS						\
	{ "max-lease", required_argument, NULL, LOCKD_OPT_MAX_LEASE },	\
	{ "max-paths", required_argument, NULL, LOCKD_OPT_MAX_PATHS },	\
	{ "client-paths", required_argument, NULL, LOCKD_OPT_CLIENT_PATHS }, \
	{ "max-waiters", required_argument, NULL, LOCKD_OPT_MAX_WAITERS }, \
	{ "client-waiters", required_argument, NULL, LOCKD_OPT_CLIENT_WAITERS }

/* Returns the client with address `addr` ("" unknown), made with zero
 * counts if new, or NULL when out of memory. */
struct lclient	*client_get(struct lock_ctx *ctx, const char *addr);
/* Frees `c` (may be NULL) if it holds and waits for nothing. */
void		 client_put(struct lock_ctx *ctx, struct lclient *c);
/* Frees every client (shutdown, tests). */
void		 client_release(struct lock_ctx *ctx);
/* Writes the numeric host of address `nb` (may be NULL) to buf; "" when
 * unknown. */
void		 client_addr(const struct netbuf *nb, char *buf, size_t len);
/* Returns 0 if client `c` may lock `n` more paths, else -DFS_ERR_LIMIT. */
int		 limits_paths(const struct lock_ctx *ctx,
		    const struct lclient *c, size_t n);
/* Returns 0 if client `c` may park one more LOCK, else -DFS_ERR_LIMIT. */
int		 limits_waiters(const struct lock_ctx *ctx,
		    const struct lclient *c);
/* Returns `lease_ms` clamped to the maximum lease. */
unsigned int	 limits_lease(const struct lock_ctx *ctx,
		    unsigned int lease_ms);
/* Sets the default limits (LOCKD_DEF_*). */
void		 limits_default(struct lock_limits *lim);
/* Takes option `ch` if it is a limit's.  Returns 1 (taken), 0 (not a
 * limit's) or -1 (bad value). */
int		 limits_getopt(struct lock_limits *lim, int ch,
		    const char *arg);

/* --- op_lock.c: the handlers --- */

dfs_stat	 op_lock(struct op_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_unlock(struct op_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_renew(struct op_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_test(struct op_ctx *, const lock_argop *, lock_resop *);
dfs_stat	 op_testtree(struct op_ctx *, const lock_argop *,
		    lock_resop *);
/*
 * Tries to grant client `owner` a checked LOCK request that queues
 * behind the waiters whose paths are in the tree `ahead` (wait.c; `self`
 * is the waiter asking, NULL for a new request).  Returns DFS_OK with
 * res->ok filled (after revoking the lapsed locks in the way),
 * DFS_ERR_LOCKED with res->denied filled (nothing changed), DFS_ERR_LIMIT
 * (owner or the table at its limit of paths, even after reclaiming
 * lapsed locks), DFS_ERR_RESOURCE or DFS_ERR_SERVERFAULT.
 */
dfs_stat	 lock_try(struct lock_ctx *ctx, const lock_args *a,
		    const struct waiter *self, struct lclient *owner,
		    void *ahead, unsigned long long now, lock_res *res);
/* Fills a lock_denied for `path`, held (or waited for) in `mode` until
 * `deadline`.  Returns DFS_ERR_LOCKED, or DFS_ERR_RESOURCE when out of
 * memory. */
dfs_stat	 lock_deny(lock_denied *d, const dfs_path *path,
		    dfs_lockmode mode, unsigned long long deadline,
		    unsigned long long now);

/* --- wait.c: parked LOCK requests, answered later in FIFO order --- */

/*
 * Parks the COMPOUND from address `caller` whose last op, LOCK `a`, was
 * answered LOCKED in *res: takes the results (*res is left empty) and a
 * copy of `a`.  Returns 0, or -1 (nothing taken: answer now) when out of
 * memory or the request cannot be answered later.
 */
int		 wait_park(struct lock_ctx *ctx, const char *caller,
		    const lock_args *a, lock_compound_res *res,
		    struct svc_req *rq);
/* Drops, unanswered, the waiters of the connection a new request came
 * on (xprt): its client gave up on them. */
void		 wait_drop_xprt(struct lock_ctx *ctx, SVCXPRT *xprt);
/* Drops, unanswered, the waiters whose `conn` is `conn`. */
void		 wait_drop_conn(struct lock_ctx *ctx, uint64_t conn);
/*
 * Walks the waiters oldest first at `now`: drops those whose connection
 * is gone, grants (writing through to kv) those that can be, and
 * answers LOCKED to those whose wait is over.  The decided ones wait in
 * ctx->dhead for wait_answer().  Returns how many were decided.
 */
size_t		 wait_pass(struct lock_ctx *ctx, unsigned long long now);
/* Sends the decided replies and frees them.  ORDER: only after the
 * grants were committed. */
void		 wait_answer(struct lock_ctx *ctx);
/* The loop's tick: wait_pass(), commit, wait_answer(), when the earliest
 * waiter's wake time has come; else nothing. */
void		 wait_tick(struct lock_ctx *ctx, unsigned long long now);
/*
 * Returns DFS_OK if no waiter ahead of `self` (NULL: a new request; the
 * tree `ahead` holds their paths) names a path of `a` in a conflicting
 * mode, else DFS_ERR_LOCKED with d naming the path, that waiter's mode
 * and the time left of its wait (or DFS_ERR_RESOURCE).
 */
dfs_stat	 wait_conflict(struct lock_ctx *ctx, const lock_args *a,
		    const struct waiter *self, void *ahead,
		    unsigned long long now, lock_denied *d);
/*
 * Returns 0 if client `c` may park one more LOCK, after dropping the
 * waiters whose connections are gone when at a limit; else
 * -DFS_ERR_LIMIT.
 */
int		 wait_admit(struct lock_ctx *ctx, const struct lclient *c);
/* Frees every waiter, unanswered (shutdown, tests). */
void		 wait_release(struct lock_ctx *ctx);

/* --- compound.c: the program's dispatcher --- */

/* Decodes and answers a call through lib/dispatch.c; main.c hands it to
 * daemon_listen(). */
void		 dfs_lock_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

/* --- compound.c: the op table and the RPC entry point --- */

/* Sets the context lock_compound_1_svc() works on (main(), tests). */
void		 compound_setctx(struct lock_ctx *ctx);
/* Makes the lock table's pending writes durable; exits when durability
 * is unknown. */
void		 compound_commit(struct lock_ctx *ctx);

/* --- heartbeat.c: REGISTER with the name server off the RPC loop --- */

/*
 * Registers with the name server at `namespec` (HOST[:PORT]) once, then
 * starts the thread that registers again every heartbeat, so that a slow
 * name server never stalls the lock server (the name server calls TEST
 * while it serves).  From then on ctx grants and renews only while the
 * name server confirms it as the lock authority.  Returns 0 (also when
 * the name server refused or was not reached: the server stands by and
 * tries again), or -1 with a message in err.
 */
int		 heartbeat_start(struct heartbeat *hb, struct lock_ctx *ctx,
		    const char *namespec, const char *statedir,
		    const char *bindaddr, unsigned int port, char *err,
		    size_t errlen);
/*
 * Returns 1 if ctx may grant and renew locks at `now`: it runs without a
 * name server, or the name server accepted a REGISTER it sent less than
 * LOCKD_FENCE_MS ago; else 0 (standby: answer STANDBY).
 */
int		 heartbeat_authority(struct lock_ctx *ctx,
		    unsigned long long now);
/* Stops and joins the thread (at most one RPC timeout); no-op if it
 * never started. */
void		 heartbeat_stop(struct heartbeat *hb);

#endif
