/*
 * t_wire.c -- the generated XDR routines of the proto/ files: round trips and
 * protocol limits.
 *
 * A round trip encodes a value, decodes it, checks a few fields by hand,
 * re-encodes the decoded value and compares the bytes, then frees it with
 * xdr_free().  Malformed input (over a bound, truncated, unknown op) must
 * fail to decode, or decode to the default arm, without crashing or
 * leaking: run this under valgrind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "file.h"
#include "lock.h"
#include "name.h"

/* rpcgen's routines as an xdrproc_t: the cast through void (*)(void) is
 * the one -Wcast-function-type accepts. */
#define XP(f)		((xdrproc_t)(void (*)(void))(f))
#define BUFSZ		(DFS_MAXDATA + 65536)
#define ONE_MIB		(1024 * 1024)
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static char		*buf1, *buf2;	/* BUFSZ each */
static unsigned char	 fhbytes[28];

static int
xdr_suite_init(void)
{
	size_t	i;

	for (i = 0; i < sizeof(fhbytes); i++)
		fhbytes[i] = (unsigned char)(0xa0 + i);
	buf1 = malloc(BUFSZ);
	buf2 = malloc(BUFSZ);
	return buf1 != NULL && buf2 != NULL ? 0 : -1;
}

static int
xdr_suite_clean(void)
{
	free(buf1);
	free(buf2);
	return 0;
}

/* --- helpers ---------------------------------------------------------- */

/* Encodes obj into buf.  Returns the encoded length, or -1. */
static int
encode(xdrproc_t proc, void *obj, char *buf, u_int size)
{
	XDR	x;
	bool_t	ok;
	int	len;

	xdrmem_create(&x, buf, size, XDR_ENCODE);
	ok = (*proc)(&x, obj);
	len = (int)xdr_getpos(&x);
	xdr_destroy(&x);
	return ok ? len : -1;
}

/* Decodes len bytes of buf into obj (which must start zeroed).  Returns
 * 1 when it decoded and used every byte, else 0. */
static int
decode(xdrproc_t proc, void *obj, char *buf, u_int len)
{
	XDR	x;
	bool_t	ok;
	u_int	pos;

	xdrmem_create(&x, buf, len, XDR_DECODE);
	ok = (*proc)(&x, obj);
	pos = xdr_getpos(&x);
	xdr_destroy(&x);
	return ok && pos == len;
}

/*
 * Encodes in, decodes it into out (outsz bytes, zeroed here) and checks
 * that out re-encodes to the same bytes.  Returns the encoded length, or
 * -1 with out zeroed.  The caller checks fields, then xdr_free()s out.
 */
static int
roundtrip(xdrproc_t proc, void *in, void *out, size_t outsz)
{
	int	len, len2;

	memset(out, 0, outsz);
	len = encode(proc, in, buf1, BUFSZ);
	CU_ASSERT(len > 0);
	if (len <= 0)
		return -1;
	CU_ASSERT_EQUAL(len % 4, 0);
	CU_ASSERT_FATAL(decode(proc, out, buf1, (u_int)len));
	len2 = encode(proc, out, buf2, BUFSZ);
	CU_ASSERT_EQUAL(len2, len);
	if (len2 == len)
		CU_ASSERT_EQUAL(memcmp(buf1, buf2, (size_t)len), 0);
	return len;
}

static dfs_name
mkname(const char *s)
{
	dfs_name	n = { (u_int)strlen(s), (char *)s };

	return n;
}

static dfs_path
mkpath(const char *s)
{
	dfs_path	p = { (u_int)strlen(s), (char *)s };

	return p;
}

static dfs_fh
mkfh(void)
{
	dfs_fh	fh = { sizeof(fhbytes), (char *)fhbytes };

	return fh;
}

/* Returns 1 when the counted bytes equal the string s. */
static int
bytes_eq(u_int len, const char *val, const char *s)
{
	return len == strlen(s) && (len == 0 || memcmp(val, s, len) == 0);
}

static int
fh_ok(const dfs_fh *fh)
{
	return fh->dfs_fh_len == sizeof(fhbytes) &&
	    memcmp(fh->dfs_fh_val, fhbytes, sizeof(fhbytes)) == 0;
}

static dfs_attr
mkattr(u_quad_t fileid)
{
	dfs_attr	a;

	memset(&a, 0, sizeof(a));
	a.type = DFS_FTYPE_REG;
	a.mode = 07755;
	a.uid = 4294967295u;
	a.gid = 100;
	a.nlink = 1;
	a.size = 0xfedcba9876543210ULL;
	a.fileid = fileid;
	a.mtime = -1234567890123456789LL;
	a.ctime = 1700000000000000000LL;
	a.vers = 7;
	return a;
}

/* --- round trips ------------------------------------------------------ */

static void
test_xdr__attr(void)
{
	dfs_attr	in = mkattr(99), out;

	CU_ASSERT_EQUAL(roundtrip(XP(xdr_dfs_attr), &in, &out, sizeof(out)),
	    4 * 5 + 8 * 5);
	CU_ASSERT_EQUAL(memcmp(&in, &out, sizeof(in)), 0);
	xdr_free(XP(xdr_dfs_attr), &out);
}

