/*
 * conn.c -- connections to the name, lock and file servers.
 *
 * A client knows only the name server's address.  The lock server and
 * the file servers are looked up through it (OP_SERVERS, or the server
 * lists in CREATE and LOCATE replies) when first needed.  Every call has
 * the connection's timeout; a call that failed in transport drops its
 * connection, and an idempotent one is retried on a new connection up to
 * `retries` times, so a restarted server is simply found again.
 *
 * A dead server must cost a client seconds, not retries of the long call
 * timeout: connecting waits at most DFS_PROBE_MS (a refused connection
 * fails at once), and every new connection is first asked a NULL call,
 * answered within DFS_PROBE_MS by any live server, so a stopped or
 * wedged one is known before a call waits on it; a connection whose
 * probe got no answer is not tried again within the call.  A file
 * server that failed that probe is dead to this client for DFS_DEAD_MS:
 * retries and the clean-up after the failure (ABORT) fail at once, with
 * the probe's failure as their detail.  Every failure to connect names
 * its cause in the detail (dfs_errdetail()).
 *
 * The loop itself is lib/retry.c's, shared with the daemons' calls to
 * each other (lib/peer.c); dfs_connect() and dfs_disconnect(), which
 * make and end the struct dfs these connections belong to, are
 * session.c's.
 */
#include <netinet/in.h>

#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "retry.h"
#include "rpcc.h"

void
conn_detail(struct dfs *dfs, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(dfs->detail, sizeof(dfs->detail), fmt, ap);
	va_end(ap);
}

static struct timeval
ms_tv(unsigned int ms)
{
	struct timeval	tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
			    1000 };

	return tv;
}

/* The time a connect or a probe may take: DFS_PROBE_MS, or the call
 * timeout when that is shorter. */
static unsigned int
probe_of(unsigned int timeout_ms)
{
	return timeout_ms < DFS_PROBE_MS ? timeout_ms : DFS_PROBE_MS;
}

/*
 * Connects to prog on host:port, waiting probe_of(timeout_ms) at most
 * for the connection; calls on it then have timeout_ms.  Returns the
 * handle, or NULL with the cause in err.
 */
static CLIENT *
open_timed(const char *host, unsigned int port, rpcprog_t prog,
    unsigned int timeout_ms, unsigned int bufsz, char *err, size_t errlen)
{
	struct timeval	 tv = ms_tv(timeout_ms);
	CLIENT		*c;
	int		 fd;

	c = rpcc_connect(host, port, prog, 1, probe_of(timeout_ms), bufsz,
	    err, errlen);
	if (c == NULL)
		return NULL;
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	/* a program that runs commands (dfs-lock) must not hand them our
	 * sockets */
	if (clnt_control(c, CLGET_FD, (char *)&fd) && fd >= 0)
		(void)fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	return c;
}

/* open_timed() with the call timeout of dfs, the cause in the detail. */
static CLIENT *
open_clnt(struct dfs *dfs, const char *host, unsigned int port,
    rpcprog_t prog, unsigned int bufsz)
{
	char	 err[256];
	CLIENT	*c;

	c = open_timed(host, port, prog, dfs->timeout_ms, bufsz, err,
	    sizeof(err));
	if (c == NULL)
		conn_detail(dfs, "%s", err);
	return c;
}

/*
 * A NULL call on c that must be answered within `ms`, then calls on c
 * have `timeout_ms` again (clnt_vc takes the timeout from CLSET_TIMEOUT
 * once set, hence the swap).  Returns 0, or -DFS_ERR_TIMEDOUT,
 * -DFS_ERR_PROTO, -DFS_ERR_RPC with the cause in err, after "WHO: "
 * unless who is NULL.
 */
