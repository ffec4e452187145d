/*
 * it_put.c -- many small files at once: dfs_put() and the file server's
 * PUT, against real daemons.
 *
 * The library's contract (each file created or replaced, committed, and
 * failing on its own), its locks, its argument checks; on the wire, one
 * PUT's files refused one at a time while the rest commit, a bad handle
 * among good ones, and an over-long PUT refused while the server keeps
 * serving; files spread over two file servers; and an acknowledged PUT
 * surviving kill -9 of the file and name servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "fh.h"
#include "harness.h"

static struct cluster	 cl;
static struct dfs	*a, *b;		/* two clients */
static CLIENT		*nc, *fc;

/* a caches under the cluster's root, b caches nothing. */
static int
connect_clients(struct cluster *c)
{
	struct dfs_opts	o = DFS_OPTS_INIT;
	char		dir[sizeof(c->root) + 8];

	snprintf(dir, sizeof(dir), "%s/cache", c->root);
	o.server = c->named_spec;
	o.cache_dir = dir;
	if (dfs_connect(&a, &o) != 0)
		return -1;
	o.cache_dir = NULL;
	o.no_cache = 1;
	if (dfs_connect(&b, &o) != 0)
		return -1;
	nc = harness_clnt(&c->named);
	fc = harness_clnt(&c->filed[0]);
	return nc != NULL && fc != NULL ? 0 : -1;
}

static void
disconnect_clients(void)
{
	dfs_disconnect(a);
	dfs_disconnect(b);
	a = b = NULL;
	if (nc != NULL)
		clnt_destroy(nc);
	if (fc != NULL)
		clnt_destroy(fc);
	nc = fc = NULL;
}

static int
suite_init(void)
{
	if (cluster_start(&cl, 1) == -1 || connect_clients(&cl) != 0)
		return -1;
	return dfs_mkdir(a, "/p", 0755) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	disconnect_clients();
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* files[i] = { paths[i], texts[i] }. */
static void
fill(struct dfs_put *files, const char *const *paths,
    const char *const *texts, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		files[i].path = paths[i];
		files[i].data = texts[i];
		files[i].len = strlen(texts[i]);
		files[i].status = 12345;
	}
}

/* Is `path` readable by client b with exactly `want`? */
static int
holds(const char *path, const char *want)
{
	char	buf[256];

	return harness_get(b, path, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, want) == 0;
}

/* --- the library --- */

/* New files, a replaced one, an empty one: all committed, durable
 * versions another client reads. */
static void
test_put__create_and_replace(void)
{
	char		 paths[20][32], texts[20][32];
	const char	*pp[22], *tp[22];
	struct dfs_put	 files[22];
	struct dfs_info	 st;
	struct dfs_file	*f;
	char		 buf[64];
	ssize_t		 n;
	size_t		 i;

	CU_ASSERT_EQUAL_FATAL(harness_put(a, "/p/old", NULL, "old text"), 0);
	for (i = 0; i < 20; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/p/f%zu", i);
		snprintf(texts[i], sizeof(texts[i]), "file %zu", i);
		pp[i] = paths[i];
		tp[i] = texts[i];
	}
	pp[20] = "/p/old";
	tp[20] = "new text";
	pp[21] = "/p/empty";
	tp[21] = "";
	fill(files, pp, tp, 22);
	CU_ASSERT_EQUAL(dfs_put(a, files, 22, "w", NULL), 0);
	for (i = 0; i < 22; i++) {
		CU_ASSERT_EQUAL(files[i].status, 0);
		CU_ASSERT(holds(pp[i], tp[i]));
	}
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/old", &st), 0);
	CU_ASSERT_EQUAL(st.version, 2);
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/f3", &st), 0);
	CU_ASSERT_EQUAL(st.version, 1);
	CU_ASSERT_EQUAL(st.size, strlen("file 3"));
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/empty", &st), 0);
	CU_ASSERT_EQUAL(st.size, 0);
	/* "w" kept nothing in a's cache */
	CU_ASSERT_EQUAL(dfs_from_cache(a, "/p/f3", &f), -DFS_ERR_STALE);
	/* and again: every file replaced by a new version, which "wc"
	 * keeps in the cache, read back from there with no READ */
	CU_ASSERT_EQUAL(dfs_put(a, files, 22, "wc", NULL), 0);
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/f3", &st), 0);
	CU_ASSERT_EQUAL(st.version, 2);
	CU_ASSERT(holds("/p/old", "new text"));
	CU_ASSERT_EQUAL_FATAL(dfs_from_cache(a, "/p/f3", &f), 0);
	n = dfs_read(f, buf, sizeof(buf));
	CU_ASSERT(n == (ssize_t)strlen("file 3") &&
	    memcmp(buf, "file 3", (size_t)n) == 0);
	CU_ASSERT_EQUAL(dfs_close(f), 0);
}

