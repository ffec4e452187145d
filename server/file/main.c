/*
 * main.c -- dfs-filed: options, the supervisor and its connection
 * processes.
 *
 * libtirpc's service state is not thread-safe, so dfs-filed uses both
 * cores with processes: the supervisor accepts each connection and forks
 * a process that serves it alone, in blocking mode, until the client
 * hangs up (at most -w at once; more wait in the listen backlog).
 * Blocking, because libtirpc 1.3.3's non-blocking record reader takes
 * the first fragment of every record for the whole record (last_frag
 * starts TRUE and is never reset), which breaks any request larger than
 * one fragment, i.e. every large WRITE.  One process per connection
 * makes blocking harmless: a slow or hostile client stalls only its own
 * process, and the memory of a request stays bounded by DFS_MAXDATA.
 *
 * The supervisor serves no RPCs: it registers with the name server and
 * heartbeats, sweeps old stages, reaps connection processes and, on
 * SIGTERM, stops them and unregisters.
 *
 * One connection process is forked ahead of need (the spare): it
 * connects to the name server and waits on a socketpair for the
 * supervisor to hand it the next accepted connection (SCM_RIGHTS), so a
 * new client waits for neither a fork nor a connect to the name server;
 * the supervisor then forks the next spare.  Without a spare (it died,
 * or fork failed) the supervisor forks for the connection itself.
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
#define SUPER_TICK_MS		200
#define WORKER_TICK_MS		100
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
	pid_t			 workers[FILED_MAXWORKERS];
	int			 nlive;
	pid_t			 spare;		/* forked ahead, or 0 */
	int			 sparefd;	/* our end of its socketpair */
	pid_t			 self;
};

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

/* A connection process's tick: it ends with its connection, or with the
 * supervisor. */
static void
worker_tick(void *arg)
{
	struct super	*s = arg;
	int		 i;

	if (getppid() != s->self)
		exit(0);
	for (i = 0; i < svc_max_pollfd; i++)
		if (svc_pollfd[i].fd >= 0)
			return;
	exit(0);		/* libtirpc closed the connection */
}

/* What a connection process does first: signals of its own, ends with
 * the supervisor, and no listening socket (only the supervisor
 * accepts). */
static void
worker_init(struct super *s)
{
	svcloop_sigreinit();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	mask_signals(SIG_UNBLOCK);
	if (getppid() != s->self)
		exit(0);
	SVC_DESTROY(s->d.xprt);
}

/* Serves connection `fd` until it closes.  Never returns. */
static void
worker_serve(struct super *s, int fd)
{
	SVCXPRT	*xprt;

	xprt = svc_fd_create(fd, DFS_MAXDATA, DFS_MAXDATA);
	if (xprt == NULL) {
		log_warnx("cannot serve connection");
		exit(1);
	}
	sendread_attach(xprt);
	(void)svcloop_run(WORKER_TICK_MS, worker_tick, s);
	filed_ctx_release(&s->fc);
	exit(0);
}

/* One byte and room for one descriptor: what send_fd() and recv_fd()
 * pass. */
struct fdmsg {
	struct msghdr	m;
	struct iovec	iov;
	char		byte;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} c;
};

static void
fdmsg_init(struct fdmsg *f)
{
	memset(f, 0, sizeof(*f));
	f->iov.iov_base = &f->byte;
	f->iov.iov_len = 1;
	f->m.msg_iov = &f->iov;
	f->m.msg_iovlen = 1;
	f->m.msg_control = f->c.buf;
	f->m.msg_controllen = sizeof(f->c.buf);
}

/* Receives a descriptor on `chan`.  Returns it, or -1 (the supervisor
 * closed its end, or a signal came: time to go). */
