/*
 * store.c -- dfs-filed's on-disk layout: paths, versions and stages.
 *
 * Layout under the state directory:
 *
 *	data/<xx>/<fh hex>.<vers>		committed versions, <xx> bits
 *						4-11 of the handle's file id
 *						(bucket(): a batch together)
 *	data/<xx>/<fh hex>.t<id, 16 hex>	a PUT's files being written
 *						(start-up GC removes them)
 *	stage/<xx>/<fh hex>.<stage id, 16 hex>	stages being written, <xx>
 *						as above
 *	commit.lock				per-handle OFD locks
 *	server.id				the registrar's id
 *
 * Files are named by handle, never by a client's path, so no request can
 * reach outside the state directory.  A version file is never modified
 * once renamed into place (invariant 1: a reader sees one whole version);
 * the rename plus an fsync of its directory is the local half of a
 * commit, the name server's COMMIT the other half.  Commit locks and
 * syncs are in store_commit.c, the garbage collection in store_gc.c.
 *
 * Stages are spread over buckets like versions, so that uploads at once
 * do not queue on one directory's lock to create their stage.  data/
 * and stage/ carry ext4's "top of hierarchy" flag (chattr +T), which
 * spreads their buckets over block groups, and so the inodes made in
 * them: with all the churn in one group, ext4 without a journal made
 * creating a file slow (docs/BENCHMARKS.md, "Observations moved out of
 * the code").
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filed.h"
#include "log.h"
#include "status.h"

int
filed_ctx_init(struct filed_ctx *fc, const char *statedir,
    const char *named_spec)
{
	memset(fc, 0, sizeof(*fc));
	fc->statedir = statedir;
	fc->gc_age = 3600;
	fc->lockfd = -1;
	if (peer_init(&fc->named, named_spec, DFS_NAME_PROG,
	    DFS_NAME_VERS, FILED_NAMED_TIMEOUT_MS) != 0)
		return -DFS_ERR_INVAL;
	/* anonymous memory is zeroed: every count starts at 0 */
	fc->counters = mmap(NULL, FILED_SHARED_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fc->counters == MAP_FAILED) {
		fc->counters = NULL;
		peer_close(&fc->named);
		return -DFS_ERR_NOMEM;
	}
	fc->sync = (struct store_sync *)(void *)((char *)fc->counters +
	    FILED_COUNTERS_SIZE);
	if (owner_init(fc) != 0) {
		filed_ctx_release(fc);
		return -DFS_ERR_NOMEM;
	}
	return 0;
}

void
filed_ctx_release(struct filed_ctx *fc)
{
	peer_close(&fc->named);
	if (fc->lockfd != -1)
		close(fc->lockfd);
	fc->lockfd = -1;
	if (fc->counters != NULL)
		munmap(fc->counters, FILED_SHARED_SIZE);
	fc->counters = NULL;
	fc->sync = NULL;
	owner_release(fc);
}

int
store_fh(const dfs_fh *fh, char *hex)
{
	struct fh	parsed;
	int		rc;

	rc = fh_parse(fh->dfs_fh_val, fh->dfs_fh_len, &parsed);
	if (rc != 0)
		return rc;
	fh_hex(fh->dfs_fh_val, fh->dfs_fh_len, hex);
	return 0;
}

int
store_stage_id(const struct op_ctx *oc, uint64_t stage, uint64_t *id)
{
	*id = stage != 0 ? stage : oc->stage;
	return *id != 0 ? 0 : -DFS_ERR_INVAL;
}

int
store_errno(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return -DFS_ERR_NOSPC;
	case EFBIG:
		return -DFS_ERR_FBIG;
	case ENOMEM:
		return -DFS_ERR_NOMEM;
	case ENOENT:
		return -DFS_ERR_STALE;
	default:
		return -DFS_ERR_IO;
	}
}

