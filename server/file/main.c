/*
 * main.c -- dfs-filed: options and start-up.
 *
 * The daemon's processes, the supervisor, its workers and its registrar,
 * are described in super.h and live in super.c and worker.c.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "path.h"
#include "super.h"

#define FILED_WORKERS		64
#define FILED_MAXCONNS		16384
#define REG_TIMEOUT_MS		2000

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: dfs-filed [-dNv] [-a connections] [-b address] "
	    "[-C connections]\n"
	    "                 -D statedir [-g seconds] [-P pidfile] "
	    "[-p port] [-r seconds]\n"
	    "                 -s host[:port] [-t seconds] [-u user] "
	    "[-w workers] [-x prefix] ...\n");
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
	/* ORDER: the state is opened, and every process forked, as the
	 * user of -u */
	daemon_privdrop(&s->d, DFS_FILE_PROG, DFS_FILE_VERS);
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
	super_spawn_registrar(&s);
	for (i = 0; i < FILED_MIN_SPARE && i < s.nworkers; i++)
		(void)super_spawn_worker(&s);
	daemon_ready(&s.d);
	log_info("serving, at most %d workers and %d connections",
	    s.nworkers, s.cs.max);
	super_run(&s);
	log_info("shutting down");
	super_stop(&s);
	/* the uploads on open connections fail: their stages go */
	conns_release(&s.cs);
	daemon_shutdown(&s.d);
	filed_ctx_release(&s.fc);
	/* daemon_check() made these absolute with malloc(3) */
	free(s.d.statedir);
	free(s.d.pidfile);
	return 0;
}
