/*
 * t_lockd_ops.c -- dfs-lockd's ops, COMPOUND and durability, driven
 * through lock_compound_1_svc() on a state directory of its own per test.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "kv.h"
#include "../../server/lock/lockd.h"

/* --- fixture --- */

struct fx {
	char		dir[64];
	struct lock_ctx	ctx;
};

static void
fx_open_dir(struct fx *f, const char *dir)
{
	char	err[256];
	int	rc;

	memset(&f->ctx, 0, sizeof(f->ctx));
	f->ctx.default_lease_ms = 60000;
	rc = kv_open(&f->ctx.kv, dir, "lockd", err, sizeof(err));
	CU_ASSERT_FATAL(rc == 0);
	rc = table_load(&f->ctx, err, sizeof(err));
	CU_ASSERT_FATAL(rc == 0);
	compound_setctx(&f->ctx);
}

static void
fx_open(struct fx *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/t_lockd.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(f->dir) != NULL);
	fx_open_dir(f, f->dir);
}

static void
fx_close_state(struct fx *f)
{
	table_release(&f->ctx);
	kv_close(f->ctx.kv);
	f->ctx.kv = NULL;
}

static void
rm_dir(const char *dir)
{
	static const char *const names[] = {
		"lockd.db", "lockd.log", "lockd.work", "lockd.lock",
		"lockd.db.tmp"
	};
	char	p[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void
fx_close(struct fx *f)
{
	fx_close_state(f);
	rm_dir(f->dir);
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- request helpers --- */

static dfs_path
P(const char *s)
{
	dfs_path	p;

	p.dfs_path_val = (char *)s;
	p.dfs_path_len = (u_int)strlen(s);
	return p;
}

/* Runs a COMPOUND of the given ops; the caller frees res. */
static dfs_stat
run(lock_argop *ops, u_int n, lock_compound_res *res)
{
	lock_compound_args	args;

	memset(res, 0, sizeof(*res));
	args.ops.ops_val = ops;
	args.ops.ops_len = n;
	CU_ASSERT_FATAL(lock_compound_1_svc(&args, res, NULL) == TRUE);
	return res->status;
}

static void
res_free(lock_compound_res *res)
{
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)res);
}

/* LOCK of `n` paths.  On success stores the id; on LOCKED copies the
 * denial's path (NUL-terminated, into dpath if not NULL) and remaining. */
static dfs_stat
lock_pv(const dfs_path *paths, u_int n, dfs_lockmode mode, u_int lease,
    dfs_lockid *id, char *dpath, u_int *remaining)
{
	lock_compound_res	 res;
	lock_argop		 op;
	lock_res		*r;
	dfs_stat		 st;

	memset(&op, 0, sizeof(op));
	op.op = LOP_LOCK;
	op.lock_argop_u.lock.paths.paths_val = (dfs_path *)paths;
	op.lock_argop_u.lock.paths.paths_len = n;
	op.lock_argop_u.lock.mode = mode;
	op.lock_argop_u.lock.lease_ms = lease;
	st = run(&op, 1, &res);
	CU_ASSERT_FATAL(res.res.res_len == 1);
	r = &res.res.res_val[0].lock_resop_u.lock;
	CU_ASSERT(r->status == st);
	if (st == DFS_OK && id != NULL)
		*id = r->lock_res_u.ok.id;
	if (st == DFS_OK && lease != 0)
		CU_ASSERT(r->lock_res_u.ok.lease_ms == lease);
	if (st == DFS_ERR_LOCKED && dpath != NULL) {
		memcpy(dpath, r->lock_res_u.denied.path.dfs_path_val,
		    r->lock_res_u.denied.path.dfs_path_len);
		dpath[r->lock_res_u.denied.path.dfs_path_len] = '\0';
	}
	if (st == DFS_ERR_LOCKED && remaining != NULL)
		*remaining = r->lock_res_u.denied.remaining_ms;
	res_free(&res);
	return st;
}

static dfs_stat
lock1(const char *path, dfs_lockmode mode, u_int lease, dfs_lockid *id)
{
	dfs_path	p = P(path);

	return lock_pv(&p, 1, mode, lease, id, NULL, NULL);
}

/* TEST; on LOCKED stores the denial's mode and remaining time. */
static dfs_stat
test_full(const char *path, dfs_lockid id, dfs_lockmode mode,
    dfs_lockmode *dmode, u_int *remaining)
{
	lock_compound_res	res;
	lock_argop		op;
	dfs_stat		st;

	memset(&op, 0, sizeof(op));
	op.op = LOP_TEST;
	op.lock_argop_u.test.path = P(path);
	op.lock_argop_u.test.id = id;
	op.lock_argop_u.test.mode = mode;
	st = run(&op, 1, &res);
	CU_ASSERT_FATAL(res.res.res_len == 1);
	if (st == DFS_ERR_LOCKED) {
		lock_denied *d =
		    &res.res.res_val[0].lock_resop_u.test.test_res_u.denied;

		CU_ASSERT(d->path.dfs_path_len == strlen(path) &&
		    memcmp(d->path.dfs_path_val, path, strlen(path)) == 0);
		if (dmode != NULL)
			*dmode = d->mode;
		if (remaining != NULL)
			*remaining = d->remaining_ms;
	}
	res_free(&res);
	return st;
}

static dfs_stat
test1(const char *path, dfs_lockid id, dfs_lockmode mode)
{
	return test_full(path, id, mode, NULL, NULL);
}

/* UNLOCK (op LOP_UNLOCK) or RENEW (LOP_RENEW) of one id. */
static dfs_stat
id_op(lock_opnum which, dfs_lockid id)
{
	lock_compound_res	res;
	lock_argop		op;
	dfs_stat		st;

	memset(&op, 0, sizeof(op));
	op.op = which;
	if (which == LOP_UNLOCK)
		op.lock_argop_u.unlock = id;
	else
		op.lock_argop_u.renew = id;
	st = run(&op, 1, &res);
	CU_ASSERT(res.res.res_len == 1);
	if (st == DFS_OK && which == LOP_RENEW)
		CU_ASSERT(res.res.res_val[0].lock_resop_u.renew.renew_res_u.
		    lease_ms > 0);
	res_free(&res);
	return st;
}

static const dfs_lockid NOBODY = { 0, 0 };

/* --- grant and conflict --- */

static const struct {
	dfs_lockmode	first, second;
	dfs_stat	want;
} conflict_cases[] = {
	{ DFS_LOCK_EXCL,   DFS_LOCK_EXCL,   DFS_ERR_LOCKED },
	{ DFS_LOCK_SHARED, DFS_LOCK_SHARED, DFS_OK },
	{ DFS_LOCK_SHARED, DFS_LOCK_EXCL,   DFS_ERR_LOCKED },
	{ DFS_LOCK_EXCL,   DFS_LOCK_SHARED, DFS_ERR_LOCKED },
};

static void
test_lockd__grant_conflict(void)
{
	struct fx	f;
	dfs_lockid	a, b;
	dfs_path	p = P("/a/b");
	char		dpath[64];
	u_int		i, left;

	for (i = 0; i < sizeof(conflict_cases) / sizeof(conflict_cases[0]);
	    i++) {
		fx_open(&f);
		CU_ASSERT(lock1("/a/b", conflict_cases[i].first, 5000, &a) ==
		    DFS_OK);
		CU_ASSERT(a.instance == f.ctx.instance && a.nonce != 0);
		left = 0;
		CU_ASSERT(lock_pv(&p, 1, conflict_cases[i].second, 5000, &b,
		    dpath, &left) == conflict_cases[i].want);
		if (conflict_cases[i].want == DFS_ERR_LOCKED) {
			CU_ASSERT_STRING_EQUAL(dpath, "/a/b");
			CU_ASSERT(left > 0 && left <= 5000);
		} else
			CU_ASSERT(b.nonce != a.nonce);
		/* an unrelated path is never in conflict */
		CU_ASSERT(lock1("/a/c", DFS_LOCK_EXCL, 0, NULL) == DFS_OK);
		fx_close(&f);
	}
}

static void
test_lockd__default_lease(void)
{
	struct fx		f;
	dfs_lockid		id;
	struct lk		*l;

	fx_open(&f);
	CU_ASSERT(lock1("/x", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	l = table_find(&f.ctx, id.nonce);
	CU_ASSERT_FATAL(l != NULL);
	CU_ASSERT(l->lease_ms == 60000);
	fx_close(&f);
}

/* Conflict on the 3rd of 5 paths: none of the 5 is granted, and a lapsed
 * lock on the 1st is not revoked either. */
static void
test_lockd__all_or_nothing(void)
{
	static const char *const names[] = { "/p1", "/p2", "/p3", "/p4",
	    "/p5" };
	struct fx	f;
	dfs_path	p[5];
	dfs_lockid	lapsed, holder;
	char		dpath[64];
	int		i;

	fx_open(&f);
	for (i = 0; i < 5; i++)
		p[i] = P(names[i]);
	CU_ASSERT(lock1("/p1", DFS_LOCK_EXCL, 20, &lapsed) == DFS_OK);
	CU_ASSERT(lock1("/p3", DFS_LOCK_SHARED, 5000, &holder) == DFS_OK);
	sleep_ms(60);
	CU_ASSERT(lock_pv(p, 5, DFS_LOCK_EXCL, 1000, NULL, dpath, NULL) ==
	    DFS_ERR_LOCKED);
	CU_ASSERT_STRING_EQUAL(dpath, "/p3");
	for (i = 1; i < 5; i++)
		if (i != 2)
			CU_ASSERT(table_path(&f.ctx, names[i],
			    strlen(names[i])) == NULL);
	CU_ASSERT(table_find(&f.ctx, lapsed.nonce) != NULL);
	CU_ASSERT(!table_is_revoked(&f.ctx, lapsed.nonce));
	/* once /p3 is free, the whole request goes through */
	CU_ASSERT(id_op(LOP_UNLOCK, holder) == DFS_OK);
	CU_ASSERT(lock_pv(p, 5, DFS_LOCK_EXCL, 1000, &holder, NULL, NULL) ==
	    DFS_OK);
	CU_ASSERT(test1("/p1", lapsed, DFS_LOCK_EXCL) == DFS_ERR_EXPIRED);
	for (i = 0; i < 5; i++)
		CU_ASSERT(test1(names[i], holder, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* --- argument checks --- */

static const struct {
	const char	*name;
	const char	*bytes;
	size_t		 len;		/* 0: strlen(bytes) */
	dfs_stat	 want;
} path_cases[] = {
	{ "relative",	"a/b",		0, DFS_ERR_INVAL },
	{ "dotdot",	"/a/../b",	0, DFS_ERR_INVAL },
	{ "dot",	"/a/./b",	0, DFS_ERR_INVAL },
	{ "empty",	"",		0, DFS_ERR_INVAL },
	{ "double",	"/a//b",	0, DFS_ERR_INVAL },
	{ "trailing",	"/a/",		0, DFS_ERR_INVAL },
	{ "nul",	"/a\0b",	4, DFS_ERR_INVAL },
	{ "long",	NULL,		0, DFS_ERR_NAMETOOLONG },
	{ "root",	"/",		0, DFS_OK },
	{ "max",	NULL,		1, DFS_OK },
};

/* Fills buf with "/" and a component of 256 bytes (or 255 if max). */
static size_t
long_path(char *buf, int max)
{
	size_t	n = max ? 255 : 256;

	buf[0] = '/';
	memset(buf + 1, 'x', n);
	return n + 1;
}

static void
test_lockd__bad_path(void)
{
	struct fx	f;
	dfs_path	p;
	char		buf[300];
	size_t		i;
	dfs_stat	st;

	fx_open(&f);
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		if (path_cases[i].bytes == NULL) {
			p.dfs_path_val = buf;
			p.dfs_path_len = (u_int)long_path(buf,
			    path_cases[i].len);
		} else {
			p.dfs_path_val = (char *)path_cases[i].bytes;
			p.dfs_path_len = path_cases[i].len ?
			    (u_int)path_cases[i].len :
			    (u_int)strlen(path_cases[i].bytes);
		}
		st = lock_pv(&p, 1, DFS_LOCK_SHARED, 0, NULL, NULL, NULL);
		if (st != path_cases[i].want)
			fprintf(stderr, "path case %s: %d\n",
			    path_cases[i].name, (int)st);
		CU_ASSERT(st == path_cases[i].want);
	}
	/* TEST checks its path the same way */
	CU_ASSERT(test1("a", NOBODY, DFS_LOCK_EXCL) == DFS_ERR_INVAL);
	CU_ASSERT(test1("/..", NOBODY, DFS_LOCK_EXCL) == DFS_ERR_INVAL);
	fx_close(&f);
}

static void
test_lockd__bad_args(void)
{
	struct fx	f;
	dfs_path	p[DFS_MAXLOCKPATHS + 1], dup[3];
	char		names[DFS_MAXLOCKPATHS + 1][16];
	int		i;

	fx_open(&f);
	for (i = 0; i <= DFS_MAXLOCKPATHS; i++) {
		snprintf(names[i], sizeof(names[i]), "/n%d", i);
		p[i] = P(names[i]);
	}
	CU_ASSERT(lock_pv(p, 0, DFS_LOCK_EXCL, 0, NULL, NULL, NULL) ==
	    DFS_ERR_INVAL);
	CU_ASSERT(lock_pv(p, DFS_MAXLOCKPATHS + 1, DFS_LOCK_EXCL, 0, NULL,
	    NULL, NULL) == DFS_ERR_INVAL);
	dup[0] = P("/d1");
	dup[1] = P("/d2");
	dup[2] = P("/d1");
	CU_ASSERT(lock_pv(dup, 3, DFS_LOCK_SHARED, 0, NULL, NULL, NULL) ==
	    DFS_ERR_INVAL);
	CU_ASSERT(lock1("/x", DFS_LOCK_EXCL, LOCKD_MAX_LEASE_MS + 1, NULL) ==
	    DFS_ERR_INVAL);
	CU_ASSERT(lock1("/x", 0, 0, NULL) == DFS_ERR_INVAL);
	CU_ASSERT(lock1("/x", 3, 0, NULL) == DFS_ERR_INVAL);
	CU_ASSERT(test1("/x", NOBODY, 0) == DFS_ERR_INVAL);
	CU_ASSERT(f.ctx.nlocks == 0);
	/* the limits themselves are fine */
	CU_ASSERT(lock_pv(p, DFS_MAXLOCKPATHS, DFS_LOCK_EXCL,
	    LOCKD_MAX_LEASE_MS, NULL, NULL, NULL) == DFS_OK);
	fx_close(&f);
}

/* --- ids --- */

static void
test_lockd__unlock_relock(void)
{
	struct fx	f;
	dfs_lockid	a, b;

	fx_open(&f);
	CU_ASSERT(lock1("/u", DFS_LOCK_EXCL, 0, &a) == DFS_OK);
	CU_ASSERT(lock1("/u", DFS_LOCK_EXCL, 0, &b) == DFS_ERR_LOCKED);
	CU_ASSERT(id_op(LOP_UNLOCK, a) == DFS_OK);
	CU_ASSERT(lock1("/u", DFS_LOCK_EXCL, 0, &b) == DFS_OK);
	CU_ASSERT(id_op(LOP_UNLOCK, a) == DFS_ERR_BADLOCK);
	CU_ASSERT(id_op(LOP_RENEW, a) == DFS_ERR_BADLOCK);
	CU_ASSERT(test1("/u", b, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* Unknown nonce, other instance, all zero: BADLOCK for UNLOCK and RENEW,
 * and the holder's lock is untouched afterwards. */
static void
test_lockd__badlock(void)
{
	struct fx	f;
	dfs_lockid	holder, bad[3];
	u_int		i;

	fx_open(&f);
	CU_ASSERT(lock1("/h", DFS_LOCK_EXCL, 0, &holder) == DFS_OK);
	bad[0] = holder;
	bad[0].nonce ^= 1;
	bad[1] = holder;
	bad[1].instance ^= 1;
	bad[2] = NOBODY;
	for (i = 0; i < 3; i++) {
		CU_ASSERT(id_op(LOP_UNLOCK, bad[i]) == DFS_ERR_BADLOCK);
		CU_ASSERT(id_op(LOP_RENEW, bad[i]) == DFS_ERR_BADLOCK);
		if (i < 2) {
			/* bad id on a free path, then on the held one */
			CU_ASSERT(test1("/free", bad[i], DFS_LOCK_EXCL) ==
			    DFS_ERR_BADLOCK);
			CU_ASSERT(test1("/h", bad[i], DFS_LOCK_SHARED) ==
			    DFS_ERR_LOCKED);
		}
	}
	CU_ASSERT(test1("/h", holder, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(id_op(LOP_RENEW, holder) == DFS_OK);
	CU_ASSERT(lock1("/h", DFS_LOCK_SHARED, 0, NULL) == DFS_ERR_LOCKED);
	fx_close(&f);
}

/* A bad id never revokes a lapsed holder. */
static void
test_lockd__badlock_keeps_lapsed(void)
{
	struct fx	f;
	dfs_lockid	holder, bad;
	u_int		left = 1;

	fx_open(&f);
	CU_ASSERT(lock1("/h", DFS_LOCK_EXCL, 20, &holder) == DFS_OK);
	sleep_ms(60);
	bad = holder;
	bad.nonce ^= 1;
	CU_ASSERT(test_full("/h", bad, DFS_LOCK_EXCL, NULL, &left) ==
	    DFS_ERR_LOCKED);
	CU_ASSERT(left == 0);
	CU_ASSERT(test1("/h", holder, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* --- leases --- */

static void
test_lockd__courtesy_expiry(void)
{
	struct fx	f;
	dfs_lockid	old, new;

	fx_open(&f);
	CU_ASSERT(lock1("/c", DFS_LOCK_EXCL, 50, &old) == DFS_OK);
	sleep_ms(100);
	/* lapsed, but nobody wanted it: still valid (and renewed) */
	CU_ASSERT(test1("/c", old, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(lock1("/c", DFS_LOCK_SHARED, 0, NULL) == DFS_ERR_LOCKED);
	sleep_ms(100);
	CU_ASSERT(lock1("/c", DFS_LOCK_EXCL, 0, &new) == DFS_OK);
	CU_ASSERT(id_op(LOP_RENEW, old) == DFS_ERR_EXPIRED);
	CU_ASSERT(test1("/c", old, DFS_LOCK_EXCL) == DFS_ERR_EXPIRED);
	CU_ASSERT(test1("/other", old, DFS_LOCK_SHARED) == DFS_ERR_EXPIRED);
	CU_ASSERT(id_op(LOP_UNLOCK, old) == DFS_ERR_EXPIRED);
	CU_ASSERT(test1("/c", new, DFS_LOCK_EXCL) == DFS_OK);
	/* still EXPIRED after a restart; forgotten after a day */
	fx_close_state(&f);
	fx_open_dir(&f, f.dir);
	CU_ASSERT(id_op(LOP_RENEW, old) == DFS_ERR_EXPIRED);
	CU_ASSERT(table_gc(&f.ctx, (int64_t)time(NULL) + 3600) == 0);
	CU_ASSERT(table_gc(&f.ctx, (int64_t)time(NULL) +
	    LOCKD_REVOKED_KEEP_S + 1) == 1);
	CU_ASSERT(id_op(LOP_RENEW, old) == DFS_ERR_BADLOCK);
	fx_close(&f);
}

static void
test_lockd__renew_extends(void)
{
	struct fx	f;
	dfs_lockid	id;

	fx_open(&f);
	CU_ASSERT(lock1("/r", DFS_LOCK_EXCL, 300, &id) == DFS_OK);
	sleep_ms(200);
	CU_ASSERT(id_op(LOP_RENEW, id) == DFS_OK);
	sleep_ms(200);
	/* 400 ms after LOCK, 200 after RENEW: still live */
	CU_ASSERT(lock1("/r", DFS_LOCK_EXCL, 0, NULL) == DFS_ERR_LOCKED);
	CU_ASSERT(test1("/r", id, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* --- TEST --- */

static void
test_lockd__test_semantics(void)
{
	struct fx	f;
	dfs_lockid	ex, sh, other;
	dfs_lockmode	dmode = 0;
	u_int		left = 0;

	fx_open(&f);
	CU_ASSERT(test1("/free", NOBODY, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(lock1("/ex", DFS_LOCK_EXCL, 300, &ex) == DFS_OK);
	CU_ASSERT(lock1("/sh", DFS_LOCK_SHARED, 5000, &sh) == DFS_OK);
	CU_ASSERT(lock1("/o", DFS_LOCK_EXCL, 5000, &other) == DFS_OK);
	/* a free path is OK for a valid id too */
	CU_ASSERT(test1("/free", other, DFS_LOCK_EXCL) == DFS_OK);
	/* others: LOCKED with the holder's mode and time left */
	CU_ASSERT(test_full("/ex", NOBODY, DFS_LOCK_SHARED, &dmode, &left) ==
	    DFS_ERR_LOCKED);
	CU_ASSERT(dmode == DFS_LOCK_EXCL && left > 0 && left <= 300);
	CU_ASSERT(test1("/ex", other, DFS_LOCK_SHARED) == DFS_ERR_LOCKED);
	CU_ASSERT(test_full("/sh", other, DFS_LOCK_EXCL, &dmode, NULL) ==
	    DFS_ERR_LOCKED);
	CU_ASSERT(dmode == DFS_LOCK_SHARED);
	CU_ASSERT(test1("/sh", NOBODY, DFS_LOCK_SHARED) == DFS_OK);
	/* the holder: OK in its mode or weaker; SHARED is not EXCL */
	CU_ASSERT(test1("/sh", sh, DFS_LOCK_SHARED) == DFS_OK);
	CU_ASSERT(test1("/sh", sh, DFS_LOCK_EXCL) == DFS_ERR_LOCKED);
	CU_ASSERT(test1("/ex", ex, DFS_LOCK_SHARED) == DFS_OK);
	/* ... and renewed: 400 ms after LOCK it is still live */
	sleep_ms(200);
	CU_ASSERT(test1("/ex", ex, DFS_LOCK_EXCL) == DFS_OK);
	sleep_ms(200);
	CU_ASSERT(test1("/ex", NOBODY, DFS_LOCK_EXCL) == DFS_ERR_LOCKED);
	/* a lapsed holder is revoked by a conflicting TEST, which is OK */
	sleep_ms(350);
	CU_ASSERT(test1("/ex", other, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(test1("/ex", ex, DFS_LOCK_EXCL) == DFS_ERR_EXPIRED);
	CU_ASSERT(table_path(&f.ctx, "/ex", 3) == NULL);
	fx_close(&f);
}

/* A lapsed SHARED holder does not stand in the way of a SHARED TEST,
 * so it is not revoked by one. */
static void
test_lockd__test_shared_lapsed(void)
{
	struct fx	f;
	dfs_lockid	sh;

	fx_open(&f);
	CU_ASSERT(lock1("/s", DFS_LOCK_SHARED, 20, &sh) == DFS_OK);
	sleep_ms(60);
	CU_ASSERT(test1("/s", NOBODY, DFS_LOCK_SHARED) == DFS_OK);
	CU_ASSERT(test1("/s", sh, DFS_LOCK_SHARED) == DFS_OK);
	fx_close(&f);
}

/* --- COMPOUND --- */

static void
test_lockd__compound_stops(void)
{
	struct fx		f;
	lock_compound_res	res;
	lock_argop		ops[3];
	dfs_path		p = P("/s");

	fx_open(&f);
	memset(ops, 0, sizeof(ops));
	ops[0].op = LOP_LOCK;
	ops[0].lock_argop_u.lock.paths.paths_val = &p;
	ops[0].lock_argop_u.lock.paths.paths_len = 1;
	ops[0].lock_argop_u.lock.mode = DFS_LOCK_EXCL;
	ops[1] = ops[0];
	ops[2].op = LOP_TEST;
	ops[2].lock_argop_u.test.path = p;
	ops[2].lock_argop_u.test.mode = DFS_LOCK_EXCL;
	CU_ASSERT(run(ops, 3, &res) == DFS_ERR_LOCKED);
	CU_ASSERT_FATAL(res.res.res_len == 2);
	CU_ASSERT(res.res.res_val[0].op == LOP_LOCK);
	CU_ASSERT(res.res.res_val[0].lock_resop_u.lock.status == DFS_OK);
	CU_ASSERT(res.res.res_val[1].lock_resop_u.lock.status ==
	    DFS_ERR_LOCKED);
	res_free(&res);
	/* the first LOCK was committed before the reply */
	CU_ASSERT(kv_dirty(f.ctx.kv) == 0);
	CU_ASSERT(f.ctx.nlocks == 1);
	fx_close(&f);
}

static void
test_lockd__op_illegal(void)
{
	static const int codes[] = { LOP_ILLEGAL, 77, 99, -1 };
	struct fx		f;
	lock_compound_res	res;
	lock_argop		ops[2];
	size_t			i;

	fx_open(&f);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		memset(ops, 0, sizeof(ops));
		ops[0].op = (lock_opnum)codes[i];
		ops[1].op = LOP_RENEW;
		CU_ASSERT(run(ops, 2, &res) == DFS_ERR_OP_ILLEGAL);
		CU_ASSERT_FATAL(res.res.res_len == 1);
		CU_ASSERT(res.res.res_val[0].op == LOP_ILLEGAL);
		CU_ASSERT(res.res.res_val[0].lock_resop_u.illegal ==
		    DFS_ERR_OP_ILLEGAL);
		res_free(&res);
	}
	fx_close(&f);
}

/* TESTTREE of `path`; on LOCKED copies the denial's path into dpath
 * (NUL-terminated) when dpath is not NULL. */
static dfs_stat
testtree1(const char *path, dfs_lockid id, dfs_lockmode mode, char *dpath)
{
	lock_compound_res	 res;
	lock_argop		 op;
	lock_denied		*d;
	dfs_stat		 st;

	memset(&op, 0, sizeof(op));
	op.op = LOP_TESTTREE;
	op.lock_argop_u.testtree.path = P(path);
	op.lock_argop_u.testtree.id = id;
	op.lock_argop_u.testtree.mode = mode;
	st = run(&op, 1, &res);
	CU_ASSERT_FATAL(res.res.res_len == 1);
	CU_ASSERT(res.res.res_val[0].op == LOP_TESTTREE);
	d = &res.res.res_val[0].lock_resop_u.testtree.test_res_u.denied;
	if (st == DFS_ERR_LOCKED && dpath != NULL) {
		memcpy(dpath, d->path.dfs_path_val, d->path.dfs_path_len);
		dpath[d->path.dfs_path_len] = '\0';
	}
	res_free(&res);
	return st;
}

/* TESTTREE: TEST of a path and of every locked path below it; a path
 * that only shares a prefix is not below; lapsed locks in the way are
 * revoked (courtesy expiry), as TEST does. */
static void
test_lockd__testtree(void)
{
	static const struct {
		const char	*path;
		int		 holder;	/* ask as x */
		dfs_lockmode	 mode;
		dfs_stat	 want;
		const char	*denied;
	} cases[] = {
		{ "/a",		0, DFS_LOCK_EXCL,   DFS_ERR_LOCKED, "/a/b/c" },
		{ "/a/b",	0, DFS_LOCK_SHARED, DFS_ERR_LOCKED, "/a/b/c" },
		{ "/a/b/c",	0, DFS_LOCK_EXCL,   DFS_ERR_LOCKED, "/a/b/c" },
		{ "/",		0, DFS_LOCK_EXCL,   DFS_ERR_LOCKED, NULL },
		{ "/a",		1, DFS_LOCK_EXCL,   DFS_OK,	    NULL },
		{ "/a/bc",	0, DFS_LOCK_EXCL,   DFS_OK,	    NULL },
		{ "/a/b/c/d",	0, DFS_LOCK_EXCL,   DFS_OK,	    NULL },
		{ "/ab",	0, DFS_LOCK_SHARED, DFS_OK,	    NULL },
		{ "/ab",	0, DFS_LOCK_EXCL,   DFS_ERR_LOCKED, "/ab" },
		{ "/ab",	1, DFS_LOCK_EXCL,   DFS_ERR_LOCKED, "/ab" },
		{ "a",		0, DFS_LOCK_EXCL,   DFS_ERR_INVAL,  NULL },
	};
	struct fx	f;
	dfs_lockid	x, y, l, none, bad;
	char		dpath[DFS_MAXPATHLEN + 1];
	size_t		i;

	fx_open(&f);
	memset(&none, 0, sizeof(none));
	CU_ASSERT_FATAL(lock1("/a/b/c", DFS_LOCK_EXCL, 0, &x) == DFS_OK);
	CU_ASSERT_FATAL(lock1("/ab", DFS_LOCK_SHARED, 0, &y) == DFS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dpath[0] = '\0';
		CU_ASSERT(testtree1(cases[i].path, cases[i].holder ? x : none,
		    cases[i].mode, dpath) == cases[i].want);
		if (cases[i].denied != NULL)
			CU_ASSERT_STRING_EQUAL(dpath, cases[i].denied);
	}
	/* a forged id: LOCKED where someone holds, else BADLOCK */
	bad = x;
	bad.nonce ^= 1;
	CU_ASSERT(testtree1("/a", bad, DFS_LOCK_EXCL, NULL) ==
	    DFS_ERR_LOCKED);
	CU_ASSERT(testtree1("/q", bad, DFS_LOCK_EXCL, NULL) ==
	    DFS_ERR_BADLOCK);
	CU_ASSERT(test1("/a/b/c", x, DFS_LOCK_EXCL) == DFS_OK);
	/* a lapsed lock below is revoked by the TESTTREE that it blocks */
	CU_ASSERT_FATAL(lock1("/l/m", DFS_LOCK_EXCL, 30, &l) == DFS_OK);
	CU_ASSERT(testtree1("/l", none, DFS_LOCK_EXCL, NULL) ==
	    DFS_ERR_LOCKED);
	sleep_ms(60);
	CU_ASSERT(testtree1("/l", none, DFS_LOCK_EXCL, NULL) == DFS_OK);
	CU_ASSERT(id_op(LOP_RENEW, l) == DFS_ERR_EXPIRED);
	CU_ASSERT(id_op(LOP_UNLOCK, x) == DFS_OK);
	CU_ASSERT(testtree1("/a", none, DFS_LOCK_EXCL, NULL) == DFS_OK);
	fx_close(&f);
}

/* STATS: every op but ILLEGAL in table order, calls counted whether the
 * op failed or not, STATS itself included, bytes 0. */
static void
test_lockd__stats(void)
{
	static const struct {
		const char	*name;
		uint64_t	 calls;
	} want[] = {
		{ "LOCK", 2 }, { "UNLOCK", 1 }, { "RENEW", 0 }, { "TEST", 1 },
		{ "STATS", 1 }, { "TESTTREE", 0 },
	};
	struct fx		 f;
	lock_compound_res	 res;
	lock_argop		 op;
	dfs_lockid		 id, none;
	const stats_res		*st;
	size_t			 i;

	fx_open(&f);
	memset(&none, 0, sizeof(none));
	CU_ASSERT(lock1("/s", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	CU_ASSERT(lock1("/s", DFS_LOCK_EXCL, 0, NULL) == DFS_ERR_LOCKED);
	CU_ASSERT(test1("/s", none, DFS_LOCK_SHARED) == DFS_ERR_LOCKED);
	CU_ASSERT(id_op(LOP_UNLOCK, id) == DFS_OK);
	memset(&op, 0, sizeof(op));
	op.op = LOP_STATS;
	CU_ASSERT_FATAL(run(&op, 1, &res) == DFS_OK);
	CU_ASSERT_FATAL(res.res.res_len == 1);
	CU_ASSERT(res.res.res_val[0].op == LOP_STATS);
	st = &res.res.res_val[0].lock_resop_u.stats;
	CU_ASSERT_FATAL(st->stats_res_u.counters.counters_len ==
	    sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_STRING_EQUAL(
		    st->stats_res_u.counters.counters_val[i].name,
		    want[i].name);
		CU_ASSERT(st->stats_res_u.counters.counters_val[i].calls ==
		    want[i].calls);
		CU_ASSERT(st->stats_res_u.counters.counters_val[i].bytes == 0);
	}
	res_free(&res);
	fx_close(&f);
}

static void
test_lockd__too_many_ops(void)
{
	struct fx		f;
	lock_compound_res	res;
	lock_argop		ops[DFS_MAXOPS + 1];
	u_int			i;

	fx_open(&f);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < DFS_MAXOPS + 1; i++) {
		ops[i].op = LOP_TEST;
		ops[i].lock_argop_u.test.path = P("/t");
		ops[i].lock_argop_u.test.mode = DFS_LOCK_SHARED;
	}
	CU_ASSERT(run(ops, DFS_MAXOPS + 1, &res) == DFS_ERR_RESOURCE);
	CU_ASSERT(res.res.res_len == 0);
	res_free(&res);
	CU_ASSERT(run(ops, DFS_MAXOPS, &res) == DFS_OK);
	CU_ASSERT(res.res.res_len == DFS_MAXOPS);
	res_free(&res);
	CU_ASSERT(run(ops, 0, &res) == DFS_OK);
	CU_ASSERT(res.res.res_len == 0);
	res_free(&res);
	fx_close(&f);
}

/* --- durability --- */

static void
test_lockd__persistence(void)
{
	struct fx	f;
	dfs_lockid	ex, sh1, sh2, gone;
	dfs_path	two[2] = { P("/m1"), P("/m2") };
	uint64_t	instance;

	fx_open(&f);
	instance = f.ctx.instance;
	CU_ASSERT(lock_pv(two, 2, DFS_LOCK_EXCL, 0, &ex, NULL, NULL) ==
	    DFS_OK);
	CU_ASSERT(lock1("/s", DFS_LOCK_SHARED, 0, &sh1) == DFS_OK);
	CU_ASSERT(lock1("/s", DFS_LOCK_SHARED, 0, &sh2) == DFS_OK);
	CU_ASSERT(lock1("/g", DFS_LOCK_SHARED, 0, &gone) == DFS_OK);
	CU_ASSERT(id_op(LOP_UNLOCK, gone) == DFS_OK);
	fx_close_state(&f);
	fx_open_dir(&f, f.dir);
	CU_ASSERT(f.ctx.instance == instance);
	CU_ASSERT(f.ctx.nlocks == 3);
	CU_ASSERT(test1("/m1", ex, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(test1("/m2", ex, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(test1("/m2", NOBODY, DFS_LOCK_SHARED) == DFS_ERR_LOCKED);
	CU_ASSERT(test1("/s", sh1, DFS_LOCK_SHARED) == DFS_OK);
	CU_ASSERT(test1("/s", sh2, DFS_LOCK_SHARED) == DFS_OK);
	CU_ASSERT(test1("/s", NOBODY, DFS_LOCK_EXCL) == DFS_ERR_LOCKED);
	CU_ASSERT(id_op(LOP_RENEW, gone) == DFS_ERR_BADLOCK);
	CU_ASSERT(id_op(LOP_UNLOCK, sh1) == DFS_OK);
	CU_ASSERT(lock1("/g", DFS_LOCK_EXCL, 0, NULL) == DFS_OK);
	fx_close(&f);
}


/* kill -9 after a committed LOCK: only NAME.db and NAME.log survive (the
 * working file is never trusted), and the lock is there. */
static void
test_lockd__kill9(void)
{
	struct fx	f, g;
	dfs_lockid	id;

	fx_open(&f);
	CU_ASSERT(lock1("/k", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	snprintf(g.dir, sizeof(g.dir), "/tmp/t_lockd.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(g.dir) != NULL);
	CU_ASSERT(cutest_crash_copy(f.dir, g.dir, "lockd") == 0);
	fx_open_dir(&g, g.dir);
	CU_ASSERT(g.ctx.instance == f.ctx.instance);
	CU_ASSERT(test1("/k", id, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(lock1("/k", DFS_LOCK_SHARED, 0, NULL) == DFS_ERR_LOCKED);
	fx_close(&g);
	compound_setctx(&f.ctx);
	fx_close(&f);
}

static CU_TestInfo lockd_tests[] = {
	{ "grant_conflict",	test_lockd__grant_conflict },
	{ "default_lease",	test_lockd__default_lease },
	{ "all_or_nothing",	test_lockd__all_or_nothing },
	{ "bad_path",		test_lockd__bad_path },
	{ "bad_args",		test_lockd__bad_args },
	{ "unlock_relock",	test_lockd__unlock_relock },
	{ "badlock",		test_lockd__badlock },
	{ "badlock_keeps_lapsed", test_lockd__badlock_keeps_lapsed },
	{ "courtesy_expiry",	test_lockd__courtesy_expiry },
	{ "renew_extends",	test_lockd__renew_extends },
	{ "test_semantics",	test_lockd__test_semantics },
	{ "test_shared_lapsed",	test_lockd__test_shared_lapsed },
	{ "compound_stops",	test_lockd__compound_stops },
	{ "op_illegal",		test_lockd__op_illegal },
	{ "stats",		test_lockd__stats },
	{ "testtree",		test_lockd__testtree },
	{ "too_many_ops",	test_lockd__too_many_ops },
	{ "persistence",	test_lockd__persistence },
	{ "kill9",		test_lockd__kill9 },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "lockd", NULL, NULL, NULL, NULL, lockd_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
