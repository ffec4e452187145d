/*
 * worker.c -- dfs-filed's children: a worker, which serves the requests
 * of a connection the supervisor lends it, and the registrar (super.h).
 *
 * A worker serves a request in blocking mode, because libtirpc 1.3.3's
 * non-blocking record reader takes the first fragment of every record
 * for the whole record (last_frag starts TRUE and is never reset), which
 * breaks any request larger than one fragment, i.e. every large WRITE.
 */
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "super.h"
#include "svcx.h"

/* libtirpc's record buffers, each way, made at every lend: it callocs
 * them, so their size is memset per request served; a WRITE streams
 * through them in pieces, so they need not hold one (docs/BENCHMARKS.md,
 * "Observations moved out of the code") */
#define FILED_RECBUF		(256 * 1024)
#define FILED_LINGER_MS		1	/* a worker waits for the next request */

void
super_mask_signals(int how)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(how, &set, NULL);
}

/*
 * What every child of the supervisor does first: a self-pipe of its
 * own, ends with the supervisor, and lets go of everything of the
 * supervisor's it inherited (the listening socket, the connections, the
 * other workers' socket pairs), so that a connection the supervisor
 * closes is closed.  `keep`: the one socket pair end to keep, or -1.
 */
static void
child_init(struct super *s, int keep)
{
	int	i;

	svcloop_sigreinit();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	super_mask_signals(SIG_UNBLOCK);
	if (getppid() != s->self)
		exit(0);
	/* the listening socket is the supervisor's */
	SVC_DESTROY(s->d.xprt);
	close(s->epfd);
	for (i = 0; i < s->cs.max; i++)
		if (s->cs.c[i].fd != -1)
			close(s->cs.c[i].fd);
	for (i = 0; i < s->nworkers; i++)
		if (s->w[i].pid > 0 && s->w[i].chan != -1 &&
		    s->w[i].chan != keep)
			close(s->w[i].chan);
}

/* --- a worker ---------------------------------------------------------- */

/* Ends a worker. */
static void __attribute__((noreturn))
worker_exit(struct super *s)
{
	close(s->chan);
	filed_ctx_release(&s->fc);
	exit(0);
}

/* Waits for the supervisor to lend a connection.  Returns its
 * descriptor and *serial; ends the worker on SIGTERM or SIGINT, and when
 * the supervisor is gone. */
static int
worker_take(struct super *s, uint64_t *serial)
{
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} u;
	struct pollfd	 pfd[2];
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov = { serial, sizeof(*serial) };
	int		 fd;

	for (;;) {
		pfd[0].fd = s->chan;
		pfd[1].fd = svcloop_sigfd();
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1)
			continue;
		if (pfd[1].revents != 0 && svcloop_signal() != 0)
			worker_exit(s);
		if (pfd[0].revents == 0)
			continue;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		if (recvmsg(s->chan, &msg, MSG_CMSG_CLOEXEC) <= 0)
			worker_exit(s);
		cm = CMSG_FIRSTHDR(&msg);
		if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		return fd;
	}
}

/* Does the connection have a request (or its end) to read within `ms`
 * milliseconds, and no signal come meanwhile?  Returns 1 or 0. */
static int
readable(int fd, int ms)
{
	struct pollfd	pfd[2];

	pfd[0].fd = fd;
	pfd[1].fd = svcloop_sigfd();
	pfd[0].events = pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	while (poll(pfd, 2, ms) == -1)
		if (errno != EINTR)
			return 0;
	return pfd[1].revents == 0 && pfd[0].revents != 0;
}

/*
 * Is the next request on connection fd ready to serve (conns_ready())
 * within FILED_LINGER_MS, with no signal meanwhile?  One that has begun
 * but is not ready goes back to the supervisor, which waits for the
 * rest without a worker.  Returns 1 (serve it), 0 (give the connection
 * back) or -1 (the client hung up).
 */
