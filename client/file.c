/*
 * file.c -- open, read, write and close: whole files, committed atomically.
 *
 * Open is one round trip to the name server (walk, CREATE or LOOKUP,
 * GETFH, GETATTR, LOCATE) after, for writers, an exclusive lock.  A file
 * opened "r" is streamed from its file server a chunk at a time, always
 * from the version the name server gave at open, so it reads one
 * committed version or fails with STALE.  A writable file lives in a
 * spool; dfs_close() uploads it to a stage on the file server and
 * commits it.  "a" appends without downloading: the stage starts as a
 * server-side copy of the current version (STAGE keep = size) and only
 * the appended bytes travel.  A small file is STAGE+WRITE+COMMIT in one
 * round trip.
 *
 * A writer normally takes its own lock; one opened under a lock the
 * client already holds (dfs_open_locked(), a dfs_lock() of the path, or
 * $DFS_LOCKS) borrows that id and leaves it held at close.
 *
 * The cache (cache.c): open looks up the entry of exactly the version
 * the name server just named; a hit is read locally and no READ is sent
 * (the open round trip still is: that is the consistency check).  On a
 * miss with "c", the first read downloads the whole version into the
 * cache, then reads it locally; without "c" the file streams and nothing
 * is kept.  A committed write with "c" stores what it uploaded as the
 * new version's entry.
 */
#include <sys/sendfile.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

struct dfs_file {
	struct dfs	*dfs;
	char		 path[PATH_MAX];
	unsigned int	 flags;
	dfs_fh		 fh;
	dfs_server	 srv;		/* where the data lives (host copied) */
	uint64_t	 vers;		/* committed version opened */
	uint64_t	 size;		/* its size */
	int64_t		 off;
	/* the cache entry of (fh, vers) when there is one, else -1 */
	int		 cfd;
	int		 filled;	/* a cache fill was tried */
	/* "r": the chunk read last, or the read-ahead of a large version */
	char		*rbuf;
	uint64_t	 rstart;
	size_t		 rlen;
	struct xfer	*rx;		/* ... on several connections */
	struct rpipe	*rp;		/* ... on one */
	/* a writer that never reads ("w", "a") sends what it is given
	 * straight to its stage, a chunk at a time (see direct_write()) */
	int		 direct;
	uint64_t	 stage;		/* made with the first chunk, else 0 */
	char		*wbuf;		/* the chunk being filled ... */
	size_t		 wlen;
	uint64_t	 woff;		/* ... and its file offset */
	char		*wown;		/* our own chunk buffer */
	struct xfer	*wx;		/* sends the chunks after the first */
	uint64_t	 wsize;		/* the file's size as written */
	int		 werr;		/* a chunk failed: close fails */
	int		 keep;		/* "c": spool a copy for the cache */
	/* writable: spool offset 0 is file offset `base`; the first `base`
	 * bytes are copied on the server ("a") */
	struct spool	 sp;
	uint64_t	 base;
	int		 dirty;
	dfs_lockid	 lock;
	int		 borrowed;	/* lock is not ours to release */
	/* this open's CREATE made the file: until a commit (vers > 0) a
	 * failure takes the name back (place.c) */
	int		 created;
	int		 moved;		/* placed again once already */
	unsigned int	 lease_ms;	/* 0: not renewed here */
	uint64_t	 renew_at;
};

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned int
file_mode(const char *mode)
{
	unsigned int	f;

	switch (*mode) {
	case 'r':
		f = F_READ;
		break;
	case 'w':
		f = F_WRITE | F_CREATE | F_TRUNC;
		break;
	case 'a':
		f = F_WRITE | F_CREATE | F_APPEND;
		break;
	default:
		return 0;
	}
	while (*++mode != '\0')
		switch (*mode) {
		case '+':
			f |= F_READ | F_WRITE;
			break;
		case 'x':
			if ((f & F_CREATE) == 0)
				return 0;
			f |= F_EXCL;
			break;
		case 'b':
			break;
		case 'c':
			f |= F_CACHE;
			break;
		default:
			return 0;
		}
	return f;
}

/* Builds the open COMPOUND for `f`.  `buf` holds the split path. */
static int
open_req(struct dfs_file *f, struct nreq *r, char *buf)
{
	const char	*parent, *base;
	int		 rc;

	if (f->flags & F_CREATE) {
		if ((rc = name_split(f->path, buf, &parent, &base)) != 0)
			return -DFS_ERR_ISDIR;
		lock_putlock(f->dfs, r, &f->lock, f->path, NULL);
		name_walk(r, parent);
		nreq_create(r, base, (f->flags & F_EXCL) != 0);
	} else
		name_walk(r, f->path);
	nreq_add(r, OP_GETFH);
	nreq_add(r, OP_GETATTR);
	nreq_add(r, OP_LOCATE);
	return 0;
}

static int
no_server(struct dfs_file *f)
{
	conn_detail(f->dfs, "no live file server holds the file");
	return -DFS_ERR_NOSERVER;
}

/* Copies what the open COMPOUND returned into f (no file server for a
 * reader: srv.host stays NULL).  Returns 0 or status. */
