/*
 * cp_file.c -- dfs-cp's copy of one file: open both ends, stream the
 * data, then commit the target or undo it.
 *
 * Data moves through one fixed 1 MiB buffer (the thread's cp->buf), so
 * memory use does not grow with file size; between dfs and a
 * descriptor, libdfs reads or writes the descriptor itself and no
 * buffer of ours is used.
 *
 * No partial file is ever left at a destination: a download goes to a
 * temporary file (".NAME.XXXXXX") in the destination directory that is
 * renamed into place only once complete and removed on any failure; an
 * upload is committed by dfs_close() only once every byte was read, so
 * the previous version stays if anything fails.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cp.h"

#define PROGRESS_MIN	(4u << 20)	/* smaller transfers show no bar */

/* An open end: a descriptor, or a dfs file. */
struct stream {
	const struct ep	*ep;
	int		 fd;
	struct dfs_file	*f;
	char		 tmp[PATH_MAX];	/* local target: the temporary file */
	int		 special;	/* local target: a device, a FIFO */
};

/* --- ends ------------------------------------------------------------ */

/* Reports err (-errno for local ends, a dfs status for dfs ends) under
 * the end's name. */
void
ep_report(struct cp *cp, const struct ep *e, int err)
{
	if (e->kind == EP_DFS)
		tool_err(&cp->t, e->arg, err);
	else
		tool_errno(&cp->t, e->arg, -err);
}

/* Fills *m for an end.  Returns 0, -2 (ENOENT = DFS_ERR_NOENT) if it does
 * not exist, or another negative errno / dfs status. */
int
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

/* Copies an end: its strings, not the whole of their buffers (a job is
 * copied twice on its way to a worker). */
void
ep_copy(struct ep *to, const struct ep *from)
{
	to->kind = from->kind;
	strcpy(to->arg, from->arg);
	strcpy(to->path, from->path);
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
int
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
