/*
 * t_readahead.c -- client/readahead.c (a download on one connection, the next
 * READ sent ahead) against a scripted file server.
 *
 * A thread on 127.0.0.1 accepts connections one after the other and
 * answers each READ call on them, in order, with the bytes of a pattern
 * at the asked offset, cut at the end of the version it believes in.  It
 * can hang up after some replies and answer STALE from some offset on;
 * it counts the calls it read, so a test sees when each READ was sent.
 */
#include <sys/socket.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "bytes.h"
#include "client.h"

#define CHUNK		DFS_CHUNK
#define VERS		7

/* The script, and what the server saw. */
static struct {
	uint64_t	 size;		/* of the version, as the server has it */
	int		 hangup_after;	/* replies on the first connection; 0 */
	int		 hangup_all;	/* close every connection at once */
	uint64_t	 stale_from;	/* STALE for offsets from here; 0 */
	/* seen */
	int		 conns;
	int		 calls;
	int		 bad;		/* a call that was not a READ of VERS */
} sc;

static int		 lfd = -1;
static unsigned int	 port;
static pthread_t	 thr;
static volatile int	 quit;

static unsigned char
pat(uint64_t off)
{
	return (unsigned char)(off * 31 + off / 4099);
}

/* Reads one call; returns 0 with its xid and READ args, or -1. */
static int
take_call(int fd, uint32_t *xid, read_args *ra)
{
	static unsigned char	 rec[4096];
	file_compound_args	 args;
	int			 ok;

	ok = cutest_take_file_call(fd, rec, sizeof(rec), xid, &args) == 0 &&
	    args.ops.ops_val[0].op == FOP_READ;
	if (ok) {
		*ra = args.ops.ops_val[0].file_argop_u.read;
		ra->fh.dfs_fh_val = NULL;
	}
	xdr_free((xdrproc_t)xdr_file_compound_args, (char *)&args);
	return ok ? 0 : -1;
}

/* Answers one READ: the pattern from ra->offset, to the version's end. */
static int
answer(int fd, uint32_t xid, const read_args *ra)
{
	static unsigned char	 rep[CHUNK + 64];
	unsigned char		*p = rep + 4;
	uint32_t		 n = 0, i;
	int			 stale;

	stale = sc.stale_from != 0 && ra->offset >= sc.stale_from;
	if (!stale && ra->offset < sc.size)
		n = sc.size - ra->offset < ra->count ?
		    (uint32_t)(sc.size - ra->offset) : ra->count;
#define PUT(v)	do { be32_put(p, (v)); p += 4; } while (0)
	PUT(xid);
	PUT(REPLY);
	PUT(MSG_ACCEPTED);
	PUT(AUTH_NONE);
	PUT(0);
	PUT(SUCCESS);
	PUT(stale ? DFS_ERR_STALE : DFS_OK);
	PUT(1);
	PUT(FOP_READ);
	PUT(stale ? DFS_ERR_STALE : DFS_OK);
	if (!stale) {
		PUT(ra->offset + n >= sc.size);
		PUT(n);
		for (i = 0; i < n; i++)
			*p++ = pat(ra->offset + i);
		while ((p - rep) % 4)
			*p++ = 0;
	}
#undef PUT
	be32_put(rep, 0x80000000u | (uint32_t)(p - rep - 4));
	return cutest_write_full(fd, rep, (size_t)(p - rep));
}

static void *
server(void *arg)
{
	struct pollfd	 pfd;
	read_args	 ra;
	uint32_t	 xid;
	int		 fd, served;

	(void)arg;
	while (!quit) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) != 1 ||
		    (fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		sc.conns++;
		served = 0;
		while (!sc.hangup_all && take_call(fd, &xid, &ra) == 0) {
			__atomic_add_fetch(&sc.calls, 1, __ATOMIC_SEQ_CST);
			if (ra.vers != VERS)
				sc.bad++;
			if (sc.hangup_after != 0 && sc.conns == 1 &&
			    served == sc.hangup_after)
				break;
			if (answer(fd, xid, &ra) == -1)
				break;
			served++;
		}
		close(fd);
	}
	return NULL;
}

