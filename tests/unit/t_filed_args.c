/*
 * t_filed_args.c -- unit tests of dfs-filed's bounded COMPOUND decoder
 * (server/file/fargs.c).
 *
 * Every op is encoded with rpcgen's encoder and decoded with both
 * decoders, which must agree byte for byte when the result is encoded
 * again; COMPOUNDs whose file data pass DFS_MAXDATA in all must fail to
 * decode, at the length that passes the bound, before its data is read.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "../../server/file/filed.h"
#include "log.h"

#define ENC_CAP	(3 * DFS_MAXDATA)

static unsigned char	fhraw[FH_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
set_fh(dfs_fh *fh)
{
	fh->dfs_fh_len = FH_LEN;
	fh->dfs_fh_val = (char *)fhraw;
}

/* Fills op `a` of code `op`, with `n` bytes of data where it has data
 * (`data` at least n bytes). */
static void
fill(file_argop *a, file_opnum op, char *data, u_int n)
{
	memset(a, 0, sizeof(*a));
	a->op = op;
	switch (op) {
	case FOP_READ:
		set_fh(&a->file_argop_u.read.fh);
		a->file_argop_u.read.vers = 3;
		a->file_argop_u.read.count = 77;
		break;
	case FOP_STAGE:
		set_fh(&a->file_argop_u.stage.fh);
		a->file_argop_u.stage.keep = 9;
		break;
	case FOP_WRITE:
		set_fh(&a->file_argop_u.write.fh);
		a->file_argop_u.write.offset = 1ULL << 40;
		a->file_argop_u.write.data.data_len = n;
		a->file_argop_u.write.data.data_val = data;
		break;
	case FOP_COMMIT:
		set_fh(&a->file_argop_u.commit.fh);
		a->file_argop_u.commit.base = 12;
		break;
	case FOP_GETATTR:
		set_fh(&a->file_argop_u.getattr);
		break;
	case FOP_REMOVE:
		set_fh(&a->file_argop_u.remove);
		break;
	case FOP_ABORT:
		set_fh(&a->file_argop_u.abort.fh);
		a->file_argop_u.abort.stage = 5;
		break;
	case FOP_SETSIZE:
		set_fh(&a->file_argop_u.setsize.fh);
		a->file_argop_u.setsize.size = 99;
		break;
	default:
		break;
	}
}

/* Encodes args into buf.  Returns the length. */
static u_int
encode(file_compound_args *args, char *buf)
{
	XDR	x;
	u_int	n;

	xdrmem_create(&x, buf, ENC_CAP, XDR_ENCODE);
	CU_ASSERT_FATAL(xdr_file_compound_args(&x, args));
	n = xdr_getpos(&x);
	xdr_destroy(&x);
	return n;
}

/* Decodes buf[0..len) with `proc`.  Returns whether it decoded; *pos is
 * where the decoder stopped. */
static int
decode(xdrproc_t proc, char *buf, u_int len, file_compound_args *out,
    u_int *pos)
{
	XDR	x;
	int	ok;

	memset(out, 0, sizeof(*out));
	xdrmem_create(&x, buf, len, XDR_DECODE);
	ok = proc(&x, out);
	*pos = xdr_getpos(&x);
	xdr_destroy(&x);
	return ok;
}