static int
recv_fd(int chan)
{
	struct fdmsg	 f;
	struct pollfd	 pfd[2];
	struct cmsghdr	*cm;
	int		 fd;

	pfd[0].fd = chan;
	pfd[1].fd = svcloop_sigfd();
	pfd[0].events = pfd[1].events = POLLIN;
	while (poll(pfd, 2, -1) == -1)
		if (errno != EINTR)
			return -1;
	if (pfd[1].revents != 0)
		return -1;
	fdmsg_init(&f);
	if (recvmsg(chan, &f.m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&f.m);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* Sends descriptor `fd` on `chan`.  Returns 0 or -1. */
static int
send_fd(int chan, int fd)
{
	struct fdmsg	 f;
	struct cmsghdr	*cm;

	fdmsg_init(&f);
	cm = CMSG_FIRSTHDR(&f.m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(chan, &f.m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* The body of the spare: ready, then a connection.  Never returns. */
static void
spare_main(struct super *s, int chan)
{
	int	fd;

	worker_init(s);
	(void)upcall_connect(&s->fc);	/* no answer now: a COMMIT retries */
	fd = recv_fd(chan);
	close(chan);
	if (fd == -1)
		exit(0);
	worker_serve(s, fd);
}

/* Forks the spare if there is none.  Without one, connections fork
 * their own process. */
static void
spawn_spare(struct super *s)
{
	pid_t	pid;
	int	sv[2];

	if (s->spare > 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	mask_signals(SIG_BLOCK);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		spare_main(s, sv[1]);
	}
	mask_signals(SIG_UNBLOCK);
	close(sv[1]);
	if (pid == -1) {
		log_warn("cannot fork a spare connection process");
		close(sv[0]);
		return;
	}
	s->spare = pid;
	s->sparefd = sv[0];
}

/* Stops the spare (it exits when its end of the socketpair closes). */
static void
drop_spare(struct super *s)
{
	if (s->spare <= 0)
		return;
	close(s->sparefd);
	s->sparefd = -1;
	s->spare = 0;
}

/* Hands `fd` to the spare.  Returns its pid, or -1 (no spare, or it is
 * gone: it is dropped). */
static pid_t
hand_to_spare(struct super *s, int fd)
{
	pid_t	pid = s->spare;

	if (pid <= 0)
		return -1;
	if (send_fd(s->sparefd, fd) == -1) {
		kill(pid, SIGTERM);
		drop_spare(s);
		return -1;
	}
	close(s->sparefd);
	s->sparefd = -1;
	s->spare = 0;
	return pid;
}

/* Accepts one connection and gives it a process: the spare, else a new
 * one.  Returns 0 or -1. */
static int
accept_one(struct super *s)
{
	pid_t	pid;
	int	fd, one = 1, i;

	fd = accept4(s->d.listenfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((pid = hand_to_spare(s, fd)) == -1) {
		mask_signals(SIG_BLOCK);
		pid = fork();
		if (pid == 0) {
			worker_init(s);
			worker_serve(s, fd);
		}
		mask_signals(SIG_UNBLOCK);
	}
	close(fd);
	if (pid == -1) {
		log_warn("cannot fork for a connection");
		return -1;
	}
	for (i = 0; i < s->nworkers && s->workers[i] > 0; i++)
		;
	s->workers[i] = pid;
	s->nlive++;
	spawn_spare(s);
	return 0;
}

/* Collects finished connection processes. */
static void
reap(struct super *s)
{
	pid_t	pid;
	int	st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == s->spare) {
			log_warnx("spare connection process %ld ended",
			    (long)pid);
			drop_spare(s);
		}
		for (i = 0; i < s->nworkers; i++) {
			if (s->workers[i] != pid)
				continue;
			if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
				log_warnx("connection process %ld killed by "
				    "signal %d", (long)pid, WTERMSIG(st));
			s->workers[i] = 0;
			s->nlive--;
		}
	}
}

/* The supervisor's loop: until SIGTERM or SIGINT. */
static void
supervise(struct super *s)
{
	struct pollfd		pfd[2];
	unsigned long long	next_gc = now_ms() + s->gc_age * 1000ULL;
	int			n;

	for (;;) {
		pfd[0].fd = svcloop_sigfd();
		pfd[1].fd = s->d.listenfd;
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		/* at the cap, new connections wait in the backlog */
		n = s->nlive < s->nworkers ? 2 : 1;
		if (poll(pfd, (nfds_t)n, SUPER_TICK_MS) > 0) {
			if (pfd[0].revents && svcloop_signal() != 0)
				return;
			if (n == 2 && pfd[1].revents)
				(void)accept_one(s);
		}
		reap(s);
		spawn_spare(s);
		(void)registrar_tick(&s->reg);
		if (now_ms() >= next_gc) {
			(void)store_gc_stages(&s->fc, s->gc_age);
			next_gc = now_ms() + s->gc_age * 1000ULL;
		}
	}
}

/* Sends SIGTERM to every connection process and waits for them all. */
static void
stop_workers(struct super *s)
{
	pid_t	spare = s->spare;
	int	i, st;

	drop_spare(s);
	if (spare > 0) {
		kill(spare, SIGTERM);
		while (waitpid(spare, &st, 0) == -1 && errno == EINTR)
			;
	}

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
	/* a spurious wake-up must not block the supervisor in accept(2) */
	fl = fcntl(s->d.listenfd, F_GETFL);
	if (fl == -1 || fcntl(s->d.listenfd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("cannot make the listening socket non-blocking");
	s->self = getpid();
}

/* First registration and start-up GC, before any worker exists. */
static void
register_and_gc(struct super *s)
{
	if (registrar_init(&s->reg, &s->regpeer, DFS_SRV_FILE,
	    s->d.statedir, s->d.bindaddr, s->d.boundport, s->prefixes,
	    s->nprefixes) != 0)
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
	s.sparefd = -1;
	s.gc_age = 3600;
	parse_options(&s, argc, argv);
	init(&s);
	register_and_gc(&s);
	filed_set_ctx(&s.fc);
	spawn_spare(&s);
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
