/*
 * acall.c -- asynchronous RPC calls on one non-blocking connection.
 *
 * Calls are encoded whole into the output buffer, each as one record of
 * RFC 5531 record marking, and written as the socket takes them.  Input
 * is joined into records (a reply may come in fragments) and each record
 * is decoded with the result type of the call its xid names; a reply
 * with an unknown xid (to a call that timed out) is skipped.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acall.h"
#include "dfs_types.h"
#include "svcloop.h"

#define LAST_FRAG	0x80000000U
#define ACALL_READ	65536

struct call {
	struct call		*next;
	uint32_t		 xid;
	xdrproc_t		 xres;
	size_t			 ressz;
	unsigned long long	 deadline;	/* now_ms() */
	int			 ended;		/* not yet told */
	int			 rc;
	void			*res;		/* rc 0: the decoded reply */
	acall_done		*done;
	void			*arg;
};

struct acall {
	rpcprog_t	 prog;
	rpcvers_t	 vers;
	size_t		 maxreply;
	char		 host[64];
	unsigned int	 port;
	int		 fd;		/* -1: not connected */
	int		 connecting;
	uint32_t	 xid;
	struct call	*calls, **tail;	/* oldest first */
	unsigned int	 ncalls;
	char		 why[160];	/* of calls failed, not yet told */
	/* output */
	char		*out;
	size_t		 outlen, outoff, outcap;
	/* input: raw bytes, and the record being joined */
	char		*in;
	size_t		 inlen;
	char		*rec;
	size_t		 reclen, frag_left;
	int		 in_frag, last_frag;
};

struct acall *
acall_new(rpcprog_t prog, rpcvers_t vers, size_t maxreply)
{
	struct acall	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->prog = prog;
	a->vers = vers;
	a->maxreply = maxreply;
	a->fd = -1;
	a->tail = &a->calls;
	a->xid = (uint32_t)now_ms() * 2654435761U ^ (uint32_t)getpid();
	if ((a->in = malloc(ACALL_READ)) == NULL ||
	    (a->rec = malloc(maxreply)) == NULL) {
		free(a->in);
		free(a);
		return NULL;
	}
	return a;
}

/* Closes the connection and fails every pending call with rc: they are
 * told from acall_run(), never from within the caller's own call. */
static void
fail_all(struct acall *a, int rc, const char *why)
{
	struct call	*c;

	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	a->connecting = 0;
	a->outlen = a->outoff = 0;
	a->inlen = a->reclen = a->frag_left = 0;
	a->in_frag = a->last_frag = 0;
	for (c = a->calls; c != NULL; c = c->next)
		if (!c->ended) {
			c->ended = 1;
			c->rc = rc;
		}
	snprintf(a->why, sizeof(a->why), "%s", why);
}

/* Tells the calls that ended, oldest first.  done() may send more. */
static void
tell_ended(struct acall *a)
{
	struct call	**pp, *c;

	for (pp = &a->calls; (c = *pp) != NULL; ) {
		if (!c->ended) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (a->tail == &c->next)
			a->tail = pp;
		a->ncalls--;
		c->done(c->arg, c->rc, c->res, c->rc == 0 ? "" :
		    c->rc == -DFS_ERR_PROTO ? "call refused" : a->why);
		if (c->res != NULL) {
			xdr_free(c->xres, c->res);
			free(c->res);
		}
		free(c);
	}
}

void
acall_free(struct acall *a)
{
	if (a == NULL)
		return;
	fail_all(a, -DFS_ERR_RPC, "shutting down");
	tell_ended(a);
	free(a->out);
	free(a->in);
	free(a->rec);
	free(a);
}

void
acall_target(struct acall *a, const char *host, unsigned int port)
{
	if (strcmp(a->host, host) == 0 && a->port == port)
		return;
	fail_all(a, -DFS_ERR_RPC, "server moved");
	snprintf(a->host, sizeof(a->host), "%s", host);
	a->port = port;
}

unsigned int
acall_pending(const struct acall *a)
{
	return a->ncalls;
}

/* Starts a non-blocking connect(2) to the target.  Returns 0 or a
 * negative dfs_stat. */
static int
start_connect(struct acall *a)
{
	struct addrinfo	 hints, *res;
	char		 port[16];
	int		 fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", a->port);
	if (a->host[0] == '\0' || getaddrinfo(a->host, port, &hints, &res) != 0)
		return -DFS_ERR_INVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		freeaddrinfo(res);
		return -DFS_ERR_RPC;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, res->ai_addr, res->ai_addrlen) == 0)
		a->connecting = 0;
	else if (errno == EINPROGRESS)
		a->connecting = 1;
	else {
		freeaddrinfo(res);
		close(fd);
		return -DFS_ERR_RPC;
	}
	freeaddrinfo(res);
	a->fd = fd;
	return 0;
}

