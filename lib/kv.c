/*
 * kv.c -- a crash-safe key/value store: GDBM behind a redo log.
 *
 * See kv.h for the design.  Log record layout (all integers big-endian):
 *
 *	u32 magic "KVL1" | u32 payload length | u64 XXH64(payload)
 *	payload: entries of  u8 op (1 put, 2 del) | u32 klen | u32 vlen |
 *	                     key | value
 */
#include <sys/file.h>
#include <sys/mman.h>		/* memfd_create */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdbm.h>
#include <xxhash.h>

#include "bytes.h"
#include "dfs_types.h"
#include "kv.h"

#define KV_MAGIC	0x4b564c31u	/* "KVL1" */
#define KV_HDRLEN	16
#define KV_OP_PUT	1
#define KV_OP_DEL	2
#define KV_DEFAULT_CKPT	(64u << 20)
#define KV_LOG_CHUNK	(1u << 20)	/* log space reserved at a time */
#define KV_CKPT_RETRY	(4u << 20)	/* log growth before a checkpoint
					   that failed is tried again */

struct kv {
	GDBM_FILE	 db;		/* the working file, in memory */
	int		 lockfd;
	int		 logfd;
	size_t		 logsize;
	size_t		 logalloc;	/* log bytes preallocated */
	int		 resfd;		/* NAME.db.tmp, reserved, or -1 */
	off_t		 resv;		/* its preallocated size */
	size_t		 ckpt_bytes;
	size_t		 ckpt_retry;	/* log size to retry a failed one */
	char		 path_db[4096];
	char		 path_tmp[4096];
	char		 path_log[4096];
	char		 path_lock[4096];
	char		 dir[4096];
	unsigned char	*batch;		/* pending log payload */
	size_t		 blen;
	size_t		 bcap;
	uint64_t	 unsynced;	/* records appended since the sync */
	struct kv_counts counts;
};

