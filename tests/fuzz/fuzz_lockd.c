/*
 * fuzz_lockd.c -- libFuzzer target of the LOCK program: one input is
 * the XDR body of a LOCK COMPOUND call (fuzz.h).
 *
 * Every input runs on a fresh state directory whose lock table holds
 * two locks (EXCL on /a/b, SHARED on /c), granted the same way each
 * time, under limits of paths and lease small enough for inputs to
 * reach.  With getrandom(2) repeatable, their ids and the id the
 * input's first LOCK gets are known, so seeds UNLOCK, RENEW and TEST
 * real ids.
 * A LOCK that asks to wait is answered at once, as for a caller that
 * cannot be answered later (no connection), so waiters are not fuzzed
 * here: t_lockd_wait covers them with its stub connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kv.h"
#include "../../server/lock/lockd.h"

#define LEASE_MS	60000

/* Small, so that inputs of a few paths reach every limit (limits.c). */
static const struct lock_limits limits = {
	.max_lease_ms = 2 * LEASE_MS,
	.max_paths = 24,
	.client_paths = 16,
	.max_waiters = 4,
	.client_waiters = 2,
};

static struct {
	char		base[FUZZ_PATHLEN];
	char		dir[FUZZ_PATHLEN + 8];
	struct lock_ctx	ctx;
	dfs_lockid	held[2];	/* the fresh state's locks */
} st;

/* Runs `n` ops on the open state; returns the reply (free it). */
static lock_compound_res
run(lock_argop *ops, u_int n)
{
	lock_compound_args	args;
	lock_compound_res	res;

	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	memset(&res, 0, sizeof(res));
	if (lock_compound_1_svc(&args, &res, NULL) != TRUE)
		abort();
	return res;
}

static void
arg_lock(lock_argop *a, dfs_path *paths, u_int n, dfs_lockmode mode)
{
	memset(a, 0, sizeof(*a));
	a->op = LOP_LOCK;
	a->lock_argop_u.lock.paths.paths_val = paths;
	a->lock_argop_u.lock.paths.paths_len = n;
	a->lock_argop_u.lock.mode = mode;
	a->lock_argop_u.lock.lease_ms = LEASE_MS;
}

/* Grants `path` in `mode`; returns its id.  Aborts if refused. */
static dfs_lockid
grant(const char *path, dfs_lockmode mode)
{
	dfs_path		p;
	lock_argop		op;
	lock_compound_res	res;
	dfs_lockid		id;

	FUZZ_BYTES(p.dfs_path, path);
	arg_lock(&op, &p, 1, mode);
	res = run(&op, 1);
	if (res.status != DFS_OK) {
		fprintf(stderr, "fuzz_lockd: setup failed: %d\n", res.status);
		abort();
	}
	id = res.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.id;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return id;
}

