/*
 * table.c -- dfs-lockd's lock table: in memory, written through to kv.
 *
 * Every request is answered from three binary trees (tsearch(3)): locks
 * by id, locked paths with their holders, revoked ids.  Every change is
 * also written to the kv batch before memory changes, and the COMPOUND
 * commits the batch before it replies, so kill -9 loses nothing that was
 * acknowledged (invariant 6).  Leases are not stored: they run on the
 * monotonic clock in memory, and a restart gives every lock a fresh full
 * lease, which is always safe for the holders and needs no grace period.
 *
 * Each lock is counted against the client address that took it
 * (limits.c), which its record keeps, so the limits hold across a
 * restart; a lease longer than the maximum is clamped, also on load.
 *
 * kv records (integers big-endian):
 *	"instance"		u64, random, made on first start
 *	"L" nonce(u64)		mode(u32) lease_ms(u32) npaths(u32)
 *				then per path: len(u32) bytes
 *				then, optional: owner len(u32) bytes
 *	"R" nonce(u64)		revocation time (u64 seconds, epoch)
 */
#include <sys/random.h>

#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "kv.h"
#include "lockd.h"
#include "path.h"
#include "svcloop.h"

#define KEY_INSTANCE	"instance"
#define KEYLEN_ID	9		/* 'L' or 'R' + u64 */

static void
id_key(unsigned char *key, char kind, uint64_t nonce)
{
	key[0] = (unsigned char)kind;
	be64_put(key + 1, nonce);
}

static int
cmp_lk(const void *a, const void *b)
{
	uint64_t	x = ((const struct lk *)a)->nonce;
	uint64_t	y = ((const struct lk *)b)->nonce;

	return x < y ? -1 : x > y;
}

static int
cmp_pent(const void *a, const void *b)
{
	const struct pent	*x = a, *y = b;

	return path_cmp(x->path, x->len, y->path, y->len);
}

static int
cmp_revoked(const void *a, const void *b)
{
	uint64_t	x = ((const struct revoked *)a)->nonce;
	uint64_t	y = ((const struct revoked *)b)->nonce;

	return x < y ? -1 : x > y;
}

/* Returns 64 random bits from getrandom(2), or 0 on failure. */
static uint64_t
random64(void)
{
	uint64_t	v;
	ssize_t		n;

	do
		n = getrandom(&v, sizeof(v), 0);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(v) ? v : 0;
}

struct lk *
table_find(struct lock_ctx *ctx, uint64_t nonce)
{
	struct lk	key, **node;

	key.nonce = nonce;
	node = tfind(&key, &ctx->byid, cmp_lk);
	return node == NULL ? NULL : *node;
}

int
table_is_revoked(struct lock_ctx *ctx, uint64_t nonce)
{
	struct revoked	key;

	key.nonce = nonce;
	return tfind(&key, &ctx->revoked, cmp_revoked) != NULL;
}

struct pent *
table_path(struct lock_ctx *ctx, const char *path, size_t len)
{
	struct pent	key, **node;

	key.path = (char *)path;
	key.len = len;
	node = tfind(&key, &ctx->bypath, cmp_pent);
	return node == NULL ? NULL : *node;
}

int
lk_lapsed(const struct lk *l, unsigned long long now)
{
	return now >= l->deadline;
}

void
table_renew(struct lock_ctx *ctx, struct lk *l, unsigned long long now)
{
	(void)ctx;
	l->deadline = now + l->lease_ms;
}

/* Adds `l` as a holder of `path`, making the entry if needed.  Returns 0
 * or -DFS_ERR_RESOURCE. */
