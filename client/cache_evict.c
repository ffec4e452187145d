/*
 * cache_evict.c -- how the client cache (cache.c) stays under its limit.
 *
 * At most `limit` bytes of entries.  A file larger than the limit is
 * never cached: it streams past as without a cache.  What the cache
 * holds is counted in a ledger, <cache_dir>/usage, that every fill adds
 * its size to under flock(2), so a fill costs a few system calls, not a
 * walk of every entry (a tree of small files used to walk the whole
 * cache once per file).  When the ledger would pass the limit, or is
 * missing or unreadable, the fill scans the cache, still under the
 * lock: it removes the least recently used entries (oldest atime; every
 * use sets it to now) of any handle until the cache is at 90% of the
 * limit with the new file in it, so the next scan is a tenth of the
 * limit away, and writes the true total back.  The ledger is a hint:
 * removals elsewhere (a bad or replaced entry, a user's rm) leave it
 * too high, which only brings the next scan forward; a fill that fails
 * after counting itself, likewise.  It is too low only by the fills in
 * flight while another process scanned (counted, not yet renamed into
 * place, so the scan missed them): the cache then passes the limit by
 * at most those until the next scan.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fh.h"

#define CACHE_LEDGER		"usage"		/* in the cache root */
#define CACHE_LEDGER_DIGITS	20		/* then a newline */

struct centry {
	char		*path;
	int64_t		 used_ns;	/* atime: last use */
	uint64_t	 size;
};

/* Every entry of the cache, and their total size. */
struct cscan {
	struct centry	*v;
	size_t		 n, cap;
	uint64_t	 total;
	time_t		 now;
};

/* Adds an entry.  Returns 0 or -1 (no memory). */
static int
scan_add(struct cscan *s, const char *path, const struct stat *st)
{
	struct centry	*nv;
	size_t		 ncap;

	if (s->n == s->cap) {
		ncap = s->cap != 0 ? 2 * s->cap : 64;
		if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	if ((s->v[s->n].path = strdup(path)) == NULL)
		return -1;
	s->v[s->n].used_ns = (int64_t)st->st_atim.tv_sec * 1000000000 +
	    st->st_atim.tv_nsec;
	s->v[s->n].size = (uint64_t)st->st_size;
	s->total += (uint64_t)st->st_size;
	s->n++;
	return 0;
}

/* Scans one handle's directory: entries are added, our temporary files
 * older than an hour removed, anything else left alone.  Returns 0 or
 * -1 (no memory). */
static int
scan_fh(struct cscan *s, const char *dir)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	uint64_t	 v, sz, h;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) || lstat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (cache_entry_parse(de->d_name, &v, &sz, &h) == 0)
			rc = scan_add(s, path, &st);
		else if (strncmp(de->d_name, CACHE_TMP_PREFIX,
		    strlen(CACHE_TMP_PREFIX)) == 0 &&
		    st.st_mtime + CACHE_TMP_MAXAGE < s->now)
			(void)unlink(path);
	}
	closedir(d);
	if (rc == 0)
		(void)rmdir(dir);	/* only if empty */
	return rc;
}

/* Scans the directories whose names are `len` hex digits under dir,
 * with `fn`.  Returns 0 or -1. */
static int
scan_dirs(struct cscan *s, const char *dir, size_t len,
    int (*fn)(struct cscan *, const char *))
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!cache_is_hex(de->d_name, len) || snprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		rc = fn(s, path);
	}
	closedir(d);
	return rc;
}

static int
scan_instance(struct cscan *s, const char *dir)
{
	return scan_dirs(s, dir, FH_HEXLEN, scan_fh);
}

