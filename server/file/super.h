/*
 * super.h -- dfs-filed's processes: the supervisor (super.c), its
 * workers and its registrar (worker.c); main.c starts them.
 *
 * libtirpc's service state is not thread-safe, so dfs-filed uses both
 * cores with processes, and a worker serves a request in blocking mode
 * (worker.c says why).
 *
 * No client may lock others out, so a worker is tied to a connection
 * only while a request is in flight.  The supervisor accepts every
 * connection and holds it (conns.c) in an epoll set while it is idle.
 * When what a connection has buffered is whole requests (or at least
 * CONNS_READY_BYTES of a large one, which streams), the supervisor
 * lends a duplicate of it to an idle worker over that worker's socket
 * pair (SCM_RIGHTS), forking one within -w if none is idle; connections
 * wait in a queue for a worker otherwise.  A request that has begun to
 * arrive and is not ready stays with the supervisor, which closes its
 * connection if it is not ready within -r seconds (slowloris): a slow
 * sender costs an entry, never a worker.  The worker serves requests on
 * its connection for as long as the next one is ready (or becomes so
 * within FILED_LINGER_MS), then drops its duplicate and tells the
 * supervisor, which watches the connection again.  libtirpc's record
 * buffer is empty at that point: svc_getreq_common() serves every
 * request it holds before it returns, and the worker only read whole
 * requests.  Idle connections thus cost a descriptor and an entry, not a
 * process, and are closed after -t seconds without a request.  An
 * address holds at most -a connections, and a full table closes its
 * longest idle one to admit a new client.
 *
 * What can still hold a worker is a client that stops in the middle of
 * a large request it was lent for, or of one whose start arrived in the
 * microseconds between the worker's own readiness test and its read
 * (which takes it along), or that does not read its reply: the
 * worker publishes a deadline (now + -r seconds) in a MAP_SHARED table
 * while it does I/O with the client, pausing it only while an op runs
 * (disk and name server, bounded by their own timeouts).  The
 * supervisor shuts down a connection whose worker passed its deadline;
 * the worker's blocking read or write then fails and it gives the
 * connection back to be closed.  Since the supervisor owns a descriptor
 * of every connection, a worker that dies also closes nothing behind
 * its back: the supervisor sees its socket pair end and closes the
 * connection it held.
 *
 * Whenever a connection is closed, the stages it made and did not
 * commit or abort are swept (owner.c): nothing staged outlives the
 * upload that staged it, crashed workers' included.
 *
 * The supervisor never blocks on a peer: registration with the name
 * server, heartbeats and the periodic stage GC run in a process of
 * their own, the registrar, which the supervisor restarts if it dies.
 *
 * The server id a COMMIT reports is read from <statedir>/server.id, which
 * the registrar writes (fsync + rename) whenever the name server assigns
 * an id; workers read it at every COMMIT.
 *
 * The op counters STATS reports live in a MAP_SHARED anonymous mapping
 * the supervisor makes (filed_ctx_init) before it forks anything, so
 * every worker adds to the same counts (atomically, see lib/compound.h)
 * and a STATS on any connection sees the whole server.
 */
#ifndef DFS_FILED_SUPER_H
#define DFS_FILED_SUPER_H

#include <sys/types.h>

#include <stdint.h>

#include "conns.h"
#include "filed.h"
#include "registrar.h"
#include "svcloop.h"

#define FILED_MAXWORKERS	1024
#define FILED_MIN_SPARE		2	/* workers kept waiting */
#define FILED_MAX_SPARE		8	/* more than this waiting: one exits */
#define SUPER_TICK_MS		100

/* A worker, as the supervisor sees it. */
struct worker {
	pid_t	pid;		/* 0: a free slot */
	int	chan;		/* our end of its socket pair, -1: it died */
	int	conn;		/* the entry lent to it, -1: idle */
	int	cut;		/* its connection was shut down */
	int	retiring;	/* sent SIGTERM */
};

/* A worker's message to the supervisor: done with a connection. */
struct giveback {
	uint64_t	serial;
	int32_t		keep;	/* 0: closed (by the client, or dead) */
};

struct super {
	struct daemon		 d;
	struct filed_ctx	 fc;
	struct peer		 regpeer;	/* the registrar's */
	struct registrar	 reg;
	const char		*named_spec;	/* -s */
	char			*prefixes[DFS_MAXPREFIXES];	/* -x */
	unsigned int		 nprefixes;
	unsigned int		 gc_age;	/* -g */
	int			 nworkers;	/* -w: at most */
	struct worker		 w[FILED_MAXWORKERS];
	int			 nlive;
	uint64_t		*deadlines;	/* MAP_SHARED: by worker */
	struct conns		 cs;
	int			 epfd;
	pid_t			 regpid;	/* the registrar */
	pid_t			 self;		/* the supervisor */
	/* in a worker */
	int			 chan;
};

/* --- super.c: the supervisor --- */

/* Forks the registrar (registrar_main()). */
void	super_spawn_registrar(struct super *s);
/* Forks a worker (worker_main()) into a free slot.  Returns the slot or
 * -1. */
int	super_spawn_worker(struct super *s);
/*
 * The supervisor's loop, until SIGTERM or SIGINT: accepts connections,
 * lends those whose request is ready to workers and takes them back,
 * and every tick reaps children, closes idle and slow connections and
 * keeps the pool's spares.
 */
void	super_run(struct super *s);
/* Sends SIGTERM to every child and waits for them all. */
void	super_stop(struct super *s);

/* --- worker.c: the supervisor's children --- */

/* Blocks (how = SIG_BLOCK) or unblocks the signals svcloop catches, so
 * none arrives between fork(2) and the child's new self-pipe. */
void	super_mask_signals(int how);
/* A worker's life in slot `slot`, talking to the supervisor over socket
 * pair end `chan`: a request at a time, until a signal or until the
 * supervisor is gone.  Never returns. */
void	worker_main(struct super *s, int slot, int chan)
	    __attribute__((noreturn));
/* The registrar's life: heartbeats and the periodic stage GC, until a
 * signal.  Never returns. */
void	registrar_main(struct super *s) __attribute__((noreturn));

#endif
