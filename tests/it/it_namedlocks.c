/*
 * it_namedlocks.c -- the name server enforces locks, against real
 * daemons over TCP.
 *
 * One cluster (dfs-named, dfs-lockd, one dfs-filed, all -N) serves the
 * suite; each test works under its own directory.  Paths are locked
 * through dfs-lockd (LOCK), then CREATE, MKDIR, SETATTR, REMOVE and
 * RENAME go to dfs-named with or without PUTLOCK: someone else's lock
 * refuses them (LOCKED), a wrong id is refused without disturbing the
 * holder, a lock taken over after its lease lapsed is fenced (EXPIRED),
 * and with the lock server down mutations are DELAY until it is back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

static struct cluster	 cl;
static CLIENT		*nc, *lc;

static int
suite_init(void)
{
	if (cluster_start(&cl, 1) == -1)
		return -1;
	nc = harness_clnt(&cl.named);
	lc = harness_clnt(&cl.lockd);
	return nc && lc ? 0 : -1;
}

static int
suite_clean(void)
{
	if (nc)
		clnt_destroy(nc);
	if (lc)
		clnt_destroy(lc);
	/* every daemon must exit 0 on SIGTERM */
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* --- the lock server --- */



static dfs_stat
unlock(const dfs_lockid *id)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	dfs_stat		 st;

	lock_req_add(&r, LOP_UNLOCK)->lock_argop_u.unlock = *id;
	CU_ASSERT_EQUAL_FATAL(lock_call(lc, &r, &res), RPC_SUCCESS);
	st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

/* --- the name server --- */

/* Starts a COMPOUND: PUTLOCK *id unless id is NULL, then PUTROOTFH and
 * LOOKUP of `dir` (relative; "" for the root). */
static void
begin(struct name_req *r, const dfs_lockid *id, const char *dir)
{
	r->n = 0;
	if (id != NULL)
		name_req_add(r, OP_PUTLOCK)->name_argop_u.putlock = *id;
	name_req_add(r, OP_PUTROOTFH);
	if (dir[0] != '\0')
		name_req_lookup(r, dir);
}

/* Sends the COMPOUND; returns its status (and *created for CREATE). */
static dfs_stat
send_req(struct name_req *r, int *created)
{
	name_compound_res	res;
	dfs_stat		st;

	CU_ASSERT_EQUAL_FATAL(name_call(nc, r, &res), RPC_SUCCESS);
	st = res.status;
	if (st == DFS_OK && created != NULL)
		*created = res.res.res_val[r->n - 1].name_resop_u.create.
		    create_res_u.ok.created;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

static dfs_stat
n_mkdir(const dfs_lockid *id, const char *dir, const char *name)
{
	struct name_req	r;

	begin(&r, id, dir);
	name_req_mkdir(&r, name);
	return send_req(&r, NULL);
}

static dfs_stat
n_create(const dfs_lockid *id, const char *dir, const char *name, int excl,
    int *created)
{
	struct name_req	r;

	begin(&r, id, dir);
	name_req_create(&r, name, excl);
	return send_req(&r, created);
}

static dfs_stat
n_remove(const dfs_lockid *id, const char *dir, const char *name)
{
	struct name_req	r;

	begin(&r, id, dir);
	name_req_add(&r, OP_REMOVE)->name_argop_u.remove = mkname(name);
	return send_req(&r, NULL);
}

static dfs_stat
n_setattr(const dfs_lockid *id, const char *path, unsigned int mode)
{
	struct name_req	 r;
	setattr_args	*sa;

	begin(&r, id, path);
	sa = &name_req_add(&r, OP_SETATTR)->name_argop_u.setattr;
	sa->mask = DFS_SA_MODE;
	sa->mode = mode;
	return send_req(&r, NULL);
}

static dfs_stat
n_rename(const dfs_lockid *id, const char *sdir, const char *oldname,
    const char *tdir, const char *newname)
{
	struct name_req	 r;
	rename_args	*ra;

	begin(&r, id, sdir);
	name_req_add(&r, OP_SAVEFH);
	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, tdir);
	ra = &name_req_add(&r, OP_RENAME)->name_argop_u.rename;
	ra->oldname = mkname(oldname);
	ra->newname = mkname(newname);
	return send_req(&r, NULL);
}

