/*
 * locks.c -- lock enforcement: asking the lock server before a mutation.
 *
 * The name server holds no lock state; dfs-lockd does.  Before CREATE
 * (when it creates), MKDIR, SETATTR, REMOVE and RENAME change anything,
 * the handler asks the registered lock server TEST(absolute path, the
 * COMPOUND's PUTLOCK id or all zero, EXCL), as a file server does before
 * a COMMIT, and LOCKED, EXPIRED or BADLOCK become the op's result.  With
 * no lock server registered nothing is checked; with one registered that
 * does not answer, the op is DELAY, never silently unchecked: a lock
 * server restarting after kill -9 is exactly when fencing matters.
 *
 * Locks are on exact paths, but removing or moving a directory changes
 * the path of everything below it: a lock on /d/n would be bypassed by
 * renaming /d, changing the file, and renaming /d back.  So REMOVE of a
 * directory and RENAME of one ask TESTTREE instead, TEST of the path
 * and of every locked path below it (NFSv4 refuses such a rename too).
 *
 * dfs-named is a single-threaded loop, so a TEST stalls every other
 * client while it runs, reads included.  A lock server that accepts
 * connections and never answers (hung, or hostile) must not make every
 * mutation stall the loop, so two bounds apply.  Each call waits at most
 * NAMED_LOCKD_TIMEOUT_MS to connect and as long for the answer, which a
 * healthy lock server, answering from memory, gives in well under a
 * millisecond.  And a call that failed slowly (a timeout, not a refused
 * connection) opens a circuit breaker: for NAMED_LOCKD_BREAK_MS every
 * check is DELAY at once without a call, then one check tries again.
 * An unresponsive lock server so costs the loop at most one short
 * timeout per breaker period; mutations fail fast with DELAY, which
 * libdfs retries with a short backoff, and reads are never asked about.
 * (Sending the TEST without waiting, and answering the COMPOUND later,
 * would cost no stall at all, but needs a COMPOUND that can be parked
 * and resumed; group.c holds replies, not evaluations.)  Checks are made
 * only for mutations that passed their own checks (NOENT, EXIST,
 * NOTEMPTY... cost no RPC).  It cannot deadlock: the lock server's
 * registrar (its REGISTER heartbeats to us) runs in a thread of its own,
 * so dfs-lockd never waits on us while we wait on it.
 *
 * A COMPOUND that makes many files at once (dfs_put(): CREATEs after
 * walks, or a file server's batch of COMMITs) would stall the loop for
 * one TEST per file.  Before it runs, locks_ahead() works out the paths
 * of its CREATEs and COMMITs from the walks before them and asks all
 * their TESTs in one lock COMPOUND; each check then takes its answer
 * from there (the same answer a TEST of its own would have got a few
 * microseconds later).  The lock server stops at the first refusal, and
 * the TESTs it did not answer are sent when their ops run.  Such a batch
 * is asked even when one of its ops will fail its own checks: one call
 * for many files is cheap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "log.h"
#include "named.h"
#include "status.h"
#include "svcloop.h"

/*
 * Returns the lock server to ask, or NULL when none is registered.
 * There is at most one (a registration replaces any other), and it is
 * asked even when its heartbeats are late: skipping the check then would
 * drop enforcement exactly while the lock server restarts.
 */
static const struct srv *
locks_server(const struct named_ctx *nc)
{
	unsigned int	i;

	for (i = 0; i < nc->nsrvs; i++)
		if (nc->srvs[i]->kind == DFS_SRV_LOCK)
			return nc->srvs[i];
	return NULL;
}

/* Points nc->lockd at `s`, dropping a connection to an older address
 * and the breaker the older one opened. */
static void
locks_repoint(struct named_ctx *nc, const struct srv *s)
{
	if (strcmp(nc->lockd.host, s->host) == 0 && nc->lockd.port == s->port)
		return;
	peer_close(&nc->lockd);
	peer_init_addr(&nc->lockd, s->host, s->port, DFS_LOCK_PROG,
	    DFS_LOCK_VERS, NAMED_LOCKD_TIMEOUT_MS);
	nc->lockd_shut_ms = 0;
	nc->lockd_mute = 0;
}

/*
 * Opens the breaker when a failed call took long enough to have stalled
 * the loop (a timeout): a refused connection costs nothing, and a lock
 * server restarting answers again without waiting for the breaker.
 */
static void
locks_trip(struct named_ctx *nc, unsigned long long start)
{
	unsigned long long	now = now_ms();

	if (now - start < NAMED_LOCKD_TIMEOUT_MS / 2)
		return;
	nc->lockd_shut_ms = now + NAMED_LOCKD_BREAK_MS;
	/* once per outage, not once per breaker period */
	if (!nc->lockd_mute)
		log_warnx("lock server %s port %u does not answer: changes "
		    "are DELAY, asking again every %u ms", nc->lockd.host,
		    nc->lockd.port, NAMED_LOCKD_BREAK_MS);
	nc->lockd_mute = 1;
}