/* snprintf into buf.  Returns 0 or -DFS_ERR_NAMETOOLONG. */
static int
fmt_path(char *buf, size_t len, int n)
{
	(void)buf;
	return n < 0 || (size_t)n >= len ? -DFS_ERR_NAMETOOLONG : 0;
}

/* Creates the directory `path` (if missing) and asks the file system to
 * spread its subdirectories over block groups (see the top).  Returns 0
 * or -1 (errno set); the flag is only a hint. */
static int
mkdir_top(const char *path)
{
	int	fd, fl;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && !(fl & FS_TOPDIR_FL)) {
		fl |= FS_TOPDIR_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &fl);
	}
	close(fd);
	return 0;
}

int
store_init(const struct filed_ctx *fc)
{
	char	path[STORE_PATHLEN];

	snprintf(path, sizeof(path), "%s/data", fc->statedir);
	if (mkdir_top(path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/stage", fc->statedir);
	return mkdir_top(path);
}

/*
 * The bucket of a handle: two hex digits, bits 4-11 of its file id
 * (bytes 12-19 of the handle, big-endian: hex digits 24-39).  The name
 * server gives out file ids in order, so the 16 files of a CREATE batch
 * share one directory, and a PUT of them writes back one directory and
 * a few inode table blocks, not sixteen of each; over many files every
 * bucket is used in turn.
 */
static const char *
bucket(const char *hex)
{
	return hex + 2 * (12 + 8) - 3;
}

int
store_data_dir(const struct filed_ctx *fc, const char *hex, char *buf,
    size_t len)
{
	return fmt_path(buf, len, snprintf(buf, len, "%s/data/%.2s",
	    fc->statedir, bucket(hex)));
}

int
store_data_path(const struct filed_ctx *fc, const char *hex, uint64_t vers,
    char *buf, size_t len)
{
	return fmt_path(buf, len, snprintf(buf, len, "%s/data/%.2s/%s.%"
	    PRIu64, fc->statedir, bucket(hex), hex, vers));
}

int
store_stage_dir(const struct filed_ctx *fc, const char *hex, char *buf,
    size_t len)
{
	return fmt_path(buf, len, snprintf(buf, len, "%s/stage/%.2s",
	    fc->statedir, bucket(hex)));
}

int
store_stage_path(const struct filed_ctx *fc, const char *hex,
    uint64_t stage, char *buf, size_t len)
{
	return fmt_path(buf, len, snprintf(buf, len, "%s/stage/%.2s/%s.%016"
	    PRIx64, fc->statedir, bucket(hex), hex, stage));
}

int
store_write(int fd, const char *buf, size_t len, uint64_t off)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return store_errno(errno);
		done += (size_t)n;
	}
	return 0;
}

/* Returns a random non-zero stage id (0 means "the current stage"). */
static uint64_t
new_stage_id(void)
{
	uint64_t	id = 0;

	while (id == 0)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = 0;
	return id;
}

/* Creates the file of a new stage at `path`, and its bucket if it is
 * the first.  Returns the fd or a negative dfs_stat. */
static int
stage_open_new(const struct filed_ctx *fc, const char *hex,
    const char *path)
{
	char	dir[STORE_PATHLEN];
	int	fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno == ENOENT) {
		/* the bucket's first stage: no fsync, a crash loses only
		 * stages, which nobody relies on */
		if ((rc = store_stage_dir(fc, hex, dir, sizeof(dir))) != 0)
			return rc;
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return store_errno(errno);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	return fd != -1 ? fd : store_errno(errno);
}

int
store_stage_create(struct filed_ctx *fc, const char *hex, uint64_t *id,
    char *path)
{
	int	fd, rc;

	*id = new_stage_id();
	if ((rc = store_stage_path(fc, hex, *id, path, STORE_PATHLEN)) != 0)
		return rc;
	/* ORDER: owned before it exists, so that no crash leaves a stage
	 * nobody sweeps */
	if ((rc = owner_claim(fc, hex, *id)) != 0)
		return rc;
	if ((fd = stage_open_new(fc, hex, path)) < 0)
		owner_forget(fc, hex, *id);
	return fd;
}

