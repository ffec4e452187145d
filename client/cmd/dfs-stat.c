/*
 * dfs-stat -- show the attributes of dfs files and directories, or (-S)
 * the op counters of every server of a dfs, like nfsstat -s.
 *
 * -S speaks the protocol itself (request.h, rpcc.h): one STATS op to the name
 * server, to the lock server and to each file server it lists, so the
 * numbers are the servers' own, not libdfs's view of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "request.h"
#include "rpcc.h"
#include "tool.h"

#define USAGE		"dfs-stat [-S] [-s server] [path ...]"
#define STAT_TIMEOUT_MS	5000

/* Formats ns since the epoch as local time with nanoseconds, e.g.
 * "2024-05-01 12:34:56.123456789 +0200", into buf.  Returns buf. */
static char *
fmt_time(int64_t ns, char *buf, size_t len)
{
	char		 date[32], zone[8];
	time_t		 sec;
	long		 frac;
	struct tm	 tm;

	sec = (time_t)(ns / 1000000000);
	frac = (long)(ns % 1000000000);
	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	localtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%09ld %s", date, frac, zone);
	return buf;
}

static void
print_info(const char *arg, const struct dfs_info *st)
{
	char	mode[11], t1[64], t2[64];

	printf("   File: %s\n", arg);
	printf("   Size: %llu\n", (unsigned long long)st->size);
	printf("   Type: %s\n", st->type == DFS_FTYPE_DIR ? "directory" :
	    "regular file");
	printf("   Mode: %04o (%s)\n", st->mode & 07777,
	    tool_modestr(st->type, st->mode, mode));
	printf("    Uid: %u\n", st->uid);
	printf("    Gid: %u\n", st->gid);
	printf("  Links: %u\n", st->nlink);
	printf("Version: %llu\n", (unsigned long long)st->version);
	printf("File id: %llu\n", (unsigned long long)st->fileid);
	printf(" Modify: %s\n", fmt_time(st->mtime_ns, t1, sizeof(t1)));
	printf(" Change: %s\n", fmt_time(st->ctime_ns, t2, sizeof(t2)));
}

/* Prints a server's counters under its header, after a blank line
 * unless it is the first: one line per op, ops never called included. */
static void
print_counters(const char *header, const stats_res *sr, int first)
{
	const dfs_counter	*c = sr->stats_res_u.counters.counters_val;
	u_int			 i;

	printf("%s%s\n", first ? "" : "\n", header);
	printf("  %-12s %14s %16s\n", "op", "calls", "bytes");
	for (i = 0; i < sr->stats_res_u.counters.counters_len; i++)
		printf("  %-12s %14llu %16llu\n", c[i].name,
		    (unsigned long long)c[i].calls,
		    (unsigned long long)c[i].bytes);
}

/* Reports a failed call or op on the server `what`; returns -1. */
static int
call_failed(struct tool *t, const char *what, enum clnt_stat cst,
    dfs_stat st)
{
	tool_err(t, what, cst != RPC_SUCCESS ? rpcc_error(cst) : -(int)st);
	return -1;
}