/* Opens a fresh state directory with the two locks; aborts on failure. */
static void
state_open(void)
{
	char	err[256];

	fuzz_fresh_dir(st.dir);
	fuzz_reset_random();
	memset(&st.ctx, 0, sizeof(st.ctx));
	st.ctx.default_lease_ms = LEASE_MS;
	st.ctx.lim = limits;
	if (kv_open(&st.ctx.kv, st.dir, "lockd", err, sizeof(err)) != 0 ||
	    table_load(&st.ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_lockd: %s\n", err);
		abort();
	}
	compound_setctx(&st.ctx);
	st.held[0] = grant("/a/b", DFS_LOCK_EXCL);
	st.held[1] = grant("/c", DFS_LOCK_SHARED);
}

static void
state_close(void)
{
	wait_release(&st.ctx);
	table_release(&st.ctx);
	kv_close(st.ctx.kv);
	st.ctx.kv = NULL;
}

/* --- seeds: what libdfs, dfs-lock and the name server send --- */

static void
seed(const char *dir, const char *name, lock_argop *ops, u_int n)
{
	lock_compound_args	args;

	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	fuzz_write_seed(dir, name, (xdrproc_t)xdr_lock_compound_args, &args);
}

static void
arg_id(lock_argop *a, lock_opnum op, dfs_lockid id)
{
	memset(a, 0, sizeof(*a));
	a->op = op;
	if (op == LOP_UNLOCK)
		a->lock_argop_u.unlock = id;
	else
		a->lock_argop_u.renew = id;
}

static void
arg_test(lock_argop *a, dfs_path *path, dfs_lockid id, dfs_lockmode mode)
{
	memset(a, 0, sizeof(*a));
	a->op = LOP_TEST;
	a->lock_argop_u.test.path = *path;
	a->lock_argop_u.test.id = id;
	a->lock_argop_u.test.mode = mode;
}

/* Seeds about the locks the input itself takes: the id its first LOCK
 * gets is what a LOCK on the fresh state gets. */
static void
seeds_own(const char *dir, dfs_path *p)
{
	dfs_lockid	next;
	lock_argop	ops[4];

	arg_lock(&ops[0], &p[2], 2, DFS_LOCK_EXCL);
	next = grant("/x/y", DFS_LOCK_EXCL);
	seed(dir, "lock-two", ops, 1);
	arg_test(&ops[1], &p[2], next, DFS_LOCK_EXCL);
	arg_id(&ops[2], LOP_RENEW, next);
	arg_id(&ops[3], LOP_UNLOCK, next);
	seed(dir, "lock-test-renew-unlock", ops, 4);
	arg_lock(&ops[0], &p[4], 1, DFS_LOCK_SHARED);
	arg_lock(&ops[1], &p[4], 1, DFS_LOCK_SHARED);
	arg_lock(&ops[2], &p[4], 1, DFS_LOCK_EXCL);
	ops[2].lock_argop_u.lock.wait_ms = 100;
	seed(dir, "shared-shared-excl-wait", ops, 3);
}

/* Seeds about the fresh state's two locks. */
static void
seeds_held(const char *dir, dfs_path *p)
{
	static const dfs_lockid	nobody;
	lock_argop		ops[4];

	arg_test(&ops[0], &p[0], nobody, DFS_LOCK_EXCL);
	arg_test(&ops[1], &p[0], st.held[0], DFS_LOCK_EXCL);
	arg_test(&ops[2], &p[1], nobody, DFS_LOCK_SHARED);
	seed(dir, "test-held", ops, 3);
	arg_lock(&ops[0], &p[0], 2, DFS_LOCK_SHARED);
	seed(dir, "lock-conflict", ops, 1);
	arg_id(&ops[0], LOP_RENEW, st.held[1]);
	arg_id(&ops[1], LOP_UNLOCK, st.held[0]);
	arg_lock(&ops[2], &p[0], 1, DFS_LOCK_EXCL);
	seed(dir, "renew-unlock-relock", ops, 3);
	arg_id(&ops[0], LOP_UNLOCK, st.held[0]);
	arg_id(&ops[1], LOP_UNLOCK, st.held[0]);
	seed(dir, "unlock-twice", ops, 2);
	memset(&ops[0], 0, sizeof(ops[0]));
	ops[0].op = LOP_STATS;
	seed(dir, "stats", ops, 1);
	ops[0].op = (lock_opnum)77;
	seed(dir, "illegal", ops, 1);
}

/* DFS_FUZZ_SEEDS mode: writes the seed corpus and exits. */
static void
write_seeds(const char *dir)
{
	static const char *const paths[] = {
		"/a/b", "/c", "/x/y", "/x/z", "/s"
	};
	dfs_path	p[5];
	u_int		i;

	for (i = 0; i < 5; i++)
		FUZZ_BYTES(p[i].dfs_path, paths[i]);
	seeds_held(dir, p);
	seeds_own(dir, p);
	state_close();
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_mkbase("lockd", st.base);
	snprintf(st.dir, sizeof(st.dir), "%s/state", st.base);
	if (fuzz_seed_dir() != NULL) {
		state_open();
		write_seeds(fuzz_seed_dir());
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lock_compound_args	args;
	lock_compound_res	res;

	fuzz_decode_only((xdrproc_t)xdr_lock_compound_res, sizeof(res),
	    data, size);
	memset(&args, 0, sizeof(args));
	if (!fuzz_decode((xdrproc_t)xdr_lock_compound_args, &args, data,
	    size))
		return 0;
	state_open();
	res = run(args.ops.ops_val, args.ops.ops_len);
	fuzz_must_encode((xdrproc_t)xdr_lock_compound_res, &res,
	    "LOCK reply");
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	state_close();
	xdr_free((xdrproc_t)xdr_lock_compound_args, (char *)&args);
	return 0;
}
