/*
 * ctx.c -- the life of dfs-named's context: sets up every module over
 * the store in order, and releases them in reverse.
 *
 * It sits above the modules it starts, so that none of them calls up to
 * another's set-up: record.c (encoding) at the bottom, state.c (meta,
 * inodes) on it, dirent.c, servers.c and prov.c beside one another on
 * those, and this file on top.  main.c and the unit tests call
 * named_init() and named_release(); the handlers never do.
 */
#include <stdio.h>
#include <string.h>

#include "named.h"

/*
 * Sets up `nc` over the open store `kv` (which it does not own): the
 * caches, the meta record and root (created on the first start), the
 * servers and the provisional files.  Returns 0 or a negative dfs_stat
 * with a message in err.
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
	if (inode_cache_init(nc) != 0 || dirent_cache_init(nc) != 0) {
		named_release(nc);
		snprintf(err, errlen, "cannot allocate the caches");
		return -DFS_ERR_NOMEM;
	}
	rc = meta_load(nc, err, errlen);
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
	inode_cache_release(nc);
}