static int
open_take(struct dfs_file *f, const name_compound_res *res)
{
	const name_resop	*ops = res->res.res_val;
	u_int			 n = res->res.res_len;
	const dfs_attr		*a = &ops[n - 2].name_resop_u.getattr.
				    attr_res_u.attr;
	const servers_res	*loc = &ops[n - 1].name_resop_u.locate;
	const dfs_server	*s;
	u_int			 i;

	for (i = 0; i < n; i++)
		if (ops[i].op == OP_CREATE)
			f->created = ops[i].name_resop_u.create.create_res_u.
			    ok.created;
	fh_copy(&f->fh, &ops[n - 3].name_resop_u.getfh.getfh_res_u.fh);
	f->vers = a->vers;
	f->size = a->size;
	s = conn_pick(loc->servers_res_u.servers.servers_val,
	    loc->servers_res_u.servers.servers_len);
	if (s == NULL)		/* a reader may not need one: the cache */
		return (f->flags & F_WRITE) ? no_server(f) : 0;
	f->srv = *s;
	f->srv.host = strdup(s->host);
	return f->srv.host != NULL ? 0 : -DFS_ERR_NOMEM;
}

/* READ of up to n bytes at off of the opened version into buf.  Returns
 * the count (0 at the end) or a negative status. */
static ssize_t
fetch(struct dfs_file *f, char *buf, size_t n, uint64_t off)
{
	struct freq		 r = { .n = 0 };
	file_compound_res	 res;
	read_args		*ra;
	read_ok			*ok;
	ssize_t			 got;

	if (off >= f->size || f->vers == 0)
		return 0;
	if (f->srv.host == NULL)
		return no_server(f);
	ra = &freq_add(&r, FOP_READ)->file_argop_u.read;
	ra->fh = f->fh;
	ra->vers = f->vers;
	ra->offset = off;
	ra->count = (u_int)(n < DFS_CHUNK ? n : DFS_CHUNK);
	got = conn_file(f->dfs, &f->srv, &r, &res, 1);
	if (got == 0) {
		ok = &res.res.res_val[0].file_resop_u.read.read_res_u.ok;
		got = ok->data.data_len <= n ? (ssize_t)ok->data.data_len :
		    -DFS_ERR_PROTO;
		if (got > 0)
			memcpy(buf, ok->data.data_val, (size_t)got);
	} else if (got == -DFS_ERR_STALE)
		conn_detail(f->dfs, "the file was replaced while being read");
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return got;
}

static void	renew(struct dfs_file *);
static void	unplace(struct dfs_file *);

/*
 * The bytes of the opened version from off on, within one chunk: from
 * the read-ahead, on several connections when the version is larger
 * than stream_span, else on one with the next READ sent ahead; a
 * version of one chunk is one READ into rbuf.  Returns 0 with *p and
 * *len (0 and "" at the end), or a status.
 */
static int
stream_at(struct dfs_file *f, uint64_t off, const char **p, size_t *len)
{
	ssize_t	got;
	int	rc;

	*p = "";		/* memcpy(3) wants a pointer even for 0 bytes */
	*len = 0;
	if (off >= f->size || f->vers == 0)
		return 0;
	if (f->srv.host == NULL)
		return no_server(f);
	if (f->rx == NULL && xfer_read_streams(f->dfs, f->size) > 0 &&
	    (rc = xfer_start(f->dfs, &f->srv, &f->fh, FOP_READ, f->vers,
	    f->size, &f->rx)) != 0)
		return rc;
	if (f->rx != NULL)
		return xfer_rget(f->rx, f->dfs, off, p, len);
	if (f->rp == NULL && f->size > DFS_CHUNK &&
	    (rc = rpipe_start(f->dfs, &f->srv, &f->fh, f->vers, f->size,
	    &f->rp)) != 0)
		return rc;
	if (f->rp != NULL)
		return rpipe_get(f->rp, f->dfs, off, p, len);
	if (f->rbuf == NULL && (f->rbuf = malloc(DFS_CHUNK)) == NULL)
		return -DFS_ERR_NOMEM;
	if (off < f->rstart || off >= f->rstart + f->rlen) {
		got = fetch(f, f->rbuf, DFS_CHUNK, off);
		if (got <= 0)
			return (int)got;
		f->rstart = off;
		f->rlen = (size_t)got;
	}
	*p = f->rbuf + (off - f->rstart);
	*len = (size_t)(f->rstart + f->rlen - off);
	return 0;
}

/* Ends the read-ahead (the rest is read from a local copy). */
static void
stream_end(struct dfs_file *f)
{
	xfer_end(f->rx);
	f->rx = NULL;
	rpipe_end(f->rp);
	f->rp = NULL;
}

/* cache_reader over stream_at(), renewing a writer's lock on the way. */
static ssize_t
fetch_reader(void *arg, char *buf, size_t n, uint64_t off)
{
	struct dfs_file	*f = arg;
	const char	*p;
	size_t		 len;
	int		 rc;

	renew(f);
	if ((rc = stream_at(f, off, &p, &len)) != 0)
		return rc;
	if (len > n)
		len = n;
	memcpy(buf, p, len);
	return (ssize_t)len;
}

static void
cache_key(const struct dfs_file *f, struct cache_key *k)
{
	k->fh = f->fh.dfs_fh_val;
	k->fhlen = f->fh.dfs_fh_len;
	k->vers = f->vers;
	k->size = f->size;
}

/* Opens the cache entry of the opened version into f->cfd if there is
 * one.  Returns 1 on a hit, else 0. */
static int
cache_lookup(struct dfs_file *f)
{
	struct cache_key	k;

	cache_key(f, &k);
	return cache_open_entry(&f->dfs->cache, &k, &f->cfd) == 0;
}

/* With "c", downloads the opened version into the cache, once; f->cfd
 * is the new entry on success.  Returns 0 (also when nothing was kept:
 * the caller streams) or the download's status. */
