/*
 * parallel.c -- one file's chunks moved on several connections at once.
 *
 * The file server serves each connection in a process of its own, one
 * request at a time, so the way to have several requests served at once
 * (and several cores busy) is several connections; readahead.c sends the
 * next READ ahead on one, which on few cores costs less.  A transfer owns `n`
 * threads, each with its own connection to the file server, and a ring
 * of 2n chunk buffers (slots):
 *
 *  - writing: the caller fills the slot at the ring's head (parallel_wbuf)
 *    and queues it (parallel_wqueue); a thread sends it as one WRITE to the
 *    stage, straight from the slot (raw_write_call), and frees the slot.
 *    Chunks land in any order: each names its offset, and a stage is a
 *    plain file.
 *  - reading: threads claim free slots in ring order and READ the next
 *    chunk of the version straight into them (no staging copy: the
 *    reply's data is read from the socket into the slot, rawrpc.c); the
 *    caller takes slots in ring
 *    order (parallel_rget), so it sees the bytes in file order.  Asking for
 *    an offset the read-ahead did not expect restarts it there.
 *
 * READ and WRITE of a given offset are idempotent, so a chunk whose
 * connection failed is sent again on a new one, `retries` times.  The
 * first failure that remains stops the transfer; every later call
 * returns it.  Memory: 2n chunks and each connection's XDR buffers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "retry.h"

/* socket buffers: a whole chunk (READs and WRITEs go through rawrpc.c,
 * not the CLIENT's record buffers), or a READ's reply waits for the
 * window to open (docs/BENCHMARKS.md) */
#define PARALLEL_BUFSZ	(DFS_CHUNK + 65536)

enum slot_state {
	S_FREE,		/* the caller may fill it (write) / a thread claims it */
	S_QUEUED,	/* write: filled, waiting for a thread */
	S_BUSY,		/* a thread is moving it */
	S_DONE		/* read: holds its chunk, the caller's to take */
};

struct slot {
	enum slot_state	 state;
	char		*buf;
	uint64_t	 off;
	size_t		 len;
	uint64_t	 gen;	/* read: the read-ahead run it belongs to */
};

struct parallel {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* any slot or flag changed */
	int		 op;		/* FOP_READ or FOP_WRITE */
	dfs_fh		 fh;		/* copy, ours */
	uint64_t	 id;		/* read: version; write: stage */
	uint64_t	 size;		/* read: bytes in the version */
	char		 host[DFS_MAXHOSTLEN + 1];
	unsigned int	 port, timeout_ms;
	int		 retries;
	int		 nthr, nslot;
	pthread_t	 thr[PARALLEL_MAXSTREAMS];
	struct slot	 slot[2 * PARALLEL_MAXSTREAMS];
	char		*bufs;		/* the slots' buffers, in one */
	int		 head;		/* write: next to fill; read: next to take */
	int		 next;		/* next to send (write) / claim (read) */
	int		 held;		/* read: the caller holds slot[head] */
	uint64_t	 ahead;		/* read: offset of the next claim */
	uint64_t	 gen;
	int		 pause;		/* read: restarting, claim nothing */
	int		 busy;		/* slots in S_BUSY */
	int		 stop;
	int		 err;		/* first failure, negative status */
	char		 detail[256];
};

/* Records the first failure.  Called with mu held. */
static void
fail(struct parallel *x, int rc, const char *detail)
{
	if (x->err == 0) {
		x->err = rc;
		snprintf(x->detail, sizeof(x->detail), "%s", detail);
	}
	pthread_cond_broadcast(&x->cv);
}

/* One READ or WRITE of slot s on c (xids: c's, taken over).  Returns
 * the clnt_stat; *rc is the op's status (0 or negative), *waited_ms how
 * long a call that timed out waited (raw_read_call()). */
static enum clnt_stat
move(struct parallel *x, CLIENT *c, struct raw_xids *xids, struct slot *s,
    int *rc, unsigned int *waited_ms)
{
	read_args		 ra;
	write_args		 wa;
	dfs_stat		 status;
	u_int			 len;
	enum clnt_stat		 st;

	if (x->op == FOP_READ) {
		ra.fh = x->fh;
		ra.vers = x->id;
		ra.offset = s->off;
		ra.count = (u_int)s->len;
		st = raw_read_call(c, raw_xids_next(xids), &ra,
		    x->timeout_ms, s->buf, &len, &status, waited_ms);
		*rc = -(int)status;
		if (st == RPC_SUCCESS && status == DFS_OK)
			s->len = len;
		return st;
	}
	wa.fh = x->fh;
	wa.stage = x->id;
	wa.offset = s->off;
	wa.data.data_val = s->buf;
	wa.data.data_len = (u_int)s->len;
	st = raw_write_call(c, raw_xids_next(xids), &wa, x->timeout_ms, &len,
	    &status, waited_ms);
	*rc = -(int)status;
	if (st == RPC_SUCCESS && status == DFS_OK && len != wa.data.data_len)
		*rc = -DFS_ERR_IO;	/* a short write: never from dfs-filed */
	return st;
}

