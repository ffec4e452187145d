/*
 * dirent.c -- directory entries: a name index plus a cookie-ordered list.
 *
 * 'e' dirid name -> {child, cookie, type} answers LOOKUP in one get;
 * 'c' dirid cookie -> {child, type, prev, next, name} is a doubly linked
 * list whose head and tail cookies live in the directory's inode.  New
 * entries go at the tail with the directory's next cookie, so a READDIR
 * resuming from a cookie sees every entry added since, exactly once, and
 * a removed cookie is detected (BADCOOKIE) instead of silently skipped.
 * READDIR pages from any cookie in O(count); adding or removing an entry
 * is O(1).  Callers write the directory's inode afterwards.
 *
 * The records' encoding and keys are record.c's, the only other file of
 * dfs-named this one calls.
 *
 * LOOKUP is the hot path (every stat walks a path), so the name index is
 * also kept in a direct-mapped cache in memory, slot by hash of
 * directory and name: filled by gets and adds, emptied by removes, so it
 * always says what the store says.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "kv.h"
#include "named.h"

/* Reads list node `cookie`.  Returns 0, -DFS_ERR_NOENT or -DFS_ERR_IO. */
static int
cnode_get(struct named_ctx *nc, uint64_t dir, uint64_t cookie,
    struct cnode *cn)
{
	unsigned char	 key[KEY_NODE_LEN];
	struct dec	 d = { 0 };
	void		*val;
	size_t		 vlen;
	int		 rc;

	key_node(key, dir, cookie);
	rc = kv_get(nc->kv, key, sizeof(key), &val, &vlen);
	if (rc != 0)
		return rc;
	d.p = val;
	d.len = vlen;
	rc = cnode_decode(&d, cn);
	free(val);
	return rc;
}

/* Writes list node `cookie`.  Returns 0 or -DFS_ERR_IO. */
static int
cnode_put(struct named_ctx *nc, uint64_t dir, uint64_t cookie,
    const struct cnode *cn)
{
	unsigned char	key[KEY_NODE_LEN];
	struct enc	e = { 0 };
	int		rc;

	key_node(key, dir, cookie);
	cnode_encode(cn, &e);
	rc = e.err ? -DFS_ERR_IO : kv_put(nc->kv, key, sizeof(key), e.p,
	    e.len);
	free(e.p);
	return rc;
}

/* Sets node `cookie`'s prev (which == 0) or next link.  Returns 0 or
 * -DFS_ERR_IO. */
static int
cnode_link(struct named_ctx *nc, uint64_t dir, uint64_t cookie, int which,
    uint64_t to)
{
	struct cnode	cn;

	if (cnode_get(nc, dir, cookie, &cn) != 0)
		return -DFS_ERR_IO;
	if (which == 0)
		cn.prev = to;
	else
		cn.next = to;
	return cnode_put(nc, dir, cookie, &cn);
}

/* --- the entry cache --- */

/* Allocates nc's entry cache.  Returns 0 or -DFS_ERR_NOMEM. */
int
dirent_cache_init(struct named_ctx *nc)
{
	nc->dcache = calloc(NAMED_DCACHE, sizeof(*nc->dcache));
	return nc->dcache != NULL ? 0 : -DFS_ERR_NOMEM;
}

void
dirent_cache_release(struct named_ctx *nc)
{
	free(nc->dcache);
	nc->dcache = NULL;
}

/* Returns the cache slot of `name` in `dir`. */
static struct dcache_ent *
dcache_slot(struct named_ctx *nc, uint64_t dir, const char *name,
    size_t len)
{
	uint64_t	h = XXH3_64bits_withSeed(name, len, dir);

	return &nc->dcache[h & (NAMED_DCACHE - 1)];
}

/* Returns 1 if `slot` holds `name` in `dir`. */
static int
dcache_holds(const struct dcache_ent *slot, uint64_t dir, const char *name,
    size_t len)
{
	return slot->dir == dir && slot->namelen == len &&
	    memcmp(slot->name, name, len) == 0;
}

static void
dcache_fill(struct dcache_ent *slot, uint64_t dir, const char *name,
    size_t len, const struct dentry *de)
{
	slot->dir = dir;
	slot->namelen = (uint32_t)len;
	memcpy(slot->name, name, len);
	slot->de = *de;
}

/*
 * Looks `name` up in directory `dir`, in the cache first.  Returns 0
 * and fills *de, or -DFS_ERR_NOENT, or -DFS_ERR_IO for a corrupt record.
 */
int
dirent_get(struct named_ctx *nc, uint64_t dir, const char *name,
    size_t len, struct dentry *de)
{
	struct dcache_ent	*slot = dcache_slot(nc, dir, name, len);
	unsigned char		 key[KEY_ENTRY_MAX];
	struct dec		 d = { 0 };
	void			*val;
	size_t			 vlen;
	int			 rc;

	if (dcache_holds(slot, dir, name, len)) {
		*de = slot->de;
		return 0;
	}
	rc = kv_get(nc->kv, key, key_entry(key, dir, name, len), &val, &vlen);
	if (rc != 0)
		return rc;
	d.p = val;
	d.len = vlen;
	rc = dentry_decode(&d, de);
	free(val);
	if (rc != 0)
		return rc;
	dcache_fill(slot, dir, name, len, de);
	return 0;
}

