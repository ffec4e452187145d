/*
 * status.h -- text for every dfs_stat value.
 */
#ifndef DFS_STATUS_H
#define DFS_STATUS_H

/*
 * Returns a static, human-readable message for a status, given either
 * sign (0, DFS_ERR_NOENT or -DFS_ERR_NOENT).  Values that equal an errno
 * read exactly as strerror(3) says them; unknown values read "Unknown
 * error".  Never NULL.
 */
const char	*dfs_strerror(int status);

/* Returns the symbolic name ("NOENT", "STALE"), or "UNKNOWN". */
const char	*dfs_statname(int status);

#endif
