/*
 * it_core.c -- the core against real daemons over TCP.
 *
 * One cluster (dfs-named, dfs-lockd, one dfs-filed, all -N) serves every
 * test of the suite; each test works under its own directory.  Covers:
 * the data path (CREATE on the name server, STAGE/WRITE/COMMIT and READ
 * on the file server), COMPOUND semantics on the wire, hostile input
 * (garbage XDR, truncated records, unknown procedures and ops, forged
 * handles) after which the daemons must keep serving, and invariants 1,
 * 3 and 5 of DESIGN.md.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "fh.h"
#include "harness.h"
#include "rpcc.h"

static struct cluster	 cl;
static CLIENT		*nc, *fc, *lc;

static int
suite_init(void)
{
	if (cluster_start(&cl, 1) == -1)
		return -1;
	nc = harness_clnt(&cl.named);
	fc = harness_clnt(&cl.filed[0]);
	lc = harness_clnt(&cl.lockd);
	return nc && fc && lc ? 0 : -1;
}

static int
suite_clean(void)
{
	if (nc)
		clnt_destroy(nc);
	if (fc)
		clnt_destroy(fc);
	if (lc)
		clnt_destroy(lc);
	/* every daemon must exit 0 on SIGTERM */
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* Creates /dir/name (dir made if needed); stores a copy of its handle. */
static void
create_file(const char *dir, const char *name, dfs_fh *fh)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_mkdir(&r, dir);
	(void)name_call(nc, &r, &res);	/* EXIST is fine */
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	r.n = 0;
	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, dir);
	name_req_create(&r, name, 1);
	name_req_add(&r, OP_GETFH);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(res.status, DFS_OK);
	CU_ASSERT_EQUAL_FATAL(res.res.res_len, 4);
	CU_ASSERT_TRUE(res.res.res_val[2].name_resop_u.create.create_res_u.
	    ok.created);
	fh_copy(fh, &res.res.res_val[3].name_resop_u.getfh.getfh_res_u.fh);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
}

/* STAGE, WRITE, COMMIT(base) in one round trip.  Returns the COMMIT
 * status and the new version in *vers. */
static dfs_stat
put_at(const dfs_fh *fh, const char *data, size_t len, dfs_lockid lock,
    uint64_t base, uint64_t *vers)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	file_argop		*a;
	dfs_stat		 st;

	a = file_req_add(&r, FOP_STAGE);
	a->file_argop_u.stage.fh = *fh;
	a->file_argop_u.stage.lock = lock;
	a = file_req_add(&r, FOP_WRITE);
	a->file_argop_u.write.fh = *fh;
	a->file_argop_u.write.data.data_val = (char *)data;
	a->file_argop_u.write.data.data_len = (u_int)len;
	a = file_req_add(&r, FOP_COMMIT);
	a->file_argop_u.commit.fh = *fh;
	a->file_argop_u.commit.lock = lock;
	a->file_argop_u.commit.base = base;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	st = res.status;
	if (st == DFS_OK && vers != NULL)
		*vers = res.res.res_val[2].file_resop_u.commit.fcommit_res_u.
		    attr.vers;
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return st;
}

/* put_at() on top of whatever version is current. */
static dfs_stat
put_data(const dfs_fh *fh, const char *data, size_t len, dfs_lockid lock,
    uint64_t *vers)
{
	return put_at(fh, data, len, lock, DFS_VERS_ANY, vers);
}

/* READ of (fh, vers, off, count), alone or followed by the file
 * server's GETATTR; copies the data into buf (cap bytes), its length
 * into *len and eof into *eof.  Returns the COMPOUND's status. */
