/*
 * t_kv.c -- lib/kv.c: the GDBM store behind a redo log.
 *
 * A crash is simulated the way kill -9 leaves the directory: NAME.db and
 * NAME.log are copied, while the store is still open, into a fresh
 * directory (never through kv_close), and that copy is
 * opened.  Damage to the log tail is then done to the copy.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "kv.h"

#define KV_NAME		"t"
#define DIRLEN		64
#define BIGLEN		(1024 * 1024)

/* --- helpers ---------------------------------------------------------- */

/* Creates a fresh directory under /tmp in dir (DIRLEN bytes); aborts the
 * test when it cannot. */
static void
tdir_make(char *dir)
{
	snprintf(dir, DIRLEN, "/tmp/t_kv.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

/* Removes a flat directory and everything in it. */
static void
tdir_remove(const char *dir)
{
	struct dirent	*de;
	char		 path[DIRLEN + 256];
	DIR		*d;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

/* Writes "DIR/NAME.SUFFIX" into buf (DIRLEN + 16 bytes). */
static void
kv_file(char *buf, const char *dir, const char *suffix)
{
	snprintf(buf, DIRLEN + 16, "%s/%s.%s", dir, KV_NAME, suffix);
}


/* What kill -9 leaves behind, copied from src into dst. */
static void
crash_copy(const char *src, const char *dst)
{
	CU_ASSERT_EQUAL_FATAL(cutest_crash_copy(src, dst, KV_NAME), 0);
}

/* Returns the size of DIR/NAME.log, or -1. */
static off_t
log_size(const char *dir)
{
	struct stat	st;
	char		path[DIRLEN + 16];

	kv_file(path, dir, "log");
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Opens the store in dir; aborts the test on failure. */
static struct kv *
open_ok(const char *dir)
{
	struct kv	*kv = NULL;
	char		 err[256] = "";
	int		 rc;

	rc = kv_open(&kv, dir, KV_NAME, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "kv_open '%s': %d %s\n", dir, rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kv);
	return kv;
}

static void
put_str(struct kv *kv, const char *key, const char *val)
{
	CU_ASSERT_EQUAL(kv_put(kv, key, strlen(key), val, strlen(val)), 0);
}

/* Asserts that key holds exactly val. */
static void
expect_str(struct kv *kv, const char *key, const char *val)
{
	void	*v = NULL;
	size_t	 vlen = 0;

	CU_ASSERT_EQUAL_FATAL(kv_get(kv, key, strlen(key), &v, &vlen), 0);
	CU_ASSERT_EQUAL(vlen, strlen(val));
	if (vlen == strlen(val))
		CU_ASSERT_EQUAL(memcmp(v, val, vlen), 0);
	free(v);
}

static void
expect_missing(struct kv *kv, const char *key)
{
	void	*v = NULL;
	size_t	 vlen = 0;

	CU_ASSERT_EQUAL(kv_get(kv, key, strlen(key), &v, &vlen),
	    -DFS_ERR_NOENT);
	CU_ASSERT_PTR_NULL(v);
}

static int
count_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(int *)arg)++;
	return 0;
}

/* Returns the number of records in the store. */
static int
count_records(struct kv *kv)
{
	int	n = 0;

	CU_ASSERT_EQUAL(kv_foreach(kv, count_fn, &n), 0);
	return n;
}

/* Fills a buffer with a pattern that depends on seed. */
static void
fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 12)) &
		    0xff);
}

/* --- basic use -------------------------------------------------------- */

static void
test_kv__put_get_del(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN];

	tdir_make(dir);
	kv = open_ok(dir);
	put_str(kv, "alpha", "1");
	put_str(kv, "beta", "22");
	expect_str(kv, "alpha", "1");
	expect_str(kv, "beta", "22");
	put_str(kv, "alpha", "333");
	expect_str(kv, "alpha", "333");
	CU_ASSERT_EQUAL(kv_del(kv, "beta", 4), 0);
	expect_missing(kv, "beta");
	/* an empty value is a value, not a missing key */
	CU_ASSERT_EQUAL(kv_put(kv, "empty", 5, "", 0), 0);
	expect_str(kv, "empty", "");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	expect_str(kv, "alpha", "333");
	kv_close(kv);
	tdir_remove(dir);
}

