/*
 * it_parallel.c -- the data path: direct writers and parallel transfers.
 *
 * Files of several chunks go through the transfer threads (client
 * parallel.c): written in odd-sized pieces, with seeks back, holes and
 * truncation while streaming, read back sequentially and at random
 * offsets, with 1 and with 4 streams (a download gets a connection per
 * stream_span bytes, here 2 MiB so that these files of 9 MiB take 4);
 * every byte is checked against a model kept in memory.  A direct
 * writer that aborts or fails leaves the committed version as it was,
 * and its stage is gone.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include "dfs.h"
#include "harness.h"

#define MIB	(1024 * 1024)
#define BIG	(9 * MIB + 12345)	/* several chunks and a tail */

static struct cluster	 cl;
static struct dfs	*one, *four;	/* streams = 1 and 4 */
static unsigned char	*model;		/* what the file should hold */

static int
suite_init(void)
{
	struct dfs_opts	o = DFS_OPTS_INIT;
	char		conf[PATH_MAX];
	FILE		*fp;
	size_t		i;
	int		rc;

	if (cluster_start(&cl, 1) == -1)
		return -1;
	o.server = cl.named_spec;
	o.no_cache = 1;
	o.streams = 1;
	if (dfs_connect(&one, &o) != 0)
		return -1;
	o.streams = 4;
	snprintf(conf, sizeof(conf), "%s/dfs.conf", cl.root);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fputs("[client]\nstream_span = 2M\n", fp);
	if (fclose(fp) != 0 || setenv("DFS_CONFIG", conf, 1) != 0)
		return -1;
	rc = dfs_connect(&four, &o);
	unsetenv("DFS_CONFIG");
	if (rc != 0)
		return -1;
	if ((model = malloc(BIG + MIB)) == NULL)
		return -1;
	for (i = 0; i < BIG + MIB; i++)
		model[i] = (unsigned char)(i * 2654435761u >> 13);
	return 0;
}

static int
suite_clean(void)
{
	dfs_disconnect(one);
	dfs_disconnect(four);
	free(model);
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* Writes model[0, len) to path in pieces of `piece` bytes ("w"). */
static int
put(struct dfs *d, const char *path, size_t len, size_t piece)
{
	struct dfs_file	*f;
	size_t		 off, n;

	if (dfs_open(d, path, "w", &f) != 0)
		return -1;
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		if (dfs_write(f, model + off, n) != (ssize_t)n) {
			dfs_abort(f);
			return -1;
		}
	}
	return dfs_close(f) == 0 ? 0 : -1;
}

/* Reads path whole and compares it with want[0, len).  Returns 0 or -1. */
static int
check(struct dfs *d, const char *path, const unsigned char *want,
    size_t len)
{
	struct dfs_file	*f;
	unsigned char	*buf;
	size_t		 got = 0;
	ssize_t		 n = 1;
	int		 rc;

	if ((buf = malloc(len + 1)) == NULL || dfs_open(d, path, "r", &f) != 0) {
		free(buf);
		return -1;
	}
	while (n > 0 && got <= len) {
		n = dfs_read(f, buf + got, len + 1 - got < 77777 ?
		    len + 1 - got : 77777);
		if (n > 0)
			got += (size_t)n;
	}
	dfs_close(f);
	rc = n == 0 && got == len && memcmp(buf, want, len) == 0 ? 0 : -1;
	free(buf);
	return rc;
}

static void
test_parallel__round_trip(void)
{
	static const size_t	pieces[] = { 1000, 65536, MIB, 3 * MIB + 7 };
	size_t			i;

	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		CU_ASSERT(put(four, "/big4", BIG, pieces[i]) == 0);
		CU_ASSERT(check(four, "/big4", model, BIG) == 0);
		CU_ASSERT(check(one, "/big4", model, BIG) == 0);
		CU_ASSERT(put(one, "/big1", BIG, pieces[i]) == 0);
		CU_ASSERT(check(four, "/big1", model, BIG) == 0);
	}
	/* exactly one chunk, and one byte more: the edges of going direct */
	CU_ASSERT(put(four, "/edge", MIB, MIB) == 0);
	CU_ASSERT(check(four, "/edge", model, MIB) == 0);
	CU_ASSERT(put(four, "/edge", MIB + 1, 4096) == 0);
	CU_ASSERT(check(four, "/edge", model, MIB + 1) == 0);
}

