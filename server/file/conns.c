/*
 * conns.c -- the connections dfs-filed's supervisor holds (see
 * conns.h for the states), and the limits that keep any client from
 * locking others out: a per-address limit, an idle timeout, and a
 * bounded table whose longest idle connection makes room for a new one.
 *
 * A connection goes to a worker only when its request is ready
 * (conns_ready()): a worker then reads it without waiting for the
 * client, and a client that trickles or stalls in a request holds no
 * worker.  The supervisor peeks at the record marks of what is buffered
 * whenever more arrives: connections are watched edge-triggered, so a
 * partial request wakes the supervisor once per arrival instead of at
 * every epoll_wait(), and one not ready within the request timeout is
 * closed by conns_expire().
 *
 * Tables are scanned linearly (per accept: the address count; per
 * tick: the idle timeout): a few thousand entries cost microseconds,
 * far less than the requests they carry.
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conns.h"
#include "filed.h"
#include "log.h"
#include "svcloop.h"

int
conns_init(struct conns *cs, int max, int per_addr, unsigned int idle_s,
    unsigned int request_s, int epfd, struct filed_ctx *fc)
{
	int	i;

	memset(cs, 0, sizeof(*cs));
	cs->c = calloc((size_t)max, sizeof(*cs->c));
	cs->queue = calloc((size_t)max, sizeof(*cs->queue));
	if (cs->c == NULL || cs->queue == NULL)
		return -1;
	for (i = 0; i < max; i++)
		cs->c[i].fd = -1;
	cs->max = max;
	cs->per_addr = per_addr;
	cs->idle_ms = idle_s * 1000ULL;
	cs->request_ms = request_s * 1000ULL;
	cs->next_serial = 1;
	cs->epfd = epfd;
	cs->fc = fc;
	return 0;
}

void
conns_release(struct conns *cs)
{
	int	i;

	for (i = 0; cs->c != NULL && i < cs->max; i++)
		if (cs->c[i].fd != -1)
			conns_close(cs, i);
	free(cs->c);
	free(cs->queue);
	cs->c = NULL;
	cs->queue = NULL;
}

/* The peer's address as 16 bytes (IPv4 as v4-mapped IPv6). */
static void
addr_key(const struct sockaddr_storage *ss, unsigned char *key)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &sin6->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
	}
}

/* How many entries have peer address `key`. */
static int
count_addr(const struct conns *cs, const unsigned char *key)
{
	int	i, n = 0;

	for (i = 0; i < cs->max; i++)
		if (cs->c[i].fd != -1 && memcmp(cs->c[i].addr, key, 16) == 0)
			n++;
	return n;
}

/* Puts entry i in the epoll set, edge-triggered: what is buffered
 * already is reported once, then every arrival.  Returns 0 or -1. */
static int
watch(struct conns *cs, int i)
{
	struct epoll_event	ev;

	cs->c[i].begun = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = EV_DATA(EV_CONN, i);
	return epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->c[i].fd, &ev);
}

void
conns_close(struct conns *cs, int i)
{
	struct conn	*c = &cs->c[i];

	/* explicitly: a child forked a moment ago may still hold a
	 * duplicate, which would keep it in the set */
	if (c->worker == -1 && !c->queued)
		(void)epoll_ctl(cs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	(void)owner_sweep(cs->fc, c->serial);
	c->fd = -1;
	c->worker = -1;
	c->queued = 0;
	c->begun = 0;
	cs->n--;
}

/* Makes room for one more: closes the idle connection quiet longest.
 * Returns 0, or -1 when none is idle (every one is busy or queued). */
static int
evict(struct conns *cs)
{
	int	i, old = -1;

	for (i = 0; i < cs->max; i++)
		if (cs->c[i].fd != -1 && cs->c[i].worker == -1 &&
		    !cs->c[i].queued && (old == -1 ||
		    cs->c[i].since < cs->c[old].since))
			old = i;
	if (old == -1)
		return -1;
	log_debug("connection table full: closing the longest idle one");
	conns_close(cs, old);
	return 0;
}

/* Enters new connection fd from `ss`.  Returns 0, or -1 (closed). */
static int
admit(struct conns *cs, int fd, const struct sockaddr_storage *ss)
{
	unsigned char	key[16];
	int		i, one = 1;

	addr_key(ss, key);
	/* ORDER: no eviction for a connection refused anyway */
	if (count_addr(cs, key) >= cs->per_addr ||
	    (cs->n == cs->max && evict(cs) == -1)) {
		log_debug("connection refused: limit reached");
		close(fd);
		return -1;
	}
	for (i = 0; cs->c[i].fd != -1; i++)
		;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cs->c[i].fd = fd;
	cs->c[i].serial = cs->next_serial++;
	memcpy(cs->c[i].addr, key, 16);
	cs->c[i].since = now_ms();
	cs->c[i].worker = -1;
	cs->c[i].queued = 0;
	cs->n++;
	if (watch(cs, i) == -1) {
		log_warn("cannot watch a connection");
		conns_close(cs, i);
		return -1;
	}
	return 0;
}

int
conns_accept(struct conns *cs, int lfd)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, n = 0;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			/* out of descriptors: the connection stays in the
			 * backlog until one is closed */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				log_warn("cannot accept a connection");
			return n;
		}
		if (admit(cs, fd, &ss) == 0)
			n++;
	}
}

