/*
 * harness.h -- start real dfs daemons for integration tests.
 *
 * Daemons are the built binaries ($DFS_BIN, else build/bin), started with
 * -d on 127.0.0.1, a free port and a private state directory under one
 * mkdtemp(3) root per test.  "Ready" means the pid file exists and a NULL
 * call answers, polled every 20 ms for at most 5 s.  Stopping sends
 * SIGTERM and reports how the daemon exited, so a test can assert a clean
 * exit 0.  On failure, harness_dump_logs() prints every daemon's log.
 */
#ifndef DFS_HARNESS_H
#define DFS_HARNESS_H

#include <sys/types.h>

#include <rpc/rpc.h>

#include "name.h"
#include "lock.h"
#include "file.h"
#include "request.h"
#include "dfs.h"

#define HARNESS_MAXFILED	4

struct dproc {
	const char	*prog;		/* "dfs-named" */
	rpcprog_t	 rpcprog;
	pid_t		 pid;
	unsigned int	 port;
	int		 rpcbind;	/* registered with rpcbind (no -N) */
	char		 dir[512];	/* state directory */
	char		 log[512];
	char		 pidfile[512];
	const char	*extra[8];	/* more arguments, NULL-terminated */
};

struct cluster {
	char		 root[256];
	struct dproc	 named;
	struct dproc	 lockd;
	struct dproc	 filed[HARNESS_MAXFILED];
	int		 nfiled;
	char		 named_spec[64];	/* "127.0.0.1:PORT" for -s */
};

/* Returns a port on 127.0.0.1 that was free a moment ago. */
unsigned int	harness_free_port(void);
/* Makes a fresh temporary root directory in `out`.  Returns 0 or -1. */
int		harness_mkroot(char *out, size_t outlen);
/* Removes a directory tree (rm -rf).  Returns 0 or -1. */
int		harness_rmtree(const char *path);

/*
 * Prepares `d` to run `prog` with state under root/name.  Does not start
 * it.  port 0: pick a free one.
 */
void		harness_init(struct dproc *d, const char *prog,
		    rpcprog_t rpcprog, const char *root, const char *name);
/* Starts `d` (again, after a stop or kill) and waits until it is ready.
 * Returns 0, or -1 (log dumped) when it exited or never answered. */
int		harness_start(struct dproc *d);
/* SIGTERM and wait.  Returns the exit status (0 = clean), 128+signal if
 * killed, or -1 if it was not running. */
int		harness_stop(struct dproc *d);
/* SIGKILL and wait.  Returns 0 or -1. */
int		harness_kill9(struct dproc *d);
/* Prints the daemon's log to stderr. */
void		harness_dump_log(const struct dproc *d);

/*
 * A cluster: dfs-named, dfs-lockd and `nfiled` dfs-filed, all with -N,
 * started in that order, and ready once the name server lists every
 * server as live.  File server i declares subtree prefixes[i] (-x) when
 * prefixes and prefixes[i] are not NULL.  Returns 0 or -1 (logs dumped,
 * what started is stopped).
 */
int		cluster_start_with(struct cluster *c, int nfiled,
		    const char *const *prefixes);
int		cluster_start(struct cluster *c, int nfiled);
/* Stops everything still running; returns 0 when every daemon exited
 * cleanly with status 0.  Removes the root unless DFS_KEEP is set. */
int		cluster_stop(struct cluster *c);
void		cluster_dump_logs(const struct cluster *c);
/* SERVERS at the name server: the list in *res (free it with
 * xdr_free(xdr_name_compound_res) whatever the outcome), or NULL. */
const servers_res	*harness_servers(const struct dproc *named,
			    name_compound_res *res);
/* The number of servers the name server lists as live, or -1. */
int		cluster_live(struct cluster *c);
/* Waits until the name server lists `n` live servers.  Returns 0/-1. */
int		cluster_wait_servers(struct cluster *c, int n);

/* A client connection to a daemon of the cluster (NULL on failure). */
CLIENT		*harness_clnt(const struct dproc *d);
/* The file server d's counter of op `name` (FOP_STATS): calls and bytes
 * (either may be NULL).  Returns 0 or -1. */
int		harness_filed_counter(struct dproc *d, const char *name,
		    uint64_t *calls, uint64_t *bytes);

/* --- Calls the suites share --- */

/* LOCK of one path over RPC (lease_ms 0: the server's default).
 * Returns the status, DFS_ERR_RPC when no reply came; *id if granted. */
dfs_stat	harness_lock(CLIENT *lc, const char *path, dfs_lockmode mode,
		    unsigned int lease_ms, dfs_lockid *id);
/* TEST(path, id, mode) over RPC.  Returns the status or DFS_ERR_RPC. */
dfs_stat	harness_locktest(CLIENT *lc, const char *path,
		    const dfs_lockid *id, dfs_lockmode mode);
/* Writes `s` to path through libdfs under lk (NULL: its own lock).
 * Returns the first failing status of open, write, close, or 0. */
int		harness_put(struct dfs *d, const char *path,
		    const struct dfs_lock *lk, const char *s);
/* Reads all of path into buf, NUL-terminated.  Returns 0 or a status. */
int		harness_get(struct dfs *d, const char *path, char *buf,
		    size_t cap);

#endif
