/*
 * svcloop.c -- the daemon skeleton every dfs server shares.
 *
 * Signal handlers only write the signal number to a self-pipe; the loop
 * polls the pipe next to libtirpc's descriptors, so shutdown (svc_unreg,
 * logging, exit) happens in normal context.  A daemon killed under the
 * default handler would leave a stale rpcbind entry; ours unregisters.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <rpc/rpc_com.h>

#include "log.h"
#include "rpcc.h"
#include "svcloop.h"
#include "svcx.h"

#define BIND_WAIT_MS	3000	/* tcp_listen(): a port in use */
#define BIND_RETRY_MS	50

static int	sigpipe_fds[2] = { -1, -1 };
static void	(*round_fn)(void *);		/* svcloop_set_round() */
static int	 breaking;			/* svcloop_break() */
static void	*round_arg;
static struct svcloop_src src;			/* svcloop_set_source() */

unsigned long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
absolute(const char *path)
{
	char	cwd[PATH_MAX], *out;
	size_t	n;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	n = strlen(cwd) + strlen(path) + 2;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s/%s", cwd, path);
	return out;
}

/* Parses a number in [min, max] into *out.  Returns 1, or -1 with a
 * message on stderr. */
static int
parse_limit(struct daemon *d, int ch, const char *arg, unsigned long min,
    unsigned long max, unsigned int *out)
{
	char		*ep;
	unsigned long	 v;

	errno = 0;
	v = strtoul(arg, &ep, 10);
	if (*arg < '0' || *arg > '9' || *ep != '\0' || errno != 0 ||
	    v < min || v > max) {
		fprintf(stderr, "%s: bad argument '%s' for -%c (%lu..%lu)\n",
		    d->progname, arg, ch, min, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 1;
}

int
daemon_getopt(struct daemon *d, int ch, const char *arg)
{
	char		*ep;
	unsigned long	 p;

	switch (ch) {
	case 'b':
		d->bindaddr = arg;
		return 1;
	case 'd':
		d->foreground = 1;
		return 1;
	case 'D':
		d->statedir = (char *)arg;
		return 1;
	case 'N':
		d->no_rpcbind = 1;
		return 1;
	case 'p':
		errno = 0;
		p = strtoul(arg, &ep, 10);
		if (*arg == '\0' || *ep != '\0' || errno != 0 || p > 65535) {
			fprintf(stderr, "%s: bad port '%s'\n", d->progname,
			    arg);
			return -1;
		}
		d->port = (unsigned int)p;
		return 1;
	case 'P':
		d->pidfile = (char *)arg;
		return 1;
	case 'v':
		d->verbose = 1;
		return 1;
	case 'a':
		return parse_limit(d, ch, arg, 1, 65536, &d->peraddr);
	case 'C':
		return parse_limit(d, ch, arg, 1, 65536, &d->maxconns);
	case 'r':
		return parse_limit(d, ch, arg, 1, 86400, &d->request_s);
	case 't':
		return parse_limit(d, ch, arg, 1, 86400, &d->idle_s);
	case 'u':
		d->user = arg;
		return 1;
	default:
		return 0;
	}
}

/* -u: looks the user up; only root may become another user.  Returns 0
 * or -1 with a message on stderr. */
static int
check_user(struct daemon *d)
{
	char	err[256];

	if (priv_lookup(&d->pw, d->user, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s (-u)\n", d->progname, err);
		return -1;
	}
	if (geteuid() != 0 && geteuid() != d->pw.uid) {
		fprintf(stderr, "%s: only root can run as user '%s' (-u)\n",
		    d->progname, d->user);
		return -1;
	}
	return 0;
}

int
daemon_check(struct daemon *d)
{
	char	err[512];
	int	created;

	if (d->statedir == NULL) {
		fprintf(stderr, "%s: a state directory is required (-D)\n",
		    d->progname);
		return -1;
	}
	if (d->user != NULL && check_user(d) == -1)
		return -1;
	created = mkdir(d->statedir, 0700) == 0;
	if (!created && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create state directory '%s': "
		    "%s\n", d->progname, d->statedir, strerror(errno));
		return -1;
	}
	if (d->user != NULL && priv_statedir(&d->pw, d->statedir, created,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", d->progname, err);
		return -1;
	}
	d->statedir = absolute(d->statedir);
	if (d->pidfile != NULL)
		d->pidfile = absolute(d->pidfile);
	if (d->statedir == NULL) {
		fprintf(stderr, "%s: %s\n", d->progname, strerror(errno));
		return -1;
	}
	if (d->bindaddr == NULL)
		d->bindaddr = "127.0.0.1";
	if (d->peraddr == 0)
		d->peraddr = DAEMON_PERADDR;
	if (d->idle_s == 0)
		d->idle_s = DAEMON_IDLE_S;
	if (d->request_s == 0)
		d->request_s = DAEMON_REQUEST_S;
	d->listenfd = -1;
	return 0;
}

static void
sighandler(int sig)
{
	unsigned char	 c = (unsigned char)sig;
	int		 saved = errno;

	(void)write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

static void
sig_init(void)
{
	struct sigaction	sa;

	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighandler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
svcloop_sigreinit(void)
{
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
}

int
svcloop_sigfd(void)
{
	return sigpipe_fds[0];
}

int
svcloop_signal(void)
{
	unsigned char	c;
	int		last = 0;

	while (read(sigpipe_fds[0], &c, 1) == 1)
		if (c == SIGTERM || c == SIGINT)
			last = c;
	return last;
}

/*
 * Returns a listening socket on addr:port, or exits.  A port in use is
 * tried again for BIND_WAIT_MS: after a kill -9 of dfs-filed its idle
 * workers hold the listening socket until they have seen the supervisor
 * go (PR_SET_PDEATHSIG) and exited, a few milliseconds, and a restart
 * right away must not fail on that.
 */
static int
tcp_listen(const char *addr, unsigned int port, unsigned int *boundport)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 portstr[16];
	int			 fd, one = 1, rc, waited = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(addr, portstr, &hints, &res);
	if (rc != 0)
		fatalx("bad listen address '%s': %s", addr, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	while (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		if (errno != EADDRINUSE || port == 0 || waited >= BIND_WAIT_MS)
			fatal("cannot bind '%s' port %u", addr, port);
		if (waited == 0)
			log_info("port %u in use, trying again for %d ms",
			    port, BIND_WAIT_MS);
		(void)poll(NULL, 0, BIND_RETRY_MS);
		waited += BIND_RETRY_MS;
	}
	freeaddrinfo(res);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen");
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname");
	*boundport = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/*
 * Returns 1 when rpcbind on this host already lists prog/vers and a
 * server answers there: another instance (a second dfs-filed on the
 * host), whose entry we must neither remove nor take over.
 */
static int
registered_alive(rpcprog_t prog, rpcvers_t vers)
{
	struct timeval	 tv = { 1, 0 };
	CLIENT		*c;
	int		 alive;

	c = clnt_create_timed("127.0.0.1", prog, vers, "tcp", &tv);
	if (c == NULL)
		return 0;
	alive = clnt_call(c, 0, XDR_VOID, NULL, XDR_VOID, NULL, tv) ==
	    RPC_SUCCESS;
	clnt_destroy(c);
	return alive;
}

/*
 * Deals with an rpcbind entry of prog/vers left by a daemon that died
 * (unless -N): removes it [statd], or, when another instance answers
 * there (a second dfs-filed on the host), serves without registering.
 */
static void
unreg_stale(struct daemon *d, rpcprog_t prog, rpcvers_t vers)
{
	d->unreg_done = 1;
	if (d->no_rpcbind)
		return;
	if (registered_alive(prog, vers)) {
		log_warnx("another instance holds the rpcbind entry of program "
		    "%lu; serving without registering", (unsigned long)prog);
		d->no_rpcbind = 1;
		return;
	}
	svc_unreg(prog, vers);
}

/* Returns 1 when this process may create and remove files beside the
 * (absolute) path `pidfile`, else 0. */
static int
pidfile_dir_writable(const char *pidfile)
{
	char	dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", pidfile) >= (int)sizeof(dir))
		return 0;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return access(dir, W_OK | X_OK) == 0;
}

void
daemon_privdrop(struct daemon *d, rpcprog_t prog, rpcvers_t vers)
{
	char	err[256];

	if (d->user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root, and keeping root (-u "
			    "user drops it)");
		return;
	}
	if (geteuid() != 0)
		return;			/* already the user: daemon_check() */
	/* ORDER: what needs root first: a port below 1024, and an rpcbind
	 * entry of a daemon that ran as root */
	d->listenfd = tcp_listen(d->bindaddr, d->port, &d->boundport);
	unreg_stale(d, prog, vers);
	if (priv_drop(&d->pw, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* the pid file is written (and removed) as the user: say so now,
	 * on stderr, rather than once serving */
	if (d->pidfile != NULL && !pidfile_dir_writable(d->pidfile))
		fatalx("user '%s' cannot write in the directory of pid file "
		    "'%s' (-P)", d->user, d->pidfile);
	log_info("running as user '%s' (uid %lu, gid %lu)", d->user,
	    (unsigned long)d->pw.uid, (unsigned long)d->pw.gid);
}

/*
 * The start-up both kinds of service share: binds (unless
 * daemon_privdrop() did), detaches unless -d, installs the signal
 * handlers, and finds out whether to register.  Returns the netconfig
 * to register with (free it), or NULL for none.
 */
static struct netconfig *
daemon_bind(struct daemon *d, rpcprog_t prog, rpcvers_t vers)
{
	struct netconfig	*nconf;

	d->prog = prog;
	d->vers = vers;
	if (d->listenfd == -1)
		d->listenfd = tcp_listen(d->bindaddr, d->port, &d->boundport);
	if (!d->foreground && daemon(0, 0) == -1)
		fatal("daemon");
	sig_init();
	if (!d->unreg_done)
		unreg_stale(d, prog, vers);
	if (d->no_rpcbind)
		return NULL;
	nconf = getnetconfigent(strchr(d->bindaddr, ':') != NULL ? "tcp6" :
	    "tcp");
	if (nconf == NULL)
		fatalx("no netconfig entry for tcp");
	return nconf;
}

static void
log_listening(const struct daemon *d)
{
	log_info("listening on %s port %u%s", d->bindaddr, d->boundport,
	    d->registered ? ", registered with rpcbind" : "");
}

void
daemon_listen(struct daemon *d, rpcprog_t prog, rpcvers_t vers,
    void (*dispatch)(struct svc_req *, SVCXPRT *), unsigned int maxrec)
{
	struct netconfig	*nconf;
	int			 mr = (int)maxrec;

	nconf = daemon_bind(d, prog, vers);
	if (!rpc_control(RPC_SVC_CONNMAXREC_SET, &mr))
		fatalx("cannot set the record size limit");
	d->xprt = svc_tli_create(d->listenfd, nconf, NULL, maxrec, maxrec);
	if (d->xprt == NULL)
		fatalx("cannot create service on port %u", d->boundport);
	if (!svc_reg(d->xprt, prog, vers, dispatch, nconf))
		fatalx("cannot register program %lu version %lu%s",
		    (unsigned long)prog, (unsigned long)vers,
		    nconf != NULL ? " with rpcbind (is rpcbind running?)" : "");
	d->registered = nconf != NULL;
	if (nconf != NULL)
		freenetconfigent(nconf);
	log_listening(d);
}

void
daemon_serve(struct daemon *d, rpcprog_t prog, rpcvers_t vers,
    void (*dispatch)(struct svc_req *, SVCXPRT *), unsigned int maxrec)
{
	struct svcx_limits	 lim;
	struct netconfig	*nconf;
	struct sockaddr_storage	 ss;
	struct netbuf		 nb;
	socklen_t		 len = sizeof(ss);

	nconf = daemon_bind(d, prog, vers);
	memset(&lim, 0, sizeof(lim));
	lim.maxrec = maxrec;
	lim.maxconns = d->maxconns;
	lim.maxperaddr = d->peraddr;
	lim.idle_ms = d->idle_s * 1000;
	lim.stall_ms = d->request_s * 1000;
	if (svcx_init(d->listenfd, prog, vers, dispatch, &lim) != 0)
		fatal("cannot serve on port %u", d->boundport);
	if (nconf != NULL) {
		if (getsockname(d->listenfd, (struct sockaddr *)&ss, &len) ==
		    -1)
			fatal("getsockname");
		nb.buf = &ss;
		nb.len = nb.maxlen = len;
		if (!rpcb_set(prog, vers, nconf, &nb))
			fatalx("cannot register program %lu version %lu with "
			    "rpcbind (is rpcbind running?)",
			    (unsigned long)prog, (unsigned long)vers);
		d->registered = 1;
		freenetconfigent(nconf);
	}
	log_listening(d);
}

/*
 * Rewrites an existing pid file in place: on a full disk a new file gets
 * no block, but the one a killed daemon left has one.  Returns 0 or -1.
 */
static int
pidfile_overwrite(const char *path, const char *text)
{
	size_t	n = strlen(text);
	int	fd, rc = -1;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (pwrite(fd, text, n, 0) == (ssize_t)n && ftruncate(fd,
	    (off_t)n) == 0)
		rc = 0;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

void
daemon_ready(struct daemon *d)
{
	char	tmp[PATH_MAX], text[32];
	FILE	*fp;
	int	ok, err;

	if (d->pidfile == NULL)
		return;
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->pidfile);
	fp = fopen(tmp, "w");
	ok = fp != NULL && fputs(text, fp) != EOF;
	if (fp != NULL && fclose(fp) != 0)
		ok = 0;
	if (ok && rename(tmp, d->pidfile) == 0)
		return;
	err = errno;
	(void)unlink(tmp);
	if (err == ENOSPC && pidfile_overwrite(d->pidfile, text) == 0)
		return;
	errno = err;
	fatal("cannot write pid file '%s'", d->pidfile);
}

void
daemon_shutdown(struct daemon *d)
{
	svcx_release();
	if (d->registered)
		svc_unreg(d->prog, d->vers);
	if (d->pidfile != NULL)
		unlink(d->pidfile);
}

void
svcloop_set_round(void (*fn)(void *), void *arg)
{
	round_fn = fn;
	round_arg = arg;
}

void
svcloop_set_source(const struct svcloop_src *s)
{
	if (s != NULL)
		src = *s;
	else
		memset(&src, 0, sizeof(src));
}

void
svcloop_break(void)
{
	breaking = 1;
}

/* The poll(2) timeout: the tick's, svcx's and the source's, whichever
 * is first. */
static int
loop_timeout(int tick, unsigned long long next)
{
	unsigned long long	now = now_ms();
	int			t = -1, x = svcx_timeout();

	if (tick)
		t = next > now ? (int)(next - now) : 0;
	if (x >= 0 && (t < 0 || x < t))
		t = x;
	x = src.timeout != NULL ? src.timeout(src.arg) : -1;
	if (x >= 0 && (t < 0 || x < t))
		t = x;
	return t;
}

/* Entries of pfd[0..n) with events. */
static int
count_ready(const struct pollfd *pfd, int n)
{
	int	i, k = 0;

	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			k++;
	return k;
}

int
svcloop_run(int tick_ms, void (*tick)(void *), void *arg)
{
	struct pollfd		*pfd = NULL;
	size_t			 cap = 0;
	unsigned long long	 next = now_ms() + (unsigned long long)tick_ms;
	int			 n, nx, nready, sig;

	for (;;) {
		/* libtirpc's transports (dfs-filed's), the signal pipe,
		 * the source (-1 when none), then svcx's connections
		 * (dfs-named's, dfs-lockd's) */
		n = svc_max_pollfd;
		if ((size_t)n + 2 > cap) {
			pfd = realloc(pfd, sizeof(*pfd) * (size_t)(n + 2));
			if (pfd == NULL)
				fatal("realloc");
			cap = (size_t)n + 2;
		}
		if (n > 0)	/* svc_pollfd is NULL while it has none */
			memcpy(pfd, svc_pollfd, sizeof(*pfd) * (size_t)n);
		pfd[n].fd = sigpipe_fds[0];
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		pfd[n + 1].fd = -1;
		pfd[n + 1].events = 0;
		pfd[n + 1].revents = 0;
		if (src.pollfd != NULL)
			src.pollfd(src.arg, &pfd[n + 1]);
		if ((nx = svcx_pollset(&pfd, &cap, (size_t)n + 2)) < 0)
			fatal("realloc");
		nready = poll(pfd, (nfds_t)(n + 2 + nx),
		    loop_timeout(tick != NULL, next));
		if (nready == -1 && errno != EINTR)
			fatal("poll");
		if (nready > 0 && pfd[n].revents != 0) {
			sig = svcloop_signal();
			if (sig != 0) {
				free(pfd);
				return sig;
			}
		}
		/* svc_getreq_poll walks pfd until it has seen nready
		 * entries with events: count only libtirpc's */
		if (nready > 0 && (nready = count_ready(pfd, n)) > 0)
			svc_getreq_poll(pfd, nready);
		if (src.run != NULL)
			src.run(src.arg, pfd[n + 1].revents);
		svcx_run(pfd + n + 2, nx);
		if (round_fn != NULL)
			round_fn(round_arg);
		if (breaking) {
			breaking = 0;
			free(pfd);
			return 0;
		}
		if (tick != NULL && now_ms() >= next) {
			tick(arg);
			next = now_ms() + (unsigned long long)tick_ms;
		}
	}
}