/* GETATTR of relative `path`: DFS_OK, DFS_ERR_NOENT... and its mode. */
static dfs_stat
n_getattr(const char *path, unsigned int *mode)
{
	name_compound_res	res;
	struct name_req		r;
	dfs_stat		st;

	begin(&r, NULL, path);
	name_req_add(&r, OP_GETATTR);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	st = res.status;
	if (st == DFS_OK && mode != NULL)
		*mode = res.res.res_val[2].name_resop_u.getattr.attr_res_u.
		    attr.mode;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

static int
exists(const char *path)
{
	return n_getattr(path, NULL) == DFS_OK;
}

/* Makes directory `dir` and the files named in `files` (NULL-ended). */
static void
make_tree(const char *dir, const char *const *files)
{
	CU_ASSERT_EQUAL_FATAL(n_mkdir(NULL, "", dir), DFS_OK);
	for (; *files != NULL; files++)
		CU_ASSERT_EQUAL_FATAL(n_create(NULL, dir, *files, 1, NULL),
		    DFS_OK);
}

/* A forged id: the holder's with the nonce flipped. */
static dfs_lockid
forged(const dfs_lockid *id)
{
	dfs_lockid	bad = *id;

	bad.nonce ^= 1;
	return bad;
}

/* --- tests --- */

/* REMOVE of a locked file: LOCKED without or with a forged PUTLOCK
 * (holder untouched), done with the holder's id. */
static void
test_namedlocks__remove(void)
{
	static const char *const files[] = { "f", "free", NULL };
	dfs_lockid	id, bad;
	dfs_stat	st;

	make_tree("rm", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/rm/f", DFS_LOCK_EXCL, 0, &id),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_remove(NULL, "rm", "f"), DFS_ERR_LOCKED);
	bad = forged(&id);
	st = n_remove(&bad, "rm", "f");
	CU_ASSERT(st == DFS_ERR_LOCKED || st == DFS_ERR_BADLOCK);
	CU_ASSERT_TRUE(exists("rm/f"));
	/* the holder's lock is untouched */
	CU_ASSERT_EQUAL(harness_locktest(lc, "/rm/f", &id, DFS_LOCK_EXCL),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_remove(&id, "rm", "f"), DFS_OK);
	CU_ASSERT_FALSE(exists("rm/f"));
	/* a file nobody locked goes without PUTLOCK */
	CU_ASSERT_EQUAL(n_remove(NULL, "rm", "free"), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&id), DFS_OK);
}

/* RENAME checks the target path and the source path. */
static void
test_namedlocks__rename(void)
{
	static const char *const files[] = { "a", "s", "t", NULL };
	dfs_lockid	tid, sid, nid;

	make_tree("rn", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/rn/t", DFS_LOCK_EXCL, 0,
	    &tid), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/rn/s", DFS_LOCK_EXCL, 0,
	    &sid), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/rn/new", DFS_LOCK_EXCL, 0,
	    &nid), DFS_OK);
	/* onto a locked target, existing or not */
	CU_ASSERT_EQUAL(n_rename(NULL, "rn", "a", "rn", "t"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_rename(NULL, "rn", "a", "rn", "new"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_TRUE(exists("rn/a"));
	CU_ASSERT_TRUE(exists("rn/t"));
	CU_ASSERT_FALSE(exists("rn/new"));
	/* a locked source */
	CU_ASSERT_EQUAL(n_rename(NULL, "rn", "s", "rn", "x"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_rename(&tid, "rn", "s", "rn", "x"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_TRUE(exists("rn/s"));
	CU_ASSERT_FALSE(exists("rn/x"));
	/* one lock covers one of the two paths only */
	CU_ASSERT_EQUAL(n_rename(&sid, "rn", "s", "rn", "t"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_rename(&sid, "rn", "s", "rn", "x"), DFS_OK);
	CU_ASSERT_EQUAL(n_rename(&tid, "rn", "a", "rn", "t"), DFS_OK);
	CU_ASSERT_FALSE(exists("rn/a"));
	CU_ASSERT_TRUE(exists("rn/t"));
	CU_ASSERT_EQUAL(unlock(&tid), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&sid), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&nid), DFS_OK);
}

/*
 * A lock below a directory stops its rename and removal by others (else
 * /sub/d/n could be rewritten as /sub/e/n and moved back), whether the
 * locked name exists or not; the holder moves it, and a sibling that
 * only shares a prefix ("/sub/dx") stops nothing.
 */
static void
test_namedlocks__subtree(void)
{
	static const char *const files[] = { "dx", NULL };
	dfs_lockid	id, xid, pid, bad;
	dfs_stat	st;

	make_tree("sub", files);
	CU_ASSERT_EQUAL_FATAL(n_mkdir(NULL, "sub", "d"), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(n_mkdir(NULL, "sub", "d2"), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(n_mkdir(NULL, "sub", "m"), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(n_create(NULL, "sub/d", "n", 1, NULL), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/sub/d/n", DFS_LOCK_EXCL, 0,
	    &id), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/sub/d2/x", DFS_LOCK_EXCL, 0,
	    &xid), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/sub/dx", DFS_LOCK_EXCL, 0,
	    &pid), DFS_OK);
	/* someone else renames the directory away, or removes it */
	CU_ASSERT_EQUAL(n_rename(NULL, "sub", "d", "sub", "e"),
	    DFS_ERR_LOCKED);
	bad = forged(&id);
	st = n_rename(&bad, "sub", "d", "sub", "e");
	CU_ASSERT(st == DFS_ERR_LOCKED || st == DFS_ERR_BADLOCK);
	CU_ASSERT_EQUAL(n_remove(NULL, "sub/d", "n"), DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_remove(NULL, "sub", "d2"), DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_rename(NULL, "sub", "d2", "sub", "e"),
	    DFS_ERR_LOCKED);
	/* nor may a directory move in over a locked name */
	CU_ASSERT_EQUAL(n_rename(NULL, "sub", "m", "sub", "d2"),
	    DFS_ERR_LOCKED);
	CU_ASSERT_TRUE(exists("sub/d/n"));
	CU_ASSERT_TRUE(exists("sub/d2"));
	CU_ASSERT_TRUE(exists("sub/m"));
	CU_ASSERT_FALSE(exists("sub/e"));
	/* the holder's lock is untouched, and it may move the directory */
	CU_ASSERT_EQUAL(harness_locktest(lc, "/sub/d/n", &id, DFS_LOCK_EXCL),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_rename(&id, "sub", "d", "sub", "e"), DFS_OK);
	CU_ASSERT_TRUE(exists("sub/e/n"));
	CU_ASSERT_EQUAL(n_rename(&id, "sub", "e", "sub", "d"), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&id), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&xid), DFS_OK);
	/* "/sub/dx" is not below "/sub/d" */
	CU_ASSERT_EQUAL(n_rename(NULL, "sub", "d", "sub", "e"), DFS_OK);
	CU_ASSERT_EQUAL(n_remove(NULL, "sub/e", "n"), DFS_OK);
	CU_ASSERT_EQUAL(n_remove(NULL, "sub", "e"), DFS_OK);
	CU_ASSERT_EQUAL(n_remove(NULL, "sub", "d2"), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&pid), DFS_OK);
}

static void
test_namedlocks__setattr(void)
{
	static const char *const files[] = { "f", NULL };
	dfs_lockid	id, bad;
	unsigned int	mode = 0;

	make_tree("sa", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/sa/f", DFS_LOCK_EXCL, 0, &id),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_setattr(NULL, "sa/f", 0600), DFS_ERR_LOCKED);
	bad = forged(&id);
	CU_ASSERT_NOT_EQUAL(n_setattr(&bad, "sa/f", 0600), DFS_OK);
	CU_ASSERT_EQUAL(n_getattr("sa/f", &mode), DFS_OK);
	CU_ASSERT_EQUAL(mode, 0644);
	CU_ASSERT_EQUAL(n_setattr(&id, "sa/f", 0600), DFS_OK);
	CU_ASSERT_EQUAL(n_getattr("sa/f", &mode), DFS_OK);
	CU_ASSERT_EQUAL(mode, 0600);
	CU_ASSERT_EQUAL(unlock(&id), DFS_OK);
}

/* CREATE of a locked new path is a mutation; CREATE (not exclusive) of
 * an existing locked file only opens it. */
static void
test_namedlocks__create(void)
{
	static const char *const files[] = { "f", NULL };
	dfs_lockid	nid, fid;
	int		created = -1;

	make_tree("cr", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/cr/new", DFS_LOCK_EXCL, 0,
	    &nid), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/cr/f", DFS_LOCK_EXCL, 0,
	    &fid), DFS_OK);
	CU_ASSERT_EQUAL(n_create(NULL, "cr", "new", 1, NULL),
	    DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_create(NULL, "cr", "new", 0, NULL),
	    DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_mkdir(NULL, "cr", "new"), DFS_ERR_LOCKED);
	CU_ASSERT_FALSE(exists("cr/new"));
	CU_ASSERT_EQUAL(n_create(NULL, "cr", "f", 0, &created), DFS_OK);
	CU_ASSERT_EQUAL(created, 0);
	CU_ASSERT_EQUAL(n_create(&nid, "cr", "new", 1, &created), DFS_OK);
	CU_ASSERT_EQUAL(created, 1);
	CU_ASSERT_EQUAL(unlock(&nid), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&fid), DFS_OK);
}