int
store_stage_drop(struct filed_ctx *fc, const char *hex, uint64_t id)
{
	char	path[STORE_PATHLEN];
	int	rc;

	if ((rc = store_stage_path(fc, hex, id, path, sizeof(path))) != 0)
		return rc;
	rc = unlink(path) == -1 ? (errno == ENOENT ? -DFS_ERR_STALE :
	    -DFS_ERR_IO) : 0;
	owner_forget(fc, hex, id);
	return rc;
}

int
store_temp_create(const struct filed_ctx *fc, const char *hex, char *path)
{
	char	dir[STORE_PATHLEN];
	int	fd, rc;

	if ((rc = store_mkdata(fc, hex)) != 0 ||
	    (rc = store_data_dir(fc, hex, dir, sizeof(dir))) != 0 ||
	    (rc = fmt_path(path, STORE_PATHLEN, snprintf(path, STORE_PATHLEN,
	    "%s/%s.t%016" PRIx64, dir, hex, new_stage_id()))) != 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return fd != -1 ? fd : store_errno(errno);
}

int
store_is_temp(const char *name)
{
	const char	*p = name + FH_HEXLEN + 2;

	return strlen(name) == FH_HEXLEN + 2 + 16 &&
	    strspn(name, "0123456789abcdef") == FH_HEXLEN &&
	    name[FH_HEXLEN] == '.' && name[FH_HEXLEN + 1] == 't' &&
	    strspn(p, "0123456789abcdef") == 16;
}

int
store_parse_version(const char *name, char *hex, uint64_t *vers)
{
	const char	*p = name + FH_HEXLEN + 1;
	char		*ep;

	if (strlen(name) <= FH_HEXLEN + 1 || name[FH_HEXLEN] != '.' ||
	    strspn(name, "0123456789abcdef") != FH_HEXLEN ||
	    strspn(p, "0123456789") != strlen(p) || p[0] == '0')
		return 0;
	errno = 0;
	*vers = strtoull(p, &ep, 10);
	if (errno != 0 || *ep != '\0')
		return 0;
	if (hex != NULL) {
		memcpy(hex, name, FH_HEXLEN);
		hex[FH_HEXLEN] = '\0';
	}
	return 1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends v to the growing array *arr.  Returns 0 or -DFS_ERR_NOMEM. */
static int
push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v)
{
	uint64_t	*p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		p = realloc(*arr, *cap * sizeof(**arr));
		if (p == NULL)
			return -DFS_ERR_NOMEM;
		*arr = p;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

int
store_versions(const struct filed_ctx *fc, const char *hex, uint64_t **vers,
    size_t *n)
{
	char		 dir[STORE_PATHLEN], h[FH_HEXLEN + 1];
	struct dirent	*de;
	DIR		*dp;
	size_t		 cap = 0;
	uint64_t	 v;
	int		 rc = 0;

	*vers = NULL;
	*n = 0;
	if ((rc = store_data_dir(fc, hex, dir, sizeof(dir))) != 0)
		return rc;
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -DFS_ERR_IO;
	while (rc == 0 && (de = readdir(dp)) != NULL)
		if (store_parse_version(de->d_name, h, &v) &&
		    strcmp(h, hex) == 0)
			rc = push_u64(vers, n, &cap, v);
	closedir(dp);
	if (rc != 0) {
		free(*vers);
		*vers = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*vers, *n, sizeof(**vers), cmp_u64);
	return 0;
}

int
store_newest(const struct filed_ctx *fc, const char *hex, uint64_t *vers,
    uint64_t *size)
{
	char		 path[STORE_PATHLEN];
	struct stat	 st;
	uint64_t	*v;
	size_t		 n;
	int		 rc, tries;

	/* a COMMIT in another worker may unlink what we just listed */
	for (tries = 0; tries < 3; tries++) {
		*vers = *size = 0;
		if ((rc = store_versions(fc, hex, &v, &n)) != 0 || n == 0)
			return rc;
		*vers = v[n - 1];
		free(v);
		if ((rc = store_data_path(fc, hex, *vers, path,
		    sizeof(path))) != 0)
			return rc;
		if (stat(path, &st) == 0) {
			*size = (uint64_t)st.st_size;
			return 0;
		}
		if (errno != ENOENT)
			return -DFS_ERR_IO;
	}
	return -DFS_ERR_DELAY;
}

/* Unlinks version `vers` of `hex`.  Returns 0 or -DFS_ERR_IO. */
static int
unlink_version(const struct filed_ctx *fc, const char *hex, uint64_t vers)
{
	char	path[STORE_PATHLEN];
	int	rc;

	if ((rc = store_data_path(fc, hex, vers, path, sizeof(path))) != 0)
		return rc;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("cannot remove '%s'", path);
		return -DFS_ERR_IO;
	}
	return 0;
}

int
store_prune(const struct filed_ctx *fc, const char *hex, uint64_t keep,
    int all)
{
	uint64_t	*v;
	size_t		 n, i;
	int		 rc, rc2;

	if ((rc = store_versions(fc, hex, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (v[i] < keep || (all && v[i] != keep))
			if ((rc2 = unlink_version(fc, hex, v[i])) != 0)
				rc = rc2;
	free(v);
	return rc;
}

/* Unlinks every stage of `hex`.  Returns 0 or -DFS_ERR_IO. */
static int
remove_stages(const struct filed_ctx *fc, const char *hex)
{
	char		 dir[STORE_PATHLEN], path[STORE_PATHLEN];
	struct dirent	*de;
	DIR		*dp;
	int		 rc = 0;

	if (store_stage_dir(fc, hex, dir, sizeof(dir)) != 0)
		return -DFS_ERR_IO;
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -DFS_ERR_IO;
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, hex, FH_HEXLEN) != 0 ||
		    de->d_name[FH_HEXLEN] != '.')
			continue;
		if (fmt_path(path, sizeof(path), snprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name)) != 0)
			continue;
		if (unlink(path) == -1 && errno != ENOENT)
			rc = -DFS_ERR_IO;
	}
	closedir(dp);
	return rc;
}

