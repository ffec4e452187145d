/*
 * t_compound.c -- lib/compound.c: the COMPOUND loop, driven by a fake
 * program whose argop and resop are laid out like rpcgen's (an enum op
 * first, then a union whose arms start with a dfs_stat).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "compound.h"
#include "dfs_types.h"

enum fake_opnum {
	FAKE_ILLEGAL	= 0,
	FAKE_DOUBLE	= 1,	/* OK, result = 2 * arg */
	FAKE_FAIL	= 2,	/* fails with the status in arg */
	FAKE_MAX	= 2
};

struct fake_argop {
	enum fake_opnum		op;
	union {
		unsigned int	double_arg;
		dfs_stat	fail_arg;
	} fake_argop_u;
};

struct double_res {
	dfs_stat	status;
	union {
		unsigned int	value;
	} double_res_u;
};

struct fake_resop {
	enum fake_opnum		op;
	union {
		struct double_res	dbl;
		dfs_stat		fail;
		dfs_stat		illegal;
	} fake_resop_u;
};

struct fake_ctx {
	unsigned int	calls;
	unsigned int	dirty;		/* results not zeroed on entry */
	unsigned int	ran[DFS_MAXOPS + 2];	/* op indexes, in order */
	const struct fake_argop *base;
};

/* Returns the handler's status; scribbles over the status field so the
 * test sees compound_run() store the real one. */
static dfs_stat
fake_run_one(void *vctx, const void *varg, void *vres)
{
	static const struct fake_resop	 zero;
	struct fake_ctx			*ctx = vctx;
	const struct fake_argop		*arg = varg;
	struct fake_resop		*res = vres;

	if (memcmp(res, &zero, sizeof(zero)) != 0)
		ctx->dirty++;
	if (ctx->calls < DFS_MAXOPS + 2)
		ctx->ran[ctx->calls] = (unsigned int)(arg - ctx->base);
	ctx->calls++;
	res->op = arg->op;
	switch (arg->op) {
	case FAKE_DOUBLE:
		res->fake_resop_u.dbl.status = (dfs_stat)0x5eed;
		res->fake_resop_u.dbl.double_res_u.value =
		    2 * arg->fake_argop_u.double_arg;
		return DFS_OK;
	case FAKE_FAIL:
		res->fake_resop_u.fail = (dfs_stat)0x5eed;
		return arg->fake_argop_u.fail_arg;
	default:
		res->op = FAKE_ILLEGAL;
		return DFS_ERR_OP_ILLEGAL;
	}
}

static const char *
fake_opname(const void *varg)
{
	const struct fake_argop	*arg = varg;

	switch (arg->op) {
	case FAKE_DOUBLE:
		return "DOUBLE";
	case FAKE_FAIL:
		return "FAIL";
	default:
		return "ILLEGAL";
	}
}

static const struct compound fake_prog = {
	.prog = "fake",
	.argsz = sizeof(struct fake_argop),
	.ressz = sizeof(struct fake_resop),
	.resu_off = offsetof(struct fake_resop, fake_resop_u),
	.run_one = fake_run_one,
	.opname = fake_opname,
};

/*
 * One case: `nops` ops, all DOUBLE except the one at `bad` (if bad <
 * nops), which is `badop` with status `badst`.
 */
struct compound_case {
	const char	*group;		/* the test that runs it */
	const char	*what;
	unsigned int	 nops;
	unsigned int	 bad;
	enum fake_opnum	 badop;
	dfs_stat	 badst;
	dfs_stat	 want;
	unsigned int	 nres;
};

#define NONE	1000u

static const struct compound_case cases[] = {
	{ "ok", "all ok", 5, NONE, 0, 0, DFS_OK, 5 },
	{ "ok", "one op", 1, NONE, 0, 0, DFS_OK, 1 },
	{ "ok", "MAXOPS", DFS_MAXOPS, NONE, 0, 0, DFS_OK, DFS_MAXOPS },
	{ "fail", "fail at 2 of 5", 5, 2, FAKE_FAIL, DFS_ERR_NOENT,
	    DFS_ERR_NOENT, 3 },
	{ "fail", "fail first", 5, 0, FAKE_FAIL, DFS_ERR_STALE,
	    DFS_ERR_STALE, 1 },
	{ "fail", "fail last", 5, 4, FAKE_FAIL, DFS_ERR_EXIST,
	    DFS_ERR_EXIST, 5 },
	{ "fail", "protocol abuse", 4, 1, FAKE_FAIL, DFS_ERR_BADHANDLE,
	    DFS_ERR_BADHANDLE, 2 },
	{ "fail", "MAXOPS, last fails", DFS_MAXOPS, DFS_MAXOPS - 1,
	    FAKE_FAIL, DFS_ERR_IO, DFS_ERR_IO, DFS_MAXOPS },
	{ "illegal", "unknown op", 3, 1, (enum fake_opnum)77, 0,
	    DFS_ERR_OP_ILLEGAL, 2 },
	{ "illegal", "op zero", 3, 0, FAKE_ILLEGAL, 0, DFS_ERR_OP_ILLEGAL,
	    1 },
	{ "limits", "no ops", 0, NONE, 0, 0, DFS_OK, 0 },
	{ "limits", "MAXOPS + 1", DFS_MAXOPS + 1, NONE, 0, 0,
	    DFS_ERR_RESOURCE, 0 },
	{ "limits", "MAXOPS + 1, bad op", DFS_MAXOPS + 1, 0, FAKE_FAIL,
	    DFS_ERR_IO, DFS_ERR_RESOURCE, 0 },
};