/* Appends proc(args) as one record to the output.  Returns 0 or a
 * negative dfs_stat. */
static int
encode_call(struct acall *a, uint32_t xid, rpcproc_t proc, xdrproc_t xargs,
    const void *args)
{
	struct rpc_msg	 m;
	XDR		 x;
	unsigned long	 len;
	uint32_t	 mark;
	size_t		 need;
	char		*p;

	memset(&m, 0, sizeof(m));
	m.rm_xid = xid;
	m.rm_direction = CALL;
	m.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	m.rm_call.cb_prog = a->prog;
	m.rm_call.cb_vers = a->vers;
	m.rm_call.cb_proc = proc;
	m.rm_call.cb_cred = _null_auth;
	m.rm_call.cb_verf = _null_auth;
	len = xdr_sizeof((xdrproc_t)xdr_callmsg, &m) +
	    xdr_sizeof(xargs, (void *)(uintptr_t)args);
	if (len == 0 || len > 0x7fffffffUL)
		return -DFS_ERR_INVAL;
	if (a->outoff == a->outlen)
		a->outoff = a->outlen = 0;
	need = a->outlen + 4 + len;
	if (need > a->outcap) {
		if ((p = realloc(a->out, need)) == NULL)
			return -DFS_ERR_NOMEM;
		a->out = p;
		a->outcap = need;
	}
	mark = htonl(LAST_FRAG | (uint32_t)len);
	memcpy(a->out + a->outlen, &mark, 4);
	xdrmem_create(&x, a->out + a->outlen + 4, (u_int)len, XDR_ENCODE);
	if (!xdr_callmsg(&x, &m) || !xargs(&x, (void *)(uintptr_t)args)) {
		xdr_destroy(&x);
		return -DFS_ERR_INVAL;
	}
	xdr_destroy(&x);
	a->outlen += 4 + len;
	return 0;
}

/* After send(2) or recv(2) returned -1: 0 when it would block (try
 * later), else -1 with the cause in why. */
static int
io_failed(const struct acall *a, char *why, size_t len)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	snprintf(why, len, "%s port %u: %s", a->host, a->port,
	    strerror(errno));
	return -1;
}

/* Writes what the socket takes.  Returns 0 or -1 (broken). */
static int
flush(struct acall *a, char *why, size_t len)
{
	ssize_t	n;

	while (a->outoff < a->outlen) {
		n = send(a->fd, a->out + a->outoff, a->outlen - a->outoff,
		    MSG_NOSIGNAL);
		if (n == -1)
			return io_failed(a, why, len);
		a->outoff += (size_t)n;
	}
	return 0;
}

int
acall_send(struct acall *a, rpcproc_t proc, xdrproc_t xargs,
    const void *args, xdrproc_t xres, size_t ressz, unsigned int timeout_ms,
    acall_done *done, void *arg)
{
	struct call	*c;
	char		 why[160];
	int		 rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -DFS_ERR_NOMEM;
	if (a->fd == -1 && (rc = start_connect(a)) != 0) {
		free(c);
		return rc;
	}
	c->xid = a->xid++;
	if ((rc = encode_call(a, c->xid, proc, xargs, args)) != 0) {
		free(c);
		return rc;
	}
	c->xres = xres;
	c->ressz = ressz;
	c->deadline = now_ms() + timeout_ms;
	c->done = done;
	c->arg = arg;
	*a->tail = c;
	a->tail = &c->next;
	a->ncalls++;
	/* the usual case: the connection is up and takes it now; a failure
	 * is found again (and told) by acall_run() */
	if (!a->connecting)
		(void)flush(a, why, sizeof(why));
	return 0;
}

void
acall_pollfd(struct acall *a, struct pollfd *p)
{
	p->fd = a->fd;
	p->events = 0;
	p->revents = 0;
	if (a->fd == -1)
		return;
	if (a->connecting || a->outoff < a->outlen)
		p->events |= POLLOUT;
	if (!a->connecting)
		p->events |= POLLIN;
}

int
acall_timeout(const struct acall *a)
{
	unsigned long long	now = now_ms();

	const struct call	*c;
	unsigned long long	 first = 0;

	for (c = a->calls; c != NULL; c = c->next) {
		if (c->ended)
			return 0;
		if (first == 0 || c->deadline < first)
			first = c->deadline;
	}
	if (first == 0)
		return -1;
	return first > now ? (first - now > INT32_MAX ? INT32_MAX :
	    (int)(first - now)) : 0;
}

/* Finishes a connect(2) in progress.  Returns 0, or -1 (failed). */
static int
finish_connect(struct acall *a, char *why, size_t len)
{
	socklen_t	sl = sizeof(int);
	int		err = 0;

	if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, len, "%s port %u: %s", a->host, a->port,
		    strerror(err));
		return -1;
	}
	a->connecting = 0;
	return 0;
}

