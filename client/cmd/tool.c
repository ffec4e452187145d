/*
 * tool.c -- options, messages, the connection, dfs operands and
 * directory listings shared by the dfs command-line tools.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "path.h"

enum {
	OPT_HELP = 0x100,
	OPT_VERSION,
	OPT_SERVER
};

static const struct option common_lopts[] = {
	{ "help",	no_argument,	NULL,	OPT_HELP },
	{ "version",	no_argument,	NULL,	OPT_VERSION },
};

void
tool_init(struct tool *t, const char *prog, const char *usage)
{
	memset(t, 0, sizeof(*t));
	t->prog = prog;
	t->usage = usage;
	/* a server closing its socket must be an error, not a silent death
	 * (libtirpc writes without MSG_NOSIGNAL) */
	signal(SIGPIPE, SIG_IGN);
}

static void
print_usage(const struct tool *t, FILE *fp)
{
	fprintf(fp, "usage: %s\n", t->usage);
}

void
tool_usage(const struct tool *t)
{
	print_usage(t, stderr);
	exit(1);
}

/* Merges the tool's options with the common ones, once. */
static void
merge_opts(struct tool *t, const char *sopts, const struct option *lopts)
{
	static const struct option	server_lopt = { "server",
					    required_argument, NULL,
					    OPT_SERVER };
	size_t				n = 0, i;

	snprintf(t->sopts, sizeof(t->sopts), ":%s%s", sopts,
	    t->own_s ? "" : "s:");
	for (i = 0; lopts != NULL && lopts[i].name != NULL &&
	    n < TOOL_MAXLOPTS - 4; i++)
		t->lopts[n++] = lopts[i];
	for (i = 0; i < sizeof(common_lopts) / sizeof(common_lopts[0]); i++)
		t->lopts[n++] = common_lopts[i];
	if (t->own_s)
		t->lopts[n++] = server_lopt;
	memset(&t->lopts[n], 0, sizeof(t->lopts[n]));
}

/* Says what was wrong with the option getopt refused, then exits 1. */
static void
bad_option(const struct tool *t, int ch, char *const argv[])
{
	const char	*arg = argv[optind - 1];

	if (strncmp(arg, "--", 2) == 0 && ch == ':')
		fprintf(stderr, "%s: option '%s' requires an argument\n",
		    t->prog, arg);
	else if (strncmp(arg, "--", 2) == 0)
		fprintf(stderr, "%s: unrecognized option '%s'\n", t->prog,
		    arg);
	else if (ch == ':')
		fprintf(stderr, "%s: option requires an argument -- '%c'\n",
		    t->prog, optopt);
	else
		fprintf(stderr, "%s: invalid option -- '%c'\n", t->prog,
		    optopt);
	tool_usage(t);
}

int
tool_getopt(struct tool *t, int argc, char *const argv[], const char *sopts,
    const struct option *lopts)
{
	int	ch;

	if (t->sopts[0] == '\0')
		merge_opts(t, sopts, lopts);
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, t->sopts, t->lopts, NULL);
		if (ch == 's' && t->own_s)
			return ch;
		switch (ch) {
		case 's':
		case OPT_SERVER:
			t->server = optarg;
			break;
		case OPT_HELP:
			print_usage(t, stdout);
			exit(0);
		case OPT_VERSION:
			printf("%s (dfs) %s\n", t->prog, DFS_VERSION);
			exit(0);
		case '?':
		case ':':
			bad_option(t, ch, argv);
			break;
		default:
			return ch;
		}
	}
}

const char *
tool_server(const struct tool *t)
{
	const char	*server = t->server;

	if (server == NULL)
		server = getenv("DFS_SERVER");
	if (server == NULL || *server == '\0') {
		fprintf(stderr, "%s: no name server: use %s HOST[:PORT] or "
		    "set DFS_SERVER\n", t->prog, t->own_s ? "--server" : "-s");
		exit(1);
	}
	return server;
}

void
tool_bad_server(const struct tool *t, const char *server)
{
	fprintf(stderr, "%s: %s: bad name server address (expected "
	    "HOST[:PORT])\n", t->prog, server);
	exit(1);
}

void
tool_unreachable(const struct tool *t, const char *server, const char *why)
{
	fprintf(stderr, "%s: cannot reach name server %s: %s\n", t->prog,
	    server, why);
	exit(1);
}

void
tool_connect(struct tool *t)
{
	struct dfs_opts	 opts = DFS_OPTS_INIT;
	const char	*server = tool_server(t);
	char		 why[256];
	int		 rc;

	opts.server = server;
	opts.no_cache = t->no_cache;
	rc = dfs_connect_err(&t->dfs, &opts, why, sizeof(why));
	if (rc == -DFS_ERR_INVAL)
		tool_bad_server(t, server);
	if (rc != 0)
		tool_unreachable(t, server, why[0] != '\0' ? why :
		    dfs_strerror(rc));
	tool_cache_warn(t);
}

const char *
tool_rmode(const struct tool *t)
{
	return t->no_cache ? "r" : "rc";
}

const char *
tool_wmode(const struct tool *t)
{
	return t->no_cache ? "w" : "wc";
}