/*
 * Sends `n` TESTs in one COMPOUND and leaves the answer in *res (free it
 * with xdr_free).  A cached connection that fails fast (the lock server
 * restarted) is retried once on a new one; a timeout is not, so one
 * check stalls the loop for at most about two short timeouts (connect
 * and call), and then opens the breaker.  Returns 0, -DFS_ERR_DELAY
 * while the breaker is open (no call made), or the transport error from
 * peer_lock(), logged.
 */
static int
locks_call(struct named_ctx *nc, lock_argop *ops, u_int n,
    lock_compound_res *res)
{
	lock_compound_args	args;
	unsigned long long	start = now_ms();
	int			cached, rc;

	if (start < nc->lockd_shut_ms)
		return -DFS_ERR_DELAY;
	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	do {
		cached = nc->lockd.clnt != NULL;
		memset(res, 0, sizeof(*res));
		rc = peer_lock(&nc->lockd, &args, res, 0);
	} while (rc == -DFS_ERR_RPC && cached);
	if (rc != 0 && !nc->lockd_mute)
		log_warnx("lock server %s port %u: %s%s%s", nc->lockd.host,
		    nc->lockd.port, dfs_strerror(rc),
		    nc->lockd.err[0] ? ": " : "", nc->lockd.err);
	if (rc != 0)
		locks_trip(nc, start);
	else if (nc->lockd_mute) {
		log_info("lock server %s port %u answers again",
		    nc->lockd.host, nc->lockd.port);
		nc->lockd_mute = 0;
	}
	return rc;
}

/* A TEST, or with `tree` a TESTTREE, of `path` (len bytes, not copied)
 * under `id`. */
static void
test_op(lock_argop *op, const char *path, size_t len, const dfs_lockid *id,
    int tree)
{
	test_args	*t = tree ? &op->lock_argop_u.testtree :
			    &op->lock_argop_u.test;

	memset(op, 0, sizeof(*op));
	op->op = tree ? LOP_TESTTREE : LOP_TEST;
	t->path.dfs_path_val = (char *)path;
	t->path.dfs_path_len = (u_int)len;
	t->id = *id;
	t->mode = DFS_LOCK_EXCL;
}

/* --- asking ahead ---------------------------------------------------- */

/*
 * The answers to the TESTs locks_ahead() sent for a COMPOUND: path, id
 * and the lock server's status, for those it answered.
 */
struct lockahead {
	u_int		 n;
	char		*path[DFS_MAXOPS];
	size_t		 len[DFS_MAXOPS];
	dfs_lockid	 id[DFS_MAXOPS];
	dfs_stat	 st[DFS_MAXOPS];
};

/* Looks `path` under the COMPOUND's lock up among the answers asked
 * ahead.  Returns 1 and *st when it is there, else 0. */
static int
ahead_find(const struct op_ctx *oc, const char *path, size_t len,
    dfs_stat *st)
{
	const struct lockahead	*a = oc->ahead;
	u_int			 i;

	for (i = 0; a != NULL && i < a->n; i++)
		if (a->len[i] == len && memcmp(a->path[i], path, len) == 0 &&
		    memcmp(&a->id[i], &oc->lock, sizeof(oc->lock)) == 0) {
			*st = a->st[i];
			return 1;
		}
	return 0;
}

/* The path the walk of locks_ahead() is at: "" for the root. */
struct walk {
	char	cur[DFS_MAXPATHLEN + 1];
	char	saved[DFS_MAXPATHLEN + 1];
};

/* Appends "/" and `len` bytes of `s` to w->cur.  Returns 0 or -1 (too
 * long). */
static int
walk_down(struct walk *w, const char *s, size_t len)
{
	size_t	cl = strlen(w->cur);

	if (cl + 1 + len > DFS_MAXPATHLEN)
		return -1;
	w->cur[cl] = '/';
	memcpy(w->cur + cl + 1, s, len);
	w->cur[cl + 1 + len] = '\0';
	return 0;
}

/* Sets w->cur to the path of handle `fh`.  Returns 0 or -1. */
static int
walk_fh(struct op_ctx *oc, struct walk *w, const dfs_fh *fh)
{
	struct fh	 h;
	struct inode	 ino;
	char		*p;
	size_t		 len;

	if (fh_decode(fh->dfs_fh_val, fh->dfs_fh_len, oc->nc->instance,
	    oc->nc->secret, &h) != 0 || inode_get(oc->nc, h.fileid, &ino) != 0 ||
	    inode_path(oc->nc, &ino, &p, &len) != 0)
		return -1;
	snprintf(w->cur, sizeof(w->cur), "%s", len == 1 ? "" : p);
	free(p);
	return 0;
}