static int
attach(struct lock_ctx *ctx, struct lk *l, const char *path, size_t len)
{
	struct pent	*pe, **node;
	struct lk	**h;

	pe = table_path(ctx, path, len);
	if (pe == NULL) {
		if ((pe = calloc(1, sizeof(*pe))) == NULL ||
		    (pe->path = malloc(len ? len : 1)) == NULL) {
			free(pe);
			return -DFS_ERR_RESOURCE;
		}
		memcpy(pe->path, path, len);
		pe->len = len;
		node = tsearch(pe, &ctx->bypath, cmp_pent);
		if (node == NULL) {
			free(pe->path);
			free(pe);
			return -DFS_ERR_RESOURCE;
		}
	}
	h = reallocarray(pe->holders, pe->nholders + 1, sizeof(*h));
	if (h == NULL) {
		if (pe->nholders == 0) {
			tdelete(pe, &ctx->bypath, cmp_pent);
			free(pe->path);
			free(pe);
		}
		return -DFS_ERR_RESOURCE;
	}
	pe->holders = h;
	pe->holders[pe->nholders++] = l;
	l->paths[l->npaths++] = pe;
	return 0;
}

/* Takes `l` off every path it holds, dropping entries left empty. */
static void
detach(struct lock_ctx *ctx, struct lk *l)
{
	struct pent	*pe;
	unsigned int	 i, j;

	for (i = 0; i < l->npaths; i++) {
		pe = l->paths[i];
		for (j = 0; j < pe->nholders; j++)
			if (pe->holders[j] == l)
				break;
		if (j < pe->nholders)
			pe->holders[j] = pe->holders[--pe->nholders];
		if (pe->nholders == 0) {
			tdelete(pe, &ctx->bypath, cmp_pent);
			free(pe->holders);
			free(pe->path);
			free(pe);
		}
	}
	l->npaths = 0;
}

static void
lk_free(struct lk *l)
{
	if (l != NULL)
		free(l->paths);
	free(l);
}

/* Makes an unattached lock with room for n paths.  Returns it or NULL. */
static struct lk *
lk_new(uint64_t nonce, dfs_lockmode mode, unsigned int lease_ms,
    unsigned int n)
{
	struct lk	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->paths = calloc(n ? n : 1, sizeof(*l->paths))) == NULL) {
		free(l);
		return NULL;
	}
	l->nonce = nonce;
	l->mode = mode;
	l->lease_ms = lease_ms;
	l->deadline = now_ms() + lease_ms;
	return l;
}

/* Inserts an attached lock into the id tree and the list, and counts
 * its paths against its owner.  Returns 0 or -DFS_ERR_RESOURCE. */
static int
index_lk(struct lock_ctx *ctx, struct lk *l, struct lclient *owner)
{
	if (tsearch(l, &ctx->byid, cmp_lk) == NULL)
		return -DFS_ERR_RESOURCE;
	ctx->nlocks++;
	l->owner = owner;
	owner->npaths += l->npaths;
	ctx->npaths += l->npaths;
	l->prev = NULL;
	l->next = ctx->lkhead;
	if (ctx->lkhead != NULL)
		ctx->lkhead->prev = l;
	ctx->lkhead = l;
	return 0;
}

/* Encodes a lock's kv record.  Returns a malloc(3)ed buffer (its size in
 * *len), or NULL. */
static unsigned char *
encode_lk(dfs_lockmode mode, unsigned int lease_ms, const dfs_path *paths,
    unsigned int n, const char *owner, size_t *len)
{
	unsigned char	*buf, *p;
	size_t		 sz = 12, olen = strlen(owner);
	unsigned int	 i;

	for (i = 0; i < n; i++)
		sz += 4 + paths[i].dfs_path_len;
	sz += 4 + olen;
	if ((buf = malloc(sz)) == NULL)
		return NULL;
	be32_put(buf, (uint32_t)mode);
	be32_put(buf + 4, lease_ms);
	be32_put(buf + 8, n);
	p = buf + 12;
	for (i = 0; i < n; i++) {
		be32_put(p, paths[i].dfs_path_len);
		memcpy(p + 4, paths[i].dfs_path_val, paths[i].dfs_path_len);
		p += 4 + paths[i].dfs_path_len;
	}
	be32_put(p, (uint32_t)olen);
	memcpy(p + 4, owner, olen);
	*len = sz;
	return buf;
}

/* Returns a fresh nonce: non-zero, never issued before in this table
 * (live or remembered as revoked), or 0 when getrandom(2) fails. */