void
tool_cache_warn(struct tool *t)
{
	const char	*why;

	if (t->cache_warned || t->dfs == NULL ||
	    (why = dfs_cache_warning(t->dfs)) == NULL)
		return;
	fprintf(stderr, "%s: warning: cache disabled: %s\n", t->prog, why);
	t->cache_warned = 1;
}

void
tool_epipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
	_exit(1);
}

int
tool_exit(struct tool *t)
{
	dfs_disconnect(t->dfs);
	t->dfs = NULL;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", t->prog,
		    strerror(errno));
		t->status = 1;
	}
	return t->status;
}

void
tool_err(struct tool *t, const char *what, int status)
{
	const char	*detail = t->dfs != NULL ? dfs_errdetail(t->dfs) : "";

	if (detail != NULL && *detail != '\0')
		fprintf(stderr, "%s: %s: %s (%s)\n", t->prog, what,
		    dfs_strerror(status), detail);
	else
		fprintf(stderr, "%s: %s: %s\n", t->prog, what,
		    dfs_strerror(status));
	t->status = 1;
}

void
tool_errno(struct tool *t, const char *what, int errnum)
{
	fprintf(stderr, "%s: %s: %s\n", t->prog, what, strerror(errnum));
	t->status = 1;
}

void
tool_errx(struct tool *t, const char *what, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: %s: ", t->prog, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t->status = 1;
}

int
tool_number(const char *s, int base, unsigned long max, unsigned long *out)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')	/* strtoul(3) takes space and signs */
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
tool_is_dfs(const char *arg)
{
	return strncmp(arg, "dfs:", 4) == 0;
}

/* Copies src to buf without repeated or trailing slashes.  Returns 0,
 * or -1 if it does not fit in PATH_MAX bytes. */
static int
squeeze(char *buf, const char *src)
{
	size_t	n = 0;

	for (; *src != '\0'; src++) {
		if (*src == '/' && n > 0 && buf[n - 1] == '/')
			continue;
		if (n + 1 >= PATH_MAX)
			return -1;
		buf[n++] = *src;
	}
	if (n > 1 && buf[n - 1] == '/')
		n--;
	buf[n] = '\0';
	return 0;
}

int
tool_path(struct tool *t, const char *arg, char *buf)
{
	const char	*p = tool_is_dfs(arg) ? arg + 4 : arg;
	int		 rc;

	if (*p != '/') {
		tool_errx(t, arg, "dfs paths must be absolute");
		return -1;
	}
	if (squeeze(buf, p) != 0) {
		tool_err(t, arg, -DFS_ERR_NAMETOOLONG);
		return -1;
	}
	rc = path_check_abs(buf, strlen(buf));
	if (rc != 0) {
		tool_err(t, arg, rc);
		return -1;
	}
	return 0;
}

int
tool_join(char *buf, const char *dir, const char *name)
{
	size_t	dl = strlen(dir);
	int	n;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '/')
		n = snprintf(buf, PATH_MAX, "/%s", name);
	else
		n = snprintf(buf, PATH_MAX, "%.*s/%s", (int)dl, dir, name);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

const char *
tool_basename(const char *path, char *buf)
{
	const char	*end, *start;

	end = path + strlen(path);
	while (end > path + 1 && end[-1] == '/')
		end--;
	start = end;
	while (start > path && start[-1] != '/')
		start--;
	if (start == end && *path == '/') {
		start = path;		/* "/" and "//" */
		end = path + 1;
	}
	snprintf(buf, PATH_MAX, "%.*s", (int)(end - start), start);
	return buf;
}

/* --- directory listings --- */

int
tool_names_add(char ***names, size_t *n, const char *name)
{
	char	**nn;

	nn = realloc(*names, (*n + 1) * sizeof(*nn));
	if (nn == NULL)
		return -DFS_ERR_NOMEM;
	*names = nn;
	if ((nn[*n] = strdup(name)) == NULL)
		return -DFS_ERR_NOMEM;
	(*n)++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
tool_names_sort(char **names, size_t n)
{
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
}

void
tool_names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

int
tool_list(struct dfs *dfs, const char *path, char ***names, size_t *n)
{
	struct dfs_entry	 ent;
	struct dfs_dir		*d;
	int			 rc;

	*names = NULL;
	*n = 0;
	if ((rc = dfs_opendir(dfs, path, &d)) != 0)
		return rc;
	while ((rc = dfs_readdir(d, &ent)) == 1)
		if ((rc = tool_names_add(names, n, ent.name)) != 0)
			break;
	dfs_closedir(d);
	tool_names_sort(*names, *n);
	return rc;
}

/* --- formatting --- */

char *
tool_modestr(int type, unsigned int mode, char *buf)
{
	static const char	rwx[] = "rwxrwxrwx";
	int			i;

	buf[0] = type == DFS_FTYPE_DIR ? 'd' : '-';
	for (i = 0; i < 9; i++)
		buf[i + 1] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		buf[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		buf[6] = (mode & 010) ? 's' : 'S';
	if (mode & 01000)
		buf[9] = (mode & 01) ? 't' : 'T';
	buf[10] = '\0';
	return buf;
}
