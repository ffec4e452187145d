/*
 * named.h -- dfs-named's private interfaces, grouped by file.
 *
 * The daemon owns one struct named_ctx (ctx.c sets it up on a lib/kv.h
 * store); every COMPOUND gets a struct op_ctx holding the current and
 * saved objects.  Object ids are file ids; 0 means "none".
 */
#ifndef DFS_NAMED_H
#define DFS_NAMED_H

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#include "compound.h"
#include "name.h"
#include "peer.h"

#define NAMED_ROOTID		1	/* the root directory's file id */
#define NAMED_HB_DEFAULT	2000	/* -H default, milliseconds */
#define NAMED_HB_MIN		50
#define NAMED_HB_MAX		600000
#define NAMED_LOCKD_TIMEOUT_MS	100	/* a TEST waited for (locks.c) */
#define NAMED_LOCKD_ASYNC_MS	1000	/* a TEST a COMPOUND is parked for */
#define NAMED_LOCKD_BREAK_MS	1000	/* no TEST after a timeout (locks.c) */
#define NAMED_OP_ROOM		(256u << 10)	/* log bytes one op appends, at
					   most: a REGISTER of 32 paths */
#define NAMED_PROV_AGE_DEFAULT	300	/* -U default, seconds: dfs-lockd's
					   longest lease */
#define NAMED_PROV_AGE_MAX	86400
#define NAMED_ICACHE		4096	/* inodes kept decoded (power of 2) */
#define NAMED_DCACHE		4096	/* entries kept decoded (power of 2) */

struct kv;

/* One registered server: durable in kv, liveness only in memory. */
struct srv {
	uint64_t		 id;
	dfs_srvkind		 kind;
	char			 host[DFS_MAXHOSTLEN + 1];
	unsigned int		 port;
	unsigned int		 nprefixes;
	char			*prefixes[DFS_MAXPREFIXES];	/* NUL-ended */
	unsigned int		 hold_ms;	/* lock server: REGISTER's */
	unsigned long long	 seen_ms;	/* last REGISTER, now_ms() */
	int			 was_live;	/* as last logged */
	unsigned long long	 suspect_ms;	/* last SUSPECT of it; 0 */
};

/* A reply held until the log sync that covers it (group.c). */
struct held {
	struct held		*next;		/* arrival order */
	void			*conn;		/* struct svcx_held *, a stub's */
	name_compound_res	 res;
};

/*
 * How held replies reach their clients: svcx in the daemon (group.c),
 * a stub in the tests.
 */
struct group_io {
	/* Makes h->conn rq's connection, holding a reply.  Returns 0, or
	 * -1: the reply goes at once, after a sync. */
	int	(*bind)(struct held *h, struct svc_req *rq);
	/* Sends h->res on h->conn, which then holds nothing. */
	void	(*send)(struct held *h);
	/* h->conn holds nothing any more; h->res is not sent. */
	void	(*unbind)(struct held *h);
};

struct group {
	const struct group_io	*io;		/* NULL: svcx */
	struct held		*head, *tail;
	size_t			 nheld;
};

/* A provisional file (prov.c): created, never committed. */
struct prov {
	uint64_t	id;
	int64_t		created_ns;	/* ns since the epoch */
	int64_t		recheck_ns;	/* was in use: look again then; 0 */
};

struct inode;
struct dcache_ent;
struct acall;

