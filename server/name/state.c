/*
 * state.c -- dfs-named's persistent namespace on lib/kv.h.
 *
 * The records and their keys are record.c's; this file keeps the meta
 * record (ids and counters) and the objects, through a write-through
 * cache, and walks parents to build paths.  It calls only record.c and
 * lib/kv.h: the modules above it (dirent.c, servers.c, prov.c, ctx.c)
 * call into it, never the other way round.
 *
 * Crash design: every handler validates first and only then writes, with
 * kv_put()/kv_del(), into the COMPOUND's batch; name_compound_1_svc()
 * appends the batch to a redo log as one checksummed record (kv_append),
 * and group.c sends the reply only after the fdatasync that covers it,
 * one per round of the loop for every COMPOUND of the round.  The log
 * lies over a GDBM checkpoint that is only ever replaced whole, so a
 * multi-record change (CREATE, MKDIR, REMOVE, RENAME) is all there after
 * a crash or not at all, and nothing acknowledged is lost (kill -9
 * included).  A failed write is DFS_ERR_IO, on which the daemon exits
 * without committing: the half-applied batch lives only in the working
 * file, which the next start rebuilds from checkpoint + log.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv.h"
#include "named.h"

static const unsigned char meta_key[1] = { 'm' };

int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- meta --- */

/* Writes the meta record (ids and counters).  Returns 0 or -DFS_ERR_IO. */
int
named_save_meta(struct named_ctx *nc)
{
	struct enc	e = { 0 };
	int		rc;

	meta_encode(nc, &e);
	rc = e.err ? -DFS_ERR_IO :
	    kv_put(nc->kv, meta_key, sizeof(meta_key), e.p, e.len);
	free(e.p);
	return rc;
}

/* Reads the meta record.  Returns 0, -DFS_ERR_NOENT or -DFS_ERR_IO. */
static int
meta_get(struct named_ctx *nc)
{
	struct dec	 d = { 0 };
	void		*val;
	size_t		 vlen;
	int		 rc;

	rc = kv_get(nc->kv, meta_key, sizeof(meta_key), &val, &vlen);
	if (rc != 0)
		return rc;
	d.p = val;
	d.len = vlen;
	rc = meta_decode(&d, nc);
	free(val);
	return rc;
}

/* First start: random instance and secret, the root directory.  Returns
 * 0 or -DFS_ERR_IO. */
static int
meta_create(struct named_ctx *nc, char *err, size_t errlen)
{
	struct inode	root;
	uint64_t	r[2];
	int		rc;

	do {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			snprintf(err, errlen, "getrandom: %s",
			    strerror(errno));
			return -DFS_ERR_IO;
		}
	} while (r[0] == 0);
	nc->instance = r[0];
	nc->secret = r[1];
	nc->nextid = NAMED_ROOTID;
	nc->nextsrv = 1;
	rc = inode_new(nc, &root, DFS_FTYPE_DIR, 0755, 0, 0);
	if (rc == 0) {
		inode_setname(&root, NAMED_ROOTID, "", 0);
		rc = inode_put(nc, &root);
	}
	if (rc == 0)
		rc = kv_commit(nc->kv);
	if (rc != 0)
		snprintf(err, errlen, "cannot create the namespace");
	return rc;
}

/*
 * Loads the meta record, or on the first start creates it and the root
 * directory.  Returns 0, or a negative dfs_stat with a message in err.
 */
int
meta_load(struct named_ctx *nc, char *err, size_t errlen)
{
	int	rc;

	rc = meta_get(nc);
	if (rc == -DFS_ERR_NOENT)
		rc = meta_create(nc, err, errlen);
	else if (rc != 0)
		snprintf(err, errlen, "corrupt meta record");
	return rc;
}

/* --- inodes --- */

/* Allocates nc's object cache.  Returns 0 or -DFS_ERR_NOMEM. */
int
inode_cache_init(struct named_ctx *nc)
{
	nc->icache = calloc(NAMED_ICACHE, sizeof(*nc->icache));
	return nc->icache != NULL ? 0 : -DFS_ERR_NOMEM;
}

void
inode_cache_release(struct named_ctx *nc)
{
	free(nc->icache);
	nc->icache = NULL;
}

/* Returns the cache slot of object `id`. */
static struct inode *
icache_slot(struct named_ctx *nc, uint64_t id)
{
	return &nc->icache[id & (NAMED_ICACHE - 1)];
}

/*
 * Reads object `id`, from the cache when it holds it.  Returns 0,
 * -DFS_ERR_NOENT when there is none (a handler answers STALE), or
 * -DFS_ERR_IO for a corrupt record.
 */
int
inode_get(struct named_ctx *nc, uint64_t id, struct inode *ino)
{
	struct inode	*slot = icache_slot(nc, id);
	unsigned char	 key[9];
	struct dec	 d = { 0 };
	void		*val;
	size_t		 vlen;
	int		 rc;

	if (slot->id == id && id != 0) {
		*ino = *slot;
		return 0;
	}
	key_id(key, 'i', id);
	rc = kv_get(nc->kv, key, sizeof(key), &val, &vlen);
	if (rc != 0)
		return rc;
	memset(ino, 0, sizeof(*ino));
	ino->id = id;
	d.p = val;
	d.len = vlen;
	rc = inode_decode(&d, ino);
	free(val);
	if (rc == 0)
		*slot = *ino;
	return rc;
}

