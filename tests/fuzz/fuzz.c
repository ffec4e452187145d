/*
 * fuzz.c -- state directories, XDR round trips, seeds and a repeatable
 * getrandom(2) for the libFuzzer targets (fuzz.h says why).
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char	base[FUZZ_PATHLEN];
static uint64_t	rnd;			/* the stream's state */

#define RND_START	0x6466737a7a657221ULL

/*
 * getrandom(2), repeatable: splitmix64 from a fixed start.  It replaces
 * libc's for the daemon code linked in (ASan's interceptor is weak).
 * Always fills the whole buffer; returns its length.
 */
ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned char	*p = buf;
	uint64_t	 z;
	size_t		 i;

	(void)flags;
	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			z = (rnd += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
		}
		p[i] = (unsigned char)(z >> (8 * (i % 8)));
	}
	return (ssize_t)len;
}

void
fuzz_reset_random(void)
{
	rnd = RND_START;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a tree; a missing one is fine.  Returns 0 or -1. */
static int
rmtree(const char *dir)
{
	if (access(dir, F_OK) == -1 && errno == ENOENT)
		return 0;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
rm_base(void)
{
	if (base[0] != '\0')
		(void)rmtree(base);
}

void
fuzz_mkbase(const char *prog, char *dir)
{
	const char	*tmp = getenv("DFS_FUZZ_TMP");

	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(base, sizeof(base), "%s/dfs-fuzz-%s.XXXXXX", tmp, prog);
	if (mkdtemp(base) == NULL) {
		fprintf(stderr, "fuzz: cannot make '%s': %s\n", base,
		    strerror(errno));
		abort();
	}
	atexit(rm_base);
	memcpy(dir, base, sizeof(base));
}

void
fuzz_fresh_dir(const char *dir)
{
	if (rmtree(dir) == -1 || mkdir(dir, 0700) == -1) {
		fprintf(stderr, "fuzz: cannot renew '%s': %s\n", dir,
		    strerror(errno));
		abort();
	}
}

int
fuzz_decode(xdrproc_t proc, void *obj, const uint8_t *data, size_t size)
{
	XDR	xdrs;
	bool_t	ok;

	xdrmem_create(&xdrs, (char *)(uintptr_t)data, (u_int)size,
	    XDR_DECODE);
	ok = proc(&xdrs, obj, 0);
	xdr_destroy(&xdrs);
	if (!ok)
		xdr_free(proc, obj);
	return ok ? 1 : 0;
}

void
fuzz_decode_only(xdrproc_t proc, size_t objsize, const uint8_t *data,
    size_t size)
{
	void	*obj = calloc(1, objsize);

	if (obj == NULL)
		abort();
	if (fuzz_decode(proc, obj, data, size))
		xdr_free(proc, obj);
	free(obj);
}

void
fuzz_must_encode(xdrproc_t proc, void *obj, const char *what)
{
	if (xdr_sizeof(proc, obj) == 0) {
		fprintf(stderr, "fuzz: the %s does not encode\n", what);
		abort();
	}
}

const char *
fuzz_seed_dir(void)
{
	const char	*dir = getenv("DFS_FUZZ_SEEDS");

	return dir != NULL && *dir != '\0' ? dir : NULL;
}

void
fuzz_write_seed(const char *dir, const char *name, xdrproc_t proc,
    void *obj)
{
	char		 path[4096];
	char		*buf;
	unsigned long	 len = xdr_sizeof(proc, obj);
	XDR		 xdrs;
	FILE		*fp;

	if (len == 0 || (buf = malloc(len)) == NULL)
		abort();
	xdrmem_create(&xdrs, buf, (u_int)len, XDR_ENCODE);
	if (!proc(&xdrs, obj, 0))
		abort();
	xdr_destroy(&xdrs);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		fprintf(stderr, "fuzz: cannot write '%s': %s\n", path,
		    strerror(errno));
		abort();
	}
	free(buf);
}
