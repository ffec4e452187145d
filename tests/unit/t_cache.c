/*
 * t_cache.c -- client/cache.c: the persistent whole-file cache, driven
 * directly (no daemons) with fake handles from fh_encode() and readers
 * over memory.  Each test has its own mkdtemp directory.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <xxhash.h>

#include "../cutest.h"

#include "client.h"
#include "fh.h"

#define INSTANCE	UINT64_C(0x0123456789abcdef)
#define SECRET		UINT64_C(0xfeedfacecafebeef)

/* sizes that let gcc see every path built from them fits PATH_MAX */
static char	tmp[256];		/* this test's directory */
static char	root[512];		/* the cache dir in it */

/* A handle for file id `id` and its key. */
struct fake {
	unsigned char	 fh[FH_LEN];
	struct cache_key k;
};

static void
fake_init(struct fake *fk, uint64_t id, uint64_t vers, uint64_t size)
{
	struct fh	fh = { INSTANCE, id };

	fh_encode(&fh, SECRET, fk->fh);
	fk->k.fh = fk->fh;
	fk->k.fhlen = FH_LEN;
	fk->k.vers = vers;
	fk->k.size = size;
}

/* A reader over memory; fails with `fail` once `fail_at` bytes were
 * read (fail 0: never), sleeps `delay_us` per call. */
struct mem {
	const char	*p;
	size_t		 n;
	size_t		 fail_at;
	int		 fail;
	useconds_t	 delay_us;
};

static ssize_t
mem_read(void *arg, char *buf, size_t n, uint64_t off)
{
	struct mem	*m = arg;

	if (m->delay_us != 0)
		usleep(m->delay_us);
	if (m->fail != 0 && off >= m->fail_at)
		return m->fail;
	if (off >= m->n)
		return 0;
	if (n > m->n - off)
		n = (size_t)(m->n - off);
	if (n > 4096)		/* several calls for everything */
		n = 4096;
	memcpy(buf, m->p + off, n);
	return (ssize_t)n;
}

/* Bytes that depend on seed. */
static char *
pattern(size_t n, unsigned int seed)
{
	char	*p = malloc(n + 1);
	size_t	 i;

	for (i = 0; p != NULL && i < n; i++)
		p[i] = (char)((i * 31 + seed * 7 + i / 251) & 0xff);
	return p;
}

