/*
 * store_gc.c -- dfs-filed's garbage collection of its store.
 *
 * At start, before any worker exists, every stage and every temporary
 * version goes (no upload that made one survived the restart), and for
 * each handle with more than one version the name server is asked which
 * one is current; the registrar repeats the stage GC (by age) and the
 * version GC periodically.  A handle the name server does not know is
 * left alone: REMOVE is how data goes, so a wiped name server cannot
 * wipe a file server.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filed.h"
#include "log.h"
#include "status.h"

/* snprintf of "dir/name" into buf (STORE_PATHLEN bytes).  Returns 0, or
 * -1 when it does not fit. */
static int
join(char *buf, const char *dir, const char *name)
{
	int	n = snprintf(buf, STORE_PATHLEN, "%s/%s", dir, name);

	return n < 0 || n >= STORE_PATHLEN ? -1 : 0;
}

/*
 * Calls fn(path of <statedir>/<top>/<xx>, arg) for each bucket and sums
 * what it returns, stopping at the first negative.  Returns the sum, or
 * that negative.
 */
static int
each_bucket(const struct filed_ctx *fc, const char *top,
    int (*fn)(const char *, void *), void *arg)
{
	char		 dir[STORE_PATHLEN], sub[STORE_PATHLEN];
	struct dirent	*de;
	DIR		*dp;
	int		 n = 0, rc;

	snprintf(dir, sizeof(dir), "%s/%s", fc->statedir, top);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (strlen(de->d_name) != 2 || strspn(de->d_name,
		    "0123456789abcdef") != 2 ||
		    join(sub, dir, de->d_name) != 0)
			continue;
		if ((rc = fn(sub, arg)) < 0) {
			n = rc;
			break;
		}
		n += rc;
	}
	closedir(dp);
	return n;
}

/* What gc_dir_files() removes: files not modified since `limit` whose
 * name passes `want` (NULL: any). */
struct sweep {
	time_t	  limit;	/* older than this (mtime); 0: any age */
	int	(*want)(const char *);
};

/* Unlinks the files of one bucket that the sweep wants.  Returns how
 * many. */
static int
gc_dir_files(const char *dir, void *arg)
{
	const struct sweep	*sw = arg;
	char			 path[STORE_PATHLEN];
	struct dirent		*de;
	struct stat		 st;
	DIR			*dp;
	int			 n = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (sw->want != NULL && !sw->want(de->d_name)) ||
		    join(path, dir, de->d_name) != 0)
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (sw->limit == 0 || st.st_mtime < sw->limit) &&
		    unlink(path) == 0) {
			log_debug("removed unused stage '%s'", de->d_name);
			n++;
		}
	}
	closedir(dp);
	return n;
}

int
store_gc_stages(const struct filed_ctx *fc, unsigned int age)
{
	struct sweep	sw = { age > 0 ? time(NULL) - (time_t)age : 0, NULL };

	return each_bucket(fc, "stage", gc_dir_files, &sw);
}

int
store_gc_temps(const struct filed_ctx *fc)
{
	/* every one: no PUT runs before the workers start.  Not "older than
	 * now + 1": a file's mtime can be ahead of time(2) (fine-grained
	 * file times, a coarse clock), which made this miss new ones. */
	struct sweep	sw = { 0, store_is_temp };

	return each_bucket(fc, "data", gc_dir_files, &sw);
}

static int
hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Decodes FH_HEXLEN hex digits into FH_LEN bytes. */
static void
unhex(const char *hex, unsigned char *out)
{
	int	i;

	for (i = 0; i < FH_LEN; i++)
		out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 |
		    hexval(hex[2 * i + 1]));
}

/*
 * Keeps only the name server's current version of `hex`.  A handle the
 * name server no longer knows (STALE) is left alone: REMOVE is how data
 * goes, and a wiped name server must not wipe us.  Returns 0 or
 * -DFS_ERR_DELAY when the name server cannot be reached.
 */
static int
gc_handle(struct filed_ctx *fc, const char *hex)
{
	unsigned char	 raw[FH_LEN];
	dfs_fh		 fh;
	dfs_attr	 attr;
	int		 rc;

	unhex(hex, raw);
	fh.dfs_fh_len = FH_LEN;
	fh.dfs_fh_val = (char *)raw;
	rc = namecall_getattr(fc, &fh, &attr);
	if (rc == -DFS_ERR_DELAY)
		return rc;
	if (rc != 0) {
		log_info("gc: keeping versions of %s: %s", hex,
		    dfs_statname(rc));
		return 0;
	}
	log_info("gc: %s: keeping only version %" PRIu64, hex, attr.vers);
	(void)store_prune(fc, hex, attr.vers, 1);
	return 0;
}

/* Runs gc_handle for each handle in one data/<xx> directory holding more
 * than one version.  Returns 0 or -DFS_ERR_DELAY. */
static int
gc_dir(const char *dir, void *arg)
{
	struct filed_ctx	*fc = arg;
	char		 hex[FH_HEXLEN + 1], (*seen)[FH_HEXLEN + 1] = NULL;
	struct dirent	*de;
	DIR		*dp;
	uint64_t	*v, vers;
	size_t		 n, nseen = 0, i;
	int		 rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		if (!store_parse_version(de->d_name, hex, &vers))
			continue;
		for (i = 0; i < nseen && strcmp(seen[i], hex) != 0; i++)
			;
		if (i < nseen)
			continue;
		if ((seen = realloc(seen, (nseen + 1) * sizeof(*seen))) ==
		    NULL)
			fatal("realloc");
		memcpy(seen[nseen++], hex, sizeof(hex));
		if (store_versions(fc, hex, &v, &n) == 0 && n > 1)
			rc = gc_handle(fc, hex);
		free(v);
	}
	closedir(dp);
	free(seen);
	return rc;
}

int
store_gc_versions(struct filed_ctx *fc)
{
	int	rc;

	if ((rc = each_bucket(fc, "data", gc_dir, fc)) < 0) {
		log_warnx("gc: name server unreachable, old versions kept");
		return rc;
	}
	return 0;
}