/* Records a TEST of w->cur (the root: "/") under `id`.  Returns 0 or -1
 * (no memory, or no room). */
static int
ahead_add(struct lockahead *a, const struct walk *w, const dfs_lockid *id)
{
	const char	*p = w->cur[0] != '\0' ? w->cur : "/";

	if (a->n == DFS_MAXOPS || (a->path[a->n] = strdup(p)) == NULL)
		return -1;
	a->len[a->n] = strlen(p);
	a->id[a->n] = *id;
	a->n++;
	return 0;
}

/*
 * Works out, without running them, the paths that the CREATEs and
 * COMMITs of `ops` will ask the lock server about, as far as the ops
 * before them are walks (PUTROOTFH, PUTFH, LOOKUP, SAVEFH, RESTOREFH),
 * PUTLOCK or reads of the current object.  Returns how many it found.
 */
static u_int
ahead_walk(struct op_ctx *oc, struct lockahead *a, const name_argop *ops,
    u_int nops)
{
	struct walk	*w;
	dfs_lockid	 id = oc->lock;
	const dfs_path	*lp;
	u_int		 i;
	int		 ok = 1;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 0;
	for (i = 0; i < nops && ok; i++)
		switch (ops[i].op) {
		case OP_PUTROOTFH:
			w->cur[0] = '\0';
			break;
		case OP_PUTFH:
			ok = walk_fh(oc, w, &ops[i].name_argop_u.putfh) == 0;
			break;
		case OP_LOOKUP:
			lp = &ops[i].name_argop_u.lookup;
			ok = walk_down(w, lp->dfs_path_val, lp->dfs_path_len) == 0;
			break;
		case OP_SAVEFH:
			memcpy(w->saved, w->cur, sizeof(w->saved));
			break;
		case OP_RESTOREFH:
			memcpy(w->cur, w->saved, sizeof(w->cur));
			break;
		case OP_PUTLOCK:
			id = ops[i].name_argop_u.putlock;
			break;
		case OP_CREATE:
			ok = walk_down(w, ops[i].name_argop_u.create.name.
			    dfs_name_val, ops[i].name_argop_u.create.name.
			    dfs_name_len) == 0 && ahead_add(a, w, &id) == 0;
			break;
		case OP_COMMIT:
			ok = ahead_add(a, w, &id) == 0;
			break;
		case OP_GETFH:
		case OP_GETATTR:
		case OP_LOCATE:
			break;
		default:
			ok = 0;
		}
	free(w);
	return a->n;
}

void
locks_ahead(struct op_ctx *oc, const name_argop *ops, u_int nops)
{
	struct named_ctx	*nc = oc->nc;
	const struct srv	*s = locks_server(nc);
	struct lockahead	*a;
	lock_argop		 tops[DFS_MAXOPS];
	lock_compound_res	 res;
	u_int			 i, n;

	/* one mutation gains nothing: its own TEST is one call too */
	for (i = 0, n = 0; i < nops && n < 2; i++)
		n += ops[i].op == OP_CREATE || ops[i].op == OP_COMMIT;
	if (s == NULL || n < 2 || (a = calloc(1, sizeof(*a))) == NULL)
		return;
	oc->ahead = a;
	if (ahead_walk(oc, a, ops, nops) < 2) {
		a->n = 0;
		return;
	}
	locks_repoint(nc, s);
	for (i = 0; i < a->n; i++)
		test_op(&tops[i], a->path[i], a->len[i], &a->id[i], 0);
	if (locks_call(nc, tops, a->n, &res) != 0) {
		a->n = 0;
		return;
	}
	/* the lock server stops at the first refusal: the TESTs after it
	 * go unanswered and are sent again when their op runs */
	for (i = 0; i < res.res.res_len && i < a->n; i++)
		a->st[i] = res.res.res_val[i].lock_resop_u.test.status;
	a->n = i;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
}

void
locks_ahead_free(struct op_ctx *oc)
{
	struct lockahead	*a = oc->ahead;
	u_int			 i;

	if (a == NULL)
		return;
	for (i = 0; i < DFS_MAXOPS && a->path[i] != NULL; i++)
		free(a->path[i]);
	free(a);
	oc->ahead = NULL;
}

/*
 * Asks the lock server one TEST (or with `tree`, one TESTTREE) of `path`
 * under the COMPOUND's lock.  Returns 0 and its answer in *st, or
 * -DFS_ERR_DELAY when no answer came.
 */