static void
test_kv__missing_key(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN];

	tdir_make(dir);
	kv = open_ok(dir);
	expect_missing(kv, "nothing");
	/* deleting what is not there is not an error */
	CU_ASSERT_EQUAL(kv_del(kv, "nothing", 7), 0);
	put_str(kv, "k", "v");
	CU_ASSERT_EQUAL(kv_del(kv, "k", 1), 0);
	expect_missing(kv, "k");
	/* a key is its bytes: "k" and "k\0" differ */
	put_str(kv, "k", "v");
	CU_ASSERT_EQUAL(kv_get(kv, "k", 2, &(void *){ NULL },
	    &(size_t){ 0 }), -DFS_ERR_NOENT);
	kv_close(kv);
	tdir_remove(dir);
}

struct visit {
	int	seen[50];
	int	calls;
	int	stop_after;
};

static int
visit_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct visit	*v = arg;
	char		 k[16], want[16];
	int		 i;

	v->calls++;
	if (klen < 2 || klen >= sizeof(k))
		return -1;
	memcpy(k, key, klen);
	k[klen] = '\0';
	i = atoi(k + 1);
	snprintf(want, sizeof(want), "v%d", i);
	if (i < 0 || i >= 50 || vlen != strlen(want) ||
	    memcmp(val, want, vlen) != 0)
		return -1;
	v->seen[i]++;
	if (v->stop_after != 0 && v->calls == v->stop_after)
		return 7;
	return 0;
}

static void
test_kv__foreach_all(void)
{
	struct visit	 v;
	struct kv	*kv;
	char		 dir[DIRLEN], key[16], val[16];
	int		 i;

	tdir_make(dir);
	kv = open_ok(dir);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		put_str(kv, key, val);
	}
	memset(&v, 0, sizeof(v));
	CU_ASSERT_EQUAL(kv_foreach(kv, visit_fn, &v), 0);
	CU_ASSERT_EQUAL(v.calls, 50);
	for (i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(v.seen[i], 1);
	/* fn's non-zero return stops the walk and is returned */
	memset(&v, 0, sizeof(v));
	v.stop_after = 3;
	CU_ASSERT_EQUAL(kv_foreach(kv, visit_fn, &v), 7);
	CU_ASSERT_EQUAL(v.calls, 3);
	kv_close(kv);
	tdir_remove(dir);
}

static void
test_kv__reopen(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN];

	tdir_make(dir);
	kv = open_ok(dir);
	put_str(kv, "a", "1");
	put_str(kv, "b", "2");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	/* kv_close commits what is still pending */
	put_str(kv, "c", "3");
	CU_ASSERT_EQUAL(kv_del(kv, "b", 1), 0);
	kv_close(kv);
	kv = open_ok(dir);
	expect_str(kv, "a", "1");
	expect_missing(kv, "b");
	expect_str(kv, "c", "3");
	CU_ASSERT_EQUAL(count_records(kv), 2);
	kv_close(kv);
	kv_close(NULL);
	tdir_remove(dir);
}

/* Counts the regular files in dir; the working file is not one of
 * them, it is in memory; a checkpoint writes what it holds. */
static int
count_dir_files(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_type == DT_REG;
	closedir(d);
	return n;
}