static dfs_stat
read_one(const dfs_fh *fh, uint64_t vers, uint64_t off, u_int count,
    int paired, char *buf, size_t cap, size_t *len, int *eof)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	read_args		*ra;
	read_ok			*ok;
	dfs_stat		 st;

	ra = &file_req_add(&r, FOP_READ)->file_argop_u.read;
	ra->fh = *fh;
	ra->vers = vers;
	ra->offset = off;
	ra->count = count;
	if (paired)
		file_req_add(&r, FOP_GETATTR)->file_argop_u.getattr = *fh;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	st = res.status;
	*len = 0;
	*eof = -1;
	if (st == DFS_OK) {
		CU_ASSERT_EQUAL(res.res.res_len, paired ? 2 : 1);
		ok = &res.res.res_val[0].file_resop_u.read.read_res_u.ok;
		*eof = ok->eof;
		*len = ok->data.data_len;
		CU_ASSERT_FATAL(*len <= cap);
		if (*len > 0)
			memcpy(buf, ok->data.data_val, *len);
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return st;
}

/* READ of (fh, vers) from offset 0; returns the status, copies up to
 * cap bytes into buf and their number into *len. */
static dfs_stat
get_data(const dfs_fh *fh, uint64_t vers, char *buf, size_t cap,
    size_t *len)
{
	int	eof;

	return read_one(fh, vers, 0, (u_int)cap, 0, buf, cap, len, &eof);
}

/* GETATTR of an absolute path through the name server. */
static dfs_stat
getattr(const char *relpath, dfs_attr *attr)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	dfs_stat		 st;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, relpath);
	name_req_add(&r, OP_GETATTR);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	st = res.status;
	if (st == DFS_OK)
		*attr = res.res.res_val[2].name_resop_u.getattr.attr_res_u.attr;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

static int
ping(CLIENT *c)
{
	struct timeval	tv = { 5, 0 };

	return clnt_call(c, 0, XDR_VOID, NULL, XDR_VOID, NULL, tv) ==
	    RPC_SUCCESS;
}

static void
test_core__null_ping(void)
{
	CU_ASSERT_TRUE(ping(nc));
	CU_ASSERT_TRUE(ping(fc));
	CU_ASSERT_TRUE(ping(lc));
}

static void
test_core__write_then_read(void)
{
	static const dfs_lockid	 nolock;
	const char		*msg = "hello, dfs\n";
	dfs_fh			 fh;
	dfs_attr		 attr;
	uint64_t		 vers = 0;
	char			 buf[64];
	size_t			 len;

	create_file("rw", "hello", &fh);
	CU_ASSERT_EQUAL(getattr("rw/hello", &attr), DFS_OK);
	CU_ASSERT_EQUAL(attr.vers, 0);
	CU_ASSERT_EQUAL(attr.size, 0);
	CU_ASSERT_EQUAL(put_data(&fh, msg, strlen(msg), nolock, &vers),
	    DFS_OK);
	CU_ASSERT_EQUAL(vers, 1);
	CU_ASSERT_EQUAL(getattr("rw/hello", &attr), DFS_OK);
	CU_ASSERT_EQUAL(attr.vers, 1);
	CU_ASSERT_EQUAL(attr.size, strlen(msg));
	CU_ASSERT_EQUAL(get_data(&fh, 1, buf, sizeof(buf), &len), DFS_OK);
	CU_ASSERT_EQUAL(len, strlen(msg));
	CU_ASSERT_EQUAL(memcmp(buf, msg, len), 0);
	free(fh.dfs_fh_val);
}

/* RFC 7530 14.2 on the wire: evaluation stops at the first failure and
 * the reply holds the results so far. */
static void
test_core__compound_stops_at_first_failure(void)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, "no-such-dir");
	name_req_add(&r, OP_GETATTR);
	name_req_add(&r, OP_GETFH);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.status, DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(res.res.res_len, 2);
	CU_ASSERT_EQUAL(res.res.res_val[0].name_resop_u.putrootfh, DFS_OK);
	CU_ASSERT_EQUAL(res.res.res_val[1].name_resop_u.lookup,
	    DFS_ERR_NOENT);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
}

static void
test_core__too_many_ops_is_resource(void)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	int			i;

	for (i = 0; i < DFS_MAXOPS + 1; i++)
		name_req_add(&r, OP_PUTROOTFH);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.status, DFS_ERR_RESOURCE);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	CU_ASSERT_TRUE(ping(nc));
}

static void
test_core__unknown_op_is_illegal(void)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_add(&r, (name_opnum)999);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.status, DFS_ERR_OP_ILLEGAL);
	CU_ASSERT_EQUAL(res.res.res_len, 2);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
}

