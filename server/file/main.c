/*
 * main.c -- dfs-filed: options, the supervisor, its workers and its
 * registrar.
 *
 * libtirpc's service state is not thread-safe, so dfs-filed uses both
 * cores with processes.  A worker serves a request in blocking mode,
 * because libtirpc 1.3.3's non-blocking record reader takes the first
 * fragment of every record for the whole record (last_frag starts TRUE
 * and is never reset), which breaks any request larger than one
 * fragment, i.e. every large WRITE.
 *
 * No client may lock others out, so a worker is tied to a connection
 * only while a request is in flight.  The supervisor accepts every
 * connection and holds it (conns.c) in an epoll set while it is idle.
 * When what a connection has buffered is whole requests (or at least
 * CONNS_READY_BYTES of a large one, which streams), the supervisor
 * lends a duplicate of it to an idle worker over that worker's socket
 * pair (SCM_RIGHTS), forking one within -w if none is idle; connections
 * wait in a queue for a worker otherwise.  A request that has begun to
 * arrive and is not ready stays with the supervisor, which closes its
 * connection if it is not ready within -r seconds (slowloris): a slow
 * sender costs an entry, never a worker.  The worker serves requests on
 * its connection for as long as the next one is ready (or becomes so
 * within FILED_LINGER_MS), then drops its duplicate and tells the
 * supervisor, which watches the connection again.  libtirpc's record
 * buffer is empty at that point: svc_getreq_common() serves every
 * request it holds before it returns, and the worker only read whole
 * requests.  Idle connections thus cost a descriptor and an entry, not a
 * process, and are closed after -t seconds without a request.  An
 * address holds at most -a connections, and a full table closes its
 * longest idle one to admit a new client.
 *
 * What can still hold a worker is a client that stops in the middle of
 * a large request it was lent for, or of one whose start arrived in the
 * microseconds between the worker's own readiness test and its read
 * (which takes it along), or that does not read its reply: the
 * worker publishes a deadline (now + -r seconds) in a MAP_SHARED table
 * while it does I/O with the client, pausing it only while an op runs
 * (disk and name server, bounded by their own timeouts).  The
 * supervisor shuts down a connection whose worker passed its deadline;
 * the worker's blocking read or write then fails and it gives the
 * connection back to be closed.  Since the supervisor owns a descriptor
 * of every connection, a worker that dies also closes nothing behind
 * its back: the supervisor sees its socket pair end and closes the
 * connection it held.
 *
 * Whenever a connection is closed, the stages it made and did not
 * commit or abort are swept (owner.c): nothing staged outlives the
 * upload that staged it, crashed workers' included.
 *
 * The supervisor never blocks on a peer: registration with the name
 * server, heartbeats and the periodic stage GC run in a process of
 * their own, the registrar, which the supervisor restarts if it dies.
 *
 * The server id a COMMIT reports is read from <statedir>/server.id, which
 * the registrar writes (fsync + rename) whenever the name server assigns
 * an id; workers read it at every COMMIT.
 *
 * The op counters STATS reports live in a MAP_SHARED anonymous mapping
 * the supervisor makes (filed_ctx_init) before it forks anything, so
 * every worker adds to the same counts (atomically, see lib/compound.h)
 * and a STATS on any connection sees the whole server.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conns.h"
#include "filed.h"
#include "log.h"
#include "path.h"
#include "registrar.h"
#include "svcloop.h"

#define FILED_MAXWORKERS	1024
#define FILED_WORKERS		64
#define FILED_MAXCONNS		16384
/* libtirpc's record buffers, each way, made at every lend: it callocs
 * them, so their size is memset per request served (4 MiB buffers made
 * that 8 MiB, a fifth of the server's CPU); a WRITE streams through
 * them in pieces, so they need not hold one */
#define FILED_RECBUF		(256 * 1024)
#define FILED_MIN_SPARE		2	/* workers kept waiting */
#define FILED_MAX_SPARE		8	/* more than this waiting: one exits */
#define FILED_LINGER_MS		1	/* a worker waits for the next request */
#define SUPER_TICK_MS		100
#define REG_TIMEOUT_MS		2000