static void
test_kv__work_in_memory(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN];
	char		 db[DIRLEN + 16];
	struct stat	 st0, st1;

	tdir_make(dir);
	kv_file(db, dir, "db");
	kv = open_ok(dir);
	/* db, log, lock, and db.tmp: the next checkpoint, preallocated */
	CU_ASSERT_EQUAL(count_dir_files(dir), 4);
	CU_ASSERT_EQUAL_FATAL(stat(db, &st0), 0);
	put_str(kv, "k", "v");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT_EQUAL(kv_checkpoint(kv), 0);
	CU_ASSERT_EQUAL(count_dir_files(dir), 4);
	CU_ASSERT_EQUAL_FATAL(stat(db, &st1), 0);
	CU_ASSERT(st1.st_ino != st0.st_ino);		/* a new checkpoint */
	CU_ASSERT_EQUAL(log_size(dir), 0);
	/* the checkpoint alone (the log is empty) holds the record: a
	 * kill -9 now loses nothing */
	tdir_make(dir2);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv = open_ok(dir2);
	expect_str(kv, "k", "v");
	kv_close(kv);
	tdir_remove(dir2);
	tdir_remove(dir);
}

static void
test_kv__dirty_and_empty_commit(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN];

	tdir_make(dir);
	kv = open_ok(dir);
	CU_ASSERT_EQUAL(kv_dirty(kv), 0);
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT_EQUAL(log_size(dir), 0);
	put_str(kv, "a", "1");
	CU_ASSERT_EQUAL(kv_dirty(kv), 1);
	CU_ASSERT_EQUAL(log_size(dir), 0);
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT_EQUAL(kv_dirty(kv), 0);
	CU_ASSERT(log_size(dir) > 0);
	CU_ASSERT_EQUAL(kv_del(kv, "a", 1), 0);
	CU_ASSERT_EQUAL(kv_dirty(kv), 1);
	kv_close(kv);
	tdir_remove(dir);
}

