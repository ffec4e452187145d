/*
 * kv.h -- a crash-safe key/value store: GDBM behind a redo log.
 *
 * A daemon's state lives in one directory as NAME.db (the checkpoint, a
 * GDBM file only ever replaced whole) and NAME.log (the redo log).  The
 * working GDBM file is rebuilt from the two at every open, in memory
 * (memfd_create(2)): on disk, the kernel wrote it back for nothing, on
 * its own and at every syncfs(2) of a neighbour such as a file server
 * on the same file system, and faulted its mapped pages in again after.
 *
 * Writes go through to the working file at once, so later reads see them,
 * and are also collected into a batch.  kv_commit() appends the batch to
 * the log as one checksummed record and fdatasync()s it: that is the
 * moment a change becomes durable, and a daemon replies only after it.  A
 * batch may touch any number of keys; a crash before the fdatasync loses
 * the whole batch and a crash after it loses none of it, so multi-record
 * changes (RENAME, CREATE) are atomic.  Log records hold whole values
 * ("key now equals value", "key is gone"), so replaying one twice is
 * harmless.
 *
 * Group commit splits kv_commit() in two: kv_append() writes the batch
 * as its own record without waiting for the disk, and one kv_sync() later
 * makes every record appended since the last one durable with a single
 * fdatasync.  Each record stays atomic on its own; what a crash before
 * that kv_sync() loses is some tail of the appended records, all of them
 * unacknowledged.
 *
 * Opening replays the log over a copy of the checkpoint and writes a new
 * checkpoint (sync the working file, copy it to NAME.db.tmp, fsync, rename,
 * truncate the log; NAME.db.tmp is then made again, preallocated, as the
 * next one).  GDBM itself may leave a half-updated file when a
 * process dies inside gdbm_store(); only the working file can be in that
 * state, and it dies with the process.  A torn record at the end of the log (a crash
 * inside write()) fails its checksum and is dropped: it was never
 * acknowledged.
 *
 * A full disk must not stop a daemon: appends to the log and
 * checkpoints then fail, and a change already applied to the working
 * file cannot be taken back.  So space is reserved ahead: the log is
 * preallocated past its end (fallocate(2), KEEP_SIZE) and NAME.db.tmp,
 * the next checkpoint, is kept preallocated to the working file's size
 * and a quarter more; a checkpoint writes over those blocks and the
 * rename frees the old checkpoint's, which are reserved again at once.
 * kv_reserve(), called before a change, extends both and answers NOSPC
 * when the disk cannot give more, so the daemon refuses the change
 * before making it and goes on serving reads.  A checkpoint that fails
 * anyway (at open, or when the log is due for one) is not an error: the
 * old checkpoint and the log still hold everything.
 *
 * Only this module includes <gdbm.h>.  Not thread-safe; one process owns
 * the directory (an flock on NAME.lock enforces it).
 */
#ifndef DFS_KV_H
#define DFS_KV_H

#include <stddef.h>
#include <stdint.h>

struct kv;

/* --- Life cycle --- */

/*
 * Opens (creating if needed) the store NAME in the existing directory DIR
 * and recovers it.  Returns 0 and sets *kvp, or a negative dfs_stat with
 * a message in err: -DFS_ERR_DELAY when another process holds the
 * directory, -DFS_ERR_NAMETOOLONG when DIR/NAME.* would not fit in a
 * path, -DFS_ERR_IO for any other failure.
 */
int	kv_open(struct kv **kvp, const char *dir, const char *name,
	    char *err, size_t errlen);
/* Checkpoints and closes.  kv_close(NULL) does nothing.  Uncommitted
 * writes are committed first. */
void	kv_close(struct kv *kv);

/* --- Reading --- */

/*
 * Looks up a key.  Returns 0 and stores a malloc(3)ed copy of the value
 * in *val (you own it; release it with free(3)) and its size in *vlen, or
 * -DFS_ERR_NOENT.  Sees uncommitted writes.
 */
int	kv_get(struct kv *kv, const void *key, size_t klen, void **val,
	    size_t *vlen);
/*
 * Calls fn for every record, in no particular order, until fn returns
 * non-zero; returns that value, or 0.  fn must not write to the store.
 */
int	kv_foreach(struct kv *kv,
	    int (*fn)(void *arg, const void *key, size_t klen,
	    const void *val, size_t vlen), void *arg);

/* --- Writing --- */

/* Stores or deletes a key in the current batch.  Returns 0 or
 * -DFS_ERR_IO (the working file failed: the daemon should exit). */
int	kv_put(struct kv *kv, const void *key, size_t klen, const void *val,
	    size_t vlen);
int	kv_del(struct kv *kv, const void *key, size_t klen);
/*
 * Makes the current batch durable (one log record, one fdatasync).
 * Returns 0, also when the batch is empty, or -DFS_ERR_IO, after which
 * durability is unknown and the daemon must exit rather than reply.
 * Checkpoints when the log has grown past its limit.
 */
int	kv_commit(struct kv *kv);
/* Returns 1 when the current batch holds writes, else 0. */
int	kv_dirty(const struct kv *kv);
/*
 * Makes sure that the current batch can grow by `more` bytes, be
 * appended to the log and be checkpointed without any new disk block,
 * preallocating more when needed.  Call it before a change of at most
 * `more` bytes.  Returns 0, -DFS_ERR_NOSPC (the disk is full: refuse
 * the change; reads and smaller changes may go on) or -DFS_ERR_IO.
 */
int	kv_reserve(struct kv *kv, size_t more);
/*
 * The same for the log alone, for a small change that must go on when
 * the checkpoint's reserve cannot be had (a lock server's UNLOCK and
 * TEST on a full disk): a checkpoint that fails later is no error.
 * Same returns.
 */
int	kv_reserve_log(struct kv *kv, size_t more);

/* --- Group commit --- */

/*
 * Appends the current batch to the log as one record and starts a new
 * batch, without waiting for the disk: the change is not durable until
 * kv_sync().  Returns 0, also when the batch is empty, or -DFS_ERR_IO,
 * after which the daemon must exit rather than reply.
 */
int	kv_append(struct kv *kv);
/*
 * Makes every record appended since the last sync durable: one
 * fdatasync(2), none when there is nothing to sync.  Checkpoints when the
 * log has grown past its limit.  Returns 0 or -DFS_ERR_IO (durability
 * unknown: exit rather than reply).
 */
int	kv_sync(struct kv *kv);
/* Returns 1 while a write is not durable yet (in the batch, or appended
 * and not synced), else 0. */
int	kv_pending(const struct kv *kv);

/* What the store did since it was opened, for a daemon's STATS. */
struct kv_counts {
	uint64_t	records;	/* log records appended */
	uint64_t	bytes;		/* their size, headers included */
	uint64_t	syncs;		/* fdatasyncs that made them durable */
};
void	kv_counts(const struct kv *kv, struct kv_counts *out);
/* Writes a checkpoint now.  Returns 0 or -DFS_ERR_IO. */
int	kv_checkpoint(struct kv *kv);
/* Sets the log size that triggers a checkpoint (default 64 MiB). */
void	kv_set_checkpoint_bytes(struct kv *kv, size_t bytes);

#endif
