/*
 * t_named_ops.c -- dfs-named's COMPOUND handlers, driven directly through
 * name_compound_1_svc() over a state directory of each test's own, plus
 * persistence across a clean close and across a simulated kill -9.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "fh.h"
#include "kv.h"
#include "svcloop.h"
#include "../../server/name/named.h"
#include "named_driver.h"

/* --- fixture: a fresh state directory and one live file server --- */

static struct {
	char			dir[64];
	struct kv		*kv;
	struct named_ctx	nc;
	uint64_t		srvid;
} fx;

static void
fx_open(const char *dir)
{
	char	err[256];

	CU_ASSERT_FATAL(kv_open(&fx.kv, dir, "named", err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(named_init(&fx.nc, fx.kv, NAMED_HB_DEFAULT, err,
	    sizeof(err)) == 0);
	named_set_ctx(&fx.nc);
}

static void
fx_close(void)
{
	named_release(&fx.nc);
	kv_close(fx.kv);
	fx.kv = NULL;
}

static name_resop *
res(u_int i)
{
	CU_ASSERT_FATAL(i < R.res.res_len);
	return &R.res.res_val[i];
}

static name_resop *
last(void)
{
	return res(R.res.res_len - 1);
}

static void
putroot(void)
{
	add(OP_PUTROOTFH);
}

static void
putfh(const unsigned char *fh, size_t len)
{
	name_argop	*a = add(OP_PUTFH);

	a->name_argop_u.putfh.dfs_fh_val = (char *)fh;
	a->name_argop_u.putfh.dfs_fh_len = (u_int)len;
}

static void
lookup_n(const char *p, size_t len)
{
	name_argop	*a = add(OP_LOOKUP);

	a->name_argop_u.lookup.dfs_path_val = (char *)p;
	a->name_argop_u.lookup.dfs_path_len = (u_int)len;
}

static void
lookup(const char *p)
{
	lookup_n(p, strlen(p));
}

/* PUTROOTFH, then LOOKUP unless path is "/" (a leading '/' is dropped). */
static void
walk(const char *path)
{
	putroot();
	if (strcmp(path, "/") != 0)
		lookup(path[0] == '/' ? path + 1 : path);
}

static void
create_n(const char *n, size_t len, int excl)
{
	name_argop	*a = add(OP_CREATE);

	a->name_argop_u.create.name.dfs_name_val = (char *)n;
	a->name_argop_u.create.name.dfs_name_len = (u_int)len;
	a->name_argop_u.create.mode = 0100644;
	a->name_argop_u.create.exclusive = excl;
}

static void
create(const char *n, int excl)
{
	create_n(n, strlen(n), excl);
}

static void
mkdir_n(const char *n, size_t len)
{
	name_argop	*a = add(OP_MKDIR);

	a->name_argop_u.mkdir.name.dfs_name_val = (char *)n;
	a->name_argop_u.mkdir.name.dfs_name_len = (u_int)len;
	a->name_argop_u.mkdir.mode = 0755;
}

static void
remove_n(const char *n, size_t len)
{
	name_argop	*a = add(OP_REMOVE);

	a->name_argop_u.remove.dfs_name_val = (char *)n;
	a->name_argop_u.remove.dfs_name_len = (u_int)len;
}

static void
rename_op(const char *o, const char *n)
{
	name_argop	*a = add(OP_RENAME);

	a->name_argop_u.rename.oldname.dfs_name_val = (char *)o;
	a->name_argop_u.rename.oldname.dfs_name_len = (u_int)strlen(o);
	a->name_argop_u.rename.newname.dfs_name_val = (char *)n;
	a->name_argop_u.rename.newname.dfs_name_len = (u_int)strlen(n);
}

static void
readdir_op(uint64_t cookie, u_int count)
{
	name_argop	*a = add(OP_READDIR);

	a->name_argop_u.readdir.cookie = cookie;
	a->name_argop_u.readdir.count = count;
}

static void
commit_op(uint64_t oldvers, uint64_t size, uint64_t srvid)
{
	name_argop	*a = add(OP_COMMIT);

	a->name_argop_u.commit.oldvers = oldvers;
	a->name_argop_u.commit.size = size;
	a->name_argop_u.commit.srvid = srvid;
}

static void
register_op(dfs_srvkind kind, uint64_t id, const char *host,
    unsigned int port, dfs_path *prefixes, u_int nprefixes)
{
	name_argop	*a = add(OP_REGISTER);

	a->name_argop_u.reg.kind = kind;
	a->name_argop_u.reg.id = id;
	a->name_argop_u.reg.host = (char *)host;
	a->name_argop_u.reg.port = port;
	a->name_argop_u.reg.prefixes.prefixes_val = prefixes;
	a->name_argop_u.reg.prefixes.prefixes_len = nprefixes;
}

/* One-op conveniences: each runs a whole COMPOUND. */

static dfs_stat
do_mkdir(const char *dir, const char *name)
{
	B();
	walk(dir);
	mkdir_n(name, strlen(name));
	return go();
}

static dfs_stat
do_create(const char *dir, const char *name)
{
	B();
	walk(dir);
	create(name, 1);
	return go();
}

static dfs_stat
do_rename(const char *from, const char *oldname, const char *to,
    const char *newname)
{
	B();
	walk(from);
	add(OP_SAVEFH);
	walk(to);
	rename_op(oldname, newname);
	return go();
}

/* Stores the handle of `path` in fh (FH_LEN bytes). */
static dfs_stat
get_fh(const char *path, unsigned char *fh)
{
	dfs_stat	st;

	B();
	walk(path);
	add(OP_GETFH);
	st = go();
	if (st == DFS_OK) {
		CU_ASSERT(last()->name_resop_u.getfh.getfh_res_u.fh.
		    dfs_fh_len == FH_LEN);
		memcpy(fh, last()->name_resop_u.getfh.getfh_res_u.fh.
		    dfs_fh_val, FH_LEN);
	}
	return st;
}

/* Stores the attributes of `path` in *a. */
static dfs_stat
get_attr(const char *path, dfs_attr *a)
{
	dfs_stat	st;

	B();
	walk(path);
	add(OP_GETATTR);
	st = go();
	if (st == DFS_OK)
		*a = last()->name_resop_u.getattr.attr_res_u.attr;
	return st;
}

static dfs_stat
fh_attr(const unsigned char *fh, size_t len, dfs_attr *a)
{
	dfs_stat	st;

	B();
	putfh(fh, len);
	add(OP_GETATTR);
	st = go();
	if (st == DFS_OK)
		*a = last()->name_resop_u.getattr.attr_res_u.attr;
	return st;
}

/* Returns 1 when GETPATH of handle fh is `want`. */
static int
path_is(const unsigned char *fh, const char *want)
{
	dfs_path	*p;

	B();
	putfh(fh, FH_LEN);
	add(OP_GETPATH);
	if (go() != DFS_OK)
		return 0;
	p = &last()->name_resop_u.getpath.path_res_u.path;
	return p->dfs_path_len == strlen(want) &&
	    memcmp(p->dfs_path_val, want, p->dfs_path_len) == 0;
}

static uint64_t
reg_file(uint64_t id, unsigned int port, dfs_path *pfx, u_int npfx)
{
	B();
	register_op(DFS_SRV_FILE, id, "127.0.0.1", port, pfx, npfx);
	CU_ASSERT_FATAL(go() == DFS_OK);
	return last()->name_resop_u.reg.register_res_u.ok.id;
}

static int
setup_dir(void)
{
	strcpy(fx.dir, "/tmp/t_named.XXXXXX");
	return mkdtemp(fx.dir) == NULL ? -1 : 0;
}

static void
test_setup(void)
{
	CU_ASSERT_FATAL(setup_dir() == 0);
	fx_open(fx.dir);
	fx.srvid = reg_file(0, 7001, NULL, 0);
}

static void
test_teardown(void)
{
	B();
	if (fx.kv != NULL)
		fx_close();
	cutest_rmtree(fx.dir);
}

/* --- compound --- */

static void
test_named__empty_compound(void)
{
	B();
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(R.res.res_len == 0);
}

static void
test_named__stops_at_first_failure(void)
{
	B();
	putroot();
	lookup("nope");
	add(OP_GETATTR);
	CU_ASSERT(go() == DFS_ERR_NOENT);
	CU_ASSERT_FATAL(R.res.res_len == 2);
	CU_ASSERT(res(0)->op == OP_PUTROOTFH);
	CU_ASSERT(res(0)->name_resop_u.putrootfh == DFS_OK);
	CU_ASSERT(res(1)->op == OP_LOOKUP);
	CU_ASSERT(res(1)->name_resop_u.lookup == DFS_ERR_NOENT);
}

static void
test_named__too_long(void)
{
	u_int	i;

	B();
	for (i = 0; i < DFS_MAXOPS; i++)
		putroot();
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(R.res.res_len == DFS_MAXOPS);
	B();
	for (i = 0; i < DFS_MAXOPS + 1; i++)
		putroot();
	CU_ASSERT(go() == DFS_ERR_RESOURCE);
	CU_ASSERT(R.res.res_len == 0);
}

static void
test_named__illegal(void)
{
	static const name_opnum bad[] = { OP_ILLEGAL, 77, 999, (name_opnum)-1 };
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		B();
		putroot();
		add(bad[i]);
		add(OP_GETATTR);
		CU_ASSERT(go() == DFS_ERR_OP_ILLEGAL);
		CU_ASSERT_FATAL(R.res.res_len == 2);
		CU_ASSERT(res(1)->op == OP_ILLEGAL);
		CU_ASSERT(res(1)->name_resop_u.illegal == DFS_ERR_OP_ILLEGAL);
	}
}

/* Returns the counter named `name` in the last reply's STATS (the last
 * result); fails the test if there is none. */
static const dfs_counter *
stat_of(const char *name)
{
	const stats_res	*st = &last()->name_resop_u.stats;
	u_int		 i;

	CU_ASSERT_FATAL(last()->op == OP_STATS && st->status == DFS_OK);
	for (i = 0; i < st->stats_res_u.counters.counters_len; i++)
		if (strcmp(st->stats_res_u.counters.counters_val[i].name,
		    name) == 0)
			return &st->stats_res_u.counters.counters_val[i];
	CU_FAIL_FATAL("no such counter");
	return NULL;
}

/* The calls counted since the fixture's REGISTER: every op evaluated,
 * failed ones and STATS itself included; every op listed in table order
 * but ILLEGAL, bytes always 0; then the log's two counters. */
static void
test_named__stats(void)
{
	static const char *const names[] = { "PUTROOTFH", "PUTFH", "GETFH",
	    "SAVEFH", "RESTOREFH", "LOOKUP", "GETATTR", "SETATTR", "CREATE",
	    "MKDIR", "REMOVE", "RENAME", "READDIR", "LOCATE", "SERVERS",
	    "REGISTER", "COMMIT", "GETPATH", "PUTLOCK", "STATS", "SUSPECT",
	    "TESTLOCK",
	    "LOG_COMMITS", "LOG_SYNCS" };
	static const struct {
		const char	*name;
		uint64_t	 calls;
	} want[] = {
		{ "PUTROOTFH", 2 }, { "GETATTR", 2 }, { "GETFH", 1 },
		{ "LOOKUP", 1 }, { "REGISTER", 1 }, { "STATS", 1 },
		{ "RENAME", 0 }, { "COMMIT", 0 },
	};
	const stats_res	*st;
	size_t		 i;

	B();
	putroot();
	add(OP_GETATTR);
	add(OP_GETATTR);
	lookup("nope");			/* fails: counted all the same */
	add(OP_GETATTR);		/* not evaluated: not counted */
	CU_ASSERT(go() == DFS_ERR_NOENT);
	B();
	add(OP_GETFH);			/* NOFILEHANDLE */
	CU_ASSERT(go() == DFS_ERR_NOFILEHANDLE);
	B();
	putroot();
	add(77);			/* ILLEGAL: counted, not listed */
	CU_ASSERT(go() == DFS_ERR_OP_ILLEGAL);
	B();
	add(OP_STATS);
	CU_ASSERT_FATAL(go() == DFS_OK);
	st = &last()->name_resop_u.stats;
	CU_ASSERT_FATAL(st->stats_res_u.counters.counters_len ==
	    sizeof(names) / sizeof(names[0]));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CU_ASSERT_STRING_EQUAL(
		    st->stats_res_u.counters.counters_val[i].name, names[i]);
		if (strcmp(names[i], "LOG_COMMITS") != 0)
			CU_ASSERT(st->stats_res_u.counters.counters_val[i].
			    bytes == 0);
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CU_ASSERT(stat_of(want[i].name)->calls == want[i].calls);
	/* a second STATS counts the first and itself, nothing else */
	B();
	add(OP_STATS);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(stat_of("STATS")->calls == 2);
	CU_ASSERT(stat_of("PUTROOTFH")->calls == 2);
}

static void
test_named__nofilehandle(void)
{
	static const name_opnum need[] = { OP_GETFH, OP_SAVEFH, OP_LOOKUP,
	    OP_GETATTR, OP_SETATTR, OP_CREATE, OP_MKDIR, OP_REMOVE,
	    OP_RENAME, OP_READDIR, OP_LOCATE, OP_COMMIT, OP_GETPATH,
	    OP_RESTOREFH };
	size_t	i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		B();
		add(need[i]);
		CU_ASSERT(go() == DFS_ERR_NOFILEHANDLE);
	}
	/* RENAME needs a saved handle too */
	CU_ASSERT(do_create("/", "f") == DFS_OK);
	B();
	putroot();
	rename_op("f", "g");
	CU_ASSERT(go() == DFS_ERR_NOFILEHANDLE);
}

