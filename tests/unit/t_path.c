/*
 * t_path.c -- lib/path.c: names and paths as counted bytes off the wire.
 *
 * Inputs carry an explicit length, so embedded NULs and unterminated
 * buffers are part of the table.  Long inputs are built at run time from
 * a length and a shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "path.h"

enum check { NAME, ABS, REL };

/* How to build a long input of `len` bytes. */
enum shape {
	LIT,		/* use `in` with length `len` */
	REPEAT,		/* `len` bytes of 'a' */
	SLASHED,	/* "/" + 200-byte components joined by '/' */
	RELATIVE	/* as SLASHED without the leading '/' */
};

struct path_case {
	enum check	 check;
	enum shape	 shape;
	const char	*in;
	size_t		 len;
	int		 rc;
};

#define L(s)	LIT, s, sizeof(s) - 1

static const struct path_case cases[] = {
	{ NAME, L(""),			-DFS_ERR_INVAL },
	{ NAME, L("."),			-DFS_ERR_INVAL },
	{ NAME, L(".."),		-DFS_ERR_INVAL },
	{ NAME, L("..."),		0 },
	{ NAME, L(".hidden"),		0 },
	{ NAME, L("a"),			0 },
	{ NAME, L("a/b"),		-DFS_ERR_INVAL },
	{ NAME, L("/"),			-DFS_ERR_INVAL },
	{ NAME, L("a\0b"),		-DFS_ERR_INVAL },
	{ NAME, L("ab\0"),		-DFS_ERR_INVAL },
	{ NAME, L("with space"),	0 },
	{ NAME, L("\xc3\xa9t\xc3\xa9"),	0 },
	{ NAME, REPEAT, NULL, 255,	0 },
	{ NAME, REPEAT, NULL, 256,	-DFS_ERR_NAMETOOLONG },

	{ ABS, L(""),			-DFS_ERR_INVAL },
	{ ABS, L("/"),			0 },
	{ ABS, L("//"),			-DFS_ERR_INVAL },
	{ ABS, L("/a"),			0 },
	{ ABS, L("/a/b/c"),		0 },
	{ ABS, L("/a//b"),		-DFS_ERR_INVAL },
	{ ABS, L("/a/"),		-DFS_ERR_INVAL },
	{ ABS, L("a"),			-DFS_ERR_INVAL },
	{ ABS, L("a/b"),		-DFS_ERR_INVAL },
	{ ABS, L("/a/../b"),		-DFS_ERR_INVAL },
	{ ABS, L("/a/./b"),		-DFS_ERR_INVAL },
	{ ABS, L("/.."),		-DFS_ERR_INVAL },
	{ ABS, L("/a\0b"),		-DFS_ERR_INVAL },
	{ ABS, L("/\0"),		-DFS_ERR_INVAL },
	{ ABS, SLASHED, NULL, 4096,	0 },
	{ ABS, SLASHED, NULL, 4097,	-DFS_ERR_NAMETOOLONG },
	{ ABS, SLASHED, NULL, 9000,	-DFS_ERR_NAMETOOLONG },

	{ REL, L(""),			-DFS_ERR_INVAL },
	{ REL, L("a"),			0 },
	{ REL, L("a/b/c"),		0 },
	{ REL, L("/a"),			-DFS_ERR_INVAL },
	{ REL, L("/"),			-DFS_ERR_INVAL },
	{ REL, L("a/"),			-DFS_ERR_INVAL },
	{ REL, L("a//b"),		-DFS_ERR_INVAL },
	{ REL, L("a/../b"),		-DFS_ERR_INVAL },
	{ REL, L("."),			-DFS_ERR_INVAL },
	{ REL, L("a\0"),		-DFS_ERR_INVAL },
	{ REL, RELATIVE, NULL, 4096,	0 },
	{ REL, RELATIVE, NULL, 4097,	-DFS_ERR_NAMETOOLONG },
};

/* Writes components of 200 'c's joined by '/' into buf, `len` bytes in
 * all, with a leading '/' when `lead`.  No component is empty: a
 * separator never falls on the last byte. */
static void
build_slashed(char *buf, size_t len, int lead)
{
	size_t	i, run = 0;

	for (i = 0; i < len; i++) {
		if ((i == 0 && lead) || (run == 200 && i + 1 < len)) {
			buf[i] = '/';
			run = 0;
		} else {
			buf[i] = 'c';
			run++;
		}
	}
}

/* Returns a malloc(3)ed copy of the case's input, NOT NUL-terminated,
 * so a read past `len` shows up under valgrind. */
static char *
case_input(const struct path_case *c)
{
	char	*buf;

	buf = malloc(c->len > 0 ? c->len : 1);
	if (buf == NULL)
		return NULL;
	switch (c->shape) {
	case LIT:
		memcpy(buf, c->in, c->len);
		break;
	case REPEAT:
		memset(buf, 'a', c->len);
		break;
	case SLASHED:
	case RELATIVE:
		build_slashed(buf, c->len, c->shape == SLASHED);
		break;
	}
	return buf;
}