/* Fills ops[] with a realistic name COMPOUND; returns the op count. */
static u_int
name_args_ops(name_argop *ops, dfs_path *prefixes)
{
	u_int	n = 0;

	memset(ops, 0, 12 * sizeof(*ops));
	ops[n++].op = OP_PUTROOTFH;
	ops[n].op = OP_LOOKUP;
	ops[n++].name_argop_u.lookup = mkpath("a/b");
	ops[n++].op = OP_GETATTR;
	ops[n].op = OP_CREATE;
	ops[n].name_argop_u.create.name = mkname("file.txt");
	ops[n].name_argop_u.create.mode = 0644;
	ops[n++].name_argop_u.create.exclusive = TRUE;
	ops[n++].op = OP_SAVEFH;
	ops[n].op = OP_PUTFH;
	ops[n++].name_argop_u.putfh = mkfh();
	ops[n].op = OP_RENAME;
	ops[n].name_argop_u.rename.oldname = mkname("old");
	ops[n++].name_argop_u.rename.newname = mkname("new name");
	ops[n].op = OP_SETATTR;
	ops[n].name_argop_u.setattr.mask = DFS_SA_MODE | DFS_SA_MTIME;
	ops[n].name_argop_u.setattr.mode = 0600;
	ops[n++].name_argop_u.setattr.mtime = -5;
	ops[n].op = OP_REGISTER;
	ops[n].name_argop_u.reg.kind = DFS_SRV_FILE;
	ops[n].name_argop_u.reg.id = 9;
	ops[n].name_argop_u.reg.host = "10.0.0.2";
	ops[n].name_argop_u.reg.port = 2049;
	prefixes[0] = mkpath("/a");
	prefixes[1] = mkpath("/b/c");
	prefixes[2] = mkpath("/");
	ops[n].name_argop_u.reg.prefixes.prefixes_len = 3;
	ops[n++].name_argop_u.reg.prefixes.prefixes_val = prefixes;
	ops[n].op = OP_READDIR;
	ops[n].name_argop_u.readdir.cookie = 0x1122334455667788ULL;
	ops[n++].name_argop_u.readdir.count = 100;
	ops[n].op = OP_COMMIT;
	ops[n].name_argop_u.commit.oldvers = 3;
	ops[n].name_argop_u.commit.size = 1ULL << 40;
	ops[n++].name_argop_u.commit.srvid = 9;
	ops[n].op = OP_REMOVE;
	ops[n++].name_argop_u.remove = mkname("gone");
	return n;
}

static void
test_xdr__name_args(void)
{
	name_compound_args	 in, out;
	name_argop		 ops[12], *o;
	dfs_path		 prefixes[3];
	register_args		*reg;

	in.ops.ops_val = ops;
	in.ops.ops_len = name_args_ops(ops, prefixes);
	CU_ASSERT_FATAL(roundtrip(XP(xdr_name_compound_args), &in, &out,
	    sizeof(out)) > 0);
	CU_ASSERT_EQUAL_FATAL(out.ops.ops_len, 12);
	o = out.ops.ops_val;
	CU_ASSERT_EQUAL(o[0].op, OP_PUTROOTFH);
	CU_ASSERT(bytes_eq(o[1].name_argop_u.lookup.dfs_path_len,
	    o[1].name_argop_u.lookup.dfs_path_val, "a/b"));
	CU_ASSERT_EQUAL(o[3].op, OP_CREATE);
	CU_ASSERT(bytes_eq(o[3].name_argop_u.create.name.dfs_name_len,
	    o[3].name_argop_u.create.name.dfs_name_val, "file.txt"));
	CU_ASSERT_EQUAL(o[3].name_argop_u.create.exclusive, TRUE);
	CU_ASSERT(fh_ok(&o[5].name_argop_u.putfh));
	CU_ASSERT(bytes_eq(o[6].name_argop_u.rename.newname.dfs_name_len,
	    o[6].name_argop_u.rename.newname.dfs_name_val, "new name"));
	CU_ASSERT_EQUAL(o[7].name_argop_u.setattr.mtime, -5);
	reg = &o[8].name_argop_u.reg;
	CU_ASSERT_EQUAL(reg->kind, DFS_SRV_FILE);
	CU_ASSERT_STRING_EQUAL(reg->host, "10.0.0.2");
	CU_ASSERT_EQUAL_FATAL(reg->prefixes.prefixes_len, 3);
	CU_ASSERT(bytes_eq(reg->prefixes.prefixes_val[1].dfs_path_len,
	    reg->prefixes.prefixes_val[1].dfs_path_val, "/b/c"));
	CU_ASSERT_EQUAL(o[9].name_argop_u.readdir.cookie,
	    0x1122334455667788ULL);
	CU_ASSERT_EQUAL(o[10].name_argop_u.commit.size, 1ULL << 40);
	CU_ASSERT_EQUAL(o[11].op, OP_REMOVE);
	xdr_free(XP(xdr_name_compound_args), &out);
}

