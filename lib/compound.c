/*
 * compound.c -- the COMPOUND evaluator all three daemons share, and the
 * op counters it keeps (compound.h says what it does for each op).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "compound.h"
#include "kv.h"
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

/* Returns the table entry in `slot` (< c->nops): a struct op_desc starts
 * with its op_info. */
static const void *
op_desc(const struct compound *c, u_int slot)
{
	return (const char *)c->optab + slot * c->descsz;
}

/* Returns the name and flags of the op in `slot`. */
static const struct op_info *
op_info(const struct compound *c, u_int slot)
{
	return op_desc(c, slot);
}

/* Returns the op's table slot: its code, or 0 (ILLEGAL) for a code the
 * table does not name. */
static u_int
op_slot(const struct compound *c, const void *argop)
{
	u_int	code;

	/* every argop starts with its op code (COMPOUND_TABLE checks) */
	memcpy(&code, argop, sizeof(code));
	if (code >= c->nops || op_info(c, code)->name == NULL)
		return 0;
	return code;
}

/*
 * Before an OPF_MUTATES op: makes sure the disk holds what it may append
 * and a checkpoint (kv_reserve), or for OPF_LOGROOM what it may append
 * alone.  Returns DFS_OK, DFS_ERR_NOSPC or DFS_ERR_SERVERFAULT (logged;
 * nothing was written, so IO here must not make the daemon exit).
 */
static dfs_stat
reserve(const struct compound *c, struct kv *kv, unsigned int flags)
{
	int	rc;

	if (!(flags & OPF_MUTATES) || kv == NULL)
		return DFS_OK;
	if (flags & OPF_LOGROOM)
		rc = kv_reserve_log(kv, c->logroom);
	else
		rc = kv_reserve(kv, flags & OPF_LASTROOM ? c->room :
		    2 * c->room);
	if (rc == -DFS_ERR_IO)
		log_warn("cannot reserve disk space for the %s log", c->prog);
	return rc == 0 ? DFS_OK : rc == -DFS_ERR_NOSPC ? DFS_ERR_NOSPC :
	    DFS_ERR_SERVERFAULT;
}

/* Runs the handler of the op in `slot` (not ILLEGAL) after the checks
 * its flags ask for.  Returns the op's status. */
static dfs_stat
run_checked(const struct compound *c, struct op_ctx *oc,
    struct compound_state *cs, u_int slot, const void *argop, void *resop)
{
	unsigned int	flags = op_info(c, slot)->flags;
	dfs_stat	st;
	int		was_dirty;

	if (c->check != NULL && (st = c->check(oc, argop, flags)) != DFS_OK)
		return st;
	if ((st = reserve(c, cs->kv, flags)) != DFS_OK)
		return st;
	cs->may_wait = (flags & OPF_MAY_WAIT) && cs->i + 1 == cs->nops;
	was_dirty = cs->kv != NULL && kv_dirty(cs->kv);
	st = c->call(op_desc(c, slot), oc, argop, resop);
	/* the table's flags are the truth about which ops write */
	assert((flags & OPF_MUTATES) || was_dirty || cs->kv == NULL ||
	    !kv_dirty(cs->kv));
	return st;
}

/* Runs one op, counted when the context counts, and sets its result's
 * op.  Returns the op's status. */
static dfs_stat
run_one(const struct compound *c, struct op_ctx *oc,
    struct compound_state *cs, const void *argop, void *resop)
{
	struct op_counter	*cnt = NULL;
	u_int			 slot = op_slot(c, argop);
	dfs_stat		 st;

	if (cs->counters != NULL) {
		cnt = &cs->counters[slot];
		/* ORDER: before the op, so that STATS counts itself */
		__atomic_fetch_add(&cnt->calls, 1, __ATOMIC_RELAXED);
	}
	/* slot 0, ILLEGAL, selects the result's default arm */
	memcpy(resop, &slot, sizeof(slot));
	if (slot == 0)
		return DFS_ERR_OP_ILLEGAL;
	st = run_checked(c, oc, cs, slot, argop, resop);
	if (cnt != NULL && st == DFS_OK &&
	    (op_info(c, slot)->flags & OPF_DATA) && c->opbytes != NULL)
		__atomic_fetch_add(&cnt->bytes, c->opbytes(argop, resop),
		    __ATOMIC_RELAXED);
	return st;
}

/* Logs why op `i` (at `argop`) stopped the COMPOUND. */
static void
log_stop(const struct compound *c, u_int i, const void *argop, dfs_stat st)
{
	const char	*name = op_info(c, op_slot(c, argop))->name;

	if (is_protocol_abuse(st))
		log_warnx("%s op %u (%s) refused: %s", c->prog, i, name,
		    dfs_statname(st));
	else
		log_debug("%s op %u (%s): %s", c->prog, i, name,
		    dfs_statname(st));
}

dfs_stat
compound_run(const struct compound *c, struct op_ctx *oc,
    struct compound_state *cs, const void *ops, u_int nops, void **res,
    u_int *nres)
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
	cs->nops = nops;
	for (i = 0; i < nops; i++) {
		cs->i = i;
		st = run_one(c, oc, cs, arg + i * c->argsz,
		    out + i * c->ressz);
		/* every result arm starts with its dfs_stat */
		memcpy(out + i * c->ressz + c->resu_off, &st, sizeof(st));
		if (st != DFS_OK)
			break;
	}
	cs->may_wait = 0;
	if (st != DFS_OK) {
		log_stop(c, i, arg + i * c->argsz, st);
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
compound_stats(const struct compound *c, const struct op_counter *cnt,
    stats_res *res)
{
	dfs_counter	*v;
	const char	*name;
	u_int		 slot, n = 0;

	assert(c->nops <= DFS_MAXCOUNTERS);
	v = calloc(c->nops > 0 ? c->nops : 1, sizeof(*v));
	if (v == NULL)
		return DFS_ERR_NOMEM;
	res->stats_res_u.counters.counters_val = v;
	for (slot = 1; slot < c->nops; slot++) {
		if ((name = op_info(c, slot)->name) == NULL)
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
