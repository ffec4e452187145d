/*
 * file_read.c -- reading an open file: dfs_read(), dfs_read_to_fd(), and
 * the download of "r+" and "a+" into their spool.
 *
 * A file opened "r" is read from the cache entry of the opened version
 * when there is one (file_open.c looked it up), else streamed from its
 * file server a chunk at a time, always from that version, by a reader
 * (reader.c picks how).  On a miss with "c", the first read downloads
 * the whole version into the cache, then reads it locally; without "c"
 * the file streams and nothing is kept.  A writable file is read from
 * its spool.
 */
#include <sys/sendfile.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_core.h"

/*
 * The bytes of the opened version from off on, within one chunk, from
 * f's reader (started at the first call).  Returns 0 with *p and *len
 * (0 and "" at the end), or a status.
 */
static int
stream_at(struct dfs_file *f, uint64_t off, const char **p, size_t *len)
{
	struct reader_src	src = { f->dfs, &f->srv, &f->fh, f->vers,
				    f->size };

	*p = "";		/* memcpy(3) wants a pointer even for 0 bytes */
	*len = 0;
	if (off >= f->size || f->vers == 0)
		return 0;
	if (f->srv.host == NULL)
		return file_no_server(f);
	return reader_get(&f->rd.stream, &src, off, p, len);
}

/* Up to n bytes of the stream at off into buf.  Returns the count (0
 * at the end) or a status. */
static ssize_t
stream_copy(struct dfs_file *f, char *buf, size_t n, uint64_t off)
{
	const char	*p;
	size_t		 len;
	int		 rc;

	if ((rc = stream_at(f, off, &p, &len)) != 0)
		return rc;
	if (len > n)
		len = n;
	memcpy(buf, p, len);
	return (ssize_t)len;
}

/* Ends the stream (the rest is read from a local copy). */
static void
stream_end(struct dfs_file *f)
{
	reader_end(&f->rd.stream);
}

/* cache_reader over the stream, renewing a writer's lock on the way. */
static ssize_t
fetch_reader(void *arg, char *buf, size_t n, uint64_t off)
{
	struct dfs_file	*f = arg;

	file_renew(f);
	return stream_copy(f, buf, n, off);
}

static void
entry_key(const struct dfs_file *f, struct cache_key *k)
{
	k->fh = f->fh.dfs_fh_val;
	k->fhlen = f->fh.dfs_fh_len;
	k->vers = f->vers;
	k->size = f->size;
}

/* Opens the cache entry of the opened version into f->rd.cfd if there is
 * one.  Returns 1 on a hit, else 0. */
int
file_entry_open(struct dfs_file *f)
{
	struct cache_key	k;

	entry_key(f, &k);
	return cache_open_entry(&f->dfs->cache, &k, &f->rd.cfd) == 0;
}

/* With "c", downloads the opened version into the cache, once; f->rd.cfd
 * is the new entry on success.  Returns 0 (also when nothing was kept:
 * the caller streams) or the download's status. */
static int
entry_fill(struct dfs_file *f)
{
	struct cache_key	k;
	int			rc;

	if (f->rd.filled || f->rd.cfd != -1 || (f->flags & F_CACHE) == 0)
		return 0;
	f->rd.filled = 1;
	entry_key(f, &k);
	rc = cache_fill(&f->dfs->cache, &k, fetch_reader, f, &f->rd.cfd);
	if (f->rd.cfd != -1)
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
	got = pread(f->rd.cfd, buf, n, (off_t)off);
	if (got > 0)
		return got;
	conn_detail(f->dfs, "the cached copy changed while being read");
	return -DFS_ERR_IO;
}

/* Downloads the opened version into the spool ("r+", "a+"), from the
 * cache when it has it.  Returns 0 or a status. */
int
file_download(struct dfs_file *f)
{
	char		*buf;
	uint64_t	 off = 0;
	ssize_t		 n = 1;
	int		 rc;

	if (f->size == 0)
		return 0;
	if (!file_entry_open(f) && (rc = entry_fill(f)) != 0)
		return rc;
	if (f->rd.cfd == -1 && f->srv.host == NULL)
		return file_no_server(f);
	buf = malloc(DFS_CHUNK);
	if (buf == NULL)
		return -DFS_ERR_NOMEM;
	while (off < f->size && n > 0) {
		file_renew(f);
		if (f->rd.cfd != -1)
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
	if (f->rd.cfd != -1)	/* the spool is what is read from now on */
		close(f->rd.cfd);
	f->rd.cfd = -1;
	if (n < 0)
		return (int)n;
	return off == f->size ? 0 : -DFS_ERR_STALE;
}

/* "r": from the cache entry, else from the stream. */
static ssize_t
read_stream(struct dfs_file *f, void *buf, size_t n)
{
	uint64_t	off = (uint64_t)f->off;
	int		rc;

	if ((rc = entry_fill(f)) != 0)
		return rc;
	if (f->rd.cfd != -1)
		return read_entry(f, buf, n, off);
	return stream_copy(f, buf, n, off);
}

ssize_t
dfs_read(struct dfs_file *f, void *buf, size_t n)
{
	ssize_t	got;

	f->dfs->detail[0] = '\0';
	if ((f->flags & F_READ) == 0)
		return -DFS_ERR_PERM;
	file_renew(f);
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
		sent = sendfile(fd, f->rd.cfd, &off, n);
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

	file_renew(f);
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
		if ((got = entry_fill(f)) != 0) {
			errno = 0;
			return got;
		}
		if (f->rd.cfd != -1 &&
		    (got = send_entry(f, fd, n)) != -DFS_ERR_NOTSUPP)
			return got;
		if (f->rd.cfd == -1)
			return stream_to_fd(f, fd, n);
	}
	got = dfs_read(f, buf, n < sizeof(buf) ? n : sizeof(buf));
	if (got > 0 && write_all(fd, buf, (size_t)got) == -1)
		return -DFS_ERR_IO;
	errno = 0;
	return got;
}