/* The pending call with `xid`, or NULL. */
static struct call *
find_call(struct acall *a, uint32_t xid)
{
	struct call	*c;

	for (c = a->calls; c != NULL; c = c->next)
		if (c->xid == xid && !c->ended)
			return c;
	return NULL;
}

/* Decodes the reply record in a->rec and ends its call (told later).
 * Returns 0, or -1 when it does not decode (the stream cannot be
 * trusted). */
static int
deliver(struct acall *a)
{
	struct rpc_msg	 m;
	struct call	*c;
	char		 verf[MAX_AUTH_BYTES];
	uint32_t	 xid;
	XDR		 x;
	int		 ok;

	if (a->reclen < 4)
		return -1;
	memcpy(&xid, a->rec, 4);
	if ((c = find_call(a, ntohl(xid))) == NULL)
		return 0;	/* a call that timed out: its reply came late */
	if ((c->res = calloc(1, c->ressz)) == NULL)
		return -1;
	memset(&m, 0, sizeof(m));
	m.acpted_rply.ar_verf.oa_base = verf;
	m.acpted_rply.ar_results.where = c->res;
	m.acpted_rply.ar_results.proc = c->xres;
	xdrmem_create(&x, a->rec, (u_int)a->reclen, XDR_DECODE);
	ok = xdr_replymsg(&x, &m) && m.rm_direction == REPLY;
	xdr_destroy(&x);
	if (!ok || m.rm_reply.rp_stat != MSG_ACCEPTED ||
	    m.acpted_rply.ar_stat != SUCCESS) {
		xdr_free(c->xres, c->res);
		free(c->res);
		c->res = NULL;
	}
	if (!ok)
		return -1;
	c->ended = 1;
	c->rc = c->res != NULL ? 0 : -DFS_ERR_PROTO;
	return 0;
}

/* Joins what was read into records and delivers each.  Returns 0 or -1
 * (a record over maxreply, or one that does not decode). */
static int
parse(struct acall *a)
{
	size_t		pos = 0, n;
	uint32_t	mark;

	for (;;) {
		if (!a->in_frag) {
			if (a->inlen - pos < 4)
				break;
			memcpy(&mark, a->in + pos, 4);
			mark = ntohl(mark);
			pos += 4;
			a->frag_left = mark & ~LAST_FRAG;
			a->last_frag = (mark & LAST_FRAG) != 0;
			a->in_frag = 1;
			if (a->reclen + a->frag_left > a->maxreply)
				return -1;
		}
		n = a->inlen - pos;
		if (n > a->frag_left)
			n = a->frag_left;
		memcpy(a->rec + a->reclen, a->in + pos, n);
		a->reclen += n;
		pos += n;
		a->frag_left -= n;
		if (a->frag_left > 0)
			break;
		a->in_frag = 0;
		if (a->last_frag) {
			if (deliver(a) != 0)
				return -1;
			a->reclen = 0;
		}
	}
	memmove(a->in, a->in + pos, a->inlen - pos);
	a->inlen -= pos;
	return 0;
}

/* Reads what is there.  Returns 0 or -1 (closed, broken). */
static int
receive(struct acall *a, char *why, size_t len)
{
	ssize_t	n;

	for (;;) {
		n = recv(a->fd, a->in + a->inlen, ACALL_READ - a->inlen, 0);
		if (n == 0) {
			snprintf(why, len, "%s port %u: connection closed",
			    a->host, a->port);
			return -1;
		}
		if (n == -1)
			return io_failed(a, why, len);
		a->inlen += (size_t)n;
		if (parse(a) != 0) {
			snprintf(why, len, "%s port %u: a reply is too large "
			    "or does not decode", a->host, a->port);
			return -1;
		}
	}
}

/* Has a pending call passed its deadline? */
static int
late(const struct acall *a)
{
	const struct call	*c;
	unsigned long long	 now = now_ms();

	for (c = a->calls; c != NULL; c = c->next)
		if (!c->ended && c->deadline <= now)
			return 1;
	return 0;
}

void
acall_run(struct acall *a, short revents)
{
	char	why[160];

	why[0] = '\0';
	if (a->fd != -1 && revents != 0) {
		if (a->connecting && finish_connect(a, why, sizeof(why)) != 0)
			goto broken;
		if ((revents & POLLOUT) != 0 && flush(a, why, sizeof(why)) != 0)
			goto broken;
		if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    receive(a, why, sizeof(why)) != 0)
			goto broken;
	}
	if (late(a)) {
		snprintf(why, sizeof(why), "%s port %u: no answer in time",
		    a->host, a->port);
		fail_all(a, -DFS_ERR_TIMEDOUT, why);
	}
	tell_ended(a);
	return;
broken:
	fail_all(a, -DFS_ERR_RPC, why);
	tell_ended(a);
}
