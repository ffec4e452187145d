/*
 * dir.c -- directory listing, a READDIR page at a time.
 *
 * The directory's handle is looked up once; each page continues after
 * the cookie of the last entry seen, so a listing of any size holds one
 * page in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define DIR_PAGE	512

struct dfs_dir {
	struct dfs		*dfs;
	dfs_fh			 fh;
	name_compound_res	 page;		/* the current READDIR reply */
	readdir_ok		*ok;
	u_int			 next;		/* index into ok->entries */
	uint64_t		 cookie;	/* of the last entry returned */
	int			 have_page;
};

int
dfs_opendir(struct dfs *dfs, const char *path, struct dfs_dir **dp)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	struct dfs_dir		*d;
	int			 rc;

	dfs->detail[0] = '\0';
	if ((rc = name_check(path)) != 0)
		return rc;
	name_walk(&r, path);
	name_req_add(&r, OP_GETFH);
	/* a zero-count READDIR fails NOTDIR on a file, in the same trip */
	name_req_add(&r, OP_READDIR)->name_argop_u.readdir.count = 1;
	rc = conn_name(dfs, &r, &res, 1);
	if (rc == 0) {
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			rc = -DFS_ERR_NOMEM;
		else {
			d->dfs = dfs;
			fh_copy(&d->fh, &res.res.res_val[r.n - 2].name_resop_u.
			    getfh.getfh_res_u.fh);
			*dp = d;
		}
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

/* Fetches the page after d->cookie.  Returns 0 or a status. */
static int
next_page(struct dfs_dir *d)
{
	struct name_req	 r = { .n = 0 };
	readdir_args	*ra;
	int		 rc;

	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&d->page);
	name_req_putfh(&r, &d->fh);
	ra = &name_req_add(&r, OP_READDIR)->name_argop_u.readdir;
	ra->cookie = d->cookie;
	ra->count = DIR_PAGE;
	rc = conn_name(d->dfs, &r, &d->page, 1);
	if (rc != 0)
		return rc;
	d->ok = &d->page.res.res_val[1].name_resop_u.readdir.readdir_res_u.ok;
	d->next = 0;
	d->have_page = 1;
	return 0;
}

int
dfs_readdir(struct dfs_dir *d, struct dfs_entry *ent)
{
	dfs_dirent	*e;
	int		 rc;

	while (!d->have_page || d->next >= d->ok->entries.entries_len) {
		if (d->have_page && d->ok->eof)
			return 0;
		rc = next_page(d);
		if (rc != 0)
			return rc;
		if (d->ok->entries.entries_len == 0 && d->ok->eof)
			return 0;
	}
	e = &d->ok->entries.entries_val[d->next++];
	memset(ent, 0, sizeof(*ent));
	memcpy(ent->name, e->name.dfs_name_val, e->name.dfs_name_len);
	ent->type = e->type;
	ent->fileid = e->fileid;
	d->cookie = e->cookie;
	return 1;
}

void
dfs_closedir(struct dfs_dir *d)
{
	if (d == NULL)
		return;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&d->page);
	free(d->fh.dfs_fh_val);
	free(d);
}
