/*
 * main.c -- dfs-filed: options, the supervisor and its workers (the
 * connection processes).
 *
 * libtirpc's service state is not thread-safe, so dfs-filed uses both
 * cores with processes: each connection is served by a worker alone, in
 * blocking mode, until the client hangs up (at most -w workers; more
 * clients wait in the listen backlog).
 * Blocking, because libtirpc 1.3.3's non-blocking record reader takes
 * the first fragment of every record for the whole record (last_frag
 * starts TRUE and is never reset), which breaks any request larger than
 * one fragment, i.e. every large WRITE.  One connection per process
 * makes blocking harmless: a slow or hostile client stalls only its own
 * process, and the memory of a request stays bounded by DFS_MAXDATA.
 *
 * The supervisor serves no RPCs and accepts no connections: it registers
 * with the name server and heartbeats, sweeps old stages, forks and
 * reaps workers and, on SIGTERM, stops them and unregisters.
 *
 * The workers are pre-forked and each serves one connection after
 * another: an idle worker waits on the shared listening socket (epoll,
 * EPOLLEXCLUSIVE, so a connection wakes one of them), accepts and serves
 * until the client hangs up, then waits again.  A new client thus meets
 * a worker that is already connected to the name server, and no fork(2)
 * or exit(2) runs per connection.  The supervisor keeps FILED_MIN_SPARE
 * of them waiting: a worker that takes the last one's place pokes it
 * through a pipe, and it forks one more at once (within -w); the second
 * waits for a quiet tick.  A worker that ends a connection while
 * FILED_MAX_SPARE others wait exits, so the pool shrinks after a burst.
 * Which slot waits and which serves is in a MAP_SHARED table; the
 * supervisor frees a dead worker's slot when it reaps it.
 *
 * The server id a COMMIT reports is read from <statedir>/server.id, which
 * the supervisor's registrar writes (fsync + rename) whenever the name
 * server assigns an id; connection processes read it at every COMMIT.
 *
 * The op counters STATS reports live in a MAP_SHARED anonymous mapping
 * the supervisor makes (filed_ctx_init) before it forks anything, so
 * every connection process adds to the same counts (atomically, see
 * lib/compound.h) and a STATS on any connection sees the whole server.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filed.h"
#include "log.h"
#include "path.h"
#include "registrar.h"
#include "svcloop.h"

#define FILED_MAXWORKERS	1024
#define FILED_WORKERS		64
#define FILED_MIN_SPARE		2	/* workers kept waiting */
#define FILED_MAX_SPARE		8	/* more than this waiting: one exits */
#define SUPER_TICK_MS		200
#define ACCEPT_RETRY_MS		100
#define REG_TIMEOUT_MS		2000

struct super {
	struct daemon		 d;
	struct filed_ctx	 fc;
	struct peer		 regpeer;	/* the supervisor's own */
	struct registrar	 reg;
	const char		*named_spec;	/* -s */
	char			*prefixes[DFS_MAXPREFIXES];	/* -x */
	unsigned int		 nprefixes;
	unsigned int		 gc_age;	/* -g */
	int			 nworkers;	/* -w: at most */
	pid_t			 workers[FILED_MAXWORKERS];	/* by slot */
	int			 nlive;
	unsigned char		*slots;		/* MAP_SHARED: SLOT_* by slot */
	int			 pokefd[2];	/* workers -> supervisor */
	pid_t			 self;		/* the supervisor */
	/* in a worker */
	int			 lfd;		/* the listening socket */
	int			 epfd;
};

/* A worker's state in the shared table. */
enum { SLOT_FREE, SLOT_IDLE, SLOT_BUSY };

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: dfs-filed [-dNv] [-b address] -D statedir "
	    "[-g seconds] [-P pidfile]\n"
	    "                 [-p port] -s host[:port] [-w connections] "
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

