/*
 * t_filed_ops.c -- unit tests of dfs-filed's COMPOUND and op handlers.
 *
 * Handlers are driven through filed_compound() with built arguments, in
 * a fresh mkdtemp(3) state directory per test.  The name server is
 * 127.0.0.1:1, where nothing listens: the ops that need it (COMMIT,
 * REMOVE) are tested up to the point where they would ask, and for
 * their DELAY answer when it cannot be reached.  Commits against a real
 * name server are the integration tests' job.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "../../server/file/filed.h"
#include "log.h"

#define NOWHERE	"127.0.0.1:1"
#define MAXOPS	(DFS_MAXOPS + 1)

struct tctx {
	char			 dir[64];
	struct filed_ctx	 fc;
	unsigned char		 raw[FH_LEN];
	dfs_fh			 fh;
	char			 hex[FH_HEXLEN + 1];
	file_argop		 ops[MAXOPS];
	u_int			 nops;
	file_compound_res	 res;
};

static void
tctx_init(struct tctx *t)
{
	struct fh	f = { 0x77, 42 };

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/t_filed_ops.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(t->dir) != NULL);
	CU_ASSERT_FATAL(filed_ctx_init(&t->fc, t->dir, NOWHERE) == 0);
	CU_ASSERT_FATAL(store_init(&t->fc) == 0);
	fh_encode(&f, 5, t->raw);
	t->fh.dfs_fh_len = FH_LEN;
	t->fh.dfs_fh_val = (char *)t->raw;
	CU_ASSERT_FATAL(store_fh(&t->fh, t->hex) == 0);
}


static void
tctx_release(struct tctx *t)
{
	xdr_free((xdrproc_t)xdr_file_compound_res, &t->res);
	filed_ctx_release(&t->fc);
	cutest_rmtree(t->dir);
}

/* Appends an op and returns it, zeroed but for its code. */
static file_argop *
add(struct tctx *t, file_opnum op)
{
	file_argop	*a;

	CU_ASSERT_FATAL(t->nops < MAXOPS);
	a = &t->ops[t->nops++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

static void
add_read(struct tctx *t, uint64_t vers, uint64_t off, u_int count)
{
	read_args	*ra = &add(t, FOP_READ)->file_argop_u.read;

	ra->fh = t->fh;
	ra->vers = vers;
	ra->offset = off;
	ra->count = count;
}

static void
add_stage(struct tctx *t, uint64_t vers, uint64_t keep)
{
	stage_args	*sa = &add(t, FOP_STAGE)->file_argop_u.stage;

	sa->fh = t->fh;
	sa->vers = vers;
	sa->keep = keep;
}

static void
add_write(struct tctx *t, uint64_t stage, uint64_t off, const char *data)
{
	write_args	*wa = &add(t, FOP_WRITE)->file_argop_u.write;

	wa->fh = t->fh;
	wa->stage = stage;
	wa->offset = off;
	wa->data.data_len = (u_int)strlen(data);
	wa->data.data_val = (char *)data;
}

static void
add_abort(struct tctx *t, uint64_t stage)
{
	stageref	*sr = &add(t, FOP_ABORT)->file_argop_u.abort;

	sr->fh = t->fh;
	sr->stage = stage;
}

static void
add_commit(struct tctx *t, uint64_t stage)
{
	commit_file_args	*ca = &add(t, FOP_COMMIT)->file_argop_u.commit;

	ca->fh = t->fh;
	ca->stage = stage;
}

/* Runs the ops added so far and clears the list.  Returns the status. */
static dfs_stat
run(struct tctx *t)
{
	file_compound_args	args;

	xdr_free((xdrproc_t)xdr_file_compound_res, &t->res);
	args.ops.ops_len = t->nops;
	args.ops.ops_val = t->ops;
	filed_compound(&t->fc, &args, &t->res);
	t->nops = 0;
	return t->res.status;
}

/* Result `i` of the last run. */
static file_resop *
result(struct tctx *t, u_int i)
{
	CU_ASSERT_FATAL(i < t->res.res.res_len);
	return &t->res.res.res_val[i];
}

static void
put_version(struct tctx *t, uint64_t vers, const char *data)
{
	char	path[STORE_PATHLEN];
	FILE	*fp;

	CU_ASSERT_FATAL(store_mkdata(&t->fc, t->hex) == 0);
	store_data_path(&t->fc, t->hex, vers, path, sizeof(path));
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs(data, fp);
	fclose(fp);
}

/* Returns the stage's content (static buffer), or NULL if it is gone. */
static const char *
stage_content(struct tctx *t, uint64_t id)
{
	static char	buf[256];
	char		path[STORE_PATHLEN];
	FILE		*fp;
	size_t		n;

	store_stage_path(&t->fc, t->hex, id, path, sizeof(path));
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_filed_ops__bad_handle(void)
{
	static const file_opnum ops[] = { FOP_READ, FOP_STAGE, FOP_WRITE,
	    FOP_COMMIT, FOP_GETATTR, FOP_REMOVE, FOP_ABORT };
	static const struct {
		const char	*bytes;
		u_int		 len;
	} fhs[] = {
		{ "", 0 },
		{ "dfs1", 4 },
		{ "nope0123456789012345678901234", 28 },
	};
	struct tctx	t;
	file_argop	*a;
	dfs_fh		 bad;
	size_t		 i, j;

	tctx_init(&t);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		for (j = 0; j < sizeof(fhs) / sizeof(fhs[0]); j++) {
			bad.dfs_fh_len = fhs[j].len;
			bad.dfs_fh_val = (char *)fhs[j].bytes;
			a = add(&t, ops[i]);
			/* every arm's handle comes first */
			memcpy(&a->file_argop_u, &bad, sizeof(bad));
			a->file_argop_u.read.vers = 1;
			a->file_argop_u.stage.keep = 0;
			CU_ASSERT(run(&t) == DFS_ERR_BADHANDLE);
			CU_ASSERT(t.res.res.res_len == 1);
			CU_ASSERT(result(&t, 0)->op == ops[i]);
		}
	tctx_release(&t);
}

static void
test_filed_ops__read_errors(void)
{
	static const struct {
		uint64_t	vers;
		u_int		count;
		dfs_stat	st;
	} cases[] = {
		{ 1, 10, DFS_ERR_STALE },		/* not held */
		{ 0, 10, DFS_ERR_INVAL },		/* version 0 */
		{ 1, DFS_MAXDATA + 1, DFS_ERR_INVAL },	/* too big */
		{ 2, 10, DFS_OK },
		{ 3, 10, DFS_ERR_STALE },
	};
	struct tctx	t;
	size_t		i;

	tctx_init(&t);
	put_version(&t, 2, "two");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		add_read(&t, cases[i].vers, 0, cases[i].count);
		CU_ASSERT(run(&t) == cases[i].st);
	}
	tctx_release(&t);
}

static void
test_filed_ops__read_data(void)
{
	static const struct {
		uint64_t	 off;
		u_int		 count;
		const char	*want;
		bool_t		 eof;
	} cases[] = {
		{ 0, 5, "hello", FALSE },
		{ 6, 100, "world", TRUE },
		{ 6, 5, "world", TRUE },
		{ 0, 11, "hello world", TRUE },
		{ 11, 10, "", TRUE },
		{ 1000, 10, "", TRUE },
		{ UINT64_MAX, 10, "", TRUE },
		{ 3, 0, "", FALSE },
	};
	struct tctx	 t;
	read_ok		*ok;
	size_t		 i;

	tctx_init(&t);
	put_version(&t, 1, "hello world");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		add_read(&t, 1, cases[i].off, cases[i].count);
		CU_ASSERT_FATAL(run(&t) == DFS_OK);
		ok = &result(&t, 0)->file_resop_u.read.read_res_u.ok;
		CU_ASSERT(ok->data.data_len == strlen(cases[i].want));
		CU_ASSERT(ok->data.data_len == 0 ||
		    memcmp(ok->data.data_val, cases[i].want,
		    ok->data.data_len) == 0);
		CU_ASSERT(ok->eof == cases[i].eof);
	}
	tctx_release(&t);
}

static void
test_filed_ops__read_budget(void)
{
	struct tctx	t;

	tctx_init(&t);
	put_version(&t, 1, "x");
	add_read(&t, 1, 0, DFS_MAXDATA / 2);
	add_read(&t, 1, 0, DFS_MAXDATA / 2);
	add_read(&t, 1, 0, 1);
	CU_ASSERT(run(&t) == DFS_ERR_RESOURCE);
	CU_ASSERT(t.res.res.res_len == 3);
	tctx_release(&t);
}

static void
test_filed_ops__stage_write_abort(void)
{
	struct tctx	 t;
	uint64_t	 id;

	tctx_init(&t);
	add_stage(&t, 0, 0);
	add_write(&t, 0, 0, "hello");
	add_write(&t, 0, 5, " world");
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	CU_ASSERT(t.res.res.res_len == 3);
	id = result(&t, 0)->file_resop_u.stage.stage_res_u.stage;
	CU_ASSERT(id != 0);
	CU_ASSERT(result(&t, 1)->file_resop_u.write.write_res_u.count == 5);
	CU_ASSERT(result(&t, 2)->file_resop_u.write.write_res_u.count == 6);
	CU_ASSERT_STRING_EQUAL(stage_content(&t, id), "hello world");
	/* a later COMPOUND names the stage by id */
	add_write(&t, id, 0, "J");
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT_STRING_EQUAL(stage_content(&t, id), "Jello world");
	add_abort(&t, id);
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(stage_content(&t, id) == NULL);
	add_abort(&t, id);
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	add_write(&t, id, 0, "x");
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	/* the committed state is untouched: nothing held */
	add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(result(&t, 0)->file_resop_u.getattr.fattr_res_u.attr.vers
	    == 0);
	tctx_release(&t);
}

static void
test_filed_ops__stage_abort_current(void)
{
	struct tctx	t;
	uint64_t	id;

	tctx_init(&t);
	add_stage(&t, 0, 0);
	add_abort(&t, 0);
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	id = result(&t, 0)->file_resop_u.stage.stage_res_u.stage;
	CU_ASSERT(stage_content(&t, id) == NULL);
	/* after ABORT, stage 0 means nothing again */
	add_stage(&t, 0, 0);
	add_abort(&t, 0);
	add_write(&t, 0, 0, "x");
	CU_ASSERT(run(&t) == DFS_ERR_INVAL);
	CU_ASSERT(t.res.res.res_len == 3);
	tctx_release(&t);
}

static void
test_filed_ops__stage_keep(void)
{
	static const struct {
		uint64_t	 vers;
		uint64_t	 keep;
		dfs_stat	 st;
		const char	*want;
	} cases[] = {
		{ 1, 5, DFS_OK, "hello" },
		{ 1, 11, DFS_OK, "hello world" },
		{ 1, 12, DFS_ERR_INVAL, NULL },		/* beyond its size */
		{ 0, 1, DFS_ERR_INVAL, NULL },		/* version 0 is empty */
		{ 2, 1, DFS_ERR_STALE, NULL },		/* not held */
		{ 2, 0, DFS_OK, "" },			/* empty: vers unused */
	};
	struct tctx	t;
	uint64_t	id;
	size_t		i;

	tctx_init(&t);
	put_version(&t, 1, "hello world");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		add_stage(&t, cases[i].vers, cases[i].keep);
		CU_ASSERT(run(&t) == cases[i].st);
		if (cases[i].st != DFS_OK)
			continue;
		id = result(&t, 0)->file_resop_u.stage.stage_res_u.stage;
		CU_ASSERT_STRING_EQUAL(stage_content(&t, id), cases[i].want);
	}
	tctx_release(&t);
}

