/*
 * dfs.h -- libdfs, the dfs client library.  The only public header.
 *
 * dfs moves whole files: dfs_open() of an existing file for reading
 * streams it from the file server that holds it, pinned to the version
 * the name server named at open, so a reader sees exactly one committed
 * version or an error, never a mix.  A file opened for writing is spooled
 * locally (in memory up to max_size bytes, then in an unlinked temporary
 * file) and uploaded by dfs_close(), which commits it atomically: other
 * readers see the old or the new contents, and if anything fails the old
 * version stays.  Writers hold an exclusive lock from open to close.
 *
 * Paths are absolute ("/a/b"), with no empty, "." or ".." components.
 * Every function that can fail returns 0 (or a count) on success and a
 * negative DFS_ERR_* value on failure; dfs_strerror() turns it into a
 * message, and dfs_errdetail() may say more about the last failure (who
 * holds a lock, for how long).  The library never prints and never
 * exits.  A struct dfs and what it opened may be used by one thread at a
 * time.
 */
#ifndef DFS_H
#define DFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <dfs_types.h>		/* enum dfs_stat: the DFS_ERR_* values */

#ifdef __cplusplus
extern "C" {
#endif

struct dfs;
struct dfs_file;
struct dfs_dir;
struct dfs_lock;

/* --- Life cycle --- */

struct dfs_opts {
	/* "HOST[:PORT]" of the name server; NULL: $DFS_SERVER.  Without a
	 * port the name server is found through rpcbind on HOST. */
	const char	*server;
	/* Bytes of a file being written kept in memory before the spool
	 * moves to a temporary file (0: 1 MiB). */
	size_t		 max_size;
	/* Timeout of one RPC in milliseconds (0: 15000). */
	unsigned int	 timeout_ms;
	/* Extra tries of an idempotent call after a transport failure
	 * (reads, lookups); others are reported at once.  Default 2. */
	int		 retries;
	/* Directory for spool files (NULL: $TMPDIR, then /tmp). */
	const char	*tmpdir;
	/* Lease asked for every lock this client takes (dfs_lock() and
	 * writers), in milliseconds (0: the lock server's default, 60 s).
	 * A short lease makes a dead client's locks free sooner. */
	unsigned int	 lease_ms;
	/* The cache directory, shared by every process of the user (NULL:
	 * the cache_dir of dfs.conf, else $XDG_CACHE_HOME/dfs, else
	 * ~/.cache/dfs).  See Cache. */
	const char	*cache_dir;
	/* Bytes the cache may hold (0: cache_size of dfs.conf, else 1 GiB).
	 * Larger files are never cached. */
	uint64_t	 cache_size;
	/* Non-zero: no cache at all, not even for reading. */
	int		 no_cache;
	/* Connections (and requests in flight) that move one file larger
	 * than a chunk (1 MiB), 1 to 16 (0: streams of dfs.conf, else 4).
	 * 1 moves one chunk at a time. */
	int		 streams;
};
#define DFS_OPTS_INIT	{ NULL, 0, 0, 2, NULL, 0, NULL, 0, 0, 0 }

/*
 * Connects to the name server and checks that it is one (NULL call).
 * The lock and file servers are found through it when first needed.
 * $DFS_LOCKS (see Locks) is read here, once.
 * Returns 0 and sets *dfsp, or -DFS_ERR_INVAL (no or bad server
 * address), -DFS_ERR_RPC, -DFS_ERR_TIMEDOUT, -DFS_ERR_PROTO (something
 * else answers there), -DFS_ERR_NOMEM.  opts may be NULL (defaults).
 */
int	dfs_connect(struct dfs **dfsp, const struct dfs_opts *opts);
/* dfs_connect() that also says why it failed: the cause (e.g.
 * "Connection refused", "connected, but no answer within 15000 ms") in
 * err, errlen bytes at most ("" on success or when unknown). */
int	dfs_connect_err(struct dfs **dfsp, const struct dfs_opts *opts,
	    char *err, size_t errlen);
/* Closes every connection; open files must be closed first.  Locks
 * still held stay held until their lease lapses; dfs_unlock() of them
 * afterwards only frees them.  dfs_disconnect(NULL) does nothing. */
void	dfs_disconnect(struct dfs *dfs);

/* --- Errors --- */

/* Text for a status of either sign; never NULL. */
const char	*dfs_strerror(int status);
/* More about the last failure on this connection ("" if nothing), e.g.
 * "locked by another client, lease ends in 42 s".  Valid until the next
 * call on `dfs`. */
const char	*dfs_errdetail(const struct dfs *dfs);

/* --- Files --- */

/*
 * Opens `path`.  Modes as fopen(3): "r", "r+", "w", "w+", "a", "a+";
 * "b" is accepted and ignored; "x" with w makes creation exclusive
 * (-DFS_ERR_EXIST if the file exists); "c" keeps the file in the local
 * cache (see Cache).
 * Writable modes take an exclusive lock on the path until dfs_close();
 * if another client holds it: -DFS_ERR_LOCKED (see dfs_errdetail).
 * When this client already holds an exclusive lock on exactly `path`
 * (from dfs_lock() on the same `dfs`, or handed down in $DFS_LOCKS),
 * that lock is used instead and stays held after close.
 * "r" and "r+" of a missing file: -DFS_ERR_NOENT; "w" and "a" create it
 * (mode 0644).  Other errors: -DFS_ERR_ISDIR, -DFS_ERR_NOTDIR,
 * -DFS_ERR_INVAL (bad path or mode), -DFS_ERR_NOSERVER, transport errors.
 */
int	dfs_open(struct dfs *dfs, const char *path, const char *mode,
	    struct dfs_file **fp);
/* Reads up to n bytes at the current offset.  Returns the count (0 at
 * end of file) or a negative status; -DFS_ERR_STALE means the file was
 * replaced while being read. */
ssize_t	dfs_read(struct dfs_file *f, void *buf, size_t n);
/*
 * Copies up to n bytes from the current offset to the descriptor fd and
 * advances the offset: in the kernel (sendfile(2)) when the file is read
 * from the local cache, else from the buffer the data arrived in (no
 * copy through the caller's).  Returns the count (0 at the end of file)
 * or a negative status; errno is non-zero only when writing to fd failed
 * (-DFS_ERR_IO with that write's errno).
 */
ssize_t	dfs_read_to_fd(struct dfs_file *f, int fd, size_t n);
/* Writes n bytes at the current offset (at the end in "a" modes).
 * Returns n or a negative status (-DFS_ERR_PERM if opened "r"). */
ssize_t	dfs_write(struct dfs_file *f, const void *buf, size_t n);
/*
 * Reads up to n bytes from the descriptor fd with one read(2) and writes
 * them as dfs_write() does; in the "w" and "a" modes the read goes
 * straight into the chunk that is sent (no copy through the caller's
 * buffer).  Returns the count (0 at the end of fd) or a negative status;
 * errno is non-zero only when reading fd failed (-DFS_ERR_IO with that
 * read's errno).
 */
ssize_t	dfs_write_from_fd(struct dfs_file *f, int fd, size_t n);
/* Moves the offset (whence as lseek(2)).  Returns the new offset or
 * -DFS_ERR_INVAL. */
int64_t	dfs_seek(struct dfs_file *f, int64_t off, int whence);
int64_t	dfs_tell(const struct dfs_file *f);
/* Sets the size of a file opened for writing.  Returns 0 or a status. */
int	dfs_truncate(struct dfs_file *f, uint64_t size);
/*
 * Closes the file.  A file opened for writing is uploaded and committed
 * first (only if it changed, or was created or opened with "w"); when
 * that fails the previous version is left intact (a file this open
 * created is removed again) and the status is returned.  The lock is
 * released either way and `f` is freed.
 */
int	dfs_close(struct dfs_file *f);
/* Closes without uploading or committing: the previous version stays
 * (a file this open created is removed again), the lock is released,
 * `f` is freed.  Returns 0. */
int	dfs_abort(struct dfs_file *f);
/* A stdio stream over dfs_open() (fopencookie(3)): fclose(3) closes and
 * commits.  Returns NULL with errno set (EIO for dfs failures without an
 * errno equivalent). */
FILE	*dfs_fopen(struct dfs *dfs, const char *path, const char *mode);

/* --- Cache --- */

/*
 * A persistent whole-file cache on the local disk, shared by every
 * process that uses the same directory: <cache_dir>/<name server
 * instance>/<handle>/<version>-<size>-<xxh3>.  Close-to-open: the round
 * trip every dfs_open() makes to the name server names the file's
 * current version, and only an entry of exactly that version is used,
 * so a change committed before the open started is always seen (the key
 * is the version, not the mtime: two commits in one second are two
 * versions).  A hit reads the local copy and moves no file data.
 * Opening "r" (or "r+", "a+", which download) reads through an existing
 * entry; with "c" a missing one is filled by the first read (the whole
 * version), and a committed write with "c" stores the new version.
 * Every entry's size and XXH3 are checked before its first byte is
 * returned; a bad one is removed and the file fetched again.  Least
 * recently used entries are evicted to stay under cache_size; larger
 * files are never cached.  A cache directory that cannot be created or
 * written, or a full disk, turns the cache off for this struct dfs:
 * everything then works uncached, and dfs_cache_warning() says why.
 */

/*
 * Opens the cached copy of `path` read-only, iff it is current: one
 * round trip to the name server for the current version, and (when the
 * cluster has a lock server) one TEST to the lock server.  Returns 0 and
 * sets *fp (read it, dfs_close() it), -DFS_ERR_STALE (the cache holds
 * no copy of the current version: an older one or none), -DFS_ERR_NOENT
 * (the file is gone), -DFS_ERR_LOCKED (another client holds an
 * exclusive lock on the path: it may be about to change), -DFS_ERR_ISDIR,
 * transport errors.  No file data moves.
 */
int	dfs_from_cache(struct dfs *dfs, const char *path, struct dfs_file **fp);
/* Why the cache turned itself off ("cannot create '/x/dfs': Permission
 * denied"), or NULL while it works (or was turned off with no_cache).
 * Valid while dfs is. */
const char	*dfs_cache_warning(const struct dfs *dfs);

/* --- Names --- */

/* (struct dfs_stat and dfs_stat() would collide with the wire's enum
 * dfs_stat, hence getattr and info, as in NFS and FUSE.) */
struct dfs_info {
	int		 type;		/* DFS_FTYPE_REG or DFS_FTYPE_DIR */
	unsigned int	 mode;		/* permission bits */
	unsigned int	 uid;
	unsigned int	 gid;
	unsigned int	 nlink;
	uint64_t	 size;
	uint64_t	 fileid;
	int64_t		 mtime_ns;
	int64_t		 ctime_ns;
	uint64_t	 version;	/* +1 on every committed change */
};

/* stat(2) for dfs: returns 0 and fills *st, or -DFS_ERR_NOENT,
 * -DFS_ERR_NOTDIR, ... */
int	dfs_getattr(struct dfs *dfs, const char *path, struct dfs_info *st);
/* Sets permission bits / modification time (ns since the epoch). */
int	dfs_chmod(struct dfs *dfs, const char *path, unsigned int mode);
int	dfs_utime(struct dfs *dfs, const char *path, int64_t mtime_ns);
/* -DFS_ERR_EXIST if the name is taken. */
int	dfs_mkdir(struct dfs *dfs, const char *path, unsigned int mode);
/* -DFS_ERR_NOTEMPTY, -DFS_ERR_NOTDIR for a file. */
int	dfs_rmdir(struct dfs *dfs, const char *path);
/* -DFS_ERR_ISDIR for a directory; -DFS_ERR_LOCKED if locked. */
int	dfs_unlink(struct dfs *dfs, const char *path);
/* Atomic; replaces a file (or empty directory) at `to`. */
int	dfs_rename(struct dfs *dfs, const char *from, const char *to);

struct dfs_entry {
	char		 name[256];
	int		 type;
	uint64_t	 fileid;
};

/* Lists a directory a page at a time.  dfs_readdir() returns 1 with
 * *ent filled, 0 at the end, or a negative status. */
int	dfs_opendir(struct dfs *dfs, const char *path, struct dfs_dir **dp);
int	dfs_readdir(struct dfs_dir *d, struct dfs_entry *ent);
void	dfs_closedir(struct dfs_dir *d);

/* --- Locks --- */

/*
 * Explicit locks, for work spanning several calls or processes: a
 * read-modify-write, or changes to several files that must not
 * interleave with another client's.  A lock has a lease; the lock server
 * keeps a lapsed lock until another client asks for a conflicting one,
 * which then revokes it: from then on every use of the old id fails with
 * -DFS_ERR_EXPIRED (its commits included), so renew in time.  Locks are
 * on exact paths (no subtrees).  Plain reads are never blocked.
 *
 * While this client holds an exclusive lock on a path, libdfs names it
 * to the servers with every change it makes to that path (dfs_unlink,
 * dfs_rename, dfs_chmod, dfs_utime, dfs_mkdir, writing opens), whose
 * changes of a path locked by another client fail with -DFS_ERR_LOCKED.
 *
 * $DFS_LOCKS hands a lock to another process (dfs-lock(1) sets it for
 * its command): "ID MODE\nPATH\nPATH...", ID 32 lowercase hex digits,
 * MODE "x" (exclusive) or "s" (shared), one absolute path per line.  A
 * malformed value is ignored.
 */

/*
 * Locks `npaths` (1 to 64) distinct absolute paths, all or none, under
 * one new lock id; exclusive if `exclusive`, else shared (shared locks
 * coexist, an exclusive one conflicts with any other).  If one is held
 * by another client, waits up to `wait_ms` milliseconds (at most 300000)
 * for the lock server to grant it, in order of arrival; 0 fails at once.
 * Returns 0 and sets *lkp (release with dfs_unlock()), -DFS_ERR_LOCKED
 * (dfs_errdetail: "locked by another client, lease ends in N s",
 * followed by " (PATH)" naming the path when there were several),
 * -DFS_ERR_INVAL (bad or repeated path, bad count or wait),
 * -DFS_ERR_NOSERVER (the cluster has no lock server), transport errors.
 */
int	dfs_lock(struct dfs *dfs, const char *const *paths, int npaths,
	    int exclusive, unsigned int wait_ms, struct dfs_lock **lkp);
/* Restarts the lease.  Returns 0, -DFS_ERR_EXPIRED (lapsed and taken
 * over: the lock is lost), -DFS_ERR_BADLOCK, transport errors. */
int	dfs_lock_renew(struct dfs_lock *lk);
/* Releases the lock and frees lk, also when the release fails (its
 * status is returned: -DFS_ERR_EXPIRED if it had been taken over).
 * dfs_unlock(NULL) returns 0. */
int	dfs_unlock(struct dfs_lock *lk);
/* The lease the lock server granted, in milliseconds: renew well
 * within it (dfs-lock renews every third). */
unsigned int	dfs_lock_lease_ms(const struct dfs_lock *lk);
/*
 * Writes the lock as a $DFS_LOCKS value into buf (len bytes, NUL
 * included).  Returns the length of the whole string, as snprintf(3)
 * does: if that is >= len, buf holds only a truncated prefix
 * (dfs_lock_export(lk, NULL, 0) asks for the size).
 */
int	dfs_lock_export(const struct dfs_lock *lk, char *buf, size_t len);
/*
 * dfs_open() under an explicit lock: a writable mode uses `lk`, which
 * must hold `path` exclusively (else -DFS_ERR_INVAL), instead of taking
 * a lock, and dfs_close() leaves it held.  Read-only modes ignore lk;
 * lk NULL is dfs_open().  Once lk was taken over, the commit at
 * dfs_close() fails with -DFS_ERR_EXPIRED.
 */
int	dfs_open_locked(struct dfs *dfs, const char *path, const char *mode,
	    const struct dfs_lock *lk, struct dfs_file **fp);

/* dfs_put(): at most this many files, of this many bytes in all. */
#define DFS_PUT_MAXFILES	64
#define DFS_PUT_MAXBYTES	(4u << 20)

/* One file of dfs_put(): its whole contents. */
struct dfs_put {
	const char	*path;
	const void	*data;
	size_t		 len;
	int		 status;	/* set: 0 or a negative DFS_ERR_* */
};

/*
 * Writes `n` files whole, each as dfs_open(path, mode), one dfs_write()
 * of its data and dfs_close() would: created when missing, else
 * replaced by a new version, committed and durable on return, never
 * partly visible; -DFS_ERR_CHANGED when another writer committed the
 * file in between.  Made for many small files: they share round trips
 * and the servers' disk syncs (one name server request creates them,
 * one request per file server commits them), so a batch costs about
 * what one file does.  Each file succeeds or fails on its own and its
 * `status` says how.  `mode` is "w" or "wc" (the cache keeps a copy).
 * The files are written under `lk`, which must hold every path
 * exclusively; with lk NULL a lock this client holds on a file's path
 * is used, as dfs_open() would, and none is taken (the data is all here,
 * so there is no session to protect): a file whose path someone else
 * holds fails alone with -DFS_ERR_LOCKED, refused by the servers.
 * At most DFS_PUT_MAXFILES files and DFS_PUT_MAXBYTES bytes in all.
 * Returns 0 when every file was written, else the status of the first
 * that was not; -DFS_ERR_INVAL (bad arguments) and -DFS_ERR_NOMEM fail
 * every file before any was tried.
 */
int	dfs_put(struct dfs *dfs, struct dfs_put *files, size_t n,
	    const char *mode, const struct dfs_lock *lk);

#ifdef __cplusplus
}
#endif

#endif
