/*
 * registrar.h -- a server's registration with the name server.
 *
 * dfs-lockd and dfs-filed announce themselves (kind, address, port,
 * declared subtrees) with OP_REGISTER at start and again every heartbeat
 * interval the name server asks for; a server that stops doing so is
 * marked down.  The id the name server assigns is kept in
 * <statedir>/server.id so a restarted server keeps its identity (and the
 * files placed on it).
 */
#ifndef DFS_REGISTRAR_H
#define DFS_REGISTRAR_H

#include <stdint.h>

#include "dfs_types.h"
#include "peer.h"

struct registrar {
	struct peer		*named;
	dfs_srvkind		 kind;
	char			 host[DFS_MAXHOSTLEN + 1];	/* advertised */
	int			 wildcard;	/* advertise the local */
	unsigned int		 port;
	char			**prefixes;
	unsigned int		 nprefixes;
	unsigned int		 hold_ms;	/* sent; lock server's */
	char			 idfile[4096];
	uint64_t		 id;		/* 0 until registered */
	uint64_t		 instance;	/* the name server's */
	unsigned int		 interval_ms;
	unsigned long long	 next_ms;
	int			 failing;	/* logged once per outage */
};

/*
 * Prepares registration.  `bindhost` is the listen address: when it is a
 * wildcard (0.0.0.0, ::) the advertised host is the local address of the
 * connection to the name server, read again at every REGISTER (a host
 * may be renumbered).  A loopback `bindhost` (the default without -b)
 * cannot be advertised to a name server on another host, whose clients
 * would be sent to themselves: when the name server's host resolves to
 * no loopback address, registration is refused.  `prefixes` (absolute
 * paths, may be NULL) are kept by reference.  Returns 0, -DFS_ERR_INVAL
 * (loopback advertised to a remote name server; logged, naming the
 * cure) or -DFS_ERR_IO (unreadable id file).
 */
int	registrar_init(struct registrar *r, struct peer *named,
	    dfs_srvkind kind, const char *statedir, const char *bindhost,
	    unsigned int port, char **prefixes, unsigned int nprefixes);
/*
 * Sends REGISTER if it is due (always on the first call).  Call it from
 * the daemon's tick.  Returns 0, or a negative dfs_stat when the name
 * server could not be reached or refused (logged once per outage).
 */
int	registrar_tick(struct registrar *r);
/* Registers now, whatever the schedule.  Same returns. */
int	registrar_register(struct registrar *r);

/*
 * Returns 1 if `host` names the loopback interface: 127.0.0.0/8, ::1,
 * ::ffff:127.0.0.0/104 or "localhost"; else 0.  Other names are not
 * resolved (the name server must not wait on DNS).
 */
int	registrar_is_loopback(const char *host);
/*
 * May a server whose REGISTER came from numeric address `from` ("" when
 * unknown: a direct call) advertise `host`?  A loopback address only
 * from the loopback: from another host it would send every client to
 * itself.  Returns 1 or 0.
 */
int	registrar_advert_ok(const char *host, const char *from);

#endif