/* Before each test: a new directory; the cache goes in "cache". */
static void
setup_each(void)
{
	snprintf(tmp, sizeof(tmp), "%s/t_cache.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL)
		abort();
	snprintf(root, sizeof(root), "%s/cache", tmp);
}

static void
chmod_back(const char *path)
{
	(void)chmod(path, 0700);
}

static void
teardown_each(void)
{
	char	p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/ro", tmp);
	chmod_back(p);
	(void)cutest_rmtree(tmp);
}

/* Fills k from data with a memory reader.  Returns cache_fill()'s. */
static int
fill(struct cache *c, const struct fake *fk, const char *data, int *fdp)
{
	struct mem	m = { data, (size_t)fk->k.size, 0, 0, 0 };

	return cache_fill(c, &fk->k, mem_read, &m, fdp);
}

/* Returns 1 if fd holds exactly the n bytes at data. */
static int
fd_holds(int fd, const char *data, size_t n)
{
	char	*buf = malloc(n + 1);
	ssize_t	 got;
	int	 ok;

	if (buf == NULL)
		return 0;
	got = pread(fd, buf, n + 1, 0);
	ok = got == (ssize_t)n && memcmp(buf, data, n) == 0;
	free(buf);
	return ok;
}

/* The path of k's entry (any hash) into buf, if there is one.  Returns
 * 1 if found. */
static int
entry_path(const struct fake *fk, char *buf)
{
	char		 dir[1024], hex[FH_HEXLEN + 1], pre[64];
	DIR		*d;
	struct dirent	*de;
	int		 found = 0;

	fh_hex(fk->fh, FH_LEN, hex);
	snprintf(dir, sizeof(dir), "%s/%016" PRIx64 "/%s", root, INSTANCE,
	    hex);
	snprintf(pre, sizeof(pre), "%" PRIu64 "-%" PRIu64 "-", fk->k.vers,
	    fk->k.size);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, pre, strlen(pre)) == 0) {
			snprintf(buf, PATH_MAX, "%s/%s", dir, de->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

/* Counts the regular files under dir whose names start with prefix
 * ("" for all), and sums their sizes into *bytes (may be NULL).  The
 * ledger (<root>/usage) is not one of them. */
/* The ledger's path into buf (PATH_MAX bytes). */
static void
ledger_path(char *buf)
{
	snprintf(buf, PATH_MAX, "%s/usage", root);
}

static char *
ledger_at(char *buf)
{
	ledger_path(buf);
	return buf;
}

static int
is_ledger(const char *path)
{
	char	l[PATH_MAX];

	ledger_path(l);
	return strcmp(path, l) == 0;
}

/* The ledger's count, or -1 when it does not hold one. */
static int64_t
ledger_count(void)
{
	char		 l[PATH_MAX], buf[64];
	FILE		*fp;
	long long	 v = -1;

	ledger_path(l);
	if ((fp = fopen(l, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) == NULL || strlen(buf) != 21 ||
	    sscanf(buf, "%lld", &v) != 1)
		v = -1;
	fclose(fp);
	return v;
}

static int
count_files(const char *dir, const char *prefix, uint64_t *bytes)
{
	char		 p[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == -1 || is_ledger(p))
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_files(p, prefix, bytes);
		else if (S_ISREG(st.st_mode) &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			n++;
			if (bytes != NULL)
				*bytes += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	return n;
}

static void
test_cache__hit_after_fill(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(100000, 1);
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	fake_init(&fk, 7, 3, 100000);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, &fd), 0);
	CU_ASSERT(fd_holds(fd, data, 100000));
	close(fd);
	fd = -1;
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), 0);
	CU_ASSERT(fd != -1 && fd_holds(fd, data, 100000));
	if (fd != -1)
		close(fd);
	/* another size for the same version is not a hit */
	fk.k.size = 99999;
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	/* nothing left behind but (at most) the entry */
	CU_ASSERT_EQUAL(count_files(root, ".tmp.", NULL), 0);
	free(data);
}

/* A newer version makes the older entry useless: it goes on lookup. */
static void
test_cache__newer_version(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(5000, 2), path[PATH_MAX];
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 8, 1, 5000);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	CU_ASSERT(entry_path(&fk, path));
	fk.k.vers = 2;
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	/* version 0 (never committed) is never cached */
	fk.k.vers = 0;
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), CACHE_MISS);
	free(data);
}

/* How an entry is damaged. */
enum damage { TRUNCATE, FLIP, GROW };

static void
damage_case(enum damage how)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(70000, 3), path[PATH_MAX];
	int		 fd = -1, wfd;
	char		 b;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 9 + how, 5, 70000);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	CU_ASSERT_FATAL(entry_path(&fk, path));
	wfd = open(path, O_RDWR);
	CU_ASSERT_FATAL(wfd != -1);
	if (how == TRUNCATE)
		CU_ASSERT_EQUAL(ftruncate(wfd, 69999), 0);
	if (how == FLIP) {
		CU_ASSERT_EQUAL(pread(wfd, &b, 1, 12345), 1);
		b ^= 0x01;
		CU_ASSERT_EQUAL(pwrite(wfd, &b, 1, 12345), 1);
	}
	if (how == GROW)
		CU_ASSERT_EQUAL(pwrite(wfd, "x", 1, 70000), 1);
	close(wfd);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);	/* dropped */
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	/* and fetched again */
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), 0);
	if (fd != -1) {
		CU_ASSERT(fd_holds(fd, data, 70000));
		close(fd);
	}
	free(data);
}

static void
test_cache__truncated(void)
{
	damage_case(TRUNCATE);
}