static void
test_named__save_restore(void)
{
	unsigned char	root[FH_LEN];
	dfs_fh		*fh;

	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(get_fh("/", root) == DFS_OK);
	B();
	putroot();
	add(OP_SAVEFH);
	lookup("d");
	add(OP_RESTOREFH);
	add(OP_GETFH);
	CU_ASSERT(go() == DFS_OK);
	fh = &last()->name_resop_u.getfh.getfh_res_u.fh;
	CU_ASSERT(fh->dfs_fh_len == FH_LEN &&
	    memcmp(fh->dfs_fh_val, root, FH_LEN) == 0);
}

/* --- namespace --- */

static void
test_named__lookup(void)
{
	dfs_attr	a;

	CU_ASSERT(do_mkdir("/", "a") == DFS_OK);
	CU_ASSERT(do_mkdir("/a", "b") == DFS_OK);
	CU_ASSERT(do_create("/a/b", "f") == DFS_OK);
	CU_ASSERT(get_attr("/a/b/f", &a) == DFS_OK);
	CU_ASSERT(a.type == DFS_FTYPE_REG);
	CU_ASSERT(get_attr("/a/b", &a) == DFS_OK);
	CU_ASSERT(a.type == DFS_FTYPE_DIR);
	CU_ASSERT(get_attr("/a/x", &a) == DFS_ERR_NOENT);
	CU_ASSERT(get_attr("/a/x/y", &a) == DFS_ERR_NOENT);
	CU_ASSERT(get_attr("/a/b/f/g", &a) == DFS_ERR_NOTDIR);
	B();
	walk("/a/b/f");
	lookup("g");
	CU_ASSERT(go() == DFS_ERR_NOTDIR);
}