static int
suite_init(void)
{
	signal(SIGPIPE, SIG_IGN);	/* the server writes to hung-up peers */
	lfd = cutest_bind_loopback(&port);
	if (lfd == -1 || listen(lfd, 8) == -1)
		return -1;
	quit = 0;
	return pthread_create(&thr, NULL, server, NULL) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	quit = 1;
	pthread_join(thr, NULL);
	close(lfd);
	return 0;
}

/* A pipeline over a version of `size` bytes (the client's idea). */
static struct readahead *
start(struct dfs *d, uint64_t size)
{
	static char	 fhb[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	dfs_server	 srv;
	dfs_fh		 fh = { sizeof(fhb), fhb };
	struct readahead	*rah = NULL;

	memset(d, 0, sizeof(*d));
	d->timeout_ms = 1000;
	d->retries = 2;
	memset(&srv, 0, sizeof(srv));
	srv.host = (char *)"127.0.0.1";
	srv.port = port;
	CU_ASSERT_EQUAL_FATAL(readahead_start(d, &srv, &fh, VERS, size, &rah), 0);
	return rah;
}

/* Ends rah and closes the connection it gave back to d (the server
 * serves one connection at a time). */
static void
end(struct readahead *rah, struct dfs *d)
{
	int	i;

	readahead_end(rah);
	for (i = 0; i < d->nfs; i++) {
		if (d->fs[i].clnt != NULL)
			clnt_destroy(d->fs[i].clnt);
		d->fs[i].clnt = NULL;
	}
}

/* Whether n bytes at p are the pattern at off. */
static int
is_pat(const char *p, size_t n, uint64_t off)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] != pat(off + i))
			return 0;
	return 1;
}

/* Reads from off to the end in order, checking every byte.  Returns
 * the bytes read, or -1 after a failure (*rc). */
static int64_t
read_all(struct readahead *rah, struct dfs *d, uint64_t off, int *rc)
{
	const char	*p;
	size_t		 len;
	uint64_t	 from = off;

	for (;;) {
		*rc = readahead_get(rah, d, off, &p, &len);
		if (*rc != 0)
			return -1;
		if (len == 0)
			return (int64_t)(off - from);
		CU_ASSERT(is_pat(p, len, off));
		off += len;
	}
}

static void
reset(uint64_t size)
{
	memset(&sc, 0, sizeof(sc));
	sc.size = size;
}

