/*
 * filed.h -- dfs-filed's private interfaces, grouped by file.
 *
 * A file server stores file contents by handle and version under its
 * state directory (see store.c for the layout), fills stages from WRITEs
 * and commits them with the name server as the commit point.  It runs as
 * a supervisor (main.c: holds the client connections, lends them to
 * workers while a request is in flight, restarts), pre-forked workers
 * that answer the FILE program, and a registrar (registration, GC);
 * every worker has its own connection to the name server.
 */
#ifndef DFS_FILED_H
#define DFS_FILED_H

#include <stddef.h>
#include <stdint.h>

#include "compound.h"
#include "dfs_types.h"
#include "file.h"
#include "fh.h"
#include "peer.h"

/* Milliseconds: calls to the name server time out after this. */
#define FILED_NAMED_TIMEOUT_MS	5000

/* The shared counters' mapping: one per op code, a STATS reply's worth. */
#define FILED_COUNTERS_SIZE	(DFS_MAXCOUNTERS * sizeof(struct op_counter))

/* store_sync()'s shared state: syncs begun, and the last one completed
 * without error (they run one at a time, so in order). */
struct store_sync {
	uint64_t	begun;
	uint64_t	done;
};

/* What the connection processes share: the counters, then a
 * store_sync, in one mapping. */
#define FILED_SHARED_SIZE	(FILED_COUNTERS_SIZE + sizeof(struct store_sync))

struct owner_table;

/* The daemon's state: one per process (workers get a copy at fork). */
struct filed_ctx {
	const char		*statedir;
	unsigned int		 gc_age;	/* -g: stage age, s */
	struct peer		 named;		/* per process */
	int			 lockfd;	/* commit.lock or -1 */
	long			 lockpid;	/* who opened lockfd */
	/* STATS: DFS_MAXCOUNTERS per op code (compound.c), in a MAP_SHARED
	 * mapping made before any fork, so every connection process adds
	 * to (and reports) the whole server's counts */
	struct op_counter	*counters;
	struct store_sync	*sync;		/* in the same mapping */
	/* owner.c: which connection owns each stage, MAP_SHARED too */
	struct owner_table	*owners;
	uint64_t		 conn;		/* the connection served (its
						 * serial), 0: none */
	/* main.c: a worker's request deadline, which the supervisor
	 * enforces (NULL: none, e.g. in tests) */
	uint64_t		*deadline;
	unsigned int		 request_ms;	/* -r */
	int			 check_handles;	/* STAGE asks the name server
						 * (main.c sets it) */
};

/* One COMPOUND's state. */
struct op_ctx {
	struct compound_state	 cs;		/* lib/compound.c's */
	struct filed_ctx	*fc;
	uint64_t		 stage;		/* last STAGE; 0: none */
	uint64_t		 ndata;		/* bytes READ so far */
	int			 zc;		/* READ may leave its data to
						 * sendread.c: ... */
	int			 rfd;		/* ... this open version file,
						 * -1: it did not */
	uint64_t		 roff;		/* ... from this offset */
};

/* Initializes a context for `statedir` (kept by reference) with the name
 * server at `named_spec` (HOST[:PORT]) and zeroed shared op counters.
 * Returns 0, -DFS_ERR_INVAL (bad address) or -DFS_ERR_NOMEM (no
 * mapping for the counters). */
int		filed_ctx_init(struct filed_ctx *fc, const char *statedir,
		    const char *named_spec);
/* Drops connections, the lock file and this process's view of the
 * counters. */
void		filed_ctx_release(struct filed_ctx *fc);

/* --- compound.c: the program's dispatcher --------------------------- */

/* Decodes and answers a call through lib/dispatch.c; main.c hands it to
 * daemon_listen(). */
void		dfs_file_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

/* --- compound.c ------------------------------------------------------ */

/* Points file_compound_1_svc() at the daemon's context (main()). */
void		filed_set_ctx(struct filed_ctx *fc);
/* Starts (on) or pauses the request deadline: now + fc->request_ms
 * while the worker reads a request or sends a reply, none while an op
 * runs. */