/* A file the name server refuses fails alone; the files after it in
 * the batch are still written. */
static void
test_put__failures_are_per_file(void)
{
	static const char *const pp[] = { "/p/ok1", "/p", "/nodir/x",
	    "/p/ok2", "/", "/p/ok3" };
	static const char *const tp[] = { "one", "dir", "lost", "two",
	    "root", "three" };
	static const int want[] = { 0, -DFS_ERR_ISDIR, -DFS_ERR_NOENT, 0,
	    -DFS_ERR_ISDIR, 0 };
	struct dfs_put	files[6];
	size_t		i;

	fill(files, pp, tp, 6);
	CU_ASSERT_EQUAL(dfs_put(a, files, 6, "w", NULL), -DFS_ERR_ISDIR);
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(files[i].status, want[i]);
	CU_ASSERT(holds("/p/ok1", "one"));
	CU_ASSERT(holds("/p/ok2", "two"));
	CU_ASSERT(holds("/p/ok3", "three"));
}

/* Locks: without one of its own dfs_put() takes none, and someone
 * else's lock on one path fails that file alone, refused by the servers
 * (nothing made there), while the others are written; a lock the writer
 * holds on one path is used for that file (a batch of two locks); a
 * lock the caller passes that covers all of them is used; one that
 * misses a path is refused. */
