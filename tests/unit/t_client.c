/*
 * t_client.c -- libdfs units that need no server: the spool, fopen-style
 * mode parsing, path checks and splitting.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "client.h"

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
		{ "rc",	 F_READ },
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
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "spool", suite_init, suite_clean, NULL, NULL, spool_tests },
	{ "client", NULL, NULL, NULL, NULL, misc_tests },
	{ "config", suite_init, suite_clean, NULL, NULL, config_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