static void
test_namedlocks__mkdir(void)
{
	static const char *const files[] = { NULL };
	dfs_lockid	id;

	make_tree("mk", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/mk/d", DFS_LOCK_EXCL, 0, &id),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_mkdir(NULL, "mk", "d"), DFS_ERR_LOCKED);
	CU_ASSERT_FALSE(exists("mk/d"));
	CU_ASSERT_EQUAL(n_mkdir(&id, "mk", "d"), DFS_OK);
	CU_ASSERT_TRUE(exists("mk/d"));
	CU_ASSERT_EQUAL(unlock(&id), DFS_OK);
}

/* A lock whose lease lapsed is taken over; its old holder is fenced. */
static void
test_namedlocks__fencing(void)
{
	static const char *const files[] = { "f", NULL };
	dfs_lockid	old, cur;

	make_tree("fe", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/fe/f", DFS_LOCK_EXCL, 200,
	    &old), DFS_OK);
	usleep(300 * 1000);
	/* courtesy expiry: the conflicting LOCK revokes the old one */
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/fe/f", DFS_LOCK_EXCL, 0,
	    &cur), DFS_OK);
	CU_ASSERT_EQUAL(n_remove(&old, "fe", "f"), DFS_ERR_EXPIRED);
	CU_ASSERT_EQUAL(n_rename(&old, "fe", "f", "fe", "g"),
	    DFS_ERR_EXPIRED);
	CU_ASSERT_EQUAL(n_setattr(&old, "fe/f", 0600), DFS_ERR_EXPIRED);
	CU_ASSERT_TRUE(exists("fe/f"));
	CU_ASSERT_EQUAL(harness_locktest(lc, "/fe/f", &cur, DFS_LOCK_EXCL),
	    DFS_OK);
	CU_ASSERT_EQUAL(n_remove(&cur, "fe", "f"), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&cur), DFS_OK);
}

