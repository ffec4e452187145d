/*
 * cp_batch.c -- how a dfs-cp worker copies a batch of up to LOCK_BATCH
 * files with as few round trips and syncs as it can.
 *
 * The small local files of a batch go to dfs with one dfs_put(), which
 * creates and commits them all with a request to each server and a disk
 * sync for all, and takes no lock (the servers refuse a path held
 * elsewhere).  The others are locked with one lock and copied one by
 * one (cp_file.c).  A lone small file takes the same dfs_put() path.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"

#define PUT_SMALL	(64u << 10)	/* files up to this go by dfs_put() */

/*
 * Locks the dfs targets of a batch not yet done with one LOCK, so that
 * its files share one lock (and one lock-table sync) instead of taking
 * and releasing one each: dfs_open() uses a lock this client holds on
 * the path.  Returns the lock, or NULL (fewer than two such targets, or
 * a LOCK refused: each file then locks on its own and reports its own
 * conflict).
 */
static struct dfs_lock *
batch_lock(struct cp *w, const struct job *batch, int n, const int *done)
{
	const char	*paths[LOCK_BATCH];
	struct dfs_lock	*lk;
	int		 i, m = 0;

	for (i = 0; i < n; i++)
		if (!done[i] && batch[i].dst.kind == EP_DFS)
			paths[m++] = batch[i].dst.path;
	if (m < 2 || dfs_lock(w->t.dfs, paths, m, 1, 0, &lk) != 0)
		return NULL;
	return lk;
}

/*
 * Reads all of a small local regular file of `size` bytes into buf.
 * Returns its length, -errno, or 1 + size when it is no regular file
 * or no longer `size` bytes long: copy it the usual way then.
 */
static ssize_t
slurp(const char *path, char *buf, uint64_t size)
{
	struct stat	st;
	size_t		done = 0;
	ssize_t		n = 0;
	char		extra;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != size)
		done = size + 1;
	while (done < size &&
	    (n = read(fd, buf + done, size - done)) > 0)
		done += (size_t)n;
	if (n == -1)
		n = -errno;
	else if (done == size && read(fd, &extra, 1) != 0)
		done = size + 1;	/* it grew */
	else if (done < size)
		done = size + 1;	/* it shrank */
	close(fd);
	return n < 0 ? n : (ssize_t)done;
}

/*
 * Copies the small local files of a batch to dfs with one dfs_put(), as
 * many as fit in the buffer, and sets done[i] for each job it settled
 * (copied or reported).  Returns how many it reported.
 */
static int
put_small(struct cp *w, const struct job *batch, int n, int *done)
{
	struct dfs_put	 puts[LOCK_BATCH];
	const struct job *j;
	int		 idx[LOCK_BATCH], m = 0, i, k, rc, bad = 0;
	size_t		 used = 0;
	ssize_t		 len;

	for (i = 0; i < n; i++) {
		j = &batch[i];
		if (j->src.kind != EP_LOCAL || j->dst.kind != EP_DFS ||
		    j->sm.size > PUT_SMALL || j->sm.size > TOOL_CHUNK - used)
			continue;
		len = slurp(j->src.path, w->buf + used, j->sm.size);
		if (len < 0) {
			ep_report(w, &j->src, (int)len);
			done[i] = 1;
			bad++;
			continue;
		}
		if ((uint64_t)len != j->sm.size)
			continue;
		puts[m].path = j->dst.path;
		puts[m].data = w->buf + used;
		puts[m].len = (size_t)len;
		idx[m++] = i;
		used += (size_t)len;
	}
	if (m == 0)
		return bad;
	(void)dfs_put(w->t.dfs, puts, (size_t)m, tool_wmode(&w->t), NULL);
	for (k = 0; k < m; k++) {
		j = &batch[idx[k]];
		done[idx[k]] = 1;
		rc = puts[k].status;
		if (rc == 0 && w->preserve)
			rc = dfs_chmod(w->t.dfs, j->dst.path, j->sm.mode);
		if (rc == 0 && w->preserve)
			rc = dfs_utime(w->t.dfs, j->dst.path, j->sm.mtime_ns);
		if (rc != 0) {
			ep_report(w, &j->dst, rc);
			bad++;
		}
	}
	return bad;
}

/*
 * Copies one small local file to dfs the way a worker copies a batch's
 * (put_small(): one dfs_put(), no lock).  Returns 0, -1 (reported), or 1
 * when it is no such file: copy it the usual way.  Not in a worker,
 * whose batch lock may hold the path.
 */
int
copy_small(struct cp *cp, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct job	j;
	int		done = 0, bad;

	if (src->kind != EP_LOCAL || dst->kind != EP_DFS ||
	    sm->size > PUT_SMALL || cp->batch != NULL)
		return 1;
	ep_copy(&j.src, src);
	ep_copy(&j.dst, dst);
	j.sm = *sm;
	bad = put_small(cp, &j, 1, &done);
	return !done ? 1 : bad > 0 ? -1 : 0;
}

/* Copies a worker's batch: the small local files in one dfs_put(), the
 * others under one lock.  Each file's failure is reported on its own. */
void
batch_copy(struct cp *w, struct job *batch, int n)
{
	struct dfs_lock	*lk;
	int		 i, done[LOCK_BATCH];

	memset(done, 0, sizeof(done));
	(void)put_small(w, batch, n, done);
	lk = batch_lock(w, batch, n, done);
	for (i = 0; i < n; i++)
		if (!done[i])
			(void)copy_file(w, &batch[i].src, &batch[i].dst,
			    &batch[i].sm);
	(void)dfs_unlock(lk);
}