static int
null_call(CLIENT *c, unsigned int ms, unsigned int timeout_ms,
    const char *who, char *err, size_t errlen)
{
	struct timeval	 tv = ms_tv(ms);
	enum clnt_stat	 st;
	const char	*sep = who != NULL ? ": " : "";

	if (who == NULL)
		who = "";
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	st = clnt_call(c, NULLPROC, XDR_VOID, NULL, XDR_VOID, NULL, tv);
	tv = ms_tv(timeout_ms);
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	if (st == RPC_TIMEDOUT)
		snprintf(err, errlen, "%s%sconnected, but no answer within "
		    "%u ms", who, sep, ms);
	else if (rpcc_error(st) == -DFS_ERR_PROTO)
		snprintf(err, errlen, "%s%s%s (%s)", who, sep,
		    dfs_strerror(-DFS_ERR_PROTO), clnt_sperrno(st));
	else if (st != RPC_SUCCESS)
		snprintf(err, errlen, "%s%s%s", who, sep, clnt_sperrno(st));
	return st == RPC_SUCCESS ? 0 : rpcc_error(st);
}

CLIENT *
conn_file_open(const char *host, unsigned int port, unsigned int timeout_ms,
    unsigned int bufsz, char *err, size_t errlen, int *rc)
{
	char	 who[DFS_MAXHOSTLEN + 32], cause[256];
	CLIENT	*c;

	snprintf(who, sizeof(who), "file server %s port %u", host, port);
	c = open_timed(host, port, DFS_FILE_PROG, timeout_ms, bufsz, cause,
	    sizeof(cause));
	if (c == NULL) {
		/* rpcc's "HOST port PORT: CAUSE" */
		snprintf(err, errlen, "file server %s", cause);
		*rc = -DFS_ERR_RPC;
		return NULL;
	}
	*rc = null_call(c, probe_of(timeout_ms), timeout_ms, who, err,
	    errlen);
	if (*rc == 0)
		return c;
	clnt_destroy(c);
	return NULL;
}

static void
drop(CLIENT **c)
{
	if (*c != NULL)
		clnt_destroy(*c);
	*c = NULL;
}

/* Names the server at the other end of c ("file server 127.0.0.1 port
 * 7001") into buf; "server" when it cannot tell. */
