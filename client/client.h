/*
 * client.h -- libdfs internals, grouped by file.
 */
#ifndef DFS_CLIENT_H
#define DFS_CLIENT_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "dfs.h"
#include "request.h"

#define DFS_DEFAULT_TIMEOUT_MS	15000
#define DFS_PROBE_MS		3000	/* a connect, a new file server's NULL */
#define RAW_QUIET_MS		3000	/* no progress: is the server alive? */
#define DFS_DEAD_MS		30000	/* a failed probe: not tried again */
#define DFS_DEFAULT_MAX_SIZE	(1u << 20)
#define DFS_CHUNK		(1u << 20)	/* bytes per READ/WRITE */
#define DFS_MAXFSCONN		16
#define DFS_MAXWAIT_MS		300000u		/* LOCK wait_ms cap */
#define DFS_DEFAULT_CACHE_SIZE	(UINT64_C(1) << 30)
#define DFS_DEFAULT_STREAMS	4	/* connections per large transfer */
#define PARALLEL_MAXSTREAMS	16
/* A download gets a connection per `stream_span` bytes, up to `streams`;
 * one no larger goes on one connection with the next READ sent ahead
 * (readahead.c), one of a single chunk is one READ on the file server's
 * connection (reader.c).  The span is large because on few cores more
 * connections only make threads and the file server's processes compete
 * for them (docs/BENCHMARKS.md); they pay on long round trips. */
#define DFS_DEFAULT_STREAM_SPAN	(UINT64_C(4) << 30)

/* CLOCK_MONOTONIC in milliseconds: leases, dead servers, raw calls. */
static inline uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A connection to one file server, found through the name server. */
struct fsconn {
	uint64_t	 id;
	char		 host[DFS_MAXHOSTLEN + 1];
	unsigned int	 port;
	CLIENT		*clnt;
	uint64_t	 dead_until;	/* failed a probe: CLOCK_MONOTONIC ms */
	char		 why[256];	/* ... saying this */
};

/*
 * A lock id and the paths it holds: from dfs_lock() (dfs set, on its
 * `held` list) or parsed from $DFS_LOCKS (dfs NULL).  paths[] point
 * into buf, one allocation holding the NUL-terminated paths.
 */
struct dfs_lock {
	struct dfs	*dfs;
	struct dfs_lock	*next;		/* in dfs->held */
	dfs_lockid	 id;
	int		 exclusive;
	unsigned int	 lease_ms;	/* 0: unknown ($DFS_LOCKS) */
	int		 npaths;
	char		**paths;
	char		*buf;
};

/* The persistent whole-file cache of one struct dfs (cache.c). */
struct cache {
	char		 dir[PATH_MAX];	/* <dir>/<instance>/<fh hex>/<entry> */
	uint64_t	 limit;		/* bytes of entries at most */
	int		 disabled;	/* never read nor filled */
	char		 warning[256];	/* why it went off; "" */
};

struct dfs {
	char		 host[256];	/* the name server */
	unsigned int	 port;
	unsigned int	 timeout_ms;
	int		 retries;
	size_t		 max_size;
	int		 streams;	/* per large transfer; 1: no parallel */
	uint64_t	 stream_span;	/* download bytes per connection */
	unsigned int	 lease_ms;	/* asked for new locks; 0: default */
	struct dfs_lock	*held;		/* taken with dfs_lock() */
	struct dfs_lock	*envlock;	/* $DFS_LOCKS at connect, or NULL */
	char		 tmpdir[PATH_MAX];
	CLIENT		*named;
	CLIENT		*lockd;
	struct fsconn	 fs[DFS_MAXFSCONN];
	int		 nfs;
	char		 detail[256];
	/* dfs.conf cache settings, used by dfs_connect() */
	char		 conf_cache_dir[PATH_MAX];
	uint64_t	 conf_cache_size;	/* 0: not set */
	struct cache	 cache;
};