/* kv_open's documented failures, each with a message. */
static void
test_kv__open_errors(void)
{
	struct kv	*kv = NULL;
	char		 dir[DIRLEN], err[256], *longdir;
	size_t		 n = 5000;

	tdir_make(dir);
	rmdir(dir);
	err[0] = '\0';
	CU_ASSERT_EQUAL(kv_open(&kv, dir, KV_NAME, err, sizeof(err)),
	    -DFS_ERR_IO);
	CU_ASSERT_PTR_NULL(kv);
	CU_ASSERT(strlen(err) > 0);
	longdir = malloc(n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(longdir);
	memset(longdir, 'd', n);
	longdir[0] = '/';
	longdir[n] = '\0';
	err[0] = '\0';
	CU_ASSERT_EQUAL(kv_open(&kv, longdir, KV_NAME, err, sizeof(err)),
	    -DFS_ERR_NAMETOOLONG);
	CU_ASSERT_PTR_NULL(kv);
	CU_ASSERT(strlen(err) > 0);
	free(longdir);
}

/* flock(2) locks belong to the open file description, so a second
 * kv_open in the same process conflicts just as another daemon would. */
static void
test_kv__second_open_delay(void)
{
	struct kv	*kv, *kv2 = NULL;
	char		 dir[DIRLEN], err[256] = "";

	tdir_make(dir);
	kv = open_ok(dir);
	put_str(kv, "a", "1");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT_EQUAL(kv_open(&kv2, dir, KV_NAME, err, sizeof(err)),
	    -DFS_ERR_DELAY);
	CU_ASSERT_PTR_NULL(kv2);
	CU_ASSERT(strlen(err) > 0);
	/* the failed attempt did not take the lock or the data away */
	put_str(kv, "b", "2");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	expect_str(kv, "a", "1");
	CU_ASSERT_EQUAL(kv_open(&kv2, dir, KV_NAME, err, sizeof(err)),
	    -DFS_ERR_DELAY);
	kv_close(kv);
	kv = open_ok(dir);
	expect_str(kv, "a", "1");
	expect_str(kv, "b", "2");
	kv_close(kv);
	tdir_remove(dir);
}

static void
test_kv__large_value(void)
{
	unsigned char	*big;
	struct kv	*kv;
	void		*v;
	size_t		 vlen;
	char		 dir[DIRLEN], dir2[DIRLEN];

	big = malloc(BIGLEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	fill(big, BIGLEN, 3);
	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	CU_ASSERT_EQUAL(kv_put(kv, "big", 3, big, BIGLEN), 0);
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv = open_ok(dir2);
	CU_ASSERT_EQUAL_FATAL(kv_get(kv, "big", 3, &v, &vlen), 0);
	CU_ASSERT_EQUAL(vlen, BIGLEN);
	CU_ASSERT(vlen == BIGLEN && memcmp(v, big, BIGLEN) == 0);
	free(v);
	kv_close(kv);
	kv = open_ok(dir);
	CU_ASSERT_EQUAL_FATAL(kv_get(kv, "big", 3, &v, &vlen), 0);
	CU_ASSERT(vlen == BIGLEN && memcmp(v, big, BIGLEN) == 0);
	free(v);
	kv_close(kv);
	free(big);
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* --- crashes ---------------------------------------------------------- */

static void
test_kv__crash_committed_only(void)
{
	struct kv	*kv, *kv2;
	char		 dir[DIRLEN], dir2[DIRLEN];

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	put_str(kv, "kept", "yes");
	put_str(kv, "gone", "before");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	put_str(kv, "lost", "never committed");
	CU_ASSERT_EQUAL(kv_del(kv, "gone", 4), 0);
	put_str(kv, "kept", "overwritten, not committed");
	crash_copy(dir, dir2);
	kv2 = open_ok(dir2);
	expect_str(kv2, "kept", "yes");
	expect_str(kv2, "gone", "before");
	expect_missing(kv2, "lost");
	CU_ASSERT_EQUAL(count_records(kv2), 2);
	kv_close(kv2);
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* Writes committed record "one" then "two" in a fresh store under dir,
 * crash-copies it to dir2 and stores the log offsets where record "two"
 * starts and ends. */
static void
two_records(const char *dir, const char *dir2, off_t *start, off_t *end)
{
	struct kv	*kv;

	kv = open_ok(dir);
	put_str(kv, "one", "first record");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	*start = log_size(dir);
	put_str(kv, "two", "second record");
	put_str(kv, "two-b", "also second record");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	*end = log_size(dir);
	CU_ASSERT_FATAL(*start > 0 && *end > *start);
	crash_copy(dir, dir2);
	kv_close(kv);
}

/* Opens dir2 after damage to its log; expects record one and, if
 * two_survives, record two.  Then checks that the store still takes new
 * commits that survive the next crash (the bad tail was cut off, so a
 * new record does not land behind garbage). */
static void
check_after_damage(const char *dir2, int two_survives)
{
	struct kv	*kv;
	char		 dir3[DIRLEN];

	kv = open_ok(dir2);
	expect_str(kv, "one", "first record");
	if (two_survives) {
		expect_str(kv, "two", "second record");
		expect_str(kv, "two-b", "also second record");
	} else {
		expect_missing(kv, "two");
		expect_missing(kv, "two-b");
	}
	put_str(kv, "three", "after recovery");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	tdir_make(dir3);
	crash_copy(dir2, dir3);
	kv_close(kv);
	kv = open_ok(dir3);
	expect_str(kv, "one", "first record");
	expect_str(kv, "three", "after recovery");
	CU_ASSERT_EQUAL(count_records(kv), two_survives ? 4 : 2);
	kv_close(kv);
	tdir_remove(dir3);
}

/* A crash inside write(2): the last record is cut short by `cut` bytes. */
static void
test_kv__torn_tail_truncated(void)
{
	static const int	 cuts[] = { 1, 3, 8, 17, -16, -15, -1, 0 };
	char			 dir[DIRLEN], dir2[DIRLEN], log[DIRLEN + 16];
	off_t			 start, end, cut;
	size_t			 i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		tdir_make(dir);
		tdir_make(dir2);
		two_records(dir, dir2, &start, &end);
		/* negative: keep that many bytes of record two */
		cut = cuts[i] > 0 ? cuts[i] : end - start + cuts[i];
		if (cuts[i] == 0)
			cut = end - start;
		kv_file(log, dir2, "log");
		CU_ASSERT_EQUAL(truncate(log, end - cut), 0);
		check_after_damage(dir2, 0);
		tdir_remove(dir);
		tdir_remove(dir2);
	}
}

/*
 * The only record is torn: nothing is replayed, so no checkpoint cleans
 * the log up; the torn bytes must still be cut off, or the next commit
 * would land behind them and be lost at the next open.
 */
static void
test_kv__torn_only_record(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN], dir3[DIRLEN];
	char		 log[DIRLEN + 16];
	off_t		 end;

	tdir_make(dir);
	tdir_make(dir2);
	tdir_make(dir3);
	kv = open_ok(dir);
	put_str(kv, "torn", "never acknowledged");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	end = log_size(dir);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv_file(log, dir2, "log");
	CU_ASSERT_EQUAL(truncate(log, end - 3), 0);
	kv = open_ok(dir2);
	expect_missing(kv, "torn");
	put_str(kv, "next", "acknowledged");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	crash_copy(dir2, dir3);
	kv_close(kv);
	kv = open_ok(dir3);
	expect_missing(kv, "torn");
	expect_str(kv, "next", "acknowledged");
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
	tdir_remove(dir3);
}

struct garbage {
	const char	*what;
	unsigned char	 bytes[24];
	size_t		 len;
};

/* Bytes after the last record that no commit wrote. */
static void
test_kv__garbage_tail(void)
{
	static const struct garbage	 cases[] = {
		{ "one byte", { 0x42 }, 1 },
		{ "zeros", { 0 }, 24 },
		{ "text", "not a log record at all", 23 },
		{ "magic, short payload",
		    { 'K', 'V', 'L', '1', 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		    1, 2, 3 }, 19 },
		{ "magic, bad checksum",
		    { 'K', 'V', 'L', '1', 0, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8,
		    1, 2, 3, 4 }, 20 },
		{ "magic, huge length",
		    { 'K', 'V', 'L', '1', 0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4,
		    5, 6, 7, 8, 1, 2 }, 18 },
	};
	char	dir[DIRLEN], dir2[DIRLEN], log[DIRLEN + 16];
	off_t	start, end;
	size_t	i;
	int	fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tdir_make(dir);
		tdir_make(dir2);
		two_records(dir, dir2, &start, &end);
		kv_file(log, dir2, "log");
		fd = open(log, O_WRONLY | O_APPEND);
		CU_ASSERT_FATAL(fd != -1);
		CU_ASSERT_EQUAL(write(fd, cases[i].bytes, cases[i].len),
		    (ssize_t)cases[i].len);
		close(fd);
		check_after_damage(dir2, 1);
		tdir_remove(dir);
		tdir_remove(dir2);
	}
}

/* Flips one bit of the byte at off in path. */
static void
flip_bit(const char *path, off_t off)
{
	unsigned char	c;
	int		fd;

	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_EQUAL(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	CU_ASSERT_EQUAL(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* A record whose checksum does not match is dropped, and only it: the
 * header's checksum, a payload byte or its length may be the one hit. */
static void
test_kv__bad_checksum_last(void)
{
	/* offsets into the last record: checksum, payload, length field */
	static const int	 offs[] = { 8, 15, 16, 20, -1, 7 };
	char			 dir[DIRLEN], dir2[DIRLEN], log[DIRLEN + 16];
	off_t			 start, end, off;
	size_t			 i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		tdir_make(dir);
		tdir_make(dir2);
		two_records(dir, dir2, &start, &end);
		off = offs[i] >= 0 ? start + offs[i] : end + offs[i];
		kv_file(log, dir2, "log");
		flip_bit(log, off);
		check_after_damage(dir2, 0);
		tdir_remove(dir);
		tdir_remove(dir2);
	}
}

/*
 * Records hold whole values, so replaying a log over a checkpoint that
 * already contains it (a crash after the checkpoint's rename but before
 * the log was truncated) gives the same store, however often it happens.
 */
static void
test_kv__replay_idempotent(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN];
	char		 log[DIRLEN + 16], saved[DIRLEN + 16];
	int		 round;

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	put_str(kv, "x", "1");
	put_str(kv, "y", "1");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	put_str(kv, "x", "2");
	CU_ASSERT_EQUAL(kv_del(kv, "y", 1), 0);
	put_str(kv, "z", "3");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv_file(log, dir2, "log");
	kv_file(saved, dir2, "saved");
	CU_ASSERT_EQUAL_FATAL(cutest_copy_file(log, saved), 0);
	for (round = 0; round < 3; round++) {
		kv = open_ok(dir2);
		expect_str(kv, "x", "2");
		expect_missing(kv, "y");
		expect_str(kv, "z", "3");
		CU_ASSERT_EQUAL(count_records(kv), 2);
		/* the open checkpointed the replayed log away */
		CU_ASSERT_EQUAL(log_size(dir2), 0);
		kv_close(kv);
		CU_ASSERT_EQUAL_FATAL(cutest_copy_file(saved, log), 0);
	}
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* A commit that takes the log past the limit checkpoints: the log
 * shrinks and nothing is lost, crash or not. */
static void
test_kv__checkpoint_shrinks_log(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN], key[16], val[512];
	off_t		 prev = 0, sz;
	int		 i, shrunk = 0;

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	kv_set_checkpoint_bytes(kv, 2048);
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		put_str(kv, key, val);
		CU_ASSERT_EQUAL(kv_commit(kv), 0);
		sz = log_size(dir);
		CU_ASSERT(sz >= 0 && sz < 2048);
		if (sz < prev)
			shrunk++;
		prev = sz;
	}
	CU_ASSERT(shrunk >= 3);
	put_str(kv, "last", "one");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT(log_size(dir) > 0);
	CU_ASSERT_EQUAL(kv_checkpoint(kv), 0);
	CU_ASSERT_EQUAL(log_size(dir), 0);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv = open_ok(dir2);
	CU_ASSERT_EQUAL(count_records(kv), 21);
	expect_str(kv, "k00", val);
	expect_str(kv, "k19", val);
	expect_str(kv, "last", "one");
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
}

struct batch_check {
	int	n;
	int	bad;
};

static int
batch_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct batch_check	*b = arg;

	(void)val;
	(void)vlen;
	b->n++;
	if (klen != 5 || memcmp(key, "a", 1) != 0)
		b->bad++;
	return 0;
}

