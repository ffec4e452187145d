/*
 * heartbeat.c -- dfs-lockd's registration with the name server, on a
 * thread of its own.
 *
 * The name server calls TEST on the lock server while it serves some
 * requests.  Were REGISTER sent from the RPC loop, a lock server blocked
 * in REGISTER while the name server waits for its TEST would stall both
 * until a timeout.  So the heartbeat has its own thread, with its own
 * connection (a libtirpc CLIENT is used by one thread only), and shares
 * nothing with the loop but the stop flag.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lockd.h"
#include "log.h"

#define HEARTBEAT_TICK_MS	200
#define HEARTBEAT_TIMEOUT_MS	2000

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

/* The thread: registers when due, until told to stop.  Returns NULL. */
static void *
heartbeat_main(void *arg)
{
	struct heartbeat	*hb = arg;
	struct timespec		 ts;

	pthread_mutex_lock(&hb->mu);
	while (!hb->stop) {
		pthread_mutex_unlock(&hb->mu);
		(void)registrar_tick(&hb->reg);
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
heartbeat_start(struct heartbeat *hb, const char *namespec,
    const char *statedir, const char *bindaddr, unsigned int port,
    char *err, size_t errlen)
{
	sigset_t	all, old;
	int		rc;

	memset(hb, 0, sizeof(*hb));
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