int
store_remove_all(const struct filed_ctx *fc, const char *hex)
{
	int	rc, rc2;

	rc = store_prune(fc, hex, UINT64_MAX, 1);
	rc2 = remove_stages(fc, hex);
	return rc != 0 ? rc : rc2;
}

int
store_fsync_dir(const char *dir)
{
	int	fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -DFS_ERR_IO;
	rc = fsync(fd) == 0 ? 0 : -DFS_ERR_IO;
	close(fd);
	return rc;
}

int
store_mkdata(const struct filed_ctx *fc, const char *hex)
{
	char	dir[STORE_PATHLEN], parent[STORE_PATHLEN];
	int	rc;

	if ((rc = store_data_dir(fc, hex, dir, sizeof(dir))) != 0)
		return rc;
	if (mkdir(dir, 0700) == 0) {
		/* ORDER: the new directory's entry must be durable before
		 * a version inside it is reported committed */
		snprintf(parent, sizeof(parent), "%s/data", fc->statedir);
		return store_fsync_dir(parent);
	}
	return errno == EEXIST ? 0 : store_errno(errno);
}

int
store_server_id(const struct filed_ctx *fc, uint64_t *id)
{
	char	path[STORE_PATHLEN];
	FILE	*fp;

	*id = 0;
	snprintf(path, sizeof(path), "%s/server.id", fc->statedir);
	fp = fopen(path, "re");
	if (fp == NULL)
		return -DFS_ERR_DELAY;
	if (fscanf(fp, "%" SCNu64, id) != 1)
		*id = 0;
	fclose(fp);
	return *id != 0 ? 0 : -DFS_ERR_DELAY;
}