static void
test_core__unknown_procedure(void)
{
	struct timeval	tv = { 5, 0 };

	CU_ASSERT_EQUAL(clnt_call(nc, 99, XDR_VOID, NULL, XDR_VOID, NULL, tv),
	    RPC_PROCUNAVAIL);
	CU_ASSERT_TRUE(ping(nc));
}

/* Encodes junk where the arguments should be. */
static bool_t
xdr_junk(XDR *xdrs, void *arg)
{
	u_int32_t	words[] = { 7, 0xffffffffu, 3, 0xdeadbeefu };
	u_int		i;

	(void)arg;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!xdr_u_int32_t(xdrs, &words[i]))
			return FALSE;
	return TRUE;
}

static void
test_core__garbage_args(void)
{
	struct timeval	tv = { 5, 0 };
	CLIENT		*c[3] = { nc, fc, lc };
	rpcproc_t	 proc[3] = { NAME_COMPOUND, FILE_COMPOUND,
			    LOCK_COMPOUND };
	int		 i;

	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(clnt_call(c[i], proc[i], (xdrproc_t)xdr_junk,
		    NULL, XDR_VOID, NULL, tv), RPC_CANTDECODEARGS);
		CU_ASSERT_TRUE(ping(c[i]));
	}
}

/* A client that sends half a record and vanishes, or sends a record
 * header claiming 2 GiB, must not stall or kill the daemon. */
static void
test_core__truncated_and_oversized_records(void)
{
	struct sockaddr_in	sin;
	unsigned char		half[] = { 0x80, 0x00, 0x01, 0x00, 0, 0, 0 };
	unsigned char		huge[] = { 0xff, 0xff, 0xff, 0xf0, 1, 2 };
	const struct dproc	*d[3] = { &cl.named, &cl.filed[0], &cl.lockd };
	int			i, fd;

	for (i = 0; i < 3; i++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)d[i]->port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0);
		CU_ASSERT(write(fd, half, sizeof(half)) == sizeof(half));
		/* while that connection hangs half-sent, others are served */
		CU_ASSERT_TRUE(ping(i == 0 ? nc : i == 1 ? fc : lc));
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0);
		CU_ASSERT(write(fd, huge, sizeof(huge)) == sizeof(huge));
		close(fd);
		CU_ASSERT_TRUE(ping(i == 0 ? nc : i == 1 ? fc : lc));
	}
}

/* GETATTR through the name server and READ on the file server of a
 * handle; returns the name server's status. */
static dfs_stat
try_handle(const char *bytes, u_int len)
{
	struct name_req		r = { .n = 0 };
	struct file_req		f = { .n = 0 };
	name_compound_res	res;
	file_compound_res	fres;
	read_args		*ra;
	dfs_fh			fh;
	dfs_stat		st;

	fh.dfs_fh_val = (char *)bytes;
	fh.dfs_fh_len = len;
	name_req_putfh(&r, &fh);
	name_req_add(&r, OP_GETATTR);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	ra = &file_req_add(&f, FOP_READ)->file_argop_u.read;
	ra->fh = fh;
	ra->vers = 1;
	ra->count = 10;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &f, &fres), RPC_SUCCESS);
	/* the file server checks the shape only; it has no such data */
	CU_ASSERT(fres.status == DFS_ERR_BADHANDLE ||
	    fres.status == DFS_ERR_STALE);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&fres);
	return st;
}

