/*
 * it_cache.c -- the client cache against real daemons.
 *
 * Every client has its own cache directory under the cluster root (two
 * processes share one on purpose).  Whether file data moved is never
 * guessed from timings: the file server's READ counter (FOP_STATS) is
 * read before and after, and a cached re-read must leave it where it
 * was.  Cases: a cached 64 MiB re-read moves no data; another client's
 * overwrite (twice within one second) is seen by the next open;
 * dfs_from_cache() for a current, outdated, removed and locked file;
 * LRU eviction under cache_size; two processes filling one entry at
 * once; a truncated or corrupted entry is dropped and fetched again; a
 * cache directory that cannot be one leaves the client working,
 * uncached, with a warning.  Writers use a client without a cache, so
 * that only reads fill the caches under test.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <xxhash.h>

#include "../cutest.h"
#include "dfs.h"
#include "harness.h"
#include "request.h"

#define MIB		(1024u * 1024u)
#define BIG_SIZE	(64u * MIB)
#define NO_COUNTER	UINT64_MAX

static struct cluster	 cl;
static struct dfs	*w;		/* the writer: no cache */
static char		 dirs[16][512];	/* outlive their clients */
static int		 ndirs;

/* What a walk of a cache directory found. */
struct walk {
	int		 entries;	/* named <vers>-<size>-<hash> */
	int		 temps;		/* .tmp.* left behind */
	uint64_t	 bytes;		/* size of every regular file but
					 * the ledger, <root>/usage */
	char		 entry[1024];	/* the last entry seen */
};
static struct walk	*walking;	/* nftw(3) has no argument pointer */

/* Returns "<root>/<name>", kept until the end of the program. */
static const char *
cachedir(const char *name)
{
	char	*d = dirs[ndirs++ % 16];

	snprintf(d, sizeof(dirs[0]), "%s/%s", cl.root, name);
	return d;
}

/* A new client caching in `dir` (NULL: no cache) at most `size` bytes
 * (0: the default).  Returns it or NULL. */
static struct dfs *
client(const char *dir, uint64_t size)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*d;

	o.server = cl.named_spec;
	o.cache_dir = dir;
	o.cache_size = size;
	o.no_cache = dir == NULL;
	return dfs_connect(&d, &o) == 0 ? d : NULL;
}

static int
suite_init(void)
{
	char	xdg[512];

	if (cluster_start(&cl, 1) == -1)
		return -1;
	/* nothing may land in the real ~/.cache */
	snprintf(xdg, sizeof(xdg), "%s/xdg", cl.root);
	setenv("XDG_CACHE_HOME", xdg, 1);
	unsetenv("DFS_LOCKS");
	w = client(NULL, 0);
	return w != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	dfs_disconnect(w);
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* The bytes file server 0 has sent in READ replies since it started,
 * from a one-op FILE COMPOUND [STATS].  Returns NO_COUNTER on failure. */
static uint64_t
read_bytes(void)
{
	uint64_t	n;

	return harness_filed_counter(&cl.filed[0], "READ", NULL, &n) == 0 ?
	    n : NO_COUNTER;
}

/* Fills buf with bytes that depend on seed and the offset. */
static void
pattern(unsigned char *buf, size_t n, uint64_t seed)
{
	uint64_t	x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (unsigned char)(x >> (i % 8 * 8));
	}
}

/* Writes n bytes to path through client d, opened with mode.  Returns
 * 0 or a status. */
static int
put(struct dfs *d, const char *path, const char *mode, const void *buf,
    size_t n)
{
	struct dfs_file	*f;
	size_t		 off, len;
	ssize_t		 got;
	int		 rc;

	if ((rc = dfs_open(d, path, mode, &f)) != 0)
		return rc;
	for (off = 0; off < n; off += len) {
		len = n - off < MIB ? n - off : MIB;
		got = dfs_write(f, (const char *)buf + off, len);
		if (got != (ssize_t)len) {
			(void)dfs_abort(f);
			return got < 0 ? (int)got : -DFS_ERR_IO;
		}
	}
	return dfs_close(f);
}

/* Reads all of an open file into buf (cap bytes).  Returns the length
 * or a negative status. */