static void
test_filed_ops__write_errors(void)
{
	static const struct {
		int		 stage;		/* 0: none, 1: made */
		uint64_t	 off;
		const char	*data;
		dfs_stat	 st;
	} cases[] = {
		{ 0, 0, "x", DFS_ERR_INVAL },		/* no current stage */
		{ 1, 1ULL << 62, "x", DFS_ERR_FBIG },
		{ 1, (1ULL << 62) - 1, "xy", DFS_ERR_FBIG },
		{ 1, UINT64_MAX, "x", DFS_ERR_FBIG },
		{ 1, UINT64_MAX - 1, "xyz", DFS_ERR_FBIG },
		{ 1, 1ULL << 40, "x", DFS_OK },		/* sparse is fine */
	};
	struct tctx	t;
	size_t		i;

	tctx_init(&t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].stage)
			add_stage(&t, 0, 0);
		add_write(&t, 0, cases[i].off, cases[i].data);
		CU_ASSERT(run(&t) == cases[i].st);
	}
	/* a stage id never made */
	add_write(&t, 12345, 0, "x");
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	tctx_release(&t);
}

/* The size of stage `id`, or -1. */
static off_t
stage_size(struct tctx *t, uint64_t id)
{
	char		path[STORE_PATHLEN];
	struct stat	st;

	store_stage_path(&t->fc, t->hex, id, path, sizeof(path));
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static file_argop *
add_setsize(struct tctx *t, uint64_t stage, uint64_t size)
{
	file_argop	*a = add(t, FOP_SETSIZE);

	a->file_argop_u.setsize.fh = t->fh;
	a->file_argop_u.setsize.stage = stage;
	a->file_argop_u.setsize.size = size;
	return a;
}

static void
test_filed_ops__setsize(void)
{
	struct tctx	t;
	uint64_t	id;

	tctx_init(&t);
	add_stage(&t, 0, 0);
	add_write(&t, 0, 0, "hello world");
	add_setsize(&t, 0, 5);
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	id = result(&t, 0)->file_resop_u.stage.stage_res_u.stage;
	CU_ASSERT_STRING_EQUAL(stage_content(&t, id), "hello");
	CU_ASSERT(stage_size(&t, id) == 5);
	/* extends with zeros; a later write lands past them */
	add_setsize(&t, id, 8);
	add_write(&t, id, 8, "!");
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(stage_size(&t, id) == 9);
	CU_ASSERT_STRING_EQUAL(stage_content(&t, id), "hello");
	add_setsize(&t, id, (1ULL << 62) + 1);
	CU_ASSERT(run(&t) == DFS_ERR_FBIG);
	add_setsize(&t, 12345, 1);
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	add_setsize(&t, 0, 1);			/* no current stage */
	CU_ASSERT(run(&t) == DFS_ERR_INVAL);
	add_setsize(&t, id, 1)->file_argop_u.setsize.fh.dfs_fh_len = 3;
	CU_ASSERT(run(&t) == DFS_ERR_BADHANDLE);
	tctx_release(&t);
}

static void
test_filed_ops__getattr(void)
{
	struct tctx	 t;
	fattr		*fa;

	tctx_init(&t);
	add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	fa = &result(&t, 0)->file_resop_u.getattr.fattr_res_u.attr;
	CU_ASSERT(fa->vers == 0 && fa->size == 0);
	put_version(&t, 3, "abc");
	put_version(&t, 4, "abcdefg");
	add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	fa = &result(&t, 0)->file_resop_u.getattr.fattr_res_u.attr;
	CU_ASSERT(fa->vers == 4 && fa->size == 7);
	tctx_release(&t);
}

static void
test_filed_ops__commit_local_errors(void)
{
	char		path[STORE_PATHLEN];
	struct tctx	t;
	FILE		*fp;
	uint64_t	id;

	tctx_init(&t);
	add_commit(&t, 0);			/* no STAGE before */
	CU_ASSERT(run(&t) == DFS_ERR_INVAL);
	add_commit(&t, 999);			/* never made */
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	add_stage(&t, 0, 0);
	add_write(&t, 0, 0, "data");
	add_commit(&t, 0);			/* no server id yet */
	CU_ASSERT(run(&t) == DFS_ERR_DELAY);
	CU_ASSERT_FATAL(t.res.res.res_len == 3);
	id = result(&t, 0)->file_resop_u.stage.stage_res_u.stage;
	snprintf(path, sizeof(path), "%s/server.id", t.dir);
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs("7\n", fp);
	fclose(fp);
	add_commit(&t, id);			/* name server unreachable */
	CU_ASSERT(run(&t) == DFS_ERR_DELAY);
	/* nothing committed, the stage kept for a retry */
	CU_ASSERT_STRING_EQUAL(stage_content(&t, id), "data");
	add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(result(&t, 0)->file_resop_u.getattr.fattr_res_u.attr.vers
	    == 0);
	tctx_release(&t);
}

/* Appends a PUT of `n` files, all t's handle, each holding `data`. */
static put_entry *
add_put(struct tctx *t, u_int n, const char *data)
{
	put_args	*pa = &add(t, FOP_PUT)->file_argop_u.put;
	put_entry	*pe;
	u_int		 i;

	pe = calloc(n + 1, sizeof(*pe));
	CU_ASSERT_FATAL(pe != NULL);
	for (i = 0; i < n; i++) {
		pe[i].fh = t->fh;
		pe[i].base = 0;
		pe[i].data.data_val = (char *)data;
		pe[i].data.data_len = (u_int)strlen(data);
	}
	pa->files.files_len = n;
	pa->files.files_val = pe;
	return pe;
}

/* Counts the entries of t's stage and data buckets (no temporary or
 * version file may be left by a PUT that failed as a whole). */
static int
store_files(struct tctx *t)
{
	char		 dir[STORE_PATHLEN];
	struct dirent	*de;
	DIR		*dp;
	int		 n = 0, i;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			store_stage_dir(&t->fc, t->hex, dir, sizeof(dir));
		else
			store_data_dir(&t->fc, t->hex, dir, sizeof(dir));
		if ((dp = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(dp)) != NULL)
			n += de->d_name[0] != '.';
		closedir(dp);
	}
	return n;
}