static void
test_cache__flipped_byte(void)
{
	damage_case(FLIP);
}

static void
test_cache__grown(void)
{
	damage_case(GROW);
}

/* Creates path as a file holding `text`. */
static void
put_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	CU_ASSERT_FATAL(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

static void
test_cache__junk_ignored(void)
{
	static const char *const	 names[] = { "junk", "1-2", "1-2-3",
	    "01-5-0000000000000000", "1-5-000000000000000G", "-1-5-0",
	    "1-5-00000000000000000", ".tmp.1.2", "1-5-0000000000000000x" };
	struct cache			 c;
	struct fake			 fk;
	char				*data = pattern(5, 4);
	char				 p[PATH_MAX], hexdir[1024];
	char				 hex[FH_HEXLEN + 1];
	size_t				 i;
	uint64_t			 bytes = 0;
	int				 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 20, 1, 5);
	fh_hex(fk.fh, FH_LEN, hex);
	snprintf(hexdir, sizeof(hexdir), "%s/%016" PRIx64 "/%s", root,
	    INSTANCE, hex);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	/* junk at every level: files, directories, a lookalike entry name
	 * that is a directory, one that is a symlink */
	snprintf(p, sizeof(p), "%s/notes.txt", root);
	put_file(p, "hello");
	snprintf(p, sizeof(p), "%s/0123", root);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/%016" PRIx64 "/abc", root, INSTANCE);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", hexdir, names[i]);
		put_file(p, "junk!");
	}
	snprintf(p, sizeof(p), "%s/2-5-0000000000000000", hexdir);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), 0);
	if (fd != -1) {
		CU_ASSERT(fd_holds(fd, data, 5));
		close(fd);
	}
	/* eviction skips them too; nothing of theirs is removed */
	CU_ASSERT_EQUAL(cache_evict(&c, 1000), 0);
	CU_ASSERT_EQUAL(count_files(root, "", &bytes),
	    1 + 1 + (int)(sizeof(names) / sizeof(names[0])));
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	free(data);
}

/* A lookalike entry of the right version that is a symlink is never
 * followed: it is dropped, its target kept. */
static void
test_cache__symlink_entry(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(5, 5), path[PATH_MAX], target[PATH_MAX];
	char		 hex[FH_HEXLEN + 1];
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 21, 1, 5);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	CU_ASSERT_FATAL(entry_path(&fk, path));
	snprintf(target, sizeof(target), "%s/target", tmp);
	CU_ASSERT_EQUAL(rename(path, target), 0);
	CU_ASSERT_EQUAL(symlink(target, path), 0);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(access(target, F_OK), 0);
	fh_hex(fk.fh, FH_LEN, hex);
	CU_ASSERT(!entry_path(&fk, path));
	free(data);
}

/* Sets the mtime of k's entry to `age` seconds ago. */
static void
age_entry(const struct fake *fk, time_t age)
{
	char		path[PATH_MAX];
	struct timespec	ts[2];

	CU_ASSERT_FATAL(entry_path(fk, path));
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
test_cache__evict_lru(void)
{
	struct cache	 c;
	struct fake	 fk[5];
	char		*data = pattern(3000, 6), path[PATH_MAX];
	uint64_t	 bytes = 0;
	int		 i, fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 10000);
	for (i = 0; i < 3; i++) {		/* 9000 bytes: all fit */
		fake_init(&fk[i], 30 + (uint64_t)i, 1, 3000);
		CU_ASSERT_EQUAL(fill(&c, &fk[i], data, NULL), 0);
		age_entry(&fk[i], 100 - i * 10);	/* 0 is the oldest */
	}
	/* using 0 makes 1 the least recently used */
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk[0].k, &fd), 0);
	if (fd != -1)
		close(fd);
	fake_init(&fk[3], 33, 1, 3000);
	CU_ASSERT_EQUAL(fill(&c, &fk[3], data, NULL), 0);
	CU_ASSERT(entry_path(&fk[0], path));
	CU_ASSERT(!entry_path(&fk[1], path));
	CU_ASSERT(entry_path(&fk[2], path));
	CU_ASSERT(entry_path(&fk[3], path));
	CU_ASSERT_EQUAL(count_files(root, "", &bytes), 3);
	CU_ASSERT(bytes <= 10000);
	/* one that needs the whole cache evicts everything else */
	fake_init(&fk[4], 34, 1, 10000);
	free(data);
	data = pattern(10000, 7);
	CU_ASSERT_FATAL(data != NULL);
	CU_ASSERT_EQUAL(fill(&c, &fk[4], data, NULL), 0);
	bytes = 0;
	CU_ASSERT_EQUAL(count_files(root, "", &bytes), 1);
	CU_ASSERT_EQUAL(bytes, 10000);
	free(data);
}

