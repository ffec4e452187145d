/*
 * t_named_locks.c -- dfs-named's lock enforcement (locks.c): PUTLOCK and
 * the TEST it sends the lock server before CREATE, MKDIR, SETATTR,
 * REMOVE, RENAME and COMMIT.
 *
 * Handlers are driven through name_compound_1_svc() over a state
 * directory of each test's own.  The lock server is either absent (no
 * checks), registered at a port where nothing listens (DELAY), or a fake
 * one: a thread serving DFS_LOCK_PROG on 127.0.0.1 that records every
 * TEST and answers it with the status a test chose, so each mapping and
 * each path sent can be checked without dfs-lockd (tests/it/
 * it_namedlocks.c runs the real one).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "kv.h"
#include "rpcc.h"
#include "../../server/name/named.h"
#include "named_driver.h"

#define FAKE_MAXPATHS	8

/* --- the fake lock server --- */

static struct {
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	int		 fd;		/* listening socket */
	unsigned int	 port;
	SVCXPRT		*xprt;
	volatile int	 stop;
	/* under mu: */
	dfs_stat	 answer;	/* what every TEST answers */
	unsigned int	 ncalls;	/* TESTs */
	unsigned int	 nrpcs;		/* COMPOUNDs */
	char		 paths[FAKE_MAXPATHS][DFS_MAXPATHLEN + 1];
	dfs_lockid	 id;		/* of the last TEST */
	dfs_lockmode	 mode;
} fake = { .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* Records one TEST. */
static void
fake_record(const test_args *ta)
{
	pthread_mutex_lock(&fake.mu);
	if (fake.ncalls < FAKE_MAXPATHS && ta->path.dfs_path_len <=
	    DFS_MAXPATHLEN) {
		memcpy(fake.paths[fake.ncalls], ta->path.dfs_path_val,
		    ta->path.dfs_path_len);
		fake.paths[fake.ncalls][ta->path.dfs_path_len] = '\0';
	}
	fake.ncalls++;
	fake.id = ta->id;
	fake.mode = ta->mode;
	pthread_mutex_unlock(&fake.mu);
}

/* Answers NULL, and a COMPOUND of TESTs (or TESTTREEs) with fake.answer
 * for each, up to the first that is not OK (as the lock server stops
 * there); anything else is INVAL. */
static void
fake_dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
	lock_compound_args	args;
	lock_compound_res	res;
	lock_resop		r[DFS_MAXOPS];
	u_int			i, n;

	if (rq->rq_proc == LOCK_NULL) {
		(void)svc_sendreply(xprt, XDR_VOID, NULL);
		return;
	}
	memset(&args, 0, sizeof(args));
	if (rq->rq_proc != LOCK_COMPOUND || !svc_getargs(xprt,
	    (xdrproc_t)xdr_lock_compound_args, (char *)&args)) {
		svcerr_decode(xprt);
		return;
	}
	memset(r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	pthread_mutex_lock(&fake.mu);
	fake.nrpcs++;
	pthread_mutex_unlock(&fake.mu);
	n = args.ops.ops_len;
	for (i = 0; i < n; i++) {
		/* a TESTTREE is recorded and answered as a TEST: same arms */
		r[i].op = args.ops.ops_val[i].op == LOP_TESTTREE ?
		    LOP_TESTTREE : LOP_TEST;
		if (n > DFS_MAXOPS || (args.ops.ops_val[i].op != LOP_TEST &&
		    args.ops.ops_val[i].op != LOP_TESTTREE)) {
			r[i].lock_resop_u.test.status = DFS_ERR_INVAL;
			i++;
			break;
		}
		fake_record(&args.ops.ops_val[i].lock_argop_u.test);
		pthread_mutex_lock(&fake.mu);
		r[i].lock_resop_u.test.status = fake.answer;
		pthread_mutex_unlock(&fake.mu);
		r[i].lock_resop_u.test.test_res_u.denied.path =
		    args.ops.ops_val[i].lock_argop_u.test.path;
		if (r[i].lock_resop_u.test.status != DFS_OK) {
			i++;
			break;
		}
	}
	res.status = i > 0 ? r[i - 1].lock_resop_u.test.status : DFS_OK;
	res.res.res_len = i;
	res.res.res_val = r;
	(void)svc_sendreply(xprt, (xdrproc_t)xdr_lock_compound_res,
	    (char *)&res);
	(void)svc_freeargs(xprt, (xdrproc_t)xdr_lock_compound_args,
	    (char *)&args);
}

/* The fake's loop: svc_getreq_poll() until told to stop. */
static void *
fake_run(void *arg)
{
	struct pollfd	pfd[64];
	int		i, n, nready;

	(void)arg;
	while (!fake.stop) {
		n = svc_max_pollfd < 64 ? svc_max_pollfd : 64;
		for (i = 0; i < n; i++)
			pfd[i] = svc_pollfd[i];
		nready = poll(pfd, (nfds_t)n, 20);
		if (nready > 0)
			svc_getreq_poll(pfd, nready);
	}
	return NULL;
}

/* Returns a port on 127.0.0.1 where nothing listens (bound, closed). */
static unsigned int
closed_port(void)
{
	unsigned int	port = 0;
	int		fd = cutest_bind_loopback(&port);

	if (fd != -1)
		close(fd);
	return port;
}

static int
fake_start(void)
{
	fake.fd = cutest_bind_loopback(&fake.port);
	if (fake.fd == -1 || listen(fake.fd, 16) == -1)
		return -1;
	/* no netconfig: svc_reg() leaves rpcbind alone */
	fake.xprt = svc_tli_create(fake.fd, NULL, NULL, 0, 0);
	if (fake.xprt == NULL || !svc_reg(fake.xprt, DFS_LOCK_PROG,
	    DFS_LOCK_VERS, fake_dispatch, NULL))
		return -1;
	return pthread_create(&fake.thr, NULL, fake_run, NULL) == 0 ? 0 : -1;
}

static int
fake_stop(void)
{
	fake.stop = 1;
	pthread_join(fake.thr, NULL);
	if (fake.xprt != NULL)
		svc_destroy(fake.xprt);	/* closes fake.fd */
	return 0;
}

/* Forgets what the fake saw; it will answer `answer`. */
static void
fake_reset(dfs_stat answer)
{
	pthread_mutex_lock(&fake.mu);
	fake.answer = answer;
	fake.ncalls = 0;
	fake.nrpcs = 0;
	memset(fake.paths, 0, sizeof(fake.paths));
	memset(&fake.id, 0, sizeof(fake.id));
	fake.mode = 0;
	pthread_mutex_unlock(&fake.mu);
}

static unsigned int
fake_calls(void)
{
	unsigned int	n;

	pthread_mutex_lock(&fake.mu);
	n = fake.ncalls;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

/* --- fixture: a state directory, one live file server, and the tree
 * /d/f (file), /d/s (empty dir), /e/t (file) --- */

static struct {
	char			dir[64];
	struct kv		*kv;
	struct named_ctx	nc;
	uint64_t		srvid;		/* the file server's */
} fx;

static const dfs_lockid		mylock = { 0x1111, 0x2222 };

/* PUTROOTFH, then LOOKUP unless path is "/" (a leading '/' is dropped). */
static void
walk(const char *path)
{
	name_argop	*a;

	add(OP_PUTROOTFH);
	if (strcmp(path, "/") == 0)
		return;
	a = add(OP_LOOKUP);
	a->name_argop_u.lookup.dfs_path_val = (char *)path + 1;
	a->name_argop_u.lookup.dfs_path_len = (u_int)strlen(path + 1);
}

static void
putlock(const dfs_lockid *id)
{
	add(OP_PUTLOCK)->name_argop_u.putlock = *id;
}

static void
create(const char *n, int excl)
{
	name_argop	*a = add(OP_CREATE);

	a->name_argop_u.create.name.dfs_name_val = (char *)n;
	a->name_argop_u.create.name.dfs_name_len = (u_int)strlen(n);
	a->name_argop_u.create.mode = 0644;
	a->name_argop_u.create.exclusive = excl;
}

static void
mkdir_op(const char *n)
{
	name_argop	*a = add(OP_MKDIR);

	a->name_argop_u.mkdir.name.dfs_name_val = (char *)n;
	a->name_argop_u.mkdir.name.dfs_name_len = (u_int)strlen(n);
	a->name_argop_u.mkdir.mode = 0755;
}

static void
setattr_mode(unsigned int mode)
{
	name_argop	*a = add(OP_SETATTR);

	a->name_argop_u.setattr.mask = DFS_SA_MODE;
	a->name_argop_u.setattr.mode = mode;
}

static void
remove_op(const char *n)
{
	name_argop	*a = add(OP_REMOVE);

	a->name_argop_u.remove.dfs_name_val = (char *)n;
	a->name_argop_u.remove.dfs_name_len = (u_int)strlen(n);
}

/* SAVEFH must have been done on the source directory. */
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
register_op(dfs_srvkind kind, uint64_t id, unsigned int port)
{
	name_argop	*a = add(OP_REGISTER);

	a->name_argop_u.reg.kind = kind;
	a->name_argop_u.reg.id = id;
	a->name_argop_u.reg.host = "127.0.0.1";
	a->name_argop_u.reg.port = port;
}

/* Registers the lock server at 127.0.0.1:port: the one of the test
 * before (same id; a new one would be refused while it is the lock
 * authority), or a new one. */
static void
reg_lockd(unsigned int port)
{
	static uint64_t	id;

	B();
	register_op(DFS_SRV_LOCK, id, port);
	CU_ASSERT_FATAL(go() == DFS_OK);
	id = R.res.res_val[0].name_resop_u.reg.register_res_u.ok.id;
}

/* Runs one COMPOUND: walk(dir), then `op`'s ops. */
static dfs_stat
run_in(const char *dir, void (*op)(void))
{
	B();
	walk(dir);
	op();
	return go();
}

static void mk_d(void)		{ mkdir_op("d"); }
static void mk_e(void)		{ mkdir_op("e"); }
static void mk_s(void)		{ mkdir_op("s"); }
static void mk_f(void)		{ create("f", 1); }
static void mk_t(void)		{ create("t", 1); }

static void
test_setup(void)
{
	char	err[256];

	strcpy(fx.dir, "/tmp/t_named_locks.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(fx.dir) != NULL);
	CU_ASSERT_FATAL(kv_open(&fx.kv, fx.dir, "named", err,
	    sizeof(err)) == 0);
	CU_ASSERT_FATAL(named_init(&fx.nc, fx.kv, NAMED_HB_DEFAULT, err,
	    sizeof(err)) == 0);
	named_set_ctx(&fx.nc);
	B();
	register_op(DFS_SRV_FILE, 0, 7001);
	CU_ASSERT_FATAL(go() == DFS_OK);
	fx.srvid = R.res.res_val[0].name_resop_u.reg.register_res_u.ok.id;
	CU_ASSERT_FATAL(run_in("/", mk_d) == DFS_OK);
	CU_ASSERT_FATAL(run_in("/", mk_e) == DFS_OK);
	CU_ASSERT_FATAL(run_in("/d", mk_f) == DFS_OK);
	CU_ASSERT_FATAL(run_in("/d", mk_s) == DFS_OK);
	CU_ASSERT_FATAL(run_in("/e", mk_t) == DFS_OK);
	fake_reset(DFS_OK);
}

static void
test_teardown(void)
{
	B();
	named_release(&fx.nc);
	kv_close(fx.kv);
	cutest_rmtree(fx.dir);
}

/* --- what the namespace looks like, to tell that nothing changed --- */

/* Appends `path`'s type, mode, version, ctime and (directories) entry
 * names to buf. */
static void
snap_one(const char *path, char *buf, size_t cap)
{
	const dfs_attr	*a;
	readdir_ok	*ok;
	size_t		 len = strlen(buf);
	u_int		 i;

	B();
	walk(path);
	add(OP_GETATTR);
	if (go() != DFS_OK) {
		snprintf(buf + len, cap - len, "%s:none;", path);
		return;
	}
	a = &R.res.res_val[R.res.res_len - 1].name_resop_u.getattr.
	    attr_res_u.attr;
	len += (size_t)snprintf(buf + len, cap - len, "%s:%d %o %llu %lld",
	    path, a->type, a->mode, (unsigned long long)a->vers,
	    (long long)a->ctime);
	if (a->type != DFS_FTYPE_DIR) {
		snprintf(buf + len, cap - len, ";");
		return;
	}
	B();
	walk(path);
	add(OP_READDIR)->name_argop_u.readdir.count = 32;
	CU_ASSERT_FATAL(go() == DFS_OK);
	ok = &R.res.res_val[R.res.res_len - 1].name_resop_u.readdir.
	    readdir_res_u.ok;
	for (i = 0; i < ok->entries.entries_len; i++)
		len += (size_t)snprintf(buf + len, cap - len, " %.*s",
		    (int)ok->entries.entries_val[i].name.dfs_name_len,
		    ok->entries.entries_val[i].name.dfs_name_val);
	snprintf(buf + len, cap - len, ";");
}

/* The fixture tree's state, and the next file id (CREATE and MKDIR take
 * one before their first write). */
static void
snapshot(char *buf, size_t cap)
{
	static const char *const paths[] = { "/", "/d", "/e", "/d/f",
	    "/d/s", "/e/t" };
	size_t	i;

	snprintf(buf, cap, "next %llu;",
	    (unsigned long long)fx.nc.nextid);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		snap_one(paths[i], buf, cap);
}

/* --- the mutations, each as one COMPOUND with PUTLOCK first --- */

static void
m_create(void)
{
	walk("/d");
	create("new", 1);
}

static void
m_create_nonexcl(void)		/* the name is free: it creates */
{
	walk("/d");
	create("new", 0);
}

static void
m_create_root(void)
{
	walk("/");
	create("new", 1);
}

static void
m_mkdir(void)
{
	walk("/d");
	mkdir_op("new");
}

static void
m_setattr(void)
{
	walk("/d/f");
	setattr_mode(0600);
}

static void
m_setattr_root(void)
{
	walk("/");
	setattr_mode(0700);
}

static void
m_remove(void)
{
	walk("/d");
	remove_op("f");
}

static void
m_remove_dir(void)
{
	walk("/d");
	remove_op("s");
}

static void
m_rename(void)
{
	walk("/d");
	add(OP_SAVEFH);
	rename_op("f", "g");
}

static void
m_rename_across(void)		/* onto an existing file */
{
	walk("/d");
	add(OP_SAVEFH);
	walk("/e");
	rename_op("f", "t");
}

/* A file server's COMMIT of the current version (0) of /d/f. */
static void
commit_op(uint64_t oldvers)
{
	name_argop	*a = add(OP_COMMIT);

	a->name_argop_u.commit.oldvers = oldvers;
	a->name_argop_u.commit.size = 5;
	a->name_argop_u.commit.srvid = fx.srvid;
}

static void
m_commit(void)
{
	walk("/d/f");
	commit_op(0);
}

static const struct mutation {
	const char	*name;
	void		(*build)(void);
	const char	*paths[2];	/* what the lock server is asked */
} mutations[] = {
	{ "create",	   m_create,	     { "/d/new" } },
	{ "create_nonexcl", m_create_nonexcl, { "/d/new" } },
	{ "create_root",   m_create_root,    { "/new" } },
	{ "mkdir",	   m_mkdir,	     { "/d/new" } },
	{ "setattr",	   m_setattr,	     { "/d/f" } },
	{ "setattr_root",  m_setattr_root,   { "/" } },
	{ "remove",	   m_remove,	     { "/d/f" } },
	{ "remove_dir",	   m_remove_dir,     { "/d/s" } },
	{ "rename",	   m_rename,	     { "/d/f", "/d/g" } },
	{ "rename_across", m_rename_across,  { "/d/f", "/e/t" } },
	{ "commit",	   m_commit,	     { "/d/f" } },
};
#define NMUTATIONS	(sizeof(mutations) / sizeof(mutations[0]))

/* Runs mutation `m` under PUTLOCK `id` (NULL: no PUTLOCK). */
static dfs_stat
run_mutation(const struct mutation *m, const dfs_lockid *id)
{
	B();
	if (id != NULL)
		putlock(id);
	m->build();
	return go();
}

/* --- tests --- */

/* PUTLOCK needs no current object, checks nothing, and later ops run. */
static void
test_named_locks__putlock(void)
{
	static const dfs_lockid	zero, odd = { ~0ULL, 0 };

	B();
	putlock(&mylock);
	putlock(&zero);
	putlock(&odd);
	walk("/d/f");
	add(OP_GETATTR);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT_FATAL(R.res.res_len == 6);
	CU_ASSERT(R.res.res_val[0].op == OP_PUTLOCK);
	CU_ASSERT(R.res.res_val[0].name_resop_u.putlock == DFS_OK);
	CU_ASSERT(R.res.res_val[2].op == OP_PUTLOCK);
}

/* No lock server registered: every mutation proceeds, whatever id. */
static void
test_named_locks__no_lockd(void)
{
	size_t	i;

	for (i = 0; i < NMUTATIONS; i++) {
		test_teardown();
		test_setup();
		CU_ASSERT(run_mutation(&mutations[i], &mylock) == DFS_OK);
		CU_ASSERT(run_mutation(&mutations[i], NULL) != DFS_ERR_DELAY);
	}
}

/* A lock server registered where nothing listens: every mutation is
 * DELAY and changes nothing. */
static void
test_named_locks__unreachable(void)
{
	char	before[2048], after[2048];
	size_t	i;

	reg_lockd(closed_port());
	for (i = 0; i < NMUTATIONS; i++) {
		snapshot(before, sizeof(before));
		CU_ASSERT(run_mutation(&mutations[i], &mylock) ==
		    DFS_ERR_DELAY);
		CU_ASSERT(run_mutation(&mutations[i], NULL) == DFS_ERR_DELAY);
		snapshot(after, sizeof(after));
		CU_ASSERT_STRING_EQUAL(after, before);
		if (strcmp(after, before) != 0)
			fprintf(stderr, "%s changed the namespace\n",
			    mutations[i].name);
	}
}

/* Not mutations: opening an existing file, a rename onto itself, and
 * reads ask no lock server, so they work with it unreachable. */
static void
test_named_locks__unreachable_reads(void)
{
	reg_lockd(closed_port());
	B();
	walk("/d");
	create("f", 0);
	CU_ASSERT(go() == DFS_OK);
	CU_ASSERT(R.res.res_val[2].name_resop_u.create.create_res_u.ok.
	    created == FALSE);
	B();
	walk("/d");
	add(OP_SAVEFH);
	rename_op("f", "f");
	CU_ASSERT(go() == DFS_OK);
	B();
	walk("/d/f");
	add(OP_GETATTR);
	add(OP_GETPATH);
	CU_ASSERT(go() == DFS_OK);
}

/* Each mutation asks TEST(its paths, the PUTLOCK id, EXCL), in order. */
static void
test_named_locks__paths(void)
{
	static const dfs_lockid	zero;
	const struct mutation	*m;
	size_t			 i, j;

	for (i = 0; i < NMUTATIONS; i++) {
		m = &mutations[i];
		test_teardown();
		test_setup();
		reg_lockd(fake.port);
		fake_reset(DFS_OK);
		CU_ASSERT(run_mutation(m, &mylock) == DFS_OK);
		pthread_mutex_lock(&fake.mu);
		for (j = 0; j < 2 && m->paths[j] != NULL; j++)
			CU_ASSERT_STRING_EQUAL(fake.paths[j], m->paths[j]);
		CU_ASSERT(fake.ncalls == j);
		CU_ASSERT(memcmp(&fake.id, &mylock, sizeof(mylock)) == 0);
		CU_ASSERT(fake.mode == DFS_LOCK_EXCL);
		pthread_mutex_unlock(&fake.mu);
	}
	/* without PUTLOCK, the id is all zero */
	test_teardown();
	test_setup();
	reg_lockd(fake.port);
	fake_reset(DFS_OK);
	CU_ASSERT(run_mutation(&mutations[4], NULL) == DFS_OK);
	pthread_mutex_lock(&fake.mu);
	CU_ASSERT(fake.ncalls == 1);
	CU_ASSERT(memcmp(&fake.id, &zero, sizeof(zero)) == 0);
	pthread_mutex_unlock(&fake.mu);
}

/* The lock server's answer is the op's result; a refusal writes
 * nothing.  Any other answer is SERVERFAULT. */
static void
test_named_locks__answers(void)
{
	static const struct {
		dfs_stat	answer, want;
	} cases[] = {
		{ DFS_ERR_LOCKED,	DFS_ERR_LOCKED },
		{ DFS_ERR_EXPIRED,	DFS_ERR_EXPIRED },
		{ DFS_ERR_BADLOCK,	DFS_ERR_BADLOCK },
		{ DFS_ERR_INVAL,	DFS_ERR_SERVERFAULT },
		{ DFS_ERR_SERVERFAULT,	DFS_ERR_SERVERFAULT },
	};
	char	before[2048], after[2048];
	size_t	i, j;

	reg_lockd(fake.port);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_reset(cases[i].answer);
		for (j = 0; j < NMUTATIONS; j++) {
			snapshot(before, sizeof(before));
			CU_ASSERT(run_mutation(&mutations[j], &mylock) ==
			    cases[i].want);
			/* the refused op is the last one evaluated */
			CU_ASSERT(R.res.res_len == nops);
			snapshot(after, sizeof(after));
			CU_ASSERT_STRING_EQUAL(after, before);
		}
	}
}

/* A RENAME whose source is free but whose target is refused changes
 * nothing; TEST asked about the target after the source. */
static void
test_named_locks__rename_target(void)
{
	char	before[2048], after[2048];

	reg_lockd(fake.port);
	fake_reset(DFS_OK);
	/* the fake answers every path alike: check the order it saw, then
	 * refuse and see that nothing moved */
	CU_ASSERT(run_mutation(&mutations[9], &mylock) == DFS_OK);
	pthread_mutex_lock(&fake.mu);
	CU_ASSERT_STRING_EQUAL(fake.paths[0], "/d/f");
	CU_ASSERT_STRING_EQUAL(fake.paths[1], "/e/t");
	pthread_mutex_unlock(&fake.mu);
	fake_reset(DFS_ERR_LOCKED);
	snapshot(before, sizeof(before));
	B();
	walk("/e");
	add(OP_SAVEFH);
	walk("/d");
	rename_op("t", "s2");
	CU_ASSERT(go() == DFS_ERR_LOCKED);
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(after, before);
}

/* Requests that fail their own checks cost no call to the lock server. */
static void
test_named_locks__validation_first(void)
{
	static void (*const bad[])(void) = { m_create, m_mkdir, m_remove,
	    m_remove_dir, m_rename, m_commit };
	size_t	i;

	reg_lockd(fake.port);
	fake_reset(DFS_ERR_LOCKED);
	/* make each of them invalid */
	CU_ASSERT(run_in("/d", mk_f) == DFS_ERR_EXIST);
	B();
	walk("/d");
	create("f", 1);			/* exclusive, taken */
	mkdir_op("f");			/* not reached */
	CU_ASSERT(go() == DFS_ERR_EXIST);
	B();
	walk("/d");
	mkdir_op("s");			/* taken */
	CU_ASSERT(go() == DFS_ERR_EXIST);
	B();
	walk("/d");
	remove_op("nope");
	CU_ASSERT(go() == DFS_ERR_NOENT);
	B();
	walk("/");
	remove_op("d");			/* not empty */
	CU_ASSERT(go() == DFS_ERR_NOTEMPTY);
	B();
	walk("/d");
	add(OP_SAVEFH);
	rename_op("nope", "g");
	CU_ASSERT(go() == DFS_ERR_NOENT);
	B();
	walk("/");
	add(OP_SAVEFH);
	walk("/d");
	rename_op("d", "x");		/* into itself */
	CU_ASSERT(go() == DFS_ERR_INVAL);
	B();
	walk("/d/f");
	add(OP_SETATTR)->name_argop_u.setattr.mask = 0x100;
	CU_ASSERT(go() == DFS_ERR_INVAL);
	B();
	walk("/d/f");
	commit_op(3);			/* the version is 0 */
	CU_ASSERT(go() == DFS_ERR_CHANGED);
	CU_ASSERT(fake_calls() == 0);
	/* and the valid ones are refused */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		B();
		putlock(&mylock);
		bad[i]();
		CU_ASSERT(go() == DFS_ERR_LOCKED);
	}
	CU_ASSERT(fake_calls() == 6);
}

/* A COMPOUND with several mutations whose paths its walks tell (a
 * batch of small files) asks all their TESTs in one call before it
 * runs; each op then takes its answer from there.  A refusal there is
 * the op's result as before, and nothing is written. */
static void
test_named_locks__ahead(void)
{
	static const char *const want[] = { "/d/a", "/d/b", "/e/t" };
	char	before[2048], after[2048];
	size_t	i;

	reg_lockd(fake.port);
	fake_reset(DFS_OK);
	B();
	putlock(&mylock);
	walk("/d");
	add(OP_SAVEFH);
	create("a", 1);
	add(OP_RESTOREFH);
	create("b", 1);
	walk("/e/t");
	commit_op(0);
	CU_ASSERT(go() == DFS_OK);
	pthread_mutex_lock(&fake.mu);
	CU_ASSERT(fake.nrpcs == 1);
	CU_ASSERT(fake.ncalls == 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(fake.paths[i], want[i]);
	CU_ASSERT(memcmp(&fake.id, &mylock, sizeof(mylock)) == 0);
	pthread_mutex_unlock(&fake.mu);
	/* refused ahead: the first CREATE fails, with no call of its own */
	fake_reset(DFS_ERR_LOCKED);
	snapshot(before, sizeof(before));
	B();
	putlock(&mylock);
	walk("/d");
	add(OP_SAVEFH);
	create("c", 1);
	add(OP_RESTOREFH);
	create("e", 1);
	CU_ASSERT(go() == DFS_ERR_LOCKED);
	CU_ASSERT(R.res.res_len == 5);
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(after, before);
	CU_ASSERT(fake_calls() == 1);
	/* one mutation is asked when it runs, as always */
	fake_reset(DFS_OK);
	CU_ASSERT(run_mutation(&mutations[0], &mylock) == DFS_OK);
	pthread_mutex_lock(&fake.mu);
	CU_ASSERT(fake.nrpcs == 1 && fake.ncalls == 1);
	pthread_mutex_unlock(&fake.mu);
}

/* The latest lock server to register is the one asked: the connection
 * follows a new address both ways. */
static void
test_named_locks__repoint(void)
{
	reg_lockd(closed_port());
	CU_ASSERT(run_mutation(&mutations[4], &mylock) == DFS_ERR_DELAY);
	reg_lockd(fake.port);
	fake_reset(DFS_OK);
	CU_ASSERT(run_mutation(&mutations[4], &mylock) == DFS_OK);
	CU_ASSERT(fake_calls() == 1);
	reg_lockd(closed_port());
	CU_ASSERT(run_mutation(&mutations[4], &mylock) == DFS_ERR_DELAY);
	CU_ASSERT(fake_calls() == 1);
	reg_lockd(fake.port);
	CU_ASSERT(run_mutation(&mutations[4], &mylock) == DFS_OK);
	CU_ASSERT(fake_calls() == 2);
}

static int
suite_init(void)
{
	return fake_start();
}

static int
suite_clean(void)
{
	B();
	return fake_stop();
}

static CU_TestInfo lock_tests[] = {
	{ "putlock", test_named_locks__putlock },
	{ "no_lockd", test_named_locks__no_lockd },
	{ "unreachable", test_named_locks__unreachable },
	{ "unreachable_reads", test_named_locks__unreachable_reads },
	{ "paths", test_named_locks__paths },
	{ "answers", test_named_locks__answers },
	{ "rename_target", test_named_locks__rename_target },
	{ "validation_first", test_named_locks__validation_first },
	{ "ahead", test_named_locks__ahead },
	{ "repoint", test_named_locks__repoint },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "named_locks", suite_init, suite_clean, test_setup, test_teardown,
	    lock_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
