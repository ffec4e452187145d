/*
 * heartbeat.c -- dfs-lockd's registration with the name server, on a
 * thread of its own.
 *
 * The name server calls TEST on the lock server while it serves some
 * requests.  Were REGISTER sent from the RPC loop, a lock server blocked
 * in REGISTER while the name server waits for its TEST would stall both
 * until a timeout.  So the heartbeat has its own thread, with its own
 * connection (a libtirpc CLIENT is used by one thread only), and shares
 * nothing with the loop but the stop flag and auth_until.
 *
 * One lock authority (invariant 8): the name server accepts REGISTERs
 * from one lock server only and refuses others with STANDBY (name
 * server's servers.c).  A lock server grants and renews only until
 * LOCKD_FENCE_MS after sending the last REGISTER that was accepted, so
 * one cut off from the name server stops on its own; every REGISTER
 * tells the name server hold_ms, that time plus the longest lease, which
 * is how long after it a lock this server granted may still be held and
 * so how long another lock server must wait before taking over.  The
 * first REGISTER is sent before the server answers anyone, so a second
 * lock server never serves, not even for a moment; it stands by,
 * answering STANDBY, and tries again, taking over once the name server
 * lets it.  REGISTERs go every heartbeat but at least every
 * HEARTBEAT_EVERY_MS, so several can be lost before the fence.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lockd.h"
#include "log.h"
#include "svcloop.h"

#define HEARTBEAT_TICK_MS	100
#define HEARTBEAT_TIMEOUT_MS	2000
#define HEARTBEAT_EVERY_MS	1000	/* at most, between REGISTERs */
#define HEARTBEAT_RETRY_MS	250	/* after a failed one */
_Static_assert(HEARTBEAT_EVERY_MS + 2 * HEARTBEAT_TIMEOUT_MS < LOCKD_FENCE_MS,
    "a REGISTER that times out does not fence a live authority");

int
heartbeat_authority(struct lock_ctx *ctx, unsigned long long now)
{
	return !ctx->fenced || now < atomic_load(&ctx->auth_until);
}

/* Logs the changes between serving and standing by (rc: the last
 * REGISTER's result). */
static void
heartbeat_log(struct heartbeat *hb, int rc)
{
	int	standby = !heartbeat_authority(hb->ctx, now_ms());

	if (rc == -DFS_ERR_STANDBY && hb->standby != 1)
		log_warnx("another lock server is the authority at the name "
		    "server %s: standing by (answering STANDBY)",
		    hb->named.host);
	else if (standby && hb->standby == 0)
		log_warnx("not confirmed by the name server %s for %u ms: "
		    "standing by (answering STANDBY)", hb->named.host,
		    LOCKD_FENCE_MS);
	else if (standby && hb->standby == -1)
		log_warnx("standing by (answering STANDBY) until the name "
		    "server %s accepts this server", hb->named.host);
	else if (!standby && hb->standby != 0)
		log_info("the name server %s accepts this server as the lock "
		    "authority (server %" PRIu64 "): serving",
		    hb->named.host, hb->reg.id);
	hb->standby = standby;
}

/* Sends a REGISTER now; when accepted, the authority runs until its
 * send time plus LOCKD_FENCE_MS.  Returns registrar_register()'s
 * result. */
static int
heartbeat_once(struct heartbeat *hb)
{
	unsigned long long	sent = now_ms();
	int			rc;

	rc = registrar_register(&hb->reg);
	if (rc == 0)
		atomic_store(&hb->ctx->auth_until, sent + LOCKD_FENCE_MS);
	heartbeat_log(hb, rc);
	return rc;
}

/* Returns the absolute CLOCK_MONOTONIC time `ms` from now. */
static struct timespec
deadline(unsigned int ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Returns when the REGISTER after one sent at `now` is due. */
static unsigned long long
heartbeat_next(const struct heartbeat *hb, int rc, unsigned long long now)
{
	unsigned int	every = hb->reg.interval_ms;

	if (rc != 0)
		return now + HEARTBEAT_RETRY_MS;
	return now + (every < HEARTBEAT_EVERY_MS ? every : HEARTBEAT_EVERY_MS);
}

/* The thread: registers when due, until told to stop.  Returns NULL. */
static void *
heartbeat_main(void *arg)
{
	struct heartbeat	*hb = arg;
	struct timespec		 ts;
	unsigned long long	 now, next = hb->reg.next_ms;
	int			 rc;

	pthread_mutex_lock(&hb->mu);
	while (!hb->stop) {
		pthread_mutex_unlock(&hb->mu);
		now = now_ms();
		if (now >= next) {
			rc = heartbeat_once(hb);
			next = heartbeat_next(hb, rc, now);
		} else
			heartbeat_log(hb, 0);
		ts = deadline(HEARTBEAT_TICK_MS);
		pthread_mutex_lock(&hb->mu);
		while (!hb->stop && pthread_cond_timedwait(&hb->cv, &hb->mu,
		    &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&hb->mu);
	peer_close(&hb->named);
	return NULL;
}

/* Makes the condition variable wait on the monotonic clock.  Returns 0
 * or an errno value. */
static int
cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t	attr;
	int			rc;

	if ((rc = pthread_condattr_init(&attr)) != 0)
		return rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

int
heartbeat_start(struct heartbeat *hb, struct lock_ctx *ctx,
    const char *namespec, const char *statedir, const char *bindaddr,
    unsigned int port, char *err, size_t errlen)
{
	sigset_t	all, old;
	int		rc;

	memset(hb, 0, sizeof(*hb));
	hb->ctx = ctx;
	if (peer_init(&hb->named, namespec, DFS_NAME_PROG, DFS_NAME_VERS,
	    HEARTBEAT_TIMEOUT_MS) != 0) {
		snprintf(err, errlen, "bad name server '%s'", namespec);
		return -1;
	}
	rc = registrar_init(&hb->reg, &hb->named, DFS_SRV_LOCK, statedir,
	    bindaddr, port, NULL, 0);
	if (rc != 0) {
		if (rc == -DFS_ERR_INVAL)
			snprintf(err, errlen, "refusing to advertise a "
			    "loopback address");
		else
			snprintf(err, errlen, "cannot read the server id in "
			    "'%s'", statedir);
		return -1;
	}
	hb->reg.hold_ms = LOCKD_FENCE_MS + (ctx->lim.max_lease_ms != 0 ?
	    ctx->lim.max_lease_ms : LOCKD_MAX_LEASE_MS);
	/* ORDER: before anyone is answered; standing by until accepted */
	ctx->fenced = 1;
	atomic_store(&ctx->auth_until, 0);
	hb->standby = -1;
	rc = heartbeat_once(hb);
	hb->reg.next_ms = heartbeat_next(hb, rc, now_ms());
	if ((rc = pthread_mutex_init(&hb->mu, NULL)) != 0 ||
	    (rc = cond_init(&hb->cv)) != 0) {
		snprintf(err, errlen, "cannot start the heartbeat: %s",
		    strerror(rc));
		return -1;
	}
	/* ORDER: signals go to the loop's thread (the self-pipe) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&hb->thread, NULL, heartbeat_main, hb);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the heartbeat: %s",
		    strerror(rc));
		return -1;
	}
	hb->running = 1;
	return 0;
}

void
heartbeat_stop(struct heartbeat *hb)
{
	if (!hb->running)
		return;
	pthread_mutex_lock(&hb->mu);
	hb->stop = 1;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
	pthread_join(hb->thread, NULL);
	pthread_cond_destroy(&hb->cv);
	pthread_mutex_destroy(&hb->mu);
	hb->running = 0;
}
