/*
 * dfs-cp -- copy files and trees between the local file system and dfs.
 *
 * An operand is a local path, "dfs:/abs/path", or "-" (standard input as
 * a source, standard output as the target).  Data moves through one
 * fixed 1 MiB buffer, so memory use does not grow with file size.
 *
 * No partial file is ever left at a destination: a download goes to a
 * temporary file (".NAME.XXXXXX") in the destination directory that is
 * renamed into place only once complete and removed on any failure; an
 * upload is committed by dfs_close() only once every byte was read, so
 * the previous version stays if anything fails.
 *
 * A tree (-r) with a dfs end is copied by -j workers (default 8), each
 * with its own connection: the directories are made in order by the
 * main thread, the files of each directory are handed to the workers,
 * so that many small files cost round trips and server fsyncs side by
 * side instead of one after the other (the name server commits
 * concurrent changes with one fsync).  A worker takes up to LOCK_BATCH
 * files at once.  The small local ones of them go with one dfs_put(),
 * which creates and commits them all with a request to each server and
 * a disk sync for all, and takes no lock (the servers refuse a path held
 * elsewhere); the others are locked with one lock.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define USAGE	"dfs-cp [-pr] [-j jobs] [--no-cache] [-s server] source ... " \
		"target"
#define PROGRESS_MIN	(4u << 20)	/* smaller transfers show no bar */
#define MAXJOBS		64
#define QUEUE_LEN	256		/* files waiting for workers: a full
					 * batch each for up to 16 */
#define LOCK_BATCH	16		/* files a worker takes (and locks) at once */
#define PUT_SMALL	(64u << 10)	/* files up to this go by dfs_put() */

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

/* An open end: a descriptor, or a dfs file. */
struct stream {
	const struct ep	*ep;
	int		 fd;
	struct dfs_file	*f;
	char		 tmp[PATH_MAX];	/* local target: the temporary file */
	int		 special;	/* local target: a device, a FIFO */
};

struct pool;
struct job;

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

/* Workers copying the files of a tree; each has its own cp (and dfs
 * connection).  Jobs wait in a ring of QUEUE_LEN. */
struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	 q[QUEUE_LEN];
	int		 head, n;	/* queued: q[head], ... n of them */
	int		 running;	/* taken, not finished */
	int		 flush;		/* the producer waits: take what
					 * there is */
	int		 done;		/* no more jobs will come */
	int		 nthr;
	pthread_t	 thr[MAXJOBS];
	struct cp	 w[MAXJOBS];
};

static int	copy_node(struct cp *, const struct ep *, const struct ep *);
static int	copy_tree(struct cp *, const struct ep *, const struct ep *,
		    const struct meta *);

/* Reports err (-errno for local ends, a dfs status for dfs ends) under
 * the end's name. */
static void
ep_report(struct cp *cp, const struct ep *e, int err)
{
	if (e->kind == EP_DFS)
		tool_err(&cp->t, e->arg, err);
	else
		tool_errno(&cp->t, e->arg, -err);
}

/* Parses an operand.  Returns 0, or -1 after reporting a bad dfs path. */
static int
ep_parse(struct cp *cp, const char *arg, struct ep *e)
{
	snprintf(e->arg, sizeof(e->arg), "%s", arg);
	if (strcmp(arg, "-") == 0) {
		e->kind = EP_STD;
		return 0;
	}
	if (tool_is_dfs(arg)) {
		e->kind = EP_DFS;
		return tool_path(&cp->t, arg, e->path);
	}
	e->kind = EP_LOCAL;
	if (strlen(arg) >= sizeof(e->path)) {
		tool_errno(&cp->t, arg, ENAMETOOLONG);
		return -1;
	}
	snprintf(e->path, sizeof(e->path), "%s", arg);
	return 0;
}

/* Sets *child to entry `name` of directory end `parent`.  Returns 0,
 * or -1 after reporting a name too long. */
static int
ep_child(struct cp *cp, const struct ep *parent, const char *name,
    struct ep *child)
{
	child->kind = parent->kind;
	if (tool_join(child->path, parent->path, name) != 0) {
		tool_errno(&cp->t, parent->arg, ENAMETOOLONG);
		return -1;
	}
	snprintf(child->arg, sizeof(child->arg), "%s%s",
	    parent->kind == EP_DFS ? "dfs:" : "", child->path);
	return 0;
}

