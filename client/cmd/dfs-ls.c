/*
 * dfs-ls -- list dfs directories.
 *
 * A directory operand lists its entries sorted by name (with -a also
 * "." and ".."); a file operand lists just that file.  With -l each
 * line shows type and mode, links, owner, group, size and modification
 * time, in columns sized to the listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

#define USAGE	"dfs-ls [-al] [-s server] [path ...]"

struct ent {
	char		 name[256];
	struct dfs_info	 info;
	int		 have_info;
};

struct ls {
	struct tool	 t;
	int		 all;
	int		 lng;
};

static int
cmp_ents(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name,
	    ((const struct ent *)b)->name);
}

/* Appends an entry to *ents.  Returns it or NULL (out of memory). */
static struct ent *
add_ent(struct ent **ents, size_t *n, const char *name)
{
	struct ent	*e;

	e = realloc(*ents, (*n + 1) * sizeof(**ents));
	if (e == NULL)
		return NULL;
	*ents = e;
	e = &e[(*n)++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

/* Lists `path` into *ents, plus "." and ".." with -a.  Returns 0 or a
 * dfs status. */
static int
read_dir(struct ls *ls, const char *path, struct ent **ents, size_t *n)
{
	struct dfs_entry	 de;
	struct dfs_dir		*d;
	int			 rc;

	if ((rc = dfs_opendir(ls->t.dfs, path, &d)) != 0)
		return rc;
	if (ls->all && (add_ent(ents, n, ".") == NULL ||
	    add_ent(ents, n, "..") == NULL))
		rc = -DFS_ERR_NOMEM;
	while (rc == 0 && (rc = dfs_readdir(d, &de)) == 1) {
		rc = 0;
		if (add_ent(ents, n, de.name) == NULL)
			rc = -DFS_ERR_NOMEM;
	}
	dfs_closedir(d);
	if (*n > 1)
		qsort(*ents, *n, sizeof(**ents), cmp_ents);
	return rc;
}

/* The dfs path of entry `name` of `dir` ("." and ".." resolved).
 * Returns 0 or -1. */
static int
ent_path(char *buf, const char *dir, const char *name)
{
	char	*slash;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(buf, PATH_MAX, "%s", dir);
		slash = strrchr(buf, '/');
		if (strcmp(name, "..") == 0 && slash != NULL)
			slash[slash == buf ? 1 : 0] = '\0';
		return 0;
	}
	return tool_join(buf, dir, name);
}

/* Fetches the attributes of every entry for -l; an entry that vanished
 * meanwhile is reported and left out. */
static void
stat_ents(struct ls *ls, const char *dir, struct ent *ents, size_t n)
{
	char	path[PATH_MAX];
	size_t	i;
	int	rc;

	for (i = 0; i < n; i++) {
		if (ent_path(path, dir, ents[i].name) != 0) {
			tool_err(&ls->t, ents[i].name, -DFS_ERR_NAMETOOLONG);
			continue;
		}
		rc = dfs_getattr(ls->t.dfs, path, &ents[i].info);
		if (rc != 0)
			tool_err(&ls->t, path, rc);
		else
			ents[i].have_info = 1;
	}
}

/* Number of decimal digits of v. */
static int
digits(unsigned long long v)
{
	int	n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Prints entries, in columns with -l. */
static void
print_ents(struct ls *ls, const struct ent *ents, size_t n)
{
	char		 mode[11], when[32];
	int		 w[4] = { 1, 1, 1, 1 };
	size_t		 i;
	time_t		 sec;
	struct tm	 tm;
	const struct dfs_info *s;

	for (i = 0; ls->lng && i < n; i++) {
		s = &ents[i].info;
		w[0] = w[0] > digits(s->nlink) ? w[0] : digits(s->nlink);
		w[1] = w[1] > digits(s->uid) ? w[1] : digits(s->uid);
		w[2] = w[2] > digits(s->gid) ? w[2] : digits(s->gid);
		w[3] = w[3] > digits(s->size) ? w[3] : digits(s->size);
	}
	for (i = 0; i < n; i++) {
		s = &ents[i].info;
		if (!ls->lng) {
			printf("%s\n", ents[i].name);
			continue;
		}
		if (!ents[i].have_info)
			continue;
		sec = (time_t)(s->mtime_ns / 1000000000);
		localtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		printf("%s %*u %*u %*u %*llu %s %s\n",
		    tool_modestr(s->type, s->mode, mode), w[0], s->nlink,
		    w[1], s->uid, w[2], s->gid, w[3],
		    (unsigned long long)s->size, when, ents[i].name);
	}
}

/* Lists one operand.  Returns 0 or -1 (reported). */
static int
ls_one(struct ls *ls, const char *arg, const char *path, int header)
{
	struct ent	*ents = NULL, *e;
	struct dfs_info	 st;
	size_t		 n = 0;
	int		 rc;

	if ((rc = dfs_getattr(ls->t.dfs, path, &st)) != 0) {
		tool_err(&ls->t, arg, rc);
		return -1;
	}
	if (st.type != DFS_FTYPE_DIR) {
		if ((e = add_ent(&ents, &n, arg)) != NULL) {
			e->info = st;
			e->have_info = 1;
			print_ents(ls, ents, n);
		}
		free(ents);
		return 0;
	}
	rc = read_dir(ls, path, &ents, &n);
	if (rc == 0 && ls->lng)
		stat_ents(ls, path, ents, n);
	if (rc == 0 && header)
		printf("%s:\n", arg);
	if (rc == 0)
		print_ents(ls, ents, n);
	else
		tool_err(&ls->t, arg, rc);
	free(ents);
	return rc == 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct ls	 ls;
	char		 path[PATH_MAX];
	int		 ch, i, nargs;

	memset(&ls, 0, sizeof(ls));
	tool_init(&ls.t, "dfs-ls", USAGE);
	while ((ch = tool_getopt(&ls.t, argc, argv, "al", NULL)) != -1) {
		if (ch == 'a')
			ls.all = 1;
		else if (ch == 'l')
			ls.lng = 1;
		else
			tool_usage(&ls.t);
	}
	tool_connect(&ls.t);
	nargs = argc - optind;
	if (nargs == 0)
		(void)ls_one(&ls, "/", "/", 0);
	for (i = optind; i < argc; i++) {
		if (tool_path(&ls.t, argv[i], path) != 0)
			continue;
		if (nargs > 1 && i > optind)
			printf("\n");
		(void)ls_one(&ls, argv[i], path, nargs > 1);
	}
	return tool_exit(&ls.t);
}