static void
test_core__bad_handles(void)
{
	dfs_fh	fh;
	char	b[28];

	CU_ASSERT_EQUAL(try_handle("", 0), DFS_ERR_BADHANDLE);
	CU_ASSERT_EQUAL(try_handle("dfs1", 4), DFS_ERR_BADHANDLE);
	CU_ASSERT_EQUAL(try_handle("XXXX0123456789abcdef01234567", 28),
	    DFS_ERR_BADHANDLE);
	/* another name server's handle (instance 1): stale, not ours */
	CU_ASSERT_EQUAL(try_handle("dfs1\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\1"
	    "\0\0\0\0\0\0\0\0", 28), DFS_ERR_STALE);
	create_file("handles", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(fh.dfs_fh_len, 28);
	CU_ASSERT_EQUAL(try_handle(fh.dfs_fh_val, 28), DFS_OK);
	memcpy(b, fh.dfs_fh_val, 28);
	b[27] ^= 1;				/* a forged tag */
	CU_ASSERT_EQUAL(try_handle(b, 28), DFS_ERR_BADHANDLE);
	memcpy(b, fh.dfs_fh_val, 28);
	b[19] ^= 4;				/* a guessed file id */
	CU_ASSERT_EQUAL(try_handle(b, 28), DFS_ERR_BADHANDLE);
	CU_ASSERT_EQUAL(try_handle(fh.dfs_fh_val, 27), DFS_ERR_BADHANDLE);
	free(fh.dfs_fh_val);
	CU_ASSERT_TRUE(ping(nc));
}

static void
test_core__bad_names(void)
{
	static const struct {
		const char	*bytes;
		u_int		 len;
		dfs_stat	 want;
	} cases[] = {
		{ "",		0,	DFS_ERR_INVAL },
		{ ".",		1,	DFS_ERR_INVAL },
		{ "..",		2,	DFS_ERR_INVAL },
		{ "a/b",	3,	DFS_ERR_INVAL },
		{ "a\0b",	3,	DFS_ERR_INVAL },
	};
	struct name_req		r;
	name_compound_res	res;
	create_args		*c;
	char			long_name[DFS_MAXNAMELEN + 1];
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.n = 0;
		name_req_add(&r, OP_PUTROOTFH);
		c = &name_req_add(&r, OP_CREATE)->name_argop_u.create;
		c->name.dfs_name_val = (char *)cases[i].bytes;
		c->name.dfs_name_len = cases[i].len;
		CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
		CU_ASSERT_EQUAL(res.status, cases[i].want);
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	}
	/* one byte over the protocol bound does not even decode */
	memset(long_name, 'x', sizeof(long_name));
	r.n = 0;
	name_req_add(&r, OP_PUTROOTFH);
	c = &name_req_add(&r, OP_CREATE)->name_argop_u.create;
	c->name.dfs_name_val = long_name;
	c->name.dfs_name_len = DFS_MAXNAMELEN + 1;
	CU_ASSERT_NOT_EQUAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_TRUE(ping(nc));
}

/* Invariant 1: while version 2 is being staged, readers of version 1
 * get all of version 1; after the commit, version 1 is gone (STALE) and
 * version 2 is complete. */
static void
test_core__readers_never_see_partial_files(void)
{
	static const dfs_lockid	 nolock;
	static char		 one[65536], two[65536], got[65536];
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	file_argop		*a;
	dfs_fh			 fh;
	uint64_t		 vers, stage;
	size_t			 len;

	memset(one, '1', sizeof(one));
	memset(two, '2', sizeof(two));
	create_file("partial", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(put_data(&fh, one, sizeof(one), nolock, &vers),
	    DFS_OK);
	file_req_add(&r, FOP_STAGE)->file_argop_u.stage.fh = fh;
	a = file_req_add(&r, FOP_WRITE);
	a->file_argop_u.write.fh = fh;
	a->file_argop_u.write.data.data_val = two;
	a->file_argop_u.write.data.data_len = sizeof(two) / 2;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(res.status, DFS_OK);
	stage = res.res.res_val[0].file_resop_u.stage.stage_res_u.stage;
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);

	CU_ASSERT_EQUAL(get_data(&fh, vers, got, sizeof(got), &len), DFS_OK);
	CU_ASSERT_EQUAL(len, sizeof(one));
	CU_ASSERT_EQUAL(memcmp(got, one, sizeof(one)), 0);

	r.n = 0;
	a = file_req_add(&r, FOP_WRITE);
	a->file_argop_u.write.fh = fh;
	a->file_argop_u.write.stage = stage;
	a->file_argop_u.write.offset = sizeof(two) / 2;
	a->file_argop_u.write.data.data_val = two + sizeof(two) / 2;
	a->file_argop_u.write.data.data_len = sizeof(two) / 2;
	a = file_req_add(&r, FOP_COMMIT);
	a->file_argop_u.commit.fh = fh;
	a->file_argop_u.commit.stage = stage;
	a->file_argop_u.commit.base = vers;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.status, DFS_OK);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);

	CU_ASSERT_EQUAL(get_data(&fh, vers, got, sizeof(got), &len),
	    DFS_ERR_STALE);
	CU_ASSERT_EQUAL(get_data(&fh, vers + 1, got, sizeof(got), &len),
	    DFS_OK);
	CU_ASSERT_EQUAL(len, sizeof(two));
	CU_ASSERT_EQUAL(memcmp(got, two, sizeof(two)), 0);
	free(fh.dfs_fh_val);
}

