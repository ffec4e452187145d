/*
 * conns.c -- the connections dfs-filed's supervisor holds (see
 * conns.h for the states), and the limits that keep any client from
 * locking others out: a per-address limit, an idle timeout, and a
 * bounded table whose longest idle connection makes room for a new one.
 *
 * Tables are scanned linearly (per accept: the address count; per
 * tick: the idle timeout): a few thousand entries cost microseconds,
 * far less than the requests they carry.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

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
    int epfd, struct filed_ctx *fc)
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

/* Puts entry i in the epoll set.  Returns 0 or -1. */
static int
watch(struct conns *cs, int i)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
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

void
conns_ready(struct conns *cs, int i)
{
	(void)epoll_ctl(cs->epfd, EPOLL_CTL_DEL, cs->c[i].fd, NULL);
	cs->c[i].queued = 1;
	cs->queue[(cs->qhead + cs->qlen) % cs->max] = i;
	cs->qlen++;
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
		if (now - c->since >= cs->idle_ms) {
			log_debug("closing a connection idle for %llu ms",
			    now - c->since);
			conns_close(cs, i);
			continue;
		}
		left = cs->idle_ms - (now - c->since);
		if (left < next)
			next = left;
	}
	return next;
}
