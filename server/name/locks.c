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
 * dfs-named is a single-threaded loop: a TEST it waited for would stall
 * every other client, reads included, and a lock server that accepts
 * connections and never answers (hung, or hostile) would stall it on
 * every mutation.  So the TESTs are asked without waiting.  Before a
 * COMPOUND served through svcx runs, locks_ahead() works out, from the
 * walks before them, the paths of all its mutations and sends their
 * TESTs in one lock COMPOUND on a non-blocking connection (lib/acall.h);
 * the COMPOUND is parked (svcx_park(): its connection's later requests
 * wait behind it, everyone else's are served) and runs when the answer
 * comes, each check taking its answer from there.  An answer that does
 * not come within NAMED_LOCKD_ASYNC_MS makes those checks DELAY, and
 * opens a circuit breaker: for NAMED_LOCKD_BREAK_MS every check is DELAY
 * at once, without a call, then one COMPOUND tries again.  libdfs
 * retries DELAY with a short backoff.
 *
 * A check the walk could not foresee (a COMPOUND that changes where its
 * current object is in a way the walk does not follow, or one changed
 * by another client's rename while it was parked) asks the lock server
 * there and then, waiting at most NAMED_LOCKD_TIMEOUT_MS to connect and
 * as long for the answer; a timeout opens the breaker too.  So does a
 * direct call (rq NULL: the provisional-file sweep).  Checks are made
 * only for mutations that passed their own checks (NOENT, EXIST,
 * NOTEMPTY... cost no RPC) when they are asked there and then; asked
 * ahead, one call covers them all.  It cannot deadlock: the lock
 * server's registrar (its REGISTER heartbeats to us) runs in a thread of
 * its own, so dfs-lockd never waits on us while we wait on it.
 *
 * The lock server stops at the first refusal; the TESTs after it go
 * unanswered, and their checks ask there and then (the COMPOUND fails at
 * the refused op first unless that op's own checks fail earlier).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acall.h"
#include "fh.h"
#include "log.h"
#include "named.h"
#include "status.h"
#include "svcloop.h"
#include "svcx.h"

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

static void
src_pollfd(void *arg, struct pollfd *p)
{
	acall_pollfd(((struct named_ctx *)arg)->lockd_ac, p);
}

static void
src_run(void *arg, short revents)
{
	acall_run(((struct named_ctx *)arg)->lockd_ac, revents);
}

static int
src_timeout(void *arg)
{
	return acall_timeout(((struct named_ctx *)arg)->lockd_ac);
}

/*
 * Sets up the connection that asks the lock server without waiting, and
 * has the loop (svcloop_run) serve it.  Without it (out of memory, or a
 * test that runs COMPOUNDs directly) every check waits for its answer.
 */
void
locks_init(struct named_ctx *nc)
{
	struct svcloop_src	src = { src_pollfd, src_run, src_timeout, nc };

	/* a lock COMPOUND's reply: DFS_MAXOPS statuses and little more */
	nc->lockd_ac = acall_new(DFS_LOCK_PROG, DFS_LOCK_VERS, 64 * 1024);
	if (nc->lockd_ac == NULL) {
		log_warnx("no memory to ask the lock server without waiting");
		return;
	}
	if (nc->lockd.host[0] != '\0')
		acall_target(nc->lockd_ac, nc->lockd.host, nc->lockd.port);
	svcloop_set_source(&src);
}

/* Ends what locks_init() set up; parked COMPOUNDs are dropped (call it
 * once their connections are closed). */
void
locks_fini(struct named_ctx *nc)
{
	svcloop_set_source(NULL);
	acall_free(nc->lockd_ac);
	nc->lockd_ac = NULL;
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
	if (nc->lockd_ac != NULL)
		acall_target(nc->lockd_ac, s->host, s->port);
	nc->lockd_shut_ms = 0;
	nc->lockd_mute = 0;
}

static void	locks_open_breaker(struct named_ctx *);

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
	locks_open_breaker(nc);
}

/* Opens the breaker now, and logs it once per outage. */
static void
locks_open_breaker(struct named_ctx *nc)
{
	nc->lockd_shut_ms = now_ms() + NAMED_LOCKD_BREAK_MS;
	/* once per outage, not once per breaker period */
	if (!nc->lockd_mute)
		log_warnx("lock server %s port %u does not answer: changes "
		    "are DELAY, asking again every %u ms", nc->lockd.host,
		    nc->lockd.port, NAMED_LOCKD_BREAK_MS);
	nc->lockd_mute = 1;
}

/* The lock server answered: the end of an outage, if one was logged. */
static void
locks_answered(struct named_ctx *nc)
{
	if (!nc->lockd_mute)
		return;
	log_info("lock server %s port %u answers again", nc->lockd.host,
	    nc->lockd.port);
	nc->lockd_mute = 0;
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
	else
		locks_answered(nc);
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

struct lockahead;
static void	oc_free_ahead(struct lockahead *);

/*
 * The answers to the TESTs locks_ahead() sent for a COMPOUND: path, id
 * and the lock server's status, for those it answered.
 */
struct lockahead {
	u_int		 n;		/* answered */
	u_int		 asked;		/* paths below */
	int		 failed;	/* no answer came: checks are DELAY */
	char		*path[DFS_MAXOPS];
	size_t		 len[DFS_MAXOPS];
	dfs_lockid	 id[DFS_MAXOPS];
	unsigned char	 tree[DFS_MAXOPS];	/* TESTTREE, not TEST */
	dfs_stat	 st[DFS_MAXOPS];
};

/*
 * Looks `path` under the COMPOUND's lock up among the answers asked
 * ahead: a TESTTREE answers a TESTTREE, and a TEST when it said OK (all
 * at or below the path is free).  Returns 1 and *st when it is there,
 * else 0.
 */
static int
ahead_find(const struct op_ctx *oc, const char *path, size_t len, int tree,
    dfs_stat *st)
{
	const struct lockahead	*a = oc->ahead;
	u_int			 i;

	for (i = 0; a != NULL && i < a->n; i++)
		if (a->len[i] == len && memcmp(a->path[i], path, len) == 0 &&
		    memcmp(&a->id[i], &oc->lock, sizeof(oc->lock)) == 0 &&
		    (a->tree[i] == tree ||
		    (a->tree[i] && a->st[i] == DFS_OK))) {
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
	if (len > 0)	/* an empty name (INVAL when its op runs) */
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

/* Records a TEST (with `tree`, a TESTTREE) of `cur` (the root: "/")
 * under `id`.  Returns 0 or -1 (no memory, or no room). */
static int
ahead_add(struct lockahead *a, const char *cur, const dfs_lockid *id,
    int tree)
{
	const char	*p = cur[0] != '\0' ? cur : "/";

	if (a->asked == DFS_MAXOPS || (a->path[a->asked] = strdup(p)) == NULL)
		return -1;
	a->len[a->asked] = strlen(p);
	a->id[a->asked] = *id;
	a->tree[a->asked] = (unsigned char)tree;
	a->asked++;
	return 0;
}

/* ahead_add() of `dir`/`name` (len bytes).  Returns 0 or -1. */
static int
ahead_add_child(struct lockahead *a, const char *dir, const char *name,
    size_t len, const dfs_lockid *id, int tree)
{
	struct walk	*w;
	int		 rc = -1;

	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	memcpy(w->cur, dir, strlen(dir) + 1);
	if (walk_down(w, name, len) == 0)
		rc = ahead_add(a, w->cur, id, tree);
	free(w);
	return rc;
}

/*
 * Records the TESTs mutation `op` will ask, from where walk `w` is:
 * CREATE and MKDIR of the new entry (and w moves there, as the op makes
 * it current), SETATTR, COMMIT and TESTLOCK of the current object,
 * REMOVE of the entry and all below it, RENAME of both entries and all
 * below them.  Returns 1, 0 for an op that is not one of these, or -1
 * (a path too long, no memory or no room).
 */
static int
ahead_mutation(struct lockahead *a, struct walk *w, const name_argop *op,
    const dfs_lockid *id)
{
	const dfs_name		*nm;
	const rename_args	*ra;

	switch (op->op) {
	case OP_CREATE:
	case OP_MKDIR:
		nm = op->op == OP_CREATE ? &op->name_argop_u.create.name :
		    &op->name_argop_u.mkdir.name;
		if (walk_down(w, nm->dfs_name_val, nm->dfs_name_len) != 0)
			return -1;
		return ahead_add(a, w->cur, id, 0) == 0 ? 1 : -1;
	case OP_SETATTR:
	case OP_COMMIT:
	case OP_TESTLOCK:
		return ahead_add(a, w->cur, id, 0) == 0 ? 1 : -1;
	case OP_REMOVE:
		nm = &op->name_argop_u.remove;
		return ahead_add_child(a, w->cur, nm->dfs_name_val,
		    nm->dfs_name_len, id, 1) == 0 ? 1 : -1;
	case OP_RENAME:
		ra = &op->name_argop_u.rename;
		return ahead_add_child(a, w->saved, ra->oldname.dfs_name_val,
		    ra->oldname.dfs_name_len, id, 1) == 0 &&
		    ahead_add_child(a, w->cur, ra->newname.dfs_name_val,
		    ra->newname.dfs_name_len, id, 1) == 0 ? 1 : -1;
	default:
		return 0;
	}
}

/*
 * Works out, without running them, the paths the mutations of `ops` will
 * ask the lock server about (ahead_mutation()), as far as the ops before
 * them are walks (PUTROOTFH, PUTFH, LOOKUP, SAVEFH, RESTOREFH), PUTLOCK,
 * reads or those mutations; with `all` 0 only those of CREATEs and
 * COMMITs (a batch of files), stopping at any other mutation.  A CREATE
 * that finds its file there asks nothing when it runs, so its TEST is
 * one asked for nothing.  Returns how many it found.
 */
static u_int
ahead_walk(struct op_ctx *oc, struct lockahead *a, const name_argop *ops,
    u_int nops, int all)
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
			ok = walk_down(w, lp->dfs_path_val,
			    lp->dfs_path_len) == 0;
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
		case OP_GETFH:
		case OP_GETATTR:
		case OP_LOCATE:
		case OP_READDIR:
		case OP_GETPATH:
			break;
		default:
			ok = (all || ops[i].op == OP_CREATE ||
			    ops[i].op == OP_COMMIT) &&
			    ahead_mutation(a, w, &ops[i], &id) == 1;
		}
	free(w);
	return a->asked;
}

/* Fills tops[] with the TESTs of a. */
static void
ahead_ops(const struct lockahead *a, lock_argop *tops)
{
	u_int	i;

	for (i = 0; i < a->asked; i++)
		test_op(&tops[i], a->path[i], a->len[i], &a->id[i],
		    a->tree[i]);
}

/* Takes the answers of the lock server's reply `res` into a: the lock
 * server stops at the first refusal, so the TESTs after it go
 * unanswered, and are asked again when their op runs. */
static void
ahead_answers(struct lockahead *a, const lock_compound_res *res)
{
	const lock_resop	*r;
	u_int			 i;

	for (i = 0; i < res->res.res_len && i < a->asked; i++) {
		r = &res->res.res_val[i];
		a->st[i] = a->tree[i] ? r->lock_resop_u.testtree.status :
		    r->lock_resop_u.test.status;
	}
	a->n = i;
}

/* A COMPOUND parked until the lock server answers its TESTs. */
struct parked {
	struct named_ctx	*nc;
	struct svcx_held	*h;
	struct lockahead	*a;
};

/* acall_done: the lock server's answer to a parked COMPOUND's TESTs, or
 * none; the COMPOUND runs now, with the answers. */
static void
ahead_done(void *arg, int rc, void *res, const char *err)
{
	struct parked		*p = arg;
	struct named_ctx	*nc = p->nc;
	struct lockahead	*a = p->a;

	if (rc == 0) {
		ahead_answers(a, res);
		locks_answered(nc);
	} else {
		a->failed = 1;
		if (!nc->lockd_mute)
			log_warnx("lock server %s port %u: %s%s%s",
			    nc->lockd.host, nc->lockd.port, dfs_strerror(rc),
			    err[0] != '\0' ? ": " : "", err);
		if (rc == -DFS_ERR_TIMEDOUT)
			locks_open_breaker(nc);
	}
	if (!svcx_resume(p->h, a)) {
		p->a = NULL;
		oc_free_ahead(a);
	}
	free(p);
}

/* Can a COMPOUND of request rq be parked while its TESTs are asked?  Not
 * a direct call, nor while the breaker is open. */
static int
ahead_parkable(const struct named_ctx *nc, const struct svc_req *rq)
{
	return rq != NULL && nc->lockd_ac != NULL &&
	    now_ms() >= nc->lockd_shut_ms;
}

/*
 * Sends the TESTs of `a` without waiting and parks the COMPOUND of
 * request `rq` until they are answered.  Returns 1 when it is parked
 * (then `a` belongs to the park), 0 when it cannot be (no svcx request,
 * no connection could be started): then ask there and then.
 */
static int
ahead_park(struct named_ctx *nc, struct svc_req *rq, struct lockahead *a)
{
	lock_argop		 tops[DFS_MAXOPS];
	lock_compound_args	 args;
	struct parked		*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 0;
	ahead_ops(a, tops);
	args.ops.ops_len = a->asked;
	args.ops.ops_val = tops;
	p->nc = nc;
	p->a = a;
	if ((p->h = svcx_park(rq)) == NULL) {
		free(p);
		return 0;
	}
	if (acall_send(nc->lockd_ac, 1, (xdrproc_t)xdr_lock_compound_args,
	    &args, (xdrproc_t)xdr_lock_compound_res, sizeof(lock_compound_res),
	    NAMED_LOCKD_ASYNC_MS, ahead_done, p) != 0) {
		svcx_drop_held(p->h);
		free(p);
		return 0;
	}
	return 1;
}

int
locks_ahead(struct op_ctx *oc, const name_argop *ops, u_int nops)
{
	struct named_ctx	*nc = oc->nc;
	const struct srv	*s;
	struct lockahead	*a;
	lock_argop		 tops[DFS_MAXOPS];
	lock_compound_res	 res;

	if (oc->rq != NULL && (a = svcx_resumed(oc->rq)) != NULL) {
		oc->ahead = a;		/* parked, and now answered */
		return 0;
	}
	if ((s = locks_server(nc)) == NULL || nops > DFS_MAXOPS ||
	    (a = calloc(1, sizeof(*a))) == NULL)
		return 0;
	oc->ahead = a;
	locks_repoint(nc, s);
	if (ahead_parkable(nc, oc->rq)) {
		if (ahead_walk(oc, a, ops, nops, 1) == 0)
			return 0;
		if (ahead_park(nc, oc->rq, a)) {
			oc->ahead = NULL;
			return 1;
		}
	} else if (ahead_walk(oc, a, ops, nops, 0) < 2)
		return 0;	/* asked there and then: one call each */
	ahead_ops(a, tops);
	if (locks_call(nc, tops, a->asked, &res) != 0)
		return 0;
	ahead_answers(a, &res);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return 0;
}

/* Frees answers asked ahead. */
static void
oc_free_ahead(struct lockahead *a)
{
	u_int	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->asked; i++)
		free(a->path[i]);
	free(a);
}

void
locks_ahead_free(struct op_ctx *oc)
{
	oc_free_ahead(oc->ahead);
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
	if (!ahead_find(oc, path, len, tree, &st)) {
		if (oc->ahead != NULL && oc->ahead->failed)
			return -DFS_ERR_DELAY;	/* the breaker is open */
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

/*
 * Opcode: TESTLOCK
 * May the COMPOUND's lock holder (PUTLOCK) change the current object?
 * A file server asks before it stages data for a writer, so that data
 * nobody could commit never fills its disk.  Changes nothing.  Errors:
 * as locks_check(): LOCKED (another holds it), EXPIRED, BADLOCK, DELAY
 * (the lock server did not answer); OK when no lock server is
 * registered.
 */
dfs_stat
op_testlock(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	struct inode	ino;
	int		rc;

	(void)arg;
	(void)res;
	if ((rc = cur_inode(oc, &ino)) != 0 ||
	    (rc = locks_check_inode(oc, &ino)) != 0)
		return (dfs_stat)-rc;
	return DFS_OK;
}
