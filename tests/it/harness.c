/*
 * harness.c -- start real dfs daemons for integration tests.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cutest.h"
#include "harness.h"
#include "rpcc.h"

#define READY_POLL_MS	20
/* 20 s (30 s under valgrind): only a failure waits that long, and a
 * loaded machine must not be one */
#define READY_TRIES	(getenv("DFS_VALGRIND") ? 1500 : 1000)

static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

unsigned int
harness_free_port(void)
{
	unsigned int	port = 0;
	int		fd;

	fd = cutest_bind_loopback(&port);
	if (fd != -1)
		close(fd);
	return fd != -1 ? port : 0;
}

int
harness_mkroot(char *out, size_t outlen)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(out, outlen, "%s/dfs-it.XXXXXX", tmp ? tmp : "/tmp");
	return mkdtemp(out) != NULL ? 0 : -1;
}

int
harness_rmtree(const char *path)
{
	pid_t	pid;
	int	st;

	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static const char *
bindir(void)
{
	const char	*b = getenv("DFS_BIN");

	return b != NULL ? b : "build/bin";
}

void
harness_init(struct dproc *d, const char *prog, rpcprog_t rpcprog,
    const char *root, const char *name)
{
	memset(d, 0, sizeof(*d));
	d->prog = prog;
	d->rpcprog = rpcprog;
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "%s/%s", root, name);
	snprintf(d->log, sizeof(d->log), "%s/%s.log", root, name);
	snprintf(d->pidfile, sizeof(d->pidfile), "%s/%s.pid", root, name);
}

/* With DFS_VALGRIND set, daemons run under memcheck: an error makes
 * them exit 99, which harness_stop() reports like any unclean exit. */
static int
valgrind_argv(const char **argv, char *supp, size_t supplen)
{
	int	n = 0;

	if (getenv("DFS_VALGRIND") == NULL)
		return 0;
	snprintf(supp, supplen, "--suppressions=%s/valgrind.supp",
	    getenv("DFS_TESTS") != NULL ? getenv("DFS_TESTS") : "tests");
	argv[n++] = "valgrind";
	argv[n++] = "-q";
	argv[n++] = "--error-exitcode=99";
	argv[n++] = "--leak-check=full";
	argv[n++] = "--errors-for-leak-kinds=definite";
	argv[n++] = supp;
	return n;
}

/* In the child: redirect output to the log and exec the daemon. */
static void
exec_daemon(const struct dproc *d)
{
	const char	*argv[40];
	char		 path[1024], port[16], supp[1100];
	int		 n, i, fd;

	snprintf(path, sizeof(path), "%s/%s", bindir(), d->prog);
	snprintf(port, sizeof(port), "%u", d->port);
	n = valgrind_argv(argv, supp, sizeof(supp));
	argv[n++] = path;
	argv[n++] = "-d";
	argv[n++] = "-v";
	argv[n++] = "-b";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "-D";
	argv[n++] = d->dir;
	argv[n++] = "-P";
	argv[n++] = d->pidfile;
	if (!d->rpcbind)
		argv[n++] = "-N";
	for (i = 0; d->extra[i] != NULL && i < 8; i++)
		argv[n++] = d->extra[i];
	argv[n] = NULL;
	/* the daemon dies with the test, even when the test is killed */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "cannot exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Returns 1 when the daemon answers a NULL call. */
static int
answers(const struct dproc *d)
{
	struct timeval	 tv = { 1, 0 };
	CLIENT		*clnt;
	enum clnt_stat	 st;

	clnt = harness_clnt(d);
	if (clnt == NULL)
		return 0;
	st = clnt_call(clnt, 0, XDR_VOID, NULL, XDR_VOID, NULL, tv);
	clnt_destroy(clnt);
	return st == RPC_SUCCESS;
}

int
harness_start(struct dproc *d)
{
	int	i, st;

	if (d->port == 0)
		d->port = harness_free_port();
	unlink(d->pidfile);
	d->pid = fork();
	if (d->pid == -1)
		return -1;
	if (d->pid == 0)
		exec_daemon(d);
	for (i = 0; i < READY_TRIES; i++) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			fprintf(stderr, "%s exited during start-up\n", d->prog);
			d->pid = -1;
			harness_dump_log(d);
			return -1;
		}
		if (access(d->pidfile, F_OK) == 0 && answers(d))
			return 0;
		sleep_ms(READY_POLL_MS);
	}
	fprintf(stderr, "%s did not become ready\n", d->prog);
	harness_dump_log(d);
	harness_kill9(d);
	return -1;
}

