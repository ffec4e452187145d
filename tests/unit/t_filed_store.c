/*
 * t_filed_store.c -- unit tests of dfs-filed's on-disk helpers (store.c).
 *
 * Every test works in its own mkdtemp(3) state directory.  The name
 * server is 127.0.0.1:1, where nothing listens, so the GC's calls to it fail
 * at once and the "name server unreachable" paths are exercised.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include <xxhash.h>

#include "../../server/file/filed.h"
#include "log.h"

#define NOWHERE	"127.0.0.1:1"

struct tctx {
	char			dir[64];
	struct filed_ctx	fc;
	unsigned char		raw[FH_LEN];
	dfs_fh			fh;
	char			hex[FH_HEXLEN + 1];
};

/* Makes a state directory and a context on it, with the handle of file
 * id `fileid`. */
static void
tctx_init(struct tctx *t, uint64_t fileid)
{
	struct fh	f = { 0x1234, fileid };

	snprintf(t->dir, sizeof(t->dir), "/tmp/t_filed_store.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(t->dir) != NULL);
	CU_ASSERT_FATAL(filed_ctx_init(&t->fc, t->dir, NOWHERE) == 0);
	CU_ASSERT_FATAL(store_init(&t->fc) == 0);
	fh_encode(&f, 99, t->raw);
	t->fh.dfs_fh_len = FH_LEN;
	t->fh.dfs_fh_val = (char *)t->raw;
	CU_ASSERT_FATAL(store_fh(&t->fh, t->hex) == 0);
}


static void
tctx_release(struct tctx *t)
{
	filed_ctx_release(&t->fc);
	cutest_rmtree(t->dir);
}

/* Writes `data` to `path`.  Returns 0 or -1. */
static int
put_file(const char *path, const char *data)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(data, fp);
	return fclose(fp);
}