/* An old temporary file in k's handle directory (a killed fill's),
 * which only a scan removes; its path goes to p (PATH_MAX bytes). */
static void
plant_stale_tmp(const struct fake *fk, char *p)
{
	char		hex[FH_HEXLEN + 1];
	struct timespec	ts[2] = { { 0, 0 }, { 0, 0 } };

	fh_hex(fk->fh, FH_LEN, hex);
	snprintf(p, PATH_MAX, "%s/%016" PRIx64 "/%s/.tmp.1.00000000000000aa",
	    root, INSTANCE, hex);
	put_file(p, "left by a killed fill");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 7200;
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/*
 * Fills count themselves in the ledger and do not scan while it is
 * under the limit: bytes it does not know of (an entry it never
 * counted, an old temporary file) stay until a fill would pass the
 * limit.  That scan evicts down to 90% and writes the true total.
 */
static void
test_cache__ledger(void)
{
	struct cache	 c;
	struct fake	 fk[5], other, last;
	char		*data = pattern(2000, 8), stale[PATH_MAX];
	char		 path[PATH_MAX];
	uint64_t	 bytes = 0;
	int		 i;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 10000);
	for (i = 0; i < 2; i++) {
		fake_init(&fk[i], 40 + (uint64_t)i, 1, 2000);
		CU_ASSERT_EQUAL(fill(&c, &fk[i], data, NULL), 0);
		age_entry(&fk[i], 100 - i * 10);
	}
	CU_ASSERT_EQUAL(ledger_count(), 4000);
	/* another writer's entry the ledger never heard of, oldest of all */
	fake_init(&other, 49, 1, 2000);
	CU_ASSERT_EQUAL(fill(&c, &other, data, NULL), 0);
	age_entry(&other, 1000);
	CU_ASSERT_EQUAL(unlink(ledger_at(path)), 0);
	plant_stale_tmp(&fk[0], stale);
	/* a fill with a missing ledger scans: the true total comes back */
	fake_init(&fk[2], 42, 1, 2000);
	CU_ASSERT_EQUAL(fill(&c, &fk[2], data, NULL), 0);
	CU_ASSERT_EQUAL(ledger_count(), 8000);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	/* a fill the ledger counts, then set back: an entry it does not
	 * know of (1500 bytes, the oldest), and a stale temporary file */
	fake_init(&fk[4], 44, 1, 1500);
	CU_ASSERT_EQUAL(fill(&c, &fk[4], data, NULL), 0);
	CU_ASSERT_EQUAL(ledger_count(), 9500);
	age_entry(&fk[4], 2000);
	put_file(ledger_at(path), "00000000000000008000\n");
	plant_stale_tmp(&fk[0], stale);
	/* 8000 + 2000 fits: no scan, both stay */
	fake_init(&fk[3], 43, 1, 2000);
	CU_ASSERT_EQUAL(fill(&c, &fk[3], data, NULL), 0);
	CU_ASSERT_EQUAL(ledger_count(), 10000);
	CU_ASSERT_EQUAL(access(stale, F_OK), 0);
	CU_ASSERT(entry_path(&fk[4], path));
	/* the next one would pass the limit: the scan finds 11500 bytes
	 * and evicts the oldest (fk[4], other, fk[0]) until 2000 more fit
	 * in 9000 */
	fake_init(&last, 50, 1, 2000);
	CU_ASSERT_EQUAL(fill(&c, &last, data, NULL), 0);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	CU_ASSERT(!entry_path(&fk[4], path));
	CU_ASSERT(!entry_path(&other, path));
	CU_ASSERT(!entry_path(&fk[0], path));
	CU_ASSERT(entry_path(&fk[1], path));
	CU_ASSERT(entry_path(&fk[2], path));
	CU_ASSERT(entry_path(&fk[3], path));
	CU_ASSERT(entry_path(&last, path));
	CU_ASSERT_EQUAL(count_files(root, "", &bytes), 4);
	CU_ASSERT_EQUAL(bytes, 8000);
	CU_ASSERT_EQUAL(ledger_count(), 8000);
	free(data);
}

