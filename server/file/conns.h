/*
 * conns.h -- the connections dfs-filed's supervisor holds between
 * requests (conns.c), for main.c.
 *
 * Every client connection is accepted and held by the supervisor; a
 * worker gets it (a duplicate, over a socket pair) only while a request
 * is in flight and gives it back afterwards.  An entry is in one of
 * three states: idle (watched in the supervisor's epoll set), queued
 * (its request ready, waiting for a worker, out of the epoll set) or
 * lent (to worker `worker`, out of the set).  An idle entry whose
 * request has begun to arrive but is not ready to serve (conns_ready())
 * stays idle, with `begun` set, and is closed if the request is not
 * ready within the request timeout: a slow client costs an entry, not
 * a worker.  The supervisor keeps its own
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
	unsigned long long	 begun;		/* ms: a request began, 0: none */
	int			 worker;	/* lent to it, -1: not lent */
	int			 queued;	/* waits for a worker */
};

struct conns {
	struct conn		*c;
	int			 max;		/* entries */
	int			 n;		/* in use */
	int			 per_addr;	/* -a */
	unsigned long long	 idle_ms;	/* -t */
	unsigned long long	 request_ms;	/* -r */
	uint64_t		 next_serial;
	int			*queue;		/* ring of queued entries */
	int			 qhead, qlen;
	int			 epfd;
	struct filed_ctx	*fc;		/* for owner_sweep() */
};

/* A request is ready to serve once this much of it is buffered, even if
 * its record is longer: a large WRITE cannot fit the socket buffer whole
 * (a fresh loopback connection buffers about 110 KiB, fewer over a
 * network), and once it has sent this much a client streams the rest. */
#define CONNS_READY_BYTES	(32 * 1024)

/* Sets up a table of `max` connections watched in epoll set `epfd`.
 * Returns 0 or -1 (no memory). */
int	conns_init(struct conns *cs, int max, int per_addr,
	    unsigned int idle_s, unsigned int request_s, int epfd,
	    struct filed_ctx *fc);
/* Closes every connection (sweeping their stages) and frees the
 * table. */
void	conns_release(struct conns *cs);
/* Accepts what waits on listening socket `lfd` (non-blocking): each new
 * connection is idle, or closed at once when its address holds
 * per_addr already; a full table first closes its longest idle
 * connection.  Returns how many it accepted. */
int	conns_accept(struct conns *cs, int lfd);
/* Can the request arriving on connection fd be served without waiting
 * for its client: are the bytes buffered whole records (every fragment),
 * or at least CONNS_READY_BYTES?  Never blocks.  Sets *buffered (if not
 * NULL) to the bytes buffered.  Returns 1 (ready), 0 (not yet, or
 * nothing buffered) or -1 (the client hung up with nothing buffered, or
 * the connection failed). */
int	conns_ready(int fd, int *buffered);
/* Entry i had an epoll event (`events`): queued for a worker when its
 * request is ready, closed when it ended or failed first, else left
 * waiting with the time its request began. */
void	conns_event(struct conns *cs, int i, uint32_t events,
	    unsigned long long now);
/* Takes the longest queued entry.  Returns its index, or -1. */
int	conns_next(struct conns *cs);
/* Worker w gave entry i back: idle again (keep), or closed. */
void	conns_back(struct conns *cs, int i, int keep);
/* Closes entry i and sweeps the stages it owned (owner.c). */
void	conns_close(struct conns *cs, int i);
/* Closes idle connections that had no request for idle_ms, and those
 * whose request began request_ms ago and is not ready yet.  Returns the
 * milliseconds until the next one may expire (at most idle_ms). */
unsigned long long conns_expire(struct conns *cs, unsigned long long now);

#endif
