/*
 * limits.c -- what each client of dfs-lockd may hold and wait for.
 *
 * Any peer may be hostile, so the lock table (memory and its log) and
 * the waiting requests are bounded: in locked paths and waiting LOCKs,
 * per client and in total, and every lease is clamped to a maximum.  A
 * request over a limit gets LIMIT and changes nothing; other clients go
 * on being served.  A client is known by its network address, without
 * the port, so one host is one client however many connections it opens
 * (a host behind NAT shares one budget with its neighbours).
 *
 * Invariant: an lclient exists while it holds a path, has a waiter or
 * is pinned by the handler using it (revoking a lapsed lock on the way
 * may drop its last path), and its counts are the sums over its locks
 * (npaths) and its waiters.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockd.h"

static int
cmp_client(const void *a, const void *b)
{
	return strcmp(((const struct lclient *)a)->addr,
	    ((const struct lclient *)b)->addr);
}

struct lclient *
client_get(struct lock_ctx *ctx, const char *addr)
{
	struct lclient	key, *c, **node;

	snprintf(key.addr, sizeof(key.addr), "%s", addr);
	node = tfind(&key, &ctx->clients, cmp_client);
	if (node != NULL)
		return *node;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	memcpy(c->addr, key.addr, sizeof(c->addr));
	if (tsearch(c, &ctx->clients, cmp_client) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
client_put(struct lock_ctx *ctx, struct lclient *c)
{
	if (c == NULL || c->npaths > 0 || c->nwaiters > 0 || c->pins > 0)
		return;
	tdelete(c, &ctx->clients, cmp_client);
	free(c);
}

void
client_release(struct lock_ctx *ctx)
{
	tdestroy(ctx->clients, free);
	ctx->clients = NULL;
}

void
client_addr(const struct netbuf *nb, char *buf, size_t len)
{
	buf[0] = '\0';
	if (nb == NULL || nb->buf == NULL || nb->len == 0)
		return;
	if (getnameinfo(nb->buf, nb->len, buf, len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		buf[0] = '\0';
}

int
limits_paths(const struct lock_ctx *ctx, const struct lclient *c, size_t n)
{
	if (ctx->lim.max_paths != 0 && ctx->npaths + n > ctx->lim.max_paths)
		return -DFS_ERR_LIMIT;
	if (ctx->lim.client_paths != 0 &&
	    c->npaths + n > ctx->lim.client_paths)
		return -DFS_ERR_LIMIT;
	return 0;
}

int
limits_waiters(const struct lock_ctx *ctx, const struct lclient *c)
{
	if (ctx->lim.max_waiters != 0 &&
	    ctx->nwaiters >= ctx->lim.max_waiters)
		return -DFS_ERR_LIMIT;
	if (ctx->lim.client_waiters != 0 &&
	    c->nwaiters >= ctx->lim.client_waiters)
		return -DFS_ERR_LIMIT;
	return 0;
}

unsigned int
limits_lease(const struct lock_ctx *ctx, unsigned int lease_ms)
{
	if (ctx->lim.max_lease_ms != 0 && lease_ms > ctx->lim.max_lease_ms)
		return ctx->lim.max_lease_ms;
	return lease_ms;
}

void
limits_default(struct lock_limits *lim)
{
	lim->max_lease_ms = LOCKD_DEF_MAX_LEASE_S * 1000;
	lim->max_paths = LOCKD_DEF_MAX_PATHS;
	lim->client_paths = LOCKD_DEF_CLIENT_PATHS;
	lim->max_waiters = LOCKD_DEF_MAX_WAITERS;
	lim->client_waiters = LOCKD_DEF_CLIENT_WAITERS;
}

/* Parses a count of 1..max.  Returns it, or 0 when invalid. */
static unsigned long
parse_count(const char *arg, unsigned long max)
{
	char		*ep;
	unsigned long	 v;

	v = strtoul(arg, &ep, 10);
	if (*arg < '0' || *arg > '9' || *ep != '\0' || v < 1 || v > max)
		return 0;
	return v;
}

int
limits_getopt(struct lock_limits *lim, int ch, const char *arg)
{
	unsigned long	v;

	switch (ch) {
	case LOCKD_OPT_MAX_LEASE:
		v = parse_count(arg, LOCKD_MAX_LEASE_MS / 1000);
		lim->max_lease_ms = (unsigned int)v * 1000;
		break;
	case LOCKD_OPT_MAX_PATHS:
		lim->max_paths = v = parse_count(arg, 1UL << 30);
		break;
	case LOCKD_OPT_CLIENT_PATHS:
		lim->client_paths = v = parse_count(arg, 1UL << 30);
		break;
	case LOCKD_OPT_MAX_WAITERS:
		lim->max_waiters = v = parse_count(arg, 1UL << 20);
		break;
	case LOCKD_OPT_CLIENT_WAITERS:
		lim->client_waiters = v = parse_count(arg, 1UL << 20);
		break;
	default:
		return 0;
	}
	return v == 0 ? -1 : 1;
}