static ssize_t
slurp(struct dfs_file *f, void *buf, size_t cap)
{
	size_t	len = 0;
	ssize_t	n = 0;
	int	rc;

	while (len < cap &&
	    (n = dfs_read(f, (char *)buf + len, cap - len)) > 0)
		len += (size_t)n;
	rc = dfs_close(f);
	if (n < 0)
		return n;
	return rc != 0 ? rc : (ssize_t)len;
}

/* Opens path with `mode` and reads all of it.  Returns the length or a
 * negative status. */
static ssize_t
get(struct dfs *d, const char *path, const char *mode, void *buf,
    size_t cap)
{
	struct dfs_file	*f;
	int		 rc;

	if ((rc = dfs_open(d, path, mode, &f)) != 0)
		return rc;
	return slurp(f, buf, cap);
}

/* Returns 1 if path holds exactly n bytes of pattern seed
 * when read through d with mode, else 0. */
static int
get_ok(struct dfs *d, const char *path, const char *mode, size_t n,
    uint64_t seed)
{
	unsigned char	*want, *got;
	ssize_t		 len;
	int		 ok;

	want = malloc(n + 1);
	got = malloc(n + 1);
	if (want == NULL || got == NULL) {
		free(want);
		free(got);
		return 0;
	}
	pattern(want, n, seed);
	len = get(d, path, mode, got, n + 1);
	ok = len == (ssize_t)n && memcmp(want, got, n) == 0;
	if (!ok)
		fprintf(stderr, "%s: read %zd bytes, want %zu (%s)\n", path,
		    len, n, len < 0 ? dfs_strerror((int)len) : "content");
	free(want);
	free(got);
	return ok;
}

/* Writes n bytes of pattern seed to path through d with mode.  Returns
 * 0 or a status. */
static int
put_with(struct dfs *d, const char *mode, const char *path, size_t n,
    uint64_t seed)
{
	unsigned char	*buf;
	int		 rc;

	if ((buf = malloc(n + 1)) == NULL)
		return -DFS_ERR_NOMEM;
	pattern(buf, n, seed);
	rc = put(d, path, mode, buf, n);
	free(buf);
	return rc;
}

/* The same through the writer, which has no cache. */
static int
put_pattern(const char *path, size_t n, uint64_t seed)
{
	return put_with(w, "w", path, n, seed);
}

/* Returns 1 if dfs_from_cache() opens path and it holds n bytes of
 * pattern seed, else 0. */
static int
from_cache_ok(struct dfs *d, const char *path, size_t n, uint64_t seed)
{
	unsigned char	*want, *got;
	struct dfs_file	*f;
	ssize_t		 len = -1;
	int		 rc, ok = 0;

	want = malloc(n + 1);
	got = malloc(n + 1);
	if (want == NULL || got == NULL)
		goto out;
	if ((rc = dfs_from_cache(d, path, &f)) != 0) {
		fprintf(stderr, "dfs_from_cache %s: %s\n", path,
		    dfs_strerror(rc));
		goto out;
	}
	len = slurp(f, got, n + 1);
	pattern(want, n, seed);
	ok = len == (ssize_t)n && memcmp(want, got, n) == 0;
out:
	free(want);
	free(got);
	return ok;
}

/* nftw(3) callback: counts what `walking` wants to know. */
static int
walk_one(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	const char		*base = path + ftw->base;
	unsigned long long	 vers, size;
	char			 hash[17];
	int			 end = 0;

	if (type != FTW_F || !S_ISREG(st->st_mode) ||
	    (ftw->level == 1 && strcmp(base, "usage") == 0))
		return 0;
	walking->bytes += (uint64_t)st->st_size;
	if (strncmp(base, ".tmp.", 5) == 0)
		walking->temps++;
	else if (sscanf(base, "%llu-%llu-%16[0-9a-f]%n", &vers, &size, hash,
	    &end) == 3 && base[end] == '\0' && strlen(hash) == 16) {
		walking->entries++;
		snprintf(walking->entry, sizeof(walking->entry), "%s", path);
	}
	return 0;
}

/* Walks a cache directory into *wk.  Returns 0 or -1. */
static int
walk(const char *dir, struct walk *wk)
{
	memset(wk, 0, sizeof(*wk));
	walking = wk;
	return nftw(dir, walk_one, 16, FTW_PHYS);
}

/* Returns 1 if the entry file at path is what its name says: its size
 * and the XXH3 of its contents. */
