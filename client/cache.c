/*
 * cache.c -- the persistent client cache: whole committed versions of
 * files, on the local disk, shared by every process of the user.
 *
 * Layout: <cache_dir>/<instance>/<fh>/<vers>-<size>-<hash>, where
 * <instance> is the name server's instance id from the handle (16 hex
 * digits), <fh> the whole handle in hex, and the entry's name gives the
 * committed version it holds, its size in bytes and the XXH3_64bits of
 * its contents (16 hex digits).  A version never changes once
 * committed, so an entry is immutable and its name is its identity.
 *
 * Consistency (close-to-open): every dfs_open() already asks the name
 * server for the file's current version (the one LOOKUP + GETATTR round
 * trip of open); the cache is only looked up for exactly that version,
 * so a change committed by anyone before the open started is always
 * seen.  The key is the version, which grows by one on every commit,
 * not the mtime: two commits within the same second are two keys.
 *
 * Never wrong bytes: an entry is filled under a temporary name
 * (".tmp.<pid>.<random>") in its handle's directory, hashed while it is
 * written, and renamed into place only once complete, so a killed
 * process leaves at most a temporary file that is never served (and is
 * removed an hour later).  Before an entry is used, its size must equal
 * the size in its name and in the name server's reply, and its XXH3
 * must equal the hash in its name; otherwise it is removed and the
 * caller fetches the file again.  The hash is computed once: a checked
 * entry gets a stamp as its mtime (stamp_of()), which any later write
 * or truncation replaces, so a stamped entry is known unchanged.  Two
 * processes filling one entry at once both write complete copies of the
 * same version: the last rename wins and either is right.  Names the
 * code cannot parse are skipped, never trusted nor removed (except our
 * own stale temporary files).
 *
 * Size: at most `limit` bytes of entries, kept by a ledger and a scan
 * that evicts the least recently used entries (cache_evict.c).
 *
 * Failure: a cache directory that cannot be created or written, a full
 * disk, or a file where one of our directories belongs turns the cache
 * off for this struct dfs, with a warning (dfs_cache_warning()); the
 * library then works uncached.  It never prints.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <xxh_x86dispatch.h>	/* AVX2/AVX-512 when the CPU has them */

#include "client.h"
#include "fh.h"

void
cache_disable(struct cache *c, const char *fmt, ...)
{
	va_list	ap;

	if (!c->disabled) {
		va_start(ap, fmt);
		vsnprintf(c->warning, sizeof(c->warning), fmt, ap);
		va_end(ap);
	}
	c->disabled = 1;
}

const char *
cache_warning(const struct cache *c)
{
	return c->warning[0] != '\0' ? c->warning : NULL;
}

const char *
dfs_cache_warning(const struct dfs *dfs)
{
	return cache_warning(&dfs->cache);
}

/* mkdir -p with mode 0700.  Returns 0 or -1 with errno. */
static int
mkdirs(const char *path)
{
	char		 buf[PATH_MAX];
	char		*p;
	struct stat	 st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char	save = *p;

			*p = '\0';
			if (mkdir(buf, 0700) == -1 && (errno != EEXIST ||
			    stat(buf, &st) == -1 || !S_ISDIR(st.st_mode))) {
				if (errno == EEXIST)
					errno = ENOTDIR;
				return -1;
			}
			*p = save;
		}
		if (*p == '\0')
			return 0;
	}
}

void
cache_init(struct cache *c, const char *dir, uint64_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit;
	if (dir == NULL || dir[0] == '\0') {
		c->disabled = 1;
		return;
	}
	if ((size_t)snprintf(c->dir, sizeof(c->dir), "%s", dir) >=
	    sizeof(c->dir)) {
		cache_disable(c, "'%s': %s", dir, strerror(ENAMETOOLONG));
		return;
	}
	if (mkdirs(dir) == -1)
		cache_disable(c, "cannot create '%s': %s", dir,
		    strerror(errno));
	else if (access(dir, W_OK | X_OK) == -1)
		cache_disable(c, "cannot write '%s': %s", dir,
		    strerror(errno));
}