struct named_ctx {
	struct kv	*kv;
	uint64_t	 instance;	/* random, per state directory */
	uint64_t	 secret;	/* keys the handle tags */
	uint64_t	 nextid;	/* next file id; never reused */
	uint64_t	 nextsrv;	/* next server id */
	unsigned int	 heartbeat_ms;	/* -H */
	struct srv	*srvs[DFS_MAXSERVERS];	/* sorted by id */
	unsigned int	 nsrvs;
	unsigned int	 rr;		/* round-robin placement */
	struct peer	 lockd;		/* locks.c: the lock server asked */
	struct acall	*lockd_ac;	/* ... and asked without waiting */
	/* locks.c: the breaker: no TEST before lockd_shut_ms (now_ms()) */
	unsigned long long lockd_shut_ms;
	int		 lockd_mute;	/* tripped, and logged */
	/* STATS: per op code (compound.c), since start; not durable */
	struct op_counter counters[DFS_MAXCOUNTERS];
	struct group	 group;		/* group.c: replies held for a sync */
	/* prov.c: files created and never committed, in no order */
	struct prov	*prov;
	size_t		 nprov, provcap;
	unsigned int	 prov_age_s;	/* -U */
	/*
	 * Write-through caches of what the store holds, so a lookup costs
	 * no GDBM fetch, malloc or decoding: direct-mapped, a slot per id
	 * (state.c) and per hash of directory and name (dirent.c), filled
	 * by reads and by every write of the record, emptied by its delete.
	 */
	struct inode		*icache;	/* [NAMED_ICACHE]; id 0: empty */
	struct dcache_ent	*dcache;	/* [NAMED_DCACHE]; dir 0: empty */
};

/* Per COMPOUND. */
struct op_ctx {
	struct compound_state	 cs;		/* lib/compound.c's */
	struct named_ctx	*nc;
	uint64_t		 cur;		/* current object, 0: none */
	uint64_t		 saved;		/* saved object, 0: none */
	unsigned int		 uid, gid;	/* caller (AUTH_SYS) or 0 */
	dfs_lockid		 lock;		/* PUTLOCK; all zero: none */
	struct svc_req		*rq;		/* NULL: a direct call */
	struct lockahead	*ahead;		/* locks_ahead()'s answers */
};

/* An object, as state.c stores it under 'i' + fileid. */
struct inode {
	uint64_t	id;
	dfs_ftype	type;
	uint32_t	mode, uid, gid;
	uint64_t	size;
	int64_t		mtime, ctime;	/* ns since the epoch */
	uint64_t	vers;
	uint64_t	parent;		/* root: itself */
	uint64_t	nentries;	/* directories: entries */
	uint64_t	nsubdirs;	/* directories: entries that are dirs */
	uint64_t	head, tail;	/* directories: cookies of the list */
	uint64_t	nextcookie;	/* directories: next cookie to give */
	uint32_t	nrepl;		/* files: servers holding it */
	uint64_t	repl[DFS_MAXREPLICAS];
	uint32_t	namelen;	/* name in the parent; root: 0 */
	char		name[DFS_MAXNAMELEN + 1];
};

/* A directory entry, as dirent.c stores it under 'e' + dirid + name. */
struct dentry {
	uint64_t	child;
	uint64_t	cookie;
	dfs_ftype	type;
};

/* One slot of the entry cache (dirent.c). */
struct dcache_ent {
	uint64_t	dir;		/* 0: empty */
	uint32_t	namelen;
	char		name[DFS_MAXNAMELEN];
	struct dentry	de;
};

/* A node of a directory's entry list, as dirent.c stores it under 'c' +
 * dirid + cookie. */
struct cnode {
	uint64_t	child;
	dfs_ftype	type;
	uint64_t	prev, next;
	uint32_t	namelen;
	char		name[DFS_MAXNAMELEN + 1];
};

/* Fixed-width big-endian record encoding (record.c). */
struct enc {
	unsigned char	*p;
	size_t		 len, cap;
	int		 err;		/* out of memory */
};
struct dec {
	const unsigned char	*p;
	size_t			 len, off;
	int			 err;	/* ran past the end */
};

/*
 * The files below, bottom up: record.c calls none of them; state.c
 * calls record.c; dirent.c calls record.c, servers.c and prov.c call
 * record.c and state.c; ctx.c sets them all up.  The handlers (op_*.c)
 * and compound.c sit on top.
 */

/* --- record.c: keys, encoding, each record's codec --- */
#define KEY_ENTRY_MAX	(9 + DFS_MAXNAMELEN)	/* 'e' dirid name */
#define KEY_NODE_LEN	17			/* 'c' dirid cookie */
void	enc_u32(struct enc *e, uint32_t v);
void	enc_u64(struct enc *e, uint64_t v);
void	enc_bytes(struct enc *e, const void *p, size_t len);
uint32_t dec_u32(struct dec *d);
uint64_t dec_u64(struct dec *d);
const void *dec_bytes(struct dec *d, size_t len);
void	key_id(unsigned char *key, char tag, uint64_t id);
size_t	key_entry(unsigned char *key, uint64_t dir, const char *name,
	    size_t len);