static int
entry_valid(const char *path)
{
	const char		*base = strrchr(path, '/') + 1;
	unsigned long long	 vers, size;
	char			 hash[17], *buf, have[17];
	FILE			*fp;
	size_t			 n;
	int			 ok = 0;

	if (sscanf(base, "%llu-%llu-%16s", &vers, &size, hash) != 3)
		return 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	if ((buf = malloc(size + 1)) != NULL) {
		n = fread(buf, 1, size + 1, fp);
		snprintf(have, sizeof(have), "%016llx",
		    (unsigned long long)XXH3_64bits(buf, n));
		ok = n == size && strcmp(have, hash) == 0;
	}
	free(buf);
	fclose(fp);
	return ok;
}

/* Issue 5, item 8: a cached re-read of 64 MiB moves no file data, in
 * this client and in another one sharing the cache directory; "r"
 * without "c" reads through the entry too. */
static void
test_cache__reread_moves_no_data(void)
{
	const char	*dir = cachedir("c-big");
	struct dfs	*a, *b;
	uint64_t	 r0, r1;

	CU_ASSERT_EQUAL_FATAL(put_pattern("/big", BIG_SIZE, 1), 0);
	a = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	r0 = read_bytes();
	CU_ASSERT_NOT_EQUAL_FATAL(r0, NO_COUNTER);
	CU_ASSERT(get_ok(a, "/big", "rc", BIG_SIZE, 1));
	r1 = read_bytes();
	CU_ASSERT(r1 - r0 >= BIG_SIZE);		/* the counter counts */
	CU_ASSERT(get_ok(a, "/big", "rc", BIG_SIZE, 1));
	CU_ASSERT_EQUAL(read_bytes(), r1);
	CU_ASSERT(get_ok(a, "/big", "r", BIG_SIZE, 1));
	CU_ASSERT_EQUAL(read_bytes(), r1);
	dfs_disconnect(a);
	b = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(get_ok(b, "/big", "rc", BIG_SIZE, 1));
	CU_ASSERT_EQUAL(read_bytes(), r1);
	dfs_disconnect(b);
}

/* "r" without "c" does not keep a download. */
static void
test_cache__plain_r_keeps_nothing(void)
{
	const char	*dir = cachedir("c-plain");
	struct dfs	*a;
	struct walk	 wk;
	uint64_t	 r0;

	CU_ASSERT_EQUAL_FATAL(put_pattern("/plain", 200000, 2), 0);
	a = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(get_ok(a, "/plain", "r", 200000, 2));
	r0 = read_bytes();
	CU_ASSERT(get_ok(a, "/plain", "r", 200000, 2));
	CU_ASSERT(read_bytes() - r0 >= 200000);
	if (walk(dir, &wk) == 0)	/* the directory may not exist */
		CU_ASSERT_EQUAL(wk.entries, 0);
	dfs_disconnect(a);
}

/* Close-to-open: an overwrite by another client is seen by the next
 * open, also two same-size writes within one second (the version
 * tells, not the mtime). */
static void
test_cache__overwrite_is_seen(void)
{
	struct dfs	*a = client(cachedir("c-over"), 0);
	uint64_t	 seed;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(put_pattern("/over", 3000, 10), 0);
	CU_ASSERT(get_ok(a, "/over", "rc", 3000, 10));
	CU_ASSERT(get_ok(a, "/over", "rc", 3000, 10));
	for (seed = 11; seed < 14; seed++) {
		CU_ASSERT_EQUAL(put_pattern("/over", 3000, seed), 0);
		CU_ASSERT(get_ok(a, "/over", "rc", 3000, seed));
	}
	CU_ASSERT_EQUAL(put_pattern("/over", 10, 14), 0);
	CU_ASSERT(get_ok(a, "/over", "r", 10, 14));
	dfs_disconnect(a);
}

/* A write with "c" leaves the new version cached: reading it back
 * moves no data. */
static void
test_cache__write_keeps_it_warm(void)
{
	struct dfs	*a = client(cachedir("c-warm"), 0);
	uint64_t	 r0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(put_with(a, "wc", "/warm", 3 * MIB, 15), 0);
	r0 = read_bytes();
	CU_ASSERT(get_ok(a, "/warm", "rc", 3 * MIB, 15));
	CU_ASSERT_EQUAL(read_bytes(), r0);
	dfs_disconnect(a);
}

