/*
 * t_client.c -- libdfs units that need no server: the spool, fopen-style
 * mode parsing, path checks and splitting, $DFS_LOCKS and the checks
 * dfs_lock() makes before it asks anyone.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "client.h"

#define MIB	(UINT64_C(1) << 20)

static char	tmpdir[64];

static int
suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/t_client.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/dfs.conf", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

static void
fill(char *buf, size_t n, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < n; i++)
		buf[i] = (char)((i * 31 + seed) & 0xff);
}

static void
test_spool__memory_roundtrip(void)
{
	struct spool	sp;
	char		out[16];

	spool_init(&sp, 1024, tmpdir);
	CU_ASSERT_EQUAL(spool_pwrite(&sp, "hello", 5, 0), 5);
	CU_ASSERT_EQUAL(spool_pwrite(&sp, "HE", 2, 0), 2);
	CU_ASSERT_EQUAL(sp.size, 5);
	CU_ASSERT_EQUAL(sp.fd, -1);
	CU_ASSERT_EQUAL(spool_pread(&sp, out, sizeof(out), 0), 5);
	CU_ASSERT_EQUAL(memcmp(out, "HEllo", 5), 0);
	CU_ASSERT_EQUAL(spool_pread(&sp, out, sizeof(out), 5), 0);
	spool_release(&sp);
}

/* Past max_mem everything moves to a temp file, contents intact. */
static void
test_spool__spills_to_disk(void)
{
	static char	in[300000], out[300000];
	struct spool	sp;
	size_t		off;

	fill(in, sizeof(in), 7);
	spool_init(&sp, 65536, tmpdir);
	for (off = 0; off < sizeof(in); off += 1000)
		CU_ASSERT_EQUAL(spool_pwrite(&sp, in + off, 1000, off), 1000);
	CU_ASSERT_NOT_EQUAL(sp.fd, -1);
	CU_ASSERT_PTR_NULL(sp.mem);
	CU_ASSERT_EQUAL(sp.size, sizeof(in));
	CU_ASSERT_EQUAL(spool_pread(&sp, out, sizeof(out), 0),
	    (ssize_t)sizeof(out));
	CU_ASSERT_EQUAL(memcmp(in, out, sizeof(in)), 0);
	spool_release(&sp);
}

/* Holes read as zeros, also after a shrink in memory and on disk. */
static void
test_spool__holes_and_truncate(void)
{
	struct spool	sp;
	size_t		max_mem[2] = { 4096, 16 };
	char		out[64], zero[64] = { 0 };
	int		i;

	for (i = 0; i < 2; i++) {
		spool_init(&sp, max_mem[i], tmpdir);
		CU_ASSERT_EQUAL(spool_pwrite(&sp, "abcdefghij", 10, 0), 10);
		CU_ASSERT_EQUAL(spool_truncate(&sp, 2), 0);
		CU_ASSERT_EQUAL(spool_pwrite(&sp, "Z", 1, 20), 1);
		CU_ASSERT_EQUAL(sp.size, 21);
		CU_ASSERT_EQUAL(spool_pread(&sp, out, sizeof(out), 0), 21);
		CU_ASSERT_EQUAL(memcmp(out, "ab", 2), 0);
		CU_ASSERT_EQUAL(memcmp(out + 2, zero, 18), 0);
		CU_ASSERT_EQUAL(out[20], 'Z');
		CU_ASSERT_EQUAL(spool_truncate(&sp, 40), 0);
		CU_ASSERT_EQUAL(spool_pread(&sp, out, sizeof(out), 21), 19);
		CU_ASSERT_EQUAL(memcmp(out, zero, 19), 0);
		spool_release(&sp);
	}
}

static void
test_spool__too_big_is_fbig(void)
{
	struct spool	sp;

	spool_init(&sp, 4096, tmpdir);
	CU_ASSERT_EQUAL(spool_pwrite(&sp, "x", 1, UINT64_MAX - 1),
	    -DFS_ERR_FBIG);
	CU_ASSERT_EQUAL(spool_truncate(&sp, UINT64_MAX), -DFS_ERR_FBIG);
	spool_release(&sp);
}

static void
test_spool__unwritable_dir(void)
{
	struct spool	sp;
	static char	big[8192];

	spool_init(&sp, 1024, "/nonexistent/dir");
	CU_ASSERT(spool_pwrite(&sp, big, sizeof(big), 0) < 0);
	spool_release(&sp);
}