static int
centry_cmp(const void *a, const void *b)
{
	const struct centry	*x = a, *y = b;

	if (x->used_ns != y->used_ns)
		return x->used_ns < y->used_ns ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * Removes least recently used entries until `need` more bytes fit in
 * 90% of the limit, and temporary files that fills killed long ago
 * left.  Sets *left to the bytes of entries that stay.  Returns 0, or
 * CACHE_MISS (out of memory: the cache is then off).
 */
static int
scan_evict(struct cache *c, uint64_t need, uint64_t *left)
{
	struct cscan	s;
	uint64_t	low = c->limit - c->limit / 10, target;
	size_t		i;
	int		rc;

	target = need >= low ? 0 : low - need;
	memset(&s, 0, sizeof(s));
	s.now = time(NULL);
	rc = scan_dirs(&s, c->dir, 16, scan_instance);
	if (rc == 0) {
		if (s.n > 0)	/* qsort(NULL, 0, ...) is undefined */
			qsort(s.v, s.n, sizeof(s.v[0]), centry_cmp);
		for (i = 0; i < s.n && s.total > target; i++)
			if (unlink(s.v[i].path) == 0 || errno == ENOENT)
				s.total -= s.v[i].size;
		*left = s.total;
	} else
		cache_disable(c, "out of memory scanning '%s'", c->dir);
	for (i = 0; i < s.n; i++)
		free(s.v[i].path);
	free(s.v);
	return rc == 0 ? 0 : CACHE_MISS;
}

/* --- the ledger -------------------------------------------------------- */

/* Opens the ledger and takes its lock.  Returns the descriptor (closing
 * it unlocks), or -1: then every fill scans, as if it were unreadable. */
static int
ledger_lock(const struct cache *c)
{
	char	path[PATH_MAX];
	int	fd;

	if (snprintf(path, sizeof(path), "%s/" CACHE_LEDGER, c->dir) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* The ledger's count: exactly CACHE_LEDGER_DIGITS decimal digits and a
 * newline, nothing else.  Returns 0 and *bytes, or -1. */
static int
ledger_read(int fd, uint64_t *bytes)
{
	char		buf[CACHE_LEDGER_DIGITS + 2];
	uint64_t	v = 0;
	unsigned int	d;
	int		i;

	if (pread(fd, buf, sizeof(buf), 0) != CACHE_LEDGER_DIGITS + 1 ||
	    buf[CACHE_LEDGER_DIGITS] != '\n')
		return -1;
	for (i = 0; i < CACHE_LEDGER_DIGITS; i++) {
		d = (unsigned int)(buf[i] - '0');
		if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*bytes = v;
	return 0;
}

/* Sets the ledger's count.  A failure is ignored: the next fill finds
 * the ledger unreadable and scans. */
static void
ledger_write(int fd, uint64_t bytes)
{
	char	buf[CACHE_LEDGER_DIGITS + 2];

	snprintf(buf, sizeof(buf), "%0*" PRIu64 "\n", CACHE_LEDGER_DIGITS,
	    bytes);
	if (pwrite(fd, buf, CACHE_LEDGER_DIGITS + 1, 0) ==
	    CACHE_LEDGER_DIGITS + 1)
		(void)ftruncate(fd, CACHE_LEDGER_DIGITS + 1);
}

/* scan_evict() under the ledger's lock (fd, -1: none), then sets the
 * ledger to what stays and `add` more, and unlocks.  Returns as
 * scan_evict(). */
static int
scan_and_count(struct cache *c, int fd, uint64_t need, uint64_t add)
{
	uint64_t	left;
	int		rc;

	rc = scan_evict(c, need, &left);
	if (fd != -1) {
		if (rc == 0)
			ledger_write(fd, left + add);
		close(fd);
	}
	return rc;
}

int
cache_reserve(struct cache *c, uint64_t need)
{
	uint64_t	used;
	int		fd;

	if (c->disabled || need > c->limit)
		return CACHE_MISS;
	fd = ledger_lock(c);
	if (fd != -1 && ledger_read(fd, &used) == 0 && used <= c->limit &&
	    need <= c->limit - used) {
		ledger_write(fd, used + need);
		close(fd);
		return 0;
	}
	return scan_and_count(c, fd, need, need);
}

int
cache_evict(struct cache *c, uint64_t need)
{
	if (c->disabled || need > c->limit)
		return CACHE_MISS;
	return scan_and_count(c, ledger_lock(c), need, 0);
}