/* dfs_from_cache(): the cached copy while current, else STALE (changed
 * since), LOCKED (another client holds an exclusive lock; a shared one
 * or our own is no bar), NOENT (removed); never a round trip for data. */
static void
test_cache__from_cache(void)
{
	const char	*path = "/from";
	struct dfs	*a = client(cachedir("c-from"), 0);
	struct dfs_lock	*lk;
	struct dfs_file	*f;
	uint64_t	 r0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(put_pattern(path, 5000, 20), 0);
	CU_ASSERT(get_ok(a, path, "rc", 5000, 20));
	r0 = read_bytes();
	CU_ASSERT(from_cache_ok(a, path, 5000, 20));
	CU_ASSERT_EQUAL(read_bytes(), r0);
	CU_ASSERT_EQUAL(put_pattern(path, 5000, 21), 0);
	CU_ASSERT_EQUAL(dfs_from_cache(a, path, &f), -DFS_ERR_STALE);
	CU_ASSERT(get_ok(a, path, "rc", 5000, 21));
	CU_ASSERT(from_cache_ok(a, path, 5000, 21));
	CU_ASSERT_EQUAL_FATAL(dfs_lock(w, &path, 1, 1, 0, &lk), 0);
	CU_ASSERT_EQUAL(dfs_from_cache(a, path, &f), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT(from_cache_ok(a, path, 5000, 21));
	/* a reader's (shared) lock, or our own exclusive one, is no bar */
	CU_ASSERT_EQUAL_FATAL(dfs_lock(w, &path, 1, 0, 0, &lk), 0);
	CU_ASSERT(from_cache_ok(a, path, 5000, 21));
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT_EQUAL_FATAL(dfs_lock(a, &path, 1, 1, 0, &lk), 0);
	CU_ASSERT(from_cache_ok(a, path, 5000, 21));
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT_EQUAL(dfs_unlink(w, path), 0);
	CU_ASSERT_EQUAL(dfs_from_cache(a, path, &f), -DFS_ERR_NOENT);
	dfs_disconnect(a);
}

/* Reads /ev<i> (1 MiB) through e with "rc"; returns the bytes the file
 * server sent meanwhile, or NO_COUNTER if the bytes were wrong. */
static uint64_t
ev_read(struct dfs *e, int i)
{
	char		path[32];
	uint64_t	r0 = read_bytes();

	snprintf(path, sizeof(path), "/ev%d", i);
	if (!get_ok(e, path, "rc", MIB, 30 + (uint64_t)i))
		return NO_COUNTER;
	return read_bytes() - r0;
}

/* File times come from the kernel's coarse clock (a tick is several ms),
 * so two uses within one tick look simultaneous to LRU; the reads whose
 * order the test asserts are spaced by more than a tick. */
static uint64_t
ev_read_later(struct dfs *e, int i)
{
	struct timespec	ts = { 0, 30 * 1000000L };

	nanosleep(&ts, NULL);
	return ev_read(e, i);
}

/*
 * LRU eviction in a 3 MiB cache (entries of exactly 1 MiB: three fit,
 * "under the limit" is <=): ev0..ev2 fill it, a hit on ev0 makes it the
 * most recently used, ev3 and ev4 then evict ev1 and ev2, not ev0.  The
 * directory never holds more than 3 MiB; a file larger than the whole
 * cache streams past it.
 */
static void
test_cache__eviction(void)
{
	const char	*dir = cachedir("c-evict");
	struct dfs	*e = client(dir, 3 * MIB);
	struct walk	 wk;
	char		 path[32];
	int		 i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/ev%d", i);
		CU_ASSERT_EQUAL_FATAL(put_pattern(path, MIB, 30 + i), 0);
	}
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(ev_read_later(e, i), MIB);
	CU_ASSERT_EQUAL(ev_read_later(e, 0), 0);		/* hit, now newest */
	CU_ASSERT_EQUAL(ev_read_later(e, 3), MIB);
	CU_ASSERT_EQUAL(ev_read_later(e, 4), MIB);
	CU_ASSERT_EQUAL_FATAL(walk(dir, &wk), 0);
	CU_ASSERT(wk.bytes <= 3 * MIB);
	CU_ASSERT(wk.entries >= 1 && wk.entries <= 3);
	CU_ASSERT_EQUAL(wk.temps, 0);
	CU_ASSERT_EQUAL(ev_read_later(e, 4), 0);		/* the last read */
	CU_ASSERT_EQUAL(ev_read_later(e, 0), 0);		/* recently used */
	CU_ASSERT_EQUAL(ev_read_later(e, 1), MIB);		/* evicted */
	CU_ASSERT_EQUAL(walk(dir, &wk), 0);
	CU_ASSERT(wk.bytes <= 3 * MIB);
	CU_ASSERT_EQUAL_FATAL(put_pattern("/ev-huge", 4 * MIB, 35), 0);
	CU_ASSERT(get_ok(e, "/ev-huge", "rc", 4 * MIB, 35));
	CU_ASSERT_EQUAL(walk(dir, &wk), 0);
	CU_ASSERT(wk.bytes <= 3 * MIB);
	CU_ASSERT_EQUAL(ev_read(e, 0), 0);	/* and evicted nothing */
	dfs_disconnect(e);
}