/* A worker, as the supervisor sees it. */
struct worker {
	pid_t	pid;		/* 0: a free slot */
	int	chan;		/* our end of its socket pair, -1: it died */
	int	conn;		/* the entry lent to it, -1: idle */
	int	cut;		/* its connection was shut down */
	int	retiring;	/* sent SIGTERM */
};

/* A worker's message to the supervisor: done with a connection. */
struct giveback {
	uint64_t	serial;
	int32_t		keep;	/* 0: closed (by the client, or dead) */
};

struct super {
	struct daemon		 d;
	struct filed_ctx	 fc;
	struct peer		 regpeer;	/* the registrar's */
	struct registrar	 reg;
	const char		*named_spec;	/* -s */
	char			*prefixes[DFS_MAXPREFIXES];	/* -x */
	unsigned int		 nprefixes;
	unsigned int		 gc_age;	/* -g */
	int			 nworkers;	/* -w: at most */
	struct worker		 w[FILED_MAXWORKERS];
	int			 nlive;
	uint64_t		*deadlines;	/* MAP_SHARED: by worker */
	struct conns		 cs;
	int			 epfd;
	pid_t			 regpid;	/* the registrar */
	pid_t			 self;		/* the supervisor */
	/* in a worker */
	int			 chan;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: dfs-filed [-dNv] [-a connections] [-b address] "
	    "[-C connections]\n"
	    "                 -D statedir [-g seconds] [-P pidfile] "
	    "[-p port] [-r seconds]\n"
	    "                 -s host[:port] [-t seconds] [-w workers] "
	    "[-x prefix] ...\n");
}

/* Parses a number in [min, max].  Returns 0 or -1. */
static int
parse_num(const char *arg, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char	*ep;

	errno = 0;
	*out = strtoul(arg, &ep, 10);
	if (*arg == '\0' || *ep != '\0' || errno != 0 || *out < min ||
	    *out > max || arg[0] == '-')
		return -1;
	return 0;
}

/* Handles one of our numeric options.  Returns 0 or -1. */
static int
num_option(struct super *s, int ch, const char *arg)
{
	unsigned long	v;

	switch (ch) {
	case 'g':
		if (parse_num(arg, 1, INT_MAX / 1000, &v) == -1)
			return -1;
		s->gc_age = (unsigned int)v;
		return 0;
	case 'w':
		if (parse_num(arg, 1, FILED_MAXWORKERS, &v) == -1)
			return -1;
		s->nworkers = (int)v;
		return 0;
	}
	return -1;
}

/* Handles one of our own options.  Returns 0 or -1 (message printed). */
static int
own_option(struct super *s, int ch, const char *arg)
{
	switch (ch) {
	case 's':
		s->named_spec = arg;
		return 0;
	case 'x':
		if (path_check_abs(arg, strlen(arg)) != 0 ||
		    s->nprefixes == DFS_MAXPREFIXES)
			break;
		s->prefixes[s->nprefixes++] = (char *)arg;
		return 0;
	default:
		if (num_option(s, ch, arg) == 0)
			return 0;
	}
	fprintf(stderr, "dfs-filed: bad argument '%s' for -%c\n", arg, ch);
	return -1;
}

/* Parses the command line; exits on -h, --help and bad usage. */
static void
parse_options(struct super *s, int argc, char **argv)
{
	int	ch, i, rc;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(0);
		}
	while ((ch = getopt(argc, argv, DAEMON_OPTSTRING "g:s:w:x:"))
	    != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(0);
		}
		rc = daemon_getopt(&s->d, ch, optarg);
		if (rc == 0 && ch != '?')
			rc = own_option(s, ch, optarg) == 0 ? 1 : -1;
		if (rc != 1) {
			usage(stderr);
			exit(1);
		}
	}
	if (optind != argc || s->named_spec == NULL) {
		if (s->named_spec == NULL)
			fprintf(stderr, "dfs-filed: a name server is "
			    "required (-s)\n");
		usage(stderr);
		exit(1);
	}
	if (daemon_check(&s->d) == -1)
		exit(1);
}