/* Handles one of our own options.  Returns 0 or -1 (message printed). */
static int
own_option(struct super *s, int ch, const char *arg)
{
	unsigned long	v;

	switch (ch) {
	case 's':
		s->named_spec = arg;
		return 0;
	case 'w':
		if (parse_num(arg, 1, FILED_MAXWORKERS, &v) == -1)
			break;
		s->nworkers = (int)v;
		return 0;
	case 'g':
		if (parse_num(arg, 1, INT_MAX, &v) == -1)
			break;
		s->gc_age = (unsigned int)v;
		return 0;
	case 'x':
		if (path_check_abs(arg, strlen(arg)) != 0 ||
		    s->nprefixes == DFS_MAXPREFIXES)
			break;
		s->prefixes[s->nprefixes++] = (char *)arg;
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
	while ((ch = getopt(argc, argv, DAEMON_OPTSTRING "g:s:w:x:")) != -1) {
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

/* --- the pool's shared table ------------------------------------------ */

static void
slot_set(struct super *s, int i, unsigned char state)
{
	__atomic_store_n(&s->slots[i], state, __ATOMIC_RELEASE);
}

/* How many workers wait for a connection, leaving out slot `except`
 * (-1: none). */
static int
count_idle(const struct super *s, int except)
{
	int	i, n = 0;

	for (i = 0; i < s->nworkers; i++)
		if (i != except && __atomic_load_n(&s->slots[i],
		    __ATOMIC_ACQUIRE) == SLOT_IDLE)
			n++;
	return n;
}

/* --- a worker ---------------------------------------------------------- */

/* Ends a worker.  The listening socket goes first: after a kill -9 of
 * the supervisor a restarted dfs-filed binds the port once the last
 * worker let go of it. */
static void __attribute__((noreturn))
worker_exit(struct super *s)
{
	close(s->lfd);
	filed_ctx_release(&s->fc);
	exit(0);
}

/* Is the worker's connection gone?  libtirpc destroys a connection's
 * transport, and takes it out of svc_pollfd, when the client hangs up. */
static int
conn_gone(void)
{
	int	i;

	for (i = 0; i < svc_max_pollfd; i++)
		if (svc_pollfd[i].fd >= 0)
			return 0;
	return 1;
}

/* After every round of requests: back to accept(2) once the connection
 * is gone. */
static void
worker_round(void *arg)
{
	(void)arg;
	if (conn_gone())
		svcloop_break();
}

/*
 * What a worker does first: signals of its own, ends with the
 * supervisor, keeps the listening socket but not its transport (only the
 * connection's is polled while serving) and waits on it with
 * EPOLLEXCLUSIVE, so that a connection wakes one idle worker, not all.
 */
static void
worker_init(struct super *s)
{
	struct epoll_event	ev;

	svcloop_sigreinit();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	mask_signals(SIG_UNBLOCK);
	if (getppid() != s->self)
		exit(0);
	close(s->pokefd[0]);
	/* ORDER: destroying the listening transport closes its socket */
	s->lfd = fcntl(s->d.listenfd, F_DUPFD_CLOEXEC, 0);
	SVC_DESTROY(s->d.xprt);
	svcloop_set_round(worker_round, NULL);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = s->lfd;
	if (s->lfd == -1 || s->epfd == -1 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) == -1)
		fatal("cannot wait for connections");
	ev.events = EPOLLIN;
	ev.data.fd = svcloop_sigfd();
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
		fatal("cannot wait for signals");
}

/* Waits for a connection and accepts it.  Returns its socket, or -1
 * when another worker took it first; ends the worker on SIGTERM or
 * SIGINT. */
static int
worker_accept(struct super *s)
{
	struct epoll_event	ev[2];
	int			n, i, fd, one = 1;

	n = epoll_wait(s->epfd, ev, 2, -1);
	for (i = 0; i < n; i++)
		if (ev[i].data.fd != s->lfd && svcloop_signal() != 0)
			worker_exit(s);
	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1) {
		/* out of descriptors or memory: the connection stays in
		 * the backlog, and must not spin us */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("cannot accept a connection");
			(void)poll(NULL, 0, ACCEPT_RETRY_MS);
		}
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Serves connection `fd`, blocking, until the client hangs up.  Returns
 * 0, or the signal (SIGTERM, SIGINT) that came meanwhile. */
static int
worker_serve(int fd)
{
	SVCXPRT	*xprt;

	xprt = svc_fd_create(fd, DFS_MAXDATA, DFS_MAXDATA);
	if (xprt == NULL) {
		log_warnx("cannot serve connection");
		close(fd);
		return 0;
	}
	sendread_attach(xprt);
	return svcloop_run(0, NULL, NULL);
}

/* Tells the supervisor that no worker is left waiting. */
static void
poke(struct super *s)
{
	char	c = 0;

	(void)write(s->pokefd[1], &c, 1);
}

/* A worker's life: a connection at a time, until a signal, or until it
 * is one idle worker too many.  Never returns. */
static void __attribute__((noreturn))
worker_main(struct super *s, int slot)
{
	int	fd;

	worker_init(s);
	(void)upcall_connect(&s->fc);	/* no answer now: a COMMIT retries */
	for (;;) {
		slot_set(s, slot, SLOT_IDLE);
		if ((fd = worker_accept(s)) == -1)
			continue;
		slot_set(s, slot, SLOT_BUSY);
		if (count_idle(s, -1) == 0)
			poke(s);
		if (worker_serve(fd) != 0 || getppid() != s->self ||
		    count_idle(s, slot) >= FILED_MAX_SPARE)
			worker_exit(s);
	}
}

/* --- the supervisor ---------------------------------------------------- */

/* Forks a worker into a free slot.  Returns 0 or -1. */
static int
spawn_worker(struct super *s)
{
	pid_t	pid;
	int	i;

	for (i = 0; i < s->nworkers && s->workers[i] > 0; i++)
		;
	if (i == s->nworkers)
		return -1;
	/* counted as waiting from now on, or the next round forks again */
	slot_set(s, i, SLOT_IDLE);
	mask_signals(SIG_BLOCK);
	pid = fork();
	if (pid == 0)
		worker_main(s, i);
	mask_signals(SIG_UNBLOCK);
	if (pid == -1) {
		log_warn("cannot fork a connection process");
		slot_set(s, i, SLOT_FREE);
		return -1;
	}
	s->workers[i] = pid;
	s->nlive++;
	return 0;
}

/* Forks workers until `want` wait for connections, within -w. */
static void
grow(struct super *s, int want)
{
	while (s->nlive < s->nworkers && count_idle(s, -1) < want)
		if (spawn_worker(s) == -1)
			return;
}

/* Collects finished workers and frees their slots. */
static void
reap(struct super *s)
{
	pid_t	pid;
	int	st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < s->nworkers; i++) {
			if (s->workers[i] != pid)
				continue;
			if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
				log_warnx("connection process %ld killed by "
				    "signal %d", (long)pid, WTERMSIG(st));
			s->workers[i] = 0;
			slot_set(s, i, SLOT_FREE);
			s->nlive--;
		}
	}
}

