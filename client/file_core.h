/*
 * file_core.h -- struct dfs_file, and what the parts of an open file
 * share (libdfs internals, for client/file_*.c only).
 *
 * An open file is split by job, each with its own part of the struct:
 *
 *   file_core.c    life cycle, mode strings, lease renewal, seek
 *   file_open.c    dfs_open(), dfs_from_cache(), dfs_close(), dfs_abort()
 *   file_read.c    dfs_read(), dfs_read_to_fd(): the cache entry, else
 *                  the version streamed by a reader (reader.c)   [rd]
 *   file_write.c   dfs_write(), dfs_truncate(); a spooled file's upload
 *   file_direct.c  writers that never read back: chunks straight to a
 *                  stage on the file server                       [dw]
 *   file_stage.c   the STAGE, WRITE, COMMIT requests both writers send;
 *                  moving a new file to another server (place.c)
 *
 * What every part reads (the name, handle, version, offset, spool, lock)
 * stays at the top of the struct; what one part alone uses is in its
 * sub-struct.
 */
#ifndef DFS_FILE_CORE_H
#define DFS_FILE_CORE_H

#include <limits.h>
#include <stdint.h>

#include "client.h"

/* The lock a writer works under (file_open.c takes it, file_core.c
 * renews it). */
struct file_lease {
	dfs_lockid	 id;
	int		 borrowed;	/* id is not ours to release */
	unsigned int	 lease_ms;	/* 0: not renewed here */
	uint64_t	 renew_at;	/* CLOCK_MONOTONIC ms */
};

/* "r": where the opened version's bytes come from (file_read.c). */
struct file_reading {
	int		 cfd;		/* cache entry of (fh, vers), or -1 */
	int		 filled;	/* a cache fill was tried */
	struct reader	 stream;	/* else the file server's, a chunk at
					 * a time */
};

/* A writer that never reads back ("w", "a"), see file_direct.c. */
struct file_direct {
	int		 on;
	uint64_t	 stage;		/* made with the first chunk, else 0 */
	char		*buf;		/* the chunk being filled ... */
	size_t		 len;
	uint64_t	 off;		/* ... and its file offset */
	char		*own;		/* our own chunk buffer */
	struct parallel	*par;		/* sends the chunks after the first */
	uint64_t	 size;		/* the file's size as written */
	int		 err;		/* a chunk failed: close fails */
	int		 keep;		/* "c": spool a copy for the cache */
};

struct dfs_file {
	struct dfs	*dfs;
	char		 path[PATH_MAX];
	unsigned int	 flags;
	dfs_fh		 fh;
	dfs_server	 srv;		/* where the data lives (host copied) */
	uint64_t	 vers;		/* committed version opened */
	uint64_t	 size;		/* its size */
	int64_t		 off;
	/* writable: spool offset 0 is file offset `base`; the first `base`
	 * bytes are copied on the server ("a") */
	struct spool	 sp;
	uint64_t	 base;
	int		 dirty;
	struct file_lease lk;
	/* this open's CREATE made the file: until a commit (vers > 0) a
	 * failure takes the name back (place.c) */
	int		 created;
	int		 moved;		/* placed again once already */
	struct file_reading rd;
	struct file_direct dw;
};

/* --- file_core.c --- */

/* What every open does first: clears the detail, checks path and makes
 * a dfs_file for it (flags and the rest zero, no cache entry, an empty
 * spool).  Returns 0 and *fp, or a status. */
int	file_new(struct dfs *dfs, const char *path, struct dfs_file **fp);
/* Frees f and all it holds (a stream, a transfer, the spool). */
void	file_free(struct dfs_file *f);
/* Sets "no live file server holds the file" as the detail.  Returns
 * -DFS_ERR_NOSERVER. */
int	file_no_server(struct dfs_file *f);
/* The next lease renewal: a third of the lease from now. */
void	file_lease_start(struct dfs_file *f);
/* Renews f's lock when a third of its lease has passed. */
void	file_renew(struct dfs_file *f);
/* The file's size as this open sees it (written, spooled or opened). */
uint64_t file_size(const struct dfs_file *f);

/* --- file_open.c --- */

/* Copies what an open COMPOUND (ending GETFH, GETATTR, LOCATE) returned
 * into f.  Returns 0 or a status. */
int	file_open_take(struct dfs_file *f, const name_compound_res *res);

/* --- file_read.c --- */

/* Downloads the opened version into the spool ("r+", "a+"), from the
 * cache when it has it.  Returns 0 or a status. */
int	file_download(struct dfs_file *f);
/* Opens the cache entry of the opened version into f->rd.cfd if there
 * is one.  Returns 1 on a hit, else 0. */
int	file_entry_open(struct dfs_file *f);

/* --- file_write.c --- */

/* Uploads the spool and commits.  Returns 0 or a status. */
int	file_upload(struct dfs_file *f);
/* After a commit with "c": the new version's cache entry. */
void	file_keep_written(struct dfs_file *f);

/* --- file_direct.c --- */

/* dfs_write() of a direct writer: all of buf at f->off.  Returns n or a
 * status. */
ssize_t	direct_write(struct dfs_file *f, const char *buf, size_t n);
/* dfs_write_from_fd() of a direct writer.  Returns the count, 0 at the
 * end of fd, or a status (*rerr: a failed read's errno). */
ssize_t	direct_put_fd(struct dfs_file *f, int fd, size_t n, uint64_t off,
	    int *rerr);
/* dfs_truncate() of a direct writer.  Returns 0 or a status. */
int	direct_truncate(struct dfs_file *f, uint64_t size);
/* dfs_close() of a direct writer: the rest, then COMMIT.  Returns 0 or
 * a status; on failure the stage is dropped. */
int	direct_commit(struct dfs_file *f);

/* --- file_stage.c --- */

/* Append STAGE (server copy of the first f->base bytes), WRITE, COMMIT
 * for f to r. */
void	file_add_stage(struct dfs_file *f, struct file_req *r);
void	file_add_write(struct dfs_file *f, struct file_req *r, uint64_t stage,
	    char *data, size_t len, uint64_t off);
void	file_add_commit(struct dfs_file *f, struct file_req *r, uint64_t stage);
/* Sends r to f's file server, keeping the stage id a STAGE made and
 * the version a COMMIT made; a new file whose server is unreachable
 * moves once (place.c).  Returns 0 or a status. */
int	file_stage_call(struct dfs_file *f, struct file_req *r,
	    uint64_t *stage);
/* Drops stage (best effort); the detail stays the caller's. */
void	file_abort_stage(struct dfs_file *f, uint64_t stage, int why);
/* A file this open created and nothing committed to leaves no name. */
void	file_unplace(struct dfs_file *f);

#endif