static void
test_named__lookup_bad_paths(void)
{
	static const struct {
		const char	*p;
		size_t		 len;
		dfs_stat	 want;
	} cases[] = {
		{ "", 0, DFS_ERR_INVAL },
		{ "/a", 2, DFS_ERR_INVAL },
		{ "a//b", 4, DFS_ERR_INVAL },
		{ "a/./b", 5, DFS_ERR_INVAL },
		{ "..", 2, DFS_ERR_INVAL },
		{ "a\0b", 3, DFS_ERR_INVAL },
	};
	size_t	i;

	CU_ASSERT(do_mkdir("/", "a") == DFS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		B();
		putroot();
		lookup_n(cases[i].p, cases[i].len);
		CU_ASSERT(go() == cases[i].want);
	}
}

static void
test_named__create(void)
{
	create_ok	*ok;
	uint64_t	 id;

	B();
	putroot();
	create("f", 1);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &last()->name_resop_u.create.create_res_u.ok;
	CU_ASSERT(ok->created == TRUE);
	CU_ASSERT(ok->attr.type == DFS_FTYPE_REG);
	CU_ASSERT(ok->attr.vers == 0 && ok->attr.size == 0);
	CU_ASSERT(ok->attr.mode == 0644);
	CU_ASSERT(ok->attr.nlink == 1);
	CU_ASSERT_FATAL(ok->servers.servers_len == 1);
	CU_ASSERT(ok->servers.servers_val[0].id == fx.srvid);
	CU_ASSERT(ok->servers.servers_val[0].live == TRUE);
	CU_ASSERT(strcmp(ok->servers.servers_val[0].host, "127.0.0.1") == 0);
	id = ok->attr.fileid;
	CU_ASSERT(do_create("/", "f") == DFS_ERR_EXIST);
	/* non-exclusive opens the existing file; current = it */
	B();
	putroot();
	create("f", 0);
	add(OP_GETATTR);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &res(1)->name_resop_u.create.create_res_u.ok;
	CU_ASSERT(ok->created == FALSE);
	CU_ASSERT(ok->attr.fileid == id);
	CU_ASSERT(ok->servers.servers_len == 1);
	CU_ASSERT(last()->name_resop_u.getattr.attr_res_u.attr.fileid == id);
	/* a directory's name */
	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	B();
	putroot();
	create("d", 0);
	CU_ASSERT(go() == DFS_ERR_ISDIR);
	CU_ASSERT(do_create("/", "d") == DFS_ERR_EXIST);
	/* in a file */
	CU_ASSERT(do_create("/f", "x") == DFS_ERR_NOTDIR);
	CU_ASSERT(do_mkdir("/f", "x") == DFS_ERR_NOTDIR);
}

static void
test_named__mkdir(void)
{
	dfs_attr	root0, root1, a;

	CU_ASSERT(get_attr("/", &root0) == DFS_OK);
	CU_ASSERT(root0.type == DFS_FTYPE_DIR && root0.nlink == 2);
	B();
	putroot();
	mkdir_n("d", 1);
	add(OP_GETATTR);
	CU_ASSERT_FATAL(go() == DFS_OK);
	a = res(1)->name_resop_u.mkdir.attr_res_u.attr;
	CU_ASSERT(a.type == DFS_FTYPE_DIR && a.nlink == 2 && a.mode == 0755);
	CU_ASSERT(a.size == 0);
	/* current is the new directory */
	CU_ASSERT(last()->name_resop_u.getattr.attr_res_u.attr.fileid ==
	    a.fileid);
	CU_ASSERT(get_attr("/", &root1) == DFS_OK);
	CU_ASSERT(root1.nlink == 3 && root1.size == 1);
	CU_ASSERT(root1.vers == root0.vers + 1);
	CU_ASSERT(root1.mtime >= root0.mtime);
	CU_ASSERT(do_mkdir("/", "d") == DFS_ERR_EXIST);
	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "f") == DFS_ERR_EXIST);
}