/* Whether the server has read n calls, within a second. */
static int
calls_reach(int n)
{
	int	i;

	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&sc.calls, __ATOMIC_SEQ_CST) >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* In order: every byte, one connection, one READ per chunk, and the
 * READ of each chunk sent before the one ahead of it is handed over
 * (without that, the server waits for the caller's next call). */
static void
test_readahead__in_order(void)
{
	uint64_t	 size = 4 * CHUNK + 12345, off = 0;
	struct dfs	 d;
	struct readahead	*rah;
	const char	*p;
	size_t		 len;
	int		 k;

	reset(size);
	rah = start(&d, size);
	for (k = 0; k < 5; k++) {
		CU_ASSERT_EQUAL_FATAL(readahead_get(rah, &d, off, &p, &len), 0);
		CU_ASSERT(len == (k < 4 ? CHUNK : 12345) &&
		    is_pat(p, len, off));
		/* chunk k taken: the READ of k + 1 is out already */
		CU_ASSERT(calls_reach(k < 4 ? k + 2 : 5));
		off += len;
	}
	CU_ASSERT_EQUAL(readahead_get(rah, &d, off, &p, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	readahead_end(rah);
	/* nothing in flight: the connection went back to d */
	CU_ASSERT_EQUAL(d.nfs, 1);
	CU_ASSERT_PTR_NOT_NULL(d.fs[0].clnt);
	end(NULL, &d);
	CU_ASSERT_EQUAL(sc.conns, 1);
	CU_ASSERT_EQUAL(sc.calls, 5);
	CU_ASSERT_EQUAL(sc.bad, 0);
}

/* Offsets out of order restart the pipeline there; within the chunk
 * held, nothing is asked again. */
static void
test_readahead__restart(void)
{
	uint64_t	 size = 5 * CHUNK;
	struct dfs	 d;
	struct readahead	*rah;
	const char	*p;
	size_t		 len;

	reset(size);
	rah = start(&d, size);
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 0, &p, &len), 0);
	CU_ASSERT(len == CHUNK && is_pat(p, len, 0));
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 1000, &p, &len), 0);
	CU_ASSERT(len == CHUNK - 1000 && is_pat(p, len, 1000));
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 3 * CHUNK + 7, &p, &len), 0);
	CU_ASSERT(len == CHUNK && is_pat(p, len, 3 * CHUNK + 7));
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 5, &p, &len), 0);
	CU_ASSERT(len == CHUNK && is_pat(p, len, 5));
	CU_ASSERT_EQUAL(readahead_get(rah, &d, size, &p, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	/* the READ after offset 5's chunk is in flight: the connection
	 * is closed, not given back with a reply on its way */
	readahead_end(rah);
	CU_ASSERT(d.nfs == 0 || d.fs[0].clnt == NULL);
	end(NULL, &d);
	CU_ASSERT_EQUAL(sc.bad, 0);
}

/* A connection that drops mid-way: the READs in flight go again on a
 * new one, and the bytes come out right. */
static void
test_readahead__reconnects(void)
{
	uint64_t	 size = 4 * CHUNK;
	struct dfs	 d;
	struct readahead	*rah;
	int		 rc;

	reset(size);
	sc.hangup_after = 2;
	rah = start(&d, size);
	CU_ASSERT_EQUAL(read_all(rah, &d, 0, &rc), (int64_t)size);
	end(rah, &d);
	CU_ASSERT_EQUAL(sc.conns, 2);
}

/* A server that keeps hanging up: after `retries` tries the failure
 * stays, with its detail. */
static void
test_readahead__gives_up(void)
{
	uint64_t	 size = 3 * CHUNK;
	struct dfs	 d;
	struct readahead	*rah;
	const char	*p;
	size_t		 len;
	int		 rc;

	reset(size);
	sc.hangup_all = 1;
	rah = start(&d, size);
	rc = readahead_get(rah, &d, 0, &p, &len);
	CU_ASSERT(rc < 0);
	CU_ASSERT(d.detail[0] != '\0');
	CU_ASSERT_EQUAL(sc.conns, 3);		/* 1 + retries */
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 0, &p, &len), rc);
	end(rah, &d);
}

/* A version shorter than the client was told ends where it ends; one
 * the server replaced fails STALE, saying so. */
static void
test_readahead__short_and_stale(void)
{
	struct dfs	 d;
	struct readahead	*rah;
	const char	*p;
	size_t		 len;
	int		 rc;

	reset(CHUNK + CHUNK / 2);
	rah = start(&d, 4 * CHUNK);
	CU_ASSERT_EQUAL(read_all(rah, &d, 0, &rc), CHUNK + CHUNK / 2);
	CU_ASSERT_EQUAL(readahead_get(rah, &d, 3 * CHUNK, &p, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	end(rah, &d);

	reset(4 * CHUNK);
	sc.stale_from = 2 * CHUNK;
	rah = start(&d, 4 * CHUNK);
	CU_ASSERT_EQUAL(read_all(rah, &d, 0, &rc), -1);
	CU_ASSERT_EQUAL(rc, -DFS_ERR_STALE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.detail, "replaced"));
	end(rah, &d);
}

static CU_TestInfo readahead_tests[] = {
	{ "in_order",		test_readahead__in_order },
	{ "restart",		test_readahead__restart },
	{ "reconnects",		test_readahead__reconnects },
	{ "gives_up",		test_readahead__gives_up },
	{ "short_and_stale",	test_readahead__short_and_stale },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "readahead", suite_init, suite_clean, NULL, NULL, readahead_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