/* One move_retry(): what the shared retry loop (lib/retry.c) calls. */
struct move_call {
	struct parallel	*x;
	CLIENT		**c;
	struct raw_xids	*xids;		/* *c's */
	struct slot	*s;
	int		 rc;		/* the op's status */
	unsigned int	 waited_ms;	/* a call that timed out */
	char		*detail;
	size_t		 dlen;
};

/* A new connection of the thread's own, probed (conn_file_open()). */
static int
move_connect(void *arg)
{
	struct move_call	*m = arg;
	int			 rc;

	*m->c = conn_file_open(m->x->host, m->x->port, m->x->timeout_ms,
	    PARALLEL_BUFSZ, m->detail, m->dlen, &rc);
	/* ORDER: after the probe, its calls are all raw */
	if (*m->c != NULL)
		raw_xids_take(m->xids, *m->c);
	return rc;
}

static enum clnt_stat
move_send(void *arg, CLIENT *c, void *res)
{
	struct move_call	*m = arg;

	(void)res;
	return move(m->x, c, m->xids, m->s, &m->rc, &m->waited_ms);
}

static void
move_failed(void *arg, CLIENT *c, enum clnt_stat st)
{
	struct move_call	*m = arg;

	(void)c;
	conn_fail_text(m->detail, m->dlen, m->x->host, m->x->port, st,
	    st == RPC_TIMEDOUT ? m->waited_ms : m->x->timeout_ms);
}

/* Moves slot s, reconnecting and retrying after transport failures
 * (`retries` times).  Returns 0 or a negative status (detail filled). */
static int
move_retry(struct parallel *x, CLIENT **c, struct raw_xids *xids,
    struct slot *s, char *detail, size_t dlen)
{
	struct move_call	m = { x, c, xids, s, 0, 0, detail, dlen };
	struct retry		rt = {
		.cp = c,
		.tries = 1 + x->retries,
		.connect = move_connect,
		.send = move_send,
		.failed = move_failed,
		.arg = &m,
		.busy = 1,
	};
	int			rc;

	if ((rc = retry_call(&rt)) != 0)
		return rc;
	if (m.rc == -DFS_ERR_STALE)
		snprintf(detail, dlen,
		    "the file was replaced while being read");
	return m.rc;
}

/* The slot a thread should move next, marked busy, or NULL to wait.
 * Called with mu held. */
static struct slot *
claim(struct parallel *x)
{
	struct slot	*s = &x->slot[x->next];

	if (x->op == FOP_WRITE) {
		if (s->state != S_QUEUED)
			return NULL;
	} else {
		if (x->pause || s->state != S_FREE || x->ahead >= x->size ||
		    (x->held && x->next == x->head))
			return NULL;
		s->off = x->ahead;
		s->len = x->size - x->ahead < DFS_CHUNK ?
		    (size_t)(x->size - x->ahead) : DFS_CHUNK;
		s->gen = x->gen;
		x->ahead += s->len;
	}
	s->state = S_BUSY;
	x->busy++;
	x->next = (x->next + 1) % x->nslot;
	return s;
}

static void *
worker(void *arg)
{
	struct parallel	*x = arg;
	struct slot	*s;
	CLIENT		*c = NULL;
	struct raw_xids	 xids = { 0 };
	char		 detail[256];
	uint64_t	 gen;
	int		 rc;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (!x->stop && x->err == 0 && (s = claim(x)) == NULL)
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->stop || x->err != 0)
			break;
		gen = s->gen;
		pthread_mutex_unlock(&x->mu);
		detail[0] = '\0';
		rc = move_retry(x, &c, &xids, s, detail, sizeof(detail));
		pthread_mutex_lock(&x->mu);
		x->busy--;
		if (rc != 0 && (x->op == FOP_WRITE || gen == x->gen))
			fail(x, rc, detail);
		if (x->op == FOP_WRITE)
			s->state = S_FREE;
		else
			s->state = gen == x->gen ? S_DONE : S_FREE;
		pthread_cond_broadcast(&x->cv);
	}
	pthread_mutex_unlock(&x->mu);
	if (c != NULL)
		clnt_destroy(c);
	return NULL;
}

int
parallel_read_streams(const struct dfs *dfs, uint64_t size)
{
	uint64_t	n;

	if (dfs->streams < 2 || size <= dfs->stream_span)
		return 0;
	n = (size - 1) / dfs->stream_span + 1;
	return n < (uint64_t)dfs->streams ? (int)n : dfs->streams;
}

int
parallel_start(struct dfs *dfs, const dfs_server *srv, const dfs_fh *fh,
    int op, uint64_t id, uint64_t size, struct parallel **xp)
{
	struct parallel	*x;
	int		 i, n = dfs->streams;

	if (n > PARALLEL_MAXSTREAMS)
		n = PARALLEL_MAXSTREAMS;
	if (op == FOP_READ && (n = parallel_read_streams(dfs, size)) == 0)
		n = 1;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -DFS_ERR_NOMEM;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	x->op = op;
	x->id = id;
	x->size = size;
	snprintf(x->host, sizeof(x->host), "%s", srv->host);
	x->port = srv->port;
	x->timeout_ms = dfs->timeout_ms;
	x->retries = dfs->retries;
	x->nslot = 2 * n;
	fh_copy(&x->fh, fh);
	x->bufs = chunks_alloc((size_t)x->nslot, DFS_CHUNK);
	for (i = 0; x->bufs != NULL && i < x->nslot; i++)
		x->slot[i].buf = x->bufs + (size_t)i * DFS_CHUNK;
	if (x->fh.dfs_fh_val == NULL || i < x->nslot) {
		parallel_end(x);
		return -DFS_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&x->thr[i], NULL, worker, x) != 0)
			break;
		x->nthr++;
	}
	if (x->nthr == 0) {
		parallel_end(x);
		return -DFS_ERR_NOMEM;
	}
	*xp = x;
	return 0;
}

