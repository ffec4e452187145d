/*
 * dfs-cp -- copy files and trees between the local file system and dfs.
 *
 * An operand is a local path, "dfs:/abs/path", or "-" (standard input as
 * a source, standard output as the target).
 *
 * This file is the options and the copy plan: where each source goes,
 * and a tree (-r) walked in name order, its directories made here, its
 * files copied here or, with a dfs end, handed to the workers
 * (cp_pool.c).  Copying one file is cp_file.c's, small files and shared
 * locks cp_batch.c's; cp.h says how the parts fit.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"

#define USAGE	"dfs-cp [-pr] [-j jobs] [--no-cache] [-s server] source ... " \
		"target"

static int	copy_node(struct cp *, const struct ep *, const struct ep *);
static int	copy_tree(struct cp *, const struct ep *, const struct ep *,
		    const struct meta *);

/* Parses an operand.  Returns 0, or -1 after reporting a bad dfs path. */
static int
ep_parse(struct cp *cp, const char *arg, struct ep *e)
{
	snprintf(e->arg, sizeof(e->arg), "%s", arg);
	if (strcmp(arg, "-") == 0) {
		e->kind = EP_STD;
		return 0;
	}
	if (tool_is_dfs(arg)) {
		e->kind = EP_DFS;
		return tool_path(&cp->t, arg, e->path);
	}
	e->kind = EP_LOCAL;
	if (strlen(arg) >= sizeof(e->path)) {
		tool_errno(&cp->t, arg, ENAMETOOLONG);
		return -1;
	}
	snprintf(e->path, sizeof(e->path), "%s", arg);
	return 0;
}

/* Sets *child to entry `name` of directory end `parent`.  Returns 0,
 * or -1 after reporting a name too long. */
static int
ep_child(struct cp *cp, const struct ep *parent, const char *name,
    struct ep *child)
{
	child->kind = parent->kind;
	if (tool_join(child->path, parent->path, name) != 0) {
		tool_errno(&cp->t, parent->arg, ENAMETOOLONG);
		return -1;
	}
	snprintf(child->arg, sizeof(child->arg), "%s%s",
	    parent->kind == EP_DFS ? "dfs:" : "", child->path);
	return 0;
}

/* --- trees ----------------------------------------------------------- */

/* Lists a local directory, sorted.  Returns 0 or -errno. */
static int
list_local(const char *path, char ***names, size_t *n)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(path)) == NULL)
		return -errno;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			rc = tool_names_add(names, n, de->d_name);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	closedir(d);
	tool_names_sort(*names, *n);
	return rc;
}

/* The sorted entries of a directory end.  Returns 0, or -1 after
 * reporting; on success free with tool_names_free(). */
static int
list_dir(struct cp *cp, const struct ep *e, char ***names, size_t *n)
{
	int	rc;

	*names = NULL;
	*n = 0;
	if (e->kind == EP_DFS)
		rc = tool_list(cp->t.dfs, e->path, names, n);
	else
		rc = list_local(e->path, names, n);
	if (rc != 0) {
		ep_report(cp, e, rc);
		tool_names_free(*names, *n);
		return -1;
	}
	return 0;
}

/* Creates one directory.  Returns 0 (also if a directory is there
 * already) or -errno / a dfs status. */
static int
make_dir(struct cp *cp, const struct ep *e, const char *path,
    unsigned int mode)
{
	struct ep	tmp = *e;
	struct meta	m;
	int		rc;

	if (e->kind == EP_DFS)
		rc = dfs_mkdir(cp->t.dfs, path, mode);
	else
		rc = mkdir(path, mode) == -1 ? -errno : 0;
	if (rc != -EEXIST)		/* == -DFS_ERR_EXIST */
		return rc;
	snprintf(tmp.path, sizeof(tmp.path), "%s", path);
	rc = ep_stat(cp, &tmp, &m);
	if (rc == 0 && !m.isdir)
		rc = e->kind == EP_DFS ? -DFS_ERR_NOTDIR : -ENOTDIR;
	return rc;
}

/* mkdir -p of a target directory.  Returns 0 or -1 (reported). */
static int
make_dirs(struct cp *cp, const struct ep *e, unsigned int mode)
{
	char	 path[PATH_MAX];
	char	*p;
	int	 rc = 0;

	snprintf(path, sizeof(path), "%s", e->path);
	for (p = path + 1; rc == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		rc = make_dir(cp, e, path, (0777 & ~cp->umask) | 0300);
		*p = '/';
	}
	if (rc == 0)
		rc = make_dir(cp, e, path, mode);
	if (rc != 0) {
		ep_report(cp, e, rc);
		return -1;
	}
	return 0;
}

