/*
 * state.c -- dfs-named's persistent namespace on lib/kv.h.
 *
 * Key layout (binary keys, ids big-endian, records encoded field by field
 * with enc_*()/dec_*(), never as raw structs):
 *
 *	"m"			meta: instance, secret, next file id, next
 *				server id
 *	'i' fileid		inode: type, mode, uid, gid, size, mtime,
 *				ctime, vers, parent, entry counts, the
 *				directory's cookie list (head, tail, next
 *				cookie), replica server ids, name in parent
 *	'e' dirid name		entry: child fileid, cookie, type
 *	'c' dirid cookie	list node: child, type, prev, next, name
 *	's' srvid		server registration (servers.c)
 *	'p' fileid		a file CREATE made and no COMMIT yet: its
 *				creation time (prov.c)
 *
 * Entries form a doubly linked list in cookie order per directory, so
 * READDIR pages from any cookie in O(count), and adding or removing an
 * entry is O(1).  Cookies are never reused within a directory, so a
 * cookie whose entry is gone answers BADCOOKIE rather than skipping.
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

#include "bytes.h"
#include "fh.h"
#include "kv.h"
#include "named.h"

#define INODE_FORMAT	1

static const unsigned char meta_key[1] = { 'm' };

int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- encoding --- */

static void
enc_grow(struct enc *e, size_t more)
{
	unsigned char	*np;
	size_t		 ncap;

	if (e->err || e->len + more <= e->cap)
		return;
	ncap = e->cap ? e->cap : 256;
	while (ncap < e->len + more)
		ncap *= 2;
	np = realloc(e->p, ncap);
	if (np == NULL) {
		e->err = 1;
		return;
	}
	e->p = np;
	e->cap = ncap;
}

void
enc_bytes(struct enc *e, const void *p, size_t len)
{
	enc_grow(e, len);
	if (e->err || len == 0)
		return;
	memcpy(e->p + e->len, p, len);
	e->len += len;
}

void
enc_u32(struct enc *e, uint32_t v)
{
	unsigned char	b[4];

	be32_put(b, v);
	enc_bytes(e, b, 4);
}

void
enc_u64(struct enc *e, uint64_t v)
{
	unsigned char	b[8];

	be64_put(b, v);
	enc_bytes(e, b, 8);
}

/* Returns a pointer to the next `len` bytes, or NULL (and sets err). */
const void *
dec_bytes(struct dec *d, size_t len)
{
	const void	*p;

	if (d->err || len > d->len - d->off) {
		d->err = 1;
		return NULL;
	}
	p = d->p + d->off;
	d->off += len;
	return p;
}

uint32_t
dec_u32(struct dec *d)
{
	const unsigned char	*p = dec_bytes(d, 4);

	return p != NULL ? be32_get(p) : 0;
}

uint64_t
dec_u64(struct dec *d)
{
	uint64_t	hi = dec_u32(d);

	return hi << 32 | dec_u32(d);
}

/* Writes the 9-byte key `tag` + big-endian id to `key`. */
void
key_id(unsigned char *key, char tag, uint64_t id)
{
	int	i;

	key[0] = (unsigned char)tag;
	for (i = 8; i >= 1; i--, id >>= 8)
		key[i] = (unsigned char)(id & 0xff);
}

/* --- meta --- */