/* --- conn.c: calls with timeouts, retries (lib/retry.c), reconnection --- */

/*
 * Each sends a COMPOUND and returns 0 when every op succeeded, the
 * negative status of the op that failed (res holds the results so far),
 * or a negative transport error.  `idempotent` calls are retried on a
 * new connection after a transport failure.  Always xdr_free res.
 */
int	conn_name(struct dfs *dfs, struct name_req *r, name_compound_res *res,
	    int idempotent);
int	conn_lock(struct dfs *dfs, struct lock_req *r, lock_compound_res *res,
	    int idempotent);
/* conn_lock() of a request the lock server may hold back up to
 * `wait_ms` (a LOCK that waits): the call's timeout is that much
 * longer than the connection's.  Never retried. */
int	conn_lock_wait(struct dfs *dfs, struct lock_req *r,
	    lock_compound_res *res, unsigned int wait_ms);
int	conn_file(struct dfs *dfs, const dfs_server *srv, struct file_req *r,
	    file_compound_res *res, int idempotent);
/* Takes the connection to srv out of dfs's (made now if there is none,
 * the failure's detail in dfs): the caller owns it, and conn_file()
 * makes another meanwhile.  Returns it or NULL. */
CLIENT	*conn_file_take(struct dfs *dfs, const dfs_server *srv);
/* Gives a taken connection back, with nothing in flight on it (it is
 * closed when another was made meanwhile). */
void	conn_file_give(struct dfs *dfs, const dfs_server *srv, CLIENT *c);
/*
 * A new connection to the file server at host:port, as conn_file()
 * makes them, for a caller that owns it (parallel.c's threads): made within
 * DFS_PROBE_MS and answering a NULL call within it, then calls have
 * timeout_ms.  Touches no struct dfs.  Returns it, or NULL with *rc
 * (-DFS_ERR_RPC: no connection; -DFS_ERR_TIMEDOUT: connected, but no
 * answer; -DFS_ERR_PROTO) and the cause in err.
 */
CLIENT	*conn_file_open(const char *host, unsigned int port,
	    unsigned int timeout_ms, unsigned int bufsz, char *err,
	    size_t errlen, int *rc);
/* The text of a call to file server host:port that failed with st
 * ("... no answer within N ms" for a timeout), into buf. */
void	conn_fail_text(char *buf, size_t len, const char *host,
	    unsigned int port, enum clnt_stat st, unsigned int timeout_ms);
/*
 * Connects to the name server and probes the connection with a NULL
 * call answered within DFS_PROBE_MS, so a stopped name server costs
 * seconds, not the call timeout and its retries.  Returns 0, or
 * -DFS_ERR_RPC, -DFS_ERR_TIMEDOUT, -DFS_ERR_PROTO with the cause alone
 * in the detail (a tool names the server itself).
 */