/* 100 committed keys, 100 uncommitted: a crash keeps exactly the first
 * 100, never a part of the second batch. */
static void
test_kv__batch_atomic(void)
{
	struct batch_check	 b = { 0, 0 };
	struct kv		*kv;
	char			 dir[DIRLEN], dir2[DIRLEN], key[16];
	int			 i;

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "a%04d", i);
		put_str(kv, key, "committed");
	}
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "b%04d", i);
		put_str(kv, key, "pending");
	}
	CU_ASSERT_EQUAL(count_records(kv), 200);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv = open_ok(dir2);
	CU_ASSERT_EQUAL(kv_foreach(kv, batch_fn, &b), 0);
	CU_ASSERT_EQUAL(b.n, 100);
	CU_ASSERT_EQUAL(b.bad, 0);
	expect_str(kv, "a0000", "committed");
	expect_str(kv, "a0099", "committed");
	expect_missing(kv, "b0000");
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* --- group commit ---------------------------------------------------- */

/* kv_append() writes a record without syncing; kv_sync() syncs once for
 * all of them; kv_pending() and kv_counts() say so. */
static void
test_kv__append_then_sync(void)
{
	struct kv_counts	 c0, c;
	struct kv		*kv;
	char			 dir[DIRLEN], key[16];
	off_t			 sz = 0;
	int			 i;

	tdir_make(dir);
	kv = open_ok(dir);
	kv_counts(kv, &c0);
	CU_ASSERT_EQUAL(kv_pending(kv), 0);
	CU_ASSERT_EQUAL(kv_append(kv), 0);	/* empty: nothing */
	CU_ASSERT_EQUAL(kv_pending(kv), 0);
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_str(kv, key, "v");
		CU_ASSERT_EQUAL(kv_pending(kv), 1);
		CU_ASSERT_EQUAL(kv_append(kv), 0);
		CU_ASSERT_EQUAL(kv_dirty(kv), 0);
		CU_ASSERT_EQUAL(kv_pending(kv), 1);
		CU_ASSERT(log_size(dir) > sz);	/* written at once */
		sz = log_size(dir);
	}
	kv_counts(kv, &c);
	CU_ASSERT_EQUAL(c.records, c0.records + 5);
	CU_ASSERT_EQUAL(c.bytes, c0.bytes + (uint64_t)sz);
	CU_ASSERT_EQUAL(c.syncs, c0.syncs);
	CU_ASSERT_EQUAL(kv_sync(kv), 0);
	CU_ASSERT_EQUAL(kv_pending(kv), 0);
	CU_ASSERT_EQUAL(kv_sync(kv), 0);	/* nothing left: no sync */
	kv_counts(kv, &c);
	CU_ASSERT_EQUAL(c.syncs, c0.syncs + 1);
	put_str(kv, "k9", "v");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);	/* = append + sync */
	kv_counts(kv, &c);
	CU_ASSERT_EQUAL(c.records, c0.records + 6);
	CU_ASSERT_EQUAL(c.syncs, c0.syncs + 2);
	kv_close(kv);
	tdir_remove(dir);
}

