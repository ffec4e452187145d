/*
 * cp_pool.c -- the workers that copy a tree's files for dfs-cp.
 *
 * A tree (-r) with a dfs end is copied by -j workers (default 8), each
 * with its own connection: the directories are made in order by the
 * main thread, the files of each directory are handed to the workers,
 * so that many small files cost round trips and server fsyncs side by
 * side instead of one after the other (the name server commits
 * concurrent changes with one fsync).  A worker takes up to LOCK_BATCH
 * files at once and copies them as a batch (cp_batch.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"

#define QUEUE_LEN	256		/* files waiting for workers: a full
					 * batch each for up to 16 */

/* Workers copying the files of a tree; each has its own cp (and dfs
 * connection).  Jobs wait in a ring of QUEUE_LEN. */
struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	 q[QUEUE_LEN];
	int		 head, n;	/* queued: q[head], ... n of them */
	int		 running;	/* taken, not finished */
	int		 flush;		/* the producer waits: take what
					 * there is */
	int		 done;		/* no more jobs will come */
	int		 nthr;
	pthread_t	 thr[MAXJOBS];
	struct cp	 w[MAXJOBS];
};

static void
job_copy(struct job *to, const struct job *from)
{
	ep_copy(&to->src, &from->src);
	ep_copy(&to->dst, &from->dst);
	to->sm = from->sm;
}

/*
 * Is there a batch for a worker?  A full one (LOCK_BATCH jobs), or, once
 * the producer added all it had (it waits, or is done), whatever is
 * left: a batch costs about the same round trips and syncs whatever its
 * size, so taking jobs as they trickle in would cost one each.
 */
static int
pool_ready(const struct pool *p)
{
	return p->n >= LOCK_BATCH || (p->n > 0 && (p->flush || p->done));
}

/* Takes a worker's share of the queue (called locked, pool_ready()):
 * a full batch while the producer adds more, else an even share of what
 * is left among the workers.  Returns how many. */
static int
pool_take(struct pool *p, struct job *batch)
{
	int	k, i;

	k = LOCK_BATCH;
	if (p->flush || p->done)
		k = (p->n + p->nthr - 1) / p->nthr;
	k = k > LOCK_BATCH ? LOCK_BATCH : k > p->n ? p->n : k;
	for (i = 0; i < k; i++) {
		job_copy(&batch[i], &p->q[p->head]);
		p->head = (p->head + 1) % QUEUE_LEN;
		p->n--;
	}
	p->running++;
	pthread_cond_broadcast(&p->cv);
	return k;
}

static void *
worker(void *arg)
{
	struct cp	*w = arg;
	struct pool	*p = w->pool;
	int		 n;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!pool_ready(p) && !(p->n == 0 && p->done))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0)
			break;
		n = pool_take(p, w->batch);
		pthread_mutex_unlock(&p->mu);
		batch_copy(w, w->batch, n);
		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts cp->jobs workers, each connected on its own.  Without them
 * (fewer than 2 jobs, or no memory) files are copied in line. */
void
pool_start(struct cp *cp)
{
	struct pool	*p;
	struct cp	*w;
	int		 i;

	if (cp->jobs < 2 || (p = calloc(1, sizeof(*p))) == NULL)
		return;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < cp->jobs; i++) {
		w = &p->w[i];
		*w = *cp;
		w->pool = p;
		w->quiet = 1;
		w->t.status = 0;
		w->t.cache_warned = 1;	/* the main thread warns */
		w->buf = malloc(TOOL_CHUNK);
		w->batch = calloc(LOCK_BATCH, sizeof(*w->batch));
		if (w->buf == NULL || w->batch == NULL) {
			free(w->buf);
			free(w->batch);
			break;
		}
		tool_connect(&w->t);
		if (pthread_create(&p->thr[i], NULL, worker, w) != 0) {
			dfs_disconnect(w->t.dfs);
			free(w->buf);
			free(w->batch);
			break;
		}
		p->nthr++;
	}
	if (p->nthr > 0)
		cp->pool = p;
	else
		free(p);
}

/* Queues a file for the workers, waiting while the queue is full. */
void
pool_add(struct pool *p, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct job	*j;

	pthread_mutex_lock(&p->mu);
	while (p->n == QUEUE_LEN)
		pthread_cond_wait(&p->cv, &p->mu);
	j = &p->q[(p->head + p->n) % QUEUE_LEN];
	ep_copy(&j->src, src);
	ep_copy(&j->dst, dst);
	j->sm = *sm;
	p->n++;
	p->flush = 0;
	if (p->n >= LOCK_BATCH)
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Waits until every queued file is copied. */
void
pool_wait(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->flush = 1;
	pthread_cond_broadcast(&p->cv);
	while (p->n > 0 || p->running > 0)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Lets the workers finish, stops them and folds their exit status into
 * cp's. */
void
pool_end(struct cp *cp)
{
	struct pool	*p = cp->pool;
	int		 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthr; i++) {
		pthread_join(p->thr[i], NULL);
		if (p->w[i].t.status != 0)
			cp->t.status = 1;
		dfs_disconnect(p->w[i].t.dfs);
		free(p->w[i].buf);
		free(p->w[i].batch);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	cp->pool = NULL;
}