/* With -p, sets a copied directory's mode and time.  Returns 0 or -1. */
static int
dir_preserve(struct cp *cp, const struct ep *dst, const struct meta *sm)
{
	struct timespec	ts[2];
	int		rc;

	if (dst->kind == EP_DFS) {
		rc = dfs_chmod(cp->t.dfs, dst->path, sm->mode);
		if (rc == 0)
			rc = dfs_utime(cp->t.dfs, dst->path, sm->mtime_ns);
	} else {
		ts[0].tv_sec = ts[1].tv_sec = sm->mtime_ns / 1000000000;
		ts[0].tv_nsec = ts[1].tv_nsec = sm->mtime_ns % 1000000000;
		rc = 0;
		if (chmod(dst->path, sm->mode) == -1 ||
		    utimensat(AT_FDCWD, dst->path, ts, 0) == -1)
			rc = -errno;
	}
	if (rc != 0) {
		ep_report(cp, dst, rc);
		return -1;
	}
	return 0;
}

/* Returns 1 if dfs path `in` is `dir` or lies below it. */
static int
is_below(const char *in, const char *dir)
{
	size_t	n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(in, dir, n) == 0 && (in[n] == '\0' || in[n] == '/');
}

/* A tree's entry: a file goes to the workers when there are any, a
 * directory is copied here.  Returns 0 or -1 (reported). */
static int
copy_child(struct cp *cp, const struct ep *src, const struct ep *dst)
{
	struct meta	sm;
	int		rc;

	if (cp->pool == NULL)
		return copy_node(cp, src, dst);
	if ((rc = ep_stat(cp, src, &sm)) != 0) {
		ep_report(cp, src, rc);
		return -1;
	}
	if (sm.isdir)
		return copy_tree(cp, src, dst, &sm);
	pool_add(cp->pool, src, dst, &sm);
	return 0;
}

/* Copies a directory tree.  Returns 0 or -1 (reported; the copy goes on
 * with the other entries). */
