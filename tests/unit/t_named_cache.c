/*
 * t_named_cache.c -- dfs-named's in-memory caches of inodes (state.c)
 * and directory entries (dirent.c) must always say what the store says.
 *
 * Each case changes the namespace through COMPOUNDs while reading it
 * back (so the caches fill), and then compares every answer with what a
 * fresh start on the same state directory answers, whose caches are
 * empty.  More objects than cache slots make slots collide and evict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "kv.h"
#include "../../server/name/named.h"
#include "named_driver.h"

#define NOBJ	(NAMED_ICACHE + NAMED_DCACHE / 2 + 7)	/* > the slots */

static struct {
	char			dir[64];
	struct kv		*kv;
	struct named_ctx	nc;
} fx;

static void
fx_open(void)
{
	char	err[256];

	CU_ASSERT_FATAL(kv_open(&fx.kv, fx.dir, "named", err,
	    sizeof(err)) == 0);
	CU_ASSERT_FATAL(named_init(&fx.nc, fx.kv, NAMED_HB_DEFAULT, err,
	    sizeof(err)) == 0);
	named_set_ctx(&fx.nc);
}

static void
fx_close(void)
{
	B();
	named_release(&fx.nc);
	kv_close(fx.kv);
	fx.kv = NULL;
}

static void
test_setup(void)
{
	strcpy(fx.dir, "/tmp/t_named_cache.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(fx.dir) != NULL);
	fx_open();
}

static void
test_teardown(void)
{
	if (fx.kv != NULL)
		fx_close();
	cutest_rmtree(fx.dir);
}

static void
name_arg(dfs_name *n, const char *s)
{
	n->dfs_name_val = (char *)s;
	n->dfs_name_len = (u_int)strlen(s);
}

/* PUTROOTFH [LOOKUP dir]. */
static void
walk(const char *dir)
{
	add(OP_PUTROOTFH);
	if (dir != NULL)
		add(OP_LOOKUP)->name_argop_u.lookup = (dfs_path){
		    (u_int)strlen(dir), (char *)dir };
}

static dfs_stat
do_mkdir(const char *dir, const char *name)
{
	name_argop	*a;

	B();
	walk(dir);
	a = add(OP_MKDIR);
	name_arg(&a->name_argop_u.mkdir.name, name);
	a->name_argop_u.mkdir.mode = 0755;
	return go();
}

static dfs_stat
do_remove(const char *dir, const char *name)
{
	B();
	walk(dir);
	name_arg(&add(OP_REMOVE)->name_argop_u.remove, name);
	return go();
}

static dfs_stat
do_rename(const char *dir, const char *from, const char *to)
{
	rename_args	*ra;

	B();
	walk(dir);
	add(OP_SAVEFH);
	ra = &add(OP_RENAME)->name_argop_u.rename;
	name_arg(&ra->oldname, from);
	name_arg(&ra->newname, to);
	return go();
}

/* The attributes of `path` (relative; NULL: the root) in *a.  Returns
 * the status. */
static dfs_stat
getattr(const char *path, dfs_attr *a)
{
	dfs_stat	st;

	B();
	walk(path);
	add(OP_GETATTR);
	st = go();
	if (st == DFS_OK)
		*a = R.res.res_val[R.res.res_len - 1].name_resop_u.getattr.
		    attr_res_u.attr;
	return st;
}

/* What getattr() answered for one path. */
struct seen {
	dfs_stat	st;
	dfs_attr	a;
};

/* Reads every path of `names` (n of them, under dir "t") into seen. */
static void
read_all(char (*names)[16], int n, struct seen *seen)
{
	char	path[24];
	int	i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "t/%.15s", names[i]);
		seen[i].st = getattr(path, &seen[i].a);
	}
}

/* Restarts on the same state (empty caches) and checks that every path
 * reads as `seen` says.  Returns the number of differences. */
static int
diff_after_restart(char (*names)[16], int n, const struct seen *seen)
{
	struct seen	*now;
	int		 i, diffs = 0;

	now = calloc((size_t)n, sizeof(*now));
	CU_ASSERT_PTR_NOT_NULL_FATAL(now);
	fx_close();
	fx_open();
	read_all(names, n, now);
	for (i = 0; i < n; i++)
		if (now[i].st != seen[i].st || (seen[i].st == DFS_OK &&
		    memcmp(&now[i].a, &seen[i].a, sizeof(dfs_attr)) != 0))
			diffs++;
	free(now);
	return diffs;
}

/*
 * More objects than slots, read back while others are made, then a
 * third removed and a third renamed: every answer equals a cold
 * start's, and the expected ones are there or gone.
 */