/* Fills res[] with one result of each shape; returns the count. */
static u_int
name_res_ops(name_resop *res, dfs_server *srv, dfs_dirent *ents,
    dfs_loc *loc)
{
	u_int	n = 0;

	memset(res, 0, 12 * sizeof(*res));
	srv[0] = (dfs_server){ 1, DFS_SRV_FILE, "10.0.0.1", 2049, TRUE };
	srv[1] = (dfs_server){ 2, DFS_SRV_LOCK, "::1", 7, FALSE };
	ents[0] = (dfs_dirent){ mkname("a"), 5, DFS_FTYPE_REG, 1 };
	ents[1] = (dfs_dirent){ mkname("dir"), 6, DFS_FTYPE_DIR, 2 };
	ents[2] = (dfs_dirent){ mkname("\xc3\xa9"), 7, DFS_FTYPE_REG, 3 };
	loc->fh = mkfh();
	loc->type = DFS_FTYPE_REG;
	loc->servers.servers_len = 1;
	loc->servers.servers_val = srv;

	res[n++].op = OP_PUTROOTFH;
	res[n].op = OP_GETFH;
	res[n++].name_resop_u.getfh.getfh_res_u.fh = mkfh();
	res[n].op = OP_GETATTR;
	res[n++].name_resop_u.getattr.attr_res_u.attr = mkattr(1);
	res[n].op = OP_CREATE;
	res[n].name_resop_u.create.create_res_u.ok.attr = mkattr(2);
	res[n].name_resop_u.create.create_res_u.ok.created = TRUE;
	res[n].name_resop_u.create.create_res_u.ok.servers.servers_len = 2;
	res[n++].name_resop_u.create.create_res_u.ok.servers.servers_val =
	    srv;
	res[n].op = OP_READDIR;
	res[n].name_resop_u.readdir.readdir_res_u.ok.entries.entries_len = 3;
	res[n].name_resop_u.readdir.readdir_res_u.ok.entries.entries_val =
	    ents;
	res[n++].name_resop_u.readdir.readdir_res_u.ok.eof = TRUE;
	res[n].op = OP_REGISTER;
	res[n].name_resop_u.reg.register_res_u.ok.id = 3;
	res[n].name_resop_u.reg.register_res_u.ok.instance = ~0ULL;
	res[n++].name_resop_u.reg.register_res_u.ok.heartbeat_ms = 2000;
	res[n].op = OP_GETPATH;
	res[n++].name_resop_u.getpath.path_res_u.path = mkpath("/a/b");
	res[n].op = OP_REMOVE;
	res[n++].name_resop_u.remove.remove_res_u.removed = *loc;
	res[n].op = OP_RENAME;
	res[n].name_resop_u.rename.rename_res_u.replaced.replaced_len = 1;
	res[n++].name_resop_u.rename.rename_res_u.replaced.replaced_val =
	    loc;
	res[n].op = OP_SERVERS;
	res[n].name_resop_u.servers.servers_res_u.servers.servers_len = 2;
	res[n++].name_resop_u.servers.servers_res_u.servers.servers_val =
	    srv;
	/* a failed op: the arm is void whatever the union holds */
	res[n].op = OP_GETATTR;
	res[n].name_resop_u.getattr.status = DFS_ERR_NOENT;
	res[n++].name_resop_u.getattr.attr_res_u.attr = mkattr(3);
	return n;
}