/* Appended records are each atomic, in order; a torn last one is
 * dropped whole and the ones before it kept. */
static void
test_kv__appended_records_atomic(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN], path[DIRLEN + 16];
	off_t		 first;

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	put_str(kv, "a", "1");
	put_str(kv, "b", "1");
	CU_ASSERT_EQUAL(kv_append(kv), 0);
	first = log_size(dir);
	put_str(kv, "c", "2");
	put_str(kv, "d", "2");
	CU_ASSERT_EQUAL(kv_append(kv), 0);
	crash_copy(dir, dir2);
	kv_file(path, dir2, "log");
	CU_ASSERT_EQUAL_FATAL(truncate(path, log_size(dir2) - 3), 0);
	kv_close(kv);
	kv = open_ok(dir2);
	expect_str(kv, "a", "1");
	expect_str(kv, "b", "1");
	expect_missing(kv, "c");
	expect_missing(kv, "d");
	CU_ASSERT(first > 0);
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* A checkpoint holds what was appended: nothing is pending after it. */
static void
test_kv__checkpoint_ends_pending(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], dir2[DIRLEN];

	tdir_make(dir);
	tdir_make(dir2);
	kv = open_ok(dir);
	put_str(kv, "a", "1");
	CU_ASSERT_EQUAL(kv_append(kv), 0);
	CU_ASSERT_EQUAL(kv_checkpoint(kv), 0);
	CU_ASSERT_EQUAL(kv_pending(kv), 0);
	CU_ASSERT_EQUAL(log_size(dir), 0);
	crash_copy(dir, dir2);
	kv_close(kv);
	kv = open_ok(dir2);
	expect_str(kv, "a", "1");
	kv_close(kv);
	tdir_remove(dir);
	tdir_remove(dir2);
}

