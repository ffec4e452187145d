/*
 * path.h -- validation of names and paths as they arrive off the wire.
 *
 * Names and paths travel as counted bytes (XDR opaque), so an embedded NUL
 * is visible here and refused.  A valid component is 1..DFS_MAXNAMELEN
 * bytes with no '/' or NUL and is not "." or "..".  An absolute path is
 * "/" or "/" followed by valid components joined by single slashes; a
 * relative path (LOOKUP's argument) is the same without the leading slash.
 * Every check returns 0, -DFS_ERR_INVAL or -DFS_ERR_NAMETOOLONG.
 */
#ifndef DFS_PATH_H
#define DFS_PATH_H

#include <stddef.h>

int	path_check_name(const char *name, size_t len);
int	path_check_abs(const char *path, size_t len);
int	path_check_rel(const char *path, size_t len);

/* Orders counted paths bytewise, a prefix before its extensions.
 * Returns <0, 0 or >0 as memcmp(3). */
int	path_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Iterate over the components of a checked path: start with *pos = 0;
 * each call stores the next component in *comp and *clen and returns 1, or
 * returns 0 when there are no more.
 */
int	path_next(const char *path, size_t len, size_t *pos,
	    const char **comp, size_t *clen);

#endif