/* Fills *m for an end.  Returns 0, -2 (ENOENT = DFS_ERR_NOENT) if it does
 * not exist, or another negative errno / dfs status. */
static int
ep_stat(struct cp *cp, const struct ep *e, struct meta *m)
{
	struct dfs_info	 di;
	struct stat	 sb;
	int		 rc;

	memset(m, 0, sizeof(*m));
	m->mode = 0666 & ~cp->umask;
	if (e->kind == EP_STD)
		return 0;
	if (e->kind == EP_DFS) {
		if ((rc = dfs_getattr(cp->t.dfs, e->path, &di)) != 0)
			return rc;
		m->isdir = di.type == DFS_FTYPE_DIR;
		m->size = di.size;
		m->mode = di.mode & 07777;
		m->mtime_ns = di.mtime_ns;
		return 0;
	}
	if (stat(e->path, &sb) == -1)
		return -errno;
	m->isdir = S_ISDIR(sb.st_mode);
	m->size = (uint64_t)sb.st_size;
	m->mode = sb.st_mode & 07777;
	m->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
	return 0;
}

/* --- progress -------------------------------------------------------- */

struct progress {
	int		 on;
	const char	*name;
	uint64_t	 total;
	uint64_t	 done;
	time_t		 last;
};

static void
progress_init(struct progress *p, const char *name, uint64_t total,
    int quiet)
{
	p->on = total > PROGRESS_MIN && isatty(STDERR_FILENO) && !quiet;
	p->name = name;
	p->total = total;
	p->done = 0;
	p->last = 0;
}

/* Redraws the bar at most once a second, and at the end. */
static void
progress_add(struct progress *p, size_t n)
{
	char	bar[31];
	int	pct, i;
	time_t	now;

	p->done += n;
	if (!p->on)
		return;
	now = time(NULL);
	if (now == p->last && p->done < p->total)
		return;
	p->last = now;
	pct = p->done >= p->total ? 100 : (int)(p->done * 100 / p->total);
	for (i = 0; i < 30; i++)
		bar[i] = i < pct * 30 / 100 ? '#' : ' ';
	bar[30] = '\0';
	fprintf(stderr, "\r%.40s [%s] %3d%% %.1f MiB", p->name, bar, pct,
	    (double)p->done / (1 << 20));
	if (p->done >= p->total)
		fputc('\n', stderr);
}

/* --- streams --------------------------------------------------------- */

/* Opens a source.  Returns 0 or -errno / a dfs status. */
static int
src_open(struct cp *cp, const struct ep *e, struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->ep = e;
	s->fd = -1;
	if (e->kind == EP_STD) {
		s->fd = STDIN_FILENO;
		return 0;
	}
	if (e->kind == EP_DFS)
		return dfs_open(cp->t.dfs, e->path, tool_rmode(&cp->t),
		    &s->f);
	s->fd = open(e->path, O_RDONLY | O_CLOEXEC);
	return s->fd == -1 ? -errno : 0;
}

static void
src_close(struct stream *s)
{
	if (s->f != NULL)
		(void)dfs_close(s->f);
	else if (s->fd > STDERR_FILENO)
		close(s->fd);
}

/* Reads up to n bytes.  Returns the count, 0 at the end, or -errno / a
 * dfs status. */
static ssize_t
src_read(struct stream *s, char *p, size_t n)
{
	ssize_t	got;

	if (s->f != NULL)
		return dfs_read(s->f, p, n);
	do
		got = read(s->fd, p, n);
	while (got == -1 && errno == EINTR);
	return got == -1 ? -errno : got;
}

/*
 * Cuts a base name to at most `max` bytes, not inside a UTF-8 sequence
 * (a file system may refuse names that are not valid UTF-8).
 */
static void
base_cut(char *base, size_t max)
{
	size_t	n = strlen(base);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)base[n] & 0xc0) == 0x80)
		n--;
	base[n] = '\0';
}

/*
 * Creates the temporary file next to a local target: ".NAME.XXXXXX",
 * NAME cut so that the whole fits the directory's NAME_MAX (any name
 * the file system takes must be a target, and ".", "." and six random
 * characters add 8 bytes).  Returns 0 or -errno.
 */
