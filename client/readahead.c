/*
 * readahead.c -- a download on one connection, the next READ always sent
 * ahead, no threads.
 *
 * A file of several chunks read one READ at a time leaves the file
 * server idle while the client writes a chunk out, and the client idle
 * while the server sends the next.  Threads on several connections
 * (parallel.c) overlap the two, but on a machine of few cores they cost
 * more than they bring: context switches, and each chunk received on
 * one core and written out from another.  Here the caller's thread reads on one
 * connection, and as soon as chunk N is in, before handing it over,
 * sends the READ of N+1: the server sends N+1 (and the network carries
 * it) while the caller writes N out.  Replies are read straight into
 * two chunk buffers (rawrpc.c).  The connection is the struct dfs's own
 * to that file server, taken for the download and given back after,
 * because a connection per file costs a tree of small files more than
 * the download itself (docs/BENCHMARKS.md).
 *
 * One READ ahead, not two: a second queued reply waits behind the first
 * for the receiver's window and goes out in pieces, which under load is
 * all cost (docs/BENCHMARKS.md).  With one, the socket never holds more
 * than the reply being taken, which its buffers (a chunk and 64 KiB,
 * conn.c) hold whole.
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

#define READAHEAD_DEPTH	2		/* chunk buffers: taken, and ahead */
#define READAHEAD_INFLIGHT	1		/* READs in flight */

struct ra_slot {
	char		*buf;
	uint64_t	 off;
	size_t		 len;		/* asked; once received, got */
	uint32_t	 xid;
};

struct readahead {
	struct dfs	*dfs;		/* whose connection it takes */
	dfs_server	 srv;		/* srv.host is host */
	char		 host[DFS_MAXHOSTLEN + 1];
	dfs_fh		 fh;		/* copy, ours */
	uint64_t	 vers;
	uint64_t	 end;		/* the size, or where a short READ ended */
	CLIENT		*c;
	struct raw_in	 in;
	struct raw_xids	 xids;		/* c's, taken over */
	struct ra_slot	 slot[READAHEAD_DEPTH];
	char		*bufs;		/* the slots' buffers, in one */
	int		 head;		/* the oldest slot: held, or next in */
	int		 held;		/* the caller has slot[head] */
	int		 nflight;	/* READs sent and not yet answered */
	uint64_t	 ahead;		/* offset of the next READ to send */
	int		 err;		/* a failure that stays, negative */
	char		 detail[256];
};

int
readahead_start(struct dfs *dfs, const dfs_server *srv, const dfs_fh *fh,
    uint64_t vers, uint64_t size, struct readahead **rahp)
{
	struct readahead	*rah;
	int		 i;

	if ((rah = calloc(1, sizeof(*rah))) == NULL)
		return -DFS_ERR_NOMEM;
	rah->dfs = dfs;
	snprintf(rah->host, sizeof(rah->host), "%s", srv->host);
	rah->srv = *srv;
	rah->srv.host = rah->host;
	rah->vers = vers;
	rah->end = size;
	fh_copy(&rah->fh, fh);
	rah->bufs = chunks_alloc(READAHEAD_DEPTH, DFS_CHUNK);
	for (i = 0; rah->bufs != NULL && i < READAHEAD_DEPTH; i++)
		rah->slot[i].buf = rah->bufs + (size_t)i * DFS_CHUNK;
	if (rah->fh.dfs_fh_val == NULL || i < READAHEAD_DEPTH) {
		readahead_end(rah);
		return -DFS_ERR_NOMEM;
	}
	*rahp = rah;
	return 0;
}

void
readahead_end(struct readahead *rah)
{
	if (rah == NULL)
		return;
	if (rah->c != NULL && rah->nflight == 0 && rah->err == 0) {
		/* ORDER: libtirpc numbers its calls after ours */
		raw_xids_give(&rah->xids, rah->c);
		conn_file_give(rah->dfs, &rah->srv, rah->c);
	}
	else if (rah->c != NULL)
		clnt_destroy(rah->c);	/* a reply may be on its way */
	chunks_free(rah->bufs, READAHEAD_DEPTH, DFS_CHUNK);
	free(rah->fh.dfs_fh_val);
	free(rah);
}

/* Drops the connection and what is in flight on it. */
static void
drop(struct readahead *rah)
{
	if (rah->c != NULL)
		clnt_destroy(rah->c);
	rah->c = NULL;
}

/* The i-th READ in flight (0: the oldest). */
static struct ra_slot *
flying(struct readahead *rah, int i)
{
	return &rah->slot[(rah->head + rah->held + i) % READAHEAD_DEPTH];
}

/* Sends the READ of slot s on the connection. */
static enum clnt_stat
send_read(struct readahead *rah, struct ra_slot *s)
{
	read_args	ra;

	ra.fh = rah->fh;
	ra.vers = rah->vers;
	ra.offset = s->off;
	ra.count = (u_int)s->len;
	s->xid = raw_xids_next(&rah->xids);
	return raw_read_send(rah->c, s->xid, &ra);
}

/* A connection with every READ in flight sent on it (again, after a
 * failure).  Returns RPC_SUCCESS or why not (the detail in rah->dfs). */
static enum clnt_stat
connect_and_resend(struct readahead *rah)
{
	enum clnt_stat	st = RPC_SUCCESS;
	int		fd, i;

	if (rah->c != NULL)
		return RPC_SUCCESS;
	if ((rah->c = conn_file_take(rah->dfs, &rah->srv)) == NULL)
		return RPC_CANTSEND;
	raw_xids_take(&rah->xids, rah->c);
	if (!clnt_control(rah->c, CLGET_FD, (char *)&fd))
		st = RPC_FAILED;
	else
		raw_in_init(&rah->in, fd);
	for (i = 0; st == RPC_SUCCESS && i < rah->nflight; i++)
		st = send_read(rah, flying(rah, i));
	return st;
}

