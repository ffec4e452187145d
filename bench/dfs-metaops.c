/*
 * dfs-metaops.c -- name-server metadata ops per second, from CLIENTS
 * concurrent clients.
 *
 * usage: dfs-metaops [-s HOST[:PORT]] [-c CLIENTS] [-t SECONDS]
 *            stat|create DIR
 *
 * Each client is a forked process with a libdfs connection of its own,
 * so the clients run in parallel the way separate programs would and
 * the name server sees CLIENTS connections.  They connect first, then
 * start together and run for SECONDS:
 *
 *	stat	dfs_getattr() of existing files: 100 small files made under
 *		DIR (and DIR itself, mkdir -p style) before the run and
 *		removed after it; client i starts at file i.
 *	create	a new empty file (dfs_open "w" + dfs_close: the cheapest
 *		public way to make one) and dfs_unlink() of it; one create
 *		plus its remove is one op.
 *
 * Prints exactly one line, which bench/run.sh parses:
 *
 *	<workload> clients=<c> ops=<n> seconds=<s> ops_per_s=<x>
 *
 * seconds is the longest client's measured run.  Any failure prints
 * "dfs-metaops: ..." on stderr and exits 1.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dfs.h"

#define PROG		"dfs-metaops"
#define NFILES		100		/* the stat workload's files */
#define MAXCLIENTS	256
#define MAXSECONDS	3600

enum workload { W_STAT, W_CREATE };

struct opts {
	const char	*server;	/* -s; NULL: $DFS_SERVER */
	int		 clients;	/* -c */
	double		 seconds;	/* -t */
	enum workload	 work;
	const char	*dir;		/* absolute, no trailing '/' */
	char		*paths[NFILES];	/* stat: made once, not per op */
};

/* What a client sends back through its pipe. */
struct result {
	uint64_t	ops;
	uint64_t	ns;		/* its measured run */
	int		ok;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: " PROG " [-s HOST[:PORT]] [-c CLIENTS] "
	    "[-t SECONDS] stat|create DIR\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Parses -c.  Returns the count, or 0 for a bad one. */
static int
parse_clients(const char *s)
{
	char	*ep;
	long	 v;

	errno = 0;
	v = strtol(s, &ep, 10);
	if (*s < '0' || *s > '9' || *ep != '\0' || errno != 0 || v < 1 ||
	    v > MAXCLIENTS)
		return 0;
	return (int)v;
}

/* Parses -t (fractions allowed).  Returns the seconds, or 0 for bad. */
static double
parse_seconds(const char *s)
{
	char	*ep;
	double	 v;

	errno = 0;
	v = strtod(s, &ep);
	if (((*s < '0' || *s > '9') && *s != '.') || *ep != '\0' ||
	    errno != 0 || !(v > 0) || v > MAXSECONDS)
		return 0;
	return v;
}

/* Fills o from the command line; exits on --help and bad usage. */
static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char	dir[4096];
	size_t		n;
	int		ch;

