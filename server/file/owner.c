/*
 * owner.c -- which connection owns each stage, so that a stage does not
 * outlive the upload that made it.
 *
 * A stage belongs to the connection its STAGE came on (the writer's:
 * libdfs sends STAGE and COMMIT on the file's own connection, only the
 * WRITEs in between on others).  When that connection is gone, however
 * it went (the client closed it or died, the idle or request timeout,
 * the worker serving it was killed), the supervisor sweeps the stages
 * it still owns (owner_sweep); COMMIT, ABORT and a failed WRITE forget
 * theirs.  Connections are named by a serial the supervisor gives each
 * one, never reused, which the worker serving it puts in fc->conn.
 *
 * The table is a MAP_SHARED array made before any fork, so any worker
 * may claim or forget a record and the supervisor may sweep.  A record
 * is free (tag 0), being filled (tag 1, by the one process that claimed
 * it) or published under a tag >= 2 that no other claim ever gets; its
 * fields change only while it is not published, so a reader copies them
 * and trusts the copy if the tag is unchanged afterwards, and frees the
 * record by a compare-and-swap of that tag (whoever wins unlinks, or
 * not).  A claim is made before the stage file is created, so a worker
 * killed between the two leaves a record whose sweep finds no file, not
 * a file nobody sweeps.  The table is bounded (OWNER_MAX records, at
 * most OWNER_PER_CONN per connection): past that, STAGE answers
 * RESOURCE.  A server restart loses the table with every connection,
 * and the start-up GC removes every stage.
 */
#include <sys/mman.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "filed.h"

#define TAG_FREE	0
#define TAG_FILLING	1

struct owner_rec {
	uint64_t	tag;
	uint64_t	conn;
	uint64_t	id;
	char		hex[FH_HEXLEN + 1];
};

struct owner_table {
	uint64_t		next_tag;
	struct owner_rec	rec[OWNER_MAX];
};

int
owner_init(struct filed_ctx *fc)
{
	struct owner_table	*t;

	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -DFS_ERR_NOMEM;
	t->next_tag = TAG_FILLING + 1;
	fc->owners = t;
	return 0;
}

void
owner_release(struct filed_ctx *fc)
{
	if (fc->owners != NULL)
		munmap(fc->owners, sizeof(*fc->owners));
	fc->owners = NULL;
}

/* Copies record r's fields into *out if it is published and stays so
 * meanwhile.  Returns its tag, or 0. */
static uint64_t
peek(struct owner_rec *r, struct owner_rec *out)
{
	uint64_t	tag;

	tag = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);
	if (tag <= TAG_FILLING)
		return 0;
	memcpy(out, r, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&r->tag, __ATOMIC_RELAXED) == tag ? tag : 0;
}

/* Frees record r if it still has `tag`.  Returns 1 if this call freed
 * it, 0 if someone else did first. */
static int
unpublish(struct owner_rec *r, uint64_t tag)
{
	return __atomic_compare_exchange_n(&r->tag, &tag, TAG_FREE, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* How many records `conn` holds. */
static unsigned int
held_by(struct owner_table *t, uint64_t conn)
{
	struct owner_rec	c;
	unsigned int		i, n = 0;

	for (i = 0; i < OWNER_MAX; i++)
		if (peek(&t->rec[i], &c) != 0 && c.conn == conn)
			n++;
	return n;
}

int
owner_claim(struct filed_ctx *fc, const char *hex, uint64_t id)
{
	struct owner_table	*t = fc->owners;
	struct owner_rec	*r;
	uint64_t		 expect;
	unsigned int		 i;

	if (t == NULL || fc->conn == 0)
		return 0;
	if (held_by(t, fc->conn) >= OWNER_PER_CONN)
		return -DFS_ERR_RESOURCE;
	for (i = 0; i < OWNER_MAX; i++) {
		r = &t->rec[i];
		expect = TAG_FREE;
		if (!__atomic_compare_exchange_n(&r->tag, &expect,
		    TAG_FILLING, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		r->conn = fc->conn;
		r->id = id;
		memcpy(r->hex, hex, sizeof(r->hex));
		__atomic_store_n(&r->tag, __atomic_fetch_add(&t->next_tag, 1,
		    __ATOMIC_RELAXED), __ATOMIC_RELEASE);
		return 0;
	}
	return -DFS_ERR_RESOURCE;
}

void
owner_forget(struct filed_ctx *fc, const char *hex, uint64_t id)
{
	struct owner_table	*t = fc->owners;
	struct owner_rec	 c;
	uint64_t		 tag;
	unsigned int		 i;

	if (t == NULL)
		return;
	for (i = 0; i < OWNER_MAX; i++)
		if ((tag = peek(&t->rec[i], &c)) != 0 && c.id == id &&
		    memcmp(c.hex, hex, FH_HEXLEN) == 0 &&
		    unpublish(&t->rec[i], tag))
			return;
}

int
owner_sweep(struct filed_ctx *fc, uint64_t conn)
{
	struct owner_table	*t = fc->owners;
	struct owner_rec	 c;
	char			 path[STORE_PATHLEN];
	uint64_t		 tag;
	unsigned int		 i;
	int			 n = 0;

	if (t == NULL || conn == 0)
		return 0;
	for (i = 0; i < OWNER_MAX; i++) {
		if ((tag = peek(&t->rec[i], &c)) == 0 || c.conn != conn ||
		    !unpublish(&t->rec[i], tag))
			continue;
		c.hex[FH_HEXLEN] = '\0';
		if (store_stage_path(fc, c.hex, c.id, path, sizeof(path)) == 0 &&
		    unlink(path) == 0)
			n++;
	}
	return n;
}