/* Creates version `vers` of t's handle holding `data`. */
static void
put_version(struct tctx *t, uint64_t vers, const char *data)
{
	char	path[STORE_PATHLEN];

	CU_ASSERT_FATAL(store_mkdata(&t->fc, t->hex) == 0);
	CU_ASSERT_FATAL(store_data_path(&t->fc, t->hex, vers, path,
	    sizeof(path)) == 0);
	CU_ASSERT_FATAL(put_file(path, data) == 0);
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Puts the path of stage `id` of `hex` in path, its bucket made. */
static void
stage_at(struct tctx *t, const char *hex, uint64_t id, char *path,
    size_t len)
{
	char	dir[STORE_PATHLEN];

	CU_ASSERT(store_stage_dir(&t->fc, hex, dir, sizeof(dir)) == 0);
	CU_ASSERT(mkdir(dir, 0700) == 0 || errno == EEXIST);
	CU_ASSERT(store_stage_path(&t->fc, hex, id, path, len) == 0);
}

/* Paths, and the bucket: bits 4-11 of the file id, so that 16 files
 * made in a row share one directory. */
static void
test_filed_store__paths(void)
{
	struct tctx	t;
	char		path[STORE_PATHLEN], want[STORE_PATHLEN];

	tctx_init(&t, 0x1234);
	CU_ASSERT(store_data_path(&t.fc, t.hex, 12, path, sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/data/23/%s.12", t.dir, t.hex);
	CU_ASSERT_STRING_EQUAL(path, want);
	CU_ASSERT(store_stage_path(&t.fc, t.hex, 0xabcULL, path,
	    sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/stage/23/%s.0000000000000abc",
	    t.dir, t.hex);
	CU_ASSERT_STRING_EQUAL(path, want);
	CU_ASSERT(store_stage_dir(&t.fc, t.hex, path, sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/stage/23", t.dir);
	CU_ASSERT_STRING_EQUAL(path, want);
	CU_ASSERT(store_data_dir(&t.fc, t.hex, path, sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/data/23", t.dir);
	CU_ASSERT_STRING_EQUAL(path, want);
	CU_ASSERT(store_data_path(&t.fc, t.hex, 1, path, 20) ==
	    -DFS_ERR_NAMETOOLONG);
	tctx_release(&t);
	/* ids 0x1230-0x123f share "23", 0x1240 is in "24" */
	tctx_init(&t, 0x123f);
	CU_ASSERT(store_data_dir(&t.fc, t.hex, path, sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/data/23", t.dir);
	CU_ASSERT_STRING_EQUAL(path, want);
	tctx_release(&t);
	tctx_init(&t, 0x1240);
	CU_ASSERT(store_data_dir(&t.fc, t.hex, path, sizeof(path)) == 0);
	snprintf(want, sizeof(want), "%s/data/24", t.dir);
	CU_ASSERT_STRING_EQUAL(path, want);
	tctx_release(&t);
}

static void
test_filed_store__bad_handles(void)
{
	static const struct {
		const char	*bytes;
		unsigned int	 len;
	} cases[] = {
		{ "", 0 },
		{ "dfs1", 4 },
		{ "xfs1xxxxxxxxxxxxxxxxxxxxxxxx", 28 },
		{ "dfs1xxxxxxxxxxxxxxxxxxxxxxxxx", 29 },
	};
	char	hex[FH_HEXLEN + 1];
	dfs_fh	fh;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fh.dfs_fh_len = cases[i].len;
		fh.dfs_fh_val = (char *)cases[i].bytes;
		CU_ASSERT(store_fh(&fh, hex) == -DFS_ERR_BADHANDLE);
	}
}

static void
test_filed_store__versions(void)
{
	static const char *junk[] = { ".01", ".x", ".1x", ".", ".-1" };
	struct tctx	 t;
	char		 dir[STORE_PATHLEN], path[STORE_PATHLEN + 64];
	uint64_t	*v, vers, size;
	size_t		 n, i;

	tctx_init(&t, 6);
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0 && n == 0);
	CU_ASSERT(store_newest(&t.fc, t.hex, &vers, &size) == 0);
	CU_ASSERT(vers == 0 && size == 0);
	put_version(&t, 10, "ten bytes!");
	put_version(&t, 1, "1");
	put_version(&t, 3, "333");
	store_data_dir(&t.fc, t.hex, dir, sizeof(dir));
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, t.hex, junk[i]);
		CU_ASSERT(put_file(path, "junk") == 0);
	}
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0);
	CU_ASSERT_FATAL(n == 3);
	CU_ASSERT(v[0] == 1 && v[1] == 3 && v[2] == 10);
	free(v);
	CU_ASSERT(store_newest(&t.fc, t.hex, &vers, &size) == 0);
	CU_ASSERT(vers == 10 && size == 10);
	tctx_release(&t);
}

static void
test_filed_store__prune(void)
{
	struct tctx	 t;
	uint64_t	*v;
	size_t		 n;

	tctx_init(&t, 7);
	put_version(&t, 2, "a");
	put_version(&t, 3, "b");
	put_version(&t, 4, "c");
	CU_ASSERT(store_prune(&t.fc, t.hex, 3, 0) == 0);
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0);
	CU_ASSERT(n == 2 && v[0] == 3 && v[1] == 4);
	free(v);
	CU_ASSERT(store_prune(&t.fc, t.hex, 3, 1) == 0);
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0);
	CU_ASSERT(n == 1 && v[0] == 3);
	free(v);
	tctx_release(&t);
}

static void
test_filed_store__remove_all(void)
{
	struct tctx	 t, other;
	char		 s1[STORE_PATHLEN], s2[STORE_PATHLEN];
	uint64_t	*v;
	size_t		 n;

	tctx_init(&t, 8);
	other = t;
	{
		struct fh	f = { 0x1234, 9 };

		fh_encode(&f, 99, other.raw);
		other.fh.dfs_fh_val = (char *)other.raw;
		CU_ASSERT_FATAL(store_fh(&other.fh, other.hex) == 0);
	}
	put_version(&t, 1, "x");
	put_version(&t, 2, "y");
	stage_at(&t, t.hex, 77, s1, sizeof(s1));
	stage_at(&t, other.hex, 77, s2, sizeof(s2));
	CU_ASSERT(put_file(s1, "s") == 0 && put_file(s2, "s") == 0);
	CU_ASSERT(store_remove_all(&t.fc, t.hex) == 0);
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0 && n == 0);
	CU_ASSERT(!exists(s1));
	CU_ASSERT(exists(s2));
	tctx_release(&t);
}

static void
test_filed_store__server_id(void)
{
	static const struct {
		const char	*content;	/* NULL: no file */
		int		 rc;
		uint64_t	 id;
	} cases[] = {
		{ NULL, -DFS_ERR_DELAY, 0 },
		{ "0\n", -DFS_ERR_DELAY, 0 },
		{ "junk\n", -DFS_ERR_DELAY, 0 },
		{ "42\n", 0, 42 },
		{ "18446744073709551615\n", 0, UINT64_MAX },
	};
	struct tctx	t;
	char		path[STORE_PATHLEN];
	uint64_t	id;
	size_t		i;

	tctx_init(&t, 10);
	snprintf(path, sizeof(path), "%s/server.id", t.dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(path);
		if (cases[i].content != NULL)
			CU_ASSERT(put_file(path, cases[i].content) == 0);
		CU_ASSERT(store_server_id(&t.fc, &id) == cases[i].rc);
		CU_ASSERT(id == cases[i].id);
	}
	tctx_release(&t);
}

/* Sets a file's times `age` seconds into the past. */
static void
age_file(const char *path, int age)
{
	struct timeval	tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age;
	tv[1] = tv[0];
	CU_ASSERT(utimes(path, tv) == 0);
}

static void
test_filed_store__gc_stages(void)
{
	struct tctx	t;
	char		old[STORE_PATHLEN], fresh[STORE_PATHLEN];

	tctx_init(&t, 11);
	stage_at(&t, t.hex, 1, old, sizeof(old));
	stage_at(&t, t.hex, 2, fresh, sizeof(fresh));
	CU_ASSERT(put_file(old, "o") == 0 && put_file(fresh, "f") == 0);
	age_file(old, 7200);
	CU_ASSERT(store_gc_stages(&t.fc, 3600) == 1);
	CU_ASSERT(!exists(old));
	CU_ASSERT(exists(fresh));
	CU_ASSERT(store_gc_stages(&t.fc, 3600) == 0);
	tctx_release(&t);
}

/* A PUT's temporary versions live in the data directory, named
 * <hex>.t<16 hex>; start-up GC removes every one of them, whatever its
 * mtime, and nothing else there (versions, other names). */
static void
test_filed_store__gc_temps(void)
{
	struct tctx	 t;
	char		 tmp[STORE_PATHLEN], tmp2[STORE_PATHLEN];
	char		 odd[2 * STORE_PATHLEN], dir[STORE_PATHLEN];
	uint64_t	*v;
	size_t		 n;
	int		 fd;

	tctx_init(&t, 13);
	put_version(&t, 1, "kept");
	fd = store_temp_create(&t.fc, t.hex, tmp);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "half", 4) == 4);
	close(fd);
	fd = store_temp_create(&t.fc, t.hex, tmp2);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	/* a file's mtime can be ahead of time(2): removed all the same */
	age_file(tmp2, -60);
	CU_ASSERT(strcmp(tmp, tmp2) != 0);
	CU_ASSERT_FATAL(store_data_dir(&t.fc, t.hex, dir, sizeof(dir)) == 0);
	CU_ASSERT(strncmp(tmp, dir, strlen(dir)) == 0);	/* in the data */
	snprintf(odd, sizeof(odd), "%s/%s.tnot-a-temp", dir, t.hex);
	CU_ASSERT(put_file(odd, "x") == 0);
	/* not versions: the version list does not see them */
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0);
	CU_ASSERT(n == 1 && v[0] == 1);
	free(v);
	CU_ASSERT(store_gc_temps(&t.fc) == 2);
	CU_ASSERT(!exists(tmp) && !exists(tmp2));
	CU_ASSERT(exists(odd));
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0);
	CU_ASSERT(n == 1 && v[0] == 1);
	free(v);
	CU_ASSERT(store_gc_temps(&t.fc) == 0);
	tctx_release(&t);
}