static int
locks_ask(struct op_ctx *oc, const struct srv *s, const char *path,
    size_t len, int tree, dfs_stat *st)
{
	struct named_ctx	*nc = oc->nc;
	lock_argop		 op;
	lock_compound_res	 res;
	const lock_resop	*r;

	locks_repoint(nc, s);
	test_op(&op, path, len, &oc->lock, tree);
	if (locks_call(nc, &op, 1, &res) != 0)
		return -DFS_ERR_DELAY;
	r = res.res.res_len == 1 ? &res.res.res_val[0] : NULL;
	if (r == NULL)
		*st = res.status;
	else
		*st = tree ? r->lock_resop_u.testtree.status :
		    r->lock_resop_u.test.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return 0;
}

/* locks_check() and locks_check_tree(). */
static int
locks_check_how(struct op_ctx *oc, const char *path, size_t len, int tree)
{
	const struct srv	*s = locks_server(oc->nc);
	dfs_stat		 st = DFS_OK;
	int			 rc;

	if (s == NULL)
		return 0;
	if (tree || !ahead_find(oc, path, len, &st)) {
		rc = locks_ask(oc, s, path, len, tree, &st);
		if (rc != 0)
			return rc;
	}
	switch (st) {
	case DFS_OK:
		return 0;
	case DFS_ERR_LOCKED:
	case DFS_ERR_EXPIRED:
	case DFS_ERR_BADLOCK:
		log_debug("lock server refused '%.*s': %s", (int)len, path,
		    dfs_statname(st));
		return -(int)st;
	case DFS_ERR_STANDBY:
	case DFS_ERR_DELAY:
		/* a lock server taking over, or busy: the client retries */
		log_debug("lock server answered %s", dfs_statname(st));
		return -DFS_ERR_DELAY;
	default:
		log_warnx("lock server TEST%s of '%.*s': unexpected %s",
		    tree ? "TREE" : "", (int)len, path, dfs_statname(st));
		return -DFS_ERR_SERVERFAULT;
	}
}

/*
 * May the COMPOUND's lock holder change absolute `path` (len bytes)?
 * Returns 0 (yes, or no lock server is registered), -DFS_ERR_LOCKED,
 * -DFS_ERR_EXPIRED (the PUTLOCK id was taken over), -DFS_ERR_BADLOCK
 * (unknown id, path free), -DFS_ERR_DELAY (the lock server did not
 * answer) or -DFS_ERR_SERVERFAULT (it answered something else, logged).
 */
int
locks_check(struct op_ctx *oc, const char *path, size_t len)
{
	return locks_check_how(oc, path, len, 0);
}

/*
 * May the COMPOUND's lock holder change absolute `path` and everything
 * below it (a directory that is renamed or removed)?  Locks are on
 * exact paths, so a lock on /d/n must stop a rename of /d, or /d/n could
 * be changed under another name and moved back.  Same returns as
 * locks_check(); LOCKED when any path at or below is locked by another.
 */
int
locks_check_tree(struct op_ctx *oc, const char *path, size_t len)
{
	return locks_check_how(oc, path, len, 1);
}

/*
 * locks_check() of `dir`/`name`; builds the path only when a lock server
 * is registered.  Returns locks_check()'s codes, or -DFS_ERR_NAMETOOLONG,
 * -DFS_ERR_NOMEM, -DFS_ERR_IO from building the path.
 */
int
locks_check_child(struct op_ctx *oc, const struct inode *dir,
    const char *name, size_t len)
{
	return locks_check_entry(oc, dir, name, len, 0);
}

/*
 * locks_check_child(), or with `tree` locks_check_tree(), of `dir`/`name`.
 * Same returns.
 */
int
locks_check_entry(struct op_ctx *oc, const struct inode *dir,
    const char *name, size_t len, int tree)
{
	char	*path;
	size_t	 plen;
	int	 rc;

	if (locks_server(oc->nc) == NULL)
		return 0;
	rc = inode_child_path(oc->nc, dir, name, len, &path, &plen);
	if (rc != 0)
		return rc;
	rc = locks_check_how(oc, path, plen, tree);
	free(path);
	return rc;
}

/* locks_check() of object `ino`'s path.  Same returns. */
int
locks_check_inode(struct op_ctx *oc, const struct inode *ino)
{
	char	*path;
	size_t	 plen;
	int	 rc;

	if (locks_server(oc->nc) == NULL)
		return 0;
	rc = inode_path(oc->nc, ino, &path, &plen);
	if (rc != 0)
		return rc;
	rc = locks_check(oc, path, plen);
	free(path);
	return rc;
}

/*
 * Opcode: PUTLOCK id
 * Changes the lock id the COMPOUND's later mutations are checked under
 * (all zero: none).  Reads nothing and checks nothing here: a bad id is
 * found by the lock server when a mutation is tested.  Returns OK.
 */
dfs_stat
op_putlock(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)res;
	oc->lock = arg->name_argop_u.putlock;
	return DFS_OK;
}
