/*
 * tree.c -- the locked paths at or below one path: what the name server
 * asks (TESTTREE) before it renames or removes a directory, since moving
 * a directory changes the path of everything below it.
 *
 * Locks are on exact paths in one tsearch(3) tree ordered by path_cmp(),
 * which has no range search: a walk visits every locked path, so it
 * costs O(locked paths) and is asked only for directories.  The tree
 * must not change during a walk; a visitor that wants to revoke a lock
 * records it and acts after the walk returns.
 */
/* twalk_r(3) (glibc 2.30): the Makefile defines _GNU_SOURCE */
#include <search.h>
#include <string.h>

#include "lockd.h"

struct tree_walk {
	const char	*path;
	size_t		 len;
	void		(*fn)(struct pent *pe, void *arg);
	void		*arg;
};

/* Returns 1 if `pe` is `path` (len bytes, absolute) or below it. */
static int
tree_within(const struct pent *pe, const char *path, size_t len)
{
	if (len == 1 && path[0] == '/')
		return 1;
	if (pe->len < len || memcmp(pe->path, path, len) != 0)
		return 0;
	return pe->len == len || pe->path[len] == '/';
}

static void
tree_visit(const void *nodep, VISIT which, void *closure)
{
	struct tree_walk	*w = closure;
	struct pent		*pe = *(struct pent *const *)nodep;

	/* every node once: internal nodes on their in-order visit */
	if (which != postorder && which != leaf)
		return;
	if (tree_within(pe, w->path, w->len))
		w->fn(pe, w->arg);
}

void
table_walk_tree(struct lock_ctx *ctx, const char *path, size_t len,
    void (*fn)(struct pent *pe, void *arg), void *arg)
{
	struct tree_walk	w = { path, len, fn, arg };

	twalk_r(ctx->bypath, tree_visit, &w);
}