/*
 * The supervisor's loop: until SIGTERM or SIGINT.  A worker that takes
 * the last waiting one's place pokes it, and it forks another at once
 * (a client may be waiting in the backlog); the second spare is forked
 * only once a tick has passed without a poke, so that a fork does not
 * compete with the connection that used the first.
 */
static void
supervise(struct super *s)
{
	struct pollfd		pfd[2];
	unsigned long long	next_gc = now_ms() + s->gc_age * 1000ULL;
	char			buf[64];
	int			n;

	for (;;) {
		pfd[0].fd = svcloop_sigfd();
		pfd[1].fd = s->pokefd[0];
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, 2, SUPER_TICK_MS);
		if (n > 0 && pfd[0].revents && svcloop_signal() != 0)
			return;
		if (n > 0 && pfd[1].revents)
			while (read(s->pokefd[0], buf, sizeof(buf)) > 0)
				;
		reap(s);
		grow(s, n == 0 ? FILED_MIN_SPARE : 1);
		(void)registrar_tick(&s->reg);
		if (now_ms() >= next_gc) {
			(void)store_gc_stages(&s->fc, s->gc_age);
			next_gc = now_ms() + s->gc_age * 1000ULL;
		}
	}
}

/* Sends SIGTERM to every worker and waits for them all. */
static void
stop_workers(struct super *s)
{
	int	i, st;

	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i] > 0)
			kill(s->workers[i], SIGTERM);
	for (i = 0; i < s->nworkers; i++) {
		if (s->workers[i] <= 0)
			continue;
		while (waitpid(s->workers[i], &st, 0) == -1 &&
		    errno == EINTR)
			;
		s->workers[i] = 0;
	}
}

