/*
 * svcx.c -- the connection layer of dfs's event-loop daemons.
 *
 * Why not libtirpc's: its non-blocking record reader (svc_vc with
 * RPC_SVC_CONNMAXREC_SET, libtirpc 1.3.3) takes the first fragment of a
 * record for the whole record, sizes its buffer from what the record
 * mark announces and then spins on EAGAIN until the rest arrives, and
 * writes replies with blocking writes: a client that pipelines requests
 * and reads no reply stalls the whole loop.  It has no idle timeout, and
 * out of descriptors it spins on accept(2).  Here:
 *
 * - Input.  A connection's buffer holds what was read; fragments are
 *   joined in place as they complete (their marks cut out), so the
 *   record being assembled is always in[0..rec_len).  The buffer grows
 *   with the bytes that arrive, never with what a mark announces, up to
 *   the record limit plus a little; a record over the limit closes the
 *   connection (nothing can be answered without reading it).
 * - Dispatch.  A complete record is decoded from memory: call header,
 *   _authenticate() (libtirpc's, so every flavour it knows works), the
 *   program's dispatcher.  At most SVCX_BATCH records of a connection
 *   per round, so one client's pipeline cannot starve the others.
 * - Output.  A reply is encoded into a scratch buffer and appended to
 *   the connection's queue, then written as far as the socket takes it.
 *   Past SVCX_OUT_LOWAT queued bytes the connection's requests are not
 *   read any more until its client drains the queue, so unread replies
 *   are bounded by SVCX_OUT_LOWAT plus one reply.
 * - Time.  Idle (nothing buffered, owed or queued) for idle_ms: closed.
 *   A request begun and not completed within stall_ms, or queued replies
 *   that make no progress for stall_ms: closed (slowloris, unread
 *   replies).
 * - Room.  At most maxconns connections (cut to RLIMIT_NOFILE) and
 *   maxperaddr from one address; a new connection past either takes the
 *   place of the longest-idle one it competes with, or is closed if all
 *   are busy.  A spare descriptor lets accept(2) shed a connection even
 *   when the process has no descriptor left.
 *
 * A connection lives as long as its socket or any reference: the round
 * dispatching it and each held reply.  A closed connection whose held
 * replies are still referenced stays, marked dead, until they are
 * dropped, so a hold never points at freed or reused memory.
 *
 * This file: life cycle, accepting, the connection table and its limits
 * (Room, Time), the loop's interface.  Input, Dispatch and Output are
 * svcx_io.c's, held replies and parked requests svcx_held.c's, and
 * libtirpc's own transports svcx_vc.c's; svcx_impl.h is what they share.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "log.h"
#include "svcloop.h"
#include "svcx.h"
#include "svcx_impl.h"

struct sx_state	sx = { .lfd = -1, .spare = -1 };

/* --- connections ------------------------------------------------------ */

/* Nothing buffered, owed or queued: the connection may be reaped. */
static int
conn_idle(const struct conn *c)
{
	return c->inlen == 0 && c->nheld == 0 && c->outlen == c->outoff;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return 1;
}

static struct conn *
conn_new(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->refs = 1;
	c->addr = *ss;
	c->addrlen = len;
	c->last = now_ms();
	c->xprt.xp_fd = fd;
	c->xprt.xp_ops = &sx_conn_ops;
	c->xprt.xp_ops2 = &sx_conn_ops2;
	c->xprt.xp_p1 = c;
	c->xprt.xp_p3 = &c->ext;
	c->xprt.xp_netid = (char *)"tcp";
	c->xprt.xp_rtaddr.buf = &c->addr;
	c->xprt.xp_rtaddr.len = len;
	c->xprt.xp_rtaddr.maxlen = sizeof(c->addr);
	c->xprt.xp_addrlen = (int)len;
	if (len <= sizeof(c->xprt.xp_raddr))
		memcpy(&c->xprt.xp_raddr, ss, len);
	return c;
}

/*
 * Picks the connection a newcomer from `ss` replaces: the longest-idle
 * one of its address when that address is at its limit, else the
 * longest-idle of all when the table is full.  Returns it, NULL when
 * there is room, or (struct conn *)-1 when there is none and nothing
 * idle to give up.
 */
