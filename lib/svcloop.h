/*
 * svcloop.h -- the daemon skeleton every dfs server shares.
 *
 * Common options, listening and rpcbind registration, signals through a
 * self-pipe, the poll(2) loop with a periodic tick over libtirpc's
 * svc_pollfd (dfs-filed's connections) and svcx's connections
 * (dfs-named's and dfs-lockd's, lib/svcx.h), and the pid file that marks
 * readiness.  Start-up order (main()):
 *
 *	daemon_getopt() per option; daemon_check()
 *	daemon_privdrop()	with -u: bind, then become the user for good
 *	open state (kv_open) while still attached, so errors reach stderr
 *	daemon_listen() or daemon_serve()
 *				bind, detach unless -d, register
 *	daemon_ready()		pid file: written only once RPCs are answered
 *	svcloop_run()		until SIGTERM or SIGINT
 *	daemon_shutdown()	unregister (unless -N), remove pid file
 */
#ifndef DFS_SVCLOOP_H
#define DFS_SVCLOOP_H

#include <poll.h>

#include <rpc/rpc.h>

#include "priv.h"

/* getopt(3) letters every daemon takes; -s only where a name server is
 * needed. */
#define DAEMON_OPTSTRING	"a:b:C:dD:hNp:P:r:t:u:v"

/* Connection limits every daemon shares (-a, -r, -t; -C is cut to what
 * RLIMIT_NOFILE allows). */
#define DAEMON_PERADDR		128	/* connections from one address */
#define DAEMON_IDLE_S		360	/* as Linux's nfsd */
#define DAEMON_REQUEST_S	30	/* a request arrives, a reply is read */

struct daemon {
	/* options */
	const char	*progname;
	int		 foreground;		/* -d */
	int		 verbose;		/* -v */
	int		 no_rpcbind;		/* -N */
	char		*statedir;		/* -D, made absolute */
	char		*pidfile;		/* -P, made absolute */
	const char	*bindaddr;		/* -b */
	unsigned int	 port;			/* -p */
	unsigned int	 maxconns;		/* -C; 0: the daemon's own */
	unsigned int	 peraddr;		/* -a */
	unsigned int	 idle_s;		/* -t */
	unsigned int	 request_s;		/* -r */
	const char	*user;			/* -u */
	struct priv_user pw;			/* -u, looked up */
	/* set by daemon_listen() */
	int		 listenfd;
	unsigned int	 boundport;
	SVCXPRT		*xprt;
	rpcprog_t	 prog;
	rpcvers_t	 vers;
	int		 registered;
	int		 unreg_done;		/* stale entry dealt with */
};

/*
 * Handles one of the common options.  Returns 1 if `ch` was one (and its
 * argument is valid), 0 if it is not a common option, -1 (with a message
 * on stderr) for a bad argument.
 */
int	daemon_getopt(struct daemon *d, int ch, const char *arg);
/* Checks the options after parsing, sets the defaults of the connection
 * limits and makes paths absolute.  With -u, looks the user up and makes
 * the state directory the user's (priv_statedir()).  Returns 0 or -1
 * with a message on stderr. */
int	daemon_check(struct daemon *d);

/*
 * Privilege separation [obsd].  With -u and run as root: binds the
 * listening socket and drops a stale rpcbind entry of prog/vers (what
 * needs root), then becomes the user for good (priv_drop()), so that the
 * state opened next, the rpcbind registration and every process forked
 * later are the user's; daemon_listen() and daemon_serve() then take the
 * socket bound here.  Without -u, a daemon running as root logs that it
 * keeps root.  Call it after log_init(), before opening the state.
 * Exits through fatal() on failure.
 */
void	daemon_privdrop(struct daemon *d, rpcprog_t prog, rpcvers_t vers);

/*
 * Binds d->bindaddr:d->port (127.0.0.1 by default: see dfs-named(8)),
 * detaches unless -d, installs the signal handlers, creates the service
 * with record size limit `maxrec` (non-blocking connections, so a slow
 * client cannot stall the loop) and registers with rpcbind unless -N.
 * Exits through fatal() on failure.
 */
void	daemon_listen(struct daemon *d, rpcprog_t prog, rpcvers_t vers,
	    void (*dispatch)(struct svc_req *, SVCXPRT *), unsigned int maxrec);
/*
 * The same for an event-loop daemon (dfs-named, dfs-lockd): its
 * connections are svcx's (lib/svcx.h), within the connection limits
 * (-a, -C, -r, -t), and requests of at most `maxrec` bytes.
 */
void	daemon_serve(struct daemon *d, rpcprog_t prog, rpcvers_t vers,
	    void (*dispatch)(struct svc_req *, SVCXPRT *), unsigned int maxrec);
/* Writes the pid file; exits on failure. */
void	daemon_ready(struct daemon *d);
/* Unregisters (unless -N) and removes the pid file. */
void	daemon_shutdown(struct daemon *d);

/*
 * Serves RPCs until SIGTERM or SIGINT, calling tick(arg) about every
 * tick_ms milliseconds (tick may be NULL).  Returns the signal number,
 * or 0 when svcloop_break() was called.
 */
int	svcloop_run(int tick_ms, void (*tick)(void *), void *arg);
/* Makes svcloop_run() return 0 at the end of the current round (from a
 * round function, a tick or a handler). */
void	svcloop_break(void);
/*
 * Makes svcloop_run() call fn(arg) at the end of every round: once the
 * requests of all the connections one poll(2) found ready were served,
 * before the tick and the next poll.  dfs-named sends the replies it
 * held for its group commit there.  fn NULL: nothing (the default).
 */
void	svcloop_set_round(void (*fn)(void *), void *arg);
/*
 * One more thing svcloop_run() waits for: a daemon's own client
 * connection (dfs-named's to the lock server, lib/acall.h).  Each round
 * pollfd() fills in the descriptor to poll and its events (fd -1: none),
 * run() gets what poll(2) reported (0 too: time may be up), before svcx
 * serves its connections, and poll waits at most timeout() ms (-1: no
 * limit).  NULL: none (the default).
 */
struct svcloop_src {
	void	 (*pollfd)(void *arg, struct pollfd *p);
	void	 (*run)(void *arg, short revents);
	int	 (*timeout)(void *arg);
	void	  *arg;
};
void	svcloop_set_source(const struct svcloop_src *s);
/* The fd that becomes readable when a signal arrives, for loops of
 * their own (dfs-filed's supervisor); svcloop_signal() reads it and
 * returns the last signal, or 0. */
int	svcloop_sigfd(void);
int	svcloop_signal(void);
/* Gives a forked child a self-pipe of its own (the inherited one is
 * shared with the parent, so a signal byte could reach the wrong
 * process).  Block the signals around fork(2) so none is lost. */
void	svcloop_sigreinit(void);

/* Milliseconds on the monotonic clock. */
unsigned long long	now_ms(void);

#endif
