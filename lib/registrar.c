/*
 * registrar.c -- a server's registration with the name server.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfs_types.h"
#include "log.h"
#include "registrar.h"
#include "status.h"
#include "svcloop.h"

#define REGISTRAR_RETRY_MS	500

/* Reads the saved id, if any.  Returns 0 (id or 0 stored) or -1. */
static int
id_load(struct registrar *r)
{
	FILE		*fp;
	uint64_t	 id = 0;

	fp = fopen(r->idfile, "r");
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	if (fscanf(fp, "%" SCNu64, &id) != 1)
		id = 0;
	fclose(fp);
	r->id = id;
	return 0;
}

/* Saves the id durably (write, fsync, rename).  Returns 0 or -1. */
static int
id_save(struct registrar *r)
{
	char	tmp[sizeof(r->idfile) + 8];
	FILE	*fp;
	int	rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", r->idfile);
	fp = fopen(tmp, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp, "%" PRIu64 "\n", r->id);
	rc = fflush(fp) == 0 && fsync(fileno(fp)) == 0 ? 0 : -1;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, r->idfile);
	return rc;
}

static int
is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

int
registrar_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

int
registrar_advert_ok(const char *host, const char *from)
{
	if (from[0] == '\0' || !registrar_is_loopback(host))
		return 1;
	return registrar_is_loopback(from);
}

/*
 * Returns 1 if `host` (the name server's) resolves and to no loopback
 * address: it is on another host.  Unresolvable counts as 0 (the name
 * server checks again where the REGISTER comes from).
 */
static int
is_remote(const char *host)
{
	struct addrinfo	 hints, *res, *ai;
	char		 num[NI_MAXHOST];
	int		 remote = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
		    NULL, 0, NI_NUMERICHOST) != 0 || registrar_is_loopback(num))
			remote = 0;
	freeaddrinfo(res);
	return remote;
}

int
registrar_init(struct registrar *r, struct peer *named, dfs_srvkind kind,
    const char *statedir, const char *bindhost, unsigned int port,
    char **prefixes, unsigned int nprefixes)
{
	memset(r, 0, sizeof(*r));
	r->named = named;
	r->kind = kind;
	r->port = port;
	r->prefixes = prefixes;
	r->nprefixes = nprefixes;
	r->interval_ms = 2000;
	r->wildcard = is_wildcard(bindhost);
	if (!r->wildcard)
		snprintf(r->host, sizeof(r->host), "%s", bindhost);
	if (registrar_is_loopback(bindhost) && is_remote(named->host)) {
		log_warnx("listening on loopback address %s, which the name "
		    "server %s on another host cannot pass on: start with -b "
		    "and an address of this host that its clients reach",
		    bindhost, named->host);
		return -DFS_ERR_INVAL;
	}
	if ((size_t)snprintf(r->idfile, sizeof(r->idfile), "%s/server.id",
	    statedir) >= sizeof(r->idfile) || id_load(r) == -1)
		return -DFS_ERR_IO;
	return 0;
}

/* Fills the REGISTER op.  The prefixes point into r's strings. */
static void
fill_args(struct registrar *r, name_argop *op, dfs_path *paths)
{
	unsigned int	i;

	memset(op, 0, sizeof(*op));
	op->op = OP_REGISTER;
	op->name_argop_u.reg.kind = r->kind;
	op->name_argop_u.reg.id = r->id;
	op->name_argop_u.reg.host = r->host;
	op->name_argop_u.reg.port = r->port;
	op->name_argop_u.reg.hold_ms = r->hold_ms;
	for (i = 0; i < r->nprefixes; i++) {
		paths[i].dfs_path_val = r->prefixes[i];
		paths[i].dfs_path_len = (u_int)strlen(r->prefixes[i]);
	}
	op->name_argop_u.reg.prefixes.prefixes_len = r->nprefixes;
	op->name_argop_u.reg.prefixes.prefixes_val = paths;
}

/* Takes the name server's answer.  Returns 0 or a negative dfs_stat. */
static int
take_reply(struct registrar *r, const name_compound_res *res)
{
	const register_ok	*ok;
	uint64_t		 old = r->id;

	if (res->status != DFS_OK || res->res.res_len != 1)
		return res->status != DFS_OK ? -(int)res->status :
		    -DFS_ERR_PROTO;
	ok = &res->res.res_val[0].name_resop_u.reg.register_res_u.ok;
	r->id = ok->id;
	r->instance = ok->instance;
	if (ok->heartbeat_ms >= 50)
		r->interval_ms = ok->heartbeat_ms;
	if (r->id != old && id_save(r) == -1)
		log_warn("cannot save server id to '%s'", r->idfile);
	if (r->id != old)
		log_info("registered with the name server as server %" PRIu64,
		    r->id);
	return 0;
}

int
registrar_register(struct registrar *r)
{
	name_compound_args	 args;
	name_compound_res	 res;
	name_argop		 op;
	dfs_path		 paths[DFS_MAXPREFIXES];
	int			 rc;

	/* a wildcard listener advertises the address the name server
	 * sees now, not the one it had when it started */
	if (r->wildcard && peer_local_host(r->named, r->host,
	    sizeof(r->host)) == -1)
		rc = -DFS_ERR_RPC;
	else {
		fill_args(r, &op, paths);
		args.ops.ops_len = 1;
		args.ops.ops_val = &op;
		memset(&res, 0, sizeof(res));
		rc = peer_name(r->named, &args, &res, 1);
		if (rc == 0) {
			rc = take_reply(r, &res);
			xdr_free((xdrproc_t)xdr_name_compound_res, &res);
		}
	}
	if (rc != 0 && !r->failing)
		log_warnx("cannot register with the name server %s: %s%s%s",
		    r->named->host, dfs_strerror(rc),
		    r->named->err[0] ? ": " : "", r->named->err);
	else if (rc == 0 && r->failing)
		log_info("registered with the name server again");
	r->failing = rc != 0;
	return rc;
}

int
registrar_tick(struct registrar *r)
{
	unsigned long long	now = now_ms();
	int			rc;

	if (r->next_ms != 0 && now < r->next_ms)
		return 0;
	rc = registrar_register(r);
	r->next_ms = now + (rc == 0 ? r->interval_ms : REGISTRAR_RETRY_MS);
	return rc;
}
