/*
 * dfs-lock -- run a command while holding dfs locks.
 *
 * The locks are taken in one request, all or none (exclusive unless -s),
 * waiting up to -w seconds in the lock server's queue.  The command gets
 * them through $DFS_LOCKS, so the dfs tools it runs write under them
 * instead of taking locks of their own: that is what makes
 * "dfs-lock /n -- sh -c 'read; modify; write'" safe.  While it runs the
 * lease is renewed every third of its length; when it ends the locks are
 * released and dfs-lock exits with its status.
 *
 * Signals are events: the handlers only write the signal number to a
 * self-pipe, which the loop polls with a timeout ending at the next
 * renewal.  SIGINT, SIGTERM and SIGHUP are passed on to the command;
 * the locks are released once it has ended, whatever ended it.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define USAGE	"dfs-lock [-s] [-w seconds] [--server server] path ... --\n" \
		"                command [arg ...]"
#define MAX_WAIT_S	300

struct dl {
	struct tool	  t;
	int		  shared;
	unsigned int	  wait_s;
	char		**paths;	/* checked, malloc'd */
	int		  npaths;
	char		**cmd;		/* argv of the command */
	struct dfs_lock	 *lk;
	pid_t		  pid;
	int		  lost;		/* renewal said EXPIRED/BADLOCK */
};

/* The self-pipe: the only state a signal handler may touch. */
static int	sigfd[2] = { -1, -1 };