static int
cache_download(struct dfs_file *f)
{
	struct cache_key	k;
	int			rc;

	if (f->filled || f->cfd != -1 || (f->flags & F_CACHE) == 0)
		return 0;
	f->filled = 1;
	cache_key(f, &k);
	rc = cache_fill(&f->dfs->cache, &k, fetch_reader, f, &f->cfd);
	if (f->cfd != -1)
		stream_end(f);
	return rc == CACHE_MISS ? 0 : rc;
}

/* Reads up to n bytes at off from the cache entry.  Returns the count
 * (0 at the end) or -DFS_ERR_IO if the entry changed under us. */
static ssize_t
read_entry(struct dfs_file *f, char *buf, size_t n, uint64_t off)
{
	ssize_t	got;

	if (off >= f->size)
		return 0;
	if (n > f->size - off)
		n = (size_t)(f->size - off);
	got = pread(f->cfd, buf, n, (off_t)off);
	if (got > 0)
		return got;
	conn_detail(f->dfs, "the cached copy changed while being read");
	return -DFS_ERR_IO;
}

/* Downloads the opened version into the spool ("r+", "a+"), from the
 * cache when it has it.  Returns 0 or a status. */
static int
download(struct dfs_file *f)
{
	char		*buf;
	uint64_t	 off = 0;
	ssize_t		 n = 1;
	int		 rc;

	if (f->size == 0)
		return 0;
	if (!cache_lookup(f) && (rc = cache_download(f)) != 0)
		return rc;
	if (f->cfd == -1 && f->srv.host == NULL)
		return no_server(f);
	buf = malloc(DFS_CHUNK);
	if (buf == NULL)
		return -DFS_ERR_NOMEM;
	while (off < f->size && n > 0) {
		renew(f);
		if (f->cfd != -1)
			n = read_entry(f, buf, DFS_CHUNK, off);
		else
			n = fetch_reader(f, buf, DFS_CHUNK, off);
		if (n > 0)
			n = spool_pwrite(&f->sp, buf, (size_t)n, off);
		if (n > 0)
			off += (uint64_t)n;
	}
	free(buf);
	stream_end(f);
	if (f->cfd != -1)	/* the spool is what is read from now on */
		close(f->cfd);
	f->cfd = -1;
	if (n < 0)
		return (int)n;
	return off == f->size ? 0 : -DFS_ERR_STALE;
}

static void
file_free(struct dfs_file *f)
{
	xfer_end(f->rx);
	rpipe_end(f->rp);
	xfer_end(f->wx);
	free(f->wown);
	spool_release(&f->sp);
	if (f->cfd != -1)
		close(f->cfd);
	free(f->fh.dfs_fh_val);
	free(f->srv.host);
	free(f->rbuf);
	free(f);
}

