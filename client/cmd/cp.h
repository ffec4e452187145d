/*
 * cp.h -- dfs-cp's parts and what they share: the ends of a copy, the
 * copy's state per thread, and a file for a worker.
 *
 *	dfs-cp.c	options, operands, the copy plan (files, trees)
 *	cp_pool.c	the workers a tree's files go to
 *	cp_batch.c	small files and shared locks, a batch at a time
 *	cp_file.c	one file: open both ends, stream, commit or undo
 *
 * Each part calls only those below it in this list: the plan queues a
 * tree's files for the pool, whose workers hand their batches to
 * cp_batch.c, which copies what dfs_put() did not with cp_file.c.
 */
#ifndef DFS_CP_H
#define DFS_CP_H

#include <sys/types.h>

#include <stdint.h>

#include "tool.h"

#define MAXJOBS		64		/* -j at most */
#define LOCK_BATCH	16		/* files a worker takes (and locks) at once */

enum kind { EP_LOCAL, EP_DFS, EP_STD };

/* One end of a copy. */
struct ep {
	enum kind	 kind;
	char		 arg[PATH_MAX + 8];	/* as shown in messages */
	char		 path[PATH_MAX];	/* local or checked dfs path */
};

/* What stat says about an end. */
struct meta {
	int		 isdir;
	uint64_t	 size;
	unsigned int	 mode;
	int64_t		 mtime_ns;
};

struct pool;
struct job;

/* A copy's state: the main thread's, and one copy of it per worker. */
struct cp {
	struct tool	 t;
	int		 recursive;
	int		 preserve;
	int		 jobs;		/* -j */
	mode_t		 umask;
	char		*buf;		/* TOOL_CHUNK bytes, this thread's */
	struct job	*batch;		/* a worker's LOCK_BATCH jobs */
	int		 quiet;		/* a worker: no progress bar */
	struct pool	*pool;		/* the tree's workers, or NULL */
};

/* A file for a worker to copy. */
struct job {
	struct ep	 src, dst;
	struct meta	 sm;
};

/* --- cp_file.c: one file --- */

/* Reports err (-errno for local ends, a dfs status for dfs ends) under
 * the end's name. */
void	ep_report(struct cp *cp, const struct ep *e, int err);
/* Fills *m for an end.  Returns 0, -2 (ENOENT = DFS_ERR_NOENT) if it
 * does not exist, or another negative errno / dfs status. */
int	ep_stat(struct cp *cp, const struct ep *e, struct meta *m);
/* Copies an end: its strings, not the whole of their buffers (a job is
 * copied twice on its way to a worker). */
void	ep_copy(struct ep *to, const struct ep *from);
/* Copies one file.  Returns 0 or -1 (reported). */
int	copy_file(struct cp *cp, const struct ep *src, const struct ep *dst,
	    const struct meta *sm);

/* --- cp_batch.c: small files and shared locks --- */

/* Copies a worker's batch of n files (reported one by one). */
void	batch_copy(struct cp *w, struct job *batch, int n);
/* Copies one small local file to dfs the way a batch's go.  Returns 0,
 * -1 (reported), or 1 when it is no such file: copy it the usual way. */
int	copy_small(struct cp *cp, const struct ep *src, const struct ep *dst,
	    const struct meta *sm);

/* --- cp_pool.c: the workers --- */

/* Starts cp->jobs workers, each connected on its own; without them
 * (fewer than 2 jobs, or no memory) cp->pool stays NULL. */
void	pool_start(struct cp *cp);
/* Queues a file for the workers, waiting while the queue is full. */
void	pool_add(struct pool *p, const struct ep *src, const struct ep *dst,
	    const struct meta *sm);
/* Waits until every queued file is copied. */
void	pool_wait(struct pool *p);
/* Lets the workers finish, stops them and folds their exit status into
 * cp's. */
void	pool_end(struct cp *cp);

#endif