/* Writes the meta record (ids and counters).  Returns 0 or -DFS_ERR_IO. */
int
named_save_meta(struct named_ctx *nc)
{
	struct enc	e = { 0 };
	int		rc;

	enc_u64(&e, nc->instance);
	enc_u64(&e, nc->secret);
	enc_u64(&e, nc->nextid);
	enc_u64(&e, nc->nextsrv);
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
	nc->instance = dec_u64(&d);
	nc->secret = dec_u64(&d);
	nc->nextid = dec_u64(&d);
	nc->nextsrv = dec_u64(&d);
	free(val);
	return d.err ? -DFS_ERR_IO : 0;
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
 * Sets up `nc` over the open store `kv` (which it does not own): loads
 * or creates the meta record and root, loads the servers.  Returns 0 or
 * a negative dfs_stat with a message in err.
 */
int
named_init(struct named_ctx *nc, struct kv *kv, unsigned int hb_ms,
    char *err, size_t errlen)
{
	int	rc;

	memset(nc, 0, sizeof(*nc));
	nc->kv = kv;
	nc->heartbeat_ms = hb_ms;
	nc->prov_age_s = NAMED_PROV_AGE_DEFAULT;
	nc->icache = calloc(NAMED_ICACHE, sizeof(*nc->icache));
	if (nc->icache == NULL || dirent_cache_init(nc) != 0) {
		named_release(nc);
		snprintf(err, errlen, "cannot allocate the caches");
		return -DFS_ERR_NOMEM;
	}
	rc = meta_get(nc);
	if (rc == -DFS_ERR_NOENT)
		rc = meta_create(nc, err, errlen);
	else if (rc != 0)
		snprintf(err, errlen, "corrupt meta record");
	if (rc == 0 && srv_load(nc) != 0) {
		snprintf(err, errlen, "corrupt server records");
		rc = -DFS_ERR_IO;
	}
	if (rc == 0 && prov_load(nc) != 0) {
		snprintf(err, errlen, "corrupt provisional file records");
		rc = -DFS_ERR_IO;
	}
	return rc;
}

/* Frees what named_init() allocated and drops the lock server
 * connection; the store stays open. */
void
named_release(struct named_ctx *nc)
{
	group_release(nc);
	srv_release(nc);
	prov_release(nc);
	peer_close(&nc->lockd);
	dirent_cache_release(nc);
	free(nc->icache);
	nc->icache = NULL;
}

/* --- inodes --- */

static void
inode_encode(const struct inode *ino, struct enc *e)
{
	uint32_t	i;

	enc_u32(e, INODE_FORMAT);
	enc_u32(e, (uint32_t)ino->type);
	enc_u32(e, ino->mode);
	enc_u32(e, ino->uid);
	enc_u32(e, ino->gid);
	enc_u64(e, ino->size);
	enc_u64(e, (uint64_t)ino->mtime);
	enc_u64(e, (uint64_t)ino->ctime);
	enc_u64(e, ino->vers);
	enc_u64(e, ino->parent);
	enc_u64(e, ino->nentries);
	enc_u64(e, ino->nsubdirs);
	enc_u64(e, ino->head);
	enc_u64(e, ino->tail);
	enc_u64(e, ino->nextcookie);
	enc_u32(e, ino->nrepl);
	for (i = 0; i < ino->nrepl; i++)
		enc_u64(e, ino->repl[i]);
	enc_u32(e, ino->namelen);
	enc_bytes(e, ino->name, ino->namelen);
}

/* Returns 0 or -DFS_ERR_IO for a record that does not parse. */
static int
inode_decode(struct dec *d, struct inode *ino)
{
	const void	*name;
	uint32_t	 i;

	if (dec_u32(d) != INODE_FORMAT)
		return -DFS_ERR_IO;
	ino->type = (dfs_ftype)dec_u32(d);
	ino->mode = dec_u32(d);
	ino->uid = dec_u32(d);
	ino->gid = dec_u32(d);
	ino->size = dec_u64(d);
	ino->mtime = (int64_t)dec_u64(d);
	ino->ctime = (int64_t)dec_u64(d);
	ino->vers = dec_u64(d);
	ino->parent = dec_u64(d);
	ino->nentries = dec_u64(d);
	ino->nsubdirs = dec_u64(d);
	ino->head = dec_u64(d);
	ino->tail = dec_u64(d);
	ino->nextcookie = dec_u64(d);
	ino->nrepl = dec_u32(d);
	if (ino->nrepl > DFS_MAXREPLICAS)
		return -DFS_ERR_IO;
	for (i = 0; i < ino->nrepl; i++)
		ino->repl[i] = dec_u64(d);
	ino->namelen = dec_u32(d);
	if (ino->namelen > DFS_MAXNAMELEN)
		return -DFS_ERR_IO;
	name = dec_bytes(d, ino->namelen);
	if (d->err)
		return -DFS_ERR_IO;
	memcpy(ino->name, name, ino->namelen);
	ino->name[ino->namelen] = '\0';
	return 0;
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
