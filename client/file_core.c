/*
 * file_core.c -- what every part of an open file shares (file_core.h):
 * its life cycle, the mode string, the writer's lease, the offset.
 *
 * Files are whole and committed atomically: a reader sees one committed
 * version or fails with STALE, a writer's bytes become visible at once
 * at dfs_close().  How each part keeps that promise is in the top
 * comment of file_open.c (open and close), file_read.c, file_write.c
 * and file_direct.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file_core.h"

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

int
file_new(struct dfs *dfs, const char *path, struct dfs_file **fp)
{
	struct dfs_file	*f;
	int		 rc;

	dfs->detail[0] = '\0';
	if ((rc = name_check(path)) != 0)
		return rc;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -DFS_ERR_NOMEM;
	f->dfs = dfs;
	f->rd.cfd = -1;
	/* ORDER: before any failure path, file_free() releases the spool */
	spool_init(&f->sp, dfs->max_size, dfs->tmpdir);
	snprintf(f->path, sizeof(f->path), "%s", path);
	*fp = f;
	return 0;
}

void
file_free(struct dfs_file *f)
{
	reader_end(&f->rd.stream);
	parallel_end(f->dw.par);
	free(f->dw.own);
	spool_release(&f->sp);
	if (f->rd.cfd != -1)
		close(f->rd.cfd);
	free(f->fh.dfs_fh_val);
	free(f->srv.host);
	free(f);
}

int
file_no_server(struct dfs_file *f)
{
	conn_detail(f->dfs, "no live file server holds the file");
	return -DFS_ERR_NOSERVER;
}

void
file_lease_start(struct dfs_file *f)
{
	f->lk.renew_at = mono_ms() + f->lk.lease_ms / 3;
}

/* Renews the lock when a third of its lease has passed.  A lock of
 * unknown lease ($DFS_LOCKS) is renewed by whoever handed it down. */
void
file_renew(struct dfs_file *f)
{
	if (lock_is_zero(&f->lk.id) || f->lk.lease_ms == 0 ||
	    mono_ms() < f->lk.renew_at)
		return;
	(void)lock_renew(f->dfs, &f->lk.id, NULL);
	f->lk.renew_at = mono_ms() + f->lk.lease_ms / 3;
}

uint64_t
file_size(const struct dfs_file *f)
{
	if (f->dw.on)
		return f->dw.size;
	return (f->flags & F_WRITE) ? f->base + f->sp.size : f->size;
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
