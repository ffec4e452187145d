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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	/* "r": the chunk read last */
	char		*rbuf;
	uint64_t	 rstart;
	size_t		 rlen;
	/* writable: spool offset 0 is file offset `base`; the first `base`
	 * bytes are copied on the server ("a") */
	struct spool	 sp;
	uint64_t	 base;
	int		 dirty;
	dfs_lockid	 lock;
	int		 borrowed;	/* lock is not ours to release */
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
		case 'c':	/* keep cached: the cache is a later feature */
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

/* Copies what the open COMPOUND returned into f.  Returns 0 or status. */
static int
open_take(struct dfs_file *f, const name_compound_res *res)
{
	const name_resop	*ops = res->res.res_val;
	u_int			 n = res->res.res_len;
	const dfs_attr		*a = &ops[n - 2].name_resop_u.getattr.
				    attr_res_u.attr;
	const servers_res	*loc = &ops[n - 1].name_resop_u.locate;
	const dfs_server	*s;

	s = conn_pick(loc->servers_res_u.servers.servers_val,
	    loc->servers_res_u.servers.servers_len);
	if (s == NULL) {
		conn_detail(f->dfs, "no live file server holds the file");
		return -DFS_ERR_NOSERVER;
	}
	fh_copy(&f->fh, &ops[n - 3].name_resop_u.getfh.getfh_res_u.fh);
	f->srv = *s;
	f->srv.host = strdup(s->host);
	f->vers = a->vers;
	f->size = a->size;
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

/* Downloads the opened version into the spool ("r+", "a+").  Returns 0
 * or a status. */
static int
download(struct dfs_file *f)
{
	char		*buf;
	uint64_t	 off = 0;
	ssize_t		 n = 1;

	if (f->size == 0)
		return 0;
	buf = malloc(DFS_CHUNK);
	if (buf == NULL)
		return -DFS_ERR_NOMEM;
	while (off < f->size && n > 0) {
		renew(f);
		n = fetch(f, buf, DFS_CHUNK, off);
		if (n > 0)
			n = spool_pwrite(&f->sp, buf, (size_t)n, off);
		if (n > 0)
			off += (uint64_t)n;
	}
	free(buf);
	if (n < 0)
		return (int)n;
	return off == f->size ? 0 : -DFS_ERR_STALE;
}

static void
file_free(struct dfs_file *f)
{
	spool_release(&f->sp);
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
		return 0;
	}
	if ((f->flags & (F_APPEND | F_READ)) == F_APPEND) {
		f->base = f->size;	/* kept on the server */
		return 0;
	}
	return download(f);
}

/*
 * Gets the lock a writable f works under: `lk` (which must hold the path
 * exclusively), else one this client holds on the path, else a new one.
 * Returns 0 or a status.
 */
static int
open_lock(struct dfs_file *f, const struct dfs_lock *lk)
{
	if ((f->flags & F_WRITE) == 0)
		return 0;
	if (lk != NULL && !lock_covers(lk, f->path))
		return -DFS_ERR_INVAL;
	if (lk == NULL)
		lk = lock_find(f->dfs, f->path);
	if (lk == NULL)
		return lock_take(f->dfs, f->path, &f->lock, &f->lease_ms);
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
	if (rc != 0) {
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
	return (f->flags & F_WRITE) ? f->base + f->sp.size : f->size;
}

/* "r": serve from the chunk buffer, refilling it. */
static ssize_t
read_stream(struct dfs_file *f, void *buf, size_t n)
{
	uint64_t	off = (uint64_t)f->off;
	ssize_t		got;

	if (f->rbuf == NULL && (f->rbuf = malloc(DFS_CHUNK)) == NULL)
		return -DFS_ERR_NOMEM;
	if (off < f->rstart || off >= f->rstart + f->rlen) {
		got = fetch(f, f->rbuf, DFS_CHUNK, off);
		if (got <= 0)
			return got;
		f->rstart = off;
		f->rlen = (size_t)got;
	}
	if (n > f->rstart + f->rlen - off)
		n = (size_t)(f->rstart + f->rlen - off);
	memcpy(buf, f->rbuf + (off - f->rstart), n);
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

ssize_t
dfs_write(struct dfs_file *f, const void *buf, size_t n)
{
	ssize_t	done;

	f->dfs->detail[0] = '\0';
	if ((f->flags & F_WRITE) == 0)
		return -DFS_ERR_PERM;
	renew(f);
	if (f->flags & F_APPEND)
		f->off = (int64_t)file_size(f);
	if ((uint64_t)f->off < f->base)
		return -DFS_ERR_INVAL;
	done = spool_pwrite(&f->sp, buf, n, (uint64_t)f->off - f->base);
	if (done > 0) {
		f->off += done;
		f->dirty = 1;
	}
	return done;
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
}

/* Sends one request; on success keeps the stage id or the committed
 * version.  Returns 0 or a status. */
static int
upload_call(struct dfs_file *f, struct freq *r, uint64_t *stage)
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

int
dfs_abort(struct dfs_file *f)
{
	struct dfs	*dfs = f->dfs;

	dfs->detail[0] = '\0';
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
		rc = upload(f);
	unlock_file(f);
	file_free(f);
	return rc;
}