static int
tmp_create(struct stream *s, const char *path)
{
	char	 dir[PATH_MAX], base[PATH_MAX];
	char	*slash;
	long	 name_max;
	int	 n;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	tool_basename(path, base);
	name_max = pathconf(dir, _PC_NAME_MAX);
	if (name_max <= 8)	/* unknown (-1), or too short to cut */
		name_max = NAME_MAX;
	base_cut(base, (size_t)name_max - 8);
	n = snprintf(s->tmp, sizeof(s->tmp), "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof(s->tmp))
		return -ENAMETOOLONG;
	s->fd = mkstemp(s->tmp);
	if (s->fd == -1) {
		s->tmp[0] = '\0';
		return -errno;
	}
	return 0;
}

/*
 * Opens a local target: a temporary file next to it, renamed into place
 * when complete, so no one sees half a file.  A target that exists and
 * is not a regular file (/dev/null, a FIFO, or a link to one) is written
 * in place, as cp(1) does: a rename would replace the device node with
 * a file.  Returns 0 or -errno.
 */
static int
local_open(struct stream *s, const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1 || S_ISREG(st.st_mode))
		return tmp_create(s, path);
	s->fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (s->fd == -1)
		return -errno;
	s->special = 1;
	return 0;
}

/* Opens a target.  Returns 0 or -errno / a dfs status. */
static int
dst_open(struct cp *cp, const struct ep *e, struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->ep = e;
	s->fd = -1;
	if (e->kind == EP_STD) {
		s->fd = STDOUT_FILENO;
		return 0;
	}
	if (e->kind == EP_DFS)
		return dfs_open(cp->t.dfs, e->path, tool_wmode(&cp->t),
		    &s->f);
	return local_open(s, e->path);
}

/* Writes all n bytes.  Returns 0 or -errno / a dfs status. */
static int
dst_write(struct stream *s, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if (s->f != NULL)
			w = dfs_write(s->f, p, n);
		else {
			w = write(s->fd, p, n);
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1 && errno == EPIPE &&
			    s->ep->kind == EP_STD)
				tool_epipe();
			if (w == -1)
				w = -errno;
		}
		if (w < 0)
			return (int)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Gives up on a target.  A local temporary file is removed; a dfs target
 * is dropped uncommitted (the previous version stays, the lock goes).
 */
static void
dst_abort(struct stream *s)
{
	if (s->tmp[0] != '\0') {
		close(s->fd);
		unlink(s->tmp);
	}
	if (s->special)
		close(s->fd);
	if (s->f != NULL)
		(void)dfs_abort(s->f);
	s->f = NULL;
}

/* Removes the temporary file after a failure.  Returns -err. */
static int
tmp_fail(struct stream *s, int err)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	unlink(s->tmp);
	return -err;
}

/* Sets mode and times of a local temporary file and renames it into
 * place.  Returns 0 or -errno (the temporary file is then removed). */
static int
local_finish(struct cp *cp, struct stream *s, const struct meta *sm)
{
	struct timespec	ts[2];
	struct meta	dm;
	unsigned int	mode = sm->mode;

	if (s->special) {	/* written in place: its mode is its own */
		if (close(s->fd) == -1)
			return -errno;
		return 0;
	}
	/* without -p a file keeps the mode it had, or gets the default */
	if (!cp->preserve)
		mode = ep_stat(cp, s->ep, &dm) == 0 ? dm.mode :
		    0666 & ~cp->umask;
	if (fchmod(s->fd, mode) == -1)
		return tmp_fail(s, errno);
	ts[0].tv_sec = ts[1].tv_sec = sm->mtime_ns / 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = sm->mtime_ns % 1000000000;
	if (cp->preserve && futimens(s->fd, ts) == -1)
		return tmp_fail(s, errno);
	/* ORDER: close before rename, a full disk may show only here */
	if (close(s->fd) == -1) {
		s->fd = -1;
		return tmp_fail(s, errno);
	}
	s->fd = -1;
	if (rename(s->tmp, s->ep->path) == -1)
		return tmp_fail(s, errno);
	return 0;
}

/* Completes a target: commits (dfs), renames into place (local).  With
 * -p, sets mode and modification time.  Returns 0 or a failure. */