void		filed_deadline(struct filed_ctx *fc, int on);
/* Evaluates one COMPOUND against `fc` (what file_compound_1_svc runs;
 * tests call it directly).  Fills *res; release it with xdr_free. */
void		filed_compound(struct filed_ctx *fc,
		    const file_compound_args *args, file_compound_res *res);

/* --- fargs.c: the COMPOUND's arguments ------------------------------ */

/* Decodes a FILE COMPOUND's arguments as xdr_file_compound_args() does,
 * but fails (nothing more read or allocated) once the file data of its
 * WRITEs and PUTs passes DFS_MAXDATA in all.  Encodes and frees as
 * rpcgen's.  Returns TRUE or FALSE, as any XDR routine. */
bool_t		xdr_file_compound_args_bounded(XDR *x,
		    file_compound_args *args);

/* --- sendread.c: READ replies straight from the file ----------------- */

/* Can a lone READ on `xprt` be answered with sendread()?  Yes on a
 * worker's connection, which worker.c attached to svcx.  Returns 1 or
 * 0. */
int		sendread_ok(SVCXPRT *xprt);
/* Sends the reply `res` to the request being served on `xprt`, its one
 * READ result's data_len bytes taken from `fd` at `off` with
 * sendfile(2).  A failure leaves the stream unusable: it is shut down
 * (logged), and libtirpc then drops the connection. */
void		sendread(SVCXPRT *xprt, file_compound_res *res, int fd,
		    uint64_t off);

/* --- op_*.c: handlers; each returns the op's status ----------------- */