static void
test_mode__table(void)
{
	static const struct {
		const char	*mode;
		unsigned int	 flags;
	} cases[] = {
		{ "r",	 F_READ },
		{ "rb",	 F_READ },
		{ "rc",	 F_READ | F_CACHE },
		{ "wc",	 F_WRITE | F_CREATE | F_TRUNC | F_CACHE },
		{ "r+",	 F_READ | F_WRITE },
		{ "w",	 F_WRITE | F_CREATE | F_TRUNC },
		{ "w+",	 F_READ | F_WRITE | F_CREATE | F_TRUNC },
		{ "wx",	 F_WRITE | F_CREATE | F_TRUNC | F_EXCL },
		{ "a",	 F_WRITE | F_CREATE | F_APPEND },
		{ "a+",	 F_READ | F_WRITE | F_CREATE | F_APPEND },
		{ "ab+", F_READ | F_WRITE | F_CREATE | F_APPEND },
		{ "",	 0 },
		{ "x",	 0 },
		{ "rx",	 0 },
		{ "rw",	 0 },
		{ "q",	 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (file_mode(cases[i].mode) != cases[i].flags)
			fprintf(stderr, "mode '%s'\n", cases[i].mode);
		CU_ASSERT_EQUAL(file_mode(cases[i].mode), cases[i].flags);
	}
}

static void
test_path__check(void)
{
	static const struct {
		const char	*path;
		int		 rc;
	} cases[] = {
		{ "/",		0 },
		{ "/a",		0 },
		{ "/a/b.c",	0 },
		{ "",		-DFS_ERR_INVAL },
		{ "a",		-DFS_ERR_INVAL },
		{ "/a/",	-DFS_ERR_INVAL },
		{ "//a",	-DFS_ERR_INVAL },
		{ "/a/../b",	-DFS_ERR_INVAL },
		{ "/./a",	-DFS_ERR_INVAL },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(name_check(cases[i].path), cases[i].rc);
}

static void
test_path__split(void)
{
	static const struct {
		const char	*path, *parent, *base;
	} cases[] = {
		{ "/a",		"",	"a" },
		{ "/a/b",	"a",	"b" },
		{ "/a/b/c",	"a/b",	"c" },
	};
	char		 buf[PATH_MAX];
	const char	*parent, *base;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(name_split(cases[i].path, buf, &parent, &base),
		    0);
		CU_ASSERT_STRING_EQUAL(parent, cases[i].parent);
		CU_ASSERT_STRING_EQUAL(base, cases[i].base);
	}
	CU_ASSERT_EQUAL(name_split("/", buf, &parent, &base), -DFS_ERR_INVAL);
}

static void
test_connect__errors(void)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*dfs;

	o.server = "";
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_INVAL);
	o.server = "127.0.0.1:0";
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_INVAL);
	/* port 1 on loopback: nothing listens there */
	o.server = "127.0.0.1:1";
	o.timeout_ms = 2000;
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_RPC);
}

/* Writes a dfs.conf and points $DFS_CONFIG at it. */
static void
write_conf(const char *text)
{
	static char	path[PATH_MAX];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/dfs.conf", tmpdir);
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs(text, fp);
	fclose(fp);
	setenv("DFS_CONFIG", path, 1);
}

/* The config file is read; the environment and options override it. */
static void
test_config__precedence(void)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*dfs;

	unsetenv("DFS_SERVER");
	o.timeout_ms = 2000;
	write_conf("# test\n[client]\nserver = 127.0.0.1:1\n"
	    "max_size = 64K\ntimeout = 2\n[other]\nserver = junk:::\n");
	/* from the file: a port nobody listens on */
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_RPC);
	setenv("DFS_SERVER", "bad:port", 1);
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_INVAL);
	o.server = "127.0.0.1:1";
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_RPC);
	unsetenv("DFS_SERVER");
	write_conf("[client]\nserver = 127.0.0.1:1\nmax_size = 0\n");
	o.server = NULL;
	CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_INVAL);
	unsetenv("DFS_CONFIG");
}

static void
test_config__bad_settings(void)
{
	static const char *const bad[] = {
		"server = \n",
		"colour = blue\n",
		"max_size = lots\n",
		"max_size = -1\n",
		"timeout = 0\n",
		"retries = 1000\n",
		"stream_span = 512K\n",	/* less than a chunk */
		"stream_span = 1T\n",
		"this line is not ini\n",
	};
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*dfs;
	size_t		 i;

	o.server = "127.0.0.1:1";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i]);
		if (dfs_connect(&dfs, &o) != -DFS_ERR_INVAL)
			fprintf(stderr, "accepted: %s", bad[i]);
		CU_ASSERT_EQUAL(dfs_connect(&dfs, &o), -DFS_ERR_INVAL);
	}
	unsetenv("DFS_CONFIG");
}