/* A ledger that is not one (another length, not digits, past 2^64) is
 * never trusted: the fill scans and writes a good one. */
static void
test_cache__ledger_bad(void)
{
	static const char *const	 bad[] = { "", "12\n", "junk",
	    "0000000000000000000x\n", "99999999999999999999\n",
	    "00000000000000000000\nmore" };
	struct cache			 c;
	struct fake			 fk;
	char				*data = pattern(100, 9);
	char				 l[PATH_MAX], stale[PATH_MAX];
	size_t				 i;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 70, 1, 100);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(ledger_at(l), bad[i]);
		plant_stale_tmp(&fk, stale);
		fk.k.vers = 2 + i;
		CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
		CU_ASSERT_EQUAL(access(stale, F_OK), -1);
		/* the entries of every version so far, and the new one */
		CU_ASSERT_EQUAL(ledger_count(), (int64_t)(100 * (i + 2)));
	}
	free(data);
}

static void
test_cache__too_large(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(10001, 8);
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 10000);
	fake_init(&fk, 40, 1, 10001);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, &fd), CACHE_MISS);
	CU_ASSERT_EQUAL(fd, -1);
	CU_ASSERT_EQUAL(count_files(root, "", NULL), 0);
	CU_ASSERT_PTR_NULL(cache_warning(&c));	/* not a failure */
	free(data);
}

/* A reader that fails half-way leaves nothing, and the cache on. */
static void
test_cache__reader_fails(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(20000, 9);
	struct mem	 m = { data, 20000, 8192, -DFS_ERR_STALE, 0 };

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 41, 1, 20000);
	CU_ASSERT_EQUAL(cache_fill(&c, &fk.k, mem_read, &m, NULL),
	    -DFS_ERR_STALE);
	/* a reader that ends early is STALE too */
	m.fail = 0;
	m.n = 10000;
	CU_ASSERT_EQUAL(cache_fill(&c, &fk.k, mem_read, &m, NULL),
	    -DFS_ERR_STALE);
	CU_ASSERT_EQUAL(count_files(root, "", NULL), 0);
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	free(data);
}

/* Returns a cache directory that cannot be created or written. */
static const char *
unusable_dir(char *buf)
{
	char	ro[512];

	if (geteuid() == 0) {		/* root writes anywhere: a path
					   under a regular file */
		snprintf(ro, sizeof(ro), "%s/file", tmp);
		put_file(ro, "x");
		snprintf(buf, PATH_MAX, "%s/file/sub", tmp);
		return buf;
	}
	snprintf(ro, sizeof(ro), "%s/ro", tmp);
	CU_ASSERT_EQUAL(mkdir(ro, 0500), 0);
	snprintf(buf, PATH_MAX, "%s/ro/sub", tmp);
	return buf;
}

