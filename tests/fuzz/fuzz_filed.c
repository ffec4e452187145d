/*
 * fuzz_filed.c -- libFuzzer target of the FILE program: one input is
 * the XDR body of a FILE COMPOUND call (fuzz.h).
 *
 * Every input runs on a fresh state directory: a server id and one file
 * (handle FH_A, version 1, "hello, world\n"); FH_B has no version.  The
 * name server is 127.0.0.1 port 1, where nothing listens, as in
 * t_filed_ops: COMMIT, PUT and REMOVE run up to their call to it and
 * end DELAY, fast and without leaving the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../server/file/filed.h"

#define NOWHERE		"127.0.0.1:1"
#define CONTENT		"hello, world\n"
#define INSTANCE	0x77
#define SECRET		5

static struct {
	char			base[FUZZ_PATHLEN];
	char			dir[FUZZ_PATHLEN + 8];
	struct filed_ctx	fc;
	unsigned char		raw[2][FH_LEN];
	dfs_fh			fh[2];		/* FH_A, FH_B */
	char			hex[2][FH_HEXLEN + 1];
} st;

#define FH_A	(st.fh[0])
#define FH_B	(st.fh[1])

/* Writes `s` to `path`.  Aborts on failure. */
static void
put_file(const char *path, const char *s)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL || fputs(s, fp) == EOF || fclose(fp) != 0) {
		fprintf(stderr, "fuzz_filed: cannot write '%s'\n", path);
		abort();
	}
}

/* Opens a fresh state directory with FH_A's version; aborts on
 * failure. */
static void
state_open(void)
{
	char	path[STORE_PATHLEN];

	fuzz_fresh_dir(st.dir);
	fuzz_reset_random();
	if (filed_ctx_init(&st.fc, st.dir, NOWHERE) != 0 ||
	    store_init(&st.fc) != 0 || store_mkdata(&st.fc, st.hex[0]) != 0 ||
	    store_data_path(&st.fc, st.hex[0], 1, path, sizeof(path)) != 0) {
		fprintf(stderr, "fuzz_filed: cannot set up '%s'\n", st.dir);
		abort();
	}
	put_file(path, CONTENT);
	snprintf(path, sizeof(path), "%s/server.id", st.dir);
	put_file(path, "7\n");
}

static void
state_close(void)
{
	filed_ctx_release(&st.fc);
}

/* Makes FH_A and FH_B. */
static void
handles_init(void)
{
	struct fh	f = { INSTANCE, 42 };
	int		i;

	for (i = 0; i < 2; i++, f.fileid++) {
		fh_encode(&f, SECRET, st.raw[i]);
		st.fh[i].dfs_fh_len = FH_LEN;
		st.fh[i].dfs_fh_val = (char *)st.raw[i];
		if (store_fh(&st.fh[i], st.hex[i]) != 0)
			abort();
	}
}

/* --- seeds: what libdfs sends for a download, an upload, a remove --- */

static void
seed(const char *dir, const char *name, file_argop *ops, u_int n)
{
	file_compound_args	args;

	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	fuzz_write_seed(dir, name, (xdrproc_t)xdr_file_compound_args, &args);
}

static file_argop *
arg(file_argop *a, file_opnum op)
{
	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

static void
arg_write(file_argop *a, dfs_fh fh, uint64_t off, const char *data)
{
	write_args	*wa = &arg(a, FOP_WRITE)->file_argop_u.write;

	wa->fh = fh;
	wa->offset = off;
	wa->data.data_len = (u_int)strlen(data);
	wa->data.data_val = (char *)data;
}

static void
seeds_read(const char *dir)
{
	file_argop	ops[4];
	read_args	*ra;

	ra = &arg(&ops[0], FOP_READ)->file_argop_u.read;
	ra->fh = FH_A;
	ra->vers = 1;
	ra->count = 65536;
	arg(&ops[1], FOP_GETATTR)->file_argop_u.getattr = FH_A;
	seed(dir, "read-getattr", ops, 2);
	ra->offset = 7;
	ra->count = 3;
	ops[1] = ops[0];
	ops[1].file_argop_u.read.offset = 100;
	seed(dir, "read-two", ops, 2);
	arg(&ops[0], FOP_GETATTR)->file_argop_u.getattr = FH_B;
	arg(&ops[1], FOP_STATS);
	seed(dir, "getattr-stats", ops, 2);
	arg(&ops[0], (file_opnum)42);
	seed(dir, "illegal", ops, 1);
}

static void
seeds_upload(const char *dir)
{
	file_argop	ops[6];
	stage_args	*sa;

	sa = &arg(&ops[0], FOP_STAGE)->file_argop_u.stage;
	sa->fh = FH_A;
	sa->vers = 1;
	sa->keep = 5;
	arg_write(&ops[1], FH_A, 5, ", dfs\n");
	arg(&ops[2], FOP_SETSIZE)->file_argop_u.setsize.fh = FH_A;
	ops[2].file_argop_u.setsize.size = 9;
	arg(&ops[3], FOP_COMMIT)->file_argop_u.commit.fh = FH_A;
	ops[3].file_argop_u.commit.base = 1;
	seed(dir, "stage-write-setsize-commit", ops, 4);
	ops[0].file_argop_u.stage.fh = FH_B;
	ops[0].file_argop_u.stage.vers = 0;
	ops[0].file_argop_u.stage.keep = 0;
	arg_write(&ops[1], FH_B, 0, "new file\n");
	arg_write(&ops[2], FH_B, 4096, "sparse\n");
	arg(&ops[3], FOP_ABORT)->file_argop_u.abort.fh = FH_B;
	seed(dir, "stage-write-abort", ops, 4);
}

static void
seeds_put(const char *dir)
{
	static char	data[] = "small file\n";
	put_entry	pe[2];
	file_argop	ops[2];
	put_args	*pa;

	memset(pe, 0, sizeof(pe));
	pe[0].fh = FH_B;
	pe[0].data.data_len = sizeof(data) - 1;
	pe[0].data.data_val = data;
	pe[1] = pe[0];
	pe[1].fh = FH_A;
	pe[1].base = DFS_VERS_ANY;
	pa = &arg(&ops[0], FOP_PUT)->file_argop_u.put;
	pa->files.files_len = 2;
	pa->files.files_val = pe;
	seed(dir, "put-two", ops, 1);
	arg(&ops[0], FOP_REMOVE)->file_argop_u.remove = FH_A;
	seed(dir, "remove", ops, 1);
}

/* DFS_FUZZ_SEEDS mode: writes the seed corpus and exits. */
static void
write_seeds(const char *dir)
{
	seeds_read(dir);
	seeds_upload(dir);
	seeds_put(dir);
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_mkbase("filed", st.base);
	snprintf(st.dir, sizeof(st.dir), "%s/state", st.base);
	handles_init();
	if (fuzz_seed_dir() != NULL)
		write_seeds(fuzz_seed_dir());
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	file_compound_args	args;
	file_compound_res	res;

	fuzz_decode_only((xdrproc_t)xdr_file_compound_res, sizeof(res),
	    data, size);
	memset(&args, 0, sizeof(args));
	if (!fuzz_decode((xdrproc_t)xdr_file_compound_args, &args, data,
	    size))
		return 0;
	state_open();
	memset(&res, 0, sizeof(res));
	filed_compound(&st.fc, &args, &res);
	fuzz_must_encode((xdrproc_t)xdr_file_compound_res, &res,
	    "FILE reply");
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	state_close();
	xdr_free((xdrproc_t)xdr_file_compound_args, (char *)&args);
	return 0;
}