static void
test_named__bad_names(void)
{
	static char	 long255[256], long256[257];
	static const struct {
		const char	*n;
		size_t		 len;
		dfs_stat	 want;
	} cases[] = {
		{ "", 0, DFS_ERR_INVAL },
		{ "a/b", 3, DFS_ERR_INVAL },
		{ "/", 1, DFS_ERR_INVAL },
		{ ".", 1, DFS_ERR_INVAL },
		{ "..", 2, DFS_ERR_INVAL },
		{ "a\0b", 3, DFS_ERR_INVAL },
		{ long256, 256, DFS_ERR_NAMETOOLONG },
		{ long255, 255, DFS_OK },
	};
	size_t	i;

	memset(long255, 'x', 255);
	memset(long256, 'y', 256);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		B();
		putroot();
		create_n(cases[i].n, cases[i].len, 1);
		CU_ASSERT(go() == cases[i].want);
		B();
		putroot();
		mkdir_n(cases[i].n, cases[i].len);
		CU_ASSERT(go() == (cases[i].want == DFS_OK ? DFS_ERR_EXIST :
		    cases[i].want));
		B();
		putroot();
		remove_n(cases[i].n, cases[i].len);
		CU_ASSERT(go() == cases[i].want);
	}
}

static void
test_named__remove(void)
{
	unsigned char	fh[FH_LEN];
	dfs_loc		*loc;
	dfs_attr	 a0, a1;

	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(get_fh("/f", fh) == DFS_OK);
	CU_ASSERT(get_attr("/", &a0) == DFS_OK);
	B();
	putroot();
	remove_n("f", 1);
	CU_ASSERT_FATAL(go() == DFS_OK);
	loc = &last()->name_resop_u.remove.remove_res_u.removed;
	CU_ASSERT(loc->type == DFS_FTYPE_REG);
	CU_ASSERT(loc->fh.dfs_fh_len == FH_LEN &&
	    memcmp(loc->fh.dfs_fh_val, fh, FH_LEN) == 0);
	CU_ASSERT_FATAL(loc->servers.servers_len == 1);
	CU_ASSERT(loc->servers.servers_val[0].id == fx.srvid);
	CU_ASSERT(get_attr("/", &a1) == DFS_OK);
	CU_ASSERT(a1.vers == a0.vers + 1 && a1.size == a0.size - 1);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a1) == DFS_ERR_STALE);
	CU_ASSERT(get_attr("/f", &a1) == DFS_ERR_NOENT);
	B();
	putroot();
	remove_n("f", 1);
	CU_ASSERT(go() == DFS_ERR_NOENT);
	/* directories: only empty ones */
	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(do_create("/d", "g") == DFS_OK);
	B();
	putroot();
	remove_n("d", 1);
	CU_ASSERT(go() == DFS_ERR_NOTEMPTY);
	B();
	walk("/d");
	remove_n("g", 1);
	add(OP_PUTROOTFH);
	remove_n("d", 1);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(last()->name_resop_u.remove.remove_res_u.removed.type ==
	    DFS_FTYPE_DIR);
	CU_ASSERT(get_attr("/", &a1) == DFS_OK);
	CU_ASSERT(a1.nlink == 2);
	/* in a file */
	CU_ASSERT(do_create("/", "h") == DFS_OK);
	B();
	walk("/h");
	remove_n("x", 1);
	CU_ASSERT(go() == DFS_ERR_NOTDIR);
}

static void
test_named__stale_within_compound(void)
{
	CU_ASSERT(do_create("/", "f") == DFS_OK);
	B();
	walk("/f");
	add(OP_SAVEFH);
	add(OP_PUTROOTFH);
	remove_n("f", 1);
	add(OP_RESTOREFH);
	add(OP_GETATTR);
	CU_ASSERT(go() == DFS_ERR_STALE);
	CU_ASSERT(R.res.res_len == 7);
}

static void
test_named__rename_file(void)
{
	unsigned char	fh[FH_LEN];
	dfs_attr	a;
	rename_res	*rr;

	CU_ASSERT(do_create("/", "a") == DFS_OK);
	CU_ASSERT(get_fh("/a", fh) == DFS_OK);
	CU_ASSERT(do_rename("/", "a", "/", "b") == DFS_OK);
	rr = &last()->name_resop_u.rename;
	CU_ASSERT(rr->rename_res_u.replaced.replaced_len == 0);
	CU_ASSERT(get_attr("/a", &a) == DFS_ERR_NOENT);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_OK);
	CU_ASSERT(path_is(fh, "/b"));
	/* across directories, keeping the handle */
	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(do_rename("/", "b", "/d", "c") == DFS_OK);
	CU_ASSERT(path_is(fh, "/d/c"));
	CU_ASSERT(get_attr("/d/c", &a) == DFS_OK);
	CU_ASSERT(get_attr("/b", &a) == DFS_ERR_NOENT);
	/* onto itself: nothing changes */
	CU_ASSERT(do_rename("/d", "c", "/d", "c") == DFS_OK);
	CU_ASSERT(path_is(fh, "/d/c"));
	CU_ASSERT(do_rename("/d", "zz", "/", "y") == DFS_ERR_NOENT);
}

static void
test_named__rename_dir(void)
{
	unsigned char	fh[FH_LEN];
	dfs_attr	a;

	CU_ASSERT(do_mkdir("/", "x") == DFS_OK);
	CU_ASSERT(do_mkdir("/x", "y") == DFS_OK);
	CU_ASSERT(do_create("/x/y", "f") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "z") == DFS_OK);
	CU_ASSERT(get_fh("/x/y/f", fh) == DFS_OK);
	CU_ASSERT(do_rename("/x", "y", "/z", "y2") == DFS_OK);
	CU_ASSERT(path_is(fh, "/z/y2/f"));
	CU_ASSERT(get_attr("/x", &a) == DFS_OK);
	CU_ASSERT(a.nlink == 2 && a.size == 0);
	CU_ASSERT(get_attr("/z", &a) == DFS_OK);
	CU_ASSERT(a.nlink == 3 && a.size == 1);
	/* into itself or its subtree */
	CU_ASSERT(do_rename("/", "z", "/z/y2", "z3") == DFS_ERR_INVAL);
	CU_ASSERT(do_rename("/", "z", "/z", "z3") == DFS_ERR_INVAL);
	CU_ASSERT(path_is(fh, "/z/y2/f"));
	/* a directory handle is needed on both sides */
	CU_ASSERT(do_rename("/z/y2/f", "a", "/", "b") == DFS_ERR_NOTDIR);
	CU_ASSERT(do_rename("/", "z", "/z/y2/f", "b") == DFS_ERR_NOTDIR);
}