static void
test_cache__unwritable(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		 dir[PATH_MAX], *data = pattern(10, 10);
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, unusable_dir(dir), 1 << 20);
	CU_ASSERT_PTR_NOT_NULL(cache_warning(&c));
	if (cache_warning(&c) != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(cache_warning(&c), dir));
	fake_init(&fk, 50, 1, 10);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, &fd), CACHE_MISS);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	/* a cache dir that is a file */
	snprintf(dir, sizeof(dir), "%s/plain", tmp);
	put_file(dir, "x");
	cache_init(&c, dir, 1 << 20);
	CU_ASSERT_PTR_NOT_NULL(cache_warning(&c));
	/* no dir at all: off, but nothing to warn about */
	cache_init(&c, NULL, 1 << 20);
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	CU_ASSERT_EQUAL(fill(&c, &fk, data, &fd), CACHE_MISS);
	free(data);
}

/* A file where the instance's directory belongs turns the cache off at
 * the first fill. */
static void
test_cache__blocked_dir(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		 p[PATH_MAX], *data = pattern(10, 11);

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	CU_ASSERT_PTR_NULL(cache_warning(&c));
	snprintf(p, sizeof(p), "%s/%016" PRIx64, root, INSTANCE);
	put_file(p, "in the way");
	fake_init(&fk, 51, 1, 10);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), CACHE_MISS);
	CU_ASSERT_PTR_NOT_NULL(cache_warning(&c));
	free(data);
}

/* A full disk (RLIMIT_FSIZE, in a child) turns the cache off and leaves
 * no temporary file. */
static void
test_cache__full(void)
{
	struct cache	 c;
	struct fake	 fk;
	struct rlimit	 rl = { 4096, 4096 };
	char		*data = pattern(100000, 12);
	pid_t		 pid;
	int		 st = -1, rc;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 52, 1, 100000);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		rc = fill(&c, &fk, data, NULL);
		_exit(rc == CACHE_MISS && cache_warning(&c) != NULL ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(count_files(root, "", NULL), 0);
	free(data);
}

/* Two processes fill one entry at once: one valid entry, no temp. */
static void
test_cache__concurrent_fill(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		*data = pattern(200000, 13), path[PATH_MAX];
	pid_t		 pid[2];
	int		 i, st, fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 60, 4, 200000);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		CU_ASSERT_FATAL(pid[i] != -1);
		if (pid[i] == 0) {
			struct mem	m = { data, 200000, 0, 0, 200 };

			_exit(cache_fill(&c, &fk.k, mem_read, &m, NULL) == 0 ?
			    0 : 1);
		}
	}
	for (i = 0; i < 2; i++) {
		st = -1;
		CU_ASSERT_EQUAL(waitpid(pid[i], &st, 0), pid[i]);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CU_ASSERT_EQUAL(count_files(root, "", NULL), 1);
	CU_ASSERT(entry_path(&fk, path));
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), 0);
	if (fd != -1) {
		CU_ASSERT(fd_holds(fd, data, 200000));
		close(fd);
	}
	free(data);
}

/* A killed fill leaves a temporary file that is never served; an old
 * one is removed by the next eviction scan. */
static void
test_cache__stale_tmp(void)
{
	struct cache	 c;
	struct fake	 fk;
	char		 p[PATH_MAX], hex[FH_HEXLEN + 1], *data = pattern(10, 14);
	struct timespec	 ts[2] = { { 0, 0 }, { 0, 0 } };
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	fake_init(&fk, 61, 1, 10);
	CU_ASSERT_EQUAL(fill(&c, &fk, data, NULL), 0);
	fh_hex(fk.fh, FH_LEN, hex);
	snprintf(p, sizeof(p), "%s/%016" PRIx64 "/%s/.tmp.1.0000000000000001",
	    root, INSTANCE, hex);
	put_file(p, "half a fi");
	fk.k.vers = 2;		/* as if the killed fill was of version 2 */
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), -DFS_ERR_NOENT);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 7200;
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, p, ts, 0), 0);
	CU_ASSERT_EQUAL(cache_evict(&c, 0), 0);
	CU_ASSERT_EQUAL(access(p, F_OK), -1);
	free(data);
}