/* LOCK_COMPOUND [STATS] on c, printed.  Returns 0 or -1 (reported). */
static int
lock_stats(struct tool *t, CLIENT *c, const char *what)
{
	lock_compound_res	res;
	struct lock_req		r = { .n = 0 };
	enum clnt_stat		cst;
	int			rc = 0;

	lock_req_add(&r, LOP_STATS);
	cst = lock_call(c, &r, &res);
	if (cst != RPC_SUCCESS || res.status != DFS_OK)
		rc = call_failed(t, what, cst, res.status);
	else
		print_counters(what, &res.res.res_val[0].lock_resop_u.stats,
		    0);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

/* FILE_COMPOUND [STATS] on c, printed.  Returns 0 or -1 (reported). */
static int
file_stats(struct tool *t, CLIENT *c, const char *what)
{
	file_compound_res	res;
	struct file_req		r = { .n = 0 };
	enum clnt_stat		cst;
	int			rc = 0;

	file_req_add(&r, FOP_STATS);
	cst = file_call(c, &r, &res);
	if (cst != RPC_SUCCESS || res.status != DFS_OK)
		rc = call_failed(t, what, cst, res.status);
	else
		print_counters(what, &res.res.res_val[0].file_resop_u.stats,
		    0);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return rc;
}

/* Prints the counters of the lock (kind DFS_SRV_LOCK) or file server s;
 * one that is not live is only listed.  Returns 0 or -1 (reported). */
static int
show_server(struct tool *t, const dfs_server *s)
{
	CLIENT	*c;
	char	 what[320], err[256];
	int	 lock = s->kind == DFS_SRV_LOCK, rc;

	if (lock)
		snprintf(what, sizeof(what), "lock server %s:%u", s->host,
		    s->port);
	else
		snprintf(what, sizeof(what), "file server %llu %s:%u",
		    (unsigned long long)s->id, s->host, s->port);
	if (!s->live) {
		printf("\n%s\n  (not live: no heartbeat)\n", what);
		return 0;
	}
	c = rpcc_connect(s->host, s->port, lock ? DFS_LOCK_PROG :
	    DFS_FILE_PROG, lock ? DFS_LOCK_VERS : DFS_FILE_VERS,
	    STAT_TIMEOUT_MS, 0, err, sizeof(err));
	if (c == NULL) {
		tool_errx(t, what, "%s", err);
		return -1;
	}
	rc = lock ? lock_stats(t, c, what) : file_stats(t, c, what);
	clnt_destroy(c);
	return rc;
}

/* Shows the counters of every server of `kind` in the SERVERS reply, in
 * its order (by id). */
static void
show_kind(struct tool *t, const servers_res *sv, dfs_srvkind kind)
{
	u_int	i;

	for (i = 0; i < sv->servers_res_u.servers.servers_len; i++)
		if (sv->servers_res_u.servers.servers_val[i].kind == kind)
			(void)show_server(t,
			    &sv->servers_res_u.servers.servers_val[i]);
}

/* Connects to the name server of -s or $DFS_SERVER, writing its header
 * line into what; exits 1 (said why) when there is none or it does not
 * answer. */
static CLIENT *
connect_named(struct tool *t, char *what, size_t len)
{
	const char	*spec = tool_server(t);
	char		 host[256], err[256];
	unsigned int	 port;
	CLIENT		*c;

	if (rpcc_parse(spec, host, sizeof(host), &port) != 0)
		tool_bad_server(t, spec);
	c = rpcc_connect(host, port, DFS_NAME_PROG, DFS_NAME_VERS,
	    STAT_TIMEOUT_MS, 0, err, sizeof(err));
	if (c == NULL)
		tool_unreachable(t, spec, err);
	if (port != 0)
		snprintf(what, len, "name server %s:%u", host, port);
	else
		snprintf(what, len, "name server %s", host);
	return c;
}

/*
 * -S: the name server's counters, then those of the lock server and of
 * each file server it lists ([SERVERS, STATS] in one COMPOUND).  Returns
 * the exit status: 1 if any server could not be asked.
 */
static int
show_counters(struct tool *t)
{
	name_compound_res	 res;
	struct name_req		 r = { .n = 0 };
	const servers_res	*sv;
	enum clnt_stat		 cst;
	CLIENT			*c;
	char			 what[320];

	c = connect_named(t, what, sizeof(what));
	name_req_add(&r, OP_SERVERS);
	name_req_add(&r, OP_STATS);
	cst = name_call(c, &r, &res);
	if (cst != RPC_SUCCESS || res.status != DFS_OK) {
		(void)call_failed(t, what, cst, res.status);
		goto out;
	}
	print_counters(what, &res.res.res_val[1].name_resop_u.stats, 1);
	sv = &res.res.res_val[0].name_resop_u.servers;
	show_kind(t, sv, DFS_SRV_LOCK);
	show_kind(t, sv, DFS_SRV_FILE);
out:
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	clnt_destroy(c);
	return tool_exit(t);
}

int
main(int argc, char *argv[])
{
	struct tool	t;
	struct dfs_info	st;
	char		path[PATH_MAX];
	int		i, rc, ch, counters = 0;

	tool_init(&t, "dfs-stat", USAGE);
	while ((ch = tool_getopt(&t, argc, argv, "S", NULL)) != -1) {
		if (ch != 'S')
			tool_usage(&t);
		counters = 1;
	}
	/* paths, or -S and none */
	if (counters ? optind != argc : optind >= argc)
		tool_usage(&t);
	if (counters)
		return show_counters(&t);
	tool_connect(&t);
	for (i = optind; i < argc; i++) {
		if (tool_path(&t, argv[i], path) != 0)
			continue;
		if ((rc = dfs_getattr(t.dfs, path, &st)) != 0)
			tool_err(&t, argv[i], rc);
		else
			print_info(argv[i], &st);
	}
	return tool_exit(&t);
}