static void
test_named__rename_replace(void)
{
	unsigned char	fa[FH_LEN], fb[FH_LEN];
	dfs_loc		*loc;
	dfs_attr	 a;

	CU_ASSERT(do_create("/", "a") == DFS_OK);
	CU_ASSERT(do_create("/", "b") == DFS_OK);
	CU_ASSERT(get_fh("/a", fa) == DFS_OK);
	CU_ASSERT(get_fh("/b", fb) == DFS_OK);
	CU_ASSERT(do_rename("/", "a", "/", "b") == DFS_OK);
	CU_ASSERT_FATAL(last()->name_resop_u.rename.rename_res_u.replaced.
	    replaced_len == 1);
	loc = last()->name_resop_u.rename.rename_res_u.replaced.replaced_val;
	CU_ASSERT(memcmp(loc->fh.dfs_fh_val, fb, FH_LEN) == 0);
	CU_ASSERT(loc->type == DFS_FTYPE_REG);
	CU_ASSERT(loc->servers.servers_len == 1);
	CU_ASSERT(fh_attr(fb, FH_LEN, &a) == DFS_ERR_STALE);
	CU_ASSERT(path_is(fa, "/b"));
	CU_ASSERT(get_attr("/", &a) == DFS_OK);
	CU_ASSERT(a.size == 1);
}

static void
test_named__rename_conflicts(void)
{
	static const struct {
		const char	*from, *to;
		dfs_stat	 want;
	} cases[] = {
		{ "f", "d", DFS_ERR_ISDIR },
		{ "d", "f", DFS_ERR_NOTDIR },
		{ "d", "full", DFS_ERR_NOTEMPTY },
		{ "d", "empty", DFS_OK },
	};
	size_t		i;
	dfs_attr	a;

	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "full") == DFS_OK);
	CU_ASSERT(do_create("/full", "x") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "empty") == DFS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(do_rename("/", cases[i].from, "/", cases[i].to) ==
		    cases[i].want);
	CU_ASSERT(get_attr("/empty", &a) == DFS_OK);
	CU_ASSERT(get_attr("/d", &a) == DFS_ERR_NOENT);
	CU_ASSERT(get_attr("/", &a) == DFS_OK);
	CU_ASSERT(a.size == 3 && a.nlink == 4);
}

static void
test_named__setattr(void)
{
	dfs_attr	a0, a1;
	name_argop	*op;

	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(get_attr("/f", &a0) == DFS_OK);
	B();
	walk("/f");
	op = add(OP_SETATTR);
	op->name_argop_u.setattr.mask = DFS_SA_MODE | DFS_SA_UID |
	    DFS_SA_GID | DFS_SA_MTIME;
	op->name_argop_u.setattr.mode = 0104755;
	op->name_argop_u.setattr.uid = 1000;
	op->name_argop_u.setattr.gid = 100;
	op->name_argop_u.setattr.mtime = 1234567890123456789LL;
	CU_ASSERT_FATAL(go() == DFS_OK);
	a1 = last()->name_resop_u.setattr.attr_res_u.attr;
	CU_ASSERT(a1.mode == 04755 && a1.uid == 1000 && a1.gid == 100);
	CU_ASSERT(a1.mtime == 1234567890123456789LL);
	CU_ASSERT(a1.ctime >= a0.ctime);
	CU_ASSERT(a1.vers == a0.vers);
	CU_ASSERT(get_attr("/f", &a0) == DFS_OK);
	CU_ASSERT(a0.mode == 04755 && a0.uid == 1000);
	/* only the masked fields */
	B();
	walk("/f");
	op = add(OP_SETATTR);
	op->name_argop_u.setattr.mask = DFS_SA_GID;
	op->name_argop_u.setattr.mode = 0;
	op->name_argop_u.setattr.gid = 7;
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(get_attr("/f", &a0) == DFS_OK);
	CU_ASSERT(a0.mode == 04755 && a0.gid == 7);
	B();
	walk("/f");
	op = add(OP_SETATTR);
	op->name_argop_u.setattr.mask = 0x10;
	CU_ASSERT(go() == DFS_ERR_INVAL);
}

static void
test_named__getpath(void)
{
	unsigned char	fh[FH_LEN];

	CU_ASSERT(get_fh("/", fh) == DFS_OK);
	CU_ASSERT(path_is(fh, "/"));
	CU_ASSERT(do_mkdir("/", "a") == DFS_OK);
	CU_ASSERT(do_mkdir("/a", "b") == DFS_OK);
	CU_ASSERT(get_fh("/a/b", fh) == DFS_OK);
	CU_ASSERT(path_is(fh, "/a/b"));
	CU_ASSERT(do_rename("/", "a", "/", "c") == DFS_OK);
	CU_ASSERT(path_is(fh, "/c/b"));
}

static void
test_named__commit(void)
{
	dfs_attr	a;

	CU_ASSERT(do_create("/", "f") == DFS_OK);
	B();
	walk("/f");
	commit_op(0, 10, fx.srvid);
	CU_ASSERT_FATAL(go() == DFS_OK);
	a = last()->name_resop_u.commit.attr_res_u.attr;
	CU_ASSERT(a.vers == 1 && a.size == 10);
	B();
	walk("/f");
	commit_op(0, 20, fx.srvid);
	CU_ASSERT(go() == DFS_ERR_CHANGED);
	B();
	walk("/f");
	commit_op(1, 20, fx.srvid);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(get_attr("/f", &a) == DFS_OK);
	CU_ASSERT(a.vers == 2 && a.size == 20);
	B();
	walk("/f");
	commit_op(2, 20, 999);
	CU_ASSERT(go() == DFS_ERR_INVAL);
	B();
	putroot();
	commit_op(0, 20, fx.srvid);
	CU_ASSERT(go() == DFS_ERR_ISDIR);
}

/* --- handles --- */

static void
test_named__handles(void)
{
	unsigned char	fh[FH_LEN], bad[FH_LEN];
	struct fh	other = { 0, 2 };
	dfs_attr	a;

	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(get_fh("/f", fh) == DFS_OK);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_OK);
	CU_ASSERT(fh_attr(fh, FH_LEN - 1, &a) == DFS_ERR_BADHANDLE);
	CU_ASSERT(fh_attr(fh, 0, &a) == DFS_ERR_BADHANDLE);
	memcpy(bad, fh, FH_LEN);
	bad[0] ^= 1;
	CU_ASSERT(fh_attr(bad, FH_LEN, &a) == DFS_ERR_BADHANDLE);
	memcpy(bad, fh, FH_LEN);
	bad[FH_LEN - 1] ^= 1;
	CU_ASSERT(fh_attr(bad, FH_LEN, &a) == DFS_ERR_BADHANDLE);
	memcpy(bad, fh, FH_LEN);
	bad[19] ^= 1;			/* another file id, same tag */
	CU_ASSERT(fh_attr(bad, FH_LEN, &a) == DFS_ERR_BADHANDLE);
	other.instance = fx.nc.instance + 1;
	fh_encode(&other, fx.nc.secret, bad);
	CU_ASSERT(fh_attr(bad, FH_LEN, &a) == DFS_ERR_STALE);
	/* a well-made handle of an id never given out */
	other.instance = fx.nc.instance;
	other.fileid = 1000000;
	fh_encode(&other, fx.nc.secret, bad);
	CU_ASSERT(fh_attr(bad, FH_LEN, &a) == DFS_ERR_STALE);
	B();
	putroot();
	remove_n("f", 1);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_ERR_STALE);
	/* a new file never gets the old id */
	CU_ASSERT(do_create("/", "f") == DFS_OK);
	CU_ASSERT(get_fh("/f", bad) == DFS_OK);
	CU_ASSERT(memcmp(bad, fh, FH_LEN) != 0);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_ERR_STALE);
}