/* Sends READs until READAHEAD_INFLIGHT are in flight (and a buffer waits for
 * each) or the version is all asked for.  Returns RPC_SUCCESS or the
 * failure. */
static enum clnt_stat
top_up(struct readahead *rah)
{
	struct ra_slot	*s;
	enum clnt_stat	 st;

	if ((st = connect_and_resend(rah)) != RPC_SUCCESS)
		return st;
	while (rah->nflight < READAHEAD_INFLIGHT &&
	    rah->held + rah->nflight < READAHEAD_DEPTH &&
	    rah->ahead < rah->end) {
		s = flying(rah, rah->nflight);
		s->off = rah->ahead;
		s->len = rah->end - rah->ahead < DFS_CHUNK ?
		    (size_t)(rah->end - rah->ahead) : DFS_CHUNK;
		rah->ahead += s->len;
		rah->nflight++;
		if ((st = send_read(rah, s)) != RPC_SUCCESS)
			return st;
	}
	return RPC_SUCCESS;
}

/* Takes the oldest READ's reply into its slot, keeping the pipeline
 * full, again on a new connection after a transport failure.  Returns
 * 0 or a status (kept). */
static int
take_next(struct readahead *rah)
{
	struct ra_slot	*s;
	enum clnt_stat	 st = RPC_FAILED;
	dfs_stat	 status = DFS_OK;
	u_int		 len = 0;
	int		 try;

	rah->detail[0] = '\0';	/* a failure tried around is not this one's */
	for (try = 0; try <= rah->dfs->retries; try++) {
		st = top_up(rah);
		s = flying(rah, 0);
		if (st == RPC_SUCCESS)
			st = raw_read_recv(&rah->in, s->xid,
			    rah->dfs->timeout_ms, s->buf, (u_int)s->len, &len,
			    &status);
		if (st == RPC_SUCCESS)
			break;
		if (rah->c != NULL)
			conn_fail_text(rah->detail, sizeof(rah->detail),
			    rah->srv.host, rah->srv.port, st,
			    st == RPC_TIMEDOUT ? rah->in.waited_ms :
			    rah->dfs->timeout_ms);
		drop(rah);
		/* refused, or a server that let a READ wait (asked on a
		 * new connection already): not tried again */
		if (rpcc_error(st) == -DFS_ERR_PROTO ||
		    rpcc_error(st) == -DFS_ERR_TIMEDOUT)
			return rah->err = rpcc_error(st);
	}
	if (st != RPC_SUCCESS)
		return rah->err = rpcc_error(st);
	if (status != DFS_OK) {
		if (status == DFS_ERR_STALE)
			snprintf(rah->detail, sizeof(rah->detail), "the file "
			    "was replaced while being read");
		return rah->err = -(int)status;
	}
	if (len < s->len) {	/* the version is shorter than it said */
		rah->end = s->off + len;
		if (rah->nflight > 1)
			drop(rah);	/* READs past the end: not wanted */
		rah->nflight = 1;
		rah->ahead = rah->end;
	}
	s->len = len;
	rah->nflight--;
	rah->held = 1;
	/* ORDER: the next READ goes out before the caller takes this one */
	if (top_up(rah) != RPC_SUCCESS)
		drop(rah);	/* take_next() sends them again */
	return 0;
}

/* Returns rah's failure with its detail copied to dfs. */
static int
failed(struct readahead *rah, struct dfs *dfs)
{
	if (rah->detail[0] != '\0')
		conn_detail(dfs, "%s", rah->detail);
	return rah->err;
}

int
readahead_get(struct readahead *rah, struct dfs *dfs, uint64_t off,
    const char **p, size_t *len)
{
	struct ra_slot	*s = &rah->slot[rah->head];
	uint64_t	 next;

	*len = 0;
	if (rah->err != 0)
		return failed(rah, dfs);
	if (rah->held && off >= s->off && off < s->off + s->len) {
		*p = s->buf + (off - s->off);
		*len = s->len - (size_t)(off - s->off);
		return 0;
	}
	if (off >= rah->end)
		return 0;		/* the end, or the version ended early */
	if (rah->held) {			/* done with this chunk */
		rah->held = 0;
		rah->head = (rah->head + 1) % READAHEAD_DEPTH;
	}
	next = rah->nflight > 0 ? flying(rah, 0)->off : rah->ahead;
	if (off != next) {		/* restart at off */
		if (rah->nflight > 0)
			drop(rah);
		rah->nflight = 0;
		rah->ahead = off;
	}
	if (take_next(rah) != 0)
		return failed(rah, dfs);
	s = &rah->slot[rah->head];
	*p = s->buf;
	*len = s->len;
	return 0;
}

/* --- reader_ahead (reader.c) ------------------------------------------- */

static int
ahead_start(const struct reader_src *src, void **state)
{
	struct readahead	*rah;
	int			 rc;

	rc = readahead_start(src->dfs, src->srv, src->fh, src->vers,
	    src->size, &rah);
	if (rc == 0)
		*state = rah;
	return rc;
}

static int
ahead_get(void *state, struct dfs *dfs, uint64_t off, const char **p,
    size_t *len)
{
	return readahead_get(state, dfs, off, p, len);
}

static void
ahead_end(void *state)
{
	readahead_end(state);
}

const struct reader_ops reader_ahead = {
	"ahead", ahead_start, ahead_get, ahead_end
};