/* Waits for the daemon, at most 30 s (a loaded machine), then kills
 * it. */
static int
reap(struct dproc *d)
{
	int	i, st;

	for (i = 0; i < 1500; i++) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			return 128 + WTERMSIG(st);
		}
		sleep_ms(READY_POLL_MS);
	}
	fprintf(stderr, "%s did not exit after SIGTERM\n", d->prog);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = -1;
	return 128 + SIGKILL;
}

int
harness_stop(struct dproc *d)
{
	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	return reap(d);
}

int
harness_kill9(struct dproc *d)
{
	int	st;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = -1;
	return 0;
}

void
harness_dump_log(const struct dproc *d)
{
	char	buf[4096];
	size_t	n;
	FILE	*fp;

	fp = fopen(d->log, "r");
	if (fp == NULL)
		return;
	fprintf(stderr, "----- %s log (%s) -----\n", d->prog, d->log);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "----- end of %s log -----\n", d->prog);
	fclose(fp);
}

CLIENT *
harness_clnt(const struct dproc *d)
{
	char	err[256];

	return rpcc_connect("127.0.0.1", d->rpcbind ? 0 : d->port,
	    d->rpcprog, 1, 5000, 0, err, sizeof(err));
}

const servers_res *
harness_servers(const struct dproc *named, name_compound_res *res)
{
	name_compound_args	 args;
	name_argop		 op;
	CLIENT			*clnt;
	struct timeval		 tv = { 5, 0 };
	int			 ok;

	memset(res, 0, sizeof(*res));
	if ((clnt = harness_clnt(named)) == NULL)
		return NULL;
	memset(&op, 0, sizeof(op));
	op.op = OP_SERVERS;
	args.ops.ops_len = 1;
	args.ops.ops_val = &op;
	ok = clnt_call(clnt, NAME_COMPOUND, (xdrproc_t)xdr_name_compound_args,
	    (char *)&args, (xdrproc_t)xdr_name_compound_res, (char *)res,
	    tv) == RPC_SUCCESS && res->status == DFS_OK &&
	    res->res.res_len == 1;
	clnt_destroy(clnt);
	return ok ? &res->res.res_val[0].name_resop_u.servers : NULL;
}

int
cluster_live(struct cluster *c)
{
	name_compound_res	 res;
	const servers_res	*sr;
	int			 n = -1;
	u_int			 i;

	if ((sr = harness_servers(&c->named, &res)) != NULL)
		for (n = 0, i = 0; i < sr->servers_res_u.servers.servers_len;
		    i++)
			n += sr->servers_res_u.servers.servers_val[i].live;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return n;
}

int
cluster_wait_servers(struct cluster *c, int n)
{
	int	i;

	for (i = 0; i < READY_TRIES; i++) {
		if (cluster_live(c) >= n)
			return 0;
		sleep_ms(READY_POLL_MS);
	}
	fprintf(stderr, "name server never listed %d live servers\n", n);
	return -1;
}

int
cluster_start(struct cluster *c, int nfiled)
{
	return cluster_start_with(c, nfiled, NULL);
}

int
cluster_start_with(struct cluster *c, int nfiled, const char *const *prefixes)
{
	char	name[32];
	int	i;

	memset(c, 0, sizeof(*c));
	if (harness_mkroot(c->root, sizeof(c->root)) == -1)
		return -1;
	c->nfiled = nfiled;
	harness_init(&c->named, "dfs-named", DFS_NAME_PROG, c->root, "named");
	c->named.extra[0] = "-H";
	c->named.extra[1] = "200";
	if (harness_start(&c->named) == -1)
		return -1;
	snprintf(c->named_spec, sizeof(c->named_spec), "127.0.0.1:%u",
	    c->named.port);
	harness_init(&c->lockd, "dfs-lockd", DFS_LOCK_PROG, c->root, "lockd");
	c->lockd.extra[0] = "-s";
	c->lockd.extra[1] = c->named_spec;
	if (harness_start(&c->lockd) == -1)
		goto fail;
	for (i = 0; i < nfiled; i++) {
		snprintf(name, sizeof(name), "filed%d", i);
		harness_init(&c->filed[i], "dfs-filed", DFS_FILE_PROG, c->root,
		    name);
		c->filed[i].extra[0] = "-s";
		c->filed[i].extra[1] = c->named_spec;
		if (prefixes != NULL && prefixes[i] != NULL) {
			c->filed[i].extra[2] = "-x";
			c->filed[i].extra[3] = prefixes[i];
		}
		if (harness_start(&c->filed[i]) == -1)
			goto fail;
	}
	if (cluster_wait_servers(c, 1 + nfiled) == -1)
		goto fail;
	return 0;
fail:
	cluster_dump_logs(c);
	(void)cluster_stop(c);
	return -1;
}