static uint64_t
new_nonce(struct lock_ctx *ctx)
{
	uint64_t	n;

	do
		n = random64();
	while (n != 0 && (table_find(ctx, n) != NULL ||
	    table_is_revoked(ctx, n)));
	return n;
}

/* Writes a lock's record.  Returns 0, -DFS_ERR_RESOURCE or -DFS_ERR_IO
 * (ctx->kvfail set). */
static int
store_lk(struct lock_ctx *ctx, const struct lk *l, const dfs_path *paths,
    unsigned int n, const struct lclient *owner)
{
	unsigned char	 key[KEYLEN_ID], *val;
	size_t		 vlen;
	int		 rc;

	val = encode_lk(l->mode, l->lease_ms, paths, n, owner->addr, &vlen);
	if (val == NULL)
		return -DFS_ERR_RESOURCE;
	id_key(key, 'L', l->nonce);
	rc = kv_put(ctx->kv, key, sizeof(key), val, vlen);
	free(val);
	if (rc != 0)
		ctx->kvfail = 1;
	return rc;
}

int
table_grant(struct lock_ctx *ctx, const dfs_path *paths, unsigned int n,
    dfs_lockmode mode, unsigned int lease_ms, struct lclient *owner,
    struct lk **out)
{
	struct lk	*l;
	uint64_t	 nonce;
	unsigned int	 i;
	int		 rc = -DFS_ERR_RESOURCE;