static void
test_xdr__name_res(void)
{
	name_compound_res	 in, out;
	name_resop		 res[12], *r;
	dfs_server		 srv[2];
	dfs_dirent		 ents[3];
	dfs_loc			 loc;
	readdir_ok		*rd;

	in.status = DFS_ERR_NOENT;
	in.res.res_val = res;
	in.res.res_len = name_res_ops(res, srv, ents, &loc);
	CU_ASSERT_FATAL(roundtrip(XP(xdr_name_compound_res), &in, &out,
	    sizeof(out)) > 0);
	CU_ASSERT_EQUAL(out.status, DFS_ERR_NOENT);
	CU_ASSERT_EQUAL_FATAL(out.res.res_len, in.res.res_len);
	r = out.res.res_val;
	CU_ASSERT(fh_ok(&r[1].name_resop_u.getfh.getfh_res_u.fh));
	CU_ASSERT_EQUAL(r[2].name_resop_u.getattr.attr_res_u.attr.mtime,
	    -1234567890123456789LL);
	CU_ASSERT_STRING_EQUAL(r[3].name_resop_u.create.create_res_u.ok.
	    servers.servers_val[1].host, "::1");
	rd = &r[4].name_resop_u.readdir.readdir_res_u.ok;
	CU_ASSERT_EQUAL_FATAL(rd->entries.entries_len, 3);
	CU_ASSERT(bytes_eq(rd->entries.entries_val[1].name.dfs_name_len,
	    rd->entries.entries_val[1].name.dfs_name_val, "dir"));
	CU_ASSERT_EQUAL(rd->eof, TRUE);
	CU_ASSERT_EQUAL(r[5].name_resop_u.reg.register_res_u.ok.instance,
	    ~0ULL);
	CU_ASSERT_EQUAL(r[8].name_resop_u.rename.rename_res_u.replaced.
	    replaced_len, 1);
	CU_ASSERT_EQUAL(r[10].name_resop_u.getattr.status, DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(r[10].name_resop_u.getattr.attr_res_u.attr.fileid,
	    0);
	xdr_free(XP(xdr_name_compound_res), &out);
}

static void
test_xdr__lock_args(void)
{
	lock_compound_args	 in, out;
	lock_argop		 ops[4];
	dfs_path		 paths[3] = { mkpath("/a"), mkpath("/b/c"),
	    mkpath("/") };
	lock_args		*la;

	memset(ops, 0, sizeof(ops));
	ops[0].op = LOP_LOCK;
	ops[0].lock_argop_u.lock.paths.paths_len = 3;
	ops[0].lock_argop_u.lock.paths.paths_val = paths;
	ops[0].lock_argop_u.lock.mode = DFS_LOCK_EXCL;
	ops[0].lock_argop_u.lock.lease_ms = 60000;
	ops[1].op = LOP_UNLOCK;
	ops[1].lock_argop_u.unlock = (dfs_lockid){ 1, 2 };
	ops[2].op = LOP_RENEW;
	ops[2].lock_argop_u.renew = (dfs_lockid){ ~0ULL, 0 };
	ops[3].op = LOP_TEST;
	ops[3].lock_argop_u.test.path = mkpath("/b/c");
	ops[3].lock_argop_u.test.id = (dfs_lockid){ 3, 4 };
	ops[3].lock_argop_u.test.mode = DFS_LOCK_SHARED;
	in.ops.ops_len = 4;
	in.ops.ops_val = ops;
	CU_ASSERT_FATAL(roundtrip(XP(xdr_lock_compound_args), &in, &out,
	    sizeof(out)) > 0);
	CU_ASSERT_EQUAL_FATAL(out.ops.ops_len, 4);
	la = &out.ops.ops_val[0].lock_argop_u.lock;
	CU_ASSERT_EQUAL_FATAL(la->paths.paths_len, 3);
	CU_ASSERT(bytes_eq(la->paths.paths_val[1].dfs_path_len,
	    la->paths.paths_val[1].dfs_path_val, "/b/c"));
	CU_ASSERT_EQUAL(la->mode, DFS_LOCK_EXCL);
	CU_ASSERT_EQUAL(out.ops.ops_val[2].lock_argop_u.renew.instance,
	    ~0ULL);
	CU_ASSERT_EQUAL(out.ops.ops_val[3].lock_argop_u.test.id.nonce, 4);
	xdr_free(XP(xdr_lock_compound_args), &out);
}

static void
test_xdr__lock_res(void)
{
	lock_compound_res	 in, out;
	lock_resop		 res[5];
	lock_denied		*d;

	memset(res, 0, sizeof(res));
	res[0].op = LOP_LOCK;
	res[0].lock_resop_u.lock.lock_res_u.ok.id = (dfs_lockid){ 5, 6 };
	res[0].lock_resop_u.lock.lock_res_u.ok.lease_ms = 1000;
	res[1].op = LOP_RENEW;
	res[1].lock_resop_u.renew.renew_res_u.lease_ms = 2000;
	res[2].op = LOP_UNLOCK;
	res[3].op = LOP_TEST;
	res[3].lock_resop_u.test.status = DFS_ERR_LOCKED;
	res[3].lock_resop_u.test.test_res_u.denied.path = mkpath("/t");
	res[3].lock_resop_u.test.test_res_u.denied.mode = DFS_LOCK_SHARED;
	res[4].op = LOP_LOCK;
	res[4].lock_resop_u.lock.status = DFS_ERR_LOCKED;
	d = &res[4].lock_resop_u.lock.lock_res_u.denied;
	d->path = mkpath("/held/here");
	d->mode = DFS_LOCK_EXCL;
	d->remaining_ms = 12345;
	in.status = DFS_ERR_LOCKED;
	in.res.res_len = 5;
	in.res.res_val = res;
	CU_ASSERT_FATAL(roundtrip(XP(xdr_lock_compound_res), &in, &out,
	    sizeof(out)) > 0);
	CU_ASSERT_EQUAL(out.status, DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL_FATAL(out.res.res_len, 5);
	CU_ASSERT_EQUAL(out.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.
	    id.nonce, 6);
	d = &out.res.res_val[4].lock_resop_u.lock.lock_res_u.denied;
	CU_ASSERT(bytes_eq(d->path.dfs_path_len, d->path.dfs_path_val,
	    "/held/here"));
	CU_ASSERT_EQUAL(d->mode, DFS_LOCK_EXCL);
	CU_ASSERT_EQUAL(d->remaining_ms, 12345);
	d = &out.res.res_val[3].lock_resop_u.test.test_res_u.denied;
	CU_ASSERT(bytes_eq(d->path.dfs_path_len, d->path.dfs_path_val,
	    "/t"));
	xdr_free(XP(xdr_lock_compound_res), &out);
}

/* Fills a buffer with a pattern. */
static void
fill(char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (char)((i * 7 + (i >> 10)) & 0xff);
}

/* Fills ops[] (6) with a file COMPOUND writing `len` bytes of data. */
static u_int
file_args_ops(file_argop *ops, char *data, u_int len)
{
	memset(ops, 0, 6 * sizeof(*ops));
	ops[0].op = FOP_STAGE;
	ops[0].file_argop_u.stage = (stage_args){ mkfh(), 3, 100, { 0 } };
	ops[1].op = FOP_WRITE;
	ops[1].file_argop_u.write.fh = mkfh();
	ops[1].file_argop_u.write.offset = 1ULL << 33;
	ops[1].file_argop_u.write.data.data_len = len;
	ops[1].file_argop_u.write.data.data_val = data;
	ops[2].op = FOP_COMMIT;
	ops[2].file_argop_u.commit.fh = mkfh();
	ops[2].file_argop_u.commit.lock = (dfs_lockid){ 8, 9 };
	ops[2].file_argop_u.commit.base = DFS_VERS_ANY;
	ops[3].op = FOP_READ;
	ops[3].file_argop_u.read = (read_args){ mkfh(), 4, 0, DFS_MAXDATA };
	ops[4].op = FOP_GETATTR;
	ops[4].file_argop_u.getattr = mkfh();
	ops[5].op = FOP_ABORT;
	ops[5].file_argop_u.abort = (stageref){ mkfh(), 77 };
	return 6;
}

static void
test_xdr__file_args(void)
{
	file_compound_args	 in, out;
	file_argop		 ops[6];
	write_args		*w;
	char			*data;

	data = malloc(ONE_MIB);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	fill(data, ONE_MIB);
	in.ops.ops_val = ops;
	in.ops.ops_len = file_args_ops(ops, data, ONE_MIB);
	CU_ASSERT(roundtrip(XP(xdr_file_compound_args), &in, &out,
	    sizeof(out)) > ONE_MIB);
	CU_ASSERT_EQUAL_FATAL(out.ops.ops_len, 6);
	w = &out.ops.ops_val[1].file_argop_u.write;
	CU_ASSERT(fh_ok(&w->fh));
	CU_ASSERT_EQUAL(w->offset, 1ULL << 33);
	CU_ASSERT_EQUAL_FATAL(w->data.data_len, ONE_MIB);
	CU_ASSERT_EQUAL(memcmp(w->data.data_val, data, ONE_MIB), 0);
	CU_ASSERT_EQUAL(out.ops.ops_val[5].file_argop_u.abort.stage, 77);
	xdr_free(XP(xdr_file_compound_args), &out);
	free(data);
}

static void
test_xdr__file_res(void)
{
	file_compound_res	 in, out;
	file_resop		 res[5];
	read_ok			*rd;
	char			*data;

	data = malloc(ONE_MIB);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	fill(data, ONE_MIB);
	memset(res, 0, sizeof(res));
	res[0].op = FOP_READ;
	res[0].file_resop_u.read.read_res_u.ok.eof = TRUE;
	res[0].file_resop_u.read.read_res_u.ok.data.data_len = ONE_MIB;
	res[0].file_resop_u.read.read_res_u.ok.data.data_val = data;
	res[1].op = FOP_STAGE;
	res[1].file_resop_u.stage.stage_res_u.stage = 0xabcdef;
	res[2].op = FOP_WRITE;
	res[2].file_resop_u.write.write_res_u.count = ONE_MIB;
	res[3].op = FOP_COMMIT;
	res[3].file_resop_u.commit.fcommit_res_u.attr = mkattr(12);
	res[4].op = FOP_GETATTR;
	res[4].file_resop_u.getattr.status = DFS_ERR_STALE;
	in.status = DFS_ERR_STALE;
	in.res.res_len = 5;
	in.res.res_val = res;
	CU_ASSERT(roundtrip(XP(xdr_file_compound_res), &in, &out,
	    sizeof(out)) > ONE_MIB);
	CU_ASSERT_EQUAL_FATAL(out.res.res_len, 5);
	rd = &out.res.res_val[0].file_resop_u.read.read_res_u.ok;
	CU_ASSERT_EQUAL(rd->eof, TRUE);
	CU_ASSERT_EQUAL_FATAL(rd->data.data_len, ONE_MIB);
	CU_ASSERT_EQUAL(memcmp(rd->data.data_val, data, ONE_MIB), 0);
	CU_ASSERT_EQUAL(out.res.res_val[3].file_resop_u.commit.
	    fcommit_res_u.attr.fileid, 12);
	CU_ASSERT_EQUAL(out.res.res_val[4].file_resop_u.getattr.status,
	    DFS_ERR_STALE);
	xdr_free(XP(xdr_file_compound_res), &out);
	free(data);
}

/* --- limits ----------------------------------------------------------- */

/*
 * Writes a counted opaque of `len` bytes by hand (the bound is not
 * checked this way) into buf1.  Returns the encoded length.
 */
static u_int
raw_opaque(u_int len)
{
	XDR	x;
	u_int	pos;

	memset(buf2, 'x', len);
	xdrmem_create(&x, buf1, BUFSZ, XDR_ENCODE);
	CU_ASSERT_FATAL(xdr_u_int(&x, &len) && xdr_opaque(&x, buf2, len));
	pos = xdr_getpos(&x);
	xdr_destroy(&x);
	return pos;
}

struct opaque_limit {
	const char	*what;
	xdrproc_t	 proc;
	u_int		 max;
};

/* Each opaque type encodes and decodes at its bound and not above. */
static void
test_xdr__opaque_limits(void)
{
	const struct opaque_limit	 cases[] = {
		{ "dfs_name", XP(xdr_dfs_name), DFS_MAXNAMELEN },
		{ "dfs_fh", XP(xdr_dfs_fh), DFS_FHSIZE },
		{ "dfs_path", XP(xdr_dfs_path), DFS_MAXPATHLEN },
	};
	struct { u_int len; char *val; } in, out;
	size_t				 i;
	u_int				 len, n;

	for (i = 0; i < NELEM(cases); i++) {
		for (len = cases[i].max; len <= cases[i].max + 1; len++) {
			n = raw_opaque(len);
			memset(&out, 0, sizeof(out));
			CU_ASSERT_EQUAL(decode(cases[i].proc, &out, buf1, n),
			    len == cases[i].max);
			xdr_free(cases[i].proc, &out);
			in.len = len;
			in.val = buf2;
			CU_ASSERT_EQUAL(encode(cases[i].proc, &in, buf1,
			    BUFSZ) > 0, len == cases[i].max);
		}
	}
}

/* dfs_host is a string<DFS_MAXHOSTLEN>. */
static void
test_xdr__host_limit(void)
{
	char		host[DFS_MAXHOSTLEN + 2];
	dfs_host	h = host, out;
	int		len;

	memset(host, 'h', DFS_MAXHOSTLEN);
	host[DFS_MAXHOSTLEN] = '\0';
	len = encode(XP(xdr_dfs_host), &h, buf1, BUFSZ);
	CU_ASSERT(len > 0);
	out = NULL;
	CU_ASSERT(decode(XP(xdr_dfs_host), &out, buf1, (u_int)len));
	CU_ASSERT(out != NULL && strcmp(out, host) == 0);
	xdr_free(XP(xdr_dfs_host), &out);
	host[DFS_MAXHOSTLEN] = 'h';
	host[DFS_MAXHOSTLEN + 1] = '\0';
	CU_ASSERT_EQUAL(encode(XP(xdr_dfs_host), &h, buf1, BUFSZ), -1);
	len = (int)raw_opaque(DFS_MAXHOSTLEN + 1);
	out = NULL;
	CU_ASSERT_FALSE(decode(XP(xdr_dfs_host), &out, buf1, (u_int)len));
	xdr_free(XP(xdr_dfs_host), &out);
}

/* One READ or WRITE carries at most DFS_MAXDATA bytes. */
static void
test_xdr__data_limit(void)
{
	write_args	in;
	char		*data;

	data = calloc(1, DFS_MAXDATA + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memset(&in, 0, sizeof(in));
	in.fh = mkfh();
	in.data.data_val = data;
	in.data.data_len = DFS_MAXDATA;
	CU_ASSERT(encode(XP(xdr_write_args), &in, buf1, BUFSZ) >
	    DFS_MAXDATA);
	in.data.data_len = DFS_MAXDATA + 1;
	CU_ASSERT_EQUAL(encode(XP(xdr_write_args), &in, buf1, BUFSZ), -1);
	free(data);
}

/*
 * Writes a name COMPOUND of `n` PUTROOTFH ops by hand into buf1, with
 * a leading status word when `res`.  Returns the encoded length.
 */
static u_int
raw_compound(u_int n, int res)
{
	XDR	x;
	u_int	i, pos, op = OP_PUTROOTFH, st = DFS_OK;
	bool_t	ok = TRUE;

	xdrmem_create(&x, buf1, BUFSZ, XDR_ENCODE);
	if (res)
		ok = xdr_u_int(&x, &st);
	ok = ok && xdr_u_int(&x, &n);
	for (i = 0; i < n && ok; i++) {
		ok = xdr_u_int(&x, &op);
		if (res)
			ok = ok && xdr_u_int(&x, &st);
	}
	CU_ASSERT_FATAL(ok);
	pos = xdr_getpos(&x);
	xdr_destroy(&x);
	return pos;
}

/* DFS_XDR_MAXOPS ops decode (the server answers RESOURCE above
 * DFS_MAXOPS); one more fails to decode or encode. */
static void
test_xdr__maxops(void)
{
	name_compound_args	 args;
	name_compound_res	 res;
	name_argop		*ops;
	u_int			 n, len;

	for (n = DFS_XDR_MAXOPS; n <= DFS_XDR_MAXOPS + 1; n++) {
		len = raw_compound(n, 0);
		memset(&args, 0, sizeof(args));
		CU_ASSERT_EQUAL(decode(XP(xdr_name_compound_args), &args,
		    buf1, len), n == DFS_XDR_MAXOPS);
		xdr_free(XP(xdr_name_compound_args), &args);
		len = raw_compound(n, 1);
		memset(&res, 0, sizeof(res));
		CU_ASSERT_EQUAL(decode(XP(xdr_name_compound_res), &res,
		    buf1, len), n == DFS_XDR_MAXOPS);
		xdr_free(XP(xdr_name_compound_res), &res);
	}
	ops = calloc(DFS_XDR_MAXOPS + 1, sizeof(*ops));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	for (n = 0; n <= DFS_XDR_MAXOPS; n++)
		ops[n].op = OP_GETATTR;
	args.ops.ops_val = ops;
	args.ops.ops_len = DFS_XDR_MAXOPS;
	CU_ASSERT(encode(XP(xdr_name_compound_args), &args, buf1, BUFSZ) >
	    0);
	args.ops.ops_len = DFS_XDR_MAXOPS + 1;
	CU_ASSERT_EQUAL(encode(XP(xdr_name_compound_args), &args, buf1,
	    BUFSZ), -1);
	free(ops);
}

/*
 * Decodes every proper prefix of the len bytes in buf1 into a zeroed
 * object of objsz bytes: each must fail, and xdr_free must release what
 * the partial decode allocated.  The full length must succeed.
 */
static void
check_prefixes(const char *what, xdrproc_t proc, u_int len, size_t objsz)
{
	void	*obj;
	u_int	 cut;
	int	 bad = 0;

	obj = malloc(objsz);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	for (cut = 0; cut <= len; cut++) {
		memset(obj, 0, objsz);
		if (decode(proc, obj, buf1, cut) != (cut == len)) {
			if (bad++ == 0)
				fprintf(stderr, "\n%s: prefix %u of %u\n",
				    what, cut, len);
		}
		xdr_free(proc, obj);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(obj);
}

static void
test_xdr__truncated(void)
{
	name_compound_args	 na;
	name_compound_res	 nr;
	lock_compound_args	 la;
	lock_compound_res	 lr;
	file_compound_args	 fa;
	name_argop		 nops[12];
	name_resop		 nres[12];
	lock_argop		 lops[2];
	lock_resop		 lres[1];
	file_argop		 fops[6];
	dfs_path		 prefixes[3], paths[2] = { mkpath("/x"),
	    mkpath("/yy") };
	dfs_server		 srv[2];
	dfs_dirent		 ents[3];
	dfs_loc			 loc;
	char			 data[37];
	int			 len;

	na.ops.ops_val = nops;
	na.ops.ops_len = name_args_ops(nops, prefixes);
	len = encode(XP(xdr_name_compound_args), &na, buf1, BUFSZ);
	CU_ASSERT_FATAL(len > 0);
	check_prefixes("name args", XP(xdr_name_compound_args), (u_int)len,
	    sizeof(na));

	nr.status = DFS_OK;
	nr.res.res_val = nres;
	nr.res.res_len = name_res_ops(nres, srv, ents, &loc);
	len = encode(XP(xdr_name_compound_res), &nr, buf1, BUFSZ);
	CU_ASSERT_FATAL(len > 0);
	check_prefixes("name res", XP(xdr_name_compound_res), (u_int)len,
	    sizeof(nr));

	memset(lops, 0, sizeof(lops));
	lops[0].op = LOP_LOCK;
	lops[0].lock_argop_u.lock.paths.paths_len = 2;
	lops[0].lock_argop_u.lock.paths.paths_val = paths;
	lops[1].op = LOP_TEST;
	lops[1].lock_argop_u.test.path = mkpath("/x");
	la.ops.ops_len = 2;
	la.ops.ops_val = lops;
	len = encode(XP(xdr_lock_compound_args), &la, buf1, BUFSZ);
	CU_ASSERT_FATAL(len > 0);
	check_prefixes("lock args", XP(xdr_lock_compound_args), (u_int)len,
	    sizeof(la));

	memset(lres, 0, sizeof(lres));
	lres[0].op = LOP_LOCK;
	lres[0].lock_resop_u.lock.status = DFS_ERR_LOCKED;
	lres[0].lock_resop_u.lock.lock_res_u.denied.path = mkpath("/held");
	lr.status = DFS_ERR_LOCKED;
	lr.res.res_len = 1;
	lr.res.res_val = lres;
	len = encode(XP(xdr_lock_compound_res), &lr, buf1, BUFSZ);
	CU_ASSERT_FATAL(len > 0);
	check_prefixes("lock res", XP(xdr_lock_compound_res), (u_int)len,
	    sizeof(lr));

	fill(data, sizeof(data));
	fa.ops.ops_val = fops;
	fa.ops.ops_len = file_args_ops(fops, data, sizeof(data));
	len = encode(XP(xdr_file_compound_args), &fa, buf1, BUFSZ);
	CU_ASSERT_FATAL(len > 0);
	check_prefixes("file args", XP(xdr_file_compound_args), (u_int)len,
	    sizeof(fa));
}

/*
 * An op code the program does not know decodes as the default arm (void
 * for args, a bare dfs_stat for results), so the server can answer
 * OP_ILLEGAL instead of GARBAGE_ARGS; and it re-encodes the same way.
 */
static void
test_xdr__unknown_op(void)
{
	name_compound_args	 args;
	name_compound_res	 res;
	u_int			 words[] = { 3, 999, OP_GETATTR, OP_LOOKUP,
	    1, 0x61000000 };
	u_int			 rwords[] = { DFS_ERR_OP_ILLEGAL, 1, 4242,
	    DFS_ERR_OP_ILLEGAL };
	XDR			 x;
	u_int			 i, len;

	xdrmem_create(&x, buf1, BUFSZ, XDR_ENCODE);
	for (i = 0; i < NELEM(words); i++)
		CU_ASSERT(xdr_u_int(&x, &words[i]));
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	memset(&args, 0, sizeof(args));
	CU_ASSERT_FATAL(decode(XP(xdr_name_compound_args), &args, buf1,
	    len));
	CU_ASSERT_EQUAL_FATAL(args.ops.ops_len, 3);
	CU_ASSERT_EQUAL(args.ops.ops_val[0].op, 999);
	CU_ASSERT_EQUAL(args.ops.ops_val[1].op, OP_GETATTR);
	CU_ASSERT(bytes_eq(args.ops.ops_val[2].name_argop_u.lookup.
	    dfs_path_len, args.ops.ops_val[2].name_argop_u.lookup.
	    dfs_path_val, "a"));
	CU_ASSERT_EQUAL(encode(XP(xdr_name_compound_args), &args, buf2,
	    BUFSZ), (int)len);
	CU_ASSERT_EQUAL(memcmp(buf1, buf2, len), 0);
	xdr_free(XP(xdr_name_compound_args), &args);

	xdrmem_create(&x, buf1, BUFSZ, XDR_ENCODE);
	for (i = 0; i < NELEM(rwords); i++)
		CU_ASSERT(xdr_u_int(&x, &rwords[i]));
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	memset(&res, 0, sizeof(res));
	CU_ASSERT_FATAL(decode(XP(xdr_name_compound_res), &res, buf1, len));
	CU_ASSERT_EQUAL_FATAL(res.res.res_len, 1);
	CU_ASSERT_EQUAL(res.res.res_val[0].op, 4242);
	CU_ASSERT_EQUAL(res.res.res_val[0].name_resop_u.illegal,
	    DFS_ERR_OP_ILLEGAL);
	xdr_free(XP(xdr_name_compound_res), &res);
}

/* The same for the lock and file programs' argops. */
static void
test_xdr__unknown_op_lock_file(void)
{
	lock_compound_args	 la;
	file_compound_args	 fa;
	u_int			 words[] = { 2, 0, 77 };
	XDR			 x;
	u_int			 i, len;

	xdrmem_create(&x, buf1, BUFSZ, XDR_ENCODE);
	for (i = 0; i < NELEM(words); i++)
		CU_ASSERT(xdr_u_int(&x, &words[i]));
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	memset(&la, 0, sizeof(la));
	CU_ASSERT(decode(XP(xdr_lock_compound_args), &la, buf1, len));
	CU_ASSERT_EQUAL(la.ops.ops_len, 2);
	xdr_free(XP(xdr_lock_compound_args), &la);
	memset(&fa, 0, sizeof(fa));
	CU_ASSERT(decode(XP(xdr_file_compound_args), &fa, buf1, len));
	CU_ASSERT_EQUAL(fa.ops.ops_len, 2);
	if (fa.ops.ops_len == 2)
		CU_ASSERT_EQUAL(fa.ops.ops_val[1].op, 77);
	xdr_free(XP(xdr_file_compound_args), &fa);
}

static CU_TestInfo roundtrip_tests[] = {
	{ "attr",		test_xdr__attr },
	{ "name_args",		test_xdr__name_args },
	{ "name_res",		test_xdr__name_res },
	{ "lock_args",		test_xdr__lock_args },
	{ "lock_res",		test_xdr__lock_res },
	{ "file_args",		test_xdr__file_args },
	{ "file_res",		test_xdr__file_res },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo limit_tests[] = {
	{ "opaque_limits",		test_xdr__opaque_limits },
	{ "host_limit",			test_xdr__host_limit },
	{ "data_limit",			test_xdr__data_limit },
	{ "maxops",			test_xdr__maxops },
	{ "truncated",			test_xdr__truncated },
	{ "unknown_op",			test_xdr__unknown_op },
	{ "unknown_op_lock_file",	test_xdr__unknown_op_lock_file },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "xdr_roundtrip", xdr_suite_init, xdr_suite_clean, NULL, NULL,
	    roundtrip_tests },
	{ "xdr_limits", xdr_suite_init, xdr_suite_clean, NULL, NULL,
	    limit_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