/* Invariant 3: a writer that stages and never commits changes nothing
 * a reader can see. */
static void
test_core__abandoned_stage_changes_nothing(void)
{
	static const dfs_lockid	 nolock;
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	file_argop		*a;
	dfs_fh			 fh;
	dfs_attr		 attr;
	uint64_t		 vers;
	char			 got[16];
	size_t			 len;

	create_file("abandon", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(put_data(&fh, "old", 3, nolock, &vers), DFS_OK);
	file_req_add(&r, FOP_STAGE)->file_argop_u.stage.fh = fh;
	a = file_req_add(&r, FOP_WRITE);
	a->file_argop_u.write.fh = fh;
	a->file_argop_u.write.data.data_val = "new data";
	a->file_argop_u.write.data.data_len = 8;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	CU_ASSERT_EQUAL(getattr("abandon/f", &attr), DFS_OK);
	CU_ASSERT_EQUAL(attr.vers, vers);
	CU_ASSERT_EQUAL(attr.size, 3);
	CU_ASSERT_EQUAL(get_data(&fh, vers, got, sizeof(got), &len), DFS_OK);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_EQUAL(memcmp(got, "old", 3), 0);
	free(fh.dfs_fh_val);
}


/* Invariant 5, first half: a commit to a path locked by someone else is
 * LOCKED; a wrong id is refused without disturbing the holder. */
static void
test_core__commit_respects_locks(void)
{
	static const dfs_lockid	 nolock;
	dfs_lockid		 id, other, bogus;
	dfs_fh			 fh;
	uint64_t		 vers;

	create_file("locked", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/locked/f", DFS_LOCK_EXCL, 0,
	    &id), DFS_OK);
	CU_ASSERT_EQUAL(harness_lock(lc, "/locked/f", DFS_LOCK_EXCL, 0,
	    &other), DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(put_data(&fh, "x", 1, nolock, &vers), DFS_ERR_LOCKED);
	bogus = id;
	bogus.nonce ^= 1;
	CU_ASSERT_NOT_EQUAL(put_data(&fh, "x", 1, bogus, &vers), DFS_OK);
	CU_ASSERT_EQUAL(put_data(&fh, "mine", 4, id, &vers), DFS_OK);
	CU_ASSERT_EQUAL(vers, 1);
	free(fh.dfs_fh_val);
}

/* A STAGE alone (no COMMIT) under `lock`.  Returns its status; a stage
 * made is aborted. */
static dfs_stat
stage_only(const dfs_fh *fh, dfs_lockid lock)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	file_argop		*a;
	dfs_stat		 st;

	a = file_req_add(&r, FOP_STAGE);
	a->file_argop_u.stage.fh = *fh;
	a->file_argop_u.stage.lock = lock;
	a = file_req_add(&r, FOP_ABORT);
	a->file_argop_u.abort.fh = *fh;
	CU_ASSERT_EQUAL_FATAL(file_call(fc, &r, &res), RPC_SUCCESS);
	st = res.res.res_len > 0 ?
	    res.res.res_val[0].file_resop_u.stage.status : res.status;
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return st;
}

/* Issue 17: data nobody could commit never takes the file server's disk:
 * a STAGE is refused, before anything is written, to a writer whose lock
 * does not let it change the file (the check COMMIT makes). */