	if ((nonce = new_nonce(ctx)) == 0)
		return -DFS_ERR_IO;
	if ((l = lk_new(nonce, mode, lease_ms, n)) == NULL)
		return -DFS_ERR_RESOURCE;
	for (i = 0; i < n; i++)
		if (attach(ctx, l, paths[i].dfs_path_val,
		    paths[i].dfs_path_len) != 0)
			goto fail;
	if ((rc = store_lk(ctx, l, paths, n, owner)) != 0)
		goto fail;
	/* ORDER: last, so a failure above leaves the id tree untouched */
	if ((rc = index_lk(ctx, l, owner)) != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	detach(ctx, l);
	lk_free(l);
	return rc;
}

/* Drops a lock from memory and from its owner's count. */
static void
forget_lk(struct lock_ctx *ctx, struct lk *l)
{
	l->owner->npaths -= l->npaths;
	ctx->npaths -= l->npaths;
	client_put(ctx, l->owner);
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		ctx->lkhead = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	detach(ctx, l);
	tdelete(l, &ctx->byid, cmp_lk);
	ctx->nlocks--;
	lk_free(l);
}

int
table_remove(struct lock_ctx *ctx, struct lk *l)
{
	unsigned char	key[KEYLEN_ID];

	id_key(key, 'L', l->nonce);
	if (kv_del(ctx->kv, key, sizeof(key)) != 0) {
		ctx->kvfail = 1;
		return -DFS_ERR_IO;
	}
	forget_lk(ctx, l);
	ctx->nreleased++;
	return 0;
}

/* Remembers a revoked id in memory (list kept oldest first by the
 * callers).  Returns 0 or -DFS_ERR_RESOURCE. */
static int
remember(struct lock_ctx *ctx, uint64_t nonce, int64_t when)
{
	struct revoked	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -DFS_ERR_RESOURCE;
	r->nonce = nonce;
	r->when = when;
	if (tsearch(r, &ctx->revoked, cmp_revoked) == NULL) {
		free(r);
		return -DFS_ERR_RESOURCE;
	}
	if (ctx->rtail != NULL)
		ctx->rtail->next = r;
	else
		ctx->rhead = r;
	ctx->rtail = r;
	return 0;
}

int
table_revoke(struct lock_ctx *ctx, struct lk *l)
{
	unsigned char	key[KEYLEN_ID], val[8];
	int64_t		when = (int64_t)time(NULL);
	int		rc;

	if ((rc = remember(ctx, l->nonce, when)) != 0)
		return rc;
	be64_put(val, (uint64_t)when);
	id_key(key, 'R', l->nonce);
	if (kv_put(ctx->kv, key, sizeof(key), val, sizeof(val)) != 0) {
		ctx->kvfail = 1;
		return -DFS_ERR_IO;
	}
	return table_remove(ctx, l);
}

int
table_reclaim(struct lock_ctx *ctx, const struct lclient *owner,
    unsigned long long now)
{
	struct lk	*l, *next;
	int		 n = 0, rc;

	for (l = ctx->lkhead; l != NULL; l = next) {
		next = l->next;
		if ((owner != NULL && l->owner != owner) || !lk_lapsed(l, now))
			continue;
		/* ORDER: next is another lock, which revoking l leaves */
		if ((rc = table_revoke(ctx, l)) != 0)
			return rc;
		n++;
	}
	return n;
}

int
table_gc(struct lock_ctx *ctx, int64_t wallnow)
{
	struct revoked	*r;
	unsigned char	 key[KEYLEN_ID];
	int		 n = 0;

	while ((r = ctx->rhead) != NULL &&
	    r->when + LOCKD_REVOKED_KEEP_S <= wallnow) {
		id_key(key, 'R', r->nonce);
		if (kv_del(ctx->kv, key, sizeof(key)) != 0) {
			ctx->kvfail = 1;
			return -DFS_ERR_IO;
		}
		tdelete(r, &ctx->revoked, cmp_revoked);
		ctx->rhead = r->next;
		if (ctx->rhead == NULL)
			ctx->rtail = NULL;
		free(r);
		n++;
	}
	return n;
}

/* --- loading --- */

/* Reads the optional owner at *off, the end of a lock record, into
 * addr (LOCKD_ADDRLEN bytes; left "" without one).  Returns 0, or -1
 * when the record is corrupt. */
static int
load_owner(const unsigned char *v, size_t vlen, size_t *off, char *addr)
{
	uint32_t	len;

	if (*off == vlen)
		return 0;
	if (vlen - *off < 4)
		return -1;
	len = be32_get(v + *off);
	if (len >= LOCKD_ADDRLEN || vlen - *off - 4 != len ||
	    memchr(v + *off + 4, '\0', len) != NULL)
		return -1;
	memcpy(addr, v + *off + 4, len);
	addr[len] = '\0';
	*off = vlen;
	return 0;
}

/* Rebuilds one lock from its record.  Returns 0, -DFS_ERR_IO (corrupt)
 * or -DFS_ERR_RESOURCE. */
static int
load_lk(struct lock_ctx *ctx, uint64_t nonce, const unsigned char *v,
    size_t vlen)
{
	struct lk	*l;
	struct lclient	*owner;
	char		 addr[LOCKD_ADDRLEN] = "";
	uint32_t	 mode, lease, n, plen, i;
	size_t		 off = 12;

	if (vlen < 12)
		return -DFS_ERR_IO;
	mode = be32_get(v);
	lease = be32_get(v + 4);
	n = be32_get(v + 8);
	if ((mode != DFS_LOCK_SHARED && mode != DFS_LOCK_EXCL) ||
	    n == 0 || n > DFS_MAXLOCKPATHS || lease > LOCKD_MAX_LEASE_MS)
		return -DFS_ERR_IO;
	lease = limits_lease(ctx, lease);
	if ((l = lk_new(nonce, (dfs_lockmode)mode, lease, n)) == NULL)
		return -DFS_ERR_RESOURCE;
	for (i = 0; i < n; i++) {
		if (vlen - off < 4)
			goto corrupt;
		plen = be32_get(v + off);
		if (vlen - off - 4 < plen)
			goto corrupt;
		if (attach(ctx, l, (const char *)v + off + 4, plen) != 0)
			goto corrupt;
		off += 4 + plen;
	}
	if (load_owner(v, vlen, &off, addr) == 0 &&
	    (owner = client_get(ctx, addr)) != NULL) {
		if (index_lk(ctx, l, owner) == 0)
			return 0;
		client_put(ctx, owner);
	}
corrupt:
	detach(ctx, l);
	lk_free(l);
	return -DFS_ERR_IO;
}

/* kv_foreach callback: loads "L" and "R" records.  Returns 0 or a
 * negative dfs_stat. */
static int
load_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct lock_ctx		*ctx = arg;
	const unsigned char	*k = key;