static int
dst_finish(struct cp *cp, struct stream *s, const struct meta *sm)
{
	int	rc;

	if (s->ep->kind == EP_STD)
		return 0;
	if (s->ep->kind == EP_LOCAL)
		return local_finish(cp, s, sm);
	rc = dfs_close(s->f);
	s->f = NULL;
	if (rc == 0 && cp->preserve)
		rc = dfs_chmod(cp->t.dfs, s->ep->path, sm->mode);
	if (rc == 0 && cp->preserve)
		rc = dfs_utime(cp->t.dfs, s->ep->path, sm->mtime_ns);
	return rc;
}

/* --- files ----------------------------------------------------------- */

/* pump() from dfs to a local file or stdout: dfs_read_to_fd() writes
 * from the chunk the data arrived in, or sendfile(2)s a cached copy,
 * where a read into cp->buf would copy every byte once more. */
static int
pump_to_fd(struct cp *cp, struct stream *in, struct stream *out,
    struct progress *p)
{
	ssize_t	n;

	while ((n = dfs_read_to_fd(in->f, out->fd, TOOL_CHUNK)) > 0)
		progress_add(p, (size_t)n);
	if (n == 0)
		return 0;
	if (errno == 0)			/* the read failed */
		ep_report(cp, in->ep, (int)n);
	else {
		if (errno == EPIPE && out->ep->kind == EP_STD)
			tool_epipe();
		ep_report(cp, out->ep, -errno);
	}
	return -1;
}

/* pump() from a local file or stdin to dfs: dfs_write_from_fd() reads
 * straight into the chunk that is sent. */
static int
pump_from_fd(struct cp *cp, struct stream *in, struct stream *out,
    struct progress *p)
{
	ssize_t	n;

	while ((n = dfs_write_from_fd(out->f, in->fd, TOOL_CHUNK)) > 0)
		progress_add(p, (size_t)n);
	if (n == 0)
		return 0;
	if (errno != 0)			/* the read failed */
		ep_report(cp, in->ep, -errno);
	else
		ep_report(cp, out->ep, (int)n);
	return -1;
}

/* Streams src into dst.  Returns 0, or -1 after reporting a failure
 * (read errors under the source, write errors under the target). */
static int
pump(struct cp *cp, struct stream *in, struct stream *out,
    struct progress *p)
{
	ssize_t	n;
	int	rc;

	if (in->f != NULL && out->f == NULL)
		return pump_to_fd(cp, in, out, p);
	if (in->f == NULL && out->f != NULL)
		return pump_from_fd(cp, in, out, p);
	while ((n = src_read(in, cp->buf, TOOL_CHUNK)) > 0) {
		if ((rc = dst_write(out, cp->buf, (size_t)n)) != 0) {
			ep_report(cp, out->ep, rc);
			return -1;
		}
		progress_add(p, (size_t)n);
	}
	if (n < 0) {
		ep_report(cp, in->ep, (int)n);
		return -1;
	}
	return 0;
}

/* Checks that a local target may be written as a file.  Returns 0, or
 * -1 after reporting (a directory there, or a failing stat).  A dfs
 * target needs no look: dfs_open() refuses a directory (ISDIR) in the
 * request that creates the file, one round trip less per file. */
static int
check_target(struct cp *cp, const struct ep *dst)
{
	struct meta	dm;
	int		rc;

	if (dst->kind == EP_DFS)
		return 0;
	rc = ep_stat(cp, dst, &dm);
	if (rc == 0 && dm.isdir)
		rc = -EISDIR;
	if (rc == 0 || rc == -ENOENT)
		return 0;
	ep_report(cp, dst, rc);
	return -1;
}

/* Copies one file.  Returns 0 or -1 (reported). */
static int
copy_file(struct cp *cp, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct stream	in, out;
	struct progress	p;
	int		rc;

	if (check_target(cp, dst) != 0)
		return -1;
	if ((rc = src_open(cp, src, &in)) != 0) {
		ep_report(cp, src, rc);
		return -1;
	}
	if ((rc = dst_open(cp, dst, &out)) != 0) {
		ep_report(cp, dst, rc);
		src_close(&in);
		return -1;
	}
	progress_init(&p, src->arg, sm->size, cp->quiet);
	if (pump(cp, &in, &out, &p) != 0) {
		dst_abort(&out);
		src_close(&in);
		return -1;
	}
	src_close(&in);
	if ((rc = dst_finish(cp, &out, sm)) != 0) {
		ep_report(cp, dst, rc);
		return -1;
	}
	return 0;
}