/* Writes an object (through the cache).  Returns 0 or -DFS_ERR_IO. */
int
inode_put(struct named_ctx *nc, const struct inode *ino)
{
	struct inode	*slot = icache_slot(nc, ino->id);
	unsigned char	 key[9];
	struct enc	 e = { 0 };
	int		 rc;

	key_id(key, 'i', ino->id);
	inode_encode(ino, &e);
	rc = e.err ? -DFS_ERR_IO :
	    kv_put(nc->kv, key, sizeof(key), e.p, e.len);
	free(e.p);
	if (rc == 0)
		*slot = *ino;
	else if (slot->id == ino->id)
		slot->id = 0;
	return rc;
}

/* Deletes an object.  Returns 0 or -DFS_ERR_IO. */
int
inode_del(struct named_ctx *nc, uint64_t id)
{
	struct inode	*slot = icache_slot(nc, id);
	unsigned char	 key[9];

	if (slot->id == id)
		slot->id = 0;
	key_id(key, 'i', id);
	return kv_del(nc->kv, key, sizeof(key));
}

/*
 * Fills a new object of `type` with a fresh file id (the counter is
 * written to the store at once, so ids are never reused) and the time
 * now.  The caller sets its name and writes it.  Returns 0 or
 * -DFS_ERR_IO.
 */
int
inode_new(struct named_ctx *nc, struct inode *ino, dfs_ftype type,
    uint32_t mode, uint32_t uid, uint32_t gid)
{
	memset(ino, 0, sizeof(*ino));
	ino->id = nc->nextid++;
	ino->type = type;
	ino->mode = mode & 07777;
	ino->uid = uid;
	ino->gid = gid;
	ino->mtime = ino->ctime = now_ns();
	ino->nextcookie = 1;
	return named_save_meta(nc);
}

/* A directory's entries changed: new times, version + 1. */
void
inode_touch(struct inode *dir, int64_t now)
{
	dir->mtime = dir->ctime = now;
	dir->vers++;
}

/* Sets where an object lives (its parent and its name there). */
void
inode_setname(struct inode *ino, uint64_t parent, const char *name,
    size_t len)
{
	ino->parent = parent;
	ino->namelen = (uint32_t)len;
	memcpy(ino->name, name, len);
	ino->name[len] = '\0';
}

/*
 * Builds the absolute path of `ino` by walking up its parents.  Returns
 * 0 and a malloc(3)ed NUL-terminated path (you own it) and its length,
 * -DFS_ERR_NAMETOOLONG past DFS_MAXPATHLEN, -DFS_ERR_NOMEM, or
 * -DFS_ERR_IO.
 */
int
inode_path(struct named_ctx *nc, const struct inode *ino, char **path,
    size_t *len)
{
	char		buf[DFS_MAXPATHLEN + 1];
	size_t		pos = sizeof(buf) - 1;
	struct inode	cur = *ino;
	int		rc;

	buf[pos] = '\0';
	while (cur.id != NAMED_ROOTID) {
		if (cur.namelen + 1 > pos)
			return -DFS_ERR_NAMETOOLONG;
		pos -= cur.namelen;
		memcpy(buf + pos, cur.name, cur.namelen);
		buf[--pos] = '/';
		rc = inode_get(nc, cur.parent, &cur);
		if (rc != 0)
			return -DFS_ERR_IO;
	}
	if (pos == sizeof(buf) - 1)
		buf[--pos] = '/';
	*len = sizeof(buf) - 1 - pos;
	*path = malloc(*len + 1);
	if (*path == NULL)
		return -DFS_ERR_NOMEM;
	memcpy(*path, buf + pos, *len + 1);
	return 0;
}

/*
 * Builds the absolute path `dir`/`name` in a malloc(3)ed, NUL-terminated
 * buffer (you own it).
 * Returns 0, -DFS_ERR_NAMETOOLONG past DFS_MAXPATHLEN, -DFS_ERR_NOMEM
 * or -DFS_ERR_IO.
 */
int
inode_child_path(struct named_ctx *nc, const struct inode *dir,
    const char *name, size_t len, char **path, size_t *plen)
{
	char	*dp, *p;
	size_t	 dlen;
	int	 rc;

	rc = inode_path(nc, dir, &dp, &dlen);
	if (rc != 0)
		return rc;
	if (dlen == 1)
		dlen = 0;		/* "/" + name, not "//" + name */
	if (dlen + 1 + len > DFS_MAXPATHLEN) {
		free(dp);
		return -DFS_ERR_NAMETOOLONG;
	}
	p = malloc(dlen + 1 + len + 1);
	if (p != NULL) {
		memcpy(p, dp, dlen);
		p[dlen] = '/';
		memcpy(p + dlen + 1, name, len);
		p[dlen + 1 + len] = '\0';
		*path = p;
		*plen = dlen + 1 + len;
	}
	free(dp);
	return p == NULL ? -DFS_ERR_NOMEM : 0;
}

/*
 * Returns 1 when directory `dir` is `anc` or lies below it, 0 when not,
 * or -DFS_ERR_IO.
 */
int
inode_is_below(struct named_ctx *nc, uint64_t dir, uint64_t anc)
{
	struct inode	cur;

	for (;;) {
		if (dir == anc)
			return 1;
		if (dir == NAMED_ROOTID)
			return 0;
		if (inode_get(nc, dir, &cur) != 0)
			return -DFS_ERR_IO;
		dir = cur.parent;
	}
}
