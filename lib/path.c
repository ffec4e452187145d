/*
 * path.c -- validation of names and paths as they arrive off the wire.
 */
#include <string.h>

#include "dfs_types.h"
#include "path.h"

int
path_check_name(const char *name, size_t len)
{
	if (len == 0)
		return -DFS_ERR_INVAL;
	if (len > DFS_MAXNAMELEN)
		return -DFS_ERR_NAMETOOLONG;
	if (memchr(name, '\0', len) != NULL || memchr(name, '/', len) != NULL)
		return -DFS_ERR_INVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -DFS_ERR_INVAL;
	return 0;
}

/* Checks "c1/c2/.../cn", n >= 1. */
static int
check_components(const char *path, size_t len)
{
	size_t	start = 0, i;
	int	rc;

	for (i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		rc = path_check_name(path + start, i - start);
		if (rc != 0)
			return rc;
		start = i + 1;
	}
	return 0;
}

int
path_check_abs(const char *path, size_t len)
{
	if (len > DFS_MAXPATHLEN)
		return -DFS_ERR_NAMETOOLONG;
	if (len == 0 || path[0] != '/')
		return -DFS_ERR_INVAL;
	if (len == 1)
		return 0;
	return check_components(path + 1, len - 1);
}

int
path_check_rel(const char *path, size_t len)
{
	if (len > DFS_MAXPATHLEN)
		return -DFS_ERR_NAMETOOLONG;
	if (len == 0 || path[0] == '/')
		return -DFS_ERR_INVAL;
	return check_components(path, len);
}

int
path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int
path_next(const char *path, size_t len, size_t *pos, const char **comp,
    size_t *clen)
{
	size_t	i = *pos;

	while (i < len && path[i] == '/')
		i++;
	if (i >= len)
		return 0;
	*comp = path + i;
	while (i < len && path[i] != '/')
		i++;
	*clen = (size_t)(path + i - *comp);
	*pos = i;
	return 1;
}