static void
test_core__stage_respects_locks(void)
{
	static const dfs_lockid	 nolock;
	dfs_lockid		 id, bogus;
	dfs_fh			 fh;

	create_file("stagelock", "f", &fh);
	CU_ASSERT_EQUAL(stage_only(&fh, nolock), DFS_OK);	/* nobody's */
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/stagelock/f", DFS_LOCK_EXCL,
	    0, &id), DFS_OK);
	CU_ASSERT_EQUAL(stage_only(&fh, nolock), DFS_ERR_LOCKED);
	bogus = id;
	bogus.nonce ^= 1;
	CU_ASSERT_NOT_EQUAL(stage_only(&fh, bogus), DFS_OK);
	CU_ASSERT_EQUAL(stage_only(&fh, id), DFS_OK);
	free(fh.dfs_fh_val);
}

/*
 * A commit names the version its writer started from: a second writer
 * from the same base gets CHANGED and the first one's version stays
 * whole (the file server never renames over it, and the name server
 * refuses the stale base); base DFS_VERS_ANY takes the current one.
 */
static void
test_core__stale_base_is_changed(void)
{
	static const dfs_lockid	 nolock;
	dfs_fh			 fh;
	dfs_attr		 attr;
	uint64_t		 vers = 0;
	char			 got[16];
	size_t			 len;

	create_file("base", "f", &fh);
	CU_ASSERT_EQUAL(put_at(&fh, "first", 5, nolock, 0, &vers), DFS_OK);
	CU_ASSERT_EQUAL(vers, 1);
	CU_ASSERT_EQUAL(put_at(&fh, "second", 6, nolock, 0, &vers),
	    DFS_ERR_CHANGED);
	CU_ASSERT_EQUAL(put_at(&fh, "second", 6, nolock, 7, &vers),
	    DFS_ERR_CHANGED);
	CU_ASSERT_EQUAL(getattr("base/f", &attr), DFS_OK);
	CU_ASSERT_EQUAL(attr.vers, 1);
	CU_ASSERT_EQUAL(attr.size, 5);
	CU_ASSERT_EQUAL(get_data(&fh, 1, got, sizeof(got), &len), DFS_OK);
	CU_ASSERT(len == 5 && memcmp(got, "first", 5) == 0);
	CU_ASSERT_EQUAL(put_at(&fh, "third", 5, nolock, 1, &vers), DFS_OK);
	CU_ASSERT_EQUAL(vers, 2);
	CU_ASSERT_EQUAL(put_data(&fh, "any", 3, nolock, &vers), DFS_OK);
	CU_ASSERT_EQUAL(vers, 3);
	CU_ASSERT_EQUAL(get_data(&fh, 3, got, sizeof(got), &len), DFS_OK);
	CU_ASSERT(len == 3 && memcmp(got, "any", 3) == 0);
	free(fh.dfs_fh_val);
}

/*
 * A lone READ is answered straight from the file (sendread.c), a READ
 * with another op through libtirpc: both give the same bytes and eof,
 * for every length mod 4 (the XDR padding), at the end and past it, and
 * the connection goes on working after each.
 */