/* Blocks (how = SIG_BLOCK) or unblocks the signals svcloop catches, so
 * none arrives between fork(2) and the child's new self-pipe. */
static void
mask_signals(int how)
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
	mask_signals(SIG_UNBLOCK);
	if (getppid() != s->self)
		exit(0);
	/* ORDER: destroying the listening transport closes its socket, and
	 * takes it out of svc_pollfd, which conn_gone() reads */
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

/* Is the worker's connection gone?  libtirpc destroys a connection's
 * transport, and takes it out of svc_pollfd, when the client hangs up
 * or a read or write on it fails. */
static int
conn_gone(void)
{
	int	i;

	for (i = 0; i < svc_max_pollfd; i++)
		if (svc_pollfd[i].fd >= 0)
			return 0;
	return 1;
}

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
	SVCXPRT	*xprt;
	int	 rc;

	xprt = svc_fd_create(fd, FILED_RECBUF, FILED_RECBUF);
	if (xprt == NULL) {
		log_warnx("cannot serve connection");
		close(fd);
		return 0;
	}
	sendread_attach(xprt);
	for (rc = conns_ready(fd, NULL);; rc = next_ready(fd)) {
		if (rc != 1) {
			/* closes our duplicate only */
			SVC_DESTROY(xprt);
			return rc == 0;
		}
		filed_deadline(&s->fc, 1);
		svc_getreq_common(fd);
		filed_deadline(&s->fc, 0);
		if (conn_gone())
			return 0;
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
static void __attribute__((noreturn))
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
	(void)upcall_connect(&s->fc);	/* no answer now: a COMMIT retries */
	for (;;) {
		fd = worker_take(s, &serial);
		s->fc.conn = serial;
		keep = worker_serve(s, fd);
		s->fc.conn = 0;
		worker_give(s, serial, keep);
	}
}

/* --- the registrar ----------------------------------------------------- */

/* The registrar's life: heartbeats and the periodic stage GC, until a
 * signal.  Never returns. */
static void __attribute__((noreturn))
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

/* Forks the registrar. */
static void
spawn_registrar(struct super *s)
{
	mask_signals(SIG_BLOCK);
	s->regpid = fork();
	if (s->regpid == 0)
		registrar_main(s);
	mask_signals(SIG_UNBLOCK);
	if (s->regpid == -1) {
		log_warn("cannot fork the registrar");
		s->regpid = 0;
	}
	/* ORDER: after the fork; workers must not share its connection */
	peer_close(&s->regpeer);
}

/* --- the supervisor: workers ------------------------------------------- */

/* Forks a worker into a free slot.  Returns the slot or -1. */
static int
spawn_worker(struct super *s)
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
	mask_signals(SIG_BLOCK);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		worker_main(s, i, sv[1]);
	}
	mask_signals(SIG_UNBLOCK);
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
	return spawn_worker(s);
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
		(void)spawn_worker(s);
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
			spawn_registrar(s);
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

/*
 * The supervisor's loop, until SIGTERM or SIGINT: accepts connections,
 * lends those whose request is ready to workers and takes them back,
 * and every tick reaps children, closes idle and slow connections and
 * keeps the pool's spares.
 */
static void
supervise(struct super *s)
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

/* Sends SIGTERM to every child and waits for them all. */
static void
stop_children(struct super *s)
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

/* --- start-up ---------------------------------------------------------- */

/* Raises the open-files limit to its maximum and sizes the connection
 * table to it, leaving room for the workers' socket pairs and files.
 * Returns the number of connections. */
static int
max_conns(const struct super *s)
{
	struct rlimit	rl;
	long		n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	n = rl.rlim_cur > FILED_MAXCONNS * 2 ? FILED_MAXCONNS * 2 :
	    (long)rl.rlim_cur;
	n -= 2L * s->nworkers + 64;
	if (n < 1)
		fatalx("too few descriptors for %d workers (ulimit -n)",
		    s->nworkers);
	if (s->d.maxconns != 0 && n > (long)s->d.maxconns)
		n = s->d.maxconns;
	return n > FILED_MAXCONNS ? FILED_MAXCONNS : (int)n;
}

