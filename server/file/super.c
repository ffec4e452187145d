/*
 * super.c -- dfs-filed's supervisor: the connections' epoll loop, and
 * the pool of workers it lends them to (super.h).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "super.h"

void
super_spawn_registrar(struct super *s)
{
	super_mask_signals(SIG_BLOCK);
	s->regpid = fork();
	if (s->regpid == 0)
		registrar_main(s);
	super_mask_signals(SIG_UNBLOCK);
	if (s->regpid == -1) {
		log_warn("cannot fork the registrar");
		s->regpid = 0;
	}
	/* ORDER: after the fork; workers must not share its connection */
	peer_close(&s->regpeer);
}

/* --- the supervisor: workers ------------------------------------------- */

int
super_spawn_worker(struct super *s)
{
	struct epoll_event	ev;
	int			i, sv[2];
	pid_t			pid;

	for (i = 0; i < s->nworkers && s->w[i].pid > 0; i++)
		;
	if (i == s->nworkers)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("cannot make a worker's socket pair");
		return -1;
	}
	super_mask_signals(SIG_BLOCK);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		worker_main(s, i, sv[1]);
	}
	super_mask_signals(SIG_UNBLOCK);
	close(sv[1]);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = EV_DATA(EV_WORKER, i);
	if (pid == -1 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, sv[0], &ev) == -1) {
		log_warn("cannot start a worker");
		if (pid > 0)
			kill(pid, SIGKILL);	/* reaped as a stranger */
		close(sv[0]);
		return -1;
	}
	memset(&s->w[i], 0, sizeof(s->w[i]));
	s->w[i].pid = pid;
	s->w[i].chan = sv[0];
	s->w[i].conn = -1;
	__atomic_store_n(&s->deadlines[i], 0, __ATOMIC_RELAXED);
	s->nlive++;
	return i;
}

/* Worker i's socket pair ended (it died): the connection lent to it is
 * closed (its stages swept); the slot is freed when it is reaped. */
static void
worker_lost(struct super *s, int i)
{
	struct worker	*w = &s->w[i];

	if (w->chan == -1)
		return;
	close(w->chan);
	w->chan = -1;
	if (w->conn != -1)
		conns_close(&s->cs, w->conn);
	w->conn = -1;
}

/* Reads what worker i says: connections given back. */
static void
worker_msg(struct super *s, int i)
{
	struct worker	*w = &s->w[i];
	struct giveback	 gb;
	ssize_t		 n;

	while (w->chan != -1) {
		n = recv(w->chan, &gb, sizeof(gb), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != sizeof(gb) || w->conn == -1 ||
		    s->cs.c[w->conn].serial != gb.serial) {
			worker_lost(s, i);
			return;
		}
		__atomic_store_n(&s->deadlines[i], 0, __ATOMIC_RELAXED);
		conns_back(&s->cs, w->conn, gb.keep && !w->cut);
		w->conn = -1;
	}
}

/* Lends entry ci to worker i.  Returns 0, or -1 (the worker is lost,
 * the connection closed). */
static int
lend(struct super *s, int i, int ci)
{
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} u;
	struct worker	*w = &s->w[i];
	uint64_t	 serial = s->cs.c[ci].serial;
	struct iovec	 iov = { &serial, sizeof(serial) };
	struct msghdr	 msg;
	struct cmsghdr	*cm;

	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s->cs.c[ci].fd, sizeof(int));
	/* ORDER: the deadline runs from the lend, before the worker wakes */
	__atomic_store_n(&s->deadlines[i], now_ms() + s->d.request_s * 1000ULL,
	    __ATOMIC_RELAXED);
	w->conn = ci;
	w->cut = 0;
	s->cs.c[ci].worker = i;
	if (sendmsg(w->chan, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(serial))
		return 0;
	log_warn("cannot hand a connection to worker %ld", (long)w->pid);
	worker_lost(s, i);
	return -1;
}

/* An idle worker's slot (forking one within -w if none).  Returns it or
 * -1. */
static int
idle_worker(struct super *s)
{
	int	i;

	for (i = 0; i < s->nworkers; i++)
		if (s->w[i].pid > 0 && s->w[i].chan != -1 &&
		    s->w[i].conn == -1 && !s->w[i].retiring)
			return i;
	return super_spawn_worker(s);
}

/* Lends queued connections to idle workers while both last. */
static void
dispatch(struct super *s)
{
	int	i, ci;

	while (s->cs.qlen > 0 && (i = idle_worker(s)) != -1 &&
	    (ci = conns_next(&s->cs)) != -1)
		(void)lend(s, i, ci);
}