int	conn_open_named(struct dfs *dfs);
/* Closes every connection of dfs (dfs_disconnect()). */
void	conn_close_all(struct dfs *dfs);
/* Picks the first live server of a list.  Returns it or NULL. */
const dfs_server *conn_pick(const dfs_server *srvs, u_int n);
/* printf into dfs->detail. */
void	conn_detail(struct dfs *dfs, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* --- place.c: new files whose file server cannot be reached --- */

/* Returns 1 for a transport failure (-DFS_ERR_RPC, -DFS_ERR_TIMEDOUT),
 * the ones after which place_again() is worth a try; else 0. */
int	place_transport(int rc);
/*
 * Reports file server `srvid` unreachable (SUSPECT) and moves the
 * version-0 file this client created at `path` to another server:
 * [PUTLOCK, SUSPECT, walk parent, REMOVE, CREATE exclusive, GETFH,
 * GETATTR, LOCATE], under `lock` (or the one lock_find() gives).
 * Returns 0 with res ending in CREATE, GETFH, GETATTR, LOCATE (a new
 * file), or a status.  Always xdr_free res.
 */
int	place_again(struct dfs *dfs, const dfs_lockid *lock, const char *path,
	    uint64_t srvid, name_compound_res *res);
/* Removes `path` if it still is the version-0 file `fh` this client
 * created, under `lock` (as place_again()).  Best effort; the detail of
 * the failure that got us here stays. */
void	place_undo(struct dfs *dfs, const dfs_lockid *lock, const char *path,
	    const dfs_fh *fh);

/* --- config.c --- */

/* Reads the first dfs.conf found into dfs (see dfs.conf(5)).  Returns 0
 * (also when there is none) or -DFS_ERR_INVAL (detail set). */
int	config_load(struct dfs *dfs);

/* --- name.c: paths --- */

/* Checks an absolute path.  Returns 0, -DFS_ERR_INVAL or
 * -DFS_ERR_NAMETOOLONG. */
int	name_check(const char *path);
/*
 * Splits a checked path into its parent ("a/b" relative to the root,
 * "" for the root itself) and last component.  Returns 0 or
 * -DFS_ERR_INVAL for "/".  Both point into `buf` (PATH_MAX bytes).
 */
int	name_split(const char *path, char *buf, const char **parent,
	    const char **base);
/* Appends PUTROOTFH [+ LOOKUP rel] for an absolute path, whose storage
 * must outlive the call. */
void	name_walk(struct name_req *r, const char *path);
/* Tells the file servers holding a removed file to drop its data; best
 * effort, failures are left to their garbage collection. */
void	name_drop_data(struct dfs *dfs, const dfs_loc *loc);

/* --- spool.c: the local copy of a file being written --- */

struct spool {
	char		*mem;		/* while size <= max_mem */
	size_t		 cap;
	size_t		 max_mem;
	uint64_t	 size;
	int		 fd;		/* unlinked temp file once spilled */
	char		 dir[PATH_MAX];
};

void	spool_init(struct spool *sp, size_t max_mem, const char *dir);
void	spool_release(struct spool *sp);
/* Returns n or -DFS_ERR_NOSPC, -DFS_ERR_IO, -DFS_ERR_NOMEM, -DFS_ERR_FBIG. */
ssize_t	spool_pwrite(struct spool *sp, const void *buf, size_t n,
	    uint64_t off);
/* Returns bytes read (0 at the end) or -DFS_ERR_IO. */
ssize_t	spool_pread(struct spool *sp, void *buf, size_t n, uint64_t off);
/* Returns 0 or a negative status. */
int	spool_truncate(struct spool *sp, uint64_t size);

/* --- cache.c: the persistent whole-file cache (see its top comment) --- */

/* A fill's temporary entry, and the age after which a scan removes
 * one left behind by a killed process. */
#define CACHE_TMP_PREFIX	".tmp."
#define CACHE_TMP_MAXAGE	3600		/* seconds */

/* What cache_fill() returns when it kept nothing and the caller should
 * stream the file instead (cache off, file too large, local failure). */
#define CACHE_MISS	1

/* One committed version of a file: handle, version and size. */
struct cache_key {
	const void	*fh;
	size_t		 fhlen;
	uint64_t	 vers;
	uint64_t	 size;
};

/* Where cache_fill() gets the bytes: up to n at off into buf.  Returns
 * the count (0 only at the end) or a negative status. */
typedef ssize_t	(*cache_reader)(void *arg, char *buf, size_t n,
		    uint64_t off);

/*
 * Sets up c over `dir` (created with its parents, mode 0700) holding at
 * most `limit` bytes.  dir NULL or "": the cache is off, silently.  A
 * directory that cannot be made or written turns it off with a warning.
 */
void	cache_init(struct cache *c, const char *dir, uint64_t limit);
/* Turns the cache off and keeps the reason (the first one). */
void	cache_disable(struct cache *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The warning of a cache that turned itself off, or NULL. */
const char	*cache_warning(const struct cache *c);
/*
 * Opens the entry for k after checking it: a regular file of k->size
 * bytes whose XXH3_64bits is the one in its name.  A bad entry is
 * removed.  Entries of older versions of the handle are removed too.
 * Sets the entry's mtime to now (LRU).  Returns 0 and *fdp (read-only,
 * close it), or -DFS_ERR_NOENT (no valid entry, cache off).
 */
int	cache_open_entry(struct cache *c, const struct cache_key *k,
	    int *fdp);
/*
 * Makes the entry for k from `rd` (under a temporary name, renamed into
 * place), evicting old entries first to stay under the limit.  Returns
 * 0 and *fdp (the new entry, readable; close it) when fdp is not NULL,
 * CACHE_MISS (nothing kept: off, larger than the limit, or a local
 * failure, which turns the cache off), or the reader's negative status.
 */
int	cache_fill(struct cache *c, const struct cache_key *k,
	    cache_reader rd, void *arg, int *fdp);
/* cache_fill() from the bytes of a spool that hold the whole version k
 * (what a writer just committed).  Returns as cache_fill(). */
int	cache_put_from_spool(struct cache *c, const struct cache_key *k,
	    struct spool *sp);
/* cache_fill() from k->size bytes at `data`.  Returns as cache_fill(). */
int	cache_put_mem(struct cache *c, const struct cache_key *k,
	    const void *data);
/*
 * Counts `need` bytes that a fill is about to add in the cache's ledger;
 * when that would pass the limit, or the ledger cannot be read, first
 * scans the cache as cache_evict() does.  Returns 0, or CACHE_MISS when
 * need alone is larger than the limit (or the scan ran out of memory).
 */
int	cache_reserve(struct cache *c, uint64_t need);
/*
 * Scans the whole cache: removes least recently used entries (oldest
 * atime, any handle) until `need` more bytes fit in 90% of the limit,
 * and temporary files that fills killed long ago left; then sets the
 * ledger to what stays.  Returns 0, or CACHE_MISS when need alone is
 * larger than the limit.
 */
int	cache_evict(struct cache *c, uint64_t need);
/* Returns 1 if s is exactly n lowercase hex digits (and ends there). */
int	cache_is_hex(const char *s, size_t n);
/* Parses an entry's name "<vers>-<size>-<hash>"; only the exact form
 * cache.c writes is one.  Returns 0 or -1. */
int	cache_entry_parse(const char *name, uint64_t *vers, uint64_t *size,
	    uint64_t *hash);

/* --- rawrpc.c: raw record framing, READ and WRITE without libtirpc's
 * buffers (its top comment states the contract with libtirpc) --- */

#define RAW_AHEAD	512	/* read at once for a reply's small items */

/* The reply side of a connection: its socket, the record being read, the
 * time limit, and what was read ahead of it (the next reply's start,
 * when several READs are in flight). */
struct raw_in {
	int		 fd;
	uint32_t	 left;		/* bytes left in this fragment */
	int		 last;		/* this fragment ends the record */
	/* the call's time, in ms of CLOCK_MONOTONIC (rawrpc.c) */
	uint64_t	 deadline_ms;
	uint64_t	 heard_ms;	/* the last progress either way */
	unsigned int	 timeout_ms;
	unsigned int	 waited_ms;	/* after RPC_TIMEDOUT: how long */
	rpcprog_t	 prog;		/* the server's, for the probe */
	rpcvers_t	 vers;
	char		 ahead[RAW_AHEAD];
	size_t		 apos, alen;	/* ahead[apos..alen) not taken yet */
};

/* The xids of raw calls on one connection: libtirpc's own sequence on
 * it, taken over while the connection is used raw (rawrpc.c's top
 * comment). */
struct raw_xids {
	uint32_t	 word;		/* the last xid, as clnt_vc stores it */
};

/* Takes over c's xid sequence, before raw calls on c. */
void		raw_xids_take(struct raw_xids *x, CLIENT *c);
/* The next xid of the sequence: never one clnt_call() uses on c. */
uint32_t	raw_xids_next(struct raw_xids *x);
/* Gives the sequence back to c, before clnt_call() on c again (not
 * needed before clnt_destroy()). */
void		raw_xids_give(const struct raw_xids *x, CLIENT *c);
/*
 * One READ (ra, its count at most the buffer's size) on c's
 * connection, the data read from the socket into buf, call and reply
 * handled here, not by libtirpc (`xid` must be new on the connection).
 * Returns the call's clnt_stat; on RPC_SUCCESS, *status is the READ's
 * and *len its byte count.  After a failure the connection is unusable;
 * after RPC_TIMEDOUT, *waited_ms (unless NULL) says how long it waited:
 * the time limit, or RAW_QUIET_MS when the server fell silent and did
 * not answer on a new connection either (a stopped server).
 */
enum clnt_stat	raw_read_call(CLIENT *c, uint32_t xid, const read_args *ra,
		    unsigned int timeout_ms, char *buf, u_int *len,
		    dfs_stat *status, unsigned int *waited_ms);
/*
 * Any call (proc of c's program, args encoded by xargs) on c's
 * connection, framed here rather than by clnt_call(), so that a server
 * that falls silent is asked on a new connection after RAW_QUIET_MS and
 * a stopped one fails the call in seconds, not at the end of c's
 * timeout (CLSET_TIMEOUT), which it keeps otherwise.  The reply is
 * decoded into res by xres (free it with xdr_free, also on failure).
 * Returns the call's clnt_stat; *waited_ms as in raw_read_call().  After
 * a failure the connection is unusable.
 */
enum clnt_stat	raw_call(CLIENT *c, rpcproc_t proc, xdrproc_t xargs,
		    void *args, xdrproc_t xres, void *res,
		    unsigned int *waited_ms);
/* How long this thread's last raw call waited when it timed out (0:
 * it did not), for error texts that name the wait. */
extern __thread unsigned int raw_waited_ms;
/* Starts reading replies from the connection on fd, nothing read. */
void		raw_in_init(struct raw_in *r, int fd);
/* The call half of raw_read_call(): writes a READ's call record. */
enum clnt_stat	raw_read_send(CLIENT *c, uint32_t xid, const read_args *ra);
/* The reply half: reads the next reply, which must be to `xid`, its data
 * (at most cap bytes) into buf.  Returns as raw_read_call(). */
enum clnt_stat	raw_read_recv(struct raw_in *r, uint32_t xid,
		    unsigned int timeout_ms, char *buf, u_int cap, u_int *len,
		    dfs_stat *status);
/*
 * One WRITE (wa) on c's connection, its data sent from wa's buffer
 * (`xid` must be new on the connection).  Returns the call's clnt_stat;
 * on RPC_SUCCESS, *status is the WRITE's and *count the bytes written.
 * After a failure the connection is unusable; *waited_ms as in
 * raw_read_call().
 */
enum clnt_stat	raw_write_call(CLIENT *c, uint32_t xid, const write_args *wa,
		    unsigned int timeout_ms, u_int *count, dfs_stat *status,
		    unsigned int *waited_ms);
/* n buffers of len bytes each (n * len > 0), one after the other, their
 * pages mapped already (NULL when out of memory); chunks_free() takes
 * back the same n and len. */
char		*chunks_alloc(size_t n, size_t len);
void		 chunks_free(char *p, size_t n, size_t len);

/* --- parallel.c: a file's chunks on several connections at once --- */

struct parallel;

/* The connections a download of `size` bytes gets: one per stream_span
 * bytes, at most `streams`; 0 when it is read a chunk at a time on the
 * file server's connection instead (no larger than stream_span). */
int	parallel_read_streams(const struct dfs *dfs, uint64_t size);
/*
 * Starts threads, each with its own connection to srv, moving
 * DFS_CHUNK-sized chunks of fh: op FOP_WRITE into stage `id`
 * (dfs->streams threads), or FOP_READ of version `id`, `size` bytes
 * long, read ahead from offset 0 (parallel_read_streams() threads).
 * Returns 0 and *xp, or -DFS_ERR_NOMEM.
 */
int	parallel_start(struct dfs *dfs, const dfs_server *srv, const dfs_fh *fh,
	    int op, uint64_t id, uint64_t size, struct parallel **xp);
/* Stops the threads (a chunk in flight finishes) and frees x. */
void	parallel_end(struct parallel *x);
/* Write: waits for the next free chunk buffer (DFS_CHUNK bytes).
 * Returns 0 and *buf, or the transfer's failure (detail set). */
int	parallel_wbuf(struct parallel *x, struct dfs *dfs, char **buf);
/* Write: queues the buffer parallel_wbuf() gave, len bytes for offset off. */
void	parallel_wqueue(struct parallel *x, size_t len, uint64_t off);
/* Write: waits until every queued chunk is written.  Returns 0 or the
 * transfer's failure (detail set). */
int	parallel_drain(struct parallel *x, struct dfs *dfs);
/*
 * Read: the bytes from off on of the chunk holding off, read ahead.
 * Sets *p and *len (0: the version ends before off); they stay valid
 * until the next call.  Returns 0 or the transfer's failure.
 */
int	parallel_rget(struct parallel *x, struct dfs *dfs, uint64_t off,
	    const char **p, size_t *len);

/* --- reader.c: how a reader gets a version's bytes from its server --- */

/* What a reader reads: one committed version of a file.  The pointers
 * must outlive the reader (they are the struct dfs_file's). */
struct reader_src {
	struct dfs		*dfs;
	const dfs_server	*srv;
	const dfs_fh		*fh;
	uint64_t		 vers;
	uint64_t		 size;
};

/*
 * One way of reading a version in file order, a chunk at a time.  There
 * are three, and reader_choose() picks one by the version's size:
 *
 *   reader_single    reader.c     one chunk: one READ on the struct
 *                                 dfs's connection to the file server
 *   reader_ahead     readahead.c  up to stream_span: that connection,
 *                                 the next READ sent ahead, no threads
 *   reader_parallel  parallel.c   larger: threads, a connection each
 *
 * A reader restarts itself when asked for an offset it did not expect,
 * and keeps its first lasting failure: every later get() returns it.
 */
struct reader_ops {
	const char	*name;
	/* Sets up the reading of src (nothing need be sent yet).  Returns
	 * 0 and *state, or -DFS_ERR_NOMEM. */
	int		(*start)(const struct reader_src *src, void **state);
	/* The bytes from off on of the chunk holding off: *p and *len (0:
	 * the version ends before off), valid until the next call.
	 * Returns 0 or a status, its detail copied into dfs. */
	int		(*get)(void *state, struct dfs *dfs, uint64_t off,
			    const char **p, size_t *len);
	/* Stops (a READ in flight is finished or dropped with its
	 * connection) and frees state; NULL: nothing. */
	void		(*end)(void *state);
};

extern const struct reader_ops	reader_single;
extern const struct reader_ops	reader_ahead;
extern const struct reader_ops	reader_parallel;

/* A reader in use: its strategy, chosen at the first reader_get(). */
struct reader {
	const struct reader_ops	*ops;		/* NULL: not started */
	void			*state;
};

/* The strategy for a version of `size` bytes (see struct reader_ops). */
const struct reader_ops *reader_choose(const struct dfs *dfs,
		    uint64_t size);
/* The bytes of src from off on, within one chunk (*p "" and *len 0 at
 * the end), starting rd with reader_choose() first if need be.  Returns
 * 0 or a status. */
int	reader_get(struct reader *rd, const struct reader_src *src,
	    uint64_t off, const char **p, size_t *len);
/* Ends rd (the rest is read from elsewhere, or the file is closed); rd
 * can start again. */
void	reader_end(struct reader *rd);

/* --- readahead.c: a download on one connection, the next READ ahead --- */

struct readahead;

/* Sets up the reading of version `vers` of fh (`size` bytes) from srv,
 * on dfs's connection to it (conn_file_take()); nothing is sent before
 * the first readahead_get().  Returns 0 and *rahp, or -DFS_ERR_NOMEM. */
int	readahead_start(struct dfs *dfs, const dfs_server *srv,
	    const dfs_fh *fh, uint64_t vers, uint64_t size,
	    struct readahead **rahp);
/* Gives the connection back to dfs (closes it if a READ is still in
 * flight) and frees rah (NULL: nothing). */
void	readahead_end(struct readahead *rah);
/* As parallel_rget(): the bytes from off on of the chunk holding off. */
int	readahead_get(struct readahead *rah, struct dfs *dfs, uint64_t off,
	    const char **p, size_t *len);

/* --- file_core.c (the rest: file_core.h) --- */

#define F_READ		1
#define F_WRITE		2
#define F_APPEND	4
#define F_CREATE	8
#define F_TRUNC		16
#define F_EXCL		32
#define F_CACHE		64	/* "c": keep what is read or written */

/* Parses an fopen(3)-style mode ("r", "w+", "ax", "rb", "rc").  Returns
 * the F_ flags, or 0 for an invalid mode. */
unsigned int	file_mode(const char *mode);

/* --- lock.c: locks for writers, explicit locks, $DFS_LOCKS --- */

/* Takes one exclusive lock on `n` checked paths (at most
 * DFS_MAXLOCKPATHS).  Returns 0 with *id and *lease_ms, -DFS_ERR_LOCKED
 * (detail set), or another status.  -DFS_ERR_NOSERVER when the cluster
 * has no lock server is returned as 0 with a zero id: writes are then
 * unlocked. */
int	lock_take(struct dfs *dfs, const char *const *paths, u_int n,
	    dfs_lockid *id, unsigned int *lease_ms);
/* RENEW; sets *lease_ms (may be NULL) to the new lease.  Returns 0 (also
 * for a zero id) or the status. */
int	lock_renew(struct dfs *dfs, const dfs_lockid *id,
	    unsigned int *lease_ms);
int	lock_release(struct dfs *dfs, const dfs_lockid *id);
int	lock_is_zero(const dfs_lockid *id);
/*
 * Parses a $DFS_LOCKS value (see dfs.h): "ID MODE\nPATH...", one
 * optional final newline.  Returns 0 and sets *lkp (dfs NULL; free with
 * lock_free()), -DFS_ERR_INVAL (bad id, zero id, bad mode, a path that
 * is not a checked absolute one, no path or more than DFS_MAXLOCKPATHS,
 * empty string) or -DFS_ERR_NOMEM.
 */
int	lock_parse(const char *s, struct dfs_lock **lkp);
/* Frees a lock without releasing it.  lock_free(NULL) does nothing. */
void	lock_free(struct dfs_lock *lk);
/* Returns 1 if lk holds exactly `path` exclusively, else 0. */
int	lock_covers(const struct dfs_lock *lk, const char *path);
/* Returns the lock this client holds exclusively on `path`: one taken
 * with dfs_lock() through dfs, else the $DFS_LOCKS one, else NULL. */
const struct dfs_lock *lock_find(const struct dfs *dfs, const char *path);
/*
 * Appends OP_PUTLOCK to a name request that changes `path` (and `path2`,
 * a rename's target, unless NULL), naming the lock it acts under: `own`
 * when it is not zero (a writer's lock), else lock_find() of path, then
 * of path2.  Appends nothing when there is none.  Every mutating name
 * request goes through here, before its first op.
 */
void	lock_putlock(struct dfs *dfs, struct name_req *r, const dfs_lockid *own,
	    const char *path, const char *path2);
/* Detaches dfs's held locks from it (dfs_disconnect()). */
void	lock_detach_all(struct dfs *dfs);

#endif