/* --- workers ---------------------------------------------------------- */

/* Copies an end: its strings, not the whole of their buffers (a job is
 * copied twice on its way to a worker). */
static void
ep_copy(struct ep *to, const struct ep *from)
{
	to->kind = from->kind;
	strcpy(to->arg, from->arg);
	strcpy(to->path, from->path);
}

static void
job_copy(struct job *to, const struct job *from)
{
	ep_copy(&to->src, &from->src);
	ep_copy(&to->dst, &from->dst);
	to->sm = from->sm;
}

/*
 * Is there a batch for a worker?  A full one (LOCK_BATCH jobs), or, once
 * the producer added all it had (it waits, or is done), whatever is
 * left: a batch costs about the same round trips and syncs whatever its
 * size, so taking jobs as they trickle in would cost one each.
 */
static int
pool_ready(const struct pool *p)
{
	return p->n >= LOCK_BATCH || (p->n > 0 && (p->flush || p->done));
}

/* Takes a worker's share of the queue (called locked, pool_ready()):
 * a full batch while the producer adds more, else an even share of what
 * is left among the workers.  Returns how many. */
static int
pool_take(struct pool *p, struct job *batch)
{
	int	k, i;

	k = LOCK_BATCH;
	if (p->flush || p->done)
		k = (p->n + p->nthr - 1) / p->nthr;
	k = k > LOCK_BATCH ? LOCK_BATCH : k > p->n ? p->n : k;
	for (i = 0; i < k; i++) {
		job_copy(&batch[i], &p->q[p->head]);
		p->head = (p->head + 1) % QUEUE_LEN;
		p->n--;
	}
	p->running++;
	pthread_cond_broadcast(&p->cv);
	return k;
}

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

static void *
worker(void *arg)
{
	struct cp	*w = arg;
	struct pool	*p = w->pool;
	struct dfs_lock	*lk;
	int		 n, i, done[LOCK_BATCH];

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!pool_ready(p) && !(p->n == 0 && p->done))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0)
			break;
		n = pool_take(p, w->batch);
		pthread_mutex_unlock(&p->mu);
		memset(done, 0, sizeof(done));
		(void)put_small(w, w->batch, n, done);
		lk = batch_lock(w, w->batch, n, done);
		for (i = 0; i < n; i++)
			if (!done[i])
				(void)copy_file(w, &w->batch[i].src,
				    &w->batch[i].dst, &w->batch[i].sm);
		(void)dfs_unlock(lk);
		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts cp->jobs workers, each connected on its own.  Without them
 * (fewer than 2 jobs, or no memory) files are copied in line. */
static void
pool_start(struct cp *cp)
{
	struct pool	*p;
	struct cp	*w;
	int		 i;

	if (cp->jobs < 2 || (p = calloc(1, sizeof(*p))) == NULL)
		return;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < cp->jobs; i++) {
		w = &p->w[i];
		*w = *cp;
		w->pool = p;
		w->quiet = 1;
		w->t.status = 0;
		w->t.cache_warned = 1;	/* the main thread warns */
		w->buf = malloc(TOOL_CHUNK);
		w->batch = calloc(LOCK_BATCH, sizeof(*w->batch));
		if (w->buf == NULL || w->batch == NULL) {
			free(w->buf);
			free(w->batch);
			break;
		}
		tool_connect(&w->t);
		if (pthread_create(&p->thr[i], NULL, worker, w) != 0) {
			dfs_disconnect(w->t.dfs);
			free(w->buf);
			free(w->batch);
			break;
		}
		p->nthr++;
	}
	if (p->nthr > 0)
		cp->pool = p;
	else
		free(p);
}

