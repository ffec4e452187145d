/*
 * reader.c -- how a reader gets a version's bytes: the choice between
 * the three strategies (client.h, struct reader_ops), and the simplest
 * of them, reader_single.
 *
 * The choice is by size because what pays differs: a version of one
 * chunk is one round trip whatever we do; a larger one gains from the
 * next READ being on its way while the caller writes the current chunk
 * out (readahead.c); only past stream_span do several connections, each
 * served by a process of its own on the file server, gain more than
 * their threads cost on a machine of few cores (parallel.c).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

const struct reader_ops *
reader_choose(const struct dfs *dfs, uint64_t size)
{
	if (parallel_read_streams(dfs, size) > 0)
		return &reader_parallel;
	if (size > DFS_CHUNK)
		return &reader_ahead;
	return &reader_single;
}

int
reader_get(struct reader *rd, const struct reader_src *src, uint64_t off,
    const char **p, size_t *len)
{
	const struct reader_ops	*ops;
	int			 rc;

	*p = "";		/* memcpy(3) wants a pointer even for 0 bytes */
	*len = 0;
	if (rd->ops == NULL) {
		ops = reader_choose(src->dfs, src->size);
		if ((rc = ops->start(src, &rd->state)) != 0)
			return rc;
		rd->ops = ops;
	}
	return rd->ops->get(rd->state, src->dfs, off, p, len);
}

void
reader_end(struct reader *rd)
{
	if (rd->ops != NULL)
		rd->ops->end(rd->state);
	rd->ops = NULL;
	rd->state = NULL;
}

/* --- reader_single: one READ at a time on dfs's connection ------------- */

struct single {
	struct reader_src src;		/* its pointers are the file's */
	char		*buf;		/* the chunk read last ... */
	uint64_t	 start;		/* ... from this offset */
	size_t		 len;
};

static int
single_start(const struct reader_src *src, void **state)
{
	struct single	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -DFS_ERR_NOMEM;
	if ((s->buf = malloc(DFS_CHUNK)) == NULL) {
		free(s);
		return -DFS_ERR_NOMEM;
	}
	s->src = *src;
	*state = s;
	return 0;
}

/* READ of up to n bytes at off of the version into buf.  Returns the
 * count (0 at the end) or a negative status. */
static ssize_t
single_fetch(struct single *s, struct dfs *dfs, char *buf, size_t n,
    uint64_t off)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	read_args		*ra;
	read_ok			*ok;
	ssize_t			 got;

	if (off >= s->src.size || s->src.vers == 0)
		return 0;
	ra = &file_req_add(&r, FOP_READ)->file_argop_u.read;
	ra->fh = *s->src.fh;
	ra->vers = s->src.vers;
	ra->offset = off;
	ra->count = (u_int)(n < DFS_CHUNK ? n : DFS_CHUNK);
	got = conn_file(dfs, s->src.srv, &r, &res, 1);
	if (got == 0) {
		ok = &res.res.res_val[0].file_resop_u.read.read_res_u.ok;
		got = ok->data.data_len <= n ? (ssize_t)ok->data.data_len :
		    -DFS_ERR_PROTO;
		if (got > 0)
			memcpy(buf, ok->data.data_val, (size_t)got);
	} else if (got == -DFS_ERR_STALE)
		conn_detail(dfs, "the file was replaced while being read");
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return got;
}

static int
single_get(void *state, struct dfs *dfs, uint64_t off, const char **p,
    size_t *len)
{
	struct single	*s = state;
	ssize_t		 got;

	if (off < s->start || off >= s->start + s->len) {
		got = single_fetch(s, dfs, s->buf, DFS_CHUNK, off);
		if (got <= 0)
			return (int)got;
		s->start = off;
		s->len = (size_t)got;
	}
	*p = s->buf + (off - s->start);
	*len = (size_t)(s->start + s->len - off);
	return 0;
}

static void
single_end(void *state)
{
	struct single	*s = state;

	if (s == NULL)
		return;
	free(s->buf);
	free(s);
}

const struct reader_ops reader_single = {
	"single", single_start, single_get, single_end
};