	memset(o, 0, sizeof(*o));
	o->clients = 1;
	o->seconds = 3;
	while ((ch = getopt_long(argc, argv, "c:hs:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if ((o->clients = parse_clients(optarg)) == 0)
				die("bad client count '%s' (1..%d)", optarg,
				    MAXCLIENTS);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 's':
			o->server = optarg;
			break;
		case 't':
			if ((o->seconds = parse_seconds(optarg)) == 0)
				die("bad duration '%s' (seconds, up to %d)",
				    optarg, MAXSECONDS);
			break;
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		exit(1);
	}
	if (strcmp(argv[optind], "stat") == 0)
		o->work = W_STAT;
	else if (strcmp(argv[optind], "create") == 0)
		o->work = W_CREATE;
	else
		die("unknown workload '%s' (stat or create)", argv[optind]);
	n = strlen(argv[optind + 1]);
	if (argv[optind + 1][0] != '/' || n >= sizeof(dir) - 32)
		die("'%s': not an absolute dfs path", argv[optind + 1]);
	memcpy(dir, argv[optind + 1], n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	o->dir = dir;
}

static struct dfs *
connect_or_die(const struct opts *o)
{
	struct dfs_opts	 dopts = DFS_OPTS_INIT;
	struct dfs	*dfs;
	int		 rc;

	dopts.server = o->server;
	dopts.no_cache = 1;		/* nothing here reads file data */
	rc = dfs_connect(&dfs, &dopts);
	if (rc != 0)
		die("cannot connect to the name server%s%s: %s",
		    o->server != NULL ? " " : "",
		    o->server != NULL ? o->server : "", dfs_strerror(rc));
	return dfs;
}

/* Makes DIR and its missing parents.  Exits on failure. */
static void
mkdir_p(struct dfs *dfs, const char *dir)
{
	char	path[4096];
	size_t	i;
	int	rc;

	snprintf(path, sizeof(path), "%s/", dir);
	for (i = 1; path[i] != '\0'; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		rc = dfs_mkdir(dfs, path, 0755);
		if (rc != 0 && rc != -DFS_ERR_EXIST)
			die("%s: %s", path, dfs_strerror(rc));
		path[i] = '/';
	}
}

/* Creates (or truncates) an empty file.  Returns 0 or a status. */
static int
create_empty(struct dfs *dfs, const char *path)
{
	struct dfs_file	*f;
	int		 rc;

	rc = dfs_open(dfs, path, "w", &f);
	return rc != 0 ? rc : dfs_close(f);
}

/* The stat workload's files: names them in o->paths and makes them.
 * Exits on failure. */
static void
setup_stat(struct dfs *dfs, struct opts *o)
{
	int	i, rc;

	for (i = 0; i < NFILES; i++) {
		if (asprintf(&o->paths[i], "%s/metaops-%03d", o->dir, i) == -1)
			die("%s", strerror(errno));
		if ((rc = create_empty(dfs, o->paths[i])) != 0)
			die("%s: %s", o->paths[i], dfs_strerror(rc));
	}
}

/* Removes the stat workload's files.  Returns 0 or -1 (reported). */
static int
cleanup_stat(struct dfs *dfs, struct opts *o)
{
	int	i, rc, ret = 0;

	for (i = 0; i < NFILES; i++) {
		rc = dfs_unlink(dfs, o->paths[i]);
		if (rc != 0 && rc != -DFS_ERR_NOENT) {
			fprintf(stderr, PROG ": %s: %s\n", o->paths[i],
			    dfs_strerror(rc));
			ret = -1;
		}
		free(o->paths[i]);
	}
	return ret;
}

/* One op of the workload, the n-th of client `id`.  Returns 0 or -1
 * (reported). */
static int
one_op(struct dfs *dfs, const struct opts *o, int id, uint64_t n)
{
	struct dfs_info	 st;
	char		 buf[4200];
	const char	*path = buf;
	int		 rc;

	if (o->work == W_STAT) {
		path = o->paths[(n + (uint64_t)id) % NFILES];
		rc = dfs_getattr(dfs, path, &st);
	} else {
		snprintf(buf, sizeof(buf), "%s/metaops-c%d-%ld-%llu",
		    o->dir, id, (long)getpid(), (unsigned long long)n);
		rc = create_empty(dfs, path);
		if (rc == 0)
			rc = dfs_unlink(dfs, path);
	}
	if (rc == 0)
		return 0;
	fprintf(stderr, PROG ": %s: %s%s%s\n", path, dfs_strerror(rc),
	    dfs_errdetail(dfs)[0] != '\0' ? ": " : "", dfs_errdetail(dfs));
	return -1;
}

/*
 * A client: connects, says it is ready (one byte on `ready`), waits for
 * the start (`go` closing), runs the workload for o->seconds and writes
 * its struct result to `out`.  Never returns.
 */
static void __attribute__((noreturn))
client(const struct opts *o, int id, int ready, int go, int out)
{
	struct dfs	*dfs;
	struct result	 r = { 0, 0, 0 };
	uint64_t	 start, deadline, now;
	char		 c = 'r';

	dfs = connect_or_die(o);
	/* ORDER: close `ready` before waiting, so that a client that failed
	 * to connect ends the parent's wait with EOF instead of a hang */
	if (write(ready, &c, 1) != 1 || close(ready) != 0 ||
	    read(go, &c, 1) != 0)
		_exit(1);
	start = now_ns();
	deadline = start + (uint64_t)(o->seconds * 1e9);
	do {
		if (one_op(dfs, o, id, r.ops) != 0)
			goto out;
		r.ops++;
	} while ((now = now_ns()) < deadline);
	r.ns = now - start;
	r.ok = 1;
out:
	dfs_disconnect(dfs);
	_exit(write(out, &r, sizeof(r)) == (ssize_t)sizeof(r) && r.ok ?
	    0 : 1);
}

/*
 * Forks the clients, starts them together once all are connected and
 * sums their results into *ops and *secs (the longest run).  Returns 0,
 * or -1 when a client failed (it said why).
 */
static int
run_clients(const struct opts *o, uint64_t *ops, double *secs)
{
	pid_t		pids[MAXCLIENTS];
	struct result	r;
	int		ready[2], go[2], out[2], i, st, failed = 0;
	uint64_t	maxns = 0;
	char		c;

	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(out) == -1)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	for (i = 0; i < o->clients; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			client(o, i, ready[1], go[0], out[1]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	/* a client that could not connect exits, and ready hits EOF */
	for (i = 0; i < o->clients; i++)
		if (read(ready[0], &c, 1) != 1)
			failed = 1;
	close(go[1]);			/* go */
	*ops = 0;
	while (read(out[0], &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		*ops += r.ops;
		if (r.ns > maxns)
			maxns = r.ns;
		if (!r.ok)
			failed = 1;
	}
	for (i = 0; i < o->clients; i++)
		if (waitpid(pids[i], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			failed = 1;
	close(ready[0]);
	close(out[0]);
	*secs = (double)maxns / 1e9;
	return failed ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	struct dfs	*dfs;
	uint64_t	 ops;
	double		 secs;
	int		 rc;

	/* a server closing its socket is an error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &o);
	/* ORDER: no connection open across fork(): each client makes its
	 * own */
	dfs = connect_or_die(&o);
	mkdir_p(dfs, o.dir);
	if (o.work == W_STAT)
		setup_stat(dfs, &o);
	dfs_disconnect(dfs);
	rc = run_clients(&o, &ops, &secs);
	if (o.work == W_STAT) {
		dfs = connect_or_die(&o);
		if (cleanup_stat(dfs, &o) != 0)
			rc = -1;
		dfs_disconnect(dfs);
	}
	if (rc != 0)
		die("%s run failed", o.work == W_STAT ? "stat" : "create");
	printf("%s clients=%d ops=%llu seconds=%.3f ops_per_s=%.0f\n",
	    o.work == W_STAT ? "stat" : "create", o.clients,
	    (unsigned long long)ops, secs, secs > 0 ? (double)ops / secs : 0);
	return 0;
}