static void
test_put__locks(void)
{
	static const char *const pp[] = { "/p/l1", "/p/l2" };
	static const char *const tp[] = { "l1", "l2" };
	const char	*one[] = { "/p/l2" };
	struct dfs_put	 files[2];
	struct dfs_lock	*lk;
	struct dfs_info	 st;

	CU_ASSERT_EQUAL_FATAL(dfs_lock(b, one, 1, 1, 0, &lk), 0);
	fill(files, pp, tp, 2);
	CU_ASSERT_EQUAL(dfs_put(a, files, 2, "w", NULL), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(files[0].status, 0);
	CU_ASSERT_EQUAL(files[1].status, -DFS_ERR_LOCKED);
	CU_ASSERT(holds("/p/l1", "l1"));
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/l2", &st), -DFS_ERR_NOENT);
	/* a lock the writer holds on a path is used for that file */
	files[1].data = "L2";
	CU_ASSERT_EQUAL(dfs_put(b, files, 2, "w", NULL), 0);
	CU_ASSERT(holds("/p/l2", "L2"));
	files[1].data = "l2";
	/* under the holder's own lock, as far as it reaches */
	CU_ASSERT_EQUAL(dfs_put(b, files, 2, "w", lk), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(files[0].status, -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_put(b, &files[1], 1, "w", lk), 0);
	CU_ASSERT(holds("/p/l2", "l2"));
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT_EQUAL(dfs_lock(a, pp, 2, 1, 0, &lk), 0);
	files[0].data = "L1";
	CU_ASSERT_EQUAL(dfs_put(a, files, 2, "w", lk), 0);
	CU_ASSERT(holds("/p/l1", "L1"));
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
}

/* Bad arguments fail every file before any is tried. */
static void
test_put__arguments(void)
{
	static char	 big[DFS_PUT_MAXBYTES / 2 + 1];
	static const char *const pp[] = { "/p/a1", "/p/a2" };
	static const char *const tp[] = { "a1", "a2" };
	struct dfs_put	 files[DFS_PUT_MAXFILES + 1];
	struct dfs_info	 st;
	size_t		 i;

	fill(files, pp, tp, 2);
	CU_ASSERT_EQUAL(dfs_put(a, files, 0, "w", NULL), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_put(a, files, 2, "r", NULL), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(files[1].status, -DFS_ERR_INVAL);
	files[1].path = "relative";
	CU_ASSERT_EQUAL(dfs_put(a, files, 2, "w", NULL), -DFS_ERR_INVAL);
	files[1].path = "/p/a2";
	files[0].data = big;
	files[0].len = sizeof(big);
	files[1].data = big;
	files[1].len = sizeof(big);
	CU_ASSERT_EQUAL(dfs_put(a, files, 2, "w", NULL), -DFS_ERR_INVAL);
	for (i = 0; i < DFS_PUT_MAXFILES + 1; i++) {
		files[i].path = "/p/a1";
		files[i].data = "x";
		files[i].len = 1;
	}
	CU_ASSERT_EQUAL(dfs_put(a, files, DFS_PUT_MAXFILES + 1, "w", NULL),
	    -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_getattr(b, "/p/a1", &st), -DFS_ERR_NOENT);
}

/* --- the wire --- */

/* CREATE /p/name (or open it) and GETFH, over RPC: its handle (copy)
 * and version. */
static void
create(const char *name, dfs_fh *fh, uint64_t *vers)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, "p");
	name_req_create(&r, name, 0);
	name_req_add(&r, OP_GETFH);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(res.status, DFS_OK);
	*vers = res.res.res_val[2].name_resop_u.create.create_res_u.ok.attr.
	    vers;
	fh_copy(fh, &res.res.res_val[3].name_resop_u.getfh.getfh_res_u.fh);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
}

/* Sends PUT of n entries on `c`; copies each file's status to st[].
 * Returns the op's status. */
static dfs_stat
put_on(CLIENT *c, put_entry *pe, u_int n, dfs_stat *st)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	const put_res		*pr;
	put_args		*pa;
	dfs_stat		 s;
	u_int			 i;

	pa = &file_req_add(&r, FOP_PUT)->file_argop_u.put;
	pa->files.files_len = n;
	pa->files.files_val = pe;
	CU_ASSERT_EQUAL_FATAL(file_call(c, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(res.res.res_len, 1);
	pr = &res.res.res_val[0].file_resop_u.put;
	s = pr->status;
	if (s == DFS_OK) {
		CU_ASSERT_EQUAL_FATAL(pr->put_res_u.files.files_len, n);
		for (i = 0; i < n; i++)
			st[i] = pr->put_res_u.files.files_val[i].status;
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return s;
}

/* put_on() the suite's file server connection. */
static dfs_stat
put_wire(put_entry *pe, u_int n, dfs_stat *st)
{
	return put_on(fc, pe, n, st);
}

static void
entry(put_entry *pe, const dfs_fh *fh, uint64_t base, const char *data)
{
	memset(pe, 0, sizeof(*pe));
	pe->fh = *fh;
	pe->base = base;
	pe->data.data_val = (char *)data;
	pe->data.data_len = (u_int)strlen(data);
}

/* Files of one PUT refused one at a time, by the name server (a lock
 * held by another client: LOCKED) and by the file server (a stale base:
 * CHANGED, found when V+1 is already there): each keeps its contents,
 * and the files before, between and after them commit. */
static void
test_put__wire_refusals_mid_batch(void)
{
	static const char *const names[] = { "w1", "w2", "w3", "w4", "w5" };
	static const char *const data[] = { "first", "locked", "third",
	    "stale", "fifth" };
	static const dfs_stat want[] = { DFS_OK, DFS_ERR_LOCKED, DFS_OK,
	    DFS_ERR_CHANGED, DFS_OK };
	const char	*locked[] = { "/p/w2" };
	struct dfs_lock	*lk;
	CLIENT		*other;
	dfs_fh		 fh[5];
	uint64_t	 v[5];
	put_entry	 pe[5];
	dfs_stat	 st[5];
	int		 i;

	for (i = 0; i < 5; i++)
		create(names[i], &fh[i], &v[i]);
	CU_ASSERT_EQUAL_FATAL(harness_put(a, "/p/w2", NULL, "before"), 0);
	CU_ASSERT_EQUAL_FATAL(harness_put(a, "/p/w4", NULL, "current"), 0);
	v[1]++;					/* w2 is current, but locked */
	CU_ASSERT_EQUAL_FATAL(dfs_lock(b, locked, 1, 1, 0, &lk), 0);
	for (i = 0; i < 5; i++)
		entry(&pe[i], &fh[i], v[i], data[i]);
	CU_ASSERT_EQUAL(put_wire(pe, 5, st), DFS_OK);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(st[i], want[i]);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT(holds("/p/w1", "first"));
	CU_ASSERT(holds("/p/w2", "before"));
	CU_ASSERT(holds("/p/w3", "third"));
	CU_ASSERT(holds("/p/w4", "current"));
	CU_ASSERT(holds("/p/w5", "fifth"));
	/* the refused files left nothing behind, not even their commit
	 * locks: another connection (so another connection process)
	 * commits their next versions, while the first one lives on */
	other = harness_clnt(&cl.filed[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	entry(&pe[0], &fh[1], v[1], "after");
	entry(&pe[1], &fh[3], v[3] + 1, "fresh");
	CU_ASSERT_EQUAL(put_on(other, pe, 2, st), DFS_OK);
	CU_ASSERT_EQUAL(st[0], DFS_OK);
	CU_ASSERT_EQUAL(st[1], DFS_OK);
	CU_ASSERT(holds("/p/w2", "after"));
	CU_ASSERT(holds("/p/w4", "fresh"));
	clnt_destroy(other);
	for (i = 0; i < 5; i++)
		free(fh[i].dfs_fh_val);
}

/* A forged handle fails alone; a handle twice and an empty PUT are
 * refused whole; more entries than DFS_MAXPUT do not decode, and the
 * server keeps serving. */
static void
test_put__wire_hostile(void)
{
	unsigned char	 junk[FH_LEN];
	dfs_fh		 fh, bad = { FH_LEN, (char *)junk };
	uint64_t	 v;
	put_entry	*pe;
	dfs_stat	 st[DFS_MAXPUT + 1];
	struct file_req	 r = { .n = 0 };
	file_compound_res res;
	put_args	*pa;
	u_int		 i;

	memset(junk, 0xab, sizeof(junk));
	create("h1", &fh, &v);
	pe = calloc(DFS_MAXPUT + 1, sizeof(*pe));
	CU_ASSERT_FATAL(pe != NULL);
	entry(&pe[0], &bad, 0, "forged");
	entry(&pe[1], &fh, v, "good");
	CU_ASSERT_EQUAL(put_wire(pe, 2, st), DFS_OK);
	CU_ASSERT_NOT_EQUAL(st[0], DFS_OK);
	CU_ASSERT_EQUAL(st[1], DFS_OK);
	CU_ASSERT(holds("/p/h1", "good"));
	entry(&pe[0], &fh, v + 1, "a");
	entry(&pe[1], &fh, v + 1, "b");
	CU_ASSERT_EQUAL(put_wire(pe, 2, st), DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(put_wire(pe, 0, st), DFS_ERR_INVAL);
	CU_ASSERT(holds("/p/h1", "good"));
	for (i = 0; i < DFS_MAXPUT + 1; i++)
		entry(&pe[i], &fh, v + 1, "x");
	pa = &file_req_add(&r, FOP_PUT)->file_argop_u.put;
	pa->files.files_len = DFS_MAXPUT + 1;
	pa->files.files_val = pe;
	CU_ASSERT_NOT_EQUAL(file_call(fc, &r, &res), RPC_SUCCESS);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	clnt_destroy(fc);
	fc = harness_clnt(&cl.filed[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
	entry(&pe[0], &fh, v + 1, "still serving");
	CU_ASSERT_EQUAL(put_wire(pe, 1, st), DFS_OK);
	CU_ASSERT_EQUAL(st[0], DFS_OK);
	CU_ASSERT(holds("/p/h1", "still serving"));
	free(pe);
	free(fh.dfs_fh_val);
}

/* --- kill -9 --- */

/* What dfs_put() acknowledged survives kill -9 of the file server and
 * of the name server, right after. */
static void
test_put__survives_kill9(void)
{
	char		 paths[16][32], texts[16][32];
	const char	*pp[16], *tp[16];
	struct dfs_put	 files[16];
	size_t		 i;

	for (i = 0; i < 16; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/p/k%zu", i);
		snprintf(texts[i], sizeof(texts[i]), "kept %zu", i);
		pp[i] = paths[i];
		tp[i] = texts[i];
	}
	fill(files, pp, tp, 16);
	CU_ASSERT_EQUAL_FATAL(dfs_put(a, files, 16, "w", NULL), 0);
	CU_ASSERT_EQUAL(harness_kill9(&cl.filed[0]), 0);
	CU_ASSERT_EQUAL(harness_kill9(&cl.named), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.named), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.filed[0]), 0);
	CU_ASSERT_EQUAL(cluster_wait_servers(&cl, 2), 0);
	disconnect_clients();
	CU_ASSERT_EQUAL_FATAL(connect_clients(&cl), 0);
	for (i = 0; i < 16; i++)
		CU_ASSERT(holds(pp[i], tp[i]));
}

/* --- two file servers --- */

static struct cluster	 two;

static int
two_init(void)
{
	static const char *const prefixes[] = { "/a", NULL };

	if (cluster_start_with(&two, 2, prefixes) == -1 ||
	    connect_clients(&two) != 0)
		return -1;
	return dfs_mkdir(a, "/a", 0755) == 0 && dfs_mkdir(a, "/b", 0755) == 0 ?
	    0 : -1;
}

static int
two_clean(void)
{
	disconnect_clients();
	return cluster_stop(&two) == 0 ? 0 : -1;
}

/* One batch over two file servers: a PUT to each. */
static void
test_two__one_put_each(void)
{
	static const char *const pp[] = { "/a/1", "/b/1", "/a/2", "/b/2" };
	static const char *const tp[] = { "a1", "b1", "a2", "b2" };
	struct dfs_put	files[4];
	uint64_t	calls[2];
	size_t		i;

	fill(files, pp, tp, 4);
	CU_ASSERT_EQUAL(dfs_put(a, files, 4, "w", NULL), 0);
	for (i = 0; i < 4; i++)
		CU_ASSERT(holds(pp[i], tp[i]));
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(harness_filed_counter(&two.filed[i], "PUT",
		    &calls[i], NULL), 0);
		CU_ASSERT_EQUAL(calls[i], 1);
	}
}

static CU_TestInfo put_tests[] = {
	{ "create_and_replace", test_put__create_and_replace },
	{ "failures_are_per_file", test_put__failures_are_per_file },
	{ "locks", test_put__locks },
	{ "arguments", test_put__arguments },
	{ "wire_refusals_mid_batch", test_put__wire_refusals_mid_batch },
	{ "wire_hostile", test_put__wire_hostile },
	{ "survives_kill9", test_put__survives_kill9 },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo two_tests[] = {
	{ "one_put_each", test_two__one_put_each },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "put", suite_init, suite_clean, NULL, NULL, put_tests },
	{ "two_servers", two_init, two_clean, NULL, NULL, two_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