/* Start-up up to the listening socket: state directories, peers. */
static void
init(struct super *s)
{
	int	fl, rc;

	log_init(s->d.progname, s->d.foreground);
	log_setverbose(s->d.verbose);
	/* ORDER: the shared counters before any fork */
	rc = filed_ctx_init(&s->fc, s->d.statedir, s->named_spec);
	if (rc == -DFS_ERR_NOMEM)
		fatal("cannot map the op counters");
	if (rc != 0 || peer_init(&s->regpeer, s->named_spec, DFS_NAME_PROG,
	    DFS_NAME_VERS, REG_TIMEOUT_MS) != 0)
		fatalx("bad name server address '%s'", s->named_spec);
	s->fc.gc_age = s->gc_age;
	if (store_init(&s->fc) == -1)
		fatal("cannot create the store in '%s'", s->d.statedir);
	if (store_migrate(&s->fc) < 0)
		fatalx("cannot move the store in '%s' to layout 2",
		    s->d.statedir);
	daemon_listen(&s->d, DFS_FILE_PROG, DFS_FILE_VERS, dfs_file_prog_1,
	    DFS_MAXDATA + (1 << 20));
	/* a worker that another beat to a connection must not block in
	 * accept(2) */
	fl = fcntl(s->d.listenfd, F_GETFL);
	if (fl == -1 || fcntl(s->d.listenfd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("cannot make the listening socket non-blocking");
	s->slots = mmap(NULL, FILED_MAXWORKERS, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->slots == MAP_FAILED)
		fatal("cannot map the workers' table");
	if (pipe2(s->pokefd, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
	s->self = getpid();
}

/* First registration and start-up GC, before any worker exists. */
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
	(void)store_gc_stages(&s->fc, s->gc_age);
	(void)store_gc_temps(&s->fc);
	(void)store_gc_versions(&s->fc);
	/* ORDER: workers must not share the supervisor's connections */
	peer_close(&s->fc.named);
}

int
main(int argc, char **argv)
{
	struct super	s;

	memset(&s, 0, sizeof(s));
	s.d.progname = "dfs-filed";
	s.nworkers = FILED_WORKERS;
	s.gc_age = 3600;
	parse_options(&s, argc, argv);
	init(&s);
	register_and_gc(&s);
	filed_set_ctx(&s.fc);
	grow(&s, FILED_MIN_SPARE);
	daemon_ready(&s.d);
	log_info("serving, at most %d connections", s.nworkers);
	supervise(&s);
	log_info("shutting down");
	stop_workers(&s);
	daemon_shutdown(&s.d);
	peer_close(&s.regpeer);
	filed_ctx_release(&s.fc);
	/* daemon_check() made these absolute with malloc(3) */
	free(s.d.statedir);
	free(s.d.pidfile);
	return 0;
}
