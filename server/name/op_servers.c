/*
 * op_servers.c -- servers: REGISTER (announce and heartbeat), SERVERS
 * (everyone registered) and LOCATE (who holds the current file).
 */
#include <netdb.h>
#include <stdlib.h>

#include "log.h"
#include "named.h"
#include "registrar.h"

/*
 * Opcode: LOCATE
 * Reads the current file; returns the registered servers holding it
 * (CREATE records the one it placed the file on, COMMIT adds the one
 * reporting), each with its live flag.  Changes nothing.  Errors: ISDIR,
 * STALE, NOFILEHANDLE.
 */
dfs_stat
op_locate(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	servers_res	*sr = &res->name_resop_u.locate;
	struct inode	 ino;
	int		 rc;

	(void)arg;
	rc = cur_inode(oc, &ino);
	if (rc == 0 && ino.type == DFS_FTYPE_DIR)
		rc = -DFS_ERR_ISDIR;
	if (rc == 0)
		rc = srv_fill_ids(oc->nc, ino.repl, ino.nrepl,
		    &sr->servers_res_u.servers.servers_val,
		    &sr->servers_res_u.servers.servers_len);
	if (rc != 0)
		xdr_free((xdrproc_t)xdr_servers_res, (char *)sr);
	return (dfs_stat)-rc;
}

/*
 * Opcode: SERVERS
 * Reads the server table; returns every registered server, lock and
 * file, in id order, with live flags.  Changes nothing.  Errors: none
 * but NOMEM.
 */
dfs_stat
op_servers(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	servers_res	*sr = &res->name_resop_u.servers;
	dfs_server	*out;
	unsigned int	 i;

	(void)arg;
	out = calloc(oc->nc->nsrvs ? oc->nc->nsrvs : 1, sizeof(*out));
	if (out == NULL)
		return DFS_ERR_NOMEM;
	sr->servers_res_u.servers.servers_val = out;
	for (i = 0; i < oc->nc->nsrvs; i++) {
		if (srv_fill(oc->nc, oc->nc->srvs[i], &out[i]) != 0) {
			xdr_free((xdrproc_t)xdr_servers_res, (char *)sr);
			return DFS_ERR_NOMEM;
		}
		sr->servers_res_u.servers.servers_len++;
	}
	return DFS_OK;
}

/*
 * Opcode: REGISTER {kind, id, host, port, prefixes}
 * A server announces itself, and repeats it every heartbeat_ms.  Marks
 * it live; records (durably) a new or changed registration.  Only one
 * lock server is the authority: another one is refused until the
 * authority has been silent for its hold_ms (servers.c), and then
 * replaces it.  Returns its id (new when 0 or unknown), our instance and
 * the heartbeat interval.  Errors: INVAL (bad kind, empty host, port 0
 * or > 65535, bad prefix; a loopback host from another host, whose
 * clients it would send to themselves), NAMETOOLONG, STANDBY (a lock
 * server while another is the authority), NOSPC (DFS_MAXSERVERS
 * registered).
 */
dfs_stat
op_register(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	register_ok	*ok = &res->name_resop_u.reg.register_res_u.ok;
	char		 from[NI_MAXHOST];
	uint64_t	 id;
	int		 rc;

	caller_host(oc, from, sizeof(from));
	if (!registrar_advert_ok(arg->name_argop_u.reg.host, from)) {
		log_warnx("REGISTER from %s advertising loopback '%s' refused",
		    from, arg->name_argop_u.reg.host);
		return DFS_ERR_INVAL;
	}
	rc = srv_register(oc->nc, &arg->name_argop_u.reg, &id);
	if (rc != 0)
		return (dfs_stat)-rc;
	ok->id = id;
	ok->instance = oc->nc->instance;
	ok->heartbeat_ms = oc->nc->heartbeat_ms;
	return DFS_OK;
}