/* The name server part of open.  Returns 0 or a status. */
static int
open_name(struct dfs_file *f)
{
	struct nreq		r = { .n = 0 };
	name_compound_res	res;
	char			buf[PATH_MAX];
	int			rc;

	rc = open_req(f, &r, buf);
	if (rc != 0)
		return rc;
	rc = conn_name(f->dfs, &r, &res, (f->flags & F_CREATE) == 0);
	if (rc == 0)
		rc = open_take(f, &res);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

/* Prepares the local side of a writable file.  Returns 0 or status. */
static int
open_spool(struct dfs_file *f)
{
	if (f->flags & F_TRUNC) {
		f->dirty = 1;		/* "w" empties the file at close */
	} else if ((f->flags & (F_APPEND | F_READ)) == F_APPEND) {
		f->base = f->size;	/* kept on the server */
	} else
		return download(f);
	if ((f->flags & F_READ) == 0) {
		f->direct = 1;
		f->wsize = f->base;
		f->keep = (f->flags & F_CACHE) && f->base == 0 &&
		    !f->dfs->cache.off;
	}
	return 0;
}

/*
 * Gets the lock a writable f works under: `lk` (which must hold the path
 * exclusively), else one this client holds on the path, else a new one.
 * Returns 0 or a status.
 */
static int
open_lock(struct dfs_file *f, const struct dfs_lock *lk)
{
	const char	*path = f->path;

	if ((f->flags & F_WRITE) == 0)
		return 0;
	if (lk != NULL && !lock_covers(lk, f->path))
		return -DFS_ERR_INVAL;
	if (lk == NULL)
		lk = lock_find(f->dfs, f->path);
	if (lk == NULL)
		return lock_take(f->dfs, &path, 1, &f->lock, &f->lease_ms);
	f->lock = lk->id;
	f->lease_ms = lk->lease_ms;
	f->borrowed = 1;
	return 0;
}

/* Releases f's lock unless it was borrowed. */
static void
unlock_file(struct dfs_file *f)
{
	if (!f->borrowed)
		(void)lock_release(f->dfs, &f->lock);
}

int
dfs_open_locked(struct dfs *dfs, const char *path, const char *mode,
    const struct dfs_lock *lk, struct dfs_file **fp)
{
	struct dfs_file	*f;
	int		 rc;

	dfs->detail[0] = '\0';
	if ((rc = name_check(path)) != 0)
		return rc;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -DFS_ERR_NOMEM;
	f->dfs = dfs;
	f->cfd = -1;
	/* ORDER: before any failure path, file_free() releases the spool */
	spool_init(&f->sp, dfs->max_size, dfs->tmpdir);
	f->flags = file_mode(mode);
	snprintf(f->path, sizeof(f->path), "%s", path);
	rc = f->flags != 0 ? open_lock(f, lk) : -DFS_ERR_INVAL;
	f->renew_at = mono_ms() + f->lease_ms / 3;
	if (rc == 0)
		rc = open_name(f);
	if (rc == 0 && (f->flags & F_WRITE))
		rc = open_spool(f);
	else if (rc == 0 && !cache_lookup(f) && f->srv.host == NULL)
		rc = no_server(f);
	if (rc != 0) {
		unplace(f);	/* ORDER: under our lock */
		unlock_file(f);
		file_free(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int
dfs_open(struct dfs *dfs, const char *path, const char *mode,
    struct dfs_file **fp)
{
	return dfs_open_locked(dfs, path, mode, NULL, fp);
}

/* Renews the lock when a third of its lease has passed.  A lock of
 * unknown lease ($DFS_LOCKS) is renewed by whoever handed it down. */
static void
renew(struct dfs_file *f)
{
	if (lock_is_zero(&f->lock) || f->lease_ms == 0 ||
	    mono_ms() < f->renew_at)
		return;
	(void)lock_renew(f->dfs, &f->lock, NULL);
	f->renew_at = mono_ms() + f->lease_ms / 3;
}

static uint64_t
file_size(const struct dfs_file *f)
{
	if (f->direct)
		return f->wsize;
	return (f->flags & F_WRITE) ? f->base + f->sp.size : f->size;
}

/* "r": from the cache entry, else from the stream. */
static ssize_t
read_stream(struct dfs_file *f, void *buf, size_t n)
{
	uint64_t	 off = (uint64_t)f->off;
	const char	*p;
	size_t		 len;
	int		 rc;

	if ((rc = cache_download(f)) != 0)
		return rc;
	if (f->cfd != -1)
		return read_entry(f, buf, n, off);
	if ((rc = stream_at(f, off, &p, &len)) != 0)
		return rc;
	if (n > len)
		n = len;
	memcpy(buf, p, n);
	return (ssize_t)n;
}

ssize_t
dfs_read(struct dfs_file *f, void *buf, size_t n)
{
	ssize_t	got;

	f->dfs->detail[0] = '\0';
	if ((f->flags & F_READ) == 0)
		return -DFS_ERR_PERM;
	renew(f);
	if (f->flags & F_WRITE)
		got = spool_pread(&f->sp, buf, n, (uint64_t)f->off - f->base);
	else
		got = read_stream(f, buf, n);
	if (got > 0)
		f->off += got;
	return got;
}

/* sendfile(2) from the cache entry to fd.  Returns the count, 0 at the
 * end, -DFS_ERR_NOTSUPP when fd cannot take sendfile, or -DFS_ERR_IO
 * (errno set by a failed write; 0 if the entry shrank under us). */
static ssize_t
send_entry(struct dfs_file *f, int fd, size_t n)
{
	off_t	off = f->off;
	ssize_t	sent;

	if ((uint64_t)f->off >= f->size)
		return 0;
	if (n > f->size - (uint64_t)f->off)
		n = (size_t)(f->size - (uint64_t)f->off);
	do
		sent = sendfile(fd, f->cfd, &off, n);
	while (sent < 0 && errno == EINTR);
	if (sent < 0 && (errno == EINVAL || errno == ENOSYS))
		return -DFS_ERR_NOTSUPP;
	if (sent < 0)
		return -DFS_ERR_IO;
	if (sent == 0) {
		conn_detail(f->dfs, "the cached copy changed while being read");
		errno = 0;
		return -DFS_ERR_IO;
	}
	f->off = off;
	return sent;
}

/* Writes all of buf to fd.  Returns 0, or -1 with errno set. */
static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* dfs_read_to_fd() of a stream: straight from the chunk received.
 * Returns as dfs_read_to_fd(). */
static ssize_t
stream_to_fd(struct dfs_file *f, int fd, size_t n)
{
	const char	*p;
	size_t		 len;
	int		 rc;

	renew(f);
	if ((rc = stream_at(f, (uint64_t)f->off, &p, &len)) != 0) {
		errno = 0;	/* not a write error: a connect may have set it */
		return rc;
	}
	if (len > n)
		len = n;
	if (len > 0 && write_all(fd, p, len) == -1)
		return -DFS_ERR_IO;
	f->off += (int64_t)len;
	return (ssize_t)len;
}

ssize_t
dfs_read_to_fd(struct dfs_file *f, int fd, size_t n)
{
	char	buf[65536];
	ssize_t	got;

	f->dfs->detail[0] = '\0';
	errno = 0;
	if ((f->flags & F_READ) == 0)
		return -DFS_ERR_PERM;
	if ((f->flags & F_WRITE) == 0) {
		if ((got = cache_download(f)) != 0) {
			errno = 0;
			return got;
		}
		if (f->cfd != -1 &&
		    (got = send_entry(f, fd, n)) != -DFS_ERR_NOTSUPP)
			return got;
		if (f->cfd == -1)
			return stream_to_fd(f, fd, n);
	}
	got = dfs_read(f, buf, n < sizeof(buf) ? n : sizeof(buf));
	if (got > 0 && write_all(fd, buf, (size_t)got) == -1)
		return -DFS_ERR_IO;
	errno = 0;
	return got;
}

static ssize_t	direct_write(struct dfs_file *, const char *, size_t);
static ssize_t	direct_put_fd(struct dfs_file *, int, size_t, uint64_t, int *);
static int	direct_truncate(struct dfs_file *, uint64_t);

/* What every write does first: the offset of "a" modes, the lease.
 * Returns 0 or a status. */
static int
write_begin(struct dfs_file *f)
{
	f->dfs->detail[0] = '\0';
	if ((f->flags & F_WRITE) == 0)
		return -DFS_ERR_PERM;
	renew(f);
	if (f->flags & F_APPEND)
		f->off = (int64_t)file_size(f);
	if ((uint64_t)f->off < f->base)
		return -DFS_ERR_INVAL;
	return 0;
}

/* What every write does after: advances by what was written.  Returns
 * done. */
static ssize_t
write_end(struct dfs_file *f, ssize_t done)
{
	if (done > 0) {
		f->off += done;
		f->dirty = 1;
	}
	return done;
}

ssize_t
dfs_write(struct dfs_file *f, const void *buf, size_t n)
{
	int	rc;

	if ((rc = write_begin(f)) != 0)
		return rc;
	if (f->direct)
		return write_end(f, direct_write(f, buf, n));
	return write_end(f, spool_pwrite(&f->sp, buf, n,
	    (uint64_t)f->off - f->base));
}

ssize_t
dfs_write_from_fd(struct dfs_file *f, int fd, size_t n)
{
	char	buf[65536];
	ssize_t	got;
	int	rc, rerr = 0;

	if ((rc = write_begin(f)) != 0) {
		errno = 0;
		return rc;
	}
	if (f->direct)
		got = direct_put_fd(f, fd, n, (uint64_t)f->off, &rerr);
	else {
		do
			got = read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		while (got == -1 && errno == EINTR);
		if (got == -1) {
			rerr = errno;
			got = -DFS_ERR_IO;
		} else if (got > 0)
			got = spool_pwrite(&f->sp, buf, (size_t)got,
			    (uint64_t)f->off - f->base);
	}
	errno = rerr;
	return write_end(f, got);
}

int64_t
dfs_seek(struct dfs_file *f, int64_t off, int whence)
{
	int64_t	from;

	switch (whence) {
	case SEEK_SET:
		from = 0;
		break;
	case SEEK_CUR:
		from = f->off;
		break;
	case SEEK_END:
		from = (int64_t)file_size(f);
		break;
	default:
		return -DFS_ERR_INVAL;
	}
	if ((off < 0 && from + off < 0) || (off > 0 && from > INT64_MAX - off))
		return -DFS_ERR_INVAL;
	f->off = from + off;
	return f->off;
}

int64_t
dfs_tell(const struct dfs_file *f)
{
	return f->off;
}

int
dfs_truncate(struct dfs_file *f, uint64_t size)
{
	int	rc;

	if ((f->flags & F_WRITE) == 0)
		return -DFS_ERR_PERM;
	if (f->direct)
		return direct_truncate(f, size);
	if (size < f->base) {
		f->base = size;
		rc = spool_truncate(&f->sp, 0);
	} else
		rc = spool_truncate(&f->sp, size - f->base);
	if (rc == 0)
		f->dirty = 1;
	return rc;
}

/* --- upload ------------------------------------------------------------ */

/* Appends STAGE for f (server copy of the first `base` bytes). */
static void
add_stage(struct dfs_file *f, struct freq *r)
{
	stage_args	*sa = &freq_add(r, FOP_STAGE)->file_argop_u.stage;

	sa->fh = f->fh;
	sa->vers = f->vers;
	sa->keep = f->base;
	sa->lock = f->lock;
}

static void
add_write(struct dfs_file *f, struct freq *r, uint64_t stage, char *data,
    size_t len, uint64_t off)
{
	write_args	*wa = &freq_add(r, FOP_WRITE)->file_argop_u.write;

	wa->fh = f->fh;
	wa->stage = stage;
	wa->offset = off;
	wa->data.data_val = data;
	wa->data.data_len = (u_int)len;
}

static void
add_commit(struct dfs_file *f, struct freq *r, uint64_t stage)
{
	commit_file_args *ca = &freq_add(r, FOP_COMMIT)->file_argop_u.commit;

	ca->fh = f->fh;
	ca->stage = stage;
	ca->lock = f->lock;
	/* CHANGED if anyone committed since our open: never a lost update */
	ca->base = f->vers;
}

/* Sends one request; on success keeps the stage id or the committed
 * version.  Returns 0 or a status. */
static int
send_upload(struct dfs_file *f, struct freq *r, uint64_t *stage)
{
	file_compound_res	res;
	file_resop		*last;
	int			rc;

	rc = conn_file(f->dfs, &f->srv, r, &res, 0);
	if (rc == 0) {
		last = &res.res.res_val[res.res.res_len - 1];
		if (r->ops[0].op == FOP_STAGE)
			*stage = res.res.res_val[0].file_resop_u.stage.
			    stage_res_u.stage;
		if (last->op == FOP_COMMIT) {
			f->vers = last->file_resop_u.commit.fcommit_res_u.
			    attr.vers;
			f->size = last->file_resop_u.commit.fcommit_res_u.
			    attr.size;
		}
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return rc;
}

/* Points the ops of r at handle fh. */
static void
retarget(struct freq *r, const dfs_fh *fh)
{
	u_int	i;

	for (i = 0; i < r->n; i++)
		switch (r->ops[i].op) {
		case FOP_STAGE:
			r->ops[i].file_argop_u.stage.fh = *fh;
			break;
		case FOP_WRITE:
			r->ops[i].file_argop_u.write.fh = *fh;
			break;
		case FOP_COMMIT:
			r->ops[i].file_argop_u.commit.fh = *fh;
			break;
		default:
			break;
		}
}

/* Moves the file this open created to another file server (place.c).
 * Returns 0 or a status (then the detail is the caller's). */
static int
place_elsewhere(struct dfs_file *f)
{
	name_compound_res	res;
	char			detail[sizeof(f->dfs->detail)];
	int			rc;

	memcpy(detail, f->dfs->detail, sizeof(detail));
	rc = place_again(f->dfs, &f->lock, f->path, f->srv.id, &res);
	if (rc == 0) {
		free(f->fh.dfs_fh_val);
		free(f->srv.host);
		memset(&f->fh, 0, sizeof(f->fh));
		memset(&f->srv, 0, sizeof(f->srv));
		rc = open_take(f, &res);
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	if (rc != 0)
		memcpy(f->dfs->detail, detail, sizeof(detail));
	return rc;
}

/*
 * send_upload(), and for the request that makes the stage (STAGE first)
 * of a file this open created: when its file server cannot be reached,
 * the file moves to another (place.c) and the request goes there, once.
 * Returns 0 or a status.
 */
static int
upload_call(struct dfs_file *f, struct freq *r, uint64_t *stage)
{
	int	rc = send_upload(f, r, stage);

	if (rc == 0 || !place_transport(rc) || r->ops[0].op != FOP_STAGE ||
	    !f->created || f->vers != 0 || f->moved)
		return rc;
	f->moved = 1;
	if (place_elsewhere(f) != 0)
		return rc;
	retarget(r, &f->fh);
	return send_upload(f, r, stage);
}

/* After a failed or abandoned upload: a file this open created and
 * nothing committed to leaves no name (place.c). */
static void
unplace(struct dfs_file *f)
{
	if (f->created && f->vers == 0 && f->fh.dfs_fh_val != NULL)
		place_undo(f->dfs, &f->lock, f->path, &f->fh);
}

/* Drops the stage (best effort; the file server's GC would too).  The
 * failure that got us here stays the detail the caller sees. */
static void
abort_stage(struct dfs_file *f, uint64_t stage)
{
	struct freq		 r = { .n = 0 };
	file_compound_res	 res;
	stageref		*sr;
	char			 detail[sizeof(f->dfs->detail)];

	if (stage == 0)
		return;
	memcpy(detail, f->dfs->detail, sizeof(detail));
	sr = &freq_add(&r, FOP_ABORT)->file_argop_u.abort;
	sr->fh = f->fh;
	sr->stage = stage;
	(void)conn_file(f->dfs, &f->srv, &r, &res, 0);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	memcpy(f->dfs->detail, detail, sizeof(detail));
}

/*
 * Uploads the spool and commits.  The first request is STAGE plus the
 * first chunk (plus COMMIT when that is all); the rest are one WRITE
 * each, then COMMIT.  Returns 0 or a status; on failure the stage is
 * dropped and the previous version stands.
 */
static int
upload(struct dfs_file *f)
{
	struct freq	 r = { .n = 0 };
	uint64_t	 stage = 0, off = 0;
	char		*buf;
	ssize_t		 n;
	int		 rc = 0;

	buf = malloc(DFS_CHUNK);
	if (buf == NULL)
		return -DFS_ERR_NOMEM;
	add_stage(f, &r);
	do {
		renew(f);	/* a long upload must not outlive the lease */
		n = spool_pread(&f->sp, buf, DFS_CHUNK, off);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n > 0)
			add_write(f, &r, stage, buf, (size_t)n, f->base + off);
		off += (uint64_t)n;
		if (off >= f->sp.size)
			add_commit(f, &r, stage);
		rc = upload_call(f, &r, &stage);
		r.n = 0;
	} while (rc == 0 && off < f->sp.size);
	free(buf);
	if (rc != 0)
		abort_stage(f, stage);
	return rc;
}

/* --- direct writers ----------------------------------------------------- */

/*
 * A writer that never reads back ("w", "a") keeps no local copy: its
 * bytes go to a stage on the file server as they come, a chunk at a
 * time, and dfs_close() commits the stage.  Nothing is visible before
 * the commit, so the whole-file semantics are those of the spool.  The
 * first chunk goes with STAGE on our connection (a file of one chunk is
 * STAGE, WRITE, COMMIT in one round trip at close); later chunks go
 * through an xfer, several at once.  A chunk is sent when it is full or
 * when the next write is not contiguous with it.  With "c" the bytes are
 * also spooled, for the cache entry of the new version, until they
 * outgrow the cache.
 */

/* Sends the chunk being filled.  Returns 0 or a status. */
static int
direct_flush(struct dfs_file *f)
{
	struct freq	 r = { .n = 0 };
	char		*slot;
	int		 rc;

	if (f->wlen == 0)
		return 0;
	if (f->stage != 0 && f->wx == NULL && f->dfs->streams > 1) {
		rc = xfer_start(f->dfs, &f->srv, &f->fh, FOP_WRITE, f->stage,
		    0, &f->wx);
		if (rc == 0)
			rc = xfer_wbuf(f->wx, f->dfs, &slot);
		if (rc != 0)
			return rc;
		memcpy(slot, f->wbuf, f->wlen);	/* once, the first chunk */
		f->wbuf = slot;
	}
	if (f->wx != NULL) {
		xfer_wqueue(f->wx, f->wlen, f->woff);
		f->wbuf = NULL;		/* the slot is the xfer's now */
		f->wlen = 0;
		return 0;
	}
	if (f->stage == 0)
		add_stage(f, &r);
	add_write(f, &r, f->stage, f->wbuf, f->wlen, f->woff);
	f->wlen = 0;
	return upload_call(f, &r, &f->stage);
}

/* Gets a buffer for the next chunk.  Returns 0 or a status. */
static int
direct_buf(struct dfs_file *f)
{
	if (f->wbuf != NULL)
		return 0;
	if (f->wx != NULL)
		return xfer_wbuf(f->wx, f->dfs, &f->wbuf);
	if (f->wown == NULL && (f->wown = malloc(DFS_CHUNK)) == NULL)
		return -DFS_ERR_NOMEM;
	f->wbuf = f->wown;
	return 0;
}

/* Stops spooling the cache copy. */
static void
direct_unkeep(struct dfs_file *f)
{
	f->keep = 0;
	(void)spool_truncate(&f->sp, 0);
}

/* Makes the chunk being filled the one for file offset off: the chunk
 * before goes if off does not follow it.  Returns the room left in it
 * (at f->wbuf + f->wlen), or a status; a failure is kept and fails
 * dfs_close() too. */
static ssize_t
direct_room(struct dfs_file *f, uint64_t off)
{
	int	rc = f->werr;

	if (rc == 0 && f->wlen > 0 && off != f->woff + f->wlen)
		rc = direct_flush(f);
	if (rc == 0)
		rc = direct_buf(f);
	if (rc != 0)
		return f->werr = rc;
	if (f->wlen == 0)
		f->woff = off;
	return (ssize_t)(DFS_CHUNK - f->wlen);
}

/* Counts the `take` bytes just put at f->wbuf + f->wlen (file offset
 * off) and sends the chunk when full.  Returns take or a status. */
static ssize_t
direct_took(struct dfs_file *f, size_t take, uint64_t off)
{
	const char	*p = f->wbuf + f->wlen;
	int		 rc;

	f->wlen += take;
	if (off + take > f->wsize)
		f->wsize = off + take;
	if (f->keep && (f->wsize > f->dfs->cache.limit ||
	    spool_pwrite(&f->sp, p, take, off) != (ssize_t)take))
		direct_unkeep(f);
	if (f->wlen == DFS_CHUNK && (rc = direct_flush(f)) != 0)
		return f->werr = rc;
	return (ssize_t)take;
}

/* Takes what fits of buf into the chunk, for file offset off.  Returns
 * the count or a status. */
static ssize_t
direct_put(struct dfs_file *f, const char *buf, size_t n, uint64_t off)
{
	ssize_t	room;

	if ((room = direct_room(f, off)) < 0)
		return room;
	if ((size_t)room > n)
		room = (ssize_t)n;
	memcpy(f->wbuf + f->wlen, buf, (size_t)room);
	return direct_took(f, (size_t)room, off);
}

/* Reads up to n bytes of fd straight into the chunk, for file offset
 * off.  Returns the count (0 at the end of fd) or a status; *rerr is
 * the errno of a failed read (then -DFS_ERR_IO), else 0. */
static ssize_t
direct_put_fd(struct dfs_file *f, int fd, size_t n, uint64_t off, int *rerr)
{
	ssize_t	room, got;

	if ((room = direct_room(f, off)) < 0)
		return room;
	if ((size_t)room > n)
		room = (ssize_t)n;
	do
		got = read(fd, f->wbuf + f->wlen, (size_t)room);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		*rerr = errno;
		return -DFS_ERR_IO;
	}
	return got == 0 ? 0 : direct_took(f, (size_t)got, off);
}

/* dfs_write() of a direct writer: all of buf at f->off.  Returns n or a
 * status. */
static ssize_t
direct_write(struct dfs_file *f, const char *buf, size_t n)
{
	size_t	done = 0;
	ssize_t	k;

	while (done < n) {
		k = direct_put(f, buf + done, n - done, (uint64_t)f->off + done);
		if (k < 0)
			return k;
		done += (size_t)k;
	}
	return (ssize_t)n;
}

/* Everything written so far on the server, in the stage (made now if
 * need be).  Returns 0 or a status. */
static int
direct_sync(struct dfs_file *f)
{
	struct freq	r = { .n = 0 };
	int		rc = f->werr;

	if (rc == 0)
		rc = direct_flush(f);
	if (rc == 0 && f->wx != NULL)
		rc = xfer_drain(f->wx, f->dfs);
	if (rc == 0 && f->stage == 0) {
		add_stage(f, &r);
		rc = upload_call(f, &r, &f->stage);
	}
	return rc != 0 ? (f->werr = rc) : 0;
}

/* dfs_truncate() of a direct writer: SETSIZE of the stage. */
static int
direct_truncate(struct dfs_file *f, uint64_t size)
{
	struct freq	 r = { .n = 0 };
	setsize_args	*sa;
	int		 rc;

	if ((rc = direct_sync(f)) != 0)
		return rc;
	sa = &freq_add(&r, FOP_SETSIZE)->file_argop_u.setsize;
	sa->fh = f->fh;
	sa->stage = f->stage;
	sa->size = size;
	if ((rc = upload_call(f, &r, &f->stage)) != 0)
		return f->werr = rc;
	f->wsize = size;
	f->dirty = 1;
	if (f->keep && (f->base != 0 || spool_truncate(&f->sp, size) != 0))
		direct_unkeep(f);
	return 0;
}

/* dfs_close() of a direct writer: the rest, then COMMIT; a file that
 * never made its stage is STAGE [WRITE] COMMIT in one round trip.
 * Returns 0 or a status; on failure the stage is dropped. */
static int
direct_commit(struct dfs_file *f)
{
	struct freq	r = { .n = 0 };
	int		rc = f->werr;

	if (rc == 0 && f->stage == 0) {
		add_stage(f, &r);
		if (f->wlen > 0)
			add_write(f, &r, 0, f->wbuf, f->wlen, f->woff);
		f->wlen = 0;
	} else if (rc == 0)
		rc = direct_sync(f);
	if (rc == 0) {
		add_commit(f, &r, f->stage);
		rc = upload_call(f, &r, &f->stage);
	}
	if (rc != 0)
		abort_stage(f, f->stage);
	return rc;
}

/* After a commit with "c": stores what was uploaded as the new
 * version's cache entry, when the spool holds all of it (not after an
 * "a" that kept the old bytes on the server). */
static void
keep_written(struct dfs_file *f)
{
	struct cache_key	k;

	if ((f->flags & F_CACHE) == 0 || f->base != 0 ||
	    (f->direct && !f->keep))
		return;
	cache_key(f, &k);
	(void)cache_put_from_spool(&f->dfs->cache, &k, &f->sp);
}

int
dfs_abort(struct dfs_file *f)
{
	struct dfs	*dfs = f->dfs;

	dfs->detail[0] = '\0';
	if (f->direct && f->stage != 0) {
		xfer_end(f->wx);	/* ORDER: no WRITE after the ABORT */
		f->wx = NULL;
		abort_stage(f, f->stage);
	}
	/* ORDER: under our lock */
	if (f->flags & F_WRITE)
		unplace(f);
	unlock_file(f);
	file_free(f);
	return 0;
}

int
dfs_close(struct dfs_file *f)
{
	struct dfs	*dfs = f->dfs;
	int		 rc = 0;

	dfs->detail[0] = '\0';
	if ((f->flags & F_WRITE) && f->dirty)
		rc = f->direct ? direct_commit(f) : upload(f);
	if (rc == 0 && (f->flags & F_WRITE) && f->dirty)
		keep_written(f);
	else if (rc != 0)
		unplace(f);	/* ORDER: under our lock */
	unlock_file(f);
	file_free(f);
	return rc;
}

/* --- dfs_from_cache ------------------------------------------------------ */

/* [walk, GETFH, GETATTR] of f->path: the current version, without
 * asking where it lives.  Returns 0, -DFS_ERR_ISDIR or a status. */
static int
current_version(struct dfs_file *f)
{
	struct nreq		 r = { .n = 0 };
	name_compound_res	 res;
	const dfs_attr		*a;
	int			 rc;

	name_walk(&r, f->path);
	nreq_add(&r, OP_GETFH);
	nreq_add(&r, OP_GETATTR);
	rc = conn_name(f->dfs, &r, &res, 1);
	if (rc == 0 && res.res.res_len == r.n) {
		a = &res.res.res_val[r.n - 1].name_resop_u.getattr.
		    attr_res_u.attr;
		fh_copy(&f->fh, &res.res.res_val[r.n - 2].name_resop_u.getfh.
		    getfh_res_u.fh);
		f->vers = a->vers;
		f->size = a->size;
		if (a->type == DFS_FTYPE_DIR)
			rc = -DFS_ERR_ISDIR;
		else if (f->fh.dfs_fh_val == NULL)
			rc = -DFS_ERR_NOMEM;
	} else if (rc == 0)
		rc = -DFS_ERR_PROTO;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

/* TEST(f->path, id, SHARED).  Returns 0 or a status. */
static int
test_lock(struct dfs_file *f, const dfs_lockid *id)
{
	struct lreq		 r = { .n = 0 };
	lock_compound_res	 res;
	test_args		*ta;
	int			 rc;

	ta = &lreq_add(&r, LOP_TEST)->lock_argop_u.test;
	ta->path = mkpath(f->path);
	ta->id = *id;
	ta->mode = DFS_LOCK_SHARED;
	rc = conn_lock(f->dfs, &r, &res, 1);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

/* Asks the lock server whether someone else holds f->path exclusively
 * (TEST for a shared hold, under our own exclusive lock of the path if
 * we have one, else the zero id).  Returns 0 (also without a lock
 * server), -DFS_ERR_LOCKED (detail set) or a transport status. */
static int
locked_elsewhere(struct dfs_file *f)
{
	const struct dfs_lock	*own = lock_find(f->dfs, f->path);
	dfs_lockid		 zero = { 0, 0 };
	int			 rc;

	rc = test_lock(f, own != NULL ? &own->id : &zero);
	/* our lock was taken over: then ask as nobody */
	if (own != NULL && (rc == -DFS_ERR_EXPIRED ||
	    rc == -DFS_ERR_BADLOCK))
		rc = test_lock(f, &zero);
	if (rc == -DFS_ERR_LOCKED)
		conn_detail(f->dfs, "locked for writing by another client");
	return rc == -DFS_ERR_NOSERVER ? 0 : rc;
}

int
dfs_from_cache(struct dfs *dfs, const char *path, struct dfs_file **fp)
{
	struct dfs_file	*f;
	int		 rc;

	dfs->detail[0] = '\0';
	if ((rc = name_check(path)) != 0)
		return rc;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -DFS_ERR_NOMEM;
	f->dfs = dfs;
	f->cfd = -1;
	spool_init(&f->sp, dfs->max_size, dfs->tmpdir);
	f->flags = F_READ;
	snprintf(f->path, sizeof(f->path), "%s", path);
	rc = current_version(f);
	if (rc == 0)
		rc = locked_elsewhere(f);
	if (rc == 0 && !cache_lookup(f)) {
		conn_detail(dfs, "the cache holds no copy of version %" PRIu64,
		    f->vers);
		rc = -DFS_ERR_STALE;
	}
	if (rc != 0) {
		file_free(f);
		return rc;
	}
	*fp = f;
	return 0;
}