static int
run_check(enum check check, const char *in, size_t len)
{
	switch (check) {
	case NAME:
		return path_check_name(in, len);
	case ABS:
		return path_check_abs(in, len);
	case REL:
		return path_check_rel(in, len);
	}
	return 1;
}

/* Runs every case of the table for one check. */
static void
run_checks(enum check check)
{
	static const char	*names[] = { "name", "abs", "rel" };
	const struct path_case	*c;
	char			*in;
	size_t			 i, n = 0;
	int			 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		if (c->check != check)
			continue;
		in = case_input(c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(in);
		rc = run_check(c->check, in, c->len);
		if (rc != c->rc)
			fprintf(stderr, "\ncase %zu: %s of %zu bytes: got %d, "
			    "want %d\n", i, names[c->check], c->len, rc,
			    c->rc);
		CU_ASSERT_EQUAL(rc, c->rc);
		free(in);
		n++;
	}
	CU_ASSERT(n > 0);
}

static void
test_path__check_name(void)
{
	run_checks(NAME);
}

static void
test_path__check_abs(void)
{
	run_checks(ABS);
}

static void
test_path__check_rel(void)
{
	run_checks(REL);
}

/* Only `len` bytes count: what follows in the buffer is not looked at. */
static void
test_path__length_bounds_input(void)
{
	CU_ASSERT_EQUAL(path_check_name("ab/c", 2), 0);
	CU_ASSERT_EQUAL(path_check_name("..x", 2), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(path_check_name(".x", 1), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(path_check_abs("/a/b//", 4), 0);
	CU_ASSERT_EQUAL(path_check_abs("/a/b", 3), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(path_check_rel("a/b\0junk", 3), 0);
	CU_ASSERT_EQUAL(path_check_rel("xyz", 0), -DFS_ERR_INVAL);
}

struct next_case {
	const char	*in;
	size_t		 len;
	const char	*want[4];	/* components, NULL-terminated */
};

#define N(s)	s, sizeof(s) - 1

static const struct next_case next_cases[] = {
	{ N("/"),		{ NULL } },
	{ N(""),		{ NULL } },
	{ N("/a"),		{ "a", NULL } },
	{ N("a"),		{ "a", NULL } },
	{ N("/a/bb/ccc"),	{ "a", "bb", "ccc", NULL } },
	{ N("x/yy/z"),		{ "x", "yy", "z", NULL } },
	{ "a/b/cXYZ", 5,	{ "a", "b", "c", NULL } },
	{ "/one/two", 4,	{ "one", NULL } },
};

static void
test_path__next(void)
{
	const struct next_case	*c;
	const char		*comp;
	size_t			 i, k, pos, clen;

	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		c = &next_cases[i];
		pos = 0;
		for (k = 0; c->want[k] != NULL; k++) {
			comp = NULL;
			clen = 0;
			CU_ASSERT_EQUAL_FATAL(path_next(c->in, c->len, &pos,
			    &comp, &clen), 1);
			CU_ASSERT_EQUAL(clen, strlen(c->want[k]));
			CU_ASSERT(comp >= c->in && comp + clen <= c->in +
			    c->len);
			CU_ASSERT_EQUAL(memcmp(comp, c->want[k], clen), 0);
		}
		CU_ASSERT_EQUAL(path_next(c->in, c->len, &pos, &comp, &clen),
		    0);
		/* exhausted stays exhausted */
		CU_ASSERT_EQUAL(path_next(c->in, c->len, &pos, &comp, &clen),
		    0);
	}
}

/* Walking a long checked path gives back exactly its bytes. */
static void
test_path__next_long(void)
{
	char		 buf[4096], rebuilt[4096];
	const char	*comp;
	size_t		 pos = 0, clen, out = 0, n = 0;

	build_slashed(buf, sizeof(buf), 1);
	CU_ASSERT_EQUAL_FATAL(path_check_abs(buf, sizeof(buf)), 0);
	while (path_next(buf, sizeof(buf), &pos, &comp, &clen) == 1) {
		CU_ASSERT_FATAL(clen <= DFS_MAXNAMELEN &&
		    out + 1 + clen <= sizeof(rebuilt));
		rebuilt[out++] = '/';
		memcpy(rebuilt + out, comp, clen);
		out += clen;
		n++;
	}
	CU_ASSERT_EQUAL(out, sizeof(buf));
	CU_ASSERT_EQUAL(memcmp(rebuilt, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(n, 21);
}

static CU_TestInfo path_tests[] = {
	{ "check_name",			test_path__check_name },
	{ "check_abs",			test_path__check_abs },
	{ "check_rel",			test_path__check_rel },
	{ "length_bounds_input",	test_path__length_bounds_input },
	{ "next",			test_path__next },
	{ "next_long",			test_path__next_long },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "path", NULL, NULL, NULL, NULL, path_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