static void
peer_name(CLIENT *c, char *buf, size_t len)
{
	struct netbuf	 nb;
	rpcprog_t	 prog = 0;
	char		 host[INET6_ADDRSTRLEN + 16], serv[NI_MAXSERV];
	const char	*kind = "server";

	if (clnt_control(c, CLGET_PROG, (char *)&prog))
		kind = prog == DFS_NAME_PROG ? "name server" :
		    prog == DFS_LOCK_PROG ? "lock server" :
		    prog == DFS_FILE_PROG ? "file server" : "server";
	memset(&nb, 0, sizeof(nb));
	if (clnt_control(c, CLGET_SVC_ADDR, (char *)&nb) && nb.buf != NULL &&
	    getnameinfo(nb.buf, nb.len, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(buf, len, "%s %s port %s", kind, host, serv);
	else
		snprintf(buf, len, "%s", kind);
}

/* "WHO: no answer within N ms", or WHO and the clnt_stat's text. */
static void
fail_text(char *buf, size_t len, const char *who, enum clnt_stat st,
    unsigned int timeout_ms)
{
	if (st == RPC_TIMEDOUT)
		snprintf(buf, len, "%s: no answer within %u ms", who,
		    timeout_ms);
	else
		snprintf(buf, len, "%s: %s", who, clnt_sperrno(st));
}

void
conn_fail_text(char *buf, size_t len, const char *host, unsigned int port,
    enum clnt_stat st, unsigned int timeout_ms)
{
	char	who[192];

	snprintf(who, sizeof(who), "file server %.150s port %u", host, port);
	fail_text(buf, len, who, st, timeout_ms);
}

/* The detail of a call that failed in transport on c. */
static void
call_failed(struct dfs *dfs, CLIENT *c, enum clnt_stat st)
{
	char	who[192];	/* a numeric address fits */

	peer_name(c, who, sizeof(who));
	fail_text(dfs->detail, sizeof(dfs->detail), who, st,
	    st == RPC_TIMEDOUT && raw_waited_ms != 0 ? raw_waited_ms :
	    dfs->timeout_ms);
}

/* One call of conn_name(), conn_lock() or conn_file() for retry_call(). */
struct conn_call {
	struct dfs	*dfs;
	int		(*reconnect)(struct dfs *, void *);
	void		*rarg;
	enum clnt_stat	(*send)(CLIENT *, void *, void *);
	void		*req;
};

static int
conn_call_connect(void *arg)
{
	struct conn_call	*cc = arg;

	return cc->reconnect(cc->dfs, cc->rarg);
}

static enum clnt_stat
conn_call_send(void *arg, CLIENT *c, void *res)
{
	struct conn_call	*cc = arg;

	return cc->send(c, cc->req, res);
}

static void
conn_call_failed(void *arg, CLIENT *c, enum clnt_stat st)
{
	struct conn_call	*cc = arg;

	call_failed(cc->dfs, c, st);
}

/*
 * A call through the shared retry loop (lib/retry.c): `send` performs
 * one call on *cp (connecting first through `reconnect` when *cp is
 * NULL); `idempotent` calls are tried 1 + dfs->retries times.  Returns
 * the call's transport result mapped to 0 or a negative status.
 */
static int
call_retry(struct dfs *dfs, CLIENT **cp, int idempotent,
    int (*reconnect)(struct dfs *, void *), void *rarg,
    enum clnt_stat (*send)(CLIENT *, void *, void *), void *req, void *res,
    xdrproc_t xres)
{
	struct conn_call	cc = { dfs, reconnect, rarg, send, req };
	struct retry		rt = {
		.cp = cp,
		.tries = idempotent ? 1 + dfs->retries : 1,
		.connect = conn_call_connect,
		.send = conn_call_send,
		.failed = conn_call_failed,
		.arg = &cc,
		.res = res,
		.xres = xres,
	};

	return retry_call(&rt);
}

/* The retry loop's reconnect of the name server. */
static int
reconnect_named(struct dfs *dfs, void *arg)
{
	(void)arg;
	return conn_open_named(dfs);
}

int
conn_open_named(struct dfs *dfs)
{
	char	at[sizeof(dfs->host) + 32];
	size_t	n;
	int	rc;

	dfs->named = open_clnt(dfs, dfs->host, dfs->port, DFS_NAME_PROG, 0);
	if (dfs->named != NULL) {
		rc = null_call(dfs->named, probe_of(dfs->timeout_ms),
		    dfs->timeout_ms, NULL, dfs->detail, sizeof(dfs->detail));
		if (rc != 0)
			drop(&dfs->named);
		return rc;
	}
	/* rpcc's "HOST port PORT: CAUSE" */
	n = (size_t)snprintf(at, sizeof(at), "%s port %u: ", dfs->host,
	    dfs->port);
	if (n < sizeof(at) && strncmp(dfs->detail, at, n) == 0)
		memmove(dfs->detail, dfs->detail + n,
		    strlen(dfs->detail + n) + 1);
	return -DFS_ERR_RPC;
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
conn_name(struct dfs *dfs, struct name_req *r, name_compound_res *res,
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

/*
 * Connects to the lock server s and probes the connection as
 * conn_file_open() does.  Returns 0, or -DFS_ERR_RPC, -DFS_ERR_TIMEDOUT,
 * -DFS_ERR_PROTO with "lock server HOST port PORT: CAUSE" in the detail.
 */
static int
open_lockd(struct dfs *dfs, const dfs_server *s)
{
	char	who[DFS_MAXHOSTLEN + 32], cause[256];
	int	rc;

	snprintf(who, sizeof(who), "lock server %s port %u", s->host,
	    s->port);
	dfs->lockd = open_timed(s->host, s->port, DFS_LOCK_PROG,
	    dfs->timeout_ms, 0, cause, sizeof(cause));
	if (dfs->lockd == NULL) {
		/* rpcc's "HOST port PORT: CAUSE" */
		conn_detail(dfs, "lock server %s", cause);
		return -DFS_ERR_RPC;
	}
	rc = null_call(dfs->lockd, probe_of(dfs->timeout_ms), dfs->timeout_ms,
	    who, dfs->detail, sizeof(dfs->detail));
	if (rc != 0)
		drop(&dfs->lockd);
	return rc;
}

/* Asks the name server for the live lock server and connects to it.
 * Returns 0, -DFS_ERR_NOSERVER, or as open_lockd() and conn_name(). */
static int
reconnect_lockd(struct dfs *dfs, void *arg)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	const dfs_server	*s = NULL;
	u_int			 i, n;
	int			 rc;

	(void)arg;
	name_req_add(&r, OP_SERVERS);
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
		rc = s != NULL ? open_lockd(dfs, s) : -DFS_ERR_NOSERVER;
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
conn_lock(struct dfs *dfs, struct lock_req *r, lock_compound_res *res,
    int idempotent)
{
	int	rc;

	memset(res, 0, sizeof(*res));
	rc = call_retry(dfs, &dfs->lockd, idempotent, reconnect_lockd, NULL,
	    send_lock, r, res, (xdrproc_t)xdr_lock_compound_res);
	return rc != 0 ? rc : -(int)res->status;
}

/* A lock request with the timeout its call needs. */
struct timed_lock_req {
	struct lock_req	*r;
	unsigned int	 timeout_ms;	/* of this call */
	unsigned int	 restore_ms;	/* the connection's */
};

/* clnt_vc takes the timeout from CLSET_TIMEOUT, not from clnt_call's
 * argument, once it was set (rpcc.c sets it), hence the swap. */
static enum clnt_stat
send_lock_timed(CLIENT *c, void *req, void *res)
{
	struct timed_lock_req	*t = req;
	struct timeval		 tv = ms_tv(t->timeout_ms);
	enum clnt_stat		 st;

	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	st = lock_call(c, t->r, res);
	tv = ms_tv(t->restore_ms);
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	return st;
}

int
conn_lock_wait(struct dfs *dfs, struct lock_req *r, lock_compound_res *res,
    unsigned int wait_ms)
{
	struct timed_lock_req	t = { r, dfs->timeout_ms + wait_ms,
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
	fc->dead_until = 0;
	snprintf(fc->host, sizeof(fc->host), "%s", srv->host);
	return fc;
}

/*
 * Connects to a file server and probes it (see the head), unless it
 * failed a probe less than DFS_DEAD_MS ago.  Returns 0, or a negative
 * status with the cause in the detail.
 */
static int
reconnect_filed(struct dfs *dfs, void *arg)
{
	struct fsconn	*fc = arg;
	int		 rc;

	if (fc->dead_until > mono_ms()) {
		conn_detail(dfs, "%s", fc->why);
		return -DFS_ERR_TIMEDOUT;
	}
	fc->clnt = conn_file_open(fc->host, fc->port, dfs->timeout_ms,
	    DFS_CHUNK + 65536, dfs->detail, sizeof(dfs->detail), &rc);
	if (rc == -DFS_ERR_TIMEDOUT) {
		fc->dead_until = mono_ms() + DFS_DEAD_MS;
		snprintf(fc->why, sizeof(fc->why), "%s", dfs->detail);
	}
	return rc;
}

static enum clnt_stat
send_file(CLIENT *c, void *req, void *res)
{
	return file_call(c, req, res);
}

int
conn_file(struct dfs *dfs, const dfs_server *srv, struct file_req *r,
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

void
conn_close_all(struct dfs *dfs)
{
	int	i;

	drop(&dfs->named);
	drop(&dfs->lockd);
	for (i = 0; i < dfs->nfs; i++)
		drop(&dfs->fs[i].clnt);
}