dfs_stat	op_read(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_stage(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_write(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_setsize(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_commit(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_put(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_getattr(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_remove(struct op_ctx *, const file_argop *, file_resop *);
dfs_stat	op_abort(struct op_ctx *, const file_argop *, file_resop *);

/* --- store.c: the on-disk layout: paths, versions, stages ---------- */

#define STORE_PATHLEN	4096

/*
 * Parses a handle off the wire and writes its hex name (FH_HEXLEN + 1
 * bytes) to `hex`.  Returns 0 or -DFS_ERR_BADHANDLE.
 */
int		store_fh(const dfs_fh *fh, char *hex);
/* Resolves stage id 0 to the COMPOUND's current stage.  Returns 0 or
 * -DFS_ERR_INVAL (0 and no STAGE before it). */
int		store_stage_id(const struct op_ctx *oc, uint64_t stage,
		    uint64_t *id);
/* Creates <statedir>/data and <statedir>/stage.  Returns 0 or -1 (errno
 * set). */
int		store_init(const struct filed_ctx *fc);
/* Path of version `vers` of `hex`, of its directory, of a stage's
 * directory, of a stage.  Each returns 0 or -DFS_ERR_NAMETOOLONG. */
int		store_data_path(const struct filed_ctx *fc, const char *hex,
		    uint64_t vers, char *buf, size_t len);
int		store_data_dir(const struct filed_ctx *fc, const char *hex,
		    char *buf, size_t len);
int		store_stage_dir(const struct filed_ctx *fc, const char *hex,
		    char *buf, size_t len);
int		store_stage_path(const struct filed_ctx *fc, const char *hex,
		    uint64_t stage, char *buf, size_t len);
/* Creates a new, empty stage of `hex` under a random id (*id) at `path`
 * (STORE_PATHLEN bytes), owned by fc->conn (owner.c), making its bucket
 * directory when it is the first.  Returns the fd, open for writing, or
 * a negative dfs_stat (RESOURCE: the connection has too many). */
int		store_stage_create(struct filed_ctx *fc,
		    const char *hex, uint64_t *id, char *path);
/* Unlinks stage `id` of `hex` and forgets its owner: the upload that
 * made it failed or was aborted.  Returns 0, -DFS_ERR_STALE (no such
 * stage) or -DFS_ERR_IO. */
int		store_stage_drop(struct filed_ctx *fc, const char *hex,
		    uint64_t id);
/* Creates a new, empty temporary version of `hex` in its data directory
 * (made if missing), <hex>.t<random id>, at `path` (STORE_PATHLEN
 * bytes): a PUT writes there and renames it in place, touching one
 * directory, not a stage's and the data's.  Returns the fd, open for
 * writing, or a negative dfs_stat. */
int		store_temp_create(const struct filed_ctx *fc,
		    const char *hex, char *path);
/*
 * Lists the versions of `hex` held, ascending, in a malloc(3)ed array the
 * caller frees (NULL when none).  Returns 0 or -DFS_ERR_IO/-NOMEM.
 */
int		store_versions(const struct filed_ctx *fc, const char *hex,
		    uint64_t **vers, size_t *n);
/* Newest version held and its size (0, 0: none).  Returns 0 or
 * -DFS_ERR_IO. */
int		store_newest(const struct filed_ctx *fc, const char *hex,
		    uint64_t *vers, uint64_t *size);
/* Unlinks every version of `hex` below `keep` (older) or, with `all`,
 * every version but `keep`.  Returns 0 or -DFS_ERR_IO. */
int		store_prune(const struct filed_ctx *fc, const char *hex,
		    uint64_t keep, int all);
/* Unlinks every version and every stage of `hex`.  Returns 0 or
 * -DFS_ERR_IO. */
int		store_remove_all(const struct filed_ctx *fc,
		    const char *hex);
/* Makes the data directory of `hex` (and syncs its parent if new).
 * Returns 0 or a negative dfs_stat. */
int		store_mkdata(const struct filed_ctx *fc, const char *hex);
/* fsync(2)s a directory.  Returns 0 or -DFS_ERR_IO. */
int		store_fsync_dir(const char *dir);
/* Reads <statedir>/server.id, written by the registrar.  Returns 0 or
 * -DFS_ERR_DELAY when this server has no id yet. */
int		store_server_id(const struct filed_ctx *fc, uint64_t *id);
/* Maps an errno from a data operation to a negative dfs_stat. */
int		store_errno(int err);
/* pwrite(2)s all `len` bytes of buf at `off`.  Returns 0 or a negative
 * dfs_stat. */
int		store_write(int fd, const char *buf, size_t len, uint64_t off);
/* Is `name` a temporary version's, "<hex>.t<16 hex digits>"?  Returns
 * 1 or 0. */
int		store_is_temp(const char *name);
/*
 * Parses a version's name, "<hex>.<decimal>" where hex is FH_HEXLEN
 * digits.  Stores the handle's hex (if `hex` is not NULL) and the
 * version.  Returns 1 for a version file name, 0 for anything else.
 */
int		store_parse_version(const char *name, char *hex,
		    uint64_t *vers);

/* --- store_commit.c: commit locks, syncs, copies ------------------- */

/*
 * Takes (store_lock) or drops (store_unlock) the per-handle commit lock:
 * an OFD lock on byte XXH64(hex) % 65536 of <statedir>/commit.lock,
 * which serializes COMMIT and REMOVE of one handle across workers.  The
 * file is opened once per process (an inherited open file description
 * would be shared, and OFD locks belong to descriptions).  Returns 0 or
 * -DFS_ERR_IO.
 */
int		store_lock(struct filed_ctx *fc, const char *hex);
/* The byte store_lock() takes for `hex`: who holds several locks takes
 * them in ascending order of it, so two never wait on each other. */
unsigned int	store_lock_slot(const char *hex);
/* The byte of commit.lock store_sync() takes: past every handle's. */
#define SYNC_SLOT	65536u
/*
 * Makes everything written to the store so far durable: data, inodes
 * and renames, with one syncfs(2) of its file system (which writes back
 * whatever else is dirty there too), shared with the other connection
 * processes syncing at the same time.  Returns 0 or -DFS_ERR_IO.
 */
int		store_sync(struct filed_ctx *fc);
void		store_unlock(struct filed_ctx *fc, const char *hex);
/* Copies `len` bytes from fd `in` to fd `out` (both at offset 0).
 * Returns 0 or a negative dfs_stat. */
int		store_copy(int in, int out, uint64_t len);

/* --- store_gc.c: garbage collection --------------------------------- */

/*
 * Start-up and periodic GC.  store_gc_stages unlinks stages not
 * modified for `age` seconds (0: every stage) and returns how many;
 * store_gc_versions asks the name server about every handle with more
 * than one version and keeps only the current one, returning 0 or
 * -DFS_ERR_DELAY when the name server could not be reached (nothing
 * more is removed then).
 */
int		store_gc_stages(const struct filed_ctx *fc,
		    unsigned int age);
/* Start-up GC of what PUTs that never finished left: every temporary
 * version.  Returns how many it removed. */
int		store_gc_temps(const struct filed_ctx *fc);
int		store_gc_versions(struct filed_ctx *fc);

/* --- owner.c: stages by the connection that made them --------------- */

#define OWNER_MAX	4096	/* stages of live connections, in all */
#define OWNER_PER_CONN	256	/* ... of one connection */

/* Maps the (shared, empty) table.  Returns 0 or -DFS_ERR_NOMEM. */
int		owner_init(struct filed_ctx *fc);
/* Unmaps this process's view. */
void		owner_release(struct filed_ctx *fc);
/* Records that stage `id` of `hex` belongs to fc->conn (nothing when
 * fc->conn is 0).  Call before creating the stage.  Returns 0 or
 * -DFS_ERR_RESOURCE (table full, or the connection holds its share). */
int		owner_claim(struct filed_ctx *fc, const char *hex,
		    uint64_t id);
/* Forgets stage `id` of `hex` (committed, aborted or dropped). */
void		owner_forget(struct filed_ctx *fc, const char *hex,
		    uint64_t id);
/* Connection `conn` is gone: unlinks every stage it still owns and
 * forgets them.  Returns how many it unlinked. */
int		owner_sweep(struct filed_ctx *fc, uint64_t conn);

/* --- namecall.c: calls to the name server ----------------------------- */

/*
 * Each returns 0 or a negative dfs_stat; a failed call (no answer) is
 * -DFS_ERR_DELAY, never a client-local code.
 */
/* Connects to the name server if not connected (no call). */
int		namecall_connect(struct filed_ctx *fc);
/* [PUTFH, GETATTR] */
int		namecall_getattr(struct filed_ctx *fc, const dfs_fh *fh,
		    dfs_attr *attr);
/* [PUTFH, PUTLOCK(lock), COMMIT(oldvers, size, srvid)] -> the new
 * attributes.  A call that got no answer is -DFS_ERR_TIMEDOUT (the name
 * server may still be working on it) or -DFS_ERR_RPC (the connection
 * failed: it was done or it never will be). */
int		namecall_commit(struct filed_ctx *fc, const dfs_fh *fh,
		    const dfs_lockid *lock, uint64_t oldvers, uint64_t size,
		    uint64_t srvid, dfs_attr *attr);
/* One file of namecall_commit_many(). */
struct namecommit {
	const dfs_fh		*fh;
	const dfs_lockid	*lock;
	uint64_t		 oldvers;
	uint64_t		 size;
	int			 status;	/* out: 0 or negative dfs_stat */
	dfs_attr		 attr;		/* out: when status is 0 */
};
/*
 * The COMMITs of namecall_commit() for the first `n` files of `uc` in one
 * COMPOUND (PUTLOCK only where the lock changes), as many as fit in
 * DFS_MAXOPS.  The name server stops at the first file it refuses, so
 * this returns how many files got a result (their status and attr set:
 * all committed but maybe the last), or, for a call that got no answer,
 * -DFS_ERR_TIMEDOUT or -DFS_ERR_RPC as namecall_commit() (no result then).
 */
int		namecall_commit_many(struct filed_ctx *fc,
		    struct namecommit *uc, u_int n, uint64_t srvid);
/* [PUTFH]: 0 if the name server still knows the handle, -STALE if not. */
int		namecall_exists(struct filed_ctx *fc, const dfs_fh *fh);
/* [PUTLOCK lock, PUTFH, TESTLOCK]: 0 if the name server knows the handle
 * and `lock` may change the file; -STALE, -LOCKED, -EXPIRED, -BADLOCK,
 * -DELAY (no answer, from it or from the lock server) if not. */
int		namecall_may_write(struct filed_ctx *fc, const dfs_fh *fh,
		    const dfs_lockid *lock);

#endif