/* Every op code (and one unknown) decodes as rpcgen decodes it. */
static void
test_filed_args__agrees(void)
{
	static const file_opnum	ops[] = { FOP_READ, FOP_STAGE, FOP_WRITE,
	    FOP_COMMIT, FOP_GETATTR, FOP_REMOVE, FOP_ABORT, FOP_STATS,
	    FOP_SETSIZE, FOP_PUT, (file_opnum)99 };
	file_argop		a[sizeof(ops) / sizeof(ops[0])];
	file_compound_args	args, d1, d2;
	put_entry		pe[2];
	char			data[100], *b0, *b1, *b2;
	u_int			i, n, n1, n2, pos;

	b0 = malloc(ENC_CAP), b1 = malloc(ENC_CAP), b2 = malloc(ENC_CAP);
	CU_ASSERT_FATAL(b0 != NULL && b1 != NULL && b2 != NULL);
	memset(data, 'x', sizeof(data));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		fill(&a[i], ops[i], data, 33);
	memset(pe, 0, sizeof(pe));
	for (i = 0; i < 2; i++) {
		set_fh(&pe[i].fh);
		pe[i].base = i;
		pe[i].data.data_len = 10 + i;
		pe[i].data.data_val = data;
	}
	a[9].file_argop_u.put.files.files_len = 2;
	a[9].file_argop_u.put.files.files_val = pe;
	args.ops.ops_len = sizeof(ops) / sizeof(ops[0]);
	args.ops.ops_val = a;
	n = encode(&args, b0);
	CU_ASSERT_FATAL(decode((xdrproc_t)xdr_file_compound_args, b0, n, &d1,
	    &pos));
	CU_ASSERT_FATAL(decode((xdrproc_t)xdr_file_compound_args_bounded, b0,
	    n, &d2, &pos));
	CU_ASSERT_EQUAL(pos, n);
	n1 = encode(&d1, b1);
	n2 = encode(&d2, b2);
	CU_ASSERT_EQUAL(n1, n);
	CU_ASSERT_EQUAL(n2, n);
	CU_ASSERT(memcmp(b1, b0, n) == 0 && memcmp(b2, b0, n) == 0);
	xdr_free((xdrproc_t)xdr_file_compound_args, &d1);
	xdr_free((xdrproc_t)xdr_file_compound_args_bounded, &d2);
	free(b0), free(b1), free(b2);
}

/*
 * A COMPOUND of `nw` WRITEs of `wlen` bytes and a PUT of one file of
 * `plen` bytes (none when 0): does the bounded decoder take it?  When
 * not, it must have stopped right after the length that passed the
 * bound, its data unread.
 */
static int
takes(u_int nw, u_int wlen, u_int plen)
{
	file_argop		a[4];
	file_compound_args	args, d;
	put_entry		pe;
	char			*data, *buf;
	u_int			i, n, pos;
	int			ok;

	CU_ASSERT_FATAL(nw + 1 <= 4);
	data = calloc(1, DFS_MAXDATA);
	buf = malloc(ENC_CAP);
	CU_ASSERT_FATAL(data != NULL && buf != NULL);
	for (i = 0; i < nw; i++)
		fill(&a[i], FOP_WRITE, data, wlen);
	memset(&pe, 0, sizeof(pe));
	set_fh(&pe.fh);
	pe.data.data_len = plen;
	pe.data.data_val = data;
	fill(&a[nw], FOP_PUT, data, 0);
	a[nw].file_argop_u.put.files.files_len = 1;
	a[nw].file_argop_u.put.files.files_val = &pe;
	args.ops.ops_len = nw + (plen > 0);
	args.ops.ops_val = a;
	n = encode(&args, buf);
	ok = decode((xdrproc_t)xdr_file_compound_args_bounded, buf, n, &d,
	    &pos);
	if (!ok)	/* the data that passed the bound is the last thing */
		CU_ASSERT(pos == n - (plen > 0 ? plen : wlen) -
		    (4 - (plen > 0 ? plen : wlen) % 4) % 4);
	xdr_free((xdrproc_t)xdr_file_compound_args_bounded, &d);
	free(data);
	free(buf);
	return ok;
}

/* Up to DFS_MAXDATA in all decodes; one byte more in any op does not. */
static void
test_filed_args__bound(void)
{
	CU_ASSERT(takes(1, DFS_MAXDATA, 0));
	CU_ASSERT(takes(2, DFS_MAXDATA / 2, 0));
	CU_ASSERT(takes(1, DFS_MAXDATA - 100, 100));
	CU_ASSERT(!takes(2, DFS_MAXDATA, 0));
	CU_ASSERT(!takes(3, DFS_MAXDATA / 2, 0));
	CU_ASSERT(!takes(2, DFS_MAXDATA / 2 + 1, 0));
	CU_ASSERT(!takes(1, DFS_MAXDATA - 100, 101));
	CU_ASSERT(!takes(1, DFS_MAXDATA, 1));
}

static CU_TestInfo args_tests[] = {
	{ "agrees", test_filed_args__agrees },
	{ "bound", test_filed_args__bound },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "filed_args", NULL, NULL, NULL, NULL, args_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	log_init("t_filed_args", 1);
	return cutest_run(suites);
}