/*
 * Adds `name` -> child (of `type`) at the tail of `dir`'s list and
 * updates *dir in memory (counts, list ends, next cookie; not its times).
 * The name must be free.  Returns 0 or -DFS_ERR_IO.
 */
int
dirent_add(struct named_ctx *nc, struct inode *dir, const char *name,
    size_t len, uint64_t child, dfs_ftype type)
{
	unsigned char	key[KEY_ENTRY_MAX];
	struct cnode	cn;
	struct dentry	de;
	struct enc	e = { 0 };
	uint64_t	cookie = dir->nextcookie++;
	int		rc;

	memset(&cn, 0, sizeof(cn));
	cn.child = child;
	cn.type = type;
	cn.prev = dir->tail;
	cn.namelen = (uint32_t)len;
	memcpy(cn.name, name, len);
	rc = cnode_put(nc, dir->id, cookie, &cn);
	if (rc == 0 && dir->tail != 0)
		rc = cnode_link(nc, dir->id, dir->tail, 1, cookie);
	if (rc != 0)
		return rc;
	if (dir->head == 0)
		dir->head = cookie;
	dir->tail = cookie;
	dir->nentries++;
	if (type == DFS_FTYPE_DIR)
		dir->nsubdirs++;
	de.child = child;
	de.cookie = cookie;
	de.type = type;
	dentry_encode(&de, &e);
	rc = e.err ? -DFS_ERR_IO : kv_put(nc->kv, key,
	    key_entry(key, dir->id, name, len), e.p, e.len);
	free(e.p);
	if (rc == 0)
		dcache_fill(dcache_slot(nc, dir->id, name, len), dir->id,
		    name, len, &de);
	return rc;
}

/*
 * Removes `name` from `dir` and updates *dir in memory.  Returns 0,
 * -DFS_ERR_NOENT, or -DFS_ERR_IO.
 */
int
dirent_remove(struct named_ctx *nc, struct inode *dir, const char *name,
    size_t len)
{
	unsigned char		 key[KEY_ENTRY_MAX];
	struct dcache_ent	*slot;
	struct dentry		 de;
	struct cnode		 cn;
	int			 rc;

	rc = dirent_get(nc, dir->id, name, len, &de);
	if (rc != 0)
		return rc;
	slot = dcache_slot(nc, dir->id, name, len);
	if (dcache_holds(slot, dir->id, name, len))
		slot->dir = 0;
	if (cnode_get(nc, dir->id, de.cookie, &cn) != 0)
		return -DFS_ERR_IO;
	rc = 0;
	if (cn.prev != 0)
		rc = cnode_link(nc, dir->id, cn.prev, 1, cn.next);
	else
		dir->head = cn.next;
	if (rc == 0 && cn.next != 0)
		rc = cnode_link(nc, dir->id, cn.next, 0, cn.prev);
	else if (rc == 0)
		dir->tail = cn.prev;
	if (rc != 0)
		return rc;
	dir->nentries--;
	if (de.type == DFS_FTYPE_DIR)
		dir->nsubdirs--;
	key_node(key, dir->id, de.cookie);
	rc = kv_del(nc->kv, key, KEY_NODE_LEN);
	if (rc == 0)
		rc = kv_del(nc->kv, key, key_entry(key, dir->id, name, len));
	return rc;
}

/* Appends node `cn` at `cookie` to out's entries.  Returns 0 or
 * -DFS_ERR_NOMEM. */
static int
page_add(readdir_ok *out, const struct cnode *cn, uint64_t cookie)
{
	dfs_dirent	*de;

	de = &out->entries.entries_val[out->entries.entries_len];
	de->name.dfs_name_val = malloc(cn->namelen);
	if (de->name.dfs_name_val == NULL)
		return -DFS_ERR_NOMEM;
	memcpy(de->name.dfs_name_val, cn->name, cn->namelen);
	de->name.dfs_name_len = cn->namelen;
	de->fileid = cn->child;
	de->type = cn->type;
	de->cookie = cookie;
	out->entries.entries_len++;
	return 0;
}

/*
 * Fills `out` (zeroed by the caller) with up to `count` entries of `dir`
 * after `cookie` (0: from the start), and eof when the list ends there.
 * On failure `out` holds what was added so far (free it with xdr_free).
 * Returns 0, -DFS_ERR_BADCOOKIE when `cookie` names no entry,
 * -DFS_ERR_NOMEM, or -DFS_ERR_IO.
 */
int
dirent_page(struct named_ctx *nc, const struct inode *dir, uint64_t cookie,
    u_int count, readdir_ok *out)
{
	struct cnode	cn;
	uint64_t	next = dir->head;
	int		rc;

	if (cookie != 0) {
		rc = cnode_get(nc, dir->id, cookie, &cn);
		if (rc != 0)
			return rc == -DFS_ERR_NOENT ? -DFS_ERR_BADCOOKIE : rc;
		next = cn.next;
	}
	out->entries.entries_val = calloc(count, sizeof(dfs_dirent));
	if (out->entries.entries_val == NULL)
		return -DFS_ERR_NOMEM;
	while (next != 0 && out->entries.entries_len < count) {
		if (cnode_get(nc, dir->id, next, &cn) != 0)
			return -DFS_ERR_IO;
		rc = page_add(out, &cn, next);
		if (rc != 0)
			return rc;
		next = cn.next;
	}
	out->eof = next == 0;
	return 0;
}