/* What a writer committed goes in from its spool. */
static void
test_cache__put_from_spool(void)
{
	struct cache	 c;
	struct fake	 fk;
	struct spool	 sp;
	char		*data = pattern(300000, 15);
	int		 fd = -1;

	CU_ASSERT_FATAL(data != NULL);
	cache_init(&c, root, 1 << 20);
	spool_init(&sp, 65536, tmp);		/* spills to a file */
	CU_ASSERT_EQUAL(spool_pwrite(&sp, data, 300000, 0), 300000);
	fake_init(&fk, 70, 9, 300000);
	CU_ASSERT_EQUAL(cache_put_from_spool(&c, &fk.k, &sp), 0);
	CU_ASSERT_EQUAL(cache_open_entry(&c, &fk.k, &fd), 0);
	if (fd != -1) {
		CU_ASSERT(fd_holds(fd, data, 300000));
		close(fd);
	}
	/* a spool that is not the whole version is not stored */
	fk.k.vers = 10;
	fk.k.size = 300001;
	CU_ASSERT_EQUAL(cache_put_from_spool(&c, &fk.k, &sp), CACHE_MISS);
	spool_release(&sp);
	free(data);
}

/* dfs.conf: cache_dir and cache_size, good and bad. */
static void
test_cache__config(void)
{
	static const struct {
		const char	*text;
		int		 rc;
		uint64_t	 size;
	} cases[] = {
		{ "cache_dir = /x/y\ncache_size = 2G\n", 0, 2ULL << 30 },
		{ "[client]\ncache_size = 4096\n", 0, 4096 },
		{ "cache_size = 64k\n", 0, 65536 },
		{ "cache_size = 0\n", -DFS_ERR_INVAL, 0 },
		{ "cache_size = 1X\n", -DFS_ERR_INVAL, 0 },
		{ "cache_size = -1\n", -DFS_ERR_INVAL, 0 },
		{ "cache_dir =\n", -DFS_ERR_INVAL, 0 },
		{ "cache_color = red\n", -DFS_ERR_INVAL, 0 },
	};
	struct dfs	*dfs;
	char		 conf[PATH_MAX];
	size_t		 i;

	snprintf(conf, sizeof(conf), "%s/dfs.conf", tmp);
	setenv("DFS_CONFIG", conf, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_file(conf, cases[i].text);
		dfs = calloc(1, sizeof(*dfs));
		CU_ASSERT_FATAL(dfs != NULL);
		CU_ASSERT_EQUAL(config_load(dfs), cases[i].rc);
		if (cases[i].rc == 0)
			CU_ASSERT_EQUAL(dfs->conf_cache_size, cases[i].size);
		if (i == 0)
			CU_ASSERT_STRING_EQUAL(dfs->conf_cache_dir, "/x/y");
		free(dfs);
	}
	unsetenv("DFS_CONFIG");
}

static CU_TestInfo cache_tests[] = {
	{ "hit_after_fill",	test_cache__hit_after_fill },
	{ "newer_version",	test_cache__newer_version },
	{ "truncated",		test_cache__truncated },
	{ "flipped_byte",	test_cache__flipped_byte },
	{ "grown",		test_cache__grown },
	{ "junk_ignored",	test_cache__junk_ignored },
	{ "symlink_entry",	test_cache__symlink_entry },
	{ "evict_lru",		test_cache__evict_lru },
	{ "ledger",		test_cache__ledger },
	{ "ledger_bad",		test_cache__ledger_bad },
	{ "too_large",		test_cache__too_large },
	{ "reader_fails",	test_cache__reader_fails },
	{ "unwritable",		test_cache__unwritable },
	{ "blocked_dir",	test_cache__blocked_dir },
	{ "full",		test_cache__full },
	{ "concurrent_fill",	test_cache__concurrent_fill },
	{ "stale_tmp",		test_cache__stale_tmp },
	{ "put_from_spool",	test_cache__put_from_spool },
	{ "config",		test_cache__config },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "cache", NULL, NULL, setup_each, teardown_each, cache_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
