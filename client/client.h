/*
 * client.h -- libdfs internals, grouped by file.
 */
#ifndef DFS_CLIENT_H
#define DFS_CLIENT_H

#include <limits.h>
#include <stdint.h>

#include "dfs.h"
#include "req.h"

#define DFS_DEFAULT_TIMEOUT_MS	15000
#define DFS_DEFAULT_MAX_SIZE	(1u << 20)
#define DFS_CHUNK		(1u << 20)	/* bytes per READ/WRITE */
#define DFS_MAXFSCONN		16

/* A connection to one file server, found through the name server. */
struct fsconn {
	uint64_t	 id;
	char		 host[DFS_MAXHOSTLEN + 1];
	unsigned int	 port;
	CLIENT		*clnt;
};

struct dfs {
	char		 host[256];	/* the name server */
	unsigned int	 port;
	unsigned int	 timeout_ms;
	int		 retries;
	size_t		 max_size;
	char		 tmpdir[PATH_MAX];
	CLIENT		*named;
	CLIENT		*lockd;
	struct fsconn	 fs[DFS_MAXFSCONN];
	int		 nfs;
	char		 detail[256];
};

/* --- conn.c: calls with timeouts, retries and reconnection --- */

/*
 * Each sends a COMPOUND and returns 0 when every op succeeded, the
 * negative status of the op that failed (res holds the results so far),
 * or a negative transport error.  `idempotent` calls are retried on a
 * new connection after a transport failure.  Always xdr_free res.
 */
int	conn_name(struct dfs *dfs, struct nreq *r, name_compound_res *res,
	    int idempotent);
int	conn_lock(struct dfs *dfs, struct lreq *r, lock_compound_res *res,
	    int idempotent);
int	conn_file(struct dfs *dfs, const dfs_server *srv, struct freq *r,
	    file_compound_res *res, int idempotent);
/* Picks the first live server of a list.  Returns it or NULL. */
const dfs_server *conn_pick(const dfs_server *srvs, u_int n);
/* printf into dfs->detail. */
void	conn_detail(struct dfs *dfs, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

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
void	name_walk(struct nreq *r, const char *path);
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

/* --- file.c --- */

#define F_READ		1
#define F_WRITE		2
#define F_APPEND	4
#define F_CREATE	8
#define F_TRUNC		16
#define F_EXCL		32

/* Parses an fopen(3)-style mode ("r", "w+", "ax", "rb", "rc").  Returns
 * the F_ flags, or 0 for an invalid mode. */
unsigned int	file_mode(const char *mode);

/* --- lock.c: locks for writers --- */

/* Takes an exclusive lock on one path.  Returns 0 with *id and
 * *lease_ms, -DFS_ERR_LOCKED (detail set), or another status.
 * -DFS_ERR_NOSERVER when the cluster has no lock server is returned as
 * 0 with a zero id: writes are then unlocked. */
int	lock_take(struct dfs *dfs, const char *path, dfs_lockid *id,
	    unsigned int *lease_ms);
int	lock_renew(struct dfs *dfs, const dfs_lockid *id);
int	lock_release(struct dfs *dfs, const dfs_lockid *id);
int	lock_is_zero(const dfs_lockid *id);

#endif