static int
next_ready(int fd)
{
	if (!readable(fd, FILED_LINGER_MS))
		return 0;
	return conns_ready(fd, NULL);
}

/*
 * Serves the requests waiting on connection fd, blocking, under the
 * request deadline, and lets go of it once none is ready.  The first
 * was when the supervisor lent it; tested again right before the read,
 * since the start of a further request may have come meanwhile, and the
 * read would take it along.  Returns 1 when the connection lives on
 * (the supervisor holds it), 0 when it is gone (the client hung up, or
 * a read or write failed).
 */
static int
worker_serve(struct super *s, int fd)
{
	SVCXPRT		*xprt;
	uint64_t	 id;
	int		 rc;

	/* ORDER: attached to svcx before the first request, so that its
	 * reply may come from a file (sendread.c) and svcx can tell when
	 * libtirpc destroyed the transport */
	xprt = svc_fd_create(fd, FILED_RECBUF, FILED_RECBUF);
	if (xprt == NULL || svcx_vc_attach(xprt) != 0) {
		log_warnx("cannot serve connection");
		if (xprt != NULL)
			SVC_DESTROY(xprt);	/* closes fd */
		else
			close(fd);
		return 0;
	}
	id = svcx_conn_id(xprt);
	for (rc = conns_ready(fd, NULL);; rc = next_ready(fd)) {
		if (rc != 1) {
			/* closes our duplicate only */
			SVC_DESTROY(xprt);
			return rc == 0;
		}
		filed_deadline(&s->fc, 1);
		svc_getreq_common(fd);
		filed_deadline(&s->fc, 0);
		if (!svcx_conn_open(id))
			return 0;	/* libtirpc destroyed the transport */
	}
}

/* Tells the supervisor that the connection is back (keep) or gone. */
static void
worker_give(struct super *s, uint64_t serial, int keep)
{
	struct giveback	gb;

	memset(&gb, 0, sizeof(gb));
	gb.serial = serial;
	gb.keep = keep;
	if (send(s->chan, &gb, sizeof(gb), MSG_NOSIGNAL) != sizeof(gb))
		worker_exit(s);
}

/* A worker's life: a request at a time, until a signal or until the
 * supervisor is gone.  Never returns. */
void
worker_main(struct super *s, int slot, int chan)
{
	uint64_t	serial;
	int		fd, keep;

	child_init(s, chan);
	/* the record buffers svc_fd_create() makes at every lend are then
	 * reused from the heap, already in memory, not mmap(2)ed anew */
	(void)mallopt(M_MMAP_THRESHOLD, 4 * FILED_RECBUF);
	(void)mallopt(M_TRIM_THRESHOLD, 8 * FILED_RECBUF);
	s->chan = chan;
	s->fc.deadline = &s->deadlines[slot];
	s->fc.request_ms = s->d.request_s * 1000U;
	(void)namecall_connect(&s->fc);	/* no answer now: a COMMIT retries */
	for (;;) {
		fd = worker_take(s, &serial);
		s->fc.conn = serial;
		keep = worker_serve(s, fd);
		s->fc.conn = 0;
		worker_give(s, serial, keep);
	}
}


void
registrar_main(struct super *s)
{
	unsigned long long	next_gc = now_ms() + s->gc_age * 1000ULL;
	struct pollfd		pfd;

	child_init(s, -1);
	(void)prctl(PR_SET_NAME, "dfs-filed-reg");
	for (;;) {
		pfd.fd = svcloop_sigfd();
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, SUPER_TICK_MS) > 0 && svcloop_signal() != 0)
			break;
		(void)registrar_tick(&s->reg);
		if (now_ms() >= next_gc) {
			(void)store_gc_stages(&s->fc, s->gc_age);
			next_gc = now_ms() + s->gc_age * 1000ULL;
		}
	}
	peer_close(&s->regpeer);
	filed_ctx_release(&s->fc);
	exit(0);
}