int
cache_is_hex(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* The directory of k's handle into buf (PATH_MAX bytes).  Returns 0, or
 * -1 for a handle that is not one or a path that does not fit. */
static int
key_dir(const struct cache *c, const struct cache_key *k, char *buf)
{
	struct fh	fh;
	char		hex[FH_HEXLEN + 1];
	int		n;

	if (fh_parse(k->fh, k->fhlen, &fh) != 0)
		return -1;
	fh_hex(k->fh, k->fhlen, hex);
	n = snprintf(buf, PATH_MAX, "%s/%016" PRIx64 "/%s", c->dir,
	    fh.instance, hex);
	return n > 0 && n < PATH_MAX ? 0 : -1;
}

/* An entry's name. */
static void
entry_name(char *buf, size_t len, uint64_t vers, uint64_t size,
    uint64_t hash)
{
	snprintf(buf, len, "%" PRIu64 "-%" PRIu64 "-%016" PRIx64, vers, size,
	    hash);
}

int
cache_entry_parse(const char *name, uint64_t *vers, uint64_t *size,
    uint64_t *hash)
{
	unsigned long long	v, s, h;
	char			again[80];

	if (name[0] < '0' || name[0] > '9' || strlen(name) >= sizeof(again))
		return -1;
	if (sscanf(name, "%llu-%llu-%llx", &v, &s, &h) != 3)
		return -1;
	entry_name(again, sizeof(again), v, s, h);
	if (strcmp(again, name) != 0)
		return -1;
	*vers = v;
	*size = s;
	*hash = h;
	return 0;
}

/*
 * XXH3_64bits of the `size` bytes of fd (whose size was checked), read
 * through a mapping: no copy, which matters as every open of a cached
 * file hashes all of it.  Returns 0 and *hash, or -1 when it cannot be
 * mapped (then hash_read() does it).
 */
static int
hash_map(int fd, uint64_t size, uint64_t *hash)
{
	void	*p;

	if (size == 0 || size > SIZE_MAX)
		return -1;
	p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED | MAP_POPULATE,
	    fd, 0);
	if (p == MAP_FAILED)
		return -1;
	*hash = XXH3_64bits_dispatch(p, (size_t)size);
	munmap(p, (size_t)size);
	return 0;
}

/* XXH3_64bits of the first `size` bytes of fd, which must be exactly
 * that long, read with pread.  Returns 0 and *hash, or -1 (read error,
 * other length). */
static int
hash_read(int fd, uint64_t size, uint64_t *hash)
{
	XXH3_state_t	*st;
	char		*buf;
	uint64_t	 off = 0;
	ssize_t		 n = 1;
	char		 extra;

	st = XXH3_createState();
	buf = malloc(DFS_CHUNK);
	if (st == NULL || buf == NULL || XXH3_64bits_reset(st) != XXH_OK)
		n = -1;
	while (n > 0 && off < size) {
		n = pread(fd, buf, size - off < DFS_CHUNK ? size - off :
		    DFS_CHUNK, (off_t)off);
		if (n > 0) {
			(void)XXH3_64bits_update_dispatch(st, buf, (size_t)n);
			off += (uint64_t)n;
		}
	}
	if (n >= 0 && off == size && pread(fd, &extra, 1, (off_t)off) == 0)
		*hash = XXH3_64bits_digest(st);
	else
		n = -1;
	free(buf);
	XXH3_freeState(st);
	return n < 0 ? -1 : 0;
}

/*
 * The stamp a verified entry carries as its mtime: made from its hash
 * (36 bits of it), a time in 1970 that no write produces.  Any write or
 * truncation sets the mtime to the present, so an entry still carrying
 * its stamp has not changed since it was checked and is served without
 * hashing it again: that hash is a full pass over the data, as costly
 * as reading it (a cached re-read would otherwise never reach the speed
 * of a local read).  The LRU time is therefore the atime (set on use).
 */
