/*
 * servers.c -- registered servers: durable records, in-memory liveness,
 * and placement of new files.
 *
 * A registration ('s' + id -> kind, port, host, prefixes) is durable so
 * placement survives a restart; liveness is not: a server is live while
 * REGISTERs (its heartbeats) arrive within 3 heartbeat intervals, and
 * every known server counts as just seen when dfs-named starts.  A
 * heartbeat that changes nothing writes nothing, so heartbeats cost no
 * fsync.  The table is small (DFS_MAXSERVERS) and kept sorted by id.
 *
 * One lock authority (invariant 8): the table holds at most one lock
 * server, the authority, and a REGISTER from another lock server is
 * refused with STANDBY while the authority may still have locks held:
 * until it has been silent for its hold_ms (its self-fencing time plus
 * its longest lease, sent with every REGISTER) and at least 3
 * heartbeats, plus one heartbeat of margin.  Only then may another one
 * take over, so no lock the old authority granted can still be held when
 * the new one grants.  The authority itself (same id) is always
 * accepted: it keeps its own locks durably.  hold_ms is durable with the
 * record, and a restarted name server counts every server as just seen,
 * so a restart only delays a takeover.
 *
 * The record's encoding is record.c's; of the rest of dfs-named this
 * file calls only state.c, for the meta record that holds the next
 * server id.
 */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "named.h"
#include "path.h"
#include "svcloop.h"

static void
srv_free(struct srv *s)
{
	unsigned int	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nprefixes; i++)
		free(s->prefixes[i]);
	free(s);
}

/* Parses server `id`'s record.  Returns the new server, or NULL. */
static struct srv *
srv_from_record(uint64_t id, const void *val, size_t vlen)
{
	struct dec	 d = { val, vlen, 0, 0 };
	struct srv	*s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->id = id;
	if (srv_decode(&d, s) != 0) {
		srv_free(s);
		return NULL;
	}
	return s;
}

/* Writes server `s`.  Returns 0 or -DFS_ERR_IO. */
static int
srv_put(struct named_ctx *nc, const struct srv *s)
{
	unsigned char	key[9];
	struct enc	e = { 0 };
	int		rc;

	key_id(key, 's', s->id);
	srv_encode(s, &e);
	rc = e.err ? -DFS_ERR_IO : kv_put(nc->kv, key, sizeof(key), e.p,
	    e.len);
	free(e.p);
	return rc;
}

/* Places `s` in the id-sorted table (room was checked). */
static void
srv_insert(struct named_ctx *nc, struct srv *s)
{
	unsigned int	i = nc->nsrvs;

	while (i > 0 && nc->srvs[i - 1]->id > s->id) {
		nc->srvs[i] = nc->srvs[i - 1];
		i--;
	}
	nc->srvs[i] = s;
	nc->nsrvs++;
}

/* Drops table slot i from memory and the store.  Returns 0 or
 * -DFS_ERR_IO. */
static int
srv_drop(struct named_ctx *nc, unsigned int i)
{
	unsigned char	key[9];

	key_id(key, 's', nc->srvs[i]->id);
	srv_free(nc->srvs[i]);
	memmove(&nc->srvs[i], &nc->srvs[i + 1],
	    (nc->nsrvs - i - 1) * sizeof(nc->srvs[0]));
	nc->nsrvs--;
	return kv_del(nc->kv, key, sizeof(key));
}

static int
srv_load_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct named_ctx	*nc = arg;
	struct dec		 d = { key, klen, 1, 0 };
	struct srv		*s;

	if (klen != 9 || *(const unsigned char *)key != 's')
		return 0;
	if (nc->nsrvs == DFS_MAXSERVERS)
		return -1;
	s = srv_from_record(dec_u64(&d), val, vlen);
	if (s == NULL)
		return -1;
	s->seen_ms = now_ms();
	s->was_live = 1;
	srv_insert(nc, s);
	return 0;
}

/* Loads every registration; all count as just seen.  Returns 0 or -1. */
int
srv_load(struct named_ctx *nc)
{
	return kv_foreach(nc->kv, srv_load_one, nc) == 0 ? 0 : -1;
}