/* Fills the file system holding `path` with that file until ENOSPC.
 * Returns 0 or -1. */
static int
fill_fs(const char *path)
{
	static char	buf[65536];
	ssize_t		n;
	int		fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	do
		n = write(fd, buf, sizeof(buf));
	while (n > 0);
	close(fd);
	return n == -1 && errno == ENOSPC ? 0 : -1;
}

/*
 * On a full disk (a small tmpfs; skipped, passing, where it cannot be
 * mounted), changes go on within the reserve until kv_reserve() says
 * NOSPC, and nothing the store acknowledged is lost: a checkpoint, a
 * close and a reopen all work on the full disk.  With room again,
 * kv_reserve() succeeds.
 */
static void
test_kv__full_disk(void)
{
	struct kv	*kv;
	char		 dir[DIRLEN], fill[DIRLEN + 16], key[32], last[32];
	char		 val[1024];
	unsigned int	 i;
	int		 rc = 0;

	tdir_make(dir);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") == -1) {
		fprintf(stderr, "skipped: cannot mount a tmpfs: %s\n",
		    strerror(errno));
		tdir_remove(dir);
		return;
	}
	snprintf(fill, sizeof(fill), "%s/fill", dir);
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	kv = open_ok(dir);
	put_str(kv, "first", "1");
	CU_ASSERT_EQUAL(kv_commit(kv), 0);
	CU_ASSERT_EQUAL_FATAL(fill_fs(fill), 0);
	last[0] = '\0';
	for (i = 0; i < 100000 && rc == 0; i++) {
		rc = kv_reserve(kv, 4096);
		if (rc != 0)
			break;
		snprintf(key, sizeof(key), "k%u", i);
		put_str(kv, key, val);
		CU_ASSERT_EQUAL_FATAL(kv_commit(kv), 0);
		snprintf(last, sizeof(last), "%s", key);
	}
	CU_ASSERT_EQUAL(rc, -DFS_ERR_NOSPC);
	CU_ASSERT_FATAL(last[0] != '\0');
	CU_ASSERT_EQUAL(kv_checkpoint(kv), 0);
	CU_ASSERT_EQUAL(log_size(dir), 0);
	kv_close(kv);
	kv = open_ok(dir);
	expect_str(kv, "first", "1");
	expect_str(kv, last, val);
	CU_ASSERT_EQUAL(unlink(fill), 0);
	CU_ASSERT_EQUAL(kv_reserve(kv, 4096), 0);
	kv_close(kv);
	CU_ASSERT_EQUAL(umount2(dir, MNT_DETACH), 0);
	tdir_remove(dir);
}