	if (klen != KEYLEN_ID || (k[0] != 'L' && k[0] != 'R'))
		return 0;
	if (k[0] == 'L')
		return load_lk(ctx, be64_get(k + 1), val, vlen);
	if (vlen != 8)
		return -DFS_ERR_IO;
	return remember(ctx, be64_get(k + 1), (int64_t)be64_get(val));
}

static int
cmp_when(const void *a, const void *b)
{
	int64_t	x = (*(struct revoked *const *)a)->when;
	int64_t	y = (*(struct revoked *const *)b)->when;

	return x < y ? -1 : x > y;
}

/* Sorts the revoked list oldest first (kv_foreach returns them in no
 * order).  Returns 0 or -DFS_ERR_RESOURCE. */
static int
sort_revoked(struct lock_ctx *ctx)
{
	struct revoked	**v, *r;
	size_t		  n = 0, i;

	for (r = ctx->rhead; r != NULL; r = r->next)
		n++;
	if (n < 2)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -DFS_ERR_RESOURCE;
	for (i = 0, r = ctx->rhead; r != NULL; r = r->next)
		v[i++] = r;
	qsort(v, n, sizeof(*v), cmp_when);
	for (i = 0; i + 1 < n; i++)
		v[i]->next = v[i + 1];
	v[n - 1]->next = NULL;
	ctx->rhead = v[0];
	ctx->rtail = v[n - 1];
	free(v);
	return 0;
}

/* Reads the instance id, making one on first start.  Returns 0 or
 * -DFS_ERR_IO. */
static int
load_instance(struct lock_ctx *ctx)
{
	unsigned char	*val, buf[8];
	size_t		 vlen;

	if (kv_get(ctx->kv, KEY_INSTANCE, strlen(KEY_INSTANCE),
	    (void **)&val, &vlen) == 0) {
		ctx->instance = vlen == 8 ? be64_get(val) : 0;
		free(val);
		return ctx->instance == 0 ? -DFS_ERR_IO : 0;
	}
	if ((ctx->instance = random64()) == 0)
		return -DFS_ERR_IO;
	be64_put(buf, ctx->instance);
	if (kv_put(ctx->kv, KEY_INSTANCE, strlen(KEY_INSTANCE), buf,
	    sizeof(buf)) != 0 || kv_commit(ctx->kv) != 0)
		return -DFS_ERR_IO;
	return 0;
}

int
table_load(struct lock_ctx *ctx, char *err, size_t errlen)
{
	int	rc;

	if (load_instance(ctx) != 0) {
		snprintf(err, errlen, "cannot read or make the instance id");
		return -DFS_ERR_IO;
	}
	rc = kv_foreach(ctx->kv, load_one, ctx);
	if (rc == 0)
		rc = sort_revoked(ctx);
	if (rc == 0 && table_gc(ctx, (int64_t)time(NULL)) < 0)
		rc = -DFS_ERR_IO;
	if (rc == 0)
		rc = kv_commit(ctx->kv);
	if (rc != 0) {
		snprintf(err, errlen, "cannot load the lock table: %s",
		    rc == -DFS_ERR_IO ? "corrupt or unreadable record" :
		    "out of memory");
		table_release(ctx);
		return -DFS_ERR_IO;
	}
	return 0;
}

static void
free_lk_node(void *p)
{
	lk_free(p);
}

static void
free_pent_node(void *p)
{
	struct pent	*pe = p;

	free(pe->holders);
	free(pe->path);
	free(pe);
}

static void
free_nothing(void *p)
{
	(void)p;
}

void
table_release(struct lock_ctx *ctx)
{
	struct revoked	*r, *next;

	tdestroy(ctx->byid, free_lk_node);
	tdestroy(ctx->bypath, free_pent_node);
	tdestroy(ctx->revoked, free_nothing);
	for (r = ctx->rhead; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	ctx->byid = ctx->bypath = ctx->revoked = NULL;
	ctx->rhead = ctx->rtail = NULL;
	ctx->nlocks = ctx->npaths = 0;
	ctx->lkhead = NULL;
	/* ORDER: after wait_release(), which puts the waiters' clients */
	client_release(ctx);
}
