/*
 * fuzz_named.c -- libFuzzer target of the NAME program: one input is
 * the XDR body of a NAME COMPOUND call (fuzz.h).
 *
 * Every input runs on a fresh state directory holding a small tree (a
 * registered file server, /d, /d/e, /d/f, /g), built the same way each
 * time, so handles are stable and an input replays alone.  The daemon's
 * own assert() checks that ops the table says are read-only wrote
 * nothing, and fatalx() (a store write failed) is a finding too.
 *
 * Kept hermetic: a REGISTER of a lock server is pointed at 127.0.0.1
 * port 1, where nothing listens, so the mutations it makes the name
 * server check fail fast with DELAY instead of resolving a host the
 * input named or waiting on a real daemon.  No other op leaves the
 * process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kv.h"
#include "../../server/name/named.h"

#define NOWHERE_HOST	"127.0.0.1"
#define NOWHERE_PORT	1
#define SETUP_MAXOPS	8

static struct {
	char			base[FUZZ_PATHLEN];
	char			dir[FUZZ_PATHLEN + 8];
	struct kv		*kv;
	struct named_ctx	nc;
} st;

/* Runs `n` ops on the open state; returns the reply (free it). */
static name_compound_res
run(name_argop *ops, u_int n)
{
	name_compound_args	args;
	name_compound_res	res;

	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	memset(&res, 0, sizeof(res));
	if (name_compound_1_svc(&args, &res, NULL) != TRUE)
		abort();
	return res;
}