/* In a child: connects with cache dir `dir`, says so with a byte on
 * `ready`, waits until the parent closes `go`, reads path with "rc".
 * Exits 0 if the bytes were right. */
static void __attribute__((noreturn))
reader(const char *dir, int ready, int go, const char *path, size_t n,
    uint64_t seed)
{
	struct dfs	*d = client(dir, 0);
	char		 c = 'r';
	int		 ok;

	if (d == NULL)
		_exit(2);
	if (write(ready, &c, 1) != 1)
		_exit(3);
	close(ready);
	while (read(go, &c, 1) > 0)
		continue;
	ok = get_ok(d, path, "rc", n, seed);
	dfs_disconnect(d);
	_exit(ok ? 0 : 1);
}

/* Two processes fill one entry of a shared cache directory at once:
 * both read the right bytes, one valid entry stays, no temp file. */
static void
test_cache__two_processes(void)
{
	const char	*dir = cachedir("c-shared");
	struct dfs	*a;
	struct walk	 wk;
	pid_t		 pid[2];
	uint64_t	 r0;
	int		 go[2], ready[2], i, st;
	char		 c;

	CU_ASSERT_EQUAL_FATAL(put_pattern("/shared", 16 * MIB, 40), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(ready), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			close(go[1]);
			close(ready[0]);
			reader(dir, ready[1], go[0], "/shared", 16 * MIB, 40);
		}
		CU_ASSERT_FATAL(pid[i] > 0);
	}
	close(go[0]);
	close(ready[1]);
	/* both connected (a child that failed closes its end: EOF) */
	for (i = 0; i < 2 && read(ready[0], &c, 1) == 1; i++)
		continue;
	close(ready[0]);
	close(go[1]);			/* go */
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(waitpid(pid[i], &st, 0), pid[i]);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CU_ASSERT_EQUAL_FATAL(walk(dir, &wk), 0);
	CU_ASSERT_EQUAL(wk.entries, 1);
	CU_ASSERT_EQUAL(wk.temps, 0);
	CU_ASSERT(wk.entries == 1 && entry_valid(wk.entry));
	a = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	r0 = read_bytes();
	CU_ASSERT(get_ok(a, "/shared", "rc", 16 * MIB, 40));
	CU_ASSERT_EQUAL(read_bytes(), r0);
	dfs_disconnect(a);
}

/* Changes one byte in the middle of the file at path.  Returns 0/-1. */
static int
flip_byte(const char *path, off_t off)
{
	FILE	*fp = fopen(path, "r+b");
	int	 c, rc = -1;

	if (fp == NULL)
		return -1;
	if (fseeko(fp, off, SEEK_SET) == 0 && (c = getc(fp)) != EOF &&
	    fseeko(fp, off, SEEK_SET) == 0 && putc(c ^ 0x5a, fp) != EOF)
		rc = 0;
	return fclose(fp) == 0 ? rc : -1;
}

/* An entry cut short, or with one byte changed, is dropped and fetched
 * again (the READ counter grows); the refetch is kept and valid. */