static struct conn *
victim(const struct sockaddr_storage *ss)
{
	struct conn	*c, *best = NULL, *best_addr = NULL;
	unsigned int	 i, naddr = 0;

	for (i = 0; i < sx.nconns; i++) {
		c = sx.conns[i];
		if (same_addr(&c->addr, ss)) {
			naddr++;
			if (conn_idle(c) && (best_addr == NULL ||
			    c->last < best_addr->last))
				best_addr = c;
		}
		if (conn_idle(c) && (best == NULL || c->last < best->last))
			best = c;
	}
	if (naddr >= sx.lim.maxperaddr)
		return best_addr != NULL ? best_addr : (struct conn *)-1;
	if (sx.nconns >= sx.lim.maxconns)
		return best != NULL ? best : (struct conn *)-1;
	return NULL;
}

/* accept(2) when the process is out of descriptors: the spare one makes
 * room to take the connection off the backlog and close it, so the
 * listener does not stay readable for ever.  Returns 1 when one was
 * shed, 0 when no descriptor could be freed for it. */
static int
shed_one(void)
{
	int	fd;

	if (sx.spare == -1)
		return 0;
	close(sx.spare);
	fd = accept4(sx.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd != -1)
		close(fd);
	sx.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_warnx("out of descriptors: a new connection was closed");
	return fd != -1;
}

/* Takes one connection off the backlog.  Returns 1 if there may be
 * more, 0 when the backlog is empty. */