static void
test_filed_store__gc_versions_unreachable(void)
{
	struct tctx	 t;
	uint64_t	*v;
	size_t		 n;

	tctx_init(&t, 12);
	CU_ASSERT(store_gc_versions(&t.fc) == 0);	/* nothing to ask */
	put_version(&t, 1, "a");
	put_version(&t, 2, "b");
	CU_ASSERT(store_gc_versions(&t.fc) == -DFS_ERR_DELAY);
	CU_ASSERT(store_versions(&t.fc, t.hex, &v, &n) == 0 && n == 2);
	free(v);
	tctx_release(&t);
}

static void
test_filed_store__copy(void)
{
	struct tctx	 t;
	char		 src[STORE_PATHLEN], dst[STORE_PATHLEN], *buf;
	size_t		 i, len = 300000;
	int		 in, out;
	struct stat	 st;

	tctx_init(&t, 13);
	snprintf(src, sizeof(src), "%s/src", t.dir);
	snprintf(dst, sizeof(dst), "%s/dst", t.dir);
	buf = malloc(len);
	CU_ASSERT_FATAL(buf != NULL);
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7);
	in = open(src, O_RDWR | O_CREAT, 0600);
	CU_ASSERT_FATAL(in != -1 && write(in, buf, len) == (ssize_t)len);
	out = open(dst, O_RDWR | O_CREAT, 0600);
	CU_ASSERT(store_copy(in, out, 123457) == 0);
	CU_ASSERT(fstat(out, &st) == 0 && st.st_size == 123457);
	CU_ASSERT(pread(out, buf + 1000, 1000, 1000) == 1000);
	for (i = 1000; i < 2000; i++)
		CU_ASSERT_FATAL(buf[i] == (char)(i * 7));
	CU_ASSERT(store_copy(in, out, len + 1) == -DFS_ERR_IO);
	close(in);
	close(out);
	free(buf);
	tctx_release(&t);
}