/* How many workers wait for a connection. */
static int
count_idle(const struct super *s)
{
	int	i, n = 0;

	for (i = 0; i < s->nworkers; i++)
		n += s->w[i].pid > 0 && s->w[i].chan != -1 &&
		    s->w[i].conn == -1 && !s->w[i].retiring;
	return n;
}

/* Keeps FILED_MIN_SPARE to FILED_MAX_SPARE workers waiting: forks one
 * or retires one (SIGTERM: an idle worker exits at once). */
static void
spares(struct super *s)
{
	int	i, idle = count_idle(s);

	if (idle < FILED_MIN_SPARE && s->nlive < s->nworkers)
		(void)super_spawn_worker(s);
	if (idle <= FILED_MAX_SPARE)
		return;
	for (i = 0; i < s->nworkers; i++)
		if (s->w[i].pid > 0 && s->w[i].chan != -1 &&
		    s->w[i].conn == -1 && !s->w[i].retiring) {
			s->w[i].retiring = 1;
			kill(s->w[i].pid, SIGTERM);
			return;
		}
}

/* Collects finished children, frees their slots, restarts the
 * registrar. */
static void
reap(struct super *s)
{
	pid_t	pid;
	int	st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
			log_warnx("process %ld killed by signal %d",
			    (long)pid, WTERMSIG(st));
		if (pid == s->regpid) {
			s->regpid = 0;
			super_spawn_registrar(s);
			continue;
		}
		for (i = 0; i < s->nworkers; i++) {
			if (s->w[i].pid != pid)
				continue;
			worker_lost(s, i);
			s->w[i].pid = 0;
			s->nlive--;
		}
	}
}

/* Shuts down the connections whose request passed its deadline (-r):
 * their workers' blocking reads and writes fail, and they give them
 * back to be closed. */
static void
cut_slow(struct super *s, unsigned long long now)
{
	struct worker		*w;
	unsigned long long	 dl;
	int			 i;

	for (i = 0; i < s->nworkers; i++) {
		w = &s->w[i];
		if (w->pid <= 0 || w->conn == -1 || w->cut)
			continue;
		dl = __atomic_load_n(&s->deadlines[i], __ATOMIC_RELAXED);
		if (dl == 0 || now < dl)
			continue;
		log_info("closing a connection: no whole request or reply "
		    "in %u s", s->d.request_s);
		(void)shutdown(s->cs.c[w->conn].fd, SHUT_RDWR);
		w->cut = 1;
	}
}

/* --- the supervisor: its loop ------------------------------------------ */

/* Handles one event.  Returns 1 on SIGTERM or SIGINT, else 0. */
static int
handle(struct super *s, const struct epoll_event *ev)
{
	int	i = (int)(uint32_t)ev->data.u64;

	switch (ev->data.u64 >> 32) {
	case EV_LISTEN:
		(void)conns_accept(&s->cs, s->d.listenfd);
		break;
	case EV_SIGNAL:
		return svcloop_signal() != 0;
	case EV_WORKER:
		worker_msg(s, i);
		break;
	case EV_CONN:
		/* not if it was closed and reused since the wait began */
		if (s->cs.c[i].fd != -1 && s->cs.c[i].worker == -1 &&
		    !s->cs.c[i].queued)
			conns_event(&s->cs, i, ev->events, now_ms());
		break;
	}
	return 0;
}

void
super_run(struct super *s)
{
	struct epoll_event	 ev[64];
	unsigned long long	 now, next = 0;
	int			 n, i;

	for (;;) {
		n = epoll_wait(s->epfd, ev, 64, SUPER_TICK_MS);
		for (i = 0; i < n; i++)
			if (handle(s, &ev[i]) != 0)
				return;
		dispatch(s);
		if ((now = now_ms()) < next)
			continue;
		next = now + SUPER_TICK_MS;
		reap(s);
		(void)conns_expire(&s->cs, now);
		cut_slow(s, now);
		spares(s);
		dispatch(s);
	}
}

void
super_stop(struct super *s)
{
	int	i, st;

	for (i = 0; i < s->nworkers; i++)
		if (s->w[i].pid > 0)
			kill(s->w[i].pid, SIGTERM);
	if (s->regpid > 0)
		kill(s->regpid, SIGTERM);
	for (i = 0; i < s->nworkers; i++) {
		if (s->w[i].pid <= 0)
			continue;
		while (waitpid(s->w[i].pid, &st, 0) == -1 && errno == EINTR)
			;
		s->w[i].pid = 0;
	}
	while (s->regpid > 0 && waitpid(s->regpid, &st, 0) == -1 &&
	    errno == EINTR)
		;
}
