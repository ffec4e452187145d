/*
 * t_registrar.c -- lib/registrar.c: which addresses a server may
 * advertise, on its side (refusing to start) and on the name server's
 * (refusing a REGISTER), as pure functions of the addresses involved.
 *
 * The name server of a test always sees 127.0.0.1 as the peer, so the
 * refusal of a loopback address from another host is tested here with
 * given addresses (and end to end in tests/cli/t-netns.sh).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "registrar.h"

static const struct {
	const char	*host;
	int		 loopback;
} loop_cases[] = {
	{ "127.0.0.1",		1 },
	{ "127.1.2.3",		1 },
	{ "localhost",		1 },
	{ "::1",		1 },
	{ "::ffff:127.0.0.1",	1 },
	{ "128.0.0.1",		0 },
	{ "10.0.0.1",		0 },
	{ "0.0.0.0",		0 },
	{ "::",			0 },
	{ "::ffff:10.0.0.1",	0 },
	{ "fe80::1",		0 },
	{ "example.org",	0 },
	{ "",			0 },
};

static void
test_registrar__is_loopback(void)
{
	size_t	i;

	for (i = 0; i < sizeof(loop_cases) / sizeof(loop_cases[0]); i++) {
		CU_ASSERT_EQUAL(registrar_is_loopback(loop_cases[i].host),
		    loop_cases[i].loopback);
		if (registrar_is_loopback(loop_cases[i].host) !=
		    loop_cases[i].loopback)
			fprintf(stderr, "'%s'\n", loop_cases[i].host);
	}
}

/* A REGISTER advertising `host` from `from`: accepted or not. */
static const struct {
	const char	*host;
	const char	*from;
	int		 ok;
} advert_cases[] = {
	{ "127.0.0.1",	"127.0.0.1",		1 },
	{ "127.0.0.1",	"::1",			1 },
	{ "127.0.0.1",	"::ffff:127.0.0.1",	1 },
	{ "localhost",	"127.0.0.1",		1 },
	{ "127.0.0.1",	"10.0.0.2",		0 },
	{ "::1",	"10.0.0.2",		0 },
	{ "localhost",	"192.0.2.7",		0 },
	{ "127.0.0.1",	"::ffff:10.0.0.2",	0 },
	{ "10.0.0.2",	"10.0.0.2",		1 },
	/* another address than the peer's: NAT, several interfaces */
	{ "10.0.0.3",	"10.0.0.2",		1 },
	{ "10.0.0.3",	"127.0.0.1",		1 },
	{ "fs1.example", "10.0.0.2",		1 },
	/* a direct call: nothing to compare */
	{ "127.0.0.1",	"",			1 },
};

static void
test_registrar__advert_ok(void)
{
	size_t	i;

	for (i = 0; i < sizeof(advert_cases) / sizeof(advert_cases[0]); i++)
		CU_ASSERT_EQUAL(registrar_advert_ok(advert_cases[i].host,
		    advert_cases[i].from), advert_cases[i].ok);
}

/* registrar_init: a loopback listener and a name server on another
 * host is -DFS_ERR_INVAL; every other pairing starts.  Numeric hosts
 * only, so no DNS is asked. */
static void
test_registrar__init(void)
{
	static const struct {
		const char	*named;
		const char	*bind;
		int		 rc;
	} cases[] = {
		{ "192.0.2.1",	"127.0.0.1",	-DFS_ERR_INVAL },
		{ "192.0.2.1",	"::1",		-DFS_ERR_INVAL },
		{ "192.0.2.1",	"0.0.0.0",	0 },
		{ "192.0.2.1",	"192.0.2.9",	0 },
		{ "127.0.0.1",	"127.0.0.1",	0 },
		{ "::1",	"127.0.0.1",	0 },
		{ "127.0.0.1",	"0.0.0.0",	0 },
	};
	struct registrar	r;
	struct peer		named;
	char			dir[] = "/tmp/t_registrar.XXXXXX";
	char			idfile[sizeof(dir) + 16];
	size_t			i;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		peer_init_addr(&named, cases[i].named, 2049, DFS_NAME_PROG,
		    DFS_NAME_VERS, 1000);
		CU_ASSERT_EQUAL(registrar_init(&r, &named, DFS_SRV_FILE, dir,
		    cases[i].bind, 4000, NULL, 0), cases[i].rc);
		CU_ASSERT_EQUAL(r.wildcard, strcmp(cases[i].bind,
		    "0.0.0.0") == 0);
	}
	snprintf(idfile, sizeof(idfile), "%s/server.id", dir);
	unlink(idfile);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static CU_TestInfo registrar_tests[] = {
	{ "is_loopback", test_registrar__is_loopback },
	{ "advert_ok", test_registrar__advert_ok },
	{ "init", test_registrar__init },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "registrar", NULL, NULL, NULL, NULL, registrar_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
