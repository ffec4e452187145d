/*
 * t_compound.c -- lib/compound.c: the COMPOUND evaluator, driven by a
 * fake program whose argop and resop are laid out like rpcgen's (an enum
 * op first, then a union whose arms start with a dfs_stat), with an op
 * table as the daemons write theirs.
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
	FAKE_DOUBLE	= 1,	/* OK, result = 2 * arg; moves arg bytes */
	FAKE_FAIL	= 2,	/* fails with the status in arg */
	/* 3: no such op (a hole in the table) */
	FAKE_NEEDFH	= 4,	/* OPF_NEED_FH: refused by check() */
	FAKE_WAIT	= 5,	/* OPF_MAY_WAIT: notes may_wait */
	FAKE_MAX	= 5
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

/* rpcgen's names, which COMPOUND_TABLE() and COMPOUND_PROG() expect */
typedef struct fake_argop fake_argop;
typedef struct fake_resop fake_resop;
typedef struct {
	struct { u_int ops_len; fake_argop *ops_val; } ops;
} fake_compound_args;
typedef struct {
	dfs_stat	status;
	struct { u_int res_len; fake_resop *res_val; } res;
} fake_compound_res;

struct op_ctx {
	struct compound_state cs;
	unsigned int	calls;		/* handler calls */
	unsigned int	dirty;		/* results not zeroed on entry */
	unsigned int	ran[DFS_MAXOPS + 2];	/* op indexes, in order */
	int		waits[DFS_MAXOPS + 2];	/* may_wait, by index */
	unsigned int	checks;		/* check() calls */
	const struct fake_argop *base;
};

/* Notes the call; returns its index in the COMPOUND. */
static unsigned int
note(struct op_ctx *ctx, const struct fake_argop *arg,
    const struct fake_resop *res)
{
	static const struct fake_resop	 zero;

	/* the op is set before the handler runs; the body is zeroed */
	if (memcmp(&res->fake_resop_u, &zero.fake_resop_u,
	    sizeof(zero.fake_resop_u)) != 0)
		ctx->dirty++;
	if (ctx->calls < DFS_MAXOPS + 2)
		ctx->ran[ctx->calls] = (unsigned int)(arg - ctx->base);
	ctx->calls++;
	return (unsigned int)(arg - ctx->base);
}

/* The handlers scribble over the status field so the test sees
 * compound_run() store the real one. */
static dfs_stat
op_double(struct op_ctx *ctx, const struct fake_argop *arg,
    struct fake_resop *res)
{
	note(ctx, arg, res);
	res->fake_resop_u.dbl.status = (dfs_stat)0x5eed;
	res->fake_resop_u.dbl.double_res_u.value =
	    2 * arg->fake_argop_u.double_arg;
	return DFS_OK;
}

static dfs_stat
op_fail(struct op_ctx *ctx, const struct fake_argop *arg,
    struct fake_resop *res)
{
	note(ctx, arg, res);
	res->fake_resop_u.fail = (dfs_stat)0x5eed;
	return arg->fake_argop_u.fail_arg;
}

static dfs_stat
op_wait(struct op_ctx *ctx, const struct fake_argop *arg,
    struct fake_resop *res)
{
	unsigned int	i = note(ctx, arg, res);

	if (i < DFS_MAXOPS + 2)
		ctx->waits[i] = ctx->cs.may_wait;
	return DFS_OK;
}

COMPOUND_TABLE(fake);

static const struct op_desc fake_optab[] = {
	[FAKE_ILLEGAL]	= OP("ILLEGAL",	NULL,		0),
	[FAKE_DOUBLE]	= OP("DOUBLE",	op_double,	OPF_DATA),
	[FAKE_FAIL]	= OP("FAIL",	op_fail,	OPF_DATA),
	[FAKE_NEEDFH]	= OP("NEEDFH",	op_double,	OPF_NEED_FH),
	[FAKE_WAIT]	= OP("WAIT",	op_wait,	OPF_MAY_WAIT),
};

/* There is never a current object. */
static dfs_stat
fake_check(struct op_ctx *oc, const void *argop, unsigned int flags)
{
	CU_ASSERT_PTR_NOT_NULL(argop);
	oc->checks++;
	return (flags & OPF_NEED_FH) ? DFS_ERR_NOFILEHANDLE : DFS_OK;
}