/* fsync(2) a directory so that a rename or create in it is durable. */
static int
fsync_dir(const char *dir)
{
	int	fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Copies all of `in` over `out` (both from offset 0, with pread and
 * pwrite: GDBM's descriptor offset is left alone).  Returns 0 or -1 with
 * errno set. */
static int
copy_fd(int in, int out)
{
	char	buf[65536];
	off_t	off = 0;
	ssize_t	n, w;

	while ((n = pread(in, buf, sizeof(buf), off)) > 0) {
		if ((w = pwrite(out, buf, (size_t)n, off)) != n) {
			if (w >= 0)
				errno = EIO;
			return -1;
		}
		off += n;
	}
	return n < 0 ? -1 : ftruncate(out, off);
}

/*
 * Writes the working file to the checkpoint file NAME.db.tmp and fsyncs
 * it.  Its blocks were preallocated (res_grow) when possible, and are
 * written over in place, so a full disk does not stop a checkpoint; the
 * file is then cut to the working file's size.  The descriptor is left
 * to the caller's rename.  Returns 0 or -1 with errno set.
 */
static int
save_work(struct kv *kv)
{
	if (kv->resfd == -1) {
		kv->resfd = open(kv->path_tmp, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600);
		if (kv->resfd == -1)
			return -1;
		kv->resv = 0;
	}
	/* written over and cut to size: what it reserved is unknown */
	kv->resv = 0;
	if (copy_fd(gdbm_fdesc(kv->db), kv->resfd) == -1 ||
	    fsync(kv->resfd) == -1)
		return -1;
	return 0;
}

/* --- space reserved for a full disk --- */

/*
 * Preallocates the log (beyond its end, its size unchanged) so that
 * `more` bytes past the current batch need no new disk block, a chunk
 * more when the disk has it.  Returns 0, or -1 with errno set (ENOSPC:
 * the disk is full).  A file system that cannot preallocate is taken as
 * having room: appends then fail as they always could.
 */
static int
log_grow(struct kv *kv, size_t more)
{
	size_t	want = kv->logsize + KV_HDRLEN + kv->blen + more;

	if (want <= kv->logalloc)
		return 0;
	/* a chunk ahead, so that this is rare; else just what is asked */
	if (fallocate(kv->logfd, FALLOC_FL_KEEP_SIZE, 0,
	    (off_t)(want + KV_LOG_CHUNK)) == 0)
		want += KV_LOG_CHUNK;
	else if (errno == EOPNOTSUPP)
		want = SIZE_MAX;
	else if (errno != ENOSPC || fallocate(kv->logfd, FALLOC_FL_KEEP_SIZE,
	    0, (off_t)want) == -1)
		return -1;
	kv->logalloc = want;
	return 0;
}

/*
 * Makes sure NAME.db.tmp, the next checkpoint, is preallocated to the
 * working file's size plus `more` (what the batch may add), growing it
 * by a quarter and a chunk more when it is not and the disk has that
 * much: a checkpoint then needs no new disk block.  Returns 0 or -1 with
 * errno set.
 */
static int
res_grow(struct kv *kv, size_t more)
{
	struct stat	st;
	off_t		want;
	int		rc;

	if (fstat(gdbm_fdesc(kv->db), &st) == -1)
		return -1;
	want = st.st_size + (off_t)more;
	if (kv->resfd != -1 && kv->resv >= want)
		return 0;
	if (kv->resfd == -1) {
		kv->resfd = open(kv->path_tmp, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600);
		if (kv->resfd == -1)
			return -1;
	}
	/* room to grow, so that this is rare; else just what is asked */
	rc = posix_fallocate(kv->resfd, 0, want + st.st_size / 4 +
	    KV_LOG_CHUNK);
	if (rc == 0)
		want += st.st_size / 4 + KV_LOG_CHUNK;
	else if (rc == ENOSPC)
		rc = posix_fallocate(kv->resfd, 0, want);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	kv->resv = want;
	return 0;
}

int
kv_reserve(struct kv *kv, size_t more)
{
	if (log_grow(kv, more) == -1 || res_grow(kv, more) == -1)
		return errno == ENOSPC || errno == EDQUOT ? -DFS_ERR_NOSPC :
		    -DFS_ERR_IO;
	return 0;
}

int
kv_reserve_log(struct kv *kv, size_t more)
{
	if (log_grow(kv, more) == -1)
		return errno == ENOSPC || errno == EDQUOT ? -DFS_ERR_NOSPC :
		    -DFS_ERR_IO;
	return 0;
}

/* A new working file in memory holding a copy of `src`.  Returns its
 * descriptor or -1 with errno set. */
static int
load_work(const char *src)
{
	int	in, fd, saved;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	fd = memfd_create("dfs-kv-work", MFD_CLOEXEC);
	if (fd != -1 && copy_fd(in, fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	saved = errno;
	close(in);
	errno = saved;
	return fd;
}

/* Fills err with "WHAT 'ARG': WHY" and returns rc. */
static int
set_err(char *err, size_t errlen, int rc, const char *what, const char *arg,
    const char *why)
{
	size_t	n;

	n = strlen(what) + strlen(arg) + strlen(why) + 6;
	if (n > errlen && errlen > 0) {
		snprintf(err, errlen, "%s: %s", what, why);
		return rc;
	}
	snprintf(err, errlen, "%s '%s': %s", what, arg, why);
	return rc;
}

static int
batch_reserve(struct kv *kv, size_t more)
{
	unsigned char	*nb;
	size_t		 ncap;

	if (kv->blen + more <= kv->bcap)
		return 0;
	ncap = kv->bcap ? kv->bcap : 4096;
	while (ncap < kv->blen + more)
		ncap *= 2;
	nb = realloc(kv->batch, ncap);
	if (nb == NULL)
		return -DFS_ERR_NOMEM;
	kv->batch = nb;
	kv->bcap = ncap;
	return 0;
}

static int
batch_add(struct kv *kv, int op, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	unsigned char	*p;

	if (batch_reserve(kv, 9 + klen + vlen) != 0)
		return -DFS_ERR_IO;
	p = kv->batch + kv->blen;
	p[0] = (unsigned char)op;
	be32_put(p + 1, (uint32_t)klen);
	be32_put(p + 5, (uint32_t)vlen);
	memcpy(p + 9, key, klen);
	if (vlen > 0)
		memcpy(p + 9 + klen, val, vlen);
	kv->blen += 9 + klen + vlen;
	return 0;
}

static int
db_put(struct kv *kv, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	datum	k = { (char *)key, (int)klen };
	datum	v = { (char *)val, (int)vlen };

	return gdbm_store(kv->db, k, v, GDBM_REPLACE) == 0 ? 0 : -DFS_ERR_IO;
}

static int
db_del(struct kv *kv, const void *key, size_t klen)
{
	datum	k = { (char *)key, (int)klen };

	if (gdbm_delete(kv->db, k) == 0 || gdbm_errno == GDBM_ITEM_NOT_FOUND)
		return 0;
	return -DFS_ERR_IO;
}

/* Applies one log payload to the working file.  Returns 0, or -1 when
 * the payload is malformed (cannot happen once the checksum matched). */
static int
apply_payload(struct kv *kv, const unsigned char *p, size_t len)
{
	size_t		off = 0;
	uint32_t	klen, vlen;

	while (off < len) {
		if (len - off < 9)
			return -1;
		klen = be32_get(p + off + 1);
		vlen = be32_get(p + off + 5);
		if (len - off - 9 < (size_t)klen + vlen)
			return -1;
		if (p[off] == KV_OP_PUT) {
			if (db_put(kv, p + off + 9, klen, p + off + 9 + klen,
			    vlen) != 0)
				return -1;
		} else if (db_del(kv, p + off + 9, klen) != 0)
			return -1;
		off += 9 + (size_t)klen + vlen;
	}
	return 0;
}

/*
 * Replays every intact record of the log, then truncates the log after
 * the last one.  Returns the number of records replayed, or -1.
 */
static int
replay_log(struct kv *kv)
{
	unsigned char	 hdr[KV_HDRLEN], *payload;
	struct stat	 st;
	off_t		 off = 0;
	uint32_t	 plen;
	int		 n = 0;

	if (fstat(kv->logfd, &st) == -1)
		return -1;
	for (;;) {
		if (pread(kv->logfd, hdr, KV_HDRLEN, off) != KV_HDRLEN ||
		    be32_get(hdr) != KV_MAGIC)
			break;
		plen = be32_get(hdr + 4);
		/* a damaged length must not make us allocate up to 4 GiB */
		if (plen > st.st_size - off - KV_HDRLEN)
			break;
		payload = malloc(plen ? plen : 1);
		if (payload == NULL)
			return -1;
		if (pread(kv->logfd, payload, plen, off + KV_HDRLEN) !=
		    (ssize_t)plen ||
		    XXH64(payload, plen, 0) != be64_get(hdr + 8)) {
			free(payload);
			break;
		}
		if (apply_payload(kv, payload, plen) != 0) {
			free(payload);
			return -1;
		}
		free(payload);
		off += KV_HDRLEN + plen;
		n++;
	}
	if (ftruncate(kv->logfd, off) == -1)
		return -1;
	kv->logsize = (size_t)off;
	return n;
}

static int
create_empty_db(const char *path)
{
	GDBM_FILE	db;
	int		fd, rc;

	db = gdbm_open(path, 0, GDBM_NEWDB | GDBM_NOLOCK, 0600, NULL);
	if (db == NULL)
		return -1;
	gdbm_close(db);
	fd = open(path, O_RDONLY);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
kv_paths(struct kv *kv, const char *dir, const char *name)
{
	size_t	n = sizeof(kv->path_db);

	if ((size_t)snprintf(kv->dir, n, "%s", dir) >= n ||
	    (size_t)snprintf(kv->path_db, n, "%s/%s.db", dir, name) >= n ||
	    (size_t)snprintf(kv->path_tmp, n, "%s/%s.db.tmp", dir, name) >= n ||
	    (size_t)snprintf(kv->path_log, n, "%s/%s.log", dir, name) >= n ||
	    (size_t)snprintf(kv->path_lock, n, "%s/%s.lock", dir, name) >= n)
		return -1;
	return 0;
}

/* Takes the directory lock.  Returns 0, -DFS_ERR_DELAY or -DFS_ERR_IO. */
static int
kv_lock(struct kv *kv, char *err, size_t errlen)
{
	const char	*path = kv->path_lock;

	kv->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (kv->lockfd == -1)
		return set_err(err, errlen, -DFS_ERR_IO,
		    "cannot open lock file", path, strerror(errno));
	if (flock(kv->lockfd, LOCK_EX | LOCK_NB) == -1)
		return set_err(err, errlen, -DFS_ERR_DELAY,
		    "state directory in use", kv->dir,
		    "another daemon holds it");
	return 0;
}

/* Rebuilds the working file from the checkpoint and the log.  Returns 0 or -1
 * with err filled. */
static int
kv_recover(struct kv *kv, char *err, size_t errlen)
{
	const char	*path = kv->path_log;
	int		 n, fd;

	if (access(kv->path_db, F_OK) == -1 &&
	    (create_empty_db(kv->path_db) == -1 || fsync_dir(kv->dir) == -1))
		return set_err(err, errlen, -1, "cannot create database",
		    kv->path_db, strerror(errno));
	if ((fd = load_work(kv->path_db)) == -1)
		return set_err(err, errlen, -1, "cannot copy database",
		    kv->path_db, strerror(errno));
	/* GDBM names the file by the checkpoint's path in its messages */
	kv->db = gdbm_fd_open(fd, kv->path_db, 0,
	    GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOERROR, NULL);
	if (kv->db == NULL)
		return set_err(err, errlen, -1, "cannot open database",
		    kv->path_db, gdbm_strerror(gdbm_errno));
	kv->logfd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (kv->logfd == -1)
		return set_err(err, errlen, -1, "cannot open log", path,
		    strerror(errno));
	n = replay_log(kv);
	if (n < 0)
		return set_err(err, errlen, -1, "cannot replay log", path,
		    strerror(errno));
	/*
	 * On a full disk the checkpoint may fail even so: the checkpoint
	 * and the log still hold everything, so the store opens, and
	 * kv_reserve() refuses changes until there is room again.
	 */
	if (n > 0)
		(void)kv_checkpoint(kv);
	(void)kv_reserve(kv, 0);
	return 0;
}

int
kv_open(struct kv **kvp, const char *dir, const char *name, char *err,
    size_t errlen)
{
	struct kv	*kv;
	int		 rc;

	kv = calloc(1, sizeof(*kv));
	if (kv == NULL)
		return set_err(err, errlen, -DFS_ERR_IO, "cannot open store",
		    dir, strerror(errno));
	kv->lockfd = kv->logfd = kv->resfd = -1;
	kv->ckpt_bytes = KV_DEFAULT_CKPT;
	if (kv_paths(kv, dir, name) == -1) {
		free(kv);
		return set_err(err, errlen, -DFS_ERR_NAMETOOLONG,
		    "state directory", dir, "path too long");
	}
	rc = kv_lock(kv, err, errlen);
	if (rc == 0 && kv_recover(kv, err, errlen) != 0)
		rc = -DFS_ERR_IO;
	if (rc != 0) {
		if (kv->db != NULL)
			gdbm_close(kv->db);
		if (kv->logfd != -1)
			close(kv->logfd);
		if (kv->resfd != -1)
			close(kv->resfd);
		if (kv->lockfd != -1)
			close(kv->lockfd);
		free(kv);
		return rc;
	}
	*kvp = kv;
	return 0;
}

void
kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	(void)kv_commit(kv);
	(void)kv_checkpoint(kv);
	gdbm_close(kv->db);
	close(kv->logfd);
	if (kv->resfd != -1)
		close(kv->resfd);
	close(kv->lockfd);
	free(kv->batch);
	free(kv);
}

int
kv_get(struct kv *kv, const void *key, size_t klen, void **val,
    size_t *vlen)
{
	datum	k = { (char *)key, (int)klen };
	datum	v;

	v = gdbm_fetch(kv->db, k);
	if (v.dptr == NULL)
		return -DFS_ERR_NOENT;
	*val = v.dptr;
	*vlen = (size_t)v.dsize;
	return 0;
}

int
kv_foreach(struct kv *kv, int (*fn)(void *, const void *, size_t,
    const void *, size_t), void *arg)
{
	datum	k, next, v;
	int	rc = 0;

	k = gdbm_firstkey(kv->db);
	while (k.dptr != NULL && rc == 0) {
		v = gdbm_fetch(kv->db, k);
		if (v.dptr != NULL)
			rc = fn(arg, k.dptr, (size_t)k.dsize, v.dptr,
			    (size_t)v.dsize);
		free(v.dptr);
		next = gdbm_nextkey(kv->db, k);
		free(k.dptr);
		k = next;
	}
	free(k.dptr);
	return rc;
}

int
kv_put(struct kv *kv, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	if (db_put(kv, key, klen, val, vlen) != 0)
		return -DFS_ERR_IO;
	return batch_add(kv, KV_OP_PUT, key, klen, val, vlen);
}

int
kv_del(struct kv *kv, const void *key, size_t klen)
{
	if (db_del(kv, key, klen) != 0)
		return -DFS_ERR_IO;
	return batch_add(kv, KV_OP_DEL, key, klen, NULL, 0);
}

int
kv_dirty(const struct kv *kv)
{
	return kv->blen > 0;
}

int
kv_append(struct kv *kv)
{
	unsigned char	hdr[KV_HDRLEN];
	struct iovec	iov[2];
	ssize_t		want = KV_HDRLEN + (ssize_t)kv->blen;

	if (kv->blen == 0)
		return 0;
	be32_put(hdr, KV_MAGIC);
	be32_put(hdr + 4, (uint32_t)kv->blen);
	be64_put(hdr + 8, XXH64(kv->batch, kv->blen, 0));
	iov[0].iov_base = hdr;
	iov[0].iov_len = KV_HDRLEN;
	iov[1].iov_base = kv->batch;
	iov[1].iov_len = kv->blen;
	if (writev(kv->logfd, iov, 2) != want)
		return -DFS_ERR_IO;
	kv->logsize += (size_t)want;
	kv->blen = 0;
	kv->unsynced++;
	kv->counts.records++;
	kv->counts.bytes += (uint64_t)want;
	return 0;
}

int
kv_sync(struct kv *kv)
{
	if (kv->unsynced == 0)
		return 0;
	if (fdatasync(kv->logfd) == -1)
		return -DFS_ERR_IO;
	kv->unsynced = 0;
	kv->counts.syncs++;
	/* the log is durable: a checkpoint that fails loses nothing, and
	 * is tried again once the log has grown some more */
	if (kv->logsize >= kv->ckpt_bytes && kv->logsize >= kv->ckpt_retry &&
	    kv_checkpoint(kv) != 0)
		kv->ckpt_retry = kv->logsize + KV_CKPT_RETRY;
	return 0;
}

int
kv_commit(struct kv *kv)
{
	int	rc;

	rc = kv_append(kv);
	return rc != 0 ? rc : kv_sync(kv);
}

int
kv_pending(const struct kv *kv)
{
	return kv->blen > 0 || kv->unsynced > 0;
}

void
kv_counts(const struct kv *kv, struct kv_counts *out)
{
	*out = kv->counts;
}

/*
 * A failure at any step leaves the old checkpoint and the whole log, or
 * the new checkpoint and a log whose records it already holds (replaying
 * them is harmless): nothing is lost, so callers may go on.
 */
int
kv_checkpoint(struct kv *kv)
{
	if (gdbm_sync(kv->db) != 0)
		return -DFS_ERR_IO;
	/* ORDER: the new checkpoint is durable before the log shrinks. */
	if (save_work(kv) == -1 || rename(kv->path_tmp, kv->path_db) == -1)
		return -DFS_ERR_IO;
	/* the file is the checkpoint now, no longer the reserve */
	close(kv->resfd);
	kv->resfd = -1;
	kv->resv = 0;
	if (fsync_dir(kv->dir) == -1)
		return -DFS_ERR_IO;
	/* truncating frees the log's preallocated blocks too */
	if (ftruncate(kv->logfd, 0) == -1 || fsync(kv->logfd) == -1)
		return -DFS_ERR_IO;
	kv->logsize = 0;
	kv->logalloc = 0;
	kv->ckpt_retry = 0;
	/* what the dropped records held is in the new checkpoint */
	kv->unsynced = 0;
	/* ORDER: reserve again what the old checkpoint and log freed */
	(void)kv_reserve(kv, 0);
	return 0;
}

void
kv_set_checkpoint_bytes(struct kv *kv, size_t bytes)
{
	kv->ckpt_bytes = bytes;
}