/* With the lock server down, mutations are DELAY (never unchecked), and
 * reads go on; once it is back (same port), its locks still hold. */
static void
test_namedlocks__lockd_down(void)
{
	static const char *const files[] = { "f", NULL };
	dfs_lockid	id;
	int		created = -1;

	make_tree("dn", files);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/dn/f", DFS_LOCK_EXCL, 0, &id),
	    DFS_OK);
	clnt_destroy(lc);
	lc = NULL;
	CU_ASSERT_EQUAL_FATAL(harness_kill9(&cl.lockd), 0);
	CU_ASSERT_EQUAL(n_remove(&id, "dn", "f"), DFS_ERR_DELAY);
	CU_ASSERT_EQUAL(n_mkdir(NULL, "dn", "d"), DFS_ERR_DELAY);
	CU_ASSERT_TRUE(exists("dn/f"));
	CU_ASSERT_FALSE(exists("dn/d"));
	CU_ASSERT_EQUAL(n_create(NULL, "dn", "f", 0, &created), DFS_OK);
	CU_ASSERT_EQUAL(created, 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.lockd), 0);
	lc = harness_clnt(&cl.lockd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lc);
	CU_ASSERT_EQUAL(n_remove(NULL, "dn", "f"), DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(n_remove(&id, "dn", "f"), DFS_OK);
	CU_ASSERT_EQUAL(n_mkdir(NULL, "dn", "d"), DFS_OK);
	CU_ASSERT_EQUAL(unlock(&id), DFS_OK);
}

static CU_TestInfo namedlocks_tests[] = {
	{ "remove", test_namedlocks__remove },
	{ "rename", test_namedlocks__rename },
	{ "subtree", test_namedlocks__subtree },
	{ "setattr", test_namedlocks__setattr },
	{ "create", test_namedlocks__create },
	{ "mkdir", test_namedlocks__mkdir },
	{ "fencing", test_namedlocks__fencing },
	{ "lockd_down", test_namedlocks__lockd_down },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "namedlocks", suite_init, suite_clean, NULL, NULL,
	    namedlocks_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
