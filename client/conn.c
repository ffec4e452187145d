/*
 * conn.c -- connections to the name, lock and file servers.
 *
 * A client knows only the name server's address.  The lock server and
 * the file servers are looked up through it (OP_SERVERS, or the server
 * lists in CREATE and LOCATE replies) when first needed.  Every call has
 * the connection's timeout; a call that failed in transport drops its
 * connection, and an idempotent one is retried on a new connection up to
 * `retries` times, so a restarted server is simply found again.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "rpcc.h"

void
conn_detail(struct dfs *dfs, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(dfs->detail, sizeof(dfs->detail), fmt, ap);
	va_end(ap);
}

static CLIENT *
open_clnt(struct dfs *dfs, const char *host, unsigned int port,
    rpcprog_t prog, unsigned int bufsz)
{
	char	 err[256];
	CLIENT	*c;
	int	 fd;

	c = rpcc_connect(host, port, prog, 1, dfs->timeout_ms, bufsz, err,
	    sizeof(err));
	if (c == NULL)
		conn_detail(dfs, "%s", err);
	/* a program that runs commands (dfs-lock) must not hand them our
	 * sockets */
	else if (clnt_control(c, CLGET_FD, (char *)&fd) && fd >= 0)
		(void)fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	return c;
}

static void
drop(CLIENT **c)
{
	if (*c != NULL)
		clnt_destroy(*c);
	*c = NULL;
}

/*
 * The shared retry loop: `send` performs one call on *cp (connecting
 * first through `reconnect` when *cp is NULL).  Returns the call's
 * transport result mapped to 0 or a negative status.
 */
static int
call_retry(struct dfs *dfs, CLIENT **cp, int idempotent,
    int (*reconnect)(struct dfs *, void *), void *rarg,
    enum clnt_stat (*send)(CLIENT *, void *, void *), void *req, void *res,
    xdrproc_t xres)
{
	enum clnt_stat	st;
	int		attempt, tries = idempotent ? 1 + dfs->retries : 1;
	int		rc = -DFS_ERR_RPC;

	for (attempt = 0; attempt < tries; attempt++) {
		/* a connection the server closed (idle) is not called on */
		if (*cp != NULL && rpcc_closed(*cp))
			drop(cp);
		if (*cp == NULL && (rc = reconnect(dfs, rarg)) != 0)
			continue;
		st = send(*cp, req, res);
		if (st == RPC_SUCCESS)
			return 0;
		rc = rpcc_error(st);
		conn_detail(dfs, "%s", clnt_sperrno(st));
		drop(cp);
		xdr_free(xres, res);
		if (rc == -DFS_ERR_PROTO)
			break;
	}
	return rc;
}

static int
reconnect_named(struct dfs *dfs, void *arg)
{
	(void)arg;
	dfs->named = open_clnt(dfs, dfs->host, dfs->port, DFS_NAME_PROG, 0);
	return dfs->named != NULL ? 0 : -DFS_ERR_RPC;
}

static enum clnt_stat
send_name(CLIENT *c, void *req, void *res)
{
	return name_call(c, req, res);
}

/*
 * The name server answers DELAY when it cannot ask the lock server now
 * (down, or not answering: its breaker is open) and changed nothing;
 * the COMPOUND is sent again after 10, 20, 40... ms, for at most
 * CONN_DELAY_MS in all, then DELAY is the caller's.
 */
#define CONN_DELAY_MS		5000
#define CONN_DELAY_STEP_MAX	250

int
conn_name(struct dfs *dfs, struct nreq *r, name_compound_res *res,
    int idempotent)
{
	struct timespec	ts;
	unsigned int	step = 10, waited = 0;
	int		rc;

	for (;;) {
		rc = call_retry(dfs, &dfs->named, idempotent, reconnect_named,
		    NULL, send_name, r, res, (xdrproc_t)xdr_name_compound_res);
		if (rc != 0 || res->status != DFS_ERR_DELAY ||
		    waited >= CONN_DELAY_MS)
			return rc != 0 ? rc : -(int)res->status;
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)res);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		waited += step;
		step = step * 2 > CONN_DELAY_STEP_MAX ? CONN_DELAY_STEP_MAX :
		    step * 2;
	}
}

