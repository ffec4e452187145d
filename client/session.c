/*
 * session.c -- a client's handle on a cluster: dfs_connect() and
 * dfs_disconnect().
 *
 * A struct dfs starts from its settings, by precedence dfs_opts, the
 * environment, dfs.conf, the defaults (apply_opts()), then its cache
 * (setup_cache()), the lock handed down in $DFS_LOCKS, and a connection
 * to the name server made and probed at once, so a wrong address fails
 * dfs_connect() and not the first call.  The connections themselves,
 * and the calls on them, are conn.c's.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "rpcc.h"

/* Sets up the cache: dir and size from dfs_opts, else dfs.conf, else
 * $XDG_CACHE_HOME/dfs (~/.cache/dfs) and 1 GiB. */
static void
setup_cache(struct dfs *dfs, const struct dfs_opts *o)
{
	char		 buf[PATH_MAX];
	const char	*dir = o->cache_dir, *xdg, *home;
	uint64_t	 size = o->cache_size;

	if (o->no_cache) {
		cache_init(&dfs->cache, NULL, 0);
		return;
	}
	if (size == 0)
		size = dfs->conf_cache_size;
	if (size == 0)
		size = DFS_DEFAULT_CACHE_SIZE;
	if (dir == NULL && dfs->conf_cache_dir[0] != '\0')
		dir = dfs->conf_cache_dir;
	xdg = getenv("XDG_CACHE_HOME");
	home = getenv("HOME");
	if (dir == NULL && xdg != NULL && xdg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/dfs", xdg);
		dir = buf;
	} else if (dir == NULL && home != NULL && home[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/.cache/dfs", home);
		dir = buf;
	}
	if (dir != NULL)
		cache_init(&dfs->cache, dir, size);
	else {
		cache_init(&dfs->cache, NULL, 0);
		cache_disable(&dfs->cache, "no cache directory (neither "
		    "XDG_CACHE_HOME nor HOME is set)");
	}
}

/* Settings by precedence: dfs_opts, then the environment, then dfs.conf,
 * then the defaults.  Returns 0 or -DFS_ERR_INVAL. */
static int
apply_opts(struct dfs *dfs, const struct dfs_opts *o)
{
	const char	*server = o->server, *tmp = o->tmpdir;
	int		 rc;

	dfs->timeout_ms = DFS_DEFAULT_TIMEOUT_MS;
	dfs->retries = 2;
	dfs->max_size = DFS_DEFAULT_MAX_SIZE;
	dfs->streams = DFS_DEFAULT_STREAMS;
	dfs->stream_span = DFS_DEFAULT_STREAM_SPAN;
	if ((rc = config_load(dfs)) != 0)
		return rc;
	if (server == NULL)
		server = getenv("DFS_SERVER");
	if (server != NULL && rpcc_parse(server, dfs->host, sizeof(dfs->host),
	    &dfs->port) != 0)
		return -DFS_ERR_INVAL;
	if (dfs->host[0] == '\0')
		return -DFS_ERR_INVAL;
	if (o->timeout_ms)
		dfs->timeout_ms = o->timeout_ms;
	if (o->retries >= 0)
		dfs->retries = o->retries;
	if (o->max_size)
		dfs->max_size = o->max_size;
	if (o->streams > 0)
		dfs->streams = o->streams < PARALLEL_MAXSTREAMS ? o->streams :
		    PARALLEL_MAXSTREAMS;
	dfs->lease_ms = o->lease_ms;
	if (tmp == NULL)
		tmp = getenv("TMPDIR");
	if (tmp != NULL || dfs->tmpdir[0] == '\0')
		snprintf(dfs->tmpdir, sizeof(dfs->tmpdir), "%s",
		    tmp ? tmp : "/tmp");
	setup_cache(dfs, o);
	return 0;
}

int
dfs_connect(struct dfs **dfsp, const struct dfs_opts *opts)
{
	return dfs_connect_err(dfsp, opts, NULL, 0);
}

int
dfs_connect_err(struct dfs **dfsp, const struct dfs_opts *opts, char *err,
    size_t errlen)
{
	static const struct dfs_opts	 defaults = DFS_OPTS_INIT;
	struct dfs			*dfs;
	const char			*locks;
	int				 rc;

	if (errlen > 0)
		err[0] = '\0';
	dfs = calloc(1, sizeof(*dfs));
	if (dfs == NULL)
		return -DFS_ERR_NOMEM;
	rc = apply_opts(dfs, opts != NULL ? opts : &defaults);
	/* a malformed $DFS_LOCKS only means no lock to use */
	if (rc == 0 && (locks = getenv("DFS_LOCKS")) != NULL)
		(void)lock_parse(locks, &dfs->envlock);
	if (rc == 0)
		rc = conn_open_named(dfs);
	if (rc != 0) {
		if (errlen > 0)
			snprintf(err, errlen, "%s", dfs->detail);
		dfs_disconnect(dfs);
		return rc;
	}
	*dfsp = dfs;
	return 0;
}

void
dfs_disconnect(struct dfs *dfs)
{
	if (dfs == NULL)
		return;
	conn_close_all(dfs);
	lock_detach_all(dfs);
	lock_free(dfs->envlock);
	free(dfs);
}

const char *
dfs_errdetail(const struct dfs *dfs)
{
	return dfs->detail;
}