/*
 * PUT fails as a whole, touching nothing, for what no file could pass:
 * no files, a handle twice, no server id yet, no name server.  A bad
 * handle is that file's own failure, so it is only reported once the
 * name server answers (tests/it covers it).
 */
static void
test_filed_ops__put_local_errors(void)
{
	char		 path[STORE_PATHLEN];
	struct tctx	 t;
	put_entry	*pe;
	FILE		*fp;

	tctx_init(&t);
	pe = add_put(&t, 0, "x");
	CU_ASSERT(run(&t) == DFS_ERR_INVAL);
	free(pe);
	pe = add_put(&t, 2, "twice");
	CU_ASSERT(run(&t) == DFS_ERR_INVAL);
	free(pe);
	pe = add_put(&t, 1, "data");
	CU_ASSERT(run(&t) == DFS_ERR_DELAY);	/* no server id yet */
	CU_ASSERT_FATAL(t.res.res.res_len == 1);
	CU_ASSERT(result(&t, 0)->op == FOP_PUT);
	CU_ASSERT(result(&t, 0)->file_resop_u.put.status == DFS_ERR_DELAY);
	snprintf(path, sizeof(path), "%s/server.id", t.dir);
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs("7\n", fp);
	fclose(fp);
	free(pe);
	pe = add_put(&t, 1, "data");
	CU_ASSERT(run(&t) == DFS_ERR_DELAY);	/* name server unreachable */
	free(pe);
	CU_ASSERT(store_files(&t) == 0);
	tctx_release(&t);
}

