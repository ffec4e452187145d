/*
 * it_named_full.c -- dfs-named on a full disk (issue 17, item 12): it
 * refuses changes with NOSPC, keeps serving reads, restarts on the full
 * disk (after SIGTERM and after kill -9, whose log must be replayed and
 * checkpointed there), loses nothing it acknowledged, and takes changes
 * again once there is room.
 *
 * The state directory is on a small tmpfs the test mounts (root only;
 * the test is skipped, exit 77, where mount(2) is not allowed); the
 * daemon's log and pid file stay outside it.  The disk is filled by a
 * plain file, as a client's abandoned upload to a file server sharing
 * the file system would fill it.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"
#include "status.h"

#define FS_SIZE		"size=8m"
#define MAXMKDIRS	100000		/* the reserve runs out long before */

static char		root[256];
static char		mnt[300];
static char		fill[320];
static int		mounted;
static struct dproc	named;
static CLIENT		*c;

/* Mounts the tmpfs.  Returns 0, or -1 with the reason on stderr. */
static int
mount_small(void)
{
	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	snprintf(mnt, sizeof(mnt), "%s/full", root);
	snprintf(fill, sizeof(fill), "%s/fill", mnt);
	if (mkdir(mnt, 0700) == -1)
		return -1;
	if (mount("tmpfs", mnt, "tmpfs", 0, FS_SIZE) == -1) {
		fprintf(stderr, "cannot mount a tmpfs on '%s': %s\n", mnt,
		    strerror(errno));
		harness_rmtree(root);
		return -1;
	}
	mounted = 1;
	return 0;
}

