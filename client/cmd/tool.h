/*
 * tool.h -- what every dfs command-line tool shares: options, messages,
 * the connection and dfs operands.  Linked into each tool, not into
 * libdfs.
 *
 * Messages follow one form, "dfs-cat: /a/b: No such file or directory",
 * so scripts and tests can match them.  Every failure reported through
 * these functions sets the tool's exit status to 1; tool_exit() returns
 * it.
 */
#ifndef DFS_TOOL_H
#define DFS_TOOL_H

#include <getopt.h>
#include <limits.h>
#include <stddef.h>

#include "dfs.h"

#define TOOL_MAXLOPTS	16
#define TOOL_CHUNK	(1u << 20)	/* bytes per read/write */

struct tool {
	const char	*prog;		/* "dfs-cat" */
	const char	*usage;		/* the SYNOPSIS, without "usage: " */
	const char	*server;	/* -s, else NULL ($DFS_SERVER) */
	int		 own_s;		/* -s is the tool's; --server names
					   the server (dfs-lock) */
	int		 no_cache;	/* --no-cache: connect without one */
	int		 cache_warned;	/* tool_cache_warn() said it */
	struct dfs	*dfs;		/* after tool_connect() */
	int		 status;	/* exit status so far: 0 or 1 */
	struct option	 lopts[TOOL_MAXLOPTS];
	char		 sopts[64];
};

/* --- Life cycle --- */

/* Sets up t for program `prog`; `usage` is the synopsis shown by
 * --help, on continuation lines indented to follow "usage: ". */
void	tool_init(struct tool *t, const char *prog, const char *usage);

/*
 * getopt_long(3) over the tool's own short options `sopts` and long
 * options `lopts` (NULL or ending with a zero entry) plus the common
 * ones: -s SERVER (--server SERVER instead if t->own_s was set before
 * the first call), --help, --version.  Handles the common options and
 * bad usage itself (--help and --version exit 0; an unknown option or a
 * missing argument prints usage on stderr and exits 1).  Returns the
 * next option of the tool's own, or -1 when there are no more (optind
 * then indexes the first operand).
 */
int	tool_getopt(struct tool *t, int argc, char *const argv[],
	    const char *sopts, const struct option *lopts);

/* Prints usage on stderr and exits 1. */
void	tool_usage(const struct tool *t) __attribute__((noreturn));

/*
 * Connects to the name server (-s or --server, else $DFS_SERVER).  On
 * failure says why ("cannot reach name server HOST: ...") and exits 1,
 * so callers can rely on t->dfs.
 */
void	tool_connect(struct tool *t);

/* The name server's address: -s or --server, else $DFS_SERVER.  When
 * there is none says so ("no name server: use -s HOST[:PORT] ...") and
 * exits 1. */
const char	*tool_server(const struct tool *t);

/* Say that `server` is no HOST[:PORT] address, or that it cannot be
 * reached and why, in the words every tool uses; then exit 1.  For a
 * tool that connects without tool_connect() (dfs-stat -S). */
void	tool_bad_server(const struct tool *t, const char *server)
	    __attribute__((noreturn));
void	tool_unreachable(const struct tool *t, const char *server,
	    const char *why) __attribute__((noreturn));

/* The mode to open a dfs file with for reading ("rc", or "r" under
 * --no-cache) or writing ("wc" or "w"). */
const char	*tool_rmode(const struct tool *t);
const char	*tool_wmode(const struct tool *t);

/* Says once, on stderr, "prog: warning: cache disabled: REASON" when
 * libdfs turned the cache off.  Does not change the exit status.  Call
 * after tool_connect() and after using files. */
void	tool_cache_warn(struct tool *t);

/* Called when writing to stdout failed with EPIPE: dies of SIGPIPE,
 * quietly, as a tool that did not ignore it would (`dfs-cat f | head`).
 * Other descriptors keep SIGPIPE ignored, see tool_init(). */
void	tool_epipe(void) __attribute__((noreturn));

/* Disconnects.  Returns the exit status. */
int	tool_exit(struct tool *t);

/* --- Messages: all print "prog: what: text" on stderr and set the exit
 * status to 1 --- */

/* A dfs status; appends " (detail)" when libdfs has one. */
void	tool_err(struct tool *t, const char *what, int status);
/* An errno value. */
void	tool_errno(struct tool *t, const char *what, int errnum);
/* Free text. */
void	tool_errx(struct tool *t, const char *what, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* --- Option values --- */

/*
 * Parses an option's number in `base` (8 or 10): digits only, no space
 * or sign before them, nothing after, at most `max`.  Returns 0 and sets
 * *out, or -1; the tool says what it expected.
 */
int	tool_number(const char *s, int base, unsigned long max,
	    unsigned long *out);

/* --- dfs operands --- */

/* Returns 1 if `arg` is written "dfs:...", else 0. */
int	tool_is_dfs(const char *arg);

/*
 * Turns an operand ("/a/b" or "dfs:/a/b") into a checked absolute dfs
 * path in buf (PATH_MAX bytes): repeated and trailing slashes are
 * dropped.  Returns 0, or reports the problem ("dfs paths must be
 * absolute", "Invalid argument" for "." or "..") and returns -1.
 */
int	tool_path(struct tool *t, const char *arg, char *buf);

/* Joins dir and name with one slash into buf (PATH_MAX bytes).
 * Returns 0, or -1 if it does not fit. */
int	tool_join(char *buf, const char *dir, const char *name);

/* Returns the last component of a path without trailing slashes, in
 * buf (PATH_MAX bytes): "/a/b/" -> "b", "/" -> "/". */
const char *tool_basename(const char *path, char *buf);

/* --- Directory listings: arrays of malloc(3)ed names --- */

/* Appends a copy of `name` to *names, which holds *n.  Returns 0 or
 * -DFS_ERR_NOMEM (== -ENOMEM). */
int	tool_names_add(char ***names, size_t *n, const char *name);
/* Sorts names by strcmp(3), the order the tools list and walk in. */
void	tool_names_sort(char **names, size_t n);
/* Frees each name and the array; (NULL, 0) does nothing. */
void	tool_names_free(char **names, size_t n);

/*
 * Lists the entry names of dfs directory `path`, sorted, into *names
 * and *n.  Returns 0 or a dfs status; either way free what it set with
 * tool_names_free().
 */
int	tool_list(struct dfs *dfs, const char *path, char ***names,
	    size_t *n);

/* --- Formatting --- */

/* ls(1)-style type and permissions, "drwxr-xr-x", in buf (11 bytes).
 * Returns buf. */
char	*tool_modestr(int type, unsigned int mode, char *buf);

#endif