static void
test_parallel__seek_hole_truncate(void)
{
	unsigned char	*want = calloc(1, BIG);
	struct dfs_file	*f;

	CU_ASSERT_FATAL(want != NULL);
	CU_ASSERT_FATAL(dfs_open(four, "/holes", "w", &f) == 0);
	/* 3 MiB, then back to overwrite 10 bytes at 100 */
	CU_ASSERT(dfs_write(f, model, 3 * MIB) == 3 * MIB);
	memcpy(want, model, 3 * MIB);
	CU_ASSERT(dfs_seek(f, 100, SEEK_SET) == 100);
	CU_ASSERT(dfs_write(f, "0123456789", 10) == 10);
	memcpy(want + 100, "0123456789", 10);
	/* a hole from 3 MiB to 5 MiB, then 2 MiB of data */
	CU_ASSERT(dfs_seek(f, 5 * MIB, SEEK_SET) == 5 * MIB);
	CU_ASSERT(dfs_write(f, model, 2 * MIB) == 2 * MIB);
	memcpy(want + 5 * MIB, model, 2 * MIB);
	CU_ASSERT(dfs_seek(f, 0, SEEK_END) == 7 * MIB);
	/* cut into the data, then extend past it with zeros */
	CU_ASSERT(dfs_truncate(f, 6 * MIB) == 0);
	CU_ASSERT(dfs_seek(f, 0, SEEK_END) == 6 * MIB);
	CU_ASSERT(dfs_truncate(f, 8 * MIB) == 0);
	memset(want + 6 * MIB, 0, 2 * MIB);
	CU_ASSERT(dfs_seek(f, 0, SEEK_END) == 8 * MIB);
	CU_ASSERT(dfs_write(f, "end", 3) == 3);
	memcpy(want + 8 * MIB, "end", 3);
	CU_ASSERT(dfs_close(f) == 0);
	CU_ASSERT(check(four, "/holes", want, 8 * MIB + 3) == 0);
	CU_ASSERT(check(one, "/holes", want, 8 * MIB + 3) == 0);
	free(want);
}

static void
test_parallel__append(void)
{
	struct dfs_file	*f;

	CU_ASSERT_FATAL(put(four, "/app", 2 * MIB + 5, MIB) == 0);
	CU_ASSERT_FATAL(dfs_open(four, "/app", "a", &f) == 0);
	CU_ASSERT(dfs_write(f, model + 2 * MIB + 5, 3 * MIB) == 3 * MIB);
	CU_ASSERT(dfs_close(f) == 0);
	CU_ASSERT(check(four, "/app", model, 5 * MIB + 5) == 0);
}

static void
test_parallel__random_reads(void)
{
	static const size_t	offs[] = { 5 * MIB + 3, 0, BIG - 1, MIB,
				    MIB - 1, 7 * MIB, 2 * MIB + 100, BIG };
	struct dfs_file		*f;
	unsigned char		 buf[4096];
	size_t			 i, want;
	ssize_t			 got;

	CU_ASSERT_FATAL(put(four, "/rand", BIG, MIB) == 0);
	CU_ASSERT_FATAL(dfs_open(four, "/rand", "r", &f) == 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		want = BIG - offs[i] < sizeof(buf) ? BIG - offs[i] :
		    sizeof(buf);
		CU_ASSERT(dfs_seek(f, (int64_t)offs[i], SEEK_SET) ==
		    (int64_t)offs[i]);
		/* a read may stop at its chunk's end: check what it gives */
		got = dfs_read(f, buf, want);
		CU_ASSERT(got > 0 || want == 0);
		CU_ASSERT(got <= (ssize_t)want);
		CU_ASSERT(got <= 0 ||
		    memcmp(buf, model + offs[i], (size_t)got) == 0);
	}
	dfs_close(f);
}

/* The file server's count of calls to op `name`, or -1. */
static long
filed_calls(const char *name)
{
	uint64_t	n;

	return harness_filed_counter(&cl.filed[0], name, &n, NULL) == 0 ?
	    (long)n : -1;
}

static void
test_parallel__abort_keeps_old(void)
{
	struct dfs_file	*f;
	long		 aborts = filed_calls("ABORT");

	CU_ASSERT_FATAL(put(four, "/keep", 2 * MIB, MIB) == 0);
	CU_ASSERT_FATAL(dfs_open(four, "/keep", "w", &f) == 0);
	CU_ASSERT(dfs_write(f, "new", 3) == 3);
	CU_ASSERT(dfs_write(f, model, 4 * MIB) == 4 * MIB);
	CU_ASSERT(dfs_abort(f) == 0);
	CU_ASSERT(check(one, "/keep", model, 2 * MIB) == 0);
	CU_ASSERT(filed_calls("ABORT") == aborts + 1);
}

static CU_TestInfo parallel_tests[] = {
	{ "round_trip", test_parallel__round_trip },
	{ "seek_hole_truncate", test_parallel__seek_hole_truncate },
	{ "append", test_parallel__append },
	{ "random_reads", test_parallel__random_reads },
	{ "abort_keeps_old", test_parallel__abort_keeps_old },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "parallel", suite_init, suite_clean, NULL, NULL, parallel_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