/* The supervisor's epoll set: the listening socket and signals. */
static void
init_events(struct super *s)
{
	struct epoll_event	ev;

	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = EV_DATA(EV_LISTEN, 0);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->d.listenfd, &ev) == -1)
		fatal("cannot wait for connections");
	ev.data.u64 = EV_DATA(EV_SIGNAL, 0);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, svcloop_sigfd(), &ev) == -1)
		fatal("cannot wait for signals");
	if (conns_init(&s->cs, max_conns(s), (int)s->d.peraddr, s->d.idle_s,
	    s->d.request_s, s->epfd, &s->fc) == -1)
		fatal("cannot make the connection table");
}

/* Start-up up to the listening socket: state directories, peers. */
static void
init(struct super *s)
{
	int	rc;

	log_init(s->d.progname, s->d.foreground);
	log_setverbose(s->d.verbose);
	/* ORDER: the shared counters and stage owners before any fork */
	rc = filed_ctx_init(&s->fc, s->d.statedir, s->named_spec);
	if (rc == -DFS_ERR_NOMEM)
		fatal("cannot map the op counters");
	if (rc != 0 || peer_init(&s->regpeer, s->named_spec, DFS_NAME_PROG,
	    DFS_NAME_VERS, REG_TIMEOUT_MS) != 0)
		fatalx("bad name server address '%s'", s->named_spec);
	s->fc.gc_age = s->gc_age;
	s->fc.check_handles = 1;
	if (store_init(&s->fc) == -1)
		fatal("cannot create the store in '%s'", s->d.statedir);
	daemon_listen(&s->d, DFS_FILE_PROG, DFS_FILE_VERS, dfs_file_prog_1,
	    DFS_MAXDATA + (1 << 20));
	/* conns_accept() takes what waits, then must not block */
	if (fcntl(s->d.listenfd, F_SETFL, fcntl(s->d.listenfd, F_GETFL) |
	    O_NONBLOCK) == -1)
		fatal("cannot make the listening socket non-blocking");
	s->deadlines = mmap(NULL, FILED_MAXWORKERS * sizeof(uint64_t),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->deadlines == MAP_FAILED)
		fatal("cannot map the workers' deadlines");
	init_events(s);
	s->self = getpid();
}

/*
 * First registration and start-up GC, before any worker exists: every
 * stage goes, since no connection that made one survived the restart.
 */
static void
register_and_gc(struct super *s)
{
	int	rc;

	rc = registrar_init(&s->reg, &s->regpeer, DFS_SRV_FILE,
	    s->d.statedir, s->d.bindaddr, s->d.boundport, s->prefixes,
	    s->nprefixes);
	if (rc == -DFS_ERR_INVAL)
		fatalx("refusing to advertise a loopback address");
	if (rc != 0)
		fatalx("cannot read '%s/server.id'", s->d.statedir);
	(void)registrar_tick(&s->reg);
	(void)store_gc_stages(&s->fc, 0);
	(void)store_gc_temps(&s->fc);
	(void)store_gc_versions(&s->fc);
	/* ORDER: workers must not share the supervisor's connections */
	peer_close(&s->fc.named);
}

int
main(int argc, char **argv)
{
	struct super	s;
	int		i;

	memset(&s, 0, sizeof(s));
	s.d.progname = "dfs-filed";
	s.nworkers = FILED_WORKERS;
	s.gc_age = 3600;
	s.epfd = -1;
	parse_options(&s, argc, argv);
	init(&s);
	register_and_gc(&s);
	filed_set_ctx(&s.fc);
	spawn_registrar(&s);
	for (i = 0; i < FILED_MIN_SPARE && i < s.nworkers; i++)
		(void)spawn_worker(&s);
	daemon_ready(&s.d);
	log_info("serving, at most %d workers and %d connections",
	    s.nworkers, s.cs.max);
	supervise(&s);
	log_info("shutting down");
	stop_children(&s);
	/* the uploads on open connections fail: their stages go */
	conns_release(&s.cs);
	daemon_shutdown(&s.d);
	filed_ctx_release(&s.fc);
	/* daemon_check() made these absolute with malloc(3) */
	free(s.d.statedir);
	free(s.d.pidfile);
	return 0;
}