static const int	fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void
on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		save = errno;

	(void)write(sigfd[1], &c, 1);
	errno = save;
}

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Parses -w: whole seconds, 0 to MAX_WAIT_S.  Returns 0 or -1. */
static int
parse_wait(const char *s, unsigned int *out)
{
	unsigned long	v;

	if (tool_number(s, 10, MAX_WAIT_S, &v) != 0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Returns the index of the first "--" in argv, or -1. */
static int
find_dashdash(int argc, char *argv[])
{
	int	i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return -1;
}

/* Options, the paths before "--" and the command after it; bad usage
 * exits 1. */
static void
parse_args(struct dl *d, int argc, char *argv[])
{
	char	path[PATH_MAX];
	int	ch, dd, i;

	dd = find_dashdash(argc, argv);
	/* getopt sees only what comes before "--": the command's options
	 * are its own */
	while ((ch = tool_getopt(&d->t, dd < 0 ? argc : dd, argv, "sw:",
	    NULL)) != -1) {
		if (ch == 's')
			d->shared = 1;
		else if (ch == 'w' && parse_wait(optarg, &d->wait_s) != 0) {
			fprintf(stderr, "dfs-lock: %s: invalid wait (seconds, "
			    "0 to %d)\n", optarg, MAX_WAIT_S);
			tool_usage(&d->t);
		} else if (ch != 'w')
			tool_usage(&d->t);
	}
	if (dd < 0 || optind >= dd || dd + 1 >= argc)
		tool_usage(&d->t);
	d->paths = calloc((size_t)(dd - optind), sizeof(*d->paths));
	if (d->paths == NULL)
		tool_errno(&d->t, "cannot allocate", errno);
	for (i = optind; i < dd && d->paths != NULL; i++)
		if (tool_path(&d->t, argv[i], path) == 0 &&
		    (d->paths[d->npaths++] = strdup(path)) == NULL)
			tool_errno(&d->t, "cannot allocate", errno);
	if (d->t.status != 0)
		exit(1);
	d->cmd = argv + dd + 1;
}

/* Reports a failed dfs_lock(): "PATH: Locked by another client (lease
 * ends in N s)", naming the conflicting path the library names. */
static void
lock_failed(struct dl *d, int rc)
{
	static const char	 pre[] = "locked by another client, ";
	const char		*det = dfs_errdetail(d->t.dfs), *what, *p;
	int			 len;

	what = d->npaths == 1 ? d->paths[0] : "cannot take the locks";
	if (rc != -DFS_ERR_LOCKED || strncmp(det, pre, sizeof(pre) - 1) != 0) {
		tool_err(&d->t, what, rc);
		return;
	}
	det += sizeof(pre) - 1;
	len = (int)strlen(det);
	p = strstr(det, " (/");
	if (p != NULL && det[len - 1] == ')') {
		fprintf(stderr, "dfs-lock: %.*s: %s (%.*s)\n",
		    (int)(det + len - 1 - (p + 2)), p + 2, dfs_strerror(rc),
		    (int)(p - det), det);
	} else
		fprintf(stderr, "dfs-lock: %s: %s (%s)\n", what,
		    dfs_strerror(rc), det);
	d->t.status = 1;
}

/* Takes the locks and puts them in $DFS_LOCKS.  Exits 1 on failure. */
static void
take_locks(struct dl *d)
{
	char	*env;
	int	 rc, n;

	rc = dfs_lock(d->t.dfs, (const char *const *)d->paths, d->npaths,
	    !d->shared, d->wait_s * 1000, &d->lk);
	if (rc != 0) {
		lock_failed(d, rc);
		exit(tool_exit(&d->t));
	}
	n = dfs_lock_export(d->lk, NULL, 0);
	env = malloc((size_t)n + 1);
	if (env == NULL || dfs_lock_export(d->lk, env, (size_t)n + 1) != n ||
	    setenv("DFS_LOCKS", env, 1) != 0) {
		tool_errno(&d->t, "cannot set DFS_LOCKS", errno);
		(void)dfs_unlock(d->lk);
		exit(tool_exit(&d->t));
	}
	free(env);
}

/* The self-pipe and the handlers, installed before the fork so that no
 * SIGCHLD is missed.  Returns 0 or -1. */
static int
signals_init(void)
{
	struct sigaction	sa;
	size_t			i;

	if (pipe2(sigfd, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		if (sigaction(fwd_sigs[i], &sa, NULL) == -1)
			return -1;
	return sigaction(SIGCHLD, &sa, NULL);
}

/* In the child: default signal handling (SIGPIPE too, which tool_init
 * ignored and exec would keep ignored), then the command.  Never
 * returns: 127 if it cannot be found, 126 if it cannot be run. */
static void
run_child(struct dl *d)
{
	size_t	i;
	int	e;

	for (i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		signal(fwd_sigs[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execvp(d->cmd[0], d->cmd);
	e = errno;
	fprintf(stderr, "dfs-lock: %s: %s\n", d->cmd[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Renews the lease; says so once when the lock was lost.  (The exit
 * status is the command's, whatever tool_err() sets.) */
static void
renew(struct dl *d)
{
	int	rc;

	if (d->lost)
		return;
	rc = dfs_lock_renew(d->lk);
	if (rc == 0)
		return;
	if (rc == -DFS_ERR_EXPIRED || rc == -DFS_ERR_BADLOCK) {
		d->lost = 1;
		fprintf(stderr, "dfs-lock: lock lost: %s\n", dfs_strerror(rc));
	} else
		tool_err(&d->t, "cannot renew lock", rc);
}

/* Reads the self-pipe: passes INT/TERM/HUP on to the command.  Returns
 * 1 if a SIGCHLD arrived, else 0. */
static int
drain_signals(struct dl *d)
{
	unsigned char	c;
	int		chld = 0;

	while (read(sigfd[0], &c, 1) == 1) {
		if (c == SIGCHLD)
			chld = 1;
		else
			(void)kill(d->pid, c);
	}
	return chld;
}

/* Waits for the command, renewing every third of the lease.  Returns
 * its wait status. */
static int
supervise(struct dl *d)
{
	struct pollfd	pfd = { .fd = sigfd[0], .events = POLLIN };
	uint64_t	now, next;
	unsigned int	every;
	int		st;

	every = dfs_lock_lease_ms(d->lk) / 3;
	next = mono_ms() + (every > 0 ? every : 1000);
	for (;;) {
		now = mono_ms();
		if (poll(&pfd, 1, next > now ? (int)(next - now) : 0) > 0 &&
		    drain_signals(d) && waitpid(d->pid, &st, WNOHANG) == d->pid)
			return st;
		if (mono_ms() >= next) {
			renew(d);
			every = dfs_lock_lease_ms(d->lk) / 3;
			next = mono_ms() + (every > 0 ? every : 1000);
		}
	}
}

/* The command's exit status, or 128+N if signal N ended it. */
static int
exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int
main(int argc, char *argv[])
{
	struct dl	d;
	int		st, rc, i;

	memset(&d, 0, sizeof(d));
	tool_init(&d.t, "dfs-lock", USAGE);
	d.t.own_s = 1;
	parse_args(&d, argc, argv);
	tool_connect(&d.t);
	take_locks(&d);
	if (signals_init() == -1 || (d.pid = fork()) == -1) {
		tool_errno(&d.t, "cannot run the command", errno);
		(void)dfs_unlock(d.lk);
		return tool_exit(&d.t);
	}
	if (d.pid == 0)
		run_child(&d);
	st = supervise(&d);
	rc = dfs_unlock(d.lk);
	if (rc != 0 && !d.lost)
		fprintf(stderr, "dfs-lock: cannot release lock: %s\n",
		    dfs_strerror(rc));
	for (i = 0; i < d.npaths; i++)
		free(d.paths[i]);
	free(d.paths);
	(void)tool_exit(&d.t);
	return exit_status(st);
}