/* Runs `n` ops that must all succeed and frees the reply. */
static void
setup_run(name_argop *ops, u_int n)
{
	name_compound_res	res = run(ops, n);

	if (res.status != DFS_OK) {
		fprintf(stderr, "fuzz_named: setup failed: %d\n", res.status);
		abort();
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
}

static void
arg_name(name_argop *a, name_opnum op, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->op = op;
	switch (op) {
	case OP_LOOKUP:
		FUZZ_BYTES(a->name_argop_u.lookup.dfs_path, name);
		break;
	case OP_CREATE:
		FUZZ_BYTES(a->name_argop_u.create.name.dfs_name, name);
		a->name_argop_u.create.mode = 0100644;
		a->name_argop_u.create.exclusive = TRUE;
		break;
	case OP_MKDIR:
		FUZZ_BYTES(a->name_argop_u.mkdir.name.dfs_name, name);
		a->name_argop_u.mkdir.mode = 040755;
		break;
	case OP_REMOVE:
		FUZZ_BYTES(a->name_argop_u.remove.dfs_name, name);
		break;
	default:
		break;
	}
}

static void
arg_register(name_argop *a, dfs_srvkind kind, const char *host,
    unsigned int port)
{
	memset(a, 0, sizeof(*a));
	a->op = OP_REGISTER;
	a->name_argop_u.reg.kind = kind;
	a->name_argop_u.reg.host = (char *)host;
	a->name_argop_u.reg.port = port;
}

/* The tree every input starts from: a file server, /d/e, /d/f, /g. */
static void
populate(void)
{
	name_argop	ops[SETUP_MAXOPS];

	arg_register(&ops[0], DFS_SRV_FILE, "127.0.0.1", 2049);
	setup_run(ops, 1);
	arg_name(&ops[0], OP_PUTROOTFH, NULL);
	arg_name(&ops[1], OP_MKDIR, "d");
	arg_name(&ops[2], OP_MKDIR, "e");
	setup_run(ops, 3);
	arg_name(&ops[1], OP_LOOKUP, "d");
	arg_name(&ops[2], OP_CREATE, "f");
	setup_run(ops, 3);
	arg_name(&ops[1], OP_CREATE, "g");
	setup_run(ops, 2);
}

/* Opens a fresh state directory with the tree; aborts on failure. */
static void
state_open(void)
{
	char	err[256];

	fuzz_fresh_dir(st.dir);
	fuzz_reset_random();
	if (kv_open(&st.kv, st.dir, "named", err, sizeof(err)) != 0 ||
	    named_init(&st.nc, st.kv, NAMED_HB_DEFAULT, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_named: %s\n", err);
		abort();
	}
	named_set_ctx(&st.nc);
	populate();
}

static void
state_close(void)
{
	named_release(&st.nc);
	kv_close(st.kv);
	st.kv = NULL;
}

/* Points every lock server the input registers at NOWHERE (see top). */
static int
hermetic(name_compound_args *args)
{
	register_args	*ra;
	u_int		 i;

	for (i = 0; i < args->ops.ops_len; i++) {
		if (args->ops.ops_val[i].op != OP_REGISTER)
			continue;
		ra = &args->ops.ops_val[i].name_argop_u.reg;
		if (ra->kind != DFS_SRV_LOCK)
			continue;
		free(ra->host);
		if ((ra->host = strdup(NOWHERE_HOST)) == NULL)
			return -1;
		ra->port = NOWHERE_PORT;
	}
	return 0;
}

/* --- seeds: typical COMPOUNDs, as libdfs and the servers send them --- */

/* Writes one seed of `n` ops. */
static void
seed(const char *dir, const char *name, name_argop *ops, u_int n)
{
	name_compound_args	args;

	args.ops.ops_len = n;
	args.ops.ops_val = ops;
	fuzz_write_seed(dir, name, (xdrproc_t)xdr_name_compound_args, &args);
}

/* Returns the handle of `path` in the fresh state, in `buf`. */
static dfs_fh
handle_of(const char *path, char *buf)
{
	name_argop		ops[3];
	name_compound_res	res;
	dfs_fh			fh = { 0, buf };
	u_int			n = 0;

	arg_name(&ops[n++], OP_PUTROOTFH, NULL);
	if (path[0] != '\0')
		arg_name(&ops[n++], OP_LOOKUP, path);
	arg_name(&ops[n++], OP_GETFH, NULL);
	res = run(ops, n);
	if (res.status != DFS_OK)
		abort();
	fh.dfs_fh_len = res.res.res_val[n - 1].name_resop_u.getfh.getfh_res_u.
	    fh.dfs_fh_len;
	memcpy(buf, res.res.res_val[n - 1].name_resop_u.getfh.getfh_res_u.
	    fh.dfs_fh_val, fh.dfs_fh_len);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return fh;
}

static void
seeds_walk(const char *dir)
{
	name_argop	ops[8];

	arg_name(&ops[0], OP_PUTROOTFH, NULL);
	arg_name(&ops[1], OP_LOOKUP, "d/f");
	arg_name(&ops[2], OP_GETATTR, NULL);
	arg_name(&ops[3], OP_GETFH, NULL);
	arg_name(&ops[4], OP_LOCATE, NULL);
	seed(dir, "walk-getattr", ops, 5);
	arg_name(&ops[1], OP_LOOKUP, "d");
	arg_name(&ops[2], OP_CREATE, "new");
	seed(dir, "create", ops, 5);
	arg_name(&ops[1], OP_MKDIR, "x");
	arg_name(&ops[2], OP_MKDIR, "y");
	arg_name(&ops[3], OP_GETPATH, NULL);
	seed(dir, "mkdir-getpath", ops, 4);
	arg_name(&ops[1], OP_LOOKUP, "d");
	arg_name(&ops[2], OP_REMOVE, "f");
	arg_name(&ops[3], OP_REMOVE, "e");
	seed(dir, "remove", ops, 4);
	arg_name(&ops[1], OP_READDIR, NULL);
	ops[1].name_argop_u.readdir.count = 100;
	arg_name(&ops[2], OP_LOOKUP, "d");
	arg_name(&ops[3], OP_READDIR, NULL);
	ops[3].name_argop_u.readdir.cookie = 1;
	ops[3].name_argop_u.readdir.count = 1;
	seed(dir, "readdir", ops, 4);
}

static void
seeds_rename(const char *dir)
{
	name_argop	ops[8];

	arg_name(&ops[0], OP_PUTROOTFH, NULL);
	arg_name(&ops[1], OP_LOOKUP, "d");
	arg_name(&ops[2], OP_SAVEFH, NULL);
	arg_name(&ops[3], OP_PUTROOTFH, NULL);
	arg_name(&ops[4], OP_RENAME, NULL);
	FUZZ_BYTES(ops[4].name_argop_u.rename.oldname.dfs_name, "f");
	FUZZ_BYTES(ops[4].name_argop_u.rename.newname.dfs_name, "g");
	seed(dir, "rename-replace", ops, 5);
	arg_name(&ops[1], OP_SAVEFH, NULL);
	arg_name(&ops[2], OP_LOOKUP, "d/e");
	arg_name(&ops[3], OP_RESTOREFH, NULL);
	FUZZ_BYTES(ops[4].name_argop_u.rename.oldname.dfs_name, "d");
	FUZZ_BYTES(ops[4].name_argop_u.rename.newname.dfs_name, "d2");
	seed(dir, "rename-dir", ops, 5);
}

static void
seeds_handles(const char *dir)
{
	char		fbuf[DFS_FHSIZE], dbuf[DFS_FHSIZE];
	name_argop	ops[8];

	arg_name(&ops[0], OP_PUTFH, NULL);
	ops[0].name_argop_u.putfh = handle_of("d/f", fbuf);
	arg_name(&ops[1], OP_SETATTR, NULL);
	ops[1].name_argop_u.setattr.mask = DFS_SA_MODE | DFS_SA_UID |
	    DFS_SA_GID | DFS_SA_MTIME;
	ops[1].name_argop_u.setattr.mode = 0600;
	ops[1].name_argop_u.setattr.mtime = 1700000000000000000LL;
	arg_name(&ops[2], OP_GETATTR, NULL);
	arg_name(&ops[3], OP_GETPATH, NULL);
	seed(dir, "putfh-setattr", ops, 4);
	arg_name(&ops[1], OP_PUTLOCK, NULL);
	ops[1].name_argop_u.putlock.instance = 1;
	ops[1].name_argop_u.putlock.nonce = 2;
	arg_name(&ops[2], OP_COMMIT, NULL);
	ops[2].name_argop_u.commit.size = 4096;
	ops[2].name_argop_u.commit.srvid = 1;
	arg_name(&ops[3], OP_GETATTR, NULL);
	seed(dir, "putfh-commit", ops, 4);
	ops[0].name_argop_u.putfh = handle_of("d", dbuf);
	arg_name(&ops[1], OP_CREATE, "h");
	arg_name(&ops[2], OP_PUTFH, NULL);
	ops[2].name_argop_u.putfh = handle_of("", fbuf);
	arg_name(&ops[3], OP_READDIR, NULL);
	ops[3].name_argop_u.readdir.count = 2;
	seed(dir, "putfh-create", ops, 4);
}

static void
seeds_servers(const char *dir)
{
	static const char *const pfx = "/d";
	dfs_path	prefixes[1];
	name_argop	ops[8];

	FUZZ_BYTES(prefixes[0].dfs_path, pfx);
	arg_register(&ops[0], DFS_SRV_FILE, "10.0.0.2", 2050);
	ops[0].name_argop_u.reg.prefixes.prefixes_len = 1;
	ops[0].name_argop_u.reg.prefixes.prefixes_val = prefixes;
	arg_name(&ops[1], OP_SERVERS, NULL);
	arg_name(&ops[2], OP_STATS, NULL);
	seed(dir, "register-file", ops, 3);
	arg_register(&ops[0], DFS_SRV_LOCK, "127.0.0.1", 1);
	arg_name(&ops[1], OP_PUTROOTFH, NULL);
	arg_name(&ops[2], OP_CREATE, "locked");
	seed(dir, "register-lock-create", ops, 3);
	arg_name(&ops[0], OP_ILLEGAL, NULL);
	ops[0].op = (name_opnum)99;
	seed(dir, "illegal", ops, 1);
	arg_name(&ops[0], OP_RESTOREFH, NULL);
	seed(dir, "restorefh-none", ops, 1);
}

/* DFS_FUZZ_SEEDS mode: writes the seed corpus and exits. */
static void
write_seeds(const char *dir)
{
	seeds_walk(dir);
	seeds_rename(dir);
	seeds_handles(dir);
	seeds_servers(dir);
	state_close();
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_mkbase("named", st.base);
	snprintf(st.dir, sizeof(st.dir), "%s/state", st.base);
	if (fuzz_seed_dir() != NULL) {
		state_open();
		write_seeds(fuzz_seed_dir());
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	name_compound_args	args;
	name_compound_res	res;

	fuzz_decode_only((xdrproc_t)xdr_name_compound_res, sizeof(res),
	    data, size);
	memset(&args, 0, sizeof(args));
	if (!fuzz_decode((xdrproc_t)xdr_name_compound_args, &args, data,
	    size))
		return 0;
	if (hermetic(&args) == 0) {
		state_open();
		res = run(args.ops.ops_val, args.ops.ops_len);
		fuzz_must_encode((xdrproc_t)xdr_name_compound_res, &res,
		    "NAME reply");
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
		state_close();
	}
	xdr_free((xdrproc_t)xdr_name_compound_args, (char *)&args);
	return 0;
}