static void
test_cache__damaged_entry_is_refetched(void)
{
	const char	*dir = cachedir("c-trunc");
	const size_t	 n = 2 * MIB + 123;
	struct dfs	*a = client(dir, 0);
	struct walk	 wk;
	uint64_t	 r0, r1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(put_pattern("/trunc", n, 50), 0);
	CU_ASSERT(get_ok(a, "/trunc", "rc", n, 50));
	CU_ASSERT_EQUAL_FATAL(walk(dir, &wk), 0);
	CU_ASSERT_EQUAL_FATAL(wk.entries, 1);
	CU_ASSERT_EQUAL_FATAL(truncate(wk.entry, MIB), 0);
	r0 = read_bytes();
	CU_ASSERT(get_ok(a, "/trunc", "rc", n, 50));
	r1 = read_bytes();
	CU_ASSERT(r1 - r0 >= n);
	CU_ASSERT(get_ok(a, "/trunc", "rc", n, 50));
	CU_ASSERT_EQUAL(read_bytes(), r1);
	/* the same size, one byte changed: the checksum tells */
	CU_ASSERT_EQUAL_FATAL(walk(dir, &wk), 0);
	CU_ASSERT_EQUAL_FATAL(wk.entries, 1);
	CU_ASSERT_EQUAL_FATAL(flip_byte(wk.entry, (off_t)(n / 2)), 0);
	CU_ASSERT(get_ok(a, "/trunc", "rc", n, 50));
	CU_ASSERT(read_bytes() - r1 >= n);
	CU_ASSERT_EQUAL(walk(dir, &wk), 0);
	CU_ASSERT(wk.entries == 1 && entry_valid(wk.entry));
	dfs_disconnect(a);
}

/* Creates a regular file holding `s`.  Returns 0 or -1. */
static int
mkjunk(const char *path, const char *s)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(s, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

/* A cache directory below a regular file: the client works uncached,
 * says why through dfs_cache_warning(), and every byte is right. */
static void
test_cache__unusable_dir(void)
{
	char		 file[512];
	const char	*dir;
	struct dfs	*d;
	uint64_t	 r0;

	snprintf(file, sizeof(file), "%s/notadir", cl.root);
	CU_ASSERT_EQUAL_FATAL(mkjunk(file, "not a directory\n"), 0);
	dir = cachedir("notadir/sub");
	CU_ASSERT_EQUAL_FATAL(put_pattern("/unusable", 100000, 60), 0);
	d = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(get_ok(d, "/unusable", "rc", 100000, 60));
	CU_ASSERT_PTR_NOT_NULL(dfs_cache_warning(d));
	r0 = read_bytes();
	CU_ASSERT(get_ok(d, "/unusable", "rc", 100000, 60));
	CU_ASSERT(read_bytes() - r0 >= 100000);
	CU_ASSERT_PTR_NOT_NULL(dfs_cache_warning(d));
	dfs_disconnect(d);
}

/* Junk that is not ours in a cache directory is left alone and never
 * served. */
static void
test_cache__junk_in_dir(void)
{
	const char	*dir = cachedir("c-junk");
	char		 p[600];
	struct dfs	*d;

	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	snprintf(p, sizeof(p), "%s/junk", dir);
	CU_ASSERT_EQUAL(mkjunk(p, "junk\n"), 0);
	snprintf(p, sizeof(p), "%s/.tmp.1.2", dir);
	CU_ASSERT_EQUAL(mkjunk(p, "half a file"), 0);
	CU_ASSERT_EQUAL_FATAL(put_pattern("/junk", 70000, 61), 0);
	d = client(dir, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(get_ok(d, "/junk", "rc", 70000, 61));
	CU_ASSERT(get_ok(d, "/junk", "rc", 70000, 61));
	dfs_disconnect(d);
}

static CU_TestInfo cache_tests[] = {
	{ "reread_moves_no_data", test_cache__reread_moves_no_data },
	{ "plain_r_keeps_nothing", test_cache__plain_r_keeps_nothing },
	{ "overwrite_is_seen", test_cache__overwrite_is_seen },
	{ "write_keeps_it_warm", test_cache__write_keeps_it_warm },
	{ "from_cache", test_cache__from_cache },
	{ "eviction", test_cache__eviction },
	{ "two_processes", test_cache__two_processes },
	{ "damaged_entry_is_refetched",
	    test_cache__damaged_entry_is_refetched },
	{ "unusable_dir", test_cache__unusable_dir },
	{ "junk_in_dir", test_cache__junk_in_dir },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "cache", suite_init, suite_clean, NULL, NULL, cache_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
