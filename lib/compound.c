/*
 * compound.c -- the COMPOUND loop all three programs share, and the op
 * counters it keeps (compound.h says how they are counted).
 */
#include <assert.h>
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

/* Runs one op and counts it when the program counts.  Returns the op's
 * status. */
static dfs_stat
run_counted(const struct compound *c, void *ctx, const void *argop,
    void *resop)
{
	struct op_counter	*cnt = NULL;
	dfs_stat		 st;
	u_int			 slot;

	if (c->counters != NULL)
		cnt = c->counters(ctx);
	if (cnt != NULL) {
		slot = c->slot(argop);
		cnt = &cnt[slot < c->nslots ? slot : 0];
		/* ORDER: before the op, so that STATS counts itself */
		__atomic_fetch_add(&cnt->calls, 1, __ATOMIC_RELAXED);
	}
	st = c->run_one(ctx, argop, resop);
	if (cnt != NULL && st == DFS_OK && c->opbytes != NULL)
		__atomic_fetch_add(&cnt->bytes, c->opbytes(argop, resop),
		    __ATOMIC_RELAXED);
	return st;
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
		st = run_counted(c, ctx, arg + i * c->argsz,
		    out + i * c->ressz);
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

/* Frees the first n counters' names and the array; leaves res empty. */
static void
stats_free(stats_res *res, u_int n)
{
	dfs_counter	*v = res->stats_res_u.counters.counters_val;
	u_int		 i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	res->stats_res_u.counters.counters_val = NULL;
	res->stats_res_u.counters.counters_len = 0;
}

dfs_stat
compound_stats(const struct compound *c, void *ctx, stats_res *res)
{
	const struct op_counter	*cnt = NULL;
	dfs_counter		*v;
	const char		*name;
	u_int			 slot, n = 0;

	assert(c->nslots <= DFS_MAXCOUNTERS && c->slotname != NULL);
	if (c->counters != NULL)
		cnt = c->counters(ctx);
	v = calloc(c->nslots > 0 ? c->nslots : 1, sizeof(*v));
	if (v == NULL)
		return DFS_ERR_NOMEM;
	res->stats_res_u.counters.counters_val = v;
	for (slot = 1; slot < c->nslots; slot++) {
		if ((name = c->slotname(slot)) == NULL)
			continue;
		if ((v[n].name = strdup(name)) == NULL) {
			stats_free(res, n);
			return DFS_ERR_NOMEM;
		}
		if (cnt != NULL) {
			v[n].calls = __atomic_load_n(&cnt[slot].calls,
			    __ATOMIC_RELAXED);
			v[n].bytes = __atomic_load_n(&cnt[slot].bytes,
			    __ATOMIC_RELAXED);
		}
		n++;
	}
	res->stats_res_u.counters.counters_len = n;
	return DFS_OK;
}