/* A download's connections: none up to stream_span, then one per span,
 * at most `streams`. */
static void
test_config__read_streams(void)
{
	static const struct {
		int		streams;
		uint64_t	span, size;
		int		want;
	} t[] = {
		{ 4, 512 * MIB,	100 * MIB,		0 },
		{ 4, 512 * MIB,	512 * MIB,		0 },
		{ 4, 512 * MIB,	512 * MIB + 1,		2 },
		{ 4, 512 * MIB,	1024 * MIB,		2 },
		{ 4, 512 * MIB,	1024 * MIB + 1,		3 },
		{ 4, 512 * MIB,	UINT64_MAX,		4 },
		{ 1, 512 * MIB,	UINT64_MAX,		0 },
		{ 4, 2 * MIB,	9 * MIB,		4 },
		{ 16, MIB,	3 * MIB,		3 },
	};
	struct dfs	dfs;
	size_t		i;

	memset(&dfs, 0, sizeof(dfs));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dfs.streams = t[i].streams;
		dfs.stream_span = t[i].span;
		CU_ASSERT_EQUAL(parallel_read_streams(&dfs, t[i].size),
		    t[i].want);
	}
}

/* The stream_span key sets what parallel_read_streams() divides by. */
static void
test_config__stream_span(void)
{
	struct dfs	*dfs;

	write_conf("[client]\nserver = 127.0.0.1:1\nstream_span = 2M\n");
	/* nobody answers on port 1, so look at the settings by hand */
	dfs = calloc(1, sizeof(*dfs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dfs);
	CU_ASSERT_EQUAL(config_load(dfs), 0);
	CU_ASSERT_EQUAL(dfs->stream_span, 2 * MIB);
	free(dfs);
	unsetenv("DFS_CONFIG");
}

/* --- locks --------------------------------------------------------------- */

#define ID	"0123456789abcdeffedcba9876543210"

/* $DFS_LOCKS: "ID MODE\nPATH...", one optional final newline. */
static void
test_lockenv__parse_table(void)
{
	static const struct {
		const char	*s;
		int		 rc;
		int		 excl;
		int		 npaths;
		const char	*last;
	} cases[] = {
		{ ID " x\n/a",			0, 1, 1, "/a" },
		{ ID " s\n/a\n/b/c",		0, 0, 2, "/b/c" },
		{ ID " x\n/a\n",		0, 1, 1, "/a" },
		{ ID " x\n/a b\n/c",		0, 1, 2, "/c" },
		/* empty */
		{ "",				-DFS_ERR_INVAL, 0, 0, NULL },
		/* bad hex */
		{ "0123456789ABCDEFfedcba9876543210 x\n/a",
		    -DFS_ERR_INVAL, 0, 0, NULL },
		{ "0123456789abcdeffedcba987654321g x\n/a",
		    -DFS_ERR_INVAL, 0, 0, NULL },
		{ "-123456789abcdeffedcba9876543210 x\n/a",
		    -DFS_ERR_INVAL, 0, 0, NULL },
		/* wrong length */
		{ "0123456789abcdeffedcba987654321 x\n/a",
		    -DFS_ERR_INVAL, 0, 0, NULL },
		{ ID "0 x\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ "0123456789abcdef x\n/a",	-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID,				-DFS_ERR_INVAL, 0, 0, NULL },
		/* the zero id means no lock */
		{ "00000000000000000000000000000000 x\n/a",
		    -DFS_ERR_INVAL, 0, 0, NULL },
		/* bad mode or separators */
		{ ID " X\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " e\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " xs\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID "  x\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID "\tx\n/a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x /a",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x",			-DFS_ERR_INVAL, 0, 0, NULL },
		/* no path, empty lines */
		{ ID " x\n",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n\n",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a\n\n/b",		-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a\n\n",		-DFS_ERR_INVAL, 0, 0, NULL },
		/* relative or unchecked paths */
		{ ID " x\na",			-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a\nb",		-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a/../b",		-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a//b",		-DFS_ERR_INVAL, 0, 0, NULL },
		{ ID " x\n/a/",			-DFS_ERR_INVAL, 0, 0, NULL },
	};
	struct dfs_lock	*lk;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = lock_parse(cases[i].s, &lk);
		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu: '%s': %d\n", i, cases[i].s,
			    rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != 0) {
			CU_ASSERT_PTR_NULL(lk);
			continue;
		}
		CU_ASSERT_EQUAL(lk->id.instance, 0x0123456789abcdefULL);
		CU_ASSERT_EQUAL(lk->id.nonce, 0xfedcba9876543210ULL);
		CU_ASSERT_EQUAL(lk->exclusive, cases[i].excl);
		CU_ASSERT_EQUAL(lk->npaths, cases[i].npaths);
		CU_ASSERT_STRING_EQUAL(lk->paths[lk->npaths - 1],
		    cases[i].last);
		CU_ASSERT_PTR_NULL(lk->dfs);
		lock_free(lk);
	}
}

/* At most DFS_MAXLOCKPATHS paths. */
static void
test_lockenv__path_count(void)
{
	char		 buf[64 * 8 + 64];
	struct dfs_lock	*lk;
	size_t		 n;
	int		 i;

	n = (size_t)snprintf(buf, sizeof(buf), "%s x", ID);
	for (i = 0; i < DFS_MAXLOCKPATHS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n/p%d", i);
	CU_ASSERT_EQUAL_FATAL(lock_parse(buf, &lk), 0);
	CU_ASSERT_EQUAL(lk->npaths, DFS_MAXLOCKPATHS);
	lock_free(lk);
	snprintf(buf + n, sizeof(buf) - n, "\n/one-more");
	CU_ASSERT_EQUAL(lock_parse(buf, &lk), -DFS_ERR_INVAL);
}

/* dfs_lock_export() writes what lock_parse() reads, snprintf-style. */
static void
test_lockenv__export_roundtrip(void)
{
	static const char	 s[] = ID " s\n/a\n/b/c";
	struct dfs_lock		*lk;
	char			 buf[64], small[8];
	int			 n;

	CU_ASSERT_EQUAL_FATAL(lock_parse(s, &lk), 0);
	n = dfs_lock_export(lk, NULL, 0);
	CU_ASSERT_EQUAL(n, (int)strlen(s));
	CU_ASSERT_EQUAL(dfs_lock_export(lk, buf, sizeof(buf)), n);
	CU_ASSERT_STRING_EQUAL(buf, s);
	CU_ASSERT_EQUAL(dfs_lock_export(lk, small, sizeof(small)), n);
	CU_ASSERT_EQUAL(small[sizeof(small) - 1], '\0');
	CU_ASSERT_EQUAL(strncmp(small, s, sizeof(small) - 1), 0);
	lock_free(lk);
	CU_ASSERT_EQUAL_FATAL(lock_parse(ID " x\n/a\n", &lk), 0);
	CU_ASSERT_EQUAL(dfs_lock_export(lk, buf, sizeof(buf)),
	    (int)strlen(ID " x\n/a"));
	CU_ASSERT_STRING_EQUAL(buf, ID " x\n/a");
	lock_free(lk);
}

/* Which lock a change names: its own, then a held one, then $DFS_LOCKS;
 * only exclusive locks on exactly the path count. */
static void
test_lockenv__putlock(void)
{
	struct dfs	*dfs = calloc(1, sizeof(*dfs));
	struct dfs_lock	*env, *held;
	struct name_req	 r;
	dfs_lockid	 own = { 7, 8 }, zero = { 0, 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(dfs);
	CU_ASSERT_EQUAL_FATAL(lock_parse(ID " x\n/e\n/both", &env), 0);
	CU_ASSERT_EQUAL_FATAL(lock_parse("00000000000000010000000000000002"
	    " x\n/h\n/both", &held), 0);
	dfs->envlock = env;
	dfs->held = held;
	CU_ASSERT_PTR_EQUAL(lock_find(dfs, "/e"), env);
	CU_ASSERT_PTR_EQUAL(lock_find(dfs, "/h"), held);
	CU_ASSERT_PTR_EQUAL(lock_find(dfs, "/both"), held);
	CU_ASSERT_PTR_NULL(lock_find(dfs, "/e/sub"));
	CU_ASSERT_PTR_NULL(lock_find(dfs, "/"));
	r.n = 0;
	lock_putlock(dfs, &r, NULL, "/nope", NULL);
	CU_ASSERT_EQUAL(r.n, 0);
	lock_putlock(dfs, &r, &zero, "/e", NULL);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(r.ops[0].op, OP_PUTLOCK);
	CU_ASSERT_EQUAL(r.ops[0].name_argop_u.putlock.nonce,
	    0xfedcba9876543210ULL);
	r.n = 0;
	lock_putlock(dfs, &r, NULL, "/nope", "/h");	/* a rename's target */
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(r.ops[0].name_argop_u.putlock.nonce, 2);
	r.n = 0;
	lock_putlock(dfs, &r, &own, "/e", NULL);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(r.ops[0].name_argop_u.putlock.nonce, 8);
	/* a shared lock is not named: it allows no change */
	env->exclusive = 0;
	r.n = 0;
	lock_putlock(dfs, &r, NULL, "/e", NULL);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_FALSE(lock_covers(env, "/e"));
	CU_ASSERT_TRUE(lock_covers(held, "/h"));
	dfs->held = NULL;
	lock_free(held);
	lock_free(env);
	free(dfs);
}

/* What dfs_lock() and dfs_open_locked() refuse before any RPC. */
static void
test_lock__bad_args(void)
{
	static const char *const	 two[] = { "/a", "/a" };
	static const char *const	 rel[] = { "/a", "b" };
	static const char *const	 ok[] = { "/a" };
	const char			*many[DFS_MAXLOCKPATHS + 1];
	char				 names[DFS_MAXLOCKPATHS + 1][16];
	struct dfs			*dfs = calloc(1, sizeof(*dfs));
	struct dfs_lock			*lk = NULL, *sh;
	struct dfs_file			*f;
	int				 i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dfs);
	for (i = 0; i <= DFS_MAXLOCKPATHS; i++) {
		snprintf(names[i], sizeof(names[i]), "/p%d", i);
		many[i] = names[i];
	}
	CU_ASSERT_EQUAL(dfs_lock(dfs, ok, 0, 1, 0, &lk), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_lock(dfs, many, DFS_MAXLOCKPATHS + 1, 1, 0, &lk),
	    -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_lock(dfs, two, 2, 1, 0, &lk), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_lock(dfs, rel, 2, 1, 0, &lk), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_lock(dfs, NULL, 1, 1, 0, &lk), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_lock(dfs, ok, 1, 1, 300001, &lk),
	    -DFS_ERR_INVAL);
	CU_ASSERT_PTR_NULL(lk);
	CU_ASSERT_EQUAL(dfs_unlock(NULL), 0);
	/* dfs_open_locked: the lock must hold the path exclusively */
	dfs->max_size = 4096;
	CU_ASSERT_EQUAL_FATAL(lock_parse(ID " x\n/a", &lk), 0);
	CU_ASSERT_EQUAL(dfs_open_locked(dfs, "/b", "w", lk, &f),
	    -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL_FATAL(lock_parse(ID " s\n/a", &sh), 0);
	CU_ASSERT_EQUAL(dfs_open_locked(dfs, "/a", "a", sh, &f),
	    -DFS_ERR_INVAL);
	lock_free(sh);
	lock_free(lk);
	free(dfs);
}

static CU_TestInfo spool_tests[] = {
	{ "memory_roundtrip", test_spool__memory_roundtrip },
	{ "spills_to_disk", test_spool__spills_to_disk },
	{ "holes_and_truncate", test_spool__holes_and_truncate },
	{ "too_big_is_fbig", test_spool__too_big_is_fbig },
	{ "unwritable_dir", test_spool__unwritable_dir },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo misc_tests[] = {
	{ "mode_table", test_mode__table },
	{ "path_check", test_path__check },
	{ "path_split", test_path__split },
	{ "connect_errors", test_connect__errors },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo config_tests[] = {
	{ "precedence", test_config__precedence },
	{ "bad_settings", test_config__bad_settings },
	{ "read_streams", test_config__read_streams },
	{ "stream_span", test_config__stream_span },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo lock_tests[] = {
	{ "lockenv_parse_table", test_lockenv__parse_table },
	{ "lockenv_path_count", test_lockenv__path_count },
	{ "lockenv_export_roundtrip", test_lockenv__export_roundtrip },
	{ "lockenv_putlock", test_lockenv__putlock },
	{ "bad_args", test_lock__bad_args },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "spool", suite_init, suite_clean, NULL, NULL, spool_tests },
	{ "client", NULL, NULL, NULL, NULL, misc_tests },
	{ "config", suite_init, suite_clean, NULL, NULL, config_tests },
	{ "lock", NULL, NULL, NULL, NULL, lock_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
