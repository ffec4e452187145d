/*
 * priv.h -- privilege separation for the daemons: become a user for good.
 *
 * A daemon started as root with -u user keeps root only for what needs
 * it (the listening socket, a stale rpcbind entry; lib/svcloop.c), then
 * drops it the way OpenBSD's daemons do [obsd slaacd]: setgroups(2) to
 * the user's one group, setresgid(2), setresuid(2), and a check that
 * root cannot be regained.  Its state is opened after that, as the user,
 * so every file it creates is the user's; the state directory must be
 * the user's too (priv_statedir()).
 */
#ifndef DFS_PRIV_H
#define DFS_PRIV_H

#include <sys/types.h>

#include <stddef.h>

struct priv_user {
	const char	*name;
	uid_t		 uid;
	gid_t		 gid;		/* the user's primary group */
};

/*
 * Looks `name` up in the password database into *u (u->name points at
 * `name`).  Returns 0, or -1 with a message in err.
 */
int	priv_lookup(struct priv_user *u, const char *name, char *err,
	    size_t errlen);

/*
 * Makes the state directory `dir` the user's: one this daemon has just
 * created (`created` non-zero) is given to the user (chown(2)); one that
 * was there must already belong to the user, else it is refused.
 * Returns 0, or -1 with a message in err.
 */
int	priv_statedir(const struct priv_user *u, const char *dir, int created,
	    char *err, size_t errlen);

/*
 * Becomes the user for good: supplementary groups, then real, effective
 * and saved group and user ids, then checks that none of them is left
 * and that setuid(0) fails.  Call it as root.  Returns 0, or -1 with a
 * message in err (the process must then exit: its ids are undefined).
 */
int	priv_drop(const struct priv_user *u, char *err, size_t errlen);

#endif