/* DOUBLE moves its argument's worth of bytes. */
static uint64_t
fake_opbytes(const void *argop, const void *resop)
{
	(void)resop;
	return ((const struct fake_argop *)argop)->fake_argop_u.double_arg;
}

static const struct compound fake_prog = {
	COMPOUND_PROG(fake, fake_optab),
	.check = fake_check,
	.opbytes = fake_opbytes,
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
	{ "illegal", "a hole in the table", 3, 2, (enum fake_opnum)3, 0,
	    DFS_ERR_OP_ILLEGAL, 3 },
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
	struct op_ctx		 ctx;
	void			*res;
	unsigned int		 nres, i;
	dfs_stat		 st;

	ops = build_ops(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = ops;
	res = (void *)1;
	nres = 12345;
	st = compound_run(&fake_prog, &ctx, &ctx.cs, ops, c->nops, &res,
	    &nres);
	if (st != c->want || nres != c->nres)
		fprintf(stderr, "\ncase '%s': status %d, %u results\n",
		    c->what, (int)st, nres);
	CU_ASSERT_EQUAL(st, c->want);
	CU_ASSERT_EQUAL(nres, c->nres);
	/* ops after a failure never run; each runs once, in order (an
	 * ILLEGAL op is answered without a handler) */
	CU_ASSERT_EQUAL(ctx.calls + (c->want == DFS_ERR_OP_ILLEGAL), c->nres);
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

/* Unknown codes, holes in the table and 0 are ILLEGAL: result op 0,
 * status OP_ILLEGAL, no handler run; the loop stops there too. */
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

/* Runs `n` ops with ctx (zeroed first); returns the status and leaves
 * the results in *res (the caller frees them). */
static dfs_stat
run_ops(struct op_ctx *ctx, struct op_counter *cnt,
    const struct fake_argop *ops, u_int n, struct fake_resop **res,
    u_int *nres)
{
	void		*out;
	dfs_stat	 st;

	memset(ctx, 0, sizeof(*ctx));
	ctx->base = ops;
	ctx->cs.counters = cnt;
	st = compound_run(&fake_prog, ctx, &ctx->cs, ops, n, &out, nres);
	*res = out;
	return st;
}

/* Every op counts one call in its slot (unknown codes in slot 0), the
 * failing one too, none after it; only a successful OPF_DATA op adds
 * bytes. */
static void
test_compound__counters(void)
{
	static const struct fake_argop ops[] = {
		{ FAKE_DOUBLE, { .double_arg = 10 } },
		{ FAKE_WAIT, { 0 } },
		{ FAKE_DOUBLE, { .double_arg = 5 } },
		{ FAKE_FAIL, { .fail_arg = DFS_ERR_NOENT } },
		{ FAKE_DOUBLE, { .double_arg = 1000 } },
	};
	static const struct fake_argop bad[] = {
		{ (enum fake_opnum)99, { 0 } },
	};
	struct op_counter	 cnt[FAKE_MAX + 1];
	struct op_ctx		 ctx;
	struct fake_resop	*res;
	u_int			 nres;

	memset(cnt, 0, sizeof(cnt));
	CU_ASSERT_EQUAL(run_ops(&ctx, cnt, ops, 5, &res, &nres),
	    DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(nres, 4);
	free(res);
	CU_ASSERT_EQUAL(run_ops(&ctx, cnt, bad, 1, &res, &nres),
	    DFS_ERR_OP_ILLEGAL);
	free(res);
	CU_ASSERT_EQUAL(cnt[FAKE_DOUBLE].calls, 2);
	CU_ASSERT_EQUAL(cnt[FAKE_DOUBLE].bytes, 15);
	CU_ASSERT_EQUAL(cnt[FAKE_FAIL].calls, 1);
	CU_ASSERT_EQUAL(cnt[FAKE_FAIL].bytes, 0);
	CU_ASSERT_EQUAL(cnt[FAKE_WAIT].calls, 1);
	CU_ASSERT_EQUAL(cnt[FAKE_WAIT].bytes, 0);	/* not OPF_DATA */
	CU_ASSERT_EQUAL(cnt[FAKE_ILLEGAL].calls, 1);
	CU_ASSERT_EQUAL(cnt[FAKE_NEEDFH].calls, 0);
	/* NULL counters: nothing counted, nothing breaks */
	CU_ASSERT_EQUAL(run_ops(&ctx, NULL, ops, 3, &res, &nres), DFS_OK);
	free(res);
}

/* check() sees every op's flags before it runs, and its refusal stops
 * the COMPOUND without running the handler. */
static void
test_compound__check(void)
{
	static const struct fake_argop ops[] = {
		{ FAKE_DOUBLE, { .double_arg = 1 } },
		{ FAKE_NEEDFH, { .double_arg = 2 } },
		{ FAKE_DOUBLE, { .double_arg = 3 } },
	};
	struct op_ctx		 ctx;
	struct fake_resop	*res;
	u_int			 nres;

	CU_ASSERT_EQUAL(run_ops(&ctx, NULL, ops, 3, &res, &nres),
	    DFS_ERR_NOFILEHANDLE);
	CU_ASSERT_EQUAL(nres, 2);
	CU_ASSERT_EQUAL(ctx.checks, 2);
	CU_ASSERT_EQUAL(ctx.calls, 1);
	if (nres == 2) {
		CU_ASSERT_EQUAL(res[1].op, FAKE_NEEDFH);
		CU_ASSERT_EQUAL(res[1].fake_resop_u.dbl.status,
		    DFS_ERR_NOFILEHANDLE);
	}
	free(res);
}

/* An OPF_MAY_WAIT op may wait only as the last op of its COMPOUND. */
static void
test_compound__may_wait(void)
{
	static const struct fake_argop ops[] = {
		{ FAKE_WAIT, { 0 } },
		{ FAKE_DOUBLE, { .double_arg = 1 } },
		{ FAKE_WAIT, { 0 } },
	};
	struct op_ctx		 ctx;
	struct fake_resop	*res;
	u_int			 nres;

	CU_ASSERT_EQUAL(run_ops(&ctx, NULL, ops, 3, &res, &nres), DFS_OK);
	free(res);
	CU_ASSERT_EQUAL(ctx.waits[0], 0);
	CU_ASSERT_EQUAL(ctx.waits[2], 1);
	CU_ASSERT_EQUAL(ctx.cs.may_wait, 0);	/* not after the loop */
	CU_ASSERT_EQUAL(run_ops(&ctx, NULL, ops, 1, &res, &nres), DFS_OK);
	free(res);
	CU_ASSERT_EQUAL(ctx.waits[0], 1);
}

/* STATS lists every named op but ILLEGAL, in table order, with its
 * counts; holes in the table are left out. */
static void
test_compound__stats(void)
{
	static const char *const names[] = { "DOUBLE", "FAIL", "NEEDFH",
	    "WAIT" };
	struct op_counter	 cnt[FAKE_MAX + 1];
	stats_res		 sr;
	dfs_counter		*v;
	u_int			 i;

	memset(cnt, 0, sizeof(cnt));
	cnt[FAKE_FAIL].calls = 7;
	cnt[FAKE_DOUBLE].bytes = 9;
	memset(&sr, 0, sizeof(sr));
	CU_ASSERT_EQUAL_FATAL(compound_stats(&fake_prog, cnt, &sr), DFS_OK);
	v = sr.stats_res_u.counters.counters_val;
	CU_ASSERT_EQUAL_FATAL(sr.stats_res_u.counters.counters_len, 4);
	for (i = 0; i < 4; i++)
		CU_ASSERT_STRING_EQUAL(v[i].name, names[i]);
	CU_ASSERT_EQUAL(v[0].bytes, 9);
	CU_ASSERT_EQUAL(v[1].calls, 7);
	xdr_free((xdrproc_t)xdr_stats_res, (char *)&sr);
}

static CU_TestInfo compound_tests[] = {
	{ "all_ok",		test_compound__all_ok },
	{ "stops_at_failure",	test_compound__stops_at_failure },
	{ "illegal_op",		test_compound__illegal_op },
	{ "limits",		test_compound__limits },
	{ "counters",		test_compound__counters },
	{ "check",		test_compound__check },
	{ "may_wait",		test_compound__may_wait },
	{ "stats",		test_compound__stats },
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
