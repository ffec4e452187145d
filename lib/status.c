/*
 * status.c -- text for every dfs_stat value.
 *
 * One table is the source of truth for the message and the short name;
 * t_status checks that every enumerator of proto/dfs_types.x has a row.
 */
#include <stddef.h>

#include "dfs_types.h"
#include "status.h"

struct status_text {
	int		 code;
	const char	*name;
	const char	*msg;
};

static const struct status_text status_table[] = {
	{ DFS_OK,		"OK",		"Success" },
	{ DFS_ERR_PERM,		"PERM",		"Operation not permitted" },
	{ DFS_ERR_NOENT,	"NOENT",	"No such file or directory" },
	{ DFS_ERR_IO,		"IO",		"Input/output error" },
	{ DFS_ERR_NOMEM,	"NOMEM",	"Cannot allocate memory" },
	{ DFS_ERR_ACCES,	"ACCES",	"Permission denied" },
	{ DFS_ERR_EXIST,	"EXIST",	"File exists" },
	{ DFS_ERR_XDEV,		"XDEV",		"Invalid cross-device link" },
	{ DFS_ERR_NOTDIR,	"NOTDIR",	"Not a directory" },
	{ DFS_ERR_ISDIR,	"ISDIR",	"Is a directory" },
	{ DFS_ERR_INVAL,	"INVAL",	"Invalid argument" },
	{ DFS_ERR_FBIG,		"FBIG",		"File too large" },
	{ DFS_ERR_NOSPC,	"NOSPC",	"No space left on device" },
	{ DFS_ERR_ROFS,		"ROFS",		"Read-only file system" },
	{ DFS_ERR_NAMETOOLONG,	"NAMETOOLONG",	"File name too long" },
	{ DFS_ERR_NOTEMPTY,	"NOTEMPTY",	"Directory not empty" },
	{ DFS_ERR_NOTSUPP,	"NOTSUPP",	"Operation not supported" },
	{ DFS_ERR_STALE,	"STALE",	"Stale file handle" },
	{ DFS_ERR_LOCKED,	"LOCKED",	"Locked by another client" },
	{ DFS_ERR_BADHANDLE,	"BADHANDLE",	"Invalid file handle" },
	{ DFS_ERR_EXPIRED,	"EXPIRED",
	    "Lock expired and was taken over" },
	{ DFS_ERR_GRACE,	"GRACE",
	    "Server is recovering, try again" },
	{ DFS_ERR_RESOURCE,	"RESOURCE",	"Request too large" },
	{ DFS_ERR_OP_ILLEGAL,	"OP_ILLEGAL",	"Unknown operation" },
	{ DFS_ERR_BADLOCK,	"BADLOCK",	"Unknown lock id" },
	{ DFS_ERR_NOFILEHANDLE,	"NOFILEHANDLE",	"No current file handle" },
	{ DFS_ERR_BADCOOKIE,	"BADCOOKIE",
	    "Directory cookie no longer valid" },
	{ DFS_ERR_NOSERVER,	"NOSERVER",	"No server available" },
	{ DFS_ERR_DELAY,	"DELAY",	"Server busy, try again" },
	{ DFS_ERR_SERVERFAULT,	"SERVERFAULT",	"Server failure" },
	{ DFS_ERR_CHANGED,	"CHANGED",
	    "File changed during the operation" },
	{ DFS_ERR_LIMIT,	"LIMIT",
	    "Too many locks or waiting lock requests" },
	{ DFS_ERR_STANDBY,	"STANDBY",
	    "Not the authoritative lock server (standby)" },
	{ DFS_ERR_RPC,		"RPC",		"Cannot reach server" },
	{ DFS_ERR_TIMEDOUT,	"TIMEDOUT",
	    "Server did not answer in time" },
	{ DFS_ERR_PROTO,	"PROTO",	"Not a dfs server" },
};

static const struct status_text *
status_find(int status)
{
	size_t	i;

	/* negate the table's codes, not status: -INT_MIN overflows */
	for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
		if (status_table[i].code == status ||
		    -status_table[i].code == status)
			return &status_table[i];
	return NULL;
}

const char *
dfs_strerror(int status)
{
	const struct status_text	*t = status_find(status);

	return t != NULL ? t->msg : "Unknown error";
}

const char *
dfs_statname(int status)
{
	const struct status_text	*t = status_find(status);

	return t != NULL ? t->name : "UNKNOWN";
}
