/*
 * record.c -- how dfs-named's records look in its store: the keys, the
 * encoding, and the codec of each kind of record.
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
 *	's' srvid		server registration: kind, port, host,
 *				prefixes, hold_ms
 *	'p' fileid		a file CREATE made and no COMMIT yet: its
 *				creation time (prov.c)
 *
 * Fields are fixed-width big-endian, strings a u32 length and the bytes.
 * A decoder that runs past the end of its record, or meets a length out
 * of range, fails with DFS_ERR_IO: a corrupt record is never half-read
 * into a struct that is then used.
 *
 * This file reads and writes memory only, never the store, and calls
 * nothing else of dfs-named.  The modules that keep records sit above
 * it and beside one another: state.c (meta, inodes), dirent.c (entries,
 * list nodes), servers.c (registrations), prov.c (provisional files);
 * ctx.c sets them all up.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "named.h"

#define INODE_FORMAT	1

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

/* --- keys --- */

/* Writes the 9-byte key `tag` + big-endian id to `key`. */
void
key_id(unsigned char *key, char tag, uint64_t id)
{
	int	i;

	key[0] = (unsigned char)tag;
	for (i = 8; i >= 1; i--, id >>= 8)
		key[i] = (unsigned char)(id & 0xff);
}

/* Writes the key of entry `name` in `dir` (KEY_ENTRY_MAX bytes at
 * most).  Returns its length. */
size_t
key_entry(unsigned char *key, uint64_t dir, const char *name, size_t len)
{
	key_id(key, 'e', dir);
	memcpy(key + 9, name, len);
	return 9 + len;
}

/* Writes the KEY_NODE_LEN-byte key of list node `cookie` of `dir`. */
void
key_node(unsigned char *key, uint64_t dir, uint64_t cookie)
{
	unsigned char	tmp[9];

	key_id(key, 'c', dir);
	key_id(tmp, 'c', cookie);
	memcpy(key + 9, tmp + 1, 8);
}

/* --- meta --- */

void
meta_encode(const struct named_ctx *nc, struct enc *e)
{
	enc_u64(e, nc->instance);
	enc_u64(e, nc->secret);
	enc_u64(e, nc->nextid);
	enc_u64(e, nc->nextsrv);
}

/* Returns 0 or -DFS_ERR_IO. */
int
meta_decode(struct dec *d, struct named_ctx *nc)
{
	nc->instance = dec_u64(d);
	nc->secret = dec_u64(d);
	nc->nextid = dec_u64(d);
	nc->nextsrv = dec_u64(d);
	return d->err ? -DFS_ERR_IO : 0;
}

/* --- inodes --- */

void
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

/* Fills all of *ino but its id.  Returns 0 or -DFS_ERR_IO for a record
 * that does not parse. */
int
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

/* --- directory entries and list nodes --- */

void
dentry_encode(const struct dentry *de, struct enc *e)
{
	enc_u64(e, de->child);
	enc_u64(e, de->cookie);
	enc_u32(e, (uint32_t)de->type);
}

/* Returns 0 or -DFS_ERR_IO. */
int
dentry_decode(struct dec *d, struct dentry *de)
{
	de->child = dec_u64(d);
	de->cookie = dec_u64(d);
	de->type = (dfs_ftype)dec_u32(d);
	return d->err ? -DFS_ERR_IO : 0;
}

void
cnode_encode(const struct cnode *cn, struct enc *e)
{
	enc_u64(e, cn->child);
	enc_u32(e, (uint32_t)cn->type);
	enc_u64(e, cn->prev);
	enc_u64(e, cn->next);
	enc_u32(e, cn->namelen);
	enc_bytes(e, cn->name, cn->namelen);
}

/* Returns 0 or -DFS_ERR_IO. */
int
cnode_decode(struct dec *d, struct cnode *cn)
{
	const void	*name;

	cn->child = dec_u64(d);
	cn->type = (dfs_ftype)dec_u32(d);
	cn->prev = dec_u64(d);
	cn->next = dec_u64(d);
	cn->namelen = dec_u32(d);
	name = cn->namelen <= DFS_MAXNAMELEN ? dec_bytes(d, cn->namelen) :
	    NULL;
	if (name == NULL)
		return -DFS_ERR_IO;
	memcpy(cn->name, name, cn->namelen);
	cn->name[cn->namelen] = '\0';
	return 0;
}

/* --- server registrations --- */

void
srv_encode(const struct srv *s, struct enc *e)
{
	unsigned int	i;

	enc_u32(e, (uint32_t)s->kind);
	enc_u32(e, s->port);
	enc_u32(e, (uint32_t)strlen(s->host));
	enc_bytes(e, s->host, strlen(s->host));
	enc_u32(e, s->nprefixes);
	for (i = 0; i < s->nprefixes; i++) {
		enc_u32(e, (uint32_t)strlen(s->prefixes[i]));
		enc_bytes(e, s->prefixes[i], strlen(s->prefixes[i]));
	}
	enc_u32(e, s->hold_ms);
}

/*
 * Fills *s (zeroed by the caller) but its id and liveness; the prefixes
 * are strndup(3)ed, s->nprefixes of them, also on failure (free them
 * with the server).  Returns 0, or -1 for a record that does not parse
 * or no memory.
 */
int
srv_decode(struct dec *d, struct srv *s)
{
	const char	*p;
	uint32_t	 n, i, plen;

	s->kind = (dfs_srvkind)dec_u32(d);
	s->port = dec_u32(d);
	n = dec_u32(d);
	p = n <= DFS_MAXHOSTLEN ? dec_bytes(d, n) : NULL;
	if (p != NULL)
		memcpy(s->host, p, n);
	n = dec_u32(d);
	for (i = 0; p != NULL && n <= DFS_MAXPREFIXES && i < n; i++) {
		plen = dec_u32(d);
		p = dec_bytes(d, plen);
		s->prefixes[i] = p == NULL ? NULL : strndup(p, plen);
		if (s->prefixes[i] == NULL)
			p = NULL;
		else
			s->nprefixes++;
	}
	if (p == NULL || n > DFS_MAXPREFIXES)
		return -1;
	/* optional: records written before lock authority had none */
	if (d->off < d->len)
		s->hold_ms = dec_u32(d);
	return 0;
}