/* Queues a file for the workers, waiting while the queue is full. */
static void
pool_add(struct pool *p, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct job	*j;

	pthread_mutex_lock(&p->mu);
	while (p->n == QUEUE_LEN)
		pthread_cond_wait(&p->cv, &p->mu);
	j = &p->q[(p->head + p->n) % QUEUE_LEN];
	ep_copy(&j->src, src);
	ep_copy(&j->dst, dst);
	j->sm = *sm;
	p->n++;
	p->flush = 0;
	if (p->n >= LOCK_BATCH)
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Waits until every queued file is copied. */
static void
pool_wait(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->flush = 1;
	pthread_cond_broadcast(&p->cv);
	while (p->n > 0 || p->running > 0)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Lets the workers finish, stops them and folds their exit status into
 * cp's. */
static void
pool_end(struct cp *cp)
{
	struct pool	*p = cp->pool;
	int		 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthr; i++) {
		pthread_join(p->thr[i], NULL);
		if (p->w[i].t.status != 0)
			cp->t.status = 1;
		dfs_disconnect(p->w[i].t.dfs);
		free(p->w[i].buf);
		free(p->w[i].batch);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	cp->pool = NULL;
}

/* --- trees ----------------------------------------------------------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* Adds a copy of name to *names.  Returns 0 or -ENOMEM. */
static int
add_name(char ***names, size_t *n, const char *name)
{
	char	**nn;

	nn = realloc(*names, (*n + 1) * sizeof(*nn));
	if (nn == NULL)
		return -ENOMEM;
	*names = nn;
	if ((nn[*n] = strdup(name)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Lists a local directory.  Returns 0 or -errno. */
static int
list_local(const char *path, char ***names, size_t *n)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(path)) == NULL)
		return -errno;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			rc = add_name(names, n, de->d_name);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	closedir(d);
	return rc;
}

/* Lists a dfs directory.  Returns 0 or a dfs status. */
static int
list_dfs(struct dfs *dfs, const char *path, char ***names, size_t *n)
{
	struct dfs_entry	 ent;
	struct dfs_dir		*d;
	int			 rc;

	if ((rc = dfs_opendir(dfs, path, &d)) != 0)
		return rc;
	while ((rc = dfs_readdir(d, &ent)) == 1)
		if ((rc = add_name(names, n, ent.name)) != 0) {
			rc = -DFS_ERR_NOMEM;
			break;
		}
	dfs_closedir(d);
	return rc;
}

/* The sorted entries of a directory end.  Returns 0, or -1 after
 * reporting; on success free with free_names(). */
static int
list_dir(struct cp *cp, const struct ep *e, char ***names, size_t *n)
{
	int	rc;

	*names = NULL;
	*n = 0;
	if (e->kind == EP_DFS)
		rc = list_dfs(cp->t.dfs, e->path, names, n);
	else
		rc = list_local(e->path, names, n);
	if (rc != 0) {
		ep_report(cp, e, rc);
		free_names(*names, *n);
		return -1;
	}
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

/* Creates one directory.  Returns 0 (also if a directory is there
 * already) or -errno / a dfs status. */
static int
make_dir(struct cp *cp, const struct ep *e, const char *path,
    unsigned int mode)
{
	struct ep	tmp = *e;
	struct meta	m;
	int		rc;

	if (e->kind == EP_DFS)
		rc = dfs_mkdir(cp->t.dfs, path, mode);
	else
		rc = mkdir(path, mode) == -1 ? -errno : 0;
	if (rc != -EEXIST)		/* == -DFS_ERR_EXIST */
		return rc;
	snprintf(tmp.path, sizeof(tmp.path), "%s", path);
	rc = ep_stat(cp, &tmp, &m);
	if (rc == 0 && !m.isdir)
		rc = e->kind == EP_DFS ? -DFS_ERR_NOTDIR : -ENOTDIR;
	return rc;
}

/* mkdir -p of a target directory.  Returns 0 or -1 (reported). */
static int
make_dirs(struct cp *cp, const struct ep *e, unsigned int mode)
{
	char	 path[PATH_MAX];
	char	*p;
	int	 rc = 0;

	snprintf(path, sizeof(path), "%s", e->path);
	for (p = path + 1; rc == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		rc = make_dir(cp, e, path, (0777 & ~cp->umask) | 0300);
		*p = '/';
	}
	if (rc == 0)
		rc = make_dir(cp, e, path, mode);
	if (rc != 0) {
		ep_report(cp, e, rc);
		return -1;
	}
	return 0;
}

/* With -p, sets a copied directory's mode and time.  Returns 0 or -1. */
static int
dir_preserve(struct cp *cp, const struct ep *dst, const struct meta *sm)
{
	struct timespec	ts[2];
	int		rc;

	if (dst->kind == EP_DFS) {
		rc = dfs_chmod(cp->t.dfs, dst->path, sm->mode);
		if (rc == 0)
			rc = dfs_utime(cp->t.dfs, dst->path, sm->mtime_ns);
	} else {
		ts[0].tv_sec = ts[1].tv_sec = sm->mtime_ns / 1000000000;
		ts[0].tv_nsec = ts[1].tv_nsec = sm->mtime_ns % 1000000000;
		rc = 0;
		if (chmod(dst->path, sm->mode) == -1 ||
		    utimensat(AT_FDCWD, dst->path, ts, 0) == -1)
			rc = -errno;
	}
	if (rc != 0) {
		ep_report(cp, dst, rc);
		return -1;
	}
	return 0;
}

/* Returns 1 if dfs path `in` is `dir` or lies below it. */
static int
is_below(const char *in, const char *dir)
{
	size_t	n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(in, dir, n) == 0 && (in[n] == '\0' || in[n] == '/');
}

/* A tree's entry: a file goes to the workers when there are any, a
 * directory is copied here.  Returns 0 or -1 (reported). */
static int
copy_child(struct cp *cp, const struct ep *src, const struct ep *dst)
{
	struct meta	sm;
	int		rc;

	if (cp->pool == NULL)
		return copy_node(cp, src, dst);
	if ((rc = ep_stat(cp, src, &sm)) != 0) {
		ep_report(cp, src, rc);
		return -1;
	}
	if (sm.isdir)
		return copy_tree(cp, src, dst, &sm);
	pool_add(cp->pool, src, dst, &sm);
	return 0;
}

/* Copies a directory tree.  Returns 0 or -1 (reported; the copy goes on
 * with the other entries). */
static int
copy_tree(struct cp *cp, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct ep	 cs, cd;
	char		**names;
	size_t		 n, i;
	int		 rc = 0;

	if (src->kind == EP_DFS && dst->kind == EP_DFS &&
	    is_below(dst->path, src->path)) {
		tool_errx(&cp->t, src->arg, "cannot copy a directory into "
		    "itself, %s", dst->arg);
		return -1;
	}
	if (make_dirs(cp, dst, (sm->mode | 0700) & 07777) != 0)
		return -1;
	if (list_dir(cp, src, &names, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (ep_child(cp, src, names[i], &cs) != 0 ||
		    ep_child(cp, dst, names[i], &cd) != 0 ||
		    copy_child(cp, &cs, &cd) != 0)
			rc = -1;
	}
	free_names(names, n);
	/* ORDER: the files first, their creation changes the mtime */
	if (cp->preserve && cp->pool != NULL)
		pool_wait(cp->pool);
	if (cp->preserve && dir_preserve(cp, dst, sm) != 0)
		rc = -1;
	return rc;
}

/*
 * Copies one small local file to dfs the way a worker copies a batch's
 * (put_small(): one dfs_put(), no lock).  Returns 0, -1 (reported), or 1
 * when it is no such file: copy it the usual way.  Not in a worker,
 * whose batch lock may hold the path.
 */
static int
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

/* Copies a file or (with -r) a tree from src to dst.  Returns 0 or -1
 * (reported). */
static int
copy_node(struct cp *cp, const struct ep *src, const struct ep *dst)
{
	struct meta	sm;
	int		rc;

	if ((rc = ep_stat(cp, src, &sm)) != 0) {
		ep_report(cp, src, rc);
		return -1;
	}
	if (!sm.isdir && (rc = copy_small(cp, src, dst, &sm)) != 1)
		return rc;
	if (!sm.isdir)
		return copy_file(cp, src, dst, &sm);
	if (!cp->recursive) {
		tool_errx(&cp->t, src->arg, "Is a directory (use -r)");
		return -1;
	}
	if (dst->kind == EP_STD) {
		tool_errx(&cp->t, src->arg, "cannot copy a directory to "
		    "standard output");
		return -1;
	}
	if (cp->pool == NULL && (src->kind == EP_DFS || dst->kind == EP_DFS))
		pool_start(cp);
	rc = copy_tree(cp, src, dst, &sm);
	pool_end(cp);
	return rc;
}

/* --- operands -------------------------------------------------------- */

/* Copies one source operand to the target, into it if `into` (the
 * target is a directory).  Returns 0 or -1 (reported). */
static int
copy_operand(struct cp *cp, const struct ep *src, const struct ep *dst,
    int into)
{
	struct ep	 d;
	char		 base[PATH_MAX];

	if (!into)
		return copy_node(cp, src, dst);
	if (src->kind == EP_STD) {
		tool_errx(&cp->t, dst->arg, "Is a directory (standard input "
		    "has no name to copy it under)");
		return -1;
	}
	tool_basename(src->path, base);
	if (strcmp(base, "/") == 0)	/* the root has no name: merge */
		return copy_node(cp, src, dst);
	if (ep_child(cp, dst, base, &d) != 0)
		return -1;
	return copy_node(cp, src, &d);
}

/* Returns 1 if the target is an existing directory, 0 if not, or -1
 * after reporting a failing stat. */
static int
target_is_dir(struct cp *cp, const struct ep *dst)
{
	struct meta	m;
	int		rc;

	if (dst->kind == EP_STD)
		return 0;
	rc = ep_stat(cp, dst, &m);
	if (rc == 0)
		return m.isdir;
	if (rc == -ENOENT)
		return 0;
	ep_report(cp, dst, rc);
	return -1;
}

/* Parses every operand into eps (argc - optind entries).  Returns 1 if
 * one is a dfs path, 0 if none is, or -1 after reporting a bad one. */
static int
parse_operands(struct cp *cp, int argc, char *argv[], struct ep *eps)
{
	int	i, any = 0;

	for (i = optind; i < argc; i++) {
		if (ep_parse(cp, argv[i], &eps[i - optind]) != 0)
			return -1;
		if (eps[i - optind].kind == EP_DFS)
			any = 1;
	}
	return any;
}

static void
parse_options(struct cp *cp, int argc, char *argv[])
{
	static const struct option	lopts[] = {
		{ "no-cache",	no_argument,	NULL,	'C' },
		{ NULL,		0,		NULL,	0 },
	};
	char				*end;
	long				 v;
	int				 ch;

	while ((ch = tool_getopt(&cp->t, argc, argv, "j:pr", lopts)) != -1) {
		switch (ch) {
		case 'j':
			errno = 0;
			v = strtol(optarg, &end, 10);
			cp->jobs = errno == 0 && *end == '\0' && v >= 1 &&
			    v <= MAXJOBS ? (int)v : 0;
			if (cp->jobs == 0) {
				fprintf(stderr, "dfs-cp: -j %s: expected a "
				    "number of jobs from 1 to %d\n", optarg,
				    MAXJOBS);
				exit(1);
			}
			break;
		case 'p':
			cp->preserve = 1;
			break;
		case 'r':
			cp->recursive = 1;
			break;
		case 'C':
			cp->t.no_cache = 1;
			break;
		default:
			tool_usage(&cp->t);
		}
	}
	if (argc - optind < 2)
		tool_usage(&cp->t);
}

int
main(int argc, char *argv[])
{
	struct cp	 cp;
	struct ep	*eps;
	int		 n, i, into;

	memset(&cp, 0, sizeof(cp));
	cp.jobs = 8;
	if ((cp.buf = malloc(TOOL_CHUNK)) == NULL) {
		tool_errno(&cp.t, "dfs-cp", ENOMEM);
		return 1;
	}
	tool_init(&cp.t, "dfs-cp", USAGE);
	cp.umask = umask(022);
	umask(cp.umask);
	parse_options(&cp, argc, argv);
	n = argc - optind;
	if ((eps = calloc((size_t)n, sizeof(*eps))) == NULL) {
		tool_errno(&cp.t, "dfs-cp", ENOMEM);
		return 1;
	}
	switch (parse_operands(&cp, argc, argv, eps)) {
	case -1:
		goto out;
	case 0:
		fprintf(stderr, "dfs-cp: no dfs operand (write dfs paths as "
		    "dfs:/path)\n");
		cp.t.status = 1;
		goto out;
	}
	tool_connect(&cp.t);
	if ((into = target_is_dir(&cp, &eps[n - 1])) == -1)
		goto out;
	if (n > 2 && !into && eps[n - 1].kind != EP_STD) {
		tool_errx(&cp.t, eps[n - 1].arg, "Not a directory");
		goto out;
	}
	for (i = 0; i < n - 1; i++) {
		(void)copy_operand(&cp, &eps[i], &eps[n - 1], into);
		tool_cache_warn(&cp.t);
	}
out:
	free(eps);
	free(cp.buf);
	return tool_exit(&cp.t);
}