void
srv_release(struct named_ctx *nc)
{
	while (nc->nsrvs > 0)
		srv_free(nc->srvs[--nc->nsrvs]);
}

/* Returns the table slot of server `id`, or -1. */
static int
srv_slot(const struct named_ctx *nc, uint64_t id)
{
	unsigned int	i;

	for (i = 0; i < nc->nsrvs; i++)
		if (nc->srvs[i]->id == id)
			return (int)i;
	return -1;
}

/* Returns the server with `id`, or NULL. */
struct srv *
srv_find(struct named_ctx *nc, uint64_t id)
{
	int	slot = srv_slot(nc, id);

	return slot < 0 ? NULL : nc->srvs[slot];
}

/* Returns 1 when `s` heartbeated within 3 intervals, else 0. */
int
srv_live(const struct named_ctx *nc, const struct srv *s)
{
	return now_ms() - s->seen_ms <= 3ULL * nc->heartbeat_ms;
}

/* Builds a server from REGISTER arguments.  Returns 0 and *out, or
 * -DFS_ERR_INVAL, -DFS_ERR_NAMETOOLONG, -DFS_ERR_NOMEM. */
static int
srv_from_args(const register_args *ra, struct srv **out)
{
	struct srv	*s;
	const dfs_path	*p;
	unsigned int	 i;
	int		 rc;

	if ((ra->kind != DFS_SRV_LOCK && ra->kind != DFS_SRV_FILE) ||
	    ra->host == NULL || ra->host[0] == '\0' ||
	    strlen(ra->host) > DFS_MAXHOSTLEN || ra->port == 0 ||
	    ra->port > 65535 || ra->prefixes.prefixes_len > DFS_MAXPREFIXES)
		return -DFS_ERR_INVAL;
	for (i = 0; i < ra->prefixes.prefixes_len; i++) {
		p = &ra->prefixes.prefixes_val[i];
		rc = path_check_abs(p->dfs_path_val, p->dfs_path_len);
		if (rc != 0)
			return rc;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -DFS_ERR_NOMEM;
	s->kind = ra->kind;
	s->port = ra->port;
	s->hold_ms = ra->kind == DFS_SRV_LOCK ? ra->hold_ms : 0;
	strcpy(s->host, ra->host);	/* length checked above */
	for (i = 0; i < ra->prefixes.prefixes_len; i++) {
		p = &ra->prefixes.prefixes_val[i];
		s->prefixes[i] = strndup(p->dfs_path_val, p->dfs_path_len);
		if (s->prefixes[i] == NULL) {
			srv_free(s);
			return -DFS_ERR_NOMEM;
		}
		s->nprefixes++;
	}
	*out = s;
	return 0;
}

/* Returns 1 when a and b register the same thing, else 0. */
static int
srv_same(const struct srv *a, const struct srv *b)
{
	unsigned int	i;

	if (a->kind != b->kind || a->port != b->port ||
	    a->hold_ms != b->hold_ms || strcmp(a->host, b->host) != 0 ||
	    a->nprefixes != b->nprefixes)
		return 0;
	for (i = 0; i < a->nprefixes; i++)
		if (strcmp(a->prefixes[i], b->prefixes[i]) != 0)
			return 0;
	return 1;
}

/* A lock server became the authority: every other lock server is
 * forgotten.  Returns 0 or -DFS_ERR_IO. */
static int
srv_drop_other_locks(struct named_ctx *nc, uint64_t keep)
{
	unsigned int	i = 0;
	int		rc;

	while (i < nc->nsrvs) {
		if (nc->srvs[i]->kind == DFS_SRV_LOCK &&
		    nc->srvs[i]->id != keep) {
			rc = srv_drop(nc, i);
			if (rc != 0)
				return rc;
		} else
			i++;
	}
	return 0;
}

/* Returns the lock authority, or NULL when no lock server is known. */
static const struct srv *
srv_authority(const struct named_ctx *nc)
{
	unsigned int	i;

	for (i = 0; i < nc->nsrvs; i++)
		if (nc->srvs[i]->kind == DFS_SRV_LOCK)
			return nc->srvs[i];
	return NULL;
}

/*
 * May lock server `s`, registering as `id`, be the lock authority?  Yes
 * when there is none, when it is the authority, or when the authority
 * has been silent long enough that none of its locks can still be held
 * (logged as a takeover).  Returns 0 or -DFS_ERR_STANDBY.
 */
static int
srv_lock_admit(const struct named_ctx *nc, const struct srv *s, uint64_t id)
{
	const struct srv	*a = srv_authority(nc);
	unsigned long long	 quiet, wait;

	if (a == NULL || (id != 0 && id == a->id))
		return 0;
	quiet = now_ms() - a->seen_ms;
	wait = 3ULL * nc->heartbeat_ms;
	if (a->hold_ms > wait)
		wait = a->hold_ms;
	wait += nc->heartbeat_ms;
	if (quiet < wait) {
		log_debug("lock server at %s port %u refused: lock server "
		    "%llu at %s port %u is the authority", s->host, s->port,
		    (unsigned long long)a->id, a->host, a->port);
		return -DFS_ERR_STANDBY;
	}
	log_info("lock server at %s port %u takes over from lock server "
	    "%llu at %s port %u, silent for %llu ms", s->host, s->port,
	    (unsigned long long)a->id, a->host, a->port, quiet);
	return 0;
}

/*
 * Records a REGISTER (first one or heartbeat).  An id of 0 or one we do
 * not know gets a new id.  Writes only when something changed.  Returns
 * 0 and *id, -DFS_ERR_INVAL / -DFS_ERR_NAMETOOLONG for bad arguments,
 * -DFS_ERR_STANDBY for a lock server while another is the authority,
 * -DFS_ERR_NOSPC when DFS_MAXSERVERS are registered, -DFS_ERR_NOMEM, or
 * -DFS_ERR_IO.
 */
int
srv_register(struct named_ctx *nc, const register_args *ra, uint64_t *id)
{
	struct srv	*s;
	int		 rc, slot;

	rc = srv_from_args(ra, &s);
	if (rc == 0 && s->kind == DFS_SRV_LOCK &&
	    (rc = srv_lock_admit(nc, s, ra->id)) != 0)
		srv_free(s);
	if (rc != 0)
		return rc;
	slot = ra->id != 0 ? srv_slot(nc, ra->id) : -1;
	if (slot >= 0 && srv_same(nc->srvs[slot], s)) {
		nc->srvs[slot]->seen_ms = now_ms();
		*id = ra->id;
		srv_free(s);
		return 0;
	}
	s->seen_ms = now_ms();
	s->was_live = 1;
	if (slot >= 0) {
		s->id = ra->id;
		srv_free(nc->srvs[slot]);
		nc->srvs[slot] = s;
	} else {
		if (nc->nsrvs == DFS_MAXSERVERS) {
			srv_free(s);
			return -DFS_ERR_NOSPC;
		}
		s->id = nc->nextsrv++;
		srv_insert(nc, s);
		rc = named_save_meta(nc);
	}
	if (rc == 0)
		rc = srv_put(nc, s);
	if (rc == 0 && s->kind == DFS_SRV_LOCK)
		rc = srv_drop_other_locks(nc, s->id);
	*id = s->id;
	return rc;
}

/* Returns how well `s` serves `path`: the length of its longest prefix
 * containing it, 0 when it declared none, -1 when it does not serve it. */
static long
srv_match(const struct srv *s, const char *path, size_t len)
{
	long		best = s->nprefixes == 0 ? 0 : -1;
	size_t		plen;
	unsigned int	i;

	for (i = 0; i < s->nprefixes; i++) {
		plen = strlen(s->prefixes[i]);
		/* "/" holds everything; "/a" holds "/a" and "/a/..." */
		if (plen > 1 && (plen > len ||
		    memcmp(path, s->prefixes[i], plen) != 0 ||
		    (plen < len && path[plen] != '/')))
			continue;
		if ((long)plen > best)
			best = (long)plen;
	}
	return best;
}

/*
 * Returns 1 while `s` is suspect: a client reported it unreachable
 * (SUSPECT) less than SRV_SUSPECT_MS, or than the three heartbeats that
 * tell a dead server, ago.  Else 0.
 */
static int
srv_suspect(const struct named_ctx *nc, const struct srv *s)
{
	unsigned long long	win = 3ULL * nc->heartbeat_ms;

	if (win < SRV_SUSPECT_MS)
		win = SRV_SUSPECT_MS;
	return s->suspect_ms != 0 && now_ms() - s->suspect_ms < win;
}

/*
 * Marks file server `id` suspect (placement avoids it while another
 * serves; see srv_place()).  An unknown id is ignored: the report may be
 * older than an unregistration.  Anyone may report, so a report only
 * steers placement, never hides a server.
 */
void
srv_mark_suspect(struct named_ctx *nc, uint64_t id)
{
	struct srv	*s = srv_find(nc, id);

	if (s == NULL || s->kind != DFS_SRV_FILE)
		return;
	if (!srv_suspect(nc, s))
		log_info("file server %llu at %s port %u is suspect: a client "
		    "could not reach it", (unsigned long long)s->id, s->host,
		    s->port);
	s->suspect_ms = now_ms();
}

/*
 * Picks the file server for a new file at absolute `path`: among live
 * file servers, those whose longest declared prefix matching the path is
 * longest; round robin among them.  Suspect servers are picked only
 * when no other one serves the path.  Returns 0 and *id, or
 * -DFS_ERR_NOSERVER.
 */
int
srv_place(struct named_ctx *nc, const char *path, size_t len, uint64_t *id)
{
	struct srv	*win[DFS_MAXSERVERS];
	unsigned int	 i, nwin = 0, pass;
	long		 best = -1, m;

	for (pass = 0; pass < 2 && nwin == 0; pass++)
	for (i = 0; i < nc->nsrvs; i++) {
		if (nc->srvs[i]->kind != DFS_SRV_FILE ||
		    !srv_live(nc, nc->srvs[i]) ||
		    (pass == 0 && srv_suspect(nc, nc->srvs[i])))
			continue;
		m = srv_match(nc->srvs[i], path, len);
		if (m < 0 || m < best)
			continue;
		if (m > best)
			nwin = 0;
		best = m;
		win[nwin++] = nc->srvs[i];
	}
	if (nwin == 0)
		return -DFS_ERR_NOSERVER;
	*id = win[nc->rr++ % nwin]->id;
	return 0;
}

/* Fills a dfs_server (host malloc(3)ed).  Returns 0 or -DFS_ERR_NOMEM. */
int
srv_fill(const struct named_ctx *nc, const struct srv *s, dfs_server *out)
{
	out->id = s->id;
	out->kind = s->kind;
	out->port = s->port;
	out->live = srv_live(nc, s);
	out->host = strdup(s->host);
	return out->host == NULL ? -DFS_ERR_NOMEM : 0;
}

/*
 * Fills a malloc(3)ed array with the servers among `ids` that are still
 * registered.  On failure *out holds what was filled (free it with
 * xdr_free, as the reply does).  Returns 0 or -DFS_ERR_NOMEM.
 */
int
srv_fill_ids(const struct named_ctx *nc, const uint64_t *ids, uint32_t n,
    dfs_server **out, u_int *outlen)
{
	uint32_t	i;
	int		slot;

	*outlen = 0;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (*out == NULL)
		return -DFS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		slot = srv_slot(nc, ids[i]);
		if (slot < 0)
			continue;
		if (srv_fill(nc, nc->srvs[slot], &(*out)[*outlen]) != 0)
			return -DFS_ERR_NOMEM;
		(*outlen)++;
	}
	return 0;
}

/* Logs servers that went down or came back since the last call. */
void
srv_tick(struct named_ctx *nc)
{
	struct srv	*s;
	unsigned int	 i;
	int		 live;

	for (i = 0; i < nc->nsrvs; i++) {
		s = nc->srvs[i];
		live = srv_live(nc, s);
		if (live == s->was_live)
			continue;
		s->was_live = live;
		log_info("%s server %llu at %s port %u is %s",
		    s->kind == DFS_SRV_LOCK ? "lock" : "file",
		    (unsigned long long)s->id, s->host, s->port,
		    live ? "back" : "down: no heartbeat");
	}
}
