/*
 * fh.h -- the file handle: what the name server hands out for an object.
 *
 * A handle is 28 bytes: "dfs1", the name server's 64-bit instance id, the
 * object's 64-bit file id (never reused), and a 64-bit tag, XXH64 of the
 * two ids seeded with the instance's secret.  The tag makes handles
 * unforgeable by accident or by guessing file ids; the instance makes a
 * handle from another name server STALE rather than a wrong object.
 * File servers only check the shape (fh_parse) and store by fh_hex().
 */
#ifndef DFS_FH_H
#define DFS_FH_H

#include <stddef.h>
#include <stdint.h>

#define FH_LEN		28
#define FH_HEXLEN	(2 * FH_LEN)

struct fh {
	uint64_t	instance;
	uint64_t	fileid;
};

/* Writes FH_LEN bytes to `out`. */
void	fh_encode(const struct fh *fh, uint64_t secret, unsigned char *out);
/*
 * Parses and authenticates a handle made by the name server `instance`.
 * Returns 0; -DFS_ERR_BADHANDLE when the length, magic or tag is wrong;
 * -DFS_ERR_STALE when another instance made it.  The caller still checks
 * that the file id exists (else STALE).
 */
int	fh_decode(const void *buf, size_t len, uint64_t instance,
	    uint64_t secret, struct fh *fh);
/* Checks length and magic only (file servers hold no secret).  Returns
 * 0 or -DFS_ERR_BADHANDLE. */
int	fh_parse(const void *buf, size_t len, struct fh *fh);
/* Writes 2*len lowercase hex digits and a NUL to `out`. */
void	fh_hex(const void *buf, size_t len, char *out);

#endif