/* --- readdir --- */

enum { PAGING_N = 2500 };

/* Creates f0 .. f<PAGING_N - 1> in directory dfh, 31 per COMPOUND. */
static void
fill_dir(const unsigned char *dfh)
{
	static char	names[PAGING_N][16];
	int		i, j;

	for (i = 0; i < PAGING_N; i += 31) {
		B();
		for (j = i; j < PAGING_N && j < i + 31; j++) {
			snprintf(names[j], sizeof(names[j]), "f%d", j);
			putfh(dfh, FH_LEN);
			create(names[j], 1);
		}
		CU_ASSERT_FATAL(go() == DFS_OK);
	}
}

static void
test_named__readdir_paging(void)
{
	enum { N = PAGING_N };
	static char	seen[N];
	unsigned char	dfh[FH_LEN];
	readdir_ok	*ok;
	uint64_t	cookie = 0;
	int		j, total = 0, pages = 0, k;

	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(get_fh("/d", dfh) == DFS_OK);
	fill_dir(dfh);
	memset(seen, 0, sizeof(seen));
	do {
		B();
		putfh(dfh, FH_LEN);
		readdir_op(cookie, 1000);
		CU_ASSERT_FATAL(go() == DFS_OK);
		ok = &last()->name_resop_u.readdir.readdir_res_u.ok;
		pages++;
		for (j = 0; j < (int)ok->entries.entries_len; j++) {
			dfs_name	*nm = &ok->entries.entries_val[j].name;
			char		 buf[16];

			CU_ASSERT_FATAL(nm->dfs_name_len < sizeof(buf));
			memcpy(buf, nm->dfs_name_val, nm->dfs_name_len);
			buf[nm->dfs_name_len] = '\0';
			CU_ASSERT_FATAL(sscanf(buf, "f%d", &k) == 1);
			CU_ASSERT(k >= 0 && k < N && !seen[k]);
			if (k >= 0 && k < N)
				seen[k] = 1;
			CU_ASSERT(ok->entries.entries_val[j].type ==
			    DFS_FTYPE_REG);
			cookie = ok->entries.entries_val[j].cookie;
		}
		total += (int)ok->entries.entries_len;
		CU_ASSERT(ok->entries.entries_len == (pages < 3 ? 1000 : 500));
	} while (!ok->eof && pages < 10);
	CU_ASSERT(pages == 3);
	CU_ASSERT(total == N);
	/* count 0 and too large both mean DFS_MAXDIRENT */
	B();
	putfh(dfh, FH_LEN);
	readdir_op(0, 0);
	putfh(dfh, FH_LEN);
	readdir_op(0, 100000);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(res(1)->name_resop_u.readdir.readdir_res_u.ok.entries.
	    entries_len == DFS_MAXDIRENT);
	CU_ASSERT(res(3)->name_resop_u.readdir.readdir_res_u.ok.entries.
	    entries_len == DFS_MAXDIRENT);
}

static void
test_named__readdir_cookies(void)
{
	readdir_ok	*ok;
	uint64_t	 c_b;

	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	B();
	walk("/d");
	readdir_op(0, 10);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &last()->name_resop_u.readdir.readdir_res_u.ok;
	CU_ASSERT(ok->entries.entries_len == 0 && ok->eof == TRUE);
	CU_ASSERT(do_create("/d", "a") == DFS_OK);
	CU_ASSERT(do_mkdir("/d", "b") == DFS_OK);
	CU_ASSERT(do_create("/d", "c") == DFS_OK);
	B();
	walk("/d");
	readdir_op(0, 2);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &last()->name_resop_u.readdir.readdir_res_u.ok;
	CU_ASSERT_FATAL(ok->entries.entries_len == 2);
	CU_ASSERT(ok->eof == FALSE);
	CU_ASSERT(ok->entries.entries_val[1].type == DFS_FTYPE_DIR);
	CU_ASSERT(memcmp(ok->entries.entries_val[1].name.dfs_name_val, "b",
	    1) == 0);
	c_b = ok->entries.entries_val[1].cookie;
	/* the rest after b: c, then eof */
	B();
	walk("/d");
	readdir_op(c_b, 2);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &last()->name_resop_u.readdir.readdir_res_u.ok;
	CU_ASSERT(ok->entries.entries_len == 1 && ok->eof == TRUE);
	/* b removed: its cookie is no longer valid */
	B();
	walk("/d");
	remove_n("b", 1);
	readdir_op(c_b, 2);
	CU_ASSERT(go() == DFS_ERR_BADCOOKIE);
	B();
	walk("/d");
	readdir_op(987654321, 2);
	CU_ASSERT(go() == DFS_ERR_BADCOOKIE);
	B();
	walk("/d/a");
	readdir_op(0, 2);
	CU_ASSERT(go() == DFS_ERR_NOTDIR);
}

/* --- servers --- */

static void
test_named__register(void)
{
	static dfs_path	 badpfx[] = { { 1, "a" } };
	register_ok	*ok;
	uint64_t	 id2;
	size_t		 i;
	static const struct {
		dfs_srvkind	 kind;
		const char	*host;
		unsigned int	 port;
		dfs_path	*pfx;
		dfs_stat	 want;
	} bad[] = {
		{ 3, "127.0.0.1", 1, NULL, DFS_ERR_INVAL },
		{ DFS_SRV_FILE, "", 1, NULL, DFS_ERR_INVAL },
		{ DFS_SRV_FILE, "127.0.0.1", 0, NULL, DFS_ERR_INVAL },
		{ DFS_SRV_FILE, "127.0.0.1", 70000, NULL, DFS_ERR_INVAL },
		{ DFS_SRV_FILE, "127.0.0.1", 1, badpfx, DFS_ERR_INVAL },
	};

	B();
	register_op(DFS_SRV_FILE, fx.srvid, "127.0.0.1", 7001, NULL, 0);
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &last()->name_resop_u.reg.register_res_u.ok;
	CU_ASSERT(ok->id == fx.srvid);
	CU_ASSERT(ok->instance == fx.nc.instance);
	CU_ASSERT(ok->heartbeat_ms == NAMED_HB_DEFAULT);
	id2 = reg_file(0, 7002, NULL, 0);
	CU_ASSERT(id2 != fx.srvid && id2 != 0);
	CU_ASSERT(reg_file(4242, 7003, NULL, 0) > id2);
	/* a changed registration keeps its id */
	CU_ASSERT(reg_file(id2, 7004, NULL, 0) == id2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		B();
		register_op(bad[i].kind, 0, bad[i].host, bad[i].port,
		    bad[i].pfx, bad[i].pfx != NULL);
		CU_ASSERT(go() == bad[i].want);
	}
	B();
	add(OP_SERVERS);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(last()->name_resop_u.servers.servers_res_u.servers.
	    servers_len == 3);
}