static int
accept_one(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct conn		*c, *v;
	int			 fd, one = 1;

	fd = accept4(sx.lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if ((errno == EMFILE || errno == ENFILE) && !shed_one()) {
			/* not even the spare: listen again a little later */
			sx.pause_until = now_ms() + SVCX_PAUSE_MS;
			return 0;
		}
		if (errno == EMFILE || errno == ENFILE)
			return 1;
		return errno == EINTR || errno == ECONNABORTED;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	v = victim(&ss);
	if (v == (struct conn *)-1) {
		log_debug("connection refused: every slot is busy");
		close(fd);
		return 1;
	}
	if (v != NULL)
		sx_conn_close(v, "its place taken by a new connection");
	if ((c = conn_new(fd, &ss, len)) == NULL) {
		close(fd);
		return 1;
	}
	sx.conns[sx.nconns++] = c;
	return 1;
}

/* Closes c's socket and takes it out of the table; the struct goes with
 * its last reference. */
void
sx_conn_close(struct conn *c, const char *why)
{
	unsigned int	i;

	if (c->fd == -1)
		return;
	log_debug("connection %d closed: %s", c->fd, why);
	close(c->fd);
	c->fd = -1;
	for (i = 0; i < sx.nconns; i++)
		if (sx.conns[i] == c) {
			sx.conns[i] = sx.conns[--sx.nconns];
			break;
		}
	sx_conn_unref(c);
}

/* Closes c if its time is up. */
static void
expire(struct conn *c, unsigned long long now)
{
	if (c->nheld > 0)
		return;
	if (c->outlen > c->outoff) {
		if (now - c->last >= sx.lim.stall_ms)
			sx_conn_close(c, "its client reads no replies");
	} else if (c->inlen > 0) {
		if (now - c->rec_start >= sx.lim.stall_ms)
			sx_conn_close(c, "request not completed in time");
	} else if (now - c->last >= sx.lim.idle_ms)
		sx_conn_close(c, "idle");
}

/* When c's time is up, in ms from now (0: already); -1: never. */
static long long
deadline(const struct conn *c, unsigned long long now)
{
	unsigned long long	at;

	if (c->nheld > 0)
		return -1;
	if (c->outlen > c->outoff)
		at = c->last + sx.lim.stall_ms;
	else if (c->inlen > 0)
		at = c->rec_start + sx.lim.stall_ms;
	else
		at = c->last + sx.lim.idle_ms;
	return at > now ? (long long)(at - now) : 0;
}

/* --- the loop's interface --------------------------------------------- */

int
svcx_init(int lfd, rpcprog_t prog, rpcvers_t vers,
    void (*dispatch)(struct svc_req *, SVCXPRT *),
    const struct svcx_limits *lim)
{
	struct rlimit	rl;
	int		fl;

	sx.lfd = lfd;
	sx.prog = prog;
	sx.vers = vers;
	sx.dispatch = dispatch;
	sx.lim = *lim;
	if (sx.lim.maxconns == 0)
		sx.lim.maxconns = SVCX_MAXCONNS;
	if (sx.lim.maxperaddr == 0)
		sx.lim.maxperaddr = sx.lim.maxconns;
	if (sx.lim.idle_ms == 0)
		sx.lim.idle_ms = SVCX_IDLE_MS;
	if (sx.lim.stall_ms == 0)
		sx.lim.stall_ms = SVCX_STALL_MS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		if (rl.rlim_cur <= SVCX_FD_RESERVE + 1)
			sx.lim.maxconns = 1;
		else if (rl.rlim_cur - SVCX_FD_RESERVE < sx.lim.maxconns)
			sx.lim.maxconns = (unsigned int)(rl.rlim_cur -
			    SVCX_FD_RESERVE);
	}
	sx.conns = calloc(sx.lim.maxconns, sizeof(*sx.conns));
	fl = fcntl(lfd, F_GETFL);
	if (sx.conns == NULL || fl == -1 ||
	    fcntl(lfd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	sx.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

void
svcx_release(void)
{
	while (sx.nconns > 0)
		sx_conn_close(sx.conns[sx.nconns - 1], "shutting down");
	free(sx.conns);
	sx.conns = NULL;
	free(sx.scratch);
	sx.scratch = NULL;
	sx.scratchcap = 0;
	if (sx.spare != -1)
		close(sx.spare);
	sx.spare = -1;
	sx.lfd = -1;
}

unsigned int
svcx_nconns(void)
{
	return sx.nconns;
}

int
svcx_pollset(struct pollfd **pfd, size_t *cap, size_t at)
{
	struct pollfd	*p;
	struct conn	*c;
	size_t		 need = at + 1 + sx.nconns;
	unsigned int	 i;

	if (sx.lfd == -1)
		return 0;
	if (need > *cap) {
		if ((p = realloc(*pfd, need * sizeof(*p))) == NULL)
			return -1;
		*pfd = p;
		*cap = need;
	}
	p = *pfd + at;
	p[0].fd = sx.lfd;
	p[0].events = now_ms() >= sx.pause_until ? POLLIN : 0;
	p[0].revents = 0;
	for (i = 0; i < sx.nconns; i++) {
		c = sx.conns[i];
		p[1 + i].fd = c->fd;
		p[1 + i].events = 0;
		p[1 + i].revents = 0;
		/* a client with unread replies is not read from */
		if (c->outlen - c->outoff <= SVCX_OUT_LOWAT && !c->ready)
			p[1 + i].events |= POLLIN;
		if (c->outlen > c->outoff)
			p[1 + i].events |= POLLOUT;
	}
	return (int)(1 + sx.nconns);
}

int
svcx_timeout(void)
{
	unsigned long long	now = now_ms();
	long long		t, best = -1;
	unsigned int		i;

	if (sx.pause_until > now)
		best = (long long)(sx.pause_until - now);
	for (i = 0; i < sx.nconns; i++) {
		if (sx.conns[i]->ready && !sx.conns[i]->parked &&
		    sx.conns[i]->outlen - sx.conns[i]->outoff <=
		    SVCX_OUT_LOWAT)
			return 0;
		t = deadline(sx.conns[i], now);
		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	return best > INT32_MAX ? INT32_MAX : (int)best;
}

void
svcx_run(const struct pollfd *pfd, int n)
{
	struct conn		**snap;
	unsigned long long	  now;
	unsigned int		  i, m;

	if (n <= 0)
		return;
	/* the table changes as connections close: work on a copy, each
	 * entry referenced, so none is freed under us */
	m = (unsigned int)n - 1;
	snap = m > 0 ? malloc(m * sizeof(*snap)) : NULL;
	if (m > 0 && snap == NULL)
		return;
	for (i = 0; i < m; i++) {
		snap[i] = sx.conns[i];
		snap[i]->refs++;
	}
	for (i = 0; i < m; i++) {
		if (snap[i]->fd != -1 && (pfd[1 + i].revents != 0 ||
		    (snap[i]->ready && !snap[i]->parked)))
			sx_conn_events(snap[i], pfd[1 + i].revents);
	}
	now = now_ms();
	for (i = 0; i < m; i++) {
		if (snap[i]->fd != -1)
			expire(snap[i], now);
		sx_conn_unref(snap[i]);
	}
	free(snap);
	if ((pfd[0].revents & POLLIN) != 0)
		for (i = 0; i < 64 && accept_one(); i++)
			;
}
