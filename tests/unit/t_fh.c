/*
 * t_fh.c -- lib/fh.c: 28-byte handles, authenticated by a tag.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "fh.h"

#define INSTANCE	0x0123456789abcdefULL
#define SECRET		0xfeedfacecafebeefULL

static const struct fh	sample = { INSTANCE, 42 };

static void
test_fh__roundtrip(void)
{
	static const uint64_t	 ids[] = { 1, 2, 42, 0xffffffffULL,
	    0x100000000ULL, UINT64_MAX };
	unsigned char		 buf[FH_LEN], again[FH_LEN];
	struct fh		 in, out;
	size_t			 i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		in.instance = INSTANCE;
		in.fileid = ids[i];
		fh_encode(&in, SECRET, buf);
		memset(&out, 0, sizeof(out));
		CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET,
		    &out), 0);
		CU_ASSERT_EQUAL(out.instance, in.instance);
		CU_ASSERT_EQUAL(out.fileid, in.fileid);
	}
	/* the same ids give the same bytes: handles are stable */
	fh_encode(&sample, SECRET, buf);
	fh_encode(&sample, SECRET, again);
	CU_ASSERT_EQUAL(memcmp(buf, again, FH_LEN), 0);
}

static void
test_fh__wrong_length(void)
{
	static const size_t	 lens[] = { 0, 1, 27, 29, 128 };
	unsigned char		 buf[DFS_FHSIZE];
	struct fh		 out;
	size_t			 i;

	memset(buf, 0, sizeof(buf));
	fh_encode(&sample, SECRET, buf);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		CU_ASSERT_EQUAL(fh_decode(buf, lens[i], INSTANCE, SECRET,
		    &out), -DFS_ERR_BADHANDLE);
		CU_ASSERT_EQUAL(fh_parse(buf, lens[i], &out),
		    -DFS_ERR_BADHANDLE);
	}
}

static void
test_fh__bad_magic(void)
{
	unsigned char	buf[FH_LEN];
	struct fh	out;
	int		i;

	for (i = 0; i < 4; i++) {
		fh_encode(&sample, SECRET, buf);
		buf[i] ^= 0x01;
		CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET,
		    &out), -DFS_ERR_BADHANDLE);
		CU_ASSERT_EQUAL(fh_parse(buf, FH_LEN, &out),
		    -DFS_ERR_BADHANDLE);
	}
}

/* Any single flipped bit of the tag, or of the file id, is caught. */
static void
test_fh__flipped_bit(void)
{
	unsigned char	buf[FH_LEN];
	struct fh	out;
	int		bit;

	for (bit = 20 * 8; bit < FH_LEN * 8; bit++) {
		fh_encode(&sample, SECRET, buf);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET,
		    &out), -DFS_ERR_BADHANDLE);
	}
	for (bit = 12 * 8; bit < 20 * 8; bit++) {
		fh_encode(&sample, SECRET, buf);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET,
		    &out), -DFS_ERR_BADHANDLE);
	}
}

/* A handle from another name server instance is STALE, even with its
 * own valid tag. */
static void
test_fh__other_instance(void)
{
	struct fh	other = { INSTANCE ^ 1, 42 }, out;
	unsigned char	buf[FH_LEN];

	fh_encode(&other, SECRET, buf);
	CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET, &out),
	    -DFS_ERR_STALE);
	fh_encode(&other, SECRET ^ 0xff, buf);
	CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET, &out),
	    -DFS_ERR_STALE);
	/* and it is fine for the instance that made it */
	CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE ^ 1, SECRET ^ 0xff,
	    &out), 0);
}

static void
test_fh__other_secret(void)
{
	unsigned char	buf[FH_LEN];
	struct fh	out;

	fh_encode(&sample, SECRET + 1, buf);
	CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET, &out),
	    -DFS_ERR_BADHANDLE);
	fh_encode(&sample, 0, buf);
	CU_ASSERT_EQUAL(fh_decode(buf, FH_LEN, INSTANCE, SECRET, &out),
	    -DFS_ERR_BADHANDLE);
}

/* Guessing a file id: new id bytes under a tag made for another id. */
static void
test_fh__forged_fileid(void)
{
	struct fh	victim = { INSTANCE, 7 }, out;
	unsigned char	buf[FH_LEN], forged[FH_LEN];
	int		i;

	fh_encode(&sample, SECRET, buf);
	fh_encode(&victim, SECRET, forged);
	memcpy(forged + 20, buf + 20, 8);
	CU_ASSERT_EQUAL(fh_decode(forged, FH_LEN, INSTANCE, SECRET, &out),
	    -DFS_ERR_BADHANDLE);
	/* id + 1 .. id + 8 with the old tag */
	for (i = 1; i <= 8; i++) {
		memcpy(forged, buf, FH_LEN);
		forged[19] = (unsigned char)(forged[19] + i);
		CU_ASSERT_EQUAL(fh_decode(forged, FH_LEN, INSTANCE, SECRET,
		    &out), -DFS_ERR_BADHANDLE);
	}
}

/* A file server holds no secret: shape is all fh_parse checks. */
static void
test_fh__parse_shape_only(void)
{
	unsigned char	buf[FH_LEN];
	struct fh	out;

	fh_encode(&sample, SECRET, buf);
	buf[FH_LEN - 1] ^= 0xff;
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL(fh_parse(buf, FH_LEN, &out), 0);
	CU_ASSERT_EQUAL(out.instance, INSTANCE);
	CU_ASSERT_EQUAL(out.fileid, 42);
	memcpy(buf, "dfs1", 4);
	memset(buf + 4, 0, FH_LEN - 4);
	CU_ASSERT_EQUAL(fh_parse(buf, FH_LEN, &out), 0);
	CU_ASSERT_EQUAL(out.instance, 0);
	CU_ASSERT_EQUAL(out.fileid, 0);
}

/* Layout: "dfs1", instance and file id big-endian, then the tag. */
static void
test_fh__hex(void)
{
	static const unsigned char	 bytes[] = { 0x00, 0x01, 0xab, 0xff };
	unsigned char			 buf[FH_LEN];
	char				 hex[FH_HEXLEN + 1], want[64];

	fh_hex(bytes, sizeof(bytes), hex);
	CU_ASSERT_STRING_EQUAL(hex, "0001abff");
	fh_hex(bytes, 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");
	fh_encode(&sample, SECRET, buf);
	memset(hex, 'X', sizeof(hex));
	fh_hex(buf, FH_LEN, hex);
	CU_ASSERT_EQUAL(strlen(hex), FH_HEXLEN);
	snprintf(want, sizeof(want), "64667331%016" PRIx64 "%016" PRIx64,
	    (uint64_t)INSTANCE, (uint64_t)42);
	CU_ASSERT_EQUAL(strncmp(hex, want, strlen(want)), 0);
	CU_ASSERT_EQUAL(strspn(hex, "0123456789abcdef"), FH_HEXLEN);
}

static CU_TestInfo fh_tests[] = {
	{ "roundtrip",		test_fh__roundtrip },
	{ "wrong_length",	test_fh__wrong_length },
	{ "bad_magic",		test_fh__bad_magic },
	{ "flipped_bit",	test_fh__flipped_bit },
	{ "other_instance",	test_fh__other_instance },
	{ "other_secret",	test_fh__other_secret },
	{ "forged_fileid",	test_fh__forged_fileid },
	{ "parse_shape_only",	test_fh__parse_shape_only },
	{ "hex",		test_fh__hex },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fh", NULL, NULL, NULL, NULL, fh_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
