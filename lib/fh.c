/*
 * fh.c -- encoding and checking file handles.
 */
#include <string.h>

#include <xxhash.h>

#include "bytes.h"
#include "dfs_types.h"
#include "fh.h"

static const unsigned char fh_magic[4] = { 'd', 'f', 's', '1' };

static uint64_t
fh_tag(const unsigned char *ids, uint64_t secret)
{
	return XXH64(ids, 16, secret);
}

void
fh_encode(const struct fh *fh, uint64_t secret, unsigned char *out)
{
	memcpy(out, fh_magic, 4);
	be64_put(out + 4, fh->instance);
	be64_put(out + 12, fh->fileid);
	be64_put(out + 20, fh_tag(out + 4, secret));
}

int
fh_parse(const void *buf, size_t len, struct fh *fh)
{
	const unsigned char	*p = buf;

	if (len != FH_LEN || memcmp(p, fh_magic, 4) != 0)
		return -DFS_ERR_BADHANDLE;
	fh->instance = be64_get(p + 4);
	fh->fileid = be64_get(p + 12);
	return 0;
}

int
fh_decode(const void *buf, size_t len, uint64_t instance, uint64_t secret,
    struct fh *fh)
{
	const unsigned char	*p = buf;
	int			 rc;

	rc = fh_parse(buf, len, fh);
	if (rc != 0)
		return rc;
	if (fh->instance != instance)
		return -DFS_ERR_STALE;
	if (be64_get(p + 20) != fh_tag(p + 4, secret))
		return -DFS_ERR_BADHANDLE;
	return 0;
}

void
fh_hex(const void *buf, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*p = buf;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}
