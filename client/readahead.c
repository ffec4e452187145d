/*
 * rpipe.c -- a download on one connection, the next READ always sent
 * ahead, no threads.
 *
 * A file of several chunks read one READ at a time leaves the file
 * server idle while the client writes a chunk out, and the client idle
 * while the server sends the next.  Threads on several connections
 * (xfer.c) overlap the two, but on a machine of few cores they cost more
 * than they bring: context switches, and each chunk received on one core
 * and written out from another.  Here the caller's thread reads on one
 * connection, and as soon as chunk N is in, before handing it over,
 * sends the READ of N+1: the server sends N+1 (and the network carries
 * it) while the caller writes N out.  Replies are read straight into
 * two chunk buffers (rread.c).  The connection is the struct dfs's own
 * to that file server, taken for the download and given back after (a
 * connection per file made a tree of 100 files of 2 MiB take 0.6 s
 * instead of 0.22 s).
 *
 * One READ ahead, not two: with two queued, a 1 GiB download alone was
 * faster (0.23 s against 0.25-0.34 s here), but four at once took
 * 183-222 ms for 4 x 100 MiB against 127-143 ms.  The second reply
 * waits behind the first for the receiver's window and goes out in
 * pieces as it opens (network softirq 19% of all samples against 12%),
 * and under load that is all cost.  With one, the socket never holds
 * more than the reply being taken, which its buffers (a chunk and 64
 * KiB, conn.c) hold whole.
 *
 * Reads must come in file order to use the pipeline; an offset it did
 * not expect restarts it there (the replies still in flight are dropped
 * with the connection).  READ is idempotent, so after a transport
 * failure the READs in flight are sent again on a new connection,
 * `retries` times.  A failure that remains is kept and returned by every
 * later call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fh.h"
#include "rpcc.h"

#define RPIPE_DEPTH	2		/* chunk buffers: taken, and ahead */
#define RPIPE_AHEAD	1		/* READs in flight */

struct rpslot {
	char		*buf;
	uint64_t	 off;
	size_t		 len;		/* asked; once received, got */
	uint32_t	 xid;
};

struct rpipe {
	struct dfs	*dfs;		/* whose connection it takes */
	dfs_server	 srv;		/* srv.host is host */
	char		 host[DFS_MAXHOSTLEN + 1];
	dfs_fh		 fh;		/* copy, ours */
	uint64_t	 vers;
	uint64_t	 end;		/* the size, or where a short READ ended */
	CLIENT		*c;
	struct rread_in	 in;
	struct rpslot	 slot[RPIPE_DEPTH];
	char		*bufs;		/* the slots' buffers, in one */
	int		 head;		/* the oldest slot: held, or next in */
	int		 held;		/* the caller has slot[head] */
	int		 nflight;	/* READs sent and not yet answered */
	uint64_t	 ahead;		/* offset of the next READ to send */
	uint32_t	 xid;
	int		 err;		/* a failure that stays, negative */
	char		 detail[256];
};

int
rpipe_start(struct dfs *dfs, const dfs_server *srv, const dfs_fh *fh,
    uint64_t vers, uint64_t size, struct rpipe **rpp)
{
	struct rpipe	*rp;
	int		 i;

	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return -DFS_ERR_NOMEM;
	rp->dfs = dfs;
	snprintf(rp->host, sizeof(rp->host), "%s", srv->host);
	rp->srv = *srv;
	rp->srv.host = rp->host;
	rp->vers = vers;
	rp->end = size;
	/* any start will do: an xid only needs to be new on its connection */
	rp->xid = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)rp;
	fh_copy(&rp->fh, fh);
	rp->bufs = chunks_alloc(RPIPE_DEPTH, DFS_CHUNK);
	for (i = 0; rp->bufs != NULL && i < RPIPE_DEPTH; i++)
		rp->slot[i].buf = rp->bufs + (size_t)i * DFS_CHUNK;
	if (rp->fh.dfs_fh_val == NULL || i < RPIPE_DEPTH) {
		rpipe_end(rp);
		return -DFS_ERR_NOMEM;
	}
	*rpp = rp;
	return 0;
}

void
rpipe_end(struct rpipe *rp)
{
	if (rp == NULL)
		return;
	if (rp->c != NULL && rp->nflight == 0 && rp->err == 0)
		conn_file_give(rp->dfs, &rp->srv, rp->c);
	else if (rp->c != NULL)
		clnt_destroy(rp->c);	/* a reply may be on its way */
	chunks_free(rp->bufs, RPIPE_DEPTH, DFS_CHUNK);
	free(rp->fh.dfs_fh_val);
	free(rp);
}

/* Drops the connection and what is in flight on it. */
static void
drop(struct rpipe *rp)
{
	if (rp->c != NULL)
		clnt_destroy(rp->c);
	rp->c = NULL;
}

/* The i-th READ in flight (0: the oldest). */
static struct rpslot *
flying(struct rpipe *rp, int i)
{
	return &rp->slot[(rp->head + rp->held + i) % RPIPE_DEPTH];
}

/* Sends the READ of slot s on the connection. */
static enum clnt_stat
send_read(struct rpipe *rp, struct rpslot *s)
{
	read_args	ra;

	ra.fh = rp->fh;
	ra.vers = rp->vers;
	ra.offset = s->off;
	ra.count = (u_int)s->len;
	s->xid = ++rp->xid;
	return rread_send(rp->c, s->xid, &ra);
}