/* Returns the server CREATE placed dir/name on. */
static uint64_t
placed(const char *dir, const char *name)
{
	create_ok	*ok;

	if (do_create(dir, name) != DFS_OK)
		return 0;
	ok = &last()->name_resop_u.create.create_res_u.ok;
	return ok->servers.servers_len == 1 ? ok->servers.servers_val[0].id :
	    0;
}

static void
test_named__placement(void)
{
	static dfs_path	pa[] = { { 2, "/a" } }, pab[] = { { 4, "/a/b" },
			    { 2, "/q" } }, pab2[] = { { 3, "/ab" } };
	uint64_t	a, ab, ab2;
	dfs_server	*s;

	a = reg_file(0, 7010, pa, 1);
	ab = reg_file(0, 7011, pab, 2);
	ab2 = reg_file(0, 7012, pab2, 1);
	CU_ASSERT(do_mkdir("/", "a") == DFS_OK);
	CU_ASSERT(do_mkdir("/a", "b") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "ab") == DFS_OK);
	CU_ASSERT(do_mkdir("/", "q") == DFS_OK);
	CU_ASSERT(placed("/a/b", "f") == ab);
	CU_ASSERT(placed("/a", "f") == a);
	CU_ASSERT(placed("/a", "b2") == a);
	CU_ASSERT(placed("/ab", "f") == ab2);
	CU_ASSERT(placed("/q", "f") == ab);
	CU_ASSERT(placed("/", "z") == fx.srvid);
	/* LOCATE */
	B();
	walk("/a/b/f");
	add(OP_LOCATE);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT_FATAL(last()->name_resop_u.locate.servers_res_u.servers.
	    servers_len == 1);
	s = last()->name_resop_u.locate.servers_res_u.servers.servers_val;
	CU_ASSERT(s->id == ab && s->port == 7011 && s->live == TRUE);
	CU_ASSERT(s->kind == DFS_SRV_FILE);
	B();
	walk("/a");
	add(OP_LOCATE);
	CU_ASSERT(go() == DFS_ERR_ISDIR);
}

/* SUSPECT steers placement to the other server while one is left;
 * with none left, or for an unknown id, placement goes on as before. */
static void
test_named__suspect(void)
{
	uint64_t	other, again;
	int		i;

	other = reg_file(0, 7020, NULL, 0);
	B();
	add(OP_SUSPECT)->name_argop_u.suspect = fx.srvid;
	add(OP_SUSPECT)->name_argop_u.suspect = 999;	/* unknown: ignored */
	CU_ASSERT_FATAL(go() == DFS_OK);
	for (i = 0; i < 4; i++) {
		char	name[16];

		snprintf(name, sizeof(name), "s%d", i);
		CU_ASSERT(placed("/", name) == other);
	}
	B();
	add(OP_SUSPECT)->name_argop_u.suspect = other;
	CU_ASSERT_FATAL(go() == DFS_OK);
	/* both suspect: round robin among them, nothing refused */
	again = placed("/", "t0");
	CU_ASSERT(again == fx.srvid || again == other);
	CU_ASSERT(placed("/", "t1") != again && placed("/", "t2") == again);
}

static void
test_named__noserver(void)
{
	dfs_server	*s;

	fx.nc.heartbeat_ms = 50;
	usleep(200 * 1000);
	CU_ASSERT(do_create("/", "f") == DFS_ERR_NOSERVER);
	B();
	add(OP_SERVERS);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT_FATAL(last()->name_resop_u.servers.servers_res_u.servers.
	    servers_len == 1);
	s = last()->name_resop_u.servers.servers_res_u.servers.servers_val;
	CU_ASSERT(s->live == FALSE);
	/* the heartbeat comes back */
	CU_ASSERT(reg_file(fx.srvid, 7001, NULL, 0) == fx.srvid);
	CU_ASSERT(placed("/", "f") == fx.srvid);
	/* a lock server is not a file server (and, placement failing
	 * first, the lock server, which does not answer, is not asked) */
	usleep(200 * 1000);
	B();
	register_op(DFS_SRV_LOCK, 0, "127.0.0.1", 7100, NULL, 0);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(do_create("/", "g") == DFS_ERR_NOSERVER);
}

/* REGISTER of lock server `id` (0: new) at 127.0.0.x:port saying its
 * locks may be held hold_ms after it.  Returns the status; *out its id. */
static dfs_stat
reg_lock(uint64_t id, const char *host, unsigned int port,
    unsigned int hold_ms, uint64_t *out)
{
	dfs_stat	st;

	B();
	register_op(DFS_SRV_LOCK, id, host, port, NULL, 0);
	ops[nops - 1].name_argop_u.reg.hold_ms = hold_ms;
	st = go();
	if (st == DFS_OK)
		*out = last()->name_resop_u.reg.register_res_u.ok.id;
	return st;
}

/*
 * One lock authority: a second lock server is refused (STANDBY) while
 * the first heartbeats, and while it may still have locks held after
 * its last heartbeat (its hold_ms); then it takes over and the old one
 * is refused.
 */