void	key_node(unsigned char *key, uint64_t dir, uint64_t cookie);
void	meta_encode(const struct named_ctx *nc, struct enc *e);
int	meta_decode(struct dec *d, struct named_ctx *nc);
void	inode_encode(const struct inode *ino, struct enc *e);
int	inode_decode(struct dec *d, struct inode *ino);
void	dentry_encode(const struct dentry *de, struct enc *e);
int	dentry_decode(struct dec *d, struct dentry *de);
void	cnode_encode(const struct cnode *cn, struct enc *e);
int	cnode_decode(struct dec *d, struct cnode *cn);
void	srv_encode(const struct srv *s, struct enc *e);
int	srv_decode(struct dec *d, struct srv *s);

/* --- ctx.c: the context's life cycle --- */
int	named_init(struct named_ctx *nc, struct kv *kv, unsigned int hb_ms,
	    char *err, size_t errlen);
void	named_release(struct named_ctx *nc);

/* --- state.c: meta record, inodes, clock --- */
int	meta_load(struct named_ctx *nc, char *err, size_t errlen);
int	named_save_meta(struct named_ctx *nc);
int64_t	now_ns(void);
int	inode_cache_init(struct named_ctx *nc);
void	inode_cache_release(struct named_ctx *nc);
int	inode_get(struct named_ctx *nc, uint64_t id, struct inode *ino);
int	inode_put(struct named_ctx *nc, const struct inode *ino);
int	inode_del(struct named_ctx *nc, uint64_t id);
int	inode_new(struct named_ctx *nc, struct inode *ino, dfs_ftype type,
	    uint32_t mode, uint32_t uid, uint32_t gid);
void	inode_touch(struct inode *dir, int64_t now);
void	inode_setname(struct inode *ino, uint64_t parent, const char *name,
	    size_t len);
int	inode_path(struct named_ctx *nc, const struct inode *ino, char **path,
	    size_t *len);
int	inode_child_path(struct named_ctx *nc, const struct inode *dir,
	    const char *name, size_t len, char **path, size_t *plen);
int	inode_is_below(struct named_ctx *nc, uint64_t dir, uint64_t anc);

/* --- locks.c: asking the lock server before a mutation --- */
/*
 * Before a COMPOUND runs: asks the lock server, in one call, the TESTs
 * its CREATEs and COMMITs will need, when it has two or more whose
 * paths the ops before them tell (a batch of small files); the checks
 * then take their answers from there.  Release with locks_ahead_free().
 */
void	locks_init(struct named_ctx *nc);
void	locks_fini(struct named_ctx *nc);
int	locks_ahead(struct op_ctx *oc, const name_argop *ops, u_int nops);
void	locks_ahead_free(struct op_ctx *oc);
int	locks_check(struct op_ctx *oc, const char *path, size_t len);
int	locks_check_tree(struct op_ctx *oc, const char *path, size_t len);
int	locks_check_child(struct op_ctx *oc, const struct inode *dir,
	    const char *name, size_t len);
int	locks_check_entry(struct op_ctx *oc, const struct inode *dir,
	    const char *name, size_t len, int tree);