static void
test_filed_ops__remove_unreachable(void)
{
	struct tctx	t;

	tctx_init(&t);
	put_version(&t, 1, "keep me");
	add(&t, FOP_REMOVE)->file_argop_u.remove = t.fh;
	CU_ASSERT(run(&t) == DFS_ERR_DELAY);
	add_read(&t, 1, 0, 100);
	CU_ASSERT(run(&t) == DFS_OK);
	tctx_release(&t);
}

static void
test_filed_ops__illegal(void)
{
	static const int codes[] = { FOP_ILLEGAL, 77, 1000, -1 };
	struct tctx	t;
	size_t		i;

	tctx_init(&t);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		add(&t, (file_opnum)codes[i]);
		CU_ASSERT(run(&t) == DFS_ERR_OP_ILLEGAL);
		CU_ASSERT(result(&t, 0)->op == FOP_ILLEGAL);
		CU_ASSERT(result(&t, 0)->file_resop_u.illegal ==
		    DFS_ERR_OP_ILLEGAL);
	}
	tctx_release(&t);
}

/* In a forked process, as a connection process of dfs-filed would: one
 * READ of `count` bytes of version 1.  Returns the child's exit status
 * (0: the READ succeeded). */
static int
read_in_child(struct tctx *t, u_int count)
{
	file_compound_args	args;
	file_compound_res	res;
	pid_t			pid;
	int			st;

	pid = fork();
	if (pid == 0) {
		add_read(t, 1, 0, count);
		args.ops.ops_len = 1;
		args.ops.ops_val = t->ops;
		filed_compound(&t->fc, &args, &res);
		st = res.status == DFS_OK ? 0 : 1;
		/* not tctx_release(): the directory is the parent's */
		xdr_free((xdrproc_t)xdr_file_compound_res, &res);
		xdr_free((xdrproc_t)xdr_file_compound_res, &t->res);
		filed_ctx_release(&t->fc);
		_exit(st);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* STATS: every op but ILLEGAL in table order; calls of failed ops count,
 * bytes only of data a READ returned or a WRITE wrote; counts made in
 * another process (the shared mapping) included. */
static void
test_filed_ops__stats(void)
{
	static const struct {
		const char	*name;
		uint64_t	 calls, bytes;
	} want[] = {
		{ "READ", 4, 5 + 5 + 11 }, { "STAGE", 1, 0 },
		{ "WRITE", 2, 7 }, { "COMMIT", 0, 0 }, { "GETATTR", 0, 0 },
		{ "REMOVE", 0, 0 }, { "ABORT", 0, 0 }, { "STATS", 1, 0 },
		{ "SETSIZE", 0, 0 },
		{ "PUT",     0, 0 },
	};
	struct tctx	 t;
	stats_res	*st;
	size_t		 i;

	tctx_init(&t);
	put_version(&t, 1, "hello world");
	add_read(&t, 1, 0, 5);
	add_read(&t, 1, 6, 100);
	add_read(&t, 9, 0, 100);		/* STALE: a call, no bytes */
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	add_stage(&t, 1, 0);
	add_write(&t, 0, 0, "abcdefg");
	CU_ASSERT(run(&t) == DFS_OK);
	add_write(&t, 12345, 0, "lost");	/* STALE: no bytes */
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	CU_ASSERT(read_in_child(&t, 11) == 0);
	add(&t, FOP_STATS);
	CU_ASSERT_FATAL(run(&t) == DFS_OK);
	CU_ASSERT(result(&t, 0)->op == FOP_STATS);
	st = &result(&t, 0)->file_resop_u.stats;
	CU_ASSERT_FATAL(st->stats_res_u.counters.counters_len ==
	    sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_STRING_EQUAL(
		    st->stats_res_u.counters.counters_val[i].name,
		    want[i].name);
		CU_ASSERT(st->stats_res_u.counters.counters_val[i].calls ==
		    want[i].calls);
		CU_ASSERT(st->stats_res_u.counters.counters_val[i].bytes ==
		    want[i].bytes);
	}
	tctx_release(&t);
}

static void
test_filed_ops__compound_limits(void)
{
	struct tctx	t;
	u_int		i;

	tctx_init(&t);
	CU_ASSERT(run(&t) == DFS_OK);		/* empty */
	CU_ASSERT(t.res.res.res_len == 0);
	for (i = 0; i < DFS_MAXOPS + 1; i++)
		add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT(run(&t) == DFS_ERR_RESOURCE);
	CU_ASSERT(t.res.res.res_len == 0);
	for (i = 0; i < DFS_MAXOPS; i++)
		add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(t.res.res.res_len == DFS_MAXOPS);
	/* evaluation stops at the first failure */
	add_read(&t, 9, 0, 1);
	add(&t, FOP_GETATTR)->file_argop_u.getattr = t.fh;
	CU_ASSERT(run(&t) == DFS_ERR_STALE);
	CU_ASSERT(t.res.res.res_len == 1);
	tctx_release(&t);
}

/* In a child whose files may not pass 4 KiB (a full disk's stand-in):
 * a WRITE that the file system cuts short fails, and its stage, with
 * the data it got, is gone.  Returns 0 when all held. */
static int
write_fails_in_child(struct tctx *t)
{
	static char	big[8193];
	struct rlimit	rl = { 4096, 4096 };
	uint64_t	id;

	memset(big, 'a', sizeof(big) - 1);
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 1;
	add_stage(t, 0, 0);
	add_write(t, 0, 0, "hello");
	if (run(t) != DFS_OK)
		return 2;
	id = result(t, 0)->file_resop_u.stage.stage_res_u.stage;
	add_write(t, id, 0, big);
	if (run(t) != DFS_ERR_FBIG || stage_content(t, id) != NULL)
		return 3;
	/* and in the COMPOUND that made it: no empty stage left */
	add_stage(t, 0, 0);
	add_write(t, 0, 0, big);
	if (run(t) != DFS_ERR_FBIG || store_files(t) != 0)
		return 4;
	return 0;
}

static void
test_filed_ops__write_failure_drops_stage(void)
{
	struct tctx	t;
	pid_t		pid;
	int		st;

	tctx_init(&t);
	pid = fork();
	if (pid == 0) {
		st = write_fails_in_child(&t);
		xdr_free((xdrproc_t)xdr_file_compound_res, &t.res);
		filed_ctx_release(&t.fc);
		_exit(st);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tctx_release(&t);
}

/* STAGE on connection `conn`.  Returns the stage id, 0 if refused. */
static uint64_t
stage_on(struct tctx *t, uint64_t conn)
{
	t->fc.conn = conn;
	add_stage(t, 0, 0);
	if (run(t) != DFS_OK)
		return 0;
	return result(t, 0)->file_resop_u.stage.stage_res_u.stage;
}

/* A connection's stages are swept when it is gone, but not those it
 * committed or aborted, nor other connections'; each connection holds
 * at most OWNER_PER_CONN. */
static void
test_filed_ops__owner_sweep(void)
{
	struct tctx	t;
	uint64_t	a, b, c, d;
	int		i;

	tctx_init(&t);
	a = stage_on(&t, 7);
	b = stage_on(&t, 7);
	c = stage_on(&t, 8);
	d = stage_on(&t, 7);
	CU_ASSERT_FATAL(a != 0 && b != 0 && c != 0 && d != 0);
	add_abort(&t, d);
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(owner_sweep(&t.fc, 7) == 2);
	CU_ASSERT(stage_content(&t, a) == NULL);
	CU_ASSERT(stage_content(&t, b) == NULL);
	CU_ASSERT(stage_content(&t, c) != NULL);
	CU_ASSERT(owner_sweep(&t.fc, 7) == 0);
	/* whoever aborts a stage frees its owner's record */
	t.fc.conn = 9;
	add_abort(&t, c);
	CU_ASSERT(run(&t) == DFS_OK);
	CU_ASSERT(owner_sweep(&t.fc, 8) == 0);
	for (i = 0; i < OWNER_PER_CONN; i++)
		CU_ASSERT_FATAL(stage_on(&t, 10) != 0);
	CU_ASSERT(stage_on(&t, 10) == 0);
	CU_ASSERT(t.res.status == DFS_ERR_RESOURCE);
	CU_ASSERT(stage_on(&t, 11) != 0);
	CU_ASSERT(owner_sweep(&t.fc, 10) == OWNER_PER_CONN);
	CU_ASSERT(owner_sweep(&t.fc, 11) == 1);
	CU_ASSERT(store_files(&t) == 0);
	tctx_release(&t);
}

static CU_TestInfo ops_tests[] = {
	{ "bad_handle", test_filed_ops__bad_handle },
	{ "read_errors", test_filed_ops__read_errors },
	{ "read_data", test_filed_ops__read_data },
	{ "read_budget", test_filed_ops__read_budget },
	{ "stage_write_abort", test_filed_ops__stage_write_abort },
	{ "stage_abort_current", test_filed_ops__stage_abort_current },
	{ "stage_keep", test_filed_ops__stage_keep },
	{ "write_errors", test_filed_ops__write_errors },
	{ "setsize", test_filed_ops__setsize },
	{ "getattr", test_filed_ops__getattr },
	{ "commit_local_errors", test_filed_ops__commit_local_errors },
	{ "put_local_errors", test_filed_ops__put_local_errors },
	{ "remove_unreachable", test_filed_ops__remove_unreachable },
	{ "illegal", test_filed_ops__illegal },
	{ "stats", test_filed_ops__stats },
	{ "compound_limits", test_filed_ops__compound_limits },
	{ "write_failure_drops_stage",
	    test_filed_ops__write_failure_drops_stage },
	{ "owner_sweep", test_filed_ops__owner_sweep },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "filed_ops", NULL, NULL, NULL, NULL, ops_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	log_init("t_filed_ops", 1);
	return cutest_run(suites);
}