void
cluster_dump_logs(const struct cluster *c)
{
	int	i;

	harness_dump_log(&c->named);
	harness_dump_log(&c->lockd);
	for (i = 0; i < c->nfiled; i++)
		harness_dump_log(&c->filed[i]);
}

int
cluster_stop(struct cluster *c)
{
	int	i, bad = 0;

	/* ORDER: clients of the name server first */
	for (i = 0; i < c->nfiled; i++)
		if (c->filed[i].pid > 0 && harness_stop(&c->filed[i]) != 0)
			bad++;
	if (c->lockd.pid > 0 && harness_stop(&c->lockd) != 0)
		bad++;
	if (c->named.pid > 0 && harness_stop(&c->named) != 0)
		bad++;
	if (bad)
		cluster_dump_logs(c);
	else if (getenv("DFS_KEEP") == NULL && c->root[0] != '\0')
		harness_rmtree(c->root);
	return bad ? -1 : 0;
}

dfs_stat
harness_lock(CLIENT *lc, const char *path, dfs_lockmode mode,
    unsigned int lease_ms, dfs_lockid *id)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	lock_args		*la;
	dfs_path		 p = mkpath(path);
	dfs_stat		 st;

	la = &lock_req_add(&r, LOP_LOCK)->lock_argop_u.lock;
	la->paths.paths_len = 1;
	la->paths.paths_val = &p;
	la->mode = mode;
	la->lease_ms = lease_ms;
	if (lock_call(lc, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	if (st == DFS_OK)
		*id = res.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.id;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

dfs_stat
harness_locktest(CLIENT *lc, const char *path, const dfs_lockid *id,
    dfs_lockmode mode)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	test_args		*ta;
	dfs_stat		 st;

	ta = &lock_req_add(&r, LOP_TEST)->lock_argop_u.test;
	ta->path = mkpath(path);
	ta->id = *id;
	ta->mode = mode;
	if (lock_call(lc, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

int
harness_put(struct dfs *d, const char *path, const struct dfs_lock *lk,
    const char *s)
{
	struct dfs_file	*f;
	ssize_t		 n;
	int		 rc;

	rc = dfs_open_locked(d, path, "w", lk, &f);
	if (rc != 0)
		return rc;
	n = dfs_write(f, s, strlen(s));
	if (n != (ssize_t)strlen(s)) {
		(void)dfs_abort(f);
		return n < 0 ? (int)n : -DFS_ERR_IO;
	}
	return dfs_close(f);
}

int
harness_get(struct dfs *d, const char *path, char *buf, size_t cap)
{
	struct dfs_file	*f;
	ssize_t		 n;
	size_t		 len = 0;
	int		 rc;

	rc = dfs_open(d, path, "r", &f);
	if (rc != 0)
		return rc;
	while ((n = dfs_read(f, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	rc = dfs_close(f);
	return n < 0 ? (int)n : rc;
}

int
harness_filed_counter(struct dproc *d, const char *name, uint64_t *calls,
    uint64_t *bytes)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	CLIENT			*c;
	stats_res		*sr;
	dfs_counter		*k;
	u_int			 i;
	int			 rc = -1;

	if ((c = harness_clnt(d)) == NULL)
		return -1;
	file_req_add(&r, FOP_STATS);
	if (file_call(c, &r, &res) == RPC_SUCCESS) {
		sr = &res.res.res_val[0].file_resop_u.stats;
		for (i = 0; res.status == DFS_OK &&
		    i < sr->stats_res_u.counters.counters_len; i++) {
			k = &sr->stats_res_u.counters.counters_val[i];
			if (strcasecmp(k->name, name) != 0)
				continue;
			if (calls != NULL)
				*calls = k->calls;
			if (bytes != NULL)
				*bytes = k->bytes;
			rc = 0;
		}
		xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	}
	clnt_destroy(c);
	return rc;
}
