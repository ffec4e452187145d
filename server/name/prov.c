/*
 * prov.c -- provisional files: a new file's name is swept when its
 * first upload never commits.
 *
 * dfs-cp(1) promises all or nothing, but CREATE links a file (version 0,
 * empty) before its data is uploaded, and a client that crashes before
 * the first COMMIT would leave that name for ever.  So every file that
 * CREATE makes is provisional until a COMMIT gives it version 1, and
 * the tick removes a provisional file once it is at least the sweep age
 * old (-U, by default the longest lease a writer can hold, dfs-lockd's
 * --max-lease) and nobody holds a lock on its path: a writer still
 * uploading holds one (libdfs takes it before CREATE and renews it), so
 * it keeps its file however long the upload takes, and its COMMIT after
 * a sweep would answer STALE.  A file that still looks in use is looked
 * at again one sweep age later.  Provisional files are visible to
 * LOOKUP and READDIR meanwhile, as NFS shows a file from its open.
 *
 * Invariants: the index lists a file that was never committed, or one
 * already gone (REMOVE and RENAME do not look here: ids are never
 * reused, so the sweep just drops such an entry); a committed file is
 * never removed (the sweep checks version 0 itself).  It is durable
 * under 'p' + fileid (the creation time, ns), written in the batch of
 * the CREATE and deleted in the COMMIT's, so a restart knows it; the
 * sweep's removal goes through entry_unlink(), REMOVE's path, as one
 * log record synced before the next round.  In memory it is a small
 * array of the files in flight, scanned on each tick: never the
 * namespace.
 */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "named.h"

#define PROV_SWEEP_MAX	32	/* removals and lock checks per tick */

/* Appends id, created at created_ns, to the in-memory index.  Returns 0
 * or -DFS_ERR_NOMEM. */
static int
prov_push(struct named_ctx *nc, uint64_t id, int64_t created_ns)
{
	struct prov	*np;
	size_t		 ncap;

	if (nc->nprov == nc->provcap) {
		ncap = nc->provcap ? nc->provcap * 2 : 64;
		np = realloc(nc->prov, ncap * sizeof(*np));
		if (np == NULL)
			return -DFS_ERR_NOMEM;
		nc->prov = np;
		nc->provcap = ncap;
	}
	nc->prov[nc->nprov].id = id;
	nc->prov[nc->nprov].created_ns = created_ns;
	nc->prov[nc->nprov].recheck_ns = 0;
	nc->nprov++;
	return 0;
}

/* The sweep age in nanoseconds. */
static int64_t
prov_age_ns(const struct named_ctx *nc)
{
	return (int64_t)nc->prov_age_s * 1000000000;
}

/* When entry i is to be looked at (ns since the epoch). */
static int64_t
prov_due(const struct named_ctx *nc, size_t i)
{
	const struct prov	*p = &nc->prov[i];

	return p->recheck_ns != 0 ? p->recheck_ns : p->created_ns +
	    prov_age_ns(nc);
}

/*
 * Records that CREATE made file `id` at created_ns (in the current
 * batch).  Returns 0, -DFS_ERR_NOMEM or -DFS_ERR_IO.
 */
int
prov_add(struct named_ctx *nc, uint64_t id, int64_t created_ns)
{
	unsigned char	key[9];
	struct enc	e = { NULL, 0, 0, 0 };
	int		rc;

	key_id(key, 'p', id);
	enc_u64(&e, (uint64_t)created_ns);
	rc = e.err ? -DFS_ERR_NOMEM : prov_push(nc, id, created_ns);
	if (rc == 0)
		rc = kv_put(nc->kv, key, sizeof(key), e.p, e.len);
	free(e.p);
	return rc;
}

/* Drops entry i of the index, and its record in the current batch.
 * Returns 0 or -DFS_ERR_IO. */
static int
prov_drop(struct named_ctx *nc, size_t i)
{
	unsigned char	key[9];

	key_id(key, 'p', nc->prov[i].id);
	nc->prov[i] = nc->prov[--nc->nprov];
	return kv_del(nc->kv, key, sizeof(key));
}

/*
 * File `id` was committed: it is no longer provisional.  Returns 0 or
 * -DFS_ERR_IO.
 */