static CU_TestInfo kv_group_tests[] = {
	{ "append_then_sync",		test_kv__append_then_sync },
	{ "appended_records_atomic",	test_kv__appended_records_atomic },
	{ "checkpoint_ends_pending",	test_kv__checkpoint_ends_pending },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo kv_tests[] = {
	{ "put_get_del",		test_kv__put_get_del },
	{ "missing_key",		test_kv__missing_key },
	{ "foreach_all",		test_kv__foreach_all },
	{ "reopen",			test_kv__reopen },
	{ "work_in_memory",		test_kv__work_in_memory },
	{ "dirty_and_empty_commit",	test_kv__dirty_and_empty_commit },
	{ "open_errors",		test_kv__open_errors },
	{ "second_open_delay",		test_kv__second_open_delay },
	{ "large_value",		test_kv__large_value },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo kv_crash_tests[] = {
	{ "crash_committed_only",	test_kv__crash_committed_only },
	{ "torn_tail_truncated",	test_kv__torn_tail_truncated },
	{ "torn_only_record",		test_kv__torn_only_record },
	{ "garbage_tail",		test_kv__garbage_tail },
	{ "bad_checksum_last",		test_kv__bad_checksum_last },
	{ "replay_idempotent",		test_kv__replay_idempotent },
	{ "checkpoint_shrinks_log",	test_kv__checkpoint_shrinks_log },
	{ "batch_atomic",		test_kv__batch_atomic },
	{ "full_disk",			test_kv__full_disk },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "kv", NULL, NULL, NULL, NULL, kv_tests },
	{ "kv_crash", NULL, NULL, NULL, NULL, kv_crash_tests },
	{ "kv_group", NULL, NULL, NULL, NULL, kv_group_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