/* Entry i's request is ready: out of the epoll set, to the queue. */
static void
enqueue(struct conns *cs, int i)
{
	(void)epoll_ctl(cs->epfd, EPOLL_CTL_DEL, cs->c[i].fd, NULL);
	cs->c[i].queued = 1;
	cs->c[i].begun = 0;
	cs->queue[(cs->qhead + cs->qlen) % cs->max] = i;
	cs->qlen++;
}

int
conns_ready(int fd, int *buffered)
{
	/* the supervisor and each worker are single-threaded processes */
	static unsigned char	buf[CONNS_READY_BYTES];
	uint32_t		mark;
	size_t			off;
	ssize_t			n;
	int			avail;

	if (ioctl(fd, FIONREAD, &avail) == -1)
		return -1;
	if (buffered != NULL)
		*buffered = avail;
	if (avail >= CONNS_READY_BYTES)
		return 1;
	/* one byte when none is buffered: tells an end from nothing yet */
	n = recv(fd, buf, avail > 0 ? (size_t)avail : 1,
	    MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return -1;
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	/*
	 * RFC 5531 record marking; the high bit marks a record's last
	 * fragment.  Ready only when what is buffered is whole records: a
	 * worker's read takes all of it, and must not take the start of a
	 * further request whose rest the client holds back.
	 */
	for (off = 0; off + 4 <= (size_t)n;) {
		memcpy(&mark, buf + off, 4);
		mark = ntohl(mark);
		off += 4 + (mark & 0x7fffffffU);
		if ((mark & 0x80000000U) != 0 && off == (size_t)n)
			return 1;
	}
	return 0;
}

void
conns_event(struct conns *cs, int i, uint32_t events,
    unsigned long long now)
{
	struct conn	*c = &cs->c[i];
	int		 rc, avail = 0;

	rc = conns_ready(c->fd, &avail);
	if (rc == 1) {
		enqueue(cs, i);
		return;
	}
	/* a request cut short by the client's end can never be ready */
	if (rc == -1 || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
		conns_close(cs, i);
		return;
	}
	if (avail > 0 && c->begun == 0)
		c->begun = now;
}

int
conns_next(struct conns *cs)
{
	int	i;

	while (cs->qlen > 0) {
		i = cs->queue[cs->qhead];
		cs->qhead = (cs->qhead + 1) % cs->max;
		cs->qlen--;
		/* a queued entry closed meanwhile (evicted, timed out) */
		if (cs->c[i].fd != -1 && cs->c[i].queued) {
			cs->c[i].queued = 0;
			return i;
		}
	}
	return -1;
}

void
conns_back(struct conns *cs, int i, int keep)
{
	cs->c[i].worker = -1;
	cs->c[i].since = now_ms();
	if (!keep || watch(cs, i) == -1)
		conns_close(cs, i);
}

/* Is entry c past its timeout at `now`?  Sets *left to the
 * milliseconds until it will be otherwise.  Returns 1 or 0. */
static int
expired(const struct conns *cs, const struct conn *c,
    unsigned long long now, unsigned long long *left)
{
	unsigned long long	from = c->begun != 0 ? c->begun : c->since;
	unsigned long long	limit = c->begun != 0 ? cs->request_ms :
				    cs->idle_ms;

	if (now - from >= limit)
		return 1;
	*left = limit - (now - from);
	return 0;
}

unsigned long long
conns_expire(struct conns *cs, unsigned long long now)
{
	unsigned long long	next = cs->idle_ms, left;
	struct conn		*c;
	int			 i;

	for (i = 0; i < cs->max; i++) {
		c = &cs->c[i];
		if (c->fd == -1 || c->worker != -1 || c->queued)
			continue;
		if (!expired(cs, c, now, &left)) {
			if (left < next)
				next = left;
			continue;
		}
		if (c->begun != 0)
			log_info("closing a connection: no whole request in "
			    "%llu ms", now - c->begun);
		else
			log_debug("closing a connection idle for %llu ms",
			    now - c->since);
		conns_close(cs, i);
	}
	return next;
}
