/*
 * store_commit.c -- what a commit needs from dfs-filed's store besides
 * paths: per-handle commit locks, shared file-system syncs and copies.
 *
 * Workers are processes, so the locks are OFD locks on bytes of
 * <statedir>/commit.lock (one per handle slot, one past them for the
 * sync turn), and the sync counters live in memory every worker maps
 * (fc->sync).  A commit of a version is a copy or a rename plus one
 * syncfs(2), shared by every worker committing at the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "filed.h"
#include "log.h"
#include "status.h"

unsigned int
store_lock_slot(const char *hex)
{
	return (unsigned int)(XXH64(hex, FH_HEXLEN, 0) % 65536);
}

/* Opens <statedir>/commit.lock for this process if not yet.  Returns
 * 0 or -DFS_ERR_IO. */
static int
lock_open(struct filed_ctx *fc)
{
	char	path[STORE_PATHLEN];

	if (fc->lockfd != -1 && fc->lockpid != (long)getpid()) {
		close(fc->lockfd);	/* inherited: shared with parent */
		fc->lockfd = -1;
	}
	if (fc->lockfd != -1)
		return 0;
	snprintf(path, sizeof(path), "%s/commit.lock", fc->statedir);
	fc->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fc->lockfd == -1) {
		log_warn("cannot open '%s'", path);
		return -DFS_ERR_IO;
	}
	fc->lockpid = (long)getpid();
	return 0;
}

/* Sets or clears byte `slot` of commit.lock.  Returns 0 or -DFS_ERR_IO. */
static int
lock_byte(struct filed_ctx *fc, unsigned int slot, short type)
{
	struct flock	fl;
	int		rc;

	if (type != F_UNLCK && (rc = lock_open(fc)) != 0)
		return rc;
	if (fc->lockfd == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)slot;
	fl.l_len = 1;
	/* no SA_RESTART: a signal interrupts the wait; wait again, the
	 * holder is bounded by its peer timeouts */
	while (fcntl(fc->lockfd, type == F_UNLCK ? F_OFD_SETLK :
	    F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR) {
			log_warn("cannot lock commit.lock");
			return -DFS_ERR_IO;
		}
	return 0;
}

int
store_lock(struct filed_ctx *fc, const char *hex)
{
	return lock_byte(fc, store_lock_slot(hex), F_WRLCK);
}

void
store_unlock(struct filed_ctx *fc, const char *hex)
{
	(void)lock_byte(fc, store_lock_slot(hex), F_UNLCK);
}

/*
 * One syncfs(2) at a time (byte SYNC_SLOT of commit.lock), and none
 * when one that began after the caller's writes has completed since:
 * connection processes committing at once share the syncs, as the name
 * server's clients share its log syncs.  fc->sync counts, across them
 * all, the syncs begun and the last one that completed without error.
 */
int
store_sync(struct filed_ctx *fc)
{
	struct store_sync	*g = fc->sync;
	char			 path[STORE_PATHLEN];
	uint64_t		 seen, mine;
	int			 fd, rc;

	/* ORDER: the writes to cover are done; syncs begun after this
	 * read cover them */
	seen = __atomic_load_n(&g->begun, __ATOMIC_ACQUIRE);
	if ((rc = lock_byte(fc, SYNC_SLOT, F_WRLCK)) != 0)
		return rc;
	if (__atomic_load_n(&g->done, __ATOMIC_ACQUIRE) > seen) {
		(void)lock_byte(fc, SYNC_SLOT, F_UNLCK);
		return 0;
	}
	mine = __atomic_add_fetch(&g->begun, 1, __ATOMIC_ACQ_REL);
	snprintf(path, sizeof(path), "%s/data", fc->statedir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || syncfs(fd) == -1) {
		log_warn("cannot sync the file system of '%s'", path);
		rc = -DFS_ERR_IO;
	} else
		__atomic_store_n(&g->done, mine, __ATOMIC_RELEASE);
	if (fd != -1)
		close(fd);
	(void)lock_byte(fc, SYNC_SLOT, F_UNLCK);
	return rc;
}

/* Copies with read/write where copy_file_range(2) cannot (another file
 * system, old kernel).  Returns 0 or a negative dfs_stat. */
static int
copy_rw(int in, int out, off_t off, uint64_t len)
{
	char	buf[65536];
	ssize_t	r;
	size_t	want;

	while (len > 0) {
		want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		r = pread(in, buf, want, off);
		if (r <= 0)
			return r == 0 ? -DFS_ERR_IO : store_errno(errno);
		if (pwrite(out, buf, (size_t)r, off) != r)
			return store_errno(errno);
		off += r;
		len -= (uint64_t)r;
	}
	return 0;
}

int
store_copy(int in, int out, uint64_t len)
{
	loff_t	ioff = 0, ooff = 0;
	ssize_t	n;

	while (len > 0) {
		n = copy_file_range(in, &ioff, out, &ooff,
		    len > (1U << 30) ? (1U << 30) : (size_t)len, 0);
		if (n == -1 && (errno == EXDEV || errno == ENOSYS ||
		    errno == EINVAL || errno == EOPNOTSUPP))
			return copy_rw(in, out, ioff, len);
		if (n == -1)
			return store_errno(errno);
		if (n == 0)
			return -DFS_ERR_IO;	/* source shrank */
		len -= (uint64_t)n;
	}
	return 0;
}