int
prov_commit(struct named_ctx *nc, uint64_t id)
{
	size_t	i;

	for (i = 0; i < nc->nprov; i++)
		if (nc->prov[i].id == id)
			return prov_drop(nc, i);
	return 0;
}

static int
prov_load_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct named_ctx	*nc = arg;
	struct dec		 k = { key, klen, 1, 0 }, v = { val, vlen, 0, 0 };
	uint64_t		 id, created;

	if (klen != 9 || *(const unsigned char *)key != 'p')
		return 0;
	id = dec_u64(&k);
	created = dec_u64(&v);
	if (v.err)
		return -1;
	return prov_push(nc, id, (int64_t)created);
}

/* Loads the index from the store (at start).  Returns 0 or -1. */
int
prov_load(struct named_ctx *nc)
{
	return kv_foreach(nc->kv, prov_load_one, nc) == 0 ? 0 : -1;
}

void
prov_release(struct named_ctx *nc)
{
	free(nc->prov);
	nc->prov = NULL;
	nc->nprov = nc->provcap = 0;
}

/*
 * Removes provisional file `ino` from its directory, as REMOVE does.
 * Returns 0 or -DFS_ERR_IO.
 */
static int
prov_unlink(struct named_ctx *nc, const struct inode *ino)
{
	struct inode	dir;
	int		rc;

	rc = inode_get(nc, ino->parent, &dir);
	if (rc == 0)
		rc = entry_unlink(nc, &dir, ino);
	if (rc == 0) {
		inode_touch(&dir, now_ns());
		rc = inode_put(nc, &dir);
	}
	return rc == -DFS_ERR_NOENT ? -DFS_ERR_IO : rc;
}

/*
 * Looks at entry i, which is due.  Returns 1 when it left the index
 * (removed, committed or gone), 0 when it stays (in use; looked at
 * again one sweep age later), or -DFS_ERR_IO.
 */
static int
prov_sweep_one(struct named_ctx *nc, size_t i, int64_t now)
{
	struct op_ctx	oc;
	struct inode	ino;
	int		rc;

	rc = inode_get(nc, nc->prov[i].id, &ino);
	if (rc == -DFS_ERR_NOENT || (rc == 0 && (ino.vers != 0 ||
	    ino.type != DFS_FTYPE_REG)))
		return prov_drop(nc, i) == 0 ? 1 : -DFS_ERR_IO;
	memset(&oc, 0, sizeof(oc));
	oc.nc = nc;
	if (rc == 0)
		rc = locks_check_inode(&oc, &ino);
	if (rc == -DFS_ERR_IO)
		return rc;
	if (rc != 0) {
		nc->prov[i].recheck_ns = now + prov_age_ns(nc);
		return 0;
	}
	if ((rc = prov_unlink(nc, &ino)) != 0)
		return rc;
	log_info("removed '%.*s' (file %llu): created for an upload that "
	    "never committed", (int)ino.namelen, ino.name,
	    (unsigned long long)ino.id);
	return prov_drop(nc, i) == 0 ? 1 : -DFS_ERR_IO;
}

/*
 * The tick: removes up to PROV_SWEEP_MAX due provisional files and makes
 * the removals durable before returning.  Exits, as a COMPOUND would,
 * when the store cannot be written; on a full disk it tries again at the
 * next tick.
 */
void
prov_sweep(struct named_ctx *nc)
{
	int64_t	now = now_ns();
	size_t	i = 0;
	int	n = 0, rc;

	while (i < nc->nprov && n < PROV_SWEEP_MAX) {
		if (prov_due(nc, i) > now) {
			i++;
			continue;
		}
		if (n == 0 && kv_reserve(nc->kv, 2 * NAMED_OP_ROOM) != 0)
			return;
		n++;
		rc = prov_sweep_one(nc, i, now);
		if (rc < 0)
			fatalx("cannot write the name state: exiting "
			    "uncommitted");
		if (rc == 0)
			i++;
	}
	if (!kv_dirty(nc->kv))
		return;
	if (kv_append(nc->kv) != 0)
		fatalx("cannot append to the name log: durability unknown");
	group_flush(nc);
}