/* A connection with every READ in flight sent on it (again, after a
 * failure).  Returns RPC_SUCCESS or why not (the detail in rp->dfs). */
static enum clnt_stat
connect_and_resend(struct rpipe *rp)
{
	enum clnt_stat	st = RPC_SUCCESS;
	int		fd, i;

	if (rp->c != NULL)
		return RPC_SUCCESS;
	if ((rp->c = conn_file_take(rp->dfs, &rp->srv)) == NULL)
		return RPC_CANTSEND;
	if (!clnt_control(rp->c, CLGET_FD, (char *)&fd))
		st = RPC_FAILED;
	else
		rread_in_init(&rp->in, fd);
	for (i = 0; st == RPC_SUCCESS && i < rp->nflight; i++)
		st = send_read(rp, flying(rp, i));
	return st;
}

/* Sends READs until RPIPE_AHEAD are in flight (and a buffer waits for
 * each) or the version is all asked for.  Returns RPC_SUCCESS or the
 * failure. */
static enum clnt_stat
top_up(struct rpipe *rp)
{
	struct rpslot	*s;
	enum clnt_stat	 st;

	if ((st = connect_and_resend(rp)) != RPC_SUCCESS)
		return st;
	while (rp->nflight < RPIPE_AHEAD &&
	    rp->held + rp->nflight < RPIPE_DEPTH && rp->ahead < rp->end) {
		s = flying(rp, rp->nflight);
		s->off = rp->ahead;
		s->len = rp->end - rp->ahead < DFS_CHUNK ?
		    (size_t)(rp->end - rp->ahead) : DFS_CHUNK;
		rp->ahead += s->len;
		rp->nflight++;
		if ((st = send_read(rp, s)) != RPC_SUCCESS)
			return st;
	}
	return RPC_SUCCESS;
}

/* Takes the oldest READ's reply into its slot, keeping the pipeline
 * full, again on a new connection after a transport failure.  Returns
 * 0 or a status (kept). */
static int
take_next(struct rpipe *rp)
{
	struct rpslot	*s;
	enum clnt_stat	 st = RPC_FAILED;
	dfs_stat	 status = DFS_OK;
	u_int		 len = 0;
	int		 try;

	rp->detail[0] = '\0';	/* a failure tried around is not this one's */
	for (try = 0; try <= rp->dfs->retries; try++) {
		st = top_up(rp);
		s = flying(rp, 0);
		if (st == RPC_SUCCESS)
			st = rread_recv(&rp->in, s->xid,
			    rp->dfs->timeout_ms, s->buf, (u_int)s->len, &len,
			    &status);
		if (st == RPC_SUCCESS)
			break;
		if (rp->c != NULL)
			conn_fail_text(rp->detail, sizeof(rp->detail),
			    rp->srv.host, rp->srv.port, st,
			    rp->dfs->timeout_ms);
		drop(rp);
		if (rpcc_error(st) == -DFS_ERR_PROTO)
			return rp->err = -DFS_ERR_PROTO;
	}
	if (st != RPC_SUCCESS)
		return rp->err = rpcc_error(st);
	if (status != DFS_OK) {
		if (status == DFS_ERR_STALE)
			snprintf(rp->detail, sizeof(rp->detail), "the file "
			    "was replaced while being read");
		return rp->err = -(int)status;
	}
	if (len < s->len) {	/* the version is shorter than it said */
		rp->end = s->off + len;
		if (rp->nflight > 1)
			drop(rp);	/* READs past the end: not wanted */
		rp->nflight = 1;
		rp->ahead = rp->end;
	}
	s->len = len;
	rp->nflight--;
	rp->held = 1;
	/* ORDER: the next READ goes out before the caller takes this one */
	if (top_up(rp) != RPC_SUCCESS)
		drop(rp);	/* take_next() sends them again */
	return 0;
}

/* Returns rp's failure with its detail copied to dfs. */
static int
failed(struct rpipe *rp, struct dfs *dfs)
{
	if (rp->detail[0] != '\0')
		conn_detail(dfs, "%s", rp->detail);
	return rp->err;
}

int
rpipe_get(struct rpipe *rp, struct dfs *dfs, uint64_t off, const char **p,
    size_t *len)
{
	struct rpslot	*s = &rp->slot[rp->head];
	uint64_t	 next;

	*len = 0;
	if (rp->err != 0)
		return failed(rp, dfs);
	if (rp->held && off >= s->off && off < s->off + s->len) {
		*p = s->buf + (off - s->off);
		*len = s->len - (size_t)(off - s->off);
		return 0;
	}
	if (off >= rp->end)
		return 0;		/* the end, or the version ended early */
	if (rp->held) {			/* done with this chunk */
		rp->held = 0;
		rp->head = (rp->head + 1) % RPIPE_DEPTH;
	}
	next = rp->nflight > 0 ? flying(rp, 0)->off : rp->ahead;
	if (off != next) {		/* restart at off */
		if (rp->nflight > 0)
			drop(rp);
		rp->nflight = 0;
		rp->ahead = off;
	}
	if (take_next(rp) != 0)
		return failed(rp, dfs);
	s = &rp->slot[rp->head];
	*p = s->buf;
	*len = s->len;
	return 0;
}
