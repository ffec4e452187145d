/*
 * priv.c -- privilege separation for the daemons: become a user for good.
 *
 * ORDER [obsd]: groups before the user id, since only root may change
 * them; the user id last, and then a check that it holds: a setresuid(2)
 * that failed half-way (no such thing on Linux today, but a kernel with
 * capabilities of its own could) must not leave a daemon that believes
 * it is the user while it still is root.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

int
priv_lookup(struct priv_user *u, const char *name, char *err, size_t errlen)
{
	struct passwd	*pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		if (errno != 0)
			snprintf(err, errlen, "cannot look up user '%s': %s",
			    name, strerror(errno));
		else
			snprintf(err, errlen, "no such user '%s'", name);
		return -1;
	}
	u->name = name;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int
priv_statedir(const struct priv_user *u, const char *dir, int created,
    char *err, size_t errlen)
{
	struct stat	st;

	if (created && chown(dir, u->uid, u->gid) == -1) {
		snprintf(err, errlen, "cannot give state directory '%s' to "
		    "user '%s': %s", dir, u->name, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "cannot stat state directory '%s': %s",
		    dir, strerror(errno));
		return -1;
	}
	if (st.st_uid != u->uid) {
		snprintf(err, errlen, "state directory '%s' is owned by uid "
		    "%lu, not by user '%s' (uid %lu): chown -R it or give "
		    "another -D", dir, (unsigned long)st.st_uid, u->name,
		    (unsigned long)u->uid);
		return -1;
	}
	return 0;
}

/* Checks that the real, effective and saved ids are all the user's.
 * Returns 0 or -1. */
static int
priv_check(const struct priv_user *u)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return -1;
	if (ruid != u->uid || euid != u->uid || suid != u->uid ||
	    rgid != u->gid || egid != u->gid || sgid != u->gid)
		return -1;
	return 0;
}

int
priv_drop(const struct priv_user *u, char *err, size_t errlen)
{
	const char	*what;

	what = "setgroups";
	if (setgroups(1, &u->gid) == -1)
		goto fail;
	what = "setresgid";
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		goto fail;
	what = "setresuid";
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		goto fail;
	if (priv_check(u) == -1) {
		snprintf(err, errlen, "cannot become user '%s': some ids "
		    "did not change", u->name);
		return -1;
	}
	if (u->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen, "user '%s' could become root again",
		    u->name);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot become user '%s': %s: %s", u->name,
	    what, strerror(errno));
	return -1;
}