static int
suite_init(void)
{
	harness_init(&named, "dfs-named", DFS_NAME_PROG, mnt, "named");
	/* the log and the pid file stay off the full disk */
	snprintf(named.log, sizeof(named.log), "%s/named.log", root);
	snprintf(named.pidfile, sizeof(named.pidfile), "%s/named.pid", root);
	if (harness_start(&named) != 0)
		return -1;
	c = harness_clnt(&named);
	return c != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	int	st;

	if (c != NULL)
		clnt_destroy(c);
	st = harness_stop(&named);
	if (st != 0)
		harness_dump_log(&named);
	if (mounted && umount2(mnt, MNT_DETACH) == -1)
		fprintf(stderr, "cannot umount '%s': %s\n", mnt,
		    strerror(errno));
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

/* Sends r.  Returns the COMPOUND's status, DFS_ERR_RPC without reply. */
static dfs_stat
send_req(struct name_req *r)
{
	name_compound_res	res;
	dfs_stat		st;

	if (name_call(c, r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

static dfs_stat
n_mkdir(const char *dir, const char *name)
{
	struct name_req	r = { .n = 0 };

	name_req_add(&r, OP_PUTROOTFH);
	if (dir[0] != '\0')
		name_req_lookup(&r, dir);
	name_req_mkdir(&r, name);
	return send_req(&r);
}

static dfs_stat
n_create(const char *dir, const char *name)
{
	struct name_req	r = { .n = 0 };

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, dir);
	name_req_create(&r, name, 1);
	return send_req(&r);
}

/* LOOKUP, GETATTR and READDIR of relative `path`. */
static dfs_stat
n_read(const char *path)
{
	struct name_req	 r = { .n = 0 };
	readdir_args	*ra;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, path);
	name_req_add(&r, OP_GETATTR);
	ra = &name_req_add(&r, OP_READDIR)->name_argop_u.readdir;
	ra->cookie = 0;
	ra->count = 16;
	return send_req(&r);
}

/* Fills the file system with one file until it is full.  Returns 0 or
 * -1. */
static int
fill_disk(void)
{
	static char	buf[65536];
	ssize_t		n;
	int		fd;

	fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	do
		n = write(fd, buf, sizeof(buf));
	while (n > 0);
	close(fd);
	return n == -1 && errno == ENOSPC ? 0 : -1;
}

/* The size of the name log, or -1. */
static long long
log_size(void)
{
	char		path[600];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/named.log", named.dir);
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Restarts the daemon (after stop or kill) and reconnects.  Returns 0
 * or -1. */
static int
restart(void)
{
	if (c != NULL)
		clnt_destroy(c);
	c = NULL;
	if (harness_start(&named) != 0)
		return -1;
	c = harness_clnt(&named);
	return c != NULL ? 0 : -1;
}

/*
 * MKDIRs until the reserve runs out: each acknowledged one survives, the
 * refusal is NOSPC (never a dead daemon), reads go on, and restarts on
 * the full disk work; freeing the disk makes changes work again.
 */
static void
test_named_full__nospc(void)
{
	char		name[32], last[64];
	unsigned int	i;
	dfs_stat	st = DFS_OK;

	CU_ASSERT_EQUAL_FATAL(n_mkdir("", "a"), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(fill_disk(), 0);
	for (i = 0; i < MAXMKDIRS && st == DFS_OK; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		st = n_mkdir("a", name);
		if (st == DFS_OK)
			snprintf(last, sizeof(last), "a/%s", name);
	}
	fprintf(stderr, "%u MKDIRs on the full disk, then NOSPC\n", i - 1);
	CU_ASSERT_EQUAL_FATAL(st, DFS_ERR_NOSPC);
	/* the reserve took changes until it ran low */
	CU_ASSERT_FATAL(i > 10);
	/* refused before its own checks (no file server is registered) */
	CU_ASSERT_EQUAL(n_create("a", "g"), DFS_ERR_NOSPC);
	CU_ASSERT_EQUAL(n_read("a"), DFS_OK);
	CU_ASSERT_EQUAL(n_read(last), DFS_OK);
	CU_ASSERT(log_size() > 0);
	/* kill -9: the restart replays the log and checkpoints, full */
	CU_ASSERT_EQUAL_FATAL(harness_kill9(&named), 0);
	CU_ASSERT_EQUAL_FATAL(restart(), 0);
	CU_ASSERT_EQUAL(log_size(), 0);		/* it did checkpoint */
	CU_ASSERT_EQUAL(n_read(last), DFS_OK);
	CU_ASSERT_EQUAL(n_mkdir("a", "after_kill"), DFS_ERR_NOSPC);
	/* SIGTERM checkpoints on the full disk and exits 0 */
	CU_ASSERT_EQUAL_FATAL(harness_stop(&named), 0);
	CU_ASSERT_EQUAL_FATAL(restart(), 0);
	CU_ASSERT_EQUAL(n_read(last), DFS_OK);
	CU_ASSERT_EQUAL(n_mkdir("a", "after_stop"), DFS_ERR_NOSPC);
	/* room again: changes work again */
	CU_ASSERT_EQUAL_FATAL(unlink(fill), 0);
	CU_ASSERT_EQUAL(n_mkdir("a", "after_free"), DFS_OK);
	CU_ASSERT_EQUAL(n_read("a/after_free"), DFS_OK);
}

/*
 * dfs-lockd on the same full disk: LOCKs are refused NOSPC once its
 * reserve runs low (never a dead daemon), UNLOCK still frees, TEST
 * still answers, and a restart after kill -9 on the full disk keeps
 * every granted lock.
 */
static void
test_named_full__lockd(void)
{
	struct dproc	lockd;
	CLIENT		*lc;
	dfs_lockid	first, id, none;
	char		path[4096];
	unsigned int	i, k;
	dfs_stat	st = DFS_OK;

	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, mnt, "lockd");
	/* the disk, not a lock limit, must be what stops the LOCKs */
	lockd.extra[0] = "--client-paths";
	lockd.extra[1] = "1000000";
	lockd.extra[2] = "--max-paths";
	lockd.extra[3] = "1000000";
	memset(&none, 0, sizeof(none));
	snprintf(lockd.log, sizeof(lockd.log), "%s/lockd.log", root);
	snprintf(lockd.pidfile, sizeof(lockd.pidfile), "%s/lockd.pid", root);
	CU_ASSERT_EQUAL_FATAL(harness_start(&lockd), 0);
	lc = harness_clnt(&lockd);
	CU_ASSERT_FATAL(lc != NULL);
	CU_ASSERT_EQUAL_FATAL(harness_lock(lc, "/first", DFS_LOCK_EXCL, 0,
	    &first), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(fill_disk(), 0);
	for (i = 0; i < MAXMKDIRS && st == DFS_OK; i++) {
		/* long paths, so the log grows fast */
		for (k = 0; k < 15; k++)
			snprintf(path + k * 250, sizeof(path) - k * 250,
			    "/%0249u", i);
		st = harness_lock(lc, path, DFS_LOCK_EXCL, 0, &id);
	}
	fprintf(stderr, "%u LOCKs on the full disk, then %s\n", i - 1,
	    dfs_statname(st));
	CU_ASSERT_EQUAL(st, DFS_ERR_NOSPC);
	CU_ASSERT_EQUAL(harness_locktest(lc, "/first", &first,
	    DFS_LOCK_EXCL), DFS_OK);
	clnt_destroy(lc);
	CU_ASSERT_EQUAL_FATAL(harness_kill9(&lockd), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&lockd), 0);
	lc = harness_clnt(&lockd);
	CU_ASSERT_FATAL(lc != NULL);
	st = harness_locktest(lc, "/first", &none, DFS_LOCK_EXCL);
	CU_ASSERT_EQUAL(st, DFS_ERR_LOCKED);
	if (st != DFS_ERR_LOCKED)
		fprintf(stderr, "TEST after restart: %s\n", dfs_statname(st));
	clnt_destroy(lc);
	CU_ASSERT_EQUAL(unlink(fill), 0);
	CU_ASSERT_EQUAL(harness_stop(&lockd), 0);
}

static CU_TestInfo named_full_tests[] = {
	{ "nospc", test_named_full__nospc },
	{ "lockd", test_named_full__lockd },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "named_full", suite_init, suite_clean, NULL, NULL,
	    named_full_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	if (mount_small() != 0) {
		printf("skipped: no tmpfs to fill (root and mount(2) "
		    "needed)\n");
		return 77;
	}
	return cutest_run(suites);
}