void
parallel_end(struct parallel *x)
{
	int	i;

	if (x == NULL)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = 1;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	for (i = 0; i < x->nthr; i++)
		pthread_join(x->thr[i], NULL);
	chunks_free(x->bufs, (size_t)x->nslot, DFS_CHUNK);
	free(x->fh.dfs_fh_val);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
	free(x);
}

/* Returns x's failure with its detail copied to dfs.  mu held. */
static int
failed(struct parallel *x, struct dfs *dfs)
{
	if (x->detail[0] != '\0')
		conn_detail(dfs, "%s", x->detail);
	return x->err;
}

int
parallel_wbuf(struct parallel *x, struct dfs *dfs, char **buf)
{
	struct slot	*s = &x->slot[x->head];
	int		 rc = 0;

	pthread_mutex_lock(&x->mu);
	while (x->err == 0 && s->state != S_FREE)
		pthread_cond_wait(&x->cv, &x->mu);
	if (x->err != 0)
		rc = failed(x, dfs);
	else
		*buf = s->buf;
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void
parallel_wqueue(struct parallel *x, size_t len, uint64_t off)
{
	struct slot	*s = &x->slot[x->head];

	pthread_mutex_lock(&x->mu);
	s->off = off;
	s->len = len;
	s->state = S_QUEUED;
	x->head = (x->head + 1) % x->nslot;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

int
parallel_drain(struct parallel *x, struct dfs *dfs)
{
	int	i, pending, rc = 0;

	pthread_mutex_lock(&x->mu);
	do {
		for (pending = 0, i = 0; i < x->nslot; i++)
			pending += x->slot[i].state == S_QUEUED ||
			    x->slot[i].state == S_BUSY;
		if (pending > 0 && x->err == 0)
			pthread_cond_wait(&x->cv, &x->mu);
	} while (pending > 0 && x->err == 0);
	if (x->err != 0)
		rc = failed(x, dfs);
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* Drops the read-ahead and starts it again at off.  mu held. */
static void
restart(struct parallel *x, uint64_t off)
{
	int	i;

	x->gen++;		/* chunks in flight: their failures do not count */
	x->pause = 1;		/* and no new claims */
	while (x->busy > 0)
		pthread_cond_wait(&x->cv, &x->mu);
	for (i = 0; i < x->nslot; i++)
		x->slot[i].state = S_FREE;
	x->pause = 0;
	x->head = x->next = 0;
	x->held = 0;
	x->ahead = off;
	pthread_cond_broadcast(&x->cv);
}

int
parallel_rget(struct parallel *x, struct dfs *dfs, uint64_t off, const char **p,
    size_t *len)
{
	struct slot	*s;
	int		 rc = 0;

	pthread_mutex_lock(&x->mu);
	s = &x->slot[x->head];
	if (x->held && (off < s->off || off >= s->off + s->len)) {
		/* done with this chunk */
		s->state = S_FREE;
		x->held = 0;
		x->head = (x->head + 1) % x->nslot;
		s = &x->slot[x->head];
		pthread_cond_broadcast(&x->cv);
	}
	if (!x->held) {
		/* the next chunk in ring order, if it is the one wanted */
		if (!(s->state != S_FREE && s->gen == x->gen && s->off == off)
		    && !(s->state == S_FREE && x->next == x->head &&
		    x->ahead == off))
			restart(x, off);
		s = &x->slot[x->head];
		while (x->err == 0 && s->state != S_DONE)
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->err == 0)
			x->held = 1;
	}
	if (x->err != 0)
		rc = failed(x, dfs);
	else if (off >= s->off + s->len) {
		*len = 0;		/* the version ended early */
	} else {
		*p = s->buf + (off - s->off);
		*len = s->len - (size_t)(off - s->off);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* --- reader_parallel (reader.c) ---------------------------------------- */

static int
par_start(const struct reader_src *src, void **state)
{
	struct parallel	*x;
	int		 rc;

	rc = parallel_start(src->dfs, src->srv, src->fh, FOP_READ,
	    src->vers, src->size, &x);
	if (rc == 0)
		*state = x;
	return rc;
}

static int
par_get(void *state, struct dfs *dfs, uint64_t off, const char **p,
    size_t *len)
{
	return parallel_rget(state, dfs, off, p, len);
}

static void
par_end(void *state)
{
	parallel_end(state);
}

const struct reader_ops reader_parallel = {
	"parallel", par_start, par_get, par_end
};