static void
test_core__lone_read_is_exact(void)
{
	static const dfs_lockid	 nolock;
	static const struct {
		uint64_t	off;
		u_int		count;
	} cases[] = {
		{ 0, 70001 }, { 0, 1 }, { 1, 2 }, { 5, 3 }, { 7, 4 },
		{ 12345, 65536 }, { 69998, 100 }, { 70001, 10 },
		{ 80000, 10 }, { 0, 0 },
	};
	static char	 data[70001], one[70001], two[70001];
	dfs_fh		 fh;
	uint64_t	 vers = 0, want;
	size_t		 i, len1, len2;
	int		 eof1, eof2;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	create_file("zc", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(put_data(&fh, data, sizeof(data), nolock,
	    &vers), DFS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want = cases[i].off >= sizeof(data) ? 0 :
		    sizeof(data) - cases[i].off;
		if (want > cases[i].count)
			want = cases[i].count;
		CU_ASSERT_EQUAL(read_one(&fh, vers, cases[i].off,
		    cases[i].count, 0, one, sizeof(one), &len1, &eof1), DFS_OK);
		CU_ASSERT_EQUAL(read_one(&fh, vers, cases[i].off,
		    cases[i].count, 1, two, sizeof(two), &len2, &eof2), DFS_OK);
		CU_ASSERT_EQUAL(len1, want);
		CU_ASSERT_EQUAL(len2, want);
		CU_ASSERT_EQUAL(eof1, cases[i].off + want >= sizeof(data));
		CU_ASSERT_EQUAL(eof2, eof1);
		if (want > 0 && len1 == want && len2 == want) {
			CU_ASSERT(memcmp(one, data + cases[i].off, want) == 0);
			CU_ASSERT(memcmp(two, data + cases[i].off, want) == 0);
		}
	}
	/* an error is libtirpc's reply, and the stream goes on */
	CU_ASSERT_EQUAL(read_one(&fh, vers + 5, 0, 10, 0, one, sizeof(one),
	    &len1, &eof1), DFS_ERR_STALE);
	CU_ASSERT_TRUE(ping(fc));
	free(fh.dfs_fh_val);
}

/*
 * A .V+1 that a COMMIT without an answer left behind (the name server
 * still says V): a new commit from V waits (DELAY) while that COMMIT
 * could still be on its way, and replaces the leftover once it is old.
 */
static void
test_core__orphan_version(void)
{
	static const dfs_lockid	 nolock;
	char			 hex[FH_HEXLEN + 1], path[1024], got[16];
	struct timeval		 tv[2];
	dfs_fh			 fh;
	uint64_t		 vers = 0;
	size_t			 len;
	FILE			*fp;

	create_file("orphan", "f", &fh);
	CU_ASSERT_EQUAL_FATAL(put_at(&fh, "one", 3, nolock, 0, &vers),
	    DFS_OK);
	CU_ASSERT_EQUAL_FATAL(fh.dfs_fh_len, FH_LEN);
	fh_hex(fh.dfs_fh_val, fh.dfs_fh_len, hex);
	/* its bucket: bits 4-11 of the file id, hex digits 37-38 (store.c) */
	snprintf(path, sizeof(path), "%s/data/%.2s/%s.2", cl.filed[0].dir,
	    hex + 37, hex);
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs("left over", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(put_at(&fh, "two", 3, nolock, 1, &vers),
	    DFS_ERR_DELAY);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 3600;
	tv[1] = tv[0];
	CU_ASSERT_EQUAL_FATAL(utimes(path, tv), 0);
	CU_ASSERT_EQUAL(put_at(&fh, "two", 3, nolock, 1, &vers), DFS_OK);
	CU_ASSERT_EQUAL(vers, 2);
	CU_ASSERT_EQUAL(get_data(&fh, 2, got, sizeof(got), &len), DFS_OK);
	CU_ASSERT(len == 3 && memcmp(got, "two", 3) == 0);
	free(fh.dfs_fh_val);
}

static CU_TestInfo core_tests[] = {
	{ "null_ping", test_core__null_ping },
	{ "write_then_read", test_core__write_then_read },
	{ "compound_stops_at_first_failure",
	    test_core__compound_stops_at_first_failure },
	{ "too_many_ops_is_resource", test_core__too_many_ops_is_resource },
	{ "unknown_op_is_illegal", test_core__unknown_op_is_illegal },
	{ "unknown_procedure", test_core__unknown_procedure },
	{ "garbage_args", test_core__garbage_args },
	{ "truncated_and_oversized_records",
	    test_core__truncated_and_oversized_records },
	{ "bad_handles", test_core__bad_handles },
	{ "bad_names", test_core__bad_names },
	{ "readers_never_see_partial_files",
	    test_core__readers_never_see_partial_files },
	{ "abandoned_stage_changes_nothing",
	    test_core__abandoned_stage_changes_nothing },
	{ "commit_respects_locks", test_core__commit_respects_locks },
	{ "stage_respects_locks", test_core__stage_respects_locks },
	{ "stale_base_is_changed", test_core__stale_base_is_changed },
	{ "lone_read_is_exact", test_core__lone_read_is_exact },
	{ "orphan_version", test_core__orphan_version },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "core", suite_init, suite_clean, NULL, NULL, core_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
