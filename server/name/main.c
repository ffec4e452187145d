/*
 * main.c -- dfs-named: options, start-up and the service loop.
 *
 * A single-threaded poll(2) loop (lib/svcloop.c) over svcx's
 * connections (lib/svcx.c).  Its one
 * outgoing call is the lock check before a mutation (locks.c), bounded
 * by a short timeout; nothing else can make it wait on another machine.
 * State is in <statedir>/named.* (lib/kv.h); each round of the loop ends
 * with one log sync for all the changes it made (group.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpc.h>

#include "kv.h"
#include "log.h"
#include "named.h"
#include "svcloop.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: dfs-named [-dNv] [-a connections] [-b address] "
	    "[-C connections]\n"
	    "                 [-H ms] [-p port] [-P pidfile] [-r seconds] "
	    "[-t seconds]\n"
	    "                 [-U seconds] [-u user] -D statedir\n");
}

/* Parses -H.  Returns the interval, or 0 for a bad one. */
static unsigned int
parse_heartbeat(const char *arg)
{
	char		*ep;
	unsigned long	 v;

	errno = 0;
	v = strtoul(arg, &ep, 10);
	if (*arg < '0' || *arg > '9' || *ep != '\0' || errno != 0 ||
	    v < NAMED_HB_MIN || v > NAMED_HB_MAX)
		return 0;
	return (unsigned int)v;
}

/* Parses -U.  Returns the age in seconds, or 0 for a bad one. */
static unsigned int
parse_age(const char *arg)
{
	char		*ep;
	unsigned long	 v;

	errno = 0;
	v = strtoul(arg, &ep, 10);
	if (*arg < '0' || *arg > '9' || *ep != '\0' || errno != 0 ||
	    v < 1 || v > NAMED_PROV_AGE_MAX)
		return 0;
	return (unsigned int)v;
}

/* Parses the command line into d, *hb and *age; exits on -h or bad
 * usage. */
static void
parse_args(int argc, char **argv, struct daemon *d, unsigned int *hb,
    unsigned int *age)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, rc;

	while ((ch = getopt_long(argc, argv, DAEMON_OPTSTRING "H:U:",
	    longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(0);
		}
		if (ch == 'H') {
			*hb = parse_heartbeat(optarg);
			if (*hb != 0)
				continue;
			fprintf(stderr, "%s: bad heartbeat interval '%s' "
			    "(%d..%d ms)\n", d->progname, optarg,
			    NAMED_HB_MIN, NAMED_HB_MAX);
			exit(1);
		}
		if (ch == 'U') {
			*age = parse_age(optarg);
			if (*age != 0)
				continue;
			fprintf(stderr, "%s: bad sweep age '%s' (1..%d "
			    "seconds)\n", d->progname, optarg,
			    NAMED_PROV_AGE_MAX);
			exit(1);
		}
		rc = daemon_getopt(d, ch, optarg);
		if (rc == 1)
			continue;
		if (rc == 0)
			usage(stderr);
		exit(1);
	}
	if (optind != argc) {
		usage(stderr);
		exit(1);
	}
	if (daemon_check(d) != 0)
		exit(1);
}

/* Every heartbeat interval: server liveness, then the sweep of new
 * files whose upload never committed. */
static void
tick(void *arg)
{
	srv_tick(arg);
	prov_sweep(arg);
}

/* The end of each round of the loop: one log sync for every change the
 * round made, then the replies held for it (group.c). */
static void
round_end(void *arg)
{
	group_flush(arg);
}

int
main(int argc, char **argv)
{
	struct daemon		d;
	struct named_ctx	nc;
	struct kv		*kv;
	unsigned int		hb = NAMED_HB_DEFAULT;
	unsigned int		age = NAMED_PROV_AGE_DEFAULT;
	char			err[512];

	memset(&d, 0, sizeof(d));
	d.progname = "dfs-named";
	parse_args(argc, argv, &d, &hb, &age);
	log_init(d.progname, d.foreground);
	log_setverbose(d.verbose);
	/* ORDER: the state is opened as the user of -u */
	daemon_privdrop(&d, DFS_NAME_PROG, DFS_NAME_VERS);
	if (kv_open(&kv, d.statedir, "named", err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (named_init(&nc, kv, hb, err, sizeof(err)) != 0)
		fatalx("cannot load state in '%s': %s", d.statedir, err);
	nc.prov_age_s = age;
	named_set_ctx(&nc);
	daemon_serve(&d, DFS_NAME_PROG, DFS_NAME_VERS, dfs_name_prog_1,
	    1 << 20);
	locks_init(&nc);
	daemon_ready(&d);
	log_info("serving, instance %016llx, heartbeat %u ms",
	    (unsigned long long)nc.instance, hb);
	svcloop_set_round(round_end, &nc);
	svcloop_run((int)hb, tick, &nc);
	log_info("shutting down");
	group_flush(&nc);
	daemon_shutdown(&d);
	locks_fini(&nc);
	named_release(&nc);
	kv_close(kv);
	free(d.statedir);
	free(d.pidfile);
	return 0;
}