int	locks_check_inode(struct op_ctx *oc, const struct inode *ino);
dfs_stat op_putlock(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_testlock(struct op_ctx *, const name_argop *, name_resop *);

/* --- dirent.c: directory entries as a cookie-linked list --- */
int	dirent_cache_init(struct named_ctx *nc);
void	dirent_cache_release(struct named_ctx *nc);
int	dirent_get(struct named_ctx *nc, uint64_t dir, const char *name,
	    size_t len, struct dentry *de);
int	dirent_add(struct named_ctx *nc, struct inode *dir, const char *name,
	    size_t len, uint64_t child, dfs_ftype type);
int	dirent_remove(struct named_ctx *nc, struct inode *dir,
	    const char *name, size_t len);
int	dirent_page(struct named_ctx *nc, const struct inode *dir,
	    uint64_t cookie, u_int count, readdir_ok *out);

/* --- servers.c: registrations, liveness, placement --- */
int	srv_load(struct named_ctx *nc);
void	srv_release(struct named_ctx *nc);
void	srv_tick(struct named_ctx *nc);
struct srv *srv_find(struct named_ctx *nc, uint64_t id);
int	srv_live(const struct named_ctx *nc, const struct srv *s);
int	srv_register(struct named_ctx *nc, const register_args *ra,
	    uint64_t *id);
int	srv_place(struct named_ctx *nc, const char *path, size_t len,
	    uint64_t *id);
#define SRV_SUSPECT_MS	10000	/* placement avoids a reported server */
void	srv_mark_suspect(struct named_ctx *nc, uint64_t id);
int	srv_fill(const struct named_ctx *nc, const struct srv *s,
	    dfs_server *out);
int	srv_fill_ids(const struct named_ctx *nc, const uint64_t *ids,
	    uint32_t n, dfs_server **out, u_int *outlen);

/* --- prov.c: new files whose upload never committed --- */
int	prov_load(struct named_ctx *nc);
void	prov_release(struct named_ctx *nc);
int	prov_add(struct named_ctx *nc, uint64_t id, int64_t created_ns);
int	prov_commit(struct named_ctx *nc, uint64_t id);
void	prov_sweep(struct named_ctx *nc);

/* --- compound.c: the program's dispatcher (lib/dispatch.c), for main.c --- */
void	dfs_name_prog_1(struct svc_req *rq, SVCXPRT *xprt);

/* --- compound.c: the op table and the RPC entry point --- */
void	named_set_ctx(struct named_ctx *nc);

/* --- group.c: group commit --- */
/*
 * Called with a COMPOUND's reply once its changes were appended to the
 * log.  When a change (its own or an earlier one) is not durable yet,
 * moves the reply into the held queue, leaving *res empty, and returns
 * 1: send nothing now.  Returns 0 when *res may be sent at once: nothing
 * was pending, or it could not be held (no connection: rq NULL; out of
 * memory), in which case the log was synced first.  Exits when a sync
 * fails.
 */
int	group_hold(struct named_ctx *nc, struct svc_req *rq,
	    name_compound_res *res);
/* The end of a round: syncs the log once if anything is pending, then
 * sends every held reply in arrival order.  Exits when the sync fails. */
void	group_flush(struct named_ctx *nc);
/* Frees every held reply unsent (shutdown, after a last flush). */
void	group_release(struct named_ctx *nc);

/* --- op_fh.c: handle ops and helpers the other handlers share --- */
void	caller_host(const struct op_ctx *oc, char *host, size_t len);
int	cur_inode(struct op_ctx *oc, struct inode *ino);
int	cur_dir(struct op_ctx *oc, struct inode *ino);
int	fh_make(const struct named_ctx *nc, uint64_t id, dfs_fh *out);
void	attr_fill(const struct inode *ino, dfs_attr *a);
int	loc_fill(const struct named_ctx *nc, const struct inode *ino,
	    dfs_loc *loc);
dfs_stat op_putrootfh(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_putfh(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_getfh(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_savefh(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_restorefh(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_lookup.c --- */
dfs_stat op_lookup(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_getpath(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_attr.c --- */
dfs_stat op_getattr(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_setattr(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_commit(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_create.c --- */
dfs_stat op_create(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_mkdir(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_suspect(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_remove.c --- */
int	entry_unlink(struct named_ctx *nc, struct inode *dir,
	    const struct inode *child);
int	entry_removable(const struct inode *victim);
dfs_stat op_remove(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_rename.c --- */
dfs_stat op_rename(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_readdir.c --- */
dfs_stat op_readdir(struct op_ctx *, const name_argop *, name_resop *);

/* --- op_servers.c --- */
dfs_stat op_locate(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_servers(struct op_ctx *, const name_argop *, name_resop *);
dfs_stat op_register(struct op_ctx *, const name_argop *, name_resop *);

#endif