/* In a child, tries to take the commit lock byte of `hex` without
 * waiting.  Returns 1 if it was free, 0 if held, -1 on error. */
static int
lock_free_elsewhere(const char *dir, const char *hex)
{
	char		path[STORE_PATHLEN];
	struct flock	fl;
	pid_t		pid;
	int		st, fd;

	pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/commit.lock", dir);
		fd = open(path, O_RDWR);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_start = (off_t)(XXH64(hex, FH_HEXLEN, 0) % 65536);
		fl.l_len = 1;
		if (fd == -1)
			_exit(2);
		_exit(fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 1 : 0);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) > 1)
		return -1;
	return WEXITSTATUS(st);
}

static void
test_filed_store__lock(void)
{
	struct tctx	t;

	tctx_init(&t, 14);
	CU_ASSERT(store_lock(&t.fc, t.hex) == 0);
	CU_ASSERT(lock_free_elsewhere(t.dir, t.hex) == 0);
	store_unlock(&t.fc, t.hex);
	CU_ASSERT(lock_free_elsewhere(t.dir, t.hex) == 1);
	/* a lock taken again after unlock works, and unlock is idempotent */
	CU_ASSERT(store_lock(&t.fc, t.hex) == 0);
	store_unlock(&t.fc, t.hex);
	store_unlock(&t.fc, t.hex);
	tctx_release(&t);
}

static void
test_filed_store__stage_id(void)
{
	struct op_ctx	oc = { .fc = NULL, .stage = 0 };
	uint64_t	id;

	CU_ASSERT(store_stage_id(&oc, 0, &id) == -DFS_ERR_INVAL);
	CU_ASSERT(store_stage_id(&oc, 5, &id) == 0 && id == 5);
	oc.stage = 9;
	CU_ASSERT(store_stage_id(&oc, 0, &id) == 0 && id == 9);
	CU_ASSERT(store_stage_id(&oc, 5, &id) == 0 && id == 5);
}

static CU_TestInfo store_tests[] = {
	{ "paths", test_filed_store__paths },
	{ "bad_handles", test_filed_store__bad_handles },
	{ "versions", test_filed_store__versions },
	{ "prune", test_filed_store__prune },
	{ "remove_all", test_filed_store__remove_all },
	{ "server_id", test_filed_store__server_id },
	{ "gc_stages", test_filed_store__gc_stages },
	{ "gc_temps", test_filed_store__gc_temps },
	{ "gc_versions_unreachable",
	    test_filed_store__gc_versions_unreachable },
	{ "copy", test_filed_store__copy },
	{ "lock", test_filed_store__lock },
	{ "stage_id", test_filed_store__stage_id },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "filed_store", NULL, NULL, NULL, NULL, store_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	log_init("t_filed_store", 1);
	return cutest_run(suites);
}