/* Returns a calloc(3)ed array of the case's ops. */
static struct fake_argop *
build_ops(const struct compound_case *c)
{
	struct fake_argop	*ops;
	unsigned int		 i;

	ops = calloc(c->nops + 1, sizeof(*ops));
	if (ops == NULL)
		return NULL;
	for (i = 0; i < c->nops; i++) {
		ops[i].op = FAKE_DOUBLE;
		ops[i].fake_argop_u.double_arg = i + 1;
	}
	if (c->bad < c->nops) {
		ops[c->bad].op = c->badop;
		ops[c->bad].fake_argop_u.fail_arg = c->badst;
	}
	return ops;
}

/* Checks every result: op, the stored status and the DOUBLE value. */
static void
check_results(const struct compound_case *c, const struct fake_resop *res,
    unsigned int nres)
{
	unsigned int	i;

	for (i = 0; i < nres; i++) {
		if (i == c->bad) {
			CU_ASSERT_EQUAL(res[i].fake_resop_u.fail, c->want);
			CU_ASSERT_EQUAL(res[i].op, c->badop == FAKE_FAIL ?
			    FAKE_FAIL : FAKE_ILLEGAL);
			continue;
		}
		CU_ASSERT_EQUAL(res[i].op, FAKE_DOUBLE);
		CU_ASSERT_EQUAL(res[i].fake_resop_u.dbl.status, DFS_OK);
		CU_ASSERT_EQUAL(res[i].fake_resop_u.dbl.double_res_u.value,
		    2 * (i + 1));
	}
}

/* Runs one case and checks status, results and which ops ran. */
static void
run_case(const struct compound_case *c)
{
	struct fake_argop	*ops;
	struct fake_ctx		 ctx;
	void			*res;
	unsigned int		 nres, i;
	dfs_stat		 st;

	ops = build_ops(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = ops;
	res = (void *)1;
	nres = 12345;
	st = compound_run(&fake_prog, &ctx, ops, c->nops, &res, &nres);
	if (st != c->want || nres != c->nres)
		fprintf(stderr, "\ncase '%s': status %d, %u results\n",
		    c->what, (int)st, nres);
	CU_ASSERT_EQUAL(st, c->want);
	CU_ASSERT_EQUAL(nres, c->nres);
	/* ops after a failure never run; each runs once, in order */
	CU_ASSERT_EQUAL(ctx.calls, c->nres);
	CU_ASSERT_EQUAL(ctx.dirty, 0);
	for (i = 0; i < ctx.calls && i < DFS_MAXOPS; i++)
		CU_ASSERT_EQUAL(ctx.ran[i], i);
	CU_ASSERT_EQUAL(res == NULL, c->nres == 0);
	if (res != NULL && nres == c->nres)
		check_results(c, res, nres);
	free(res);
	free(ops);
}

static void
run_group(const char *group)
{
	size_t	k, n = 0;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		if (strcmp(cases[k].group, group) == 0) {
			run_case(&cases[k]);
			n++;
		}
	CU_ASSERT(n > 0);
}

/* Every op succeeds: status OK and one result per op. */
static void
test_compound__all_ok(void)
{
	run_group("ok");
}

/* The first failure stops evaluation; its status is the reply's. */
static void
test_compound__stops_at_failure(void)
{
	run_group("fail");
}

/* run_one maps unknown codes to ILLEGAL; the loop stops there too. */
static void
test_compound__illegal_op(void)
{
	run_group("illegal");
}

/* 0 ops is fine; more than DFS_MAXOPS is RESOURCE, nothing run. */
static void
test_compound__limits(void)
{
	run_group("limits");
}

static CU_TestInfo compound_tests[] = {
	{ "all_ok",		test_compound__all_ok },
	{ "stops_at_failure",	test_compound__stops_at_failure },
	{ "illegal_op",		test_compound__illegal_op },
	{ "limits",		test_compound__limits },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "compound", NULL, NULL, NULL, NULL, compound_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
