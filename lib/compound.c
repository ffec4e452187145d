/*
 * compound.c -- the COMPOUND loop all three programs share.
 */
#include <stdlib.h>
#include <string.h>

#include "compound.h"
#include "log.h"
#include "status.h"

/* Statuses that mean the caller sent something no correct client sends:
 * worth one warning each, then we carry on serving. */
static int
is_protocol_abuse(dfs_stat st)
{
	return st == DFS_ERR_BADHANDLE || st == DFS_ERR_OP_ILLEGAL ||
	    st == DFS_ERR_RESOURCE;
}

dfs_stat
compound_run(const struct compound *c, void *ctx, const void *ops,
    u_int nops, void **res, u_int *nres)
{
	const char	*arg = ops;
	char		*out;
	dfs_stat	 st = DFS_OK;
	u_int		 i;

	*res = NULL;
	*nres = 0;
	if (nops > DFS_MAXOPS) {
		log_warnx("%s compound of %u ops refused (limit %d)", c->prog,
		    nops, DFS_MAXOPS);
		return DFS_ERR_RESOURCE;
	}
	if (nops == 0)
		return DFS_OK;
	out = calloc(nops, c->ressz);
	if (out == NULL)
		return DFS_ERR_RESOURCE;
	for (i = 0; i < nops; i++) {
		st = c->run_one(ctx, arg + i * c->argsz, out + i * c->ressz);
		/* every result arm starts with its dfs_stat */
		memcpy(out + i * c->ressz + c->resu_off, &st, sizeof(st));
		if (st != DFS_OK)
			break;
	}
	if (st != DFS_OK) {
		if (is_protocol_abuse(st))
			log_warnx("%s op %u (%s) refused: %s", c->prog, i,
			    c->opname(arg + i * c->argsz), dfs_statname(st));
		else
			log_debug("%s op %u (%s): %s", c->prog, i,
			    c->opname(arg + i * c->argsz), dfs_statname(st));
		i++;
	}
	*res = out;
	*nres = i;
	return st;
}