/* Asks the name server for the live lock server and connects to it. */
static int
reconnect_lockd(struct dfs *dfs, void *arg)
{
	struct nreq		 r = { .n = 0 };
	name_compound_res	 res;
	const dfs_server	*s = NULL;
	u_int			 i, n;
	int			 rc;

	(void)arg;
	nreq_add(&r, OP_SERVERS);
	rc = conn_name(dfs, &r, &res, 1);
	if (rc == 0) {
		n = res.res.res_val[0].name_resop_u.servers.servers_res_u.
		    servers.servers_len;
		for (i = 0; i < n && s == NULL; i++) {
			s = &res.res.res_val[0].name_resop_u.servers.
			    servers_res_u.servers.servers_val[i];
			if (s->kind != DFS_SRV_LOCK || !s->live)
				s = NULL;
		}
		rc = -DFS_ERR_NOSERVER;
		if (s != NULL) {
			dfs->lockd = open_clnt(dfs, s->host, s->port,
			    DFS_LOCK_PROG, 0);
			rc = dfs->lockd != NULL ? 0 : -DFS_ERR_RPC;
		}
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

static enum clnt_stat
send_lock(CLIENT *c, void *req, void *res)
{
	return lock_call(c, req, res);
}

int
conn_lock(struct dfs *dfs, struct lreq *r, lock_compound_res *res,
    int idempotent)
{
	int	rc;

	memset(res, 0, sizeof(*res));
	rc = call_retry(dfs, &dfs->lockd, idempotent, reconnect_lockd, NULL,
	    send_lock, r, res, (xdrproc_t)xdr_lock_compound_res);
	return rc != 0 ? rc : -(int)res->status;
}

/* A lock request with the timeout its call needs. */
struct timed_lreq {
	struct lreq	*r;
	unsigned int	 timeout_ms;	/* of this call */
	unsigned int	 restore_ms;	/* the connection's */
};

static struct timeval
ms_tv(unsigned int ms)
{
	struct timeval	tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
			    1000 };

	return tv;
}

/* clnt_vc takes the timeout from CLSET_TIMEOUT, not from clnt_call's
 * argument, once it was set (rpcc.c sets it), hence the swap. */
static enum clnt_stat
send_lock_timed(CLIENT *c, void *req, void *res)
{
	struct timed_lreq	*t = req;
	struct timeval		 tv = ms_tv(t->timeout_ms);
	enum clnt_stat		 st;

	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	st = lock_call(c, t->r, res);
	tv = ms_tv(t->restore_ms);
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	return st;
}

int
conn_lock_wait(struct dfs *dfs, struct lreq *r, lock_compound_res *res,
    unsigned int wait_ms)
{
	struct timed_lreq	t = { r, dfs->timeout_ms + wait_ms,
				    dfs->timeout_ms };
	int			rc;

	memset(res, 0, sizeof(*res));
	rc = call_retry(dfs, &dfs->lockd, 0, reconnect_lockd, NULL,
	    send_lock_timed, &t, res, (xdrproc_t)xdr_lock_compound_res);
	return rc != 0 ? rc : -(int)res->status;
}

/* Returns the slot for a file server, taking one (LRU-free: the oldest
 * index) when it is not known yet. */
static struct fsconn *
fs_slot(struct dfs *dfs, const dfs_server *srv)
{
	struct fsconn	*fc;
	int		 i;

	for (i = 0; i < dfs->nfs; i++) {
		fc = &dfs->fs[i];
		if (fc->id == srv->id && fc->port == srv->port &&
		    strcmp(fc->host, srv->host) == 0)
			return fc;
	}
	if (dfs->nfs < DFS_MAXFSCONN)
		fc = &dfs->fs[dfs->nfs++];
	else {
		fc = &dfs->fs[0];
		drop(&fc->clnt);
	}
	fc->id = srv->id;
	fc->port = srv->port;
	snprintf(fc->host, sizeof(fc->host), "%s", srv->host);
	return fc;
}

static int
reconnect_filed(struct dfs *dfs, void *arg)
{
	struct fsconn	*fc = arg;

	fc->clnt = open_clnt(dfs, fc->host, fc->port, DFS_FILE_PROG,
	    DFS_CHUNK + 65536);
	return fc->clnt != NULL ? 0 : -DFS_ERR_RPC;
}

static enum clnt_stat
send_file(CLIENT *c, void *req, void *res)
{
	return file_call(c, req, res);
}

int
conn_file(struct dfs *dfs, const dfs_server *srv, struct freq *r,
    file_compound_res *res, int idempotent)
{
	struct fsconn	*fc = fs_slot(dfs, srv);
	int		 rc;

	memset(res, 0, sizeof(*res));
	rc = call_retry(dfs, &fc->clnt, idempotent, reconnect_filed, fc,
	    send_file, r, res, (xdrproc_t)xdr_file_compound_res);
	return rc != 0 ? rc : -(int)res->status;
}

CLIENT *
conn_file_take(struct dfs *dfs, const dfs_server *srv)
{
	struct fsconn	*fc = fs_slot(dfs, srv);
	CLIENT		*c;

	if (fc->clnt == NULL && reconnect_filed(dfs, fc) != 0)
		return NULL;
	c = fc->clnt;
	fc->clnt = NULL;
	return c;
}

void
conn_file_give(struct dfs *dfs, const dfs_server *srv, CLIENT *c)
{
	struct fsconn	*fc = fs_slot(dfs, srv);

	if (fc->clnt == NULL)
		fc->clnt = c;
	else
		clnt_destroy(c);	/* another was made meanwhile */
}

const dfs_server *
conn_pick(const dfs_server *srvs, u_int n)
{
	u_int	i;

	for (i = 0; i < n; i++)
		if (srvs[i].live)
			return &srvs[i];
	return NULL;
}

static int
ping(struct dfs *dfs)
{
	struct timeval	tv = { 25, 0 };
	enum clnt_stat	st;

	st = clnt_call(dfs->named, NAME_NULL, XDR_VOID, NULL, XDR_VOID, NULL,
	    tv);
	if (st != RPC_SUCCESS)
		conn_detail(dfs, "%s", clnt_sperrno(st));
	return st == RPC_SUCCESS ? 0 : rpcc_error(st);
}

/* Sets up the cache: dir and size from dfs_opts, else dfs.conf, else
 * $XDG_CACHE_HOME/dfs (~/.cache/dfs) and 1 GiB. */
static void
setup_cache(struct dfs *dfs, const struct dfs_opts *o)
{
	char		 buf[PATH_MAX];
	const char	*dir = o->cache_dir, *xdg, *home;
	uint64_t	 size = o->cache_size;

	if (o->no_cache) {
		cache_init(&dfs->cache, NULL, 0);
		return;
	}
	if (size == 0)
		size = dfs->conf_cache_size;
	if (size == 0)
		size = DFS_DEFAULT_CACHE_SIZE;
	if (dir == NULL && dfs->conf_cache_dir[0] != '\0')
		dir = dfs->conf_cache_dir;
	xdg = getenv("XDG_CACHE_HOME");
	home = getenv("HOME");
	if (dir == NULL && xdg != NULL && xdg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/dfs", xdg);
		dir = buf;
	} else if (dir == NULL && home != NULL && home[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/.cache/dfs", home);
		dir = buf;
	}
	if (dir != NULL)
		cache_init(&dfs->cache, dir, size);
	else {
		cache_init(&dfs->cache, NULL, 0);
		cache_disable(&dfs->cache, "no cache directory (neither "
		    "XDG_CACHE_HOME nor HOME is set)");
	}
}

/* Settings by precedence: dfs_opts, then the environment, then dfs.conf,
 * then the defaults.  Returns 0 or -DFS_ERR_INVAL. */
static int
apply_opts(struct dfs *dfs, const struct dfs_opts *o)
{
	const char	*server = o->server, *tmp = o->tmpdir;
	int		 rc;

	dfs->timeout_ms = DFS_DEFAULT_TIMEOUT_MS;
	dfs->retries = 2;
	dfs->max_size = DFS_DEFAULT_MAX_SIZE;
	dfs->streams = DFS_DEFAULT_STREAMS;
	dfs->stream_span = DFS_DEFAULT_STREAM_SPAN;
	if ((rc = config_load(dfs)) != 0)
		return rc;
	if (server == NULL)
		server = getenv("DFS_SERVER");
	if (server != NULL && rpcc_parse(server, dfs->host, sizeof(dfs->host),
	    &dfs->port) != 0)
		return -DFS_ERR_INVAL;
	if (dfs->host[0] == '\0')
		return -DFS_ERR_INVAL;
	if (o->timeout_ms)
		dfs->timeout_ms = o->timeout_ms;
	if (o->retries >= 0)
		dfs->retries = o->retries;
	if (o->max_size)
		dfs->max_size = o->max_size;
	if (o->streams > 0)
		dfs->streams = o->streams < XFER_MAXSTREAMS ? o->streams :
		    XFER_MAXSTREAMS;
	dfs->lease_ms = o->lease_ms;
	if (tmp == NULL)
		tmp = getenv("TMPDIR");
	if (tmp != NULL || dfs->tmpdir[0] == '\0')
		snprintf(dfs->tmpdir, sizeof(dfs->tmpdir), "%s",
		    tmp ? tmp : "/tmp");
	setup_cache(dfs, o);
	return 0;
}

int
dfs_connect(struct dfs **dfsp, const struct dfs_opts *opts)
{
	static const struct dfs_opts	 defaults = DFS_OPTS_INIT;
	struct dfs			*dfs;
	const char			*locks;
	int				 rc;

	dfs = calloc(1, sizeof(*dfs));
	if (dfs == NULL)
		return -DFS_ERR_NOMEM;
	rc = apply_opts(dfs, opts != NULL ? opts : &defaults);
	/* a malformed $DFS_LOCKS only means no lock to use */
	if (rc == 0 && (locks = getenv("DFS_LOCKS")) != NULL)
		(void)lock_parse(locks, &dfs->envlock);
	if (rc == 0)
		rc = reconnect_named(dfs, NULL);
	if (rc == 0)
		rc = ping(dfs);
	if (rc != 0) {
		dfs_disconnect(dfs);
		return rc;
	}
	*dfsp = dfs;
	return 0;
}

void
dfs_disconnect(struct dfs *dfs)
{
	int	i;

	if (dfs == NULL)
		return;
	drop(&dfs->named);
	drop(&dfs->lockd);
	for (i = 0; i < dfs->nfs; i++)
		drop(&dfs->fs[i].clnt);
	lock_detach_all(dfs);
	lock_free(dfs->envlock);
	free(dfs);
}

const char *
dfs_errdetail(const struct dfs *dfs)
{
	return dfs->detail;
}
