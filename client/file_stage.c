/*
 * file_stage.c -- the requests that carry a writer's bytes to a stage on
 * its file server and commit them: STAGE, WRITE, COMMIT, ABORT.
 *
 * Both writers use them: a spooled file at close (file_write.c), a
 * direct writer as its chunks fill (file_direct.c).  A COMMIT names the
 * version the open saw (CHANGED if anyone committed since: never a lost
 * update) and the lock it works under.  The request that makes the
 * stage of a file this open created may find its file server gone; the
 * new, still empty file then moves to another server (place.c) once.
 */
#include <string.h>
#include <stdlib.h>

#include "file_core.h"

/* Appends STAGE for f (server copy of the first `base` bytes). */
void
file_add_stage(struct dfs_file *f, struct file_req *r)
{
	stage_args	*sa = &file_req_add(r, FOP_STAGE)->file_argop_u.stage;

	sa->fh = f->fh;
	sa->vers = f->vers;
	sa->keep = f->base;
	sa->lock = f->lk.id;
}

void
file_add_write(struct dfs_file *f, struct file_req *r, uint64_t stage,
    char *data, size_t len, uint64_t off)
{
	write_args	*wa = &file_req_add(r, FOP_WRITE)->file_argop_u.write;

	wa->fh = f->fh;
	wa->stage = stage;
	wa->offset = off;
	wa->data.data_val = data;
	wa->data.data_len = (u_int)len;
}

void
file_add_commit(struct dfs_file *f, struct file_req *r, uint64_t stage)
{
	commit_file_args *ca;

	ca = &file_req_add(r, FOP_COMMIT)->file_argop_u.commit;

	ca->fh = f->fh;
	ca->stage = stage;
	ca->lock = f->lk.id;
	/* CHANGED if anyone committed since our open: never a lost update */
	ca->base = f->vers;
}

/* Sends one request; on success keeps the stage id or the committed
 * version.  Returns 0 or a status. */
static int
send_upload(struct dfs_file *f, struct file_req *r, uint64_t *stage)
{
	file_compound_res	res;
	file_resop		*last;
	int			rc;

	rc = conn_file(f->dfs, &f->srv, r, &res, 0);
	if (rc == 0) {
		last = &res.res.res_val[res.res.res_len - 1];
		if (r->ops[0].op == FOP_STAGE)
			*stage = res.res.res_val[0].file_resop_u.stage.
			    stage_res_u.stage;
		if (last->op == FOP_COMMIT) {
			f->vers = last->file_resop_u.commit.fcommit_res_u.
			    attr.vers;
			f->size = last->file_resop_u.commit.fcommit_res_u.
			    attr.size;
		}
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return rc;
}

/* Points the ops of r at handle fh. */
static void
retarget(struct file_req *r, const dfs_fh *fh)
{
	u_int	i;

	for (i = 0; i < r->n; i++)
		switch (r->ops[i].op) {
		case FOP_STAGE:
			r->ops[i].file_argop_u.stage.fh = *fh;
			break;
		case FOP_WRITE:
			r->ops[i].file_argop_u.write.fh = *fh;
			break;
		case FOP_COMMIT:
			r->ops[i].file_argop_u.commit.fh = *fh;
			break;
		default:
			break;
		}
}

/* Moves the file this open created to another file server (place.c).
 * Returns 0 or a status (then the detail is the caller's). */
static int
place_elsewhere(struct dfs_file *f)
{
	name_compound_res	res;
	char			detail[sizeof(f->dfs->detail)];
	int			rc;

	memcpy(detail, f->dfs->detail, sizeof(detail));
	rc = place_again(f->dfs, &f->lk.id, f->path, f->srv.id, &res);
	if (rc == 0) {
		free(f->fh.dfs_fh_val);
		free(f->srv.host);
		memset(&f->fh, 0, sizeof(f->fh));
		memset(&f->srv, 0, sizeof(f->srv));
		rc = file_open_take(f, &res);
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	if (rc != 0)
		memcpy(f->dfs->detail, detail, sizeof(detail));
	return rc;
}

/*
 * send_upload(), and for the request that makes the stage (STAGE first)
 * of a file this open created: when its file server cannot be reached,
 * the file moves to another (place.c) and the request goes there, once.
 * Returns 0 or a status.
 */
int
file_stage_call(struct dfs_file *f, struct file_req *r, uint64_t *stage)
{
	int	rc = send_upload(f, r, stage);

	if (rc == 0 || !place_transport(rc) || r->ops[0].op != FOP_STAGE ||
	    !f->created || f->vers != 0 || f->moved)
		return rc;
	f->moved = 1;
	if (place_elsewhere(f) != 0)
		return rc;
	retarget(r, &f->fh);
	return send_upload(f, r, stage);
}

/* After a failed or abandoned upload: a file this open created and
 * nothing committed to leaves no name (place.c). */
void
file_unplace(struct dfs_file *f)
{
	if (f->created && f->vers == 0 && f->fh.dfs_fh_val != NULL)
		place_undo(f->dfs, &f->lk.id, f->path, &f->fh);
}

/*
 * Drops the stage after the failure `why` (0: the writer gave up).  Best
 * effort: the file server drops a stage whose connection is gone too,
 * so after a transport failure (the server stopped answering, or the
 * connection broke: it was dropped) nothing is sent, which would only
 * wait for the same server again.  The failure that got us here stays
 * the detail the caller sees.
 */
void
file_abort_stage(struct dfs_file *f, uint64_t stage, int why)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	stageref		*sr;
	char			 detail[sizeof(f->dfs->detail)];

	if (stage == 0 || why == -DFS_ERR_TIMEDOUT || why == -DFS_ERR_RPC)
		return;
	memcpy(detail, f->dfs->detail, sizeof(detail));
	sr = &file_req_add(&r, FOP_ABORT)->file_argop_u.abort;
	sr->fh = f->fh;
	sr->stage = stage;
	(void)conn_file(f->dfs, &f->srv, &r, &res, 0);
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	memcpy(f->dfs->detail, detail, sizeof(detail));
}
