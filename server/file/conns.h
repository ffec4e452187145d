/*
 * conns.h -- the connections dfs-filed's supervisor holds between
 * requests (conns.c), for main.c.
 *
 * Every client connection is accepted and held by the supervisor; a
 * worker gets it (a duplicate, over a socket pair) only while a request
 * is in flight and gives it back afterwards.  An entry is in one of
 * three states: idle (watched in the supervisor's epoll set), queued
 * (readable, waiting for a worker, out of the epoll set) or lent (to
 * worker `worker`, out of the set).  The supervisor keeps its own
 * descriptor of every connection, lent ones too, so that it can close
 * or shut down any of them whatever a worker does.
 */
#ifndef DFS_FILED_CONNS_H
#define DFS_FILED_CONNS_H

#include <stdint.h>

struct filed_ctx;

/* epoll event tags (the high half of data.u64; the low half: index). */
enum { EV_LISTEN = 1, EV_SIGNAL, EV_WORKER, EV_CONN };
#define EV_DATA(tag, i)	(((uint64_t)(tag) << 32) | (uint32_t)(i))

struct conn {
	int			 fd;		/* -1: a free entry */
	uint64_t		 serial;	/* owner.c's name for it */
	unsigned char		 addr[16];	/* the peer (IPv4: mapped) */
	unsigned long long	 since;		/* ms: accepted, or given back */
	int			 worker;	/* lent to it, -1: not lent */
	int			 queued;	/* waits for a worker */
};

struct conns {
	struct conn		*c;
	int			 max;		/* entries */
	int			 n;		/* in use */
	int			 per_addr;	/* -a */
	unsigned long long	 idle_ms;	/* -t */
	uint64_t		 next_serial;
	int			*queue;		/* ring of queued entries */
	int			 qhead, qlen;
	int			 epfd;
	struct filed_ctx	*fc;		/* for owner_sweep() */
};

/* Sets up a table of `max` connections watched in epoll set `epfd`.
 * Returns 0 or -1 (no memory). */
int	conns_init(struct conns *cs, int max, int per_addr,
	    unsigned int idle_s, int epfd, struct filed_ctx *fc);
/* Closes every connection (sweeping their stages) and frees the
 * table. */
void	conns_release(struct conns *cs);
/* Accepts what waits on listening socket `lfd` (non-blocking): each new
 * connection is idle, or closed at once when its address holds
 * per_addr already; a full table first closes its longest idle
 * connection.  Returns how many it accepted. */
int	conns_accept(struct conns *cs, int lfd);
/* Entry i became readable: out of the epoll set, to the queue. */
void	conns_ready(struct conns *cs, int i);
/* Takes the longest queued entry.  Returns its index, or -1. */
int	conns_next(struct conns *cs);
/* Worker w gave entry i back: idle again (keep), or closed. */
void	conns_back(struct conns *cs, int i, int keep);
/* Closes entry i and sweeps the stages it owned (owner.c). */
void	conns_close(struct conns *cs, int i);
/* Closes idle connections that had no request for idle_ms.  Returns
 * the milliseconds until the next one may expire (at most idle_ms). */
unsigned long long conns_expire(struct conns *cs, unsigned long long now);

#endif