static void
stamp_of(uint64_t hash, struct timespec *ts)
{
	ts->tv_sec = 86400 + (time_t)((hash >> 32) % 86400);
	ts->tv_nsec = (long)((hash & 0xffffffffu) % 1000000000u);
}

/* Opens entry `name` of dfd and checks it: a regular file of `size`
 * bytes that carries its stamp, or whose XXH3 is `hash` (then stamped).
 * Returns the descriptor, or -1 (bad, or gone). */
static int
entry_check(int dfd, const char *name, uint64_t size, uint64_t hash)
{
	struct timespec	ts[2];
	struct stat	st;
	uint64_t	have;
	int		fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	stamp_of(hash, &ts[1]);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != size)
		goto bad;
	if (st.st_mtim.tv_sec != ts[1].tv_sec ||
	    st.st_mtim.tv_nsec != ts[1].tv_nsec) {
		if ((hash_map(fd, size, &have) != 0 &&
		    hash_read(fd, size, &have) != 0) || have != hash)
			goto bad;
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_NOW;
		(void)futimens(fd, ts);		/* verified: stamp it */
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
bad:
	close(fd);
	return -1;
}

int
cache_open_entry(struct cache *c, const struct cache_key *k, int *fdp)
{
	char		 dir[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	uint64_t	 vers, size, hash;
	int		 fd = -1;

	if (c->disabled || k->vers == 0 || key_dir(c, k, dir) != 0 ||
	    (d = opendir(dir)) == NULL)
		return -DFS_ERR_NOENT;
	while ((de = readdir(d)) != NULL) {
		if (cache_entry_parse(de->d_name, &vers, &size, &hash) != 0)
			continue;
		if (vers < k->vers) {		/* replaced: never used again */
			(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (vers != k->vers || fd != -1)
			continue;
		if (size == k->size)
			fd = entry_check(dirfd(d), de->d_name, size, hash);
		if (fd == -1)	/* bad, or not what the name server says */
			(void)unlinkat(dirfd(d), de->d_name, 0);
		else	/* LRU: used now (the mtime is the stamp) */
			(void)futimens(fd, (struct timespec[2]){
			    { 0, UTIME_NOW }, { 0, UTIME_OMIT } });
	}
	closedir(d);
	if (fd == -1)
		return -DFS_ERR_NOENT;
	*fdp = fd;
	return 0;
}

/* Creates a temporary file in dir; its path goes to tmp (PATH_MAX
 * bytes).  Returns the descriptor or -1 with errno. */
static int
tmp_open(const char *dir, char *tmp)
{
	uint64_t	r;
	int		i, fd = -1;

	for (i = 0; i < 4 && fd == -1; i++) {
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)time(NULL) * 2654435761u + (uint64_t)i;
		if (snprintf(tmp, PATH_MAX, "%s/" CACHE_TMP_PREFIX "%ld.%016"
		    PRIx64, dir, (long)getpid(), r) >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			return -1;
	}
	return fd;
}

/* Writes all of buf at off.  Returns 0 or -1 with errno. */
static int
write_all(int fd, const char *buf, size_t n, uint64_t off)
{
	ssize_t	w;

	while (n > 0) {
		w = pwrite(fd, buf, n, (off_t)off);
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/*
 * Copies k->size bytes from rd into fd, hashing them.  Returns 0 and
 * *hash, the reader's negative status (-DFS_ERR_STALE if it ended
 * early), or CACHE_MISS with *err set for a local failure.
 */
static int
fill_copy(int fd, const struct cache_key *k, cache_reader rd, void *arg,
    uint64_t *hash, int *err)
{
	XXH3_state_t	*st;
	char		*buf;
	uint64_t	 off = 0;
	ssize_t		 n = 0;
	int		 rc = 0;

	st = XXH3_createState();
	buf = malloc(DFS_CHUNK);
	if (st == NULL || buf == NULL || XXH3_64bits_reset(st) != XXH_OK) {
		*err = ENOMEM;
		rc = CACHE_MISS;
	}
	while (rc == 0 && off < k->size) {
		n = rd(arg, buf, DFS_CHUNK, off);
		if (n <= 0 || (uint64_t)n > k->size - off)
			rc = n < 0 ? (int)n : -DFS_ERR_STALE;
		else if (write_all(fd, buf, (size_t)n, off) == -1) {
			*err = errno;
			rc = CACHE_MISS;
		} else {
			(void)XXH3_64bits_update_dispatch(st, buf, (size_t)n);
			off += (uint64_t)n;
		}
	}
	if (rc == 0)
		*hash = XXH3_64bits_digest(st);
	free(buf);
	XXH3_freeState(st);
	return rc;
}

/* Makes dir and a temporary file in it; a concurrent eviction may
 * remove an empty dir in between, hence the second try.  Returns the
 * descriptor or -1 with errno. */
static int
fill_start(const char *dir, char *tmp)
{
	int	i, fd = -1;

	for (i = 0; i < 2 && fd == -1; i++) {
		if (mkdirs(dir) == -1)
			return -1;
		fd = tmp_open(dir, tmp);
		if (fd == -1 && errno != ENOENT)
			return -1;
	}
	return fd;
}

/* Renames a complete temporary file in dir to the entry's name.
 * Returns 0 or -1 with errno. */
static int
fill_finish(const char *dir, const char *tmp, const struct cache_key *k,
    uint64_t hash)
{
	char	name[80], fin[PATH_MAX];

	entry_name(name, sizeof(name), k->vers, k->size, hash);
	if (snprintf(fin, sizeof(fin), "%s/%s", dir, name) >=
	    (int)sizeof(fin)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return rename(tmp, fin);
}

int
cache_fill(struct cache *c, const struct cache_key *k, cache_reader rd,
    void *arg, int *fdp)
{
	char		 dir[PATH_MAX], tmp[PATH_MAX];
	uint64_t	 hash = 0;
	int		 fd, rc, err = 0;

	if (c->disabled || k->vers == 0 || key_dir(c, k, dir) != 0 ||
	    cache_reserve(c, k->size) != 0)
		return CACHE_MISS;
	if ((fd = fill_start(dir, tmp)) == -1) {
		cache_disable(c, "cannot create a file in '%s': %s", dir,
		    strerror(errno));
		return CACHE_MISS;
	}
	rc = fill_copy(fd, k, rd, arg, &hash, &err);
	if (rc == 0 && fill_finish(dir, tmp, k, hash) == -1) {
		err = errno;
		rc = CACHE_MISS;
	}
	if (rc != 0) {
		(void)unlink(tmp);
		close(fd);
		if (rc == CACHE_MISS)
			cache_disable(c, "cannot write '%s': %s", tmp,
			    strerror(err));
		return rc;
	}
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/* cache_reader over a spool. */
static ssize_t
spool_reader(void *arg, char *buf, size_t n, uint64_t off)
{
	return spool_pread(arg, buf, n, off);
}

int
cache_put_from_spool(struct cache *c, const struct cache_key *k,
    struct spool *sp)
{
	if (sp->size != k->size)
		return CACHE_MISS;
	return cache_fill(c, k, spool_reader, sp, NULL);
}

/* A cache_reader over memory. */
struct memsrc {
	const char	*p;
	uint64_t	 size;
};

static ssize_t
mem_reader(void *arg, char *buf, size_t n, uint64_t off)
{
	const struct memsrc	*m = arg;

	if (off >= m->size)
		return 0;
	if (n > m->size - off)
		n = (size_t)(m->size - off);
	memcpy(buf, m->p + off, n);
	return (ssize_t)n;
}

int
cache_put_mem(struct cache *c, const struct cache_key *k, const void *data)
{
	struct memsrc	m = { .p = data, .size = k->size };

	return cache_fill(c, k, mem_reader, &m, NULL);
}