static void
test_named__lock_server(void)
{
	dfs_server		*s;
	u_int			 i, nlock = 0;
	uint64_t		 id, first;
	unsigned long long	 t, end;
	dfs_stat		 st;

	fx.nc.heartbeat_ms = 50;
	CU_ASSERT_FATAL(reg_lock(0, "127.0.0.1", 7100, 400, &first) ==
	    DFS_OK);
	CU_ASSERT(reg_lock(0, "127.0.0.2", 7101, 400, &id) ==
	    DFS_ERR_STANDBY);
	CU_ASSERT(reg_lock(first, "127.0.0.1", 7100, 400, &id) == DFS_OK);
	t = now_ms();
	end = t + 5000;
	while ((st = reg_lock(0, "127.0.0.2", 7101, 400, &id)) ==
	    DFS_ERR_STANDBY && now_ms() < end)
		usleep(10 * 1000);
	CU_ASSERT_FATAL(st == DFS_OK);
	CU_ASSERT(now_ms() - t >= 400);
	CU_ASSERT(reg_lock(first, "127.0.0.1", 7100, 400, &first) ==
	    DFS_ERR_STANDBY);
	B();
	add(OP_SERVERS);
	CU_ASSERT_FATAL(go() == DFS_OK);
	s = last()->name_resop_u.servers.servers_res_u.servers.servers_val;
	for (i = 0; i < last()->name_resop_u.servers.servers_res_u.servers.
	    servers_len; i++) {
		if (s[i].kind != DFS_SRV_LOCK)
			continue;
		nlock++;
		CU_ASSERT(s[i].id == id && s[i].port == 7101);
	}
	CU_ASSERT(nlock == 1);
}

/* --- persistence --- */

static void
test_named__reopen(void)
{
	unsigned char	fh[FH_LEN], dfh[FH_LEN];
	uint64_t	inst = fx.nc.instance;
	dfs_attr	a;

	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(do_create("/d", "f") == DFS_OK);
	B();
	walk("/d/f");
	commit_op(0, 42, fx.srvid);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(get_fh("/d/f", fh) == DFS_OK);
	CU_ASSERT(get_fh("/d", dfh) == DFS_OK);
	B();
	fx_close();
	fx_open(fx.dir);
	CU_ASSERT(fx.nc.instance == inst);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_OK);
	CU_ASSERT(a.vers == 1 && a.size == 42);
	CU_ASSERT(path_is(fh, "/d/f"));
	CU_ASSERT(get_attr("/d", &a) == DFS_OK);
	CU_ASSERT(a.size == 1);
	/* the server is known, and live again until proven otherwise */
	CU_ASSERT(placed("/d", "g") == fx.srvid);
	B();
	walk("/d/f");
	add(OP_LOCATE);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(last()->name_resop_u.locate.servers_res_u.servers.
	    servers_len == 1);
	/* ids keep counting: no reuse after a restart */
	B();
	walk("/d/g");
	add(OP_GETATTR);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(last()->name_resop_u.getattr.attr_res_u.attr.fileid > 3);
	B();
	putfh(dfh, FH_LEN);
	readdir_op(0, 10);
	CU_ASSERT_FATAL(go() == DFS_OK);
	CU_ASSERT(last()->name_resop_u.readdir.readdir_res_u.ok.entries.
	    entries_len == 2);
}

/* Copies the state as a kill -9 would leave it. */
static void
crash_copy(const char *to)
{
	CU_ASSERT_FATAL(cutest_crash_copy(fx.dir, to, "named") == 0);
}

static void
test_named__crash(void)
{
	unsigned char	fh[FH_LEN];
	char		crashdir[64];
	struct kv	*kv = fx.kv;
	struct named_ctx nc;
	dfs_attr	a;

	CU_ASSERT(do_mkdir("/", "d") == DFS_OK);
	CU_ASSERT(do_create("/d", "f") == DFS_OK);
	CU_ASSERT(do_rename("/d", "f", "/", "g") == DFS_OK);
	B();
	walk("/g");
	commit_op(0, 7, fx.srvid);
	add(OP_GETFH);
	CU_ASSERT_FATAL(go() == DFS_OK);
	memcpy(fh, last()->name_resop_u.getfh.getfh_res_u.fh.dfs_fh_val,
	    FH_LEN);
	B();
	strcpy(crashdir, "/tmp/t_named_crash.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(crashdir) != NULL);
	crash_copy(crashdir);
	/* ORDER: the original's state as it is now (the CREATE grew its
	 * index of new files), kept for teardown while fx opens the copy */
	nc = fx.nc;
	/* open the copy as a restarted daemon would */
	fx_open(crashdir);
	CU_ASSERT(fx.nc.instance == nc.instance);
	CU_ASSERT(fh_attr(fh, FH_LEN, &a) == DFS_OK);
	CU_ASSERT(a.vers == 1 && a.size == 7);
	CU_ASSERT(path_is(fh, "/g"));
	CU_ASSERT(get_attr("/d/f", &a) == DFS_ERR_NOENT);
	CU_ASSERT(get_attr("/d", &a) == DFS_OK);
	CU_ASSERT(a.size == 0);
	B();
	fx_close();
	cutest_rmtree(crashdir);
	/* back to the original, for teardown */
	fx.kv = kv;
	fx.nc = nc;
	named_set_ctx(&fx.nc);
}

static CU_TestInfo compound_tests[] = {
	{ "empty_compound", test_named__empty_compound },
	{ "stops_at_first_failure", test_named__stops_at_first_failure },
	{ "too_long", test_named__too_long },
	{ "illegal", test_named__illegal },
	{ "stats", test_named__stats },
	{ "nofilehandle", test_named__nofilehandle },
	{ "save_restore", test_named__save_restore },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo namespace_tests[] = {
	{ "lookup", test_named__lookup },
	{ "lookup_bad_paths", test_named__lookup_bad_paths },
	{ "create", test_named__create },
	{ "mkdir", test_named__mkdir },
	{ "bad_names", test_named__bad_names },
	{ "remove", test_named__remove },
	{ "stale_within_compound", test_named__stale_within_compound },
	{ "rename_file", test_named__rename_file },
	{ "rename_dir", test_named__rename_dir },
	{ "rename_replace", test_named__rename_replace },
	{ "rename_conflicts", test_named__rename_conflicts },
	{ "setattr", test_named__setattr },
	{ "getpath", test_named__getpath },
	{ "commit", test_named__commit },
	{ "handles", test_named__handles },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo readdir_tests[] = {
	{ "paging", test_named__readdir_paging },
	{ "cookies", test_named__readdir_cookies },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo server_tests[] = {
	{ "register", test_named__register },
	{ "placement", test_named__placement },
	{ "suspect", test_named__suspect },
	{ "noserver", test_named__noserver },
	{ "lock_server", test_named__lock_server },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo persist_tests[] = {
	{ "reopen", test_named__reopen },
	{ "crash", test_named__crash },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "compound", NULL, NULL, test_setup, test_teardown, compound_tests },
	{ "namespace", NULL, NULL, test_setup, test_teardown,
	    namespace_tests },
	{ "readdir", NULL, NULL, test_setup, test_teardown, readdir_tests },
	{ "servers", NULL, NULL, test_setup, test_teardown, server_tests },
	{ "persist", NULL, NULL, test_setup, test_teardown, persist_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