static int
copy_tree(struct cp *cp, const struct ep *src, const struct ep *dst,
    const struct meta *sm)
{
	struct ep	 cs, cd;
	char		**names;
	size_t		 n, i;
	int		 rc = 0;

	if (src->kind == EP_DFS && dst->kind == EP_DFS &&
	    is_below(dst->path, src->path)) {
		tool_errx(&cp->t, src->arg, "cannot copy a directory into "
		    "itself, %s", dst->arg);
		return -1;
	}
	if (make_dirs(cp, dst, (sm->mode | 0700) & 07777) != 0)
		return -1;
	if (list_dir(cp, src, &names, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (ep_child(cp, src, names[i], &cs) != 0 ||
		    ep_child(cp, dst, names[i], &cd) != 0 ||
		    copy_child(cp, &cs, &cd) != 0)
			rc = -1;
	}
	tool_names_free(names, n);
	/* ORDER: the files first, their creation changes the mtime */
	if (cp->preserve && cp->pool != NULL)
		pool_wait(cp->pool);
	if (cp->preserve && dir_preserve(cp, dst, sm) != 0)
		rc = -1;
	return rc;
}

/* Copies a file or (with -r) a tree from src to dst.  Returns 0 or -1
 * (reported). */
static int
copy_node(struct cp *cp, const struct ep *src, const struct ep *dst)
{
	struct meta	sm;
	int		rc;

	if ((rc = ep_stat(cp, src, &sm)) != 0) {
		ep_report(cp, src, rc);
		return -1;
	}
	if (!sm.isdir && (rc = copy_small(cp, src, dst, &sm)) != 1)
		return rc;
	if (!sm.isdir)
		return copy_file(cp, src, dst, &sm);
	if (!cp->recursive) {
		tool_errx(&cp->t, src->arg, "Is a directory (use -r)");
		return -1;
	}
	if (dst->kind == EP_STD) {
		tool_errx(&cp->t, src->arg, "cannot copy a directory to "
		    "standard output");
		return -1;
	}
	if (cp->pool == NULL && (src->kind == EP_DFS || dst->kind == EP_DFS))
		pool_start(cp);
	rc = copy_tree(cp, src, dst, &sm);
	pool_end(cp);
	return rc;
}

/* --- operands -------------------------------------------------------- */

/* Copies one source operand to the target, into it if `into` (the
 * target is a directory).  Returns 0 or -1 (reported). */
static int
copy_operand(struct cp *cp, const struct ep *src, const struct ep *dst,
    int into)
{
	struct ep	 d;
	char		 base[PATH_MAX];

	if (!into)
		return copy_node(cp, src, dst);
	if (src->kind == EP_STD) {
		tool_errx(&cp->t, dst->arg, "Is a directory (standard input "
		    "has no name to copy it under)");
		return -1;
	}
	tool_basename(src->path, base);
	if (strcmp(base, "/") == 0)	/* the root has no name: merge */
		return copy_node(cp, src, dst);
	if (ep_child(cp, dst, base, &d) != 0)
		return -1;
	return copy_node(cp, src, &d);
}

/* Returns 1 if the target is an existing directory, 0 if not, or -1
 * after reporting a failing stat. */
static int
target_is_dir(struct cp *cp, const struct ep *dst)
{
	struct meta	m;
	int		rc;

	if (dst->kind == EP_STD)
		return 0;
	rc = ep_stat(cp, dst, &m);
	if (rc == 0)
		return m.isdir;
	if (rc == -ENOENT)
		return 0;
	ep_report(cp, dst, rc);
	return -1;
}

/* Parses every operand into eps (argc - optind entries).  Returns 1 if
 * one is a dfs path, 0 if none is, or -1 after reporting a bad one. */
static int
parse_operands(struct cp *cp, int argc, char *argv[], struct ep *eps)
{
	int	i, any = 0;

	for (i = optind; i < argc; i++) {
		if (ep_parse(cp, argv[i], &eps[i - optind]) != 0)
			return -1;
		if (eps[i - optind].kind == EP_DFS)
			any = 1;
	}
	return any;
}

static void
parse_options(struct cp *cp, int argc, char *argv[])
{
	static const struct option	lopts[] = {
		{ "no-cache",	no_argument,	NULL,	'C' },
		{ NULL,		0,		NULL,	0 },
	};
	unsigned long			 v;
	int				 ch;

	while ((ch = tool_getopt(&cp->t, argc, argv, "j:pr", lopts)) != -1) {
		switch (ch) {
		case 'j':
			cp->jobs = tool_number(optarg, 10, MAXJOBS, &v) == 0 ?
			    (int)v : 0;
			if (cp->jobs == 0) {
				fprintf(stderr, "dfs-cp: -j %s: expected a "
				    "number of jobs from 1 to %d\n", optarg,
				    MAXJOBS);
				exit(1);
			}
			break;
		case 'p':
			cp->preserve = 1;
			break;
		case 'r':
			cp->recursive = 1;
			break;
		case 'C':
			cp->t.no_cache = 1;
			break;
		default:
			tool_usage(&cp->t);
		}
	}
	if (argc - optind < 2)
		tool_usage(&cp->t);
}

int
main(int argc, char *argv[])
{
	struct cp	 cp;
	struct ep	*eps;
	int		 n, i, into;

	memset(&cp, 0, sizeof(cp));
	cp.jobs = 8;
	if ((cp.buf = malloc(TOOL_CHUNK)) == NULL) {
		tool_errno(&cp.t, "dfs-cp", ENOMEM);
		return 1;
	}
	tool_init(&cp.t, "dfs-cp", USAGE);
	cp.umask = umask(022);
	umask(cp.umask);
	parse_options(&cp, argc, argv);
	n = argc - optind;
	if ((eps = calloc((size_t)n, sizeof(*eps))) == NULL) {
		tool_errno(&cp.t, "dfs-cp", ENOMEM);
		return 1;
	}
	switch (parse_operands(&cp, argc, argv, eps)) {
	case -1:
		goto out;
	case 0:
		fprintf(stderr, "dfs-cp: no dfs operand (write dfs paths as "
		    "dfs:/path)\n");
		cp.t.status = 1;
		goto out;
	}
	tool_connect(&cp.t);
	if ((into = target_is_dir(&cp, &eps[n - 1])) == -1)
		goto out;
	if (n > 2 && !into && eps[n - 1].kind != EP_STD) {
		tool_errx(&cp.t, eps[n - 1].arg, "Not a directory");
		goto out;
	}
	for (i = 0; i < n - 1; i++) {
		(void)copy_operand(&cp, &eps[i], &eps[n - 1], into);
		tool_cache_warn(&cp.t);
	}
out:
	free(eps);
	free(cp.buf);
	return tool_exit(&cp.t);
}