static void
test_cache__many_objects(void)
{
	static char	names[NOBJ][16];
	struct seen	*seen;
	char		to[16];
	dfs_attr	a;
	int		i;

	seen = calloc(NOBJ, sizeof(*seen));
	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	CU_ASSERT_FATAL(do_mkdir(NULL, "t") == DFS_OK);
	for (i = 0; i < NOBJ; i++) {
		snprintf(names[i], sizeof(names[i]), "o%d", i);
		CU_ASSERT_FATAL(do_mkdir("t", names[i]) == DFS_OK);
		if (i % 3 == 0)		/* fill the caches as we go */
			CU_ASSERT(getattr("t", &a) == DFS_OK);
	}
	read_all(names, NOBJ, seen);
	for (i = 0; i < NOBJ; i++)
		CU_ASSERT(seen[i].st == DFS_OK);
	for (i = 0; i < NOBJ; i += 3)
		CU_ASSERT(do_remove("t", names[i]) == DFS_OK);
	for (i = 1; i < NOBJ; i += 3) {
		snprintf(to, sizeof(to), "m%d", i);
		CU_ASSERT(do_rename("t", names[i], to) == DFS_OK);
	}
	read_all(names, NOBJ, seen);
	for (i = 0; i < NOBJ; i++)
		CU_ASSERT(seen[i].st == (i % 3 == 2 ? DFS_OK : DFS_ERR_NOENT));
	CU_ASSERT(getattr("t", &a) == DFS_OK);
	CU_ASSERT(a.size == (uint64_t)(NOBJ - (NOBJ + 2) / 3));
	CU_ASSERT_EQUAL(diff_after_restart(names, NOBJ, seen), 0);
	free(seen);
}

/* Status of GETATTR through handle fh (a copy of it is sent). */
static dfs_stat
fh_getattr(const dfs_fh *fh)
{
	B();
	add(OP_PUTFH)->name_argop_u.putfh = *fh;
	add(OP_GETATTR);
	return go();
}

/* The handle of relative `path` in *fh (malloc'd; free fh->dfs_fh_val). */
static void
get_fh(const char *path, dfs_fh *fh)
{
	const dfs_fh	*got;

	B();
	walk(path);
	add(OP_GETFH);
	CU_ASSERT_FATAL(go() == DFS_OK);
	got = &R.res.res_val[R.res.res_len - 1].name_resop_u.getfh.
	    getfh_res_u.fh;
	fh->dfs_fh_len = got->dfs_fh_len;
	fh->dfs_fh_val = malloc(got->dfs_fh_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fh->dfs_fh_val);
	memcpy(fh->dfs_fh_val, got->dfs_fh_val, got->dfs_fh_len);
}

/*
 * A name removed and made again, or renamed over, names the new object
 * at once: no cached entry or inode of the old one answers, by name or
 * by handle.
 */
static void
test_cache__reused_names(void)
{
	static char	names[3][16] = { "a", "b", "c" };
	struct seen	seen[3];
	dfs_attr	a1, a2, b;
	dfs_fh		fh;

	CU_ASSERT_FATAL(do_mkdir(NULL, "t") == DFS_OK);
	CU_ASSERT(do_mkdir("t", "a") == DFS_OK);
	CU_ASSERT(getattr("t/a", &a1) == DFS_OK);
	get_fh("t/a", &fh);
	CU_ASSERT(fh_getattr(&fh) == DFS_OK);
	CU_ASSERT(do_remove("t", "a") == DFS_OK);
	CU_ASSERT(fh_getattr(&fh) == DFS_ERR_STALE);
	free(fh.dfs_fh_val);
	CU_ASSERT(getattr("t/a", &a2) == DFS_ERR_NOENT);
	CU_ASSERT(do_mkdir("t", "a") == DFS_OK);
	CU_ASSERT(getattr("t/a", &a2) == DFS_OK);
	CU_ASSERT(a2.fileid != a1.fileid);
	/* rename b over a: a is b's object now, b is gone */
	CU_ASSERT(do_mkdir("t", "b") == DFS_OK);
	CU_ASSERT(getattr("t/b", &b) == DFS_OK);
	CU_ASSERT(do_rename("t", "b", "a") == DFS_OK);
	CU_ASSERT(getattr("t/a", &a1) == DFS_OK);
	CU_ASSERT(a1.fileid == b.fileid);
	CU_ASSERT(getattr("t/b", &b) == DFS_ERR_NOENT);
	/* a directory's own attributes follow its entries */
	CU_ASSERT(do_mkdir("t/a", "c") == DFS_OK);
	CU_ASSERT(getattr("t/a", &a2) == DFS_OK);
	CU_ASSERT(a2.size == 1 && a2.vers == a1.vers + 1);
	read_all(names, 3, seen);
	CU_ASSERT_EQUAL(diff_after_restart(names, 3, seen), 0);
}

static CU_TestInfo cache_tests[] = {
	{ "many_objects", test_cache__many_objects },
	{ "reused_names", test_cache__reused_names },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "cache", NULL, NULL, test_setup, test_teardown, cache_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
