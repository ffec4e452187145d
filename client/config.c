/*
 * config.c -- dfs.conf: the client's settings file (see dfs.conf(5)).
 *
 * INI format, parsed by inih: keys in a [client] section (or before any
 * section) set the name server and how the library behaves.  The first
 * file found of $DFS_CONFIG, $XDG_CONFIG_HOME/dfs/dfs.conf (or
 * ~/.config/dfs/dfs.conf) and /etc/dfs.conf is read; the environment and
 * dfs_opts override it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "client.h"
#include "rpcc.h"

/* Parses "123", "64K", "1M", "2G".  Returns 0 or -1. */
static int
parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
	char			*ep;
	unsigned long long	 v, mult = 1;

	errno = 0;
	v = strtoull(s, &ep, 10);
	if (ep == s || errno != 0 || s[0] == '-')
		return -1;
	switch (*ep) {
	case 'K': case 'k': mult = 1ULL << 10; ep++; break;
	case 'M': case 'm': mult = 1ULL << 20; ep++; break;
	case 'G': case 'g': mult = 1ULL << 30; ep++; break;
	}
	if (*ep != '\0' || v > max / mult || v * mult > max)
		return -1;
	*out = v * mult;
	return 0;
}

/* cache_dir and cache_size.  Returns 1, or 0 on an unknown key or a bad
 * value. */
static int
on_cache_key(struct dfs *dfs, const char *key, const char *val)
{
	unsigned long long	v;

	if (strcmp(key, "cache_size") == 0) {
		if (parse_size(val, UINT64_MAX, &v) != 0 || v == 0)
			return 0;
		dfs->conf_cache_size = v;
		return 1;
	}
	if (strcmp(key, "cache_dir") == 0)
		return val[0] != '\0' && (size_t)snprintf(dfs->conf_cache_dir,
		    sizeof(dfs->conf_cache_dir), "%s", val) <
		    sizeof(dfs->conf_cache_dir);
	return 0;
}

/* inih handler: returns 1 to go on, 0 on an unknown key or bad value. */
static int
on_key(void *user, const char *section, const char *key, const char *val)
{
	struct dfs		*dfs = user;
	unsigned long long	 v;

	if (section[0] != '\0' && strcmp(section, "client") != 0)
		return 1;		/* other sections: other programs */
	if (strcmp(key, "server") == 0)
		return rpcc_parse(val, dfs->host, sizeof(dfs->host),
		    &dfs->port) == 0;
	if (strcmp(key, "max_size") == 0) {
		if (parse_size(val, SIZE_MAX, &v) != 0 || v == 0)
			return 0;
		dfs->max_size = (size_t)v;
		return 1;
	}
	if (strcmp(key, "timeout") == 0) {
		if (parse_size(val, 3600, &v) != 0 || v == 0)
			return 0;
		dfs->timeout_ms = (unsigned int)v * 1000;
		return 1;
	}
	if (strcmp(key, "streams") == 0) {
		if (parse_size(val, PARALLEL_MAXSTREAMS, &v) != 0 || v == 0)
			return 0;
		dfs->streams = (int)v;
		return 1;
	}
	if (strcmp(key, "stream_span") == 0) {
		if (parse_size(val, UINT64_MAX, &v) != 0 || v < DFS_CHUNK)
			return 0;
		dfs->stream_span = v;
		return 1;
	}
	if (strcmp(key, "retries") == 0) {
		if (parse_size(val, 100, &v) != 0)
			return 0;
		dfs->retries = (int)v;
		return 1;
	}
	if (strncmp(key, "cache_", 6) == 0)
		return on_cache_key(dfs, key, val);
	if (strcmp(key, "tmpdir") == 0)
		return (size_t)snprintf(dfs->tmpdir, sizeof(dfs->tmpdir), "%s",
		    val) < sizeof(dfs->tmpdir);
	return 0;
}

/* Finds the config file.  Returns its path in buf, or NULL. */
static const char *
config_path(char *buf, size_t len)
{
	const char	*env = getenv("DFS_CONFIG"), *xdg, *home;

	if (env != NULL)
		return env;
	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, len, "%s/dfs/dfs.conf", xdg);
	else if (home != NULL)
		snprintf(buf, len, "%s/.config/dfs/dfs.conf", home);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && access(buf, F_OK) == 0)
		return buf;
	return access("/etc/dfs.conf", F_OK) == 0 ? "/etc/dfs.conf" : NULL;
}

int
config_load(struct dfs *dfs)
{
	char		 buf[PATH_MAX];
	const char	*path = config_path(buf, sizeof(buf));
	int		 rc;

	if (path == NULL)
		return 0;
	rc = ini_parse(path, on_key, dfs);
	if (rc == 0)
		return 0;
	if (rc > 0)
		conn_detail(dfs, "%s: line %d: bad setting", path, rc);
	else
		conn_detail(dfs, "%s: cannot read", path);
	return -DFS_ERR_INVAL;
}
