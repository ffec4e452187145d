/*
 * main.c -- dfs-lockd: options and the daemon skeleton.
 *
 * The lock table is loaded from the state directory before the service
 * starts; with -s the server registers with the name server from a
 * thread of its own (heartbeat.c).  The loop's tick answers waiting LOCK
 * requests (wait.c) and, hourly, forgets old revoked ids.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv.h"
#include "lockd.h"
#include "log.h"
#include "svcloop.h"

/* Waiters are granted on release at once; the tick serves lapsed leases
 * and wait deadlines, so a waiter hears within TICK_MS of either. */
#define TICK_MS		50
#define GC_EVERY_MS	(3600 * 1000ULL)	/* forget old revoked ids */

/* Everything main() owns; the tick gets a pointer to it. */
struct lockd_main {
	struct daemon		 d;
	struct lock_ctx		 ctx;
	const char		*namespec;		/* -s */
	struct heartbeat	 hb;
	unsigned long long	 next_gc;
};

static void __attribute__((noreturn))
usage(const char *progname, int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-dNv] [-a connections] [-b address] "
	    "[-C connections]\n"
	    "                 -D statedir [-l | --lease seconds] [-p port] "
	    "[-P pidfile]\n"
	    "                 [-r seconds] [-s host[:port]] [-t seconds] "
	    "[-u user]\n"
	    "                 [--max-lease seconds] [--max-paths n] "
	    "[--client-paths n]\n"
	    "                 [--max-waiters n] [--client-waiters n]\n",
	    progname);
	exit(status);
}

/* Parses -l (--lease).  Returns the lease in milliseconds, or 0 when
 * invalid. */
static unsigned int
parse_lease(const char *arg)
{
	char		*ep;
	unsigned long	 s;

	s = strtoul(arg, &ep, 10);
	if (*arg < '0' || *arg > '9' || *ep != '\0' || s < 1 ||
	    s > LOCKD_MAX_LEASE_MS / 1000)
		return 0;
	return (unsigned int)s * 1000;
}

/* Parses the command line into m; exits on bad usage or --help. */
static void
parse_args(struct lockd_main *m, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "lease", required_argument, NULL, 'l' },
		LOCKD_LIMITS_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int	ch, rc;

	m->d.progname = "dfs-lockd";
	m->ctx.default_lease_ms = LOCKD_DEFAULT_LEASE_S * 1000;
	limits_default(&m->ctx.lim);
	while ((ch = getopt_long(argc, argv, DAEMON_OPTSTRING "l:s:",
	    longopts, NULL)) != -1) {
		rc = daemon_getopt(&m->d, ch, optarg);
		if (rc == 0)
			rc = limits_getopt(&m->ctx.lim, ch, optarg);
		if (rc == 1)
			continue;
		if (rc == -1)
			usage(m->d.progname, 1);
		if (ch == 'h')
			usage(m->d.progname, 0);
		if (ch == 's') {
			m->namespec = optarg;
			continue;
		}
		if (ch != 'l')
			usage(m->d.progname, 1);
		m->ctx.default_lease_ms = parse_lease(optarg);
		if (m->ctx.default_lease_ms == 0) {
			fprintf(stderr, "%s: bad lease '%s' (1..86400 "
			    "seconds)\n", m->d.progname, optarg);
			usage(m->d.progname, 1);
		}
	}
	if (optind != argc || daemon_check(&m->d) != 0)
		usage(m->d.progname, 1);
}

/* Opens the state directory and loads the lock table; exits on failure. */
static void
open_state(struct lockd_main *m)
{
	char	err[512];

	if (kv_open(&m->ctx.kv, m->d.statedir, "lockd", err,
	    sizeof(err)) != 0)
		fatalx("cannot open state in '%s': %s", m->d.statedir, err);
	if (table_load(&m->ctx, err, sizeof(err)) != 0)
		fatalx("cannot load locks from '%s': %s", m->d.statedir, err);
	log_info("%zu locks loaded, instance %016llx", m->ctx.nlocks,
	    (unsigned long long)m->ctx.instance);
	compound_setctx(&m->ctx);
}

/* The loop's tick: waiting LOCK requests and, hourly, forgetting
 * revoked ids older than a day.  Cheap when nobody waits. */
static void
tick(void *arg)
{
	struct lockd_main	*m = arg;
	unsigned long long	 now = now_ms();

	wait_tick(&m->ctx, now);
	if (now < m->next_gc)
		return;
	m->next_gc = now + GC_EVERY_MS;
	if (table_gc(&m->ctx, (int64_t)time(NULL)) < 0 ||
	    kv_commit(m->ctx.kv) != 0)
		fatalx("cannot forget old revoked lock ids");
}

int
main(int argc, char **argv)
{
	struct lockd_main		m;
	char				err[512];
	int				sig;

	memset(&m, 0, sizeof(m));
	parse_args(&m, argc, argv);
	log_init(m.d.progname, m.d.foreground);
	log_setverbose(m.d.verbose);
	/* ORDER: the state is opened as the user of -u */
	daemon_privdrop(&m.d, DFS_LOCK_PROG, DFS_LOCK_VERS);
	open_state(&m);
	daemon_serve(&m.d, DFS_LOCK_PROG, DFS_LOCK_VERS, dfs_lock_prog_1,
	    1 << 20);
	if (m.namespec != NULL && heartbeat_start(&m.hb, &m.ctx, m.namespec,
	    m.d.statedir, m.d.bindaddr, m.d.boundport, err, sizeof(err)) != 0)
		fatalx("%s", err);
	m.next_gc = now_ms() + GC_EVERY_MS;
	daemon_ready(&m.d);
	log_info("serving on %s port %u", m.d.bindaddr, m.d.boundport);
	sig = svcloop_run(TICK_MS, tick, &m);
	log_info("signal %d, shutting down", sig);
	heartbeat_stop(&m.hb);
	daemon_shutdown(&m.d);
	/* waiters are not durable: their clients see the connection close */
	wait_release(&m.ctx);
	table_release(&m.ctx);
	kv_close(m.ctx.kv);
	/* daemon_check() made these absolute copies */
	free(m.d.statedir);
	free(m.d.pidfile);
	return 0;
}


